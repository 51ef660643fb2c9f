"""The layers a folding converter (TensorFlow Lite on the Pi 4 and the Pixel 3) never runs:
hwmodels.folding against hand-derived cases and the vendored measurements."""
import numpy as np
import pandas as pd
import pytest

from hwmodels.folding import converter_removed, nb201_running_blocks
from hwmodels.netcost import LayerTable, network_costs
from hwmodels.presets import device_preset
from hwmodels.validate import DATA_CSV
from partitioner.profile import profile_model


def running(arch, block):
    return sum(runs for b, runs in nb201_running_blocks(arch) if b == block)


def test_zero_multiply_of_a_convolution_keeps_it_running():
    # node 2 = conv(node 0) + 0 x node 1, then only multiplied by zero: the multiply folds into
    # the convolution, which still runs in all 15 cells
    assert running("|skip_connect~0|+|nor_conv_3x3~0|none~1|+|none~0|none~1|none~2|",
                   "nor_conv") == 15
    # the same function with the convolution on node 1: its two zero multiplies are simplified
    # one at a time, the first one leaves the second a multi-use convolution, both become
    # constants, and only the head runs
    blocks = nb201_running_blocks("|nor_conv_3x3~0|+|skip_connect~0|none~1|+|none~0|none~1|"
                                  "none~2|")
    assert [b for b, runs in blocks if runs] == ["head"]
    # a pooling is not a convolution: a node holding only it is removed when multiplied by 0
    assert running("|skip_connect~0|+|avg_pool_3x3~0|none~1|+|skip_connect~0|none~1|none~2|",
                   "avg_pool_3x3") == 0


def test_sum_with_a_zero_is_its_other_term_and_live_graphs_keep_everything():
    # no `none` edge: every block runs; edges 0 -> 1, 0 -> 2 and 1 -> 2 sum pairwise (2 adds
    # per node with 2 or 3 inputs: 1 + 2 = 3 per cell), 15 cells
    arch = "|nor_conv_3x3~0|+|nor_conv_1x1~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_1x1~1|" \
           "skip_connect~2|"
    assert all(runs for _, runs in nb201_running_blocks(arch))
    assert running(arch, "add") == 45
    # node 3 = node 0 + 0 x node 1 + conv(node 2): its first add meets a zero, one add is left
    assert running("|nor_conv_3x3~0|+|nor_conv_3x3~0|skip_connect~1|+|skip_connect~0|none~1|"
                   "nor_conv_1x1~2|", "add") == 15 * (1 + 1)


def test_batch_norm_after_a_convolution_is_folded_in_any_model():
    removed = converter_removed("lenet5", ["conv2d", "batchnorm2d", "relu", "batchnorm2d"])
    assert removed.tolist() == [False, True, False, False]
    # in NAS-Bench-201, every running convolution's batch norm (the head's stays) and the two
    # skip edges' identity calls of each of the 15 cells (no op of the converted graph)
    arch = "|nor_conv_3x3~0|+|nor_conv_1x1~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_1x1~1|" \
           "skip_connect~2|"
    layers = profile_model("nb201:" + arch).layers
    removed = converter_removed("nb201:" + arch, [layer.op_type for layer in layers])
    bn = np.array([layer.op_type == "batchnorm2d" for layer in layers])
    identity = np.array([layer.op_type == "identity" for layer in layers])
    assert identity.sum() == 2 * 15 and removed[identity].all()
    assert removed[bn].sum() == bn.sum() - 1 and not removed[~bn & ~identity].any()


def test_profile_in_another_block_order_is_refused():
    with pytest.raises(ValueError, match="block order"):
        converter_removed("nb201:|none~0|+|none~0|none~1|+|none~0|none~1|none~2|",
                          ["conv2d", "relu"])


def test_only_the_head_is_left_of_exactly_the_fastest_measured_networks():
    df = pd.read_csv(DATA_CSV)
    head_only = np.array([[b for b, runs in nb201_running_blocks(a) if runs] == ["head"]
                          for a in df["arch"]])
    assert head_only.sum() == 128
    for col in ("raspi4_ms", "pixel3_ms"):
        y = df[col].to_numpy()
        # all of them measure as if nothing ran (0.003-0.013 ms); every other network takes
        # more than twice the slowest of them
        assert y[head_only].max() < 0.013 and y[~head_only].min() > 2 * y[head_only].max()


def test_folding_devices_price_only_the_running_layers():
    arch = "nb201:|skip_connect~0|+|nor_conv_3x3~0|none~1|+|none~0|none~1|none~2|"
    layers = profile_model(arch).layers
    removed = converter_removed(arch, [layer.op_type for layer in layers])
    pi, titan = device_preset("raspberry-pi-4"), device_preset("titan-xp")
    full = LayerTable.from_layers([layers])
    folded = LayerTable.from_layers([layers], [removed])
    kept = LayerTable.from_layers([[l for l, r in zip(layers, removed) if not r]])
    assert network_costs(pi, folded)[0][0] == pytest.approx(network_costs(pi, kept)[0][0])
    assert network_costs(pi, folded)[0][0] < network_costs(pi, full)[0][0]
    # a device that runs the graph as written (PyTorch on the Titan Xp) ignores the removals
    assert network_costs(titan, folded)[0][0] == network_costs(titan, full)[0][0]


def test_split_edges_skip_the_layers_the_converter_removes():
    """`sim run`'s per-cut edge cost on a TensorFlow Lite edge: a folded batch norm adds no
    time, the edge-only cut costs what `sim predict` prices for the whole network, and an edge
    without a folding converter pays for every layer."""
    from hwmodels.cost import DeviceTarget
    from sim.costs import NoiseCostModel, cut_components

    arch = "nb201:|skip_connect~0|+|nor_conv_3x3~0|none~1|+|none~0|none~1|none~2|"
    graph = profile_model(arch)
    pi, tx2 = DeviceTarget(device_preset("raspberry-pi-4")), DeviceTarget(
        device_preset("jetson-tx2-cpu"))
    cloud = DeviceTarget(device_preset("titan-xp"))
    assert [layer.op_type for layer in graph.layers[:2]] == ["conv2d", "batchnorm2d"]  # stem
    on_pi = cut_components(graph, pi, cloud, NoiseCostModel("none"))
    on_tx2 = cut_components(graph, tx2, cloud, NoiseCostModel("none"))
    at = {int(k): i for i, k in enumerate(on_pi.cut)}
    assert on_pi.edge_s[at[2]] == on_pi.edge_s[at[1]] > 0          # the stem's batch norm
    assert on_tx2.edge_s[at[2]] > on_tx2.edge_s[at[1]]
    removed = converter_removed(arch, [layer.op_type for layer in graph.layers])
    whole = network_costs(device_preset("raspberry-pi-4"),
                          LayerTable.from_layers([graph.layers], [removed]))[0][0]
    assert on_pi.edge_s[at[graph.num_layers]] == pytest.approx(whole, rel=1e-9)
    # the cloud runs PyTorch's graph as profiled, whatever the edge is
    np.testing.assert_array_equal(on_pi.cloud_s, on_tx2.cloud_s)
