"""Alarm conventions shared by the monitoring components: one place for "how an alarm notifies".

Every alarm this project declares (control M1):

- notifies the alert topic on ALARM *and* on OK (`alarm_actions`, `ok_actions`), with
  `actions_enabled=True`;
- states `treat_missing_data` explicitly — the caller must decide whether silence is good
  news (`notBreaching`: no traffic, no errors) or missing evidence (`breaching`: a job,
  a log delivery or a capture that should have produced data did not);
- carries the exact dimensions the publishing service uses.

Pure helpers that build resources under a given parent; no component of their own.
"""

from collections.abc import Mapping
from typing import Any, Literal

import pulumi
import pulumi_aws as aws

from regulated_inference.lib import metrics

MissingData = Literal["breaching", "notBreaching", "ignore", "missing"]
#: CloudWatch `TreatMissingData` values (PutMetricAlarm API reference).
MISSING_DATA_VALUES: tuple[str, ...] = ("breaching", "notBreaching", "ignore", "missing")


def metric_alarm(
    resource_name: str,
    *,
    parent: pulumi.Resource,
    topic_arn: pulumi.Input[str],
    name: pulumi.Input[str],
    description: str,
    treat_missing_data: MissingData,
    **kwargs: Any,
) -> aws.cloudwatch.MetricAlarm:
    """A metric alarm that notifies `topic_arn` on ALARM and OK, missing-data policy explicit."""
    if treat_missing_data not in MISSING_DATA_VALUES:
        raise ValueError(f"treat_missing_data {treat_missing_data!r} not in {MISSING_DATA_VALUES}")
    kwargs.setdefault("evaluation_periods", 1)
    kwargs.setdefault("datapoints_to_alarm", kwargs["evaluation_periods"])
    return aws.cloudwatch.MetricAlarm(
        resource_name,
        name=name,
        alarm_description=description,
        treat_missing_data=treat_missing_data,
        actions_enabled=True,
        alarm_actions=[topic_arn],
        ok_actions=[topic_arn],
        opts=pulumi.ResourceOptions(parent=parent),
        **kwargs,
    )


def metric_query(
    query_id: str,
    namespace: str,
    metric_name: str,
    dimensions: dict[str, pulumi.Input[str]] | None,
    stat: str,
    period: int,
    *,
    label: str | None = None,
) -> aws.cloudwatch.MetricAlarmMetricQueryArgs:
    """One metric of a metric-math alarm (not returned itself)."""
    return aws.cloudwatch.MetricAlarmMetricQueryArgs(
        id=query_id,
        label=label,
        return_data=False,
        metric=aws.cloudwatch.MetricAlarmMetricQueryMetricArgs(
            namespace=namespace,
            metric_name=metric_name,
            dimensions=dimensions,
            period=period,
            stat=stat,
        ),
    )


def expression(query_id: str, expr: str, label: str) -> aws.cloudwatch.MetricAlarmMetricQueryArgs:
    """The metric-math expression an alarm evaluates (the one query with `return_data`)."""
    return aws.cloudwatch.MetricAlarmMetricQueryArgs(
        id=query_id, expression=expr, label=label, return_data=True
    )


def role_alarm(
    parent: pulumi.Resource,
    resource_name: str,
    name_prefix: str,
    topic_arn: pulumi.Input[str],
    role: str,
    description: str,
    **kwargs: Any,
) -> aws.cloudwatch.MetricAlarm:
    """`metric_alarm` named after its role in a component: resource `<resource_name>-<role>`,
    alarm `<name_prefix>-<role>` (the convention of the alarm components)."""
    return metric_alarm(
        f"{resource_name}-{role}",
        parent=parent,
        topic_arn=topic_arn,
        name=f"{name_prefix}-{role}",
        description=description,
        **kwargs,
    )


def with_defaults(
    given: Mapping[str, float] | None, defaults: Mapping[str, float]
) -> dict[str, float]:
    """Alarm thresholds: `given` over `defaults`; ValueError (one line) for an unknown key or a
    value that is not a number ≥ 0."""
    given = dict(given or {})
    unknown = sorted(set(given) - set(defaults))
    if unknown:
        raise ValueError(f"unknown thresholds {unknown} (known: {', '.join(defaults)})")
    for key, value in given.items():
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise ValueError(f"{key} = {value!r}: a number ≥ 0")
    return {key: given.get(key, default) for key, default in defaults.items()}


def drift_queries(
    namespace: str,
    endpoint_name: pulumi.Input[str],
    schedule_name: pulumi.Input[str],
    features: list[str],
    period: int,
) -> list[aws.cloudwatch.MetricAlarmMetricQueryArgs]:
    """Per-feature drift metrics and `MAX([...])` over them; the namespace picks the source
    (Model Monitor's `DATA_QUALITY_NAMESPACE` or the drift check's `DRIFT_NAMESPACE`)."""
    dims = metrics.drift_dimensions(endpoint_name, schedule_name)  # type: ignore[arg-type]
    queries = [
        metric_query(
            f"f{i}", namespace, metrics.drift_metric_name(f), dims, "Maximum", period, label=f
        )
        for i, f in enumerate(features)
    ]
    ids = ", ".join(q.id for q in queries)
    return [*queries, expression("drift", f"MAX([{ids}])", "largest feature baseline drift")]


__all__ = [
    "MISSING_DATA_VALUES",
    "MissingData",
    "drift_queries",
    "expression",
    "metric_alarm",
    "metric_query",
    "role_alarm",
    "with_defaults",
]
