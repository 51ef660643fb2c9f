"""Accelerator cost models (Eyeriss-like, systolic, Bit Fusion-like) and how to build them.

A preset or an inline mapping names its `kind`; the kind registry picks the model class, the
schema builder checks every field, and `accelerator_target` wraps the model as a ComputeTarget
(or, with `backend: zigzag`, as the optional ZigZag-backed target).
"""
from __future__ import annotations

import copy
from typing import Any, Mapping

from core.schema import FieldError, SchemaError, build
from hwmodels.accel.bitfusion import BitFusionModel, BitWidths
from hwmodels.accel.eyeriss import EyerissModel
from hwmodels.accel.kinds import ACCELERATOR_KINDS, model_class
from hwmodels.accel.shapes import LayerArrays, conv_arrays, layer_arrays
from hwmodels.accel.systolic import SystolicModel, systolic_cycles
from hwmodels.accel.target import AccelResult, AcceleratorTarget


def _merge(base: dict, over: Mapping[str, Any]) -> dict:
    out = copy.deepcopy(base)
    for k, v in over.items():
        out[k] = _merge(out[k], v) if isinstance(v, Mapping) and isinstance(out.get(k), dict) \
            else copy.deepcopy(v)
    return out


def build_accelerator(spec: str | Mapping[str, Any], overrides: Mapping[str, Any] | None = None,
                      path: str | None = None):
    """The accelerator model from a preset name or an inline mapping (sources stripped or not),
    with `overrides` merged in; raises SchemaError with every problem, each with its key path
    under `path` (default: the preset's file, or "accelerator")."""
    from hwmodels.presets import load_raw, strip_sources
    if isinstance(spec, str):
        values, _ = load_raw("accelerators", spec)
        path = path or f"accelerators/{spec}.yaml"
    else:
        values, _, _ = strip_sources(dict(spec))
        path = path or "accelerator"
    values = _merge(values, strip_sources(dict(overrides or {}))[0])
    try:
        cls = model_class(values)
    except FieldError as exc:
        raise SchemaError([f"{path}.{field}: {message}" for field, message in exc.problems])
    model, problems = build(cls, values, path)
    if problems:
        raise SchemaError(problems)
    return model


def accelerator_target(spec: str | Mapping[str, Any],
                       overrides: Mapping[str, Any] | None = None, path: str | None = None):
    """A ComputeTarget for an accelerator preset name or inline mapping (+ overrides)."""
    model = build_accelerator(spec, overrides, path)
    if model.backend == "zigzag":
        from hwmodels.accel.zigzag_backend import ZigZagTarget
        return ZigZagTarget(model)
    return AcceleratorTarget(model)


__all__ = ["ACCELERATOR_KINDS", "AccelResult", "AcceleratorTarget", "BitFusionModel",
           "BitWidths", "EyerissModel", "LayerArrays", "SystolicModel", "accelerator_target",
           "build_accelerator", "conv_arrays", "layer_arrays", "model_class", "systolic_cycles"]
