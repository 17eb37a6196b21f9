"""Config of the models a stack deploys (managed: SageMaker; Bedrock access).

Each entry of `regulated-inference:models` is one model *deployment*: a
registered version, where it runs, at which lifecycle stage, how it rolls out
and what its monitoring thresholds are. The rules AWS would only reject at
`pulumi up` (NVMe + KMS, canary/linear limits, bake-time limits) and the
rules we add (quality gate, prod instance floor) fail here, before anything is
declared, with a message naming the key, the value and the rule.

The lifecycle (register → pilot → canary → production → rollback) is in
docs/lifecycle.md.
"""

from __future__ import annotations

import datetime as _dt
import re
from typing import Annotated, Any, ClassVar, Literal

from pydantic import Discriminator, Field, Tag, field_validator, model_validator

from regulated_inference.components import bedrock_access as ba
from regulated_inference.components import data_quality as dq
from regulated_inference.components import drift_job
from regulated_inference.components import managed_inference as mi
from regulated_inference.components import model_monitoring as mm

# The guardrail's PII facts have one home, the component's: the config's default IS its default.
from regulated_inference.components.bedrock_access import DEFAULT_PII_ENTITIES, PII_ENTITY_TYPES
from regulated_inference.config import aws_model
from regulated_inference.config.base import ConfigModel, ecr_image
from regulated_inference.config.derive import derive, field_docstrings
from regulated_inference.config.errors import RuleViolation
from regulated_inference.config.kubernetes import KubernetesConfig
from regulated_inference.lib import aws as aws_facts
from regulated_inference.lib import drift
from regulated_inference.lib import sagemaker as sm
from regulated_inference.lib.aws import AwsContext

_VERSION = r"^[0-9A-Za-z][0-9A-Za-z.+_-]{0,39}$"
#: Model names: lowercase with hyphens, ≤ 32 characters (they prefix resource names).
_MODEL_NAME = r"^[a-z][a-z0-9-]{1,30}[a-z0-9]$"
_FEATURE = re.compile(r"^[A-Za-z0-9_.-]{1,100}$")
_ARTIFACT_KEY = re.compile(r"^[A-Za-z0-9!_.*'()/-]+\.tar\.gz$")

#: Schedules Model Monitor accepts (SageMaker API `ScheduleConfig.ScheduleExpression`, botocore's
#: sagemaker service-2.json and docs.aws.amazon.com/sagemaker/latest/dg/model-monitor-schedule-expression.html):
#: hourly `cron(0 * ? * * *)`, daily at an hour `cron(0 H ? * * *)`, every N hours from an hour
#: `cron(0 H/N ? * * *)`. `NOW` (one run) needs a data-analysis window this stack does not set.
_SCHEDULE = re.compile(
    r"^cron\(0 (\*|(?P<hour>[01]?[0-9]|2[0-3])(/(?P<every>[0-9]{1,2}))?) \? \* \* \*\)$"
)

#: Evaluation metrics and quality-gate thresholds are fractions: 0–1, never percent.
METRIC_SCALE = "a fraction from 0 to 1 (0.95, not 95: percent is refused)"


def check_schedule(value: str) -> str:
    match = _SCHEDULE.match(value)
    every = match and match.group("every")
    if not match or (every is not None and not 1 <= int(every) <= 24):
        raise ValueError(
            "Model Monitor accepts only cron(0 * ? * * *) (hourly), cron(0 H ? * * *) (daily at "
            "hour H, 0–23) or cron(0 H/N ? * * *) (every N hours, 1–24); times are UTC"
        )
    return value


def check_fractions(values: dict[str, float]) -> dict[str, float]:
    for metric, value in values.items():
        if not 0 <= value <= 1:
            raise RuleViolation(metric, value, f"metrics are {METRIC_SCALE}")
    return values


class RolloutConfig(
    derive(
        sm.Rollout,
        defaults=sm.ROLLOUT_DEFAULTS,
        fields={"strategy": Field(description="Prod requires canary or linear (control M6).")},
    )
):
    """How the endpoint moves to a new version: blue/green canary or linear, or rolling.

    SageMaker watches the rollback alarms during every bake period and returns
    traffic to the previous endpoint config if one fires. Fields, defaults and limits are
    `ManagedInference`'s `Rollout` (`lib/sagemaker.py`).
    """

    @model_validator(mode="after")
    def _limits(self) -> RolloutConfig:
        problem = sm.check_rollout(self.to_args())
        if problem:
            raise RuleViolation(*problem)
        return self


class AutoscalingConfig(
    derive(
        mi.ManagedInferenceArgs,
        only=("min_instances", "max_instances", "target_invocations_per_instance"),
        # Both bounds are required here: the section exists to set a range. Without it the
        # endpoint keeps instanceCount (the component's own default).
        required=("min_instances", "max_instances"),
        defaults={"target_invocations_per_instance": mi.DEFAULT_TARGET_INVOCATIONS_PER_INSTANCE},
        fields={
            "min_instances": Field(ge=1, description="Prod production models: ≥ 2."),
            "max_instances": Field(ge=1, le=100),
            "target_invocations_per_instance": Field(ge=1, le=1_000_000),
        },
    )
):
    """Target tracking on SageMakerVariantInvocationsPerInstance: `ManagedInference`'s
    `min_instances`, `max_instances` and `target_invocations_per_instance` (their docs and
    default)."""

    @model_validator(mode="after")
    def _range(self) -> AutoscalingConfig:
        if self.max_instances < self.min_instances:
            raise RuleViolation(
                "maxInstances", self.max_instances, f"must be ≥ minInstances ({self.min_instances})"
            )
        return self


#: Drift sources (docs/monitoring.md#drift): a scheduled SageMaker Processing job, which any
#: account can run, or SageMaker Model Monitor, which "is no longer open to new customers"
#: (SageMaker developer guide, Model Monitor availability change).
DriftMode = Literal["processing-job", "model-monitor"]
#: Hours between processing-job drift checks: they divide the day (ScheduledDriftCheck's own).
DRIFT_INTERVAL_HOURS = drift_job.INTERVAL_HOURS


#: Config keys of `monitoring.drift` that differ from the argument they set (stack files already
#: use them): argument → config field. The one place this mapping is written (`schedule`, from
#: `DataQualityMonitor`, is declared in `DriftConfig` by this name).
DRIFT_CONFIG_NAMES = {
    "drift_threshold": "threshold",
    "image_uri": "image",
    "schedule_expression": "schedule",
}


class DriftConfig(
    derive(
        drift_job.ScheduledDriftCheckArgs,
        only=(
            "features",
            "drift_threshold",
            "image_uri",
            "interval_hours",
            "instance_type",
            "max_runtime_seconds",
        ),
        # interval_hours stays unset (None) unless given: `hours` applies the component default.
        defaults={**drift.DRIFT_JOB_DEFAULTS, "image_uri": None},
        types={"image_uri": str | None},
        renames=DRIFT_CONFIG_NAMES,
        fields={
            "features": Field(min_length=1, max_length=drift.MAX_FEATURES),
            "drift_threshold": Field(gt=0, le=1),
            "image_uri": Field(description="`processing-job` only, and required there."),
            "interval_hours": Field(description="`processing-job` only."),
            "instance_type": Field(
                description="A processing instance type of the SageMaker API (both modes)."
            ),
            "max_runtime_seconds": Field(
                ge=60,
                le=86400,
                description="With `model-monitor`, ≤ 3600 s (the hourly schedule).",
            ),
        },
    )
):
    """Feature drift: a scheduled Processing-job drift check (default, any account) or a
    SageMaker Model Monitor data-quality schedule (accounts that have Model Monitor). The fields
    are `ScheduledDriftCheck`'s and `DataQualityMonitor`'s arguments (docs and defaults), under
    the keys of `DRIFT_CONFIG_NAMES`."""

    mode: DriftMode = "processing-job"
    """Drift source: `processing-job` (EventBridge Scheduler starts a SageMaker Processing job
    running `image`; any account) or `model-monitor` (a Model Monitor schedule: only for
    accounts that already use Model Monitor, closed to new customers). Both publish
    `feature_baseline_drift_<feature>` {Endpoint, MonitoringSchedule} to the alarm."""
    schedule: str = Field(
        default=dq.DEFAULT_SCHEDULE_EXPRESSION,
        description=field_docstrings(dq.DataQualityMonitorArgs)["schedule_expression"]
        + " `model-monitor` only: `cron(0 * ? * * *)` hourly, `cron(0 H ? * * *)` daily at hour"
        " H, `cron(0 H/N ? * * *)` every N hours — the forms Model Monitor accepts.",
    )
    baseline_prefix: str | None = None
    """Key prefix in the model-artifacts bucket holding `constraints.json` and `statistics.json`;
    default `<artifact folder>/baseline/`."""

    @field_validator("features")
    @classmethod
    def _features(cls, value: list[str]) -> list[str]:
        for i, name in enumerate(value):
            if not _FEATURE.match(name):
                raise RuleViolation(f"[{i}]", name, "feature names are letters, digits, _ . -")
        return value

    @field_validator("instance_type")
    @classmethod
    def _instance(cls, value: str) -> str:
        sm.check_kms_instance_type(value)
        aws_model.check_instance_type(value, "processing")
        return value

    @field_validator("schedule")
    @classmethod
    def _schedule(cls, value: str) -> str:
        return check_schedule(value)

    _image = field_validator("image")(ecr_image)

    @model_validator(mode="after")
    def _per_mode(self) -> DriftConfig:
        given = self.model_fields_set
        if self.mode == "model-monitor":
            for key, camel in (("image", "image"), ("interval_hours", "intervalHours")):
                if key in given:
                    raise RuleViolation(
                        camel,
                        getattr(self, key),
                        "applies to mode processing-job only (Model Monitor runs AWS's analyzer "
                        "on `schedule`)",
                    )
            if self.max_runtime_seconds > 3600:
                raise RuleViolation(
                    "maxRuntimeSeconds",
                    self.max_runtime_seconds,
                    "≤ 3600 s with model-monitor: a job must finish within the hourly schedule",
                )
            return self
        if "schedule" in given:
            raise RuleViolation(
                "schedule",
                self.schedule,
                "applies to mode model-monitor only; a processing-job check runs every "
                f"intervalHours (one of {list(DRIFT_INTERVAL_HOURS)})",
            )
        if self.image is None:
            raise RuleViolation(
                "image",
                None,
                "required with mode processing-job: the drift container, a private ECR image in "
                "aws:region pinned by digest (or set mode: model-monitor in an account that "
                "has Model Monitor)",
            )
        if self.interval_hours is not None and self.interval_hours not in DRIFT_INTERVAL_HOURS:
            raise RuleViolation(
                "intervalHours",
                self.interval_hours,
                f"one of {list(DRIFT_INTERVAL_HOURS)} (divides the day)",
            )
        if self.max_runtime_seconds > self.hours * 3600:
            raise RuleViolation(
                "maxRuntimeSeconds",
                self.max_runtime_seconds,
                f"≤ {self.hours * 3600} s: a run must end before the next one "
                f"(intervalHours {self.hours})",
            )
        return self

    @property
    def hours(self) -> int:
        """Hours between processing-job checks (default 1)."""
        return self.interval_hours or drift_job.DEFAULT_INTERVAL_HOURS


class MonitoringConfig(
    derive(
        mm.Thresholds,
        defaults=mm.THRESHOLD_DEFAULTS,
        fields={
            "latency_p99_ms": Field(
                gt=0, le=60000, description="≤ 60000 ms: a real-time invocation times out at 60 s."
            ),
            "overhead_latency_p99_ms": Field(gt=0, le=60000, description="≤ 60000 ms."),
            "max_4xx_rate": Field(ge=0, le=1, alias="max4xxRate", description="A share, 0–1."),
            "max_5xx_rate": Field(ge=0, le=1, alias="max5xxRate", description="A share, 0–1."),
            "cpu_utilization_percent": Field(gt=0, le=100 * 448),
            "memory_utilization_percent": Field(gt=0, le=100),
            "gpu_utilization_percent": Field(gt=0, le=100 * 16),
            "invocations_anomaly_band": Field(gt=0, le=10),
            "hallucination_rate_max": Field(ge=0, le=1),
            "bias_disparity_max": Field(ge=0, le=1),
            "user_satisfaction_min": Field(ge=0, le=1),
            "output_quality_min": Field(ge=0, le=1),
        },
    )
):
    """Alarm thresholds (`ModelMonitoring`'s `Thresholds`: fields, defaults and descriptions
    are the component's) and the drift check. Operational ones come from SageMaker's metrics,
    quality ones from the evaluation job's metrics (namespace `RegulatedInference/ModelQuality`,
    see docs)."""

    drift: DriftConfig | None = None
    """Feature drift check and alarm (a processing job by default, or Model Monitor); required in prod (M4)."""


class QualityGateConfig(ConfigModel):
    """Thresholds the recorded evaluation of a version must meet to be deployed to prod."""

    minimum: dict[str, float] = {}
    """Metric → lowest acceptable value, a fraction 0–1 (e.g. accuracy: 0.9, not 90)."""
    maximum: dict[str, float] = {}
    """Metric → highest acceptable value, a fraction 0–1 (e.g. hallucinationRate: 0.05, not 5)."""

    _fractions = field_validator("minimum", "maximum")(check_fractions)

    @model_validator(mode="after")
    def _consistent(self) -> QualityGateConfig:
        for metric, low in self.minimum.items():
            high = self.maximum.get(metric)
            if high is not None and high < low:
                raise RuleViolation(
                    f"maximum.{metric}", high, f"is below the minimum {low}: no value can pass"
                )
        return self

    @property
    def is_empty(self) -> bool:
        return not self.minimum and not self.maximum


class RegisteredVersion(ConfigModel):
    """One registered version of a model: what it is and how it evaluated."""

    image: str
    """Serving container by digest, from ECR in the home region."""
    artifact_key: str | None = None
    """Key of model.tar.gz in the model-artifacts bucket; default `<name>/<version>/model.tar.gz`."""
    evaluation: dict[str, float] = {}
    """Evaluation results of this version (the quality gate's input); each a fraction 0–1."""
    model_package_version: int | None = Field(default=None, ge=1)
    """Version number of this model's package in the SageMaker Model Registry (group = model name)."""

    _image = field_validator("image")(ecr_image)
    _fractions = field_validator("evaluation")(check_fractions)


class ModelValidation(ConfigModel):
    """The model's independent validation (PRA SS1/23 principle 4, SR 11-7 validation)."""

    status: Literal["approved", "conditional", "pending", "rejected"]
    """Outcome of the validation; prod deploys only `approved` models."""
    date: _dt.date
    """When it was approved (ISO date); prod refuses one older than
    `governance.maxValidationAgeDays` (default 365 days)."""
    validator: str | None = None
    """Who validated it (an independent team or person)."""
    report: str | None = None
    """Where the validation report is (a ticket or document reference)."""

    @field_validator("date", mode="before")
    @classmethod
    def _date(cls, value: Any) -> Any:
        from regulated_inference.config.exemptions import _iso_date

        return _iso_date(value)


class ModelEntry(ConfigModel):
    """One model deployment, wherever it runs: which registered version, at which stage, and
    its inventory entry. An entry with `kubernetes` is self-hosted on EKS
    (`KubernetesModelConfig`), one without runs on a SageMaker endpoint (`SageMakerModelConfig`)."""

    name: str = Field(pattern=_MODEL_NAME)
    """Model name, lowercase with hyphens (used in resource names)."""
    version: str = Field(pattern=_VERSION)
    """The version deployed. With `versions`, changing this one line deploys (or rolls back to)
    another registered version through the same guarded path."""
    image: str | None = None
    """Serving container, by digest, from an ECR repository in the home region (`aws:region`)."""
    artifact_key: str | None = None
    """Object key of `model.tar.gz` in the stack's model-artifacts bucket, e.g.
    `fraud-scorer/2.3.0/model.tar.gz`; the execution role may read only this folder."""
    stage: mi.Stage = mi.Stage.PILOT
    """`pilot`: a separate endpoint only the pilot users in `callers` may invoke; `production`."""
    owner: str | None = None
    """Model inventory: who owns the model (a person or team, e.g. an e-mail address); required in prod."""
    risk_tier: Literal["high", "medium", "low"] | None = None
    """Model inventory: its model-risk tier (PRA SS1/23 principle 1); required in prod."""
    validation: ModelValidation | None = None
    """Model inventory: its validation status and date; prod requires an approved, recent one."""
    evaluation: dict[str, float] = {}
    """Evaluation results of *this version* (metric → value), as the evaluation pipeline recorded
    them; every metric is a fraction 0–1 (accuracy 0.95, not 95)."""

    @field_validator("version", mode="before")
    @classmethod
    def _version_is_text(cls, value: Any) -> Any:
        # Whole numbers arrive as the digits typed (`pulumi config set --path ... 2` stores 2);
        # a fraction is YAML's float, which has lost its trailing zeros.
        if isinstance(value, float) or isinstance(value, bool):
            raise ValueError(
                f"quote the version in YAML (e.g. version: '{value}'): unquoted it is read as a "
                "number, and 2.10 would silently become 2.1"
            )
        return value

    _image = field_validator("image")(ecr_image)

    @field_validator("artifact_key")
    @classmethod
    def _artifact(cls, value: str | None) -> str | None:
        if value is not None and (
            value.startswith("/") or "//" in value or not _ARTIFACT_KEY.match(value)
        ):
            raise ValueError(
                "must be an object key in the model-artifacts bucket ending in .tar.gz, "
                "e.g. fraud-scorer/2.3.0/model.tar.gz (no s3:// and no leading /)"
            )
        return value

    _fractions = field_validator("evaluation")(check_fractions)


class SageMakerModelConfig(ModelEntry):
    """A model served by a SageMaker endpoint (an entry without `kubernetes`)."""

    runs_on_sagemaker: ClassVar[bool] = True
    doc_label: ClassVar[str] = "SageMaker-hosted"

    versions: dict[str, RegisteredVersion] = {}
    """Registered versions (version → image, artifactKey, evaluation). When set, `image`,
    `artifactKey` and `evaluation` come from `versions[version]`."""
    previous_version: str | None = Field(default=None, pattern=_VERSION)
    """The version the endpoint ran before `version` (a key of `versions`). Its model and
    endpoint config stay deployed, so an automatic rollback lands on live resources (the
    provider reports a rolled-back update as a success). Required in prod once `versions`
    holds more than one version. Set it to the old `version` whenever you change `version`."""
    registry_group: str | None = Field(default=None, pattern=_MODEL_NAME)
    """Pilot a new version of an existing model: the name of that model's entry, whose registry
    group holds this version's package. Default: this entry's own group (named after it)."""
    model_package_version: int | None = Field(default=None, ge=1)
    """Version of the approved package in the model registry (group named after the model) that the
    endpoint deploys; required in prod (control G2). The pipeline registers it with `image` and
    `artifactKey`, which the execution role is scoped to."""
    callers: list[str] = []
    """IAM role names (this account) allowed to invoke the endpoint. A pilot must name its pilot users."""
    instance_type: str | None = None
    """SageMaker instance type, e.g. ml.m5.large. NVMe instance types are refused (KMS)."""
    instance_count: int = Field(default=1, ge=1, le=100)
    """Initial instances; prod needs ≥ 2 (M5), pilots included."""
    serverless: Any = None
    """Not supported; see the rule message."""
    capture_sampling_percent: int = Field(
        default=mi.DEFAULT_CAPTURE_SAMPLING_PERCENT, ge=sm.SAMPLING_MIN, le=sm.SAMPLING_MAX
    )
    """Share of requests/responses captured to the encrypted capture bucket (L7)."""
    rollout: RolloutConfig = RolloutConfig()
    """How a new endpoint config is rolled out (canary / linear / rolling) with auto-rollback."""
    autoscaling: AutoscalingConfig | None = None
    """Default: min = max = instanceCount (no scaling)."""
    monitoring: MonitoringConfig = MonitoringConfig()
    """Alarm thresholds and the drift schedule."""
    quality_gate: QualityGateConfig = QualityGateConfig()
    """Thresholds `evaluation` must meet for a prod deployment."""
    environment: dict[str, str] = {}
    """Extra environment variables for the serving container (no secrets: they show in the console)."""

    @model_validator(mode="before")
    @classmethod
    def _select_version(cls, data: Any) -> Any:
        """Fill image / artifactKey / evaluation from the registered entry of `version`."""
        if not isinstance(data, dict) or not data.get("versions"):
            return data
        versions = data["versions"]
        version = str(data.get("version"))
        if not isinstance(versions, dict) or version not in {str(k) for k in versions}:
            registered = sorted(str(k) for k in versions) if isinstance(versions, dict) else []
            raise RuleViolation(
                "version", version, f"is not a registered version (versions: {registered})"
            )
        entry = next(v for k, v in versions.items() if str(k) == version)
        if not isinstance(entry, dict):
            return data
        data = dict(data)
        defaults = {
            "image": entry.get("image"),
            "artifactKey": entry.get("artifactKey") or f"{data.get('name')}/{version}/model.tar.gz",
            "evaluation": entry.get("evaluation", {}),
            "modelPackageVersion": entry.get("modelPackageVersion"),
        }
        for key, value in defaults.items():
            if value is None:
                continue
            if key in data and data[key] != value:
                raise RuleViolation(
                    key,
                    data[key],
                    f"set both here and in versions[{version}]; keep it in versions only",
                )
            data[key] = value
        return data

    @field_validator("instance_type")
    @classmethod
    def _instance_type(cls, value: str | None) -> str | None:
        if value is not None:
            sm.check_kms_instance_type(value)
            aws_model.check_instance_type(value, "endpoint")
        return value

    @field_validator("callers")
    @classmethod
    def _callers(cls, value: list[str]) -> list[str]:
        for i, role in enumerate(value):
            if not aws_facts.IAM_ROLE_NAME.match(role):
                raise RuleViolation(f"[{i}]", role, "must be an IAM role name (not an ARN)")
        return value

    @model_validator(mode="after")
    def _sagemaker_rules(self) -> SageMakerModelConfig:
        if self.serverless is not None:
            raise RuleViolation(
                "serverless",
                self.serverless,
                "SageMaker Serverless Inference supports neither VPC configuration, network "
                "isolation, data capture nor Model Monitor (AWS's documented exclusions), which "
                "controls N1, N2, L7 and M4 require; use instanceType (e.g. ml.m5.large, 1 instance in dev)",
            )
        for key in ("image", "artifact_key", "instance_type"):
            if getattr(self, key) is None:
                camel = re.sub(r"_([a-z])", lambda m: m.group(1).upper(), key)
                raise RuleViolation(camel, None, "required for a SageMaker model")
        family = sm.instance_family(self.instance_type or "")
        if family in sm.NO_GUARDRAIL_FAMILIES:
            raise RuleViolation(
                "instanceType",
                self.instance_type,
                "SageMaker deployment guardrails do not support Inf1 endpoints (updates fall back "
                "to all-at-once with no bake time, so auto-rollback would never run); use ml.inf2",
            )
        if self.stage == "pilot" and not self.callers:
            raise RuleViolation(
                "callers", self.callers, "a pilot must name the IAM roles allowed to use it"
            )
        scaling = self.scaling()
        if not scaling.min_instances <= self.instance_count <= scaling.max_instances:
            raise RuleViolation(
                "instanceCount",
                self.instance_count,
                f"must lie within autoscaling min/max ({scaling.min_instances}–{scaling.max_instances})",
            )
        if (
            scaling.max_instances > scaling.min_instances
            and self.instance_count != scaling.max_instances
        ):
            # Every endpoint update starts the variant at the new config's initial instance count:
            # the provider cannot send RetainAllVariantProperties (hashicorp/terraform-provider-aws
            # PR #49069). Starting at the autoscaling maximum never leaves a rollout (or a rollback)
            # under-provisioned at peak, where latency alarms would roll a good version back;
            # target tracking scales in afterwards. docs/lifecycle.md "Autoscaling and rollouts".
            raise RuleViolation(
                "instanceCount",
                self.instance_count,
                f"with autoscaling, set instanceCount to autoscaling.maxInstances "
                f"({scaling.max_instances}): every rollout restarts the variant at instanceCount "
                "(the provider cannot retain the scaled count)",
            )
        if self.previous_version is not None:
            if not self.versions or self.previous_version not in self.versions:
                raise RuleViolation(
                    "previousVersion",
                    self.previous_version,
                    f"must be a registered version (versions: {sorted(self.versions)})",
                )
            if self.previous_version == self.version:
                raise RuleViolation(
                    "previousVersion", self.previous_version, "must differ from version"
                )
            old = self.versions[self.previous_version]
            if (old.model_package_version is None) != (self.model_package_version is None):
                raise RuleViolation(
                    "previousVersion",
                    self.previous_version,
                    "the previous and the current version must both come from the model registry "
                    "(modelPackageVersion) or both not",
                )
        return self

    def previous(self) -> RegisteredVersion | None:
        """The registered entry of `previousVersion`, if any."""
        return self.versions.get(self.previous_version) if self.previous_version else None

    def previous_artifact_key(self) -> str | None:
        old = self.previous()
        if old is None:
            return None
        return old.artifact_key or f"{self.name}/{self.previous_version}/model.tar.gz"

    @property
    def package_group(self) -> str:
        """The model registry group this deployment's package comes from."""
        return self.registry_group or self.name

    def scaling(self) -> AutoscalingConfig:
        return self.autoscaling or AutoscalingConfig(
            min_instances=self.instance_count, max_instances=self.instance_count
        )

    def quality_gate_failures(self) -> list[tuple[str, float | None, str]]:
        """(metric, value, rule) for every gate threshold the recorded evaluation misses."""
        failures: list[tuple[str, float | None, str]] = []
        for bound, limits, passes, missed in (
            ("minimum", self.quality_gate.minimum, float.__ge__, "is below the minimum"),
            ("maximum", self.quality_gate.maximum, float.__le__, "exceeds the maximum"),
        ):
            for metric, limit in sorted(limits.items()):
                value = self.evaluation.get(metric)
                if value is None:
                    rule = f"quality gate: no evaluation result for {metric} ({bound} {limit})"
                    failures.append((metric, None, rule))
                elif passes(float(value), float(limit)) is not True:  # NaN never passes
                    failures.append(
                        (metric, value, f"quality gate: {metric} {value} {missed} {limit}")
                    )
        return failures

    def config_sha256(self) -> str:
        """sha256 of the deployed config (camelCase JSON, sorted keys): the selected version's
        image, artifact and evaluation, without the rest of the registry (nor `previousVersion`),
        so registering another version changes nothing and rolling back gives the earlier hash
        again."""
        return sm.sha256_json(
            self.model_dump(
                mode="json",
                by_alias=True,
                exclude_none=True,
                exclude={"versions", "previous_version"},
            )
        )

    def request_sha256(self) -> str:
        """sha256 of the whole request: the deployed config plus the previous version kept."""
        return sm.sha256_json(
            {"config": self.config_sha256(), "previousVersion": self.previous_version}
        )


class KubernetesModelConfig(ModelEntry):
    """A model self-hosted on an existing EKS cluster (an entry with `kubernetes`), served by
    `SelfHostedInference`: `version` is the stable version and `image` the stable image unless
    `kubernetes.image` overrides it."""

    runs_on_sagemaker: ClassVar[bool] = False
    doc_label: ClassVar[str] = "Kubernetes-hosted"

    kubernetes: KubernetesConfig
    """Self-host on Kubernetes instead of SageMaker (see the self-hosting guide)."""


#: Tags of the two hostings (pydantic puts a union member's tag in an error's location;
#: `errors.from_validation_error` drops every part that starts with `hosting=`).
SAGEMAKER_HOSTED, KUBERNETES_HOSTED = "hosting=sagemaker", "hosting=kubernetes"


def hosting(entry: Any) -> str:
    """Which hosting a `models[i]` entry is: `kubernetes` when it has that key, else SageMaker."""
    if isinstance(entry, dict):
        return KUBERNETES_HOSTED if "kubernetes" in entry else SAGEMAKER_HOSTED
    return KUBERNETES_HOSTED if isinstance(entry, KubernetesModelConfig) else SAGEMAKER_HOSTED


#: One `models[i]` entry: SageMaker-hosted or Kubernetes-hosted, told apart by `kubernetes`.
ModelConfig = Annotated[
    Annotated[SageMakerModelConfig, Tag(SAGEMAKER_HOSTED)]
    | Annotated[KubernetesModelConfig, Tag(KUBERNETES_HOSTED)],
    Discriminator(hosting),
]


# -- Bedrock ---------------------------------------------------------------------

#: Geographic cross-region inference profile prefixes, by the home region's geography.
#: `global.` profiles route anywhere in the world and are always refused (R5).
PROFILE_PREFIXES: dict[str, tuple[str, ...]] = {
    "eu": ("eu.",),
    "us": ("us.",),
    "us-gov": ("us-gov.",),
    "ap": ("apac.", "jp.", "au."),
    "ca": ("ca.",),
}
_MODEL_ID = re.compile(r"^[a-z0-9-]+\.[A-Za-z0-9._:-]+$")


def geography(region: str) -> str:
    if region.startswith("us-gov-"):
        return "us-gov"
    return region.split("-", 1)[0]


class InferenceProfileConfig(ConfigModel):
    """A geographic cross-region inference profile, with the regions it may route to."""

    id: str
    """System profile id, e.g. `eu.anthropic.claude-3-7-sonnet-20250219-v1:0`. Never `global.`."""
    regions: list[str] = Field(min_length=1)
    """Every destination region of the profile; all must be in residency.allowedRegions."""

    @field_validator("id")
    @classmethod
    def _id(cls, value: str) -> str:
        if value.startswith("global."):
            raise ValueError(
                "global inference profiles route requests to any commercial region worldwide; "
                "they break data residency (control R5) and are refused"
            )
        if not any(value.startswith(p) for ps in PROFILE_PREFIXES.values() for p in ps):
            raise ValueError(
                f"must start with a geographic prefix ({', '.join(p for ps in PROFILE_PREFIXES.values() for p in ps)})"
            )
        return value

    @property
    def model_id(self) -> str:
        return self.id.split(".", 1)[1]


class GuardrailConfig(
    derive(
        ba.GuardrailSettings,
        defaults=ba.guardrail_settings(),
        fields={
            "prompt_attack_strength": Field(description="NONE is refused (control M7)."),
            "pii_entities": Field(min_length=1, max_length=len(PII_ENTITY_TYPES)),
            "blocked_input_message": Field(description="1–500 characters (Bedrock's limit)."),
            "blocked_output_message": Field(description="1–500 characters (Bedrock's limit)."),
        },
    )
):
    """The Bedrock guardrail every invocation goes through (control M7): `BedrockAccess`'s
    `GuardrailSettings`, its fields, defaults and descriptions."""

    @field_validator("blocked_input_message", "blocked_output_message")
    @classmethod
    def _messaging(cls, value: str) -> str:
        # CreateGuardrail blockedInputMessaging / blockedOutputsMessaging (bedrock service model).
        shape = aws_model.bedrock_shape("GuardrailBlockedMessaging")
        if not shape.get("min", 0) <= len(value) <= shape.get("max", len(value)):
            raise ValueError(
                f"must be {shape.get('min', 0)}–{shape.get('max')} characters (Bedrock "
                f"CreateGuardrail limit); it has {len(value)}"
            )
        return value

    @field_validator("pii_entities")
    @classmethod
    def _pii(cls, value: list[str]) -> list[str]:
        for i, entity in enumerate(value):
            if entity not in PII_ENTITY_TYPES:
                raise RuleViolation(
                    f"[{i}]",
                    entity,
                    f"unknown PII entity type (known: {', '.join(PII_ENTITY_TYPES)})",
                )
        return value


class BedrockLoggingConfig(derive(ba.LoggingSettings, defaults=ba.logging_settings())):
    """What Bedrock invocation logging records (to an encrypted in-region log group and bucket):
    `BedrockAccess`'s `LoggingSettings`."""


class BedrockConfig(ConfigModel):
    """Amazon Bedrock access (managed foundation models)."""

    models: list[str] = Field(min_length=1)
    """Foundation model ids invoked in the home region, e.g. `anthropic.claude-3-haiku-20240307-v1:0`."""
    inference_profiles: list[InferenceProfileConfig] = []
    """Geographic cross-region profiles (optional; each destination region must be allowed)."""
    guardrail: GuardrailConfig = GuardrailConfig()
    """The guardrail every call goes through (prompt-attack, content and PII filters)."""
    logging: BedrockLoggingConfig = BedrockLoggingConfig()
    """What invocation logging records."""
    invoker_service: str = Field(
        default="lambda.amazonaws.com", pattern=r"^[a-z0-9.-]+\.amazonaws\.com$"
    )
    """The AWS service that assumes the invoke role (e.g. lambda.amazonaws.com, ecs-tasks.amazonaws.com)."""

    @field_validator("models")
    @classmethod
    def _models(cls, value: list[str]) -> list[str]:
        for i, model_id in enumerate(value):
            if not _MODEL_ID.match(model_id):
                raise RuleViolation(
                    f"[{i}]",
                    model_id,
                    "must be a foundation model id like 'amazon.titan-embed-text-v2:0'",
                )
            prefix = model_id.split(".", 1)[0] + "."
            if prefix == "global." or any(prefix in ps for ps in PROFILE_PREFIXES.values()):
                raise RuleViolation(
                    f"[{i}]",
                    model_id,
                    "this is an inference profile id, not a foundation model id; list geographic "
                    "profiles under inferenceProfiles (global. profiles are refused)",
                )
        return value

    def foundation_model_arns(self, aws: AwsContext) -> list[str]:
        """Foundation-model ARNs the invoke role and the bedrock-runtime endpoint allow:
        each model in the home region, plus each profile's model in each of its regions."""
        region, part = aws["region"], aws["partition"]
        arns = [aws_facts.bedrock_foundation_model_arn(part, region, m) for m in self.models]
        for profile in self.inference_profiles:
            arns += [
                aws_facts.bedrock_foundation_model_arn(part, r, profile.model_id)
                for r in profile.regions
            ]
        return list(dict.fromkeys(arns))

    def inference_profile_arns(self, aws: AwsContext) -> list[str]:
        return [aws_facts.bedrock_inference_profile_arn(aws, p.id) for p in self.inference_profiles]


__all__ = [
    "AutoscalingConfig",
    "DEFAULT_PII_ENTITIES",
    "PII_ENTITY_TYPES",
    "BedrockConfig",
    "DRIFT_INTERVAL_HOURS",
    "DriftConfig",
    "DriftMode",
    "GuardrailConfig",
    "InferenceProfileConfig",
    "KubernetesModelConfig",
    "ModelConfig",
    "ModelEntry",
    "SageMakerModelConfig",
    "MonitoringConfig",
    "QualityGateConfig",
    "RegisteredVersion",
    "RolloutConfig",
]
