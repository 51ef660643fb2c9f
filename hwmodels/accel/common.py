"""Pieces shared by the accelerator models: checks and streaming (non-MAC) layers."""
from __future__ import annotations

import numpy as np

from hwmodels.accel.shapes import LayerArrays


def check_positive(obj, *names: str, where: str) -> None:
    for name in names:
        v = getattr(obj, name)
        if isinstance(v, bool) or not v > 0:
            raise ValueError(f'"{name}" must be > 0, got {v!r} ({where})')


def check_non_negative(obj, *names: str, where: str) -> None:
    for name in names:
        v = getattr(obj, name)
        if isinstance(v, bool) or v < 0:
            raise ValueError(f'"{name}" must be >= 0, got {v!r} ({where})')


def streaming_cost(a: LayerArrays, batch_size: int, lanes: float,
                   buffer_words_per_cycle: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(ops, buffer accesses, cycles) of non-MAC layers streamed through the on-chip buffer.

    Why: ReLU, pooling and additions run on the PEs (or a small vector unit) with operands in
    the global buffer; they read each input and write each output once, and do one operation per
    element (max over inputs for pooling), so they cost `max(ops / lanes, accesses / buffer
    bandwidth)` cycles. Views (flatten, dropout) cost nothing.
    """
    live = ~a.is_mac & ~a.is_free
    ops = np.where(live, batch_size * np.maximum(a.in_elems, a.out_elems), 0.0)
    accesses = np.where(live, batch_size * (a.in_elems + a.out_elems), 0.0)
    cycles = np.maximum(ops / lanes, accesses / buffer_words_per_cycle)
    return ops, accesses, cycles
