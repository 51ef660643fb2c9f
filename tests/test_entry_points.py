"""One way into a Scenario: a config whose file names are relative to its own folder works the
same through `sim run`, `sim sweep`, `sim validate`, `sim noise train` and `sim.api`, run from
another working directory."""
import json
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

from noise.collection import save_collection, single_tuple_collection
from partitioner.zoo import build_model
from sim import api
from sim.cli import main

CUT = 8                                  # LeNet-5's Shredder cut: 120 values


@pytest.fixture(scope="module")
def config(tmp_path_factory) -> Path:
    """configs/<scenario>.yaml next to the four files it names by relative path."""
    folder = tmp_path_factory.mktemp("project") / "configs"
    folder.mkdir()
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (240, 1, 28, 28), dtype=np.uint8)
    y = np.arange(240) % 2
    np.savez(folder / "data.npz", x=x, y_public=y, y_private=np.arange(240) % 4)
    torch.manual_seed(0)
    torch.save(build_model("lenet5", (1, 28, 28), 2).state_dict(), folder / "weights.pt")
    shape = (120, 1, 1)
    save_collection(folder / "coll.npz", single_tuple_collection(
        np.ones(shape, np.float32), rng.laplace(0, 0.1, shape).astype(np.float32), "lenet5", CUT))
    (folder / "trace.csv").write_text("time_s,uplink_mbps,downlink_mbps\n0,10,40\n1,30,40\n")
    raw = {
        "name": "relative",
        "workload": {"model": "lenet5", "input_shape": [1, 28, 28]},
        "edge": {"device": "jetson-tx2-gpu"},
        "link": {"preset": "wifi", "bandwidth_trace_csv": "trace.csv"},
        "noise": {"method": "shredder", "collection_path": "coll.npz", "collection_size": 1,
                  "shredder": {"iterations": 4, "min_iterations": 0, "eval_every": 2}},
        "privacy": {"enabled": True, "data": "data.npz", "weights": "weights.pt",
                    "cuts": [CUT], "mi_samples": 40},
        "sim": {"requests": 200, "warmup_requests": 20, "replications": 1},
        "report": {"plots": False},
    }
    path = folder / "relative.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


@pytest.fixture
def elsewhere(tmp_path, monkeypatch) -> Path:
    monkeypatch.chdir(tmp_path)          # nothing the config names is here
    return tmp_path


def _uses_the_files(per_cut: dict, folder: Path) -> None:
    assert per_cut["noise_collection"] == str(folder / "coll.npz")


def test_validate(config, elsewhere, capsys):
    assert main(["validate", str(config)]) == 0, capsys.readouterr().err
    assert "OK" in capsys.readouterr().out


def test_run(config, elsewhere, capsys):
    assert main(["run", str(config), "--out", "out"]) == 0, capsys.readouterr().err
    record = json.loads((elsewhere / "out" / "run.json").read_text())
    assert record["privacy_provenance"]["weights"] == f"user state_dict {config.parent}/weights.pt"
    assert record["privacy_provenance"]["data_source"] == str(config.parent / "data.npz")
    _uses_the_files(record["privacy_provenance"]["per_cut"][str(CUT)], config.parent)


def test_sweep(config, elsewhere, capsys):
    code = main(["sweep", str(config), "--grid", "link.uplink_mbps=10,20", "--out", "sw",
                 "--no-plots", "--no-progress"])
    assert code == 0, capsys.readouterr().err
    manifest = json.loads((elsewhere / "sw" / "manifest.json").read_text())
    assert str(config.parent / "data.npz") in json.dumps(manifest["privacy_provenance"])


def test_noise_train(config, elsewhere, capsys):
    code = main(["noise", "train", str(config), "--cut", str(CUT), "--out", "noise"])
    assert code == 0, capsys.readouterr().err
    assert (elsewhere / "noise" / f"lenet5_cut{CUT}.npz").is_file()


def test_api_run_and_sweep(config, elsewhere):
    df = api.run(config)
    assert df.loc[df["cut"] == CUT, "mi_loss_pct"].notna().all()
    s = api.sweep(config, grid={"link.uplink_mbps": [10, 20]})
    assert len(s.best) == 2 and s.rows.loc[s.rows["cut"] == CUT, "mi_loss_pct"].notna().all()


def test_api_mapping_resolves_against_base_dir(config, elsewhere):
    raw = yaml.safe_load(config.read_text())
    df = api.run(raw, privacy=False, base_dir=config.parent)
    assert len(df) == 13
