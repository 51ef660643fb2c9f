"""How well a whole-network calibration predicts networks it was not fitted to.

A fit's residuals on its own networks flatter it: with ten measured networks and five to
seven fitted parameters the fit can follow their scatter. `sim calibrate` therefore also
predicts every measured network from a fit that did not see it (leave-one-out for up to
CV_FOLDS networks, CV_FOLDS folds beyond) and does the same for the two-feature reference the
accuracy report uses, least squares of latency on (kernels, MACs) with an intercept: the user
learns, on their own device, both the error to expect and whether the roofline model earns its
parameters over that regression.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.errors import UserError
from hwmodels.calibrate_net import fit_networks
from hwmodels.device import DeviceModel
from hwmodels.netcost import LayerTable, network_costs

CV_FOLDS = 10
CV_SEED = 0


def cv_folds(n: int, seed: int = CV_SEED) -> list[np.ndarray]:
    """Held-out rows of each fold: every row alone up to CV_FOLDS rows, else CV_FOLDS folds
    of a seeded shuffle whose sizes differ by at most one."""
    if n <= CV_FOLDS:
        return [np.array([i]) for i in range(n)]
    order = np.random.default_rng(seed).permutation(n)
    return [np.sort(fold) for fold in np.array_split(order, CV_FOLDS)]


def kernels_macs_baseline(table: LayerTable, train: np.ndarray, y: np.ndarray,
                          batch_sizes=1) -> np.ndarray:
    """Least squares of `y` on (1, kernels, batch x MACs) over the `train` networks,
    evaluated on every network of `table`."""
    batch = np.broadcast_to(np.asarray(batch_sizes, dtype=float), (table.n_networks,))
    X = np.c_[np.ones(table.n_networks), table.kernels(), batch * table.total_macs()]
    coef, *_ = np.linalg.lstsq(X[train], y[train], rcond=None)
    return X @ coef


@dataclass(frozen=True)
class CrossValidation:
    folds: int
    predicted_ms: np.ndarray        # each network, by the fit that held it out
    baseline_ms: np.ndarray         # the (kernels, MACs) least squares, likewise

    @property
    def method(self) -> str:
        n = len(self.predicted_ms)
        return "leave-one-out" if self.folds == n else f"{self.folds}-fold"

    def summary(self, latency_ms: np.ndarray) -> dict[str, float]:
        def ape(pred: np.ndarray) -> np.ndarray:
            return 100 * np.abs(pred - latency_ms) / latency_ms
        model, base = ape(self.predicted_ms), ape(self.baseline_ms)
        return {"mape_pct": float(model.mean()), "median_ape_pct": float(np.median(model)),
                "baseline_mape_pct": float(base.mean()),
                "baseline_median_ape_pct": float(np.median(base))}


def cross_validate(device: DeviceModel, table: LayerTable, batch_sizes: np.ndarray,
                   latency_ms: np.ndarray, dtype: str = "float32"
                   ) -> tuple[CrossValidation | None, str]:
    """The held-out predictions, or None and why not (a fold left with fewer networks than
    its fit has parameters, or a fold's fit that did not converge)."""
    n = len(latency_ms)
    batch_sizes = np.asarray(batch_sizes)
    predicted, baseline = np.empty(n), np.empty(n)
    folds = cv_folds(n)
    for held in folds:
        train = np.setdiff1d(np.arange(n), held)
        try:
            fit = fit_networks(device, table.select(train), batch_sizes[train],
                               latency_ms[train], dtype=dtype)
        except UserError as exc:
            return None, f"a fold without rows {held.tolist()[:5]}: {exc}"
        predicted[held] = network_costs(fit.device, table.select(held), batch_sizes[held],
                                        dtype)[0] * 1e3
        baseline[held] = kernels_macs_baseline(table, train, latency_ms, batch_sizes)[held]
    return CrossValidation(len(folds), predicted, baseline), ""
