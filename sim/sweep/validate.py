"""Validate a whole sweep before any work starts, without building 10,000 scenarios.

What is built with `build_scenario` (the one source of truth for what a config may hold):
1. the base config;
2. every distinct value of every --grid key, and both ends of every lo:hi range, each on top of
   the base config (catches unknown keys and wrong types with the schema's own message);
3. every distinct combination of the keys that are not vectorized link fields (a "group"),
   completed with its first configuration's link values: the full config, plus `check_cuts`;
4. for every configuration, its link model: the group's link with the swept link fields replaced
   (`dataclasses.replace` runs the link model's own checks, cross-field ones included).
Steps 3 and 4 together cover every configuration: a configuration differs from its group's
validated representative only in link fields, and `build_scenario` resolves the link section
from `raw["link"]` alone. Range ends suffice for step 2 because every field check is an
interval (> 0, >= 0, in (0, 1]), and an interval holding both ends holds what lies between.
"""
from __future__ import annotations

import dataclasses
import functools
import json
import typing
from dataclasses import dataclass
from typing import Any

from partitioner.types import ModelGraph
from sim.config import Scenario, WorkloadSpec, build_scenario
from core.errors import UserError
from sim.overrides import set_path
from sim.profiles import check_cuts, scenario_graph
from sim.sweep.spec import SweepSpec

Assignments = tuple[tuple[str, Any], ...]
_GRAPHS: dict[WorkloadSpec, ModelGraph] = {}


def graph_for(scenario: Scenario) -> ModelGraph:
    """Profiled once per workload and process (profiling is the costly step of a group)."""
    if scenario.workload not in _GRAPHS:
        _GRAPHS[scenario.workload] = scenario_graph(scenario)
    return _GRAPHS[scenario.workload]


@dataclass(frozen=True)
class SweepPlan:
    base: dict
    spec: SweepSpec
    configs: tuple[Assignments, ...]
    link_keys: frozenset[str]        # swept keys computed by broadcasting over link models


def apply(base: dict, assignments: Assignments) -> dict:
    return functools.reduce(lambda raw, kv: set_path(raw, kv[0], kv[1]), assignments, base)


def describe(index: int, assignments: Assignments) -> str:
    return f"configuration {index} (" + ", ".join(f"{k}={v!r}" for k, v in assignments) + ")"


def numeric_fields(obj: Any) -> dict[str, type]:
    """Fields of a frozen dataclass annotated float or int: those a sweep may broadcast."""
    return _numeric_fields(type(obj))


@functools.lru_cache(maxsize=None)
def _numeric_fields(cls: type) -> dict[str, type]:
    hints = typing.get_type_hints(cls)
    return {f.name: hints[f.name] for f in dataclasses.fields(cls)
            if hints.get(f.name) in (float, int)}


def coerce_number(value: Any, tp: type) -> Any:
    """The schema's coercion: ints stand for floats; bools and text are not numbers."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"expected a number, got {value!r}")
    if tp is int and not isinstance(value, int):
        raise ValueError(f"expected an integer, got {value!r}")
    return float(value) if tp is float else value


def group_key(assignments: Assignments, link_keys: frozenset[str]) -> str:
    return json.dumps([[k, v] for k, v in assignments if k not in link_keys], default=str)


def replaced_link(link: Any, assignments: Assignments, link_keys: frozenset[str]) -> Any:
    fields = numeric_fields(link)
    changes = {}
    for key, value in assignments:
        if key in link_keys:
            name = key.split(".", 1)[1]
            changes[name] = coerce_number(value, fields[name])
    return dataclasses.replace(link, **changes) if changes else link


def _problems(raw: dict) -> list[str]:
    try:
        build_scenario(raw)
    except UserError as exc:
        return exc.problems
    return []


def _value_problems(base: dict, key: str, value: Any) -> list[str]:
    try:
        return _problems(set_path(base, key, value))
    except UserError as exc:
        return exc.problems


def _check_values(base: dict, spec: SweepSpec) -> tuple[list[str], SweepSpec]:
    # problem -> the values that cause it, so an unknown key is one line, not one per value
    found: dict[tuple[str, str], list[str]] = {}
    for axis in spec.grid:
        for value, text in zip(axis.values, axis.texts):
            for p in _value_problems(base, axis.key, value):
                found.setdefault((axis.key, p), []).append(text)
    ranges = []
    for r in spec.ranges:
        ends = (int(r.lo), int(r.hi)) if r.integer else (r.lo, r.hi)
        bad = [p for end in ends for p in _value_problems(base, r.key, end)]
        for p in dict.fromkeys(bad):
            found.setdefault((r.key, p), []).append(r.text)
        if r.integer and not bad:
            # integer ends over a float key (link.uplink_mbps=1:100) sample floats
            r = dataclasses.replace(r, integer=bool(_value_problems(base, r.key, r.lo + 0.5)))
        ranges.append(r)
    problems = [f"{p} (from --grid {key}={','.join(texts)})" for (key, p), texts in found.items()]
    return problems, dataclasses.replace(spec, ranges=tuple(ranges))


def link_keys_of(scenario: Scenario, spec: SweepSpec, cost_only: bool) -> frozenset[str]:
    if not cost_only:
        return frozenset()
    fields = numeric_fields(scenario.link)
    return frozenset(k for k in spec.keys
                     if k.count(".") == 1 and k.startswith("link.") and k[5:] in fields)


def validate_plan(base: dict, spec: SweepSpec, expand, cost_only: bool) -> SweepPlan:
    """Check everything (see the module docstring); raise UserError listing every problem."""
    base_scenario = build_scenario(base)
    problems, spec = _check_values(base, spec)
    if problems:
        raise UserError(problems)
    configs = tuple(expand(spec))
    link_keys = link_keys_of(base_scenario, spec, cost_only)
    reps: dict[str, Scenario | None] = {}
    for i, assignments in enumerate(configs):
        key = group_key(assignments, link_keys)
        if key not in reps:
            try:
                scenario = build_scenario(apply(base, assignments))
                check_cuts(scenario, graph_for(scenario))
                reps[key] = scenario
            except UserError as exc:
                reps[key] = None
                problems += [f"{describe(i, assignments)}: {p}" for p in exc.problems]
        scenario = reps[key]
        if scenario is not None and link_keys:
            try:
                replaced_link(scenario.link, assignments, link_keys)
            except ValueError as exc:
                problems.append(f"{describe(i, assignments)}: link: {exc}")
        if len(problems) > 50:
            problems.append("... (further problems not listed)")
            break
    if problems:
        raise UserError(problems)
    return SweepPlan(base, spec, configs, link_keys)
