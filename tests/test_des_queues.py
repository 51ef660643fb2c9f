"""The simulator against queueing theory: mean waiting times within 2 % of the closed forms.

Only the stages under test cost time; the others are zero. The fast path runs the long streams
in the default suite; the same checks through simpy are marked slow.
"""
from __future__ import annotations

import math

import numpy as np
import pytest

from hwmodels.link import LinkModel
from sim.des import ArrivalSpec, CloudQueue, SimSettings, StageCosts, simulate

# 1 Mbps both ways, no propagation, no radio delays: bytes * 8e-6 is the transmission time.
PLAIN_LINK = LinkModel(name="plain", uplink_mbps=1.0, downlink_mbps=1.0, rtt_ms=0.0,
                       alpha_up_mw_per_mbps=0.0, alpha_down_mw_per_mbps=0.0, beta_mw=0.0)


def _cloud_only(service_s: float) -> StageCosts:
    return StageCosts(edge_compute_s=0.0, noise_s=0.0, uplink_bytes=0.0, downlink_bytes=0.0,
                      cloud_compute_s=(service_s,))


def _settings(rate_hz: float, requests: int, service: str,
              replications: int = 1) -> SimSettings:
    return SimSettings(requests=requests, arrival=ArrivalSpec(rate_hz=rate_hz),
                       replications=replications, min_replications=replications, ci_rel_tol=0,
                       warmup_requests=1000, seed=7, service=service)


def _cloud_wait_s(costs, settings, engine, cloud=CloudQueue()) -> float:
    """Mean cloud wait over every kept request of every replication."""
    res = simulate(costs, PLAIN_LINK, cloud, settings, engine=engine, keep_records=True)
    keep = slice(settings.warmup_requests, None)
    return float(np.mean(np.concatenate([(rec.cloud_start_s - rec.cloud_arrival_s)[keep]
                                         for rec in res.records])))


def erlang_c_wait_s(arrival_hz: float, service_s: float, servers: int) -> float:
    """Mean wait in queue of M/M/c (Erlang C)."""
    a = arrival_hz * service_s
    top = a ** servers / math.factorial(servers) * servers / (servers - a)
    p_wait = top / (sum(a ** k / math.factorial(k) for k in range(servers)) + top)
    return p_wait * service_s / (servers - a)


def test_erlang_c_formula_matches_known_value():
    # c = 1 reduces to M/M/1: W_q = rho / (mu - lambda).
    assert erlang_c_wait_s(0.3, 1.0, 1) == pytest.approx(0.3 / 0.7)
    # c = 2, a = 1: P(wait) = 1/3, W_q = (1/3) / (2 - 1).
    assert erlang_c_wait_s(1.0, 1.0, 2) == pytest.approx(1 / 3)


@pytest.mark.parametrize("engine,requests,replications", [
    ("fast", 1_000_000, 2),           # 2 x 10^6 requests (the per-run ceiling is 10^6)
    pytest.param("simpy", 1_000_000, 1, marks=pytest.mark.slow),
])
def test_mm1_mean_wait(engine, requests, replications):
    rho = 0.3
    settings = _settings(rho, requests, "exponential", replications)
    wait_s = _cloud_wait_s(_cloud_only(1.0), settings, engine)
    assert wait_s == pytest.approx(rho / (1.0 - rho), rel=0.02)


@pytest.mark.parametrize("engine,requests", [
    ("fast", 500_000),
    pytest.param("simpy", 500_000, marks=pytest.mark.slow),
])
def test_md1_mean_wait_pollaczek_khinchine(engine, requests):
    rho, service_s = 0.5, 2.0
    settings = _settings(rho / service_s, requests, "deterministic")
    wait_s = _cloud_wait_s(_cloud_only(service_s), settings, engine)
    # P-K: W_q = lambda E[S^2] / (2 (1 - rho)) with E[S^2] = S^2.
    assert wait_s == pytest.approx(rho * service_s / (2 * (1 - rho)), rel=0.02)


@pytest.mark.slow
@pytest.mark.parametrize("servers,rate_hz", [(2, 1.0), (3, 2.0)])
def test_mmc_mean_wait_erlang_c(servers, rate_hz):
    settings = _settings(rate_hz, 1_000_000, "exponential")
    wait_s = _cloud_wait_s(_cloud_only(1.0), settings, "simpy", CloudQueue(gpus=servers))
    assert wait_s == pytest.approx(erlang_c_wait_s(rate_hz, 1.0, servers), rel=0.02)


def test_mmc_short_run_is_near_erlang_c():
    # A quick guard for the GPU-process code in the default suite; the 2 % check is slow.
    settings = _settings(1.0, 100_000, "exponential")
    wait_s = _cloud_wait_s(_cloud_only(1.0), settings, "simpy", CloudQueue(gpus=2))
    assert wait_s == pytest.approx(erlang_c_wait_s(1.0, 1.0, 2), rel=0.08)


@pytest.mark.parametrize("engine,requests", [
    ("fast", 1_000_000),
    pytest.param("simpy", 1_000_000, marks=pytest.mark.slow),
])
def test_tandem_of_mm1_stages_mean_latency(engine, requests):
    # Device, uplink, cloud and downlink each an M/M/1 queue (Jackson: sojourn S / (1 - rho)).
    rate_hz = 0.8
    means_s = {"edge": 0.5, "up": 0.4, "cloud": 0.6, "down": 0.3}
    costs = StageCosts(edge_compute_s=means_s["edge"], noise_s=0.0,
                       uplink_bytes=means_s["up"] / 8e-6, downlink_bytes=means_s["down"] / 8e-6,
                       cloud_compute_s=(means_s["cloud"],))
    res = simulate(costs, PLAIN_LINK, CloudQueue(), _settings(rate_hz, requests, "exponential"),
                   engine=engine)
    expected_s = sum(s / (1 - rate_hz * s) for s in means_s.values())
    assert res.latency_ms.mean / 1e3 == pytest.approx(expected_s, rel=0.02)
