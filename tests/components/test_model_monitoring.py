"""ModelMonitoring, AlertTopic, DataQualityMonitor: alarms with dimensions and actions, drift, alerts."""

from __future__ import annotations

import json

import pytest

from regulated_inference.components.model_monitoring import (
    AlertTopic,
    DataQualityMonitor,
    ModelMonitoring,
    Thresholds,
)
from regulated_inference.lib import aws as aws_facts
from regulated_inference.lib import metrics
from regulated_inference.lib import sagemaker as sm
from regulated_inference.lib.errors import ComponentArgsError
from regulated_inference.simulation.engine import Recording
from tests.components.helpers import (
    ACCT,
    ALARM,
    DATA_KEY,
    LOGS_KEY,
    REGION,
    TOPIC,
    alarms_by_name,
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

AWS = aws_facts.context(REGION, ACCT)
DIMS = {"EndpointName": "fraud-scorer-prod", "VariantName": "primary"}


def monitoring_args(**change) -> dict:
    return with_changes(
        {
            "endpoint_name": "fraud-scorer-prod",
            "variant_name": "primary",
            "instance_type": "ml.m5.xlarge",
            "thresholds": Thresholds(
                latency_p99_ms=250, max_5xx_rate=0.005, hallucination_rate_max=0.02
            ),
            "alarm_topic_arn": TOPIC,
            "aws": AWS,
        },
        change,
    )


rec = recorded(lambda: ModelMonitoring("fraud", monitoring_args()))


def alarms(rec: Recording) -> dict[str, dict]:
    return alarms_by_name(rec, "fraud-scorer-prod-primary-")


def test_every_alarm_has_actions_to_the_topic(rec):
    for a in alarms(rec).values():
        assert a["actionsEnabled"] is True
        assert a["alarmActions"] == [TOPIC] and a["okActions"] == [TOPIC]
    composite = rec.one("aws:cloudwatch/compositeAlarm:CompositeAlarm").inputs
    assert composite["alarmActions"] == [TOPIC]


def test_operational_alarms_with_dimensions_and_thresholds(rec):
    a = alarms(rec)
    latency = a["latency-p99"]
    assert latency["namespace"] == "AWS/SageMaker" and latency["metricName"] == "ModelLatency"
    assert latency["extendedStatistic"] == "p99"
    assert latency["threshold"] == 250_000  # ms → microseconds, as SageMaker reports it
    assert latency["dimensions"] == DIMS
    assert a["overhead-latency-p99"]["metricName"] == "OverheadLatency"
    assert a["4xx-rate"]["metricName"] == "Invocation4XXErrors"
    assert a["5xx-rate"]["metricName"] == "Invocation5XXErrors"
    assert a["5xx-rate"]["statistic"] == "Average" and a["5xx-rate"]["threshold"] == 0.005
    for role in ("cpu-utilization", "memory-utilization"):
        assert a[role]["namespace"] == "/aws/sagemaker/Endpoints" and a[role]["dimensions"] == DIMS
    assert "gpu-utilization" not in a  # CPU instance: no GPU metrics exist


def test_gpu_alarm_only_on_gpu_instances():
    rec = run_component(
        lambda: ModelMonitoring("g", monitoring_args(instance_type="ml.p3.2xlarge"))
    )
    gpu = [r for r in rec.of_type(ALARM) if r.inputs["name"].endswith("gpu-utilization")]
    assert gpu and gpu[0].inputs["metricName"] == "GPUUtilization"


def test_invocations_anomaly_band(rec):
    a = alarms(rec)["invocations-anomaly"]
    assert a["comparisonOperator"] == "LessThanLowerOrGreaterThanUpperThreshold"
    assert a["thresholdMetricId"] == "band"
    queries = metric_queries(a)
    assert queries["band"]["expression"] == "ANOMALY_DETECTION_BAND(invocations, 3)"
    metric = queries["invocations"]["metric"]
    assert metric["metricName"] == "Invocations" and metric["dimensions"] == DIMS


def test_quality_alarms_watch_the_documented_namespace(rec):
    a = alarms(rec)
    for qm in metrics.QUALITY_METRICS:
        alarm = a[f"quality-{qm.name}"]
        assert alarm["namespace"] == "RegulatedInference/ModelQuality"
        assert alarm["metricName"] == qm.name and alarm["dimensions"] == DIMS
        assert alarm["insufficientDataActions"] == [TOPIC]
    assert a["quality-HallucinationRate"]["threshold"] == 0.02
    assert a["quality-HallucinationRate"]["comparisonOperator"] == "GreaterThanThreshold"
    assert a["quality-UserSatisfaction"]["comparisonOperator"] == "LessThanThreshold"


def test_rollback_alarms_and_composite(rec):
    out = rec.one("regulated-inference:index:ModelMonitoring").outputs
    assert out["rollbackAlarmNames"] == [
        f"fraud-scorer-prod-primary-{r}"
        for r in ("latency-p99", "overhead-latency-p99", "4xx-rate", "5xx-rate")
    ]
    rule = rec.one("aws:cloudwatch/compositeAlarm:CompositeAlarm").inputs["alarmRule"]
    for name in (r.inputs["name"] for r in rec.of_type(ALARM)):
        assert f'ALARM("{name}")' in rule


def test_dashboard_shows_traffic_latency_errors_utilisation_quality(rec):
    body = json.loads(rec.one("aws:cloudwatch/dashboard:Dashboard").inputs["dashboardBody"])
    titles = [w["properties"]["title"] for w in body["widgets"]]
    assert titles == [
        "Invocations",
        "Latency p99 (µs)",
        "Error rate",
        "Utilisation (%)",
        "Model Quality",
    ]
    quality = body["widgets"][-1]["properties"]["metrics"]
    assert quality[0][:2] == [metrics.QUALITY_NAMESPACE, "HallucinationRate"]


def test_monitoring_refuses_missing_topic():
    with pytest.raises(ComponentArgsError) as info:
        run_component(lambda: ModelMonitoring("x", monitoring_args(alarm_topic_arn="")))
    assert info.value.arg == "alarm_topic_arn"


# -- alert topic --------------------------------------------------------------------------


def test_alert_topic_is_encrypted_and_only_this_accounts_alarms_publish():
    rec = run_component(
        lambda: AlertTopic(
            "alerts",
            {"kms_key_arn": LOGS_KEY, "emails": ["a@x.example", "b@x.example"], "aws": AWS},
        )
    )
    topic = rec.one("aws:sns/topic:Topic")
    assert topic.inputs["kmsMasterKeyId"] == LOGS_KEY
    policy = json.loads(rec.one("aws:sns/topicPolicy:TopicPolicy").inputs["policy"])
    allow = policy["Statement"][0]
    assert allow["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert allow["Condition"]["StringEquals"] == {"aws:SourceAccount": ACCT}
    assert (
        allow["Condition"]["ArnLike"]["aws:SourceArn"]
        == f"arn:aws:cloudwatch:{REGION}:{ACCT}:alarm:*"
    )
    subs = rec.of_type("aws:sns/topicSubscription:TopicSubscription")
    assert sorted(s.inputs["endpoint"] for s in subs) == ["a@x.example", "b@x.example"]
    assert {s.inputs["protocol"] for s in subs} == {"email"}


def test_alert_topic_needs_a_key():
    with pytest.raises(ComponentArgsError) as info:
        run_component(
            lambda: AlertTopic("a", {"kms_key_arn": "", "emails": ["a@x.example"], "aws": AWS})
        )
    assert info.value.arg == "kms_key_arn"


# -- drift ---------------------------------------------------------------------------------


def drift_args(**change) -> dict:
    return with_changes(
        {
            "schedule_name": "fraud-scorer-prod-data-quality",
            "schedule_expression": "cron(0 * ? * * *)",
            **drift_common_args(),
        },
        change,
    )


drift = recorded(lambda: DataQualityMonitor("dq", drift_args()), name="drift")


def test_job_definition_encrypts_isolates_and_runs_in_the_vpc(drift):
    job = drift.one("aws:sagemaker/dataQualityJobDefinition:DataQualityJobDefinition").inputs
    assert job["dataQualityJobOutputConfig"]["kmsKeyId"] == DATA_KEY
    cluster = job["jobResources"]["clusterConfig"]
    assert cluster["volumeKmsKeyId"] == DATA_KEY and cluster["instanceType"] == "ml.m5.xlarge"
    net = job["networkConfig"]
    assert net["enableNetworkIsolation"] is True
    assert net["enableInterContainerTrafficEncryption"] is True
    assert net["vpcConfig"] == {
        "subnets": ["subnet-0a", "subnet-0b"],
        "securityGroupIds": ["sg-0work"],
    }
    app = job["dataQualityAppSpecification"]
    assert app["imageUri"] == sm.model_monitor_image(REGION)
    assert app["environment"] == {"publish_cloudwatch_metrics": "Enabled"}
    assert job["dataQualityJobInput"]["endpointInput"]["endpointName"] == "fraud-scorer-prod"
    baseline = job["dataQualityBaselineConfig"]
    assert (
        baseline["constraintsResource"]["s3Uri"]
        == "s3://models-bucket/fraud-scorer/2.3.0/baseline/constraints.json"
    )
    out = job["dataQualityJobOutputConfig"]["monitoringOutputs"]["s3Output"]["s3Uri"]
    assert out == "s3://capture-bucket/monitoring/fraud-scorer-prod"


def test_schedule_runs_the_job_hourly(drift):
    schedule = drift.one("aws:sagemaker/monitoringSchedule:MonitoringSchedule").inputs
    cfg = schedule["monitoringScheduleConfig"]
    assert cfg["monitoringType"] == "DataQuality"
    assert cfg["scheduleConfig"]["scheduleExpression"] == "cron(0 * ? * * *)"
    job = drift.one("aws:sagemaker/dataQualityJobDefinition:DataQualityJobDefinition")
    assert cfg["monitoringJobDefinitionName"] == job.outputs["name"]


def test_drift_alarm_on_the_schedules_drift_metrics(drift):
    alarm = drift.one(ALARM).inputs
    assert alarm["alarmActions"] == [TOPIC] and alarm["threshold"] == 0.2
    assert alarm["alarmDescription"] == (
        "feature baseline drift above 0.2 on amount, hour_of_day (Model Monitor data quality)"
    )
    # Model Monitor publishes only when a job ran: no data is `missing`, and reported.
    assert alarm["treatMissingData"] == "missing" and alarm["evaluationPeriods"] == 1
    assert alarm["insufficientDataActions"] == [TOPIC]
    assert_drift_alarm_queries(
        alarm, sm.DATA_QUALITY_NAMESPACE, "amount", "fraud-scorer-prod-data-quality", 3600
    )


def test_monitor_role_is_least_privilege(drift):
    [policy] = [p for p in drift.of_type("aws:iam/rolePolicy:RolePolicy")]
    statements = {s["Sid"]: s for s in json.loads(policy.inputs["policy"])["Statement"]}
    assert (
        statements["ReadObjects0"]["Resource"]
        == "arn:aws:s3:::capture-bucket/capture/fraud-scorer-prod/*"
    )
    assert (
        statements["WriteObjects2"]["Resource"]
        == "arn:aws:s3:::capture-bucket/monitoring/fraud-scorer-prod/*"
    )
    assert statements["PutMetrics5"]["Condition"] == {
        "StringEquals": {"cloudwatch:namespace": "aws/sagemaker/Endpoints/data-metrics"}
    }


def test_drift_omitted_optional_args_take_the_component_defaults():
    args = drift_args()
    for key in ("drift_threshold", "schedule_expression", "instance_type", "max_runtime_seconds"):
        del args[key]
    rec = run_component(lambda: DataQualityMonitor("dq-defaults", args))
    job = rec.one("aws:sagemaker/dataQualityJobDefinition:DataQualityJobDefinition").inputs
    assert job["jobResources"]["clusterConfig"]["instanceType"] == "ml.m5.xlarge"
    assert job["stoppingCondition"] == {"maxRuntimeInSeconds": 1800}
    schedule = rec.one("aws:sagemaker/monitoringSchedule:MonitoringSchedule").inputs
    assert schedule["monitoringScheduleConfig"]["scheduleConfig"] == {
        "scheduleExpression": "cron(0 * ? * * *)"
    }
    assert rec.one(ALARM).inputs["threshold"] == 0.2


@pytest.mark.parametrize(
    "change,arg,fragment",
    [
        ({"instance_type": "ml.m5d.xlarge"}, "instance_type", "hardware module"),
        ({"features": []}, "features", "1–9 features"),
        ({"network": network_args(subnet_ids=["subnet-0a"])}, "network.subnet_ids", "≥ 2 AZs"),
        ({"data": drift_data(baseline_prefix="")}, "data.baseline_prefix", "never a whole bucket"),
        (
            {"data": drift_data(output_prefix="capture/fraud-scorer-prod/reports")},
            "data.output_prefix",
            "outside the capture",
        ),
        ({"drift_threshold": 0}, "drift_threshold", "(0, 1]"),
        ({"network": network_args(subnet_arns=[])}, "network.subnet_ids", "with their ARNs"),
        ({"max_runtime_seconds": 7200}, "max_runtime_seconds", "hourly schedule"),
        (
            {"aws": aws_facts.context("xx-nowhere-1", ACCT)},
            "aws.region",
            "no known Model Monitor analyzer image",
        ),
        ({"aws": {"region": REGION}}, "aws", "account_id"),
    ],
)
def test_drift_invalid_args(change, arg, fragment):
    assert_refused(lambda: DataQualityMonitor("bad", drift_args(**change)), arg, fragment)


# -- rollback events and job definitions named by content ------------------------------------


def test_every_endpoint_deployment_event_reaches_the_topic_from_this_rule_only():
    rec = run_component(
        lambda: AlertTopic(
            "alerts",
            {
                "kms_key_arn": LOGS_KEY,
                "emails": ["a@x.example"],
                "aws": AWS,
                "deployment_event_endpoints": ["fraud-scorer-prod", "Claims-Prod"],
            },
        )
    )
    rule = rec.one("aws:cloudwatch/eventRule:EventRule")
    pattern = json.loads(rule.inputs["eventPattern"])
    assert pattern == {
        "source": ["aws.sagemaker"],
        "detail-type": ["SageMaker Endpoint Deployment State Change"],
        "resources": [
            f"arn:aws:sagemaker:{REGION}:{ACCT}:endpoint/claims-prod",
            f"arn:aws:sagemaker:{REGION}:{ACCT}:endpoint/fraud-scorer-prod",
        ],
    }
    target = rec.one("aws:cloudwatch/eventTarget:EventTarget")
    topic = rec.one("aws:sns/topic:Topic")
    assert target.inputs["arn"] == topic.outputs["arn"]
    assert target.inputs["rule"] == rule.outputs["name"]
    statements = json.loads(rec.one("aws:sns/topicPolicy:TopicPolicy").inputs["policy"])[
        "Statement"
    ]
    [events] = [s for s in statements if s["Principal"] == {"Service": "events.amazonaws.com"}]
    assert events["Action"] == "sns:Publish" and events["Resource"] == topic.outputs["arn"]
    assert events["Condition"]["ArnEquals"] == {"aws:SourceArn": rule.outputs["arn"]}
    assert events["Condition"]["StringEquals"] == {"aws:SourceAccount": ACCT}


def test_no_rule_and_no_events_grant_without_endpoints():
    rec = run_component(
        lambda: AlertTopic(
            "alerts", {"kms_key_arn": LOGS_KEY, "emails": ["a@x.example"], "aws": AWS}
        )
    )
    assert rec.of_type("aws:cloudwatch/eventRule:EventRule") == []
    policy = json.loads(rec.one("aws:sns/topicPolicy:TopicPolicy").inputs["policy"])
    assert "events.amazonaws.com" not in json.dumps(policy)


def test_job_definition_is_named_after_its_content():
    job = "aws:sagemaker/dataQualityJobDefinition:DataQualityJobDefinition"
    first = run_component(lambda: DataQualityMonitor("dq", drift_args())).one(job)
    again = run_component(lambda: DataQualityMonitor("dq", drift_args())).one(job)
    assert (first.urn, first.outputs["name"]) == (again.urn, again.outputs["name"])
    moved = run_component(
        lambda: DataQualityMonitor(
            "dq", drift_args(data=drift_data(baseline_prefix="fraud-scorer/2.4.0/baseline/"))
        )
    )
    new = moved.one(job)
    # A new resource (new URN and name), so it is created before the old one is deleted,
    # and the schedule (same URN, updated in place) moves to it.
    assert new.urn != first.urn and new.outputs["name"] != first.outputs["name"]
    schedule = moved.one("aws:sagemaker/monitoringSchedule:MonitoringSchedule")
    assert (
        schedule.inputs["monitoringScheduleConfig"]["monitoringJobDefinitionName"]
        == (new.outputs["name"])
    )
    assert sm.SAGEMAKER_NAME.match(new.outputs["name"])
