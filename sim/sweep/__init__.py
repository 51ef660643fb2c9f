"""Parameter sweeps over any config key: grid and Latin-hypercube plans, validated before any
work; a vectorized cost-only path; local, process-pool and Dask executors; resumable parts;
best cut and Pareto analysis; reports.

Names are imported on first use, so that `sim --help` and `sim run` do not pay for the
sweep machinery (pandas, executors, plots) at start-up.
"""
from importlib import import_module

_EXPORTS = {
    "Objective": "sim.sweep.codesign",
    "DaskExecutor": "sim.sweep.executors", "InlineExecutor": "sim.sweep.executors",
    "PoolExecutor": "sim.sweep.executors", "make_executor": "sim.sweep.executors",
    "SweepOptions": "sim.sweep.runner", "SweepResult": "sim.sweep.runner",
    "plan_sweep": "sim.sweep.runner", "run_sweep": "sim.sweep.runner",
}
__all__ = list(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'sim.sweep' has no attribute {name!r}")
