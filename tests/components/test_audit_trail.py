"""AuditTrail: validation, KMS, CloudWatch delivery, data events on model and capture buckets."""

from __future__ import annotations

import pytest

from regulated_inference.components.audit_trail import S3_KEY_PREFIX, AuditTrail, delivery_prefix
from regulated_inference.lib.errors import ComponentArgsError
from tests.conftest import run_component

ARGS = {
    "trail_name": "t-audit",
    "aws": {"partition": "aws", "region": "eu-west-2", "account_id": "111122223333"},
    "audit_bucket_name": "audit-bucket",
    "audit_kms_key_arn": "arn:aws:kms:eu-west-2:111122223333:key/a",
    "logs_kms_key_arn": "arn:aws:kms:eu-west-2:111122223333:key/l",
    "log_group_name": "/regulated-inference/test/cloudtrail",
    "log_retention_days": 400,
    "data_event_bucket_arns": ["arn:aws:s3:::models-1", "arn:aws:s3:::capture-1"],
}


@pytest.fixture(scope="module")
def rec():
    return run_component(lambda: AuditTrail("a", dict(ARGS)))


def test_trail_is_validated_encrypted_and_delivers_to_logs(rec):
    trail = rec.one("aws:cloudtrail/trail:Trail")
    t = trail.inputs
    assert t["enableLogFileValidation"] is True and t["enableLogging"] is True
    assert t["kmsKeyId"] == ARGS["audit_kms_key_arn"] and t["s3BucketName"] == "audit-bucket"
    lg = rec.one("aws:cloudwatch/logGroup:LogGroup")
    assert t["cloudWatchLogsGroupArn"] == lg.outputs["arn"] + ":*"
    assert lg.inputs["kmsKeyId"] == ARGS["logs_kms_key_arn"] and lg.inputs["retentionInDays"] == 400
    assert t["cloudWatchLogsRoleArn"] == rec.one("aws:iam/role:Role").outputs["arn"]
    assert (
        trail.outputs["arn"]
        == "arn:aws:cloudtrail:eu-west-2:" + trail.outputs["arn"].split(":")[4] + ":trail/t-audit"
    )


def test_outputs_name_the_trail_and_its_log_group(rec):
    lg = rec.one("aws:cloudwatch/logGroup:LogGroup")
    out = rec.one("regulated-inference:index:AuditTrail").outputs
    assert out == {
        "trailArn": rec.one("aws:cloudtrail/trail:Trail").outputs["arn"],
        "logGroupArn": lg.outputs["arn"],
        "logGroupName": ARGS["log_group_name"],
    }
    assert lg.inputs["name"] == ARGS["log_group_name"]


def test_delivery_prefix_is_where_cloudtrail_writes_under_the_trail_prefix(rec):
    assert rec.one("aws:cloudtrail/trail:Trail").inputs["s3KeyPrefix"] == S3_KEY_PREFIX
    assert delivery_prefix("111122223333") == f"{S3_KEY_PREFIX}/AWSLogs/111122223333/"


def test_management_and_data_events(rec):
    selectors = rec.one("aws:cloudtrail/trail:Trail").inputs["advancedEventSelectors"]
    mgmt, data = selectors
    assert mgmt["fieldSelectors"] == [{"field": "eventCategory", "equals": ["Management"]}]
    fields = {f["field"]: f for f in data["fieldSelectors"]}
    assert fields["eventCategory"]["equals"] == ["Data"]
    assert fields["resources.type"]["equals"] == ["AWS::S3::Object"]
    assert fields["resources.ARN"]["startsWiths"] == [
        "arn:aws:s3:::models-1/",
        "arn:aws:s3:::capture-1/",
    ]


@pytest.mark.parametrize(
    "change,arg",
    [
        ({"data_event_bucket_arns": []}, "data_event_bucket_arns"),
        ({"trail_name": ""}, "trail_name"),
    ],
)
def test_invalid_args(change, arg):
    with pytest.raises(ComponentArgsError) as info:
        run_component(lambda: AuditTrail("a", {**ARGS, **change}))
    assert info.value.arg == arg
