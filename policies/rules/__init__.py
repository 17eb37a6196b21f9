"""The rules of the regulated-inference policy pack, grouped by control family.

`ALL_RULES` is the single list the pack, the catalog and the tests read. To add a rule, write a
small check in the family's module, decorate it with `@rule(...)` (metadata next to the code),
and append it to that module's `RULES`.
"""

from __future__ import annotations

from . import (
    audit_logging,
    encryption,
    exemptions,
    governance,
    iam,
    kubernetes,
    monitoring,
    network,
    residency,
)
from .base import Finding, Res, Rule

FAMILIES = {
    "Residency": residency.RULES,
    "Encryption": encryption.RULES,
    "Logging and audit": audit_logging.RULES,
    "Network isolation": network.RULES,
    "IAM least privilege": iam.RULES,
    "Monitoring and safe rollout": monitoring.RULES,
    "Kubernetes workloads": kubernetes.RULES,
    "Governance": governance.RULES,
    "Exemptions": exemptions.RULES,
}

ALL_RULES: list[Rule] = [r for rules in FAMILIES.values() for r in rules]
BY_NAME: dict[str, Rule] = {r.name: r for r in ALL_RULES}

__all__ = ["ALL_RULES", "BY_NAME", "FAMILIES", "Finding", "Res", "Rule"]
