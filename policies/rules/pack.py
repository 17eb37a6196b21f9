"""Wrap the pure rules into pulumi_policy policies (the only module that imports pulumi_policy).

Exemptions (rules/exemptions.py): a definite finding an active exemption in the rule's config
matches is not reported by the rule; the advisory `exempted-findings` policies report it.

Unknown values: a check that meets a value the engine does not know yet yields an `unknown`
finding. Definite violations are reported at the policy's enforcement level; then, if anything
could not be checked, the wrapper raises `UnknownValueError`, which the policy SDK reports as an
*advisory* "can't run policy … during preview: cannot verify until apply: …" — never a silent pass.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyComplianceFramework,
    PolicyConfigSchema,
    ResourceValidationPolicy,
    Severity,
    StackValidationPolicy,
)
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, UnknownValueError

from .base import Finding, Res, Rule, normalized, plain
from .exemptions import EXEMPTIONS_SCHEMA, META_RULES, parse, waived
from .speedups import request_memo
from .stack_index import StackIndex

CONTROL_TAG = "control:"
FRAMEWORK_TAG = "framework:"


def _unknown_error(findings: list[Finding]) -> UnknownValueError:
    err = UnknownValueError(UNKNOWN_STRING_VALUE, [])
    err.message = "; ".join(f.message for f in findings)
    return err


def _plain_res(args: Any) -> Res:
    """The resource of an Analyze call as plain data (`normalized`), converted once per request.

    Every resource policy of one `Analyze` call gets the same memoised property proxies
    (speedups.py), and one request carries one resource: its URN keys the conversion, and the
    entry keeps the proxies it was made from (compared by identity, so a hit is the very same
    data). Rules only read what they are given, so the policies can share it. Outside a
    patched call each policy converts its own."""
    provider = getattr(args, "provider", None)
    sources = (args.props, provider.props if provider else None)
    made_from, res = request_memo(
        "plain-resource", args.urn, lambda: (sources, normalized(_res_from_args(args)))
    )
    if made_from[0] is sources[0] and made_from[1] is sources[1]:
        return res
    return normalized(_res_from_args(args))


def _res_from_args(args: Any) -> Res:
    """The resource of an Analyze call, its props still the SDK's proxies."""
    provider = getattr(args, "provider", None)
    return Res(
        type=args.resource_type,
        name=args.name,
        urn=args.urn,
        props=args.props,
        provider_type=provider.resource_type if provider else None,
        provider=provider.props if provider else None,
        provider_urn=provider.urn if provider else None,
        parent=getattr(args.opts, "parent", None),
    )


class _LazyPlain(Mapping):
    """Plain view of a resource's properties, converted on first use.

    A stack rule reads a few resource types; converting only what it reads keeps
    AnalyzeStack cheap on large stacks.
    """

    __slots__ = ("_raw", "_data")

    def __init__(self, raw: Any):
        self._raw = raw
        self._data: dict | None = None

    def _plain(self) -> dict:
        if self._data is None:
            self._data = plain(self._raw)
        return self._data

    def __getitem__(self, key: str) -> Any:
        return self._plain()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._plain())

    def __len__(self) -> int:
        return len(self._plain())

    def __contains__(self, key: object) -> bool:
        return key in self._plain()


def _res_from_policy_resource(r: Any) -> Res:
    provider = r.provider
    return Res(
        type=r.resource_type,
        name=r.name,
        urn=r.urn,
        props=_LazyPlain(r.props),  # type: ignore[arg-type]
        provider_type=provider.resource_type if provider else None,
        provider=_LazyPlain(provider.props) if provider else None,  # type: ignore[arg-type]
        provider_urn=provider.urn if provider else None,
        parent=r.parent.urn if r.parent is not None else None,
        dependencies=tuple(d.urn for d in r.dependencies),
        property_dependencies={k: [d.urn for d in v] for k, v in r.property_dependencies.items()},
    )


def _report(findings: list[Finding], report_violation, stack: bool) -> None:
    unknown = [f for f in findings if f.unknown]
    for f in findings:
        if not f.unknown:
            if stack:
                report_violation(f.message, f.urn)
            else:
                report_violation(f.message)
    if unknown:
        if stack:
            unknown = [
                Finding(f"{f.message} [{f.urn}]" if f.urn else f.message, f.urn, True)
                for f in unknown
            ]
        raise _unknown_error(unknown)


def config_schema(r: Rule) -> dict[str, Any]:
    """The rule's parameters plus, for every rule an exemption may name, its `exemptions` list."""
    schema = dict(r.config_schema)
    if r.name not in META_RULES:
        # no default: a rule without exemptions resolves to exactly its own parameters
        schema["exemptions"] = {k: v for k, v in EXEMPTIONS_SCHEMA.items() if k != "default"}
    return schema


def _metadata(r: Rule) -> dict[str, Any]:
    return dict(
        name=r.name,
        description=r.description,
        enforcement_level=EnforcementLevel.MANDATORY,
        severity=Severity(r.severity),
        config_schema=PolicyConfigSchema(properties=config_schema(r)),
        framework=PolicyComplianceFramework(
            name="regulated-inference controls",
            reference=", ".join(r.controls),
            specification="; ".join(r.frameworks),
        ),
        tags=[CONTROL_TAG + c for c in r.controls] + [FRAMEWORK_TAG + f for f in r.frameworks],
        remediation_steps=r.remediation,
    )


def _stack_index(resources: list[Any]) -> StackIndex:
    """The stack as the rules see it, built once per AnalyzeStack call rather than once per stack
    policy (31 of them): within a call the SDK hands every policy the same memoised property
    objects (speedups.py keeps them alive for the call), so their identities key the index; rules
    only read it (its one lazy cache is deterministic)."""
    key = tuple((x.urn, id(x.props)) for x in resources)
    return request_memo(
        "stack-index",
        key,
        lambda: StackIndex(_res_from_policy_resource(x) for x in resources),
    )


def to_policy(r: Rule):
    """One pulumi_policy policy for one rule (default enforcement: mandatory)."""
    if r.kind == "stack":

        def validate_stack(args, report_violation):
            stack = _stack_index(args.resources)
            cfg = args.get_config()
            findings = r.evaluate(stack, cfg)
            if r.name not in META_RULES:
                findings = waived(findings, parse(plain(cfg.get("exemptions"))), r.name, None)
            _report(findings, report_violation, stack=True)

        return StackValidationPolicy(validate=validate_stack, **_metadata(r))

    def validate_resource(args, report_violation):
        if not r.applies_to(args.resource_type):
            return
        cfg = args.get_config()
        findings = r.evaluate_plain(_plain_res(args), cfg)
        if r.name not in META_RULES:
            findings = waived(findings, parse(plain(cfg.get("exemptions"))), r.name, args.name)
        _report(findings, report_violation, stack=False)

    return ResourceValidationPolicy(validate=validate_resource, **_metadata(r))


def build_policies(rules: list[Rule]) -> list:
    return [to_policy(r) for r in rules]
