"""Change one value at a dotted path in nested config/props (shared by config and policy tests)."""

from __future__ import annotations

from typing import Any

DELETE = object()
"""A value that removes the key (or list item) at the path instead of setting it."""


def set_at(node: Any, parts: list[str], value: Any) -> None:
    """Set `value` at `parts` below `node` in place (list steps are indexes); `DELETE` removes it."""
    *parents, last = parts
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    key: Any = int(last) if isinstance(node, list) else last
    if value is DELETE:
        del node[key]
    else:
        node[key] = value
