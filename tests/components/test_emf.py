"""Reference publisher: EMF documents and PutMetricData arguments for the metric contracts.

The EMF assertions follow "Specification: Embedded metric format" (CloudWatch user guide):
root member `_aws` {Timestamp (ms), CloudWatchMetrics: [MetricDirective]}, a directive is
{Namespace, Dimensions: [[keys]], Metrics: [{Name, Unit}]}, every referenced key is a root member.
"""

from __future__ import annotations

import datetime as dt
import json
import math

import pytest

from regulated_inference.lib import emf, metrics

T = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)
T_MS = 1772366400000


def check_emf_structure(doc: dict) -> None:
    """The specification's structural rules, checked generically."""
    meta = doc["_aws"]
    assert set(meta) == {"Timestamp", "CloudWatchMetrics"}
    assert isinstance(meta["Timestamp"], int)
    for directive in meta["CloudWatchMetrics"]:
        assert set(directive) == {"Namespace", "Dimensions", "Metrics"}
        assert isinstance(directive["Namespace"], str) and directive["Namespace"]
        for dimension_set in directive["Dimensions"]:
            assert 1 <= len(dimension_set) <= 30
            for key in dimension_set:
                assert isinstance(doc[key], str)  # target member, a string
        assert 1 <= len(directive["Metrics"]) <= 100
        for definition in directive["Metrics"]:
            assert set(definition) <= {"Name", "Unit", "StorageResolution"}
            assert isinstance(doc[definition["Name"]], int | float)  # target member, a number


def test_quality_emf_document_matches_the_contract():
    doc = emf.quality_emf(
        "fraud-scorer-prod", "primary", {"HallucinationRate": 0.02, "UserSatisfaction": 0.91}, T
    )
    check_emf_structure(doc)
    assert doc == {
        "_aws": {
            "Timestamp": T_MS,
            "CloudWatchMetrics": [
                {
                    "Namespace": "RegulatedInference/ModelQuality",
                    "Dimensions": [["EndpointName", "VariantName"]],
                    "Metrics": [
                        {"Name": "HallucinationRate", "Unit": "None"},
                        {"Name": "UserSatisfaction", "Unit": "None"},
                    ],
                }
            ],
        },
        "EndpointName": "fraud-scorer-prod",
        "VariantName": "primary",
        "HallucinationRate": 0.02,
        "UserSatisfaction": 0.91,
    }
    line = emf.render(doc)
    assert "\n" not in line and json.loads(line) == doc


def test_drift_emf_uses_model_monitor_names_in_our_namespace():
    doc = emf.drift_emf("fraud-scorer-prod", "fraud-scorer-prod-drift", {"amount": 0.31}, T)
    check_emf_structure(doc)
    directive = doc["_aws"]["CloudWatchMetrics"][0]
    assert directive["Namespace"] == "RegulatedInference/ModelDrift"
    assert directive["Dimensions"] == [["Endpoint", "MonitoringSchedule"]]
    assert directive["Metrics"] == [{"Name": "feature_baseline_drift_amount", "Unit": "None"}]
    assert doc["feature_baseline_drift_amount"] == 0.31


def test_put_metric_data_arguments_carry_the_same_datapoints():
    kwargs = emf.drift_metric_data("ep", "ep-drift", {"amount": 0.1, "hour": 0.0}, T)
    assert kwargs["Namespace"] == "RegulatedInference/ModelDrift"
    assert [d["MetricName"] for d in kwargs["MetricData"]] == [
        "feature_baseline_drift_amount",
        "feature_baseline_drift_hour",
    ]
    first = kwargs["MetricData"][0]
    assert first["Dimensions"] == [
        {"Name": "Endpoint", "Value": "ep"},
        {"Name": "MonitoringSchedule", "Value": "ep-drift"},
    ]
    assert first["Unit"] == "None" and first["Value"] == 0.1 and first["Timestamp"] == T
    q = emf.quality_metric_data("ep", "v", {"OutputQualityScore": 1}, T)
    assert q["Namespace"] == metrics.QUALITY_NAMESPACE
    assert q["MetricData"][0]["Dimensions"][1] == {"Name": "VariantName", "Value": "v"}


@pytest.mark.parametrize(
    "values,fragment",
    [
        ({"HallucinationRate": 1.2}, "outside the contract's scale"),
        ({"HallucinationRate": -0.01}, "outside the contract's scale"),
        ({"BiasDisparity": math.nan}, "not finite"),
        ({"BiasDisparity": math.inf}, "not finite"),
        ({"UserSatisfaction": "0.9"}, "not a number"),
        ({"UserSatisfaction": True}, "not a number"),
        ({"Accuracy": 0.9}, "not a quality metric"),
        ({}, "at least one"),
    ],
)
def test_quality_values_are_validated(values, fragment):
    with pytest.raises(ValueError, match=fragment):
        emf.quality_emf("ep", "v", values, T)
    with pytest.raises(ValueError, match=fragment):
        emf.quality_metric_data("ep", "v", values, T)


def test_naive_timestamps_and_empty_dimensions_are_refused():
    with pytest.raises(ValueError, match="timezone-aware"):
        emf.quality_emf("ep", "v", {"HallucinationRate": 0.1}, dt.datetime(2026, 3, 1))
    with pytest.raises(ValueError, match="non-empty string"):
        emf.quality_emf("", "v", {"HallucinationRate": 0.1}, T)
    with pytest.raises(ValueError, match="letters, digits"):
        emf.drift_emf("ep", "s", {"bad feature": 0.1}, T)


def test_reserved_namespaces_are_refused_for_put_metric_data():
    # Model Monitor's own namespace: a job of ours must not write into it.
    with pytest.raises(ValueError, match="reserved"):
        emf.drift_metric_data("ep", "s", {"a": 0.1}, T, namespace=metrics.DATA_QUALITY_NAMESPACE)


def test_emf_limits():
    with pytest.raises(ValueError, match="at most 100"):
        emf.emf_document("N", {"D": "x"}, {f"m{i}": 0.0 for i in range(101)}, "None", T)
    with pytest.raises(ValueError, match="1–30 dimensions"):
        emf.emf_document("N", {f"d{i}": "x" for i in range(31)}, {"m": 0.0}, "None", T)
    with pytest.raises(ValueError, match="distinct members"):
        emf.emf_document("N", {"m": "x"}, {"m": 0.0}, "None", T)
    with pytest.raises(ValueError):
        emf.render({"x": math.nan})


def test_metrics_contract_is_single_sourced():
    assert metrics.drift_dimensions("ep", "s") == {"Endpoint": "ep", "MonitoringSchedule": "s"}
    assert metrics.DRIFT_NAMESPACES == {
        "model-monitor": "aws/sagemaker/Endpoints/data-metrics",
        "processing-job": "RegulatedInference/ModelDrift",
    }
    assert metrics.quality_metric("BiasDisparity") is metrics.BIAS_DISPARITY
    with pytest.raises(KeyError):
        metrics.quality_metric("Accuracy")
    assert metrics.QUALITY_SCALE == (0.0, 1.0) and metrics.QUALITY_UNIT == "None"
