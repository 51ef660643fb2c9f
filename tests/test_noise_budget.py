"""The accuracy budget on test (per collection and per tuple, with a paired interval) and the
ASPLOS rule that rejects tuples whose Laplace fit fails the histogram test."""
import math

import numpy as np
import pytest
import torch
from torch import nn

from noise.data import Dataset, Split
from noise.evaluate import EvalSettings, _budget, paired_loss_ci95
from noise.fit import fit_laplace
from noise.knowledge import NoiseKnowledge
from noise.shredder import ShredderResult
from noise.spec import NoiseSpec, ShredderSpec
from noise import train as train_mod


class Sign(nn.Module):
    """Logits [-a, a] of a one-value activation: class 1 where a > 0."""

    def forward(self, a):
        flat = a.reshape(len(a), -1)[:, :1]
        return torch.cat([-flat, flat], 1)


def test_paired_interval_by_hand():
    clean = np.array([1, 1, 1, 1])
    noisy = np.array([1, 0, 1, 1])
    # d = [0, 1, 0, 0]: mean 0.25, sd 0.5, se 0.25 -> 1.96 * 25 points
    assert paired_loss_ci95(clean, noisy) == pytest.approx(1.959964 * 25.0, rel=1e-6)
    assert paired_loss_ci95(np.ones(50), np.ones(50)) == 0.0


def flipping_knowledge(n_items, flips):
    """Tuple 0 leaves the activation as it is; tuple 1 flips the sign of the first `flips`
    items (so exactly those become wrong)."""
    def apply_tuples(a, seed, tuples):
        out = a.copy()
        hit = (np.asarray(tuples) == 1) & (np.arange(len(a)) < flips)
        out[hit] = -out[hit]
        return out
    one = np.ones((2, 1))
    return NoiseKnowledge(one, np.zeros((2, 1)), apply_tuples, (1,))


def test_each_tuple_is_checked_on_test_and_the_cut_is_flagged():
    a = torch.linspace(0.1, 1.0, 100).reshape(100, 1)          # every item is class 1
    y = torch.ones(100, dtype=torch.long)
    k = flipping_knowledge(100, flips=10)                      # tuple 1 loses 10 points
    s = EvalSettings(allowed_loss_pct=5.0)
    # the collection as sampled (half the requests per tuple) lost 5 points: within budget
    got = _budget(Sign(), a, y, 1.0, k, loss_pct=5.0, s=s)
    assert got == {"within_budget": True, "worst_tuple_loss_pct": pytest.approx(10.0),
                   "tuples_over_budget": 1}
    got = _budget(Sign(), a, y, 1.0, k, loss_pct=5.5, s=s)
    assert got["within_budget"] is False
    # without a budget nothing is judged; without tuples nothing per tuple
    assert _budget(Sign(), a, y, 1.0, k, 5.5, EvalSettings())["within_budget"] is None
    none = _budget(Sign(), a, y, 1.0, None, 5.5, s)
    assert none["tuples_over_budget"] is None and math.isnan(none["worst_tuple_loss_pct"])


def test_asplos_rule_rejects_a_fit_that_is_not_laplace():
    rng = np.random.default_rng(0)
    laplace, uniform = rng.laplace(0, 1, 1024), rng.uniform(-1, 1, 1024)
    assert fit_laplace(laplace).hist_sse_rel < 0.05
    assert fit_laplace(uniform).hist_sse_rel > 0.2
    asplos = ShredderSpec(variant="asplos", max_fit_sse_rel=0.1)
    ones = np.ones(1024)                                        # n1 is never tested
    assert train_mod.fits_pass((fit_laplace(ones), fit_laplace(laplace)), asplos)
    assert not train_mod.fits_pass((fit_laplace(ones), fit_laplace(uniform)), asplos)
    assert train_mod.fits_pass((fit_laplace(ones), fit_laplace(uniform)), ShredderSpec())


def test_build_collection_counts_the_rejections(monkeypatch):
    """Attempts alternate: a tuple below the accuracy target, one with a uniform additive
    tensor (fails the fit test), one with a Laplace tensor (kept)."""
    rng = np.random.default_rng(1)
    results = [
        ShredderResult(np.ones(64), rng.laplace(0, 1, 64), 0.5, 1.0, 10, False),
        ShredderResult(np.ones(64), rng.uniform(-1, 1, 64), 0.9, 1.0, 10, True),
        ShredderResult(np.ones(64), rng.laplace(0, 1, 64), 0.9, 1.0, 10, True),
    ] * 2
    calls = iter(results)
    monkeypatch.setattr(train_mod, "train_shredder", lambda *a, **k: next(calls))
    x = torch.rand(40, 64)
    split = Split(x, (x[:, 0] > 0.5).long(), torch.zeros(40, dtype=torch.long))
    data = Dataset("toy", split, split, split, num_classes=2, num_private_classes=0)
    spec = NoiseSpec(method="shredder", collection_size=2, max_attempts_factor=3,
                     options=ShredderSpec(variant="asplos", max_fit_sse_rel=0.25))
    coll = train_mod.build_collection(nn.Identity(), nn.Linear(64, 2), data, spec, "toy", 1)
    assert coll.size == 2
    assert (coll.meta["rejected_accuracy"], coll.meta["rejected_fit"]) == (2, 2)
