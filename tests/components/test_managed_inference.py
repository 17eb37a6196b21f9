"""ManagedInference: every security and rollout property on the registered inputs, and each refusal.

Inputs are small fakes (plain ARNs and names), so the component is tested on its own.
"""

from __future__ import annotations

import json

import pytest

from regulated_inference.components.managed_inference import (
    DeploymentRecord,
    ManagedInference,
    PreviousVersion,
)
from regulated_inference.lib import sagemaker as sm
from regulated_inference.lib.errors import ComponentArgsError
from regulated_inference.simulation.engine import Recording
from tests.components.helpers import network_args
from tests.conftest import run_component

ACCT = "111122223333"
REGION = "eu-west-2"
DATA_KEY = f"arn:aws:kms:{REGION}:{ACCT}:key/data"
LOGS_KEY = f"arn:aws:kms:{REGION}:{ACCT}:key/logs"
AUDIT_KEY = f"arn:aws:kms:{REGION}:{ACCT}:key/audit"
IMAGE = f"{ACCT}.dkr.ecr.{REGION}.amazonaws.com/models/fraud-scorer@sha256:{'c' * 64}"
SUBNETS = ["subnet-0a", "subnet-0b"]
SUBNET_ARNS = [f"arn:aws:ec2:{REGION}:{ACCT}:subnet/{s}" for s in SUBNETS]
SG = "sg-0work"
SG_ARN = f"arn:aws:ec2:{REGION}:{ACCT}:security-group/{SG}"
ALARMS = ["ep-primary-latency-p99", "ep-primary-5xx-rate"]

MODEL = "aws:sagemaker/model:Model"
CONFIG = "aws:sagemaker/endpointConfiguration:EndpointConfiguration"
ENDPOINT = "aws:sagemaker/endpoint:Endpoint"


def args(**change) -> dict:
    a = {
        "model_name": "fraud-scorer",
        "version": "2.3.0",
        "stage": "production",
        "image_uri": IMAGE,
        "artifact_bucket_name": "models-bucket",
        "artifact_bucket_arn": "arn:aws:s3:::models-bucket",
        "artifact_key": "fraud-scorer/2.3.0/model.tar.gz",
        "endpoint_name": "fraud-scorer-prod",
        "instance_type": "ml.m5.xlarge",
        "instance_count": 2,
        "min_instances": 2,
        "max_instances": 6,
        "target_invocations_per_instance": 200,
        "rollout": sm.Rollout(strategy="canary", canary_percent=25, bake_seconds=900),
        "rollback_alarm_names": list(ALARMS),
        "data_key_arn": DATA_KEY,
        "capture_bucket_name": "capture-bucket",
        "capture_bucket_arn": "arn:aws:s3:::capture-bucket",
        "capture_sampling_percent": 50,
        "network": network_args(),
        "aws": {"partition": "aws", "region": REGION, "account_id": ACCT},
        "logs_key_arn": LOGS_KEY,
        "log_retention_days": 400,
        "callers": ["payments-api"],
        "deployment_record": DeploymentRecord(
            bucket_name="audit-bucket",
            kms_key_arn=AUDIT_KEY,
            config_sha256="f" * 64,
            evaluation={"accuracy": 0.96},
            stack="prod",
        ),
    }
    a.update(change)
    return a


def run(**change) -> Recording:
    return run_component(lambda: ManagedInference("fraud-scorer", args(**change)))


@pytest.fixture(scope="module")
def rec() -> Recording:
    return run()


def role_policy(rec: Recording) -> dict:
    [policy] = [r for r in rec.of_type("aws:iam/rolePolicy:RolePolicy") if "execution" in r.name]
    return json.loads(policy.inputs["policy"])


def test_model_is_network_isolated_in_the_private_subnets(rec):
    m = rec.one(MODEL).inputs
    assert m["enableNetworkIsolation"] is True
    assert m["vpcConfig"] == {"subnets": SUBNETS, "securityGroupIds": [SG]}
    assert m["primaryContainer"]["image"] == IMAGE
    assert (
        m["primaryContainer"]["modelDataUrl"]
        == "s3://models-bucket/fraud-scorer/2.3.0/model.tar.gz"
    )
    assert m["executionRoleArn"] == rec.one("aws:iam/role:Role").outputs["arn"]
    assert m["tags"]["model-version"] == "2.3.0" and m["tags"]["stage"] == "production"


def test_execution_role_grants_exact_arns(rec):
    statements = {s["Sid"]: s for s in role_policy(rec)["Statement"]}
    assert (
        statements["ReadObjects0"]["Resource"] == "arn:aws:s3:::models-bucket/fraud-scorer/2.3.0/*"
    )
    assert (
        statements["WriteObjects1"]["Resource"]
        == "arn:aws:s3:::capture-bucket/capture/fraud-scorer-prod/*"
    )
    assert statements["UseKey2"]["Resource"] == DATA_KEY
    assert statements["PullImages3"]["Resource"] == (
        f"arn:aws:ecr:{REGION}:{ACCT}:repository/models/fraud-scorer"
    )
    eni = statements["ManageEnis4"]["Resource"]
    assert set(SUBNET_ARNS) <= set(eni) and SG_ARN in eni
    log_group = rec.one("aws:cloudwatch/logGroup:LogGroup")
    assert statements["WriteLogs5"]["Resource"][0] == log_group.outputs["arn"]
    assert statements["DescribeRollbackAlarms"]["Action"] == "cloudwatch:DescribeAlarms"
    assert statements["DescribeRollbackAlarms"]["Resource"] == [
        f"arn:aws:cloudwatch:{REGION}:{ACCT}:alarm:{a}" for a in ALARMS
    ]
    for s in statements.values():
        actions = s["Action"] if isinstance(s["Action"], list) else [s["Action"]]
        assert not any("*" in a for a in actions)
    trust = json.loads(rec.one("aws:iam/role:Role").inputs["assumeRolePolicy"])["Statement"][0]
    assert trust["Principal"] == {"Service": "sagemaker.amazonaws.com"}
    assert trust["Condition"]["StringEquals"] == {"aws:SourceAccount": ACCT}


def test_endpoint_log_group_is_encrypted_with_retention(rec):
    lg = rec.one("aws:cloudwatch/logGroup:LogGroup").inputs
    assert lg["name"] == "/aws/sagemaker/Endpoints/fraud-scorer-prod"
    assert lg["kmsKeyId"] == LOGS_KEY and lg["retentionInDays"] == 400


def test_endpoint_config_is_encrypted_and_captures_input_and_output(rec):
    c = rec.one(CONFIG).inputs
    assert c["kmsKeyArn"] == DATA_KEY
    capture = c["dataCaptureConfig"]
    assert capture["enableCapture"] is True and capture["initialSamplingPercentage"] == 50
    assert capture["kmsKeyId"] == DATA_KEY
    assert capture["destinationS3Uri"] == "s3://capture-bucket/capture/fraud-scorer-prod"
    assert [o["captureMode"] for o in capture["captureOptions"]] == ["Input", "Output"]
    [variant] = c["productionVariants"]
    assert variant["variantName"] == "primary"
    assert variant["instanceType"] == "ml.m5.xlarge" and variant["initialInstanceCount"] == 2
    assert variant["modelName"] == rec.one(MODEL).outputs["name"]


def test_endpoint_uses_canary_blue_green_with_auto_rollback(rec):
    e = rec.one(ENDPOINT).inputs
    assert e["name"] == "fraud-scorer-prod"
    assert e["endpointConfigName"] == rec.one(CONFIG).outputs["name"]
    dc = e["deploymentConfig"]
    assert [a["alarmName"] for a in dc["autoRollbackConfiguration"]["alarms"]] == ALARMS
    bg = dc["blueGreenUpdatePolicy"]
    routing = bg["trafficRoutingConfiguration"]
    assert routing["type"] == "CANARY" and routing["waitIntervalInSeconds"] == 900
    assert routing["canarySize"] == {"type": "CAPACITY_PERCENT", "value": 25}
    assert "linearStepSize" not in routing
    assert bg["terminationWaitInSeconds"] == 300 and bg["maximumExecutionTimeoutInSeconds"] == 7200
    assert "rollingUpdatePolicy" not in dc


def test_linear_rollout():
    rec = run(rollout=sm.Rollout(strategy="linear", linear_step_percent=20, bake_seconds=300))
    routing = rec.one(ENDPOINT).inputs["deploymentConfig"]["blueGreenUpdatePolicy"][
        "trafficRoutingConfiguration"
    ]
    assert routing["type"] == "LINEAR" and routing["waitIntervalInSeconds"] == 300
    assert routing["linearStepSize"] == {"type": "CAPACITY_PERCENT", "value": 20}


def test_rolling_rollout_keeps_auto_rollback():
    rec = run(rollout=sm.Rollout(strategy="rolling", rolling_batch_percent=50, bake_seconds=120))
    dc = rec.one(ENDPOINT).inputs["deploymentConfig"]
    rolling = dc["rollingUpdatePolicy"]
    assert rolling["maximumBatchSize"] == {"type": "CAPACITY_PERCENT", "value": 50}
    assert rolling["waitIntervalInSeconds"] == 120
    assert [a["alarmName"] for a in dc["autoRollbackConfiguration"]["alarms"]] == ALARMS
    assert "blueGreenUpdatePolicy" not in dc


def test_autoscaling_tracks_invocations_per_instance(rec):
    target = rec.one("aws:appautoscaling/target:Target").inputs
    assert target["resourceId"] == "endpoint/fraud-scorer-prod/variant/primary"
    assert target["scalableDimension"] == "sagemaker:variant:DesiredInstanceCount"
    assert (target["minCapacity"], target["maxCapacity"]) == (2, 6)
    policy = rec.one("aws:appautoscaling/policy:Policy").inputs
    assert policy["policyType"] == "TargetTrackingScaling"
    tt = policy["targetTrackingScalingPolicyConfiguration"]
    assert tt["targetValue"] == 200
    assert tt["predefinedMetricSpecification"]["predefinedMetricType"] == (
        "SageMakerVariantInvocationsPerInstance"
    )


def test_the_component_never_declares_the_registry_group(rec):
    # A package version exists only after CreateModelPackage: a deployment that created the
    # group could never also create a model from it. The registry project owns the groups.
    assert rec.of_type("aws:sagemaker/modelPackageGroup:ModelPackageGroup") == []
    packaged = run(
        model_package_group="fraud-scorer-prod",
        model_package_arn=f"arn:aws:sagemaker:{REGION}:{ACCT}:model-package/fraud-scorer-prod/5",
    )
    assert packaged.of_type("aws:sagemaker/modelPackageGroup:ModelPackageGroup") == []
    assert (
        packaged.one(MODEL)
        .inputs["primaryContainer"]["modelPackageName"]
        .endswith("/fraud-scorer-prod/5")
    )
    assert rec.one(ENDPOINT).inputs["tags"]["model-version"] == "2.3.0"


OLD_IMAGE = f"{ACCT}.dkr.ecr.{REGION}.amazonaws.com/models/fraud-scorer@sha256:{'b' * 64}"
PREVIOUS = PreviousVersion(
    version="2.2.1", image_uri=OLD_IMAGE, artifact_key="fraud-scorer/2.2.1/model.tar.gz"
)


def test_previous_version_keeps_its_own_model_config_and_role_deployed():
    both = run(previous=PREVIOUS)
    configs = {c.outputs["name"]: c for c in both.of_type(CONFIG)}
    assert len(configs) == 2
    endpoint = both.one(ENDPOINT)
    [current] = [n for n in configs if n.startswith("fraud-scorer-prod-2-3-0-")]
    [previous] = [n for n in configs if n.startswith("fraud-scorer-prod-2-2-1-")]
    assert endpoint.inputs["endpointConfigName"] == current
    # The previous config exists before the endpoint moves (a rollback target that is live).
    assert configs[previous].urn in endpoint.dependencies
    models = {m.outputs["name"]: m.inputs for m in both.of_type(MODEL)}
    old_model = models[configs[previous].inputs["productionVariants"][0]["modelName"]]
    assert old_model["primaryContainer"]["image"] == OLD_IMAGE
    # One execution role per version, each reading only its own artifact folder (I7).
    roles = {m["executionRoleArn"] for m in models.values()}
    assert len(roles) == 2
    reads = sorted(
        st["Resource"]
        for p in both.of_type("aws:iam/rolePolicy:RolePolicy")
        for st in json.loads(p.inputs["policy"])["Statement"]
        if st["Sid"].startswith("ReadObjects")
    )
    assert reads == [
        "arn:aws:s3:::models-bucket/fraud-scorer/2.2.1/*",
        "arn:aws:s3:::models-bucket/fraud-scorer/2.3.0/*",
    ]


def test_swapping_version_and_previous_creates_and_deletes_nothing():
    forward = run(previous=PREVIOUS)
    back = run(
        version="2.2.1",
        image_uri=OLD_IMAGE,
        artifact_key="fraud-scorer/2.2.1/model.tar.gz",
        previous=PreviousVersion(
            version="2.3.0", image_uri=IMAGE, artifact_key="fraud-scorer/2.3.0/model.tar.gz"
        ),
    )
    kinds = (MODEL, CONFIG, "aws:iam/role:Role")
    assert {r.urn: r.inputs for k in kinds for r in back.of_type(k)} == {
        r.urn: r.inputs for k in kinds for r in forward.of_type(k)
    }
    assert back.one(ENDPOINT).inputs["endpointConfigName"].startswith("fraud-scorer-prod-2-2-1-")


def test_config_name_follows_the_version_so_a_change_is_a_new_config(rec):
    before = rec.one(CONFIG)
    after = run(version="2.4.0").one(CONFIG)
    assert before.outputs["name"].startswith("fraud-scorer-prod-2-3-0-")
    assert after.outputs["name"].startswith("fraud-scorer-prod-2-4-0-")
    assert (
        before.name != after.name
    )  # a new resource, not an in-place update of an immutable config
    again = run().one(CONFIG)
    assert again.outputs["name"] == before.outputs["name"]  # rollback = the same config back
    bigger = run(instance_count=3).one(CONFIG)
    assert bigger.outputs["name"] != before.outputs["name"]


def test_invoke_policy_is_this_endpoint_only_and_attached_to_callers(rec):
    policy = rec.one("aws:iam/policy:Policy")
    [stmt] = json.loads(policy.inputs["policy"])["Statement"]
    assert stmt["Action"] == "sagemaker:InvokeEndpoint"
    assert stmt["Resource"] == rec.one(ENDPOINT).outputs["arn"]
    [attachment] = rec.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
    assert attachment.inputs == {"role": "payments-api", "policyArn": policy.outputs["arn"]}


def test_pilot_is_reachable_by_its_pilot_callers_only():
    rec = run(
        stage="pilot",
        callers=["claims-pilot-a", "claims-pilot-b"],
        instance_count=1,
        min_instances=1,
    )
    roles = sorted(
        a.inputs["role"] for a in rec.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
    )
    assert roles == ["claims-pilot-a", "claims-pilot-b"]
    assert rec.one(ENDPOINT).inputs["tags"]["stage"] == "pilot"


def test_deployment_record_in_worm_bucket_with_audit_key(rec):
    obj = rec.one("aws:s3/bucketObjectv2:BucketObjectv2")
    i = obj.inputs
    assert i["bucket"] == "audit-bucket" and i["kmsKeyId"] == AUDIT_KEY
    assert i["serverSideEncryption"] == "aws:kms"
    assert i["key"] == f"deployments/prod/fraud-scorer/2.3.0/{'f' * 16}.json"
    record = json.loads(i["content"])
    assert record["model"] == "fraud-scorer" and record["requestedVersion"] == "2.3.0"
    assert record["kind"] == "deployment-request" and record["previousVersion"] is None
    assert record["imageDigest"] == "sha256:" + "c" * 64
    assert record["artifactUri"] == "s3://models-bucket/fraud-scorer/2.3.0/model.tar.gz"
    assert record["evaluation"] == {"accuracy": 0.96}
    assert record["stage"] == "production" and record["configSha256"] == "f" * 64
    assert record["requestedEndpointConfig"] == rec.one(CONFIG).outputs["name"]
    assert record["previousEndpointConfig"] is None
    # It says what was requested; it never claims what runs (SageMaker may roll back).
    assert "endpointConfig" not in record and "version" not in record


def test_deployment_record_names_the_previous_version_kept():
    record = json.loads(
        run(previous=PREVIOUS).one("aws:s3/bucketObjectv2:BucketObjectv2").inputs["content"]
    )
    assert record["requestedVersion"] == "2.3.0" and record["previousVersion"] == "2.2.1"
    assert record["previousEndpointConfig"].startswith("fraud-scorer-prod-2-2-1-")


@pytest.mark.parametrize(
    "change,arg,fragment",
    [
        ({"instance_type": "ml.g5.2xlarge"}, "instance_type", "hardware module"),
        ({"image_uri": IMAGE.replace(REGION, "us-east-1")}, "image_uri", "not the home region"),
        ({"image_uri": IMAGE.split("@")[0] + ":latest"}, "image_uri", "pinned by digest"),
        ({"rollback_alarm_names": []}, "rollback_alarm_names", "alarms that exist in the stack"),
        ({"rollback_alarm_names": [f"a{i}" for i in range(11)]}, "rollback_alarm_names", "1–10"),
        (
            {"network": network_args(subnet_ids=["subnet-0a"], subnet_arns=SUBNET_ARNS[:1])},
            "network.subnet_ids",
            "≥ 2 AZs",
        ),
        ({"network": network_args(subnet_arns=SUBNET_ARNS[:1])}, "network.subnet_ids", "ARNs"),
        ({"network": network_args(security_group_arn="")}, "network.security_group_arn", "N*"),
        ({"rollout": sm.Rollout(canary_percent=75)}, "rollout.canaryPercent", "1–50%"),
        ({"capture_sampling_percent": 101}, "capture_sampling_percent", "0–100"),
        ({"stage": "pilot", "callers": []}, "callers", "pilot must name"),
        ({"callers": ["arn:aws:iam::1:role/x"]}, "callers", "not ARNs"),
        ({"instance_count": 1}, "instance_count", "min_instances (2)"),
        ({"artifact_key": "s3://b/model.tar.gz"}, "artifact_key", ".tar.gz"),
        ({"instance_type": "ml.inf1.xlarge"}, "instance_type", "Inf1"),
        (
            {
                "previous": PreviousVersion(
                    version="2.3.0", image_uri=IMAGE, artifact_key="a/model.tar.gz"
                )
            },
            "previous.version",
            "differ",
        ),
        (
            {
                "previous": PreviousVersion(
                    version="2.2.1",
                    image_uri=OLD_IMAGE.replace(REGION, "us-east-1"),
                    artifact_key="a/m.tar.gz",
                )
            },
            "previous.image_uri",
            "home region",
        ),
        (
            {
                "model_package_arn": f"arn:aws:sagemaker:{REGION}:{ACCT}:model-package/fraud-scorer/5",
                "previous": PREVIOUS,
            },
            "previous.model_package_arn",
            "exactly when this one does",
        ),
    ],
)
def test_invalid_args_are_refused_before_any_resource(change, arg, fragment):
    registered = []

    def program():
        try:
            ManagedInference("bad", args(**change))
        except ComponentArgsError as exc:
            registered.append(exc)

    rec = run_component(program)
    [exc] = registered
    assert exc.arg == arg and fragment in exc.rule
    assert [
        r for r in rec.resources if r.type.startswith(("aws:sagemaker", "aws:iam", "regulated"))
    ] == []


def test_fixed_capacity_registers_no_scaling_target():
    # AWS refuses an endpoint update that changes the instance type of a registered
    # scalable target, so a fixed-size variant is never registered.
    rec = run(min_instances=2, max_instances=2)
    assert rec.of_type("aws:appautoscaling/target:Target") == []
    assert rec.of_type("aws:appautoscaling/policy:Policy") == []


PACKAGE = f"arn:aws:sagemaker:{REGION}:{ACCT}:model-package/fraud-scorer/5"


def test_model_from_a_registry_package_keeps_isolation_and_records_it():
    rec = run(model_package_arn=PACKAGE)
    m = rec.one(MODEL).inputs
    assert m["primaryContainer"] == {"modelPackageName": PACKAGE}
    assert m["enableNetworkIsolation"] is True and m["vpcConfig"]["subnets"] == SUBNETS
    record = json.loads(rec.one("aws:s3/bucketObjectv2:BucketObjectv2").inputs["content"])
    assert record["modelPackage"] == PACKAGE
    assert record["imageDigest"] == "sha256:" + "c" * 64


@pytest.mark.parametrize(
    "package",
    [
        f"arn:aws:sagemaker:{REGION}:{ACCT}:model-package/other-model/5",
        f"arn:aws:sagemaker:{REGION}:{ACCT}:model-package/fraud-scorer",
        "fraud-scorer/5",
        PACKAGE.replace("arn:aws:", "arn:awsx:"),  # not an AWS partition
        PACKAGE.replace(f":{ACCT}:", ":12345678901:"),  # 11 digits
    ],
)
def test_model_package_must_be_a_version_of_this_models_group(package):
    with pytest.raises(ComponentArgsError) as info:
        run(model_package_arn=package)
    assert info.value.arg == "model_package_arn"


def test_model_waits_for_the_execution_role_policy(rec):
    # SageMaker checks image and artifact access at CreateModel: the policy must exist first.
    policy = [r for r in rec.of_type("aws:iam/rolePolicy:RolePolicy") if "execution" in r.name][0]
    assert policy.urn in rec.one(MODEL).dependencies


# -- the AWS facts the component relies on (regulated_inference/lib/sagemaker.py) ----------------------


@pytest.mark.parametrize(
    "itype,nvme,gpu",
    [
        ("ml.m5.large", False, False),
        ("ml.m5d.large", True, False),
        ("ml.c6gd.xlarge", True, False),
        ("ml.g4dn.xlarge", True, True),
        ("ml.g5.2xlarge", True, True),
        ("ml.g6e.xlarge", True, True),
        ("ml.p3.2xlarge", False, True),
        ("ml.p4d.24xlarge", True, True),
        ("ml.p6-b200.48xlarge", True, True),
        ("ml.inf2.xlarge", False, False),
        ("ml.trn1.2xlarge", True, False),
    ],
)
def test_instance_facts(itype, nvme, gpu):
    assert sm.has_local_nvme(itype) is nvme
    assert sm.has_gpu(itype) is gpu


def test_instance_type_must_be_an_ml_type():
    with pytest.raises(ValueError, match="not a SageMaker instance type"):
        sm.instance_family("m5.large")


def test_rollout_steps_and_waiting_time():
    assert sm.rollout_steps(sm.Rollout(strategy="canary")) == 1
    assert sm.rollout_steps(sm.Rollout(strategy="linear", linear_step_percent=30)) == 4
    assert sm.rollout_steps(sm.Rollout(strategy="rolling", rolling_batch_percent=25)) == 4
    assert sm.check_rollout(sm.Rollout()) is None


def test_ecr_image_parsing_and_repository_arn():
    image = sm.parse_ecr_image(IMAGE)
    assert (image.account, image.region, image.repository) == (ACCT, REGION, "models/fraud-scorer")
    assert image.repository_arn() == f"arn:aws:ecr:{REGION}:{ACCT}:repository/models/fraud-scorer"
    for bad in (IMAGE.replace("@sha256:", ":"), "docker.io/library/nginx@sha256:" + "a" * 64):
        with pytest.raises(ValueError, match="pinned by digest"):
            sm.parse_ecr_image(bad)


def test_names_and_hashes():
    assert (
        sm.safe_name("fraud-scorer", "2.3.0+build_7", "ab12") == "fraud-scorer-2-3-0-build-7-ab12"
    )
    assert len(sm.safe_name("x" * 80, "y")) == 63
    assert sm.short_hash({"a": 1, "b": 2}) == sm.short_hash({"b": 2, "a": 1})
    assert sm.model_monitor_image("eu-west-2") == (
        "749857270468.dkr.ecr.eu-west-2.amazonaws.com/sagemaker-model-monitor-analyzer"
    )


def test_pilot_of_a_new_version_shares_the_models_registry_group():
    rec = run(
        model_name="fraud-scorer-pilot",
        endpoint_name="fraud-scorer-pilot-prod",
        stage="pilot",
        callers=["fraud-analysts"],
        model_package_group="fraud-scorer",
        create_model_package_group=False,
        model_package_arn=PACKAGE,
    )
    assert rec.of_type("aws:sagemaker/modelPackageGroup:ModelPackageGroup") == []
    assert rec.one(MODEL).inputs["primaryContainer"] == {"modelPackageName": PACKAGE}
    assert rec.one(ENDPOINT).inputs["tags"]["model-package-group"] == "fraud-scorer"
    out = rec.one("regulated-inference:index:ManagedInference").outputs
    assert out["modelPackageGroupName"] == "fraud-scorer"
    with pytest.raises(ComponentArgsError) as info:
        run(model_package_group="other-group", model_package_arn=PACKAGE)
    assert info.value.arg == "model_package_arn" and "other-group" in info.value.rule
