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
  mi_bits as a relative figure and mi_loss_pct as the measurement; its interval
  (`mi_loss_ci95`) redoes both estimates on subsets of the test pairs (noise.mi.loss_interval).
- accuracy budget: the collection's test accuracy loss against `allowed_loss_pct`
  (`within_budget`), and each tuple's own test loss (the held-out split chose the tuples; the
  test split checks them); the loss's 95 % interval is the paired normal interval over test
  samples (clean and noisy correctness of the same image, each with its own noise draw);
- adversaries on the private label (noise.adversary): linear, MLP and collection-aware, chosen
  on the held-out split, scored on test; the noiseless reference likewise;
- reconstruction of the input from the transmitted tensor (noise.reconstruct), with and
  without noise;
- per-request randomness (noise.randomness) and the tuple choice's entropy;
- per-group accuracy gap (fairness): the public task's accuracy per private class (digit),
  largest minus smallest, in points.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any, Callable

import numpy as np
import torch
from torch import nn

from core.schema import Checks
from noise.adversary import AttackInputs, Labels, Views, attack
from noise.data import Dataset
from noise.knowledge import NoiseKnowledge
from noise.metrics import snr_db
from noise.mi import (ESTIMATORS, check_mi_settings, estimate_mi, gaussian_channel_mi,
                      loss_interval, reduce_features)
from noise.randomness import INPUTS, NoiseFn, activation_spread, per_request_std
from noise.reconstruct import reconstruct, targets
from noise.shredder import activations

Z95 = 1.959963984540054


@dataclass(frozen=True)
class EvalSettings:
    estimator: str = "ksg"        # the estimator behind mi_bits / mi_loss_pct
    mi_samples: int = 1000        # at most this many test samples (digits' test split has 359)
    mi_dim: int = 4               # principal axes kept per side before the k-NN estimate
    k: int = 3
    rounds: int = 10              # subsample re-estimates for the intervals
    adversary_dim: int = 64
    allowed_loss_pct: float | None = None   # the accuracy budget (None: not checked)
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
    accuracy_loss_ci95: float     # half-width of the 95 % interval, points
    within_budget: bool | None    # test loss <= allowed_loss_pct (None: no budget given)
    worst_tuple_loss_pct: float   # the worst single tuple's test loss (NaN: no tuples)
    tuples_over_budget: int | None
    snr_db: float
    mi_bits: float
    mi_clean_bits: float
    mi_loss_pct: float
    mi_loss_ci95: float           # half-width, points of %
    mi_ci_low_bits: float
    mi_ci_high_bits: float
    mi_shuffled_bits: float
    mi_alt_estimator: str
    mi_alt_bits: float            # the other k-NN estimator on the same features (noisy)
    mi_alt_clean_bits: float
    gaussian_bound_bits: float    # 1/2 log det(I + Cov(a) Cov(a' - a)^-1) on the projection
    private_misclass_pct: float   # the strongest adversary's test error
    private_misclass_ci95: float
    strongest_adversary: str
    noiseless_misclass_pct: float
    noiseless_misclass_ci95: float
    noiseless_adversary: str
    privacy_gain_pts: float       # adversary error with noise - without, on the same test items
    privacy_gain_ci95: float      # its paired interval's half-width
    adversaries: dict[str, dict[str, float]]   # name -> held-out / test error, noisy and not
    recon_mse: float
    recon_psnr_db: float
    recon_psnr_ci95: float
    recon_ssim: float
    recon_clean_mse: float
    recon_clean_psnr_db: float
    recon_clean_ssim: float
    noise_randomness: float       # per-request spread / the activation's spread across inputs
    per_request_std: float
    jitter_randomness: float      # the same with the tuple fixed: the draws' jitter alone
    tuple_entropy_bits: float
    fairness_gap_pct: float
    mi_samples: int
    mi_dim_x: int
    mi_dim_y: int
    transmitted_dim: int
    recon_examples: dict[str, list] = field(default_factory=dict)  # for the figure

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


@torch.no_grad()
def _predict(remote: nn.Module, a: torch.Tensor) -> torch.Tensor:
    return torch.cat([remote(a[i:i + 512]).argmax(1) for i in range(0, len(a), 512)])


def paired_loss_ci95(clean_ok: np.ndarray, noisy_ok: np.ndarray) -> float:
    """Half-width (points) of the normal 95 % interval of mean(clean_ok - noisy_ok)."""
    d = clean_ok.astype(np.float64) - noisy_ok.astype(np.float64)
    return 100.0 * Z95 * float(d.std(ddof=1)) / math.sqrt(len(d)) if len(d) > 1 else math.nan


def _budget(remote, a_test: torch.Tensor, y: torch.Tensor, clean_acc: float,
            knowledge: NoiseKnowledge | None, loss_pct: float, s: EvalSettings) -> dict:
    """The collection's and each tuple's test loss against the allowed loss."""
    worst, over = math.nan, None
    if knowledge is not None:
        losses = []
        for k in range(knowledge.size):
            noisy = knowledge.apply_tuples(a_test.numpy(), s.seed * 7919 + 3,
                                           np.full(len(a_test), k))
            acc_k = float((_predict(remote, torch.from_numpy(noisy)) == y).float().mean())
            losses.append(100.0 * (clean_acc - acc_k))
        worst = max(losses)
        if s.allowed_loss_pct is not None:
            over = int(sum(v > s.allowed_loss_pct for v in losses))
    within = None if s.allowed_loss_pct is None else bool(loss_pct <= s.allowed_loss_pct)
    return {"within_budget": within, "worst_tuple_loss_pct": worst, "tuples_over_budget": over}


def _mi_figures(x_test: torch.Tensor, a_test: torch.Tensor, noisy_test: torch.Tensor,
                noised: bool, s: EvalSettings) -> dict:
    n = min(s.mi_samples, len(x_test))
    xf = _input_features(x_test[:n].numpy(), s.mi_dim)
    clean = a_test[:n].reshape(n, -1).double().numpy()
    noisy = noisy_test[:n].reshape(n, -1).double().numpy()
    keep = clean.std(0) > 0      # dead units carry nothing about x on the clean side
    clean, noisy = clean[:, keep], noisy[:, keep]
    if clean.shape[1] > s.mi_dim:
        basis = _basis(clean, s.mi_dim)
        clean, noisy = _project(clean, basis), _project(noisy, basis)
    fn = ESTIMATORS[s.estimator]
    est = estimate_mi(xf, noisy, s.estimator, k=s.k, bootstrap_rounds=s.rounds, seed=s.seed)
    clean_bits = fn(xf, clean, k=s.k)
    alt = next(e for e in ESTIMATORS if e != s.estimator)
    mi_loss = (100.0 * (1.0 - max(est.bits, 0.0) / clean_bits) if clean_bits > 0
               else math.nan)
    if noised and math.isfinite(mi_loss):
        lo, hi = loss_interval(lambda a, b: fn(a, b, k=s.k), xf, clean, noisy, mi_loss,
                               s.rounds, s.seed)
        loss_ci = 0.5 * (hi - lo)
    else:
        loss_ci = 0.0 if math.isfinite(mi_loss) else math.nan   # no noise: the loss is 0
    return {
        "mi_bits": est.bits, "mi_clean_bits": clean_bits, "mi_loss_pct": mi_loss,
        "mi_loss_ci95": loss_ci, "mi_ci_low_bits": est.ci_low_bits,
        "mi_ci_high_bits": est.ci_high_bits, "mi_shuffled_bits": est.shuffled_bits,
        "mi_alt_estimator": alt, "mi_alt_bits": ESTIMATORS[alt](xf, noisy, k=s.k),
        "mi_alt_clean_bits": ESTIMATORS[alt](xf, clean, k=s.k),
        "gaussian_bound_bits": (gaussian_channel_mi(clean, noisy - clean) if noised
                                else math.inf),
        "mi_samples": n, "mi_dim_x": xf.shape[1], "mi_dim_y": clean.shape[1]}


def _attacks(data: Dataset, a: dict[str, torch.Tensor], sent: dict[str, np.ndarray],
             knowledge: NoiseKnowledge | None, noised: bool, s: EvalSettings) -> dict:
    if data.num_private_classes <= 1:
        return {"private_misclass_pct": math.nan, "private_misclass_ci95": math.nan,
                "strongest_adversary": "", "noiseless_misclass_pct": math.nan,
                "noiseless_misclass_ci95": math.nan, "noiseless_adversary": "",
                "privacy_gain_pts": math.nan, "privacy_gain_ci95": math.nan, "adversaries": {}}
    flat = {k: v.reshape(len(v), -1).numpy() for k, v in a.items()}
    inp = AttackInputs(Views(flat["train"], flat["heldout"], flat["test"]),
                       Views(*(sent[k].reshape(len(sent[k]), -1)
                               for k in ("train", "heldout", "test"))),
                       Labels(data.train.y_private.numpy(), data.heldout.y_private.numpy(),
                              data.test.y_private.numpy()), knowledge, s.adversary_dim, s.seed)
    out = attack(inp, noised)
    table = {f"{name}": {"heldout_pct": v.heldout_pct, "test_pct": v.test_pct}
             for name, v in out.scores.items()}
    table.update({f"noiseless {name}": {"heldout_pct": v.heldout_pct, "test_pct": v.test_pct}
                  for name, v in out.noiseless_scores.items()})
    return {"private_misclass_pct": out.misclass_pct, "private_misclass_ci95": out.misclass_ci95,
            "strongest_adversary": out.strongest,
            "noiseless_misclass_pct": out.noiseless_misclass_pct,
            "noiseless_misclass_ci95": out.noiseless_misclass_ci95,
            "noiseless_adversary": out.noiseless_strongest,
            "privacy_gain_pts": out.gain_pts, "privacy_gain_ci95": out.gain_ci95,
            "adversaries": table}


def _reconstructions(data: Dataset, a: dict[str, torch.Tensor], sent: dict[str, np.ndarray],
                     noised: bool, s: EvalSettings) -> dict:
    clean = reconstruct(a["train"].numpy(), data.train.x, a["test"].numpy(), data.test.x,
                        s.seed)
    noisy = reconstruct(sent["train"], data.train.x, sent["test"], data.test.x,
                        s.seed) if noised else clean
    shown = len(clean.examples)
    return {"recon_mse": noisy.mse, "recon_psnr_db": noisy.psnr_db,
            "recon_psnr_ci95": noisy.psnr_ci95, "recon_ssim": noisy.ssim,
            "recon_clean_mse": clean.mse, "recon_clean_psnr_db": clean.psnr_db,
            "recon_clean_ssim": clean.ssim,
            "recon_examples": {
                "input": np.round(targets(data.test.x[:shown]).numpy(), 3).tolist(),
                "noiseless": np.round(clean.examples, 3).tolist(),
                "noisy": np.round(noisy.examples, 3).tolist()}}


def _randomness(noise: NoiseFn | None, a_test: torch.Tensor,
                knowledge: NoiseKnowledge | None, s: EvalSettings) -> dict:
    if noise is None:      # nothing is drawn: the transmitted tensor is a function of x
        return {"noise_randomness": 0.0, "per_request_std": 0.0, "jitter_randomness": 0.0,
                "tuple_entropy_bits": 0.0}
    spread = activation_spread(a_test.numpy())
    fixed = a_test[:INPUTS].numpy()
    std = per_request_std(noise, fixed, s.seed * 7919 + 4)
    jitter = math.nan
    if knowledge is not None:
        def first_tuple(a: np.ndarray, seed: int) -> np.ndarray:
            return knowledge.apply_tuples(a, seed, np.zeros(len(a), np.int64))
        jitter = per_request_std(first_tuple, fixed, s.seed * 7919 + 4)

    def relative(value: float) -> float:
        return value / spread if spread > 0 else math.nan
    return {"noise_randomness": relative(std), "per_request_std": std,
            "jitter_randomness": relative(jitter),
            "tuple_entropy_bits": (knowledge.tuple_entropy_bits if knowledge is not None
                                   else math.nan)}


@torch.no_grad()
def evaluate_cut(local: nn.Module, remote: nn.Module, data: Dataset, noise: NoiseFn | None,
                 settings: EvalSettings = EvalSettings(),
                 knowledge: NoiseKnowledge | None = None,
                 on_stage: Callable[[str], Any] | None = None) -> CutPrivacy:
    """Every figure of one cut. `on_stage(name)` is told when a long step starts."""
    s, stage = settings, on_stage or (lambda name: None)
    noised = noise is not None
    a = {"train": activations(local, data.train.x), "heldout": activations(local, data.heldout.x),
         "test": activations(local, data.test.x)}
    seeds = {"test": 1, "train": 2, "heldout": 6}
    sent = {k: (v.numpy() if not noised else noise(v.numpy(), s.seed * 7919 + seeds[k]))
            for k, v in a.items()}
    noisy_test = torch.from_numpy(sent["test"])
    y = data.test.y
    clean_ok = (_predict(remote, a["test"]) == y).numpy()
    pred = _predict(remote, noisy_test)
    noisy_ok = (pred == y).numpy()
    clean_acc, acc = float(clean_ok.mean()), float(noisy_ok.mean())
    loss_pct = 100.0 * (clean_acc - acc)
    stage("accuracy budget")
    figures = {"accuracy": acc, "clean_accuracy": clean_acc, "accuracy_loss_pct": loss_pct,
               "accuracy_loss_ci95": paired_loss_ci95(clean_ok, noisy_ok),
               **_budget(remote, a["test"], y, clean_acc, knowledge, loss_pct, s),
               "snr_db": snr_db(a["test"], noisy_test) if noised else math.inf}
    stage("mutual information")
    figures.update(_mi_figures(data.test.x, a["test"], noisy_test, noised, s))
    stage("adversaries")
    figures.update(_attacks(data, a, sent, knowledge, noised, s))
    stage("reconstruction")
    figures.update(_reconstructions(data, a, sent, noised, s))
    figures.update(_randomness(noise, a["test"], knowledge, s))
    groups = data.test.y_private if data.num_private_classes > 1 else y
    per_group = [float((pred[groups == g] == y[groups == g]).float().mean())
                 for g in torch.unique(groups)]
    return CutPrivacy(**figures, fairness_gap_pct=100.0 * (max(per_group) - min(per_group)),
                      transmitted_dim=int(a["test"][0].numel()))
