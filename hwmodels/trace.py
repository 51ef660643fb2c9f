"""Time-varying link bandwidth from a CSV trace (piecewise constant between rows).

CSV columns: `time_s, uplink_mbps, downlink_mbps` (header required, times ascending from 0).
After the last row the trace repeats from the start, so a short trace covers a long run.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from core.schema import FieldError


@dataclass(frozen=True)
class BandwidthTrace:
    time_s: np.ndarray
    uplink_mbps: np.ndarray
    downlink_mbps: np.ndarray
    period_s: float

    def mbps_at(self, t_s: float, direction: str = "up") -> float:
        rates = self.uplink_mbps if direction == "up" else self.downlink_mbps
        i = int(np.searchsorted(self.time_s, t_s % self.period_s, side="right")) - 1
        return float(rates[max(i, 0)])

    def mean_mbps(self, direction: str = "up") -> float:
        """Time average of the rate over one period (what cost-only figures use)."""
        rates = self.uplink_mbps if direction == "up" else self.downlink_mbps
        spans_s = np.diff(np.append(self.time_s, self.period_s))
        return float(np.sum(rates * spans_s) / self.period_s)

    def transmit_s(self, payload_bytes: float, start_s: float, direction: str = "up") -> float:
        """Time to send `payload_bytes` starting at `start_s`, integrating the piecewise rate."""
        rates = self.uplink_mbps if direction == "up" else self.downlink_mbps
        bits_left = payload_bytes * 8.0
        t = float(start_s)
        n = len(self.time_s)
        for _ in range(100 * n + 10):                    # bounded: no infinite loop on bad data
            phase = t % self.period_s
            i = max(int(np.searchsorted(self.time_s, phase, side="right")) - 1, 0)
            seg_end = self.time_s[i + 1] if i + 1 < n else self.period_s
            span = seg_end - phase
            rate_bps = rates[i] * 1e6
            if rate_bps * span >= bits_left:
                return t + bits_left / rate_bps - start_s
            bits_left -= rate_bps * span
            t += span
        # Very long transfer: finish at the trace's mean rate.
        mean_bps = float(np.mean(rates)) * 1e6
        return t + bits_left / mean_bps - start_s


@lru_cache(maxsize=32)
def load_bandwidth_trace(path: str) -> BandwidthTrace:
    """Read and check a trace; any problem raises ValueError naming the file."""
    p = Path(path)
    try:
        with open(p, newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise FieldError("bandwidth_trace_csv", f'cannot read {path}: {exc}') from None
    need = ("time_s", "uplink_mbps", "downlink_mbps")
    if not rows or any(k not in rows[0] for k in need):
        raise FieldError("bandwidth_trace_csv", f'{path} must have columns {", ".join(need)} '
                         "and at least one row")
    try:
        cols = {k: np.array([float(r[k]) for r in rows]) for k in need}
    except (TypeError, ValueError) as exc:
        raise FieldError("bandwidth_trace_csv", f'{path}: not a number ({exc})') from None
    t = cols["time_s"]
    # NaN compares false both ways, so finiteness is checked first
    if not np.all(np.isfinite(t)) or t[0] != 0 or np.any(np.diff(t) <= 0):
        raise FieldError("bandwidth_trace_csv", f'{path}: time_s must start at 0 and increase')
    for k in ("uplink_mbps", "downlink_mbps"):
        if np.any(~np.isfinite(cols[k])) or np.any(cols[k] <= 0):
            raise FieldError("bandwidth_trace_csv", f'{path}: {k} must be > 0 in every row')
    step = float(np.median(np.diff(t))) if len(t) > 1 else 1.0
    return BandwidthTrace(t, cols["uplink_mbps"], cols["downlink_mbps"], float(t[-1] + step))
