"""`sim predict` on all 15,625 NAS-Bench-201 networks (issue 14 targets: <= 60 s cold, <= 10 s
warm), and the vectorized pricing against the per-layer ComputeTarget path it replaces.

    python benchmarks/bench_predict.py [--networks N]

Cold: a fresh profile cache (every network profiled); warm: the same command again (one cached
table read). Both are wall times of the whole `sim predict` process, start-up included. The
reference prices 1,000 of the networks layer by layer through `DeviceTarget.layer_cost` (the
path `sim run` uses per cut) and is scaled to all of them. Ends with one JSON line; the
machine's load average is part of it, since these are shared cores.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from hwmodels.cost import DeviceTarget, layer_costs  # noqa: E402
from hwmodels.netcost import LayerTable, network_costs  # noqa: E402
from hwmodels.presets import device_preset  # noqa: E402
from hwmodels.validate import DATA_CSV  # noqa: E402

REFERENCE_NETWORKS = 1000


def timed_predict(models_csv: Path, cache_dir: Path, out_csv: Path) -> float:
    env = {**os.environ, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1")}
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "sim", "predict", str(models_csv), "--device",
                    "titan-xp", "--out", str(out_csv), "--cache-dir", str(cache_dir)],
                   check=True, cwd=ROOT, env=env, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--networks", type=int, default=15625)
    n = ap.parse_args().networks
    archs = pd.read_csv(DATA_CSV, nrows=n)["arch"]
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        models = tmp / "models.csv"
        pd.DataFrame({"model": "nb201:" + archs}).to_csv(models, index=False)
        cold_s = timed_predict(models, tmp / "cache", tmp / "pred.csv")
        warm_s = timed_predict(models, tmp / "cache", tmp / "pred.csv")
        predicted = pd.read_csv(tmp / "pred.csv")

    from partitioner.nb201_fast import profile_nb201_many
    k = min(REFERENCE_NETWORKS, n)
    graphs = [g.layers for g in profile_nb201_many(list(archs[:k]))]
    device = device_preset("titan-xp")
    start = time.perf_counter()
    ref = [sum(c.latency_s for c in layer_costs(DeviceTarget(device), layers, 1, "float32"))
           for layers in graphs]
    per_layer_s = (time.perf_counter() - start) * n / k
    table = LayerTable.from_layers(graphs)
    start = time.perf_counter()
    fast = network_costs(device, table, 1)[0]
    vector_s = (time.perf_counter() - start) * n / k
    assert max(abs(a / b - 1) for a, b in zip(fast, ref)) < 1e-9
    assert len(predicted) == n

    load = os.getloadavg()[0]
    print(f"sim predict, {n} NAS-Bench-201 networks on titan-xp: cold {cold_s:.1f} s "
          f"(target 60), warm {warm_s:.1f} s (target 10); load average {load:.2f}")
    print(f"pricing only: vectorized {vector_s:.3f} s vs per-layer path {per_layer_s:.2f} s "
          f"(scaled from {k} networks): {per_layer_s / vector_s:.0f}x")
    print(json.dumps({"bench": "predict", "networks": n, "cold_s": round(cold_s, 2),
                      "warm_s": round(warm_s, 2), "pricing_vectorized_s": round(vector_s, 4),
                      "pricing_per_layer_s": round(per_layer_s, 3),
                      "pricing_speedup": round(per_layer_s / vector_s, 1),
                      "load_avg_1min": round(load, 2)}))


if __name__ == "__main__":
    main()
