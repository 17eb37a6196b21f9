"""Residency rules (R1-R7): fixture -> one change -> exact violation."""

from __future__ import annotations

import json

import pytest

from policies.rules import residency as rz
from policies.rules.base import UNKNOWN, res
from policies.rules.stack_index import StackIndex

from .conftest import DELETE, stack_findings, stack_violations, unknowns, violations, with_change

PROVIDER = "pulumi:providers:aws"
EU = {"allowedRegions": ["eu-west-2"]}


class TestProviderRegion:
    def test_compliant(self):
        assert violations(rz.provider_region_allowed, PROVIDER, {"region": "eu-west-2"}, EU) == []

    def test_region_outside_list(self):
        assert violations(rz.provider_region_allowed, PROVIDER, {"region": "us-east-1"}, EU) == [
            "provider region us-east-1 is not in the allowed regions ['eu-west-2']"
        ]

    def test_missing_region(self):
        assert violations(rz.provider_region_allowed, PROVIDER, {}, EU) == [
            "provider has no region: it would fall back to AWS_REGION from the environment"
        ]

    def test_unknown_region_is_reported_not_passed(self):
        assert unknowns(rz.provider_region_allowed, PROVIDER, {"region": UNKNOWN}, EU) == [
            "cannot verify until apply: region is unknown during preview"
        ]

    def test_default_config_is_eu_west_2(self):
        assert violations(rz.provider_region_allowed, PROVIDER, {"region": "eu-west-1"}) != []


class TestResourceRegion:
    def test_compliant_and_missing(self):
        assert (
            violations(
                rz.resource_region_allowed, "aws:s3/bucket:Bucket", {"region": "eu-west-2"}, EU
            )
            == []
        )
        assert violations(rz.resource_region_allowed, "aws:s3/bucket:Bucket", {}, EU) == []

    def test_own_region_outside_list(self):
        assert violations(
            rz.resource_region_allowed, "aws:s3/bucket:Bucket", {"region": "us-west-2"}, EU
        ) == ["region us-west-2 is not in the allowed regions ['eu-west-2']"]

    def test_does_not_apply_to_kubernetes(self):
        assert not rz.resource_region_allowed.applies_to("kubernetes:apps/v1:Deployment")


class TestKmsMultiRegion:
    def test_single_region_key(self):
        assert (
            violations(rz.kms_no_multi_region, "aws:kms/key:Key", {"multiRegion": False}, EU) == []
        )
        assert violations(rz.kms_no_multi_region, "aws:kms/key:Key", {}, EU) == []

    def test_multi_region_key(self):
        assert violations(rz.kms_no_multi_region, "aws:kms/key:Key", {"multiRegion": True}, EU) == [
            "multiRegion is true: key material can be replicated to other regions"
        ]

    def test_replica_outside_list(self):
        assert violations(
            rz.kms_no_multi_region, "aws:kms/replicaKey:ReplicaKey", {"region": "us-east-1"}, EU
        ) == ["replica key in us-east-1, outside ['eu-west-2']"]

    def test_replica_region_from_provider(self):
        got = violations(
            rz.kms_no_multi_region,
            "aws:kms/replicaKey:ReplicaKey",
            {},
            EU,
            provider={"region": "eu-west-2"},
        )
        assert got == []

    def test_replica_without_region(self):
        assert violations(rz.kms_no_multi_region, "aws:kms/replicaKey:ReplicaKey", {}, EU) == [
            "replica key in an unspecified region, outside ['eu-west-2']"
        ]


def _bucket(name, region, **kw):
    return res(
        "aws:s3/bucket:Bucket",
        {"bucket": name, "region": region, "arn": f"arn:aws:s3:::{name}"},
        name,
        **kw,
    )


class TestReplication:
    def _rc(self, dest):
        return res(
            "aws:s3/bucketReplicationConfig:BucketReplicationConfig",
            {"bucket": "src", "rules": [{"status": "Enabled", "destination": {"bucket": dest}}]},
            "rc",
        )

    def test_unknown_or_unset_rules(self):
        rc = res(
            "aws:s3/bucketReplicationConfig:BucketReplicationConfig",
            {"bucket": "src", "rules": UNKNOWN},
            "rc",
        )
        found = stack_findings(
            rz.replication_in_allowed_regions, [_bucket("src", "eu-west-2"), rc], EU
        )
        assert [(f.urn, f.message, f.unknown) for f in found] == [
            (rc.urn, "cannot verify until apply: rules is unknown during preview", True)
        ]
        rc = res("aws:s3/bucketReplicationConfig:BucketReplicationConfig", {"bucket": "src"}, "rc")
        assert stack_findings(rz.replication_in_allowed_regions, [rc], EU) == []

    def test_destination_in_allowed_region(self):
        stack = [
            _bucket("src", "eu-west-2"),
            _bucket("dst", "eu-west-2"),
            self._rc("arn:aws:s3:::dst"),
        ]
        assert stack_violations(rz.replication_in_allowed_regions, stack, EU) == []

    def test_destination_outside(self):
        stack = [
            _bucket("src", "eu-west-2"),
            _bucket("dst", "us-east-1"),
            self._rc("arn:aws:s3:::dst"),
        ]
        assert stack_violations(rz.replication_in_allowed_regions, stack, EU) == [
            ("rc", "rules[0] replicates to arn:aws:s3:::dst in us-east-1, outside ['eu-west-2']")
        ]

    def test_destination_not_in_stack(self):
        stack = [_bucket("src", "eu-west-2"), self._rc("arn:aws:s3:::elsewhere")]
        assert stack_violations(rz.replication_in_allowed_regions, stack, EU) == [
            (
                "rc",
                "rules[0] replicates to arn:aws:s3:::elsewhere, a bucket outside this stack whose region "
                "cannot be verified",
            )
        ]


class TestBedrockGeographies:
    CFG = {"allowedRegions": ["eu-west-2"], "allowedGeographies": ["eu"]}
    PROFILE = "aws:bedrock/inferenceProfile:InferenceProfile"

    def _p(self, src):
        return {"name": "p", "modelSource": {"copyFrom": src}}

    def test_in_region_model(self):
        src = "arn:aws:bedrock:eu-west-2::foundation-model/anthropic.claude-3-haiku-20240307-v1:0"
        assert violations(rz.bedrock_geographies, self.PROFILE, self._p(src), self.CFG) == []

    def test_eu_profile(self):
        src = "arn:aws:bedrock:eu-west-2:111122223333:inference-profile/eu.anthropic.claude-3-haiku-20240307-v1:0"
        assert violations(rz.bedrock_geographies, self.PROFILE, self._p(src), self.CFG) == []

    def test_global_profile(self):
        src = "arn:aws:bedrock:eu-west-2:111122223333:inference-profile/global.anthropic.claude-sonnet-4"
        assert violations(rz.bedrock_geographies, self.PROFILE, self._p(src), self.CFG) == [
            f"{src} is a global cross-Region inference profile (routes to any commercial region)"
        ]

    def test_us_profile(self):
        src = "arn:aws:bedrock:eu-west-2:111122223333:inference-profile/us.meta.llama3"
        assert violations(rz.bedrock_geographies, self.PROFILE, self._p(src), self.CFG) == [
            f"{src} routes to the 'us' geography, allowed: ['eu']"
        ]

    def test_model_in_other_region(self):
        src = "arn:aws:bedrock:us-east-1::foundation-model/amazon.titan-text-express-v1"
        assert violations(rz.bedrock_geographies, self.PROFILE, self._p(src), self.CFG) == [
            f"{src} is in us-east-1, outside ['eu-west-2']"
        ]

    def test_missing_source(self):
        assert violations(rz.bedrock_geographies, self.PROFILE, {"name": "p"}, self.CFG) == []

    def test_iam_grant_on_global_profile(self):
        arn = "arn:aws:bedrock:eu-west-2:111122223333:inference-profile/global.anthropic.claude"
        doc = {
            "Statement": [
                {
                    "Sid": "Invoke",
                    "Effect": "Allow",
                    "Action": "bedrock:InvokeModel",
                    "Resource": arn,
                }
            ]
        }
        got = violations(
            rz.bedrock_geographies,
            "aws:iam/rolePolicy:RolePolicy",
            {"policy": json.dumps(doc)},
            self.CFG,
        )
        assert got == [
            f"policy statement Invoke: grants {arn} is a global cross-Region inference profile (routes to any "
            "commercial region)"
        ]


class TestSinks:
    HOME = {"homeRegion": "eu-west-2"}
    EC = "aws:sagemaker/endpointConfiguration:EndpointConfiguration"

    def _ec(self, uri):
        return res(
            self.EC, {"region": "eu-west-2", "dataCaptureConfig": {"destinationS3Uri": uri}}, "ec"
        )

    def test_capture_bucket_in_home_region(self):
        stack = [_bucket("cap", "eu-west-2"), self._ec("s3://cap/prefix")]
        assert stack_violations(rz.sinks_in_home_region, stack, self.HOME) == []

    def test_capture_bucket_elsewhere(self):
        stack = [_bucket("cap", "eu-west-1"), self._ec("s3://cap/prefix")]
        assert stack_violations(rz.sinks_in_home_region, stack, self.HOME) == [
            (
                "ec",
                "dataCaptureConfig.destinationS3Uri s3://cap/prefix is in eu-west-1, not the home region eu-west-2",
            )
        ]

    def test_capture_bucket_not_in_stack(self):
        stack = [self._ec("s3://external/x")]
        assert stack_violations(rz.sinks_in_home_region, stack, self.HOME) == [
            (
                "ec",
                "dataCaptureConfig.destinationS3Uri s3://external/x is not managed in this stack: its region "
                "cannot be verified",
            )
        ]

    def test_flow_log_to_log_group_arn_in_other_region(self):
        fl = res(
            "aws:ec2/flowLog:FlowLog",
            {
                "region": "eu-west-2",
                "logDestination": "arn:aws:logs:us-east-1:111122223333:log-group:x",
            },
            "fl",
        )
        assert stack_violations(rz.sinks_in_home_region, [fl], self.HOME) == [
            (
                "fl",
                "logDestination arn:aws:logs:us-east-1:111122223333:log-group:x is in us-east-1, not the home "
                "region eu-west-2",
            )
        ]

    def test_invocation_logging_log_group_by_name(self):
        lg = res(
            "aws:cloudwatch/logGroup:LogGroup", {"name": "/bedrock", "region": "eu-west-1"}, "lg"
        )
        ilc = res(
            "aws:bedrockmodel/invocationLoggingConfiguration:InvocationLoggingConfiguration",
            {
                "region": "eu-west-2",
                "loggingConfig": {"cloudwatchConfig": {"logGroupName": "/bedrock"}},
            },
            "ilc",
        )
        assert stack_violations(rz.sinks_in_home_region, [lg, ilc], self.HOME) == [
            (
                "ilc",
                "loggingConfig.cloudwatchConfig.logGroupName /bedrock is in eu-west-1, not the home region "
                "eu-west-2",
            )
        ]

    def test_unknown_sink_is_cannot_verify(self):
        ec = res(
            self.EC,
            {"region": "eu-west-2", "dataCaptureConfig": {"destinationS3Uri": UNKNOWN}},
            "ec",
        )
        got = rz.sinks_in_home_region.evaluate(StackIndex([ec]), self.HOME)
        assert [f.message for f in got if f.unknown] == [
            "cannot verify until apply: dataCaptureConfig.destinationS3Uri is unknown during preview"
        ]


class TestImages:
    MODEL = "aws:sagemaker/model:Model"
    ECR = "111122223333.dkr.ecr.eu-west-2.amazonaws.com/llm@sha256:" + "a" * 64

    def test_private_in_region(self):
        assert (
            violations(
                rz.images_in_region, self.MODEL, {"primaryContainer": {"image": self.ECR}}, EU
            )
            == []
        )

    def test_model_package_without_image(self):
        props = {
            "primaryContainer": {
                "modelPackageName": "arn:aws:sagemaker:eu-west-2:1:model-package/g/1"
            }
        }
        assert violations(rz.images_in_region, self.MODEL, props, EU) == []

    def test_public_registry(self):
        assert violations(
            rz.images_in_region, self.MODEL, {"primaryContainer": {"image": "nginx:1.27"}}, EU
        ) == ["primaryContainer.image: image nginx:1.27 is not from a private ECR registry"]

    def test_other_region_registry(self):
        image = self.ECR.replace("eu-west-2", "us-east-1")
        assert violations(
            rz.images_in_region, self.MODEL, {"containers": [{"image": image}]}, EU
        ) == [f"containers[0].image: image {image} is pulled from us-east-1, outside ['eu-west-2']"]

    @pytest.mark.parametrize("key", ["containers", "initContainers"])
    def test_kubernetes_containers(self, key):
        props = {"spec": {"template": {"spec": {key: [{"name": "c", "image": "ghcr.io/x/y:1"}]}}}}
        assert violations(rz.images_in_region, "kubernetes:apps/v1:Deployment", props, EU) == [
            f"spec.template.spec.{key}[0].image: image ghcr.io/x/y:1 is not from a private ECR registry"
        ]

    def test_unknown_image(self):
        assert unknowns(
            rz.images_in_region, self.MODEL, {"primaryContainer": {"image": UNKNOWN}}, EU
        ) == ["cannot verify until apply: primaryContainer.image is unknown during preview"]


def test_with_change_helper():
    assert with_change({"a": {"b": 1, "c": 2}}, "a.b", DELETE) == {"a": {"c": 2}}


class TestFoundationModels:
    CFG = {
        "allowedFoundationModels": [
            "anthropic.claude-3-haiku-20240307-v1:0",
            "amazon.titan-embed-*",
        ]
    }
    HAIKU = "arn:aws:bedrock:eu-west-2::foundation-model/anthropic.claude-3-haiku-20240307-v1:0"
    OPUS = "arn:aws:bedrock:eu-west-2::foundation-model/anthropic.claude-3-opus-20240229-v1:0"

    def _policy(self, *resources):
        doc = {
            "Statement": [
                {
                    "Sid": "Invoke",
                    "Effect": "Allow",
                    "Action": "bedrock:InvokeModel",
                    "Resource": list(resources),
                }
            ]
        }
        return {"policy": json.dumps(doc)}

    def test_allow_listed(self):
        props = self._policy(
            self.HAIKU, "arn:aws:bedrock:eu-west-2::foundation-model/amazon.titan-embed-text-v2:0"
        )
        assert (
            violations(rz.bedrock_models_allowed, "aws:iam/rolePolicy:RolePolicy", props, self.CFG)
            == []
        )

    def test_unlisted_model(self):
        assert violations(
            rz.bedrock_models_allowed,
            "aws:iam/rolePolicy:RolePolicy",
            self._policy(self.OPUS),
            self.CFG,
        ) == [
            "policy statement Invoke: anthropic.claude-3-opus-20240229-v1:0 is not an allow-listed foundation model "
            "(anthropic.claude-3-haiku-20240307-v1:0, amazon.titan-embed-*)"
        ]

    def test_wildcard_grant(self):
        arn = "arn:aws:bedrock:eu-west-2::foundation-model/*"
        assert violations(
            rz.bedrock_models_allowed,
            "aws:ec2/vpcEndpoint:VpcEndpoint",
            self._policy(arn),
            self.CFG,
        ) == [f"policy statement Invoke: {arn} grants a wildcard of foundation models"]

    def test_inference_profile_strips_geography(self):
        src = "arn:aws:bedrock:eu-west-2:1:inference-profile/eu.anthropic.claude-3-haiku-20240307-v1:0"
        props = {"name": "p", "modelSource": {"copyFrom": src}}
        assert (
            violations(
                rz.bedrock_models_allowed,
                "aws:bedrock/inferenceProfile:InferenceProfile",
                props,
                self.CFG,
            )
            == []
        )

    def test_default_allows_any_named_model(self):
        assert (
            violations(
                rz.bedrock_models_allowed, "aws:iam/rolePolicy:RolePolicy", self._policy(self.OPUS)
            )
            == []
        )

    def test_missing_policy(self):
        assert (
            violations(rz.bedrock_models_allowed, "aws:iam/rolePolicy:RolePolicy", {}, self.CFG)
            == []
        )


def test_geography_profiles_refused_when_none_allowed():
    src = "arn:aws:bedrock:eu-west-2:111122223333:inference-profile/eu.anthropic.claude-3-haiku-20240307-v1:0"
    props = {"name": "p", "modelSource": {"copyFrom": src}}
    assert violations(
        rz.bedrock_geographies, "aws:bedrock/inferenceProfile:InferenceProfile", props
    ) == [f"{src} routes to the 'eu' geography, allowed: []"]


def test_flow_log_to_s3_object_arn_resolves_the_bucket():
    fl = res(
        "aws:ec2/flowLog:FlowLog",
        {
            "region": "eu-west-2",
            "logDestinationType": "s3",
            "logDestination": "arn:aws:s3:::flow/vpc/",
        },
        "fl",
    )
    assert (
        stack_violations(
            rz.sinks_in_home_region, [_bucket("flow", "eu-west-2"), fl], {"homeRegion": "eu-west-2"}
        )
        == []
    )
    assert stack_violations(
        rz.sinks_in_home_region, [_bucket("flow", "eu-west-1"), fl], {"homeRegion": "eu-west-2"}
    ) == [
        (
            "fl",
            "logDestination arn:aws:s3:::flow/vpc/ is in eu-west-1, not the home region eu-west-2",
        )
    ]


def test_unknown_sink_resolved_through_dependency():
    b = _bucket("cap", "eu-west-1")
    ec = res(
        "aws:sagemaker/endpointConfiguration:EndpointConfiguration",
        {"region": "eu-west-2", "dataCaptureConfig": {"destinationS3Uri": UNKNOWN}},
        "ec",
        property_dependencies={"dataCaptureConfig": [b.urn]},
    )
    assert stack_violations(rz.sinks_in_home_region, [b, ec], {"homeRegion": "eu-west-2"}) == [
        (
            "ec",
            "dataCaptureConfig.destinationS3Uri (cap) is in eu-west-1, not the home region eu-west-2",
        )
    ]
