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

import hashlib
import json
import re
from collections.abc import Sequence
from enum import StrEnum
from typing import NotRequired, TypedDict

import pulumi
import pulumi_aws as aws

from regulated_inference.components.least_privilege_role import LeastPrivilegeRole, service_trust
from regulated_inference.components.secure_bucket import SecureBucket, ServiceWriter
from regulated_inference.lib import aws as aws_facts
from regulated_inference.lib import iam
from regulated_inference.lib.aws import AwsContext
from regulated_inference.lib.errors import ComponentArgsError
from regulated_inference.lib.logs import encrypted_log_group
from regulated_inference.lib.outputs import publish_outputs, type_token

_COMPONENT = "BedrockAccess"
#: What the bedrock-runtime endpoint and the invoke role may do.
INVOKE_ACTIONS = iam.INVOKE_MODEL_ACTIONS
_ARN = re.compile(
    f"^arn:(?P<part>{aws_facts.PARTITION_PATTERN}):bedrock:(?P<region>{aws_facts.REGION_PATTERN}):"
    f"(?P<account>{aws_facts.ACCOUNT_ID_PATTERN})?:"
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
    if not aws_facts.is_account_id(account_id):
        raise ValueError(f"runtime_endpoint_policy: {account_id!r} is not an account id")
    if guardrail_arns is None:
        partitions_regions = sorted(
            {(_ARN.match(a)["part"], _ARN.match(a)["region"]) for a in arns}
        )
        guardrail_arns = [
            aws_facts.bedrock_guardrail_arn(aws_facts.context(r, account_id, p), "*")
            for p, r in partitions_regions
        ]
    this_account = {"StringEquals": {"aws:PrincipalAccount": account_id}}
    return iam.document(
        [
            iam.principal_statement(
                "InvokeAllowListedModels", "*", list(INVOKE_ACTIONS), arns, this_account
            ),
            iam.principal_statement(
                "ApplyOwnGuardrails",
                "*",
                "bedrock:ApplyGuardrail",
                list(guardrail_arns),
                this_account,
            ),
        ]
    )


class PromptAttackStrength(StrEnum):
    """Input strength of the guardrail's PROMPT_ATTACK filter (it cannot be switched off, M7)."""

    LOW = "LOW"
    """Blocks only high-confidence prompt attacks."""
    MEDIUM = "MEDIUM"
    """Blocks medium- and high-confidence prompt attacks."""
    HIGH = "HIGH"
    """Blocks low-, medium- and high-confidence prompt attacks."""


class ContentFilterStrength(StrEnum):
    """Strength of the HATE, INSULTS, SEXUAL, VIOLENCE and MISCONDUCT content filters."""

    NONE = "NONE"
    """No content filters."""
    LOW = "LOW"
    """Blocks only high-confidence harmful content."""
    MEDIUM = "MEDIUM"
    """Blocks medium- and high-confidence harmful content."""
    HIGH = "HIGH"
    """Blocks low-, medium- and high-confidence harmful content."""


class PiiAction(StrEnum):
    """What the guardrail does with detected PII."""

    BLOCK = "BLOCK"
    """Block the request or the answer."""
    ANONYMIZE = "ANONYMIZE"
    """Mask the entity (e.g. `{EMAIL}`) and let the text through."""


#: Every PII entity type a guardrail detects (Bedrock API reference, GuardrailPiiEntityConfig
#: `type`).
PII_ENTITY_TYPES = (
    "ADDRESS",
    "AGE",
    "AWS_ACCESS_KEY",
    "AWS_SECRET_KEY",
    "CA_HEALTH_NUMBER",
    "CA_SOCIAL_INSURANCE_NUMBER",
    "CREDIT_DEBIT_CARD_CVV",
    "CREDIT_DEBIT_CARD_EXPIRY",
    "CREDIT_DEBIT_CARD_NUMBER",
    "DRIVER_ID",
    "EMAIL",
    "INTERNATIONAL_BANK_ACCOUNT_NUMBER",
    "IP_ADDRESS",
    "LICENSE_PLATE",
    "MAC_ADDRESS",
    "NAME",
    "PASSWORD",
    "PHONE",
    "PIN",
    "SWIFT_CODE",
    "UK_NATIONAL_HEALTH_SERVICE_NUMBER",
    "UK_NATIONAL_INSURANCE_NUMBER",
    "UK_UNIQUE_TAXPAYER_REFERENCE_NUMBER",
    "URL",
    "USERNAME",
    "US_BANK_ACCOUNT_NUMBER",
    "US_BANK_ROUTING_NUMBER",
    "US_INDIVIDUAL_TAX_IDENTIFICATION_NUMBER",
    "US_PASSPORT_NUMBER",
    "US_SOCIAL_SECURITY_NUMBER",
    "VEHICLE_IDENTIFICATION_NUMBER",
)
#: Defaults of the guardrail, in one place (the stack config imports them). The PII default is
#: the regulated set: contact data, payment and bank identifiers, UK national identifiers and
#: credentials.
DEFAULT_PII_ENTITIES = (
    "EMAIL",
    "PHONE",
    "CREDIT_DEBIT_CARD_NUMBER",
    "INTERNATIONAL_BANK_ACCOUNT_NUMBER",
    "UK_NATIONAL_INSURANCE_NUMBER",
    "UK_NATIONAL_HEALTH_SERVICE_NUMBER",
    "PASSWORD",
    "AWS_ACCESS_KEY",
    "AWS_SECRET_KEY",
)
DEFAULT_PROMPT_ATTACK_STRENGTH = PromptAttackStrength.HIGH
DEFAULT_CONTENT_FILTER_STRENGTH = ContentFilterStrength.HIGH
DEFAULT_PII_ACTION = PiiAction.ANONYMIZE
DEFAULT_BLOCKED_INPUT_MESSAGE = "This request cannot be processed under our usage policy."
DEFAULT_BLOCKED_OUTPUT_MESSAGE = "The answer was withheld under our usage policy."
#: Whether a stack configures the account's model-invocation logging unless told otherwise
#: (`AuditEvidenceAlarms` expects its deliveries by the same default).
DEFAULT_INVOCATION_LOGGING = True
#: Key prefixes of invocation logging in the log bucket: the S3 delivery, and the payloads too
#: large for a CloudWatch event ("Model invocation logging", Bedrock user guide).
INVOCATION_LOG_PREFIX = "invocations"
LARGE_DATA_PREFIX = f"{INVOCATION_LOG_PREFIX}/large-data"
#: Invocation-logging payload defaults: text yes; image, embedding and video no.
DEFAULT_LOG_TEXT, DEFAULT_LOG_IMAGE, DEFAULT_LOG_EMBEDDING, DEFAULT_LOG_VIDEO = (
    True,
    False,
    False,
    False,
)


class GuardrailSettings(TypedDict):
    """Filters of the guardrail; each omitted one takes its `DEFAULT_*`."""

    prompt_attack_strength: NotRequired[PromptAttackStrength]
    """Input strength of the PROMPT_ATTACK filter (jailbreaks, prompt injection); default HIGH."""
    content_filter_strength: NotRequired[ContentFilterStrength]
    """Strength of the content filters (input and output); default HIGH."""
    pii_action: NotRequired[PiiAction]
    """What happens to detected PII; default ANONYMIZE."""
    pii_entities: NotRequired[list[str]]
    """PII entity types detected (`PII_ENTITY_TYPES`); default `DEFAULT_PII_ENTITIES` (9 types)."""
    blocked_input_message: NotRequired[str]
    """What the caller receives when a prompt is blocked."""
    blocked_output_message: NotRequired[str]
    """What the caller receives when an answer is blocked."""


class LoggingSettings(TypedDict):
    """Which payloads invocation logging delivers."""

    text: NotRequired[bool]
    """Deliver prompts and completions (text); default true."""
    image: NotRequired[bool]
    """Deliver image payloads; default false."""
    embedding: NotRequired[bool]
    """Deliver embeddings; default false."""
    video: NotRequired[bool]
    """Deliver video payloads; default false."""


def guardrail_settings(settings: GuardrailSettings | None = None) -> GuardrailSettings:
    """`settings` with every default filled in (what the guardrail is built from)."""
    s = settings or {}
    return {
        "prompt_attack_strength": PromptAttackStrength(
            s.get("prompt_attack_strength", DEFAULT_PROMPT_ATTACK_STRENGTH)
        ),
        "content_filter_strength": ContentFilterStrength(
            s.get("content_filter_strength", DEFAULT_CONTENT_FILTER_STRENGTH)
        ),
        "pii_action": PiiAction(s.get("pii_action", DEFAULT_PII_ACTION)),
        "pii_entities": list(s.get("pii_entities", DEFAULT_PII_ENTITIES)),
        "blocked_input_message": s.get("blocked_input_message", DEFAULT_BLOCKED_INPUT_MESSAGE),
        "blocked_output_message": s.get("blocked_output_message", DEFAULT_BLOCKED_OUTPUT_MESSAGE),
    }


def logging_settings(settings: LoggingSettings | None = None) -> LoggingSettings:
    """`settings` with every default filled in."""
    s = settings or {}
    return {
        "text": bool(s.get("text", DEFAULT_LOG_TEXT)),
        "image": bool(s.get("image", DEFAULT_LOG_IMAGE)),
        "embedding": bool(s.get("embedding", DEFAULT_LOG_EMBEDDING)),
        "video": bool(s.get("video", DEFAULT_LOG_VIDEO)),
    }


class BedrockAccessArgs(TypedDict):
    """Arguments of `BedrockAccess`."""

    model_arns: list[str]
    """Foundation-model (and geographic profile) ARNs the invoke role may use; exact, in allowed regions."""
    allowed_regions: list[str]
    """Residency: every model ARN must be in one of these regions."""
    aws: AwsContext
    """Home region (logging, guardrail; must be allowed) and account."""
    data_key_arn: pulumi.Input[str]
    """CMK of the guardrail and the log bucket."""
    logs_key_arn: pulumi.Input[str]
    """CMK of the invocation log group."""
    log_group_name: str
    """Invocation log group; must be under the stack's log-group prefix (the logs key only allows those)."""
    log_retention_days: int
    """Retention of the invocation log group in days."""
    access_log_bucket: pulumi.Input[str]
    """Where the log bucket's server access logs go."""
    invoker_service: str
    """Service principal that assumes the invoke role, e.g. lambda.amazonaws.com."""
    guardrail: NotRequired[GuardrailSettings]
    """The guardrail's filters; default every `DEFAULT_*` (prompt attack and content HIGH, 9 PII types anonymised)."""
    logging: NotRequired[LoggingSettings]
    """Which payloads invocation logging delivers; default text only."""
    invocation_logging: NotRequired[bool]
    """Configure the account's model-invocation logging (default True). It is ONE setting per
    account and region (`PutModelInvocationLoggingConfiguration`; Terraform's resource id is the
    region): exactly one stack of an account may own it, the others pass False and rely on it."""
    profile_arns: NotRequired[list[pulumi.Input[str]]]
    """Inference profile ARNs (resolved with the account id); validated like model ARNs when plain."""


def _validate(args: BedrockAccessArgs) -> None:
    def bad(arg, value, rule) -> ComponentArgsError:
        return ComponentArgsError(_COMPONENT, arg, value, rule)

    problem = aws_facts.check_context(args.get("aws"))
    if problem:
        raise bad("aws", args.get("aws"), problem)
    allowed = list(args.get("allowed_regions") or [])
    region = args["aws"]["region"]
    if region not in allowed:
        raise bad("aws.region", region, f"must be one of allowed_regions {allowed}")
    arns = list(args.get("model_arns") or [])
    if not arns:
        raise bad("model_arns", arns, "allow at least one foundation model")
    for arn in arns + [a for a in args.get("profile_arns") or [] if isinstance(a, str)]:
        try:
            check_model_arn(arn, allowed)
        except ValueError as exc:
            raise bad("model_arns", arn, str(exc)) from None
    g = args.get("guardrail") or {}
    strength = g.get("prompt_attack_strength", DEFAULT_PROMPT_ATTACK_STRENGTH)
    if strength not in tuple(PromptAttackStrength):
        raise bad(
            "guardrail.prompt_attack_strength",
            strength,
            "the prompt-attack filter is mandatory (LOW, MEDIUM or HIGH; M7)",
        )
    for key, enum in (
        ("content_filter_strength", ContentFilterStrength),
        ("pii_action", PiiAction),
    ):
        if key in g and g[key] not in tuple(enum):
            raise bad(f"guardrail.{key}", g[key], f"one of {', '.join(enum)}")
    entities = g.get("pii_entities", DEFAULT_PII_ENTITIES)
    if not entities:
        raise bad("guardrail.pii_entities", entities, "at least one PII entity type (M7)")
    unknown = [e for e in entities if e not in PII_ENTITY_TYPES]
    if unknown:
        raise bad("guardrail.pii_entities", unknown, "unknown PII entity types (PII_ENTITY_TYPES)")
    if not args.get("log_group_name", "").startswith("/"):
        raise bad("log_group_name", args.get("log_group_name"), "an absolute log group name")
    if not re.fullmatch(r"[a-z0-9.-]+\.amazonaws\.com", args.get("invoker_service", "")):
        raise bad("invoker_service", args.get("invoker_service"), "one AWS service principal")


class BedrockAccess(pulumi.ComponentResource):
    """Invocation logging, a published guardrail and an allow-listed invoke role."""

    invoke_role_arn: pulumi.Output[str]
    """The role callers assume to invoke the allow-listed models through the guardrail."""
    guardrail_id: pulumi.Output[str]
    """The guardrail's id."""
    guardrail_arn: pulumi.Output[str]
    """The guardrail's ARN."""
    guardrail_version: pulumi.Output[str]
    """The published version callers pass as guardrailVersion."""
    log_group_name: pulumi.Output[str]
    """The invocation log group (None when another stack owns invocation logging)."""
    log_bucket_name: pulumi.Output[str]
    """The bucket of large invocation payloads (None when another stack owns invocation logging)."""

    def __init__(
        self, name: str, args: BedrockAccessArgs, opts: pulumi.ResourceOptions | None = None
    ):
        _validate(args)
        super().__init__(type_token(_COMPONENT), name, None, opts)
        # Invocation logging: the account's owner stack only.
        log_group_name: pulumi.Input[str | None] = None
        log_bucket_name: pulumi.Input[str | None] = None
        if args.get("invocation_logging", DEFAULT_INVOCATION_LOGGING):
            log_group_name, log_bucket_name = self._invocation_logging(name, args)
        guardrail, version = self._guardrail(name, args)
        role = self._invoke_role(name, args, guardrail)

        publish_outputs(
            self,
            invoke_role_arn=role.arn,
            guardrail_id=guardrail.guardrail_id,
            guardrail_arn=guardrail.guardrail_arn,
            guardrail_version=version.version,
            log_group_name=pulumi.Output.from_input(log_group_name),
            log_bucket_name=pulumi.Output.from_input(log_bucket_name),
        )

    def _guardrail(
        self, name: str, args: BedrockAccessArgs
    ) -> tuple[aws.bedrock.Guardrail, aws.bedrock.GuardrailVersion]:
        """The guardrail (prompt-attack, content and PII filters) and its published version."""
        child = pulumi.ResourceOptions(parent=self)
        settings = guardrail_settings(args.get("guardrail"))
        content = settings["content_filter_strength"]
        filters = [
            aws.bedrock.GuardrailContentPolicyConfigFiltersConfigArgs(
                type="PROMPT_ATTACK",
                input_strength=settings["prompt_attack_strength"].value,
                output_strength="NONE",  # AWS: prompt attacks are an input-only filter
            )
        ]
        if content != ContentFilterStrength.NONE:
            filters += [
                aws.bedrock.GuardrailContentPolicyConfigFiltersConfigArgs(
                    type=kind, input_strength=content.value, output_strength=content.value
                )
                for kind in CONTENT_FILTERS
            ]
        guardrail = aws.bedrock.Guardrail(
            f"{name}-guardrail",
            name=f"{name}-guardrail",
            description="Prompt-attack, content and PII filters for every Bedrock call",
            kms_key_arn=args["data_key_arn"],
            blocked_input_messaging=settings["blocked_input_message"],
            blocked_outputs_messaging=settings["blocked_output_message"],
            content_policy_config=aws.bedrock.GuardrailContentPolicyConfigArgs(
                filters_configs=filters
            ),
            sensitive_information_policy_config=aws.bedrock.GuardrailSensitiveInformationPolicyConfigArgs(
                pii_entities_configs=[
                    aws.bedrock.GuardrailSensitiveInformationPolicyConfigPiiEntitiesConfigArgs(
                        type=entity, action=settings["pii_action"].value
                    )
                    for entity in settings["pii_entities"]
                ]
            ),
            opts=child,
        )
        version = aws.bedrock.GuardrailVersion(
            f"{name}-guardrail-version",
            guardrail_arn=guardrail.guardrail_arn,
            description=f"settings {_fingerprint(settings)}",
            skip_destroy=True,  # published versions stay for the audit trail
            opts=child,
        )
        return guardrail, version

    def _invoke_role(
        self, name: str, args: BedrockAccessArgs, guardrail: aws.bedrock.Guardrail
    ) -> LeastPrivilegeRole:
        """InvokeModel on the allow-listed ARNs, through this guardrail only."""
        model_arns = tuple(args["model_arns"]) + tuple(args.get("profile_arns") or [])
        return LeastPrivilegeRole(
            f"{name}-invoke-role",
            {
                "trust": service_trust(args["invoker_service"], args["aws"]["account_id"]),
                "description": "Invoke the allow-listed Bedrock models through the guardrail",
                "grants": [
                    iam.invoke_models(model_arns, guardrail_arn=guardrail.guardrail_arn),
                    # The guardrail is encrypted with the data key; applying it decrypts it.
                    iam.use_key(
                        args["data_key_arn"],
                        decrypt=True,
                        via_service=f"bedrock.{args['aws']['region']}.amazonaws.com",
                    ),
                ],
            },
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _invocation_logging(
        self, name: str, args: BedrockAccessArgs
    ) -> tuple[pulumi.Output[str], pulumi.Output[str]]:
        """Log group, log bucket, delivery role and the account's logging configuration."""
        child = pulumi.ResourceOptions(parent=self)
        account = args["aws"]["account_id"]
        bedrock_source = aws_facts.bedrock_arn(args["aws"], "*")
        delivered = logging_settings(args.get("logging"))
        log_group = encrypted_log_group(
            f"{name}-invocation-logs",
            args["log_group_name"],
            args["logs_key_arn"],
            args["log_retention_days"],
            child,
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
                        prefix=f"{INVOCATION_LOG_PREFIX}/",
                        source_account=account,
                        source_arn=bedrock_source,
                    )
                ],
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
                    iam.write_objects(bucket.arn, f"{LARGE_DATA_PREFIX}/"),
                    iam.use_key(args["data_key_arn"], decrypt=False, encrypt=True),
                ],
            },
            opts=child,
        )
        aws.bedrockmodel.InvocationLoggingConfiguration(
            f"{name}-invocation-logging",
            logging_config=aws.bedrockmodel.InvocationLoggingConfigurationLoggingConfigArgs(
                text_data_delivery_enabled=delivered["text"],
                image_data_delivery_enabled=delivered["image"],
                embedding_data_delivery_enabled=delivered["embedding"],
                video_data_delivery_enabled=delivered["video"],
                cloudwatch_config=aws.bedrockmodel.InvocationLoggingConfigurationLoggingConfigCloudwatchConfigArgs(
                    log_group_name=log_group.name,
                    role_arn=logging_role.arn,
                    large_data_delivery_s3_config=aws.bedrockmodel.InvocationLoggingConfigurationLoggingConfigCloudwatchConfigLargeDataDeliveryS3ConfigArgs(
                        bucket_name=bucket.bucket_name, key_prefix=LARGE_DATA_PREFIX
                    ),
                ),
                s3_config=aws.bedrockmodel.InvocationLoggingConfigurationLoggingConfigS3ConfigArgs(
                    bucket_name=bucket.bucket_name, key_prefix=INVOCATION_LOG_PREFIX
                ),
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[bucket.policy, logging_role]),
        )

        return log_group.name, bucket.bucket_name


def _fingerprint(settings: GuardrailSettings) -> str:
    """Short hash of the guardrail settings: a settings change publishes a new version."""
    raw = json.dumps(settings, sort_keys=True, default=list)
    return hashlib.sha256(raw.encode()).hexdigest()[:12]


__all__ = [
    "BedrockAccess",
    "BedrockAccessArgs",
    "ContentFilterStrength",
    "DEFAULT_PII_ENTITIES",
    "GuardrailSettings",
    "LoggingSettings",
    "PII_ENTITY_TYPES",
    "PiiAction",
    "PromptAttackStrength",
    "guardrail_settings",
    "logging_settings",
    "check_model_arn",
    "runtime_endpoint_policy",
]
