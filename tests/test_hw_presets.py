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
