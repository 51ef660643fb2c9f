"""Closed forms for one request at the configured operating point (arrival process, rate,
clients): queueing, radio promotion, tail and idle, saturation. Cost-only runs and sweeps use
them; the discrete-event simulator checks them (tests/test_operating_point.py). The
derivations are in docs/operating-point.md.

Stages per request: the client's device (edge compute, then noise), its uplink, the shared
cloud, its downlink; a client's stages are FIFO single servers and the cloud is `gpus` GPUs
fed from one queue. Everything here is NumPy arithmetic on arrays that broadcast, so a sweep
prices (configurations x cuts) at once, on a link model whose fields are columns.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.schema import FieldError
from sim.des import CloudQueue, SimSettings

P99_TAIL = 0.01


@dataclass(frozen=True)
class OperatingPoint:
    """What the closed forms need of the `sim:` and `cloud:` sections.

    `process` is poisson or deterministic; on-off and trace arrivals are priced as Poisson at
    their long-run mean rate (`approximate` says so)."""
    process: str
    rate_hz: float                 # per client
    clients: int = 1
    gpus: int = 1
    service: str = "deterministic"
    approximate: bool = False

    def __post_init__(self) -> None:
        if self.process not in ("poisson", "deterministic"):
            raise FieldError("process", f'must be poisson or deterministic, got {self.process!r}')
        if not self.rate_hz > 0:
            raise FieldError("rate_hz", f'must be > 0, got {self.rate_hz}')
        if self.clients < 1 or self.gpus < 1:
            raise FieldError("clients", f'and "gpus" must be >= 1, got {self.clients}, {self.gpus}')

    @classmethod
    def from_settings(cls, settings: SimSettings, queue: CloudQueue,
                      trace_rate_hz: float | None = None) -> "OperatingPoint":
        arrival = settings.arrival
        if arrival.process in ("poisson", "deterministic"):
            return cls(arrival.process, arrival.rate_hz, settings.clients, queue.gpus,
                       settings.service)
        # Trace arrivals have no rate parameter: the caller passes the trace's mean rate.
        rate = arrival.mean_rate_hz if arrival.process == "onoff" else trace_rate_hz
        if rate is None:
            raise ValueError("trace arrivals need their mean rate (trace_rate_hz)")
        return cls("poisson", rate, settings.clients, queue.gpus, settings.service, True)

    def describe(self) -> str:
        approx = " (priced as Poisson at its mean rate)" if self.approximate else ""
        return (f"{self.process} arrivals at {self.rate_hz:g} Hz per client{approx}, "
                f"{self.clients} client{'s' if self.clients > 1 else ''}, "
                f"{self.gpus} cloud GPU{'s' if self.gpus > 1 else ''}")


# ----------------------------------------------------------------------------- queues
def md1_wait_s(rate_hz, service_s):
    """Pollaczek-Khinchine mean wait of M/D/1: rho D / (2 (1 - rho)); inf at rho >= 1."""
    rho = rate_hz * service_s
    with np.errstate(divide="ignore", invalid="ignore"):
        w = np.where(rho < 1, rho * service_s / (2.0 * (1.0 - rho)), np.inf)
    return np.where(service_s > 0, w, 0.0)


def md1_wait_p99_s(rate_hz, service_s):
    """99th percentile of the M/D/1 wait. Heavy load: the exponential tail
    P(W > t) ~ C e^{-theta t} (Cramer-Lundberg: rho (e^x - 1) = x with x = theta D,
    C = (1 - rho) / (rho e^x - 1)), solved by Newton's method from the right of the root, where
    the convex function converges monotonically. Light load: a request waits only for the
    residual of the one in service, P(W > t) ~ rho (1 - t / D). The larger of the two."""
    d = np.asarray(service_s, dtype=float)
    rho = np.asarray(rate_hz * d, dtype=float)
    stable = (rho < 1) & (d > 0)
    r = np.where(stable, rho, 0.5)
    x = 2.0 * np.log(1.0 / r) + 2.0
    for _ in range(60):
        e = np.exp(x)
        x = x - (r * (e - 1.0) - x) / (r * e - 1.0)
    c = (1.0 - r) / (r * np.exp(x) - 1.0)
    d_safe = np.where(stable, d, 1.0)
    heavy = np.log(np.maximum(c, 1e-300) / P99_TAIL) * d_safe / x
    light = d_safe * (1.0 - P99_TAIL / r)
    w99 = np.maximum(np.maximum(heavy, light), 0.0)
    return np.where(stable, w99, np.where(d > 0, np.inf, 0.0))


def mmk_wait_s(rate_hz, service_s, k: int):
    """Mean wait in M/M/k (Erlang C)."""
    a = rate_hz * service_s                 # offered load in servers
    rho = a / k
    term = np.ones_like(a, dtype=float)
    total = np.ones_like(a, dtype=float)
    for i in range(1, k):
        term = term * a / i
        total = total + term
    top = term * a / k / np.where(rho < 1, 1.0 - rho, 1.0)
    erlang_c = top / (total + top)
    with np.errstate(divide="ignore", invalid="ignore"):
        w = np.where(rho < 1, erlang_c * service_s / (k * (1.0 - rho)), np.inf)
    return np.where(service_s > 0, w, 0.0)


# ----------------------------------------------------------------------------- the model
@dataclass(frozen=True)
class StageTimes:
    """Per-request service times (s) of each stage, arrays over cuts (or configs x cuts)."""
    device_s: np.ndarray            # edge compute + noise
    uplink_s: np.ndarray            # transmission, headers included
    cloud_s: np.ndarray             # one GPU, batch of one
    downlink_s: np.ndarray
    half_rtt_s: np.ndarray | float


def utilization(st: StageTimes, op: OperatingPoint) -> dict[str, np.ndarray]:
    """Offered load of each stage: a client's own device and radio see its rate, the cloud
    the rate of all clients over its GPUs."""
    lam = op.rate_hz
    return {"device": lam * st.device_s, "uplink": lam * st.uplink_s,
            "cloud": lam * op.clients * st.cloud_s / op.gpus, "downlink": lam * st.downlink_s}


def _waits(st: StageTimes, op: OperatingPoint, util: dict[str, np.ndarray]):
    """(mean wait per stage, 99th-percentile extra over the fixed path) in seconds.

    Deterministic service, one client, one GPU: a tandem of deterministic FIFO servers delays
    every request exactly as much as its slowest server alone would (Friedman 1965), so the
    waiting is that of one M/D/1 queue at the bottleneck. With several clients the per-client
    stages and the shared cloud are priced as separate queues (an approximation). Exponential
    service: a tandem of M/M/1 queues (Burke), each stage's sojourn d / (1 - rho)."""
    lam = op.rate_hz
    names = ("device", "uplink", "cloud", "downlink")
    times = {"device": st.device_s, "uplink": st.uplink_s, "cloud": st.cloud_s,
             "downlink": st.downlink_s}
    shape = np.broadcast(*times.values()).shape
    waits = {n: np.zeros(shape) for n in names}
    if op.service == "exponential":
        for n in names:
            d = times[n] / (op.gpus if n == "cloud" else 1)
            with np.errstate(divide="ignore", invalid="ignore"):
                waits[n] = np.where(util[n] < 1, d * util[n] / (1 - util[n]), np.inf)
        soj = {n: times[n] + waits[n] for n in names}
        stacked = np.stack([np.broadcast_to(soj[n], shape) for n in names])
        # the slowest stage's sojourn is exponential: its 99th percentile is ln(100) x mean
        extra99 = (np.log(1 / P99_TAIL) - 1.0) * stacked.max(axis=0) + sum(waits.values())
        return waits, extra99
    if op.process == "deterministic":
        return waits, np.zeros(shape)         # stable periodic arrivals never wait
    own = ("device", "uplink", "downlink") + (("cloud",) if op.clients == 1 and op.gpus == 1
                                              else ())
    stacked = np.stack([np.broadcast_to(times[n], shape) for n in own])
    which = np.argmax(stacked, axis=0)
    d_max = stacked.max(axis=0)
    w = md1_wait_s(lam, d_max)
    for j, n in enumerate(own):
        waits[n] = np.where(which == j, w, 0.0)
    extra99 = md1_wait_p99_s(lam, d_max)
    if "cloud" not in own:
        cloud_rate = lam * op.clients
        if op.gpus == 1:
            waits["cloud"] = md1_wait_s(cloud_rate, st.cloud_s)
        else:   # M/D/k is about half M/M/k (the usual deterministic-service correction)
            waits["cloud"] = 0.5 * mmk_wait_s(cloud_rate, st.cloud_s, op.gpus)
        extra99 = extra99 + waits["cloud"]
    return waits, extra99


def _clip_exp(lam, shift_s, length_s):
    """E[min((shift + X)+, length)] for X ~ Exp(lambda); length may be inf."""
    shift_s = np.asarray(shift_s, dtype=float)
    with np.errstate(over="ignore", invalid="ignore"):
        fall = -np.expm1(-lam * (length_s - np.maximum(shift_s, 0.0))) / lam
        inside = np.where(shift_s >= length_s, length_s, shift_s + fall)
        before = np.exp(lam * np.minimum(shift_s, 0.0)) * -np.expm1(-lam * length_s) / lam
    return np.where(shift_s >= 0, inside, before)


class UplinkSpacing:
    """Time between the starts of a client's successive uplinks.

    Poisson: they leave a tandem of deterministic FIFO servers, which releases them like one
    M/D/1 queue at its slowest server D (Friedman); an M/G/1 departure finds the queue busy
    with probability rho = lambda D and then the next leaves D later, otherwise D plus an
    Exp(lambda) idle period later. Successive spacings are treated as independent.
    Deterministic arrivals: exactly 1 / lambda."""

    def __init__(self, lam, d_bottleneck_s, process: str) -> None:
        self.lam = lam
        if process == "deterministic":
            self.d_s, self.busy_p = np.full(np.shape(d_bottleneck_s), 1.0 / lam), 1.0
        else:
            self.d_s = np.asarray(d_bottleneck_s, dtype=float)
            self.busy_p = np.clip(lam * self.d_s, 0.0, 1.0)

    def clipped(self, start_s, length_s):
        """E[min((spacing - start)+, length)]: the part of a gap of `length` that begins
        `start` after an uplink's start and is not cut short by the next uplink."""
        exact = np.clip(self.d_s - start_s, 0.0, length_s)
        return (self.busy_p * exact
                + (1 - self.busy_p) * _clip_exp(self.lam, self.d_s - start_s, length_s))

    def beyond(self, start_s):
        """P(spacing > start)."""
        exact = (self.d_s > start_s).astype(float)
        with np.errstate(over="ignore"):
            tail = np.exp(-self.lam * np.maximum(start_s - self.d_s, 0.0))
        return self.busy_p * exact + (1 - self.busy_p) * tail


def _promotion_wait_s(st: StageTimes, op: OperatingPoint, promo_p, promo_s, saturated):
    """Extra queueing behind promotions. Only a request that finds the radio idle promotes,
    and it finds the queues empty, so everyone waiting is a regular request: FIFO gives
    W = R / (1 - rho) with R the mean residual work an arrival sees, lambda E[S^2] / 2 over
    regular and promoted services (M/G/1 with exceptional first service, Welch 1964). The
    promoted request holds the bottleneck for max(device, promotion + uplink)."""
    if op.process != "poisson" or op.service != "deterministic":
        return 0.0
    lam = op.rate_hz
    d_b = np.maximum(st.device_s, st.uplink_s)
    d_promoted = np.maximum(st.device_s, promo_s + st.uplink_s)
    rho = np.where(saturated, 0.5, lam * d_b)
    extra = lam * promo_p * (d_promoted ** 2 - d_b ** 2) / (2.0 * (1.0 - rho))
    return np.where(saturated, 0.0, extra)


def radio_fields(link):
    """Radio powers (W) and times (s) of a link model, as arrays where its fields are."""
    up_mw = link.power_mw(link.mean_uplink_mbps, "up")
    down_mw = link.power_mw(link.mean_downlink_mbps, "down")
    return {"up_w": up_mw * 1e-3, "down_w": down_mw * 1e-3, "beta_w": link.beta_mw * 1e-3,
            "promotion_s": link.promotion_ms * 1e-3, "promotion_w": link.promotion_power_mw * 1e-3,
            "tail_s": link.tail_ms * 1e-3, "tail_w": link.tail_power_mw * 1e-3,
            "idle_w": link.idle_power_mw * 1e-3, "beacon_s": link.psm_beacon_ms * 1e-3}


def at_operating_point(st: StageTimes, link, op: OperatingPoint) -> dict[str, np.ndarray]:
    """Mean and p99 latency, communication energy and its parts per request (s, J), stage
    utilizations, `saturated` and `max_rate_hz` (the per-client rate at which the bottleneck
    stage reaches utilization 1)."""
    util = utilization(st, op)
    bottleneck = np.maximum.reduce([np.broadcast_to(u, np.broadcast(*util.values()).shape)
                                    for u in util.values()])
    saturated = bottleneck >= 1.0
    waits, extra99 = _waits(st, op, util)
    r = radio_fields(link)
    lam = op.rate_hz
    # A client's radio, from one uplink's start: uplink, then a gap `mid` (propagation and
    # cloud) spent in the tail unless the next uplink starts first, then the downlink, then
    # the gap to the next uplink: tail up to T, idle beyond, and a promotion for the next
    # request when it exceeds T. A mid gap longer than the tail finds the radio idle: the
    # downlink waits for a promotion and, under Wi-Fi power save, the next beacon (on average
    # half an interval away).
    spacing = UplinkSpacing(lam, np.maximum(st.device_s, st.uplink_s), op.process)
    has_down = st.downlink_s > 0
    mid_s = np.where(has_down, 2 * st.half_rtt_s + waits["cloud"] + st.cloud_s, 0.0)
    mid_tail_s = np.minimum(mid_s, r["tail_s"])
    down_idle_p = np.where(has_down & (mid_s > r["tail_s"]),
                           spacing.beyond(st.uplink_s + r["tail_s"]), 0.0)
    down_wake_s = down_idle_p * (r["promotion_s"] + 0.5 * r["beacon_s"])
    busy_s = st.uplink_s + mid_s + down_wake_s + st.downlink_s + waits["downlink"]
    # Times from the uplink's ready instant. A promotion shifts this request's activity by
    # promotion_s and so shortens the gap before the next one: whether request n + 1 promotes
    # depends on whether n did, a two-state chain whose stationary probability is
    # P(promote) = b / (1 - a + b), a and b: P(promote | the previous did / did not).
    promo_s = r["promotion_s"]
    a = spacing.beyond(promo_s + busy_s + r["tail_s"])
    b = spacing.beyond(busy_s + r["tail_s"])
    promo_p = np.where(saturated, 0.0, b / np.maximum(1.0 - a + b, 1e-300))

    def mixed(start_s, length_s):          # over this request promoting or not
        return (promo_p * spacing.clipped(promo_s + start_s, length_s)
                + (1 - promo_p) * spacing.clipped(start_s, length_s))
    tail_s = mixed(st.uplink_s, mid_tail_s) + mixed(busy_s, r["tail_s"])
    idle_s = (mixed(st.uplink_s, mid_s) - mixed(st.uplink_s, mid_tail_s)
              + mixed(busy_s, np.inf) - mixed(busy_s, r["tail_s"]))
    waits["uplink"] = waits["uplink"] + _promotion_wait_s(st, op, promo_p, promo_s, saturated)
    uplink_path_s = promo_p * r["promotion_s"] + st.uplink_s + waits["uplink"] + st.half_rtt_s
    latency_s = (st.device_s + waits["device"] + uplink_path_s + waits["cloud"] + st.cloud_s
                 + st.half_rtt_s + down_wake_s + st.downlink_s + waits["downlink"])
    p99_promo_s = np.where(promo_p > P99_TAIL, r["promotion_s"] * (1 - promo_p), 0.0)
    with np.errstate(invalid="ignore"):          # inf - inf where saturated, masked below
        latency_p99_s = latency_s - sum(waits.values()) + extra99 + p99_promo_s
    transfer_j = r["up_w"] * st.uplink_s + r["down_w"] * st.downlink_s
    promotion_j = r["promotion_w"] * r["promotion_s"] * (promo_p + down_idle_p)
    tail_j = r["tail_w"] * tail_s
    idle_j = r["idle_w"] * idle_s
    nan_if_sat = lambda a: np.where(saturated, np.nan, a)  # noqa: E731
    return {
        "latency_s": nan_if_sat(latency_s), "latency_p99_s": nan_if_sat(latency_p99_s),
        "edge_queue_s": nan_if_sat(waits["device"]), "cloud_queue_s": nan_if_sat(waits["cloud"]),
        "uplink_s": nan_if_sat(uplink_path_s),
        "downlink_s": nan_if_sat(st.half_rtt_s + down_wake_s + st.downlink_s
                                 + waits["downlink"]),
        "comm_j": transfer_j + promotion_j + tail_j + idle_j,
        "comm_transfer_j": transfer_j, "comm_promotion_j": promotion_j, "comm_tail_j": tail_j,
        "comm_idle_j": idle_j, "promotion_probability": promo_p,
        "utilization": bottleneck, "saturated": saturated,
        "max_rate_hz": np.where(bottleneck > 0, lam / np.where(bottleneck > 0, bottleneck, 1.0),
                                np.inf),
    }
