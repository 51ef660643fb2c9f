"""The radio of one client: an RRC-like state machine (idle, promotion, connected, tail) and its
energy.

Uplink and downlink are separate FIFO channels (LTE is frequency-duplexed); both keep the radio
connected. After the last transfer the radio stays connected for `tail_s` at `tail_w` (LTE's
inactivity timer; for Wi-Fi power save, the time the station stays awake before it dozes), then
drops to `idle_w`. A transfer that finds the radio idle first pays a promotion of
`promotion_s` at `promotion_w`; a downlink that finds a Wi-Fi station dozing also waits at the
access point for the next beacon (every `beacon_s`, on a grid shared by all stations).

A transfer is decided at the instant it reaches its channel, from three numbers per client:
when the channel frees, when the radio's latest activity (reserved so far) ends, and until when
a promotion runs. The decision functions below are plain Python so that the simpy model calls
them directly and the numba fast path compiles the very same arithmetic.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numba
import numpy as np

from hwmodels.link import LinkModel


@dataclass(frozen=True)
class RadioParams:
    uplink_w: float          # the uplink's power above the base power at the link's rate
    downlink_w: float
    beta_w: float            # base power while any transfer is on
    promotion_s: float
    promotion_w: float
    tail_s: float
    tail_w: float
    idle_w: float
    beacon_s: float          # Wi-Fi power-save beacon interval; 0 when the link has none
    half_rtt_s: float

    @classmethod
    def from_link(cls, link: LinkModel) -> RadioParams:
        beacon_ms = link.psm_beacon_ms
        # A trace varies the rate; power is priced at its time average (docs/operating-point.md).
        up_mw = link.power_mw(link.mean_uplink_mbps, "up")
        down_mw = link.power_mw(link.mean_downlink_mbps, "down")
        return cls(uplink_w=float(up_mw - link.beta_mw) * 1e-3,
                   downlink_w=float(down_mw - link.beta_mw) * 1e-3,
                   beta_w=link.beta_mw * 1e-3,
                   promotion_s=link.promotion_ms * 1e-3, promotion_w=link.promotion_power_mw * 1e-3,
                   tail_s=link.tail_ms * 1e-3, tail_w=link.tail_power_mw * 1e-3,
                   idle_w=link.idle_power_mw * 1e-3, beacon_s=beacon_ms * 1e-3,
                   half_rtt_s=link.rtt_ms * 0.5e-3)

    @property
    def idle_changes_latency(self) -> bool:
        """Whether finding the radio idle delays a transfer at all."""
        return self.promotion_s > 0 or self.beacon_s > 0


def transfer_start(t_s: float, channel_free_s: float, last_end_s: float, promoting_until_s: float,
                   tail_s: float, promotion_s: float, beacon_s: float) -> tuple[float, float]:
    """(transfer start, promotion start or NaN) for a transfer reaching its channel at t_s.

    Queued behind the same channel: the radio is connected when the channel frees. During a
    promotion: wait for it. Connected or in the tail: go now. Idle: wait for the next beacon
    (downlink under power save; pass beacon_s = 0 for the uplink), then promote.
    """
    if t_s < channel_free_s:
        return channel_free_s, math.nan
    if t_s < promoting_until_s:
        return promoting_until_s, math.nan
    if t_s <= last_end_s + tail_s:
        return t_s, math.nan
    wake_s = t_s
    if beacon_s > 0:
        wake_s = math.ceil(t_s / beacon_s) * beacon_s
    return wake_s + promotion_s, wake_s


transfer_start_jit = numba.njit(cache=True, inline="always")(transfer_start)


@numba.njit(cache=True)
def _union(starts: np.ndarray, ends: np.ndarray, t0_s: float, t1_s: float,
           tail_s: float) -> tuple[float, float, float]:
    """Time within [t0, t1] that the union of the intervals (sorted by start) covers, that lies
    within tail_s after the end of a covered stretch, and the rest (idle)."""
    covered = 0.0
    tail = 0.0
    cur_s = -np.inf
    cur_e = -np.inf
    for i in range(len(starts) + 1):
        s = starts[i] if i < len(starts) else np.inf
        if i < len(starts) and s <= cur_e:
            cur_e = max(cur_e, ends[i])
            continue
        if cur_e > -np.inf:
            covered += max(0.0, min(cur_e, t1_s) - max(cur_s, t0_s))
            tail_end = min(s, cur_e + tail_s)
            tail += max(0.0, min(tail_end, t1_s) - max(cur_e, t0_s))
        if i < len(starts):
            cur_s = s
            cur_e = ends[i]
    idle = (t1_s - t0_s) - covered - tail
    return covered, tail, idle


@numba.njit(cache=True)
def clipped_sum_s(starts: np.ndarray, ends: np.ndarray, t0_s: float, t1_s: float) -> float:
    total = 0.0
    for i in range(len(starts)):
        total += max(0.0, min(ends[i], t1_s) - max(starts[i], t0_s))
    return total


def radio_energy_j(p: RadioParams, up: tuple[np.ndarray, np.ndarray],
                   down: tuple[np.ndarray, np.ndarray], promo: tuple[np.ndarray, np.ndarray],
                   t0_s: float, t1_s: float) -> dict[str, float]:
    """Energy of one client's radio over [t0, t1] from its transfer and promotion intervals,
    split into transfer, promotion, tail and idle (Huang et al.: alpha * rate + beta while
    transferring, beta once however many transfers overlap)."""
    transfers_s = np.concatenate([up[0], down[0]])
    transfers_e = np.concatenate([up[1], down[1]])
    order = np.argsort(transfers_s, kind="stable")
    on_s, _, _ = _union(transfers_s[order], transfers_e[order], t0_s, t1_s, 0.0)
    all_s = np.concatenate([transfers_s, promo[0]])
    all_e = np.concatenate([transfers_e, promo[1]])
    order = np.argsort(all_s, kind="stable")
    _, tail_time_s, idle_time_s = _union(all_s[order], all_e[order], t0_s, t1_s, p.tail_s)
    transfer_j = (p.uplink_w * clipped_sum_s(up[0], up[1], t0_s, t1_s)
                  + p.downlink_w * clipped_sum_s(down[0], down[1], t0_s, t1_s) + p.beta_w * on_s)
    return {"transfer_j": transfer_j,
            "promotion_j": p.promotion_w * clipped_sum_s(promo[0], promo[1], t0_s, t1_s),
            "tail_j": p.tail_w * tail_time_s,
            "idle_j": p.idle_w * idle_time_s}
