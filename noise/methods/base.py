"""The noise-method protocol, its registry and the `noise:` section builder (see
`noise.methods` for how a method is added)."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from core.cache import ArtifactCache
from core.registry import Registry
from core.schema import build
from noise.knowledge import NoiseKnowledge
from noise.randomness import NoiseFn
from noise.spec import NoiseSpec


@dataclass(frozen=True)
class NoOptions:
    """A method without options of its own."""


@dataclass(frozen=True)
class NoiseContext:
    """Everything a method needs to prepare the edge's noise at one cut of one model."""
    local: Any                       # torch module: layers 1..cut (frozen)
    remote: Any                      # torch module: the rest (frozen)
    data: Any                        # noise.data.Dataset with train / heldout / test splits
    spec: NoiseSpec
    model_name: str
    cut: int
    cache: ArtifactCache
    key: dict[str, Any]              # cache key of this model, cut and noise configuration


@dataclass(frozen=True)
class EdgeNoise:
    apply: NoiseFn                   # what the edge runs per request
    info: dict[str, Any]             # provenance for run.json (cache keys, tuples, files)
    # what a collection-aware adversary knows (noise.knowledge); None: the method gives it no
    # per-tuple view, and the figures that need one stay empty
    knowledge: NoiseKnowledge | None = None


class NoiseMethod:
    """Base of the registry's entries; subclasses set `name` and override what differs."""
    name: ClassVar[str]
    options: ClassVar[type] = NoOptions
    # At cut 0 the raw input is sent: "noise" adds noise to it like any activation, "skip"
    # leaves the cut unevaluated (the method needs an activation), "plain" sends it as it is.
    at_input: ClassVar[Literal["noise", "skip", "plain"]] = "skip"
    input_note: ClassVar[str] = "not applicable (empty)"
    trains_collection_file: ClassVar[bool] = False   # `sim noise train` can build and save it

    def applies(self, cut: int, num_layers: int) -> bool:
        """Whether the edge adds noise at this cut (never at cut L: only the output is sent)."""
        if cut >= num_layers:
            return False
        return cut > 0 or self.at_input == "noise"

    def work(self, elements: int, spec: Any) -> tuple[int, int]:
        """(flops, bytes moved) of noising one activation of `elements` values on the edge;
        `spec` carries the kernel settings (`order_mode`, `quantized_bits`)."""
        raise NotImplementedError

    def storage_bytes(self, elements: int, spec: Any) -> int:
        """What the edge keeps to noise one activation of `elements` values (0: nothing)."""
        return 0

    def edge_noise(self, ctx: NoiseContext) -> EdgeNoise:
        raise NotImplementedError


METHODS: Registry[NoiseMethod] = Registry("noise method")


def register_method(cls: type[NoiseMethod]) -> type[NoiseMethod]:
    METHODS.register(cls.name)(cls())
    return cls


def get_method(name: str) -> NoiseMethod:
    return METHODS.get(name)


def build_noise_spec(raw: Any, path: str = "noise") -> tuple[NoiseSpec | None, list[str]]:
    """The `noise:` section: the common keys, then each method's own section (`noise.<name>:`)
    checked by that method's options class; the chosen method's options are kept."""
    if raw is None:
        raw = {"method": "none"}
    if not isinstance(raw, dict):
        return None, [f"{path}: expected a mapping, got {raw!r}"]
    raw = dict(raw)
    sections = {name: raw.pop(name) for name in METHODS.names() if name in raw}
    problems: list[str] = []
    method = raw.get("method")
    if isinstance(method, str) and method not in METHODS:
        problems.append(f"{path}.method: {method!r} unknown; known: {', '.join(METHODS.names())}")
        raw["method"] = "none"            # the other keys are still checked
    spec, sub = build(NoiseSpec, raw, path)
    problems += sub
    chosen: Any = None
    for name, section in sections.items():
        options, sub = build(METHODS.get(name).options, section, f"{path}.{name}")
        problems += sub
        if name == raw.get("method"):
            chosen = options
    if problems or spec is None:
        return None, problems
    return dataclasses.replace(spec, options=chosen or get_method(spec.method).options()), []
