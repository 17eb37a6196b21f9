"""The common shapes of a check, written once: one property judged, one required, one read.

Each is a generator a rule uses with `yield from`, so its findings (and "cannot verify until
apply" while a value is unknown during preview) are the rule's own; the messages stay the
rule's, passed in.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterator
from typing import Any

from .base import Finding, cannot_verify, get, has, is_unknown


def expect(
    props: Any,
    path: str,
    ok: bool | Callable[[Any], bool],
    problem: str | Callable[[Any], str],
    label: str | None = None,
) -> Iterator[Finding | str]:
    """The check of one property: "cannot verify" while it is unknown, else `problem` (a message,
    or a function of the value) unless the value is `ok` — the bool itself (`True` means "is
    True", not merely truthy) or a predicate. `label`: the path the finding names, when the
    value is read from something inside the resource (a container, a statement)."""
    value = get(props, path)
    if is_unknown(value):
        yield cannot_verify(label or path)
    elif not (value is ok if isinstance(ok, bool) else ok(value)):
        yield problem(value) if callable(problem) else problem


def required(props: Any, path: str, why: str) -> Iterator[str]:
    """`<path> is not set: <why>` unless the property is set (an unknown value counts as set)."""
    if not has(props, path):
        yield f"{path} is not set: {why}"


def known_value(
    props: Any, path: str, unset: Finding | str | None = None, urn: str | None = None
) -> Generator[Finding | str, None, Any]:
    """The value a check goes on with, used as `value = yield from known_value(...)`.

    None when the check cannot go on: the value is unknown (it yields "cannot verify"), or it
    is unset or empty and `unset` says what that means (it yields `unset`). Without `unset`, an
    unset value is returned as it is."""
    value = get(props, path)
    if is_unknown(value):
        yield cannot_verify(path, urn)
        return None
    if not value and unset is not None:
        yield unset
        return None
    return value
