"""torch.fx tracing with shape propagation at batch 1; every failure is a UserError with a hint.

Profiling (`partitioner.graph`) and splitting (`partitioner.split`) both trace through
`fx_trace`, so they see the same nodes and number the layers alike.
"""
from __future__ import annotations

import contextlib
import io
import operator
import traceback

import torch
from torch import fx, nn
from torch.fx.passes.shape_prop import ShapeProp

from core.errors import UserError


def fx_trace(model: nn.Module) -> fx.GraphModule:
    """symbolic_trace, less unused tuple unpacking (`y, _ = attention(...)`): such a getitem
    computes nothing and may hold None."""
    gm = fx.symbolic_trace(model)
    for node in reversed(list(gm.graph.nodes)):
        if node.target is operator.getitem and not node.users:
            gm.graph.erase_node(node)
    gm.recompile()
    return gm


def trace(model: nn.Module, input_shape: tuple[int, ...]) -> fx.GraphModule:
    """Trace with torch.fx and propagate shapes at batch 1; failures are UserErrors with hints."""
    try:
        gm = fx_trace(model)
    except Exception as exc:  # noqa: BLE001 - any tracing failure is the model's, reported whole
        raise UserError(f"torch.fx cannot trace {type(model).__name__}{_user_frame(exc)}: {exc}. "
                        "Hint: avoid Python control flow on tensor values (if/while on a "
                        "tensor, .item(), len() or iteration of a tensor); shape arithmetic "
                        "such as `B, N, C = x.shape` is fine") from None
    params = list(model.parameters())
    device = params[0].device if params else torch.device("cpu")
    try:
        # ShapeProp prints the traceback of a failing node itself: the UserError says it all
        with contextlib.redirect_stderr(io.StringIO()):
            ShapeProp(gm).propagate(torch.zeros((1, *input_shape), device=device))
    except Exception as exc:  # noqa: BLE001
        raise UserError(f"running {type(model).__name__} on an input of shape "
                        f"{list(input_shape)} (batch 1) failed{_user_frame(exc)}: "
                        f"{_root_cause(exc)}") from None
    return gm


def _root_cause(exc: BaseException) -> str:
    while exc.__cause__ is not None:
        exc = exc.__cause__
    return f"{type(exc).__name__}: {exc}"


def _user_frame(exc: BaseException) -> str:
    """ ' (at file:line)' for the innermost frame outside torch, where the user's code failed."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__)
              if "/torch/" not in f.filename and "/partitioner/trace.py" not in f.filename]
    return f" (at {frames[-1].filename}:{frames[-1].lineno})" if frames else ""
