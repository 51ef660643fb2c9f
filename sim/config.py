"""Scenario configs: load (YAML), validate (every problem at once, with key paths), build.

The build step resolves preset names into hardware model objects, so nothing after it sees a
raw dict.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Mapping, Sequence, Union

from core import yamlio
from core.atomic import is_safe_name, to_safe_name
from hwmodels.accel import accelerator_target
from hwmodels.cost import ComputeTarget, DeviceTarget
from hwmodels.device import DeviceModel
from hwmodels.link import LinkModel
from hwmodels.presets import CATEGORIES, load_raw, preset_names, strip_sources
from noise.mi import check_mi_settings
from noise.methods import build_noise_spec
from noise.spec import NoiseSpec
from core.registry import UnknownNameError
from core.schema import (CEILINGS, Checks, FieldError, SchemaError, build, shape_problem,
                         within_ceiling)
from partitioner.types import ModelGraph
from partitioner.types import DTYPE_BYTES
from partitioner.sources import resolve_model_path
from partitioner.zoo import check_model_name
from sim.costs import ComputeDtypes
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
    # arithmetic of edge and cloud: a dtype for both, or {edge: ..., cloud: ...}; default: the
    # activation dtype (which otherwise only sets the bytes of what is sent)
    compute_dtype: str | ComputeDtypes | None = None

    def __post_init__(self) -> None:
        c = Checks()
        if isinstance(self.compute_dtype, str) and self.compute_dtype not in DTYPE_BYTES:
            c.add("compute_dtype",
                  f"{self.compute_dtype!r} unknown; known: {', '.join(DTYPE_BYTES)}")
        try:
            check_model_name(self.model)
        except (UnknownNameError, UserError) as exc:
            c.add("model", str(exc))
        within_ceiling(c, "batch_size", self.batch_size)
        for name in ("input_dtype", "activation_dtype"):
            if getattr(self, name) not in DTYPE_BYTES:
                c.add(name, f'{getattr(self, name)!r} unknown; known: {", ".join(DTYPE_BYTES)}')
        problem = None if self.input_shape is None else shape_problem(self.input_shape)
        if problem:
            c.add("input_shape", problem)
        if self.num_classes is not None:
            c.require(self.num_classes >= 1, "num_classes", ">= 1", self.num_classes)
        c.done()


@dataclass(frozen=True)
class EdgeSpec:
    device: str | dict[str, Any] | None = None      # preset name or inline device fields
    power_mode: str | None = None
    accelerator: str | dict[str, Any] | None = None

    def __post_init__(self) -> None:
        if (self.device is None) == (self.accelerator is None):
            raise FieldError("device", 'or "accelerator": give exactly one of the two')


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
        c = Checks()
        if isinstance(self.cuts, str) and self.cuts not in ("all", "pareto"):
            c.add("cuts", f"must be all, pareto or a list of cut numbers, got {self.cuts!r}")
        if self.epochs is not None:
            c.require(self.epochs >= 1, "epochs", ">= 1", self.epochs)
        if self.width is not None:
            c.require(0 < self.width <= 1, "width", "in (0, 1]", self.width)
        check_mi_settings(self.mi_samples, self.mi_dim, c)
        c.done()


# Columns of a sweep's figures array (sim.sweep.tasks.ANALYSIS_COLUMNS) that figures can show.
SweepMetric = Literal["latency_ms", "total_mj", "edge_energy_mj", "accuracy_loss_pct",
                      "mi_loss_pct"]


@dataclass(frozen=True)
class ReportSpec:
    formats: tuple[Literal["md", "csv", "tex"], ...] = ("md", "csv", "tex")
    plots: bool = True                # PNG and PDF figures under plots/
    html: bool = True                 # report.html: tables, figures, provenance in one file
    # drawn against each swept key and as heat maps; those no row evaluated are left out
    sweep_metrics: tuple[SweepMetric, ...] = ("total_mj", "latency_ms", "mi_loss_pct")


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
        raw = yamlio.load_file(path)
    except yamlio.YamlError as exc:
        raise UserError(f"config file {exc}") from None
    if not isinstance(raw, dict):
        raise UserError(f"config file {str(path)!r}: expected a mapping of sections "
                        f"({', '.join(SECTIONS)})")
    # a file name may hold characters a folder name under results/ should not
    raw.setdefault("name", to_safe_name(path.stem) or "scenario")
    return raw


ConfigSource = Union[str, Path, Mapping[str, Any]]
Sets = Union[Sequence[str], Mapping[str, Any], None]

# Config keys that name files; a relative name is relative to the config file's folder.
PATH_KEYS = ("sim.arrival.trace_path", "privacy.weights", "privacy.data",
             "link.bandwidth_trace_csv", "noise.collection_path", "edge.device", "cloud.device",
             "workload.model")
# Keys holding a preset name or a preset file: only existing .yaml files are rewritten.
PRESET_PATH_KEYS = ("edge.device", "cloud.device")


def load_config(source: ConfigSource, sets: Sets = None,
                base_dir: str | Path | None = None) -> tuple[dict, Path]:
    """The one way in for every entry point (`sim run`, `sweep`, `validate`, `noise train`,
    `sim.api`): load a YAML file or take a mapping, apply the `--set` overrides (`key=value`
    strings, or a mapping of values), and resolve file names against the config's folder (for
    a mapping: `base_dir`, else the working directory). Returns (raw config, that folder)."""
    if isinstance(source, (str, Path)):
        raw, base = load_yaml(source), Path(source).parent
    else:
        raw, base = dict(source), Path.cwd()
        raw.setdefault("name", "scenario")
    if base_dir is not None:
        base = Path(base_dir)
    if isinstance(sets, Mapping):
        for key, value in sets.items():
            raw = set_path(raw, key, value)
    else:
        raw = apply_sets(raw, list(sets or []))
    return resolve_paths(raw, base), base


def load_scenario(source: ConfigSource, sets: Sets = None, base_dir: str | Path | None = None,
                  check_cuts: bool = False, cache_dir: str | None = None) -> Scenario:
    """`load_config`, then validate and build. With `check_cuts`, cut numbers in
    `privacy.cuts` are checked against the network too, and reported with every other
    problem of the config at once."""
    raw, _ = load_config(source, sets, base_dir)
    problems: list[str] = []
    scenario = None
    try:
        scenario = build_scenario(raw)
    except UserError as exc:
        problems = list(exc.problems)
    if check_cuts:
        problems += cut_problems(raw, cache_dir)
    if problems:
        raise UserError(problems)
    return scenario


def cut_problems(raw: dict, cache_dir: str | None = None) -> list[str]:
    """`privacy.cuts` numbers that are not valid cuts of the configured network (nothing to
    say while the workload section itself is invalid: that is reported on its own)."""
    from sim.profiles import cached_profile

    privacy = raw.get("privacy")
    cuts = privacy.get("cuts") if isinstance(privacy, dict) else None
    if not isinstance(cuts, list):
        return []
    workload, problems = build(WorkloadSpec, raw.get("workload"), "workload")
    if problems or workload is None:
        return []
    w = workload
    cache = cache_dir or privacy.get("cache_dir")
    graph = cached_profile(cache, w.model, w.input_shape, w.input_dtype, w.activation_dtype,
                           w.num_classes)
    return invalid_cuts(cuts, graph)


def invalid_cuts(cuts: Sequence[int], graph: ModelGraph) -> list[str]:
    valid = [c.cut for c in graph.cuts]
    bad = [k for k in cuts if k not in valid]
    if not bad:
        return []
    return [f"privacy.cuts: {bad} not valid for {graph.model_name} (cuts 0..{graph.num_layers});"
            f" valid cuts: {valid}"]


def _get_path(raw: dict, dotted: str):
    node = raw
    for part in dotted.split("."):
        if not isinstance(node, dict):
            return None
        node = node.get(part)
    return node


def resolve_value(key: str, value: Any, base: Path) -> Any:
    """`value` of config key `key` with a relative file name made relative to `base`."""
    if key not in PATH_KEYS or not isinstance(value, str) or Path(value).is_absolute():
        return value
    if key == "workload.model":          # a zoo name, or path/file.py:factory, or x.onnx
        return resolve_model_path(value, base)
    candidate = base / value
    # privacy.data is also a data-set name ("digits"): only names that exist as files
    # relative to the config are rewritten.
    if key == "privacy.data" and not (_is_file(candidate) or _is_dir(candidate)):
        return value
    if key in PRESET_PATH_KEYS and not (value.endswith((".yaml", ".yml"))
                                        and _is_file(candidate)):
        return value
    return str(candidate)


def resolve_paths(raw: dict, base: Path) -> dict:
    for key in PATH_KEYS:
        value = _get_path(raw, key)
        resolved = resolve_value(key, value, base)
        if resolved is not value:
            raw = set_path(raw, key, resolved)
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
    if not isinstance(base_name, (str, type(None))):
        problems.append(f"{path}.{name_key}: expected a preset name, got {base_name!r}")
        return None
    inline, inline_sources, _ = strip_sources(overrides)
    if not isinstance(inline, dict):
        problems.append(f"{path}: expected a preset name or a mapping of fields, got {ref!r}")
        return None
    values: dict = {}
    if base_name is not None:
        try:
            values, preset_sources = load_raw(category, base_name)
        except UnknownNameError as exc:
            problems.append(f"{path}: {exc}")
            return None
        values = dict(values)
        sources.update({f"{path}.{k}": v for k, v in preset_sources.items()})
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
    except FieldError as exc:                 # the mode is named next to the device
        section = path.rsplit(".", 1)[0]
        problems.extend(f"{section}.{field}: {message}" for field, message in exc.problems)
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
        target = accelerator_target(spec, overrides or None, path="edge.accelerator")
    except SchemaError as exc:
        problems.extend(exc.problems)
        return None
    except (ValueError, UnknownNameError) as exc:
        problems.append(f"edge.accelerator: {exc}")
        return None
    if isinstance(spec, str):
        _, preset_sources = load_raw("accelerators", spec)
        sources.update({f"edge.accelerator.{k}": v for k, v in preset_sources.items()})
    for key in overrides:
        sources[f"edge.accelerator.{key}"] = "user override in the config"
    return target


def name_problems(name: Any) -> list[str]:
    """The name becomes the folder results/<name>/: it must be a safe file name."""
    limit, why = CEILINGS["name_chars"]
    if not isinstance(name, str):
        return [f"name: expected a string, got {str(name)[:60]!r}"]
    if not is_safe_name(name):
        return [f"name: {name[:60]!r}{'...' if len(name) > 60 else ''} must be 1 to {limit} "
                f"letters, digits or . _ + - starting with a letter or digit ({why})"]
    return []


def missing_files(specs: dict[str, Any]) -> list[str]:
    """User files the config names that are not there (before any work, not at their turn)."""
    named = []
    if specs.get("noise") is not None:
        named.append(("noise.collection_path", specs["noise"].collection_path))
    if specs.get("privacy") is not None:
        named.append(("privacy.weights", specs["privacy"].weights))
    return [f"{key}: file {value!r} not found" for key, value in named
            if value and not _is_file(Path(value))]


def _is_file(path: Path) -> bool:
    try:
        return path.is_file()
    except OSError:                  # a name longer than the file system allows, and the like
        return False


def _is_dir(path: Path) -> bool:
    try:
        return path.is_dir()
    except OSError:
        return False


def build_scenario(raw: dict) -> Scenario:
    problems: list[str] = []
    known = set(SECTIONS) | {"name"}
    for key in raw:
        if key not in known:
            problems.append(f"{key}: unknown section; valid sections: {', '.join(sorted(known))}")
    for key in REQUIRED_SECTIONS:
        if raw.get(key) is None:
            problems.append(f"{key}: required section is missing")
    name = raw.get("name", "scenario")
    problems.extend(name_problems(name))

    specs: dict[str, Any] = {}
    for key, cls in SECTIONS.items():
        section = raw.get(key)
        if key == "link" and isinstance(section, dict):
            section = {"preset": section.get("preset")}   # overrides are checked by LinkModel
        # the noise section holds one sub-section per registered method
        obj, sub = build_noise_spec(section, key) if key == "noise" else build(cls, section, key)
        specs[key] = obj
        problems.extend(sub)

    problems.extend(missing_files(specs))
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
    if specs["noise"] is not None:
        resolved["noise"] = specs["noise"].as_config()
    return Scenario(name=name, workload=specs["workload"], edge=edge, edge_spec=specs["edge"],
                    link=link, cloud=cloud, cloud_spec=specs["cloud"], noise=specs["noise"],
                    privacy=specs["privacy"], sim=specs["sim"], report=specs["report"],
                    resolved=resolved, sources=sources)


def _as_plain(obj: Any) -> Any:
    return dataclasses.asdict(obj) if dataclasses.is_dataclass(obj) else obj
