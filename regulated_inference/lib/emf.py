"""Reference publisher for the quality and drift metric contracts (docs/quality-metrics.md).

Pure functions, no AWS calls, so an evaluation job can import them and the tests can
check them offline. Two ways to publish the same datapoints:

- `quality_emf` / `drift_emf` render a CloudWatch *embedded metric format* (EMF)
  document: one JSON log event that CloudWatch Logs turns into metrics. Use it where a
  log agent that speaks EMF ships stdout (Lambda, the CloudWatch agent, or PutLogEvents
  with the `x-amzn-logs-format: json/emf` header).
- `quality_metric_data` / `drift_metric_data` build the arguments of
  `cloudwatch.put_metric_data(**kwargs)` for a job that calls the API directly — the
  scheduled drift check does, through the `monitoring` VPC endpoint.

Structure follows "Specification: Embedded metric format" (Amazon CloudWatch User Guide,
CloudWatch_Embedded_Metric_Format_Specification.html): the root holds `_aws` with
`Timestamp` (milliseconds since the epoch) and `CloudWatchMetrics`, an array of
MetricDirective objects `{Namespace, Dimensions: [[dimension keys]], Metrics: [{Name,
Unit}]}`; every dimension key and metric name referenced is a member of the root (the
"target members"); a DimensionSet holds at most 30 keys; a directive at most 100 metrics.

Every value is validated before it is rendered: finite, on the contract's 0–1 scale,
names and dimensions exactly those of `regulated_inference.lib.metrics`. A publisher that emits
a 7 or a NaN gets a ValueError, not a silently wrong alarm.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Mapping
from typing import Any

from regulated_inference.lib import metrics

#: EMF limits ("Specification: Embedded metric format").
EMF_MAX_DIMENSIONS_PER_SET = 30
EMF_MAX_METRICS_PER_DIRECTIVE = 100
#: PutMetricData accepts at most 1,000 datums per call (CloudWatch API reference); we stay far below.
PUT_METRIC_DATA_MAX = 1000


def _ratio(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{name}: value {value!r} is not a number")
    if not math.isfinite(value):
        raise ValueError(f"{name}: value {value!r} is not finite")
    low, high = metrics.QUALITY_SCALE
    if not low <= value <= high:
        raise ValueError(f"{name}: value {value} is outside the contract's scale {low}–{high}")
    return float(value)


def _timestamp_ms(timestamp: dt.datetime) -> int:
    if timestamp.tzinfo is None:
        raise ValueError("timestamp must be timezone-aware (UTC); a naive time is ambiguous")
    return int(timestamp.timestamp() * 1000)


def _dimension_values(names: tuple[str, ...], values: tuple[str, ...]) -> dict[str, str]:
    for name, value in zip(names, values, strict=True):
        if not isinstance(value, str) or not value.strip():
            raise ValueError(f"dimension {name} needs a non-empty string value, got {value!r}")
    return dict(zip(names, values, strict=True))


def emf_document(
    namespace: str,
    dimensions: Mapping[str, str],
    values: Mapping[str, float],
    unit: str,
    timestamp: dt.datetime,
) -> dict[str, Any]:
    """One EMF document: one directive, one dimension set, every metric with `unit`."""
    if not values:
        raise ValueError("at least one metric value")
    if len(values) > EMF_MAX_METRICS_PER_DIRECTIVE:
        raise ValueError(f"at most {EMF_MAX_METRICS_PER_DIRECTIVE} metrics per directive")
    if not dimensions or len(dimensions) > EMF_MAX_DIMENSIONS_PER_SET:
        raise ValueError(f"1–{EMF_MAX_DIMENSIONS_PER_SET} dimensions per dimension set")
    clash = set(dimensions) & set(values)
    if clash or "_aws" in set(dimensions) | set(values):
        raise ValueError(f"metric and dimension names must be distinct members: {sorted(clash)}")
    return {
        "_aws": {
            "Timestamp": _timestamp_ms(timestamp),
            "CloudWatchMetrics": [
                {
                    "Namespace": namespace,
                    "Dimensions": [list(dimensions)],
                    "Metrics": [{"Name": name, "Unit": unit} for name in values],
                }
            ],
        },
        **dimensions,
        **values,
    }


def render(document: Mapping[str, Any]) -> str:
    """The log event: compact JSON on one line, no NaN/Infinity (not JSON)."""
    return json.dumps(document, separators=(",", ":"), allow_nan=False)


# -- quality ------------------------------------------------------------------------


def _quality_values(values: Mapping[str, float]) -> dict[str, float]:
    checked: dict[str, float] = {}
    for name, value in values.items():
        try:
            metrics.quality_metric(name)
        except KeyError as exc:
            raise ValueError(str(exc.args[0])) from None
        checked[name] = _ratio(name, value)
    if not checked:
        raise ValueError("at least one quality metric value")
    return checked


#: What both renderers take: namespace, dimensions, metric values, unit.
_Datapoints = tuple[str, dict[str, str], dict[str, float], str]


def _quality(endpoint_name: str, variant_name: str, values: Mapping[str, float]) -> _Datapoints:
    """The quality contract's datapoints of one endpoint variant, validated."""
    return (
        metrics.QUALITY_NAMESPACE,
        _dimension_values(metrics.QUALITY_DIMENSIONS, (endpoint_name, variant_name)),
        _quality_values(values),
        metrics.QUALITY_UNIT,
    )


def quality_emf(
    endpoint_name: str,
    variant_name: str,
    values: Mapping[str, float],
    timestamp: dt.datetime,
) -> dict[str, Any]:
    """EMF document for quality metrics of one endpoint variant (names from `metrics`)."""
    return emf_document(*_quality(endpoint_name, variant_name, values), timestamp)


def quality_metric_data(
    endpoint_name: str,
    variant_name: str,
    values: Mapping[str, float],
    timestamp: dt.datetime,
) -> dict[str, Any]:
    """`put_metric_data` arguments for the same datapoints as `quality_emf`."""
    return _metric_data(*_quality(endpoint_name, variant_name, values), timestamp)


# -- drift --------------------------------------------------------------------------


def _drift(
    endpoint_name: str, schedule_name: str, distances: Mapping[str, float], namespace: str
) -> _Datapoints:
    """The drift contract's datapoints (distance 0–1 per feature) of one endpoint, validated."""
    dimensions = _dimension_values(metrics.DRIFT_DIMENSIONS, (endpoint_name, schedule_name))
    if not distances:
        raise ValueError("at least one feature distance")
    values = {metrics.drift_metric_name(f): _ratio(f, d) for f, d in distances.items()}
    return namespace, dimensions, values, metrics.DRIFT_UNIT


def drift_emf(
    endpoint_name: str,
    schedule_name: str,
    distances: Mapping[str, float],
    timestamp: dt.datetime,
    namespace: str = metrics.DRIFT_NAMESPACE,
) -> dict[str, Any]:
    """EMF document for per-feature baseline drift (distance 0–1) of one endpoint."""
    return emf_document(*_drift(endpoint_name, schedule_name, distances, namespace), timestamp)


def drift_metric_data(
    endpoint_name: str,
    schedule_name: str,
    distances: Mapping[str, float],
    timestamp: dt.datetime,
    namespace: str = metrics.DRIFT_NAMESPACE,
) -> dict[str, Any]:
    """`put_metric_data` arguments the scheduled drift check's container sends."""
    return _metric_data(*_drift(endpoint_name, schedule_name, distances, namespace), timestamp)


def _metric_data(
    namespace: str,
    dimensions: Mapping[str, str],
    values: Mapping[str, float],
    unit: str,
    timestamp: dt.datetime,
) -> dict[str, Any]:
    if namespace.upper().startswith("AWS/"):
        raise ValueError(
            f"{namespace}: namespaces beginning with AWS/ are reserved (PutMetricData)"
        )
    _timestamp_ms(timestamp)
    dims = [{"Name": k, "Value": v} for k, v in dimensions.items()]
    data = [
        {
            "MetricName": name,
            "Dimensions": dims,
            "Value": value,
            "Unit": unit,
            "Timestamp": timestamp,
        }
        for name, value in values.items()
    ]
    if len(data) > PUT_METRIC_DATA_MAX:
        raise ValueError(f"at most {PUT_METRIC_DATA_MAX} datums per PutMetricData call")
    return {"Namespace": namespace, "MetricData": data}


__all__ = [
    "EMF_MAX_DIMENSIONS_PER_SET",
    "EMF_MAX_METRICS_PER_DIRECTIVE",
    "drift_emf",
    "drift_metric_data",
    "emf_document",
    "quality_emf",
    "quality_metric_data",
    "render",
]
