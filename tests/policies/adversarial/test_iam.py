"""Adversarial IAM (I1-I6): equivalent rewrites of a violation are still caught; of a compliant
policy still pass. Written from the anchors' rationales (checkov CKV_AWS_1/62/49/355/286-290,
AwsSolutions-IAM4/5, prowler confused-deputy, AWS Config iam-inline-policy-blocked-kms-actions)."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from policies.rules import iam

from ..conftest import violations

RP = "aws:iam/rolePolicy:RolePolicy"
ROLE = "aws:iam/role:Role"
CARRIERS = [
    ("aws:iam/rolePolicy:RolePolicy", lambda d: {"role": "r", "policy": d}),
    ("aws:iam/policy:Policy", lambda d: {"policy": d}),
    ("aws:iam/userPolicy:UserPolicy", lambda d: {"user": "u", "policy": d}),
    ("aws:iam/groupPolicy:GroupPolicy", lambda d: {"group": "g", "policy": d}),
    (ROLE, lambda d: {"assumeRolePolicy": "{}", "inlinePolicies": [{"name": "p", "policy": d}]}),
]
KEY = "arn:aws:kms:eu-west-2:111122223333:key/abc"
SETTINGS = settings(derandomize=True, max_examples=40, deadline=None)


def doc(statements, as_string=True):
    d = {"Version": "2012-10-17", "Statement": statements}
    return json.dumps(d) if as_string else d


def stmt(**kw):
    return {"Effect": "Allow", **kw}


def recase(s: str, mask: int) -> str:
    return "".join(c.upper() if (mask >> (i % 16)) & 1 else c.lower() for i, c in enumerate(s))


# --------------------------------------------------------------------------- I1
ADMIN_ACTIONS = ["*", "*:*", "*:?*", "?*:*", ["s3:GetObject", "*"]]
ALL_RESOURCES = ["*", "arn:*", "arn:aws:*", "arn:*:*:*:*:*", ["arn:aws:s3:::b", "*"]]


@pytest.mark.parametrize("action", ADMIN_ACTIONS)
@pytest.mark.parametrize("resource", ALL_RESOURCES)
def test_i1_admin_rewrites_caught(action, resource):
    p = {"policy": doc([stmt(Sid="A", Action=action, Resource=resource)])}
    assert any(
        'allows Action "*" on Resource "*"' in v for v in violations(iam.no_admin_star, RP, p)
    )


@pytest.mark.parametrize("type_,props", CARRIERS)
def test_i1_every_carrier(type_, props):
    got = violations(
        iam.no_admin_star, type_, props(doc({"Effect": "Allow", "Action": "*", "Resource": "*"}))
    )
    assert any('Action "*" on Resource "*"' in v for v in got)


def test_i1_object_document_and_lowercase_effect():
    d = doc({"effect": "allow", "action": "*", "resource": "*"}, as_string=False)
    assert violations(iam.no_admin_star, RP, {"policy": d})


def test_i1_scoped_star_action_is_not_admin():
    p = {"policy": doc([stmt(Sid="A", Action="*", Resource="arn:aws:s3:::models/*")])}
    assert violations(iam.no_admin_star, RP, p) == []


# --------------------------------------------------------------------------- I2
@SETTINGS
@given(mask=st.integers(0, 2**16 - 1))
def test_i2_case_of_action_does_not_hide_star_resource(mask):
    p = {"policy": doc([stmt(Sid="S", Action=recase("s3:GetObject", mask), Resource="*")])}
    assert violations(iam.no_wildcards, RP, p) == [
        f'policy statement S: Resource "*" for {recase("s3:GetObject", mask)}'
    ]


@pytest.mark.parametrize(
    "resource", ["*", "arn:aws:s3:::*", "arn:aws:s3:::*/*", "arn:*:s3:::*", "arn:aws:*"]
)
def test_i2_every_bucket_is_star(resource):
    p = {"policy": doc([stmt(Sid="S", Action="s3:GetObject", Resource=resource)])}
    assert violations(iam.no_wildcards, RP, p) == [
        f'policy statement S: Resource "{resource}" for s3:GetObject'
    ]


@pytest.mark.parametrize("action", ["s3:Get*", "*:GetObject", "s?:GetObject", "s3:GetObjec?"])
def test_i2_wildcard_actions(action):
    p = {"policy": doc([stmt(Sid="S", Action=[action], Resource="arn:aws:s3:::m/*")])}
    assert violations(iam.no_wildcards, RP, p) == [
        f"policy statement S: wildcard action(s) {action}"
    ]


def test_i2_unscopable_action_on_star_passes():
    # sts:GetCallerIdentity and s3:ListAllMyBuckets have no resource types (Service Authorization Reference)
    p = {"policy": doc([stmt(Sid="S", Action=["s3:ListAllMyBuckets"], Resource="*")])}
    assert violations(iam.no_wildcards, RP, p) == []


def test_i2_exact_arns_split_across_statements_pass():
    p = {
        "policy": doc(
            [
                stmt(Sid="A", Action="s3:GetObject", Resource="arn:aws:s3:::m/*"),
                stmt(Sid="B", Action="s3:ListBucket", Resource="arn:aws:s3:::m"),
            ]
        )
    }
    assert violations(iam.no_wildcards, RP, p) == []


# --------------------------------------------------------------------------- I3
@pytest.mark.parametrize(
    "action",
    ["iam:PutRolePolicy", "IAM:putrolepolicy", "iam:Put*", "*:PutRolePolicy", "iam:PutRole?olicy"],
)
def test_i3_escalation_rewrites(action):
    p = {"policy": doc([stmt(Sid="S", Action=action, Resource="arn:aws:iam::111122223333:role/x")])}
    assert any("iam:PutRolePolicy" in v for v in violations(iam.no_privilege_escalation, RP, p))


def test_i3_not_action_grants_escalation():
    p = {"policy": doc([{"Sid": "S", "Effect": "Allow", "NotAction": "s3:*", "Resource": "*"}])}
    got = violations(iam.no_privilege_escalation, RP, p)
    assert any("iam:PutRolePolicy" in v for v in got)
    assert any('iam:PassRole, sts:AssumeRole on Resource "*"' in v for v in got)


@pytest.mark.parametrize(
    "resource", ["*", "arn:aws:iam::*:role/*", "arn:aws:iam::111122223333:role/*"]
)
def test_i3_pass_role_on_every_role(resource):
    p = {"policy": doc([stmt(Sid="S", Action="iam:PassRole", Resource=resource)])}
    assert violations(iam.no_privilege_escalation, RP, p) == [
        f'policy statement S: grants iam:PassRole on Resource "{resource}"'
    ]


# --------------------------------------------------------------------------- I4
@pytest.mark.parametrize(
    "arn",
    [
        "arn:aws:iam::aws:policy/AdministratorAccess",
        "arn:aws-us-gov:iam::aws:policy/AdministratorAccess",
        "arn:aws:iam::aws:policy/job-function/AdministratorAccess",
    ],
)
@pytest.mark.parametrize(
    "type_,props",
    [
        (
            "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
            lambda a: {"role": "r", "policyArn": a},
        ),
        (
            "aws:iam/userPolicyAttachment:UserPolicyAttachment",
            lambda a: {"user": "u", "policyArn": a},
        ),
        (
            "aws:iam/groupPolicyAttachment:GroupPolicyAttachment",
            lambda a: {"group": "g", "policyArn": a},
        ),
        (
            "aws:iam/userPolicyAttachmentsExclusive:UserPolicyAttachmentsExclusive",
            lambda a: {"policyArns": [a]},
        ),
        (ROLE, lambda a: {"managedPolicyArns": [a]}),
    ],
)
def test_i4_admin_through_every_carrier(arn, type_, props):
    assert any(
        "AdministratorAccess" in v
        for v in violations(iam.no_broad_managed_policies, type_, props(arn))
    )


def test_i4_customer_policy_of_same_name_is_judged_by_content_not_name():
    p = {"role": "r", "policyArn": "arn:aws:iam::111122223333:policy/AdministratorAccess"}
    assert (
        violations(
            iam.no_broad_managed_policies, "aws:iam/rolePolicyAttachment:RolePolicyAttachment", p
        )
        == []
    )


# --------------------------------------------------------------------------- I5
def trust(cond=None, principal=None):
    s = {
        "Sid": "T",
        "Effect": "Allow",
        "Principal": principal or {"Service": "sagemaker.amazonaws.com"},
        "Action": "sts:AssumeRole",
    }
    if cond:
        s["Condition"] = cond
    return {"assumeRolePolicy": doc([s])}


@pytest.mark.parametrize(
    "cond",
    [
        {"StringLike": {"aws:SourceAccount": "*"}},
        {"ArnLike": {"aws:SourceArn": "arn:aws:*"}},
        {"ArnLike": {"aws:SourceArn": "arn:aws:sagemaker:*:*:*"}},
        {"StringEqualsIfExists": {"aws:SourceAccount": "111122223333"}},
        {"ForAllValues:StringEquals": {"aws:SourceAccount": ["111122223333"]}},
        {"StringNotEquals": {"aws:SourceAccount": "999999999999"}},
    ],
)
def test_i5_conditions_that_pin_nothing(cond):
    assert violations(iam.trust_policy_scoped, ROLE, trust(cond)) == [
        "statement T: service trust without aws:SourceAccount/aws:SourceArn condition"
    ]


@pytest.mark.parametrize(
    "cond",
    [
        {"StringEquals": {"aws:SourceAccount": "111122223333"}},
        {"stringequals": {"AWS:SOURCEACCOUNT": ["111122223333"]}},
        {"ArnLike": {"aws:SourceArn": "arn:aws:sagemaker:eu-west-2:111122223333:*"}},
    ],
)
def test_i5_equivalent_pins_pass(cond):
    assert violations(iam.trust_policy_scoped, ROLE, trust(cond)) == []


def test_i5_irsa_sub_wildcard_is_no_condition():
    fed = {
        "Federated": "arn:aws:iam::111122223333:oidc-provider/oidc.eks.eu-west-2.amazonaws.com/id/X"
    }
    cond = {"StringLike": {"oidc.eks.eu-west-2.amazonaws.com/id/X:sub": "*"}}
    assert violations(iam.trust_policy_scoped, ROLE, trust(cond, fed)) == [
        "statement T: federated trust without a `:sub` condition"
    ]


# --------------------------------------------------------------------------- I6
@pytest.mark.parametrize(
    "action", ["kms:Decrypt", "KMS:decrypt", "kms:De*", "*:Decrypt", ["kms:Encrypt", "kms:Decrypt"]]
)
@pytest.mark.parametrize(
    "resource", ["*", "arn:aws:kms:*:*:key/*", "arn:aws:kms:eu-west-2:111122223333:key/*"]
)
def test_i6_decrypt_on_every_key(action, resource):
    p = {"policy": doc([stmt(Sid="S", Action=action, Resource=resource)])}
    got = violations(iam.no_kms_decrypt_on_all_keys, RP, p)
    assert len(got) == 1 and "kms:Decrypt" in got[0] and got[0].endswith("on every key")


def test_i6_not_resource_is_every_key():
    p = {
        "policy": doc(
            [{"Sid": "S", "Effect": "Allow", "Action": "kms:Decrypt", "NotResource": KEY}]
        )
    }
    assert violations(iam.no_kms_decrypt_on_all_keys, RP, p) == [
        "policy statement S: grants kms:Decrypt on every key"
    ]


def test_i6_exact_key_in_list_or_string_passes():
    for r in (KEY, [KEY]):
        p = {"policy": doc([stmt(Sid="S", Action=["kms:Decrypt"], Resource=r)])}
        assert violations(iam.no_kms_decrypt_on_all_keys, RP, p) == []
