"""Plots of a sweep: per-cut energy and latency of chosen configurations (sim.plots' own
functions), the Pareto scatter, the best cut over two swept keys, the privacy-accuracy curve."""
from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd

from sim.table import RESULT_COLUMNS, energy_breakdown
from core.atomic import write_atomic
from sim.plots import energy_plot, latency_plot, plt, privacy_plot
from sim.sweep.codesign import COL, BestCuts
from sim.sweep.validate import SweepPlan

MAX_SCATTER_POINTS = 50_000
HEATMAP_BINS = 12


def _save(figure, path: Path) -> None:
    write_atomic(path, lambda tmp: figure.savefig(tmp, format="png", dpi=150,
                                                  bbox_inches="tight"))
    plt.close(figure)


def config_results(plan: SweepPlan, lines: list[str], fig: np.ndarray, cfg: int) -> pd.DataFrame:
    rows = np.flatnonzero(fig[:, COL["config"]] == cfg)
    names = ["config", *plan.spec.keys, *RESULT_COLUMNS]
    df = pd.read_csv(io.StringIO("".join(lines[i] for i in rows)), header=None, names=names)
    return df[RESULT_COLUMNS]


def pareto_plot(fig: np.ndarray, pareto: np.ndarray, path: Path) -> None:
    lat, energy = fig[:, COL["latency_ms"]], fig[:, COL["total_mj"]]
    step = max(1, len(fig) // MAX_SCATTER_POINTS)   # every k-th row: deterministic
    fig_, ax = plt.subplots(figsize=(5, 4))
    ax.scatter(lat[::step], energy[::step], s=3, c="0.7", label="configuration x cut",
               rasterized=True)
    order = pareto[np.argsort(lat[pareto], kind="stable")]
    mi = fig[order, COL["mi_loss_pct"]]
    if np.isnan(mi).all():
        ax.plot(lat[order], energy[order], "r.-", label="Pareto front")
    else:
        sc = ax.scatter(lat[order], energy[order], c=mi, cmap="viridis", s=12,
                        label="Pareto front")
        fig_.colorbar(sc, ax=ax, label="MI loss (%)")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("latency per request (ms)")
    ax.set_ylabel("energy per request (mJ)")
    ax.legend(fontsize=8)
    _save(fig_, path)


def _axis_labels(values: list) -> tuple[np.ndarray, list[str]]:
    """Category per value: the distinct values if few, else equal-width bins."""
    distinct = sorted(set(values), key=lambda v: (str(type(v)), v))
    if len(distinct) <= HEATMAP_BINS or not all(isinstance(v, (int, float)) for v in values):
        pos = {v: i for i, v in enumerate(distinct)}
        return np.array([pos[v] for v in values]), [f"{v:g}" if isinstance(v, float) else str(v)
                                                    for v in distinct]
    x = np.asarray(values, dtype=float)
    edges = np.linspace(x.min(), x.max(), HEATMAP_BINS + 1)
    idx = np.clip(np.searchsorted(edges, x, side="right") - 1, 0, HEATMAP_BINS - 1)
    return idx, [f"{edges[i]:.3g}-{edges[i + 1]:.3g}" for i in range(HEATMAP_BINS)]


def heatmap_plot(plan: SweepPlan, fig: np.ndarray, best: BestCuts, path: Path) -> None:
    """Most frequent best cut per cell (over the other keys), ties to the lower cut."""
    kx, ky = plan.spec.keys[:2]
    feasible = best.row >= 0
    cfgs = best.config[feasible]
    cut = fig[best.row[feasible], COL["cut"]].astype(int)
    xi, xl = _axis_labels([plan.configs[c][0][1] for c in cfgs])
    yi, yl = _axis_labels([plan.configs[c][1][1] for c in cfgs])
    grid = np.full((len(yl), len(xl)), np.nan)
    for (y, x), group in pd.DataFrame({"y": yi, "x": xi, "cut": cut}).groupby(["y", "x"])["cut"]:
        counts = group.value_counts()
        grid[y, x] = min(counts.index[counts == counts.max()])
    fig_, ax = plt.subplots(figsize=(max(4, 0.5 * len(xl) + 2), max(3, 0.4 * len(yl) + 1.5)))
    im = ax.imshow(grid, origin="lower", aspect="auto", cmap="viridis")
    for (y, x), v in np.ndenumerate(grid):
        if not np.isnan(v):
            ax.text(x, y, str(int(v)), ha="center", va="center", fontsize=7, color="w")
    ax.set_xticks(range(len(xl)), xl, rotation=60, fontsize=7)
    ax.set_yticks(range(len(yl)), yl, fontsize=7)
    ax.set_xlabel(kx)
    ax.set_ylabel(ky)
    fig_.colorbar(im, ax=ax, label="best cut")
    _save(fig_, path)


def write_sweep_plots(out_dir: Path, plan: SweepPlan, fig: np.ndarray, lines: list[str],
                      best: BestCuts, pareto: np.ndarray) -> list[Path]:
    plots = out_dir / "plots"
    paths = [plots / "pareto.png"]
    pareto_plot(fig, pareto, paths[0])
    if len(plan.spec.keys) >= 2 and (best.row >= 0).any():
        paths.append(plots / "best_cut_heatmap.png")
        heatmap_plot(plan, fig, best, paths[-1])
    # per-cut plots for the first configuration and the one whose best value is lowest
    chosen = [0]
    if np.isfinite(best.value).any():
        chosen.append(int(best.config[np.nanargmin(best.value)]))
    for cfg in dict.fromkeys(chosen):
        results = config_results(plan, lines, fig, cfg)
        title = f"configuration {cfg}: " + ", ".join(f"{k}={v}" for k, v in plan.configs[cfg])
        stem = plots / f"config-{cfg}"
        paths += [Path(f"{stem}_energy_per_cut.png"), Path(f"{stem}_latency_per_cut.png"),
                  Path(f"{stem}_privacy_accuracy.png")]
        energy_plot(energy_breakdown(results), title, paths[-3])
        latency_plot(results, title, paths[-2])
        privacy_plot(results, title, paths[-1])
    return paths
