"""CI guard: the Eyeriss-like model ranks NAS-Bench-201 networks like HW-NAS-Bench's Eyeriss
estimates (Accelergy + Timeloop), uncalibrated. The full 15,625-network figure is in
benchmarks/accel_nb201_rank.py; this is a fixed seeded sample of 500."""
import numpy as np
import pytest
from scipy.stats import kendalltau

from hwmodels.accel.compare import network_latency_ms, nb201_reference

# Measured on this sample with the eyeriss preset: tau 0.972, model / reference 0.81 - 1.39
# (median 1.31); the floors leave a margin for model changes that keep the physics.
TAU_FLOOR = 0.93


@pytest.fixture(scope="module")
def sample():
    ref = nb201_reference()
    return ref.iloc[np.random.default_rng(0).choice(len(ref), 500, replace=False)]


def test_eyeriss_ranks_nb201_like_timeloop(sample):
    lat = network_latency_ms(sample["arch"])
    tau = kendalltau(lat, sample["eyeriss_ms"]).statistic
    assert tau >= TAU_FLOOR
    # Uncalibrated absolute scale: every network within 0.7x - 1.6x of Timeloop's figure.
    ratio = lat / sample["eyeriss_ms"].to_numpy()
    assert ratio.min() > 0.7 and ratio.max() < 1.6


def test_vector_pooling_ranks_like_macs(sample):
    # With a pooling unit (pools stream), the 3x3 average pools that HW-NAS-Bench prices as
    # 3x3 convolutions become cheap and the order falls back towards MACs.
    tau = kendalltau(network_latency_ms(sample["arch"], overrides={"pool_mapping": "vector"}),
                     sample["eyeriss_ms"]).statistic
    assert tau < 0.6
