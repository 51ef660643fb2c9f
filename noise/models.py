"""A small deterministic training loop on CPU (the zoo's models on the bundled data)."""
from __future__ import annotations

import logging
from contextlib import contextmanager
from typing import Callable, Iterator

import torch
from torch import nn

log = logging.getLogger(__name__)


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


def train_classifier(model: nn.Module, x: torch.Tensor, y: torch.Tensor, epochs: int = 10,
                     seed: int = 0, lr: float = 2e-3, batch_size: int = 64) -> nn.Module:
    """Adam on cross entropy; batch order from a seeded generator. Returns the model in eval."""
    gen = torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    model.train()
    with torch.random.fork_rng():      # dropout draws from the global generator
        torch.manual_seed(seed)
        for epoch in range(epochs):
            total = 0.0
            for idx in batches(len(y), batch_size, gen):
                opt.zero_grad()
                loss = nn.functional.cross_entropy(model(x[idx]), y[idx])
                loss.backward()
                opt.step()
                total += float(loss.detach()) * len(idx)
            log.debug("epoch %d loss %.4f", epoch, total / len(y))
    return model.eval()


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
