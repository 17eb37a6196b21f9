"""Kubernetes (K1-K11) over every pod-bearing kind and every container, with securityContext inheritance.

Anchors: CKV_K8S_16/20/22/23/28/31/37/40 and the restricted Pod Security Standard — the same pod is
the same risk in a Deployment, a CronJob, a bare Pod or an ephemeral debug container.
"""

from __future__ import annotations

import copy

import pytest

from policies.rules import k8s_pods
from policies.rules import kubernetes as k8s
from policies.rules.base import res

from ..conftest import stack_violations, violations

IMAGE = "111122223333.dkr.ecr.eu-west-2.amazonaws.com/llm@sha256:" + "a" * 64
SC = {
    "allowPrivilegeEscalation": False,
    "privileged": False,
    "readOnlyRootFilesystem": True,
    "capabilities": {"drop": ["ALL"]},
}
POD_SC = {"runAsNonRoot": True, "runAsUser": 10001, "seccompProfile": {"type": "RuntimeDefault"}}


def pod(**container_changes):
    c = {"name": "s", "image": IMAGE, "securityContext": copy.deepcopy(SC), **container_changes}
    return {
        "serviceAccountName": "llm",
        "automountServiceAccountToken": False,
        "securityContext": copy.deepcopy(POD_SC),
        "containers": [c],
    }


def wrap(kind: str, spec: dict) -> dict:
    """Put a pod spec where `kind` carries it."""
    path = k8s_pods.POD_SPEC_PATHS[kind]
    out: dict = {"metadata": {"namespace": "inference"}}
    cur = out
    parts = path.split(".")
    for p in parts[:-1]:
        cur = cur.setdefault(p, {})
    cur[parts[-1]] = spec
    return out


SECURITY_RULES = [
    k8s.run_as_non_root,
    k8s.no_privilege,
    k8s.read_only_root,
    k8s.seccomp,
    k8s.no_host_access,
]
KINDS = [
    "kubernetes:apps/v1:Deployment",
    "kubernetes:apps/v1:StatefulSet",
    "kubernetes:apps/v1:DaemonSet",
    "kubernetes:apps/v1:ReplicaSet",
    "kubernetes:batch/v1:Job",
    "kubernetes:batch/v1:CronJob",
    "kubernetes:core/v1:Pod",
    "kubernetes:core/v1:ReplicationController",
    "kubernetes:core/v1:PodTemplate",
    "kubernetes:extensions/v1beta1:Deployment",
]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("rule", SECURITY_RULES, ids=lambda r: r.name)
def test_compliant_pod_passes_in_every_kind(kind, rule):
    assert violations(rule, kind, wrap(kind, pod()), {"minUid": 10000}) == []


@pytest.mark.parametrize("kind", KINDS)
def test_privileged_is_caught_in_every_kind(kind):
    spec = pod(securityContext={**SC, "privileged": True})
    assert violations(k8s.no_privilege, kind, wrap(kind, spec)) == [
        "containers[0]: privileged is true"
    ]


@pytest.mark.parametrize("key", ["initContainers", "ephemeralContainers"])
def test_init_and_ephemeral_containers_are_containers(key):
    spec = pod()
    spec[key] = [{"name": "debug", "image": IMAGE, "securityContext": {"privileged": True}}]
    got = violations(
        k8s.no_privilege, "kubernetes:core/v1:Pod", wrap("kubernetes:core/v1:Pod", spec)
    )
    assert got == [
        f"{key}[0]: privileged is true",
        f"{key}[0]: allowPrivilegeEscalation is not false",
        f"{key}[0]: capabilities.drop does not include ALL",
    ]


DEPLOY = "kubernetes:apps/v1:Deployment"


class TestInheritance:
    def test_container_overrides_pod_non_root(self):
        spec = pod(securityContext={**SC, "runAsNonRoot": False})
        assert violations(k8s.run_as_non_root, DEPLOY, wrap(DEPLOY, spec), {"minUid": 10000}) == [
            "containers[0]: runAsNonRoot is not true"
        ]

    def test_uid_zero_with_non_root_flag(self):
        spec = pod(securityContext={**SC, "runAsUser": 0})
        assert violations(k8s.run_as_non_root, DEPLOY, wrap(DEPLOY, spec), {"minUid": 10000}) == [
            "containers[0]: runAsUser is 0, minimum 10000"
        ]

    def test_container_uid_overrides_root_pod_uid(self):
        spec = pod(securityContext={**SC, "runAsUser": 20000})
        spec["securityContext"]["runAsUser"] = 0
        assert violations(k8s.run_as_non_root, DEPLOY, wrap(DEPLOY, spec), {"minUid": 10000}) == []

    @pytest.mark.parametrize("profile", ["Unconfined", None])
    def test_container_seccomp_overrides_pod(self, profile):
        spec = pod(
            securityContext={**SC, "seccompProfile": {"type": profile}} if profile else {**SC}
        )
        if profile is None:
            del spec["securityContext"]["seccompProfile"]
        got = violations(k8s.seccomp, DEPLOY, wrap(DEPLOY, spec))
        assert got == [f"containers[0]: seccompProfile is {profile or 'not set'} (Unconfined)"]

    def test_privilege_escalation_unset_means_allowed(self):
        sc = {k: v for k, v in SC.items() if k != "allowPrivilegeEscalation"}
        assert violations(k8s.no_privilege, DEPLOY, wrap(DEPLOY, pod(securityContext=sc))) == [
            "containers[0]: allowPrivilegeEscalation is not false"
        ]


class TestCapabilities:
    def test_lowercase_all_is_not_all(self):
        spec = pod(securityContext={**SC, "capabilities": {"drop": ["all"]}})
        assert violations(k8s.no_privilege, DEPLOY, wrap(DEPLOY, spec)) == [
            "containers[0]: capabilities.drop does not include ALL (found 'all'; the restricted Pod Security "
            "Standard requires 'ALL')"
        ]

    @pytest.mark.parametrize("cap", ["CAP_SYS_ADMIN", "sys_admin", "ALL"])
    def test_added_capabilities_in_any_spelling(self, cap):
        spec = pod(securityContext={**SC, "capabilities": {"drop": ["ALL"], "add": [cap]}})
        assert violations(k8s.no_privilege, DEPLOY, wrap(DEPLOY, spec)) == [
            f"containers[0]: adds capabilities {cap}"
        ]

    @pytest.mark.parametrize(
        "cap", ["NET_BIND_SERVICE", "CAP_NET_BIND_SERVICE", "net_bind_service"]
    )
    def test_net_bind_service_in_any_spelling_passes(self, cap):
        spec = pod(securityContext={**SC, "capabilities": {"drop": ["ALL"], "add": [cap]}})
        assert violations(k8s.no_privilege, DEPLOY, wrap(DEPLOY, spec)) == []


class TestHostAccess:
    def test_persistent_volume_host_path(self):
        pv = {"spec": {"hostPath": {"path": "/var/lib/kubelet"}, "capacity": {"storage": "1Gi"}}}
        assert violations(k8s.no_host_access, k8s_pods.PERSISTENT_VOLUME, pv) == [
            "PersistentVolume mounts hostPath /var/lib/kubelet: any pod that claims it reads the node"
        ]
        assert (
            violations(
                k8s.no_host_access, k8s_pods.PERSISTENT_VOLUME, {"spec": {"csi": {"driver": "ebs"}}}
            )
            == []
        )

    def test_host_port_zero_is_no_host_port(self):
        spec = pod(ports=[{"containerPort": 8080, "hostPort": 0}])
        assert violations(k8s.no_host_access, DEPLOY, wrap(DEPLOY, spec)) == []

    def test_host_port_on_ephemeral_or_init_container(self):
        spec = pod()
        spec["initContainers"] = [
            {"name": "i", "image": IMAGE, "ports": [{"containerPort": 1, "hostPort": 9090}]}
        ]
        assert violations(
            k8s.no_host_access,
            "kubernetes:batch/v1:CronJob",
            wrap("kubernetes:batch/v1:CronJob", spec),
        ) == ["initContainers[0]: binds hostPort 9090"]

    def test_host_namespaces_in_a_bare_pod(self):
        spec = {**pod(), "hostPID": True, "volumes": [{"name": "root", "hostPath": {"path": "/"}}]}
        assert violations(
            k8s.no_host_access, "kubernetes:core/v1:Pod", wrap("kubernetes:core/v1:Pod", spec)
        ) == [
            "hostPID is true",
            "volume root mounts a hostPath",
        ]


class TestPatches:
    PATCH = "kubernetes:apps/v1:DeploymentPatch"

    def test_a_patch_that_sets_nothing_risky_passes(self):
        props = {"metadata": {"name": "llm", "namespace": "inference"}, "spec": {"replicas": 3}}
        for rule in SECURITY_RULES:
            assert violations(rule, self.PATCH, props, {"minUid": 10000}) == [], rule.name

    def test_a_patch_that_sets_privileged_is_caught(self):
        props = {
            "spec": {
                "template": {
                    "spec": {"containers": [{"name": "s", "securityContext": {"privileged": True}}]}
                }
            }
        }
        assert violations(k8s.no_privilege, self.PATCH, props) == [
            "containers[0]: privileged is true"
        ]


class TestExposureAndNamespaces:
    SVC = k8s.SERVICE

    @pytest.mark.parametrize(
        "spec,message",
        [
            (
                {"type": "ClusterIP", "externalIPs": ["203.0.113.10"]},
                "spec.externalIPs 203.0.113.10: the model is reachable from outside the cluster",
            ),
            (
                {"type": "NodePort"},
                "spec.type is NodePort: the model is reachable from outside the cluster",
            ),
        ],
    )
    def test_service_exposure(self, spec, message):
        assert violations(k8s.service_not_exposed, self.SVC, {"spec": spec}) == [message]

    def test_cluster_ip_passes(self):
        assert (
            violations(
                k8s.service_not_exposed,
                self.SVC,
                {"spec": {"type": "ClusterIP", "externalIPs": []}},
            )
            == []
        )

    def test_default_namespace_through_the_provider(self):
        kind = "kubernetes:batch/v1:CronJob"
        props = wrap(kind, pod())
        del props["metadata"]["namespace"]
        assert violations(
            k8s.restricted_namespace, kind, props, provider={"namespace": "default"}
        ) == ["metadata.namespace is the default namespace"]

    def test_default_deny_required_for_a_cronjob_namespace(self):
        kind = "kubernetes:batch/v1:CronJob"
        props = wrap(kind, pod())
        props["metadata"]["namespace"] = "batch"
        assert stack_violations(k8s.default_deny, [res(kind, props, "nightly")]) == [
            ("nightly", "namespace batch has no default-deny NetworkPolicy for Egress and Ingress")
        ]
