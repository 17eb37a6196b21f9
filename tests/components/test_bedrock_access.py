"""BedrockAccess and the bedrock-runtime endpoint policy: logged, guarded, allow-listed, in-region."""

from __future__ import annotations

import json

import pytest

from regulated_inference.components.bedrock_access import (
    DEFAULT_PII_ENTITIES,
    PII_ENTITY_TYPES,
    BedrockAccess,
    GuardrailSettings,
    PiiAction,
    guardrail_settings,
    runtime_endpoint_policy,
)
from regulated_inference.lib import aws as aws_facts
from tests.components.helpers import (
    ACCT,
    DATA_KEY,
    LOGS_KEY,
    REGION,
    assert_refused,
    recorded,
    with_changes,
)
from tests.conftest import run_component

HAIKU = f"arn:aws:bedrock:{REGION}::foundation-model/anthropic.claude-3-haiku-20240307-v1:0"
TITAN = f"arn:aws:bedrock:{REGION}::foundation-model/amazon.titan-embed-text-v2:0"


def args(**change) -> dict:
    return with_changes(
        {
            "model_arns": [HAIKU, TITAN],
            "allowed_regions": [REGION],
            "aws": aws_facts.context(REGION, ACCT),
            "data_key_arn": DATA_KEY,
            "logs_key_arn": LOGS_KEY,
            "log_group_name": "/regulated-inference/test/bedrock/invocations",
            "log_retention_days": 400,
            "access_log_bucket": "access-logs",
            "invoker_service": "lambda.amazonaws.com",
            "guardrail": GuardrailSettings(
                pii_action=PiiAction.BLOCK, pii_entities=["EMAIL", "UK_NATIONAL_INSURANCE_NUMBER"]
            ),
        },
        change,
    )


rec = recorded(lambda: BedrockAccess("br", args()))


# -- endpoint policy ------------------------------------------------------------------------


def test_runtime_endpoint_policy_allows_only_listed_models_for_this_account():
    policy = json.loads(runtime_endpoint_policy([HAIKU, TITAN, HAIKU], ACCT))
    invoke, guardrail = policy["Statement"]
    assert invoke["Action"] == ["bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream"]
    assert invoke["Resource"] == [HAIKU, TITAN]
    assert invoke["Condition"] == {"StringEquals": {"aws:PrincipalAccount": ACCT}}
    assert guardrail["Action"] == "bedrock:ApplyGuardrail"
    assert guardrail["Resource"] == [f"arn:aws:bedrock:{REGION}:{ACCT}:guardrail/*"]
    assert guardrail["Condition"] == invoke["Condition"]


def test_runtime_endpoint_policy_with_exact_guardrail():
    gr = f"arn:aws:bedrock:{REGION}:{ACCT}:guardrail/abc"
    policy = json.loads(runtime_endpoint_policy([HAIKU], ACCT, [gr]))
    assert policy["Statement"][1]["Resource"] == [gr]


@pytest.mark.parametrize(
    "arns,account",
    [
        ([], ACCT),
        ([f"arn:aws:bedrock:{REGION}::foundation-model/*"], ACCT),
        (
            [
                f"arn:aws:bedrock:{REGION}:{ACCT}:inference-profile/global.anthropic.claude-sonnet-4-v1:0"
            ],
            ACCT,
        ),
        ([HAIKU], "not-an-account"),
        ([HAIKU], "１２３４５６７８９０１２"),  # full-width digits: not an account id
        # Partition and region are AWS's (lib.aws), not any `aws…` word or `[a-z0-9-]+`.
        ([HAIKU.replace("arn:aws:", "arn:aws-fake:")], ACCT),
        ([HAIKU.replace(f":{REGION}:", ":eu-west:")], ACCT),
    ],
)
def test_runtime_endpoint_policy_refuses_wildcards_and_global_profiles(arns, account):
    with pytest.raises(ValueError):
        runtime_endpoint_policy(arns, account)


# -- component -------------------------------------------------------------------------------


def test_invocation_logging_to_encrypted_in_region_sinks(rec):
    cfg = rec.one("aws:bedrockmodel/invocationLoggingConfiguration:InvocationLoggingConfiguration")
    lc = cfg.inputs["loggingConfig"]
    assert lc["textDataDeliveryEnabled"] is True and lc["imageDataDeliveryEnabled"] is False
    log_group = rec.one("aws:cloudwatch/logGroup:LogGroup")
    assert lc["cloudwatchConfig"]["logGroupName"] == log_group.outputs["name"]
    assert log_group.inputs["name"] == "/regulated-inference/test/bedrock/invocations"
    assert log_group.inputs["kmsKeyId"] == LOGS_KEY and log_group.inputs["retentionInDays"] == 400
    [bucket] = [b for b in rec.of_type("aws:s3/bucket:Bucket")]
    assert lc["s3Config"]["bucketName"] == bucket.outputs["bucket"]
    sse = rec.one(
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
    )
    assert json.dumps(sse.inputs).count(DATA_KEY) == 1
    assert "region" not in cfg.inputs or cfg.inputs["region"] == REGION
    role = [r for r in rec.of_type("aws:iam/role:Role") if "logging" in r.name][0]
    assert lc["cloudwatchConfig"]["roleArn"] == role.outputs["arn"]
    trust = json.loads(role.inputs["assumeRolePolicy"])["Statement"][0]
    assert trust["Principal"] == {"Service": "bedrock.amazonaws.com"}
    assert trust["Condition"]["ArnLike"] == {"aws:SourceArn": f"arn:aws:bedrock:{REGION}:{ACCT}:*"}


def test_logging_waits_for_the_bucket_policy(rec):
    cfg = rec.one("aws:bedrockmodel/invocationLoggingConfiguration:InvocationLoggingConfiguration")
    policy = rec.one("aws:s3/bucketPolicy:BucketPolicy")
    assert policy.urn in cfg.dependencies


def test_guardrail_has_prompt_attack_and_pii_filters_and_a_cmk(rec):
    g = rec.one("aws:bedrock/guardrail:Guardrail").inputs
    assert g["kmsKeyArn"] == DATA_KEY
    filters = {f["type"]: f for f in g["contentPolicyConfig"]["filtersConfigs"]}
    assert filters["PROMPT_ATTACK"]["inputStrength"] == "HIGH"
    assert filters["PROMPT_ATTACK"]["outputStrength"] == "NONE"
    assert {"HATE", "INSULTS", "SEXUAL", "VIOLENCE", "MISCONDUCT"} <= set(filters)
    pii = g["sensitiveInformationPolicyConfig"]["piiEntitiesConfigs"]
    assert pii == [
        {"type": "EMAIL", "action": "BLOCK"},
        {"type": "UK_NATIONAL_INSURANCE_NUMBER", "action": "BLOCK"},
    ]


def test_guardrail_version_is_published_and_kept(rec):
    g = rec.one("aws:bedrock/guardrail:Guardrail")
    v = rec.one("aws:bedrock/guardrailVersion:GuardrailVersion").inputs
    assert v["guardrailArn"] == g.outputs["guardrailArn"]
    assert v["skipDestroy"] is True and v["description"].startswith("settings ")
    out = rec.one("regulated-inference:index:BedrockAccess").outputs
    assert out["guardrailVersion"] == "1"


def test_guardrail_version_follows_the_settings():
    a = run_component(lambda: BedrockAccess("br", args()))
    b = run_component(
        lambda: BedrockAccess(
            "br", args(guardrail=GuardrailSettings(prompt_attack_strength="MEDIUM"))
        )
    )
    desc = [
        r.one("aws:bedrock/guardrailVersion:GuardrailVersion").inputs["description"] for r in (a, b)
    ]
    assert desc[0] != desc[1]


def test_invoke_role_allows_only_listed_models_and_this_guardrail(rec):
    role = [r for r in rec.of_type("aws:iam/role:Role") if "invoke" in r.name][0]
    trust = json.loads(role.inputs["assumeRolePolicy"])["Statement"][0]
    assert trust["Principal"] == {"Service": "lambda.amazonaws.com"}
    [policy] = [p for p in rec.of_type("aws:iam/rolePolicy:RolePolicy") if "invoke" in p.name]
    statements = json.loads(policy.inputs["policy"])["Statement"]
    invoke = statements[0]
    assert invoke["Action"] == ["bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream"]
    assert invoke["Resource"] == [HAIKU, TITAN]
    assert statements[1]["Action"] == "bedrock:ApplyGuardrail"
    assert (
        statements[1]["Resource"]
        == rec.one("aws:bedrock/guardrail:Guardrail").outputs["guardrailArn"]
    )
    assert statements[2]["Action"] == ["kms:Decrypt", "kms:DescribeKey"]
    assert statements[2]["Resource"] == DATA_KEY
    assert statements[2]["Condition"] == {
        "StringEquals": {"kms:ViaService": f"bedrock.{REGION}.amazonaws.com"}
    }
    text = policy.inputs["policy"]
    assert "bedrock:*" not in text and "global." not in text and '"*"' not in text


@pytest.mark.parametrize(
    "change,arg,fragment",
    [
        ({"model_arns": []}, "model_arns", "at least one"),
        (
            {"model_arns": [HAIKU.replace(REGION, "us-east-1")]},
            "model_arns",
            "region us-east-1 is not allowed",
        ),
        (
            {
                "model_arns": [
                    f"arn:aws:bedrock:{REGION}:{ACCT}:inference-profile/global.anthropic.claude-3-haiku-v1:0"
                ]
            },
            "model_arns",
            "global inference profiles",
        ),
        (
            {"model_arns": [f"arn:aws:bedrock:{REGION}::foundation-model/*"]},
            "model_arns",
            "no wildcards",
        ),
        ({"aws": aws_facts.context("eu-west-1", ACCT)}, "aws.region", "allowed_regions"),
        ({"aws": {"region": REGION}}, "aws", "account_id"),
        (
            {"guardrail": GuardrailSettings(prompt_attack_strength="NONE")},
            "guardrail.prompt_attack_strength",
            "mandatory",
        ),
        ({"guardrail": GuardrailSettings(pii_entities=[])}, "guardrail.pii_entities", "PII"),
        (
            {"guardrail": GuardrailSettings(pii_entities=["EMAIL", "SHOE_SIZE"])},
            "guardrail.pii_entities",
            "unknown PII entity types",
        ),
        (
            {"guardrail": GuardrailSettings(content_filter_strength="EXTREME")},
            "guardrail.content_filter_strength",
            "one of NONE, LOW, MEDIUM, HIGH",
        ),
        ({"invoker_service": "*"}, "invoker_service", "one AWS service"),
    ],
)
def test_invalid_args_are_refused(change, arg, fragment):
    assert_refused(lambda: BedrockAccess("bad", args(**change)), arg, fragment)


def test_default_guardrail_detects_the_regulated_pii_set():
    """Without guardrail settings a direct user gets the 9-type default, anonymised (M7)."""
    plain = run_component(
        lambda: BedrockAccess("br", {k: v for k, v in args().items() if k != "guardrail"})
    )
    config = plain.one("aws:bedrock/guardrail:Guardrail").inputs["sensitiveInformationPolicyConfig"]
    entities = config["piiEntitiesConfigs"]
    assert [e["type"] for e in entities] == list(DEFAULT_PII_ENTITIES)
    assert len(entities) == 9 and {e["action"] for e in entities} == {"ANONYMIZE"}
    assert {"EMAIL", "INTERNATIONAL_BANK_ACCOUNT_NUMBER", "AWS_SECRET_KEY"} <= set(
        DEFAULT_PII_ENTITIES
    )
    filters = plain.one("aws:bedrock/guardrail:Guardrail").inputs["contentPolicyConfig"][
        "filtersConfigs"
    ]
    assert {(f["type"], f["inputStrength"]) for f in filters} >= {
        ("PROMPT_ATTACK", "HIGH"),
        ("HATE", "HIGH"),
    }


def test_stack_config_default_is_the_component_default():
    """One place per fact: the config's PII default and known types are the component's objects."""
    from regulated_inference.config import models

    assert models.DEFAULT_PII_ENTITIES is DEFAULT_PII_ENTITIES
    assert models.PII_ENTITY_TYPES is PII_ENTITY_TYPES
    assert models.GuardrailConfig().pii_entities == list(DEFAULT_PII_ENTITIES)
    assert guardrail_settings()["pii_entities"] == list(DEFAULT_PII_ENTITIES)
