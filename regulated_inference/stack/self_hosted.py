"""Composition: every model with a `kubernetes` section becomes a `SelfHostedInference`.

Config → component args, and the Kubernetes provider, per model, first match wins:

1. `kubernetes.kubeconfig` (secret) and/or `kubernetes.context` — a developer's override;
2. `kubernetes.cluster.name/endpoint/certificateAuthorityData` — the way EKS is reached on CI:
   the program writes a kubeconfig whose user runs `aws eks get-token` (exec credential plugin,
   client.authentication.k8s.io/v1beta1, as `aws eks update-kubeconfig` writes it), so the
   provider needs only the AWS credentials of the deploy job, no kubeconfig file;
3. otherwise the stack's default ("ambient") provider, which reads `kubernetes:kubeconfig` /
   `kubernetes:context` from the stack config, then $KUBECONFIG, then ~/.kube/config.
"""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pulumi_kubernetes as kubernetes

from regulated_inference.components.self_hosted import (
    ModelTrack,
    SelfHostedInference,
    SelfHostedInferenceArgs,
)
from regulated_inference.config import StackConfig
from regulated_inference.config.kubernetes import ClusterConfig, KubernetesConfig
from regulated_inference.config.models import KubernetesModelConfig
from regulated_inference.stack.platform import Platform

#: Where a version's artifact lives in the model-artifacts bucket when the entry does
#: not say (same layout as the managed models: `<name>/<version>/model.tar.gz`).
DEFAULT_ARTIFACT_PREFIX = "{name}/{version}"


def _folder(key: str | None) -> str | None:
    if not key:
        return None
    folder = key.rpartition("/")[0].strip("/")
    return folder or None


def artifact_prefix(
    model: KubernetesModelConfig, version: str, canary_key: str | None = None
) -> str:
    """Key prefix (folder) of `version`'s artifact: the folder of the model-level
    `artifactKey` for the stable version, of `kubernetes.canary.artifactKey` for the
    canary, else `<name>/<version>`. The IRSA role may read only these folders."""
    key = model.artifact_key if version == model.version else canary_key
    return _folder(key) or DEFAULT_ARTIFACT_PREFIX.format(name=model.name, version=version)


def component_args(model: KubernetesModelConfig, platform: Platform) -> SelfHostedInferenceArgs:
    """The component's args for one model entry (no resources): what the `kubernetes` section
    states as the component's own arguments (`to_args()`), what its sections map to (IRSA, the
    canary), and what the program assembles (the stable track, the artifact prefixes, the replica
    bounds, the platform's AwsContext, bucket and key)."""
    kube = model.kubernetes
    args = SelfHostedInferenceArgs(
        **kube.to_args(),  # namespace, resources, probes, port, loader, … as the section states
        model_name=model.name,
        stable=ModelTrack(
            version=model.version,
            # `config.rules` refused an entry with neither image.
            image=kube.image or model.image or "",
            artifact_prefix=artifact_prefix(model, model.version),
        ),
        aws=platform.aws,
        irsa=kube.cluster.irsa(),
        artifact_bucket_arn=platform.model_artifacts.arn,
        data_key_arn=platform.keys.data_key_arn,
        replicas_min=kube.replicas.min,
        replicas_max=kube.replicas.max,
    )
    if kube.canary is not None:
        canary = kube.canary
        args["canary"] = canary.to_canary(
            artifact_prefix(model, canary.version, canary.artifact_key)
        )
    return args


#: The exec credential API `aws eks get-token` answers (AWS CLI `eks get-token` → ExecCredential).
EXEC_API_VERSION = "client.authentication.k8s.io/v1beta1"


def eks_kubeconfig(cluster: ClusterConfig, region: str) -> str:
    """A kubeconfig for an EKS cluster whose token comes from `aws eks get-token`.

    The same shape `aws eks update-kubeconfig` writes: cluster server + CA data, a user whose
    `exec` runs `aws --region <r> eks get-token --cluster-name <n> [--role-arn <arn>] --output
    json`. No secret in it: the token is fetched at each connection with the AWS credentials of
    whoever runs Pulumi (locally or the CI deploy role). JSON is YAML, which the provider reads
    (`kubeconfig`: "the contents of a kubeconfig file or the path to a kubeconfig file",
    pulumi_kubernetes/provider.py)."""
    args = ["--region", region, "eks", "get-token", "--cluster-name", cluster.name]
    if cluster.deploy_role_arn:
        args += ["--role-arn", cluster.deploy_role_arn]
    args += ["--output", "json"]
    name = cluster.name
    return json.dumps(
        {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [
                {
                    "name": name,
                    "cluster": {
                        "server": cluster.endpoint,
                        "certificate-authority-data": cluster.certificate_authority_data,
                    },
                }
            ],
            "users": [
                {
                    "name": name,
                    "user": {
                        "exec": {
                            "apiVersion": EXEC_API_VERSION,
                            "command": "aws",
                            "args": args,
                            "interactiveMode": "Never",
                        }
                    },
                }
            ],
            "contexts": [{"name": name, "context": {"cluster": name, "user": name}}],
            "current-context": name,
        },
        indent=2,
    )


def provider_for(model_name: str, kube: KubernetesConfig) -> kubernetes.Provider | None:
    """The model's Kubernetes provider (see the module docstring), or None for the ambient one."""
    if kube.uses_ambient_provider:
        return None
    if kube.kubeconfig is None and kube.context is None:
        kubeconfig = eks_kubeconfig(kube.cluster, kube.cluster.region)
        # No secret inside (the token comes from exec), but a kubeconfig input is secret by habit:
        # a user-supplied one usually holds credentials, and one rule for both is simpler to audit.
        return kubernetes.Provider(f"{model_name}-k8s", kubeconfig=pulumi.Output.secret(kubeconfig))
    return kubernetes.Provider(
        f"{model_name}-k8s",
        kubeconfig=pulumi.Output.secret(kube.kubeconfig) if kube.kubeconfig else None,
        context=kube.context,
    )


def build_self_hosted(cfg: StackConfig, platform: Platform) -> dict[str, Any]:
    """One `SelfHostedInference` per model with a `kubernetes` section; returns the exports.
    The config's rules for these models ran in `config.parse` and `config.check_cloud`."""
    exports: dict[str, Any] = {}
    for model in cfg.models:
        if not isinstance(model, KubernetesModelConfig):
            continue
        kube = model.kubernetes
        provider = provider_for(model.name, kube)
        opts = pulumi.ResourceOptions(providers={"kubernetes": provider} if provider else None)
        hosted = SelfHostedInference(model.name, component_args(model, platform), opts)
        exports[model.name] = {
            "namespace": hosted.namespace,
            "serviceUrl": hosted.service_url,
            "serviceAccount": hosted.service_account_name,
            "roleArn": hosted.role_arn,
            "stableVersion": hosted.stable_version,
            "canaryVersion": hosted.canary_version,
            "canaryWeight": hosted.canary_weight,
            "canaryEffectiveWeight": hosted.canary_effective_weight,
            "replicas": hosted.replicas,
            "provider": "ambient" if provider is None else f"{model.name}-k8s",
            "cluster": kube.cluster.name,
        }
    return exports


__all__ = [
    "build_self_hosted",
    "component_args",
    "eks_kubeconfig",
    "provider_for",
    "artifact_prefix",
]
