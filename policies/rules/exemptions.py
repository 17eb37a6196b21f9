"""Exemptions: documented, approved, expiring acceptance of one rule's finding on some resources.

An exemption is data in the pack's config (generated from `regulated-inference:exemptions` in
`Pulumi.<stack>.yaml` by regulated_inference/preview/policy_config.py), so `pulumi preview/up
--policy-pack policies --policy-pack-config policies/config/<stack>.json` and the offline preview
honour it the same way:

- every rule's config takes an `exemptions` list (its own); the rule's wrapper (rules/pack.py)
  does not report a definite finding on a resource an ACTIVE exemption matches — a "cannot
  verify" finding is not waived;
- the CrossGuard Python SDK has one enforcement level per policy (pulumi_policy 1.21,
  `_PolicyAnalyzerServicer.Analyze`: `report_violation` takes a message and a URN, the level is
  the policy's), so an exempted finding cannot be downgraded in place. It is reported instead by
  the advisory policies `exempted-findings` (resource rules) and `exempted-stack-findings`
  (stack rules), which re-run the exempted rule — with the rule's own parameters, copied into
  their config — on the matching resources only. Stateless: no ordering between policies or
  shared state between the SDK's worker threads is relied on;
- `exemption-register` (stack rule) reports an exemption that has expired (the finding is
  enforced again) or that matches no finding (stale: the risk is gone or the resource was
  renamed; remove it), and malformed entries.

A resource is matched by its logical name (the URN's last part), literally or as a glob
(`fnmatch`); `*` is every resource. `expires` is the last day the exemption holds (UTC).
"""

from __future__ import annotations

import datetime as _dt
import fnmatch
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from .base import Finding, Res, Rule, rule

EXEMPTED_FINDINGS = "exempted-findings"
EXEMPTED_STACK_FINDINGS = "exempted-stack-findings"
EXEMPTION_REGISTER = "exemption-register"
#: Policies that report exemptions rather than findings of their own: never exemptable.
META_RULES = (EXEMPTED_FINDINGS, EXEMPTED_STACK_FINDINGS, EXEMPTION_REGISTER)

#: Message of an exempted finding: "<rule>: <finding> — EXEMPTED ..."; the reports split on it.
EXEMPTED_MARK = " — EXEMPTED "

_FIELDS = ("rule", "resource", "justification", "approver", "ticket", "expires")

EXEMPTION_ITEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "rule": {"type": "string"},
        "resource": {"type": "string"},
        "justification": {"type": "string"},
        "approver": {"type": "string"},
        "ticket": {"type": "string"},
        "expires": {"type": "string", "description": "ISO date, the last day it holds"},
        "reason": {"type": "string", "description": "why a `*` exemption covers the stack"},
    },
    "required": list(_FIELDS),
}
EXEMPTIONS_SCHEMA: dict[str, Any] = {
    "type": "array",
    "items": EXEMPTION_ITEM_SCHEMA,
    "default": [],
    "description": "Accepted risks (generated from regulated-inference:exemptions).",
}
RULE_PARAMETERS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "default": {},
    "description": "rule name → that rule's parameters, to re-run an exempted rule.",
}


def today() -> _dt.date:
    return _dt.datetime.now(_dt.UTC).date()


@dataclass(frozen=True)
class Exemption:
    rule: str
    resource: str
    justification: str
    approver: str
    ticket: str
    expires: _dt.date
    reason: str = ""

    def matches(self, rule_name: str, resource_name: str) -> bool:
        return rule_name == self.rule and fnmatch.fnmatchcase(resource_name, self.resource)

    def days_left(self, on: _dt.date) -> int:
        return (self.expires - on).days

    def active(self, on: _dt.date) -> bool:
        return self.days_left(on) >= 0

    def describe(self, on: _dt.date) -> str:
        return (
            f"until {self.expires.isoformat()} ({self.days_left(on)} days left): "
            f"{self.justification} (approver {self.approver}, ticket {self.ticket})"
        )


def parse_one(raw: Any) -> Exemption | str:
    """An `Exemption`, or why the entry is malformed (the pack never crashes on config)."""
    if not isinstance(raw, Mapping):
        return "an exemption must be an object"
    missing = [k for k in _FIELDS if not isinstance(raw.get(k), str) or not raw.get(k).strip()]
    if missing:
        return f"missing or empty {', '.join(missing)}"
    try:
        expires = _dt.date.fromisoformat(raw["expires"])
    except ValueError:
        return f"expires {raw['expires']!r} is not an ISO date (YYYY-MM-DD)"
    return Exemption(
        rule=raw["rule"],
        resource=raw["resource"],
        justification=raw["justification"].strip(),
        approver=raw["approver"].strip(),
        ticket=raw["ticket"].strip(),
        expires=expires,
        reason=str(raw.get("reason") or "").strip(),
    )


def parse(raw: Any) -> list[Exemption]:
    """The well-formed exemptions of a config list (malformed ones are the register's business)."""
    out = []
    for item in raw if isinstance(raw, (list, tuple)) else ():
        e = parse_one(item)
        if isinstance(e, Exemption):
            out.append(e)
    return out


def name_of(urn: str | None) -> str:
    """A resource's logical name from its URN (`urn:pulumi:stack::proj::type::name`)."""
    return urn.rsplit("::", 1)[-1] if urn else ""


def waived(
    findings: list[Finding], exemptions: list[Exemption], rule_name: str, resource: str | None
) -> list[Finding]:
    """The findings a rule still reports: definite findings an active exemption matches are
    dropped (`resource`: the resource's name; None for a stack rule, whose findings name URNs)."""
    active = [e for e in exemptions if e.rule == rule_name and e.active(today())]
    if not active:
        return findings
    out = []
    for f in findings:
        name = resource if resource is not None else name_of(f.urn)
        if f.unknown or not any(e.matches(rule_name, name) for e in active):
            out.append(f)
    return out


def _target(name: str) -> Rule | None:
    from . import BY_NAME  # the rule list imports this module

    r = BY_NAME.get(name)
    return None if r is None or r.name in META_RULES else r


def _exempted_message(r: Rule, f: Finding, e: Exemption, on: _dt.date) -> str:
    return f"{r.name}: {f.message}{EXEMPTED_MARK}{e.describe(on)}"


def _params(cfg: Mapping[str, Any], name: str) -> dict:
    params = (cfg.get("ruleParameters") or {}).get(name)
    return dict(params) if isinstance(params, Mapping) else {}


#: What the two reporters of exempted findings (per resource, per stack) have in common.
_REPORTER = dict(
    severity="low",
    controls=("G5",),
    config_schema={"exemptions": EXEMPTIONS_SCHEMA, "ruleParameters": RULE_PARAMETERS_SCHEMA},
    remediation="Nothing to do before the exemption expires; fix the finding, then remove the "
    "exemption from regulated-inference:exemptions.",
)


def _active(cfg: Mapping[str, Any], kind: str, on: _dt.date) -> Iterator[tuple[Exemption, Rule]]:
    """(exemption, the rule it waives) for each exemption active `on` whose rule is of `kind`."""
    for e in parse(cfg.get("exemptions")):
        target = _target(e.rule)
        if target is not None and target.kind == kind and e.active(on):
            yield e, target


@rule(name=EXEMPTED_FINDINGS, types=("*",), **_REPORTER)  # any resource an exemption names
def exempted_findings(r: Res, cfg: dict):
    """Reports (advisory) each finding of a resource rule that an active exemption waives."""
    on = today()
    for e, target in _active(cfg, "resource", on):
        if not target.applies_to(r.type) or not fnmatch.fnmatchcase(r.name, e.resource):
            continue
        for f in target.evaluate(r, _params(cfg, e.rule)):
            if not f.unknown:
                yield _exempted_message(target, f, e, on)


@rule(name=EXEMPTED_STACK_FINDINGS, kind="stack", **_REPORTER)
def exempted_stack_findings(stack: Any, cfg: dict):
    """Reports (advisory) each finding of a stack rule that an active exemption waives."""
    on = today()
    for e, target in _active(cfg, "stack", on):
        for f in target.evaluate(stack, _params(cfg, e.rule)):
            if not f.unknown and e.matches(target.name, name_of(f.urn)):
                yield Finding(_exempted_message(target, f, e, on), f.urn)


def matched(e: Exemption, target: Rule, stack: Any, params: dict) -> bool:
    """Whether the exemption still waives something: the rule finds (or cannot yet verify)
    something on a resource it names. Resource rules are re-run on the resources as
    AnalyzeStack sees them."""
    if target.kind == "stack":
        return any(e.matches(target.name, name_of(f.urn)) for f in target.evaluate(stack, params))
    for res in stack.resources:
        if fnmatch.fnmatchcase(res.name, e.resource) and target.applies_to(res.type):
            if target.evaluate(res, params):
                return True
    return False


@rule(
    name=EXEMPTION_REGISTER,
    kind="stack",
    severity="medium",
    controls=("G5",),
    dev_advisory=True,
    config_schema={"exemptions": EXEMPTIONS_SCHEMA, "ruleParameters": RULE_PARAMETERS_SCHEMA},
    remediation="Remove the exemption from regulated-inference:exemptions (stale), or renew it "
    "with a new approval, ticket and expiry date (expired); then regenerate the pack config.",
)
def exemption_register(stack: Any, cfg: dict):
    """Exemptions are current: none expired, none stale (matching no finding), none malformed."""
    on = today()
    for i, raw in enumerate(cfg.get("exemptions") or []):
        e = parse_one(raw)
        if not isinstance(e, Exemption):
            yield f"exemptions[{i}] is malformed and waives nothing: {e}"
            continue
        what = f"exemption of {e.rule} on {e.resource!r} (ticket {e.ticket})"
        target = _target(e.rule)
        if target is None:
            yield f"{what} names no exemptable rule of this pack"
        elif not e.active(on):
            yield (
                f"{what} expired on {e.expires.isoformat()}: the finding is enforced again; "
                "renew it with a new approval or remove it"
            )
        elif not matched(e, target, stack, _params(cfg, e.rule)):
            yield (
                f"{what} matches no finding: it is stale (the risk is gone or the resource was "
                "renamed); remove it"
            )


RULES = [exempted_findings, exempted_stack_findings, exemption_register]


def exemptions_by_rule(exemptions: Iterable[Mapping[str, Any]]) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for e in exemptions:
        out.setdefault(str(e.get("rule")), []).append(dict(e))
    return out
