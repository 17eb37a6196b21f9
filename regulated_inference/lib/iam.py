"""IAM policy documents built from declared grants, on exact ARNs.

Pure helpers, no resources. A *grant* says what a workload needs in words a
reviewer can check ("read objects under this prefix", "decrypt with this
key"); `grant_statements` turns it into the narrowest statements AWS allows.

Actions that AWS does not let you scope to a resource are the only ones ever
given `Resource: "*"`, and each is listed in `RESOURCE_WILDCARD_ACTIONS` with
the reason and the condition that narrows it.
"""

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, NotRequired, TypedDict

import pulumi

from regulated_inference.lib import aws as aws_facts
from regulated_inference.lib.aws import AwsContext
from regulated_inference.lib.drift import DriftData
from regulated_inference.lib.sagemaker import PROCESSING_LOG_GROUP, VpcPlacement

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


#: What invoking a Bedrock model takes (the `invoke_models` grant, the bedrock-runtime endpoint).
INVOKE_MODEL_ACTIONS = ("bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream")


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
# Grants are TypedDicts so LeastPrivilegeRole can be hosted for other languages (its args cross
# the provider boundary as plain objects). A `Grant` is a tagged object with exactly one kind set;
# `grants` is a list of them, so the order — and so every statement's Sid — is the caller's.


class ReadObjects(TypedDict):
    """s3:GetObject (and ListBucket limited to the prefix) under `prefix` of `bucket_arn`."""

    bucket_arn: pulumi.Input[str]
    """The bucket's ARN."""
    prefix: NotRequired[str]
    """Key prefix (folder) the grant is limited to; default the whole bucket."""


class WriteObjects(TypedDict):
    """s3:PutObject under `prefix` of `bucket_arn` (no delete, no ACL changes)."""

    bucket_arn: pulumi.Input[str]
    """The bucket's ARN."""
    prefix: NotRequired[str]
    """Key prefix (folder) the grant is limited to; default the whole bucket."""


class UseKey(TypedDict):
    """KMS use of one key."""

    key_arn: pulumi.Input[str]
    """The key's ARN."""
    decrypt: NotRequired[bool]
    """kms:Decrypt; default True."""
    encrypt: NotRequired[bool]
    """kms:Encrypt and kms:GenerateDataKey; default False."""
    via_service: NotRequired[str]
    """Pins kms:ViaService (e.g. `s3.eu-west-2.amazonaws.com`); default no condition."""


class WriteLogs(TypedDict):
    """logs:CreateLogStream/PutLogEvents in one log group."""

    log_group_arn: pulumi.Input[str]
    """The log group's ARN (without `:*`)."""


class PullImages(TypedDict):
    """Pull from one ECR repository (plus the registry-wide auth token)."""

    repository_arn: pulumi.Input[str]
    """The repository's ARN."""


class PutMetrics(TypedDict):
    """cloudwatch:PutMetricData, only into `namespace`."""

    namespace: str
    """The CloudWatch namespace (cloudwatch:namespace condition)."""


class VpcAccess(TypedDict):
    """What SageMaker needs to attach ENIs in the given subnets and security groups."""

    subnet_arns: list[pulumi.Input[str]]
    """Subnets the ENIs may be created in."""
    security_group_arns: list[pulumi.Input[str]]
    """Security groups the ENIs may use."""
    network_interface_arn: str
    """The account's ENI ARN pattern (`aws.ec2_arn(ctx, "network-interface", "*")`)."""


class InvokeModels(TypedDict):
    """bedrock:InvokeModel(/WithResponseStream) on exact foundation-model or profile ARNs."""

    model_arns: list[pulumi.Input[str]]
    """Foundation-model or inference-profile ARNs."""
    guardrail_arn: NotRequired[pulumi.Input[str]]
    """Adds bedrock:ApplyGuardrail on this guardrail; default none."""


class InvokeEndpoints(TypedDict):
    """sagemaker:InvokeEndpoint on exact endpoint ARNs."""

    endpoint_arns: list[pulumi.Input[str]]
    """The endpoints' ARNs."""


class CustomStatement(TypedDict):
    """An escape hatch for needs the grants above do not cover; still exact ARNs, no wildcards."""

    sid: str
    """The statement id."""
    actions: list[str]
    """Exact actions (no wildcards)."""
    resources: list[pulumi.Input[str]]
    """Exact resource ARNs."""
    conditions: NotRequired[dict[str, dict[str, list[pulumi.Input[str]]]]]
    """IAM conditions: operator -> key -> values (one value is written as a scalar)."""


class Grant(TypedDict):
    """One permission of a role: set exactly one of the fields."""

    read_objects: NotRequired[ReadObjects]
    """Read objects under a prefix of a bucket."""
    write_objects: NotRequired[WriteObjects]
    """Write objects under a prefix of a bucket."""
    use_key: NotRequired[UseKey]
    """Use one KMS key."""
    write_logs: NotRequired[WriteLogs]
    """Write to one log group."""
    pull_images: NotRequired[PullImages]
    """Pull images from one ECR repository."""
    put_metrics: NotRequired[PutMetrics]
    """Publish metrics into one namespace."""
    vpc_access: NotRequired[VpcAccess]
    """Attach ENIs in given subnets and security groups."""
    invoke_models: NotRequired[InvokeModels]
    """Invoke Bedrock models."""
    invoke_endpoints: NotRequired[InvokeEndpoints]
    """Invoke SageMaker endpoints."""
    custom_statement: NotRequired[CustomStatement]
    """A custom statement on exact ARNs."""


GRANT_KINDS: tuple[str, ...] = tuple(Grant.__annotations__)


# Builders: one call per grant, so a composition reads as a list of permissions.
def read_objects(bucket_arn: pulumi.Input[str], prefix: str = "") -> Grant:
    return {"read_objects": {"bucket_arn": bucket_arn, "prefix": prefix}}


def write_objects(bucket_arn: pulumi.Input[str], prefix: str = "") -> Grant:
    return {"write_objects": {"bucket_arn": bucket_arn, "prefix": prefix}}


def use_key(
    key_arn: pulumi.Input[str],
    decrypt: bool = True,
    encrypt: bool = False,
    via_service: str | None = None,
) -> Grant:
    grant: UseKey = {"key_arn": key_arn, "decrypt": decrypt, "encrypt": encrypt}
    if via_service:
        grant["via_service"] = via_service
    return {"use_key": grant}


def write_logs(log_group_arn: pulumi.Input[str]) -> Grant:
    return {"write_logs": {"log_group_arn": log_group_arn}}


def pull_images(repository_arn: pulumi.Input[str]) -> Grant:
    return {"pull_images": {"repository_arn": repository_arn}}


def put_metrics(namespace: str) -> Grant:
    return {"put_metrics": {"namespace": namespace}}


def vpc_access(
    subnet_arns: Sequence[pulumi.Input[str]],
    security_group_arns: Sequence[pulumi.Input[str]],
    network_interface_arn: str,
) -> Grant:
    return {
        "vpc_access": {
            "subnet_arns": list(subnet_arns),
            "security_group_arns": list(security_group_arns),
            "network_interface_arn": network_interface_arn,
        }
    }


def invoke_models(
    model_arns: Sequence[pulumi.Input[str]], guardrail_arn: pulumi.Input[str] | None = None
) -> Grant:
    grant: InvokeModels = {"model_arns": list(model_arns)}
    if guardrail_arn is not None:
        grant["guardrail_arn"] = guardrail_arn
    return {"invoke_models": grant}


def invoke_endpoints(endpoint_arns: Sequence[pulumi.Input[str]]) -> Grant:
    return {"invoke_endpoints": {"endpoint_arns": list(endpoint_arns)}}


def custom_statement(
    sid: str,
    actions: Sequence[str],
    resources: Sequence[pulumi.Input[str]],
    conditions: dict[str, dict[str, Any]] | None = None,
) -> Grant:
    grant: CustomStatement = {"sid": sid, "actions": list(actions), "resources": list(resources)}
    if conditions:
        grant["conditions"] = {
            op: {k: list(v) if isinstance(v, list | tuple) else [v] for k, v in keys.items()}
            for op, keys in conditions.items()
        }
    return {"custom_statement": grant}


def _objects(bucket_arn: pulumi.Input[str], prefix: str) -> pulumi.Output[str]:
    prefix = prefix.strip("/")
    return pulumi.Output.concat(bucket_arn, "/", prefix + "/*" if prefix else "*")


def scalar_if_one(values: Sequence[Any]) -> Any:
    """One value as itself, several as a list: how AWS writes a policy element or condition value."""
    return values[0] if len(values) == 1 else list(values)


def grant_kind(grant: Grant) -> str:
    """The one kind a grant sets; TypeError for none or several (or something else)."""
    kinds = [k for k in GRANT_KINDS if isinstance(grant, dict) and grant.get(k) is not None]
    if len(kinds) != 1 or not isinstance(grant, dict) or set(grant) - set(GRANT_KINDS):
        raise TypeError(f"a grant sets exactly one of {list(GRANT_KINDS)}; got {grant!r}")
    return kinds[0]


def grant_statements(grant: Grant, index: int) -> list[Statement]:
    """The statements one grant expands to; `index` makes Sids unique."""
    n = index
    kind = grant_kind(grant)
    g: Any = grant[kind]  # type: ignore[literal-required]
    if kind == "read_objects":
        prefix = (g.get("prefix") or "").strip("/")
        list_cond = {"StringLike": {"s3:prefix": [f"{prefix}/*", prefix] if prefix else ["*"]}}
        return [
            Statement(
                f"ReadObjects{n}",
                ("s3:GetObject", "s3:GetObjectVersion"),
                (_objects(g["bucket_arn"], prefix),),
            ),
            Statement(f"ListPrefix{n}", ("s3:ListBucket",), (g["bucket_arn"],), list_cond),
        ]
    if kind == "write_objects":
        return [
            Statement(
                f"WriteObjects{n}",
                ("s3:PutObject",),
                (_objects(g["bucket_arn"], g.get("prefix") or ""),),
            )
        ]
    if kind == "use_key":
        actions: list[str] = []
        if g.get("decrypt", True):
            actions.append("kms:Decrypt")
        if g.get("encrypt", False):
            actions += ["kms:Encrypt", "kms:GenerateDataKey"]
        actions.append("kms:DescribeKey")
        via = g.get("via_service")
        cond = {"StringEquals": {"kms:ViaService": via}} if via else {}
        return [Statement(f"UseKey{n}", tuple(actions), (g["key_arn"],), cond)]
    if kind == "write_logs":
        arn = g["log_group_arn"]
        return [
            Statement(
                f"WriteLogs{n}",
                ("logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"),
                (arn, pulumi.Output.concat(arn, ":log-stream:*")),
            )
        ]
    if kind == "pull_images":
        return [
            Statement(
                f"PullImages{n}",
                (
                    "ecr:BatchGetImage",
                    "ecr:GetDownloadUrlForLayer",
                    "ecr:BatchCheckLayerAvailability",
                ),
                (g["repository_arn"],),
            ),
            Statement(f"EcrAuth{n}", ("ecr:GetAuthorizationToken",), ("*",)),
        ]
    if kind == "put_metrics":
        return [
            Statement(
                f"PutMetrics{n}",
                ("cloudwatch:PutMetricData",),
                ("*",),
                {"StringEquals": {"cloudwatch:namespace": g["namespace"]}},
            )
        ]
    if kind == "vpc_access":
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
                (
                    g["network_interface_arn"],
                    *g["subnet_arns"],
                    *g["security_group_arns"],
                ),
            ),
        ]
    if kind == "invoke_models":
        stmts = [
            Statement(
                f"InvokeModels{n}",
                INVOKE_MODEL_ACTIONS,
                tuple(g["model_arns"]),
            )
        ]
        if g.get("guardrail_arn") is not None:
            stmts.append(
                Statement(f"ApplyGuardrail{n}", ("bedrock:ApplyGuardrail",), (g["guardrail_arn"],))
            )
        return stmts
    if kind == "invoke_endpoints":
        return [
            Statement(
                f"InvokeEndpoints{n}", ("sagemaker:InvokeEndpoint",), tuple(g["endpoint_arns"])
            )
        ]
    conditions = {
        op: {k: scalar_if_one(list(v)) for k, v in keys.items()}
        for op, keys in (g.get("conditions") or {}).items()
    }
    return [Statement(g["sid"], tuple(g["actions"]), tuple(g["resources"]), conditions)]


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
    return pulumi.Output.all(*[_render(s) for s in statements]).apply(document)


def document(statements: Sequence[dict]) -> str:
    """A plain policy document from already-resolved statement dicts."""
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


# -- statements of policies that name their principal (resource, key and trust policies) -------


def principal_statement(
    sid: str,
    principal: str | dict[str, Any],
    action: str | list[str],
    resource: Any = None,
    condition: dict[str, Any] | None = None,
    *,
    effect: str = "Allow",
) -> dict[str, Any]:
    """One statement of a policy attached to a resource (bucket, key, topic) or of a trust policy:
    `Principal` is required there, `Resource` is omitted in a trust policy (IAM User Guide,
    "IAM JSON policy elements reference": Principal, Resource). Keys in the order AWS documents
    them; no `Condition` key when there is none."""
    statement: dict[str, Any] = {
        "Sid": sid,
        "Effect": effect,
        "Principal": principal,
        "Action": action,
    }
    if resource is not None:
        statement["Resource"] = resource
    if condition:
        statement["Condition"] = condition
    return statement


def on_behalf_of(account: str, source_arn: Any = None) -> dict[str, Any]:
    """The condition that keeps a service principal from acting for anyone else (confused-deputy
    prevention, IAM User Guide "The confused deputy problem"): `aws:SourceAccount` is `account`
    and, given `source_arn` (an ARN, an ArnLike pattern or a list of them), `aws:SourceArn` matches."""
    condition: dict[str, Any] = {"StringEquals": {"aws:SourceAccount": account}}
    if source_arn:
        arns = source_arn if isinstance(source_arn, list | tuple) else [source_arn]
        condition["ArnLike"] = {"aws:SourceArn": scalar_if_one(arns)}
    return condition


def allow_service(
    sid: str,
    service: str,
    action: str | list[str],
    resource: Any,
    condition: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Allow the AWS service principal `service` (e.g. `cloudtrail.amazonaws.com`) `action` on
    `resource`, under `condition` (aws:SourceAccount / aws:SourceArn against confused deputies)."""
    return principal_statement(sid, {"Service": service}, action, resource, condition)


def deny_insecure_transport(action: str, resource: Any) -> dict[str, Any]:
    """Deny every principal `action` on `resource` over plain HTTP (`aws:SecureTransport` false;
    IAM User Guide, "AWS global condition context keys")."""
    return principal_statement(
        "DenyInsecureTransport",
        "*",
        action,
        resource,
        {"Bool": {"aws:SecureTransport": "false"}},
        effect="Deny",
    )


def monitoring_job_grants(
    data: DriftData,
    network: VpcPlacement,
    ctx: AwsContext,
    metric_namespace: str,
    *,
    images: Sequence[Grant] = (),
) -> list[Grant]:
    """What a monitoring job (Model Monitor or a drift Processing job) may do, in this order:
    read the capture and baseline prefixes, write the output prefix, use the data key, pull
    `images`, attach ENIs in its subnets / security group, publish into `metric_namespace`,
    log to /aws/sagemaker/ProcessingJobs. `data` and `network` are the component's nested
    arguments (`DataQualityMonitorArgs` and `ScheduledDriftCheckArgs` share both types)."""
    return [
        read_objects(data["capture_bucket_arn"], data["capture_prefix"]),
        read_objects(data["baseline_bucket_arn"], data["baseline_prefix"]),
        write_objects(data["capture_bucket_arn"], data["output_prefix"]),
        use_key(data["data_key_arn"], decrypt=True, encrypt=True),
        *images,
        vpc_access(
            network["subnet_arns"],
            [network["security_group_arn"]],
            aws_facts.ec2_arn(ctx, "network-interface", "*"),
        ),
        put_metrics(metric_namespace),
        write_logs(aws_facts.log_group_arn(ctx, PROCESSING_LOG_GROUP)),
    ]
