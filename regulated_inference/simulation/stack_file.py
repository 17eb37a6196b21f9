"""Read `Pulumi.yaml` / `Pulumi.<stack>.yaml` strictly, the way the Pulumi CLI reads them.

The CLI parses stack files with Go's `gopkg.in/yaml.v3` (pulumi/pulumi
`sdk/go/common/encoding/marshal.go`), a YAML 1.2-style parser; PyYAML is YAML
1.1. Where the two disagree, the offline preview would preview a different
config than `pulumi up` deploys, so such values are refused here, with the file
and the position, instead of being guessed:

- plain `yes/no/on/off/y/n` (YAML 1.1 booleans, yaml.v3 strings);
- dates and timestamps (YAML 1.1 dates; yaml.v3 hands them to Pulumi as text);
- numbers YAML 1.1 and 1.2 read differently or a reader would misread:
  sexagesimal `1:30`, leading-zero / `0o` / `0x` / `0b` integers, `_` in
  numbers, exponents without a fraction (`1e3`), `.nan` and `.inf` (JSON, the
  form config reaches the program in, has no NaN or infinity: the CLI fails);
- duplicate keys (yaml.v3: "mapping key ... already defined");
- aliases (`*anchor`): a stack file the CLI writes never has one, and nested
  aliases expand exponentially when the config is serialised ("billion laughs");
- explicit tags (`!!python/...`, `!!binary`, `!!int` …), non-string keys;
- anything that is not UTF-8 (UTF-16/32, invalid bytes); a UTF-8 BOM is
  accepted, as both parsers accept it;
- a root that is not a mapping, `config:` that is not a mapping.

Everything else resolves as yaml.v3 resolves it (YAML 1.2 core schema):
`true/false` (any case form), `null`/`~`/empty, decimal integers, decimal
fractions. Every error is one line: `<file>:<line>:<column>: <problem>`.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode


class StackFileError(Exception):
    """A stack name or stack file the CLI would refuse (one line, names file and position)."""


_STR = "tag:yaml.org,2002:str"
_MERGE = "tag:yaml.org,2002:merge"
_DEFAULT_TAGS = {_STR, "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"}

_NULL = {"", "~", "null", "Null", "NULL"}
_BOOL = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
_INT = re.compile(r"^[-+]?(0|[1-9][0-9]*)$")
_FLOAT = re.compile(r"^[-+]?([0-9]+\.[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?$")

#: (pattern, why) for plain scalars the two parsers (or a reader) take differently.
_AMBIGUOUS: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        re.compile(r"^(y|Y|yes|Yes|YES|n|N|no|No|NO|on|On|ON|off|Off|OFF)$"),
        "is a boolean in YAML 1.1 but text for the Pulumi CLI (YAML 1.2): "
        "write true/false, or quote it for text",
    ),
    (
        re.compile(r"^\d{4}-\d{1,2}-\d{1,2}([Tt ].*)?$"),
        "is read as a date/timestamp: quote it",
    ),
    (
        re.compile(r"^[-+]?[0-9][0-9_]*(:[0-5]?[0-9])+(\.[0-9_]*)?$"),
        "is a base-60 number in YAML 1.1 but text for the Pulumi CLI: quote it",
    ),
    (
        re.compile(r"^[-+]?\.(nan|NaN|NAN|inf|Inf|INF)$|^[-+]?\.(inf|Inf|INF)$"),
        "is not a finite number (config reaches the program as JSON, which has no NaN or infinity)",
    ),
    (
        re.compile(r"^[-+]?(0[0-9]+|0[oO][0-7_]+|0[xX][0-9a-fA-F_]+|0[bB][01_]+)$"),
        "is an octal/hex/binary or leading-zero number, read differently by YAML 1.1 and 1.2: "
        "write it in decimal, or quote it for text",
    ),
    (
        re.compile(r"^[-+]?[0-9][0-9_]*_[0-9_]*(\.[0-9_]*)?([eE][-+]?[0-9]+)?$"),
        "is a number with '_' separators only some YAML parsers accept: remove them, or quote it",
    ),
    (
        re.compile(r"^[-+]?[0-9]+([eE][-+]?[0-9]+)$"),
        "is a number in YAML 1.2 but text in YAML 1.1: write it out in decimal, or quote it",
    ),
)


def _where(path: Path | str, node_or_mark: Any) -> str:
    mark = getattr(node_or_mark, "start_mark", node_or_mark)
    return f"{Path(path).name}:{mark.line + 1}:{mark.column + 1}"


def _decode(path: Path, data: bytes) -> str:
    if data[:4] in (b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff") or data[:2] in (
        b"\xff\xfe",
        b"\xfe\xff",
    ):
        raise StackFileError(
            f"{path.name}:1:1: the file is UTF-16/UTF-32 encoded; save it as UTF-8"
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = data[: exc.start].decode("utf-8", errors="replace")
        line = before.count("\n") + 1
        column = len(before) - (before.rfind("\n") + 1) + 1
        raise StackFileError(
            f"{path.name}:{line}:{column}: the file is not valid UTF-8 "
            f"(byte 0x{data[exc.start]:02x}); save it as UTF-8"
        ) from None
    text = text.removeprefix("\ufeff")
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        raise StackFileError(f"{path.name}:{line}:1: the file contains a NUL byte (not YAML text)")
    return text


class _PlainLoader(yaml.SafeLoader):
    """Composes nodes only; no implicit resolution (every plain scalar stays `str`-tagged),
    so an explicit tag can be told apart from an implicit one."""


_PlainLoader.yaml_implicit_resolvers = {}


def _scalar(path: Path, node: ScalarNode) -> Any:
    value = node.value
    if node.style is not None:  # quoted or block scalar: always text
        return value
    for pattern, why in _AMBIGUOUS:
        if pattern.match(value):
            raise StackFileError(f"{_where(path, node)}: {value!r} {why}")
    if value in _NULL:
        return None
    if value in _BOOL:
        return _BOOL[value]
    if _INT.match(value):
        return int(value)
    if _FLOAT.match(value):
        return float(value)
    return value


def _build(path: Path, node: Node, seen: set[int]) -> Any:
    if id(node) in seen:
        raise StackFileError(
            f"{_where(path, node)}: YAML aliases (*anchor) are not supported in stack files "
            "(the CLI never writes them; nested aliases expand exponentially): write the value out"
        )
    if node.tag not in _DEFAULT_TAGS:
        raise StackFileError(
            f"{_where(path, node)}: explicit YAML tag {node.tag!r} is not supported in stack files"
        )
    if isinstance(node, ScalarNode):
        return _scalar(path, node)
    seen.add(id(node))
    if isinstance(node, SequenceNode):
        return [_build(path, item, seen) for item in node.value]
    assert isinstance(node, MappingNode)
    out: dict[str, Any] = {}
    where_key: dict[str, Node] = {}
    for key_node, value_node in node.value:
        # `<<` (plain, or tagged !!merge) is a merge key in YAML 1.1: refused, not guessed.
        if key_node.tag == _MERGE or (
            isinstance(key_node, ScalarNode) and key_node.style is None and key_node.value == "<<"
        ):
            raise StackFileError(
                f"{_where(path, key_node)}: YAML merge keys (<<) are not supported"
            )
        if not isinstance(key_node, ScalarNode) or key_node.tag != _STR:
            raise StackFileError(f"{_where(path, key_node)}: mapping keys must be plain text")
        key = key_node.value
        if key in out:
            first = where_key[key].start_mark.line + 1
            raise StackFileError(
                f"{_where(path, key_node)}: mapping key {key!r} already defined at line {first}"
            )
        where_key[key] = key_node
        out[key] = _build(path, value_node, seen)
    return out


def read_yaml(path: Path) -> Any:
    """A YAML file's content, parsed strictly (see the module doc); StackFileError if it is bad."""
    return _read(Path(path))[1]


def _read(path: Path) -> tuple[Node | None, Any]:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise StackFileError(f"{path.name}: cannot read: {exc.strerror or exc}") from None
    text = _decode(path, data)
    try:
        node = yaml.compose(text, Loader=_PlainLoader)
        return node, (None if node is None else _build(path, node, set()))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = " ".join(str(exc.problem or exc.context or "invalid YAML").split())
        where = _where(path, mark) if mark is not None else path.name
        if "\t" in text and "'\\t'" in problem:
            problem += " (tabs cannot indent YAML: use spaces)"
        raise StackFileError(f"{where}: invalid YAML: {problem}") from None
    except yaml.YAMLError as exc:
        raise StackFileError(f"{path.name}: invalid YAML: {' '.join(str(exc).split())}") from None
    except RecursionError:
        raise StackFileError(f"{path.name}: invalid YAML: nested too deeply") from None


def read_stack_config(path: Path) -> dict[str, Any]:
    """The `config:` mapping of a stack file (empty if absent); StackFileError if malformed."""
    path = Path(path)
    node, doc = _read(path)
    if doc is None:
        return {}
    if not isinstance(doc, dict):
        raise StackFileError(
            f"{_where(path, node)}: the file must be a YAML mapping (with a `config:` key), "
            f"not a {type(doc).__name__}"
        )
    config = doc.get("config")
    if config is None:
        return {}
    if not isinstance(config, dict):
        value_node = next(v for k, v in node.value if k.value == "config")  # type: ignore[union-attr]
        raise StackFileError(
            f"{_where(path, value_node)}: `config:` must be a mapping of keys to values, "
            f"not a {type(config).__name__}"
        )
    return config


__all__ = ["StackFileError", "read_stack_config", "read_yaml"]
