"""`sim sweep` options end to end: outputs, and exit 2 (one line per problem, before any work)
for unknown keys, wrong types, bad presets and a folder holding other arguments' sweep."""
import argparse
import json
from pathlib import Path

import pandas as pd
import pytest

from sim.table import RESULT_COLUMNS
from core.errors import UserError
from sim.sweep.cli import add_sweep_arguments, cmd_sweep
from sim.sweep.report import provenance_sentence

CONFIGS = Path(__file__).resolve().parent.parent / "configs"
LENET = str(CONFIGS / "tx2_lenet.yaml")


def sweep_cli(capsys, *argv):
    """cmd_sweep as sim.cli will call it: UserError -> exit 2 with one line per problem."""
    args = add_sweep_arguments(argparse.ArgumentParser()).parse_args(list(argv))
    try:
        code = cmd_sweep(args)
    except UserError as exc:
        code = 2
        print("\n".join(f"error: {p}" for p in exc.problems))
    return code, capsys.readouterr().out


@pytest.mark.parametrize("grid, expected", [
    ("link.uplink_speed=1,2", "link.uplink_speed: unknown key; valid keys: name, uplink_mbps"),
    ("edge.batteries=1", "edge.batteries: unknown key; valid keys: device, power_mode"),
    ("link.uplink_mbps=1,fast", "link.uplink_mbps: expected a number, got 'fast' "
                                "(from --grid link.uplink_mbps=fast)"),
    ("cloud.gpus=1,2.5", "cloud.gpus: expected an integer, got 2.5"),
    ("link.uplink_mbps=-5:10", "link.uplink_mbps: must be > 0, got -5.0"),
    ("edge.power_mode=maxn,turbo", "edge.power_mode: 'turbo' unknown for device "
                                   "\"jetson-tx2-gpu\"; known: maxn"),
    ("link.preset=wifi,wimax", "link: unknown link preset 'wimax'; known: 3g"),
])
def test_bad_grid_exits_2_before_any_work(tmp_path, capsys, grid, expected):
    argv = [LENET, "--grid", grid, "--out", str(tmp_path / "out"), "--cost-only"]
    if ":" in grid:
        argv += ["--sample", "4"]
    code, out = sweep_cli(capsys, *argv)
    assert code == 2
    assert expected in out, out
    assert all(line.startswith("error: ") for line in out.splitlines())
    assert not (tmp_path / "out").exists()         # nothing started


def test_every_problem_is_listed_at_once(tmp_path, capsys):
    code, out = sweep_cli(capsys, LENET, "--grid", "link.uplink_mbps=0,fast", "--grid",
                          "edge.device=tx3", "--out", str(tmp_path), "--cost-only")
    assert code == 2
    lines = out.splitlines()
    assert len(lines) == 3, out
    assert "must be > 0, got 0.0" in lines[0] and "expected a number" in lines[1]
    assert "unknown device 'tx3'; known:" in lines[2]


def test_sweep_writes_outputs_and_refuses_other_arguments(tmp_path, capsys):
    out_dir = tmp_path / "sw"
    code, out = sweep_cli(capsys, LENET, "--grid", "link.uplink_mbps=1,100", "--grid",
                          "edge.power_mode=maxn,maxq", "--out", str(out_dir), "--cost-only",
                          "--objective", "total_energy", "--no-progress")
    assert code == 0, out
    assert "4 configurations x cuts = 52 rows (4 computed now, 0 resumed)" in out
    sweep = pd.read_csv(out_dir / "sweep.csv")
    assert list(sweep.columns) == ["config", "link.uplink_mbps", "edge.power_mode",
                                   *RESULT_COLUMNS, "saturated", "max_rate_hz"]
    assert sweep["saturated"].dtype == bool and (sweep["max_rate_hz"] > 0).all()
    assert sweep["config"].tolist() == [c for c in range(4) for _ in range(13)]
    assert sweep["cut"].tolist() == list(range(13)) * 4
    assert sweep["mi_bits"].isna().all()
    best = pd.read_csv(out_dir / "best.csv")
    assert best["objective"].tolist() == ["total_energy"] * 4
    for _, b in best.iterrows():
        rows = sweep[(sweep["config"] == b["config"]) & ~sweep["saturated"]]
        assert b["total_mj"] == rows["total_mj"].min()
    for name in ("pareto.csv", "best_cuts.md", "best_cuts.tex", "best_cuts.csv", "best.md",
                 "best.tex", "plots/pareto.png", "plots/best_cut_heatmap.png",
                 "plots/config-0_energy_per_cut.png", "plots/config-0_latency_per_cut.png",
                 "plots/heatmap_total_mj.png", "plots/metrics_vs_keys.png", "report.html"):
        assert (out_dir / name).stat().st_size > 0, name
    assert not list((out_dir / "plots").glob("*privacy*"))    # cost-only: privacy not drawn
    assert r"\begin{tabular}" in (out_dir / "best.tex").read_text()
    for name in ("best.md", "best_cuts.md", "pareto.md"):
        caption = (out_dir / name).read_text().splitlines()[0]
        assert caption.endswith("Privacy columns: not evaluated (cost-only sweep)."), name

    # same arguments: nothing to compute; other arguments: refused, folder untouched
    code, out = sweep_cli(capsys, LENET, "--grid", "link.uplink_mbps=1,100", "--grid",
                          "edge.power_mode=maxn,maxq", "--out", str(out_dir), "--cost-only",
                          "--no-progress", "--no-plots")
    assert code == 0 and "(0 computed now, 4 resumed)" in out
    before = (out_dir / "sweep.csv").read_bytes()
    code, out = sweep_cli(capsys, LENET, "--grid", "link.uplink_mbps=1,10", "--out",
                          str(out_dir), "--cost-only", "--no-progress")
    assert code == 2 and "holds a sweep made with different arguments" in out
    assert (out_dir / "sweep.csv").read_bytes() == before
    code, out = sweep_cli(capsys, LENET, "--grid", "link.uplink_mbps=1,10", "--out",
                          str(out_dir), "--cost-only", "--no-progress", "--no-plots",
                          "--restart")
    assert code == 0 and "2 configurations" in out


def test_option_mistakes_exit_2(tmp_path, capsys):
    code, out = sweep_cli(capsys, LENET, "--grid", "link.uplink_mbps=1", "--objective",
                          "weighted", "--weights", "latency=1,speed=2", "--out", str(tmp_path))
    assert code == 2 and "--weights speed: unknown term" in out
    code, out = sweep_cli(capsys, LENET, "--grid", "link.uplink_mbps=1", "--scheduler",
                          "tcp://127.0.0.1:1", "--out", str(tmp_path))
    assert code == 2 and "--scheduler: needs --executor dask" in out


def test_sweep_tables_name_the_privacy_provenance(tmp_path, capsys, monkeypatch):
    """Privacy evaluated in a sweep: the tables' captions and the manifest say which data,
    weights and estimator produced the privacy columns, as `sim run`'s caption does."""
    monkeypatch.setenv("SPLITSIM_CACHE_DIR", str(tmp_path / "cache"))
    out_dir = tmp_path / "sw"
    fast = ["noise.collection_size=1", "noise.max_attempts_factor=4", "noise.shredder.init_b=1.0",
            "noise.shredder.iterations=150", "noise.shredder.min_iterations=100",
            "privacy.cuts=[8]", "sim.requests=200"]
    code, out = sweep_cli(capsys, LENET, "--grid", "link.uplink_mbps=1,100", "--out",
                          str(out_dir), "--no-progress", "--no-plots",
                          *[a for s in fast for a in ("--set", s)])
    assert code == 0, out
    sweep = pd.read_csv(out_dir / "sweep.csv")
    assert sweep.loc[sweep["cut"] == 8, "mi_bits"].notna().all()
    manifest = json.loads((out_dir / "manifest.json").read_text())
    (note,) = manifest["privacy_provenance"]        # the link does not change the privacy
    for words in ("digits", "weights trained locally", "ksg", "359 test samples"):
        assert words in note, words
    assert note in out
    for name in ("best.md", "pareto.md", "best_cuts.md"):
        caption = (out_dir / name).read_text().splitlines()[0]
        assert caption.endswith(note[0].upper() + note[1:] + "."), name
    tex = (out_dir / "pareto.tex").read_text()
    assert "359 test samples" in tex


def test_differing_provenance_is_listed_numbered():
    assert provenance_sentence(("privacy columns: a",)) == "Privacy columns: a."
    assert provenance_sentence(("privacy columns: a", "privacy columns: b")) == (
        "Privacy columns differ between configurations: (1) privacy columns: a; "
        "(2) privacy columns: b.")
