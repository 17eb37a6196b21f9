"""Composition of the inference layer: SageMaker models with their monitoring, and Bedrock.

Per SageMaker model in the stack config, in this order (each step needs the one before):

1. `ModelMonitoring` — alarms (with the endpoint's fixed name), composite alarm, dashboard;
2. `ManagedInference` — model, endpoint config, endpoint whose auto-rollback watches
   the alarms of step 1, autoscaling, invoke policy, deployment record;
3. `DataQualityMonitor` — Model Monitor schedule on the endpoint, drift alarm.

Every alarm notifies one KMS-encrypted alert topic (`<project>-<stack>-model-alerts`), and
so does an EventBridge rule on every deployment state change of the stack's endpoints
(an automatic rollback included).

The model registry is not declared here: each model's package group is created by the
registry project (`registry/`), named by `sagemaker.package_group_name(<model>, <stack>)`,
and the endpoints deploy package versions the config declares as registered and approved
(docs/lifecycle.md "Day one").
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pulumi

from regulated_inference.components.bedrock_access import (
    BedrockAccess,
    GuardrailSettings,
    LoggingSettings,
)
from regulated_inference.components.managed_inference import (
    DEFAULT_VARIANT,
    DeploymentRecord,
    ManagedInference,
    PreviousVersion,
)
from regulated_inference.components.model_monitoring import (
    AlertTopic,
    DataQualityMonitor,
    ModelMonitoring,
    Thresholds,
)
from regulated_inference.lib import sagemaker as sm

if TYPE_CHECKING:  # pragma: no cover
    from regulated_inference.config import StackConfig
    from regulated_inference.config.models import ModelConfig
    from regulated_inference.stack.platform import Platform


def endpoint_name(model: ModelConfig, stack: str) -> str:
    """Stable endpoint name of a model in a stack (alarms and callers refer to it)."""
    return sm.safe_name(model.name, stack)


def thresholds(model: ModelConfig) -> Thresholds:
    mon = model.monitoring
    return Thresholds(
        **{
            f: getattr(mon, f)
            for f in Thresholds.__dataclass_fields__  # type: ignore[attr-defined]
        }
    )


def package_group(model: ModelConfig, stack: str) -> str:
    """The registry group the model's packages live in (created by `registry/`)."""
    return sm.package_group_name(model.package_group, stack)


def model_package_arn(
    model: ModelConfig, platform: Platform, stack: str, version: int | None = None
) -> str | None:
    """The registry package version the model deploys, if configured."""
    number = model.model_package_version if version is None else version
    if number is None:
        return None
    return sm.model_package_arn(
        platform.partition,
        platform.region,
        platform.account_id,
        package_group(model, stack),
        number,
    )


def previous_version(model: ModelConfig, platform: Platform, stack: str) -> PreviousVersion | None:
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


def baseline_prefix(model: ModelConfig) -> str:
    drift = model.monitoring.drift
    if drift is not None and drift.baseline_prefix:
        return drift.baseline_prefix.strip("/") + "/"
    folder = (model.artifact_key or "").rsplit("/", 1)[0]
    return f"{folder}/baseline/"


def build_managed_inference(cfg: StackConfig, platform: Platform) -> dict[str, Any]:
    """Declare every SageMaker model of the config; return the per-model exports."""
    models = [m for m in cfg.models if m.runs_on_sagemaker]
    if not models:
        return {}
    stack = pulumi.get_stack()
    prefix = f"{pulumi.get_project()}-{stack}"
    net = platform.network
    topic = AlertTopic(
        f"{prefix}-model-alerts",
        {
            "kms_key_arn": platform.keys.logs_key_arn,
            "emails": [str(e) for e in cfg.alerts.emails],
            "account_id": platform.account_id,
            "region": platform.region,
            "deployment_event_endpoints": [endpoint_name(m, stack) for m in models],
        },
    )
    exports: dict[str, Any] = {}
    for model in models:
        endpoint = endpoint_name(model, stack)
        scaling = model.scaling()
        monitoring = ModelMonitoring(
            f"{model.name}-monitoring",
            {
                "endpoint_name": endpoint,
                "variant_name": DEFAULT_VARIANT,
                "instance_type": model.instance_type or "",
                "thresholds": thresholds(model),
                "alarm_topic_arn": topic.arn,
                "region": platform.region,
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
                "rollout": model.rollout.to_rollout(),
                "rollback_alarm_names": monitoring.rollback_alarm_names,
                "data_key_arn": platform.keys.data_key_arn,
                "capture_bucket_name": platform.data_capture.bucket_name,
                "capture_bucket_arn": platform.data_capture.arn,
                "capture_sampling_percent": model.capture_sampling_percent,
                "subnet_ids": list(net.private_subnet_ids),
                "subnet_arns": list(net.private_subnet_arns),
                "security_group_id": net.workload_security_group_id,
                "security_group_arn": net.workload_security_group_arn,
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
        entry: dict[str, Any] = {
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
            dq = DataQualityMonitor(
                f"{model.name}-data-quality",
                {
                    "endpoint_name": managed.endpoint_name,
                    "schedule_name": sm.safe_name(endpoint, "data-quality"),
                    "features": list(drift.features),
                    "drift_threshold": drift.threshold,
                    "schedule_expression": drift.schedule,
                    "instance_type": drift.instance_type,
                    "max_runtime_seconds": drift.max_runtime_seconds,
                    "capture_bucket_name": platform.data_capture.bucket_name,
                    "capture_bucket_arn": platform.data_capture.arn,
                    "capture_prefix": managed.capture_prefix,
                    "output_prefix": f"monitoring/{endpoint}/",
                    "baseline_bucket_name": platform.model_artifacts.bucket_name,
                    "baseline_bucket_arn": platform.model_artifacts.arn,
                    "baseline_prefix": baseline_prefix(model),
                    "data_key_arn": platform.keys.data_key_arn,
                    "subnet_ids": list(net.private_subnet_ids),
                    "subnet_arns": list(net.private_subnet_arns),
                    "security_group_id": net.workload_security_group_id,
                    "security_group_arn": net.workload_security_group_arn,
                    "region": platform.region,
                    "account_id": platform.account_id,
                    "alarm_topic_arn": topic.arn,
                },
            )
            entry["monitoringSchedule"] = dq.schedule_name
            entry["driftAlarm"] = dq.drift_alarm_name
        exports[model.name] = entry
    return exports


def build_bedrock(cfg: StackConfig, platform: Platform) -> dict[str, Any]:
    """Declare Bedrock access when `regulated-inference:bedrock` is set; return its exports."""
    bedrock = cfg.bedrock
    if bedrock is None:
        return {}
    stack = pulumi.get_stack()
    prefix = f"{pulumi.get_project()}-{stack}"
    g = bedrock.guardrail
    access = BedrockAccess(
        f"{prefix}-bedrock",
        {
            "model_arns": bedrock.foundation_model_arns(platform.region),
            "profile_arns": bedrock.inference_profile_arns(platform.region, platform.account_id),
            "allowed_regions": list(cfg.residency.allowed_regions),
            "region": platform.region,
            "account_id": platform.account_id,
            "data_key_arn": platform.keys.data_key_arn,
            "logs_key_arn": platform.keys.logs_key_arn,
            "log_group_name": f"{platform.log_group_prefix}bedrock/invocations",
            "log_retention_days": cfg.logging.retention_days,
            "access_log_bucket": platform.access_logs.bucket_name,
            "invoker_service": bedrock.invoker_service,
            "invocation_logging": cfg.account.owns_bedrock_logging(stack),
            "guardrail": GuardrailSettings(
                prompt_attack_strength=g.prompt_attack_strength,
                content_filter_strength=g.content_filter_strength,
                pii_action=g.pii_action,
                pii_entities=tuple(g.pii_entities),
                blocked_input_message=g.blocked_input_message,
                blocked_output_message=g.blocked_output_message,
            ),
            "logging": LoggingSettings(
                text=bedrock.logging.text,
                image=bedrock.logging.image,
                embedding=bedrock.logging.embedding,
                video=bedrock.logging.video,
            ),
        },
    )
    return {
        "models": bedrock.foundation_model_arns(platform.region),
        "invokeRoleArn": access.invoke_role_arn,
        "guardrailId": access.guardrail_id,
        "guardrailVersion": access.guardrail_version,
        "invocationLogGroup": access.log_group_name,
        "invocationLogBucket": access.log_bucket_name,
    }


__all__ = ["build_bedrock", "build_managed_inference", "endpoint_name", "package_group"]
