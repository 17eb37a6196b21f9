"""The regulated-inference stack program (`main: stacks/` in Pulumi.yaml).

Thin by design: validate the whole config first (nothing is declared if it is
invalid), tag everything, then build the platform, the managed and
self-hosted inference layers and Bedrock access, and export what runs where.
"""

import pulumi
import pulumi_aws as aws

from components.lib.tagging import apply_required_tags
from stacks import config
from stacks.inference import build_bedrock, build_managed_inference
from stacks.platform_layer import build_platform, check_deploy_account, platform_exports
from stacks.self_hosted import build_self_hosted, check_cluster_accounts

cfg = config.load()
account = aws.get_caller_identity().account_id
check_deploy_account(cfg, account)  # aws:allowedAccountIds, before any resource
check_cluster_accounts(cfg, account)
config.check_availability_zones(  # before any resource: the region's real AZs
    cfg.network.availability_zones,
    aws.get_availability_zones(state="available").names,
    cfg.region,
)
apply_required_tags(cfg.tags)
platform = build_platform(cfg)
pulumi.export("platform", platform_exports(platform))
pulumi.export("models", build_managed_inference(cfg, platform))
pulumi.export("bedrock", build_bedrock(cfg, platform))
pulumi.export("selfHosted", build_self_hosted(cfg, platform))
