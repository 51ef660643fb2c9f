"""Privacy figures of one cut, measured on the test split with noise as the edge samples it.

Pure evaluation: the caller supplies the frozen (local, remote) pair, the data and a noise
function `noise(activation batch, seed) -> noisy batch` (Shredder: the numba kernels through
NoiseSampler; Cloak: its masked Gaussian/Laplace mask; None: nothing is added).

Figures (see `CutPrivacy`):
- accuracy of the public task with noise; loss in points against the noiseless split model;
- SNR in dB, E[a^2] / Var(a' - a) over every element of the test activations;
- MI in bits between the input and the transmitted tensor. Features: the input goes through
  the paper's reduction (one channel, no constant, no feature correlated above 0.98 with a kept
  one), then both sides are projected on at most `mi_dim` principal axes. The activation's axes
  are fitted on the noiseless activation and applied to clean and noisy alike, so both MI
  figures see the same projection; a projection can only lower MI (data processing), so the
  figures are lower bounds on the full-dimensional MI. k-NN estimators are reliable only in
  low dimension (tests/test_mi.py: KSG within 10 % at d <= 3 with 4000 samples, 0.78 of the
  truth at d = 5), which is why mi_dim is small. mi_loss_pct = 100 (1 - max(MI_noisy, 0) /
  MI_clean), same estimator, same samples, same projection: KSG's understatement is nearly one
  factor across noise levels at a given (d, n) and cancels there. On Gaussian channels at
  d = 4 and 359 samples (digits) KSG reads about 0.6 of the true bits, while its loss is
  within 6 points of the closed-form loss on average, with a spread of up to 5 points; read
  mi_bits as a relative figure and mi_loss_pct as the measurement.
- the adversary: standardize, PCA to `adversary_dim`, multinomial logistic regression trained on
  transmitted tensors of the train split (noise sampled the same way, other seeds) to predict
  the private label; its misclassification on the test split, and the same pipeline on
  noiseless tensors;
- per-group accuracy gap (fairness): the public task's accuracy per private class (digit),
  largest minus smallest, in points.
"""
from __future__ import annotations

import logging
import math
from dataclasses import asdict, dataclass
from typing import Callable

import numpy as np
import torch
from torch import nn

from core.schema import Checks
from noise.data import Dataset
from noise.metrics import snr_db
from noise.mi import (ESTIMATORS, check_mi_settings, estimate_mi, gaussian_channel_mi,
                      reduce_features)
from noise.models import accuracy
from noise.shredder import activations

log = logging.getLogger(__name__)

NoiseFn = Callable[[np.ndarray, int], np.ndarray]     # (activations, seed) -> noisy ones


@dataclass(frozen=True)
class EvalSettings:
    estimator: str = "ksg"        # the estimator behind mi_bits / mi_loss_pct
    mi_samples: int = 1000        # at most this many test samples (digits' test split has 359)
    mi_dim: int = 4               # principal axes kept per side before the k-NN estimate
    k: int = 3
    rounds: int = 10              # subsample re-estimates for the interval
    adversary_dim: int = 64
    seed: int = 0

    def __post_init__(self) -> None:
        c = Checks()
        if self.estimator not in ESTIMATORS:
            c.add("estimator", f'must be one of {", ".join(ESTIMATORS)}, got {self.estimator!r}')
        check_mi_settings(self.mi_samples, self.mi_dim, c)
        c.done()


@dataclass(frozen=True)
class CutPrivacy:
    accuracy: float
    clean_accuracy: float
    accuracy_loss_pct: float
    snr_db: float
    mi_bits: float
    mi_clean_bits: float
    mi_loss_pct: float
    mi_ci_low_bits: float
    mi_ci_high_bits: float
    mi_shuffled_bits: float
    mi_alt_estimator: str
    mi_alt_bits: float            # the other k-NN estimator on the same features (noisy)
    mi_alt_clean_bits: float
    gaussian_bound_bits: float    # 1/2 log det(I + Cov(a) Cov(a' - a)^-1) on the projection
    private_misclass_pct: float
    private_misclass_clean_pct: float
    fairness_gap_pct: float
    mi_samples: int
    mi_dim_x: int
    mi_dim_y: int
    transmitted_dim: int

    def as_dict(self) -> dict:
        return asdict(self)


def _basis(a: np.ndarray, dim: int) -> tuple[np.ndarray, np.ndarray]:
    """Mean and the top `dim` principal axes of a (n, d) sample (rows of the returned basis)."""
    center = a.mean(0)
    _, _, vt = np.linalg.svd(a - center, full_matrices=False)
    return center, vt[:dim]


def _project(a: np.ndarray, basis: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    center, vt = basis
    return (a - center) @ vt.T


def _input_features(x: np.ndarray, dim: int) -> np.ndarray:
    red = reduce_features(x)
    return _project(red, _basis(red, dim)) if red.shape[1] > dim else red


def _adversary(train_feats: np.ndarray, y_train: np.ndarray, test_feats: np.ndarray,
               y_test: np.ndarray, dim: int, seed: int) -> float:
    """Misclassification (%) of a logistic-regression adversary on the private label."""
    from sklearn.decomposition import PCA
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    n_comp = int(min(dim, train_feats.shape[1], len(train_feats) - 1))
    clf = make_pipeline(StandardScaler(), PCA(n_comp, random_state=seed),
                        LogisticRegression(max_iter=3000))   # converges on these small sets
    clf.fit(train_feats, y_train)
    return 100.0 * float(np.mean(clf.predict(test_feats) != y_test))


@torch.no_grad()
def evaluate_cut(local: nn.Module, remote: nn.Module, data: Dataset, noise: NoiseFn | None,
                 settings: EvalSettings = EvalSettings()) -> CutPrivacy:
    s = settings
    x_test = data.test.x
    a_test = activations(local, x_test)
    a_train = activations(local, data.train.x)
    noisy_test = a_test if noise is None else torch.from_numpy(
        noise(a_test.numpy(), s.seed * 7919 + 1))
    clean_acc = accuracy(remote, a_test, data.test.y)
    acc = accuracy(remote, noisy_test, data.test.y)
    snr = math.inf if noise is None else snr_db(a_test, noisy_test)

    # --- mutual information between input and transmitted tensor
    n = min(s.mi_samples, len(x_test))
    xf = _input_features(x_test[:n].numpy(), s.mi_dim)
    clean = a_test[:n].reshape(n, -1).double().numpy()
    noisy = noisy_test[:n].reshape(n, -1).double().numpy()
    keep = clean.std(0) > 0      # dead units carry nothing about x on the clean side
    clean, noisy = clean[:, keep], noisy[:, keep]
    if clean.shape[1] > s.mi_dim:
        basis = _basis(clean, s.mi_dim)
        clean, noisy = _project(clean, basis), _project(noisy, basis)
    est = estimate_mi(xf, noisy, s.estimator, k=s.k, bootstrap_rounds=s.rounds, seed=s.seed)
    clean_bits = ESTIMATORS[s.estimator](xf, clean, k=s.k)
    alt = next(e for e in ESTIMATORS if e != s.estimator)
    alt_bits = ESTIMATORS[alt](xf, noisy, k=s.k)
    alt_clean = ESTIMATORS[alt](xf, clean, k=s.k)
    gauss = (math.inf if noise is None
             else gaussian_channel_mi(clean, noisy - clean))
    mi_loss = (100.0 * (1.0 - max(est.bits, 0.0) / clean_bits) if clean_bits > 0
               else math.nan)

    # --- adversary on the private label, and the fairness gap
    misclass = misclass_clean = math.nan
    if data.num_private_classes > 1:
        tr = a_train.reshape(len(a_train), -1).numpy()
        te_clean = a_test.reshape(len(a_test), -1).numpy()
        y_tr, y_te = data.train.y_private.numpy(), data.test.y_private.numpy()
        misclass_clean = _adversary(tr, y_tr, te_clean, y_te, s.adversary_dim, s.seed)
        if noise is None:
            misclass = misclass_clean
        else:
            tr_noisy = noise(a_train.numpy(), s.seed * 7919 + 2).reshape(len(a_train), -1)
            misclass = _adversary(tr_noisy, y_tr, noisy_test.reshape(len(a_test), -1).numpy(),
                                  y_te, s.adversary_dim, s.seed)
    groups = data.test.y_private if data.num_private_classes > 1 else data.test.y
    pred = torch.cat([remote(noisy_test[i:i + 512]).argmax(1)
                      for i in range(0, len(noisy_test), 512)])
    per_group = [float((pred[groups == g] == data.test.y[groups == g]).float().mean())
                 for g in torch.unique(groups)]
    return CutPrivacy(
        accuracy=acc, clean_accuracy=clean_acc, accuracy_loss_pct=100.0 * (clean_acc - acc),
        snr_db=snr, mi_bits=est.bits, mi_clean_bits=clean_bits, mi_loss_pct=mi_loss,
        mi_ci_low_bits=est.ci_low_bits, mi_ci_high_bits=est.ci_high_bits,
        mi_shuffled_bits=est.shuffled_bits, mi_alt_estimator=alt, mi_alt_bits=alt_bits,
        mi_alt_clean_bits=alt_clean, gaussian_bound_bits=gauss,
        private_misclass_pct=misclass, private_misclass_clean_pct=misclass_clean,
        fairness_gap_pct=100.0 * (max(per_group) - min(per_group)), mi_samples=n,
        mi_dim_x=xf.shape[1], mi_dim_y=clean.shape[1],
        transmitted_dim=int(a_test[0].numel()))
