"""The requests of one replication: arrivals and per-stage service times, drawn once and fed
unchanged to either engine, so that the simpy model and the fast path see the same streams."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.des.arrivals import merged_arrivals
from sim.des.settings import SimSettings, StageCosts

_ARRIVAL_STREAM, _SERVICE_STREAM = 0, 1


@dataclass(frozen=True)
class RequestSet:
    """Per request, in arrival order over all clients."""
    client: np.ndarray          # int64
    arrival_s: np.ndarray
    edge_s: np.ndarray          # edge compute of the local part
    noise_s: np.ndarray         # noise generation, right after it on the same device
    device_s: np.ndarray        # edge_s + noise_s: how long the request holds the device
    uplink_s: np.ndarray        # transmission time of the activation
    cloud_factor: np.ndarray    # multiplies the batch latency (1 unless service is random)
    downlink_s: np.ndarray
    n_clients: int

    def __len__(self) -> int:
        return len(self.arrival_s)


def stream(seed: int, replication: int, client: int, purpose: int) -> np.random.Generator:
    """Independent generator per (replication, client, purpose): replication r's numbers do not
    depend on how many replications run, so the stop rule cannot change them."""
    return np.random.Generator(np.random.PCG64(
        np.random.SeedSequence(seed, spawn_key=(replication, client, purpose))))


def build_requests(costs: StageCosts, uplink_tx_s: float, downlink_tx_s: float,
                   settings: SimSettings, replication: int) -> RequestSet:
    """Draw the arrivals and service times of one replication.

    `*_tx_s` are the transmission times of the payloads at the link's rates (the engines add
    propagation and the radio's own delays)."""
    clients = settings.clients
    arrival_rngs = [stream(settings.seed, replication, c, _ARRIVAL_STREAM) for c in range(clients)]
    arrival_s, client = merged_arrivals(settings.arrival, clients, settings.requests, arrival_rngs)
    n = len(arrival_s)
    if settings.service == "exponential":
        factors = np.empty((n, 4))
        for c in range(clients):
            mine = np.flatnonzero(client == c)
            factors[mine] = stream(settings.seed, replication, c,
                                   _SERVICE_STREAM).standard_exponential((len(mine), 4))
    else:
        factors = np.ones((n, 4))
    edge_s = costs.edge_compute_s * factors[:, 0]
    noise_s = costs.noise_s * factors[:, 0]
    return RequestSet(client=client, arrival_s=arrival_s, edge_s=edge_s, noise_s=noise_s,
                      device_s=edge_s + noise_s, uplink_s=uplink_tx_s * factors[:, 1],
                      cloud_factor=factors[:, 2].copy(),
                      downlink_s=downlink_tx_s * factors[:, 3], n_clients=clients)


RECORD_FIELDS = ("edge_start_s", "edge_end_s", "up_promo_s", "up_start_s", "up_end_s",
                 "cloud_arrival_s", "cloud_start_s", "cloud_end_s", "batch_size",
                 "down_arrival_s", "down_promo_s", "down_start_s", "down_end_s")


@dataclass(frozen=True)
class Records:
    """What happened to each request (same order as its RequestSet). `*_promo_s` is when a
    promotion before that transfer began (NaN: none); it ends when the transfer starts."""
    edge_start_s: np.ndarray
    edge_end_s: np.ndarray
    up_promo_s: np.ndarray
    up_start_s: np.ndarray
    up_end_s: np.ndarray
    cloud_arrival_s: np.ndarray
    cloud_start_s: np.ndarray
    cloud_end_s: np.ndarray
    batch_size: np.ndarray
    down_arrival_s: np.ndarray
    down_promo_s: np.ndarray
    down_start_s: np.ndarray
    down_end_s: np.ndarray

    @classmethod
    def from_matrix(cls, rows: np.ndarray) -> Records:
        """Rows in RECORD_FIELDS order, one column per request."""
        return cls(*(rows[k] for k in range(len(RECORD_FIELDS))))
