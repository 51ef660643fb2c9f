"""Shredder's online sampling + re-ordering at n = 3,211,264 (VGG-16 first block output):
exact and quantized numba kernels against a NumPy reference measured in the same run.

Reference, per tensor: rng.laplace, np.sort, scatter by the saved order; then n1 * a + n2.
Times are the minimum of several interleaved runs (the 2-core machine is shared; the minimum is
the least disturbed run of each). Ends with one JSON line.
"""
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from noise.collection import NoiseCollection  # noqa: E402
from noise.fit import element_order  # noqa: E402
from noise.sampler import NoiseSampler  # noqa: E402

SHAPE = (64, 224, 224)
N = int(np.prod(SHAPE))
REPEATS = 7


def main() -> None:
    rng = np.random.default_rng(0)
    order = np.stack([element_order(rng.laplace(size=N)), element_order(rng.laplace(size=N))])
    coll = NoiseCollection(model="vgg16", cut=2, shape=SHAPE, loc=np.array([[1.0, 0.0]]),
                           scale=np.array([[0.2, 1.5]]), order=order[None].astype(np.int32),
                           ks_stat=np.zeros((1, 2)), hist_sse=np.zeros((1, 2)),
                           heldout_accuracy=np.ones(1), inv_snr=np.ones(1))
    a = rng.random((1, *SHAPE), dtype=np.float32)
    flat = a.reshape(-1)

    def reference():
        noise = []
        for t in range(2):
            s = np.sort(rng.laplace(coll.loc[0, t], coll.scale[0, t], N).astype(np.float32))
            n = np.empty(N, np.float32)
            n[order[t]] = s[::-1]          # largest sample where the learned tensor was largest
            noise.append(n)
        return flat * noise[0] + noise[1]

    exact = NoiseSampler(coll, "exact")
    quant = NoiseSampler(coll, "quantized", 8)
    for s in (exact, quant):        # compile and prepare outside the timing
        s.apply(a, 0)
    times = {"reference": [], "exact": [], "quantized": []}
    for i in range(REPEATS):
        for name, fn in (("reference", reference), ("exact", lambda: exact.apply(a, i)),
                         ("quantized", lambda: quant.apply(a, i))):
            t0 = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t0)
    best = {k: min(v) for k, v in times.items()}
    for k, v in best.items():
        print(f"{k:>10}: {v * 1e3:8.2f} ms  ({v * 1e9 / N:6.2f} ns/element)")
    ex, qu = best["reference"] / best["exact"], best["reference"] / best["quantized"]
    print(f"exact speedup {ex:.1f}x (target 5x), quantized speedup {qu:.1f}x (target 20x)")
    print(json.dumps({"bench": "noise_kernel", "n": N, "exact_speedup": round(ex, 2),
                      "quantized_speedup": round(qu, 2),
                      "reference_ms": round(best["reference"] * 1e3, 2),
                      "exact_ms": round(best["exact"] * 1e3, 2),
                      "quantized_ms": round(best["quantized"] * 1e3, 2)}))


if __name__ == "__main__":
    main()
