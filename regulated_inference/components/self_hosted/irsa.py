"""The service account's IAM role (IRSA, I1–I7): trusted by this namespace/service account only,
allowed to read this model's artifact prefixes and decrypt through S3."""

import pulumi

from regulated_inference.components.least_privilege_role import (
    LeastPrivilegeRole,
    web_identity_trust,
)
from regulated_inference.components.self_hosted.args import SelfHostedInferenceArgs
from regulated_inference.components.self_hosted.plan import Plan
from regulated_inference.lib import iam


def irsa_role(
    name: str, args: SelfHostedInferenceArgs, plan: Plan, opts: pulumi.ResourceOptions
) -> LeastPrivilegeRole:
    model, ns_name = args["model_name"], args["namespace"]
    grants: list[iam.Grant] = [
        iam.read_objects(args["artifact_bucket_arn"], spec["artifact_prefix"].strip("/"))
        for _, spec in plan.tracks
    ]
    grants.append(
        iam.use_key(
            args["data_key_arn"], decrypt=True, via_service=f"s3.{plan.region}.amazonaws.com"
        )
    )
    return LeastPrivilegeRole(
        f"{name}-irsa",
        {
            "trust": web_identity_trust(
                oidc_provider_arn=args["irsa"]["oidc_provider_arn"],
                issuer=args["irsa"]["issuer"],
                namespace=ns_name,
                service_account=plan.sa_name,
            ),
            "grants": grants,
            "description": f"IRSA role of self-hosted model {model} ({ns_name}/{plan.sa_name}): reads its artifacts",
        },
        opts,
    )
