"""The deployment's evidence document, written to the WORM audit bucket next to the model records.

The deploy workflow runs the offline preview with `--evidence FILE` before `pulumi up` and sets
`REGULATED_INFERENCE_EVIDENCE=FILE` for the `up` (.github/workflows/deploy.yml). The program then
checks that the document describes THIS deployment — same stack, same config sha256
(`regulated_inference.config.exemptions.config_digest`, computed by the preview the same way) —
and writes it as an `aws.s3.BucketObjectv2` under
`deployments/<stack>/evidence/<commit[:12]>-<configSha256[:16]>.json`, encrypted with the audit key,
retained on delete like the deployment records (Object Lock keeps it for the audit retention).
A document for another stack or another config stops the program with one message: evidence that
does not match what is deployed is worse than none. Without the variable nothing is written (a
local `pulumi up`); the workflow always sets it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pulumi
import pulumi_aws as aws

from regulated_inference.components.managed_inference import DEFAULT_DEPLOYMENT_RECORD_PREFIX
from regulated_inference.config import ConfigError, StackConfig
from regulated_inference.config.exemptions import config_digest
from regulated_inference.preview.evidence import SCHEMA_ID

ENV = "REGULATED_INFERENCE_EVIDENCE"
#: Next to the model deployment records (`ManagedInference`'s default record prefix).
KEY_PREFIX = DEFAULT_DEPLOYMENT_RECORD_PREFIX.rstrip("/")


def evidence_key(stack: str, evidence: dict[str, Any]) -> str:
    commit = (evidence.get("git") or {}).get("commit") or "nocommit"
    return f"{KEY_PREFIX}/{stack}/evidence/{commit[:12]}-{evidence['configSha256'][:16]}.json"


def load_evidence(path: str, stack: str, raw: dict[str, Any]) -> dict[str, Any]:
    """The evidence document at `path`, checked against this stack and its config."""
    try:
        evidence = json.loads(Path(path).read_text())
    except (OSError, ValueError) as exc:
        raise ConfigError(ENV, path, f"cannot read the evidence document: {exc}") from None
    if not isinstance(evidence, dict) or evidence.get("schema") != SCHEMA_ID:
        raise ConfigError(ENV, path, "is not a regulated-inference evidence document")
    if evidence.get("stack") != stack:
        raise ConfigError(
            ENV, path, f"is the evidence of stack {evidence.get('stack')!r}, not {stack!r}"
        )
    digest = config_digest(raw)
    if evidence.get("configSha256") != digest:
        raise ConfigError(
            ENV,
            path,
            f"was produced for config {str(evidence.get('configSha256'))[:16]}…, this deployment's "
            f"config is {digest[:16]}…: rerun the preview with --evidence",
        )
    return evidence


def write_evidence(
    cfg: StackConfig, raw: dict[str, Any], bucket: pulumi.Input[str], kms_key_arn: pulumi.Input[str]
) -> pulumi.Output[str] | None:
    """Store the evidence named by $REGULATED_INFERENCE_EVIDENCE; its key, or None."""
    path = os.environ.get(ENV)
    if not path:
        return None
    stack = pulumi.get_stack()
    evidence = load_evidence(path, stack, raw)
    key = evidence_key(stack, evidence)
    obj = aws.s3.BucketObjectv2(
        f"evidence-{evidence['configSha256'][:12]}",
        bucket=bucket,
        key=key,
        content=json.dumps(evidence, indent=2, sort_keys=True),
        content_type="application/json",
        server_side_encryption="aws:kms",
        kms_key_id=kms_key_arn,
        bucket_key_enabled=True,
        # Permanent (Object Lock): the next deployment adds its own document, and Pulumi forgets
        # this one instead of trying to delete a locked object.
        opts=pulumi.ResourceOptions(retain_on_delete=True),
    )
    return obj.key
