"""Scenario configs: load (YAML), validate (every problem at once, with key paths), build.

The build step resolves preset names into hardware model objects, so nothing after it sees a
raw dict.
"""
from __future__ import annotations

import dataclasses
import hashlib
import re
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml

from hwmodels.accel import accelerator_target
from hwmodels.cost import ComputeTarget, DeviceTarget
from hwmodels.device import DeviceModel
from hwmodels.link import LinkModel
from hwmodels.presets import CATEGORIES, load_raw, preset_names, strip_sources
from noise.mi import check_mi_settings
from noise.spec import NoiseSpec
from core.registry import UnknownNameError
from core.schema import build
from partitioner.types import DTYPE_BYTES
from partitioner.zoo import MODELS
from sim.des import CloudQueue, SimSettings
from core.errors import UserError
from sim.overrides import apply_sets, set_path


# ----------------------------------------------------------------------------- sections
@dataclass(frozen=True)
class WorkloadSpec:
    model: str
    input_shape: tuple[int, ...] | None = None      # default: the zoo model's own
    batch_size: int = 1
    input_dtype: str = "uint8"
    activation_dtype: str = "float32"
    num_classes: int | None = None

    def __post_init__(self) -> None:
        if self.model not in MODELS:
            raise ValueError(f'"model" {self.model!r} unknown; known: {", ".join(MODELS.names())}')
        if self.batch_size < 1:
            raise ValueError(f'"batch_size" must be >= 1, got {self.batch_size}')
        for name in ("input_dtype", "activation_dtype"):
            if getattr(self, name) not in DTYPE_BYTES:
                raise ValueError(f'"{name}" {getattr(self, name)!r} unknown; known: '
                                 f'{", ".join(DTYPE_BYTES)}')
        if self.input_shape is not None and any(d < 1 for d in self.input_shape):
            raise ValueError(f'"input_shape" dimensions must be >= 1, got {list(self.input_shape)}')
        if self.num_classes is not None and self.num_classes < 1:
            raise ValueError(f'"num_classes" must be >= 1, got {self.num_classes}')


@dataclass(frozen=True)
class EdgeSpec:
    device: str | dict[str, Any] | None = None      # preset name or inline device fields
    power_mode: str | None = None
    accelerator: str | dict[str, Any] | None = None

    def __post_init__(self) -> None:
        if (self.device is None) == (self.accelerator is None):
            raise ValueError('"device" or "accelerator": give exactly one of the two')


@dataclass(frozen=True)
class CloudSpec:
    device: str | dict[str, Any] = "titan-xp"
    power_mode: str | None = None
    gpus: int = 1
    max_batch: int = 1
    max_wait_ms: float = 0.0

    def __post_init__(self) -> None:
        self.queue  # the simulator's queue checks gpus, max_batch and max_wait_ms

    @property
    def queue(self) -> CloudQueue:
        return CloudQueue(self.gpus, self.max_batch, self.max_wait_ms)


@dataclass(frozen=True)
class PrivacySpec:
    enabled: bool = False
    data: str = "digits"
    cuts: str | tuple[int, ...] = "all"             # all | pareto | [k, ...]
    weights: str | None = None        # user state_dict (weights_only load); else train + cache
    epochs: int | None = None         # training epochs (default per model, sim/privacy.py)
    input_shape: tuple[int, ...] | None = None      # training input shape (default: reduced
    width: float | None = None                      # for vgg16/alexnet/resnet18, else own)
    estimator: Literal["ksg", "kl-knn"] = "ksg"     # behind mi_bits and mi_loss_pct
    mi_samples: int = 1000            # at most this many test samples for MI
    mi_dim: int = 4                   # principal axes per side before the k-NN estimate
    cache_dir: str | None = None      # else --cache-dir, $SPLITSIM_CACHE_DIR, ~/.cache/splitsim

    def __post_init__(self) -> None:
        if isinstance(self.cuts, str) and self.cuts not in ("all", "pareto"):
            raise ValueError(f'"cuts" must be all, pareto or a list of cut numbers, got {self.cuts!r}')
        if self.epochs is not None and self.epochs < 1:
            raise ValueError(f'"epochs" must be >= 1, got {self.epochs}')
        if self.width is not None and not 0 < self.width <= 1:
            raise ValueError(f'"width" must be in (0, 1], got {self.width}')
        check_mi_settings(self.mi_samples, self.mi_dim)


@dataclass(frozen=True)
class ReportSpec:
    formats: tuple[Literal["md", "csv", "tex"], ...] = ("md", "csv", "tex")
    plots: bool = True


@dataclass(frozen=True)
class LinkSpec:
    """`preset` plus any LinkModel field as an override (checked when the model is built)."""
    preset: str | None = None


SECTIONS: dict[str, type] = {
    "workload": WorkloadSpec, "edge": EdgeSpec, "link": LinkSpec, "cloud": CloudSpec,
    "noise": NoiseSpec, "privacy": PrivacySpec, "sim": SimSettings, "report": ReportSpec,
}
REQUIRED_SECTIONS = ("workload", "edge", "link")


# ----------------------------------------------------------------------------- scenario
@dataclass(frozen=True)
class Scenario:
    name: str
    workload: WorkloadSpec
    edge: ComputeTarget
    edge_spec: EdgeSpec
    link: LinkModel
    cloud: ComputeTarget
    cloud_spec: CloudSpec
    noise: NoiseSpec
    privacy: PrivacySpec
    sim: SimSettings
    report: ReportSpec
    resolved: dict[str, Any]                        # the validated config, for run.json
    sources: dict[str, str]                         # hardware figure -> its source

    @property
    def config_hash(self) -> str:
        text = json.dumps(self.resolved, sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


# ----------------------------------------------------------------------------- load
def load_yaml(path: str | Path) -> dict:
    path = Path(path)
    if not path.is_file():
        raise UserError(f"config file {str(path)!r} not found")
    try:
        with open(path, encoding="utf-8") as f:
            raw = yaml.safe_load(f)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        raise UserError(f"config file {str(path)!r} is not valid YAML{where}: "
                        f"{getattr(exc, 'problem', exc)}") from None
    except OSError as exc:
        raise UserError(f"config file {str(path)!r} cannot be read: {exc.strerror}") from None
    if not isinstance(raw, dict):
        raise UserError(f"config file {str(path)!r}: expected a mapping of sections "
                        f"({', '.join(SECTIONS)})")
    raw.setdefault("name", path.stem)
    return raw


def load_scenario(path: str | Path, sets: list[str] | None = None) -> Scenario:
    raw = apply_sets(load_yaml(path), sets or [])
    return build_scenario(resolve_paths(raw, Path(path).parent))


# Config keys that name files; a relative name is relative to the config file's folder.
PATH_KEYS = ("sim.arrival.trace_path", "privacy.weights", "privacy.data",
             "link.bandwidth_trace_csv", "noise.collection_path")


def _get_path(raw: dict, dotted: str):
    node = raw
    for part in dotted.split("."):
        if not isinstance(node, dict):
            return None
        node = node.get(part)
    return node


def resolve_paths(raw: dict, base: Path) -> dict:
    for key in PATH_KEYS:
        value = _get_path(raw, key)
        if not isinstance(value, str) or Path(value).is_absolute():
            continue
        # privacy.data is also a data-set name ("digits"): only names that exist as files
        # relative to the config are rewritten.
        candidate = base / value
        if key == "privacy.data" and not candidate.exists():
            continue
        raw = set_path(raw, key, str(candidate))
    return raw


# ----------------------------------------------------------------------------- validate + build
def _resolve_hardware(category: str, ref: str | dict, path: str, problems: list[str],
                      sources: dict[str, str], name_key: str) -> Any:
    """A preset name, or a mapping of fields (optionally on top of `preset`/`device`)."""
    if isinstance(ref, str):
        base_name, overrides = ref, {}
    else:
        overrides = dict(ref)
        base_name = overrides.pop(name_key, None)
    values: dict = {}
    if base_name is not None:
        try:
            values, preset_sources = load_raw(category, base_name)
        except UnknownNameError as exc:
            problems.append(f"{path}: {exc}")
            return None
        values = dict(values)
        sources.update({f"{path}.{k}": v for k, v in preset_sources.items()})
    inline, inline_sources, _ = strip_sources(overrides)
    sources.update({f"{path}.{k}": v for k, v in inline_sources.items()})
    for key in overrides:
        sources.setdefault(f"{path}.{key}", "user override in the config")
    values.update(inline)
    values.setdefault("name", base_name or "inline")
    obj, sub = build(CATEGORIES[category].model, values, path)
    problems.extend(sub)
    return obj


def _device_target(ref, power_mode, path, problems, sources) -> ComputeTarget | None:
    device: DeviceModel | None = _resolve_hardware("devices", ref, path, problems, sources,
                                                   "preset")
    if device is None:
        return None
    try:
        return DeviceTarget(device.with_power_mode(power_mode))
    except ValueError as exc:
        problems.append(f"{path.rsplit('.', 1)[0]}.power_mode: {str(exc).split(' ', 1)[1]}")
        return None


def _accelerator_target(ref: str | dict, problems: list[str],
                        sources: dict[str, str]) -> ComputeTarget | None:
    """An accelerator preset name, or a mapping with `preset` and field overrides."""
    if isinstance(ref, dict):
        overrides = dict(ref)
        name = overrides.pop("preset", None)
        spec: str | dict = name if name is not None else overrides
        overrides = overrides if name is not None else {}
    else:
        spec, overrides = ref, {}
    try:
        target = accelerator_target(spec, overrides or None)
    except (ValueError, UnknownNameError) as exc:
        # The preset builder names its file; the user wants the config key path.
        message = re.sub(r"^accelerators/[\w.-]+\.yaml\.", "edge.accelerator.", str(exc))
        problems.append(message if message.startswith("edge.accelerator.")
                        else f"edge.accelerator: {message}")
        return None
    if isinstance(spec, str):
        _, preset_sources = load_raw("accelerators", spec)
        sources.update({f"edge.accelerator.{k}": v for k, v in preset_sources.items()})
    for key in overrides:
        sources[f"edge.accelerator.{key}"] = "user override in the config"
    return target


def build_scenario(raw: dict) -> Scenario:
    problems: list[str] = []
    known = set(SECTIONS) | {"name"}
    for key in raw:
        if key not in known:
            problems.append(f"{key}: unknown section; valid sections: {', '.join(sorted(known))}")
    for key in REQUIRED_SECTIONS:
        if key not in raw:
            problems.append(f"{key}: required section is missing")
    name = raw.get("name", "scenario")
    if not isinstance(name, str):
        problems.append(f"name: expected a string, got {name!r}")

    specs: dict[str, Any] = {}
    for key, cls in SECTIONS.items():
        section = raw.get(key)
        if key == "noise" and section is None:
            section = {"method": "none"}
        if key == "link" and isinstance(section, dict):
            section = {"preset": section.get("preset")}   # overrides are checked by LinkModel
        obj, sub = build(cls, section, key)
        specs[key] = obj
        problems.extend(sub)

    sources: dict[str, str] = {}
    edge = cloud = link = None
    if specs["edge"] is not None:
        if specs["edge"].accelerator is not None:
            edge = _accelerator_target(specs["edge"].accelerator, problems, sources)
        else:
            edge = _device_target(specs["edge"].device, specs["edge"].power_mode,
                                  "edge.device", problems, sources)
    if specs["cloud"] is not None:
        cloud = _device_target(specs["cloud"].device, specs["cloud"].power_mode,
                               "cloud.device", problems, sources)
    link_raw = raw.get("link")
    if isinstance(link_raw, dict) and specs["link"] is not None:
        if link_raw.get("preset") is None and "uplink_mbps" not in link_raw:
            problems.append(f"link.preset: required unless the link is given inline; known "
                            f"presets: {', '.join(preset_names('links'))}")
        else:
            link = _resolve_hardware("links", link_raw, "link", problems, sources, "preset")

    if problems:
        raise UserError(problems)
    resolved = {"name": name, **{k: _as_plain(v) for k, v in specs.items()}}
    resolved["link"] = _as_plain(link)
    return Scenario(name=name, workload=specs["workload"], edge=edge, edge_spec=specs["edge"],
                    link=link, cloud=cloud, cloud_spec=specs["cloud"], noise=specs["noise"],
                    privacy=specs["privacy"], sim=specs["sim"], report=specs["report"],
                    resolved=resolved, sources=sources)


def _as_plain(obj: Any) -> Any:
    return dataclasses.asdict(obj) if dataclasses.is_dataclass(obj) else obj
