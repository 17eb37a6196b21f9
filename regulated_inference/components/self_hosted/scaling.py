"""Scaling and availability: one HorizontalPodAutoscaler per track, one PodDisruptionBudget."""

import pulumi
import pulumi_kubernetes as kubernetes

from regulated_inference.components.self_hosted.args import (
    DEFAULT_TARGET_CPU_UTILIZATION,
    SelfHostedInferenceArgs,
)
from regulated_inference.components.self_hosted.workload import labels
from regulated_inference.lib import kubernetes as k8s

#: Seconds the HPA waits before scaling in (avoids flapping after a burst).
SCALE_DOWN_STABILIZATION_SECONDS = 300


def autoscaler(
    name: str,
    args: SelfHostedInferenceArgs,
    track_name: str,
    deploy_name: str,
    track_labels: dict[str, str],
    bounds: tuple[int, int],
    ns: pulumi.Input[str],
    opts: pulumi.ResourceOptions,
) -> kubernetes.autoscaling.v2.HorizontalPodAutoscaler:
    """CPU-target autoscaling of one track's Deployment within its share of the replica range."""
    lo, hi = bounds
    return kubernetes.autoscaling.v2.HorizontalPodAutoscaler(
        f"{name}-{track_name}-hpa",
        metadata={"name": deploy_name, "namespace": ns, "labels": track_labels},
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
                            "average_utilization": int(
                                args.get("target_cpu_utilization", DEFAULT_TARGET_CPU_UTILIZATION)
                            ),
                        },
                    },
                }
            ],
            "behavior": {
                "scale_down": {"stabilization_window_seconds": SCALE_DOWN_STABILIZATION_SECONDS}
            },
        },
        opts=opts,
    )


def disruption_budget(
    name: str, model: str, ns: pulumi.Input[str], opts: pulumi.ResourceOptions
) -> kubernetes.policy.v1.PodDisruptionBudget:
    """At most one pod of the model (either track) voluntarily down at a time."""
    return kubernetes.policy.v1.PodDisruptionBudget(
        f"{name}-pdb",
        metadata={"name": model, "namespace": ns, "labels": labels(model)},
        spec={
            "max_unavailable": 1,
            "selector": {"match_labels": {k8s.LABEL_MODEL: model}},
            "unhealthy_pod_eviction_policy": "AlwaysAllow",
        },
        opts=opts,
    )
