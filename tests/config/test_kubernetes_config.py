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
    check_label_key,
)
from tests.config.mutation import DELETE as _DELETE
from tests.config.mutation import set_at
from tests.conftest import stack_config, without_namespace

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
    raw = without_namespace(stack_config("prod"))
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


M = f"{NS}:models[0]"
K = f"{M}.kubernetes"
OTHER_REGION_IMAGE = f"{ACCT}.dkr.ecr.us-east-1.amazonaws.com/credit-risk-llm@sha256:{'b' * 64}"
OTHER_REGION_OIDC = f"arn:aws:iam::{ACCT}:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/ABC"


def bad(path: str, value: Any, rule: str, *, key: str | None = None, shown: str | None = None):
    """A case: `path` of the entry set to `value` (`_DELETE`: removed) gives one error on `key`
    (default: `path`) showing `shown` (default: the value as JSON) and saying `rule`."""
    shown = ("null" if value is _DELETE else json.dumps(value)) if shown is None else shown
    key = key or path
    return pytest.param(_set(path, value), f"{M}.{key}", shown, rule, id=f"{key}:{shown}")


CASES = [
    bad("kubernetes.namespace", "default", "control K9"),
    bad("kubernetes.namespace", "Credit_Risk", "DNS label"),
    bad("kubernetes.gatewayNamespace", "gw!", "DNS label"),
    bad("kubernetes.image", f"{ECR}/credit-risk-llm:1.4.0", "pinned by digest"),
    bad("kubernetes.image", f"ghcr.io/acme/model@sha256:{'a' * 64}", "private ECR"),
    bad("kubernetes.canary.image", OTHER_REGION_IMAGE, "home region's ECR", shown="us-east-1"),
    bad("kubernetes.loader.image", f"{ECR}/loader:latest", "pinned by digest"),
    bad("kubernetes.canary.weight", 60, "promote the canary"),
    bad("kubernetes.canary.weight", 0, "must be 1–50"),
    bad(
        "kubernetes.replicas.min",
        4,
        "raise replicas.min to ≥ 5",
        key="kubernetes.canary.weight",
        shown="10",
    ),
    bad("kubernetes.canary.version", "1.4.0", "must differ from the stable"),
    bad("kubernetes.canary.version", "1.5.0+rc/1", "label value"),
    bad("kubernetes.canary.artifactKey", "s3://bucket/x.tar.gz", "no s3://"),
    bad("kubernetes.replicas.max", 5, "must be ≥ min (10)"),
    bad("kubernetes.replicas.min", 0, "greater than or equal to 1"),
    bad("kubernetes.resources.cpuRequest", "two", "not a Kubernetes quantity"),
    bad(
        "kubernetes.resources.memoryLimit",
        "16Gi",
        "exceeds its limit 16Gi",
        key="kubernetes.resources.memoryRequest",
        shown='"32Gi"',
    ),
    bad("kubernetes.resources.gpu", -1, "greater than or equal to 0"),
    bad("kubernetes.port", 80, "greater than or equal to 1024"),
    bad("kubernetes.runAsUser", 1000, "greater than or equal to 10000"),
    bad("kubernetes.probes.liveness.path", "healthz", "pattern"),
    bad("kubernetes.probes", _DELETE, "required key is missing"),
    bad("kubernetes.vpcEndpointsCidr", "0.0.0.0/0", "never 0.0.0.0/0"),
    bad("kubernetes.vpcEndpointsCidr", "52.95.0.0/16", "private CIDR"),
    bad(
        "kubernetes.s3GatewayCidrs",
        ["52.95.148.0/23", "0.0.0.0/0"],
        "never 0.0.0.0/0",
        key="kubernetes.s3GatewayCidrs[1]",
        shown='"0.0.0.0/0"',
    ),
    bad("kubernetes.zoneSpread", "Maybe", "'DoNotSchedule' or 'ScheduleAnyway'"),
    bad(
        "kubernetes.cluster.oidcProviderArn",
        "arn:aws:iam::123:oidc-provider/x",
        "EKS OIDC provider ARN",
    ),
    bad(
        "kubernetes.cluster.oidcIssuer",
        "https://oidc.eks.eu-west-2.amazonaws.com/id/OTHER",
        "must be the issuer of oidcProviderArn",
    ),
    bad(
        "kubernetes.cluster.oidcProviderArn",
        OTHER_REGION_OIDC,
        "home region eu-west-2",
        shown="us-east-1",
    ),
    bad("kubernetes.replicaCount", 3, "unknown key"),
    bad("version", "1.4.0+build", "label value"),
]


@pytest.mark.parametrize("mutate,key,value,rule", CASES)
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
    raw = without_namespace(stack_config("dev"))
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
    "arn",
    [
        f"arn:aws:iam::{ACCT}:role/eks-deploy",
        f"arn:aws:iam::{ACCT}:role/ci/eks/deploy+prod@bank.example",
        f"arn:aws-us-gov:iam::{ACCT}:role/{'r' * 64}",
    ],
)
def test_deploy_role_arn_takes_iam_role_arns_with_paths(arn):
    assert (
        validate(_with_api(deployRoleArn=arn)).models[0].kubernetes.cluster.deploy_role_arn == arn
    )


@pytest.mark.parametrize(
    "field,value,rule",
    [
        ("endpoint", "http://ABC123.eks.amazonaws.com", "https://"),
        ("certificateAuthorityData", "not base64!", "base64"),
        ("deployRoleArn", "arn:aws:iam::123:user/x", "IAM role ARN"),
        # IAM name rules (lib.aws.parse_iam_role_arn): name ≤ 64, path /…/ ≤ 512, ASCII digits
        ("deployRoleArn", f"arn:aws:iam::{ACCT}:role/{'r' * 65}", "name ≤ 64"),
        ("deployRoleArn", f"arn:aws:iam::{ACCT}:role/ci//deploy", "IAM role ARN"),
        ("deployRoleArn", f"arn:aws:iam::{ACCT}:role/ci/{'p' * 511}/deploy", "path ≤ 512"),
        ("deployRoleArn", "arn:aws:iam::" + "\uff12" * 12 + ":role/deploy", "12-digit account"),
        ("deployRoleArn", f"arn:aws-eu:iam::{ACCT}:role/deploy", "IAM role ARN"),
        ("name", "prod eks", "EKS cluster name"),
    ],
)
def test_cluster_api_fields_are_checked(field, value, rule):
    with pytest.raises(ConfigError) as err:
        validate(_with_api(**{field: value}))
    assert err.value.key == f"{K}.cluster.{field}"
    assert rule in err.value.rule


@pytest.mark.parametrize(
    "key,problem",
    [
        ("gpu", None),
        ("a", None),
        ("eks.amazonaws.com/nodegroup", None),
        ("x" * 63, None),
        ("Node_Group.v-2", None),
        ("example.com/" + "n" * 63, None),
        ("", "label key name"),
        ("example.com/", "label key name"),
        ("x" * 64, "label key name"),
        ("-gpu", "label key name"),
        ("gpu.", "label key name"),
        ("example.com/g pu", "label key name"),
        ("Example.com/gpu", "label key prefix"),
        ("a/b/c", "label key prefix"),
    ],
)
def test_label_key_name_has_the_label_value_syntax(key, problem):
    """IsQualifiedName (k8s.io/apimachinery pkg/util/validation): the name part of a key is a
    non-empty label value; the prefix a DNS-1123 subdomain."""
    if problem is None:
        check_label_key(key)
    else:
        with pytest.raises(ValueError, match=problem):
            check_label_key(key)
