"""The pack driven as the engine drives it, on hand-written raw pulumi_aws / pulumi_kubernetes programs.

None of these programs uses our components: the pack must judge programs it has never seen.
"""

from __future__ import annotations

import copy
import json

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s
import pytest

from policies.rules import ALL_RULES, BY_NAME
from regulated_inference.preview.analysis import ADVISORY, MANDATORY
from regulated_inference.preview.analyzer import (
    PolicyConfigError,
    load_policy_config,
    resolve_config,
)
from regulated_inference.simulation.engine import run_program

from .conftest import DEV_CONFIG, PROD_CONFIG

TAGS = {
    "owner": "team@example.com",
    "environment": "prod",
    "data-classification": "confidential",
    "cost-center": "cc-1",
}


def run(fn, region="eu-west-2", **kw):
    return run_program(fn, project="handwritten", stack="prod", config={"aws:region": region}, **kw)


def found(result) -> set[tuple[str, str | None]]:
    return {(v.policy, v.resource_name) for v in result.violations}


# -- protocol -----------------------------------------------------------------------------


def test_get_analyzer_info(pack):
    info = pack.info()
    assert info.name == "regulated-inference"
    assert info.supportsConfig
    assert [p.name for p in info.policies] == [r.name for r in ALL_RULES]
    retention = next(p for p in info.policies if p.name == "cloudwatch-log-retention")
    assert "control:L10" in retention.tags
    assert retention.remediation_steps == BY_NAME["cloudwatch-log-retention"].remediation
    assert "minRetentionDays" in retention.configSchema.properties
    assert pack.plugin_version()
    # from PulumiPolicy.yaml, as the CLI reports it: the project's release (pyproject.toml;
    # tests/packaging/test_versions.py keeps the two equal)
    assert pack.pack_version() == "0.2.0"


def test_configure_from_files(pack):
    prod = pack.configure(PROD_CONFIG)
    # every rule that enforces something is mandatory in prod; the two policies that only report
    # exempted findings (an accepted risk is reported, not enforced) are advisory everywhere
    reporters = {"exempted-findings", "exempted-stack-findings"}
    assert {level for name, (level, _) in prod.items() if name not in reporters} == {MANDATORY}
    assert {prod[name][0] for name in reporters} == {ADVISORY}
    assert prod["aws-provider-region-allowed"][1]["allowedRegions"] == ["eu-west-2"]
    dev = pack.configure(DEV_CONFIG)
    assert dev["required-tags"][0] == ADVISORY
    assert dev["aws-provider-region-allowed"] == (
        MANDATORY,
        {"allowedRegions": ["eu-west-1", "eu-west-2"]},
    )
    assert dev["cloudwatch-log-retention"][1] == {"minRetentionDays": 30}


@pytest.mark.parametrize(
    "config,error",
    [
        (
            {"no-such-policy": "advisory"},
            "config names policies the pack does not have: no-such-policy",
        ),
        (
            {"cloudwatch-log-retention": {"minRetentionDays": "long"}},
            "cloudwatch-log-retention: minRetentionDays",
        ),
        (
            {"cloudwatch-log-retention": {"retention": 3}},
            "cloudwatch-log-retention: config: Additional properties",
        ),
        ({"all": "blocking"}, "unknown enforcement level 'blocking'"),
    ],
)
def test_bad_config_is_refused(pack, config, error):
    with pytest.raises(PolicyConfigError, match=error.replace("(", r"\(")):
        resolve_config(pack.info(), config)


def test_load_policy_config_from_path_and_dict():
    assert load_policy_config(PROD_CONFIG)["all"] == "mandatory"
    assert load_policy_config({"all": "advisory"}) == {"all": "advisory"}
    assert load_policy_config(None) == {}


# -- hand-written AWS programs ------------------------------------------------------------


def leaky_program():
    """Typical hand-written mistakes, one per rule family."""
    key = aws.kms.Key("data-key", description="data", tags=TAGS)  # no rotation, no policy
    bucket = aws.s3.Bucket("raw-data", tags=TAGS)  # no settings at all
    aws.s3.BucketServerSideEncryptionConfiguration(
        "raw-data-sse",
        bucket=bucket.id,
        rules=[{"apply_server_side_encryption_by_default": {"sse_algorithm": "AES256"}}],
    )
    vpc = aws.ec2.Vpc("vpc", cidr_block="10.0.0.0/16", tags=TAGS)
    sg = aws.ec2.SecurityGroup(
        "web",
        vpc_id=vpc.id,
        description="web",
        tags=TAGS,
        ingress=[{"protocol": "tcp", "from_port": 22, "to_port": 22, "cidr_blocks": ["0.0.0.0/0"]}],
    )
    subnet = aws.ec2.Subnet(
        "public", vpc_id=vpc.id, cidr_block="10.0.1.0/24", map_public_ip_on_launch=True, tags=TAGS
    )
    aws.ec2.InternetGateway("igw", vpc_id=vpc.id, tags=TAGS)
    role = aws.iam.Role(
        "model-role",
        tags=TAGS,
        assume_role_policy=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "sagemaker.amazonaws.com"},
                        "Action": "sts:AssumeRole",
                    }
                ],
            }
        ),
    )
    aws.iam.RolePolicy(
        "model-role-admin",
        role=role.id,
        policy=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
            }
        ),
    )
    aws.iam.RolePolicyAttachment(
        "model-role-full",
        role=role.name,
        policy_arn="arn:aws:iam::aws:policy/AmazonSageMakerFullAccess",
    )
    aws.cloudwatch.LogGroup("app-logs", retention_in_days=7, tags=TAGS)
    aws.sagemaker.Model(
        "scorer",
        execution_role_arn=role.arn,
        tags=TAGS,
        primary_container={"image": "public.ecr.aws/acme/scorer:latest"},
        vpc_config={"subnets": [subnet.id], "security_group_ids": [sg.id]},
    )
    aws.sagemaker.EndpointConfiguration(
        "scorer-config",
        tags=TAGS,
        production_variants=[
            {
                "variant_name": "main",
                "model_name": "scorer",
                "instance_type": "ml.m5.large",
                "initial_instance_count": 1,
            }
        ],
    )
    pulumi.export("key", key.arn)


@pytest.fixture(scope="module")
def leaky():
    return run(leaky_program)


EXPECTED_LEAKY = {
    ("kms-key-rotation", "data-key"),
    ("kms-key-policy-and-deletion-window", "data-key"),
    ("s3-encryption-cmk", "raw-data-sse"),
    ("s3-bucket-public-access-blocked", "raw-data"),
    ("s3-bucket-tls-only", "raw-data"),
    ("s3-bucket-versioning-lifecycle", "raw-data"),
    ("s3-bucket-access-logging", "raw-data"),
    ("s3-acls-disabled", "raw-data"),
    ("no-ingress-from-internet", "web"),
    ("subnet-no-public-ip", "public"),
    ("no-internet-path", "igw"),
    ("vpc-flow-logs", "vpc"),
    ("vpc-endpoints-for-services", "vpc"),
    ("default-security-group-locked", "vpc"),
    ("iam-trust-policy-scoped", "model-role"),
    ("iam-no-admin-star", "model-role-admin"),
    ("iam-no-wildcards", "model-role-admin"),
    ("iam-no-privilege-escalation", "model-role-admin"),
    ("iam-no-kms-decrypt-on-all-keys", "model-role-admin"),
    ("iam-no-broad-managed-policies", "model-role-full"),
    ("cloudwatch-log-retention", "app-logs"),
    ("cloudwatch-log-group-cmk", "app-logs"),
    ("sagemaker-model-network-isolation", "scorer"),
    ("sagemaker-model-in-private-subnets", "scorer"),
    ("sagemaker-model-from-registry", "scorer"),
    ("images-from-in-region-registry", "scorer"),
    ("sagemaker-endpoint-config-cmk", "scorer-config"),
    ("sagemaker-data-capture", "scorer-config"),
    ("sagemaker-multi-instance", "scorer-config"),
    ("cloudtrail-enabled", None),
}


def test_leaky_program_prod(pack, leaky):
    result = pack.analyze(leaky, PROD_CONFIG)
    assert found(result) == EXPECTED_LEAKY
    assert all(v.enforcement == MANDATORY for v in result.violations)
    assert result.resources_analyzed == sum(1 for r in leaky.resources if r.custom)


def test_violation_carries_rule_metadata(pack, leaky):
    result = pack.analyze(leaky, PROD_CONFIG)
    (v,) = [v for v in result.violations if v.policy == "cloudwatch-log-retention"]
    assert v.message == "retentionInDays is 7, minimum 365"
    assert v.urn.endswith("aws:cloudwatch/logGroup:LogGroup::app-logs")
    assert (v.resource_type, v.resource_name) == ("aws:cloudwatch/logGroup:LogGroup", "app-logs")
    assert (v.severity, v.controls) == ("medium", ("L10",))
    assert "EU AI Act Art. 12 (record-keeping)" in v.frameworks
    assert v.remediation == BY_NAME["cloudwatch-log-retention"].remediation
    (stack_level,) = [v for v in result.violations if v.policy == "cloudtrail-enabled"]
    assert stack_level.urn is None and stack_level.controls == ("L1",)
    info = {p.name: p for p in result.policies}
    assert info["cloudwatch-log-retention"].enforcement == MANDATORY


def test_dev_config_downgrades_cheap_rules(pack, leaky):
    result = pack.analyze(leaky, DEV_CONFIG)
    levels = {v.policy: v.enforcement for v in result.violations}
    assert levels["s3-bucket-versioning-lifecycle"] == ADVISORY
    assert levels["kms-key-rotation"] == ADVISORY
    assert levels["s3-bucket-public-access-blocked"] == MANDATORY
    assert "sagemaker-multi-instance" not in levels  # dev minimum is 1 instance
    assert "cloudwatch-log-retention" in levels  # 7 < 30


def test_modified_config_dict(pack, leaky):
    cfg = json.loads(PROD_CONFIG.read_text())
    cfg["cloudwatch-log-retention"]["minRetentionDays"] = 1
    cfg["kms-key-rotation"] = "disabled"
    result = pack.analyze(leaky, cfg)
    assert {"cloudwatch-log-retention", "kms-key-rotation"}.isdisjoint(
        {v.policy for v in result.violations}
    )


def test_region_outside_allowed_list(pack):
    def program():
        us = aws.Provider("us", region="us-east-1")
        aws.s3.Bucket("replica", tags=TAGS, opts=pulumi.ResourceOptions(provider=us))
        aws.cloudwatch.LogGroup(
            "lg", region="us-west-2", retention_in_days=400, kms_key_id="arn:k", tags=TAGS
        )
        aws.kms.Key("mrk", multi_region=True, description="x", enable_key_rotation=True, tags=TAGS)

    result = pack.analyze(run(program), PROD_CONFIG)
    residency = {
        (v.policy, v.resource_name, v.message)
        for v in result.violations
        if v.controls and v.controls[0].startswith("R")
    }
    assert residency == {
        (
            "aws-provider-region-allowed",
            "us",
            "provider region us-east-1 is not in the allowed regions ['eu-west-2']",
        ),
        (
            "resource-region-allowed",
            "lg",
            "region us-west-2 is not in the allowed regions ['eu-west-2']",
        ),
        (
            "kms-no-multi-region-keys",
            "mrk",
            "multiRegion is true: key material can be replicated to other regions",
        ),
    }


def test_default_provider_region_is_checked(pack):
    def program():
        aws.s3.Bucket("b", tags=TAGS)

    result = pack.analyze(run(program, region="us-east-1"), PROD_CONFIG)
    (v,) = [v for v in result.violations if v.policy == "aws-provider-region-allowed"]
    assert v.resource_type == "pulumi:providers:aws" and v.resource_name.startswith("default")


def test_bucket_settings_correlated_by_name_and_dependency(pack):
    def program():
        b = aws.s3.Bucket("data", tags=TAGS)
        aws.s3.BucketPublicAccessBlock(
            "data-pab",
            bucket=b.bucket,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
        )
        aws.s3.BucketOwnershipControls(
            "data-own", bucket=b.id, rule={"object_ownership": "BucketOwnerEnforced"}
        )

    result = pack.analyze(run(program), PROD_CONFIG)
    policies = {v.policy for v in result.violations if v.resource_name == "data"}
    assert "s3-bucket-public-access-blocked" not in policies
    assert "s3-acls-disabled" not in policies
    assert "s3-bucket-encryption-configured" in policies


# -- Kubernetes ---------------------------------------------------------------------------


def test_hand_written_kubernetes(pack):
    def program():
        k8s.apps.v1.Deployment(
            "llm",
            metadata={"namespace": "default"},
            spec={
                "selector": {"match_labels": {"app": "llm"}},
                "template": {
                    "metadata": {"labels": {"app": "llm"}},
                    "spec": {
                        "host_network": True,
                        "containers": [
                            {
                                "name": "server",
                                "image": "vllm/vllm-openai:latest",
                                "security_context": {"privileged": True},
                            }
                        ],
                    },
                },
            },
        )
        k8s.core.v1.Service(
            "llm-svc",
            metadata={"namespace": "default"},
            spec={"type": "LoadBalancer", "selector": {"app": "llm"}, "ports": [{"port": 80}]},
        )

    result = pack.analyze(run(program), PROD_CONFIG)
    assert {p for p, n in found(result) if n == "llm"} == {
        "k8s-run-as-non-root",
        "k8s-no-privilege",
        "k8s-read-only-root-filesystem",
        "k8s-seccomp-runtime-default",
        "k8s-no-host-access",
        "k8s-resources-and-probes",
        "k8s-image-digest",
        "k8s-dedicated-service-account",
        "k8s-restricted-namespace",
        "k8s-default-deny-network-policy",
        "images-from-in-region-registry",
    }
    assert {p for p, n in found(result) if n == "llm-svc"} == {
        "k8s-service-not-exposed",
        "k8s-restricted-namespace",
    }


# -- unknown values -----------------------------------------------------------------------

UNKNOWN_NUMBER = "3eeb2bf0-c639-47a8-9e75-3b44932eb421"
UNKNOWN_STRING = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"


def endpoint_config(**kw) -> aws.sagemaker.EndpointConfiguration:
    """Endpoint config "ec": CMK-encrypted, tagged, two ml.m5.large instances; `kw` adds arguments."""
    return aws.sagemaker.EndpointConfiguration(
        "ec",
        kms_key_arn="arn:k",
        tags=TAGS,
        production_variants=[
            {
                "variant_name": "v",
                "model_name": "m",
                "instance_type": "ml.m5.large",
                "initial_instance_count": 2,
            }
        ],
        **kw,
    )


def test_unknown_values_are_advisory_cannot_verify(pack):
    def program():
        aws.cloudwatch.LogGroup("lg", retention_in_days=400, kms_key_id="arn:k", tags=TAGS)
        endpoint_config()

    rec = copy.deepcopy(run(program))
    lg = rec.one("aws:cloudwatch/logGroup:LogGroup", "lg")
    lg.inputs["retentionInDays"] = UNKNOWN_NUMBER
    ec = rec.one("aws:sagemaker/endpointConfiguration:EndpointConfiguration", "ec")
    ec.inputs["kmsKeyArn"] = UNKNOWN_STRING  # unknown but set: presence checks must pass

    result = pack.analyze(rec, PROD_CONFIG)
    (v,) = [v for v in result.violations if v.policy == "cloudwatch-log-retention"]
    assert v.enforcement == ADVISORY
    assert v.resource_name == "lg"
    assert "cannot verify until apply: retentionInDays is unknown during preview" in v.message
    assert "sagemaker-endpoint-config-cmk" not in {v.policy for v in result.violations}


def test_server_analyses_several_stacks(pack, leaky):
    first = pack.analyze(leaky, PROD_CONFIG)
    second = pack.analyze(leaky, PROD_CONFIG)
    assert found(first) == found(second)


def test_broken_pack_reports_its_error(tmp_path):
    from regulated_inference.preview.analyzer import PolicyPackError, PolicyPackServer

    (tmp_path / "PulumiPolicy.yaml").write_text("runtime: python\n")
    (tmp_path / "__main__.py").write_text("raise SystemExit('rules failed to import: boom')\n")
    with pytest.raises(PolicyPackError, match="boom"):
        PolicyPackServer(tmp_path, startup_timeout=20).start()


def test_stack_level_cannot_verify_names_its_resource(pack):
    def program():
        endpoint_config(
            data_capture_config={
                "destination_s3_uri": "s3://cap/x",
                "kms_key_id": "arn:k",
                "initial_sampling_percentage": 100,
                "capture_options": [{"capture_mode": "Input"}, {"capture_mode": "Output"}],
            },
        )

    rec = copy.deepcopy(run(program))
    ec = rec.one("aws:sagemaker/endpointConfiguration:EndpointConfiguration", "ec")
    ec.outputs["dataCaptureConfig"]["destinationS3Uri"] = UNKNOWN_STRING
    result = pack.analyze(rec, PROD_CONFIG)
    (v,) = [v for v in result.violations if v.policy == "sinks-in-home-region"]
    assert v.enforcement == ADVISORY
    assert (
        "cannot verify until apply: dataCaptureConfig.destinationS3Uri is unknown during preview"
        in v.message
    )
    assert v.resource_name == "ec"


def test_provider_default_tags_satisfy_required_tags(pack):
    def program():
        tagged = aws.Provider("tagged", region="eu-west-2", default_tags={"tags": TAGS})
        aws.cloudwatch.LogGroup(
            "lg",
            retention_in_days=400,
            kms_key_id="arn:k",
            opts=pulumi.ResourceOptions(provider=tagged),
        )
        aws.cloudwatch.LogGroup("untagged", retention_in_days=400, kms_key_id="arn:k")

    result = pack.analyze(run(program), PROD_CONFIG)
    assert [
        (v.resource_name, v.message) for v in result.violations if v.policy == "required-tags"
    ] == [
        (
            "untagged",
            "missing required tag(s): owner, environment, data-classification, cost-center",
        )
    ]


@pytest.mark.parametrize("background", [False, True])
def test_streaming_session_matches_batch_analysis(pack, leaky, background):
    batch = pack.analyze(leaky, PROD_CONFIG)
    with pack.session(
        PROD_CONFIG, project="handwritten", stack="prod", background=background
    ) as session:
        recording = run(leaky_program, on_resource=session.add)
        streamed = session.finish(recording)
    assert found(streamed) == found(batch) == EXPECTED_LEAKY
    assert streamed.resources_analyzed == batch.resources_analyzed


def test_session_releases_the_server_on_error(pack):
    with pytest.raises(PolicyConfigError):
        pack.session({"no-such-policy": "advisory"}, project="p", stack="s")
    assert pack._lock.acquire(timeout=5), "a failed session must release the server"
    pack._lock.release()
    result = pack.analyze(run(lambda: None), PROD_CONFIG)
    assert [v.policy for v in result.violations] == ["cloudtrail-enabled"]
