"""Laplace maximum-likelihood fit of a learned noise tensor, its goodness of fit and its order."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class LaplaceFit:
    loc: float          # MLE location: the median
    scale: float        # MLE scale: mean absolute deviation from the median
    ks_stat: float      # Kolmogorov-Smirnov distance of the tensor to the fitted Laplace
    hist_sse: float     # ASPLOS's figure: SSE of the density histogram against the fitted pdf
    hist_sse_rel: float  # the same SSE over sum(pdf^2) at the bin centres: scale-free


MIN_SCALE = 1e-12   # a constant tensor has scale 0; keep the distribution proper


def fit_laplace(values: np.ndarray, bins: int = 50) -> LaplaceFit:
    from scipy import stats     # imported when used: `sim validate` must start fast

    v = np.asarray(values, dtype=np.float64).ravel()
    if v.size < 2:
        raise ValueError("a Laplace fit needs at least 2 values")
    loc = float(np.median(v))
    scale = max(float(np.mean(np.abs(v - loc))), MIN_SCALE)
    ks = float(stats.kstest(v, "laplace", args=(loc, scale)).statistic)
    density, edges = np.histogram(v, bins=bins, density=True)
    centres = 0.5 * (edges[:-1] + edges[1:])
    pdf = stats.laplace.pdf(centres, loc, scale)
    sse = float(np.sum((density - pdf) ** 2))
    return LaplaceFit(loc, scale, ks, sse, sse / max(float(np.sum(pdf ** 2)), MIN_SCALE))


def element_order(values: np.ndarray) -> np.ndarray:
    """Flattened indices sorted by value, descending (paper: [3.2, 4.8, 7.3, 1.5] -> [2, 1, 0, 3]).

    A stable sort of the negated values keeps ties in index order, so the order is reproducible.
    """
    v = np.asarray(values).ravel()
    return np.argsort(-v.astype(np.float64), kind="stable").astype(np.int32)


def ranks_from_order(order: np.ndarray) -> np.ndarray:
    """rank[i]: descending rank of element i (the inverse permutation of `order`)."""
    rank = np.empty(order.size, np.int32)
    rank[order] = np.arange(order.size, dtype=np.int32)
    return rank


def quantize_ranks(order: np.ndarray, bits: int) -> np.ndarray:
    """Rank bucket of each element, `bits` wide: bucket = rank * 2^bits // n (0 = largest)."""
    n = order.size
    rank = ranks_from_order(order).astype(np.int64)
    q = rank * (1 << bits) // n
    return q.astype(np.uint8 if bits <= 8 else np.uint16)
