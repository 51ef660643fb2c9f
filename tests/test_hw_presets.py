"""Every preset number carries a source; every required preset exists and builds."""
from pathlib import Path

import pytest
import yaml

from hwmodels.catalog import devices_table
from hwmodels.presets import PRESET_DIR, all_presets, strip_sources

REQUIRED = {
    "devices": {"jetson-tx2-gpu", "jetson-tx2-cpu", "titan-xp", "i9-7920x"},
    "accelerators": {"eyeriss", "systolic", "bitfusion"},
    "links": {"wifi", "lte", "3g", "5g-lowband", "5g-mmwave", "ethernet"},
}
PRESET_FILES = sorted(PRESET_DIR.glob("*/*.yaml"))


def test_required_presets_exist():
    have = all_presets()
    for cat, names in REQUIRED.items():
        assert names <= set(have[cat]), (cat, names - set(have[cat]))


@pytest.mark.parametrize("path", PRESET_FILES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_every_number_has_a_source(path: Path):
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    _, sources, unsourced = strip_sources(raw)
    assert unsourced == [], f"{path.name}: numbers without a source: {unsourced}"
    assert all(s.strip() for s in sources.values()), "empty source text"


def test_unsourced_number_is_detected():
    # The check above must be able to fail: a bare number is reported with its key path.
    _, _, unsourced = strip_sources({"a": {"value": 1, "source": "x"}, "b": {"c": 2.5}})
    assert unsourced == ["b.c"]


def test_catalog_lists_every_preset_with_sources():
    rows = devices_table()
    names = {(r.category, r.name) for r in rows}
    for cat, req in REQUIRED.items():
        assert {(cat, n) for n in req} <= names
    tx2 = next(r for r in rows if r.name == "jetson-tx2-gpu")
    assert set(tx2.power_modes) == {"maxn", "maxq", "maxp-core-all", "maxp-core-arm",
                                    "maxp-core-denver"}
    assert all(r.sources for r in rows)


NEW_DEVICES = {"raspberry-pi-4", "pixel-3", "xeon-gold-6240", "gtx-1080-ti", "jetson-nano",
               "jetson-xavier-nx", "jetson-agx-orin", "a100", "h100", "v100", "rtx-2080-ti",
               "titan-rtx", "xeon-gold-6226", "xeon-silver-4114", "xeon-silver-4210r"}


def test_measured_and_current_devices_exist_and_build():
    from hwmodels.presets import device_preset
    assert NEW_DEVICES <= set(all_presets()["devices"])
    # vendor peaks (datasheets) the presets must carry, GFLOPS FP32
    peaks = {"gtx-1080-ti": 11340, "a100": 19500, "h100": 67000, "jetson-agx-orin": 5325,
             "v100": 15700, "titan-rtx": 16300, "rtx-2080-ti": 13450,
             # cores x GHz x FP32 lanes x 2 x AVX-512 FMA units (Intel ARK)
             "xeon-gold-6226": 12 * 2.7 * 16 * 2 * 2, "xeon-silver-4114": 10 * 2.2 * 16 * 2,
             "xeon-silver-4210r": 10 * 2.4 * 16 * 2}
    for name, peak in peaks.items():
        assert device_preset(name).peak_gflops["fp32"] == pytest.approx(peak, rel=0.01)
    orin = device_preset("jetson-agx-orin")
    assert set(orin.power_modes) == {"maxn", "50w", "30w", "15w"}
    assert orin.with_power_mode("15w").peak_flops("float32") < orin.peak_flops("float32")


def test_preset_file_usable_by_path(tmp_path):
    from core.registry import UnknownNameError
    from hwmodels.presets import device_preset
    from sim.config import load_scenario

    src = (PRESET_DIR / "devices" / "titan-xp.yaml").read_text()
    board = tmp_path / "my-board.yaml"
    board.write_text(src.replace("name: titan-xp", "name: my-board").replace(
        "value: 12100,", "value: 6050,"))
    assert device_preset(str(board)).peak_gflops["fp32"] == 6050
    config = tmp_path / "cfg.yaml"
    config.write_text("workload: {model: lenet5}\nedge: {device: my-board.yaml}\n"
                      "link: {preset: wifi}\ncloud: {device: my-board.yaml}\n")
    scenario = load_scenario(config)        # relative to the config's folder
    assert scenario.edge.name == "my-board" and scenario.cloud.name == "my-board"
    assert scenario.sources["cloud.device.peak_gflops.fp32"].startswith("vendor")
    with pytest.raises(UnknownNameError, match="not found"):
        device_preset(str(tmp_path / "missing.yaml"))


def test_titan_xp_vgg16_matches_the_published_measurement():
    """PaddlePaddle's public float16 benchmark page gives 5.79 ms for VGG-16 at batch 1 in
    FP32 on a Titan Xp (its flowers data: 102 classes); the uncalibrated preset must be within
    20 %."""
    from hwmodels.netcost import LayerTable, network_costs
    from hwmodels.presets import device_preset
    from partitioner.profile import profile_model

    table = LayerTable.from_layers([profile_model("vgg16", num_classes=102).layers])
    latency_ms = network_costs(device_preset("titan-xp"), table, 1)[0][0] * 1e3
    assert latency_ms == pytest.approx(5.79, rel=0.20)
