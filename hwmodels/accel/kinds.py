"""The accelerator kinds: a preset's or an inline mapping's `kind` names its model class.

A leaf module, so that the preset loader (`hwmodels.presets`) can pick a model class without
importing the accelerator builders, which load presets themselves.
"""
from __future__ import annotations

from typing import Any, Mapping

from core.schema import FieldError
from core.registry import Registry
from hwmodels.accel.bitfusion import BitFusionModel
from hwmodels.accel.eyeriss import EyerissModel
from hwmodels.accel.systolic import SystolicModel

ACCELERATOR_KINDS: Registry[type] = Registry("accelerator kind")
ACCELERATOR_KINDS.register("eyeriss")(EyerissModel)
ACCELERATOR_KINDS.register("systolic")(SystolicModel)
ACCELERATOR_KINDS.register("bitfusion")(BitFusionModel)


def model_class(values: Mapping[str, Any]) -> type:
    kind = values.get("kind") if isinstance(values, Mapping) else None
    if kind is None:
        raise FieldError("kind", f'must name an accelerator kind; known: '
                         f"{', '.join(ACCELERATOR_KINDS.names())}")
    try:
        return ACCELERATOR_KINDS.get(kind)
    except KeyError as exc:
        raise FieldError("kind", f'{exc}') from None
