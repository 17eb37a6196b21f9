"""What an offline preview found, and the plain-text and JSON renderings of it.

`PreviewReport` pairs the recording of one stack run with the policy pack's
analysis of it and derives what every output format needs: resources grouped
by component (through the parent chain), policy results grouped by
enforcement, and a control-coverage summary per compliance framework. The
SARIF (`sarif.py`), Markdown (`markdown.py`) renderers and the stack export
(`stack_export.py`) are built on the same object, so they never disagree.
"""

from __future__ import annotations

import base64
import json
import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from regulated_inference.lib.outputs import type_token
from regulated_inference.preview.analysis import (
    ADVISORY,
    DISABLED,
    MANDATORY,
    REMEDIATE,
    AnalysisResult,
    PolicyViolation,
)
from regulated_inference.preview.cost import (
    HOURS_PER_MONTH,
    NOT_INCLUDED,
    compare,
    money,
    money_range,
    signed,
)
from regulated_inference.simulation.engine import RecordedResource, Recording

#: Type-token prefix of this project's components (see STYLE.md).
COMPONENT_PREFIX = type_token("")
STACK_TYPE = "pulumi:pulumi:Stack"
PROVIDER_PREFIX = "pulumi:providers:"

#: Framework names that contain spaces, so a clause like "SOC 2 CC6.1" splits
#: into ("SOC 2", "CC6.1"). Longest first; anything else splits on ":" or the
#: first space.
KNOWN_FRAMEWORKS = (
    "ISO/IEC 27001",
    "NIST SP 800-53",
    "NIST 800-53",
    "ISO 27001",
    "EU AI Act",
    "PCI DSS",
    "SOC 2",
    "HIPAA",
    "GDPR",
    "DORA",
    "NIS2",
)

#: Exit statuses of `python -m regulated_inference.preview` (documented in the README).
EXIT_OK = 0
EXIT_MANDATORY = 1
EXIT_BAD_INPUT = 2
EXIT_INTERNAL = 3


def is_component(resource: RecordedResource) -> bool:
    """A component resource (ours or anyone's): not custom, not the stack, not a provider."""
    return not resource.custom and resource.type != STACK_TYPE


def is_provider(resource: RecordedResource) -> bool:
    return resource.type.startswith(PROVIDER_PREFIX)


def short_type(token: str) -> str:
    """`regulated-inference:index:SecureBucket` -> `SecureBucket`; `aws:s3/bucket:Bucket` stays."""
    return token[len(COMPONENT_PREFIX) :] if token.startswith(COMPONENT_PREFIX) else token


def split_framework(ref: str) -> tuple[str, str]:
    """`"HIPAA 164.312(b)"` -> `("HIPAA", "164.312(b)")`; `"GDPR"` -> `("GDPR", "")`."""
    ref = ref.strip()
    for name in KNOWN_FRAMEWORKS:
        if ref.upper().startswith(name.upper()):
            return name, ref[len(name) :].strip(" :-—·")
    if ":" in ref:
        head, _, tail = ref.partition(":")
        return head.strip(), tail.strip()
    head, _, tail = ref.partition(" ")
    return head, tail.strip()


def jsonable(value: Any) -> Any:
    """A recorded property value as plain JSON (assets, archives and secrets included)."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [jsonable(v) for v in value]
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    for attr in ("path", "text", "uri"):  # pulumi.FileAsset / StringAsset / RemoteAsset ...
        if hasattr(value, attr) and getattr(value, attr) is not None:
            return {attr: str(getattr(value, attr))}
    return str(value)


# -- grouping -------------------------------------------------------------------


@dataclass
class ComponentGroup:
    """One component and the resources it directly owns (nested components are children)."""

    resource: RecordedResource | None  # None: the stack's top-level resources
    members: list[RecordedResource] = field(default_factory=list)
    children: list[ComponentGroup] = field(default_factory=list)
    depth: int = 0

    @property
    def label(self) -> str:
        return self.resource.name if self.resource else "(stack)"

    @property
    def kind(self) -> str:
        return short_type(self.resource.type) if self.resource else "top-level resources"

    @property
    def type_counts(self) -> list[tuple[str, int]]:
        counts = Counter(r.type for r in self.members)
        return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))

    @property
    def total(self) -> int:
        """Resources in this component's subtree, nested components counted as resources too."""
        return len(self.members) + sum(1 + c.total for c in self.children)

    def walk(self) -> Iterable[ComponentGroup]:
        yield self
        for child in self.children:
            yield from child.walk()


@dataclass
class ClauseCoverage:
    """Evidence for one clause of one framework."""

    framework: str
    clause: str
    controls: list[str]
    rules: list[str]
    violations: int
    mandatory_violations: int
    resources: list[str]  # resources named in findings for these rules, or evidenced by them

    @property
    def status(self) -> str:
        if self.mandatory_violations:
            return "failing"
        if self.violations:
            return "findings"
        return "evidenced"


@dataclass
class PreviewReport:
    """The recording of one stack run and the pack's analysis of it."""

    recording: Recording
    analysis: AnalysisResult
    policy_config: str = ""
    timings: dict[str, float] = field(default_factory=dict)
    project_dir: Path | None = None
    #: rule name -> ("resource" | "stack", type tokens; () = every type), see `load_rule_scopes`.
    rule_scopes: dict[str, tuple[str, tuple[str, ...]]] = field(default_factory=dict)
    #: The monthly cost estimate (regulated_inference/preview/cost.py), or why there is none.
    cost: Any = None
    cost_unavailable: str = ""
    #: The `cost` section of a base report (`--compare-cost`), for the difference.
    cost_base: dict[str, Any] | None = None
    #: The pack config the run used (policy name → level or object), for the exemptions.
    pack_config: dict[str, Any] | None = None

    # -- resources ---------------------------------------------------------

    @property
    def stack(self) -> str:
        return self.recording.stack

    @property
    def project(self) -> str:
        return self.recording.project

    @property
    def region(self) -> str:
        return self.recording.config.get("aws:region", "")

    def counts(self) -> dict[str, int]:
        res = [r for r in self.recording.resources if r.type != STACK_TYPE]
        return {
            "total": len(res),
            "components": sum(1 for r in res if is_component(r)),
            "custom": sum(1 for r in res if r.custom and not is_provider(r)),
            "providers": sum(1 for r in res if is_provider(r)),
        }

    def component_tree(self) -> ComponentGroup:
        """Resources grouped by their nearest component ancestor, as a tree rooted at the stack."""
        root = ComponentGroup(resource=None)
        groups: dict[str, ComponentGroup] = {}
        by_urn = self.recording.by_urn()

        def group_for(urn: str | None) -> ComponentGroup:
            # Nearest component ancestor; the stack itself and unknown parents map to the root.
            seen = 0
            while urn and urn in by_urn and not is_component(by_urn[urn]):
                urn = by_urn[urn].parent
                seen += 1
                if seen > len(by_urn):  # a parent cycle: never in a real recording
                    break
            if not urn or urn not in by_urn or not is_component(by_urn[urn]):
                return root
            return groups[urn]

        for res in self.recording.resources:  # registration order: parents come first
            if res.type == STACK_TYPE:
                continue
            parent_group = group_for(res.parent)
            if is_component(res):
                group = ComponentGroup(resource=res, depth=parent_group.depth + 1)
                groups[res.urn] = group
                parent_group.children.append(group)
            else:
                parent_group.members.append(res)
        # Registration order depends on when outputs resolve; sort for a stable report.
        for group in root.walk():
            group.children.sort(key=lambda g: (g.kind, g.label))
        return root

    def component_of(self) -> dict[str, RecordedResource | None]:
        """URN -> nearest enclosing component (None for top-level resources)."""
        out: dict[str, RecordedResource | None] = {}
        for group in self.component_tree().walk():
            for member in group.members:
                out[member.urn] = group.resource
            for child in group.children:
                out[child.resource.urn] = group.resource
        return out

    # -- policy results ----------------------------------------------------

    @property
    def mandatory(self) -> list[PolicyViolation]:
        return self.analysis.mandatory

    @property
    def advisory(self) -> list[PolicyViolation]:
        return self.analysis.advisory

    def other_findings(self) -> list[PolicyViolation]:
        """Remediate-level or otherwise non-blocking findings that are neither of the above."""
        return [v for v in self.analysis.violations if v.enforcement not in (MANDATORY, ADVISORY)]

    @property
    def budget_exceeded(self) -> bool:
        return bool(self.cost is not None and self.cost.budget_exceeded)

    @property
    def exit_code(self) -> int:
        return EXIT_MANDATORY if self.mandatory or self.budget_exceeded else EXIT_OK

    def cost_comparison(self) -> dict[str, Any] | None:
        if self.cost is None or self.cost_base is None:
            return None
        return compare(self.cost, self.cost_base)

    def enforcement_counts(self) -> dict[str, int]:
        counts = Counter(p.enforcement for p in self.analysis.policies)
        return {k: counts.get(k, 0) for k in (MANDATORY, ADVISORY, REMEDIATE, DISABLED)}

    def policy_meta(self) -> dict[str, Any]:
        return {p.name: p for p in self.analysis.policies}

    def _own_or_rules(self, v: PolicyViolation, attr: str, default: Any) -> Any:
        """A finding's `attr` if it carries one, else its rule's (from the pack's metadata)."""
        if getattr(v, attr):
            return getattr(v, attr)
        meta = self.policy_meta().get(v.policy)
        return getattr(meta, attr) if meta else default

    def violation_remediation(self, v: PolicyViolation) -> str:
        return self._own_or_rules(v, "remediation", "")

    def violation_controls(self, v: PolicyViolation) -> tuple[str, ...]:
        return self._own_or_rules(v, "controls", ())

    def violation_frameworks(self, v: PolicyViolation) -> tuple[str, ...]:
        return self._own_or_rules(v, "frameworks", ())

    # -- exemptions ----------------------------------------------------------

    def exemptions_in_force(self) -> list[dict[str, Any]]:
        """The exemptions the pack honoured (from its config), each with `daysLeft`."""
        from regulated_inference.preview.evidence import pack_exemptions

        return pack_exemptions(self.pack_config)

    def exempted_findings(self) -> list[Any]:
        """The findings the pack reported as exempted (`evidence.ExemptedFinding`)."""
        from regulated_inference.preview.evidence import exempted_findings

        return exempted_findings(self.analysis.violations, self.exemptions_in_force())

    def exemptions_with_findings(self) -> list[tuple[dict[str, Any], list[Any]]]:
        """Each exemption in force with the findings it waived."""
        exempted = self.exempted_findings()
        return [(e, [x for x in exempted if x.exemption == e]) for e in self.exemptions_in_force()]

    # -- control coverage --------------------------------------------------

    def rule_resources(self) -> dict[str, list[str]]:
        """Rule name -> names of the resources it judged (or found something on).

        A resource rule judged every custom resource of the types it declares
        (`rule_scopes`, read from the pack's rule metadata when the pack is
        ours); a stack rule judged the stack. Without scopes, a rule evidences
        the resources it reported.
        """
        out: dict[str, set[str]] = defaultdict(set)
        customs = [r for r in self.recording.resources if r.custom and not is_provider(r)]
        for rule, (kind, types) in self.rule_scopes.items():
            if kind == "stack":
                out[rule].add("(stack)")
                continue
            for res in customs:
                if _type_matches(res.type, types):
                    out[rule].add(res.name)
        for v in self.analysis.violations:
            out[v.policy].add(v.resource_name or "(stack)")
        return {k: sorted(v) for k, v in out.items()}

    def coverage(self) -> dict[str, list[ClauseCoverage]]:
        """Framework -> clauses, each with the controls, rules and resources that evidence it.

        Disabled rules evidence nothing and are left out.
        """
        per_clause: dict[tuple[str, str], dict[str, Any]] = {}
        violations_by_rule: dict[str, list[PolicyViolation]] = defaultdict(list)
        for v in self.analysis.violations:
            violations_by_rule[v.policy].append(v)
        rule_res = self.rule_resources()
        for policy in self.analysis.policies:
            if policy.enforcement == DISABLED:
                continue
            for ref in policy.frameworks:
                fw, clause = split_framework(ref)
                slot = per_clause.setdefault(
                    (fw, clause),
                    {"controls": set(), "rules": set(), "viol": 0, "mand": 0, "res": set()},
                )
                slot["controls"].update(policy.controls)
                slot["rules"].add(policy.name)
                found = violations_by_rule.get(policy.name, [])
                slot["viol"] += len(found)
                slot["mand"] += sum(1 for v in found if v.enforcement == MANDATORY)
                slot["res"].update(rule_res.get(policy.name, []))
        out: dict[str, list[ClauseCoverage]] = defaultdict(list)
        for (fw, clause), slot in sorted(per_clause.items(), key=lambda kv: _natural(kv[0])):
            out[fw].append(
                ClauseCoverage(
                    framework=fw,
                    clause=clause,
                    controls=sorted(slot["controls"], key=_natural_key),
                    rules=sorted(slot["rules"]),
                    violations=slot["viol"],
                    mandatory_violations=slot["mand"],
                    resources=sorted(slot["res"]),
                )
            )
        return dict(out)

    def controls_summary(self) -> dict[str, dict[str, Any]]:
        """Control id -> rules serving it and its status (for controls named by any active rule)."""
        out: dict[str, dict[str, Any]] = {}
        bad = Counter(v.policy for v in self.analysis.violations)
        bad_mand = Counter(v.policy for v in self.analysis.mandatory)
        for policy in self.analysis.policies:
            if policy.enforcement == DISABLED:
                continue
            for control in policy.controls:
                slot = out.setdefault(control, {"rules": [], "violations": 0, "mandatory": 0})
                slot["rules"].append(policy.name)
                slot["violations"] += bad[policy.name]
                slot["mandatory"] += bad_mand[policy.name]
        return dict(sorted(out.items(), key=lambda kv: _natural_key(kv[0])))

    # -- renderings --------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """The JSON format: everything, stable keys, for tools."""
        comp_of = self.component_of()
        return {
            "project": self.project,
            "stack": self.stack,
            "region": self.region,
            "exitCode": self.exit_code,
            "summary": {
                **self.counts(),
                "mandatoryViolations": len(self.mandatory),
                "advisoryViolations": len(self.advisory),
                "policies": len(self.analysis.policies),
                "policiesByEnforcement": self.enforcement_counts(),
            },
            "policyPack": {
                "name": self.analysis.pack_name,
                "version": self.analysis.pack_version,
                "config": self.policy_config,
                "resourcesAnalyzed": self.analysis.resources_analyzed,
                "seconds": round(self.analysis.seconds, 4),
            },
            "timings": {k: round(v, 4) for k, v in self.timings.items()},
            "components": [
                {
                    "urn": g.resource.urn,
                    "type": g.resource.type,
                    "name": g.resource.name,
                    "parentComponent": comp_of.get(g.resource.urn).urn
                    if comp_of.get(g.resource.urn)
                    else None,
                    "resources": len(g.members),
                    "totalResources": g.total,
                    "types": dict(g.type_counts),
                }
                for g in self.component_tree().walk()
                if g.resource is not None
            ],
            "resources": [
                {
                    "urn": r.urn,
                    "type": r.type,
                    "name": r.name,
                    "custom": r.custom,
                    "id": r.id,
                    "parent": r.parent,
                    "component": comp_of[r.urn].urn if comp_of.get(r.urn) else None,
                    "provider": r.provider,
                    "dependencies": list(r.dependencies),
                    "inputs": jsonable(r.inputs),
                    "outputs": jsonable(r.outputs),
                }
                for r in self.recording.resources
                if r.type != STACK_TYPE
            ],
            "stackOutputs": jsonable(self.recording.stack_outputs),
            "policies": [
                {
                    "name": p.name,
                    "description": p.description,
                    "enforcement": p.enforcement,
                    "severity": p.severity,
                    "controls": list(p.controls),
                    "frameworks": list(p.frameworks),
                    "remediation": p.remediation,
                }
                for p in self.analysis.policies
            ],
            "violations": [
                {
                    "policy": v.policy,
                    "enforcement": v.enforcement,
                    "severity": v.severity,
                    "message": v.message,
                    "urn": v.urn,
                    "resourceType": v.resource_type,
                    "resourceName": v.resource_name,
                    "controls": list(self.violation_controls(v)),
                    "frameworks": list(self.violation_frameworks(v)),
                    "remediation": self.violation_remediation(v),
                }
                for v in self.analysis.violations
            ],
            "coverage": {
                fw: [
                    {
                        "clause": c.clause,
                        "status": c.status,
                        "controls": c.controls,
                        "rules": c.rules,
                        "violations": c.violations,
                        "resources": c.resources,
                    }
                    for c in clauses
                ]
                for fw, clauses in self.coverage().items()
            },
            "cost": self._cost_dict(),
            "exemptions": self.exemptions_in_force(),
            "exemptedFindings": [x.to_dict() for x in self.exempted_findings()],
            "evidence": self._evidence(),
        }

    def _evidence(self) -> dict[str, Any]:
        from regulated_inference.preview.evidence import build_evidence

        return build_evidence(self)

    def _cost_dict(self) -> dict[str, Any] | None:
        if self.cost is None:
            return {"unavailable": self.cost_unavailable} if self.cost_unavailable else None
        out = self.cost.to_dict()
        comparison = self.cost_comparison()
        if comparison is not None:
            out["comparison"] = comparison
        return out

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=False) + "\n"

    def to_text(self) -> str:
        return render_text(self)


def _type_matches(token: str, types: tuple[str, ...]) -> bool:
    if not types:
        return True
    return any(t == token or (t.endswith("*") and token.startswith(t[:-1])) for t in types)


def load_rule_scopes(pack_dir: Path) -> dict[str, tuple[str, tuple[str, ...]]]:
    """Which resource types each rule of a pack judges, from the pack's own rule metadata.

    Reads `<pack>/rules/__init__.py` (`ALL_RULES`, each with `name`, `kind`,
    `types`) under a private module name, so the pack's `rules` package does
    not shadow anything. Any other pack (or a failure to load) gives {}: the
    coverage then cites only the resources named in findings.
    """
    import importlib.util
    import sys

    init = Path(pack_dir) / "rules" / "__init__.py"
    if not init.is_file():
        return {}
    name = "_offline_preview_pack_rules"
    try:
        module = sys.modules.get(name)
        if module is None or Path(getattr(module, "__file__", "")) != init:
            spec = importlib.util.spec_from_file_location(
                name, init, submodule_search_locations=[str(init.parent)]
            )
            module = importlib.util.module_from_spec(spec)
            sys.modules[name] = module
            spec.loader.exec_module(module)
        return {
            r.name: (str(getattr(r, "kind", "resource")), tuple(getattr(r, "types", ()) or ()))
            for r in module.ALL_RULES
        }
    except Exception:  # noqa: BLE001 - evidence detail is optional, never a failure
        sys.modules.pop(name, None)
        return {}


def _natural_key(s: str) -> list[Any]:
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", s)]


def _natural(key: tuple[str, str]) -> list[Any]:
    return [_natural_key(key[0]), _natural_key(key[1])]


# -- text -----------------------------------------------------------------------


def _wrap(text: str, indent: str, width: int = 100) -> list[str]:
    import textwrap

    return textwrap.wrap(
        " ".join(text.split()),
        width=width,
        initial_indent=indent,
        subsequent_indent=indent,
        break_on_hyphens=False,
        break_long_words=False,
    ) or [indent.rstrip()]


def python_type(token: str) -> str:
    """`aws:s3/bucket:Bucket` -> `aws.s3.Bucket`; `kubernetes:apps/v1:Deployment` -> `kubernetes.apps.v1.Deployment`."""
    parts = token.split(":")
    if len(parts) != 3:
        return token
    pkg, mod, cls = parts
    head, _, tail = mod.partition("/")
    if tail and tail.lower() == cls.lower():
        mod = head
    return ".".join(p for p in (pkg, mod.replace("/", "."), cls) if p)


def _types_line(group: ComponentGroup) -> str:
    return ", ".join(python_type(t) + (f" ×{n}" if n > 1 else "") for t, n in group.type_counts)


def _where(v: PolicyViolation) -> str:
    if v.urn is None and not v.resource_name:
        return "stack"
    return f"{v.resource_type or '?'} {v.resource_name or v.urn}"


def render_text(rep: PreviewReport) -> str:
    """The human report `make preview` prints."""
    c = rep.counts()
    a = rep.analysis
    lines: list[str] = []
    add = lines.append
    verdict = (
        f"FAIL: {len(rep.mandatory)} mandatory violation(s)"
        if rep.mandatory
        else "PASS: no mandatory violation"
    )
    if rep.budget_exceeded:
        verdict = (verdict if rep.mandatory else "FAIL") + ": over budget"
    add(f"Offline preview of {rep.project}/{rep.stack} (region {rep.region or '?'}) — {verdict}")
    add(
        f"Policy pack {a.pack_name} {a.pack_version}"
        + (f" with {rep.policy_config}" if rep.policy_config else "")
        + f": {a.resources_analyzed} resources analyzed in {a.seconds:.2f} s"
    )
    add("")
    add(
        f"RESOURCES: {c['total']} ({c['custom']} cloud resources, {c['components']} components, "
        f"{c['providers']} provider{'s' if c['providers'] != 1 else ''})"
    )
    tree = rep.component_tree()
    for group in tree.walk():
        if group.resource is None:
            continue
        pad = "  " * group.depth
        own = f"{len(group.members)} own" + (
            f", {group.total} in subtree" if group.children else ""
        )
        add(f"{pad}{group.kind} {group.label!r} ({own})")
        lines.extend(_wrap(_types_line(group), pad + "    "))
    if tree.members:
        add(f"  top-level, in no component ({len(tree.members)})")
        lines.extend(_wrap(_types_line(tree), "      "))
    add("")

    enf = rep.enforcement_counts()
    add(
        f"POLICY RESULTS ({len(a.policies)} rules: {enf[MANDATORY]} mandatory, {enf[ADVISORY]} advisory, "
        f"{enf[DISABLED]} disabled)"
    )
    sections = [("MANDATORY", rep.mandatory), ("ADVISORY", rep.advisory)]
    if rep.other_findings():
        sections.append(("OTHER", rep.other_findings()))
    for title, found in sections:
        add(f"  {title} ({len(found)})")
        if not found:
            add("    none")
        by_policy: dict[str, list[PolicyViolation]] = defaultdict(list)
        for v in found:
            by_policy[v.policy].append(v)
        for policy, items in sorted(by_policy.items()):
            meta = rep.policy_meta().get(policy)
            sev = f" [{items[0].severity or (meta.severity if meta else '')}]".replace(" []", "")
            controls = ", ".join(rep.violation_controls(items[0]))
            add(f"    {policy}{sev}" + (f"  controls {controls}" if controls else ""))
            for v in items:
                add(f"      - {_where(v)}")
                lines.extend(_wrap(v.message, "          "))
            remediation = rep.violation_remediation(items[0])
            if remediation:
                lines.extend(_wrap(f"Remediation: {remediation}", "        "))
    add("")
    lines.extend(_exemptions_text(rep))

    add("CONTROL COVERAGE")
    coverage = rep.coverage()
    if not coverage:
        add("  no rule declares framework clauses")
    for fw, clauses in coverage.items():
        evidenced = sum(1 for cl in clauses if cl.status == "evidenced")
        add(f"  {fw}: {len(clauses)} clause(s), {evidenced} evidenced without findings")
        for cl in clauses:
            res = ", ".join(cl.resources[:6]) + (
                f" (+{len(cl.resources) - 6} more)" if len(cl.resources) > 6 else ""
            )
            add(f"    {cl.clause or '(framework-wide)'}: {cl.status.upper()}")
            lines.extend(_wrap(f"controls: {' '.join(cl.controls)}", "        "))
            lines.extend(_wrap(f"rules: {', '.join(cl.rules)}", "        "))
            if res:
                lines.extend(_wrap(f"resources ({len(cl.resources)}): {res}", "        "))
    add("")
    lines.extend(_cost_text(rep))
    add(
        f"{len(rep.mandatory)} mandatory, {len(rep.advisory)} advisory finding(s); "
        f"exit status {rep.exit_code}"
    )
    return "\n".join(lines) + "\n"


def _exemptions_text(rep: PreviewReport) -> list[str]:
    exemptions = rep.exemptions_with_findings()
    if not exemptions:
        return []
    out = [f"EXEMPTIONS ({len(exemptions)} in force; accepted risks: reported, not enforced)"]
    for e, hits in exemptions:
        days = e.get("daysLeft")
        left = "EXPIRED" if days is not None and days < 0 else f"{days} days left"
        out.append(
            f"  {e.get('rule')} on {e.get('resource')!r}: until {e.get('expires')} ({left}), "
            f"approver {e.get('approver')}, ticket {e.get('ticket')}, {len(hits)} finding(s)"
        )
        out.extend(_wrap(f"justification: {e.get('justification')}", "      "))
        if e.get("reason"):
            out.extend(_wrap(f"whole stack because: {e['reason']}", "      "))
        for x in hits:
            out.extend(_wrap(f"- {x.resource_name or 'stack'}: {x.message}", "      "))
    out.append("")
    return out


#: Cost items listed in the text report (largest first); the JSON report has all.
TEXT_COST_ITEMS = 12


def _cost_text(rep: PreviewReport) -> list[str]:
    """The COST ESTIMATE section of the text report."""
    est = rep.cost
    if est is None:
        return [f"COST ESTIMATE: {rep.cost_unavailable}", ""] if rep.cost_unavailable else []
    out = [
        f"COST ESTIMATE ({est.currency}/month; {est.table.region} prices dated {est.table.date}, "
        f"{est.price_table_file}; {HOURS_PER_MONTH:g} h/month)",
        f"  total: {money_range(est.total_min, est.total_max)}",
    ]
    if est.budget_usd is not None:
        if est.budget_exceeded:
            out.extend(_wrap(f"BUDGET EXCEEDED: {est.budget_message()}", "  "))
        else:
            out.append(
                f"  budget {est.budget_key} {money(est.budget_usd)}: within "
                f"(upper end compared; {money(est.budget_usd - est.total_max)} to spare)"
            )
    comparison = rep.cost_comparison()
    if comparison is not None:
        b = comparison["base"]["range"]
        out.append(
            f"  vs base: {money_range(b['min'], b['max'])} -> {signed(comparison['delta']['min'])} / "
            f"{signed(comparison['delta']['max'])}"
        )
    out.append("  by component (min – max):")
    for label, lo, hi in est.by_component():
        out.append(f"    {label:<62} {money(lo):>12} – {money(hi):>12}")
    shown = est.top_items(TEXT_COST_ITEMS)
    unpriced = [i for i in est.items if i.unit_price is None and i not in shown]
    out.append(f"  largest items ({len(shown)} of {len(est.items)}; all in FORMAT=json):")
    for i in shown + unpriced:
        price = f"{i.unit_price:g}" if i.unit_price is not None else "not priced"
        line = (
            f"{i.resource.name}: {i.description}: {i.quantity_text} {i.unit} × {price} = "
            f"{i.monthly_text}"
        )
        if i.note:
            line += f" ({i.note})"
        out.extend(_wrap(line, "    "))
    if est.assumptions:
        out.append(
            "  assumptions (set under regulated-inference:cost to change):".replace(
                "regulated-inference", rep.project
            )
        )
        for a in est.assumptions:
            out.extend(_wrap(f"{a['key']} = {a['value']}: {a['description']}", "    "))
    for note in est.notes:
        out.extend(_wrap(f"note: {note}", "  "))
    out.extend(_wrap(f"not included: {'; '.join(NOT_INCLUDED)}", "  "))
    out.append("")
    return out
