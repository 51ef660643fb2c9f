"""FBNet search-space networks as HW-NAS-Bench builds them (`fbnet:<ops>`, ImageNet setting;
`fbnet-cifar:<ops>`, its CIFAR setting).

Macro structure (HW-NAS-Bench, `hw_nas_bench_api/fbnet_models/model_infer.py`, `FBNet_Infer`,
MIT licence; FBNet v1's layout): a 3x3 stem conv, batch norm and ReLU to 16 channels; 22 blocks
in seven stages of 1, 4, 4, 4, 4, 4, 1 blocks at 16, 24, 32, 64, 112, 184, 352 channels, the
first block of a stage taking the stage's stride; a 1x1 conv, batch norm and ReLU head to 1984
channels (1504 in the CIFAR setting); global average pool; linear. Strides: the stem 2 and the
stages 1, 2, 2, 2, 1, 2, 1 (ImageNet); the stem 1 and the stages 1, 1, 2, 2, 1, 2, 1 (CIFAR).
Each block is one of nine candidates, named by their index in `<ops>` (22 digits 0-8, or 22
comma-separated names): an inverted residual `k{3,5}_e{1,3,6}` (1x1 expansion by e, batch norm,
ReLU; k x k depthwise conv with the block's stride, batch norm, ReLU; 1x1 projection, batch
norm; plus the input where the shape is kept), the same with grouped 1x1 convs in two groups
and a channel shuffle after the first (`k{3,5}_e1_g2`), or `skip` (the input, or a strided
1x1 conv, batch norm and ReLU where the shape changes). Written here from that structure, not
copied; the residual add is out of place (the same function). `width` scales every channel
count (privacy runs train narrower copies), kept even for the two-group blocks.
"""
from __future__ import annotations

from torch import nn

from partitioner.models.cnn import conv_bn_act
from partitioner.models.fbnet_arch import (SETTINGS, STAGE_BLOCKS, STAGE_CHANNELS,
                                          STEM_CHANNELS, parse_ops)

# conv_bn_act pads (k - 1) // 2, which for the odd kernels here (1, 3, 5) at stride 1 or 2 is
# HW-NAS-Bench's ceil((k - stride) / 2): the same shapes.


class ChannelShuffle(nn.Module):
    def __init__(self, groups: int) -> None:
        super().__init__()
        self.groups = groups

    def forward(self, x):
        n, c, h, w = x.shape
        return x.reshape(n, self.groups, c // self.groups, h, w).transpose(1, 2).reshape(
            n, c, h, w)


class InvertedResidual(nn.Module):
    def __init__(self, c_in: int, c_out: int, kernel: int, expansion: int, groups: int,
                 stride: int) -> None:
        super().__init__()
        mid = c_in * expansion
        shuffle = [ChannelShuffle(groups)] if groups > 1 else []
        self.body = nn.Sequential(conv_bn_act(c_in, mid, 1, groups=groups), *shuffle,
                                  conv_bn_act(mid, mid, kernel, stride, groups=mid),
                                  conv_bn_act(mid, c_out, 1, groups=groups, act=None))
        self.residual = c_in == c_out and stride == 1

    def forward(self, x):
        y = self.body(x)
        return y + x if self.residual else y


class Skip(nn.Module):
    def __init__(self, c_in: int, c_out: int, stride: int) -> None:
        super().__init__()
        self.body = (conv_bn_act(c_in, c_out, 1, stride)
                     if stride != 1 or c_in != c_out else None)

    def forward(self, x):
        return x if self.body is None else self.body(x)


def make_block(name: str, c_in: int, c_out: int, stride: int) -> nn.Module:
    if name == "skip":
        return Skip(c_in, c_out, stride)
    kernel, expansion = int(name[1]), int(name.split("_")[1][1:])
    return InvertedResidual(c_in, c_out, kernel, expansion, 2 if name.endswith("_g2") else 1,
                            stride)


def scaled(channels: int, width: float) -> int:
    return max(2, 2 * round(channels * width / 2))


class FBNet(nn.Module):
    def __init__(self, blocks: tuple[str, ...], setting: str, in_channels: int,
                 num_classes: int, width: float = 1.0) -> None:
        super().__init__()
        stem_stride, strides, head = SETTINGS[setting]
        head = scaled(head, width)
        self.stem = conv_bn_act(in_channels, scaled(STEM_CHANNELS, width), 3, stem_stride)
        layers, c_in, names = [], scaled(STEM_CHANNELS, width), iter(blocks)
        for n, c_out, stride in zip(STAGE_BLOCKS, (scaled(c, width) for c in STAGE_CHANNELS),
                                    strides):
            for i in range(n):
                layers.append(make_block(next(names), c_in, c_out, stride if i == 0 else 1))
                c_in = c_out
        self.blocks = nn.Sequential(*layers)
        self.head = conv_bn_act(c_in, head, 1)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(head, num_classes)

    def forward(self, x):
        return self.classifier(self.pool(self.head(self.blocks(self.stem(x)))).flatten(1))


def fbnet(ops: str, shape: tuple[int, ...], num_classes: int, width: float) -> nn.Module:
    """Zoo factory for `fbnet:<ops>` (ImageNet setting)."""
    return FBNet(parse_ops(ops), "imagenet", shape[0], num_classes, width)


def fbnet_cifar(ops: str, shape: tuple[int, ...], num_classes: int, width: float) -> nn.Module:
    """Zoo factory for `fbnet-cifar:<ops>` (CIFAR setting)."""
    return FBNet(parse_ops(ops), "cifar", shape[0], num_classes, width)
