"""A sweep stopped midway and started again with the same arguments finishes the rest: the
final files equal an uninterrupted run's, with no lost or duplicated rows."""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sim.config import load_yaml
from sim.sweep import InlineExecutor, SweepOptions, plan_sweep, run_sweep

ROOT = Path(__file__).resolve().parent.parent
LENET = ROOT / "configs" / "tx2_lenet.yaml"
GRID = ["link.uplink_mbps=0.5:300", "edge.power_mode=maxn,maxq,maxp-core-all"]


class Killed(Exception):
    pass


def plan():
    return plan_sweep(load_yaml(LENET), GRID, samples=7, seed=11, cost_only=True)


OPTIONS = SweepOptions(cost_only=True, chunk_size=4, progress=False, plots=False)


def files(out: Path) -> dict[str, bytes]:
    return {n: (out / n).read_bytes() for n in ("sweep.csv", "best.csv", "pareto.csv")}


def test_interrupted_sweep_resumes_to_the_same_bytes(tmp_path):
    p = plan()
    assert len(p.configs) == 21                     # 6 chunks of 4 (the last holds 1)
    full = run_sweep(p, tmp_path / "full", options=OPTIONS)
    assert full.computed_configs == 21

    def stop_after_three(chunk):
        if stop_after_three.calls == 2:
            raise Killed
        stop_after_three.calls += 1
    stop_after_three.calls = 0
    out = tmp_path / "resumed"
    with pytest.raises(Killed):
        run_sweep(plan(), out, InlineExecutor(), OPTIONS, on_chunk=stop_after_three)
    assert not (out / "sweep.csv").exists()
    assert len(list((out / "parts").glob("chunk-*.csv"))) == 3
    # a write cut short by a kill leaves only a temporary file, which a restart removes
    (out / "parts" / ".chunk-000004.csv.abc.tmp").write_text("0,half a row")

    resumed = run_sweep(plan(), out, InlineExecutor(), OPTIONS)
    assert resumed.computed_configs == 21 - 12
    assert files(out) == files(tmp_path / "full")
    assert not list((out / "parts").glob(".*.tmp"))
    lines = (out / "sweep.csv").read_text().splitlines()[1:]
    assert len(lines) == len(set(lines)) == 21 * 13


@pytest.mark.parametrize("damage", ["truncate_csv", "edit_csv", "truncate_npy", "notes"])
def test_a_corrupt_part_is_computed_again(tmp_path, damage):
    """D11: a part whose bytes no longer match its checksums is not trusted on resume."""
    full = tmp_path / "full"
    run_sweep(plan(), full, options=OPTIONS)
    out = tmp_path / "damaged"
    run_sweep(plan(), out, options=OPTIONS)
    (out / "sweep.csv").unlink()
    part = out / "parts" / "chunk-000002"
    csv, npy, notes = (part.with_suffix(s) for s in (".csv", ".npy", ".json"))
    if damage == "truncate_csv":
        csv.write_bytes(csv.read_bytes()[: len(csv.read_bytes()) // 2])
    elif damage == "edit_csv":
        csv.write_text(csv.read_text().replace(",", ";", 1))
    elif damage == "truncate_npy":
        npy.write_bytes(npy.read_bytes()[:100])
    else:
        notes.write_text("[]")
    resumed = run_sweep(plan(), out, InlineExecutor(), OPTIONS)
    assert resumed.computed_configs == 4             # the damaged chunk only
    assert files(out) == files(full)


@pytest.mark.slow
def test_sweep_killed_with_sigkill_resumes(tmp_path):
    """A real kill -9 of `sim sweep` in a subprocess (per-configuration path, one part each)."""
    script = ("import argparse, sys\n"
              "from sim.sweep.cli import add_sweep_arguments, cmd_sweep\n"
              "args = add_sweep_arguments(argparse.ArgumentParser()).parse_args(sys.argv[1:])\n"
              "sys.exit(cmd_sweep(args))\n")
    argv = [sys.executable, "-c", script, str(LENET), "--grid",
            "link.uplink_mbps=" + ",".join(str(v) for v in range(1, 41)), "--no-privacy",
            "--workers", "1", "--no-plots", "--no-progress"]
    out = tmp_path / "killed"
    proc = subprocess.Popen(argv + ["--out", str(out)], cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while time.time() < deadline and len(list(out.glob("parts/chunk-*.csv"))) < 5:
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    done = len(list(out.glob("parts/chunk-*.csv")))
    assert 5 <= done < 40 and not (out / "sweep.csv").exists()
    subprocess.run(argv + ["--out", str(out)], cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL)
    subprocess.run(argv + ["--out", str(tmp_path / "full")], cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL)
    assert files(out) == files(tmp_path / "full")


@pytest.mark.slow
def test_pool_workers_end_with_their_parent(tmp_path):
    """D13: kill -9 of a `sim sweep` with a process pool; its workers do not compute on."""
    argv = [sys.executable, "-m", "sim", "sweep", str(LENET), "--grid",
            "link.uplink_mbps=" + ",".join(str(v) for v in range(1, 41)), "--no-privacy",
            "--workers", "2", "--no-plots", "--no-progress", "--out", str(tmp_path / "s")]
    proc = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    children: list[int] = []
    deadline = time.time() + 120
    while time.time() < deadline and len(children) < 2:
        time.sleep(0.2)
        try:
            text = Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text()
        except OSError:
            break
        children = [int(c) for c in text.split()]
    assert children, "the sweep started no workers"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    deadline = time.time() + 30
    alive = children
    while time.time() < deadline and alive:
        time.sleep(0.2)
        alive = [c for c in alive if Path(f"/proc/{c}").exists()
                 and "zombie" not in Path(f"/proc/{c}/status").read_text()]
    assert not alive, f"workers {alive} outlived their parent"
