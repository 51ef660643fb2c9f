"""Per-layer loop bounds as NumPy arrays, so accelerator models price a whole network at once.

Conv and linear layers carry their ConvShape (a linear layer is a 1x1 conv on a 1x1 map, its
leading dimensions as output rows). Every other layer is "streaming": it reads its inputs and
writes its output once and does one operation per element (pooling: one per input element);
pure views (flatten, dropout at inference, reshape) cost nothing.

Average-pooling layers also carry their window as conv fields (C = M = channels, R x S
window): an average is a convolution with fixed weights, so a model without a pooling unit can
run it on its MAC array (`pool_as_conv`); a max is not a MAC, so max pools always stream. A
LayerProfile has no pooling window, so it is read from the shapes: stride s = H // E and window
k = H - s (E - 1) (no padding: 3x3/2 on 55 and 2x2/2 come out exact, a global pool is H x W),
except a size-preserving pool (H == E, which would give k = 1, an identity), read as the 3x3
window with padding 1 that such pools use (NAS-Bench-201's avg_pool_3x3).
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Sequence

import numpy as np

from core.schema import FieldError
from partitioner.types import ConvShape, LayerProfile

# Layers that move no data at inference: a view or a no-op.
FREE_OP_TYPES = frozenset({"flatten", "dropout", "identity", "view", "reshape", "contiguous",
                           "squeeze", "unsqueeze", "size"})
AVG_POOL_OP_TYPES = frozenset({"avgpool2d", "adaptiveavgpool2d"})
POOL_MAPPINGS = ("vector", "depthwise_conv", "dense_conv")


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
    is_pool: np.ndarray         # bool: average pool; conv fields hold its window (C = M)
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
    def ifmap_read(self) -> np.ndarray:
        """Ifmap elements per group and sample that the windows touch: the padded extent, less
        the rows and columns a stride larger than the kernel skips (1x1 stride-2 shortcuts)."""
        return (self.C * np.minimum(self.H, self.E * self.R)
                * np.minimum(self.W, self.F * self.S))

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


def _pool_row(in_shape: Sequence[int], out_shape: Sequence[int]) -> tuple[int, ...]:
    """Conv fields of a pooling window read from its shapes (see the module docstring)."""
    c, h, w = (int(d) for d in in_shape[-3:])
    e, f = (int(d) for d in out_shape[-2:])

    def window(n_in: int, n_out: int) -> tuple[int, int]:
        stride = max(1, n_in // n_out)
        k = n_in - stride * (n_out - 1)
        return (3, n_out + 2) if k <= 1 else (k, (n_out - 1) * stride + k)

    (r, hp), (s, wp) = window(h, e), window(w, f)
    return (c, c, 1, hp, wp, r, s, e, f)


def layer_arrays(layers: Sequence[LayerProfile]) -> LayerArrays:
    rows, names, ops, is_mac, is_free, is_pool, ins, outs = [], [], [], [], [], [], [], []
    for layer in layers:
        names.append(layer.name)
        ops.append(layer.op_type)
        mac = layer.conv is not None and layer.macs > 0
        pool = (not mac and layer.op_type in AVG_POOL_OP_TYPES and len(layer.output_shape) >= 3
                and len(layer.input_shapes) == 1 and len(layer.input_shapes[0]) >= 3)
        is_mac.append(mac)
        is_free.append(layer.op_type in FREE_OP_TYPES)
        is_pool.append(pool)
        rows.append(_conv_row(layer.conv) if mac else
                    _pool_row(layer.input_shapes[0], layer.output_shape) if pool else (1,) * 9)
        ins.append(sum(_prod(s) for s in layer.input_shapes))
        outs.append(_prod(layer.output_shape))
    return _pack(names, ops, is_mac, is_free, rows, ins, outs, is_pool)


def check_pool_mapping(mapping: str, where: str = "") -> None:
    if mapping not in POOL_MAPPINGS:
        raise FieldError("pool_mapping", f'must be one of {", ".join(POOL_MAPPINGS)}, '
                         f"got {mapping!r}{where}")


def pool_as_conv(a: LayerArrays, mapping: str) -> LayerArrays:
    """`a` with its average pools run on the MAC array, for accelerators without a pooling unit.

    "vector": unchanged (pools stream through the buffer, see common.streaming_cost);
    "depthwise_conv": a grouped conv with fixed weights, one group per channel (C x R x S MACs
    per output); "dense_conv": a C -> C conv whose weights are zero off the diagonal, which is
    how a mapper that knows only the dense 7-deep conv loop nest (no groups) expresses a pool.
    Under "dense_conv" a global pool (a 1 x 1 output) still maps as "depthwise_conv": as a dense
    conv it would read a C x C x H x W weight tensor (1984^2 x 49 words at FBNet's head, 80 % of
    MobileNetV2's time), which HW-NAS-Bench's Eyeriss figures for FBNet networks show no trace
    of (with it the model gives 12-14x their latency, without it 0.69-0.90x).
    """
    check_pool_mapping(mapping)
    if mapping == "vector" or not a.is_pool.any():
        return a
    p = a.is_pool
    grouped = p if mapping == "depthwise_conv" else p & (a.E == 1) & (a.F == 1)
    return replace(a, is_mac=a.is_mac | p, G=np.where(grouped, a.C, a.G),
                   C=np.where(grouped, 1.0, a.C), M=np.where(grouped, 1.0, a.M))


def conv_arrays(shapes: Sequence[ConvShape], names: Sequence[str] | None = None) -> LayerArrays:
    """Arrays for bare conv shapes (tests, golden files, benchmarks)."""
    names = list(names) if names is not None else [f"conv{i + 1}" for i in range(len(shapes))]
    rows = [_conv_row(c) for c in shapes]
    ins = [c.in_channels * c.in_h * c.in_w for c in shapes]
    outs = [c.out_channels * c.out_h * c.out_w for c in shapes]
    return _pack(names, ["conv2d"] * len(shapes), [True] * len(shapes), [False] * len(shapes),
                 rows, ins, outs)


def _pack(names, ops, is_mac, is_free, rows, ins, outs, is_pool=None) -> LayerArrays:
    a = np.asarray(rows, dtype=np.float64).reshape(-1, 9)
    pool = np.zeros(len(names), bool) if is_pool is None else np.asarray(is_pool, bool)
    return LayerArrays(tuple(names), tuple(ops), np.asarray(is_mac, bool),
                       np.asarray(is_free, bool), pool, *(a[:, i] for i in range(9)),
                       np.asarray(ins, np.float64), np.asarray(outs, np.float64))
