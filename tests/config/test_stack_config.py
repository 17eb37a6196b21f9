"""Invalid stack config: one clear error (key, value, rule), and nothing registered.

Each case changes one thing in the real prod (or dev) config and runs the
real program, as `pulumi up` would.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from regulated_inference.config import ConfigError
from tests.config.mutation import DELETE as _DELETE
from tests.config.mutation import set_at
from tests.conftest import run_stack_with

NS = "regulated-inference"


def _set(path: str, value: Any) -> Callable[[dict], None]:
    def mutate(cfg: dict) -> None:
        key, *rest = path.split(".")
        full = key if ":" in key else f"{NS}:{key}"
        set_at(cfg, [full, *rest], value)

    return mutate


# (stack, mutation, expected key, expected value text, expected rule fragment)
CASES = [
    (
        "prod",
        _set("aws:region", "us-east-1"),
        "aws:region",
        '"us-east-1"',
        "must be one of regulated-inference:residency.allowedRegions",
    ),
    ("prod", _set("aws:region", "europe"), "aws:region", '"europe"', "must be an AWS region code"),
    (
        # `\d` would match these full-width digits; an account id is 12 ASCII digits
        "prod",
        _set("aws:allowedAccountIds", ["\uff12" * 12]),
        "aws:allowedAccountIds[0]",
        '"' + "\\uff12" * 12 + '"',  # JSON-escaped in the message
        "12-digit AWS account id",
    ),
    (
        "prod",
        _set("aws:allowedAccountIds", ["26284908134"]),
        "aws:allowedAccountIds[0]",
        '"26284908134"',
        "12-digit AWS account id",
    ),
    (
        "prod",
        _set("residency.allowedRegions", []),
        f"{NS}:residency.allowedRegions",
        "[]",
        "at least 1 item",
    ),
    (
        "prod",
        _set("residency.allowedRegions.0", "uk-south"),
        f"{NS}:residency.allowedRegions[0]",
        '"uk-south"',
        "must be an AWS region code",
    ),
    (
        "prod",
        _set("network.cidr", "10.40.0.0/33"),
        f"{NS}:network.cidr",
        '"10.40.0.0/33"',
        "valid IPv4 CIDR",
    ),
    (
        "prod",
        _set("network.cidr", "10.40.0.1/16"),
        f"{NS}:network.cidr",
        '"10.40.0.1/16"',
        "no host bits set",
    ),
    (
        "prod",
        _set("network.cidr", "10.0.0.0/8"),
        f"{NS}:network.cidr",
        '"10.0.0.0/8"',
        "between /16 and /24",
    ),
    (
        "prod",
        _set("network.subnetPrefixLength", 17),
        f"{NS}:network.cidr",
        '"10.40.0.0/16"',
        "too small for 3 subnets of /17",
    ),
    (
        "prod",
        _set("network.availabilityZones", 7),
        f"{NS}:network.availabilityZones",
        "7",
        "less than or equal to 6",
    ),
    (
        "prod",
        _set("logging.retentionDays", 180),
        f"{NS}:logging.retentionDays",
        "180",
        "prod keeps logs ≥ 365 days",
    ),
    (
        "prod",
        _set("logging.retentionDays", 366),
        f"{NS}:logging.retentionDays",
        "366",
        "retention values",
    ),
    (
        "prod",
        _set("audit.objectLockMode", "WORM"),
        f"{NS}:audit.objectLockMode",
        '"WORM"',
        "'COMPLIANCE' or 'GOVERNANCE'",
    ),
    (
        "prod",
        _set("audit.retentionDays", 0),
        f"{NS}:audit.retentionDays",
        "0",
        "greater than or equal to 1",
    ),
    (
        "prod",
        _set("alerts.emails", ["ml-oncall.bank.example"]),
        f"{NS}:alerts.emails[0]",
        '"ml-oncall.bank.example"',
        "not a valid email address",
    ),
    ("prod", _set("alerts.emails", []), f"{NS}:alerts.emails", "[]", "at least 1 item"),
    (
        "prod",
        _set("tags.cost-center", ""),
        f"{NS}:tags.cost-center",
        '""',
        "every required tag needs a non-empty value",
    ),
    (
        "prod",
        _set("tags.owner", _DELETE),
        f"{NS}:tags.owner",
        "null",
        "every required tag needs a non-empty value",
    ),
    (
        "prod",
        _set("tags.environment", "dev"),
        f"{NS}:tags.environment",
        '"dev"',
        "must equal regulated-inference:environment",
    ),
    (
        "prod",
        _set("keys.deletionWindowDays", 7),
        f"{NS}:keys.deletionWindowDays",
        "7",
        "30-day deletion window",
    ),
    (
        "prod",
        _set("keys.deletionWindowDays", 3),
        f"{NS}:keys.deletionWindowDays",
        "3",
        "greater than or equal to 7",
    ),
    ("prod", _set("environment", "staging"), f"{NS}:environment", '"staging"', "'dev' or 'prod'"),
    (
        "prod",
        _set("network.cidrBlock", "10.0.0.0/16"),
        f"{NS}:network.cidrBlock",
        '"10.0.0.0/16"',
        "unknown key",
    ),
    ("prod", _set("alerts", _DELETE), f"{NS}:alerts", "null", "required key is missing"),
]


@pytest.mark.parametrize(
    "stack,mutate,key,value,rule", CASES, ids=[c[2] + ":" + c[3] for c in CASES]
)
def test_invalid_config_fails_with_one_clear_message_and_registers_nothing(
    stack, mutate, key, value, rule
):
    with pytest.raises(ConfigError) as info:
        run_stack_with(stack, mutate)
    err = info.value
    message = str(err)
    assert message.startswith(f"invalid stack config: {key} = {value}: "), message
    assert rule in message, message
    assert err.key == key
    assert "\n" not in message  # one message, one line
    registered = [
        r for r in info.value.partial_recording.resources if r.type != "pulumi:pulumi:Stack"
    ]
    assert registered == [], [r.urn for r in registered]


def test_sagemaker_models_need_two_azs():
    from regulated_inference.config import parse
    from tests.conftest import stack_config, without_namespace

    raw = without_namespace(stack_config("dev"))
    raw["network"]["availabilityZones"] = 1
    sagemaker_models = [m for m in raw.get("models", []) if "kubernetes" not in m]
    if not sagemaker_models:
        pytest.skip("dev config declares no SageMaker model yet")
    with pytest.raises(ConfigError) as info:
        parse(raw)
    assert info.value.key == f"{NS}:network.availabilityZones"
    assert "≥ 2 AZs" in info.value.rule


def test_missing_region_is_named():
    from regulated_inference.config import parse

    with pytest.raises(ConfigError) as info:
        parse({"environment": "dev"})
    assert info.value.key == "aws:region"
    assert "pulumi config set aws:region" in info.value.rule


def test_valid_configs_parse():
    from regulated_inference.config import parse
    from tests.conftest import stack_config, without_namespace

    for stack in ("dev", "prod"):
        raw = without_namespace(stack_config(stack))
        cfg = parse(raw)
        assert cfg.environment == stack
        assert cfg.region in cfg.residency.allowed_regions
