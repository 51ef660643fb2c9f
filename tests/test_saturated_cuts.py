"""Saturated cuts: skipped by best-cut choices unless `--include-saturated`, and carried in
sweep.csv as `saturated` and `max_rate_hz` (checked against a hand-computed case)."""
from pathlib import Path

import pandas as pd
import pytest

from sim import api
from sim.cli import main
from sim.operating_costs import best_cuts_line

CONFIGS = Path(__file__).resolve().parent.parent / "configs"
# AlexNet on Eyeriss at 20 requests/s: the fully connected layers are slow on the array, so
# the deep cuts saturate the device while they are the cheapest in energy (no cloud compute)
EYERISS_20HZ = ["--set", "sim.arrival.rate_hz=20", "--set", "sim.requests=200"]


def run_cli(capsys, *argv) -> str:
    assert main(list(argv)) == 0
    return capsys.readouterr().out


def test_sim_run_skips_saturated_cuts_unless_asked(tmp_path, capsys):
    config = str(CONFIGS / "eyeriss_alexnet.yaml")
    out = run_cli(capsys, "run", config, "--no-privacy", "--out", str(tmp_path / "a"),
                  *EYERISS_20HZ)
    r = pd.read_csv(tmp_path / "a" / "results.csv")
    stable = r[~r["saturated"]]
    cheapest, cheapest_stable = r.loc[r["total_mj"].idxmin()], \
        stable.loc[stable["total_mj"].idxmin()]
    fastest = stable.loc[stable["latency_ms"].idxmin()]
    assert bool(cheapest["saturated"]) and cheapest["cut"] != cheapest_stable["cut"]
    assert (f"lowest energy: cut {int(cheapest_stable['cut'])} "
            f"({cheapest_stable['total_mj']:.1f} mJ") in out
    assert f"lowest latency: cut {int(fastest['cut'])} " in out
    assert "saturated cuts skipped (--include-saturated counts them)" in out

    out = run_cli(capsys, "run", config, "--no-privacy", "--out", str(tmp_path / "b"),
                  "--include-saturated", *EYERISS_20HZ)
    assert (f"lowest energy: cut {int(cheapest['cut'])} ({cheapest['total_mj']:.1f} mJ, "
            f"{cheapest['total_vs_cloud_only']:.2f}x cloud-only, saturated)") in out
    # a saturated cut has no latency: the fastest is the same stable cut either way
    assert f"lowest latency: cut {int(fastest['cut'])} " in out
    assert "saturated cuts included (energy only: they have no latency)" in out


def test_best_cuts_line_when_every_cut_is_saturated():
    r = pd.DataFrame({"cut": [0, 1], "total_mj": [5.0, 3.0], "total_vs_cloud_only": [1.0, 0.6],
                      "latency_ms": [float("nan")] * 2, "saturated": [True, True]})
    assert best_cuts_line(r) is None
    line = best_cuts_line(r, include_saturated=True)
    assert line.startswith("lowest energy: cut 1 (3.0 mJ, 0.60x cloud-only, saturated); cuts")
    assert "lowest latency" not in line


@pytest.mark.parametrize("include", [False, True])
def test_sweep_objectives_skip_saturated_cuts_unless_asked(tmp_path, include):
    s = api.sweep(CONFIGS / "eyeriss_alexnet.yaml", grid={"sim.arrival.rate_hz": [2, 20]},
                  cost_only=True, objective="total_energy", include_saturated=include,
                  out_dir=tmp_path)
    rows = s.rows
    for _, best in s.best.iterrows():
        mine = rows[rows["config"] == best["config"]]
        pool = mine if include else mine[~mine["saturated"]]
        assert best["cut"] == pool.loc[pool["total_mj"].idxmin(), "cut"]
    at_20 = s.best.set_index("config").loc[1]
    assert bool(rows[(rows["config"] == 1) & (rows["cut"] == at_20["cut"])]["saturated"]
                .iloc[0]) is include             # at 20 Hz the cheapest cut is a saturated one


def test_sweep_cli_flag(tmp_path, capsys):
    config = str(CONFIGS / "eyeriss_alexnet.yaml")
    cuts = {}
    for flag in ([], ["--include-saturated"]):
        out_dir = tmp_path / ("with" if flag else "without")
        run_cli(capsys, "sweep", config, "--grid", "sim.arrival.rate_hz=20", "--cost-only",
                "--objective", "total_energy", "--no-progress", "--no-plots", "--out",
                str(out_dir), *flag)
        cuts[bool(flag)] = int(pd.read_csv(out_dir / "best.csv")["cut"].iloc[0])
    rows = pd.read_csv(tmp_path / "with" / "sweep.csv").set_index("cut")
    assert not rows.loc[cuts[False], "saturated"] and rows.loc[cuts[True], "saturated"]


@pytest.mark.parametrize("cost_only", [True, False])
def test_sweep_csv_saturated_and_max_rate_by_hand(tmp_path, cost_only):
    """LeNet-5 at 2 Hz, uplink 10 kbit/s. Cut 0 sends the 784-byte uint8 input in one packet
    with 40 B of IP/TCP headers: 824 B take 824 x 8 / 10^4 = 0.6592 s, utilization 1.318:
    saturated, max_rate_hz = 1 / 0.6592 s = 1.517 Hz. Cut 7 sends 120 float32 (480 B + 40 B):
    0.416 s, utilization 0.832, 2.404 Hz. At 100 Mbit/s no cut saturates. The device and
    cloud take milliseconds, so the uplink is the bottleneck at every one of these cuts."""
    s = api.sweep(CONFIGS / "tx2_lenet.yaml", grid={"link.uplink_mbps": [0.01, 100]},
                  sets={"sim.requests": 200}, cost_only=cost_only, privacy=False,
                  out_dir=tmp_path)
    rows = s.rows.set_index(["config", "cut"])
    assert rows.columns[-2:].tolist() == ["saturated", "max_rate_hz"]
    assert rows["saturated"].dtype == bool
    slow0, slow7 = rows.loc[(0, 0)], rows.loc[(0, 7)]
    assert bool(slow0["saturated"]) and pd.isna(slow0["latency_ms"])
    assert slow0["max_rate_hz"] == pytest.approx(1e4 / (8 * 824), rel=1e-6)
    assert not slow7["saturated"] and slow7["latency_ms"] > 416
    assert slow7["max_rate_hz"] == pytest.approx(1e4 / (8 * 520), rel=1e-6)
    fast = rows.loc[1]
    assert not fast["saturated"].any() and (fast["max_rate_hz"] > 2.0).all()  # above 2 Hz
