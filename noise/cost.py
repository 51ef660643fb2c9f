"""Work of the online noise kernels per inference, for the edge cost model (pure functions).

Counts follow the kernels in `noise/kernels.py` per activation element, both tensors together
(flops are float operations the kernel issues, bytes the DRAM traffic its arrays imply):

exact: Renyi spacings (2 hashes' worth of integer mixing, 2 polynomial logs of ~14 flops each,
2 divisions, 2 adds), prefix sums (2 adds, 2 fmas), apply (1 fma); memory: write and re-read
the 2 spacing arrays (16 B), read 2 scatter indices and write 2 buffers (16 B), read 2 gather
indices, 2 buffers, a, write out (24 B).
quantized: one fused pass: 2 bucket inverse CDFs (~22 flops each) and 1 fma; memory: read
2 bucket arrays (1 or 2 B each), a (4 B), write out (4 B).
The ns-per-element figures were measured on the 2-core development machine (AMD EPYC Zen 3,
`benchmarks/bench_noise_kernel.py`, n = 3,211,264): a CPU edge can scale them by clock and
core count, an accelerator should use the flops and bytes with its roofline.

The kernel is CPU code, so it is priced on the cores that run it (`noise_host_target`): a
device preset names them in `noise_host` (the Jetson TX2 GPU: the module's ARM cores, the
jetson-tx2-cpu preset at the same power mode); a CPU edge runs it on its own cores; an
accelerator edge states its host the same way (`noise_host` on its model), else the kernel is
priced on the accelerator itself.
"""
from __future__ import annotations

from typing import Any

EXACT_FLOPS_PER_ELEMENT = 40
EXACT_BYTES_PER_ELEMENT = 56
QUANTIZED_FLOPS_PER_ELEMENT = 46
MEASURED_NS_PER_ELEMENT = {"exact": 10.0, "quantized": 2.0, "numpy_reference": 85.0}
MEASURED_ON = "AMD EPYC (Zen 3), 2 cores, numba 0.68, bench_noise_kernel.py"


def noise_work(elements: int, mode: str, bits: int = 8) -> tuple[int, int]:
    """(flops, bytes_moved) to draw, re-order and apply both noise tensors to one activation."""
    if elements < 0:
        raise ValueError(f'"elements" must be >= 0, got {elements}')
    if mode == "exact":
        return EXACT_FLOPS_PER_ELEMENT * elements, EXACT_BYTES_PER_ELEMENT * elements
    if mode == "quantized":
        bucket_bytes = 1 if bits <= 8 else 2
        return QUANTIZED_FLOPS_PER_ELEMENT * elements, (2 * bucket_bytes + 8) * elements
    raise ValueError(f'"mode" must be exact or quantized, got {mode!r}')


def collection_bytes(elements: int, tuples: int, mode: str, bits: int = 8) -> int:
    """Edge storage for the prepared collection (orders dominate; Laplace parameters are 32 B)."""
    per_tensor = 8 * elements if mode == "exact" else (1 if bits <= 8 else 2) * elements
    return tuples * (2 * per_tensor + 32)


CLOAK_FLOPS_PER_ELEMENT = 24      # one inverse-CDF sample (~22 flops) and one FMA
CLOAK_BYTES_PER_ELEMENT = 16      # read a, M, B (float32), write the noisy activation


def cloak_work(elements: int) -> tuple[int, int]:
    """(flops, bytes_moved) of Cloak's X = a + B * E + M (no re-ordering)."""
    if elements < 0:
        raise ValueError(f'"elements" must be >= 0, got {elements}')
    return CLOAK_FLOPS_PER_ELEMENT * elements, CLOAK_BYTES_PER_ELEMENT * elements


def noise_host_target(edge: Any) -> Any:
    """The compute target that runs the noise kernel for `edge` (itself unless its hardware
    model, a device or an accelerator, names a `noise_host` preset, which then runs at the
    edge's power mode; accelerators have none, so the host runs at its nominal figures)."""
    from core.errors import UserError
    from core.registry import UnknownNameError
    from hwmodels.cost import DeviceTarget
    from hwmodels.presets import device_preset

    model = getattr(edge, "model", None)
    host = getattr(model, "noise_host", None)
    if host is None:
        return edge
    try:
        device = device_preset(host)
    except UnknownNameError as exc:      # a typo in a preset or an override is the user's
        raise UserError(f'noise_host: {exc.args[0]} (named by "{model.name}")') from None
    return DeviceTarget(device.with_power_mode(getattr(model, "power_mode", None)))
