"""Composition of the inference layer: SageMaker models with their monitoring, and Bedrock.

Per SageMaker model in the stack config, in this order (each step needs the one before):

1. `ModelMonitoring` — alarms (with the endpoint's fixed name), composite alarm, dashboard;
2. `ManagedInference` — model, endpoint config, endpoint whose auto-rollback watches
   the alarms of step 1, autoscaling, invoke policy, deployment record;
3. drift, by the model's `monitoring.drift.mode`: `ScheduledDriftCheck` (default
   `processing-job`: an EventBridge Scheduler schedule starts a SageMaker Processing job —
   any account) or `DataQualityMonitor` (`model-monitor`: a Model Monitor schedule, for
   accounts that have it). Both feed one drift alarm per endpoint through the same metric
   contract (`regulated_inference.lib.metrics`, docs/quality-metrics.md).

Bedrock: `BedrockAccess` (guardrail, invoke role, invocation logging when this stack owns it)
and `BedrockMonitoring` (latency, error and throttle alarms per allowed model id, guardrail
intervention and server-error alarms).

Every alarm notifies the platform's KMS-encrypted alert topic (`<project>-<stack>-model-alerts`,
`Platform.alerts`), and so does an EventBridge rule on every deployment state change of the
stack's endpoints (an automatic rollback included).

The model registry is not declared here: each model's package group is created by the
registry project (`registry/`), named by `sagemaker.package_group_name(<model>, <stack>)`,
and the endpoints deploy package versions the config declares as registered and approved
(docs/lifecycle.md "Day one").
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypedDict

import pulumi

from regulated_inference.components.bedrock_access import BedrockAccess
from regulated_inference.components.bedrock_monitoring import BedrockMonitoring, model_id
from regulated_inference.components.data_quality import DataQualityMonitor
from regulated_inference.components.drift_job import MAX_CHECK_NAME, ScheduledDriftCheck
from regulated_inference.components.managed_inference import (
    DEFAULT_VARIANT,
    DeploymentRecord,
    ManagedInference,
    PreviousVersion,
)
from regulated_inference.components.model_monitoring import ModelMonitoring
from regulated_inference.config.models import SageMakerModelConfig
from regulated_inference.lib import aws as aws_facts
from regulated_inference.lib import sagemaker as sm
from regulated_inference.lib.aws import AwsContext
from regulated_inference.lib.drift import DriftData
from regulated_inference.lib.sagemaker import VpcPlacement

if TYPE_CHECKING:  # pragma: no cover
    from regulated_inference.config import StackConfig
    from regulated_inference.stack.platform import Platform


class DriftExports(TypedDict, total=False):
    """What a model's drift source adds to its export (with `monitoring.drift`)."""

    driftMode: str
    driftAlarm: pulumi.Output[str]
    monitoringSchedule: pulumi.Output[str]
    """`model-monitor`: the Model Monitor schedule."""
    driftCheckSchedule: pulumi.Output[str]
    """`processing-job`: the EventBridge Scheduler schedule."""


#: The `models.<name>` export of a SageMaker model: its component outputs under camelCase keys,
#: plus `DriftExports` with `monitoring.drift`. Not a TypedDict: it would restate the types of
#: `ManagedInference`'s and `ModelMonitoring`'s outputs, which are declared there.
ModelExports = dict[str, object]


class BedrockExports(TypedDict, total=False):
    """The `bedrock` export: every key with `regulated-inference:bedrock`, none without."""

    alarms: dict[str, pulumi.Output[str]]
    models: list[str]
    invokeRoleArn: pulumi.Output[str]
    guardrailId: pulumi.Output[str]
    guardrailVersion: pulumi.Output[str]
    invocationLogGroup: pulumi.Output[str]
    invocationLogBucket: pulumi.Output[str] | None


class _DriftArgs(TypedDict):
    """The arguments `DataQualityMonitor` and `ScheduledDriftCheck` both take, as the stack fills
    them from `monitoring.drift` (each component adds its schedule)."""

    endpoint_name: pulumi.Input[str]
    features: list[str]
    drift_threshold: float
    instance_type: str
    max_runtime_seconds: int
    data: DriftData
    network: VpcPlacement
    aws: AwsContext
    alarm_topic_arn: pulumi.Input[str]


def endpoint_name(model: SageMakerModelConfig, stack: str) -> str:
    """Stable endpoint name of a model in a stack (alarms and callers refer to it)."""
    return sm.safe_name(model.name, stack)


def capture_prefix(endpoint: str) -> str:
    """Where an endpoint's data capture lands in the capture bucket (read by drift, watched by
    the capture heartbeat)."""
    return f"capture/{endpoint}/"


def drift_check_name(endpoint: str) -> str:
    """Name of an endpoint's processing-job drift check (schedule, job-name prefix and the
    `MonitoringSchedule` dimension): ≤ 40 characters, so a long endpoint name is cut and
    keeps a hash of the full name (two endpoints never share a check)."""
    name = sm.safe_name(endpoint, "drift")
    if len(name) <= MAX_CHECK_NAME:
        return name
    return f"{sm.safe_name(endpoint, max_len=MAX_CHECK_NAME - 9)}-{sm.short_hash(endpoint)}"


def package_group(model: SageMakerModelConfig, stack: str) -> str:
    """The registry group the model's packages live in (created by `registry/`)."""
    return sm.package_group_name(model.package_group, stack)


def model_package_arn(
    model: SageMakerModelConfig, platform: Platform, stack: str, version: int | None = None
) -> str | None:
    """The registry package version the model deploys, if configured."""
    number = model.model_package_version if version is None else version
    if number is None:
        return None
    return aws_facts.model_package_arn(platform.aws, package_group(model, stack), number)


def previous_version(
    model: SageMakerModelConfig, platform: Platform, stack: str
) -> PreviousVersion | None:
    """The version kept deployed as the rollback target (`previousVersion`), if any."""
    old = model.previous()
    if old is None or model.previous_version is None:
        return None
    return PreviousVersion(
        version=model.previous_version,
        image_uri=old.image,
        artifact_key=model.previous_artifact_key() or "",
        model_package_arn=model_package_arn(model, platform, stack, old.model_package_version)
        if old.model_package_version is not None
        else None,
    )


def baseline_prefix(model: SageMakerModelConfig) -> str:
    drift = model.monitoring.drift
    if drift is not None and drift.baseline_prefix:
        return drift.baseline_prefix.strip("/") + "/"
    folder = (model.artifact_key or "").rsplit("/", 1)[0]
    return f"{folder}/baseline/"


def placement(platform: Platform) -> VpcPlacement:
    """The platform's private subnets and workload security group: where models and jobs run."""
    net = platform.network
    return {
        "subnet_ids": list(net.private_subnet_ids),
        "subnet_arns": list(net.private_subnet_arns),
        "security_group_id": net.workload_security_group_id,
        "security_group_arn": net.workload_security_group_arn,
    }


def build_managed_inference(cfg: StackConfig, platform: Platform) -> dict[str, ModelExports]:
    """Declare every SageMaker model of the config; return the per-model exports."""
    models = [m for m in cfg.models if isinstance(m, SageMakerModelConfig)]
    if not models:
        return {}
    stack = pulumi.get_stack()
    topic = platform.alerts
    exports: dict[str, ModelExports] = {}
    for model in models:
        endpoint = endpoint_name(model, stack)
        scaling = model.scaling()
        monitoring = ModelMonitoring(
            f"{model.name}-monitoring",
            {
                "endpoint_name": endpoint,
                "variant_name": DEFAULT_VARIANT,
                "instance_type": model.instance_type or "",
                "thresholds": model.monitoring.to_args(),
                "alarm_topic_arn": topic.arn,
                "aws": platform.aws,
            },
        )
        managed = ManagedInference(
            model.name,
            {
                "model_name": model.name,
                "version": model.version,
                "stage": model.stage,
                "image_uri": model.image or "",
                "artifact_bucket_name": platform.model_artifacts.bucket_name,
                "artifact_bucket_arn": platform.model_artifacts.arn,
                "artifact_key": model.artifact_key or "",
                "endpoint_name": endpoint,
                "variant_name": DEFAULT_VARIANT,
                "instance_type": model.instance_type or "",
                "instance_count": model.instance_count,
                "min_instances": scaling.min_instances,
                "max_instances": scaling.max_instances,
                "target_invocations_per_instance": scaling.target_invocations_per_instance,
                "rollout": model.rollout.to_args(),
                "rollback_alarm_names": monitoring.rollback_alarm_names,
                "data_key_arn": platform.keys.data_key_arn,
                "capture_bucket_name": platform.data_capture.bucket_name,
                "capture_bucket_arn": platform.data_capture.arn,
                "capture_sampling_percent": model.capture_sampling_percent,
                "capture_prefix": capture_prefix(endpoint),
                "network": placement(platform),
                "aws": platform.aws,
                "logs_key_arn": platform.keys.logs_key_arn,
                "log_retention_days": cfg.logging.retention_days,
                "callers": list(model.callers),
                "environment": dict(model.environment),
                "model_package_arn": model_package_arn(model, platform, stack),
                "model_package_group": package_group(model, stack),
                "previous": previous_version(model, platform, stack),
                "deployment_record": DeploymentRecord(
                    bucket_name=platform.audit.bucket_name,
                    kms_key_arn=platform.keys.audit_key_arn,
                    config_sha256=model.config_sha256(),
                    request_sha256=model.request_sha256(),
                    evaluation=dict(model.evaluation),
                    stack=stack,
                ),
            },
        )
        entry: ModelExports = {
            "model": model.name,
            "version": model.version,
            "stage": model.stage,
            "endpoint": managed.endpoint_name,
            "endpointConfig": managed.endpoint_config_name,
            "previousVersion": model.previous_version,
            "previousEndpointConfig": managed.previous_endpoint_config_name,
            "sagemakerModel": managed.model_name,
            "modelPackageGroup": managed.model_package_group_name,
            "invokePolicyArn": managed.invoke_policy_arn,
            "deploymentRecord": managed.deployment_record_key,
            "dashboard": monitoring.dashboard_name,
            "compositeAlarm": monitoring.composite_alarm_name,
            "rollbackAlarms": monitoring.rollback_alarm_names,
        }
        drift = model.monitoring.drift
        if drift is not None:
            entry.update(_drift(model, managed, platform, endpoint))
        exports[model.name] = entry
    return exports


def _drift(
    model: SageMakerModelConfig, managed: ManagedInference, platform: Platform, endpoint: str
) -> DriftExports:
    """The model's drift source (`monitoring.drift.mode`) and its alarm; return the exports."""
    drift = model.monitoring.drift
    assert drift is not None
    data: DriftData = {
        "capture_bucket_name": platform.data_capture.bucket_name,
        "capture_bucket_arn": platform.data_capture.arn,
        "capture_prefix": managed.capture_prefix,
        # Reports outside the capture prefix: they are not captured data.
        "output_prefix": f"monitoring/{endpoint}/",
        "baseline_bucket_name": platform.model_artifacts.bucket_name,
        "baseline_bucket_arn": platform.model_artifacts.arn,
        "baseline_prefix": baseline_prefix(model),
        "data_key_arn": platform.keys.data_key_arn,
    }
    common: _DriftArgs = {
        "endpoint_name": managed.endpoint_name,
        "features": list(drift.features),
        "drift_threshold": drift.threshold,
        "instance_type": drift.instance_type,
        "max_runtime_seconds": drift.max_runtime_seconds,
        "data": data,
        "network": placement(platform),
        "aws": platform.aws,
        "alarm_topic_arn": platform.alerts.arn,
    }
    if drift.mode == "model-monitor":
        dq = DataQualityMonitor(
            f"{model.name}-data-quality",
            {
                **common,
                "schedule_name": sm.safe_name(endpoint, "data-quality"),
                "schedule_expression": drift.schedule,
            },
        )
        return {
            "driftMode": drift.mode,
            "monitoringSchedule": dq.schedule_name,
            "driftAlarm": dq.drift_alarm_name,
        }
    check = ScheduledDriftCheck(
        f"{model.name}-drift-check",
        {
            **common,
            "check_name": drift_check_name(endpoint),
            "interval_hours": drift.hours,
            "image_uri": drift.image or "",
        },
    )
    return {
        "driftMode": drift.mode,
        "driftCheckSchedule": check.schedule_name,
        "driftAlarm": check.drift_alarm_name,
    }


def bedrock_model_ids(cfg: StackConfig, ctx: AwsContext) -> list[str]:
    """`ModelId` dimension values of every model and profile the stack may invoke, once each."""
    if cfg.bedrock is None:
        return []
    arns = cfg.bedrock.foundation_model_arns(ctx) + cfg.bedrock.inference_profile_arns(ctx)
    return list(dict.fromkeys(model_id(a) for a in arns))


def build_bedrock(cfg: StackConfig, platform: Platform) -> BedrockExports:
    """Declare Bedrock access when `regulated-inference:bedrock` is set; return its exports."""
    bedrock = cfg.bedrock
    if bedrock is None:
        return {}
    stack = pulumi.get_stack()
    prefix = platform.name_prefix
    access = BedrockAccess(
        f"{prefix}-bedrock",
        {
            "model_arns": bedrock.foundation_model_arns(platform.aws),
            "profile_arns": bedrock.inference_profile_arns(platform.aws),
            "allowed_regions": list(cfg.residency.allowed_regions),
            "aws": platform.aws,
            "data_key_arn": platform.keys.data_key_arn,
            "logs_key_arn": platform.keys.logs_key_arn,
            "log_group_name": f"{platform.log_group_prefix}bedrock/invocations",
            "log_retention_days": cfg.logging.retention_days,
            "access_log_bucket": platform.access_logs.bucket_name,
            "invoker_service": bedrock.invoker_service,
            "invocation_logging": cfg.account.owns_bedrock_logging(stack),
            "guardrail": bedrock.guardrail.to_args(),
            "logging": bedrock.logging.to_args(),
        },
    )
    monitoring = BedrockMonitoring(
        f"{prefix}-bedrock-monitoring",
        {
            "name_prefix": f"{prefix}-bedrock",
            "model_ids": bedrock_model_ids(cfg, platform.aws),
            "guardrail_arn": access.guardrail_arn,
            "guardrail_version": access.guardrail_version,
            "alarm_topic_arn": platform.alerts.arn,
        },
    )
    return {
        "alarms": monitoring.alarm_names,
        "models": bedrock.foundation_model_arns(platform.aws),
        "invokeRoleArn": access.invoke_role_arn,
        "guardrailId": access.guardrail_id,
        "guardrailVersion": access.guardrail_version,
        "invocationLogGroup": access.log_group_name,
        "invocationLogBucket": access.log_bucket_name,
    }


__all__ = [
    "bedrock_model_ids",
    "build_bedrock",
    "build_managed_inference",
    "capture_prefix",
    "drift_check_name",
    "endpoint_name",
    "package_group",
]
