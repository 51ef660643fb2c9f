"""Pieces shared by the accelerator models: checks and streaming (non-MAC) layers."""
from __future__ import annotations

import numpy as np

from core.schema import FieldError
from hwmodels.accel.shapes import LayerArrays


def check_positive(obj, *names: str, where: str) -> None:
    for name in names:
        v = getattr(obj, name)
        if isinstance(v, bool) or not v > 0:
            raise FieldError(name, f'must be > 0, got {v!r} ({where})')


def check_non_negative(obj, *names: str, where: str) -> None:
    for name in names:
        v = getattr(obj, name)
        if isinstance(v, bool) or v < 0:
            raise FieldError(name, f'must be >= 0, got {v!r} ({where})')


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


# Output-row block sizes tried by `dram_words` (up to 224 rows; larger maps use their full height).
_ROW_BLOCKS = np.array([1, 2, 3, 4, 5, 6, 7, 8, 10, 12, 14, 16, 20, 24, 28, 32, 40, 48, 56, 64,
                        80, 96, 112, 128, 160, 192, 224], dtype=np.float64)


def dram_words(a: LayerArrays, batch_size: int, buffer_words: float,
               act_scale: float | np.ndarray = 1.0,
               wt_scale: float | np.ndarray = 1.0) -> np.ndarray:
    """Off-chip words of each MAC layer when an on-chip buffer of `buffer_words` tiles it.

    Why: a layer whose ifmap (the part its windows touch), weights and ofmap fit on chip moves
    each once (compulsory traffic); one that does not is tiled into output blocks of e rows x
    m filters whose partial sums stay on chip while inputs and weights stream past. Each
    block re-reads the weights it needs once per row block (ceil(E / e) times) and its input
    rows once per filter block (ceil(M / m) times, with the (R - stride) halo rows of each row
    block); m is what fits: floor(buffer / (N e F)) filters of psums. The cheapest e is kept,
    as a mapper would.
    Scales convert words to the buffer's word (bits / word bits) for narrow operands.
    """
    n = float(batch_size)
    act_scale = np.broadcast_to(np.asarray(act_scale, np.float64), a.E.shape)
    ifm = n * a.ifmap_read * act_scale
    ofm = n * a.M * a.E * a.F * act_scale
    wts = a.M * a.C * a.R * a.S * wt_scale
    fits = ifm + ofm + wts <= buffer_words
    e = np.minimum(_ROW_BLOCKS[None, :], a.E[:, None])
    stride = np.maximum(1.0, np.floor((a.H - a.R) / np.maximum(a.E - 1.0, 1.0)))[:, None]
    m = np.clip(np.floor(buffer_words / (n * e * (a.F * act_scale)[:, None])), 1.0, a.M[:, None])
    halo = np.minimum(((e - 1.0) * stride + a.R[:, None]) / (e * stride),
                      a.R[:, None] / stride)
    halo = np.maximum(halo, 1.0)
    tiled = (ofm[:, None] + ifm[:, None] * np.ceil(a.M[:, None] / m) * halo
             + wts[:, None] * np.ceil(a.E[:, None] / e)).min(axis=1)
    per_group = np.where(fits, ifm + ofm + wts, tiled)
    return np.where(a.is_mac, a.G * per_group, 0.0)
