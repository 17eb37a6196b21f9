"""Config sections derived from the components' argument types, and the models union.

One place per fact: a section's keys, defaults and descriptions are the component's; the config
adds bounds and rules. The `models[i]` entries are SageMaker- or Kubernetes-hosted, told apart by
`kubernetes`, and a key of the other hosting is refused with one error naming it."""

from __future__ import annotations

import copy
import typing

import pytest
from pydantic import ValidationError

from regulated_inference.components import bedrock_access as ba
from regulated_inference.components import data_quality as dq
from regulated_inference.components import drift_job
from regulated_inference.components import managed_inference as mi
from regulated_inference.components import model_monitoring as mm
from regulated_inference.components.self_hosted import args as shi
from regulated_inference.config import ConfigError, parse
from regulated_inference.config.derive import field_docstrings
from regulated_inference.config.kubernetes import (
    KubernetesConfig,
    LoaderConfig,
    ProbeConfig,
    ProbesConfig,
    ResourcesConfig,
)
from regulated_inference.config.models import (
    DRIFT_CONFIG_NAMES,
    AutoscalingConfig,
    BedrockLoggingConfig,
    DriftConfig,
    GuardrailConfig,
    KubernetesModelConfig,
    MonitoringConfig,
    RolloutConfig,
    SageMakerModelConfig,
)
from regulated_inference.lib import drift
from regulated_inference.lib import sagemaker as sm
from tests.config.test_kubernetes_config import raw_prod, self_hosted_model

NS = "regulated-inference"

#: (config section, component type, fields the section takes)
DERIVED = [
    (RolloutConfig, sm.Rollout, None),
    (MonitoringConfig, mm.Thresholds, None),
    (GuardrailConfig, ba.GuardrailSettings, None),
    (BedrockLoggingConfig, ba.LoggingSettings, None),
    (ResourcesConfig, shi.ContainerResources, None),
    (ProbeConfig, shi.Probe, None),
    (ProbesConfig, shi.Probes, None),
    (LoaderConfig, shi.Loader, None),
    (KubernetesConfig, shi.SelfHostedInferenceArgs, KubernetesConfig.__args_fields__),
]


@pytest.mark.parametrize(("section", "component", "only"), DERIVED)
def test_section_fields_and_docstrings_are_the_components(section, component, only):
    names = only or tuple(typing.get_type_hints(component, localns={"Output": object, "T": object}))
    assert set(names) <= set(section.model_fields)
    docs = field_docstrings(component)
    for name in names:
        assert section.model_fields[name].description.startswith(docs[name]), name


def test_defaults_are_the_components_defaults():
    assert RolloutConfig().to_args() == sm.ROLLOUT_DEFAULTS
    assert MonitoringConfig().to_args() == mm.THRESHOLD_DEFAULTS
    assert GuardrailConfig().to_args() == ba.guardrail_settings()
    assert BedrockLoggingConfig().to_args() == ba.logging_settings()
    probe = ProbeConfig(path="/ping").to_args()
    assert probe == {
        "path": "/ping",
        "period_seconds": shi.DEFAULT_PROBE_PERIOD_SECONDS,
        "timeout_seconds": shi.DEFAULT_PROBE_TIMEOUT_SECONDS,
        "failure_threshold": shi.DEFAULT_PROBE_FAILURE_THRESHOLD,
    }
    image = self_hosted_model()["kubernetes"]["loader"]["image"]
    assert LoaderConfig(image=image).storage == shi.DEFAULT_LOADER_STORAGE


def test_drift_and_autoscaling_take_the_components_docs_and_defaults_under_their_keys():
    """`monitoring.drift` keeps the keys stack files use (`threshold`, `image`, `schedule`); each
    field's doc and default is the drift components' argument's, mapped in DRIFT_CONFIG_NAMES."""
    check_docs = field_docstrings(drift_job.ScheduledDriftCheckArgs)
    for arg in ("features", "drift_threshold", "image_uri", "interval_hours", "instance_type"):
        field = DRIFT_CONFIG_NAMES.get(arg, arg)
        assert DriftConfig.model_fields[field].description.startswith(check_docs[arg]), arg
    schedule = DriftConfig.model_fields["schedule"]
    assert schedule.description.startswith(
        field_docstrings(dq.DataQualityMonitorArgs)["schedule_expression"]
    )
    assert schedule.default == dq.DEFAULT_SCHEDULE_EXPRESSION == dq.DEFAULTS["schedule_expression"]
    image = "111122223333.dkr.ecr.eu-west-2.amazonaws.com/drift@sha256:" + "a" * 64
    section = DriftConfig.model_validate({"features": ["amount"], "image": image})
    assert section.hours == drift_job.DEFAULTS["interval_hours"]
    assert section.to_args() == {
        "features": ["amount"],
        "image_uri": image,
        **drift.DRIFT_JOB_DEFAULTS,
    }
    mi_docs = field_docstrings(mi.ManagedInferenceArgs)
    scaling = AutoscalingConfig.model_validate({"minInstances": 2, "maxInstances": 4})
    for arg in ("min_instances", "max_instances", "target_invocations_per_instance"):
        assert AutoscalingConfig.model_fields[arg].description.startswith(mi_docs[arg]), arg
    assert scaling.to_args() == {
        "min_instances": 2,
        "max_instances": 4,
        "target_invocations_per_instance": mi.DEFAULT_TARGET_INVOCATIONS_PER_INSTANCE,
    }


@pytest.mark.parametrize(
    ("section", "raw", "key", "fragment"),
    [
        (AutoscalingConfig, {"maxInstances": 4}, "minInstances", "required"),
        (DriftConfig, {"features": ["a"], "threshold": 1.5}, "threshold", "less than or equal"),
        (DriftConfig, {"features": ["a"], "driftThreshold": 0.3}, "driftThreshold", "Extra inputs"),
    ],
)
def test_derived_drift_and_autoscaling_keep_their_rules(section, raw, key, fragment):
    """Bounds, required keys and the user's key names hold; the argument name is no config key."""
    with pytest.raises(ValidationError) as err:
        section.model_validate(raw)
    [error] = err.value.errors()
    assert error["loc"][-1] == key and fragment in error["msg"]


def test_to_args_drops_config_only_fields():
    """`monitoring.drift` configures another component: it is no threshold."""
    assert "drift" in MonitoringConfig.model_fields
    assert "drift" not in MonitoringConfig().to_args()


def test_nested_sections_become_the_component_types():
    cfg = parse(raw_prod())
    args = cfg.models[0].kubernetes.to_args()
    assert args["probes"]["readiness"] == {
        "path": "/ready",
        "period_seconds": 5,
        "timeout_seconds": shi.DEFAULT_PROBE_TIMEOUT_SECONDS,
        "failure_threshold": shi.DEFAULT_PROBE_FAILURE_THRESHOLD,
    }
    assert args["resources"]["gpu"] == 1
    assert args["loader"] == {
        "image": self_hosted_model()["kubernetes"]["loader"]["image"],
        "storage": "40Gi",
    }
    assert "canary" not in args and "cluster" not in args  # assembled by the program


def test_entries_are_told_apart_by_kubernetes():
    raw = raw_prod()
    cfg = parse(raw)
    assert isinstance(cfg.models[0], KubernetesModelConfig)
    from tests.conftest import stack_config, without_namespace

    prod = without_namespace(stack_config("prod"))
    kinds = [type(m) for m in parse(prod).models]
    assert kinds == [SageMakerModelConfig, SageMakerModelConfig, KubernetesModelConfig]


@pytest.mark.parametrize("key", ["instanceType", "rollout", "monitoring", "callers"])
def test_sagemaker_key_on_a_kubernetes_entry_is_refused_by_name(key):
    entry = copy.deepcopy(self_hosted_model())
    entry[key] = {"strategy": "canary"} if key in ("rollout", "monitoring") else "ml.m5.large"
    with pytest.raises(ConfigError) as err:
        parse(raw_prod(entry))
    assert err.value.key == f"{NS}:models[0].{key}"
    assert "unknown key" in err.value.rule
    assert "hosting=" not in str(err.value)


def test_kubernetes_section_error_path_has_no_hosting_tag():
    entry = copy.deepcopy(self_hosted_model())
    entry["kubernetes"]["port"] = 80
    with pytest.raises(ConfigError) as err:
        parse(raw_prod(entry))
    assert err.value.key == f"{NS}:models[0].kubernetes.port"
