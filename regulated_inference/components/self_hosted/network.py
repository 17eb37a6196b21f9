"""NetworkPolicies of the model's namespace (K10): default deny both ways, then three allowances."""

from typing import Any

import pulumi
import pulumi_kubernetes as kubernetes

from regulated_inference.components.self_hosted.args import SelfHostedInferenceArgs
from regulated_inference.components.self_hosted.workload import labels
from regulated_inference.lib import kubernetes as k8s


def _namespace_selector(namespace: str) -> dict[str, Any]:
    return {"namespace_selector": {"match_labels": {"kubernetes.io/metadata.name": namespace}}}


def network_policies(
    name: str,
    args: SelfHostedInferenceArgs,
    port: int,
    ns: pulumi.Input[str],
    opts: pulumi.ResourceOptions,
) -> list[kubernetes.networking.v1.NetworkPolicy]:
    """Default deny in and out; ingress from the gateway namespace on the model port; egress to
    cluster DNS and, on 443, to the VPC endpoints (and S3 gateway prefixes when given)."""
    model = args["model_name"]
    model_pods = {"match_labels": {k8s.LABEL_MODEL: model}}

    def policy(role: str, policy_name: str, spec: dict[str, Any]):
        return kubernetes.networking.v1.NetworkPolicy(
            f"{name}-{role}",
            metadata={"name": policy_name, "namespace": ns, "labels": labels(model)},
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
                        "from": [_namespace_selector(args["gateway_namespace"])],
                        "ports": [{"protocol": "TCP", "port": port}],
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
                                **_namespace_selector("kube-system"),
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
                "egress": [{"to": egress_endpoints, "ports": [{"protocol": "TCP", "port": 443}]}],
            },
        ),
    ]
