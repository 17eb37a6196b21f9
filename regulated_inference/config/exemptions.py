"""Governance config: exemptions (accepted risks) and the model-inventory limits.

`regulated-inference:exemptions` lists accepted risks, each waiving ONE rule of the policy pack on
the resources its `resource` names (a logical name or a glob; `*` = the whole stack, only with a
`reason`). The pack honours them through its config (policies/rules/exemptions.py); this module
refuses a bad entry before anything is declared, with one message naming the key:

- the rule must be a rule of the pack, and exemptable: in prod the rules of residency (R1–R7),
  audit-trail integrity (L1, L2, L5) and the exemption register itself (G5) are not;
- justification, approver and ticket are not empty;
- `expires` (ISO date, the last day it holds) is today or later, and at most
  `governance.maxExemptionDays` ahead (prod default 90 days).

The rule names and their exemptability are read as DATA from `policies/catalog.json`, which
`policies/catalog.py` generates from the rules' metadata (`make docs`; a test keeps it fresh):
the stack program never imports the pack's code (the pack stays independent of the project, and
the project of the pack), and the pack config JSON cannot serve — it is generated FROM this
config.
"""

from __future__ import annotations

import datetime as dt
import json
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import Field, field_validator

from regulated_inference.config.base import ConfigModel
from regulated_inference.config.errors import ConfigError

if TYPE_CHECKING:
    from regulated_inference.config import StackConfig

NS = "regulated-inference"
CATALOG = Path(__file__).resolve().parents[2] / "policies" / "catalog.json"

#: Defaults per environment when `governance` does not set them.
DEFAULT_MAX_EXEMPTION_DAYS = {"prod": 90, "dev": 180}
DEFAULT_MAX_VALIDATION_AGE_DAYS = {"prod": 365, "dev": 730}


def today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


def _iso_date(value: Any) -> Any:
    # YAML may hand over a date; the CLI hands over text. Never a number (pydantic would read an
    # integer as a Unix timestamp).
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if not isinstance(value, str):
        raise ValueError("must be an ISO date, e.g. 2026-03-31")
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise ValueError("must be an ISO date, e.g. 2026-03-31") from None


class ExemptionConfig(ConfigModel):
    """One accepted risk: a rule's finding on some resources, approved until a date."""

    rule: str
    """The pack rule it waives (its name, e.g. `sagemaker-safe-deployment`)."""
    resource: str = Field(min_length=1)
    """The resources it covers: a logical name (the last part of the URN) or a glob
    (`fraud-scorer-*`); `*` covers the whole stack and needs a `reason`."""
    justification: str
    """Why the risk is accepted (shown with every exempted finding)."""
    approver: str
    """Who accepted the risk (a person or role, e.g. an e-mail address)."""
    ticket: str
    """The risk-acceptance ticket (e.g. RISK-123)."""
    expires: dt.date
    """The last day the exemption holds (ISO date, UTC). At most `governance.maxExemptionDays`
    ahead; after it the finding is enforced again and the exemption is a finding itself."""
    reason: str = ""
    """Required for `resource: '*'`: why the whole stack is exempted."""

    @field_validator("expires", mode="before")
    @classmethod
    def _date(cls, value: Any) -> Any:
        return _iso_date(value)

    @property
    def whole_stack(self) -> bool:
        return set(self.resource) <= {"*"}

    def to_pack(self) -> dict[str, str]:
        """The entry as the policy pack's config carries it."""
        out = {
            "rule": self.rule,
            "resource": self.resource,
            "justification": self.justification,
            "approver": self.approver,
            "ticket": self.ticket,
            "expires": self.expires.isoformat(),
        }
        if self.reason:
            out["reason"] = self.reason
        return out


class GovernanceConfig(ConfigModel):
    """Limits on accepted risks and on model validation."""

    max_exemption_days: int | None = Field(default=None, ge=1, le=365)
    """How far ahead an exemption may expire (default: prod 90 days, dev 180)."""
    max_validation_age_days: int | None = Field(default=None, ge=1, le=1095)
    """How old a prod model's validation may be (default: prod 365 days, dev 730)."""

    def exemption_days(self, environment: str) -> int:
        return self.max_exemption_days or DEFAULT_MAX_EXEMPTION_DAYS.get(environment, 90)

    def validation_age_days(self, environment: str) -> int:
        return self.max_validation_age_days or DEFAULT_MAX_VALIDATION_AGE_DAYS.get(environment, 365)


@cache
def catalog_rules(path: Path = CATALOG) -> dict[str, dict[str, Any]]:
    """rule name → its catalogue entry (kind, controls, exemptable, exemptableInProd)."""
    return json.loads(path.read_text())["rules"]


def check_exemptions(cfg: StackConfig, on: dt.date | None = None) -> None:
    """Raise ConfigError for the first bad exemption."""
    if not cfg.exemptions:
        return
    on = on or today()
    try:
        rules = catalog_rules()
    except (OSError, ValueError, KeyError):
        raise ConfigError(
            f"{NS}:exemptions",
            len(cfg.exemptions),
            f"cannot check exemptions: the policy catalogue {CATALOG} is missing or unreadable "
            "(run `make docs`)",
        ) from None
    max_days = cfg.governance.exemption_days(cfg.environment)
    seen: set[tuple[str, str]] = set()
    for i, e in enumerate(cfg.exemptions):
        key = f"{NS}:exemptions[{i}]"
        entry = rules.get(e.rule)
        if entry is None:
            raise ConfigError(
                f"{key}.rule", e.rule, "is not a rule of the policy pack (see docs/policies.md)"
            )
        if not entry.get("exemptable", True):
            raise ConfigError(
                f"{key}.rule", e.rule, "reports exemptions itself and cannot be exempted"
            )
        if cfg.is_prod and not entry.get("exemptableInProd", True):
            raise ConfigError(
                f"{key}.rule",
                e.rule,
                f"cannot be exempted in prod (controls {', '.join(entry.get('controls', []))}: "
                "residency and audit-trail integrity are never accepted risks); fix the finding",
            )
        for name in ("justification", "approver", "ticket"):
            if not getattr(e, name).strip():
                raise ConfigError(f"{key}.{name}", getattr(e, name), "must not be empty")
        if e.whole_stack and not e.reason.strip():
            raise ConfigError(
                f"{key}.resource",
                e.resource,
                "a wildcard exemption covers the whole stack: say why in `reason`",
            )
        if e.expires < on:
            raise ConfigError(
                f"{key}.expires",
                e.expires.isoformat(),
                f"expired (today is {on.isoformat()}): renew it with a new approval or remove it",
            )
        if (e.expires - on).days > max_days:
            raise ConfigError(
                f"{key}.expires",
                e.expires.isoformat(),
                f"is more than {max_days} days ahead (governance.maxExemptionDays in "
                f"{cfg.environment}): accepted risks are reviewed at least that often",
            )
        if (e.rule, e.resource) in seen:
            raise ConfigError(f"{key}.resource", e.resource, f"{e.rule} is already exempted for it")
        seen.add((e.rule, e.resource))


def check_inventory(cfg: StackConfig, on: dt.date | None = None) -> None:
    """Prod deploys only inventoried models whose validation is approved and recent enough
    (PRA SS1/23 principle 1, SR 11-7 inventory and validation)."""
    if not cfg.is_prod:
        return
    on = on or today()
    max_age = cfg.governance.validation_age_days(cfg.environment)
    for i, m in enumerate(cfg.models):
        key = f"{NS}:models[{i}]"
        for name, value in (("owner", m.owner), ("riskTier", m.risk_tier)):
            if not value:
                raise ConfigError(
                    f"{key}.{name}", value, "prod models are in the model inventory: set it"
                )
        v = m.validation
        if v is None:
            raise ConfigError(
                f"{key}.validation",
                None,
                "prod models declare their independent validation (status, date)",
            )
        if v.status != "approved":
            raise ConfigError(
                f"{key}.validation.status",
                v.status,
                "prod deploys only models whose validation is approved",
            )
        if v.date > on:
            raise ConfigError(f"{key}.validation.date", v.date.isoformat(), "is in the future")
        if (on - v.date).days > max_age:
            raise ConfigError(
                f"{key}.validation.date",
                v.date.isoformat(),
                f"the validation is older than {max_age} days (governance.maxValidationAgeDays): "
                "revalidate the model",
            )


def inventory(cfg: StackConfig) -> list[dict[str, Any]]:
    """The model inventory as plain data (stack output and evidence)."""
    out = []
    for m in cfg.models:
        v = m.validation
        out.append(
            {
                "model": m.name,
                "version": m.version,
                "stage": m.stage,
                "owner": m.owner,
                "riskTier": m.risk_tier,
                "validation": None
                if v is None
                else {
                    "status": v.status,
                    "date": v.date.isoformat(),
                    "validator": v.validator,
                    "report": v.report,
                },
            }
        )
    return out


def config_digest(decoded: dict[str, Any]) -> str:
    """sha256 of a stack's config, canonical: the project's keys (without namespace) plus
    `aws:region` and `aws:allowedAccountIds`, decoded, as sorted JSON. The offline preview
    (evidence) and the program (regulated_inference/stack/evidence.py) compute the same value
    from the same stack file, so a deployment can check that its evidence describes it."""
    import hashlib

    kept = {
        k: v
        for k, v in decoded.items()
        if ":" not in k or k in ("aws:region", "aws:allowedAccountIds")
    }
    text = json.dumps(kept, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()
