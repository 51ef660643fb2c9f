"""Figures of `sim run` on real LeNet-5 runs: what each figure drew (bars, markers, scales,
labels), not only that a file exists."""
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.colors import to_hex
from matplotlib.container import BarContainer, ErrorbarContainer

from sim.cli import main
from sim.plots import (CAPTION_GID, CLIP_RATIO, ENERGY_STACK, LATENCY_STACK, PAGE_WIDTH_IN, PALETTE,
                       energy_figure, latency_figure, privacy_accuracy_figure,
                       privacy_cost_figure, shown_cuts)

ROOT = Path(__file__).resolve().parent.parent
CONFIG = str(ROOT / "configs" / "tx2_lenet.yaml")
# the small noise budget of tests/test_privacy_lenet.py: privacy at cuts 8 and 12 in seconds
FAST = ("noise.collection_size=1", "noise.max_attempts_factor=4", "noise.shredder.init_b=1.0",
        "noise.shredder.iterations=150", "noise.shredder.min_iterations=100")


def run(out: Path, *sets: str, privacy: bool = False) -> pd.DataFrame:
    args = ["run", CONFIG, "--out", str(out)] + ([] if privacy else ["--no-privacy"])
    for s in sets:
        args += ["--set", s]
    assert main(args) == 0
    return pd.read_csv(out / "results.csv")


@pytest.fixture(scope="module")
def plain(tmp_path_factory):
    out = tmp_path_factory.mktemp("plain")
    return run(out), out


@pytest.fixture(scope="module")
def saturated_run(tmp_path_factory):
    # 0.1 Mbps: cuts sending more than 6,250 bytes need > 0.5 s per request at 2 requests/s
    out = tmp_path_factory.mktemp("sat")
    return run(out, "link.uplink_mbps=0.1"), out


@pytest.fixture(scope="module")
def private(tmp_path_factory):
    out = tmp_path_factory.mktemp("priv")
    return run(out, *FAST, privacy=True), out


def bars(ax) -> dict[str, np.ndarray]:
    """label -> heights of each stacked part, and the x positions they were drawn at."""
    return {c.get_label(): np.array([[r.get_x() + r.get_width() / 2, r.get_height()]
                                     for r in c.patches])
            for c in ax.containers if isinstance(c, BarContainer)}


def tick_cuts(ax) -> list[int]:
    return [int(t.get_text().split()[0]) for t in ax.get_xticklabels()]


def caption_text(fig) -> str:
    return " ".join(t.get_text() for ax in fig.axes for t in ax.texts
                    if t.get_gid() == CAPTION_GID)


def data_labels(ax) -> list[str]:
    return [t.get_text() for t in ax.texts if t.get_gid() != CAPTION_GID]


def test_energy_figure_stacks_parts_marks_cloud_only_and_best(plain):
    res, _ = plain
    fig = energy_figure(res, "tx2_lenet: lenet5 on jetson-tx2-gpu")
    ax = fig.axes[0]
    # cut 9 (flatten) sends the same 480 bytes as cut 8, but the cloud's host call for the
    # flatten (titan-xp: 5 us at 250 W, 1.25 mJ, 2.5 % of the total) makes it another choice
    # (merging within 1 %: test_shown_cuts_keeps_named_cuts_and_the_cheapest_duplicate)
    by_cut = res.set_index("cut")
    assert by_cut.loc[8, "cloud_compute_mj"] - by_cut.loc[9, "cloud_compute_mj"] == \
        pytest.approx(1.25, rel=1e-6)
    assert tick_cuts(ax) == list(range(13))
    assert "stands for" not in caption_text(fig)
    parts = bars(ax)
    labels = [label for col, label in ENERGY_STACK if res[col].abs().sum() > 0]
    assert list(parts) == labels
    shown = res.set_index("cut").loc[tick_cuts(ax)]
    stacked = sum(p[:, 1] for p in parts.values())
    np.testing.assert_allclose(stacked, shown["total_mj"], rtol=1e-9)
    for label, colour in zip(parts, PALETTE):     # colour-blind-safe palette, in order
        c = next(c for c in ax.containers if c.get_label() == label)
        assert to_hex(c.patches[0].get_facecolor()) == colour.lower()
    cloud_only = [ln for ln in ax.get_lines() if ln.get_label().startswith("cloud-only")]
    assert len(cloud_only) == 1
    assert cloud_only[0].get_ydata()[0] == pytest.approx(res.loc[0, "total_mj"])
    best = res.loc[res["total_mj"].idxmin()]
    star = [ln for ln in ax.get_lines() if ln.get_label().startswith("lowest energy")]
    assert star[0].get_label() == f"lowest energy: cut {int(best['cut'])}"
    assert star[0].get_xdata()[0] == tick_cuts(ax).index(int(best["cut"]))
    assert ax.get_title() == "" and "tx2_lenet" in caption_text(fig)   # caption, no title
    assert ax.get_yscale() == "linear" and ax.get_ylim()[1] >= res["total_mj"].max()
    assert fig.get_size_inches()[0] <= PAGE_WIDTH_IN
    assert min(t.get_fontsize() for t in ax.get_xticklabels()) >= 6


def test_saturated_cuts_hatched_clipped_and_never_a_latency(saturated_run):
    res, _ = saturated_run
    sat = res["saturated"].astype(bool)
    assert sat.any() and (~sat).any()
    fig = energy_figure(res, "slow link")
    ax = fig.axes[0]
    cuts = tick_cuts(ax)
    shown = res.set_index("cut").loc[cuts]
    hatched = {int(round(r.get_x() + r.get_width() / 2)) for c in ax.containers
               if isinstance(c, BarContainer) for r in c.patches if r.get_hatch()}
    assert hatched == {i for i, c in enumerate(cuts) if shown.loc[c, "saturated"]}
    steady_max = shown.loc[~shown["saturated"].astype(bool), "total_mj"].max()
    assert shown["total_mj"].max() > CLIP_RATIO * steady_max     # the case the clip is for
    assert ax.get_ylim()[1] == pytest.approx(1.3 * steady_max)
    printed = sorted(t.get_text() for t in ax.texts if t.get_text().endswith(" mJ"))
    assert printed == sorted(f"{v:,.0f} mJ" for v in shown["total_mj"]
                             if v > 1.3 * steady_max)
    assert "saturated (no steady state)" in [t.get_text() for t in ax.get_legend().texts]

    fig = latency_figure(res, "slow link")
    ax = fig.axes[0]
    cuts = tick_cuts(ax)
    sat_pos = {i for i, c in enumerate(cuts) if res.set_index("cut").loc[c, "saturated"]}
    drawn = {int(round(x)) for p in bars(ax).values() for x in p[:, 0]}
    assert drawn.isdisjoint(sat_pos) and drawn | sat_pos == set(range(len(cuts)))
    marks = {int(round(t.get_position()[0])) for t in ax.texts if t.get_text() == "saturated"}
    assert marks == sat_pos


def test_latency_figure_stacks_stages_with_p99_and_interval(plain):
    res, _ = plain
    fig = latency_figure(res, "tx2_lenet")
    ax = fig.axes[0]
    shown = res.set_index("cut").loc[tick_cuts(ax)]
    parts = bars(ax)
    expected = [label for col, label in LATENCY_STACK if res[col].abs().sum() > 0]
    assert list(parts) == expected and "uplink" in parts and "edge queue" in parts
    np.testing.assert_allclose(sum(p[:, 1] for p in parts.values()), shown["latency_ms"],
                               rtol=1e-6)
    p99 = next(ln for ln in ax.get_lines() if ln.get_label() == "p99")
    np.testing.assert_allclose(p99.get_ydata(), shown["latency_p99_ms"])
    assert any(c.get_label().startswith("95 %") for c in ax.containers)
    fastest = int(res.loc[res["latency_ms"].idxmin(), "cut"])
    assert any(ln.get_label() == f"lowest latency: cut {fastest}" for ln in ax.get_lines())
    assert not [t for t in ax.texts if t.get_text() == "saturated"]


def test_privacy_figures_one_labelled_point_per_evaluated_cut(private, plain):
    res, _ = private
    evaluated = res.dropna(subset=["mi_loss_pct"])
    assert evaluated["cut"].tolist() == [8, 12]
    fig = privacy_cost_figure(res, "tx2_lenet")
    axes = np.array(fig.axes).reshape(-1, 2)
    metrics = [m for m in ("mi_loss_pct", "recon_psnr_db", "private_misclass_pct")
               if m in res and res[m].notna().any()]
    assert axes.shape[0] == len(metrics) >= 2
    x_cols = ["device_mj", "latency_ms"]
    for r, metric in enumerate(metrics):
        for c, xcol in enumerate(x_cols):
            ax = axes[r, c]
            pts = next(ln for ln in ax.get_lines() if ln.get_marker() == "o")
            np.testing.assert_allclose(pts.get_xdata(), evaluated[xcol])
            np.testing.assert_allclose(pts.get_ydata(), evaluated[metric])
            assert sorted(data_labels(ax)) == ["12", "8"]
    # bars: the 95 % half-widths of the table where it has them (device energy has none)
    ci = evaluated["mi_loss_ci95"].to_numpy() if "mi_loss_ci95" in evaluated else None
    bars_ = [c for c in axes[0, 0].containers if isinstance(c, ErrorbarContainer)][0]
    segments = [s for coll in bars_.lines[2] for s in coll.get_segments()]
    if ci is not None and np.isfinite(ci).any():
        np.testing.assert_allclose([(s[1][1] - s[0][1]) / 2 for s in segments],
                                   np.nan_to_num(ci))
        assert all(s[0][0] == s[1][0] for s in segments)          # vertical only
    else:
        assert segments == []
    assert axes[-1, 0].get_xlabel() == "device energy per request (mJ)"
    assert axes[0, 0].get_ylabel() == "MI loss (%)"
    fig = privacy_accuracy_figure(res, "tx2_lenet")
    assert len(fig.axes) == len(metrics)
    assert fig.axes[-1].get_xlabel() == "accuracy loss (percentage points)"
    # nothing evaluated: no figure at all rather than an empty one
    assert privacy_cost_figure(plain[0], "x") is None
    assert privacy_accuracy_figure(plain[0], "x") is None


def test_files_png_and_pdf_and_plots_off(private, plain, tmp_path):
    _, out = private
    names = {p.name for p in (out / "plots").iterdir()}
    stems = ["energy_per_cut", "latency_per_cut", "privacy_accuracy", "privacy_cost"]
    assert {f"{s}.{e}" for s in stems for e in ("pdf", "png")} <= names
    assert (out / "plots" / "energy_per_cut.pdf").read_bytes()[:5] == b"%PDF-"
    assert (out / "plots" / "energy_per_cut.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    _, plain_out = plain      # privacy not evaluated: no privacy figure
    assert sorted(p.stem for p in (plain_out / "plots").glob("*.png")) == stems[:2]
    run(tmp_path, "report.plots=false")
    assert not (tmp_path / "plots").exists()
    assert "No figures" in (tmp_path / "report.html").read_text()


def test_shown_cuts_keeps_named_cuts_and_the_cheapest_duplicate():
    df = pd.DataFrame({"cut": [0, 1, 2, 3, 4, 5], "sent_bytes": [10, 40, 40, 40, 40, 8],
                       "total_mj": [5.0, 4.0, 3.99, 3.995, 3.99, 1.0],
                       "edge_compute_mj": [0.0, 1.0, 1.01, 1.02, 1.2, 2.0]})
    # cut 4 sends what 1-3 send at the same total, but does 0.2 mJ more work (5 % of 4 mJ)
    shown, merged = shown_cuts(df, keep={0})
    assert shown["cut"].tolist() == [0, 2, 4, 5] and merged[2] == [1, 2, 3]
    shown, merged = shown_cuts(df, keep={0, 3})
    assert shown["cut"].tolist() == [0, 2, 3, 4, 5] and merged[2] == [1, 2]
    assert merged[3] == [3] and merged[4] == [4]


def test_saturated_evaluated_cut_is_named_not_silently_dropped(private, tmp_path):
    # 0.005 Mbps: cut 8's 480 bytes take 0.77 s at 2 requests/s (saturated), cut 12's 40 do
    # not; the model and the noise come from the cache the `private` run filled
    res = run(tmp_path, *FAST, "link.uplink_mbps=0.005", privacy=True)
    flags = res.set_index("cut")["saturated"].astype(bool)
    assert flags[8] and not flags[12]
    fig = privacy_cost_figure(res, "slow link")
    latency_panel = np.array(fig.axes).reshape(-1, 2)[0, 1]
    assert data_labels(latency_panel) == ["12"]
    assert "without a cost to draw them at: cuts 8 (saturated)." in caption_text(fig)
