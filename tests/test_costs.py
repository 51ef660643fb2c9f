"""Closed-form per-cut costs: hand-computed roofline and link figures, breakdown invariants."""
import numpy as np
import pytest

from hwmodels.cost import DeviceTarget
from hwmodels.device import DeviceModel, layer_latency_s
from hwmodels.link import LinkModel
from hwmodels.netcost import LayerTable, network_costs
from hwmodels.presets import device_preset, link_preset
from partitioner.profile import profile_model
from partitioner.types import ConvShape, LayerProfile
from sim.costs import NoiseCostModel
from sim.table import cut_costs, energy_breakdown

DEV = DeviceModel(name="toy", kind="gpu", clock_mhz=1000, peak_gflops={"fp32": 100.0},
                  memory_bandwidth_gbps=10.0, efficiency={"conv2d": 0.5, "default": 0.25},
                  launch_overhead_us=10.0, active_power_w=5.0, idle_power_w=1.0)
LINK = LinkModel(name="toy", uplink_mbps=8.0, downlink_mbps=16.0, rtt_ms=20.0,
                 alpha_up_mw_per_mbps=100.0, alpha_down_mw_per_mbps=50.0, beta_mw=200.0)


def conv_layer():
    conv = ConvShape(16, 32, 8, 8, 8, 8, 3, 3)
    return LayerProfile(index=1, name="c", op_type="conv2d", input_shapes=((16, 8, 8),),
                        output_shape=(32, 8, 8), macs=conv.macs, params=conv.weight_elements,
                        param_bytes=conv.weight_elements * 4, input_bytes=16 * 64 * 4,
                        output_bytes=32 * 64 * 4, conv=conv)


def test_roofline_compute_bound_layer_by_hand():
    layer = conv_layer()
    flops = 2 * 32 * 64 * 16 * 9                   # 589,824
    compute_s = flops / (100e9 * 0.5)              # 11.8 us
    memory_s = (4096 + 8192 + 4608 * 4) / 10e9     # 3.1 us
    assert compute_s > memory_s
    assert layer_latency_s(DEV, layer, 1, "float32") == pytest.approx(compute_s + 10e-6)
    # a batch re-reads activations but not weights
    assert layer_latency_s(DEV, layer, 4, "float32") == pytest.approx(4 * compute_s + 10e-6)


def test_roofline_memory_bound_elementwise_layer_by_hand():
    relu = LayerProfile(index=2, name="r", op_type="relu", input_shapes=((32, 8, 8),),
                        output_shape=(32, 8, 8), macs=0, params=0, param_bytes=0,
                        input_bytes=8192, output_bytes=8192)
    compute_s = 2048 / (100e9 * 0.25)
    memory_s = 16384 / 10e9
    assert layer_latency_s(DEV, relu, 1, "float32") == pytest.approx(
        max(compute_s, memory_s) + 1e-5)


@pytest.mark.parametrize("op_type, cost_s", [
    ("unflatten", 0.0), ("getitem", 0.0), ("expand", 0.0), ("flatten", 0.0),
    # a transpose is the copy its consumer makes: bytes moved plus one launch
    ("transpose", 16384 / 10e9 + 1e-5)])
def test_views_launch_no_kernel(op_type, cost_s):
    """BERT's head split (`unflatten`) and a tuple element (`getitem`) are views in PyTorch."""
    view = LayerProfile(index=3, name="v", op_type=op_type, input_shapes=((32, 8, 8),),
                        output_shape=(32, 8, 8), macs=0, params=0, param_bytes=0,
                        input_bytes=8192, output_bytes=8192)
    assert layer_latency_s(DEV, view, 1, "float32") == pytest.approx(cost_s)


@pytest.mark.parametrize("op_type, efficiency", [
    ("matmul", 0.25), ("multiheadattention", 0.25), ("conv1d", 0.5), ("softmax", None)])
def test_mac_op_types_a_preset_does_not_name_take_the_gemm_or_conv_efficiency(op_type,
                                                                            efficiency):
    """An attention product is a GEMM: the preset's `linear` efficiency, not `default` (the
    elementwise loops'); a 1-d convolution takes `conv2d`'s."""
    dev = DeviceModel(name="toy", kind="cpu", clock_mhz=1000, peak_gflops={"fp32": 100.0},
                      memory_bandwidth_gbps=10.0,
                      efficiency={"conv2d": 0.5, "linear": 0.25, "default": 0.25 / 4},
                      launch_overhead_us=0.0, active_power_w=5.0, idle_power_w=1.0)
    expected = efficiency or 0.25 / 4               # not a product: `default`
    assert dev.op_efficiency(op_type, 1e9) == expected
    layers = [LayerProfile(index=1, name="m", op_type=op_type, input_shapes=((64, 64),),
                           output_shape=(64, 64), macs=64 ** 3, params=0, param_bytes=0,
                           input_bytes=64 * 64 * 4, output_bytes=64 * 64 * 4)]
    latency_s = network_costs(dev, LayerTable.from_layers([layers]))[0][0]
    assert latency_s == pytest.approx(2 * 64 ** 3 / (100e9 * expected))


def test_link_energy_by_hand():
    payload = 1_000_000                            # 8 Mbit at 8 Mbps: one second
    assert LINK.uplink_transmit_s(payload) == pytest.approx(1.0)
    assert LINK.uplink_latency_s(payload) == pytest.approx(1.01)
    assert LINK.uplink_energy_j(payload) == pytest.approx((100 * 8 + 200) * 1e-3)
    assert LINK.downlink_energy_j(payload) == pytest.approx((50 * 16 + 200) * 1e-3 * 0.5)


def test_lte_tail_and_promotion_are_paid_once_per_isolated_request():
    lte = link_preset("lte")
    assert lte.tail_energy_j == pytest.approx(0.3201 * 11.576)         # 320.1 mW for 11.576 s
    g = profile_model("lenet5")
    df = cut_costs(g, DeviceTarget(DEV), DeviceTarget(DEV), lte, NoiseCostModel("none"))
    row = df.iloc[0]
    up = lte.uplink_energy_j(28 * 28) + lte.downlink_energy_j(40)
    expected_mj = (up + lte.promotion_energy_j + lte.tail_energy_j) * 1e3
    assert row["comm_mj"] == pytest.approx(expected_mj)
    assert row["uplink_ms"] == pytest.approx(lte.promotion_ms + lte.uplink_latency_s(784) * 1e3)


@pytest.fixture(scope="module")
def vgg_costs():
    g = profile_model("vgg16")
    edge = DeviceTarget(device_preset("jetson-tx2-gpu").with_power_mode("maxn"))
    cloud = DeviceTarget(device_preset("titan-xp"))
    return g, cut_costs(g, edge, cloud, link_preset("wifi"), NoiseCostModel("shredder"))


def test_breakdown_rows_sum_to_totals_and_cloud_only_is_one(vgg_costs):
    g, results = vgg_costs
    bd = energy_breakdown(results)
    assert len(bd) == len(g.cuts)
    np.testing.assert_allclose(bd["edge_mj"] + bd["comm_mj"] + bd["cloud_mj"],
                               results["total_mj"], rtol=1e-12)
    np.testing.assert_allclose(bd["edge_norm"] + bd["comm_norm"] + bd["cloud_norm"],
                               bd["total_norm"], rtol=1e-12)
    assert bd.loc[bd["cut"] == 0, "total_norm"].item() == pytest.approx(1.0, abs=1e-12)
    np.testing.assert_allclose(results["latency_ms"],
                               results[["edge_compute_ms", "noise_ms", "uplink_ms",
                                        "cloud_compute_ms", "downlink_ms"]].sum(axis=1))


def test_cut_extremes(vgg_costs):
    g, results = vgg_costs
    cloud_only, edge_only = results.iloc[0], results.iloc[-1]
    assert cloud_only["edge_compute_mj"] == 0 and cloud_only["noise_ms"] == 0
    assert cloud_only["sent_bytes"] == 3 * 224 * 224
    assert edge_only["cloud_compute_mj"] == 0 and edge_only["downlink_ms"] == 0
    assert edge_only["noise_ms"] == 0                      # nothing private leaves the edge
    # edge compute grows and cloud compute shrinks monotonically along the chain
    assert np.all(np.diff(results["edge_compute_mj"]) >= 0)
    assert np.all(np.diff(results["cloud_compute_mj"]) <= 1e-12)
    assert results[["accuracy", "snr_db", "mi_bits"]].isna().all().all()


def test_power_mode_ordering_on_vgg16():
    g = profile_model("vgg16")
    tx2 = device_preset("jetson-tx2-gpu")
    maxn, maxq = tx2.with_power_mode("maxn"), tx2.with_power_mode("maxq")
    lat = {m: sum(layer_latency_s(d, l, 1, "float32") for l in g.layers)
           for m, d in (("maxn", maxn), ("maxq", maxq))}
    assert lat["maxn"] < lat["maxq"]
    assert lat["maxq"] * maxq.active_power_w < lat["maxn"] * maxn.active_power_w
