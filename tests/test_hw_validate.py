"""The accuracy report against the vendored NAS-Bench-201 measurements, and the CI guard on
what the calibrated models reach there."""
import numpy as np
import pandas as pd
import pytest

from scipy.stats import kendalltau

from hwmodels.validate import (COLUMN_BY_NAME, DATA_CSV, ceiling_over_all, check_column,
                               measurement_drift, metrics, noise_ceiling,
                               twin_mape, twin_pairs)


def test_metrics_by_hand():
    meas = np.array([0.2, 1.0, 2.0, 4.0])
    m = metrics(2 * meas, meas)
    assert m["kendall_tau"] == pytest.approx(1.0) and m["spearman_rho"] == pytest.approx(1.0)
    assert m["median_ratio"] == pytest.approx(2.0)
    assert m["mape_pct"] == pytest.approx(100.0)          # 0.2 ms is below the 0.5 ms floor
    swapped = metrics(np.array([1.0, 2.0, 4.0, 3.0]), np.array([1.0, 2.0, 3.0, 4.0]))
    assert swapped["kendall_tau"] == pytest.approx(4 / 6)  # 5 concordant, 1 discordant pair
    assert np.isnan(metrics(meas, meas, rank_only=True)["mape_pct"])


def test_twins_are_the_same_graph_with_nodes_1_and_2_swapped():
    archs = list(pd.read_csv(DATA_CSV)["arch"])
    pairs = twin_pairs(archs)
    # edge 1 -> 2 `none` (5^5 genotypes), less the 5^3 the swap maps onto themselves, in pairs
    assert len(pairs) == (5 ** 5 - 5 ** 3) // 2
    twins = {frozenset((archs[i], archs[j])) for i, j in pairs}
    assert frozenset(("|skip_connect~0|+|nor_conv_3x3~0|none~1|+|none~0|avg_pool_3x3~1|none~2|",
                      "|nor_conv_3x3~0|+|skip_connect~0|none~1|+|none~0|none~1|avg_pool_3x3~2|")
                     ) in twins


def test_noise_ceiling_brackets_the_tau_against_the_noise_free_latency():
    rng = np.random.default_rng(3)
    truth = np.exp(rng.normal(2.0, 0.4, 2000))          # 1,000 twin pairs, same truth each
    truth[1::2] = truth[::2]
    measured = truth * np.exp(rng.normal(0.0, 0.05, truth.size))
    pairs = np.arange(truth.size).reshape(-1, 2)
    c = noise_ceiling(measured, pairs)
    best = kendalltau(measured, truth)[0]
    assert c["twin_pairs"] == 1000 and c["ceiling_tau_low"] <= best <= c["ceiling_tau_high"]
    assert c["ceiling_tau_high"] == pytest.approx(np.sqrt(c["ceiling_tau_low"]))
    assert noise_ceiling(truth, pairs)["ceiling_tau_low"] == pytest.approx(1.0)
    assert np.isnan(noise_ceiling(measured, pairs[:10])["ceiling_tau_high"])   # too few


def test_ceiling_over_all_networks_by_hand_and_against_a_known_noise_free_latency():
    # gaps 0.1, 0.2, 0.3 in log; twin gaps 0.05..0.35: P(|Delta| <= gap) = 1/4, 2/4, 3/4
    three = np.exp([0.0, 0.1, 0.3])
    assert ceiling_over_all(three, np.array([0.05, 0.15, 0.25, 0.35])) == pytest.approx(0.5)
    assert ceiling_over_all(three, np.array([0.15])) == pytest.approx(2 / 3)
    rng = np.random.default_rng(5)
    for spread, scatter in ((0.25, 0.03), (0.25, 0.05), (0.6, 0.05)):
        truth = rng.normal(0.0, spread, 4000)
        measured = np.exp(truth + rng.normal(0.0, scatter, truth.size))
        # 1,500 twin gaps, as in the data; over 30 seeds the error's sd is <= 0.0035 here
        twin_gaps = np.abs(rng.normal(0.0, scatter, 1500) - rng.normal(0.0, scatter, 1500))
        assert ceiling_over_all(measured, twin_gaps) == pytest.approx(
            kendalltau(measured, truth)[0], abs=0.01)
    # noise_ceiling carries it, from the twins' own gaps
    truth = np.exp(rng.normal(2.0, 0.4, 2000))
    truth[1::2] = truth[::2]
    measured = truth * np.exp(rng.normal(0.0, 0.05, truth.size))
    c = noise_ceiling(measured, np.arange(truth.size).reshape(-1, 2))
    assert c["ceiling_tau_all_est"] == pytest.approx(kendalltau(measured, truth)[0], abs=0.01)


def test_twin_mape_floor_by_hand_and_attained_by_predicting_the_smaller_twin():
    rng = np.random.default_rng(5)
    y = np.exp(rng.normal(1.0, 0.5, 200))             # 100 twin pairs of made-up latencies
    pairs = np.arange(200).reshape(-1, 2)
    y[:2] = [2.0, 3.0]                                  # pair 0: floor share |2 - 3| / 3 / 2
    floor = 100 * np.mean(np.abs(y[::2] - y[1::2]) / np.maximum(y[::2], y[1::2])) / 2
    smaller = np.repeat(np.minimum(y[::2], y[1::2]), 2)
    attained = twin_mape(smaller, y, pairs)
    assert attained["mape_floor_pct"] == pytest.approx(floor)
    assert attained["mape_twins_pct"] == pytest.approx(floor)     # the least any model gets
    # any other prediction alike for both twins does worse
    for pred in (np.repeat(np.sqrt(y[::2] * y[1::2]), 2), np.repeat((y[::2] + y[1::2]) / 2, 2),
                 np.repeat(np.maximum(y[::2], y[1::2]), 2), np.full(200, 3.0)):
        assert twin_mape(pred, y, pairs)["mape_twins_pct"] > floor
    assert np.isnan(twin_mape(None, y, pairs)["mape_twins_pct"])   # a rank-only model
    y[1] = 0.3                                          # pair 0 below 0.5 ms: left out
    assert twin_mape(y, y, pairs)["mape_floor_pct"] > 0 and twin_mape(
        y, y, pairs[1:])["mape_floor_pct"] == twin_mape(y, y, pairs)["mape_floor_pct"]
    assert np.isnan(twin_mape(y, y, pairs[:10])["mape_floor_pct"])    # too few pairs


def _rows(sample, column):
    df, table = sample
    rows, _ = check_column(COLUMN_BY_NAME[column], table, df[column].to_numpy(float),
                           train_sizes=(10,), seed=0)
    return {r["model"]: r for r in rows}


def _guarded(sample, column, tau_min, mape_max_pct):
    """The column's report rows, once its 10-network calibration has been checked against
    the guard: tau and MAPE within the margins, and better than the (kernels, MACs) LSQ."""
    rows = _rows(sample, column)
    calibrated, lsq = rows["preset calibrated"], rows["baseline: LSQ (kernels, MACs)"]
    assert calibrated["kendall_tau"] >= tau_min
    assert calibrated["mape_pct"] <= mape_max_pct
    assert calibrated["kendall_tau"] > lsq["kendall_tau"]
    assert calibrated["mape_pct"] < lsq["mape_pct"]
    return rows


def test_guard_titan_xp_batch_1(nb201_sample):
    """Regression guard (issue 14, point 7). Reached on this sample (500 networks, seed 0;
    fit on 10 of them, evaluated on the other 490): calibrated tau 0.886, MAPE 3.3 %,
    uncalibrated median ratio 0.745 since a skip edge's identity call is priced (the margins,
    0.018 in tau and 1.2 points of MAPE, were set on 0.878 and 3.8 %; 0.880 while float
    rounding broke the model's ties)."""
    rows = _rows(nb201_sample, "titanxp_1_ms")
    assert rows["preset calibrated"]["kendall_tau"] >= 0.86
    assert rows["preset calibrated"]["mape_pct"] <= 5.0
    assert 0.67 <= rows["preset (uncalibrated)"]["median_ratio"] <= 1.5
    assert rows["preset calibrated"]["mape_pct"] < rows["baseline: LSQ (kernels, MACs)"][
        "mape_pct"]


# The TensorFlow Lite columns (rewrites modelled in hwmodels.folding; own overheads held and one
# conv efficiency on these devices). Reached on this sample: Pi 4 calibrated tau 0.898 (LSQ
# baseline 0.689), MAPE 10.4 % (baseline 44.6 %) - with own overheads and a conv size slope
# fitted 0.848 and 16.1 %, before the rewrites were modelled 0.719 and 34.4 %; Pixel 3 tau 0.901
# (baseline 0.642), MAPE 7.3 % (baseline 36.1 %). Margins: 0.02 in tau, 2 points of MAPE.
@pytest.mark.parametrize("column, tau_min, mape_max_pct",
                         [("raspi4_ms", 0.875, 12.5), ("pixel3_ms", 0.88, 9.3)])
def test_guard_tflite_columns(nb201_sample, column, tau_min, mape_max_pct):
    _guarded(nb201_sample, column, tau_min, mape_max_pct)


def test_check_hw_command_writes_table_and_scatter(tmp_path, capsys):
    from sim.cli import main
    code = main(["check-hw", "--sample", "200", "--columns", "titanxp_1_ms", "--out",
                 str(tmp_path)])
    out, err = capsys.readouterr()
    assert code == 0, err
    table = pd.read_csv(tmp_path / "hw_accuracy.csv")
    # uncalibrated, then per fit size: calibrated, MACs, LSQ
    assert table["model"].tolist()[:4] == ["preset (uncalibrated)", "preset calibrated",
                                           "baseline: MACs (rank only)",
                                           "baseline: LSQ (kernels, MACs)"]
    assert set(table["train_networks"]) == {0, 10, 100}
    # 200 of 15,625 networks hold too few twin pairs for a ceiling: columns there, left empty
    assert {"kendall_tau_twins", "twin_pairs", "ceiling_tau_low", "ceiling_tau_high",
            "mape_twins_pct", "mape_floor_pct"} <= set(table.columns)
    assert table[["ceiling_tau_high", "mape_floor_pct"]].isna().all().all()
    caption, blank, header = (tmp_path / "hw_accuracy.md").read_text().split("\n")[:3]
    assert "a sample of 200 networks drawn with seed 0" in caption and "seed 0" in caption
    assert blank == "" and header.startswith("| measured column")
    targets = (tmp_path / "hw_accuracy.md").read_text().split("## Against the targets")[1]
    assert "| titanxp_1_ms | titan-xp | 0." in targets and "median predicted/measured" in targets
    assert "## Against the targets" in out and "## Jetson TX2: HW-NAS-Bench's published" in out
    assert (tmp_path / "scatter_titanxp_1_ms.png").stat().st_size > 1000
    tex = (tmp_path / "hw_summary.tex").read_text()
    row = next(line for line in tex.splitlines() if line.startswith(r"titanxp\_1\_ms"))
    cal = table[(table["model"] == "preset calibrated") & (table["train_networks"] == 10)]
    assert f"{cal['kendall_tau'].iloc[0]:.3f}" in row and r"\caption{Measured latencies" in tex
    assert main(["check-hw", "--columns", "no_such_ms", "--out", str(tmp_path)]) == 2


def test_measurement_drift_by_hand():
    """A step in the measurement session (the first 400 networks measured 25 % slow) against a
    model that is right: 8 % MAPE, all of it drift; iid scatter shows no autocorrelation."""
    pred = np.ones(1000)
    meas = np.r_[np.full(400, 1.25), np.ones(600)]
    d = measurement_drift(pred, meas)
    assert d["residual_lag1_autocorr"] > 0.99
    assert 100 * np.mean(np.abs(pred - meas) / meas) == pytest.approx(8.0)
    assert d["mape_drift_removed_pct"] == pytest.approx(0.0, abs=1e-12)
    # a model 10 % fast everywhere keeps its scale error once the drift is out
    assert measurement_drift(0.9 * pred, meas)["mape_drift_removed_pct"] == pytest.approx(10.0)
    rng = np.random.default_rng(0)
    noisy = np.exp(rng.normal(0.0, 0.05, 2000))
    assert abs(measurement_drift(np.ones(2000), noisy)["residual_lag1_autocorr"]) < 0.1
    # MAPE only over the networks scored (here 100 slow ones): 20 % before, 0 after
    first = np.r_[np.ones(100, bool), np.zeros(900, bool)]
    assert measurement_drift(pred, meas, first)["mape_drift_removed_pct"] == pytest.approx(0.0)


def test_draw_bound_recovers_a_scale_from_the_draw(nb201_sample):
    """Measurements that are the preset's own predictions times 1.7: the all-network fit finds
    the shape, one scale from each draw of 10 puts it back, so the bound is exact; the rows
    sit beside the calibrated ones."""
    from hwmodels.netcost import network_costs
    from hwmodels.presets import device_preset

    df, table = nb201_sample
    col = COLUMN_BY_NAME["titanxp_1_ms"]
    y = 1.7 * network_costs(device_preset(col.device), table, 1)[0] * 1e3
    rows, _ = check_column(col, table, y, train_sizes=(10,), seed=0, draw_bound=True)
    bound = {r["model"]: r for r in rows}["bound: all-network fit, scale from these"]
    assert bound["train_networks"] == 10
    assert bound["median_ratio"] == pytest.approx(1.0, abs=2e-3)
    assert bound["mape_pct"] < 0.5
    # the shape itself, network by network (not by Kendall tau: networks whose kernel launches
    # and identity calls add up to within 1e-5 of each other, 5 calls to 1 launch at 5 and 25
    # us, are near-ties that any fit's last digits reorder)
    from hwmodels.calibrate_net import fit_networks
    everyone = fit_networks(device_preset(col.device), table, np.ones(len(y), dtype=int), y)
    shape = network_costs(everyone.device, table, 1)[0] * 1e3 / y
    assert np.max(np.abs(shape / np.median(shape) - 1)) < 1e-3
    assert "bound: all-network fit, scale from these" not in {
        r["model"] for r in check_column(col, table, y, train_sizes=(10,), seed=0)[0]}


# HELP's other GPU columns (batching on a second Pascal GPU, two Turing GPUs), priced by presets
# written from datasheets with the Titan Xp's efficiencies and overheads, never fitted to these
# columns. Reached on this sample (10 fitted, 490 scored): calibrated tau 0.966 / 0.913 / 0.959
# / 0.956 / 0.968, MAPE 1.1 / 2.6 / 2.2 / 1.9 / 2.0 %; uncalibrated median ratio 0.919 / 0.969 /
# 0.950 / 1.141 / 0.863 (the thresholds were set at 0.952 / 0.911 / 0.956 / 0.955 / 0.976 and
# 1.8 / 2.9 / 2.4 / 2.7 / 2.3 %, before a skip edge's identity call was priced, less 0.02 in
# tau and plus 1.5 points of MAPE).
@pytest.mark.parametrize("column, tau_min, mape_max_pct", [
    ("1080ti_256_ms", 0.93, 3.3), ("2080ti_32_ms", 0.89, 4.4), ("2080ti_256_ms", 0.93, 3.9),
    ("titanrtx_32_ms", 0.93, 4.2), ("titanrtx_256_ms", 0.95, 3.8)])
def test_guard_more_gpu_columns(nb201_sample, column, tau_min, mape_max_pct):
    rows = _guarded(nb201_sample, column, tau_min, mape_max_pct)
    assert 0.67 <= rows["preset (uncalibrated)"]["median_ratio"] <= 1.5
