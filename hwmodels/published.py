"""The Jetson TX2 preset against the only whole-network TX2 measurements in public files:
HW-NAS-Bench's nine published examples (three NAS-Bench-201 networks on three data sets,
latency and module energy; hwmodels/data/tx2-hwnasbench-examples.csv and its README). They are
TensorRT runs at batch 1 and the energy is the whole module's input power times the latency,
so the comparison prices each network on the preset as shipped (default power mode), over every
profiled layer (TensorRT's fusions are not modelled)."""
from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd

from hwmodels.netcost import LayerTable, network_costs
from hwmodels.networks import cached_table
from hwmodels.presets import device_preset

TX2_CSV = Path(__file__).parent / "data" / "tx2-hwnasbench-examples.csv"
TX2_PRESET = "jetson-tx2-gpu"


def _profiles(data: pd.DataFrame) -> LayerTable:
    from partitioner.nb201_fast import profile_nb201    # torch: only when not cached

    layers = [profile_nb201(arch, tuple(int(d) for d in shape.split(",")), int(classes)).layers
              for arch, shape, classes in zip(data["arch"], data["input_shape"],
                                              data["num_classes"])]
    return LayerTable.from_layers(layers, [np.zeros(len(ls), dtype=bool) for ls in layers])


def tx2_examples(cache_dir: str | None = None) -> pd.DataFrame:
    """Each published example with the preset's latency and energy and their ratios."""
    data = pd.read_csv(TX2_CSV)
    key = {"kind": "tx2-examples", "data": hashlib.sha256(TX2_CSV.read_bytes()).hexdigest()}
    table = cached_table(key, lambda: _profiles(data), cache_dir)
    lat_s, energy_j = network_costs(device_preset(TX2_PRESET), table)
    out = data.drop(columns=["arch"]).rename(columns={"latency_ms": "measured_ms",
                                                      "energy_mj": "measured_mj"})
    out["predicted_ms"], out["predicted_mj"] = lat_s * 1e3, energy_j * 1e3
    out["latency_ratio"] = out["predicted_ms"] / out["measured_ms"]
    out["energy_ratio"] = out["predicted_mj"] / out["measured_mj"]
    out["measured_power_w"] = out["measured_mj"] / out["measured_ms"]
    return out


def tx2_summary(table: pd.DataFrame) -> str:
    """One sentence: the ranges of the two ratios and of the measured power."""
    def span(col: str, fmt: str) -> str:
        return f"{format(np.min(table[col]), fmt)}-{format(np.max(table[col]), fmt)}"
    return (f"Over the {len(table)} examples the preset predicts {span('latency_ratio', '.2f')}x "
            f"the measured latency and {span('energy_ratio', '.2f')}x the measured energy; the "
            f"module drew {span('measured_power_w', '.2f')} W on average while running them.")
