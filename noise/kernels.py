"""Numba kernels that draw Shredder's noise on the edge: sample, re-order, apply `n1 * a + n2`.

Why they look like this (measured on the 2-core development machine; `benchmarks/
bench_noise_kernel.py` compares them with the NumPy reference):
- A counter-based generator (splitmix64's finalizer applied to key + index * golden ratio) has
  no loop-carried state, so loops vectorize and split over cores, and any element can be redrawn
  from (key, index) alone.
- numba on this machine has no SVML, so `np.log` is a scalar libm call; a float32 polynomial log
  built on bit casts vectorizes.
- `exact` needs the whole sorted sample: the Laplace sample is split by a Binomial(n, 1/2) count
  into an upper and a lower exponential part, and sorted exponentials come in O(n) from Renyi's
  representation (a prefix sum of E_j / (N - j + 1)), so no sort and no inverse CDF are needed;
  one gather per tensor then places the sample in the saved rank order.
- `quantized` stores each element's rank bucket (b bits) and draws its value from that bucket's
  quantile range with the inverse CDF: one fused, vectorizable pass, no sort, no random writes.

Rank convention (paper, "Extracting Distributions"): `order` lists the flattened indices sorted by
learned value, descending; `rank = argsort(order)`; rank 0 gets the largest sample.
"""
from __future__ import annotations

import os

import numba
import numpy as np
from llvmlite import ir
from numba import njit, prange
from numba.core import types
from numba.extending import intrinsic

# numba's OpenMP layer leaves its worker threads spinning after each parallel kernel; on a
# 2-core machine they took the core that torch was training on (the privacy step's inverse
# network trained 3-4x slower after one kernel call). The workqueue layer parks its workers
# and runs these kernels as fast (benchmarks/bench_noise_kernel.py). A user's
# NUMBA_THREADING_LAYER still wins; the layer is chosen at the first parallel launch.
if "NUMBA_THREADING_LAYER" not in os.environ:
    numba.config.THREADING_LAYER = "workqueue"

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_LN2 = np.float32(0.6931471805599453)
_SQRT2 = np.float32(1.4142135623730951)
_TWO_M24 = np.float32(2.0 ** -24)
_TWO_M23 = np.float32(2.0 ** -23)
BLOCK = 16384  # exact mode's destination block (64 KiB of float32): two tensors' slices fit L2
_NCHUNKS = 64   # exact mode's prefix-sum chunks: enough to balance two cores, few to rescan


@intrinsic
def _f32_bits(typingctx, x):
    sig = types.int32(types.float32)

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.IntType(32))
    return sig, codegen


@intrinsic
def _bits_f32(typingctx, x):
    sig = types.float32(types.int32)

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.FloatType())
    return sig, codegen


@njit(inline="always")
def mix64(z):
    """splitmix64's output finalizer (a bijection on 64 bits with full avalanche)."""
    z = (z ^ (z >> np.uint64(30))) * _M1
    z = (z ^ (z >> np.uint64(27))) * _M2
    return z ^ (z >> np.uint64(31))


@njit(inline="always")
def counter_hash(key, i):
    return mix64(key + np.uint64(i) * _GOLDEN)


@njit(inline="always", fastmath=True)
def logf(x):
    """Natural log of a positive normal float32, |error| < 2e-7 relative, vectorizable."""
    bits = _f32_bits(x)
    e = np.int32((bits >> np.int32(23)) & np.int32(0xFF)) - np.int32(127)
    m = _bits_f32((bits & np.int32(0x007FFFFF)) | np.int32(0x3F800000))   # m in [1, 2)
    big = m > _SQRT2
    m = m * np.float32(0.5) if big else m                                   # m in [0.707, 1.414)
    e = e + np.int32(1) if big else e
    t = (m - np.float32(1.0)) / (m + np.float32(1.0))                       # |t| <= 0.1716
    t2 = t * t
    # log(m) = 2 atanh(t) = 2 (t + t^3/3 + t^5/5 + ...); the t^11 term is below 1e-9
    p = t * (np.float32(2.0) + t2 * (np.float32(2.0 / 3.0) + t2 * (np.float32(0.4)
             + t2 * (np.float32(2.0 / 7.0) + t2 * np.float32(2.0 / 9.0)))))
    return np.float32(e) * _LN2 + p


@njit(inline="always")
def _u24(bits):
    """Uniform on (0, 1] from the low 24 bits: (k + 1) 2^-24, exact in float32."""
    # through int32: uint64 -> float32 has no vector instruction on AVX2, int32 -> float32 has
    return np.float32(np.int32(bits & np.uint64(0xFFFFFF)) + np.int32(1)) * _TWO_M24


@njit(inline="always")
def _u23_open(bits):
    """Uniform on (0, 1) from the low 23 bits: (k + 1/2) 2^-23, exact in float32."""
    return (np.float32(np.int32(bits & np.uint64(0x7FFFFF))) + np.float32(0.5)) * _TWO_M23


# ---------------------------------------------------------------------------------- exact mode

@njit(parallel=True, fastmath=True, cache=True)
def _spacings(key, m1, m2, w1, w2, sums1, sums2):
    """w[p] = E_p / N_p (Renyi spacings) for both tensors; per-chunk sums in float64."""
    n = w1.size
    nch = sums1.size
    csz = (n + nch - 1) // nch
    for c in prange(nch):
        s1 = 0.0
        s2 = 0.0
        for p in range(c * csz, min(n, (c + 1) * csz)):
            h = counter_hash(key, p)
            e1 = -logf(_u24(h))
            e2 = -logf(_u24(h >> np.uint64(32)))
            # upper part (p < m): N = m - p; lower part: N = n - p (both count down to 1)
            d1 = np.float32(np.int32(m1 - p if p < m1 else n - p))
            d2 = np.float32(np.int32(m2 - p if p < m2 else n - p))
            v1 = e1 / d1
            v2 = e2 / d2
            w1[p] = v1
            w2[p] = v2
            s1 += v1
            s2 += v2
        sums1[c] = s1
        sums2[c] = s2


@njit(inline="always")
def _scan_offsets(w, sums, m):
    """Exclusive chunk offsets and S(m - 1), the upper part's total (the lower part restarts)."""
    nch = sums.size
    n = w.size
    csz = (n + nch - 1) // nch
    off = np.empty(nch)
    acc = 0.0
    for c in range(nch):
        off[c] = acc
        acc += sums[c]
    base = 0.0
    if m > 0:
        c = (m - 1) // csz
        base = off[c]
        for p in range(c * csz, m):
            base += w[p]
    return off, base


@njit(inline="always")
def _place(w, p, m, run, base, loc, scale, perm, buf):
    if p < m:
        buf[perm[m - 1 - p]] = np.float32(loc + scale * run)
    else:
        buf[perm[p]] = np.float32(loc - scale * (run - base))


@njit(parallel=True, fastmath=True, cache=True)
def _sorted_scatter(w1, off1, base1, m1, loc1, scale1, perm1, buf1,
                    w2, off2, base2, m2, loc2, scale2, perm2, buf2):
    """Prefix-sum the spacings into sorted values and write rank r's value to buf[perm[r]].

    Upper part (p < m): loc + scale X_(p+1), descending rank m - 1 - p; lower part:
    loc - scale Y_(p-m+1), rank p. `perm` groups ranks by the cache block of their destination,
    so these writes form a few hundred sequential streams instead of n random writes. Both
    tensors share the loop: two independent add chains hide each other's latency.
    """
    n = w1.size
    nch = off1.size
    csz = (n + nch - 1) // nch
    for c in prange(nch):
        run1 = off1[c]
        run2 = off2[c]
        for p in range(c * csz, min(n, (c + 1) * csz)):
            run1 += w1[p]
            run2 += w2[p]
            _place(w1, p, m1, run1, base1, loc1, scale1, perm1, buf1)
            _place(w2, p, m2, run2, base2, loc2, scale2, perm2, buf2)


@njit(parallel=True, fastmath=True, cache=True)
def _gather_apply(a, g1, g2, buf1, buf2, out):
    """out = a * n1 + n2; g[i] stays inside i's cache block of buf, so the reads hit cache."""
    for i in prange(a.size):
        out[i] = a[i] * buf1[g1[i]] + buf2[g2[i]]


@njit(parallel=True, cache=True)
def _gather_pair(g1, g2, buf1, buf2, n1, n2):
    for i in prange(g1.size):
        n1[i] = buf1[g1[i]]
        n2[i] = buf2[g2[i]]


@njit(cache=True)
def exact_item(a, perm1, g1, perm2, g2, key, m1, m2, loc1, scale1, loc2, scale2, out,
               w1, w2, buf1, buf2):
    """One activation (flat) through the exact-order sampler; w*, buf* are scratch of size n.

    perm/g come from `block_layout(order)`; m1, m2 ~ Binomial(n, 1/2) are the upper-part sizes.
    """
    _exact_buffers(perm1, perm2, key, m1, m2, loc1, scale1, loc2, scale2, w1, w2, buf1, buf2)
    _gather_apply(a, g1, g2, buf1, buf2, out)


@njit(cache=True)
def exact_pair(perm1, g1, perm2, g2, key, m1, m2, loc1, scale1, loc2, scale2, n1, n2,
               w1, w2, buf1, buf2):
    """The (n1, n2) that exact_item with the same arguments applies (for tests and `draw`)."""
    _exact_buffers(perm1, perm2, key, m1, m2, loc1, scale1, loc2, scale2, w1, w2, buf1, buf2)
    _gather_pair(g1, g2, buf1, buf2, n1, n2)


@njit(cache=True)
def _exact_buffers(perm1, perm2, key, m1, m2, loc1, scale1, loc2, scale2, w1, w2, buf1, buf2):
    sums1 = np.empty(_NCHUNKS)
    sums2 = np.empty(_NCHUNKS)
    _spacings(key, m1, m2, w1, w2, sums1, sums2)
    off1, base1 = _scan_offsets(w1, sums1, m1)
    off2, base2 = _scan_offsets(w2, sums2, m2)
    _sorted_scatter(w1, off1, base1, m1, loc1, scale1, perm1, buf1,
                    w2, off2, base2, m2, loc2, scale2, perm2, buf2)


def block_layout(order: np.ndarray, block: int = BLOCK) -> tuple[np.ndarray, np.ndarray]:
    """Split the permutation `rank -> element order[rank]` into two cache-friendly steps.

    perm[r]: where rank r's value goes in a buffer grouped by destination block (ranks kept
    increasing inside a block); g[i]: where element i finds its value, always inside i's block
    (block i // block starts at (i // block) * block because every block is full but the last).
    """
    n = order.size
    dest_block = order // block
    # stable sort of ranks by destination block: ranks stay increasing inside each block
    grouped = np.argsort(dest_block, kind="stable")
    perm = np.empty(n, np.int32)
    perm[grouped] = np.arange(n, dtype=np.int32)
    g = np.empty(n, np.int32)
    g[order] = perm
    return perm, g


@njit(cache=True)
def exact_sorted_sample(key, n, m, loc, scale):
    """A descending Laplace(loc, scale) sample of size n (m values above loc); for tests."""
    w1 = np.empty(n, np.float32)
    w2 = np.empty(n, np.float32)
    sums1 = np.empty(_NCHUNKS)
    sums2 = np.empty(_NCHUNKS)
    _spacings(key, m, m, w1, w2, sums1, sums2)
    off, base = _scan_offsets(w1, sums1, m)
    off2, base2 = _scan_offsets(w2, sums2, m)
    out = np.empty(n, np.float32)
    out2 = np.empty(n, np.float32)
    ident = np.arange(n)
    _sorted_scatter(w1, off, base, m, loc, scale, ident, out,
                    w2, off2, base2, m, loc, scale, ident, out2)
    return out


# ------------------------------------------------------------------------------ quantized mode

@njit(inline="always", fastmath=True)
def _bucket_laplace(q, u, nb, inv_nb, loc, scale):
    """Inverse CDF of Laplace inside descending-rank bucket q (bucket 0 holds the largest)."""
    p_hi = (q + u) * inv_nb                                  # upper-tail probability
    p_lo = ((nb - np.float32(1.0) - q) + (np.float32(1.0) - u)) * inv_nb
    upper = p_hi < p_lo
    tail = p_hi if upper else p_lo
    mag = -scale * logf(np.float32(2.0) * tail)              # >= 0: distance from loc
    return loc + mag if upper else loc - mag


@njit(parallel=True, fastmath=True, cache=True)
def quantized_item(a, q1, q2, key, nbuckets, loc1, scale1, loc2, scale2, out):
    """One activation (flat): element i's noise comes from its rank bucket's quantile range."""
    nb = np.float32(nbuckets)
    inv_nb = np.float32(1.0) / nb
    l1 = np.float32(loc1)
    s1 = np.float32(scale1)
    l2 = np.float32(loc2)
    s2 = np.float32(scale2)
    for i in prange(a.size):
        h = counter_hash(key, i)
        u1 = _u23_open(h)
        u2 = _u23_open(h >> np.uint64(32))
        x1 = _bucket_laplace(np.float32(q1[i]), u1, nb, inv_nb, l1, s1)
        x2 = _bucket_laplace(np.float32(q2[i]), u2, nb, inv_nb, l2, s2)
        out[i] = a[i] * x1 + x2


@njit(parallel=True, fastmath=True, cache=True)
def quantized_pair(q1, q2, key, nbuckets, loc1, scale1, loc2, scale2, n1, n2):
    """The (n1, n2) that quantized_item with the same arguments applies."""
    nb = np.float32(nbuckets)
    inv_nb = np.float32(1.0) / nb
    for i in prange(q1.size):
        h = counter_hash(key, i)
        n1[i] = _bucket_laplace(np.float32(q1[i]), _u23_open(h), nb, inv_nb,
                                np.float32(loc1), np.float32(scale1))
        n2[i] = _bucket_laplace(np.float32(q2[i]), _u23_open(h >> np.uint64(32)), nb, inv_nb,
                                np.float32(loc2), np.float32(scale2))


@njit(parallel=True, fastmath=True, cache=True)
def laplace_iid(key, n, loc, scale):
    """i.i.d. Laplace(loc, scale) float32 draws from the counter generator (untrained noise)."""
    out = np.empty(n, np.float32)
    l = np.float32(loc)
    s = np.float32(scale)
    for i in prange(n):
        h = counter_hash(key, i)
        mag = -s * logf(_u24(h))
        out[i] = l + mag if (h >> np.uint64(63)) == np.uint64(1) else l - mag
    return out
