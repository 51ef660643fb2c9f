"""Which networks a deployment toolchain folds away: those whose output does not depend on
the input (TensorFlow Lite's converter evaluates such a graph once and ships the constant).

Known for NAS-Bench-201 genotypes: a cell node is constant when every incoming edge is `none`
or carries a constant node through any operation (a convolution or pooling of a constant is a
constant); when some cell's output node is constant, so is everything after it. Other model
sources are assumed to depend on their input (no folding), which holds for every zoo network.
On the vendored data this marks 341 genotypes; the 235 Raspberry Pi 4 and 273 Pixel 3
measurements below 0.5 ms are all among them.
"""
from __future__ import annotations

NB201_PREFIX = "nb201:"


def nb201_constant_output(arch: str) -> bool:
    from partitioner.models.nb201_arch import parse_arch

    constant = [False]                      # node 0, the cell input
    for edges in parse_arch(arch):
        constant.append(all(op == "none" or constant[src] for op, src in edges))
    return constant[-1]


def constant_output(model: str) -> bool:
    if model.startswith(NB201_PREFIX):
        return nb201_constant_output(model[len(NB201_PREFIX):])
    return False
