"""Discrete-event simulator speed: simpy requests per second for the full pipeline, and the
numba fast path against simpy on the same requests.

Targets (issue 4, on the 2-core development machine): simpy >= 30,000 requests/s end to end,
fast path >= 100x faster than simpy on the same requests. Run from the repository root:

    python benchmarks/bench_des.py [--requests N]

The scenario is a VGG-like cut: 4 clients sending 50 kB activations over LTE (promotion and
tail), noise generation on the device, one cloud GPU, exponential service times. The engines
are timed on one RequestSet, best of `--repeat` runs each, and their records are checked equal.
The last line is JSON.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hwmodels.link import LinkModel  # noqa: E402
from sim.des import ArrivalSpec, CloudQueue, SimSettings, StageCosts, simulate  # noqa: E402
from sim.des import fastpath, simpy_model  # noqa: E402
from sim.des.radio import RadioParams  # noqa: E402
from sim.des.workload import RECORD_FIELDS, build_requests  # noqa: E402

LTE = LinkModel(name="lte", uplink_mbps=6.0, downlink_mbps=13.0, rtt_ms=70.0,
                alpha_up_mw_per_mbps=438.39, alpha_down_mw_per_mbps=51.97, beta_mw=1288.04,
                promotion_ms=260.0, promotion_power_mw=1210.7, tail_ms=11576.0,
                tail_power_mw=1060.0, idle_power_mw=11.4)
COSTS = StageCosts(edge_compute_s=0.020, noise_s=0.003, uplink_bytes=50_000, downlink_bytes=40,
                   cloud_compute_s=tuple(0.004 + 0.002 * b for b in range(8)),
                   edge_active_power_w=10.0, edge_idle_power_w=1.5, noise_power_w=6.0,
                   cloud_active_power_w=220.0, cloud_idle_power_w=60.0)


def _best_s(fn, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--requests", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    n = args.requests
    settings = SimSettings(requests=n, clients=4, arrival=ArrivalSpec(rate_hz=2.0),
                           replications=1, min_replications=1, warmup_requests=n // 10,
                           service="exponential")
    cloud = CloudQueue()
    radio = RadioParams.from_link(LTE)
    req = build_requests(COSTS, LTE.uplink_transmit_s(COSTS.uplink_bytes),
                         LTE.downlink_transmit_s(COSTS.downlink_bytes), settings, 0)
    fastpath.run(req, radio, COSTS.cloud_compute_s[0])        # compile outside the timing

    simpy_s = _best_s(lambda: simpy_model.run(req, radio, cloud, COSTS.cloud_compute_s),
                      args.repeat)
    # The fast run takes milliseconds, so a neighbour's burst on the shared cores can double it;
    # more repeats give its best time the same protection the long simpy runs have.
    fast_s = _best_s(lambda: fastpath.run(req, radio, COSTS.cloud_compute_s[0]),
                     10 * args.repeat)
    a = simpy_model.run(req, radio, cloud, COSTS.cloud_compute_s)
    b = fastpath.run(req, radio, COSTS.cloud_compute_s[0])
    assert b is not None, "the fast path must be exact in this scenario"
    max_diff_s = max(float(np.nanmax(np.abs(getattr(a, f) - getattr(b, f))))
                     for f in RECORD_FIELDS if not np.isnan(getattr(a, f)).all())

    # End to end through simulate(): request generation, engine and output analysis.
    end_to_end_s = _best_s(lambda: simulate(COSTS, LTE, cloud, settings, engine="simpy"),
                           args.repeat)
    batching = CloudQueue(gpus=2, max_batch=8, max_wait_ms=5.0)
    batch_settings = SimSettings(requests=n, clients=16, arrival=ArrivalSpec(rate_hz=10.0),
                                 replications=1, min_replications=1, warmup_requests=n // 10,
                                 service="exponential")
    batching_s = _best_s(lambda: simulate(COSTS, LTE, batching, batch_settings), 1)

    figures = {
        "bench": "des",
        "requests": n,
        "simpy_requests_per_s": round(n / end_to_end_s),
        "simpy_engine_requests_per_s": round(n / simpy_s),
        "fast_path_requests_per_s": round(n / fast_s),
        "fast_path_speedup": round(simpy_s / fast_s, 1),
        "batching_simpy_requests_per_s": round(n / batching_s),
        "max_abs_diff_s": max_diff_s,
    }
    print(f"simpy, full pipeline end to end: {figures['simpy_requests_per_s']:>12,} requests/s "
          f"(target >= 30,000)")
    print(f"simpy engine alone:              {figures['simpy_engine_requests_per_s']:>12,} "
          f"requests/s")
    print(f"fast path (numba Lindley):       {figures['fast_path_requests_per_s']:>12,} "
          f"requests/s")
    print(f"fast path speedup on the same {n:,} requests: {figures['fast_path_speedup']}x "
          f"(target >= 100x); max difference {max_diff_s:.1e} s")
    print(f"simpy with 2 GPUs, batches of up to 8, 16 clients: "
          f"{figures['batching_simpy_requests_per_s']:,} requests/s")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
