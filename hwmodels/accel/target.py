"""Accelerator results and the ComputeTarget adapter that the per-cut cost code calls."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, Sequence

import numpy as np

from hwmodels.accel.shapes import LayerArrays, layer_arrays
from hwmodels.cost import LayerCost, ModelPowers
from partitioner.types import LayerProfile

if TYPE_CHECKING:                   # pandas only for tables: `sim validate` starts without it
    import pandas as pd

ACCESS_LEVELS = ("mac", "rf", "array", "gb", "dram")


@dataclass(frozen=True)
class AccelResult:
    """Per-layer figures of one accelerator on n layers (arrays of length n, whole batch)."""
    names: tuple[str, ...]
    cycles: np.ndarray
    latency_s: np.ndarray
    macs: np.ndarray
    accesses: dict[str, np.ndarray]       # level -> count (words), see ACCESS_LEVELS
    onchip_energy_j: np.ndarray
    dram_energy_j: np.ndarray
    utilization: np.ndarray               # useful MACs / (PEs x cycles)
    extra: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def energy_j(self) -> np.ndarray:
        return self.onchip_energy_j + self.dram_energy_j

    def table(self) -> pd.DataFrame:
        import pandas as pd

        cols: dict[str, Any] = {"layer": list(self.names), "macs": self.macs,
                                "cycles": self.cycles, "latency_ms": self.latency_s * 1e3,
                                "utilization": self.utilization}
        cols.update({f"{k}_accesses": v for k, v in self.accesses.items()})
        cols.update({"onchip_energy_mj": self.onchip_energy_j * 1e3,
                     "dram_energy_mj": self.dram_energy_j * 1e3,
                     "energy_mj": self.energy_j * 1e3})
        cols.update(self.extra)
        return pd.DataFrame(cols)


class AcceleratorModel(Protocol):
    name: str
    active_power_w: float
    idle_power_w: float

    def evaluate(self, arrays: LayerArrays, batch_size: int) -> AccelResult: ...

    def with_activation_dtype(self, dtype: str) -> "AcceleratorModel":
        """The model as it runs operands of this dtype (itself when its widths are fixed)."""
        ...


@dataclass(frozen=True)
class AcceleratorTarget(ModelPowers):
    """Any accelerator model as a ComputeTarget: one layer is a length-1 evaluation."""
    model: Any                                 # an AcceleratorModel

    def layer_cost(self, layer: LayerProfile, batch_size: int, dtype: str) -> LayerCost:
        r = self.model.with_activation_dtype(dtype).evaluate(layer_arrays([layer]), batch_size)
        return LayerCost(float(r.latency_s[0]), float(r.energy_j[0]))

    def layer_costs(self, layers: Sequence[LayerProfile], batch_size: int,
                    dtype: str) -> list[LayerCost]:
        """All layers in one vectorized evaluation (same numbers as layer_cost per layer)."""
        r = self.model.with_activation_dtype(dtype).evaluate(layer_arrays(layers), batch_size)
        return [LayerCost(float(t), float(e)) for t, e in zip(r.latency_s, r.energy_j)]

    def evaluate(self, layers: Sequence[LayerProfile], batch_size: int) -> AccelResult:
        return self.model.evaluate(layer_arrays(layers), batch_size)
