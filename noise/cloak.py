"""Cloak: learn a noise mean M and a bounded scale B that suppress features the task ignores.

x' = x + B * E + M with E ~ Laplace(0, 1) (paper) or N(0, 1) (public code), and
B = (1 + tanh P) / 2 * (B_max - B_min) + B_min, so B stays in [B_min, B_max]; M and P are the
only trainable tensors. Loss -log(mean B) + lambda * CE: the first term grows the noise. After
training, features with B above the threshold are suppressed:
x' = x * mask + M + B * E * mask, mask = B <= threshold. Works on the input (cut 0: `local`
is the identity) or on any cut's activation.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from noise.data import Dataset
from noise.models import accuracy, batches, flush_denormals, freeze
from noise.shredder import activations
from noise.spec import CloakSpec

log = logging.getLogger(__name__)


class CloakNoise(nn.Module):
    def __init__(self, shape: tuple[int, ...], spec: CloakSpec) -> None:
        super().__init__()
        self.spec = spec
        self.p = nn.Parameter(torch.full(shape, spec.p_init))
        self.m = nn.Parameter(torch.zeros(shape))

    def scale(self) -> torch.Tensor:
        s = self.spec
        return (1 + torch.tanh(self.p)) / 2 * (s.b_max - s.b_min) + s.b_min

    def sample_e(self, shape: torch.Size, gen: torch.Generator) -> torch.Tensor:
        if self.spec.distribution == "gaussian":
            return torch.randn(shape, generator=gen)
        u = torch.rand(shape, generator=gen) - 0.5
        return -torch.sign(u) * torch.log1p(-2 * u.abs().clamp(max=0.5 - 1e-7))

    def forward(self, x: torch.Tensor, gen: torch.Generator,
                suppress: bool = False) -> torch.Tensor:
        b = self.scale()
        e = self.sample_e(x.shape, gen)
        if not suppress:
            return x + b * e + self.m
        mask = (b <= self.spec.threshold).to(x.dtype)
        return x * mask + self.m + b * e * mask


def cloak_loss(noise: CloakNoise, remote: nn.Module, a: torch.Tensor, y: torch.Tensor,
               gen: torch.Generator) -> torch.Tensor:
    ce = nn.functional.cross_entropy(remote(noise(a, gen)), y)
    return -torch.log(noise.scale().mean()) + noise.spec.lambda_reg * ce


@dataclass
class CloakResult:
    mean: np.ndarray          # M
    scale: np.ndarray         # B
    mask: np.ndarray          # bool: True where the feature is kept
    heldout_accuracy: float   # with suppression applied
    initial_mean_scale: float
    final_mean_scale: float


def train_cloak(local: nn.Module, remote: nn.Module, data: Dataset, spec: CloakSpec,
                seed: int) -> CloakResult:
    freeze(local), freeze(remote)
    a_train = activations(local, data.train.x)
    a_held = activations(local, data.heldout.x)
    gen = torch.Generator().manual_seed(seed)
    noise = CloakNoise(tuple(a_train.shape[1:]), spec)
    initial = float(noise.scale().detach().mean())
    opt = torch.optim.Adam([noise.p, noise.m], lr=spec.lr)
    with flush_denormals():
        for epoch in range(spec.epochs):
            for idx in batches(len(a_train), spec.batch_size, gen):
                opt.zero_grad()
                loss = cloak_loss(noise, remote, a_train[idx], data.train.y[idx], gen)
                loss.backward()
                opt.step()
            log.debug("cloak epoch %d loss %.4f mean B %.4f", epoch, float(loss.detach()),
                      float(noise.scale().detach().mean()))
    with torch.no_grad():
        b = noise.scale()
        acc = accuracy(lambda a: remote(noise(a, gen, suppress=True)), a_held, data.heldout.y)
        return CloakResult(noise.m.numpy().copy(), b.numpy().copy(),
                           (b <= spec.threshold).numpy().copy(), acc, initial, float(b.mean()))
