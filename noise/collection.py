"""A Shredder noise collection: K tuples of (Laplace fit, element order) for n1 and n2.

File format `shredder-collection` version 1: one `.npz` (no pickle) holding
  loc, scale        float64 (K, 2)      index 0 = multiplicative n1, 1 = additive n2
  order             int32   (K, 2, n)   flattened indices sorted by learned value, descending
  ks_stat, hist_sse float64 (K, 2)      goodness of fit of each tensor to its Laplace
  heldout_accuracy  float64 (K,)        accuracy of each learned tuple on the held-out split
  inv_snr           float64 (K,)        1/SNR of each learned tuple on held-out activations
  meta              uint8   (bytes,)    UTF-8 JSON: format, version, model, cut, shape, seed,
                                        hyper-parameters, mean accuracy and its margin, ...
Written atomically (temporary file + os.replace), validated fully when loaded.
"""
from __future__ import annotations

import json
import math
import os
import zipfile
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from core.atomic import write_atomic
from noise.fit import element_order, fit_laplace

FORMAT = "shredder-collection"
VERSION = 1
_ARRAYS = ("loc", "scale", "order", "ks_stat", "hist_sse", "heldout_accuracy", "inv_snr")


class CollectionError(ValueError):
    """A collection file that cannot be used; str() is one line for users."""


@dataclass(frozen=True)
class NoiseCollection:
    model: str
    cut: int
    shape: tuple[int, ...]           # activation shape without the batch dimension
    loc: np.ndarray
    scale: np.ndarray
    order: np.ndarray
    ks_stat: np.ndarray
    hist_sse: np.ndarray
    heldout_accuracy: np.ndarray
    inv_snr: np.ndarray
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        problem = _shape_problem(self)
        if problem:
            raise CollectionError(problem)

    @property
    def size(self) -> int:
        return int(self.loc.shape[0])

    @property
    def elements(self) -> int:
        return int(np.prod(self.shape))

    def accuracy_summary(self) -> tuple[float, float]:
        """Mean held-out accuracy and its 95 % margin (1.96 standard errors; 0 for K = 1)."""
        acc = self.heldout_accuracy
        margin = 1.96 * float(np.std(acc, ddof=1)) / math.sqrt(acc.size) if acc.size > 1 else 0.0
        return float(np.mean(acc)), margin


def _shape_problem(c: NoiseCollection) -> str | None:
    k, n = c.loc.shape[0] if c.loc.ndim == 2 else -1, int(np.prod(c.shape))
    want = {"loc": (k, 2), "scale": (k, 2), "order": (k, 2, n), "ks_stat": (k, 2),
            "hist_sse": (k, 2), "heldout_accuracy": (k,), "inv_snr": (k,)}
    if k < 1:
        return f"collection holds no tuples (loc has shape {c.loc.shape})"
    for name, shape in want.items():
        got = getattr(c, name).shape
        if got != shape:
            return (f"array {name!r} has shape {got}, expected {shape} for {k} tuples of {n} "
                    "elements")
    if not (np.all(np.isfinite(c.loc)) and np.all(np.isfinite(c.scale)) and np.all(c.scale > 0)):
        return "Laplace parameters must be finite with scale > 0"
    return None


def _check_permutations(order: np.ndarray) -> str | None:
    k, _, n = order.shape
    if order.min() < 0 or order.max() >= n:
        return f"element orders must index 0..{n - 1}"
    for row in order.reshape(-1, n):
        if not np.all(np.bincount(row, minlength=n) == 1):
            return "an element order is not a permutation (repeated or missing indices)"
    return None


def save_collection(path: str | os.PathLike, coll: NoiseCollection) -> None:
    meta = dict(coll.meta, format=FORMAT, version=VERSION, model=coll.model, cut=coll.cut,
                shape=list(coll.shape), size=coll.size)
    arrays = {name: getattr(coll, name) for name in _ARRAYS}
    arrays["order"] = coll.order.astype(np.int32)
    arrays["meta"] = np.frombuffer(json.dumps(meta, sort_keys=True).encode(), dtype=np.uint8)
    def write(tmp: str) -> None:
        with open(tmp, "wb") as fh:
            np.savez(fh, **arrays)
            fh.flush()
            os.fsync(fh.fileno())

    write_atomic(path, write)   # readers see the old file or the whole new one, never half


def _read(path: str) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    try:
        with np.load(path, allow_pickle=False) as z:
            missing = [k for k in (*_ARRAYS, "meta") if k not in z.files]
            if missing:
                raise CollectionError(f"{path}: not a noise collection (missing "
                                      f"{', '.join(missing)})")
            arrays = {k: z[k] for k in _ARRAYS}
            meta = json.loads(z["meta"].tobytes().decode())
    except CollectionError:
        raise
    except FileNotFoundError:
        raise CollectionError(f"{path}: collection file not found") from None
    except (zipfile.BadZipFile, EOFError, OSError, ValueError, KeyError, UnicodeDecodeError) as exc:
        raise CollectionError(f"{path}: truncated or corrupt collection file ({exc})") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise CollectionError(f"{path}: not a {FORMAT} file")
    if meta.get("version") != VERSION:
        raise CollectionError(f"{path}: format version {meta.get('version')!r}, "
                              f"this build reads version {VERSION}")
    return arrays, meta


def load_collection(path: str | os.PathLike, expect_model: str | None = None,
                    expect_cut: int | None = None,
                    expect_shape: tuple[int, ...] | None = None) -> NoiseCollection:
    """Load and validate; raise CollectionError naming the file and the problem."""
    path = os.fspath(path)
    arrays, meta = _read(path)
    try:
        coll = NoiseCollection(model=str(meta["model"]), cut=int(meta["cut"]),
                               shape=tuple(int(s) for s in meta["shape"]),
                               meta=meta, **arrays)
    except CollectionError as exc:
        raise CollectionError(f"{path}: {exc}") from None
    except (KeyError, TypeError, ValueError) as exc:
        raise CollectionError(f"{path}: bad metadata ({exc})") from None
    problem = _check_permutations(coll.order)
    if problem:
        raise CollectionError(f"{path}: {problem}")
    if expect_model is not None and coll.model != expect_model:
        raise CollectionError(f"{path}: collection was learned for model {coll.model!r}, "
                              f"not {expect_model!r}")
    if expect_cut is not None and coll.cut != expect_cut:
        raise CollectionError(f"{path}: collection was learned at cut {coll.cut}, "
                              f"not cut {expect_cut}")
    if expect_shape is not None and tuple(expect_shape) != coll.shape:
        raise CollectionError(f"{path}: collection noise has shape {list(coll.shape)}, "
                              f"the activation at this cut has {list(expect_shape)}")
    return coll


def assemble_collection(kept: list[tuple[Any, ...]], model: str, cut: int,
                        shape: tuple[int, ...]) -> NoiseCollection:
    """A collection from (Laplace fits of n1 and n2, order of n1, order of n2, held-out
    accuracy, 1/SNR) per accepted tuple; no metadata."""
    return NoiseCollection(
        model=model, cut=cut, shape=shape,
        loc=np.array([[f.loc for f in fits] for fits, *_ in kept]),
        scale=np.array([[f.scale for f in fits] for fits, *_ in kept]),
        order=np.stack([np.stack([o1, o2]) for _, o1, o2, *_ in kept]).astype(np.int32),
        ks_stat=np.array([[f.ks_stat for f in fits] for fits, *_ in kept]),
        hist_sse=np.array([[f.hist_sse for f in fits] for fits, *_ in kept]),
        heldout_accuracy=np.array([acc for *_, acc, _ in kept]),
        inv_snr=np.array([r for *_, r in kept]), meta={})


def single_tuple_collection(n1: np.ndarray, n2: np.ndarray, model: str = "",
                            cut: int = -1) -> NoiseCollection:
    """A one-tuple collection from learned tensors (for sampled held-out checks)."""
    return assemble_collection([((fit_laplace(n1), fit_laplace(n2)), element_order(n1),
                                 element_order(n2), 0.0, 0.0)], model, cut, tuple(n1.shape))
