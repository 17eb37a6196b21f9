"""An IAM role built from declared grants on exact ARNs (controls I1–I7)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import NotRequired, TypedDict

import pulumi
import pulumi_aws as aws

from regulated_inference.lib import iam
from regulated_inference.lib.errors import ComponentArgsError

_COMPONENT = "LeastPrivilegeRole"
_SERVICE = re.compile(r"^[a-z0-9.-]+\.amazonaws\.com$")
#: AWS-managed policies that can never be attached (I4).
_FORBIDDEN_MANAGED = re.compile(r"(AdministratorAccess|IAMFullAccess|PowerUserAccess|FullAccess)$")


@dataclass(frozen=True)
class ServiceTrust:
    """Trust exactly one AWS service, on behalf of this account (confused-deputy protection).

    `source_arn` pins the calling resource where the service sends `aws:SourceArn`
    (may contain `*` only in its last segment, matched with ArnLike).
    """

    service: str
    source_account: pulumi.Input[str]
    source_arn: pulumi.Input[str] | None = None


@dataclass(frozen=True)
class WebIdentityTrust:
    """Trust one Kubernetes service account through an EKS OIDC provider (IRSA)."""

    oidc_provider_arn: pulumi.Input[str]
    #: Issuer host and path, without https:// (e.g. oidc.eks.eu-west-2.amazonaws.com/id/ABC…).
    issuer: pulumi.Input[str]
    namespace: str
    service_account: str


class LeastPrivilegeRoleArgs(TypedDict):
    """Arguments of `LeastPrivilegeRole`."""

    trust: ServiceTrust | WebIdentityTrust
    """Who may assume the role: one service with SourceAccount/SourceArn, or one IRSA service account."""
    grants: list[iam.Grant]
    """What the role may do, as grants on exact ARNs (see `regulated_inference.lib.iam`). At least one."""
    description: str
    """Why the role exists; shown in the IAM console and required by reviewers."""
    permissions_boundary_arn: NotRequired[pulumi.Input[str]]
    """Optional permissions boundary policy ARN; default none."""
    managed_policy_arns: NotRequired[list[str]]
    """Customer-managed policies to attach. AWS *FullAccess / Administrator policies are refused."""
    max_session_duration: NotRequired[int]
    """Session length in seconds, 3600–43200; default 3600 (one hour)."""


def trust_policy(trust: ServiceTrust | WebIdentityTrust) -> pulumi.Output[str]:
    """The assume-role policy for one service or one IRSA service account."""
    if isinstance(trust, ServiceTrust):

        def build(args: list) -> str:
            account, source_arn = args
            cond: dict = {"StringEquals": {"aws:SourceAccount": account}}
            if source_arn:
                cond["ArnLike"] = {"aws:SourceArn": source_arn}
            return iam.document(
                [
                    {
                        "Sid": "TrustService",
                        "Effect": "Allow",
                        "Principal": {"Service": trust.service},
                        "Action": "sts:AssumeRole",
                        "Condition": cond,
                    }
                ]
            )

        return pulumi.Output.all(trust.source_account, trust.source_arn).apply(build)

    def build_oidc(args: list) -> str:
        provider_arn, issuer = args
        return iam.document(
            [
                {
                    "Sid": "TrustServiceAccount",
                    "Effect": "Allow",
                    "Principal": {"Federated": provider_arn},
                    "Action": "sts:AssumeRoleWithWebIdentity",
                    "Condition": {
                        "StringEquals": {
                            f"{issuer}:sub": f"system:serviceaccount:{trust.namespace}:{trust.service_account}",
                            f"{issuer}:aud": "sts.amazonaws.com",
                        }
                    },
                }
            ]
        )

    return pulumi.Output.all(trust.oidc_provider_arn, trust.issuer).apply(build_oidc)


def _validate(name: str, args: LeastPrivilegeRoleArgs) -> list[iam.Statement]:
    trust = args.get("trust")
    if isinstance(trust, ServiceTrust):
        if not _SERVICE.match(trust.service):
            raise ComponentArgsError(
                _COMPONENT,
                "trust.service",
                trust.service,
                "must be exactly one service principal like 'sagemaker.amazonaws.com'",
            )
    elif isinstance(trust, WebIdentityTrust):
        if (
            not trust.namespace
            or not trust.service_account
            or "*" in trust.namespace + trust.service_account
        ):
            raise ComponentArgsError(
                _COMPONENT,
                "trust",
                trust,
                "IRSA trust needs an exact namespace and service account (no wildcards)",
            )
    else:
        raise ComponentArgsError(
            _COMPONENT, "trust", trust, "must be a ServiceTrust or WebIdentityTrust"
        )
    if not args.get("description"):
        raise ComponentArgsError(
            _COMPONENT, "description", args.get("description"), "a description is required"
        )
    grants = args.get("grants") or []
    if not grants:
        raise ComponentArgsError(_COMPONENT, "grants", grants, "declare at least one grant")
    statements: list[iam.Statement] = []
    for i, grant in enumerate(grants):
        try:
            stmts = iam.grant_statements(grant, i)
            for s in stmts:
                iam.validate_statement(s)
        except (TypeError, ValueError) as exc:
            raise ComponentArgsError(_COMPONENT, f"grants[{i}]", grant, str(exc)) from None
        statements.extend(stmts)
    for arn in args.get("managed_policy_arns") or []:
        if ":aws:policy/" in arn or _FORBIDDEN_MANAGED.search(arn):
            raise ComponentArgsError(
                _COMPONENT,
                "managed_policy_arns",
                arn,
                "AWS-managed and *FullAccess/Administrator policies are not least privilege",
            )
    duration = args.get("max_session_duration", 3600)
    if not 3600 <= duration <= 43200:
        raise ComponentArgsError(
            _COMPONENT, "max_session_duration", duration, "must be 3600–43200 seconds"
        )
    return statements


class LeastPrivilegeRole(pulumi.ComponentResource):
    """An IAM role whose only permissions are the declared grants, on exact ARNs.

    The trust policy names one service principal with `aws:SourceAccount`
    (and `aws:SourceArn` where given), or one IRSA service account. No
    wildcard actions; `Resource: "*"` only for the actions AWS cannot scope
    (`regulated_inference.lib.iam.RESOURCE_WILDCARD_ACTIONS`), each narrowed by a
    condition where AWS offers one.
    """

    arn: pulumi.Output[str]
    """The role ARN."""
    name: pulumi.Output[str]
    """The role name."""
    policy_document: pulumi.Output[str]
    """The inline permissions policy, as JSON."""

    def __init__(
        self, name: str, args: LeastPrivilegeRoleArgs, opts: pulumi.ResourceOptions | None = None
    ):
        statements = _validate(name, args)
        super().__init__(f"regulated-inference:index:{_COMPONENT}", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        role = aws.iam.Role(
            f"{name}-role",
            assume_role_policy=trust_policy(args["trust"]),
            description=args["description"],
            max_session_duration=args.get("max_session_duration", 3600),
            permissions_boundary=args.get("permissions_boundary_arn"),
            opts=child,
        )
        self.policy_document = iam.policy_json(statements)
        aws.iam.RolePolicy(
            f"{name}-permissions", role=role.id, policy=self.policy_document, opts=child
        )
        for i, arn in enumerate(args.get("managed_policy_arns") or []):
            aws.iam.RolePolicyAttachment(
                f"{name}-attach-{i}", role=role.name, policy_arn=arn, opts=child
            )
        self.arn, self.name = role.arn, role.name
        self.register_outputs(
            {"arn": self.arn, "name": self.name, "policyDocument": self.policy_document}
        )


__all__ = ["LeastPrivilegeRole", "LeastPrivilegeRoleArgs", "ServiceTrust", "WebIdentityTrust"]
