"""Shredder and Cloak on LeNet-5 / digits: only the noise learns, the loss grows the noise,
a built collection is saved and loads back; the acceptance figure is a slow test."""
import numpy as np
import pytest
import torch

from noise.baselines import evaluate_baseline
from noise.cloak import train_cloak
from noise.collection import load_collection, save_collection
from noise.data import load_digits_dataset
from noise.shredder import ShredderNoise, make_optimizer, train_shredder
from noise.spec import CloakSpec, NoiseSpec, ShredderSpec
from noise.models import freeze
from noise.train import build_collection, run_noise_training, train_zoo_model
from partitioner.split import split

SHAPE = (1, 28, 28)


@pytest.fixture(scope="module")
def setup():
    torch.set_num_threads(1)   # the test machine's two cores are shared
    data = load_digits_dataset(SHAPE, 0)
    model = freeze(train_zoo_model("lenet5", SHAPE, 1.0, data, seed=0, epochs=10))
    local, remote = split(model, 6)
    return model, data, local, remote


def _spec(**kw):
    return NoiseSpec(method="shredder", collection_size=2,
                     options=ShredderSpec(**{"iterations": 60, "min_iterations": 0,
                                              "eval_every": 30, **kw}))


def test_digits_splits_and_labels(setup):
    _, data, _, _ = setup
    assert (len(data.train), len(data.heldout), len(data.test)) == (1078, 360, 359)
    assert torch.equal(data.test.y, (data.test.y_private > 5).long())
    assert tuple(data.train.x.shape[1:]) == SHAPE


def test_only_noise_tensors_change(setup):
    model, data, local, remote = setup
    before = {k: v.clone() for k, v in model.state_dict().items()}
    r = train_shredder(local, remote, data, _spec(), seed=3, use_stop_rule=False)
    for k, v in model.state_dict().items():
        assert torch.equal(v, before[k]), f"network weight {k} changed"
    assert not np.allclose(r.n1, 1.0), "n1 never learned"
    noise = ShredderNoise((16, 5, 5), 0.0, 1.0, torch.Generator().manual_seed(0))
    opt = make_optimizer(noise, 1e-3)
    assert {id(p) for g in opt.param_groups for p in g["params"]} == {id(noise.n1), id(noise.n2)}


@pytest.mark.parametrize("variant", ["arxiv", "asplos"])
def test_loss_sign_grows_the_noise(setup, variant):
    """1/SNR rises over training, and rises more than with cross entropy alone."""
    _, data, local, remote = setup
    spec = _spec(variant=variant, lambda_reg=1e-2, alpha=0.05, iterations=90, stop_on="learned")
    r = train_shredder(local, remote, data, spec, seed=4, use_stop_rule=False)
    ce_only = _spec(lambda_reg=0.0, iterations=90, stop_on="learned")
    r0 = train_shredder(local, remote, data, ce_only, seed=4, use_stop_rule=False)
    first, last = r.history[0][2], r.history[-1][2]
    assert last > first
    assert last > r0.history[-1][2]


def test_snr_is_measured_on_real_activations(setup):
    _, data, local, remote = setup
    r = train_shredder(local, remote, data, _spec(), seed=5, use_stop_rule=False)
    assert all(np.isfinite(s) and s > 0 for _, _, s in r.history)


def test_collection_is_built_saved_and_loaded(setup, tmp_path):
    _, data, local, remote = setup
    spec = _spec(iterations=30, eval_every=30)
    spec = NoiseSpec(**{**spec.__dict__, "allowed_loss_pct": 100.0})
    coll = build_collection(local, remote, data, spec, "lenet5", 6)
    assert coll.size == 2 and coll.shape == (16, 5, 5)
    assert coll.meta["spec"]["shredder"]["iterations"] == 30
    path = tmp_path / "lenet.npz"
    save_collection(path, coll)
    back = load_collection(path, expect_model="lenet5", expect_cut=6, expect_shape=(16, 5, 5))
    np.testing.assert_array_equal(back.order, coll.order)
    np.testing.assert_array_equal(back.scale, coll.scale)
    assert back.meta["mean_heldout_accuracy"] == pytest.approx(coll.heldout_accuracy.mean())


def test_baseline_hits_the_requested_snr(setup):
    _, data, local, remote = setup
    acts = local(data.test.x)
    for dist in ("laplace", "gaussian"):
        p = evaluate_baseline(remote, acts, data.test.y, 2.0, dist, seed=0)
        assert p.inv_snr == pytest.approx(2.0, rel=0.05)


@pytest.mark.parametrize("cut", [0, 6])
def test_cloak_grows_scale_and_freezes_network(setup, cut):
    model, data, _, _ = setup
    local, remote = split(model, cut)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    spec = CloakSpec(epochs=1, lambda_reg=1.0, threshold=0.5)
    r = train_cloak(local, remote, data, spec, seed=0)
    assert all(torch.equal(v, before[k]) for k, v in model.state_dict().items())
    assert r.final_mean_scale > r.initial_mean_scale
    assert r.scale.min() >= spec.b_min - 1e-6 and r.scale.max() <= spec.b_max + 1e-6
    assert r.mask.shape == r.scale.shape and r.mask.dtype == bool
    np.testing.assert_array_equal(r.mask, r.scale <= 0.5)


@pytest.mark.slow
def test_shredder_acceptance_lenet_digits(tmp_path):
    """At most 2 % accuracy loss, clearly larger 1/SNR than untrained noise at that accuracy."""
    torch.set_num_threads(1)
    spec = NoiseSpec(method="shredder", collection_size=5, options=ShredderSpec())
    data = load_digits_dataset(SHAPE, 0)
    model = freeze(train_zoo_model("lenet5", SHAPE, 1.0, data, seed=0, epochs=10))
    s = run_noise_training("lenet5", model, data, 6, spec, str(tmp_path / "c.npz"),
                           progress=False)
    assert s["accuracy_loss_pct"] <= 2.0
    assert s["inv_snr"] > 1.5 * s["baseline_laplace_inv_snr_at_accuracy"]
    assert s["inv_snr"] > 1.5 * s["baseline_gaussian_inv_snr_at_accuracy"]
