"""The pack config is generated from the stack config by one generator (issue 10, item 6)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
import yaml

from policies.rules import ALL_RULES, BY_NAME
from regulated_inference.preview import cli
from regulated_inference.preview.policy_config import for_stack, generate, main, render, stale
from regulated_inference.simulation.engine import REPO_ROOT, load_stack_config

PACK_CONFIG = REPO_ROOT / "policies" / "config"


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_checked_in_pack_configs_are_what_the_stack_files_generate(stack):
    assert (PACK_CONFIG / f"{stack}.json").read_text() == render(for_stack(stack)), (
        "stale: run `python -m regulated_inference.preview.policy_config` (or `make docs`)"
    )


def test_check_mode_reports_no_stale_file():
    assert stale() == []
    assert main(["--check"]) == 0


def test_allowed_regions_are_written_once_in_the_stack_and_reach_every_rule_that_takes_them():
    prod = for_stack("prod")
    takers = [r.name for r in ALL_RULES if "allowedRegions" in r.config_schema]
    assert len(takers) >= 5
    for name in takers:
        assert prod[name]["allowedRegions"] == ["eu-west-2"]
    assert prod["sinks-in-home-region"]["homeRegion"] == "eu-west-2"


def _config(stack: str, **changes) -> dict[str, str]:
    cfg = dict(load_stack_config(stack))
    for key, value in changes.items():
        cfg[key] = value if isinstance(value, str) else json.dumps(value)
    return cfg


def test_stack_values_flow_in():
    cfg = _config(
        "prod",
        **{
            "aws:region": "eu-west-1",
            "regulated-inference:residency": {"allowedRegions": ["eu-west-1", "eu-central-1"]},
            "regulated-inference:bedrock": {"models": ["amazon.titan-embed-text-v2:0"]},
        },
    )
    out = generate(cfg)
    assert out["resource-region-allowed"]["allowedRegions"] == ["eu-central-1", "eu-west-1"]
    assert out["sinks-in-home-region"]["homeRegion"] == "eu-west-1"
    assert out["bedrock-foundation-models-allowed"]["allowedFoundationModels"] == [
        "amazon.titan-embed-text-v2:0"
    ]


def test_a_stack_without_bedrock_allows_no_foundation_model():
    cfg = _config("dev")
    cfg.pop("regulated-inference:bedrock")
    assert generate(cfg)["bedrock-foundation-models-allowed"]["allowedFoundationModels"] == []


def test_new_rules_and_parameters_come_from_the_pack_metadata():
    """A rule added to the pack (with its schema defaults) needs no change to the generator."""
    base = BY_NAME["resource-region-allowed"]
    new_regions = replace(base, name="new-region-rule", dev_advisory=True)
    new_param = replace(
        base,
        name="new-param-rule",
        config_schema={"maxWidgets": {"type": "integer", "default": 3, "description": "x"}},
    )
    rules = [*ALL_RULES, new_regions, new_param]
    dev = generate(_config("dev"), rules=rules)
    prod = generate(_config("prod"), rules=rules)
    assert dev["new-region-rule"] == {
        "enforcementLevel": "advisory",
        "allowedRegions": ["eu-west-1", "eu-west-2"],
    }
    assert prod["new-region-rule"]["enforcementLevel"] == "mandatory"
    # a parameter the stack says nothing about keeps the rule's own (secure) default
    assert "new-param-rule" not in prod and "new-param-rule" not in dev


def test_enforcement_levels_by_environment():
    dev, prod = for_stack("dev"), for_stack("prod")
    assert dev["all"] == prod["all"] == "mandatory"
    levels = {k: (v if isinstance(v, str) else v["enforcementLevel"]) for k, v in prod.items()}
    reporters = {"exempted-findings", "exempted-stack-findings"}  # report accepted risks only
    assert {v for k, v in levels.items() if k not in reporters} == {"mandatory"}
    assert {levels[k] for k in reporters} == {"advisory"}
    assert dev["kms-key-rotation"] == "advisory"  # a dev_advisory rule
    assert "s3-encryption-cmk" not in dev  # mandatory via "all"


def test_an_unknown_environment_is_refused():
    with pytest.raises(ValueError, match="environment = 'staging'"):
        generate(_config("dev", **{"regulated-inference:environment": "staging"}))


def test_a_new_stack_previews_without_a_hand_written_pack_config(tmp_path: Path):
    raw = yaml.safe_load((REPO_ROOT / "Pulumi.dev.yaml").read_text())
    # its own account, owning that account's Bedrock logging (a copy of dev would name dev)
    raw["config"]["aws:allowedAccountIds"] = ["210987654321"]
    raw["config"].pop("regulated-inference:account")
    (tmp_path / "Pulumi.yaml").write_text((REPO_ROOT / "Pulumi.yaml").read_text())
    (tmp_path / "Pulumi.staging.yaml").write_text(yaml.safe_dump(raw))
    (tmp_path / "stacks").symlink_to(REPO_ROOT / "stacks")
    assert not (PACK_CONFIG / "staging.json").exists()
    report = cli.run_preview("staging", project_dir=tmp_path, policy_pack=REPO_ROOT / "policies")
    assert report.policy_config == "generated from Pulumi.staging.yaml"
    assert report.exit_code == 0, report.to_text()
