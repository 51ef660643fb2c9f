"""workload.compute_dtype sets the arithmetic, activation_dtype only what is sent."""
import pytest

from hwmodels.cost import DeviceTarget
from hwmodels.device import DeviceModel
from partitioner.profile import profile_model
from sim.costs import ComputeDtypes, NoiseCostModel, cut_components, quantize_layer

DEV = DeviceModel(name="toy", kind="gpu", clock_mhz=1000,
                  peak_gflops={"fp32": 100.0, "fp16": 200.0}, memory_bandwidth_gbps=10.0,
                  efficiency={"default": 0.5}, launch_overhead_us=10.0, active_power_w=5.0,
                  idle_power_w=1.0)
NONE = NoiseCostModel("none")


def comps(activation_dtype, compute=None):
    g = profile_model("lenet5", activation_dtype=activation_dtype)
    return g, cut_components(g, DeviceTarget(DEV), DeviceTarget(DEV), NONE, 1, compute)


def test_default_compute_dtype_is_the_activation_dtype():
    _, a = comps("float16")
    _, b = comps("float16", ComputeDtypes("float16", "float16"))
    assert (a.edge_s == b.edge_s).all() and (a.cloud_s == b.cloud_s).all()


def test_float16_payload_with_float32_arithmetic():
    g32, c32 = comps("float32")
    g16, c16 = comps("float16", ComputeDtypes.of("float32"))
    L = g16.num_layers
    # the payload halves (cut 0 keeps the raw uint8 input) ...
    inner = (c16.cut > 0) & (c16.cut < L)
    assert (c16.up_bytes[inner] * 2 == c32.up_bytes[inner]).all()
    # ... the cloud computes exactly as at float32 ...
    assert c16.cloud_s == pytest.approx(c32.cloud_s, rel=1e-12)
    # ... and the edge as at float32 plus converting the activation before sending it
    for i, cut in enumerate(g16.cuts):
        extra = 0.0
        if 0 < cut.cut < L:
            n = cut.sent_elements
            # one op per element at 50 GFLOP/s vs (4 + 2) bytes per element at 10 GB/s
            extra = max(n / 50e9, 6 * n / 10e9) + 10e-6
            assert DeviceTarget(DEV).layer_cost(quantize_layer(cut, "float32", "float16"), 1,
                                                "float32").latency_s == pytest.approx(extra)
        assert c16.edge_s[i] == pytest.approx(c32.edge_s[i] + extra, rel=1e-12)


def test_edge_and_cloud_may_differ():
    _, c32 = comps("float32")
    _, mixed = comps("float32", ComputeDtypes(edge="float16", cloud="float32"))
    _, all16 = comps("float32", ComputeDtypes.of("float16"))
    assert mixed.cloud_s == pytest.approx(c32.cloud_s, rel=1e-12)
    assert mixed.cloud_s.sum() > all16.cloud_s.sum()       # fp16 is twice the peak here
    with pytest.raises(ValueError, match="edge"):
        ComputeDtypes(edge="float7")
