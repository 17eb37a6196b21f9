"""The GitHub workflows: valid against GitHub's workflow schema, and doing what the README says."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from regulated_inference.simulation.engine import REPO_ROOT
from tests.venvs import environ_without_pythonpath

from .conftest import SAMPLE, copy_project

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
    # one run of the preview writes every report (it ran three times before)
    assert steps.count("-m regulated_inference.preview") == 1
    for fmt, ext in (("sarif", "sarif"), ("markdown", "md"), ("json", "json")):
        assert f'--output "{fmt}=preview/$STACK.{ext}"' in steps
    assert "make setup" in steps  # .venv and policies/venv, before the preview
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


# --- the offline-preview step's shell logic, run for real -------------------------------------


def _step(job: dict, name: str) -> dict:
    return next(s for s in job["steps"] if s.get("name") == name)


def _run_preview_step(tmp_path: Path, stack: str) -> tuple[subprocess.CompletedProcess, Path]:
    """Run the "Offline preview" step's script as GitHub does (`shell: bash` is
    `bash --noprofile --norc -eo pipefail {0}`, GitHub docs "Workflow syntax", steps[*].shell) in
    a checkout of the sample project whose prod config turns key rotation off, judged by the real
    policy pack. Returns the result and the checkout."""
    step = _step(_load("pull-request.yml")["jobs"]["offline-preview"], "Offline preview")
    assert step["shell"] == "bash"
    checkout = copy_project(
        SAMPLE,
        tmp_path / "checkout",
        "prod",
        lambda c: c.update({"sample-inference:rotateKeys": False}),
    )
    shutil.rmtree(checkout / "policies")  # so the repository's real pack and prod.json judge it
    (checkout / ".venv").symlink_to(REPO_ROOT / ".venv")  # what the `make setup` step built
    script = tmp_path / "step.sh"
    script.write_text(step["run"])
    github = tmp_path / "github"
    github.mkdir()
    env = environ_without_pythonpath()
    env.update(
        STACK=stack,
        GITHUB_OUTPUT=str(github / "output"),
        GITHUB_STEP_SUMMARY=str(github / "summary"),
    )
    result = subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
        cwd=checkout,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    return result, checkout


def _github_file(tmp_path: Path, name: str) -> str:
    path = tmp_path / "github" / name
    return path.read_text() if path.exists() else ""


def test_preview_step_with_a_mandatory_finding_writes_every_report_and_passes_status_1(tmp_path):
    import json

    result, checkout = _run_preview_step(tmp_path, "prod")
    # the step itself succeeds, so SARIF upload and the comment run; the last step fails the job
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    assert _github_file(tmp_path, "output") == "status=1\n"
    reports = checkout / "preview"
    sarif = json.loads((reports / "prod.sarif").read_text())
    rotation = [r for r in sarif["runs"][0]["results"] if r["ruleId"] == "kms-key-rotation"]
    assert [r["level"] for r in rotation] == ["error"]
    markdown = (reports / "prod.md").read_text()
    assert markdown.startswith("<!-- offline-preview:prod -->")  # the comment's marker
    assert "kms-key-rotation" in markdown
    assert _github_file(tmp_path, "summary") == markdown
    data = json.loads((reports / "prod.json").read_text())
    assert data["stack"] == "prod" and "kms-key-rotation" in json.dumps(data)
    assert json.loads((reports / "prod-stack-export.json").read_text())["version"] == 3
    assert "FAIL:" in result.stdout  # the text report in the job log
    fail = _step(
        _load("pull-request.yml")["jobs"]["offline-preview"], "Fail on mandatory violations"
    )
    assert fail["if"] == "steps.preview.outputs.status == '1'"


def test_preview_step_with_bad_input_fails_the_step_with_status_2(tmp_path):
    result, checkout = _run_preview_step(tmp_path, "staging")
    assert result.returncode == 2
    assert "no stack 'staging'" in result.stderr
    assert _github_file(tmp_path, "output") == "status=2\n"
    assert not (checkout / "preview" / "staging.sarif").exists()
    assert _github_file(tmp_path, "summary") == ""


def test_every_workflow_builds_both_venvs_before_the_cli_or_the_preview_runs():
    # `make setup` (or `make test`, which depends on it) creates .venv and policies/venv: the CLI
    # runs the pack from policies/venv and never creates it (see tests/policies/test_cli_shim.py).
    for name in ("pull-request.yml", "deploy.yml"):
        for job_name, job in _load(name)["jobs"].items():
            runs = [s.get("run", "") + s.get("uses", "") for s in job["steps"]]
            needs_venvs = [
                i
                for i, r in enumerate(runs)
                if "pulumi/actions@" in r or "regulated_inference.preview" in r
            ]
            setup = [i for i, r in enumerate(runs) if "make setup" in r or "make test" in r]
            if needs_venvs:
                assert setup and setup[0] < needs_venvs[0], (name, job_name)


def test_deploy_reaches_the_cluster_without_a_kubeconfig():
    # The Kubernetes provider gets its credentials from `aws eks get-token` (an exec plugin built
    # from stack config) under the deploy role: no kubeconfig is written or expected.
    jobs = _load("deploy.yml")["jobs"]
    text = (WORKFLOWS / "deploy.yml").read_text()
    assert "update-kubeconfig" not in text and "KUBECONFIG" not in text
    for stack in ("dev", "prod"):
        job = jobs[f"deploy-{stack}"]
        assert job["permissions"]["id-token"] == "write"
        uses = [s.get("uses", "") for s in job["steps"]]
        creds = next(
            i for i, u in enumerate(uses) if u.startswith("aws-actions/configure-aws-credentials@")
        )
        pulumi = next(i for i, u in enumerate(uses) if u.startswith("pulumi/actions@"))
        assert creds < pulumi
        assert job["steps"][creds]["with"]["role-to-assume"] == "${{ vars.AWS_ROLE_ARN }}"
        assert "aws --version" in _steps(job)  # the exec plugin's binary, checked before `up`
