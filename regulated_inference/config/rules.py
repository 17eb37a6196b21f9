"""Every rule across config sections, in one pass: `check_stack`, which `parse()` runs once.

Each section's model checks what it can see on its own (field bounds, one section's fields
together); what needs several sections — the home region, prod, the other models, Bedrock
residency, exemptions and the model inventory — is here, in the order a reader meets the
sections in a stack file, and raises one `ConfigError` naming the exact key.

Rules that need a cloud answer (the deploying account, the region's availability zones) cannot
run at parse time; `check_cloud` holds them all and the program calls it once, right after
asking AWS and before declaring any resource.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from regulated_inference.config.errors import ConfigError, RuleViolation
from regulated_inference.config.exemptions import check_exemptions, check_inventory
from regulated_inference.config.kubernetes import check_label_value
from regulated_inference.config.models import (
    PROFILE_PREFIXES,
    KubernetesModelConfig,
    SageMakerModelConfig,
    geography,
)
from regulated_inference.config.prod_rules import (
    PROD_AUDIT_MIN_RETENTION_DAYS,
    PROD_AUDIT_MODES,
    PROD_INSTANCE_TYPES,
    PROD_KEY_DELETION_WINDOW_DAYS,
    PROD_MIN_CAPTURE_SAMPLING_PERCENT,
    PROD_MIN_INSTANCES,
    PROD_MIN_LOG_RETENTION_DAYS,
    control,
    prod_instance_type_allowed,
)
from regulated_inference.lib import aws as aws_facts
from regulated_inference.lib import kubernetes as k8s

if TYPE_CHECKING:  # pragma: no cover
    from regulated_inference.config import StackConfig


def check_stack(cfg: StackConfig, ns: str) -> None:
    """All cross-section rules of a parsed stack config; ConfigError on the first broken one."""
    _platform(cfg, ns)
    for i, model in enumerate(cfg.models):
        if model.name in [m.name for m in cfg.models[:i]]:
            raise ConfigError(f"{ns}:models[{i}].name", model.name, "model names must be unique")
    owners = {
        m.name
        for m in cfg.models
        if isinstance(m, SageMakerModelConfig) and m.registry_group is None
    }
    for i, model in enumerate(cfg.models):
        if isinstance(model, SageMakerModelConfig):
            _sagemaker_model(cfg, model, f"{ns}:models[{i}]", owners)
    _bedrock(cfg, ns)
    namespaces: dict[str, int] = {}
    for i, model in enumerate(cfg.models):
        if isinstance(model, KubernetesModelConfig):
            _kubernetes_model(cfg, model, f"{ns}:models[{i}]", namespaces, i)
    check_exemptions(cfg)
    check_inventory(cfg)


def check_cloud(cfg: StackConfig, ns: str, account_id: str, zone_names: list[str]) -> None:
    """The rules that need AWS's answers: the deploying account (`aws.get_caller_identity`) and
    the region's available zones (`aws.get_availability_zones(state="available")`). Call once,
    after asking, before any resource."""
    if cfg.allowed_account_ids and account_id not in cfg.allowed_account_ids:
        # The AWS provider refuses such credentials too, but only once it is configured; this
        # stops the program first, with one config error, so nothing is planned against them.
        raise ConfigError(
            "aws:allowedAccountIds",
            cfg.allowed_account_ids,
            f"the deploying credentials are for account {account_id}, which this stack may not "
            "deploy to (switch credentials, or add the account if it is really this stack's)",
        )
    for i, model in enumerate(cfg.models):
        # IAM only trusts an OIDC provider registered in the role's own account.
        if (
            isinstance(model, KubernetesModelConfig)
            and model.kubernetes.cluster.account != account_id
        ):
            raise ConfigError(
                f"{ns}:models[{i}].kubernetes.cluster.oidcProviderArn",
                model.kubernetes.cluster.oidc_provider_arn,
                f"the OIDC provider must be registered in this stack's account {account_id}",
            )
    requested = cfg.network.availability_zones
    if requested > len(zone_names):
        raise ConfigError(
            f"{ns}:network.availabilityZones",
            requested,
            f"{cfg.region} has {len(zone_names)} available availability zones "
            f"({', '.join(zone_names)}); ask for at most {len(zone_names)}",
        )


# -- platform sections -----------------------------------------------------------------


def _platform(cfg: StackConfig, ns: str) -> None:
    if cfg.region not in cfg.residency.allowed_regions:
        raise ConfigError(
            "aws:region",
            cfg.region,
            f"must be one of {ns}:residency.allowedRegions {cfg.residency.allowed_regions}",
        )
    if cfg.tags["environment"] != cfg.environment:
        raise ConfigError(
            f"{ns}:tags.environment",
            cfg.tags["environment"],
            f"must equal {ns}:environment ({cfg.environment!r})",
        )
    try:
        cfg.network.subnet_cidrs()
    except RuleViolation as exc:
        raise ConfigError(f"{ns}:network.{exc.path}", exc.value, exc.rule) from None
    if any(m.runs_on_sagemaker for m in cfg.models) and cfg.network.availability_zones < 2:
        raise ConfigError(
            f"{ns}:network.availabilityZones",
            cfg.network.availability_zones,
            "SageMaker models run in the VPC and need subnets in ≥ 2 AZs",
        )
    if not cfg.is_prod:
        return
    audit_worm = f"control {control('audit-bucket-worm')}"
    for key, value, ok, rule in (
        (
            "logging.retentionDays",
            cfg.logging.retention_days,
            cfg.logging.retention_days >= PROD_MIN_LOG_RETENTION_DAYS,
            f"prod keeps logs ≥ {PROD_MIN_LOG_RETENTION_DAYS} days "
            f"(control {control('cloudwatch-log-retention')})",
        ),
        (
            "keys.deletionWindowDays",
            cfg.keys.deletion_window_days,
            cfg.keys.deletion_window_days >= PROD_KEY_DELETION_WINDOW_DAYS,
            f"prod keys use the {PROD_KEY_DELETION_WINDOW_DAYS}-day deletion window "
            f"(control {control('kms-key-policy-and-deletion-window')})",
        ),
        (
            "audit.objectLockMode",
            cfg.audit.object_lock_mode,
            cfg.audit.object_lock_mode in PROD_AUDIT_MODES,
            f"prod audit records are locked in {' or '.join(PROD_AUDIT_MODES)} mode: nobody "
            f"can shorten or delete them ({audit_worm})",
        ),
        (
            "audit.retentionDays",
            cfg.audit.retention_days,
            cfg.audit.retention_days >= PROD_AUDIT_MIN_RETENTION_DAYS,
            f"prod keeps audit records ≥ {PROD_AUDIT_MIN_RETENTION_DAYS} days ({audit_worm})",
        ),
    ):
        if not ok:
            raise ConfigError(f"{ns}:{key}", value, rule)


# -- SageMaker-hosted models --------------------------------------------------------------


def _home_region_image(cfg: StackConfig, key: str, image: str, what: str) -> None:
    registry = aws_facts.parse_ecr_image(image).region
    if registry != cfg.region:
        raise ConfigError(
            key,
            image,
            f"the ECR registry is in {registry} but aws:region is {cfg.region}: {what}",
        )


def _sagemaker_model(
    cfg: StackConfig, model: SageMakerModelConfig, key: str, owners: set[str]
) -> None:
    if model.registry_group is not None and model.registry_group not in owners:
        raise ConfigError(
            f"{key}.registryGroup",
            model.registry_group,
            "must name another SageMaker model of this stack (its entry declares the group); "
            f"models: {sorted(owners)}",
        )
    _home_region_image(
        cfg,
        f"{key}.image",
        model.image or "",
        "images must come from a private registry in the home region (control R7; cross-region "
        "pulls also break when the VPC has no route out)",
    )
    drift = model.monitoring.drift
    if drift is not None and drift.image is not None:
        _home_region_image(
            cfg,
            f"{key}.monitoring.drift.image",
            drift.image,
            "the drift container comes from a private registry in the home region "
            "(control R7; the job's VPC has no route out)",
        )
    if cfg.is_prod:
        _prod_sagemaker_model(model, key)


def _prod_sagemaker_model(model: SageMakerModelConfig, key: str) -> None:
    m5 = control("sagemaker-multi-instance")
    if model.instance_count < PROD_MIN_INSTANCES:
        raise ConfigError(
            f"{key}.instanceCount",
            model.instance_count,
            f"prod endpoints run ≥ {PROD_MIN_INSTANCES} instances so each variant spans AZs "
            f"(control {m5}), pilots included",
        )
    if model.scaling().min_instances < PROD_MIN_INSTANCES:
        raise ConfigError(
            f"{key}.autoscaling.minInstances",
            model.scaling().min_instances,
            f"prod endpoints never scale below {PROD_MIN_INSTANCES} instances (control {m5})",
        )
    if not prod_instance_type_allowed(model.instance_type or ""):
        raise ConfigError(
            f"{key}.instanceType",
            model.instance_type,
            f"prod endpoints use the approved instance families {PROD_INSTANCE_TYPES} "
            f"(control {control('sagemaker-instance-type-allowed')})",
        )
    if model.capture_sampling_percent < PROD_MIN_CAPTURE_SAMPLING_PERCENT:
        raise ConfigError(
            f"{key}.captureSamplingPercent",
            model.capture_sampling_percent,
            "prod endpoints capture a share of requests and responses, ≥ "
            f"{PROD_MIN_CAPTURE_SAMPLING_PERCENT} % (control L7)",
        )
    if model.model_package_version is None:
        raise ConfigError(
            f"{key}.modelPackageVersion",
            None,
            "prod deploys an approved package version from the SageMaker Model Registry "
            f"(group {model.package_group!r}; control G2); set modelPackageVersion (in versions[{model.version}] "
            "when versions are used)",
        )
    if len(model.versions) > 1 and model.previous_version is None:
        raise ConfigError(
            f"{key}.previousVersion",
            None,
            "prod keeps the previous version's model and endpoint config deployed so an "
            "automatic rollback lands on live resources; name it (one of "
            f"{sorted(v for v in model.versions if v != model.version)})",
        )
    previous = model.previous()
    if previous is not None and previous.model_package_version is None:
        raise ConfigError(
            f"{key}.versions[{model.previous_version}].modelPackageVersion",
            None,
            "prod deploys only approved package versions (control G2), the previous one too",
        )
    if model.rollout.strategy not in ("canary", "linear"):
        raise ConfigError(
            f"{key}.rollout.strategy",
            str(model.rollout.strategy),
            "prod endpoints update by blue/green canary or linear with auto-rollback (control M6)",
        )
    if model.monitoring.drift is None:
        raise ConfigError(
            f"{key}.monitoring.drift",
            None,
            "prod endpoints need drift monitoring: monitoring.drift with a processing-job "
            "drift check (the default, any account) or a Model Monitor data-quality schedule "
            "(control M4)",
        )
    if model.quality_gate.is_empty:
        raise ConfigError(
            f"{key}.qualityGate",
            {},
            "prod deployments need quality-gate thresholds (minimum/maximum) for the evaluation",
        )
    failures = model.quality_gate_failures()
    if failures:
        metric, value, rule = failures[0]
        raise ConfigError(
            f"{key}.evaluation.{metric}",
            value,
            f"{rule}; version {model.version} of {model.name} cannot be deployed to prod",
        )


# -- Kubernetes-hosted models -------------------------------------------------------------


def _kubernetes_model(
    cfg: StackConfig,
    model: KubernetesModelConfig,
    base: str,
    namespaces: dict[str, int],
    index: int,
) -> None:
    kube = model.kubernetes
    key = f"{base}.kubernetes"
    try:
        check_label_value("", model.version)
    except RuleViolation as exc:
        raise ConfigError(f"{base}.version", model.version, exc.rule) from None
    image = kube.image or model.image
    if not image:
        raise ConfigError(
            f"{key}.image", None, "set kubernetes.image or the model-level image (by digest)"
        )
    images = [(f"{key}.image" if kube.image else f"{base}.image", image)]
    if kube.canary is not None:
        images.append((f"{key}.canary.image", kube.canary.image))
    if kube.loader is not None:
        images.append((f"{key}.loader.image", kube.loader.image))
    for path, value in images:
        try:
            aws_facts.check_image_region(value, cfg.region)
        except ValueError as exc:
            raise ConfigError(path, value, str(exc)) from None
    if kube.cluster.region != cfg.region:
        raise ConfigError(
            f"{key}.cluster.oidcProviderArn",
            kube.cluster.oidc_provider_arn,
            f"the cluster must be in the home region {cfg.region} (residency), not {kube.cluster.region}",
        )
    if kube.canary is not None and kube.canary.version == model.version:
        raise ConfigError(
            f"{key}.canary.version",
            kube.canary.version,
            "must differ from the stable model version (promotion: set `version` and remove `canary`)",
        )
    if kube.namespace in namespaces:
        raise ConfigError(
            f"{key}.namespace",
            kube.namespace,
            f"already used by models[{namespaces[kube.namespace]}]: one model per namespace "
            "(each namespace gets its own default-deny policies and PSS labels)",
        )
    namespaces[kube.namespace] = index
    if cfg.is_prod:
        weight = kube.canary.weight if kube.canary is not None else 0
        stable, _ = k8s.split_replicas(kube.replicas.min, weight)
        if stable < 2:
            raise ConfigError(
                f"{key}.replicas.min",
                kube.replicas.min,
                "prod keeps ≥ 2 stable pods at the minimum (spread over zones), canary pods "
                f"not counted; the canary takes {kube.replicas.min - stable}",
            )


# -- Bedrock ---------------------------------------------------------------------------------


def _bedrock(cfg: StackConfig, ns: str) -> None:
    if cfg.bedrock is None:
        return
    home = geography(cfg.region)
    for j, profile in enumerate(cfg.bedrock.inference_profiles):
        key = f"{ns}:bedrock.inferenceProfiles[{j}]"
        if not any(profile.id.startswith(p) for p in PROFILE_PREFIXES.get(home, ())):
            raise ConfigError(
                f"{key}.id",
                profile.id,
                f"the profile's geography does not match aws:region {cfg.region} (control R5)",
            )
        for k, region in enumerate(profile.regions):
            if region not in cfg.residency.allowed_regions:
                raise ConfigError(
                    f"{key}.regions[{k}]",
                    region,
                    f"the profile may route data to {region}, which is not in "
                    f"{ns}:residency.allowedRegions {cfg.residency.allowed_regions} (control R5)",
                )


__all__ = ["check_cloud", "check_stack"]
