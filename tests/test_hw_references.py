"""The accuracy report's data-rich references (hwmodels.references): out-of-fold predictions
that recover a latency built exactly the way each reference models it."""
import numpy as np
import pytest

from hwmodels.presets import device_preset
from hwmodels.references import (FOLDS, boosted_trees_ms, edge_categories, free_layer_costs_ms,
                                 reference_folds)
from hwmodels.validate import COLUMN_BY_NAME, FREE_COSTS, TREES, check_column, load_data


def test_folds_cut_every_network_into_one_fold_of_near_equal_size():
    folds = reference_folds(503, seed=3)
    assert len(folds) == FOLDS
    assert sorted(np.concatenate(folds).tolist()) == list(range(503))
    assert {len(f) for f in folds} == {100, 101}
    assert [f.tolist() for f in reference_folds(503, seed=3)] == [f.tolist() for f in folds]


def test_edge_categories_in_genotype_order():
    arch = "|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|none~0|nor_conv_3x3~1|none~2|"
    # OPERATIONS: none 0, skip_connect 1, nor_conv_1x1 2, nor_conv_3x3 3, avg_pool_3x3 4
    assert edge_categories([arch]).tolist() == [[4, 2, 1, 0, 3, 0]]


def test_free_layer_costs_recover_an_additive_latency_held_out(nb201_sample):
    """Latency = 0.2 ms + a made-up cost per distinct layer: the costs learned from four folds
    predict the fifth exactly."""
    df, table = nb201_sample
    device = device_preset("titan-xp")
    counts = table.kind_counts(device).toarray()
    costs_ms = np.random.default_rng(1).uniform(0.001, 0.05, counts.shape[1])
    y = 0.2 + counts @ costs_ms
    assert free_layer_costs_ms(table, device, y, seed=0) == pytest.approx(y, rel=1e-6)


def test_boosted_trees_learn_a_function_of_the_edges_held_out():
    """Latency = 1 ms + 2 ms per 3x3 convolution edge, times 1.5 where edge 3<-0 is a
    pooling (an interaction no sum of edge costs has), on 2,000 genotypes: within 1 % held
    out."""
    archs = list(load_data(2000, seed=0)["arch"])
    edges = edge_categories(archs)
    y = (1.0 + 2.0 * (edges == 3).sum(axis=1)) * np.where(edges[:, 3] == 4, 1.5, 1.0)
    pred = boosted_trees_ms(archs, y, seed=0)
    assert np.median(np.abs(pred / y - 1)) < 0.01


def _report_rows(nb201_sample, column: str, with_archs: bool = True) -> list[dict]:
    """check_column's rows for one column of the sample, with the draw bound (and, given the
    genotypes, the references)."""
    df, table = nb201_sample
    archs = list(df["arch"]) if with_archs else None
    return check_column(COLUMN_BY_NAME[column], table, df[column].to_numpy(float),
                        train_sizes=(10,), seed=0, draw_bound=True, archs=archs)[0]


def test_the_references_come_with_the_draw_bound_and_the_genotypes(nb201_sample):
    by_model = {r["model"]: r for r in _report_rows(nb201_sample, "titanxp_32_ms")}
    for model in (FREE_COSTS, TREES):
        assert by_model[model]["train_networks"] == 400
        assert 0.5 < by_model[model]["kendall_tau"] < 1
    without = _report_rows(nb201_sample, "titanxp_32_ms", with_archs=False)
    assert not {FREE_COSTS, TREES} & {r["model"] for r in without}


def test_the_latex_summary_carries_the_references_when_the_report_has_them(nb201_sample):
    import pandas as pd

    from sim.checkhw import REFERENCE_SUMMARY_HEADERS, SUMMARY_HEADERS, summary_table

    report = pd.DataFrame(_report_rows(nb201_sample, "raspi4_ms"))
    summary, headers = summary_table(report)
    assert list(headers) == list(SUMMARY_HEADERS) + list(REFERENCE_SUMMARY_HEADERS)
    trees = report[report["model"] == TREES].iloc[0]
    assert summary["trees_tau"].iloc[0] == trees["kendall_tau"]
    assert summary["trees_mape"].iloc[0] == trees["mape_pct"]
    plain, plain_headers = summary_table(report[~report["model"].isin([FREE_COSTS, TREES])])
    assert list(plain_headers) == list(SUMMARY_HEADERS) and list(plain.columns) == list(
        SUMMARY_HEADERS)
