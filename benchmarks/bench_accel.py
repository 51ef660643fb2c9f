"""Time the analytic accelerator models on every VGG-16 layer (target, issue 15: <= 1 ms each).

    python benchmarks/bench_accel.py

Prints per-model times (median of repeats, one vectorized evaluation of all layers, and the
per-layer ComputeTarget path as the reference, with their ratio) and ends with one JSON line. When `zigzag-dse` is importable, one
VGG-16 conv layer (conv3_1: 128 -> 256 channels, 56 x 56) is priced cold (cache bypassed) by the
ZigZag backend on ZigZag's eyeriss_like.yaml with the Eyeriss preset's row-stationary mapping,
and its time is printed beside the analytic all-layers time (`zigzag_one_layer_s`, else null).
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


def _zigzag_one_layer_s(layers, analytic_ms: float) -> float | None:
    try:
        import zigzag.api  # noqa: F401
    except ImportError as exc:
        log.info("zigzag: not importable (%s), no timing", exc)
        return None
    from hwmodels.accel.zigzag_backend import ZigZagTarget
    from hwmodels.accel import build_accelerator
    convs = [la for la in layers if la.conv is not None and la.macs > 0]
    layer = next((la for la in convs if la.conv.in_channels == 128
                  and la.conv.out_channels == 256), convs[0])
    model = build_accelerator("eyeriss", {"backend": "zigzag",
                                          "zigzag_hardware_yaml": "eyeriss_like.yaml"})
    target = ZigZagTarget(model, use_cache=False)
    t0 = time.perf_counter()
    cost = target.layer_cost(layer, 1, "float32")
    seconds = time.perf_counter() - t0
    log.info("zigzag   one VGG-16 layer (%s, cold, %s mapping): %.2f s (%.2f ms, %.3f mJ) vs "
             "%.3f ms for all %d layers analytically", layer.name, target.mapping_yaml, seconds,
             cost.latency_s * 1e3, cost.energy_j * 1e3, analytic_ms, len(layers))
    return round(seconds, 3)


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
        log.info("%-9s all %d VGG-16 layers: %.3f ms vectorized, %.3f ms layer by layer "
                 "(%.1fx); model says %.2f ms, %.2f mJ per image", name, len(layers), vec_ms,
                 loop_ms, loop_ms / vec_ms, total.latency_s.sum() * 1e3,
                 total.energy_j.sum() * 1e3)
        out[f"{name}_ms"] = round(vec_ms, 4)
        out[f"{name}_per_layer_path_ms"] = round(loop_ms, 4)
    out["vgg16_all_layers_ms"] = round(worst_ms, 4)
    log.info("slowest model: %.3f ms for all VGG-16 layers (target <= 1 ms: %s)", worst_ms,
             "met" if worst_ms <= 1.0 else "NOT met")
    out["zigzag_one_layer_s"] = _zigzag_one_layer_s(layers, worst_ms)
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
