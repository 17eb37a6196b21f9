"""A user's own account (issue 10, item 5): the stack file names it in `aws:allowedAccountIds`,
the offline preview simulates that account, and other credentials are refused before any resource.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import pytest
import yaml

from regulated_inference.config import ConfigError
from regulated_inference.preview import cli
from regulated_inference.simulation.engine import REPO_ROOT, run_stack_program
from tests.conftest import encode, stack_config

OTHER = "210987654321"


def _rehome(cfg: dict, old: str, new: str) -> dict:
    """The same config in another account: every 12-digit account id `old` becomes `new`."""
    return json.loads(json.dumps(cfg).replace(old, new))


@pytest.mark.parametrize("stack", ["prod", "dev"])
def test_stack_files_name_their_account(stack):
    accounts = stack_config(stack)["aws:allowedAccountIds"]
    assert len(accounts) == 1 and re.fullmatch(r"\d{12}", accounts[0])


def test_prod_names_the_account_its_cluster_is_in():
    cfg = stack_config("prod")
    (account,) = cfg["aws:allowedAccountIds"]
    for model in cfg["regulated-inference:models"]:
        if "kubernetes" in model:
            assert (
                f":iam::{account}:oidc-provider/"
                in model["kubernetes"]["cluster"]["oidcProviderArn"]
            )


def test_prod_copied_to_another_account_previews_cleanly(tmp_path: Path):
    """A platform team copies Pulumi.prod.yaml and puts in its own account id (allowed accounts,
    the cluster's OIDC provider, its ECR registry): the offline preview passes as before."""
    raw = yaml.safe_load((REPO_ROOT / "Pulumi.prod.yaml").read_text())
    (old,) = raw["config"]["aws:allowedAccountIds"]
    moved = _rehome(raw, old, OTHER)
    assert (
        OTHER
        in moved["config"]["regulated-inference:models"][2]["kubernetes"]["cluster"][
            "oidcProviderArn"
        ]
    )
    (tmp_path / "Pulumi.yaml").write_text((REPO_ROOT / "Pulumi.yaml").read_text())
    (tmp_path / "Pulumi.prod.yaml").write_text(yaml.safe_dump(moved))
    (tmp_path / "stacks").symlink_to(REPO_ROOT / "stacks")
    report = cli.run_preview("prod", project_dir=tmp_path, policy_pack=REPO_ROOT / "policies")
    assert report.exit_code == 0, report.to_text()
    assert report.mandatory == [] and report.advisory == []
    arns = [
        r.outputs.get("arn", "") for r in report.recording.resources if r.type.startswith("aws:")
    ]
    assert any(f":{OTHER}:" in a for a in arns)
    assert not any(f":{old}:" in a for a in arns), "an ARN still names the old account"


def test_credentials_of_another_account_are_refused_before_any_resource():
    with pytest.raises(ConfigError, match=r"aws:allowedAccountIds .*account 210987654321") as exc:
        run_stack_program("prod", account=OTHER)
    registered = [
        r for r in exc.value.partial_recording.resources if r.type != "pulumi:pulumi:Stack"
    ]
    assert registered == []


def test_cli_account_option_simulates_the_caller(capsys):
    assert cli.main(["--stack", "dev", "--account", OTHER]) == 2
    err = capsys.readouterr().err
    assert "invalid stack config: aws:allowedAccountIds" in err and OTHER in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    "account", ["12345", "１２３４５６７８９０１２"]
)  # short; full-width digits
def test_cli_refuses_a_malformed_account(capsys, account):
    with pytest.raises(SystemExit) as exc:
        cli.main(["--stack", "dev", "--account", account])
    assert exc.value.code == 2
    assert "not an AWS account id" in capsys.readouterr().err


def test_allowed_account_ids_as_the_cli_stores_them():
    """`pulumi config set --path 'aws:allowedAccountIds[0]' 262849081348` stores an integer."""
    cfg = copy.deepcopy(stack_config("prod"))
    (account,) = cfg["aws:allowedAccountIds"]
    cfg["aws:allowedAccountIds"] = [int(account)]
    rec = run_stack_program("prod", config=encode(cfg))
    assert rec.stack_outputs["platform"]["keys"]["data"].split(":")[4] == account


@pytest.mark.parametrize("bad", [["12345"], ["abcdefghijkl"], "262849081348x"])
def test_malformed_allowed_account_ids_are_one_config_error(bad):
    cfg = copy.deepcopy(stack_config("dev"))
    cfg["aws:allowedAccountIds"] = bad
    with pytest.raises(ConfigError, match=r"aws:allowedAccountIds"):
        run_stack_program("dev", config=encode(cfg))
