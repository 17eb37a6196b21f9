"""A tiny stand-in for the policy-pack driver, for tests of the preview's own logic.

It honours the `AnalysisResult` contract (regulated_inference/preview/analysis.py) and the
`--policy-pack-config` file format (`{"all": level, "<rule>": level}` or
`{"<rule>": {"enforcementLevel": level}}`), with four rules: a resource rule,
a tag rule, a stack-level rule (a trail exists) and a stack rule that
correlates buckets with their encryption.
"""

from __future__ import annotations

import json
from pathlib import Path

from regulated_inference.preview.analysis import AnalysisResult, PolicyInfo, PolicyViolation
from regulated_inference.simulation.engine import Recording

RULES = tuple(
    PolicyInfo(
        name=name,
        description=description,
        enforcement=enforcement,
        severity=severity,
        controls=controls,
        frameworks=frameworks,
        remediation=remediation,
    )
    for name, description, enforcement, severity, controls, frameworks, remediation in (
        (
            "kms-key-rotation",
            "KMS customer-managed keys rotate yearly.",
            "mandatory",
            "high",
            ("E8",),
            ("HIPAA 164.312(a)(2)(iv)", "ISO 27001 A.8.24"),
            "Set enable_key_rotation=True on the key.",
        ),
        (
            "required-tags",
            "Taggable resources carry owner and environment tags.",
            "advisory",
            "low",
            ("G1",),
            ("SOC 2 CC6.1",),
            "Add the missing tags through the stack's tag transform.",
        ),
        (
            "cloudtrail-present",
            "The stack has a CloudTrail trail.",
            "mandatory",
            "high",
            ("L1",),
            ("EU AI Act Art. 12 (record-keeping)", "HIPAA 164.312(b) (audit controls)"),
            "Add an aws.cloudtrail.Trail.",
        ),
        (
            "bucket-encryption-present",
            "Every bucket has an SSE-KMS encryption configuration.",
            "mandatory",
            "critical",
            ("E3",),
            ("HIPAA 164.312(a)(2)(iv)", "GDPR Art. 32"),
            "Add a BucketServerSideEncryptionConfiguration with aws:kms.",
        ),
    )
)
TAGGABLE = ("aws:s3/bucket:Bucket", "aws:sns/topic:Topic")


def _levels(config: str | dict) -> dict[str, str]:
    raw = config if isinstance(config, dict) else json.loads(Path(config).read_text())
    default = raw.get("all", None)
    default = default.get("enforcementLevel") if isinstance(default, dict) else default
    out = {}
    for rule in RULES:
        value = raw.get(rule.name, default or rule.enforcement)
        out[rule.name] = (
            value.get("enforcementLevel", rule.enforcement) if isinstance(value, dict) else value
        )
    return out


def analyze(recording: Recording, config: str | dict) -> AnalysisResult:
    levels = _levels(config)
    meta = {r.name: r for r in RULES}
    found: list[PolicyViolation] = []

    def flag(rule: str, message: str, res=None) -> None:
        if levels[rule] == "disabled":
            return
        m = meta[rule]
        found.append(
            PolicyViolation(
                policy=rule,
                enforcement=levels[rule],
                message=message,
                urn=res.urn if res else None,
                resource_type=res.type if res else None,
                resource_name=res.name if res else None,
                severity=m.severity,
                controls=m.controls,
                frameworks=m.frameworks,
                remediation=m.remediation,
            )
        )

    for res in recording.resources:
        if res.type == "aws:kms/key:Key" and res.inputs.get("enableKeyRotation") is not True:
            flag("kms-key-rotation", "Key rotation is off.", res)
        if res.type in TAGGABLE:
            missing = [
                t for t in ("owner", "environment") if t not in (res.inputs.get("tags") or {})
            ]
            if missing:
                flag("required-tags", f"Missing tags: {', '.join(missing)}.", res)
    encrypted = {
        r.inputs.get("bucket")
        for r in recording.of_type(
            "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
        )
    }
    for bucket in recording.of_type("aws:s3/bucket:Bucket"):
        if bucket.outputs.get("bucket") not in encrypted:
            flag(
                "bucket-encryption-present", "No encryption configuration for this bucket.", bucket
            )
    if not recording.of_type("aws:cloudtrail/trail:Trail"):
        flag("cloudtrail-present", "No CloudTrail trail in the stack.")
    policies = [PolicyInfo(**{**r.__dict__, "enforcement": levels[r.name]}) for r in RULES]
    return AnalysisResult(
        pack_name="fake-pack",
        pack_version="0.0.1",
        policies=policies,
        violations=found,
        resources_analyzed=len(recording.resources),
        seconds=0.001,
    )
