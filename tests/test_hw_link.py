"""Links: alpha/beta power, LTE tail energy by hand, headers, traces, dtype of the payload."""
import numpy as np
import pytest

from hwmodels.link import LinkModel, sent_bytes
from hwmodels.presets import link_preset
from hwmodels.trace import load_bandwidth_trace
from partitioner.types import Cut


def test_lte_tail_and_transfer_energy_by_hand():
    lte = link_preset("lte")
    assert lte.tail_energy_j == pytest.approx(0.3201 * 11.576)         # 3.71 J
    payload = 1_000_000
    wire = payload + -(-payload // 1460) * 40                          # 685 packets of headers
    t_up = wire * 8 / 6e6
    p_up_w = (80.21 * 6 + 389.0) / 1e3                                 # alpha_u x 6 Mbps + beta
    expected = p_up_w * t_up + 0.3656 * 0.2601 + 0.3201 * 11.576
    assert lte.transfer_energy_j(payload) == pytest.approx(expected, rel=1e-9)
    # The tail dominates a small transfer (why LTE is so costly).
    assert lte.tail_energy_j > 10 * lte.uplink_energy_j(10_000)


def test_wifi_promotion_tail_and_power_save_by_hand():
    """Huang et al. 2012 Table 3: Wi-Fi promotion 79.1 ms at 124.4 mW, tail 238.1 ms at
    119.3 mW, beacon every 308.2 ms (77.2 mW for 7.6 ms, averaged into idle power)."""
    wifi = link_preset("wifi")
    assert wifi.promotion_energy_j == pytest.approx(0.1244 * 0.0791)
    assert wifi.tail_energy_j == pytest.approx(0.1193 * 0.2381)
    assert wifi.psm_beacon_ms == 308.2
    assert wifi.idle_power_mw == pytest.approx(77.2 * 7.6 / 308.2, abs=0.05)


@pytest.mark.parametrize("name", ["wifi", "lte", "3g", "5g-lowband", "5g-mmwave"])
def test_radio_power_stays_bounded_and_energy_per_bit_falls(name):
    link = link_preset(name)
    rates = np.geomspace(0.1, 2000.0, 200)
    for direction in ("up", "down"):
        p_mw = link.power_mw(rates, direction)
        fit_max = link.fit_max_up_mbps if direction == "up" else link.fit_max_down_mbps
        alpha = link.alpha_up_mw_per_mbps if direction == "up" else link.alpha_down_mw_per_mbps
        ceiling = min(link.max_power_mw or np.inf,
                      alpha * fit_max + link.beta_mw if fit_max else np.inf)
        assert np.isfinite(ceiling)                      # every radio preset is bounded
        assert p_mw.max() <= ceiling + 1e-9
        assert np.all(np.diff(p_mw) >= -1e-9)            # more rate never costs less power
        e_per_mb = link.energy_per_mb_j(rates, direction)
        assert np.all(np.diff(e_per_mb) < 0)             # ... but less energy per bit


def test_wifi_power_is_held_at_its_measured_ceiling():
    wifi = link_preset("wifi")
    # Below the ceiling the line through the Aalborg measurements holds exactly:
    # 10.0 x 2 + 1352.55 mW at 2 Mbps (tests/test_link_published.py checks the measurements).
    assert wifi.power_mw(2.0, "up") == pytest.approx(10.0 * 2 + 1352.55)
    # 20 Mbps would be 5.8 W by Huang et al.'s linear fit; the preset holds 1.4 W.
    assert wifi.uplink_power_mw == pytest.approx(1400.0)
    # 1 MB at 20 Mbps: 0.4 s at 1.4 W.
    assert wifi.energy_per_mb_j(20.0) == pytest.approx(0.56)


def test_lte_fit_is_held_above_its_range():
    lte = link_preset("lte")
    at_top = 80.21 * 24.853 + 389.0                                    # 2382 mW at 24.853 Mbps
    assert lte.power_mw(6.0) == pytest.approx(80.21 * 6 + 389.0)
    assert lte.power_mw(60.0) == pytest.approx(at_top)               # not 5.2 W
    assert lte.energy_per_mb_j(60.0) == pytest.approx(at_top * 1e-3 * 8 / 60)
    # downlink: held at 14.55 x 50.083 + 389 = 1118 mW above its top bin
    assert lte.power_mw(100.0, "down") == pytest.approx(14.55 * 50.083 + 389.0)


def test_max_power_below_beta_is_rejected():
    with pytest.raises(ValueError, match="max_power_mw"):
        LinkModel("x", 8.0, 8.0, 0.0, 1.0, 1.0, 500.0, max_power_mw=100.0)


def test_trace_time_average_and_time_averaged_link(tmp_path):
    p = tmp_path / "two.csv"
    # 10 Mbps for 1 s, then 30 Mbps for 3 s (the last row lasts the median step, 1 s)
    p.write_text("time_s,uplink_mbps,downlink_mbps\n0,10,40\n1,30,40\n2,30,40\n3,30,40\n")
    link = LinkModel("t", 1.0, 1.0, 0.0, 0.0, 0.0, 0.0, bandwidth_trace_csv=str(p))
    assert link.mean_uplink_mbps == pytest.approx((10 * 1 + 30 * 3) / 4)
    avg = link.time_averaged()
    assert avg.uplink_mbps == pytest.approx(25.0) and avg.downlink_mbps == pytest.approx(40.0)
    wifi = link_preset("wifi")
    assert wifi.time_averaged() is wifi


def test_wire_bytes_headers():
    link = LinkModel("x", 8.0, 8.0, 0.0, 0.0, 0.0, 0.0, packet_overhead_bytes=40, mtu_bytes=1500)
    assert link.wire_bytes(0) == 0
    assert link.wire_bytes(1460) == 1500
    assert link.wire_bytes(1461) == 1461 + 80
    assert link.uplink_transmit_s(1460) == pytest.approx(1500 * 8 / 8e6)


def test_sent_bytes_by_dtype():
    cut = Cut(3, "relu_1", (64, 55, 55), "float32", 64 * 55 * 55 * 4)
    assert sent_bytes(cut) == 64 * 55 * 55 * 4
    assert sent_bytes(cut, "float16") == 64 * 55 * 55 * 2
    assert sent_bytes(cut, "int8") == 64 * 55 * 55
    raw = Cut(0, "input", (3, 224, 224), "uint8", 3 * 224 * 224)
    assert sent_bytes(raw, "float32") == 3 * 224 * 224          # input keeps its encoding
    with pytest.raises(ValueError, match="unknown dtype"):
        sent_bytes(cut, "int3")


def test_trace_piecewise_transmit(tmp_path):
    p = tmp_path / "trace.csv"
    p.write_text("time_s,uplink_mbps,downlink_mbps\n0,8,8\n1,16,16\n")
    tr = load_bandwidth_trace(str(p))
    assert tr.mbps_at(0.5) == 8 and tr.mbps_at(1.5) == 16 and tr.mbps_at(2.5) == 8
    # 1.5 MB from t=0: 1 MB in the first second at 8 Mbps, the remaining 0.5 MB at 16 Mbps.
    assert tr.transmit_s(1.5e6, 0.0) == pytest.approx(1.0 + 0.25)
    link = LinkModel("t", 8.0, 8.0, 0.0, 0.0, 0.0, 0.0, bandwidth_trace_csv=str(p))
    assert link.transmit_at_s(1e6, 1.0) == pytest.approx(0.5)


@pytest.mark.parametrize("content", [None, "a,b\n1,2\n",
                                     "time_s,uplink_mbps,downlink_mbps\n0,x,1\n",
                                     "time_s,uplink_mbps,downlink_mbps\n0,0,1\n"])
def test_bad_trace_is_a_value_error(tmp_path, content):
    p = tmp_path / "bad.csv"
    if content is not None:
        p.write_text(content)
    with pytest.raises(ValueError, match="bandwidth_trace_csv"):
        LinkModel("t", 8.0, 8.0, 0.0, 0.0, 0.0, 0.0, bandwidth_trace_csv=str(p))
