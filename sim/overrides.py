"""`--set key.path=value` and `--grid key.path=v1,v2` parsing, applied before validation."""
from __future__ import annotations

import copy
from typing import Any

from core import yamlio
from core.errors import UserError


def parse_value(text: str) -> Any:
    """YAML scalar/list syntax, so `3`, `2.5`, `true`, `[1, 2]` and `lte` all mean what they say;
    text that is not YAML stays the string it is, a dangerous document is refused."""
    try:
        return yamlio.loads(text, f"value {text[:40]!r}")
    except yamlio.YamlSyntaxError:
        return text
    except yamlio.YamlError as exc:
        raise UserError(str(exc)) from None


def split_assignment(expr: str, flag: str) -> tuple[str, str]:
    key, sep, value = expr.partition("=")
    if not sep or not key.strip():
        raise UserError(f"{flag} {expr!r}: expected key.path=value")
    return key.strip(), value


def set_path(config: dict, key_path: str, value: Any) -> dict:
    """A copy of `config` with `key_path` (dot-separated) set to `value`."""
    out = copy.deepcopy(config)
    node = out
    parts = key_path.split(".")
    for part in parts[:-1]:
        child = node.get(part)
        if child is None or isinstance(child, str):
            # A preset name given as a string becomes a mapping when a field is overridden.
            child = {} if child is None else {"preset": child}
            node[part] = child
        elif not isinstance(child, dict):
            raise UserError(f"{key_path}: {part!r} is not a section (it is {child!r})")
        node = child
    node[parts[-1]] = value
    return out


def apply_sets(config: dict, assignments: list[str]) -> dict:
    for expr in assignments:
        key, value = split_assignment(expr, "--set")
        config = set_path(config, key, parse_value(value))
    return config
