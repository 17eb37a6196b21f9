"""The real stacks under the real policy pack: what `make preview` does on a fresh clone.

The prod preview runs once per session (`prod_report`); the other cases run
the CLI in-process.
"""

from __future__ import annotations

import json
import textwrap

import jsonschema
import yaml

from regulated_inference.preview.markdown import render_markdown
from regulated_inference.preview.report import STACK_TYPE
from regulated_inference.preview.sarif import to_sarif
from regulated_inference.simulation.engine import REPO_ROOT

from .conftest import SARIF_SCHEMA, copy_project


def test_prod_preview_has_no_mandatory_violation(prod_report):
    assert [(v.policy, v.resource_name, v.message) for v in prod_report.mandatory] == []
    assert prod_report.exit_code == 0


def test_prod_preview_analyzed_every_custom_resource(prod_report):
    customs = [r for r in prod_report.recording.resources if r.custom]
    assert prod_report.analysis.resources_analyzed == len(customs)
    assert prod_report.analysis.pack_name == "regulated-inference"
    assert prod_report.policy_config == "policies/config/prod.json"


def test_prod_resources_are_grouped_under_our_components(prod_report):
    tree = prod_report.component_tree()
    kinds = {g.kind for g in tree.walk() if g.resource is not None}
    assert {"EncryptionKeys", "IsolatedNetwork", "SecureBucket", "AuditTrail"} <= kinds
    # Everything the program declares sits in a component; only providers are top-level.
    assert {r.type.split(":")[0] + ":" + r.type.split(":")[1] for r in tree.members} <= {
        "pulumi:providers"
    }


def test_prod_coverage_cites_the_resources_each_rule_judged(prod_report):
    judged = prod_report.rule_resources()
    keys = [r.name for r in prod_report.recording.of_type("aws:kms/key:Key")]
    assert keys and set(keys) <= set(judged["kms-key-rotation"])
    coverage = prod_report.coverage()
    assert {"GDPR", "HIPAA", "SOC 2", "ISO 27001", "EU AI Act"} <= set(coverage)


def test_prod_sarif_is_schema_valid(prod_report):
    schema = json.loads(SARIF_SCHEMA.read_text())
    jsonschema.Draft4Validator(schema).validate(to_sarif(prod_report))


def test_prod_markdown_diagram_shows_the_platform_and_models(prod_report):
    md = render_markdown(prod_report)
    diagram = md.split("```mermaid\n")[1].split("```")[0]
    for kind in ("EncryptionKeys", "IsolatedNetwork", "AuditTrail"):
        assert f"<b>{kind}</b>" in diagram
    assert " --> " in diagram


def test_prod_stack_export_round_trips_as_json(prod_report, tmp_path):
    from regulated_inference.preview.stack_export import render_export

    dep = json.loads(render_export(prod_report.recording))["deployment"]
    assert dep["resources"][0]["type"] == STACK_TYPE
    assert len(dep["resources"]) == len(prod_report.recording.resources)


def test_dev_preview_exits_0(run_cli, real_analyze):
    r = run_cli("--stack", "dev", "--format", "json", analyze=real_analyze)
    data = json.loads(r.out)
    assert (r.code, data["summary"]["mandatoryViolations"]) == (0, 0), data["violations"]
    assert data["policyPack"]["config"] == "policies/config/dev.json"


INJECTED_PROGRAM = textwrap.dedent(
    f'''
    """The real stack program, plus one hand-written resource that breaks a rule."""
    import runpy

    import pulumi_aws as aws

    runpy.run_path({str(REPO_ROOT / "stacks" / "__main__.py")!r}, run_name="__pulumi_main__")
    aws.sns.Topic("unencrypted-alerts")  # no kms_master_key_id: control E6
    '''
)


def _prod_with_repo_pack(project) -> tuple[str, ...]:
    """CLI arguments: preview the prod stack of `project` under the repository's policy pack."""
    return (
        "--project-dir",
        str(project),
        "--stack",
        "prod",
        "--policy-pack",
        str(REPO_ROOT / "policies"),
    )


def test_prod_with_an_injected_violation_exits_1_and_names_it(run_cli, real_analyze, tmp_path):
    project = copy_project(REPO_ROOT, tmp_path / "injected", "prod")
    (project / "program").mkdir()
    (project / "program" / "__main__.py").write_text(INJECTED_PROGRAM)
    doc = yaml.safe_load((project / "Pulumi.yaml").read_text())
    doc["main"] = "program/"
    (project / "Pulumi.yaml").write_text(yaml.safe_dump(doc))
    r = run_cli(*_prod_with_repo_pack(project), "--format", "json", analyze=real_analyze)
    assert r.code == 1
    found = [
        (v["policy"], v["resourceName"])
        for v in json.loads(r.out)["violations"]
        if v["enforcement"] == "mandatory"
    ]
    assert ("sns-topic-cmk", "unencrypted-alerts") in found


def test_prod_with_invalid_config_exits_2_with_the_config_message(run_cli, real_analyze, tmp_path):
    def one_instance(config):
        config["regulated-inference:models"][0]["instanceCount"] = 1

    project = copy_project(REPO_ROOT, tmp_path / "bad", "prod", one_instance)
    r = run_cli(*_prod_with_repo_pack(project), analyze=real_analyze)
    assert r.code == 2
    assert r.err.startswith(
        "error: invalid stack config: regulated-inference:models[0].instanceCount = 1: "
    )
    assert len(r.err.strip().splitlines()) == 1


def test_module_entry_point_flushes_its_report_and_exit_status(real_analyze, tmp_path):
    """`python -m regulated_inference.preview` as `make preview` runs it (a real process, real exit)."""
    import subprocess
    import sys

    export = tmp_path / "dev-export.json"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "regulated_inference.preview",
            "--stack",
            "dev",
            "--format",
            "json",
            "--export",
            str(export),
        ],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)  # complete: nothing lost by the fast exit
    assert data["stack"] == "dev" and data["exitCode"] == 0
    assert "Exception ignored" not in proc.stderr
    assert json.loads(export.read_text())["deployment"]["resources"][0]["type"] == STACK_TYPE


def test_sarif_locates_findings_in_component_sources_and_stack_config(real_analyze, tmp_path):
    """Stricter parameters than prod's make real components fail; each result points at its source."""
    config = json.loads((REPO_ROOT / "policies" / "config" / "prod.json").read_text())
    config["aws-provider-region-allowed"]["allowedRegions"] = ["eu-west-1"]
    config["cloudwatch-log-retention"]["minRetentionDays"] = 3000
    strict = tmp_path / "strict.json"
    strict.write_text(json.dumps(config))
    from regulated_inference.preview import cli

    report = cli.run_preview("prod", policy_config=strict, analyze=real_analyze)
    results = to_sarif(report)["runs"][0]["results"]
    provider = next(r for r in results if r["ruleId"] == "aws-provider-region-allowed")
    where = provider["locations"][0]["physicalLocation"]
    assert where["artifactLocation"]["uri"] == "Pulumi.prod.yaml"
    line = (
        (REPO_ROOT / "Pulumi.prod.yaml").read_text().splitlines()[where["region"]["startLine"] - 1]
    )
    assert line.strip().startswith("aws:")
    assert provider["level"] == "error"
    # Log groups inside components: the line of the component's source that names the child.
    component_of = report.component_of()
    by_urn = report.recording.by_urn()
    logs = [r for r in results if r["ruleId"] == "cloudwatch-log-retention"]
    assert logs
    for result in logs:
        urn = result["locations"][0]["logicalLocations"][0]["fullyQualifiedName"]
        component = component_of[urn]
        role = by_urn[urn].name[len(component.name) + 1 :]
        where = result["locations"][0]["physicalLocation"]
        assert where["artifactLocation"]["uri"].startswith("regulated_inference/components/")
        source = (REPO_ROOT / where["artifactLocation"]["uri"]).read_text().splitlines()
        assert f"-{role}" in source[where["region"]["startLine"] - 1]


def test_broken_pack_exits_2_naming_the_pack(run_cli, real_analyze, tmp_path):
    """The default path (pack started beside the program) reports a pack that cannot start."""
    pack = tmp_path / "pack"
    (pack / "config").mkdir(parents=True)
    (pack / "PulumiPolicy.yaml").write_text("runtime: python\n")
    (pack / "__main__.py").write_text("raise SystemExit('the pack is broken')\n")
    (pack / "config" / "dev.json").write_text("{}")
    r = run_cli("--stack", "dev", "--policy-pack", str(pack))
    assert r.code == 2
    assert f"error: the policy pack in {pack} failed to start: PolicyPackError" in r.err
    assert "the pack is broken" in r.err


def test_policy_config_naming_unknown_rules_exits_2(run_cli, real_analyze, tmp_path):
    config = tmp_path / "dev.json"
    config.write_text(json.dumps({"no-such-rule": "mandatory"}))
    r = run_cli("--stack", "dev", "--policy-pack-config", str(config))
    assert r.code == 2
    assert "no-such-rule" in r.err
