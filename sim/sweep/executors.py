"""Where chunk tasks run: in this process, a local process pool, or a Dask cluster.

Executors only compute; the driver writes every part, so results never depend on where a
task ran, and a Dask worker needs no shared file system. Each executor is a context manager
that shuts down what it started, also when the sweep is interrupted.
"""
from __future__ import annotations

import logging
import multiprocessing
import os
import signal
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Iterator

log = logging.getLogger(__name__)


class InlineExecutor:
    """One worker: tasks run here, in order (no start-up cost; the cost-only default)."""
    name = "inline"

    def __enter__(self) -> "InlineExecutor":
        return self

    def __exit__(self, *exc: Any) -> None:
        return None

    def map_unordered(self, fn: Callable, tasks: Iterable) -> Iterator:
        for task in tasks:
            yield fn(task)


def init_worker(threads: int, parent_pid: int) -> None:
    """Worker initializer. Caps torch's, OpenMP's and numba's thread pools: it runs in the
    fresh (spawned) worker before any task imports them, so the environment is enough; without
    it every worker starts one thread per core and the cores are oversubscribed. And ends the
    worker with its parent: a killed `sim sweep` leaves no workers computing on (Linux)."""
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
        os.environ[var] = str(threads)
    die_with_parent(parent_pid)


def die_with_parent(parent_pid: int) -> None:
    """Ask the kernel to send SIGTERM to this process when its parent dies (prctl
    PR_SET_PDEATHSIG; nothing where it does not exist), and go at once if the parent died
    while this worker was still starting."""
    try:
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, int(signal.SIGTERM), 0, 0, 0)
    except (OSError, AttributeError, TypeError, ValueError):
        return
    if os.getppid() != parent_pid:
        os._exit(1)


class PoolExecutor:
    """A local process pool. Workers are spawned, not forked: a fork of a process that has
    used torch's thread pools can deadlock. The cores are shared out between the workers."""
    name = "local"

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self._pool: ProcessPoolExecutor | None = None

    def __enter__(self) -> "PoolExecutor":
        threads = max(1, (os.cpu_count() or 1) // self.workers)
        self._pool = ProcessPoolExecutor(self.workers,
                                         mp_context=multiprocessing.get_context("spawn"),
                                         initializer=init_worker,
                                         initargs=(threads, os.getpid()))
        return self

    def __exit__(self, *exc: Any) -> None:
        assert self._pool is not None
        self._pool.shutdown(wait=True, cancel_futures=True)

    def map_unordered(self, fn: Callable, tasks: Iterable) -> Iterator:
        assert self._pool is not None
        futures = [self._pool.submit(fn, t) for t in tasks]
        for f in as_completed(futures):
            yield f.result()


@dataclass
class DaskExecutor:
    """Dask distributed: the scheduler at `scheduler`, or a local cluster on loopback.

    `cluster_kwargs` go to LocalCluster (tests use processes=False with protocol tcp://: real
    scheduler and workers talking over 127.0.0.1, without spawning processes)."""
    scheduler: str | None = None
    workers: int = 2
    cluster_kwargs: dict = field(default_factory=dict)
    name: str = "dask"

    def __enter__(self) -> "DaskExecutor":
        from distributed import Client, LocalCluster

        self._cluster = None
        if self.scheduler:
            try:
                self._client = Client(self.scheduler, timeout="10s")
            except (OSError, TimeoutError) as exc:
                from core.errors import UserError
                raise UserError(f"--scheduler {self.scheduler}: cannot connect ({exc})") \
                    from None
        else:
            kwargs = {"n_workers": self.workers, "threads_per_worker": 1,
                      "host": "127.0.0.1", "dashboard_address": None, "processes": True,
                      **self.cluster_kwargs}
            self._cluster = LocalCluster(**kwargs)
            self._client = Client(self._cluster)
        log.info("dask scheduler %s", self._client.scheduler.address)
        return self

    def __exit__(self, *exc: Any) -> None:
        try:
            self._client.close()
        finally:
            if self._cluster is not None:
                self._cluster.close()

    def map_unordered(self, fn: Callable, tasks: Iterable) -> Iterator:
        from distributed import as_completed as dask_completed

        futures = [self._client.submit(fn, t, pure=False) for t in tasks]
        try:
            for f in dask_completed(futures):
                yield f.result()
        finally:
            self._client.cancel(futures)


def make_executor(kind: str, workers: int | None, scheduler: str | None, cost_only: bool):
    """`local` with one worker runs inline; cost-only sweeps default to one worker, because
    a spawned worker pays seconds of imports and profiling while the vectorized path does
    10^4 configurations in about that time."""
    if kind == "dask":
        return DaskExecutor(scheduler=scheduler, workers=workers or 2)
    if workers is None:
        workers = 1 if cost_only else max(1, multiprocessing.cpu_count())
    return InlineExecutor() if workers == 1 else PoolExecutor(workers)
