"""Privacy inputs: data sources (digits, .npz) and the checked cache of models and noise."""
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from noise.data import load_digits_dataset
from noise.datasets import DataError, load_data, load_npz
from core.cache import ArtifactCache, cache_dir, load_state_dict, save_state_dict
from sim.cli import main

ROOT = Path(__file__).resolve().parent.parent


def test_digits_source_matches_the_bundled_loader():
    a, b = load_data("digits", (1, 28, 28), 0), load_digits_dataset((1, 28, 28), 0)
    assert torch.equal(a.test.x, b.test.x) and torch.equal(a.train.y_private, b.train.y_private)
    assert (a.num_classes, a.num_private_classes) == (2, 10)


def test_digits_for_a_flat_model_are_zero_padded():
    d = load_data("digits", (2000,), 0)
    assert d.train.x.shape[1:] == (2000,)
    assert torch.all(d.train.x[:, 64:] == 0) and d.train.x[:, :64].abs().sum() > 0


def test_npz_is_resized_and_split(tmp_path):
    rng = np.random.default_rng(0)
    path = tmp_path / "mine.npz"
    np.savez(path, x=rng.integers(0, 256, (50, 12, 12), dtype=np.uint8),
             y_public=rng.integers(0, 3, 50), y_private=rng.integers(0, 5, 50))
    d = load_npz(str(path), (3, 32, 32), 0)
    assert d.train.x.shape[1:] == (3, 32, 32) and float(d.train.x.max()) <= 1.0
    assert len(d.train) + len(d.heldout) + len(d.test) == 50
    assert d.num_private_classes == int(max(d.train.y_private.max(), d.test.y_private.max(),
                                            d.heldout.y_private.max())) + 1


@pytest.mark.parametrize("arrays, words", [
    ({"images": np.zeros((30, 8, 8)), "y_public": np.zeros(30, int)}, "missing 'x'"),
    ({"x": np.zeros((30, 8, 8)), "y_public": np.zeros(29, int)}, "'y_public' has shape [29]"),
    ({"x": np.zeros((30, 8, 8)), "y_public": np.zeros(30)}, "integer labels"),
])
def test_bad_npz_is_a_data_error(tmp_path, arrays, words):
    path = tmp_path / "bad.npz"
    np.savez(path, **arrays)
    with pytest.raises(DataError) as exc:
        load_npz(str(path), (1, 28, 28), 0)
    assert str(path) in str(exc.value) and words in str(exc.value)
    assert "\n" not in str(exc.value)


def test_bad_npz_exits_2_via_the_cli(tmp_path, capsys):
    path = tmp_path / "bad.npz"
    np.savez(path, x=np.zeros((30, 8, 8)), labels=np.zeros(30, int))
    code = main(["run", str(ROOT / "configs" / "tx2_lenet.yaml"), "--out", str(tmp_path / "o"),
                 "--cache-dir", str(tmp_path / "c"), "--set", f"privacy.data={path}"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("error: ") and str(path) in err and "'y_public'" in err
    assert "Traceback" not in err


def _counting_build(calls):
    def build():
        calls.append(1)
        return {"w": torch.arange(6.0).reshape(2, 3)}
    return build


def test_cache_hits_then_rebuilds_a_corrupt_entry(tmp_path, caplog):
    cache, key, calls = ArtifactCache(tmp_path), {"arch": "t", "seed": 0}, []
    args = ("models", key, ".pt", _counting_build(calls), save_state_dict, load_state_dict)
    first, hit, digest = cache.get_or_build(*args)
    again, hit2, _ = cache.get_or_build(*args)
    assert (hit, hit2, len(calls)) == (False, True, 1)
    assert torch.equal(again["w"], first["w"])
    payload, sidecar = cache.paths("models", key, ".pt")
    assert json.loads(sidecar.read_text())["key"] == key
    data = payload.read_bytes()
    payload.write_bytes(data[: len(data) // 2])          # truncated
    third, hit3, _ = cache.get_or_build(*args)
    assert (hit3, len(calls)) == (False, 2) and torch.equal(third["w"], first["w"])
    assert "corrupt" in caplog.text
    flipped = bytearray(payload.read_bytes())            # same size, one byte changed
    flipped[len(flipped) // 2] ^= 0xFF
    payload.write_bytes(bytes(flipped))
    _, hit4, _ = cache.get_or_build(*args)
    assert (hit4, len(calls)) == (False, 3)
    assert cache.get_or_build(*args)[1] is True          # the rebuilt entry is used again


def test_concurrent_builders_of_one_entry_build_it_once(tmp_path):
    """Two workers of a parallel sweep ask for the same entry at once: one builds while the
    other waits on the entry's lock, then reads the finished entry (no duplicate work, and no
    half-written entry taken for a corrupt one)."""
    import threading
    import time

    cache, key, calls, results = ArtifactCache(tmp_path), {"arch": "t", "seed": 0}, [], []
    inner = _counting_build(calls)

    def slow_build():
        time.sleep(0.3)          # long enough that the second caller arrives during the build
        return inner()

    def worker():
        results.append(cache.get_or_build("models", key, ".pt", slow_build, save_state_dict,
                                          load_state_dict))
    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1
    assert sorted(hit for _, hit, _ in results) == [False, True]
    assert torch.equal(results[0][0]["w"], results[1][0]["w"])


def test_a_different_key_is_a_different_entry(tmp_path):
    cache, calls = ArtifactCache(tmp_path), []
    cache.get_or_build("m", {"epochs": 1}, ".pt", _counting_build(calls), save_state_dict,
                       load_state_dict)
    cache.get_or_build("m", {"epochs": 2}, ".pt", _counting_build(calls), save_state_dict,
                       load_state_dict)
    assert len(calls) == 2


def test_cache_dir_precedence(monkeypatch, tmp_path):
    monkeypatch.setenv("SPLITSIM_CACHE_DIR", str(tmp_path / "env"))
    assert cache_dir(tmp_path / "opt") == tmp_path / "opt"
    assert cache_dir() == tmp_path / "env"
    monkeypatch.delenv("SPLITSIM_CACHE_DIR")
    assert cache_dir() == Path.home() / ".cache" / "splitsim"
