"""The fast path: Lindley's recursion through every stage, compiled with numba.

It applies when every stage is a FIFO single server: each client's device, uplink and downlink,
and one cloud GPU without batching. A stage then starts request n at max(its arrival, the
stage's previous departure), so no event list is needed. The cloud is shared, so requests enter
it in the order they reach it over all clients: a small heap keyed by each client's next cloud
arrival merges the clients, and a client's next request is advanced only after its previous one
has left, because its radio state depends on that request's downlink.

The radio needs one more argument. An uplink decides from the downlinks that reached the radio
before it, which are all known here. A downlink, though, may find the radio idle only because
the recursion cannot yet see a later request's uplink that kept it awake; wherever a downlink
reaches the radio more than a tail after its own uplink ended and an idle radio would delay it,
the run is declared not reproducible and the caller falls back to simpy. Otherwise the per-
request times equal the simpy model's, computed with the same `transfer_start` arithmetic.
"""
from __future__ import annotations

import math

import numba
import numpy as np

from sim.des.radio import RadioParams, transfer_start_jit
from sim.des.workload import RECORD_FIELDS, Records, RequestSet

(_EDGE_START, _EDGE_END, _UP_PROMO, _UP_START, _UP_END, _CLOUD_ARR, _CLOUD_START, _CLOUD_END,
 _BATCH, _DOWN_ARR, _DOWN_PROMO, _DOWN_START, _DOWN_END) = range(len(RECORD_FIELDS))


@numba.njit(cache=True, inline="always")
def _heap_push(keys, vals, size, key, val):
    i = size
    keys[i] = key
    vals[i] = val
    while i > 0:
        parent = (i - 1) // 2
        if keys[parent] <= keys[i]:
            break
        keys[parent], keys[i] = keys[i], keys[parent]
        vals[parent], vals[i] = vals[i], vals[parent]
        i = parent
    return size + 1


@numba.njit(cache=True, inline="always")
def _heap_pop(keys, vals, size):
    val = vals[0]
    size -= 1
    keys[0] = keys[size]
    vals[0] = vals[size]
    i = 0
    while True:
        left = 2 * i + 1
        best = i
        if left < size and keys[left] < keys[best]:
            best = left
        if left + 1 < size and keys[left + 1] < keys[best]:
            best = left + 1
        if best == i:
            break
        keys[best], keys[i] = keys[i], keys[best]
        vals[best], vals[i] = vals[i], vals[best]
        i = best
    return val, size


@numba.njit(cache=True)
def _lindley(client, arrival_s, device_s, uplink_s, cloud_s, downlink_s, n_clients,
             half_rtt_s, tail_s, promotion_s, idle_changes_latency, rec):
    n = len(arrival_s)
    # Each client's requests in arrival order: mine[offset[c]:offset[c + 1]].
    offset = np.zeros(n_clients + 1, np.int64)
    for i in range(n):
        offset[client[i] + 1] += 1
    for c in range(n_clients):
        offset[c + 1] += offset[c]
    fill = offset[:-1].copy()
    mine = np.empty(n, np.int64)
    for i in range(n):
        mine[fill[client[i]]] = i
        fill[client[i]] += 1

    # Per-client state. The loop is one long dependency chain, so values are carried in locals
    # where possible (`t`, `cloud_start`, `ready`): array elements are reloaded after every
    # store into `rec`, which the compiler cannot prove does not alias them.
    edge_free = np.full(n_clients, -np.inf)
    up_free = np.full(n_clients, -np.inf)      # end of the client's last uplink
    down_free = np.full(n_clients, -np.inf)
    pos = np.zeros(n_clients, np.int64)        # position in `mine` of the request in flight
    seen = np.zeros(n_clients, np.int64)       # downlinks that reached the radio so far
    keys = np.empty(n_clients)
    vals = np.empty(n_clients, np.int64)
    size = 0
    cloud_free = -np.inf

    for c in range(n_clients):
        if offset[c + 1] > offset[c]:
            i = mine[offset[c]]
            edge_start = arrival_s[i]
            key = _uplink(i, c, edge_start, edge_start + device_s[i], uplink_s, up_free, -np.inf,
                          half_rtt_s, tail_s, promotion_s, rec)
            edge_free[c] = edge_start + device_s[i]
            size = _heap_push(keys, vals, size, key, c)
    while size > 0:
        t = keys[0]
        c, size = _heap_pop(keys, vals, size)
        p = offset[c] + pos[c]
        i = mine[p]
        cloud_start = max(t, cloud_free)
        cloud_free = cloud_start + cloud_s[i]
        t = cloud_free + half_rtt_s
        down_before = down_free[c]
        promo = math.nan
        if t < down_before:
            start = down_before
        elif t <= max(up_free[c], down_before) + tail_s:
            start = t
        elif idle_changes_latency:
            return False
        else:
            start = t          # idle, but waking costs no time: a zero-length promotion
            promo = t
        end = start + downlink_s[i]
        down_free[c] = end
        rec[i, _CLOUD_START] = cloud_start
        rec[i, _CLOUD_END] = cloud_free
        rec[i, _BATCH] = 1.0
        rec[i, _DOWN_ARR] = t
        rec[i, _DOWN_PROMO] = promo
        rec[i, _DOWN_START] = start
        rec[i, _DOWN_END] = end
        pos[c] += 1
        if p + 1 < offset[c + 1]:
            j = mine[p + 1]
            edge_start = max(arrival_s[j], edge_free[c])
            ready = edge_start + device_s[j]
            edge_free[c] = ready
            # The radio's latest activity as the simpy model sees it when request j reaches
            # the uplink: the client's previous uplink and the downlinks that reached the
            # radio by then (their ends increase with n).
            k = seen[c]
            while k <= pos[c] - 1 and rec[mine[offset[c] + k], _DOWN_ARR] <= ready:
                k += 1
            seen[c] = k
            last_down = rec[mine[offset[c] + k - 1], _DOWN_END] if k > 0 else -np.inf
            key = _uplink(j, c, edge_start, ready, uplink_s, up_free, last_down, half_rtt_s,
                          tail_s, promotion_s, rec)
            size = _heap_push(keys, vals, size, key, c)
    return True


@numba.njit(cache=True, inline="always")
def _uplink(i, c, edge_start, ready, uplink_s, up_free, last_down_end, half_rtt_s, tail_s,
            promotion_s, rec):
    """Uplink of request i of client c, ready at `ready`; returns its arrival at the cloud."""
    up_before = up_free[c]
    start_up, promo = transfer_start_jit(ready, up_before, max(up_before, last_down_end),
                                         -np.inf, tail_s, promotion_s, 0.0)
    end = start_up + uplink_s[i]
    up_free[c] = end
    rec[i, _EDGE_START] = edge_start
    rec[i, _EDGE_END] = ready
    rec[i, _UP_PROMO] = promo
    rec[i, _UP_START] = start_up
    rec[i, _UP_END] = end
    rec[i, _CLOUD_ARR] = end + half_rtt_s
    return end + half_rtt_s


def eligible(gpus: int, max_batch: int) -> bool:
    """Whether the cloud is a FIFO single server, the fast path's structural condition."""
    return gpus == 1 and max_batch == 1


def run(req: RequestSet, radio: RadioParams, batch1_s: float) -> Records | None:
    """Per-request records, or None when the radio makes the recursion inexact (see above)."""
    # One row per request keeps a request's writes in one or two cache lines; every field of
    # every request is written, so the array need not be initialised.
    rec = np.empty((len(req), len(RECORD_FIELDS)))
    ok = _lindley(req.client, req.arrival_s, req.device_s, req.uplink_s,
                  batch1_s * req.cloud_factor, req.downlink_s, req.n_clients, radio.half_rtt_s,
                  radio.tail_s, radio.promotion_s, radio.idle_changes_latency, rec)
    return Records.from_matrix(rec.T) if ok else None
