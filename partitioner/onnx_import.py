"""ONNX files as torch modules: read with the `onnx` package, converted node by node to torch.fx.

Weights become parameters of torch modules (Conv -> nn.Conv2d, Gemm/MatMul with a constant
matrix -> nn.Linear, BatchNormalization -> nn.BatchNorm2d), so the converted network is
profiled, split, trained and evaluated like any other module, and its layers are named after
the ONNX nodes. One input tensor (batch first); the converters cover the operators of common
CNN and MLP exports (`CONVERTERS.names()`); any other operator is a UserError naming it.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch
import torch.nn.functional as F
from torch import fx, nn

from core.errors import UserError
from core.registry import Registry

Converter = Callable[["_Builder", Any, list, dict], fx.Node]
CONVERTERS: Registry[Converter] = Registry("ONNX operator")


def load_onnx(path: Path):
    """The checked ModelProto; a malformed file or an unsupported operator is a UserError."""
    import onnx
    from onnx import numpy_helper  # noqa: F401 - imported here so a missing package says so

    try:
        model = onnx.load(str(path))
        onnx.checker.check_model(model)
    except Exception as exc:  # noqa: BLE001 - protobuf and checker errors alike
        raise UserError(f"{path}: not a valid ONNX model ({type(exc).__name__}: {exc})") from None
    unsupported = sorted({n.op_type for n in model.graph.node if n.op_type not in CONVERTERS})
    if unsupported:
        raise UserError(f"{path}: ONNX operator(s) {', '.join(unsupported)} not supported; "
                        f"supported: {', '.join(CONVERTERS.names())}")
    if len(_graph_inputs(model)) != 1:
        raise UserError(f"{path}: the model must take exactly one input tensor, it takes "
                        f"{[i.name for i in _graph_inputs(model)]}")
    return model


def _graph_inputs(model) -> list:
    initializers = {i.name for i in model.graph.initializer}
    return [i for i in model.graph.input if i.name not in initializers]


def onnx_input_shape(path: Path) -> tuple[int, ...] | None:
    """The input's static shape without the batch dimension, None if any dimension is symbolic."""
    model = load_onnx(path)
    dims = _graph_inputs(model)[0].type.tensor_type.shape.dim[1:]
    if any(not d.HasField("dim_value") for d in dims):
        return None
    return tuple(int(d.dim_value) for d in dims)


def _attrs(node) -> dict[str, Any]:
    from onnx import helper

    return {a.name: helper.get_attribute_value(a) for a in node.attribute}


class _Builder:
    def __init__(self, model) -> None:
        from onnx import numpy_helper

        self.root = nn.Module()
        self.graph = fx.Graph()
        self.values: dict[str, Any] = {i.name: numpy_helper.to_array(i)
                                       for i in model.graph.initializer}
        self.names: set[str] = set()

    def constant(self, name: str) -> np.ndarray:
        value = self.values.get(name)
        if not isinstance(value, np.ndarray):
            raise UserError(f"ONNX input {name!r} must be a constant (an initializer) here")
        return value

    def module(self, node, module: nn.Module, x: fx.Node) -> fx.Node:
        base = re.sub(r"\W", "_", node.name or node.op_type.lower()).strip("_") or "node"
        if base[0].isdigit():
            base = f"{node.op_type.lower()}_{base}"
        name, i = base, 1
        while name in self.names:
            i += 1
            name = f"{base}_{i}"
        self.names.add(name)
        self.root.add_module(name, module)
        return self.graph.call_module(name, (x,))

    def call(self, fn, *args, **kwargs) -> fx.Node:
        return self.graph.call_function(fn, args, kwargs)

    def tensor(self, value) -> fx.Node:
        """An fx value as is; a constant array (a bias, a scale) as a buffer read by get_attr."""
        if not isinstance(value, np.ndarray):
            return value
        name = f"const_{len(self.names)}"
        self.names.add(name)
        self.root.register_buffer(name, torch.tensor(np.ascontiguousarray(value), device="cpu"))
        return self.graph.get_attr(name)


def _param(array: np.ndarray) -> nn.Parameter:
    return nn.Parameter(torch.tensor(np.ascontiguousarray(array), dtype=torch.float32,
                                     device="cpu"), requires_grad=False)


def convert(model) -> fx.GraphModule:
    b = _Builder(model)
    x = b.graph.placeholder("input")
    b.values[_graph_inputs(model)[0].name] = x
    for node in model.graph.node:
        inputs = [b.values.get(n) if n else None for n in node.input]
        out = CONVERTERS.get(node.op_type)(b, node, inputs, _attrs(node))
        b.values[node.output[0]] = out
    outputs = [b.values[o.name] for o in model.graph.output]
    b.graph.output(outputs[0] if len(outputs) == 1 else tuple(outputs))
    gm = fx.GraphModule(b.root, b.graph, class_name="OnnxModel")
    for p in gm.parameters():
        p.requires_grad_(True)
    return gm.eval()


def onnx_module(path: Path) -> fx.GraphModule:
    return convert(load_onnx(path))


onnx_op = CONVERTERS.register


def _pads(attrs: dict, spatial: int) -> tuple[int, ...]:
    pads = list(attrs.get("pads", [0] * 2 * spatial))
    if attrs.get("auto_pad", b"NOTSET") not in (b"NOTSET", "NOTSET"):
        raise UserError("ONNX auto_pad is not supported; export with explicit pads")
    if pads[:spatial] != pads[spatial:]:
        raise UserError(f"ONNX asymmetric pads {pads} are not supported")
    return tuple(pads[:spatial])


@onnx_op("Conv")
def _conv(b: _Builder, node, inputs, attrs) -> fx.Node:
    w = b.constant(node.input[1])
    if w.ndim != 4:
        raise UserError(f"ONNX Conv {node.name!r}: only 2-d convolutions are supported")
    groups = int(attrs.get("group", 1))
    conv = nn.Conv2d(w.shape[1] * groups, w.shape[0], tuple(w.shape[2:]),
                     tuple(attrs.get("strides", (1, 1))), _pads(attrs, 2),
                     tuple(attrs.get("dilations", (1, 1))), groups, bias=len(node.input) > 2)
    conv.weight = _param(w)
    if conv.bias is not None:
        conv.bias = _param(b.constant(node.input[2]))
    return b.module(node, conv, inputs[0])


def _linear(b: _Builder, node, x: fx.Node, weight: np.ndarray, bias: np.ndarray | None):
    linear = nn.Linear(weight.shape[1], weight.shape[0], bias=bias is not None)
    linear.weight = _param(weight)
    if bias is not None:
        linear.bias = _param(np.broadcast_to(bias, (weight.shape[0],)))
    return b.module(node, linear, x)


@onnx_op("Gemm")
def _gemm(b: _Builder, node, inputs, attrs) -> fx.Node:
    if attrs.get("transA", 0) or attrs.get("alpha", 1.0) != 1.0 or attrs.get("beta", 1.0) != 1.0:
        raise UserError(f"ONNX Gemm {node.name!r}: only transA=0, alpha=beta=1 is supported")
    w = b.constant(node.input[1])
    weight = w if attrs.get("transB", 0) else w.T
    bias = b.constant(node.input[2]) if len(node.input) > 2 and node.input[2] else None
    return _linear(b, node, inputs[0], weight, bias)


@onnx_op("MatMul")
def _matmul(b: _Builder, node, inputs, attrs) -> fx.Node:
    if isinstance(inputs[1], np.ndarray) and inputs[1].ndim == 2:
        return _linear(b, node, inputs[0], inputs[1].T, None)
    return b.call(torch.matmul, *(b.tensor(i) for i in inputs))


@onnx_op("BatchNormalization")
def _batchnorm(b: _Builder, node, inputs, attrs) -> fx.Node:
    scale, bias, mean, var = (b.constant(n) for n in node.input[1:5])
    bn = nn.BatchNorm2d(scale.shape[0], eps=float(attrs.get("epsilon", 1e-5)))
    bn.weight, bn.bias = _param(scale), _param(bias)
    bn.running_mean = torch.tensor(mean, dtype=torch.float32, device="cpu")
    bn.running_var = torch.tensor(var, dtype=torch.float32, device="cpu")
    return b.module(node, bn, inputs[0])


def _binary(fn):
    def convert_binary(b: _Builder, node, inputs, attrs) -> fx.Node:
        return b.call(fn, b.tensor(inputs[0]), b.tensor(inputs[1]))
    return convert_binary


onnx_op("Add")(_binary(torch.add))
onnx_op("Sub")(_binary(torch.sub))
onnx_op("Mul")(_binary(torch.mul))
onnx_op("Div")(_binary(torch.div))


def _unary(fn):
    def convert_unary(b: _Builder, node, inputs, attrs) -> fx.Node:
        return b.call(fn, inputs[0])
    return convert_unary


onnx_op("Relu")(_unary(torch.relu))
onnx_op("Sigmoid")(_unary(torch.sigmoid))
onnx_op("Tanh")(_unary(torch.tanh))
onnx_op("Identity", "Dropout")(lambda b, node, inputs, attrs: inputs[0])


@onnx_op("LeakyRelu")
def _leaky(b: _Builder, node, inputs, attrs) -> fx.Node:
    return b.call(F.leaky_relu, inputs[0], float(attrs.get("alpha", 0.01)))


@onnx_op("Gelu")
def _gelu(b: _Builder, node, inputs, attrs) -> fx.Node:
    approximate = attrs.get("approximate", b"none")
    if isinstance(approximate, bytes):
        approximate = approximate.decode()
    return b.call(F.gelu, inputs[0], approximate=approximate)


@onnx_op("Softmax")
def _softmax(b: _Builder, node, inputs, attrs) -> fx.Node:
    return b.call(torch.softmax, inputs[0], int(attrs.get("axis", -1)))


@onnx_op("MaxPool", "AveragePool")
def _pool(b: _Builder, node, inputs, attrs) -> fx.Node:
    kernel = tuple(attrs["kernel_shape"])
    stride = tuple(attrs.get("strides", kernel))
    ceil = bool(attrs.get("ceil_mode", 0))
    if node.op_type == "MaxPool":
        pool = nn.MaxPool2d(kernel, stride, _pads(attrs, 2), ceil_mode=ceil)
    else:
        pool = nn.AvgPool2d(kernel, stride, _pads(attrs, 2), ceil_mode=ceil,
                            count_include_pad=bool(attrs.get("count_include_pad", 0)))
    return b.module(node, pool, inputs[0])


@onnx_op("GlobalAveragePool")
def _gap(b: _Builder, node, inputs, attrs) -> fx.Node:
    return b.module(node, nn.AdaptiveAvgPool2d(1), inputs[0])


@onnx_op("Flatten")
def _flatten(b: _Builder, node, inputs, attrs) -> fx.Node:
    axis = int(attrs.get("axis", 1))
    if axis != 1:
        raise UserError(f"ONNX Flatten {node.name!r}: only axis=1 (keep the batch) is supported")
    return b.call(torch.flatten, inputs[0], 1)


@onnx_op("Reshape")
def _reshape(b: _Builder, node, inputs, attrs) -> fx.Node:
    shape = [int(d) for d in b.constant(node.input[1])]
    x = inputs[0]
    # The first dimension is the batch: keep the input's, whatever size the export baked in;
    # 0 copies the input's dimension (ONNX semantics).
    dims = [b.graph.call_method("size", (x, i)) if d == 0 else d
            for i, d in enumerate(shape[1:], start=1)]
    return b.graph.call_method("reshape", (x, b.graph.call_method("size", (x, 0)), *dims))


@onnx_op("Transpose")
def _transpose(b: _Builder, node, inputs, attrs) -> fx.Node:
    return b.graph.call_method("permute", (inputs[0], *attrs["perm"]))


@onnx_op("Concat")
def _concat(b: _Builder, node, inputs, attrs) -> fx.Node:
    return b.call(torch.cat, [b.tensor(i) for i in inputs], int(attrs.get("axis", 0)))


@onnx_op("Constant")
def _constant(b: _Builder, node, inputs, attrs):
    from onnx import numpy_helper

    if "value" not in attrs:
        raise UserError(f"ONNX Constant {node.name!r}: only a tensor `value` is supported")
    return numpy_helper.to_array(attrs["value"])
