"""The custom model-quality metrics: one namespace, four metrics, two dimensions.

SageMaker publishes latency, errors and utilisation by itself. Whether a model
*behaves* — hallucinates, treats groups differently, satisfies users, writes
good answers — is measured by an evaluation job (offline scoring of captured
requests, human feedback, an LLM judge …) that the model owner runs. That job
publishes its results here, and the alarms in `components.model_monitoring`
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

A role that publishes gets `components.lib.iam.PutMetrics(QUALITY_NAMESPACE)`,
which pins `cloudwatch:namespace` to this namespace only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

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
]
