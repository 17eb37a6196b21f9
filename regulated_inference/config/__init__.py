"""The whole stack config as one typed model, validated before any resource exists.

`load()` reads the project's config namespace (and `aws:region`) the way the
program receives it from the CLI, and returns a `StackConfig` or raises
`ConfigError` naming the key, the value and the rule.
"""

from __future__ import annotations

import json
from typing import Any

import pulumi
from pydantic import Field, ValidationError, field_validator

from regulated_inference.config.base import ConfigModel
from regulated_inference.config.cost import BudgetConfig, CostConfig
from regulated_inference.config.errors import ConfigError, RuleViolation, from_validation_error
from regulated_inference.config.exemptions import ExemptionConfig, GovernanceConfig
from regulated_inference.config.models import BedrockConfig, ModelConfig
from regulated_inference.config.platform import (
    AccountConfig,
    AlertsConfig,
    AuditConfig,
    Environment,
    KeysConfig,
    LoggingConfig,
    NetworkConfig,
    ResidencyConfig,
    check_account_ids,
    check_region,
)
from regulated_inference.config.rules import check_cloud, check_stack
from regulated_inference.config.secrets import check_no_plain_secrets
from regulated_inference.lib.tagging import REQUIRED_TAG_KEYS

PROJECT = "regulated-inference"


class StackConfig(ConfigModel):
    """Everything `Pulumi.<stack>.yaml` says, validated as a whole."""

    region: str = Field(alias="aws:region")
    """`aws:region`: the home region; every resource goes here."""
    allowed_account_ids: list[str] = Field(default=[], alias="aws:allowedAccountIds")
    """`aws:allowedAccountIds`: the accounts this stack may deploy to (the AWS provider refuses
    others; the program refuses them before declaring anything). Set it in every stack file."""
    account: AccountConfig = AccountConfig()
    """Account-wide settings (one per account and region) and which stack owns them."""
    environment: Environment
    """`dev` or `prod`; prod turns on the stricter rules below."""
    residency: ResidencyConfig
    tags: dict[str, str]
    """Required tags applied to every taggable AWS resource: owner, environment, data-classification, cost-center."""
    network: NetworkConfig
    logging: LoggingConfig
    audit: AuditConfig
    keys: KeysConfig = KeysConfig()
    alerts: AlertsConfig
    models: list[ModelConfig] = []
    """The models the stack deploys. An entry with `kubernetes` is self-hosted on EKS
    (Kubernetes-hosted), any other is served by a SageMaker endpoint (SageMaker-hosted); keys
    marked for one hosting are refused in the other."""
    bedrock: BedrockConfig | None = None
    cost: CostConfig = CostConfig()
    """Usage assumptions of the offline preview's cost estimate (docs/cost.md)."""
    budget: BudgetConfig | None = None
    """Monthly budget; the offline preview exits 1 when its estimate exceeds it."""
    exemptions: list[ExemptionConfig] = []
    """Accepted risks: a pack rule's finding waived on named resources until a date, with
    justification, approver and ticket (docs/exemptions-and-evidence.md)."""
    governance: GovernanceConfig = GovernanceConfig()
    """Limits on exemptions and on model validation age."""

    @field_validator("region")
    @classmethod
    def _region(cls, value: str) -> str:
        return check_region(value)

    @field_validator("allowed_account_ids", mode="before")
    @classmethod
    def _accounts(cls, value: Any) -> list[str]:
        return check_account_ids(value)

    @field_validator("tags")
    @classmethod
    def _tags(cls, value: dict[str, str]) -> dict[str, str]:
        for key in REQUIRED_TAG_KEYS:
            if not (value.get(key) or "").strip():
                raise RuleViolation(
                    key,
                    value.get(key),
                    "every required tag needs a non-empty value "
                    f"(required: {', '.join(REQUIRED_TAG_KEYS)})",
                )
        for key, val in value.items():
            if len(key) > 128 or len(val) > 256 or key.lower().startswith("aws:"):
                raise RuleViolation(
                    key, val, "tag keys ≤ 128 chars, values ≤ 256, no 'aws:' prefix"
                )
        return value

    @property
    def is_prod(self) -> bool:
        return self.environment == "prod"


#: Top-level keys the program reads from its namespace.
TOP_LEVEL_KEYS = tuple(
    f.alias for name, f in StackConfig.model_fields.items() if f.alias and ":" not in f.alias
)


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _decode(value: str) -> Any:
    try:
        # NaN / Infinity are not JSON (the CLI never writes them); keep such text as text.
        return json.loads(value, parse_constant=_no_constant)
    except (TypeError, ValueError, RecursionError):
        return value


def raw_config(project: str = PROJECT) -> dict[str, Any]:
    """The program's config as the CLI passes it, decoded: project keys without namespace, plus aws:region."""
    from pulumi.runtime import config as runtime_config

    values: dict[str, str] = {}
    values.update(runtime_config.get_config_env())
    values.update(runtime_config.CONFIG.get())
    raw: dict[str, Any] = {}
    for key, value in values.items():
        ns, _, name = key.partition(":")
        if ns == project:
            raw[name] = _decode(value)
    region = values.get("aws:region")
    if region is not None:
        raw["aws:region"] = region
    if values.get("aws:allowedAccountIds") is not None:
        raw["aws:allowedAccountIds"] = _decode(values["aws:allowedAccountIds"])
    return raw


def secret_keys(raw: dict[str, Any], project: str = PROJECT) -> frozenset[str]:
    """The keys of `raw` the CLI marks secret (set with `--secret`, wholly or at a nested path)."""
    from pulumi.runtime import config as runtime_config

    return frozenset(
        key
        for key in raw
        if runtime_config.is_config_secret(key if ":" in key else f"{project}:{key}")
    )


def parse(
    raw: dict[str, Any], project: str = PROJECT, secret: frozenset[str] = frozenset()
) -> StackConfig:
    """Validate a decoded config mapping; raise ConfigError with the first problem.

    `secret` names the top-level keys that were set with `--secret` (their values may hold
    credentials); every other value is checked for secrets in plain text first."""
    check_no_plain_secrets(raw, project, secret)
    if "aws:region" not in raw:
        raise ConfigError(
            "aws:region",
            None,
            "required: set the home region (pulumi config set aws:region eu-west-2)",
        )
    try:
        cfg = StackConfig.model_validate(raw)
    except ValidationError as exc:
        raise from_validation_error(project, exc) from None
    # Rules across sections that each section's model cannot see on its own: one pass.
    check_stack(cfg, project)
    return cfg


def load() -> StackConfig:
    """The current stack's config, validated. Call before declaring any resource."""
    project = pulumi.get_project() or PROJECT
    raw = raw_config(project)
    return parse(raw, project, secret_keys(raw, project))


__all__ = [
    "ConfigError",
    "StackConfig",
    "check_cloud",
    "load",
    "parse",
    "PROJECT",
]
