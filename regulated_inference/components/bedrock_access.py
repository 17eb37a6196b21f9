"""Amazon Bedrock access for regulated workloads: logged, guarded, allow-listed, in-region.

- Invocation logging (`aws.bedrockmodel.InvocationLoggingConfiguration`, one per
  account and region) to a KMS-encrypted log group under the stack's prefix and
  to an encrypted, access-logged bucket in the home region (L6, R6).
- A guardrail with the PROMPT_ATTACK filter, content filters and PII
  detection (block or anonymise), encrypted with the data key, and a published
  (immutable) version that callers pin (M7, E10).
- An invoke role allowed only `bedrock:InvokeModel(/WithResponseStream)` on the
  configured foundation-model ARNs (and geographic profile ARNs) in the allowed
  regions, plus ApplyGuardrail on this guardrail — no `bedrock:*`, no `global.`
  profiles (I2, R5).
- `runtime_endpoint_policy`: the bedrock-runtime interface endpoint admits the
  same model ARNs only, for this account's principals (N3). Pure: the platform
  layer calls it when it builds the VPC endpoints.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, NotRequired, TypedDict

import pulumi
import pulumi_aws as aws

from regulated_inference.components.least_privilege_role import LeastPrivilegeRole, service_trust
from regulated_inference.components.secure_bucket import SecureBucket, ServiceWriter
from regulated_inference.lib import iam
from regulated_inference.lib.errors import ComponentArgsError

_COMPONENT = "BedrockAccess"
#: What the bedrock-runtime endpoint and the invoke role may do.
INVOKE_ACTIONS = ("bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream")
_ARN = re.compile(
    r"^arn:(?P<part>aws[a-z-]*):bedrock:(?P<region>[a-z0-9-]+):(?P<account>\d{12})?:"
    r"(?P<kind>foundation-model|inference-profile)/(?P<id>[A-Za-z0-9._:-]+)$"
)
#: Content filter types the guardrail applies at the configured strength.
CONTENT_FILTERS = ("HATE", "INSULTS", "SEXUAL", "VIOLENCE", "MISCONDUCT")


def check_model_arn(arn: str, allowed_regions: Sequence[str]) -> None:
    """ValueError unless `arn` is a foundation-model or geographic profile ARN in an allowed region."""
    match = _ARN.match(arn)
    if not match:
        raise ValueError(
            f"{arn!r} is not a Bedrock foundation-model or inference-profile ARN (no wildcards)"
        )
    if match["id"].startswith("global."):
        raise ValueError(f"{arn}: global inference profiles leave the allowed regions (R5)")
    if match["region"] not in allowed_regions:
        raise ValueError(f"{arn}: region {match['region']} is not allowed {list(allowed_regions)}")


def runtime_endpoint_policy(
    model_arns: Sequence[str], account_id: str, guardrail_arns: Sequence[str] | None = None
) -> str:
    """Policy of the bedrock-runtime interface endpoint: this account, these models only.

    `guardrail_arns` defaults to this account's guardrails in the models'
    regions (the guardrail is created after the network, so its ARN is not
    known yet; IAM still limits each role to its own guardrail).
    """
    arns = list(dict.fromkeys(model_arns))
    if not arns:
        raise ValueError("runtime_endpoint_policy: at least one model ARN")
    for arn in arns:
        if "*" in arn or "global." in arn or not _ARN.match(arn):
            raise ValueError(f"runtime_endpoint_policy: {arn!r} is not an exact model ARN")
    if not re.fullmatch(r"\d{12}", account_id or ""):
        raise ValueError(f"runtime_endpoint_policy: {account_id!r} is not an account id")
    if guardrail_arns is None:
        partitions_regions = sorted(
            {(_ARN.match(a)["part"], _ARN.match(a)["region"]) for a in arns}
        )
        guardrail_arns = [
            f"arn:{p}:bedrock:{r}:{account_id}:guardrail/*" for p, r in partitions_regions
        ]
    this_account = {"StringEquals": {"aws:PrincipalAccount": account_id}}
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "InvokeAllowListedModels",
                    "Effect": "Allow",
                    "Principal": "*",
                    "Action": list(INVOKE_ACTIONS),
                    "Resource": arns,
                    "Condition": this_account,
                },
                {
                    "Sid": "ApplyOwnGuardrails",
                    "Effect": "Allow",
                    "Principal": "*",
                    "Action": "bedrock:ApplyGuardrail",
                    "Resource": list(guardrail_arns),
                    "Condition": this_account,
                },
            ],
        }
    )


@dataclass(frozen=True)
class GuardrailSettings:
    """Filters of the guardrail."""

    prompt_attack_strength: Literal["LOW", "MEDIUM", "HIGH"] = "HIGH"
    content_filter_strength: Literal["NONE", "LOW", "MEDIUM", "HIGH"] = "HIGH"
    pii_action: Literal["BLOCK", "ANONYMIZE"] = "ANONYMIZE"
    pii_entities: tuple[str, ...] = ("EMAIL", "PHONE", "CREDIT_DEBIT_CARD_NUMBER")
    blocked_input_message: str = "This request cannot be processed under our usage policy."
    blocked_output_message: str = "The answer was withheld under our usage policy."


@dataclass(frozen=True)
class LoggingSettings:
    """Which payloads invocation logging delivers."""

    text: bool = True
    image: bool = False
    embedding: bool = False
    video: bool = False


class BedrockAccessArgs(TypedDict):
    """Arguments of `BedrockAccess`."""

    model_arns: list[str]
    """Foundation-model (and geographic profile) ARNs the invoke role may use; exact, in allowed regions."""
    allowed_regions: list[str]
    """Residency: every model ARN must be in one of these regions."""
    region: str
    """Home region (logging, guardrail)."""
    account_id: str
    data_key_arn: pulumi.Input[str]
    """CMK of the guardrail and the log bucket."""
    logs_key_arn: pulumi.Input[str]
    """CMK of the invocation log group."""
    log_group_name: str
    """Invocation log group; must be under the stack's log-group prefix (the logs key only allows those)."""
    log_retention_days: int
    access_log_bucket: pulumi.Input[str]
    """Where the log bucket's server access logs go."""
    invoker_service: str
    """Service principal that assumes the invoke role, e.g. lambda.amazonaws.com."""
    guardrail: NotRequired[GuardrailSettings]
    logging: NotRequired[LoggingSettings]
    invocation_logging: NotRequired[bool]
    """Configure the account's model-invocation logging (default True). It is ONE setting per
    account and region (`PutModelInvocationLoggingConfiguration`; Terraform's resource id is the
    region): exactly one stack of an account may own it, the others pass False and rely on it."""
    profile_arns: NotRequired[list[pulumi.Input[str]]]
    """Inference profile ARNs (resolved with the account id); validated like model ARNs when plain."""


def _validate(args: BedrockAccessArgs) -> None:
    def bad(arg, value, rule) -> ComponentArgsError:
        return ComponentArgsError(_COMPONENT, arg, value, rule)

    allowed = list(args.get("allowed_regions") or [])
    if args.get("region") not in allowed:
        raise bad("region", args.get("region"), f"must be one of allowed_regions {allowed}")
    arns = list(args.get("model_arns") or [])
    if not arns:
        raise bad("model_arns", arns, "allow at least one foundation model")
    for arn in arns + [a for a in args.get("profile_arns") or [] if isinstance(a, str)]:
        try:
            check_model_arn(arn, allowed)
        except ValueError as exc:
            raise bad("model_arns", arn, str(exc)) from None
    g = args.get("guardrail", GuardrailSettings())
    if g.prompt_attack_strength not in ("LOW", "MEDIUM", "HIGH"):
        raise bad(
            "guardrail.prompt_attack_strength",
            g.prompt_attack_strength,
            "the prompt-attack filter is mandatory (LOW, MEDIUM or HIGH; M7)",
        )
    if not g.pii_entities:
        raise bad("guardrail.pii_entities", g.pii_entities, "at least one PII entity type (M7)")
    if not args.get("log_group_name", "").startswith("/"):
        raise bad("log_group_name", args.get("log_group_name"), "an absolute log group name")
    if not re.fullmatch(r"[a-z0-9.-]+\.amazonaws\.com", args.get("invoker_service", "")):
        raise bad("invoker_service", args.get("invoker_service"), "one AWS service principal")


class BedrockAccess(pulumi.ComponentResource):
    """Invocation logging, a published guardrail and an allow-listed invoke role."""

    invoke_role_arn: pulumi.Output[str]
    guardrail_id: pulumi.Output[str]
    guardrail_arn: pulumi.Output[str]
    guardrail_version: pulumi.Output[str]
    """The published version callers pass as guardrailVersion."""
    log_group_name: pulumi.Output[str]
    log_bucket_name: pulumi.Output[str]

    def __init__(
        self, name: str, args: BedrockAccessArgs, opts: pulumi.ResourceOptions | None = None
    ):
        _validate(args)
        super().__init__(f"regulated-inference:index:{_COMPONENT}", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        region, account = args["region"], args["account_id"]
        part = "aws-us-gov" if region.startswith("us-gov-") else "aws"
        bedrock_source = f"arn:{part}:bedrock:{region}:{account}:*"
        settings = args.get("guardrail", GuardrailSettings())
        logging_settings = args.get("logging", LoggingSettings())

        # -- invocation logging (the account's owner stack only) ---------------------------
        log_group_name: pulumi.Input[str | None] = None
        log_bucket_name: pulumi.Input[str | None] = None
        if args.get("invocation_logging", True):
            log_group_name, log_bucket_name = self._invocation_logging(
                name, args, bedrock_source, logging_settings
            )

        # -- guardrail ------------------------------------------------------------------
        filters = [
            aws.bedrock.GuardrailContentPolicyConfigFiltersConfigArgs(
                type="PROMPT_ATTACK",
                input_strength=settings.prompt_attack_strength,
                output_strength="NONE",  # AWS: prompt attacks are an input-only filter
            )
        ]
        if settings.content_filter_strength != "NONE":
            filters += [
                aws.bedrock.GuardrailContentPolicyConfigFiltersConfigArgs(
                    type=kind,
                    input_strength=settings.content_filter_strength,
                    output_strength=settings.content_filter_strength,
                )
                for kind in CONTENT_FILTERS
            ]
        guardrail = aws.bedrock.Guardrail(
            f"{name}-guardrail",
            name=f"{name}-guardrail",
            description="Prompt-attack, content and PII filters for every Bedrock call",
            kms_key_arn=args["data_key_arn"],
            blocked_input_messaging=settings.blocked_input_message,
            blocked_outputs_messaging=settings.blocked_output_message,
            content_policy_config=aws.bedrock.GuardrailContentPolicyConfigArgs(
                filters_configs=filters
            ),
            sensitive_information_policy_config=aws.bedrock.GuardrailSensitiveInformationPolicyConfigArgs(
                pii_entities_configs=[
                    aws.bedrock.GuardrailSensitiveInformationPolicyConfigPiiEntitiesConfigArgs(
                        type=entity, action=settings.pii_action
                    )
                    for entity in settings.pii_entities
                ]
            ),
            opts=child,
        )
        fingerprint = _fingerprint(settings)
        version = aws.bedrock.GuardrailVersion(
            f"{name}-guardrail-version",
            guardrail_arn=guardrail.guardrail_arn,
            description=f"settings {fingerprint}",
            skip_destroy=True,  # published versions stay for the audit trail
            opts=child,
        )

        # -- invoke role ----------------------------------------------------------------------
        model_arns = tuple(args["model_arns"]) + tuple(args.get("profile_arns") or [])
        role = LeastPrivilegeRole(
            f"{name}-invoke-role",
            {
                "trust": service_trust(args["invoker_service"], account),
                "description": "Invoke the allow-listed Bedrock models through the guardrail",
                "grants": [
                    iam.invoke_models(model_arns, guardrail_arn=guardrail.guardrail_arn),
                    # The guardrail is encrypted with the data key; applying it decrypts it.
                    iam.use_key(
                        args["data_key_arn"],
                        decrypt=True,
                        via_service=f"bedrock.{region}.amazonaws.com",
                    ),
                ],
            },
            opts=child,
        )

        self.invoke_role_arn = role.arn
        self.guardrail_id = guardrail.guardrail_id
        self.guardrail_arn = guardrail.guardrail_arn
        self.guardrail_version = version.version
        self.log_group_name = pulumi.Output.from_input(log_group_name)
        self.log_bucket_name = pulumi.Output.from_input(log_bucket_name)
        self.register_outputs(
            {
                "invokeRoleArn": self.invoke_role_arn,
                "guardrailId": self.guardrail_id,
                "guardrailArn": self.guardrail_arn,
                "guardrailVersion": self.guardrail_version,
                "logGroupName": self.log_group_name,
                "logBucketName": self.log_bucket_name,
            }
        )

    def _invocation_logging(
        self,
        name: str,
        args: BedrockAccessArgs,
        bedrock_source: str,
        logging_settings: LoggingSettings,
    ) -> tuple[pulumi.Output[str], pulumi.Output[str]]:
        """Log group, log bucket, delivery role and the account's logging configuration."""
        child = pulumi.ResourceOptions(parent=self)
        account = args["account_id"]
        log_group = aws.cloudwatch.LogGroup(
            f"{name}-invocation-logs",
            name=args["log_group_name"],
            kms_key_id=args["logs_key_arn"],
            retention_in_days=args["log_retention_days"],
            opts=child,
        )
        bucket = SecureBucket(
            f"{name}-log-bucket",
            {
                "kms_key_arn": args["data_key_arn"],
                "access_log_bucket": args["access_log_bucket"],
                "access_log_prefix": "bedrock-logs/",
                "service_writers": [
                    ServiceWriter(
                        service="bedrock.amazonaws.com",
                        prefix="invocations/",
                        source_account=account,
                        source_arn=bedrock_source,
                    )
                ],
                "noncurrent_version_expiration_days": 90,
            },
            opts=child,
        )
        logging_role = LeastPrivilegeRole(
            f"{name}-logging-role",
            {
                "trust": service_trust("bedrock.amazonaws.com", account, bedrock_source),
                "description": "Bedrock model invocation logging into the encrypted log group",
                "grants": [
                    iam.write_logs(log_group.arn),
                    iam.write_objects(bucket.arn, "invocations/large-data/"),
                    iam.use_key(args["data_key_arn"], decrypt=False, encrypt=True),
                ],
            },
            opts=child,
        )
        aws.bedrockmodel.InvocationLoggingConfiguration(
            f"{name}-invocation-logging",
            logging_config=aws.bedrockmodel.InvocationLoggingConfigurationLoggingConfigArgs(
                text_data_delivery_enabled=logging_settings.text,
                image_data_delivery_enabled=logging_settings.image,
                embedding_data_delivery_enabled=logging_settings.embedding,
                video_data_delivery_enabled=logging_settings.video,
                cloudwatch_config=aws.bedrockmodel.InvocationLoggingConfigurationLoggingConfigCloudwatchConfigArgs(
                    log_group_name=log_group.name,
                    role_arn=logging_role.arn,
                    large_data_delivery_s3_config=aws.bedrockmodel.InvocationLoggingConfigurationLoggingConfigCloudwatchConfigLargeDataDeliveryS3ConfigArgs(
                        bucket_name=bucket.bucket_name, key_prefix="invocations/large-data"
                    ),
                ),
                s3_config=aws.bedrockmodel.InvocationLoggingConfigurationLoggingConfigS3ConfigArgs(
                    bucket_name=bucket.bucket_name, key_prefix="invocations"
                ),
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[bucket.policy, logging_role]),
        )

        return log_group.name, bucket.bucket_name


def _fingerprint(settings: GuardrailSettings) -> str:
    """Short hash of the guardrail settings: a settings change publishes a new version."""
    raw = json.dumps(settings.__dict__, sort_keys=True, default=list)
    return hashlib.sha256(raw.encode()).hexdigest()[:12]


__all__ = [
    "BedrockAccess",
    "BedrockAccessArgs",
    "GuardrailSettings",
    "LoggingSettings",
    "check_model_arn",
    "runtime_endpoint_policy",
]
