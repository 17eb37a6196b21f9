"""Encryption with customer-managed keys (E1-E10)."""

from __future__ import annotations

from .base import Finding, Res, cannot_verify, get, has, is_unknown, rule, string_list
from .checks import expect, known_value, required
from .iam import public_findings
from .iam_documents import action_matches
from .monitoring import ENDPOINT_CONFIG
from .policy_eval import DocumentError, Stmt, always_true, service_all, statements
from .stack_index import SSE, SSE_V2, StackIndex

KEY = "aws:kms/key:Key"
#: every KMS key type: all carry `policy` and `deletionWindowInDays` (pulumi_aws kms/key.py,
#: external_key.py, replica_key.py, replica_external_key.py); only `Key` takes
#: `enableKeyRotation` (a replica's rotation is the primary's shared property; keys with
#: imported material have no automatic rotation).
KEY_TYPES = (
    KEY,
    "aws:kms/externalKey:ExternalKey",
    "aws:kms/replicaKey:ReplicaKey",
    "aws:kms/replicaExternalKey:ReplicaExternalKey",
)


@rule(
    name="sagemaker-endpoint-config-cmk",
    severity="high",
    controls=("E1",),
    types=(ENDPOINT_CONFIG,),
    remediation="Set `kms_key_arn` on the endpoint configuration to a customer-managed key.",
)
def endpoint_config_cmk(r: Res, cfg: dict):
    """SageMaker endpoint configurations encrypt the ML storage volume with a customer-managed key."""
    yield from required(r.props, "kmsKeyArn", "endpoint storage is encrypted with an AWS-owned key")


@rule(
    name="sagemaker-instance-type-allowed",
    severity="medium",
    controls=("E1", "M5"),
    types=(ENDPOINT_CONFIG,),
    config_schema={
        "allowedInstanceTypes": string_list(
            "Instance types (wildcards allowed) endpoints may use.",
            ["ml.*"],
        ),
        "nvmeInstancePatterns": string_list(
            "Instance types with local NVMe storage, which reject a KMS key on the endpoint config.",
            [
                "ml.g4dn.*",
                "ml.g5.*",
                "ml.g6.*",
                "ml.p3dn.*",
                "ml.p4d.*",
                "ml.p5.*",
                "ml.*d.*",
                "ml.*dn.*",
                "ml.trn1.*",
            ],
        ),
    },
    remediation="Pick an allowed instance type; with a CMK on the endpoint config, pick one without local "
    "NVMe storage (NVMe volumes are hardware-encrypted and the API rejects KmsKeyId).",
)
def instance_type_allowed(r: Res, cfg: dict):
    """Endpoint variants use allowed instance types, and none with NVMe storage when a CMK is set."""
    variants = yield from known_value(r.props, "productionVariants")
    kms = has(r.props, "kmsKeyArn")
    for i, v in enumerate(variants or []):
        it = get(v, "instanceType")
        if it is None:
            continue  # serverless variant
        if is_unknown(it):
            yield cannot_verify(f"productionVariants[{i}].instanceType")
            continue
        if not any(action_matches(p, it) for p in cfg["allowedInstanceTypes"]):
            yield f"productionVariants[{i}].instanceType {it} is not in {cfg['allowedInstanceTypes']}"
        if kms and any(action_matches(p, it) for p in cfg["nvmeInstancePatterns"]):
            yield f"productionVariants[{i}].instanceType {it} has NVMe storage: the KMS key would be rejected"


@rule(
    name="sagemaker-monitoring-job-encrypted",
    severity="high",
    controls=("E2",),
    types=("aws:sagemaker/dataQualityJobDefinition:DataQualityJobDefinition",),
    remediation="Set data_quality_job_output_config.kms_key_id, job_resources.cluster_config.volume_kms_key_id "
    "and network_config.enable_inter_container_traffic_encryption=True.",
)
def monitoring_job_encrypted(r: Res, cfg: dict):
    """Model Monitor jobs encrypt outputs, volumes and inter-container traffic."""
    yield from required(
        r.props, "dataQualityJobOutputConfig.kmsKeyId", "monitoring output is not CMK-encrypted"
    )
    yield from required(
        r.props, "jobResources.clusterConfig.volumeKmsKeyId", "job volume is not CMK-encrypted"
    )
    traffic = "networkConfig.enableInterContainerTrafficEncryption"
    yield from expect(r.props, traffic, True, f"{traffic} is not true")


KMS_ALGORITHMS = ("aws:kms", "aws:kms:dsse")


def _sse_rule_problems(rules_, label: str):
    if is_unknown(rules_):
        yield cannot_verify(label)
        return
    if not rules_:
        yield f"{label} is empty"
        return
    for i, rl in enumerate(rules_):
        algo = get(rl, "applyServerSideEncryptionByDefault.sseAlgorithm")
        if is_unknown(algo):
            yield cannot_verify(f"{label}[{i}].applyServerSideEncryptionByDefault.sseAlgorithm")
        elif algo not in KMS_ALGORITHMS:
            yield f"{label}[{i}] uses {algo or 'no algorithm'}, not SSE-KMS"
        elif not has(rl, "applyServerSideEncryptionByDefault.kmsMasterKeyId") or _aws_managed(
            get(rl, "applyServerSideEncryptionByDefault.kmsMasterKeyId")
        ):
            yield f"{label}[{i}] uses the AWS-managed aws/s3 key, not a customer-managed key"


def _aws_managed(key_ref) -> str:
    """The AWS-managed alias (`alias/aws/<service>`) a key reference names, or "".

    AWS-managed keys are only addressable by their `alias/aws/...` alias (bare or as an alias ARN).
    """
    if not isinstance(key_ref, str):
        return ""
    i = key_ref.lower().find("alias/aws/")
    return key_ref[i:] if i >= 0 else ""


@rule(
    name="s3-encryption-cmk",
    severity="high",
    controls=("E3",),
    types=(SSE, SSE_V2),
    remediation='Use sse_algorithm="aws:kms" with kms_master_key_id set to a customer-managed key '
    "(and bucket_key_enabled=True to cut KMS costs).",
)
def s3_encryption_cmk(r: Res, cfg: dict):
    """Bucket default encryption is SSE-KMS with a customer-managed key."""
    yield from _sse_rule_problems(get(r.props, "rules"), "rules")


@rule(
    name="s3-bucket-encryption-configured",
    kind="stack",
    severity="high",
    controls=("E3",),
    remediation="Add an aws.s3.BucketServerSideEncryptionConfiguration for the bucket (SSE-KMS, CMK).",
)
def s3_bucket_encryption_configured(stack: StackIndex, cfg: dict):
    """Every bucket has a default-encryption configuration (the separate v7 resource)."""
    for b in stack.buckets:
        if stack.settings(b, "encryption"):
            continue  # judged by s3-encryption-cmk
        inline = get(b.props, "serverSideEncryptionConfiguration.rules")
        if inline is None:  # the v6 BucketV2 list form
            inline = get(b.props, "serverSideEncryptionConfigurations.0.rules")
        if is_unknown(inline) or inline:
            for f in _sse_rule_problems(inline, "serverSideEncryptionConfiguration.rules"):
                yield (
                    Finding(f.message, b.urn, f.unknown)
                    if isinstance(f, Finding)
                    else Finding(f"bucket {b.name}: {f}", b.urn)
                )
            continue
        yield Finding(f"bucket {b.name} has no server-side encryption configuration", b.urn)


def _tls_condition(st: Stmt) -> bool:
    """The Deny's conditions hold for every plain-HTTP request: `aws:SecureTransport` false
    (Bool, or BoolIfExists — the key is always present), and nothing else that narrows."""
    tls = False
    for c in st.conditions:
        if (
            c.key == "aws:securetransport"
            and c.operator == "bool"
            and not c.qualifier
            and c.values
            and all(str(v).lower() == "false" for v in c.values)
        ):
            tls = True
        elif not always_true(c):
            return False
    return tls


def _tls_gaps(bucket: str, sts: list[Stmt]) -> list[str]:
    """What the TLS Denies leave uncovered on the bucket and its objects ([] = fully covered).

    A Deny counts if it is for everyone (Principal "*", no NotPrincipal) and its only narrowing
    condition is aws:SecureTransport=false; together such Denies must cover every S3 action in the
    catalogue on `arn:aws:s3:::<bucket>` and on its objects.
    """
    everything = service_all("s3")
    gaps = []
    for what, arn in (
        ("bucket", f"arn:aws:s3:::{bucket}"),
        ("objects", f"arn:aws:s3:::{bucket}/zq9probe/key"),
    ):
        covered: set[str] = set()
        for st in sts:
            if st.allows or st.not_principal or not st.wildcard_principal:
                continue
            if not _tls_condition(st) or not st.covers_resource(arn):
                continue
            covered |= st.action_set()
        missing = everything - covered
        if missing:
            sample = ", ".join(sorted(missing)[:3])
            gaps.append(f"{what} ({len(missing)} S3 actions not denied, e.g. {sample})")
    return gaps


@rule(
    name="s3-bucket-tls-only",
    kind="stack",
    severity="high",
    controls=("E4",),
    remediation='Attach a bucket policy with a Deny on s3:* for Principal "*" when aws:SecureTransport is false.',
)
def s3_bucket_tls_only(stack: StackIndex, cfg: dict):
    """Every bucket's policy denies requests that do not use TLS, for every S3 action on the bucket and its objects."""
    for b in stack.buckets:
        docs = [get(p.props, "policy") for p in stack.settings(b, "policy")]
        if has(b.props, "policy"):
            docs.append(get(b.props, "policy"))
        if not docs:
            yield Finding(f"bucket {b.name} has no bucket policy denying non-TLS requests", b.urn)
            continue
        name = get(b.props, "bucket")
        sts: list[Stmt] = []
        unknown = is_unknown(name) or not isinstance(name, str)
        for d in docs:
            try:
                got = statements(d)
            except DocumentError:
                continue
            if is_unknown(got):
                unknown = True
            else:
                sts.extend(s for s in got if not s.unknown)
                unknown = unknown or any(s.unknown for s in got)
        if unknown:
            yield cannot_verify("policy", b.urn, f"bucket {b.name}")
            continue
        if not any(_tls_condition(s) and not s.allows for s in sts):
            yield Finding(
                f"bucket {b.name}: no policy statement denies aws:SecureTransport=false", b.urn
            )
            continue
        gaps = _tls_gaps(name, sts)
        if gaps:
            yield Finding(
                f"bucket {b.name}: the TLS-only Deny does not cover {'; '.join(gaps)}", b.urn
            )


def _simple_cmk(name: str, typ: str, path: str, what: str, control: str, aws_managed: str = ""):
    @rule(
        name=name,
        severity="high",
        controls=(control,),
        types=(typ,),
        description=f"{what} are encrypted with a customer-managed KMS key.",
        remediation=f"Set `{path}` to the ARN of a customer-managed KMS key.",
    )
    def check(r: Res, cfg: dict):
        value = get(r.props, path)
        if not has(r.props, path):
            yield f"{path} is not set: {what.lower()} use an AWS-owned key"
        elif alias := _aws_managed(value):
            yield f"{path} is the AWS-managed key {alias}, not a customer-managed key"

    return check


log_group_encrypted = _simple_cmk(
    "cloudwatch-log-group-cmk",
    "aws:cloudwatch/logGroup:LogGroup",
    "kmsKeyId",
    "Log groups",
    "E5",
)
sns_topic_encrypted = _simple_cmk(
    "sns-topic-cmk",
    "aws:sns/topic:Topic",
    "kmsMasterKeyId",
    "SNS topics",
    "E6",
    aws_managed="alias/aws/sns",
)
trail_encrypted = _simple_cmk(
    "cloudtrail-cmk", "aws:cloudtrail/trail:Trail", "kmsKeyId", "Trails", "E7"
)
guardrail_encrypted = _simple_cmk(
    "bedrock-guardrail-cmk",
    "aws:bedrock/guardrail:Guardrail",
    "kmsKeyArn",
    "Bedrock guardrails",
    "E10",
)
custom_model_encrypted = _simple_cmk(
    "bedrock-custom-model-cmk",
    "aws:bedrock/customModel:CustomModel",
    "customModelKmsKeyId",
    "Bedrock custom models",
    "E10",
)


@rule(
    name="kms-key-rotation",
    severity="medium",
    controls=("E8",),
    types=(KEY,),
    dev_advisory=True,
    remediation="Set enable_key_rotation=True (symmetric keys).",
)
def kms_key_rotation(r: Res, cfg: dict):
    """Symmetric customer-managed keys rotate automatically."""
    spec = get(r.props, "customerMasterKeySpec")
    if isinstance(spec, str) and spec != "SYMMETRIC_DEFAULT":
        return  # AWS supports rotation for symmetric keys only
    usage = get(r.props, "keyUsage")
    if isinstance(usage, str) and usage != "ENCRYPT_DECRYPT":
        return  # HMAC / signing keys: no automatic rotation (AWS KMS "Rotate AWS KMS keys")
    if has(r.props, "customKeyStoreId") or has(r.props, "xksKeyId"):
        return  # keys in custom key stores cannot rotate automatically (same page)
    yield from expect(r.props, "enableKeyRotation", True, "enableKeyRotation is not true")


@rule(
    name="kms-key-policy-and-deletion-window",
    severity="high",
    controls=("E9",),
    types=KEY_TYPES,
    config_schema={
        "minDeletionWindowDays": {
            "type": "integer",
            "minimum": 7,
            "maximum": 30,
            "description": "Minimum pending-deletion window in days.",
            "default": 30,
        }
    },
    remediation='Give the key an explicit key policy (no Principal "*" without conditions) and '
    "deletion_window_in_days at least the configured minimum.",
)
def kms_key_policy(r: Res, cfg: dict):
    """Keys carry an explicit policy with no unconditioned `*` principal and a long enough deletion window."""
    if not has(r.props, "policy"):
        yield "policy is not set: the default key policy grants the whole account"
    else:
        try:
            sts = statements(get(r.props, "policy"))
        except DocumentError as e:
            yield f"policy: {e}"
            sts = []
        if is_unknown(sts):
            yield cannot_verify("policy")
        else:
            for f in public_findings("policy", sts):
                if isinstance(f, str):
                    f = f.replace(": allows Principal", ": Principal")
                yield f
    least = cfg["minDeletionWindowDays"]
    yield from expect(
        r.props,
        "deletionWindowInDays",
        lambda window: window is None or not window < least,
        lambda window: f"deletionWindowInDays is {window}, minimum {least}",
    )


RULES = [
    endpoint_config_cmk,
    instance_type_allowed,
    monitoring_job_encrypted,
    s3_encryption_cmk,
    s3_bucket_encryption_configured,
    s3_bucket_tls_only,
    log_group_encrypted,
    sns_topic_encrypted,
    trail_encrypted,
    kms_key_rotation,
    kms_key_policy,
    guardrail_encrypted,
    custom_model_encrypted,
]
