"""`sim devices` for accelerators: every figure with its value and source, and the whole-chip
figures the models derive from per-PE and per-KiB fields."""
import pytest

from hwmodels.catalog import devices_table


@pytest.fixture(scope="module")
def accelerators():
    return {r.name: r for r in devices_table() if r.category == "accelerators"}


def test_every_accelerator_figure_has_value_and_source(accelerators):
    assert set(accelerators) >= {"eyeriss", "systolic", "bitfusion"}
    for row in accelerators.values():
        assert row.sources and set(row.values) == set(row.sources)
        assert all(s.strip() for s in row.sources.values())
        assert not any("reference/" in s for s in row.sources.values())   # primary sources
    assert accelerators["eyeriss"].values["global_buffer_kib"] == 108
    assert accelerators["eyeriss"].values["pool_mapping"] == "dense_conv"


def test_derived_whole_chip_figures(accelerators):
    sys_ = accelerators["systolic"].derived
    assert sys_["num_pes"] == 65536
    # 13.16 W + 65,536 x 0.1025 mW + 28,672 KiB x 0.2832 mW: the TPU's 28 W idle.
    assert sys_["array_static_power_w"] == pytest.approx(13.16 + 6.7174 + 8.1199, rel=1e-4)
    assert sys_["total_area_mm2"] == pytest.approx(155.6 + 79.30 + 96.05, rel=1e-3)
    assert accelerators["eyeriss"].derived == {"num_pes": 168.0}


def test_devices_command_prints_values_and_sources(accelerators, capsys):
    from sim.commands import cmd_devices
    assert cmd_devices(None) == 0
    out = capsys.readouterr().out
    assert "    rows = 256: Jouppi et al. 2017 abstract" in out
    assert "derived: num_pes=6.554e+04, array_static_power_w=28" in out
