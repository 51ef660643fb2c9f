"""The vectorized cost-only path gives the bytes the per-configuration reference gives, and the
best cut moves as physics says."""
from pathlib import Path

import numpy as np
import pytest

from sim import api
from sim.config import build_scenario, load_yaml
from sim.costs import NoiseCostModel
from sim.costs import cut_components
from sim.operating_costs import headline_link_costs
from sim.table import results_table
from sim.sweep import plan_sweep
from sim.sweep.rows import config_prefix, frame_rows
from sim.sweep.tasks import cost_rows, stacked_link
from sim.sweep.validate import apply, graph_for

CONFIGS = Path(__file__).resolve().parent.parent / "configs"


def reference_rows(base, plan):
    """One build_scenario and one results table at the operating point per configuration,
    formatted alike."""
    out = []
    for i, assignments in enumerate(plan.configs):
        s = build_scenario(apply(base, assignments))
        comp = cut_components(graph_for(s), s.edge, s.cloud, NoiseCostModel.from_spec(s.noise),
                              s.workload.batch_size)
        df = results_table(comp, headline_link_costs(s, comp))
        out.append(frame_rows(config_prefix(i, [v for _, v in assignments]), df))
    return "".join(out)


@pytest.mark.parametrize("config, grid, samples", [
    ("tx2_lenet.yaml", ["link.preset=wifi,lte,3g", "link.uplink_mbps=0.3,7,150",
                        "noise.method=none,shredder,cloak"], None),
    ("tx2_alexnet.yaml", ["edge.power_mode=maxn,maxq", "link.uplink_mbps=0.5:80",
                          "link.rtt_ms=0:120", "workload.batch_size=1,4"], 6),
])
def test_vectorized_rows_equal_per_configuration_reference(config, grid, samples):
    base = load_yaml(CONFIGS / config)
    plan = plan_sweep(base, grid, samples, seed=3, cost_only=True)
    assert plan.link_keys >= {"link.uplink_mbps"}
    text, figures = cost_rows(base, tuple(enumerate(plan.configs)), plan.link_keys)
    assert text == reference_rows(base, plan)
    assert len(figures) == len(text.splitlines())


def test_stacked_link_makes_columns_of_the_fields_that_differ():
    s = build_scenario(load_yaml(CONFIGS / "tx2_lenet.yaml"))
    import dataclasses
    links = [dataclasses.replace(s.link, uplink_mbps=v) for v in (1.0, 2.0, 4.0)]
    st = stacked_link(links)
    assert st.uplink_mbps.tolist() == [[1.0], [2.0], [4.0]]
    assert st.downlink_mbps == s.link.downlink_mbps and st.name == s.link.name
    # the link model's own arithmetic, per row: 1 MB at 1, 2, 4 Mbps halves each time
    t = np.ravel(st.uplink_transmit_s(1e6))
    assert t.tolist() == [link.uplink_transmit_s(1e6) for link in links]
    assert t[0] / t[1] == 2.0 and t[1] / t[2] == 2.0


def test_best_cut_moves_as_physics_says():
    """Faster uplink: toward the cloud (lower cut); faster edge: toward the edge. At a rate
    (0.05 Hz) where no cut saturates even on the slowest uplink and edge, so that every
    configuration has a best cut at its operating point."""
    uplinks, gflops = [1, 5, 20], [10, 100, 1000, 10000]
    s = api.sweep(CONFIGS / "tx2_vgg16.yaml", cost_only=True,
                  grid={"link.uplink_mbps": uplinks, "edge.device.peak_gflops.fp32": gflops,
                        "sim.arrival.rate_hz": [0.05]})
    best = s.best.pivot(index="link.uplink_mbps", columns="edge.device.peak_gflops.fp32",
                        values="cut").loc[uplinks, gflops].to_numpy()
    assert (np.diff(best, axis=0) <= 0).all(), best      # down the uplink axis
    assert (np.diff(best, axis=1) >= 0).all(), best      # along the edge-speed axis
    assert best[0, -1] == 40 and best[-1, 0] == 0        # edge-only vs cloud-only at the ends
    assert (best[0, 0], best[0, 1]) == (0, 40)           # a faster edge alone moves it
    assert (best[0, 3], best[2, 3]) == (40, 40) and (best[1, 2], best[2, 2]) == (40, 0)
