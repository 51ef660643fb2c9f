"""How much the 10-network calibration depends on which 10 networks were measured: for each
device column of the vendored NAS-Bench-201 measurements (hwmodels/data/nb201-latency-ms.csv),
the draws of seeds 0..N-1 (as `sim check-hw --seed S` draws them), each fitted and evaluated
on the other networks, beside the reference fitted on the same draw in the same run: least
squares of latency on (kernels, MACs) with an intercept.

    python benchmarks/hw_draws.py [--draws 20] [--networks 10] [--columns raspi4_ms,...]

Prints, per column, Kendall tau and MAPE (networks measured at >= 0.5 ms) of the calibrated
preset (mean, min-max over the draws) and of the reference, how many draws the preset beats it
in each, and the ratio of their mean MAPEs; ends with one JSON line of the figures. About 10 s
once the 15,625 profiles are cached.
"""
from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hwmodels.calibrate_net import fit_networks  # noqa: E402
from hwmodels.crossval import kernels_macs_baseline  # noqa: E402
from hwmodels.netcost import network_costs  # noqa: E402
from hwmodels.presets import device_preset  # noqa: E402
from hwmodels.validate import (COLUMN_BY_NAME, COLUMNS, calibration_draw, data_table,  # noqa: E402
                               load_data, metrics)

log = logging.getLogger("hw_draws")


def column_draws(name: str, table, y_ms: np.ndarray, draws: int, n: int) -> dict:
    col = COLUMN_BY_NAME[name]
    base = device_preset(col.device)
    rows = []
    for seed in range(draws):
        train = calibration_draw(len(y_ms), n, seed)
        test = np.ones(len(y_ms), dtype=bool)
        test[train] = False
        fit = fit_networks(base, table.select(train), np.full(n, col.batch_size), y_ms[train])
        pred = network_costs(fit.device, table, col.batch_size)[0] * 1e3
        ref = kernels_macs_baseline(table, train, y_ms)
        m, r = metrics(pred[test], y_ms[test]), metrics(ref[test], y_ms[test])
        rows.append((m["kendall_tau"], r["kendall_tau"], m["mape_pct"], r["mape_pct"]))
    tau, tau_ref, mape, mape_ref = np.array(rows).T
    return {"column": name, "tau_mean": round(float(tau.mean()), 4),
            "tau_min": round(float(tau.min()), 4), "tau_max": round(float(tau.max()), 4),
            "tau_ref_mean": round(float(tau_ref.mean()), 4),
            "tau_wins": int((tau > tau_ref).sum()),
            "mape_mean_pct": round(float(mape.mean()), 3),
            "mape_min_pct": round(float(mape.min()), 3),
            "mape_max_pct": round(float(mape.max()), 3),
            "mape_ref_mean_pct": round(float(mape_ref.mean()), 3),
            "mape_wins": int((mape < mape_ref).sum()),
            "mape_ratio": round(float(mape.mean() / mape_ref.mean()), 3)}


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--draws", type=int, default=20, help="seeds 0..N-1 (default 20)")
    ap.add_argument("--networks", type=int, default=10, help="networks per draw (default 10)")
    ap.add_argument("--columns", default=None, help="comma-separated (default: all)")
    args = ap.parse_args()
    names = args.columns.split(",") if args.columns else [c.name for c in COLUMNS]
    unknown = [n for n in names if n not in COLUMN_BY_NAME]
    if unknown or args.draws < 1 or args.networks < 3:
        log.error("--columns must be among %s; --draws >= 1, --networks >= 3",
                  ", ".join(COLUMN_BY_NAME))
        return 2
    df = load_data()
    table = data_table(df)
    out = {"bench": "hw_draws", "draws": args.draws, "networks": args.networks, "columns": []}
    log.info("%d draws of %d networks each, evaluated on the other %d; reference: LSQ "
             "(kernels, MACs) on the same draw", args.draws, args.networks,
             len(df) - args.networks)
    for name in names:
        r = column_draws(name, table, df[name].to_numpy(dtype=float), args.draws,
                         args.networks)
        log.info("%-15s tau %.3f (%.3f-%.3f), reference %.3f, better in %2d of %d | MAPE "
                 "%.1f %% (%.1f-%.1f), reference %.1f %%, better in %2d of %d; MAPE ratio "
                 "%.2f", name, r["tau_mean"], r["tau_min"], r["tau_max"], r["tau_ref_mean"],
                 r["tau_wins"], args.draws, r["mape_mean_pct"], r["mape_min_pct"],
                 r["mape_max_pct"], r["mape_ref_mean_pct"], r["mape_wins"], args.draws,
                 r["mape_ratio"])
        out["columns"].append(r)
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
