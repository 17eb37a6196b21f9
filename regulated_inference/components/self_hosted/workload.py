"""The workload: hardened pod specs and one Deployment per track (K1–K8, K11).

Pod specs are snake_case dicts, as pulumi-kubernetes takes them.
"""

import math
from typing import Any

import pulumi
import pulumi_kubernetes as kubernetes

from regulated_inference.components.self_hosted.args import (
    DEFAULT_SCRATCH_SIZE,
    ModelTrack,
    SelfHostedInferenceArgs,
)
from regulated_inference.components.self_hosted.plan import HttpProbe, Plan
from regulated_inference.lib import kubernetes as k8s

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


def labels(model: str, **extra: str) -> dict[str, str]:
    """The recommended labels every object of the model carries."""
    return {
        k8s.LABEL_NAME: model,
        k8s.LABEL_MODEL: model,
        k8s.LABEL_COMPONENT: "inference",
        k8s.LABEL_PART_OF: "regulated-inference",
        k8s.LABEL_MANAGED_BY: "pulumi",
        **extra,
    }


def deployment_name(model: str, track: str) -> str:
    return model if track == k8s.TRACK_STABLE else f"{model}-{k8s.TRACK_CANARY}"


def track_labels(model: str, track: str, spec: ModelTrack) -> dict[str, str]:
    return labels(model, **{k8s.LABEL_TRACK: track, k8s.LABEL_VERSION: spec["version"]})


def _http_probe(probe: HttpProbe, *, failure_threshold: int | None = None) -> dict[str, Any]:
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


def _spread(model: str, track_name: str, topology_key: str, when: str) -> dict[str, Any]:
    return {
        "max_skew": 1,
        "topology_key": topology_key,
        "when_unsatisfiable": when,
        "label_selector": {"match_labels": {k8s.LABEL_MODEL: model, k8s.LABEL_TRACK: track_name}},
        "match_label_keys": ["pod-template-hash"],
    }


_TOKEN_MOUNT = {"name": k8s.IRSA_TOKEN_VOLUME, "mount_path": k8s.IRSA_TOKEN_DIR, "read_only": True}
_TMP_MOUNT = {"name": "tmp", "mount_path": "/tmp"}


def _container(
    name: str, image: str, uid: int, *, env: list[dict[str, Any]], **spec: Any
) -> dict[str, Any]:
    """What every container of the pod states: its image (pinned by digest, K7) pulled only when
    absent, the restricted securityContext restated per container (K1–K5), logs as the
    termination message; `spec` adds the rest (resources, mounts, probes, ports)."""
    return {
        "name": name,
        "image": image,
        "image_pull_policy": "IfNotPresent",
        "env": env,
        **spec,
        "security_context": k8s.container_security_context(uid),
        "termination_message_policy": "FallbackToLogsOnError",
    }


def _server_container(
    args: SelfHostedInferenceArgs, plan: Plan, track: ModelTrack, credentials: list[dict[str, Any]]
) -> dict[str, Any]:
    """The model server: requests and limits, probes; `credentials` (the model's URI and the AWS
    environment) only when no loader downloads the model for it."""
    res = args["resources"]
    requests: dict[str, str] = {"cpu": res["cpu_request"], "memory": res["memory_request"]}
    limits: dict[str, str] = {"cpu": res["cpu_limit"], "memory": res["memory_limit"]}
    if plan.gpu:
        requests[k8s.GPU_RESOURCE] = limits[k8s.GPU_RESOURCE] = str(plan.gpu)
    env = [
        {"name": "MODEL_NAME", "value": args["model_name"]},
        {"name": "MODEL_VERSION", "value": track["version"]},
        {"name": "PORT", "value": str(plan.port)},
        {"name": "HOME", "value": "/tmp"},
        {"name": "TMPDIR", "value": "/tmp"},
    ]
    if args.get("loader") is not None:
        env.append({"name": "MODEL_DIR", "value": MODEL_DIR})
        mounts = [_TMP_MOUNT, {"name": "model", "mount_path": MODEL_DIR, "read_only": True}]
    else:
        env += credentials
        mounts = [_TMP_MOUNT, _TOKEN_MOUNT]
    startup_failures = max(1, math.ceil(plan.startup_seconds / plan.liveness.period_seconds))
    return _container(
        SERVER_CONTAINER,
        track["image"],
        plan.uid,
        env=env,
        ports=[{"name": PORT_NAME, "container_port": plan.port, "protocol": "TCP"}],
        resources={"requests": requests, "limits": limits},
        startup_probe=_http_probe(plan.liveness, failure_threshold=startup_failures),
        liveness_probe=_http_probe(plan.liveness),
        readiness_probe=_http_probe(plan.readiness),
        volume_mounts=mounts,
    )


def _loader_container(
    image: str, uid: int, model_uri: dict[str, Any], aws_env: list[dict[str, Any]]
) -> dict[str, Any]:
    """The init container that downloads the model: the only holder of AWS credentials."""
    return _container(
        LOADER_CONTAINER,
        image,
        uid,
        env=[
            model_uri,
            {"name": "MODEL_DIR", "value": MODEL_DIR},
            {"name": "HOME", "value": "/tmp"},
            *aws_env,
        ],
        resources=LOADER_RESOURCES,
        volume_mounts=[_TMP_MOUNT, {"name": "model", "mount_path": MODEL_DIR}, _TOKEN_MOUNT],
    )


def pod_spec(
    args: SelfHostedInferenceArgs,
    plan: Plan,
    track: ModelTrack,
    track_name: str,
    role_arn: pulumi.Input[str],
    model_uri: pulumi.Input[str],
) -> dict[str, Any]:
    """The hardened pod spec of one track (snake_case, as pulumi-kubernetes takes it)."""
    model = args["model_name"]
    # Where the model is and how to read it: for whichever container downloads it.
    model_uri_env = {"name": "MODEL_URI", "value": model_uri}
    aws_env = _aws_env(plan.region, role_arn)
    volumes: list[dict[str, Any]] = [
        {
            "name": "tmp",
            "empty_dir": {"size_limit": args.get("scratch_size", DEFAULT_SCRATCH_SIZE)},
        },
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
        "security_context": k8s.pod_security_context(plan.uid),
        "termination_grace_period_seconds": TERMINATION_GRACE_SECONDS,
        "containers": [_server_container(args, plan, track, [model_uri_env, *aws_env])],
        "volumes": volumes,
        "topology_spread_constraints": [
            _spread(model, track_name, k8s.ZONE_TOPOLOGY_KEY, plan.zone_spread.value),
            _spread(model, track_name, k8s.HOSTNAME_TOPOLOGY_KEY, "ScheduleAnyway"),
        ],
    }
    if args.get("loader") is not None:
        volumes.append({"name": "model", "empty_dir": {"size_limit": plan.loader_storage}})
        spec["init_containers"] = [
            _loader_container(args["loader"]["image"], plan.uid, model_uri_env, aws_env)
        ]
    if args.get("node_selector"):
        spec["node_selector"] = dict(args["node_selector"])
    if plan.gpu:
        # GPU node groups are usually tainted so only GPU workloads land there.
        spec["tolerations"] = [
            {"key": k8s.GPU_RESOURCE, "operator": "Exists", "effect": "NoSchedule"}
        ]
    return spec


def deployment(
    name: str,
    args: SelfHostedInferenceArgs,
    plan: Plan,
    track_name: str,
    spec: ModelTrack,
    role_arn: pulumi.Input[str],
    bucket_name: pulumi.Input[str],
    ns: pulumi.Input[str],
    opts: pulumi.ResourceOptions,
) -> kubernetes.apps.v1.Deployment:
    """One track's Deployment: rolling update, no replica count (the HPA owns it)."""
    model = args["model_name"]
    track_meta = track_labels(model, track_name, spec)
    model_uri = pulumi.Output.concat(
        "s3://", bucket_name, "/", spec["artifact_prefix"].strip("/"), "/"
    )
    annotations: dict[str, str] = {}
    if args.get("loader") is not None:
        # The pod identity webhook would otherwise give the server credentials too.
        annotations[k8s.IRSA_SKIP_CONTAINERS_ANNOTATION] = SERVER_CONTAINER
    progress_deadline = plan.startup_seconds + 300
    # Pulumi waits for the rollout; its default 10-minute wait is shorter than a
    # large model's start-up, so wait as long as Kubernetes itself does (+2 min).
    wait = progress_deadline + 120
    deploy_annotations = {PULUMI_TIMEOUT_ANNOTATION: str(wait)}
    if track_name == k8s.TRACK_CANARY:
        deploy_annotations["regulated-inference/canary-weight"] = str(plan.canary_weight)
    # No spec.replicas: the HPA owns the count (with server-side apply a
    # declared count would conflict with the autoscaler's writes).
    return kubernetes.apps.v1.Deployment(
        f"{name}-{track_name}",
        metadata={
            "name": deployment_name(model, track_name),
            "namespace": ns,
            "labels": track_meta,
            "annotations": deploy_annotations,
        },
        spec={
            "selector": {"match_labels": {k8s.LABEL_MODEL: model, k8s.LABEL_TRACK: track_name}},
            "strategy": {
                "type": "RollingUpdate",
                "rolling_update": {"max_surge": 1, "max_unavailable": 0},
            },
            "revision_history_limit": 5,
            "min_ready_seconds": 10,
            "progress_deadline_seconds": progress_deadline,
            "template": {
                "metadata": {"labels": track_meta, "annotations": annotations},
                "spec": pod_spec(args, plan, spec, track_name, role_arn, model_uri),
            },
        },
        opts=pulumi.ResourceOptions.merge(
            opts,
            pulumi.ResourceOptions(
                custom_timeouts=pulumi.CustomTimeouts(create=f"{wait}s", update=f"{wait}s")
            ),
        ),
    )
