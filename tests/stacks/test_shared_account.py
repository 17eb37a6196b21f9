"""dev and prod in ONE account (issue 10, item 7): no physical name is claimed twice, and
exactly one stack owns the account's Bedrock model-invocation logging."""

from __future__ import annotations

import copy
import shutil
from pathlib import Path

import pytest
import yaml

from regulated_inference.simulation.engine import (
    REPO_ROOT,
    Recording,
    bedrock_logging_conflicts,
    run_stack_program,
)
from tests.conftest import encode, stack_config

NS = "regulated-inference"
LOGGING = "aws:bedrockmodel/invocationLoggingConfiguration:InvocationLoggingConfiguration"
#: Input keys that carry a resource's own physical name (AWS refuses a second one in an account).
NAME_KEYS = (
    "name",
    "bucket",
    "alarmName",
    "dashboardName",
    "modelPackageGroupName",
    "endpointName",
    "trailName",
    "roleName",
)
#: Types whose `name`/`bucket` input names ANOTHER resource or is scoped inside its parent.
NOT_OWN_NAME = {
    "aws:iam/rolePolicy:RolePolicy",  # name unique per role only
    "aws:s3/bucketPolicy:BucketPolicy",
    "aws:s3/bucketVersioning:BucketVersioning",
}
#: SageMaker names (regulated_inference/components/managed_inference.py, model_monitoring.py, regulated_inference/stack/inference.py).
SAGEMAKER_OWNED = ("aws:sagemaker/",)


def _shared_configs() -> tuple[dict[str, str], dict[str, str]]:
    prod = stack_config("prod")
    dev = copy.deepcopy(stack_config("dev"))
    dev["aws:allowedAccountIds"] = list(prod["aws:allowedAccountIds"])
    dev[f"{NS}:account"] = {"bedrockLoggingOwner": "prod"}
    return encode(dev), encode(prod)


@pytest.fixture(scope="module")
def shared() -> tuple[Recording, Recording]:
    dev_cfg, prod_cfg = _shared_configs()
    return run_stack_program("dev", config=dev_cfg), run_stack_program("prod", config=prod_cfg)


def _physical(rec: Recording) -> dict[tuple[str, str], str]:
    """(kind, physical identity) → the resource's URN, for every AWS resource."""
    out: dict[tuple[str, str], str] = {}
    for r in rec.resources:
        if not r.custom or not r.type.startswith("aws:"):
            continue
        arn = r.outputs.get("arn")
        if isinstance(arn, str):
            out[(r.type, f"arn={arn}")] = r.urn
        if r.id:
            out[(r.type, f"id={r.id}")] = r.urn
        if r.type in NOT_OWN_NAME:
            continue
        for key in NAME_KEYS:
            value = r.inputs.get(key)
            if isinstance(value, str) and value:
                out[(r.type, f"{key}={value}")] = r.urn
    return out


def _collisions(shared) -> list[tuple[str, str, str, str]]:
    dev, prod = shared
    a, b = _physical(dev), _physical(prod)
    return sorted((k[0], k[1], a[k], b[k]) for k in set(a) & set(b))


def test_both_stacks_really_share_the_account(shared):
    dev, prod = shared
    acct = {rec.stack_outputs["platform"]["keys"]["data"].split(":")[4] for rec in shared}
    assert len(acct) == 1


def test_no_physical_name_is_claimed_by_both_stacks(shared):
    others = [c for c in _collisions(shared) if not c[0].startswith(SAGEMAKER_OWNED)]
    assert others == []


def test_no_sagemaker_name_is_claimed_by_both_stacks(shared):
    sagemaker = [c for c in _collisions(shared) if c[0].startswith(SAGEMAKER_OWNED)]
    assert sagemaker == []


def test_exactly_one_stack_configures_the_accounts_bedrock_logging(shared):
    dev, prod = shared
    assert len(prod.of_type(LOGGING)) == 1
    assert dev.of_type(LOGGING) == []
    # the non-owner still has its guardrail and invoke role; only logging is left to the owner
    assert dev.of_type("aws:bedrock/guardrail:Guardrail")
    assert dev.stack_outputs["bedrock"].get("invocationLogGroup") is None
    assert prod.stack_outputs["bedrock"]["invocationLogGroup"]


def test_the_collision_check_sees_two_logging_owners():
    """Without the owner setting, both stacks write the one per-account setting: caught."""
    dev_cfg, prod_cfg = _shared_configs()
    dev = stack_config("dev")
    dev["aws:allowedAccountIds"] = stack_config("prod")["aws:allowedAccountIds"]
    recs = run_stack_program("dev", config=encode(dev)), run_stack_program("prod", config=prod_cfg)
    kinds = {c[0] for c in _collisions(recs)}
    assert LOGGING in kinds


def _project_with(tmp_path: Path, dev_changes: dict) -> Path:
    for name in ("Pulumi.yaml", "Pulumi.prod.yaml"):
        shutil.copy(REPO_ROOT / name, tmp_path / name)
    raw = yaml.safe_load((REPO_ROOT / "Pulumi.dev.yaml").read_text())
    raw["config"].update(dev_changes)
    (tmp_path / "Pulumi.dev.yaml").write_text(yaml.safe_dump(raw))
    return tmp_path


def test_project_stack_files_agree_on_the_logging_owner():
    assert bedrock_logging_conflicts() == []


def test_two_stacks_of_one_account_cannot_both_claim_the_logging(tmp_path):
    prod_accounts = stack_config("prod")["aws:allowedAccountIds"]
    claims_too = _project_with(
        tmp_path, {"aws:allowedAccountIds": prod_accounts, f"{NS}:account": {}}
    )
    (problem,) = bedrock_logging_conflicts(claims_too)
    assert prod_accounts[0] in problem and "['dev', 'prod']" in problem
    agrees = _project_with(
        tmp_path,
        {"aws:allowedAccountIds": prod_accounts, f"{NS}:account": {"bedrockLoggingOwner": "prod"}},
    )
    assert bedrock_logging_conflicts(agrees) == []


def test_the_preview_refuses_a_second_logging_owner_before_running_the_program(tmp_path, capsys):
    # The same check runs in the offline preview: one line, exit 2, nothing recorded.
    from regulated_inference.preview import cli

    prod_accounts = stack_config("prod")["aws:allowedAccountIds"]
    project = _project_with(tmp_path, {"aws:allowedAccountIds": prod_accounts, f"{NS}:account": {}})
    ran = []
    code = cli.main(
        ["--project-dir", str(project), "--stack", "dev"],
        analyze=lambda *a, **k: ran.append(a),
    )
    err = capsys.readouterr().err
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    assert code == 2 and ran == []
    assert len(errors) == 1 and "name different Bedrock logging owners" in errors[0]
    assert "Traceback" not in err
