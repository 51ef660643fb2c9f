"""`sim validate` and `sim devices` start without the heavy libraries (issue 18: validate answers
in <= 0.5 s for scripts and editors; `benchmarks/bench_run.py` times it). Asserted as the set
of modules a fresh process loaded, not as a time, so that the check cannot flake on load."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("torch", "pandas", "scipy", "numba", "matplotlib", "simpy", "sklearn", "onnx")
PROBE = """
import json, sys
from sim.cli import main
rc = main(sys.argv[1:])
print(json.dumps({"rc": rc, "heavy": sorted(m for m in %r if m in sys.modules)}))
""" % (HEAVY,)


def _probe(cache: Path, *argv: str) -> dict:
    env = {**os.environ, "SPLITSIM_CACHE_DIR": str(cache)}
    out = subprocess.run([sys.executable, "-c", PROBE, *argv], cwd=ROOT, env=env, check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


@pytest.mark.parametrize("config", ["configs/tx2_lenet.yaml", "configs/tx2_nb201.yaml",
                                    "configs/eyeriss_alexnet.yaml"])
def test_validate_with_a_cached_profile_loads_no_heavy_library(tmp_path, config):
    first = _probe(tmp_path, "validate", config)          # traces the network once: torch
    assert first["rc"] == 0 and "torch" in first["heavy"]
    again = _probe(tmp_path, "validate", config)
    assert again == {"rc": 0, "heavy": []}


def test_validate_reports_a_bad_config_without_heavy_libraries(tmp_path):
    assert _probe(tmp_path, "validate", "configs/tx2_lenet.yaml")["rc"] == 0
    probe = _probe(tmp_path, "validate", "configs/tx2_lenet.yaml", "--set", "sim.requests=0")
    assert probe == {"rc": 2, "heavy": []}


def test_devices_loads_no_heavy_library(tmp_path):
    assert _probe(tmp_path, "devices") == {"rc": 0, "heavy": []}
