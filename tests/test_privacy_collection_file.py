"""A user's noise collection (noise.collection_path) is validated before use: exit 2 otherwise."""
import json
from pathlib import Path

import numpy as np
import pytest

from noise.collection import save_collection, single_tuple_collection
from sim.cli import main

CONFIGS = Path(__file__).resolve().parent.parent / "configs"


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    # one trained LeNet for the module: the checks under test come after training
    return tmp_path_factory.mktemp("cache")


def run(capsys, tmp_path, cache, collection: Path, cut: int):
    code = main(["run", str(CONFIGS / "tx2_lenet.yaml"), "--out", str(tmp_path / "out"),
                 "--cache-dir", str(cache),
                 "--set", f"noise.collection_path={collection}",
                 "--set", f"privacy.cuts=[{cut}]"])
    return code, capsys.readouterr().err


def write(path: Path, model: str, cut: int, shape) -> Path:
    rng = np.random.default_rng(0)
    coll = single_tuple_collection(1 + 0.1 * rng.standard_normal(shape).astype(np.float32),
                                   rng.laplace(0, 1, shape).astype(np.float32), model, cut)
    save_collection(path, coll)
    return path


@pytest.mark.parametrize("case", ["truncated", "other_model", "wrong_shape"])
def test_bad_collection_file_exits_2(tmp_path, capsys, cache, case):
    path = tmp_path / "coll.npz"
    if case == "truncated":
        write(path, "lenet5", 8, (120, 1, 1))
        path.write_bytes(path.read_bytes()[:200])
        expect = "truncated or corrupt collection file"
    elif case == "other_model":
        write(path, "vgg16", 8, (120, 1, 1))
        expect = "learned for model 'vgg16', not 'lenet5'"
    else:
        write(path, "lenet5", 8, (84,))
        expect = "the activation at this cut has [120, 1, 1]"
    code, err = run(capsys, tmp_path, cache, path, 8)
    assert code == 2
    assert expect in err and "Traceback" not in err
    assert err.count("\n") == 1


def test_valid_collection_file_is_used(tmp_path, capsys, cache):
    path = write(tmp_path / "coll.npz", "lenet5", 8, (120, 1, 1))
    code, err = run(capsys, tmp_path, cache, path, 8)
    assert code == 0, err
    record = json.loads((tmp_path / "out" / "run.json").read_text())
    assert record["privacy_provenance"]["per_cut"]["8"]["noise_collection"] == str(path)
