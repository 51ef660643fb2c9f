"""Graph extraction (torch.fx), per-layer profiles and the valid cut points of a network.

A "layer" is every computing node of the traced graph (call_module, call_function,
call_method) in the graph's topological order. Cut k runs layers 1..k on the edge; it is valid
only where exactly one tensor crosses from the first k layers (or the input) to the rest.
"""
from __future__ import annotations

import dataclasses
import operator
from dataclasses import dataclass
from functools import reduce

import torch
from torch import fx, nn
from torch.fx.passes.shape_prop import ShapeProp

from partitioner.types import ConvShape, Cut, LayerProfile, dtype_bytes

_COMPUTE_OPS = ("call_module", "call_function", "call_method")

_FUNCTION_OP_TYPES = {
    operator.add: "add", torch.add: "add", operator.mul: "mul", torch.mul: "mul",
    torch.flatten: "flatten", torch.relu: "relu", torch.nn.functional.relu: "relu",
    torch.cat: "cat",
}


@dataclass(frozen=True)
class ModelGraph:
    """A traced network with its per-layer profile and every valid cut."""
    model_name: str
    input_shape: tuple[int, ...]
    input_dtype: str
    activation_dtype: str
    layers: tuple[LayerProfile, ...]
    cuts: tuple[Cut, ...]               # valid cuts only, ascending
    module: fx.GraphModule | None       # None when the profile was read from a cache

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


def _numel(shape) -> int:
    return reduce(operator.mul, shape, 1)


def _op_type(node: fx.Node, module: nn.Module | None) -> str:
    if node.op == "call_module":
        return type(module).__name__.lower()
    if node.op == "call_function":
        return _FUNCTION_OP_TYPES.get(node.target, getattr(node.target, "__name__", str(node.target)))
    return str(node.target)  # call_method: "view", "flatten", ...


def _tensor_shape(node: fx.Node) -> tuple[int, ...]:
    meta = node.meta.get("tensor_meta")
    if meta is None or not hasattr(meta, "shape"):
        raise ValueError(f"node {node.name} does not produce a single tensor; "
                         "the partitioner supports single-tensor layers only")
    return tuple(int(d) for d in meta.shape)


def _conv_shape(module: nn.Module, in_shape: tuple[int, ...], out_shape: tuple[int, ...]):
    if isinstance(module, nn.Conv2d):
        return ConvShape(module.in_channels, module.out_channels, in_shape[-2], in_shape[-1],
                         out_shape[-2], out_shape[-1], module.kernel_size[0],
                         module.kernel_size[1], module.stride[0], module.stride[1],
                         module.groups)
    if isinstance(module, nn.Linear):
        # Leading non-feature dims act as output positions of a 1x1 conv.
        rows = _numel(out_shape[:-1])
        return ConvShape(module.in_features, module.out_features, rows, 1, rows, 1, 1, 1)
    return None


def count_macs(module: nn.Module | None, in_shape: tuple[int, ...],
               out_shape: tuple[int, ...]) -> int:
    """Multiply-accumulates of one layer for one sample (conv and linear; others 0)."""
    conv = _conv_shape(module, in_shape, out_shape) if module is not None else None
    return conv.macs if conv is not None else 0


def trace(model: nn.Module, input_shape: tuple[int, ...]) -> fx.GraphModule:
    gm = fx.symbolic_trace(model)
    device = next(model.parameters()).device
    ShapeProp(gm).propagate(torch.zeros((1, *input_shape), device=device))
    return gm


def _layer_nodes(gm: fx.GraphModule) -> list[fx.Node]:
    return [n for n in gm.graph.nodes if n.op in _COMPUTE_OPS]


def layer_name(node: fx.Node, op_type: str, count: int) -> str:
    """A readable name: the module path where it says something, else op type and count."""
    if node.op == "call_module" and not str(node.target).replace(".", "").isdigit():
        return str(node.target)
    return f"{op_type}_{count}"


def node_profile(node: fx.Node, module: nn.Module | None, index: int, name: str,
                 act_b: int, w_b: int) -> LayerProfile:
    """The profile of one traced, shape-propagated node."""
    out_shape = _tensor_shape(node)[1:]
    in_shapes = tuple(_tensor_shape(a)[1:] for a in node.all_input_nodes)
    params = sum(p.numel() for p in module.parameters()) if module is not None else 0
    conv = _conv_shape(module, in_shapes[0], out_shape) if module is not None else None
    return LayerProfile(
        index=index, name=name, op_type=_op_type(node, module),
        input_shapes=in_shapes, output_shape=out_shape,
        macs=conv.macs if conv is not None else 0,
        params=params, param_bytes=params * w_b,
        input_bytes=sum(_numel(s) for s in in_shapes) * act_b,
        output_bytes=_numel(out_shape) * act_b, conv=conv)


def profile_layers(gm: fx.GraphModule, activation_dtype: str = "float32",
                   weight_dtype: str | None = None) -> tuple[LayerProfile, ...]:
    act_b = dtype_bytes(activation_dtype)
    w_b = dtype_bytes(weight_dtype or activation_dtype)
    modules = dict(gm.named_modules())
    profiles = []
    seen: dict[str, int] = {}
    for i, node in enumerate(_layer_nodes(gm), start=1):
        module = modules.get(node.target) if node.op == "call_module" else None
        op_type = _op_type(node, module)
        seen[op_type] = seen.get(op_type, 0) + 1
        profiles.append(node_profile(node, module, i, layer_name(node, op_type, seen[op_type]),
                                     act_b, w_b))
    return tuple(profiles)


def crossing_nodes(gm: fx.GraphModule, k: int) -> list[fx.Node]:
    """Values produced by the input or layers 1..k and consumed after layer k."""
    layers = _layer_nodes(gm)
    if not 0 <= k <= len(layers):
        raise ValueError(f"cut {k} out of range 0..{len(layers)}")
    placeholders = [n for n in gm.graph.nodes if n.op == "placeholder"]
    produced = placeholders + layers[:k]
    later = set(layers[k:]) | {n for n in gm.graph.nodes if n.op == "output"}
    return [n for n in produced if any(user in later for user in n.users)]


def find_cuts(gm: fx.GraphModule, input_dtype: str, activation_dtype: str,
              names: list[str]) -> tuple[Cut, ...]:
    layers = _layer_nodes(gm)
    cuts = []
    for k in range(len(layers) + 1):
        crossing = crossing_nodes(gm, k)
        if len(crossing) != 1:
            continue
        node = crossing[0]
        shape = _tensor_shape(node)[1:]
        dtype = input_dtype if node.op == "placeholder" else activation_dtype
        cuts.append(Cut(cut=k, after_layer="input" if k == 0 else names[k - 1],
                        sent_shape=shape, sent_dtype=dtype,
                        sent_bytes=_numel(shape) * dtype_bytes(dtype)))
    return tuple(cuts)


def _model_graph(gm: fx.GraphModule, model_name: str, input_shape: tuple[int, ...],
                 input_dtype: str, activation_dtype: str) -> ModelGraph:
    layers = profile_layers(gm, activation_dtype)
    cuts = find_cuts(gm, input_dtype, activation_dtype, [layer.name for layer in layers])
    return ModelGraph(model_name=model_name, input_shape=tuple(input_shape),
                      input_dtype=input_dtype, activation_dtype=activation_dtype,
                      layers=layers, cuts=cuts, module=gm)


def build_graph(model: nn.Module, model_name: str, input_shape: tuple[int, ...],
                input_dtype: str = "uint8", activation_dtype: str = "float32") -> ModelGraph:
    """Trace a model with real weights (needed to split and run it)."""
    gm = trace(model, tuple(input_shape))
    return _model_graph(gm, model_name, input_shape, input_dtype, activation_dtype)


def trace_profile(model_name: str, input_shape: tuple[int, ...] | None = None,
                  input_dtype: str = "uint8", activation_dtype: str = "float32",
                  num_classes: int | None = None, width: float = 1.0) -> ModelGraph:
    """Profile a zoo architecture by tracing it on the meta device (no weights materialised)."""
    from partitioner.zoo import build_model, entry

    shape = tuple(input_shape) if input_shape is not None else entry(model_name).input_shape
    with torch.device("meta"):
        model = build_model(model_name, shape, num_classes, width)
    return _model_graph(trace(model, shape), model_name, shape, input_dtype, activation_dtype)


def profile_model(model_name: str, input_shape: tuple[int, ...] | None = None,
                  input_dtype: str = "uint8", activation_dtype: str = "float32",
                  num_classes: int | None = None, width: float = 1.0) -> ModelGraph:
    """Profile a zoo architecture (cost models need no weights).

    `nb201:` members go through the fast profiler (`partitioner.nb201_fast`), which equals the
    traced profile; everything else is traced (`trace_profile`).
    """
    from partitioner.nb201_fast import profile_nb201
    from partitioner.zoo import entry, split_family

    member = split_family(model_name)
    if member is not None and member[0] == "nb201":
        default = entry(model_name)
        return profile_nb201(member[1], input_shape or default.input_shape,
                             num_classes or default.num_classes, input_dtype, activation_dtype,
                             width)
    return trace_profile(model_name, input_shape, input_dtype, activation_dtype, num_classes,
                         width)


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
