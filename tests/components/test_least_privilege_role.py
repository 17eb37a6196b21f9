"""LeastPrivilegeRole: grants on exact ARNs, one trusted service with SourceAccount/SourceArn."""

from __future__ import annotations

import json

import pytest

from regulated_inference.components.least_privilege_role import (
    LeastPrivilegeRole,
    service_trust,
    web_identity_trust,
)
from regulated_inference.lib import iam
from regulated_inference.lib.errors import ComponentArgsError
from tests.conftest import run_component

ACCT = "111122223333"
BUCKET = "arn:aws:s3:::models-abc1234"
KEY = "arn:aws:kms:eu-west-2:111122223333:key/0b0c7f2e-1111-2222-3333-444455556666"
REPO = "arn:aws:ecr:eu-west-2:111122223333:repository/fraud-model"
LOGS = "arn:aws:logs:eu-west-2:111122223333:log-group:/regulated-inference/test/x"


def _role(**overrides):
    args = {
        "trust": service_trust(
            "sagemaker.amazonaws.com", ACCT, "arn:aws:sagemaker:eu-west-2:111122223333:*"
        ),
        "grants": [
            iam.read_objects(BUCKET, "fraud/v3"),
            iam.use_key(KEY),
            iam.pull_images(REPO),
            iam.write_logs(LOGS),
            iam.put_metrics("RegulatedInference/Quality"),
        ],
        "description": "fraud model execution",
        **overrides,
    }
    return run_component(lambda: LeastPrivilegeRole("r", args))


@pytest.fixture(scope="module")
def rec():
    return _role()


def _policy(rec):
    return json.loads(rec.one("aws:iam/rolePolicy:RolePolicy").inputs["policy"])


def test_trust_names_one_service_with_source_account_and_arn(rec):
    role = rec.one("aws:iam/role:Role")
    (st,) = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
    assert st["Principal"] == {"Service": "sagemaker.amazonaws.com"}
    assert st["Action"] == "sts:AssumeRole"
    assert st["Condition"] == {
        "StringEquals": {"aws:SourceAccount": ACCT},
        "ArnLike": {"aws:SourceArn": "arn:aws:sagemaker:eu-west-2:111122223333:*"},
    }
    assert role.inputs["maxSessionDuration"] == 3600
    assert role.outputs["arn"].startswith(f"arn:aws:iam::{rec_account(rec)}:role/r-role-")


def test_confused_deputy_condition_pins_account_and_source_arns():
    assert iam.on_behalf_of(ACCT) == {"StringEquals": {"aws:SourceAccount": ACCT}}
    one = "arn:aws:s3:::logs-*"
    assert iam.on_behalf_of(ACCT, one)["ArnLike"] == {"aws:SourceArn": one}
    assert iam.on_behalf_of(ACCT, [one])["ArnLike"] == {"aws:SourceArn": one}
    two = [one, "arn:aws:s3:::data-*"]
    assert iam.on_behalf_of(ACCT, two)["ArnLike"] == {"aws:SourceArn": two}


def test_principal_statements_name_only_what_is_given():
    trust = iam.principal_statement("T", {"Service": "x.amazonaws.com"}, "sts:AssumeRole")
    assert trust == {
        "Sid": "T",
        "Effect": "Allow",
        "Principal": {"Service": "x.amazonaws.com"},
        "Action": "sts:AssumeRole",
    }
    allow = iam.allow_service("W", "x.amazonaws.com", "s3:PutObject", "arn:aws:s3:::b/*", {"C": {}})
    assert list(allow) == ["Sid", "Effect", "Principal", "Action", "Resource", "Condition"]
    assert iam.deny_insecure_transport("sns:Publish", "arn:aws:sns:eu-west-2:1:t") == {
        "Sid": "DenyInsecureTransport",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "sns:Publish",
        "Resource": "arn:aws:sns:eu-west-2:1:t",
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }


def rec_account(rec):
    return rec.one("aws:iam/role:Role").outputs["arn"].split(":")[4]


def test_permissions_are_exact_and_wildcard_free(rec):
    by_sid = {s["Sid"]: s for s in _policy(rec)["Statement"]}
    assert by_sid["ReadObjects0"]["Resource"] == f"{BUCKET}/fraud/v3/*"
    assert by_sid["ListPrefix0"]["Condition"] == {
        "StringLike": {"s3:prefix": ["fraud/v3/*", "fraud/v3"]}
    }
    assert by_sid["UseKey1"]["Resource"] == KEY and by_sid["UseKey1"]["Action"] == [
        "kms:Decrypt",
        "kms:DescribeKey",
    ]
    assert by_sid["PullImages2"]["Resource"] == REPO
    assert by_sid["WriteLogs3"]["Resource"] == [LOGS, f"{LOGS}:log-stream:*"]
    assert by_sid["PutMetrics4"]["Condition"] == {
        "StringEquals": {"cloudwatch:namespace": "RegulatedInference/Quality"}
    }
    for st in by_sid.values():
        actions = st["Action"] if isinstance(st["Action"], list) else [st["Action"]]
        assert not any("*" in a for a in actions)
        resources = st["Resource"] if isinstance(st["Resource"], list) else [st["Resource"]]
        if "*" in resources:
            assert all(a in iam.RESOURCE_WILDCARD_ACTIONS for a in actions), st
    assert rec.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment") == []


def test_irsa_trust_is_limited_to_one_service_account():
    rec = _role(
        trust=web_identity_trust(
            "arn:aws:iam::111122223333:oidc-provider/oidc.eks.eu-west-2.amazonaws.com/id/ABC",
            "oidc.eks.eu-west-2.amazonaws.com/id/ABC",
            "models",
            "fraud",
        )
    )
    (st,) = json.loads(rec.one("aws:iam/role:Role").inputs["assumeRolePolicy"])["Statement"]
    assert st["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert st["Condition"]["StringEquals"] == {
        "oidc.eks.eu-west-2.amazonaws.com/id/ABC:sub": "system:serviceaccount:models:fraud",
        "oidc.eks.eu-west-2.amazonaws.com/id/ABC:aud": "sts.amazonaws.com",
    }


@pytest.mark.parametrize(
    "overrides,arg",
    [
        ({"trust": service_trust("*", ACCT)}, "trust.service"),
        (
            {"trust": service_trust("sagemaker.amazonaws.com ec2.amazonaws.com", ACCT)},
            "trust.service",
        ),
        ({"grants": []}, "grants"),
        ({"grants": [iam.custom_statement("All", ("s3:*",), (BUCKET,))]}, "grants[0]"),
        ({"grants": [iam.custom_statement("Any", ("s3:GetObject",), ("*",))]}, "grants[0]"),
        (
            {"managed_policy_arns": ["arn:aws:iam::aws:policy/AmazonSageMakerFullAccess"]},
            "managed_policy_arns",
        ),
        (
            {"managed_policy_arns": ["arn:aws:iam::111122223333:policy/TeamFullAccess"]},
            "managed_policy_arns",
        ),
        ({"description": ""}, "description"),
        ({"max_session_duration": 60}, "max_session_duration"),
    ],
)
def test_invalid_args_fail_before_any_resource(overrides, arg):
    with pytest.raises(ComponentArgsError) as info:
        _role(**overrides)
    assert info.value.arg == arg
    assert [r for r in info.value.partial_recording.resources if r.custom] == []
