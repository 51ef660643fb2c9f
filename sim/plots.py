"""Paper figures of a run: energy and latency per cut at the operating point, privacy against
cost and against accuracy. Each `*_figure` builds a matplotlib Figure from the results table
(tests inspect what it drew); `write_plots` saves PNG and PDF side by side, atomically.

Every figure draws only columns that exist and hold values: a metric that was not evaluated
gets no axis, and a figure with nothing to show is not written.
"""
from __future__ import annotations

import textwrap
from contextlib import contextmanager
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display on servers and CI
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from cycler import cycler  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402

from core.atomic import write_atomic  # noqa: E402

# Okabe & Ito (2008), "Color Universal Design": distinguishable under the common colour-vision
# deficiencies; black is kept for markers and reference lines.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442")
COLUMN_WIDTH_IN = 3.5       # one column of a two-column paper (IEEE, ACM)
PAGE_WIDTH_IN = 7.16        # both columns
# Printed at these widths (the PDF is not scaled), 8 pt text matches a paper's captions.
PAPER_STYLE = {
    "font.size": 8, "axes.labelsize": 8, "axes.titlesize": 8, "legend.fontsize": 7,
    "xtick.labelsize": 7, "ytick.labelsize": 7, "axes.prop_cycle": cycler(color=PALETTE),
    "pdf.fonttype": 42, "ps.fonttype": 42,        # TrueType: text stays text in the PDF
    "axes.spines.top": False, "axes.spines.right": False, "legend.frameon": False,
}
PNG_DPI = 200
CAPTION_FONT_PT = 6.5
CAPTION_GID = "caption"      # tells the caption from the labels drawn on the data
# Consecutive cuts sending the same bytes whose energy parts each differ by less than this
# share of the total are the same choice (a ReLU or dropout after a conv): one bar
# stands for them.
DUPLICATE_REL_TOL = 0.01
# Bars taller than this many times the tallest steady-state bar are clipped, value printed.
CLIP_RATIO = 2.0

ENERGY_STACK = (("edge_compute_mj", "edge compute"), ("noise_mj", "noise"),
                ("comm_mj", "communication"), ("cloud_compute_mj", "cloud compute"))
LATENCY_STACK = (("edge_queue_ms", "edge queue"), ("edge_compute_ms", "edge compute"),
                 ("noise_ms", "noise"), ("uplink_ms", "uplink"),
                 ("cloud_queue_ms", "cloud queue"), ("cloud_compute_ms", "cloud compute"),
                 ("downlink_ms", "downlink"))
# privacy metric -> (axis label, interval column of issue 16)
PRIVACY_METRICS = {
    "mi_loss_pct": ("MI loss (%)", "mi_loss_ci95"),
    "recon_psnr_db": ("reconstruction PSNR (dB)", "recon_psnr_ci95"),
    "private_misclass_pct": ("adversary error (%)", "private_misclass_ci95"),
}
CI_COLUMNS = {"latency_ms": "latency_ci95_ms", "accuracy_loss_pct": "accuracy_loss_ci95"}
SATURATED_COLOUR = "#D55E00"


@contextmanager
def paper_style():
    with plt.rc_context(PAPER_STYLE):
        yield


def save_figure(fig, png_path: Path) -> list[Path]:
    """PNG for screens and the HTML report, PDF (vector) for LaTeX, same stem."""
    paths = [Path(png_path), Path(png_path).with_suffix(".pdf")]
    try:
        for path in paths:
            fmt = path.suffix[1:]
            write_atomic(path, lambda tmp, fmt=fmt: fig.savefig(
                tmp, format=fmt, dpi=PNG_DPI, bbox_inches="tight"))
    finally:
        plt.close(fig)
    return paths


def add_caption(ax, text: str, width_in: float) -> None:
    """The scenario goes under the x label of `ax` (below its tick labels), left-aligned with
    its y label, as a caption, not into a title."""
    chars = max(40, int(width_in * 72 / (CAPTION_FONT_PT * 0.5)))
    ax.annotate(textwrap.fill(text, chars), xy=(0, 0),
                xycoords=(ax.yaxis.label, ax.xaxis.label), xytext=(0, -4),
                textcoords="offset points", ha="left", va="top", fontsize=CAPTION_FONT_PT,
                annotation_clip=False, gid=CAPTION_GID)


def legend_above(ax, handles=None, labels=None, ncol: int = 3) -> None:
    """Outside the axes, so it never hides a bar."""
    if handles is None:
        handles, labels = ax.get_legend_handles_labels()
    ax.legend(handles, labels, ncol=ncol, loc="lower left", bbox_to_anchor=(0.0, 1.02),
              borderaxespad=0.0, columnspacing=1.0, handlelength=1.5)


def values(df: pd.DataFrame, col: str) -> np.ndarray:
    """A column as floats, NaN where absent or empty."""
    if col not in df:
        return np.full(len(df), np.nan)
    return pd.to_numeric(df[col], errors="coerce").to_numpy(dtype=float)


def evaluated(df: pd.DataFrame, col: str) -> bool:
    return bool(np.isfinite(values(df, col)).any())


def flag(df: pd.DataFrame, col: str) -> np.ndarray:
    """A true/false column (bools, or their text in a CSV) as 1.0 / 0.0, NaN where empty."""
    if col not in df:
        return np.full(len(df), np.nan)
    known = {"true": 1.0, "1": 1.0, "1.0": 1.0, "false": 0.0, "0": 0.0, "0.0": 0.0}
    return df[col].map(lambda v: known.get(str(v).strip().lower(), np.nan)).to_numpy(float)


def saturated(df: pd.DataFrame) -> np.ndarray:
    return flag(df, "saturated") == 1.0


def errors(df: pd.DataFrame, col: str) -> np.ndarray | None:
    """Symmetric error bars from the column's 95 % interval column (a half-width, as the
    results table holds it); None where it has none."""
    ci_col = PRIVACY_METRICS.get(col, (None, CI_COLUMNS.get(col)))[1]
    half = np.abs(values(df, ci_col)) if ci_col else np.full(len(df), np.nan)
    return np.nan_to_num(half) if np.isfinite(half).any() else None


# ----------------------------------------------------------------------------- cut choice
def shown_cuts(results: pd.DataFrame, keep: set[int]) -> tuple[pd.DataFrame, dict[int, list]]:
    """The rows to draw: one per run of duplicate cuts (same bytes sent, each energy part
    within DUPLICATE_REL_TOL of the total), its cheapest; cuts in `keep` are always drawn.
    Returns the rows and, per drawn cut, the cuts it stands for."""
    cuts = results["cut"].astype(int).to_numpy()
    sent = values(results, "sent_bytes")
    total = values(results, "total_mj")
    parts = np.stack([np.nan_to_num(values(results, c)) for c, _ in ENERGY_STACK], axis=1)
    groups: list[list[int]] = []
    for i in range(len(results)):
        if groups:
            j = groups[-1][0]
            tol = DUPLICATE_REL_TOL * max(abs(total[j]), 1e-12)
            # part by part: where a saturated link dwarfs it, work moved from the cloud to the
            # edge (a conv) still makes a different choice
            if sent[i] == sent[j] and (np.abs(parts[i] - parts[j]) <= tol).all():
                groups[-1].append(i)
                continue
        groups.append([i])
    rows, merged = [], {}
    for group in groups:
        lead = min(group, key=lambda i: (total[i], i))
        kept = sorted({lead} | {i for i in group if cuts[i] in keep})
        for i in kept:     # the lead stands for the members not drawn, the others for themselves
            merged[int(cuts[i])] = [int(cuts[m]) for m in group
                                    if m == i or (i == lead and m not in kept)]
        rows += kept
    return results.iloc[rows].reset_index(drop=True), merged


def merge_note(merged: dict[int, list]) -> str:
    folded = {k: [c for c in v if c != k] for k, v in merged.items()}
    parts = [f"{k} stands for {', '.join(map(str, v))}" for k, v in folded.items() if v]
    if not parts:
        return ""
    return (f" Cuts sending the same bytes with the same energy parts (within "
            f"{DUPLICATE_REL_TOL:.0%}) share one bar: {'; '.join(parts)}.")


def _cut_axis(ax, df: pd.DataFrame) -> np.ndarray:
    x = np.arange(len(df))
    labels = [f"{int(c)} {a}" for c, a in zip(df["cut"], df["after_layer"])]
    ax.set_xticks(x, labels, rotation=90)
    ax.set_xlabel("cut (layers on the edge) and the layer it follows")
    ax.set_xlim(-0.6, len(df) - 0.4)
    return x


def _width_in(n_bars: int) -> float:
    return COLUMN_WIDTH_IN if n_bars <= 14 else PAGE_WIDTH_IN


def _stack(ax, x, df: pd.DataFrame, parts, hatch_mask=None) -> np.ndarray:
    """Stacked bars of the parts that exist and are not all zero; returns the tops."""
    bottom = np.zeros(len(df))
    for (col, label), colour in zip(parts, PALETTE):
        h = np.nan_to_num(values(df, col))
        if col not in df or not h.any():
            continue
        bars = ax.bar(x, h, bottom=bottom, label=label, color=colour, width=0.75,
                      edgecolor="white", linewidth=0.3)
        if hatch_mask is not None:
            for bar, flag in zip(bars, hatch_mask):
                if flag:
                    bar.set_hatch("////")
        bottom = bottom + h
    return bottom


def _best(df: pd.DataFrame, col: str) -> int | None:
    """Position of the lowest value among cuts with a steady state."""
    v = np.where(saturated(df), np.nan, values(df, col))
    return None if not np.isfinite(v).any() else int(np.nanargmin(v))


# ----------------------------------------------------------------------------- energy
def energy_figure(results: pd.DataFrame, caption: str):
    """Stacked energy per request by cut at the operating point, with the cloud-only level and
    the lowest-energy steady-state cut marked; bars that dwarf the rest are clipped."""
    sat_all = saturated(results)
    best_all = _best(results, "total_mj")
    keep = {0} | ({int(results["cut"].iloc[best_all])} if best_all is not None else set())
    df, merged = shown_cuts(results, keep)
    sat, total = saturated(df), values(df, "total_mj")
    with paper_style():
        width = _width_in(len(df))
        fig, ax = plt.subplots(figsize=(width, 2.6))
        x = _cut_axis(ax, df)
        _stack(ax, x, df, ENERGY_STACK, hatch_mask=sat)
        note = f"Energy per request by cut at the operating point. {caption}."
        steady = total[~sat] if (~sat).any() else total
        top = float(np.nanmax(steady))
        if np.nanmax(total) > CLIP_RATIO * top:
            ylim = 1.3 * top
            ax.set_ylim(0, ylim)
            for xi, t in zip(x, total):
                if t > ylim:
                    ax.annotate(f"{t:,.0f} mJ", (xi, ylim), xytext=(0, -6),
                                textcoords="offset points", rotation=90, ha="center",
                                va="top", fontsize=6, color="black",
                                bbox={"boxstyle": "square,pad=0.1", "fc": "white",
                                      "ec": "none", "alpha": 0.85})
                    ax.plot([xi], [ylim], marker="^", color="black", markersize=4,
                            clip_on=False, label="_clipped")
            note += f" Bars above {ylim:,.0f} mJ are clipped; their totals are printed."
        cloud_only = total[df["cut"].to_numpy() == 0]
        if len(cloud_only):
            ax.axhline(cloud_only[0], color="black", linestyle="--", linewidth=0.8,
                       label=f"cloud-only ({cloud_only[0]:,.1f} mJ)")
        best = _best(df, "total_mj")
        if best is not None:
            ax.plot([x[best]], [min(total[best], ax.get_ylim()[1])], marker="*",
                    color="black", markersize=8, linestyle="none",
                    label=f"lowest energy: cut {int(df['cut'].iloc[best])}")
        handles, labels = ax.get_legend_handles_labels()
        if sat_all.any():
            handles.append(Patch(facecolor="white", edgecolor="black", hatch="////"))
            labels.append("saturated (no steady state)")
            note += " Hatched: saturated cuts (a stage is offered more work than it serves)."
        legend_above(ax, handles, labels, ncol=3 if width < PAGE_WIDTH_IN else 6)
        ax.set_ylabel("energy per request (mJ)")
        add_caption(ax, note + merge_note(merged), width)
    return fig


# ----------------------------------------------------------------------------- latency
def latency_figure(results: pd.DataFrame, caption: str):
    """Stacked latency per request by cut (queues included), p99 markers and 95 % intervals;
    a saturated cut has no steady state, so it is labelled, never drawn as a value."""
    best_all = _best(results, "latency_ms")
    keep = {0} | ({int(results["cut"].iloc[best_all])} if best_all is not None else set())
    df, merged = shown_cuts(results, keep)
    lat = values(df, "latency_ms")
    missing = saturated(df) | ~np.isfinite(lat)
    with paper_style():
        width = _width_in(len(df))
        fig, ax = plt.subplots(figsize=(width, 2.6))
        x = _cut_axis(ax, df)
        live = df.loc[~missing]
        tops = _stack(ax, x[~missing], live, LATENCY_STACK)
        err = errors(live, "latency_ms")
        if err is not None:
            ax.errorbar(x[~missing], tops, yerr=err, fmt="none", ecolor="black",
                        elinewidth=0.6, capsize=1.5, label="95 % interval of the mean")
        p99 = values(live, "latency_p99_ms")
        if np.isfinite(p99).any():
            ax.plot(x[~missing], p99, linestyle="none", marker="_", color="black",
                    markersize=6, label="p99")
        note = f"Latency per request by cut at the operating point. {caption}."
        ymax = ax.get_ylim()[1]
        for xi, flag in zip(x[missing], saturated(df)[missing]):
            ax.text(xi, 0.02 * ymax, "saturated" if flag else "no value", rotation=90,
                    ha="center", va="bottom", fontsize=6, color=SATURATED_COLOUR)
        if missing.any():
            note += (" Cuts marked saturated have no steady state (the queue grows without "
                     "bound): no latency is drawn for them.")
        best = _best(df, "latency_ms")
        if best is not None:
            ax.plot([x[best]], [lat[best]], marker="*", color="black", markersize=8,
                    linestyle="none", label=f"lowest latency: cut {int(df['cut'].iloc[best])}")
        ax.set_ylabel("latency per request (ms)")
        legend_above(ax, ncol=3 if width < PAGE_WIDTH_IN else 6)
        add_caption(ax, note + merge_note(merged), width)
    return fig


# ----------------------------------------------------------------------------- privacy
def privacy_metrics(results: pd.DataFrame) -> list[str]:
    return [m for m in PRIVACY_METRICS if evaluated(results, m)]


def device_energy_column(results: pd.DataFrame) -> tuple[str, str]:
    if evaluated(results, "device_mj"):
        return "device_mj", "device energy per request (mJ)"
    return "total_mj", "total energy per request (mJ)"


def privacy_figure(results: pd.DataFrame, against: list[tuple[str, str]], caption: str):
    """One panel per evaluated privacy metric (rows) and cost (columns), one labelled point per
    evaluated cut, with 95 % intervals where the table has them. None if nothing to draw."""
    metrics = privacy_metrics(results)
    against = [(c, label) for c, label in against if evaluated(results, c)]
    if not metrics or not against:
        return None
    with paper_style():
        width = COLUMN_WIDTH_IN * (1 if len(against) == 1 else 2)
        fig, axes = plt.subplots(len(metrics), len(against), squeeze=False,
                                 figsize=(width, 2.2 * len(metrics)))
        budget = flag(results, "within_budget")
        for r, metric in enumerate(metrics):
            for c, (xcol, xlabel) in enumerate(against):
                _privacy_panel(axes[r, c], results, metric, xcol, budget)
                axes[r, c].set_xlabel(xlabel if r == len(metrics) - 1 else "")
                axes[r, c].set_ylabel(PRIVACY_METRICS[metric][0] if c == 0 else "")
        fig.tight_layout()
        note = (f"{caption}. One point per evaluated cut (labelled with its number); bars: 95 % "
                "intervals where measured.")
        if (budget == 0).any():
            note += " Hollow: the cut's noise breaks the accuracy budget on test."
        add_caption(axes[-1, 0], note + _unplaced_note(results, metrics, against), width)
    return fig


def _unplaced_note(results: pd.DataFrame, metrics: list[str],
                   against: list[tuple[str, str]]) -> str:
    """Evaluated cuts with no cost to place them at (a saturated cut has no steady-state
    latency or device energy), named rather than silently missing."""
    measured = np.any([np.isfinite(values(results, m)) for m in metrics], axis=0)
    costless = np.any([~np.isfinite(values(results, c)) for c, _ in against], axis=0)
    missing = measured & costless
    if not missing.any():
        return ""
    sat = saturated(results)
    named = [f"{int(c)}{' (saturated)' if s else ''}"
             for c, s in zip(results.loc[missing, "cut"], sat[missing])]
    return f" Evaluated but without a cost to draw them at: cuts {', '.join(named)}."


def _privacy_panel(ax, results: pd.DataFrame, metric: str, xcol: str,
                   budget: np.ndarray) -> None:
    y, x = values(results, metric), values(results, xcol)
    ok = np.isfinite(x) & np.isfinite(y)
    sub = results.loc[ok]
    xerr, yerr = errors(sub, xcol), errors(sub, metric)
    ax.errorbar(x[ok], y[ok], xerr=xerr, yerr=yerr, fmt="none", ecolor="0.4",
                elinewidth=0.6, capsize=1.5)
    over = ok & (budget == 0)
    ax.plot(x[ok & ~over], y[ok & ~over], "o", color=PALETTE[0], markersize=4,
            linestyle="none")
    if over.any():
        ax.plot(x[over], y[over], "o", markerfacecolor="none", color=PALETTE[5],
                markersize=4, linestyle="none")
    for xi, yi, cut in zip(x[ok], y[ok], results.loc[ok, "cut"]):
        ax.annotate(str(int(cut)), (xi, yi), xytext=(3, 3), textcoords="offset points",
                    fontsize=6)
    if ok.any() and np.nanmax(x[ok]) > 100 * max(np.nanmin(x[ok]), 1e-12):
        ax.set_xscale("log")


def privacy_cost_figure(results: pd.DataFrame, caption: str):
    energy = device_energy_column(results)
    return privacy_figure(results, [energy, ("latency_ms", "latency per request (ms)")],
                          f"Privacy against cost per evaluated cut. {caption}")


def privacy_accuracy_figure(results: pd.DataFrame, caption: str):
    return privacy_figure(results, [("accuracy_loss_pct", "accuracy loss (percentage points)")],
                          f"Privacy against accuracy loss. {caption}")


FIGURES = (("energy_per_cut", energy_figure), ("latency_per_cut", latency_figure),
           ("privacy_cost", privacy_cost_figure), ("privacy_accuracy", privacy_accuracy_figure))


def write_plots(out_dir: Path, results: pd.DataFrame, caption: str,
                prefix: str = "") -> list[Path]:
    """Every figure that has something to show, as plots/<prefix><name>.png and .pdf."""
    paths: list[Path] = []
    for name, build in FIGURES:
        fig = build(results, caption)
        if fig is not None:
            paths += save_figure(fig, Path(out_dir) / "plots" / f"{prefix}{name}.png")
    return paths
