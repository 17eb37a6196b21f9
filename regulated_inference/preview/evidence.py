"""Exemptions as the reports show them, and the evidence document of one preview.

Exempted findings come from the pack itself: its advisory `exempted-findings` /
`exempted-stack-findings` policies report each finding an exemption waives as
"<rule>: <finding> — EXEMPTED until …" (policies/rules/exemptions.py). The exemption details
(justification, approver, ticket, expiry) are read from the pack config the run used, so every
format shows what the pack honoured, not what the stack file says.

The evidence document (`build_evidence`, schema docs/schemas/evidence.schema.json) records, per
deployment: stack, git commit, config hash, pack name and version, every control with its rules,
the resources each judged and the verdict, the exemptions in force, the framework clauses each
control maps to, and the model inventory. The deploy workflow writes it before `pulumi up`, keeps
it as an artifact, and the program stores it in the WORM audit bucket
(regulated_inference/stack/evidence.py).
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import json
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from regulated_inference.config.exemptions import config_digest, today
from regulated_inference.preview.analysis import DISABLED, MANDATORY
from regulated_inference.preview.markdown import EXEMPTION_TABLE, table_cell

if TYPE_CHECKING:
    from regulated_inference.preview.analysis import PolicyViolation
    from regulated_inference.preview.report import PreviewReport

SCHEMA_ID = "regulated-inference/evidence/v1"
#: The pack's names (policies/rules/exemptions.py EXEMPTED_FINDINGS, EXEMPTED_STACK_FINDINGS,
#: EXEMPTION_REGISTER, EXEMPTED_MARK), restated so a report does not import every rule;
#: tests/preview/test_evidence.py keeps them equal.
REPORTERS = ("exempted-findings", "exempted-stack-findings")
REGISTER = "exemption-register"
EXEMPTED_MARK = " — EXEMPTED "
SCHEMA_PATH = Path(__file__).resolve().parents[2] / "docs" / "schemas" / "evidence.schema.json"


@dataclass(frozen=True)
class ExemptedFinding:
    """One finding the pack reported as exempted."""

    rule: str
    message: str
    urn: str | None
    resource_name: str | None
    resource_type: str | None
    exemption: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "message": self.message,
            "urn": self.urn,
            "resourceName": self.resource_name,
            "resourceType": self.resource_type,
            "exemption": self.exemption,
        }


def pack_exemptions(pack_config: dict[str, Any] | None, on: dt.date | None = None) -> list[dict]:
    """The exemptions the pack config carries (the register's list), each with `daysLeft`."""
    on = on or today()
    entry = (pack_config or {}).get(REGISTER)
    raw = entry.get("exemptions", []) if isinstance(entry, dict) else []
    out = []
    for e in raw:
        if not isinstance(e, dict):
            continue
        item = dict(e)
        try:
            item["daysLeft"] = (dt.date.fromisoformat(str(e.get("expires"))) - on).days
        except ValueError:
            item["daysLeft"] = None
        out.append(item)
    return out


def _exemption_for(rule: str, name: str, exemptions: list[dict]) -> dict[str, Any]:
    for e in exemptions:
        if e.get("rule") == rule and fnmatch.fnmatchcase(name, str(e.get("resource", ""))):
            return e
    return {"rule": rule}


def reports_exemption(v: PolicyViolation) -> bool:
    """Whether a finding is the pack's report of a finding an exemption waived."""
    return v.policy in REPORTERS and EXEMPTED_MARK in v.message


def exempted_findings(
    violations: list[PolicyViolation], exemptions: list[dict]
) -> list[ExemptedFinding]:
    out = []
    for v in violations:
        if not reports_exemption(v):
            continue
        head, _, _ = v.message.partition(EXEMPTED_MARK)
        rule, _, finding = head.partition(": ")
        name = v.resource_name or (v.urn.rsplit("::", 1)[-1] if v.urn else "")
        out.append(
            ExemptedFinding(
                rule=rule,
                message=finding,
                urn=v.urn,
                resource_name=v.resource_name,
                resource_type=v.resource_type,
                exemption=_exemption_for(rule, name, exemptions),
            )
        )
    return out


def git_commit(cwd: Path) -> dict[str, Any]:
    """The commit the preview ran on, and whether the work tree had changes."""

    def run(*args: str) -> str | None:
        try:
            proc = subprocess.run(
                ["git", *args], cwd=cwd, capture_output=True, text=True, timeout=10
            )
        except (OSError, subprocess.SubprocessError):
            return None
        return proc.stdout.strip() if proc.returncode == 0 else None

    commit = run("rev-parse", "HEAD")
    status = run("status", "--porcelain") if commit else None
    return {"commit": commit, "dirty": bool(status) if status is not None else None}


def _verdict(rule_findings: list, mandatory: int, exempted: int, enforcement: str) -> str:
    if enforcement == DISABLED:
        return "not-evaluated"
    if mandatory:
        return "failed"
    if rule_findings:
        return "findings"
    if exempted:
        return "exempted"
    return "held"


def build_evidence(rep: PreviewReport, on: dt.date | None = None) -> dict[str, Any]:
    """The evidence document of one preview (see the module docstring)."""
    from regulated_inference.preview.policy_config import decode

    on = on or today()
    project_dir = rep.project_dir or Path.cwd()
    decoded = decode(rep.recording.config, rep.project)
    policies = {p.name: p for p in rep.analysis.policies}
    judged = rep.rule_resources()
    exempted = rep.exempted_findings()
    findings_by_rule: dict[str, list] = {}
    for v in rep.analysis.violations:
        if v.policy not in REPORTERS:
            findings_by_rule.setdefault(v.policy, []).append(v)
    exempted_by_rule: dict[str, list[ExemptedFinding]] = {}
    for x in exempted:
        exempted_by_rule.setdefault(x.rule, []).append(x)
    clauses_of = _control_clauses(rep)
    controls = []
    for control, summary in rep.controls_summary().items():
        rules = []
        for name in summary["rules"]:
            p = policies[name]
            found = findings_by_rule.get(name, [])
            mandatory = sum(1 for v in found if v.enforcement == MANDATORY)
            waived = exempted_by_rule.get(name, [])
            rules.append(
                {
                    "rule": name,
                    "enforcement": p.enforcement,
                    "verdict": _verdict(found, mandatory, len(waived), p.enforcement),
                    "resourcesJudged": judged.get(name, []),
                    "findings": [
                        {
                            "resource": v.resource_name,
                            "urn": v.urn,
                            "enforcement": v.enforcement,
                            "message": v.message,
                        }
                        for v in found
                    ],
                    "exempted": [
                        {
                            "resource": x.resource_name,
                            "urn": x.urn,
                            "message": x.message,
                            "ticket": x.exemption.get("ticket"),
                        }
                        for x in waived
                    ],
                }
            )
        verdicts = {r["verdict"] for r in rules}
        status = next(
            (s for s in ("failed", "findings", "exempted", "held") if s in verdicts),
            "not-evaluated",
        )
        controls.append(
            {
                "id": control,
                "status": status,
                "clauses": clauses_of.get(control, []),
                "rules": rules,
            }
        )
    frameworks: dict[str, list[str]] = {}
    for c in controls:
        for clause in c["clauses"]:
            frameworks.setdefault(clause, []).append(c["id"])
    inventory = rep.recording.stack_outputs.get("modelInventory")
    return {
        "schema": SCHEMA_ID,
        "generatedAt": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
        "project": rep.project,
        "stack": rep.stack,
        "environment": decoded.get("environment"),
        "region": rep.region,
        "git": git_commit(project_dir),
        "configSha256": config_digest(decoded),
        "policyPack": {
            "name": rep.analysis.pack_name,
            "version": rep.analysis.pack_version,
            "config": rep.policy_config,
            "configSha256": config_digest(rep.pack_config or {}),
        },
        "verdict": "fail" if rep.mandatory else "pass",
        "summary": {
            "controls": len(controls),
            "mandatoryFindings": len(rep.mandatory),
            "advisoryFindings": sum(1 for v in rep.advisory if v.policy not in REPORTERS),
            "exemptedFindings": len(exempted),
        },
        "controls": controls,
        "exemptions": [{**e, "findings": len(hits)} for e, hits in rep.exemptions_with_findings()],
        "frameworks": dict(sorted(frameworks.items())),
        "modelInventory": inventory if isinstance(inventory, list) else [],
        "inventoryClauses": list(_inventory_clauses(rep)),
    }


def _control_clauses(rep: PreviewReport) -> dict[str, list[str]]:
    """control → clauses: the pack's table when the pack is ours, else from the policies' tags."""
    table = _pack_table(rep)
    if table:
        return table
    out: dict[str, list[str]] = {}
    for p in rep.analysis.policies:
        for c in p.controls:
            for clause in p.frameworks:
                out.setdefault(c, [])
                if clause not in out[c]:
                    out[c].append(clause)
    return out


def _catalog(rep: PreviewReport) -> dict[str, Any]:
    pack = (rep.project_dir or Path.cwd()) / "policies" / "catalog.json"
    from regulated_inference.config.exemptions import CATALOG

    for path in (pack, CATALOG):
        try:
            return json.loads(path.read_text())
        except (OSError, ValueError):
            continue
    return {}


def _pack_table(rep: PreviewReport) -> dict[str, list[str]]:
    return dict(_catalog(rep).get("controls", {}))


def _inventory_clauses(rep: PreviewReport) -> tuple[str, ...]:
    return tuple(_catalog(rep).get("inventoryClauses", ()))


def render_evidence_json(rep: PreviewReport) -> str:
    return json.dumps(build_evidence(rep), indent=2, ensure_ascii=False) + "\n"


def render_evidence_markdown(evidence: dict[str, Any]) -> str:
    """A readable rendering of the evidence document."""
    e = evidence
    git = e["git"]
    out = [
        f"# Deployment evidence: {e['project']}/{e['stack']}",
        "",
        f"- **Verdict:** {e['verdict'].upper()} ({e['summary']['mandatoryFindings']} mandatory, "
        f"{e['summary']['advisoryFindings']} advisory, {e['summary']['exemptedFindings']} exempted "
        "findings)",
        f"- **Generated:** {e['generatedAt']}; environment {e['environment']}, region {e['region']}",
        f"- **Commit:** `{git['commit'] or 'unknown'}`"
        + (" (uncommitted changes)" if git["dirty"] else ""),
        f"- **Config sha256:** `{e['configSha256']}`",
        f"- **Policy pack:** {e['policyPack']['name']} {e['policyPack']['version']} with "
        f"{e['policyPack']['config']} (sha256 `{e['policyPack']['configSha256'][:16]}…`)",
        "",
        "## Exemptions in force",
        "",
    ]
    if e["exemptions"]:
        out += EXEMPTION_TABLE
        for x in e["exemptions"]:
            out.append(
                f"| `{x['rule']}` | `{x['resource']}` | {x['expires']} | {x['daysLeft']} | "
                f"{x['approver']} | {x['ticket']} | {x['findings']} | {table_cell(x['justification'])} |"
            )
    else:
        out.append("None.")
    out += ["", "## Model inventory", ""]
    if e["modelInventory"]:
        out += [
            "| model | version | stage | owner | risk tier | validation |",
            "|---|---|---|---|---|---|",
        ]
        for m in e["modelInventory"]:
            v = m.get("validation") or {}
            out.append(
                f"| {m['model']} | {m['version']} | {m['stage']} | {m.get('owner') or '—'} | "
                f"{m.get('riskTier') or '—'} | {v.get('status', '—')} {v.get('date', '')} |"
            )
        out += ["", f"Evidences: {'; '.join(e['inventoryClauses'])}."]
    else:
        out.append("No models.")
    out += ["", "## Controls", "", "| control | status | rules | resources judged | clauses |"]
    out += ["|---|---|---|---|---|"]
    for c in e["controls"]:
        judged = sorted({r for rule in c["rules"] for r in rule["resourcesJudged"]})
        rules = ", ".join("`{}` ({})".format(r["rule"], r["verdict"]) for r in c["rules"])
        clauses = table_cell("; ".join(c["clauses"]))
        out.append(f"| {c['id']} | {c['status']} | {rules} | {len(judged)} | {clauses} |")
    out += ["", "## Framework clauses", "", "| clause | controls |", "|---|---|"]
    for clause, ids in e["frameworks"].items():
        out.append(f"| {table_cell(clause)} | {', '.join(ids)} |")
    return "\n".join(out) + "\n"
