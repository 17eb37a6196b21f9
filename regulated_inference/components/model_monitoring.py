"""Monitoring that goes beyond uptime: operational and quality alarms, drift, alerts, dashboard.

Three components, because SageMaker's auto-rollback needs the alarms *before*
the endpoint exists, and a Model Monitor schedule needs the endpoint *after*:

1. `AlertTopic` — the KMS-encrypted SNS topic every alarm notifies (E6, N11), and an
   EventBridge rule that forwards every deployment state change of the stack's
   endpoints — rollbacks included — to it.
2. `ModelMonitoring` — per endpoint variant: alarms on ModelLatency p99,
   OverheadLatency p99, 4xx and 5xx rates, an anomaly band on Invocations,
   CPU / memory (and GPU) utilisation, and the four quality metrics of
   `regulated_inference.lib.metrics`; a composite alarm; a dashboard. Its
   `rollback_alarm_names` feed the endpoint's auto-rollback.
3. `DataQualityMonitor` — a Model Monitor data-quality job definition (KMS on
   outputs and volume, network isolation, inter-container encryption, VPC)
   and hourly schedule, with an alarm on the features' baseline drift.

All alarms carry the dimensions SageMaker publishes with (EndpointName,
VariantName; Endpoint, MonitoringSchedule for drift) and notify the topic (M1).

`ModelMonitoring` lives here; `AlertTopic` in `alert_topic.py` and `DataQualityMonitor` in
`data_quality.py` (both importable from this module too).
"""

import json
from typing import NotRequired, TypedDict

import pulumi
import pulumi_aws as aws

# Re-exported: the three monitoring components were one module before.
from regulated_inference.components.alert_topic import (  # noqa: F401
    DEPLOYMENT_EVENT_DETAIL_TYPE,
    AlertTopic,
    AlertTopicArgs,
    deployment_event_pattern,
)
from regulated_inference.components.data_quality import (  # noqa: F401
    DataQualityMonitor,
    DataQualityMonitorArgs,
)
from regulated_inference.lib import alarms, metrics
from regulated_inference.lib import aws as aws_facts
from regulated_inference.lib import sagemaker as sm
from regulated_inference.lib.aws import AwsContext
from regulated_inference.lib.errors import ComponentArgsError
from regulated_inference.lib.outputs import publish_outputs, type_token

#: Defaults of the alarm thresholds, in one place (the stack config derives from them).
DEFAULT_LATENCY_P99_MS = 1000
DEFAULT_OVERHEAD_LATENCY_P99_MS = 100
DEFAULT_MAX_4XX_RATE = 0.05
DEFAULT_MAX_5XX_RATE = 0.01
DEFAULT_CPU_UTILIZATION_PERCENT = 80
DEFAULT_MEMORY_UTILIZATION_PERCENT = 85
DEFAULT_GPU_UTILIZATION_PERCENT = 90
DEFAULT_INVOCATIONS_ANOMALY_BAND = 3
DEFAULT_HALLUCINATION_RATE_MAX = 0.05
DEFAULT_BIAS_DISPARITY_MAX = 0.1
DEFAULT_USER_SATISFACTION_MIN = 0.7
DEFAULT_OUTPUT_QUALITY_MIN = 0.7
#: Period (seconds) and breaching periods of the operational alarms.
DEFAULT_PERIOD_SECONDS = 60
DEFAULT_EVALUATION_PERIODS = 3


class Thresholds(TypedDict):
    """Alarm thresholds for one endpoint variant; each omitted one takes its `DEFAULT_*`."""

    latency_p99_ms: NotRequired[float]
    """ModelLatency p99 above this (ms) alarms and rolls a deployment back; default 1000."""
    overhead_latency_p99_ms: NotRequired[float]
    """OverheadLatency p99 (SageMaker's own time) above this (ms) alarms; default 100."""
    max_4xx_rate: NotRequired[float]
    """Share of requests answered 4xx above which the alarm fires; default 0.05."""
    max_5xx_rate: NotRequired[float]
    """Share of requests answered 5xx above which the alarm fires; default 0.01."""
    cpu_utilization_percent: NotRequired[float]
    """CPUUtilization above this alarms (0–100 × vCPUs); default 80."""
    memory_utilization_percent: NotRequired[float]
    """MemoryUtilization above this alarms; default 85."""
    gpu_utilization_percent: NotRequired[float]
    """GPUUtilization above this alarms (GPU instance types only); default 90."""
    invocations_anomaly_band: NotRequired[float]
    """Width (standard deviations) of the anomaly band on Invocations; default 3."""
    hallucination_rate_max: NotRequired[float]
    """HallucinationRate above this alarms; default 0.05."""
    bias_disparity_max: NotRequired[float]
    """BiasDisparity above this alarms; default 0.1."""
    user_satisfaction_min: NotRequired[float]
    """UserSatisfaction below this alarms; default 0.7."""
    output_quality_min: NotRequired[float]
    """OutputQualityScore below this alarms; default 0.7."""


#: Every threshold's default, by key (the one table `threshold` reads).
THRESHOLD_DEFAULTS: dict[str, float] = {
    "latency_p99_ms": DEFAULT_LATENCY_P99_MS,
    "overhead_latency_p99_ms": DEFAULT_OVERHEAD_LATENCY_P99_MS,
    "max_4xx_rate": DEFAULT_MAX_4XX_RATE,
    "max_5xx_rate": DEFAULT_MAX_5XX_RATE,
    "cpu_utilization_percent": DEFAULT_CPU_UTILIZATION_PERCENT,
    "memory_utilization_percent": DEFAULT_MEMORY_UTILIZATION_PERCENT,
    "gpu_utilization_percent": DEFAULT_GPU_UTILIZATION_PERCENT,
    "invocations_anomaly_band": DEFAULT_INVOCATIONS_ANOMALY_BAND,
    "hallucination_rate_max": DEFAULT_HALLUCINATION_RATE_MAX,
    "bias_disparity_max": DEFAULT_BIAS_DISPARITY_MAX,
    "user_satisfaction_min": DEFAULT_USER_SATISFACTION_MIN,
    "output_quality_min": DEFAULT_OUTPUT_QUALITY_MIN,
}
#: The threshold key of each quality metric.
QUALITY_THRESHOLD_KEYS = {
    metrics.HALLUCINATION_RATE.name: "hallucination_rate_max",
    metrics.BIAS_DISPARITY.name: "bias_disparity_max",
    metrics.USER_SATISFACTION.name: "user_satisfaction_min",
    metrics.OUTPUT_QUALITY.name: "output_quality_min",
}


def thresholds_with_defaults(thresholds: Thresholds | None) -> dict[str, float]:
    """Every threshold: the given ones over `THRESHOLD_DEFAULTS` (ValueError for a bad one)."""
    return alarms.with_defaults(thresholds, THRESHOLD_DEFAULTS)  # type: ignore[arg-type]


class ModelMonitoringArgs(TypedDict):
    """Arguments of `ModelMonitoring`."""

    endpoint_name: str
    """The endpoint's name (plain: alarms exist before the endpoint, for auto-rollback)."""
    variant_name: str
    """The production variant watched (stable across versions)."""
    instance_type: str
    """Decides whether GPU alarms exist."""
    alarm_topic_arn: pulumi.Input[str]
    """Encrypted SNS topic every alarm notifies (alarm, OK and insufficient data for quality)."""
    aws: AwsContext
    """Home region (dashboard widgets) and account."""
    thresholds: NotRequired[Thresholds]
    """Alarm thresholds; each omitted one takes its default (`DEFAULT_*`)."""
    period_seconds: NotRequired[int]
    """Period of operational alarms in seconds; default 60."""
    evaluation_periods: NotRequired[int]
    """Periods that must breach before an operational alarm fires; default 3."""


class ModelMonitoring(pulumi.ComponentResource):
    """Alarms, a composite alarm and a dashboard for one SageMaker endpoint variant."""

    rollback_alarm_names: list[pulumi.Output[str]]
    """Alarms SageMaker watches during a deployment (latency, overhead, 4xx, 5xx)."""
    alarm_names: dict[str, pulumi.Output[str]]
    """Every metric alarm by role (e.g. "latency-p99", "quality-HallucinationRate")."""
    composite_alarm_name: pulumi.Output[str]
    """The endpoint's composite alarm (any operational or quality alarm in ALARM)."""
    dashboard_name: pulumi.Output[str]
    """The endpoint variant's CloudWatch dashboard."""

    def __init__(
        self, name: str, args: ModelMonitoringArgs, opts: pulumi.ResourceOptions | None = None
    ):
        _validate_monitoring(args)
        super().__init__(type_token("ModelMonitoring"), name, None, opts)
        thresholds = thresholds_with_defaults(args.get("thresholds"))
        rollback, operational = self._operational_alarms(name, args, thresholds)
        quality = self._quality_alarms(name, args, thresholds)
        composite = self._composite_alarm(name, args, [*operational.values(), *quality.values()])
        dashboard = aws.cloudwatch.Dashboard(
            f"{name}-dashboard",
            dashboard_name=f"{args['endpoint_name']}-{args['variant_name']}",
            dashboard_body=json.dumps(
                dashboard_body(
                    args["endpoint_name"],
                    args["variant_name"],
                    args["aws"]["region"],
                    args["instance_type"],
                )
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        publish_outputs(
            self,
            rollback_alarm_names=[a.name for a in rollback],
            alarm_names={role: a.name for role, a in operational.items()}
            | {f"quality-{k}": a.name for k, a in quality.items()},
            composite_alarm_name=composite.alarm_name,
            dashboard_name=dashboard.dashboard_name,
        )

    def _operational_alarms(
        self, name: str, args: ModelMonitoringArgs, thresholds: dict[str, float]
    ) -> tuple[list[aws.cloudwatch.MetricAlarm], dict[str, aws.cloudwatch.MetricAlarm]]:
        """SageMaker's metrics: latency, error rates (the rollback alarms), traffic, utilisation."""
        endpoint, variant = args["endpoint_name"], args["variant_name"]
        dims = {"EndpointName": endpoint, "VariantName": variant}
        # int(): Construct passes integers as doubles (pulumi/pulumi#21944).
        period = int(args.get("period_seconds", DEFAULT_PERIOD_SECONDS))
        periods = int(args.get("evaluation_periods", DEFAULT_EVALUATION_PERIODS))

        def t(key: str) -> float:
            return thresholds[key]

        def alarm(role: str, description: str, **kwargs) -> aws.cloudwatch.MetricAlarm:
            kwargs.setdefault("dimensions", dims)
            kwargs.setdefault("period", period)
            kwargs.setdefault("evaluation_periods", periods)
            return alarms.metric_alarm(
                f"{name}-{role}",
                parent=self,
                topic_arn=args["alarm_topic_arn"],
                name=f"{endpoint}-{variant}-{role}",
                description=f"{endpoint}/{variant}: {description}",
                treat_missing_data="notBreaching",
                **kwargs,
            )

        op: dict[str, aws.cloudwatch.MetricAlarm] = {}
        for role, metric, key in (
            ("latency-p99", "ModelLatency", "latency_p99_ms"),
            ("overhead-latency-p99", "OverheadLatency", "overhead_latency_p99_ms"),
        ):
            op[role] = alarm(
                role,
                f"{metric} p99 above {t(key)} ms",
                namespace=sm.INVOCATION_NAMESPACE,
                metric_name=metric,
                extended_statistic="p99",
                comparison_operator="GreaterThanThreshold",
                threshold=t(key) * 1000,  # SageMaker reports microseconds
            )
        for code in ("4xx", "5xx"):
            rate = t(f"max_{code}_rate")
            op[f"{code}-rate"] = alarm(
                f"{code}-rate",
                f"more than {rate:.2%} of requests answered {code}",
                namespace=sm.INVOCATION_NAMESPACE,
                metric_name=f"Invocation{code.upper()}Errors",
                # 1 per error response, 0 otherwise: the average is the rate
                statistic="Average",
                comparison_operator="GreaterThanThreshold",
                threshold=rate,
            )
        rollback = list(op.values())
        band = t("invocations_anomaly_band")
        op["invocations-anomaly"] = alarm(
            "invocations-anomaly",
            f"Invocations outside a {band}-sigma anomaly band",
            dimensions=None,
            period=None,
            evaluation_periods=5,
            datapoints_to_alarm=3,
            comparison_operator="LessThanLowerOrGreaterThanUpperThreshold",
            threshold_metric_id="band",
            metric_queries=[
                aws.cloudwatch.MetricAlarmMetricQueryArgs(
                    id="invocations",
                    return_data=True,
                    metric=aws.cloudwatch.MetricAlarmMetricQueryMetricArgs(
                        namespace=sm.INVOCATION_NAMESPACE,
                        metric_name="Invocations",
                        dimensions=dims,
                        period=300,
                        stat="Sum",
                    ),
                ),
                alarms.expression(
                    "band", f"ANOMALY_DETECTION_BAND(invocations, {band})", "expected invocations"
                ),
            ],
        )
        utilisation = [
            ("cpu", "CPUUtilization", t("cpu_utilization_percent")),
            ("memory", "MemoryUtilization", t("memory_utilization_percent")),
        ]
        if sm.has_gpu(args["instance_type"]):
            utilisation.append(("gpu", "GPUUtilization", t("gpu_utilization_percent")))
        for role, metric, limit in utilisation:
            op[f"{role}-utilization"] = alarm(
                f"{role}-utilization",
                f"{metric} above {limit}%",
                namespace=sm.INSTANCE_NAMESPACE,
                metric_name=metric,
                statistic="Average",
                comparison_operator="GreaterThanThreshold",
                threshold=limit,
                period=300,
            )
        return rollback, op

    def _quality_alarms(
        self, name: str, args: ModelMonitoringArgs, thresholds: dict[str, float]
    ) -> dict[str, aws.cloudwatch.MetricAlarm]:
        """The evaluation job's quality metrics; no data for 3 hours is an alarm too."""
        endpoint, variant = args["endpoint_name"], args["variant_name"]
        topic = args["alarm_topic_arn"]
        quality: dict[str, aws.cloudwatch.MetricAlarm] = {}
        for qm in metrics.QUALITY_METRICS:
            limit = thresholds[QUALITY_THRESHOLD_KEYS[qm.name]]
            quality[qm.name] = alarms.metric_alarm(
                f"{name}-quality-{qm.name}",
                parent=self,
                topic_arn=topic,
                name=f"{endpoint}-{variant}-quality-{qm.name}",
                description=(
                    f"{endpoint}/{variant}: {qm.name} ({qm.description}) "
                    f"{'above' if qm.bad_when == 'above' else 'below'} {limit}; "
                    "no data for 3 hours means the evaluation job stopped publishing"
                ),
                treat_missing_data="missing",
                namespace=metrics.QUALITY_NAMESPACE,
                metric_name=qm.name,
                dimensions=metrics.quality_dimensions(endpoint, variant),
                statistic="Average",
                period=metrics.QUALITY_PERIOD_SECONDS,
                evaluation_periods=1,
                datapoints_to_alarm=None,  # one period: AWS's default (= evaluation_periods)
                comparison_operator="GreaterThanThreshold"
                if qm.bad_when == "above"
                else "LessThanThreshold",
                threshold=limit,
                insufficient_data_actions=[topic],
            )
        return quality

    def _composite_alarm(
        self, name: str, args: ModelMonitoringArgs, every: list[aws.cloudwatch.MetricAlarm]
    ) -> aws.cloudwatch.CompositeAlarm:
        """ALARM when any operational or quality alarm is."""
        endpoint, variant = args["endpoint_name"], args["variant_name"]
        topic = args["alarm_topic_arn"]
        return aws.cloudwatch.CompositeAlarm(
            f"{name}-composite",
            alarm_name=f"{endpoint}-{variant}-health",
            alarm_description=f"{endpoint}/{variant}: any operational or quality alarm",
            alarm_rule=pulumi.Output.all(*[a.name for a in every]).apply(
                lambda names: " OR ".join(f'ALARM("{n}")' for n in names)
            ),
            actions_enabled=True,
            alarm_actions=[topic],
            ok_actions=[topic],
            opts=pulumi.ResourceOptions(parent=self),
        )


def _validate_monitoring(args: ModelMonitoringArgs) -> None:
    c = "ModelMonitoring"
    for key in ("endpoint_name", "variant_name"):
        if not sm.SAGEMAKER_NAME.match(args.get(key) or ""):
            raise ComponentArgsError(c, key, args.get(key), "must be a plain SageMaker name")
    try:
        sm.instance_family(args.get("instance_type", ""))
    except ValueError as exc:
        raise ComponentArgsError(c, "instance_type", args.get("instance_type"), str(exc)) from None
    if not args.get("alarm_topic_arn"):
        raise ComponentArgsError(c, "alarm_topic_arn", None, "every alarm needs an action (M1)")
    problem = aws_facts.check_context(args.get("aws"))
    if problem:
        raise ComponentArgsError(c, "aws", args.get("aws"), problem)
    thresholds = args.get("thresholds")
    if thresholds is not None and not isinstance(thresholds, dict):
        raise ComponentArgsError(c, "thresholds", thresholds, "must be a Thresholds mapping")
    try:
        thresholds_with_defaults(thresholds)
    except ValueError as exc:
        raise ComponentArgsError(c, "thresholds", thresholds, str(exc)) from None


def dashboard_body(endpoint: str, variant: str, region: str, instance_type: str) -> dict:
    """One dashboard per endpoint variant: traffic, latency, errors, utilisation, quality."""
    d = ["EndpointName", endpoint, "VariantName", variant]

    def widget(
        title: str, series: list[list], stat: str, y: int, x: int = 0, period: int = 60
    ) -> dict:
        return {
            "type": "metric",
            "x": x,
            "y": y,
            "width": 12,
            "height": 6,
            "properties": {
                "title": title,
                "region": region,
                "stat": stat,
                "period": period,
                "metrics": series,
            },
        }

    ns, inst = sm.INVOCATION_NAMESPACE, sm.INSTANCE_NAMESPACE
    util = [[inst, "CPUUtilization", *d], [inst, "MemoryUtilization", *d]]
    if sm.has_gpu(instance_type):
        util += [[inst, "GPUUtilization", *d], [inst, "GPUMemoryUtilization", *d]]
    return {
        "widgets": [
            widget("Invocations", [[ns, "Invocations", *d]], "Sum", 0),
            widget(
                "Latency p99 (µs)",
                [[ns, "ModelLatency", *d], [ns, "OverheadLatency", *d]],
                "p99",
                0,
                12,
            ),
            widget(
                "Error rate",
                [[ns, "Invocation4XXErrors", *d], [ns, "Invocation5XXErrors", *d]],
                "Average",
                6,
            ),
            widget("Utilisation (%)", util, "Average", 6, 12),
            widget(
                "Model Quality",
                [[metrics.QUALITY_NAMESPACE, q.name, *d] for q in metrics.QUALITY_METRICS],
                "Average",
                12,
                period=metrics.QUALITY_PERIOD_SECONDS,
            ),
        ]
    }


__all__ = [
    "AlertTopic",
    "AlertTopicArgs",
    "DEPLOYMENT_EVENT_DETAIL_TYPE",
    "DataQualityMonitor",
    "DataQualityMonitorArgs",
    "ModelMonitoring",
    "ModelMonitoringArgs",
    "THRESHOLD_DEFAULTS",
    "Thresholds",
    "dashboard_body",
    "deployment_event_pattern",
    "thresholds_with_defaults",
]
