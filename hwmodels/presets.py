"""Hardware presets: YAML files under presets/<category>/, every number as {value, source}.

Loading strips the sources into a side table (kept for `sim devices` and run records) and
builds the model dataclass, so model code never sees raw dicts.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from hwmodels.accel.kinds import model_class
from hwmodels.device import DeviceModel
from hwmodels.link import LinkModel
from core.atomic import is_safe_name
from core.registry import UnknownNameError
from core.schema import build

PRESET_DIR = Path(__file__).parent / "presets"

@dataclass(frozen=True)
class Category:
    directory: str
    model: type | None                # None: the values' `kind` picks the class
    what: str                         # "device", "link", ...

CATEGORIES: dict[str, Category] = {
    "devices": Category("devices", DeviceModel, "device"),
    "links": Category("links", LinkModel, "link preset"),
    "accelerators": Category("accelerators", None, "accelerator"),
}

def _is_sourced(node: Any) -> bool:
    return isinstance(node, dict) and set(node) == {"value", "source"}

def strip_sources(node: Any, path: str = "") -> tuple[Any, dict[str, str], list[str]]:
    """Replace each {value, source} leaf by its value.

    Returns (values, sources by key path, key paths of numbers that carry no source).
    """
    if _is_sourced(node):
        return node["value"], {path: str(node["source"])}, []
    if isinstance(node, dict):
        values, sources, unsourced = {}, {}, []
        for key, child in node.items():
            v, s, u = strip_sources(child, f"{path}.{key}" if path else str(key))
            values[key] = v
            sources.update(s)
            unsourced.extend(u)
        return values, sources, unsourced
    if isinstance(node, (int, float)) and not isinstance(node, bool):
        return node, {}, [path]
    return node, {}, []

def is_preset_file(ref: str) -> bool:
    """A preset is named by its name (`titan-xp`) or by the path of its YAML file."""
    return ref.endswith((".yaml", ".yml"))

def preset_path(category: str, name: str) -> Path:
    # a preset name becomes a file name under the presets folder
    if not is_preset_file(name) and not is_safe_name(name):
        raise UnknownNameError(f"{name[:60]!r}{'...' if len(name) > 60 else ''} is not a "
                               f"{CATEGORIES[category].what} name; known: "
                               f"{', '.join(preset_names(category))} (or a preset .yaml file)")
    if is_preset_file(name):
        path = Path(name)
        try:
            found = path.is_file()
        except OSError:                  # e.g. a name longer than the file system allows
            found = False
        if not found:
            raise UnknownNameError(f"{CATEGORIES[category].what} preset file {name!r} not "
                                   "found")
        return path
    path = PRESET_DIR / CATEGORIES[category].directory / f"{name}.yaml"
    if not path.is_file():
        raise UnknownNameError(f"unknown {CATEGORIES[category].what} {name!r}; known: "
                               f"{', '.join(preset_names(category))} (or a preset .yaml file)")
    return path

def preset_names(category: str) -> list[str]:
    return sorted(p.stem for p in (PRESET_DIR / CATEGORIES[category].directory).glob("*.yaml"))

def load_raw(category: str, name: str) -> tuple[dict, dict[str, str]]:
    """The preset's values (sources stripped) and its sources, read once per process (a
    preset file again when it changed)."""
    path = preset_path(category, name)
    return _load_file(str(path.resolve()), path.stat().st_mtime_ns, category)

def load_sourced(category: str, name: str) -> dict:
    """The preset as written, every number still {value, source} (to derive a new preset)."""
    return _read_yaml(preset_path(category, name), category)

def _read_yaml(path: Path, category: str) -> dict:
    try:
        with open(path, encoding="utf-8") as f:
            raw = yaml.safe_load(f)
    except (OSError, yaml.YAMLError) as exc:
        raise UnknownNameError(f"{CATEGORIES[category].what} preset file {str(path)!r} "
                               f"cannot be read: {exc}") from None
    if not isinstance(raw, dict):
        raise UnknownNameError(f"{CATEGORIES[category].what} preset file {str(path)!r}: "
                               "expected a mapping of fields")
    return raw

@lru_cache(maxsize=None)
def _load_file(path: str, mtime_ns: int, category: str) -> tuple[dict, dict[str, str]]:
    values, sources, _ = strip_sources(_read_yaml(Path(path), category))
    return values, sources

def build_model(category: str, values: dict, path: str) -> tuple[Any, list[str]]:
    cls = CATEGORIES[category].model
    if cls is None:
        try:
            cls = model_class(values)
        except ValueError as exc:
            return None, [f"{path}: {exc}"]
    return build(cls, values, path)

def device_preset(name: str) -> DeviceModel:
    return _build_or_raise("devices", name)

def link_preset(name: str) -> LinkModel:
    return _build_or_raise("links", name)

def _build_or_raise(category: str, name: str) -> Any:
    values, _ = load_raw(category, name)
    where = name if is_preset_file(name) else f"{category}/{name}.yaml"
    values = {"name": Path(name).stem, **values}
    obj, problems = build_model(category, values, where)
    if problems:
        raise ValueError("; ".join(problems))
    return obj

def all_presets() -> dict[str, list[str]]:
    return {cat: preset_names(cat) for cat in CATEGORIES}
