"""One model version served by a SageMaker endpoint, rolled out and rolled back safely.

Declares, for one model deployment:

- one execution role per deployed version, from grants on exact ARNs: that version's
  artifact folder, this key, its ECR repository, the ENIs of these subnets and security
  group, this log group (I1–I7);
- the Model: network isolation on, VPC config in the private subnets (N1, N2),
  created from an approved package version of the model's registry group (G2). The
  group itself is *not* declared here: a package version exists only after the
  training pipeline's CreateModelPackage, so a deployment that created the group
  could never also create a model from it. The group belongs to the registry
  project (`registry/`, docs/lifecycle.md "Day one");
- the EndpointConfiguration: the data key on the volume, data capture of input
  and output to the encrypted capture bucket (E1, L7). Configs are immutable,
  so each is *named after a hash of what it contains*: a new version (or a new
  instance count…) is a new config, and the endpoint moves to it by its
  deployment config;
- the same Model and EndpointConfiguration for the *previous* version (`previous`),
  so that an automatic rollback always lands on live resources (below);
- the Endpoint: blue/green canary or linear traffic shifting with bake time
  (or rolling batches) and auto-rollback on alarms that exist in the stack (M6);
- autoscaling: target tracking on SageMakerVariantInvocationsPerInstance;
- an invoke policy on this endpoint only, attached to the callers' roles —
  for a pilot, the pilot users alone;
- the deployment record: a JSON object in the WORM audit bucket saying what was
  *requested* (requested and previous version, image digest, artifact, evaluation,
  stage, config hash), never what is assumed to run.

Why the previous version stays declared: when an alarm fires during a bake, SageMaker
rolls the endpoint back to its previous endpoint config, but the Terraform AWS provider
(which pulumi-aws bridges) still reports the update as successful
(hashicorp/terraform-provider-aws #48997, #46663). Pulumi would then delete the old
model and config — the ones the endpoint runs on — and the next update fails with
"Could not find endpoint configuration". Keeping them *declared* (not merely
`retain_on_delete`) matters: a retained resource leaves the state while it still
exists under its deterministic name, so re-declaring that version later (a rollback
by config) would try to create a config whose name is taken, and the state would
no longer say what exists. Declared, both stay in state and in AWS; swapping
`version` and `previous` changes only which config the endpoint points at (the
resources are keyed by content hash, not by role). After an automatic rollback,
`pulumi refresh` brings the endpoint's real config into the state
(docs/lifecycle.md).

Why not a second variant for the pilot: IAM has no condition key on
InvokeEndpoint's TargetVariant, so "only pilot users reach the pilot" cannot
be enforced inside one endpoint; a weighted variant would send a share of
*everyone's* traffic to an unapproved version. A pilot is therefore its own
endpoint whose invoke policy names the pilot callers only (docs/lifecycle.md).
"""

import posixpath
import re
from dataclasses import dataclass, field
from enum import StrEnum
from typing import NotRequired, TypedDict

import pulumi
import pulumi_aws as aws

from regulated_inference.components.least_privilege_role import LeastPrivilegeRole, service_trust
from regulated_inference.lib import aws as aws_facts
from regulated_inference.lib import iam
from regulated_inference.lib import sagemaker as sm
from regulated_inference.lib.aws import AwsContext
from regulated_inference.lib.errors import ComponentArgsError
from regulated_inference.lib.logs import encrypted_log_group
from regulated_inference.lib.outputs import publish_outputs, type_token

_COMPONENT = "ManagedInference"
#: Variant name kept across versions: blue/green and rolling updates require the new
#: endpoint config to use the same variant name as the old one.
DEFAULT_VARIANT = "primary"
_CAPACITY_PERCENT = "CAPACITY_PERCENT"
_PACKAGE = re.compile(
    f"^arn:(?:{aws_facts.PARTITION_PATTERN}):sagemaker:{aws_facts.REGION_PATTERN}:"
    f"{aws_facts.ACCOUNT_ID_PATTERN}:"
    r"model-package/(?P<group>[a-z0-9-]+)/(?P<n>\d+)$"
)


class Stage(StrEnum):
    """Lifecycle stage of a model version."""

    PILOT = "pilot"
    """Limited to named callers (pilot users)."""
    PRODUCTION = "production"
    """Generally available."""


#: Defaults of the optional args, in one place (the stack config reads them from here).
DEFAULT_CAPTURE_SAMPLING_PERCENT = 100
DEFAULT_TARGET_INVOCATIONS_PER_INSTANCE = 100
DEFAULT_DEPLOYMENT_RECORD_PREFIX = "deployments/"
#: Autoscaling cooldowns (seconds): scale out fast, scale in slowly.
SCALE_OUT_COOLDOWN_SECONDS, SCALE_IN_COOLDOWN_SECONDS = 60, 300


def default_capture_prefix(endpoint_name: str) -> str:
    """Where an endpoint's captured requests go unless `capture_prefix` says otherwise."""
    return f"capture/{endpoint_name}/"


class PreviousVersion(TypedDict):
    """The version the endpoint ran before this one: its Model and EndpointConfiguration
    stay deployed so a rollback (automatic or by config) lands on live resources."""

    version: str
    """Its version."""
    image_uri: str
    """Serving image by digest (ECR, home region)."""
    artifact_key: str
    """Key of its model.tar.gz in the artifact bucket."""
    model_package_arn: NotRequired[str]
    """Its approved package version in the same registry group, when packages are used."""


class DeploymentRecord(TypedDict):
    """Where and what to record about this deployment in the WORM audit bucket."""

    bucket_name: pulumi.Input[str]
    """The audit bucket (Object Lock: the record cannot be changed or deleted before expiry)."""
    kms_key_arn: pulumi.Input[str]
    """The audit key; the bucket refuses uploads with any other key."""
    config_sha256: str
    """sha256 of the deployed model config (the requested version and its settings)."""
    request_sha256: NotRequired[str]
    """sha256 of the whole request (including the previous version kept for rollback); default
    `config_sha256`."""
    evaluation: NotRequired[dict[str, float]]
    """Evaluation results of this version (the quality gate's input)."""
    stack: NotRequired[str]
    """Stack name, recorded for the auditor."""
    key_prefix: NotRequired[str]
    """Object key prefix; default `deployments/`."""


class ManagedInferenceArgs(TypedDict):
    """Arguments of `ManagedInference`."""

    model_name: str
    """Model name (registry group), lowercase with hyphens."""
    version: str
    """The version deployed."""
    stage: Stage
    """Lifecycle stage, recorded in tags and the deployment record; a pilot needs `callers`."""
    image_uri: str
    """Serving image, pinned by digest, from ECR in the home region."""
    artifact_bucket_name: pulumi.Input[str]
    """The bucket holding model artifacts."""
    artifact_bucket_arn: pulumi.Input[str]
    """Its ARN (the execution role reads one folder of it)."""
    artifact_key: str
    """Key of model.tar.gz; the role may read this object's folder only."""
    endpoint_name: str
    """Endpoint name, stable across versions (alarms and callers refer to it)."""
    instance_type: str
    """EBS-backed instance type (NVMe types refuse the endpoint-config KMS key)."""
    instance_count: int
    """Initial instance count."""
    rollout: sm.Rollout
    """Canary / linear / rolling update with bake time."""
    rollback_alarm_names: list[pulumi.Input[str]]
    """1–10 CloudWatch alarms that roll a deployment back; they must exist in the stack."""
    data_key_arn: pulumi.Input[str]
    """CMK for the endpoint volume and the data capture."""
    capture_bucket_name: pulumi.Input[str]
    """The bucket receiving captured requests and responses."""
    capture_bucket_arn: pulumi.Input[str]
    """Its ARN (the execution role writes under the capture prefix only)."""
    network: sm.VpcPlacement
    """Private subnets and workload security group the model runs in."""
    aws: AwsContext
    """Home region (images, ARNs) and account."""
    logs_key_arn: pulumi.Input[str]
    """CMK of the endpoint's log group."""
    log_retention_days: int
    """Retention of the endpoint's log group in days."""
    capture_prefix: NotRequired[str]
    """Capture key prefix; default `capture/<endpoint>/`."""
    capture_sampling_percent: NotRequired[int]
    """0–100; default 100."""
    variant_name: NotRequired[str]
    """Default "primary"; keep it stable across versions."""
    min_instances: NotRequired[int]
    """Autoscaling floor: never fewer instances than this; default `instance_count`."""
    max_instances: NotRequired[int]
    """Autoscaling ceiling: never more instances than this; default `instance_count`. Scaling is
    registered only when max > min."""
    target_invocations_per_instance: NotRequired[int]
    """Invocations per instance per minute that target tracking keeps the variant at; default 100."""
    callers: NotRequired[list[str]]
    """IAM role names that may invoke the endpoint (a pilot: its pilot users only)."""
    environment: NotRequired[dict[str, str]]
    """Container environment (no secrets)."""
    model_package_group: NotRequired[str]
    """Model registry group the packages come from; default `model_name`. The group is never
    declared here (the registry project creates it, see `sagemaker.package_group_name`)."""
    model_package_arn: NotRequired[str]
    """Approved model-package version (`…:model-package/<model>/<n>`) the model is created from
    (control G2). The package carries the image and artifact; `image_uri` and `artifact_key`
    still scope the execution role and go into the deployment record."""
    previous: NotRequired[PreviousVersion]
    """The version that ran before; its model and endpoint config stay deployed (rollback target)."""
    deployment_record: NotRequired[DeploymentRecord]
    """Write the deployment record (recommended; the stack always does)."""


def _check_source(
    path: str, version: ManagedInferenceArgs | PreviousVersion, region: str
) -> sm.EcrImage:
    """A version's image (ECR by digest, home region, R7) and artifact key (`.tar.gz`)."""
    try:
        image = sm.parse_ecr_image(version.get("image_uri", ""))
    except ValueError as exc:
        raise ComponentArgsError(
            _COMPONENT, f"{path}image_uri", version.get("image_uri"), str(exc)
        ) from None
    if image.region != region:
        raise ComponentArgsError(
            _COMPONENT,
            f"{path}image_uri",
            version["image_uri"],
            f"the registry is in {image.region}, not the home region {region} (R7)",
        )
    key = version.get("artifact_key") or ""
    if not key.endswith(".tar.gz") or key.startswith("/") or "://" in key:
        raise ComponentArgsError(
            _COMPONENT,
            f"{path}artifact_key",
            key,
            "an object key ending in .tar.gz (no s3://, no leading /)",
        )
    return image


def _validate(args: ManagedInferenceArgs) -> sm.EcrImage:
    def bad(arg: str, value, rule: str) -> ComponentArgsError:
        return ComponentArgsError(_COMPONENT, arg, value, rule)

    for key in ("model_name", "endpoint_name"):
        if not sm.SAGEMAKER_NAME.match(args.get(key) or ""):
            raise bad(key, args.get(key), "letters, digits and single hyphens, ≤ 63 characters")
    variant = args.get("variant_name", DEFAULT_VARIANT)
    if not sm.SAGEMAKER_NAME.match(variant):
        raise bad("variant_name", variant, "letters, digits and single hyphens")
    if not args.get("version"):
        raise bad("version", args.get("version"), "a version is required")
    problem = aws_facts.check_context(args.get("aws"))
    if problem:
        raise bad("aws", args.get("aws"), problem)
    region = args["aws"]["region"]
    if args.get("stage") not in tuple(Stage):
        raise bad("stage", args.get("stage"), "must be 'pilot' or 'production'")
    image = _check_source("", args, region)
    try:
        sm.check_kms_instance_type(args.get("instance_type", ""))
    except ValueError as exc:
        raise bad("instance_type", args.get("instance_type"), str(exc)) from None
    count = args.get("instance_count", 0)
    low = args.get("min_instances", count)
    high = args.get("max_instances", count)
    if not 1 <= low <= count <= high:
        raise bad(
            "instance_count",
            count,
            f"need 1 ≤ min_instances ({low}) ≤ instance_count ≤ max_instances ({high})",
        )
    sampling = args.get("capture_sampling_percent", DEFAULT_CAPTURE_SAMPLING_PERCENT)
    if not sm.SAMPLING_MIN <= sampling <= sm.SAMPLING_MAX:
        raise bad("capture_sampling_percent", sampling, "0–100 (SageMaker limit)")
    rollout = args.get("rollout")
    if not isinstance(rollout, dict):
        raise bad("rollout", rollout, "must be a Rollout (regulated_inference.lib.sagemaker)")
    problem = sm.check_rollout(rollout)
    if problem:
        raise bad(f"rollout.{problem[0]}", problem[1], problem[2])
    if sm.instance_family(args["instance_type"]) in sm.NO_GUARDRAIL_FAMILIES:
        raise bad(
            "instance_type",
            args["instance_type"],
            "deployment guardrails are not supported on Inf1 (no bake, no auto-rollback)",
        )
    alarms = list(args.get("rollback_alarm_names") or [])
    if not 1 <= len(alarms) <= sm.MAX_ROLLBACK_ALARMS:
        raise bad(
            "rollback_alarm_names",
            alarms,
            f"1–{sm.MAX_ROLLBACK_ALARMS} alarms: auto-rollback needs alarms that exist in the stack",
        )
    wrong = sm.check_placement(args.get("network"))
    if wrong:
        raise bad(*wrong)
    if args.get("stage") == "pilot" and not args.get("callers"):
        raise bad("callers", args.get("callers"), "a pilot must name the roles allowed to use it")
    group = args.get("model_package_group", args.get("model_name"))
    if not sm.SAGEMAKER_NAME.match(group or ""):
        raise bad("model_package_group", group, "a SageMaker model package group name")
    package = args.get("model_package_arn")
    if package is not None and not _PACKAGE.match(package):
        raise bad(
            "model_package_arn",
            package,
            f"a versioned model-package ARN of group {group!r} in {region}",
        )
    if package is not None and _PACKAGE.match(package)["group"] != group:
        raise bad("model_package_arn", package, f"must be in the group {group!r}")
    for role in args.get("callers") or []:
        if role.startswith("arn:") or "*" in role:
            raise bad("callers", role, "IAM role names (not ARNs, no wildcards)")
    previous = args.get("previous")
    if previous is not None:
        if not isinstance(previous, dict):
            raise bad("previous", previous, "must be a PreviousVersion")
        if previous.get("version") == args.get("version"):
            raise bad("previous.version", previous.get("version"), "must differ from `version`")
        _check_source("previous.", previous, region)
        previous_package = previous.get("model_package_arn")
        if (package is None) != (previous_package is None):
            raise bad(
                "previous.model_package_arn",
                previous_package,
                "the previous version must come from the registry exactly when this one does",
            )
        match = _PACKAGE.match(previous_package or "")
        if previous_package is not None and (not match or match["group"] != group):
            raise bad(
                "previous.model_package_arn",
                previous_package,
                f"a package version of group {group!r}",
            )
    return image


class ManagedInference(pulumi.ComponentResource):
    """A versioned SageMaker endpoint with guarded rollout, autoscaling and a deployment record."""

    endpoint_name: pulumi.Output[str]
    """The endpoint's name (stable across versions)."""
    endpoint_arn: pulumi.Output[str]
    """The endpoint's ARN."""
    endpoint_config_name: pulumi.Output[str]
    """Named `<endpoint>-<version>-<hash>`: a new one per change (configs are immutable)."""
    previous_endpoint_config_name: pulumi.Output[str] | None
    """The previous version's config, kept deployed as the rollback target (None without one)."""
    model_name: pulumi.Output[str]
    """SageMaker Model name, `<model>-<version>-<hash>`."""
    model_package_group_name: pulumi.Output[str]
    """The model registry group the packages come from."""
    execution_role_arn: pulumi.Output[str]
    """The execution role of this version."""
    invoke_policy_arn: pulumi.Output[str]
    """A managed policy that allows invoking this endpoint and nothing else."""
    variant_name: str
    """The production variant's name."""
    capture_prefix: str
    """Key prefix of captured requests and responses in the capture bucket."""
    deployment_record_key: pulumi.Output[str] | None
    """Key of the deployment record in the audit bucket (None without a record)."""

    def __init__(
        self, name: str, args: ManagedInferenceArgs, opts: pulumi.ResourceOptions | None = None
    ):
        image = _validate(args)
        super().__init__(type_token(_COMPONENT), name, None, opts)
        plan = _plan(args)
        # The deployment's context, read by every step below.
        self._name, self._args, self._plan = name, args, plan
        log_group = self._log_group()
        # The new version, then the previous one kept deployed as the rollback target.
        role, model, config = self._deploy_version(plan.versions[0], log_group)
        previous_config = (
            self._deploy_version(plan.versions[1], log_group)[2] if len(plan.versions) > 1 else None
        )
        endpoint = self._endpoint(config, previous_config)
        self._autoscaling(endpoint)
        invoke = self._invoke_policy(endpoint)
        record = args.get("deployment_record")
        record_key = (
            self._deployment_record(image, model, config, previous_config)
            if record is not None
            else None
        )
        # Plain values, known before deployment (not registered: they are not outputs of AWS).
        self.variant_name = plan.variant
        self.capture_prefix = plan.capture_prefix
        publish_outputs(
            self,
            endpoint_name=endpoint.name,
            endpoint_arn=endpoint.arn,
            endpoint_config_name=config.name,
            previous_endpoint_config_name=(
                previous_config.name if previous_config is not None else None
            ),
            model_name=model.name,
            model_package_group_name=pulumi.Output.from_input(plan.group_name),
            execution_role_arn=role.arn,
            invoke_policy_arn=invoke.arn,
            deployment_record_key=record_key,
        )

    # -- steps --------------------------------------------------------------------------

    def _log_group(self) -> aws.cloudwatch.LogGroup:
        """The endpoint's KMS-encrypted log group (SageMaker writes to it by name)."""
        return encrypted_log_group(
            f"{self._name}-logs",
            sm.endpoint_log_group(self._plan.endpoint_name),
            self._args["logs_key_arn"],
            self._args["log_retention_days"],
            pulumi.ResourceOptions(parent=self),
        )

    def _deploy_version(
        self, v: "_Version", log_group: aws.cloudwatch.LogGroup
    ) -> tuple[LeastPrivilegeRole, aws.sagemaker.Model, aws.sagemaker.EndpointConfiguration]:
        """One deployed version: its execution role, Model and EndpointConfiguration.

        Logical and physical names carry a hash of the content: every field of a Model and an
        EndpointConfiguration forces replacement (sm.FORCE_NEW), so a change is a new
        resource, created before the old one is deleted."""
        model_hash = sm.short_hash(
            {
                "image": v.image_uri,
                "artifact": v.artifact_key,
                "env": self._plan.environment,
                "package": v.package_arn,
            }
        )
        role = self._execution_role(v, model_hash, log_group)
        model = self._model(v, model_hash, role)
        config = self._endpoint_config(v, model_hash, model)
        return role, model, config

    def _execution_role(
        self, v: "_Version", model_hash: str, log_group: aws.cloudwatch.LogGroup
    ) -> LeastPrivilegeRole:
        """One execution role per version (I7: no role shared by two models), scoped to that
        version's artifact folder and image repository only."""
        ctx = self._args["aws"]
        return LeastPrivilegeRole(
            f"{self._name}-execution-{model_hash}",
            {
                "trust": service_trust(
                    "sagemaker.amazonaws.com",
                    ctx["account_id"],
                    aws_facts.arn(ctx, "sagemaker", "*"),
                ),
                "description": f"SageMaker execution role of {self._plan.endpoint_name} "
                f"({self._args['model_name']} {v.version})",
                "grants": [
                    iam.read_objects(
                        self._args["artifact_bucket_arn"], posixpath.dirname(v.artifact_key)
                    ),
                    iam.write_objects(self._args["capture_bucket_arn"], self._plan.capture_prefix),
                    iam.use_key(self._args["data_key_arn"], decrypt=True, encrypt=True),
                    iam.pull_images(
                        sm.parse_ecr_image(v.image_uri).repository_arn(ctx["partition"])
                    ),
                    iam.vpc_access(
                        self._args["network"]["subnet_arns"],
                        [self._args["network"]["security_group_arn"]],
                        aws_facts.ec2_arn(ctx, "network-interface", "*"),
                    ),
                    iam.write_logs(log_group.arn),
                    # SageMaker reads the rollback alarms with the execution role while
                    # baking ("Auto-Rollback Configuration and Monitoring").
                    iam.custom_statement(
                        "DescribeRollbackAlarms",
                        ("cloudwatch:DescribeAlarms",),
                        tuple(
                            pulumi.Output.from_input(alarm).apply(
                                lambda a: aws_facts.cloudwatch_alarm_arn(ctx, a)
                            )
                            for alarm in self._args["rollback_alarm_names"]
                        ),
                    ),
                ],
            },
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _model(
        self, v: "_Version", model_hash: str, role: LeastPrivilegeRole
    ) -> aws.sagemaker.Model:
        """The SageMaker Model: from the approved package, or the image and artifact;
        network-isolated, in the private subnets."""
        environment = self._plan.environment or None
        if v.package_arn is not None:
            container = aws.sagemaker.ModelPrimaryContainerArgs(
                model_package_name=v.package_arn, environment=environment
            )
        else:
            container = aws.sagemaker.ModelPrimaryContainerArgs(
                image=v.image_uri,
                mode="SingleModel",
                model_data_url=pulumi.Output.concat(
                    "s3://", self._args["artifact_bucket_name"], "/", v.artifact_key
                ),
                environment=environment,
            )
        return aws.sagemaker.Model(
            f"{self._name}-model-{model_hash}",
            name=sm.safe_name(self._args["model_name"], v.version, model_hash),
            execution_role_arn=role.arn,
            enable_network_isolation=True,
            primary_container=container,
            vpc_config=aws.sagemaker.ModelVpcConfigArgs(
                subnets=list(self._args["network"]["subnet_ids"]),
                security_group_ids=[self._args["network"]["security_group_id"]],
            ),
            tags={**self._plan.tags, "model-version": v.version},
            # the role's policy in place first
            opts=pulumi.ResourceOptions(parent=self, depends_on=[role]),
        )

    def _endpoint_config(
        self, v: "_Version", model_hash: str, model: aws.sagemaker.Model
    ) -> aws.sagemaker.EndpointConfiguration:
        """The EndpointConfiguration: one variant, KMS on the volume, data capture of inputs
        and outputs (KMS-encrypted) under the capture prefix."""
        config_hash = sm.short_hash(
            {
                "model": model_hash,
                "version": v.version,
                "instanceType": self._args["instance_type"],
                "instanceCount": self._plan.count,
                "variant": self._plan.variant,
                "sampling": self._plan.sampling,
                "capture": self._plan.capture_prefix,
            }
        )
        return aws.sagemaker.EndpointConfiguration(
            f"{self._name}-config-{config_hash}",
            name=sm.safe_name(self._plan.endpoint_name, v.version, config_hash),
            kms_key_arn=self._args["data_key_arn"],
            production_variants=[
                aws.sagemaker.EndpointConfigurationProductionVariantArgs(
                    variant_name=self._plan.variant,
                    model_name=model.name,
                    instance_type=self._args["instance_type"],
                    initial_instance_count=self._plan.count,
                    initial_variant_weight=1.0,
                )
            ],
            data_capture_config=aws.sagemaker.EndpointConfigurationDataCaptureConfigArgs(
                enable_capture=True,
                initial_sampling_percentage=self._plan.sampling,
                destination_s3_uri=pulumi.Output.concat(
                    "s3://",
                    self._args["capture_bucket_name"],
                    "/",
                    self._plan.capture_prefix.rstrip("/"),
                ),
                kms_key_id=self._args["data_key_arn"],
                capture_options=[
                    aws.sagemaker.EndpointConfigurationDataCaptureConfigCaptureOptionArgs(
                        capture_mode="Input"
                    ),
                    aws.sagemaker.EndpointConfigurationDataCaptureConfigCaptureOptionArgs(
                        capture_mode="Output"
                    ),
                ],
                capture_content_type_header=aws.sagemaker.EndpointConfigurationDataCaptureConfigCaptureContentTypeHeaderArgs(
                    json_content_types=["application/json"],
                    csv_content_types=["text/csv"],
                ),
            ),
            tags={**self._plan.tags, "model-version": v.version},
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _endpoint(
        self,
        config: aws.sagemaker.EndpointConfiguration,
        previous_config: aws.sagemaker.EndpointConfiguration | None,
    ) -> aws.sagemaker.Endpoint:
        """The endpoint on the new config, with the guarded rollout (after the rollback
        target exists)."""
        return aws.sagemaker.Endpoint(
            f"{self._name}-endpoint",
            name=self._plan.endpoint_name,
            endpoint_config_name=config.name,
            deployment_config=deployment_config(
                self._args["rollout"], self._args["rollback_alarm_names"]
            ),
            tags=self._plan.tags,
            opts=pulumi.ResourceOptions(
                parent=self, depends_on=[previous_config] if previous_config is not None else None
            ),
        )

    def _autoscaling(self, endpoint: aws.sagemaker.Endpoint) -> None:
        """Target tracking on invocations per instance, registered only when the range allows
        scaling. AWS refuses an endpoint update that changes the instance type of a registered
        scalable target (docs/lifecycle.md)."""
        low = int(self._args.get("min_instances", self._plan.count))
        high = int(self._args.get("max_instances", self._plan.count))
        if high <= low:
            return
        child = pulumi.ResourceOptions(parent=self)
        resource_id = pulumi.Output.concat(
            "endpoint/", endpoint.name, "/variant/", self._plan.variant
        )
        target = aws.appautoscaling.Target(
            f"{self._name}-scaling-target",
            service_namespace="sagemaker",
            scalable_dimension="sagemaker:variant:DesiredInstanceCount",
            resource_id=resource_id,
            min_capacity=low,
            max_capacity=high,
            opts=child,
        )
        aws.appautoscaling.Policy(
            f"{self._name}-scaling-policy",
            name=f"{self._plan.endpoint_name}-invocations-per-instance",
            policy_type="TargetTrackingScaling",
            service_namespace=target.service_namespace,
            scalable_dimension=target.scalable_dimension,
            resource_id=target.resource_id,
            target_tracking_scaling_policy_configuration=aws.appautoscaling.PolicyTargetTrackingScalingPolicyConfigurationArgs(
                target_value=self._args.get(
                    "target_invocations_per_instance", DEFAULT_TARGET_INVOCATIONS_PER_INSTANCE
                ),
                predefined_metric_specification=aws.appautoscaling.PolicyTargetTrackingScalingPolicyConfigurationPredefinedMetricSpecificationArgs(
                    predefined_metric_type="SageMakerVariantInvocationsPerInstance"
                ),
                scale_in_cooldown=SCALE_IN_COOLDOWN_SECONDS,
                scale_out_cooldown=SCALE_OUT_COOLDOWN_SECONDS,
            ),
            opts=child,
        )

    def _invoke_policy(self, endpoint: aws.sagemaker.Endpoint) -> aws.iam.Policy:
        """A managed policy to invoke this endpoint only, attached to the named callers."""
        child = pulumi.ResourceOptions(parent=self)
        invoke = aws.iam.Policy(
            f"{self._name}-invoke",
            name=f"{self._plan.endpoint_name}-invoke",
            description=f"Invoke {self._plan.endpoint_name} ({self._plan.stage}) and nothing else",
            policy=iam.policy_json(iam.grant_statements(iam.invoke_endpoints((endpoint.arn,)), 0)),
            opts=child,
        )
        for i, caller in enumerate(self._args.get("callers") or []):
            aws.iam.RolePolicyAttachment(
                f"{self._name}-invoke-{i}", role=caller, policy_arn=invoke.arn, opts=child
            )
        return invoke

    def _deployment_record(
        self,
        image: sm.EcrImage,
        model: aws.sagemaker.Model,
        config: aws.sagemaker.EndpointConfiguration,
        previous_config: aws.sagemaker.EndpointConfiguration | None,
    ) -> pulumi.Output[str]:
        """What this deployment requested, as a KMS-encrypted object in the WORM audit bucket."""
        record = self._args["deployment_record"]
        ctx, version, previous = (
            self._args["aws"],
            self._args["version"],
            self._args.get("previous"),
        )
        key = (
            f"{record.get('key_prefix', DEFAULT_DEPLOYMENT_RECORD_PREFIX).strip('/')}/"
            f"{record.get('stack') or 'stack'}/{self._args['model_name']}/"
            f"{version}/{record['config_sha256'][:16]}.json"
        )
        content = pulumi.Output.all(
            model.name,
            config.name,
            self._args["artifact_bucket_name"],
            previous_config.name if previous_config is not None else None,
        ).apply(
            lambda r: sm.canonical_json(
                {
                    # What was REQUESTED by this deployment. SageMaker may still roll the
                    # endpoint back automatically (and the provider reports success), so
                    # the record never claims what runs: the rollback event on the alert
                    # topic and `pulumi refresh` say that (docs/lifecycle.md).
                    "schema": "regulated-inference/deployment-record/v2",
                    "kind": "deployment-request",
                    "stack": record.get("stack", ""),
                    "region": ctx["region"],
                    "account": ctx["account_id"],
                    "model": self._args["model_name"],
                    "requestedVersion": version,
                    "previousVersion": previous["version"] if previous is not None else None,
                    "stage": self._plan.stage,
                    "image": self._args["image_uri"],
                    "imageDigest": f"sha256:{image.digest}",
                    "modelPackage": self._args.get("model_package_arn"),
                    "artifactUri": f"s3://{r[2]}/{self._args['artifact_key']}",
                    "evaluation": dict(sorted((record.get("evaluation") or {}).items())),
                    "configSha256": record["config_sha256"],
                    "requestSha256": record.get("request_sha256") or record["config_sha256"],
                    "endpoint": self._plan.endpoint_name,
                    "requestedEndpointConfig": r[1],
                    "requestedSagemakerModel": r[0],
                    "previousEndpointConfig": r[3],
                    "instanceType": self._args["instance_type"],
                    "instanceCount": self._plan.count,
                    "rollout": sm.resolve_rollout(self._args["rollout"]).strategy.value,
                }
            )
        )
        obj = aws.s3.BucketObjectv2(
            f"{self._name}-record-{record['config_sha256'][:12]}",
            bucket=record["bucket_name"],
            key=key,
            content=content,
            content_type="application/json",
            server_side_encryption="aws:kms",
            kms_key_id=record["kms_key_arn"],
            bucket_key_enabled=True,
            tags=self._plan.tags,
            # A record is permanent (Object Lock): a later version adds a record, and
            # Pulumi forgets this one instead of trying to delete a locked object.
            opts=pulumi.ResourceOptions(parent=self, retain_on_delete=True),
        )
        return obj.key


@dataclass(frozen=True)
class _Version:
    """A version kept deployed: what its Model is made of."""

    version: str
    image_uri: str
    artifact_key: str
    package_arn: str | None


@dataclass(frozen=True)
class _Plan:
    """What is decided from the (validated) args before any resource exists."""

    stage: str
    endpoint_name: str
    variant: str
    count: int
    sampling: int
    capture_prefix: str
    group_name: str
    environment: dict[str, str]
    tags: dict[str, str]
    versions: list[_Version] = field(default_factory=list)
    """The new version first, then the previous one (the rollback target) when given."""


def _plan(args: ManagedInferenceArgs) -> _Plan:
    endpoint_name, version = args["endpoint_name"], args["version"]
    stage = Stage(args["stage"]).value
    group_name = args.get("model_package_group", args["model_name"])
    versions = [
        _Version(version, args["image_uri"], args["artifact_key"], args.get("model_package_arn"))
    ]
    previous = args.get("previous")
    if previous is not None:
        versions.append(
            _Version(
                previous["version"],
                previous["image_uri"],
                previous["artifact_key"],
                previous.get("model_package_arn"),
            )
        )
    return _Plan(
        stage=stage,
        endpoint_name=endpoint_name,
        variant=args.get("variant_name", DEFAULT_VARIANT),
        count=int(args["instance_count"]),  # floats via Construct (pulumi/pulumi#21944)
        sampling=int(args.get("capture_sampling_percent", DEFAULT_CAPTURE_SAMPLING_PERCENT)),
        capture_prefix=(
            args.get("capture_prefix", default_capture_prefix(endpoint_name)).strip("/") + "/"
        ),
        group_name=group_name,
        environment=dict(args.get("environment") or {}),
        tags={
            "model": args["model_name"],
            "model-version": version,
            "stage": stage,
            "model-package-group": group_name,
        },
        versions=versions,
    )


def deployment_config(
    requested: sm.Rollout, alarm_names: list[pulumi.Input[str]]
) -> aws.sagemaker.EndpointDeploymentConfigArgs:
    """The endpoint's deployment guardrails for a rollout, with auto-rollback on `alarm_names`."""
    rollout = sm.resolve_rollout(requested)
    rollback = aws.sagemaker.EndpointDeploymentConfigAutoRollbackConfigurationArgs(
        alarms=[
            aws.sagemaker.EndpointDeploymentConfigAutoRollbackConfigurationAlarmArgs(alarm_name=n)
            for n in alarm_names
        ]
    )
    if rollout.strategy == "rolling":
        return aws.sagemaker.EndpointDeploymentConfigArgs(
            auto_rollback_configuration=rollback,
            rolling_update_policy=aws.sagemaker.EndpointDeploymentConfigRollingUpdatePolicyArgs(
                maximum_batch_size=aws.sagemaker.EndpointDeploymentConfigRollingUpdatePolicyMaximumBatchSizeArgs(
                    type=_CAPACITY_PERCENT, value=rollout.rolling_batch_percent
                ),
                wait_interval_in_seconds=rollout.bake_seconds,
                maximum_execution_timeout_in_seconds=rollout.max_execution_seconds,
                rollback_maximum_batch_size=aws.sagemaker.EndpointDeploymentConfigRollingUpdatePolicyRollbackMaximumBatchSizeArgs(
                    type=_CAPACITY_PERCENT, value=100
                ),
            ),
        )
    routing = aws.sagemaker.EndpointDeploymentConfigBlueGreenUpdatePolicyTrafficRoutingConfigurationArgs(
        type=rollout.strategy.value.upper(),
        wait_interval_in_seconds=rollout.bake_seconds,
        canary_size=aws.sagemaker.EndpointDeploymentConfigBlueGreenUpdatePolicyTrafficRoutingConfigurationCanarySizeArgs(
            type=_CAPACITY_PERCENT, value=rollout.canary_percent
        )
        if rollout.strategy == "canary"
        else None,
        linear_step_size=aws.sagemaker.EndpointDeploymentConfigBlueGreenUpdatePolicyTrafficRoutingConfigurationLinearStepSizeArgs(
            type=_CAPACITY_PERCENT, value=rollout.linear_step_percent
        )
        if rollout.strategy == "linear"
        else None,
    )
    return aws.sagemaker.EndpointDeploymentConfigArgs(
        auto_rollback_configuration=rollback,
        blue_green_update_policy=aws.sagemaker.EndpointDeploymentConfigBlueGreenUpdatePolicyArgs(
            traffic_routing_configuration=routing,
            termination_wait_in_seconds=rollout.termination_wait_seconds,
            maximum_execution_timeout_in_seconds=rollout.max_execution_seconds,
        ),
    )


__all__ = [
    "DEFAULT_VARIANT",
    "DeploymentRecord",
    "PreviousVersion",
    "ManagedInference",
    "ManagedInferenceArgs",
    "deployment_config",
]
