"""Profiles, MAC counts and cuts of the zoo models."""
import pytest
import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from partitioner.graph import build_graph
from partitioner.profile import profile_model
from partitioner.split import split
from partitioner.zoo import MODELS, build_model

ZOO = MODELS.names()
# Smaller inputs and widths keep the per-cut forward passes fast; the layer structure and the
# cut validity are unchanged. The full-size check is marked slow.
SPLIT_SMALL = {"vgg16": ((3, 64, 64), 0.25), "alexnet": ((3, 96, 96), 0.25),
               "resnet18": ((3, 64, 64), 0.25), "resnet50": ((3, 64, 64), 0.25),
               "mobilenetv2": ((3, 64, 64), 0.25), "mobilenet_v1": ((3, 64, 64), 0.25),
               "efficientnet_b0": ((3, 64, 64), 0.25),
               "vit_b16": ((3, 32, 32), 0.25), "vit_tiny": ((3, 32, 32), 0.5),
               "bert_base": ((16,), 0.25)}


def test_lenet5_macs_hand_counted():
    g = profile_model("lenet5")
    convs = [l.macs for l in g.layers if l.op_type == "conv2d"]
    fcs = [l.macs for l in g.layers if l.op_type == "linear"]
    # conv1: 28*28 outputs x 6 maps x (1 x 5 x 5); conv2: 10*10 x 16 x (6 x 5 x 5);
    # C5: 1*1 x 120 x (16 x 5 x 5); fc: 120*84 and 84*10.
    assert convs == [28 * 28 * 6 * 25, 10 * 10 * 16 * 6 * 25, 120 * 16 * 25]
    assert fcs == [120 * 84, 84 * 10]
    assert g.total_macs == 416_520


def test_small_layers_hand_counted():
    model = nn.Sequential(nn.Conv2d(3, 8, 3, stride=2, padding=1), nn.ReLU(),
                          nn.Conv2d(8, 8, 3, padding=1, groups=4), nn.Flatten(),
                          nn.Linear(8 * 5 * 5, 7))
    g = build_graph(model, "toy", (3, 10, 10))
    by_op = [(l.op_type, l.macs, l.params) for l in g.layers]
    assert by_op == [
        ("conv2d", 5 * 5 * 8 * 3 * 9, 8 * 3 * 9 + 8),
        ("relu", 0, 0),
        ("conv2d", 5 * 5 * 8 * 2 * 9, 8 * 2 * 9 + 8),   # groups=4: 2 input channels per group
        ("flatten", 0, 0),
        ("linear", 200 * 7, 200 * 7 + 7),
    ]
    assert g.layers[0].output_bytes == 8 * 5 * 5 * 4
    assert g.layers[0].conv.out_h == 5


@pytest.mark.parametrize("name", ZOO)
def test_macs_agree_with_torch_flop_counter(name):
    g = profile_model(name)
    with torch.device("meta"):
        model = build_model(name)
        x = torch.zeros((1, *g.input_shape))
    counter = FlopCounterMode(display=False)
    with counter:
        model(x)
    assert counter.get_total_flops() == 2 * g.total_macs


def test_published_mac_totals():
    assert profile_model("vgg16").total_macs == pytest.approx(15.47e9, rel=0.005)
    assert profile_model("resnet18").total_macs == pytest.approx(1.81e9, rel=0.01)


def test_cut_zero_sends_raw_input_at_its_encoding_and_last_cut_the_output():
    g = profile_model("vgg16")
    first, last = g.cuts[0], g.cuts[-1]
    assert (first.cut, first.sent_dtype, first.sent_bytes) == (0, "uint8", 3 * 224 * 224)
    assert last.cut == g.num_layers and last.sent_bytes == 1000 * 4
    assert [c.cut for c in g.cuts] == list(range(g.num_layers + 1))   # a chain: every cut valid
    pool1 = g.cut(5)
    assert pool1.after_layer == "maxpool2d_1" and pool1.sent_shape == (64, 112, 112)


def _check_every_cut(name, shape, width):
    torch.manual_seed(0)
    model = build_model(name, shape, width=width)
    g = build_graph(model, name, shape)
    # BERT reads token ids; the other models read real-valued inputs.
    if name == "bert_base":
        x = torch.randint(0, 30522, (2, *shape)).float()
    else:
        x = torch.randn(2, *shape)
    with torch.no_grad():
        y = model(x)
        for cut in g.cuts:
            local, remote = split(g.module, cut.cut)
            sent = local(x)
            assert tuple(sent.shape[1:]) == cut.sent_shape
            assert torch.allclose(remote(sent), y, rtol=0, atol=1e-6), f"{name} cut {cut.cut}"


@pytest.mark.parametrize("name", ZOO)
def test_every_valid_cut_reproduces_the_model(name):
    shape, width = SPLIT_SMALL.get(name, (MODELS.get(name).input_shape, 1.0))
    _check_every_cut(name, shape, width)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["vgg16", "alexnet", "resnet18"])
def test_every_valid_cut_reproduces_the_model_full_size(name):
    _check_every_cut(name, MODELS.get(name).input_shape, 1.0)


def test_resnet18_offers_no_cut_inside_a_residual_block():
    g = profile_model("resnet18")
    valid = {c.cut for c in g.cuts}
    names = [l.name for l in g.layers]
    adds = [l.index for l in g.layers if l.op_type == "add"]
    assert len(adds) == 8
    for block, add_idx in enumerate(adds):
        members = [i + 1 for i, n in enumerate(names) if n.startswith(f"layers.{block}.")]
        first = min(members)
        assert not valid & set(range(first, add_idx)), f"block {block} has an inner cut"
        assert add_idx in valid and add_idx + 1 in valid   # after the add and its ReLU
    assert len(valid) < g.num_layers + 1


def test_invalid_cut_is_refused_by_split():
    g = build_graph(build_model("resnet18", (3, 32, 32)), "resnet18", (3, 32, 32))
    with pytest.raises(ValueError, match="not valid"):
        split(g.module, 6)
