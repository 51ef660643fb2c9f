"""ResNet-50, MobileNetV2 and EfficientNet-B0 in torchvision's layer layout (BSD-3-Clause), and
MobileNet v1 (1.0, 224) as TensorFlow's reference model builds it (torchvision has none).

Written from the papers and torchvision's published architecture tables, so that parameter
counts equal torchvision's (`num_params` on its model pages) and MACs its `GFLOPS` figures,
which the tests check. `width` scales every channel count (privacy runs train narrow copies).
"""
from __future__ import annotations

import torch
from torch import nn


def _w(channels: int, width: float, divisor: int = 1) -> int:
    scaled = max(1, int(round(channels * width)))
    return max(divisor, (scaled + divisor // 2) // divisor * divisor) if divisor > 1 else scaled


def conv_bn_act(cin: int, cout: int, kernel: int, stride: int = 1, groups: int = 1,
                act: type[nn.Module] | None = nn.ReLU) -> nn.Sequential:
    layers: list[nn.Module] = [nn.Conv2d(cin, cout, kernel, stride, (kernel - 1) // 2,
                                         groups=groups, bias=False), nn.BatchNorm2d(cout)]
    if act is not None:
        layers.append(act())
    return nn.Sequential(*layers)


# ----------------------------------------------------------------------------- ResNet-50
def projection_shortcut(cin: int, cout: int, stride: int) -> nn.Module | None:
    """A residual block's shortcut: a strided 1x1 conv and batch norm where the shape changes,
    else None (identity)."""
    if stride == 1 and cin == cout:
        return None
    return nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))


class Bottleneck(nn.Module):
    """ResNet v1.5 bottleneck (stride on the 3x3 conv, as torchvision)."""

    def __init__(self, cin: int, mid: int, stride: int) -> None:
        super().__init__()
        cout = 4 * mid
        self.conv1, self.bn1 = nn.Conv2d(cin, mid, 1, bias=False), nn.BatchNorm2d(mid)
        self.conv2 = nn.Conv2d(mid, mid, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(mid)
        self.conv3, self.bn3 = nn.Conv2d(mid, cout, 1, bias=False), nn.BatchNorm2d(cout)
        self.relu1, self.relu2, self.relu3 = nn.ReLU(), nn.ReLU(), nn.ReLU()
        self.downsample = projection_shortcut(cin, cout, stride)

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu1(self.bn1(self.conv1(x)))
        out = self.relu2(self.bn2(self.conv2(out)))
        return self.relu3(self.bn3(self.conv3(out)) + identity)


class ResNet50(nn.Module):
    def __init__(self, cin: int, num_classes: int, width: float) -> None:
        super().__init__()
        stem = _w(64, width)
        self.conv1 = nn.Conv2d(cin, stem, 7, 2, 3, bias=False)
        self.bn1, self.relu = nn.BatchNorm2d(stem), nn.ReLU()
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        blocks, prev = [], stem
        for stage, (mid, count) in enumerate(((64, 3), (128, 4), (256, 6), (512, 3))):
            mid = _w(mid, width)
            for i in range(count):
                blocks.append(Bottleneck(prev, mid, 2 if stage and i == 0 else 1))
                prev = 4 * mid
        self.layers = nn.Sequential(*blocks)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(prev, num_classes)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        return self.fc(torch.flatten(self.avgpool(self.layers(x)), 1))


# ----------------------------------------------------------------------------- MobileNetV2
class InvertedResidual(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int, expand: int) -> None:
        super().__init__()
        hidden = cin * expand
        layers: list[nn.Module] = []
        if expand != 1:
            layers.append(conv_bn_act(cin, hidden, 1, act=nn.ReLU6))
        layers += [conv_bn_act(hidden, hidden, 3, stride, groups=hidden, act=nn.ReLU6),
                   nn.Conv2d(hidden, cout, 1, bias=False), nn.BatchNorm2d(cout)]
        self.conv = nn.Sequential(*layers)
        self.use_res_connect = stride == 1 and cin == cout

    def forward(self, x):
        return x + self.conv(x) if self.use_res_connect else self.conv(x)


_MBV2 = ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1),
         (6, 160, 3, 2), (6, 320, 1, 1))      # expansion t, channels c, repeats n, stride s


class MobileNetV2(nn.Module):
    def __init__(self, cin: int, num_classes: int, width: float) -> None:
        super().__init__()
        prev = _w(32, width, 8)
        features: list[nn.Module] = [conv_bn_act(cin, prev, 3, 2, act=nn.ReLU6)]
        for t, c, n, s in _MBV2:
            out = _w(c, width, 8)
            for i in range(n):
                features.append(InvertedResidual(prev, out, s if i == 0 else 1, t))
                prev = out
        last = _w(1280, max(1.0, width), 8)
        features.append(conv_bn_act(prev, last, 1, act=nn.ReLU6))
        self.features = nn.Sequential(*features)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Sequential(nn.Dropout(0.2), nn.Linear(last, num_classes))

    def forward(self, x):
        return self.classifier(torch.flatten(self.avgpool(self.features(x)), 1))


# ----------------------------------------------------------------------------- MobileNet v1
# (stride, output channels) of the 13 depthwise-separable blocks (Howard et al. 2017, Table 1;
# the last block's stride is 1, as in TensorFlow's model, which the paper's table misprints)
_MBV1 = ((1, 64), (2, 128), (1, 128), (2, 256), (1, 256), (2, 512), *((1, 512),) * 5,
         (2, 1024), (1, 1024))


class MobileNetV1(nn.Module):
    """A 3x3 stride-2 conv to 32 channels, then per block a 3x3 depthwise conv and a 1x1 conv,
    each with batch norm and ReLU6 (TensorFlow's activation); global pool; classifier."""

    def __init__(self, cin: int, num_classes: int, width: float) -> None:
        super().__init__()
        prev = _w(32, width, 8)
        features: list[nn.Module] = [conv_bn_act(cin, prev, 3, 2, act=nn.ReLU6)]
        for stride, c in _MBV1:
            out = _w(c, width, 8)
            features += [conv_bn_act(prev, prev, 3, stride, groups=prev, act=nn.ReLU6),
                         conv_bn_act(prev, out, 1, act=nn.ReLU6)]
            prev = out
        self.features = nn.Sequential(*features)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(prev, num_classes)

    def forward(self, x):
        return self.classifier(torch.flatten(self.avgpool(self.features(x)), 1))


# ----------------------------------------------------------------------------- EfficientNet-B0
class SqueezeExcitation(nn.Module):
    def __init__(self, channels: int, squeeze: int) -> None:
        super().__init__()
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc1, self.fc2 = nn.Conv2d(channels, squeeze, 1), nn.Conv2d(squeeze, channels, 1)
        self.activation, self.scale_activation = nn.SiLU(), nn.Sigmoid()

    def forward(self, x):
        scale = self.scale_activation(self.fc2(self.activation(self.fc1(self.avgpool(x)))))
        return scale * x


class MBConv(nn.Module):
    def __init__(self, cin: int, cout: int, kernel: int, stride: int, expand: int) -> None:
        super().__init__()
        hidden = cin * expand
        layers: list[nn.Module] = []
        if expand != 1:
            layers.append(conv_bn_act(cin, hidden, 1, act=nn.SiLU))
        layers += [conv_bn_act(hidden, hidden, kernel, stride, groups=hidden, act=nn.SiLU),
                   SqueezeExcitation(hidden, max(1, cin // 4)),
                   conv_bn_act(hidden, cout, 1, act=None)]
        self.block = nn.Sequential(*layers)
        # Stochastic depth is the identity at inference, so it is left out.
        self.use_res_connect = stride == 1 and cin == cout

    def forward(self, x):
        return x + self.block(x) if self.use_res_connect else self.block(x)


_EFFNET_B0 = ((1, 3, 1, 16, 1), (6, 3, 2, 24, 2), (6, 5, 2, 40, 2), (6, 3, 2, 80, 3),
              (6, 5, 1, 112, 3), (6, 5, 2, 192, 4), (6, 3, 1, 320, 1))  # t, k, s, c, n


class EfficientNetB0(nn.Module):
    def __init__(self, cin: int, num_classes: int, width: float) -> None:
        super().__init__()
        prev = _w(32, width, 8)
        features: list[nn.Module] = [conv_bn_act(cin, prev, 3, 2, act=nn.SiLU)]
        for t, k, s, c, n in _EFFNET_B0:
            out = _w(c, width, 8)
            features.append(nn.Sequential(*(MBConv(prev if i == 0 else out, out, k,
                                                   s if i == 0 else 1, t) for i in range(n))))
            prev = out
        last = 4 * prev
        features.append(conv_bn_act(prev, last, 1, act=nn.SiLU))
        self.features = nn.Sequential(*features)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Sequential(nn.Dropout(0.2), nn.Linear(last, num_classes))

    def forward(self, x):
        return self.classifier(torch.flatten(self.avgpool(self.features(x)), 1))


# ----------------------------------------------------------------------------- zoo factories
def resnet50(shape: tuple[int, ...], num_classes: int, width: float) -> nn.Module:
    return ResNet50(shape[0], num_classes, width)


def mobilenet_v1(shape: tuple[int, ...], num_classes: int, width: float) -> nn.Module:
    return MobileNetV1(shape[0], num_classes, width)


def mobilenetv2(shape: tuple[int, ...], num_classes: int, width: float) -> nn.Module:
    return MobileNetV2(shape[0], num_classes, width)


def efficientnet_b0(shape: tuple[int, ...], num_classes: int, width: float) -> nn.Module:
    return EfficientNetB0(shape[0], num_classes, width)
