"""Discrete-event simulation of split inference under load: arrivals from one or many edge
devices, device FIFO, radio state machine, shared cloud GPUs with dynamic batching, energy per
component, replications with confidence intervals, and a numba fast path (Lindley's recursion)
for FIFO single-server configurations."""
from sim.des.analysis import ENERGY_KEYS, LATENCY_PARTS, Estimate
from sim.des.arrival_trace import load_trace
from sim.des.driver import CutResult, simulate
from sim.des.settings import ArrivalSpec, CloudQueue, SimSettings, StageCosts

__all__ = ["ArrivalSpec", "CloudQueue", "CutResult", "ENERGY_KEYS", "Estimate", "LATENCY_PARTS",
           "SimSettings", "StageCosts", "load_trace", "simulate"]
