"""Validation lists every problem at once, each with its key path carried as data."""
from pathlib import Path

import pytest

from core.schema import Checks, FieldError, build
from sim.cli import main
from sim.des import SimSettings

CONFIGS = Path(__file__).resolve().parent.parent / "configs"


def _errors(capsys, *sets: str) -> list[str]:
    args = ["validate", str(CONFIGS / "tx2_lenet.yaml")]
    for s in sets:
        args += ["--set", s]
    assert main(args) == 2
    return capsys.readouterr().err.strip().splitlines()


def test_every_problem_of_one_section(capsys):
    assert _errors(capsys, "sim.requests=0", "sim.clients=0") == [
        "error: sim.requests: must be >= 1, got 0",
        "error: sim.clients: must be >= 1, got 0",
        "error: sim.warmup_requests: must be >= 0 and < requests (0), got 100"]


def test_invalid_cuts_are_reported_with_the_other_problems(capsys):
    errors = _errors(capsys, "privacy.cuts=[3, 99]", "sim.requests=0", "link.uplink_mbps=-1")
    assert "error: privacy.cuts: [99] not valid for lenet5 (cuts 0..12); valid cuts: " \
           "[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]" in errors
    assert any(e.startswith("error: sim.requests:") for e in errors)
    assert any(e.startswith("error: link.uplink_mbps:") for e in errors)


def test_problems_of_several_sections_at_once(capsys):
    errors = _errors(capsys, "workload.batch_size=0", "noise.collection_size=0",
                     "noise.shredder.lr=0", "privacy.mi_dim=0", "privacy.mi_samples=5")
    assert errors == [
        "error: workload.batch_size: must be >= 1, got 0",
        "error: noise.collection_size: must be >= 1, got 0",
        "error: noise.shredder.lr: must be > 0, got 0.0",
        "error: privacy.mi_samples: must be >= 20, got 5",
        "error: privacy.mi_dim: must be between 1 and 64, got 0"]


def test_field_errors_carry_the_field_as_data():
    with pytest.raises(FieldError) as info:
        SimSettings(requests=0, clients=0, warmup_requests=0)
    assert info.value.problems == [("requests", "must be >= 1, got 0"),
                                   ("clients", "must be >= 1, got 0"),
                                   ("warmup_requests", "must be >= 0 and < requests (0), got 0")]
    c = Checks()
    assert c.require(True, "x", "> 0", 1) and not c.require(False, "y", "> 0", -1)
    with pytest.raises(FieldError, match='"y" must be > 0, got -1'):
        c.done()
    _, problems = build(SimSettings, {"requests": 5, "warmup_requests": 9}, "sim")
    assert problems == ["sim.warmup_requests: must be >= 0 and < requests (5), got 9"]
