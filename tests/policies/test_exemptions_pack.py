"""Exemptions honoured by the pack itself, through its config, over the analyzer protocol."""

from __future__ import annotations

import copy
import datetime as dt
import json

import pytest

from policies.rules import BY_NAME
from policies.rules.base import Finding, res
from policies.rules.exemptions import Exemption, parse, parse_one, today, waived
from regulated_inference.preview.analysis import ADVISORY, MANDATORY
from regulated_inference.preview.analyzer import PolicyConfigError
from regulated_inference.preview.policy_config import generate
from tests.conftest import encode, stack_config

from .conftest import PROD_CONFIG
from .test_engine_protocol import EXPECTED_LEAKY, found, leaky  # noqa: F401 (fixture)

SOON = (today() + dt.timedelta(days=20)).isoformat()
PAST = (today() - dt.timedelta(days=3)).isoformat()

LOG = {
    "rule": "cloudwatch-log-retention",
    "resource": "app-logs",
    "justification": "legacy app logs move to the central archive in Q1",
    "approver": "ciso@bank.example",
    "ticket": "RISK-7",
    "expires": SOON,
}
TRAIL = {
    "rule": "cloudtrail-enabled",
    "resource": "*",
    "reason": "the organisation trail covers this account",
    "justification": "org trail owned by the security account",
    "approver": "ciso@bank.example",
    "ticket": "RISK-8",
    "expires": SOON,
}


def pack_config(*exemptions: dict, env: str = "dev") -> dict:
    """The pack config the generator writes for a stack with these exemptions."""
    cfg = copy.deepcopy(stack_config(env))
    cfg["regulated-inference:exemptions"] = list(exemptions)
    return generate(encode(cfg))


def by_policy(result, policy):
    return [v for v in result.violations if v.policy == policy]


def test_generator_carries_exemptions_to_the_rule_and_the_reporters():
    cfg = pack_config(LOG, TRAIL)
    assert cfg["cloudwatch-log-retention"]["exemptions"] == [LOG]
    assert cfg["cloudtrail-enabled"]["exemptions"] == [TRAIL]
    assert cfg["exempted-findings"] == {
        "enforcementLevel": "advisory",
        "exemptions": [LOG],
        "ruleParameters": {"cloudwatch-log-retention": {"minRetentionDays": 30}},
    }
    assert cfg["exempted-stack-findings"]["exemptions"] == [TRAIL]
    assert cfg["exemption-register"]["exemptions"] == [LOG, TRAIL]


def test_a_valid_exemption_suppresses_exactly_its_finding(pack, leaky):  # noqa: F811
    base = pack.analyze(leaky, pack_config())
    result = pack.analyze(leaky, pack_config(LOG, TRAIL))
    waived_pairs = {("cloudwatch-log-retention", "app-logs"), ("cloudtrail-enabled", None)}
    assert waived_pairs <= found(base)
    # everything else is reported exactly as without exemptions
    rest = {(v.policy, v.resource_name, v.message, v.enforcement) for v in result.violations}
    expected = {
        (v.policy, v.resource_name, v.message, v.enforcement)
        for v in base.violations
        if (v.policy, v.resource_name) not in waived_pairs
    }
    assert {x for x in rest if not x[0].startswith("exempted-")} == expected
    (log,) = by_policy(result, "exempted-findings")
    assert log.enforcement == ADVISORY and log.resource_name == "app-logs"
    assert log.message == (
        "cloudwatch-log-retention: retentionInDays is 7, minimum 30 — EXEMPTED until "
        f"{SOON} (20 days left): legacy app logs move to the central archive in Q1 "
        "(approver ciso@bank.example, ticket RISK-7)"
    )
    (trail,) = by_policy(result, "exempted-stack-findings")
    assert trail.enforcement == ADVISORY
    assert trail.message.startswith("cloudtrail-enabled: ") and "ticket RISK-8" in trail.message
    assert by_policy(result, "exemption-register") == []


def test_prod_config_honours_exemptions_of_exemptable_rules(pack, leaky):  # noqa: F811
    cfg = json.loads(PROD_CONFIG.read_text())
    cfg["cloudwatch-log-retention"]["exemptions"] = [LOG]
    cfg["exempted-findings"] = {
        "enforcementLevel": "advisory",
        "exemptions": [LOG],
        "ruleParameters": {"cloudwatch-log-retention": {"minRetentionDays": 365}},
    }
    result = pack.analyze(leaky, cfg)
    assert found(result) == (EXPECTED_LEAKY - {("cloudwatch-log-retention", "app-logs")}) | {
        ("exempted-findings", "app-logs")
    }
    assert all(
        v.enforcement == MANDATORY for v in result.violations if v.policy != "exempted-findings"
    )


def test_an_expired_exemption_is_enforced_and_reported(pack, leaky):  # noqa: F811
    result = pack.analyze(leaky, pack_config({**LOG, "expires": PAST}))
    assert ("cloudwatch-log-retention", "app-logs") in found(result)
    assert by_policy(result, "exempted-findings") == []
    (reg,) = by_policy(result, "exemption-register")
    assert reg.message == (
        "exemption of cloudwatch-log-retention on 'app-logs' (ticket RISK-7) expired on "
        f"{PAST}: the finding is enforced again; renew it with a new approval or remove it"
    )


def test_an_unmatched_exemption_is_stale(pack, leaky):  # noqa: F811
    stale = {**LOG, "rule": "kms-key-rotation", "resource": "no-such-key"}
    result = pack.analyze(leaky, pack_config(stale))
    (reg,) = by_policy(result, "exemption-register")
    assert reg.message == (
        "exemption of kms-key-rotation on 'no-such-key' (ticket RISK-7) matches no finding: it "
        "is stale (the risk is gone or the resource was renamed); remove it"
    )
    assert ("kms-key-rotation", "data-key") in found(result)  # not waived


def test_register_is_mandatory_in_prod(pack, leaky):  # noqa: F811
    cfg = json.loads(PROD_CONFIG.read_text())
    cfg["exemption-register"] = {
        "enforcementLevel": "mandatory",
        "exemptions": [{**LOG, "expires": PAST}],
    }
    (reg,) = by_policy(pack.analyze(leaky, cfg), "exemption-register")
    assert reg.enforcement == MANDATORY


def test_a_malformed_exemption_waives_nothing_and_is_reported(pack, leaky):  # noqa: F811
    bad = {**LOG, "ticket": "", "expires": "soon"}  # passes the schema, not the register
    cfg = pack_config()
    cfg["cloudwatch-log-retention"] = {
        "enforcementLevel": "mandatory",
        "minRetentionDays": 30,
        "exemptions": [bad],
    }
    cfg["exemption-register"] = {"enforcementLevel": "advisory", "exemptions": [bad]}
    result = pack.analyze(leaky, cfg)
    assert ("cloudwatch-log-retention", "app-logs") in found(result)
    (reg,) = by_policy(result, "exemption-register")
    assert reg.message == "exemptions[0] is malformed and waives nothing: missing or empty ticket"


def test_an_exemption_without_a_required_key_is_refused_like_any_bad_config(pack, leaky):  # noqa: F811
    cfg = pack_config()
    cfg["exemption-register"] = {
        "enforcementLevel": "advisory",
        "exemptions": [{k: v for k, v in LOG.items() if k != "ticket"}],
    }
    with pytest.raises(PolicyConfigError, match="exemptions/0: 'ticket' is a required property"):
        pack.analyze(leaky, cfg)


# -- pure parts ---------------------------------------------------------------------------


def test_parse_and_glob_matching():
    e = parse_one({**LOG, "resource": "app-*"})
    assert isinstance(e, Exemption) and e.matches("cloudwatch-log-retention", "app-logs")
    assert not e.matches("cloudwatch-log-retention", "audit-logs")
    assert not e.matches("kms-key-rotation", "app-logs")
    assert parse_one({**LOG, "expires": "soon"}) == "expires 'soon' is not an ISO date (YYYY-MM-DD)"
    assert parse([LOG, "x", {**LOG, "rule": ""}]) == [parse_one(LOG)]


def test_unknown_findings_are_never_waived():
    e = parse([LOG])
    findings = [Finding("definite"), Finding("cannot verify until apply", unknown=True)]
    assert waived(findings, e, "cloudwatch-log-retention", "app-logs") == [findings[1]]
    assert waived(findings, e, "cloudwatch-log-retention", "other") == findings


def test_reporter_reruns_the_rule_with_its_parameters():
    rule = BY_NAME["exempted-findings"]
    group = res("aws:cloudwatch/logGroup:LogGroup", {"retentionInDays": 100}, name="app-logs")
    cfg = {
        "exemptions": [LOG],
        "ruleParameters": {"cloudwatch-log-retention": {"minRetentionDays": 365}},
    }
    (f,) = rule.evaluate(group, cfg)
    assert f.message.startswith("cloudwatch-log-retention: retentionInDays is 100, minimum 365")
    cfg["ruleParameters"]["cloudwatch-log-retention"]["minRetentionDays"] = 30
    assert rule.evaluate(group, cfg) == []


@pytest.mark.parametrize(
    "name", ["exempted-findings", "exempted-stack-findings", "exemption-register"]
)
def test_reporters_are_g5_and_not_exemptable(name):
    assert BY_NAME[name].controls == ("G5",) and not BY_NAME[name].exemptable_in_prod
