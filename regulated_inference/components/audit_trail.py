"""CloudTrail into a WORM bucket and CloudWatch Logs (controls L1–L5, E7, R6).

The audit bucket itself is a `SecureBucket` with Object Lock and a service
writer for this trail; this component declares the trail, its encrypted log
group and the delivery role, with data events for the buckets that hold
models and captured inference data.
"""

from typing import NotRequired, TypedDict

import pulumi
import pulumi_aws as aws

from regulated_inference.components.least_privilege_role import LeastPrivilegeRole, service_trust
from regulated_inference.lib import aws as aws_facts
from regulated_inference.lib import iam
from regulated_inference.lib.aws import AwsContext
from regulated_inference.lib.errors import ComponentArgsError
from regulated_inference.lib.logs import encrypted_log_group
from regulated_inference.lib.outputs import publish_outputs, type_token

_COMPONENT = "AuditTrail"


#: Default: record API calls in every region (to catch use outside the allowed ones); logs stay home.
DEFAULT_MULTI_REGION = True
#: Key prefix of the log files in the audit bucket.
S3_KEY_PREFIX = "cloudtrail"


def delivery_prefix(account_id: str) -> str:
    """Where the trail's log files land in the audit bucket: CloudTrail writes under
    `<S3KeyPrefix>/AWSLogs/<account id>/` (CloudTrail User Guide, "Finding your CloudTrail log
    files"); the bucket policy's service writer admits exactly that prefix."""
    return f"{S3_KEY_PREFIX}/AWSLogs/{account_id}/"


def trail_arn(name: str, ctx: AwsContext) -> str:
    """The ARN a trail of this name will have; known before it exists, for key and bucket policies."""
    return aws_facts.cloudtrail_arn(ctx, name)


class AuditTrailArgs(TypedDict):
    """Arguments of `AuditTrail`."""

    trail_name: str
    """Trail name (fixed, so its ARN can be named in key and bucket policies before it exists)."""
    aws: AwsContext
    """Where the trail lives: its home region and account (and the partition of its ARN)."""
    audit_bucket_name: pulumi.Input[str]
    """The WORM audit bucket (its policy must let this trail write, see `ServiceWriter`)."""
    audit_kms_key_arn: pulumi.Input[str]
    """CMK that encrypts log files (its policy must let this trail use it)."""
    logs_kms_key_arn: pulumi.Input[str]
    """CMK of the CloudWatch log group."""
    log_group_name: str
    """Name of the CloudWatch log group the trail delivers to."""
    log_retention_days: int
    """Retention of the log group in days."""
    data_event_bucket_arns: list[pulumi.Input[str]]
    """Buckets whose object-level reads and writes are recorded (model artifacts, data capture)."""
    multi_region: NotRequired[bool]
    """Record API calls in every region (to catch use outside the allowed ones). Default True; logs stay home."""


class AuditTrail(pulumi.ComponentResource):
    """A CloudTrail trail with log-file validation, KMS, CloudWatch delivery and data events.

    The trail waits for everything the component's own `depends_on` names: pass the audit
    bucket's policy there (AWS checks it when the trail is created; through the provider, the
    engine fills `depends_on` from the request's dependencies).
    """

    trail_arn: pulumi.Output[str]
    """The trail ARN."""
    log_group_arn: pulumi.Output[str]
    """The CloudWatch log group receiving the trail."""
    log_group_name: pulumi.Output[str]
    """Name of that log group (for metric filters and alarms on the trail's events)."""

    def __init__(self, name: str, args: AuditTrailArgs, opts: pulumi.ResourceOptions | None = None):
        for field in ("trail_name", "log_group_name"):
            if not args.get(field):
                raise ComponentArgsError(_COMPONENT, field, args.get(field), "required")
        problem = aws_facts.check_context(args.get("aws"))
        if problem:
            raise ComponentArgsError(_COMPONENT, "aws", args.get("aws"), problem)
        if not args.get("data_event_bucket_arns"):
            raise ComponentArgsError(
                _COMPONENT,
                "data_event_bucket_arns",
                args.get("data_event_bucket_arns"),
                "record object-level events of at least the model bucket (L4)",
            )
        super().__init__(type_token(_COMPONENT), name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        ctx = args["aws"]
        arn = trail_arn(args["trail_name"], ctx)
        # The trail waits for what this component waits for (the audit bucket policy).
        wait_for = list((opts.depends_on if opts else None) or [])

        log_group = encrypted_log_group(
            f"{name}-logs",
            args["log_group_name"],
            args["logs_kms_key_arn"],
            args["log_retention_days"],
            child,
        )
        role = LeastPrivilegeRole(
            f"{name}-delivery",
            {
                "trust": service_trust(
                    service="cloudtrail.amazonaws.com",
                    source_account=ctx["account_id"],
                    source_arn=arn,
                ),
                "grants": [iam.write_logs(log_group.arn)],
                "description": f"CloudTrail {args['trail_name']} delivers to CloudWatch Logs",
            },
            opts=child,
        )
        data_arns = [pulumi.Output.concat(b, "/") for b in args["data_event_bucket_arns"]]
        trail = aws.cloudtrail.Trail(
            f"{name}-trail",
            name=args["trail_name"],
            s3_bucket_name=args["audit_bucket_name"],
            s3_key_prefix=S3_KEY_PREFIX,
            kms_key_id=args["audit_kms_key_arn"],
            enable_log_file_validation=True,
            enable_logging=True,
            include_global_service_events=True,
            is_multi_region_trail=bool(args.get("multi_region", DEFAULT_MULTI_REGION)),
            cloud_watch_logs_group_arn=pulumi.Output.concat(log_group.arn, ":*"),
            cloud_watch_logs_role_arn=role.arn,
            advanced_event_selectors=[
                {
                    "name": "Management events",
                    "field_selectors": [{"field": "eventCategory", "equals": ["Management"]}],
                },
                {
                    "name": "Model and capture object access",
                    "field_selectors": [
                        {"field": "eventCategory", "equals": ["Data"]},
                        {"field": "resources.type", "equals": ["AWS::S3::Object"]},
                        {"field": "resources.ARN", "starts_withs": data_arns},
                    ],
                },
            ],
            opts=pulumi.ResourceOptions(parent=self, depends_on=wait_for),
        )
        publish_outputs(
            self, trail_arn=trail.arn, log_group_arn=log_group.arn, log_group_name=log_group.name
        )
