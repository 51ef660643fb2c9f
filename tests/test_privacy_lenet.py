"""Privacy columns measured by `sim run` on LeNet-5 / digits: figures, provenance, caching."""
import json
import math
from pathlib import Path

import pandas as pd
import pytest

from sim.cli import main

ROOT = Path(__file__).resolve().parent.parent
CONFIG = str(ROOT / "configs" / "tx2_lenet.yaml")
# a smaller noise budget than the config's, for the default (fast) test run
FAST = ("noise.collection_size=1", "noise.max_attempts_factor=4", "noise.shredder.init_b=1.0",
        "noise.shredder.iterations=150", "noise.shredder.min_iterations=100")


def _run(tmp_path, *sets):
    args = ["run", CONFIG, "--out", str(tmp_path / "out"), "--cache-dir", str(tmp_path / "c")]
    for s in sets:
        args += ["--set", s]
    assert main(args) == 0
    results = pd.read_csv(tmp_path / "out" / "results.csv")
    record = json.loads((tmp_path / "out" / "run.json").read_text())
    return results.set_index("cut"), record


def test_small_budget_fills_columns_and_names_provenance(tmp_path, capsys):
    res, record = _run(tmp_path, *FAST)
    capsys.readouterr()
    evaluated = [8, 12]
    assert res.loc[evaluated, "mi_bits"].notna().all()
    others = res.drop(index=evaluated)
    assert others[["accuracy", "mi_bits", "private_misclass_pct"]].isna().all().all()
    row, out = res.loc[8], res.loc[12]
    assert row["accuracy_loss_pct"] <= 5.0
    assert row["mi_loss_pct"] > 0 and row["snr_db"] < 0
    prov = record["privacy_provenance"]
    assert prov["per_cut"]["8"]["private_misclass_pct"] > \
        prov["per_cut"]["8"]["noiseless_misclass_pct"]
    _issue16_columns(res, prov, tmp_path / "out", capsys)
    assert out["accuracy_loss_pct"] == 0 and out["mi_loss_pct"] == 0     # output, no noise
    for key in ("data", "weights", "estimator", "mi_samples", "mi_dims", "model_cache_key"):
        assert prov[key], key
    assert prov["mi_samples"] == 359 and prov["data"].startswith("digits")
    caption = (tmp_path / "out" / "energy_breakdown.md").read_text().splitlines()[0]
    for words in ("digits", "weights trained locally", "ksg", "359 test samples",
                  "principal axes"):
        assert words in caption and words in record["privacy"]
    # warm: the model and the noise come from the cache, the figures are identical
    res2, record2 = _run(tmp_path, *FAST)
    assert record2["privacy_provenance"]["model_cache_hit"] is True
    assert record2["privacy_provenance"]["per_cut"]["8"]["result_cache_hit"] is True
    pd.testing.assert_frame_equal(res, res2)


def _issue16_columns(res, prov, out, capsys):
    """Budget, intervals, adversaries, reconstruction and randomness on both evaluated cuts."""
    for cut in (8, 12):
        row, per = res.loc[cut], prov["per_cut"][str(cut)]
        assert row["within_budget"] == (row["accuracy_loss_pct"] <= 2.0)   # allowed_loss_pct
        for col in ("accuracy_loss_ci95", "mi_loss_ci95", "private_misclass_ci95",
                    "noiseless_misclass_pct", "recon_mse", "recon_psnr_db", "recon_ssim"):
            assert row[col] >= 0, (cut, col)
        n = 359
        p = row["private_misclass_pct"] / 100
        assert row["private_misclass_ci95"] == pytest.approx(
            100 * 1.959964 * math.sqrt(p * (1 - p) / n), rel=1e-4)
        # the strongest adversary is named and is the one with the lowest held-out error
        adv = {k: v for k, v in per["adversaries"].items() if not k.startswith("noiseless")}
        assert row["strongest_adversary"] == min(adv, key=lambda k: adv[k]["heldout_pct"])
        assert row["private_misclass_pct"] == pytest.approx(
            adv[row["strongest_adversary"]]["test_pct"], rel=1e-8)
        assert row["privacy_network"] == "lenet5 [1, 28, 28] (full size)"
        # what the noise adds to the adversary's error, on the same test items
        assert row["privacy_gain_pts"] == pytest.approx(
            row["private_misclass_pct"] - row["noiseless_misclass_pct"], abs=1e-6)  # csv digits
        assert row["noiseless_misclass_ci95"] >= 0 and row["privacy_gain_ci95"] >= 0
    noised, output = res.loc[8], res.loc[12]
    assert {"linear", "mlp", "collection-aware"} <= set(prov["per_cut"]["8"]["adversaries"])
    assert noised["noise_randomness"] > 0 and noised["tuple_entropy_bits"] == 0  # 1 tuple
    # one tuple: all the per-request randomness is the fresh draws' jitter
    assert prov["per_cut"]["8"]["jitter_randomness"] == pytest.approx(
        noised["noise_randomness"], rel=0.2)
    assert output["noise_randomness"] == 0 and output["mi_loss_ci95"] == 0       # no noise
    assert output["noiseless_misclass_pct"] == output["private_misclass_pct"]
    assert output["privacy_gain_pts"] == 0 and output["privacy_gain_ci95"] == 0
    assert noised["privacy_gain_pts"] - noised["privacy_gain_ci95"] > 0     # noise helps here
    # noise makes the input harder to reconstruct than the noiseless tensor does
    assert noised["recon_mse"] > prov["per_cut"]["8"]["recon_clean_mse"]
    assert (out / "plots" / "reconstructions.png").stat().st_size > 0
    assert prov["privacy_network"] == "lenet5 [1, 28, 28] (full size)"
    assert "tuples_rejected_fit" in prov and "over_budget_cuts" in prov


def test_shredder_lenet_acceptance(tmp_path):
    """Issue 6: MI loss >= 50 % at <= 2 % accuracy loss; the adversary does clearly worse."""
    res, record = _run(tmp_path)
    row = res.loc[8]
    cut = record["privacy_provenance"]["per_cut"]["8"]
    assert row["accuracy_loss_pct"] <= 2.0
    assert row["mi_loss_pct"] >= 50.0
    assert row["private_misclass_pct"] >= 2 * cut["noiseless_misclass_pct"]
    assert cut["mi_shuffled_bits"] < 0.25 * cut["mi_bits"]
