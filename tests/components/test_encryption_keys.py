"""EncryptionKeys: one CMK per purpose, rotation, scoped key policies, no multi-Region."""

from __future__ import annotations

import json

import pytest

from regulated_inference.components.encryption_keys import EncryptionKeys
from regulated_inference.lib.errors import ComponentArgsError
from tests.conftest import run_component

ARGS = {
    "aws": {"partition": "aws", "region": "eu-west-2", "account_id": "111122223333"},
    "log_group_prefix": "/regulated-inference/test/",
    "trail_name": "test-audit",
}


@pytest.fixture(scope="module")
def rec():
    return run_component(lambda: EncryptionKeys("k", dict(ARGS)))


def _keys(rec):
    return {r.name.removeprefix("k-"): r for r in rec.of_type("aws:kms/key:Key")}


def test_one_key_per_purpose_with_rotation_and_no_multi_region(rec):
    keys = _keys(rec)
    assert set(keys) == {"data", "logs", "audit"}
    for key in keys.values():
        assert key.inputs["enableKeyRotation"] is True
        assert key.inputs["multiRegion"] is False
        assert key.inputs["deletionWindowInDays"] == 30
        assert key.inputs["description"]  # G3
        assert key.outputs["arn"].startswith("arn:aws:kms:eu-west-2:")
    assert len(rec.of_type("aws:kms/alias:Alias")) == 3


def test_no_star_principal_and_no_wildcard_actions(rec):
    for key in _keys(rec).values():
        doc = json.loads(key.inputs["policy"])
        for st in doc["Statement"]:
            assert st["Principal"] != "*" and st["Principal"] != {"AWS": "*"}
            actions = st["Action"] if isinstance(st["Action"], list) else [st["Action"]]
            assert not any("*" in a for a in actions), st


def test_logs_key_lets_cloudwatch_logs_use_it_only_for_our_log_groups(rec):
    st = _statement(rec, "logs", "CloudWatchLogsForOurLogGroups")
    assert st["Principal"] == {"Service": "logs.eu-west-2.amazonaws.com"}
    assert st["Condition"]["ArnLike"]["kms:EncryptionContext:aws:logs:arn"] == (
        "arn:aws:logs:eu-west-2:111122223333:log-group:/regulated-inference/test/*"
    )


def test_audit_key_lets_only_our_trail_encrypt(rec):
    st = _statement(rec, "audit", "CloudTrailEncryptLogs")
    assert (
        st["Condition"]["StringEquals"]["aws:SourceArn"]
        == "arn:aws:cloudtrail:eu-west-2:111122223333:trail/test-audit"
    )
    assert "CloudTrailEncryptLogs" not in json.dumps(
        json.loads(_keys(rec)["data"].inputs["policy"])
    )


def test_data_key_used_only_via_sagemaker_s3_bedrock_for_this_account(rec):
    st = _statement(rec, "data", "UseViaServicesInThisAccount")
    assert st["Condition"]["StringEquals"]["kms:CallerAccount"] == "111122223333"
    assert sorted(st["Condition"]["StringEquals"]["kms:ViaService"]) == [
        "bedrock.eu-west-2.amazonaws.com",
        "s3.eu-west-2.amazonaws.com",
        "sagemaker.eu-west-2.amazonaws.com",
    ]


@pytest.mark.parametrize(
    "change,arg",
    [
        ({"deletion_window_days": 5}, "deletion_window_days"),
        ({"deletion_window_days": 31}, "deletion_window_days"),
        ({"log_group_prefix": "regulated"}, "log_group_prefix"),
        ({"trail_name": ""}, "trail_name"),
    ],
)
def test_invalid_args_fail_before_any_resource(change, arg):
    with pytest.raises(ComponentArgsError) as info:
        run_component(lambda: EncryptionKeys("k", {**ARGS, **change}))
    assert info.value.arg == arg
    assert f"invalid argument {arg}" in str(info.value)
    assert [r for r in info.value.partial_recording.resources if r.custom] == []


def test_bedrock_may_encrypt_invocation_logs_with_the_data_key_for_this_account_only(rec):
    st = _statement(rec, "data", "BedrockInvocationLogDelivery")
    assert (
        st["Principal"] == {"Service": "bedrock.amazonaws.com"}
        and st["Action"] == "kms:GenerateDataKey"
    )
    assert st["Condition"] == {
        "StringEquals": {"aws:SourceAccount": "111122223333"},
        "ArnLike": {"aws:SourceArn": "arn:aws:bedrock:eu-west-2:111122223333:*"},
    }


def _statement(rec, purpose: str, sid: str) -> dict | None:
    doc = json.loads(_keys(rec)[purpose].inputs["policy"])
    return next((st for st in doc["Statement"] if st.get("Sid") == sid), None)


def test_s3_access_log_delivery_may_use_the_logs_key_for_named_sources_only():
    sources = ["arn:aws:s3:::regulated-inference-test-*"]
    rec = run_component(lambda: EncryptionKeys("k", {**ARGS, "access_log_source_arns": sources}))
    st = _statement(rec, "logs", "S3ServerAccessLogDelivery")
    assert st is not None, "S3 cannot write access logs into an SSE-KMS bucket without this grant"
    assert st["Effect"] == "Allow"
    assert st["Principal"] == {"Service": "logging.s3.amazonaws.com"}
    assert st["Action"] == "kms:GenerateDataKey"
    assert st["Condition"]["StringEquals"] == {"aws:SourceAccount": "111122223333"}
    assert st["Condition"]["ArnLike"] == {"aws:SourceArn": sources[0]}
    for purpose in ("data", "audit"):  # only the logs key encrypts the access-log bucket
        assert _statement(rec, purpose, "S3ServerAccessLogDelivery") is None


def test_no_access_log_grant_without_sources(rec):
    assert _statement(rec, "logs", "S3ServerAccessLogDelivery") is None


@pytest.mark.parametrize("bad", ["arn:aws:s3:::*", "regulated-inference-*", "arn:aws:sns:::x"])
def test_access_log_sources_must_be_bucket_arns_not_everything(bad):
    with pytest.raises(ComponentArgsError, match="access_log_source_arns"):
        run_component(lambda: EncryptionKeys("k", {**ARGS, "access_log_source_arns": [bad]}))
