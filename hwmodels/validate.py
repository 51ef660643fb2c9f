"""How accurate are the device models? Predictions against the vendored NAS-Bench-201
measurements (hwmodels/data/nb201-latency-ms.csv), per device column.

For each column: the uncalibrated preset, and the preset calibrated (whole-network fit,
hwmodels.calibrate_net) on 10 and on 100 networks drawn with a fixed seed, each evaluated on
all the other networks; beside two baselines fitted on the same networks: MACs alone (a rank
only) and least squares of latency on (number of kernels, MACs) with an intercept.
Figures: Kendall tau, Spearman rho, median predicted/measured, MAPE over networks measured at
>= 0.5 ms (the Pi and phone columns hold folded networks far below that).
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
from hwmodels.netcost import LayerTable, network_costs
from hwmodels.networks import network_table, parse_networks
from hwmodels.presets import device_preset

log = logging.getLogger(__name__)

DATA_CSV = Path(__file__).parent / "data" / "nb201-latency-ms.csv"
MAPE_MIN_MS = 0.5


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


def kernels_macs_baseline(table: LayerTable, train: np.ndarray, y: np.ndarray) -> np.ndarray:
    X = np.c_[np.ones(table.n_networks), table.kernels(), table.total_macs()]
    coef, *_ = np.linalg.lstsq(X[train], y[train], rcond=None)
    return X @ coef


def check_column(col: Column, table: LayerTable, y_ms: np.ndarray, train_sizes=(10, 100),
                 seed: int = 0) -> tuple[list[dict], dict[str, np.ndarray]]:
    """Rows of the report for one device column, and the predictions per model (all
    networks) for the scatter plots."""
    base = device_preset(col.device)
    rows = []
    everything = np.ones(len(y_ms), dtype=bool)
    pred = network_costs(base, table, col.batch_size)[0] * 1e3
    predictions = {"uncalibrated": pred}
    rows.append({"column": col.name, "device": col.device, "batch_size": col.batch_size,
                 "model": "preset (uncalibrated)", "train_networks": 0,
                 **metrics(pred, y_ms)})
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(y_ms))
    for n in train_sizes:
        if n >= len(y_ms):
            continue
        train = np.sort(order[:n])
        test = everything.copy()
        test[train] = False
        batches = np.full(n, col.batch_size)
        fit = fit_networks(base, table.select(train), batches, y_ms[train])
        pred = network_costs(fit.device, table, col.batch_size)[0] * 1e3
        predictions[f"calibrated on {n}"] = pred
        common = {"column": col.name, "device": col.device, "batch_size": col.batch_size,
                  "train_networks": n}
        rows.append({**common, "model": "preset calibrated", **metrics(pred[test], y_ms[test])})
        macs = table.total_macs()
        rows.append({**common, "model": "baseline: MACs (rank only)",
                     **metrics(macs[test], y_ms[test], rank_only=True)})
        base_pred = kernels_macs_baseline(table, train, y_ms)
        rows.append({**common, "model": "baseline: LSQ (kernels, MACs)",
                     **metrics(base_pred[test], y_ms[test])})
    return rows, predictions


def accuracy_report(columns=None, sample: int | None = None, seed: int = 0,
                    cache_dir: str | None = None) -> tuple[pd.DataFrame, dict]:
    """The report table and, per column, (measured, {model: predicted}) for the scatter."""
    names = columns or [c.name for c in COLUMNS]
    unknown = [n for n in names if n not in COLUMN_BY_NAME]
    if unknown:
        raise UserError(f"--columns: unknown {', '.join(unknown)}; known: "
                        f"{', '.join(COLUMN_BY_NAME)}")
    df = load_data(sample, seed)
    table = data_table(df, cache_dir)
    rows, scatter = [], {}
    for name in names:
        y = df[name].to_numpy(dtype=float)
        col_rows, predictions = check_column(COLUMN_BY_NAME[name], table, y, seed=seed)
        rows += col_rows
        scatter[name] = (y, predictions)
    return pd.DataFrame(rows), scatter
