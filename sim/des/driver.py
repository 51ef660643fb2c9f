"""`simulate`: replications of one cut's configuration, on the fast path where it is exact and
in simpy otherwise, summarised with confidence intervals."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Literal

from hwmodels.link import LinkModel
from sim.des import fastpath, simpy_model
from sim.des.analysis import (ENERGY_KEYS, LATENCY_PARTS, Estimate, estimate,
                              replication_stats, should_stop)
from sim.des.radio import RadioParams
from sim.des.settings import CloudQueue, SimSettings, StageCosts
from sim.des.workload import Records, build_requests

log = logging.getLogger(__name__)

Engine = Literal["auto", "fast", "simpy"]


@dataclass(frozen=True)
class CutResult:
    """Simulated latency and energy per request of one cut. `energy_mj` holds ENERGY_KEYS
    (per request, mJ; `total_mj` = edge_compute + noise + comm + cloud_compute, where
    edge_compute counts active and idle device power and cloud_compute only active GPU power);
    `latency_parts_ms` holds LATENCY_PARTS, whose means add up to the mean latency."""
    latency_ms: Estimate
    latency_p99_ms: Estimate
    energy_mj: dict[str, Estimate]
    latency_parts_ms: dict[str, float]
    replications: int
    requests_kept: int              # per replication, after warm-up
    engine: str                     # "fast", "simpy" or "mixed" (fast path fell back)
    records: tuple[Records, ...] | None = None

    def to_dict(self) -> dict:
        """Plain numbers for run.json (records left out)."""
        def est(e: Estimate) -> dict:
            return {"mean": e.mean, "ci95_low": e.low, "ci95_high": e.high}
        return {"latency_ms": est(self.latency_ms), "latency_p99_ms": est(self.latency_p99_ms),
                "energy_mj": {k: est(v) for k, v in self.energy_mj.items()},
                "latency_parts_ms": dict(self.latency_parts_ms),
                "replications": self.replications, "requests_kept": self.requests_kept,
                "engine": self.engine}


def simulate(costs: StageCosts, link: LinkModel, cloud: CloudQueue, settings: SimSettings, *,
             engine: Engine = "auto", keep_records: bool = False) -> CutResult:
    """Simulate one cut. engine="auto" uses the fast path when the cloud is one GPU without
    batching and the radio lets the recursion be exact (checked per replication), simpy
    otherwise; "fast" raises ValueError where the fast path is not exact; "simpy" never uses it.
    """
    if len(costs.cloud_compute_s) < cloud.max_batch:
        raise ValueError(f'"cloud_compute_s" gives {len(costs.cloud_compute_s)} batch latencies '
                         f'but cloud.max_batch is {cloud.max_batch}')
    if engine == "fast" and not fastpath.eligible(cloud.gpus, cloud.max_batch):
        raise ValueError("the fast path needs one cloud GPU without batching")
    radio = RadioParams.from_link(link)
    up_tx_s = link.uplink_transmit_s(costs.uplink_bytes)
    down_tx_s = link.downlink_transmit_s(costs.downlink_bytes)
    trace = link.trace()
    transfers = (None if trace is None
                 else simpy_model.TraceTransfers(trace, link.uplink_mbps, link.downlink_mbps))
    if engine == "fast" and transfers is not None:
        raise ValueError("the fast path cannot follow a bandwidth trace")
    use_fast = (engine != "simpy" and transfers is None
                and fastpath.eligible(cloud.gpus, cloud.max_batch))
    per_rep: list[dict[str, float]] = []
    kept_records: list[Records] = []
    engines: set[str] = set()
    for r in range(settings.replications):
        req = build_requests(costs, up_tx_s, down_tx_s, settings, r)
        rec = fastpath.run(req, radio, costs.cloud_compute_s[0]) if use_fast else None
        if rec is None and engine == "fast":
            raise ValueError("the fast path is not exact here: a response reached an idle radio "
                             "more than a tail after its request was sent")
        if rec is None:
            if use_fast:
                log.info("replication %d: radio idle before a response; using simpy", r)
            rec = simpy_model.run(req, radio, cloud, costs.cloud_compute_s,
                                  transfers=transfers)
            engines.add("simpy")
        else:
            engines.add("fast")
        per_rep.append(replication_stats(req, rec, costs, radio, cloud,
                                         settings.warmup_requests))
        if keep_records:
            kept_records.append(rec)
        if should_stop(per_rep, settings.min_replications, settings.ci_rel_tol):
            break
    log.debug("simulated %d replications (%s)", len(per_rep), "/".join(sorted(engines)))
    return CutResult(
        latency_ms=estimate([s["latency_ms"] for s in per_rep]),
        latency_p99_ms=estimate([s["latency_p99_ms"] for s in per_rep]),
        energy_mj={k: estimate([s[k] for s in per_rep]) for k in ENERGY_KEYS},
        latency_parts_ms={k: estimate([s[k] for s in per_rep]).mean for k in LATENCY_PARTS},
        replications=len(per_rep),
        requests_kept=settings.requests - settings.warmup_requests,
        engine=engines.pop() if len(engines) == 1 else "mixed",
        records=tuple(kept_records) if keep_records else None)
