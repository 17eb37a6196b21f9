"""regulated-inference:exemptions and the model inventory, validated like all config."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from regulated_inference.config import ConfigError, parse
from regulated_inference.config.exemptions import CATALOG, catalog_rules, config_digest, today
from tests.conftest import stack_config, without_namespace

NS = "regulated-inference"


def raw(stack: str = "prod") -> dict[str, Any]:
    return without_namespace(stack_config(stack))


def entry(**kw: Any) -> dict[str, Any]:
    e = {
        "rule": "sagemaker-safe-deployment",
        "resource": "fraud-scorer-endpoint",
        "justification": "blue/green needs the new quota; linear rollout meanwhile",
        "approver": "cro@bank.example",
        "ticket": "RISK-42",
        "expires": (today() + dt.timedelta(days=30)).isoformat(),
    }
    e.update(kw)
    return e


def error(r: dict[str, Any]) -> str:
    with pytest.raises(ConfigError) as info:
        parse(r)
    return str(info.value)


def with_exemptions(*entries: dict, stack: str = "prod") -> dict[str, Any]:
    r = raw(stack)
    r["exemptions"] = list(entries)
    return r


def test_a_valid_exemption_parses():
    cfg = parse(with_exemptions(entry()))
    (e,) = cfg.exemptions
    assert e.rule == "sagemaker-safe-deployment" and e.ticket == "RISK-42"
    assert e.to_pack()["expires"] == (today() + dt.timedelta(days=30)).isoformat()


def test_the_catalogue_is_read_as_data_and_names_every_rule():
    rules = catalog_rules()
    assert CATALOG.name == "catalog.json"
    assert rules["aws-provider-region-allowed"]["exemptableInProd"] is False
    assert rules["sagemaker-safe-deployment"]["exemptableInProd"] is True
    assert rules["exemption-register"]["exemptable"] is False


def test_unknown_rule():
    msg = error(with_exemptions(entry(rule="no-such-rule")))
    assert msg == (
        f'invalid stack config: {NS}:exemptions[0].rule = "no-such-rule": '
        "is not a rule of the policy pack (see docs/policies.md)"
    )


@pytest.mark.parametrize(
    "rule,control",
    [
        ("aws-provider-region-allowed", "R1"),
        ("cloudtrail-enabled", "L1"),
        ("audit-bucket-worm", "L5"),
    ],
)
def test_residency_and_audit_integrity_cannot_be_exempted_in_prod(rule, control):
    msg = error(with_exemptions(entry(rule=rule)))
    assert f"{NS}:exemptions[0].rule" in msg and "cannot be exempted in prod" in msg
    assert control in msg


def test_dev_may_exempt_what_prod_may_not():
    cfg = parse(with_exemptions(entry(rule="aws-provider-region-allowed"), stack="dev"))
    assert cfg.exemptions[0].rule == "aws-provider-region-allowed"


def test_the_exemption_policies_cannot_be_exempted_anywhere():
    msg = error(with_exemptions(entry(rule="exemption-register"), stack="dev"))
    assert "cannot be exempted" in msg


@pytest.mark.parametrize("field", ["justification", "approver", "ticket"])
def test_empty_fields(field):
    msg = error(with_exemptions(entry(**{field: "  "})))
    assert msg == f'invalid stack config: {NS}:exemptions[0].{field} = "": must not be empty'


def test_expired():
    past = (today() - dt.timedelta(days=1)).isoformat()
    msg = error(with_exemptions(entry(expires=past)))
    assert f"{NS}:exemptions[0].expires" in msg and "expired" in msg


def test_prod_expiry_at_most_90_days_ahead_by_default():
    assert parse(with_exemptions(entry(expires=(today() + dt.timedelta(days=90)).isoformat())))
    msg = error(with_exemptions(entry(expires=(today() + dt.timedelta(days=91)).isoformat())))
    assert "more than 90 days ahead" in msg


def test_the_maximum_is_configurable():
    r = with_exemptions(entry(expires=(today() + dt.timedelta(days=91)).isoformat()))
    r["governance"] = {"maxExemptionDays": 120}
    assert parse(r).exemptions


def test_wildcard_needs_a_reason():
    msg = error(with_exemptions(entry(resource="*")))
    assert "a wildcard exemption covers the whole stack: say why in `reason`" in msg
    ok = with_exemptions(entry(resource="*", reason="every endpoint waits for the same quota"))
    assert parse(ok).exemptions[0].whole_stack


@pytest.mark.parametrize("bad", ["next month", 20261231, "2026-13-01"])
def test_malformed_dates(bad):
    msg = error(with_exemptions(entry(expires=bad)))
    assert f"{NS}:exemptions[0].expires" in msg and "ISO date" in msg


def test_missing_field_and_unknown_key():
    e = entry()
    del e["approver"]
    assert "required key is missing" in error(with_exemptions(e))
    assert "unknown key" in error(with_exemptions(entry(approved_by="x")))


def test_duplicates_are_refused():
    assert "already exempted" in error(with_exemptions(entry(), entry()))


# -- model inventory --------------------------------------------------------------------


def test_prod_models_carry_their_inventory():
    r = raw()
    del r["models"][0]["owner"]
    assert error(r) == (
        f"invalid stack config: {NS}:models[0].owner = null: prod models are in the model "
        "inventory: set it"
    )


def test_prod_refuses_unapproved_validation():
    r = raw()
    r["models"][1]["validation"]["status"] = "pending"
    assert (
        error(r)
        == f'invalid stack config: {NS}:models[1].validation.status = "pending": prod deploys '
        "only models whose validation is approved"
    )


def test_prod_refuses_stale_validation():
    r = raw()
    r["models"][0]["validation"]["date"] = (today() - dt.timedelta(days=366)).isoformat()
    assert "older than 365 days" in error(r)
    r["governance"] = {"maxValidationAgeDays": 400}
    assert parse(r)


def test_dev_records_a_pending_validation():
    cfg = parse(raw("dev"))
    assert cfg.models[0].validation.status == "pending"


def test_config_digest_is_canonical():
    a = {"environment": "prod", "aws:region": "eu-west-2", "x": {"b": 1, "a": 2}, "aws:other": 1}
    b = {"x": {"a": 2, "b": 1}, "aws:region": "eu-west-2", "environment": "prod"}
    assert config_digest(a) == config_digest(b)
    assert config_digest(a) != config_digest({**b, "environment": "dev"})
