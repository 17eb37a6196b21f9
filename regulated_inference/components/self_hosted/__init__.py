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

Modules, by concern: `args` (the TypedDicts and defaults), `plan` (validation, decisions),
`irsa`, `workload` (pod spec, Deployments), `network` (NetworkPolicies), `scaling` (HPA, PDB),
`component` (the ComponentResource composing them).
"""

from regulated_inference.components.self_hosted.args import (
    DEFAULT_LOADER_STORAGE,
    DEFAULT_PROBE_FAILURE_THRESHOLD,
    DEFAULT_PROBE_PERIOD_SECONDS,
    DEFAULT_PROBE_TIMEOUT_SECONDS,
    DEFAULT_RUN_AS_USER,
    DEFAULT_SCRATCH_SIZE,
    DEFAULT_STARTUP_SECONDS,
    DEFAULT_TARGET_CPU_UTILIZATION,
    DEFAULT_ZONE_SPREAD,
    Canary,
    ContainerResources,
    Irsa,
    Loader,
    ModelTrack,
    Probe,
    Probes,
    SelfHostedInferenceArgs,
    ZoneSpread,
)
from regulated_inference.components.self_hosted.component import SelfHostedInference
from regulated_inference.components.self_hosted.workload import (
    LOADER_CONTAINER,
    LOADER_RESOURCES,
    MODEL_DIR,
    PORT_NAME,
    PULUMI_TIMEOUT_ANNOTATION,
    SERVER_CONTAINER,
    TERMINATION_GRACE_SECONDS,
    pod_spec,
)

__all__ = [
    "Canary",
    "ContainerResources",
    "DEFAULT_LOADER_STORAGE",
    "DEFAULT_PROBE_FAILURE_THRESHOLD",
    "DEFAULT_PROBE_PERIOD_SECONDS",
    "DEFAULT_PROBE_TIMEOUT_SECONDS",
    "DEFAULT_RUN_AS_USER",
    "DEFAULT_SCRATCH_SIZE",
    "DEFAULT_STARTUP_SECONDS",
    "DEFAULT_TARGET_CPU_UTILIZATION",
    "DEFAULT_ZONE_SPREAD",
    "Irsa",
    "LOADER_CONTAINER",
    "LOADER_RESOURCES",
    "Loader",
    "MODEL_DIR",
    "ModelTrack",
    "PORT_NAME",
    "PULUMI_TIMEOUT_ANNOTATION",
    "Probe",
    "Probes",
    "SERVER_CONTAINER",
    "SelfHostedInference",
    "SelfHostedInferenceArgs",
    "TERMINATION_GRACE_SECONDS",
    "ZoneSpread",
    "pod_spec",
]
