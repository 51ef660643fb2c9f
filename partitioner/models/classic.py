"""The Shredder paper's benchmark networks (LeNet-5, CIFAR-10, SVHN, AlexNet, VGG-16, a
5-layer MLP) and ResNet-18, in torchvision's layer layout where one exists.

Each factory takes (input shape, classes, width); `width` scales every channel and feature count
(privacy runs train narrow copies). Registered by name in `partitioner.zoo`.
"""
from __future__ import annotations

from torch import nn

from partitioner.models.cnn import projection_shortcut


def _w(channels: int, width: float) -> int:
    return max(1, int(round(channels * width)))


def _conv_out(size: int, kernel: int, stride: int = 1, padding: int = 0) -> int:
    return (size + 2 * padding - kernel) // stride + 1


def lenet5(shape, num_classes, width):
    c, h, w = shape
    c1, c2, c3 = _w(6, width), _w(16, width), _w(120, width)
    # C5 is a 5x5 conv: on a 28x28 input it yields 120x1x1, the activation Shredder's v2 code cuts.
    h2, w2 = (_conv_out(h // 2, 5)) // 2, (_conv_out(w // 2, 5)) // 2
    return nn.Sequential(
        nn.Conv2d(c, c1, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(c1, c2, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(c2, c3, (h2, w2)), nn.ReLU(), nn.Flatten(),
        nn.Linear(c3, _w(84, width)), nn.ReLU(), nn.Linear(_w(84, width), num_classes),
    )


def cifar10_net(shape, num_classes, width):
    c, h, w = shape
    a, b, d = _w(32, width), _w(64, width), _w(128, width)
    return nn.Sequential(
        nn.Conv2d(c, a, 3, padding=1), nn.ReLU(), nn.Conv2d(a, a, 3, padding=1), nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(a, b, 3, padding=1), nn.ReLU(), nn.Conv2d(b, b, 3, padding=1), nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(b, d, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
        nn.Linear(d * (h // 8) * (w // 8), _w(256, width)), nn.ReLU(),
        nn.Linear(_w(256, width), num_classes),
    )


def svhn_net(shape, num_classes, width):
    c, h, w = shape
    a, b, d = _w(32, width), _w(64, width), _w(128, width)
    return nn.Sequential(
        nn.Conv2d(c, a, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(a, b, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(b, d, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
        nn.Linear(d * (h // 8) * (w // 8), _w(512, width)), nn.ReLU(),
        nn.Linear(_w(512, width), num_classes),
    )


def alexnet(shape, num_classes, width):
    c = shape[0]
    k = [_w(n, width) for n in (64, 192, 384, 256, 256)]
    fc = _w(4096, width)
    return nn.Sequential(
        nn.Conv2d(c, k[0], 11, stride=4, padding=2), nn.ReLU(), nn.MaxPool2d(3, 2),
        nn.Conv2d(k[0], k[1], 5, padding=2), nn.ReLU(), nn.MaxPool2d(3, 2),
        nn.Conv2d(k[1], k[2], 3, padding=1), nn.ReLU(),
        nn.Conv2d(k[2], k[3], 3, padding=1), nn.ReLU(),
        nn.Conv2d(k[3], k[4], 3, padding=1), nn.ReLU(), nn.MaxPool2d(3, 2),
        nn.AdaptiveAvgPool2d((6, 6)), nn.Flatten(),
        nn.Dropout(), nn.Linear(k[4] * 36, fc), nn.ReLU(),
        nn.Dropout(), nn.Linear(fc, fc), nn.ReLU(), nn.Linear(fc, num_classes),
    )


_VGG16_CFG = (64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M",
              512, 512, 512, "M")


def vgg16(shape, num_classes, width):
    layers: list[nn.Module] = []
    c = shape[0]
    for v in _VGG16_CFG:
        if v == "M":
            layers.append(nn.MaxPool2d(2, 2))
        else:
            out = _w(v, width)
            layers += [nn.Conv2d(c, out, 3, padding=1), nn.ReLU()]
            c = out
    fc = _w(4096, width)
    layers += [nn.AdaptiveAvgPool2d((7, 7)), nn.Flatten(),
               nn.Linear(c * 49, fc), nn.ReLU(), nn.Dropout(),
               nn.Linear(fc, fc), nn.ReLU(), nn.Dropout(), nn.Linear(fc, num_classes)]
    return nn.Sequential(*layers)


def mlp5(shape, num_classes, width):
    dims = [shape[0]] + [_w(n, width) for n in (512, 256, 128, 64)]
    layers: list[nn.Module] = []
    for a, b in zip(dims, dims[1:]):
        layers += [nn.Linear(a, b), nn.ReLU()]
    layers.append(nn.Linear(dims[-1], num_classes))
    return nn.Sequential(*layers)


class BasicBlock(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.relu1 = nn.ReLU()
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.relu2 = nn.ReLU()
        self.downsample = projection_shortcut(cin, cout, stride)

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu1(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu2(out + identity)


class ResNet18(nn.Module):
    def __init__(self, cin: int, num_classes: int, width: float) -> None:
        super().__init__()
        c = [_w(n, width) for n in (64, 128, 256, 512)]
        self.conv1 = nn.Conv2d(cin, c[0], 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(c[0])
        self.relu = nn.ReLU()
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        blocks, prev = [], c[0]
        for i, ch in enumerate(c):
            stride = 1 if i == 0 else 2
            blocks += [BasicBlock(prev, ch, stride), BasicBlock(ch, ch, 1)]
            prev = ch
        self.layers = nn.Sequential(*blocks)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.flatten = nn.Flatten()
        self.fc = nn.Linear(prev, num_classes)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layers(x)
        return self.fc(self.flatten(self.avgpool(x)))


def resnet18(shape, num_classes, width):
    return ResNet18(shape[0], num_classes, width)
