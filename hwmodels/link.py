"""Radio link model: bandwidth, round-trip time, and the alpha/beta power model.

Power while transferring follows Huang et al. (MobiSys 2012): P = alpha * throughput + beta,
in mW with throughput in Mbps. Cellular radios add a promotion delay before the first byte and
a tail after the last one, both at their own power.
"""
from __future__ import annotations

from dataclasses import dataclass


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

    def __post_init__(self) -> None:
        for field in ("uplink_mbps", "downlink_mbps"):
            if not getattr(self, field) > 0:
                raise ValueError(f'"{field}" must be > 0, got {getattr(self, field)} '
                                 f'(link "{self.name}")')
        for field in ("rtt_ms", "alpha_up_mw_per_mbps", "alpha_down_mw_per_mbps", "beta_mw",
                      "promotion_ms", "promotion_power_mw", "tail_ms", "tail_power_mw",
                      "idle_power_mw"):
            if getattr(self, field) < 0:
                raise ValueError(f'"{field}" must be >= 0, got {getattr(self, field)} '
                                 f'(link "{self.name}")')

    @property
    def uplink_power_mw(self) -> float:
        return self.alpha_up_mw_per_mbps * self.uplink_mbps + self.beta_mw

    @property
    def downlink_power_mw(self) -> float:
        return self.alpha_down_mw_per_mbps * self.downlink_mbps + self.beta_mw

    def uplink_transmit_s(self, payload_bytes: float) -> float:
        """Time the radio spends sending (energy is paid over this)."""
        return payload_bytes * 8.0 / (self.uplink_mbps * 1e6)

    def downlink_transmit_s(self, payload_bytes: float) -> float:
        return payload_bytes * 8.0 / (self.downlink_mbps * 1e6)

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
