"""Config sections of the platform layer: residency, network, logging, audit, keys, alerts."""

from __future__ import annotations

import ipaddress
import re
from typing import Any, Literal

from pydantic import EmailStr, Field, field_validator

from regulated_inference.components.secure_bucket import (
    OBJECT_LOCK_MAX_DAYS,
    OBJECT_LOCK_MIN_DAYS,
    ObjectLockMode,
)
from regulated_inference.config import aws_model
from regulated_inference.config.base import ConfigModel
from regulated_inference.config.errors import RuleViolation
from regulated_inference.lib import aws as aws_facts

#: Retention values CloudWatch Logs accepts (PutRetentionPolicy).
LOG_RETENTION_DAYS: tuple[int, ...] = (
    1,
    3,
    5,
    7,
    14,
    30,
    60,
    90,
    120,
    150,
    180,
    365,
    400,
    545,
    731,
    1096,
    1827,
    2192,
    2557,
    2922,
    3288,
    3653,
)


def check_region(value: str) -> str:
    """A region AWS has (botocore's endpoint data, all partitions)."""
    try:
        aws_model.check_region(value)
    except ValueError as exc:
        raise ValueError(f"must be an AWS region code like 'eu-west-2': {value!r} {exc}") from None
    return value


class ResidencyConfig(ConfigModel):
    """Where data may live. Every region the stack deploys to or sends data to must be listed."""

    allowed_regions: list[str] = Field(min_length=1)
    """AWS regions this deployment may use (e.g. `[eu-west-2]` for UK-only data)."""

    @field_validator("allowed_regions")
    @classmethod
    def _regions(cls, value: list[str]) -> list[str]:
        for i, region in enumerate(value):
            try:
                check_region(region)
            except ValueError as exc:
                raise RuleViolation(f"[{i}]", region, str(exc)) from None
            if region in value[:i]:
                raise RuleViolation(f"[{i}]", region, "listed twice")
        return value


class NetworkConfig(ConfigModel):
    """The isolated VPC: private subnets only, one per availability zone."""

    cidr: str
    """VPC IPv4 CIDR, /16 to /24 (e.g. `10.40.0.0/16`). Must hold one subnet per AZ."""
    availability_zones: int = Field(default=2, ge=1, le=6)
    """How many AZs get a private subnet (and an interface-endpoint ENI). ≥ 2 when SageMaker runs in the VPC."""
    subnet_prefix_length: int = Field(default=20, ge=16, le=28)
    """Prefix length of each private subnet (default /20: 4091 usable addresses)."""

    @field_validator("cidr")
    @classmethod
    def _cidr(cls, value: str) -> str:
        try:
            net = ipaddress.IPv4Network(value, strict=True)
        except ValueError as exc:
            raise ValueError(
                f"must be a valid IPv4 CIDR block with no host bits set ({exc})"
            ) from None
        if not 16 <= net.prefixlen <= 24:
            raise ValueError("VPC CIDR prefix must be between /16 and /24 (AWS VPC limits)")
        return value

    def subnet_cidrs(self) -> list[str]:
        net = ipaddress.IPv4Network(self.cidr)
        if self.subnet_prefix_length < net.prefixlen:
            raise RuleViolation(
                "subnetPrefixLength",
                self.subnet_prefix_length,
                f"subnets must be smaller than the VPC (/{net.prefixlen})",
            )
        subnets = list(net.subnets(new_prefix=self.subnet_prefix_length))
        if len(subnets) < self.availability_zones:
            raise RuleViolation(
                "cidr",
                self.cidr,
                f"too small for {self.availability_zones} subnets of /{self.subnet_prefix_length} "
                f"(holds {len(subnets)})",
            )
        return [str(s) for s in subnets[: self.availability_zones]]


class LoggingConfig(ConfigModel):
    """CloudWatch Logs retention for flow logs, trail delivery and inference logs."""

    retention_days: int
    """Days to keep log events; one of CloudWatch's values. Prod: ≥ 365 (L10)."""

    @field_validator("retention_days")
    @classmethod
    def _retention(cls, value: int) -> int:
        if value not in LOG_RETENTION_DAYS:
            raise ValueError(
                f"must be one of CloudWatch Logs' retention values {list(LOG_RETENTION_DAYS)}"
            )
        return value


class AuditConfig(ConfigModel):
    """The WORM audit bucket that receives CloudTrail logs and deployment records."""

    retention_days: int = Field(ge=OBJECT_LOCK_MIN_DAYS, le=OBJECT_LOCK_MAX_DAYS)
    """Default Object Lock retention of every audit object, in days, 1–36500 (S3's limit;
    7 years = 2557). Prod: ≥ 365 in COMPLIANCE mode (control L5)."""
    object_lock_mode: ObjectLockMode = ObjectLockMode.COMPLIANCE
    """COMPLIANCE: nobody, root included, can delete before expiry. GOVERNANCE: privileged users can."""


class KeysConfig(ConfigModel):
    """Customer-managed KMS keys."""

    deletion_window_days: int = Field(default=30, ge=7, le=30)
    """Waiting period before a scheduled key deletion takes effect, 7–30 days. Prod: 30 (E9)."""


class AlertsConfig(ConfigModel):
    """Who hears about alarms."""

    emails: list[EmailStr] = Field(min_length=1)
    """E-mail addresses subscribed to the encrypted alert topic (each must confirm)."""


Environment = Literal["dev", "prod"]


_STACK_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,100}$")


def check_account_ids(value: Any) -> list[str]:
    """`aws:allowedAccountIds`, the AWS provider's list of accounts it may deploy to.

    pulumi-aws reads it as a list of strings (sdk `pulumi_aws/config/vars.py`,
    `allowed_account_ids`), and the provider refuses credentials of any other account.
    `pulumi config set --path 'aws:allowedAccountIds[0]' 262849081348` stores a whole number
    without a leading zero as an integer, so integers of 12 digits are accepted as that id.
    """
    values = value if isinstance(value, list) else [value]
    if not values:
        raise ValueError("name at least one account (or remove the key)")
    out: list[str] = []
    for i, item in enumerate(values):
        text = str(item) if isinstance(item, int) and not isinstance(item, bool) else item
        if not aws_facts.is_account_id(text):
            raise RuleViolation(
                f"[{i}]",
                item,
                "must be a 12-digit AWS account id (quote it in YAML so leading zeros survive)",
            )
        out.append(text)
    return out


class AccountConfig(ConfigModel):
    """Settings AWS keeps once per account and region: exactly one stack of an account owns each.

    Stacks that share an account (allowed in `aws:allowedAccountIds`) must name the same owner;
    `tests/stacks/test_shared_account.py` checks the project's stack files (docs/self-hosting.md).
    """

    bedrock_logging_owner: str | None = None
    """Stack that owns the account's Amazon Bedrock model-invocation logging, which is ONE setting
    per account and region (`PutModelInvocationLoggingConfiguration`): a second stack writing it
    overwrites the first, and destroying either turns logging off for both. Unset: this stack owns
    it. A stack that names another owner configures no logging; its Bedrock calls are logged by
    the owner's setting."""

    @field_validator("bedrock_logging_owner")
    @classmethod
    def _stack_name(cls, value: str | None) -> str | None:
        if value is not None and not _STACK_NAME.match(value):
            raise ValueError("must be a stack name (letters, digits, '-', '_', '.')")
        return value

    def owns_bedrock_logging(self, stack: str) -> bool:
        return self.bedrock_logging_owner in (None, stack)
