"""`sim devices`: every preset with its key figures and their sources."""
from __future__ import annotations

from dataclasses import dataclass, field

from hwmodels.presets import CATEGORIES, all_presets, build_model, load_raw

# Key figures shown per category (the full source table is in every row's `sources`).
KEY_FIELDS = {
    "devices": ("peak_gflops.fp32", "memory_bandwidth_gbps", "active_power_w", "idle_power_w"),
    "accelerators": ("clock_mhz", "pe_rows", "pe_cols", "rows", "cols", "dataflow",
                     "energy_per_mac_pj", "active_power_w"),
    "links": ("uplink_mbps", "downlink_mbps", "rtt_ms", "alpha_up_mw_per_mbps", "beta_mw",
              "tail_ms"),
}


# Properties of accelerator models shown beside their preset figures by `sim devices`.
DERIVED_FIGURES = ("num_pes", "array_static_power_w", "total_area_mm2")


@dataclass(frozen=True)
class PresetRow:
    name: str
    category: str
    kind: str
    figures: dict[str, object]          # key path -> value
    sources: dict[str, str]             # key path -> source (every number of the preset)
    power_modes: tuple[str, ...] = ()
    values: dict[str, object] = field(default_factory=dict)   # key path -> value, per source
    derived: dict[str, float] = field(default_factory=dict)   # figures the model computes


def _get(values: dict, dotted: str):
    node = values
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def _derived(model: object) -> dict[str, float]:
    """Whole-chip figures an accelerator model computes from its per-PE and per-KiB fields."""
    out = {}
    for name in DERIVED_FIGURES:
        value = getattr(model, name, None)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            out[name] = float(value)
    return out


def devices_table() -> list[PresetRow]:
    """One row per preset of every category, sorted by category then name. Presets that do
    not build raise ValueError naming the file (a broken preset is a bug, not a user error)."""
    rows = []
    for cat, names in all_presets().items():
        for name in names:
            values, sources = load_raw(cat, name)
            obj, problems = build_model(cat, values, f"{cat}/{name}.yaml")
            if problems:
                raise ValueError("; ".join(problems))
            figures = {k: _get(values, k) for k in KEY_FIELDS.get(cat, ())
                       if _get(values, k) is not None}
            kind = str(values.get("kind", CATEGORIES[cat].what))
            modes = tuple(sorted(getattr(obj, "power_modes", {}) or {}))
            values_by_key = {k: _get(values, k) for k in sources}
            rows.append(PresetRow(name, cat, kind, figures, dict(sources), modes, values_by_key,
                                  _derived(obj)))
    return rows
