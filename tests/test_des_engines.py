"""The fast path against the simpy model on the same random streams, engine selection,
determinism and the replication stop rule."""
from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

from hwmodels.link import LinkModel
from sim.des import ArrivalSpec, CloudQueue, SimSettings, StageCosts, simulate
from sim.des import fastpath, simpy_model
from sim.des.radio import RadioParams
from sim.des.workload import RECORD_FIELDS, build_requests

# LTE figures of Huang et al. (MobiSys 2012): promotion and an 11.6 s tail.
LTE = LinkModel(name="lte", uplink_mbps=6.0, downlink_mbps=13.0, rtt_ms=70.0,
                alpha_up_mw_per_mbps=438.39, alpha_down_mw_per_mbps=51.97, beta_mw=1288.04,
                promotion_ms=260.0, promotion_power_mw=1210.7, tail_ms=11576.0,
                tail_power_mw=1060.0, idle_power_mw=11.4)
# A short tail so that the radio often goes idle between requests and pays promotions.
SHORT_TAIL = replace(LTE, name="short-tail", tail_ms=300.0)
COSTS = StageCosts(edge_compute_s=0.02, noise_s=0.004, uplink_bytes=40_000, downlink_bytes=400,
                   cloud_compute_s=(0.015, 0.02, 0.025, 0.03), edge_active_power_w=10.0,
                   edge_idle_power_w=1.5, noise_power_w=6.0, cloud_active_power_w=220.0,
                   cloud_idle_power_w=60.0)

SCENARIOS = {
    "one client, LTE, deterministic service": (LTE, 1, 3.0, "deterministic"),
    "one client, short tail, exponential": (SHORT_TAIL, 1, 1.5, "exponential"),
    "five clients, short tail, exponential": (SHORT_TAIL, 5, 0.8, "exponential"),
    "three clients, LTE, heavy load": (LTE, 3, 4.0, "exponential"),
}


def _requests(link, clients, rate_hz, service, n=5000, seed=3):
    settings = SimSettings(requests=n, clients=clients, arrival=ArrivalSpec(rate_hz=rate_hz),
                           seed=seed, service=service, warmup_requests=0)
    req = build_requests(COSTS, link.uplink_transmit_s(COSTS.uplink_bytes),
                         link.downlink_transmit_s(COSTS.downlink_bytes), settings, 0)
    return req, RadioParams.from_link(link)


def _assert_same(a, b, tol_s=1e-9):
    for name in RECORD_FIELDS:
        x, y = getattr(a, name), getattr(b, name)
        assert np.array_equal(np.isnan(x), np.isnan(y)), name
        assert np.nanmax(np.abs(x - y), initial=0.0) <= tol_s, name


@pytest.mark.parametrize("scenario", list(SCENARIOS))
@pytest.mark.parametrize("cloud_impl", ["auto", "workers"])
def test_fast_path_equals_simpy_per_request(scenario, cloud_impl):
    req, radio = _requests(*SCENARIOS[scenario])
    fast = fastpath.run(req, radio, COSTS.cloud_compute_s[0])
    assert fast is not None
    slow = simpy_model.run(req, radio, CloudQueue(), COSTS.cloud_compute_s, cloud_impl)
    _assert_same(fast, slow)
    latency_s = slow.down_end_s - req.arrival_s
    assert np.max(np.abs((fast.down_end_s - req.arrival_s) - latency_s)) <= 1e-9


def test_scenarios_exercise_promotions_queueing_and_overlap():
    # Guards the equality test against passing on trivial schedules.
    req, radio = _requests(*SCENARIOS["five clients, short tail, exponential"])
    rec = fastpath.run(req, radio, COSTS.cloud_compute_s[0])
    assert np.isfinite(rec.up_promo_s).sum() > 100               # radio promotions
    assert np.sum(rec.cloud_start_s > rec.cloud_arrival_s) > 100  # cloud queueing
    assert np.sum(rec.up_start_s > rec.edge_end_s + radio.promotion_s) > 10  # uplink queueing
    clients_at_cloud = req.client[np.argsort(rec.cloud_arrival_s)]
    assert np.sum(clients_at_cloud[1:] != clients_at_cloud[:-1]) > 1000     # interleaving


def test_fast_path_declines_when_a_response_finds_the_radio_idle():
    # Cloud time longer than the tail: the radio sleeps before the response, which then pays
    # a promotion that depends on later requests; the fast path must hand over to simpy.
    slow_cloud = replace(COSTS, cloud_compute_s=(1.0,))
    settings = SimSettings(requests=300, arrival=ArrivalSpec(rate_hz=0.2), warmup_requests=0,
                           replications=2, min_replications=2)
    req = build_requests(slow_cloud, SHORT_TAIL.uplink_transmit_s(COSTS.uplink_bytes),
                         SHORT_TAIL.downlink_transmit_s(COSTS.downlink_bytes), settings, 0)
    assert fastpath.run(req, RadioParams.from_link(SHORT_TAIL), 1.0) is None
    res = simulate(slow_cloud, SHORT_TAIL, CloudQueue(), settings, keep_records=True)
    assert res.engine == "simpy"
    woke = np.isfinite(res.records[0].down_promo_s)
    # Most responses had to wake the radio; the others found it kept awake by the next
    # request's uplink, which is what the recursion cannot see in time.
    assert 0.8 < woke.mean() < 1.0
    with pytest.raises(ValueError, match="not exact"):
        simulate(slow_cloud, SHORT_TAIL, CloudQueue(), settings, engine="fast")


def test_auto_engine_choice():
    settings = SimSettings(requests=400, arrival=ArrivalSpec(rate_hz=2.0), warmup_requests=50,
                           replications=2, min_replications=2)
    assert simulate(COSTS, LTE, CloudQueue(), settings).engine == "fast"
    assert simulate(COSTS, LTE, CloudQueue(gpus=2), settings).engine == "simpy"
    assert simulate(COSTS, LTE, CloudQueue(max_batch=4), settings).engine == "simpy"
    with pytest.raises(ValueError, match="one cloud GPU"):
        simulate(COSTS, LTE, CloudQueue(gpus=2), settings, engine="fast")


def test_auto_engine_gives_the_simpy_numbers():
    settings = SimSettings(requests=2000, clients=3, arrival=ArrivalSpec(rate_hz=1.0),
                           service="exponential", replications=3, ci_rel_tol=0.0)
    fast = simulate(COSTS, SHORT_TAIL, CloudQueue(), settings)
    slow = simulate(COSTS, SHORT_TAIL, CloudQueue(), settings, engine="simpy")
    assert (fast.engine, slow.engine) == ("fast", "simpy")
    assert fast.latency_ms.mean == pytest.approx(slow.latency_ms.mean, rel=1e-12)
    assert fast.latency_p99_ms.mean == pytest.approx(slow.latency_p99_ms.mean, rel=1e-12)
    for key, est in fast.energy_mj.items():
        assert est.mean == pytest.approx(slow.energy_mj[key].mean, rel=1e-9, abs=1e-12), key


@pytest.mark.parametrize("cloud", [CloudQueue(), CloudQueue(gpus=2, max_batch=4, max_wait_ms=20)])
def test_same_seed_gives_byte_identical_results(cloud):
    settings = SimSettings(requests=1500, clients=4, arrival=ArrivalSpec(process="onoff",
                           rate_hz=6.0, on_s=2.0, off_s=3.0), service="exponential", seed=11,
                           replications=3)
    runs = [simulate(COSTS, SHORT_TAIL, cloud, settings, keep_records=True) for _ in range(2)]
    assert json.dumps(runs[0].to_dict()) == json.dumps(runs[1].to_dict())
    for a, b in zip(runs[0].records, runs[1].records):
        for name in RECORD_FIELDS:
            assert getattr(a, name).tobytes() == getattr(b, name).tobytes()
    other = simulate(COSTS, SHORT_TAIL, cloud, replace(settings, seed=12))
    assert other.latency_ms.mean != runs[0].latency_ms.mean


def test_stop_rule():
    base = SimSettings(requests=2000, arrival=ArrivalSpec(rate_hz=2.0), service="exponential",
                       replications=12, min_replications=3)
    loose = simulate(COSTS, LTE, CloudQueue(), replace(base, ci_rel_tol=0.5))
    assert loose.replications == 3
    strict = simulate(COSTS, LTE, CloudQueue(), replace(base, ci_rel_tol=0.0))
    assert strict.replications == 12
    middle = simulate(COSTS, LTE, CloudQueue(), replace(base, ci_rel_tol=0.01))
    assert 3 <= middle.replications <= 12
    if middle.replications < 12:        # stopped because every interval was tight
        for est in (middle.latency_ms, middle.latency_p99_ms, middle.energy_mj["total_mj"]):
            assert est.half_width <= 0.01 * est.mean
    # Intervals shrink as replications grow and contain the estimate.
    assert strict.latency_ms.half_width < loose.latency_ms.half_width
    assert strict.latency_ms.low < strict.latency_ms.mean < strict.latency_ms.high


def test_warmup_requests_are_left_out():
    settings = SimSettings(requests=1000, arrival=ArrivalSpec(rate_hz=5.0), warmup_requests=400,
                           replications=1, min_replications=1)
    res = simulate(COSTS, LTE, CloudQueue(), settings, keep_records=True)
    rec = res.records[0]
    assert res.requests_kept == 600
    # The first request pays the promotion (the radio starts idle); it is in the warm-up.
    req = build_requests(COSTS, LTE.uplink_transmit_s(COSTS.uplink_bytes),
                         LTE.downlink_transmit_s(COSTS.downlink_bytes), settings, 0)
    kept_ms = (rec.down_end_s - req.arrival_s)[400:] * 1e3
    assert res.latency_ms.mean == pytest.approx(kept_ms.mean())
    assert res.latency_p99_ms.mean == pytest.approx(np.percentile(kept_ms, 99))
    parts = sum(res.latency_parts_ms.values())
    assert parts == pytest.approx(res.latency_ms.mean)
