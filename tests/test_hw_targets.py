"""The accuracy report read against its targets (hwmodels.targets): every verdict from a
hand-made report whose figures sit on either side of each target."""
import numpy as np
import pandas as pd
import pytest

from hwmodels.targets import (BOUND, CALIBRATED, FREE_COSTS, LSQ, TREES, target_table,
                              uncalibrated_ratio_line)


def report(tau, mape, lsq_tau=0.80, lsq_mape=20.0, ceiling_high=0.95, floor=4.0,
           bound=None, column="c_ms"):
    common = {"column": column, "device": "dev", "train_networks": 10}
    twins = {"ceiling_tau_high": ceiling_high, "ceiling_tau_all_est": ceiling_high - 0.004,
             "mape_floor_pct": floor,
             "kendall_tau_twins": tau - 0.01, "mape_twins_pct": mape + 0.5}
    rows = [{**common, "model": CALIBRATED, "kendall_tau": tau, "mape_pct": mape, **twins},
            {**common, "model": LSQ, "kendall_tau": lsq_tau, "mape_pct": lsq_mape, **twins}]
    if bound is not None:
        rows.append({**common, "model": BOUND, "kendall_tau": bound[0], "mape_pct": bound[1],
                     **twins})
    return pd.DataFrame(rows)


@pytest.mark.parametrize("kwargs, met, why", [
    ({"tau": 0.91, "mape": 9.9}, ("yes", "yes", "yes, yes"), ""),
    # the twins' ceiling below 0.90: the measurements, whatever the bound says
    ({"tau": 0.887, "mape": 3.5, "ceiling_high": 0.8997, "bound": (0.95, 3.0)},
     ("no", "yes", "yes, yes"), "tau: the measurements, as far as the twins tell (their noise "
                                "ceiling: no model exceeds 0.8997 on them; this one 0.8770; "
                                "over all networks the ceiling is estimated at 0.8957)"),
    ({"tau": 0.8998, "mape": 3.0, "bound": (0.8995, 2.9)}, ("no", "yes", "yes, yes"),
     "tau: the model family (fitted to all networks it reaches 0.8995)"),
    ({"tau": 0.899, "mape": 11.86, "bound": (0.9053, 8.79)}, ("no", "no", "yes, yes"),
     "tau: the fit (fitted to all networks it reaches 0.9053); MAPE: the fit (the draw bound: "
     "8.79 %)"),
    ({"tau": 0.906, "mape": 11.37, "bound": (0.91, 11.12)}, ("yes", "no", "yes, yes"),
     "MAPE: the draw (the draw bound: 11.12 %)"),
    ({"tau": 0.95, "mape": 12.0, "floor": 10.5}, ("yes", "no", "yes, yes"),
     "MAPE: the measurements, as far as the twins tell (their MAPE floor: no model goes below "
     "10.50 % on them; this one 12.50 %)"),
    ({"tau": 0.92, "mape": 11.0}, ("yes", "no", "yes, yes"),
     "MAPE: the fit or the draw (--draw-bound tells which)"),
    # a tie with the baseline is not a win
    ({"tau": 0.91, "mape": 5.0, "lsq_tau": 0.91, "lsq_mape": 4.0}, ("yes", "yes", "no, no"),
     "the (kernels, MACs) baseline is not beaten in tau and MAPE"),
])
def test_each_verdict(kwargs, met, why):
    row = target_table(report(**kwargs)).iloc[0]
    assert (row["tau_met"], row["mape_met"], row["beats_lsq"]) == met
    assert row["why"] == why


def test_each_miss_quotes_what_the_references_learned_from_80_percent():
    table = report(0.899, 11.86, bound=(0.9053, 8.79))
    refs = table.iloc[:1].assign(train_networks=12500)
    table = pd.concat([table, refs.assign(model=FREE_COSTS, kendall_tau=0.9026, mape_pct=7.89),
                       refs.assign(model=TREES, kendall_tau=0.8872, mape_pct=9.99)])
    assert target_table(table).iloc[0]["why"] == (
        "tau: the fit (fitted to all networks it reaches 0.9053); learned from 80 % of the "
        "networks, free layer costs reach 0.9026 and boosted trees 0.8872; MAPE: the fit (the "
        "draw bound: 8.79 %); learned from 80 % of the networks, free layer costs reach 7.89 % "
        "and boosted trees 9.99 %")


def test_a_sample_without_a_ceiling_is_not_put_down_to_the_measurements():
    row = target_table(report(tau=0.85, mape=3.0, ceiling_high=np.nan)).iloc[0]
    assert row["why"] == "tau: the fit or the draw (--draw-bound tells which)"


def test_one_row_per_column_in_report_order_and_the_uncalibrated_ratio():
    both = pd.concat([report(0.95, 2.0, column="b_ms"), report(0.85, 2.0, column="a_ms")])
    assert target_table(both)["column"].tolist() == ["b_ms", "a_ms"]
    assert uncalibrated_ratio_line(both) is None
    for ratio, verdict in ((0.733, "met"), (0.66, "not met"), (1.5, "met")):
        unc = pd.DataFrame([{"column": "titanxp_1_ms", "train_networks": 0,
                             "median_ratio": ratio}])
        assert uncalibrated_ratio_line(unc).endswith(f"(target 0.67-1.5): {verdict}.")
