"""Fast NAS-Bench-201 profiles: the traced profile of `nb201:<genotype>` without a trace per arch.

API (other packages use these two; both return `ModelGraph`s with `module=None`):

    profile_nb201(arch, input_shape=(3, 32, 32), num_classes=10, input_dtype="uint8",
                  activation_dtype="float32", width=1.0) -> ModelGraph
    profile_nb201_many(archs, ...same keywords...) -> Iterator[ModelGraph]

`arch` is the genotype string without the `nb201:` prefix; the graph's `model_name` has it.
The result equals `partitioner.graph.trace_profile("nb201:" + arch, ...)` layer for layer
(names, op types, shapes, MACs, params, bytes, ConvShape) and cut for cut (tests check a sample).

How: every building block (stem, one cell operation at a stage's shape, the reduction block,
a two-input add, the head) is traced once per shape signature and kept as a template; an
architecture is then composed from templates in the order its module's forward runs, naming
layers as the trace does and finding valid cuts from each value's last use (a cut is valid where
exactly one value crosses it). Tracing a network takes ~0.1 s; composing one takes ~1 ms.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Iterable, Iterator

import torch
from torch import fx, nn
from torch.fx.passes.shape_prop import ShapeProp

from partitioner import graph as g
from partitioner.models import nb201 as nb
from partitioner.models.nb201_arch import OPERATIONS, Genotype, parse_arch
from partitioner.types import Cut, LayerProfile, dtype_bytes


@dataclass(frozen=True)
class _TemplateNode:
    target: str | None                  # module path inside the block; None for functions
    inputs: tuple[int, ...]             # < 0: block input -1-i; >= 0: node of this block
    profile: LayerProfile               # index and name are placeholders


@dataclass(frozen=True)
class _Template:
    nodes: tuple[_TemplateNode, ...]
    output: int                         # the node whose value leaves the block


class _TwoInputAdd(nn.Module):
    def forward(self, a, b):
        return a + b


class _IdentityCall(nn.Module):
    """A `skip_connect` edge: one call of an Identity module (a bare Identity as the root
    would trace to no node at all)."""

    def __init__(self) -> None:
        super().__init__()
        self.op = nn.Identity()

    def forward(self, x):
        return self.op(x)


def _trace_template(module: nn.Module, shapes: tuple[tuple[int, ...], ...],
                    activation_dtype: str) -> _Template:
    gm = fx.symbolic_trace(module)
    ShapeProp(gm).propagate(*(torch.zeros((1, *s), device="meta") for s in shapes))
    act_b = dtype_bytes(activation_dtype)
    modules = dict(gm.named_modules())
    kinds = g.classify(gm)
    placeholders = [n for n in gm.graph.nodes if n.op == "placeholder"]
    layers = g.layer_nodes(gm)
    position = {n: -1 - i for i, n in enumerate(placeholders)}
    position.update({n: i for i, n in enumerate(layers)})
    nodes = []
    for node in layers:
        module = modules.get(node.target) if node.op == "call_module" else None
        profile = g.node_profile(node, module, 0, "", act_b, act_b, kinds, gm, set())
        nodes.append(_TemplateNode(str(node.target) if node.op == "call_module" else None,
                                   tuple(position[a] for a in node.all_input_nodes), profile))
    out = next(n for n in gm.graph.nodes if n.op == "output").args[0]
    return _Template(tuple(nodes), position[out])


@lru_cache(maxsize=None)
def _template(kind: str, shape: tuple[int, ...], extra: tuple, activation_dtype: str) -> _Template:
    """Build and trace one block on the meta device; `extra` carries the block's arguments."""
    with torch.device("meta"):
        if kind == "stem":
            in_c, c = extra
            module, shapes = nn.Sequential(nn.Conv2d(in_c, c, 3, padding=1, bias=False),
                                           nn.BatchNorm2d(c)), (shape,)
        elif kind == "op" and extra[0] == "skip_connect":
            # the edge's Identity module is the cell layer itself, so the layer is named by
            # the edge's own path: target "" (the composer's prefix is that path)
            traced = _trace_template(_IdentityCall().eval(), (shape,), activation_dtype)
            return _Template(tuple(replace(n, target="") for n in traced.nodes), traced.output)
        elif kind == "op":
            module, shapes = nb.make_op(extra[0], shape[0]), (shape,)
        elif kind == "reduce":
            module, shapes = nb.ResNetBasicblock(shape[0], extra[0]), (shape,)
        elif kind == "add":
            module, shapes = _TwoInputAdd(), (shape, shape)
        else:  # head
            module, shapes = nb.Head(shape[0], extra[0]), (shape,)
    return _trace_template(module.eval(), shapes, activation_dtype)


class _Composer:
    """Appends template instances in forward order; value 0 is the network input."""

    def __init__(self) -> None:
        self.rows: list[tuple[str, LayerProfile]] = []   # (name, template profile)
        self.inputs: list[tuple[int, ...]] = []
        self.seen: dict[str, int] = {}

    def emit(self, template: _Template, prefix: str, args: tuple[int, ...]) -> int:
        base = len(self.rows)
        for tnode in template.nodes:
            op_type = tnode.profile.op_type
            count = self.seen.get(op_type, 0) + 1
            self.seen[op_type] = count
            if tnode.target is not None and not (prefix + tnode.target).replace(".", "").isdigit():
                name = prefix + tnode.target
            else:
                name = f"{op_type}_{count}"
            self.rows.append((name, tnode.profile))
            self.inputs.append(tuple(args[-1 - r] if r < 0 else base + r + 1
                                     for r in tnode.inputs))
        out = template.output
        return args[-1 - out] if out < 0 else base + out + 1


def _compose(genotype: Genotype, input_shape: tuple[int, ...], num_classes: int,
             activation_dtype: str, width: float) -> _Composer:
    """The network's layers in the order TinyNetwork.forward runs them."""
    channels = nb.stage_channels(width)
    _, h, w = input_shape
    comp = _Composer()
    shape = (channels[0], h, w)
    x = comp.emit(_template("stem", input_shape, (input_shape[0], channels[0]), activation_dtype),
                  "stem.", (0,))
    cell = 0
    for stage, ch in enumerate(channels):
        if stage:
            block = _template("reduce", shape, (ch,), activation_dtype)
            x = comp.emit(block, f"cells.{cell}.", (x,))
            shape = block.nodes[block.output].profile.output_shape
            cell += 1
        ops = {op: _template("op", shape, (op,), activation_dtype) for op in OPERATIONS}
        add = _template("add", shape, (), activation_dtype)
        for _ in range(nb.CELLS_PER_STAGE):
            x = _compose_cell(comp, genotype, ops, add, f"cells.{cell}.layers.", x)
            cell += 1
    comp.emit(_template("head", shape, (num_classes,), activation_dtype), "", (x,))
    return comp


def _compose_cell(comp: _Composer, genotype: Genotype, ops: dict, add: _Template,
                  prefix: str, x: int) -> int:
    nodes = [x]
    k = 0
    for edges in genotype:
        feats = []
        for op, src in edges:
            # the identity module is the edge's layer itself: named by its own path
            feats.append(comp.emit(ops[op], f"{prefix}{k}" if op == "skip_connect"
                                   else f"{prefix}{k}.", (nodes[src],)))
            k += 1
        acc = feats[0]
        for f in feats[1:]:
            acc = comp.emit(add, "", (acc, f))
        nodes.append(acc)
    return nodes[-1]


def _cuts(comp: _Composer, input_shape: tuple[int, ...], input_dtype: str,
          activation_dtype: str) -> tuple[Cut, ...]:
    """Valid cuts; the sent value's profile was built at `activation_dtype` by its template."""
    n = len(comp.rows)
    last_use = list(range(n + 1))           # a value nobody reads never crosses a cut
    for consumer, args in enumerate(comp.inputs, start=1):
        for v in args:
            last_use[v] = max(last_use[v], consumer)
    last_use[n] = n + 1                     # the network output is read by the graph's output
    # Crossing count and id sum per cut, by difference arrays: value v crosses cuts v..last-1.
    count = [0] * (n + 2)
    id_sum = [0] * (n + 2)
    for v, last in enumerate(last_use):
        if last > v:
            count[v] += 1
            count[last] -= 1
            id_sum[v] += v
            id_sum[last] -= v
    cuts, crossing, ids = [], 0, 0
    for k in range(n + 1):
        crossing += count[k]
        ids += id_sum[k]
        if crossing != 1:
            continue
        after = "input" if k == 0 else comp.rows[k - 1][0]
        if ids == 0:
            cuts.append(Cut(k, after, tuple(input_shape), input_dtype,
                            g._numel(input_shape) * dtype_bytes(input_dtype)))
        else:
            sent = comp.rows[ids - 1][1]
            cuts.append(Cut(k, after, sent.output_shape, activation_dtype, sent.output_bytes))
    return tuple(cuts)


def profile_nb201(arch: str, input_shape: tuple[int, ...] = (3, 32, 32), num_classes: int = 10,
                  input_dtype: str = "uint8", activation_dtype: str = "float32",
                  width: float = 1.0) -> g.ModelGraph:
    """The traced profile of `nb201:<arch>`, composed from cached block templates."""
    shape = tuple(int(d) for d in input_shape)
    if len(shape) != 3:
        raise ValueError(f"model 'nb201:{arch}' takes a 3-d input shape like [3, 32, 32], "
                         f"got {list(shape)}")
    comp = _compose(parse_arch(arch), shape, num_classes, activation_dtype, width)
    layers = tuple(LayerProfile(i, name, p.op_type, p.input_shapes, p.output_shape, p.macs,
                                p.params, p.param_bytes, p.input_bytes, p.output_bytes, p.conv,
                                p.elem_ops)
                   for i, (name, p) in enumerate(comp.rows, start=1))
    return g.ModelGraph(model_name=f"nb201:{arch}", input_shape=shape, input_dtype=input_dtype,
                        activation_dtype=activation_dtype, layers=layers,
                        cuts=_cuts(comp, shape, input_dtype, activation_dtype), module=None)


def profile_nb201_many(archs: Iterable[str], input_shape: tuple[int, ...] = (3, 32, 32),
                       num_classes: int = 10, input_dtype: str = "uint8",
                       activation_dtype: str = "float32",
                       width: float = 1.0) -> Iterator[g.ModelGraph]:
    """`profile_nb201` over many architectures (templates are shared across them)."""
    for arch in archs:
        yield profile_nb201(arch, input_shape, num_classes, input_dtype, activation_dtype, width)
