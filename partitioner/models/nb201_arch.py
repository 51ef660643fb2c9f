"""NAS-Bench-201 genotype strings (`|op~0|+|op~0|op~1|+|op~0|op~1|op~2|`), parsed without
torch so that model names are checked where no network is built."""
from __future__ import annotations

from core.errors import UserError

OPERATIONS = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")

# A genotype: for cell nodes 1, 2, 3, the (operation, source node) of each incoming edge.
Genotype = tuple[tuple[tuple[str, int], ...], ...]


def parse_arch(arch: str) -> Genotype:
    """Parse `|op~0|+|op~0|op~1|+|op~0|op~1|op~2|`; raise UserError saying what is wrong."""
    hint = ("expected three '+'-separated groups like "
            "'|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|"
            "nor_conv_3x3~1|skip_connect~2|'")
    groups = arch.split("+")
    if len(groups) != 3:
        raise UserError(f"nb201 architecture {arch!r}: {hint}")
    genotype = []
    for node, group in enumerate(groups, start=1):
        edges = [e for e in group.split("|") if e]
        if len(edges) != node:
            raise UserError(f"nb201 architecture {arch!r}: node {node} needs {node} edge(s), "
                            f"got {len(edges)}; {hint}")
        parsed = []
        for edge in edges:
            op, _, src = edge.partition("~")
            if op not in OPERATIONS:
                raise UserError(f"nb201 architecture {arch!r}: unknown operation {op!r}; "
                                f"known: {', '.join(OPERATIONS)}")
            if not src.isdigit() or int(src) >= node:
                raise UserError(f"nb201 architecture {arch!r}: edge {edge!r} of node {node} must "
                                f"come from a node 0..{node - 1}")
            parsed.append((op, int(src)))
        genotype.append(tuple(parsed))
    return tuple(genotype)
