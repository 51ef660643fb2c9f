"""The model zoo: the Shredder paper's benchmarks, ResNet-18/50, MobileNetV2, EfficientNet-B0,
ViT-B/16, ViT-Tiny, a BERT-base encoder, the NAS-Bench-201 family (`nb201:<genotype>`) and
HW-NAS-Bench's FBNet space (`fbnet:<blocks>`, `fbnet-cifar:<blocks>`).

Architectures only; weights come from local training (privacy evaluation) or a user's
state_dict. torchvision cannot be imported beside the CPU torch build, so the models are
defined in `partitioner.models`, following torchvision's layer layout where one exists. This
module names them without importing torch (a factory is imported when a model is built), so
that `sim validate` checks a model name in milliseconds.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

from core.errors import UserError
from core.registry import Registry
from partitioner import sources
from partitioner.models.fbnet_arch import parse_ops
from partitioner.models.nb201_arch import parse_arch

if TYPE_CHECKING:
    from torch import nn


@dataclass(frozen=True)
class ZooEntry:
    factory_ref: str                # "module:function", imported when the model is built
    input_shape: tuple[int, ...]    # the paper's input shape, without batch dimension
    num_classes: int
    description: str
    input_kind: str = "real"        # "token_ids": integer token ids given as numbers (BERT)

    @property
    def factory(self) -> Callable[..., nn.Module]:
        module, _, function = self.factory_ref.partition(":")
        return getattr(importlib.import_module(module), function)


MODELS: Registry[ZooEntry] = Registry("model")
# Parameterised families, named `family:argument` (e.g. `nb201:<genotype>`); the factory takes
# the argument first: factory(argument, input_shape, num_classes, width).
FAMILIES: Registry[ZooEntry] = Registry("model family")


def register(name: str, factory_ref: str, input_shape: tuple[int, ...], num_classes: int,
             description: str, input_kind: str = "real") -> None:
    MODELS.register(name)(ZooEntry(factory_ref, input_shape, num_classes, description,
                                   input_kind))


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


_CLASSIC = "partitioner.models.classic"
register("lenet5", f"{_CLASSIC}:lenet5", (1, 28, 28), 10,
         "LeNet-5 (C5 as a 5x5 conv to 120 maps), digits/MNIST")
register("cifar10", f"{_CLASSIC}:cifar10_net", (3, 32, 32), 10,
         "VGG-style CIFAR-10 network (5 conv, 2 fc)")
register("svhn", f"{_CLASSIC}:svhn_net", (3, 32, 32), 10, "SVHN network (3 conv 5x5 blocks, 2 fc)")
register("alexnet", f"{_CLASSIC}:alexnet", (3, 224, 224), 1000, "AlexNet (torchvision layout)")
register("vgg16", f"{_CLASSIC}:vgg16", (3, 224, 224), 1000,
         "VGG-16 (configuration D, torchvision layout)")
register("mlp5", f"{_CLASSIC}:mlp5", (2000,), 20,
         "5-layer MLP for a 20 Newsgroups bag-of-words input")
register("resnet18", f"{_CLASSIC}:resnet18", (3, 224, 224), 1000,
         "ResNet-18 (torchvision layout, skip connections)")
register("resnet50", "partitioner.models.cnn:resnet50", (3, 224, 224), 1000,
         "ResNet-50 v1.5 (torchvision layout)")
register("mobilenet_v1", "partitioner.models.cnn:mobilenet_v1", (3, 224, 224), 1000,
         "MobileNet v1 1.0 (TensorFlow's reference layout, ReLU6)")
register("mobilenetv2", "partitioner.models.cnn:mobilenetv2", (3, 224, 224), 1000,
         "MobileNetV2 (torchvision layout)")
register("efficientnet_b0", "partitioner.models.cnn:efficientnet_b0", (3, 224, 224), 1000,
         "EfficientNet-B0 (torchvision layout)")
register("vit_b16", "partitioner.models.transformers:vit_b16", (3, 224, 224), 1000,
         "ViT-B/16 (torchvision layout)")
register("vit_tiny", "partitioner.models.transformers:vit_tiny", (3, 224, 224), 1000,
         "ViT-Tiny/16 (DeiT-Ti size)")
register("bert_base", "partitioner.models.transformers:bert_base", (128,), 2,
         "BERT-base encoder + classifier; input: [sequence length] token ids",
         input_kind="token_ids")

FAMILIES.register("nb201")(ZooEntry(
    "partitioner.models.nb201:nb201", (3, 32, 32), 10,
    "NAS-Bench-201 cell network, nb201:<genotype> (C=16, N=5, CIFAR-size input)"))
FAMILIES.register("fbnet")(ZooEntry(
    "partitioner.models.fbnet:fbnet", (3, 224, 224), 1000,
    "FBNet search-space network, fbnet:<22 block indices 0-8> (HW-NAS-Bench, ImageNet setting)"))
FAMILIES.register("fbnet-cifar")(ZooEntry(
    "partitioner.models.fbnet:fbnet_cifar", (3, 32, 32), 100,
    "FBNet search-space network, fbnet-cifar:<22 block indices 0-8> (HW-NAS-Bench, CIFAR "
    "setting)"))
FAMILY_CHECKS: dict[str, Callable[[str], object]] = {"nb201": parse_arch, "fbnet": parse_ops,
                                                     "fbnet-cifar": parse_ops}
