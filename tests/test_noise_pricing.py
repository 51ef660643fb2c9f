"""Noise priced where it runs (the edge's CPU cores) and the collection's storage on the edge."""
import pytest

from hwmodels.cost import DeviceTarget
from hwmodels.presets import device_preset
from noise.cost import collection_bytes, noise_host_target
from partitioner.profile import profile_model
from sim.costs import NoiseCostModel, cut_components


def tx2_gpu(mode="maxn"):
    return DeviceTarget(device_preset("jetson-tx2-gpu").with_power_mode(mode))


def test_tx2_gpu_runs_the_kernel_on_its_arm_cores_at_the_same_power_mode():
    for mode in ("maxn", "maxq"):
        host = noise_host_target(tx2_gpu(mode))
        assert host.name == "jetson-tx2-cpu" and host.device.power_mode == mode
    cpu = DeviceTarget(device_preset("jetson-tx2-cpu"))
    assert noise_host_target(cpu) is cpu                # a CPU edge uses its own cores


def test_noise_latency_and_energy_are_the_cpu_roofline_of_the_kernel():
    g = profile_model("lenet5")
    noise = NoiseCostModel("shredder", collection_size=10)
    edge = tx2_gpu()
    comp = cut_components(g, edge, edge, noise)
    cpu = DeviceTarget(device_preset("jetson-tx2-cpu").with_power_mode("maxn"))
    for i, cut in enumerate(g.cuts):
        if not noise.applies(cut, g.num_layers):
            assert comp.noise_s[i] == 0 and comp.noise_storage_bytes[i] == 0
            continue
        expected = cpu.layer_cost(noise.layer(cut, "float32"), 1, "float32")
        assert comp.noise_s[i] == pytest.approx(expected.latency_s)
        assert comp.noise_j[i] == pytest.approx(expected.energy_j)
        # at the ARM cores' power (9 W in MAXN), not the GPU module's 15 W
        assert comp.noise_j[i] / comp.noise_s[i] == pytest.approx(cpu.active_power_w)
        # 10 tuples of two int64 orders over the activation, and 32 B of Laplace parameters
        assert comp.noise_storage_bytes[i] == 10 * (2 * 8 * cut.sent_elements + 32)


def test_vgg16_cut5_collection_is_1_28_gb_at_100_tuples():
    """The issue's figure: VGG-16 cut 5 (64 x 112 x 112 after the first pool) with 100 tuples
    needs 100 x (2 x 8 B x 802,816 + 32 B) = 1.28 GB on the edge."""
    assert collection_bytes(64 * 112 * 112, 100, "exact") / 1e9 == pytest.approx(1.2845, abs=1e-3)
    assert collection_bytes(64 * 112 * 112, 100, "quantized", 8) < 0.2e9
