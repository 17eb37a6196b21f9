"""The `cost` and `budget` sections of the stack config (regulated_inference/config/cost.py)."""

from __future__ import annotations

from typing import Any

import pytest

from regulated_inference.config import ConfigError, parse
from tests.conftest import stack_config, without_namespace


def _raw(stack: str, **changes: Any) -> dict[str, Any]:
    raw = without_namespace(stack_config(stack))
    raw.update(changes)
    return raw


def test_the_stacks_set_a_budget_and_default_assumptions():
    prod, dev = parse(_raw("prod")), parse(_raw("dev"))
    assert prod.budget.monthly_usd == 2500 and dev.budget.monthly_usd == 400
    assert prod.cost.log_ingestion_gb_per_group == 1.0
    assert prod.cost.eks.vcpu_hour_usd is None


def test_budget_is_optional():
    raw = _raw("dev")
    del raw["budget"]
    assert parse(raw).budget is None


def test_assumptions_are_read_in_camel_case():
    cfg = parse(_raw("dev", cost={"s3StorageGbPerBucket": 250, "eks": {"gpuHourUsd": 0.8}}))
    assert cfg.cost.s3_storage_gb_per_bucket == 250
    assert cfg.cost.eks.gpu_hour_usd == 0.8


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"budget": {"monthlyUsd": 0}},
            "invalid stack config: regulated-inference:budget.monthlyUsd = 0: Input should be greater than 0",
        ),
        (
            {"budget": {}},
            "invalid stack config: regulated-inference:budget.monthlyUsd = null: required key is missing",
        ),
        (
            {"cost": {"s3GbPerBucket": 5}},
            "invalid stack config: regulated-inference:cost.s3GbPerBucket = 5: unknown key",
        ),
        (
            {"cost": {"monitoringJobMinutes": 0}},
            "invalid stack config: regulated-inference:cost.monitoringJobMinutes = 0: Input should be greater than 0",
        ),
        (
            {"cost": {"eks": {"vcpuHourUsd": -1}}},
            "invalid stack config: regulated-inference:cost.eks.vcpuHourUsd = -1: Input should be greater than or equal to 0",
        ),
    ],
)
def test_bad_cost_config_is_one_message_naming_the_key(changes, message):
    with pytest.raises(ConfigError) as err:
        parse(_raw("dev", **changes))
    assert str(err.value).startswith(message)
