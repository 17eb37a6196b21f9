"""Kubernetes (K1-K11) and governance (G1-G4) rules."""

from __future__ import annotations

import pytest

from policies.rules import governance as gov
from policies.rules import kubernetes as k8s
from policies.rules.base import res

from .conftest import DELETE, stack_violations, violations, with_change

DEPLOY = "kubernetes:apps/v1:Deployment"
IMAGE = "111122223333.dkr.ecr.eu-west-2.amazonaws.com/llm@sha256:" + "a" * 64
CONTAINER = {
    "name": "server",
    "image": IMAGE,
    "ports": [{"containerPort": 8080}],
    "securityContext": {
        "allowPrivilegeEscalation": False,
        "privileged": False,
        "readOnlyRootFilesystem": True,
        "capabilities": {"drop": ["ALL"]},
    },
    "resources": {
        "requests": {"cpu": "2", "memory": "8Gi", "nvidia.com/gpu": "1"},
        "limits": {"memory": "8Gi", "nvidia.com/gpu": "1"},
    },
    "livenessProbe": {"httpGet": {"path": "/health", "port": 8080}},
    "readinessProbe": {"httpGet": {"path": "/ready", "port": 8080}},
}
DEPLOY_OK = {
    "metadata": {"name": "llm", "namespace": "inference"},
    "spec": {
        "replicas": 2,
        "template": {
            "spec": {
                "serviceAccountName": "llm",
                "automountServiceAccountToken": False,
                "securityContext": {
                    "runAsNonRoot": True,
                    "runAsUser": 10001,
                    "seccompProfile": {"type": "RuntimeDefault"},
                },
                "containers": [CONTAINER],
            }
        },
    },
}
POD = "spec.template.spec"
C0 = f"{POD}.containers.0"


#: The rules that read a workload's pod spec.
POD_RULES = [
    k8s.run_as_non_root,
    k8s.no_privilege,
    k8s.read_only_root,
    k8s.seccomp,
    k8s.no_host_access,
    k8s.resources_and_probes,
    k8s.image_digest,
    k8s.dedicated_sa,
]


@pytest.mark.parametrize("rule", [*POD_RULES, k8s.restricted_namespace])
def test_hardened_deployment_is_compliant(rule):
    assert violations(rule, DEPLOY, DEPLOY_OK, {"minUid": 10000}) == []


@pytest.mark.parametrize("rule", POD_RULES)
def test_missing_pod_spec(rule):
    assert violations(rule, DEPLOY, {"metadata": {"namespace": "inference"}}) == [
        "spec.template.spec is missing"
    ]


@pytest.mark.parametrize(
    "rule,path,value,message",
    [
        (
            k8s.run_as_non_root,
            f"{POD}.securityContext.runAsNonRoot",
            False,
            "containers[0]: runAsNonRoot is not true",
        ),
        (
            k8s.run_as_non_root,
            f"{POD}.securityContext.runAsUser",
            0,
            "containers[0]: runAsUser is 0, minimum 10000",
        ),
        (
            k8s.no_privilege,
            f"{C0}.securityContext.privileged",
            True,
            "containers[0]: privileged is true",
        ),
        (
            k8s.no_privilege,
            f"{C0}.securityContext.allowPrivilegeEscalation",
            DELETE,
            "containers[0]: allowPrivilegeEscalation is not false",
        ),
        (
            k8s.no_privilege,
            f"{C0}.securityContext.capabilities.drop",
            [],
            "containers[0]: capabilities.drop does not include ALL",
        ),
        (
            k8s.no_privilege,
            f"{C0}.securityContext.capabilities.add",
            ["SYS_ADMIN"],
            "containers[0]: adds capabilities SYS_ADMIN",
        ),
        (
            k8s.read_only_root,
            f"{C0}.securityContext.readOnlyRootFilesystem",
            False,
            "containers[0]: readOnlyRootFilesystem is not true",
        ),
        (
            k8s.seccomp,
            f"{POD}.securityContext.seccompProfile",
            DELETE,
            "containers[0]: seccompProfile is not set (Unconfined)",
        ),
        (k8s.no_host_access, f"{POD}.hostNetwork", True, "hostNetwork is true"),
        (
            k8s.no_host_access,
            f"{POD}.volumes",
            [{"name": "h", "hostPath": {"path": "/"}}],
            "volume h mounts a hostPath",
        ),
        (k8s.no_host_access, f"{C0}.ports.0.hostPort", 80, "containers[0]: binds hostPort 80"),
        (
            k8s.resources_and_probes,
            f"{C0}.resources.limits.nvidia.com/gpu",
            DELETE,
            "containers[0]: requests nvidia.com/gpu without a limit",
        ),
        (
            k8s.resources_and_probes,
            f"{C0}.livenessProbe",
            DELETE,
            "containers[0]: livenessProbe is not set",
        ),
        (
            k8s.resources_and_probes,
            f"{C0}.resources.requests.cpu",
            DELETE,
            "containers[0]: resources.requests.cpu is not set",
        ),
        (
            k8s.image_digest,
            f"{C0}.image",
            "repo/llm:latest",
            "containers[0]: image repo/llm:latest is not pinned by digest",
        ),
        (
            k8s.dedicated_sa,
            f"{POD}.serviceAccountName",
            DELETE,
            "serviceAccountName is the namespace's default service account",
        ),
        (
            k8s.dedicated_sa,
            f"{POD}.automountServiceAccountToken",
            True,
            "automountServiceAccountToken is not false",
        ),
        (
            k8s.restricted_namespace,
            "metadata.namespace",
            "default",
            "metadata.namespace is the default namespace",
        ),
    ],
)
def test_each_violation(rule, path, value, message):
    if "nvidia.com/gpu" in path:  # the key itself contains dots
        props = with_change(DEPLOY_OK, f"{C0}.resources.limits", {"memory": "8Gi"})
    else:
        props = with_change(DEPLOY_OK, path, value)
    assert violations(rule, DEPLOY, props, {"minUid": 10000}) == [message]


class TestNamespaceAndSa:
    def test_namespace_label(self):
        ns = "kubernetes:core/v1:Namespace"
        ok = {
            "metadata": {
                "name": "inference",
                "labels": {"pod-security.kubernetes.io/enforce": "restricted"},
            }
        }
        assert violations(k8s.restricted_namespace, ns, ok) == []
        assert violations(k8s.restricted_namespace, ns, {"metadata": {"name": "inference"}}) == [
            "label pod-security.kubernetes.io/enforce is not set, expected restricted"
        ]

    def test_service_account(self):
        sa = "kubernetes:core/v1:ServiceAccount"
        assert violations(k8s.dedicated_sa, sa, {"automountServiceAccountToken": False}) == []
        assert violations(k8s.dedicated_sa, sa, {}) == ["automountServiceAccountToken is not false"]


class TestDefaultDeny:
    NP = "kubernetes:networking.k8s.io/v1:NetworkPolicy"

    def _deny(self, types):
        return res(
            self.NP,
            {
                "metadata": {"namespace": "inference"},
                "spec": {"podSelector": {}, "policyTypes": types},
            },
            "deny",
        )

    def test_compliant(self):
        stack = [res(DEPLOY, DEPLOY_OK, "llm"), self._deny(["Ingress", "Egress"])]
        assert stack_violations(k8s.default_deny, stack) == []

    def test_missing_egress(self):
        stack = [res(DEPLOY, DEPLOY_OK, "llm"), self._deny(["Ingress"])]
        assert stack_violations(k8s.default_deny, stack) == [
            ("llm", "namespace inference has no default-deny NetworkPolicy for Egress")
        ]

    def test_missing(self):
        assert stack_violations(k8s.default_deny, [res(DEPLOY, DEPLOY_OK, "llm")]) == [
            ("llm", "namespace inference has no default-deny NetworkPolicy for Egress and Ingress")
        ]


class TestService:
    S = "kubernetes:core/v1:Service"

    def test_cluster_ip(self):
        assert violations(k8s.service_not_exposed, self.S, {"spec": {"type": "ClusterIP"}}) == []
        assert violations(k8s.service_not_exposed, self.S, {"spec": {}}) == []

    @pytest.mark.parametrize("t", ["LoadBalancer", "NodePort"])
    def test_exposed(self, t):
        assert violations(k8s.service_not_exposed, self.S, {"spec": {"type": t}}) == [
            f"spec.type is {t}: the model is reachable from outside the cluster"
        ]


TAGS = {
    "owner": "team@x",
    "environment": "prod",
    "data-classification": "confidential",
    "cost-center": "cc-1",
}


class TestTags:
    CFG = {"requiredTags": list(TAGS)}

    def test_compliant(self):
        assert violations(gov.required_tags, "aws:s3/bucket:Bucket", {"tags": TAGS}, self.CFG) == []

    def test_missing_one(self):
        tags = {k: v for k, v in TAGS.items() if k != "cost-center"}
        assert violations(gov.required_tags, "aws:s3/bucket:Bucket", {"tags": tags}, self.CFG) == [
            "missing required tag(s): cost-center"
        ]

    def test_missing_all(self):
        assert violations(gov.required_tags, "aws:kms/key:Key", {}, self.CFG) == [
            "missing required tag(s): owner, environment, data-classification, cost-center"
        ]

    def test_provider_default_tags_count(self):
        got = violations(
            gov.required_tags,
            "aws:kms/key:Key",
            {},
            self.CFG,
            provider={"defaultTags": {"tags": TAGS}},
        )
        assert got == []

    def test_untaggable_types_skipped(self):
        assert violations(gov.required_tags, "aws:s3/bucketPolicy:BucketPolicy", {}, self.CFG) == []


class TestModelRegistry:
    M = "aws:sagemaker/model:Model"
    PKG = "arn:aws:sagemaker:eu-west-2:111122223333:model-package/credit-risk/3"

    def test_compliant(self):
        assert (
            violations(
                gov.model_from_registry,
                self.M,
                {"primaryContainer": {"modelPackageName": self.PKG}},
            )
            == []
        )

    def test_image_only(self):
        assert violations(
            gov.model_from_registry, self.M, {"primaryContainer": {"image": IMAGE}}
        ) == [
            "primaryContainer.modelPackageName is not set: the model bypasses the registry and its approval gate"
        ]

    def test_unversioned_group(self):
        pkg = "arn:aws:sagemaker:eu-west-2:111122223333:model-package-group/credit-risk"
        assert violations(
            gov.model_from_registry, self.M, {"primaryContainer": {"modelPackageName": pkg}}
        ) == [f"primaryContainer.modelPackageName {pkg} is not a versioned model-package ARN"]

    def test_missing(self):
        assert violations(gov.model_from_registry, self.M, {}) == [
            "no container: the model has no registry package"
        ]


class TestDescriptions:
    def test_compliant(self):
        assert (
            violations(gov.descriptions_present, "aws:kms/key:Key", {"description": "model data"})
            == []
        )

    @pytest.mark.parametrize("props", [{}, {"description": "Managed by Pulumi"}])
    def test_missing_or_default(self, props):
        assert violations(
            gov.descriptions_present, "aws:ec2/securityGroup:SecurityGroup", props
        ) == ["description is missing or the tool default"]


class TestEcr:
    R = "aws:ecr/repository:Repository"
    OK = {
        "imageScanningConfiguration": {"scanOnPush": True},
        "imageTagMutability": "IMMUTABLE",
        "encryptionConfigurations": [{"encryptionType": "KMS", "kmsKey": "arn:k"}],
    }

    def test_compliant(self):
        assert violations(gov.ecr_hardened, self.R, self.OK) == []

    @pytest.mark.parametrize(
        "path,value,message",
        [
            (
                "imageScanningConfiguration.scanOnPush",
                False,
                "imageScanningConfiguration.scanOnPush is not true",
            ),
            ("imageTagMutability", "MUTABLE", "imageTagMutability is MUTABLE"),
            (
                "encryptionConfigurations.0.encryptionType",
                "AES256",
                "encryptionConfigurations does not use KMS with a customer-managed key",
            ),
        ],
    )
    def test_each_property(self, path, value, message):
        assert violations(gov.ecr_hardened, self.R, with_change(self.OK, path, value)) == [message]

    def test_missing(self):
        assert violations(gov.ecr_hardened, self.R, {}) == [
            "imageScanningConfiguration.scanOnPush is not true",
            "imageTagMutability is MUTABLE (default)",
            "encryptionConfigurations does not use KMS with a customer-managed key",
        ]


def test_namespace_from_the_kubernetes_provider():
    props = with_change(DEPLOY_OK, "metadata.namespace", DELETE)
    assert (
        violations(k8s.restricted_namespace, DEPLOY, props, provider={"namespace": "inference"})
        == []
    )
    assert violations(k8s.restricted_namespace, DEPLOY, props) == [
        "metadata.namespace is the default namespace"
    ]
