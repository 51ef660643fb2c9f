"""How well the Eyeriss-like model ranks the 15,625 NAS-Bench-201 networks by latency, against
HW-NAS-Bench's Eyeriss estimates (Accelergy + Timeloop; the `eyeriss_ms` column of
hwmodels/data/nb201-latency-ms.csv). Target (issue 15): Kendall tau >= 0.8, uncalibrated.

    python benchmarks/accel_nb201_rank.py [--sample N]

Reference in the same run: ranking by MACs alone. Also shown: the preset with each pooling
mapping (pools on a pooling unit, as depthwise convs, as dense convs: the preset's), so the
effect of that one assumption is visible. Prints tau, the ratio to the MACs baseline, the
model / reference latency spread, the time per network, then the preset against HW-NAS-Bench's
Eyeriss latency and energy of its six published FBNet networks
(hwmodels/data/hwnasbench-fbnet-examples.csv), and ends with one JSON line.
"""
from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path

import numpy as np
from scipy.stats import kendalltau

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hwmodels.accel import build_accelerator, layer_arrays  # noqa: E402
from hwmodels.accel.compare import nb201_reference  # noqa: E402
from partitioner.nb201_fast import profile_nb201_many  # noqa: E402

log = logging.getLogger("accel_nb201_rank")


def fbnet_ratios() -> dict:
    """The preset's latency and energy over HW-NAS-Bench's on the six FBNet examples."""
    import pandas as pd

    from hwmodels.published import FBNET_CSV
    from partitioner.profile import profile_model

    data = pd.read_csv(FBNET_CSV, dtype={"input_shape": str})
    model = build_accelerator("eyeriss")
    lat, energy = [], []
    for name, shape, classes in zip(data["model"], data["input_shape"], data["num_classes"]):
        graph = profile_model(name, tuple(int(d) for d in shape.split(",")),
                              num_classes=int(classes))
        result = model.evaluate(layer_arrays(graph.layers), 1)
        lat.append(result.latency_s.sum() * 1e3)
        energy.append(result.energy_j.sum() * 1e3)
    lat_ratio = np.array(lat) / data["eyeriss_ms"].to_numpy()
    energy_ratio = np.array(energy) / data["eyeriss_energy_mj"].to_numpy()
    log.info("FBNet examples (6): model / Timeloop latency %.2f - %.2f, energy %.2f - %.2f",
             lat_ratio.min(), lat_ratio.max(), energy_ratio.min(), energy_ratio.max())
    return {"fbnet_latency_ratio": [round(float(lat_ratio.min()), 3),
                                    round(float(lat_ratio.max()), 3)],
            "fbnet_energy_ratio": [round(float(energy_ratio.min()), 3),
                                   round(float(energy_ratio.max()), 3)]}


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sample", type=int, default=None, help="networks (default: all)")
    args = ap.parse_args()
    ref = nb201_reference()
    if args.sample:
        ref = ref.iloc[np.random.default_rng(0).choice(len(ref), args.sample, replace=False)]
    measured = ref["eyeriss_ms"].to_numpy()
    t0 = time.perf_counter()
    arrays = [layer_arrays(g.layers) for g in profile_nb201_many(list(ref["arch"]))]
    profile_s = time.perf_counter() - t0
    macs = np.array([a.macs.sum() for a in arrays])
    tau_macs = kendalltau(macs, measured).statistic
    out = {"bench": "accel_nb201_rank", "networks": len(ref), "tau_macs": round(tau_macs, 4),
           "profile_s": round(profile_s, 2)}
    log.info("%d networks profiled in %.1f s; MACs alone: tau %.3f", len(ref), profile_s,
             tau_macs)
    for mapping in ("vector", "depthwise_conv", "dense_conv"):
        model = build_accelerator("eyeriss", {"pool_mapping": mapping})
        t0 = time.perf_counter()
        lat = np.array([model.evaluate(a, 1).latency_s.sum() * 1e3 for a in arrays])
        per_net_ms = (time.perf_counter() - t0) / len(arrays) * 1e3
        tau = kendalltau(lat, measured).statistic
        ratio = lat / measured
        log.info("eyeriss, pools as %-14s tau %.3f (%.2fx the MACs baseline); model / "
                 "Timeloop latency median %.2f (%.2f - %.2f); %.2f ms per network", mapping, tau,
                 tau / tau_macs, np.median(ratio), ratio.min(), ratio.max(), per_net_ms)
        out[f"tau_{mapping}"] = round(tau, 4)
        out[f"median_ratio_{mapping}"] = round(float(np.median(ratio)), 3)
        out[f"ms_per_network_{mapping}"] = round(per_net_ms, 3)
    preset = build_accelerator("eyeriss").pool_mapping
    out["tau"] = out[f"tau_{preset}"]
    out["preset_pool_mapping"] = preset
    out.update(fbnet_ratios())
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
