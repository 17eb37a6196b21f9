"""SelfHostedInference: every hardening property asserted on the registered inputs,
and every registered Kubernetes object validated against the Kubernetes 1.37 schema."""

from __future__ import annotations

import copy
import json
import socket
from typing import Any

import kubernetes_validate
import pytest

from regulated_inference.components.self_hosted_inference import (
    Canary,
    ContainerResources,
    Irsa,
    Loader,
    ModelTrack,
    Probe,
    Probes,
    SelfHostedInference,
)
from regulated_inference.lib import aws as aws_facts
from regulated_inference.lib import kubernetes as k8s
from regulated_inference.lib.errors import ComponentArgsError
from regulated_inference.simulation.engine import Recording
from tests.components.helpers import wire_ints
from tests.conftest import run_component

KUBERNETES_VERSION = "1.37.0"
REGION = "eu-west-2"
ACCT = "111122223333"
ECR = f"{ACCT}.dkr.ecr.{REGION}.amazonaws.com"
STABLE_IMAGE = f"{ECR}/credit-risk@sha256:{'a' * 64}"
CANARY_IMAGE = f"{ECR}/credit-risk@sha256:{'b' * 64}"
LOADER_IMAGE = f"{ECR}/model-loader@sha256:{'c' * 64}"
ISSUER = "oidc.eks.eu-west-2.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE"
OIDC_ARN = f"arn:aws:iam::{ACCT}:oidc-provider/{ISSUER}"
BUCKET_ARN = "arn:aws:s3:::regulated-inference-models-abc1234"
DATA_KEY = f"arn:aws:kms:{REGION}:{ACCT}:key/0b0c7f2e-1111-2222-3333-444455556666"


def track(version: str, image: str, prefix: str) -> ModelTrack:
    return ModelTrack(version=version, image=image, artifact_prefix=prefix)


def canary_of(spec: ModelTrack, weight: int) -> Canary:
    return Canary(track=spec, weight=weight)


def resources_of(
    cpu_request: str, cpu_limit: str, memory_request: str, memory_limit: str, gpu: int = 0
) -> ContainerResources:
    return ContainerResources(
        cpu_request=cpu_request,
        cpu_limit=cpu_limit,
        memory_request=memory_request,
        memory_limit=memory_limit,
        gpu=gpu,
    )


DEPLOYMENT = "kubernetes:apps/v1:Deployment"
NAMESPACE = "kubernetes:core/v1:Namespace"
SERVICE = "kubernetes:core/v1:Service"
SERVICE_ACCOUNT = "kubernetes:core/v1:ServiceAccount"
NETWORK_POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
HPA = "kubernetes:autoscaling/v2:HorizontalPodAutoscaler"
PDB = "kubernetes:policy/v1:PodDisruptionBudget"


def make_args(**overrides: Any) -> dict[str, Any]:
    """A compliant configuration: GPU model, canary at 10 % of 10 pods, loader init container."""
    args: dict[str, Any] = {
        "model_name": "credit-risk",
        "namespace": "credit-risk",
        "stable": track("1.4.0", STABLE_IMAGE, "credit-risk/1.4.0"),
        "canary": canary_of(track("1.5.0", CANARY_IMAGE, "credit-risk/1.5.0"), 10),
        "aws": aws_facts.context(REGION, ACCT),
        "irsa": Irsa(oidc_provider_arn=OIDC_ARN, issuer=ISSUER),
        "artifact_bucket_arn": BUCKET_ARN,
        "data_key_arn": DATA_KEY,
        "replicas_min": 10,
        "replicas_max": 20,
        "resources": resources_of("2", "4", "16Gi", "16Gi", gpu=1),
        "port": 8080,
        "probes": Probes(
            liveness=Probe(path="/ping"), readiness=Probe(path="/ready"), startup_seconds=600
        ),
        "gateway_namespace": "inference-gateway",
        "vpc_endpoints_cidr": "10.40.0.0/20",
        "loader": Loader(image=LOADER_IMAGE, storage="30Gi"),
    }
    args.update(overrides)
    # None: the optional arg is left out (canary, loader).
    return {k: v for k, v in args.items() if v is not None}


def run(args: dict[str, Any]) -> Recording:
    return run_component(lambda: SelfHostedInference("credit-risk", args))


@pytest.fixture(scope="module")
def rec() -> Recording:
    return run(make_args())


@pytest.fixture(scope="module")
def rec_plain() -> Recording:
    """No canary, no loader, no GPU: the server container downloads the model itself."""
    return run(
        make_args(
            canary=None,
            loader=None,
            replicas_min=2,
            replicas_max=4,
            resources=resources_of("1", "2", "4Gi", "4Gi"),
        )
    )


# -- manifests ----------------------------------------------------------------------


def manifests(rec: Recording) -> list[dict[str, Any]]:
    return [
        wire_ints(k8s.to_manifest(r.type, r.inputs))
        for r in rec.resources
        if r.custom and r.type.startswith("kubernetes:")
    ]


def deployments(rec: Recording) -> dict[str, dict[str, Any]]:
    return {r.name.rsplit("-", 1)[1]: wire_ints(r.inputs) for r in rec.of_type(DEPLOYMENT)}


def pod(deployment: dict[str, Any]) -> dict[str, Any]:
    return deployment["spec"]["template"]["spec"]


def containers(deployment: dict[str, Any]) -> list[dict[str, Any]]:
    spec = pod(deployment)
    return [*spec.get("initContainers", []), *spec["containers"]]


def container(deployment: dict[str, Any], name: str) -> dict[str, Any]:
    return next(c for c in containers(deployment) if c["name"] == name)


def env(c: dict[str, Any]) -> dict[str, Any]:
    return {e["name"]: e.get("value") for e in c.get("env", [])}


# -- schema -------------------------------------------------------------------------


@pytest.mark.parametrize("fixture", ["rec", "rec_plain"])
def test_every_object_validates_against_the_kubernetes_schema(fixture, request):
    objs = manifests(request.getfixturevalue(fixture))
    kinds = sorted({o["kind"] for o in objs})
    assert kinds == [
        "Deployment",
        "HorizontalPodAutoscaler",
        "Namespace",
        "NetworkPolicy",
        "PodDisruptionBudget",
        "Service",
        "ServiceAccount",
    ]
    for obj in objs:
        # strict: unknown fields (a misspelt securityContext key, say) are errors too
        kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)


def test_api_version_and_kind_come_from_the_type_token(rec):
    for r in rec.resources:
        if r.type.startswith("kubernetes:") and r.custom:
            api_version, kind = k8s.api_version_kind(r.type)
            assert (r.inputs["apiVersion"], r.inputs["kind"]) == (api_version, kind)
    assert k8s.api_version_kind(NETWORK_POLICY) == ("networking.k8s.io/v1", "NetworkPolicy")
    assert k8s.api_version_kind(SERVICE) == ("v1", "Service")


def test_schema_validation_can_fail(rec):
    deployment = k8s.to_manifest(
        DEPLOYMENT, wire_ints(rec.one(DEPLOYMENT, "credit-risk-stable").inputs)
    )
    pod(deployment)["containers"][0]["securityContext"]["runAsNonroot"] = True  # misspelt
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSION, strict=True)
    service = k8s.to_manifest(SERVICE, wire_ints(rec.one(SERVICE).inputs))
    service["spec"]["ports"][0]["port"] = "eighty"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(service, KUBERNETES_VERSION, strict=True)


def test_schema_validation_works_offline(rec, monkeypatch):
    def no_network(*args, **kwargs):
        raise AssertionError("kubernetes-validate tried to reach the network")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.setattr(socket, "getaddrinfo", no_network)
    for obj in manifests(rec):
        kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)


# -- namespace, service account, IRSA -----------------------------------------------------


def test_namespace_enforces_the_restricted_pod_security_standard(rec):
    ns = rec.one(NAMESPACE).inputs
    assert ns["metadata"]["name"] == "credit-risk"
    labels = ns["metadata"]["labels"]
    for mode in ("enforce", "audit", "warn"):
        assert labels[f"pod-security.kubernetes.io/{mode}"] == "restricted"


def test_every_namespaced_object_is_in_the_model_namespace(rec):
    for r in rec.resources:
        if r.type.startswith("kubernetes:") and r.custom and r.type != NAMESPACE:
            assert r.inputs["metadata"]["namespace"] == "credit-risk", r.name


def test_service_account_is_dedicated_annotated_and_does_not_automount(rec):
    sa = rec.one(SERVICE_ACCOUNT).inputs
    role = rec.one("aws:iam/role:Role", "credit-risk-irsa-role")
    assert sa["automountServiceAccountToken"] is False
    assert sa["metadata"]["name"] == "credit-risk"
    assert sa["metadata"]["annotations"]["eks.amazonaws.com/role-arn"] == role.outputs["arn"]
    for d in deployments(rec).values():
        assert pod(d)["serviceAccountName"] == "credit-risk"


def test_irsa_trust_is_limited_to_this_service_account(rec):
    trust = json.loads(
        rec.one("aws:iam/role:Role", "credit-risk-irsa-role").inputs["assumeRolePolicy"]
    )
    (stmt,) = trust["Statement"]
    assert stmt["Principal"] == {"Federated": OIDC_ARN}
    assert stmt["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert stmt["Condition"] == {
        "StringEquals": {
            f"{ISSUER}:sub": "system:serviceaccount:credit-risk:credit-risk",
            f"{ISSUER}:aud": "sts.amazonaws.com",
        }
    }


def test_irsa_role_reads_only_the_deployed_versions_and_uses_only_the_data_key(rec):
    doc = json.loads(rec.one("aws:iam/rolePolicy:RolePolicy").inputs["policy"])
    by_action = {
        (tuple(s["Action"]) if isinstance(s["Action"], list) else (s["Action"],)): s
        for s in doc["Statement"]
    }
    reads = [s for s in doc["Statement"] if "s3:GetObject" in s["Action"]]
    assert sorted(s["Resource"] for s in reads) == [
        f"{BUCKET_ARN}/credit-risk/1.4.0/*",
        f"{BUCKET_ARN}/credit-risk/1.5.0/*",
    ]
    lists = [s for s in doc["Statement"] if s["Action"] == "s3:ListBucket"]
    assert {s["Resource"] for s in lists} == {BUCKET_ARN}
    (key,) = [s for s in doc["Statement"] if "kms:Decrypt" in s["Action"]]
    assert key["Resource"] == DATA_KEY
    assert key["Condition"] == {"StringEquals": {"kms:ViaService": f"s3.{REGION}.amazonaws.com"}}
    actions = {
        a
        for s in doc["Statement"]
        for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
    }
    assert actions == {
        "s3:GetObject",
        "s3:GetObjectVersion",
        "s3:ListBucket",
        "kms:Decrypt",
        "kms:DescribeKey",
    }
    assert by_action  # statements exist
    assert all("*" != s["Resource"] for s in doc["Statement"])


# -- deployments: K1–K7 -------------------------------------------------------------------


@pytest.mark.parametrize("track", ["stable", "canary"])
def test_pods_run_as_non_root_with_a_high_uid(rec, track):
    d = deployments(rec)[track]
    assert pod(d)["securityContext"]["runAsNonRoot"] is True
    assert pod(d)["securityContext"]["runAsUser"] >= 10000
    for c in containers(d):
        assert c["securityContext"]["runAsNonRoot"] is True, c["name"]
        assert c["securityContext"]["runAsUser"] >= 10000, c["name"]


@pytest.mark.parametrize("track", ["stable", "canary"])
def test_containers_cannot_escalate_and_drop_all_capabilities(rec, track):
    for c in containers(deployments(rec)[track]):
        sc = c["securityContext"]
        assert sc["allowPrivilegeEscalation"] is False, c["name"]
        assert sc["privileged"] is False, c["name"]
        assert sc["capabilities"] == {"drop": ["ALL"]}, c["name"]


@pytest.mark.parametrize("track", ["stable", "canary"])
def test_root_filesystem_is_read_only_with_emptydir_scratch(rec, track):
    d = deployments(rec)[track]
    volumes = {v["name"]: v for v in pod(d)["volumes"]}
    assert volumes["tmp"]["emptyDir"]["sizeLimit"] == "1Gi"
    for c in containers(d):
        assert c["securityContext"]["readOnlyRootFilesystem"] is True, c["name"]
        assert {"name": "tmp", "mountPath": "/tmp"} in c["volumeMounts"], c["name"]


@pytest.mark.parametrize("track", ["stable", "canary"])
def test_seccomp_runtime_default(rec, track):
    d = deployments(rec)[track]
    assert pod(d)["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    for c in containers(d):
        assert c["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}, c["name"]


@pytest.mark.parametrize("track", ["stable", "canary"])
def test_no_host_namespaces_ports_or_paths(rec, track):
    spec = pod(deployments(rec)[track])
    assert (spec["hostNetwork"], spec["hostPID"], spec["hostIPC"]) == (False, False, False)
    assert all("hostPath" not in v for v in spec["volumes"])
    for v in spec["volumes"]:
        assert set(v) - {"name"} <= {"emptyDir", "projected"}, v
    for c in containers(deployments(rec)[track]):
        assert all("hostPort" not in p for p in c.get("ports", [])), c["name"]


@pytest.mark.parametrize("track", ["stable", "canary"])
def test_requests_and_limits_including_gpu(rec, track):
    for c in containers(deployments(rec)[track]):
        for kind in ("requests", "limits"):
            assert {"cpu", "memory"} <= set(c["resources"][kind]), (c["name"], kind)
    server = container(deployments(rec)[track], "model-server")
    assert server["resources"] == {
        "requests": {"cpu": "2", "memory": "16Gi", "nvidia.com/gpu": "1"},
        "limits": {"cpu": "4", "memory": "16Gi", "nvidia.com/gpu": "1"},
    }
    assert pod(deployments(rec)[track])["tolerations"] == [
        {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}
    ]


def test_no_gpu_resource_or_toleration_without_gpus(rec_plain):
    d = deployments(rec_plain)["stable"]
    server = container(d, "model-server")
    assert "nvidia.com/gpu" not in server["resources"]["limits"]
    assert "tolerations" not in pod(d)


@pytest.mark.parametrize("track", ["stable", "canary"])
def test_startup_liveness_and_readiness_probes(rec, track):
    server = container(deployments(rec)[track], "model-server")
    assert server["livenessProbe"]["httpGet"] == {"path": "/ping", "port": "http", "scheme": "HTTP"}
    assert server["readinessProbe"]["httpGet"] == {
        "path": "/ready",
        "port": "http",
        "scheme": "HTTP",
    }
    # 600 s start-up budget at the liveness period (10 s): liveness never kills a loading pod
    assert (
        server["startupProbe"]["failureThreshold"] * server["startupProbe"]["periodSeconds"] == 600
    )


@pytest.mark.parametrize("track,image", [("stable", STABLE_IMAGE), ("canary", CANARY_IMAGE)])
def test_images_are_pinned_by_digest(rec, track, image):
    d = deployments(rec)[track]
    assert container(d, "model-server")["image"] == image
    for c in containers(d):
        assert "@sha256:" in c["image"] and c["image"].startswith(ECR), c["name"]


@pytest.mark.parametrize("track", ["stable", "canary"])
def test_spread_across_zones(rec, track):
    constraints = pod(deployments(rec)[track])["topologySpreadConstraints"]
    zone = next(c for c in constraints if c["topologyKey"] == "topology.kubernetes.io/zone")
    assert zone["maxSkew"] == 1
    assert zone["whenUnsatisfiable"] == "DoNotSchedule"
    assert zone["labelSelector"]["matchLabels"] == {
        "regulated-inference/model": "credit-risk",
        "regulated-inference/track": track,
    }


# -- K8: token only where needed -----------------------------------------------------------


@pytest.mark.parametrize("track", ["stable", "canary"])
def test_no_api_token_and_the_sts_token_only_in_the_loader(rec, track):
    d = deployments(rec)[track]
    spec = pod(d)
    assert spec["automountServiceAccountToken"] is False
    token = next(v for v in spec["volumes"] if v["name"] == "aws-iam-token")
    assert token["projected"]["sources"] == [
        {
            "serviceAccountToken": {
                "audience": "sts.amazonaws.com",
                "expirationSeconds": 3600,
                "path": "token",
            }
        }
    ]
    loader = container(d, "fetch-model")
    server = container(d, "model-server")
    assert any(m["name"] == "aws-iam-token" for m in loader["volumeMounts"])
    assert env(loader)["AWS_WEB_IDENTITY_TOKEN_FILE"] == k8s.IRSA_TOKEN_FILE
    assert all(m["name"] != "aws-iam-token" for m in server["volumeMounts"])
    assert not [k for k in env(server) if k.startswith("AWS_")]
    # the EKS pod identity webhook must not add credentials to the server either
    assert d["spec"]["template"]["metadata"]["annotations"] == {
        "eks.amazonaws.com/skip-containers": "model-server"
    }
    assert {"name": "model", "mountPath": "/models", "readOnly": True} in server["volumeMounts"]


def test_without_a_loader_the_server_gets_the_sts_token(rec_plain):
    d = deployments(rec_plain)["stable"]
    server = container(d, "model-server")
    assert "initContainers" not in pod(d)
    assert {
        "name": "aws-iam-token",
        "mountPath": "/var/run/secrets/eks.amazonaws.com/serviceaccount",
        "readOnly": True,
    } in server["volumeMounts"]
    assert env(server)["AWS_ROLE_ARN"].startswith("arn:aws:iam::")
    assert env(server)["AWS_STS_REGIONAL_ENDPOINTS"] == "regional"
    assert env(server)["MODEL_URI"] == "s3://regulated-inference-models-abc1234/credit-risk/1.4.0/"
    assert pod(d)["automountServiceAccountToken"] is False


# -- service, network policies ---------------------------------------------------------------


def test_service_is_cluster_ip_and_selects_both_tracks(rec):
    svc = rec.one(SERVICE).inputs
    assert svc["spec"]["type"] == "ClusterIP"
    assert svc["spec"]["selector"] == {"regulated-inference/model": "credit-risk"}
    assert wire_ints(svc["spec"]["ports"]) == [
        {"name": "http", "port": 8080, "targetPort": "http", "protocol": "TCP"}
    ]
    for d in deployments(rec).values():
        assert (
            svc["spec"]["selector"].items() <= d["spec"]["template"]["metadata"]["labels"].items()
        )


def _policies(rec: Recording) -> dict[str, dict[str, Any]]:
    return {
        r.name.removeprefix("credit-risk-"): wire_ints(r.inputs)["spec"]
        for r in rec.of_type(NETWORK_POLICY)
    }


def test_default_deny_ingress_and_egress(rec):
    deny = _policies(rec)["default-deny"]
    assert deny == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}


def test_ingress_only_from_the_gateway_namespace_on_the_model_port(rec):
    policies = _policies(rec)
    ingress = [(n, r) for n, p in policies.items() for r in p.get("ingress", [])]
    assert ingress == [
        (
            "allow-gateway",
            {
                "from": [
                    {
                        "namespaceSelector": {
                            "matchLabels": {"kubernetes.io/metadata.name": "inference-gateway"}
                        }
                    }
                ],
                "ports": [{"protocol": "TCP", "port": 8080}],
            },
        )
    ]


def test_egress_only_to_dns_and_the_vpc_endpoints(rec):
    policies = _policies(rec)
    egress = sorted(
        (
            (n, json.dumps(r, sort_keys=True))
            for n, p in policies.items()
            for r in p.get("egress", [])
        )
    )
    assert [json.loads(r) for _, r in egress] == [
        {
            "to": [{"ipBlock": {"cidr": "10.40.0.0/20"}}],
            "ports": [{"protocol": "TCP", "port": 443}],
        },
        {
            "to": [
                {
                    "namespaceSelector": {
                        "matchLabels": {"kubernetes.io/metadata.name": "kube-system"}
                    },
                    "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
                }
            ],
            "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}],
        },
    ]


def test_deployments_wait_for_the_network_policies_and_the_role_permissions(rec):
    needed = {r.urn for r in rec.of_type(NETWORK_POLICY)}
    needed.add(rec.one("aws:iam/rolePolicy:RolePolicy").urn)
    for r in rec.of_type(DEPLOYMENT):
        assert needed <= set(r.dependencies), r.name


def test_s3_gateway_cidrs_are_added_to_the_endpoint_egress():
    rec = run(make_args(s3_gateway_cidrs=["52.95.148.0/23", "3.5.244.0/22"]))
    spec = _policies(rec)["allow-aws-endpoints"]
    assert spec["egress"][0]["to"] == [
        {"ipBlock": {"cidr": "10.40.0.0/20"}},
        {"ipBlock": {"cidr": "52.95.148.0/23"}},
        {"ipBlock": {"cidr": "3.5.244.0/22"}},
    ]
    assert spec["egress"][0]["ports"] == [{"protocol": "TCP", "port": 443}]


# -- canary, HPA, PDB, versions -----------------------------------------------------------------


def test_two_versions_with_version_labels_and_stable_selectors(rec):
    ds = deployments(rec)
    assert set(ds) == {"stable", "canary"}
    for track, version in (("stable", "1.4.0"), ("canary", "1.5.0")):
        d = ds[track]
        labels = d["spec"]["template"]["metadata"]["labels"]
        assert labels["app.kubernetes.io/version"] == version
        assert d["metadata"]["labels"]["app.kubernetes.io/version"] == version
        assert env(container(d, "model-server"))["MODEL_VERSION"] == version
        # selectors are immutable: the version is never part of them
        assert d["spec"]["selector"]["matchLabels"] == {
            "regulated-inference/model": "credit-risk",
            "regulated-inference/track": track,
        }
    assert ds["stable"]["metadata"]["name"] == "credit-risk"
    assert ds["canary"]["metadata"]["name"] == "credit-risk-canary"


def test_replica_ratio_split_and_autoscalers(rec):
    hpas = {r.name: wire_ints(r.inputs)["spec"] for r in rec.of_type(HPA)}
    stable, canary = hpas["credit-risk-stable-hpa"], hpas["credit-risk-canary-hpa"]
    # 10 % of 10 pods = 1 canary pod; 10 % of 20 = 2
    assert (stable["minReplicas"], stable["maxReplicas"]) == (9, 18)
    assert (canary["minReplicas"], canary["maxReplicas"]) == (1, 2)
    assert stable["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": "credit-risk",
    }
    assert canary["scaleTargetRef"]["name"] == "credit-risk-canary"
    for spec in (stable, canary):
        assert spec["metrics"][0]["resource"]["target"] == {
            "type": "Utilization",
            "averageUtilization": 70,
        }
    # the HPA owns the replica count: the Deployments do not declare one
    assert all("replicas" not in d["spec"] for d in deployments(rec).values())


def test_pulumi_waits_as_long_as_the_rollout_may_take(rec):
    for d in deployments(rec).values():
        deadline = d["spec"]["progressDeadlineSeconds"]
        assert deadline == 600 + 300  # start-up budget + 5 minutes
        assert int(d["metadata"]["annotations"]["pulumi.com/timeoutSeconds"]) > deadline


def test_pod_disruption_budget_covers_both_tracks(rec):
    pdb = wire_ints(rec.one(PDB).inputs)["spec"]
    assert pdb["selector"] == {"matchLabels": {"regulated-inference/model": "credit-risk"}}
    assert pdb["maxUnavailable"] == 1


def test_outputs_record_versions_and_the_effective_weight(rec):
    comp = rec.one("regulated-inference:index:SelfHostedInference")
    out = comp.outputs
    assert out["stableVersion"] == "1.4.0"
    assert out["canaryVersion"] == "1.5.0"
    assert out["canaryWeight"] == 10
    assert out["canaryEffectiveWeight"] == 10.0
    assert wire_ints(out["replicas"]) == {
        "stable": {"min": 9, "max": 18},
        "canary": {"min": 1, "max": 2},
    }
    assert out["serviceUrl"] == "http://credit-risk.credit-risk.svc.cluster.local:8080"
    assert out["namespace"] == "credit-risk"


def test_without_canary_only_the_stable_track_exists(rec_plain):
    assert [r.name for r in rec_plain.of_type(DEPLOYMENT)] == ["credit-risk-stable"]
    (hpa,) = rec_plain.of_type(HPA)
    assert (
        wire_ints(hpa.inputs)["spec"]["minReplicas"],
        wire_ints(hpa.inputs)["spec"]["maxReplicas"],
    ) == (
        2,
        4,
    )
    out = rec_plain.one("regulated-inference:index:SelfHostedInference").outputs
    assert out.get("canaryVersion") is None  # None outputs are not sent to the engine
    assert out["canaryWeight"] == 0
    doc = json.loads(rec_plain.one("aws:iam/rolePolicy:RolePolicy").inputs["policy"])
    reads = [s["Resource"] for s in doc["Statement"] if "s3:GetObject" in s["Action"]]
    assert reads == [f"{BUCKET_ARN}/credit-risk/1.4.0/*"]  # rollback also revokes the canary's read


def test_children_are_parented_and_named_after_the_component(rec):
    comp = rec.one("regulated-inference:index:SelfHostedInference")
    for r in rec.resources:
        if r.type.startswith("kubernetes:") and r.custom:
            assert r.parent == comp.urn, r.name
            assert r.name.startswith("credit-risk-"), r.name


# -- pure helpers -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "total,weight,expected",
    [
        (10, 10, (9, 1)),
        (20, 10, (18, 2)),
        (4, 25, (3, 1)),
        (5, 10, (4, 1)),
        (3, 50, (1, 2)),
        (2, 50, (1, 1)),
        (7, 0, (7, 0)),
    ],
)
def test_split_replicas(total, weight, expected):
    assert k8s.split_replicas(total, weight) == expected


def test_canary_split_refuses_coarse_granularity():
    with pytest.raises(ValueError, match="raise replicas.min to ≥ 5"):
        k8s.check_canary_split(2, 10)  # 1 of 2 pods = 50 %, not 10 %
    k8s.check_canary_split(5, 10)  # 1 of 5 = 20 %: within 2×


@pytest.mark.parametrize(
    "quantity,value",
    [("500m", "0.5"), ("2", "2"), ("8Gi", str(8 * 2**30)), ("1.5G", "1500000000")],
)
def test_parse_quantity(quantity, value):
    from decimal import Decimal

    assert k8s.parse_quantity(quantity) == Decimal(value)


# -- refusals: ComponentArgsError before any resource -----------------------------------------


def _refused(args: dict[str, Any]) -> tuple[ComponentArgsError, Recording]:
    caught: list[ComponentArgsError] = []

    def program() -> None:
        try:
            SelfHostedInference("credit-risk", args)
        except ComponentArgsError as exc:
            caught.append(exc)

    rec = run_component(program)
    assert caught, "expected a ComponentArgsError"
    return caught[0], rec


@pytest.mark.parametrize(
    "override,arg",
    [
        ({"namespace": "default"}, "namespace"),
        ({"namespace": "kube-system"}, "namespace"),
        (
            {"stable": track("1.4.0", f"{ECR}/credit-risk:latest", "credit-risk/1.4.0")},
            "stable.image",
        ),
        (
            {"stable": track("1.4.0", f"docker.io/library/model@sha256:{'a' * 64}", "x/1")},
            "stable.image",
        ),
        (
            {"stable": track("1.4.0", STABLE_IMAGE.replace("eu-west-2", "us-east-1"), "x/1")},
            "stable.image",
        ),
        ({"stable": track("1.4.0+build", STABLE_IMAGE, "credit-risk/1")}, "stable.version"),
        ({"stable": track("1.4.0", STABLE_IMAGE, "*")}, "stable.artifact_prefix"),
        ({"run_as_user": 1000}, "run_as_user"),
        ({"run_as_user": 0}, "run_as_user"),
        ({"port": 80}, "port"),
        ({"vpc_endpoints_cidr": "0.0.0.0/0"}, "vpc_endpoints_cidr"),
        ({"s3_gateway_cidrs": ["0.0.0.0/0"]}, "s3_gateway_cidrs"),
        # The config's rule, now the component's too (lib.kubernetes.check_s3_gateway_cidr):
        ({"s3_gateway_cidrs": ["52.95.148.0/23", "0.0.0.0/1"]}, "s3_gateway_cidrs"),  # half of all
        ({"s3_gateway_cidrs": ["16.0.0.0/4"]}, "s3_gateway_cidrs"),  # wider than /8
        ({"s3_gateway_cidrs": ["52.95.148.1/23"]}, "s3_gateway_cidrs"),  # host bits set
        ({"s3_gateway_cidrs": ["s3.amazonaws.com"]}, "s3_gateway_cidrs"),  # not a CIDR
        ({"resources": resources_of("4", "2", "1Gi", "1Gi")}, "resources"),
        ({"replicas_min": 2}, "canary.weight"),
        (
            {"canary": canary_of(track("1.5.0", CANARY_IMAGE, "credit-risk/1.5.0"), 80)},
            "canary.weight",
        ),
        (
            {"canary": canary_of(track("1.4.0", CANARY_IMAGE, "credit-risk/1.4.0"), 10)},
            "canary.track.version",
        ),
        ({"loader": Loader(image=f"{ECR}/model-loader:v1")}, "loader"),
    ],
)
def test_invalid_args_are_refused_before_any_resource(override, arg):
    exc, rec = _refused(make_args(**override))
    assert exc.arg == arg
    assert f"invalid argument {arg}" in str(exc)
    assert [r for r in rec.resources if r.type != "pulumi:pulumi:Stack"] == []


def test_the_component_never_changes_its_args():
    """Args are plain TypedDicts (they cross the provider boundary): the component must read
    them, never write them, so a caller may reuse one dict for several models."""
    args = make_args()
    before = copy.deepcopy(args)
    run(args)
    assert args == before
