"""How an invalid stack config is reported: one message, key path, value, rule."""

from __future__ import annotations

import json
from typing import Any

import pulumi
from pydantic import ValidationError


class ConfigError(pulumi.RunError):
    """Invalid stack config. Raised before any resource is declared.

    A `pulumi.RunError`, so the CLI prints the message without a traceback and
    `pulumi up` exits non-zero.
    """

    def __init__(self, key: str, value: Any, rule: str):
        self.key, self.value, self.rule = key, value, rule
        super().__init__(f"invalid stack config: {key} = {show(value)}: {rule}")


class RuleViolation(ValueError):
    """Raised inside a config model's validator to name the sub-key it is about.

    `path` is relative to the model that raises it, e.g. "instanceType" or
    "rollout.canaryPercent".
    """

    def __init__(self, path: str, value: Any, rule: str):
        self.path, self.value, self.rule = path, value, rule
        super().__init__(rule)


def show(value: Any) -> str:
    try:
        return json.dumps(value, default=str)
    except (TypeError, ValueError):
        return repr(value)


def _join(parts: list[str | int]) -> str:
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + part
    return out


def from_validation_error(namespace: str, err: ValidationError) -> ConfigError:
    """The first error of a pydantic ValidationError, as a ConfigError with a full key path."""
    first = err.errors(include_url=False)[0]
    loc: list[str | int] = [
        p
        for p in first["loc"]
        # validator wrappers and the hosting tag of a `models[i]` entry are no config keys
        if not (isinstance(p, str) and p.startswith(("function-", "hosting=")))
    ]
    value = first.get("input")
    rule = first["msg"]
    original = (first.get("ctx") or {}).get("error")
    if isinstance(original, RuleViolation):
        loc = loc + [p for p in original.path.replace("]", "").replace("[", ".").split(".") if p]
        loc = [int(p) if isinstance(p, str) and p.isdigit() else p for p in loc]
        value, rule = original.value, original.rule
    elif first["type"] == "extra_forbidden":
        rule = "unknown key (check the spelling against the configuration reference)"
    elif first["type"] == "missing":
        rule = "required key is missing"
        value = None
    else:
        rule = rule.removeprefix("Value error, ").removeprefix("Assertion failed, ")
    if not loc:
        return ConfigError(namespace, value, rule)
    head, rest = loc[0], loc[1:]
    if isinstance(head, str) and ":" in head:  # another namespace, e.g. aws:region
        key = head + ("." + _join(rest) if rest and not isinstance(rest[0], int) else _join(rest))
    else:
        key = f"{namespace}:{_join(loc)}"
    return ConfigError(key, value, rule)
