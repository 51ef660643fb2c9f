"""Arrival processes of the clients (trace files are read by `sim.des.arrival_trace`).

Each client draws from its own numpy Generator and produces an endless stream of increasing
arrival times in fixed-size chunks; fixed sizes keep a stream's numbers independent of how far
it is read, so a run depends only on the seed. `merged_arrivals` interleaves the streams and
keeps the first n arrivals over all clients.
"""
from __future__ import annotations

from typing import Callable, Iterator

import numpy as np

from core.registry import Registry
from sim.des.arrival_trace import load_trace
from sim.des.settings import ArrivalSpec

_CHUNK = 1024

StreamFactory = Callable[[ArrivalSpec, int, int, np.random.Generator], Iterator[np.ndarray]]
ARRIVAL_PROCESSES: Registry[StreamFactory] = Registry("arrival process")


@ARRIVAL_PROCESSES.register("poisson")
def _poisson(spec: ArrivalSpec, client: int, clients: int,
             rng: np.random.Generator) -> Iterator[np.ndarray]:
    last_s = 0.0
    while True:
        chunk = last_s + np.cumsum(rng.exponential(1.0 / spec.rate_hz, _CHUNK))
        last_s = float(chunk[-1])
        yield chunk


@ARRIVAL_PROCESSES.register("deterministic")
def _deterministic(spec: ArrivalSpec, client: int, clients: int,
                   rng: np.random.Generator) -> Iterator[np.ndarray]:
    # Clients are staggered evenly over one period so that they do not all fire at once.
    period_s = 1.0 / spec.rate_hz
    phase_s = client * period_s / clients
    k = 0
    while True:
        yield phase_s + np.arange(k, k + _CHUNK) * period_s
        k += _CHUNK


@ARRIVAL_PROCESSES.register("onoff")
def _onoff(spec: ArrivalSpec, client: int, clients: int,
           rng: np.random.Generator) -> Iterator[np.ndarray]:
    # Start in the stationary state; exponential periods are memoryless, so a fresh full
    # period is also the right residual one.
    on = rng.random() < spec.on_s / (spec.on_s + spec.off_s)
    start_s = 0.0
    pending: list[np.ndarray] = []
    count = 0
    while True:
        length_s = rng.exponential(spec.on_s if on else spec.off_s)
        if on:
            # Given their number, Poisson arrivals in a window are sorted uniform draws.
            n = rng.poisson(spec.rate_hz * length_s)
            pending.append(start_s + np.sort(rng.uniform(0.0, length_s, n)))
            count += n
            if count >= _CHUNK:
                yield np.concatenate(pending)
                pending, count = [], 0
        start_s += length_s
        on = not on


def merged_arrivals(spec: ArrivalSpec, clients: int, n: int,
                    rngs: list[np.random.Generator]) -> tuple[np.ndarray, np.ndarray]:
    """First n arrivals over all clients: (times_s ascending, client index of each)."""
    if spec.process == "trace":
        times_s, trace_clients = load_trace(spec.trace_path)
        who = trace_clients[:n] if trace_clients is not None else np.arange(n) % clients
        return times_s[:n].copy(), np.asarray(who, dtype=np.int64)
    factory = ARRIVAL_PROCESSES.get(spec.process)
    streams = [factory(spec, c, clients, rngs[c]) for c in range(clients)]
    chunks: list[list[np.ndarray]] = [[] for _ in range(clients)]
    horizon_s = 1.1 * n / (clients * spec.mean_rate_hz)
    while True:
        for c in range(clients):
            while not chunks[c] or chunks[c][-1][-1] < horizon_s:
                chunks[c].append(next(streams[c]))
        per_client = [np.concatenate(ch) for ch in chunks]
        if sum(int(np.searchsorted(t, horizon_s, side="right")) for t in per_client) >= n:
            break
        horizon_s *= 1.5
    times_s = np.concatenate(per_client)
    who = np.concatenate([np.full(len(t), c, dtype=np.int64) for c, t in enumerate(per_client)])
    order = np.lexsort((who, times_s))[:n]
    return times_s[order], who[order]
