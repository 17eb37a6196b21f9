"""IAM least privilege (I1-I8)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Generator, Iterator
from typing import Any

from .base import Finding, Res, cannot_verify, get, is_unknown, rule, string_list
from .iam_documents import ESCALATION_ACTIONS, ESCALATION_ON_STAR, KMS_DECRYPT_ACTIONS
from .kubernetes import SERVICE_ACCOUNT
from .policy_eval import (
    ACCOUNT_RE,
    DocumentError,
    Stmt,
    account_of_arn,
    account_of_principal,
    exposure,
    glob_match,
    narrowing,
    pin_of,
    restrictable,
    statements,
)
from .stack_index import StackIndex

ROLE = "aws:iam/role:Role"
IDENTITY_POLICY_TYPES = (
    "aws:iam/rolePolicy:RolePolicy",
    "aws:iam/policy:Policy",
    "aws:iam/userPolicy:UserPolicy",
    "aws:iam/groupPolicy:GroupPolicy",
    ROLE,
)


#: property path of the resource policy, per type (I8)
RESOURCE_POLICY_PATHS: dict[str, str] = {
    "aws:s3/bucketPolicy:BucketPolicy": "policy",
    "aws:kms/key:Key": "policy",
    "aws:kms/replicaKey:ReplicaKey": "policy",
    "aws:kms/externalKey:ExternalKey": "policy",
    "aws:kms/replicaExternalKey:ReplicaExternalKey": "policy",
    "aws:s3/bucket:Bucket": "policy",
    "aws:s3/bucketV2:BucketV2": "policy",
    "aws:ec2/vpcEndpointPolicy:VpcEndpointPolicy": "policy",
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


def _document_statements(label: str, doc: Any) -> Generator[Finding, None, list[Stmt] | None]:
    """The statements of a policy document, used as `sts = yield from _document_statements(...)`:
    None when there is no document, or after a finding for an invalid one (its error) or an
    unknown one (cannot verify)."""
    if doc is None:
        return None
    try:
        sts = statements(doc)
    except DocumentError as e:
        yield Finding(f"{label}: {e}")
        return None
    if is_unknown(sts):
        yield cannot_verify(label, what="policy document")
        return None
    return sts


def _statements_of(
    r: Res, documents: Iterator[tuple[str, Any]]
) -> Iterator[tuple[str, Stmt] | Finding]:
    for label, doc in documents:
        for st in (yield from _document_statements(label, doc)) or []:
            yield label, st


def _each_allow(r: Res) -> Iterator[tuple[str, Stmt] | Finding]:
    for item in _statements_of(r, identity_documents(r)):
        if isinstance(item, Finding):
            yield item
        elif item[1].allows:
            yield item


def _per_allow(
    r: Res, check: Callable[[str, Stmt], Iterator[str | Finding]]
) -> Iterator[str | Finding]:
    """Run `check` on each Allow statement of the resource's identity policies.

    Findings about the documents themselves (unparseable, unknown at preview) pass through.
    """
    for item in _each_allow(r):
        if isinstance(item, Finding):
            yield item
        else:
            yield from check(*item)


def _unknowns(label: str, st: Stmt) -> Iterator[Finding]:
    """ "cannot verify" for the statement's Action/Resource (or the whole statement) if unknown."""
    parts = [p for p in ("Action", "Resource") if p in st.unknown] or (
        ["Statement"] if "Statement" in st.unknown else []
    )
    if parts:
        yield cannot_verify(f"{label} statement {st.sid} {'/'.join(parts)}")


def _broad_label(st: Stmt, action: str) -> str:
    """How a statement's resources reach every resource: `Resource "<pattern>"` or NotResource."""
    if st.not_resource:
        return "NotResource"
    for p in st.resources or ():
        if isinstance(p, str) and st.unrestricted_resources(action) and _is_broad(st, p, action):
            return f'Resource "{p}"'
    return 'Resource "*"'


def _is_broad(st: Stmt, pattern: str, action: str) -> bool:
    one = Stmt(st.sid, st.effect, st.actions, st.not_action, (pattern,), False, None, False)
    return one.unrestricted_resources(action)


#: a service prefix and action name no real pattern names: a pattern matching it matches all
_ANY_ACTION = "zq9svc:zq9action"


@rule(
    name="iam-no-admin-star",
    severity="critical",
    controls=("I1",),
    types=IDENTITY_POLICY_TYPES,
    remediation='Replace Action "*" on Resource "*" (or an Allow with NotAction) with the exact actions '
    "the workload calls, on the exact ARNs it uses.",
)
def no_admin_star(r: Res, cfg: dict):
    """Identity policies never allow every action on every resource (`*:*`).

    By effect: any action pattern that matches every service and action (`*`, `*:*`, `*:?*`,
    `??*:*`…) on resources that match every ARN (`*`, `arn:*`, `arn:aws:*:*:*:*`, NotResource).
    """

    def check(label: str, st: Stmt) -> Iterator[str | Finding]:
        if st.not_action:
            yield f"{label} statement {st.sid}: Allow with NotAction grants every other action"
            return
        if "Action" in st.unknown or "Resource" in st.unknown:
            yield from _unknowns(label, st)
            return
        if any(glob_match(p, _ANY_ACTION) for p in st.action_patterns()) and (
            st.unrestricted_resources()
        ):
            yield f'{label} statement {st.sid}: allows Action "*" on Resource "*"'

    yield from _per_allow(r, check)


@rule(
    name="iam-no-wildcards",
    severity="high",
    controls=("I2",),
    types=IDENTITY_POLICY_TYPES,
    config_schema={
        "starResourceActions": string_list(
            'Actions accepted on Resource "*" although AWS lets them be scoped. Actions '
            "AWS cannot scope (no resource types in the Service Authorization Reference) are always "
            "accepted on `*` (checkov CKV_AWS_355).",
            [
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
        )
    },
    remediation="Name each action explicitly (no `service:*` or `Get*`) and scope Resource to exact ARNs; "
    'Resource "*" (or any ARN pattern matching every resource, or NotResource) is only accepted for '
    "actions AWS cannot scope and those in `starResourceActions`.",
)
def no_wildcards(r: Res, cfg: dict):
    """Identity policies use no wildcard actions and no `*` resource outside a documented list."""
    star_ok = {a.lower() for a in cfg["starResourceActions"]}

    def check(label: str, st: Stmt) -> Iterator[str | Finding]:
        if st.not_action:
            yield f"{label} statement {st.sid}: NotAction is an implicit wildcard"
        wild = st.wildcard_actions()
        if wild:
            yield f"{label} statement {st.sid}: wildcard action(s) {', '.join(wild)}"
        if st.not_resource:
            yield f"{label} statement {st.sid}: NotResource is an implicit wildcard"
        else:
            exact = [a for a in st.action_patterns() if a not in wild]
            broad: dict[str, list[str]] = {}
            for a in exact:
                if a.lower() in star_ok or not restrictable(a):
                    continue
                if st.unrestricted_resources(a):
                    broad.setdefault(_broad_label(st, a), []).append(a)
            for where, acts in broad.items():
                yield f"{label} statement {st.sid}: {where} for {', '.join(sorted(acts))}"
        yield from _unknowns(label, st)

    yield from _per_allow(r, check)


@rule(
    name="iam-no-privilege-escalation",
    severity="critical",
    controls=("I3",),
    types=IDENTITY_POLICY_TYPES,
    remediation="Remove IAM write actions (Put/Attach policy, CreateAccessKey, CreatePolicyVersion, "
    "UpdateAssumeRolePolicy, …) from workload roles; scope iam:PassRole and sts:AssumeRole to exact role ARNs.",
)
def no_privilege_escalation(r: Res, cfg: dict):
    """Identity policies grant no privilege-escalation actions (iam:PassRole on `*`, iam:Put*Policy, …)."""

    def check(label: str, st: Stmt) -> Iterator[str | Finding]:
        granted = st.matched(ESCALATION_ACTIONS)
        if granted:
            yield f"{label} statement {st.sid}: grants {', '.join(granted)}"
        on_star = [a for a in st.matched(ESCALATION_ON_STAR) if st.unrestricted_resources(a)]
        if on_star:
            where = _broad_label(st, on_star[0])
            yield f"{label} statement {st.sid}: grants {', '.join(on_star)} on {where}"
        yield from _unknowns(label, st)

    yield from _per_allow(r, check)


@rule(
    name="iam-no-broad-managed-policies",
    severity="high",
    controls=("I4",),
    types=(
        "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
        "aws:iam/policyAttachment:PolicyAttachment",
        "aws:iam/userPolicyAttachment:UserPolicyAttachment",
        "aws:iam/groupPolicyAttachment:GroupPolicyAttachment",
        "aws:iam/rolePolicyAttachmentsExclusive:RolePolicyAttachmentsExclusive",
        "aws:iam/userPolicyAttachmentsExclusive:UserPolicyAttachmentsExclusive",
        "aws:iam/groupPolicyAttachmentsExclusive:GroupPolicyAttachmentsExclusive",
        ROLE,
    ),
    config_schema={
        "deniedPolicyNames": string_list(
            "AWS-managed policy names (wildcards allowed) that workloads must not attach.",
            ["AdministratorAccess", "IAMFullAccess", "PowerUserAccess", "*FullAccess"],
        )
    },
    remediation="Detach the AWS-managed policy and grant the exact actions in a customer-managed or inline policy.",
)
def no_broad_managed_policies(r: Res, cfg: dict):
    """No AdministratorAccess, IAMFullAccess or *FullAccess managed policy is attached."""
    if r.type == ROLE:
        arns, label = get(r.props, "managedPolicyArns"), "managedPolicyArns"
    elif r.type.endswith("AttachmentsExclusive"):
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
        # any partition (aws, aws-cn, aws-us-gov), any path (job-function/, service-role/)
        parts = arn.split(":", 5)
        aws_managed = len(parts) == 6 and parts[2] == "iam" and parts[4].lower() == "aws"
        if aws_managed and any(glob_match(p, name) for p in cfg["deniedPolicyNames"]):
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
    types=(ROLE,),
    config_schema={
        "trustedAccountPrincipals": string_list(
            "AWS account/role principals a trust policy may name (break-glass, CI).",
            [],
        ),
        "servicesWithoutSourceConditions": string_list(
            "Service principals whose role trust cannot carry aws:SourceAccount/aws:SourceArn "
            "(documented exceptions only).",
            [],
        ),
    },
    remediation="Trust exactly one service principal per statement and add Condition aws:SourceAccount "
    "(and aws:SourceArn where the service supports it); federated (IRSA) trusts must pin `<issuer>:sub`.",
)
def trust_policy_scoped(r: Res, cfg: dict):
    """Role trust policies name one service and carry aws:SourceAccount/aws:SourceArn (confused deputy).

    A source condition counts only if it pins an account, organisation or exact ARN
    (`StringLike aws:SourceAccount "*"` or `ArnLike aws:SourceArn "arn:aws:*"` pin nothing).
    """
    doc = get(r.props, "assumeRolePolicy")
    if doc is None:
        yield "assumeRolePolicy is missing"
        return
    trusted = set(cfg["trustedAccountPrincipals"])
    for item in _statements_of(r, iter([("assumeRolePolicy", doc)])):
        if isinstance(item, Finding):
            yield item
            continue
        _, st = item
        if not st.allows:
            continue
        if "Principal" in st.unknown:
            yield cannot_verify(f"assumeRolePolicy statement {st.sid} Principal")
            continue
        if st.wildcard_principal or any(
            isinstance(v, str) and "*" in v for v in st.principal_values("service")
        ):
            yield f'statement {st.sid}: trusts Principal "*"'
            continue
        services = list(st.principal_values("service"))
        federated = st.principal_values("federated")
        accounts = [
            a
            for a in st.principal_values("aws")
            if a not in trusted and f"arn:aws:iam::{account_of_principal(a)}:root" not in trusted
        ]
        if accounts:
            yield f"statement {st.sid}: trusts AWS principal(s) {', '.join(map(str, accounts))}"
        if len({str(s).lower() for s in services}) > 1:
            yield f"statement {st.sid}: trusts {len(services)} services ({', '.join(map(str, services))}); use one"
        if "Condition" in st.unknown:
            yield cannot_verify(f"assumeRolePolicy statement {st.sid} Condition")
            continue
        exempt = set(cfg["servicesWithoutSourceConditions"])
        source_pinned = any(
            c.key in TRUST_CONDITION_KEYS and pin_of(c) is not None for c in st.conditions
        )
        if services and not source_pinned and not set(services) <= exempt:
            yield f"statement {st.sid}: service trust without aws:SourceAccount/aws:SourceArn condition"
        if federated and not any(
            c.key.endswith(":sub") and not c.negated and c in narrowing(st) for c in st.conditions
        ):
            yield f"statement {st.sid}: federated trust without a `:sub` condition"


@rule(
    name="iam-no-kms-decrypt-on-all-keys",
    severity="high",
    controls=("I6",),
    types=IDENTITY_POLICY_TYPES,
    remediation="Grant kms:Decrypt (and kms:GenerateDataKey) on the exact key ARNs the workload uses.",
)
def no_kms_decrypt_on_all_keys(r: Res, cfg: dict):
    """Identity policies grant no kms:Decrypt or kms:* on Resource `*`.

    By effect: every pattern that reaches the decrypt actions (`kms:*`, `kms:De*`, `*:Decrypt`,
    NotAction) on resources that match every key (`*`, `arn:aws:kms:*:*:key/*`, NotResource…).
    """

    def check(label: str, st: Stmt) -> Iterator[str | Finding]:
        if "Action" in st.unknown or "Resource" in st.unknown:
            yield from _unknowns(label, st)
            return
        granted = [a for a in st.matched(KMS_DECRYPT_ACTIONS) if st.unrestricted_resources(a)]
        if granted:
            yield f"{label} statement {st.sid}: grants {', '.join(granted)} on every key"

    yield from _per_allow(r, check)


WORKLOADS = {
    "aws:sagemaker/model:Model": "executionRoleArn",
    "aws:sagemaker/dataQualityJobDefinition:DataQualityJobDefinition": "roleArn",
    "aws:bedrock/customModel:CustomModel": "roleArn",
}
IRSA_ANNOTATION = "eks.amazonaws.com/role-arn"


@rule(
    name="iam-one-role-per-workload",
    kind="stack",
    severity="medium",
    controls=("I7",),
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


def public_findings(label: str, sts: list[Stmt]) -> Iterator[str | Finding]:
    """Allow statements of a resource policy that admit anyone (I8, N10, N11, E9, N3).

    A wildcard principal (`*`, `{"AWS": "*"}`, a wildcard inside an AWS principal, or Allow with
    NotPrincipal) is public unless a condition pins the caller to an account or organisation
    (`policy_eval.pin_of`), or a Deny for everyone outside an account/organisation covers the
    statement. Network conditions (source IP, VPC, VPC endpoint) and conditions every request
    satisfies pin nothing.
    """
    for st in sts:
        if not st.allows:
            continue
        if "Principal" in st.unknown or "Statement" in st.unknown:
            yield cannot_verify(f"{label} statement {st.sid} Principal")
            continue
        if not st.wildcard_principal:
            continue
        if "Condition" in st.unknown:
            yield cannot_verify(f"{label} statement {st.sid} Condition")
            continue
        if not exposure(st, sts).public:
            continue
        who = "NotPrincipal (everyone else)" if st.not_principal else 'Principal "*"'
        real = narrowing(st)
        if not real:
            yield f"{label} statement {st.sid}: allows {who} without a condition"
        else:
            keys = ", ".join(sorted({c.key for c in real}))
            yield (
                f"{label} statement {st.sid}: allows {who}; its conditions ({keys}) do not pin the "
                "caller to an account or organisation"
            )


def resource_policy_statements(r: Res) -> Iterator[tuple[str, list[Stmt]] | Finding]:
    """(label, statements) of a resource's resource policy; findings for unknown/invalid documents."""
    path = RESOURCE_POLICY_PATHS[r.type]
    sts = yield from _document_statements(path, get(r.props, path))
    if sts is not None:
        yield path, sts


@rule(
    name="resource-policy-not-public",
    severity="critical",
    controls=("I8", "N10", "N11", "N3"),
    types=tuple(RESOURCE_POLICY_PATHS),
    remediation='Name the exact principals, or pin every statement that names Principal "*" with a '
    "condition on aws:PrincipalAccount / aws:PrincipalOrgID / aws:SourceAccount (network conditions "
    "such as aws:SourceIp or aws:SourceVpce alone do not make a statement private).",
)
def resource_policy_not_public(r: Res, cfg: dict):
    """Resource policies (bucket, key, topic, endpoint, registry) never admit anyone outside an account or organisation."""
    for item in resource_policy_statements(r):
        if isinstance(item, Finding):
            yield item
        else:
            yield from public_findings(*item)


def stack_accounts(stack: StackIndex) -> set[str]:
    """The accounts this stack deploys into: account ids in its resources' ARNs and owner ids,
    and the AWS providers' `allowedAccountIds`."""
    out: set[str] = set()
    for r in stack.resources:
        if r.type.startswith("pulumi:providers:aws"):
            for a in get(r.props, "allowedAccountIds") or []:
                if isinstance(a, str) and ACCOUNT_RE.match(a):
                    out.add(a)
            continue
        if not r.type.startswith("aws:"):
            continue
        acct = account_of_arn(get(r.props, "arn"))
        if acct:
            out.add(acct)
        for key in ("ownerId", "accountId"):
            v = get(r.props, key)
            if isinstance(v, str) and ACCOUNT_RE.match(v):
                out.add(v)
    return out


@rule(
    name="resource-policy-no-cross-account",
    kind="stack",
    severity="critical",
    controls=("I8", "N10", "N11", "N3", "E9"),
    config_schema={
        "accountIds": {
            "type": "array",
            "items": {"type": "string", "pattern": "^[0-9]{12}$"},
            "description": "Accounts resource policies may admit, besides the accounts the stack's "
            "own resources live in (inferred from their ARNs and the providers' allowedAccountIds).",
            "default": [],
        },
        "organizationIds": {
            "type": "array",
            "items": {"type": "string", "pattern": "^o-[a-z0-9]{10,32}$"},
            "description": "AWS Organizations whose accounts resource policies may admit "
            "(aws:PrincipalOrgID). Default none: admitting an organisation is cross-account.",
            "default": [],
        },
    },
    remediation="Admit only this account's principals (its root, roles, or aws:PrincipalAccount / "
    "aws:SourceAccount = this account); list any other trusted account in `accountIds`.",
)
def resource_policy_no_cross_account(stack: StackIndex, cfg: dict):
    """Resource policies admit no other account (by principal, or by pinning condition)."""
    ours = stack_accounts(stack) | set(cfg["accountIds"])
    orgs = set(cfg["organizationIds"])
    for r in stack.resources:
        if r.type not in RESOURCE_POLICY_PATHS:
            continue
        for item in resource_policy_statements(r):
            if isinstance(item, Finding):
                continue  # reported by resource-policy-not-public
            label, sts = item
            for st in sts:
                if not st.allows or st.unknown:
                    continue
                ex = exposure(st, sts)
                if ex.public:
                    continue  # reported by resource-policy-not-public
                foreign = sorted(ex.accounts - ours)
                if not ours and ex.accounts:
                    yield cannot_verify(
                        f"{label} statement {st.sid}", r.urn, "this stack's account is not known"
                    )
                    continue
                if foreign:
                    yield Finding(
                        f"{r.name}: {label} statement {st.sid} admits other account(s) "
                        f"{', '.join(foreign)}",
                        r.urn,
                    )
                other_orgs = sorted(ex.orgs - orgs)
                if other_orgs:
                    yield Finding(
                        f"{r.name}: {label} statement {st.sid} admits organisation(s) "
                        f"{', '.join(other_orgs)} not in organizationIds",
                        r.urn,
                    )
                if ex.opaque:
                    yield Finding(
                        f"{r.name}: {label} statement {st.sid} admits canonical user(s) "
                        f"{', '.join(ex.opaque)} (an account the pack cannot verify)",
                        r.urn,
                    )


RULES = [
    no_admin_star,
    no_wildcards,
    no_privilege_escalation,
    no_broad_managed_policies,
    trust_policy_scoped,
    no_kms_decrypt_on_all_keys,
    one_role_per_workload,
    resource_policy_not_public,
    resource_policy_no_cross_account,
]
