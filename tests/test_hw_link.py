"""Links: alpha/beta power, LTE tail energy by hand, headers, traces, dtype of the payload."""
import pytest

from hwmodels.link import LinkModel, sent_bytes
from hwmodels.presets import link_preset
from hwmodels.trace import load_bandwidth_trace
from partitioner.types import Cut


def test_lte_tail_and_transfer_energy_by_hand():
    lte = link_preset("lte")
    assert lte.tail_energy_j == pytest.approx(1.060 * 11.576)          # 12.27 J
    payload = 1_000_000
    wire = payload + -(-payload // 1460) * 40                          # 685 packets of headers
    t_up = wire * 8 / 6e6
    p_up_w = (438.39 * 6 + 1288.04) / 1e3                              # alpha_u x 6 Mbps + beta
    expected = p_up_w * t_up + 1.2107 * 0.2601 + 1.060 * 11.576
    assert lte.transfer_energy_j(payload) == pytest.approx(expected, rel=1e-9)
    # The tail dominates a small transfer (why LTE is so costly).
    assert lte.tail_energy_j > 10 * lte.uplink_energy_j(10_000)


def test_wifi_has_no_tail():
    wifi = link_preset("wifi")
    assert wifi.tail_energy_j == 0 and wifi.promotion_energy_j == 0
    assert wifi.uplink_power_mw == pytest.approx(283.17 * 20 + 132.86)


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


@pytest.mark.parametrize("content", [None, "a,b\n1,2\n", "time_s,uplink_mbps,downlink_mbps\n0,x,1\n",
                                     "time_s,uplink_mbps,downlink_mbps\n0,0,1\n"])
def test_bad_trace_is_a_value_error(tmp_path, content):
    p = tmp_path / "bad.csv"
    if content is not None:
        p.write_text(content)
    with pytest.raises(ValueError, match="bandwidth_trace_csv"):
        LinkModel("t", 8.0, 8.0, 0.0, 0.0, 0.0, 0.0, bandwidth_trace_csv=str(p))
