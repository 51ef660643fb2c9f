"""Roofline model of a compute device (edge GPU/CPU or cloud server).

A layer takes max(compute time, memory time) plus a per-kernel overhead:
compute time = ops / (peak FLOP/s at the layer's precision x the op type's efficiency),
memory time = bytes moved (inputs, output, weights) / (memory bandwidth x memory efficiency).
The per-kernel overhead (launch, framework dispatch, library heuristics) is the same for every
kernel unless the op type has its own (`launch_overhead_by_op_us`: a cuDNN convolution or batch
norm costs the host more than an elementwise kernel); layout-only ops (views) launch no kernel.
At batch 1 on a desktop GPU that overhead, not arithmetic, is most of a small network's time.

The efficiency of an op type is either a constant (`efficiency`) or, once calibrated, a
Neurosurgeon-style regression in the layer's size (`efficiency_fit`: logarithmic or linear in
the layer's ops, clipped so it saturates). Energy is power x latency; power is the constant
active power or a per-op-type power regression (`power_fit`).

Power modes (nvpmodel) scale peak throughput with clock x online cores; a mode without its own
measured power derives it from CMOS scaling: static power ~ V x online cores, dynamic power
~ f x V^2 x online cores (both relative to the nominal mode).
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Literal

import numpy as np

from core.schema import FieldError
from partitioner.types import LayerProfile

# Ops that only relabel a tensor (a view, an identity, or picking an element of a tuple or a
# slice): no kernel runs, so they move no data and cost only their host call
# (`call_overhead_us`: a PyTorch eager module call or view op still runs on the host, which a
# batch-1 GPU waits for; 0 where a compiler or converter deploys the network). A transpose or
# permute is priced as the one copy its consumer makes (the `contiguous`, `reshape` or `flatten`
# after it is then free).
NO_KERNEL_OPS = frozenset({"flatten", "unflatten", "view", "reshape", "identity", "dropout",
                           "squeeze", "unsqueeze", "contiguous", "expand", "expand_as",
                           "getitem"})

# Multiply-accumulate op types a preset seldom names, and the one whose efficiency they take
# when it does not: attention and batched products are GEMMs, other convolutions convolutions
# (`default` is the elementwise loops' efficiency, 2.5-4x lower on the CPU presets).
EFFICIENCY_FALLBACK = {**dict.fromkeys(("multiheadattention", "scaled_dot_product_attention",
                                        "matmul", "bmm", "einsum", "baddbmm"), "linear"),
                       **dict.fromkeys(("conv1d", "conv3d", "convtranspose1d",
                                        "convtranspose2d"), "conv2d")}

PRECISION_OF_DTYPE = {"float32": "fp32", "float64": "fp32", "float16": "fp16",
                      "bfloat16": "fp16", "int8": "int8", "uint8": "int8"}


@dataclass(frozen=True)
class Regression:
    """y = intercept + slope * g(x), g = log10 (form "log") or identity in giga-units ("linear"),
    or y = intercept * (x / 1e9) ** slope (form "power": positive at every size), clipped to
    [lower, upper] (the clip is what makes efficiency saturate with layer size)."""
    form: Literal["log", "linear", "power"]
    intercept: float
    slope: float
    lower: float
    upper: float

    def __post_init__(self) -> None:
        if self.form not in ("log", "linear", "power"):
            raise FieldError("form", f'must be log, linear or power, got {self.form!r}')
        if self.form == "power" and not self.intercept > 0:
            raise FieldError("intercept", f'of a power form must be > 0, got {self.intercept}')
        if not self.lower <= self.upper:
            raise FieldError("lower", f'must be <= upper, got {self.lower} > {self.upper}')

    def __call__(self, x: float) -> float:
        return float(self.many(np.asarray(float(x))))

    def many(self, x: np.ndarray) -> np.ndarray:
        """The regression at every element of `x`."""
        if self.form == "power":
            y = self.intercept * (np.maximum(x, 1.0) / 1e9) ** self.slope
        else:
            g = np.log10(np.maximum(x, 1.0)) if self.form == "log" else x / 1e9
            y = self.intercept + self.slope * g
        return np.clip(y, self.lower, self.upper)


@dataclass(frozen=True)
class PowerMode:
    clock_mhz: float
    active_power_w: float | None = None      # measured/vendor; None: derived from V and f
    idle_power_w: float | None = None        # None: nominal idle x voltage ratio x cores
    cores_fraction: float = 1.0              # share of the cores online in this mode
    voltage_ratio: float = 1.0               # supply voltage relative to the nominal mode

    def __post_init__(self) -> None:
        if not 0 < self.cores_fraction <= 1:
            raise FieldError("cores_fraction", f'must be in (0, 1], got {self.cores_fraction}')
        if not 0 < self.voltage_ratio <= 1.5:
            raise FieldError("voltage_ratio", f'must be in (0, 1.5], got {self.voltage_ratio}')
        if not self.clock_mhz > 0:
            raise FieldError("clock_mhz", f'must be > 0, got {self.clock_mhz}')
        if self.active_power_w is not None and not self.active_power_w > 0:
            raise FieldError("active_power_w", f'must be > 0, got {self.active_power_w}')
        if self.idle_power_w is not None and self.idle_power_w < 0:
            raise FieldError("idle_power_w", f'must be >= 0, got {self.idle_power_w}')


@dataclass(frozen=True)
class DeviceModel:
    name: str
    kind: Literal["gpu", "cpu"]
    clock_mhz: float                         # clock at which peak_gflops is quoted
    peak_gflops: dict[str, float]            # per precision: fp32, fp16, int8
    memory_bandwidth_gbps: float             # GB/s
    efficiency: dict[str, float]             # fraction of peak per op type; "default" required
    launch_overhead_us: float
    active_power_w: float                    # static + dynamic while computing
    idle_power_w: float                      # while waiting (e.g. for the network)
    static_power_w: float = 0.0              # share of active power that does not scale with f
    power_modes: dict[str, PowerMode] = field(default_factory=dict)
    power_mode: str | None = None            # the mode applied, None for the nominal figures
    efficiency_fit: dict[str, Regression] = field(default_factory=dict)   # op type -> eff(ops)
    power_fit: dict[str, Regression] = field(default_factory=dict)        # op type -> W(ops)
    calibration: dict[str, Any] | None = None    # residuals of a `sim calibrate` fit (record)
    launch_overhead_by_op_us: dict[str, float] = field(default_factory=dict)  # op type -> us
    memory_efficiency: float = 1.0           # share of peak bandwidth streaming kernels reach
    folds_constants: bool = False            # a folding converter (hwmodels.folding) deploys it
    noise_host: str | None = None            # device preset whose cores run the noise kernel
    call_overhead_us: float = 0.0            # host time of an op that launches no kernel

    def __post_init__(self) -> None:
        where = f'(device "{self.name}")'
        if not self.peak_gflops or "fp32" not in self.peak_gflops:
            raise FieldError("peak_gflops", f'must give at least fp32 {where}')
        for prec, v in self.peak_gflops.items():
            if not v > 0:
                raise FieldError("peak_gflops", f'{prec} must be > 0, got {v} {where}')
        if "default" not in self.efficiency:
            raise FieldError("efficiency", f'must have a "default" entry {where}')
        for op, v in self.efficiency.items():
            if not 0 < v <= 1:
                raise FieldError("efficiency", f'{op} must be in (0, 1], got {v} {where}')
        for op, reg in self.efficiency_fit.items():
            if not 0 < reg.lower <= reg.upper <= 1:
                raise FieldError("efficiency_fit", f'{op} must clip within (0, 1], got '
                                 f"[{reg.lower}, {reg.upper}] {where}")
        for name in ("clock_mhz", "memory_bandwidth_gbps", "active_power_w"):
            if not getattr(self, name) > 0:
                raise FieldError(name, f'must be > 0, got {getattr(self, name)} {where}')
        for op, v in self.launch_overhead_by_op_us.items():
            if not v >= 0:
                raise FieldError("launch_overhead_by_op_us", f'{op} must be >= 0, got {v} {where}')
        if not 0 < self.memory_efficiency <= 1:
            raise FieldError("memory_efficiency", f'must be in (0, 1], got '
                             f"{self.memory_efficiency} {where}")
        for name in ("launch_overhead_us", "call_overhead_us", "idle_power_w",
                     "static_power_w"):
            if getattr(self, name) < 0:
                raise FieldError(name, f'must be >= 0, got {getattr(self, name)} {where}')
        if self.static_power_w > self.active_power_w:
            raise FieldError("static_power_w", f'must be <= active_power_w {where}')

    def mode_power_w(self, mode: str) -> tuple[float, float]:
        """(active, idle) power of a mode: its own figures, else CMOS V/f scaling."""
        pm = self.power_modes[mode]
        v, cores = pm.voltage_ratio, pm.cores_fraction
        f = pm.clock_mhz / self.clock_mhz
        dynamic_w = self.active_power_w - self.static_power_w
        active = pm.active_power_w
        if active is None:
            active = self.static_power_w * v * cores + dynamic_w * f * v * v * cores
        idle = pm.idle_power_w if pm.idle_power_w is not None else self.idle_power_w * v * cores
        return active, idle

    def with_power_mode(self, mode: str | None) -> "DeviceModel":
        """The device at an nvpmodel-style power mode: peak scales with clock x online cores."""
        if mode is None:
            return self
        if mode not in self.power_modes:
            known = ", ".join(sorted(self.power_modes)) or "none"
            raise FieldError("power_mode", f'{mode!r} unknown for device "{self.name}"; '
                             f"known: {known}")
        pm = self.power_modes[mode]
        scale = pm.clock_mhz / self.clock_mhz * pm.cores_fraction
        active, idle = self.mode_power_w(mode)
        static = min(self.static_power_w * pm.voltage_ratio * pm.cores_fraction, active)
        # Fitted power regressions were measured at the nominal mode: scale them alike.
        p_scale = active / self.active_power_w
        power_fit = {op: replace(r, intercept=r.intercept * p_scale, slope=r.slope * p_scale,
                                 lower=r.lower * p_scale, upper=r.upper * p_scale)
                     for op, r in self.power_fit.items()}
        return replace(self, clock_mhz=pm.clock_mhz,
                       peak_gflops={k: v * scale for k, v in self.peak_gflops.items()},
                       active_power_w=active, idle_power_w=idle, static_power_w=static,
                       power_fit=power_fit, power_mode=mode)

    def peak_flops(self, dtype: str) -> float:
        prec = PRECISION_OF_DTYPE.get(dtype, "fp32")
        # A precision the device lacks runs at the nearest wider one it has.
        for p in {"int8": ("int8", "fp16", "fp32"), "fp16": ("fp16", "fp32")}.get(prec, (prec,)):
            if p in self.peak_gflops:
                return self.peak_gflops[p] * 1e9
        return self.peak_gflops["fp32"] * 1e9

    def _efficiency_of(self, op_type: str) -> tuple[Regression | None, float]:
        """The fit or the figure that prices `op_type`: its own, else its EFFICIENCY_FALLBACK's,
        else `default`."""
        for key in (op_type, EFFICIENCY_FALLBACK.get(op_type)):
            if key is not None and (key in self.efficiency_fit or key in self.efficiency):
                return self.efficiency_fit.get(key), self.efficiency.get(key, 0.0)
        return None, self.efficiency["default"]

    def op_efficiencies(self, op_type: str, ops: np.ndarray) -> np.ndarray:
        """Fraction of peak an op type reaches on layers of `ops` operations each."""
        fit, value = self._efficiency_of(op_type)
        ops = np.asarray(ops, dtype=float)
        return fit.many(ops) if fit is not None else np.full(ops.shape, value)

    def op_efficiency(self, op_type: str, ops: float) -> float:
        """Fraction of peak an op type reaches on a layer of `ops` operations (the scalar
        path: per-layer costs call it for every layer)."""
        fit, value = self._efficiency_of(op_type)
        return fit(ops) if fit is not None else value

    def kernel_overhead_us(self, op_type: str) -> float:
        """Host and launch time per call of `op_type`, beside its roofline time."""
        if op_type in NO_KERNEL_OPS:
            return self.call_overhead_us
        return self.launch_overhead_by_op_us.get(op_type, self.launch_overhead_us)

    @property
    def achieved_bandwidth_bps(self) -> float:
        return self.memory_bandwidth_gbps * 1e9 * self.memory_efficiency

    def op_power_w(self, op_type: str, ops: float) -> float:
        fit = self.power_fit.get(op_type, self.power_fit.get("default"))
        return fit(ops) if fit is not None else self.active_power_w


def layer_ops(layer: LayerProfile) -> float:
    """Arithmetic work of one layer for one sample: 2 x MACs, else one op per output element."""
    return float(layer.flops) if layer.macs else float(layer.output_elements)


def roofline_latency_s(device: DeviceModel, op_type: str, ops: float, moved_bytes: float,
                       dtype: str) -> float:
    """Latency of `ops` operations moving `moved_bytes` (the whole batch), launch included."""
    if op_type in NO_KERNEL_OPS:
        return device.kernel_overhead_us(op_type) * 1e-6     # its host call, no data moved
    eff = device.op_efficiency(op_type, ops)
    compute_s = ops / (device.peak_flops(dtype) * eff)
    memory_s = moved_bytes / device.achieved_bandwidth_bps
    return max(compute_s, memory_s) + device.kernel_overhead_us(op_type) * 1e-6


def layer_latency_s(device: DeviceModel, layer: LayerProfile, batch_size: int,
                    dtype: str) -> float:
    """Roofline latency of one layer for a batch (weights are read once per batch)."""
    moved = batch_size * (layer.input_bytes + layer.output_bytes) + layer.param_bytes
    return roofline_latency_s(device, layer.op_type, batch_size * layer_ops(layer), moved, dtype)
