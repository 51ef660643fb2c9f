"""`sim predict` (latency and energy of many networks on one device) and `sim calibrate`
(fit a device preset to whole-network or per-layer measurements)."""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd

from core.atomic import write_text_atomic
from core.errors import UserError
from core.registry import UnknownNameError
from hwmodels.networks import NetworkList, network_table, parse_networks, read_csv
from hwmodels.presets import is_preset_file, load_raw, preset_names


def _category(ref: str) -> str:
    """Which kind of preset `ref` names: a device (roofline) or an accelerator."""
    if is_preset_file(ref):
        values, _ = load_raw("devices", ref)       # the file is read the same way for both
        return "devices" if values.get("kind") in ("gpu", "cpu") else "accelerators"
    if ref in preset_names("devices"):
        return "devices"
    if ref in preset_names("accelerators"):
        return "accelerators"
    raise UnknownNameError(f"--device {ref!r}: unknown; known devices: "
                           f"{', '.join(preset_names('devices'))}; accelerators: "
                           f"{', '.join(preset_names('accelerators'))}; or a preset .yaml file")


def _build_device(ref: str):
    from hwmodels.presets import device_preset
    try:
        return device_preset(ref)
    except ValueError as exc:
        raise UserError(f"--device {ref}: {exc}") from None


def predict_frame(nets: NetworkList, device_ref: str, path: str | Path = "MODELS.csv",
                  cache_dir: str | None = None) -> pd.DataFrame:
    """The input rows with `latency_ms` and `energy_mj` added (one batch per row)."""
    out = nets.frame.copy()
    if _category(device_ref) == "devices":
        from hwmodels.netcost import network_costs
        table = network_table(nets, path, cache_dir)
        lat_s, en_j = network_costs(_build_device(device_ref), table, nets.batch_sizes)
    else:
        lat_s, en_j = _accelerator_costs(nets, device_ref, path)
    out["latency_ms"] = lat_s * 1e3
    out["energy_mj"] = en_j * 1e3
    return out


def _accelerator_costs(nets: NetworkList, ref: str, path) -> tuple[np.ndarray, np.ndarray]:
    from hwmodels.accel import accelerator_target
    from hwmodels.cost import layer_costs
    from partitioner.profile import profile_model
    try:
        target = accelerator_target(ref)
    except ValueError as exc:
        raise UserError(f"--device {ref}: {exc}") from None
    lat, en = [], []
    for i, (model, shape, batch) in enumerate(zip(nets.models, nets.shapes, nets.batch_sizes),
                                              start=1):
        try:
            graph = profile_model(model, shape)
        except (ValueError, KeyError) as exc:
            raise UserError(f"{Path(path).name} row {i}, column model: {model!r}: {exc}") from None
        costs = layer_costs(target, graph.layers, int(batch), graph.activation_dtype)
        lat.append(sum(c.latency_s for c in costs))
        en.append(sum(c.energy_j for c in costs))
    return np.array(lat), np.array(en)


def predict_command(args: argparse.Namespace) -> int:
    if args.batch_size is not None and args.batch_size < 1:
        raise UserError(f"--batch-size must be >= 1, got {args.batch_size}")
    start = time.perf_counter()
    df = read_csv(args.models, "models file")
    nets = parse_networks(df, args.models, args.batch_size)
    out = predict_frame(nets, args.device, args.models, args.cache_dir)
    write_text_atomic(args.out, out.to_csv(index=False, float_format="%.6g"))
    print(f"predicted {len(out)} networks on {args.device} in "
          f"{time.perf_counter() - start:.1f} s; median latency "
          f"{out['latency_ms'].median():.4g} ms; wrote {args.out}")
    return 0


# ----------------------------------------------------------------------------- calibrate
def calibrate_command(args: argparse.Namespace) -> int:
    _check_out_file(args.out)
    columns = read_csv(args.measured, "measurements file").columns
    if "model" in columns:
        return _calibrate_networks(args)
    return _calibrate_layers(args)


def _default_name(device: str) -> str:
    return f"{Path(device).stem if is_preset_file(device) else device}-calibrated"


def _check_out_file(out: str | None) -> None:
    if out and Path(out).is_dir():
        raise UserError(f"--out {out!r} is a folder; name the preset file to write, e.g. "
                        f"{Path(out) / 'my-device.yaml'}")


def _calibrate_networks(args: argparse.Namespace) -> int:
    from hwmodels.calibrate import write_preset_yaml
    from hwmodels.calibrate_net import calibrated_preset, fit_networks, read_network_measurements
    from hwmodels.crossval import cross_validate
    from hwmodels.presets import load_sourced

    nets, latency, energy = read_network_measurements(args.measured)
    device = _build_device(args.device)
    base_raw = load_sourced("devices", args.device)
    table = network_table(nets, args.measured, args.cache_dir)
    fit = fit_networks(device, table, nets.batch_sizes, latency, energy)
    cv, why_not = cross_validate(device, table, nets.batch_sizes, latency)
    name = args.name or _default_name(args.device)
    preset = calibrated_preset(base_raw, fit, nets, latency, name, Path(args.measured).name, cv)
    out = write_preset_yaml(preset, args.out or f"{name}.yaml")
    rms = float(np.sqrt(np.mean(fit.log_residuals ** 2)))
    print(f"fitted {len(latency)} networks on {args.device}: rms log residual {rms:.4f} "
          f"(about {100 * (np.exp(rms) - 1):.1f} %) on the networks fitted")
    for key, value in fit.params.items():
        side = fit.at_bounds.get(key)
        note = (f"  (at the fit's {side} bound: these networks do not pin it down)" if side
                else "  (no network depends on it here: not informed by these measurements)"
                if key in fit.not_informed else "")
        print(f"  {key} = {value:.6g}{note}")
    if fit.power_w is not None:
        print(f"  active_power_w = {fit.power_w:.6g}")
    if cv is None:
        print(f"held-out error not estimated: {why_not}")
    else:
        cvs = cv.summary(latency)
        print(f"held out ({cv.method}): MAPE {cvs['mape_pct']:.1f} % (median "
              f"{cvs['median_ape_pct']:.1f} %); least squares on (kernels, MACs) held out "
              f"alike: MAPE {cvs['baseline_mape_pct']:.1f} % (median "
              f"{cvs['baseline_median_ape_pct']:.1f} %)")
        if cvs["median_ape_pct"] > cvs["baseline_median_ape_pct"]:
            print("note: held out, the two-feature regression predicts these networks better "
                  "than the calibrated preset: these measurements do not pin its parameters "
                  "down (measure more, or more varied, networks)")
    print(f"wrote {out} (preset {name!r})")
    return 0


def _calibrate_layers(args: argparse.Namespace) -> int:
    from hwmodels.calibrate import calibrate_csv, write_preset_yaml

    try:
        preset, report = calibrate_csv(args.measured, args.device)
    except ValueError as exc:
        raise UserError(f"{args.measured}: {exc}") from None
    preset["name"] = args.name or _default_name(args.device)
    out = write_preset_yaml(preset, args.out or f"{_default_name(args.device)}.yaml")
    print(f"fitted {report['rows']} layers of {args.device}; launch overhead "
          f"{report['launch_overhead_us']:.2f} us")
    for op, fit in report["latency"].items():
        print(f"  {op}: efficiency = {fit['intercept']:.4g} + {fit['slope']:.4g} "
              f"log10(FLOPs), n={fit['n']}, rms log residual {fit['rms_log_residual']:.4f}")
    for op, fit in report.get("power", {}).items():
        print(f"  {op} power: {fit['intercept']:.4g} + {fit['slope']:.4g} log10(FLOPs) W, "
              f"rms {fit['rms_w']:.4f} W")
    print(f"wrote {out}")
    return 0
