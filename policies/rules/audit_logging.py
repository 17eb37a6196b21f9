"""Logging and audit trail (L1-L11)."""

from __future__ import annotations

from typing import Any

from . import frameworks as fw
from .base import Finding, Res, cannot_verify, get, has, is_unknown, rule
from .stack_index import BUCKET_TYPES, StackIndex

TRAIL = "aws:cloudtrail/trail:Trail"
LOG = (fw.HIPAA_AUDIT, fw.SOC2_MONITORING, fw.ISO_LOGGING, fw.AIACT_RECORDS)
BEDROCK_LOGGING = "aws:bedrockmodel/invocationLoggingConfiguration:InvocationLoggingConfiguration"
ENDPOINT_CONFIG = "aws:sagemaker/endpointConfiguration:EndpointConfiguration"
MODEL = "aws:sagemaker/model:Model"


def _logs_management_events(trail: Res) -> bool | None:
    if get(trail.props, "enableLogging") is False:
        return False
    basic = get(trail.props, "eventSelectors")
    advanced = get(trail.props, "advancedEventSelectors")
    if is_unknown(basic) or is_unknown(advanced):
        return None
    if not basic and not advanced:
        return True  # CloudTrail's default: all management events
    for sel in basic or []:
        if get(sel, "includeManagementEvents") is not False:
            return True
    for sel in advanced or []:
        for fs in get(sel, "fieldSelectors") or []:
            if get(fs, "field") == "eventCategory" and "Management" in (get(fs, "equals") or []):
                return True
    return False


@rule(
    name="cloudtrail-enabled",
    kind="stack",
    severity="critical",
    controls=("L1",),
    frameworks=LOG,
    remediation="Create an aws.cloudtrail.Trail (multi-Region, management events) in the stack.",
)
def cloudtrail_enabled(stack: StackIndex, cfg: dict):
    """The stack has a trail that logs management events."""
    trails = stack.of_type(TRAIL)
    verdicts = [_logs_management_events(t) for t in trails]
    if True in verdicts:
        return
    if None in verdicts:
        yield cannot_verify("eventSelectors", trails[verdicts.index(None)].urn)
    elif trails:
        for t in trails:
            yield Finding("trail logs no management events (or logging is disabled)", t.urn)
    else:
        yield Finding("no CloudTrail trail in the stack: API activity is not audited")


def _bool_true(r: Res, path: str, what: str):
    value = get(r.props, path)
    if is_unknown(value):
        yield cannot_verify(path)
    elif value is not True:
        yield f"{path} is not true: {what}"


@rule(
    name="cloudtrail-log-file-validation",
    severity="high",
    controls=("L2",),
    frameworks=(*LOG, fw.HIPAA_INTEGRITY),
    types=(TRAIL,),
    dev_advisory=True,
    remediation="Set enable_log_file_validation=True.",
)
def trail_validation(r: Res, cfg: dict):
    """Trails validate log files (digest files prove logs were not altered)."""
    yield from _bool_true(
        r, "enableLogFileValidation", "tampering with log files cannot be detected"
    )


@rule(
    name="cloudtrail-cloudwatch-delivery",
    severity="medium",
    controls=("L3",),
    frameworks=LOG,
    types=(TRAIL,),
    dev_advisory=True,
    remediation="Set `cloud_watch_logs_group_arn` (the log group ARN followed by `:*`) and `cloud_watch_logs_role_arn`.",
)
def trail_cloudwatch(r: Res, cfg: dict):
    """Trails deliver to CloudWatch Logs, so alarms can watch API activity."""
    for path in ("cloudWatchLogsGroupArn", "cloudWatchLogsRoleArn"):
        if not has(r.props, path):
            yield f"{path} is not set: events do not reach CloudWatch Logs"


def _bucket_names_from_uri(value: Any) -> str | None:
    if isinstance(value, str) and value.startswith("s3://"):
        return value[5:].split("/", 1)[0]
    return None


def model_data_buckets(stack: StackIndex) -> tuple[dict[str, str], list[Finding]]:
    """(bucket name -> why it needs data events, cannot-verify findings) for model artifacts and capture.

    A URI unknown during preview is resolved through the property's dependency on a bucket of the
    stack; if that bucket's name is unknown too, the rule says it cannot verify.
    """
    out: dict[str, str] = {}
    unknown: list[Finding] = []

    def add(r: Res, prop: str, uri: Any, why: str) -> None:
        name = _bucket_names_from_uri(uri)
        if name is None and is_unknown(uri):
            b = stack.ref(r, prop, BUCKET_TYPES)
            bname = get(b.props, "bucket") if b is not None else None
            if isinstance(bname, str):
                name = bname
            else:
                unknown.append(cannot_verify(prop, r.urn, "bucket of " + why))
        if name:
            out.setdefault(name, why)

    for m in stack.of_type(MODEL):
        containers = [("primaryContainer", get(m.props, "primaryContainer"))]
        cs = get(m.props, "containers")
        containers += [("containers", c) for c in (cs if isinstance(cs, list) else [cs])]
        for prop, c in containers:
            if is_unknown(c):
                add(m, prop, c, f"model artifacts of {m.name}")
            elif isinstance(c, dict):
                for path in ("modelDataUrl", "modelDataSource.s3DataSource.s3Uri"):
                    uri = get(c, path)
                    if uri is not None:
                        add(m, prop, uri, f"model artifacts of {m.name}")
    for ec in stack.of_type(ENDPOINT_CONFIG):
        uri = get(ec.props, "dataCaptureConfig.destinationS3Uri")
        if uri is not None:
            add(ec, "dataCaptureConfig", uri, f"data capture of {ec.name}")
    return out, unknown


def _data_event_coverage(trail: Res) -> tuple[bool, list[str], bool]:
    """(covers every bucket, ARN prefixes covered, some selector value is unknown) for S3 object data events."""
    prefixes: list[str] = []
    unknown = False
    for sel in get(trail.props, "eventSelectors") or []:
        for dr in get(sel, "dataResources") or []:
            if get(dr, "type") == "AWS::S3::Object":
                for v in get(dr, "values") or []:
                    if v in ("arn:aws:s3", "arn:aws:s3:::", "arn:aws-us-gov:s3", "arn:aws-cn:s3"):
                        return True, [], False
                    if isinstance(v, str):
                        prefixes.append(v)
                    unknown = unknown or is_unknown(v)
    for sel in get(trail.props, "advancedEventSelectors") or []:
        fields = {get(fs, "field"): fs for fs in get(sel, "fieldSelectors") or []}
        if "Data" not in (get(fields.get("eventCategory"), "equals") or []):
            continue
        if "AWS::S3::Object" not in (get(fields.get("resources.type"), "equals") or []):
            continue
        arn_sel = fields.get("resources.ARN")
        if arn_sel is None:
            return True, [], False
        for v in (get(arn_sel, "startsWiths") or []) + (get(arn_sel, "equals") or []):
            if isinstance(v, str):
                prefixes.append(v)
            unknown = unknown or is_unknown(v)
    return False, prefixes, unknown


@rule(
    name="cloudtrail-model-data-events",
    kind="stack",
    severity="high",
    controls=("L4",),
    frameworks=(*LOG, fw.HIPAA_ACCESS),
    remediation="Add S3 object data-event selectors (event_selectors.data_resources or advanced selectors) "
    "for every model-artifact and data-capture bucket.",
)
def trail_data_events(stack: StackIndex, cfg: dict):
    """Trails log S3 data events for model-artifact and data-capture buckets."""
    needed, unknown = model_data_buckets(stack)
    yield from unknown
    if not needed:
        return
    all_buckets = False
    some_unknown = False
    prefixes: list[str] = []
    for t in stack.of_type(TRAIL):
        if is_unknown(get(t.props, "eventSelectors")) or is_unknown(
            get(t.props, "advancedEventSelectors")
        ):
            yield cannot_verify("eventSelectors", t.urn)
            return
        every, pre, unknown_values = _data_event_coverage(t)
        all_buckets = all_buckets or every
        some_unknown = some_unknown or unknown_values
        prefixes.extend(pre)
    if all_buckets:
        return
    covered = {p.split(":::", 1)[1].split("/", 1)[0] for p in prefixes if ":::" in p}
    for name, why in sorted(needed.items()):
        if name in covered:
            continue
        bucket = stack.bucket_by_name(name)
        urn = bucket.urn if bucket else None
        if some_unknown:
            yield cannot_verify(
                "advancedEventSelectors/eventSelectors", urn, f"data events for bucket {name}"
            )
        else:
            yield Finding(f"no trail logs S3 data events for bucket {name} ({why})", urn)


@rule(
    name="audit-bucket-worm",
    kind="stack",
    severity="critical",
    controls=("L5",),
    frameworks=(*LOG, fw.HIPAA_INTEGRITY, fw.AIACT_LOG_RETENTION),
    config_schema={
        "allowedModes": {
            "type": "array",
            "items": {"type": "string", "enum": ["COMPLIANCE", "GOVERNANCE"]},
            "description": "Object Lock default-retention modes accepted on the audit bucket.",
            "default": ["COMPLIANCE"],
        },
        "minRetentionDays": {
            "type": "integer",
            "minimum": 1,
            "description": "Minimum default retention of the audit bucket, in days.",
            "default": 365,
        },
    },
    remediation="Create the trail's bucket with object_lock_enabled=True, a BucketObjectLockConfiguration "
    "with default retention (mode, days), BucketVersioning Enabled and a full BucketPublicAccessBlock.",
)
def audit_bucket_worm(stack: StackIndex, cfg: dict):
    """The trail's bucket is write-once (Object Lock), versioned and not public."""
    for t in stack.of_type(TRAIL):
        name = get(t.props, "s3BucketName")
        b = stack.ref(t, "s3BucketName", BUCKET_TYPES)
        if b is None and is_unknown(name):
            yield cannot_verify("s3BucketName", t.urn)
            continue
        if b is None:
            yield Finding(
                f"audit bucket {name} is not managed in this stack: WORM cannot be verified", t.urn
            )
            continue
        enabled = get(b.props, "objectLockEnabled")
        if enabled is not True and not is_unknown(enabled):
            yield Finding(f"audit bucket {b.name}: objectLockEnabled is not true", b.urn)
        locks = stack.settings(b, "object_lock")
        if not locks:
            yield Finding(
                f"audit bucket {b.name} has no Object Lock configuration (default retention)", b.urn
            )
        for lock in locks:
            mode = get(lock.props, "rule.defaultRetention.mode")
            days = get(lock.props, "rule.defaultRetention.days")
            years = get(lock.props, "rule.defaultRetention.years")
            if is_unknown(mode) or is_unknown(days) or is_unknown(years):
                yield cannot_verify("rule.defaultRetention", lock.urn)
                continue
            if mode not in cfg["allowedModes"]:
                yield Finding(
                    f"audit bucket {b.name}: retention mode {mode} not in {cfg['allowedModes']}",
                    lock.urn,
                )
            total = (days or 0) + 365 * (years or 0)
            if total < cfg["minRetentionDays"]:
                yield Finding(
                    f"audit bucket {b.name}: default retention {total} days < {cfg['minRetentionDays']}",
                    lock.urn,
                )
        if not _versioned(stack, b):
            yield Finding(f"audit bucket {b.name} is not versioned", b.urn)
        if not any(_pab_complete(p) for p in stack.settings(b, "public_access_block")):
            yield Finding(f"audit bucket {b.name} does not block all public access", b.urn)


def _versioned(stack: StackIndex, b: Res) -> bool:
    for v in stack.settings(b, "versioning"):
        status = get(v.props, "versioningConfiguration.status")
        if status == "Enabled" or is_unknown(status):
            return True
    return get(b.props, "versioning.enabled") is True


PAB_FLAGS = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")


def _pab_complete(p: Res) -> bool:
    return all(get(p.props, f) is True or is_unknown(get(p.props, f)) for f in PAB_FLAGS)


@rule(
    name="bedrock-invocation-logging",
    kind="stack",
    severity="high",
    controls=("L6",),
    frameworks=(*LOG, fw.AIACT_LOG_RETENTION),
    remediation="Add aws.bedrockmodel.InvocationLoggingConfiguration with text delivery on, sending to a "
    "KMS-encrypted log group and/or SSE-KMS bucket created in this stack.",
)
def bedrock_invocation_logging(stack: StackIndex, cfg: dict):
    """Bedrock invocation logging is on when Bedrock is used, and its sinks are encrypted."""
    configs = stack.of_type(BEDROCK_LOGGING)
    uses_bedrock = any(
        r.type.startswith(("aws:bedrock/", "aws:bedrockmodel/")) and r.type != BEDROCK_LOGGING
        for r in stack.of_prefix("aws:bedrock")
    )
    if uses_bedrock and not configs:
        yield Finding("Bedrock is used but model invocation logging is not configured")
    log_groups = {
        get(lg.props, "name"): lg for lg in stack.of_type("aws:cloudwatch/logGroup:LogGroup")
    }
    for c in configs:
        lc = get(c.props, "loggingConfig")
        if is_unknown(lc):
            yield cannot_verify("loggingConfig", c.urn)
            continue
        if not has(lc, "s3Config.bucketName") and not has(lc, "cloudwatchConfig.logGroupName"):
            yield Finding("loggingConfig has no S3 or CloudWatch destination", c.urn)
        text = get(lc, "textDataDeliveryEnabled")
        if text is False:
            yield Finding(
                "loggingConfig.textDataDeliveryEnabled is false: prompts and completions are not logged",
                c.urn,
            )
        lg_name = get(lc, "cloudwatchConfig.logGroupName")
        if isinstance(lg_name, str):
            lg = log_groups.get(lg_name)
            if lg is not None and not has(lg.props, "kmsKeyId"):
                yield Finding(f"invocation log group {lg_name} is not KMS-encrypted", c.urn)
        bucket_name = get(lc, "s3Config.bucketName")
        if isinstance(bucket_name, str):
            b = stack.bucket_by_name(bucket_name)
            if b is not None and not any(
                get(s.props, "rules.0.applyServerSideEncryptionByDefault.sseAlgorithm")
                in ("aws:kms", "aws:kms:dsse")
                for s in stack.settings(b, "encryption")
            ):
                yield Finding(
                    f"invocation log bucket {bucket_name} is not SSE-KMS encrypted", c.urn
                )


@rule(
    name="sagemaker-data-capture",
    severity="high",
    controls=("L7",),
    frameworks=(*LOG, fw.AIACT_MONITORING, fw.HIPAA_ENCRYPTION),
    types=(ENDPOINT_CONFIG,),
    remediation="Set data_capture_config with enable_capture=True, capture_options Input and Output, "
    "initial_sampling_percentage > 0, destination_s3_uri in the capture bucket and kms_key_id.",
)
def data_capture(r: Res, cfg: dict):
    """Every endpoint captures request and response data, encrypted with a CMK."""
    dc = get(r.props, "dataCaptureConfig")
    if is_unknown(dc):
        yield cannot_verify("dataCaptureConfig")
        return
    if not dc:
        yield "dataCaptureConfig is not set: requests and responses are not recorded"
        return
    if get(dc, "enableCapture") is False:
        yield "dataCaptureConfig.enableCapture is false"
    if not has(dc, "kmsKeyId"):
        yield "dataCaptureConfig.kmsKeyId is not set: captured data is not CMK-encrypted"
    if not has(dc, "destinationS3Uri"):
        yield "dataCaptureConfig.destinationS3Uri is not set"
    modes = get(dc, "captureOptions")
    if is_unknown(modes):
        yield cannot_verify("dataCaptureConfig.captureOptions")
    else:
        found = {get(m, "captureMode") for m in modes or []}
        missing = sorted({"Input", "Output"} - found)
        if missing:
            yield f"dataCaptureConfig.captureOptions does not capture {', '.join(missing)}"
    pct = get(dc, "initialSamplingPercentage")
    if is_unknown(pct):
        yield cannot_verify("dataCaptureConfig.initialSamplingPercentage")
    elif pct is not None and pct <= 0:
        yield "dataCaptureConfig.initialSamplingPercentage is 0"


@rule(
    name="s3-bucket-access-logging",
    kind="stack",
    severity="medium",
    controls=("L8",),
    frameworks=LOG,
    dev_advisory=True,
    remediation="Add an aws.s3.BucketLogging for the bucket, targeting the stack's access-log bucket.",
)
def bucket_access_logging(stack: StackIndex, cfg: dict):
    """Every bucket has server access logging, except the access-log bucket itself."""
    targets: set[str] = set()
    for lg in stack.of_type(
        "aws:s3/bucketLogging:BucketLogging", "aws:s3/bucketLoggingV2:BucketLoggingV2"
    ):
        t = get(lg.props, "targetBucket")
        if isinstance(t, str):
            tb = stack.bucket_by_name(t)
            targets.add(tb.urn if tb else t)
    for b in stack.buckets:
        if stack.settings(b, "logging") or has(b.props, "logging.targetBucket") or b.urn in targets:
            continue
        yield Finding(f"bucket {b.name} has no access logging", b.urn)


@rule(
    name="s3-bucket-versioning-lifecycle",
    kind="stack",
    severity="medium",
    controls=("L9",),
    frameworks=(*LOG, fw.ISO_BACKUP, fw.SOC2_AVAILABILITY),
    dev_advisory=True,
    remediation="Add aws.s3.BucketVersioning (status Enabled) and aws.s3.BucketLifecycleConfiguration.",
)
def bucket_versioning_lifecycle(stack: StackIndex, cfg: dict):
    """Every bucket is versioned and has a lifecycle configuration."""
    for b in stack.buckets:
        if not _versioned(stack, b):
            yield Finding(f"bucket {b.name} is not versioned", b.urn)
        if not stack.settings(b, "lifecycle") and not has(b.props, "lifecycleRules"):
            yield Finding(f"bucket {b.name} has no lifecycle configuration", b.urn)


@rule(
    name="cloudwatch-log-retention",
    severity="medium",
    controls=("L10",),
    frameworks=(*LOG, fw.AIACT_LOG_RETENTION),
    types=("aws:cloudwatch/logGroup:LogGroup",),
    config_schema={
        "minRetentionDays": {
            "type": "integer",
            "minimum": 1,
            "description": "Minimum retention of every log group, in days.",
            "default": 365,
        }
    },
    remediation="Set retention_in_days to at least the configured minimum (a valid CloudWatch value).",
)
def log_retention(r: Res, cfg: dict):
    """Log groups keep logs for at least the configured minimum (and say so explicitly)."""
    days = get(r.props, "retentionInDays")
    if is_unknown(days):
        yield cannot_verify("retentionInDays")
    elif days is None or days == 0:
        yield f"retentionInDays is not set: set an explicit retention of at least {cfg['minRetentionDays']} days"
    elif days < cfg["minRetentionDays"]:
        yield f"retentionInDays is {days}, minimum {cfg['minRetentionDays']}"


@rule(
    name="vpc-flow-logs",
    kind="stack",
    severity="medium",
    controls=("L11",),
    frameworks=(*LOG, fw.ISO_NETWORK),
    remediation="Add an aws.ec2.FlowLog (traffic_type ALL) for the VPC.",
)
def vpc_flow_logs(stack: StackIndex, cfg: dict):
    """Every VPC has flow logs."""
    covered: set[str] = set()
    for fl in stack.of_type("aws:ec2/flowLog:FlowLog"):
        vid = get(fl.props, "vpcId")
        if isinstance(vid, str):
            covered.add(vid)
        covered.update(fl.property_dependencies.get("vpcId", ()))
    for vpc in stack.of_type("aws:ec2/vpc:Vpc"):
        if vpc.urn in covered or get(vpc.props, "id") in covered:
            continue
        yield Finding(f"VPC {vpc.name} has no flow log", vpc.urn)


RULES = [
    cloudtrail_enabled,
    trail_validation,
    trail_cloudwatch,
    trail_data_events,
    audit_bucket_worm,
    bedrock_invocation_logging,
    data_capture,
    bucket_access_logging,
    bucket_versioning_lifecycle,
    log_retention,
    vpc_flow_logs,
]
