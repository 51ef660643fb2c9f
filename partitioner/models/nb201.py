"""NAS-Bench-201 networks, `nb201:<genotype>`, built as the public NAS-Bench-201 code builds them.

Macro structure (D-X-Y/NAS-Bench-201, `TinyNetwork`, MIT licence): a 3x3 stem conv (no bias) and
batch norm to C = 16 channels; three stages of N = 5 cells at C, 2C and 4C channels with a
residual reduction block between stages; head batch norm, ReLU, global average pool, linear.
A cell has four nodes: node 0 is the cell input, node j = sum of op(node i) over the genotype's
edges i -> j, the cell output is node 3. The module tree mirrors the public one (`stem`,
`cells.{i}.layers.{k}.op`, `conv_a`, `conv_b`, `downsample`, `lastact`, `global_pooling`,
`classifier`) so its state_dict keys match. Written here from the paper's description and that
code's structure, not copied.

One deliberate difference in the traced graph, not changing the computed function: a node's
inputs are summed pairwise in edge order (the public `sum(...)` adds a leading `0 +`). A
`skip_connect` edge is an `identity` layer, as the public code's `Identity` module call: it
launches no kernel but costs a host call in PyTorch eager (`call_overhead_us` of a preset).
"""
from __future__ import annotations

import operator
from functools import reduce

import torch
from torch import nn

from partitioner.models.nb201_arch import Genotype, parse_arch

STEM_CHANNELS = 16
CELLS_PER_STAGE = 5


class ReLUConvBN(nn.Module):
    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int, padding: int) -> None:
        super().__init__()
        self.op = nn.Sequential(nn.ReLU(), nn.Conv2d(c_in, c_out, kernel, stride, padding,
                                                     bias=False), nn.BatchNorm2d(c_out))

    def forward(self, x):
        return self.op(x)


class Pooling(nn.Module):
    """`avg_pool_3x3` inside a cell (C_in == C_out, so the public code's preprocess is None)."""

    def __init__(self) -> None:
        super().__init__()
        self.op = nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False)

    def forward(self, x):
        return self.op(x)


class Zero(nn.Module):
    """`none`: multiplies by zero (a real op in the public code, so it is profiled)."""

    def forward(self, x):
        return x.mul(0.0)


def make_op(name: str, channels: int) -> nn.Module:
    if name == "none":
        return Zero()
    if name == "skip_connect":
        return nn.Identity()
    if name == "avg_pool_3x3":
        return Pooling()
    kernel = 1 if name == "nor_conv_1x1" else 3
    return ReLUConvBN(channels, channels, kernel, 1, kernel // 2)


class InferCell(nn.Module):
    def __init__(self, genotype: Genotype, channels: int) -> None:
        super().__init__()
        self.layers = nn.ModuleList()
        self.node_edges: list[list[tuple[int, int]]] = []   # (layer index, source node)
        for edges in genotype:
            node = []
            for op, src in edges:
                node.append((len(self.layers), src))
                self.layers.append(make_op(op, channels))
            self.node_edges.append(node)

    def forward(self, x):
        nodes = [x]
        for edges in self.node_edges:
            feats = [self.layers[k](nodes[src]) for k, src in edges]
            nodes.append(reduce(operator.add, feats))
        return nodes[-1]


class ResNetBasicblock(nn.Module):
    """The reduction block between stages (stride 2)."""

    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__()
        self.conv_a = ReLUConvBN(c_in, c_out, 3, 2, 1)
        self.conv_b = ReLUConvBN(c_out, c_out, 3, 1, 1)
        self.downsample = nn.Sequential(nn.AvgPool2d(2, stride=2, padding=0),
                                        nn.Conv2d(c_in, c_out, 1, bias=False))

    def forward(self, x):
        basicblock = self.conv_b(self.conv_a(x))
        return self.downsample(x) + basicblock


def classify(net: nn.Module, feature):
    """The head; shared with the fast profiler's head template so both trace alike."""
    return net.classifier(torch.flatten(net.global_pooling(net.lastact(feature)), 1))


class Head(nn.Module):
    def __init__(self, channels: int, num_classes: int) -> None:
        super().__init__()
        self.lastact = nn.Sequential(nn.BatchNorm2d(channels), nn.ReLU())
        self.global_pooling = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(channels, num_classes)

    def forward(self, x):
        return classify(self, x)


def stage_channels(width: float) -> tuple[int, int, int]:
    c = max(1, int(round(STEM_CHANNELS * width)))
    return c, 2 * c, 4 * c


class TinyNetwork(nn.Module):
    def __init__(self, genotype: Genotype, in_channels: int, num_classes: int,
                 width: float = 1.0) -> None:
        super().__init__()
        c = stage_channels(width)
        self.stem = nn.Sequential(nn.Conv2d(in_channels, c[0], 3, padding=1, bias=False),
                                  nn.BatchNorm2d(c[0]))
        cells: list[nn.Module] = []
        for stage, ch in enumerate(c):
            if stage:
                cells.append(ResNetBasicblock(c[stage - 1], ch))
            cells += [InferCell(genotype, ch) for _ in range(CELLS_PER_STAGE)]
        self.cells = nn.ModuleList(cells)
        head = Head(c[2], num_classes)
        self.lastact, self.global_pooling, self.classifier = (
            head.lastact, head.global_pooling, head.classifier)

    def forward(self, x):
        feature = self.stem(x)
        for cell in self.cells:
            feature = cell(feature)
        return classify(self, feature)


def nb201(arch: str, shape: tuple[int, ...], num_classes: int, width: float) -> nn.Module:
    """Zoo factory for `nb201:<arch>`."""
    return TinyNetwork(parse_arch(arch), shape[0], num_classes, width)
