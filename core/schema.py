"""Build frozen dataclasses from raw YAML mappings, collecting every problem with its key path.

The validate step of "load, validate, build": unknown keys, wrong types and the dataclass's own
`__post_init__` checks (which raise ValueError) become messages like
`link.uplink_mbps: must be > 0`, all of them at once, instead of the first traceback.
"""
from __future__ import annotations

import dataclasses
import math
import types
import typing
from typing import Any, TypeVar

from core.atomic import MAX_NAME_CHARS

T = TypeVar("T")


class FieldError(ValueError):
    """A dataclass check that failed, with the failing field's name as data: `problems` holds
    (field, message) pairs, every failed check of one object at once."""

    def __init__(self, field: str | list[tuple[str, str]], message: str | None = None) -> None:
        self.problems = [(field, message or "")] if isinstance(field, str) else list(field)
        super().__init__("; ".join(f'"{f}" {m}' for f, m in self.problems))


# Ceilings on sizes that set memory or time; each says why (README, "Size ceilings").
CEILINGS: dict[str, tuple[int, str]] = {
    "requests": (1_000_000, "the simulator keeps every request's timestamps: ~0.3 GB and about "
                            "a minute per cut and replication at the ceiling"),
    "clients": (10_000, "each client is a device with its own radio and random stream"),
    "replications": (1_000, "each replication re-simulates every cut"),
    "gpus": (1_024, "the cloud queue tracks each GPU"),
    "max_batch": (1_024, "the cloud's latency is computed for every batch size up to it"),
    "batch_size": (65_536, "bytes per request must stay exact in 64-bit integers"),
    "input_elements": (1 << 28, "profiling runs the network once on an input of this size "
                                "(1 GiB of float32 at the ceiling)"),
    "sweep_configs": (1_000_000, "every configuration is a row per cut in sweep.csv"),
    "mi_samples": (100_000, "k-NN estimators cost n log n per estimate and resample"),
    "name_chars": (MAX_NAME_CHARS, "the scenario name is a folder name under results/"),
}


def within_ceiling(c: "Checks", field: str, value: int, minimum: int = 1) -> None:
    """`value` >= `minimum` and at most the field's ceiling."""
    limit, why = CEILINGS[field]
    if c.require(value >= minimum, field, f">= {minimum}", value) and value > limit:
        c.add(field, f"is {value:,}; at most {limit:,} ({why})")


def shape_problem(shape: tuple[int, ...]) -> str | None:
    """Why a network cannot be profiled on an input of `shape` (per sample), or None."""
    if any(d < 1 for d in shape):
        return f"dimensions must be >= 1, got {list(shape)}"
    elements, (limit, why) = math.prod(shape), CEILINGS["input_elements"]
    if elements > limit:
        return f"has {elements:,} elements per sample; at most {limit:,} ({why})"
    return None


class Checks:
    """Collects the failed checks of one `__post_init__`; `done()` raises them together:

        c = Checks()
        c.require(self.rate_hz > 0, "rate_hz", "> 0", self.rate_hz)
        c.done()
    """

    def __init__(self) -> None:
        self.problems: list[tuple[str, str]] = []

    def require(self, ok: bool, field: str, rule: str, value: object) -> bool:
        if not ok:
            self.problems.append((field, f"must be {rule}, got {value!r}"))
        return ok

    def add(self, field: str, message: str) -> None:
        self.problems.append((field, message))

    def done(self) -> None:
        if self.problems:
            raise FieldError(self.problems)


# Larger numbers are mistakes, not configurations: 2^53 is the largest integer a float (and so
# every NumPy cost column) holds exactly; 1e30 is far beyond any physical quantity here in its
# unit, and products of a few such values stay finite in float64.
MAX_INT = 2 ** 53
MAX_FLOAT = 1e30


class SchemaError(ValueError):
    """Every problem found in one mapping; `problems` holds one line per problem, each
    starting with its key path."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else f"{text[:20]}...({len(text)} characters)"


def _type_name(tp: Any) -> str:
    return getattr(tp, "__name__", str(tp).replace("typing.", ""))


def _coerce(tp: Any, value: Any, path: str, problems: list[str]) -> Any:
    """Check `value` against annotation `tp`; ints are accepted where floats are expected."""
    origin = typing.get_origin(tp)
    if tp is Any:
        return value
    if origin in (typing.Union, types.UnionType):
        args = typing.get_args(tp)
        if value is None and type(None) in args:
            return None
        for arg in args:
            if arg is type(None):
                continue
            trial: list[str] = []
            out = _coerce(arg, value, path, trial)
            if not trial:
                return out
        problems.append(f"{path}: expected {' or '.join(_type_name(a) for a in args)}, "
                        f"got {value!r}")
        return None
    if origin is typing.Literal:
        allowed = typing.get_args(tp)
        if value not in allowed:
            problems.append(f"{path}: {value!r} is not one of {', '.join(map(str, allowed))}")
        return value
    if origin in (tuple, list):
        if not isinstance(value, (list, tuple)):
            problems.append(f"{path}: expected a list, got {value!r}")
            return None
        args = typing.get_args(tp)
        item_tp = args[0] if args else Any
        items = [_coerce(item_tp, v, f"{path}[{i}]", problems) for i, v in enumerate(value)]
        return tuple(items) if origin is tuple else items
    if origin is dict:
        if not isinstance(value, dict):
            problems.append(f"{path}: expected a mapping, got {value!r}")
            return None
        args = typing.get_args(tp)
        val_tp = args[1] if len(args) == 2 else Any
        return {k: _coerce(val_tp, v, f"{path}.{k}", problems) for k, v in value.items()}
    if dataclasses.is_dataclass(tp):
        if isinstance(value, tp):
            return value
        obj, sub = build(tp, value, path)
        problems.extend(sub)
        return obj
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            problems.append(f"{path}: expected a number, got {value!r}")
            return None
        if isinstance(value, int) and abs(value) > MAX_INT:
            problems.append(f"{path}: {_short(value)} is too large (at most {MAX_INT:.3g})")
            return None
        if not math.isfinite(value) or abs(value) > MAX_FLOAT:
            # NaN would pass every ">= 0" check and inf would give inf totals
            problems.append(f"{path}: must be a finite number of magnitude <= {MAX_FLOAT:g}, "
                            f"got {value!r}")
            return None
        return float(value)
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            problems.append(f"{path}: expected an integer, got {_short(value)}")
            return None
        if abs(value) > MAX_INT:
            problems.append(f"{path}: {_short(value)} is too large (at most {MAX_INT:.3g})")
            return None
        return value
    if tp is bool:
        if not isinstance(value, bool):
            problems.append(f"{path}: expected true or false, got {value!r}")
        return value
    if tp is str:
        if not isinstance(value, str):
            problems.append(f"{path}: expected a string, got {value!r}")
        return value
    return value


def build(cls: type[T], raw: Any, path: str) -> tuple[T | None, list[str]]:
    """Build `cls` from `raw`; returns (object or None, problems)."""
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        return None, [f"{path}: expected a mapping, got {raw!r}"]
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    problems: list[str] = []
    for key in raw:
        if key not in fields:
            problems.append(f"{path}.{key}: unknown key; valid keys: {', '.join(fields)}")
    kwargs = {}
    for name, f in fields.items():
        if name in raw:
            kwargs[name] = _coerce(hints[name], raw[name], f"{path}.{name}", problems)
        elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            problems.append(f"{path}.{name}: required key is missing")
    if problems:
        return None, problems
    try:
        return cls(**kwargs), []
    except FieldError as exc:
        return None, [f"{path}.{field}: {message}" for field, message in exc.problems]
    except ValueError as exc:        # a check that names no field: the section's problem
        return None, [f"{path}: {exc}"]
