"""End-to-end `sim run` wall time (fresh process each time, as a user runs it).

Runs from the repository root:  python benchmarks/bench_run.py
Targets: `sim run configs/tx2_vgg16.yaml --no-privacy` under 15 s (issue 2); with privacy,
cold (empty cache dir: training, noise, privacy) under 180 s and warm (cached) under 10 s
(issue 6), now with every privacy figure of issue 16 on (budget, intervals, three
adversaries, reconstruction attack, randomness), on the 2-core machine; `sim validate` of the
same config (its profile cached) under 0.5 s, against a bare `python -c 'import numpy, yaml'`
(issue 18). The machine's load
average is printed beside the figures: other work on the cores inflates them.
The last line is JSON with the figures.
"""
from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "configs" / "tx2_vgg16.yaml"


def time_run(*extra: str) -> float:
    return timed_run(*extra)[0]


def _children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed_run(*extra: str) -> tuple[float, dict]:
    """Wall time of one `sim run`, and its run.json wall times plus the CPU seconds it used
    (`cpu_s`: on a shared machine, closer to what the run takes alone than its wall time)."""
    with tempfile.TemporaryDirectory() as out:
        cmd = [sys.executable, "-m", "sim", "run", str(CONFIG), "--out", out, *extra]
        cpu0, t = _children_cpu_s(), time.perf_counter()
        subprocess.run(cmd, check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
        wall = time.perf_counter() - t
        record = json.loads((Path(out) / "run.json").read_text())
        return wall, {**record.get("wall_s", {}), "cpu_s": _children_cpu_s() - cpu0}


def time_validate(cache: str, repeats: int = 5) -> list[float]:
    """Wall times of `sim validate` as scripts call it: the console script in a fresh process."""
    sim = Path(sys.executable).with_name("sim")
    env = {**os.environ, "SPLITSIM_CACHE_DIR": cache}
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        subprocess.run([str(sim), "validate", str(CONFIG)], check=True, cwd=ROOT, env=env,
                       stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - t)
    return times


def main() -> None:
    # Reference for the ratio: the bare interpreter start with torch imported, a floor no run
    # can go below.
    t = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import torch"], check=True)
    import_torch_s = time.perf_counter() - t
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as cache:
        cold_s, cold_wall = timed_run("--cache-dir", cache)
        warm_s, warm_wall = timed_run("--cache-dir", cache)
        validate = time_validate(cache)
    t = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import numpy, yaml"], check=True)
    import_numpy_s = time.perf_counter() - t
    validate_s = sorted(validate)[len(validate) // 2]
    load_after = os.getloadavg()[0]
    print(f"sim run {CONFIG.name} with privacy: cold {cold_s:.2f} s (target < 180 s; its "
          f"privacy step {cold_wall.get('privacy_s', float('nan')):.2f} s), warm {warm_s:.2f} s "
          f"(target < 10 s); load average {load_before:.2f} before, {load_after:.2f} after; "
          f"CPU time cold {cold_wall['cpu_s']:.1f} s, warm {warm_wall['cpu_s']:.1f} s")
    runs = [time_run("--no-privacy") for _ in range(3)]
    no_privacy_s = sorted(runs)[1]
    print(f"sim run {CONFIG.name} --no-privacy: {', '.join(f'{r:.2f}' for r in runs)} s "
          f"(median {no_privacy_s:.2f} s; target < 15 s)")
    print(f"python -c 'import torch': {import_torch_s:.2f} s "
          f"(run / import floor = {no_privacy_s / import_torch_s:.1f}x)")
    print(f"sim validate {CONFIG.name}: {', '.join(f'{v:.3f}' for v in validate)} s (median "
          f"{validate_s:.3f} s; target <= 0.5 s); python -c 'import numpy, yaml': "
          f"{import_numpy_s:.3f} s (validate / that floor = {validate_s / import_numpy_s:.1f}x)")
    print(json.dumps({"bench": "run", "no_privacy_s": round(no_privacy_s, 3),
                      "validate_s": round(validate_s, 3),
                      "import_numpy_yaml_s": round(import_numpy_s, 3),
                      "cold_s": round(cold_s, 3), "warm_s": round(warm_s, 3),
                      "import_torch_s": round(import_torch_s, 3),
                      "cold_privacy_s": round(cold_wall.get("privacy_s", float("nan")), 3),
                      "cold_cpu_s": round(cold_wall["cpu_s"], 3),
                      "warm_cpu_s": round(warm_wall["cpu_s"], 3),
                      "load_avg_1min": [round(load_before, 2), round(load_after, 2)]}))


if __name__ == "__main__":
    main()
