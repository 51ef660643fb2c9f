"""Per-layer and per-transfer costs: the common currency of every compute target and link.

Any edge or cloud compute target (a roofline device, an accelerator model) is priced through
`ComputeTarget.layer_cost`, so the per-cut cost code does not care which kind it has.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, Sequence

from hwmodels.device import DeviceModel, layer_latency_s
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


@dataclass(frozen=True)
class DeviceTarget:
    """A roofline device as a compute target: energy = active power x latency."""
    device: DeviceModel

    @property
    def name(self) -> str:
        return self.device.name

    @property
    def active_power_w(self) -> float:
        return self.device.active_power_w

    @property
    def idle_power_w(self) -> float:
        return self.device.idle_power_w

    def layer_cost(self, layer: LayerProfile, batch_size: int, dtype: str) -> LayerCost:
        latency_s = layer_latency_s(self.device, layer, batch_size, dtype)
        return LayerCost(latency_s, latency_s * self.device.active_power_w)


def layer_costs(target: ComputeTarget, layers: Sequence[LayerProfile], batch_size: int,
                dtype: str) -> list[LayerCost]:
    return [target.layer_cost(layer, batch_size, dtype) for layer in layers]
