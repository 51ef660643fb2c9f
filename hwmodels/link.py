"""Radio link model: bandwidth, round-trip time, and the alpha/beta power model.

Power while transferring is linear in the rate, the form of Huang et al. (MobiSys 2012):
P = alpha * throughput + beta, in mW with throughput in Mbps (each preset cites the measurements
its alpha and beta come from; tests/test_link_published.py checks them against published
energy-per-bit figures), but only over the rates the fit was measured on: above
`fit_max_up_mbps` / `fit_max_down_mbps` the power is held at the fit's last value (not
extrapolated), and it never exceeds `max_power_mw`, the radio's cited maximum draw. Power is
then concave in the rate with P(0) = beta > 0, so energy per bit (P / rate) falls as the rate
rises, as measured radios do. Cellular radios add a promotion delay before the first byte and
a tail after the last one, both at their own power (radio states: idle -> promotion ->
connected -> tail -> idle). Every packet carries protocol headers (`packet_overhead_bytes` per
`mtu_bytes` of payload), so the radio sends more than the tensor. A bandwidth trace (CSV) makes
the bandwidth time-varying for `transmit_at_s`.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from core.schema import FieldError
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
    fit_max_up_mbps: float | None = None    # top of the rates the alpha/beta fit was measured
    fit_max_down_mbps: float | None = None  # on (None: no limit stated)
    max_power_mw: float | None = None       # the radio's maximum draw (None: no ceiling)

    def __post_init__(self) -> None:
        for field in ("uplink_mbps", "downlink_mbps"):
            if not getattr(self, field) > 0:
                raise FieldError(field, f'must be > 0, got {getattr(self, field)} '
                                 f'(link "{self.name}")')
        for field in ("rtt_ms", "alpha_up_mw_per_mbps", "alpha_down_mw_per_mbps", "beta_mw",
                      "promotion_ms", "promotion_power_mw", "tail_ms", "tail_power_mw",
                      "idle_power_mw", "packet_overhead_bytes", "psm_beacon_ms"):
            if getattr(self, field) < 0:
                raise FieldError(field, f'must be >= 0, got {getattr(self, field)} '
                                 f'(link "{self.name}")')
        for field in ("fit_max_up_mbps", "fit_max_down_mbps"):
            if getattr(self, field) is not None and not getattr(self, field) > 0:
                raise FieldError(field, f'must be > 0, got {getattr(self, field)} '
                                 f'(link "{self.name}")')
        if self.max_power_mw is not None and not self.max_power_mw >= self.beta_mw:
            raise FieldError("max_power_mw", f'must be >= beta_mw ({self.beta_mw}), got '
                             f'{self.max_power_mw} (link "{self.name}")')
        if not self.mtu_bytes > self.packet_overhead_bytes:
            raise FieldError("mtu_bytes", f'must be > packet_overhead_bytes, got '
                             f'{self.mtu_bytes} (link "{self.name}")')
        if self.bandwidth_trace_csv is not None:
            self.trace()                  # fail now, with the file named, not mid-simulation

    def trace(self):
        from hwmodels.trace import load_bandwidth_trace
        return load_bandwidth_trace(self.bandwidth_trace_csv) if self.bandwidth_trace_csv \
            else None

    def time_averaged(self) -> "LinkModel":
        """This link at its trace's time-average rates (itself when no trace is set)."""
        if self.bandwidth_trace_csv is None:
            return self
        return replace(self, uplink_mbps=self.mean_uplink_mbps,
                       downlink_mbps=self.mean_downlink_mbps)

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

    def power_mw(self, mbps, direction: str = "up"):
        """Radio power while sending (up) or receiving (down) at `mbps`; broadcasts."""
        alpha, fit_max = ((self.alpha_up_mw_per_mbps, self.fit_max_up_mbps) if direction == "up"
                          else (self.alpha_down_mw_per_mbps, self.fit_max_down_mbps))
        rate = mbps if fit_max is None else np.minimum(mbps, fit_max)
        p = alpha * rate + self.beta_mw
        return p if self.max_power_mw is None else np.minimum(p, self.max_power_mw)

    def energy_per_mb_j(self, mbps, direction: str = "up"):
        """Transfer energy of one megabyte (10^6 payload bytes, headers excluded) at `mbps`."""
        return self.power_mw(mbps, direction) * 1e-3 * 8.0 / mbps

    @property
    def uplink_power_mw(self) -> float:
        return self.power_mw(self.uplink_mbps, "up")

    @property
    def downlink_power_mw(self) -> float:
        return self.power_mw(self.downlink_mbps, "down")

    @property
    def mean_uplink_mbps(self) -> float:
        """The bandwidth trace's time average where one is set (cost-only figures use it)."""
        tr = self.trace()
        return self.uplink_mbps if tr is None else tr.mean_mbps("up")

    @property
    def mean_downlink_mbps(self) -> float:
        tr = self.trace()
        return self.downlink_mbps if tr is None else tr.mean_mbps("down")

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
