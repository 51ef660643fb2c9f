"""Output analysis: per-replication statistics after warm-up removal, energy accounting over the
measurement window, 95 % confidence intervals over replications and the stop rule.

Energy is accounted over simulated time in the window from the arrival of the first request kept
after warm-up until every radio is idle again (the last response plus one tail), and divided by
the requests kept: shared costs (idle power, promotions, tails, a batch's GPU time) are thereby
shared equally by the requests that caused them. Cloud idle power is reported apart from cloud
compute because a shared server's idle draw is not caused by any one user's requests.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import stdtrit

from sim.des.radio import RadioParams, clipped_sum_s, radio_energy_j
from sim.des.settings import CloudQueue, StageCosts
from sim.des.workload import Records, RequestSet

# Per-request energy figures, in mJ, and the latency parts that add up to the latency, in ms.
ENERGY_KEYS = ("edge_active_mj", "edge_idle_mj", "edge_compute_mj", "noise_mj",
               "comm_transfer_mj", "comm_promotion_mj", "comm_tail_mj", "comm_idle_mj", "comm_mj",
               "cloud_compute_mj", "cloud_idle_mj", "total_mj")
LATENCY_PARTS = ("edge_queue_ms", "edge_compute_ms", "noise_ms", "uplink_ms", "cloud_queue_ms",
                 "cloud_compute_ms", "downlink_ms")


def replication_stats(req: RequestSet, rec: Records, costs: StageCosts, radio: RadioParams,
                      cloud: CloudQueue, warmup: int) -> dict[str, float]:
    """Mean and p99 latency, latency parts and energy per request of one replication."""
    keep = slice(warmup, None)
    latency_s = (rec.down_end_s - req.arrival_s)[keep]
    out = {"latency_ms": float(latency_s.mean()) * 1e3,
           "latency_p99_ms": float(np.percentile(latency_s, 99)) * 1e3}
    parts_s = {
        "edge_queue_ms": rec.edge_start_s - req.arrival_s,
        "edge_compute_ms": req.edge_s,
        "noise_ms": req.noise_s,
        "uplink_ms": rec.cloud_arrival_s - rec.edge_end_s,
        "cloud_queue_ms": rec.cloud_start_s - rec.cloud_arrival_s,
        "cloud_compute_ms": rec.cloud_end_s - rec.cloud_start_s,
        "downlink_ms": rec.down_end_s - rec.cloud_end_s,
    }
    out.update({k: float(v[keep].mean()) * 1e3 for k, v in parts_s.items()})
    out.update(_energy_mj(req, rec, costs, radio, cloud, warmup))
    return out


def _energy_mj(req: RequestSet, rec: Records, costs: StageCosts, radio: RadioParams,
               cloud: CloudQueue, warmup: int) -> dict[str, float]:
    t0 = float(req.arrival_s[warmup])
    t1 = float(rec.down_end_s.max()) + radio.tail_s
    span_s = t1 - t0
    noise_start_s = rec.edge_start_s + req.edge_s
    edge_busy_s = clipped_sum_s(rec.edge_start_s, rec.edge_end_s, t0, t1)
    # A batch's GPU time is split evenly over its requests.
    share = 1.0 / rec.batch_size
    cloud_busy_s = float(np.sum(share * (np.minimum(rec.cloud_end_s, t1)
                                         - np.maximum(rec.cloud_start_s, t0)).clip(min=0.0)))
    energy_j = {
        "edge_active_mj": costs.edge_active_power_w * clipped_sum_s(rec.edge_start_s,
                                                                   noise_start_s, t0, t1),
        "noise_mj": costs.noise_power_w * clipped_sum_s(noise_start_s, rec.edge_end_s, t0, t1),
        "edge_idle_mj": costs.edge_idle_power_w * (req.n_clients * span_s - edge_busy_s),
        "cloud_compute_mj": costs.cloud_active_power_w * cloud_busy_s,
        "cloud_idle_mj": costs.cloud_idle_power_w * (cloud.gpus * span_s - cloud_busy_s),
    }
    comm = {"transfer_j": 0.0, "promotion_j": 0.0, "tail_j": 0.0, "idle_j": 0.0}
    order = np.argsort(req.client, kind="stable")
    bounds = np.searchsorted(req.client[order], np.arange(req.n_clients + 1))
    for c in range(req.n_clients):
        mine = order[bounds[c]:bounds[c + 1]]
        up_p, down_p = rec.up_promo_s[mine], rec.down_promo_s[mine]
        up_has, down_has = ~np.isnan(up_p), ~np.isnan(down_p)
        promo = (np.concatenate([up_p[up_has], down_p[down_has]]),
                 np.concatenate([rec.up_start_s[mine][up_has], rec.down_start_s[mine][down_has]]))
        part = radio_energy_j(radio, (rec.up_start_s[mine], rec.up_end_s[mine]),
                              (rec.down_start_s[mine], rec.down_end_s[mine]), promo, t0, t1)
        for k in comm:
            comm[k] += part[k]
    energy_j.update({f"comm_{k[:-2]}_mj": v for k, v in comm.items()})
    kept = len(req) - warmup
    out = {k: v / kept * 1e3 for k, v in energy_j.items()}
    out["edge_compute_mj"] = out["edge_active_mj"] + out["edge_idle_mj"]
    out["comm_mj"] = sum(out[f"comm_{k[:-2]}_mj"] for k in comm)
    out["total_mj"] = (out["edge_compute_mj"] + out["noise_mj"] + out["comm_mj"]
                       + out["cloud_compute_mj"])
    return out


@dataclass(frozen=True)
class Estimate:
    """A mean over replications with the half width of its 95 % confidence interval (None with
    a single replication)."""
    mean: float
    half_width: float | None

    @property
    def low(self) -> float | None:
        return None if self.half_width is None else self.mean - self.half_width

    @property
    def high(self) -> float | None:
        return None if self.half_width is None else self.mean + self.half_width

    def tight(self, rel_tol: float) -> bool:
        return self.half_width is not None and self.half_width <= rel_tol * abs(self.mean)


def estimate(values: list[float]) -> Estimate:
    """Student-t 95 % interval on the mean of independent replications."""
    x = np.asarray(values, dtype=np.float64)
    if len(x) < 2:
        return Estimate(float(x.mean()), None)
    half = stdtrit(len(x) - 1, 0.975) * x.std(ddof=1) / np.sqrt(len(x))
    return Estimate(float(x.mean()), float(half))


STOP_KEYS = ("latency_ms", "latency_p99_ms", "total_mj")


def should_stop(per_rep: list[dict[str, float]], min_replications: int, rel_tol: float) -> bool:
    """Stop once the intervals of mean latency, p99 latency and energy are all tight."""
    if rel_tol <= 0 or len(per_rep) < max(2, min_replications):
        return False
    return all(estimate([r[k] for r in per_rep]).tight(rel_tol) for k in STOP_KEYS)
