"""How accurate are the device models? Predictions against the vendored NAS-Bench-201
measurements (hwmodels/data/nb201-latency-ms.csv), per device column.

For each column: the uncalibrated preset, and the preset calibrated (whole-network fit,
hwmodels.calibrate_net) on 10 and on 100 networks drawn with a fixed seed, each evaluated on
all the other networks; beside two baselines fitted on the same networks: MACs alone (a rank
only) and least squares of latency on (number of kernels, MACs) with an intercept.
Figures: Kendall tau, Spearman rho, median predicted/measured, MAPE over networks measured at
>= 0.5 ms (the Pi and phone columns hold folded networks far below that).

Noise ceiling: 1,500 pairs of genotypes are twins, the same graph with cell nodes 1 and 2
swapped (possible where the edge 1 -> 2 is `none`); on a device both run the same kernels on
the same shapes, so their measured difference is the measurements' own scatter. Over the
twins, the Kendall tau of each one's latency against its twin's (tau_twin) bounds the tau of
measured latency against the best deterministic function of the architecture, its noise-free
latency: tau_twin <= ceiling <= sqrt(tau_twin) (two independent noisy comparisons of the same
pair disagree with probability 2p(1 - p) where each alone misorders it with probability p).
Twins a folding converter rewrites differently (its rewrites go in program order) are left out
on those devices: they no longer run the same kernels. Each model's tau over the twins is
reported beside, to be read against the ceiling. The bracket holds over the twins only; over
all networks the ceiling is estimated (`ceiling_over_all`) on the assumption that every
network's scatter is like the twins'. Where a model's tau over all networks exceeds that
estimate, the assumption fails there (the scatter is uneven across the networks).
The same twins bound the error: a model predicts both twins alike (they run the same kernels),
so over a pair (a, b) its absolute relative errors sum to at least |a - b| / max(a, b) (the
least it can be, predicting the smaller). Half the mean of that over the pairs, the MAPE floor,
is a lower bound on any such model's MAPE over those twins, from the scatter alone; were the
two twins' scatters independent and alike, a model predicting each network's median
measurement would sit at about twice it at most. Each model's MAPE over the same twins is
reported beside.

Measurement drift: the data are in NAS-Bench-201's index order, in which neighbours are
structurally unrelated (adjacent genotypes share 1.20 of their 6 edges on average, as random
pairs do), so a model's log residual that is correlated from one network to the next follows
the measurement session (the order the networks were measured in), not the architecture. The
report gives each model's lag-1 autocorrelation of its log residual in that order and its MAPE
with the drift taken out: the residual's running median over DRIFT_WINDOW neighbours, less its
overall median (so a fit's overall scale error stays in the figure). No model uses it; it says
how much of the error no function of the architecture can remove. Only on the full data set
(a --sample's neighbours were not measured one after the other).

Draw bound (opt-in, `draw_bound`): the preset fitted to every network, then given only one
scale factor from each calibration draw (the median of log(measured / predicted) over the n
networks) and scored on the others. It is what a model of this family with the best shape it
can have would reach from those n measurements alone: where it misses a target too, the draw
(which networks were measured, and how they happened to measure) is what misses, not the fit.
It uses every network's measurement, so it is a bound, never a result. With it come two
data-rich references learned from 80 % of the networks (hwmodels.references): free costs per
distinct layer, and boosted trees on the cell edges.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import kendalltau, spearmanr

from core.errors import UserError
from hwmodels.calibrate_net import fit_networks
from hwmodels.crossval import kernels_macs_baseline
from hwmodels.device import DeviceModel
from hwmodels.netcost import LayerTable, network_costs
from hwmodels.networks import network_table, parse_networks
from hwmodels.presets import device_preset
from hwmodels.references import FOLDS, boosted_trees_ms, free_layer_costs_ms
from partitioner.models.nb201_arch import parse_arch

log = logging.getLogger(__name__)

DATA_CSV = Path(__file__).parent / "data" / "nb201-latency-ms.csv"
MAPE_MIN_MS = 0.5
MIN_TWIN_PAIRS = 50         # fewer pairs (a small --sample) give no ceiling
DRIFT_WINDOW = 51           # neighbours in measurement order whose median residual is the drift
# the report's model column
UNCALIBRATED, CALIBRATED = "preset (uncalibrated)", "preset calibrated"
MACS, LSQ = "baseline: MACs (rank only)", "baseline: LSQ (kernels, MACs)"
BOUND = "bound: all-network fit, scale from these"
FREE_COSTS = "reference: free layer costs, 5-fold"
TREES = "reference: boosted trees on edges, 5-fold"


@dataclass(frozen=True)
class Column:
    name: str           # column of the data file
    device: str         # preset it is checked against
    batch_size: int


COLUMNS = (
    Column("titanxp_1_ms", "titan-xp", 1), Column("titanxp_32_ms", "titan-xp", 32),
    Column("titanxp_256_ms", "titan-xp", 256), Column("1080ti_1_ms", "gtx-1080-ti", 1),
    Column("gold_6240_ms", "xeon-gold-6240", 1), Column("raspi4_ms", "raspberry-pi-4", 1),
    Column("pixel3_ms", "pixel-3", 1),
    # more of HELP's devices: batching on a second Pascal GPU, two Turing GPUs, three more Xeons
    Column("1080ti_32_ms", "gtx-1080-ti", 32), Column("1080ti_256_ms", "gtx-1080-ti", 256),
    Column("2080ti_1_ms", "rtx-2080-ti", 1), Column("2080ti_32_ms", "rtx-2080-ti", 32),
    Column("2080ti_256_ms", "rtx-2080-ti", 256), Column("titanrtx_1_ms", "titan-rtx", 1),
    Column("titanrtx_32_ms", "titan-rtx", 32), Column("titanrtx_256_ms", "titan-rtx", 256),
    Column("gold_6226_ms", "xeon-gold-6226", 1), Column("silver_4114_ms", "xeon-silver-4114", 1),
    Column("silver_4210r_ms", "xeon-silver-4210r", 1),
)
COLUMN_BY_NAME = {c.name: c for c in COLUMNS}


def load_data(sample: int | None = None, seed: int = 0) -> pd.DataFrame:
    df = pd.read_csv(DATA_CSV)
    if sample is not None:
        if not 0 < sample <= len(df):
            raise UserError(f"--sample must be in 1..{len(df)}, got {sample}")
        rng = np.random.default_rng(seed)
        df = df.iloc[np.sort(rng.choice(len(df), sample, replace=False))]
    return df.reset_index(drop=True)


def data_table(df: pd.DataFrame, cache_dir: str | None = None) -> LayerTable:
    frame = pd.DataFrame({"model": "nb201:" + df["arch"]})
    return network_table(parse_networks(frame, DATA_CSV), DATA_CSV, cache_dir)


def metrics(pred: np.ndarray, meas: np.ndarray, rank_only: bool = False) -> dict[str, float]:
    out = {"kendall_tau": float(kendalltau(pred, meas)[0]),
           "spearman_rho": float(spearmanr(pred, meas)[0]),
           "median_ratio": np.nan, "mape_pct": np.nan}
    if not rank_only:
        m = meas >= MAPE_MIN_MS
        out["median_ratio"] = float(np.median(pred / meas))
        out["mape_pct"] = float(100 * np.mean(np.abs(pred[m] - meas[m]) / meas[m]))
    return out


def measurement_drift(pred: np.ndarray, meas: np.ndarray,
                      scored: np.ndarray | None = None) -> dict[str, float]:
    """Lag-1 autocorrelation of log(meas / pred) over all networks in the data's order, and
    the MAPE over the `scored` ones (all by default) at >= MAPE_MIN_MS once the residual's
    running median, less its overall median, is divided out of the measurements (module
    docstring)."""
    m = meas >= MAPE_MIN_MS
    r = pd.Series(np.log(meas / pred)).where(m)
    overall = r.median()
    x = r.fillna(overall).to_numpy() - overall
    drift = r.rolling(DRIFT_WINDOW, center=True, min_periods=DRIFT_WINDOW // 5).median()
    steady = meas * np.exp(-(drift - overall).fillna(0.0).to_numpy())
    if scored is not None:
        m = m & scored
    return {"residual_lag1_autocorr": float(np.corrcoef(x[:-1], x[1:])[0, 1]),
            "mape_drift_removed_pct": float(100 * np.mean(np.abs(pred[m] - steady[m])
                                                          / steady[m]))}


def twin_pairs(archs: list[str]) -> np.ndarray:
    """(i, j), i < j, of the genotypes that are the same graph with cell nodes 1 and 2 swapped:
    edges (1<-0, 2<-0, 2<-1, 3<-0, 3<-1, 3<-2) = (a, b, none, c, d, e) and (b, a, none, c, e, d),
    a != b or d != e."""
    index = {arch: i for i, arch in enumerate(archs)}
    pairs = []
    for i, arch in enumerate(archs):
        (e10,), (e20, e21), (e30, e31, e32) = parse_arch(arch)
        if e21[0] != "none":
            continue
        twin = f"|{e20[0]}~0|+|{e10[0]}~0|none~1|+|{e30[0]}~0|{e32[0]}~1|{e31[0]}~2|"
        j = index.get(twin)
        if j is not None and j > i:
            pairs.append((i, j))
    return np.array(pairs, dtype=np.int64).reshape(-1, 2)


def same_kernels(table: LayerTable, device: DeviceModel, pairs: np.ndarray) -> np.ndarray:
    """Per pair: do both networks run the same multiset of layers (op type, work) on
    `device`?"""
    run = table.executed_on(device)
    starts = np.searchsorted(run.network, np.arange(run.n_networks + 1))

    def kernels(k: int) -> list:
        rows = slice(starts[k], starts[k + 1])
        return sorted(zip(run.op_code[rows], run.ops[rows]))

    return np.array([kernels(i) == kernels(j) for i, j in pairs], dtype=bool)


def noise_ceiling(y_ms: np.ndarray, pairs: np.ndarray) -> dict[str, float]:
    """Bounds on the best Kendall tau any deterministic function of the architecture can reach,
    from twin pairs, and its estimate over all the networks (module docstring); NaN with fewer
    than MIN_TWIN_PAIRS pairs."""
    if len(pairs) < MIN_TWIN_PAIRS:
        return {"twin_pairs": len(pairs), "ceiling_tau_low": np.nan, "ceiling_tau_high": np.nan,
                "ceiling_tau_all_est": np.nan}
    a, b = y_ms[pairs[:, 0]], y_ms[pairs[:, 1]]
    tau_twin = float(kendalltau(np.r_[a, b], np.r_[b, a])[0])
    return {"twin_pairs": len(pairs), "ceiling_tau_low": tau_twin,
            "ceiling_tau_high": float(np.sqrt(max(tau_twin, 0.0))),
            "ceiling_tau_all_est": ceiling_over_all(y_ms, np.abs(np.log(a / b)))}


def ceiling_over_all(y_ms: np.ndarray, twin_log_gaps: np.ndarray,
                     bin_log: float = 1e-4) -> float:
    """Estimated tau of the measurements against the noise-free latency over all networks,
    were every measurement's log scatter like the twins': a pair of networks whose noise-free
    log latencies differ by d is measured in the right order with probability P(Delta < d)
    - P(Delta > d) = P(|Delta| <= d), Delta the difference of two scatters, which is what a twin
    pair's log gap is. Averaged over all pairs with d taken as their measured gap (which the
    scatter widens a little: in simulations with Gaussian scatter of 1-5 % and 1,500 twin
    pairs it is at most 0.003 high on average, sd <= 0.004, within 0.01). The pairs' gaps
    come from the autocorrelation of the log latencies' histogram (bins of `bin_log`), not
    from the n^2 pairs."""
    log_y = np.log(y_ms)
    counts = np.bincount(np.rint((log_y - log_y.min()) / bin_log).astype(np.int64))
    size = 1 << int(np.ceil(np.log2(2 * len(counts))))
    spectrum = np.fft.rfft(counts.astype(float), size)
    pairs_at_lag = np.rint(np.fft.irfft(spectrum * np.conj(spectrum), size)[:len(counts)])
    pairs_at_lag[0] = (pairs_at_lag[0] - len(log_y)) / 2     # lag 0: a network with itself
    right = np.searchsorted(np.sort(twin_log_gaps), np.arange(len(counts)) * bin_log,
                            side="right") / len(twin_log_gaps)
    return float((pairs_at_lag * right).sum() / pairs_at_lag.sum())


def twin_mape(pred: np.ndarray | None, y_ms: np.ndarray, pairs: np.ndarray
              ) -> dict[str, float]:
    """The MAPE floor over twin `pairs` both measured at >= MAPE_MIN_MS (module docstring), and
    the MAPE of `pred` (None: a rank-only model) over the same networks; NaN with fewer than
    MIN_TWIN_PAIRS pairs."""
    pairs = pairs[(y_ms[pairs] >= MAPE_MIN_MS).all(axis=1)]
    out = {"mape_twins_pct": np.nan, "mape_floor_pct": np.nan}
    if len(pairs) < MIN_TWIN_PAIRS:
        return out
    a, b = y_ms[pairs[:, 0]], y_ms[pairs[:, 1]]
    out["mape_floor_pct"] = float(100 * np.mean(np.abs(a - b) / np.maximum(a, b)) / 2)
    if pred is not None:
        nets = pairs.ravel()
        out["mape_twins_pct"] = float(100 * np.mean(np.abs(pred[nets] - y_ms[nets])
                                                    / y_ms[nets]))
    return out


def calibration_draw(n_networks: int, n: int, seed: int) -> np.ndarray:
    """The networks a seed's calibration on `n` of them fits (sorted indices): the first `n`
    of one seeded permutation, so the draw of 10 is inside the draw of 100."""
    return np.sort(np.random.default_rng(seed).permutation(n_networks)[:n])


@dataclass(frozen=True)
class DrawFit:
    """A column's preset calibrated on one seed's draw, and the baseline fitted beside it."""
    train: np.ndarray           # the networks fitted (calibration_draw)
    test: np.ndarray            # bool per network: not fitted, so scored
    predicted_ms: np.ndarray    # the calibrated preset, every network
    baseline_ms: np.ndarray     # least squares on (kernels, MACs), every network


def fit_draw(col: Column, base: DeviceModel, table: LayerTable, y_ms: np.ndarray, n: int,
             seed: int) -> DrawFit:
    train = calibration_draw(len(y_ms), n, seed)
    test = np.ones(len(y_ms), dtype=bool)
    test[train] = False
    fit = fit_networks(base, table.select(train), np.full(n, col.batch_size), y_ms[train])
    return DrawFit(train, test, network_costs(fit.device, table, col.batch_size)[0] * 1e3,
                   kernels_macs_baseline(table, train, y_ms))


def check_column(col: Column, table: LayerTable, y_ms: np.ndarray, train_sizes=(10, 100),
                 seed: int = 0, twins: np.ndarray | None = None, in_measured_order=False,
                 draw_bound=False, archs: list[str] | None = None
                 ) -> tuple[list[dict], dict[str, np.ndarray]]:
    """Rows of the report for one device column, and the predictions per model (all
    networks) for the scatter plots. `twins`: twin pairs (twin_pairs) among the networks;
    `in_measured_order`: the networks are all of the data, in its order (drift figures);
    `draw_bound`: add the draw bound's rows (module docstring), and with the networks'
    genotypes `archs` the references' (hwmodels.references)."""
    base = device_preset(col.device)
    twins = np.zeros((0, 2), dtype=np.int64) if twins is None else twins
    twins = twins[same_kernels(table, base, twins)]
    ceiling = noise_ceiling(y_ms, twins)
    in_twins = np.zeros(len(y_ms), dtype=bool)
    in_twins[twins.ravel()] = True

    def scored(pred: np.ndarray, test: np.ndarray, rank_only: bool = False) -> dict:
        on_twins = test & in_twins
        tau_twins = (float(kendalltau(pred[on_twins], y_ms[on_twins])[0])
                     if ceiling["twin_pairs"] >= MIN_TWIN_PAIRS else np.nan)
        drift = {"residual_lag1_autocorr": np.nan, "mape_drift_removed_pct": np.nan}
        if in_measured_order and not rank_only:
            drift = measurement_drift(pred, y_ms, test)
        test_pairs = twins[test[twins].all(axis=1)]
        return {**metrics(pred[test], y_ms[test], rank_only), **drift,
                "kendall_tau_twins": tau_twins, **ceiling,
                **twin_mape(None if rank_only else pred, y_ms, test_pairs)}

    rows = []
    everything = np.ones(len(y_ms), dtype=bool)
    pred = network_costs(base, table, col.batch_size)[0] * 1e3
    predictions = {"uncalibrated": pred}
    rows.append({"column": col.name, "device": col.device, "batch_size": col.batch_size,
                 "model": UNCALIBRATED, "train_networks": 0, **scored(pred, everything)})
    best = None
    if draw_bound:
        everyone = fit_networks(base, table, np.full(len(y_ms), col.batch_size), y_ms)
        best = network_costs(everyone.device, table, col.batch_size)[0] * 1e3
    for n in train_sizes:
        if n >= len(y_ms):
            continue
        draw = fit_draw(col, base, table, y_ms, n, seed)
        test = draw.test
        predictions[f"calibrated on {n}"] = draw.predicted_ms
        common = {"column": col.name, "device": col.device, "batch_size": col.batch_size,
                  "train_networks": n}
        rows.append({**common, "model": CALIBRATED, **scored(draw.predicted_ms, test)})
        rows.append({**common, "model": MACS,
                     **scored(table.total_macs(), test, rank_only=True)})
        rows.append({**common, "model": LSQ, **scored(draw.baseline_ms, test)})
        if best is not None:
            scale = float(np.exp(np.median(np.log(y_ms[draw.train] / best[draw.train]))))
            rows.append({**common, "model": BOUND, **scored(scale * best, test)})
    if draw_bound and archs is not None:
        common = {"column": col.name, "device": col.device, "batch_size": col.batch_size,
                  "train_networks": len(y_ms) - len(y_ms) // FOLDS}
        for model, pred in ((FREE_COSTS, free_layer_costs_ms(table, base, y_ms, seed)),
                            (TREES, boosted_trees_ms(archs, y_ms, seed))):
            rows.append({**common, "model": model, **scored(pred, everything)})
    return rows, predictions


def report_inputs(columns=None, sample: int | None = None, seed: int = 0,
                  cache_dir: str | None = None) -> tuple[list[str], pd.DataFrame, LayerTable]:
    """The columns to check (all by default; UserError naming an unknown one), the
    measurements (all networks, or a `sample` drawn with `seed`) and their profiles."""
    names = columns or [c.name for c in COLUMNS]
    unknown = [n for n in names if n not in COLUMN_BY_NAME]
    if unknown:
        raise UserError(f"--columns: unknown {', '.join(unknown)}; known: "
                        f"{', '.join(COLUMN_BY_NAME)}")
    df = load_data(sample, seed)
    return names, df, data_table(df, cache_dir)


def accuracy_report(names: list[str], df: pd.DataFrame, table: LayerTable, seed: int = 0,
                    in_measured_order: bool = True, draw_bound: bool = False
                    ) -> tuple[pd.DataFrame, dict]:
    """The report table and, per column, (measured, {model: predicted}) for the scatter;
    `in_measured_order`: `df` is all of the data in its order (the drift figures)."""
    twins = twin_pairs(list(df["arch"]))
    rows, scatter = [], {}
    for name in names:
        y = df[name].to_numpy(dtype=float)
        col_rows, predictions = check_column(COLUMN_BY_NAME[name], table, y, seed=seed,
                                             twins=twins, in_measured_order=in_measured_order,
                                             draw_bound=draw_bound, archs=list(df["arch"]))
        rows += col_rows
        scatter[name] = (y, predictions)
    return pd.DataFrame(rows), scatter
