"""Energy of a deterministic scenario against a hand computation, and dynamic batching against
hand-derived schedules."""
from __future__ import annotations


import numpy as np
import pytest

from hwmodels.link import LinkModel
from sim.des import ArrivalSpec, CloudQueue, SimSettings, StageCosts, simulate

LINK = LinkModel(name="hand", uplink_mbps=8.0, downlink_mbps=8.0, rtt_ms=20.0,
                 alpha_up_mw_per_mbps=400.0, alpha_down_mw_per_mbps=50.0, beta_mw=1000.0,
                 promotion_ms=200.0, promotion_power_mw=1200.0, tail_ms=5000.0,
                 tail_power_mw=1000.0, idle_power_mw=10.0)
COSTS = StageCosts(edge_compute_s=0.1, noise_s=0.02, uplink_bytes=100_000, downlink_bytes=1000,
                   cloud_compute_s=(0.05,), edge_active_power_w=5.0, edge_idle_power_w=1.0,
                   noise_power_w=3.0, cloud_active_power_w=200.0, cloud_idle_power_w=50.0)


@pytest.mark.parametrize("engine", ["fast", "simpy"])
def test_deterministic_scenario_energy_by_hand(engine):
    # Three requests 20 s apart. Each: edge 0.1 s, noise 0.02 s, then the radio (idle after the
    # previous 5 s tail) promotes for 0.2 s, sends 100 kB at 8 Mbps in 0.1 s, waits 0.01 s
    # propagation + 0.05 s cloud + 0.01 s propagation = 0.07 s connected, receives 1 kB in
    # 1 ms, and stays in its 5 s tail. Latency 0.12 + 0.2 + 0.1 + 0.07 + 0.001 = 0.491 s.
    n, period_s = 3, 20.0
    settings = SimSettings(requests=n, arrival=ArrivalSpec(process="deterministic",
                           rate_hz=1 / period_s), warmup_requests=0, replications=2)
    res = simulate(COSTS, LINK, CloudQueue(), settings, engine=engine)
    assert res.latency_ms.mean == pytest.approx(491.0)
    assert res.latency_p99_ms.mean == pytest.approx(491.0)
    assert res.latency_ms.half_width == 0.0        # deterministic: replications agree

    # Window: first arrival (0) until the radio is idle after the last response.
    window_s = (n - 1) * period_s + 0.491 + 5.0
    expected_j = {
        "edge_active_mj": 0.1 * 5.0,
        "noise_mj": 0.02 * 3.0,
        "edge_idle_mj": 1.0 * (window_s - n * 0.12) / n,
        "cloud_compute_mj": 0.05 * 200.0,
        "cloud_idle_mj": 50.0 * (window_s - n * 0.05) / n,
        # uplink (alpha_up * 8 Mbps + beta) * 0.1 s, downlink (alpha_down * 8 + beta) * 1 ms
        "comm_transfer_mj": (3.2 + 1.0) * 0.1 + (0.4 + 1.0) * 0.001,
        "comm_promotion_mj": 1.2 * 0.2,
        # connected while waiting for the response, then the whole tail
        "comm_tail_mj": 1.0 * (0.07 + 5.0),
        "comm_idle_mj": 0.01 * (window_s - n * (0.2 + 0.1 + 0.07 + 0.001 + 5.0)) / n,
    }
    expected_j["edge_compute_mj"] = expected_j["edge_active_mj"] + expected_j["edge_idle_mj"]
    expected_j["comm_mj"] = sum(v for k, v in expected_j.items() if k.startswith("comm_"))
    expected_j["total_mj"] = (expected_j["edge_compute_mj"] + expected_j["noise_mj"]
                              + expected_j["comm_mj"] + expected_j["cloud_compute_mj"])
    for key, joules in expected_j.items():
        assert res.energy_mj[key].mean == pytest.approx(joules * 1e3, rel=1e-9), key


def test_connected_radio_pays_no_promotion():
    # At 1 request per second the 5 s tail never expires: only the first request promotes,
    # and the radio is never idle after it.
    settings = SimSettings(requests=50, arrival=ArrivalSpec(process="deterministic",
                           rate_hz=1.0), warmup_requests=0, replications=1)
    res = simulate(COSTS, LINK, CloudQueue(), settings, keep_records=True)
    rec = res.records[0]
    assert np.isfinite(rec.up_promo_s).sum() == 1
    assert res.energy_mj["comm_promotion_mj"].mean == pytest.approx(1.2 * 0.2 / 50 * 1e3)
    # Idle only while the first request is on the device (0.12 s at 10 mW).
    assert res.energy_mj["comm_idle_mj"].mean == pytest.approx(0.01 * 0.12 / 50 * 1e3)


BATCH_LINK = LinkModel(name="none", uplink_mbps=1.0, downlink_mbps=1.0, rtt_ms=0.0,
                       alpha_up_mw_per_mbps=0.0, alpha_down_mw_per_mbps=0.0, beta_mw=0.0)


def _batch_costs() -> StageCosts:
    return StageCosts(edge_compute_s=0.0, noise_s=0.0, uplink_bytes=0.0, downlink_bytes=0.0,
                      cloud_compute_s=(0.0010, 0.0015, 0.0020, 0.0025),
                      cloud_active_power_w=100.0)


def test_full_batches_form_as_requests_arrive():
    # One request per ms, batches of 4, a 10 ms wait limit that is never reached: the batch
    # of requests 4j..4j+3 starts when the last arrives (4j+3 ms) and takes 2.5 ms, so request
    # 4j+m waits 5.5 - m ms.
    settings = SimSettings(requests=12, arrival=ArrivalSpec(process="deterministic",
                           rate_hz=1000.0), warmup_requests=0, replications=1)
    res = simulate(_batch_costs(), BATCH_LINK, CloudQueue(max_batch=4, max_wait_ms=10.0),
                   settings, keep_records=True)
    rec = res.records[0]
    assert np.all(rec.batch_size == 4)
    np.testing.assert_allclose((rec.down_end_s - np.arange(12) * 1e-3) * 1e3,
                               np.tile([5.5, 4.5, 3.5, 2.5], 3), atol=1e-9)
    # Each request pays a quarter of its batch's 2.5 ms at 100 W.
    assert res.energy_mj["cloud_compute_mj"].mean == pytest.approx(100.0 * 2.5 / 4)


def test_batch_leaves_at_the_wait_limit():
    # Two requests 1 ms apart, batches of up to 4 held at most 5 ms: the pair leaves at 5 ms
    # and takes 1.5 ms.
    settings = SimSettings(requests=2, arrival=ArrivalSpec(process="deterministic",
                           rate_hz=1000.0), warmup_requests=0, replications=1)
    res = simulate(_batch_costs(), BATCH_LINK, CloudQueue(max_batch=4, max_wait_ms=5.0),
                   settings, keep_records=True)
    rec = res.records[0]
    np.testing.assert_allclose(rec.cloud_start_s, [5e-3, 5e-3], atol=1e-12)
    np.testing.assert_allclose(rec.down_end_s * 1e3, [6.5, 6.5], atol=1e-9)
    assert res.latency_ms.mean == pytest.approx((6.5 + 5.5) / 2)


def test_two_gpus_share_a_burst():
    # Four simultaneous-ish requests (0.1 ms apart), no batching, two GPUs of 1 ms each:
    # requests 0 and 1 start at once, 2 and 3 when those finish.
    settings = SimSettings(requests=4, arrival=ArrivalSpec(process="deterministic",
                           rate_hz=10_000.0), warmup_requests=0, replications=1)
    res = simulate(_batch_costs(), BATCH_LINK, CloudQueue(gpus=2), settings, keep_records=True)
    rec = res.records[0]
    np.testing.assert_allclose(rec.cloud_start_s * 1e3, [0.0, 0.1, 1.0, 1.1], atol=1e-9)


def test_wifi_power_save_response_waits_for_the_beacon():
    # Static power save (no awake timeout): the station dozes right after sending, so the
    # response, ready at 63 ms, is buffered until the 100 ms beacon, then the station wakes
    # (2 ms) and receives it (1 ms).
    wifi = LinkModel(name="wifi-psm", uplink_mbps=8.0, downlink_mbps=8.0, rtt_ms=0.0,
                    alpha_up_mw_per_mbps=283.17, alpha_down_mw_per_mbps=137.01, beta_mw=132.86,
                    promotion_ms=2.0, promotion_power_mw=300.0, tail_ms=0.0,
                    idle_power_mw=10.0, psm_beacon_ms=100.0)
    costs = StageCosts(edge_compute_s=0.01, noise_s=0.0, uplink_bytes=1000, downlink_bytes=1000,
                       cloud_compute_s=(0.05,))
    settings = SimSettings(requests=1, warmup_requests=0, replications=1,
                           arrival=ArrivalSpec(process="deterministic", rate_hz=1.0))
    res = simulate(costs, wifi, CloudQueue(), settings, keep_records=True)
    assert res.engine == "simpy"            # a beacon wait is beyond the recursion
    rec = res.records[0]
    assert rec.up_promo_s[0] == pytest.approx(0.010)
    assert rec.down_promo_s[0] == pytest.approx(0.100)
    assert res.latency_ms.mean == pytest.approx(103.0)
    assert res.energy_mj["comm_promotion_mj"].mean == pytest.approx(2 * 0.3 * 2.0)
