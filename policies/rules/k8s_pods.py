"""Every Kubernetes kind that carries a pod, and where its pod spec and containers are.

One place for "which resources run containers" so every Kubernetes rule (K1-K9) and the image
residency rule (R7) judge the same set: a control written for Deployments is evaded by the same
pod in a StatefulSet, a CronJob or a bare Pod. Kinds and versions are those pulumi_kubernetes
ships (`pulumi_kubernetes/{apps,batch,core,extensions}/*`), including their server-side-apply
`*Patch` variants, which may set only some fields: for them a field that is absent is left as
it is on the cluster, so rules report only what a patch sets, never what it omits.

Pod spec paths (Kubernetes API reference): workload controllers `spec.template.spec`,
CronJob `spec.jobTemplate.spec.template.spec`, Pod `spec`, PodTemplate `template.spec`.
Containers: `containers`, `initContainers` and `ephemeralContainers` (all run in the pod's
namespaces with their own securityContext).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from .base import Res, get, is_unknown

_TEMPLATE = "spec.template.spec"
_KINDS: dict[str, tuple[tuple[str, ...], str]] = {
    "Deployment": (("apps/v1", "apps/v1beta1", "apps/v1beta2", "extensions/v1beta1"), _TEMPLATE),
    "StatefulSet": (("apps/v1", "apps/v1beta1", "apps/v1beta2"), _TEMPLATE),
    "DaemonSet": (("apps/v1", "apps/v1beta2", "extensions/v1beta1"), _TEMPLATE),
    "ReplicaSet": (("apps/v1", "apps/v1beta2", "extensions/v1beta1"), _TEMPLATE),
    "ReplicationController": (("core/v1",), _TEMPLATE),
    "Job": (("batch/v1",), _TEMPLATE),
    "CronJob": (
        ("batch/v1", "batch/v1beta1", "batch/v2alpha1"),
        "spec.jobTemplate.spec.template.spec",
    ),
    "Pod": (("core/v1",), "spec"),
    "PodTemplate": (("core/v1",), "template.spec"),
}
#: type token -> path of the pod spec
POD_SPEC_PATHS: dict[str, str] = {
    f"kubernetes:{version}:{kind}{suffix}": path
    for kind, (versions, path) in _KINDS.items()
    for version in versions
    for suffix in ("", "Patch")
}
POD_KINDS: tuple[str, ...] = tuple(sorted(POD_SPEC_PATHS))
#: long-running kinds (probes make sense; K6)
SERVING_KINDS: tuple[str, ...] = tuple(
    t
    for t in POD_KINDS
    if t.split(":")[-1].removesuffix("Patch") not in ("Job", "CronJob", "PodTemplate")
)
CONTAINER_KEYS = ("initContainers", "containers", "ephemeralContainers")
PERSISTENT_VOLUME = "kubernetes:core/v1:PersistentVolume"
PERSISTENT_VOLUME_KINDS = (PERSISTENT_VOLUME, PERSISTENT_VOLUME + "Patch")


def is_patch(r: Res) -> bool:
    return r.type.endswith("Patch")


def pod_path(r: Res) -> str:
    return POD_SPEC_PATHS.get(r.type, _TEMPLATE)


def pod_spec(r: Res) -> Any:
    return get(r.props, pod_path(r))


def containers(pod: Any, keys: tuple[str, ...] = CONTAINER_KEYS) -> Iterator[tuple[str, Any]]:
    """(label, container) for every container of a pod spec, init and ephemeral included."""
    for key in keys:
        cs = get(pod, key)
        if is_unknown(cs):
            yield key, cs
            continue
        for i, c in enumerate(cs if isinstance(cs, list) else []):
            yield f"{key}[{i}]", c
