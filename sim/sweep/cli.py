"""`sim sweep`: arguments and the command (wired into sim.cli by the lead)."""
from __future__ import annotations

import argparse
from pathlib import Path

from sim.sweep.objectives import OBJECTIVES


def add_sweep_arguments(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
    p.add_argument("config", help="scenario YAML, e.g. configs/tx2_vgg16.yaml")
    p.add_argument("--grid", action="append", default=[], metavar="KEY.PATH=V1,V2,...",
                   help="values of a config key (YAML scalars); KEY.PATH=LO:HI is a range "
                        "sampled with --sample (repeatable)")
    p.add_argument("--sample", type=int, metavar="N",
                   help="N Latin-hypercube samples of the LO:HI ranges")
    p.add_argument("--seed", type=int, help="sampling seed (default: the config's sim.seed)")
    p.add_argument("--set", action="append", default=[], metavar="KEY.PATH=VALUE",
                   help="override a config key for every configuration (repeatable)")
    p.add_argument("--out", help="output folder (default results/<config name>/sweep/)")
    p.add_argument("--executor", choices=["local", "dask"], default="local")
    p.add_argument("--workers", type=int, metavar="N",
                   help="local processes or local Dask workers (default: 1 with --cost-only, "
                        "else the CPU count; 2 for a local Dask cluster)")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="Dask scheduler, e.g. tcp://10.0.0.5:8786 (default: a local cluster)")
    p.add_argument("--no-privacy", action="store_true",
                   help="skip the privacy evaluation (privacy columns stay empty)")
    p.add_argument("--cost-only", action="store_true",
                   help="closed-form costs only, vectorized over configurations and cuts (no "
                        "simulation, no privacy; latency_p99_ms equals latency_ms)")
    p.add_argument("--chunk-size", type=int, metavar="N",
                   help="configurations per task and per resumable part (default 1000 with "
                        "--cost-only, else 1)")
    p.add_argument("--restart", action="store_true",
                   help="discard a sweep already in --out instead of resuming it")
    p.add_argument("--objective", default="latency", choices=[*OBJECTIVES, "weighted"],
                   help="what the best cut minimises (default latency), at the configured "
                        "operating point, over cuts that are not saturated (see "
                        "--include-saturated); edge_energy is "
                        "device_mj, what the device's battery pays per request: edge compute, "
                        "noise, radio (tail and idle shared as under load) and idle power "
                        "while it waits for the answer")
    p.add_argument("--include-saturated", action="store_true",
                   help="let saturated cuts (a stage offered more work than it serves) be "
                        "best cuts: their energy per request is finite and counts; their "
                        "latency is empty, so a latency objective or deadline never picks "
                        "them (default: skipped)")
    p.add_argument("--weights", metavar="TERM=W,...",
                   help="for --objective weighted: latency, energy, edge_energy, each "
                        "normalized to the configuration's cloud-only value")
    p.add_argument("--deadline-ms", type=float, help="constraint: latency_ms <= this")
    p.add_argument("--max-accuracy-loss-pct", type=float,
                   help="constraint: accuracy_loss_pct <= this (when privacy was evaluated)")
    p.add_argument("--min-mi-loss-pct", type=float,
                   help="constraint: mi_loss_pct >= this (when privacy was evaluated)")
    p.add_argument("--no-plots", action="store_true", help="skip the plots")
    p.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    return p


def objective_of(args: argparse.Namespace):
    from sim.sweep.codesign import Objective, parse_weights

    return Objective(kind=args.objective, weights=parse_weights(args.weights),
                     deadline_ms=args.deadline_ms,
                     max_accuracy_loss_pct=args.max_accuracy_loss_pct,
                     min_mi_loss_pct=args.min_mi_loss_pct,
                     include_saturated=args.include_saturated)


def cmd_sweep(args: argparse.Namespace) -> int:
    # Imported here: the parser above must stay cheap for every other `sim` command.
    from core.atomic import check_output_dir
    from core.errors import UserError
    from sim.config import load_config
    from sim.sweep.executors import make_executor
    from sim.sweep.runner import SweepOptions, plan_sweep, run_sweep

    if args.workers is not None and args.workers < 1:
        raise UserError(f"--workers {args.workers}: must be >= 1")
    if args.scheduler and args.executor != "dask":
        raise UserError("--scheduler: needs --executor dask")
    objective = objective_of(args)                       # option mistakes first, then config
    base, base_dir = load_config(args.config, args.set)
    plan = plan_sweep(base, args.grid, args.sample, args.seed, args.cost_only, base_dir)
    out_dir = check_output_dir(
        Path(args.out) if args.out else Path("results") / str(base["name"]) / "sweep", "--out")
    options = SweepOptions(cost_only=args.cost_only, privacy=not args.no_privacy,
                           chunk_size=args.chunk_size, restart=args.restart,
                           progress=not args.no_progress, plots=not args.no_plots)
    executor = make_executor(args.executor, args.workers, args.scheduler, args.cost_only)
    result = run_sweep(plan, out_dir, executor, options, objective)
    n = len(plan.configs)
    print(f"{n} configurations x cuts = {len(result.figures)} rows "
          f"({result.computed_configs} computed now, {n - result.computed_configs} resumed) "
          f"in {result.wall_s['total_s']:.1f} s; executor {executor.name}")
    for note in result.notes + result.privacy_notes:
        print(note)
    hist = result.best
    feasible = hist.row >= 0
    print(f"best cut under {objective.label}: {int(feasible.sum())} of {n} configurations "
          f"have a feasible cut; Pareto front: {len(result.pareto)} rows")
    print(f"wrote {len(result.files)} files to {out_dir}/ (sweep.csv, best.csv, pareto.csv, "
          "tables, plots)")
    return 0
