"""Arrival traces: a CSV of request timestamps (seconds) with an optional client column, read
and checked once per file version (the `sim.arrival.trace_path` of a config)."""
from __future__ import annotations

import functools
import os

import numpy as np


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
