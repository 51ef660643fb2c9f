"""Whole-network latency and energy of many networks at once, on a roofline device.

A `LayerTable` flattens the per-layer profiles of many networks into NumPy columns (network
index, op-type code, per-sample ops and bytes), so pricing 15,625 networks on a device is a few
vectorized passes instead of millions of Python calls. Every figure equals the sum of
a device target's per-layer `layer_cost` over the network's layers that run on it (all of them,
but for a folding converter's removals, `hwmodels.folding`; tested).
"""
from __future__ import annotations

import math
import operator
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from hwmodels.device import NO_KERNEL_OPS, DeviceModel
from partitioner.types import LayerProfile


@dataclass(frozen=True)
class LayerTable:
    """Per-sample layer figures of `n_networks` networks, concatenated."""
    op_types: tuple[str, ...]          # code -> op type name
    network: np.ndarray                # int, network index of each layer
    op_code: np.ndarray                # int, index into op_types
    ops: np.ndarray                    # per-sample arithmetic work (layer_ops)
    act_bytes: np.ndarray              # per-sample input + output bytes
    param_bytes: np.ndarray            # weights, read once per batch
    macs: np.ndarray                   # per-sample MACs
    n_networks: int
    # bool per layer: no kernel under a folding converter (hwmodels.folding.converter_removed)
    converter_removed: np.ndarray | None = None

    def __post_init__(self) -> None:
        n = len(self.network)
        for name in ("op_code", "ops", "act_bytes", "param_bytes", "macs", "converter_removed"):
            rows = getattr(self, name)
            if rows is not None and len(rows) != n:
                raise ValueError(f"LayerTable.{name} has {len(rows)} rows, network has {n}")

    @classmethod
    def from_layers(cls, networks: Sequence[Sequence[LayerProfile]],
                    converter_removed: Sequence[np.ndarray] | None = None) -> LayerTable:
        # One attribute fetch per layer and numpy for the rest: 15,625 NAS-Bench-201
        # networks are about 3 million layers.
        get = operator.attrgetter("op_type", "macs", "output_shape", "input_bytes",
                                  "output_bytes", "param_bytes")
        rows = [get(layer) for layers in networks for layer in layers]
        lengths = np.array([len(layers) for layers in networks], dtype=np.int64)
        op_col, macs, shapes, in_b, out_b, par_b = zip(*rows) if rows else [()] * 6
        codes: dict[str, int] = {}
        op_code = np.array([codes.setdefault(op, len(codes)) for op in op_col], dtype=np.int64)
        numel: dict[tuple, int] = {}
        elements = np.array([numel.get(s) or numel.setdefault(s, math.prod(s)) for s in shapes],
                            dtype=float)
        macs_arr = np.array(macs, dtype=float)
        # as hwmodels.device.layer_ops: 2 x MACs, else one op per output element
        ops = np.where(macs_arr > 0, 2.0 * macs_arr, elements)
        return cls(op_types=tuple(codes),
                   network=np.repeat(np.arange(len(lengths)), lengths), op_code=op_code,
                   ops=ops, act_bytes=np.array(in_b, dtype=float) + np.array(out_b, dtype=float),
                   param_bytes=np.array(par_b, dtype=float), macs=macs_arr,
                   n_networks=len(networks),
                   converter_removed=None if converter_removed is None
                   else np.concatenate([np.asarray(r, dtype=bool) for r in converter_removed]
                                       or [np.zeros(0, dtype=bool)]))

    def select(self, networks: Sequence[int]) -> LayerTable:
        """The table of networks[0], networks[1], ... (repeats allowed), in that order."""
        networks = np.asarray(networks, dtype=np.int64)
        if np.array_equal(networks, np.arange(self.n_networks)):
            return self
        starts = np.searchsorted(self.network, np.arange(self.n_networks + 1))
        counts = starts[networks + 1] - starts[networks]
        rows = np.concatenate([np.arange(starts[k], starts[k + 1]) for k in networks]
                              or [np.zeros(0, dtype=np.int64)])
        new_net = np.repeat(np.arange(len(networks)), counts)
        return self._rows(rows, new_net, len(networks))

    def _rows(self, rows: np.ndarray, network: np.ndarray, n_networks: int) -> LayerTable:
        removed = None if self.converter_removed is None else self.converter_removed[rows]
        return LayerTable(self.op_types, network, self.op_code[rows], self.ops[rows],
                          self.act_bytes[rows], self.param_bytes[rows], self.macs[rows],
                          n_networks, removed)

    def executed_on(self, device: DeviceModel) -> LayerTable:
        """The layers that run as kernels on `device`: all of them, except the ones a folding
        converter removes where the device's toolchain is one (`folds_constants`)."""
        if not device.folds_constants or self.converter_removed is None:
            return self
        rows = np.flatnonzero(~self.converter_removed)
        return self._rows(rows, self.network[rows], self.n_networks)

    def per_network(self, values: np.ndarray) -> np.ndarray:
        return np.bincount(self.network, weights=values, minlength=self.n_networks)

    def op_counts(self) -> np.ndarray:
        """Layers of each op type per network: shape (n_networks, len(op_types))."""
        flat = self.network * len(self.op_types) + self.op_code
        return np.bincount(flat, minlength=self.n_networks * len(self.op_types)).reshape(
            self.n_networks, len(self.op_types))

    def kernels(self) -> np.ndarray:
        """Kernels launched per network (layers that are not views)."""
        launch = np.array([op not in NO_KERNEL_OPS for op in self.op_types], dtype=float)
        return self.per_network(launch[self.op_code])

    def total_macs(self) -> np.ndarray:
        return self.per_network(self.macs)


def _per_op(table: LayerTable, fn) -> np.ndarray:
    """fn(op_type) -> value, broadcast to every layer through the op codes."""
    return np.array([fn(op) for op in table.op_types], dtype=float)[table.op_code]


def _layer_batch(table: LayerTable, batch_size) -> np.ndarray | int:
    """A batch size for every network (an array) or one for all, per layer."""
    b = np.asarray(batch_size)
    return b[table.network] if b.ndim else int(b)


def layer_latencies_s(device: DeviceModel, table: LayerTable, batch_size,
                      dtype: str) -> np.ndarray:
    """Roofline latency of every layer for a batch (as hwmodels.device.layer_latency_s);
    `batch_size` is one integer or one per network."""
    batch_size = _layer_batch(table, batch_size)
    ops = batch_size * table.ops
    eff = np.empty_like(ops)
    for code, op in enumerate(table.op_types):
        m = table.op_code == code
        fit = device.efficiency_fit.get(op)
        eff[m] = fit.many(ops[m]) if fit is not None else device.op_efficiency(op, 0.0)
    compute_s = ops / (device.peak_flops(dtype) * eff)
    memory_s = (batch_size * table.act_bytes + table.param_bytes) / device.achieved_bandwidth_bps
    overhead_s = _per_op(table, device.kernel_overhead_us) * 1e-6
    kernel = _per_op(table, lambda op: op not in NO_KERNEL_OPS)
    return kernel * (np.maximum(compute_s, memory_s) + overhead_s)


def layer_powers_w(device: DeviceModel, table: LayerTable, batch_size) -> np.ndarray:
    ops = _layer_batch(table, batch_size) * table.ops
    power = np.full_like(ops, device.active_power_w)
    for code, op in enumerate(table.op_types):
        fit = device.power_fit.get(op, device.power_fit.get("default"))
        if fit is not None:
            m = table.op_code == code
            power[m] = fit.many(ops[m])
    return power


def network_costs(device: DeviceModel, table: LayerTable, batch_size=1,
                  dtype: str = "float32") -> tuple[np.ndarray, np.ndarray]:
    """(latency_s, energy_j) of every network for one batch of `batch_size` samples, over
    the layers that run on `device` (LayerTable.executed_on)."""
    table = table.executed_on(device)
    lat = layer_latencies_s(device, table, batch_size, dtype)
    return table.per_network(lat), table.per_network(lat * layer_powers_w(device, table,
                                                                           batch_size))
