"""The simulated AWS answers like AWS: region-aware ARNs and IDs, deterministic, and refuses what AWS refuses."""

from __future__ import annotations

import re

import pulumi
import pulumi_aws as aws
import pytest

from regulated_inference.simulation.simulated_aws import SimulatedAwsError, account_for
from tests.conftest import run_component


def _program():
    aws.kms.Key("k", description="k")
    vpc = aws.ec2.Vpc("v", cidr_block="10.0.0.0/16")
    aws.ec2.Subnet("s", vpc_id=vpc.id, cidr_block="10.0.0.0/24", availability_zone="eu-west-2b")
    aws.sns.Topic("t")
    aws.cloudwatch.LogGroup("lg", name="/x/y")
    aws.iam.Role("r", assume_role_policy="{}")
    aws.sagemaker.Endpoint("e", endpoint_config_name="c")
    ew1 = aws.Provider("ireland", region="eu-west-1")
    aws.sns.Topic("t-ie", opts=pulumi.ResourceOptions(provider=ew1))
    aws.sns.Topic("t-own", region="eu-central-1")
    azs = aws.get_availability_zones()
    pulumi.export("azs", azs.names)
    pulumi.export("zoneIds", azs.zone_ids)
    pulumi.export("account", aws.get_caller_identity().account_id)


@pytest.fixture(scope="module")
def rec():
    return run_component(_program, stack="sim")


def test_arns_and_ids_have_each_services_format(rec):
    acct = account_for("regulated-inference", "sim")
    assert re.fullmatch(r"\d{12}", acct)
    key = rec.one("aws:kms/key:Key")
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", key.id)
    assert key.outputs["arn"] == f"arn:aws:kms:eu-west-2:{acct}:key/{key.id}"
    vpc = rec.one("aws:ec2/vpc:Vpc")
    assert re.fullmatch(r"vpc-[0-9a-f]{17}", vpc.id) and vpc.outputs[
        "defaultSecurityGroupId"
    ].startswith("sg-")
    assert (
        rec.one("aws:sns/topic:Topic", "t")
        .outputs["arn"]
        .startswith(f"arn:aws:sns:eu-west-2:{acct}:t-")
    )
    assert (
        rec.one("aws:cloudwatch/logGroup:LogGroup").outputs["arn"]
        == f"arn:aws:logs:eu-west-2:{acct}:log-group:/x/y"
    )
    assert re.fullmatch(
        rf"arn:aws:iam::{acct}:role/r-[0-9a-f]{{7}}", rec.one("aws:iam/role:Role").outputs["arn"]
    )
    assert (
        rec.one("aws:sagemaker/endpoint:Endpoint")
        .outputs["arn"]
        .startswith(f"arn:aws:sagemaker:eu-west-2:{acct}:endpoint/e-")
    )


def test_region_follows_explicit_provider_and_own_region_argument(rec):
    assert ":eu-west-1:" in rec.one("aws:sns/topic:Topic", "t-ie").outputs["arn"]
    assert ":eu-central-1:" in rec.one("aws:sns/topic:Topic", "t-own").outputs["arn"]


def test_data_sources_answer_for_the_region(rec):
    assert rec.stack_outputs["azs"] == ["eu-west-2a", "eu-west-2b", "eu-west-2c"]
    # Zone IDs name the physical zone: `euw2-az<n>`, as a subnet reports its own.
    assert rec.stack_outputs["zoneIds"] == ["euw2-az1", "euw2-az2", "euw2-az3"]
    assert rec.one("aws:ec2/subnet:Subnet").outputs["availabilityZoneId"] == "euw2-az2"
    assert rec.stack_outputs["account"] == account_for("regulated-inference", "sim")


def test_deterministic(rec):
    again = run_component(_program, stack="sim")
    assert {r.urn: r.id for r in again.resources} == {r.urn: r.id for r in rec.resources}


@pytest.mark.parametrize(
    "make",
    [
        lambda: aws.s3.Bucket("b", bucket="Not_A_Valid_Bucket"),
        lambda: aws.s3.Bucket("b", bucket="192.168.5.4"),  # formatted as an IP address
        lambda: aws.iam.Role("r", name="r" * 65, assume_role_policy="{}"),
        lambda: aws.sagemaker.Model("m", name="bad_name", execution_role_arn="arn"),
        lambda: aws.kms.Alias("a", name="alias/aws/reserved", target_key_id="k"),
    ],
)
def test_refuses_what_aws_refuses(make):
    with pytest.raises(Exception) as info:
        run_component(make)
    assert (
        isinstance(info.value, SimulatedAwsError)
        or "SimulatedAwsError" in repr(info.value)
        or any(
            w in str(info.value)
            for w in (
                "InvalidBucketName",
                "ValidationError",
                "ValidationException",
                "InvalidAliasName",
            )
        )
    )


# -- the simulated caller's account (issue 10, item 5) ------------------------------------------


def _caller():
    pulumi.export("account", aws.get_caller_identity().account_id)
    aws.sns.Topic("t")


@pytest.mark.parametrize(
    "stored",
    [
        '["210987654321"]',  # YAML list of quoted strings, as Pulumi.<stack>.yaml holds it
        "[210987654321]",  # `pulumi config set --path 'aws:allowedAccountIds[0]' 210987654321`
    ],
)
def test_account_comes_from_allowed_account_ids(stored):
    from regulated_inference.simulation.engine import run_program

    rec = run_program(
        _caller,
        project="regulated-inference",
        stack="sim",
        config={"aws:region": "eu-west-2", "aws:allowedAccountIds": stored},
    )
    assert rec.stack_outputs["account"] == "210987654321"
    assert ":210987654321:" in rec.one("aws:sns/topic:Topic").outputs["arn"]


def test_explicit_account_wins_and_without_either_the_account_is_a_stable_hash():
    from regulated_inference.simulation.engine import run_program

    cfg = {"aws:region": "eu-west-2", "aws:allowedAccountIds": '["210987654321"]'}
    rec = run_program(
        _caller, project="regulated-inference", stack="sim", config=cfg, account="123456789012"
    )
    assert rec.stack_outputs["account"] == "123456789012"
    plain = run_program(
        _caller, project="regulated-inference", stack="sim", config={"aws:region": "eu-west-2"}
    )
    assert plain.stack_outputs["account"] == account_for("regulated-inference", "sim")


def test_a_malformed_explicit_account_is_refused():
    from regulated_inference.simulation.simulated_aws import simulated_account

    with pytest.raises(SimulatedAwsError, match="12 digits"):
        simulated_account("p", "s", {}, "12345")
