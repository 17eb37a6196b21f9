"""The platform layer: keys, network, buckets, audit trail and alerting that every model shares.

Alerting lives here because every layer notifies it: the KMS-encrypted alert topic
(`<project>-<stack>-model-alerts`, name kept from when only SageMaker models used it) with the
EventBridge rule forwarding the stack's endpoint deployment events, and `AuditEvidenceAlarms`
(the audit trail watching itself: trail and capture heartbeats, tamper filters, Bedrock
invocation-log delivery failures when this stack owns the account's invocation logging).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pulumi

from regulated_inference.components.audit_monitoring import AuditEvidenceAlarms
from regulated_inference.components.audit_trail import AuditTrail, delivery_prefix, trail_arn
from regulated_inference.components.encryption_keys import EncryptionKeys
from regulated_inference.components.isolated_network import IsolatedNetwork
from regulated_inference.components.model_monitoring import AlertTopic
from regulated_inference.components.secure_bucket import ObjectLock, SecureBucket, ServiceWriter
from regulated_inference.config import StackConfig
from regulated_inference.config.models import SageMakerModelConfig
from regulated_inference.lib import aws as aws_facts
from regulated_inference.lib.aws import AwsContext


@dataclass(frozen=True)
class Platform:
    """What the inference layers build on (see docs/architecture in the README)."""

    config: StackConfig
    aws: AwsContext
    """Partition, region and account, as every component takes them (built once by `main`)."""
    log_group_prefix: str
    name_prefix: str
    """`<project>-<stack>`: the start of every logical name the stack gives, so that the pattern
    `<name_prefix>-*` names exactly this stack's (auto-named) buckets."""
    keys: EncryptionKeys
    network: IsolatedNetwork
    model_artifacts: SecureBucket
    data_capture: SecureBucket
    audit: SecureBucket
    access_logs: SecureBucket
    trail: AuditTrail
    alerts: AlertTopic
    """The encrypted topic every alarm of the stack notifies."""
    audit_alarms: AuditEvidenceAlarms

    @property
    def region(self) -> str:
        return self.aws["region"]

    @property
    def account_id(self) -> str:
        return self.aws["account_id"]

    @property
    def partition(self) -> str:
        return self.aws["partition"]


def _bedrock_endpoint_policy(cfg: StackConfig, ctx: AwsContext) -> dict[str, str]:
    """The bedrock-runtime endpoint admits only the configured foundation models (when Bedrock is used)."""
    if cfg.bedrock is None:
        return {}
    from regulated_inference.components.bedrock_access import runtime_endpoint_policy

    return {
        "bedrock-runtime": runtime_endpoint_policy(
            cfg.bedrock.foundation_model_arns(ctx) + cfg.bedrock.inference_profile_arns(ctx),
            ctx["account_id"],
        )
    }


def build_platform(cfg: StackConfig, ctx: AwsContext, zone_names: list[str]) -> Platform:
    """Declare the shared platform resources for one stack in `ctx` (partition, region, account),
    with subnets in the first `network.availabilityZones` of the region's `zone_names`."""
    stack = pulumi.get_stack()
    prefix = f"{pulumi.get_project()}-{stack}"
    account, partition = ctx["account_id"], ctx["partition"]
    azs = zone_names[: cfg.network.availability_zones]
    log_group_prefix = f"/regulated-inference/{stack}/"
    trail_name = f"{prefix}-audit"
    retention = cfg.logging.retention_days
    # Every bucket of the stack is auto-named from a logical name that starts with the prefix
    # (`<logical name>-<7 hex>`), so this pattern names exactly this stack's buckets.
    log_sources = [aws_facts.s3_bucket_arn(partition, f"{prefix}-*")]

    keys = EncryptionKeys(
        prefix,
        {
            "aws": ctx,
            "log_group_prefix": log_group_prefix,
            "trail_name": trail_name,
            # SageMaker writes endpoint logs to AWS-named groups; the stack pre-creates them encrypted.
            "extra_log_group_patterns": [f"/aws/sagemaker/Endpoints/*-{stack}"],
            "deletion_window_days": cfg.keys.deletion_window_days,
            "access_log_source_arns": log_sources,
        },
    )
    network = IsolatedNetwork(
        prefix,
        {
            "cidr": cfg.network.cidr,
            "subnet_cidrs": cfg.network.subnet_cidrs(),
            "availability_zones": azs,
            "aws": ctx,
            "logs_kms_key_arn": keys.logs_key_arn,
            "log_group_name": f"{log_group_prefix}vpc-flow-logs",
            "log_retention_days": retention,
            "endpoint_policies": _bedrock_endpoint_policy(cfg, ctx),
        },
    )
    access_logs = SecureBucket(
        f"{prefix}-access-logs",
        {
            "kms_key_arn": keys.logs_key_arn,
            "is_access_log_bucket": True,
            "account_id": account,
            "log_source_arns": log_sources,
            "expiration_days": max(retention, 365),
        },
    )
    log_target = {"access_log_bucket": access_logs.bucket_name}
    model_artifacts = SecureBucket(
        f"{prefix}-models",
        {"kms_key_arn": keys.data_key_arn, **log_target, "access_log_prefix": "models/"},
    )
    data_capture = SecureBucket(
        f"{prefix}-capture",
        {"kms_key_arn": keys.data_key_arn, **log_target, "access_log_prefix": "capture/"},
    )
    audit = SecureBucket(
        f"{prefix}-audit",
        {
            "kms_key_arn": keys.audit_key_arn,
            **log_target,
            "access_log_prefix": "audit/",
            "object_lock": ObjectLock(
                mode=cfg.audit.object_lock_mode, days=cfg.audit.retention_days
            ),
            "noncurrent_version_expiration_days": cfg.audit.retention_days,
            "service_writers": [
                ServiceWriter(
                    service="cloudtrail.amazonaws.com",
                    prefix=delivery_prefix(account),
                    source_account=account,
                    source_arn=trail_arn(trail_name, ctx),
                    read_acl=True,
                )
            ],
        },
    )
    trail = AuditTrail(
        f"{prefix}-audit",
        {
            "trail_name": trail_name,
            "aws": ctx,
            "audit_bucket_name": audit.bucket_name,
            "audit_kms_key_arn": keys.audit_key_arn,
            "logs_kms_key_arn": keys.logs_key_arn,
            "log_group_name": f"{log_group_prefix}cloudtrail",
            "log_retention_days": retention,
            "data_event_bucket_arns": [model_artifacts.arn, data_capture.arn],
        },
        # AWS checks the audit bucket's policy when the trail is created.
        opts=pulumi.ResourceOptions(depends_on=[audit.policy]),
    )
    alerts, audit_alarms = _alerting(cfg, stack, prefix, ctx, keys, trail, audit, data_capture)
    return Platform(
        cfg,
        ctx,
        log_group_prefix,
        prefix,
        keys,
        network,
        model_artifacts,
        data_capture,
        audit,
        access_logs,
        trail,
        alerts,
        audit_alarms,
    )


def _alerting(
    cfg: StackConfig,
    stack: str,
    prefix: str,
    ctx: AwsContext,
    keys: EncryptionKeys,
    trail: AuditTrail,
    audit: SecureBucket,
    data_capture: SecureBucket,
) -> tuple[AlertTopic, AuditEvidenceAlarms]:
    """The alert topic and the alarms on audit evidence (docs/monitoring.md)."""
    from regulated_inference.stack.inference import (
        bedrock_model_ids,
        capture_prefix,
        endpoint_name,
    )

    endpoints = [endpoint_name(m, stack) for m in cfg.models if isinstance(m, SageMakerModelConfig)]
    topic = AlertTopic(
        f"{prefix}-model-alerts",
        {
            "kms_key_arn": keys.logs_key_arn,
            "emails": [str(e) for e in cfg.alerts.emails],
            "aws": ctx,
            "deployment_event_endpoints": endpoints,
        },
    )
    # Invocation logging is one account-wide setting: only its owner's stack configures it,
    # so only that stack alarms on its delivery (the metrics have no dimension).
    logging = cfg.bedrock is not None and cfg.account.owns_bedrock_logging(stack)
    model_ids = bedrock_model_ids(cfg, ctx) if logging else []
    alarms = AuditEvidenceAlarms(
        f"{prefix}-audit-evidence",
        {
            # Alarm names are lower-case letters, digits and '-' (a stack name may hold '.', '_').
            "name_prefix": re.sub(r"[^a-z0-9-]+", "-", prefix.lower())[:41].strip("-"),
            "alarm_topic_arn": topic.arn,
            # An output of the trail's log group: the metric filters wait for it.
            "trail_log_group_name": trail.log_group_name,
            "audit_bucket_name": audit.bucket_name,
            "invocation_logging": logging,
            # The silence alarm reads ≤ 9 models (one alarm holds ≤ 10 metric queries); with
            # more, the per-delivery failure alarms still cover every model.
            "bedrock_model_ids": model_ids if len(model_ids) <= 9 else [],
            "capture_bucket_name": data_capture.bucket_name,
            "capture_prefixes": [capture_prefix(e) for e in endpoints],
        },
    )
    return topic, alarms


def platform_exports(p: Platform) -> dict:
    return {
        "region": p.region,
        "vpcId": p.network.vpc_id,
        "privateSubnetIds": p.network.private_subnet_ids,
        "keys": {
            "data": p.keys.data_key_arn,
            "logs": p.keys.logs_key_arn,
            "audit": p.keys.audit_key_arn,
        },
        "buckets": {
            "models": p.model_artifacts.bucket_name,
            "capture": p.data_capture.bucket_name,
            "audit": p.audit.bucket_name,
            "accessLogs": p.access_logs.bucket_name,
        },
        "trailArn": p.trail.trail_arn,
        "alertTopicArn": p.alerts.arn,
        "auditAlarms": p.audit_alarms.alarm_names,
    }
