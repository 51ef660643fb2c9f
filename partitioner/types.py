"""Value types produced by the partitioner and consumed by every later stage.

Profiles are per sample (batch size 1): shapes carry no batch dimension and every count is for
one input. Cost models multiply by the batch size themselves.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:                   # torch only where a network is traced: readers of a
    from torch.fx import GraphModule  # cached profile (`sim validate`) never import it

DTYPE_BYTES: dict[str, int] = {
    "float64": 8, "float32": 4, "float16": 2, "bfloat16": 2,
    "int32": 4, "int16": 2, "int8": 1, "uint8": 1,
}


def dtype_bytes(dtype: str) -> int:
    """Bytes per element of a dtype name; raises ValueError listing the known names."""
    try:
        return DTYPE_BYTES[dtype]
    except KeyError:
        raise ValueError(f"unknown dtype {dtype!r}; known: {', '.join(DTYPE_BYTES)}") from None


@dataclass(frozen=True)
class ConvShape:
    """Geometry of a conv or linear layer (a linear layer is a 1x1 conv on a 1x1 map).

    Accelerator models need only this: loop bounds of the seven-deep conv loop nest.
    """
    in_channels: int
    out_channels: int
    in_h: int
    in_w: int
    out_h: int
    out_w: int
    kernel_h: int
    kernel_w: int
    stride_h: int = 1
    stride_w: int = 1
    groups: int = 1

    def __post_init__(self) -> None:
        for name in ("in_channels", "out_channels", "in_h", "in_w", "out_h", "out_w",
                     "kernel_h", "kernel_w", "stride_h", "stride_w", "groups"):
            if getattr(self, name) < 1:
                raise ValueError(f"ConvShape.{name} must be >= 1, got {getattr(self, name)}")

    @property
    def macs(self) -> int:
        return (self.out_h * self.out_w * self.out_channels
                * (self.in_channels // self.groups) * self.kernel_h * self.kernel_w)

    @property
    def weight_elements(self) -> int:
        return self.out_channels * (self.in_channels // self.groups) * self.kernel_h * self.kernel_w


@dataclass(frozen=True)
class LayerProfile:
    """One node of the network's topological order (per sample)."""
    index: int                      # 1-based; cut k runs layers 1..k on the edge
    name: str                       # torch.fx node name
    op_type: str                    # conv2d, linear, relu, maxpool2d, add, flatten, ...
    input_shapes: tuple[tuple[int, ...], ...]
    output_shape: tuple[int, ...]
    macs: int
    params: int
    param_bytes: int
    input_bytes: int                # all tensor inputs, at the activation dtype
    output_bytes: int               # at the activation dtype
    conv: ConvShape | None = None   # MAC layers: conv, linear, matmul as a 1x1 conv
    elem_ops: int = 0               # element-wise operations (partitioner.ops conventions)

    @property
    def flops(self) -> int:
        """2 x MACs plus the element-wise operations (softmax, norms, activations, ...)."""
        return 2 * self.macs + self.elem_ops

    @property
    def output_elements(self) -> int:
        n = 1
        for d in self.output_shape:
            n *= d
        return n


@dataclass(frozen=True)
class Cut:
    """Cut k: layers 1..k run on the edge, the single tensor crossing is sent uplink."""
    cut: int
    after_layer: str                # name of layer k ("input" for cut 0)
    sent_shape: tuple[int, ...]
    sent_dtype: str
    sent_bytes: int                 # per sample

    @property
    def sent_elements(self) -> int:
        n = 1
        for d in self.sent_shape:
            n *= d
        return n


@dataclass(frozen=True)
class ModelGraph:
    """A traced network with its per-layer profile and every valid cut."""
    model_name: str
    input_shape: tuple[int, ...]
    input_dtype: str
    activation_dtype: str
    layers: tuple[LayerProfile, ...]
    cuts: tuple[Cut, ...]               # valid cuts only, ascending
    module: GraphModule | None          # None when the profile was read from a cache

    @property
    def num_layers(self) -> int:
        return len(self.layers)

    @property
    def total_macs(self) -> int:
        return sum(layer.macs for layer in self.layers)

    def cut(self, k: int) -> Cut:
        for c in self.cuts:
            if c.cut == k:
                return c
        raise ValueError(f"cut {k} is not valid for {self.model_name}; valid cuts: "
                         f"{[c.cut for c in self.cuts]}")


def graph_to_dict(graph: ModelGraph) -> dict:
    """The profile as plain JSON data (the traced module is not kept)."""
    return {"model_name": graph.model_name, "input_shape": list(graph.input_shape),
            "input_dtype": graph.input_dtype, "activation_dtype": graph.activation_dtype,
            "layers": [dataclasses.asdict(layer) for layer in graph.layers],
            "cuts": [dataclasses.asdict(cut) for cut in graph.cuts]}


def graph_from_dict(d: dict) -> ModelGraph:
    def tup(v):
        return tuple(tup(x) for x in v) if isinstance(v, list) else v

    layers = tuple(LayerProfile(**{**{k: tup(v) for k, v in layer.items()},
                                   "conv": ConvShape(**layer["conv"]) if layer["conv"] else None})
                   for layer in d["layers"])
    cuts = tuple(Cut(**{k: tup(v) for k, v in cut.items()}) for cut in d["cuts"])
    return ModelGraph(model_name=d["model_name"], input_shape=tuple(d["input_shape"]),
                      input_dtype=d["input_dtype"], activation_dtype=d["activation_dtype"],
                      layers=layers, cuts=cuts, module=None)
