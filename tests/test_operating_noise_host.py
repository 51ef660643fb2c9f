"""Accelerator edges price Shredder's kernel on the CPU preset their preset names (`noise_host`)."""
import pytest

from core.errors import UserError
from hwmodels.accel import accelerator_target
from hwmodels.cost import DeviceTarget
from hwmodels.presets import device_preset, load_raw
from noise.cost import noise_host_target
from partitioner.profile import profile_model
from sim.costs import NoiseCostModel, cut_components

HOSTS = {"eyeriss": "pixel-3", "bitfusion": "pixel-3", "systolic": "xeon-gold-6240"}


@pytest.mark.parametrize("name", sorted(HOSTS))
def test_every_accelerator_preset_names_a_cpu_host_with_a_source(name):
    raw, _ = load_raw("accelerators", name)
    assert raw["noise_host"] == HOSTS[name]
    assert device_preset(HOSTS[name]).kind == "cpu"     # the kernel is CPU code
    host = noise_host_target(accelerator_target(name))
    assert isinstance(host, DeviceTarget) and host.name == HOSTS[name]


def test_noise_on_an_eyeriss_edge_is_priced_on_its_host_not_on_the_array():
    g = profile_model("lenet5")
    noise = NoiseCostModel("shredder", collection_size=10)
    edge = accelerator_target("eyeriss")
    comp = cut_components(g, edge, edge, noise)
    host = DeviceTarget(device_preset("pixel-3"))
    priced = 0
    for i, cut in enumerate(g.cuts):
        if not noise.applies(cut, g.num_layers):
            assert comp.noise_s[i] == 0
            continue
        layer = noise.layer(cut, "float32")
        on_host = host.layer_cost(layer, 1, "float32")
        on_array = edge.layer_cost(layer, 1, "float32")
        assert comp.noise_s[i] == pytest.approx(on_host.latency_s)
        assert comp.noise_j[i] == pytest.approx(on_host.energy_j)
        # at the host CPU's power, not the array's 278 mW
        assert comp.noise_j[i] / comp.noise_s[i] == pytest.approx(host.active_power_w)
        assert on_host.latency_s != pytest.approx(on_array.latency_s)
        priced += 1
    assert priced > 0


def test_noise_host_can_be_overridden_and_a_typo_names_the_key():
    edge = accelerator_target("systolic", {"noise_host": "raspberry-pi-4"})
    assert noise_host_target(edge).name == "raspberry-pi-4"
    inline = accelerator_target("eyeriss", {"noise_host": None})
    assert noise_host_target(inline) is inline         # no host: priced on the array itself
    with pytest.raises(UserError, match='noise_host: unknown device .*"eyeriss"'):
        noise_host_target(accelerator_target("eyeriss", {"noise_host": "pixel-33"}))
