"""Bit Fusion-like model against the paper's headline claim and hand-counted folds."""
import json
from pathlib import Path

import numpy as np
import pytest

from hwmodels.accel import build_accelerator, conv_arrays
from partitioner.types import ConvShape

BENCH = json.loads((Path(__file__).parent / "golden" / "bitfusion_benchmarks.json").read_text())


def _geomean(x):
    return float(np.exp(np.mean(np.log(x))))


def paper_comparison():
    """Per benchmark: (speedup, energy reduction) of the bitfusion preset over eyeriss."""
    out = {}
    for net, layers in BENCH["networks"].items():
        a = conv_arrays([ConvShape(**la["shape"]) for la in layers], [la["layer"] for la in layers])
        bits = {la["layer"]: {"act_bits": la["act_bits"], "weight_bits": la["weight_bits"]}
                for la in layers}
        re = build_accelerator("eyeriss").evaluate(a, BENCH["batch_size"])
        rb = build_accelerator("bitfusion", {"layer_bits": bits}).evaluate(a, BENCH["batch_size"])
        out[net] = (re.latency_s.sum() / rb.latency_s.sum(), re.energy_j.sum() / rb.energy_j.sum())
    return out


def test_headline_claim_against_eyeriss():
    # Sharma et al. 2018: 3.9x faster, 5.1x less energy than Eyeriss at equal area, frequency
    # and process (geometric mean over its eight benchmarks); the issue asks for within 25 %.
    r = paper_comparison()
    assert len(r) == 8
    speedup = _geomean([s for s, _ in r.values()])
    energy = _geomean([e for _, e in r.values()])
    assert speedup == pytest.approx(3.9, rel=0.25)
    assert energy == pytest.approx(5.1, rel=0.25)
    # The recurrent benchmarks are one 4-bit matrix-vector product each, DRAM-bound on both
    # chips: exactly the 16/4 fewer bytes.
    assert r["RNN"][0] == pytest.approx(4.0) and r["LSTM"][0] == pytest.approx(4.0)


def test_few_channels_waste_lanes():
    # LeNet-5's first layer has one input channel: at 2 bits a unit could make 16 products a
    # cycle, but they sit along the channels, so 15 lanes idle: 25 taps x 1 fold x
    # ceil(32 / 14) = 3 filter folds x 1024 pixels.
    bf = build_accelerator("bitfusion", {"act_bits": 2, "weight_bits": 2})
    r = bf.evaluate(conv_arrays([ConvShape(1, 32, 36, 36, 32, 32, 5, 5)]), 1)
    assert r.extra["compute_cycles"][0] == pytest.approx(1024 * 25 * 1 * 3 / 0.76)
    assert r.utilization[0] < 1 / 16


def test_wide_operands_take_several_cycles():
    shape = [ConvShape(24, 14, 10, 10, 8, 8, 3, 3)]
    r8 = build_accelerator("bitfusion", {"act_bits": 8, "weight_bits": 8}).evaluate(
        conv_arrays(shape), 1)
    r16 = build_accelerator("bitfusion", {"act_bits": 16, "weight_bits": 16}).evaluate(
        conv_arrays(shape), 1)
    # 16x16 needs 64 bricks: 4 cycles of a 16-brick unit, one lane.
    assert r16.extra["compute_cycles"][0] == pytest.approx(4 * r8.extra["compute_cycles"][0])
    assert r8.extra["compute_cycles"][0] == pytest.approx(64 * 9 * 2 * 1 / 0.76)
