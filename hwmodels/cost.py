"""Per-layer and per-transfer costs: the common currency of every compute target and link.

Any edge or cloud compute target (a roofline device, an accelerator model) is priced through
`ComputeTarget.layer_cost`, so the per-cut cost code does not care which kind it has.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol, Sequence

from hwmodels.device import DeviceModel, layer_latency_s, layer_ops
from partitioner.types import LayerProfile


@dataclass(frozen=True)
class LayerCost:
    latency_s: float
    energy_j: float


class ComputeTarget(Protocol):
    name: str
    active_power_w: float
    idle_power_w: float

    def layer_cost(self, layer: LayerProfile, batch_size: int, dtype: str) -> LayerCost: ...


class ModelPowers:
    """A target's name and powers are its hardware model's (devices and every accelerator
    backend)."""
    model: Any

    @property
    def name(self) -> str:
        return self.model.name

    @property
    def active_power_w(self) -> float:
        return self.model.active_power_w

    @property
    def idle_power_w(self) -> float:
        return self.model.idle_power_w


@dataclass(frozen=True)
class DeviceTarget(ModelPowers):
    """A roofline device as a compute target: energy = power x latency, the power being the
    active power or, once calibrated, the op type's fitted power at the layer's size."""
    device: DeviceModel

    @property
    def model(self) -> DeviceModel:
        return self.device

    def layer_cost(self, layer: LayerProfile, batch_size: int, dtype: str) -> LayerCost:
        latency_s = layer_latency_s(self.device, layer, batch_size, dtype)
        power_w = self.device.op_power_w(layer.op_type, batch_size * layer_ops(layer))
        return LayerCost(latency_s, latency_s * power_w)


def layer_costs(target: ComputeTarget, layers: Sequence[LayerProfile], batch_size: int,
                dtype: str) -> list[LayerCost]:
    # Accelerator models evaluate a whole network in one vectorized call.
    batched = getattr(target, "layer_costs", None)
    if batched is not None:
        return batched(layers, batch_size, dtype)
    return [target.layer_cost(layer, batch_size, dtype) for layer in layers]
