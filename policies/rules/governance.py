"""Governance (G1-G4): tags, model provenance, descriptions, registries."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Any

from .base import UNKNOWN, Res, cannot_verify, get, has, is_unknown, parse_json, rule, string_list
from .checks import expect

TAGGABLE_FILE = Path(__file__).resolve().parent / "aws_taggable_types.txt"


@lru_cache(maxsize=1)
def taggable_types() -> frozenset[str]:
    lines = TAGGABLE_FILE.read_text().splitlines()
    return frozenset(line.strip() for line in lines if line.strip() and not line.startswith("#"))


@rule(
    name="required-tags",
    severity="low",
    controls=("G1",),
    types=("aws:*",),
    dev_advisory=True,
    config_schema={
        "requiredTags": string_list(
            "Tag keys every taggable AWS resource must carry (resource tags or provider default tags).",
            ["owner", "environment", "data-classification", "cost-center"],
        )
    },
    remediation="Apply the required tags (the stack's tag transform, or the provider's default_tags).",
)
def required_tags(r: Res, cfg: dict):
    """Taggable AWS resources carry the required tags (owner, environment, data-classification, cost-center)."""
    if r.type not in taggable_types():
        return
    tags = get(r.props, "tags")
    if is_unknown(tags):
        yield cannot_verify("tags")
        return
    keys = set(tags or {})
    # provider inputs carry objects JSON-encoded (`defaultTags: '{"tags": {...}}'`)
    default_tags = parse_json(get(r.provider or {}, "defaultTags"))
    default = UNKNOWN if is_unknown(default_tags) else get(default_tags, "tags")
    if isinstance(default, dict):
        keys |= set(default)
    elif is_unknown(default):
        yield cannot_verify("provider defaultTags")
        return
    missing = [t for t in cfg["requiredTags"] if t not in keys]
    if missing:
        yield f"missing required tag(s): {', '.join(missing)}"
    merged = dict(default) if isinstance(default, dict) else {}
    merged.update(tags if isinstance(tags, dict) else {})  # resource tags override default tags
    empty = [
        t
        for t in cfg["requiredTags"]
        if t in merged
        and not is_unknown(merged[t])
        and not (isinstance(merged[t], str) and merged[t].strip())
    ]
    if empty:
        yield f"empty required tag(s): {', '.join(empty)}"


_PACKAGE_VERSION = re.compile(r"^arn:[a-z-]+:sagemaker:[a-z0-9-]+:\d{12}:model-package/[^/]+/\d+$")


@rule(
    name="sagemaker-model-from-registry",
    severity="high",
    controls=("G2",),
    types=("aws:sagemaker/model:Model",),
    remediation="Deploy a versioned, Approved model package from the SageMaker Model Registry "
    "(primary_container.model_package_name = the model-package version ARN).",
)
def model_from_registry(r: Res, cfg: dict):
    """Deployed models reference a versioned package from the model registry (the quality gate's output)."""
    containers = []
    pc = get(r.props, "primaryContainer")
    if pc is not None:
        containers.append(("primaryContainer", pc))
    cs = get(r.props, "containers")
    if is_unknown(cs):
        yield cannot_verify("containers")
        return
    containers += [(f"containers[{i}]", c) for i, c in enumerate(cs or [])]
    if not containers:
        yield "no container: the model has no registry package"
    for path, c in containers:
        if is_unknown(c):
            yield cannot_verify(path)
            continue
        pkg = get(c, "modelPackageName")
        if is_unknown(pkg):
            yield cannot_verify(f"{path}.modelPackageName")
        elif pkg is None:
            yield f"{path}.modelPackageName is not set: the model bypasses the registry and its approval gate"
        elif not _PACKAGE_VERSION.match(pkg):
            yield f"{path}.modelPackageName {pkg} is not a versioned model-package ARN"


@rule(
    name="descriptions-present",
    severity="low",
    controls=("G3",),
    types=(
        "aws:ec2/securityGroup:SecurityGroup",
        "aws:kms/key:Key",
        "aws:kms/externalKey:ExternalKey",
        "aws:kms/replicaKey:ReplicaKey",
        "aws:kms/replicaExternalKey:ReplicaExternalKey",
    ),
    dev_advisory=True,
    remediation='Describe what the security group or key is for (not Pulumi\'s default "Managed by Pulumi").',
)
def descriptions_present(r: Res, cfg: dict):
    """Security groups and keys say what they are for."""
    d = get(r.props, "description")
    if is_unknown(d):
        return  # present, value pending
    if not isinstance(d, str) or d.strip().lower() in (
        "",
        "managed by pulumi",
        "managed by terraform",
    ):
        yield "description is missing or the tool default"


@rule(
    name="ecr-repository-hardened",
    severity="medium",
    controls=("G4",),
    types=("aws:ecr/repository:Repository",),
    dev_advisory=True,
    remediation='Set image_scanning_configuration.scan_on_push=True, image_tag_mutability="IMMUTABLE" and '
    'encryption_configurations=[{encryption_type: "KMS", kms_key: the CMK ARN}].',
)
def ecr_hardened(r: Res, cfg: dict):
    """Container registries scan on push, keep tags immutable and encrypt with a CMK."""
    scan = "imageScanningConfiguration.scanOnPush"
    yield from expect(r.props, scan, True, f"{scan} is not true")
    yield from expect(
        r.props,
        "imageTagMutability",
        lambda mut: mut in ("IMMUTABLE", "IMMUTABLE_WITH_EXCLUSION"),
        lambda mut: f"imageTagMutability is {mut or 'MUTABLE (default)'}",
    )
    yield from expect(
        r.props,
        "encryptionConfigurations",
        lambda encs: any(_cmk_encryption(e) for e in encs or []),
        "encryptionConfigurations does not use KMS with a customer-managed key",
    )


def _cmk_encryption(e: Any) -> bool:
    """An ECR encryption configuration with KMS and a customer-managed key (not `alias/aws/…`)."""
    key = get(e, "kmsKey")
    return (
        str(get(e, "encryptionType") or "").upper() in ("KMS", "KMS_DSSE")
        and has(e, "kmsKey")
        and not (isinstance(key, str) and "alias/aws/" in key)
    )


RULES = [required_tags, model_from_registry, descriptions_present, ecr_hardened]
