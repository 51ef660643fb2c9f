"""Closed forms at the operating point: hand-computed queues, tails and saturation, and
agreement with the discrete-event simulator on stable cuts (Wi-Fi, LTE, 5G)."""
import numpy as np
import pytest

from hwmodels.link import LinkModel
from hwmodels.presets import link_preset
from sim.des import ArrivalSpec, CloudQueue, SimSettings, StageCosts, simulate
from sim.operating_point import (OperatingPoint, StageTimes, at_operating_point, md1_wait_s,
                                 md1_wait_p99_s, mmk_wait_s)

BARE = LinkModel("bare", 8.0, 8.0, 0.0, 0.0, 0.0, 0.0)


def stages(device_s, uplink_s, cloud_s, downlink_s, half_rtt_s=0.0):
    return StageTimes(*(np.atleast_1d(np.asarray(x, dtype=float))
                        for x in (device_s, uplink_s, cloud_s, downlink_s)), half_rtt_s)


def test_pollaczek_khinchine_md1_by_hand():
    # lambda = 1 Hz, D = 0.5 s: rho = 0.5, W = rho D / (2 (1 - rho)) = 0.25 s
    assert md1_wait_s(1.0, np.array([0.5]))[0] == pytest.approx(0.25)
    assert np.isinf(md1_wait_s(2.0, np.array([0.5]))[0])
    # M/M/2 at a = 1 (rho = 0.5): Erlang C = 1/3, W = C D / (k (1 - rho)) = D / 3
    assert mmk_wait_s(1.0, np.array([1.0]), 2)[0] == pytest.approx(1.0 / 3.0)


def test_md1_p99_matches_the_exponential_tail_at_heavy_load():
    # rho = 0.9, D = 1: the root of 0.9 (e^x - 1) = x and C = 0.1 / (0.9 e^x - 1)
    x = 0.2
    for _ in range(100):
        x -= (0.9 * np.expm1(x) - x) / (0.9 * np.exp(x) - 1)
    c = 0.1 / (0.9 * np.exp(x) - 1)
    assert md1_wait_p99_s(0.9, np.array([1.0]))[0] == pytest.approx(np.log(c / 0.01) / x)


def test_saturation_and_max_rate_by_hand():
    # uplink 0.5 s per request is the bottleneck (device 0.1, cloud 0.2, downlink 0.01)
    st = stages([0.1, 0.1], [0.5, 0.05], [0.2, 0.2], [0.01, 0.01])
    out = at_operating_point(st, BARE, OperatingPoint("poisson", 3.0))
    assert out["utilization"] == pytest.approx([1.5, 0.6])
    assert out["max_rate_hz"] == pytest.approx([2.0, 5.0])        # 1 / 0.5 s, 1 / 0.2 s
    assert out["saturated"].tolist() == [True, False]
    assert np.isnan(out["latency_s"][0]) and np.isfinite(out["latency_s"][1])
    # cut 2: cloud is the bottleneck, rho = 0.6: W = 0.6 x 0.2 / (2 x 0.4) = 0.15 s
    assert out["latency_s"][1] == pytest.approx(0.1 + 0.05 + 0.2 + 0.01 + 0.15)
    # several clients share the cloud: 2 clients at 3 Hz offer it 6 x 0.2 = 1.2
    two = at_operating_point(st, BARE, OperatingPoint("poisson", 3.0, clients=2))
    assert two["utilization"][1] == pytest.approx(1.2) and two["saturated"][1]
    assert two["max_rate_hz"][1] == pytest.approx(2.5)


def test_tail_time_per_request_is_one_minus_exp_over_lambda():
    """Tiny transfers with no gap inside a request: tail energy per request is
    P_tail (1 - exp(-lambda T)) / lambda, promotion is paid with probability exp(-lambda T)."""
    lte = link_preset("lte")
    # a zero-length promotion, so that it does not shorten the following gap
    instant = LinkModel(**{**lte.__dict__, "rtt_ms": 0.0, "promotion_ms": 0.0})
    st = stages(0.0, 1e-9, 0.0, 0.0)
    t_s = lte.tail_ms / 1e3
    for rate in (0.02, 0.1, 2.0):
        out = at_operating_point(st, instant, OperatingPoint("poisson", rate))
        assert out["comm_tail_j"][0] == pytest.approx(
            lte.tail_power_mw / 1e3 * -np.expm1(-rate * t_s) / rate, rel=1e-6)
        assert out["promotion_probability"][0] == pytest.approx(np.exp(-rate * t_s), rel=1e-6)
        # and the rest of the gap, exp(-lambda T) / lambda on average, at idle power
        assert out["comm_idle_j"][0] == pytest.approx(
            lte.idle_power_mw / 1e3 * np.exp(-rate * t_s) / rate, rel=1e-6)
    # With the real 0.26 s promotion the gap after a promoted request is shorter:
    # E[min((A - 0.26)+, T)] = exp(-0.26 lambda) (1 - exp(-lambda T)) / lambda.
    rate = 0.02
    out = at_operating_point(st, LinkModel(**{**lte.__dict__, "rtt_ms": 0.0}),
                             OperatingPoint("poisson", rate))
    p = out["promotion_probability"][0]
    shrink = p * np.exp(-rate * 0.2601) + (1 - p)
    assert out["comm_tail_j"][0] == pytest.approx(
        lte.tail_power_mw / 1e3 * shrink * -np.expm1(-rate * t_s) / rate, rel=1e-6)
    # a rare request pays what an isolated one does: promotion and the whole tail
    rare = at_operating_point(st, LinkModel(**{**lte.__dict__, "rtt_ms": 0.0,
                                               "idle_power_mw": 0.0}),
                              OperatingPoint("poisson", 1e-5))
    assert rare["comm_j"][0] == pytest.approx(lte.transfer_energy_j(0), rel=1e-3)


def test_deterministic_arrivals_alternate_promotions_by_hand():
    """Every 0.3 s, a request busy 0.023 s after its ready time on Wi-Fi (tail 0.2381 s,
    promotion 0.0791 s): without a promotion the gap, 0.277 s, exceeds the tail, so the next
    request promotes; after one it is 0.198 s and the next does not: half the requests."""
    wifi = link_preset("wifi")
    wifi = LinkModel(**{**wifi.__dict__, "rtt_ms": 0.0})
    st = stages(0.0, 0.013, 0.0, 0.01)
    out = at_operating_point(st, wifi, OperatingPoint("deterministic", 1 / 0.3))
    assert out["promotion_probability"][0] == pytest.approx(0.5)
    assert out["latency_s"][0] == pytest.approx(0.023 + 0.5 * 0.0791)


CASES = [  # (link, edge_s, up_bytes, cloud_s, rate_hz): utilizations from 0.01 to 0.75
    ("wifi", 0.020, 50_000, 0.01, 0.2), ("wifi", 0.020, 50_000, 0.01, 8.0),
    ("wifi", 0.050, 200_000, 0.01, 2.0), ("wifi", 0.300, 4_000, 0.01, 2.5),
    ("lte", 0.020, 50_000, 0.01, 0.2), ("lte", 0.020, 50_000, 0.01, 2.0),
    ("lte", 0.020, 50_000, 0.01, 8.0), ("lte", 0.050, 100_000, 0.01, 2.0),
    ("5g-lowband", 0.020, 50_000, 0.01, 0.2), ("5g-lowband", 0.020, 50_000, 0.01, 8.0),
    ("5g-mmwave", 0.020, 50_000, 0.01, 2.0), ("5g-mmwave", 0.300, 4_000, 0.01, 2.5),
]


@pytest.mark.parametrize("link_name, edge_s, up_bytes, cloud_s, rate_hz", CASES)
def test_closed_form_agrees_with_the_simulator(link_name, edge_s, up_bytes, cloud_s, rate_hz):
    link = link_preset(link_name)
    costs = StageCosts(edge_compute_s=edge_s, noise_s=0.003, uplink_bytes=up_bytes,
                       downlink_bytes=4000, cloud_compute_s=(cloud_s,))
    settings = SimSettings(requests=4000, arrival=ArrivalSpec(rate_hz=rate_hz),
                           replications=5, min_replications=5, ci_rel_tol=0,
                           warmup_requests=200)
    sim = simulate(costs, link, CloudQueue(), settings)
    st = stages(edge_s + 0.003, link.uplink_transmit_s(up_bytes), cloud_s,
                link.downlink_transmit_s(4000), link.rtt_ms / 2e3)
    out = at_operating_point(st, link, OperatingPoint("poisson", rate_hz))
    assert out["utilization"][0] <= 0.8
    for closed, est in ((out["latency_s"][0] * 1e3, sim.latency_ms),
                        (out["comm_j"][0] * 1e3, sim.energy_mj["comm_mj"])):
        allowed = max(0.05 * est.mean, est.half_width)
        assert abs(closed - est.mean) <= allowed, (closed, est.mean, est.half_width)


@pytest.mark.slow
def test_lte_vgg16_comm_energy_matches_the_simulation_on_stable_cuts():
    """Acceptance (issue 12): configs/lte_vgg16.yaml, communication energy of the closed form
    within 5 % of the simulation's for every stable cut; saturated cuts show no latency."""
    from pathlib import Path

    from sim.config import load_scenario
    from sim.costs import NoiseCostModel, cut_components
    from sim.loadsim import simulate_cuts
    from sim.operating_costs import headline_link_costs, operating_point_columns
    from sim.profiles import scenario_graph

    sc = load_scenario(Path(__file__).parents[1] / "configs" / "lte_vgg16.yaml")
    g = scenario_graph(sc)
    comp = cut_components(g, sc.edge, sc.cloud, NoiseCostModel.from_spec(sc.noise), 1)
    lc = headline_link_costs(sc, comp)
    cols = operating_point_columns(lc)
    sims, _ = simulate_cuts(g, comp, sc.edge, sc.cloud, sc.link, sc.cloud_spec.queue, sc.sim, 1)
    stable = np.flatnonzero(cols["bottleneck_utilization"] <= 0.8)
    assert len(stable) >= 10
    for i in stable:
        est = sims[int(comp.cut[i])].energy_mj["comm_mj"]
        assert abs(lc["comm_j"][i] * 1e3 - est.mean) <= max(0.05 * est.mean, est.half_width)
        lat = sims[int(comp.cut[i])].latency_ms
        assert abs(lc["latency_s"][i] * 1e3 - lat.mean) <= max(0.05 * lat.mean, lat.half_width)
    sat = cols["saturated"].to_numpy()
    # at 2 Hz over 6 Mbps every cut sending >= 401,408 B (0.55 s of uplink) saturates: 1..30
    assert comp.cut[sat].tolist() == list(range(1, 31))
    assert np.isnan(lc["latency_s"][sat]).all() and np.isfinite(lc["latency_s"][~sat]).all()
    # max_rate_hz at cut 5: the 3,211,264-byte activation (plus headers) at 6 Mbps
    i5 = int(np.flatnonzero(comp.cut == 5)[0])
    assert cols["max_rate_hz"][i5] == pytest.approx(6e6 / (8 * sc.link.wire_bytes(3211264)))


def test_device_energy_is_what_the_battery_pays_by_hand():
    """device_mj = edge compute + noise + radio + idle power while waiting for the answer.
    One request every 100 s (no queueing, the radio idles in between) on a bare 8 Mbps link
    at 1 W: 1 MB up takes 1 s, the answer 10 kB 0.01 s, the cloud 0.2 s."""
    from sim.costs import CutComponents
    from sim.operating_costs import operating_link_costs

    link = LinkModel("bare", 8.0, 8.0, 0.0, 0.0, 0.0, 1000.0)
    comp = CutComponents(cut=np.array([0, 3]), after_layer=("input", "x"),
                         up_bytes=np.array([0.0, 1e6]), down_bytes=np.array([1e4, 1e4]),
                         edge_s=np.array([0.0, 0.5]), edge_j=np.array([0.0, 5.0]),
                         noise_s=np.array([0.0, 0.1]), noise_j=np.array([0.0, 0.9]),
                         cloud_s=np.array([0.2, 0.2]), cloud_j=np.array([40.0, 40.0]))
    lc = operating_link_costs(comp, link, OperatingPoint("poisson", 0.01), edge_idle_power_w=2.0)
    # cut 3: 0.6 s on the device, then 1 s + 0.2 s + 0.01 s and the M/D/1 wait behind the
    # 1 s uplink, 0.01 x 1 / (2 x 0.99), waiting for the answer
    wait_s = 0.01 * 1.0 / (2 * 0.99)
    assert lc["latency_s"][1] == pytest.approx(0.6 + 1.0 + 0.2 + 0.01 + wait_s)
    assert lc["comm_j"][1] == pytest.approx(1.0 * (1.0 + 0.01))
    assert lc["device_j"][1] == pytest.approx(5.0 + 0.9 + 1.01 + 2.0 * (1.21 + wait_s))
    assert lc["total_isolated_j"][1] == pytest.approx(5.0 + 0.9 + 1.01 + 40.0)
