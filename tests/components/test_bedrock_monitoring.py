"""BedrockMonitoring: per-model latency/error/throttle alarms and guardrail alarms."""

from __future__ import annotations

import pytest

from regulated_inference.components.bedrock_monitoring import (
    BedrockMonitoring,
    BedrockThresholds,
    model_id,
)
from regulated_inference.simulation.engine import Recording
from tests.components.helpers import (
    ACCT,
    REGION,
    TOPIC,
    alarms_by_name,
    assert_refused,
    metric_queries,
    recorded,
    with_changes,
)

GUARDRAIL = f"arn:aws:bedrock:{REGION}:{ACCT}:guardrail/abc123"
HAIKU = "anthropic.claude-3-haiku-20240307-v1:0"
TITAN = "amazon.titan-text-express-v1"
PREFIX = "ri-prod-bedrock"


def bedrock_args(**change) -> dict:
    return with_changes(
        {
            "name_prefix": PREFIX,
            "model_ids": [HAIKU, TITAN],
            "guardrail_arn": GUARDRAIL,
            "guardrail_version": "1",
            "alarm_topic_arn": TOPIC,
            "thresholds": BedrockThresholds(latency_p99_ms=30_000, max_throttle_rate=0.02),
        },
        change,
    )


rec = recorded(lambda: BedrockMonitoring("bedrock", bedrock_args()))


def alarms(rec: Recording) -> dict[str, dict]:
    return alarms_by_name(rec, PREFIX + "-")


def test_model_id_from_arn():
    assert model_id(f"arn:aws:bedrock:{REGION}::foundation-model/{HAIKU}") == HAIKU
    assert (
        model_id(f"arn:aws:bedrock:{REGION}:{ACCT}:inference-profile/eu.{HAIKU}") == f"eu.{HAIKU}"
    )


def test_every_alarm_notifies_the_topic_and_states_missing_data(rec):
    a = alarms(rec)
    # 2 models x 5 alarms + overall and 2 per-policy intervention rates + server errors
    assert len(a) == 2 * 5 + 3 + 1
    for alarm in a.values():
        assert alarm["actionsEnabled"] is True
        assert alarm["alarmActions"] == [TOPIC] and alarm["okActions"] == [TOPIC]
        assert alarm["treatMissingData"] == "notBreaching"


def test_latency_percentiles_per_model(rec):
    a = alarms(rec)
    slug = "anthropic.claude-3-haiku-20240307-v1-0"
    p95, p99 = a[f"{slug}-latency-p95"], a[f"{slug}-latency-p99"]
    for alarm, pct in ((p95, "p95"), (p99, "p99")):
        assert alarm["namespace"] == "AWS/Bedrock" and alarm["metricName"] == "InvocationLatency"
        assert alarm["dimensions"] == {"ModelId": HAIKU}
        assert alarm["extendedStatistic"] == pct
    assert p95["threshold"] == 10_000 and p99["threshold"] == 30_000  # ms, as Bedrock reports
    assert a[f"{TITAN}-latency-p99"]["dimensions"] == {"ModelId": TITAN}


def test_error_rates_are_metric_math_over_invocations(rec):
    a = alarms(rec)
    server = metric_queries(a[f"{TITAN}-server-error-rate"])
    assert server["e"]["metric"]["metricName"] == "InvocationServerErrors"
    assert server["inv"]["metric"]["metricName"] == "Invocations"
    for q in ("e", "inv"):
        assert server[q]["metric"]["namespace"] == "AWS/Bedrock"
        assert server[q]["metric"]["dimensions"] == {"ModelId": TITAN}
        assert server[q]["metric"]["stat"] == "Sum" and server[q]["returnData"] is False
    assert server["rate"]["expression"] == "FILL(e, 0) / inv" and server["rate"]["returnData"]
    assert a[f"{TITAN}-server-error-rate"]["threshold"] == 0.01
    client = metric_queries(a[f"{TITAN}-client-error-rate"])
    assert client["e"]["metric"]["metricName"] == "InvocationClientErrors"
    throttle = a[f"{TITAN}-throttle-rate"]
    tq = metric_queries(throttle)
    assert tq["e"]["metric"]["metricName"] == "InvocationThrottles"
    # throttled requests are not counted in Invocations: they are added to the denominator
    assert "(FILL(inv, 0) + FILL(e, 0))" in tq["rate"]["expression"]
    assert throttle["threshold"] == 0.02


def test_guardrail_intervention_rates_overall_and_per_policy(rec):
    a = alarms(rec)
    overall = metric_queries(a["guardrail-intervention-rate"])
    gdims = {"GuardrailArn": GUARDRAIL, "GuardrailVersion": "1"}
    assert overall["hit"]["metric"]["namespace"] == "AWS/Bedrock/Guardrails"
    assert overall["hit"]["metric"]["metricName"] == "InvocationsIntervened"
    assert overall["hit"]["metric"]["dimensions"] == gdims
    assert overall["inv"]["metric"]["dimensions"] == gdims
    assert overall["rate"]["expression"] == "FILL(hit, 0) / inv"
    for policy in ("ContentPolicy", "SensitiveInformationPolicy"):
        q = metric_queries(a[f"guardrail-intervention-rate-{policy}"])
        assert q["hit"]["metric"]["dimensions"] == {"GuardrailPolicyType": policy}
        assert q["inv"]["metric"]["dimensions"] == gdims
    assert "guardrail-intervention-rate-TopicPolicy" not in a  # not configured by BedrockAccess


def test_guardrail_server_errors_alarm_on_any(rec):
    g = alarms(rec)["guardrail-server-errors"]
    assert (
        g["namespace"] == "AWS/Bedrock/Guardrails" and g["metricName"] == "InvocationServerErrors"
    )
    assert g["dimensions"] == {"GuardrailArn": GUARDRAIL, "GuardrailVersion": "1"}
    assert g["threshold"] == 0 and g["comparisonOperator"] == "GreaterThanThreshold"
    assert g["evaluationPeriods"] == 1


def test_outputs_name_every_alarm(rec):
    out = rec.one("regulated-inference:index:BedrockMonitoring").outputs["alarmNames"]
    assert (
        out[f"{HAIKU}/latency-p99"]
        == f"{PREFIX}-anthropic.claude-3-haiku-20240307-v1-0-latency-p99"
    )
    assert out["guardrail/server-errors"] == f"{PREFIX}-guardrail-server-errors"


@pytest.mark.parametrize(
    "change,arg,fragment",
    [
        ({"model_ids": []}, "model_ids", "at least one"),
        (
            {"model_ids": [f"arn:aws:bedrock:{REGION}::foundation-model/{HAIKU}"]},
            "model_ids",
            "model_id(arn)",
        ),
        ({"model_ids": [TITAN, TITAN]}, "model_ids", "each model once"),
        ({"alarm_topic_arn": ""}, "alarm_topic_arn", "M1"),
        ({"guardrail_version": ""}, "guardrail_version", "required"),
        ({"policy_types": ["PromptAttack"]}, "policy_types", "GuardrailPolicyType"),
        (
            {"thresholds": BedrockThresholds(max_server_error_rate=5)},
            "thresholds.max_server_error_rate",
            "between 0 and 1",
        ),
        (
            {"thresholds": BedrockThresholds(latency_p95_ms=9, latency_p99_ms=5)},
            "thresholds.latency_p99_ms",
            "≥",
        ),
        ({"period_seconds": 7}, "period_seconds", "60, 300"),
        ({"name_prefix": "bad prefix"}, "name_prefix", "letters"),
    ],
)
def test_invalid_args(change, arg, fragment):
    assert_refused(lambda: BedrockMonitoring("bad", bedrock_args(**change)), arg, fragment)
