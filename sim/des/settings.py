"""Settings of the discrete-event simulator: the `sim:` config section, the cloud server queue and
the per-cut cost vector that the device models produce.

All are frozen dataclasses checked when built, so that `core.schema.build` can turn a raw
YAML mapping into them and report every problem with its key path: each check names its field
(`core.schema.Checks`), and the schema prefixes that name with the section's path.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from core.schema import Checks, within_ceiling
from sim.des.arrival_trace import load_trace

ArrivalProcess = Literal["poisson", "deterministic", "onoff", "trace"]


@dataclass(frozen=True)
class ArrivalSpec:
    """Arrival process of every client (each client draws from its own random stream).

    poisson: exponential inter-arrival times at `rate_hz`; deterministic: one request every
    1/`rate_hz` seconds, clients evenly staggered; onoff: Poisson at `rate_hz` during on periods,
    silent during off periods, both exponentially distributed with means `on_s` and `off_s`
    (an interrupted Poisson process, the usual bursty source); trace: replay of the timestamps
    (seconds, strictly increasing) in the CSV file `trace_path`, with an optional second column
    naming the client (otherwise rows are dealt to clients in turn).
    """
    process: ArrivalProcess = "poisson"
    rate_hz: float = 1.0
    on_s: float = 1.0
    off_s: float = 1.0
    trace_path: str | None = None

    def __post_init__(self) -> None:
        c = Checks()
        c.require(self.rate_hz > 0, "rate_hz", "> 0", self.rate_hz)
        c.require(self.on_s > 0, "on_s", "> 0", self.on_s)
        c.require(self.off_s > 0, "off_s", "> 0", self.off_s)
        if self.process == "trace":
            if not self.trace_path:
                c.add("trace_path", 'is required when process is "trace"')
            else:
                try:
                    load_trace(self.trace_path)
                except ValueError as exc:
                    c.add("trace_path", str(exc))
        c.done()

    @property
    def mean_rate_hz(self) -> float:
        """Long-run arrival rate of one client (not defined for traces)."""
        if self.process == "onoff":
            return self.rate_hz * self.on_s / (self.on_s + self.off_s)
        return self.rate_hz


@dataclass(frozen=True)
class SimSettings:
    """The `sim:` section. `requests` counts all clients together, per replication.

    Replications run until the 95 % confidence intervals of mean latency, p99 latency and
    energy per request are all within `ci_rel_tol` of their estimates (after at least
    `min_replications`), or `replications` have run (the smaller of the two wins, so
    `replications: 1` alone is valid). `ci_rel_tol: 0` always runs them all.
    `service: exponential` scales every stage's service time by an Exp(1) draw per request and
    stage (for validation against queueing theory and what-if studies of variability).
    """
    requests: int = 1000
    clients: int = 1
    arrival: ArrivalSpec = field(default_factory=ArrivalSpec)
    replications: int = 10
    min_replications: int = 3
    ci_rel_tol: float = 0.05
    seed: int = 0
    warmup_requests: int = 100
    service: Literal["deterministic", "exponential"] = "deterministic"

    def __post_init__(self) -> None:
        c = Checks()
        within_ceiling(c, "requests", self.requests)
        within_ceiling(c, "clients", self.clients)
        within_ceiling(c, "replications", self.replications)
        c.require(self.min_replications >= 1, "min_replications", ">= 1", self.min_replications)
        c.require(self.ci_rel_tol >= 0, "ci_rel_tol", ">= 0", self.ci_rel_tol)
        c.require(self.seed >= 0, "seed", ">= 0", self.seed)
        c.require(0 <= self.warmup_requests < self.requests, "warmup_requests",
                  f">= 0 and < requests ({self.requests})", self.warmup_requests)
        if self.arrival.process == "trace" and self.arrival.trace_path:
            times_s, clients = load_trace(self.arrival.trace_path)
            if len(times_s) < self.requests:
                c.add("requests", f"is {self.requests} but trace {self.arrival.trace_path} has "
                      f"only {len(times_s)} timestamps")
            if clients is not None and clients.max(initial=0) >= self.clients:
                c.add("clients", f"is {self.clients} but trace {self.arrival.trace_path} names "
                      f"client {clients.max()}")
        c.done()


@dataclass(frozen=True)
class CloudQueue:
    """The shared server: `gpus` identical GPUs fed from one FIFO queue with dynamic batching.

    A free GPU takes up to `max_batch` waiting requests; with fewer waiting it holds the batch
    open until it is full or the oldest request has waited `max_wait_ms` (Triton-style).
    """
    gpus: int = 1
    max_batch: int = 1
    max_wait_ms: float = 0.0

    def __post_init__(self) -> None:
        c = Checks()
        within_ceiling(c, "gpus", self.gpus)
        within_ceiling(c, "max_batch", self.max_batch)
        c.require(self.max_wait_ms >= 0, "max_wait_ms", ">= 0", self.max_wait_ms)
        c.done()

    @property
    def batching(self) -> bool:
        return self.max_batch > 1


@dataclass(frozen=True)
class StageCosts:
    """What one request costs at one cut, computed from the device and noise models.

    `cloud_compute_s[b - 1]` is the time one GPU takes for a batch of b requests. Powers are
    the device's draw while busy with that stage (`*_active_*`, `noise_power_w`) and while
    waiting for work (`*_idle_*`).
    """
    edge_compute_s: float
    noise_s: float
    uplink_bytes: float
    downlink_bytes: float
    cloud_compute_s: tuple[float, ...]
    edge_active_power_w: float = 0.0
    edge_idle_power_w: float = 0.0
    noise_power_w: float = 0.0
    cloud_active_power_w: float = 0.0
    cloud_idle_power_w: float = 0.0

    def __post_init__(self) -> None:
        c = Checks()
        for name in ("edge_compute_s", "noise_s", "uplink_bytes", "downlink_bytes",
                     "edge_active_power_w", "edge_idle_power_w", "noise_power_w",
                     "cloud_active_power_w", "cloud_idle_power_w"):
            value = getattr(self, name)
            c.require(value >= 0, name, ">= 0", value)
        c.require(len(self.cloud_compute_s) >= 1 and min(self.cloud_compute_s) >= 0,
                  "cloud_compute_s", "a non-empty list of times >= 0", self.cloud_compute_s)
        c.done()
        object.__setattr__(self, "cloud_compute_s", tuple(float(t) for t in self.cloud_compute_s))
