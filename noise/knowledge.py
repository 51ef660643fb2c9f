"""What a collection-aware adversary knows about a method's noise (Kerckhoffs: everything but the
per-request draws), and the per-tuple view the budget check and the randomness figure need.

For a noise that is affine per tuple, a' = n1 * a + n2 with (n1, n2) drawn from tuple k, the
adversary knows each tuple's expected tensors E[n1 | k] and E[n2 | k] and can noise any tensor
with a tuple of its choice (it holds the collection, as the edge does).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np

from noise.collection import NoiseCollection

# (activations, seed, tuple index per item) -> noisy activations
TupleNoiseFn = Callable[[np.ndarray, int, np.ndarray], np.ndarray]


@dataclass(frozen=True)
class NoiseKnowledge:
    mult: np.ndarray                 # (K, n) E[n1 | tuple k], flattened activation order
    add: np.ndarray                  # (K, n) E[n2 | tuple k]
    apply_tuples: TupleNoiseFn       # noise with each item's tuple forced, (N, *shape) arrays
    shape: tuple[int, ...]           # the activation's shape per item

    def __post_init__(self) -> None:
        if self.mult.shape != self.add.shape or self.mult.ndim != 2:
            raise ValueError(f"mult {self.mult.shape} and add {self.add.shape} must both be "
                             "(tuples, elements)")

    def noised_flat(self, a: np.ndarray, seed: int, tuples: np.ndarray) -> np.ndarray:
        """apply_tuples on flattened (N, n) activations, flattened back."""
        a = np.ascontiguousarray(a, np.float32).reshape(len(a), *self.shape)
        return np.asarray(self.apply_tuples(a, seed, tuples)).reshape(len(a), -1)

    @property
    def size(self) -> int:
        return int(self.mult.shape[0])

    @property
    def tuple_entropy_bits(self) -> float:
        """Entropy of the per-request tuple choice (uniform over the K tuples)."""
        return math.log2(self.size)


def expected_placed(order: np.ndarray, loc: float, scale: float) -> np.ndarray:
    """E[value at each position] of n sorted Laplace(loc, scale) samples placed by `order`
    (rank 0, the largest, at order[0]): the quantile at (n - r - 1/2) / n for rank r, the
    first-order approximation of the r-th largest order statistic's mean."""
    from scipy import stats     # imported when used: `sim validate` must start fast

    n = order.size
    p = (n - np.arange(n) - 0.5) / n
    out = np.empty(n, np.float64)
    out[order] = stats.laplace.ppf(p, loc, scale)
    return out


def collection_knowledge(coll: NoiseCollection, apply_tuples: TupleNoiseFn) -> NoiseKnowledge:
    mult = np.stack([expected_placed(coll.order[k, 0], coll.loc[k, 0], coll.scale[k, 0])
                     for k in range(coll.size)])
    add = np.stack([expected_placed(coll.order[k, 1], coll.loc[k, 1], coll.scale[k, 1])
                    for k in range(coll.size)])
    return NoiseKnowledge(mult, add, apply_tuples, tuple(coll.shape))
