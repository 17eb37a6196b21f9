"""Shared builders and lookups for the component tests (and the stack/provider tests that reuse them).

One place for the fixed account, region and ARNs the component tests deploy against, for the
network and data-capture arguments of the drift jobs, and for the recording lookups several
test modules make (alarms by name, refused arguments, manifests in wire form, our components).
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import Callable
from typing import Any

import pulumi
import pytest
from pulumi.provider.experimental.util import camel_case

import regulated_inference.components as components_package
from regulated_inference.lib import aws as aws_facts
from regulated_inference.lib.errors import ComponentArgsError
from regulated_inference.simulation.engine import Recording
from tests.conftest import run_component

ACCT = "111122223333"
REGION = "eu-west-2"
TOPIC = f"arn:aws:sns:{REGION}:{ACCT}:alerts"
DATA_KEY = f"arn:aws:kms:{REGION}:{ACCT}:key/data"
LOGS_KEY = f"arn:aws:kms:{REGION}:{ACCT}:key/logs"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
SUBNETS = ["subnet-0a", "subnet-0b"]


def with_changes(defaults: dict[str, Any], change: dict[str, Any]) -> dict[str, Any]:
    """A fresh copy of `defaults` with `change` applied (the args builders' `**change`)."""
    return {**defaults, **change}


def recorded(build: Callable[[], Any], *, name: str = "rec"):
    """A module-scoped fixture `name`: the recording of running `build` once for the module."""

    def fixture() -> Recording:
        return run_component(build)

    return pytest.fixture(scope="module", name=name)(fixture)


def network_args(**change: Any) -> dict[str, Any]:
    """A `VpcPlacement`: the workload subnets and security group, with their ARNs."""
    return with_changes(
        {
            "subnet_ids": list(SUBNETS),
            "subnet_arns": [f"arn:aws:ec2:{REGION}:{ACCT}:subnet/{s}" for s in SUBNETS],
            "security_group_id": "sg-0work",
            "security_group_arn": f"arn:aws:ec2:{REGION}:{ACCT}:security-group/sg-0work",
        },
        change,
    )


def drift_data(**change: Any) -> dict[str, Any]:
    """A `DriftData`: capture, baseline and report locations and the data key."""
    return with_changes(
        {
            "capture_bucket_name": "capture-bucket",
            "capture_bucket_arn": "arn:aws:s3:::capture-bucket",
            "capture_prefix": "capture/fraud-scorer-prod/",
            "output_prefix": "monitoring/fraud-scorer-prod/",
            "baseline_bucket_name": "models-bucket",
            "baseline_bucket_arn": "arn:aws:s3:::models-bucket",
            "baseline_prefix": "fraud-scorer/2.3.0/baseline/",
            "data_key_arn": DATA_KEY,
        },
        change,
    )


def drift_common_args(**data_change: Any) -> dict[str, Any]:
    """What both drift job kinds take alike: endpoint, features, sizing, data, network."""
    return {
        "endpoint_name": "fraud-scorer-prod",
        "features": ["amount", "hour_of_day"],
        "drift_threshold": 0.2,
        "instance_type": "ml.m5.xlarge",
        "max_runtime_seconds": 1800,
        "data": drift_data(**data_change),
        "network": network_args(),
        "aws": aws_facts.context(REGION, ACCT),
        "alarm_topic_arn": TOPIC,
    }


def assert_drift_alarm_queries(
    alarm: dict, namespace: str, feature: str, schedule: str, period: int
) -> None:
    """The drift alarm takes the largest of its two features' queries; `feature`'s query reads
    the metric contract (`feature_baseline_drift_<feature>` by Endpoint and MonitoringSchedule)."""
    queries = metric_queries(alarm)
    assert queries["drift"]["expression"] == "MAX([f0, f1])" and queries["drift"]["returnData"]
    [m] = [
        q["metric"]
        for q in queries.values()
        if q.get("metric", {}).get("metricName") == (f"feature_baseline_drift_{feature}")
    ]
    assert m["namespace"] == namespace
    assert m["dimensions"] == {"Endpoint": "fraud-scorer-prod", "MonitoringSchedule": schedule}
    assert m["period"] == period and m["stat"] == "Maximum"


def alarms_by_name(rec: Recording, prefix: str) -> dict[str, dict]:
    """Alarm inputs keyed by alarm name without `prefix`."""
    return {r.inputs["name"].removeprefix(prefix): r.inputs for r in rec.of_type(ALARM)}


def metric_queries(alarm: dict) -> dict[str, dict]:
    """A metric-math alarm's queries by id."""
    return {q["id"]: q for q in alarm["metricQueries"]}


def assert_refused(build: Callable[[], Any], arg: str, fragment: str) -> None:
    """Running `build` is refused naming `arg`, with `fragment` in the rule it states."""
    with pytest.raises(ComponentArgsError) as info:
        run_component(build)
    assert info.value.arg == arg and fragment in info.value.rule


def wire_ints(value: Any) -> Any:
    """Integral floats back to ints, recursively.

    The engine's wire format (protobuf Struct) has only doubles; the provider sends
    integral numbers to the API server as integers.
    """
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: wire_ints(v) for k, v in value.items()}
    if isinstance(value, list):
        return [wire_ints(v) for v in value]
    return value


def package_components() -> dict[str, type[pulumi.ComponentResource]]:
    """Every ComponentResource class defined in regulated_inference.components, by class name."""
    found: dict[str, type[pulumi.ComponentResource]] = {}
    prefix = f"{components_package.__name__}."
    for module in pkgutil.walk_packages(components_package.__path__, prefix):
        for value in vars(importlib.import_module(module.name)).values():
            if (
                isinstance(value, type)
                and issubclass(value, pulumi.ComponentResource)
                and value.__module__.startswith(components_package.__name__)
            ):
                found[value.__name__] = value
    return found


def declared_outputs(component: type[pulumi.ComponentResource]) -> set[str]:
    """The camelCase outputs a component declares: its public annotated attributes, as the
    provider's schema analyzer reads them (pulumi/provider/experimental/analyzer.py analyze_type)."""
    return {camel_case(k) for k in inspect.get_annotations(component) if not k.startswith("_")}
