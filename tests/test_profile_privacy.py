"""Privacy on a user's own model: trained on the configured data and measured at a cut."""
from pathlib import Path

import pandas as pd
import pytest

from sim.cli import main

CONFIG = Path(__file__).resolve().parent.parent / "configs" / "tx2_user_vit.yaml"


@pytest.mark.slow
def test_user_model_is_trained_on_the_digits_and_measured(tmp_path, capsys):
    code = main(["run", str(CONFIG), "--out", str(tmp_path / "out"), "--cache-dir",
                 str(tmp_path / "cache"), "--set", "noise.method=none",
                 "--set", "privacy.cuts=[15]"])
    out, err = capsys.readouterr()
    assert code == 0, err
    results = pd.read_csv(tmp_path / "out" / "results.csv").set_index("cut")
    assert results.loc[15, "accuracy"] > 0.8          # the public task (digit > 5) is learned
    assert results.loc[15, "mi_bits"] > 0
    assert results.drop(index=15)["mi_bits"].isna().all()
    assert "weights trained locally" in out
