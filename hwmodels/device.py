"""Roofline model of a compute device (edge GPU/CPU or cloud server).

A layer takes max(compute time, memory time) plus a kernel-launch overhead:
compute time = FLOPs / (peak FLOP/s at the layer's precision x the op type's efficiency),
memory time = bytes moved (inputs, output, weights) / memory bandwidth.
Energy is active power times that latency. Power modes scale peak throughput with the clock.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Literal

from partitioner.types import LayerProfile

# Op types whose work is counted in MACs; the rest are elementwise (one op per output element).
PRECISION_OF_DTYPE = {"float32": "fp32", "float64": "fp32", "float16": "fp16",
                      "bfloat16": "fp16", "int8": "int8", "uint8": "int8"}


@dataclass(frozen=True)
class PowerMode:
    clock_mhz: float
    active_power_w: float
    idle_power_w: float
    cores_fraction: float = 1.0              # share of the cores online in this mode

    def __post_init__(self) -> None:
        if not 0 < self.cores_fraction <= 1:
            raise ValueError(f'"cores_fraction" must be in (0, 1], got {self.cores_fraction}')
        for name in ("clock_mhz", "active_power_w"):
            if not getattr(self, name) > 0:
                raise ValueError(f'"{name}" must be > 0, got {getattr(self, name)}')
        if self.idle_power_w < 0:
            raise ValueError(f'"idle_power_w" must be >= 0, got {self.idle_power_w}')


@dataclass(frozen=True)
class DeviceModel:
    name: str
    kind: Literal["gpu", "cpu"]
    clock_mhz: float                         # clock at which peak_gflops is quoted
    peak_gflops: dict[str, float]            # per precision: fp32, fp16, int8
    memory_bandwidth_gbps: float             # GB/s
    efficiency: dict[str, float]             # fraction of peak per op type; "default" required
    launch_overhead_us: float
    active_power_w: float
    idle_power_w: float
    power_modes: dict[str, PowerMode] = field(default_factory=dict)
    power_mode: str | None = None            # the mode applied, None for the nominal figures

    def __post_init__(self) -> None:
        where = f'(device "{self.name}")'
        if not self.peak_gflops or "fp32" not in self.peak_gflops:
            raise ValueError(f'"peak_gflops" must give at least fp32 {where}')
        for prec, v in self.peak_gflops.items():
            if not v > 0:
                raise ValueError(f'"peak_gflops" {prec} must be > 0, got {v} {where}')
        if "default" not in self.efficiency:
            raise ValueError(f'"efficiency" must have a "default" entry {where}')
        for op, v in self.efficiency.items():
            if not 0 < v <= 1:
                raise ValueError(f'"efficiency" {op} must be in (0, 1], got {v} {where}')
        for name in ("clock_mhz", "memory_bandwidth_gbps", "active_power_w"):
            if not getattr(self, name) > 0:
                raise ValueError(f'"{name}" must be > 0, got {getattr(self, name)} {where}')
        for name in ("launch_overhead_us", "idle_power_w"):
            if getattr(self, name) < 0:
                raise ValueError(f'"{name}" must be >= 0, got {getattr(self, name)} {where}')

    def with_power_mode(self, mode: str | None) -> "DeviceModel":
        """The device at an nvpmodel-style power mode: peak scales with the clock ratio."""
        if mode is None:
            return self
        if mode not in self.power_modes:
            known = ", ".join(sorted(self.power_modes)) or "none"
            raise ValueError(f'"power_mode" {mode!r} unknown for device "{self.name}"; '
                             f"known: {known}")
        pm = self.power_modes[mode]
        scale = pm.clock_mhz / self.clock_mhz * pm.cores_fraction
        return replace(self, clock_mhz=pm.clock_mhz,
                       peak_gflops={k: v * scale for k, v in self.peak_gflops.items()},
                       active_power_w=pm.active_power_w, idle_power_w=pm.idle_power_w,
                       power_mode=mode)

    def peak_flops(self, dtype: str) -> float:
        prec = PRECISION_OF_DTYPE.get(dtype, "fp32")
        # A precision the device lacks runs at the nearest wider one it has.
        for p in {"int8": ("int8", "fp16", "fp32"), "fp16": ("fp16", "fp32")}.get(prec, (prec,)):
            if p in self.peak_gflops:
                return self.peak_gflops[p] * 1e9
        return self.peak_gflops["fp32"] * 1e9


def layer_ops(layer: LayerProfile) -> float:
    """Arithmetic work of one layer for one sample: 2 x MACs, else one op per output element."""
    return float(layer.flops) if layer.macs else float(layer.output_elements)


def layer_bytes(layer: LayerProfile) -> float:
    return float(layer.input_bytes + layer.output_bytes + layer.param_bytes)


def layer_latency_s(device: DeviceModel, layer: LayerProfile, batch_size: int,
                    dtype: str) -> float:
    """Roofline latency of one layer for a batch (weights are read once per batch)."""
    eff = device.efficiency.get(layer.op_type, device.efficiency["default"])
    compute_s = batch_size * layer_ops(layer) / (device.peak_flops(dtype) * eff)
    moved = batch_size * (layer.input_bytes + layer.output_bytes) + layer.param_bytes
    memory_s = moved / (device.memory_bandwidth_gbps * 1e9)
    return max(compute_s, memory_s) + device.launch_overhead_us * 1e-6


def elementwise_latency_s(device: DeviceModel, ops: float, bytes_moved: float) -> float:
    """Latency of a streaming kernel (e.g. noise generation) given its work and traffic."""
    compute_s = ops / (device.peak_flops("float32") * device.efficiency["default"])
    memory_s = bytes_moved / (device.memory_bandwidth_gbps * 1e9)
    return max(compute_s, memory_s) + device.launch_overhead_us * 1e-6
