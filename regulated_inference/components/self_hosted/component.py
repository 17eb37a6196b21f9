"""`SelfHostedInference`: the steps in order — plan, IRSA role, namespace and service account,
network policies, one Deployment and autoscaler per track, Service, disruption budget."""

import pulumi
import pulumi_kubernetes as kubernetes

from regulated_inference.components.self_hosted.args import SelfHostedInferenceArgs
from regulated_inference.components.self_hosted.irsa import irsa_role
from regulated_inference.components.self_hosted.network import network_policies
from regulated_inference.components.self_hosted.plan import COMPONENT, Plan, validate
from regulated_inference.components.self_hosted.scaling import autoscaler, disruption_budget
from regulated_inference.components.self_hosted.workload import (
    PORT_NAME,
    deployment,
    deployment_name,
    labels,
    track_labels,
)
from regulated_inference.lib import aws as aws_facts
from regulated_inference.lib import kubernetes as k8s
from regulated_inference.lib.outputs import publish_outputs, type_token


class SelfHostedInference(pulumi.ComponentResource):
    """A model served on an existing Kubernetes cluster, hardened, with IRSA and a canary.

    Pass the Kubernetes provider through `opts` (`providers={"kubernetes": p}`)
    or let the stack's default provider apply. Traffic split, promotion and
    rollback: see docs/self-hosting.md.
    """

    namespace: pulumi.Output[str]
    """The model's namespace."""
    service_name: pulumi.Output[str]
    """Name of the ClusterIP Service (both tracks)."""
    service_url: pulumi.Output[str]
    """In-cluster URL of the model, for the gateway."""
    service_account_name: pulumi.Output[str]
    """The dedicated service account."""
    role_arn: pulumi.Output[str]
    """The IRSA role of the service account."""
    stable_version: pulumi.Output[str]
    """Version served by the stable Deployment."""
    canary_version: pulumi.Output[str | None]
    """Version served by the canary Deployment, or None."""
    canary_weight: pulumi.Output[int]
    """Requested canary share, percent (0 without a canary)."""
    canary_effective_weight: pulumi.Output[float]
    """Canary pods / all pods at the minimum replica count, in percent: the share actually served."""
    replicas: pulumi.Output[dict[str, dict[str, int]]]
    """HPA bounds per track: {"stable": {"min", "max"}, "canary": {"min", "max"}}."""

    def __init__(
        self, name: str, args: SelfHostedInferenceArgs, opts: pulumi.ResourceOptions | None = None
    ):
        plan = validate(args)
        super().__init__(type_token(COMPONENT), name, None, opts)
        model = args["model_name"]
        role = irsa_role(name, args, plan, pulumi.ResourceOptions(parent=self))
        namespace, service_account = self._namespace_and_account(name, args, plan, role.arn)
        ns = namespace.metadata.apply(lambda m: m.name)
        in_ns = pulumi.ResourceOptions(parent=self, depends_on=[namespace])
        policies = network_policies(name, args, plan.port, ns, in_ns)
        # Pods start only once their network is confined and their role may read the
        # artifact (the RolePolicy is a child of `role`, which depends_on waits for).
        after_policies = pulumi.ResourceOptions(
            parent=self, depends_on=[namespace, service_account, role, *policies]
        )
        self._tracks(name, args, plan, role.arn, ns, after_policies)
        service = self._service(name, model, plan.port, ns, in_ns)
        disruption_budget(name, model, ns, in_ns)

        canary = args.get("canary")
        service_name = service.metadata.apply(lambda m: m.name)
        publish_outputs(
            self,
            namespace=ns,
            service_name=service_name,
            service_url=pulumi.Output.concat(
                "http://", service_name, ".", ns, ".svc.cluster.local:", str(plan.port)
            ),
            service_account_name=service_account.metadata.apply(lambda m: m.name),
            role_arn=role.arn,
            stable_version=pulumi.Output.from_input(args["stable"]["version"]),
            canary_version=pulumi.Output.from_input(canary["track"]["version"] if canary else None),
            canary_weight=pulumi.Output.from_input(plan.canary_weight),
            canary_effective_weight=pulumi.Output.from_input(plan.effective_weight),
            replicas=pulumi.Output.from_input(
                {t: {"min": plan.bounds(t)[0], "max": plan.bounds(t)[1]} for t, _ in plan.tracks}
            ),
        )

    def _namespace_and_account(
        self,
        name: str,
        args: SelfHostedInferenceArgs,
        plan: Plan,
        role_arn: pulumi.Output[str],
    ) -> tuple[kubernetes.core.v1.Namespace, kubernetes.core.v1.ServiceAccount]:
        """The namespace (restricted Pod Security Standard) and the IRSA service account,
        which mounts no API token."""
        model = args["model_name"]
        namespace = kubernetes.core.v1.Namespace(
            f"{name}-namespace",
            metadata={"name": args["namespace"], "labels": {**k8s.PSS_LABELS, **labels(model)}},
            opts=pulumi.ResourceOptions(parent=self),
        )
        service_account = kubernetes.core.v1.ServiceAccount(
            f"{name}-service-account",
            metadata={
                "name": plan.sa_name,
                "namespace": namespace.metadata.apply(lambda m: m.name),
                "labels": labels(model),
                "annotations": {k8s.IRSA_ROLE_ANNOTATION: role_arn},
            },
            automount_service_account_token=False,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[namespace]),
        )
        return namespace, service_account

    def _tracks(
        self,
        name: str,
        args: SelfHostedInferenceArgs,
        plan: Plan,
        role_arn: pulumi.Output[str],
        ns: pulumi.Output[str],
        after_policies: pulumi.ResourceOptions,
    ) -> None:
        """Per track (stable, canary): its Deployment and its autoscaler."""
        model = args["model_name"]
        bucket_name = pulumi.Output.from_input(args["artifact_bucket_arn"]).apply(
            aws_facts.s3_bucket_of_arn
        )
        for track_name, spec in plan.tracks:
            workload = deployment(
                name, args, plan, track_name, spec, role_arn, bucket_name, ns, after_policies
            )
            autoscaler(
                name,
                args,
                track_name,
                deployment_name(model, track_name),
                track_labels(model, track_name, spec),
                plan.bounds(track_name),
                ns,
                pulumi.ResourceOptions(parent=self, depends_on=[workload]),
            )

    def _service(
        self, name: str, model: str, port: int, ns: pulumi.Output[str], opts: pulumi.ResourceOptions
    ) -> kubernetes.core.v1.Service:
        """One ClusterIP Service over both tracks: the canary's share is its share of ready pods."""
        return kubernetes.core.v1.Service(
            f"{name}-service",
            metadata={"name": model, "namespace": ns, "labels": labels(model)},
            spec={
                "type": "ClusterIP",
                "selector": {k8s.LABEL_MODEL: model},
                "ports": [
                    {"name": PORT_NAME, "port": port, "target_port": PORT_NAME, "protocol": "TCP"}
                ],
                "session_affinity": "None",
            },
            opts=opts,
        )
