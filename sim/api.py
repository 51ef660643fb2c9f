"""The Python API for notebooks: the CLI's work, returning DataFrames.

    from sim import api
    df = api.run("configs/tx2_vgg16.yaml", sets={"link.preset": "lte"}, privacy=False)
    sweep = api.sweep("configs/tx2_vgg16.yaml", grid={"link.uplink_mbps": [1, 10, 100]},
                      cost_only=True)
    sweep.rows, sweep.best, sweep.pareto            # DataFrames read from the CSVs

Configs are a path, or a mapping shaped like the YAML. Mistakes raise core.errors.UserError.
"""
from __future__ import annotations

import dataclasses
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import pandas as pd

from core.errors import UserError
from sim.config import load_config, load_scenario
from sim.sweep.codesign import Objective
from sim.sweep.executors import make_executor
from sim.sweep.rows import fmt_value
from sim.sweep.runner import SweepOptions, SweepResult, plan_sweep, run_sweep


def run(config: str | Path | Mapping[str, Any], sets: Mapping[str, Any] | None = None,
        privacy: bool = True, out_dir: str | Path | None = None,
        base_dir: str | Path | None = None) -> pd.DataFrame:
    """`sim run` for one scenario: the results table (one row per valid cut). Relative file
    names resolve against the config's folder (for a mapping: `base_dir`, else the working
    directory)."""
    from sim.run import evaluate_scenario, run_scenario

    scenario = load_scenario(config, sets, base_dir)
    if out_dir is not None:
        return run_scenario(scenario, Path(out_dir), privacy=privacy).results
    return evaluate_scenario(scenario, privacy=privacy).results


@dataclass(frozen=True)
class Sweep:
    rows: pd.DataFrame          # sweep.csv
    best: pd.DataFrame          # best.csv
    pareto: pd.DataFrame        # pareto.csv
    result: SweepResult


def _grid_exprs(grid: Mapping[str, Any] | None, ranges: Mapping[str, tuple] | None) -> list[str]:
    exprs = []
    for key, values in (grid or {}).items():
        if isinstance(values, (str, bytes)) or not hasattr(values, "__iter__"):
            raise UserError(f"grid {key}: expected a list of values, got {values!r}")
        exprs.append(f"{key}=" + ",".join(fmt_value(v) for v in values))
    for key, (lo, hi) in (ranges or {}).items():
        exprs.append(f"{key}={lo!r}:{hi!r}")
    return exprs


def sweep(config: str | Path | Mapping[str, Any], grid: Mapping[str, Any] | None = None, *,
          ranges: Mapping[str, tuple[float, float]] | None = None, sample: int | None = None,
          seed: int | None = None, sets: Mapping[str, Any] | None = None,
          out_dir: str | Path | None = None, cost_only: bool = False, privacy: bool = True,
          executor: str = "local", workers: int | None = None, scheduler: str | None = None,
          objective: Objective | str = "latency", include_saturated: bool = False,
          chunk_size: int | None = None, restart: bool = False, plots: bool = False,
          progress: bool = False, base_dir: str | Path | None = None) -> Sweep:
    """`sim sweep`: grid values per key and/or `ranges` sampled `sample` times (Latin
    hypercube). Writes into `out_dir` (a temporary folder if None) and reads the CSVs back.
    `include_saturated` (`--include-saturated`) lets saturated cuts be best cuts by their
    energy (they have no latency); it is also honoured when set on an `Objective`."""
    raw, config_dir = load_config(config, sets, base_dir)
    plan = plan_sweep(raw, _grid_exprs(grid, ranges), sample, seed, cost_only, config_dir)
    obj = Objective(objective) if isinstance(objective, str) else objective
    if include_saturated:
        obj = dataclasses.replace(obj, include_saturated=True)
    options = SweepOptions(cost_only=cost_only, privacy=privacy, chunk_size=chunk_size,
                           restart=restart, progress=progress, plots=plots)
    ex = make_executor(executor, workers, scheduler, cost_only)

    def go(folder: Path) -> Sweep:
        result = run_sweep(plan, folder, ex, options, obj)
        read = lambda name: pd.read_csv(folder / name)  # noqa: E731
        return Sweep(read("sweep.csv"), read("best.csv"), read("pareto.csv"), result)

    if out_dir is not None:
        return go(Path(out_dir))
    with tempfile.TemporaryDirectory(prefix="sim-sweep-") as tmp:
        return go(Path(tmp))
