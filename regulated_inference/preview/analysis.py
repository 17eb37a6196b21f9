"""The result of running the policy pack over a recorded stack.

Shared vocabulary between the analyzer driver (`regulated_inference.preview.analyzer`),
the reports and the tests. Plain data, no behaviour.
"""

from __future__ import annotations

from dataclasses import dataclass, field

MANDATORY = "mandatory"
ADVISORY = "advisory"
REMEDIATE = "remediate"
DISABLED = "disabled"


@dataclass(frozen=True)
class PolicyInfo:
    """One rule of the pack, as configured for this run."""

    name: str
    description: str
    enforcement: str
    severity: str = ""
    controls: tuple[str, ...] = ()
    frameworks: tuple[str, ...] = ()
    remediation: str = ""


@dataclass(frozen=True)
class PolicyViolation:
    """One diagnostic the pack reported."""

    policy: str
    enforcement: str
    message: str
    urn: str | None = None  # None for a stack-level finding not tied to a resource
    resource_type: str | None = None
    resource_name: str | None = None
    severity: str = ""
    controls: tuple[str, ...] = ()
    frameworks: tuple[str, ...] = ()
    remediation: str = ""


@dataclass
class AnalysisResult:
    """Everything one analysis of one stack produced."""

    pack_name: str
    pack_version: str
    policies: list[PolicyInfo] = field(default_factory=list)
    violations: list[PolicyViolation] = field(default_factory=list)
    resources_analyzed: int = 0
    seconds: float = 0.0

    @property
    def mandatory(self) -> list[PolicyViolation]:
        return [v for v in self.violations if v.enforcement == MANDATORY]

    @property
    def advisory(self) -> list[PolicyViolation]:
        return [v for v in self.violations if v.enforcement == ADVISORY]
