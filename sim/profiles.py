"""Network profiles through the artifact cache.

Tracing pulls in torch.fx and dynamo (about 2 s a process); a profile depends only on the
architecture, the shapes and dtypes, and the partitioner's code, all of which the key covers.
NAS-Bench-201 members skip the cache: composing one (partitioner.nb201_fast, under 1 ms) is
faster than reading its entry back.
"""
from __future__ import annotations

import json
from pathlib import Path

from core.cache import ArtifactCache
from partitioner import code_digest
from partitioner.graph import ModelGraph, graph_from_dict, graph_to_dict
from partitioner.profile import profile_model
from partitioner.sources import model_identity
from partitioner.zoo import split_family


def _save(graph: ModelGraph, path: str) -> None:
    Path(path).write_text(json.dumps(graph_to_dict(graph)), encoding="utf-8")


def _load(path: str) -> ModelGraph:
    return graph_from_dict(json.loads(Path(path).read_text(encoding="utf-8")))


def cached_profile(cache_dir: str | None, model: str, input_shape: tuple[int, ...] | None,
                   input_dtype: str = "uint8", activation_dtype: str = "float32",
                   num_classes: int | None = None, width: float = 1.0) -> ModelGraph:
    """`profile_model`, read from the cache when an intact entry exists (module is then None)."""
    member = split_family(model)
    if member is not None and member[0] == "nb201":
        return profile_model(model, input_shape, input_dtype, activation_dtype, num_classes, width)
    # a file source's key holds its content hash: editing the file re-profiles it
    key = {"kind": "profile", "model": model_identity(model),
           "input_shape": list(input_shape) if input_shape is not None else None,
           "input_dtype": input_dtype, "activation_dtype": activation_dtype,
           "num_classes": num_classes, "width": width, "code": code_digest()}

    def build() -> ModelGraph:
        return profile_model(model, input_shape, input_dtype, activation_dtype, num_classes,
                             width)

    graph, _, _ = ArtifactCache(cache_dir).get_or_build("profiles", key, ".profile", build,
                                                        _save, _load)
    return graph
