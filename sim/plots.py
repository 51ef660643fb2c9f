"""Paper-ready plots of a run (PNG, written atomically)."""
from __future__ import annotations

import textwrap
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display on servers and CI
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from core.atomic import write_atomic  # noqa: E402

ENERGY_PARTS = [("edge_mj", "edge compute + noise"), ("comm_mj", "communication"),
                ("cloud_mj", "cloud compute")]


def _save(fig, path: Path) -> None:
    write_atomic(path, lambda tmp: fig.savefig(tmp, format="png", dpi=150, bbox_inches="tight"))
    plt.close(fig)


def _stacked(ax, df: pd.DataFrame, parts, x_labels) -> None:
    bottom = None
    for col, label in parts:
        ax.bar(x_labels, df[col], bottom=bottom, label=label)
        bottom = df[col] if bottom is None else bottom + df[col]
    ax.set_xlabel("cut (layers on the edge)")
    ax.legend(fontsize=8)
    ax.tick_params(axis="x", labelsize=7, rotation=90)


def energy_plot(breakdown: pd.DataFrame, title: str, path: Path) -> None:
    fig, ax = plt.subplots(figsize=(max(6, 0.22 * len(breakdown)), 3.5))
    _stacked(ax, breakdown, ENERGY_PARTS, breakdown["cut"].astype(str))
    # linear: on a log axis the heights of stacked segments would not add up visually
    ax.set_ylabel("energy per request (mJ)")
    ax.set_title(title, fontsize=9)
    _save(fig, path)


def latency_plot(results: pd.DataFrame, title: str, path: Path) -> None:
    # Latencies span orders of magnitude (saturated cuts), so a log axis with the mean and
    # p99 as markers, not stacked components.
    fig, ax = plt.subplots(figsize=(max(6, 0.22 * len(results)), 3.5))
    x = results["cut"].astype(str)
    ax.plot(x, results["latency_ms"], "o", label="mean")
    ax.plot(x, results["latency_p99_ms"], "k_", markersize=10, label="p99")
    ax.set_xlabel("cut (layers on the edge)")
    ax.tick_params(axis="x", labelsize=7, rotation=90)
    ax.legend(fontsize=8)
    ax.set_ylabel("latency per request (ms)")
    ax.set_yscale("log")
    ax.set_title(title, fontsize=9)
    _save(fig, path)


def privacy_plot(results: pd.DataFrame, title: str, path: Path) -> None:
    fig, ax = plt.subplots(figsize=(4.5, 3.5))
    have = results.dropna(subset=["accuracy_loss_pct", "mi_loss_pct"])
    if have.empty:
        ax.text(0.5, 0.5, "privacy not evaluated\n(privacy.enabled: false or --no-privacy)",
                ha="center", va="center", transform=ax.transAxes)
    else:
        ax.plot(have["accuracy_loss_pct"], have["mi_loss_pct"], "o")
        for _, row in have.iterrows():
            ax.annotate(str(int(row["cut"])), (row["accuracy_loss_pct"], row["mi_loss_pct"]),
                        fontsize=7)
    ax.set_xlabel("accuracy loss (percentage points)")
    ax.set_ylabel("mutual-information loss (%)")
    ax.set_title(textwrap.fill(title, 60), fontsize=8)
    _save(fig, path)


def write_plots(out_dir: Path, results: pd.DataFrame, breakdown: pd.DataFrame,
                title: str) -> list[Path]:
    plots = out_dir / "plots"
    paths = [plots / "energy_per_cut.png", plots / "latency_per_cut.png",
             plots / "privacy_accuracy.png"]
    energy_plot(breakdown, title, paths[0])
    latency_plot(results, title, paths[1])
    privacy_plot(results, title, paths[2])
    return paths
