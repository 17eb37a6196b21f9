"""The regulated-inference CrossGuard pack: builds the PolicyPack from the rule list, nothing else.

`PolicyPack(...)` starts the analyzer gRPC server, prints its port and blocks; the rules live in
the importable `rules` package so tests, the catalog and the offline preview can load them.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from pulumi_policy import EnforcementLevel, PolicyPack  # noqa: E402
from rules import ALL_RULES  # noqa: E402
from rules.pack import build_policies  # noqa: E402
from rules.speedups import install, tune_gc  # noqa: E402

# Analyze dispatches by resource type with the same predicate each resource policy checks first
# (rules/pack.py `to_policy`: `if not r.applies_to(args.resource_type): return`).
install({r.name: r.applies_to for r in ALL_RULES if r.kind == "resource"})
tune_gc()

PolicyPack(
    name="regulated-inference",
    enforcement_level=EnforcementLevel.MANDATORY,
    policies=build_policies(ALL_RULES),
    description="Residency, encryption, audit, network, IAM, monitoring, Kubernetes and governance "
    "controls for AI inference on AWS in regulated businesses.",
    provider="aws",
    tags=[
        "aws",
        "kubernetes",
        "sagemaker",
        "bedrock",
        "gdpr",
        "hipaa",
        "soc2",
        "iso27001",
        "eu-ai-act",
    ],
)
