"""Item 12 of issue 10: what `pulumi config set --path` stores, the config accepts.

The storage rule is simulated by tests/config/pulumi_cli.py (cited there, line by line from
pulumi/pulumi). Every `pulumi config set` command documented in README.md and docs/*.md is
applied to the stack config it is written for, and the result must validate.
"""

from __future__ import annotations

import copy
import re
import shlex
from pathlib import Path

import pytest

from regulated_inference.config import ConfigError, parse
from tests.config.pulumi_cli import coerce, config_set, parse_path
from tests.conftest import stack_config, without_namespace

NS = "regulated-inference"
ROOT = Path(__file__).resolve().parents[2]


def test_the_simulated_storage_rule_matches_the_cli_source():
    assert coerce("4") == 4 and coerce("-4") == -4 and coerce("+4") == 4
    assert coerce("true") is True and coerce("false") is False
    assert coerce("True") == "True"  # only the lowercase words
    assert coerce("0") == 0 and coerce("04") == "04"  # leading zero stays text
    assert coerce("2.3.0") == "2.3.0" and coerce("0.95") == "0.95" and coerce("1e3") == "1e3"
    assert coerce("500m") == "500m"
    assert parse_path("models[0].kubernetes.resources.cpuRequest") == [
        "models",
        0,
        "kubernetes",
        "resources",
        "cpuRequest",
    ]
    assert parse_path('tags["cost.center"]') == ["tags", "cost.center"]


def _documented_commands() -> list[tuple[str, str]]:
    found = []
    for doc in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        for line in doc.read_text().splitlines():
            m = re.search(r"pulumi config set (--path [^#`]*)", line)
            if m and "--secret" not in line and "$(" not in line:
                found.append((doc.name, m.group(1).strip()))
    return found


DOCUMENTED = _documented_commands()


def test_docs_document_path_commands():
    assert any("cpuRequest" in cmd for _, cmd in DOCUMENTED), DOCUMENTED


@pytest.mark.parametrize("doc,command", DOCUMENTED, ids=[c for _, c in DOCUMENTED])
@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_documented_path_commands_give_a_valid_config(stack, doc, command):
    args = shlex.split(command)
    type_ = None
    if "--type" in args:
        type_ = args[args.index("--type") + 1]
    positional = [a for a in args if not a.startswith("--") and a != type_]
    key, value = positional
    cfg = copy.deepcopy(stack_config(stack))
    top = parse_path(key)
    models = cfg.get(f"{NS}:models", [])
    if top[0] == "models" and top[1] >= len(models):
        pytest.skip(f"{stack} has no models[{top[1]}]")
    if "kubernetes" in top and "kubernetes" not in models[top[1]]:
        pytest.skip(f"{stack} models[{top[1]}] is not self-hosted")
    if (
        "version" in top
        and models[top[1]].get("versions")
        and value not in models[top[1]]["versions"]
    ):
        pytest.skip("version not registered in this stack")
    config_set(cfg, key, value, path=True, type_=type_)
    parse(without_namespace(cfg))


@pytest.mark.parametrize(
    "key,value,expected",
    [
        ("models[2].kubernetes.resources.cpuRequest", "4", "4"),
        ("models[2].kubernetes.resources.cpuLimit", "8", "8"),
        ("models[2].kubernetes.resources.memoryRequest", "32Gi", "32Gi"),
        ("models[2].kubernetes.canary.version", "2", "2"),
        ("models[2].version", "2", "2"),
        ("tags.cost-center", "4410", "4410"),
        ("models[2].kubernetes.nodeSelector.gpu", "true", "true"),
    ],
)
def test_text_keys_accept_the_numbers_and_booleans_the_cli_writes(key, value, expected):
    cfg = copy.deepcopy(stack_config("prod"))
    config_set(cfg, key, value, path=True)
    parsed = parse(without_namespace(cfg))
    node: object = parsed.model_dump(by_alias=True)
    for seg in parse_path(key):
        node = node[seg]  # type: ignore[index]
    assert node == expected


def test_fractions_stored_as_text_by_the_cli_are_numbers():
    cfg = copy.deepcopy(stack_config("prod"))
    config_set(cfg, "models[1].qualityGate.minimum.outputQuality", "0.86", path=True)
    assert cfg[f"{NS}:models"][1]["qualityGate"]["minimum"]["outputQuality"] == "0.86"
    parsed = parse(without_namespace(cfg))
    assert parsed.models[1].quality_gate.minimum["outputQuality"] == 0.86


def test_numbers_stay_numbers_and_type_string_is_also_accepted():
    cfg = copy.deepcopy(stack_config("prod"))
    config_set(cfg, "network.availabilityZones", "2", path=True)
    assert parse(without_namespace(cfg)).network.availability_zones == 2
    config_set(cfg, "network.availabilityZones", "2", path=True, type_="string")
    assert parse(without_namespace(cfg)).network.availability_zones == 2


def test_a_boolean_is_never_a_number():
    cfg = copy.deepcopy(stack_config("prod"))
    config_set(cfg, "network.availabilityZones", "true", path=True)
    with pytest.raises(ConfigError) as info:
        parse(without_namespace(cfg))
    assert info.value.key == f"{NS}:network.availabilityZones"
    assert "not true/false" in info.value.rule
