"""Adversaries that predict the private label from transmitted tensors.

Each is trained on tensors of the train split (noised the way the edge noises them, other
seeds), chosen on the held-out split and scored on the test split, so picking the strongest does
not flatter it on the figures it reports:
- `linear`: standardize, PCA, multinomial logistic regression;
- `mlp`: standardize, PCA, a one-hidden-layer network (non-linear; it stops when a tenth of
  its training tensors, held back, stop improving);
- `collection-aware`: knows every tuple of the collection (noise.knowledge) and noises its own
  training tensors with it; it estimates each tensor's tuple (a classifier on tensors noised
  with known tuples), undoes that tuple's expected affine map, a = (a' - E[n2]) / E[n1], and
  classifies the result with the MLP. It needs a method that exposes its knowledge.
The noiseless reference is the strongest of `linear` and `mlp` on noiseless tensors.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np

from core.registry import Registry
from noise.knowledge import NoiseKnowledge

MLP_HIDDEN = 128
MLP_EPOCHS = 200


@dataclass(frozen=True)
class Views:
    """Flattened tensors of one kind (noiseless or transmitted) per split."""
    train: np.ndarray
    heldout: np.ndarray
    test: np.ndarray


@dataclass(frozen=True)
class Labels:
    train: np.ndarray
    heldout: np.ndarray
    test: np.ndarray


@dataclass(frozen=True)
class AttackInputs:
    clean: Views                     # noiseless activations (what the attacker feeds the edge)
    sent: Views                      # transmitted tensors
    labels: Labels
    knowledge: NoiseKnowledge | None
    dim: int                         # PCA components before a classifier
    seed: int


@dataclass(frozen=True)
class Score:
    heldout_pct: float
    test_pct: float
    test_wrong: np.ndarray | None = None     # per test item: misclassified?


# an adversary: inputs -> predictions on (held-out, test), or None where it does not apply
Attack = Callable[[AttackInputs], "tuple[np.ndarray, np.ndarray] | None"]
ADVERSARIES: Registry[Attack] = Registry("adversary")


def _pipeline(kind: str, n_features: int, n_train: int, dim: int, seed: int):
    from sklearn.decomposition import PCA
    from sklearn.linear_model import LogisticRegression
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    n_comp = int(min(dim, n_features, n_train - 1))
    head = (LogisticRegression(max_iter=3000) if kind == "linear"   # converges on these sets
            else MLPClassifier((MLP_HIDDEN,), alpha=1e-3, max_iter=MLP_EPOCHS,
                               early_stopping=True, n_iter_no_change=10, random_state=seed))
    return make_pipeline(StandardScaler(), PCA(n_comp, random_state=seed), head)


def fit_predict(kind: str, train: np.ndarray, y: np.ndarray, evals: tuple[np.ndarray, ...],
                dim: int, seed: int) -> tuple[np.ndarray, ...]:
    import warnings
    from sklearn.exceptions import ConvergenceWarning

    clf = _pipeline(kind, train.shape[1], len(train), dim, seed)
    with warnings.catch_warnings():
        # a capped epoch budget is a choice here, not a failure
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(train, y)
    return tuple(clf.predict(e) for e in evals)


@ADVERSARIES.register("linear")
def _linear(inp: AttackInputs):
    s = inp.sent
    return fit_predict("linear", s.train, inp.labels.train, (s.heldout, s.test), inp.dim,
                       inp.seed)


@ADVERSARIES.register("mlp")
def _mlp(inp: AttackInputs):
    s = inp.sent
    return fit_predict("mlp", s.train, inp.labels.train, (s.heldout, s.test), inp.dim,
                       inp.seed)


def undo(sent: np.ndarray, tuples: np.ndarray, knowledge: NoiseKnowledge) -> np.ndarray:
    """(a' - E[n2 | k]) / E[n1 | k] per item; 0 where the tuple's E[n1] is ~0 (the
    multiplicative noise erased that element, nothing to undo)."""
    mult, add = knowledge.mult[tuples], knowledge.add[tuples]
    tiny = 1e-6 * max(float(np.abs(knowledge.mult).max()), 1e-30)
    safe = np.abs(mult) > tiny
    return np.where(safe, (sent - add) / np.where(safe, mult, 1.0), 0.0)


def tuple_estimates(inp: AttackInputs, own: np.ndarray, own_tuples: np.ndarray,
                    evals: tuple[np.ndarray, ...]) -> tuple[np.ndarray, ...]:
    """Which tuple noised each tensor: a linear classifier on tensors noised with known tuples
    (a tuple is a fixed pattern, so this is an easy problem); one tuple needs no estimate."""
    if inp.knowledge.size == 1:
        return tuple(np.zeros(len(e), np.int64) for e in evals)
    return fit_predict("linear", own, own_tuples, evals, inp.dim, inp.seed)


@ADVERSARIES.register("collection-aware")
def _collection_aware(inp: AttackInputs):
    k = inp.knowledge
    if k is None:
        return None
    rng = np.random.default_rng(inp.seed + 17)
    clean = inp.clean.train
    own_tuples = rng.integers(k.size, size=len(clean))
    own = k.noised_flat(clean, inp.seed * 7919 + 5, own_tuples)
    held_k, test_k = tuple_estimates(inp, own, own_tuples, (inp.sent.heldout, inp.sent.test))
    train = undo(own, own_tuples, k)
    return fit_predict("mlp", train, inp.labels.train,
                       (undo(inp.sent.heldout, held_k, k), undo(inp.sent.test, test_k, k)),
                       inp.dim, inp.seed)


def _error_pct(pred: np.ndarray, y: np.ndarray) -> float:
    return 100.0 * float(np.mean(pred != y))


def score_all(inp: AttackInputs, names: list[str]) -> dict[str, Score]:
    scores = {}
    for name in names:
        preds = ADVERSARIES.get(name)(inp)
        if preds is not None:
            scores[name] = Score(_error_pct(preds[0], inp.labels.heldout),
                                 _error_pct(preds[1], inp.labels.test),
                                 preds[1] != inp.labels.test)
    return scores


def strongest(scores: dict[str, Score]) -> str:
    """The adversary with the lowest held-out error (on a tie, the first by name)."""
    return min(scores, key=lambda n: scores[n].heldout_pct)


@dataclass(frozen=True)
class AttackOutcome:
    scores: dict[str, Score]         # on transmitted tensors
    strongest: str
    misclass_pct: float              # strongest adversary's test error
    misclass_ci95: float             # half-width of its 95 % interval (normal, binomial)
    noiseless_scores: dict[str, Score]
    noiseless_strongest: str
    noiseless_misclass_pct: float
    noiseless_misclass_ci95: float
    gain_pts: float                  # misclass_pct - noiseless_misclass_pct, same test items
    gain_ci95: float                 # half-width of its paired 95 % interval


Z95 = 1.959963984540054


def binomial_half_width_pct(p_pct: float, n: int) -> float:
    p = p_pct / 100.0
    return 100.0 * Z95 * math.sqrt(p * (1.0 - p) / n)


def paired_gain_pts(wrong: np.ndarray, wrong_before: np.ndarray) -> tuple[float, float]:
    """How many points of error the noise adds for the strongest adversary, on the same test
    items, and the half-width of its 95 % interval (normal, over the per-item differences):
    pairing removes the items both get right or both get wrong, so the interval is narrower
    than the two errors' intervals taken apart."""
    d = wrong.astype(float) - wrong_before.astype(float)
    half = Z95 * float(d.std(ddof=1)) / math.sqrt(len(d)) if len(d) > 1 else math.nan
    return 100.0 * float(d.mean()), 100.0 * half


def attack(inp: AttackInputs, noised: bool) -> AttackOutcome:
    """Every adversary on the transmitted tensors, and the noiseless reference. Without noise
    the transmitted tensors are the noiseless ones and are attacked once."""
    plain = AttackInputs(inp.clean, inp.clean, inp.labels, None, inp.dim, inp.seed)
    base = score_all(plain, ["linear", "mlp"])
    scores = score_all(inp, ADVERSARIES.names()) if noised else base
    best, base_best = strongest(scores), strongest(base)
    err, before, n = scores[best].test_pct, base[base_best].test_pct, len(inp.labels.test)
    gain, gain_half = paired_gain_pts(scores[best].test_wrong, base[base_best].test_wrong)
    return AttackOutcome(scores, best, err, binomial_half_width_pct(err, n), base, base_best,
                         before, binomial_half_width_pct(before, n), gain, gain_half)
