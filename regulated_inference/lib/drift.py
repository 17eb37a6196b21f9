"""What the two drift components share (`DataQualityMonitor`: Model Monitor;
`ScheduledDriftCheck`: a scheduled Processing job): the nested `DriftData` argument, the
defaults of their optional arguments, the checks of the arguments both take, and their
feature-drift alarm.

`DriftData` is nested, not a base TypedDict, for the reason given at `lib.sagemaker.VpcPlacement`
(the component provider's analyzer documents a field only from the class that declares it).
"""

from collections.abc import Mapping
from typing import Any, TypedDict

import pulumi
import pulumi_aws as aws

from regulated_inference.lib import alarms, metrics
from regulated_inference.lib import aws as aws_facts
from regulated_inference.lib import sagemaker as sm

#: Defaults of the optional arguments both drift components take (`DataQualityMonitor`,
#: `ScheduledDriftCheck`); the stack config's `monitoring.drift` defaults are these.
DRIFT_JOB_DEFAULTS: dict[str, Any] = {
    "drift_threshold": 0.2,
    "instance_type": "ml.m5.xlarge",
    "max_runtime_seconds": 1800,
}


class DriftData(TypedDict):
    """What a drift job reads and writes: data capture, baseline, reports, and their key."""

    capture_bucket_name: pulumi.Input[str]
    """The bucket holding the endpoint's data capture (and the job's reports)."""
    capture_bucket_arn: pulumi.Input[str]
    """ARN of the capture bucket (the job reads `capture_prefix` and writes `output_prefix` only)."""
    capture_prefix: str
    """Where the endpoint's data capture lands (read)."""
    output_prefix: str
    """Where reports are written in the capture bucket, outside `capture_prefix`."""
    baseline_bucket_name: pulumi.Input[str]
    """The bucket holding the baseline."""
    baseline_bucket_arn: pulumi.Input[str]
    """ARN of the baseline bucket (the job reads `baseline_prefix` only)."""
    baseline_prefix: str
    """Folder of the version's baseline (constraints.json and statistics.json)."""
    data_key_arn: pulumi.Input[str]
    """CMK of the job's volume and its reports."""


def check_drift_data(data: DriftData | None, arg: str = "data") -> tuple[str, Any, str] | None:
    """The first problem of the drift-data argument `arg` as (path, value, rule), or None."""
    if not isinstance(data, dict):
        return (arg, data, "must be a DriftData (buckets, prefixes and the data key)")
    for key in ("capture_prefix", "baseline_prefix", "output_prefix"):
        if not str(data.get(key) or "").strip("/"):
            return (f"{arg}.{key}", data.get(key), "a non-empty prefix (never a whole bucket)")
    output, capture = str(data["output_prefix"]).strip("/"), str(data["capture_prefix"]).strip("/")
    if (output + "/").startswith(capture + "/"):
        return (
            f"{arg}.output_prefix",
            data["output_prefix"],
            "outside the capture prefix (reports are not captured data)",
        )
    if not data.get("data_key_arn"):
        return (f"{arg}.data_key_arn", data.get("data_key_arn"), "required (KMS E1)")
    return None


#: An alarm holds at most 10 metric queries: one per feature and the MAX expression.
MAX_FEATURES = 9


def check_drift_job(args: Mapping[str, Any]) -> tuple[str, Any, str] | None:
    """The first problem of the arguments both drift components take, as (path, value, rule):
    features (1–9, each a drift metric name), threshold (0, 1], a KMS-capable instance type, the
    account context, `data` and `network`; None when they hold."""
    features = list(args.get("features") or [])
    if not 1 <= len(features) <= MAX_FEATURES:
        return (
            "features",
            features,
            f"1–{MAX_FEATURES} features (an alarm holds at most 10 metric queries)",
        )
    for feature in features:
        try:
            metrics.drift_metric_name(feature)
        except ValueError as exc:
            return ("features", feature, str(exc))
    threshold = args.get("drift_threshold")
    if (
        isinstance(threshold, bool)
        or not isinstance(threshold, int | float)
        or not 0 < threshold <= 1
    ):
        return ("drift_threshold", threshold, "a drift distance in (0, 1]")
    try:
        sm.check_kms_instance_type(args.get("instance_type", ""))
    except ValueError as exc:
        return ("instance_type", args.get("instance_type"), str(exc))
    problem = aws_facts.check_context(args.get("aws"))
    if problem:
        return ("aws", args.get("aws"), problem)
    return check_drift_data(args.get("data")) or sm.check_placement(args.get("network"))


def drift_alarm(
    parent: pulumi.Resource,
    resource_name: str,
    args: Mapping[str, Any],
    *,
    name_prefix: str,
    namespace: str,
    schedule_name: pulumi.Input[str],
    period: int,
    source: str,
    treat_missing_data: alarms.MissingData,
    **kwargs: Any,
) -> aws.cloudwatch.MetricAlarm:
    """The alarm of both drift components, from the arguments both take (`endpoint_name`,
    `features`, `drift_threshold`, `alarm_topic_arn`): resource `<resource_name>-drift`, alarm
    `<name_prefix>-feature-drift`, on the largest feature drift (`alarms.drift_queries`) above the
    threshold; `source` ends the description (what publishes, what silence means)."""
    features, threshold = args["features"], args["drift_threshold"]
    return alarms.metric_alarm(
        f"{resource_name}-drift",
        parent=parent,
        topic_arn=args["alarm_topic_arn"],
        name=f"{name_prefix}-feature-drift",
        description=f"feature baseline drift above {threshold} on {', '.join(features)}{source}",
        treat_missing_data=treat_missing_data,
        comparison_operator="GreaterThanThreshold",
        threshold=threshold,
        metric_queries=alarms.drift_queries(
            namespace, args["endpoint_name"], schedule_name, features, period
        ),
        **kwargs,
    )


__all__ = [
    "DRIFT_JOB_DEFAULTS",
    "MAX_FEATURES",
    "DriftData",
    "check_drift_data",
    "check_drift_job",
    "drift_alarm",
]
