"""Closed-form per-cut costs: latency and energy of one request at every valid cut.

Per layer, the edge and cloud targets give latency and energy; prefix sums turn them into
per-cut figures (edge runs layers 1..k, cloud runs k+1..L). An edge deployed by a folding
converter (TensorFlow Lite on presets with `folds_constants`) runs no kernel for the layers
the converter removes (`hwmodels.folding`), as `sim predict` prices whole networks. One
request is `batch_size` samples; requests are treated in isolation (no queueing, a radio that
starts idle and pays its promotion and full tail), which the discrete-event simulator refines.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from hwmodels.cost import ComputeTarget, layer_costs
from hwmodels.folding import converter_removed
from hwmodels.link import LinkModel
from partitioner.types import ModelGraph
from noise.cost import noise_host_target
from noise.methods import get_method
from noise.spec import NoiseSpec
from partitioner.types import DTYPE_BYTES, Cut, LayerProfile, dtype_bytes

@dataclass(frozen=True)
class NoiseCostModel:
    """Work of generating and applying noise to the sent activation on the edge, priced as a
    streaming pseudo-layer on the cores that run the kernel (`noise.cost.noise_host_target`),
    and what the edge stores to do it."""
    method: str                          # a name in noise.methods.METHODS
    order_mode: str = "exact"            # Shredder's re-ordering kernel: exact | quantized
    quantized_bits: int = 8
    collection_size: int = 100           # Shredder tuples kept on the edge

    @classmethod
    def from_spec(cls, spec: NoiseSpec) -> "NoiseCostModel":
        return cls(spec.method, spec.order_mode, spec.quantized_bits, spec.collection_size)

    def storage_bytes(self, cut: Cut, num_layers: int) -> int:
        """Bytes the edge keeps to noise the activation at `cut` (0 where no noise is added)."""
        if not self.applies(cut, num_layers):
            return 0
        return get_method(self.method).storage_bytes(cut.sent_elements, self)

    def applies(self, cut: Cut, num_layers: int) -> bool:
        return get_method(self.method).applies(cut.cut, num_layers)

    def work(self, elements: int) -> tuple[int, int]:
        return get_method(self.method).work(elements, self)

    def layer(self, cut: Cut, activation_dtype: str) -> LayerProfile:
        n = cut.sent_elements
        flops, moved = self.work(n)
        out_bytes = n * dtype_bytes(activation_dtype)
        return LayerProfile(
            index=0, name=f"noise@{cut.cut}", op_type="noise", input_shapes=(cut.sent_shape,),
            output_shape=cut.sent_shape, macs=flops // 2, params=0, param_bytes=0,
            input_bytes=max(moved - out_bytes, 0), output_bytes=out_bytes)


def sent_bytes(cut: Cut, noise: NoiseCostModel, num_layers: int, activation_dtype: str) -> int:
    """Bytes on the uplink for one sample: noise on the raw input makes it a float tensor."""
    if noise.applies(cut, num_layers) and cut.cut == 0:
        return cut.sent_elements * dtype_bytes(activation_dtype)
    return cut.sent_bytes


@dataclass(frozen=True)
class ComputeDtypes:
    """Arithmetic precision of the edge and of the cloud (`workload.compute_dtype` given as a
    mapping); None: the activation dtype, which then sets both the arithmetic and the payload."""
    edge: str | None = None
    cloud: str | None = None

    def __post_init__(self) -> None:
        for side in ("edge", "cloud"):
            value = getattr(self, side)
            if value is not None and value not in DTYPE_BYTES:
                raise ValueError(f'"{side}" {value!r} unknown; known: {", ".join(DTYPE_BYTES)}')

    @classmethod
    def of(cls, value: "str | ComputeDtypes | None") -> "ComputeDtypes":
        if isinstance(value, ComputeDtypes):
            return value
        return cls(value, value)


def layers_at_dtype(layers, from_dtype: str, to_dtype: str) -> list[LayerProfile]:
    """The layers with their tensors held at `to_dtype` (profiles count bytes at one dtype)."""
    ratio = dtype_bytes(to_dtype) / dtype_bytes(from_dtype)
    if ratio == 1:
        return list(layers)
    return [replace(layer, input_bytes=round(layer.input_bytes * ratio),
                    output_bytes=round(layer.output_bytes * ratio),
                    param_bytes=round(layer.param_bytes * ratio)) for layer in layers]


def quantize_layer(cut: Cut, from_dtype: str, to_dtype: str) -> LayerProfile:
    """Converting the activation from the edge's arithmetic to the payload's dtype before it is
    sent: one op per element, read at one dtype, written at the other."""
    n = cut.sent_elements
    return LayerProfile(
        index=0, name=f"quantize@{cut.cut}", op_type="quantize", input_shapes=(cut.sent_shape,),
        output_shape=cut.sent_shape, macs=0, params=0, param_bytes=0,
        input_bytes=n * dtype_bytes(from_dtype), output_bytes=n * dtype_bytes(to_dtype))


@dataclass(frozen=True)
class CutComponents:
    """Link-independent per-cut figures (arrays over the valid cuts), in seconds and joules."""
    cut: np.ndarray
    after_layer: tuple[str, ...]
    up_bytes: np.ndarray
    down_bytes: np.ndarray
    edge_s: np.ndarray
    edge_j: np.ndarray
    noise_s: np.ndarray
    noise_j: np.ndarray
    cloud_s: np.ndarray
    cloud_j: np.ndarray
    noise_storage_bytes: np.ndarray | None = None


def edge_kernels(edge: ComputeTarget, graph: ModelGraph) -> np.ndarray:
    """Per layer: whether the edge runs it as a kernel. All layers, unless the edge's
    toolchain is a folding converter: then not the layers it removes (a batch norm folded into
    the convolution before it, NAS-Bench-201's multiplies by zero). The cloud runs the
    framework's graph as profiled."""
    if not getattr(getattr(edge, "model", None), "folds_constants", False):
        return np.ones(graph.num_layers, dtype=bool)
    return ~converter_removed(graph.model_name, [layer.op_type for layer in graph.layers])


def cut_components(graph: ModelGraph, edge: ComputeTarget, cloud: ComputeTarget,
                   noise: NoiseCostModel, batch_size: int = 1,
                   compute: ComputeDtypes | None = None) -> CutComponents:
    """Per-cut figures. `compute` sets the edge's and cloud's arithmetic (default: the
    activation dtype); where the edge computes in another dtype than it sends, converting
    the activation is priced on the edge (inside edge compute)."""
    dtype = graph.activation_dtype
    L = graph.num_layers
    edge_dtype = (compute.edge if compute else None) or dtype
    cloud_dtype = (compute.cloud if compute else None) or dtype

    def prefix(costs, attr, runs=None):  # prefix[k] = cost of layers 1..k (those that run)
        per_layer = np.array([getattr(c, attr) for c in costs], dtype=float)
        if runs is not None:
            per_layer = np.where(runs, per_layer, 0.0)
        return np.concatenate([[0.0], np.cumsum(per_layer)])

    edge_c = layer_costs(edge, layers_at_dtype(graph.layers, dtype, edge_dtype), batch_size,
                         edge_dtype)
    cloud_c = layer_costs(cloud, layers_at_dtype(graph.layers, dtype, cloud_dtype),
                          batch_size, cloud_dtype)
    runs = edge_kernels(edge, graph)
    edge_lat, edge_en = prefix(edge_c, "latency_s", runs), prefix(edge_c, "energy_j", runs)
    cloud_lat, cloud_en = prefix(cloud_c, "latency_s"), prefix(cloud_c, "energy_j")
    k = np.array([c.cut for c in graph.cuts])
    noise_s, noise_j = np.zeros(len(k)), np.zeros(len(k))
    host = noise_host_target(edge)            # the kernel runs on the edge's CPU cores
    for i, cut in enumerate(graph.cuts):
        if noise.applies(cut, L):
            nc = host.layer_cost(noise.layer(cut, dtype), batch_size, dtype)
            noise_s[i], noise_j[i] = nc.latency_s, nc.energy_j
    quant_s, quant_j = np.zeros(len(k)), np.zeros(len(k))
    if edge_dtype != dtype:
        for i, cut in enumerate(graph.cuts):
            if 0 < cut.cut < L:
                qc = edge.layer_cost(quantize_layer(cut, edge_dtype, dtype), batch_size,
                                     edge_dtype)
                quant_s[i], quant_j[i] = qc.latency_s, qc.energy_j
    out_bytes = graph.layers[-1].output_bytes
    return CutComponents(
        cut=k, after_layer=tuple(c.after_layer for c in graph.cuts),
        up_bytes=np.array([batch_size * sent_bytes(c, noise, L, dtype) for c in graph.cuts],
                          dtype=float),
        down_bytes=np.where(k == L, 0.0, float(batch_size * out_bytes)),
        edge_s=edge_lat[k] + quant_s, edge_j=edge_en[k] + quant_j, noise_s=noise_s,
        noise_j=noise_j,
        cloud_s=cloud_lat[L] - cloud_lat[k], cloud_j=cloud_en[L] - cloud_en[k],
        noise_storage_bytes=np.array([noise.storage_bytes(c, L) for c in graph.cuts],
                                     dtype=float))


def link_costs(up_bytes, down_bytes, link: LinkModel) -> dict[str, np.ndarray]:
    """Uplink/downlink latency (s) and communication energy (J) of isolated requests.

    Pure NumPy on the byte arrays, so sweeps can broadcast it over many links at once.
    """
    up_bytes = np.asarray(up_bytes, dtype=float)
    down_bytes = np.asarray(down_bytes, dtype=float)
    # LinkModel's methods are plain arithmetic, so they broadcast over byte arrays.
    uplink_s = link.promotion_ms / 1e3 + link.uplink_latency_s(up_bytes)
    downlink_s = np.where(down_bytes > 0, link.downlink_latency_s(down_bytes), 0.0)
    comm_j = (link.promotion_energy_j + link.tail_energy_j + link.uplink_energy_j(up_bytes)
              + link.downlink_energy_j(down_bytes))
    return {"uplink_s": uplink_s, "downlink_s": downlink_s, "comm_j": comm_j}
