"""Graph extraction (torch.fx), per-layer profiles and the valid cut points of a network.

Every node of the traced graph is one of four kinds (`classify`):
- input: the placeholder;
- const: parameters read with get_attr and anything computed from them alone (a position
  table, `torch.arange(n)`): recomputable on either side of a cut, never a layer;
- scalar: shape arithmetic on the input (`B, N, C = x.shape`, `x.size(0) * 2`): not a layer,
  but a value that crosses a cut like any other;
- layer: every other call (call_module, call_function, call_method), in topological order.
Cut k runs layers 1..k on the edge; it is valid only where exactly one value crosses from the
input, the first k layers and the scalars before layer k+1 to the rest, and that value is a
tensor (not a tuple such as nn.MultiheadAttention's output, which its getitem layers unpack).
Counts per layer come from `partitioner.ops`; shapes drop the batch dimension (traced at 1).
"""
from __future__ import annotations

import math
import operator

import torch
from torch import fx, nn

from core.errors import UserError
from partitioner import ops
from partitioner.trace import trace
from partitioner.types import Cut, LayerProfile, ModelGraph, dtype_bytes

_COMPUTE_OPS = ("call_module", "call_function", "call_method")

_FUNCTION_OP_TYPES = {
    operator.add: "add", torch.add: "add", operator.mul: "mul", torch.mul: "mul",
    torch.flatten: "flatten", torch.relu: "relu", torch.nn.functional.relu: "relu",
    torch.cat: "cat",
}
_SHAPE_ATTRS = ("shape", "ndim", "dtype", "device")
_SHAPE_METHODS = ("size", "dim", "numel")
# Python's own arithmetic on scalars gives scalars (a tensor factory such as torch.zeros
# taking a scalar is a layer).
_SCALAR_MODULES = ("_operator", "operator", "builtins", "math")


def _numel(shape) -> int:
    return math.prod(shape)


def classify(gm: fx.GraphModule) -> dict[fx.Node, str]:
    """Each node's kind: input, const, scalar, layer (or output); see the module docstring."""
    kinds: dict[fx.Node, str] = {}
    for node in gm.graph.nodes:
        inputs = [kinds[a] for a in node.all_input_nodes]
        if node.op == "placeholder":
            kinds[node] = "input"
        elif node.op == "output":
            kinds[node] = "output"
        elif node.op == "get_attr" or all(k == "const" for k in inputs):
            kinds[node] = "const"
        elif ((node.op == "call_function" and node.target is getattr
               and node.args[1] in _SHAPE_ATTRS)
              or (node.op == "call_method" and node.target in _SHAPE_METHODS)
              or (node.op == "call_function"
                  and getattr(node.target, "__module__", None) in _SCALAR_MODULES
                  and all(k in ("scalar", "const") for k in inputs))):
            kinds[node] = "scalar"
        else:
            kinds[node] = "layer"
    return kinds


def layer_nodes(gm: fx.GraphModule) -> list[fx.Node]:
    kinds = classify(gm)
    return [n for n in gm.graph.nodes if kinds[n] == "layer"]


def _op_type(node: fx.Node, module: nn.Module | None) -> str:
    if node.op == "call_module":
        return type(module).__name__.lower()
    if node.op == "call_function":
        return _FUNCTION_OP_TYPES.get(node.target,
                                      getattr(node.target, "__name__", str(node.target)))
    return str(node.target)  # call_method: "view", "flatten", ...


def _metas(node: fx.Node) -> list:
    """The tensor metadata of a node's value: one entry, several for a tuple, none otherwise."""
    meta = node.meta.get("tensor_meta")
    if meta is None:
        return []
    if hasattr(meta, "shape"):
        return [meta]
    return [m for m in meta if hasattr(m, "shape")] if isinstance(meta, (tuple, list)) else []


def _full_shape(node: fx.Node) -> tuple[int, ...]:
    metas = _metas(node)
    if not metas:
        raise UserError(f"node {node.name} ({node.op} {node.target}) produces "
                        f"{node.meta.get('type', 'no value')}, not a tensor; the partitioner "
                        "profiles tensor-valued layers (shape arithmetic is fine)")
    return tuple(int(d) for d in metas[0].shape)


def sample_shape(shape: tuple[int, ...]) -> tuple[int, ...]:
    """A shape traced at batch 1 without its batch dimension (the first size-1 dimension)."""
    for i, d in enumerate(shape):
        if d == 1:
            return shape[:i] + shape[i + 1:]
    return shape


def _tensor_shape(node: fx.Node) -> tuple[int, ...]:
    """Per-sample shape of a node's (first) tensor value."""
    return sample_shape(_full_shape(node))


def layer_name(node: fx.Node, op_type: str, count: int) -> str:
    """A readable name: the module path where it says something, else op type and count."""
    if node.op == "call_module" and not str(node.target).replace(".", "").isdigit():
        return str(node.target)
    return f"{op_type}_{count}"


def _arg(a):
    """A call argument for the counters: tensors become their shapes, scalars their values."""
    if isinstance(a, fx.Node):
        metas = _metas(a)
        if metas and len(metas) == 1 and hasattr(_meta_value(a), "shape"):
            return ops.TensorArg(int(d) for d in metas[0].shape)
        return _meta_value(a)
    if isinstance(a, (tuple, list)):
        return type(a)(_arg(x) for x in a)
    return a


def _meta_value(node: fx.Node):
    meta = node.meta.get("tensor_meta")
    if meta is not None and hasattr(meta, "shape"):
        return meta
    return node.meta.get("value", meta)


def _const_params(node: fx.Node, kinds, gm: fx.GraphModule, seen: set[int]) -> int:
    """Parameter elements reached through a layer's const inputs, each tensor counted once."""
    total = 0
    stack = [a for a in node.all_input_nodes if kinds[a] == "const"]
    while stack:
        c = stack.pop()
        if c.op == "get_attr":
            value = gm
            for part in str(c.target).split("."):
                value = getattr(value, part)
            if isinstance(value, torch.Tensor) and id(value) not in seen:
                seen.add(id(value))
                total += value.numel()
        elif c.op == "call_module":
            total += _module_params(gm.get_submodule(str(c.target)), seen)
        stack += [a for a in c.all_input_nodes if kinds[a] == "const"]
    return total


def _module_params(module: nn.Module, seen: set[int]) -> int:
    total = 0
    for p in module.parameters():
        if id(p) not in seen:
            seen.add(id(p))
            total += p.numel()
    return total


def node_profile(node: fx.Node, module: nn.Module | None, index: int, name: str,
                 act_b: int, w_b: int, kinds: dict[fx.Node, str], gm: fx.GraphModule,
                 seen: set[int]) -> LayerProfile:
    """The profile of one traced, shape-propagated layer node."""
    op_type = _op_type(node, module)
    full_out = _full_shape(node)
    out_shape = sample_shape(full_out)
    activations = [a for a in node.all_input_nodes if kinds[a] in ("input", "layer")]
    in_shapes = tuple(_tensor_shape(a) for a in activations)
    params = (_module_params(module, seen) if module is not None else 0)
    params += _const_params(node, kinds, gm, seen)
    call = ops.OpCall(op_type, module, tuple(_arg(a) for a in node.args),
                      {k: _arg(v) for k, v in node.kwargs.items()}, full_out, out_shape)
    counted = ops.count(call)
    out_elements = sum(_numel(m.shape) for m in _metas(node))
    return LayerProfile(
        index=index, name=name, op_type=op_type, input_shapes=in_shapes, output_shape=out_shape,
        macs=counted.macs, params=params, param_bytes=params * w_b,
        input_bytes=sum(_numel(s) for s in in_shapes) * act_b,
        output_bytes=out_elements * act_b, conv=counted.conv, elem_ops=counted.elem_ops)


def profile_layers(gm: fx.GraphModule, activation_dtype: str = "float32",
                   weight_dtype: str | None = None) -> tuple[LayerProfile, ...]:
    act_b = dtype_bytes(activation_dtype)
    w_b = dtype_bytes(weight_dtype or activation_dtype)
    modules = dict(gm.named_modules())
    kinds = classify(gm)
    profiles = []
    seen_ops: dict[str, int] = {}
    seen_params: set[int] = set()
    for i, node in enumerate((n for n in gm.graph.nodes if kinds[n] == "layer"), start=1):
        module = modules.get(node.target) if node.op == "call_module" else None
        op_type = _op_type(node, module)
        seen_ops[op_type] = seen_ops.get(op_type, 0) + 1
        profiles.append(node_profile(node, module, i, layer_name(node, op_type, seen_ops[op_type]),
                                     act_b, w_b, kinds, gm, seen_params))
    return tuple(profiles)


def sides(gm: fx.GraphModule) -> tuple[dict[fx.Node, int], dict[fx.Node, str]]:
    """Each non-const node's place: 0 for the input, i for layer i, and for a scalar the
    number of the next layer after it in graph order (it runs on the edge iff that is <= k)."""
    kinds = classify(gm)
    place: dict[fx.Node, int] = {}
    pending: list[fx.Node] = []
    count = 0
    for node in gm.graph.nodes:
        kind = kinds[node]
        if kind == "input":
            place[node] = 0
        elif kind == "scalar":
            pending.append(node)
        elif kind in ("layer", "output"):
            count += 1
            for s in pending:
                place[s] = count
            pending = []
            place[node] = count
    return place, kinds


def _crossing(gm: fx.GraphModule, place: dict[fx.Node, int], kinds: dict[fx.Node, str],
              k: int) -> list[fx.Node]:
    return [n for n in gm.graph.nodes
            if n in place and kinds[n] != "output" and place[n] <= k
            and any(place.get(u, -1) > k for u in n.users)]


def crossing_nodes(gm: fx.GraphModule, k: int) -> list[fx.Node]:
    """Values produced on the edge side of cut k (the input, layers 1..k, scalars before
    layer k+1) and consumed after it."""
    place, kinds = sides(gm)
    num_layers = sum(1 for n in kinds if kinds[n] == "layer")
    if not 0 <= k <= num_layers:
        raise ValueError(f"cut {k} out of range 0..{num_layers}")
    return _crossing(gm, place, kinds, k)


def is_tuple_value(node: fx.Node) -> bool:
    """A tuple of tensors (nn.MultiheadAttention's output), which its getitem layers unpack."""
    meta = node.meta.get("tensor_meta")
    if meta is not None:   # TensorMetadata is itself a NamedTuple: a tuple value has no shape
        return not hasattr(meta, "shape")
    return bool(node.users) and all(u.target is operator.getitem for u in node.users)


def find_cuts(gm: fx.GraphModule, input_dtype: str, activation_dtype: str,
              names: list[str]) -> tuple[Cut, ...]:
    place, kinds = sides(gm)
    cuts = []
    for k in range(len(names) + 1):
        crossing = _crossing(gm, place, kinds, k)
        if len(crossing) != 1 or kinds[crossing[0]] == "scalar" or is_tuple_value(crossing[0]):
            continue
        node = crossing[0]
        shape = _tensor_shape(node)
        dtype = input_dtype if node.op == "placeholder" else activation_dtype
        cuts.append(Cut(cut=k, after_layer="input" if k == 0 else names[k - 1],
                        sent_shape=shape, sent_dtype=dtype,
                        sent_bytes=_numel(_full_shape(node)) * dtype_bytes(dtype)))
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
    """Profile any model source by tracing it on the meta device (no weights materialised)."""
    from partitioner.zoo import build_model, default_input_shape

    shape = tuple(input_shape) if input_shape is not None else default_input_shape(model_name)
    with torch.device("meta"):
        model = build_model(model_name, shape, num_classes, width)
    return _model_graph(trace(model, shape), model_name, shape, input_dtype, activation_dtype)
