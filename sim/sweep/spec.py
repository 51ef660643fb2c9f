"""What a sweep varies: `--grid key.path=v1,v2,...` axes, `key.path=lo:hi` ranges sampled by a
Latin hypercube, and their expansion into an ordered list of configurations.
`--grid a.b+c.d=v1,v2,...` pairs keys: they take each value together (one axis, e.g. square
arrays `edge.accelerator.rows+edge.accelerator.cols=16,32,64`).

Parsing is pure (no config is touched here); validation against the scenario schema happens in
`sim.sweep.validate`, before any work starts.
"""
from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
import math
import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from core.errors import UserError
from core.schema import CEILINGS
from sim.overrides import parse_value, split_assignment

# `lo:hi` with two numbers. Checked before YAML parsing, because YAML 1.1 reads `1:20` as the
# sexagesimal integer 80.
_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_RANGE = re.compile(rf"^\s*({_NUMBER})\s*:\s*({_NUMBER})\s*$")


@dataclass(frozen=True)
class GridAxis:
    key: str
    values: tuple[Any, ...]
    texts: tuple[str, ...]          # as the user wrote them, for messages
    pair: str | None = None         # "a+b": axes of one pair move together (one sweep axis)


@dataclass(frozen=True)
class RangeAxis:
    key: str
    lo: float
    hi: float
    integer: bool                   # both ends written as integers (decided again by validation)
    text: str


@dataclass(frozen=True)
class SweepSpec:
    grid: tuple[GridAxis, ...]
    ranges: tuple[RangeAxis, ...]
    samples: int | None
    seed: int

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(a.key for a in self.grid) + tuple(r.key for r in self.ranges)


def split_values(text: str) -> list[str]:
    """Split on commas outside brackets and quotes, so `[1, 2],[3, 4]` gives two lists."""
    parts, depth, quote, start = [], 0, None, 0
    for i, ch in enumerate(text):
        if quote:
            quote = None if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch in "[{":
            depth += 1
        elif ch in "]}":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return [p.strip() for p in parts]


def parse_axis(expr: str) -> GridAxis | RangeAxis:
    key, value_text = split_assignment(expr, "--grid")
    m = _RANGE.match(value_text)
    if m:
        lo_t, hi_t = m.group(1), m.group(2)
        lo, hi = float(lo_t), float(hi_t)
        if not lo < hi:
            raise UserError(f"--grid {expr!r}: range lo:hi needs lo < hi")
        integer = all(re.fullmatch(r"[-+]?\d+", t) for t in (lo_t, hi_t))
        return RangeAxis(key, lo, hi, integer, value_text)
    texts = split_values(value_text)
    if any(t == "" for t in texts):
        raise UserError(f"--grid {expr!r}: expected key.path=v1,v2,... with no empty value")
    return GridAxis(key, tuple(parse_value(t) for t in texts), tuple(texts))


def parse_axes(expr: str) -> list[GridAxis | RangeAxis]:
    """One axis, or one GridAxis per key of a paired `a+b=v1,v2,...`."""
    key, _ = split_assignment(expr, "--grid")
    if "+" not in key:
        return [parse_axis(expr)]
    keys = [k.strip() for k in key.split("+")]
    axis = parse_axis(expr)
    if not all(keys) or len(set(keys)) < len(keys):
        raise UserError(f"--grid {expr!r}: paired keys are key.path+key.path, each once")
    if isinstance(axis, RangeAxis):
        raise UserError(f"--grid {expr!r}: paired keys take a list of values, not a lo:hi range")
    return [dataclasses.replace(axis, key=k, pair=key) for k in keys]


def parse_spec(grid_exprs: list[str], samples: int | None, seed: int) -> SweepSpec:
    problems: list[str] = []
    axes: list[GridAxis | RangeAxis] = []
    for expr in grid_exprs:
        try:
            axes.extend(parse_axes(expr))
        except UserError as exc:
            problems.extend(exc.problems)
    keys = [a.key for a in axes]
    for key in sorted({k for k in keys if keys.count(k) > 1}):
        problems.append(f"--grid {key}: given more than once; give all its values in one --grid")
    grid = tuple(a for a in axes if isinstance(a, GridAxis))
    ranges = tuple(a for a in axes if isinstance(a, RangeAxis))
    if ranges and samples is None:
        problems.append(f"--grid {ranges[0].key}={ranges[0].text}: a lo:hi range needs "
                        "--sample N (Latin hypercube)")
    if samples is not None and samples < 1:
        problems.append(f"--sample {samples}: must be >= 1")
    if samples is not None and not ranges:
        problems.append("--sample: needs at least one --grid key.path=lo:hi range")
    if not axes:
        problems.append("--grid: give at least one key.path=v1,v2,... (or lo:hi with --sample)")
    if problems:
        raise UserError(problems)
    spec = SweepSpec(grid, ranges, samples, seed)
    limit, why = CEILINGS["sweep_configs"]
    if config_count(spec) > limit:
        raise UserError(f"--grid/--sample: {config_count(spec):,} configurations; at most "
                        f"{limit:,} ({why})")
    return spec


def config_count(spec: SweepSpec) -> int:
    """How many configurations `expand` makes, without making them."""
    sizes: dict[str, int] = {}
    for a in spec.grid:
        sizes[a.pair or a.key] = len(a.values)
    return math.prod(sizes.values()) * (spec.samples or 1)


def latin_hypercube(n: int, dims: int, seed: int) -> np.ndarray:
    """n points in [0, 1)^dims, one per stratum of every dimension (McKay et al. 1979)."""
    rng = np.random.default_rng(seed)
    u = np.empty((n, dims))
    for d in range(dims):
        u[:, d] = (rng.permutation(n) + rng.random(n)) / n
    return u


def sample_values(axis: RangeAxis, u: np.ndarray) -> list[Any]:
    if axis.integer:
        lo, hi = int(axis.lo), int(axis.hi)
        # floor over hi - lo + 1 equal strata keeps every integer equally likely
        return [int(min(hi, lo + math.floor(x * (hi - lo + 1)))) for x in u]
    return [float(axis.lo + x * (axis.hi - axis.lo)) for x in u]


def expand(spec: SweepSpec) -> list[tuple[tuple[str, Any], ...]]:
    """Every configuration as (key, value) pairs in `spec.keys` order.

    Grid points are the Cartesian product (last --grid fastest; paired keys are one factor);
    with --sample N each grid point gets the same N Latin-hypercube samples of the ranges.
    """
    factors: dict[str, list[int]] = {}
    for i, a in enumerate(spec.grid):
        factors.setdefault(a.pair or a.key, []).append(i)
    combos = itertools.product(*(range(len(spec.grid[idx[0]].values))
                                 for idx in factors.values()))
    grid_points = []
    for combo in combos:
        point: list[Any] = [None] * len(spec.grid)
        for j, idx in zip(combo, factors.values()):
            for i in idx:
                point[i] = spec.grid[i].values[j]
        grid_points.append(tuple(point))
    if spec.ranges:
        u = latin_hypercube(spec.samples or 0, len(spec.ranges), spec.seed)
        columns = [sample_values(r, u[:, d]) for d, r in enumerate(spec.ranges)]
        samples = list(zip(*columns))
    else:
        samples = [()]
    keys = spec.keys
    return [tuple(zip(keys, g + s)) for g in grid_points for s in samples]


def spec_fingerprint(spec: SweepSpec) -> dict:
    return {"grid": [[a.key, list(a.texts)] + ([a.pair] if a.pair else []) for a in spec.grid],
            "ranges": [[r.key, r.lo, r.hi, r.integer] for r in spec.ranges],
            "samples": spec.samples, "seed": spec.seed}


def digest(obj: Any) -> str:
    text = json.dumps(obj, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]
