"""Network profiles through the artifact cache.

Tracing pulls in torch.fx and dynamo (about 2 s a process); a profile depends only on the
architecture, the shapes and dtypes, and the partitioner's code, all of which the key covers.
NAS-Bench-201 members are cached too: composing one (partitioner.nb201_fast) takes under 1 ms
but needs torch's second of start-up, which a cached entry spares `sim validate`. Many-network
work (`sim predict`) composes them directly.
"""
from __future__ import annotations

import json
from pathlib import Path

from core.cache import ArtifactCache
from core.errors import UserError
from partitioner import code_digest
from partitioner.types import ModelGraph, graph_from_dict, graph_to_dict
from partitioner.sources import model_identity
from sim.config import Scenario, invalid_cuts


def _save(graph: ModelGraph, path: str) -> None:
    Path(path).write_text(json.dumps(graph_to_dict(graph)), encoding="utf-8")


def _load(path: str) -> ModelGraph:
    return graph_from_dict(json.loads(Path(path).read_text(encoding="utf-8")))


def cached_profile(cache_dir: str | None, model: str, input_shape: tuple[int, ...] | None,
                   input_dtype: str = "uint8", activation_dtype: str = "float32",
                   num_classes: int | None = None, width: float = 1.0) -> ModelGraph:
    """`profile_model`, read from the cache when an intact entry exists (module is then None).
    The profiler (torch) is imported only to build a profile: a cached one is plain JSON."""
    def build() -> ModelGraph:
        from partitioner.profile import profile_model

        return profile_model(model, input_shape, input_dtype, activation_dtype, num_classes,
                             width)

    # a file source's key holds its content hash: editing the file re-profiles it
    key = {"kind": "profile", "model": model_identity(model),
           "input_shape": list(input_shape) if input_shape is not None else None,
           "input_dtype": input_dtype, "activation_dtype": activation_dtype,
           "num_classes": num_classes, "width": width, "code": code_digest()}
    graph, _, _ = ArtifactCache(cache_dir).get_or_build("profiles", key, ".profile", build,
                                                        _save, _load)
    return graph


def scenario_graph(scenario: Scenario, cache_dir: str | None = None) -> ModelGraph:
    w = scenario.workload
    return cached_profile(cache_dir or scenario.privacy.cache_dir, w.model, w.input_shape,
                          w.input_dtype, w.activation_dtype, w.num_classes)


def check_cuts(scenario: Scenario, graph: ModelGraph) -> None:
    """Cut numbers named in the config must be valid cuts of the network."""
    cuts = scenario.privacy.cuts
    problems = [] if isinstance(cuts, str) else invalid_cuts(cuts, graph)
    if problems:
        raise UserError(problems)
