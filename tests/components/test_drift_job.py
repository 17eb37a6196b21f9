"""ScheduledDriftCheck: drift without Model Monitor — schedule, job request, roles, alarm."""

from __future__ import annotations

import json

import pytest

from regulated_inference.components.drift_job import ScheduledDriftCheck, schedule_expression
from regulated_inference.simulation.engine import Recording
from tests.components.helpers import (
    ACCT,
    ALARM,
    DATA_KEY,
    REGION,
    SUBNETS,
    TOPIC,
    assert_drift_alarm_queries,
    assert_refused,
    drift_common_args,
    drift_data,
    metric_queries,
    network_args,
    recorded,
    with_changes,
)
from tests.conftest import run_component

IMAGE = f"{ACCT}.dkr.ecr.{REGION}.amazonaws.com/drift-check@sha256:" + "a" * 64
SCHEDULE = "aws:scheduler/schedule:Schedule"


def drift_args(**change) -> dict:
    return with_changes(
        {
            "check_name": "fraud-scorer-prod-drift",
            "interval_hours": 1,
            "image_uri": IMAGE,
            **drift_common_args(output_prefix="drift/fraud-scorer-prod/"),
        },
        change,
    )


rec = recorded(lambda: ScheduledDriftCheck("drift", drift_args()))


def roles(rec: Recording) -> dict[str, dict]:
    """Role name (logical) -> {'trust': ..., 'policy': {Sid: statement}}."""
    out = {}
    for role in rec.of_type("aws:iam/role:Role"):
        key = "job" if "job-role" in role.name else "scheduler"
        out[key] = {"trust": json.loads(role.inputs["assumeRolePolicy"])["Statement"][0]}
    for pol in rec.of_type("aws:iam/rolePolicy:RolePolicy"):
        key = "job" if "job-role" in pol.name else "scheduler"
        out[key]["policy"] = {s["Sid"]: s for s in json.loads(pol.inputs["policy"])["Statement"]}
    return out


def request(rec: Recording) -> dict:
    return json.loads(rec.one(SCHEDULE).inputs["target"]["input"])


def test_schedule_calls_create_processing_job_hourly_on_the_hour(rec):
    s = rec.one(SCHEDULE).inputs
    assert s["scheduleExpression"] == "cron(0 * * * ? *)"
    assert s["scheduleExpressionTimezone"] == "UTC"
    assert s["flexibleTimeWindow"] == {"mode": "OFF"}
    assert s["state"] == "ENABLED"
    target = s["target"]
    assert target["arn"] == "arn:aws:scheduler:::aws-sdk:sagemaker:createProcessingJob"
    scheduler_role = next(r for r in rec.of_type("aws:iam/role:Role") if "scheduler" in r.name)
    assert target["roleArn"] == scheduler_role.outputs["arn"]
    assert target["retryPolicy"] == {"maximumRetryAttempts": 2, "maximumEventAgeInSeconds": 900}


@pytest.mark.parametrize(
    "hours,expr",
    [(1, "cron(0 * * * ? *)"), (6, "cron(0 0/6 * * ? *)"), (24, "cron(0 0/24 * * ? *)")],
)
def test_schedule_expression_on_utc_hours(hours, expr):
    assert schedule_expression(hours) == expr


def test_job_request_is_encrypted_in_the_vpc_and_unique_per_run(rec):
    req = request(rec)
    assert req["ProcessingJobName"] == "fraud-scorer-prod-drift-<aws.scheduler.execution-id>"
    job_role = next(r for r in rec.of_type("aws:iam/role:Role") if "job-role" in r.name)
    assert req["RoleArn"] == job_role.outputs["arn"]
    assert req["AppSpecification"] == {"ImageUri": IMAGE}
    cluster = req["ProcessingResources"]["ClusterConfig"]
    assert cluster["VolumeKmsKeyId"] == DATA_KEY and cluster["InstanceType"] == "ml.m5.xlarge"
    assert req["ProcessingOutputConfig"]["KmsKeyId"] == DATA_KEY
    out = req["ProcessingOutputConfig"]["Outputs"][0]["S3Output"]
    assert (
        out["S3Uri"] == "s3://capture-bucket/drift/fraud-scorer-prod/<aws.scheduler.execution-id>"
    )
    net = req["NetworkConfig"]
    assert net["VpcConfig"] == {"Subnets": SUBNETS, "SecurityGroupIds": ["sg-0work"]}
    assert net["EnableInterContainerTrafficEncryption"] is True
    # Network isolation would forbid reading the capture window and PutMetricData.
    assert net["EnableNetworkIsolation"] is False
    [baseline] = req["ProcessingInputs"]
    assert baseline["S3Input"]["S3Uri"] == "s3://models-bucket/fraud-scorer/2.3.0/baseline/"
    env = req["Environment"]
    assert env["CAPTURE_S3_URI"] == "s3://capture-bucket/capture/fraud-scorer-prod/"
    assert env["SCHEDULED_TIME"] == "<aws.scheduler.scheduled-time>"
    assert env["METRIC_NAMESPACE"] == "RegulatedInference/ModelDrift"
    assert env["FEATURES"] == "amount,hour_of_day" and env["ENDPOINT_NAME"] == "fraud-scorer-prod"
    assert req["StoppingCondition"] == {"MaxRuntimeInSeconds": 1800}


def test_job_role_reads_capture_and_baseline_writes_reports_publishes_drift_only(rec):
    job = roles(rec)["job"]
    assert job["trust"]["Principal"] == {"Service": "sagemaker.amazonaws.com"}
    assert job["trust"]["Condition"]["ArnLike"] == {
        "aws:SourceArn": f"arn:aws:sagemaker:{REGION}:{ACCT}:processing-job/fraud-scorer-prod-drift-*"
    }
    p = job["policy"]
    assert (
        p["ReadObjects0"]["Resource"] == "arn:aws:s3:::capture-bucket/capture/fraud-scorer-prod/*"
    )
    assert (
        p["ReadObjects1"]["Resource"] == "arn:aws:s3:::models-bucket/fraud-scorer/2.3.0/baseline/*"
    )
    assert p["WriteObjects2"]["Resource"] == "arn:aws:s3:::capture-bucket/drift/fraud-scorer-prod/*"
    assert p["PullImages4"]["Resource"] == f"arn:aws:ecr:{REGION}:{ACCT}:repository/drift-check"
    assert p["PutMetrics6"]["Condition"] == {
        "StringEquals": {"cloudwatch:namespace": "RegulatedInference/ModelDrift"}
    }
    assert not any(
        "sagemaker:" in str(s["Action"]) or "iam:" in str(s["Action"]) for s in p.values()
    )


def test_scheduler_role_creates_only_this_job_and_passes_only_the_job_role(rec):
    r = roles(rec)
    sched = r["scheduler"]
    assert sched["trust"]["Principal"] == {"Service": "scheduler.amazonaws.com"}
    assert sched["trust"]["Condition"]["StringEquals"] == {"aws:SourceAccount": ACCT}
    p = sched["policy"]
    assert set(p) == {"CreateThisDriftJobOnly", "PassTheJobRoleToSageMaker"}
    create = p["CreateThisDriftJobOnly"]
    assert create["Action"] == "sagemaker:CreateProcessingJob"
    assert (
        create["Resource"]
        == f"arn:aws:sagemaker:{REGION}:{ACCT}:processing-job/fraud-scorer-prod-drift-*"
    )
    cond = create["Condition"]
    assert cond["ArnEquals"] == {
        "sagemaker:VolumeKmsKey": DATA_KEY,
        "sagemaker:OutputKmsKey": DATA_KEY,
    }
    assert cond["ForAllValues:StringEquals"]["sagemaker:VpcSubnets"] == SUBNETS
    assert cond["Null"] == {
        "sagemaker:VpcSubnets": "false",
        "sagemaker:VpcSecurityGroupIds": "false",
    }
    passrole = p["PassTheJobRoleToSageMaker"]
    job_role = next(x for x in rec.of_type("aws:iam/role:Role") if "job-role" in x.name)
    assert passrole["Resource"] == job_role.outputs["arn"]
    assert passrole["Condition"] == {
        "StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}
    }


def test_drift_alarm_reads_the_contract_and_treats_silence_as_breaching(rec):
    alarm = rec.one(ALARM).inputs
    assert alarm["name"] == "fraud-scorer-prod-drift-feature-drift"
    assert alarm["alarmActions"] == [TOPIC] and alarm["okActions"] == [TOPIC]
    assert alarm["actionsEnabled"] is True
    assert alarm["treatMissingData"] == "breaching"
    assert alarm["threshold"] == 0.2 and alarm["comparisonOperator"] == "GreaterThanThreshold"
    assert alarm["alarmDescription"] == (
        "feature baseline drift above 0.2 on amount, hour_of_day; no datapoint in 1 h means the "
        "drift check did not run, failed or could not publish (breaching)"
    )
    assert_drift_alarm_queries(
        alarm, "RegulatedInference/ModelDrift", "hour_of_day", "fraud-scorer-prod-drift", 3600
    )


def test_alarm_period_follows_the_interval():
    rec = run_component(
        lambda: ScheduledDriftCheck("d6", drift_args(interval_hours=6, max_runtime_seconds=7200))
    )
    queries = metric_queries(rec.one(ALARM).inputs)
    assert queries["f0"]["metric"]["period"] == 6 * 3600


def test_omitted_optional_args_take_the_component_defaults():
    args = drift_args()
    for key in ("drift_threshold", "instance_type", "max_runtime_seconds", "interval_hours"):
        del args[key]
    rec = run_component(lambda: ScheduledDriftCheck("defaults", args))
    req = request(rec)
    assert req["ProcessingResources"]["ClusterConfig"]["InstanceType"] == "ml.m5.xlarge"
    assert req["StoppingCondition"] == {"MaxRuntimeInSeconds": 1800}
    assert rec.one(SCHEDULE).inputs["scheduleExpression"] == "cron(0 * * * ? *)"
    assert rec.one(ALARM).inputs["threshold"] == 0.2


def test_optional_schedule_key_is_used_and_decryptable():
    key = f"arn:aws:kms:{REGION}:{ACCT}:key/sched"
    rec = run_component(lambda: ScheduledDriftCheck("k", drift_args(schedule_kms_key_arn=key)))
    assert rec.one(SCHEDULE).inputs["kmsKeyArn"] == key
    assert roles(rec)["scheduler"]["policy"]["UseKey2"]["Resource"] == key


@pytest.mark.parametrize(
    "change,arg,fragment",
    [
        ({"check_name": "x" * 41}, "check_name", "at most 40"),
        ({"check_name": "bad_name"}, "check_name", "SageMaker name"),
        ({"features": []}, "features", "1–9 features"),
        ({"features": ["a b"]}, "features", "letters, digits"),
        ({"drift_threshold": 1.5}, "drift_threshold", "(0, 1]"),
        ({"interval_hours": 5}, "interval_hours", "divides the day"),
        ({"max_runtime_seconds": 7200}, "max_runtime_seconds", "before the next"),
        ({"image_uri": "drift:latest"}, "image_uri", "pinned by digest"),
        (
            {"image_uri": IMAGE.replace(REGION, "us-east-1")},
            "image_uri",
            "home region",
        ),
        ({"instance_type": "ml.g5.xlarge"}, "instance_type", "hardware module"),
        ({"network": network_args(subnet_ids=["subnet-0a"])}, "network.subnet_ids", "≥ 2 AZs"),
        (
            {"network": network_args(subnet_arns=[])},
            "network.subnet_ids",
            "with their ARNs",
        ),
        ({"network": network_args(security_group_id="")}, "network.security_group_id", "N*"),
        ({"data": drift_data(capture_prefix="/")}, "data.capture_prefix", "never a whole bucket"),
        (
            {"data": drift_data(output_prefix="capture/fraud-scorer-prod/drift")},
            "data.output_prefix",
            "outside the capture",
        ),
        ({"data": drift_data(data_key_arn="")}, "data.data_key_arn", "E1"),
        ({"data": None}, "data", "DriftData"),
        ({"alarm_topic_arn": ""}, "alarm_topic_arn", "M1"),
        ({"aws": {"region": REGION, "account_id": "1234"}}, "aws", "12-digit"),
    ],
)
def test_invalid_args_are_refused_before_any_resource(change, arg, fragment):
    assert_refused(lambda: ScheduledDriftCheck("bad", drift_args(**change)), arg, fragment)
