"""The discrete-event model in simpy: every configuration, including shared multi-GPU clouds
with dynamic batching.

A request moves arrival -> device (edge compute, then noise) -> uplink -> propagation -> cloud
queue -> GPU -> propagation -> downlink. The device and the two radio channels of a client are
FIFO single servers whose start time is known the moment a request reaches them, so they are
kept as "free at" times and a request costs one timeout per stage instead of the request,
release and timeout of a `simpy.Resource` (about three times the events, measured). Stage
transitions are timeout callbacks rather than one generator process per request, for the same
reason. What needs the event list stays event-driven: the radio state each transfer finds (it
depends on every other request of the client in time order) and the cloud, whose GPUs are
processes pulling batches from one queue.

With a bandwidth trace a transfer's duration depends on when it starts, which only the event
list knows, so traces always run here (the fast path's times are fixed in advance).

Times are carried as exact values computed from the stage arithmetic rather than read back from
`env.now` (which accumulates rounding), so that the fast path reproduces them to the last bit.
"""
from __future__ import annotations

import math
from collections import deque
from typing import Literal

import numpy as np
import simpy

from hwmodels.trace import BandwidthTrace
from sim.des.radio import RadioParams, transfer_start
from sim.des.settings import CloudQueue
from sim.des.workload import RECORD_FIELDS, Records, RequestSet

CloudImpl = Literal["auto", "workers"]


class TraceTransfers:
    """Transfer times that follow a bandwidth trace: a request's transmission time at the
    link's nominal rate says how many bits it sends, the trace how long they take from the
    moment the transfer starts."""

    def __init__(self, trace: BandwidthTrace, uplink_mbps: float, downlink_mbps: float) -> None:
        self.trace = trace
        self.bytes_per_s = {"up": uplink_mbps * 1e6 / 8.0, "down": downlink_mbps * 1e6 / 8.0}

    def duration_s(self, nominal_s: float, start_s: float, direction: str) -> float:
        return self.trace.transmit_s(nominal_s * self.bytes_per_s[direction], start_s, direction)


class _Model:
    def __init__(self, req: RequestSet, radio: RadioParams, cloud: CloudQueue,
                 batch_s: tuple[float, ...], cloud_impl: CloudImpl,
                 transfers: TraceTransfers | None = None) -> None:
        self.transfers = transfers
        self.env = simpy.Environment()
        self.n = len(req)
        # Python lists: element access on numpy arrays costs several times more per request.
        self.client = req.client.tolist()
        self.arrival_s = req.arrival_s.tolist()
        self.device_s = req.device_s.tolist()
        self.uplink_s = req.uplink_s.tolist()
        self.downlink_s = req.downlink_s.tolist()
        self.cloud_factor = req.cloud_factor.tolist()
        self.batch_s = batch_s
        self.radio = radio
        nc = req.n_clients
        self.edge_free = [-math.inf] * nc
        self.up_free = [-math.inf] * nc
        self.down_free = [-math.inf] * nc
        self.last_end = [-math.inf] * nc
        self.promoting_until = [-math.inf] * nc
        self.rec = [[math.nan] * self.n for _ in RECORD_FIELDS]
        if cloud_impl == "auto" and cloud.gpus == 1 and cloud.max_batch == 1:
            self.cloud: _FifoCloud | _BatchingCloud = _FifoCloud(self)
        else:
            self.cloud = _BatchingCloud(self, cloud)

    def at(self, t_s: float, callback, i: int) -> None:
        """Call callback(event) at exact time t_s with event._value == i."""
        ev = self.env.timeout(max(0.0, t_s - self.env.now), i)
        ev.callbacks.append(callback)

    def run(self) -> Records:
        if self.n:
            self.at(self.arrival_s[0], self._arrive, 0)
        self.env.run()
        return Records.from_matrix(np.asarray(self.rec, dtype=np.float64))

    def _arrive(self, ev) -> None:
        i = ev._value
        if i + 1 < self.n:
            self.at(self.arrival_s[i + 1], self._arrive, i + 1)
        c = self.client[i]
        start = max(self.arrival_s[i], self.edge_free[c])
        end = start + self.device_s[i]
        self.edge_free[c] = end
        self.rec[0][i] = start
        self.rec[1][i] = end
        self.at(end, self._uplink, i)

    def _uplink(self, ev) -> None:
        i = ev._value
        c = self.client[i]
        r = self.radio
        start, promo = transfer_start(self.rec[1][i], self.up_free[c], self.last_end[c],
                                      self.promoting_until[c], r.tail_s, r.promotion_s, 0.0)
        end = start + (self.uplink_s[i] if self.transfers is None
                       else self.transfers.duration_s(self.uplink_s[i], start, "up"))
        self._reserve(c, start, end, promo)
        self.up_free[c] = end
        rec = self.rec
        rec[2][i] = promo
        rec[3][i] = start
        rec[4][i] = end
        rec[5][i] = end + r.half_rtt_s
        self.at(end + r.half_rtt_s, self._cloud_arrive, i)

    def _cloud_arrive(self, ev) -> None:
        self.cloud.arrive(ev._value, self.rec[5][ev._value])

    def cloud_done(self, i: int, start_s: float, end_s: float, batch: int) -> None:
        rec = self.rec
        rec[6][i] = start_s
        rec[7][i] = end_s
        rec[8][i] = batch
        rec[9][i] = end_s + self.radio.half_rtt_s
        self.at(end_s + self.radio.half_rtt_s, self._downlink, i)

    def _downlink(self, ev) -> None:
        i = ev._value
        c = self.client[i]
        r = self.radio
        start, promo = transfer_start(self.rec[9][i], self.down_free[c], self.last_end[c],
                                      self.promoting_until[c], r.tail_s, r.promotion_s,
                                      r.beacon_s)
        end = start + (self.downlink_s[i] if self.transfers is None
                       else self.transfers.duration_s(self.downlink_s[i], start, "down"))
        self._reserve(c, start, end, promo)
        self.down_free[c] = end
        self.rec[10][i] = promo
        self.rec[11][i] = start
        self.rec[12][i] = end

    def _reserve(self, c: int, start_s: float, end_s: float, promo_s: float) -> None:
        if end_s > self.last_end[c]:
            self.last_end[c] = end_s
        if promo_s == promo_s:           # not NaN: a promotion runs until the transfer starts
            self.promoting_until[c] = start_s


class _FifoCloud:
    """One GPU, no batching: a FIFO single server, kept as its free-at time."""

    def __init__(self, model: _Model) -> None:
        self.model = model
        self.free_s = -math.inf

    def arrive(self, i: int, t_s: float) -> None:
        m = self.model
        start = max(t_s, self.free_s)
        end = start + m.batch_s[0] * m.cloud_factor[i]
        self.free_s = end
        m.cloud_done(i, start, end, 1)


class _BatchingCloud:
    """k GPU processes pulling from one FIFO queue. One batch forms at a time: a free GPU takes
    up to max_batch requests, waiting while the batch is not full until the oldest request has
    waited max_wait; other free GPUs wait for the next request."""

    def __init__(self, model: _Model, cloud: CloudQueue) -> None:
        self.model = model
        self.env = model.env
        self.max_batch = cloud.max_batch
        self.max_wait_s = cloud.max_wait_ms * 1e-3
        self.queue: deque[int] = deque()
        self.idle: deque[simpy.Event] = deque()
        self.forming: simpy.Event | None = None
        for _ in range(cloud.gpus):
            self.env.process(self._gpu())

    def arrive(self, i: int, t_s: float) -> None:
        self.queue.append(i)
        if self.forming is not None:
            if len(self.queue) >= self.max_batch and not self.forming.triggered:
                self.forming.succeed(t_s)
        elif self.idle:
            self.idle.popleft().succeed(t_s)

    def _gpu(self):
        m = self.model
        queue = self.queue
        t = 0.0                    # exact current time, see the module docstring
        while True:
            while not queue or self.forming is not None:
                ev = self.env.event()
                self.idle.append(ev)
                t = yield ev
            if len(queue) < self.max_batch and self.max_wait_s > 0:
                deadline = m.rec[5][queue[0]] + self.max_wait_s
                if deadline > t:
                    full = self.forming = self.env.event()
                    yield full | self.env.timeout(max(0.0, deadline - self.env.now))
                    self.forming = None
                    t = full._value if full.triggered else deadline
            batch = [queue.popleft() for _ in range(min(len(queue), self.max_batch))]
            if queue and self.idle:
                self.idle.popleft().succeed(t)
            end = t + m.batch_s[len(batch) - 1] * m.cloud_factor[batch[0]]
            yield self.env.timeout(max(0.0, end - self.env.now))
            for i in batch:
                m.cloud_done(i, t, end, len(batch))
            t = end


def run(req: RequestSet, radio: RadioParams, cloud: CloudQueue, batch_s: tuple[float, ...],
        cloud_impl: CloudImpl = "auto", transfers: TraceTransfers | None = None) -> Records:
    """Simulate one replication. cloud_impl="workers" forces the GPU processes even where the
    free-at server would do (tests use it to check one against the other); `transfers`
    makes transfer times follow a bandwidth trace."""
    return _Model(req, radio, cloud, batch_s, cloud_impl, transfers).run()
