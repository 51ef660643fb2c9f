"""Reading a user's YAML safely and strictly: `yaml.safe_load` semantics (no Python objects),
plus what a config needs and PyYAML does not check.

- Bytes are decoded as UTF-8 (a BOM is accepted); anything else is a clear error, not a
  UnicodeDecodeError.
- A key given twice in one mapping is an error (YAML keeps the last one silently).
- Aliases may repeat small pieces, but not explode: at most `MAX_ALIASES` alias uses, and the
  document may hold at most `MAX_NODES` values once aliases are expanded (a 1 KB "billion
  laughs" file would otherwise expand to gigabytes). Recursive aliases are refused.
- Nesting is bounded (`MAX_DEPTH`): no RecursionError further on.
- A file is at most `MAX_FILE_BYTES` (configs are a few KB; this keeps a mistaken path to a
  data file from being parsed as YAML for minutes).
- Integers too long to be a number (Python refuses more than 4,300 digits) are an error.
Every error is a `YamlError` whose message names the place (line and column when known).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, SequenceNode

MAX_FILE_BYTES = 1 << 20
MAX_ALIASES = 100
MAX_NODES = 100_000
MAX_DEPTH = 32


class YamlError(ValueError):
    """A document that cannot be taken as a config; str() is the reason."""


class YamlSyntaxError(YamlError):
    """Text that is not YAML at all (as opposed to YAML that is refused)."""


def _where(node: Node | None) -> str:
    mark = getattr(node, "start_mark", None)
    return f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that counts aliases and refuses duplicate keys."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.alias_uses = 0

    def compose_node(self, parent, index):                     # noqa: D102 (PyYAML API)
        if self.check_event(yaml.AliasEvent):
            self.alias_uses += 1
            if self.alias_uses > MAX_ALIASES:
                where = _where(self.peek_event())
                raise YamlError(f"more than {MAX_ALIASES} aliases (*name){where}; write the "
                                "values out")
        return super().compose_node(parent, index)

    def construct_mapping(self, node, deep=False):             # noqa: D102 (PyYAML API)
        if isinstance(node, MappingNode):
            seen: set = set()
            for key_node, _ in node.value:
                key = self.construct_object(key_node, deep=True)
                try:
                    duplicate = key in seen
                    seen.add(key)
                except TypeError:             # an unhashable key: PyYAML reports it itself
                    continue
                if duplicate:
                    raise YamlError(f"key {key!r} is given twice in one mapping"
                                    f"{_where(key_node)}; keep one")
        return super().construct_mapping(node, deep=deep)


def _check_graph(node: Node, depth: int, on_path: set[int], budget: list[int]) -> None:
    """Depth, recursion and expanded size of the composed node graph, before construction."""
    if depth > MAX_DEPTH:
        raise YamlError(f"nesting deeper than {MAX_DEPTH} levels{_where(node)}")
    budget[0] -= 1
    if budget[0] < 0:
        raise YamlError(f"more than {MAX_NODES} values once aliases are expanded; a config is "
                        "far smaller (aliases that repeat aliases multiply)")
    if not isinstance(node, (MappingNode, SequenceNode)):
        return
    if id(node) in on_path:
        raise YamlError(f"a recursive alias (a value that contains itself){_where(node)}")
    on_path.add(id(node))
    children = (node.value if isinstance(node, SequenceNode)
                else [n for pair in node.value for n in pair])
    for child in children:
        _check_graph(child, depth + 1, on_path, budget)
    on_path.discard(id(node))


def loads(text: str, what: str = "document") -> Any:
    """Parse YAML text (a file's or a `--set` value's) with the checks above."""
    loader = _StrictLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _check_graph(node, 0, set(), [MAX_NODES])
        return loader.construct_document(node)
    except YamlError:
        raise
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        raise YamlSyntaxError(f"{what} is not valid YAML{where}: "
                        f"{getattr(exc, 'problem', None) or exc}") from None
    except ValueError as exc:             # e.g. an integer of more than 4,300 digits
        raise YamlError(f"{what} holds a value YAML cannot represent here: {exc}") from None
    finally:
        loader.dispose()


def load_file(path: str | Path) -> Any:
    """Read, decode and parse one YAML file; a `YamlError` names the file and the reason."""
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise YamlError(f"{str(path)!r} is {size:,} bytes; a YAML config is at most "
                            f"{MAX_FILE_BYTES:,}")
        data = path.read_bytes()
    except OSError as exc:
        raise YamlError(f"{str(path)!r} cannot be read: {exc.strerror or exc}") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise YamlError(f"{str(path)!r} is not UTF-8 text (byte {exc.start}: "
                        f"{data[exc.start:exc.start + 1]!r}); save it as UTF-8") from None
    if "\x00" in text:
        raise YamlError(f"{str(path)!r} holds NUL bytes: it is not a YAML text file")
    try:
        return loads(text, repr(str(path)))
    except YamlError as exc:
        message = str(exc)
        raise type(exc)(message if message.startswith(repr(str(path)))
                        else f"{str(path)!r}: {message}") from None
