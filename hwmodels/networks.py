"""Lists of whole networks read from CSV (calibration measurements, `sim predict` inputs) and
their profiles as one `LayerTable`.

A CSV row names a network by any model source (zoo name, `nb201:<arch>`, `file.py:factory`,
`.onnx`) with an optional `input_shape` ("3,32,32") and `batch_size` (default 1). Problems are
reported with the CSV's row (1-based, header excluded) and column, all at once.
The profiles of a whole list are cached as one entry (checksummed, `core.cache`): a warm
`sim predict` of 15,625 networks reads one file instead of tracing anything.
"""
from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from core.cache import ArtifactCache
from core.errors import UserError
from hwmodels.folding import NB201_PREFIX, converter_removed
from hwmodels.netcost import LayerTable
from partitioner import code_digest
from partitioner.types import LayerProfile

log = logging.getLogger(__name__)

Shape = tuple[int, ...] | None


@dataclass(frozen=True)
class NetworkList:
    frame: pd.DataFrame                 # the CSV as read (every input column kept)
    models: tuple[str, ...]
    shapes: tuple[Shape, ...]
    batch_sizes: np.ndarray             # int per row


def _where(path, row: int, column: str) -> str:
    return f"{Path(path).name} row {row}, column {column}"


def read_csv(path: str | Path, what: str) -> pd.DataFrame:
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{what} {str(path)!r}: file not found")
    try:
        df = pd.read_csv(path, dtype={"model": str, "input_shape": str}, keep_default_na=False)
    except (OSError, ValueError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise UserError(f"{what} {str(path)!r}: not a readable CSV ({exc})") from None
    df.columns = [str(c).strip() for c in df.columns]
    return df


def parse_networks(df: pd.DataFrame, path: str | Path,
                   batch_override: int | None = None) -> NetworkList:
    """Check the `model`, `input_shape` and `batch_size` columns; every problem at once."""
    problems: list[str] = []
    if "model" not in df:
        raise UserError(f"{Path(path).name}: column model is missing (columns: "
                        f"{', '.join(df.columns) or 'none'})")
    if len(df) == 0:
        raise UserError(f"{Path(path).name}: no rows")
    models, shapes, batches = [], [], []
    for i, rec in enumerate(df.to_dict("records"), start=1):
        model = str(rec["model"]).strip()
        if not model:
            problems.append(f"{_where(path, i, 'model')}: empty")
        models.append(model)
        shape_text = str(rec.get("input_shape", "")).strip()
        shape: Shape = None
        if shape_text:
            try:
                shape = tuple(int(s) for s in shape_text.replace("x", ",").split(","))
                if any(d < 1 for d in shape):
                    raise ValueError
            except ValueError:
                problems.append(f"{_where(path, i, 'input_shape')}: expected positive integers "
                                f"like 3,32,32, got {shape_text!r}")
                shape = None
        shapes.append(shape)
        batch = batch_override
        if batch is None:
            text = str(rec.get("batch_size", "")).strip()
            try:
                batch = int(float(text)) if text else 1
                if batch < 1 or float(text or 1) != batch:
                    raise ValueError
            except ValueError:
                problems.append(f"{_where(path, i, 'batch_size')}: expected an integer >= 1, "
                                f"got {text!r}")
                batch = 1
        batches.append(batch)
    if problems:
        raise UserError(problems)
    return NetworkList(df, tuple(models), tuple(shapes), np.array(batches, dtype=np.int64))


def positive_column(df: pd.DataFrame, path: str | Path, column: str) -> np.ndarray:
    """A column of numbers > 0, or a UserError naming each bad row."""
    values = pd.to_numeric(df[column], errors="coerce").to_numpy(dtype=float)
    bad = [i for i, v in enumerate(values, start=1) if not (np.isfinite(v) and v > 0)]
    if bad:
        raise UserError([f"{_where(path, i, column)}: must be a number > 0, got "
                         f"{df[column].iloc[i - 1]!r}" for i in bad[:20]]
                        + ([f"... and {len(bad) - 20} more rows"] if len(bad) > 20 else []))
    return values


# ----------------------------------------------------------------------------- profiling
def _profile_one(model: str, shape: Shape) -> Sequence[LayerProfile]:
    from partitioner.profile import profile_model
    return profile_model(model, shape).layers


def _profile_all(specs: Sequence[tuple[str, Shape]]) -> list[Sequence[LayerProfile]]:
    """NAS-Bench-201 networks through the partitioner's bulk profiler (about 1,600 a second),
    the rest one by one."""
    from partitioner.nb201_fast import profile_nb201_many

    out: list = [None] * len(specs)
    nb = [i for i, (m, _) in enumerate(specs) if m.startswith(NB201_PREFIX)]
    by_shape: dict[Shape, list[int]] = {}
    for i in nb:
        by_shape.setdefault(specs[i][1], []).append(i)
    for shape, idx in by_shape.items():
        archs = [specs[i][0][len(NB201_PREFIX):] for i in idx]
        kwargs = {"input_shape": shape} if shape is not None else {}
        for i, graph in zip(idx, profile_nb201_many(archs, **kwargs)):
            out[i] = graph.layers
    for i, (m, s) in enumerate(specs):
        if out[i] is None:
            out[i] = _profile_one(m, s)
    return out


def _profile_checked(specs: list[tuple[str, Shape]], rows_of: dict, path) -> list:
    try:
        return _profile_all(specs)
    except (ValueError, KeyError, UserError, TypeError):
        pass
    # Something failed in bulk: profile one by one to name every bad row.
    out, problems = [], []
    for spec in specs:
        try:
            out.append(_profile_one(*spec))
        except (ValueError, KeyError, UserError, TypeError) as exc:
            msg = "; ".join(exc.problems) if isinstance(exc, UserError) else str(exc)
            problems.append(f"{_where(path, rows_of[spec], 'model')}: {spec[0]!r}: {msg}")
            out.append(())
    if problems:
        more = [f"... and {len(problems) - 20} more rows"] if len(problems) > 20 else []
        raise UserError(problems[:20] + more)
    return out


def _save_table(table: LayerTable, path: str) -> None:
    with open(path, "wb") as f:
        # Narrow integer codes; counts stay float64 (float32 would round 2^24+ FLOPs).
        np.savez(f, op_types=np.array(table.op_types, dtype=str),
                 network=table.network.astype(np.int32), op_code=table.op_code.astype(np.int16),
                 ops=table.ops, act_bytes=table.act_bytes,
                 param_bytes=table.param_bytes, macs=table.macs,
                 n_networks=np.array(table.n_networks),
                 converter_removed=table.converter_removed)


def _load_table(path: str) -> LayerTable:
    with np.load(path, allow_pickle=False) as z:
        return LayerTable(op_types=tuple(str(s) for s in z["op_types"]),
                          network=z["network"].astype(np.int64),
                          op_code=z["op_code"].astype(np.int64), ops=z["ops"],
                          act_bytes=z["act_bytes"],
                          param_bytes=z["param_bytes"], macs=z["macs"],
                          n_networks=int(z["n_networks"]),
                          converter_removed=z["converter_removed"].astype(bool))


def _table_code() -> str:
    """A digest of the modules that turn profiles into a table (the profiler has its own):
    an edit to the converter rewrites invalidates cached tables."""
    h = hashlib.sha256()
    for name in ("folding.py", "netcost.py", "networks.py"):
        h.update((Path(__file__).parent / name).read_bytes())
    return h.hexdigest()[:16]


def cached_table(key: dict, build: Callable[[], LayerTable],
                 cache_dir: str | None = None) -> LayerTable:
    """The table `build` makes, from the artifact cache under `key` and the digests of the
    profiler and of this package's table code (an edit to either rebuilds it). The table must
    carry its converter removals (all False where there are none): the cache stores no
    objects."""
    full = {**key, "code": code_digest(), "table_code": _table_code()}
    table, _, _ = ArtifactCache(cache_dir).get_or_build("network-tables", full, ".npz", build,
                                                       _save_table, _load_table)
    return table


def profiles_table(models: Sequence[str], profiles: Sequence[Sequence[LayerProfile]]
                   ) -> LayerTable:
    """One LayerTable of these networks' profiles, each with its converter removals
    (hwmodels.folding; the cache stores them with the table)."""
    return LayerTable.from_layers(profiles, [
        converter_removed(m, [layer.op_type for layer in layers])
        for m, layers in zip(models, profiles)])


def network_table(nets: NetworkList, path: str | Path = "MODELS.csv",
                  cache_dir: str | None = None, use_cache: bool = True) -> LayerTable:
    """One LayerTable row block per CSV row (rows naming the same network share a profile)."""
    specs = list(zip(nets.models, nets.shapes))
    unique = list(dict.fromkeys(specs))

    def build() -> LayerTable:
        rows_of = {}
        for i, spec in enumerate(specs, start=1):
            rows_of.setdefault(spec, i)
        return profiles_table([m for m, _ in unique], _profile_checked(unique, rows_of, path))

    if use_cache:
        table = cached_table({"kind": "network-table", "networks": hashlib.sha256(
            json.dumps(unique).encode()).hexdigest()}, build, cache_dir)
    else:
        table = build()
    index = {spec: k for k, spec in enumerate(unique)}
    return table.select([index[s] for s in specs])
