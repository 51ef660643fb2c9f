"""Which profiled layers a graph-rewriting deployment converter never runs as kernels:
TensorFlow Lite, which the Raspberry Pi 4 and Pixel 3 columns of HW-NAS-Bench were measured
with (presets with `folds_constants: true`).

Two rewrites:
1. Batch norm right after a convolution is folded into that convolution's weights and bias
   (any model; in layer order, a `batchnorm2d` whose input is the `conv2d` before it).
2. NAS-Bench-201 `none` edges (a multiply by zero) are simplified one at a time in program
   order, as a greedy pattern rewriter does, and whatever no longer has a consumer is removed:
   - a multiply by zero of a convolution output all of whose consumers are multiplies by zero
     is folded into that convolution (its weights times zero): the convolution still runs,
     and stands in for the product;
   - any other multiply by zero becomes a constant zero tensor, and `x + zeros` becomes `x`;
   - convolutions, poolings and the head of a constant are not evaluated by the converter: they
     still run (on the Pi a 3x3 convolution on a cell node that is constant zero measures the
     same 1 ms as on a live one).
   Because the rewriting is greedy and in order, networks that compute the same function can
   come out differently: `|skip|+|conv3x3 none|+|none none none|` keeps its fifteen 3x3
   convolutions (19.4 ms on the Pi), `|conv3x3|+|skip none|+|none none none|` loses them
   (0.01 ms). These rules were read off the 625 measured genotypes whose cell output node has
   only `none` edges from nodes 1 and 2 (all 625 reproduced within the measurements' scatter);
   `docs/hw-accuracy.md` gives what they do on the other 15,000.
Other model sources get rewrite 1 only: their zoo networks contain no multiply by a constant.
"""
from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

NB201_PREFIX = "nb201:"

# Profiled layers of each NAS-Bench-201 building block, in the order the profile lists them
# (partitioner.nb201_fast composes the network from these blocks in forward order).
BLOCK_LAYERS = {
    "stem": ("conv2d", "batchnorm2d"),
    "nor_conv": ("relu", "conv2d", "batchnorm2d"),
    "avg_pool_3x3": ("avgpool2d",),
    "none": ("mul",),
    "add": ("add",),
    "reduce": ("relu", "conv2d", "batchnorm2d", "relu", "conv2d", "batchnorm2d", "avgpool2d",
               "conv2d", "add"),
    "head": ("batchnorm2d", "relu", "adaptiveavgpool2d", "flatten", "linear"),
}
CELLS_PER_STAGE = 5
STAGES = 3


@dataclass
class _Node:
    """One block of the network as the rewriter sees it (mutable working state)."""
    block: str                      # a key of BLOCK_LAYERS
    inputs: list[int]
    zero: bool = False              # a constant zero tensor (no kernel)
    alive: bool = True
    users: dict[int, int] = field(default_factory=dict)   # consumer -> operand count

    @property
    def is_conv(self) -> bool:      # a convolution (with its batch norm) ends the block
        return self.block in ("stem", "nor_conv")


def _nb201_nodes(arch: str) -> list[_Node]:
    """The network's blocks in forward order: stem, cells (each edge's op, then the pairwise
    sums of each cell node), a reduction block between stages, head."""
    from partitioner.models.nb201_arch import parse_arch

    genotype = parse_arch(arch)
    nodes: list[_Node] = []

    def emit(block: str, *inputs: int) -> int:
        nodes.append(_Node(block, list(inputs)))
        return len(nodes) - 1

    x = emit("stem")
    for stage in range(STAGES):
        if stage:
            x = emit("reduce", x)
        for _ in range(CELLS_PER_STAGE):
            values = [x]
            for edges in genotype:
                terms = [values[src] if op == "skip_connect"
                         else emit("nor_conv" if op.startswith("nor_conv") else op, values[src])
                         for op, src in edges]
                acc = terms[0]
                for term in terms[1:]:
                    acc = emit("add", acc, term)
                values.append(acc)
            x = values[-1]
    emit("head", x)
    for k, node in enumerate(nodes):
        for a in node.inputs:
            nodes[a].users[k] = nodes[a].users.get(k, 0) + 1
    return nodes


def _replace(nodes: list[_Node], old: int, new: int) -> list[int]:
    """Consumers of `old` consume `new` instead; `old` is erased. Returns the nodes touched."""
    for user, count in nodes[old].users.items():
        nodes[user].inputs = [new if a == old else a for a in nodes[user].inputs]
        nodes[new].users[user] = nodes[new].users.get(user, 0) + count
    touched = list(nodes[old].users) + [new]
    nodes[old].users.clear()
    return touched + _erase(nodes, old)


def _erase(nodes: list[_Node], k: int) -> list[int]:
    nodes[k].alive = False
    for a in set(nodes[k].inputs):
        nodes[a].users.pop(k, None)
    return list(set(nodes[k].inputs))


def _rewrite_once(nodes: list[_Node], k: int) -> list[int]:
    """One rule on node k; the nodes to look at again (empty: nothing changed)."""
    node = nodes[k]
    if node.block == "head":
        return []
    if not node.users:
        return _erase(nodes, k)
    if node.zero:
        return []
    if node.block == "none":
        src = nodes[node.inputs[0]]
        if src.is_conv and all(nodes[u].block == "none" for u in src.users):
            return _replace(nodes, k, node.inputs[0])
        node.zero = True            # a constant: it no longer reads its input
        inputs, node.inputs = node.inputs, []
        nodes[inputs[0]].users.pop(k, None)
        return list(node.users) + inputs
    if node.block == "add":
        a, b = node.inputs
        if nodes[a].zero:
            return _replace(nodes, k, b)
        if nodes[b].zero:
            return _replace(nodes, k, a)
    return []


def nb201_running_blocks(arch: str) -> list[tuple[str, bool]]:
    """(block, runs) of every block of `nb201:<arch>` in profile order, after the converter's
    rewrites (rewrite 2 of the module docstring)."""
    nodes = _nb201_nodes(arch)
    work = deque(range(len(nodes)))        # program order first, then what a rewrite touched
    queued = set(work)
    while work:
        k = work.popleft()
        queued.discard(k)
        if not nodes[k].alive:
            continue
        for t in _rewrite_once(nodes, k):
            if nodes[t].alive and t not in queued:
                work.append(t)
                queued.add(t)
    return [(n.block, n.alive and not n.zero) for n in nodes]


def _fold_batch_norms(op_types: Sequence[str], removed: np.ndarray) -> None:
    for i in range(1, len(op_types)):
        if op_types[i] == "batchnorm2d" and op_types[i - 1] == "conv2d" and not removed[i - 1]:
            removed[i] = True


def converter_removed(model: str, op_types: Sequence[str]) -> np.ndarray:
    """Per profiled layer: True where a folding converter runs no kernel for it."""
    removed = np.zeros(len(op_types), dtype=bool)
    if model.startswith(NB201_PREFIX):
        # a skip edge's identity layer is no op of the converted graph (the edge is a tensor
        # reference there); the blocks are matched on the other layers
        rest = np.flatnonzero(np.array([op != "identity" for op in op_types], dtype=bool))
        removed[:] = True
        blocks = nb201_running_blocks(model[len(NB201_PREFIX):])
        expected = [op for block, _ in blocks for op in BLOCK_LAYERS[block]]
        if [op_types[i] for i in rest] != expected:
            raise ValueError(f"{model}: the profile's layers do not follow the NAS-Bench-201 "
                             "block order hwmodels.folding expects")
        runs = [ok for block, ok in blocks for _ in BLOCK_LAYERS[block]]
        removed[rest] = ~np.array(runs, dtype=bool)
    _fold_batch_norms(op_types, removed)
    return removed
