"""Encryption with customer-managed keys (E1-E10)."""

from __future__ import annotations

from . import frameworks as fw
from .base import Finding, Res, cannot_verify, get, has, is_unknown, rule
from .iam_documents import DocumentError, action_matches, statements
from .stack_index import SSE, SSE_V2, StackIndex

ENC = (fw.HIPAA_ENCRYPTION, fw.GDPR_SECURITY, fw.SOC2_CONFIDENTIALITY, fw.ISO_CRYPTO)
ENDPOINT_CONFIG = "aws:sagemaker/endpointConfiguration:EndpointConfiguration"
KEY = "aws:kms/key:Key"


def _require(r: Res, path: str, what: str):
    if not has(r.props, path):
        yield f"{path} is not set: {what}"


@rule(
    name="sagemaker-endpoint-config-cmk",
    severity="high",
    controls=("E1",),
    frameworks=ENC,
    types=(ENDPOINT_CONFIG,),
    remediation="Set `kms_key_arn` on the endpoint configuration to a customer-managed key.",
)
def endpoint_config_cmk(r: Res, cfg: dict):
    """SageMaker endpoint configurations encrypt the ML storage volume with a customer-managed key."""
    yield from _require(r, "kmsKeyArn", "endpoint storage is encrypted with an AWS-owned key")


@rule(
    name="sagemaker-instance-type-allowed",
    severity="medium",
    controls=("E1", "M5"),
    frameworks=(*ENC, fw.ISO_CONFIG),
    types=(ENDPOINT_CONFIG,),
    config_schema={
        "allowedInstanceTypes": {
            "type": "array",
            "items": {"type": "string"},
            "description": "Instance types (wildcards allowed) endpoints may use.",
            "default": ["ml.*"],
        },
        "nvmeInstancePatterns": {
            "type": "array",
            "items": {"type": "string"},
            "description": "Instance types with local NVMe storage, which reject a KMS key on the endpoint config.",
            "default": [
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
        },
    },
    remediation="Pick an allowed instance type; with a CMK on the endpoint config, pick one without local "
    "NVMe storage (NVMe volumes are hardware-encrypted and the API rejects KmsKeyId).",
)
def instance_type_allowed(r: Res, cfg: dict):
    """Endpoint variants use allowed instance types, and none with NVMe storage when a CMK is set."""
    variants = get(r.props, "productionVariants")
    if is_unknown(variants):
        yield cannot_verify("productionVariants")
        return
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
    frameworks=(*ENC, fw.HIPAA_TRANSMISSION),
    types=("aws:sagemaker/dataQualityJobDefinition:DataQualityJobDefinition",),
    remediation="Set data_quality_job_output_config.kms_key_id, job_resources.cluster_config.volume_kms_key_id "
    "and network_config.enable_inter_container_traffic_encryption=True.",
)
def monitoring_job_encrypted(r: Res, cfg: dict):
    """Model Monitor jobs encrypt outputs, volumes and inter-container traffic."""
    yield from _require(
        r, "dataQualityJobOutputConfig.kmsKeyId", "monitoring output is not CMK-encrypted"
    )
    yield from _require(
        r, "jobResources.clusterConfig.volumeKmsKeyId", "job volume is not CMK-encrypted"
    )
    flag = get(r.props, "networkConfig.enableInterContainerTrafficEncryption")
    if is_unknown(flag):
        yield cannot_verify("networkConfig.enableInterContainerTrafficEncryption")
    elif flag is not True:
        yield "networkConfig.enableInterContainerTrafficEncryption is not true"


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
        elif not has(rl, "applyServerSideEncryptionByDefault.kmsMasterKeyId"):
            yield f"{label}[{i}] uses the AWS-managed aws/s3 key, not a customer-managed key"


@rule(
    name="s3-encryption-cmk",
    severity="high",
    controls=("E3",),
    frameworks=ENC,
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
    frameworks=ENC,
    remediation="Add an aws.s3.BucketServerSideEncryptionConfiguration for the bucket (SSE-KMS, CMK).",
)
def s3_bucket_encryption_configured(stack: StackIndex, cfg: dict):
    """Every bucket has a default-encryption configuration (the separate v7 resource)."""
    for b in stack.buckets:
        if stack.settings(b, "encryption"):
            continue  # judged by s3-encryption-cmk
        inline = get(b.props, "serverSideEncryptionConfiguration.rules")
        if is_unknown(inline) or inline:
            for f in _sse_rule_problems(inline, "serverSideEncryptionConfiguration.rules"):
                yield (
                    Finding(f.message, b.urn, f.unknown)
                    if isinstance(f, Finding)
                    else Finding(f"bucket {b.name}: {f}", b.urn)
                )
            continue
        yield Finding(f"bucket {b.name} has no server-side encryption configuration", b.urn)


def _tls_deny(doc) -> bool | None:
    try:
        sts = statements(doc)
    except DocumentError:
        return False
    if is_unknown(sts):
        return None
    for st in sts:
        if st.effect != "Deny":
            continue
        for op, block in st.conditions.items():
            if not isinstance(block, dict) or not op.lower().startswith("bool"):
                continue
            for k, v in block.items():
                values = v if isinstance(v, list) else [v]
                if k.lower() == "aws:securetransport" and any(
                    str(x).lower() == "false" for x in values
                ):
                    return True
    return False


@rule(
    name="s3-bucket-tls-only",
    kind="stack",
    severity="high",
    controls=("E4",),
    frameworks=(fw.HIPAA_TRANSMISSION, fw.SOC2_TRANSMISSION, fw.ISO_CRYPTO, fw.GDPR_SECURITY),
    remediation='Attach a bucket policy with a Deny on s3:* for Principal "*" when aws:SecureTransport is false.',
)
def s3_bucket_tls_only(stack: StackIndex, cfg: dict):
    """Every bucket's policy denies requests that do not use TLS."""
    for b in stack.buckets:
        docs = [get(p.props, "policy") for p in stack.settings(b, "policy")]
        if has(b.props, "policy"):
            docs.append(get(b.props, "policy"))
        if not docs:
            yield Finding(f"bucket {b.name} has no bucket policy denying non-TLS requests", b.urn)
            continue
        results = [_tls_deny(d) for d in docs]
        if True in results:
            continue
        if None in results:
            yield cannot_verify("policy", b.urn, f"bucket {b.name}")
        else:
            yield Finding(
                f"bucket {b.name}: no policy statement denies aws:SecureTransport=false", b.urn
            )


def _simple_cmk(
    name: str, typ: str, path: str, what: str, control: str, extra=(), aws_managed: str = ""
):
    @rule(
        name=name,
        severity="high",
        controls=(control,),
        frameworks=(*ENC, *extra),
        types=(typ,),
        description=f"{what} are encrypted with a customer-managed KMS key.",
        remediation=f"Set `{path}` to the ARN of a customer-managed KMS key.",
    )
    def check(r: Res, cfg: dict):
        value = get(r.props, path)
        if not has(r.props, path):
            yield f"{path} is not set: {what.lower()} use an AWS-owned key"
        elif aws_managed and isinstance(value, str) and value.endswith(aws_managed):
            yield f"{path} is the AWS-managed key {aws_managed}, not a customer-managed key"

    return check


log_group_encrypted = _simple_cmk(
    "cloudwatch-log-group-cmk",
    "aws:cloudwatch/logGroup:LogGroup",
    "kmsKeyId",
    "Log groups",
    "E5",
    (fw.AIACT_RECORDS,),
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
    "cloudtrail-cmk", "aws:cloudtrail/trail:Trail", "kmsKeyId", "Trails", "E7", (fw.HIPAA_AUDIT,)
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
    frameworks=ENC,
    types=(KEY,),
    dev_advisory=True,
    remediation="Set enable_key_rotation=True (symmetric keys).",
)
def kms_key_rotation(r: Res, cfg: dict):
    """Symmetric customer-managed keys rotate automatically."""
    spec = get(r.props, "customerMasterKeySpec")
    if isinstance(spec, str) and spec != "SYMMETRIC_DEFAULT":
        return  # AWS supports rotation for symmetric keys only
    flag = get(r.props, "enableKeyRotation")
    if is_unknown(flag):
        yield cannot_verify("enableKeyRotation")
    elif flag is not True:
        yield "enableKeyRotation is not true"


@rule(
    name="kms-key-policy-and-deletion-window",
    severity="high",
    controls=("E9",),
    frameworks=ENC,
    types=(KEY,),
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
            for st in sts:
                if st.allows and st.public_principal and not st.has_conditions:
                    yield f'policy statement {st.sid}: Principal "*" without a condition'
    window = get(r.props, "deletionWindowInDays")
    if is_unknown(window):
        yield cannot_verify("deletionWindowInDays")
    elif window is not None and window < cfg["minDeletionWindowDays"]:
        yield f"deletionWindowInDays is {window}, minimum {cfg['minDeletionWindowDays']}"


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
