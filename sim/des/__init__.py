"""Discrete-event simulation of split inference under load: arrivals from one or many edge
devices, device FIFO, radio state machine, shared cloud GPUs with dynamic batching, energy per
component, replications with confidence intervals, and a numba fast path (Lindley's recursion)
for FIFO single-server configurations.

The names below are imported on first use (PEP 562), so that reading the settings
(`sim.des.settings`, as `sim validate` does) does not compile numba kernels or load simpy."""
from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "ENERGY_KEYS": "sim.des.analysis", "LATENCY_PARTS": "sim.des.analysis",
    "Estimate": "sim.des.analysis", "load_trace": "sim.des.arrival_trace",
    "CutResult": "sim.des.driver", "simulate": "sim.des.driver",
    "ArrivalSpec": "sim.des.settings", "CloudQueue": "sim.des.settings",
    "SimSettings": "sim.des.settings", "StageCosts": "sim.des.settings",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'sim.des' has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)
