"""The results table, in one place: its column contract, its assembly from the closed-form cut
costs, the simulated and privacy columns merged in, the energy-breakdown view, and the headers
of the printed tables. Runs, sweeps, reports and the API use it; nothing else computes these
columns, and no column is computed and then overwritten.

`cost_columns` is the one copy of the arithmetic: NumPy on arrays that broadcast, so a run
(cuts) and a cost-only sweep ((configurations, cuts) at once) give the same numbers.
"""
from __future__ import annotations

import math
from typing import Any, Mapping

import numpy as np
import pandas as pd

from hwmodels.cost import ComputeTarget
from hwmodels.link import LinkModel
from partitioner.types import ModelGraph
from sim.costs import CutComponents, NoiseCostModel, cut_components, link_costs
from sim.des import LATENCY_PARTS, CutResult
from sim.operating_costs import operating_point_columns

# Columns of results.csv in contract order (docs/design.md, "The results table").
RESULT_COLUMNS = [
    "cut", "after_layer", "sent_bytes", "edge_compute_ms", "noise_ms", "uplink_ms",
    "cloud_compute_ms", "downlink_ms", "latency_ms", "latency_p99_ms", "edge_compute_mj",
    "noise_mj", "comm_mj", "cloud_compute_mj", "total_mj", "total_vs_cloud_only", "accuracy",
    "accuracy_loss_pct", "snr_db", "mi_bits", "mi_loss_pct", "private_misclass_pct",
]
PRIVACY_COLUMNS = ["accuracy", "accuracy_loss_pct", "snr_db", "mi_bits", "mi_loss_pct",
                   "private_misclass_pct", "accuracy_loss_ci95", "mi_loss_ci95",
                   "private_misclass_ci95", "noiseless_misclass_pct",
                   "noiseless_misclass_ci95", "privacy_gain_pts", "privacy_gain_ci95", "recon_mse",
                   "recon_psnr_db", "recon_psnr_ci95", "recon_ssim", "noise_randomness",
                   "tuple_entropy_bits"]
# privacy columns that hold words or flags (empty where not evaluated, like the others)
PRIVACY_LABEL_COLUMNS = ["within_budget", "strongest_adversary", "privacy_network"]
ENERGY_PARTS = ("edge_compute_mj", "noise_mj", "comm_mj", "cloud_compute_mj")

BREAKDOWN_HEADERS = {
    "cut": "cut", "after_layer": "after layer", "edge_mj": "edge (mJ)",
    "comm_mj": "comm. (mJ)", "cloud_mj": "cloud (mJ)", "total_mj": "total (mJ)",
    "edge_norm": "edge", "comm_norm": "comm.", "cloud_norm": "cloud",
    "total_norm": "total / cloud-only",
}
LATENCY_HEADERS = {
    "cut": "cut", "after_layer": "after layer", "sent_bytes": "sent (B)",
    "latency_ms": "latency (ms)", "latency_p99_ms": "p99 (ms)",
}
LATENCY_PRIVACY_HEADERS = {
    **LATENCY_HEADERS,
    "accuracy_loss_pct": "acc. loss (pts)", "snr_db": "SNR (dB)",
    "mi_loss_pct": "MI loss (%)", "private_misclass_pct": "adversary error (%)",
}
# the printed privacy table (sim.privacy.privacy_display: "value ± half-width" cells)
PRIVACY_HEADERS = {
    "cut": "cut", "after_layer": "after layer", "accuracy_loss_pct": "acc. loss (pts)",
    "within_budget": "within budget", "snr_db": "SNR (dB)", "mi_loss_pct": "MI loss (%)",
    "private_misclass_pct": "adversary error (%)", "strongest_adversary": "strongest adversary",
    "noiseless_misclass_pct": "noiseless error (%)",
    "privacy_gain_pts": "error added by noise (pts)", "recon_psnr_db": "recon. PSNR (dB)",
    "recon_ssim": "recon. SSIM", "noise_randomness": "randomness",
    "tuple_entropy_bits": "tuple entropy (bits)",
}


def cost_columns(comp: CutComponents, lc: Mapping[str, np.ndarray],
                 latency: bool = True) -> dict[str, np.ndarray]:
    """The contract's cost columns from cut components and link costs (`sim.costs.link_costs`
    keys; a `latency_s` / `latency_p99_s` there, from closed forms under load, is used as it
    is). Arrays broadcast: link costs of shape (configurations, cuts) give such columns.
    `latency=False` leaves out the latency columns (a simulation gives them instead)."""
    edge_mj, noise_mj = comp.edge_j * 1e3, comp.noise_j * 1e3
    comm_mj, cloud_mj = lc["comm_j"] * 1e3, comp.cloud_j * 1e3
    total_mj = edge_mj + noise_mj + comm_mj + cloud_mj
    cloud_only_mj = total_mj[..., np.flatnonzero(comp.cut == 0)[0]][..., None]
    cols = {"edge_compute_mj": edge_mj, "noise_mj": noise_mj, "comm_mj": comm_mj,
            "cloud_compute_mj": cloud_mj, "total_mj": total_mj,
            "total_vs_cloud_only": total_mj / cloud_only_mj}
    if latency:
        latency_s = lc.get("latency_s")
        if latency_s is None:
            latency_s = (comp.edge_s + comp.noise_s + lc["uplink_s"] + comp.cloud_s
                         + lc["downlink_s"])
        cols.update({
            "edge_compute_ms": comp.edge_s * 1e3, "noise_ms": comp.noise_s * 1e3,
            "uplink_ms": lc["uplink_s"] * 1e3, "cloud_compute_ms": comp.cloud_s * 1e3,
            "downlink_ms": lc["downlink_s"] * 1e3, "latency_ms": latency_s * 1e3,
            "latency_p99_ms": lc.get("latency_p99_s", latency_s) * 1e3})
    return cols


def simulated_columns(comp: CutComponents, sims: Mapping[int, CutResult],
                      utilization: np.ndarray | None) -> dict[str, Any]:
    """Latency columns from the simulation (means per stage add up to `latency_ms`), with
    its interval, the energy under load, and the busiest stage's utilization."""
    rows = [sims[int(k)] for k in comp.cut]
    cols: dict[str, Any] = {c: [r.latency_parts_ms[c] for r in rows] for c in LATENCY_PARTS}
    cols.update({
        "latency_ms": [r.latency_ms.mean for r in rows],
        "latency_p99_ms": [r.latency_p99_ms.mean for r in rows],
        "latency_ci95_ms": [r.latency_ms.half_width for r in rows],
        "sim_total_mj": [r.energy_mj["total_mj"].mean for r in rows],
        "sim_replications": [r.replications for r in rows],
        "bottleneck_utilization": np.nan if utilization is None else utilization})
    return cols


def results_table(comp: CutComponents, lc: Mapping[str, np.ndarray],
                  sims: Mapping[int, CutResult] | None = None,
                  utilization: np.ndarray | None = None) -> pd.DataFrame:
    """One row per valid cut: the contract's columns in order (privacy empty until
    `merge_privacy`), then the simulation's extra columns when `sims` is given."""
    cols: dict[str, Any] = {"cut": comp.cut, "after_layer": comp.after_layer,
                            "sent_bytes": comp.up_bytes.astype(np.int64)}
    cols.update(cost_columns(comp, lc, latency=sims is None))
    if sims is not None:
        cols.update(simulated_columns(comp, sims, utilization))
    if "saturated" in lc:       # link costs at the operating point (sim.operating_costs)
        extra = operating_point_columns(lc, comp)
        cols.update({c: extra[c].to_numpy() for c in extra.columns if c not in cols})
        if sims is not None:    # no steady state where saturated: no latency (issue 12)
            sat = extra["saturated"].to_numpy()
            for c in ("edge_queue_ms", "uplink_ms", "cloud_queue_ms", "downlink_ms",
                      "latency_ms", "latency_p99_ms", "latency_ci95_ms"):
                cols[c] = np.where(sat, np.nan, np.asarray(cols[c], dtype=float))
    cols.update({c: np.nan for c in PRIVACY_COLUMNS})
    cols.update({c: pd.Series([None] * len(comp.cut), dtype=object)
                 for c in PRIVACY_LABEL_COLUMNS})
    df = pd.DataFrame(cols)
    return df[RESULT_COLUMNS + [c for c in df.columns if c not in RESULT_COLUMNS]]


def cut_costs(graph: ModelGraph, edge: ComputeTarget, cloud: ComputeTarget, link: LinkModel,
              noise: NoiseCostModel, batch_size: int = 1) -> pd.DataFrame:
    """One row per valid cut with the contract's cost columns of isolated requests (privacy
    columns empty)."""
    comp = cut_components(graph, edge, cloud, noise, batch_size)
    return results_table(comp, link_costs(comp.up_bytes, comp.down_bytes, link))


def merge_privacy(results: pd.DataFrame, frame: pd.DataFrame) -> pd.DataFrame:
    """Fill the privacy columns of the evaluated cuts; the others stay NaN (empty in CSV)."""
    out = results.copy()
    for _, row in frame.iterrows():
        sel = out["cut"] == row["cut"]
        for col in PRIVACY_COLUMNS:
            value = row[col]
            out.loc[sel, col] = value if value is not None else math.nan
        for col in PRIVACY_LABEL_COLUMNS:
            if col in frame:
                out.loc[sel, col] = row[col]
    return out


def energy_breakdown(results: pd.DataFrame) -> pd.DataFrame:
    """Edge / communication / cloud energy per cut, absolute and normalized to cloud-only."""
    cloud_only_mj = float(results.loc[results["cut"] == 0, "total_mj"].iloc[0])
    df = pd.DataFrame({
        "cut": results["cut"], "after_layer": results["after_layer"],
        "edge_mj": results["edge_compute_mj"] + results["noise_mj"],
        "comm_mj": results["comm_mj"], "cloud_mj": results["cloud_compute_mj"],
    })
    df["total_mj"] = df["edge_mj"] + df["comm_mj"] + df["cloud_mj"]
    for col in ("edge", "comm", "cloud", "total"):
        df[f"{col}_norm"] = df[f"{col}_mj"] / cloud_only_mj
    return df
