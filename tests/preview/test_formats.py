"""Each report format, on the sample project's prod stack (fake policy driver)."""

from __future__ import annotations

import hashlib
import json
import re

import jsonschema

from regulated_inference.preview.analysis import AnalysisResult, PolicyViolation
from regulated_inference.preview.markdown import render_markdown
from regulated_inference.preview.report import PreviewReport, python_type, split_framework
from regulated_inference.preview.sarif import to_sarif
from regulated_inference.preview.stack_export import canonical_urns, to_deployment

from .conftest import SARIF_SCHEMA


def _sarif_validator():
    schema = json.loads(SARIF_SCHEMA.read_text())
    return jsonschema.Draft4Validator(schema)


# -- text -----------------------------------------------------------------------


def test_text_groups_resources_by_component_with_counts(sample_report):
    text = sample_report.to_text()
    assert "Platform 'platform' (0 own, 11 in subtree)" in text
    assert "  Keys 'platform-keys' (1 own)" in text
    block = text.split("SecureBucket 'platform-data' (2 own)\n")[1]
    assert block.startswith(
        "        aws.s3.Bucket, aws.s3.BucketServerSideEncryptionConfiguration\n"
    )
    assert "top-level, in no component (2)" in text


def test_text_groups_findings_by_enforcement_with_remediation(sample_report):
    text = sample_report.to_text()
    assert "  MANDATORY (0)\n    none" in text
    advisory = text.split("  ADVISORY (5)")[1].split("CONTROL COVERAGE")[0]
    assert "cloudtrail-present [high]  controls L1\n      - stack\n" in advisory
    assert "required-tags [low]" in advisory and "Missing tags: owner, environment." in advisory
    assert "Remediation: Add an aws.cloudtrail.Trail." in advisory


def test_text_control_coverage_per_framework(sample_report):
    text = sample_report.to_text().split("CONTROL COVERAGE")[1]
    assert "HIPAA: 2 clause(s), 1 evidenced without findings" in text
    assert "    164.312(a)(2)(iv): EVIDENCED\n        controls: E3 E8\n" in text
    assert "    Art. 12 (record-keeping): FINDINGS\n        controls: L1\n" in text


def test_type_tokens_read_like_python():
    assert python_type("aws:s3/bucket:Bucket") == "aws.s3.Bucket"
    assert python_type("aws:s3/bucketVersioning:BucketVersioning") == "aws.s3.BucketVersioning"
    assert python_type("kubernetes:apps/v1:Deployment") == "kubernetes.apps.v1.Deployment"
    assert python_type("pulumi:providers:aws") == "pulumi.providers.aws"


def test_framework_references_split_into_framework_and_clause():
    assert split_framework("SOC 2 CC6.1 (logical access)") == ("SOC 2", "CC6.1 (logical access)")
    assert split_framework("EU AI Act Art. 12 (record-keeping)") == (
        "EU AI Act",
        "Art. 12 (record-keeping)",
    )
    assert split_framework("HIPAA 164.312(b)") == ("HIPAA", "164.312(b)")
    assert split_framework("FedRAMP: AC-2") == ("FedRAMP", "AC-2")


# -- JSON -----------------------------------------------------------------------


def test_json_is_parseable_with_the_documented_keys(sample_report):
    data = json.loads(sample_report.to_json())
    assert set(data) >= {
        "project",
        "stack",
        "region",
        "exitCode",
        "summary",
        "policyPack",
        "components",
        "resources",
        "stackOutputs",
        "policies",
        "violations",
        "coverage",
    }
    assert data["exitCode"] == 0
    assert (
        data["summary"]["mandatoryViolations"] == 0 and data["summary"]["advisoryViolations"] == 5
    )
    assert data["summary"]["total"] == len(data["resources"]) == 14
    bucket = next(r for r in data["resources"] if r["name"] == "platform-data-bucket")
    assert bucket["component"].endswith("::platform-data")
    assert bucket["outputs"]["arn"].startswith("arn:aws:s3:::platform-data-bucket-")
    stack_finding = next(v for v in data["violations"] if v["policy"] == "cloudtrail-present")
    assert (
        stack_finding["urn"] is None
        and stack_finding["remediation"] == "Add an aws.cloudtrail.Trail."
    )


# -- SARIF ----------------------------------------------------------------------


def test_sarif_is_valid_against_the_2_1_0_schema(sample_report):
    log = to_sarif(sample_report)
    _sarif_validator().validate(log)
    assert log["version"] == "2.1.0"


def test_sarif_rules_results_and_levels(sample_report):
    run = to_sarif(sample_report)["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == [p.name for p in sample_report.analysis.policies]
    rotation = rules[[r["id"] for r in rules].index("kms-key-rotation")]
    assert rotation["defaultConfiguration"]["level"] == "error"
    assert rotation["properties"]["security-severity"] == "8.0"
    assert "E8" in rotation["properties"]["tags"]
    assert len(run["results"]) == 5
    assert {r["level"] for r in run["results"]} == {"warning"}
    for result in run["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
    assert run["automationDetails"]["id"] == "offline-preview/prod/"


def test_sarif_points_at_the_declaring_source(sample_report):
    # The real SecureBucket shares the sample's type token; the program's own class must win.
    import regulated_inference.components.secure_bucket  # noqa: F401

    results = to_sarif(sample_report)["runs"][0]["results"]
    by_name = {r["locations"][0]["logicalLocations"][0]["name"]: r for r in results}
    bucket = by_name["platform-data-bucket"]["locations"][0]
    path = bucket["physicalLocation"]["artifactLocation"]["uri"]
    line = bucket["physicalLocation"]["region"]["startLine"]
    assert path == "tests/preview/sample_project/program/__main__.py"
    source = (sample_report.project_dir / "program" / "__main__.py").read_text().splitlines()
    assert 'f"{name}-bucket"' in source[line - 1]
    assert bucket["logicalLocations"][0]["fullyQualifiedName"].endswith("::platform-data-bucket")
    # A stack-level finding points at the stack's config file.
    stack = by_name["prod"]["locations"][0]["physicalLocation"]
    assert stack["artifactLocation"]["uri"] == "tests/preview/sample_project/Pulumi.prod.yaml"


def test_sarif_with_mandatory_findings_is_valid_and_at_error_level(sample_report):
    failing = PreviewReport(
        recording=sample_report.recording,
        analysis=AnalysisResult(
            pack_name="p",
            pack_version="1.2.3",
            policies=sample_report.analysis.policies,
            violations=[
                PolicyViolation(
                    policy="kms-key-rotation", enforcement="mandatory", message="off", urn=None
                ),
                PolicyViolation(policy="not-described", enforcement="mandatory", message="x"),
            ],
        ),
        project_dir=sample_report.project_dir,
    )
    log = to_sarif(failing)
    _sarif_validator().validate(log)
    run = log["runs"][0]
    assert [r["level"] for r in run["results"]] == ["error", "error"]
    assert run["tool"]["driver"]["rules"][run["results"][1]["ruleIndex"]]["id"] == "not-described"
    assert run["invocations"][0]["exitCode"] == 1


# -- Markdown -------------------------------------------------------------------


def test_markdown_has_marker_verdict_and_a_mermaid_diagram(sample_report):
    md = render_markdown(sample_report)
    assert md.startswith(
        "<!-- offline-preview:prod -->\n## ✅ Offline preview of `prod`: no mandatory violation"
    )
    diagram = md.split("```mermaid\n")[1].split("```")[0]
    assert diagram.startswith("flowchart LR")
    # One node per component instance, nested ones inside their parent's subgraph.
    assert 'subgraph sc1["Platform: platform"]' in diagram
    for name in ("platform-keys", "platform-data", "platform-capture", "platform-artifacts"):
        assert f"<br/>{name}<br/>" in diagram
    # The top-level topic is encrypted with the platform's key: an arrow from the stack's
    # own resources to the Platform; nested components draw no arrows of their own.
    platform_node = re.search(r'(c\d+)\["<b>Platform</b>', diagram).group(1)
    assert [line.strip() for line in diagram.splitlines() if "-->" in line] == [
        f"stack --> {platform_node}"
    ]
    data_node = re.search(r'(c\d+)\["<b>SecureBucket</b><br/>platform-data<', diagram).group(1)
    assert f"class {data_node} warn" in diagram  # it has an advisory finding


def test_markdown_lists_findings_in_tables(sample_report):
    md = render_markdown(sample_report)
    assert "<details><summary>⚠️ Advisory findings (5)</summary>" in md
    assert (
        "| `cloudtrail-present` | stack | No CloudTrail trail in the stack. | Add an aws.cloudtrail.Trail. |"
        in md
    )
    assert "### ❌ Mandatory violations" not in md


# -- stack export ---------------------------------------------------------------


def test_stack_export_is_a_version_3_deployment(sample_report):
    dep = to_deployment(sample_report.recording)
    assert dep["version"] == 3
    manifest = dep["deployment"]["manifest"]
    assert manifest["version"].startswith("v3.")
    assert manifest["magic"] == hashlib.sha256(manifest["version"].encode()).hexdigest()
    resources = dep["deployment"]["resources"]
    assert resources[0]["type"] == "pulumi:pulumi:Stack"
    assert resources[0]["outputs"]["alertsTopic"].startswith("arn:aws:sns:eu-central-1:")
    assert len(resources) == len(sample_report.recording.resources)


def test_stack_export_orders_and_references_like_the_engine(sample_report):
    resources = to_deployment(sample_report.recording)["deployment"]["resources"]
    seen: dict[str, dict] = {}
    for r in resources:
        assert set(r) <= {
            "urn",
            "custom",
            "id",
            "type",
            "inputs",
            "outputs",
            "parent",
            "dependencies",
            "provider",
            "propertyDependencies",
        }
        for ref in [
            r.get("parent"),
            *r.get("dependencies", []),
            *sum(r.get("propertyDependencies", {}).values(), []),
        ]:
            assert ref is None or ref in seen, f"{r['urn']} refers to {ref} before it is declared"
        if r["custom"] and not r["type"].startswith("pulumi:providers:"):
            urn, _, pid = r["provider"].rpartition("::")
            assert seen[urn]["id"] == pid and seen[urn]["type"] == "pulumi:providers:aws"
        seen[r["urn"]] = r


def test_stack_export_uses_the_engines_urns(sample_report):
    urns = canonical_urns(sample_report.recording)
    by_name = {r.name: urns[r.urn] for r in sample_report.recording.resources}
    assert (
        by_name["platform"]
        == "urn:pulumi:prod::sample-inference::regulated-inference:index:Platform::platform"
    )
    assert by_name["platform-data-bucket"] == (
        "urn:pulumi:prod::sample-inference::regulated-inference:index:Platform$"
        "regulated-inference:index:SecureBucket$aws:s3/bucket:Bucket::platform-data-bucket"
    )
    assert by_name["alerts"] == "urn:pulumi:prod::sample-inference::aws:sns/topic:Topic::alerts"
    # Idempotent: already-canonical URNs are left alone.
    assert canonical_urns(sample_report.recording) == urns


def _many_components_report(n: int) -> PreviewReport:
    import pulumi
    import pulumi_aws as aws

    from regulated_inference.simulation.engine import run_program

    class Widget(pulumi.ComponentResource):
        def __init__(self, name, key):
            super().__init__("regulated-inference:index:Widget", name, None, None)
            aws.sns.Topic(
                f"{name}-topic", kms_master_key_id=key.arn, opts=pulumi.ResourceOptions(parent=self)
            )
            self.register_outputs({})

    def program():
        key = aws.kms.Key("key", enable_key_rotation=True)
        for i in range(n):
            Widget(f"w{i}", key)

    recording = run_program(program, project="p", stack="big", config={"aws:region": "eu-west-2"})
    return PreviewReport(
        recording=recording, analysis=AnalysisResult(pack_name="p", pack_version="1")
    )


def test_large_stacks_get_one_diagram_node_per_component_kind():
    from regulated_inference.preview.markdown import MAX_DIAGRAM_COMPONENTS, mermaid_diagram

    diagram = mermaid_diagram(_many_components_report(MAX_DIAGRAM_COMPONENTS + 5))
    assert (
        f'k1["<b>Widget ×{MAX_DIAGRAM_COMPONENTS + 5}</b><br/>{MAX_DIAGRAM_COMPONENTS + 5} resources"]'
        in diagram
    )
    assert "k1 --> stack" in diagram  # the topics use the top-level key
    assert diagram.count("-->") == 1


def test_markdown_drops_optional_sections_to_fit_a_comment(monkeypatch):
    from regulated_inference.preview import markdown

    report = _many_components_report(3)
    full = markdown.render_markdown(report)
    assert "<summary>Resources by component</summary>" in full
    monkeypatch.setattr(markdown, "MAX_COMMENT_CHARS", len(full) - 50)
    cut = markdown.render_markdown(report)
    assert "<summary>Resources by component</summary>" not in cut
    assert "Sections left out to fit a comment" in cut
    assert "```mermaid" in cut and len(cut) < len(full)
