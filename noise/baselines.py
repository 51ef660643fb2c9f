"""Untrained baselines: i.i.d. zero-mean Laplace or Gaussian additive noise, fresh per sample.

For zero-mean i.i.d. noise of variance v, 1/SNR = v / E[a^2]; Laplace(0, b) has v = 2 b^2 and
N(0, s^2) has v = s^2, so a target 1/SNR fixes the scale in closed form.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch
from torch import nn

from noise.metrics import inv_snr
from noise.models import accuracy

Dist = Literal["laplace", "gaussian"]


@dataclass(frozen=True)
class BaselinePoint:
    dist: str
    inv_snr: float       # measured on the noisy activations
    accuracy: float


def scale_for_inv_snr(target_inv_snr: float, power: float, dist: Dist) -> float:
    var = target_inv_snr * power
    return math.sqrt(var / 2.0) if dist == "laplace" else math.sqrt(var)


def iid_noise(shape: tuple[int, ...], scale: float, dist: Dist,
              rng: np.random.Generator) -> np.ndarray:
    if dist == "laplace":
        return rng.laplace(0.0, scale, shape).astype(np.float32)
    if dist == "gaussian":
        return rng.normal(0.0, scale, shape).astype(np.float32)
    raise ValueError(f'"dist" must be laplace or gaussian, got {dist!r}')


def evaluate_baseline(remote: nn.Module, acts: torch.Tensor, y: torch.Tensor,
                      target_inv_snr: float, dist: Dist, seed: int) -> BaselinePoint:
    """Accuracy of the remote part on acts + i.i.d. noise scaled to `target_inv_snr`."""
    power = float(acts.double().pow(2).mean())
    scale = scale_for_inv_snr(target_inv_snr, power, dist)
    noise = torch.from_numpy(iid_noise(tuple(acts.shape), scale, dist,
                                       np.random.default_rng(seed)))
    noisy = acts + noise
    return BaselinePoint(dist, inv_snr(acts, noisy), accuracy(remote, noisy, y))


def baseline_at_accuracy(remote: nn.Module, acts: torch.Tensor, y: torch.Tensor,
                         target_accuracy: float, dist: Dist, seed: int,
                         lo: float = 1e-4, hi: float = 1e4, steps: int = 30) -> BaselinePoint:
    """The largest 1/SNR (bisection in log space) whose accuracy stays >= target_accuracy."""
    best = evaluate_baseline(remote, acts, y, lo, dist, seed)
    if best.accuracy < target_accuracy:
        return best
    log_lo, log_hi = math.log(lo), math.log(hi)
    for _ in range(steps):
        mid = 0.5 * (log_lo + log_hi)
        point = evaluate_baseline(remote, acts, y, math.exp(mid), dist, seed)
        if point.accuracy >= target_accuracy:
            best, log_lo = point, mid
        else:
            log_hi = mid
    return best
