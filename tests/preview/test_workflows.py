"""The GitHub workflows: valid against GitHub's workflow schema, and doing what the README says."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from offline_preview.engine import REPO_ROOT

WORKFLOWS = REPO_ROOT / ".github" / "workflows"
CHECK_JSONSCHEMA = Path(sys.executable).parent / "check-jsonschema"


def _load(name: str) -> dict:
    doc = yaml.safe_load((WORKFLOWS / name).read_text())
    # YAML 1.1 reads the `on:` key as True.
    doc["on"] = doc.pop(True, doc.get("on"))
    return doc


def _steps(job: dict) -> str:
    """The shell commands and scripts of a job's steps, as written."""
    return "\n".join(
        s.get("run", "") + (s.get("with") or {}).get("script", "") for s in job["steps"]
    )


@pytest.mark.parametrize("path", sorted(WORKFLOWS.glob("*.yml")), ids=lambda p: p.name)
def test_workflow_is_valid_against_the_github_schema(path):
    result = subprocess.run(
        [str(CHECK_JSONSCHEMA), "--builtin-schema", "vendor.github-workflows", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_schema_check_rejects_a_broken_workflow(tmp_path):
    broken = tmp_path / "broken.yml"
    broken.write_text(
        "on: pull_request\njobs:\n  x:\n    runs-on: ubuntu-latest\n    steps: nope\n"
    )
    result = subprocess.run(
        [str(CHECK_JSONSCHEMA), "--builtin-schema", "vendor.github-workflows", str(broken)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0


def test_pull_request_runs_tests_previews_uploads_sarif_and_comments():
    wf = _load("pull-request.yml")
    assert "pull_request" in wf["on"]
    jobs = wf["jobs"]
    assert "make test" in _steps(jobs["test"])
    preview = jobs["offline-preview"]
    assert preview["strategy"]["matrix"]["stack"] == ["dev", "prod"]
    assert preview["permissions"]["security-events"] == "write"
    steps = _steps(preview)
    assert 'make preview STACK="$STACK" FORMAT=sarif' in steps
    assert "--format markdown" in steps
    uses = [s.get("uses", "") for s in preview["steps"]]
    assert any(u.startswith("github/codeql-action/upload-sarif@") for u in uses)
    assert any(u.startswith("actions/github-script@") for u in uses)
    assert "<!-- offline-preview:${stack} -->" in steps  # updates its own comment


def test_pull_request_runs_pulumi_preview_with_the_pack_only_where_oidc_is_configured():
    job = _load("pull-request.yml")["jobs"]["pulumi-preview"]
    assert "vars.AWS_ROLE_ARN != ''" in job["if"]
    assert job["permissions"]["id-token"] == "write"
    pulumi = next(s for s in job["steps"] if s.get("uses", "").startswith("pulumi/actions@"))
    assert pulumi["with"]["command"] == "preview"
    assert pulumi["with"]["policyPacks"] == "policies"
    assert pulumi["with"]["policyPackConfigs"] == "policies/config/${{ matrix.stack }}.json"


def test_main_deploys_dev_then_prod_behind_an_environment():
    wf = _load("deploy.yml")
    assert wf["on"]["push"]["branches"] == ["main"]
    jobs = wf["jobs"]
    assert jobs["deploy-dev"]["needs"] == "gate"
    assert jobs["deploy-prod"]["needs"] == "deploy-dev"
    assert jobs["deploy-prod"]["environment"] == "prod"
    for stack in ("dev", "prod"):
        step = next(
            s
            for s in jobs[f"deploy-{stack}"]["steps"]
            if s.get("uses", "").startswith("pulumi/actions@")
        )
        assert step["with"]["command"] == "up"
        assert step["with"]["stack-name"].endswith(stack)
        assert step["with"]["policyPackConfigs"] == f"policies/config/{stack}.json"
    assert wf["concurrency"]["cancel-in-progress"] is False
