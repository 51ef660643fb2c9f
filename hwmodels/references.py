"""Data-rich references for the accuracy report: what models that see far more measurements
than a calibration reach, learned from 80 % of the networks and scored on the rest (5 folds,
so every network is predicted once by a model that did not see it).

- **Free layer costs**: latency as an intercept plus a free non-negative cost for each
  distinct layer the device runs (op type, work and bytes; NAS-Bench-201 has 34), least
  squares in relative error. Every model that prices a network as a sum of its layers' costs
  is one of these, so it is the best such a sum reaches from these measurements, up to the
  fit's loss (relative squared error, not rank).
- **Boosted trees** on the six cell edges as categories (scikit-learn's histogram gradient
  boosting, on log latency): any function of the architecture, interactions included, learned
  from about 12,500 measurements; it knows nothing of the hardware.

Neither is a result: they say whether a miss of the roofline calibrated on ten networks is its
own or what even thousands of measurements allow.
"""
from __future__ import annotations

import numpy as np
from scipy.optimize import nnls

from hwmodels.device import DeviceModel
from hwmodels.netcost import LayerTable
from partitioner.models.nb201_arch import OPERATIONS, parse_arch

FOLDS = 5
# small trees, many of them: chosen on titanxp_1_ms, titanxp_32_ms and raspi4_ms among four
# settings (held-out tau within 0.004 of each other)
TREE_SETTINGS = {"max_iter": 600, "learning_rate": 0.05, "max_leaf_nodes": 15,
                 "min_samples_leaf": 20}


def reference_folds(n_networks: int, seed: int) -> list[np.ndarray]:
    """Held-out networks of each fold: a seeded shuffle cut into FOLDS near-equal parts."""
    order = np.random.default_rng(seed).permutation(n_networks)
    return [np.sort(fold) for fold in np.array_split(order, FOLDS)]


def _out_of_fold(fit_predict, n_networks: int, seed: int) -> np.ndarray:
    pred = np.empty(n_networks)
    for held in reference_folds(n_networks, seed):
        train = np.ones(n_networks, dtype=bool)
        train[held] = False
        pred[held] = fit_predict(np.flatnonzero(train), held)
    return pred


def free_layer_costs_ms(table: LayerTable, device: DeviceModel, y_ms: np.ndarray,
                        seed: int = 0) -> np.ndarray:
    """Each network's latency from free per-distinct-layer costs fitted to the other folds."""
    X = np.c_[table.kind_counts(device).toarray(), np.ones(table.n_networks)]

    def fit_predict(train: np.ndarray, held: np.ndarray) -> np.ndarray:
        w = 1.0 / y_ms[train]           # relative error: every network counts alike
        coef, _ = nnls(X[train] * w[:, None], y_ms[train] * w)
        return X[held] @ coef
    return _out_of_fold(fit_predict, table.n_networks, seed)


def edge_categories(archs: list[str]) -> np.ndarray:
    """(networks x 6) codes of the operation on each cell edge, in genotype order."""
    code = {op: i for i, op in enumerate(OPERATIONS)}
    return np.array([[code[op] for node in parse_arch(a) for op, _ in node] for a in archs],
                    dtype=np.int64)


def boosted_trees_ms(archs: list[str], y_ms: np.ndarray, seed: int = 0) -> np.ndarray:
    """Each network's latency from boosted trees on its cell edges fitted to the other folds."""
    from sklearn.ensemble import HistGradientBoostingRegressor

    X, log_y = edge_categories(archs), np.log(y_ms)

    def fit_predict(train: np.ndarray, held: np.ndarray) -> np.ndarray:
        model = HistGradientBoostingRegressor(categorical_features=[True] * X.shape[1],
                                              random_state=seed, **TREE_SETTINGS)
        return np.exp(model.fit(X[train], log_y[train]).predict(X[held]))
    return _out_of_fold(fit_predict, len(y_ms), seed)
