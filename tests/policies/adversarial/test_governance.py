"""Governance (G1-G4) against rewrites: empty values, default tags, tool-default descriptions, key types."""

from __future__ import annotations

import json

import pytest

from policies.rules import governance as gov

from ..conftest import violations

BUCKET = "aws:s3/bucket:Bucket"
TAGS = {
    "owner": "a@example.com",
    "environment": "prod",
    "data-classification": "confidential",
    "cost-center": "cc-1",
}
CFG = {"requiredTags": list(TAGS)}


class TestTags:
    def test_provider_default_tags_count(self):
        provider = {"defaultTags": json.dumps({"tags": TAGS})}
        assert violations(gov.required_tags, BUCKET, {"tags": {}}, CFG, provider=provider) == []

    @pytest.mark.parametrize("blank", ["", "   ", None])
    def test_blank_value_is_no_tag(self, blank):
        got = violations(gov.required_tags, BUCKET, {"tags": {**TAGS, "owner": blank}}, CFG)
        assert got == ["empty required tag(s): owner"]

    def test_resource_blank_overrides_a_good_default(self):
        provider = {"defaultTags": json.dumps({"tags": TAGS})}
        got = violations(
            gov.required_tags, BUCKET, {"tags": {"cost-center": " "}}, CFG, provider=provider
        )
        assert got == ["empty required tag(s): cost-center"]

    def test_key_case_matters(self):
        tags = {**{k: v for k, v in TAGS.items() if k != "owner"}, "Owner": "a@example.com"}
        assert violations(gov.required_tags, BUCKET, {"tags": tags}, CFG) == [
            "missing required tag(s): owner"
        ]


class TestDescriptions:
    @pytest.mark.parametrize(
        "d", ["Managed by Pulumi", "managed by pulumi ", "  ", "MANAGED BY TERRAFORM"]
    )
    def test_tool_defaults_in_any_spelling(self, d):
        assert violations(
            gov.descriptions_present, "aws:ec2/securityGroup:SecurityGroup", {"description": d}
        ) == ["description is missing or the tool default"]

    @pytest.mark.parametrize(
        "type_",
        [
            "aws:kms/externalKey:ExternalKey",
            "aws:kms/replicaKey:ReplicaKey",
            "aws:kms/replicaExternalKey:ReplicaExternalKey",
        ],
    )
    def test_every_key_type(self, type_):
        assert violations(gov.descriptions_present, type_, {}) == [
            "description is missing or the tool default"
        ]
        assert violations(gov.descriptions_present, type_, {"description": "audit trail key"}) == []


ECR = "aws:ecr/repository:Repository"
ECR_OK = {
    "imageScanningConfiguration": {"scanOnPush": True},
    "imageTagMutability": "IMMUTABLE",
    "encryptionConfigurations": [
        {"encryptionType": "KMS", "kmsKey": "arn:aws:kms:eu-west-2:1:key/k"}
    ],
}


class TestRegistry:
    def test_compliant_and_dual_layer(self):
        assert violations(gov.ecr_hardened, ECR, ECR_OK) == []
        dsse = {
            **ECR_OK,
            "encryptionConfigurations": [
                {"encryptionType": "KMS_DSSE", "kmsKey": "arn:aws:kms:eu-west-2:1:key/k"}
            ],
        }
        assert violations(gov.ecr_hardened, ECR, dsse) == []

    @pytest.mark.parametrize(
        "enc",
        [
            [{"encryptionType": "AES256"}],
            [{"encryptionType": "KMS"}],  # no key: the AWS-managed aws/ecr key
            [{"encryptionType": "KMS", "kmsKey": "alias/aws/ecr"}],
        ],
    )
    def test_not_a_customer_key(self, enc):
        assert violations(gov.ecr_hardened, ECR, {**ECR_OK, "encryptionConfigurations": enc}) == [
            "encryptionConfigurations does not use KMS with a customer-managed key"
        ]

    def test_mutable_by_default(self):
        props = {k: v for k, v in ECR_OK.items() if k != "imageTagMutability"}
        assert violations(gov.ecr_hardened, ECR, props) == [
            "imageTagMutability is MUTABLE (default)"
        ]


class TestRegistryProvenance:
    MODEL = "aws:sagemaker/model:Model"
    PKG = "arn:aws:sagemaker:eu-west-2:111122223333:model-package/credit-risk/3"

    def test_second_container_bypasses_the_registry(self):
        props = {"containers": [{"modelPackageName": self.PKG}, {"image": "x"}]}
        assert violations(gov.model_from_registry, self.MODEL, props) == [
            "containers[1].modelPackageName is not set: the model bypasses the registry and its approval gate"
        ]
