"""Noise methods are registered strategies: a new method is one module (here: this file) that
registers itself, and it runs through `sim run` with privacy on without touching another file."""
import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core.registry import UnknownNameError
from core.schema import Checks
from noise.methods import (METHODS, EdgeNoise, NoiseContext, NoiseMethod, get_method,
                           register_method)
from sim.cli import main

CONFIGS = Path(__file__).resolve().parent.parent / "configs"
FLOPS_PER_ELEMENT, BYTES_PER_ELEMENT = 2, 8      # one draw and one add; read a, write a'


@dataclass(frozen=True)
class FixedGaussianOptions:
    scale: float = 0.5

    def __post_init__(self) -> None:
        c = Checks()
        c.require(self.scale > 0, "scale", "> 0", self.scale)
        c.done()


@register_method
class FixedGaussian(NoiseMethod):
    """Additive Gaussian noise of a fixed standard deviation, nothing learned."""
    name = "fixed-gaussian"
    options = FixedGaussianOptions
    at_input = "noise"
    input_note = "the raw input plus Gaussian noise"

    def work(self, elements, spec):
        return FLOPS_PER_ELEMENT * elements, BYTES_PER_ELEMENT * elements

    def edge_noise(self, ctx: NoiseContext) -> EdgeNoise:
        scale = ctx.spec.options.scale

        def apply(a: np.ndarray, seed: int) -> np.ndarray:
            e = np.random.default_rng(seed).standard_normal(a.shape)
            return (a + scale * e).astype(np.float32)
        return EdgeNoise(apply, {"scale": scale})


def test_registry_refuses_duplicates_and_names_the_known_methods():
    with pytest.raises(ValueError, match="registered twice"):
        register_method(FixedGaussian)
    with pytest.raises(UnknownNameError, match="known: cloak, fixed-gaussian, none, shredder"):
        get_method("dp-sgd")
    assert set(METHODS.names()) >= {"shredder", "cloak", "none", "fixed-gaussian"}


def _run(tmp_path, capsys, cache, scale: float) -> pd.DataFrame:
    out = tmp_path / f"s{scale}"
    code = main(["run", str(CONFIGS / "tx2_lenet.yaml"), "--out", str(out), "--cache-dir",
                 str(cache), "--set", "noise.method=fixed-gaussian",
                 "--set", f"noise.fixed-gaussian={{scale: {scale}}}",
                 "--set", "privacy.cuts=[0, 8]", "--set", "report.plots=false"])
    assert code == 0, capsys.readouterr().err
    record = json.loads((out / "run.json").read_text())
    assert record["config"]["noise"]["fixed-gaussian"] == {"scale": scale}
    prov = record["privacy_provenance"]
    assert prov["cut_0"] == "the raw input plus Gaussian noise"
    assert prov["per_cut"]["8"]["noise"] == "fixed-gaussian"
    assert prov["per_cut"]["8"]["scale"] == scale
    return pd.read_csv(out / "results.csv").set_index("cut")


def test_a_registered_method_runs_through_sim_run(tmp_path, capsys):
    cache = tmp_path / "cache"
    small, large = _run(tmp_path, capsys, cache, 0.5), _run(tmp_path, capsys, cache, 1.0)
    # the same seeds draw the same e, so doubling the scale quadruples Var(a' - a) exactly:
    # SNR falls by 10 log10(4) dB at every evaluated cut (float32 rounding aside)
    for cut in (0, 8):
        assert small.loc[cut, "snr_db"] - large.loc[cut, "snr_db"] == pytest.approx(
            10 * math.log10(4), abs=1e-3)
        assert small.loc[cut, "mi_loss_pct"] <= large.loc[cut, "mi_loss_pct"] + 5
    # priced from the method's work: noise time at every cut but the edge-only one
    assert (small.loc[:11, "noise_ms"] > 0).all() and small.loc[12, "noise_ms"] == 0
    assert small["noise_ms"].tolist() == large["noise_ms"].tolist()
    # the other cuts are not evaluated: empty, never zero
    assert small.drop(index=[0, 8])["snr_db"].isna().all()


def test_its_config_section_is_checked_by_its_options(tmp_path, capsys):
    code = main(["validate", str(CONFIGS / "tx2_lenet.yaml"), "--set",
                 "noise.method=fixed-gaussian", "--set", "noise.fixed-gaussian={scale: -1}"])
    assert code == 2
    assert "noise.fixed-gaussian.scale: must be > 0, got -1.0" in capsys.readouterr().err
