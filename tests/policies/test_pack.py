"""The pack as a whole: control coverage, metadata, configs, generated docs."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import jsonschema
import pytest

from policies.rules import ALL_RULES, BY_NAME, FAMILIES
from policies.rules.base import SEVERITIES, res
from policies.rules.stack_index import StackIndex
from regulated_inference.preview.analyzer import POLICIES_DIR

CONTROLS_MD = POLICIES_DIR / "CONTROLS.md"
FAMILY_SIZES = {"R": 7, "E": 10, "L": 11, "N": 12, "I": 8, "M": 7, "K": 11, "G": 5}
EXPECTED_CONTROLS = {f"{p}{i}" for p, n in FAMILY_SIZES.items() for i in range(1, n + 1)}


def _config(stack: str) -> dict:
    return json.loads((POLICIES_DIR / "config" / f"{stack}.json").read_text())


def test_every_control_has_a_rule():
    covered = {c for r in ALL_RULES for c in r.controls}
    assert sorted(EXPECTED_CONTROLS - covered) == []
    assert sorted(covered - EXPECTED_CONTROLS) == []


def test_control_list_matches_the_catalog():
    ids = set(re.findall(r"^\| ([A-Z]\d+) \|", CONTROLS_MD.read_text(), re.MULTILINE))
    assert ids == EXPECTED_CONTROLS


def test_rule_metadata_is_complete():
    assert len(BY_NAME) == len(ALL_RULES), "duplicate rule names"
    for r in ALL_RULES:
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)+", r.name), r.name
        assert r.severity in SEVERITIES, r.name
        assert r.description and r.remediation and r.frameworks and r.controls, r.name
        assert r.kind in ("resource", "stack"), r.name
        if r.kind == "resource":
            assert r.types, f"{r.name} must say which resource types it judges"
        for key, schema in r.config_schema.items():
            assert "default" in schema and "description" in schema, f"{r.name}.{key}"
            jsonschema.validate(schema["default"], schema)


def test_frameworks_evidenced():
    clauses = {f for r in ALL_RULES for f in r.frameworks}
    for prefix in ("GDPR Art. 44", "HIPAA 164.312", "SOC 2", "ISO 27001 A.", "EU AI Act Art. 12"):
        assert any(c.startswith(prefix) for c in clauses), prefix


def test_families_partition_the_rules():
    assert sum(len(v) for v in FAMILIES.values()) == len(ALL_RULES)


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_config_names_real_policies_and_validates(stack):
    cfg = _config(stack)
    for name, entry in cfg.items():
        if name == "all":
            assert entry == "mandatory"
            continue
        assert name in BY_NAME, name
        if isinstance(entry, str):
            assert entry in ("advisory", "mandatory", "disabled")
            continue
        assert entry.get("enforcementLevel") in ("advisory", "mandatory")
        schema = {
            "type": "object",
            "properties": BY_NAME[name].config_schema,
            "additionalProperties": False,
        }
        jsonschema.validate({k: v for k, v in entry.items() if k != "enforcementLevel"}, schema)


def _level(cfg: dict, name: str) -> str:
    entry = cfg.get(name, cfg["all"])
    return entry if isinstance(entry, str) else entry.get("enforcementLevel", cfg["all"])


#: The two policies that only report exempted findings: an accepted risk is reported, never
#: enforced, so they are advisory in every stack.
REPORTERS = {"exempted-findings", "exempted-stack-findings"}


def test_prod_makes_every_rule_mandatory():
    cfg = _config("prod")
    assert {r.name: _level(cfg, r.name) for r in ALL_RULES} == {
        r.name: "advisory" if r.name in REPORTERS else "mandatory" for r in ALL_RULES
    }


def test_dev_keeps_only_cheap_or_prod_only_rules_advisory():
    cfg = _config("dev")
    advisory = {r.name for r in ALL_RULES if _level(cfg, r.name) == "advisory"}
    cheap = {r.name for r in ALL_RULES if r.dev_advisory}
    assert advisory == cheap | REPORTERS | {
        "sagemaker-model-monitor-schedule",
        "sagemaker-safe-deployment",
    }
    # residency, encryption and public-exposure rules stay blocking in dev
    for name in (
        "aws-provider-region-allowed",
        "resource-region-allowed",
        "s3-encryption-cmk",
        "s3-bucket-public-access-blocked",
        "iam-no-admin-star",
        "resource-policy-not-public",
    ):
        assert _level(cfg, name) == "mandatory", name


@pytest.mark.parametrize(
    "stack,regions,retention,window",
    [("prod", ["eu-west-2"], 365, 30), ("dev", ["eu-west-1", "eu-west-2"], 30, 7)],
)
def test_environment_parameters(stack, regions, retention, window):
    cfg = _config(stack)
    region_lists = [
        v["allowedRegions"] for v in cfg.values() if isinstance(v, dict) and "allowedRegions" in v
    ]
    assert region_lists and all(r == regions for r in region_lists), (
        "allowedRegions must agree across rules"
    )
    assert cfg["cloudwatch-log-retention"]["minRetentionDays"] == retention
    assert cfg["kms-key-policy-and-deletion-window"]["minDeletionWindowDays"] == window
    assert cfg["sinks-in-home-region"]["homeRegion"] == "eu-west-2"


def test_catalog_is_fresh():
    proc = subprocess.run(
        [sys.executable, str(POLICIES_DIR / "catalog.py"), "--check"],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr


def test_catalog_lists_every_rule():
    text = (POLICIES_DIR.parent / "docs" / "policies.md").read_text()
    for r in ALL_RULES:
        assert f"### `{r.name}`" in text


def test_taggable_types_list_is_fresh():
    sys.path.insert(0, str(POLICIES_DIR))
    try:
        import gen_taggable
    finally:
        sys.path.remove(str(POLICIES_DIR))
    current = (POLICIES_DIR / "rules" / "aws_taggable_types.txt").read_text()
    assert current == gen_taggable.render(), "run `python policies/gen_taggable.py`"


def test_requirements_are_pinned():
    lines = [
        ln.strip()
        for ln in (POLICIES_DIR / "requirements.txt").read_text().splitlines()
        if ln.strip() and not ln.startswith("#")
    ]
    assert lines and all(
        re.fullmatch(r"[A-Za-z0-9_.-]+==[0-9][0-9A-Za-z.]*", ln) for ln in lines
    ), lines


def _synthetic_stack(models: int) -> list:
    """A stack shaped like ours: per model a bucket + settings, endpoint, alarms, role."""
    out = []
    for i in range(models):
        b = f"bucket-{i}"
        out.append(
            res("aws:s3/bucket:Bucket", {"bucket": b, "id": b, "arn": f"arn:aws:s3:::{b}"}, b)
        )
        for t in (
            "bucketVersioning:BucketVersioning",
            "bucketPolicy:BucketPolicy",
            "bucketPublicAccessBlock:BucketPublicAccessBlock",
            "bucketLogging:BucketLogging",
        ):
            out.append(res(f"aws:s3/{t}", {"bucket": b, "targetBucket": "bucket-0"}, f"{b}-{t}"))
        ep = f"ep-{i}"
        out.append(res("aws:sagemaker/endpoint:Endpoint", {"name": ep}, ep))
        out.append(
            res(
                "aws:sagemaker/model:Model",
                {
                    "executionRoleArn": f"arn:role/{i}",
                    "vpcConfig": {"subnets": ["s"], "securityGroupIds": ["g"]},
                },
                f"m-{i}",
            )
        )
        for metric in (
            "ModelLatency",
            "Invocation5XXErrors",
            "HallucinationRate",
            "BiasScore",
            "DriftScore",
        ):
            out.append(
                res(
                    "aws:cloudwatch/metricAlarm:MetricAlarm",
                    {"metricName": metric, "dimensions": {"EndpointName": ep}},
                    f"{ep}-{metric}",
                )
            )
    return out


def test_stack_rules_scale_linearly():
    # Work, not wall time (timings belong to `make bench`): count the Python calls the
    # stack rules make, which is deterministic and independent of machine load.
    stack_rules = [r for r in ALL_RULES if r.kind == "stack"]

    def calls(n: int) -> int:
        resources = _synthetic_stack(n)
        count = 0

        def tracer(frame, event, arg):
            nonlocal count
            if event == "call":
                count += 1

        sys.setprofile(tracer)
        try:
            index = StackIndex(resources)
            for r in stack_rules:
                r.evaluate(index, None)
        finally:
            sys.setprofile(None)
        return count

    small, large = calls(50), calls(400)  # 8x the resources
    assert large < small * 12, f"{small} -> {large} calls: stack rules are not linear"


def test_speedup_memoises_within_a_request_only():
    from google.protobuf import json_format, struct_pb2

    from policies.rules import speedups

    shim = speedups._MemoisingJsonFormat()
    msg = struct_pb2.Struct()
    msg.update({"a": [1, {"b": "c"}]})
    assert shim.MessageToDict(msg) is not shim.MessageToDict(msg)  # outside an RPC: no memo
    speedups._local.caches = {}
    try:
        first = shim.MessageToDict(msg)
        assert first == json_format.MessageToDict(msg)
        assert shim.MessageToDict(msg) is first  # converted once per request
        other = struct_pb2.Struct()
        other.update({"a": 2})
        assert shim.MessageToDict(other) == {"a": 2}
    finally:
        speedups._local.caches = None
    assert shim.MessageToJson is json_format.MessageToJson
