"""Acceptance (issue 12): the printed energy table, results.csv and a cost-only sweep row give
the same energy for the same config and operating point, and saturated cuts show no
latency in any of them."""
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim import api
from sim.cli import main

CONFIG = Path(__file__).resolve().parents[1] / "configs" / "tx2_lenet.yaml"


def printed_breakdown(out: str) -> pd.DataFrame:
    """The first Markdown table `sim run` prints (the energy breakdown)."""
    lines = [ln for ln in out.splitlines() if ln.startswith("|")]
    header = [c.strip() for c in lines[0].strip("|").split("|")]
    rows = []
    for ln in lines[2:]:
        cells = [c.strip() for c in ln.strip("|").split("|")]
        if len(cells) != len(header) or not cells[0].isdigit():
            break
        rows.append(cells)
    df = pd.DataFrame(rows, columns=header)
    return df.assign(**{c: df[c].str.replace(",", "").astype(float)
                        for c in ("cut", "comm. (mJ)", "total (mJ)")})


@pytest.mark.parametrize("sets", [{}, {"link.preset": "lte"}, {"link.uplink_mbps": 0.01}])
def test_table_csv_and_sweep_agree(tmp_path, capsys, sets):
    args = ["run", str(CONFIG), "--out", str(tmp_path / "run"), "--no-privacy"]
    for key, value in sets.items():
        args += ["--set", f"{key}={value}"]
    assert main(args) == 0
    printed = printed_breakdown(capsys.readouterr().out)
    csv = pd.read_csv(tmp_path / "run" / "results.csv")
    sweep = api.sweep(CONFIG, cost_only=True, sets=sets or None, grid={"sim.seed": [0]}).rows
    assert printed["cut"].tolist() == csv["cut"].tolist() == sweep["cut"].tolist()
    for col, shown in (("comm_mj", "comm. (mJ)"), ("total_mj", "total (mJ)")):
        assert np.allclose(printed[shown], csv[col], rtol=0, atol=5e-4)     # 3 decimals
        assert np.allclose(csv[col], sweep[col], rtol=1e-6)
    # the simulated latency (run) and the closed form (sweep) are both absent where saturated
    sat = csv["saturated"].astype(bool).to_numpy()
    assert csv.loc[sat, "latency_ms"].isna().all() and sweep.loc[sat, "latency_ms"].isna().all()
    assert csv.loc[~sat, "latency_ms"].notna().all()
    # the sweep row says so too, with the rate the bottleneck sustains (issue 12, sweep.csv)
    assert (sweep["saturated"].to_numpy() == sat).all()
    assert np.allclose(sweep["max_rate_hz"], csv["max_rate_hz"], rtol=1e-6)
    stable = csv["bottleneck_utilization"].to_numpy() <= 0.8
    assert np.allclose(csv.loc[stable, "latency_ms"], sweep.loc[stable, "latency_ms"], rtol=0.05)
    if "link.uplink_mbps" in sets:
        # 0.01 Mbps carries the 824 wire bytes of the raw input in 0.66 s: 1.3 at 2 Hz
        assert sat[0] and not sat[-1]
