"""Adversarial resource policies (I8, N10, N11, N3, E9): public and cross-account access in
bucket, key, topic and endpoint policies, whatever the syntax (checkov CKV_AWS_70/283/169,
prowler vpc_endpoint_connections_trust_boundaries; AWS data-perimeter guidance: network
conditions are not an identity perimeter)."""

from __future__ import annotations

import json

import pytest

from policies.rules import iam, network
from policies.rules.base import res

from ..conftest import stack_violations, violations

OURS, OTHER = "111122223333", "999988887777"
TYPES = [
    ("aws:s3/bucketPolicy:BucketPolicy", {"bucket": "b"}),
    ("aws:kms/key:Key", {}),
    ("aws:kms/externalKey:ExternalKey", {}),
    ("aws:kms/replicaKey:ReplicaKey", {}),
    ("aws:sns/topicPolicy:TopicPolicy", {"arn": "arn:aws:sns:eu-west-2:111122223333:t"}),
    ("aws:sns/topic:Topic", {}),
    ("aws:ec2/vpcEndpoint:VpcEndpoint", {"vpcId": "vpc-1"}),
    ("aws:ec2/vpcEndpointPolicy:VpcEndpointPolicy", {"vpcEndpointId": "vpce-1"}),
]


def props(base, *statements, as_string=True):
    d = {"Version": "2012-10-17", "Statement": list(statements)}
    return {**base, "policy": json.dumps(d) if as_string else d}


def allow(principal="*", **kw):
    return {
        "Sid": "S",
        "Effect": "Allow",
        "Principal": principal,
        "Action": "s3:GetObject",
        "Resource": "*",
        **kw,
    }


PUBLIC_PRINCIPALS = [
    "*",
    {"AWS": "*"},
    {"AWS": ["*"]},
    {"AWS": ["arn:aws:iam::111122223333:root", "*"]},
]
NON_PINNING = [
    {"IpAddress": {"aws:SourceIp": ["0.0.0.0/0", "::/0"]}},
    {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}},
    {"StringEquals": {"aws:SourceVpce": "vpce-1"}},
    {"StringLike": {"aws:PrincipalAccount": "*"}},
    {"StringLike": {"aws:SourceAccount": "*"}},
    {"ArnLike": {"aws:PrincipalArn": "arn:aws:*"}},
    {"Null": {"aws:PrincipalAccount": "false"}},
    {"StringEqualsIfExists": {"aws:PrincipalAccount": OURS}},
    {"ForAllValues:StringEquals": {"aws:PrincipalOrgID": ["o-abcdefghij"]}},
    {"StringNotEquals": {"aws:PrincipalAccount": OTHER}},
]


@pytest.mark.parametrize("type_,base", TYPES)
@pytest.mark.parametrize("principal", PUBLIC_PRINCIPALS)
def test_public_principal_without_condition(type_, base, principal):
    got = violations(iam.resource_policy_not_public, type_, props(base, allow(principal)))
    assert got == ['policy statement S: allows Principal "*" without a condition']


@pytest.mark.parametrize("cond", NON_PINNING)
def test_conditions_that_do_not_pin_are_still_public(cond):
    got = violations(
        iam.resource_policy_not_public,
        "aws:s3/bucketPolicy:BucketPolicy",
        props({"bucket": "b"}, allow(Condition=cond)),
    )
    assert len(got) == 1 and 'allows Principal "*"' in got[0]


def test_allow_with_not_principal_is_public():
    st = {
        "Sid": "S",
        "Effect": "Allow",
        "NotPrincipal": {"AWS": f"arn:aws:iam::{OURS}:root"},
        "Action": "sns:Publish",
        "Resource": "*",
    }
    got = violations(iam.resource_policy_not_public, "aws:sns/topic:Topic", props({}, st))
    assert got == ["policy statement S: allows NotPrincipal (everyone else) without a condition"]


@pytest.mark.parametrize(
    "cond",
    [
        {"StringEquals": {"aws:PrincipalAccount": OURS}},
        {"StringEquals": {"AWS:principalaccount": [OURS]}},
        {"StringEquals": {"aws:PrincipalOrgID": "o-abcdefghij"}},
        {"StringEquals": {"kms:CallerAccount": OURS}},
        {"ArnLike": {"aws:PrincipalArn": f"arn:aws:iam::{OURS}:role/*"}},
        {
            "StringEquals": {"aws:PrincipalAccount": OURS},
            "IpAddress": {"aws:SourceIp": "0.0.0.0/0"},
        },
    ],
)
def test_pinned_wildcard_is_not_public(cond):
    assert (
        violations(
            iam.resource_policy_not_public,
            "aws:kms/key:Key",
            props({}, allow(Condition=cond), as_string=False),
        )
        == []
    )


def test_perimeter_deny_pins_a_public_allow():
    deny = {
        "Sid": "D",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": "*",
        "Condition": {"StringNotEquals": {"aws:PrincipalAccount": OURS}},
    }
    p = props({"bucket": "b"}, allow(Action="s3:GetObject"), deny)
    assert violations(iam.resource_policy_not_public, "aws:s3/bucketPolicy:BucketPolicy", p) == []
    narrow = dict(deny, Action="s3:PutObject")  # does not cover the Allow's action
    p = props({"bucket": "b"}, allow(Action="s3:GetObject"), narrow)
    assert violations(iam.resource_policy_not_public, "aws:s3/bucketPolicy:BucketPolicy", p)


# ------------------------------------------------------------------ cross-account (stack rule)
def _stack(*statements, type_="aws:kms/key:Key"):
    role = res("aws:iam/role:Role", {"arn": f"arn:aws:iam::{OURS}:role/app"}, "app")
    return [role, res(type_, props({}, *statements), "k")]


@pytest.mark.parametrize(
    "statement",
    [
        allow({"AWS": f"arn:aws:iam::{OTHER}:root"}),
        allow({"AWS": OTHER}),
        allow({"AWS": [f"arn:aws:iam::{OURS}:root", f"arn:aws:iam::{OTHER}:role/x"]}),
        allow(Condition={"StringEquals": {"aws:PrincipalAccount": OTHER}}),
        allow(Condition={"StringEquals": {"aws:PrincipalAccount": [OURS, OTHER]}}),
        allow(
            {"Service": "cloudtrail.amazonaws.com"},
            Condition={"StringEquals": {"aws:SourceAccount": OTHER}},
        ),
    ],
)
def test_cross_account_is_caught(statement):
    got = stack_violations(iam.resource_policy_no_cross_account, _stack(statement))
    assert got == [("k", f"k: policy statement S admits other account(s) {OTHER}")]


def test_own_account_in_every_form_passes():
    sts = [
        allow({"AWS": f"arn:aws:iam::{OURS}:root"}),
        allow({"AWS": OURS}),
        allow(Condition={"StringEquals": {"aws:PrincipalAccount": OURS}}),
        allow(
            {"Service": "logs.amazonaws.com"},
            Condition={"StringEquals": {"aws:SourceAccount": OURS}},
        ),
    ]
    assert stack_violations(iam.resource_policy_no_cross_account, _stack(*sts)) == []


def test_other_account_listed_in_config_passes():
    got = stack_violations(
        iam.resource_policy_no_cross_account, _stack(allow({"AWS": OTHER})), {"accountIds": [OTHER]}
    )
    assert got == []


def test_foreign_organisation_is_cross_account():
    st = allow(Condition={"StringEquals": {"aws:PrincipalOrgID": "o-zzzzzzzzzz"}})
    got = stack_violations(iam.resource_policy_no_cross_account, _stack(st))
    assert got == [
        ("k", "k: policy statement S admits organisation(s) o-zzzzzzzzzz not in organizationIds")
    ]


# ------------------------------------------------------------------ N10 ACLs, N11 subscriptions
def test_n10_canned_acl_case():
    b = res("aws:s3/bucket:Bucket", {"bucket": "b", "acl": "PUBLIC-READ"}, "b")
    own = res(
        "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
        {"bucket": "b", "rule": {"objectOwnership": "BucketOwnerEnforced"}},
        "o",
    )
    assert stack_violations(network.acls_disabled, [b, own]) == [
        ("b", "bucket b sets canned ACL PUBLIC-READ")
    ]
    b2 = res("aws:s3/bucket:Bucket", {"bucket": "b", "acl": "Private"}, "b")
    assert stack_violations(network.acls_disabled, [b2, own]) == []


@pytest.mark.parametrize("proto,endpoint", [("HTTP", "https://x"), ("http ", "https://x")])
def test_n11_http_protocol_any_case(proto, endpoint):
    got = violations(
        network.sns_subscription_https,
        "aws:sns/topicSubscription:TopicSubscription",
        {"protocol": proto, "endpoint": endpoint},
    )
    assert got == ["protocol is http: alerts travel unencrypted"]


def test_n11_plain_http_endpoint_any_case():
    got = violations(
        network.sns_subscription_https,
        "aws:sns/topicSubscription:TopicSubscription",
        {"protocol": "https", "endpoint": "HTTP://x"},
    )
    assert got == ["endpoint HTTP://x is plain http"]
