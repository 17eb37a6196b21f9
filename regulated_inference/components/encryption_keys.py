"""Customer-managed KMS keys, one per purpose (controls E8, E9, R3, G3)."""

from typing import NotRequired, TypedDict

import pulumi
import pulumi_aws as aws

from regulated_inference.lib import aws as aws_facts
from regulated_inference.lib import iam
from regulated_inference.lib.aws import AwsContext
from regulated_inference.lib.errors import ComponentArgsError
from regulated_inference.lib.outputs import publish_outputs, type_token

_COMPONENT = "EncryptionKeys"

#: What each key protects. Separate keys keep a compromise (or a grant) of one
#: purpose from reaching the others, and let auditors hold only the audit key.
PURPOSES: dict[str, str] = {
    "data": "model artifacts, data capture, endpoint volumes, monitoring outputs, guardrails",
    "logs": "CloudWatch log groups and SNS alert topics",
    "audit": "CloudTrail logs, the WORM audit bucket and deployment records",
}

#: Key administration, granted to the account (and so to IAM policies) without wildcards.
_ADMIN_ACTIONS = [
    "kms:DescribeKey",
    "kms:GetKeyPolicy",
    "kms:PutKeyPolicy",
    "kms:GetKeyRotationStatus",
    "kms:EnableKeyRotation",
    "kms:ListResourceTags",
    "kms:TagResource",
    "kms:UntagResource",
    "kms:ScheduleKeyDeletion",
    "kms:CancelKeyDeletion",
    "kms:CreateAlias",
    "kms:UpdateAlias",
    "kms:DeleteAlias",
    "kms:EnableKey",
    "kms:DisableKey",
    "kms:UpdateKeyDescription",
    "kms:ListGrants",
    "kms:RevokeGrant",
    "kms:RetireGrant",
    "kms:ListAliases",
]
_USE_ACTIONS = [
    "kms:Decrypt",
    "kms:Encrypt",
    "kms:GenerateDataKey",
    "kms:GenerateDataKeyWithoutPlaintext",
    "kms:ReEncryptFrom",
    "kms:ReEncryptTo",
    "kms:DescribeKey",
    "kms:CreateGrant",
]
#: Services whose principals (in this account) may use each key on the caller's behalf.
_VIA_SERVICES: dict[str, tuple[str, ...]] = {
    "data": ("sagemaker", "s3", "bedrock"),
    "logs": ("logs", "sns"),
    "audit": ("s3", "cloudtrail"),
}


#: Days before a scheduled key deletion takes effect (the longest AWS allows).
DEFAULT_DELETION_WINDOW_DAYS = 30
#: AWS's bounds for the deletion window (ScheduleKeyDeletion PendingWindowInDays).
DELETION_WINDOW_MIN_DAYS, DELETION_WINDOW_MAX_DAYS = 7, 30
#: Automatic rotation period in days (yearly).
ROTATION_PERIOD_DAYS = 365


class EncryptionKeysArgs(TypedDict):
    """Arguments of `EncryptionKeys`."""

    aws: AwsContext
    """The account that owns the keys and the home region: keys are single-Region there (no
    multi-Region keys, control R3)."""
    log_group_prefix: str
    """CloudWatch Logs may use the logs key only for log groups under this prefix (e.g. /regulated-inference/prod/)."""
    trail_name: str
    """Name of the CloudTrail trail allowed to encrypt with the audit key (aws:SourceArn)."""
    extra_log_group_patterns: NotRequired[list[str]]
    """More log-group name patterns the logs key serves, for AWS-named groups the stack pre-creates
    encrypted (e.g. `/aws/sagemaker/Endpoints/*-prod`). Default none."""
    access_log_source_arns: NotRequired[list[str]]
    """S3 server access logs: the source buckets (ARNs, or ArnLike patterns such as
    `arn:aws:s3:::regulated-inference-prod-*`) whose access logs S3 writes into a bucket encrypted
    with the logs key. Their log delivery (`logging.s3.amazonaws.com`) may generate data keys
    for this account and these sources only. Default none: no log delivery grant."""
    deletion_window_days: NotRequired[int]
    """Days before a scheduled deletion takes effect, 7–30; default 30."""


def _log_group_arns(args: EncryptionKeysArgs) -> str | list[str]:
    patterns = [f"{args['log_group_prefix']}*", *args.get("extra_log_group_patterns", [])]
    return iam.scalar_if_one([aws_facts.log_group_arn(args["aws"], p) for p in patterns])


def _access_log_delivery(args: EncryptionKeysArgs) -> list[dict]:
    """S3 server access log delivery into an SSE-KMS target bucket.

    S3 writes access logs as the `logging.s3.amazonaws.com` service principal; to a bucket whose
    default encryption is SSE-KMS with a customer-managed key it delivers only if that key's
    policy lets the principal call `kms:GenerateDataKey` (AWS S3 User Guide, "Enabling Amazon S3
    server access logging" → permissions for log delivery, SSE-KMS destination buckets). Scoped to
    this account (aws:SourceAccount) and the source buckets (aws:SourceArn), as the guide advises
    for every service principal (confused-deputy prevention).
    """
    sources = list(args.get("access_log_source_arns") or [])
    if not sources:
        return []
    return [
        iam.allow_service(
            "S3ServerAccessLogDelivery",
            "logging.s3.amazonaws.com",
            "kms:GenerateDataKey",
            "*",
            iam.on_behalf_of(args["aws"]["account_id"], sources),
        )
    ]


def key_policy(purpose: str, args: EncryptionKeysArgs) -> str:
    """The key policy for one purpose: admin for the account, use only via named services, service grants."""
    ctx = args["aws"]
    acct, region = ctx["account_id"], ctx["region"]
    root = aws_facts.iam_root_arn(ctx)
    statements: list[dict] = [
        iam.principal_statement("AccountAdministration", {"AWS": root}, _ADMIN_ACTIONS, "*"),
        iam.principal_statement(
            "UseViaServicesInThisAccount",
            {"AWS": root},
            _USE_ACTIONS,
            "*",
            {
                "StringEquals": {
                    "kms:CallerAccount": acct,
                    "kms:ViaService": [
                        f"{s}.{region}.amazonaws.com" for s in _VIA_SERVICES[purpose]
                    ],
                }
            },
        ),
    ]
    if purpose == "logs":
        statements += [
            iam.allow_service(
                "CloudWatchLogsForOurLogGroups",
                f"logs.{region}.amazonaws.com",
                [
                    "kms:Encrypt",
                    "kms:Decrypt",
                    "kms:ReEncryptFrom",
                    "kms:ReEncryptTo",
                    "kms:GenerateDataKey",
                    "kms:GenerateDataKeyWithoutPlaintext",
                    "kms:DescribeKey",
                ],
                "*",
                {"ArnLike": {"kms:EncryptionContext:aws:logs:arn": _log_group_arns(args)}},
            ),
            *_access_log_delivery(args),
            iam.allow_service(
                "CloudWatchAlarmsPublishToEncryptedTopics",
                "cloudwatch.amazonaws.com",
                ["kms:GenerateDataKey", "kms:Decrypt"],
                "*",
                iam.on_behalf_of(acct),
            ),
            # The EventBridge rule forwarding SageMaker deployment events (rollbacks) to the
            # KMS-encrypted alert topic ("Amazon EventBridge targets: SNS topics encrypted
            # with a customer managed key need kms:GenerateDataKey/Decrypt for events").
            iam.allow_service(
                "EventBridgeRulesPublishToEncryptedTopics",
                "events.amazonaws.com",
                ["kms:GenerateDataKey", "kms:Decrypt"],
                "*",
                iam.on_behalf_of(acct, aws_facts.events_rule_arn(ctx, "*")),
            ),
        ]
    if purpose == "data":
        # Bedrock model-invocation logging writes to an SSE-KMS bucket under the data key.
        statements.append(
            iam.allow_service(
                "BedrockInvocationLogDelivery",
                "bedrock.amazonaws.com",
                "kms:GenerateDataKey",
                "*",
                iam.on_behalf_of(acct, aws_facts.bedrock_arn(ctx, "*")),
            )
        )
    if purpose == "audit":
        trail_arn = aws_facts.cloudtrail_arn(ctx, args["trail_name"])
        statements += [
            iam.allow_service(
                "CloudTrailEncryptLogs",
                "cloudtrail.amazonaws.com",
                "kms:GenerateDataKey",
                "*",
                {
                    "StringEquals": {"aws:SourceArn": trail_arn},
                    "StringLike": {
                        "kms:EncryptionContext:aws:cloudtrail:arn": aws_facts.cloudtrail_arn(
                            ctx, "*", any_region=True
                        )
                    },
                },
            ),
            iam.allow_service(
                "CloudTrailDescribeKey",
                "cloudtrail.amazonaws.com",
                "kms:DescribeKey",
                "*",
                {"StringEquals": {"aws:SourceArn": trail_arn}},
            ),
        ]
    return iam.document(statements)


class EncryptionKeys(pulumi.ComponentResource):
    """Three customer-managed keys — data, logs, audit — with rotation and scoped key policies.

    Secure by default: symmetric, single-Region, yearly rotation, 30-day
    deletion window, an alias per key, and key policies that let services use
    a key only on behalf of this account (kms:ViaService / aws:SourceArn /
    encryption-context conditions). No `*` principal anywhere.
    """

    data_key_arn: pulumi.Output[str]
    """ARN of the data key."""
    logs_key_arn: pulumi.Output[str]
    """ARN of the logs key."""
    audit_key_arn: pulumi.Output[str]
    """ARN of the audit key."""

    def __init__(
        self, name: str, args: EncryptionKeysArgs, opts: pulumi.ResourceOptions | None = None
    ):
        window = args.get("deletion_window_days", DEFAULT_DELETION_WINDOW_DAYS)
        if not DELETION_WINDOW_MIN_DAYS <= window <= DELETION_WINDOW_MAX_DAYS:
            raise ComponentArgsError(
                _COMPONENT, "deletion_window_days", window, "AWS allows 7–30 days"
            )
        window = int(window)  # integers arrive as floats through Construct (pulumi/pulumi#21944)
        problem = aws_facts.check_context(args.get("aws"))
        if problem:
            raise ComponentArgsError(_COMPONENT, "aws", args.get("aws"), problem)
        for field in ("log_group_prefix", "trail_name"):
            if not args.get(field):
                raise ComponentArgsError(_COMPONENT, field, args.get(field), "required")
        for arn in args.get("access_log_source_arns") or []:
            if (
                not str(arn).startswith("arn:")
                or ":s3:::" not in str(arn)
                or str(arn).endswith(":::*")
            ):
                raise ComponentArgsError(
                    _COMPONENT,
                    "access_log_source_arns",
                    arn,
                    "S3 bucket ARNs or name patterns (arn:aws:s3:::<prefix>-*), never every bucket",
                )
        if not args["log_group_prefix"].startswith("/") or not args["log_group_prefix"].endswith(
            "/"
        ):
            raise ComponentArgsError(
                _COMPONENT,
                "log_group_prefix",
                args["log_group_prefix"],
                "must start and end with '/' so the key covers exactly that subtree",
            )
        super().__init__(type_token(_COMPONENT), name, None, opts)
        arns: dict[str, pulumi.Output[str]] = {}
        for purpose, what in PURPOSES.items():
            key = aws.kms.Key(
                f"{name}-{purpose}",
                description=f"{name} {purpose} key: {what}",
                key_usage="ENCRYPT_DECRYPT",
                customer_master_key_spec="SYMMETRIC_DEFAULT",
                enable_key_rotation=True,
                rotation_period_in_days=ROTATION_PERIOD_DAYS,
                deletion_window_in_days=window,
                multi_region=False,
                policy=key_policy(purpose, args),
                opts=pulumi.ResourceOptions(parent=self),
            )
            aws.kms.Alias(
                f"{name}-{purpose}-alias",
                name=f"alias/{name}-{purpose}",
                target_key_id=key.key_id,
                opts=pulumi.ResourceOptions(parent=self),
            )
            arns[purpose] = key.arn
        publish_outputs(
            self, data_key_arn=arns["data"], logs_key_arn=arns["logs"], audit_key_arn=arns["audit"]
        )
