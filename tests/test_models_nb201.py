"""NAS-Bench-201 networks (`nb201:<genotype>`) and their fast profiler."""
import csv
import random
import re
from pathlib import Path

import pytest
import torch

from core.errors import UserError
from partitioner.graph import build_graph, crossing_nodes, trace_profile
from partitioner.profile import profile_model
from partitioner.models.nb201_arch import parse_arch
from partitioner.nb201_fast import profile_nb201, profile_nb201_many
from partitioner.split import split
from partitioner.zoo import build_model, check_model_name

CSV = Path(__file__).resolve().parents[1] / "hwmodels" / "data" / "nb201-latency-ms.csv"
ALL_SKIP = ("|skip_connect~0|+|skip_connect~0|skip_connect~1|+"
            "|skip_connect~0|skip_connect~1|skip_connect~2|")
ALL_CONV3 = ("|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+"
             "|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|")
ALL_NONE = "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|"
MIXED = ("|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+"
         "|skip_connect~0|nor_conv_3x3~1|skip_connect~2|")

# MACs outside the cells (CIFAR input 3x32x32, C=16, 10 classes), counted by hand:
# stem 3x3 conv 3->16 at 32x32; each reduction block: conv_a 3x3 stride 2, conv_b 3x3, a 1x1
# shortcut conv, all at the output resolution; linear 64->10.
STEM = 32 * 32 * 16 * 3 * 9
REDUCTIONS = (16 * 16 * 32 * (16 * 9 + 32 * 9 + 16)) + (8 * 8 * 64 * (32 * 9 + 64 * 9 + 32))
FIXED_MACS = STEM + REDUCTIONS + 64 * 10


def _csv_archs() -> list[str]:
    with CSV.open(newline="") as f:
        return [row["arch"] for row in csv.DictReader(f)]


def test_parse_arch_reads_the_three_nodes():
    assert parse_arch(MIXED) == (
        (("nor_conv_3x3", 0),),
        (("nor_conv_3x3", 0), ("avg_pool_3x3", 1)),
        (("skip_connect", 0), ("nor_conv_3x3", 1), ("skip_connect", 2)),
    )


@pytest.mark.parametrize("arch, says", [
    ("|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|", "three '+'-separated groups"),
    ("|conv_5x5~0|+|none~0|none~1|+|none~0|none~1|none~2|", "unknown operation 'conv_5x5'"),
    ("|none~1|+|none~0|none~1|+|none~0|none~1|none~2|", "must come from a node 0..0"),
    ("|none~0|+|none~0|+|none~0|none~1|none~2|", "node 2 needs 2 edge(s), got 1"),
])
def test_bad_genotypes_are_user_errors_saying_what_is_wrong(arch, says):
    with pytest.raises(UserError, match=re.escape(says)):
        check_model_name(f"nb201:{arch}")


def test_all_skip_network_macs_hand_counted():
    g = profile_model(f"nb201:{ALL_SKIP}")
    assert g.total_macs == FIXED_MACS == 7_783_040
    # Each all-skip cell is three adds: x + x (node 2), then x + x and + node 2 (node 3).
    assert sum(l.op_type == "add" for l in g.layers) == 15 * 3 + 2


def test_skip_edges_are_identity_calls():
    """As the public code's Identity modules: one `identity` layer per skip edge and cell, on the
    fast and the traced path, which prices 5 us each on titan-xp and nothing on the Pi 4."""
    from dataclasses import replace

    from hwmodels.netcost import network_costs
    from hwmodels.networks import profiles_table
    from hwmodels.presets import device_preset

    arch = "|skip_connect~0|+|nor_conv_1x1~0|skip_connect~1|+|none~0|avg_pool_3x3~1|skip_connect~2|"
    layers = profile_model(f"nb201:{arch}").layers
    assert sum(l.op_type == "identity" for l in layers) == 15 * 3
    assert [l.name for l in layers if l.op_type == "identity"][:3] == [
        "cells.0.layers.0", "cells.0.layers.2", "cells.0.layers.5"]
    assert sum(l.op_type == "identity" for l in profile_model(f"nb201:{ALL_SKIP}").layers) == 90
    table = profiles_table([f"nb201:{arch}"], [layers])
    titan = device_preset("titan-xp")
    with_calls = network_costs(titan, table)[0][0]
    assert with_calls - network_costs(replace(titan, call_overhead_us=0.0), table)[0][0] == \
        pytest.approx((45 + 1) * 5e-6)                      # and the head's flatten
    pi = device_preset("raspberry-pi-4")
    # the converter drops the identities: a host call would be priced on the flatten alone
    assert network_costs(replace(pi, call_overhead_us=5.0), table)[0][0] - network_costs(
        pi, table)[0][0] == pytest.approx(5e-6)


def test_all_conv3x3_network_macs_hand_counted():
    # Six 3x3 convs per cell; each stage has C*2^s channels at 32/2^s pixels a side, so every
    # cell conv is 32*32*16*16*9 MACs whatever the stage.
    cell_conv = 32 * 32 * 16 * 16 * 9
    assert profile_model(f"nb201:{ALL_CONV3}").total_macs == FIXED_MACS + 15 * 6 * cell_conv


def test_parameters_match_the_built_module():
    model = build_model(f"nb201:{MIXED}")
    g = profile_model(f"nb201:{MIXED}")
    # BatchNorm running statistics are buffers, not parameters, in both counts.
    assert sum(l.params for l in g.layers) == sum(p.numel() for p in model.parameters())


def _assert_same(fast, traced):
    assert fast.model_name == traced.model_name
    assert fast.input_shape == traced.input_shape
    assert fast.layers == traced.layers
    assert fast.cuts == traced.cuts


def test_fast_profile_equals_trace_on_a_seeded_sample():
    rng = random.Random(201)
    sample = rng.sample(_csv_archs(), 12) + [ALL_SKIP, ALL_CONV3, ALL_NONE]
    for arch, fast in zip(sample, profile_nb201_many(sample)):
        _assert_same(fast, trace_profile(f"nb201:{arch}"))


@pytest.mark.parametrize("kwargs", [
    dict(input_shape=(1, 28, 28), num_classes=7),
    dict(input_dtype="float32", activation_dtype="float16", width=0.5),
])
def test_fast_profile_equals_trace_off_the_defaults(kwargs):
    fast = profile_nb201(MIXED, **kwargs)
    shape = kwargs.get("input_shape", (3, 32, 32))
    traced = trace_profile(f"nb201:{MIXED}", shape, kwargs.get("input_dtype", "uint8"),
                           kwargs.get("activation_dtype", "float32"),
                           kwargs.get("num_classes", 10), kwargs.get("width", 1.0))
    _assert_same(fast, traced)


def test_profile_model_routes_nb201_through_the_fast_path():
    g = profile_model(f"nb201:{MIXED}")
    assert g.module is None
    _assert_same(g, trace_profile(f"nb201:{MIXED}"))


def test_cuts_of_the_all_conv_network_hand_counted():
    g = profile_model(f"nb201:{ALL_CONV3}")
    # Inside an all-conv cell node 0 feeds three edges and a partial sum is always live, and
    # inside a reduction block its input stays live until the shortcut runs: the valid cuts are
    # the input, the stem's two layers, each cell's and reduction's closing add (a cell has
    # three adds, a reduction one), and the five head layers.
    closing_adds = []
    adds = 0
    for block in range(17):
        adds += 1 if block in (5, 11) else 3
        closing_adds.append(f"add_{adds}")
    assert [c.after_layer for c in g.cuts] == (
        ["input", "stem.0", "stem.1"] + closing_adds
        + ["lastact.0", "lastact.1", "global_pooling", "flatten_1", "classifier"])
    assert g.num_layers == 2 + 15 * (6 * 3 + 3) + 2 * (3 + 3 + 2 + 1) + 5 == 340
    assert g.cuts[-1].cut == g.num_layers and g.cuts[-1].sent_bytes == 10 * 4


def test_split_at_every_valid_cut_reproduces_the_network():
    torch.manual_seed(0)
    model = build_model(f"nb201:{MIXED}", width=0.25)
    graph = build_graph(model, "nb201", (3, 32, 32))
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        want = graph.module(x)
        for cut in graph.cuts:
            assert len(crossing_nodes(graph.module, cut.cut)) == 1
            local, remote = split(graph.module, cut.cut)
            torch.testing.assert_close(remote(local(x)), want, rtol=0, atol=1e-6)
