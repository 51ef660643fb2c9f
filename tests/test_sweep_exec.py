"""Executors give byte-identical outputs: inline, a local process pool, Dask on loopback."""
from pathlib import Path

import pytest

from sim.config import load_yaml
from sim.sweep import (DaskExecutor, InlineExecutor, Objective, PoolExecutor, SweepOptions,
                       plan_sweep, run_sweep)

CONFIGS = Path(__file__).resolve().parent.parent / "configs"
GRID = ["link.preset=wifi,lte", "link.uplink_mbps=2,50", "edge.power_mode=maxn,maxq"]


def outputs(out_dir: Path) -> dict[str, bytes]:
    return {n: (out_dir / n).read_bytes() for n in ("sweep.csv", "best.csv", "pareto.csv")}


def sweep_with(executor, out_dir, cost_only, chunk_size):
    base = load_yaml(CONFIGS / "tx2_lenet.yaml")
    plan = plan_sweep(base, GRID, cost_only=cost_only)
    options = SweepOptions(cost_only=cost_only, privacy=False, chunk_size=chunk_size,
                           progress=False, plots=False)
    run_sweep(plan, out_dir, executor, options, Objective("edge_energy"))
    return outputs(out_dir)


@pytest.mark.parametrize("cost_only", [True, False])
def test_inline_and_dask_on_loopback_are_byte_identical(tmp_path, cost_only):
    inline = sweep_with(InlineExecutor(), tmp_path / "inline", cost_only, 8)
    # a real scheduler and two workers talking over TCP on 127.0.0.1 (threads, not processes,
    # to keep the default suite fast; the slow test below uses worker processes)
    dask = DaskExecutor(workers=2, cluster_kwargs={"processes": False, "protocol": "tcp://"})
    assert sweep_with(dask, tmp_path / "dask", cost_only, 3) == inline
    assert inline["sweep.csv"].count(b"\n") == 1 + 8 * 13


@pytest.mark.slow
def test_process_pool_and_dask_processes_are_byte_identical(tmp_path):
    inline = sweep_with(InlineExecutor(), tmp_path / "inline", False, None)
    assert sweep_with(PoolExecutor(2), tmp_path / "pool", False, None) == inline
    assert sweep_with(DaskExecutor(workers=2), tmp_path / "dask", False, 2) == inline
