"""The work of one chunk of configurations, as a picklable task for any executor.

Cost-only chunks take the vectorized path: configurations are grouped by everything except
the swept link fields, `cut_components` runs once per group, and the link costs at the
operating point (`sim.operating_costs`) run once per group on a link model whose fields are
NumPy columns (one row per configuration), so the arithmetic is the link model's own, element
by element, and equals the per-configuration path.
Other chunks run each configuration through `run_scenario` (simulation and privacy included).
"""
from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from typing import Any

import numpy as np

from sim.config import build_scenario
from sim.costs import ComputeDtypes, NoiseCostModel, cut_components
from sim.operating_costs import headline_link_costs
from sim.run import evaluate_scenario
from sim.table import cost_columns
from sim.sweep.rows import (FLOAT_FORMAT, SWEEP_COLUMNS, config_prefix, csv_field, fmt_float,
                             frame_rows)
from sim.sweep.validate import (Assignments, apply, graph_for, group_key, numeric_fields,
                                replaced_link)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ChunkTask:
    chunk: int
    base: dict
    configs: tuple[tuple[int, Assignments], ...]     # (configuration index, assignments)
    link_keys: frozenset[str]
    cost_only: bool
    privacy: bool


# Full-precision figures kept beside each part's text for best-cut and Pareto analysis
# (edge_energy_mj: device_mj, what the battery pays: compute, noise, radio, idle waiting).
# within_budget is 1, 0 or NaN (not evaluated); saturated 1 or 0: the energies of a saturated
# row are kept, and the analysis decides whether it counts (Objective.include_saturated).
ANALYSIS_COLUMNS = ("config", "cut", "latency_ms", "total_mj", "edge_energy_mj",
                    "accuracy_loss_pct", "mi_loss_pct", "within_budget", "saturated")


COST_ONLY_NOTE = "privacy columns: not evaluated (cost-only sweep)"


@dataclass(frozen=True)
class ChunkResult:
    chunk: int
    text: str                     # sweep.csv rows, by configuration index then cut
    figures: np.ndarray           # (rows, len(ANALYSIS_COLUMNS)) float64, same row order
    privacy_notes: tuple[str, ...]   # the distinct provenance sentences of the chunk's rows


def run_chunk(task: ChunkTask) -> ChunkResult:
    if task.cost_only:
        text, figures = cost_rows(task.base, task.configs, task.link_keys)
        return ChunkResult(task.chunk, text, figures, (COST_ONLY_NOTE,))
    parts = [scenario_rows(task.base, i, a, task.privacy) for i, a in task.configs]
    text = "".join(t for t, _, _ in parts)
    figures = np.concatenate([f for _, f, _ in parts]) if parts else _empty()
    return ChunkResult(task.chunk, text, figures, tuple(dict.fromkeys(n for _, _, n in parts)))


def _empty() -> np.ndarray:
    return np.empty((0, len(ANALYSIS_COLUMNS)))


def figures_of(index: int, cut, latency_ms, total_mj, edge_energy_mj, accuracy_loss_pct,
               mi_loss_pct, within_budget, saturated) -> np.ndarray:
    cols = np.broadcast_arrays(float(index), *(np.asarray(c, dtype=float) for c in (
        cut, latency_ms, total_mj, edge_energy_mj, accuracy_loss_pct, mi_loss_pct,
        within_budget, saturated)))
    return np.stack([c.ravel() for c in cols], axis=1)


# ----------------------------------------------------------------------------- per configuration
def scenario_rows(base: dict, index: int, assignments: Assignments,
                  privacy: bool) -> tuple[str, np.ndarray, str]:
    # the sweep keeps only the results table and the privacy provenance sentence: nothing is
    # written per configuration
    scenario = build_scenario(apply(base, assignments))
    ev = evaluate_scenario(scenario, privacy=privacy)
    r = ev.results
    text = frame_rows(config_prefix(index, [v for _, v in assignments]), r)
    # the accuracy budget as the run judged it on test: 1 within, 0 over, NaN not evaluated
    budget = (r["within_budget"].map({True: 1.0, False: 0.0}).astype(float)
              if "within_budget" in r else np.nan)
    return text, figures_of(index, r["cut"], r["latency_ms"], r["total_mj"], r["device_mj"],
                            r["accuracy_loss_pct"], r["mi_loss_pct"], budget,
                            r["saturated"].astype(bool)), ev.privacy_note


# ----------------------------------------------------------------------------- vectorized
def stacked_link(links: list[Any]) -> Any:
    """One link model whose fields that differ between `links` are (n, 1) columns, built
    without re-checking (each row was checked when its own model was built)."""
    rep = links[0]
    stacked = object.__new__(type(rep))
    numeric = numeric_fields(rep)
    for f in dataclasses.fields(rep):
        value = getattr(rep, f.name)
        if f.name in numeric and any(getattr(link, f.name) != value for link in links):
            value = np.array([getattr(link, f.name) for link in links])[:, None]
        object.__setattr__(stacked, f.name, value)
    return stacked


def group_link_costs(scenario, comp, links: list[Any]) -> dict[str, np.ndarray]:
    """Link costs at the operating point over (configurations, cuts): all at once on a link
    whose swept fields are columns where the link model's arithmetic broadcasts, else one
    configuration at a time."""
    shape = (len(links), len(comp.cut))
    try:
        lc = headline_link_costs(scenario, comp, stacked_link(links))
        return {k: np.broadcast_to(v, shape) for k, v in lc.items()}
    except (TypeError, ValueError):
        log.warning("link model %s does not broadcast; one call per configuration",
                    type(links[0]).__name__)
    per = [headline_link_costs(scenario, comp, link) for link in links]
    return {k: np.stack([np.broadcast_to(p[k], shape[1:]) for p in per]) for k in per[0]}


def group_columns(comp, lc: dict[str, np.ndarray]) -> dict[str, Any]:
    """The sweep row's columns (`sim.table.cost_columns`, then saturation) over (configs,
    cuts) arrays.

    Columns that do not vary with the configuration come back as lists of strings (formatted
    once per group); the others as 2-D arrays (`saturated` always: a bool array)."""
    cols = cost_columns(comp, {k: np.asarray(v) for k, v in lc.items()})
    n_configs = cols["comm_mj"].shape[0]
    shape = (n_configs, len(comp.cut))
    cols["max_rate_hz"] = np.asarray(lc["max_rate_hz"], dtype=float)
    out: dict[str, Any] = {
        "cut": [str(int(k)) for k in comp.cut],
        "after_layer": [csv_field(name) for name in comp.after_layer],
        "sent_bytes": [str(int(b)) for b in comp.up_bytes.astype(np.int64)],
        # numbers for the analysis, not columns of their own
        "_edge_mj": cols["edge_compute_mj"], "_noise_mj": cols["noise_mj"],
    }
    for name, values in cols.items():
        values = np.asarray(values)
        out[name] = ([fmt_float(float(x)) for x in values] if values.ndim == 1
                     else np.broadcast_to(values, shape))
    out["saturated"] = np.broadcast_to(np.asarray(lc["saturated"], dtype=bool), shape)
    return out


def format_group(prefixes: list[str], columns: dict[str, Any]) -> list[str]:
    """Rows as one `%` format per row: a per-cut template with the per-cut text filled in and
    FLOAT_FORMAT slots for the per-configuration numbers (the fast part of a 10^5-row sweep).
    Each cut has a template per value of `saturated` (its text is in the template)."""
    dynamic = [c for c in SWEEP_COLUMNS
               if c != "saturated" and isinstance(columns.get(c), np.ndarray)]
    n_cuts = len(columns["cut"])
    templates = []      # per cut: {saturated: (template, template taking text for a NaN row)}
    for j in range(n_cuts):
        by_flag = {}
        for sat in (False, True):
            fields = []
            for c in SWEEP_COLUMNS:
                v = columns.get(c)
                if v is None:
                    fields.append("")                     # privacy columns: not evaluated
                elif c == "saturated":
                    fields.append(str(sat))
                elif isinstance(v, np.ndarray):
                    fields.append(FLOAT_FORMAT)
                else:
                    fields.append(v[j].replace("%", "%%"))
            t = ",".join(fields) + "\n"
            by_flag[sat] = (t, t.replace(FLOAT_FORMAT, "%s"))
        templates.append(by_flag)
    # (configs, cuts, columns) -> per row a tuple of floats
    stacked = np.stack([columns[c] for c in dynamic], axis=-1)
    has_nan = np.isnan(stacked).any(axis=-1).tolist()   # e.g. no latency where saturated
    values, flags = stacked.tolist(), columns["saturated"].tolist()
    out = []
    for prefix, row_values, row_nan, row_flags in zip(prefixes, values, has_nan, flags):
        out.append("".join(
            prefix + (tt[sat][1] % tuple(map(fmt_float, v)) if bad else tt[sat][0] % tuple(v))
            for tt, v, bad, sat in zip(templates, row_values, row_nan, row_flags)))
    return out


def cost_rows(base: dict, configs: tuple[tuple[int, Assignments], ...],
              link_keys: frozenset[str]) -> tuple[str, np.ndarray]:
    groups: dict[str, list[tuple[int, Assignments]]] = {}
    for index, assignments in configs:
        groups.setdefault(group_key(assignments, link_keys), []).append((index, assignments))
    texts: dict[int, str] = {}
    figures: dict[int, np.ndarray] = {}
    for members in groups.values():
        scenario = build_scenario(apply(base, members[0][1]))
        comp = cut_components(graph_for(scenario), scenario.edge, scenario.cloud,
                              NoiseCostModel.from_spec(scenario.noise),
                              scenario.workload.batch_size,
                              ComputeDtypes.of(scenario.workload.compute_dtype))
        links = [replaced_link(scenario.link, a, link_keys) for _, a in members]
        lc = group_link_costs(scenario, comp, links)      # at the operating point
        columns = group_columns(comp, lc)
        prefixes = [config_prefix(i, [v for _, v in a]) for i, a in members]
        shape = (len(members), len(comp.cut))
        # edge_energy is what the battery pays (device_mj)
        total_mj = np.broadcast_to(columns["total_mj"], shape)
        device_mj = np.broadcast_to(lc["device_j"] * 1e3, shape)
        for m, ((index, _), text) in enumerate(zip(members, format_group(prefixes, columns))):
            texts[index] = text
            figures[index] = figures_of(index, comp.cut, columns["latency_ms"][m],
                                        total_mj[m], device_mj[m], np.nan, np.nan, np.nan,
                                        columns["saturated"][m])
    if not configs:
        return "", _empty()
    return ("".join(texts[i] for i, _ in configs),
            np.concatenate([figures[i] for i, _ in configs]))
