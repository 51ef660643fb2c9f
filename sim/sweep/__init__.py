"""Parameter sweeps over any config key: grid and Latin-hypercube plans, validated before any
work; a vectorized cost-only path; local, process-pool and Dask executors; resumable parts;
best cut and Pareto analysis; reports."""
from sim.sweep.codesign import Objective
from sim.sweep.executors import DaskExecutor, InlineExecutor, PoolExecutor, make_executor
from sim.sweep.runner import SweepOptions, SweepResult, plan_sweep, run_sweep

__all__ = ["Objective", "DaskExecutor", "InlineExecutor", "PoolExecutor", "make_executor",
           "SweepOptions", "SweepResult", "plan_sweep", "run_sweep"]
