"""Bedrock, guardrail, drift-source, invocation-log delivery and trail-heartbeat alarm rules:
one-change tests from a compliant fixture, and adversarial rewrites that keep the form and
drop the effect (no actions, wrong namespace or dimension, another model, silence read as OK)."""

from __future__ import annotations

import copy
import json

import pytest

from policies.rules import audit_logging as al
from policies.rules import monitoring as mon
from policies.rules.base import UNKNOWN, res

from .conftest import DELETE, stack_findings, stack_violations, with_change

ALARM = mon.ALARM
HAIKU = "anthropic.claude-3-haiku-20240307-v1:0"
GUARDRAIL_ARN = "arn:aws:bedrock:eu-west-2:111122223333:guardrail/g1"
TOPIC = ["arn:aws:sns:eu-west-2:111122223333:alerts"]


def alarm(name, namespace, metric, dims, **kw):
    return res(
        ALARM,
        {
            "namespace": namespace,
            "metricName": metric,
            "dimensions": dims,
            "alarmActions": TOPIC,
            "actionsEnabled": True,
            **kw,
        },
        name,
    )


def invoke_role(resources):
    doc = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": ["bedrock:InvokeModel"], "Resource": resources}
        ],
    }
    return res("aws:iam/rolePolicy:RolePolicy", {"policy": json.dumps(doc)}, "invoke")


HAIKU_ARN = f"arn:aws:bedrock:eu-west-2::foundation-model/{HAIKU}"


def model_alarms(mid=HAIKU):
    return [
        alarm(f"{mid}-{m}", "AWS/Bedrock", m, {"ModelId": mid})
        for m in ("InvocationLatency", "InvocationServerErrors", "InvocationThrottles")
    ]


class TestBedrockModelAlarms:
    def stack(self):
        return [invoke_role([HAIKU_ARN]), *model_alarms()]

    def test_compliant(self):
        assert stack_violations(mon.bedrock_model_alarms, self.stack()) == []

    @pytest.mark.parametrize(
        "i,label,metric",
        [
            (1, "latency", "InvocationLatency"),
            (2, "error", "InvocationServerErrors"),
            (3, "throttle", "InvocationThrottles"),
        ],
    )
    def test_each_missing_alarm(self, i, label, metric):
        stack = self.stack()
        del stack[i]
        assert stack_violations(mon.bedrock_model_alarms, stack) == [
            (
                None,
                f"Bedrock model {HAIKU} has no {label} alarm (AWS/Bedrock {metric}, ModelId={HAIKU}, with actions)",
            )
        ]

    def test_inference_profile_grant_needs_its_own_alarms(self):
        profile = "arn:aws:bedrock:eu-west-2:111122223333:inference-profile/eu.anthropic.claude-3-haiku-20240307-v1:0"
        stack = [invoke_role([HAIKU_ARN, profile]), *model_alarms()]
        got = stack_violations(mon.bedrock_model_alarms, stack)
        assert len(got) == 3 and all("eu.anthropic.claude-3-haiku" in m for _, m in got)

    @pytest.mark.parametrize(
        "change,value",
        [
            ("alarmActions", []),  # alarm with no actions
            ("actionsEnabled", False),
            ("namespace", "AWS/SageMaker"),  # wrong namespace
            ("dimensions", {"ModelId": "amazon.titan-embed-text-v2:0"}),  # another model
            ("dimensions", {"EndpointName": HAIKU}),  # wrong dimension
            ("dimensions", {"ModelId": HAIKU, "Extra": "x"}),  # a series Bedrock never publishes
        ],
    )
    def test_adversarial_latency_alarm_does_not_count(self, change, value):
        stack = self.stack()
        stack[1] = res(ALARM, with_change(stack[1].props, change, value), stack[1].name)
        [(_, message)] = stack_violations(mon.bedrock_model_alarms, stack)
        assert message.startswith(f"Bedrock model {HAIKU} has no latency alarm")

    def test_metric_math_alarm_counts(self):
        math = res(
            ALARM,
            {
                "alarmActions": TOPIC,
                "metricQueries": [
                    {
                        "id": "e",
                        "metric": {
                            "namespace": "AWS/Bedrock",
                            "metricName": "InvocationThrottles",
                            "dimensions": {"ModelId": HAIKU},
                        },
                    },
                    {"id": "r", "expression": "e"},
                ],
            },
            "math",
        )
        stack = [*self.stack()[:3], math]
        assert stack_violations(mon.bedrock_model_alarms, stack) == []

    def test_wildcard_grant_names_no_model_and_guardrail_alone_needs_some_alarm(self):
        g = res(mon.GUARDRAIL, {"guardrailArn": GUARDRAIL_ARN}, "g")
        assert stack_violations(
            mon.bedrock_model_alarms, [invoke_role(["arn:aws:bedrock:*::foundation-model/*"]), g]
        ) == [(None, "Bedrock is used but no AWS/Bedrock invocation metric is alarmed")]

    def test_unknown_dimensions_cannot_be_verified(self):
        stack = self.stack()
        stack[1] = res(ALARM, with_change(stack[1].props, "dimensions", UNKNOWN), stack[1].name)
        found = stack_findings(mon.bedrock_model_alarms, stack)
        assert [f.unknown for f in found] == [True]

    def test_no_bedrock_nothing_required(self):
        assert (
            stack_violations(
                mon.bedrock_model_alarms, [alarm("x", "AWS/SageMaker", "ModelLatency", {})]
            )
            == []
        )


class TestGuardrailAlarms:
    def stack(self):
        g = res(mon.GUARDRAIL, {"guardrailArn": GUARDRAIL_ARN}, "g")
        dims = {"GuardrailArn": GUARDRAIL_ARN, "GuardrailVersion": "1"}
        return [
            g,
            alarm("errors", "AWS/Bedrock/Guardrails", "InvocationServerErrors", dims),
            alarm("hits", "AWS/Bedrock/Guardrails", "InvocationsIntervened", dims),
        ]

    def test_compliant(self):
        assert stack_violations(mon.guardrail_alarms, self.stack()) == []

    def test_missing_server_error_alarm(self):
        stack = self.stack()
        del stack[1]
        assert stack_violations(mon.guardrail_alarms, stack) == [
            (
                "g",
                f"guardrail g has no server-error alarm (AWS/Bedrock/Guardrails InvocationServerErrors, GuardrailArn={GUARDRAIL_ARN}, with actions)",
            )
        ]

    @pytest.mark.parametrize(
        "change,value",
        [
            ("alarmActions", DELETE),
            ("namespace", "AWS/Bedrock"),
            ("dimensions.GuardrailArn", "arn:aws:bedrock:eu-west-2:111122223333:guardrail/other"),
            ("dimensions", {"GuardrailPolicyType": "ContentPolicy"}),
        ],
    )
    def test_adversarial_server_error_alarm(self, change, value):
        stack = self.stack()
        stack[1] = res(ALARM, with_change(stack[1].props, change, value), "errors")
        [(_, message)] = stack_violations(mon.guardrail_alarms, stack)
        assert "has no server-error alarm" in message

    def test_unknown_guardrail_arn(self):
        stack = self.stack()
        stack[0] = res(mon.GUARDRAIL, {"guardrailArn": UNKNOWN}, "g")
        assert [f.unknown for f in stack_findings(mon.guardrail_alarms, stack)] == [True]


def drift_check(state="ENABLED", endpoint="ep"):
    request = {"ProcessingJobName": "ep-drift-x", "Environment": {"ENDPOINT_NAME": endpoint}}
    return res(
        mon.SCHEDULER_SCHEDULE,
        {
            "name": "ep-drift",
            "state": state,
            "target": {
                "arn": "arn:aws:scheduler:::aws-sdk:sagemaker:createProcessingJob",
                "input": json.dumps(request),
            },
        },
        "check",
    )


M4_CFG = {"processingJobDriftNamespaces": ["RegulatedInference/ModelDrift"]}


class TestProcessingJobDriftSource:
    def stack(self):
        ep = res(mon.ENDPOINT, {"name": "ep"}, "ep")
        drift = alarm(
            "drift",
            "RegulatedInference/ModelDrift",
            "feature_baseline_drift_amount",
            {"Endpoint": "ep", "MonitoringSchedule": "ep-drift"},
            treatMissingData="breaching",
        )
        return [ep, drift_check(), drift]

    def test_compliant(self):
        assert stack_violations(mon.monitor_schedule, self.stack(), M4_CFG) == []

    NO_ALARM = (
        "ep",
        "endpoint ep has no drift alarm fed by its drift source (ep-drift): an alarm with actions "
        "on feature_baseline_drift_* {Endpoint=ep, MonitoringSchedule=<source>} in the source's "
        "namespace, not treating missing data as OK",
    )

    @pytest.mark.parametrize(
        "change,value",
        [
            ("alarmActions", []),
            ("namespace", mon.MODEL_MONITOR_NAMESPACE),  # nobody publishes there on this path
            ("dimensions.MonitoringSchedule", "other-check"),
            ("dimensions.Endpoint", "other-ep"),
            ("treatMissingData", "notBreaching"),  # a check that never ran would look fine
            ("treatMissingData", "ignore"),
        ],
    )
    def test_adversarial_drift_alarm(self, change, value):
        stack = self.stack()
        stack[2] = res(ALARM, with_change(stack[2].props, change, value), "drift")
        assert stack_violations(mon.monitor_schedule, stack, M4_CFG) == [self.NO_ALARM]

    def test_missing_treat_missing_data_is_cloudwatchs_default_missing(self):
        stack = self.stack()
        stack[2] = res(ALARM, with_change(stack[2].props, "treatMissingData", DELETE), "drift")
        assert stack_violations(mon.monitor_schedule, stack, M4_CFG) == []

    @pytest.mark.parametrize(
        "schedule",
        [
            drift_check(state="DISABLED"),
            drift_check(endpoint="another-endpoint"),
            res(
                mon.SCHEDULER_SCHEDULE,
                {
                    "name": "ep-drift",
                    "target": {
                        "arn": "arn:aws:lambda:eu-west-2:1:function:ep",
                        "input": '{"ep": "ep"}',
                    },
                },
                "check",
            ),
        ],
    )
    def test_not_a_drift_source_of_this_endpoint(self, schedule):
        stack = self.stack()
        stack[1] = schedule
        assert stack_violations(mon.monitor_schedule, stack, M4_CFG) == [
            (
                "ep",
                "endpoint ep has no drift source (Model Monitor schedule or scheduled processing-job drift check)",
            )
        ]

    def test_unknown_request_cannot_be_verified(self):
        stack = self.stack()
        stack[1] = res(
            mon.SCHEDULER_SCHEDULE, with_change(stack[1].props, "target.input", UNKNOWN), "check"
        )
        assert [f.unknown for f in stack_findings(mon.monitor_schedule, stack, M4_CFG)] == [True]


LOGGING = "aws:bedrockmodel/invocationLoggingConfiguration:InvocationLoggingConfiguration"


class TestInvocationLogDeliveryAlarms:
    def stack(self):
        logging = res(
            LOGGING,
            {
                "loggingConfig": {
                    "cloudwatchConfig": {"logGroupName": "lg"},
                    "s3Config": {"bucketName": "b"},
                    "textDataDeliveryEnabled": True,
                }
            },
            "logging",
        )
        return [
            logging,
            alarm("cw", "AWS/Bedrock", "ModelInvocationLogsCloudWatchDeliveryFailure", {}),
            alarm("s3", "AWS/Bedrock", "ModelInvocationLogsS3DeliveryFailure", {}),
        ]

    def test_compliant(self):
        assert stack_violations(al.invocation_log_delivery_alarms, self.stack()) == []

    def test_missing_s3_alarm(self):
        stack = self.stack()[:2]
        assert stack_violations(al.invocation_log_delivery_alarms, stack) == [
            (
                "logging",
                "invocation logs are delivered to S3 but no alarm with actions watches AWS/Bedrock ModelInvocationLogsS3DeliveryFailure (no dimensions): lost audit evidence goes unnoticed",
            )
        ]

    def test_no_s3_destination_needs_no_s3_alarm(self):
        stack = self.stack()
        stack[0] = res(
            LOGGING, with_change(stack[0].props, "loggingConfig.s3Config", DELETE), "logging"
        )
        assert stack_violations(al.invocation_log_delivery_alarms, stack[:2]) == []

    @pytest.mark.parametrize(
        "change,value",
        [("alarmActions", []), ("namespace", "AWS/Logs"), ("dimensions", {"ModelId": HAIKU})],
    )
    def test_adversarial(self, change, value):
        stack = self.stack()
        stack[1] = res(ALARM, with_change(stack[1].props, change, value), "cw")
        [(_, message)] = stack_violations(al.invocation_log_delivery_alarms, stack)
        assert "delivered to CloudWatch but no alarm" in message

    def test_unknown_or_unset_logging_config(self):
        pending = res(LOGGING, {"loggingConfig": UNKNOWN}, "logging")
        found = stack_findings(al.invocation_log_delivery_alarms, [pending])
        assert [(f.urn, f.message, f.unknown) for f in found] == [
            (
                pending.urn,
                "cannot verify until apply: loggingConfig is unknown during preview",
                True,
            )
        ]
        unset = res(LOGGING, {}, "logging")  # nothing delivered: no delivery alarm needed
        assert stack_findings(al.invocation_log_delivery_alarms, [unset]) == []


class TestTrailHeartbeat:
    def stack(self):
        trail = res(
            al.TRAIL,
            {"cloudWatchLogsGroupArn": "arn:aws:logs:eu-west-2:1:log-group:/trail:*"},
            "trail",
        )
        beat = alarm(
            "beat",
            "AWS/Logs",
            "IncomingLogEvents",
            {"LogGroupName": "/trail"},
            treatMissingData="breaching",
        )
        return [trail, beat]

    def test_compliant(self):
        assert stack_violations(al.trail_heartbeat, self.stack()) == []

    @pytest.mark.parametrize(
        "change,value",
        [
            ("treatMissingData", "notBreaching"),  # a stopped trail would look healthy
            ("treatMissingData", DELETE),  # default "missing": INSUFFICIENT_DATA, not ALARM
            ("alarmActions", []),
            ("dimensions.LogGroupName", "/other"),
            ("namespace", "AWS/CloudTrail"),
        ],
    )
    def test_adversarial(self, change, value):
        stack = self.stack()
        stack[1] = res(ALARM, with_change(stack[1].props, change, value), "beat")
        assert stack_violations(al.trail_heartbeat, stack) == [
            (
                "trail",
                "trail trail has no heartbeat: an alarm with actions on AWS/Logs IncomingLogEvents {LogGroupName=/trail} treating missing data as breaching",
            )
        ]

    def test_trail_without_cloudwatch_is_l3s_other_rule(self):
        assert stack_violations(al.trail_heartbeat, [res(al.TRAIL, {}, "trail")]) == []


class TestInvocationLoggingOwner:
    BEDROCK = res(
        "aws:bedrock/guardrail:Guardrail",
        {},
        "g",
        urn="urn:pulumi:team-b::proj::aws:bedrock/guardrail:Guardrail::g",
    )
    LOGGING = res(
        LOGGING,
        {"loggingConfig": {"cloudwatchConfig": {"logGroupName": "lg"}}},
        "l",
        urn=f"urn:pulumi:team-b::proj::{LOGGING}::l",
    )

    def test_owner_elsewhere_passes_without_logging(self):
        assert (
            stack_violations(
                al.bedrock_invocation_logging, [self.BEDROCK], {"bedrockLoggingOwner": "team-a"}
            )
            == []
        )

    def test_owner_here_or_unset_needs_logging(self):
        for cfg in ({"bedrockLoggingOwner": "team-b"}, {"bedrockLoggingOwner": ""}, None):
            assert stack_violations(al.bedrock_invocation_logging, [self.BEDROCK], cfg) == [
                (None, "Bedrock is used but model invocation logging is not configured")
            ]

    def test_non_owner_must_not_configure_logging(self):
        assert stack_violations(
            al.bedrock_invocation_logging,
            [self.BEDROCK, self.LOGGING],
            {"bedrockLoggingOwner": "team-a"},
        ) == [
            (
                "l",
                "this stack (team-b) configures Bedrock invocation logging, but the account's logging is owned by stack team-a: one of them overwrites the other",
            )
        ]


def test_policy_config_carries_the_owner_from_the_stack_config():
    from regulated_inference.preview.policy_config import generate

    base = {"regulated-inference:environment": "dev", "aws:region": "eu-west-2"}
    shared = {**base, "regulated-inference:account": json.dumps({"bedrockLoggingOwner": "team-a"})}
    assert generate(shared)["bedrock-invocation-logging"] == {
        "enforcementLevel": "mandatory",
        "bedrockLoggingOwner": "team-a",
    }
    assert "bedrock-invocation-logging" not in generate(copy.deepcopy(base))
