"""An S3 bucket that is private, encrypted with a CMK, versioned, logged and TLS-only.

Controls E3, E4, L5, L8, L9, N9, N10, I8. In pulumi-aws v7 each bucket setting
is its own resource; this component declares all of them together so none
can be forgotten.
"""

from enum import StrEnum
from typing import NotRequired, TypedDict

import pulumi
import pulumi_aws as aws

from regulated_inference.lib import iam
from regulated_inference.lib.errors import ComponentArgsError
from regulated_inference.lib.outputs import publish_outputs, type_token

_COMPONENT = "SecureBucket"


class ObjectLockMode(StrEnum):
    """S3 Object Lock retention modes (S3 User Guide, "Object Lock retention modes")."""

    COMPLIANCE = "COMPLIANCE"
    """No user, including the root user, can delete or shorten retention before it ends."""
    GOVERNANCE = "GOVERNANCE"
    """Users with s3:BypassGovernanceRetention may delete or shorten retention."""


#: Object Lock default retention: 1 day to 100 years (PutObjectLockConfiguration, `Days`).
OBJECT_LOCK_MIN_DAYS, OBJECT_LOCK_MAX_DAYS = 1, 36500
#: Non-current versions are deleted after this many days unless Object Lock keeps them.
DEFAULT_NONCURRENT_VERSION_EXPIRATION_DAYS = 90
#: Incomplete multipart uploads are aborted after this many days.
ABORT_INCOMPLETE_UPLOAD_DAYS = 7


class ObjectLock(TypedDict):
    """WORM retention applied to every new object version by default."""

    mode: ObjectLockMode
    """COMPLIANCE (nobody can shorten it) or GOVERNANCE."""
    days: int
    """Default retention in days, 1–36500."""


class ServiceWriter(TypedDict):
    """An AWS service allowed to write under `prefix`, on behalf of this account only."""

    service: str
    """The service principal, e.g. `cloudtrail.amazonaws.com`."""
    prefix: str
    """Key prefix the service may write under (e.g. `cloudtrail/AWSLogs/<account>/`)."""
    source_account: str
    """The account the service acts for (aws:SourceAccount)."""
    source_arn: NotRequired[pulumi.Input[str]]
    """Pins the resource the service acts for (ArnLike), e.g. the trail or
    `arn:aws:bedrock:eu-west-2:123456789012:*`. Default: account only."""
    read_acl: NotRequired[bool]
    """Let the service call GetBucketAcl first (CloudTrail does). Default False."""


class SecureBucketArgs(TypedDict):
    """Arguments of `SecureBucket`."""

    kms_key_arn: pulumi.Input[str]
    """Customer-managed key for default SSE-KMS (with an S3 bucket key to cut KMS calls)."""
    access_log_bucket: NotRequired[pulumi.Input[str]]
    """Name of the bucket receiving server access logs. Required unless `is_access_log_bucket`."""
    access_log_prefix: NotRequired[str]
    """Key prefix of this bucket's access logs in the log bucket; default "<name>/"."""
    is_access_log_bucket: NotRequired[bool]
    """This bucket *is* the access-log target: no logging of itself, and S3 log delivery may write. Default False."""
    object_lock: NotRequired[ObjectLock]
    """Object Lock default retention (WORM). Can only be set when the bucket is created. Default none."""
    noncurrent_version_expiration_days: NotRequired[int]
    """Delete non-current versions after this many days; default 90. Object Lock still wins."""
    expiration_days: NotRequired[int]
    """Expire current objects after this many days; default never."""
    service_writers: NotRequired[list[ServiceWriter]]
    """AWS services that deliver into this bucket (CloudTrail, Bedrock logging, …)."""
    force_destroy: NotRequired[bool]
    """Let `pulumi destroy` delete a non-empty bucket. Default False; refused with Object Lock."""
    account_id: NotRequired[str]
    """This account; required for the log bucket (S3 log delivery is allowed for this account only)."""
    log_source_arns: NotRequired[list[str]]
    """Log bucket only: the source buckets (ARNs or ArnLike patterns) whose access logs S3 may
    deliver here (aws:SourceArn). Default: any bucket of `account_id`."""


def bucket_policy(
    bucket_arn: str,
    kms_key_arn: str,
    writers: list[ServiceWriter],
    log_bucket: bool,
    account_id: str | None,
    resolved_writer_arns: list[str | None],
    log_source_arns: list[str] | None = None,
) -> str:
    """TLS-only (1.2+), right-key-only uploads, plus one Allow per service writer."""
    objects = f"{bucket_arn}/*"
    everything = [bucket_arn, objects]
    statements: list[dict] = [
        iam.deny_insecure_transport("s3:*", everything),
        iam.principal_statement(
            "DenyOutdatedTls",
            "*",
            "s3:*",
            everything,
            {"NumericLessThan": {"s3:TlsVersion": "1.2"}},
            effect="Deny",
        ),
        iam.principal_statement(
            "DenyOtherKmsKeys",
            "*",
            "s3:PutObject",
            objects,
            {
                "StringNotEqualsIfExists": {
                    "s3:x-amz-server-side-encryption-aws-kms-key-id": kms_key_arn
                },
                "Null": {"s3:x-amz-server-side-encryption-aws-kms-key-id": "false"},
            },
            effect="Deny",
        ),
    ]
    for i, (writer, source_arn) in enumerate(zip(writers, resolved_writer_arns, strict=True)):
        cond = iam.on_behalf_of(writer["source_account"], source_arn)
        prefix = writer["prefix"].strip("/")
        if writer.get("read_acl", False):
            statements.append(
                iam.allow_service(
                    f"ServiceAclCheck{i}", writer["service"], "s3:GetBucketAcl", bucket_arn, cond
                )
            )
        statements.append(
            iam.allow_service(
                f"ServiceWrite{i}",
                writer["service"],
                "s3:PutObject",
                f"{bucket_arn}/{prefix}/*" if prefix else objects,
                cond,
            )
        )
    if log_bucket and account_id:
        statements.append(
            iam.allow_service(
                "S3ServerAccessLogs",
                "logging.s3.amazonaws.com",
                "s3:PutObject",
                objects,
                iam.on_behalf_of(account_id, log_source_arns),
            )
        )
    return iam.document(statements)


class SecureBucket(pulumi.ComponentResource):
    """A private S3 bucket with every protection on.

    SSE-KMS with a bucket key, all four public-access blocks, ACLs disabled
    (BucketOwnerEnforced), versioning, a TLS-only policy that also refuses
    uploads under another KMS key, server access logging, a lifecycle that
    expires old versions and aborts stale uploads, and optional Object Lock.
    `policy` (a Python attribute, not an output) is the bucket policy resource: depend on it
    before a service writes.
    """

    bucket_name: pulumi.Output[str]
    """The bucket's name."""
    arn: pulumi.Output[str]
    """The bucket's ARN."""
    kms_key_arn: pulumi.Output[str]
    """The CMK that encrypts it."""

    def __init__(
        self, name: str, args: SecureBucketArgs, opts: pulumi.ResourceOptions | None = None
    ):
        lock = _validate(args)
        super().__init__(type_token(_COMPONENT), name, None, opts)
        self._logical, self._inputs = name, args
        bucket = aws.s3.Bucket(
            f"{name}-bucket",
            object_lock_enabled=lock is not None,
            force_destroy=bool(args.get("force_destroy", False)),
            opts=self._child(),
        )
        public_access_block = self._lock_down(bucket)
        versioning = self._versioning_and_logging(bucket)
        self._lifecycle(bucket, versioning, lock)
        self.policy = self._policy(bucket, public_access_block)
        publish_outputs(
            self,
            bucket_name=bucket.bucket,
            arn=bucket.arn,
            kms_key_arn=pulumi.Output.from_input(args["kms_key_arn"]),
        )

    def _child(self, *depends_on: pulumi.Resource) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self, depends_on=list(depends_on) or None)

    def _lock_down(self, bucket: aws.s3.Bucket) -> aws.s3.BucketPublicAccessBlock:
        """Block public access, disable ACLs, encrypt by default with the CMK."""
        name = self._logical
        pab = aws.s3.BucketPublicAccessBlock(
            f"{name}-public-access-block",
            bucket=bucket.id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
            opts=self._child(),
        )
        aws.s3.BucketOwnershipControls(
            f"{name}-ownership",
            bucket=bucket.id,
            rule={"object_ownership": "BucketOwnerEnforced"},
            opts=self._child(),
        )
        aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}-encryption",
            bucket=bucket.id,
            rules=[
                {
                    "apply_server_side_encryption_by_default": {
                        "sse_algorithm": "aws:kms",
                        "kms_master_key_id": self._inputs["kms_key_arn"],
                    },
                    "bucket_key_enabled": True,
                }
            ],
            opts=self._child(),
        )
        return pab

    def _versioning_and_logging(self, bucket: aws.s3.Bucket) -> aws.s3.BucketVersioning:
        """Versioning, and server access logging unless this is the log bucket itself."""
        name, args = self._logical, self._inputs
        versioning = aws.s3.BucketVersioning(
            f"{name}-versioning",
            bucket=bucket.id,
            versioning_configuration={"status": "Enabled"},
            opts=self._child(),
        )
        if not args.get("is_access_log_bucket", False):
            aws.s3.BucketLogging(
                f"{name}-access-logging",
                bucket=bucket.id,
                target_bucket=args["access_log_bucket"],
                target_prefix=args.get("access_log_prefix", f"{name}/"),
                opts=self._child(),
            )
        return versioning

    def _lifecycle(
        self,
        bucket: aws.s3.Bucket,
        versioning: aws.s3.BucketVersioning,
        lock: ObjectLock | None,
    ) -> None:
        """Expire old versions (and objects, if asked), abort stale uploads, Object Lock."""
        name, args = self._logical, self._inputs
        noncurrent = int(
            args.get(
                "noncurrent_version_expiration_days", DEFAULT_NONCURRENT_VERSION_EXPIRATION_DAYS
            )
        )
        rule: dict = {
            "id": "expire-noncurrent-and-abort-uploads",
            "status": "Enabled",
            "filter": {},
            "noncurrent_version_expiration": {"noncurrent_days": noncurrent},
            "abort_incomplete_multipart_upload": {
                "days_after_initiation": ABORT_INCOMPLETE_UPLOAD_DAYS
            },
        }
        if args.get("expiration_days"):
            rule["expiration"] = {"days": int(args["expiration_days"])}
        aws.s3.BucketLifecycleConfiguration(
            f"{name}-lifecycle", bucket=bucket.id, rules=[rule], opts=self._child(versioning)
        )
        if lock is not None:
            aws.s3.BucketObjectLockConfiguration(
                f"{name}-object-lock",
                bucket=bucket.id,
                rule={
                    "default_retention": {
                        "mode": ObjectLockMode(lock["mode"]).value,
                        "days": int(lock["days"]),
                    }
                },
                opts=self._child(versioning),
            )

    def _policy(
        self, bucket: aws.s3.Bucket, public_access_block: aws.s3.BucketPublicAccessBlock
    ) -> aws.s3.BucketPolicy:
        """The bucket policy, applied after the public access block so it is never briefly judged "public"."""
        args = self._inputs
        writers = list(args.get("service_writers") or [])
        policy_json = pulumi.Output.all(
            bucket.arn, args["kms_key_arn"], *[w.get("source_arn") for w in writers]
        ).apply(
            lambda a: bucket_policy(
                a[0],
                a[1],
                writers,
                bool(args.get("is_access_log_bucket", False)),
                args.get("account_id"),
                list(a[2:]),
                args.get("log_source_arns"),
            )
        )
        return aws.s3.BucketPolicy(
            f"{self._logical}-policy",
            bucket=bucket.id,
            policy=policy_json,
            opts=self._child(public_access_block),
        )


def _validate(args: SecureBucketArgs) -> ObjectLock | None:
    """Refuse unsafe or incomplete args before any resource; the Object Lock to apply, if any."""
    account_id = args.get("account_id")
    is_log_bucket = bool(args.get("is_access_log_bucket", False))
    lock = args.get("object_lock")
    if not args.get("kms_key_arn"):
        raise ComponentArgsError(
            _COMPONENT, "kms_key_arn", args.get("kms_key_arn"), "a CMK is required (E3)"
        )
    if not is_log_bucket and not args.get("access_log_bucket"):
        raise ComponentArgsError(
            _COMPONENT,
            "access_log_bucket",
            None,
            "every bucket except the log bucket itself logs access (L8)",
        )
    if is_log_bucket and not account_id:
        raise ComponentArgsError(
            _COMPONENT,
            "account_id",
            account_id,
            "required for the access-log bucket (log delivery is scoped to it)",
        )
    if lock is not None and (
        lock.get("mode") not in tuple(ObjectLockMode)
        or not OBJECT_LOCK_MIN_DAYS <= int(lock.get("days") or 0) <= OBJECT_LOCK_MAX_DAYS
    ):
        raise ComponentArgsError(
            _COMPONENT, "object_lock", lock, "mode COMPLIANCE|GOVERNANCE, 1–36500 days"
        )
    if lock is not None and args.get("force_destroy"):
        raise ComponentArgsError(
            _COMPONENT, "force_destroy", True, "cannot force-destroy a WORM bucket"
        )
    noncurrent = args.get(
        "noncurrent_version_expiration_days", DEFAULT_NONCURRENT_VERSION_EXPIRATION_DAYS
    )
    if noncurrent < 1:
        raise ComponentArgsError(
            _COMPONENT, "noncurrent_version_expiration_days", noncurrent, "must be ≥ 1"
        )
    for w in args.get("service_writers") or []:
        if not str(w.get("service") or "").endswith(".amazonaws.com") or not w.get(
            "source_account"
        ):
            raise ComponentArgsError(
                _COMPONENT,
                "service_writers",
                w,
                "a service principal and its aws:SourceAccount are required",
            )
    return lock
