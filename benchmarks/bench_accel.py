"""Time the analytic accelerator models on every VGG-16 layer (target: under 10 ms each).

    python benchmarks/bench_accel.py

Prints per-model times (median of repeats, one vectorized evaluation of all layers, and the
per-layer ComputeTarget path) and ends with one JSON line. ZigZag's per-layer time is printed
beside them when `zigzag-dse` is installed and its backend is wired (not yet: reported null).
"""
from __future__ import annotations

import json
import logging
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hwmodels.accel import accelerator_target, layer_arrays  # noqa: E402
from partitioner.graph import build_graph  # noqa: E402
from partitioner.zoo import build_model  # noqa: E402

log = logging.getLogger("bench_accel")


def _median_ms(fn, repeats: int = 20) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times)


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    layers = build_graph(build_model("vgg16"), "vgg16", (3, 224, 224)).layers
    out = {"bench": "accel", "layers": len(layers)}
    worst_ms = 0.0
    for name in ("eyeriss", "systolic", "bitfusion"):
        target = accelerator_target(name)
        vec_ms = _median_ms(lambda: target.model.evaluate(layer_arrays(layers), 1))
        loop_ms = _median_ms(lambda: [target.layer_cost(la, 1, "float32") for la in layers], 5)
        worst_ms = max(worst_ms, vec_ms)
        total = target.evaluate(layers, 1)
        log.info("%-9s all %d VGG-16 layers: %.3f ms vectorized, %.3f ms layer by layer; "
                 "model says %.2f ms, %.2f mJ per image", name, len(layers), vec_ms, loop_ms,
                 total.latency_s.sum() * 1e3, total.energy_j.sum() * 1e3)
        out[f"{name}_ms"] = round(vec_ms, 4)
        out[f"{name}_per_layer_path_ms"] = round(loop_ms, 4)
    out["vgg16_all_layers_ms"] = round(worst_ms, 4)
    out["zigzag_one_layer_s"] = None
    log.info("zigzag: backend not wired yet, no timing")
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
