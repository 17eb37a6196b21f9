"""`models[i].kubernetes`: a valid self-hosted entry parses; each invalid value gives one
ConfigError naming the exact key, the value and the rule."""

from __future__ import annotations

import copy
import datetime
import json
from collections.abc import Callable
from typing import Any

import pytest

from regulated_inference.config import ConfigError, StackConfig, parse
from regulated_inference.config.kubernetes import (
    SECRET_PLACEHOLDER,
    KubernetesConfig,
)
from tests.config.mutation import DELETE as _DELETE
from tests.config.mutation import set_at
from tests.conftest import stack_config

NS = "regulated-inference"
ACCT = "262849081348"  # the simulated prod account
ECR = f"{ACCT}.dkr.ecr.eu-west-2.amazonaws.com"
ISSUER = "oidc.eks.eu-west-2.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE"


def self_hosted_model() -> dict[str, Any]:
    """One self-hosted model entry, as it appears in `regulated-inference:models`."""
    return {
        "name": "credit-risk-llm",
        "version": "1.4.0",
        "image": f"{ECR}/credit-risk-llm@sha256:{'a' * 64}",
        "artifactKey": "credit-risk-llm/1.4.0/model.tar.gz",
        "stage": "production",
        "kubernetes": {
            "context": "prod-eks",
            "cluster": {"oidcProviderArn": f"arn:aws:iam::{ACCT}:oidc-provider/{ISSUER}"},
            "namespace": "credit-risk-llm",
            "replicas": {"min": 10, "max": 20},
            "resources": {
                "cpuRequest": "4",
                "cpuLimit": "8",
                "memoryRequest": "32Gi",
                "memoryLimit": "32Gi",
                "gpu": 1,
            },
            "port": 8080,
            "probes": {
                "liveness": {"path": "/ping"},
                "readiness": {"path": "/ready", "periodSeconds": 5},
                "startupSeconds": 900,
            },
            "gatewayNamespace": "inference-gateway",
            "vpcEndpointsCidr": "10.40.0.0/16",
            "loader": {"image": f"{ECR}/model-loader@sha256:{'c' * 64}", "storage": "40Gi"},
            "canary": {
                "version": "1.5.0",
                "image": f"{ECR}/credit-risk-llm@sha256:{'b' * 64}",
                "weight": 10,
            },
            "nodeSelector": {"eks.amazonaws.com/nodegroup": "gpu-l4"},
        },
        # model inventory, required in prod (regulated_inference/config/exemptions.py)
        "owner": "models@bank.example",
        "riskTier": "high",
        "validation": {"status": "approved", "date": str(datetime.date.today())},
    }


def raw_prod(entry: dict[str, Any] | None = None) -> dict[str, Any]:
    """The prod stack config as the program decodes it (no namespace), with only `entry` as model."""
    raw = {k.removeprefix(f"{NS}:"): v for k, v in stack_config("prod").items()}
    raw["models"] = [entry if entry is not None else self_hosted_model()]
    return raw


def validate(entry: dict[str, Any]) -> StackConfig:
    """Section validation and the cross-section rules (parse runs both, once)."""
    return parse(raw_prod(entry))


def test_valid_entry_parses():
    cfg = validate(self_hosted_model())
    kube = cfg.models[0].kubernetes
    assert isinstance(kube, KubernetesConfig)
    assert kube.cluster.issuer == ISSUER
    assert kube.cluster.region == "eu-west-2"
    assert kube.canary is not None and kube.canary.weight == 10
    assert kube.run_as_user == 10001
    assert kube.zone_spread == "DoNotSchedule"
    assert not kube.uses_ambient_provider
    assert not cfg.models[0].runs_on_sagemaker


def test_ambient_provider_when_no_kubeconfig_and_no_context():
    entry = self_hosted_model()
    del entry["kubernetes"]["context"]
    assert validate(entry).models[0].kubernetes.uses_ambient_provider


def test_nested_secret_kubeconfig_is_accepted_offline():
    entry = self_hosted_model()
    entry["kubernetes"]["kubeconfig"] = {"secure": "v1:abcdef"}
    assert validate(entry).models[0].kubernetes.kubeconfig == SECRET_PLACEHOLDER


def test_issuer_may_be_given_with_https():
    entry = self_hosted_model()
    entry["kubernetes"]["cluster"]["oidcIssuer"] = f"https://{ISSUER}"
    assert validate(entry).models[0].kubernetes.cluster.issuer == ISSUER


def _set(path: str, value: Any) -> Callable[[dict], None]:
    """Mutation of the entry at a dotted path (`kubernetes.canary.weight`); `_DELETE` removes it."""

    def mutate(entry: dict) -> None:
        set_at(entry, path.split("."), value)

    return mutate


K = f"{NS}:models[0].kubernetes"
OTHER_REGION_IMAGE = f"{ACCT}.dkr.ecr.us-east-1.amazonaws.com/credit-risk-llm@sha256:{'b' * 64}"

# (mutation, expected key, expected value text, expected rule fragment)
CASES = [
    (_set("kubernetes.namespace", "default"), f"{K}.namespace", '"default"', "control K9"),
    (_set("kubernetes.namespace", "Credit_Risk"), f"{K}.namespace", '"Credit_Risk"', "DNS label"),
    (_set("kubernetes.gatewayNamespace", "gw!"), f"{K}.gatewayNamespace", '"gw!"', "DNS label"),
    (
        _set("kubernetes.image", f"{ECR}/credit-risk-llm:1.4.0"),
        f"{K}.image",
        f'"{ECR}/credit-risk-llm:1.4.0"',
        "pinned by digest",
    ),
    (
        _set("kubernetes.image", f"ghcr.io/acme/model@sha256:{'a' * 64}"),
        f"{K}.image",
        "ghcr.io",
        "private ECR",
    ),
    (
        _set("kubernetes.canary.image", OTHER_REGION_IMAGE),
        f"{K}.canary.image",
        "us-east-1",
        "home region's ECR",
    ),
    (
        _set("kubernetes.loader.image", f"{ECR}/loader:latest"),
        f"{K}.loader.image",
        "loader:latest",
        "pinned by digest",
    ),
    (_set("kubernetes.canary.weight", 60), f"{K}.canary.weight", "60", "promote the canary"),
    (_set("kubernetes.canary.weight", 0), f"{K}.canary.weight", "0", "must be 1–50"),
    (_set("kubernetes.replicas.min", 4), f"{K}.canary.weight", "10", "raise replicas.min to ≥ 5"),
    (
        _set("kubernetes.canary.version", "1.4.0"),
        f"{K}.canary.version",
        '"1.4.0"',
        "must differ from the stable",
    ),
    (
        _set("kubernetes.canary.version", "1.5.0+rc/1"),
        f"{K}.canary.version",
        '"1.5.0+rc/1"',
        "label value",
    ),
    (
        _set("kubernetes.canary.artifactKey", "s3://bucket/x.tar.gz"),
        f"{K}.canary.artifactKey",
        "s3://",
        "no s3://",
    ),
    (_set("kubernetes.replicas.max", 5), f"{K}.replicas.max", "5", "must be ≥ min (10)"),
    (_set("kubernetes.replicas.min", 0), f"{K}.replicas.min", "0", "greater than or equal to 1"),
    (
        _set("kubernetes.resources.cpuRequest", "two"),
        f"{K}.resources.cpuRequest",
        '"two"',
        "not a Kubernetes quantity",
    ),
    (
        _set("kubernetes.resources.memoryLimit", "16Gi"),
        f"{K}.resources.memoryRequest",
        '"32Gi"',
        "exceeds its limit 16Gi",
    ),
    (
        _set("kubernetes.resources.gpu", -1),
        f"{K}.resources.gpu",
        "-1",
        "greater than or equal to 0",
    ),
    (_set("kubernetes.port", 80), f"{K}.port", "80", "greater than or equal to 1024"),
    (
        _set("kubernetes.runAsUser", 1000),
        f"{K}.runAsUser",
        "1000",
        "greater than or equal to 10000",
    ),
    (
        _set("kubernetes.probes.liveness.path", "healthz"),
        f"{K}.probes.liveness.path",
        '"healthz"',
        "pattern",
    ),
    (_set("kubernetes.probes", _DELETE), f"{K}.probes", "null", "required key is missing"),
    (
        _set("kubernetes.vpcEndpointsCidr", "0.0.0.0/0"),
        f"{K}.vpcEndpointsCidr",
        '"0.0.0.0/0"',
        "never 0.0.0.0/0",
    ),
    (
        _set("kubernetes.vpcEndpointsCidr", "52.95.0.0/16"),
        f"{K}.vpcEndpointsCidr",
        '"52.95.0.0/16"',
        "private CIDR",
    ),
    (
        _set("kubernetes.s3GatewayCidrs", ["52.95.148.0/23", "0.0.0.0/0"]),
        f"{K}.s3GatewayCidrs[1]",
        '"0.0.0.0/0"',
        "never 0.0.0.0/0",
    ),
    (
        _set("kubernetes.zoneSpread", "Maybe"),
        f"{K}.zoneSpread",
        '"Maybe"',
        "'DoNotSchedule' or 'ScheduleAnyway'",
    ),
    (
        _set("kubernetes.cluster.oidcProviderArn", "arn:aws:iam::123:oidc-provider/x"),
        f"{K}.cluster.oidcProviderArn",
        "oidc-provider/x",
        "EKS OIDC provider ARN",
    ),
    (
        _set("kubernetes.cluster.oidcIssuer", "https://oidc.eks.eu-west-2.amazonaws.com/id/OTHER"),
        f"{K}.cluster.oidcIssuer",
        "OTHER",
        "must be the issuer of oidcProviderArn",
    ),
    (
        _set(
            "kubernetes.cluster.oidcProviderArn",
            f"arn:aws:iam::{ACCT}:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/ABC",
        ),
        f"{K}.cluster.oidcProviderArn",
        "us-east-1",
        "home region eu-west-2",
    ),
    (_set("kubernetes.replicaCount", 3), f"{K}.replicaCount", "3", "unknown key"),
    (_set("version", "1.4.0+build"), f"{NS}:models[0].version", '"1.4.0+build"', "label value"),
]


@pytest.mark.parametrize(
    "mutate,key,value,rule",
    CASES,
    ids=[f"{c[1].split('kubernetes')[-1] or c[1]}:{c[2]}" for c in CASES],
)
def test_invalid_entry_gives_one_precise_error(mutate, key, value, rule):
    entry = copy.deepcopy(self_hosted_model())
    mutate(entry)
    with pytest.raises(ConfigError) as err:
        validate(entry)
    assert err.value.key == key
    assert value in str(err.value)
    assert rule in err.value.rule
    assert str(err.value).startswith(f"invalid stack config: {key} = ")


def test_prod_keeps_two_stable_pods_besides_the_canary():
    entry = self_hosted_model()
    entry["kubernetes"]["replicas"] = {"min": 2, "max": 4}
    entry["kubernetes"]["canary"]["weight"] = 50
    with pytest.raises(ConfigError) as err:
        validate(entry)
    assert err.value.key == f"{K}.replicas.min"
    assert "≥ 2 stable pods" in err.value.rule
    entry["kubernetes"]["replicas"] = {"min": 4, "max": 4}  # 2 stable + 2 canary
    validate(entry)


def test_dev_allows_a_single_pod():
    raw = {k.removeprefix(f"{NS}:"): v for k, v in stack_config("dev").items()}
    entry = self_hosted_model()
    entry["kubernetes"]["replicas"] = {"min": 1, "max": 2}
    del entry["kubernetes"]["canary"]
    raw["models"] = [entry]
    cfg = parse(raw)
    assert not cfg.is_prod
    # the same entry is refused in prod
    with pytest.raises(ConfigError, match="≥ 2 stable pods"):
        validate(entry)


def test_stable_image_is_required_somewhere():
    entry = self_hosted_model()
    del entry["image"]
    with pytest.raises(ConfigError) as err:
        validate(entry)
    assert err.value.key == f"{K}.image"
    entry["kubernetes"]["image"] = f"{ECR}/credit-risk-llm@sha256:{'d' * 64}"
    validate(entry)


def test_stable_image_in_another_region_names_the_model_level_key():
    entry = self_hosted_model()
    entry["image"] = OTHER_REGION_IMAGE
    with pytest.raises(ConfigError) as err:
        validate(entry)
    assert err.value.key == f"{NS}:models[0].image"
    assert "residency R7" in err.value.rule


def test_one_model_per_namespace():
    raw = raw_prod()
    second = copy.deepcopy(self_hosted_model())
    second["name"] = "fraud-llm"
    raw["models"].append(second)
    with pytest.raises(ConfigError) as err:
        parse(raw)  # stack-level validation (config.rules) runs in parse
    assert err.value.key == f"{NS}:models[1].kubernetes.namespace"
    assert "already used by models[0]" in err.value.rule


def test_entry_round_trips_as_cli_json():
    # What `pulumi config set --path` stores is what the program decodes.
    entry = json.loads(json.dumps(self_hosted_model()))
    assert validate(entry).models[0].kubernetes.namespace == "credit-risk-llm"


# -- reaching the cluster without a kubeconfig file (issue 10, item 4) ---------------------------

API = {
    "name": "prod-eks",
    "endpoint": "https://ABC123.gr7.eu-west-2.eks.amazonaws.com",
    "certificateAuthorityData": "LS0tLS1CRUdJTi0tLS0tCg==",
}


def _with_api(**extra: Any) -> dict[str, Any]:
    entry = self_hosted_model()
    entry["kubernetes"].pop("context", None)
    entry["kubernetes"]["cluster"].update({**API, **extra})
    return entry


def test_cluster_api_access_fields():
    kube = validate(_with_api()).models[0].kubernetes
    assert kube.cluster.has_api_access and not kube.uses_ambient_provider
    assert kube.cluster.endpoint == API["endpoint"]


@pytest.mark.parametrize("missing", ["name", "endpoint", "certificateAuthorityData"])
def test_cluster_api_fields_go_together(missing):
    entry = _with_api()
    del entry["kubernetes"]["cluster"][missing]
    with pytest.raises(ConfigError) as err:
        validate(entry)
    assert err.value.key == f"{K}.cluster.{missing}"
    assert "go together" in err.value.rule


@pytest.mark.parametrize(
    "field,value,rule",
    [
        ("endpoint", "http://ABC123.eks.amazonaws.com", "https://"),
        ("certificateAuthorityData", "not base64!", "base64"),
        ("deployRoleArn", "arn:aws:iam::123:user/x", "IAM role ARN"),
        ("name", "prod eks", "EKS cluster name"),
    ],
)
def test_cluster_api_fields_are_checked(field, value, rule):
    with pytest.raises(ConfigError) as err:
        validate(_with_api(**{field: value}))
    assert err.value.key == f"{K}.cluster.{field}"
    assert rule in err.value.rule
