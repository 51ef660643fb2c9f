"""Cost-only sweep throughput: 10,000 configurations x all VGG-16 cuts.

Runs from the repository root:  python benchmarks/bench_sweep.py
Target (issue 12): at most 5 s on the 2-core machine, cost only at the configured operating
point (queueing, shared radio tails, saturation), from the parsed arguments to sweep.csv,
best.csv and pareto.csv (validation and profiling included; interpreter start-up and plots not;
the plots' time is printed separately). Reference, measured in the same run: the
per-configuration Python loop (build_scenario, cut components, link costs at the operating
point and the results table per configuration) on a subset, extrapolated to 10,000. The last
line is JSON with the figures.
"""
from __future__ import annotations

import json
import logging
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sim.config import build_scenario, load_yaml  # noqa: E402
from sim.costs import ComputeDtypes, NoiseCostModel, cut_components  # noqa: E402
from sim.operating_costs import headline_link_costs  # noqa: E402
from sim.table import results_table  # noqa: E402
from sim.sweep import Objective, SweepOptions, plan_sweep, run_sweep  # noqa: E402
from sim.sweep.validate import apply  # noqa: E402
from sim.sweep.validate import graph_for  # noqa: E402

CONFIG = ROOT / "configs" / "tx2_vgg16.yaml"
GRID = ["edge.power_mode=maxn,maxq", "link.uplink_mbps=0.5:200", "link.downlink_mbps=1:100"]
SAMPLES = 5000                      # x 2 power modes = 10,000 configurations
REFERENCE_SUBSET = 100


def reference_s_per_config(base: dict, plan) -> float:
    """The obvious loop: one build_scenario and one results table at the operating point per
    configuration."""
    step = len(plan.configs) // REFERENCE_SUBSET
    t = time.perf_counter()
    for assignments in plan.configs[::step][:REFERENCE_SUBSET]:
        s = build_scenario(apply(base, assignments))
        comp = cut_components(graph_for(s), s.edge, s.cloud, NoiseCostModel.from_spec(s.noise),
                              s.workload.batch_size, ComputeDtypes.of(s.workload.compute_dtype))
        results_table(comp, headline_link_costs(s, comp))
    return (time.perf_counter() - t) / REFERENCE_SUBSET


def main() -> None:
    logging.basicConfig(level=logging.WARNING)
    base = load_yaml(CONFIG)
    with tempfile.TemporaryDirectory() as out:
        t = time.perf_counter()
        plan = plan_sweep(base, GRID, SAMPLES, seed=0, cost_only=True)
        validate_s = time.perf_counter() - t
        result = run_sweep(plan, Path(out), options=SweepOptions(cost_only=True, plots=False,
                                                                 progress=False),
                           objective=Objective("latency"))
        seconds = time.perf_counter() - t
        rows = len(result.figures)
        size_mb = (Path(out) / "sweep.csv").stat().st_size / 1e6
        t = time.perf_counter()
        run_sweep(plan, Path(out), options=SweepOptions(cost_only=True, plots=True,
                                                        progress=False))
        resume_plots_s = time.perf_counter() - t
    n = len(plan.configs)
    ref = reference_s_per_config(base, plan) * n
    print(f"{n} configurations x {rows // n} cuts = {rows} rows, sweep.csv {size_mb:.0f} MB")
    print(f"sweep: {seconds:.2f} s (validate+plan {validate_s:.2f} s, compute "
          f"{result.wall_s['compute_s']:.2f} s, merge+analyse "
          f"{result.wall_s['merge_analyse_s']:.2f} s, reports {result.wall_s['report_s']:.2f} s)"
          f"; target <= 5 s")
    print(f"re-run of the finished sweep with plots: {resume_plots_s:.2f} s")
    print(f"reference per-configuration loop (build_scenario + results table at the operating "
          f"point), extrapolated from "
          f"{REFERENCE_SUBSET}: {ref:.1f} s; speedup {ref / seconds:.1f}x")
    print(json.dumps({"bench": "sweep", "configs": n, "seconds": round(seconds, 3),
                      "configs_per_s": round(n / seconds, 1), "rows": rows,
                      "reference_loop_s": round(ref, 2), "speedup": round(ref / seconds, 2)}))


if __name__ == "__main__":
    main()
