"""Logging and audit rules (L1-L11)."""

from __future__ import annotations

import pytest

from policies.rules import audit_logging as lg
from policies.rules.base import UNKNOWN, res
from policies.rules.stack_index import StackIndex

from .builders import DC_OK, KEY, bucket, model
from .conftest import DELETE, stack_violations, unknowns, violations, with_change

TRAIL = "aws:cloudtrail/trail:Trail"


def trail(**props):
    return res(TRAIL, {"s3BucketName": "audit", "enableLogFileValidation": True, **props}, "trail")


class TestCloudTrailEnabled:
    def test_default_selectors_log_management_events(self):
        assert stack_violations(lg.cloudtrail_enabled, [trail()]) == []

    def test_no_trail(self):
        assert stack_violations(lg.cloudtrail_enabled, [bucket("x")]) == [
            (None, "no CloudTrail trail in the stack: API activity is not audited")
        ]

    def test_management_events_excluded(self):
        t = trail(eventSelectors=[{"includeManagementEvents": False, "dataResources": []}])
        assert stack_violations(lg.cloudtrail_enabled, [t]) == [
            ("trail", "trail logs no management events (or logging is disabled)")
        ]

    def test_advanced_selector_management(self):
        t = trail(
            advancedEventSelectors=[
                {"fieldSelectors": [{"field": "eventCategory", "equals": ["Management"]}]}
            ]
        )
        assert stack_violations(lg.cloudtrail_enabled, [t]) == []


class TestTrailResourceRules:
    def test_validation(self):
        assert violations(lg.trail_validation, TRAIL, {"enableLogFileValidation": True}) == []
        assert violations(lg.trail_validation, TRAIL, {}) == [
            "enableLogFileValidation is not true: tampering with log files cannot be detected"
        ]

    def test_cloudwatch_delivery(self):
        ok = {
            "cloudWatchLogsGroupArn": "arn:aws:logs:eu-west-2:1:log-group:t:*",
            "cloudWatchLogsRoleArn": "arn:r",
        }
        assert violations(lg.trail_cloudwatch, TRAIL, ok) == []
        assert violations(
            lg.trail_cloudwatch, TRAIL, with_change(ok, "cloudWatchLogsRoleArn", DELETE)
        ) == ["cloudWatchLogsRoleArn is not set: events do not reach CloudWatch Logs"]
        assert len(violations(lg.trail_cloudwatch, TRAIL, {})) == 2


class TestDataEvents:
    def test_basic_selector_covers_bucket(self):
        t = trail(
            eventSelectors=[
                {
                    "dataResources": [
                        {"type": "AWS::S3::Object", "values": ["arn:aws:s3:::artifacts/"]}
                    ]
                }
            ]
        )
        assert stack_violations(lg.trail_data_events, [bucket("artifacts"), model(), t]) == []

    def test_advanced_selector_covers_bucket(self):
        t = trail(
            advancedEventSelectors=[
                {
                    "fieldSelectors": [
                        {"field": "eventCategory", "equals": ["Data"]},
                        {"field": "resources.type", "equals": ["AWS::S3::Object"]},
                        {"field": "resources.ARN", "startsWiths": ["arn:aws:s3:::artifacts/"]},
                    ]
                }
            ]
        )
        assert stack_violations(lg.trail_data_events, [bucket("artifacts"), model(), t]) == []

    def test_missing_data_events(self):
        assert stack_violations(lg.trail_data_events, [bucket("artifacts"), model(), trail()]) == [
            (
                "artifacts",
                "no trail logs S3 data events for bucket artifacts (model artifacts of m)",
            )
        ]

    def test_capture_bucket(self):
        ec = res(
            "aws:sagemaker/endpointConfiguration:EndpointConfiguration",
            {"dataCaptureConfig": {"destinationS3Uri": "s3://capture/ep"}},
            "ec",
        )
        assert stack_violations(lg.trail_data_events, [bucket("capture"), ec, trail()]) == [
            ("capture", "no trail logs S3 data events for bucket capture (data capture of ec)")
        ]


def audit_stack(mode="COMPLIANCE", days=365, versioned=True, pab=True, lock=True, enabled=True):
    rs = [bucket("audit", objectLockEnabled=enabled), trail()]
    if lock:
        rs.append(
            res(
                "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration",
                {"bucket": "audit", "rule": {"defaultRetention": {"mode": mode, "days": days}}},
                "lock",
            )
        )
    if versioned:
        rs.append(
            res(
                "aws:s3/bucketVersioning:BucketVersioning",
                {"bucket": "audit", "versioningConfiguration": {"status": "Enabled"}},
                "ver",
            )
        )
    if pab:
        rs.append(
            res(
                "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
                {
                    "bucket": "audit",
                    "blockPublicAcls": True,
                    "blockPublicPolicy": True,
                    "ignorePublicAcls": True,
                    "restrictPublicBuckets": True,
                },
                "pab",
            )
        )
    return rs


class TestAuditBucketWorm:
    CFG = {"allowedModes": ["COMPLIANCE"], "minRetentionDays": 365}

    def test_compliant(self):
        assert stack_violations(lg.audit_bucket_worm, audit_stack(), self.CFG) == []

    @pytest.mark.parametrize(
        "change,expected",
        [
            (
                {"mode": "GOVERNANCE"},
                ("lock", "audit bucket audit: retention mode GOVERNANCE not in ['COMPLIANCE']"),
            ),
            ({"days": 30}, ("lock", "audit bucket audit: default retention 30 days < 365")),
            ({"versioned": False}, ("audit", "audit bucket audit is not versioned")),
            ({"pab": False}, ("audit", "audit bucket audit does not block all public access")),
            (
                {"lock": False},
                (
                    "audit",
                    "audit bucket audit has no Object Lock configuration (default retention)",
                ),
            ),
            ({"enabled": False}, ("audit", "audit bucket audit: objectLockEnabled is not true")),
        ],
    )
    def test_each_property(self, change, expected):
        assert stack_violations(lg.audit_bucket_worm, audit_stack(**change), self.CFG) == [expected]

    def test_trail_bucket_outside_stack(self):
        assert stack_violations(lg.audit_bucket_worm, [trail()], self.CFG) == [
            ("trail", "audit bucket audit is not managed in this stack: WORM cannot be verified")
        ]


ILC = "aws:bedrockmodel/invocationLoggingConfiguration:InvocationLoggingConfiguration"


class TestBedrockInvocationLogging:
    def _guardrail(self):
        return res("aws:bedrock/guardrail:Guardrail", {"name": "g"}, "g")

    def test_compliant(self):
        log_group = res(
            "aws:cloudwatch/logGroup:LogGroup", {"name": "/bedrock", "kmsKeyId": KEY}, "lg"
        )
        c = res(
            ILC,
            {
                "loggingConfig": {
                    "textDataDeliveryEnabled": True,
                    "cloudwatchConfig": {"logGroupName": "/bedrock", "roleArn": "r"},
                }
            },
            "ilc",
        )
        assert (
            stack_violations(lg.bedrock_invocation_logging, [self._guardrail(), log_group, c]) == []
        )

    def test_bedrock_without_logging(self):
        assert stack_violations(lg.bedrock_invocation_logging, [self._guardrail()]) == [
            (None, "Bedrock is used but model invocation logging is not configured")
        ]

    def test_unencrypted_log_group_and_no_text(self):
        log_group = res("aws:cloudwatch/logGroup:LogGroup", {"name": "/bedrock"}, "lg")
        c = res(
            ILC,
            {
                "loggingConfig": {
                    "textDataDeliveryEnabled": False,
                    "cloudwatchConfig": {"logGroupName": "/bedrock"},
                }
            },
            "ilc",
        )
        assert stack_violations(lg.bedrock_invocation_logging, [log_group, c]) == [
            (
                "ilc",
                "loggingConfig.textDataDeliveryEnabled is false: prompts and completions are not logged",
            ),
            ("ilc", "invocation log group /bedrock is not KMS-encrypted"),
        ]

    def test_no_destination(self):
        c = res(ILC, {"loggingConfig": {"textDataDeliveryEnabled": True}}, "ilc")
        assert stack_violations(lg.bedrock_invocation_logging, [c]) == [
            ("ilc", "loggingConfig has no S3 or CloudWatch destination")
        ]


EC = "aws:sagemaker/endpointConfiguration:EndpointConfiguration"


class TestDataCapture:
    def test_compliant(self):
        assert violations(lg.data_capture, EC, DC_OK) == []

    def test_missing_block(self):
        assert violations(lg.data_capture, EC, {}) == [
            "dataCaptureConfig is not set: requests and responses are not recorded"
        ]

    @pytest.mark.parametrize(
        "path,value,message",
        [
            ("dataCaptureConfig.enableCapture", False, "dataCaptureConfig.enableCapture is false"),
            (
                "dataCaptureConfig.kmsKeyId",
                DELETE,
                "dataCaptureConfig.kmsKeyId is not set: captured data is not CMK-encrypted",
            ),
            (
                "dataCaptureConfig.destinationS3Uri",
                DELETE,
                "dataCaptureConfig.destinationS3Uri is not set",
            ),
            (
                "dataCaptureConfig.captureOptions.1",
                DELETE,
                "dataCaptureConfig.captureOptions does not capture Output",
            ),
            (
                "dataCaptureConfig.initialSamplingPercentage",
                0,
                "dataCaptureConfig.initialSamplingPercentage is 0",
            ),
        ],
    )
    def test_each_property(self, path, value, message):
        assert violations(lg.data_capture, EC, with_change(DC_OK, path, value)) == [message]


def logging_for(name, target="logs"):
    return res(
        "aws:s3/bucketLogging:BucketLogging",
        {"bucket": name, "targetBucket": target},
        f"{name}-logging",
    )


class TestAccessLogging:
    def test_log_bucket_exempt(self):
        stack = [bucket("data"), bucket("logs"), logging_for("data")]
        assert stack_violations(lg.bucket_access_logging, stack) == []

    def test_missing(self):
        stack = [bucket("data"), bucket("other"), bucket("logs"), logging_for("data")]
        assert stack_violations(lg.bucket_access_logging, stack) == [
            ("other", "bucket other has no access logging")
        ]


class TestVersioningLifecycle:
    @staticmethod
    def versioning(status: str):
        return res(
            "aws:s3/bucketVersioning:BucketVersioning",
            {"bucket": "b", "versioningConfiguration": {"status": status}},
            "v",
        )

    def test_compliant(self):
        stack = [
            bucket("b"),
            self.versioning("Enabled"),
            res(
                "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
                {"bucket": "b", "rules": [{"id": "r", "status": "Enabled"}]},
                "l",
            ),
        ]
        assert stack_violations(lg.bucket_versioning_lifecycle, stack) == []

    def test_suspended_and_no_lifecycle(self):
        stack = [bucket("b"), self.versioning("Suspended")]
        assert stack_violations(lg.bucket_versioning_lifecycle, stack) == [
            ("b", "bucket b is not versioned"),
            ("b", "bucket b has no lifecycle configuration"),
        ]


class TestRetention:
    LG = "aws:cloudwatch/logGroup:LogGroup"

    def test_compliant(self):
        assert (
            violations(
                lg.log_retention, self.LG, {"retentionInDays": 400}, {"minRetentionDays": 365}
            )
            == []
        )

    def test_too_short(self):
        assert violations(
            lg.log_retention, self.LG, {"retentionInDays": 90}, {"minRetentionDays": 365}
        ) == ["retentionInDays is 90, minimum 365"]

    def test_dev_minimum(self):
        assert (
            violations(lg.log_retention, self.LG, {"retentionInDays": 30}, {"minRetentionDays": 30})
            == []
        )

    def test_missing_means_never_expire(self):
        """Unset and 0 both mean "never expire" (pulumi-aws LogGroup.retention_in_days docs): compliant.

        Changed from asserting a finding (issue 11: no false positive on documented special values).
        """
        assert violations(lg.log_retention, self.LG, {}, {"minRetentionDays": 365}) == []
        assert (
            violations(lg.log_retention, self.LG, {"retentionInDays": 0}, {"minRetentionDays": 365})
            == []
        )

    def test_unknown(self):
        assert unknowns(lg.log_retention, self.LG, {"retentionInDays": UNKNOWN}) == [
            "cannot verify until apply: retentionInDays is unknown during preview"
        ]


class TestFlowLogs:
    def _vpc(self):
        return res("aws:ec2/vpc:Vpc", {"id": "vpc-1", "cidrBlock": "10.0.0.0/16"}, "vpc")

    def test_by_id(self):
        fl = res("aws:ec2/flowLog:FlowLog", {"vpcId": "vpc-1", "trafficType": "ALL"}, "fl")
        assert stack_violations(lg.vpc_flow_logs, [self._vpc(), fl]) == []

    def test_by_dependency(self):
        v = self._vpc()
        fl = res(
            "aws:ec2/flowLog:FlowLog",
            {"trafficType": "ALL"},
            "fl",
            property_dependencies={"vpcId": [v.urn]},
        )
        assert stack_violations(lg.vpc_flow_logs, [v, fl]) == []

    def test_missing(self):
        assert stack_violations(lg.vpc_flow_logs, [self._vpc()]) == [
            ("vpc", "VPC vpc has no flow log")
        ]


def test_unknown_used_as_known_is_cannot_verify_not_a_crash():
    t = trail(advancedEventSelectors=[{"fieldSelectors": UNKNOWN}])
    findings = lg.trail_data_events.evaluate(StackIndex([bucket("artifacts"), model(), t]), None)
    assert [(f.message, f.unknown) for f in findings] == [
        ("cannot verify until apply: a value this rule reads is unknown during preview", True)
    ]


class TestDataEventsDuringPreview:
    def test_unknown_uri_resolved_through_dependency(self):
        b = bucket("artifacts")
        m = res(
            "aws:sagemaker/model:Model",
            {"primaryContainer": {"modelDataUrl": UNKNOWN}},
            "m",
            property_dependencies={"primaryContainer": [b.urn]},
        )
        assert stack_violations(lg.trail_data_events, [b, m, trail()]) == [
            (
                "artifacts",
                "no trail logs S3 data events for bucket artifacts (model artifacts of m)",
            )
        ]

    def test_unknown_selector_arn_is_cannot_verify(self):
        t = trail(
            eventSelectors=[{"dataResources": [{"type": "AWS::S3::Object", "values": [UNKNOWN]}]}]
        )
        found = lg.trail_data_events.evaluate(StackIndex([bucket("artifacts"), model(), t]), None)
        assert [(f.unknown, f.message) for f in found] == [
            (
                True,
                "cannot verify until apply: advancedEventSelectors/eventSelectors is unknown during preview "
                "(data events for bucket artifacts)",
            )
        ]

    def test_unknown_uri_without_dependency_is_cannot_verify(self):
        m = res("aws:sagemaker/model:Model", {"primaryContainer": {"modelDataUrl": UNKNOWN}}, "m")
        found = lg.trail_data_events.evaluate(StackIndex([m, trail()]), None)
        assert [f.unknown for f in found] == [True]
