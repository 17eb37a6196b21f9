"""Fixtures for the policy pack: pure-rule helpers and one pack server per session."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest

from policies.rules.base import UNKNOWN, Finding, Rule, res
from policies.rules.stack_index import StackIndex
from regulated_inference.preview.analyzer import POLICIES_DIR, PolicyPackServer
from tests.config.mutation import DELETE, set_at

DEV_CONFIG = POLICIES_DIR / "config" / "dev.json"
PROD_CONFIG = POLICIES_DIR / "config" / "prod.json"


def findings(
    rule: Rule, type_: str, props: dict[str, Any], cfg: dict | None = None, **kw: Any
) -> list[Finding]:
    assert rule.applies_to(type_), f"{rule.name} does not apply to {type_}"
    return rule.evaluate(res(type_, props, **kw), cfg)


def violations(
    rule: Rule, type_: str, props: dict[str, Any], cfg: dict | None = None, **kw: Any
) -> list[str]:
    """Messages of the definite violations (not the cannot-verify ones)."""
    return [f.message for f in findings(rule, type_, props, cfg, **kw) if not f.unknown]


def unknowns(
    rule: Rule, type_: str, props: dict[str, Any], cfg: dict | None = None, **kw: Any
) -> list[str]:
    return [f.message for f in findings(rule, type_, props, cfg, **kw) if f.unknown]


def stack_findings(rule: Rule, resources: list, cfg: dict | None = None) -> list[Finding]:
    assert rule.kind == "stack"
    return rule.evaluate(StackIndex(resources), cfg)


def stack_violations(
    rule: Rule, resources: list, cfg: dict | None = None
) -> list[tuple[str | None, str]]:
    """(resource name or None, message) of the definite violations."""
    index = StackIndex(resources)
    names = {r.urn: r.name for r in resources}
    return [
        (names.get(f.urn) if f.urn else None, f.message)
        for f in rule.evaluate(index, cfg)
        if not f.unknown
    ]


def with_change(props: dict, path: str, value: Any) -> dict:
    """A deep copy of `props` with `a.b.0.c` set to `value` (or removed if value is DELETE)."""
    out = copy.deepcopy(props)
    set_at(out, path.split("."), value)
    return out


__all__ = [
    "UNKNOWN",
    "DELETE",
    "findings",
    "violations",
    "unknowns",
    "stack_violations",
    "with_change",
    "res",
]


@pytest.fixture(scope="session")
def pack() -> Iterator[PolicyPackServer]:
    """The real pack, started once per test session the way the CLI starts it."""
    with PolicyPackServer() as server:
        yield server
