"""Self-hosted inference on Kubernetes (K1-K11)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import wraps
from typing import Any

from .base import Finding, Res, cannot_verify, get, has, is_unknown, rule
from .checks import expect
from .k8s_pods import (
    PERSISTENT_VOLUME_KINDS,
    POD_KINDS,
    SERVING_KINDS,
    containers,
    is_patch,
    pod_path,
    pod_spec,
)
from .stack_index import StackIndex

NAMESPACE = "kubernetes:core/v1:Namespace"
SERVICE = "kubernetes:core/v1:Service"
SERVICE_ACCOUNT = "kubernetes:core/v1:ServiceAccount"
NETWORK_POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy"


_containers = containers


def _k8s_rule(name, controls, severity="high", dev_advisory=False, types=POD_KINDS, **kw):
    return rule(
        name=name,
        controls=controls,
        severity=severity,
        types=types,
        dev_advisory=dev_advisory,
        **kw,
    )


def _pod_or_unknown(r: Res):
    """The pod spec of any pod-bearing kind (k8s_pods); a patch that sets no pod is not judged."""
    pod = pod_spec(r)
    if is_unknown(pod):
        return None, cannot_verify(pod_path(r))
    if not pod:
        return None, (None if is_patch(r) else f"{pod_path(r)} is missing")
    return pod, None


def _per_container(check: Callable[[Res, dict, Any, str, Any], Iterable[str | Finding]]):
    """A pod rule judged container by container: `check(r, cfg, pod, path, container)` runs for
    every container of the resource's pod spec (init and ephemeral included); a pod spec that is
    unknown or missing is reported once, as `_pod_or_unknown` says."""

    @wraps(check)
    def per_pod(r: Res, cfg: dict):
        pod, problem = _pod_or_unknown(r)
        if problem:
            yield problem
            return
        for path, c in _containers(pod):
            yield from check(r, cfg, pod, path, c)

    return per_pod


def _unset_ok(r: Res, value: Any) -> bool:
    """A *Patch leaves an absent field as it is on the cluster: absence is not a finding there."""
    return value is None and is_patch(r)


def _effective(pod: Any, c: Any, key: str) -> Any:
    """Container securityContext overrides the pod's."""
    v = get(c, f"securityContext.{key}")
    return v if v is not None else get(pod, f"securityContext.{key}")


@_k8s_rule(
    "k8s-run-as-non-root",
    ("K1",),
    config_schema={
        "minUid": {
            "type": "integer",
            "minimum": 1,
            "description": "Lowest UID accepted.",
            "default": 10000,
        }
    },
    remediation="Set securityContext.runAsNonRoot=true and runAsUser/runAsGroup >= minUid.",
)
@_per_container
def run_as_non_root(r: Res, cfg: dict, pod: Any, path: str, c: Any):
    """Containers run as non-root with a high UID."""
    nonroot = _effective(pod, c, "runAsNonRoot")
    uid = _effective(pod, c, "runAsUser")
    if is_unknown(nonroot) or is_unknown(uid):
        yield cannot_verify(f"{path}.securityContext")
        return
    if nonroot is not True and not _unset_ok(r, nonroot):
        yield f"{path}: runAsNonRoot is not true"
    if _unset_ok(r, uid):
        return
    if uid is None or not isinstance(uid, (int, float)) or uid < cfg["minUid"]:
        yield f"{path}: runAsUser is {uid}, minimum {cfg['minUid']}"


@_k8s_rule(
    "k8s-no-privilege",
    ("K2",),
    severity="critical",
    remediation='Set privileged=false, allowPrivilegeEscalation=false and capabilities.drop=["ALL"].',
)
@_per_container
def no_privilege(r: Res, cfg: dict, pod: Any, path: str, c: Any):
    """Containers are not privileged, cannot escalate and drop ALL capabilities."""
    sc = get(c, "securityContext") or {}
    if is_unknown(sc):
        yield cannot_verify(f"{path}.securityContext")
        return
    if get(sc, "privileged") is True:
        yield f"{path}: privileged is true"
    ape = get(sc, "allowPrivilegeEscalation")
    if ape is not False and not _unset_ok(r, ape):
        # unset means allowed (Kubernetes SecurityContext.allowPrivilegeEscalation)
        yield f"{path}: allowPrivilegeEscalation is not false"
    drop = get(sc, "capabilities.drop")
    if is_unknown(drop):
        yield cannot_verify(f"{path}.securityContext.capabilities.drop")
    elif "ALL" not in (drop or []) and not _unset_ok(r, drop):
        # Pod Security Admission (restricted) requires the literal "ALL"
        near = [d for d in drop or [] if isinstance(d, str) and d.upper() == "ALL"]
        hint = (
            f" (found {near[0]!r}; the restricted Pod Security Standard requires 'ALL')"
            if near
            else ""
        )
        yield f"{path}: capabilities.drop does not include ALL{hint}"
    add = [
        a
        for a in get(sc, "capabilities.add") or []
        if not (isinstance(a, str) and a.upper().removeprefix("CAP_") == "NET_BIND_SERVICE")
    ]
    if add:
        yield f"{path}: adds capabilities {', '.join(map(str, add))}"


@_k8s_rule(
    "k8s-read-only-root-filesystem",
    ("K3",),
    severity="medium",
    dev_advisory=True,
    remediation="Set readOnlyRootFilesystem=true and mount an emptyDir where the server writes.",
)
@_per_container
def read_only_root(r: Res, cfg: dict, pod: Any, path: str, c: Any):
    """Containers have a read-only root filesystem."""
    yield from expect(
        c,
        "securityContext.readOnlyRootFilesystem",
        lambda v: v is True or _unset_ok(r, v),
        f"{path}: readOnlyRootFilesystem is not true",
        f"{path}.securityContext.readOnlyRootFilesystem",
    )


@_k8s_rule(
    "k8s-seccomp-runtime-default",
    ("K4",),
    severity="medium",
    dev_advisory=True,
    remediation="Set securityContext.seccompProfile.type=RuntimeDefault on the pod.",
)
@_per_container
def seccomp(r: Res, cfg: dict, pod: Any, path: str, c: Any):
    """Pods use the RuntimeDefault (or a Localhost) seccomp profile."""
    t = _effective(pod, c, "seccompProfile.type")
    if is_unknown(t):
        yield cannot_verify(f"{path}.securityContext.seccompProfile")
    elif not _unset_ok(r, t) and t not in ("RuntimeDefault", "Localhost"):
        yield f"{path}: seccompProfile is {t or 'not set'} (Unconfined)"


@_k8s_rule(
    "k8s-no-host-access",
    ("K5",),
    severity="critical",
    types=(*POD_KINDS, *PERSISTENT_VOLUME_KINDS),
    remediation="Remove hostNetwork/hostPID/hostIPC, hostPath volumes (in pods and PersistentVolumes) "
    "and hostPort.",
)
def no_host_access(r: Res, cfg: dict):
    """Pods share no host namespace, mount no hostPath (directly or through a PersistentVolume) and bind
    no hostPort."""
    if r.type in PERSISTENT_VOLUME_KINDS:
        yield from expect(
            r.props,
            "spec.hostPath",
            lambda hp: not hp,
            lambda hp: (
                f"PersistentVolume mounts hostPath {get(hp, 'path')}: any pod that claims "
                "it reads the node"
            ),
        )
        return
    pod, problem = _pod_or_unknown(r)
    if problem:
        yield problem
        return
    for key in ("hostNetwork", "hostPID", "hostIPC"):
        if get(pod, key) is True:
            yield f"{key} is true"
    for v in get(pod, "volumes") or []:
        if has(v, "hostPath"):
            yield f"volume {get(v, 'name')} mounts a hostPath"
    for path, c in _containers(pod):
        for p in get(c, "ports") or []:
            hp = get(p, "hostPort")
            if is_unknown(hp) or (hp not in (None, 0, "0", "")):
                yield f"{path}: binds hostPort {get(p, 'hostPort')}"


GPU_KEYS = ("nvidia.com/gpu", "amd.com/gpu", "aws.amazon.com/neuron")


@_k8s_rule(
    "k8s-resources-and-probes",
    ("K6",),
    severity="medium",
    dev_advisory=True,
    types=SERVING_KINDS,
    remediation="Set resources.requests and limits (cpu, memory and any GPU) and liveness/readiness probes.",
)
def resources_and_probes(r: Res, cfg: dict):
    """Containers declare requests and limits (incl. GPU) and liveness/readiness probes."""
    pod, problem = _pod_or_unknown(r)
    if problem:
        yield problem
        return
    for i, c in enumerate(get(pod, "containers") or []):
        path = f"containers[{i}]"
        req = get(c, "resources.requests")
        lim = get(c, "resources.limits")
        if is_unknown(req) or is_unknown(lim):
            yield cannot_verify(f"{path}.resources")
            continue
        req, lim = req or {}, lim or {}
        for k in ("cpu", "memory"):
            if k not in req:
                yield f"{path}: resources.requests.{k} is not set"
        if "memory" not in lim:
            yield f"{path}: resources.limits.memory is not set"
        for g in GPU_KEYS:
            if g in req and g not in lim:
                yield f"{path}: requests {g} without a limit"
        for probe in ("livenessProbe", "readinessProbe"):
            if not has(c, probe):
                yield f"{path}: {probe} is not set"


@_k8s_rule(
    "k8s-image-digest",
    ("K7",),
    severity="medium",
    dev_advisory=True,
    remediation="Reference images by digest (`repo@sha256:…`), not by tag.",
)
@_per_container
def image_digest(r: Res, cfg: dict, pod: Any, path: str, c: Any):
    """Images are pinned by digest."""
    yield from expect(
        c,
        "image",
        lambda image: isinstance(image, str) and "@sha256:" in image,
        lambda image: f"{path}: image {image} is not pinned by digest",
        f"{path}.image",
    )


@rule(
    name="k8s-dedicated-service-account",
    severity="medium",
    controls=("K8",),
    types=(*POD_KINDS, SERVICE_ACCOUNT),
    dev_advisory=True,
    remediation="Create a ServiceAccount per workload, set serviceAccountName, and "
    "automountServiceAccountToken=false (IRSA's projected token does not need it).",
)
def dedicated_sa(r: Res, cfg: dict):
    """Workloads use a dedicated service account and do not auto-mount its API token."""
    no_token = "automountServiceAccountToken is not false"
    if r.type == SERVICE_ACCOUNT:
        yield from expect(r.props, "automountServiceAccountToken", False, no_token)
        return
    pod, problem = _pod_or_unknown(r)
    if problem:
        yield problem
        return
    yield from expect(
        pod,
        "serviceAccountName",
        lambda sa: sa not in (None, "default"),
        "serviceAccountName is the namespace's default service account",
        "spec.template.spec.serviceAccountName",
    )
    yield from expect(
        pod,
        "automountServiceAccountToken",
        False,
        no_token,
        "spec.template.spec.automountServiceAccountToken",
    )


@rule(
    name="k8s-restricted-namespace",
    severity="high",
    controls=("K9",),
    types=(*POD_KINDS, NAMESPACE, SERVICE),
    remediation="Deploy into a dedicated namespace labelled pod-security.kubernetes.io/enforce=restricted.",
)
def restricted_namespace(r: Res, cfg: dict):
    """Workloads are not in the default namespace; namespaces enforce the restricted Pod Security Standard."""
    if r.type == NAMESPACE:
        level = get(r.props, "metadata.labels", {})
        if is_unknown(level):
            yield cannot_verify("metadata.labels")
            return
        enforce = (
            level.get("pod-security.kubernetes.io/enforce") if isinstance(level, dict) else None
        )
        if enforce != "restricted":
            yield f"label pod-security.kubernetes.io/enforce is {enforce or 'not set'}, expected restricted"
        return
    ns = _namespace_of(r)
    if is_unknown(ns):
        yield cannot_verify("metadata.namespace")
    elif ns in (None, "", "default"):
        yield "metadata.namespace is the default namespace"


def _namespace_of(r: Res) -> Any:
    """The object's namespace; without one, the Kubernetes provider's default `namespace`."""
    ns = get(r.props, "metadata.namespace")
    if ns is None and r.provider is not None:
        ns = get(r.provider, "namespace")
    return ns


@rule(
    name="k8s-default-deny-network-policy",
    kind="stack",
    severity="high",
    controls=("K10",),
    remediation="Add a NetworkPolicy with podSelector {} and policyTypes [Ingress, Egress] and no rules "
    "in every namespace that runs a workload; then allow the exact flows.",
)
def default_deny(stack: StackIndex, cfg: dict):
    """Every namespace with a workload has a default-deny NetworkPolicy (ingress and egress)."""
    denies: dict[str, set[str]] = {}
    for np in stack.of_type(NETWORK_POLICY):
        ns = _namespace_of(np)
        spec = get(np.props, "spec")
        if not isinstance(ns, str) or not isinstance(spec, dict):
            continue
        selector = get(spec, "podSelector") or {}
        if get(selector, "matchLabels") or get(selector, "matchExpressions"):
            continue
        for t in get(spec, "policyTypes") or []:
            if not get(spec, t.lower()):
                denies.setdefault(ns, set()).add(t)
    seen: set[str] = set()
    for w in stack.of_type(*POD_KINDS):
        ns = _namespace_of(w)
        if is_unknown(ns):
            yield cannot_verify("metadata.namespace", w.urn)
            continue
        ns = ns or "default"
        if ns in seen:
            continue
        seen.add(ns)
        missing = sorted({"Ingress", "Egress"} - denies.get(ns, set()))
        if missing:
            yield Finding(
                f"namespace {ns} has no default-deny NetworkPolicy for {' and '.join(missing)}",
                w.urn,
            )


@rule(
    name="k8s-service-not-exposed",
    severity="high",
    controls=("K11",),
    types=(SERVICE,),
    remediation="Use a ClusterIP Service; expose through an internal ingress if callers are outside the cluster.",
)
def service_not_exposed(r: Res, cfg: dict):
    """Model Services are ClusterIP (not LoadBalancer or NodePort) and carry no externalIPs."""
    yield from expect(
        r.props,
        "spec.type",
        lambda t: not (isinstance(t, str) and t.lower() in ("loadbalancer", "nodeport")),
        lambda t: f"spec.type is {t}: the model is reachable from outside the cluster",
    )
    # kube-proxy routes traffic for these IPs to the Service on every node (Service.spec.externalIPs)
    yield from expect(
        r.props,
        "spec.externalIPs",
        lambda ips: not ips,
        lambda ips: (
            f"spec.externalIPs {', '.join(map(str, ips))}: the model is reachable from "
            "outside the cluster"
        ),
    )


RULES = [
    run_as_non_root,
    no_privilege,
    read_only_root,
    seccomp,
    no_host_access,
    resources_and_probes,
    image_digest,
    dedicated_sa,
    restricted_namespace,
    default_deny,
    service_not_exposed,
]
