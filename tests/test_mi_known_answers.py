"""MI estimators on known answers at d = 1..10 (n = 1000, seed 0): a Gaussian channel and two
non-Gaussian cases derived by hand. The pinned ratios (estimate / truth) are the estimators'
measured bias by dimension; a change in an estimator shows up here.

- gaussian: x ~ N(0, I_d), y = x + N(0, I_d): I = d/2 log2(2) bits;
- uniform: x ~ U(0, 1)^d, y = x + U(0, a)^d with a = 1/2: per coordinate, y has a trapezoid
  density (ramps of width a, plateau 1), h(y) = a/2 nats, h(y | x) = ln a, so
  I = d (a/2 - ln a) nats;
- warped: the Gaussian channel through x -> exp(x), y -> y^3 (monotone per coordinate, so I is
  unchanged) with heavy-tailed, skewed marginals.
"""
import math

import numpy as np
import pytest

from noise.mi import ESTIMATORS, gaussian_channel_mi

N = 1000
LN2 = math.log(2.0)


def gaussian(d, rng):
    x = rng.standard_normal((N, d))
    return x, x + rng.standard_normal((N, d)), d / 2


def uniform(d, rng, a=0.5):
    x = rng.uniform(0, 1, (N, d))
    return x, x + rng.uniform(0, a, (N, d)), d * (a / 2 - math.log(a)) / LN2


def warped(d, rng):
    x, y, truth = gaussian(d, rng)
    return np.exp(x), y ** 3, truth


CASES = {"gaussian": gaussian, "uniform": uniform, "warped": warped}


def ratio(case, estimator, d, seed=0):
    x, y, truth = CASES[case](d, np.random.default_rng(seed))
    return ESTIMATORS[estimator](x, y, k=3) / truth


# estimate / truth at d = 1..10 (measured; 3-seed spread 0.01-0.08)
PINNED = {
    "gaussian": {"ksg": [1.03, 1.0, 0.91, 0.77, 0.71, 0.61, 0.52, 0.49, 0.42, 0.38],
                 "kl-knn": [1.0, 0.9, 0.8, 0.78, 0.7, 0.7, 0.57, 0.64, 0.6, 0.58]},
    "uniform": {"ksg": [0.95, 0.86, 0.74, 0.65, 0.57, 0.49, 0.43, 0.38, 0.34, 0.31],
                "kl-knn": [0.96, 0.88, 0.84, 0.71, 0.65, 0.56, 0.54, 0.49, 0.45, 0.4]},
    "warped": {"ksg": [0.85, 0.67, 0.54, 0.36, 0.31, 0.27, 0.21, 0.19, 0.18, 0.15],
               "kl-knn": [0.78, 0.91, 0.5, 0.48, 0.5, 0.37, 0.37, 0.38, 0.36, 0.39]},
}


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("estimator", list(ESTIMATORS))
def test_bias_by_dimension_is_pinned(case, estimator):
    got = [ratio(case, estimator, d) for d in range(1, 11)]
    assert got == pytest.approx(PINNED[case][estimator], abs=0.06)


@pytest.mark.parametrize("d", [1, 2, 5, 10])
def test_gaussian_bound_is_exact_on_the_gaussian_channel(d):
    rng = np.random.default_rng(d)
    x = rng.standard_normal((N, d))
    z = rng.standard_normal((N, d))
    assert gaussian_channel_mi(x, z) == pytest.approx(d / 2, rel=0.08)


def test_low_dimensional_answers_are_met_and_warping_costs_accuracy():
    # at d = 1 both k-NN estimators are within 10 % of the Gaussian and uniform answers;
    # skewed, heavy-tailed marginals (warped: the same MI) cost KSG 15 % at d = 1 and more
    # than half from d = 4, which is why the features are standardized and projected first
    for case in ("gaussian", "uniform"):
        for est in ESTIMATORS:
            assert ratio(case, est, 1) == pytest.approx(1.0, abs=0.1), (case, est)
    assert ratio("warped", "ksg", 1) < 0.9 and ratio("warped", "ksg", 4) < 0.5
