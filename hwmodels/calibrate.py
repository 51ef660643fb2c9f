"""`sim calibrate`: fit a device's per-op-type regressions to measured per-layer figures.

Input CSV, one row per measured layer (header required):
    op_type, flops (or macs), latency_ms[, moved_bytes][, power_w]
`flops` is the layer's work for the measured batch (2 x MACs for conv/linear, one op per output
element otherwise); `moved_bytes` (optional) lets the roofline's memory term take over where the
layer is bandwidth bound.

Model (hwmodels.device): latency = launch_overhead + max(flops / (peak x eff(flops)),
moved_bytes / bandwidth), eff = clip(a + b log10(flops), lower, 1) per op type (Neurosurgeon's
logarithmic form; the clip makes it saturate). The launch overhead (shared) and every op type's
(a, b) are fitted together by least squares on log latency (relative errors weigh small and
large layers alike). Power, when given: P = c + d log10(flops) per op type, ordinary least
squares. The preset written back records each fit, its sample count and its residuals.
"""
from __future__ import annotations

import copy
import datetime as _dt
import logging
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml
from scipy.optimize import least_squares

from hwmodels.device import DeviceModel
from hwmodels.presets import device_preset, load_sourced
from core.atomic import write_text_atomic

log = logging.getLogger(__name__)

EFF_LOWER = 1e-3


def read_measurements(csv_path: str | Path) -> pd.DataFrame:
    try:
        df = pd.read_csv(csv_path)
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        raise ValueError(f'"MEASURED.csv" cannot read {csv_path}: {exc}') from None
    df.columns = [c.strip() for c in df.columns]
    if "flops" not in df and "macs" in df:
        df["flops"] = 2.0 * df["macs"]
    missing = [c for c in ("op_type", "flops", "latency_ms") if c not in df]
    if missing:
        raise ValueError(f'"MEASURED.csv" {csv_path} lacks column(s) {", ".join(missing)}; '
                         "needs op_type, flops (or macs), latency_ms")
    op = df["op_type"]
    blank = op.isna() | (op.astype(str).str.strip() == "")
    if blank.any():
        raise ValueError(f'"op_type" is empty in row {int(blank.idxmax()) + 2} of {csv_path} '
                         "(row 1 is the header); name the layer's operator, e.g. conv2d")
    df["op_type"] = op.astype(str).str.strip()
    for c in ("flops", "latency_ms") + tuple(c for c in ("moved_bytes", "power_w") if c in df):
        vals = pd.to_numeric(df[c], errors="coerce")
        bad = vals.isna() | ~np.isfinite(vals) | (vals <= 0)
        if bad.any():
            row = int(bad.idxmax())
            raise ValueError(f'"{c}" must be a finite number > 0 in every row of {csv_path}; '
                             f"row {row + 2} (row 1 is the header) has '{df[c].iloc[row]}'")
        df[c] = vals.astype(float)
    if len(df) < 3:
        raise ValueError(f'"MEASURED.csv" {csv_path} needs at least 3 rows, got {len(df)}')
    return df


def _model_latency_s(theta: np.ndarray, ops_idx: np.ndarray, flops: np.ndarray,
                     moved: np.ndarray, peak: float, bw: float) -> np.ndarray:
    launch_s = theta[0] * 1e-6
    a, b = theta[1::2][ops_idx], theta[2::2][ops_idx]
    eff = np.clip(a + b * np.log10(flops), EFF_LOWER, 1.0)
    return launch_s + np.maximum(flops / (peak * eff), moved / bw)


def fit_latency(df: pd.DataFrame, device: DeviceModel, dtype: str = "float32"):
    """Least-squares fit of launch overhead (us) and per-op-type (a, b)."""
    ops = sorted(df["op_type"].unique())
    idx = np.array([ops.index(o) for o in df["op_type"]])
    flops = df["flops"].to_numpy()
    moved = df["moved_bytes"].to_numpy() if "moved_bytes" in df else np.zeros(len(df))
    t = df["latency_ms"].to_numpy() * 1e-3
    peak, bw = device.peak_flops(dtype), device.achieved_bandwidth_bps
    theta0 = [max(0.3 * t.min() * 1e6, 0.1)]
    for o in ops:
        m = idx == ops.index(o)
        theta0 += [float(np.clip(np.median(flops[m] / (peak * t[m])), 0.01, 0.9)), 0.0]

    def resid(theta):
        return np.log(_model_latency_s(theta, idx, flops, moved, peak, bw)) - np.log(t)

    lo = [0.0] + [-2.0, -1.0] * len(ops)
    hi = [1e6] + [2.0, 1.0] * len(ops)
    sol = least_squares(resid, theta0, bounds=(lo, hi), x_scale="jac", max_nfev=2000)
    r = resid(sol.x)
    fits = {o: (float(sol.x[1 + 2 * k]), float(sol.x[2 + 2 * k])) for k, o in enumerate(ops)}
    per_op = {o: r[idx == ops.index(o)] for o in ops}
    return float(sol.x[0]), fits, per_op


def fit_power(df: pd.DataFrame) -> dict[str, tuple[float, float, np.ndarray]]:
    out = {}
    for o, g in df.groupby("op_type"):
        x = np.log10(g["flops"].to_numpy())
        y = g["power_w"].to_numpy()
        if len(g) >= 2 and np.ptp(x) > 0:
            d, c = np.polyfit(x, y, 1)
        else:
            c, d = float(np.mean(y)), 0.0
        out[str(o)] = (float(c), float(d), y - (c + d * x))
    return out


def _sourced(value: Any, source: str) -> dict:
    return {"value": value, "source": source}


def calibrate_csv(csv_path: str | Path, device_name: str,
                  dtype: str = "float32") -> tuple[dict, dict]:
    """Fit a device preset to measurements. Returns (preset dict with sources, report dict).

    The preset starts from the named preset's file and replaces launch_overhead_us and adds
    efficiency_fit (and power_fit when the CSV has power_w); `calibration` records residuals.
    """
    device = device_preset(device_name)        # raises UnknownNameError listing the names
    df = read_measurements(csv_path)
    launch_us, fits, resid = fit_latency(df, device, dtype)
    stamp = _dt.date.today().isoformat()
    src = f"fit by sim calibrate from {Path(csv_path).name} on {stamp}"
    preset = copy.deepcopy(load_sourced("devices", device_name))
    preset["launch_overhead_us"] = _sourced(round(launch_us, 4), src)
    preset["efficiency_fit"] = {
        o: {"form": "log", "intercept": _sourced(a, src), "slope": _sourced(b, src),
            "lower": _sourced(EFF_LOWER, "floor of the fit (keeps latency finite)"),
            "upper": _sourced(1.0, "efficiency cannot exceed peak")}
        for o, (a, b) in fits.items()}
    report: dict[str, Any] = {"device": device_name, "rows": int(len(df)),
                              "launch_overhead_us": launch_us, "latency": {}, "power": {}}
    calib: dict[str, Any] = {"latency": {}}
    for o, r in resid.items():
        rms = float(np.sqrt(np.mean(r ** 2)))
        mx = float(np.max(np.abs(r)))
        report["latency"][o] = {"n": int(len(r)), "intercept": fits[o][0],
                                "slope": fits[o][1], "rms_log_residual": rms,
                                "max_abs_log_residual": mx}
        calib["latency"][o] = {"n": _sourced(int(len(r)), src),
                               "rms_log_residual": _sourced(round(rms, 6), src),
                               "max_abs_log_residual": _sourced(round(mx, 6), src)}
    if "power_w" in df:
        pf = fit_power(df)
        preset["power_fit"] = {
            o: {"form": "log", "intercept": _sourced(c, src), "slope": _sourced(d, src),
                "lower": _sourced(float(preset_min_power(device)), "device idle power"),
                "upper": _sourced(float(max(device.active_power_w, df["power_w"].max())),
                                  "max of active power and the measured power")}
            for o, (c, d, _) in pf.items()}
        calib["power"] = {}
        for o, (c, d, r) in pf.items():
            rms = float(np.sqrt(np.mean(r ** 2)))
            report["power"][o] = {"n": int(len(r)), "intercept": c, "slope": d, "rms_w": rms}
            calib["power"][o] = {"n": _sourced(int(len(r)), src),
                                 "rms_residual_w": _sourced(round(rms, 6), src)}
    preset["calibration"] = calib
    return preset, report


def preset_min_power(device: DeviceModel) -> float:
    return device.idle_power_w


def write_preset_yaml(preset: dict, path: str | Path) -> Path:
    """Write atomically: a temporary file in the same folder, then os.replace."""
    path = Path(path)
    write_text_atomic(path, yaml.safe_dump(preset, sort_keys=False, allow_unicode=True))
    return path
