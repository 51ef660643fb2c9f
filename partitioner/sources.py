"""Model sources that are files: a user's Python factory or an ONNX file.

`workload.model` (and `sim profile MODEL`) names one of
- a zoo name (`resnet50`) or a family member (`nb201:<genotype>`): see `partitioner.zoo`;
- `path/to/file.py:factory`: the file is imported and `factory(input_shape, num_classes)` (or
  `factory()` when it takes no arguments) must return a `torch.nn.Module`; the module may set
  `INPUT_SHAPE = (3, 32, 32)` (and `NUM_CLASSES`) as defaults for a config that gives none;
- `path/to/model.onnx`: read with the `onnx` package and converted to a torch module
  (`partitioner.onnx_import`), so cost and privacy work as for any module.
Relative paths are relative to the working directory here; configs resolve them against the
config's folder before they get here. Every problem is a UserError naming the file and the fix.
"""
from __future__ import annotations

import hashlib
import importlib.util
import inspect
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:
    from torch import nn

from core.errors import UserError

_PY_SOURCE = re.compile(r"^(?P<path>.+\.py):(?P<factory>[A-Za-z_]\w*)$")
DEFAULT_NUM_CLASSES = 10


@dataclass(frozen=True)
class FileSource:
    kind: str                          # "python" or "onnx"
    path: Path
    factory: str | None = None         # python only


def parse_file_source(name: str) -> FileSource | None:
    """The file a model name refers to, or None for zoo names."""
    m = _PY_SOURCE.match(name)
    if m:
        return FileSource("python", Path(m["path"]), m["factory"])
    if name.endswith(".py"):
        raise UserError(f"model {name!r}: name the factory too, as {name}:make_model "
                        "(a function returning a torch.nn.Module)")
    if name.lower().endswith(".onnx"):
        return FileSource("onnx", Path(name))
    return None


def resolve_model_path(name: str, base: Path) -> str:
    """A file source's relative path made relative to `base` (a config's folder); zoo and
    family names and absolute paths unchanged."""
    try:
        source = parse_file_source(name)
    except UserError:
        return name                     # reported when the config is validated
    if source is None or source.path.is_absolute():
        return name
    suffix = f":{source.factory}" if source.factory else ""
    return f"{Path(base) / source.path}{suffix}"


def model_identity(name: str) -> str:
    """What a trained model's cache key should say about its architecture: the name, plus the
    file's content hash for a file source (editing the file retrains)."""
    source = parse_file_source(name)
    if source is None:
        return name
    digest = hashlib.sha256(_existing(source).read_bytes()).hexdigest()[:16]
    return f"{name}#sha256:{digest}"


def _existing(source: FileSource) -> Path:
    if not source.path.is_file():
        raise UserError(f"model file {str(source.path)!r} not found (a relative path in a "
                        "config is relative to the config's folder)")
    return source.path


def _import(path: Path) -> ModuleType:
    resolved = path.resolve()
    digest = hashlib.sha256(str(resolved).encode()).hexdigest()[:12]
    name = f"splitsim_user_model_{digest}"
    spec = importlib.util.spec_from_file_location(name, resolved)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module         # dataclasses and pickling look modules up by name
    try:
        spec.loader.exec_module(module)
    except Exception as exc:  # noqa: BLE001 - whatever the user's file raises is reported
        sys.modules.pop(name, None)
        raise UserError(f"model file {str(path)!r} failed to import: "
                        f"{type(exc).__name__}: {exc}") from None
    return module


def _factory(source: FileSource) -> tuple[ModuleType, Callable[..., object]]:
    module = _import(_existing(source))
    factory = getattr(module, source.factory, None)
    if not callable(factory):
        found = sorted(n for n, v in vars(module).items()
                       if callable(v) and not n.startswith("_") and
                       getattr(v, "__module__", None) == module.__name__)
        raise UserError(f"model file {str(source.path)!r} has no function {source.factory!r}; "
                        f"it defines: {', '.join(found) or 'nothing callable'}")
    return module, factory


def _takes_shape(factory: Callable[..., object]) -> bool:
    try:
        params = inspect.signature(factory).parameters.values()
    except (TypeError, ValueError):
        return True
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    required = [p for p in positional if p.default is p.empty]
    varargs = any(p.kind == p.VAR_POSITIONAL for p in params)
    return varargs or len(positional) >= 2 or bool(required)


def file_defaults(name: str) -> tuple[tuple[int, ...] | None, int | None]:
    """(input shape, classes) a file declares, each None when it declares none."""
    source = parse_file_source(name)
    if source.kind == "onnx":
        from partitioner.onnx_import import onnx_input_shape

        return onnx_input_shape(_existing(source)), None
    module, _ = _factory(source)
    shape = getattr(module, "INPUT_SHAPE", None)
    classes = getattr(module, "NUM_CLASSES", None)
    return (tuple(int(d) for d in shape) if shape is not None else None,
            int(classes) if classes is not None else None)


def check_file_source(name: str) -> None:
    """Raise UserError unless the file exists and offers what the name asks for."""
    source = parse_file_source(name)
    if source.kind == "onnx":
        from partitioner.onnx_import import load_onnx

        load_onnx(_existing(source))
    else:
        _factory(source)


def build_file_model(name: str, input_shape: tuple[int, ...], num_classes: int | None) -> nn.Module:
    source = parse_file_source(name)
    if source.kind == "onnx":
        from partitioner.onnx_import import onnx_module

        return onnx_module(_existing(source))
    from torch import nn               # not at the top: `sim validate` reads names only

    module, factory = _factory(source)
    classes = num_classes or getattr(module, "NUM_CLASSES", None) or DEFAULT_NUM_CLASSES
    try:
        model = factory(tuple(input_shape), classes) if _takes_shape(factory) else factory()
    except Exception as exc:  # noqa: BLE001 - the user's factory failed; show why
        raise UserError(f"{name}: the factory raised {type(exc).__name__}: {exc}") from None
    if not isinstance(model, nn.Module):
        raise UserError(f"{name}: the factory returned {type(model).__name__}, not a "
                        "torch.nn.Module; return the model instance (e.g. `return MyNet()`)")
    return model
