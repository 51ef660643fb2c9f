"""The accuracy report read against its targets: for each device column, whether the preset
calibrated on 10 networks reaches Kendall tau >= 0.90 and MAPE <= 10 % on the networks it was
not fitted to and beats least squares on (kernels, MACs) fitted to the same ten, and, where a
target is missed, what misses it:
- the measurements, when no model can reach it: over the twin networks (hwmodels.validate) the
  noise ceiling's upper bound is below the tau target, or the MAPE floor above the MAPE target;
- for tau, the model family, when the preset fitted to every network (the draw bound's shape:
  a scale does not change a rank) misses it as well;
- for MAPE, the draw, when the draw bound (that preset given only a scale from these ten)
  misses it as well: no model of this family calibrated on these ten reaches it;
- the fit, when the bound reaches it.
Without the draw bound's rows (`sim check-hw --draw-bound`) the last two cannot be told apart.
With them come the data-rich references (hwmodels.references), whose figures each miss quotes:
what free layer costs and boosted trees learned from 80 % of the networks reach.
The uncalibrated `titan-xp` at batch 1 has a target of its own: a median predicted/measured
ratio in [0.67, 1.5].
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from hwmodels.validate import BOUND, CALIBRATED, FREE_COSTS, LSQ, TREES

TAU_MIN = 0.90
MAPE_MAX_PCT = 10.0
RATIO_RANGE = (0.67, 1.5)           # uncalibrated titan-xp, NAS-Bench-201 at batch 1

TARGET_HEADERS = {
    "column": "measured column", "device": "preset", "kendall_tau": "tau",
    "tau_met": f"tau >= {TAU_MIN:.2f}", "mape_pct": "MAPE %",
    "mape_met": f"MAPE <= {MAPE_MAX_PCT:g} %", "beats_lsq": "beats LSQ (tau, MAPE)",
    "why": "where a target is missed, what misses it",
}


def _yes(ok: bool) -> str:
    return "yes" if ok else "no"


def _learned(refs: dict[str, pd.Series], metric: str, unit: str) -> str:
    """What the references reach in `metric`, as a clause; empty without them."""
    if FREE_COSTS not in refs or TREES not in refs:
        return ""
    digits = 4 if metric == "kendall_tau" else 2
    return (f"; learned from 80 % of the networks, free layer costs reach "
            f"{refs[FREE_COSTS][metric]:.{digits}f}{unit} and boosted trees "
            f"{refs[TREES][metric]:.{digits}f}{unit}")


def _tau_miss(row: pd.Series, bound: pd.Series | None) -> str:
    if np.isfinite(row["ceiling_tau_high"]) and row["ceiling_tau_high"] < TAU_MIN:
        return (f"tau: the measurements, as far as the twins tell (their noise ceiling: no "
                f"model exceeds {row['ceiling_tau_high']:.4f} on them; this one "
                f"{row['kendall_tau_twins']:.4f}; over all networks the ceiling is estimated "
                f"at {row['ceiling_tau_all_est']:.4f})")
    if bound is None:
        return "tau: the fit or the draw (--draw-bound tells which)"
    who = "the model family" if bound["kendall_tau"] < TAU_MIN else "the fit"
    return f"tau: {who} (fitted to all networks it reaches {bound['kendall_tau']:.4f})"


def _mape_miss(row: pd.Series, bound: pd.Series | None) -> str:
    if np.isfinite(row["mape_floor_pct"]) and row["mape_floor_pct"] > MAPE_MAX_PCT:
        return (f"MAPE: the measurements, as far as the twins tell (their MAPE floor: no "
                f"model goes below {row['mape_floor_pct']:.2f} % on them; this one "
                f"{row['mape_twins_pct']:.2f} %)")
    if bound is None:
        return "MAPE: the fit or the draw (--draw-bound tells which)"
    who = "the draw" if bound["mape_pct"] > MAPE_MAX_PCT else "the fit"
    return f"MAPE: {who} (the draw bound: {bound['mape_pct']:.2f} %)"


def target_table(report: pd.DataFrame, n_networks: int = 10) -> pd.DataFrame:
    """One row per device column of `report` (hwmodels.validate.accuracy_report's table)."""
    rows = []
    fitted = report[report["train_networks"] == n_networks]
    for column, group in fitted.groupby("column", sort=False):
        by_model = {r["model"]: r for _, r in group.iterrows()}
        refs = {r["model"]: r for _, r in report[(report["column"] == column)
                                                 & report["model"].isin([FREE_COSTS, TREES])]
                .iterrows()}
        cal, lsq, bound = by_model[CALIBRATED], by_model[LSQ], by_model.get(BOUND)
        tau_met = bool(cal["kendall_tau"] >= TAU_MIN)
        mape_met = bool(cal["mape_pct"] <= MAPE_MAX_PCT)
        beats = (bool(cal["kendall_tau"] > lsq["kendall_tau"]),
                 bool(cal["mape_pct"] < lsq["mape_pct"]))
        why = []
        if not tau_met:
            why.append(_tau_miss(cal, bound) + _learned(refs, "kendall_tau", ""))
        if not mape_met:
            why.append(_mape_miss(cal, bound) + _learned(refs, "mape_pct", " %"))
        if not all(beats):
            why.append("the (kernels, MACs) baseline is not beaten in "
                       + " and ".join(w for w, b in zip(("tau", "MAPE"), beats) if not b))
        rows.append({"column": column, "device": cal["device"],
                     "kendall_tau": cal["kendall_tau"], "tau_met": _yes(tau_met),
                     "mape_pct": cal["mape_pct"], "mape_met": _yes(mape_met),
                     "beats_lsq": ", ".join(_yes(b) for b in beats), "why": "; ".join(why)})
    return pd.DataFrame(rows, columns=list(TARGET_HEADERS))


def uncalibrated_ratio_line(report: pd.DataFrame) -> str | None:
    """The uncalibrated titan-xp target at batch 1, when the report has that column."""
    rows = report[(report["column"] == "titanxp_1_ms") & (report["train_networks"] == 0)]
    if rows.empty:
        return None
    ratio = float(rows["median_ratio"].iloc[0])
    met = RATIO_RANGE[0] <= ratio <= RATIO_RANGE[1]
    return (f"Uncalibrated `titan-xp` at batch 1: median predicted/measured {ratio:.3f} "
            f"(target {RATIO_RANGE[0]}-{RATIO_RANGE[1]}): {'met' if met else 'not met'}.")
