"""Per-operator arithmetic counts: multiply-accumulates (MACs) and element-wise operations.

One counter per op type (the names `graph._op_type` gives: module class names lowered, function
and method names). Counts are per sample: the network is traced at batch 1, so the numel of a
traced shape is its per-sample numel. Conventions (each counter's docstring says its own):

- MACs: one per multiply-accumulate of a conv, linear, matmul, bmm, einsum contraction or
  attention product. Biases are not counted (as in published MAC figures).
- Element-wise ops, per output element unless said otherwise: activations and binary
  arithmetic 1; batch norm 2 (inference: a folded scale and shift); layer/group/instance norm 5
  (mean, variance, normalise, scale, shift); softmax 3 (exp, sum, divide); max/avg pooling one
  per window element; global/adaptive average pooling, mean and sum one per input element;
  attention adds a scale and a softmax per score (4 per score).
- Data movement (view, reshape, permute, cat, slicing, embedding lookups, dropout in eval)
  counts 0 of both: it is priced by the bytes the layer moves, not by arithmetic.

An op type without a counter is counted as element-wise (one op per output element) and logged
as a warning that names it, never silently zero.
"""
from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Any, Callable

from torch import nn

from core.registry import Registry
from partitioner.types import ConvShape

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class OpCall:
    """What a counter sees of one traced call; shapes are as traced at batch 1."""
    op_type: str
    module: nn.Module | None
    args: tuple[Any, ...]            # tensor arguments replaced by their shapes (TensorArg)
    kwargs: dict[str, Any]
    out_shape: tuple[int, ...]
    sample_shape: tuple[int, ...]    # out_shape without the batch dimension

    def tensors(self) -> list[tuple[int, ...]]:
        return [a for a in (*self.args, *self.kwargs.values()) if isinstance(a, TensorArg)]


class TensorArg(tuple):
    """A tensor argument's shape (a tuple), marked so counters can tell it from plain tuples."""


@dataclass(frozen=True)
class OpCount:
    macs: int = 0
    elem_ops: int = 0
    conv: ConvShape | None = None


Counter = Callable[[OpCall], OpCount]
COUNTERS: Registry[Counter] = Registry("operator counter")


def numel(shape) -> int:
    return math.prod(int(d) for d in shape)


def count(call: OpCall) -> OpCount:
    """The counts of one call; an unknown op type is element-wise with a warning naming it."""
    if call.op_type in COUNTERS:
        return COUNTERS.get(call.op_type)(call)
    log.warning("operator %r has no counter: counted as element-wise (one op per output "
                "element)", call.op_type)
    return OpCount(elem_ops=numel(call.out_shape))


counter = COUNTERS.register


def per_element(ops: int, *op_types: str) -> None:
    counter(*op_types)(lambda call: OpCount(elem_ops=ops * numel(call.out_shape)))


# --------------------------------------------------------------------------- data movement
counter("view", "reshape", "flatten", "unflatten", "permute", "transpose", "contiguous",
        "squeeze", "unsqueeze", "expand", "expand_as", "repeat", "cat", "concat", "stack",
        "getitem", "chunk", "split", "unbind", "narrow", "select", "index_select", "gather",
        "to", "type", "float", "half", "long", "int", "clone", "detach", "identity", "dropout",
        "dropout1d", "dropout2d", "embedding", "pad", "zeropad2d", "t", "movedim", "roll",
        "masked_fill",
        "zeros_like", "ones_like", "new_zeros", "new_ones", "flip", "tile", "zeros", "ones",
        "full", "empty", "arange")(
    lambda call: OpCount())

# --------------------------------------------------------------------------- element-wise
per_element(1, "relu", "relu6", "leakyrelu", "leaky_relu", "hardtanh", "gelu", "silu",
            "sigmoid", "tanh", "hardswish", "hardsigmoid", "elu", "selu", "mish", "softplus",
            "prelu", "add", "sub", "mul", "truediv", "div", "floordiv", "neg", "pow", "sqrt",
            "rsqrt", "exp", "log", "abs", "maximum", "minimum", "clamp", "clip", "where",
            "iadd", "imul", "erf", "reciprocal", "square")
per_element(2, "batchnorm1d", "batchnorm2d", "batchnorm3d", "batch_norm")
per_element(5, "layernorm", "layer_norm", "groupnorm", "group_norm", "instancenorm2d",
            "instance_norm", "rmsnorm")
per_element(3, "softmax", "log_softmax", "logsoftmax")


def _kernel_area(call: OpCall) -> int:
    if call.module is not None:
        kernel = call.module.kernel_size
    else:
        kernel = call.args[1] if len(call.args) > 1 else call.kwargs["kernel_size"]
    if isinstance(kernel, int):     # one size for every spatial dimension
        return kernel ** (1 if call.op_type.endswith("1d") else 2)
    return numel(kernel)


@counter("maxpool1d", "maxpool2d", "avgpool1d", "avgpool2d", "max_pool2d", "avg_pool2d",
         "max_pool1d", "avg_pool1d")
def _pool(call: OpCall) -> OpCount:
    """One compare or add per window element of every output."""
    return OpCount(elem_ops=numel(call.out_shape) * _kernel_area(call))


@counter("adaptiveavgpool1d", "adaptiveavgpool2d", "adaptive_avg_pool2d", "adaptive_avg_pool1d",
         "adaptivemaxpool2d", "mean", "sum", "amax", "max", "min")
def _reduce(call: OpCall) -> OpCount:
    """One add (or compare) per input element."""
    return OpCount(elem_ops=numel(call.tensors()[0]))


# --------------------------------------------------------------------------- MAC operators
@counter("conv1d", "conv2d", "conv3d")
def _conv(call: OpCall) -> OpCount:
    """MACs = outputs x (input channels / groups) x kernel area (any stride or dilation)."""
    if call.module is not None:
        m = call.module
        w_shape, groups, stride = tuple(m.weight.shape), m.groups, m.stride
    else:
        w_shape = call.args[1]
        groups = call.args[6] if len(call.args) > 6 else call.kwargs.get("groups", 1)
        stride = call.args[3] if len(call.args) > 3 else call.kwargs.get("stride", 1)
    macs = numel(call.out_shape) * numel(w_shape[1:])
    conv = None
    x = call.tensors()[0]
    if len(w_shape) == 4:
        s = (stride, stride) if isinstance(stride, int) else tuple(stride)
        conv = ConvShape(x[-3], w_shape[0], x[-2], x[-1], call.out_shape[-2],
                         call.out_shape[-1], w_shape[2], w_shape[3], s[0], s[1], groups)
    elif len(w_shape) == 3:       # a 1-d conv is a 2-d one on a 1-pixel-high map
        s = stride if isinstance(stride, int) else stride[0]
        conv = ConvShape(x[-2], w_shape[0], 1, x[-1], 1, call.out_shape[-1], 1, w_shape[2],
                         1, s, groups)
    return OpCount(macs=macs, conv=conv)


def _matmul_conv(rows: int, k: int, cols: int) -> ConvShape:
    """A (rows x k) @ (k x cols) product as the 1x1 conv accelerator models understand."""
    return ConvShape(k, cols, rows, 1, rows, 1, 1, 1)


@counter("linear")
def _linear(call: OpCall) -> OpCount:
    """MACs = outputs x in_features."""
    k = call.module.in_features if call.module is not None else call.args[1][-1]
    out = call.out_shape
    rows = numel(out[:-1])
    # ConvShape keeps the per-sample geometry (batch excluded), as for a zoo Linear module.
    sample_rows = numel(call.sample_shape[:-1])
    return OpCount(macs=rows * out[-1] * k, conv=_matmul_conv(sample_rows, k, out[-1]))


@counter("matmul", "mm", "bmm")
def _matmul(call: OpCall) -> OpCount:
    """MACs = outputs x the contracted size (the first operand's last dimension)."""
    a, b = call.tensors()[:2]
    k = a[-1]
    out = call.out_shape
    cols = out[-1] if len(b) > 1 else 1
    rows = numel(call.out_shape) // cols
    return OpCount(macs=numel(out) * k, conv=_matmul_conv(max(1, rows), k, cols))


@counter("einsum")
def _einsum(call: OpCall) -> OpCount:
    """Naive evaluation: (operands - 1) MACs per point of the full index space."""
    equation = call.args[0].replace(" ", "")
    operands = call.tensors()
    inputs = equation.split("->")[0].split(",")
    sizes: dict[str, int] = {}
    for subscripts, shape in zip(inputs, operands):
        letters = _expand_ellipsis(subscripts, len(shape))
        for letter, size in zip(letters, shape):
            sizes[letter] = max(sizes.get(letter, 1), size)
    if len(operands) < 2:
        return OpCount(elem_ops=numel(call.out_shape))
    return OpCount(macs=(len(operands) - 1) * numel(sizes.values()))


def _expand_ellipsis(subscripts: str, ndim: int) -> list[str]:
    if "..." not in subscripts:
        return list(subscripts)
    head, tail = subscripts.split("...")
    fill = ndim - len(head) - len(tail)
    return list(head) + [f"...{i}" for i in range(fill)] + list(tail)


def attention_count(batch_heads: int, q_len: int, kv_len: int, qk_dim: int,
                    v_dim: int) -> OpCount:
    """QK^T and AV products; a scale and a softmax (4 element ops) per score. The ConvShape is
    a 1x1 conv with the same MACs (rows: heads x queries, in: qk + v dims, out: keys), so
    accelerator models, which map conv loop nests, price attention instead of skipping it."""
    scores = batch_heads * q_len * kv_len
    rows = batch_heads * q_len
    return OpCount(macs=scores * (qk_dim + v_dim), elem_ops=4 * scores,
                   conv=_matmul_conv(rows, qk_dim + v_dim, kv_len))


@counter("scaled_dot_product_attention")
def _sdpa(call: OpCall) -> OpCount:
    q, k, v = call.tensors()[:3]
    return attention_count(numel(q[:-2]), q[-2], k[-2], q[-1], v[-1])


@counter("multiheadattention")
def _mha(call: OpCall) -> OpCount:
    """In-projections of q, k, v, the attention products and the output projection."""
    m: nn.MultiheadAttention = call.module
    q, k, v = call.tensors()[:3]
    seq = 1 if m.batch_first else 0
    q_len, kv_len = q[seq], k[seq]
    e, h = m.embed_dim, m.num_heads
    proj = q_len * e * e + kv_len * m.kdim * e + kv_len * m.vdim * e + q_len * e * e
    att = attention_count(h, q_len, kv_len, e // h, e // h)
    macs = proj + att.macs
    # As for attention, an equal-MAC 1x1 conv over the queries (exact whenever it divides,
    # always for self-attention: q_len x e x (4e + 2 kv_len)).
    conv = _matmul_conv(q_len, e, macs // (q_len * e)) if macs % (q_len * e) == 0 else None
    return OpCount(macs=macs, elem_ops=att.elem_ops, conv=conv)
