"""Logging and audit (L1-L11) judged by what is recorded, kept and encrypted, not by which field is set.

Anchors: cloudtrail-enabled / multi-region-cloudtrail-enabled (management read+write events in every
region), cloudtrail-s3-dataevents-enabled, CKV_AWS_338 / cw-loggroup-retention-period-check (0 = never
expire is compliant), CKV_AWS_18/21, CKV2_AWS_11 (flow logs, ALL traffic).
"""

from __future__ import annotations

import pytest

from policies.rules import audit_logging as lg
from policies.rules.base import UNKNOWN, res

from ..builders import DC_OK, bucket, model
from ..conftest import DELETE, stack_violations, unknowns, violations, with_change

TRAIL = lg.TRAIL
EC = lg.ENDPOINT_CONFIG
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"


def trail(**props):
    return res(TRAIL, {"s3BucketName": "audit", "isMultiRegionTrail": True, **props}, "trail")


def mgmt(*extra):
    return {"fieldSelectors": [{"field": "eventCategory", "equals": ["Management"]}, *extra]}


NO_MGMT = ("trail", "trail logs no management events (or logging is disabled)")


class TestManagementEvents:
    @pytest.mark.parametrize(
        "props",
        [
            {"eventSelectors": [{"readWriteType": "ReadOnly"}]},
            {"eventSelectors": [{"readWriteType": "ReadOnly", "includeManagementEvents": True}]},
            {"eventSelectors": [{"excludeManagementEventSources": ["kms.amazonaws.com"]}]},
            {"advancedEventSelectors": [mgmt({"field": "readOnly", "equals": ["true"]})]},
            {"advancedEventSelectors": [mgmt({"field": "readOnly", "notEquals": ["false"]})]},
            {
                "advancedEventSelectors": [
                    mgmt({"field": "eventSource", "notEquals": ["kms.amazonaws.com"]})
                ]
            },
            {
                "advancedEventSelectors": [
                    {"fieldSelectors": [{"field": "eventCategory", "equals": ["Data"]}]}
                ]
            },
            {"enableLogging": False},
        ],
    )
    def test_rewrites_that_drop_write_events(self, props):
        assert stack_violations(lg.cloudtrail_enabled, [trail(**props)]) == [NO_MGMT]

    @pytest.mark.parametrize(
        "props",
        [
            {},
            {"eventSelectors": [{"readWriteType": "All"}]},
            {"eventSelectors": [{"readWriteType": "WriteOnly"}]},
            {"eventSelectors": [{"readWriteType": "ReadOnly"}, {"readWriteType": "WriteOnly"}]},
            {"advancedEventSelectors": [mgmt({"field": "readOnly", "equals": ["false"]})]},
            {"advancedEventSelectors": [mgmt()]},
        ],
    )
    def test_rewrites_that_keep_write_events(self, props):
        assert stack_violations(lg.cloudtrail_enabled, [trail(**props)]) == []

    def test_single_region_trail(self):
        t = res(TRAIL, {"s3BucketName": "audit"}, "trail")  # provider default: single-Region
        assert stack_violations(lg.cloudtrail_multi_region, [t]) == [
            (
                "trail",
                "isMultiRegionTrail is not true: API activity in other regions is not recorded",
            )
        ]
        assert stack_violations(lg.cloudtrail_multi_region, [trail()]) == []

    def test_multi_region_trail_that_records_nothing_does_not_count(self):
        quiet = res(TRAIL, {"isMultiRegionTrail": True, "enableLogging": False}, "quiet")
        single = res(TRAIL, {"isMultiRegionTrail": False}, "trail")
        assert stack_violations(lg.cloudtrail_multi_region, [quiet, single]) == [
            (
                "trail",
                "isMultiRegionTrail is not true: API activity in other regions is not recorded",
            )
        ]

    def test_unknown_multi_region(self):
        t = res(TRAIL, {"isMultiRegionTrail": UNKNOWN}, "trail")
        assert [
            f.unknown
            for f in lg.cloudtrail_multi_region.evaluate(
                __import__("policies.rules.stack_index", fromlist=["StackIndex"]).StackIndex([t])
            )
        ] == [True]


MISSING = ("artifacts", "no trail logs S3 data events for bucket artifacts (model artifacts of m)")


def data(*fields):
    return {
        "fieldSelectors": [
            {"field": "eventCategory", "equals": ["Data"]},
            {"field": "resources.type", "equals": ["AWS::S3::Object"]},
            *fields,
        ]
    }


class TestDataEvents:
    @pytest.mark.parametrize(
        "props",
        [
            # a prefix inside the bucket records only part of it
            {
                "eventSelectors": [
                    {
                        "dataResources": [
                            {
                                "type": "AWS::S3::Object",
                                "values": ["arn:aws:s3:::artifacts/models/"],
                            }
                        ]
                    }
                ]
            },
            # reads only: a copied model leaves no record... writes only: a download leaves none
            {
                "eventSelectors": [
                    {
                        "readWriteType": "WriteOnly",
                        "dataResources": [
                            {"type": "AWS::S3::Object", "values": ["arn:aws:s3:::artifacts/"]}
                        ],
                    }
                ]
            },
            # another bucket whose name merely starts the same
            {
                "eventSelectors": [
                    {
                        "dataResources": [
                            {"type": "AWS::S3::Object", "values": ["arn:aws:s3:::artifacts-old/"]}
                        ]
                    }
                ]
            },
            # Equals names one object ARN, not the bucket
            {
                "advancedEventSelectors": [
                    data({"field": "resources.ARN", "equals": ["arn:aws:s3:::artifacts/"]})
                ]
            },
            # every bucket but this one
            {
                "advancedEventSelectors": [
                    data({"field": "resources.ARN", "notStartsWiths": ["arn:aws:s3:::artifacts/"]})
                ]
            },
            # the bucket, minus a prefix of it
            {
                "advancedEventSelectors": [
                    data(
                        {
                            "field": "resources.ARN",
                            "startsWiths": ["arn:aws:s3:::artifacts/"],
                            "notStartsWiths": ["arn:aws:s3:::artifacts/secret/"],
                        }
                    )
                ]
            },
            # only some operations
            {"advancedEventSelectors": [data({"field": "eventName", "equals": ["PutObject"]})]},
            {"advancedEventSelectors": [data({"field": "readOnly", "equals": ["true"]})]},
            # Lambda data events are not S3 object events
            {
                "eventSelectors": [
                    {
                        "dataResources": [
                            {"type": "AWS::Lambda::Function", "values": ["arn:aws:lambda"]}
                        ]
                    }
                ]
            },
            # a stopped trail records nothing
            {
                "enableLogging": False,
                "eventSelectors": [
                    {"dataResources": [{"type": "AWS::S3::Object", "values": ["arn:aws:s3:::"]}]}
                ],
            },
        ],
    )
    def test_partial_coverage_is_caught(self, props):
        assert stack_violations(
            lg.trail_data_events, [bucket("artifacts"), model(), trail(**props)]
        ) == [MISSING]

    @pytest.mark.parametrize(
        "props",
        [
            {
                "eventSelectors": [
                    {"dataResources": [{"type": "AWS::S3::Object", "values": ["arn:aws:s3"]}]}
                ]
            },
            {
                "eventSelectors": [
                    {"dataResources": [{"type": "AWS::S3::Object", "values": ["arn:aws:s3:::"]}]}
                ]
            },
            {
                "eventSelectors": [
                    {
                        "readWriteType": "ReadOnly",
                        "dataResources": [
                            {"type": "AWS::S3::Object", "values": ["arn:aws:s3:::artifacts/"]}
                        ],
                    },
                    {
                        "readWriteType": "WriteOnly",
                        "dataResources": [
                            {"type": "AWS::S3::Object", "values": ["arn:aws:s3:::artifacts/"]}
                        ],
                    },
                ]
            },
            {"advancedEventSelectors": [data()]},  # every S3 object
            {
                "advancedEventSelectors": [
                    data({"field": "resources.ARN", "startsWiths": ["arn:aws:s3:::art"]})
                ]
            },
            {
                "advancedEventSelectors": [
                    data(
                        {
                            "field": "resources.ARN",
                            "startsWiths": ["arn:aws:s3:::artifacts/"],
                            "notStartsWiths": ["arn:aws:s3:::other/"],
                        }
                    )
                ]
            },
            {
                "advancedEventSelectors": [
                    data({"field": "readOnly", "equals": ["true"]}),
                    data({"field": "readOnly", "equals": ["false"]}),
                ]
            },
        ],
    )
    def test_equivalent_full_coverage_passes(self, props):
        assert (
            stack_violations(lg.trail_data_events, [bucket("artifacts"), model(), trail(**props)])
            == []
        )


class TestCapture:
    def test_input_and_output_mode_is_both(self):
        props = with_change(
            DC_OK, "dataCaptureConfig.captureOptions", [{"captureMode": "InputAndOutput"}]
        )
        assert violations(lg.data_capture, EC, props) == []

    @pytest.mark.parametrize(
        "path,value,message",
        [
            (
                "dataCaptureConfig.enableCapture",
                DELETE,
                "dataCaptureConfig.enableCapture is not set (defaults to false): nothing is captured",
            ),
            (
                "dataCaptureConfig.kmsKeyId",
                "alias/aws/s3",
                "dataCaptureConfig.kmsKeyId alias/aws/s3 is an AWS-managed key, not a CMK",
            ),
            (
                "dataCaptureConfig.captureOptions",
                [{"captureMode": "Input"}, {"captureMode": "Input"}],
                "dataCaptureConfig.captureOptions does not capture Output",
            ),
            (
                "dataCaptureConfig.initialSamplingPercentage",
                DELETE,
                "dataCaptureConfig.initialSamplingPercentage is not set",
            ),
            (
                "dataCaptureConfig.initialSamplingPercentage",
                -5,
                "dataCaptureConfig.initialSamplingPercentage is 0",
            ),
        ],
    )
    def test_rewrites_that_capture_less(self, path, value, message):
        assert violations(lg.data_capture, EC, with_change(DC_OK, path, value)) == [message]


class TestRetention:
    @pytest.mark.parametrize(
        "props",
        [
            {},
            {"retentionInDays": 0},
            {"retentionInDays": 3653},
            {"retentionInDays": 365, "logGroupClass": "STANDARD"},
        ],
    )
    def test_never_expire_and_long_retention_pass(self, props):
        assert violations(lg.log_retention, LOG_GROUP, props, {"minRetentionDays": 365}) == []

    def test_delivery_class_forces_two_days(self):
        props = {"retentionInDays": 3653, "logGroupClass": "DELIVERY"}
        assert violations(lg.log_retention, LOG_GROUP, props, {"minRetentionDays": 365}) == [
            "logGroupClass DELIVERY keeps logs for 2 days, minimum 365"
        ]

    def test_string_days_are_not_a_number(self):
        assert violations(
            lg.log_retention, LOG_GROUP, {"retentionInDays": "400"}, {"minRetentionDays": 365}
        ) == ["retentionInDays is 400, minimum 365"]


def _versioning(name, status, type_="aws:s3/bucketVersioning:BucketVersioning"):
    return res(
        type_, {"bucket": name, "versioningConfiguration": {"status": status}}, f"{name}-v-{status}"
    )


def _lifecycle(name):
    return res(
        "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
        {"bucket": name, "rules": []},
        f"{name}-l",
    )


class TestBuckets:
    def test_v2_alias_and_inline_versioning(self):
        stack = [
            bucket("a"),
            _versioning("a", "Enabled", "aws:s3/bucketVersioningV2:BucketVersioningV2"),
            _lifecycle("a"),
            bucket("b", versioning={"enabled": True}),
            _lifecycle("b"),
        ]
        assert stack_violations(lg.bucket_versioning_lifecycle, stack) == []

    def test_suspended_anywhere_is_not_versioned(self):
        stack = [
            bucket("a"),
            _versioning("a", "Enabled"),
            _versioning("a", "Suspended"),
            _lifecycle("a"),
            bucket("b", versioning={"enabled": False}),
            _lifecycle("b"),
        ]
        assert stack_violations(lg.bucket_versioning_lifecycle, stack) == [
            ("a", "bucket a is not versioned"),
            ("b", "bucket b is not versioned"),
        ]

    def test_inline_and_v2_logging_count(self):
        stack = [
            bucket("a", logging={"targetBucket": "logs"}),
            bucket("b"),
            res(
                "aws:s3/bucketLoggingV2:BucketLoggingV2",
                {"bucket": "b", "targetBucket": "logs"},
                "bl",
            ),
            bucket("logs"),
        ]
        assert stack_violations(lg.bucket_access_logging, stack) == []

    def test_logging_resource_without_target_is_not_logging(self):
        stack = [bucket("a"), res("aws:s3/bucketLogging:BucketLogging", {"bucket": "a"}, "bl")]
        assert stack_violations(lg.bucket_access_logging, stack) == [
            ("a", "bucket a has no access logging")
        ]


class TestFlowLogs:
    def _vpc(self):
        return res("aws:ec2/vpc:Vpc", {"id": "vpc-1"}, "vpc")

    @pytest.mark.parametrize("traffic", ["REJECT", "ACCEPT"])
    def test_half_the_traffic(self, traffic):
        fl = res("aws:ec2/flowLog:FlowLog", {"vpcId": "vpc-1", "trafficType": traffic}, "fl")
        assert stack_violations(lg.vpc_flow_logs, [self._vpc(), fl]) == [
            ("vpc", f"VPC vpc: flow log records only {traffic} traffic (trafficType must be ALL)")
        ]

    def test_subnet_flow_log_does_not_cover_the_vpc(self):
        fl = res("aws:ec2/flowLog:FlowLog", {"subnetId": "subnet-1", "trafficType": "ALL"}, "fl")
        assert stack_violations(lg.vpc_flow_logs, [self._vpc(), fl]) == [
            ("vpc", "VPC vpc has no flow log")
        ]

    def test_all_plus_reject_is_covered(self):
        fls = [
            res("aws:ec2/flowLog:FlowLog", {"vpcId": "vpc-1", "trafficType": t}, f"fl{t}")
            for t in ("REJECT", "ALL")
        ]
        assert stack_violations(lg.vpc_flow_logs, [self._vpc(), *fls]) == []


class TestInvocationLogging:
    def test_aws_managed_key_on_log_group_is_not_encryption(self):
        lgr = res(
            LOG_GROUP,
            {"name": "bedrock", "kmsKeyId": "arn:aws:kms:eu-west-2:1:alias/aws/logs"},
            "lg",
        )
        c = res(
            lg.BEDROCK_LOGGING,
            {
                "loggingConfig": {
                    "cloudwatchConfig": {"logGroupName": "bedrock"},
                    "textDataDeliveryEnabled": True,
                }
            },
            "c",
        )
        assert stack_violations(lg.bedrock_invocation_logging, [lgr, c]) == [
            ("c", "invocation log group bedrock is not KMS-encrypted")
        ]


def test_unknown_enable_capture_is_reported():
    props = with_change(DC_OK, "dataCaptureConfig.enableCapture", UNKNOWN)
    assert unknowns(lg.data_capture, EC, props) == [
        "cannot verify until apply: dataCaptureConfig.enableCapture is unknown during preview"
    ]
