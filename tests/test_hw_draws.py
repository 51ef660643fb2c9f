"""`sim check-hw --draws N` and hwmodels.draws: the spread of a calibration over the draws of
seeds 0..N-1, and how many draws meet each target."""
import pandas as pd
import pytest

from hwmodels.draws import draw_summary
from sim.cli import main


def test_draw_summary_by_hand():
    d = pd.DataFrame({"kendall_tau": [0.91, 0.89, 0.90], "mape_pct": [9.0, 11.0, 10.0],
                      "lsq_kendall_tau": [0.90, 0.90, 0.90], "lsq_mape_pct": [12.0, 10.0, 10.0]})
    s = draw_summary("c_ms", 10, d)
    assert (s["draws"], s["tau_min"], s["tau_max"]) == (3, 0.89, 0.91)
    assert s["tau_mean"] == pytest.approx(0.90) and s["mape_mean_pct"] == pytest.approx(10.0)
    # a tie with the baseline is no win; the targets are met at their edge (0.90, 10 %)
    assert (s["tau_wins"], s["mape_wins"]) == (1, 1)
    assert (s["tau_target_met"], s["mape_target_met"]) == (2, 2)


def test_check_hw_draws_agree_with_the_seeds_own_report(tmp_path, capsys):
    out = tmp_path / "hw"
    assert main(["check-hw", "--sample", "300", "--columns", "titanxp_1_ms", "--draws", "1",
                 "--out", str(out)]) == 0
    stdout = capsys.readouterr().out
    draws = pd.read_csv(out / "hw_draws.csv")
    report = pd.read_csv(out / "hw_accuracy.csv")
    assert draws["train_networks"].tolist() == [10, 100] and (draws["draws"] == 1).all()
    # draw 0 is the draw of --seed 0: the same fit, the same figures
    for n in (10, 100):
        cal = report[(report["model"] == "preset calibrated")
                     & (report["train_networks"] == n)].iloc[0]
        row = draws[draws["train_networks"] == n].iloc[0]
        assert row["tau_mean"] == pytest.approx(cal["kendall_tau"], abs=1e-3)
        assert row["mape_mean_pct"] == pytest.approx(cal["mape_pct"], abs=1e-2)
    assert "## Over 1 draw\n" in (out / "hw_accuracy.md").read_text() and "hw_draws.csv" in stdout
    assert main(["check-hw", "--draws", "-1", "--out", str(out)]) == 2
    assert "--draws must be >= 0" in capsys.readouterr().err
