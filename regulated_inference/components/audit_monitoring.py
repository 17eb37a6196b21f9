"""The audit trail watches itself: alarms that fire when audit evidence stops arriving.

Silence is the failure mode of evidence: a trail that stopped, a log delivery that
fails, a capture switched off all look like "nothing happened". So every heartbeat
alarm here treats missing data as BREACHING; failure counters (which AWS only emits
when a delivery was attempted) treat it as not breaching.

What is watched, and why this way:

- Bedrock invocation logging — `AWS/Bedrock` publishes, "for each delivery success or
  failure attempt", `ModelInvocationLogsCloudWatchDeliveryFailure`,
  `ModelInvocationLogsS3DeliveryFailure` and `ModelInvocationLargeDataS3DeliveryFailure`
  with no dimension ("Across all model IDs"; Bedrock user guide,
  monitoring-runtime-metrics, "Model invocation logging CloudWatch metrics"). Alarm on
  any failure. With `bedrock_model_ids`, also a silence alarm: the models were invoked
  (`Invocations` per ModelId) but no log reached CloudWatch
  (`ModelInvocationLogsCloudWatchDeliverySuccess`).
- CloudTrail — CloudTrail publishes no CloudWatch metric for its own delivery. Three
  signals instead: (1) heartbeat of the trail's log group, `AWS/Logs IncomingLogEvents`
  {LogGroupName} below 1 per hour (CloudWatch Logs metrics); any account with a trail
  records management events continuously (this stack's own KMS, STS and SageMaker
  calls), so an empty hour means the trail or its CloudWatch delivery stopped;
  (2) heartbeat of the trail's S3 delivery: S3 request metrics (`aws.s3.BucketMetric`,
  `AWS/S3 PutRequests` {BucketName, FilterId}) on the trail's prefix of the WORM bucket;
  (3) a metric filter on the trail's own log group counting StopLogging, DeleteTrail,
  UpdateTrail and PutEventSelectors (CIS AWS Foundations "CloudTrail configuration
  changes"). Metric filters + alarms rather than EventBridge rules: the alert topic's
  policy admits only this account's CloudWatch alarms (`AlertTopic`), and an alarm has
  an OK state an auditor can see.
- Bedrock invocation-logging configuration changed or deleted — metric filter on the
  trail log group: `PutModelInvocationLoggingConfiguration`,
  `DeleteModelInvocationLoggingConfiguration` (bedrock.amazonaws.com).
- SageMaker data capture — switched off: metric filter on CreateEndpointConfig calls
  whose `requestParameters.dataCaptureConfig.enableCapture` IS FALSE (CloudWatch Logs
  filter pattern syntax for JSON booleans); failing or silent: S3 request metrics on each
  capture prefix, `PutRequests` below 1 for `capture_silence_hours` (missing = breaching).
  An endpoint with no traffic captures nothing, so the silence window is an argument.
"""

import re
from typing import NotRequired, TypedDict

import pulumi
import pulumi_aws as aws

from regulated_inference.components.audit_trail import S3_KEY_PREFIX
from regulated_inference.components.bedrock_access import DEFAULT_INVOCATION_LOGGING
from regulated_inference.components.bedrock_monitoring import MODEL_DIMENSION, RUNTIME_NAMESPACE
from regulated_inference.lib import alarms
from regulated_inference.lib.errors import ComponentArgsError
from regulated_inference.lib.outputs import publish_outputs, type_token

_COMPONENT = "AuditEvidenceAlarms"
BEDROCK_NAMESPACE = RUNTIME_NAMESPACE
#: Bedrock invocation-log delivery failure metrics (no dimensions).
DELIVERY_FAILURE_METRICS = (
    "ModelInvocationLogsCloudWatchDeliveryFailure",
    "ModelInvocationLogsS3DeliveryFailure",
    "ModelInvocationLargeDataS3DeliveryFailure",
)
CLOUDWATCH_DELIVERY_SUCCESS = "ModelInvocationLogsCloudWatchDeliverySuccess"
#: Where the metric filters publish.
AUDIT_NAMESPACE = "RegulatedInference/AuditEvidence"
#: Defaults of the optional args, in one place.
DEFAULT_TRAIL_S3_PREFIX = f"{S3_KEY_PREFIX}/"  # where `AuditTrail` delivers
DEFAULT_CAPTURE_SILENCE_HOURS = 24
DEFAULT_TRAIL_SILENCE_HOURS = 1

#: Metric filters on the trail's log group: metric name → (pattern, what it means).
FILTERS: dict[str, tuple[str, str]] = {
    "TrailConfigurationChanges": (
        '{ ($.eventSource = "cloudtrail.amazonaws.com") && (($.eventName = "StopLogging") || '
        '($.eventName = "DeleteTrail") || ($.eventName = "UpdateTrail") || '
        '($.eventName = "PutEventSelectors")) }',
        "CloudTrail stopped, deleted or reconfigured",
    ),
    "InvocationLoggingChanges": (
        '{ ($.eventSource = "bedrock.amazonaws.com") && '
        '(($.eventName = "PutModelInvocationLoggingConfiguration") || '
        '($.eventName = "DeleteModelInvocationLoggingConfiguration")) }',
        "Bedrock model invocation logging changed or deleted",
    ),
    "DataCaptureDisabled": (
        '{ ($.eventSource = "sagemaker.amazonaws.com") && ($.eventName = "CreateEndpointConfig") && '
        "($.requestParameters.dataCaptureConfig.enableCapture IS FALSE) }",
        "a SageMaker endpoint config was created with data capture switched off",
    ),
}


class AuditEvidenceAlarmsArgs(TypedDict):
    """Arguments of `AuditEvidenceAlarms`."""

    name_prefix: str
    """Prefix of alarm, filter and metric-configuration names, e.g. `regulated-inference-prod`."""
    alarm_topic_arn: pulumi.Input[str]
    """Encrypted SNS topic every alarm notifies (ALARM and OK)."""
    trail_log_group_name: pulumi.Input[str]
    """The CloudTrail log group (`AuditTrailArgs.log_group_name`): heartbeat and metric filters."""
    audit_bucket_name: pulumi.Input[str]
    """The WORM bucket the trail delivers to (S3 request metrics on its trail prefix)."""
    trail_s3_prefix: NotRequired[str]
    """The trail's key prefix in that bucket; default `cloudtrail/` (as `AuditTrail` sets it)."""
    invocation_logging: NotRequired[bool]
    """Bedrock invocation logging is configured: alarm on its delivery failures. Default True."""
    bedrock_model_ids: NotRequired[list[str]]
    """ModelIds (≤ 9) whose invocations must produce CloudWatch log deliveries (silence alarm)."""
    capture_bucket_name: NotRequired[pulumi.Input[str]]
    """Bucket of SageMaker data capture; with `capture_prefixes`, capture heartbeats."""
    capture_prefixes: NotRequired[list[str]]
    """One capture prefix per endpoint whose capture must not go silent."""
    capture_silence_hours: NotRequired[int]
    """Hours without a captured object before the capture alarm fires, 1–24; default 24."""
    trail_silence_hours: NotRequired[int]
    """Hours without trail delivery before the heartbeat alarms fire, 1–6; default 1."""


class AuditEvidenceAlarms(pulumi.ComponentResource):
    """Alarms on audit evidence: log delivery failures, trail and capture silence, tampering."""

    alarm_names: dict[str, pulumi.Output[str]]
    """Every alarm by role, e.g. "trail-heartbeat", "bedrock-ModelInvocationLogsS3DeliveryFailure"."""

    def __init__(
        self, name: str, args: AuditEvidenceAlarmsArgs, opts: pulumi.ResourceOptions | None = None
    ):
        _validate(args)
        super().__init__(type_token(_COMPONENT), name, None, opts)
        # Not `_name`/`_args`: Pulumi's Resource keeps private attributes of its own.
        self._resource_name, self._spec = name, args
        names: dict[str, pulumi.Output[str]] = {}
        if args.get("invocation_logging", DEFAULT_INVOCATION_LOGGING):
            names |= self._bedrock_delivery()
        names |= self._trail()
        names |= self._filters()
        names |= self._capture()
        publish_outputs(self, alarm_names=names)

    # -- steps --------------------------------------------------------------------------

    def _alarm(self, role: str, description: str, **kwargs) -> pulumi.Output[str]:
        return alarms.role_alarm(
            self,
            self._resource_name,
            self._spec["name_prefix"],
            self._spec["alarm_topic_arn"],
            role,
            description,
            **kwargs,
        ).name

    def _any_count(
        self, role: str, description: str, namespace: str, metric: str
    ) -> pulumi.Output[str]:
        """ALARM on any datapoint above 0 in 5 minutes of a counter that is emitted only when
        something happened (missing data is not breaching)."""
        return self._alarm(
            role,
            description,
            namespace=namespace,
            metric_name=metric,
            statistic="Sum",
            period=300,
            comparison_operator="GreaterThanThreshold",
            threshold=0,
            treat_missing_data="notBreaching",
        )

    def _bedrock_delivery(self) -> dict[str, pulumi.Output[str]]:
        out = {
            # emitted only when a delivery was attempted: no datapoint, no failure
            f"bedrock-{metric}": self._any_count(
                f"bedrock-{metric}",
                f"Bedrock invocation logs not delivered ({metric}): audit evidence lost",
                BEDROCK_NAMESPACE,
                metric,
            )
            for metric in DELIVERY_FAILURE_METRICS
        }
        ids = list(self._spec.get("bedrock_model_ids") or [])
        if ids:
            invocations = [
                alarms.metric_query(
                    f"i{n}", BEDROCK_NAMESPACE, "Invocations", {MODEL_DIMENSION: m}, "Sum", 3600
                )
                for n, m in enumerate(ids)
            ]
            total = f"SUM([{', '.join(q.id for q in invocations)}])"
            out["bedrock-invocation-logs-silent"] = self._alarm(
                "bedrock-invocation-logs-silent",
                "Bedrock models were invoked in the last hour but no invocation log reached "
                "CloudWatch Logs: invocation logging is off or failing",
                comparison_operator="GreaterThanThreshold",
                threshold=0,
                treat_missing_data="notBreaching",  # no invocations: nothing to log
                metric_queries=[
                    *invocations,
                    alarms.metric_query(
                        "ok", BEDROCK_NAMESPACE, CLOUDWATCH_DELIVERY_SUCCESS, None, "Sum", 3600
                    ),
                    alarms.expression(
                        "silent",
                        f"IF(FILL({total}, 0) > 0 AND FILL(ok, 0) == 0, 1, 0)",
                        "invoked but not logged",
                    ),
                ],
            )
        return out

    def _heartbeat(self, role: str, description: str, hours: int, **metric) -> pulumi.Output[str]:
        return self._alarm(
            role,
            description + f"; no data for {hours} h is treated as breaching",
            statistic="Sum",
            period=3600,
            evaluation_periods=hours,
            datapoints_to_alarm=hours,
            comparison_operator="LessThanThreshold",
            threshold=1,
            treat_missing_data="breaching",
            **metric,
        )

    def _s3_heartbeat(
        self, role: str, bucket: pulumi.Input[str], prefix: str, hours: int, what: str
    ):
        config = f"{self._spec['name_prefix']}-{role}"[:64]
        aws.s3.BucketMetric(
            f"{self._resource_name}-{role}-requests",
            bucket=bucket,
            name=config,
            filter=aws.s3.BucketMetricFilterArgs(prefix=prefix),
            opts=pulumi.ResourceOptions(parent=self),
        )
        return self._heartbeat(
            role,
            f"no object written under {prefix} ({what})",
            hours,
            namespace="AWS/S3",
            metric_name="PutRequests",
            dimensions={"BucketName": bucket, "FilterId": config},
        )

    def _trail(self) -> dict[str, pulumi.Output[str]]:
        a = self._spec
        hours = int(a.get("trail_silence_hours", DEFAULT_TRAIL_SILENCE_HOURS))
        return {
            "trail-heartbeat": self._heartbeat(
                "trail-heartbeat",
                "CloudTrail delivered no event to its CloudWatch log group",
                hours,
                namespace="AWS/Logs",
                metric_name="IncomingLogEvents",
                dimensions={"LogGroupName": a["trail_log_group_name"]},
            ),
            "trail-s3-heartbeat": self._s3_heartbeat(
                "trail-s3-heartbeat",
                a["audit_bucket_name"],
                a.get("trail_s3_prefix", DEFAULT_TRAIL_S3_PREFIX),
                hours,
                "CloudTrail log files not delivered to the WORM bucket",
            ),
        }

    def _filters(self) -> dict[str, pulumi.Output[str]]:
        a, out = self._spec, {}
        for metric, (pattern, meaning) in FILTERS.items():
            if metric == "InvocationLoggingChanges" and not a.get(
                "invocation_logging", DEFAULT_INVOCATION_LOGGING
            ):
                continue
            aws.cloudwatch.LogMetricFilter(
                f"{self._resource_name}-{metric}",
                name=f"{a['name_prefix']}-{metric}",
                log_group_name=a["trail_log_group_name"],
                pattern=pattern,
                metric_transformation=aws.cloudwatch.LogMetricFilterMetricTransformationArgs(
                    name=metric, namespace=AUDIT_NAMESPACE, value="1", unit="Count"
                ),
                opts=pulumi.ResourceOptions(parent=self),
            )
            role = _kebab(metric)
            # the filter emits only on a match: no datapoint, no event
            out[role] = self._any_count(
                role,
                f"{meaning} (CloudTrail event in the trail's log group)",
                AUDIT_NAMESPACE,
                metric,
            )
        return out

    def _capture(self) -> dict[str, pulumi.Output[str]]:
        a = self._spec
        hours = int(a.get("capture_silence_hours", DEFAULT_CAPTURE_SILENCE_HOURS))
        return {
            f"capture-heartbeat-{i}": self._s3_heartbeat(
                f"capture-heartbeat-{i}",
                a["capture_bucket_name"],
                prefix.strip("/") + "/",
                hours,
                "SageMaker data capture switched off, failing or the endpoint has no traffic",
            )
            for i, prefix in enumerate(a.get("capture_prefixes") or [])
        }


def _kebab(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "-", name).lower()


def _validate(args: AuditEvidenceAlarmsArgs) -> None:
    def bad(arg: str, value, rule: str) -> ComponentArgsError:
        return ComponentArgsError(_COMPONENT, arg, value, rule)

    if not re.fullmatch(r"[a-z0-9][a-z0-9-]{0,40}", args.get("name_prefix") or ""):
        raise bad(
            "name_prefix", args.get("name_prefix"), "lower-case letters, digits, '-', ≤ 41 chars"
        )
    for key in ("alarm_topic_arn", "trail_log_group_name", "audit_bucket_name"):
        if not args.get(key):
            raise bad(
                key,
                args.get(key),
                "required: evidence that is not watched is not evidence (M1, L*)",
            )
    if not (args.get("trail_s3_prefix", DEFAULT_TRAIL_S3_PREFIX) or "").strip("/"):
        raise bad(
            "trail_s3_prefix",
            args.get("trail_s3_prefix"),
            "the trail's key prefix, not the whole bucket",
        )
    ids = list(args.get("bedrock_model_ids") or [])
    if len(ids) > 9 or len(set(ids)) != len(ids) or any(i.startswith("arn:") for i in ids):
        raise bad(
            "bedrock_model_ids",
            ids,
            "≤ 9 distinct ModelIds (an alarm holds at most 10 metric queries)",
        )
    if ids and not args.get("invocation_logging", DEFAULT_INVOCATION_LOGGING):
        raise bad(
            "bedrock_model_ids", ids, "only with invocation_logging (nothing to expect otherwise)"
        )
    prefixes = list(args.get("capture_prefixes") or [])
    if prefixes and not args.get("capture_bucket_name"):
        raise bad("capture_bucket_name", None, "required with capture_prefixes")
    for p in prefixes:
        if not p.strip("/"):
            raise bad(
                "capture_prefixes", p, "a capture prefix per endpoint, never the whole bucket"
            )
    if not 1 <= args.get("capture_silence_hours", DEFAULT_CAPTURE_SILENCE_HOURS) <= 24:
        raise bad("capture_silence_hours", args.get("capture_silence_hours"), "1–24 hours")
    if not 1 <= args.get("trail_silence_hours", DEFAULT_TRAIL_SILENCE_HOURS) <= 6:
        raise bad("trail_silence_hours", args.get("trail_silence_hours"), "1–6 hours")


__all__ = [
    "AUDIT_NAMESPACE",
    "AuditEvidenceAlarms",
    "AuditEvidenceAlarmsArgs",
    "DELIVERY_FAILURE_METRICS",
    "FILTERS",
]
