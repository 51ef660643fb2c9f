"""Profiling a search space: all 15,625 NAS-Bench-201 architectures, against the torch.fx path.

Runs from the repository root:  python benchmarks/bench_profile.py [--fx-sample N]
Target (issue 13): every architecture profiled (per-layer MACs, bytes, op types, valid cuts) in
<= 60 s cold on the 2-core machine. "Cold" is a fresh Python process: imports, template traces
and all 15,625 profiles. The reference is the traced path (`partitioner.graph.trace_profile`,
what every profile cost before the fast path) on a seeded sample of N architectures in the same
run; its per-architecture time, scaled to 15,625, gives the speedup. The last line is JSON.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CSV = ROOT / "hwmodels" / "data" / "nb201-latency-ms.csv"

# Runs in a fresh interpreter so that imports and template tracing count.
COLD = """
import csv, sys, time
t = time.perf_counter()
from partitioner.nb201_fast import profile_nb201_many
with open(sys.argv[1], newline="") as f:
    archs = [row["arch"] for row in csv.DictReader(f)]
layers = cuts = 0
for graph in profile_nb201_many(archs):
    layers += graph.num_layers
    cuts += len(graph.cuts)
print(len(archs), layers, cuts, time.perf_counter() - t)
"""


def archs() -> list[str]:
    with CSV.open(newline="") as f:
        return [row["arch"] for row in csv.DictReader(f)]


def fx_seconds_per_arch(sample: list[str]) -> float:
    from partitioner.graph import trace_profile

    trace_profile(f"nb201:{sample[0]}")          # the first trace pays for dynamo's imports
    t = time.perf_counter()
    for arch in sample:
        trace_profile(f"nb201:{arch}")
    return (time.perf_counter() - t) / len(sample)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--fx-sample", type=int, default=50)
    args = parser.parse_args()
    env = {**os.environ, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1")}
    out = subprocess.run([sys.executable, "-c", COLD, str(CSV)], check=True, cwd=ROOT, env=env,
                         capture_output=True, text=True).stdout.split()
    n, layers, cuts, seconds = int(out[0]), int(out[1]), int(out[2]), float(out[3])
    sample = random.Random(0).sample(archs(), args.fx_sample)
    fx_s = fx_seconds_per_arch(sample)
    speedup = fx_s * n / seconds
    print(f"fast path, cold process: {n} architectures ({layers} layers, {cuts} valid cuts) in "
          f"{seconds:.2f} s = {n / seconds:.0f} archs/s (target <= 60 s)")
    print(f"torch.fx path: {fx_s * 1e3:.1f} ms per architecture on {len(sample)} sampled "
          f"(~{fx_s * n:.0f} s for all {n}); speedup {speedup:.0f}x; load {os.getloadavg()[0]:.2f}")
    print(json.dumps({"bench": "profile", "archs": n, "seconds": round(seconds, 3),
                      "archs_per_s": round(n / seconds, 1), "speedup_vs_fx": round(speedup, 1),
                      "fx_ms_per_arch": round(fx_s * 1e3, 2), "load_1min": os.getloadavg()[0]}))


if __name__ == "__main__":
    main()
