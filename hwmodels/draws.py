"""How much a calibration depends on which networks were measured: a device column's preset
calibrated on the draws of seeds 0..N-1 (hwmodels.validate.calibration_draw, as `sim check-hw
--seed S` draws them), each scored on the networks it was not fitted to, beside least squares on
(kernels, MACs) fitted to the same draw. Used by `sim check-hw --draws N` and
`benchmarks/hw_draws.py`."""
from __future__ import annotations

import numpy as np
import pandas as pd

from hwmodels.netcost import LayerTable
from hwmodels.presets import device_preset
from hwmodels.targets import MAPE_MAX_PCT, TAU_MIN
from hwmodels.validate import COLUMN_BY_NAME, fit_draw, metrics


def column_draws(name: str, table: LayerTable, y_ms: np.ndarray, draws: int,
                 n: int) -> pd.DataFrame:
    """One row per seed 0..draws-1: the calibrated preset's and the baseline's tau and MAPE."""
    col = COLUMN_BY_NAME[name]
    base = device_preset(col.device)
    rows = []
    for seed in range(draws):
        draw = fit_draw(col, base, table, y_ms, n, seed)
        m = metrics(draw.predicted_ms[draw.test], y_ms[draw.test])
        r = metrics(draw.baseline_ms[draw.test], y_ms[draw.test])
        rows.append({"seed": seed, "kendall_tau": m["kendall_tau"], "mape_pct": m["mape_pct"],
                     "lsq_kendall_tau": r["kendall_tau"], "lsq_mape_pct": r["mape_pct"]})
    return pd.DataFrame(rows)


def draw_summary(name: str, n: int, d: pd.DataFrame) -> dict:
    """Mean and range over the draws, how many beat the baseline and meet each target."""
    tau, mape = d["kendall_tau"], d["mape_pct"]
    return {"column": name, "train_networks": n, "draws": len(d),
            "tau_mean": float(tau.mean()), "tau_min": float(tau.min()),
            "tau_max": float(tau.max()), "tau_ref_mean": float(d["lsq_kendall_tau"].mean()),
            "tau_wins": int((tau > d["lsq_kendall_tau"]).sum()),
            "mape_mean_pct": float(mape.mean()), "mape_min_pct": float(mape.min()),
            "mape_max_pct": float(mape.max()),
            "mape_ref_mean_pct": float(d["lsq_mape_pct"].mean()),
            "mape_wins": int((mape < d["lsq_mape_pct"]).sum()),
            "tau_target_met": int((tau >= TAU_MIN).sum()),
            "mape_target_met": int((mape <= MAPE_MAX_PCT).sum())}
