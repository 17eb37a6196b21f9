"""A simulated AWS for Pulumi's mock runtime.

`SimulatedAws` is a `pulumi.runtime.Mocks`: for every resource the program
registers it returns the outputs AWS (through the provider) would return —
ARNs in each service's own format with partition, region and account, IDs in
each service's own shape (`vpc-0123…`, `sg-…`, KMS key UUIDs), auto-names with
Pulumi's random suffix — and it answers the data sources the stack uses
(region, caller identity, partition, availability zones).

It also refuses, like AWS does, a few inputs that would fail at apply time
(bucket names, IAM and SageMaker name lengths), so that a test cannot pass on
a program AWS would reject.

Everything is deterministic for a given (project, stack, config): IDs are
derived from a hash of the resource's URN, so two runs give the same output.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass, field
from typing import Any

import pulumi

from regulated_inference.lib.aws import (
    IAM_POLICY_NAME_MAX,
    IAM_ROLE_NAME_MAX,
    SAGEMAKER_NAME,
    SAGEMAKER_NAME_MAX,
    is_account_id,
    is_bucket_name,
    is_sagemaker_name,
    partition_of,
)

#: Per region the stack may use: the zone-ID prefix and the availability zone letters AWS exposes.
_AZS: dict[str, tuple[str, str]] = {
    "us-east-1": ("use1", "abcdef"),
    "eu-west-1": ("euw1", "abc"),
    "eu-west-2": ("euw2", "abc"),
    "eu-west-3": ("euw3", "abc"),
    "eu-central-1": ("euc1", "abc"),
    "eu-north-1": ("eun1", "abc"),
    "us-west-2": ("usw2", "abcd"),
    "ap-southeast-2": ("apse2", "abc"),
    "ca-central-1": ("cac1", "abd"),
}
#: Any other region: three zones, zone IDs under a placeholder prefix.
_OTHER_AZS = ("az", "abc")


class SimulatedAwsError(Exception):
    """An input AWS itself would reject at apply time."""


def account_for(project: str, stack: str) -> str:
    """A stable, realistic 12-digit account id for a (project, stack) that names no account."""
    digest = int(hashlib.sha256(f"{project}/{stack}".encode()).hexdigest(), 16)
    return str(100000000000 + digest % 899999999999)


def allowed_accounts(config: dict[str, str]) -> list[str]:
    """`aws:allowedAccountIds` as the program receives it (a JSON list in one config string).

    The provider key is a list of strings (pulumi-aws `config/vars.py`: `allowed_account_ids`,
    read with `get_object`); `pulumi config set --path 'aws:allowedAccountIds[0]' 123456789012`
    stores a whole number without a leading zero as an integer, so both shapes are read here.
    """
    raw = config.get("aws:allowedAccountIds")
    if raw in (None, ""):
        return []
    try:
        value = json.loads(raw)
    except (TypeError, ValueError):
        value = raw
    values = value if isinstance(value, list) else [value]
    return [str(v) for v in values]


def simulated_account(project: str, stack: str, config: dict[str, str], explicit: str = "") -> str:
    """The account the simulated caller is in: `--account`, else the first of
    `aws:allowedAccountIds` (the account the stack says it deploys to), else a hash of the stack."""
    if explicit:
        if not is_account_id(explicit):
            raise SimulatedAwsError(f"--account {explicit!r}: an AWS account id is 12 digits")
        return explicit
    for account in allowed_accounts(config):
        if is_account_id(account):
            return account
    return account_for(project, stack)


@dataclass
class _Ctx:
    """What one resource's outputs are computed from."""

    typ: str
    name: str
    inputs: dict[str, Any]
    region: str
    account: str
    partition: str
    seed: str

    def hex(self, n: int, salt: str = "") -> str:
        return hashlib.sha256((self.seed + salt).encode()).hexdigest()[:n]

    def uuid(self) -> str:
        return str(uuid.UUID(self.hex(32, "uuid")))

    def autoname(self, key: str = "name", max_len: int | None = None) -> str:
        """Pulumi auto-naming: the logical name plus a 7-hex random suffix."""
        if self.inputs.get(key):
            return str(self.inputs[key])
        prefix = self.inputs.get(f"{key}Prefix")
        if prefix:
            return f"{prefix}{self.hex(26, 'prefix')}"
        value = f"{self.name}-{self.hex(7, 'autoname')}"
        return value if max_len is None else value[:max_len]

    def arn(self, service: str, resource: str, *, region: bool = True, account: bool = True) -> str:
        return (
            f"arn:{self.partition}:{service}:{self.region if region else ''}:"
            f"{self.account if account else ''}:{resource}"
        )


def _bucket(c: _Ctx) -> tuple[str, dict]:
    name = c.inputs.get("bucket") or (
        f"{c.inputs['bucketPrefix']}{c.hex(26, 'p')}"
        if c.inputs.get("bucketPrefix")
        else f"{c.name}-{c.hex(7, 'autoname')}"
    )
    if not is_bucket_name(name):
        raise SimulatedAwsError(
            f"InvalidBucketName: '{name}' (3-63 chars, lowercase letters, digits, dots, hyphens; "
            "no adjacent dots, not an IP address)"
        )
    if c.inputs.get("objectLockEnabled") and c.inputs.get("objectLockEnabled") is not True:
        raise SimulatedAwsError("objectLockEnabled must be a boolean")
    return name, {
        "bucket": name,
        "arn": f"arn:{c.partition}:s3:::{name}",
        "bucketDomainName": f"{name}.s3.amazonaws.com",
        "bucketRegionalDomainName": f"{name}.s3.{c.region}.amazonaws.com",
        "hostedZoneId": "Z3GKZC51ZF0DB4",
        "region": c.region,
        "objectLockEnabled": bool(c.inputs.get("objectLockEnabled", False)),
    }


def _bucket_child(c: _Ctx) -> tuple[str, dict]:
    return str(c.inputs.get("bucket", c.name)), {}


def _kms_key(c: _Ctx) -> tuple[str, dict]:
    key_id = ("mrk-" + c.hex(32, "mrk")) if c.inputs.get("multiRegion") else c.uuid()
    return key_id, {
        "keyId": key_id,
        "arn": c.arn("kms", f"key/{key_id}"),
        "keyUsage": c.inputs.get("keyUsage", "ENCRYPT_DECRYPT"),
        "customerMasterKeySpec": c.inputs.get("customerMasterKeySpec", "SYMMETRIC_DEFAULT"),
        "deletionWindowInDays": c.inputs.get("deletionWindowInDays", 30),
        "enableKeyRotation": c.inputs.get("enableKeyRotation", False),
        "rotationPeriodInDays": c.inputs.get("rotationPeriodInDays", 365)
        if c.inputs.get("enableKeyRotation")
        else None,
        "multiRegion": bool(c.inputs.get("multiRegion", False)),
    }


def _kms_alias(c: _Ctx) -> tuple[str, dict]:
    name = c.inputs.get("name") or f"alias/{c.name}-{c.hex(7, 'a')}"
    if not name.startswith("alias/") or name.startswith("alias/aws/"):
        raise SimulatedAwsError(f"InvalidAliasNameException: '{name}'")
    return name, {"name": name, "arn": c.arn("kms", name), "targetKeyArn": None}


def _ec2(prefix: str, arn_kind: str | None = None, extra=None):
    def make(c: _Ctx) -> tuple[str, dict]:
        rid = f"{prefix}-{c.hex(17, prefix)}"
        out: dict[str, Any] = {"ownerId": c.account}
        if arn_kind:
            out["arn"] = c.arn("ec2", f"{arn_kind}/{rid}")
        if extra:
            out.update(extra(c, rid))
        return rid, out

    return make


def _vpc_extra(c: _Ctx, rid: str) -> dict:
    return {
        "defaultSecurityGroupId": f"sg-{c.hex(17, 'dsg')}",
        "defaultNetworkAclId": f"acl-{c.hex(17, 'acl')}",
        "defaultRouteTableId": f"rtb-{c.hex(17, 'drt')}",
        "mainRouteTableId": f"rtb-{c.hex(17, 'drt')}",
        "dhcpOptionsId": f"dopt-{c.hex(17, 'dopt')}",
        "instanceTenancy": c.inputs.get("instanceTenancy", "default"),
    }


def _subnet_extra(c: _Ctx, rid: str) -> dict:
    az = c.inputs.get("availabilityZone", f"{c.region}a")
    return {
        "availabilityZoneId": _zone_id(c.region, az[-1]),
        "mapPublicIpOnLaunch": bool(c.inputs.get("mapPublicIpOnLaunch", False)),
    }


def _zone_id(region: str, letter: str) -> str:
    """The zone ID of `<region><letter>` (`euw2-az1` for eu-west-2a)."""
    return f"{_AZS.get(region, _OTHER_AZS)[0]}-az{ord(letter) - 96}"


def _vpce_extra(c: _Ctx, rid: str) -> dict:
    service = str(c.inputs.get("serviceName", ""))
    short = service.rsplit(".", 1)[-1] if service else "svc"
    out: dict[str, Any] = {"state": "available", "prefixListId": None}
    if c.inputs.get("vpcEndpointType", "Gateway") == "Interface":
        out["dnsEntries"] = [
            {
                "dnsName": f"{rid}-{c.hex(8, 'dns')}.{short}.{c.region}.vpce.amazonaws.com",
                "hostedZoneId": "Z7HUB22UULQXV",
            }
        ]
        out["networkInterfaceIds"] = [
            f"eni-{c.hex(17, f'eni{i}')}" for i, _ in enumerate(c.inputs.get("subnetIds") or [])
        ]
    else:
        out["prefixListId"] = f"pl-{c.hex(8, 'pl')}"
    return out


def _log_group(c: _Ctx) -> tuple[str, dict]:
    name = c.autoname("name", 512)
    return name, {"name": name, "arn": c.arn("logs", f"log-group:{name}")}


def _iam_named(kind: str, max_len: int):
    def make(c: _Ctx) -> tuple[str, dict]:
        name = c.autoname("name")
        if len(name) > max_len:
            raise SimulatedAwsError(
                f"ValidationError: IAM {kind} name '{name}' exceeds {max_len} characters"
            )
        path = c.inputs.get("path", "/")
        out = {"name": name, "arn": f"arn:{c.partition}:iam::{c.account}:{kind}{path}{name}"}
        if kind == "role":
            out["uniqueId"] = "AROA" + c.hex(17, "uid").upper()
            out["createDate"] = "2026-01-01T00:00:00Z"
        if kind == "policy":
            out["policyId"] = "ANPA" + c.hex(17, "pid").upper()
            return out["arn"], out
        return name, out

    return make


def _role_policy(c: _Ctx) -> tuple[str, dict]:
    name = c.autoname("name")
    return f"{c.inputs.get('role')}:{name}", {"name": name}


def _sagemaker(kind: str, name_key: str = "name"):
    def make(c: _Ctx) -> tuple[str, dict]:
        name = c.autoname(name_key, SAGEMAKER_NAME_MAX)
        if not is_sagemaker_name(name):
            raise SimulatedAwsError(
                f"ValidationException: SageMaker {kind} name '{name}' must match "
                f"{SAGEMAKER_NAME.pattern}"
            )
        return name, {name_key: name, "arn": c.arn("sagemaker", f"{kind}/{name.lower()}")}

    return make


def _sns_topic(c: _Ctx) -> tuple[str, dict]:
    name = c.autoname("name", 256)
    arn = c.arn("sns", name)
    return arn, {"name": name, "arn": arn, "owner": c.account}


def _sns_subscription(c: _Ctx) -> tuple[str, dict]:
    arn = f"{c.inputs.get('topic', c.arn('sns', 'topic'))}:{c.uuid()}"
    return arn, {
        "arn": arn,
        "ownerId": c.account,
        "pendingConfirmation": c.inputs.get("protocol") == "email",
    }


def _trail(c: _Ctx) -> tuple[str, dict]:
    name = c.autoname("name", 128)
    arn = c.arn("cloudtrail", f"trail/{name}")
    return arn, {"name": name, "arn": arn, "homeRegion": c.region}


def _alarm(c: _Ctx) -> tuple[str, dict]:
    name = c.autoname(
        "alarmName"
        if "alarmName" in c.inputs or c.typ.endswith("compositeAlarm:CompositeAlarm")
        else "name",
        255,
    )
    key = "alarmName" if c.typ.endswith("compositeAlarm:CompositeAlarm") else "name"
    return name, {key: name, "arn": c.arn("cloudwatch", f"alarm:{name}")}


def _dashboard(c: _Ctx) -> tuple[str, dict]:
    name = c.inputs.get("dashboardName") or f"{c.name}-{c.hex(7, 'd')}"
    return name, {
        "dashboardName": name,
        "dashboardArn": f"arn:{c.partition}:cloudwatch::{c.account}:dashboard/{name}",
    }


def _ecr_repo(c: _Ctx) -> tuple[str, dict]:
    name = c.autoname("name", 256)
    return name, {
        "name": name,
        "arn": c.arn("ecr", f"repository/{name}"),
        "registryId": c.account,
        "repositoryUrl": f"{c.account}.dkr.ecr.{c.region}.amazonaws.com/{name}",
    }


def _guardrail(c: _Ctx) -> tuple[str, dict]:
    gid = c.hex(12, "gr")
    return f"{gid},DRAFT", {
        "guardrailId": gid,
        "guardrailArn": c.arn("bedrock", f"guardrail/{gid}"),
        "version": "DRAFT",
        "status": "READY",
        "createdAt": "2026-01-01T00:00:00Z",
    }


def _guardrail_version(c: _Ctx) -> tuple[str, dict]:
    return f"{c.inputs.get('guardrailArn')},1", {"version": "1"}


def _autoscaling_target(c: _Ctx) -> tuple[str, dict]:
    rid = str(c.inputs.get("resourceId", c.name))
    return rid, {"arn": c.arn("application-autoscaling", f"scalable-target/{c.hex(20, 'st')}")}


def _autoscaling_policy(c: _Ctx) -> tuple[str, dict]:
    name = c.autoname("name")
    return name, {
        "name": name,
        "arn": c.arn(
            "autoscaling",
            f"scalingPolicy:{c.uuid()}:resource/{c.inputs.get('serviceNamespace', 'sagemaker')}/"
            f"{c.inputs.get('resourceId', '')}:policyName/{name}",
        ),
        "alarmArns": [],
    }


def _oidc_provider(c: _Ctx) -> tuple[str, dict]:
    host = str(c.inputs.get("url", "oidc.example")).removeprefix("https://")
    arn = f"arn:{c.partition}:iam::{c.account}:oidc-provider/{host}"
    return arn, {"arn": arn}


def _eks_cluster(c: _Ctx) -> tuple[str, dict]:
    name = c.autoname("name", 100)
    oidc = f"https://oidc.eks.{c.region}.amazonaws.com/id/{c.hex(32, 'oidc').upper()}"
    return name, {
        "name": name,
        "arn": c.arn("eks", f"cluster/{name}"),
        "endpoint": f"https://{c.hex(32, 'ep').upper()}.gr7.{c.region}.eks.amazonaws.com",
        "identities": [{"oidcs": [{"issuer": oidc}]}],
    }


def _event_rule(c: _Ctx) -> tuple[str, dict]:
    # EventBridge PutRule: the rule is identified by its name on the default bus.
    name = c.autoname("name", 64)
    return name, {"name": name, "arn": c.arn("events", f"rule/{name}")}


def _invocation_logging(c: _Ctx) -> tuple[str, dict]:
    # One setting per account and region: the Terraform resource's id is the region
    # (terraform-provider-aws internal/service/bedrock/model_invocation_logging_configuration.go).
    return c.region, {}


def _generic(c: _Ctx) -> tuple[str, dict]:
    return f"{c.name}-{c.hex(7, 'id')}", {}


#: Type token → how AWS identifies the resource and what it returns.
_AWS: dict[str, Any] = {
    "aws:s3/bucket:Bucket": _bucket,
    "aws:s3/bucketV2:BucketV2": _bucket,
    "aws:kms/key:Key": _kms_key,
    "aws:kms/replicaKey:ReplicaKey": _kms_key,
    "aws:kms/alias:Alias": _kms_alias,
    "aws:ec2/vpc:Vpc": _ec2("vpc", "vpc", _vpc_extra),
    "aws:ec2/subnet:Subnet": _ec2("subnet", "subnet", _subnet_extra),
    "aws:ec2/routeTable:RouteTable": _ec2("rtb", "route-table"),
    "aws:ec2/routeTableAssociation:RouteTableAssociation": _ec2("rtbassoc"),
    "aws:ec2/securityGroup:SecurityGroup": _ec2("sg", "security-group"),
    "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": _ec2("sg", "security-group"),
    "aws:ec2/defaultNetworkAcl:DefaultNetworkAcl": _ec2("acl", "network-acl"),
    "aws:ec2/networkAcl:NetworkAcl": _ec2("acl", "network-acl"),
    "aws:ec2/vpcEndpoint:VpcEndpoint": _ec2("vpce", "vpc-endpoint", _vpce_extra),
    "aws:ec2/flowLog:FlowLog": _ec2("fl", "vpc-flow-log"),
    "aws:ec2/internetGateway:InternetGateway": _ec2("igw", "internet-gateway"),
    "aws:ec2/natGateway:NatGateway": _ec2("nat", "natgateway"),
    "aws:ec2/eip:Eip": _ec2("eipalloc", "elastic-ip"),
    "aws:ec2/route:Route": _ec2("r"),
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": _ec2("sgr", "security-group-rule"),
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": _ec2("sgr", "security-group-rule"),
    "aws:ec2/securityGroupRule:SecurityGroupRule": _ec2("sgrule"),
    "aws:cloudwatch/logGroup:LogGroup": _log_group,
    "aws:iam/role:Role": _iam_named("role", IAM_ROLE_NAME_MAX),
    "aws:iam/policy:Policy": _iam_named("policy", IAM_POLICY_NAME_MAX),
    "aws:iam/rolePolicy:RolePolicy": _role_policy,
    "aws:iam/openIdConnectProvider:OpenIdConnectProvider": _oidc_provider,
    "aws:sagemaker/model:Model": _sagemaker("model"),
    "aws:sagemaker/endpointConfiguration:EndpointConfiguration": _sagemaker("endpoint-config"),
    "aws:sagemaker/endpoint:Endpoint": _sagemaker("endpoint"),
    "aws:sagemaker/modelPackageGroup:ModelPackageGroup": _sagemaker(
        "model-package-group", "modelPackageGroupName"
    ),
    "aws:sagemaker/dataQualityJobDefinition:DataQualityJobDefinition": _sagemaker(
        "data-quality-job-definition"
    ),
    "aws:sagemaker/monitoringSchedule:MonitoringSchedule": _sagemaker("monitoring-schedule"),
    "aws:sns/topic:Topic": _sns_topic,
    "aws:sns/topicSubscription:TopicSubscription": _sns_subscription,
    "aws:cloudtrail/trail:Trail": _trail,
    "aws:cloudwatch/metricAlarm:MetricAlarm": _alarm,
    "aws:cloudwatch/compositeAlarm:CompositeAlarm": _alarm,
    "aws:cloudwatch/dashboard:Dashboard": _dashboard,
    "aws:cloudwatch/eventRule:EventRule": _event_rule,
    "aws:ecr/repository:Repository": _ecr_repo,
    "aws:bedrock/guardrail:Guardrail": _guardrail,
    "aws:bedrock/guardrailVersion:GuardrailVersion": _guardrail_version,
    "aws:appautoscaling/target:Target": _autoscaling_target,
    "aws:appautoscaling/policy:Policy": _autoscaling_policy,
    "aws:eks/cluster:Cluster": _eks_cluster,
    "aws:bedrockmodel/invocationLoggingConfiguration:InvocationLoggingConfiguration": (
        _invocation_logging
    ),
}


def _is_bucket_child(typ: str) -> bool:
    return (
        typ.startswith("aws:s3/bucket")
        and typ not in _AWS
        and not typ.startswith("aws:s3/bucketObject")
    )


def _bucket_object(c: _Ctx) -> tuple[str, dict]:
    key = str(c.inputs.get("key", c.name))
    return key, {"key": key, "versionId": c.hex(32, "v"), "etag": c.hex(32, "etag")}


@dataclass
class SimulatedAws(pulumi.runtime.Mocks):
    """Pulumi mocks that behave like AWS for the resource types this project uses.

    `region` is the default provider's region (`aws:region`); explicit
    providers and resources with their own `region` argument are honoured.
    """

    project: str
    stack: str
    region: str
    account: str = ""
    provider_regions: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.account = self.account or account_for(self.project, self.stack)

    # -- resources -------------------------------------------------------
    def region_of(self, inputs: dict, provider_ref: str | None) -> str:
        """A resource's region: its own `region` argument, else its provider's."""
        if inputs.get("region"):
            return str(inputs["region"])
        if provider_ref:
            urn = provider_ref.rsplit("::", 1)[0]
            if urn in self.provider_regions:
                return self.provider_regions[urn]
        return self.region

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict]:
        typ, inputs = args.typ, dict(args.inputs)
        seed = f"{self.project}/{self.stack}/{typ}/{args.name}"
        if typ.startswith("pulumi:providers:"):
            pid = str(uuid.UUID(hashlib.sha256(seed.encode()).hexdigest()[:32]))
            return pid, inputs
        if typ.startswith("kubernetes:"):
            return self._kubernetes(args, inputs)
        region = self.region_of(inputs, args.provider)
        ctx = _Ctx(typ, args.name, inputs, region, self.account, partition_of(region), seed)
        if typ in _AWS:
            rid, extra = _AWS[typ](ctx)
        elif typ.startswith("aws:s3/bucketObject"):
            rid, extra = _bucket_object(ctx)
        elif _is_bucket_child(typ):
            rid, extra = _bucket_child(ctx)
        else:
            rid, extra = _generic(ctx)
        outputs = {**inputs, **{k: v for k, v in extra.items() if v is not None}}
        if typ.startswith("aws:") and "region" not in outputs and typ != "aws:iam/role:Role":
            outputs["region"] = region
        if "tags" in inputs:
            outputs["tagsAll"] = dict(inputs.get("tags") or {})
        return rid, outputs

    def _kubernetes(self, args, inputs: dict) -> tuple[str, dict]:
        meta = dict(inputs.get("metadata") or {})
        name = (
            meta.get("name") or f"{args.name}-{hashlib.sha256(args.name.encode()).hexdigest()[:8]}"
        )
        meta["name"] = name
        cluster_scoped = args.typ in {"kubernetes:core/v1:Namespace"}
        if not cluster_scoped:
            meta.setdefault("namespace", "default")
        meta["uid"] = str(
            uuid.UUID(hashlib.sha256(f"{self.stack}/{args.typ}/{name}".encode()).hexdigest()[:32])
        )
        rid = name if cluster_scoped else f"{meta['namespace']}/{name}"
        return rid, {**inputs, "metadata": meta}

    # -- data sources ----------------------------------------------------
    def call(self, args: pulumi.runtime.MockCallArgs) -> dict:
        token, a = args.token, args.args or {}
        region = str(a.get("region") or self.region_of({}, args.provider))
        part = partition_of(region)
        if token == "aws:index/getRegion:getRegion":
            return {
                "id": region,
                "name": region,
                "region": region,
                "endpoint": f"ec2.{region}.amazonaws.com",
                "description": region,
            }
        if token == "aws:index/getCallerIdentity:getCallerIdentity":
            return {
                "id": self.account,
                "accountId": self.account,
                "arn": f"arn:{part}:sts::{self.account}:assumed-role/platform-deployer/pulumi",
                "userId": "AROA"
                + hashlib.sha256(self.stack.encode()).hexdigest()[:17].upper()
                + ":pulumi",
            }
        if token == "aws:index/getPartition:getPartition":
            return {
                "id": part,
                "partition": part,
                "dnsSuffix": "amazonaws.com.cn" if part == "aws-cn" else "amazonaws.com",
                "reverseDnsPrefix": "cn.com.amazonaws" if part == "aws-cn" else "com.amazonaws",
            }
        if token == "aws:index/getAvailabilityZones:getAvailabilityZones":
            letters = _AZS.get(region, _OTHER_AZS)[1]
            return {
                "id": region,
                "names": [f"{region}{s}" for s in letters],
                "zoneIds": [_zone_id(region, s) for s in letters],
                "groupNames": [region] * len(letters),
                "state": "available",
            }
        raise SimulatedAwsError(f"the simulated AWS does not answer the data source {token}")
