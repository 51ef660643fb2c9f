"""Arrival processes of the clients, and trace files.

Each client draws from its own numpy Generator and produces an endless stream of increasing
arrival times in fixed-size chunks; fixed sizes keep a stream's numbers independent of how far
it is read, so a run depends only on the seed. `merged_arrivals` interleaves the streams and
keeps the first n arrivals over all clients.
"""
from __future__ import annotations

import functools
import os
from typing import TYPE_CHECKING, Callable, Iterator

import numpy as np

from core.registry import Registry

if TYPE_CHECKING:
    from sim.des.settings import ArrivalSpec

_CHUNK = 1024

StreamFactory = Callable[["ArrivalSpec", int, int, np.random.Generator], Iterator[np.ndarray]]
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


def load_trace(path: str | None) -> tuple[np.ndarray, np.ndarray | None]:
    """Read a CSV of arrival timestamps (seconds) with an optional client column.

    A first row that is not numeric is taken as a header. Raises ValueError naming the file and
    the row for anything a user must fix.
    """
    try:
        stat = os.stat(str(path))
    except OSError as exc:
        raise ValueError(f"cannot read trace file {path}: {exc.strerror}") from None
    return _load_trace_cached(str(path), stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=8)
def _load_trace_cached(path: str, mtime_ns: int, size: int) -> tuple[np.ndarray, np.ndarray | None]:
    try:
        with open(path, encoding="utf-8") as fh:
            lines = fh.read().splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"cannot read trace file {path}: {exc}") from None
    times: list[float] = []
    clients: list[int] = []
    width = None
    for row, line in enumerate(lines, start=1):
        cells = [c.strip() for c in line.split(",")]
        if cells == [""]:
            continue
        if not times and width is None and not _is_number(cells[0]):
            width = len(cells)          # header row
            continue
        if len(cells) not in (1, 2) or (times and len(cells) != width):
            raise ValueError(f"{path} row {row}: expected the same 1 or 2 columns "
                             f"(timestamp_s[,client]) on every row, got {line!r}")
        width = len(cells)
        if not _is_number(cells[0]):
            raise ValueError(f"{path} row {row}: timestamp {cells[0]!r} is not a number")
        t = float(cells[0])
        if not np.isfinite(t) or t < 0:
            raise ValueError(f"{path} row {row}: timestamp {cells[0]} must be finite and >= 0")
        if times and not t > times[-1]:
            raise ValueError(f"{path} row {row}: timestamp {cells[0]} is not greater than the "
                             f"previous one ({times[-1]!r}); timestamps must increase")
        times.append(t)
        if width == 2:
            if not cells[1].isdigit():
                raise ValueError(f"{path} row {row}: client {cells[1]!r} is not an integer >= 0")
            clients.append(int(cells[1]))
    if not times:
        raise ValueError(f"{path}: trace file has no timestamps")
    times_s = np.asarray(times, dtype=np.float64)
    times_s.flags.writeable = False
    who = np.asarray(clients, dtype=np.int64) if width == 2 else None
    if who is not None:
        who.flags.writeable = False
    return times_s, who


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
