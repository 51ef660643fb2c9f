"""Noise spec validation and the collection file: exact round trip, clear errors on bad files."""
import json

import numpy as np
import pytest

from noise.collection import CollectionError, load_collection, save_collection
from noise.methods import build_noise_spec
from tests.test_noise_kernels import _collection


def test_spec_defaults_and_yaml_names():
    spec, problems = build_noise_spec({"method": "shredder",
                                       "shredder": {"lambda_reg": 1e-4, "variant": "asplos"}},
                                      "noise")
    assert problems == []
    assert spec.collection_size == 100 and spec.order_mode == "exact"
    assert spec.options.lambda_reg == 1e-4 and spec.options.variant == "asplos"
    assert build_noise_spec({"method": "cloak"})[0].options.distribution == "laplace"


def test_spec_problems_carry_key_paths():
    _, problems = build_noise_spec({"method": "dp", "collection_size": 0}, "noise")
    assert any(p.startswith("noise.method:") for p in problems)
    _, problems = build_noise_spec({"method": "shredder", "shredder": {"init_b": -1}}, "noise")
    assert problems == ["noise.shredder.init_b: must be > 0, got -1.0"]
    _, problems = build_noise_spec({"method": "none", "quantized_bits": 20}, "noise")
    assert problems == ["noise.quantized_bits: must be between 1 and 16, got 20"]


def test_round_trip_is_exact(tmp_path):
    coll = _collection(shape=(2, 3, 5))
    path = tmp_path / "c.npz"
    save_collection(path, coll)
    back = load_collection(path, expect_model="lenet5", expect_cut=6, expect_shape=(2, 3, 5))
    for name in ("loc", "scale", "order", "ks_stat", "hist_sse", "heldout_accuracy", "inv_snr"):
        np.testing.assert_array_equal(getattr(back, name), getattr(coll, name))
        assert getattr(back, name).dtype == getattr(coll, name).dtype
    assert (back.model, back.cut, back.shape) == ("lenet5", 6, (2, 3, 5))
    assert back.meta["version"] == 1
    assert [p.name for p in tmp_path.iterdir()] == ["c.npz"]   # no temporary left behind


@pytest.fixture
def saved(tmp_path):
    path = tmp_path / "c.npz"
    save_collection(path, _collection(shape=(2, 3, 5)))
    return path


def test_truncated_file_is_a_clear_error(saved):
    data = saved.read_bytes()
    saved.write_bytes(data[: len(data) // 2])
    with pytest.raises(CollectionError, match="truncated or corrupt"):
        load_collection(saved)


def test_wrong_shape_other_model_other_cut(saved):
    with pytest.raises(CollectionError, match=r"shape \[2, 3, 5\].*\[16, 5, 5\]"):
        load_collection(saved, expect_shape=(16, 5, 5))
    with pytest.raises(CollectionError, match="model 'lenet5', not 'vgg16'"):
        load_collection(saved, expect_model="vgg16")
    with pytest.raises(CollectionError, match="cut 6, not cut 8"):
        load_collection(saved, expect_cut=8)


def _rewrite(path, **changes):
    with np.load(path, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    arrays.update(changes)
    np.savez(path, **arrays)


def test_inconsistent_arrays_are_rejected(saved):
    with np.load(saved) as z:
        order = z["order"].copy()
    order[0, 1, 0] = order[0, 1, 1]
    _rewrite(saved, order=order)
    with pytest.raises(CollectionError, match="not a permutation"):
        load_collection(saved)
    _rewrite(saved, order=order[:, :, :-1])
    with pytest.raises(CollectionError, match="'order' has shape"):
        load_collection(saved)


def test_meta_is_json_and_version_checked(saved):
    with np.load(saved) as z:
        meta = json.loads(z["meta"].tobytes())
    meta["version"] = 99
    _rewrite(saved, meta=np.frombuffer(json.dumps(meta).encode(), np.uint8))
    with pytest.raises(CollectionError, match="version 99"):
        load_collection(saved)


def test_missing_file(tmp_path):
    with pytest.raises(CollectionError, match="not found"):
        load_collection(tmp_path / "none.npz")
