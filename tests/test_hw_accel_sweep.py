"""Accelerator sweeps: paired grid keys (square arrays as one axis), and a cost-only sweep over
array size and bit width whose edge costs follow the systolic model."""
import argparse
from pathlib import Path

import pandas as pd
import pytest

from core.errors import UserError
from hwmodels.accel import build_accelerator, layer_arrays
from partitioner.profile import profile_model
from sim.sweep.cli import add_sweep_arguments, cmd_sweep
from sim.sweep.spec import expand, parse_spec

CONFIGS = Path(__file__).resolve().parent.parent / "configs"
SQUARE = "edge.accelerator.rows+edge.accelerator.cols=16,32,64"


def test_paired_keys_move_together():
    spec = parse_spec([SQUARE, "edge.accelerator.bits=4,8"], None, 0)
    assert spec.keys == ("edge.accelerator.rows", "edge.accelerator.cols", "edge.accelerator.bits")
    points = [tuple(v for _, v in c) for c in expand(spec)]
    assert points == [(16, 16, 4), (16, 16, 8), (32, 32, 4), (32, 32, 8), (64, 64, 4),
                      (64, 64, 8)]


@pytest.mark.parametrize("expr, match", [
    ("edge.accelerator.rows+edge.accelerator.cols=16:64", "not a lo:hi range"),
    ("edge.accelerator.rows+edge.accelerator.rows=16,32", "each once"),
    ("edge.accelerator.rows+=16,32", "each once"),
])
def test_bad_pairs(expr, match):
    with pytest.raises(UserError) as err:
        parse_spec([expr], None, 0)
    assert any(match in p for p in err.value.problems)


def test_cost_only_sweep_over_array_and_bits(tmp_path):
    config = tmp_path / "systolic_alexnet.yaml"
    config.write_text((CONFIGS / "eyeriss_alexnet.yaml").read_text()
                      .replace("{accelerator: eyeriss}", "{accelerator: systolic}")
                      .replace("eyeriss_alexnet", "systolic_alexnet"))
    out = tmp_path / "out"
    args = add_sweep_arguments(argparse.ArgumentParser()).parse_args(
        [str(config), "--grid", SQUARE, "--grid", "edge.accelerator.bits=8,16", "--cost-only",
         "--objective", "edge_energy", "--out", str(out)])
    assert cmd_sweep(args) == 0
    rows = pd.read_csv(out / "sweep.csv")
    assert len(rows.groupby("config")) == 6
    # Edge-only (last cut) edge compute equals the systolic model's whole-network latency.
    layers = profile_model("alexnet").layers
    for n, bits in ((16, 8), (64, 16)):
        model = build_accelerator("systolic", {"rows": n, "cols": n, "bits": bits})
        expect_ms = model.evaluate(layer_arrays(layers), 1).latency_s.sum() * 1e3
        sel = rows[(rows["edge.accelerator.rows"] == n) & (rows["edge.accelerator.bits"] == bits)]
        assert sel["edge_compute_ms"].iloc[-1] == pytest.approx(expect_ms, rel=1e-6)
    best = pd.read_csv(out / "best.csv")
    assert set(best["edge.accelerator.cols"]) == {16, 32, 64}
