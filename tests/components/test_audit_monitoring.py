"""AuditEvidenceAlarms: the audit trail watches itself (silence = no evidence)."""

from __future__ import annotations

import pytest

from regulated_inference.components.audit_monitoring import AuditEvidenceAlarms
from regulated_inference.simulation.engine import Recording
from tests.components.helpers import TOPIC, alarms_by_name, assert_refused, recorded, with_changes
from tests.conftest import run_component

FILTER = "aws:cloudwatch/logMetricFilter:LogMetricFilter"
BUCKET_METRIC = "aws:s3/bucketMetric:BucketMetric"
PREFIX = "ri-prod"
TRAIL_LOGS = "/regulated-inference/prod/cloudtrail"


def audit_args(**change) -> dict:
    return with_changes(
        {
            "name_prefix": PREFIX,
            "alarm_topic_arn": TOPIC,
            "trail_log_group_name": TRAIL_LOGS,
            "audit_bucket_name": "audit-worm",
            "bedrock_model_ids": ["amazon.titan-text-express-v1"],
            "capture_bucket_name": "capture-bucket",
            "capture_prefixes": ["capture/fraud-scorer-prod/", "capture/triage-prod"],
        },
        change,
    )


rec = recorded(lambda: AuditEvidenceAlarms("audit", audit_args()))


def alarms(rec: Recording) -> dict[str, dict]:
    return alarms_by_name(rec, PREFIX + "-")


def test_every_alarm_notifies_the_topic_with_explicit_missing_data(rec):
    a = alarms(rec)
    assert set(a) == {
        "bedrock-ModelInvocationLogsCloudWatchDeliveryFailure",
        "bedrock-ModelInvocationLogsS3DeliveryFailure",
        "bedrock-ModelInvocationLargeDataS3DeliveryFailure",
        "bedrock-invocation-logs-silent",
        "trail-heartbeat",
        "trail-s3-heartbeat",
        "trail-configuration-changes",
        "invocation-logging-changes",
        "data-capture-disabled",
        "capture-heartbeat-0",
        "capture-heartbeat-1",
    }
    for alarm in a.values():
        assert alarm["actionsEnabled"] is True
        assert alarm["alarmActions"] == [TOPIC] and alarm["okActions"] == [TOPIC]
        assert alarm["treatMissingData"] in ("breaching", "notBreaching")


def test_bedrock_delivery_failures_alarm_on_any_failure(rec):
    for metric in (
        "ModelInvocationLogsCloudWatchDeliveryFailure",
        "ModelInvocationLogsS3DeliveryFailure",
    ):
        alarm = alarms(rec)[f"bedrock-{metric}"]
        assert alarm["namespace"] == "AWS/Bedrock" and alarm["metricName"] == metric
        assert "dimensions" not in alarm  # published "Across all model IDs"
        assert alarm["statistic"] == "Sum" and alarm["threshold"] == 0
        assert alarm["comparisonOperator"] == "GreaterThanThreshold"


def test_invoked_but_not_logged_is_an_alarm(rec):
    alarm = alarms(rec)["bedrock-invocation-logs-silent"]
    q = {x["id"]: x for x in alarm["metricQueries"]}
    assert q["i0"]["metric"]["dimensions"] == {"ModelId": "amazon.titan-text-express-v1"}
    assert q["ok"]["metric"]["metricName"] == "ModelInvocationLogsCloudWatchDeliverySuccess"
    assert q["silent"]["expression"] == "IF(FILL(SUM([i0]), 0) > 0 AND FILL(ok, 0) == 0, 1, 0)"


def test_trail_heartbeats_treat_silence_as_breaching(rec):
    a = alarms(rec)
    beat = a["trail-heartbeat"]
    assert beat["namespace"] == "AWS/Logs" and beat["metricName"] == "IncomingLogEvents"
    assert beat["dimensions"] == {"LogGroupName": TRAIL_LOGS}
    assert beat["treatMissingData"] == "breaching"
    assert beat["comparisonOperator"] == "LessThanThreshold" and beat["threshold"] == 1
    assert beat["period"] == 3600 and beat["evaluationPeriods"] == 1
    s3 = a["trail-s3-heartbeat"]
    assert s3["namespace"] == "AWS/S3" and s3["metricName"] == "PutRequests"
    assert s3["dimensions"] == {
        "BucketName": "audit-worm",
        "FilterId": "ri-prod-trail-s3-heartbeat",
    }
    assert s3["treatMissingData"] == "breaching"
    configs = {m.inputs["name"]: m.inputs for m in rec.of_type(BUCKET_METRIC)}
    assert configs["ri-prod-trail-s3-heartbeat"]["bucket"] == "audit-worm"
    assert configs["ri-prod-trail-s3-heartbeat"]["filter"] == {"prefix": "cloudtrail/"}


def test_metric_filters_on_the_trail_log_group(rec):
    filters = {f.inputs["name"].removeprefix(PREFIX + "-"): f.inputs for f in rec.of_type(FILTER)}
    assert set(filters) == {
        "TrailConfigurationChanges",
        "InvocationLoggingChanges",
        "DataCaptureDisabled",
    }
    for name, f in filters.items():
        assert f["logGroupName"] == TRAIL_LOGS
        assert f["metricTransformation"] == {
            "name": name,
            "namespace": "RegulatedInference/AuditEvidence",
            "value": "1",
            "unit": "Count",
        }
    assert '$.eventName = "StopLogging"' in filters["TrailConfigurationChanges"]["pattern"]
    assert (
        '$.eventName = "DeleteModelInvocationLoggingConfiguration"'
        in filters["InvocationLoggingChanges"]["pattern"]
    )
    assert (
        "$.requestParameters.dataCaptureConfig.enableCapture IS FALSE"
        in filters["DataCaptureDisabled"]["pattern"]
    )
    alarm = alarms(rec)["data-capture-disabled"]
    assert alarm["namespace"] == "RegulatedInference/AuditEvidence"
    assert alarm["metricName"] == "DataCaptureDisabled" and alarm["threshold"] == 0


def test_capture_heartbeat_per_endpoint_prefix(rec):
    a = alarms(rec)
    configs = {m.inputs["name"]: m.inputs for m in rec.of_type(BUCKET_METRIC)}
    assert configs["ri-prod-capture-heartbeat-1"]["filter"] == {"prefix": "capture/triage-prod/"}
    beat = a["capture-heartbeat-1"]
    assert beat["dimensions"] == {
        "BucketName": "capture-bucket",
        "FilterId": "ri-prod-capture-heartbeat-1",
    }
    assert beat["treatMissingData"] == "breaching"
    assert beat["evaluationPeriods"] == 24 and beat["datapointsToAlarm"] == 24


def test_without_invocation_logging_no_bedrock_alarms():
    rec = run_component(
        lambda: AuditEvidenceAlarms(
            "a", audit_args(invocation_logging=False, bedrock_model_ids=[], capture_prefixes=[])
        )
    )
    names = set(alarms(rec))
    assert not any(n.startswith("bedrock-") or n == "invocation-logging-changes" for n in names)
    assert {"trail-heartbeat", "trail-s3-heartbeat", "trail-configuration-changes"} <= names


@pytest.mark.parametrize(
    "change,arg,fragment",
    [
        ({"alarm_topic_arn": ""}, "alarm_topic_arn", "M1"),
        ({"trail_log_group_name": ""}, "trail_log_group_name", "required"),
        ({"name_prefix": "Bad_Prefix"}, "name_prefix", "lower-case"),
        ({"bedrock_model_ids": ["m"] * 2}, "bedrock_model_ids", "distinct"),
        ({"capture_bucket_name": None}, "capture_bucket_name", "with capture_prefixes"),
        ({"capture_prefixes": ["/"]}, "capture_prefixes", "never the whole bucket"),
        ({"capture_silence_hours": 48}, "capture_silence_hours", "1–24"),
        ({"trail_s3_prefix": ""}, "trail_s3_prefix", "not the whole bucket"),
    ],
)
def test_invalid_args(change, arg, fragment):
    assert_refused(lambda: AuditEvidenceAlarms("bad", audit_args(**change)), arg, fragment)
