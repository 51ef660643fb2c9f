"""How much of the noise is fresh per request.

Shredder's re-ordered noise is nearly a fixed pattern per tuple: the r-th largest of n Laplace
samples concentrates around its quantile, with a spread of about b sqrt((1 - p) / (n p)) at
upper-tail probability p (order-statistic asymptotics), so the per-position spread across draws
averages 2 (1/2 + pi/4) b / sqrt(n), against sqrt(2) b for the pooled spread of the sample. What
changes between requests is that jitter and the choice of tuple. SNR pools the fixed pattern
into its "noise"; these figures do not:
- `per_request_std`: for fixed inputs, the standard deviation of each transmitted element across
  noise draws, averaged over elements and inputs;
- `activation_spread`: the same average of each element's standard deviation across inputs
  (how much the tensor varies with the input, the scale the randomness is compared with);
- the tuple choice's entropy (noise.knowledge).
"""
from __future__ import annotations

import math
from typing import Callable

import numpy as np

NoiseFn = Callable[[np.ndarray, int], np.ndarray]     # (activations, seed) -> noisy ones

DRAWS = 32
INPUTS = 8

# mean over positions of the order statistics' standard deviation, in units of b / sqrt(n)
ORDER_STAT_SPREAD = 2.0 * (0.5 + math.pi / 4)


def per_request_std(noise: NoiseFn, inputs: np.ndarray, seed: int, draws: int = DRAWS) -> float:
    """Mean over elements and inputs of the standard deviation across `draws` noise draws."""
    values = []
    for i, item in enumerate(np.asarray(inputs, np.float32)):
        batch = np.repeat(item[None], draws, axis=0)
        noisy = np.asarray(noise(batch, seed + 7 * i)).reshape(draws, -1)
        values.append(float(noisy.std(axis=0, ddof=1).mean()))
    return float(np.mean(values))


def activation_spread(activations: np.ndarray) -> float:
    a = np.asarray(activations, np.float64).reshape(len(activations), -1)
    return float(a.std(axis=0, ddof=1).mean())
