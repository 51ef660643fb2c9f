"""Operator coverage: every counted operator against a hand count (conventions: partitioner.ops)."""
import logging

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from core.errors import UserError
from partitioner.graph import build_graph
from partitioner.split import split


class Wrap(nn.Module):
    """A one-expression model: forward(x) = fn(self, x)."""

    def __init__(self, fn, **modules) -> None:
        super().__init__()
        self.fn = fn
        for name, m in modules.items():
            setattr(self, name, m)

    def forward(self, x):
        return self.fn(self, x)


def layers(model, shape):
    return build_graph(model.eval(), "toy", shape).layers


def only(model, shape, op_type):
    found = [l for l in layers(model, shape) if l.op_type == op_type]
    assert len(found) == 1, [l.op_type for l in layers(model, shape)]
    return found[0]


@pytest.mark.parametrize("conv, shape, out, macs", [
    # grouped: 8 -> 12 channels in 4 groups, 2 input channels per group, 3x3, 10x10 output
    (nn.Conv2d(8, 12, 3, padding=1, groups=4), (8, 10, 10), (12, 10, 10), 12 * 100 * 2 * 9),
    # depthwise: 16 groups of one channel, stride 2: 5x5 output
    (nn.Conv2d(16, 16, 3, stride=2, padding=1, groups=16), (16, 10, 10), (16, 5, 5), 16 * 25 * 9),
    # dilated 3x3 (dilation 2, no padding): 10 - 4 = 6 outputs a side, same MACs per output
    (nn.Conv2d(4, 6, 3, dilation=2), (4, 10, 10), (6, 6, 6), 6 * 36 * 4 * 9),
    # 1-d convolution over 20 steps, kernel 5, no padding: 16 outputs
    (nn.Conv1d(3, 7, 5), (3, 20), (7, 16), 7 * 16 * 3 * 5),
])
def test_convolutions(conv, shape, out, macs):
    layer = only(Wrap(lambda m, x: m.conv(x), conv=conv), shape, type(conv).__name__.lower())
    assert layer.output_shape == out and layer.macs == macs
    assert layer.conv.macs == macs       # the accelerator models' geometry agrees


def test_functional_conv_with_a_parameter_weight():
    model = Wrap(lambda m, x: F.conv2d(x, m.w, stride=2, padding=1, groups=2),
                 w=nn.Parameter(torch.randn(6, 2, 3, 3)))
    layer = only(model, (4, 8, 8), "conv2d")
    assert layer.macs == 6 * 16 * 2 * 9 and layer.params == 6 * 2 * 9


def test_linear_on_tokens_counts_every_token():
    layer = only(Wrap(lambda m, x: m.fc(x), fc=nn.Linear(32, 48)), (10, 32), "linear")
    assert layer.macs == 10 * 32 * 48 and layer.params == 32 * 48 + 48


@pytest.mark.parametrize("fn, shape, op_type, macs", [
    (lambda m, x: x @ x.transpose(-2, -1), (6, 4), "matmul", 6 * 6 * 4),
    (lambda m, x: torch.matmul(x, m.w), (6, 4), "matmul", 6 * 5 * 4),
    (lambda m, x: torch.bmm(x.flatten(0, 1), x.flatten(0, 1).transpose(1, 2)), (3, 6, 4), "bmm",
     3 * 6 * 6 * 4),
    (lambda m, x: torch.einsum("bhnd,bhmd->bhnm", x, x), (2, 5, 8), "einsum", 2 * 5 * 5 * 8),
    (lambda m, x: torch.einsum("bnd,de->bne", x, m.w), (6, 4), "einsum", 6 * 4 * 5),
])
def test_matrix_products(fn, shape, op_type, macs):
    model = Wrap(fn, w=nn.Parameter(torch.randn(4, 5)))
    assert only(model, shape, op_type).macs == macs


def test_scaled_dot_product_attention():
    # 2 heads, 5 queries and keys of 8 dims: QK^T and AV are 2*5*5*8 MACs each; a scale and a
    # softmax per score (4 ops each).
    layer = only(Wrap(lambda m, x: F.scaled_dot_product_attention(x, x, x)), (2, 5, 8),
                 "scaled_dot_product_attention")
    assert layer.macs == 2 * (2 * 5 * 5 * 8) and layer.elem_ops == 4 * 2 * 5 * 5
    assert layer.conv.macs == layer.macs     # an equal-MAC conv for the accelerator models


@pytest.mark.parametrize("batch_first", [True, False])
def test_multihead_attention(batch_first):
    mha = nn.MultiheadAttention(16, 4, batch_first=batch_first)
    if batch_first:
        model = Wrap(lambda m, x: m.mha(x, x, x)[0], mha=mha)
    else:   # sequence first: the model moves the batch inside
        model = Wrap(lambda m, x: m.mha(*(x.transpose(0, 1),) * 3)[0], mha=mha)
    got = only(model, (7, 16), "multiheadattention")
    # q, k, v and output projections: 4 x 7 x 16 x 16; attention: 4 heads x 7 x 7 x (4 + 4);
    # a scale and a softmax (4 ops) per score.
    assert got.macs == 4 * 7 * 16 * 16 + 4 * 7 * 7 * 8
    assert got.elem_ops == 4 * 4 * 7 * 7
    assert got.params == 4 * 16 * 16 + 4 * 16
    assert got.conv.macs == got.macs


@pytest.mark.parametrize("module, shape, op_type, per_element", [
    (nn.LayerNorm(16), (5, 16), "layernorm", 5),
    (nn.BatchNorm2d(4), (4, 3, 3), "batchnorm2d", 2),
    (nn.GroupNorm(2, 4), (4, 3, 3), "groupnorm", 5),
    (nn.GELU(), (5, 16), "gelu", 1),
    (nn.SiLU(), (5, 16), "silu", 1),
    (nn.Softmax(dim=-1), (5, 16), "softmax", 3),
    (nn.ReLU6(), (5, 16), "relu6", 1),
])
def test_element_wise_modules(module, shape, op_type, per_element):
    layer = only(Wrap(lambda m, x: m.op(x), op=module), shape, op_type)
    n = 1
    for d in shape:
        n *= d
    assert layer.macs == 0 and layer.elem_ops == per_element * n


def test_functional_activations_and_softmax_method():
    got = layers(Wrap(lambda m, x: F.gelu(F.silu(x)).softmax(-1)), (3, 4))
    assert [(l.op_type, l.elem_ops) for l in got] == [("silu", 12), ("gelu", 12),
                                                      ("softmax", 36)]


def test_pooling():
    maxpool = only(Wrap(lambda m, x: m.p(x), p=nn.MaxPool2d(3, 2, 1)), (4, 8, 8), "maxpool2d")
    assert maxpool.output_shape == (4, 4, 4) and maxpool.elem_ops == 4 * 16 * 9
    gap = only(Wrap(lambda m, x: m.p(x), p=nn.AdaptiveAvgPool2d(1)), (4, 8, 8),
               "adaptiveavgpool2d")
    assert gap.elem_ops == 4 * 64            # each input element added once


def test_embedding_is_a_lookup_with_its_table_as_parameters():
    layer = only(Wrap(lambda m, x: m.emb(x.long()), emb=nn.Embedding(100, 8)), (6,), "embedding")
    assert (layer.macs, layer.elem_ops, layer.params, layer.output_shape) == (0, 0, 800, (6, 8))


def test_residual_add_and_concat_take_two_inputs():
    model = Wrap(lambda m, x: torch.cat([m.a(x) + x, m.b(x)], dim=1),
                 a=nn.Conv2d(4, 4, 1), b=nn.Conv2d(4, 2, 1))
    got = {l.op_type: l for l in layers(model, (4, 5, 5))}
    assert got["add"].input_shapes == ((4, 5, 5), (4, 5, 5)) and got["add"].elem_ops == 100
    assert got["cat"].input_shapes == ((4, 5, 5), (2, 5, 5))
    assert got["cat"].output_shape == (6, 5, 5)
    assert got["cat"].elem_ops == 0


def test_unknown_operator_is_counted_element_wise_with_a_warning_naming_it(caplog):
    model = Wrap(lambda m, x: torch.special.i0(x))
    with caplog.at_level(logging.WARNING, logger="partitioner.ops"):
        layer = layers(model, (3, 4))[0]
    assert layer.elem_ops == 12
    assert any("'special_i0'" in r.getMessage() for r in caplog.records)


def test_attention_written_with_matmuls_is_not_undercounted():
    """The issue's small ViT: attention as matmuls counted 0 MACs (a 7.6 % undercount)."""
    class Attn(nn.Module):
        def __init__(self):
            super().__init__()
            self.qkv, self.proj = nn.Linear(32, 96), nn.Linear(32, 32)

        def forward(self, x):
            B, N, C = x.shape
            q, k, v = self.qkv(x).reshape(B, N, 3, 4, C // 4).permute(2, 0, 3, 1, 4)
            att = (q @ k.transpose(-2, -1) * (C // 4) ** -0.5).softmax(dim=-1)
            return self.proj((att @ v).transpose(1, 2).reshape(B, N, C))

    g = build_graph(Attn().eval(), "attn", (10, 32))
    # qkv 10x32x96, QK^T and AV 4 heads x 10 x 10 x 8 each, proj 10x32x32
    assert g.total_macs == 10 * 32 * 96 + 2 * (4 * 10 * 10 * 8) + 10 * 32 * 32


def test_shape_arithmetic_is_not_a_layer_and_keeps_cuts_honest():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.a, self.b = nn.Linear(8, 8), nn.Linear(8, 8)

        def forward(self, x):
            B, N, C = x.shape                  # used at the end: crosses every inner cut
            y = self.b(torch.relu(self.a(x)))
            return y.reshape(B, N * C)

    torch.manual_seed(0)
    net = Net().eval()
    g = build_graph(net, "net", (3, 8))
    assert [l.op_type for l in g.layers] == ["linear", "relu", "linear", "reshape"]
    assert [c.cut for c in g.cuts] == [0, 4]       # B, N, C cross cuts 1..3 with the tensor
    x = torch.randn(5, 3, 8)
    for cut in g.cuts:
        local, remote = split(g.module, cut.cut)
        torch.testing.assert_close(remote(local(x)), net(x), rtol=0, atol=1e-6)


def test_tuple_output_is_never_a_cut_and_its_getitem_is():
    mha = nn.MultiheadAttention(8, 2, batch_first=True)
    model = Wrap(lambda m, x: m.fc(m.mha(x, x, x)[0]), mha=mha, fc=nn.Linear(8, 3))
    g = build_graph(model.eval(), "m", (4, 8))
    names = [l.name for l in g.layers]
    assert names == ["mha", "getitem_1", "fc"]
    assert [c.cut for c in g.cuts] == [0, 2, 3]     # not after the tuple-valued mha (1)


def test_parameters_computed_in_forward_are_recomputed_on_each_side():
    class Pos(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1, self.fc2 = nn.Linear(4, 4), nn.Linear(4, 4)
            self.table = nn.Parameter(torch.randn(10, 4))

        def forward(self, x):
            pos = self.table[:3] * 2.0            # from parameters only: no cut is blocked
            return self.fc2(self.fc1(x) + pos) + pos

    torch.manual_seed(0)
    net = Pos().eval()
    g = build_graph(net, "pos", (3, 4))
    assert [c.cut for c in g.cuts] == list(range(g.num_layers + 1))
    assert sum(l.params for l in g.layers) == sum(p.numel() for p in net.parameters())
    x = torch.randn(2, 3, 4)
    for cut in g.cuts:
        local, remote = split(g.module, cut.cut)
        torch.testing.assert_close(remote(local(x)), net(x), rtol=0, atol=1e-6)


def test_python_control_flow_on_tensor_values_names_the_line_and_gives_a_hint():
    class Branchy(nn.Module):
        def forward(self, x):
            if x.sum() > 0:
                return x
            return -x

    with pytest.raises(UserError, match=r"test_profile_ops.py:\d+.*avoid Python control flow"):
        build_graph(Branchy(), "branchy", (3,))


def test_wrong_input_shape_is_a_user_error_naming_the_shape():
    with pytest.raises(UserError, match=r"input of shape \[3, 8, 8\].*failed"):
        build_graph(Wrap(lambda m, x: m.fc(x), fc=nn.Linear(5, 2)), "m", (3, 8, 8))
