"""`sim profile MODEL`: the per-layer table of any model source (zoo name, `nb201:<genotype>`,
`path/file.py:factory`, `file.onnx`), as markdown or CSV, optionally priced on one device.

CSV columns: layer, name, op_type, output_shape, macs, elem_ops, params, output_bytes,
cut_after (1 where a valid cut follows the layer), and with --device latency_ms, energy_mj
(one sample, batch 1). The markdown form adds a summary line first.
"""
from __future__ import annotations


import argparse

import pandas as pd

from core.atomic import write_text_atomic
from core.errors import UserError
from core.schema import shape_problem
from core.registry import UnknownNameError
from partitioner.types import ModelGraph
from partitioner.profile import profile_model


def _shape(text: str | None) -> tuple[int, ...] | None:
    if not text:
        return None
    try:
        shape = tuple(int(s) for s in text.split(","))
    except ValueError:
        raise UserError(f"--input-shape {text!r}: expected integers like 3,224,224") from None
    problem = shape_problem(shape)
    if problem:
        raise UserError(f"--input-shape {text[:40]!r}: {problem}")
    return shape


def _target(ref: str):
    """A compute target for a device or accelerator preset name (or preset file)."""
    from hwmodels.cost import DeviceTarget
    from hwmodels.presets import device_preset, preset_names

    try:
        if ref in preset_names("accelerators"):
            from hwmodels.accel import accelerator_target

            return accelerator_target(ref)
        if ref in preset_names("devices") or ref.endswith((".yaml", ".yml")):
            return DeviceTarget(device_preset(ref))
    except (ValueError, OSError) as exc:
        raise UserError(f"--device {ref}: {exc}") from None
    raise UserError(f"--device {ref!r}: unknown; devices: {', '.join(preset_names('devices'))}; "
                    f"accelerators: {', '.join(preset_names('accelerators'))}")


def profile_frame(graph: ModelGraph, device: str | None = None) -> pd.DataFrame:
    valid = {c.cut for c in graph.cuts}
    df = pd.DataFrame([{
        "layer": l.index, "name": l.name, "op_type": l.op_type,
        "output_shape": "x".join(map(str, l.output_shape)), "macs": l.macs,
        "elem_ops": l.elem_ops, "params": l.params, "output_bytes": l.output_bytes,
        "cut_after": int(l.index in valid),
    } for l in graph.layers])
    if device is not None:
        from hwmodels.cost import layer_costs
        from sim.costs import edge_kernels

        target = _target(device)
        costs = layer_costs(target, graph.layers, 1, graph.activation_dtype)
        runs = edge_kernels(target, graph)     # 0 where the device's converter removes a layer
        df["latency_ms"] = [c.latency_s * 1e3 * r for c, r in zip(costs, runs)]
        df["energy_mj"] = [c.energy_j * 1e3 * r for c, r in zip(costs, runs)]
    return df


def profile_command(args: argparse.Namespace) -> int:
    from sim.report import markdown_table

    try:
        graph = profile_model(args.model, _shape(args.input_shape),
                              activation_dtype=args.activation_dtype)
    except (ValueError, UnknownNameError) as exc:
        raise UserError(f"{args.model}: {exc}") from None
    df = profile_frame(graph, args.device)
    if args.format == "csv":
        text = df.to_csv(index=False, float_format="%.6g")
    else:
        md = df.assign(cut_after=df["cut_after"].map({1: "yes", 0: ""}))
        total = (f"; {df['latency_ms'].sum():.3f} ms, {df['energy_mj'].sum():.3f} mJ on "
                 f"{args.device} (every layer it runs as a kernel, batch 1)"
                 if args.device else "")
        text = (f"{graph.model_name} {list(graph.input_shape)}: {graph.num_layers} layers, "
                f"{graph.total_macs:,} MACs, {len(graph.cuts)} valid cuts "
                f"({', '.join(str(c.cut) for c in graph.cuts)}){total}\n\n"
                f"{markdown_table(md)}\n")
    if args.out:
        write_text_atomic(args.out, text)
        print(f"wrote {args.out}")
    else:
        print(text, end="")
    return 0
