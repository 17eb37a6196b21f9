"""IAM policy documents built from declared grants, on exact ARNs.

Pure helpers, no resources. A *grant* says what a workload needs in words a
reviewer can check ("read objects under this prefix", "decrypt with this
key"); `grant_statements` turns it into the narrowest statements AWS allows.

Actions that AWS does not let you scope to a resource are the only ones ever
given `Resource: "*"`, and each is listed in `RESOURCE_WILDCARD_ACTIONS` with
the reason and the condition that narrows it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi

#: Actions that only accept `Resource: "*"` (AWS service authorization
#: reference), with why, and how we narrow them instead.
RESOURCE_WILDCARD_ACTIONS: dict[str, str] = {
    "ecr:GetAuthorizationToken": "registry-wide token; no resource-level permissions",
    "cloudwatch:PutMetricData": "no resource-level permissions; narrowed by cloudwatch:namespace",
    "ec2:DescribeNetworkInterfaces": "Describe* calls have no resource-level permissions",
    "ec2:DescribeVpcs": "Describe* calls have no resource-level permissions",
    "ec2:DescribeDhcpOptions": "Describe* calls have no resource-level permissions",
    "ec2:DescribeSubnets": "Describe* calls have no resource-level permissions",
    "ec2:DescribeSecurityGroups": "Describe* calls have no resource-level permissions",
}


@dataclass(frozen=True)
class Statement:
    """One IAM statement. `resources` and condition values may be pulumi Inputs."""

    sid: str
    actions: tuple[str, ...]
    resources: tuple[Any, ...]
    conditions: dict[str, dict[str, Any]] = field(default_factory=dict)
    effect: str = "Allow"


def _check_actions(actions: Sequence[str], resources: Sequence[Any]) -> None:
    for action in actions:
        if "*" in action:
            raise ValueError(f"wildcard action {action!r}: grant exact actions")
    for resource in resources:
        if resource == "*" and not all(a in RESOURCE_WILDCARD_ACTIONS for a in actions):
            raise ValueError(
                f"Resource '*' for {list(actions)}: only {sorted(RESOURCE_WILDCARD_ACTIONS)} may use it"
            )


# -- grants ---------------------------------------------------------------------
@dataclass(frozen=True)
class ReadObjects:
    """s3:GetObject (and ListBucket limited to the prefix) under `prefix` of `bucket_arn`."""

    bucket_arn: pulumi.Input[str]
    prefix: str = ""


@dataclass(frozen=True)
class WriteObjects:
    """s3:PutObject under `prefix` of `bucket_arn` (no delete, no ACL changes)."""

    bucket_arn: pulumi.Input[str]
    prefix: str = ""


@dataclass(frozen=True)
class UseKey:
    """KMS use of one key. `encrypt` adds GenerateDataKey/Encrypt; `via_service` pins kms:ViaService."""

    key_arn: pulumi.Input[str]
    decrypt: bool = True
    encrypt: bool = False
    via_service: str | None = None  # e.g. "s3.eu-west-2.amazonaws.com"


@dataclass(frozen=True)
class WriteLogs:
    """logs:CreateLogStream/PutLogEvents in one log group."""

    log_group_arn: pulumi.Input[str]


@dataclass(frozen=True)
class PullImages:
    """Pull from one ECR repository (plus the registry-wide auth token)."""

    repository_arn: pulumi.Input[str]


@dataclass(frozen=True)
class PutMetrics:
    """cloudwatch:PutMetricData, only into `namespace`."""

    namespace: str


@dataclass(frozen=True)
class VpcAccess:
    """What SageMaker needs to attach ENIs in the given subnets and security groups."""

    subnet_arns: tuple[pulumi.Input[str], ...]
    security_group_arns: tuple[pulumi.Input[str], ...]
    region: str
    account_id: str


@dataclass(frozen=True)
class InvokeModels:
    """bedrock:InvokeModel(/WithResponseStream) on exact foundation-model or profile ARNs."""

    model_arns: tuple[pulumi.Input[str], ...]
    guardrail_arn: pulumi.Input[str] | None = None


@dataclass(frozen=True)
class InvokeEndpoints:
    """sagemaker:InvokeEndpoint on exact endpoint ARNs."""

    endpoint_arns: tuple[pulumi.Input[str], ...]


@dataclass(frozen=True)
class CustomStatement:
    """An escape hatch for needs the grants above do not cover; still exact ARNs, no wildcards."""

    sid: str
    actions: tuple[str, ...]
    resources: tuple[pulumi.Input[str], ...]
    conditions: dict[str, dict[str, Any]] = field(default_factory=dict)


Grant = (
    ReadObjects
    | WriteObjects
    | UseKey
    | WriteLogs
    | PullImages
    | PutMetrics
    | VpcAccess
    | InvokeModels
    | InvokeEndpoints
    | CustomStatement
)


def _objects(bucket_arn: pulumi.Input[str], prefix: str) -> pulumi.Output[str]:
    prefix = prefix.strip("/")
    return pulumi.Output.concat(bucket_arn, "/", prefix + "/*" if prefix else "*")


def grant_statements(grant: Grant, index: int) -> list[Statement]:
    """The statements one grant expands to; `index` makes Sids unique."""
    n = index
    if isinstance(grant, ReadObjects):
        prefix = grant.prefix.strip("/")
        list_cond = {"StringLike": {"s3:prefix": [f"{prefix}/*", prefix] if prefix else ["*"]}}
        return [
            Statement(
                f"ReadObjects{n}",
                ("s3:GetObject", "s3:GetObjectVersion"),
                (_objects(grant.bucket_arn, prefix),),
            ),
            Statement(f"ListPrefix{n}", ("s3:ListBucket",), (grant.bucket_arn,), list_cond),
        ]
    if isinstance(grant, WriteObjects):
        return [
            Statement(
                f"WriteObjects{n}", ("s3:PutObject",), (_objects(grant.bucket_arn, grant.prefix),)
            )
        ]
    if isinstance(grant, UseKey):
        actions: list[str] = []
        if grant.decrypt:
            actions.append("kms:Decrypt")
        if grant.encrypt:
            actions += ["kms:Encrypt", "kms:GenerateDataKey"]
        actions.append("kms:DescribeKey")
        cond = {"StringEquals": {"kms:ViaService": grant.via_service}} if grant.via_service else {}
        return [Statement(f"UseKey{n}", tuple(actions), (grant.key_arn,), cond)]
    if isinstance(grant, WriteLogs):
        return [
            Statement(
                f"WriteLogs{n}",
                ("logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"),
                (grant.log_group_arn, pulumi.Output.concat(grant.log_group_arn, ":log-stream:*")),
            )
        ]
    if isinstance(grant, PullImages):
        return [
            Statement(
                f"PullImages{n}",
                (
                    "ecr:BatchGetImage",
                    "ecr:GetDownloadUrlForLayer",
                    "ecr:BatchCheckLayerAvailability",
                ),
                (grant.repository_arn,),
            ),
            Statement(f"EcrAuth{n}", ("ecr:GetAuthorizationToken",), ("*",)),
        ]
    if isinstance(grant, PutMetrics):
        return [
            Statement(
                f"PutMetrics{n}",
                ("cloudwatch:PutMetricData",),
                ("*",),
                {"StringEquals": {"cloudwatch:namespace": grant.namespace}},
            )
        ]
    if isinstance(grant, VpcAccess):
        eni = f"arn:aws:ec2:{grant.region}:{grant.account_id}:network-interface/*"
        return [
            Statement(
                f"DescribeNetwork{n}",
                (
                    "ec2:DescribeNetworkInterfaces",
                    "ec2:DescribeVpcs",
                    "ec2:DescribeDhcpOptions",
                    "ec2:DescribeSubnets",
                    "ec2:DescribeSecurityGroups",
                ),
                ("*",),
            ),
            Statement(
                f"ManageEnis{n}",
                (
                    "ec2:CreateNetworkInterface",
                    "ec2:CreateNetworkInterfacePermission",
                    "ec2:DeleteNetworkInterface",
                    "ec2:DeleteNetworkInterfacePermission",
                ),
                (eni, *grant.subnet_arns, *grant.security_group_arns),
            ),
        ]
    if isinstance(grant, InvokeModels):
        stmts = [
            Statement(
                f"InvokeModels{n}",
                ("bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream"),
                tuple(grant.model_arns),
            )
        ]
        if grant.guardrail_arn is not None:
            stmts.append(
                Statement(f"ApplyGuardrail{n}", ("bedrock:ApplyGuardrail",), (grant.guardrail_arn,))
            )
        return stmts
    if isinstance(grant, InvokeEndpoints):
        return [
            Statement(
                f"InvokeEndpoints{n}", ("sagemaker:InvokeEndpoint",), tuple(grant.endpoint_arns)
            )
        ]
    if isinstance(grant, CustomStatement):
        return [
            Statement(
                grant.sid, tuple(grant.actions), tuple(grant.resources), dict(grant.conditions)
            )
        ]
    raise TypeError(f"unknown grant {grant!r}")


def validate_statement(stmt: Statement) -> None:
    """Refuse wildcard actions and undocumented `*` resources (plain values only)."""
    _check_actions(stmt.actions, [r for r in stmt.resources if isinstance(r, str)])


def _render(stmt: Statement) -> pulumi.Output[dict]:
    def build(resources: list[Any], conditions: dict) -> dict:
        body: dict[str, Any] = {
            "Sid": stmt.sid,
            "Effect": stmt.effect,
            "Action": list(stmt.actions) if len(stmt.actions) > 1 else stmt.actions[0],
            "Resource": resources if len(resources) > 1 else resources[0],
        }
        if conditions:
            body["Condition"] = conditions
        return body

    return pulumi.Output.all(list(stmt.resources), stmt.conditions).apply(
        lambda a: build(a[0], a[1])
    )


def policy_json(statements: Sequence[Statement]) -> pulumi.Output[str]:
    """A policy document (Version 2012-10-17) as a JSON string Output."""
    return pulumi.Output.all(*[_render(s) for s in statements]).apply(
        lambda rendered: json.dumps(
            {"Version": "2012-10-17", "Statement": list(rendered)}, sort_keys=False
        )
    )


def document(statements: Sequence[dict]) -> str:
    """A plain policy document from already-resolved statement dicts."""
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})
