"""The stack program's composition: config → platform → inference layers → exports.

`main()` is what `stacks/__main__.py` (the project's `main:`) runs. Thin by design: validate the
whole config first (nothing is declared if it is invalid), build the one `AwsContext` and check
the account and the region's availability zones before any resource, tag everything, then build the platform, the managed and
self-hosted inference layers and Bedrock access, and export what runs where.
"""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from regulated_inference import config
from regulated_inference.config.exemptions import inventory
from regulated_inference.lib import aws as aws_facts
from regulated_inference.lib.tagging import apply_required_tags


def main() -> None:
    """Declare the whole stack for the current Pulumi stack's config."""
    from regulated_inference.stack.evidence import write_evidence
    from regulated_inference.stack.inference import build_bedrock, build_managed_inference
    from regulated_inference.stack.platform import build_platform, platform_exports
    from regulated_inference.stack.self_hosted import build_self_hosted

    project = pulumi.get_project() or config.PROJECT
    raw = config.raw_config(project)
    cfg = config.parse(raw, project, config.secret_keys(raw, project))
    # Where the stack deploys, asked once: every component gets this one AwsContext.
    ctx = aws_facts.context(
        cfg.region, aws.get_caller_identity().account_id, aws.get_partition().partition
    )
    zones = aws.get_availability_zones(state="available").names
    # The rules that need AWS's answers (account, zones): before any resource.
    config.check_cloud(cfg, project, ctx["account_id"], zones)
    apply_required_tags(cfg.tags)
    platform = build_platform(cfg, ctx, zones)
    pulumi.export("platform", platform_exports(platform))
    pulumi.export("models", build_managed_inference(cfg, platform))
    pulumi.export("bedrock", build_bedrock(cfg, platform))
    pulumi.export("selfHosted", build_self_hosted(cfg, platform))
    # model inventory (PRA SS1/23 P1, SR 11-7) and this deployment's evidence document
    pulumi.export("modelInventory", inventory(cfg))
    pulumi.export(
        "evidence",
        write_evidence(cfg, raw, platform.audit.bucket_name, platform.keys.audit_key_arn),
    )
