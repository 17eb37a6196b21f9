"""The arguments of `SelfHostedInference`: TypedDicts all the way down, defaults as constants.

Nested types cross the component provider's boundary (a YAML or TypeScript program passes them
as objects), so they are TypedDicts with documented fields, not dataclasses; their names are
unique across the package (the schema's type tokens are `regulated-inference:index:<name>`).
"""

from enum import StrEnum
from typing import NotRequired, TypedDict

import pulumi

from regulated_inference.lib.aws import AwsContext

#: Defaults of the optional args, in one place (the stack config derives from them).
DEFAULT_RUN_AS_USER = 10001
DEFAULT_TARGET_CPU_UTILIZATION = 70
DEFAULT_SCRATCH_SIZE = "1Gi"
DEFAULT_LOADER_STORAGE = "20Gi"
DEFAULT_STARTUP_SECONDS = 600
DEFAULT_PROBE_PERIOD_SECONDS = 10
DEFAULT_PROBE_TIMEOUT_SECONDS = 3
DEFAULT_PROBE_FAILURE_THRESHOLD = 3
DEFAULT_GPU = 0


class ZoneSpread(StrEnum):
    """What the scheduler does when pods cannot be spread evenly over zones
    (`topologySpreadConstraints[].whenUnsatisfiable`)."""

    DO_NOT_SCHEDULE = "DoNotSchedule"
    """Hard: a pod stays pending rather than skew the zones (default)."""
    SCHEDULE_ANYWAY = "ScheduleAnyway"
    """Best effort: prefer spreading, schedule anyway."""


DEFAULT_ZONE_SPREAD = ZoneSpread.DO_NOT_SCHEDULE


class ModelTrack(TypedDict):
    """One served version: what runs and where its artifact is."""

    version: str
    """Model version, recorded as the `app.kubernetes.io/version` label (a valid label value)."""
    image: str
    """Serving image pinned by digest in the home region's private ECR."""
    artifact_prefix: str
    """Key prefix of this version's artifact in the model-artifacts bucket (e.g. models/credit-risk/1.4.0)."""


class Canary(TypedDict):
    """A candidate version served by a share of the pods behind the same Service."""

    track: ModelTrack
    """The candidate version."""
    weight: int
    """Percent of traffic, 1–50, realised as canary pods / all pods (see `regulated_inference.lib.kubernetes.split_replicas`)."""


class ContainerResources(TypedDict):
    """Requests and limits of the model-server container (K6)."""

    cpu_request: str
    """CPU request (a Kubernetes quantity, e.g. `2` or `500m`)."""
    cpu_limit: str
    """CPU limit, ≥ the request."""
    memory_request: str
    """Memory request (e.g. `16Gi`)."""
    memory_limit: str
    """Memory limit, ≥ the request."""
    gpu: NotRequired[int]
    """nvidia.com/gpu, set as request and limit (extended resources may not overcommit); default 0."""


class Probe(TypedDict):
    """HTTP GET on the model port."""

    path: str
    """The HTTP path probed."""
    period_seconds: NotRequired[int]
    """Seconds between probes; default 10."""
    timeout_seconds: NotRequired[int]
    """Seconds before a probe times out; default 3."""
    failure_threshold: NotRequired[int]
    """Consecutive failures that fail the probe; default 3."""


class Probes(TypedDict):
    """Liveness, readiness, and the start-up budget for loading weights."""

    liveness: Probe
    """Restarts the container when it fails (also the start-up probe, with the start-up budget)."""
    readiness: Probe
    """Takes the pod out of the Service when it fails."""
    startup_seconds: NotRequired[int]
    """Time a container may take to load its weights before liveness applies; default 600."""


class Loader(TypedDict):
    """An init container downloading the artifact; then only it holds AWS credentials."""

    image: str
    """Loader image pinned by digest in the home region's private ECR."""
    storage: NotRequired[str]
    """Size limit of the emptyDir the model is downloaded to; default 20Gi."""


class Irsa(TypedDict):
    """The cluster's IAM OIDC provider."""

    oidc_provider_arn: pulumi.Input[str]
    """ARN of the cluster's IAM OIDC identity provider."""
    issuer: pulumi.Input[str]
    """Issuer host and path without https:// (e.g. oidc.eks.eu-west-2.amazonaws.com/id/ABC…)."""


class SelfHostedInferenceArgs(TypedDict):
    """Arguments of `SelfHostedInference`."""

    model_name: str
    """Model name (DNS label): names the Deployments, Service, service account and policies."""
    namespace: str
    """Namespace to create for this model; never default/kube-*. One model per namespace."""
    stable: ModelTrack
    """The version serving most traffic."""
    aws: AwsContext
    """Home region (images must come from its ECR; pods call its regional STS) and account."""
    irsa: Irsa
    """The cluster's OIDC provider, for the service account's IAM role."""
    artifact_bucket_arn: pulumi.Input[str]
    """ARN of the model-artifacts bucket."""
    data_key_arn: pulumi.Input[str]
    """The data KMS key encrypting the artifacts (used only via S3)."""
    replicas_min: int
    """Fewest pods in total (stable + canary)."""
    replicas_max: int
    """Most pods in total."""
    resources: ContainerResources
    """Requests and limits of the model server."""
    port: int
    """Container port (≥ 1024) of the model server; also the Service port."""
    probes: Probes
    """HTTP probes."""
    gateway_namespace: str
    """The only namespace whose pods may connect to the model port."""
    vpc_endpoints_cidr: str
    """Private CIDR of the VPC interface endpoints: the only egress besides DNS, on 443."""
    canary: NotRequired[Canary]
    """Candidate version and weight; without it only the stable Deployment exists."""
    loader: NotRequired[Loader]
    """Init container that downloads the model; without it the server downloads it itself
    and then holds the AWS credentials (a wider blast radius — prefer a loader)."""
    s3_gateway_cidrs: NotRequired[list[str]]
    """S3 prefix-list CIDRs, only when S3 is reached through a gateway endpoint; default none."""
    service_account_name: NotRequired[str]
    """Default: the model name."""
    run_as_user: NotRequired[int]
    """UID/GID of every container, ≥ 10000; default 10001."""
    target_cpu_utilization: NotRequired[int]
    """HPA target, percent of CPU request; default 70."""
    zone_spread: NotRequired[ZoneSpread]
    """Zone topology spread: hard (default) or best effort."""
    node_selector: NotRequired[dict[str, str]]
    """Node labels pods must land on (e.g. a GPU node group); default none."""
    scratch_size: NotRequired[str]
    """Size limit of the /tmp emptyDir; default 1Gi."""
