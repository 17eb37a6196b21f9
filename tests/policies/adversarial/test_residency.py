"""Residency (R1-R7) against indirection: other resources' regions, wildcards, hostnames, key types."""

from __future__ import annotations

import json

import pytest

from policies.rules import residency as rz
from policies.rules.base import res

from ..conftest import stack_violations, violations

EU = {"allowedRegions": ["eu-west-2"]}
GEO = {"allowedRegions": ["eu-west-2"], "allowedGeographies": ["eu"]}
VPCE = "aws:ec2/vpcEndpoint:VpcEndpoint"


class TestProviderAndResourceRegion:
    @pytest.mark.parametrize("region", ["EU-WEST-2", "eu-west-2 ", "us-east-1"])
    def test_provider_region_must_match_exactly(self, region):
        assert violations(
            rz.provider_region_allowed, "pulumi:providers:aws", {"region": region}, EU
        ) == [f"provider region {region} is not in the allowed regions ['eu-west-2']"]

    @pytest.mark.parametrize(
        "svc,region",
        [
            ("com.amazonaws.us-east-1.bedrock-runtime", "us-east-1"),
            ("com.amazonaws.vpce.eu-west-1.vpce-svc-0123456789abcdef0", "eu-west-1"),
            ("aws.sagemaker.us-west-2.notebook", "us-west-2"),
            ("COM.AMAZONAWS.US-EAST-1.S3", "us-east-1"),
        ],
    )
    def test_interface_endpoint_to_another_region(self, svc, region):
        assert violations(rz.resource_region_allowed, VPCE, {"serviceName": svc}, EU) == [
            f"serviceName {svc} reaches a service in {region}, outside ['eu-west-2']"
        ]

    def test_in_region_endpoint_passes(self):
        assert (
            violations(
                rz.resource_region_allowed, VPCE, {"serviceName": "com.amazonaws.eu-west-2.kms"}, EU
            )
            == []
        )

    def test_cross_region_arn_in_a_reference(self):
        props = {"kmsKeyId": "arn:aws:kms:us-east-1:111122223333:key/abc"}
        assert violations(rz.resource_region_allowed, "aws:sns/topic:Topic", props, EU) == [
            "kmsKeyId references arn:aws:kms:us-east-1:111122223333:key/abc in us-east-1, outside ['eu-west-2']"
        ]

    def test_cross_region_arn_inside_a_nested_list_and_json(self):
        doc = json.dumps(
            {
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Action": "sqs:SendMessage",
                        "Resource": "arn:aws:sqs:ap-south-1:111122223333:q",
                    }
                ]
            }
        )
        got = violations(
            rz.resource_region_allowed, "aws:sns/topicPolicy:TopicPolicy", {"policy": doc}, EU
        )
        assert got == [
            "policy references arn:aws:sqs:ap-south-1:111122223333:q in ap-south-1, outside ['eu-west-2']"
        ]
        props = {"alarmActions": ["arn:aws:sns:eu-west-2:1:ok", "arn:aws:sns:us-west-2:1:far"]}
        assert violations(
            rz.resource_region_allowed, "aws:cloudwatch/metricAlarm:MetricAlarm", props, EU
        ) == [
            "alarmActions[1] references arn:aws:sns:us-west-2:1:far in us-west-2, outside ['eu-west-2']"
        ]

    @pytest.mark.parametrize(
        "props",
        [
            {"kmsKeyId": "arn:aws:kms:eu-west-2:111122223333:key/abc"},
            {"bucket": "arn:aws:s3:::global-bucket-arns-have-no-region"},
            {"role": "arn:aws:iam::111122223333:role/r"},
            {
                "policy": '{"Statement":[{"Effect":"Allow","Action":"kms:Decrypt","Resource":"arn:aws:kms:*:1:key/*"}]}'
            },
        ],
    )
    def test_region_less_and_in_region_references_pass(self, props):
        assert violations(rz.resource_region_allowed, "aws:sns/topic:Topic", props, EU) == []


class TestKeys:
    @pytest.mark.parametrize("type_", ["aws:kms/key:Key", "aws:kms/externalKey:ExternalKey"])
    def test_multi_region_any_key_type(self, type_):
        assert violations(rz.kms_no_multi_region, type_, {"multiRegion": True}, EU) == [
            "multiRegion is true: key material can be replicated to other regions"
        ]

    def test_replica_external_key_region_from_explicit_provider(self):
        assert violations(
            rz.kms_no_multi_region,
            "aws:kms/replicaExternalKey:ReplicaExternalKey",
            {"primaryKeyArn": "arn:aws:kms:eu-west-2:1:key/mrk-1"},
            EU,
            provider={"region": "us-east-1"},
        ) == ["replica key in us-east-1, outside ['eu-west-2']"]

    def test_replica_in_region_of_a_foreign_primary(self):
        assert violations(
            rz.kms_no_multi_region,
            "aws:kms/replicaKey:ReplicaKey",
            {"region": "eu-west-2", "primaryKeyArn": "arn:aws:kms:us-east-1:1:key/mrk-1"},
            EU,
        ) == [
            "primaryKeyArn arn:aws:kms:us-east-1:1:key/mrk-1 is in us-east-1, outside ['eu-west-2']: the key "
            "material is shared with it"
        ]


PROFILE = "aws:bedrock/inferenceProfile:InferenceProfile"


class TestBedrockGeographies:
    @pytest.mark.parametrize(
        "type_,props,message",
        [
            (
                "aws:bedrock/agentAgent:AgentAgent",
                {"foundationModel": "global.anthropic.claude-sonnet-4-v1:0"},
                "foundationModel: global.anthropic.claude-sonnet-4-v1:0 is a global cross-Region inference profile "
                "(routes to any commercial region)",
            ),
            (
                "aws:bedrock/agentAgent:AgentAgent",
                {"foundationModel": "us.anthropic.claude-3-haiku-v1:0"},
                "foundationModel: us.anthropic.claude-3-haiku-v1:0 routes to the 'us' geography, allowed: ['eu']",
            ),
            (
                "aws:bedrock/agentKnowledgeBase:AgentKnowledgeBase",
                {
                    "knowledgeBaseConfiguration": {
                        "vectorKnowledgeBaseConfiguration": {
                            "embeddingModelArn": "arn:aws:bedrock:us-east-1::foundation-model/amazon.titan-embed-text-v2:0"
                        }
                    }
                },
                "knowledgeBaseConfiguration.vectorKnowledgeBaseConfiguration.embeddingModelArn: "
                "arn:aws:bedrock:us-east-1::foundation-model/amazon.titan-embed-text-v2:0 is in us-east-1, "
                "outside ['eu-west-2']",
            ),
            (
                PROFILE,
                {
                    "modelSource": {
                        "copyFrom": "arn:aws:bedrock:eu-west-2:1:inference-profile/*.anthropic.claude"
                    }
                },
                "arn:aws:bedrock:eu-west-2:1:inference-profile/*.anthropic.claude names inference profiles of any "
                "geography, global ones included",
            ),
            (
                PROFILE,
                {
                    "modelSource": {
                        "copyFrom": "arn:aws:bedrock:eu-west-2:1:inference-profile/GLOBAL.anthropic.x"
                    }
                },
                "arn:aws:bedrock:eu-west-2:1:inference-profile/GLOBAL.anthropic.x is a global cross-Region inference "
                "profile (routes to any commercial region)",
            ),
            (
                PROFILE,
                {
                    "modelSource": {
                        "copyFrom": "arn:aws:bedrock:*::foundation-model/anthropic.claude"
                    }
                },
                "arn:aws:bedrock:*::foundation-model/anthropic.claude names the model in any region (region wildcard '*')",
            ),
        ],
    )
    def test_model_references_everywhere(self, type_, props, message):
        assert violations(rz.bedrock_geographies, type_, props, GEO) == [message]

    def test_iam_grant_wildcard_profile_and_not_resource(self):
        doc = {
            "Statement": [
                {
                    "Sid": "A",
                    "Effect": "Allow",
                    "Action": "bedrock:Invoke*",
                    "Resource": ["arn:aws:bedrock:eu-west-2:1:inference-profile/*"],
                },
                {
                    "Sid": "B",
                    "Effect": "Allow",
                    "Action": "bedrock:*",
                    "NotResource": "arn:aws:bedrock:eu-west-2::foundation-model/x",
                },
            ]
        }
        got = violations(
            rz.bedrock_geographies, "aws:iam/policy:Policy", {"policy": json.dumps(doc)}, GEO
        )
        assert sorted(got) == [
            "policy statement A: grants arn:aws:bedrock:eu-west-2:1:inference-profile/* names any inference "
            "profile, global ones included",
            "policy statement B: grants Bedrock invocation on NotResource (every model and profile not listed, "
            "global ones included)",
        ]

    @pytest.mark.parametrize(
        "type_,props",
        [
            (
                "aws:bedrock/agentAgent:AgentAgent",
                {"foundationModel": "eu.anthropic.claude-3-haiku-v1:0"},
            ),
            (
                "aws:bedrock/agentAgent:AgentAgent",
                {"foundationModel": "anthropic.claude-3-haiku-20240307-v1:0"},
            ),
            (
                "aws:bedrock/guardrail:Guardrail",
                {"name": "g", "description": "blocks prompt attacks. and pii."},
            ),
            (
                PROFILE,
                {
                    "modelSource": {
                        "copyFrom": "arn:aws:bedrock:eu-west-2::foundation-model/anthropic.claude"
                    }
                },
            ),
        ],
    )
    def test_in_geography_rewrites_pass(self, type_, props):
        assert violations(rz.bedrock_geographies, type_, props, GEO) == []


class TestSinks:
    HOME = {"homeRegion": "eu-west-2"}
    SUB = "aws:cloudwatch/logSubscriptionFilter:LogSubscriptionFilter"

    def _sink_violations(self, destination_arn: str) -> list:
        """Violations for a log group in the home region with a subscription to `destination_arn`."""
        lgr = res("aws:cloudwatch/logGroup:LogGroup", {"name": "app", "region": "eu-west-2"}, "lg")
        sub = res(self.SUB, {"logGroup": "app", "destinationArn": destination_arn}, "sub")
        return stack_violations(rz.sinks_in_home_region, [lgr, sub], self.HOME)

    def test_subscription_filter_forwards_to_another_region(self):
        arn = "arn:aws:firehose:us-east-1:111122223333:deliverystream/x"
        assert self._sink_violations(arn) == [
            (
                "sub",
                "destinationArn arn:aws:firehose:us-east-1:111122223333:deliverystream/x is in us-east-1, "
                "not the home region eu-west-2",
            )
        ]

    def test_subscription_filter_in_region_passes(self):
        arn = "arn:aws:kinesis:eu-west-2:111122223333:stream/x"
        assert self._sink_violations(arn) == []


class TestImages:
    MODEL = "aws:sagemaker/model:Model"

    @pytest.mark.parametrize(
        "image",
        [
            "111122223333.dkr.ecr.eu-west-2.amazonaws.com/llm@sha256:" + "a" * 64,
            "111122223333.dkr.ecr-fips.eu-west-2.amazonaws.com/llm:1",
            "111122223333.dkr-ecr.eu-west-2.on.aws/llm:1",
            "111122223333.DKR.ECR.EU-WEST-2.AMAZONAWS.COM/llm:1",
            "111122223333.dkr.ecr.eu-west-2.amazonaws.com:443/llm:1",
        ],
    )
    def test_in_region_hostnames_pass(self, image):
        assert (
            violations(rz.images_in_region, self.MODEL, {"primaryContainer": {"image": image}}, EU)
            == []
        )

    @pytest.mark.parametrize(
        "image,message",
        [
            ("111122223333.dkr-ecr.us-east-1.on.aws/llm:1", "is pulled from us-east-1"),
            (
                "111122223333.dkr.ecr-fips.us-gov-west-1.amazonaws.com/llm:1",
                "is pulled from us-gov-west-1",
            ),
            ("public.ecr.aws/x/llm:1", "is not from a private ECR registry"),
            (
                "111122223333.dkr.ecr.eu-west-2.amazonaws.com.evil.example/llm:1",
                "is not from a private ECR registry",
            ),
            (
                "evil.example/111122223333.dkr.ecr.eu-west-2.amazonaws.com/llm:1",
                "is not from a private ECR registry",
            ),
        ],
    )
    def test_out_of_region_or_lookalike_hosts(self, image, message):
        got = violations(
            rz.images_in_region, self.MODEL, {"primaryContainer": {"image": image}}, EU
        )
        assert len(got) == 1 and message in got[0]

    @pytest.mark.parametrize(
        "type_,props,path",
        [
            (
                "kubernetes:batch/v1:CronJob",
                {
                    "spec": {
                        "jobTemplate": {
                            "spec": {"template": {"spec": {"containers": [{"image": "nginx"}]}}}
                        }
                    }
                },
                "spec.jobTemplate.spec.template.spec.containers[0].image",
            ),
            (
                "kubernetes:core/v1:Pod",
                {"spec": {"ephemeralContainers": [{"image": "busybox"}]}},
                "spec.ephemeralContainers[0].image",
            ),
            (
                "kubernetes:batch/v1:Job",
                {"spec": {"template": {"spec": {"initContainers": [{"image": "alpine"}]}}}},
                "spec.template.spec.initContainers[0].image",
            ),
        ],
    )
    def test_every_pod_kind(self, type_, props, path):
        got = violations(rz.images_in_region, type_, props, EU)
        assert len(got) == 1 and got[0].startswith(f"{path}: image ")
