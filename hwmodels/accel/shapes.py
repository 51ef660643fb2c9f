"""Per-layer loop bounds as NumPy arrays, so accelerator models price a whole network at once.

Conv and linear layers carry their ConvShape (a linear layer is a 1x1 conv on a 1x1 map, its
leading dimensions as output rows). Every other layer is "streaming": it reads its inputs and
writes its output once and does one operation per element (pooling: one per input element);
pure views (flatten, dropout at inference, reshape) cost nothing.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from partitioner.types import ConvShape, LayerProfile

# Layers that move no data at inference: a view or a no-op.
FREE_OP_TYPES = frozenset({"flatten", "dropout", "identity", "view", "reshape", "contiguous",
                           "squeeze", "unsqueeze", "size"})


def _prod(shape: Sequence[int]) -> int:
    n = 1
    for d in shape:
        n *= int(d)
    return n


@dataclass(frozen=True)
class LayerArrays:
    """Loop bounds of n layers (per sample); conv fields are 1 where `is_mac` is False."""
    names: tuple[str, ...]
    op_types: tuple[str, ...]
    is_mac: np.ndarray          # bool: conv or linear
    is_free: np.ndarray         # bool: a view, costs nothing
    C: np.ndarray               # input channels per group
    M: np.ndarray               # output channels per group
    G: np.ndarray               # groups
    H: np.ndarray               # padded input height (what the kernel sweeps)
    W: np.ndarray
    R: np.ndarray               # kernel height
    S: np.ndarray               # kernel width
    E: np.ndarray               # output height
    F: np.ndarray               # output width
    in_elems: np.ndarray        # all input elements (streaming layers)
    out_elems: np.ndarray

    def __len__(self) -> int:
        return len(self.names)

    @property
    def macs(self) -> np.ndarray:
        """MACs per sample (zero for streaming layers)."""
        return np.where(self.is_mac, self.G * self.M * self.C * self.E * self.F * self.R * self.S,
                        0.0)


def _conv_row(c: ConvShape) -> tuple[int, ...]:
    g = c.groups
    # Padded extent: what the kernel actually sweeps to produce out_h x out_w.
    h = (c.out_h - 1) * c.stride_h + c.kernel_h
    w = (c.out_w - 1) * c.stride_w + c.kernel_w
    return (c.in_channels // g, c.out_channels // g, g, h, w, c.kernel_h, c.kernel_w,
            c.out_h, c.out_w)


def layer_arrays(layers: Sequence[LayerProfile]) -> LayerArrays:
    rows, names, ops, is_mac, is_free, ins, outs = [], [], [], [], [], [], []
    for layer in layers:
        names.append(layer.name)
        ops.append(layer.op_type)
        mac = layer.conv is not None and layer.macs > 0
        is_mac.append(mac)
        is_free.append(layer.op_type in FREE_OP_TYPES)
        rows.append(_conv_row(layer.conv) if mac else (1,) * 9)
        ins.append(sum(_prod(s) for s in layer.input_shapes))
        outs.append(_prod(layer.output_shape))
    return _pack(names, ops, is_mac, is_free, rows, ins, outs)


def conv_arrays(shapes: Sequence[ConvShape], names: Sequence[str] | None = None) -> LayerArrays:
    """Arrays for bare conv shapes (tests, golden files, benchmarks)."""
    names = list(names) if names is not None else [f"conv{i + 1}" for i in range(len(shapes))]
    rows = [_conv_row(c) for c in shapes]
    ins = [c.in_channels * c.in_h * c.in_w for c in shapes]
    outs = [c.out_channels * c.out_h * c.out_w for c in shapes]
    return _pack(names, ["conv2d"] * len(shapes), [True] * len(shapes), [False] * len(shapes),
                 rows, ins, outs)


def _pack(names, ops, is_mac, is_free, rows, ins, outs) -> LayerArrays:
    a = np.asarray(rows, dtype=np.float64).reshape(-1, 9)
    return LayerArrays(tuple(names), tuple(ops), np.asarray(is_mac, bool),
                       np.asarray(is_free, bool), *(a[:, i] for i in range(9)),
                       np.asarray(ins, np.float64), np.asarray(outs, np.float64))
