"""Radio link model: bandwidth, round-trip time, and the alpha/beta power model.

Power while transferring follows Huang et al. (MobiSys 2012): P = alpha * throughput + beta,
in mW with throughput in Mbps. Cellular radios add a promotion delay before the first byte and
a tail after the last one, both at their own power (radio states: idle -> promotion ->
connected -> tail -> idle). Every packet carries protocol headers (`packet_overhead_bytes` per
`mtu_bytes` of payload), so the radio sends more than the tensor. A bandwidth trace (CSV) makes
the bandwidth time-varying for `transmit_at_s`.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from partitioner.types import Cut, dtype_bytes


@dataclass(frozen=True)
class LinkModel:
    name: str
    uplink_mbps: float
    downlink_mbps: float
    rtt_ms: float
    alpha_up_mw_per_mbps: float
    alpha_down_mw_per_mbps: float
    beta_mw: float
    promotion_ms: float = 0.0          # idle -> connected delay (cellular)
    promotion_power_mw: float = 0.0
    tail_ms: float = 0.0               # connected -> idle timer after the last byte
    tail_power_mw: float = 0.0
    idle_power_mw: float = 0.0
    packet_overhead_bytes: float = 0.0  # protocol headers per packet (IP/TCP/link)
    mtu_bytes: float = 1500.0           # packet size including the overhead
    bandwidth_trace_csv: str | None = None   # time_s, uplink_mbps, downlink_mbps
    psm_beacon_ms: float = 0.0          # Wi-Fi power save: a dozing station hears buffered
                                        # downlink data at the next beacon (0 = no power save)

    def __post_init__(self) -> None:
        for field in ("uplink_mbps", "downlink_mbps"):
            if not getattr(self, field) > 0:
                raise ValueError(f'"{field}" must be > 0, got {getattr(self, field)} '
                                 f'(link "{self.name}")')
        for field in ("rtt_ms", "alpha_up_mw_per_mbps", "alpha_down_mw_per_mbps", "beta_mw",
                      "promotion_ms", "promotion_power_mw", "tail_ms", "tail_power_mw",
                      "idle_power_mw", "packet_overhead_bytes", "psm_beacon_ms"):
            if getattr(self, field) < 0:
                raise ValueError(f'"{field}" must be >= 0, got {getattr(self, field)} '
                                 f'(link "{self.name}")')
        if not self.mtu_bytes > self.packet_overhead_bytes:
            raise ValueError(f'"mtu_bytes" must be > packet_overhead_bytes, got '
                             f'{self.mtu_bytes} (link "{self.name}")')
        if self.bandwidth_trace_csv is not None:
            self.trace()                  # fail now, with the file named, not mid-simulation

    def trace(self):
        from hwmodels.trace import load_bandwidth_trace
        return load_bandwidth_trace(self.bandwidth_trace_csv) if self.bandwidth_trace_csv \
            else None

    def wire_bytes(self, payload_bytes):
        """Payload plus one header per packet (a zero-byte payload sends nothing).

        Works on floats and on NumPy arrays of payloads (the per-cut cost vectors)."""
        payload = np.maximum(np.asarray(payload_bytes, dtype=np.float64), 0.0)
        if self.packet_overhead_bytes == 0:
            out = payload
        else:
            packets = np.ceil(payload / (self.mtu_bytes - self.packet_overhead_bytes))
            out = payload + packets * self.packet_overhead_bytes
        return float(out) if out.ndim == 0 else out

    @property
    def uplink_power_mw(self) -> float:
        return self.alpha_up_mw_per_mbps * self.uplink_mbps + self.beta_mw

    @property
    def downlink_power_mw(self) -> float:
        return self.alpha_down_mw_per_mbps * self.downlink_mbps + self.beta_mw

    def uplink_transmit_s(self, payload_bytes: float) -> float:
        """Time the radio spends sending, headers included (energy is paid over this)."""
        return self.wire_bytes(payload_bytes) * 8.0 / (self.uplink_mbps * 1e6)

    def downlink_transmit_s(self, payload_bytes: float) -> float:
        return self.wire_bytes(payload_bytes) * 8.0 / (self.downlink_mbps * 1e6)

    def transmit_at_s(self, payload_bytes: float, start_s: float, direction: str = "up") -> float:
        """Sending time starting at `start_s`: follows the trace when one is set."""
        tr = self.trace()
        if tr is None:
            return (self.uplink_transmit_s(payload_bytes) if direction == "up"
                    else self.downlink_transmit_s(payload_bytes))
        return tr.transmit_s(self.wire_bytes(payload_bytes), start_s, direction)

    def uplink_latency_s(self, payload_bytes: float) -> float:
        """Transmission plus one-way propagation (half the round trip)."""
        return self.uplink_transmit_s(payload_bytes) + self.rtt_ms / 2e3

    def downlink_latency_s(self, payload_bytes: float) -> float:
        return self.downlink_transmit_s(payload_bytes) + self.rtt_ms / 2e3

    def uplink_energy_j(self, payload_bytes: float) -> float:
        return self.uplink_power_mw * 1e-3 * self.uplink_transmit_s(payload_bytes)

    def downlink_energy_j(self, payload_bytes: float) -> float:
        return self.downlink_power_mw * 1e-3 * self.downlink_transmit_s(payload_bytes)

    @property
    def promotion_energy_j(self) -> float:
        return self.promotion_power_mw * self.promotion_ms * 1e-6

    @property
    def tail_energy_j(self) -> float:
        return self.tail_power_mw * self.tail_ms * 1e-6

    def transfer_energy_j(self, up_bytes: float, down_bytes: float = 0.0,
                          from_idle: bool = True) -> float:
        """Radio energy of one request: promotion (if the radio was idle), uplink and downlink
        at P = alpha x throughput + beta, then the full tail. Requests closer together than the
        tail share it; the simulator accounts for that, this is the isolated-request figure."""
        e = self.uplink_energy_j(up_bytes) + self.downlink_energy_j(down_bytes)
        if from_idle:
            e += self.promotion_energy_j
        return e + self.tail_energy_j


def sent_bytes(cut: Cut, tx_dtype: str | None = None) -> int:
    """Bytes of the tensor crossing `cut` when sent as `tx_dtype` (float32, float16, int8...).

    Cut 0 sends the raw input at its source encoding whatever `tx_dtype` says; None keeps the
    cut's own dtype."""
    if tx_dtype is None or cut.cut == 0:
        return cut.sent_bytes
    return cut.sent_elements * dtype_bytes(tx_dtype)
