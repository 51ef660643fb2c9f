"""Roofline devices: power modes (V/f scaling), saturating efficiency, energy per MAC."""
import math

import pytest

from hwmodels.cost import DeviceTarget
from hwmodels.device import DeviceModel, PowerMode, Regression
from hwmodels.presets import device_preset
from partitioner.types import ConvShape, LayerProfile

CONV = ConvShape(256, 256, 56, 56, 56, 56, 3, 3)


def conv_layer(shape=CONV) -> LayerProfile:
    return LayerProfile(1, "c", "conv2d", ((shape.in_channels, shape.in_h, shape.in_w),),
                        (shape.out_channels, shape.out_h, shape.out_w), shape.macs,
                        shape.weight_elements, 4 * shape.weight_elements,
                        4 * shape.in_channels * shape.in_h * shape.in_w,
                        4 * shape.out_channels * shape.out_h * shape.out_w, shape)


@pytest.mark.parametrize("name", ["jetson-tx2-gpu", "jetson-tx2-cpu"])
def test_power_mode_ordering(name):
    dev = device_preset(name)
    layer = conv_layer()
    cost = {m: DeviceTarget(dev.with_power_mode(m)).layer_cost(layer, 1, "float32")
            for m in ("maxn", "maxq")}
    assert cost["maxn"].latency_s < cost["maxq"].latency_s
    # Energy per MAC: MAXQ trades speed for efficiency.
    assert cost["maxq"].energy_j / layer.macs < cost["maxn"].energy_j / layer.macs


def test_mode_power_follows_v_f_scaling():
    dev = DeviceModel("d", "gpu", 1000.0, {"fp32": 100.0}, 10.0, {"default": 0.5}, 0.0,
                      active_power_w=10.0, idle_power_w=1.0, static_power_w=2.0,
                      power_modes={"half": PowerMode(500.0, voltage_ratio=0.8,
                                                     cores_fraction=0.5)})
    m = dev.with_power_mode("half")
    # static 2 x 0.8 x 0.5 + dynamic 8 x 0.5 x 0.8^2 x 0.5, by hand:
    assert m.active_power_w == pytest.approx(0.8 + 1.28)
    assert m.idle_power_w == pytest.approx(1.0 * 0.8 * 0.5)
    assert m.peak_gflops["fp32"] == pytest.approx(100.0 * 0.5 * 0.5)


def test_vendor_mode_power_is_kept():
    gpu = device_preset("jetson-tx2-gpu")
    assert gpu.with_power_mode("maxq").active_power_w == 7.5
    assert gpu.with_power_mode("maxn").active_power_w == 15.0


def test_unknown_power_mode_lists_known():
    with pytest.raises(ValueError, match="known: maxn"):
        device_preset("jetson-tx2-gpu").with_power_mode("turbo")


def test_log_efficiency_saturates():
    reg = Regression("log", intercept=-0.5, slope=0.1, lower=0.05, upper=0.6)
    assert reg(1e3) == pytest.approx(0.05)                  # floor
    assert reg(1e8) == pytest.approx(-0.5 + 0.8)            # on the line
    assert reg(1e15) == pytest.approx(0.6)                  # saturated
    dev = DeviceModel("d", "gpu", 1000.0, {"fp32": 1000.0}, 1e6, {"default": 0.5}, 0.0,
                      1.0, 0.1, efficiency_fit={"conv2d": reg})
    assert dev.op_efficiency("conv2d", 1e8) == pytest.approx(0.3)
    assert dev.op_efficiency("relu", 1e8) == 0.5
    with pytest.raises(ValueError, match="efficiency_fit"):
        DeviceModel("d", "gpu", 1000.0, {"fp32": 1.0}, 1.0, {"default": 0.5}, 0.0, 1.0, 0.1,
                    efficiency_fit={"conv2d": Regression("log", 0, 0, 0.0, 0.5)})


def test_roofline_latency_by_hand():
    dev = device_preset("titan-xp")
    layer = conv_layer()
    t = DeviceTarget(dev).layer_cost(layer, 2, "float32").latency_s
    compute = 2 * 2 * CONV.macs / (12100e9 * 0.50)
    memory = (2 * (layer.input_bytes + layer.output_bytes) + layer.param_bytes) / 547.7e9
    assert t == pytest.approx(max(compute, memory) + 8e-6)
    assert not math.isnan(t)
