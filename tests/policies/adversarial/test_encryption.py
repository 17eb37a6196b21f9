"""Adversarial encryption (E3-E10): which key actually encrypts, which actions a TLS-only
statement really covers (s3-bucket-ssl-requests-only, AwsSolutions-S10), every KMS key type."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from policies.rules import encryption as enc
from policies.rules.base import res

from ..conftest import stack_violations, violations

KEY_ARN = "arn:aws:kms:eu-west-2:111122223333:key/abc"
BP = "aws:s3/bucketPolicy:BucketPolicy"
B, OBJ = "arn:aws:s3:::b", "arn:aws:s3:::b/*"
SETTINGS = settings(derandomize=True, max_examples=30, deadline=None)


def bucket(**extra):
    return res("aws:s3/bucket:Bucket", {"bucket": "b", "arn": B, "id": "b", **extra}, "b")


def tls(*statements):
    return stack_violations(
        enc.s3_bucket_tls_only,
        [
            bucket(),
            res(BP, {"bucket": "b", "policy": json.dumps({"Statement": list(statements)})}, "bp"),
        ],
    )


def deny(action="s3:*", resource=(B, OBJ), principal="*", cond=None, **kw):
    return {
        "Effect": "Deny",
        "Principal": principal,
        "Action": action,
        "Resource": list(resource),
        "Condition": cond or {"Bool": {"aws:SecureTransport": "false"}},
        **kw,
    }


@pytest.mark.parametrize(
    "statements",
    [
        [deny()],
        [deny(action="*")],
        [deny(principal={"AWS": "*"}, cond={"Bool": {"aws:SecureTransport": False}})],
        [deny(resource=("arn:aws:s3:::b*",))],
        [deny(action="s3:*", resource=(B,)), deny(action="s3:*", resource=(OBJ,))],
        [
            deny(
                cond={
                    "BoolIfExists": {"aws:SecureTransport": "false"},
                    "IpAddress": {"aws:SourceIp": ["0.0.0.0/0", "::/0"]},
                }
            )
        ],
        [
            {
                "Effect": "Deny",
                "Principal": "*",
                "NotAction": "iam:*",
                "Resource": [B, OBJ],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            }
        ],
    ],
)
def test_e4_equivalent_tls_denies_pass(statements):
    assert tls(*statements) == []


@pytest.mark.parametrize(
    "statements,gap",
    [
        ([deny(action="s3:GetObject")], "bucket"),
        ([deny(resource=(B,))], "objects"),
        ([deny(resource=(OBJ,))], "bucket"),
        ([deny(principal={"AWS": "arn:aws:iam::111122223333:root"})], "bucket"),
        (
            [
                deny(
                    cond={
                        "Bool": {"aws:SecureTransport": "false"},
                        "IpAddress": {"aws:SourceIp": "10.0.0.0/8"},
                    }
                )
            ],
            None,
        ),
        ([deny(action=["s3:Get*", "s3:Put*"])], "bucket"),
    ],
)
def test_e4_partial_tls_denies_fail(statements, gap):
    got = tls(*statements)
    assert len(got) == 1 and got[0][0] == "b"
    if gap is None:
        assert got[0][1] == "bucket b: no policy statement denies aws:SecureTransport=false"
    else:
        assert f"does not cover {gap}" in got[0][1] or "denies aws:SecureTransport" in got[0][1]


def test_e4_inline_bucket_policy_counts():
    b = bucket(policy=json.dumps({"Statement": [deny()]}))
    assert stack_violations(enc.s3_bucket_tls_only, [b]) == []


# ---------------------------------------------------------------- E3: every path, which key
SSE_TYPES = [
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2",
]


@pytest.mark.parametrize("type_", SSE_TYPES)
@pytest.mark.parametrize(
    "key", ["alias/aws/s3", "arn:aws:kms:eu-west-2:111122223333:alias/aws/s3", None]
)
def test_e3_aws_managed_key_in_any_form(type_, key):
    d = {"sseAlgorithm": "aws:kms"}
    if key:
        d["kmsMasterKeyId"] = key
    got = violations(
        enc.s3_encryption_cmk,
        type_,
        {"bucket": "b", "rules": [{"applyServerSideEncryptionByDefault": d}]},
    )
    assert got == ["rules[0] uses the AWS-managed aws/s3 key, not a customer-managed key"]


def test_e3_inline_bucket_encryption_judged():
    rules = [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "AES256"}}]
    got = stack_violations(
        enc.s3_bucket_encryption_configured,
        [bucket(serverSideEncryptionConfiguration={"rules": rules})],
    )
    assert got == [
        ("b", "bucket b: serverSideEncryptionConfiguration.rules[0] uses AES256, not SSE-KMS")
    ]
    ok = [
        {
            "applyServerSideEncryptionByDefault": {
                "sseAlgorithm": "aws:kms:dsse",
                "kmsMasterKeyId": KEY_ARN,
            }
        }
    ]
    assert (
        stack_violations(
            enc.s3_bucket_encryption_configured,
            [bucket(serverSideEncryptionConfiguration={"rules": ok})],
        )
        == []
    )


# ---------------------------------------------------------------- E5/E6/E7/E10: AWS-managed aliases
@pytest.mark.parametrize(
    "rule,type_,path",
    [
        (enc.log_group_encrypted, "aws:cloudwatch/logGroup:LogGroup", "kmsKeyId"),
        (enc.sns_topic_encrypted, "aws:sns/topic:Topic", "kmsMasterKeyId"),
        (enc.trail_encrypted, "aws:cloudtrail/trail:Trail", "kmsKeyId"),
        (enc.guardrail_encrypted, "aws:bedrock/guardrail:Guardrail", "kmsKeyArn"),
    ],
)
@pytest.mark.parametrize(
    "alias", ["alias/aws/sns", "arn:aws:kms:eu-west-2:111122223333:alias/aws/logs"]
)
def test_aws_managed_alias_is_not_a_cmk(rule, type_, path, alias):
    got = violations(rule, type_, {path: alias})
    assert len(got) == 1 and "AWS-managed key alias/aws/" in got[0]
    assert violations(rule, type_, {path: KEY_ARN}) == []


# ---------------------------------------------------------------- E8/E9: every key type
KEY_TYPES = [
    "aws:kms/key:Key",
    "aws:kms/externalKey:ExternalKey",
    "aws:kms/replicaKey:ReplicaKey",
    "aws:kms/replicaExternalKey:ReplicaExternalKey",
]
ROOT = {
    "Sid": "Root",
    "Effect": "Allow",
    "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
    "Action": "kms:*",
    "Resource": "*",
}


@pytest.mark.parametrize("type_", KEY_TYPES)
def test_e9_every_key_type(type_):
    ok = {"policy": json.dumps({"Statement": [ROOT]}), "deletionWindowInDays": 30}
    assert violations(enc.kms_key_policy, type_, ok) == []
    assert violations(enc.kms_key_policy, type_, {**ok, "deletionWindowInDays": 7}) == [
        "deletionWindowInDays is 7, minimum 30"
    ]
    assert violations(enc.kms_key_policy, type_, {"deletionWindowInDays": 30}) == [
        "policy is not set: the default key policy grants the whole account"
    ]
    pub = {
        "Sid": "P",
        "Effect": "Allow",
        "Principal": {"AWS": ["*"]},
        "Action": "kms:Decrypt",
        "Resource": "*",
        "Condition": {"IpAddress": {"aws:SourceIp": "0.0.0.0/0"}},
    }
    got = violations(
        enc.kms_key_policy, type_, {**ok, "policy": json.dumps({"Statement": [ROOT, pub]})}
    )
    assert len(got) == 1 and got[0].startswith('policy statement P: Principal "*"')


@SETTINGS
@given(window=st.integers(7, 29))
def test_e9_short_windows(window):
    assert violations(
        enc.kms_key_policy,
        "aws:kms/key:Key",
        {"policy": json.dumps({"Statement": [ROOT]}), "deletionWindowInDays": window},
    ) == [f"deletionWindowInDays is {window}, minimum 30"]


@pytest.mark.parametrize("flag", [False, None, "false"])
def test_e8_rotation_off_in_any_form(flag):
    props = {} if flag is None else {"enableKeyRotation": flag}
    assert violations(enc.kms_key_rotation, "aws:kms/key:Key", props) == [
        "enableKeyRotation is not true"
    ]


@pytest.mark.parametrize(
    "extra",
    [
        {"keyUsage": "GENERATE_VERIFY_MAC"},
        {"customKeyStoreId": "cks-1"},
        {"customerMasterKeySpec": "ECC_NIST_P256"},
    ],
)
def test_e8_keys_aws_cannot_rotate_are_exempt(extra):
    assert violations(enc.kms_key_rotation, "aws:kms/key:Key", extra) == []
