"""Signal-to-noise ratio of a noisy activation (Shredder's in-training privacy proxy).

SNR = E[a^2] / Var(a' - a), both over every element of every sample given (the paper's
formulation); 1/SNR grows with privacy. Empty input is an error, never a silent 0 or NaN.
"""
from __future__ import annotations

import math

import numpy as np
import torch


def _as_tensor(v) -> torch.Tensor:
    return v if isinstance(v, torch.Tensor) else torch.as_tensor(np.asarray(v))


def inv_snr(clean, noisy) -> float:
    """1/SNR = Var(noisy - clean) / E[clean^2] over real activations."""
    a = _as_tensor(clean).detach().double()
    b = _as_tensor(noisy).detach().double()
    if a.numel() == 0:
        raise ValueError("SNR over an empty activation set")
    if a.shape != b.shape:
        raise ValueError(f"clean and noisy shapes differ: {tuple(a.shape)} vs {tuple(b.shape)}")
    power = float((a * a).mean())
    if power <= 0:
        raise ValueError("SNR undefined: the clean activation is all zeros")
    return float((b - a).var(unbiased=False)) / power


def snr_db(clean, noisy) -> float:
    r = inv_snr(clean, noisy)
    return math.inf if r == 0 else -10.0 * math.log10(r)
