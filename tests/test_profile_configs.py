"""The scenarios of the new model families run end to end (`sim run --no-privacy`)."""
from pathlib import Path

import pandas as pd
import pytest

from partitioner.profile import profile_model
from sim.cli import main
from sim.config import load_scenario

CONFIGS = Path(__file__).resolve().parent.parent / "configs"
# The two large transformers take a few seconds each to simulate: the slow tier runs them.
NEW = ["tx2_mobilenetv2", "tx2_nb201", "tx2_onnx_cnn", "tx2_user_vit",
       pytest.param("tx2_vit_b16", marks=pytest.mark.slow),
       pytest.param("tx2_bert_base", marks=pytest.mark.slow)]


@pytest.mark.parametrize("name", NEW)
def test_config_runs_without_privacy(tmp_path, capsys, name):
    code = main(["run", str(CONFIGS / f"{name}.yaml"), "--out", str(tmp_path), "--no-privacy"])
    _, err = capsys.readouterr()
    assert code == 0, err
    results = pd.read_csv(tmp_path / "results.csv")
    w = load_scenario(CONFIGS / f"{name}.yaml").workload
    graph = profile_model(w.model, w.input_shape, w.input_dtype, w.activation_dtype,
                          w.num_classes)
    assert results["cut"].tolist() == [c.cut for c in graph.cuts]
    assert (results["edge_compute_ms"].iloc[-1] > results["edge_compute_ms"].iloc[0])
