"""Exemptions in every report format, the evidence document, and its way into the WORM bucket."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import jsonschema
import pytest

from regulated_inference.config import ConfigError
from regulated_inference.config.exemptions import today
from regulated_inference.preview.analyzer import POLICIES_DIR, PolicyPackServer
from regulated_inference.preview.evidence import (
    SCHEMA_PATH,
    build_evidence,
    render_evidence_markdown,
)
from regulated_inference.preview.markdown import render_markdown
from regulated_inference.preview.report import PreviewReport, load_rule_scopes
from regulated_inference.preview.sarif import to_sarif
from regulated_inference.simulation.engine import run_stack_program
from regulated_inference.stack.evidence import ENV, evidence_key
from tests.conftest import run_stack_with
from tests.policies.test_engine_protocol import leaky_program, run
from tests.policies.test_exemptions_pack import LOG, SOON, TRAIL, pack_config

from .conftest import SARIF_SCHEMA


def evidence_validator() -> jsonschema.Draft202012Validator:
    schema = json.loads(SCHEMA_PATH.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())


@pytest.fixture(scope="module")
def exempted_report() -> PreviewReport:
    """The hand-written leaky program judged by the real pack with two exemptions."""
    recording = run(leaky_program)
    cfg = pack_config(LOG, TRAIL)
    with PolicyPackServer() as pack:
        analysis = pack.analyze(recording, cfg)
    return PreviewReport(
        recording=recording,
        analysis=analysis,
        policy_config="generated",
        pack_config=cfg,
        rule_scopes=load_rule_scopes(POLICIES_DIR),
    )


def test_text_lists_exemptions_with_days_left(exempted_report):
    text = exempted_report.to_text()
    block = text.split("EXEMPTIONS (2 in force; accepted risks: reported, not enforced)\n")[1]
    assert block.startswith(
        f"  cloudwatch-log-retention on 'app-logs': until {SOON} (20 days left), approver "
        "ciso@bank.example, ticket RISK-7, 1 finding(s)\n"
        "      justification: legacy app logs move to the central archive in Q1\n"
        "      - app-logs: retentionInDays is 7, minimum 30\n"
    )
    assert "whole stack because: the organisation trail covers this account" in block


def test_markdown_lists_exemptions(exempted_report):
    md = render_markdown(exempted_report)
    assert "### 📝 Exemptions in force (2)" in md
    assert (
        f"| `cloudwatch-log-retention` | `app-logs` | {SOON} | 20 | ciso@bank.example | RISK-7 | 1 | "
        "legacy app logs move to the central archive in Q1 |"
    ) in md


def test_json_has_exemptions_structured(exempted_report):
    data = json.loads(exempted_report.to_json())
    assert [e["ticket"] for e in data["exemptions"]] == ["RISK-7", "RISK-8"]
    assert data["exemptions"][0]["daysLeft"] == 20
    (log,) = [x for x in data["exemptedFindings"] if x["rule"] == "cloudwatch-log-retention"]
    assert (
        log["resourceName"] == "app-logs" and log["message"] == "retentionInDays is 7, minimum 30"
    )
    assert log["exemption"]["approver"] == "ciso@bank.example"
    # the waived findings are not among the rule's own findings
    assert not [v for v in data["violations"] if v["policy"] == "cloudwatch-log-retention"]


def test_sarif_puts_exempted_findings_in_suppressions_and_validates(exempted_report):
    sarif = to_sarif(exempted_report)
    schema = json.loads(SARIF_SCHEMA.read_text())
    jsonschema.Draft4Validator(schema).validate(sarif)
    results = sarif["runs"][0]["results"]
    suppressed = [r for r in results if "suppressions" in r]
    assert sorted(r["ruleId"] for r in suppressed) == [
        "cloudtrail-enabled",
        "cloudwatch-log-retention",
    ]
    (log,) = [r for r in suppressed if r["ruleId"] == "cloudwatch-log-retention"]
    (s,) = log["suppressions"]
    assert s["kind"] == "external" and s["status"] == "accepted"
    assert s["justification"] == (
        "legacy app logs move to the central archive in Q1 (approver ciso@bank.example, "
        f"ticket RISK-7, expires {SOON}, 20 days left)"
    )
    assert log["message"]["text"].startswith("[mandatory] retentionInDays is 7, minimum 30")
    assert not [r for r in results if r["ruleId"].startswith("exempted-")]
    unsuppressed = [r for r in results if "suppressions" not in r]
    assert len(unsuppressed) == len(exempted_report.analysis.violations) - 2


def test_evidence_validates_and_records_controls_exemptions_and_clauses(exempted_report):
    ev = build_evidence(exempted_report)
    evidence_validator().validate(ev)
    controls = {c["id"]: c for c in ev["controls"]}
    assert controls["L10"]["status"] in ("exempted", "findings", "failed")
    (retention,) = [r for r in controls["L10"]["rules"] if r["rule"] == "cloudwatch-log-retention"]
    assert retention["verdict"] == "exempted" and retention["findings"] == []
    assert retention["exempted"][0]["ticket"] == "RISK-7"
    assert "app-logs" in retention["resourcesJudged"]
    assert "EU AI Act Art. 26(6) (deployer keeps logs ≥ 6 months)" in controls["L10"]["clauses"]
    assert controls["N4"]["status"] == "failed"  # the open SSH security group, mandatory in dev
    assert [e["findings"] for e in ev["exemptions"]] == [1, 1]
    assert "L10" in ev["frameworks"]["DORA RTS 2024/1774 Art. 12 (logging)"]
    md = render_evidence_markdown(ev)
    assert "| `cloudwatch-log-retention` | `app-logs` | " in md and "## Framework clauses" in md


def _pack_version() -> str:
    import yaml

    from regulated_inference.preview.analyzer import POLICIES_DIR

    return str(yaml.safe_load((POLICIES_DIR / "PulumiPolicy.yaml").read_text())["version"])


def test_prod_json_report_includes_valid_evidence(prod_report):
    data = json.loads(prod_report.to_json())
    ev = data["evidence"]
    evidence_validator().validate(ev)
    assert ev["stack"] == "prod" and ev["verdict"] == "pass" and ev["exemptions"] == []
    assert {m["model"] for m in ev["modelInventory"]} == {
        "fraud-scorer",
        "claims-assistant",
        "credit-risk-llm",
    }
    assert all(m["validation"]["status"] == "approved" for m in ev["modelInventory"])
    assert ev["policyPack"] == {
        "name": "regulated-inference",
        "version": _pack_version(),
        "config": "policies/config/prod.json",
        "configSha256": ev["policyPack"]["configSha256"],
    }
    assert len(ev["controls"]) == 71  # every control of CONTROLS.md, G5 included
    assert "SR 11-7 (model inventory)" in ev["inventoryClauses"]


def test_cli_writes_evidence_json_and_markdown(run_cli, tmp_path: Path, real_analyze):
    out = tmp_path / "evidence.json"
    result = run_cli("--stack", "dev", "--evidence", str(out), analyze=real_analyze)
    assert result.code == 0, result.err
    evidence_validator().validate(json.loads(out.read_text()))
    assert (
        (tmp_path / "evidence.md")
        .read_text()
        .startswith("# Deployment evidence: regulated-inference/dev")
    )


# -- into the WORM audit bucket ------------------------------------------------------------


def _evidence_for(report: PreviewReport, path: Path) -> dict:
    ev = build_evidence(report)
    path.write_text(json.dumps(ev))
    return ev


def test_deployment_writes_its_evidence_next_to_the_model_records(
    prod_report, tmp_path, monkeypatch
):
    ev = _evidence_for(prod_report, tmp_path / "ev.json")
    monkeypatch.setenv(ENV, str(tmp_path / "ev.json"))
    rec = run_stack_program("prod")
    (obj,) = [
        r
        for r in rec.resources
        if r.type == "aws:s3/bucketObjectv2:BucketObjectv2" and r.name.startswith("evidence-")
    ]
    key = evidence_key("prod", ev)
    assert obj.inputs["key"] == key and key.startswith("deployments/prod/evidence/")
    assert json.loads(obj.inputs["content"])["configSha256"] == ev["configSha256"]
    assert obj.inputs["serverSideEncryption"] == "aws:kms" and obj.inputs["kmsKeyId"]
    audit = [r for r in rec.resources if r.type == "aws:s3/bucket:Bucket" and "audit" in r.name]
    assert obj.inputs["bucket"] in {a.outputs.get("bucket") for a in audit} | {
        a.outputs.get("id") for a in audit
    }
    assert rec.stack_outputs["evidence"] == key


def test_evidence_of_another_config_is_refused(prod_report, tmp_path, monkeypatch):
    _evidence_for(prod_report, tmp_path / "ev.json")
    monkeypatch.setenv(ENV, str(tmp_path / "ev.json"))

    def change(cfg):
        cfg["regulated-inference:logging"] = {"retentionDays": 545}

    with pytest.raises(ConfigError, match="was produced for config .*rerun the preview"):
        run_stack_with("prod", change)


def test_without_evidence_nothing_is_written(prod):
    assert prod.stack_outputs.get("evidence") is None
    assert not [r for r in prod.resources if r.name.startswith("evidence-")]
    assert prod.stack_outputs["modelInventory"][0]["owner"] == "fraud-models@bank.example"


def test_days_left_count_from_today():
    assert (dt.date.fromisoformat(SOON) - today()).days == 20


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_deploy_workflow_keeps_the_evidence_and_hands_it_to_pulumi_up(stack):
    import yaml

    wf = yaml.safe_load((Path(__file__).parents[2] / ".github/workflows/deploy.yml").read_text())
    steps = wf["jobs"][f"deploy-{stack}"]["steps"]
    names = [s.get("name") or s.get("uses") for s in steps]
    evidence = names.index(f"Evidence ({stack})")
    upload = names.index("actions/upload-artifact@v4")
    up = next(i for i, s in enumerate(steps) if s.get("uses", "").startswith("pulumi/actions"))
    assert evidence < upload < up
    assert f"--evidence out/evidence-{stack}.json" in steps[evidence]["run"]
    assert steps[upload]["with"]["path"] == f"out/evidence-{stack}.*"
    assert steps[up]["env"][ENV] == "${{ github.workspace }}/out/evidence-" + stack + ".json"


def test_evidence_reads_the_packs_own_exemption_names():
    """evidence.py restates the pack's exemption policy names and message mark (importing
    policies.rules would load every rule into each report); they must stay the pack's."""
    from policies.rules import exemptions as pack
    from regulated_inference.preview import evidence

    assert evidence.REPORTERS == (pack.EXEMPTED_FINDINGS, pack.EXEMPTED_STACK_FINDINGS)
    assert evidence.REGISTER == pack.EXEMPTION_REGISTER
    assert evidence.EXEMPTED_MARK == pack.EXEMPTED_MARK
