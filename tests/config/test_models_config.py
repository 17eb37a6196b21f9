"""Model and Bedrock config: each rule fails with the key, the value and the rule; good config passes.

Fixture: a valid prod config (platform keys from a fixed dict, one production
model, one pilot, Bedrock). Each test changes one thing and asserts the message.
"""

from __future__ import annotations

import copy
import datetime
from typing import Any

import pytest

from regulated_inference.config import ConfigError, parse
from regulated_inference.lib import aws as aws_facts
from tests.conftest import stack_config, without_namespace

NS = "regulated-inference"
ECR = "111122223333.dkr.ecr.eu-west-2.amazonaws.com/models"
DIGEST = "sha256:" + "ab" * 32

PLATFORM: dict[str, Any] = {
    "aws:region": "eu-west-2",
    "environment": "prod",
    "residency": {"allowedRegions": ["eu-west-2", "eu-west-1"]},
    "tags": {
        "owner": "ml@bank.example",
        "environment": "prod",
        "data-classification": "confidential",
        "cost-center": "cc-1",
    },
    "network": {"cidr": "10.40.0.0/16", "availabilityZones": 2},
    "logging": {"retentionDays": 400},
    "audit": {"retentionDays": 2557},
    "keys": {"deletionWindowDays": 30},
    "alerts": {"emails": ["oncall@bank.example"]},
}


def production_model() -> dict[str, Any]:
    return {
        "name": "fraud-scorer",
        "version": "2.3.0",
        "stage": "production",
        "image": f"{ECR}/fraud-scorer@{DIGEST}",
        "artifactKey": "fraud-scorer/2.3.0/model.tar.gz",
        "instanceType": "ml.m5.xlarge",
        "instanceCount": 2,
        "callers": ["payments-api"],
        "modelPackageVersion": 3,
        "monitoring": {"drift": {"features": ["amount"], "image": f"{ECR}/drift-check@{DIGEST}"}},
        "evaluation": {"accuracy": 0.96, "biasDisparity": 0.03},
        "qualityGate": {"minimum": {"accuracy": 0.95}, "maximum": {"biasDisparity": 0.05}},
        # model inventory, required in prod (regulated_inference/config/exemptions.py)
        "owner": "models@bank.example",
        "riskTier": "high",
        "validation": {"status": "approved", "date": str(datetime.date.today())},
    }


def pilot_model() -> dict[str, Any]:
    m = production_model()
    m.update(name="claims-assistant", stage="pilot", callers=["claims-pilot"])
    m["artifactKey"] = "claims-assistant/0.9.1/model.tar.gz"
    return m


def raw() -> dict[str, Any]:
    r = copy.deepcopy(PLATFORM)
    r["models"] = [production_model(), pilot_model()]
    r["bedrock"] = {"models": ["anthropic.claude-3-haiku-20240307-v1:0"]}
    return r


def load(r: dict[str, Any]):
    return parse(r)  # the stack-level rules run in parse's one validation pass


def error(r: dict[str, Any]) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        load(r)
    return info.value


def refused(r: dict[str, Any], key: str, *fragments: str) -> ConfigError:
    """The config is refused at `key` with every one of `fragments` in the rule."""
    e = error(r)
    assert e.key == key
    for fragment in fragments:
        assert fragment in e.rule
    return e


def test_fixture_is_valid():
    cfg = load(raw())
    assert [m.stage for m in cfg.models] == ["production", "pilot"]
    assert cfg.models[0].rollout.strategy == "canary"


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_checked_in_stack_configs_are_valid(stack):
    cfg = stack_config(stack)
    r = without_namespace(cfg)
    parsed = load(r)
    assert parsed.bedrock is not None
    assert all(m.runs_on_sagemaker or m.kubernetes for m in parsed.models)


def test_prod_config_has_a_production_and_a_pilot_model_and_bedrock():
    cfg = stack_config("prod")
    stages = {m["stage"] for m in cfg[f"{NS}:models"] if "kubernetes" not in m}
    assert {"production", "pilot"} <= stages
    assert cfg[f"{NS}:bedrock"]["models"]


# -- NVMe + KMS ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "itype", ["ml.g5.xlarge", "ml.m5d.large", "ml.p4d.24xlarge", "ml.g4dn.xlarge"]
)
def test_nvme_instance_types_are_refused_with_the_reason(itype):
    r = raw()
    r["models"][0]["instanceType"] = itype
    e = error(r)
    assert e.key == f"{NS}:models[0].instanceType" and e.value == itype
    assert "local NVMe instance storage" in e.rule
    assert "AWS rejects an endpoint config" in e.rule
    assert "encrypted by a hardware module" in e.rule


def test_nvme_instance_type_for_the_monitoring_job_is_refused():
    r = raw()
    r["models"][0]["monitoring"]["drift"]["instanceType"] = "ml.c5d.xlarge"
    refused(r, f"{NS}:models[0].monitoring.drift.instanceType", "local NVMe")


@pytest.mark.parametrize(
    "itype", ["ml.m5.large", "ml.c5.2xlarge", "ml.p3.2xlarge", "ml.inf2.xlarge"]
)
def test_ebs_backed_instance_types_pass(itype):
    # The NVMe/KMS rule holds in every environment; judged in dev, because prod also
    # restricts instance families to the pack's approved list (control E1, see test_prod_rules).
    r = raw()
    r["environment"] = r["tags"]["environment"] = "dev"
    r["models"][0]["instanceType"] = itype
    assert load(r).models[0].instance_type == itype


def test_inf1_is_refused_because_guardrails_do_not_apply():
    r = raw()
    r["models"][0]["instanceType"] = "ml.inf1.xlarge"
    refused(r, f"{NS}:models[0].instanceType", "deployment guardrails do not support Inf1")


# -- rollout limits ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "rollout,key,fragment",
    [
        ({"canaryPercent": 51}, "canaryPercent", "canary size must be 1–50%"),
        ({"canaryPercent": 0}, "canaryPercent", "canary size must be 1–50%"),
        (
            {"strategy": "linear", "linearStepPercent": 9},
            "linearStepPercent",
            "linear step must be 10–50%",
        ),
        (
            {"strategy": "linear", "linearStepPercent": 55},
            "linearStepPercent",
            "linear step must be 10–50%",
        ),
        (
            {"strategy": "rolling", "rollingBatchPercent": 4},
            "rollingBatchPercent",
            "rolling batch must be 5–50%",
        ),
        ({"bakeSeconds": 3601}, "bakeSeconds", "must be 0–3600 seconds"),
        ({"terminationWaitSeconds": -1}, "terminationWaitSeconds", "must be 0–3600 seconds"),
        ({"maxExecutionSeconds": 599}, "maxExecutionSeconds", "must be 600–14400 seconds"),
        # AWS takes 28800, the provider validates 600–14400 (terraform-provider-aws endpoint.go)
        ({"maxExecutionSeconds": 14401}, "maxExecutionSeconds", "must be 600–14400 seconds"),
        (
            {
                "strategy": "linear",
                "linearStepPercent": 10,
                "bakeSeconds": 3600,
                "maxExecutionSeconds": 14400,
            },
            "maxExecutionSeconds",
            "must exceed the total waiting time of the rollout (36300 s",
        ),
    ],
)
def test_rollout_limits(rollout, key, fragment):
    r = raw()
    r["models"][0]["rollout"] = rollout
    e = error(r)
    assert e.key == f"{NS}:models[0].rollout.{key}"
    assert fragment in e.rule


def test_prod_refuses_rolling_updates():
    r = raw()
    r["models"][0]["rollout"] = {"strategy": "rolling"}
    e = error(r)
    assert e.key == f"{NS}:models[0].rollout.strategy" and e.value == "rolling"
    assert "blue/green canary or linear" in e.rule


def test_dev_allows_rolling_updates():
    r = raw()
    r["environment"] = r["tags"]["environment"] = "dev"
    r["logging"] = {"retentionDays": 30}
    r["keys"] = {"deletionWindowDays": 7}
    r["models"][0]["rollout"] = {"strategy": "rolling"}
    assert load(r).models[0].rollout.strategy == "rolling"


# -- prod instance floor ---------------------------------------------------------------


@pytest.mark.parametrize("index", [0, 1])  # production and pilot alike (M5)
def test_prod_models_need_two_instances(index):
    r = raw()
    r["models"][index]["instanceCount"] = 1
    e = error(r)
    assert e.key == f"{NS}:models[{index}].instanceCount" and e.value == 1
    assert "≥ 2 instances" in e.rule and "M5" in e.rule


def test_prod_models_cannot_scale_below_two():
    r = raw()
    r["models"][0]["autoscaling"] = {"minInstances": 1, "maxInstances": 4}
    r["models"][0]["instanceCount"] = 4  # = maxInstances (test_autoscaled_instance_count_...)
    e = error(r)
    assert e.key == f"{NS}:models[0].autoscaling.minInstances" and e.value == 1


def test_prod_models_deploy_a_registry_package():
    r = raw()
    del r["models"][0]["modelPackageVersion"]
    e = error(r)
    assert e.key == f"{NS}:models[0].modelPackageVersion"
    assert "approved package version from the SageMaker Model Registry" in e.rule and "G2" in e.rule


def test_dev_may_run_one_instance_without_a_package():
    r = raw()
    r["environment"] = r["tags"]["environment"] = "dev"
    r["logging"] = {"retentionDays": 30}
    r["keys"] = {"deletionWindowDays": 7}
    r["models"][0].update(instanceCount=1)
    del r["models"][0]["modelPackageVersion"]
    assert load(r).models[0].instance_count == 1


def test_instance_count_within_autoscaling_range():
    r = raw()
    r["models"][0]["autoscaling"] = {"minInstances": 3, "maxInstances": 4}
    refused(r, f"{NS}:models[0].instanceCount", "within autoscaling min/max (3–4)")


# -- quality gate ------------------------------------------------------------------------


def _set_metric(value):
    def change(evaluation: dict[str, Any], metric: str) -> None:
        evaluation[metric] = value

    return change


def _drop_metric(evaluation: dict[str, Any], metric: str) -> None:
    del evaluation[metric]


@pytest.mark.parametrize(
    "index,metric,change,value,fragments",
    [
        pytest.param(
            0,
            "biasDisparity",
            _set_metric(0.07),
            0.07,
            (
                "biasDisparity 0.07 exceeds the maximum 0.05",
                "version 2.3.0 of fraud-scorer cannot be deployed to prod",
            ),
            id="maximum-names-metric-value-and-threshold",
        ),
        pytest.param(
            1,
            "accuracy",
            _set_metric(0.9),
            0.9,
            ("accuracy 0.9 is below the minimum 0.95",),
            id="minimum-names-metric-value-and-threshold",
        ),
        pytest.param(
            0,
            "accuracy",
            _drop_metric,
            None,
            ("no evaluation result for accuracy (minimum 0.95)",),
            id="missing-result-fails",
        ),
    ],
)
def test_quality_gate_failure_names_metric_value_and_threshold(
    index, metric, change, value, fragments
):
    r = raw()
    change(r["models"][index]["evaluation"], metric)
    e = error(r)
    assert e.key == f"{NS}:models[{index}].evaluation.{metric}"
    assert e.value is None if value is None else e.value == value
    for fragment in fragments:
        assert fragment in e.rule


def test_prod_needs_quality_gate_thresholds():
    r = raw()
    r["models"][0]["qualityGate"] = {}
    refused(r, f"{NS}:models[0].qualityGate", "need quality-gate thresholds")


def test_dev_may_deploy_a_version_that_fails_the_gate():
    r = raw()
    r["environment"] = r["tags"]["environment"] = "dev"
    r["logging"] = {"retentionDays": 30}
    r["keys"] = {"deletionWindowDays": 7}
    r["models"][0]["evaluation"]["accuracy"] = 0.5
    assert load(r).models[0].quality_gate_failures()[0][0] == "accuracy"


# -- images, artifacts, stages -------------------------------------------------------------


def test_image_must_be_pinned_by_digest():
    r = raw()
    r["models"][0]["image"] = f"{ECR}/fraud-scorer:2.3.0"
    refused(r, f"{NS}:models[0].image", "pinned by digest")


def test_image_registry_must_be_in_the_home_region():
    r = raw()
    r["models"][0]["image"] = f"111122223333.dkr.ecr.eu-west-1.amazonaws.com/models/x@{DIGEST}"
    refused(r, f"{NS}:models[0].image", "registry is in eu-west-1 but aws:region is eu-west-2")


def test_artifact_key_is_a_key_not_a_uri():
    r = raw()
    r["models"][0]["artifactKey"] = "s3://bucket/model.tar.gz"
    refused(r, f"{NS}:models[0].artifactKey", "ending in .tar.gz")


def test_pilot_must_name_its_callers():
    r = raw()
    r["models"][1]["callers"] = []
    refused(r, f"{NS}:models[1].callers", "a pilot must name the IAM roles allowed to use it")


def test_serverless_is_refused_with_the_reason():
    r = raw()
    r["models"][0]["serverless"] = {"memorySizeInMb": 2048}
    refused(
        r,
        f"{NS}:models[0].serverless",
        "neither VPC configuration, network isolation, data capture nor Model Monitor",
    )


def test_prod_needs_a_drift_schedule():
    r = raw()
    del r["models"][0]["monitoring"]["drift"]
    refused(r, f"{NS}:models[0].monitoring.drift", "Model Monitor data-quality schedule")


def test_sagemaker_model_needs_an_instance_type():
    r = raw()
    del r["models"][0]["instanceType"]
    e = error(r)
    assert e.key == f"{NS}:models[0].instanceType"
    assert e.rule == "required for a SageMaker model"


def test_unknown_monitoring_key_is_refused():
    r = raw()
    r["models"][0]["monitoring"]["latencyP95Ms"] = 100
    e = error(r)
    assert e.key == f"{NS}:models[0].monitoring.latencyP95Ms"


def test_error_rate_keys_are_spelt_as_documented():
    r = raw()
    r["models"][0]["monitoring"].update(max4xxRate=0.02, max5xxRate=0.001)
    mon = load(r).models[0].monitoring
    assert (mon.max_4xx_rate, mon.max_5xx_rate) == (0.02, 0.001)


def test_config_hash_is_stable_and_follows_the_version():
    a = load(raw()).models[0].config_sha256()
    assert a == load(raw()).models[0].config_sha256() and len(a) == 64
    r = raw()
    r["models"][0]["version"] = "2.3.1"
    assert load(r).models[0].config_sha256() != a


# -- Bedrock ----------------------------------------------------------------------------------


def test_global_inference_profiles_are_refused():
    r = raw()
    r["bedrock"]["inferenceProfiles"] = [
        {"id": "global.anthropic.claude-sonnet-4-20250514-v1:0", "regions": ["eu-west-2"]}
    ]
    e = error(r)
    assert e.key == f"{NS}:bedrock.inferenceProfiles[0].id"
    assert "global inference profiles" in e.rule and "R5" in e.rule


def test_profile_must_match_the_home_geography():
    r = raw()
    r["bedrock"]["inferenceProfiles"] = [
        {"id": "us.meta.llama3-1-8b-instruct-v1:0", "regions": ["eu-west-2"]}
    ]
    refused(
        r, f"{NS}:bedrock.inferenceProfiles[0].id", "geography does not match aws:region eu-west-2"
    )


def test_profile_regions_must_be_allowed():
    r = raw()
    r["bedrock"]["inferenceProfiles"] = [
        {
            "id": "eu.anthropic.claude-3-haiku-20240307-v1:0",
            "regions": ["eu-west-2", "eu-central-1"],
        }
    ]
    e = error(r)
    assert e.key == f"{NS}:bedrock.inferenceProfiles[0].regions[1]" and e.value == "eu-central-1"
    assert "not in regulated-inference:residency.allowedRegions" in e.rule


def test_profile_id_listed_as_a_model_is_refused():
    r = raw()
    r["bedrock"]["models"] = ["eu.anthropic.claude-3-haiku-20240307-v1:0"]
    refused(r, f"{NS}:bedrock.models[0]", "inference profile id")


def test_prompt_attack_filter_cannot_be_switched_off():
    r = raw()
    r["bedrock"]["guardrail"] = {"promptAttackStrength": "NONE"}
    e = error(r)
    assert e.key == f"{NS}:bedrock.guardrail.promptAttackStrength"


def test_foundation_model_arns_cover_models_and_profile_regions():
    r = raw()
    r["bedrock"]["inferenceProfiles"] = [
        {"id": "eu.anthropic.claude-3-haiku-20240307-v1:0", "regions": ["eu-west-2", "eu-west-1"]}
    ]
    b = load(r).bedrock
    ctx = aws_facts.context("eu-west-2", "111122223333")
    assert b.foundation_model_arns(ctx) == [
        "arn:aws:bedrock:eu-west-2::foundation-model/anthropic.claude-3-haiku-20240307-v1:0",
        "arn:aws:bedrock:eu-west-1::foundation-model/anthropic.claude-3-haiku-20240307-v1:0",
    ]
    assert b.inference_profile_arns(ctx) == [
        "arn:aws:bedrock:eu-west-2:111122223333:inference-profile/eu.anthropic.claude-3-haiku-20240307-v1:0"
    ]


# -- registered versions: the one-line rollback ---------------------------------------------


def registry_model() -> dict[str, Any]:
    m = production_model()
    for key in ("image", "artifactKey", "evaluation", "modelPackageVersion"):
        del m[key]
    m["versions"] = {
        "2.2.1": {
            "image": f"{ECR}/fraud-scorer@sha256:{'1' * 64}",
            "evaluation": {"accuracy": 0.955, "biasDisparity": 0.04},
            "modelPackageVersion": 1,
        },
        "2.3.0": {
            "image": f"{ECR}/fraud-scorer@sha256:{'2' * 64}",
            "evaluation": {"accuracy": 0.96, "biasDisparity": 0.03},
            "modelPackageVersion": 2,
        },
    }
    m["previousVersion"] = "2.2.1"
    return m


def test_version_selects_image_artifact_and_evaluation_from_the_registry():
    r = raw()
    r["models"][0] = registry_model()
    m = load(r).models[0]
    assert m.image.endswith("2" * 64) and m.artifact_key == "fraud-scorer/2.3.0/model.tar.gz"
    assert m.evaluation == {"accuracy": 0.96, "biasDisparity": 0.03}
    r["models"][0].update(version="2.2.1", previousVersion="2.3.0")  # the rollback swap
    back = load(r).models[0]
    assert back.image.endswith("1" * 64) and back.artifact_key == "fraud-scorer/2.2.1/model.tar.gz"
    assert back.evaluation == {"accuracy": 0.955, "biasDisparity": 0.04}
    assert (m.model_package_version, back.model_package_version) == (2, 1)


def test_unregistered_version_is_refused():
    r = raw()
    r["models"][0] = registry_model()
    r["models"][0]["version"] = "2.4.0"
    e = error(r)
    assert e.key == f"{NS}:models[0].version" and e.value == "2.4.0"
    assert "is not a registered version (versions: ['2.2.1', '2.3.0'])" in e.rule


def test_image_in_two_places_is_refused():
    r = raw()
    r["models"][0] = registry_model()
    r["models"][0]["image"] = f"{ECR}/fraud-scorer@sha256:{'9' * 64}"
    refused(r, f"{NS}:models[0].image", "set both here and in versions[2.3.0]")


def test_quality_gate_reads_the_selected_versions_evaluation():
    r = raw()
    r["models"][0] = registry_model()
    r["models"][0]["versions"]["2.2.1"]["evaluation"]["accuracy"] = 0.93
    r["models"][0].update(version="2.2.1", previousVersion="2.3.0")
    e = error(r)
    assert e.key == f"{NS}:models[0].evaluation.accuracy" and e.value == 0.93
    assert "version 2.2.1 of fraud-scorer cannot be deployed to prod" in e.rule


def test_registering_a_version_does_not_change_the_deployed_hash():
    r = raw()
    r["models"][0] = registry_model()
    before = load(r).models[0].config_sha256()
    r["models"][0]["versions"]["2.4.0"] = {"image": f"{ECR}/fraud-scorer@sha256:{'4' * 64}"}
    assert load(r).models[0].config_sha256() == before


def test_prod_keeps_the_previous_version_deployed():
    r = raw()
    r["models"][0] = registry_model()
    del r["models"][0]["previousVersion"]
    e = error(r)
    assert e.key == f"{NS}:models[0].previousVersion" and e.value is None
    assert "automatic rollback lands on live resources" in e.rule and "['2.2.1']" in e.rule
    # One registered version: nothing ran before it, nothing to keep.
    del r["models"][0]["versions"]["2.2.1"]
    assert load(r).models[0].previous() is None


@pytest.mark.parametrize(
    "previous,fragment",
    [
        ("2.4.0", "must be a registered version (versions: ['2.2.1', '2.3.0'])"),
        ("2.3.0", "must differ from version"),
    ],
)
def test_previous_version_must_be_another_registered_version(previous, fragment):
    r = raw()
    r["models"][0] = registry_model()
    r["models"][0]["previousVersion"] = previous
    e = error(r)
    assert e.key == f"{NS}:models[0].previousVersion" and e.value == previous
    assert fragment in e.rule


def test_previous_version_comes_from_the_registry_like_the_current_one():
    r = raw()
    r["models"][0] = registry_model()
    del r["models"][0]["versions"]["2.2.1"]["modelPackageVersion"]
    refused(r, f"{NS}:models[0].previousVersion", "both come from the model registry")


def test_previous_version_does_not_change_the_deployed_hash_but_the_request_hash():
    r = raw()
    r["models"][0] = registry_model()
    m = load(r).models[0]
    r["models"][0]["versions"]["2.4.0"] = {
        "image": f"{ECR}/fraud-scorer@sha256:{'4' * 64}",
        "modelPackageVersion": 3,
    }
    r["models"][0]["previousVersion"] = "2.4.0"  # e.g. after rolling 2.4.0 back to 2.3.0
    back = load(r).models[0]
    assert back.config_sha256() == m.config_sha256()  # the same configuration came back
    assert back.request_sha256() != m.request_sha256()  # but a different request


def test_autoscaled_instance_count_is_the_autoscaling_maximum():
    # Each rollout restarts the variant at instanceCount: the provider cannot send
    # RetainAllVariantProperties (hashicorp/terraform-provider-aws PR #49069).
    r = raw()
    r["models"][0]["autoscaling"] = {"minInstances": 2, "maxInstances": 6}
    e = error(r)
    assert e.key == f"{NS}:models[0].instanceCount" and e.value == 2
    assert "set instanceCount to autoscaling.maxInstances (6)" in e.rule
    r["models"][0]["instanceCount"] = 6
    assert load(r).models[0].instance_count == 6
    # Without scaling (min = max) there is nothing to reset.
    r["models"][0].update(instanceCount=3, autoscaling={"minInstances": 3, "maxInstances": 3})
    assert load(r).models[0].instance_count == 3


def test_unquoted_numeric_version_is_refused():
    r = raw()
    r["models"][0]["version"] = 2.1
    e = error(r)
    assert e.key == f"{NS}:models[0].version" and e.value == 2.1
    assert "quote the version in YAML" in e.rule


# -- piloting a new version of an existing model ----------------------------------------------


def version_pilot() -> dict[str, Any]:
    m = production_model()
    m.update(
        name="fraud-scorer-pilot",
        registryGroup="fraud-scorer",
        version="2.4.0",
        stage="pilot",
        callers=["fraud-analysts"],
        modelPackageVersion=4,
        artifactKey="fraud-scorer/2.4.0/model.tar.gz",
    )
    return m


def test_a_pilot_of_a_new_version_uses_the_existing_models_registry_group():
    r = raw()
    r["models"].append(version_pilot())
    pilot = load(r).models[2]
    assert pilot.package_group == "fraud-scorer" and pilot.stage == "pilot"


def test_registry_group_must_be_another_model_of_the_stack():
    r = raw()
    pilot = version_pilot()
    pilot["registryGroup"] = "no-such-model"
    r["models"].append(pilot)
    e = error(r)
    assert e.key == f"{NS}:models[2].registryGroup" and e.value == "no-such-model"
    assert "must name another SageMaker model of this stack" in e.rule
