"""Per-layer comparison of the bit-flexible target against the Eyeriss-like one."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from hwmodels.accel.shapes import LayerArrays, layer_arrays
from partitioner.types import LayerProfile


def compare_table(layers: Sequence[LayerProfile] | LayerArrays, batch_size: int = 1,
                  bitfusion: str | Mapping[str, Any] = "bitfusion",
                  baseline: str | Mapping[str, Any] = "eyeriss",
                  overrides: Mapping[str, Any] | None = None,
                  mac_layers_only: bool = True) -> pd.DataFrame:
    """One row per layer (and a TOTAL row): bit widths, both targets' latency and energy,
    speedup = baseline latency / bit-flexible latency, energy reduction likewise."""
    from hwmodels.accel import build_accelerator
    a = layers if isinstance(layers, LayerArrays) else layer_arrays(layers)
    bf = build_accelerator(bitfusion, overrides)
    base = build_accelerator(baseline)
    rb, rf = base.evaluate(a, batch_size), bf.evaluate(a, batch_size)
    keep = a.is_mac if mac_layers_only else ~a.is_free
    df = pd.DataFrame({
        "layer": np.array(a.names)[keep], "op_type": np.array(a.op_types)[keep],
        "macs": rb.macs[keep],
        "act_bits": rf.extra["act_bits"][keep].astype(int),
        "weight_bits": rf.extra["weight_bits"][keep].astype(int),
        f"{base.name}_latency_ms": rb.latency_s[keep] * 1e3,
        f"{bf.name}_latency_ms": rf.latency_s[keep] * 1e3,
        f"{base.name}_energy_mj": rb.energy_j[keep] * 1e3,
        f"{bf.name}_energy_mj": rf.energy_j[keep] * 1e3,
    })
    total = {"layer": "TOTAL", "op_type": "", "macs": df["macs"].sum(), "act_bits": -1,
             "weight_bits": -1}
    for col in df.columns[5:]:
        total[col] = df[col].sum()
    df = pd.concat([df, pd.DataFrame([total])], ignore_index=True)
    df["speedup"] = df[f"{base.name}_latency_ms"] / df[f"{bf.name}_latency_ms"]
    df["energy_reduction"] = df[f"{base.name}_energy_mj"] / df[f"{bf.name}_energy_mj"]
    return df


NB201_LATENCY_CSV = Path(__file__).resolve().parents[1] / "data" / "nb201-latency-ms.csv"


def nb201_reference(column: str = "eyeriss_ms") -> pd.DataFrame:
    """The vendored NAS-Bench-201 latencies (`arch`, `column`); see hwmodels/data/README.md."""
    return pd.read_csv(NB201_LATENCY_CSV, usecols=["arch_index", "arch", column])


def network_latency_ms(archs: Sequence[str], accelerator: str | Mapping[str, Any] = "eyeriss",
                       overrides: Mapping[str, Any] | None = None,
                       batch_size: int = 1) -> np.ndarray:
    """Whole-network latency (ms) of NAS-Bench-201 genotypes on one accelerator model."""
    from hwmodels.accel import build_accelerator
    from partitioner.nb201_fast import profile_nb201_many
    model = build_accelerator(accelerator, overrides)
    return np.array([model.evaluate(layer_arrays(g.layers), batch_size).latency_s.sum() * 1e3
                     for g in profile_nb201_many(list(archs))])
