"""The simulator follows `link.bandwidth_trace_csv`: a two-level trace with a hand answer."""
import pytest

from hwmodels.link import LinkModel
from sim.des import ArrivalSpec, CloudQueue, SimSettings, StageCosts, simulate
from sim.operating_costs import operating_link_costs
from sim.operating_point import OperatingPoint


def two_level(tmp_path):
    p = tmp_path / "two_level.csv"
    # 8 Mbps for the first second of every two, 16 Mbps for the second (both directions)
    p.write_text("time_s,uplink_mbps,downlink_mbps\n0,8,8\n1,16,16\n")
    return LinkModel("trace", uplink_mbps=12.0, downlink_mbps=12.0, rtt_ms=0.0,
                     alpha_up_mw_per_mbps=0.0, alpha_down_mw_per_mbps=0.0, beta_mw=1000.0,
                     bandwidth_trace_csv=str(p))


def test_two_level_trace_transfer_times_by_hand(tmp_path):
    """Requests every 2 s from t = 0; 0.5 s of edge compute, so each 1 MB uplink starts at
    0.5 s into a period: 4 Mbit in the 0.5 s left at 8 Mbps, the other 4 Mbit at 16 Mbps in
    0.25 s: 750 ms. The 0.25 MB downlink starts at 1.25 s + 0.1 s of cloud = 1.35 s, at
    16 Mbps: 125 ms. At the constant 12 Mbps (the trace's time average) the uplink would
    take 667 ms."""
    link = two_level(tmp_path)
    costs = StageCosts(edge_compute_s=0.5, noise_s=0.0, uplink_bytes=1e6, downlink_bytes=2.5e5,
                       cloud_compute_s=(0.1,))
    settings = SimSettings(requests=50, arrival=ArrivalSpec("deterministic", rate_hz=0.5),
                           replications=1, min_replications=1, warmup_requests=5)
    res = simulate(costs, link, CloudQueue(), settings)
    assert res.engine == "simpy"
    assert res.latency_parts_ms["uplink_ms"] == pytest.approx(750.0)
    assert res.latency_parts_ms["downlink_ms"] == pytest.approx(125.0)
    assert res.latency_ms.mean == pytest.approx(500 + 750 + 100 + 125)
    # Radio on for 0.875 s per request at 1 W (alpha = 0): 875 mJ of transfer energy.
    assert res.energy_mj["comm_transfer_mj"].mean == pytest.approx(875.0, rel=1e-6)
    with pytest.raises(ValueError, match="trace"):
        simulate(costs, link, CloudQueue(), settings, engine="fast")


def test_cost_only_uses_the_time_average(tmp_path):
    import numpy as np
    from sim.costs import CutComponents

    link = two_level(tmp_path)
    assert link.mean_uplink_mbps == pytest.approx(12.0)
    comp = CutComponents(cut=np.array([1]), after_layer=("x",), up_bytes=np.array([1e6]),
                         down_bytes=np.array([2.5e5]), edge_s=np.array([0.5]),
                         edge_j=np.array([0.0]), noise_s=np.array([0.0]),
                         noise_j=np.array([0.0]), cloud_s=np.array([0.1]),
                         cloud_j=np.array([0.0]))
    lc = operating_link_costs(comp, link, OperatingPoint("deterministic", 0.5))
    assert lc["uplink_s"][0] == pytest.approx(8.0 / 12.0)
    assert lc["downlink_s"][0] == pytest.approx(2.0 / 12.0)
