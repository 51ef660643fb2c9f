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
    # titan-xp: 12.1 TFLOPS at conv efficiency 0.75, 547.7 GB/s at 75 %, 45 us per conv call
    compute = 2 * 2 * CONV.macs / (12100e9 * 0.75)
    memory = (2 * (layer.input_bytes + layer.output_bytes) + layer.param_bytes) / (547.7e9 * 0.75)
    assert t == pytest.approx(max(compute, memory) + 45e-6)
    assert not math.isnan(t)


def test_views_launch_no_kernel_and_op_overheads_apply():
    dev = DeviceModel("d", "gpu", 1000.0, {"fp32": 1000.0}, 1e6, {"default": 0.5}, 10.0,
                      1.0, 0.1, launch_overhead_by_op_us={"conv2d": 30.0})
    assert dev.kernel_overhead_us("flatten") == 0.0
    assert dev.kernel_overhead_us("conv2d") == 30.0
    assert dev.kernel_overhead_us("relu") == 10.0
    flat = LayerProfile(2, "f", "flatten", ((4, 2, 2),), (16,), 0, 0, 0, 64, 64)
    assert DeviceTarget(dev).layer_cost(flat, 1, "float32").latency_s == 0.0


def test_an_op_without_kernel_costs_its_host_call_only():
    """A view or identity moves no data; where the preset prices a host call for it (PyTorch
    eager), that call is its whole latency, on the per-layer and the vectorized path alike."""
    from dataclasses import replace

    from hwmodels.netcost import LayerTable, network_costs

    dev = DeviceModel("d", "gpu", 1000.0, {"fp32": 1000.0}, 1e6, {"default": 0.5}, 10.0,
                      1.0, 0.1, call_overhead_us=4.0)
    flat = LayerProfile(2, "f", "flatten", ((4, 2, 2),), (16,), 0, 0, 0, 64, 64)
    ident = LayerProfile(3, "i", "identity", ((16,),), (16,), 0, 0, 0, 64, 64)
    relu = LayerProfile(4, "r", "relu", ((16,),), (16,), 0, 0, 0, 64, 64)
    target = DeviceTarget(dev)
    assert target.layer_cost(flat, 8, "float32").latency_s == pytest.approx(4e-6, abs=1e-15)
    assert target.layer_cost(ident, 1, "float32").latency_s == pytest.approx(4e-6, abs=1e-15)
    # relu: 16 ops at 0.5 of 1000 GFLOPS, 128 B at 1 TB/s, then its 10 us launch
    assert target.layer_cost(relu, 1, "float32").latency_s == pytest.approx(
        16 / (1000e9 * 0.5) + 10e-6)
    table = LayerTable.from_layers([[flat, ident, relu]])
    lat, _ = network_costs(dev, table, 1)
    assert lat[0] == pytest.approx(8e-6 + 16 / (1000e9 * 0.5) + 10e-6)
    assert table.kernels()[0] == 1                         # the views launch nothing
    assert network_costs(replace(dev, call_overhead_us=0.0), table, 1)[0][0] == pytest.approx(
        lat[0] - 8e-6)
    with pytest.raises(ValueError, match="call_overhead_us"):
        replace(dev, call_overhead_us=-1.0)
    assert device_preset("titan-xp").call_overhead_us == 5.0
    assert device_preset("raspberry-pi-4").call_overhead_us == 0.0    # TensorFlow Lite


def test_power_law_efficiency_by_hand():
    reg = Regression("power", 0.5, 0.1, 1e-3, 0.9)
    assert reg(1e9) == pytest.approx(0.5)
    assert reg(1e7) == pytest.approx(0.5 * 0.01 ** 0.1)
    assert reg(1e15) == pytest.approx(0.9)                 # clipped
    with pytest.raises(ValueError, match="power form"):
        Regression("power", 0.0, 0.1, 1e-3, 1.0)


@pytest.mark.parametrize("device", ["titan-xp", "raspberry-pi-4", "jetson-tx2-gpu"])
def test_vectorized_networks_equal_the_per_layer_sum(device):
    """hwmodels.netcost prices many networks at once: it must equal summing layer_cost."""
    import numpy as np

    from hwmodels.cost import layer_costs
    from hwmodels.netcost import LayerTable, network_costs
    from partitioner.profile import profile_model

    graphs = [profile_model(m) for m in ("lenet5", "cifar10")] + [profile_model(
        "nb201:|nor_conv_3x3~0|+|nor_conv_1x1~0|avg_pool_3x3~1|+|skip_connect~0|none~1|"
        "nor_conv_3x3~2|")]
    dev = device_preset(device)
    table = LayerTable.from_layers([g.layers for g in graphs])
    for batch in (1, 8):
        lat, en = network_costs(dev, table, batch)
        for k, g in enumerate(graphs):
            costs = layer_costs(DeviceTarget(dev), g.layers, batch, "float32")
            assert lat[k] == pytest.approx(sum(c.latency_s for c in costs), rel=1e-9)
            assert en[k] == pytest.approx(sum(c.energy_j for c in costs), rel=1e-9)
    # one batch size per network, and a re-ordered selection with repeats
    sel = table.select([2, 0, 0])
    lat, _ = network_costs(dev, sel, np.array([1, 8, 1]))
    assert lat[0] == pytest.approx(network_costs(dev, table, 1)[0][2])
    assert lat[1] == pytest.approx(network_costs(dev, table, 8)[0][0])
    assert lat[2] == pytest.approx(network_costs(dev, table, 1)[0][0])


def test_networks_running_the_same_layers_in_another_order_tie_exactly():
    """Each distinct layer is priced once and counted per network: the same multiset of
    layers gives bit-identical latency whatever its order, so rank statistics see a tie
    (summing in layer order, float rounding would break it arbitrarily)."""
    import numpy as np

    from hwmodels.netcost import LayerTable, network_costs
    from partitioner.profile import profile_model

    layers = profile_model("cifar10").layers
    order = np.random.default_rng(0).permutation(len(layers))
    table = LayerTable.from_layers([layers, [layers[i] for i in order], layers[:3]])
    kinds = table.kinds
    distinct = {(layer.op_type, layer.macs, layer.output_shape, layer.input_bytes,
                 layer.output_bytes, layer.param_bytes) for layer in layers}
    assert kinds.layers.n_networks <= len(distinct)
    assert kinds.all.sum(axis=1).A1.tolist() == [len(layers), len(layers), 3]
    for device in ("titan-xp", "raspberry-pi-4"):
        lat, en = network_costs(device_preset(device), table, 4)
        assert lat[0] == lat[1] and en[0] == en[1] and 0 < lat[2] < lat[0]
