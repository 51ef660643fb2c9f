"""Per-request randomness against closed forms: i.i.d. Gaussian noise, Shredder's exact order
statistics, and the quantized (stratified) order mode; tuple-choice entropy."""
import logging
import math

import numpy as np
import pytest
from scipy import integrate, special, stats

from noise.collection import assemble_collection
from noise.fit import LaplaceFit
from noise.knowledge import collection_knowledge, expected_placed
from noise.randomness import ORDER_STAT_SPREAD, activation_spread, per_request_std
from noise.sampler import NoiseSampler

B = 0.7          # additive Laplace scale


def collection(n, k=1, seed=0):
    """k tuples: n1 ~ Laplace(1, 1e-9) (a constant 1), n2 ~ Laplace(0, B), random orders."""
    rng = np.random.default_rng(seed)
    fits = (LaplaceFit(1.0, 1e-9, 0.0, 0.0, 0.0), LaplaceFit(0.0, B, 0.0, 0.0, 0.0))
    kept = [(fits, rng.permutation(n).astype(np.int32), rng.permutation(n).astype(np.int32),
             1.0, 1.0) for _ in range(k)]
    return assemble_collection(kept, "m", 1, (n,))


def c4(m):
    """E[sample std] / sigma for m normal draws."""
    return math.sqrt(2 / (m - 1)) * math.exp(special.gammaln(m / 2) - special.gammaln((m - 1) / 2))


def test_iid_gaussian_noise_has_its_scale_as_randomness():
    s, draws = 0.3, 32

    def noise(a, seed):
        return a + s * np.random.default_rng(seed).standard_normal(a.shape)
    inputs = np.random.default_rng(1).standard_normal((8, 500))
    # each of 4000 per-element stds has mean c4 * s and sd ~ s / sqrt(2 (m - 1))
    assert per_request_std(noise, inputs, 0, draws) == pytest.approx(c4(draws) * s, rel=0.01)


def test_activation_spread_is_the_mean_per_element_std():
    a = np.stack([np.full(6, 1.0), np.full(6, 3.0)])              # std across inputs: sqrt(2)
    a[:, :3] = 5.0                                               # half the elements constant
    assert activation_spread(a) == pytest.approx(0.5 * math.sqrt(2))


def test_exact_mode_per_position_spread_is_the_order_statistics():
    """Exact re-ordering: the value at a position is the r-th largest of n Laplace(0, B)
    samples; its sd ~ B sqrt((1 - p) / (n p)) at tail probability p, averaging
    2 (1/2 + pi/4) B / sqrt(n) over positions: ~1.29 / sqrt(n) of the pooled sd sqrt(2) B."""
    n = 4096
    sampler = NoiseSampler(collection(n), "exact")
    zero = np.zeros((1, n), np.float32)
    got = per_request_std(lambda a, seed: sampler.apply(a, seed), zero, 3, draws=64)
    assert got == pytest.approx(ORDER_STAT_SPREAD * B / math.sqrt(n), rel=0.08)
    assert got / (math.sqrt(2) * B) < 0.03          # nearly a fixed pattern at n = 4096


def bucket_sd(q, nb):
    """sd of Laplace(0, B) drawn uniformly within quantile range [1 - (q+1)/nb, 1 - q/nb]."""
    lo, hi = 1 - (q + 1) / nb, 1 - q / nb
    f = lambda p: stats.laplace.ppf(p, 0, B)            # noqa: E731
    m1 = integrate.quad(f, lo, hi)[0] * nb
    m2 = integrate.quad(lambda p: f(p) ** 2, lo, hi)[0] * nb
    return math.sqrt(max(m2 - m1 * m1, 0.0))


def test_quantized_mode_is_stratified_and_far_less_random_than_exact(caplog):
    n, bits = 32, 8
    coll = collection(n)
    with caplog.at_level(logging.WARNING, logger="noise.sampler"):
        quant = NoiseSampler(coll, "quantized", bits)
    assert "fewer bits" in caplog.text and "2^8" in caplog.text
    exact = NoiseSampler(coll, "exact")
    zero = np.zeros((1, n), np.float32)
    draws = 400
    q_sd = per_request_std(lambda a, s: quant.apply(a, s), zero, 1, draws)
    e_sd = per_request_std(lambda a, s: exact.apply(a, s), zero, 1, draws)
    # closed form: element of rank r sits in bucket r * 256 // 32 = 8 r; within it, uniform p
    want = np.mean([bucket_sd(r * (1 << bits) // n, 1 << bits) for r in range(n)])
    assert q_sd == pytest.approx(want, rel=0.05)
    # exact mode: the r-th largest of 32 i.i.d. Laplace draws (simulated order statistics)
    rng = np.random.default_rng(0)
    order_stats = np.sort(rng.laplace(0, B, (20000, n)), axis=1)
    assert e_sd == pytest.approx(order_stats.std(axis=0, ddof=1).mean(), rel=0.05)
    # the stratified mode keeps about a twelfth of the exact mode's per-request randomness
    assert 8 < e_sd / q_sd < 16


def test_no_warning_when_the_tensor_fills_the_buckets(caplog):
    with caplog.at_level(logging.WARNING, logger="noise.sampler"):
        NoiseSampler(collection(256), "quantized", 8)
    assert caplog.text == ""


def test_tuple_entropy_and_expected_tensors():
    k = collection_knowledge(collection(64, k=4), lambda a, s, t: a)
    assert k.size == 4 and k.tuple_entropy_bits == pytest.approx(2.0)
    # E[n1] is the constant 1 everywhere; E[n2] follows the saved order (largest first)
    assert np.allclose(k.mult, 1.0, atol=1e-6)
    coll = collection(64, k=4)
    placed = expected_placed(coll.order[0, 1], 0.0, B)
    assert np.all(np.diff(placed[coll.order[0, 1]]) < 0)
    # rank 0 (largest) sits at the quantile 1 - 0.5 / 64 = B ln(64)
    assert placed[coll.order[0, 1][0]] == pytest.approx(B * math.log(64))
