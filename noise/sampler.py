"""Online Shredder noise: per request pick a tuple, sample, re-order, apply `n1 * a + n2`."""
from __future__ import annotations

import logging
from typing import Literal

import numpy as np

from noise import kernels
from noise.collection import NoiseCollection
from noise.fit import quantize_ranks

log = logging.getLogger(__name__)

Mode = Literal["exact", "quantized"]


class NoiseSampler:
    """Prepares a collection's orders once for a mode, then applies noise to batches.

    exact: each tuple's order becomes a cache-blocked two-step permutation (kernels.block_layout);
    the sorted sample is i.i.d. Laplace, re-ordered.
    quantized: each order becomes per-element rank buckets of `bits` bits, and each element
    draws its value inside its bucket's quantile range. That is stratified sampling, not an
    i.i.d. sample: the values fill the quantiles more evenly than i.i.d. draws would (a smaller
    KS distance to the Laplace) and each position varies less from request to request (only
    within its bucket: with n < 2^bits, n values sit in n of the 2^bits buckets, one
    1/2^bits-wide quantile range each, against the ~1/n-wide spread of an exact order
    statistic; tests/test_noise_randomness.py states the ratio). Tuples are prepared the first
    time they are drawn.
    """

    def __init__(self, coll: NoiseCollection, mode: Mode = "exact", bits: int = 8) -> None:
        if mode not in ("exact", "quantized"):
            raise ValueError(f'"mode" must be exact or quantized, got {mode!r}')
        if not 1 <= bits <= 16:
            raise ValueError(f'"bits" must be between 1 and 16, got {bits!r}')
        self.coll, self.mode, self.bits = coll, mode, bits
        if mode == "quantized" and coll.elements < (1 << bits):
            log.warning("quantized order mode with %d-bit buckets on a tensor of %d elements "
                        "(< 2^%d): every element has a bucket of its own, 1/%d of the quantile "
                        "range wide, so the noise is nearly the same at each request; use exact "
                        "mode or fewer bits", bits, coll.elements, bits, 1 << bits)
        self._prepared: dict[int, tuple[np.ndarray, ...]] = {}

    def prepared(self, k: int) -> tuple[np.ndarray, ...]:
        if k not in self._prepared:
            o1, o2 = self.coll.order[k, 0], self.coll.order[k, 1]
            if self.mode == "exact":
                self._prepared[k] = (*kernels.block_layout(o1), *kernels.block_layout(o2))
            else:
                self._prepared[k] = (quantize_ranks(o1, self.bits), quantize_ranks(o2, self.bits))
        return self._prepared[k]

    def _draws(self, batch: int, seed: int, tuples: np.ndarray | None):
        """Per item: tuple index, generator key, count of samples above loc per tensor."""
        rng = np.random.default_rng(seed)
        picks = rng.integers(self.coll.size, size=batch) if tuples is None else np.asarray(tuples)
        keys = rng.integers(0, np.iinfo(np.int64).max, size=batch, dtype=np.int64).astype(np.uint64)
        ups = rng.binomial(self.coll.elements, 0.5, size=(batch, 2))
        return picks, keys, ups

    def _run(self, batch: int, seed: int, tuples, a=None, out=None, n1=None, n2=None) -> None:
        n = self.coll.elements
        picks, keys, ups = self._draws(batch, seed, tuples)
        scratch = [np.empty(n, np.float32) for _ in range(4)] if self.mode == "exact" else None
        loc, scale = self.coll.loc, self.coll.scale
        for b in range(batch):
            k = int(picks[b])
            params = (loc[k, 0], scale[k, 0], loc[k, 1], scale[k, 1])
            if self.mode == "exact":
                perm1, g1, perm2, g2 = self.prepared(k)
                head = (perm1, g1, perm2, g2, keys[b], int(ups[b, 0]), int(ups[b, 1]), *params)
                if a is not None:
                    kernels.exact_item(a[b], *head, out[b], *scratch)
                else:
                    kernels.exact_pair(*head, n1[b], n2[b], *scratch)
            else:
                q1, q2 = self.prepared(k)
                if a is not None:
                    kernels.quantized_item(a[b], q1, q2, keys[b], 1 << self.bits, *params, out[b])
                else:
                    kernels.quantized_pair(q1, q2, keys[b], 1 << self.bits, *params, n1[b], n2[b])

    def apply(self, activation: np.ndarray, seed: int,
              tuples: np.ndarray | None = None) -> np.ndarray:
        """Noisy copy of a batch-first float32 activation; `tuples` forces the tuple per item."""
        a = np.ascontiguousarray(activation, dtype=np.float32)
        if a.shape[1:] != tuple(self.coll.shape):
            raise ValueError(f"activation has shape {list(a.shape[1:])} per item, "
                             f"the collection's noise has {list(self.coll.shape)}")
        batch, n = a.shape[0], self.coll.elements
        out = np.empty_like(a)
        self._run(batch, seed, tuples, a=a.reshape(batch, n), out=out.reshape(batch, n))
        return out

    def draw(self, batch: int, seed: int, tuples: np.ndarray | None = None
             ) -> tuple[np.ndarray, np.ndarray]:
        """The (n1, n2) pairs, shaped (batch, *shape), that `apply` with this seed uses."""
        n1 = np.empty((batch, self.coll.elements), np.float32)
        n2 = np.empty_like(n1)
        self._run(batch, seed, tuples, n1=n1, n2=n2)
        shape = (batch, *self.coll.shape)
        return n1.reshape(shape), n2.reshape(shape)
