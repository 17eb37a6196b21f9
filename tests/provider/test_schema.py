"""The provider's schema: the cross-language API of the components, kept as a golden file.

A change to any hosted component's args, outputs or their docstrings changes the schema every
SDK is generated from (`pulumi package add`), so it must show up as a reviewed diff of
schema.golden.json. Regenerate with `UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/provider`.
"""

from __future__ import annotations

import difflib
import json
import os
from pathlib import Path

from google.protobuf import empty_pb2

from .conftest import PACKAGE

GOLDEN = Path(__file__).with_name("schema.golden.json")
HOSTED = [
    "EncryptionKeys",
    "IsolatedNetwork",
    "SecureBucket",
    "LeastPrivilegeRole",
    "AuditTrail",
    "ManagedInference",
    "AlertTopic",
    "ModelMonitoring",
    "DataQualityMonitor",
    "BedrockAccess",
    "SelfHostedInference",
    "ScheduledDriftCheck",
    "BedrockMonitoring",
    "AuditEvidenceAlarms",
]


def _text(schema: dict) -> str:
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def test_schema_matches_the_golden_file(provider):
    actual = _text(provider.schema())
    if os.environ.get("UPDATE_GOLDEN"):
        GOLDEN.write_text(actual)
    expected = GOLDEN.read_text() if GOLDEN.exists() else ""
    if actual != expected:
        diff = "".join(
            difflib.unified_diff(
                expected.splitlines(keepends=True),
                actual.splitlines(keepends=True),
                fromfile="tests/provider/schema.golden.json",
                tofile="GetSchema",
                n=2,
            )
        )
        raise AssertionError(
            "the provider's schema changed (the components' cross-language API). Review the "
            "diff; if intended, run `UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/provider` "
            f"and commit the golden file:\n{diff}"
        )


def test_type_tokens_are_package_index_class(provider):
    schema = provider.schema()
    assert schema["name"] == PACKAGE
    assert sorted(schema["resources"]) == sorted(f"{PACKAGE}:index:{c}" for c in HOSTED)
    for token, resource in schema["resources"].items():
        assert resource["isComponent"] is True, token


def test_inputs_are_camel_case_and_required_follow_the_typeddicts(provider):
    keys = provider.schema()["resources"][f"{PACKAGE}:index:EncryptionKeys"]
    assert set(keys["inputProperties"]) == {
        "aws",
        "logGroupPrefix",
        "trailName",
        "extraLogGroupPatterns",
        "deletionWindowDays",
        "accessLogSourceArns",
    }
    # NotRequired[...] keys are optional; the rest are required inputs in every language.
    assert sorted(keys["requiredInputs"]) == ["aws", "logGroupPrefix", "trailName"]
    # The AWS context is one shared object type, the same for every component.
    assert keys["inputProperties"]["aws"]["$ref"] == f"#/types/{PACKAGE}:index:AwsContext"
    context = provider.schema()["types"][f"{PACKAGE}:index:AwsContext"]
    assert sorted(context["required"]) == ["accountId", "partition", "region"]
    assert keys["inputProperties"]["deletionWindowDays"]["type"] == "integer"
    patterns = keys["inputProperties"]["extraLogGroupPatterns"]
    assert (patterns["type"], patterns["items"]["type"], patterns["plain"]) == (
        "array",
        "string",
        True,
    )
    assert sorted(keys["required"]) == ["auditKeyArn", "dataKeyArn", "logsKeyArn"]  # outputs
    network = provider.schema()["resources"][f"{PACKAGE}:index:IsolatedNetwork"]
    # pulumi.Input[str] is an input (not plain) in the schema: other languages may pass outputs.
    assert "plain" not in network["inputProperties"]["logsKmsKeyArn"]
    policies = network["inputProperties"]["endpointPolicies"]["additionalProperties"]
    assert policies["type"] == "string" and "plain" not in policies


def test_every_hosted_property_is_documented(provider):
    """Docstrings become the docs of every generated SDK: no input or output goes without one."""
    undocumented = [
        f"{token.split(':')[-1]}.{side}.{name}"
        for token, resource in provider.schema()["resources"].items()
        for side in ("inputProperties", "properties")
        for name, prop in resource.get(side, {}).items()
        if not (prop.get("description") or "").strip()
    ]
    assert undocumented == []


def test_plugin_info_reports_the_project_version(provider):
    from importlib.metadata import version

    info = provider.stub.GetPluginInfo(empty_pb2.Empty())
    assert info.version == version("regulated-inference")
    assert provider.schema()["version"] == info.version


def test_every_component_of_the_package_is_hosted():
    """A new component must be served to other languages (or this test says which is not)."""
    from tests.components.helpers import package_components

    found = set(package_components())
    assert found == set(HOSTED)
