"""Monitoring and safe-rollout rules (M1-M7)."""

from __future__ import annotations

import pytest

from policies.rules import monitoring as mon
from policies.rules.base import res
from policies.rules.stack_index import StackIndex

from .builders import DEPLOY_OK
from .conftest import DELETE, stack_violations, violations, with_change

ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
ENDPOINT = "aws:sagemaker/endpoint:Endpoint"


class TestAlarmActions:
    def test_compliant(self):
        assert violations(mon.alarm_actions, ALARM, {"alarmActions": ["arn:sns"]}) == []

    def test_missing_actions(self):
        assert violations(mon.alarm_actions, ALARM, {}) == [
            "alarmActions is empty: nobody is notified"
        ]

    def test_disabled(self):
        assert violations(
            mon.alarm_actions, ALARM, {"alarmActions": ["arn:sns"], "actionsEnabled": False}
        ) == ["actionsEnabled is false"]


def endpoint(name="ep"):
    return res(ENDPOINT, {"name": name, "endpointConfigName": "cfg"}, name)


def alarm(metric, ep="ep", name=None):
    return res(
        ALARM,
        {"metricName": metric, "dimensions": {"EndpointName": ep, "VariantName": "AllTraffic"}},
        name or f"{ep}-{metric}",
    )


QUALITY = ["HallucinationRate", "BiasScore", "feature_baseline_drift_age"]


class TestOperationalAlarms:
    def test_compliant(self):
        stack = [endpoint(), alarm("ModelLatency"), alarm("Invocation5XXErrors")]
        assert stack_violations(mon.endpoint_operational_alarms, stack) == []

    def test_missing_errors(self):
        assert stack_violations(
            mon.endpoint_operational_alarms, [endpoint(), alarm("ModelLatency")]
        ) == [
            (
                "ep",
                "endpoint ep has no error alarm (Invocation5XXErrors / Invocation4XXErrors / "
                "InvocationModelErrors)",
            )
        ]

    def test_alarm_for_other_endpoint_does_not_count(self):
        stack = [
            endpoint("a"),
            endpoint("b"),
            alarm("ModelLatency", "a"),
            alarm("Invocation5XXErrors", "a"),
        ]
        assert [n for n, _ in stack_violations(mon.endpoint_operational_alarms, stack)] == [
            "b",
            "b",
        ]

    def test_metric_math_alarm(self):
        a = res(
            ALARM,
            {
                "metricQueries": [
                    {
                        "id": "m1",
                        "metric": {
                            "metricName": "ModelLatency",
                            "dimensions": {"EndpointName": "ep"},
                        },
                    }
                ]
            },
            "mm",
        )
        stack = [endpoint(), a, alarm("Invocation4XXErrors")]
        assert stack_violations(mon.endpoint_operational_alarms, stack) == []


class TestQualityAlarms:
    def test_compliant(self):
        stack = [endpoint(), *(alarm(m) for m in QUALITY)]
        assert stack_violations(mon.quality_alarms, stack) == []

    @pytest.mark.parametrize("i,signal", [(0, "hallucination"), (1, "bias"), (2, "drift")])
    def test_each_signal(self, i, signal):
        stack = [endpoint(), *(alarm(m) for j, m in enumerate(QUALITY) if j != i)]
        assert stack_violations(mon.quality_alarms, stack) == [
            ("ep", f"endpoint ep has no {signal} alarm")
        ]

    def test_alarm_linked_by_dependency(self):
        ep = endpoint()
        alarms = [
            res(ALARM, {"metricName": m, "namespace": "Custom/Quality"}, m, dependencies=(ep.urn,))
            for m in QUALITY
        ]
        assert stack_violations(mon.quality_alarms, [ep, *alarms]) == []


class TestMonitorSchedule:
    def test_compliant_via_job_definition(self):
        job = res(
            "aws:sagemaker/dataQualityJobDefinition:DataQualityJobDefinition",
            {"name": "dq", "dataQualityJobInput": {"endpointInput": {"endpointName": "ep"}}},
            "dq",
        )
        sched = res(
            "aws:sagemaker/monitoringSchedule:MonitoringSchedule",
            {
                "name": "ep-dq",
                "monitoringScheduleConfig": {
                    "monitoringJobDefinitionName": "dq",
                    "monitoringType": "DataQuality",
                },
            },
            "s",
        )
        drift = res(
            ALARM,
            {
                "namespace": mon.MODEL_MONITOR_NAMESPACE,
                "metricName": "feature_baseline_drift_age",
                "dimensions": {"Endpoint": "ep", "MonitoringSchedule": "ep-dq"},
                "alarmActions": ["arn:sns"],
            },
            "drift",
        )
        assert stack_violations(mon.monitor_schedule, [endpoint(), job, sched, drift]) == []
        # The same schedule without a drift alarm fed by it:
        assert stack_violations(mon.monitor_schedule, [endpoint(), job, sched]) == [
            (
                "ep",
                "endpoint ep has no drift alarm fed by its drift source (ep-dq): an alarm with "
                "actions on feature_baseline_drift_* {Endpoint=ep, MonitoringSchedule=<source>} "
                "in the source's namespace, not treating missing data as OK",
            )
        ]

    def test_missing(self):
        assert stack_violations(mon.monitor_schedule, [endpoint()]) == [
            (
                "ep",
                "endpoint ep has no drift source (Model Monitor schedule or scheduled "
                "processing-job drift check)",
            )
        ]


EC = "aws:sagemaker/endpointConfiguration:EndpointConfiguration"


class TestMultiInstance:
    def _ec(self, n):
        v = {"variantName": "v", "instanceType": "ml.m5.xlarge"}
        if n is not None:
            v["initialInstanceCount"] = n
        return {"productionVariants": [v]}

    def test_prod(self):
        assert violations(mon.multi_instance, EC, self._ec(2), {"minInstances": 2}) == []
        assert violations(mon.multi_instance, EC, self._ec(1), {"minInstances": 2}) == [
            "productionVariants[0].initialInstanceCount is 1, minimum 2"
        ]

    def test_dev(self):
        assert violations(mon.multi_instance, EC, self._ec(1), {"minInstances": 1}) == []

    def test_missing(self):
        assert violations(mon.multi_instance, EC, self._ec(None), {"minInstances": 2}) == [
            "productionVariants[0].initialInstanceCount is None, minimum 2"
        ]


class TestSafeDeployment:
    def test_canary(self):
        assert violations(mon.safe_deployment, ENDPOINT, DEPLOY_OK) == []

    def test_linear(self):
        p = with_change(
            DEPLOY_OK,
            "deploymentConfig.blueGreenUpdatePolicy.trafficRoutingConfiguration",
            {
                "type": "LINEAR",
                "waitIntervalInSeconds": 300,
                "linearStepSize": {"type": "CAPACITY_PERCENT", "value": 5},
            },
        )
        assert violations(mon.safe_deployment, ENDPOINT, p) == ["linear step 5% is outside 10-50%"]

    def test_canary_too_big(self):
        p = with_change(
            DEPLOY_OK,
            "deploymentConfig.blueGreenUpdatePolicy.trafficRoutingConfiguration.canarySize.value",
            60,
        )
        assert violations(mon.safe_deployment, ENDPOINT, p) == ["canary size 60% exceeds 50%"]

    def test_all_at_once(self):
        p = with_change(
            DEPLOY_OK,
            "deploymentConfig.blueGreenUpdatePolicy.trafficRoutingConfiguration.type",
            "ALL_AT_ONCE",
        )
        assert violations(mon.safe_deployment, ENDPOINT, p) == [
            "traffic routing is ALL_AT_ONCE, allowed: ['CANARY', 'LINEAR']"
        ]

    def test_no_rollback_alarms(self):
        p = with_change(DEPLOY_OK, "deploymentConfig.autoRollbackConfiguration", DELETE)
        assert violations(mon.safe_deployment, ENDPOINT, p) == [
            "deploymentConfig.autoRollbackConfiguration.alarms is empty: a bad model is not rolled back"
        ]

    def test_missing(self):
        assert violations(mon.safe_deployment, ENDPOINT, {"name": "ep"}) == [
            "deploymentConfig is not set: updates shift all traffic at once with no rollback"
        ]


GUARDRAIL = "aws:bedrock/guardrail:Guardrail"
G_OK = {
    "name": "g",
    "contentPolicyConfig": {
        "filtersConfigs": [
            {"type": "PROMPT_ATTACK", "inputStrength": "HIGH", "outputStrength": "NONE"}
        ]
    },
    "sensitiveInformationPolicyConfig": {
        "piiEntitiesConfigs": [{"type": "EMAIL", "action": "ANONYMIZE"}]
    },
}


class TestGuardrail:
    def test_compliant(self):
        assert violations(mon.guardrail_filters, GUARDRAIL, G_OK) == []

    def test_no_prompt_attack(self):
        p = with_change(G_OK, "contentPolicyConfig.filtersConfigs.0.type", "HATE")
        assert violations(mon.guardrail_filters, GUARDRAIL, p) == [
            "no PROMPT_ATTACK content filter"
        ]

    def test_prompt_attack_none(self):
        p = with_change(G_OK, "contentPolicyConfig.filtersConfigs.0.inputStrength", "NONE")
        assert violations(mon.guardrail_filters, GUARDRAIL, p) == [
            "PROMPT_ATTACK filter has inputStrength NONE"
        ]

    def test_no_pii(self):
        p = with_change(G_OK, "sensitiveInformationPolicyConfig", DELETE)
        assert violations(mon.guardrail_filters, GUARDRAIL, p) == [
            "no sensitive-information (PII) filter"
        ]

    def test_missing_everything(self):
        assert violations(mon.guardrail_filters, GUARDRAIL, {"name": "g"}) == [
            "no PROMPT_ATTACK content filter",
            "no sensitive-information (PII) filter",
        ]

    def test_stack_needs_guardrail_when_bedrock_used(self):
        ilc = res(
            "aws:bedrockmodel/invocationLoggingConfiguration:InvocationLoggingConfiguration",
            {},
            "ilc",
        )
        assert stack_violations(mon.guardrail_present, [ilc]) == [
            (None, "Bedrock is used but the stack has no guardrail")
        ]
        assert stack_violations(mon.guardrail_present, [ilc, res(GUARDRAIL, G_OK, "g")]) == []


class TestAlarmsDuringPreview:
    def test_alarm_linked_by_dependency_with_unknown_dimensions(self):
        from policies.rules.base import UNKNOWN

        ep = endpoint()
        alarms = [
            res(
                ALARM,
                {"metricName": m, "dimensions": {"EndpointName": UNKNOWN}},
                m,
                dependencies=(ep.urn,),
            )
            for m in ("ModelLatency", "Invocation5XXErrors")
        ]
        assert stack_violations(mon.endpoint_operational_alarms, [ep, *alarms]) == []

    def test_unattributable_alarm_makes_missing_alarm_undecidable(self):
        from policies.rules.base import UNKNOWN

        a = res(ALARM, {"metricName": "ModelLatency", "dimensions": {"EndpointName": UNKNOWN}}, "a")
        found = mon.endpoint_operational_alarms.evaluate(StackIndex([endpoint(), a]), None)
        assert found and all(f.unknown for f in found)
