"""Figures of a sweep: the labelled Pareto front, each chosen metric against each swept key
(at every configuration's best cut, with the spread over the other keys), heat maps of the
chosen metrics and of the best cut over two swept keys, and the run figures (sim.plots) of
chosen configurations. A metric that no row evaluated gets no figure.
"""
from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.colors import LogNorm

from sim.plots import (COLUMN_WIDTH_IN, PAGE_WIDTH_IN, PALETTE, add_caption, legend_above,
                       paper_style, plt, save_figure, write_plots)
from sim.sweep.codesign import COL, BestCuts
from sim.sweep.rows import SWEEP_COLUMNS, fmt_value
from sim.sweep.validate import SweepPlan

MAX_SCATTER_POINTS = 50_000
MAX_PARETO_LABELS = 25
HEATMAP_BINS = 12
METRIC_LABELS = {
    "latency_ms": "latency per request (ms)", "total_mj": "total energy per request (mJ)",
    "edge_energy_mj": "edge energy per request (mJ)",
    "accuracy_loss_pct": "accuracy loss (points)", "mi_loss_pct": "MI loss (%)",
}
SEQUENTIAL_CMAP = "cividis"     # perceptually uniform and readable with colour-vision deficiency


def config_results(plan: SweepPlan, lines: list[str], fig: np.ndarray, cfg: int) -> pd.DataFrame:
    rows = np.flatnonzero(fig[:, COL["config"]] == cfg)
    names = ["config", *plan.spec.keys, *SWEEP_COLUMNS]
    df = pd.read_csv(io.StringIO("".join(lines[i] for i in rows)), header=None, names=names)
    return df[SWEEP_COLUMNS]


def evaluated_metrics(fig: np.ndarray, metrics: tuple[str, ...]) -> list[str]:
    return [m for m in metrics if m in COL and np.isfinite(fig[:, COL[m]]).any()]


def _point_labels(fig: np.ndarray, rows: np.ndarray) -> list[str]:
    return [f"c{int(fig[r, COL['config']])}/k{int(fig[r, COL['cut']])}" for r in rows]


def pareto_figure(fig: np.ndarray, pareto: np.ndarray):
    """Every row in grey, the Pareto front on top, each front point labelled
    c<configuration>/k<cut> (every n-th one when the front is long)."""
    lat, energy = fig[:, COL["latency_ms"]], fig[:, COL["total_mj"]]
    step = max(1, len(fig) // MAX_SCATTER_POINTS)   # every k-th row: deterministic
    order = pareto[np.argsort(lat[pareto], kind="stable")]
    with paper_style():
        fig_, ax = plt.subplots(figsize=(COLUMN_WIDTH_IN, 2.8))
        ax.scatter(lat[::step], energy[::step], s=3, c="0.75", label="configuration x cut",
                   rasterized=True)
        mi = fig[order, COL["mi_loss_pct"]]
        if np.isnan(mi).all():
            ax.plot(lat[order], energy[order], ".-", color=PALETTE[5], label="Pareto front")
        else:
            sc = ax.scatter(lat[order], energy[order], c=mi, cmap=SEQUENTIAL_CMAP, s=14,
                            edgecolors="black", linewidths=0.3, label="Pareto front")
            fig_.colorbar(sc, ax=ax, label="MI loss (%)")
        every = max(1, int(np.ceil(len(order) / MAX_PARETO_LABELS)))
        labelled = order[::every]
        for i, (r, text) in enumerate(zip(labelled, _point_labels(fig, labelled))):
            # alternate sides so that neighbours on a steep front do not print over each other
            ax.annotate(text, (lat[r], energy[r]), xytext=(4, 2) if i % 2 else (-4, -2),
                        ha="left" if i % 2 else "right", va="bottom" if i % 2 else "top",
                        textcoords="offset points", fontsize=5.5)
        for axis, data in (("x", lat), ("y", energy)):
            finite = data[np.isfinite(data) & (data > 0)]
            if len(finite) and finite.max() > 10 * finite.min():
                getattr(ax, f"set_{axis}scale")("log")
        ax.set_xlabel(METRIC_LABELS["latency_ms"])
        ax.set_ylabel(METRIC_LABELS["total_mj"])
        legend_above(ax, ncol=2)
        over = "latency and energy" + ("" if np.isnan(mi).all() else " and MI loss")
        note = (f"Pareto front over {over} ({len(order)} of {len(fig)} rows); labels: "
                "c<configuration>/k<cut>")
        add_caption(ax, note + (f", every {every}th point." if every > 1 else "."),
                    COLUMN_WIDTH_IN)
    return fig_


def _key_values(plan: SweepPlan, j: int, cfgs: np.ndarray) -> list:
    return [plan.configs[c][j][1] for c in cfgs]


def _numeric(vals: list) -> bool:
    return all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in vals)


def best_values(fig: np.ndarray, best: BestCuts, metric: str) -> tuple[np.ndarray, np.ndarray]:
    """Configurations with a feasible best cut and the metric's value there."""
    ok = best.row >= 0
    return best.config[ok], fig[best.row[ok], COL[metric]]


def metrics_vs_keys_figure(plan: SweepPlan, fig: np.ndarray, best: BestCuts,
                           metrics: list[str], objective_label: str):
    """Rows: metrics; columns: swept keys. A point per value of the key: the mean over the
    other keys of the metric at each configuration's best cut; bars: their min and max."""
    keys = plan.spec.keys
    if not metrics or not (best.row >= 0).any():
        return None
    with paper_style():
        width = min(PAGE_WIDTH_IN, COLUMN_WIDTH_IN * max(1, len(keys)) * 0.7 + 1.0)
        fig_, axes = plt.subplots(len(metrics), len(keys), squeeze=False,
                                  figsize=(width, 1.9 * len(metrics) + 0.4))
        for r, metric in enumerate(metrics):
            cfgs, y = best_values(fig, best, metric)
            for j, key in enumerate(keys):
                ax = axes[r, j]
                _metric_panel(ax, _key_values(plan, j, cfgs), y)
                ax.set_xlabel(key if r == len(metrics) - 1 else "")
                ax.set_ylabel(METRIC_LABELS.get(metric, metric) if j == 0 else "")
        fig_.tight_layout()
        add_caption(axes[-1, 0], f"Each metric at every configuration's best cut (objective "
                    f"{objective_label}) against each swept key: points are means over the "
                    "other swept keys, bars their minimum and maximum.", width)
    return fig_


def _metric_panel(ax, xs: list, y: np.ndarray) -> None:
    frame = pd.DataFrame({"x": [fmt_value(v) for v in xs], "raw": xs, "y": y}).dropna(subset=["y"])
    if frame.empty:
        return
    stats = frame.groupby("x", sort=False).agg(raw=("raw", "first"), mean=("y", "mean"),
                                               lo=("y", "min"), hi=("y", "max"))
    numeric = _numeric(list(stats["raw"]))
    if numeric:
        stats = stats.sort_values("raw")
        pos = stats["raw"].to_numpy(dtype=float)
    else:
        pos = np.arange(len(stats))
        ax.set_xticks(pos, list(stats.index), rotation=30)
    err = np.vstack([stats["mean"] - stats["lo"], stats["hi"] - stats["mean"]])
    ax.errorbar(pos, stats["mean"], yerr=err, fmt="o-" if numeric else "o", color=PALETTE[0],
                ecolor="0.3", elinewidth=0.7, capsize=2, markersize=3.5)
    if numeric and pos.min() > 0 and pos.max() > 20 * pos.min():
        ax.set_xscale("log")


def _axis_labels(values: list) -> tuple[np.ndarray, list[str]]:
    """Category per value: the distinct values if few, else equal-width bins. Values that are
    mappings or lists (an inline accelerator) are told apart by their YAML text."""
    if not _numeric(values):
        texts = [fmt_value(v) for v in values]
        distinct_texts = sorted(set(texts))
        pos = {t: i for i, t in enumerate(distinct_texts)}
        return np.array([pos[t] for t in texts]), distinct_texts
    distinct = sorted(set(values))
    if len(distinct) <= HEATMAP_BINS:
        pos = {v: i for i, v in enumerate(distinct)}
        return np.array([pos[v] for v in values]), [f"{v:g}" if isinstance(v, float) else str(v)
                                                    for v in distinct]
    x = np.asarray(values, dtype=float)
    edges = np.linspace(x.min(), x.max(), HEATMAP_BINS + 1)
    idx = np.clip(np.searchsorted(edges, x, side="right") - 1, 0, HEATMAP_BINS - 1)
    return idx, [f"{edges[i]:.3g}-{edges[i + 1]:.3g}" for i in range(HEATMAP_BINS)]


def heatmap_grid(plan: SweepPlan, fig: np.ndarray, best: BestCuts, metric: str | None):
    """Per cell of the first two swept keys: the mean over the other keys of `metric` at the
    best cut, or (metric None) the most frequent best cut, ties to the lower cut."""
    feasible = best.row >= 0
    cfgs = best.config[feasible]
    column = "cut" if metric is None else metric
    value = fig[best.row[feasible], COL[column]]
    xi, xl = _axis_labels(_key_values(plan, 0, cfgs))
    yi, yl = _axis_labels(_key_values(plan, 1, cfgs))
    grid = np.full((len(yl), len(xl)), np.nan)
    frame = pd.DataFrame({"y": yi, "x": xi, "v": value}).dropna(subset=["v"])
    for (y, x), group in frame.groupby(["y", "x"])["v"]:
        if metric is None:
            counts = group.value_counts()
            grid[y, x] = min(counts.index[counts == counts.max()])
        else:
            grid[y, x] = group.mean()
    return grid, xl, yl


def heatmap_figure(plan: SweepPlan, fig: np.ndarray, best: BestCuts, metric: str | None):
    kx, ky = plan.spec.keys[:2]
    grid, xl, yl = heatmap_grid(plan, fig, best, metric)
    if np.isnan(grid).all():
        return None
    with paper_style():
        fig_, ax = plt.subplots(figsize=(max(COLUMN_WIDTH_IN, 0.45 * len(xl) + 1.8),
                                         max(2.2, 0.3 * len(yl) + 1.4)))
        finite = grid[np.isfinite(grid)]
        log = metric is not None and finite.min() > 0 and finite.max() > 30 * finite.min()
        im = ax.imshow(grid, origin="lower", aspect="auto", cmap=SEQUENTIAL_CMAP,
                       norm=LogNorm() if log else None)
        scale = np.log if log else float
        lo, hi = scale(finite.min()), scale(finite.max())
        for (y, x), v in np.ndenumerate(grid):
            if np.isfinite(v):      # dark text on the light end of the colour map
                shade = (scale(v) - lo) / (hi - lo) if hi > lo else 0.5
                ax.text(x, y, f"{int(v)}" if metric is None else f"{v:.3g}", ha="center",
                        va="center", fontsize=6, color="black" if shade > 0.6 else "white")
        ax.set_xticks(range(len(xl)), xl, rotation=60)
        ax.set_yticks(range(len(yl)), yl)
        ax.set_xlabel(kx)
        ax.set_ylabel(ky)
        label = "best cut" if metric is None else METRIC_LABELS.get(metric, metric)
        fig_.colorbar(im, ax=ax, label=label)
        what = ("the most frequent best cut" if metric is None
                else f"the mean {label} at the best cut")
        add_caption(ax, f"Per cell, {what} over the other swept keys.", COLUMN_WIDTH_IN)
    return fig_


def write_sweep_plots(out_dir: Path, plan: SweepPlan, fig: np.ndarray, lines: list[str],
                      best: BestCuts, pareto: np.ndarray, metrics: tuple[str, ...],
                      objective_label: str) -> list[Path]:
    plots = out_dir / "plots"
    chosen = evaluated_metrics(fig, metrics)
    figures = {"pareto": pareto_figure(fig, pareto),
               "metrics_vs_keys": metrics_vs_keys_figure(plan, fig, best, chosen,
                                                         objective_label)}
    if len(plan.spec.keys) >= 2 and (best.row >= 0).any():
        figures["best_cut_heatmap"] = heatmap_figure(plan, fig, best, None)
        for metric in chosen:
            figures[f"heatmap_{metric}"] = heatmap_figure(plan, fig, best, metric)
    paths: list[Path] = []
    for name, figure in figures.items():
        if figure is not None:
            paths += save_figure(figure, plots / f"{name}.png")
    # run figures for the first configuration and the one whose best value is lowest
    picked = [0]
    if np.isfinite(best.value).any():
        picked.append(int(best.config[np.nanargmin(best.value)]))
    for cfg in dict.fromkeys(picked):
        results = config_results(plan, lines, fig, cfg)
        caption = f"configuration {cfg}: " + ", ".join(f"{k}={v}" for k, v in plan.configs[cfg])
        paths += write_plots(out_dir, results, caption, prefix=f"config-{cfg}_")
    return paths
