"""A small, faithful simulation of how `pulumi config set [--path] [--type T] KEY VALUE` stores a value.

Source (pulumi/pulumi, read at commit 1b5949891b3c):
- pkg/cmd/pulumi/config/config.go, `configSetCmd.Run`: without --secret the value is
  `config.NewTypedValue(value, t)` with t from `--type` (string/int/bool/float) or unknown;
  help text: "When setting the config for a path, "true" and "false" are treated as boolean
  values, and integers are treated as numbers. All other values are treated as strings. Top
  level entries are always treated as strings."
- sdk/go/common/resource/config/map.go, `Map.Set`: with --path and more than one path segment
  (or an explicit type) the value goes through `coerceObject`; a one-segment path is stored as is.
- sdk/go/common/resource/config/value.go, `coerce`: "false"/"true" → bool; a string longer than
  one character starting with "0" stays text; else `strconv.ParseInt(v, 10, 64)` (sign allowed)
  or ParseUint → integer; everything else stays text. `unmarshalObject` for --type: Atoi /
  ParseBool / ParseFloat.
- Intermediate containers are created as a list when the next segment is an index, else a map
  (`newContainer`), and a list index may be at most the list's length (append).
"""

from __future__ import annotations

import re
from typing import Any

_SEGMENT = re.compile(r'\[(\d+)\]|\["((?:[^"\\]|\\.)*)"\]|\.?([^.\[\]]+)')
_GO_INT = re.compile(r"^[+-]?[0-9]+$")


def parse_path(path: str) -> list[str | int]:
    """`models[0].kubernetes.resources.cpuRequest` → ['models', 0, 'kubernetes', ...]."""
    out: list[str | int] = []
    pos = 0
    while pos < len(path):
        m = _SEGMENT.match(path, pos)
        if not m or m.end() == pos:
            raise ValueError(f"invalid property path {path!r}")
        if m.group(1) is not None:
            out.append(int(m.group(1)))
        elif m.group(2) is not None:
            out.append(m.group(2))
        else:
            out.append(m.group(3))
        pos = m.end()
    return out


def coerce(value: str) -> Any:
    """value.go `coerce`: what an untyped --path value is stored as."""
    if value == "false":
        return False
    if value == "true":
        return True
    if len(value) > 1 and value[0] == "0":
        return value
    if _GO_INT.match(value) and -(2**63) <= int(value) < 2**64:
        return int(value)
    return value


def typed(value: str, type_: str) -> Any:
    if type_ == "string":
        return value
    if type_ == "int":
        return int(value)
    if type_ == "bool":
        return value.lower() in ("1", "t", "true")
    if type_ == "float":
        return float(value)
    raise ValueError(type_)


def config_set(
    config: dict[str, Any],
    key: str,
    value: str,
    *,
    path: bool = False,
    type_: str | None = None,
    project: str = "regulated-inference",
) -> None:
    """Apply `pulumi config set` to a decoded stack config (keys namespaced like the CLI's)."""
    ns, sep, name = key.partition(":")
    if not sep:
        ns, name = project, key
    if not path:
        config[f"{ns}:{name}"] = typed(value, type_) if type_ else value
        return
    segments = parse_path(name)
    top = f"{ns}:{segments[0]}"
    if len(segments) == 1:
        config[top] = typed(value, type_) if type_ else value
        return
    stored = typed(value, type_) if type_ else coerce(value)
    if top not in config or not isinstance(config[top], (dict, list)):
        config[top] = [] if isinstance(segments[1], int) else {}
    node = config[top]
    for here, nxt in zip(segments[1:-1], segments[2:], strict=True):
        child = node[here] if _has(node, here) else None
        if not isinstance(child, (dict, list)):
            child = [] if isinstance(nxt, int) else {}
            _put(node, here, child)
        node = child
    _put(node, segments[-1], stored)


def _has(node: Any, seg: str | int) -> bool:
    if isinstance(node, list):
        return isinstance(seg, int) and seg < len(node)
    return seg in node


def _put(node: Any, seg: str | int, value: Any) -> None:
    if isinstance(node, list):
        if not isinstance(seg, int) or seg > len(node):
            raise ValueError(f"index {seg} out of range")
        if seg == len(node):
            node.append(value)
        else:
            node[seg] = value
    else:
        node[str(seg)] = value
