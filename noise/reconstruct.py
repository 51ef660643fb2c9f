"""Reconstruction attack (He, Zhang and Lee, ACSAC 2019, black-box setting): the attacker feeds
inputs of its own (the train split) to the edge, observes the transmitted tensors, trains an
inverse network from tensor to input, and applies it to the test split's tensors.

Kept small so every evaluated cut gets one with and one without noise inside the run's budget:
the tensor is standardized and projected on at most `RECON_COMPONENTS` principal axes (fitted
on the attacker's tensors), a two-layer network maps that to the input's first channel,
average-pooled to at most 16 x 16 (the digits are 8 x 8 images upsampled, so no detail is
lost on them). Figures on the test split: MSE, PSNR (data range 1) and SSIM (Wang et al. 2004:
7 x 7 Gaussian window, sigma 1.5, K1 0.01, K2 0.03), each the mean over images.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from noise.models import flush_denormals

RECON_COMPONENTS = 256
RECON_SIDE = 16
HIDDEN = 256
EPOCHS = 40
BATCH = 128
EXAMPLES = 4                     # test images kept for the figure


def targets(x: torch.Tensor, side: int = RECON_SIDE) -> torch.Tensor:
    """(N, C, H, W) inputs -> (N, h, w) first channel, average-pooled to at most side x side;
    flat inputs (N, D) are kept as (N, 1, D)."""
    if x.ndim == 2:
        return x[:, None, :].float()
    img = x[:, :1].float()
    h, w = img.shape[2:]
    return F.adaptive_avg_pool2d(img, (min(h, side), min(w, side)))[:, 0]


def _gaussian_window(size: int, sigma: float) -> torch.Tensor:
    t = torch.arange(size, dtype=torch.float64) - (size - 1) / 2
    g = torch.exp(-t ** 2 / (2 * sigma ** 2))
    g = g / g.sum()
    return (g[:, None] * g[None, :])[None, None]


def ssim(a: torch.Tensor, b: torch.Tensor, data_range: float = 1.0, size: int = 7,
         sigma: float = 1.5) -> torch.Tensor:
    """SSIM per image of (N, H, W) batches (valid windows; the window shrinks to fit)."""
    a, b = a.double()[:, None], b.double()[:, None]
    size = min(size, a.shape[2], a.shape[3])
    win = _gaussian_window(size, sigma)
    c1, c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2
    mu_a, mu_b = F.conv2d(a, win), F.conv2d(b, win)
    var_a = F.conv2d(a * a, win) - mu_a ** 2
    var_b = F.conv2d(b * b, win) - mu_b ** 2
    cov = F.conv2d(a * b, win) - mu_a * mu_b
    s = ((2 * mu_a * mu_b + c1) * (2 * cov + c2)
         / ((mu_a ** 2 + mu_b ** 2 + c1) * (var_a + var_b + c2)))
    return s.flatten(1).mean(1)


def psnr_db(a: torch.Tensor, b: torch.Tensor, data_range: float = 1.0) -> torch.Tensor:
    mse = (a.double() - b.double()).flatten(1).pow(2).mean(1)
    return 10.0 * torch.log10(data_range ** 2 / mse.clamp_min(1e-12))


@dataclass(frozen=True)
class Reconstruction:
    mse: float
    psnr_db: float
    psnr_ci95: float                 # half-width of the mean PSNR's normal 95 % interval
    ssim: float
    examples: np.ndarray             # (EXAMPLES, h, w) reconstructions of the first test images


def _features(train: np.ndarray, test: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
    mean, std = train.mean(0), train.std(0)
    std = np.where(std > 0, std, 1.0)
    tr, te = (train - mean) / std, (test - mean) / std
    k = min(RECON_COMPONENTS, tr.shape[1], len(tr) - 1)
    if tr.shape[1] > k:
        _, _, vt = np.linalg.svd(tr, full_matrices=False)
        tr, te = tr @ vt[:k].T, te @ vt[:k].T
        scale = tr.std(0)
        tr, te = tr / scale, te / scale
    return torch.from_numpy(tr).float(), torch.from_numpy(te).float()


def reconstruct(sent_train: np.ndarray, x_train: torch.Tensor, sent_test: np.ndarray,
                x_test: torch.Tensor, seed: int, epochs: int = EPOCHS) -> Reconstruction:
    """Train the inverse network on (transmitted tensor, input) pairs of the train split and
    score it on the test split."""
    feats_tr, feats_te = _features(np.asarray(sent_train, np.float64).reshape(len(x_train), -1),
                                   np.asarray(sent_test, np.float64).reshape(len(x_test), -1))
    y_tr, y_te = targets(x_train), targets(x_test)
    shape = tuple(y_tr.shape[1:])
    out = int(np.prod(shape))
    gen = torch.Generator().manual_seed(seed)
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        net = nn.Sequential(nn.Linear(feats_tr.shape[1], HIDDEN), nn.ReLU(),
                            nn.Linear(HIDDEN, out), nn.Sigmoid())
    opt = torch.optim.Adam(net.parameters(), lr=3e-3, weight_decay=1e-5)
    flat = y_tr.reshape(len(y_tr), -1)
    with torch.enable_grad(), flush_denormals():
        for _ in range(epochs):
            for idx in torch.randperm(len(flat), generator=gen).split(BATCH):
                opt.zero_grad()
                F.mse_loss(net(feats_tr[idx]), flat[idx]).backward()
                opt.step()
    with torch.no_grad():
        rec = net(feats_te).reshape(len(y_te), *shape)
    mse = float((rec - y_te).pow(2).flatten(1).mean(1).mean())
    quality = ssim(rec, y_te) if len(shape) == 2 and min(shape) >= 2 else torch.tensor([math.nan])
    psnr = psnr_db(rec, y_te)
    half = 1.959963984540054 * float(psnr.std()) / math.sqrt(len(psnr)) if len(psnr) > 1 \
        else math.nan
    return Reconstruction(mse, float(psnr.mean()), half, float(quality.mean()),
                          rec[:EXAMPLES].numpy())
