"""Sampling kernels: order kept exactly / within a bucket, Laplace marginals (KS, fixed seeds)."""
import numpy as np
import pytest
from scipy import stats

from noise import kernels
from noise.collection import NoiseCollection
from noise.cost import noise_work
from noise.fit import element_order, fit_laplace, quantize_ranks, ranks_from_order
from noise.sampler import NoiseSampler

SHAPE = (4, 50, 100)   # 20,000 elements: more than one exact-mode block


def _collection(k=2, seed=0, shape=SHAPE):
    rng = np.random.default_rng(seed)
    n = int(np.prod(shape))
    order = np.stack([np.stack([element_order(rng.normal(size=n)) for _ in range(2)])
                      for _ in range(k)])
    return NoiseCollection(model="lenet5", cut=6, shape=shape,
                           loc=np.array([[1.0, 0.5], [0.9, -0.2]])[:k],
                           scale=np.array([[0.1, 2.0], [0.3, 1.0]])[:k], order=order,
                           ks_stat=np.zeros((k, 2)), hist_sse=np.zeros((k, 2)),
                           heldout_accuracy=np.full(k, 0.97), inv_snr=np.ones(k))


def test_logf_matches_numpy():
    x = np.float32(np.exp(np.linspace(-17, 5, 100001)))
    got = np.array([kernels.logf(v) for v in x[::97]])
    np.testing.assert_allclose(got, np.log(x[::97].astype(np.float64)), rtol=0, atol=3e-6)


def test_exact_mode_follows_saved_order_and_is_laplace():
    coll = _collection()
    n1, n2 = NoiseSampler(coll, "exact").draw(2, seed=11, tuples=np.array([0, 1]))
    for b in range(2):
        for t, noise in enumerate((n1[b].ravel(), n2[b].ravel())):
            ordered = noise[coll.order[b, t]]
            assert np.all(np.diff(ordered) <= 0), "largest sample must sit where the order says"
            p = stats.kstest(noise, "laplace", args=(coll.loc[b, t], coll.scale[b, t])).pvalue
            assert p > 0.01


def test_quantized_mode_stays_within_one_bucket_and_is_laplace():
    coll = _collection()
    bits = 6
    n1, n2 = NoiseSampler(coll, "quantized", bits).draw(1, seed=5, tuples=np.array([1]))
    for t, noise in enumerate((n1[0].ravel(), n2[0].ravel())):
        q = quantize_ranks(coll.order[1, t], bits)
        hi = np.array([noise[q == b].max() for b in range(1 << bits)])
        lo = np.array([noise[q == b].min() for b in range(1 << bits)])
        assert np.all(hi[1:] <= lo[:-1]), "bucket b's values must lie below bucket b-1's"
        p = stats.kstest(noise, "laplace", args=(coll.loc[1, t], coll.scale[1, t])).pvalue
        assert p > 0.01


def test_apply_is_n1_times_a_plus_n2_and_seeded():
    coll = _collection()
    a = np.random.default_rng(3).random((3, *SHAPE), dtype=np.float32)
    for mode in ("exact", "quantized"):
        s = NoiseSampler(coll, mode)
        n1, n2 = s.draw(3, seed=9)
        np.testing.assert_allclose(s.apply(a, seed=9), n1 * a + n2, rtol=1e-6, atol=1e-6)
        # a fresh sampler with the same seed applies the same noise
        np.testing.assert_array_equal(NoiseSampler(coll, mode).apply(a, 9), s.apply(a, seed=9))
        assert not np.array_equal(s.apply(a, seed=10), s.apply(a, seed=9))


def test_apply_rejects_wrong_shape():
    with pytest.raises(ValueError, match="per item"):
        NoiseSampler(_collection()).apply(np.zeros((1, 3, 3), np.float32), 0)


def test_exact_sorted_sample_is_sorted_laplace():
    x = kernels.exact_sorted_sample(np.uint64(123), 50000, 24870, 0.5, 2.0)
    assert np.all(np.diff(x) <= 0)
    assert np.sum(x > 0.5) == 24870
    assert stats.kstest(x, "laplace", args=(0.5, 2.0)).pvalue > 0.01


def test_counter_generator_iid_laplace_passes_ks():
    x = kernels.laplace_iid(np.uint64(7), 100000, -1.0, 0.7)
    assert stats.kstest(x, "laplace", args=(-1.0, 0.7)).pvalue > 0.01
    # neighbouring elements must not be correlated (a weak hash would show here)
    assert abs(np.corrcoef(x[:-1], x[1:])[0, 1]) < 0.01


def test_fit_is_laplace_mle_and_ks_does_not_reject():
    x = np.random.default_rng(0).laplace(2.0, 3.0, 5000)
    f = fit_laplace(x)
    assert f.loc == pytest.approx(np.median(x), abs=0)
    assert f.scale == pytest.approx(np.mean(np.abs(x - np.median(x))), rel=1e-12)
    assert stats.kstest(x, "laplace", args=(f.loc, f.scale)).pvalue > 0.05
    # a Normal fit of the same data is rejected: the fit must not silently be Normal
    assert stats.kstest(x, "norm", args=(x.mean(), x.std())).pvalue < 0.01


def test_element_order_is_the_papers():
    np.testing.assert_array_equal(element_order(np.array([[3.2, 4.8], [7.3, 1.5]])), [2, 1, 0, 3])
    np.testing.assert_array_equal(ranks_from_order(np.array([2, 1, 0, 3])), [2, 1, 0, 3])
    np.testing.assert_array_equal(quantize_ranks(np.array([2, 1, 0, 3]), 1), [1, 0, 0, 1])


def test_noise_work_counts():
    assert noise_work(1000, "exact") == (40_000, 56_000)
    assert noise_work(1000, "quantized", bits=8) == (46_000, 10_000)
    assert noise_work(1000, "quantized", bits=12) == (46_000, 12_000)
    with pytest.raises(ValueError, match="mode"):
        noise_work(10, "fast")
