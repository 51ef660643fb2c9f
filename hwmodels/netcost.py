"""Whole-network latency and energy of many networks at once, on a roofline device.

A `LayerTable` flattens the per-layer profiles of many networks into NumPy columns (network
index, op-type code, per-sample ops and bytes), so pricing 15,625 networks on a device is a few
vectorized passes instead of millions of Python calls. Every figure equals the sum of
a device target's per-layer `layer_cost` over the network's layers that run on it (all of them,
but for a folding converter's removals, `hwmodels.folding`; tested).
A layer's cost depends only on its op type, work and bytes, and networks from one search space
repeat a few dozen such layers millions of times (NAS-Bench-201: 34 distinct among 3.3 million):
so each distinct layer is priced once and a sparse matrix of how many of each every network
runs sums them (`LayerKinds`, built once per table). A calibration fit prices the same table
a few thousand times.
"""
from __future__ import annotations

import math
import operator
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd
from scipy import sparse

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

    def _converter_applies(self, device: DeviceModel) -> bool:
        return device.folds_constants and self.converter_removed is not None

    def executed_on(self, device: DeviceModel) -> LayerTable:
        """The layers that run as kernels on `device`: all of them, except the ones a folding
        converter removes where the device's toolchain is one (`folds_constants`)."""
        if not self._converter_applies(device):
            return self
        rows = np.flatnonzero(~self.converter_removed)
        return self._rows(rows, self.network[rows], self.n_networks)

    @cached_property
    def kinds(self) -> LayerKinds:
        """The table's distinct layers and how many of each every network runs."""
        return LayerKinds.of(self)

    def kind_counts(self, device: DeviceModel) -> sparse.csr_matrix:
        """(networks x kinds) counts of the layers that run on `device` (as executed_on)."""
        return self.kinds.executed if self._converter_applies(device) else self.kinds.all

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


@dataclass(frozen=True)
class LayerKinds:
    """The distinct layers of a table (op type, per-sample ops, activation and weight bytes),
    as a table with one network per distinct layer, and per network how many of each it has
    (`all`) and how many run under a folding converter (`executed`): sparse (networks x kinds)."""
    layers: LayerTable
    all: sparse.csr_matrix
    executed: sparse.csr_matrix

    @classmethod
    def of(cls, table: LayerTable) -> LayerKinds:
        # One integer key per row, re-factorized after each column so it never overflows.
        kind = np.zeros(len(table.network), dtype=np.int64)
        for column in (table.op_code, table.ops, table.act_bytes, table.param_bytes):
            codes, uniques = pd.factorize(column)
            kind, _ = pd.factorize(kind * len(uniques) + codes)
        n_kinds = int(kind.max()) + 1 if len(kind) else 0
        first = np.zeros(n_kinds, dtype=np.int64)
        first[kind[::-1]] = np.arange(len(kind))[::-1]      # a row of each kind
        layers = LayerTable(table.op_types, np.arange(n_kinds), table.op_code[first],
                            table.ops[first], table.act_bytes[first], table.param_bytes[first],
                            table.macs[first], n_kinds)

        def counts(rows: np.ndarray) -> sparse.csr_matrix:
            return sparse.csr_matrix((np.ones(len(rows)), (table.network[rows], kind[rows])),
                                     shape=(table.n_networks, n_kinds))

        every = counts(np.arange(len(kind)))
        if table.converter_removed is None:
            return cls(layers, every, every)
        return cls(layers, every, counts(np.flatnonzero(~table.converter_removed)))


def _per_op(table: LayerTable, fn) -> np.ndarray:
    """fn(op_type) -> value, broadcast to every layer through the op codes."""
    return np.array([fn(op) for op in table.op_types], dtype=float)[table.op_code]


def layer_latencies_s(device: DeviceModel, table: LayerTable, batch_size: int,
                      dtype: str) -> np.ndarray:
    """Roofline latency of every layer for a batch (as hwmodels.device.layer_latency_s)."""
    ops = batch_size * table.ops
    eff = np.empty_like(ops)
    for code, op in enumerate(table.op_types):
        m = table.op_code == code
        eff[m] = device.op_efficiencies(op, ops[m])
    compute_s = ops / (device.peak_flops(dtype) * eff)
    memory_s = (batch_size * table.act_bytes + table.param_bytes) / device.achieved_bandwidth_bps
    overhead_s = _per_op(table, device.kernel_overhead_us) * 1e-6
    kernel = _per_op(table, lambda op: op not in NO_KERNEL_OPS)
    return kernel * np.maximum(compute_s, memory_s) + overhead_s


def layer_powers_w(device: DeviceModel, table: LayerTable, batch_size: int) -> np.ndarray:
    ops = batch_size * table.ops
    power = np.full_like(ops, device.active_power_w)
    for code, op in enumerate(table.op_types):
        fit = device.power_fit.get(op, device.power_fit.get("default"))
        if fit is not None:
            m = table.op_code == code
            power[m] = fit.many(ops[m])
    return power


def network_costs(device: DeviceModel, table: LayerTable, batch_size=1,
                  dtype: str = "float32") -> tuple[np.ndarray, np.ndarray]:
    """(latency_s, energy_j) of every network for one batch of `batch_size` samples (one
    integer, or one per network), over the layers that run on `device`
    (LayerTable.executed_on)."""
    kinds, counts = table.kinds, table.kind_counts(device)
    batches = np.broadcast_to(np.asarray(batch_size, dtype=np.int64), (table.n_networks,))
    latency_s, energy_j = np.zeros(table.n_networks), np.zeros(table.n_networks)
    for batch in np.unique(batches):
        lat = layer_latencies_s(device, kinds.layers, int(batch), dtype)
        energy = lat * layer_powers_w(device, kinds.layers, int(batch))
        rows = batches == batch
        latency_s[rows] = (counts @ lat)[rows]
        energy_j[rows] = (counts @ energy)[rows]
    return latency_s, energy_j
