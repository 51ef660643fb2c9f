"""Per-cut costs at the operating point: the closed forms of `sim.operating_point` applied to
the link-independent cut components, with the isolated-request figures beside them.

`operating_link_costs` returns `sim.costs.link_costs`' keys (uplink_s, downlink_s, comm_j) at
the operating point plus latency, queues, saturation, device energy and the isolated figures;
it broadcasts like `link_costs`, so a sweep passes a link whose fields are columns.
`operating_point_columns` turns them into the results table's extra columns.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from hwmodels.link import LinkModel
from sim.costs import CutComponents, link_costs
from sim.des import load_trace
from sim.operating_point import OperatingPoint, StageTimes, at_operating_point


OPERATING_COLUMNS = ("edge_queue_ms", "cloud_queue_ms", "device_mj", "saturated",
                     "bottleneck_utilization", "max_rate_hz", "latency_isolated_ms",
                     "comm_isolated_mj", "device_isolated_mj", "total_isolated_mj",
                     "noise_storage_mb")


def operating_link_costs(comp: CutComponents, link: LinkModel, op: OperatingPoint,
                         edge_idle_power_w=0.0) -> dict[str, np.ndarray]:
    """Link costs at the operating point (queueing, shared tails, promotions only after
    idle). A bandwidth trace is priced at its time-average rates."""
    link = link.time_averaged()
    up_tx_s = link.uplink_transmit_s(comp.up_bytes)
    down_tx_s = np.where(comp.down_bytes > 0, link.downlink_transmit_s(comp.down_bytes), 0.0)
    device_s = comp.edge_s + comp.noise_s
    st = StageTimes(device_s=device_s, uplink_s=up_tx_s, cloud_s=comp.cloud_s,
                    downlink_s=down_tx_s, half_rtt_s=link.rtt_ms / 2e3)
    out = at_operating_point(st, link, op)
    iso = link_costs(comp.up_bytes, comp.down_bytes, link)     # idle radio: promotion, full tail
    iso_latency_s = device_s + iso["uplink_s"] + comp.cloud_s + iso["downlink_s"]
    own_j = comp.edge_j + comp.noise_j
    # The battery also pays the device's idle power while it waits for the answer.
    wait_s = out["latency_s"] - device_s - out["edge_queue_s"]
    return {
        "uplink_s": out["uplink_s"], "downlink_s": out["downlink_s"], "comm_j": out["comm_j"],
        "latency_s": out["latency_s"], "latency_p99_s": out["latency_p99_s"],
        "edge_queue_s": out["edge_queue_s"], "cloud_queue_s": out["cloud_queue_s"],
        "device_j": own_j + out["comm_j"] + edge_idle_power_w * wait_s,
        "saturated": out["saturated"], "max_rate_hz": out["max_rate_hz"],
        "utilization": out["utilization"],
        "latency_isolated_s": iso_latency_s, "comm_isolated_j": iso["comm_j"],
        "device_isolated_j": (own_j + iso["comm_j"]
                              + edge_idle_power_w * (iso_latency_s - device_s)),
        "total_isolated_j": own_j + iso["comm_j"] + comp.cloud_j,
    }


def operating_point_columns(lc: dict[str, np.ndarray],
                            comp: "CutComponents | None" = None) -> pd.DataFrame:
    """The results table's columns beside the contract's, per cut (one configuration), with
    the noise storage on the edge when `comp` is given."""
    df = pd.DataFrame({
        "edge_queue_ms": lc["edge_queue_s"] * 1e3, "cloud_queue_ms": lc["cloud_queue_s"] * 1e3,
        "device_mj": lc["device_j"] * 1e3,
        "saturated": np.asarray(lc["saturated"], dtype=bool),
        "bottleneck_utilization": lc["utilization"], "max_rate_hz": lc["max_rate_hz"],
        "latency_isolated_ms": lc["latency_isolated_s"] * 1e3,
        "comm_isolated_mj": lc["comm_isolated_j"] * 1e3,
        "device_isolated_mj": lc["device_isolated_j"] * 1e3,
        "total_isolated_mj": lc["total_isolated_j"] * 1e3,
    })
    if comp is not None and comp.noise_storage_bytes is not None:
        df["noise_storage_mb"] = comp.noise_storage_bytes / 1e6
    return df


def scenario_operating_point(scenario) -> OperatingPoint:
    """The operating point a scenario configures (`sim:` arrivals and clients, `cloud:`
    GPUs); trace arrivals are priced at the trace's mean rate per client."""
    arrival = scenario.sim.arrival
    trace_rate_hz = None
    if arrival.process == "trace":
        times_s, _ = load_trace(arrival.trace_path)
        span_s = float(times_s[-1] - times_s[0]) if len(times_s) > 1 else 1.0
        trace_rate_hz = (len(times_s) - 1) / max(span_s, 1e-12) / scenario.sim.clients
    return OperatingPoint.from_settings(scenario.sim, scenario.cloud_spec.queue, trace_rate_hz)


def headline_link_costs(scenario, comp: CutComponents, link=None) -> dict[str, np.ndarray]:
    """What every headline column uses: the scenario's link (or `link`, e.g. a sweep's
    stacked one) priced at the scenario's operating point."""
    return operating_link_costs(comp, scenario.link if link is None else link,
                                scenario_operating_point(scenario), scenario.edge.idle_power_w)


def operating_point_note(scenario) -> str:
    """The sentence a caption and run.json carry: at which operating point the figures are,
    and which rates a bandwidth trace was priced at."""
    note = (f"energy and latency per request at the operating point: "
            f"{scenario_operating_point(scenario).describe()}")
    link = scenario.link
    if link.bandwidth_trace_csv:
        note += (f"; bandwidth trace {link.bandwidth_trace_csv}: the simulation follows it, "
                 f"closed-form figures use its time average ({link.mean_uplink_mbps:.4g}/"
                 f"{link.mean_downlink_mbps:.4g} Mbps up/down)")
    return note + "; isolated-request figures (idle radio, full tail) in *_isolated_* columns"


def saturated_note(utilization: float) -> str:
    """What a printed table shows instead of a latency."""
    return f"saturated (utilization {utilization:.3g})"


def best_cuts_line(results: pd.DataFrame, include_saturated: bool = False) -> str | None:
    """The printed choice: the lowest-energy and the fastest cut (None: no candidate).

    Candidates are the cuts within the accuracy budget on test and, unless
    `include_saturated`, with a steady state. A saturated cut's energy per request is finite,
    so it can be the lowest-energy one when included; it has no latency, so it is never the
    fastest."""
    within = results["within_budget"].map(lambda w: w is None or bool(w)) \
        if "within_budget" in results else pd.Series(True, index=results.index)
    saturated = (results["saturated"].astype(bool) if "saturated" in results
                 else pd.Series(False, index=results.index))
    candidates = results.loc[within & (include_saturated | ~saturated)]
    if not len(candidates):
        return None
    best = candidates.loc[candidates["total_mj"].idxmin()]
    line = (f"lowest energy: cut {int(best['cut'])} ({best['total_mj']:.1f} mJ, "
            f"{best['total_vs_cloud_only']:.2f}x cloud-only"
            + (", saturated)" if saturated[best.name] else ")"))
    timed = candidates.dropna(subset=["latency_ms"])
    if len(timed):
        fastest = timed.loc[timed["latency_ms"].idxmin()]
        line += (f"; lowest latency: cut {int(fastest['cut'])} "
                 f"({fastest['latency_ms']:.1f} ms)")
    return line + ("; cuts over the accuracy budget skipped" + (
        ", saturated cuts included (energy only: they have no latency)" if include_saturated
        else ", saturated cuts skipped (--include-saturated counts them)"))


def latency_display(results: pd.DataFrame) -> pd.DataFrame:
    """A copy for printed tables: a saturated cut's latency cells say so, with the
    utilization, instead of a number."""
    if "saturated" not in results or not results["saturated"].any():
        return results
    shown = results.copy()
    sat = shown["saturated"].astype(bool)
    notes = shown["bottleneck_utilization"].map(saturated_note)
    for col in ("latency_ms", "latency_p99_ms"):
        shown[col] = shown[col].astype(object)
        shown.loc[sat, col] = notes[sat]
    return shown
