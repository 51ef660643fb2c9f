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

from hwmodels.draws import column_draws, draw_summary  # noqa: E402
from hwmodels.validate import COLUMN_BY_NAME, COLUMNS, data_table, load_data  # noqa: E402

log = logging.getLogger("hw_draws")


def summary(name: str, table, y_ms: np.ndarray, draws: int, n: int) -> dict:
    r = draw_summary(name, n, column_draws(name, table, y_ms, draws, n))
    rounded = {k: (round(v, 4) if k.startswith("tau_") and isinstance(v, float) else
                   round(v, 3) if isinstance(v, float) else v) for k, v in r.items()}
    return {**rounded, "mape_ratio": round(r["mape_mean_pct"] / r["mape_ref_mean_pct"], 3)}


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
        r = summary(name, table, df[name].to_numpy(dtype=float), args.draws, args.networks)
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
