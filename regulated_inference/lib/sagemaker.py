"""SageMaker facts that shape what we may declare. Pure data and checks, no resources.

Every limit here comes from AWS's own documentation or API model, cited next
to it, so a reviewer can check the rule against its source. Both the stack
config (pydantic) and the components (`ComponentArgsError`) call the
`check_*` functions below, so a rule is written once.
"""

import hashlib
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Literal, NotRequired, TypedDict

import pulumi

from regulated_inference.lib import aws as aws_facts

# -- instance types --------------------------------------------------------------

#: Families whose ML instances carry local NVMe instance-store volumes.
#:
#: AWS CreateEndpointConfig, `KmsKeyId`: "Certain Nitro-based instances include
#: local storage ... Local storage volumes are encrypted using a hardware module
#: on the instance. You can't request a KmsKeyId when using an instance type with
#: local storage ... the call to CreateEndpointConfig fails." The same rule holds
#: for `VolumeKmsKeyId` of processing (Model Monitor) jobs. EC2 "SSD instance
#: store volumes": NVMe instance storage is encrypted with XTS-AES-256 in a
#: hardware module, keys destroyed when the instance stops.
#: Families from the EC2 instance-store specifications, restricted to the
#: families SageMaker offers for hosting (`ProductionVariantInstanceType`).
NVME_INSTANCE_FAMILIES: frozenset[str] = frozenset(
    {
        # general purpose / compute / memory with a "d" (disk) suffix
        "m5d",
        "c5d",
        "r5d",
        "m6gd",
        "c6gd",
        "r6gd",
        "r7gd",
        # GPU families, all with local NVMe
        "g4dn",
        "g5",
        "g6",
        "g6e",
        "g7e",
        "p3dn",
        "p4d",
        "p4de",
        "p5",
        "p5e",
        "p5en",
        "p6-b200",
        "p6-b300",
        "p6e-gb200",
        # Trainium / Gaudi
        "trn1",
        "trn1n",
        "trn2",
        "dl1",
    }
)

#: Families with NVIDIA GPUs: the endpoint publishes GPUUtilization / GPUMemoryUtilization.
GPU_INSTANCE_FAMILIES: frozenset[str] = frozenset(
    {"g4dn", "g5", "g6", "g6e", "g7e", "p2", "p3", "p3dn", "p4d", "p4de", "p5", "p5e", "p5en"}
    | {"p6-b200", "p6-b300", "p6e-gb200"}
)

#: Inf1 endpoints cannot use deployment guardrails: SageMaker silently falls back
#: to all-at-once blue/green with no baking period ("Deployment guardrails —
#: Exclusions"), so canary/linear/rolling would be a promise AWS does not keep.
NO_GUARDRAIL_FAMILIES: frozenset[str] = frozenset({"inf1"})

_INSTANCE_TYPE = re.compile(r"^ml\.([a-z0-9]+(?:-[a-z0-9]+)?)\.(medium|large|\d*xlarge)$")


def instance_family(instance_type: str) -> str:
    """`ml.g5.2xlarge` -> `g5`. Raises ValueError for anything that is not an ML instance type."""
    match = _INSTANCE_TYPE.match(instance_type or "")
    if not match:
        raise ValueError(f"{instance_type!r} is not a SageMaker instance type like 'ml.m5.large'")
    return match.group(1)


def has_local_nvme(instance_type: str) -> bool:
    return instance_family(instance_type) in NVME_INSTANCE_FAMILIES


def has_gpu(instance_type: str) -> bool:
    return instance_family(instance_type) in GPU_INSTANCE_FAMILIES


def check_kms_instance_type(instance_type: str) -> None:
    """Refuse NVMe instance types: we always set a CMK on the endpoint config (control E1)."""
    if has_local_nvme(instance_type):
        raise ValueError(
            f"{instance_type} has local NVMe instance storage: AWS rejects an endpoint config "
            "(or monitoring job volume) with a KMS key on it, because those volumes are already "
            "encrypted by a hardware module on the instance; this project always sets the "
            "customer-managed key (control E1), so choose an EBS-backed type "
            "(e.g. ml.m5, ml.c5, ml.r5, ml.m6i, ml.c7i; accelerated: ml.p3, ml.inf2)"
        )


# -- blue/green and rolling deployment limits (SageMaker API model) ---------------

#: TrafficRoutingConfig.CanarySize: "less than or equal to 50% of the variant's total instance count".
CANARY_MAX_PERCENT = 50
#: TrafficRoutingConfig.LinearStepSize: "10-50% of the variant's total instance count".
LINEAR_STEP_MIN_PERCENT, LINEAR_STEP_MAX_PERCENT = 10, 50
#: RollingUpdatePolicy.MaximumBatchSize: "between 5% to 50% of the variant's total instance count".
ROLLING_BATCH_MIN_PERCENT, ROLLING_BATCH_MAX_PERCENT = 5, 50
#: WaitIntervalInSeconds (bake time per step) and TerminationWaitInSeconds: 0–3600.
WAIT_MIN_SECONDS, WAIT_MAX_SECONDS = 0, 3600
#: MaximumExecutionTimeoutInSeconds: larger than the total waiting time, and 600–14400. AWS's API
#: takes up to 28800 (API_BlueGreenUpdatePolicy), but the Terraform provider pulumi-aws bridges
#: validates `maximum_execution_timeout_in_seconds` with IntBetween(600, 14400)
#: (hashicorp/terraform-provider-aws internal/service/sagemaker/endpoint.go): a larger value would
#: pass our preview and fail the real one, so the stricter bound holds.
EXECUTION_TIMEOUT_MIN_SECONDS, EXECUTION_TIMEOUT_MAX_SECONDS = 600, 14400
#: AutoRollbackConfig.Alarms: 1–10 alarms.
MAX_ROLLBACK_ALARMS = 10
#: DataCaptureConfig.InitialSamplingPercentage: 0–100.
SAMPLING_MIN, SAMPLING_MAX = 0, 100

#: The strategy names as the stack config spells them.
RolloutStrategy = Literal["canary", "linear", "rolling"]


class DeploymentStrategy(StrEnum):
    """How an endpoint moves to a new endpoint config (SageMaker deployment guardrails)."""

    CANARY = "canary"
    """Blue/green: a canary share of the new fleet takes traffic first, then the rest."""
    LINEAR = "linear"
    """Blue/green in equal steps, each baking while the alarms are watched."""
    ROLLING = "rolling"
    """In-place batches (single-variant endpoints only)."""


class Rollout(TypedDict):
    """How an endpoint moves to a new endpoint config (deployment guardrails).

    In every case the rollback alarms are watched and SageMaker reverts to the old config if one
    fires. Every field is optional; `ROLLOUT_DEFAULTS` holds the defaults.
    """

    strategy: NotRequired[DeploymentStrategy]
    """canary (default), linear, or rolling."""
    canary_percent: NotRequired[int]
    """Canary: share of the new fleet that takes traffic first, 1–50 %; default 10."""
    linear_step_percent: NotRequired[int]
    """Linear: share of capacity shifted per step, 10–50 %; default 20."""
    rolling_batch_percent: NotRequired[int]
    """Rolling: batch size, 5–50 % of instances; default 25."""
    bake_seconds: NotRequired[int]
    """Bake time after each step while the alarms are watched, 0–3600 s; default 600."""
    termination_wait_seconds: NotRequired[int]
    """Blue/green: how long the old fleet is kept after the switch, 0–3600 s; default 300."""
    max_execution_seconds: NotRequired[int]
    """Whole-deployment timeout, 600–14400 s, more than all bake periods; default 7200."""


#: The defaults of every `Rollout` field: the one place they are written.
ROLLOUT_DEFAULTS: dict[str, Any] = {
    "strategy": DeploymentStrategy.CANARY,
    "canary_percent": 10,
    "linear_step_percent": 20,
    "rolling_batch_percent": 25,
    "bake_seconds": 600,
    "termination_wait_seconds": 300,
    "max_execution_seconds": 7200,
}


@dataclass(frozen=True)
class _ResolvedRollout:
    strategy: DeploymentStrategy
    canary_percent: int
    linear_step_percent: int
    rolling_batch_percent: int
    bake_seconds: int
    termination_wait_seconds: int
    max_execution_seconds: int


def resolve_rollout(rollout: Rollout | None) -> _ResolvedRollout:
    """Every field of a rollout, defaults filled, integers as int and the strategy as the enum
    (Construct hands strings for enums' values and floats for integers, pulumi/pulumi#21944)."""
    merged = with_defaults(rollout or {}, ROLLOUT_DEFAULTS)
    return _ResolvedRollout(
        strategy=DeploymentStrategy(merged["strategy"]),
        **{k: int(merged[k]) for k in ROLLOUT_DEFAULTS if k != "strategy"},
    )


def rollout_steps(rollout: Rollout | _ResolvedRollout) -> int:
    """How many bake periods a deployment waits through."""
    r = rollout if isinstance(rollout, _ResolvedRollout) else resolve_rollout(rollout)
    if r.strategy == "canary":
        return 1
    if r.strategy == "linear":
        return math.ceil(100 / r.linear_step_percent)
    return math.ceil(100 / r.rolling_batch_percent)


def check_rollout(rollout: Rollout) -> tuple[str, Any, str] | None:
    """The first broken deployment limit as (field, value, rule), or None."""
    try:
        r = resolve_rollout(rollout)
    except (TypeError, ValueError) as exc:
        return ("strategy", rollout, f"not a rollout ({exc}); strategies: canary, linear, rolling")
    # The step of each strategy: (config field, value, what it is, SageMaker's limits).
    step = {
        "canary": ("canaryPercent", r.canary_percent, "canary size", 1, CANARY_MAX_PERCENT),
        "linear": (
            "linearStepPercent",
            r.linear_step_percent,
            "linear step",
            LINEAR_STEP_MIN_PERCENT,
            LINEAR_STEP_MAX_PERCENT,
        ),
        "rolling": (
            "rollingBatchPercent",
            r.rolling_batch_percent,
            "rolling batch",
            ROLLING_BATCH_MIN_PERCENT,
            ROLLING_BATCH_MAX_PERCENT,
        ),
    }[r.strategy.value]
    name, size, what, low, high = step
    if not low <= size <= high:
        return (
            name,
            size,
            f"{what} must be {low}–{high}% of the variant's instances (SageMaker limit)",
        )
    for field, value in (
        ("bakeSeconds", r.bake_seconds),
        ("terminationWaitSeconds", r.termination_wait_seconds),
    ):
        if not WAIT_MIN_SECONDS <= value <= WAIT_MAX_SECONDS:
            return (
                field,
                value,
                f"must be {WAIT_MIN_SECONDS}–{WAIT_MAX_SECONDS} seconds (SageMaker limit)",
            )
    if (
        not EXECUTION_TIMEOUT_MIN_SECONDS
        <= r.max_execution_seconds
        <= EXECUTION_TIMEOUT_MAX_SECONDS
    ):
        return (
            "maxExecutionSeconds",
            r.max_execution_seconds,
            f"must be {EXECUTION_TIMEOUT_MIN_SECONDS}–{EXECUTION_TIMEOUT_MAX_SECONDS} seconds "
            "(SageMaker limit)",
        )
    waiting = r.bake_seconds * rollout_steps(r) + (
        r.termination_wait_seconds if r.strategy != "rolling" else 0
    )
    if r.max_execution_seconds <= waiting:
        return (
            "maxExecutionSeconds",
            r.max_execution_seconds,
            f"must exceed the total waiting time of the rollout ({waiting} s = {rollout_steps(r)} bake "
            "period(s) + termination wait), or SageMaker times the deployment out",
        )
    return None


# -- images and names ---------------------------------------------------------------

# ECR images and SageMaker names: their one home is `regulated_inference.lib.aws`; re-exported
# here for the modules that read them as SageMaker facts.
ECR_IMAGE = aws_facts.ECR_IMAGE
EcrImage = aws_facts.EcrImage
parse_ecr_image = aws_facts.parse_ecr_image
SAGEMAKER_NAME = aws_facts.SAGEMAKER_NAME
safe_name = aws_facts.safe_name


def short_hash(value: Any, n: int = 8) -> str:
    """A short, stable hash of any JSON-serialisable value (names immutable configs)."""
    return sha256_json(value)[:n]


def canonical_json(value: Any) -> str:
    """Readable, stable JSON (sorted keys): the same content always gives the same bytes."""
    return json.dumps(value, sort_keys=True, indent=2, default=str) + "\n"


def sha256_json(value: Any) -> str:
    """sha256 of the canonical JSON of a value (sorted keys, no whitespace)."""
    canonical = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def package_group_name(model: str, stack: str) -> str:
    """Physical name of a model's package group in the model registry of one stack.

    The registry project (`registry/`) creates the group under this name; the main
    stack only references it (a model-package ARN `…:model-package/<group>/<n>`).
    Per stack, so dev and prod can share an account.
    """
    return safe_name(model, stack)


# -- forced replacements (Terraform AWS provider, which pulumi-aws bridges) -------------

#: Fields whose change makes the provider *replace* the resource (`ForceNew`), per type.
#: `"*"` means every argument (the API has no Update call for the resource).
#: Sources, hashicorp/terraform-provider-aws `internal/service/sagemaker/`:
#: - `endpoint.go`: `name` and `deployment_config.auto_rollback_configuration` are ForceNew;
#:   `endpoint_config_name` and the blue/green / rolling policies are updated in place
#:   (UpdateEndpoint). A replaced endpoint has a fixed name, so it is deleted before it is
#:   recreated: an outage. Hence the rollback alarm set must never change with a version.
#: - `monitoring_schedule.go`: only `name` is ForceNew; `monitoring_schedule_config`
#:   (including `monitoring_job_definition_name`) is updated in place.
#: - `data_quality_job_definition.go`, `endpoint_configuration.go`, `model.go`: every
#:   argument is ForceNew (no Update API). These are therefore named after a hash of their
#:   content *and* registered under a logical name with that hash: a change is a new
#:   resource, created before the old one is deleted at the end of the deployment.
FORCE_NEW: dict[str, tuple[str, ...]] = {
    "aws:sagemaker/endpoint:Endpoint": ("name", "deploymentConfig.autoRollbackConfiguration"),
    "aws:sagemaker/monitoringSchedule:MonitoringSchedule": ("name",),
    "aws:sagemaker/dataQualityJobDefinition:DataQualityJobDefinition": ("*",),
    "aws:sagemaker/endpointConfiguration:EndpointConfiguration": ("*",),
    "aws:sagemaker/model:Model": ("*",),
}

# -- Model Monitor -----------------------------------------------------------------

#: Accounts of the AWS-built Model Monitor analyzer image, per region
#: ("Model Monitor pre-built container" in the SageMaker developer guide).
MODEL_MONITOR_IMAGE_ACCOUNTS: dict[str, str] = {
    "us-east-1": "156813124566",
    "us-east-2": "777275614652",
    "us-west-1": "890145073186",
    "us-west-2": "159807026194",
    "af-south-1": "875698925577",
    "ap-east-1": "001633400207",
    "ap-northeast-1": "574779866223",
    "ap-northeast-2": "709848358524",
    "ap-south-1": "126357580389",
    "ap-southeast-1": "245545462676",
    "ap-southeast-2": "563025443158",
    "ca-central-1": "536280801234",
    "eu-central-1": "048819808253",
    "eu-north-1": "895015795356",
    "eu-south-1": "933208885752",
    "eu-west-1": "468650794304",
    "eu-west-2": "749857270468",
    "eu-west-3": "680080141114",
    "me-south-1": "607024016150",
    "sa-east-1": "539772159869",
}


def model_monitor_image(region: str) -> str:
    """The in-region AWS Model Monitor analyzer image; ValueError where we do not know it."""
    account = MODEL_MONITOR_IMAGE_ACCOUNTS.get(region)
    if account is None:
        raise ValueError(
            f"no known Model Monitor analyzer image for {region} "
            f"(known: {', '.join(sorted(MODEL_MONITOR_IMAGE_ACCOUNTS))})"
        )
    return f"{account}.dkr.ecr.{region}.amazonaws.com/sagemaker-model-monitor-analyzer"


#: SageMaker CloudWatch namespaces and dimensions ("Monitor SageMaker with CloudWatch").
INVOCATION_NAMESPACE = "AWS/SageMaker"
"""ModelLatency, OverheadLatency (microseconds), Invocations, Invocation4XXErrors, Invocation5XXErrors."""
INSTANCE_NAMESPACE = "/aws/sagemaker/Endpoints"
"""CPUUtilization, MemoryUtilization, DiskUtilization, GPUUtilization, GPUMemoryUtilization (percent)."""
ENDPOINT_DIMENSIONS = ("EndpointName", "VariantName")
#: Model Monitor data-quality metrics for real-time endpoints: `feature_baseline_drift_<feature>`
#: with dimensions Endpoint and MonitoringSchedule, published when the job's environment has
#: `publish_cloudwatch_metrics=Enabled`. (AWS's pages spell this namespace two ways; this is
#: the one the built-in analyzer writes, as used in AWS's own Model Monitor examples.)
DATA_QUALITY_NAMESPACE = "aws/sagemaker/Endpoints/data-metrics"
DRIFT_METRIC_PREFIX = "feature_baseline_drift_"
#: Processing (monitoring) jobs log to this fixed log group.
PROCESSING_LOG_GROUP = "/aws/sagemaker/ProcessingJobs"


def endpoint_log_group(endpoint_name: str) -> str:
    """The fixed CloudWatch log group SageMaker writes an endpoint's container logs to."""
    return f"/aws/sagemaker/Endpoints/{endpoint_name}"


# -- where models and jobs run, what monitoring jobs read -------------------------------
# Nested argument types shared by components (`VpcPlacement`: ManagedInference and the drift
# jobs; `lib.drift.DriftData`: the drift jobs). Nested, not inherited: the component provider's analyzer
# (pulumi/provider/experimental/analyzer.py `get_docstring`) reads field docstrings from the
# source of the class named in the annotation only, so fields a TypedDict inherits would
# lose their descriptions in the schema; a nested type is one schema type, documented once.


class VpcPlacement(TypedDict):
    """Where a SageMaker model or job runs: private subnets and the workload security group."""

    subnet_ids: list[pulumi.Input[str]]
    """Private subnets in ≥ 2 AZs."""
    subnet_arns: list[pulumi.Input[str]]
    """ARNs of `subnet_ids`, in the same order (the role may attach network interfaces there only)."""
    security_group_id: pulumi.Input[str]
    """The workload security group (no ingress; egress 443 in the VPC)."""
    security_group_arn: pulumi.Input[str]
    """ARN of the workload security group."""


def check_placement(
    network: VpcPlacement | None, arg: str = "network"
) -> tuple[str, Any, str] | None:
    """The first problem of the placement argument `arg` as (path, value, rule), or None."""
    if not isinstance(network, dict):
        return (arg, network, "must be a VpcPlacement (subnet_ids, subnet_arns, security group)")
    subnets = list(network.get("subnet_ids") or [])
    if len(subnets) < 2 or len(subnets) != len(network.get("subnet_arns") or []):
        return (
            f"{arg}.subnet_ids",
            subnets,
            "private subnets in ≥ 2 AZs, with their ARNs in subnet_arns in the same order",
        )
    for key in ("security_group_id", "security_group_arn"):
        if not network.get(key):
            return (f"{arg}.{key}", network.get(key), "required (the workload security group, N*)")
    return None


def with_defaults(args: Mapping[str, Any], defaults: Mapping[str, Any]) -> dict[str, Any]:
    """A component's `args` over its `defaults`: an absent or None optional argument takes its
    default (Construct leaves unset optional inputs out)."""
    return {**defaults, **{k: v for k, v in args.items() if v is not None}}


__all__ = [
    "FORCE_NEW",
    "NVME_INSTANCE_FAMILIES",
    "GPU_INSTANCE_FAMILIES",
    "Rollout",
    "EcrImage",
    "VpcPlacement",
    "check_placement",
    "with_defaults",
    "check_kms_instance_type",
    "check_rollout",
    "has_local_nvme",
    "has_gpu",
    "instance_family",
    "model_monitor_image",
    "package_group_name",
    "parse_ecr_image",
    "safe_name",
    "sha256_json",
    "short_hash",
]
