"""SARIF 2.1.0 for code-scanning annotations on pull requests.

One run per preview: the policy pack is the tool, each rule a
`reportingDescriptor` (with controls, frameworks and remediation), each
finding a `result` at error (mandatory) or warning (advisory) level. A result
points at the source that declares the resource — the component class for a
resource inside one of our components, the stack program for a top-level
resource, `Pulumi.<stack>.yaml` for a stack-level finding — and carries the
resource URN as a logical location. `automationDetails.id` is per stack, so
the dev and prod uploads of one pull request do not replace each other.
"""

from __future__ import annotations

import dataclasses
import hashlib
import inspect
import json
import re
import sys
from pathlib import Path
from typing import Any

import pulumi

from regulated_inference.preview.analysis import ADVISORY, DISABLED, MANDATORY, PolicyViolation
from regulated_inference.preview.report import STACK_TYPE, PreviewReport, is_component
from regulated_inference.simulation.engine import REPO_ROOT, RecordedResource

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://github.com/regulated-inference/regulated-inference"

_LEVEL = {MANDATORY: "error", ADVISORY: "warning", DISABLED: "none"}
# GitHub ranks code-scanning alerts by `security-severity` (a CVSS-like score).
_SECURITY_SEVERITY = {
    "critical": "9.5",
    "high": "8.0",
    "medium": "5.5",
    "low": "3.0",
    "info": "1.0",
}


class SourceLocator:
    """Where in the repository a recorded resource is declared (best effort, never fails)."""

    def __init__(self, report: PreviewReport):
        self.report = report
        self.project_dir = (report.project_dir or REPO_ROOT).resolve()
        self._by_urn = report.recording.by_urn()
        self._classes: dict[str, tuple[Path, int, list[str]] | None] = {}

    def relative(self, path: Path) -> str:
        path = path.resolve()
        for base in (REPO_ROOT, self.project_dir):
            try:
                return path.relative_to(base).as_posix()
            except ValueError:
                continue
        return path.as_uri()

    def _component_source(self, token: str) -> tuple[Path, int, list[str]] | None:
        """File, first line and source lines of the class registered under `token`.

        Type tokens name a class, not a module, and two programs may both have
        a `SecureBucket`: a class defined in the program's own directory wins,
        then an imported class whose file is inside the project, then any.
        """
        if token in self._classes:
            return self._classes[token]
        cls_name = token.rsplit(":", 1)[-1]
        found = self._grep_class(cls_name)
        if found is None:
            candidates = []
            for cls in _all_subclasses(pulumi.ComponentResource):
                if cls.__name__ != cls_name:
                    continue
                try:
                    lines, start = inspect.getsourcelines(cls)
                    path = Path(inspect.getsourcefile(cls) or "").resolve()
                except (OSError, TypeError):
                    continue
                candidates.append(
                    (0 if path.is_relative_to(self.project_dir) else 1, path, start, lines)
                )
            if candidates:
                _, path, start, lines = min(candidates, key=lambda c: c[0])
                found = (path, start, lines)
        self._classes[token] = found
        return found

    @staticmethod
    def _line_naming(path: Path, name: str) -> int:
        """The first line of `path` that spells `name` as a string literal (1 if none)."""
        return SourceLocator._line_matching(path, r"[\"']" + re.escape(name) + r"[\"']")

    @staticmethod
    def _line_matching(path: Path, regex: str) -> int:
        """The first line of `path` matching `regex` (1 if none)."""
        pattern = re.compile(regex)
        try:
            for i, line in enumerate(path.read_text(encoding="utf-8").splitlines()):
                if pattern.search(line):
                    return i + 1
        except (OSError, UnicodeDecodeError):
            pass
        return 1

    def _grep_class(self, cls_name: str) -> tuple[Path, int, list[str]] | None:
        main = self.program_file()
        folder = main.parent if main.is_file() else main
        pattern = re.compile(rf"^\s*class\s+{re.escape(cls_name)}\b")
        for path in sorted(folder.rglob("*.py"))[:200]:
            try:
                text = path.read_text(encoding="utf-8").splitlines(keepends=True)
            except (OSError, UnicodeDecodeError):
                continue
            for i, line in enumerate(text):
                if pattern.match(line):
                    return path, i + 1, text[i:]
        return None

    def program_file(self) -> Path:
        main = self.project_dir / "stacks" / "__main__.py"
        try:
            from regulated_inference.simulation.engine import load_project

            declared = self.project_dir / load_project(self.project_dir).get("main", ".")
            main = declared / "__main__.py" if declared.is_dir() else declared
        except Exception:  # noqa: BLE001 - a location is a nicety, never a failure
            pass
        return main

    def stack_file(self) -> Path:
        return self.project_dir / f"Pulumi.{self.report.stack}.yaml"

    def locate(self, urn: str | None) -> tuple[str, int]:
        """(repository-relative path, line) for a resource URN; stack file for stack findings."""
        res = self._by_urn.get(urn or "")
        if res is None or res.type == STACK_TYPE:
            return self.relative(self.stack_file()), 1
        if res.type.startswith("pulumi:providers:") and res.name.startswith("default"):
            # A default provider is configured by the stack file's `<package>:` keys.
            package = res.type.rsplit(":", 1)[-1]
            return self.relative(self.stack_file()), self._line_matching(
                self.stack_file(), rf"^\s*{re.escape(package)}:"
            )
        # The nearest component (the resource itself when it is one) declares it.
        comp: RecordedResource | None = res if is_component(res) else None
        cursor = res
        while comp is None and cursor.parent and cursor.parent in self._by_urn:
            cursor = self._by_urn[cursor.parent]
            if is_component(cursor):
                comp = cursor
        if comp is None:
            return self.relative(self.program_file()), self._line_naming(
                self.program_file(), res.name
            )
        src = self._component_source(comp.type)
        if src is None:
            return self.relative(self.program_file()), 1
        path, start, lines = src
        line = start
        if res is not comp and res.name.startswith(comp.name + "-"):
            # Children are named f"{name}-<role>": find the line that names the role.
            role = res.name[len(comp.name) + 1 :]
            pattern = re.compile(r"-" + re.escape(role) + r"[\"']")
            for offset, text in enumerate(lines):
                if pattern.search(text):
                    line = start + offset
                    break
        return self.relative(path), line


def _all_subclasses(cls: type) -> list[type]:
    out, todo = [], [cls]
    while todo:
        for sub in todo.pop().__subclasses__():
            out.append(sub)
            todo.append(sub)
    return out


def _rule_id(name: str) -> str:
    return name


def _fingerprint(v: PolicyViolation) -> str:
    # Stable across runs and message wording: rule + resource identity.
    return hashlib.sha256(f"{v.policy}|{v.urn or 'stack'}".encode()).hexdigest()


def _result_message(rep: PreviewReport, v: PolicyViolation) -> str:
    where = (
        f"{v.resource_type} '{v.resource_name}'"
        if v.resource_name
        else ("the stack" if v.urn is None else v.urn)
    )
    text = f"[{v.enforcement}] {v.message.strip()} ({where}, stack {rep.stack})"
    remediation = rep.violation_remediation(v)
    if remediation:
        text += f" Remediation: {remediation.strip()}"
    return text


def to_sarif(rep: PreviewReport) -> dict[str, Any]:
    """The SARIF log as a dict (see `render_sarif` for the text)."""
    locator = SourceLocator(rep)
    policies = list(rep.analysis.policies)
    known = {p.name for p in policies}
    # A finding from a rule the pack did not describe still needs a descriptor.
    extra = sorted({v.policy for v in rep.analysis.violations} - known)
    index = {p.name: i for i, p in enumerate(policies)}
    for i, name in enumerate(extra, start=len(policies)):
        index[name] = i

    rules = []
    for p in policies:
        tags = ["security", "compliance", *p.controls, *p.frameworks]
        props: dict[str, Any] = {
            "tags": list(dict.fromkeys(tags)),
            "enforcement": p.enforcement,
            "controls": list(p.controls),
            "frameworks": list(p.frameworks),
            "precision": "very-high",
        }
        if p.severity:
            props["severity"] = p.severity
            if p.severity.lower() in _SECURITY_SEVERITY:
                props["security-severity"] = _SECURITY_SEVERITY[p.severity.lower()]
        descriptor: dict[str, Any] = {
            "id": _rule_id(p.name),
            "name": "".join(part.capitalize() for part in re.split(r"[-_ ]+", p.name) if part),
            "shortDescription": {"text": (p.description or p.name).strip().split("\n")[0][:1000]},
            "fullDescription": {"text": (p.description or p.name).strip()},
            "defaultConfiguration": {
                "level": _LEVEL.get(p.enforcement, "note"),
                "enabled": p.enforcement != DISABLED,
            },
            "properties": props,
        }
        if p.remediation:
            descriptor["help"] = {
                "text": p.remediation.strip(),
                "markdown": f"**Remediation.** {p.remediation.strip()}\n\n"
                + (f"Controls: {', '.join(p.controls)}. " if p.controls else "")
                + (f"Frameworks: {'; '.join(p.frameworks)}." if p.frameworks else ""),
            }
        rules.append(descriptor)
    for name in extra:
        rules.append({"id": name, "shortDescription": {"text": name}})

    # An exempted finding is a result of the rule it breaks, suppressed (SARIF 2.1.0 §3.35:
    # kind "external" = suppressed outside the source, status "accepted", with a justification).
    from regulated_inference.preview.evidence import reports_exemption

    exempted = iter(rep.exempted_findings())
    levels = {p.name: p.enforcement for p in policies}
    results = []
    for v in rep.analysis.violations:
        path, line = locator.locate(v.urn)
        suppressions = None
        if reports_exemption(v):
            x = next(exempted)
            e = x.exemption
            v = dataclasses.replace(
                v,
                policy=x.rule if x.rule in index else v.policy,
                enforcement=levels.get(x.rule, v.enforcement),
                message=x.message,
            )
            suppressions = [
                {
                    "kind": "external",
                    "status": "accepted",
                    "justification": (
                        f"{e.get('justification')} (approver {e.get('approver')}, ticket "
                        f"{e.get('ticket')}, expires {e.get('expires')}, "
                        f"{e.get('daysLeft')} days left)"
                    ),
                    "properties": {
                        k: e.get(k) for k in ("approver", "ticket", "expires", "daysLeft")
                    },
                }
            ]
        result: dict[str, Any] = {
            "ruleId": _rule_id(v.policy),
            "ruleIndex": index[v.policy],
            "level": _LEVEL.get(v.enforcement, "note"),
            "message": {"text": _result_message(rep, v)},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": {"uri": path}
                        | ({} if path.startswith("file:") else {"uriBaseId": "%SRCROOT%"}),
                        "region": {"startLine": max(int(line), 1)},
                    },
                    "logicalLocations": [
                        {
                            "name": v.resource_name or rep.stack,
                            "fullyQualifiedName": v.urn or f"stack:{rep.project}/{rep.stack}",
                            "kind": "resource" if v.urn else "module",
                        }
                    ],
                }
            ],
            "partialFingerprints": {"offlinePreviewFinding/v1": _fingerprint(v)},
            "properties": {
                "enforcement": v.enforcement,
                "stack": rep.stack,
                "resourceType": v.resource_type,
                "urn": v.urn,
                "controls": list(rep.violation_controls(v)),
            },
        }
        if suppressions:
            result["suppressions"] = suppressions
        results.append(result)

    driver: dict[str, Any] = {
        "name": rep.analysis.pack_name or "policy-pack",
        "fullName": f"{rep.analysis.pack_name} (offline preview of {rep.project}/{rep.stack})",
        "informationUri": INFORMATION_URI,
        "rules": rules,
    }
    if rep.analysis.pack_version:
        driver["version"] = str(rep.analysis.pack_version)
        if re.fullmatch(r"\d+\.\d+\.\d+([-+].*)?", str(rep.analysis.pack_version)):
            driver["semanticVersion"] = str(rep.analysis.pack_version)

    run: dict[str, Any] = {
        "tool": {"driver": driver},
        "automationDetails": {"id": f"offline-preview/{rep.stack}/"},
        "invocations": [
            {
                "executionSuccessful": True,
                "exitCode": rep.exit_code,
                "commandLine": f"{Path(sys.executable).name} -m regulated_inference.preview --stack {rep.stack} --format sarif",
            }
        ],
        "originalUriBaseIds": {"%SRCROOT%": {"uri": (locator.project_dir.as_uri() + "/")}},
        "columnKind": "unicodeCodePoints",
        "results": results,
        "properties": {
            "project": rep.project,
            "stack": rep.stack,
            "region": rep.region,
            "resources": rep.counts()["total"],
            "mandatoryViolations": len(rep.mandatory),
            "advisoryViolations": len(rep.advisory),
        },
    }
    return {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}


def render_sarif(rep: PreviewReport) -> str:
    return json.dumps(to_sarif(rep), indent=2) + "\n"
