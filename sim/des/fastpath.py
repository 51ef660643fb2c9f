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
             half_rtt_s, tail_s, promotion_s, beacon_s, idle_changes_latency, rec):
    n = len(arrival_s)
    # Each client's requests in arrival order.
    count = np.zeros(n_clients, np.int64)
    for i in range(n):
        count[client[i]] += 1
    offset = np.zeros(n_clients + 1, np.int64)
    for c in range(n_clients):
        offset[c + 1] = offset[c] + count[c]
    fill = offset[:-1].copy()
    mine = np.empty(n, np.int64)
    for i in range(n):
        mine[fill[client[i]]] = i
        fill[client[i]] += 1

    edge_free = np.full(n_clients, -np.inf)
    up_free = np.full(n_clients, -np.inf)
    up_last_end = np.full(n_clients, -np.inf)
    down_free = np.full(n_clients, -np.inf)
    next_pos = np.zeros(n_clients, np.int64)     # next request (position in `mine`) to advance
    done = np.zeros(n_clients, np.int64)         # requests whose downlink is decided
    seen = np.zeros(n_clients, np.int64)         # downlinks that reached the radio so far
    keys = np.empty(n_clients)
    vals = np.empty(n_clients, np.int64)
    size = 0
    cloud_free = -np.inf

    for c in range(n_clients):
        if count[c] > 0:
            size = _advance(c, mine, offset, next_pos, done, seen, edge_free, up_free,
                            up_last_end, arrival_s, device_s, uplink_s, half_rtt_s, tail_s,
                            promotion_s, rec, keys, vals, size)
    while size > 0:
        c, size = _heap_pop(keys, vals, size)
        i = mine[offset[c] + next_pos[c] - 1]
        start = max(rec[i, _CLOUD_ARR], cloud_free)
        end = start + cloud_s[i]
        cloud_free = end
        rec[i, _CLOUD_START] = start
        rec[i, _CLOUD_END] = end
        rec[i, _BATCH] = 1.0
        t = end + half_rtt_s
        rec[i, _DOWN_ARR] = t
        promo = math.nan
        if t < down_free[c]:
            start = down_free[c]
        elif t <= max(rec[i, _UP_END], down_free[c]) + tail_s:
            start = t
        elif idle_changes_latency:
            return False
        else:
            start = t          # idle, but waking costs no time: a zero-length promotion
            promo = t
        rec[i, _DOWN_PROMO] = promo
        rec[i, _DOWN_START] = start
        rec[i, _DOWN_END] = start + downlink_s[i]
        down_free[c] = start + downlink_s[i]
        done[c] += 1
        if next_pos[c] < count[c]:
            size = _advance(c, mine, offset, next_pos, done, seen, edge_free, up_free,
                            up_last_end, arrival_s, device_s, uplink_s, half_rtt_s, tail_s,
                            promotion_s, rec, keys, vals, size)
    return True


@numba.njit(cache=True, inline="always")
def _advance(c, mine, offset, next_pos, done, seen, edge_free, up_free, up_last_end, arrival_s,
             device_s, uplink_s, half_rtt_s, tail_s, promotion_s, rec, keys, vals, size):
    """Edge and uplink of client c's next request; pushes its cloud arrival."""
    i = mine[offset[c] + next_pos[c]]
    next_pos[c] += 1
    start = max(arrival_s[i], edge_free[c])
    t = start + device_s[i]
    edge_free[c] = t
    rec[i, _EDGE_START] = start
    rec[i, _EDGE_END] = t
    # The radio's latest activity as the simpy model sees it at t: this client's previous
    # uplink and the downlinks that reached the radio by t (their ends increase with n).
    while seen[c] < done[c] and rec[mine[offset[c] + seen[c]], _DOWN_ARR] <= t:
        seen[c] += 1
    last_end = up_last_end[c]
    if seen[c] > 0:
        last_end = max(last_end, rec[mine[offset[c] + seen[c] - 1], _DOWN_END])
    start, promo = transfer_start_jit(t, up_free[c], last_end, -np.inf, tail_s, promotion_s, 0.0)
    end = start + uplink_s[i]
    up_free[c] = end
    up_last_end[c] = end
    rec[i, _UP_PROMO] = promo
    rec[i, _UP_START] = start
    rec[i, _UP_END] = end
    rec[i, _CLOUD_ARR] = end + half_rtt_s
    return _heap_push(keys, vals, size, end + half_rtt_s, c)


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
                  radio.tail_s, radio.promotion_s, radio.beacon_s, radio.idle_changes_latency, rec)
    return Records.from_matrix(rec.T) if ok else None
