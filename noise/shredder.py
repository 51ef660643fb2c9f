"""Shredder: learn multiplicative n1 and additive n2 noise on a frozen network at a cut.

a' = n1 * a + n2, where a = local(x); n1 and n2 are the only trainable tensors. Loss (arXiv v2,
Algorithm 1): CE(remote(a'), y)
              + lambda * (sum_same |a'_i - a'_j|^2 + sum_diff (c - |a'_i - a'_j|^2))
with pairs (i, j) between the batch and a second random batch. The ASPLOS variant replaces the
distance term by - alpha * (sum |n2| + sum |n1 - 1|) (alpha decays) and optionally subtracts
gamma times the cross entropy of a private-task probe trained alongside (an adversary that the
noise works against). Training stops at the first held-out check, after `min_iterations`, whose
accuracy is within the allowed loss of the clean network's.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from noise.data import Dataset
from noise.metrics import inv_snr
from noise.models import accuracy, freeze
from noise.spec import NoiseSpec, ShredderSpec

log = logging.getLogger(__name__)


class ShredderNoise(nn.Module):
    """The two noise tensors, of the activation's shape (no batch dimension)."""

    def __init__(self, shape: tuple[int, ...], init_mu: float, init_b: float,
                 gen: torch.Generator) -> None:
        super().__init__()
        # Laplace(mu, b) by inverse CDF from the seeded generator (torch.distributions has none)
        u = torch.rand(shape, generator=gen, dtype=torch.float64) - 0.5
        lap = init_mu - init_b * torch.sign(u) * torch.log1p(-2 * u.abs())
        self.n1 = nn.Parameter(torch.ones(shape))
        self.n2 = nn.Parameter(lap.float())

    def forward(self, a: torch.Tensor) -> torch.Tensor:
        return self.n1 * a + self.n2

    def magnitude(self) -> torch.Tensor:
        return self.n2.abs().sum() + (self.n1 - 1).abs().sum()


def pair_term(ap: torch.Tensor, ap_rand: torch.Tensor, y: torch.Tensor, y_rand: torch.Tensor,
              c_margin: float) -> torch.Tensor:
    """sum_same d + sum_diff (c - d), d = squared L2 distance of paired noisy activations."""
    d = (ap - ap_rand).flatten(1).pow(2).sum(1)
    same = y == y_rand
    return d[same].sum() + (c_margin - d[~same]).sum()


def shredder_loss(noise: ShredderNoise, remote: nn.Module, a: torch.Tensor, y: torch.Tensor,
                  a_rand: torch.Tensor, y_rand: torch.Tensor, spec: ShredderSpec,
                  alpha: float, private_term: torch.Tensor | None = None) -> torch.Tensor:
    ap = noise(a)
    ce = nn.functional.cross_entropy(remote(ap), y)
    if spec.variant == "arxiv":
        return ce + spec.lambda_reg * pair_term(ap, noise(a_rand), y, y_rand, spec.c_margin)
    loss = ce - alpha * noise.magnitude()
    if private_term is not None:
        loss = loss - spec.gamma * private_term
    return loss


@dataclass
class ShredderResult:
    n1: np.ndarray
    n2: np.ndarray
    heldout_accuracy: float
    inv_snr: float
    iterations: int
    accepted: bool
    history: list[tuple[int, float, float]] = field(default_factory=list)  # (it, acc, 1/SNR)


@torch.no_grad()
def activations(local: nn.Module, x: torch.Tensor, batch_size: int = 512) -> torch.Tensor:
    return torch.cat([local(x[i:i + batch_size]) for i in range(0, len(x), batch_size)])


def make_optimizer(noise: ShredderNoise, lr: float) -> torch.optim.Optimizer:
    # Exactly the noise tensors; a port that forgot to register them learned nothing.
    return torch.optim.Adam([noise.n1, noise.n2], lr=lr)


def train_shredder(local: nn.Module, remote: nn.Module, data: Dataset, spec: NoiseSpec,
                   seed: int, clean_heldout_acc: float | None = None,
                   acts: tuple[torch.Tensor, torch.Tensor] | None = None,
                   use_stop_rule: bool = True) -> ShredderResult:
    """Train one (n1, n2) tuple. `acts` = precomputed (train, held-out) activations."""
    sh: ShredderSpec = spec.options
    freeze(local), freeze(remote)
    a_train, a_held = acts if acts is not None else (activations(local, data.train.x),
                                                     activations(local, data.heldout.x))
    if clean_heldout_acc is None:
        clean_heldout_acc = accuracy(remote, a_held, data.heldout.y)
    target = clean_heldout_acc - spec.allowed_loss_pct / 100.0
    gen = torch.Generator().manual_seed(seed)
    noise = ShredderNoise(tuple(a_train.shape[1:]), sh.init_mu, sh.init_b, gen)
    opt = make_optimizer(noise, sh.lr)
    probe, probe_opt = None, None
    if sh.variant == "asplos" and sh.gamma > 0:
        probe = nn.Linear(a_train[0].numel(), data.num_private_classes)
        probe_opt = torch.optim.Adam(probe.parameters(), lr=1e-2)
    y, y_priv = data.train.y, data.train.y_private
    n = len(y)
    history: list[tuple[int, float, float]] = []
    acc, r = 0.0, 0.0
    it = 0
    for it in range(1, sh.iterations + 1):
        idx = torch.randint(n, (sh.batch_size,), generator=gen)
        idx_r = torch.randint(n, (sh.batch_size,), generator=gen)
        alpha = sh.alpha * sh.alpha_decay ** ((it - 1) // sh.alpha_decay_every)
        private = None
        if probe is not None:
            private = _probe_step(probe, probe_opt, noise, a_train[idx], y_priv[idx])
        opt.zero_grad()
        loss = shredder_loss(noise, remote, a_train[idx], y[idx], a_train[idx_r], y[idx_r],
                             sh, alpha, private)
        loss.backward()
        opt.step()
        if it % sh.eval_every == 0 or it == sh.iterations:
            acc, r = _evaluate(noise, remote, a_held, data.heldout.y, spec, seed + it)
            history.append((it, acc, r))
            log.debug("it %d loss %.4g held-out acc %.4f 1/SNR %.4g", it, float(loss.detach()),
                      acc, r)
            if use_stop_rule and it >= sh.min_iterations and acc >= target:
                break
    return ShredderResult(noise.n1.detach().numpy().copy(), noise.n2.detach().numpy().copy(),
                          acc, r, it, acc >= target, history)


def _probe_step(probe, probe_opt, noise, a, y_priv) -> torch.Tensor:
    """One adversary step on detached noisy activations; returns its CE on the live ones."""
    probe_opt.zero_grad()
    nn.functional.cross_entropy(probe(noise(a).detach().flatten(1)), y_priv).backward()
    probe_opt.step()
    return nn.functional.cross_entropy(probe(noise(a).flatten(1)), y_priv)


@torch.no_grad()
def _evaluate(noise: ShredderNoise, remote: nn.Module, a: torch.Tensor, y: torch.Tensor,
              spec: NoiseSpec, seed: int) -> tuple[float, float]:
    """Held-out accuracy and 1/SNR, by default with noise sampled the way the edge will
    (Laplace fit + saved order, fresh per sample): the learned tensors flatter the accuracy."""
    if spec.options.stop_on == "learned":
        noisy = noise(a)
    else:
        from noise.sampler import NoiseSampler
        from noise.collection import single_tuple_collection
        coll = single_tuple_collection(noise.n1.numpy(), noise.n2.numpy())
        sampler = NoiseSampler(coll, spec.order_mode, spec.quantized_bits)
        noisy = torch.from_numpy(sampler.apply(a.numpy(), seed))
    return accuracy(remote, noisy, y), inv_snr(a, noisy)
