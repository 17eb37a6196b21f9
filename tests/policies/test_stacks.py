"""Our own dev and prod stacks through the pack, exactly as `pulumi preview --policy-pack` would run them."""

from __future__ import annotations

import copy
import json

import pytest

from regulated_inference.simulation.engine import RecordedResource, run_stack_program

from .conftest import DEV_CONFIG, PROD_CONFIG

TAGS = {
    "owner": "x@example.com",
    "environment": "prod",
    "data-classification": "confidential",
    "cost-center": "c",
}


@pytest.fixture(scope="module")
def recordings():
    return {stack: run_stack_program(stack) for stack in ("dev", "prod")}


def _describe(violations) -> list[str]:
    return [f"{v.policy} on {v.resource_type} {v.resource_name}: {v.message}" for v in violations]


def _keys(result) -> set[tuple[str, str | None, str]]:
    return {(v.policy, v.resource_name, v.message) for v in result.violations}


@pytest.fixture(scope="module")
def prod_baseline(pack, recordings):
    """What the unmodified prod stack reports: injected changes are judged against it."""
    return _keys(pack.analyze(recordings["prod"], PROD_CONFIG))


@pytest.mark.parametrize("stack,config", [("dev", DEV_CONFIG), ("prod", PROD_CONFIG)])
def test_stack_has_no_mandatory_violation(pack, recordings, stack, config):
    result = pack.analyze(recordings[stack], config)
    assert _describe(result.mandatory) == []
    assert result.resources_analyzed > 50


def test_prod_with_injected_open_ingress_rule(pack, recordings, prod_baseline):
    rec = copy.deepcopy(recordings["prod"])
    sg = next(r for r in rec.resources if r.type == "aws:ec2/securityGroup:SecurityGroup")
    # a top-level resource someone adds by hand to the program
    urn = f"urn:pulumi:{rec.stack}::{rec.project}::aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule::debug-ssh"
    inputs = {
        "securityGroupId": sg.outputs["id"] if "id" in sg.outputs else sg.id,
        "cidrIpv4": "0.0.0.0/0",
        "ipProtocol": "tcp",
        "fromPort": 22,
        "toPort": 22,
        "tags": TAGS,
    }
    rec.resources.append(
        RecordedResource(
            urn=urn,
            type="aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
            name="debug-ssh",
            custom=True,
            id="sgr-0123456789abcdef0",
            inputs=inputs,
            outputs={**inputs, "region": "eu-west-2"},
            parent=None,
            dependencies=[sg.urn],
            property_dependencies={"securityGroupId": [sg.urn]},
            provider=sg.provider,
        )
    )
    result = pack.analyze(rec, PROD_CONFIG)
    assert _keys(result) - prod_baseline == {
        (
            "no-ingress-from-internet",
            "debug-ssh",
            "cidrIpv4 0.0.0.0/0 opens the security group to the internet",
        )
    }
    assert prod_baseline - _keys(result) == set()


def test_prod_with_one_public_access_flag_off(pack, recordings, prod_baseline):
    rec = copy.deepcopy(recordings["prod"])
    trail_bucket = rec.one("aws:cloudtrail/trail:Trail").inputs["s3BucketName"]
    pab = next(
        r
        for r in rec.resources
        if r.type == "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
        and r.inputs["bucket"] != trail_bucket
    )
    pab.inputs["restrictPublicBuckets"] = False
    pab.outputs["restrictPublicBuckets"] = False
    result = pack.analyze(rec, PROD_CONFIG)
    assert _keys(result) - prod_baseline == {
        ("s3-public-access-block-complete", pab.name, "restrictPublicBuckets is not true")
    }


def test_prod_with_stricter_retention_config(pack, recordings, prod_baseline):
    cfg = json.loads(PROD_CONFIG.read_text())
    cfg["cloudwatch-log-retention"]["minRetentionDays"] = 3653  # ten years
    result = pack.analyze(recordings["prod"], cfg)
    log_groups = {r.name for r in recordings["prod"].of_type("aws:cloudwatch/logGroup:LogGroup")}
    new = _keys(result) - prod_baseline
    assert log_groups
    assert {p for p, _, _ in new} == {"cloudwatch-log-retention"}
    assert {n for _, n, _ in new} == log_groups


def test_dev_stack_in_eu_west_2_is_allowed(recordings):
    provider = next(r for r in recordings["dev"].resources if r.type == "pulumi:providers:aws")
    assert (
        provider.inputs["region"]
        in json.loads(DEV_CONFIG.read_text())["aws-provider-region-allowed"]["allowedRegions"]
    )


# -- one injected misconfiguration at a time, on the real prod stack -------------------------


def _first(rec, type_, pred=lambda r: True):
    return next(r for r in rec.resources if r.type == type_ and pred(r))


def _set(r, path, value):
    """Change a property in inputs (Analyze) and outputs (AnalyzeStack); None removes it."""
    for d in (r.inputs, r.outputs):
        if value is None:
            d.pop(path, None)
        else:
            d[path] = value


def _drop(rec, type_, pred=lambda r: True):
    rec.resources.remove(_first(rec, type_, pred))


def _privileged(rec):
    d = _first(rec, "kubernetes:apps/v1:Deployment")
    for props in (d.inputs, d.outputs):
        props["spec"]["template"]["spec"]["containers"][0].setdefault("securityContext", {})[
            "privileged"
        ] = True


def _load_balancer(rec):
    svc = _first(rec, "kubernetes:core/v1:Service")
    for props in (svc.inputs, svc.outputs):
        props["spec"]["type"] = "LoadBalancer"


MUTATIONS = {
    "log group without CMK": (
        lambda rec: _set(_first(rec, "aws:cloudwatch/logGroup:LogGroup"), "kmsKeyId", None),
        {"cloudwatch-log-group-cmk"},
    ),
    "trail without log-file validation": (
        lambda rec: _set(
            _first(rec, "aws:cloudtrail/trail:Trail"), "enableLogFileValidation", False
        ),
        {"cloudtrail-log-file-validation"},
    ),
    "endpoint config without data capture": (
        lambda rec: _set(
            _first(rec, "aws:sagemaker/endpointConfiguration:EndpointConfiguration"),
            "dataCaptureConfig",
            None,
        ),
        {"sagemaker-data-capture"},
    ),
    "endpoint without blue/green": (
        lambda rec: _set(_first(rec, "aws:sagemaker/endpoint:Endpoint"), "deploymentConfig", None),
        {"sagemaker-safe-deployment"},
    ),
    "model without network isolation": (
        lambda rec: _set(_first(rec, "aws:sagemaker/model:Model"), "enableNetworkIsolation", False),
        {"sagemaker-model-network-isolation"},
    ),
    "no Model Monitor schedule": (
        lambda rec: _drop(rec, "aws:sagemaker/monitoringSchedule:MonitoringSchedule"),
        {"sagemaker-model-monitor-schedule"},
    ),
    "no KMS interface endpoint": (
        lambda rec: _drop(
            rec,
            "aws:ec2/vpcEndpoint:VpcEndpoint",
            lambda r: r.inputs["serviceName"].endswith(".kms"),
        ),
        {"vpc-endpoints-for-services"},
    ),
    "no Bedrock invocation logging": (
        lambda rec: _drop(
            rec, "aws:bedrockmodel/invocationLoggingConfiguration:InvocationLoggingConfiguration"
        ),
        {"bedrock-invocation-logging"},
    ),
    "audit bucket without Object Lock retention": (
        lambda rec: _drop(
            rec, "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration"
        ),
        {"audit-bucket-worm"},
    ),
    "no VPC flow log": (lambda rec: _drop(rec, "aws:ec2/flowLog:FlowLog"), {"vpc-flow-logs"}),
    "public subnet": (
        lambda rec: _set(_first(rec, "aws:ec2/subnet:Subnet"), "mapPublicIpOnLaunch", True),
        {"subnet-no-public-ip", "sagemaker-model-in-private-subnets"},
    ),
    "privileged model container": (_privileged, {"k8s-no-privilege"}),
    "model Service exposed as LoadBalancer": (_load_balancer, {"k8s-service-not-exposed"}),
    "no default-deny NetworkPolicy": (
        lambda rec: _drop(
            rec,
            "kubernetes:networking.k8s.io/v1:NetworkPolicy",
            lambda r: (
                r.inputs["spec"].get("podSelector") == {}
                and "ingress" not in r.inputs["spec"]
                and "egress" not in r.inputs["spec"]
            ),
        ),
        {"k8s-default-deny-network-policy"},
    ),
    "wildcard role policy": (
        lambda rec: _set(
            _first(rec, "aws:iam/rolePolicy:RolePolicy"),
            "policy",
            json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}],
                }
            ),
        ),
        {"iam-no-wildcards"},
    ),
}


@pytest.mark.parametrize("name", list(MUTATIONS))
def test_prod_with_one_injected_misconfiguration(pack, recordings, prod_baseline, name):
    mutate, expected = MUTATIONS[name]
    rec = copy.deepcopy(recordings["prod"])
    try:
        mutate(rec)
    except StopIteration:
        pytest.skip(f"the prod stack has no resource for: {name}")
    result = pack.analyze(rec, PROD_CONFIG)
    new = _keys(result) - prod_baseline
    assert {p for p, _, _ in new} == expected, sorted(new)
    assert all(v.enforcement == "mandatory" for v in result.violations if v.policy in expected)
    assert prod_baseline - _keys(result) == set()
