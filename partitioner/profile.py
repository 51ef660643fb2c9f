"""Profiling any model source: the one entry point the other packages call.

`nb201:` members go through the fast profiler (`partitioner.nb201_fast`), which equals the
traced profile; everything else is traced (`partitioner.graph.trace_profile`). Kept apart from
`partitioner.graph` because the fast profiler builds on the graph module's helpers.
"""
from __future__ import annotations

from core.errors import UserError
from partitioner.graph import trace_profile
from partitioner.types import ModelGraph
from partitioner.nb201_fast import profile_nb201
from partitioner.sources import parse_file_source
from partitioner.zoo import entry, split_family


def profile_model(model_name: str, input_shape: tuple[int, ...] | None = None,
                  input_dtype: str = "uint8", activation_dtype: str = "float32",
                  num_classes: int | None = None, width: float = 1.0) -> ModelGraph:
    """Profile a model source (cost models need no weights)."""
    member = split_family(model_name)
    if member is not None and member[0] == "nb201":
        default = entry(model_name)
        return profile_nb201(member[1], input_shape or default.input_shape,
                             num_classes or default.num_classes, input_dtype, activation_dtype,
                             width)
    graph = trace_profile(model_name, input_shape, input_dtype, activation_dtype, num_classes,
                          width)
    if parse_file_source(model_name) is not None:
        check_splittable(graph)
    return graph


def check_splittable(graph: ModelGraph) -> None:
    """A user's network must offer a cut between cloud-only (0) and edge-only (L)."""
    if graph.num_layers > 1 and [c.cut for c in graph.cuts] == [0, graph.num_layers]:
        raise UserError(
            f"{graph.model_name}: no valid cut between the input and the output: after every "
            "layer more than one value crosses to the rest (a tensor or an x.shape value kept "
            "for later). Compute shape values where they are used, and let each block pass "
            "one tensor to the next")
