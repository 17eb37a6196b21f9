"""Explicit cases for each hardening rule of the stack config (issue 11, stack-config half)."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path
from typing import Any

import pytest

from regulated_inference.config import ConfigError, aws_model, parse
from regulated_inference.config.prod_rules import PROD_PACK_PARAMETERS
from regulated_inference.simulation.engine import (
    StackFileError,
    load_stack_config,
    run_stack_program,
)
from tests.config.mutation import set_at
from tests.conftest import encode, stack_config, without_namespace

NS = "regulated-inference"
ROOT = Path(__file__).resolve().parents[2]


def raw(stack: str) -> dict[str, Any]:
    return without_namespace(stack_config(stack))


def refused(cfg: dict[str, Any]) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        parse(cfg)
    assert "\n" not in str(info.value)
    return info.value


# -- malformed files: one line, file:line:column ------------------------------------------------


def _project(tmp_path: Path, stack_text: str | bytes) -> Path:
    shutil.copy(ROOT / "Pulumi.yaml", tmp_path / "Pulumi.yaml")
    target = tmp_path / "Pulumi.prod.yaml"
    if isinstance(stack_text, bytes):
        target.write_bytes(stack_text)
    else:
        target.write_text(stack_text)
    return tmp_path


PROD = (ROOT / "Pulumi.prod.yaml").read_text()


def _line_of(fragment: str) -> int:
    """1-based line of `fragment` in the prod stack file (positions follow the file as it is)."""
    return PROD[: PROD.index(fragment)].count("\n") + 1


def _retention(value: str) -> str:
    """The prod stack file with the logging retention written as `value`."""
    return PROD.replace("retentionDays: 400", f"retentionDays: {value}")


AT_FILE = "Pulumi.prod.yaml:"


@pytest.mark.parametrize(
    "text,where,fragment",
    [
        (
            PROD.replace("    cidr: 10.40", "\tcidr: 10.40"),
            f"Pulumi.prod.yaml:{_line_of('    cidr: 10.40')}:1",
            "tabs cannot indent",
        ),
        (_retention("[400"), AT_FILE, "invalid YAML"),
        (
            PROD.replace("availabilityZones: 3", "availabilityZones: yes"),
            f"Pulumi.prod.yaml:{_line_of('availabilityZones: 3')}:24",
            "YAML 1.1",
        ),
        (_retention("2025-01-01"), AT_FILE, "date"),
        (_retention("4e2"), AT_FILE, "YAML 1.2"),
        (_retention(".nan"), AT_FILE, "not a finite number"),
        (_retention("0400"), AT_FILE, "leading-zero"),
        (
            PROD.replace(
                "    retentionDays: 400\n", "    retentionDays: 400\n    retentionDays: 365\n"
            ),
            AT_FILE,
            "already defined at line",
        ),
        (PROD + "x: &a [1]\ny: [*a, *a]\n", AT_FILE, "aliases"),
        (_retention("!!int 400"), AT_FILE, "explicit YAML tag"),
        ("- config\n", "Pulumi.prod.yaml:1:1", "must be a YAML mapping"),
        ("config: 3\n", "Pulumi.prod.yaml:1:9", "`config:` must be a mapping"),
        (PROD.encode("utf-16"), "Pulumi.prod.yaml:1:1", "UTF-16"),
        (
            PROD.encode().replace(b"eu-west-2", b"eu-west-\xff2", 1),
            "Pulumi.prod.yaml:5:23",
            "not valid UTF-8",
        ),
    ],
)
def test_malformed_stack_files_get_one_line_naming_file_and_position(
    tmp_path, text, where, fragment
):
    project = _project(tmp_path, text)
    with pytest.raises(StackFileError) as info:
        load_stack_config("prod", project)
    message = str(info.value)
    assert message.startswith(where), message
    assert fragment in message, message
    assert "\n" not in message


def test_a_utf8_bom_is_read_as_both_parsers_read_it(tmp_path):
    project = _project(tmp_path, "\ufeff" + PROD)
    assert load_stack_config("prod", project) == load_stack_config("prod")


def test_a_malformed_file_exits_2_with_one_line_and_no_traceback(tmp_path, capsys):
    from regulated_inference.preview import cli

    project = _project(tmp_path, PROD.replace("    cidr: 10.40", "\tcidr: 10.40"))
    shutil.copytree(ROOT / "stacks", tmp_path / "stacks")
    code = cli.main(
        ["--project-dir", str(project), "--stack", "prod"], analyze=lambda *a, **k: None
    )
    err = capsys.readouterr().err
    assert code == 2
    lines = [line for line in err.splitlines() if line.startswith("error:")]
    assert lines == [
        f"error: Pulumi.prod.yaml:{_line_of('    cidr: 10.40')}:1: invalid YAML: found character '\\t' "
        "that cannot start any "
        "token (tabs cannot indent YAML: use spaces)"
    ]
    assert "Traceback" not in err


# -- numbers: finite, in range, on the right scale -------------------------------------------


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf, "NaN", "Infinity"])
def test_non_finite_numbers_are_refused(bad):
    cfg = raw("prod")
    cfg["models"][0]["monitoring"]["latencyP99Ms"] = bad
    e = refused(cfg)
    assert e.key == f"{NS}:models[0].monitoring.latencyP99Ms"


def test_nan_never_passes_a_quality_gate():
    cfg = raw("prod")
    cfg["models"][1]["evaluation"]["outputQuality"] = math.nan
    e = refused(cfg)
    assert e.key == f"{NS}:models[1].evaluation.outputQuality"


@pytest.mark.parametrize("where", ["evaluation", "qualityGate"])
def test_percent_instead_of_fraction_is_refused(where):
    cfg = raw("dev")
    if where == "evaluation":
        cfg["models"][0]["evaluation"]["accuracy"] = 95.8
        key = f"{NS}:models[0].evaluation.accuracy"
    else:
        cfg["models"][0]["qualityGate"]["minimum"]["accuracy"] = 95
        key = f"{NS}:models[0].qualityGate.minimum.accuracy"
    e = refused(cfg)
    assert e.key == key
    assert "fraction from 0 to 1" in e.rule


def test_gate_that_no_value_can_pass_is_refused():
    cfg = raw("prod")
    cfg["models"][1]["qualityGate"]["minimum"]["hallucinationRate"] = 0.05
    e = refused(cfg)
    assert e.key == f"{NS}:models[1].qualityGate.maximum.hallucinationRate"


@pytest.mark.parametrize(
    "path,value,fragment",
    [
        (("network", "availabilityZones"), -1, "greater than or equal to 1"),
        (("network", "availabilityZones"), True, "not true/false"),
        (("audit", "retentionDays"), 36501, "less than or equal to 36500"),
        (("models", 0, "instanceCount"), 101, "less than or equal to 100"),
        (("models", 0, "monitoring", "drift", "threshold"), 5, "less than or equal to 1"),
        (("models", 0, "captureSamplingPercent"), -5, "greater than or equal to 0"),
    ],
)
def test_absurd_numbers_are_refused(path, value, fragment):
    cfg = raw("prod")
    set_at(cfg, list(path), value)
    e = refused(cfg)
    assert fragment in e.rule, e


# -- AWS's own service model ------------------------------------------------------------------


def test_regions_and_instance_types_come_from_botocore():
    assert "eu-west-2" in aws_model.regions() and "cn-north-1" in aws_model.regions()
    assert "ml.m5.large" in aws_model.endpoint_instance_types()
    assert "ml.m5.xlarge" in aws_model.processing_instance_types()


@pytest.mark.parametrize("region", ["eu-west-9", "eu-central-3", "us-east-7"])
def test_well_formed_but_nonexistent_regions_are_refused(region):
    cfg = raw("prod")
    cfg["aws:region"] = region
    e = refused(cfg)
    assert e.key == "aws:region" and "must be an AWS region code" in e.rule


@pytest.mark.parametrize("itype", ["ml.m5.huge", "ml.m99.large", "m5.large"])
def test_instance_types_aws_does_not_have_are_refused(itype):
    cfg = raw("dev")
    cfg["models"][0]["instanceType"] = itype
    e = refused(cfg)
    assert e.key == f"{NS}:models[0].instanceType"


def test_monitoring_instance_type_must_be_a_processing_type():
    cfg = raw("dev")
    cfg["models"][0]["monitoring"]["drift"]["instanceType"] = "ml.inf2.xlarge"
    e = refused(cfg)
    assert e.key == f"{NS}:models[0].monitoring.drift.instanceType"
    assert "Model Monitor job" in e.rule


def test_more_azs_than_the_region_has_fails_before_any_resource():
    cfg = stack_config("prod")
    cfg[f"{NS}:network"]["availabilityZones"] = 4  # eu-west-2 has 3
    with pytest.raises(ConfigError) as info:
        run_stack_program("prod", config=encode(cfg))
    assert info.value.key == f"{NS}:network.availabilityZones"
    assert "eu-west-2 has 3 available availability zones" in info.value.rule
    registered = [
        r for r in info.value.partial_recording.resources if r.type != "pulumi:pulumi:Stack"
    ]
    assert registered == []


@pytest.mark.parametrize(
    "schedule,ok",
    [
        ("cron(0 * ? * * *)", True),
        ("cron(0 12 ? * * *)", True),
        ("cron(0 0/6 ? * * *)", True),
        ("cron(0 17/12 ? * * *)", True),
        ("cron(*/5 * ? * * *)", False),
        ("cron(0 * * * ? *)", False),
        ("cron(0 24 ? * * *)", False),
        ("cron(0 0/25 ? * * *)", False),
        ("rate(1 hour)", False),
        ("NOW", False),
    ],
)
def test_model_monitor_schedules(schedule, ok):
    cfg = raw("dev")
    drift = cfg["models"][0]["monitoring"]["drift"]
    drift = cfg["models"][0]["monitoring"]["drift"] = {"features": drift["features"]}
    drift.update(mode="model-monitor", schedule=schedule)  # `schedule` is Model Monitor's
    if ok:
        assert parse(cfg).models[0].monitoring.drift.schedule == schedule
    else:
        e = refused(cfg)
        assert e.key == f"{NS}:models[0].monitoring.drift.schedule"
        assert "Model Monitor accepts only" in e.rule


@pytest.mark.parametrize(
    "key,value,ok",
    [
        ("eks.amazonaws.com/nodegroup", "gpu-l4", True),
        ("node.kubernetes.io/instance-type", "g6.xlarge", True),
        ("gpu", "", True),
        ("Bad_Prefix.io/x", "a", False),
        ("a/b/c", "a", False),
        ("x" * 64, "a", False),
        ("ok", "y" * 64, False),
        ("ok", "-bad", False),
    ],
)
def test_kubernetes_label_syntax(key, value, ok):
    cfg = raw("prod")
    cfg["models"][2]["kubernetes"]["nodeSelector"] = {key: value}
    if ok:
        assert parse(cfg).models[2].kubernetes.node_selector == {key: value}
    else:
        e = refused(cfg)
        assert e.key.startswith(f"{NS}:models[2].kubernetes.nodeSelector")


@pytest.mark.parametrize("field", ["blockedInputMessage", "blockedOutputMessage"])
def test_bedrock_message_length_from_the_service_model(field):
    shape = aws_model.bedrock_shape("GuardrailBlockedMessaging")
    assert shape["max"] == 500
    cfg = raw("prod")
    cfg["bedrock"]["guardrail"][field] = "x" * (shape["max"] + 1)
    e = refused(cfg)
    assert e.key == f"{NS}:bedrock.guardrail.{field}"
    cfg["bedrock"]["guardrail"][field] = "x" * shape["max"]
    parse(cfg)


# -- secrets in plain config ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "where,value",
    [
        ("environment.AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE"),
        ("environment.DB_PASSWORD", "hunter2hunter2"),
        ("environment.API_TOKEN", "abc"),
        ("environment.AUTH", "Bearer abcdefghijklmnopqrstuvwxyz012345"),
        ("environment.KEY", "-----BEGIN RSA PRIVATE KEY-----\nMIIE..."),
        ("environment.DSN", "postgres://app:s3cr3t@db.internal:5432/x"),
    ],
)
def test_secrets_in_plain_config_are_refused_without_echoing_them(where, value):
    cfg = raw("dev")
    section, name = where.split(".")
    cfg["models"][0][section] = {name: value}
    e = refused(cfg)
    assert e.key == f"{NS}:models[0].{where}"
    assert "pulumi config set --secret --path 'models[0]." in e.rule
    assert value not in str(e) and '"[redacted]"' in str(e)


def test_a_plain_kubeconfig_with_credentials_is_refused_but_an_exec_one_is_not():
    cfg = raw("prod")
    kube = cfg["models"][2]["kubernetes"]
    kube.pop("context", None)  # the committed prod file builds its kubeconfig from `cluster`
    kube["kubeconfig"] = (
        "apiVersion: v1\nkind: Config\nusers:\n- name: u\n  user:\n    token: abc.def\n"
    )
    e = refused(cfg)
    assert e.key == f"{NS}:models[2].kubernetes.kubeconfig"
    kube["kubeconfig"] = (
        "apiVersion: v1\nkind: Config\nusers:\n- name: u\n  user:\n    exec:\n"
        "      command: aws\n      args: [eks, get-token, --cluster-name, prod]\n"
    )
    parse(cfg)


def test_secure_values_are_accepted(tmp_path):
    text = PROD.replace(
        "        namespace: credit-risk-llm\n",
        "        kubeconfig:\n          secure: v1:Zm9vYmFy:AAAABBBBCCCCDDDD\n"
        "        namespace: credit-risk-llm\n",
    )
    assert text != PROD
    project = _project(tmp_path, text)
    cfg = load_stack_config("prod", project)
    parsed = parse(without_namespace({k: _json(v) for k, v in cfg.items()}))
    assert parsed.models[2].kubernetes.kubeconfig == "[secret]"


def test_keys_the_cli_marks_secret_are_not_scanned():
    cfg = raw("dev")
    cfg["models"][0]["environment"] = {"DB_PASSWORD": "decrypted-by-the-cli"}
    refused(cfg)
    assert parse(cfg, secret=frozenset({"models"})).models[0].environment


def _json(value: str) -> Any:
    try:
        return json.loads(value)
    except ValueError:
        return value


# -- prod rules stated once ----------------------------------------------------------------------


def test_prod_parameters_equal_the_packs_prod_config():
    pack = json.loads((ROOT / "policies" / "config" / "prod.json").read_text())
    for rule, (_control, params) in PROD_PACK_PARAMETERS.items():
        for name, value in params.items():
            assert pack[rule][name] == value, (rule, name)


def test_prod_parameters_name_the_packs_controls():
    from policies.rules import BY_NAME

    for rule, (control, params) in PROD_PACK_PARAMETERS.items():
        assert control in BY_NAME[rule].controls, rule
        assert set(params) <= set(BY_NAME[rule].config_schema or {}), rule


@pytest.mark.parametrize(
    "path,value,key,control",
    [
        (("audit", "objectLockMode"), "GOVERNANCE", "audit.objectLockMode", "L5"),
        (("audit", "retentionDays"), 364, "audit.retentionDays", "L5"),
        (("logging", "retentionDays"), 180, "logging.retentionDays", "L10"),
        (("keys", "deletionWindowDays"), 29, "keys.deletionWindowDays", "E9"),
        (("models", 0, "instanceType"), "ml.g6.xlarge", "models[0].instanceType", "E1"),
        (("models", 0, "captureSamplingPercent"), 0, "models[0].captureSamplingPercent", "L7"),
        (("models", 1, "instanceCount"), 1, "models[1].instanceCount", "M5"),
    ],
)
def test_prod_values_the_pack_refuses_are_refused_first_with_the_same_control(
    path, value, key, control
):
    cfg = raw("prod")
    set_at(cfg, list(path), value)
    e = refused(cfg)
    assert e.key == f"{NS}:{key}", e
    assert f"control {control}" in e.rule, e
