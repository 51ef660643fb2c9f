"""Best cut under objectives and constraints, and the Pareto front, on hand-made figures."""
import numpy as np
import pytest

from core.errors import UserError
from sim.sweep.codesign import Objective, best_cuts, pareto_rows, parse_weights

NAN = np.nan


def figures(rows):
    """rows: (config, cut, latency_ms, total_mj, edge_energy_mj, acc_loss, mi_loss[,
    within_budget[, saturated]]); within_budget is NaN (not evaluated) and saturated 0 unless
    given."""
    return np.array([tuple(r) + (NAN, 0.0)[len(r) - 7:] for r in rows], dtype=float)


FIG = figures([
    (0, 0, 10.0, 100.0, 50.0, NAN, NAN),
    (0, 1, 8.0, 120.0, 30.0, NAN, NAN),
    (0, 2, 12.0, 60.0, 20.0, NAN, NAN),
    (1, 0, 20.0, 100.0, 80.0, NAN, NAN),
    (1, 1, 20.0, 90.0, 90.0, NAN, NAN),
    (1, 2, 30.0, 50.0, 40.0, NAN, NAN),
])


def test_best_cut_per_objective():
    assert FIG[best_cuts(FIG, Objective("latency")).row, 1].tolist() == [1, 0]  # tie -> lower cut
    assert FIG[best_cuts(FIG, Objective("total_energy")).row, 1].tolist() == [2, 2]
    b = best_cuts(FIG, Objective("edge_energy"))
    assert b.row.tolist() == [2, 5] and b.value.tolist() == [20.0, 40.0]
    assert b.feasible_cuts.tolist() == [3, 3]


def test_weighted_objective_normalizes_by_cloud_only():
    b = best_cuts(FIG, Objective("weighted", weights={"latency": 1.0, "energy": 1.0}))
    # config 0: cut0 2.0, cut1 0.8+1.2=2.0, cut2 1.2+0.6=1.8 ; config 1: 2.0, 1.9, 1.5+0.5=2.0
    assert b.row.tolist() == [2, 4]
    assert b.value == pytest.approx([1.8, 1.9])


def test_deadline_and_infeasible_configuration():
    b = best_cuts(FIG, Objective("total_energy", deadline_ms=11.0))
    assert b.row.tolist() == [0, -1]
    assert b.feasible_cuts.tolist() == [2, 0]
    assert np.isnan(b.value[1])


def test_privacy_constraints_apply_only_when_evaluated():
    b = best_cuts(FIG, Objective("latency", min_mi_loss_pct=50.0))
    assert b.row.tolist() == [1, 3]
    assert "--min-mi-loss-pct not applied" in b.notes[0]
    fig = FIG.copy()
    fig[:, 6] = [NAN, 40.0, 90.0, NAN, 60.0, 70.0]   # cut 0 not evaluated: not shown private
    fig[:, 5] = [0.0, 1.0, 3.0, 0.0, 1.0, 1.0]
    b = best_cuts(fig, Objective("latency", min_mi_loss_pct=50.0, max_accuracy_loss_pct=2.0))
    assert b.row.tolist() == [-1, 4] and b.notes == ()


def test_pareto_front_2d_and_3d():
    rows, notes = pareto_rows(FIG)
    # (8,120) (10,100)? dominated by none with lower lat... (12,60) (20,90)x (30,50)
    assert rows.tolist() == [0, 1, 2, 5]
    assert "privacy not evaluated" in notes[0]
    fig = FIG.copy()
    fig[:, 6] = [10.0, 20.0, 5.0, 90.0, NAN, 1.0]
    rows, _ = pareto_rows(fig)
    # 3-D: (10,100,10) (8,120,20) (12,60,5) (20,100,90) kept; row 4 has no privacy; row 5
    # (30,50,1) kept: lowest energy
    assert rows.tolist() == [0, 1, 2, 3, 5]


def test_equal_points_share_the_front():
    fig = figures([(0, 0, 1.0, 1.0, 0, NAN, NAN), (1, 0, 1.0, 1.0, 0, NAN, NAN),
                   (2, 0, 1.0, 2.0, 0, NAN, NAN)])
    assert pareto_rows(fig)[0].tolist() == [0, 1]


def test_objective_mistakes():
    with pytest.raises(UserError) as exc:
        Objective("weighted", weights={"speed": 1.0})
    assert any("--weights speed: unknown term" in p for p in exc.value.problems)
    with pytest.raises(UserError, match="needs --weights"):
        Objective("weighted")
    with pytest.raises(UserError):
        Objective("fastest")
    assert parse_weights("latency=0.25, energy=2") == {"latency": 0.25, "energy": 2.0}
    with pytest.raises(UserError):
        parse_weights("latency=x")


def test_cuts_over_the_accuracy_budget_are_skipped():
    fig = figures([(0, 0, 10.0, 100.0, 50.0, 0.5, 10.0, 1.0),
                   (0, 1, 5.0, 90.0, 40.0, 4.0, 60.0, 0.0),      # fastest, but over budget
                   (0, 2, 8.0, 95.0, 45.0, 1.0, 30.0, 1.0)])
    b = best_cuts(fig, Objective("latency"))
    assert fig[b.row, 1].tolist() == [2] and b.feasible_cuts.tolist() == [2]
    assert any("within_budget false" in n for n in b.notes)


def test_saturated_cuts_compete_on_energy_only_when_included():
    """Config 0's cut 1 is saturated: the lowest energy (70 mJ), no latency (NaN)."""
    fig = figures([(0, 0, 10.0, 100.0, 50.0, NAN, NAN, NAN, 0.0),
                   (0, 1, NAN, 70.0, 30.0, NAN, NAN, NAN, 1.0),
                   (0, 2, 12.0, 90.0, 40.0, NAN, NAN, NAN, 0.0)])
    skip = best_cuts(fig, Objective("total_energy"))
    assert fig[skip.row, 1].tolist() == [2] and skip.feasible_cuts.tolist() == [2]
    assert any("1 saturated rows skipped" in n for n in skip.notes)
    take = best_cuts(fig, Objective("total_energy", include_saturated=True))
    assert fig[take.row, 1].tolist() == [1] and take.value.tolist() == [70.0]
    assert any("1 saturated rows included" in n for n in take.notes)
    assert fig[best_cuts(fig, Objective("edge_energy", include_saturated=True)).row,
               1].tolist() == [1]
    # it has no latency: a latency objective, a latency term or a deadline never picks it
    assert fig[best_cuts(fig, Objective("latency", include_saturated=True)).row,
               1].tolist() == [0]
    w = Objective("weighted", weights={"latency": 1.0, "energy": 1.0}, include_saturated=True)
    assert fig[best_cuts(fig, w).row, 1].tolist() == [0]     # 1 + 1 < 1.2 + 0.9
    dl = Objective("total_energy", deadline_ms=100.0, include_saturated=True)
    assert fig[best_cuts(fig, dl).row, 1].tolist() == [2]
    # and it is never on the Pareto front, whatever its energy
    assert pareto_rows(fig)[0].tolist() == [0, 2]
