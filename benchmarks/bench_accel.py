"""Time the analytic accelerator models on every VGG-16 layer (target, issue 15: <= 1 ms each).

    python benchmarks/bench_accel.py

Prints per-model times (median of repeats, one vectorized evaluation of all layers, and the
per-layer ComputeTarget path as the reference, with their ratio) and ends with one JSON line.
When `zigzag-dse` is importable, one
VGG-16 conv layer (conv3_1: 128 -> 256 channels, 56 x 56) is priced cold (cache bypassed) by the
ZigZag backend on ZigZag's eyeriss_like.yaml with the Eyeriss preset's row-stationary mapping,
and its time is printed beside the analytic all-layers time (`zigzag_one_layer_s`, else null).

    python benchmarks/bench_accel.py --zigzag-check

also prices every distinct conv layer of AlexNet, VGG-16 and ResNet-18 (batch 1) with both the
analytic Eyeriss-like model and the ZigZag backend (eyeriss_like.yaml, row-stationary mapping,
cache bypassed; ~30 s) and prints the per-layer energy ratio analytic / ZigZag (issue 15: within
2x), with `zigzag_energy_ratio_min`, `_max` and `zigzag_layers_outside_2x` in the JSON line.
"""
from __future__ import annotations

import json
import logging
import statistics
import sys
import time
from pathlib import Path

import numpy as np

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


def _zigzag_check() -> dict:
    """Per-layer energy of the analytic Eyeriss-like model against the ZigZag backend."""
    from hwmodels.accel import build_accelerator
    from hwmodels.accel.zigzag_backend import ZigZagTarget
    from partitioner.profile import profile_model
    zz = ZigZagTarget(build_accelerator("eyeriss", {"backend": "zigzag",
                                                    "zigzag_hardware_yaml": "eyeriss_like.yaml"}),
                      use_cache=False)
    analytic = build_accelerator("eyeriss")
    ratios, t0 = [], time.perf_counter()
    for net in ("alexnet", "vgg16", "resnet18"):
        convs = {la.conv: la for la in profile_model(net).layers if la.op_type == "conv2d"}
        r = analytic.evaluate(layer_arrays(list(convs.values())), 1)
        for i, (shape, layer) in enumerate(convs.items()):
            ref = zz.layer_cost(layer, 1, "float16")
            ratios.append(r.energy_j[i] / ref.energy_j)
            log.info("%-8s %-22s %4d->%-4d %3dx%-3d k%d s%d: analytic %.3f mJ, ZigZag %.3f mJ, "
                     "ratio %.2f", net, layer.name, shape.in_channels, shape.out_channels,
                     shape.out_h, shape.out_w, shape.kernel_h, shape.stride_h,
                     r.energy_j[i] * 1e3, ref.energy_j * 1e3, ratios[-1])
    ratios = np.array(ratios)
    outside = int(((ratios > 2) | (ratios < 0.5)).sum())
    log.info("%d distinct conv layers: energy ratio %.2f - %.2f, %d outside 2x (%.0f s)",
             len(ratios), ratios.min(), ratios.max(), outside, time.perf_counter() - t0)
    return {"zigzag_energy_ratio_min": round(float(ratios.min()), 3),
            "zigzag_energy_ratio_max": round(float(ratios.max()), 3),
            "zigzag_layers_outside_2x": outside, "zigzag_layers": len(ratios)}


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    zigzag_check = "--zigzag-check" in sys.argv[1:]
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
    if zigzag_check:
        out.update(_zigzag_check())
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
