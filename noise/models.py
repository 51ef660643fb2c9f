"""Helpers for the deterministic CPU training loops (`noise.train`, the attacks): batch order,
subnormal flushing, freezing, accuracy."""
from __future__ import annotations

from contextlib import contextmanager
from typing import Callable, Iterator

import torch
from torch import nn


@contextmanager
def flush_denormals() -> Iterator[None]:
    """Treat subnormal floats as zero while small networks train: Adam's second moments decay
    into the subnormal range, where x86 arithmetic is ~100x slower (the reconstruction attack
    trained 4x faster with the same result). PyTorch's default (off) is restored after."""
    torch.set_flush_denormal(True)
    try:
        yield
    finally:
        torch.set_flush_denormal(False)


def batches(n: int, batch_size: int, gen: torch.Generator):
    perm = torch.randperm(n, generator=gen)
    for i in range(0, n, batch_size):
        yield perm[i:i + batch_size]


@torch.no_grad()
def accuracy(fn: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, y: torch.Tensor,
             batch_size: int = 512) -> float:
    """Fraction of correct argmax predictions of `fn` (logits) on (x, y)."""
    if len(y) == 0:
        raise ValueError("accuracy over an empty set")
    correct = 0
    for i in range(0, len(y), batch_size):
        correct += int((fn(x[i:i + batch_size]).argmax(1) == y[i:i + batch_size]).sum())
    return correct / len(y)


def freeze(module: nn.Module) -> nn.Module:
    """No gradients for the network's own weights: only noise tensors may learn."""
    for p in module.parameters():
        p.requires_grad_(False)
    return module.eval()
