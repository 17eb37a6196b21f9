"""A small IAM policy-document parser (no third-party dependency).

Why our own: the rules need only statement normalisation and wildcard action
matching; parliament and policy_sentry ship large action databases that would
have to be pinned and refreshed, and neither handles the preview's unknown
values. Escalation and KMS action lists are kept here as data.

`statements(doc)` accepts a JSON string or an object, a single statement or a
list, and returns `Statement`s with every field normalised to lists; values
unknown at preview stay `UNKNOWN` so rules can report "cannot verify".
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from .base import UNKNOWN, as_list, is_unknown
from .policy_eval import DocumentError, document


@dataclass
class Statement:
    sid: str
    effect: str
    actions: list[Any] | None  # None when the statement uses NotAction
    not_actions: list[Any] | None
    resources: list[Any] | None
    not_resources: list[Any] | None
    principal: Any = None  # "*", {"AWS": [...], "Service": [...], "Federated": [...]}, or None
    not_principal: Any = None
    conditions: dict[str, Any] = field(default_factory=dict)

    @property
    def allows(self) -> bool:
        return self.effect == "Allow"

    @property
    def has_conditions(self) -> bool:
        return bool(self.conditions)

    def condition_keys(self) -> set[str]:
        """Every condition key (lower-case), across operators."""
        keys: set[str] = set()
        for block in self.conditions.values():
            if isinstance(block, dict):
                keys.update(k.lower() for k in block)
        return keys

    def principal_values(self, kind: str) -> list[Any]:
        if self.principal == "*":
            return ["*"] if kind == "AWS" else []
        if isinstance(self.principal, dict):
            return as_list(self.principal.get(kind))
        return []

    @property
    def public_principal(self) -> bool:
        """Principal "*" or {"AWS": "*"}: anyone."""
        return self.principal == "*" or "*" in self.principal_values("AWS")


def statements(doc: Any) -> list[Statement] | Any:
    """Normalised statements, or UNKNOWN if the document itself is unknown."""
    parsed = document(doc)
    if not isinstance(parsed, dict):
        return [] if parsed is None else UNKNOWN
    raw = parsed.get("Statement")
    if is_unknown(raw):
        return UNKNOWN
    out: list[Statement] = []
    for i, st in enumerate(as_list(raw)):
        if is_unknown(st):
            out.append(
                Statement(f"#{i}", "Allow", [UNKNOWN], None, [UNKNOWN], None, UNKNOWN, None, {})
            )
            continue
        if not isinstance(st, dict):
            raise DocumentError(f"statement {i} is not an object")
        out.append(
            Statement(
                sid=str(st.get("Sid") or f"#{i}"),
                effect=st.get("Effect", "Allow") if not is_unknown(st.get("Effect")) else "Allow",
                actions=_list_or_none(st, "Action"),
                not_actions=_list_or_none(st, "NotAction"),
                resources=_list_or_none(st, "Resource"),
                not_resources=_list_or_none(st, "NotResource"),
                principal=st.get("Principal"),
                not_principal=st.get("NotPrincipal"),
                conditions=st.get("Condition") or {},
            )
        )
    return out


def _list_or_none(st: dict, key: str) -> list[Any] | None:
    if key not in st:
        return None
    value = st[key]
    if is_unknown(value):
        return [UNKNOWN]
    return as_list(value)


@lru_cache(maxsize=4096)
def _pattern(p: str) -> re.Pattern[str]:
    return re.compile(
        "^" + re.escape(p).replace(r"\*", ".*").replace(r"\?", ".") + "$", re.IGNORECASE
    )


def action_matches(pattern: str, action: str) -> bool:
    """IAM semantics: case-insensitive, `*` and `?` wildcards in the policy's pattern."""
    return bool(_pattern(pattern).match(action))


def grants_any(st: Statement, actions: tuple[str, ...]) -> list[str]:
    """Which of `actions` an Allow statement grants (NotAction grants everything not listed)."""
    if not st.allows:
        return []
    if st.actions is not None:
        return [
            a
            for a in actions
            if any(isinstance(p, str) and action_matches(p, a) for p in st.actions)
        ]
    if st.not_actions is not None:
        return [
            a
            for a in actions
            if not any(isinstance(p, str) and action_matches(p, a) for p in st.not_actions)
        ]
    return []


def on_all_resources(st: Statement) -> bool:
    """Resource "*" (or NotResource, which means "everything except")."""
    if st.not_resources is not None:
        return True
    return any(r == "*" for r in st.resources or [])


def unknown_parts(st: Statement) -> list[str]:
    parts = []
    if any(is_unknown(a) for a in (st.actions or []) + (st.not_actions or [])):
        parts.append("Action")
    if any(is_unknown(r) for r in (st.resources or []) + (st.not_resources or [])):
        parts.append("Resource")
    return parts


#: Actions that let a principal grant itself more (CKV_AWS_286-290, Rhino Security's list).
ESCALATION_ACTIONS: tuple[str, ...] = (
    "iam:CreateAccessKey",
    "iam:CreateLoginProfile",
    "iam:UpdateLoginProfile",
    "iam:AttachUserPolicy",
    "iam:AttachGroupPolicy",
    "iam:AttachRolePolicy",
    "iam:PutUserPolicy",
    "iam:PutGroupPolicy",
    "iam:PutRolePolicy",
    "iam:CreatePolicyVersion",
    "iam:SetDefaultPolicyVersion",
    "iam:UpdateAssumeRolePolicy",
    "iam:AddUserToGroup",
    "iam:DeleteRolePermissionsBoundary",
    "iam:DeleteUserPermissionsBoundary",
    "iam:PutRolePermissionsBoundary",
    "iam:PutUserPermissionsBoundary",
    "lambda:UpdateFunctionCode",
    "glue:UpdateDevEndpoint",
    "cloudformation:CreateStack",
)
#: Escalating only when the resource is unrestricted.
ESCALATION_ON_STAR: tuple[str, ...] = ("iam:PassRole", "sts:AssumeRole")

KMS_DECRYPT_ACTIONS: tuple[str, ...] = ("kms:Decrypt", "kms:ReEncryptFrom", "kms:CreateGrant")
