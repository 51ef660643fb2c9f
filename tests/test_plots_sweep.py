"""Figures of a real cost-only sweep (LeNet-5, uplink x power mode): labelled Pareto points,
metrics against each swept key with their spread, heat maps of a chosen metric, and no figure
for a metric that was not evaluated."""
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.config import load_config
from sim.sweep import Objective, SweepOptions, plan_sweep, run_sweep
from sim.plots import CAPTION_GID
from sim.sweep.plots import heatmap_figure, metrics_vs_keys_figure, pareto_figure

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "configs" / "tx2_lenet.yaml"
GRID = ["link.uplink_mbps=1,5,20,100", "edge.power_mode=maxn,maxq"]


def data_labels(ax) -> list[str]:
    return [t.get_text() for t in ax.texts if t.get_gid() != CAPTION_GID]


def plan(grid, sets=None):
    base, config_dir = load_config(CONFIG, sets)
    return plan_sweep(base, grid, cost_only=True, config_dir=config_dir)


@pytest.fixture(scope="module")
def sweep(tmp_path_factory):
    out = tmp_path_factory.mktemp("sweep")
    result = run_sweep(plan(GRID), out, options=SweepOptions(cost_only=True, progress=False),
                       objective=Objective("total_energy"))
    return result, pd.read_csv(out / "best.csv"), out


def test_pareto_points_are_labelled_with_configuration_and_cut(sweep):
    result, _, out = sweep
    pareto = pd.read_csv(out / "pareto.csv")
    fig = pareto_figure(result.figures, result.pareto)
    ax = fig.axes[0]
    labels = sorted(data_labels(ax))
    assert labels == sorted(f"c{c}/k{k}" for c, k in zip(pareto["config"], pareto["cut"]))
    front = next(ln for ln in ax.get_lines() if ln.get_label() == "Pareto front")
    order = np.argsort(pareto["latency_ms"].to_numpy(), kind="stable")
    np.testing.assert_allclose(front.get_xdata(), pareto["latency_ms"].to_numpy()[order])
    assert ax.get_xlabel().startswith("latency") and ax.get_ylabel().startswith("total energy")


def test_metrics_against_each_key_are_means_with_min_max(sweep):
    result, best, _ = sweep
    fig = metrics_vs_keys_figure(result.plan, result.figures, result.best,
                                 ["total_mj", "latency_ms"], "total_energy")
    axes = np.array(fig.axes).reshape(2, 2)
    for r, metric in enumerate(["total_mj", "latency_ms"]):
        for c, key in enumerate(["link.uplink_mbps", "edge.power_mode"]):
            ax = axes[r, c]
            line = ax.get_lines()[0]
            stats = best.groupby(key, sort=True)[metric].agg(["mean", "min", "max"])
            np.testing.assert_allclose(np.asarray(line.get_ydata(), float),
                                       stats["mean"].to_numpy())
            caps = sorted(np.concatenate([np.asarray(ln.get_ydata(), float)
                                          for ln in ax.get_lines()[1:]]))
            np.testing.assert_allclose(caps, sorted(np.r_[stats["min"], stats["max"]]))
    assert axes[0, 0].get_xscale() == "log"             # 1 to 100 Mbps
    assert [t.get_text() for t in axes[1, 1].get_xticklabels()] == ["maxn", "maxq"]
    assert axes[1, 0].get_xlabel() == "link.uplink_mbps"


def test_heatmap_of_a_chosen_metric_and_of_the_best_cut(sweep):
    result, best, _ = sweep
    fig = heatmap_figure(result.plan, result.figures, result.best, "total_mj")
    ax = fig.axes[0]
    grid = ax.get_images()[0].get_array()
    # one configuration per cell: the cell is that configuration's best total energy
    expected = best.pivot(index="edge.power_mode", columns="link.uplink_mbps",
                          values="total_mj").loc[["maxn", "maxq"], [1, 5, 20, 100]]
    np.testing.assert_allclose(np.asarray(grid), expected.to_numpy())
    assert sorted(data_labels(ax)) == sorted(f"{v:.3g}" for v in
                                                           expected.to_numpy().ravel())
    cuts = heatmap_figure(result.plan, result.figures, result.best, None).axes[0]
    assert sorted(data_labels(cuts)) == sorted(str(c) for c in best["cut"])


def test_no_figure_for_what_was_not_evaluated(sweep):
    result, _, out = sweep
    names = {p.name for p in (out / "plots").glob("*.png")}
    assert {"pareto.png", "metrics_vs_keys.png", "best_cut_heatmap.png",
            "heatmap_total_mj.png", "heatmap_latency_ms.png"} <= names
    assert not [n for n in names if "mi_loss" in n or "privacy" in n]   # cost-only: no privacy
    assert {p.with_suffix(".pdf").name for p in (out / "plots").glob("*.png")} <= \
        {p.name for p in (out / "plots").glob("*.pdf")}
    assert metrics_vs_keys_figure(result.plan, result.figures, result.best, [], "x") is None
    assert heatmap_figure(result.plan, result.figures, result.best, "mi_loss_pct") is None


def test_report_plots_false_turns_sweep_figures_off(tmp_path):
    run_sweep(plan(GRID[:1], ["report.plots=false"]), tmp_path,
              options=SweepOptions(cost_only=True, progress=False))
    assert not (tmp_path / "plots").exists() and (tmp_path / "report.html").is_file()
