"""The notebook API: sim.api.run and sim.api.sweep return the CLI's tables as DataFrames."""
from pathlib import Path

import numpy as np
import pytest

from sim import api
from sim.table import RESULT_COLUMNS
from core.errors import UserError

LENET = Path(__file__).resolve().parent.parent / "configs" / "tx2_lenet.yaml"


def test_run_returns_the_results_table_with_overrides():
    wifi = api.run(LENET, privacy=False)
    fast = api.run(LENET, sets={"link.uplink_mbps": 200.0}, privacy=False)
    assert set(RESULT_COLUMNS) <= set(wifi.columns) and wifi["cut"].tolist() == list(range(13))
    assert (fast["uplink_ms"] < wifi["uplink_ms"]).all()
    assert fast["edge_compute_ms"].tolist() == wifi["edge_compute_ms"].tolist()


def test_sweep_ranges_and_grid_from_python(tmp_path):
    s = api.sweep(LENET, grid={"noise.method": ["none", "cloak"]},
                  ranges={"link.uplink_mbps": (1, 100)}, sample=5, seed=2, cost_only=True,
                  out_dir=tmp_path)
    assert len(s.rows) == 10 * 13 and len(s.best) == 10
    assert s.best["noise.method"].tolist() == ["none"] * 5 + ["cloak"] * 5
    up = s.best["link.uplink_mbps"].to_numpy()
    assert np.array_equal(up[:5], up[5:]) and ((up >= 1) & (up < 100)).all()
    # floats sampled (the key takes floats), one per fifth of the range
    assert sorted(np.floor((up[:5] - 1) / 99 * 5).astype(int)) == [0, 1, 2, 3, 4]
    assert (tmp_path / "sweep.csv").exists()
    with pytest.raises(UserError, match="link.uplink_mbps: expected a number"):
        api.sweep(LENET, grid={"link.uplink_mbps": ["fast"]}, cost_only=True)
