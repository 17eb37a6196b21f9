"""Config of a self-hosted model on an existing EKS cluster (`models[i].kubernetes`).

A model entry with a `kubernetes` section is served by the `SelfHostedInference`
component instead of SageMaker. The model-level fields (name, version, image,
artifact …) still apply: `version` is the stable version, and the model-level
`image` is the stable image unless `kubernetes.image` overrides it.

Everything that can be judged from the section alone is checked here (errors
name the exact sub-key); rules that need the rest of the stack config (home
region, prod, other models) are in `regulated_inference.config.rules`, the one
stack-level validation pass.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import Field, field_validator, model_validator

from regulated_inference.components.self_hosted import args as shi
from regulated_inference.config.base import ConfigModel, checked, ecr_image
from regulated_inference.config.derive import derive
from regulated_inference.config.errors import RuleViolation
from regulated_inference.lib import aws as aws_facts
from regulated_inference.lib import kubernetes as k8s

#: Placeholder the offline preview sees for a secret it cannot decrypt.
SECRET_PLACEHOLDER = "[secret]"

#: What `k8s.LABEL_VALUE` admits when not empty, in words: a label value, and a label key's name.
_LABEL_SYNTAX = "≤ 63 chars of A-Z a-z 0-9 - _ ., starting and ending alphanumeric"

#: Label key syntax (k8s.io/apimachinery pkg/util/validation: IsQualifiedName):
#: optional DNS-1123 subdomain prefix (≤ 253) + "/" + name, whose syntax is a non-empty label
#: value's (qualifiedNameFmt, ≤ 63 chars).
_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")


def check_label_key(key: str) -> None:
    prefix, _, name = key.rpartition("/")
    if "/" in prefix or (prefix and (len(prefix) > 253 or not _DNS_SUBDOMAIN.match(prefix))):
        raise ValueError(
            "label key prefix must be a DNS-1123 subdomain (lowercase a-z 0-9 - ., ≤ 253 chars)"
        )
    if not name or not k8s.LABEL_VALUE.match(name):
        raise ValueError(f"label key name must be {_LABEL_SYNTAX}")


def check_label_value(path: str, value: str) -> str:
    if not value or not k8s.LABEL_VALUE.match(value):
        raise RuleViolation(
            path,
            value,
            f"must be a valid Kubernetes label value ({_LABEL_SYNTAX}): "
            "it is recorded as app.kubernetes.io/version",
        )
    return value


_BASE64 = re.compile(r"^[A-Za-z0-9+/]+={0,2}$")
_CLUSTER_NAME = re.compile(r"^[0-9A-Za-z][A-Za-z0-9_-]{0,99}$")


class ClusterConfig(ConfigModel):
    """The EKS cluster: its IAM OIDC identity provider (IRSA) and how the stack reaches its API.

    With `name`, `endpoint` and `certificateAuthorityData` the program writes the provider's
    kubeconfig itself, with a token from `aws eks get-token` (what `aws eks update-kubeconfig`
    writes): no kubeconfig file needed, so a CI runner with AWS credentials can deploy.
    Read them with `aws eks describe-cluster --name <name> --query 'cluster.[endpoint,certificateAuthority.data]'`.
    """

    oidc_provider_arn: str
    """ARN of the cluster's IAM OIDC provider (arn:aws:iam::<account>:oidc-provider/oidc.eks.<region>.amazonaws.com/id/<ID>)."""
    oidc_issuer: str | None = None
    """The cluster's OIDC issuer URL; optional — derived from the provider ARN, and must match it if given."""
    name: str | None = None
    """EKS cluster name (`aws eks get-token --cluster-name`). With `endpoint` and
    `certificateAuthorityData`: the stack builds its own kubeconfig (CI needs no kubeconfig file)."""
    endpoint: str | None = None
    """The cluster's API server URL (https://<id>.<suffix>.<region>.eks.amazonaws.com)."""
    certificate_authority_data: str | None = None
    """The cluster's CA bundle, base64 (`cluster.certificateAuthority.data`). Not a secret."""
    deploy_role_arn: str | None = None
    """Optional IAM role `aws eks get-token --role-arn` assumes for the token (the role the
    cluster's access entry maps); default: the deploying credentials themselves."""

    @field_validator("name")
    @classmethod
    def _name(cls, value: str | None) -> str | None:
        if value is not None and not _CLUSTER_NAME.match(value):
            raise RuleViolation("", value, "must be an EKS cluster name (1-100 of A-Z a-z 0-9 - _)")
        return value

    @field_validator("endpoint")
    @classmethod
    def _endpoint(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^https://[A-Za-z0-9.-]+(:\d+)?/?$", value):
            raise RuleViolation("", value, "must be the cluster's https:// API server URL")
        return value

    @field_validator("certificate_authority_data")
    @classmethod
    def _ca(cls, value: str | None) -> str | None:
        if value is not None and not _BASE64.match(value):
            raise RuleViolation(
                "", value[:40], "must be the base64 CA bundle (certificateAuthority.data)"
            )
        return value

    _role = field_validator("deploy_role_arn")(checked(aws_facts.parse_iam_role_arn))

    @model_validator(mode="after")
    def _api_access_complete(self) -> ClusterConfig:
        given = {
            "name": self.name,
            "endpoint": self.endpoint,
            "certificateAuthorityData": self.certificate_authority_data,
        }
        if any(v is not None for v in given.values()):
            for key, value in given.items():
                if value is None:
                    raise RuleViolation(
                        key,
                        None,
                        "name, endpoint and certificateAuthorityData go together "
                        "(the stack builds its kubeconfig from all three)",
                    )
        if self.deploy_role_arn is not None and self.name is None:
            raise RuleViolation("deployRoleArn", self.deploy_role_arn, "needs the cluster name")
        return self

    @property
    def has_api_access(self) -> bool:
        """The stack can build the provider's kubeconfig itself."""
        return self.name is not None

    _arn = field_validator("oidc_provider_arn")(checked(k8s.parse_oidc_provider_arn))

    @model_validator(mode="after")
    def _issuer_matches(self) -> ClusterConfig:
        _, issuer, _ = k8s.parse_oidc_provider_arn(self.oidc_provider_arn)
        if self.oidc_issuer is not None and k8s.normalise_issuer(self.oidc_issuer) != issuer:
            raise RuleViolation(
                "oidcIssuer",
                self.oidc_issuer,
                f"must be the issuer of oidcProviderArn (https://{issuer})",
            )
        return self

    @property
    def issuer(self) -> str:
        """Issuer host and path, as IAM condition keys use it (no https://)."""
        return k8s.parse_oidc_provider_arn(self.oidc_provider_arn)[1]

    @property
    def region(self) -> str:
        """Region of the cluster (from the issuer host)."""
        return k8s.parse_oidc_provider_arn(self.oidc_provider_arn)[2]

    @property
    def account(self) -> str:
        """Account the OIDC provider is registered in (must be the stack's account)."""
        return k8s.parse_oidc_provider_arn(self.oidc_provider_arn)[0]

    def irsa(self) -> shi.Irsa:
        """`SelfHostedInference`'s `irsa` argument."""
        return shi.Irsa(oidc_provider_arn=self.oidc_provider_arn, issuer=self.issuer)


class ReplicasConfig(ConfigModel):
    """Total pods of the model (stable + canary); the HorizontalPodAutoscalers keep it in range."""

    min: int = Field(ge=1, le=100)
    """Fewest pods. Prod: the stable track keeps ≥ 2 (one AZ may fail)."""
    max: int = Field(ge=1, le=200)
    """Most pods the autoscalers may run."""

    @model_validator(mode="after")
    def _order(self) -> ReplicasConfig:
        if self.max < self.min:
            raise RuleViolation("max", self.max, f"must be ≥ min ({self.min})")
        return self


class ResourcesConfig(
    derive(
        shi.ContainerResources,
        defaults={"gpu": shi.DEFAULT_GPU},
        fields={
            "memory_limit": Field(
                description="Equal to the request avoids OOM kills under node pressure."
            ),
            "gpu": Field(
                ge=0, le=16, description="0 for CPU-only; needs the NVIDIA device plugin."
            ),
        },
    )
):
    """Requests and limits of the model-server container (control K6): `SelfHostedInference`'s
    `ContainerResources`."""

    @model_validator(mode="after")
    def _quantities(self) -> ResourcesConfig:
        for key in ("cpu_request", "cpu_limit", "memory_request", "memory_limit"):
            value = getattr(self, key)
            try:
                if k8s.parse_quantity(value) <= 0:
                    raise ValueError("must be greater than zero")
            except ValueError as exc:
                alias = ResourcesConfig.model_fields[key].alias or key
                raise RuleViolation(alias, value, str(exc)) from None
        for res in ("cpu", "memory"):
            req, lim = getattr(self, f"{res}_request"), getattr(self, f"{res}_limit")
            try:
                k8s.check_request_within_limit(res, req, lim)
            except ValueError as exc:
                raise RuleViolation(f"{res}Request", req, str(exc)) from None
        return self


class ProbeConfig(
    derive(
        shi.Probe,
        defaults={
            "period_seconds": shi.DEFAULT_PROBE_PERIOD_SECONDS,
            "timeout_seconds": shi.DEFAULT_PROBE_TIMEOUT_SECONDS,
            "failure_threshold": shi.DEFAULT_PROBE_FAILURE_THRESHOLD,
        },
        fields={
            "path": Field(
                pattern=r"^/[A-Za-z0-9._~!$&'()*+,;=:@/%-]*$",
                description="E.g. /ping (SageMaker-style containers), /health (TGI), "
                "/v2/health/ready (Triton).",
            ),
            "period_seconds": Field(ge=1, le=300),
            "timeout_seconds": Field(ge=1, le=60),
            "failure_threshold": Field(ge=1, le=30),
        },
    )
):
    """An HTTP GET probe on the model port (`SelfHostedInference`'s `Probe`)."""


class ProbesConfig(
    derive(
        shi.Probes,
        defaults={"startup_seconds": shi.DEFAULT_STARTUP_SECONDS},
        types={"liveness": ProbeConfig, "readiness": ProbeConfig},
        fields={"startup_seconds": Field(ge=10, le=3600)},
    )
):
    """Liveness and readiness probes (control K6), plus a start-up allowance for loading weights
    (`SelfHostedInference`'s `Probes`)."""


class CanaryConfig(
    derive(
        shi.ModelTrack,
        # The artifact prefix is assembled (from `artifactKey`, or the default folder).
        only=("version", "image"),
        fields={"version": Field(description="It must differ from the stable version.")},
    )
):
    """A second version served beside the stable one, on a share of the pods (see docs/self-hosting.md):
    `SelfHostedInference`'s `Canary`."""

    weight: int
    """Share of traffic in percent, 1–50, realised as a share of pods (granularity 100 / replicas)."""
    artifact_key: str | None = None
    """Object key of the candidate's artifact in the model-artifacts bucket
    (default folder `<model name>/<canary version>/`); the pods may read only its folder."""

    @field_validator("version")
    @classmethod
    def _version(cls, value: str) -> str:
        return check_label_value("", value)

    _image = field_validator("image")(ecr_image)

    @field_validator("artifact_key")
    @classmethod
    def _artifact_key(cls, value: str | None) -> str | None:
        if value is not None and (
            value.startswith(("/", "s3://")) or "//" in value or "*" in value or "/" not in value
        ):
            raise RuleViolation(
                "",
                value,
                "must be an object key inside a folder of the model-artifacts bucket, "
                "e.g. credit-risk/1.5.0/model.tar.gz (no s3://, no leading /, no wildcards)",
            )
        return value

    _weight = field_validator("weight")(checked(k8s.check_canary_weight))

    def to_canary(self, artifact_prefix: str) -> shi.Canary:
        """`SelfHostedInference`'s `canary` argument, the artifact's key prefix assembled."""
        track = shi.ModelTrack(
            version=self.version, image=self.image, artifact_prefix=artifact_prefix
        )
        return shi.Canary(track=track, weight=self.weight)


class LoaderConfig(
    derive(
        shi.Loader,
        defaults={"storage": shi.DEFAULT_LOADER_STORAGE},
        fields={
            "image": Field(
                description="E.g. one with the AWS CLI; it reads MODEL_URI and writes the model "
                "into MODEL_DIR (/models)."
            )
        },
    )
):
    """An init container that downloads the artifact, so only it ever holds AWS credentials
    (`SelfHostedInference`'s `Loader`)."""

    _image = field_validator("image")(ecr_image)
    _storage = field_validator("storage")(checked(k8s.parse_quantity))


class KubernetesConfig(
    derive(
        shi.SelfHostedInferenceArgs,
        # The arguments the section states as they are; the program assembles the rest
        # (tracks, canary, IRSA, replicas, the platform's bucket and key).
        only=(
            "namespace",
            "resources",
            "port",
            "probes",
            "gateway_namespace",
            "vpc_endpoints_cidr",
            "s3_gateway_cidrs",
            "loader",
            "run_as_user",
            "target_cpu_utilization",
            "zone_spread",
            "node_selector",
            "scratch_size",
        ),
        types={"resources": ResourcesConfig, "probes": ProbesConfig, "loader": LoaderConfig},
        defaults={
            "port": 8080,
            "s3_gateway_cidrs": [],
            "run_as_user": shi.DEFAULT_RUN_AS_USER,
            "target_cpu_utilization": shi.DEFAULT_TARGET_CPU_UTILIZATION,
            "zone_spread": shi.DEFAULT_ZONE_SPREAD,
            "node_selector": {},
            "scratch_size": shi.DEFAULT_SCRATCH_SIZE,
        },
        fields={
            "namespace": Field(description="Restricted Pod Security Standard (control K9)."),
            "port": Field(
                ge=k8s.MIN_PORT,
                le=k8s.MAX_PORT,
                description="The container runs without NET_BIND_SERVICE.",
            ),
            "s3_gateway_cidrs": Field(
                description="Read them with `aws ec2 get-managed-prefix-list-entries`; leave "
                "empty with an S3 interface endpoint."
            ),
            "run_as_user": Field(ge=k8s.MIN_UID, le=k8s.MAX_UID, description="Control K1."),
            "target_cpu_utilization": Field(ge=10, le=95),
            "zone_spread": Field(description="Best effort when GPU capacity is in one zone only."),
        },
    )
):
    """Where and how a model is served on an existing EKS cluster: `SelfHostedInference`'s
    arguments the section states as they are (fields, defaults, descriptions), plus how the
    stack reaches the cluster and what it assembles (replicas, image, canary)."""

    kubeconfig: str | None = None
    """Kubeconfig contents or path, as a secret (`pulumi config set --secret --path
    'models[0].kubernetes.kubeconfig'`). Unset with `context` unset: the ambient provider
    (`kubernetes:kubeconfig` / `kubernetes:context` stack config, then $KUBECONFIG, ~/.kube/config)."""
    context: str | None = Field(default=None, min_length=1, max_length=253)
    """Kubeconfig context to use (with `kubeconfig`, or with the ambient kubeconfig): a developer
    override of `cluster.name`/`endpoint`; never commit it to a stack file CI deploys (a runner
    has no such context)."""
    cluster: ClusterConfig
    """The cluster's OIDC provider, for IRSA."""
    image: str | None = None
    """Stable image, pinned by digest, home-region ECR. Default: the model-level `image`."""
    replicas: ReplicasConfig
    canary: CanaryConfig | None = None
    """A candidate version on a share of pods. Remove to roll back; promote by making it the model version."""

    @field_validator("kubeconfig", mode="before")
    @classmethod
    def _secret(cls, value: Any) -> Any:
        # The CLI decrypts nested secrets before the program runs; offline they stay ciphertext.
        if isinstance(value, dict) and set(value) == {"secure"}:
            return SECRET_PLACEHOLDER
        return value

    @field_validator("namespace", "gateway_namespace")
    @classmethod
    def _namespace(cls, value: str) -> str:
        if not k8s.DNS_LABEL.match(value):
            raise RuleViolation("", value, "must be a DNS label (lowercase a-z 0-9 -, ≤ 63 chars)")
        return value

    @field_validator("namespace")
    @classmethod
    def _not_reserved(cls, value: str) -> str:
        if value in k8s.RESERVED_NAMESPACES:
            raise RuleViolation(
                "",
                value,
                f"models never run in {sorted(k8s.RESERVED_NAMESPACES)} (control K9)",
            )
        return value

    _stable_image = field_validator("image")(ecr_image)

    _cidr = field_validator("vpc_endpoints_cidr")(checked(k8s.check_private_cidr))

    @field_validator("s3_gateway_cidrs")
    @classmethod
    def _s3_cidrs(cls, value: list[str]) -> list[str]:
        for i, cidr in enumerate(value):
            try:
                k8s.check_s3_gateway_cidr(cidr)
            except ValueError as exc:
                raise RuleViolation(f"[{i}]", cidr, str(exc)) from None
        return value

    @field_validator("node_selector")
    @classmethod
    def _node_selector(cls, value: dict[str, str]) -> dict[str, str]:
        for key, label in value.items():
            try:
                check_label_key(key)
            except ValueError as exc:
                raise RuleViolation(key, key, str(exc)) from None
            if not k8s.LABEL_VALUE.match(label):
                raise RuleViolation(
                    key,
                    label,
                    f"must be a Kubernetes label value ({_LABEL_SYNTAX}, or empty)",
                )
        return value

    _scratch = field_validator("scratch_size")(checked(k8s.parse_quantity))

    @model_validator(mode="after")
    def _canary_fits(self) -> KubernetesConfig:
        if self.canary is not None:
            try:
                k8s.check_canary_split(self.replicas.min, self.canary.weight)
            except ValueError as exc:
                raise RuleViolation("canary.weight", self.canary.weight, str(exc)) from None
        return self

    @property
    def uses_ambient_provider(self) -> bool:
        """No kubeconfig, no context, no cluster API access: the stack's default Kubernetes provider."""
        return self.kubeconfig is None and self.context is None and not self.cluster.has_api_access
