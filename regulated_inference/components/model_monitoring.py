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
"""

import json
from typing import NotRequired, TypedDict

import pulumi
import pulumi_aws as aws

from regulated_inference.components.least_privilege_role import LeastPrivilegeRole, service_trust
from regulated_inference.lib import alarms, iam, metrics
from regulated_inference.lib import aws as aws_facts
from regulated_inference.lib import sagemaker as sm
from regulated_inference.lib.aws import AwsContext
from regulated_inference.lib.errors import ComponentArgsError
from regulated_inference.lib.outputs import publish_outputs

_EMAIL = "email"


# -- alerts -----------------------------------------------------------------------------


class AlertTopicArgs(TypedDict):
    """Arguments of `AlertTopic`."""

    kms_key_arn: pulumi.Input[str]
    """CMK the topic encrypts messages with; its key policy must let CloudWatch alarms use it."""
    emails: list[str]
    """E-mail addresses subscribed (each confirms by e-mail). At least one."""
    aws: AwsContext
    """This account and home region: only its CloudWatch alarms (and the deployment-event rule)
    may publish; the endpoints of the event rule are in its region."""
    deployment_event_endpoints: NotRequired[list[str]]
    """Endpoint names whose deployment state changes (rollbacks included) are forwarded."""


#: EventBridge event SageMaker sends for blue/green and rolling deployments, including an
#: automatic rollback ("Events that Amazon SageMaker AI sends to Amazon EventBridge",
#: "SageMaker endpoint deployment state change"; `resources` holds the endpoint ARN).
DEPLOYMENT_EVENT_SOURCE = "aws.sagemaker"
DEPLOYMENT_EVENT_DETAIL_TYPE = "SageMaker Endpoint Deployment State Change"


def deployment_event_pattern(endpoint_arns: list[str]) -> dict:
    """Every deployment state change of these endpoints. Not filtered on the state: a rollback
    must never be missed because a state name changed, and people need the start too."""
    return {
        "source": [DEPLOYMENT_EVENT_SOURCE],
        "detail-type": [DEPLOYMENT_EVENT_DETAIL_TYPE],
        "resources": sorted(endpoint_arns),
    }


def _validate_alert_topic(args: AlertTopicArgs) -> None:
    c = "AlertTopic"
    emails = list(args.get("emails") or [])
    if not emails or any("@" not in e for e in emails):
        raise ComponentArgsError(c, "emails", emails, "at least one e-mail address")
    if not args.get("kms_key_arn"):
        raise ComponentArgsError(c, "kms_key_arn", None, "alerts are KMS-encrypted (E6)")
    problem = aws_facts.check_context(args.get("aws"))
    if problem:
        raise ComponentArgsError(c, "aws", args.get("aws"), problem)
    for e in args.get("deployment_event_endpoints") or []:
        if not sm.SAGEMAKER_NAME.match(e or ""):
            raise ComponentArgsError(c, "deployment_event_endpoints", e, "endpoint names")


class AlertTopic(pulumi.ComponentResource):
    """A KMS-encrypted SNS topic that only this account's CloudWatch alarms can publish to."""

    arn: pulumi.Output[str]
    """The topic ARN (alarm action)."""
    deployment_event_rule_arn: pulumi.Output[str] | None
    """ARN of the EventBridge rule forwarding endpoint deployment events (None without endpoints)."""

    def __init__(self, name: str, args: AlertTopicArgs, opts: pulumi.ResourceOptions | None = None):
        _validate_alert_topic(args)
        super().__init__("regulated-inference:index:AlertTopic", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        topic = aws.sns.Topic(
            f"{name}-topic", name=name, kms_master_key_id=args["kms_key_arn"], opts=child
        )
        endpoints = list(args.get("deployment_event_endpoints") or [])
        rule_arn = (
            self._deployment_events(name, args["aws"], endpoints, topic) if endpoints else None
        )
        aws.sns.TopicPolicy(
            f"{name}-policy",
            arn=topic.arn,
            policy=pulumi.Output.all(topic.arn, rule_arn).apply(
                lambda r: alert_topic_policy(args["aws"], r[0], r[1])
            ),
            opts=child,
        )
        for i, email in enumerate(args["emails"]):
            aws.sns.TopicSubscription(
                f"{name}-email-{i}", topic=topic.arn, protocol=_EMAIL, endpoint=email, opts=child
            )
        self.arn = topic.arn
        self.deployment_event_rule_arn = rule_arn
        self.register_outputs({"arn": self.arn, "deploymentEventRuleArn": rule_arn})

    def _deployment_events(
        self, name: str, ctx: AwsContext, endpoints: list[str], topic: aws.sns.Topic
    ) -> pulumi.Output[str]:
        """An EventBridge rule forwarding the endpoints' deployment state changes to the topic."""
        child = pulumi.ResourceOptions(parent=self)
        rule = aws.cloudwatch.EventRule(
            f"{name}-deployments",
            name=f"{name}-deployments"[:64],
            description="SageMaker endpoint deployment state changes (rollbacks included)",
            event_pattern=json.dumps(
                deployment_event_pattern(
                    [aws_facts.sagemaker_endpoint_arn(ctx, e) for e in endpoints]
                )
            ),
            opts=child,
        )
        aws.cloudwatch.EventTarget(
            f"{name}-deployments-to-topic", rule=rule.name, arn=topic.arn, opts=child
        )
        return rule.arn


def alert_topic_policy(ctx: AwsContext, topic_arn: str, rule_arn: str | None) -> str:
    """Who may publish: this account's CloudWatch alarms, the deployment-event rule, over TLS."""

    def publish_from(sid: str, service: str, source: dict[str, dict[str, str]]) -> dict:
        return {
            "Sid": sid,
            "Effect": "Allow",
            "Principal": {"Service": service},
            "Action": "sns:Publish",
            "Resource": topic_arn,
            "Condition": {"StringEquals": {"aws:SourceAccount": ctx["account_id"]}, **source},
        }

    statements = []
    if rule_arn:
        statements.append(
            publish_from(
                "EndpointDeploymentEventsOfThisStack",
                "events.amazonaws.com",
                {"ArnEquals": {"aws:SourceArn": rule_arn}},
            )
        )
    return iam.document(
        [
            *statements,
            publish_from(
                "CloudWatchAlarmsOfThisAccount",
                "cloudwatch.amazonaws.com",
                {"ArnLike": {"aws:SourceArn": aws_facts.cloudwatch_alarm_arn(ctx, "*")}},
            ),
            {
                "Sid": "DenyInsecureTransport",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "sns:Publish",
                "Resource": topic_arn,
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            },
        ]
    )


# -- per-endpoint alarms ---------------------------------------------------------------


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
        super().__init__("regulated-inference:index:ModelMonitoring", name, None, opts)
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
        op["latency-p99"] = alarm(
            "latency-p99",
            f"ModelLatency p99 above {t('latency_p99_ms')} ms",
            namespace=sm.INVOCATION_NAMESPACE,
            metric_name="ModelLatency",
            extended_statistic="p99",
            comparison_operator="GreaterThanThreshold",
            threshold=t("latency_p99_ms") * 1000,  # SageMaker reports microseconds
        )
        op["overhead-latency-p99"] = alarm(
            "overhead-latency-p99",
            f"OverheadLatency p99 above {t('overhead_latency_p99_ms')} ms",
            namespace=sm.INVOCATION_NAMESPACE,
            metric_name="OverheadLatency",
            extended_statistic="p99",
            comparison_operator="GreaterThanThreshold",
            threshold=t("overhead_latency_p99_ms") * 1000,
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


# -- drift -----------------------------------------------------------------------------


class DataQualityMonitorArgs(TypedDict):
    """Arguments of `DataQualityMonitor`."""

    endpoint_name: pulumi.Input[str]
    """The monitored endpoint (pass the Endpoint's output so the schedule follows it)."""
    schedule_name: str
    """Name of the monitoring schedule (a dimension of the drift metrics)."""
    features: list[str]
    """Features whose baseline-drift metric is alarmed, 1–9."""
    drift_threshold: float
    """Baseline drift distance above which the alarm fires."""
    schedule_expression: str
    """e.g. cron(0 * ? * * *) (hourly)."""
    instance_type: str
    """Monitoring job instance (EBS-backed: its volume is KMS-encrypted)."""
    max_runtime_seconds: int
    """Job time limit, ≤ 3600 for an hourly schedule."""
    capture_bucket_name: pulumi.Input[str]
    """The bucket holding the endpoint's data capture (and the job's reports)."""
    capture_bucket_arn: pulumi.Input[str]
    """Its ARN (the job's role reads the capture prefix and writes the output prefix only)."""
    capture_prefix: str
    """Where the endpoint's data capture lands (read)."""
    output_prefix: str
    """Where reports are written in the capture bucket."""
    baseline_bucket_name: pulumi.Input[str]
    """The bucket holding the baseline (constraints and statistics)."""
    baseline_bucket_arn: pulumi.Input[str]
    """Its ARN (the job's role reads the baseline prefix only)."""
    baseline_prefix: str
    """Folder holding constraints.json and statistics.json."""
    data_key_arn: pulumi.Input[str]
    """CMK for reports and the job's volume."""
    subnet_ids: list[pulumi.Input[str]]
    """Private subnets in ≥ 2 AZs the job runs in."""
    subnet_arns: list[pulumi.Input[str]]
    """ARNs of `subnet_ids`, in the same order (the role may attach ENIs there only)."""
    security_group_id: pulumi.Input[str]
    """The workload security group of the job."""
    security_group_arn: pulumi.Input[str]
    """ARN of the workload security group."""
    aws: AwsContext
    """Home region (the Model Monitor image, ARNs) and account."""
    alarm_topic_arn: pulumi.Input[str]
    """Encrypted SNS topic the drift alarm notifies (alarm, OK and insufficient data)."""


class DataQualityMonitor(pulumi.ComponentResource):
    """Model Monitor data-quality job + schedule for one endpoint, and a drift alarm."""

    schedule_name: pulumi.Output[str]
    """The monitoring schedule's name."""
    job_definition_name: pulumi.Output[str]
    """The current data-quality job definition (named after a hash of its content)."""
    drift_alarm_name: pulumi.Output[str]
    """The alarm on the largest feature baseline drift."""
    role_arn: pulumi.Output[str]
    """The job's execution role."""

    def __init__(
        self, name: str, args: DataQualityMonitorArgs, opts: pulumi.ResourceOptions | None = None
    ):
        image = _validate_drift(args)
        super().__init__("regulated-inference:index:DataQualityMonitor", name, None, opts)
        role = LeastPrivilegeRole(
            f"{name}-role",
            {
                "trust": service_trust(
                    "sagemaker.amazonaws.com",
                    args["aws"]["account_id"],
                    aws_facts.sagemaker_arn(args["aws"], "processing-job", "*"),
                ),
                "description": f"Model Monitor data-quality job of {args['schedule_name']}",
                "grants": iam.monitoring_job_grants(args, args["aws"], sm.DATA_QUALITY_NAMESPACE),
            },
            opts=pulumi.ResourceOptions(parent=self),
        )
        job = self._job_definition(name, args, image, role)
        schedule = aws.sagemaker.MonitoringSchedule(
            f"{name}-schedule",
            name=args["schedule_name"],
            monitoring_schedule_config=aws.sagemaker.MonitoringScheduleMonitoringScheduleConfigArgs(
                monitoring_job_definition_name=job.name,
                monitoring_type="DataQuality",
                schedule_config=aws.sagemaker.MonitoringScheduleMonitoringScheduleConfigScheduleConfigArgs(
                    schedule_expression=args["schedule_expression"]
                ),
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        drift = self._drift_alarm(name, args, schedule)
        publish_outputs(
            self,
            schedule_name=schedule.name,
            job_definition_name=job.name,
            drift_alarm_name=drift.name,
            role_arn=role.arn,
        )

    def _job_definition(
        self,
        name: str,
        args: DataQualityMonitorArgs,
        image: str,
        role: LeastPrivilegeRole,
    ) -> aws.sagemaker.DataQualityJobDefinition:
        """The data-quality job: KMS on outputs and volume, network isolation, inter-container
        encryption, in the private subnets.

        Every field of a job definition forces replacement (sm.FORCE_NEW) and a fixed name
        makes the provider delete it before recreating it, while the schedule points at it.
        So the job definition is named (logically and physically) after a hash of its
        content: a new version (new baseline) is a new job definition, created first; the
        schedule is updated in place to it; the old one is deleted at the end."""
        baseline = pulumi.Output.concat(
            "s3://", args["baseline_bucket_name"], "/", args["baseline_prefix"].strip("/"), "/"
        )
        job_hash = sm.short_hash(
            {
                "image": image,
                "baseline": args["baseline_prefix"],
                "output": args["output_prefix"],
                "capture": args["capture_prefix"],
                "instanceType": args["instance_type"],
                "maxRuntime": int(args["max_runtime_seconds"]),
                "schedule": args["schedule_name"],
            }
        )
        return aws.sagemaker.DataQualityJobDefinition(
            f"{name}-job-{job_hash}",
            name=sm.safe_name(args["schedule_name"], job_hash),
            role_arn=role.arn,
            data_quality_app_specification=aws.sagemaker.DataQualityJobDefinitionDataQualityAppSpecificationArgs(
                image_uri=image,
                environment={"publish_cloudwatch_metrics": "Enabled"},
            ),
            data_quality_baseline_config=aws.sagemaker.DataQualityJobDefinitionDataQualityBaselineConfigArgs(
                constraints_resource=aws.sagemaker.DataQualityJobDefinitionDataQualityBaselineConfigConstraintsResourceArgs(
                    s3_uri=pulumi.Output.concat(baseline, "constraints.json")
                ),
                statistics_resource=aws.sagemaker.DataQualityJobDefinitionDataQualityBaselineConfigStatisticsResourceArgs(
                    s3_uri=pulumi.Output.concat(baseline, "statistics.json")
                ),
            ),
            data_quality_job_input=aws.sagemaker.DataQualityJobDefinitionDataQualityJobInputArgs(
                endpoint_input=aws.sagemaker.DataQualityJobDefinitionDataQualityJobInputEndpointInputArgs(
                    endpoint_name=args["endpoint_name"],
                    local_path="/opt/ml/processing/input/endpoint",
                    s3_data_distribution_type="FullyReplicated",
                    s3_input_mode="File",
                )
            ),
            data_quality_job_output_config=aws.sagemaker.DataQualityJobDefinitionDataQualityJobOutputConfigArgs(
                kms_key_id=args["data_key_arn"],
                monitoring_outputs=aws.sagemaker.DataQualityJobDefinitionDataQualityJobOutputConfigMonitoringOutputsArgs(
                    s3_output=aws.sagemaker.DataQualityJobDefinitionDataQualityJobOutputConfigMonitoringOutputsS3OutputArgs(
                        s3_uri=pulumi.Output.concat(
                            "s3://",
                            args["capture_bucket_name"],
                            "/",
                            args["output_prefix"].strip("/"),
                        ),
                        local_path="/opt/ml/processing/output",
                        s3_upload_mode="EndOfJob",
                    )
                ),
            ),
            job_resources=aws.sagemaker.DataQualityJobDefinitionJobResourcesArgs(
                cluster_config=aws.sagemaker.DataQualityJobDefinitionJobResourcesClusterConfigArgs(
                    instance_count=1,
                    instance_type=args["instance_type"],
                    volume_size_in_gb=20,
                    volume_kms_key_id=args["data_key_arn"],
                )
            ),
            network_config=aws.sagemaker.DataQualityJobDefinitionNetworkConfigArgs(
                enable_network_isolation=True,
                enable_inter_container_traffic_encryption=True,
                vpc_config=aws.sagemaker.DataQualityJobDefinitionNetworkConfigVpcConfigArgs(
                    subnets=list(args["subnet_ids"]),
                    security_group_ids=[args["security_group_id"]],
                ),
            ),
            stopping_condition=aws.sagemaker.DataQualityJobDefinitionStoppingConditionArgs(
                max_runtime_in_seconds=int(args["max_runtime_seconds"])
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[role]),
        )

    def _drift_alarm(
        self,
        name: str,
        args: DataQualityMonitorArgs,
        schedule: aws.sagemaker.MonitoringSchedule,
    ) -> aws.cloudwatch.MetricAlarm:
        """The largest feature baseline drift of the hourly job above the threshold; missing
        data is `missing` (Model Monitor publishes only when a job ran)."""
        topic = args["alarm_topic_arn"]
        return alarms.metric_alarm(
            f"{name}-drift",
            parent=self,
            topic_arn=topic,
            name=f"{args['schedule_name']}-feature-drift",
            description=(
                f"feature baseline drift above {args['drift_threshold']} on "
                f"{', '.join(args['features'])} (Model Monitor data quality)"
            ),
            treat_missing_data="missing",
            comparison_operator="GreaterThanThreshold",
            threshold=args["drift_threshold"],
            evaluation_periods=1,
            datapoints_to_alarm=None,  # one period: AWS's default (= evaluation_periods)
            metric_queries=alarms.drift_queries(
                sm.DATA_QUALITY_NAMESPACE,
                args["endpoint_name"],
                schedule.name,
                args["features"],
                3600,
            ),
            insufficient_data_actions=[topic],
        )


def _validate_drift(args: DataQualityMonitorArgs) -> str:
    c = "DataQualityMonitor"
    features = args.get("features") or []
    if not 1 <= len(features) <= 9:
        raise ComponentArgsError(
            c, "features", features, "1–9 features (an alarm holds at most 10 metric queries)"
        )
    for feature in features:
        try:
            metrics.drift_metric_name(feature)
        except ValueError as exc:
            raise ComponentArgsError(c, "features", feature, str(exc)) from None
    try:
        sm.check_kms_instance_type(args.get("instance_type", ""))
    except ValueError as exc:
        raise ComponentArgsError(c, "instance_type", args.get("instance_type"), str(exc)) from None
    if not sm.SAGEMAKER_NAME.match(args.get("schedule_name") or ""):
        raise ComponentArgsError(c, "schedule_name", args.get("schedule_name"), "SageMaker name")
    if len(args.get("subnet_ids") or []) < 2:
        raise ComponentArgsError(
            c, "subnet_ids", args.get("subnet_ids"), "private subnets in ≥ 2 AZs"
        )
    if not 60 <= args.get("max_runtime_seconds", 0) <= 3600:
        raise ComponentArgsError(
            c,
            "max_runtime_seconds",
            args.get("max_runtime_seconds"),
            "60–3600 s: a job must finish within the hourly schedule",
        )
    problem = aws_facts.check_context(args.get("aws"))
    if problem:
        raise ComponentArgsError(c, "aws", args.get("aws"), problem)
    try:
        return sm.model_monitor_image(args["aws"]["region"])
    except ValueError as exc:
        raise ComponentArgsError(c, "aws.region", args["aws"]["region"], str(exc)) from None


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
