"""Adversaries on the private label: the collection-aware one undoes a known collection, the
strongest is chosen on held-out data, intervals are the binomial ones."""
import math

import numpy as np
import pytest

from noise.adversary import (AttackInputs, Labels, Score, Views, attack,
                             binomial_half_width_pct, paired_gain_pts, strongest, undo)
from noise.knowledge import NoiseKnowledge

D = 40


def two_tuple_knowledge(seed=0, jitter=0.0):
    """Two tuples, a' = m_k * a + c_k (+ small fresh jitter), with m_1 ~ -m_0 and c_k = 5 m_k:
    the sent tensor is about +-(a + 5), which no linear read-out of the class survives, and
    the tuple shows in the sign of the mean."""
    rng = np.random.default_rng(seed)
    m0 = rng.uniform(0.8, 1.2, D)
    mult = np.stack([m0, -m0 * rng.uniform(0.8, 1.2, D)])
    add = 5.0 * mult

    def apply_tuples(a, s, tuples):
        g = np.random.default_rng(s)
        flat = a.reshape(len(a), -1)
        out = mult[tuples] * flat + add[tuples] + jitter * g.standard_normal(flat.shape)
        return out.reshape(a.shape).astype(np.float32)
    return NoiseKnowledge(mult, add, apply_tuples, (D,))


def blobs(n, seed):
    """Ten classes, Gaussian blobs in D dimensions."""
    rng = np.random.default_rng(seed)
    centres = np.random.default_rng(99).normal(0, 1.0, (10, D))
    y = rng.integers(10, size=n)
    return centres[y] + 1.0 * rng.standard_normal((n, D)), y


def inputs(knowledge, jitter_seed=1):
    (xtr, ytr), (xho, yho), (xte, yte) = blobs(1000, 1), blobs(300, 2), blobs(300, 3)
    rng = np.random.default_rng(jitter_seed)

    def send(x):
        return knowledge.noised_flat(x, int(rng.integers(1 << 30)), rng.integers(2, size=len(x)))
    return AttackInputs(Views(xtr, xho, xte), Views(send(xtr), send(xho), send(xte)),
                        Labels(ytr, yho, yte), knowledge, dim=64, seed=0)


def test_undo_inverts_a_known_affine_map_exactly():
    k = two_tuple_knowledge()
    a = np.random.default_rng(0).standard_normal((5, D))
    tuples = np.array([0, 1, 1, 0, 1])
    sent = k.noised_flat(a, 0, tuples)
    assert np.allclose(undo(sent, tuples, k), a, atol=1e-5)


def test_collection_aware_adversary_sees_through_tuples_that_fool_the_linear_one():
    out = attack(inputs(two_tuple_knowledge(jitter=0.05)), noised=True)
    s = out.scores
    assert set(s) == {"linear", "mlp", "collection-aware"}
    # a mixture of two sign-flipped affine maps defeats a linear read-out; knowing the
    # tuples, the attacker gets back to the noiseless error
    assert s["linear"].test_pct > s["collection-aware"].test_pct + 10
    assert s["collection-aware"].test_pct <= out.noiseless_misclass_pct + 5
    assert out.strongest in ("collection-aware", "mlp")
    assert out.misclass_pct == s[out.strongest].test_pct <= s["linear"].test_pct
    assert out.misclass_ci95 == pytest.approx(binomial_half_width_pct(out.misclass_pct, 300))


def test_without_knowledge_the_aware_adversary_does_not_run():
    inp = inputs(two_tuple_knowledge())
    inp = AttackInputs(inp.clean, inp.sent, inp.labels, None, inp.dim, inp.seed)
    assert "collection-aware" not in attack(inp, noised=True).scores


def test_strongest_is_chosen_on_held_out_not_test():
    scores = {"a": Score(heldout_pct=10.0, test_pct=30.0), "b": Score(12.0, 5.0)}
    assert strongest(scores) == "a"
    assert strongest({"b": Score(1.0, 2.0), "a": Score(1.0, 9.0)}) == "b"  # tie: insertion order


def test_binomial_half_width():
    assert binomial_half_width_pct(50.0, 100) == pytest.approx(100 * 1.96 * 0.05, rel=1e-3)
    assert binomial_half_width_pct(0.0, 359) == 0.0
    assert binomial_half_width_pct(10.0, 359) == pytest.approx(
        100 * 1.959964 * math.sqrt(0.09 / 359), rel=1e-6)


def test_paired_gain_by_hand():
    # per-item differences 0, 1, 0, 0: mean 0.25, sample sd 0.5, half-width 1.96 * 0.5 / 2
    gain, half = paired_gain_pts(np.array([1, 1, 0, 0], bool), np.array([1, 0, 0, 0], bool))
    assert gain == pytest.approx(25.0) and half == pytest.approx(100 * 1.959964 * 0.25,
                                                                 rel=1e-6)
    # items both get wrong (or right) carry no difference: the paired interval is narrower
    # than the two errors' own intervals
    rng = np.random.default_rng(0)
    before = rng.random(400) < 0.3
    after = before | (rng.random(400) < 0.1)
    gain, half = paired_gain_pts(after, before)
    assert gain == pytest.approx(100 * (after.mean() - before.mean()))
    assert half < binomial_half_width_pct(100 * after.mean(), 400)


def test_gain_against_the_noiseless_reference_on_the_same_items():
    out = attack(inputs(two_tuple_knowledge(jitter=0.05)), noised=True)
    assert out.gain_pts == pytest.approx(out.misclass_pct - out.noiseless_misclass_pct)
    assert 0 < out.gain_ci95 and out.noiseless_misclass_ci95 == pytest.approx(
        binomial_half_width_pct(out.noiseless_misclass_pct, 300))
    plain = attack(inputs(two_tuple_knowledge()), noised=False)     # nothing added
    assert plain.gain_pts == 0 and plain.gain_ci95 == 0
