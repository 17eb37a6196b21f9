"""The regulated-inference stack program (`main: stacks/` in Pulumi.yaml).

Thin by design: validate the whole config first (nothing is declared if it is
invalid), tag everything, then build the platform and the inference layers.
"""

import pulumi

from components.lib.tagging import apply_required_tags
from stacks import config
from stacks.platform import build_platform, platform_exports

cfg = config.load()
apply_required_tags(cfg.tags)
platform = build_platform(cfg)
pulumi.export("platform", platform_exports(platform))
