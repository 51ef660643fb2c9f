"""Requests under load: the discrete-event simulator run for every cut (`sim.table` turns the
results into columns).

The closed-form table prices one isolated request; here each cut's stage costs feed
`sim.des.simulate` (simpy, or the exact numba fast path), which adds queueing on the edge
device and the shared cloud, radio promotion and tail sharing, and confidence intervals.
"""
from __future__ import annotations

import numpy as np
from tqdm import tqdm

from hwmodels.cost import ComputeTarget, layer_costs
from hwmodels.link import LinkModel
from partitioner.types import ModelGraph
from sim.costs import CutComponents, layers_at_dtype
from sim.des import CloudQueue, CutResult, SimSettings, StageCosts, simulate

def cloud_batch_latencies_s(graph: ModelGraph, cloud: ComputeTarget, batch_size: int,
                            max_batch: int, cloud_dtype: str | None = None) -> np.ndarray:
    """[b - 1, k]: time for a batch of b requests to run layers k+1..L on one GPU, per cut k,
    computing in `cloud_dtype` (default: the activation dtype)."""
    L = graph.num_layers
    cut_k = np.array([c.cut for c in graph.cuts])
    dtype = cloud_dtype or graph.activation_dtype
    layers = layers_at_dtype(graph.layers, graph.activation_dtype, dtype)
    rows = []
    for b in range(1, max_batch + 1):
        lat = [c.latency_s for c in layer_costs(cloud, layers, b * batch_size, dtype)]
        prefix = np.concatenate([[0.0], np.cumsum(lat)])
        rows.append(prefix[L] - prefix[cut_k])
    return np.array(rows)


def stage_costs(comp: CutComponents, i: int, cloud_batches_s: np.ndarray, edge: ComputeTarget,
                cloud: ComputeTarget) -> StageCosts:
    return StageCosts(
        edge_compute_s=float(comp.edge_s[i]), noise_s=float(comp.noise_s[i]),
        uplink_bytes=float(comp.up_bytes[i]), downlink_bytes=float(comp.down_bytes[i]),
        cloud_compute_s=tuple(float(t) for t in cloud_batches_s[:, i]),
        edge_active_power_w=edge.active_power_w, edge_idle_power_w=edge.idle_power_w,
        # the noise kernel runs on the edge's CPU cores: their average power over it
        noise_power_w=(float(comp.noise_j[i] / comp.noise_s[i]) if comp.noise_s[i] > 0
                       else edge.active_power_w),
        cloud_active_power_w=cloud.active_power_w,
        cloud_idle_power_w=cloud.idle_power_w)


def simulate_cuts(graph: ModelGraph, comp: CutComponents, edge: ComputeTarget,
                  cloud: ComputeTarget, link: LinkModel, queue: CloudQueue,
                  settings: SimSettings, batch_size: int, progress: bool = False,
                  cloud_dtype: str | None = None) -> tuple[dict[int, CutResult],
                                                            np.ndarray | None]:
    """Simulate every cut (the cloud computing in `cloud_dtype`, default the activation
    dtype); also returns the busiest stage's utilization per cut."""
    batches_s = cloud_batch_latencies_s(graph, cloud, batch_size, queue.max_batch, cloud_dtype)
    out = {}
    for i in tqdm(range(len(comp.cut)), desc="simulating cuts", unit="cut", disable=not progress,
                  leave=False):
        costs = stage_costs(comp, i, batches_s, edge, cloud)
        out[int(comp.cut[i])] = simulate(costs, link, queue, settings)
    return out, bottleneck_utilization(comp, link, settings, batches_s, queue)


def bottleneck_utilization(comp: CutComponents, link: LinkModel, settings: SimSettings,
                           cloud_batches_s: np.ndarray, queue: CloudQueue) -> np.ndarray | None:
    """Offered load of the busiest stage per cut; >= 1 means its queue grows without bound.

    None for trace arrivals, whose rate is not a parameter."""
    if settings.arrival.process == "trace":
        return None
    rate_hz = settings.clients * settings.arrival.mean_rate_hz
    per_device_hz = settings.arrival.mean_rate_hz          # each client has its own device
    stages = np.vstack([
        per_device_hz * (comp.edge_s + comp.noise_s),
        rate_hz * link.uplink_transmit_s(comp.up_bytes) / settings.clients,  # one radio each
        rate_hz * cloud_batches_s[0] / queue.gpus,
        rate_hz * link.downlink_transmit_s(comp.down_bytes) / settings.clients,
    ])
    return stages.max(axis=0)
