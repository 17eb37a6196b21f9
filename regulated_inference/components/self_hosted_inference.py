"""Hardened model serving on an existing Kubernetes (EKS) cluster, with IRSA and a canary.

Controls K1–K11 (see policies/CONTROLS.md), I1–I7 for the IRSA role, R7 for
images. What it declares, all in one namespace of its own:

- Namespace enforcing the *restricted* Pod Security Standard (enforce + audit + warn).
- ServiceAccount annotated with an IRSA role (`LeastPrivilegeRole` +
  `WebIdentityTrust`: `sub` = this namespace/service account, `aud` =
  sts.amazonaws.com) that may only read this model's artifact prefixes and
  decrypt with the data key through S3. `automountServiceAccountToken` is false
  on the service account *and* the pods: no pod ever holds a Kubernetes API
  token. The STS-audience token IRSA needs is a projected volume mounted only
  into the one container that downloads the model.
- Deployments `stable` and (optionally) `canary`, each hardened: non-root high
  UID, no privilege escalation, ALL capabilities dropped, read-only root
  filesystem with emptyDir scratch, seccomp RuntimeDefault, no host
  namespaces/ports/paths, requests and limits (with `nvidia.com/gpu`), start-up,
  liveness and readiness probes, image by digest, spread across zones.
- One ClusterIP Service selecting both tracks: the canary's traffic share is its
  share of ready pods (replica ratio; no CRD, works with any CNI and gateway).
- NetworkPolicies: default deny in and out, then ingress only from the gateway
  namespace on the model port, egress only to cluster DNS and the VPC endpoints.
- One HorizontalPodAutoscaler per track (bounds split by the canary weight) and
  one PodDisruptionBudget over the model.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Literal, NotRequired, TypedDict

import pulumi
import pulumi_kubernetes as kubernetes

from regulated_inference.components.least_privilege_role import (
    LeastPrivilegeRole,
    web_identity_trust,
)
from regulated_inference.lib import iam
from regulated_inference.lib import kubernetes as k8s
from regulated_inference.lib.errors import ComponentArgsError

_COMPONENT = "SelfHostedInference"
#: Name of the serving container and of the init container that downloads the model.
SERVER_CONTAINER = "model-server"
LOADER_CONTAINER = "fetch-model"
PORT_NAME = "http"
MODEL_DIR = "/models"
#: Requests/limits of the loader init container (it only streams from S3 to disk).
LOADER_RESOURCES = {
    "requests": {"cpu": "250m", "memory": "256Mi"},
    "limits": {"cpu": "1", "memory": "1Gi"},
}
#: pulumi-kubernetes reads this annotation as the await timeout of the resource.
PULUMI_TIMEOUT_ANNOTATION = "pulumi.com/timeoutSeconds"
#: Pods may take this long to stop serving (drain in-flight requests).
TERMINATION_GRACE_SECONDS = 60


@dataclass(frozen=True)
class ModelTrack:
    """One served version: what runs and where its artifact is."""

    version: str
    """Model version, recorded as the `app.kubernetes.io/version` label (a valid label value)."""
    image: str
    """Serving image pinned by digest in the home region's private ECR."""
    artifact_prefix: str
    """Key prefix of this version's artifact in the model-artifacts bucket (e.g. models/credit-risk/1.4.0)."""


@dataclass(frozen=True)
class Canary:
    """A candidate version served by a share of the pods behind the same Service."""

    track: ModelTrack
    weight: int
    """Percent of traffic, 1–50, realised as canary pods / all pods (see `regulated_inference.lib.kubernetes.split_replicas`)."""


@dataclass(frozen=True)
class ContainerResources:
    """Requests and limits of the model-server container (K6)."""

    cpu_request: str
    cpu_limit: str
    memory_request: str
    memory_limit: str
    gpu: int = 0
    """nvidia.com/gpu, set as request and limit (extended resources may not overcommit)."""


@dataclass(frozen=True)
class Probe:
    """HTTP GET on the model port."""

    path: str
    period_seconds: int = 10
    timeout_seconds: int = 3
    failure_threshold: int = 3


@dataclass(frozen=True)
class Probes:
    """Liveness, readiness, and the start-up budget for loading weights."""

    liveness: Probe
    readiness: Probe
    startup_seconds: int = 600


@dataclass(frozen=True)
class Loader:
    """An init container downloading the artifact; then only it holds AWS credentials."""

    image: str
    storage: str = "20Gi"


@dataclass(frozen=True)
class Irsa:
    """The cluster's IAM OIDC provider."""

    oidc_provider_arn: pulumi.Input[str]
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
    region: str
    """Home region: images must come from its ECR; pods call its regional STS."""
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
    canary: NotRequired[Canary | None]
    """Candidate version and weight; None (default): only the stable Deployment exists."""
    loader: NotRequired[Loader | None]
    """Init container that downloads the model; default None: the server downloads it itself
    and then holds the AWS credentials (a wider blast radius — prefer a loader)."""
    s3_gateway_cidrs: NotRequired[list[str]]
    """S3 prefix-list CIDRs, only when S3 is reached through a gateway endpoint; default none."""
    service_account_name: NotRequired[str]
    """Default: the model name."""
    run_as_user: NotRequired[int]
    """UID/GID of every container, ≥ 10000; default 10001."""
    target_cpu_utilization: NotRequired[int]
    """HPA target, percent of CPU request; default 70."""
    zone_spread: NotRequired[Literal["DoNotSchedule", "ScheduleAnyway"]]
    """Zone topology spread: hard (default) or best effort."""
    node_selector: NotRequired[dict[str, str]]
    """Node labels pods must land on (e.g. a GPU node group); default none."""
    scratch_size: NotRequired[str]
    """Size limit of the /tmp emptyDir; default 1Gi."""


@dataclass(frozen=True)
class _Plan:
    """Everything decided from the args before any resource exists."""

    sa_name: str
    uid: int
    stable_min: int
    stable_max: int
    canary_min: int
    canary_max: int
    effective_weight: float
    tracks: list[tuple[str, ModelTrack]] = field(default_factory=list)


def _fail(arg: str, value: Any, rule: str) -> ComponentArgsError:
    return ComponentArgsError(_COMPONENT, arg, value, rule)


def _validate(args: SelfHostedInferenceArgs) -> _Plan:
    name = args.get("model_name", "")
    if not k8s.DNS_LABEL.match(name or "") or len(name) > 50:
        raise _fail("model_name", name, "must be a DNS label of ≤ 50 characters")
    ns = args.get("namespace", "")
    if not k8s.DNS_LABEL.match(ns or ""):
        raise _fail("namespace", ns, "must be a DNS label")
    if ns in k8s.RESERVED_NAMESPACES:
        raise _fail("namespace", ns, "models never run in default or kube-* namespaces (K9)")
    gateway = args.get("gateway_namespace", "")
    if not k8s.DNS_LABEL.match(gateway or ""):
        raise _fail("gateway_namespace", gateway, "must be a DNS label")
    sa_name = args.get("service_account_name") or name
    if not k8s.DNS_LABEL.match(sa_name):
        raise _fail("service_account_name", sa_name, "must be a DNS label")
    region = args.get("region", "")
    canary = args.get("canary")
    tracks = [(k8s.TRACK_STABLE, args["stable"])]
    if canary is not None:
        tracks.append((k8s.TRACK_CANARY, canary.track))
    for track, spec in tracks:
        arg = "stable" if track == k8s.TRACK_STABLE else "canary.track"
        if not spec.version or not k8s.LABEL_VALUE.match(spec.version):
            raise _fail(f"{arg}.version", spec.version, "must be a valid Kubernetes label value")
        try:
            k8s.check_image(spec.image, region)
        except ValueError as exc:
            raise _fail(f"{arg}.image", spec.image, str(exc)) from None
        if not spec.artifact_prefix.strip("/") or "*" in spec.artifact_prefix:
            raise _fail(
                f"{arg}.artifact_prefix", spec.artifact_prefix, "an exact, non-empty key prefix"
            )
    if canary is not None and canary.track.version == args["stable"].version:
        raise _fail("canary.track.version", canary.track.version, "must differ from stable")
    loader = args.get("loader")
    if loader is not None:
        try:
            k8s.check_image(loader.image, region)
            k8s.parse_quantity(loader.storage)
        except ValueError as exc:
            raise _fail("loader", loader, str(exc)) from None
    uid = args.get("run_as_user", 10001)
    if not k8s.MIN_UID <= uid <= 2147483647:
        raise _fail("run_as_user", uid, f"must be ≥ {k8s.MIN_UID} (K1)")
    port = args.get("port", 0)
    if not 1024 <= port <= 65535:
        raise _fail("port", port, "must be 1024–65535 (no NET_BIND_SERVICE capability)")
    lo, hi = args.get("replicas_min", 0), args.get("replicas_max", 0)
    if lo < 1 or hi < lo:
        raise _fail("replicas_min/max", (lo, hi), "need 1 ≤ min ≤ max")
    res = args["resources"]
    try:
        k8s.check_request_within_limit("cpu", res.cpu_request, res.cpu_limit)
        k8s.check_request_within_limit("memory", res.memory_request, res.memory_limit)
    except ValueError as exc:
        raise _fail("resources", res, str(exc)) from None
    if res.gpu < 0:
        raise _fail("resources.gpu", res.gpu, "must be ≥ 0")
    for cidr_arg, cidrs in (
        ("vpc_endpoints_cidr", [args.get("vpc_endpoints_cidr", "")]),
        ("s3_gateway_cidrs", args.get("s3_gateway_cidrs") or []),
    ):
        for cidr in cidrs:
            try:
                if cidr_arg == "vpc_endpoints_cidr":
                    k8s.check_private_cidr(cidr)
                elif cidr.endswith("/0"):
                    raise ValueError("never 0.0.0.0/0")
            except ValueError as exc:
                raise _fail(cidr_arg, cidr, str(exc)) from None
    if args.get("zone_spread", "DoNotSchedule") not in ("DoNotSchedule", "ScheduleAnyway"):
        raise _fail("zone_spread", args.get("zone_spread"), "DoNotSchedule or ScheduleAnyway")
    weight = canary.weight if canary is not None else 0
    if canary is not None:
        try:
            k8s.check_canary_split(lo, weight)
        except ValueError as exc:
            raise _fail("canary.weight", weight, str(exc)) from None
    stable_min, canary_min = k8s.split_replicas(lo, weight)
    stable_max, canary_max = k8s.split_replicas(hi, weight)
    return _Plan(
        sa_name=sa_name,
        uid=uid,
        stable_min=stable_min,
        stable_max=stable_max,
        canary_min=canary_min,
        canary_max=canary_max,
        effective_weight=k8s.effective_weight(lo, weight),
        tracks=tracks,
    )


def _labels(model: str, **extra: str) -> dict[str, str]:
    return {
        k8s.LABEL_NAME: model,
        k8s.LABEL_MODEL: model,
        k8s.LABEL_COMPONENT: "inference",
        k8s.LABEL_PART_OF: "regulated-inference",
        k8s.LABEL_MANAGED_BY: "pulumi",
        **extra,
    }


def _http_probe(probe: Probe, *, failure_threshold: int | None = None) -> dict[str, Any]:
    return {
        "http_get": {"path": probe.path, "port": PORT_NAME, "scheme": "HTTP"},
        "period_seconds": probe.period_seconds,
        "timeout_seconds": probe.timeout_seconds,
        "failure_threshold": failure_threshold or probe.failure_threshold,
        "success_threshold": 1,
    }


def _aws_env(region: str, role_arn: pulumi.Input[str]) -> list[dict[str, Any]]:
    # What the EKS pod identity webhook would inject, stated explicitly so the
    # credentials are visible in review and present only where declared.
    return [
        {"name": "AWS_ROLE_ARN", "value": role_arn},
        {"name": "AWS_WEB_IDENTITY_TOKEN_FILE", "value": k8s.IRSA_TOKEN_FILE},
        {"name": "AWS_STS_REGIONAL_ENDPOINTS", "value": "regional"},
        {"name": "AWS_REGION", "value": region},
        {"name": "AWS_DEFAULT_REGION", "value": region},
    ]


def pod_spec(
    args: SelfHostedInferenceArgs,
    plan: _Plan,
    track: ModelTrack,
    track_name: str,
    role_arn: pulumi.Input[str],
    model_uri: pulumi.Input[str],
) -> dict[str, Any]:
    """The hardened pod spec of one track (snake_case, as pulumi-kubernetes takes it)."""
    model, port, uid = args["model_name"], args["port"], plan.uid
    res, probes, loader = args["resources"], args["probes"], args.get("loader")
    requests: dict[str, str] = {"cpu": res.cpu_request, "memory": res.memory_request}
    limits: dict[str, str] = {"cpu": res.cpu_limit, "memory": res.memory_limit}
    if res.gpu:
        requests[k8s.GPU_RESOURCE] = limits[k8s.GPU_RESOURCE] = str(res.gpu)
    token_mount = {
        "name": k8s.IRSA_TOKEN_VOLUME,
        "mount_path": k8s.IRSA_TOKEN_DIR,
        "read_only": True,
    }
    tmp_mount = {"name": "tmp", "mount_path": "/tmp"}
    base_env = [
        {"name": "MODEL_NAME", "value": model},
        {"name": "MODEL_VERSION", "value": track.version},
        {"name": "PORT", "value": str(port)},
        {"name": "HOME", "value": "/tmp"},
        {"name": "TMPDIR", "value": "/tmp"},
    ]
    if loader is not None:
        server_env = [*base_env, {"name": "MODEL_DIR", "value": MODEL_DIR}]
        server_mounts = [tmp_mount, {"name": "model", "mount_path": MODEL_DIR, "read_only": True}]
    else:
        server_env = [
            *base_env,
            {"name": "MODEL_URI", "value": model_uri},
            *_aws_env(args["region"], role_arn),
        ]
        server_mounts = [tmp_mount, token_mount]
    startup_failures = max(1, math.ceil(probes.startup_seconds / probes.liveness.period_seconds))
    server = {
        "name": SERVER_CONTAINER,
        "image": track.image,
        "image_pull_policy": "IfNotPresent",
        "ports": [{"name": PORT_NAME, "container_port": port, "protocol": "TCP"}],
        "env": server_env,
        "resources": {"requests": requests, "limits": limits},
        "startup_probe": _http_probe(probes.liveness, failure_threshold=startup_failures),
        "liveness_probe": _http_probe(probes.liveness),
        "readiness_probe": _http_probe(probes.readiness),
        "security_context": k8s.container_security_context(uid),
        "volume_mounts": server_mounts,
        "termination_message_policy": "FallbackToLogsOnError",
    }
    volumes: list[dict[str, Any]] = [
        {"name": "tmp", "empty_dir": {"size_limit": args.get("scratch_size", "1Gi")}},
        {
            "name": k8s.IRSA_TOKEN_VOLUME,
            "projected": {
                "default_mode": 0o440,
                "sources": [
                    {
                        "service_account_token": {
                            "audience": k8s.IRSA_AUDIENCE,
                            "expiration_seconds": k8s.IRSA_TOKEN_EXPIRATION_SECONDS,
                            "path": "token",
                        }
                    }
                ],
            },
        },
    ]
    spec: dict[str, Any] = {
        "service_account_name": plan.sa_name,
        # No Kubernetes API token in any container (K8): the only token is the
        # STS-audience one above, which the API server does not accept.
        "automount_service_account_token": False,
        "enable_service_links": False,
        "host_network": False,
        "host_pid": False,
        "host_ipc": False,
        "security_context": k8s.pod_security_context(uid),
        "termination_grace_period_seconds": TERMINATION_GRACE_SECONDS,
        "containers": [server],
        "volumes": volumes,
        "topology_spread_constraints": [
            {
                "max_skew": 1,
                "topology_key": k8s.ZONE_TOPOLOGY_KEY,
                "when_unsatisfiable": args.get("zone_spread", "DoNotSchedule"),
                "label_selector": {
                    "match_labels": {k8s.LABEL_MODEL: model, k8s.LABEL_TRACK: track_name}
                },
                "match_label_keys": ["pod-template-hash"],
            },
            {
                "max_skew": 1,
                "topology_key": k8s.HOSTNAME_TOPOLOGY_KEY,
                "when_unsatisfiable": "ScheduleAnyway",
                "label_selector": {
                    "match_labels": {k8s.LABEL_MODEL: model, k8s.LABEL_TRACK: track_name}
                },
                "match_label_keys": ["pod-template-hash"],
            },
        ],
    }
    if loader is not None:
        volumes.append({"name": "model", "empty_dir": {"size_limit": loader.storage}})
        spec["init_containers"] = [
            {
                "name": LOADER_CONTAINER,
                "image": loader.image,
                "image_pull_policy": "IfNotPresent",
                "env": [
                    {"name": "MODEL_URI", "value": model_uri},
                    {"name": "MODEL_DIR", "value": MODEL_DIR},
                    {"name": "HOME", "value": "/tmp"},
                    *_aws_env(args["region"], role_arn),
                ],
                "resources": LOADER_RESOURCES,
                "security_context": k8s.container_security_context(uid),
                "volume_mounts": [
                    tmp_mount,
                    {"name": "model", "mount_path": MODEL_DIR},
                    token_mount,
                ],
                "termination_message_policy": "FallbackToLogsOnError",
            }
        ]
    if args.get("node_selector"):
        spec["node_selector"] = dict(args["node_selector"])
    if res.gpu:
        # GPU node groups are usually tainted so only GPU workloads land there.
        spec["tolerations"] = [
            {"key": k8s.GPU_RESOURCE, "operator": "Exists", "effect": "NoSchedule"}
        ]
    return spec


class SelfHostedInference(pulumi.ComponentResource):
    """A model served on an existing Kubernetes cluster, hardened, with IRSA and a canary.

    Pass the Kubernetes provider through `opts` (`providers={"kubernetes": p}`)
    or let the stack's default provider apply. Traffic split, promotion and
    rollback: see docs/self-hosting.md.
    """

    namespace: pulumi.Output[str]
    """The model's namespace."""
    service_name: pulumi.Output[str]
    """Name of the ClusterIP Service (both tracks)."""
    service_url: pulumi.Output[str]
    """In-cluster URL of the model, for the gateway."""
    service_account_name: pulumi.Output[str]
    """The dedicated service account."""
    role_arn: pulumi.Output[str]
    """The IRSA role of the service account."""
    stable_version: pulumi.Output[str]
    """Version served by the stable Deployment."""
    canary_version: pulumi.Output[str | None]
    """Version served by the canary Deployment, or None."""
    canary_weight: pulumi.Output[int]
    """Requested canary share, percent (0 without a canary)."""
    canary_effective_weight: pulumi.Output[float]
    """Canary pods / all pods at the minimum replica count: the share actually served."""
    replicas: pulumi.Output[dict]
    """HPA bounds per track: {"stable": {"min", "max"}, "canary": {"min", "max"}}."""

    def __init__(
        self, name: str, args: SelfHostedInferenceArgs, opts: pulumi.ResourceOptions | None = None
    ):
        plan = _validate(args)
        super().__init__(f"regulated-inference:index:{_COMPONENT}", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        model, ns_name, port = args["model_name"], args["namespace"], args["port"]
        canary = args.get("canary")

        grants: list[iam.Grant] = [
            iam.read_objects(args["artifact_bucket_arn"], spec.artifact_prefix.strip("/"))
            for _, spec in plan.tracks
        ]
        grants.append(
            iam.use_key(
                args["data_key_arn"], decrypt=True, via_service=f"s3.{args['region']}.amazonaws.com"
            )
        )
        role = LeastPrivilegeRole(
            f"{name}-irsa",
            {
                "trust": web_identity_trust(
                    oidc_provider_arn=args["irsa"].oidc_provider_arn,
                    issuer=args["irsa"].issuer,
                    namespace=ns_name,
                    service_account=plan.sa_name,
                ),
                "grants": grants,
                "description": f"IRSA role of self-hosted model {model} ({ns_name}/{plan.sa_name}): reads its artifacts",
            },
            child,
        )

        namespace = kubernetes.core.v1.Namespace(
            f"{name}-namespace",
            metadata={"name": ns_name, "labels": {**k8s.PSS_LABELS, **_labels(model)}},
            opts=child,
        )
        ns = namespace.metadata.apply(lambda m: m.name)
        in_ns = pulumi.ResourceOptions(parent=self, depends_on=[namespace])

        service_account = kubernetes.core.v1.ServiceAccount(
            f"{name}-service-account",
            metadata={
                "name": plan.sa_name,
                "namespace": ns,
                "labels": _labels(model),
                "annotations": {k8s.IRSA_ROLE_ANNOTATION: role.arn},
            },
            automount_service_account_token=False,
            opts=in_ns,
        )

        policies = self._network_policies(name, args, ns, in_ns)

        bucket_name = pulumi.Output.from_input(args["artifact_bucket_arn"]).apply(
            lambda arn: arn.rsplit(":", 1)[-1]
        )
        selector_all = {k8s.LABEL_MODEL: model}
        # Pods start only once their network is confined and their role may read the
        # artifact (the RolePolicy is a child of `role`, which depends_on waits for).
        after_policies = pulumi.ResourceOptions(
            parent=self, depends_on=[namespace, service_account, role, *policies]
        )
        bounds = {
            k8s.TRACK_STABLE: (plan.stable_min, plan.stable_max),
            k8s.TRACK_CANARY: (plan.canary_min, plan.canary_max),
        }
        deployments: dict[str, kubernetes.apps.v1.Deployment] = {}
        for track_name, spec in plan.tracks:
            deploy_name = model if track_name == k8s.TRACK_STABLE else f"{model}-{k8s.TRACK_CANARY}"
            selector = {k8s.LABEL_MODEL: model, k8s.LABEL_TRACK: track_name}
            labels = _labels(
                model, **{k8s.LABEL_TRACK: track_name, k8s.LABEL_VERSION: spec.version}
            )
            model_uri = pulumi.Output.concat(
                "s3://", bucket_name, "/", spec.artifact_prefix.strip("/"), "/"
            )
            annotations: dict[str, str] = {}
            if args.get("loader") is not None:
                # The pod identity webhook would otherwise give the server credentials too.
                annotations[k8s.IRSA_SKIP_CONTAINERS_ANNOTATION] = SERVER_CONTAINER
            progress_deadline = args["probes"].startup_seconds + 300
            # Pulumi waits for the rollout; its default 10-minute wait is shorter than a
            # large model's start-up, so wait as long as Kubernetes itself does (+2 min).
            deploy_annotations = {PULUMI_TIMEOUT_ANNOTATION: str(progress_deadline + 120)}
            if track_name == k8s.TRACK_CANARY and canary is not None:
                deploy_annotations["regulated-inference/canary-weight"] = str(canary.weight)
            # No spec.replicas: the HPA owns the count (with server-side apply a
            # declared count would conflict with the autoscaler's writes).
            deployments[track_name] = kubernetes.apps.v1.Deployment(
                f"{name}-{track_name}",
                metadata={
                    "name": deploy_name,
                    "namespace": ns,
                    "labels": labels,
                    "annotations": deploy_annotations,
                },
                spec={
                    "selector": {"match_labels": selector},
                    "strategy": {
                        "type": "RollingUpdate",
                        "rolling_update": {"max_surge": 1, "max_unavailable": 0},
                    },
                    "revision_history_limit": 5,
                    "min_ready_seconds": 10,
                    "progress_deadline_seconds": progress_deadline,
                    "template": {
                        "metadata": {"labels": labels, "annotations": annotations},
                        "spec": pod_spec(args, plan, spec, track_name, role.arn, model_uri),
                    },
                },
                opts=pulumi.ResourceOptions.merge(
                    after_policies,
                    pulumi.ResourceOptions(
                        custom_timeouts=pulumi.CustomTimeouts(
                            create=f"{progress_deadline + 120}s",
                            update=f"{progress_deadline + 120}s",
                        )
                    ),
                ),
            )
            lo, hi = bounds[track_name]
            kubernetes.autoscaling.v2.HorizontalPodAutoscaler(
                f"{name}-{track_name}-hpa",
                metadata={"name": deploy_name, "namespace": ns, "labels": labels},
                spec={
                    "scale_target_ref": {
                        "api_version": "apps/v1",
                        "kind": "Deployment",
                        "name": deploy_name,
                    },
                    "min_replicas": lo,
                    "max_replicas": hi,
                    "metrics": [
                        {
                            "type": "Resource",
                            "resource": {
                                "name": "cpu",
                                "target": {
                                    "type": "Utilization",
                                    "average_utilization": args.get("target_cpu_utilization", 70),
                                },
                            },
                        }
                    ],
                    "behavior": {"scale_down": {"stabilization_window_seconds": 300}},
                },
                opts=pulumi.ResourceOptions(parent=self, depends_on=[deployments[track_name]]),
            )

        service = kubernetes.core.v1.Service(
            f"{name}-service",
            metadata={"name": model, "namespace": ns, "labels": _labels(model)},
            spec={
                "type": "ClusterIP",
                "selector": selector_all,
                "ports": [
                    {"name": PORT_NAME, "port": port, "target_port": PORT_NAME, "protocol": "TCP"}
                ],
                "session_affinity": "None",
            },
            opts=in_ns,
        )
        kubernetes.policy.v1.PodDisruptionBudget(
            f"{name}-pdb",
            metadata={"name": model, "namespace": ns, "labels": _labels(model)},
            spec={
                "max_unavailable": 1,
                "selector": {"match_labels": selector_all},
                "unhealthy_pod_eviction_policy": "AlwaysAllow",
            },
            opts=in_ns,
        )

        self.namespace = ns
        self.service_name = service.metadata.apply(lambda m: m.name)
        self.service_url = pulumi.Output.concat(
            "http://", self.service_name, ".", ns, ".svc.cluster.local:", str(port)
        )
        self.service_account_name = service_account.metadata.apply(lambda m: m.name)
        self.role_arn = role.arn
        self.stable_version = pulumi.Output.from_input(args["stable"].version)
        self.canary_version = pulumi.Output.from_input(canary.track.version if canary else None)
        self.canary_weight = pulumi.Output.from_input(canary.weight if canary else 0)
        self.canary_effective_weight = pulumi.Output.from_input(plan.effective_weight)
        self.replicas = pulumi.Output.from_input(
            {t: {"min": bounds[t][0], "max": bounds[t][1]} for t, _ in plan.tracks}
        )
        self.register_outputs(
            {
                "namespace": self.namespace,
                "serviceName": self.service_name,
                "serviceUrl": self.service_url,
                "serviceAccountName": self.service_account_name,
                "roleArn": self.role_arn,
                "stableVersion": self.stable_version,
                "canaryVersion": self.canary_version,
                "canaryWeight": self.canary_weight,
                "canaryEffectiveWeight": self.canary_effective_weight,
                "replicas": self.replicas,
            }
        )

    def _network_policies(
        self,
        name: str,
        args: SelfHostedInferenceArgs,
        ns: pulumi.Output[str],
        opts: pulumi.ResourceOptions,
    ) -> list[kubernetes.networking.v1.NetworkPolicy]:
        """Default deny both ways, then the three allowances (K10)."""
        model = args["model_name"]
        model_pods = {"match_labels": {k8s.LABEL_MODEL: model}}

        def policy(role: str, policy_name: str, spec: dict[str, Any]):
            return kubernetes.networking.v1.NetworkPolicy(
                f"{name}-{role}",
                metadata={"name": policy_name, "namespace": ns, "labels": _labels(model)},
                spec=spec,
                opts=opts,
            )

        egress_endpoints = [{"ip_block": {"cidr": args["vpc_endpoints_cidr"]}}]
        egress_endpoints += [{"ip_block": {"cidr": c}} for c in args.get("s3_gateway_cidrs") or []]
        return [
            policy(
                "default-deny",
                "default-deny-all",
                {"pod_selector": {}, "policy_types": ["Ingress", "Egress"]},
            ),
            policy(
                "allow-gateway",
                f"{model}-allow-gateway-ingress",
                {
                    "pod_selector": model_pods,
                    "policy_types": ["Ingress"],
                    "ingress": [
                        {
                            "from": [
                                {
                                    "namespace_selector": {
                                        "match_labels": {
                                            "kubernetes.io/metadata.name": args["gateway_namespace"]
                                        }
                                    }
                                }
                            ],
                            "ports": [{"protocol": "TCP", "port": args["port"]}],
                        }
                    ],
                },
            ),
            policy(
                "allow-dns",
                "allow-dns-egress",
                {
                    "pod_selector": {},
                    "policy_types": ["Egress"],
                    "egress": [
                        {
                            "to": [
                                {
                                    "namespace_selector": {
                                        "match_labels": {
                                            "kubernetes.io/metadata.name": "kube-system"
                                        }
                                    },
                                    "pod_selector": {"match_labels": {"k8s-app": "kube-dns"}},
                                }
                            ],
                            "ports": [
                                {"protocol": "UDP", "port": 53},
                                {"protocol": "TCP", "port": 53},
                            ],
                        }
                    ],
                },
            ),
            policy(
                "allow-aws-endpoints",
                f"{model}-allow-vpc-endpoints-egress",
                {
                    "pod_selector": model_pods,
                    "policy_types": ["Egress"],
                    "egress": [
                        {"to": egress_endpoints, "ports": [{"protocol": "TCP", "port": 443}]}
                    ],
                },
            ),
        ]


__all__ = [
    "Canary",
    "ContainerResources",
    "Irsa",
    "Loader",
    "ModelTrack",
    "Probe",
    "Probes",
    "SelfHostedInference",
    "SelfHostedInferenceArgs",
    "pod_spec",
]
