"""Presets against published whole-network measurements beyond the NAS-Bench-201 table
(provenance in hwmodels/data/README.md):
- the Jetson TX2 preset (`sim run`'s edge) on the nine NAS-Bench-201 and six FBNet-space
  examples HW-NAS-Bench's notebook prints, latency and module energy: the only whole-network
  TX2 measurements in public files. They are TensorRT runs at batch 1 and the energy is the
  whole module's input power times the latency, so each network is priced on the preset as
  shipped (default power mode), over every profiled layer (TensorRT's fusions are not
  modelled);
- the Raspberry Pi 4 and Pixel 3 presets, uncalibrated and calibrated on NAS-Bench-201
  networks, on the six FBNet examples: a search space they were not fitted to (depthwise and
  grouped convolutions, inverted residuals, 224 x 224 inputs), and the Pixel 3 on MobileNet v1
  as TensorFlow Lite's own benchmark page measures it;
- the Titan Xp, GTX 1080 Ti and V100 presets as shipped on VGG-16 and ResNet-50 at 224 x 224
  and batch 1-128, against PaddlePaddle's published FP32 inference times
  (hwmodels/data/paddle-fp32-gpu-benchmarks.csv): networks 20-2,000 times the NAS-Bench-201
  ones in MACs, compute bound rather than bound by per-kernel cost."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd

from hwmodels.calibrate_net import fit_networks
from hwmodels.netcost import LayerTable, network_costs
from hwmodels.networks import cached_table, profiles_table
from hwmodels.presets import device_preset

DATA = Path(__file__).parent / "data"
TX2_CSV = DATA / "tx2-hwnasbench-examples.csv"
FBNET_CSV = DATA / "hwnasbench-fbnet-examples.csv"
PADDLE_CSV = DATA / "paddle-fp32-gpu-benchmarks.csv"
TFLITE_CSV = DATA / "tflite-pixel3-benchmarks.csv"
TX2_PRESET = "jetson-tx2-gpu"
# NAS-Bench-201 columns whose presets the FBNet examples check (same names in both files)
TRANSFER_COLUMNS = ("raspi4_ms", "pixel3_ms")


def _profiles(networks: list[tuple[str, str, int]]) -> LayerTable:
    from partitioner.profile import profile_model    # torch: only when not cached

    layers = [profile_model(model, tuple(int(d) for d in shape.split(",")),
                            num_classes=classes).layers for model, shape, classes in networks]
    return profiles_table([model for model, _, _ in networks], layers)


def _examples_table(data: pd.DataFrame, cache_dir: str | None) -> LayerTable:
    """The profiles of `data`'s rows (`model`, `input_shape`, `num_classes`) in row order, each
    distinct network profiled once."""
    rows = [(m, s, int(c)) for m, s, c in zip(data["model"], data["input_shape"],
                                              data["num_classes"])]
    unique = list(dict.fromkeys(rows))
    key = {"kind": "published-examples",
           "networks": hashlib.sha256(json.dumps(unique).encode()).hexdigest()}
    table = cached_table(key, lambda: _profiles(unique), cache_dir)
    index = {network: k for k, network in enumerate(unique)}
    return table.select([index[r] for r in rows])


def tx2_data() -> pd.DataFrame:
    """The fifteen TX2 examples: a short name, model, data set, input shape, classes, latency,
    energy."""
    nb201 = pd.read_csv(TX2_CSV, dtype={"input_shape": str})
    nb201["model"] = "nb201:" + nb201["arch"]
    nb201["network"] = "NB201 #" + nb201["arch_index"].astype(str)   # a genotype is long
    fbnet = pd.read_csv(FBNET_CSV, dtype={"input_shape": str}).rename(columns={
        "edgegpu_latency_ms": "latency_ms", "edgegpu_energy_mj": "energy_mj"})
    fbnet["network"] = fbnet["model"]
    columns = ["network", "model", "dataset", "input_shape", "num_classes", "latency_ms",
               "energy_mj"]
    return pd.concat([nb201[columns], fbnet[columns]], ignore_index=True)


def tx2_examples(cache_dir: str | None = None) -> pd.DataFrame:
    """Each published TX2 example with the preset's latency and energy and their ratios."""
    data = tx2_data()
    lat_s, energy_j = network_costs(device_preset(TX2_PRESET), _examples_table(data, cache_dir))
    out = data[["network", "model", "dataset"]].copy()
    out["measured_ms"], out["predicted_ms"] = data["latency_ms"], lat_s * 1e3
    out["latency_ratio"] = out["predicted_ms"] / out["measured_ms"]
    out["measured_mj"], out["predicted_mj"] = data["energy_mj"], energy_j * 1e3
    out["energy_ratio"] = out["predicted_mj"] / out["measured_mj"]
    out["measured_power_w"] = out["measured_mj"] / out["measured_ms"]
    return out


def _span(values, fmt: str) -> str:
    return f"{format(np.min(values), fmt)}-{format(np.max(values), fmt)}"


def tx2_summary(table: pd.DataFrame) -> str:
    """The ranges of the two ratios and of the measured power, per search space."""
    parts = []
    space = np.where(table["model"].str.startswith("nb201:"), "NAS-Bench-201", "FBNet")
    for name, rows in table.groupby(space, sort=False):
        parts.append(f"on the {len(rows)} {name} examples "
                     f"{_span(rows['latency_ratio'], '.2f')}x the measured latency "
                     f"and {_span(rows['energy_ratio'], '.2f')}x the measured energy, the "
                     f"module drawing {_span(rows['measured_power_w'], '.2f')} W on average")
    return "The preset predicts " + "; ".join(parts) + "."


def transfer_data() -> pd.DataFrame:
    """The networks measured on the TensorFlow Lite devices outside NAS-Bench-201: the FBNet
    examples (Pi 4 and Pixel 3) and TensorFlow Lite's Pixel 3 benchmark (no Pi 4 figure)."""
    columns = ["model", "dataset", "input_shape", "num_classes", *TRANSFER_COLUMNS]
    frames = [pd.read_csv(path, dtype={"input_shape": str}) for path in (FBNET_CSV, TFLITE_CSV)]
    return pd.concat([f.reindex(columns=columns) for f in frames], ignore_index=True)


def transfer_examples(names: list[str], nb201: pd.DataFrame, nb201_table: LayerTable,
                      seed: int = 0, cache_dir: str | None = None) -> pd.DataFrame:
    """Each transfer_data network's measured latency on each TRANSFER_COLUMNS column among
    `names` that measures it, and predicted/measured for its preset uncalibrated and calibrated
    on the NAS-Bench-201 networks of seed `seed`'s draws of 10 and 100 (as `sim check-hw`
    draws them)."""
    from hwmodels.validate import COLUMN_BY_NAME, calibration_draw

    data = transfer_data()
    rows = []
    for name in (n for n in names if n in TRANSFER_COLUMNS):
        col, y = COLUMN_BY_NAME[name], nb201[name].to_numpy(dtype=float)
        base = device_preset(col.device)
        measured_on = data[data[name].notna()].reset_index(drop=True)
        table = _examples_table(measured_on, cache_dir)
        measured = measured_on[name].to_numpy(dtype=float)
        ratios = {"uncalibrated": network_costs(base, table)[0] * 1e3 / measured}
        for n in (10, 100):
            if n < len(y):
                train = calibration_draw(len(y), n, seed)
                fit = fit_networks(base, nb201_table.select(train), np.ones(n, dtype=int),
                                   y[train])
                ratios[f"calibrated on {n}"] = network_costs(fit.device, table)[0] * 1e3 / measured
        for i, model in enumerate(measured_on["model"]):
            rows.append({"column": name, "device": col.device, "model": model,
                         "dataset": measured_on["dataset"].iloc[i], "measured_ms": measured[i],
                         **{f"ratio {k}": v[i] for k, v in ratios.items()}})
    return pd.DataFrame(rows)


def transfer_summary(table: pd.DataFrame) -> str:
    """Per column, the range of predicted/measured of each model."""
    parts = []
    for column, rows in table.groupby("column", sort=False):
        ranges = [f"{k.removeprefix('ratio ')} {_span(rows[k], '.2f')}x"
                  for k in rows.columns if k.startswith("ratio ")]
        parts.append(f"`{rows['device'].iloc[0]}` ({column}): " + ", ".join(ranges))
    return "Predicted/measured on these networks: " + "; ".join(parts) + "."


def paddle_examples(cache_dir: str | None = None) -> pd.DataFrame:
    """Each published PaddlePaddle FP32 time with its preset's prediction and their ratio."""
    data = pd.read_csv(PADDLE_CSV, dtype={"input_shape": str})
    table = _examples_table(data, cache_dir)
    out = data[["device", "model", "batch_size", "latency_ms"]].rename(
        columns={"latency_ms": "measured_ms"})
    out["predicted_ms"] = np.nan
    for device, group in data.groupby("device", sort=False):
        picked = table.select(group.index.to_numpy())
        lat_s = network_costs(device_preset(device), picked, group["batch_size"].to_numpy())[0]
        out.loc[group.index, "predicted_ms"] = lat_s * 1e3
    out["ratio"] = out["predicted_ms"] / out["measured_ms"]
    return out


def paddle_summary(table: pd.DataFrame) -> str:
    """Per preset and network, the range of predicted/measured over the batch sizes."""
    parts = [f"`{device}` {model} at batch {_span(rows['batch_size'], 'd')}: "
             f"{_span(rows['ratio'], '.2f')}x"
             for (device, model), rows in table.groupby(["device", "model"], sort=False)]
    return "Predicted/measured: " + "; ".join(parts) + "."
