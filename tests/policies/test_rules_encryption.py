"""Encryption rules (E1-E10)."""

from __future__ import annotations

import json

import pytest

from policies.rules import encryption as enc
from policies.rules.base import UNKNOWN, res

from .builders import bucket
from .conftest import DELETE, stack_violations, unknowns, violations, with_change

EC = "aws:sagemaker/endpointConfiguration:EndpointConfiguration"
KEY_ARN = "arn:aws:kms:eu-west-2:111122223333:key/11111111-2222-3333-4444-555555555555"


class TestEndpointConfigCmk:
    def test_compliant(self):
        assert violations(enc.endpoint_config_cmk, EC, {"kmsKeyArn": KEY_ARN}) == []

    def test_missing(self):
        assert violations(enc.endpoint_config_cmk, EC, {}) == [
            "kmsKeyArn is not set: endpoint storage is encrypted with an AWS-owned key"
        ]

    def test_unknown_key_counts_as_set(self):
        # presence check: an unknown ARN is set (it will be known after apply); never read to check presence
        assert violations(enc.endpoint_config_cmk, EC, {"kmsKeyArn": UNKNOWN}) == []
        assert unknowns(enc.endpoint_config_cmk, EC, {"kmsKeyArn": UNKNOWN}) == []


class TestInstanceType:
    def _ec(self, it, kms=True):
        props = {
            "productionVariants": [
                {"variantName": "v", "instanceType": it, "initialInstanceCount": 2}
            ]
        }
        if kms:
            props["kmsKeyArn"] = KEY_ARN
        return props

    def test_compliant(self):
        assert violations(enc.instance_type_allowed, EC, self._ec("ml.m5.xlarge")) == []

    def test_nvme_with_kms(self):
        assert violations(enc.instance_type_allowed, EC, self._ec("ml.g5.2xlarge")) == [
            "productionVariants[0].instanceType ml.g5.2xlarge has NVMe storage: the KMS key would be rejected"
        ]

    def test_nvme_without_kms_is_not_this_rules_concern(self):
        assert violations(enc.instance_type_allowed, EC, self._ec("ml.g5.2xlarge", kms=False)) == []

    def test_not_allowed(self):
        cfg = {"allowedInstanceTypes": ["ml.m5.*"]}
        assert violations(enc.instance_type_allowed, EC, self._ec("ml.c5.xlarge"), cfg) == [
            "productionVariants[0].instanceType ml.c5.xlarge is not in ['ml.m5.*']"
        ]

    def test_missing_variants(self):
        assert violations(enc.instance_type_allowed, EC, {}) == []


class TestMonitoringJob:
    DQ = "aws:sagemaker/dataQualityJobDefinition:DataQualityJobDefinition"
    OK = {
        "dataQualityJobOutputConfig": {
            "kmsKeyId": KEY_ARN,
            "monitoringOutputs": {"s3Output": {"s3Uri": "s3://m/x"}},
        },
        "jobResources": {"clusterConfig": {"instanceCount": 1, "volumeKmsKeyId": KEY_ARN}},
        "networkConfig": {"enableInterContainerTrafficEncryption": True},
    }

    def test_compliant(self):
        assert violations(enc.monitoring_job_encrypted, self.DQ, self.OK) == []

    @pytest.mark.parametrize(
        "path,message",
        [
            (
                "dataQualityJobOutputConfig.kmsKeyId",
                "dataQualityJobOutputConfig.kmsKeyId is not set: monitoring output is not CMK-encrypted",
            ),
            (
                "jobResources.clusterConfig.volumeKmsKeyId",
                "jobResources.clusterConfig.volumeKmsKeyId is not set: job volume is not CMK-encrypted",
            ),
            (
                "networkConfig.enableInterContainerTrafficEncryption",
                "networkConfig.enableInterContainerTrafficEncryption is not true",
            ),
        ],
    )
    def test_each_property(self, path, message):
        assert violations(
            enc.monitoring_job_encrypted, self.DQ, with_change(self.OK, path, DELETE)
        ) == [message]


SSE = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
SSE_OK = {
    "bucket": "b",
    "rules": [
        {
            "applyServerSideEncryptionByDefault": {
                "sseAlgorithm": "aws:kms",
                "kmsMasterKeyId": KEY_ARN,
            },
            "bucketKeyEnabled": True,
        }
    ],
}


class TestS3Encryption:
    def test_compliant(self):
        assert violations(enc.s3_encryption_cmk, SSE, SSE_OK) == []

    def test_aes256(self):
        p = with_change(SSE_OK, "rules.0.applyServerSideEncryptionByDefault.sseAlgorithm", "AES256")
        assert violations(enc.s3_encryption_cmk, SSE, p) == ["rules[0] uses AES256, not SSE-KMS"]

    def test_aws_managed_key(self):
        p = with_change(SSE_OK, "rules.0.applyServerSideEncryptionByDefault.kmsMasterKeyId", DELETE)
        assert violations(enc.s3_encryption_cmk, SSE, p) == [
            "rules[0] uses the AWS-managed aws/s3 key, not a customer-managed key"
        ]

    def test_missing_rules(self):
        assert violations(enc.s3_encryption_cmk, SSE, {"bucket": "b"}) == ["rules is empty"]


class TestBucketEncryptionConfigured:
    def test_correlated_by_name(self):
        stack = [bucket("b"), res(SSE, SSE_OK, "b-sse")]
        assert stack_violations(enc.s3_bucket_encryption_configured, stack) == []

    def test_correlated_by_dependency_urn(self):
        b = bucket("b")
        sse = res(
            SSE,
            with_change(SSE_OK, "bucket", UNKNOWN),
            "b-sse",
            property_dependencies={"bucket": [b.urn]},
        )
        assert stack_violations(enc.s3_bucket_encryption_configured, [b, sse]) == []

    def test_missing(self):
        assert stack_violations(enc.s3_bucket_encryption_configured, [bucket("b")]) == [
            ("b", "bucket b has no server-side encryption configuration")
        ]

    def test_other_buckets_settings_do_not_count(self):
        stack = [bucket("a"), bucket("b"), res(SSE, with_change(SSE_OK, "bucket", "a"), "a-sse")]
        assert stack_violations(enc.s3_bucket_encryption_configured, stack) == [
            ("b", "bucket b has no server-side encryption configuration")
        ]


TLS_DENY = {
    "Sid": "DenyInsecureTransport",
    "Effect": "Deny",
    "Principal": "*",
    "Action": "s3:*",
    "Resource": ["arn:aws:s3:::b", "arn:aws:s3:::b/*"],
    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
}
BP = "aws:s3/bucketPolicy:BucketPolicy"


class TestTlsOnly:
    def test_compliant(self):
        stack = [
            bucket("b"),
            res(BP, {"bucket": "b", "policy": json.dumps({"Statement": [TLS_DENY]})}, "bp"),
        ]
        assert stack_violations(enc.s3_bucket_tls_only, stack) == []

    def test_policy_without_tls_deny(self):
        st = dict(TLS_DENY, Condition={"StringNotEquals": {"aws:PrincipalAccount": "1"}})
        stack = [
            bucket("b"),
            res(BP, {"bucket": "b", "policy": json.dumps({"Statement": [st]})}, "bp"),
        ]
        assert stack_violations(enc.s3_bucket_tls_only, stack) == [
            ("b", "bucket b: no policy statement denies aws:SecureTransport=false")
        ]

    def test_no_policy(self):
        assert stack_violations(enc.s3_bucket_tls_only, [bucket("b")]) == [
            ("b", "bucket b has no bucket policy denying non-TLS requests")
        ]


@pytest.mark.parametrize(
    "rule,type_,path,message",
    [
        (
            enc.log_group_encrypted,
            "aws:cloudwatch/logGroup:LogGroup",
            "kmsKeyId",
            "kmsKeyId is not set: log groups use an AWS-owned key",
        ),
        (
            enc.sns_topic_encrypted,
            "aws:sns/topic:Topic",
            "kmsMasterKeyId",
            "kmsMasterKeyId is not set: sns topics use an AWS-owned key",
        ),
        (
            enc.trail_encrypted,
            "aws:cloudtrail/trail:Trail",
            "kmsKeyId",
            "kmsKeyId is not set: trails use an AWS-owned key",
        ),
        (
            enc.guardrail_encrypted,
            "aws:bedrock/guardrail:Guardrail",
            "kmsKeyArn",
            "kmsKeyArn is not set: bedrock guardrails use an AWS-owned key",
        ),
        (
            enc.custom_model_encrypted,
            "aws:bedrock/customModel:CustomModel",
            "customModelKmsKeyId",
            "customModelKmsKeyId is not set: bedrock custom models use an AWS-owned key",
        ),
    ],
)
def test_simple_cmk_rules(rule, type_, path, message):
    assert violations(rule, type_, {path: KEY_ARN}) == []
    assert violations(rule, type_, {}) == [message]


def test_sns_aws_managed_key():
    assert violations(
        enc.sns_topic_encrypted, "aws:sns/topic:Topic", {"kmsMasterKeyId": "alias/aws/sns"}
    ) == ["kmsMasterKeyId is the AWS-managed key alias/aws/sns, not a customer-managed key"]


KEY = "aws:kms/key:Key"
KEY_POLICY = json.dumps(
    {
        "Statement": [
            {
                "Sid": "Root",
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
                "Action": "kms:*",
                "Resource": "*",
            }
        ]
    }
)
KEY_OK = {
    "description": "data",
    "enableKeyRotation": True,
    "deletionWindowInDays": 30,
    "policy": KEY_POLICY,
}


class TestKeyRotation:
    def test_compliant(self):
        assert violations(enc.kms_key_rotation, KEY, KEY_OK) == []

    def test_off_and_missing(self):
        assert violations(
            enc.kms_key_rotation, KEY, with_change(KEY_OK, "enableKeyRotation", False)
        ) == ["enableKeyRotation is not true"]
        assert violations(
            enc.kms_key_rotation, KEY, with_change(KEY_OK, "enableKeyRotation", DELETE)
        ) == ["enableKeyRotation is not true"]

    def test_asymmetric_keys_exempt(self):
        p = with_change(KEY_OK, "enableKeyRotation", DELETE)
        p["customerMasterKeySpec"] = "RSA_2048"
        assert violations(enc.kms_key_rotation, KEY, p) == []


class TestKeyPolicy:
    def test_compliant(self):
        assert violations(enc.kms_key_policy, KEY, KEY_OK, {"minDeletionWindowDays": 30}) == []

    def test_missing_policy(self):
        assert violations(enc.kms_key_policy, KEY, with_change(KEY_OK, "policy", DELETE)) == [
            "policy is not set: the default key policy grants the whole account"
        ]

    def test_public_principal(self):
        p = json.dumps(
            {
                "Statement": [
                    {
                        "Sid": "Any",
                        "Effect": "Allow",
                        "Principal": "*",
                        "Action": "kms:Decrypt",
                        "Resource": "*",
                    }
                ]
            }
        )
        assert violations(enc.kms_key_policy, KEY, with_change(KEY_OK, "policy", p)) == [
            'policy statement Any: Principal "*" without a condition'
        ]

    def test_short_window(self):
        assert violations(
            enc.kms_key_policy,
            KEY,
            with_change(KEY_OK, "deletionWindowInDays", 7),
            {"minDeletionWindowDays": 30},
        ) == ["deletionWindowInDays is 7, minimum 30"]
        assert (
            violations(
                enc.kms_key_policy,
                KEY,
                with_change(KEY_OK, "deletionWindowInDays", 7),
                {"minDeletionWindowDays": 7},
            )
            == []
        )
