"""Whole-network calibration: fit a device's per-kernel overheads, per-op-type efficiencies
and achieved memory bandwidth (and its power, when energy is given) to measured latencies of
whole networks, so that summed per-layer roofline predictions match them.

Parameters (fitted in log space, bounded to physical ranges):
- `launch_overhead_us`, the per-kernel overhead of every kernel, and one for each op type the
  base preset gives its own (`launch_overhead_by_op_us`: convolution, GEMM and normalization
  kernels pay for descriptor set-up and algorithm choice that an elementwise kernel does not);
- `call_overhead_us`, the host time of an op that launches no kernel (an identity module call),
  where the base preset prices one and the networks' count of such ops varies;
- `efficiency.<op>` for each MAC op type present, and `efficiency.default` for the others;
- `memory_efficiency` (share of the datasheet bandwidth reached), which decides large batches.
Residuals are log(predicted / measured) per network (relative errors weigh small and large
networks alike; a robust soft-L1 loss beyond 3 %), plus a weak pull of each parameter towards
the base preset's value so that a parameter the networks cannot tell apart stays where the
datasheet put it instead of drifting.
The overheads may all scale together freely (a faster or slower host); only a change of their
proportions is pulled back, which keeps a 10-network fit from trading one op type's overhead
against another's on measurement noise.
Only parameters the networks can tell apart are fitted: such an op type's own overhead where
its kernel count varies independently of the others, a size slope (power law) of a MAC op's
efficiency where its layers come in several sizes.
On TensorFlow Lite devices (presets with `folds_constants`) the fit holds the op types' own
overheads at the preset's values and gives each MAC op one efficiency (no size slope): there a
convolution takes 0.1-1 ms, so its per-call cost of a few microseconds and its efficiency's
change with size are what 10 networks measured with ~5 % scatter cannot separate from the
common overhead and from each other (`fit_parameters`).
Energy: one active power, log P = mean(log E - log T) over the rows (T the fitted latency).
"""
from __future__ import annotations

import copy
import datetime as _dt
import logging
from collections.abc import Collection
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy.optimize import least_squares

from core.errors import UserError
from hwmodels.device import NO_KERNEL_OPS, DeviceModel, Regression
from hwmodels.netcost import LayerTable, network_costs
from hwmodels.networks import NetworkList, parse_networks, positive_column, read_csv

if TYPE_CHECKING:
    from hwmodels.crossval import CrossValidation

log = logging.getLogger(__name__)

EFF_LOWER = 1e-3           # floor of a fitted efficiency (keeps latency finite)

OWN_OVERHEAD_OPS = ("conv2d", "linear", "batchnorm2d", "layernorm", "groupnorm")
MAC_OPS = ("conv2d", "linear", "matmul", "bmm", "einsum", "conv1d", "convtranspose2d")
# Window ops do k x k work per output element the profile counts once: their own efficiency.
WINDOW_OPS = ("avgpool2d", "maxpool2d")
OVERHEAD_SHAPE_WEIGHT = 0.05  # a 2x change of one op type's share of the overhead ~ a 3.5 % miss
PRIOR_WEIGHT = 0.01         # a 2x move of one parameter costs as much as a 0.7 % miss on a net
# (low, high, fitted in log space?)
# Residuals beyond about 3 % (the scatter of repeated GPU measurements) count linearly, not
# squared: a network the model cannot represent (a toolchain's dead-code elimination on the
# Pi or the phone) does not drag a 10-network fit (soft-L1 loss).
ROBUST_SCALE = 0.03
# A fitted value within this of a bound (in the fit's coordinates: 0.1 % for the log-space
# ones) stopped there; the optimizer keeps its iterates strictly inside, so never exactly on it.
AT_BOUND_TOLERANCE = 1e-3
BOUNDS = {"overhead": (1e-3, 1e5, True), "efficiency": (1e-4, 1.0, True),
          "eff_at_1g": (1e-4, 10.0, True), "slope": (-1.0, 1.0, False),
          "memory": (0.02, 1.0, True)}


@dataclass(frozen=True)
class Param:
    key: str            # "launch_overhead_us", "launch_overhead_by_op_us.conv2d", ...
    kind: str           # a key of BOUNDS
    start: float        # the base preset's value (also the prior's centre)


@dataclass(frozen=True)
class NetworkFit:
    device: DeviceModel
    params: dict[str, float]
    predicted_ms: np.ndarray
    log_residuals: np.ndarray
    power_w: float | None
    energy_log_residuals: np.ndarray | None
    at_bounds: dict[str, str]   # parameter -> "lower" or "upper": the limit it stopped at
    # parameters no network's prediction depends on at the fitted value (the layers they price
    # are bound by their other roofline term there, or their efficiency is clipped at peak or
    # at its floor): the value is the prior's or the start's, not the data's
    not_informed: tuple[str, ...]


def _own_overhead_ops(table: LayerTable, candidates: Collection[str]) -> list[str]:
    """Of the `candidates`, the op types whose kernel count the networks vary independently:
    each gets its own overhead. Op types whose counts move together (in NAS-Bench-201 every
    conv comes with one ReLU and one batch norm) share one, carried by the first of them
    (library kernels first); the others keep the base preset's."""
    counts = table.op_counts().astype(float)
    rank_of = sorted(range(len(table.op_types)), key=lambda k: (
        table.op_types[k] not in MAC_OPS, table.op_types[k] not in OWN_OVERHEAD_OPS,
        table.op_types[k]))
    kept: list[int] = []
    basis = np.ones((table.n_networks, 1))
    for k in rank_of:
        if (table.op_types[k] not in candidates or table.op_types[k] in NO_KERNEL_OPS
                or np.ptp(counts[:, k]) == 0):
            continue
        trial = np.c_[basis, counts[:, k]]
        if np.linalg.matrix_rank(trial) > np.linalg.matrix_rank(basis):
            basis, kept = trial, kept + [k]
    return [table.op_types[k] for k in kept]


def fit_parameters(device: DeviceModel, table: LayerTable) -> list[Param]:
    """The parameters these networks can tell apart: an op type's own overhead where the preset
    gives it one and its kernel count varies on its own, its own efficiency where its work
    varies, and a size slope of the efficiency only where its layers come in several sizes
    (counting the layers that run on the device); on a TensorFlow Lite device
    (`folds_constants`) neither own overheads nor a size slope."""
    table = table.executed_on(device)
    counts = table.op_counts()
    varies = {op: np.ptp(counts[:, k]) > 0 for k, op in enumerate(table.op_types)}
    # TensorFlow Lite (a folding converter deploys the network): its convolutions and poolings
    # take 0.1-1 ms each on the Pi 4 and the Pixel 3, so an own per-call cost of a few us moves
    # a network by far less than the measurements' ~5 % scatter, and a size slope of the
    # convolution's efficiency is, in NAS-Bench-201 (whose cell convolutions have the same MACs
    # in every stage), a 1x1-against-3x3 cost ratio. 10 networks pin neither: fitted, the own
    # overheads fell to zero with the common one (which then traded the convolutions' cost
    # against the elementwise kernels'), and the slope ranged from -1 to +0.34 over six 10-net
    # draws while 100 networks put it at -0.14..+0.08 and fit no better with it. So the own
    # overheads stay at the preset's values and each MAC op gets one efficiency.
    tflite = device.folds_constants
    params = [Param("launch_overhead_us", "overhead", device.launch_overhead_us)]
    # Only the op types the preset gives an overhead of their own (a library kernel's set-up:
    # cuDNN or oneDNN convolution and batch norm): a separate overhead for every other op type
    # would fit, from 10 networks, the measurements' few per cent of scatter.
    for op in [] if tflite else _own_overhead_ops(table, device.launch_overhead_by_op_us):
        params.append(Param(f"launch_overhead_by_op_us.{op}", "overhead",
                            device.kernel_overhead_us(op)))
    # The host call of an op that launches no kernel (a skip edge's identity), where the preset
    # prices one (a framework that runs the graph as written) and its count varies.
    no_kernel = [k for k, op in enumerate(table.op_types) if op in NO_KERNEL_OPS]
    if (device.call_overhead_us > 0 and no_kernel
            and np.ptp(counts[:, no_kernel].sum(axis=1)) > 0):
        params.append(Param("call_overhead_us", "overhead", device.call_overhead_us))
    for op in MAC_OPS + WINDOW_OPS:
        if not varies.get(op):
            continue
        sizes = table.ops[table.op_code == table.op_types.index(op)]
        start = device.op_efficiency(op, 1e9)
        if op in MAC_OPS and len(np.unique(sizes)) > 1 and not tflite:
            params += [Param(f"efficiency_fit.{op}.intercept", "eff_at_1g", start),
                       Param(f"efficiency_fit.{op}.slope", "slope", 0.0)]
        else:
            params.append(Param(f"efficiency.{op}", "efficiency", start))
    if set(table.op_types) - set(MAC_OPS) - set(WINDOW_OPS):
        params.append(Param("efficiency.default", "efficiency", device.efficiency["default"]))
    params.append(Param("memory_efficiency", "memory", device.memory_efficiency))
    return params


def apply_parameters(device: DeviceModel, params: list[Param], values) -> DeviceModel:
    eff, by_op = dict(device.efficiency), dict(device.launch_overhead_by_op_us)
    fits = dict(device.efficiency_fit)
    power_law: dict[str, dict[str, float]] = {}
    changes: dict[str, Any] = {}
    for p, v in zip(params, values):
        v = float(v)
        parts = p.key.split(".")
        if parts[0] == "efficiency":
            eff[parts[1]] = v
            fits.pop(parts[1], None)       # a fitted constant replaces a size regression
        elif parts[0] == "efficiency_fit":
            power_law.setdefault(parts[1], {})[parts[2]] = v
        elif parts[0] == "launch_overhead_by_op_us":
            by_op[parts[1]] = v
        else:
            changes[p.key] = v
    for op, coef in power_law.items():
        fits[op] = Regression("power", coef["intercept"], coef["slope"], EFF_LOWER, 1.0)
    return replace(device, efficiency=eff, efficiency_fit=fits, launch_overhead_by_op_us=by_op,
                   **changes)


def _to_x(params: list[Param], values) -> np.ndarray:
    return np.array([np.log(v) if BOUNDS[p.kind][2] else v for p, v in zip(params, values)])


def _from_x(params: list[Param], x: np.ndarray) -> np.ndarray:
    return np.array([np.exp(v) if BOUNDS[p.kind][2] else v for p, v in zip(params, x)])


def _start_below_the_kink(device: DeviceModel, table: LayerTable, batch_sizes: np.ndarray,
                          params: list[Param], x0: np.ndarray, dtype: str) -> np.ndarray:
    """Where the optimizer starts: the preset's values, except that a window op's efficiency
    starts no higher than half the one at which its median layer turns compute-bound. Above
    that kink the roofline's max makes latency independent of the efficiency, so a fit started
    there could never find that the op is slower than its bytes allow (3x3 average pooling at
    batch 256 on the Titan Xp takes 4x its traffic time). The prior stays centred on the
    preset's value."""
    run = table.executed_on(device)
    batch = np.asarray(batch_sizes)[run.network]
    start = x0.copy()
    for i, p in enumerate(params):
        op = p.key.split(".")[1] if p.key.startswith("efficiency.") else None
        if op not in WINDOW_OPS or op not in run.op_types:
            continue
        rows = run.op_code == run.op_types.index(op)
        moved = batch[rows] * run.act_bytes[rows] + run.param_bytes[rows]
        kink = (batch[rows] * run.ops[rows] * device.achieved_bandwidth_bps
                / (device.peak_flops(dtype) * moved))
        start[i] = min(x0[i], np.log(max(0.5 * float(np.median(kink)), 1.01 * BOUNDS[p.kind][0])))
    return start


def fit_networks(device: DeviceModel, table: LayerTable, batch_sizes: np.ndarray,
                 latency_ms: np.ndarray, energy_mj: np.ndarray | None = None,
                 dtype: str = "float32") -> NetworkFit:
    """Least-squares fit; raises UserError when there are fewer rows than parameters or the
    fit does not converge."""
    params = fit_parameters(device, table)
    if len(latency_ms) < len(params):
        raise UserError(f"{len(latency_ms)} measured networks cannot fit {len(params)} "
                        f"parameters ({', '.join(p.key for p in params)}): give at least "
                        f"{len(params)} rows")
    lo = _to_x(params, [BOUNDS[p.kind][0] for p in params])
    hi = _to_x(params, [BOUNDS[p.kind][1] for p in params])
    x0 = np.clip(_to_x(params, [max(p.start, 1e-6) if BOUNDS[p.kind][2] else p.start
                                for p in params]), lo + 1e-9, hi - 1e-9)
    log_t = np.log(latency_ms * 1e-3)

    def predict(x):
        return network_costs(apply_parameters(device, params, _from_x(params, x)), table,
                             batch_sizes, dtype)[0]

    overhead = np.array([p.kind == "overhead" for p in params])

    def prior(x):
        # Overheads move together for free (the host is faster or slower as a whole); only
        # their departures from the preset's proportions, and every other figure, cost.
        d = x - x0
        d[overhead] -= d[overhead].mean()
        return np.where(overhead, OVERHEAD_SHAPE_WEIGHT, PRIOR_WEIGHT) * d

    def resid(x):
        return np.concatenate([np.log(predict(x)) - log_t, prior(x)])

    start = _start_below_the_kink(device, table, batch_sizes, params, x0, dtype)
    sol = least_squares(resid, start, bounds=(lo, hi), x_scale=1.0, max_nfev=200 * len(params),
                        loss="soft_l1", f_scale=ROBUST_SCALE)
    r = resid(sol.x)[:len(latency_ms)]
    if not sol.success or not np.all(np.isfinite(r)):
        raise UserError(f"the fit did not converge ({sol.message}); nothing written")
    values = _from_x(params, sol.x)
    at_bounds = {p.key: side for p, x, low, high in zip(params, sol.x, lo, hi)
                 for side, edge in (("lower", low), ("upper", high))
                 if abs(x - edge) <= AT_BOUND_TOLERANCE}
    # a finite-difference Jacobian column that is exactly flat: the max() of the roofline
    # picks the other term for every layer this parameter prices
    flat = np.all(sol.jac[:len(latency_ms)] == 0, axis=0)
    not_informed = tuple(p.key for p, f in zip(params, flat) if f and p.key not in at_bounds)
    fitted = apply_parameters(device, params, values)
    lat_s, _ = network_costs(fitted, table, batch_sizes, dtype)
    power_w, e_resid = None, None
    if energy_mj is not None:
        log_p = np.log(energy_mj * 1e-3) - np.log(lat_s)
        power_w = float(np.exp(np.mean(log_p)))
        e_resid = log_p - np.log(power_w)
        fitted = replace(fitted, active_power_w=power_w, power_fit={},
                         static_power_w=min(fitted.static_power_w, power_w),
                         idle_power_w=min(fitted.idle_power_w, power_w))
    return NetworkFit(fitted, {p.key: float(v) for p, v in zip(params, values)},
                      lat_s * 1e3, r, power_w, e_resid, at_bounds, not_informed)


# ----------------------------------------------------------------------------- CSV -> preset
def read_network_measurements(path: str | Path) -> tuple[NetworkList, np.ndarray,
                                                          np.ndarray | None]:
    df = read_csv(path, "measurements file")
    if "latency_ms" not in df:
        raise UserError(f"{Path(path).name}: column latency_ms is missing (whole-network "
                        "measurements need model and latency_ms)")
    nets = parse_networks(df, path)
    latency = positive_column(df, path, "latency_ms")
    energy = positive_column(df, path, "energy_mj") if "energy_mj" in df else None
    return nets, latency, energy


def _sourced(value: Any, source: str) -> dict:
    return {"value": value, "source": source}


def calibrated_preset(base_raw: dict, fit: NetworkFit, nets: NetworkList,
                      latency_ms: np.ndarray, name: str, csv_name: str,
                      cv: CrossValidation | None = None) -> dict:
    """The base preset (sources kept) with the fitted figures, a new name and the record;
    `cv`: the held-out predictions (hwmodels.crossval.CrossValidation), when there are."""
    preset = copy.deepcopy(base_raw)
    src = f"fit by sim calibrate to {len(latency_ms)} whole networks in {csv_name} on " \
          f"{_dt.date.today().isoformat()}"
    preset["name"] = name
    for key, value in fit.params.items():
        node = preset
        parts = key.split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = _sourced(round(value, 6), src + _caveat(fit, key))
        if parts[0] == "efficiency":
            preset.get("efficiency_fit", {}).pop(parts[1], None)
        if parts[0] == "efficiency_fit":
            node.update(form="power",
                        lower=_sourced(EFF_LOWER, "floor of the fit (keeps latency finite)"),
                        upper=_sourced(1.0, "efficiency cannot exceed peak"))
    if not preset.get("efficiency_fit"):
        preset.pop("efficiency_fit", None)
    if fit.power_w is not None:
        preset["active_power_w"] = _sourced(round(fit.power_w, 6), src)
        for key in ("static_power_w", "idle_power_w"):
            if key in preset and fit.power_w < _value(preset[key]):
                preset[key] = _sourced(round(fit.power_w, 6), f"capped at the fitted active "
                                                              f"power ({src})")
        preset.pop("power_fit", None)
    rows = [{"model": m, "input_shape": ",".join(map(str, s)) if s else "",
             "batch_size": int(b), "latency_ms": float(t), "predicted_ms": round(float(p), 6),
             "log_residual": round(float(r), 6)}
            for m, s, b, t, p, r in zip(nets.models, nets.shapes, nets.batch_sizes, latency_ms,
                                        fit.predicted_ms, fit.log_residuals)]
    if cv is not None:
        for row, held_out in zip(rows, cv.predicted_ms):
            row["held_out_predicted_ms"] = round(float(held_out), 6)
    record: dict[str, Any] = {
        "method": "whole-network least squares on log latency",
        "base": str(base_raw.get("name", "")),
        "rms_log_residual": _sourced(round(float(np.sqrt(np.mean(fit.log_residuals ** 2))), 6),
                                     src),
        "max_abs_log_residual": _sourced(round(float(np.max(np.abs(fit.log_residuals))), 6),
                                         src),
        "rows": rows}
    if fit.at_bounds:
        record["at_bounds"] = dict(fit.at_bounds)
    if fit.not_informed:
        record["not_informed"] = list(fit.not_informed)
    if cv is not None:
        summary = cv.summary(latency_ms)
        record["cross_validation"] = {
            "method": f"{cv.method}: each row predicted by the fit to the others",
            "baseline": "least squares of latency on (1, kernels, batch x MACs), held out alike",
            **{key: _sourced(round(value, 4), src) for key, value in summary.items()}}
    if fit.energy_log_residuals is not None:
        record["energy_rms_log_residual"] = _sourced(
            round(float(np.sqrt(np.mean(fit.energy_log_residuals ** 2))), 6), src)
    preset["calibration"] = record
    return preset


def _caveat(fit: NetworkFit, key: str) -> str:
    """What a fitted figure is not, where the networks did not decide it ('' where they did)."""
    side = fit.at_bounds.get(key)
    if side is not None:
        return (f"; stopped at the fit's {side} bound, so these networks do not pin it down: "
                "a limit of the fit, not a measured figure")
    if key in fit.not_informed:
        return ("; no network's predicted latency depends on it at this value (the layers it "
                "prices are bound by their other roofline term, or their efficiency is held at "
                "peak or at its floor), so the networks did not decide it: not a measured "
                "figure")
    return ""


def _value(node: Any) -> float:
    return float(node["value"]) if isinstance(node, dict) else float(node)
