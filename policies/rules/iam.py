"""IAM least privilege (I1-I8)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator
from typing import Any

from . import frameworks as fw
from .base import Finding, Res, cannot_verify, get, is_unknown, rule
from .iam_documents import (
    ESCALATION_ACTIONS,
    ESCALATION_ON_STAR,
    KMS_DECRYPT_ACTIONS,
    DocumentError,
    Statement,
    action_matches,
    grants_any,
    on_all_resources,
    statements,
    unknown_parts,
)

ROLE = "aws:iam/role:Role"
IDENTITY_POLICY_TYPES = (
    "aws:iam/rolePolicy:RolePolicy",
    "aws:iam/policy:Policy",
    "aws:iam/userPolicy:UserPolicy",
    "aws:iam/groupPolicy:GroupPolicy",
    ROLE,
)
IAM_FRAMEWORKS = (
    fw.HIPAA_ACCESS,
    fw.SOC2_ACCESS,
    fw.SOC2_ACCESS_ROLES,
    fw.ISO_PRIVILEGED,
    fw.GDPR_SECURITY,
)

#: property path of the resource policy, per type (I8)
RESOURCE_POLICY_PATHS: dict[str, str] = {
    "aws:s3/bucketPolicy:BucketPolicy": "policy",
    "aws:kms/key:Key": "policy",
    "aws:kms/replicaKey:ReplicaKey": "policy",
    "aws:sns/topic:Topic": "policy",
    "aws:sns/topicPolicy:TopicPolicy": "policy",
    "aws:ec2/vpcEndpoint:VpcEndpoint": "policy",
    "aws:ecr/repositoryPolicy:RepositoryPolicy": "policy",
    "aws:sqs/queuePolicy:QueuePolicy": "policy",
    "aws:secretsmanager/secretPolicy:SecretPolicy": "policy",
}


def identity_documents(r: Res) -> Iterator[tuple[str, Any]]:
    """(label, document) for every identity policy a resource carries."""
    if r.type == ROLE:
        inline = get(r.props, "inlinePolicies")
        if is_unknown(inline):
            yield "inlinePolicies", inline
            return
        for i, p in enumerate(inline or []):
            if is_unknown(p):
                yield f"inlinePolicies[{i}]", p
            else:
                yield f"inlinePolicies[{i}] {p.get('name') or ''}".strip(), p.get("policy")
        return
    yield "policy", get(r.props, "policy")


def _statements_of(
    r: Res, documents: Iterator[tuple[str, Any]]
) -> Iterator[tuple[str, Statement] | Finding]:
    for label, doc in documents:
        if doc is None:
            continue
        try:
            sts = statements(doc)
        except DocumentError as e:
            yield Finding(f"{label}: {e}")
            continue
        if is_unknown(sts):
            yield cannot_verify(label, what="policy document")
            continue
        for st in sts:
            yield label, st


def _each_allow(r: Res) -> Iterator[tuple[str, Statement] | Finding]:
    for item in _statements_of(r, identity_documents(r)):
        if isinstance(item, Finding):
            yield item
        elif item[1].allows:
            yield item


def _per_allow(
    r: Res, check: Callable[[str, Statement], Iterator[str | Finding]]
) -> Iterator[str | Finding]:
    """Run `check` on each Allow statement of the resource's identity policies.

    Findings about the documents themselves (unparseable, unknown at preview) pass through.
    """
    for item in _each_allow(r):
        if isinstance(item, Finding):
            yield item
        else:
            yield from check(*item)


def _unknowns(label: str, st: Statement) -> Finding | None:
    parts = unknown_parts(st)
    return cannot_verify(f"{label} statement {st.sid} {'/'.join(parts)}") if parts else None


@rule(
    name="iam-no-admin-star",
    severity="critical",
    controls=("I1",),
    frameworks=IAM_FRAMEWORKS,
    types=IDENTITY_POLICY_TYPES,
    remediation='Replace Action "*" on Resource "*" (or an Allow with NotAction) with the exact actions '
    "the workload calls, on the exact ARNs it uses.",
)
def no_admin_star(r: Res, cfg: dict):
    """Identity policies never allow every action on every resource (`*:*`)."""

    def check(label: str, st: Statement) -> Iterator[str | Finding]:
        if st.not_actions is not None:
            yield f"{label} statement {st.sid}: Allow with NotAction grants every other action"
            return
        if any(a in ("*", "*:*") for a in st.actions or []) and on_all_resources(st):
            yield f'{label} statement {st.sid}: allows Action "*" on Resource "*"'
        elif (u := _unknowns(label, st)) is not None:
            yield u

    yield from _per_allow(r, check)


@rule(
    name="iam-no-wildcards",
    severity="high",
    controls=("I2",),
    frameworks=IAM_FRAMEWORKS,
    types=IDENTITY_POLICY_TYPES,
    config_schema={
        "starResourceActions": {
            "type": "array",
            "items": {"type": "string"},
            "description": 'Actions AWS only authorises on Resource "*" (no resource-level permissions).',
            "default": [
                "ecr:GetAuthorizationToken",
                "cloudwatch:PutMetricData",
                "sts:GetCallerIdentity",
                "xray:PutTraceSegments",
                "xray:PutTelemetryRecords",
                "logs:DescribeLogGroups",
                "ec2:CreateNetworkInterface",
                "ec2:DescribeNetworkInterfaces",
                "ec2:DescribeVpcs",
                "ec2:DescribeSubnets",
                "ec2:DescribeSecurityGroups",
                "ec2:DescribeDhcpOptions",
                "ec2:DeleteNetworkInterface",
                "ec2:CreateNetworkInterfacePermission",
                "ec2:DeleteNetworkInterfacePermission",
            ],
        }
    },
    remediation="Name each action explicitly (no `service:*` or `Get*`) and scope Resource to exact ARNs; "
    'Resource "*" is only accepted for the actions in `starResourceActions`.',
)
def no_wildcards(r: Res, cfg: dict):
    """Identity policies use no wildcard actions and no `*` resource outside a documented list."""
    star_ok = {a.lower() for a in cfg["starResourceActions"]}

    def check(label: str, st: Statement) -> Iterator[str | Finding]:
        if st.not_actions is not None:
            yield f"{label} statement {st.sid}: NotAction is an implicit wildcard"
        wild = [a for a in st.actions or [] if isinstance(a, str) and ("*" in a or "?" in a)]
        if wild:
            yield f"{label} statement {st.sid}: wildcard action(s) {', '.join(sorted(wild))}"
        if st.not_resources is not None:
            yield f"{label} statement {st.sid}: NotResource is an implicit wildcard"
        elif on_all_resources(st):
            unlisted = sorted(
                a
                for a in st.actions or []
                if isinstance(a, str) and a.lower() not in star_ok and a not in wild
            )
            if unlisted:
                yield f'{label} statement {st.sid}: Resource "*" for {", ".join(unlisted)}'
        if (u := _unknowns(label, st)) is not None:
            yield u

    yield from _per_allow(r, check)


@rule(
    name="iam-no-privilege-escalation",
    severity="critical",
    controls=("I3",),
    frameworks=IAM_FRAMEWORKS,
    types=IDENTITY_POLICY_TYPES,
    remediation="Remove IAM write actions (Put/Attach policy, CreateAccessKey, CreatePolicyVersion, "
    "UpdateAssumeRolePolicy, …) from workload roles; scope iam:PassRole and sts:AssumeRole to exact role ARNs.",
)
def no_privilege_escalation(r: Res, cfg: dict):
    """Identity policies grant no privilege-escalation actions (iam:PassRole on `*`, iam:Put*Policy, …)."""

    def check(label: str, st: Statement) -> Iterator[str | Finding]:
        granted = grants_any(st, ESCALATION_ACTIONS)
        if granted:
            yield f"{label} statement {st.sid}: grants {', '.join(granted)}"
        if on_all_resources(st):
            on_star = grants_any(st, ESCALATION_ON_STAR)
            if on_star:
                yield f'{label} statement {st.sid}: grants {", ".join(on_star)} on Resource "*"'
        if (u := _unknowns(label, st)) is not None:
            yield u

    yield from _per_allow(r, check)


@rule(
    name="iam-no-broad-managed-policies",
    severity="high",
    controls=("I4",),
    frameworks=IAM_FRAMEWORKS,
    types=(
        "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
        "aws:iam/policyAttachment:PolicyAttachment",
        "aws:iam/userPolicyAttachment:UserPolicyAttachment",
        "aws:iam/groupPolicyAttachment:GroupPolicyAttachment",
        "aws:iam/rolePolicyAttachmentsExclusive:RolePolicyAttachmentsExclusive",
        ROLE,
    ),
    config_schema={
        "deniedPolicyNames": {
            "type": "array",
            "items": {"type": "string"},
            "description": "AWS-managed policy names (wildcards allowed) that workloads must not attach.",
            "default": ["AdministratorAccess", "IAMFullAccess", "PowerUserAccess", "*FullAccess"],
        }
    },
    remediation="Detach the AWS-managed policy and grant the exact actions in a customer-managed or inline policy.",
)
def no_broad_managed_policies(r: Res, cfg: dict):
    """No AdministratorAccess, IAMFullAccess or *FullAccess managed policy is attached."""
    if r.type == ROLE:
        arns, label = get(r.props, "managedPolicyArns"), "managedPolicyArns"
    elif r.type.endswith("RolePolicyAttachmentsExclusive"):
        arns, label = get(r.props, "policyArns"), "policyArns"
    else:
        arns, label = [get(r.props, "policyArn")], "policyArn"
    if is_unknown(arns):
        yield cannot_verify(label)
        return
    for arn in arns or []:
        if arn is None:
            continue
        if is_unknown(arn):
            yield cannot_verify(label)
            continue
        name = arn.rsplit("/", 1)[-1]
        if ":iam::aws:policy/" in arn and any(
            action_matches(p, name) for p in cfg["deniedPolicyNames"]
        ):
            yield f"{label}: attaches AWS-managed {name}"


TRUST_CONDITION_KEYS = {
    "aws:sourceaccount",
    "aws:sourcearn",
    "aws:sourceorgid",
    "aws:sourceorgpaths",
}


@rule(
    name="iam-trust-policy-scoped",
    severity="high",
    controls=("I5",),
    frameworks=(*IAM_FRAMEWORKS, fw.HIPAA_AUTHN),
    types=(ROLE,),
    config_schema={
        "trustedAccountPrincipals": {
            "type": "array",
            "items": {"type": "string"},
            "description": "AWS account/role principals a trust policy may name (break-glass, CI).",
            "default": [],
        },
        "servicesWithoutSourceConditions": {
            "type": "array",
            "items": {"type": "string"},
            "description": "Service principals whose role trust cannot carry aws:SourceAccount/aws:SourceArn "
            "(documented exceptions only).",
            "default": [],
        },
    },
    remediation="Trust exactly one service principal per statement and add Condition aws:SourceAccount "
    "(and aws:SourceArn where the service supports it); federated (IRSA) trusts must pin `<issuer>:sub`.",
)
def trust_policy_scoped(r: Res, cfg: dict):
    """Role trust policies name one service and carry aws:SourceAccount/aws:SourceArn (confused deputy)."""
    doc = get(r.props, "assumeRolePolicy")
    if doc is None:
        yield "assumeRolePolicy is missing"
        return
    for item in _statements_of(r, iter([("assumeRolePolicy", doc)])):
        if isinstance(item, Finding):
            yield item
            continue
        _, st = item
        if not st.allows:
            continue
        if is_unknown(st.principal):
            yield cannot_verify(f"assumeRolePolicy statement {st.sid} Principal")
            continue
        if st.public_principal:
            yield f'statement {st.sid}: trusts Principal "*"'
            continue
        services = st.principal_values("Service")
        federated = st.principal_values("Federated")
        accounts = [
            a for a in st.principal_values("AWS") if a not in cfg["trustedAccountPrincipals"]
        ]
        keys = st.condition_keys()
        if accounts:
            yield f"statement {st.sid}: trusts AWS principal(s) {', '.join(map(str, accounts))}"
        if len(services) > 1:
            yield f"statement {st.sid}: trusts {len(services)} services ({', '.join(map(str, services))}); use one"
        exempt = set(cfg["servicesWithoutSourceConditions"])
        if services and not keys & TRUST_CONDITION_KEYS and not set(services) <= exempt:
            yield f"statement {st.sid}: service trust without aws:SourceAccount/aws:SourceArn condition"
        if federated and not any(k.endswith(":sub") for k in keys):
            yield f"statement {st.sid}: federated trust without a `:sub` condition"


@rule(
    name="iam-no-kms-decrypt-on-all-keys",
    severity="high",
    controls=("I6",),
    frameworks=(*IAM_FRAMEWORKS, fw.HIPAA_ENCRYPTION, fw.ISO_CRYPTO),
    types=IDENTITY_POLICY_TYPES,
    remediation="Grant kms:Decrypt (and kms:GenerateDataKey) on the exact key ARNs the workload uses.",
)
def no_kms_decrypt_on_all_keys(r: Res, cfg: dict):
    """Identity policies grant no kms:Decrypt or kms:* on Resource `*`."""

    def check(label: str, st: Statement) -> Iterator[str | Finding]:
        if on_all_resources(st):
            granted = grants_any(st, KMS_DECRYPT_ACTIONS)
            if granted:
                yield f"{label} statement {st.sid}: grants {', '.join(granted)} on every key"
        elif (u := _unknowns(label, st)) is not None:
            yield u

    yield from _per_allow(r, check)


WORKLOADS = {
    "aws:sagemaker/model:Model": "executionRoleArn",
    "aws:sagemaker/dataQualityJobDefinition:DataQualityJobDefinition": "roleArn",
    "aws:bedrock/customModel:CustomModel": "roleArn",
}
SERVICE_ACCOUNT = "kubernetes:core/v1:ServiceAccount"
IRSA_ANNOTATION = "eks.amazonaws.com/role-arn"


@rule(
    name="iam-one-role-per-workload",
    kind="stack",
    severity="medium",
    controls=("I7",),
    frameworks=IAM_FRAMEWORKS,
    remediation="Give each model (SageMaker Model, Kubernetes service account) its own execution role.",
)
def one_role_per_workload(stack, cfg: dict):
    """No execution role is shared by two models or workloads."""
    users: dict[str, list[Res]] = defaultdict(list)
    labels: dict[str, str] = {}
    for typ, path in WORKLOADS.items():
        if typ == "aws:sagemaker/dataQualityJobDefinition:DataQualityJobDefinition":
            continue  # monitoring jobs may share the monitoring role; models may not
        for r in stack.of_type(typ):
            role = stack.ref(r, path, (ROLE,))  # by ARN, or by dependency while the ARN is unknown
            arn = get(r.props, path)
            if role is not None:
                key, label = role.urn, str(get(role.props, "arn") or role.name)
            elif isinstance(arn, str):
                key, label = arn, arn  # a role outside the stack
            else:
                if is_unknown(arn):
                    yield cannot_verify(path, r.urn)
                continue
            users[key].append(r)
            labels[key] = label
    for sa in stack.of_type(SERVICE_ACCOUNT):
        annotations = get(sa.props, "metadata.annotations") or {}
        arn = annotations.get(IRSA_ANNOTATION) if isinstance(annotations, dict) else None
        if isinstance(arn, str):
            role = stack.ref(Res(sa.type, sa.name, sa.urn, {"arn": arn}), "arn", (ROLE,))
            key = role.urn if role is not None else arn
            users[key].append(sa)
            labels.setdefault(key, arn)
    for key, rs in users.items():
        if len(rs) > 1:
            names = ", ".join(sorted(r.name for r in rs))
            for r in rs:
                yield Finding(
                    f"role {labels[key]} is shared by {len(rs)} workloads ({names})", r.urn
                )


@rule(
    name="resource-policy-not-public",
    severity="critical",
    controls=("I8", "N10"),
    frameworks=(*IAM_FRAMEWORKS, fw.SOC2_BOUNDARY, fw.ISO_ACCESS_RESTRICTION, fw.GDPR_SECURITY),
    types=tuple(RESOURCE_POLICY_PATHS),
    remediation="Add a Condition (aws:PrincipalAccount, aws:SourceVpce, aws:SourceArn, …) to every "
    'statement that names Principal "*", or name the exact principals.',
)
def resource_policy_not_public(r: Res, cfg: dict):
    """Resource policies (bucket, key, topic, endpoint, registry) never open to `*` without conditions."""
    path = RESOURCE_POLICY_PATHS[r.type]
    for item in _statements_of(r, iter([(path, get(r.props, path))])):
        if isinstance(item, Finding):
            yield item
            continue
        label, st = item
        if not st.allows:
            continue
        if is_unknown(st.principal):
            yield cannot_verify(f"{label} statement {st.sid} Principal")
        elif st.public_principal and not st.has_conditions:
            yield f'{label} statement {st.sid}: allows Principal "*" without a condition'


RULES = [
    no_admin_star,
    no_wildcards,
    no_privilege_escalation,
    no_broad_managed_policies,
    trust_policy_scoped,
    no_kms_decrypt_on_all_keys,
    one_role_per_workload,
    resource_policy_not_public,
]
