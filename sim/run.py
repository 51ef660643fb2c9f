"""`sim run`: one scenario, every valid cut, all outputs written into one folder."""
from __future__ import annotations

import logging
import platform
import time
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import pandas as pd

from partitioner.types import ModelGraph
from sim.profiles import check_cuts, scenario_graph
from sim.config import Scenario
from sim.costs import ComputeDtypes, NoiseCostModel, cut_components
from sim.html_report import logged_warnings, run_report
from sim.operating_costs import (headline_link_costs, operating_point_note,
                                 scenario_operating_point)
from sim.loadsim import simulate_cuts
from sim.plots import write_plots
from sim.report import write_breakdown, write_csv, write_run_record
from sim.table import energy_breakdown, merge_privacy, results_table

log = logging.getLogger(__name__)

PACKAGES = ("torch", "numpy", "scipy", "simpy", "pandas", "numba", "scikit-learn", "pyyaml",
            "matplotlib")


@dataclass(frozen=True)
class RunResult:
    results: pd.DataFrame
    breakdown: pd.DataFrame
    caption: str
    privacy_note: str
    files: tuple[Path, ...]
    wall_s: dict[str, float]


def package_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def describe(scenario: Scenario, graph: ModelGraph) -> str:
    w = scenario.workload
    edge = scenario.edge.name + (f" ({scenario.edge_spec.power_mode})"
                                 if scenario.edge_spec.power_mode else "")
    return (f"{scenario.name}: {w.model} {list(graph.input_shape)} batch {w.batch_size}, "
            f"activations {w.activation_dtype}; edge {edge}, link {scenario.link.name} "
            f"({scenario.link.uplink_mbps:g}/{scenario.link.downlink_mbps:g} Mbps up/down), "
            f"cloud {scenario.cloud.name}; noise {scenario.noise.method}")


@dataclass(frozen=True)
class Evaluation:
    """Everything `sim run` computes for a scenario, before anything is written."""
    results: pd.DataFrame
    graph: ModelGraph
    sims: dict
    privacy_note: str
    privacy_record: dict
    wall_s: dict[str, float]


def evaluate_scenario(scenario: Scenario, privacy: bool = True, progress: bool = False,
                      cache_dir: str | None = None) -> Evaluation:
    """Costs, simulation and (when enabled) privacy of every valid cut; writes no files."""
    wall: dict[str, float] = {}
    t0 = time.perf_counter()
    graph = scenario_graph(scenario, cache_dir)
    check_cuts(scenario, graph)
    wall["profile_s"] = time.perf_counter() - t0

    t = time.perf_counter()
    batch = scenario.workload.batch_size
    compute = ComputeDtypes.of(scenario.workload.compute_dtype)
    comp = cut_components(graph, scenario.edge, scenario.cloud,
                          NoiseCostModel.from_spec(scenario.noise), batch, compute)
    link = headline_link_costs(scenario, comp)       # at the operating point (issue 12)
    wall["cost_s"] = time.perf_counter() - t

    t = time.perf_counter()
    sims, utilization = simulate_cuts(graph, comp, scenario.edge, scenario.cloud, scenario.link,
                                      scenario.cloud_spec.queue, scenario.sim, batch,
                                      progress=progress, cloud_dtype=compute.cloud)
    results = results_table(comp, link, sims, utilization)
    wall["simulate_s"] = time.perf_counter() - t

    privacy_record: dict = {}
    if privacy and scenario.privacy.enabled:
        from sim.privacy import evaluate_privacy
        t = time.perf_counter()
        outcome = evaluate_privacy(scenario, graph, results, cache_dir, progress)
        results = merge_privacy(results, outcome.frame)
        privacy_note, privacy_record = outcome.note, outcome.provenance
        wall["privacy_s"] = time.perf_counter() - t
    else:
        privacy_note = "privacy columns: not evaluated (privacy disabled)"
    wall["evaluate_s"] = time.perf_counter() - t0
    return Evaluation(results, graph, sims, privacy_note, privacy_record, wall)


def run_scenario(scenario: Scenario, out_dir: Path, privacy: bool = True,
                 progress: bool = False, cache_dir: str | None = None) -> RunResult:
    t0 = time.perf_counter()
    with logged_warnings() as logged:     # for the report's warnings section
        ev = evaluate_scenario(scenario, privacy, progress, cache_dir)
    results, graph, wall = ev.results, ev.graph, dict(ev.wall_s)
    breakdown = energy_breakdown(results)
    caption = (f"Energy per request by cut. {describe(scenario, graph)}; "
               f"{operating_point_note(scenario)}. {ev.privacy_note}.")

    t = time.perf_counter()
    files = [out_dir / "results.csv"]
    write_csv(files[0], results)
    files += write_breakdown(out_dir, breakdown, scenario.report.formats, caption)
    plots = []
    if scenario.report.plots:
        plots = write_plots(out_dir, results, f"{describe(scenario, graph)}; "
                            f"{scenario_operating_point(scenario).describe()}")
        from sim.privacy import write_reconstruction_figure
        plots += write_reconstruction_figure(out_dir / "plots" / "reconstructions.png",
                                             ev.privacy_record)
        files += plots
    wall["report_s"] = time.perf_counter() - t
    wall["total_s"] = time.perf_counter() - t0

    record = {
        "scenario": scenario.name, "config": scenario.resolved,
        "config_hash": scenario.config_hash, "sources": scenario.sources,
        "versions": package_versions(), "seeds": {"sim": scenario.sim.seed},
        "wall_s": wall, "privacy": ev.privacy_note, "privacy_provenance": ev.privacy_record,
        "cache_keys": {k: ev.privacy_record[k] for k in ("model_cache_key",)
                       if k in ev.privacy_record},
        "model": {"name": graph.model_name, "layers": graph.num_layers,
                  "total_macs": graph.total_macs, "valid_cuts": [c.cut for c in graph.cuts]},
        "latency_model": (f"discrete-event simulation: {scenario.sim.requests} requests x up to "
                          f"{scenario.sim.replications} replications per cut, warm-up "
                          f"{scenario.sim.warmup_requests} removed (latency of stable cuts); "
                          "energy columns from the closed forms at the operating point "
                          "(docs/operating-point.md), sim_total_mj simulated"),
        "operating_point": operating_point_note(scenario),
        "simulation": {str(k): r.to_dict() for k, r in ev.sims.items()},
    }
    files.append(out_dir / "run.json")
    write_run_record(files[-1], record)
    if scenario.report.html:
        files.append(run_report(out_dir / "report.html", record, caption, breakdown, results,
                                plots, logged))
    return RunResult(results, breakdown, caption, ev.privacy_note, tuple(files), wall)
