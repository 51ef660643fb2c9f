"""The model zoo: the Shredder paper's benchmarks, ResNet-18/50, MobileNetV2, EfficientNet-B0,
ViT-B/16, ViT-Tiny, a BERT-base encoder and the NAS-Bench-201 family (`nb201:<genotype>`).

Architectures only; weights come from local training (privacy evaluation) or a user's
state_dict. torchvision cannot be imported beside the CPU torch build, so the models are
defined here, following torchvision's layer layout where one exists.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from torch import nn

from core.errors import UserError
from core.registry import Registry
from partitioner import sources
from partitioner.models import cnn, nb201, transformers
from partitioner.models.cnn import projection_shortcut


@dataclass(frozen=True)
class ZooEntry:
    factory: Callable[..., nn.Module]
    input_shape: tuple[int, ...]    # the paper's input shape, without batch dimension
    num_classes: int
    description: str
    input_kind: str = "real"        # "token_ids": integer token ids given as numbers (BERT)


MODELS: Registry[ZooEntry] = Registry("model")
# Parameterised families, named `family:argument` (e.g. `nb201:<genotype>`); the factory takes
# the argument first: factory(argument, input_shape, num_classes, width).
FAMILIES: Registry[ZooEntry] = Registry("model family")


def register(name: str, input_shape: tuple[int, ...], num_classes: int, description: str,
             input_kind: str = "real"):
    def deco(factory: Callable[..., nn.Module]) -> Callable[..., nn.Module]:
        MODELS.register(name)(ZooEntry(factory, input_shape, num_classes, description,
                                       input_kind))
        return factory
    return deco


def split_family(name: str) -> tuple[str, str] | None:
    """(family, argument) for a `family:argument` name of a registered family, else None."""
    family, sep, argument = name.partition(":")
    return (family, argument) if sep and family in FAMILIES else None


def entry(name: str) -> ZooEntry:
    """The zoo entry of a plain name or a family member; unknown names list what is known."""
    member = split_family(name)
    if member is None:
        if name in MODELS or ":" not in name:
            return MODELS.get(name)
        raise UserError(f"unknown model {name!r}: model families are "
                        f"{', '.join(f'{f}:<argument>' for f in FAMILIES.names())}; a Python "
                        "file is path/file.py:factory")
    return FAMILIES.get(member[0])


def check_model_name(name: str) -> None:
    """Raise UnknownNameError or UserError unless `name` is a model source that exists: a zoo
    name, a family member with a valid argument, a Python factory or an ONNX file."""
    if sources.parse_file_source(name) is not None:
        sources.check_file_source(name)
        return
    member = split_family(name)
    if member is None:
        entry(name)
    elif member[0] in FAMILY_CHECKS:
        FAMILY_CHECKS[member[0]](member[1])


def defaults(name: str) -> tuple[tuple[int, ...] | None, int | None]:
    """(input shape, classes) of a model source when nothing overrides them (None: unknown)."""
    if sources.parse_file_source(name) is not None:
        return sources.file_defaults(name)
    e = entry(name)
    return e.input_shape, e.num_classes


def input_kind(name: str) -> str:
    """"token_ids" for models that read token ids, else "real" (files: assumed real)."""
    if sources.parse_file_source(name) is not None:
        return "real"
    return entry(name).input_kind


def default_input_shape(name: str) -> tuple[int, ...]:
    shape, _ = defaults(name)
    if shape is None:
        raise UserError(f"model {name!r} declares no input shape: set workload.input_shape "
                        "(or --input-shape), or INPUT_SHAPE = (C, H, W) in the file")
    return tuple(shape)


def build_model(name: str, input_shape: tuple[int, ...] | None = None,
                num_classes: int | None = None, width: float = 1.0) -> nn.Module:
    """Build any model source in eval mode. `width` scales a zoo model's channel/feature
    counts (privacy runs); a file's model is built as the file defines it."""
    if sources.parse_file_source(name) is not None:
        shape = tuple(input_shape) if input_shape is not None else default_input_shape(name)
        return sources.build_file_model(name, shape, num_classes).eval()
    zoo_entry = entry(name)
    shape = tuple(input_shape) if input_shape is not None else zoo_entry.input_shape
    if len(shape) != len(zoo_entry.input_shape):
        raise UserError(f"workload.input_shape: model {name!r} takes a "
                        f"{len(zoo_entry.input_shape)}-d input shape like "
                        f"{list(zoo_entry.input_shape)}, got {list(shape)}")
    classes = num_classes or zoo_entry.num_classes
    member = split_family(name)
    if member is None:
        model = zoo_entry.factory(shape, classes, width)
    else:
        model = zoo_entry.factory(member[1], shape, classes, width)
    return model.eval()


def _w(channels: int, width: float) -> int:
    return max(1, int(round(channels * width)))


def _conv_out(size: int, kernel: int, stride: int = 1, padding: int = 0) -> int:
    return (size + 2 * padding - kernel) // stride + 1


@register("lenet5", (1, 28, 28), 10, "LeNet-5 (C5 as a 5x5 conv to 120 maps), digits/MNIST")
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


@register("cifar10", (3, 32, 32), 10, "VGG-style CIFAR-10 network (5 conv, 2 fc)")
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


@register("svhn", (3, 32, 32), 10, "SVHN network (3 conv 5x5 blocks, 2 fc)")
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


@register("alexnet", (3, 224, 224), 1000, "AlexNet (torchvision layout)")
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


@register("vgg16", (3, 224, 224), 1000, "VGG-16 (configuration D, torchvision layout)")
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


@register("mlp5", (2000,), 20, "5-layer MLP for a 20 Newsgroups bag-of-words input")
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


@register("resnet18", (3, 224, 224), 1000, "ResNet-18 (torchvision layout, skip connections)")
def resnet18(shape, num_classes, width):
    return ResNet18(shape[0], num_classes, width)


register("resnet50", (3, 224, 224), 1000, "ResNet-50 v1.5 (torchvision layout)")(
    lambda shape, num_classes, width: cnn.ResNet50(shape[0], num_classes, width))
register("mobilenetv2", (3, 224, 224), 1000, "MobileNetV2 (torchvision layout)")(
    lambda shape, num_classes, width: cnn.MobileNetV2(shape[0], num_classes, width))
register("efficientnet_b0", (3, 224, 224), 1000, "EfficientNet-B0 (torchvision layout)")(
    lambda shape, num_classes, width: cnn.EfficientNetB0(shape[0], num_classes, width))
register("vit_b16", (3, 224, 224), 1000, "ViT-B/16 (torchvision layout)")(transformers.vit_b16)
register("vit_tiny", (3, 224, 224), 1000, "ViT-Tiny/16 (DeiT-Ti size)")(transformers.vit_tiny)
register("bert_base", (128,), 2, "BERT-base encoder + classifier; input: [sequence length] "
         "token ids", input_kind="token_ids")(transformers.bert_base)

FAMILIES.register("nb201")(ZooEntry(
    nb201.nb201, (3, 32, 32), 10,
    "NAS-Bench-201 cell network, nb201:<genotype> (C=16, N=5, CIFAR-size input)"))
FAMILY_CHECKS: dict[str, Callable[[str], object]] = {"nb201": nb201.parse_arch}
