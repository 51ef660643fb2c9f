"""Co-design answers over a sweep: the best cut of each configuration under an objective and
constraints, and the Pareto front over (latency, energy[, privacy]) across all rows.

Both work on the figures array (ANALYSIS_COLUMNS, one row per configuration and cut) and
return row positions, so the reports re-use the exact text of sweep.csv rows.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from core.errors import UserError
from sim.sweep.objectives import OBJECTIVES, WEIGHT_TERMS
from sim.sweep.tasks import ANALYSIS_COLUMNS

COL = {name: i for i, name in enumerate(ANALYSIS_COLUMNS)}


@dataclass(frozen=True)
class Objective:
    """`weighted` sums each term divided by its cloud-only (cut 0) value of the same
    configuration, so milliseconds and millijoules can be added.

    Saturated rows (a stage offered more work than it serves) have no steady state and are
    skipped unless `include_saturated`: then their energy per request, which is finite,
    competes; their latency stays empty, so latency terms never pick them."""
    kind: str = "latency"
    weights: dict[str, float] = field(default_factory=dict)
    deadline_ms: float | None = None
    max_accuracy_loss_pct: float | None = None
    min_mi_loss_pct: float | None = None
    include_saturated: bool = False

    def __post_init__(self) -> None:
        problems = []
        if self.kind not in (*OBJECTIVES, "weighted"):
            problems.append(f"--objective {self.kind!r}: valid: {', '.join(OBJECTIVES)}, "
                            "weighted")
        for term, w in self.weights.items():
            if term not in WEIGHT_TERMS:
                problems.append(f"--weights {term}: unknown term; valid: "
                                f"{', '.join(WEIGHT_TERMS)}")
            elif not w >= 0:
                problems.append(f"--weights {term}={w}: must be >= 0")
        if self.kind == "weighted" and not any(w > 0 for w in self.weights.values()):
            problems.append("--objective weighted: needs --weights with a positive weight, "
                            "e.g. latency=0.5,energy=0.5")
        if self.deadline_ms is not None and not self.deadline_ms > 0:
            problems.append(f"--deadline-ms {self.deadline_ms}: must be > 0")
        if problems:
            raise UserError(problems)

    @property
    def label(self) -> str:
        if self.kind != "weighted":
            return self.kind
        return "weighted(" + ",".join(f"{k}={v:g}" for k, v in self.weights.items()) + ")"


def parse_weights(text: str | None) -> dict[str, float]:
    if not text:
        return {}
    out = {}
    for item in text.split(","):
        key, sep, value = item.partition("=")
        try:
            out[key.strip()] = float(value)
        except ValueError:
            raise UserError(f"--weights {item!r}: expected term=number, e.g. latency=0.5") \
                from None
        if not sep:
            raise UserError(f"--weights {item!r}: expected term=number")
    return out


def _starts(config: np.ndarray) -> np.ndarray:
    """Positions where a configuration's rows begin (rows are sorted by configuration)."""
    return np.flatnonzero(np.r_[True, config[1:] != config[:-1]])


def scores(fig: np.ndarray, objective: Objective) -> np.ndarray:
    if objective.kind != "weighted":
        return fig[:, COL[OBJECTIVES[objective.kind]]].copy()
    config = fig[:, COL["config"]]
    starts = _starts(config)
    owner = np.repeat(np.arange(len(starts)), np.diff(np.r_[starts, len(config)]))
    total = np.zeros(len(fig))
    cut0 = fig[:, COL["cut"]] == 0
    for term, w in objective.weights.items():
        x = fig[:, COL[WEIGHT_TERMS[term]]]
        ref = np.full(len(starts), np.nan)
        ref[owner[cut0]] = x[cut0]
        total += w * x / ref[owner]
    return total


def feasibility(fig: np.ndarray, objective: Objective) -> tuple[np.ndarray, list[str]]:
    """Rows meeting every constraint, and notes on constraints that could not apply."""
    ok = np.ones(len(fig), dtype=bool)
    notes = []
    saturated = fig[:, COL["saturated"]] == 1
    if saturated.any():
        if objective.include_saturated:
            notes.append(f"{int(saturated.sum())} saturated rows included: their energy per "
                         "request counts, they have no latency")
        else:
            ok &= ~saturated
            notes.append(f"{int(saturated.sum())} saturated rows skipped: no steady state "
                         "(--include-saturated counts their energy)")
    over = fig[:, COL["within_budget"]] == 0          # NaN (not evaluated) is not "over"
    if over.any():
        ok &= ~over
        notes.append(f"{int(over.sum())} rows skipped: their accuracy loss on test exceeds "
                     "noise.allowed_loss_pct (within_budget false)")
    if objective.deadline_ms is not None:
        ok &= fig[:, COL["latency_ms"]] <= objective.deadline_ms
    for limit, col, cmp, flag in (
            (objective.max_accuracy_loss_pct, "accuracy_loss_pct", np.less_equal,
             "--max-accuracy-loss-pct"),
            (objective.min_mi_loss_pct, "mi_loss_pct", np.greater_equal, "--min-mi-loss-pct")):
        if limit is None:
            continue
        x = fig[:, COL[col]]
        if np.isnan(x).all():
            notes.append(f"{flag} not applied: the {col} column is empty (privacy not "
                         "evaluated)")
            continue
        # a cut whose privacy was not evaluated cannot be shown to meet the constraint
        with np.errstate(invalid="ignore"):
            ok &= cmp(x, limit) & ~np.isnan(x)
    return ok, notes


@dataclass(frozen=True)
class BestCuts:
    config: np.ndarray            # configuration index, one per configuration
    row: np.ndarray               # position of its best row in sweep order, -1 if none feasible
    value: np.ndarray             # objective value (NaN if none feasible)
    feasible_cuts: np.ndarray
    notes: tuple[str, ...]


def best_cuts(fig: np.ndarray, objective: Objective) -> BestCuts:
    """Per configuration the feasible row with the lowest score; ties go to the lower cut."""
    config = fig[:, COL["config"]]
    s = scores(fig, objective)
    ok, notes = feasibility(fig, objective)
    s_masked = np.where(ok & ~np.isnan(s), s, np.inf)
    order = np.lexsort((fig[:, COL["cut"]], s_masked, config))
    firsts = order[_starts(config[order])]
    starts = _starts(config)
    counts = np.add.reduceat(ok.astype(int), starts) if len(starts) else np.zeros(0, int)
    feasible = np.isfinite(s_masked[firsts])
    return BestCuts(config=config[starts].astype(int), row=np.where(feasible, firsts, -1),
                    value=np.where(feasible, s[firsts], np.nan), feasible_cuts=counts,
                    notes=tuple(notes))


def pareto_rows(fig: np.ndarray) -> tuple[np.ndarray, tuple[str, ...]]:
    """Positions (ascending) of rows no other row dominates: lower latency_ms and total_mj,
    and higher mi_loss_pct when privacy was evaluated (then rows without it are left out).
    Saturated rows have no latency, so they are never on the front."""
    mi = fig[:, COL["mi_loss_pct"]]
    lat, energy = fig[:, COL["latency_ms"]], fig[:, COL["total_mj"]]
    timed = ~np.isnan(lat) & (fig[:, COL["saturated"]] != 1)
    if np.isnan(mi).all():
        rows = np.flatnonzero(timed)
        return rows[_front_2d(lat[rows], energy[rows])], (
            "Pareto front over (latency_ms, total_mj); privacy not evaluated",)
    have = np.flatnonzero(~np.isnan(mi) & timed)
    pts = np.stack([lat[have], energy[have], -mi[have]], axis=1)
    return have[_front_nd(pts)], ("Pareto front over (latency_ms, total_mj, mi_loss_pct), "
                                  "rows with privacy evaluated",)


def _front_2d(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    # Distinct points sorted by x then y; one is on the front iff its y is below every y seen
    # at a smaller x. Equal points share their verdict.
    pts, inverse = np.unique(np.stack([x, y], axis=1), axis=0, return_inverse=True)
    prev_min = np.minimum.accumulate(np.r_[np.inf, pts[:-1, 1]])
    on = pts[:, 1] < prev_min
    return np.flatnonzero(on[inverse.ravel()])


def _front_nd(pts: np.ndarray) -> np.ndarray:
    order = np.lexsort(pts.T[::-1])
    front: list[int] = []
    for i in order:
        p = pts[i]
        if front:
            f = pts[front]
            if np.any(np.all(f <= p, axis=1) & np.any(f < p, axis=1)):
                continue
        front.append(i)
    return np.sort(np.array(front, dtype=int))
