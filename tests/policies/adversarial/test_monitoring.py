"""Monitoring and safe rollout (M1-M7) against rewrites that keep the form and drop the effect.

Anchors: CKV_AWS_319 / cloudwatch-alarm-action-check (an alarm with no live action notifies nobody),
sagemaker-endpoint-config-prod-instance-count (a floor that autoscaling must not undercut).
"""

from __future__ import annotations

import pytest

from policies.rules import monitoring as mon
from policies.rules.base import UNKNOWN, res

from ..builders import DEPLOY_OK
from ..conftest import stack_violations, unknowns, violations, with_change

ALARM = mon.ALARM
COMPOSITE = "aws:cloudwatch/compositeAlarm:CompositeAlarm"
EC = mon.ENDPOINT_CONFIG
PROD = {"minInstances": 2}


class TestAlarmActions:
    @pytest.mark.parametrize("actions", [[], [""], ["  "], [None], ""])
    def test_actions_that_notify_nobody(self, actions):
        assert violations(mon.alarm_actions, ALARM, {"alarmActions": actions}) == [
            "alarmActions is empty: nobody is notified"
        ]

    def test_composite_alarm_disabled(self):
        props = {"alarmActions": ["arn:aws:sns:eu-west-2:1:t"], "actionsEnabled": False}
        assert violations(mon.alarm_actions, COMPOSITE, props) == ["actionsEnabled is false"]

    def test_single_string_action_passes(self):
        assert (
            violations(mon.alarm_actions, ALARM, {"alarmActions": "arn:aws:sns:eu-west-2:1:t"})
            == []
        )

    def test_unknown_action_list_is_set(self):
        assert violations(mon.alarm_actions, ALARM, {"alarmActions": UNKNOWN}) == []


def variant(**kw):
    return {"variantName": "v", "instanceType": "ml.g5.xlarge", "initialInstanceCount": 2, **kw}


class TestScalingFloor:
    TARGET = mon.SCALABLE_TARGET
    ACTION = mon.SCHEDULED_ACTION
    SAGEMAKER = {
        "serviceNamespace": "sagemaker",
        "scalableDimension": "sagemaker:variant:DesiredInstanceCount",
        "resourceId": "endpoint/ep/variant/v",
    }

    @pytest.mark.parametrize("low", [1, 0])
    def test_autoscaling_target_below_the_floor(self, low):
        props = {**self.SAGEMAKER, "minCapacity": low, "maxCapacity": 4}
        assert violations(mon.multi_instance, self.TARGET, props, PROD) == [
            f"minCapacity is {low} for endpoint/ep/variant/v, minimum 2: autoscaling can shrink the variant below it"
        ]

    def test_scheduled_action_below_the_floor(self):
        props = {
            **self.SAGEMAKER,
            "schedule": "cron(0 20 * * ? *)",
            "scalableTargetAction": {"minCapacity": 1},
        }
        assert violations(mon.multi_instance, self.ACTION, props, PROD) == [
            "scalableTargetAction.minCapacity is 1 for endpoint/ep/variant/v, minimum 2: autoscaling can shrink "
            "the variant below it"
        ]

    def test_managed_instance_scaling_to_zero(self):
        props = {
            "productionVariants": [
                variant(
                    managedInstanceScaling={
                        "status": "ENABLED",
                        "minInstanceCount": 0,
                        "maxInstanceCount": 4,
                    }
                )
            ]
        }
        assert violations(mon.multi_instance, EC, props, PROD) == [
            "productionVariants[0].managedInstanceScaling.minInstanceCount is 0, minimum 2: managed scaling can "
            "shrink the variant below it"
        ]

    @pytest.mark.parametrize(
        "type_,props",
        [
            (TARGET, {**SAGEMAKER, "minCapacity": 2, "maxCapacity": 4}),
            (
                TARGET,
                {
                    "serviceNamespace": "ecs",
                    "scalableDimension": "ecs:service:DesiredCount",
                    "minCapacity": 0,
                },
            ),
            (
                TARGET,
                {
                    "serviceNamespace": "sagemaker",
                    "scalableDimension": "sagemaker:inference-component:DesiredCopyCount",
                    "minCapacity": 0,
                },
            ),
            (ACTION, {**SAGEMAKER, "scalableTargetAction": {"maxCapacity": 8}}),
            (
                EC,
                {
                    "productionVariants": [
                        variant(
                            managedInstanceScaling={"status": "DISABLED", "minInstanceCount": 0}
                        )
                    ]
                },
            ),
            (
                EC,
                {
                    "productionVariants": [
                        {"variantName": "s", "serverlessConfig": {"maxConcurrency": 5}}
                    ]
                },
            ),
        ],
    )
    def test_compliant_rewrites(self, type_, props):
        assert violations(mon.multi_instance, type_, props, PROD) == []

    def test_unknown_floor_is_reported(self):
        assert unknowns(
            mon.multi_instance, self.TARGET, {**self.SAGEMAKER, "minCapacity": UNKNOWN}, PROD
        ) == ["cannot verify until apply: minCapacity is unknown during preview"]


class TestSafeDeployment:
    @pytest.mark.parametrize("alarms", [[{"alarmName": ""}], [{}], []])
    def test_rollback_alarms_that_watch_nothing(self, alarms):
        props = with_change(DEPLOY_OK, "deploymentConfig.autoRollbackConfiguration.alarms", alarms)
        assert violations(mon.safe_deployment, mon.ENDPOINT, props) == [
            "deploymentConfig.autoRollbackConfiguration.alarms is empty: a bad model is not rolled back"
        ]

    def test_all_at_once_blue_green(self):
        props = with_change(
            DEPLOY_OK,
            "deploymentConfig.blueGreenUpdatePolicy.trafficRoutingConfiguration",
            {"type": "ALL_AT_ONCE", "waitIntervalInSeconds": 0},
        )
        assert violations(mon.safe_deployment, mon.ENDPOINT, props) == [
            "traffic routing is ALL_AT_ONCE, allowed: ['CANARY', 'LINEAR']"
        ]


class TestEndpointAlarms:
    def _ep(self):
        return res(mon.ENDPOINT, {"name": "ep"}, "ep")

    def test_alarm_through_metric_math_counts(self):
        a = res(
            ALARM,
            {
                "metricQueries": [
                    {
                        "metric": {
                            "metricName": "ModelLatency",
                            "dimensions": {"EndpointName": "ep"},
                        }
                    },
                    {
                        "metric": {
                            "metricName": "Invocation5XXErrors",
                            "dimensions": {"EndpointName": "ep"},
                        }
                    },
                ]
            },
            "a",
        )
        assert stack_violations(mon.endpoint_operational_alarms, [self._ep(), a]) == []

    def test_alarm_on_a_lookalike_endpoint_does_not_count(self):
        a = res(
            ALARM, {"metricName": "ModelLatency", "dimensions": {"EndpointName": "ep-old"}}, "a"
        )
        assert stack_violations(mon.endpoint_operational_alarms, [self._ep(), a]) == [
            ("ep", "endpoint ep has no latency alarm (ModelLatency / OverheadLatency)"),
            (
                "ep",
                "endpoint ep has no error alarm (Invocation5XXErrors / Invocation4XXErrors / InvocationModelErrors)",
            ),
        ]

    def test_quality_metric_in_any_case(self):
        alarms = [
            res(ALARM, {"metricName": m, "dimensions": {"EndpointName": "ep"}}, m)
            for m in ("HallucinationRate", "BIAS_disparity", "feature_baseline_drift_x")
        ]
        assert stack_violations(mon.quality_alarms, [self._ep(), *alarms]) == []


class TestGuardrail:
    G = mon.GUARDRAIL

    def test_prompt_attack_filter_at_none(self):
        props = {
            "contentPolicyConfig": {
                "filtersConfigs": [{"type": "PROMPT_ATTACK", "inputStrength": "NONE"}]
            },
            "sensitiveInformationPolicyConfig": {
                "piiEntitiesConfigs": [{"type": "EMAIL", "action": "BLOCK"}]
            },
        }
        assert violations(mon.guardrail_filters, self.G, props) == [
            "PROMPT_ATTACK filter has inputStrength NONE"
        ]
