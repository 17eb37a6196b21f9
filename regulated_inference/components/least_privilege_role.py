"""An IAM role built from declared grants on exact ARNs (controls I1–I7)."""

import re
from typing import NotRequired, TypedDict

import pulumi
import pulumi_aws as aws

from regulated_inference.lib import iam
from regulated_inference.lib.errors import ComponentArgsError
from regulated_inference.lib.outputs import publish_outputs, type_token

_COMPONENT = "LeastPrivilegeRole"
_SERVICE = re.compile(r"^[a-z0-9.-]+\.amazonaws\.com$")
#: AWS-managed policies that can never be attached (I4).
_FORBIDDEN_MANAGED = re.compile(r"(AdministratorAccess|IAMFullAccess|PowerUserAccess|FullAccess)$")


class ServiceTrust(TypedDict):
    """Trust exactly one AWS service, on behalf of this account (confused-deputy protection)."""

    service: str
    """The service principal, e.g. `sagemaker.amazonaws.com`."""
    source_account: pulumi.Input[str]
    """The account the service acts for (aws:SourceAccount)."""
    source_arn: NotRequired[pulumi.Input[str]]
    """Pins the calling resource where the service sends aws:SourceArn (matched with ArnLike; `*`
    only in its last segment). Default: account only."""


class WebIdentityTrust(TypedDict):
    """Trust one Kubernetes service account through an EKS OIDC provider (IRSA)."""

    oidc_provider_arn: pulumi.Input[str]
    """ARN of the cluster's IAM OIDC provider."""
    issuer: pulumi.Input[str]
    """Issuer host and path, without https:// (e.g. oidc.eks.eu-west-2.amazonaws.com/id/ABC…)."""
    namespace: str
    """The service account's namespace (exact, no wildcards)."""
    service_account: str
    """The service account's name (exact, no wildcards)."""


class Trust(TypedDict):
    """Who may assume a role: set exactly one of `service` and `web_identity`."""

    service: NotRequired[ServiceTrust]
    """One AWS service acting for this account."""
    web_identity: NotRequired[WebIdentityTrust]
    """One Kubernetes service account (IRSA)."""


#: Default session length in seconds (one hour: IAM's minimum for MaxSessionDuration).
DEFAULT_MAX_SESSION_DURATION = 3600


class LeastPrivilegeRoleArgs(TypedDict):
    """Arguments of `LeastPrivilegeRole`."""

    trust: Trust
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


def service_trust(
    service: str, source_account: pulumi.Input[str], source_arn: pulumi.Input[str] | None = None
) -> Trust:
    """`Trust` in one service acting for `source_account` (and `source_arn` where given)."""
    trust: ServiceTrust = {"service": service, "source_account": source_account}
    if source_arn is not None:
        trust["source_arn"] = source_arn
    return {"service": trust}


def web_identity_trust(
    oidc_provider_arn: pulumi.Input[str],
    issuer: pulumi.Input[str],
    namespace: str,
    service_account: str,
) -> Trust:
    """`Trust` in one Kubernetes service account through an EKS OIDC provider."""
    return {
        "web_identity": {
            "oidc_provider_arn": oidc_provider_arn,
            "issuer": issuer,
            "namespace": namespace,
            "service_account": service_account,
        }
    }


def trust_policy(trust: Trust) -> pulumi.Output[str]:
    """The assume-role policy for one service or one IRSA service account."""
    if trust.get("service"):
        service = trust["service"]

        def build(args: list) -> str:
            account, source_arn = args
            return iam.document(
                [
                    iam.principal_statement(
                        "TrustService",
                        {"Service": service["service"]},
                        "sts:AssumeRole",
                        condition=iam.on_behalf_of(account, source_arn),
                    )
                ]
            )

        return pulumi.Output.all(service["source_account"], service.get("source_arn")).apply(build)

    web = trust["web_identity"]

    def build_oidc(args: list) -> str:
        provider_arn, issuer = args
        subject = f"system:serviceaccount:{web['namespace']}:{web['service_account']}"
        return iam.document(
            [
                iam.principal_statement(
                    "TrustServiceAccount",
                    {"Federated": provider_arn},
                    "sts:AssumeRoleWithWebIdentity",
                    condition={
                        "StringEquals": {
                            f"{issuer}:sub": subject,
                            f"{issuer}:aud": "sts.amazonaws.com",
                        }
                    },
                )
            ]
        )

    return pulumi.Output.all(web["oidc_provider_arn"], web["issuer"]).apply(build_oidc)


def _validate_trust(trust: Trust | None) -> None:
    kinds = [k for k in ("service", "web_identity") if isinstance(trust, dict) and trust.get(k)]
    if len(kinds) != 1:
        raise ComponentArgsError(
            _COMPONENT, "trust", trust, "set exactly one of service and web_identity"
        )
    if kinds[0] == "service":
        service = trust["service"]  # type: ignore[index]
        if not _SERVICE.match(str(service.get("service") or "")):
            raise ComponentArgsError(
                _COMPONENT,
                "trust.service",
                service.get("service"),
                "must be exactly one service principal like 'sagemaker.amazonaws.com'",
            )
        if not service.get("source_account"):
            raise ComponentArgsError(
                _COMPONENT, "trust.service.source_account", None, "required (confused deputy)"
            )
        return
    web = trust["web_identity"]  # type: ignore[index]
    namespace, account = str(web.get("namespace") or ""), str(web.get("service_account") or "")
    if not namespace or not account or "*" in namespace + account:
        raise ComponentArgsError(
            _COMPONENT,
            "trust",
            trust,
            "IRSA trust needs an exact namespace and service account (no wildcards)",
        )


def _validate(name: str, args: LeastPrivilegeRoleArgs) -> list[iam.Statement]:
    _validate_trust(args.get("trust"))
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
    duration = int(args.get("max_session_duration", DEFAULT_MAX_SESSION_DURATION))
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
        super().__init__(type_token(_COMPONENT), name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        role = aws.iam.Role(
            f"{name}-role",
            assume_role_policy=trust_policy(args["trust"]),
            description=args["description"],
            max_session_duration=int(
                args.get("max_session_duration", DEFAULT_MAX_SESSION_DURATION)
            ),
            permissions_boundary=args.get("permissions_boundary_arn"),
            opts=child,
        )
        policy_document = iam.policy_json(statements)
        aws.iam.RolePolicy(f"{name}-permissions", role=role.id, policy=policy_document, opts=child)
        for i, arn in enumerate(args.get("managed_policy_arns") or []):
            aws.iam.RolePolicyAttachment(
                f"{name}-attach-{i}", role=role.name, policy_arn=arn, opts=child
            )
        publish_outputs(self, arn=role.arn, name=role.name, policy_document=policy_document)


__all__ = [
    "LeastPrivilegeRole",
    "LeastPrivilegeRoleArgs",
    "ServiceTrust",
    "Trust",
    "WebIdentityTrust",
    "service_trust",
    "web_identity_trust",
]
