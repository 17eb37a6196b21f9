"""Logging and audit trail (L1-L11)."""

from __future__ import annotations

from typing import Any

from .base import Finding, Res, cannot_verify, get, has, is_unknown, rule
from .checks import expect, known_value, required
from .monitoring import BEDROCK_NAMESPACE, ENDPOINT_CONFIG, alarm_required, watching
from .stack_index import BUCKET_SETTINGS, BUCKET_TYPES, PAB_FLAGS, StackIndex, s3_uri_bucket

TRAIL = "aws:cloudtrail/trail:Trail"
BEDROCK_LOGGING = "aws:bedrockmodel/invocationLoggingConfiguration:InvocationLoggingConfiguration"
MODEL = "aws:sagemaker/model:Model"


#: the only sources CloudTrail lets a trail exclude from management events (AWS CloudTrail API
#: reference, EventSelector.ExcludeManagementEventSources; AdvancedFieldSelector eventSource).
#: Excluding KMS drops management *write* events such as ScheduleKeyDeletion and DisableKey.
_EXCLUDABLE_SOURCES = ("kms.amazonaws.com", "rdsdata.amazonaws.com")


def _vals(fs: Any, key: str) -> list:
    v = get(fs, key)
    return v if isinstance(v, list) else ([] if v is None else [v])


def _logs_management_events(trail: Res) -> bool | None:
    """True if the trail records management events including write events (every source).

    Semantics (AWS CloudTrail User Guide, "Logging management events"; pulumi-aws `cloudtrail.Trail`):
    `enableLogging` false stops the trail; no selectors at all means every management event;
    a basic selector records management events unless `includeManagementEvents` is false, and
    only reads when `readWriteType` is ReadOnly; an advanced selector records management events
    when `eventCategory` equals Management, and only reads when `readOnly` equals "true" (or
    does not equal "false"); excluded event sources (KMS) drop write events too.
    """
    if get(trail.props, "enableLogging") is False:
        return False
    basic = get(trail.props, "eventSelectors")
    advanced = get(trail.props, "advancedEventSelectors")
    if is_unknown(basic) or is_unknown(advanced):
        return None
    if not basic and not advanced:
        return True  # CloudTrail's default: all management events
    for sel in basic or []:
        if get(sel, "includeManagementEvents") is False:
            continue
        rw = get(sel, "readWriteType")
        if isinstance(rw, str) and rw.lower() == "readonly":
            continue
        if _vals(sel, "excludeManagementEventSources"):
            continue
        return True
    for sel in advanced or []:
        fields = {}
        for fs in get(sel, "fieldSelectors") or []:
            fields.setdefault(get(fs, "field"), []).append(fs)
        if not any("Management" in _vals(fs, "equals") for fs in fields.get("eventCategory", [])):
            continue
        ro = fields.get("readOnly", [])
        if any(
            "true" in [str(v).lower() for v in _vals(fs, "equals")]
            or "false" in [str(v).lower() for v in _vals(fs, "notEquals")]
            for fs in ro
        ):
            continue
        if any(
            _vals(fs, k) for fs in fields.get("eventSource", []) for k in ("notEquals", "equals")
        ):
            continue  # some sources excluded (or only some included)
        return True
    return False


@rule(
    name="cloudtrail-enabled",
    kind="stack",
    severity="critical",
    controls=("L1",),
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


@rule(
    name="cloudtrail-multi-region",
    kind="stack",
    severity="high",
    controls=("L1",),
    remediation="Set is_multi_region_trail=True (and keep enable_logging on) on the trail that records "
    "management events.",
)
def cloudtrail_multi_region(stack: StackIndex, cfg: dict):
    """A trail that records management write events is multi-Region (pulumi-aws default: single-Region)."""
    trails = stack.of_type(TRAIL)
    recording = [t for t in trails if _logs_management_events(t) is not False]
    flags = [get(t.props, "isMultiRegionTrail") for t in recording]
    if True in flags or not recording:
        return  # no trail at all: cloudtrail-enabled reports it
    for t, f in zip(recording, flags, strict=False):
        if is_unknown(f):
            yield cannot_verify("isMultiRegionTrail", t.urn)
        else:
            yield Finding(
                "isMultiRegionTrail is not true: API activity in other regions is not recorded",
                t.urn,
            )


@rule(
    name="cloudtrail-log-file-validation",
    severity="high",
    controls=("L2",),
    types=(TRAIL,),
    dev_advisory=True,
    remediation="Set enable_log_file_validation=True.",
)
def trail_validation(r: Res, cfg: dict):
    """Trails validate log files (digest files prove logs were not altered)."""
    yield from expect(
        r.props,
        "enableLogFileValidation",
        True,
        "enableLogFileValidation is not true: tampering with log files cannot be detected",
    )


@rule(
    name="cloudtrail-cloudwatch-delivery",
    severity="medium",
    controls=("L3",),
    types=(TRAIL,),
    dev_advisory=True,
    remediation="Set `cloud_watch_logs_group_arn` (the log group ARN followed by `:*`) and `cloud_watch_logs_role_arn`.",
)
def trail_cloudwatch(r: Res, cfg: dict):
    """Trails deliver to CloudWatch Logs, so alarms can watch API activity."""
    for path in ("cloudWatchLogsGroupArn", "cloudWatchLogsRoleArn"):
        yield from required(r.props, path, "events do not reach CloudWatch Logs")


def _aws_managed_key(key: Any) -> bool:
    """An AWS-managed key alias (`alias/aws/...`, by name or ARN) is not a customer-managed key."""
    return isinstance(key, str) and ("alias/aws/" in key)


def model_data_buckets(stack: StackIndex) -> tuple[dict[str, str], list[Finding]]:
    """(bucket name -> why it needs data events, cannot-verify findings) for model artifacts and capture.

    A URI unknown during preview is resolved through the property's dependency on a bucket of the
    stack; if that bucket's name is unknown too, the rule says it cannot verify.
    """
    out: dict[str, str] = {}
    unknown: list[Finding] = []

    def add(r: Res, prop: str, uri: Any, why: str) -> None:
        name = s3_uri_bucket(uri)
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


_ALL_S3 = ("arn:aws:s3", "arn:aws:s3:::", "arn:aws-us-gov:s3", "arn:aws-cn:s3")


def _object_prefix(bucket: str) -> str:
    return f"arn:aws:s3:::{bucket}/"


class DataEventCoverage:
    """Which S3 object data events a trail records, per read and write.

    Basic selectors (`eventSelectors.dataResources` of type AWS::S3::Object): each value is an ARN
    prefix; `arn:aws:s3:::bucket/` is the whole bucket, `arn:aws:s3:::bucket/prefix/` only part of it,
    `arn:aws:s3` every bucket; `readWriteType` ReadOnly/WriteOnly records half (AWS CloudTrail
    EventSelector). Advanced selectors: `eventCategory` Data, `resources.type` AWS::S3::Object,
    `resources.ARN` StartsWith (string prefix) or Equals (one exact object ARN), NotStartsWith /
    NotEquals exclusions, `readOnly` and `eventName` narrowing (AdvancedFieldSelector). A bucket is
    covered when both reads and writes of every object in it are recorded.
    """

    def __init__(self) -> None:
        #: (prefixes, exclusions) per kind "read"/"write"; prefix "" = every bucket
        self.rules: list[tuple[set[str], list[str], list[str]]] = []
        self.unknown = False

    def add(self, kinds: set[str], prefixes: list[str], excluded: list[str]) -> None:
        if kinds and prefixes:
            self.rules.append((kinds, prefixes, excluded))

    def covers(self, bucket: str) -> bool:
        target = _object_prefix(bucket)
        done: set[str] = set()
        for kinds, prefixes, excluded in self.rules:
            if not any(target.startswith(p) for p in prefixes):
                continue
            if any(target.startswith(x) or x.startswith(target) for x in excluded):
                continue  # part (or all) of the bucket is excluded
            done |= kinds
        return done >= {"read", "write"}


def _trail_coverage(trail: Res, cov: DataEventCoverage) -> None:
    if get(trail.props, "enableLogging") is False:
        return
    for sel in get(trail.props, "eventSelectors") or []:
        rw = str(get(sel, "readWriteType") or "All").lower()
        kinds = {"all": {"read", "write"}, "readonly": {"read"}, "writeonly": {"write"}}.get(
            rw, set()
        )
        for dr in get(sel, "dataResources") or []:
            if get(dr, "type") != "AWS::S3::Object":
                continue
            prefixes = []
            for v in get(dr, "values") or []:
                if is_unknown(v):
                    cov.unknown = True
                elif isinstance(v, str):
                    prefixes.append("" if v in _ALL_S3 else v)
            cov.add(kinds, prefixes, [])
    for sel in get(trail.props, "advancedEventSelectors") or []:
        fields: dict[Any, list] = {}
        for fs in get(sel, "fieldSelectors") or []:
            fields.setdefault(get(fs, "field"), []).append(fs)
        if not any("Data" in _vals(fs, "equals") for fs in fields.get("eventCategory", [])):
            continue
        if not any(
            "AWS::S3::Object" in _vals(fs, "equals") for fs in fields.get("resources.type", [])
        ):
            continue
        if (
            fields.get("eventName")
            or fields.get("eventSource")
            or fields.get("resources.type", [])[1:]
        ):
            continue  # narrowed to some operations: not every access is recorded
        kinds = {"read", "write"}
        for fs in fields.get("readOnly", []):
            eq = [str(v).lower() for v in _vals(fs, "equals")]
            ne = [str(v).lower() for v in _vals(fs, "notEquals")]
            if "true" in eq or "false" in ne:
                kinds = {"read"}
            elif "false" in eq or "true" in ne:
                kinds = {"write"}
        arn_sels = fields.get("resources.ARN", [])
        values = [
            v
            for fs in arn_sels
            for k in (
                "startsWiths",
                "equals",
                "notStartsWiths",
                "notEquals",
                "endsWiths",
                "notEndsWiths",
            )
            for v in _vals(fs, k)
        ]
        if any(is_unknown(v) for v in values):
            cov.unknown = True
            continue
        starts = [v for fs in arn_sels for v in _vals(fs, "startsWiths") if isinstance(v, str)]
        # Equals names one exact object ARN; only the bucket ARN itself ("arn:aws:s3:::b/") with
        # nothing after it would match, which records no object: it never covers a bucket.
        excluded = [v for fs in arn_sels for v in _vals(fs, "notStartsWiths") if isinstance(v, str)]
        narrowed = any(_vals(fs, "endsWiths") for fs in arn_sels) or any(
            _vals(fs, "equals") for fs in arn_sels
        )
        if not arn_sels:
            cov.add(kinds, [""], [])
        elif not narrowed:
            cov.add(kinds, starts if starts else [""], excluded)


@rule(
    name="cloudtrail-model-data-events",
    kind="stack",
    severity="high",
    controls=("L4",),
    remediation="Add S3 object data-event selectors (event_selectors.data_resources or advanced selectors) "
    "for every model-artifact and data-capture bucket.",
)
def trail_data_events(stack: StackIndex, cfg: dict):
    """Trails log S3 data events for model-artifact and data-capture buckets."""
    needed, unknown = model_data_buckets(stack)
    yield from unknown
    if not needed:
        return
    cov = DataEventCoverage()
    for t in stack.of_type(TRAIL):
        if is_unknown(get(t.props, "eventSelectors")) or is_unknown(
            get(t.props, "advancedEventSelectors")
        ):
            yield cannot_verify("eventSelectors", t.urn)
            return
        _trail_coverage(t, cov)
    some_unknown = cov.unknown
    for name, why in sorted(needed.items()):
        if cov.covers(name):
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
    """Versioning Enabled (not Suspended/Disabled) through BucketVersioning(V2) or the inline block.

    A later settings resource wins over the inline block in AWS, but both are one bucket setting:
    any Suspended/Disabled resource makes the outcome depend on apply order, so it is not versioned.
    """
    statuses = [
        get(v.props, "versioningConfiguration.status") for v in stack.settings(b, "versioning")
    ]
    if statuses:
        return all(s == "Enabled" or is_unknown(s) for s in statuses)
    inline = get(b.props, "versioning")
    inline = inline[0] if isinstance(inline, list) and inline else inline
    return get(inline, "enabled") is True or is_unknown(get(inline, "enabled"))


def _pab_complete(p: Res) -> bool:
    return all(get(p.props, f) is True or is_unknown(get(p.props, f)) for f in PAB_FLAGS)


@rule(
    name="bedrock-invocation-logging",
    kind="stack",
    severity="high",
    controls=("L6",),
    config_schema={
        "bedrockLoggingOwner": {
            "type": "string",
            "description": "Stack that owns the account's Bedrock invocation logging (stack config "
            "account.bedrockLoggingOwner); empty: this stack. A stack naming another owner must not "
            "configure it, and is not required to.",
            "default": "",
        }
    },
    remediation="Add aws.bedrockmodel.InvocationLoggingConfiguration with text delivery on, sending to a "
    "KMS-encrypted log group and/or SSE-KMS bucket created in this stack.",
)
def bedrock_invocation_logging(stack: StackIndex, cfg: dict):
    """Bedrock invocation logging is on when Bedrock is used, and its sinks are encrypted.

    Invocation logging is ONE setting per account and region (`PutModelInvocationLoggingConfiguration`):
    when `bedrockLoggingOwner` names another stack, that stack's logging covers this one's calls
    and is judged there; this stack must then not configure it (it would overwrite the owner's)."""
    configs = stack.of_type(BEDROCK_LOGGING)
    owner = cfg.get("bedrockLoggingOwner") or ""
    this = stack_name(stack)
    elsewhere = bool(owner) and this is not None and owner != this
    if elsewhere:
        for c in configs:
            yield Finding(
                f"this stack ({this}) configures Bedrock invocation logging, but the account's "
                f"logging is owned by stack {owner}: one of them overwrites the other",
                c.urn,
            )
        return
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
            if lg is not None and (
                not has(lg.props, "kmsKeyId") or _aws_managed_key(get(lg.props, "kmsKeyId"))
            ):
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
    types=(ENDPOINT_CONFIG,),
    remediation="Set data_capture_config with enable_capture=True, capture_options Input and Output, "
    "initial_sampling_percentage > 0, destination_s3_uri in the capture bucket and kms_key_id.",
)
def data_capture(r: Res, cfg: dict):
    """Every endpoint captures request and response data, encrypted with a CMK."""
    unset = "dataCaptureConfig is not set: requests and responses are not recorded"
    dc = yield from known_value(r.props, "dataCaptureConfig", unset)
    if dc is None:
        return
    enabled = get(dc, "enableCapture")
    if is_unknown(enabled):
        yield cannot_verify("dataCaptureConfig.enableCapture")
    elif enabled is False:
        yield "dataCaptureConfig.enableCapture is false"
    elif enabled is not True:  # pulumi-aws: "Flag to enable data capture. Defaults to false."
        yield "dataCaptureConfig.enableCapture is not set (defaults to false): nothing is captured"
    if not has(dc, "kmsKeyId"):
        yield "dataCaptureConfig.kmsKeyId is not set: captured data is not CMK-encrypted"
    elif _aws_managed_key(get(dc, "kmsKeyId")):
        yield f"dataCaptureConfig.kmsKeyId {get(dc, 'kmsKeyId')} is an AWS-managed key, not a CMK"
    if not has(dc, "destinationS3Uri"):
        yield "dataCaptureConfig.destinationS3Uri is not set"
    modes = get(dc, "captureOptions")
    if is_unknown(modes):
        yield cannot_verify("dataCaptureConfig.captureOptions")
    else:
        found: set[str] = set()
        for m in modes or []:
            mode = get(m, "captureMode")
            if is_unknown(mode):
                found |= {"Input", "Output"}  # reported as unknown below if nothing else is missing
            elif isinstance(mode, str):
                # CaptureMode: Input | Output | InputAndOutput (SageMaker API CaptureOption)
                found |= {"Input", "Output"} if mode == "InputAndOutput" else {mode}
        missing = sorted({"Input", "Output"} - found)
        if missing:
            yield f"dataCaptureConfig.captureOptions does not capture {', '.join(missing)}"
    pct = get(dc, "initialSamplingPercentage")
    if is_unknown(pct):
        yield cannot_verify("dataCaptureConfig.initialSamplingPercentage")
    elif pct is None:
        yield "dataCaptureConfig.initialSamplingPercentage is not set"
    elif not isinstance(pct, (int, float)) or pct != pct or pct <= 0:
        yield "dataCaptureConfig.initialSamplingPercentage is 0"


@rule(
    name="s3-bucket-access-logging",
    kind="stack",
    severity="medium",
    controls=("L8",),
    dev_advisory=True,
    remediation="Add an aws.s3.BucketLogging for the bucket, targeting the stack's access-log bucket.",
)
def bucket_access_logging(stack: StackIndex, cfg: dict):
    """Every bucket has server access logging, except the access-log bucket itself."""
    targets: set[str] = set()
    for lg in stack.of_type(*BUCKET_SETTINGS["logging"]):
        t = get(lg.props, "targetBucket")
        if isinstance(t, str):
            tb = stack.bucket_by_name(t)
            targets.add(tb.urn if tb else t)
    for b in stack.buckets:
        if (
            any(has(lg.props, "targetBucket") for lg in stack.settings(b, "logging"))
            or has(b.props, "logging.targetBucket")
            or has(b.props, "loggings.0.targetBucket")
            or b.urn in targets
        ):
            continue
        yield Finding(f"bucket {b.name} has no access logging", b.urn)


@rule(
    name="s3-bucket-versioning-lifecycle",
    kind="stack",
    severity="medium",
    controls=("L9",),
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
    """Log groups keep logs for at least the configured minimum.

    `retentionInDays` 0 — and unset, which the provider and CloudWatch treat the same — means
    "never expire" (pulumi-aws `cloudwatch.LogGroup.retention_in_days`: "If you select 0, the events
    in the log group are always retained and never expire"): compliant. The DELIVERY log class
    forces a retention of 2 days whatever `retentionInDays` says.
    """
    days = get(r.props, "retentionInDays")
    cls = get(r.props, "logGroupClass")
    if isinstance(cls, str) and cls.upper() == "DELIVERY":
        yield f"logGroupClass DELIVERY keeps logs for 2 days, minimum {cfg['minRetentionDays']}"
    elif is_unknown(days):
        yield cannot_verify("retentionInDays")
    elif days is None or days == 0:
        return  # never expires
    elif not isinstance(days, (int, float)) or days < cfg["minRetentionDays"]:
        yield f"retentionInDays is {days}, minimum {cfg['minRetentionDays']}"


@rule(
    name="vpc-flow-logs",
    kind="stack",
    severity="medium",
    controls=("L11",),
    remediation="Add an aws.ec2.FlowLog (traffic_type ALL) for the VPC.",
)
def vpc_flow_logs(stack: StackIndex, cfg: dict):
    """Every VPC has flow logs."""
    covered: set[str] = set()
    partial: dict[str, str] = {}
    unknown: set[str] = set()
    for fl in stack.of_type("aws:ec2/flowLog:FlowLog"):
        keys = set(fl.property_dependencies.get("vpcId", ()))
        vid = get(fl.props, "vpcId")
        if isinstance(vid, str):
            keys.add(vid)
        traffic = get(fl.props, "trafficType")
        if is_unknown(traffic):
            unknown |= keys
        elif isinstance(traffic, str) and traffic.upper() == "ALL":
            covered |= keys
        else:  # ACCEPT or REJECT only: half of the traffic is not recorded
            for k in keys:
                partial[k] = str(traffic)
    for vpc in stack.of_type("aws:ec2/vpc:Vpc"):
        ids = {vpc.urn, get(vpc.props, "id")}
        if ids & covered:
            continue
        if ids & unknown:
            yield cannot_verify("trafficType", vpc.urn, "flow log of the VPC")
        elif hits := [partial[i] for i in ids if i in partial]:
            yield Finding(
                f"VPC {vpc.name}: flow log records only {hits[0]} traffic (trafficType must be ALL)",
                vpc.urn,
            )
        else:
            yield Finding(f"VPC {vpc.name} has no flow log", vpc.urn)


def stack_name(stack: StackIndex) -> str | None:
    """The stack being judged, from its resources' URNs (`urn:pulumi:<stack>::<project>::...`)."""
    for r in stack.by_urn.values():
        head = r.urn.split("::", 1)[0]
        if head.startswith("urn:pulumi:"):
            return head[len("urn:pulumi:") :]
    return None


#: Bedrock publishes, per delivery attempt, with no dimension (Bedrock user guide,
#: monitoring-runtime-metrics, "Model invocation logging CloudWatch metrics").
DELIVERY_FAILURE = {
    "cloudwatchConfig.logGroupName": ("CloudWatch", "ModelInvocationLogsCloudWatchDeliveryFailure"),
    "s3Config.bucketName": ("S3", "ModelInvocationLogsS3DeliveryFailure"),
}


@rule(
    name="bedrock-invocation-log-delivery-alarms",
    kind="stack",
    severity="high",
    controls=("L6",),
    remediation="Alarm (with actions) on AWS/Bedrock ModelInvocationLogsCloudWatchDeliveryFailure "
    "and ModelInvocationLogsS3DeliveryFailure (no dimensions) for each configured destination.",
)
def invocation_log_delivery_alarms(stack: StackIndex, cfg: dict):
    """Invocation logging that fails to deliver is alarmed, per configured destination."""
    for c in stack.of_type(BEDROCK_LOGGING):
        lc = yield from known_value(c.props, "loggingConfig", urn=c.urn)
        for path, (sink, metric) in DELIVERY_FAILURE.items():
            if not has(lc, path):
                continue
            yield from alarm_required(
                watching(stack, (BEDROCK_NAMESPACE,), (metric,), {}),
                f"invocation logs are delivered to {sink} but no alarm with actions watches "
                f"{BEDROCK_NAMESPACE} {metric} (no dimensions): lost audit evidence goes unnoticed",
                c.urn,
                f"{metric} alarm",
            )


@rule(
    name="cloudtrail-delivery-heartbeat",
    kind="stack",
    severity="high",
    controls=("L3",),
    remediation="Alarm (with actions) on AWS/Logs IncomingLogEvents {LogGroupName = the trail's log "
    "group} below 1 per hour with treat_missing_data = breaching: CloudTrail publishes no metric for "
    "its own delivery, so silence is the failure signal.",
)
def trail_heartbeat(stack: StackIndex, cfg: dict):
    """A trail delivering to CloudWatch Logs has a heartbeat alarm: no events = breaching."""
    for t in stack.of_type(TRAIL):
        arn = get(t.props, "cloudWatchLogsGroupArn")
        if arn is None:
            continue  # L3 (trail-cloudwatch-logs) reports a trail without CloudWatch delivery
        if is_unknown(arn) or not isinstance(arn, str) or ":log-group:" not in arn:
            yield cannot_verify("cloudWatchLogsGroupArn", t.urn)
            continue
        group = arn.split(":log-group:", 1)[1].removesuffix(":*")
        found = watching(
            stack,
            ("AWS/Logs",),
            ("IncomingLogEvents",),
            {"LogGroupName": group},
            silence="breaching",
        )
        yield from alarm_required(
            found,
            f"trail {t.name} has no heartbeat: an alarm with actions on AWS/Logs IncomingLogEvents "
            f"{{LogGroupName={group}}} treating missing data as breaching",
            t.urn,
            "heartbeat alarm",
        )


RULES = [
    cloudtrail_enabled,
    cloudtrail_multi_region,
    trail_validation,
    trail_cloudwatch,
    trail_data_events,
    audit_bucket_worm,
    bedrock_invocation_logging,
    invocation_log_delivery_alarms,
    trail_heartbeat,
    data_capture,
    bucket_access_logging,
    bucket_versioning_lifecycle,
    log_retention,
    vpc_flow_logs,
]
