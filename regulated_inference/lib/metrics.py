"""The custom model-quality metrics: one namespace, four metrics, two dimensions.

SageMaker publishes latency, errors and utilisation by itself. Whether a model
*behaves* — hallucinates, treats groups differently, satisfies users, writes
good answers — is measured by an evaluation job (offline scoring of captured
requests, human feedback, an LLM judge …) that the model owner runs. That job
publishes its results here, and the alarms in `regulated_inference.components.model_monitoring`
watch exactly these names, so they are defined once.

Publishing contract for an evaluation job (``cloudwatch:PutMetricData``)::

    Namespace:  RegulatedInference/ModelQuality
    Dimensions: EndpointName=<endpoint>, VariantName=<variant>   (both, exactly)
    Metrics:    HallucinationRate   ratio 0–1, lower is better   (Unit: None)
                BiasDisparity       ratio 0–1, lower is better   (largest gap in outcome
                                    rate between protected groups)
                UserSatisfaction    ratio 0–1, higher is better  (share of positive feedback)
                OutputQualityScore  ratio 0–1, higher is better  (graded answer quality)
    Period:     at most every hour; alarms evaluate the hourly Average.

A role that publishes gets `regulated_inference.lib.iam.put_metrics(QUALITY_NAMESPACE)`,
which pins `cloudwatch:namespace` to this namespace only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from regulated_inference.lib.sagemaker import DATA_QUALITY_NAMESPACE, DRIFT_METRIC_PREFIX

#: The one CloudWatch namespace for model-quality metrics.
QUALITY_NAMESPACE = "RegulatedInference/ModelQuality"
#: Dimensions every quality datapoint carries (same names as SageMaker's own endpoint metrics).
QUALITY_DIMENSIONS: tuple[str, str] = ("EndpointName", "VariantName")
#: How often evaluation jobs publish; quality alarms evaluate this period.
QUALITY_PERIOD_SECONDS = 3600


@dataclass(frozen=True)
class QualityMetric:
    """One quality metric and which direction is bad."""

    name: str
    config_key: str
    """The monitoring threshold key in the stack config that bounds it."""
    bad_when: Literal["above", "below"]
    description: str


HALLUCINATION_RATE = QualityMetric(
    "HallucinationRate",
    "hallucinationRateMax",
    "above",
    "share of sampled answers with claims not supported by the source or context",
)
BIAS_DISPARITY = QualityMetric(
    "BiasDisparity",
    "biasDisparityMax",
    "above",
    "largest difference in favourable-outcome rate between protected groups",
)
USER_SATISFACTION = QualityMetric(
    "UserSatisfaction",
    "userSatisfactionMin",
    "below",
    "share of user feedback that is positive",
)
OUTPUT_QUALITY = QualityMetric(
    "OutputQualityScore",
    "outputQualityMin",
    "below",
    "graded quality of sampled answers (rubric or judge model), 0–1",
)

#: All quality metrics, in dashboard order.
QUALITY_METRICS: tuple[QualityMetric, ...] = (
    HALLUCINATION_RATE,
    BIAS_DISPARITY,
    USER_SATISFACTION,
    OUTPUT_QUALITY,
)


def quality_dimensions(endpoint_name: str, variant_name: str) -> dict[str, str]:
    """The exact dimensions an evaluation job must publish with."""
    return dict(zip(QUALITY_DIMENSIONS, (endpoint_name, variant_name), strict=True))


#: CloudWatch unit of every quality datapoint: a ratio has no unit (`StandardUnit` "None").
QUALITY_UNIT = "None"
#: Every quality metric is a ratio on this closed scale; anything else is a publisher bug.
QUALITY_SCALE: tuple[float, float] = (0.0, 1.0)
#: Who publishes: the model owner's evaluation job (see docs/quality-metrics.md).
QUALITY_PUBLISHER = "the model owner's evaluation job (role granted PutMetrics(QUALITY_NAMESPACE))"


def quality_metric(name: str) -> QualityMetric:
    """The quality metric called `name`; KeyError naming the known ones otherwise."""
    for qm in QUALITY_METRICS:
        if qm.name == name:
            return qm
    raise KeyError(
        f"{name!r} is not a quality metric ({', '.join(q.name for q in QUALITY_METRICS)})"
    )


# -- drift ----------------------------------------------------------------------------
#
# Drift is published per feature as `feature_baseline_drift_<feature>` with dimensions
# Endpoint and MonitoringSchedule — the names SageMaker Model Monitor's analyzer uses.
# Model Monitor writes them into its own namespace (`DATA_QUALITY_NAMESPACE`,
# "aws/sagemaker/Endpoints/data-metrics"); a job of ours must not: PutMetricData says
# "You cannot specify a namespace that begins with 'AWS/'. Namespaces that begin with
# 'AWS/' are reserved for use by Amazon Web Services products" (CloudWatch API reference,
# PutMetricData, Namespace), and whether the lower-case "aws/" prefix is matched case-
# insensitively is not documented, so we do not rely on it. The scheduled drift check
# (`regulated_inference.components.drift_job`) therefore publishes the same metric names and dimensions into
# `DRIFT_NAMESPACE`; an alarm reads either path by changing only the namespace.

#: Namespace of drift published by this project's scheduled drift check (not Model Monitor).
DRIFT_NAMESPACE = "RegulatedInference/ModelDrift"
#: Namespace each drift source publishes into, by source.
DRIFT_NAMESPACES: dict[str, str] = {
    "model-monitor": DATA_QUALITY_NAMESPACE,
    "processing-job": DRIFT_NAMESPACE,
}
#: Dimensions of every drift datapoint (Model Monitor's names, both exactly).
DRIFT_DIMENSIONS: tuple[str, str] = ("Endpoint", "MonitoringSchedule")
#: Drift is a distance between the baseline and the captured distribution, 0–1, no unit.
DRIFT_UNIT = "None"
#: Feature names that make a valid metric name suffix (CloudWatch metric names ≤ 255 chars).
FEATURE_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,200}$")


def drift_metric_name(feature: str) -> str:
    """`feature_baseline_drift_<feature>`; ValueError for a name CloudWatch would mangle."""
    if not FEATURE_NAME.match(feature or ""):
        raise ValueError(f"feature {feature!r}: letters, digits, '_', '.', '-' only, 1–200 chars")
    return f"{DRIFT_METRIC_PREFIX}{feature}"


def drift_dimensions(endpoint_name: str, schedule_name: str) -> dict[str, str]:
    """The exact dimensions a drift publisher uses (schedule = Model Monitor schedule or drift check)."""
    return dict(zip(DRIFT_DIMENSIONS, (endpoint_name, schedule_name), strict=True))


__all__ = [
    "QUALITY_NAMESPACE",
    "QUALITY_DIMENSIONS",
    "QUALITY_PERIOD_SECONDS",
    "QUALITY_METRICS",
    "QualityMetric",
    "HALLUCINATION_RATE",
    "BIAS_DISPARITY",
    "USER_SATISFACTION",
    "OUTPUT_QUALITY",
    "quality_dimensions",
    "QUALITY_UNIT",
    "QUALITY_SCALE",
    "QUALITY_PUBLISHER",
    "quality_metric",
    "DRIFT_NAMESPACE",
    "DRIFT_NAMESPACES",
    "DRIFT_DIMENSIONS",
    "DRIFT_UNIT",
    "FEATURE_NAME",
    "drift_metric_name",
    "drift_dimensions",
]
