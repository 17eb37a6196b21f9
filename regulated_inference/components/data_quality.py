"""`DataQualityMonitor`: a Model Monitor data-quality job definition (KMS on outputs and
volume, network isolation, inter-container encryption, VPC) and hourly schedule, with an alarm on
the features' baseline drift (dimensions Endpoint, MonitoringSchedule). For accounts Model
Monitor is closed to, `regulated_inference.components.drift_job.ScheduledDriftCheck`.
"""

from typing import NotRequired, TypedDict, cast

import pulumi
import pulumi_aws as aws

from regulated_inference.components.least_privilege_role import LeastPrivilegeRole, service_trust
from regulated_inference.lib import aws as aws_facts
from regulated_inference.lib import drift, iam
from regulated_inference.lib import sagemaker as sm
from regulated_inference.lib.aws import AwsContext
from regulated_inference.lib.errors import ComponentArgsError
from regulated_inference.lib.outputs import publish_outputs, type_token

#: Model Monitor's hourly schedule: the default, and the longest a job may run under it.
DEFAULT_SCHEDULE_EXPRESSION = "cron(0 * ? * * *)"
#: Defaults of the optional arguments, in one place (the stack config reads them from here).
DEFAULTS = {**drift.DRIFT_JOB_DEFAULTS, "schedule_expression": DEFAULT_SCHEDULE_EXPRESSION}


class DataQualityMonitorArgs(TypedDict):
    """Arguments of `DataQualityMonitor`."""

    endpoint_name: pulumi.Input[str]
    """The monitored endpoint (pass the Endpoint's output so the schedule follows it)."""
    schedule_name: str
    """Name of the monitoring schedule (a dimension of the drift metrics)."""
    features: list[str]
    """Features whose baseline-drift metric is alarmed, 1–9."""
    drift_threshold: NotRequired[float]
    """Baseline drift distance above which the alarm fires; default 0.2."""
    schedule_expression: NotRequired[str]
    """Schedule expression, UTC; default `cron(0 * ? * * *)` (hourly)."""
    instance_type: NotRequired[str]
    """Monitoring job instance (EBS-backed: its volume is KMS-encrypted); default ml.m5.xlarge."""
    max_runtime_seconds: NotRequired[int]
    """Job time limit, ≤ 3600 s for an hourly schedule; default 1800."""
    data: drift.DriftData
    """Capture, baseline and report locations, and the CMK of the reports and the job's volume."""
    network: sm.VpcPlacement
    """Private subnets and workload security group the job runs in."""
    aws: AwsContext
    """Home region (the Model Monitor image, ARNs) and account."""
    alarm_topic_arn: pulumi.Input[str]
    """Encrypted SNS topic the drift alarm notifies (alarm, OK and insufficient data)."""


class DataQualityMonitor(pulumi.ComponentResource):
    """Model Monitor data-quality job + schedule for one endpoint, and a drift alarm."""

    schedule_name: pulumi.Output[str]
    """The monitoring schedule's name."""
    job_definition_name: pulumi.Output[str]
    """The current data-quality job definition (named after a hash of its content)."""
    drift_alarm_name: pulumi.Output[str]
    """The alarm on the largest feature baseline drift."""
    role_arn: pulumi.Output[str]
    """The job's execution role."""

    def __init__(
        self, name: str, args: DataQualityMonitorArgs, opts: pulumi.ResourceOptions | None = None
    ):
        args = cast(DataQualityMonitorArgs, sm.with_defaults(args, DEFAULTS))
        image = _validate_drift(args)
        super().__init__(type_token("DataQualityMonitor"), name, None, opts)
        role = LeastPrivilegeRole(
            f"{name}-role",
            {
                "trust": service_trust(
                    "sagemaker.amazonaws.com",
                    args["aws"]["account_id"],
                    aws_facts.sagemaker_arn(args["aws"], "processing-job", "*"),
                ),
                "description": f"Model Monitor data-quality job of {args['schedule_name']}",
                "grants": iam.monitoring_job_grants(
                    args["data"], args["network"], args["aws"], sm.DATA_QUALITY_NAMESPACE
                ),
            },
            opts=pulumi.ResourceOptions(parent=self),
        )
        job = self._job_definition(name, args, image, role)
        schedule = aws.sagemaker.MonitoringSchedule(
            f"{name}-schedule",
            name=args["schedule_name"],
            monitoring_schedule_config=aws.sagemaker.MonitoringScheduleMonitoringScheduleConfigArgs(
                monitoring_job_definition_name=job.name,
                monitoring_type="DataQuality",
                schedule_config=aws.sagemaker.MonitoringScheduleMonitoringScheduleConfigScheduleConfigArgs(
                    schedule_expression=args["schedule_expression"]
                ),
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        drift_alarm = self._drift_alarm(name, args, schedule)
        publish_outputs(
            self,
            schedule_name=schedule.name,
            job_definition_name=job.name,
            drift_alarm_name=drift_alarm.name,
            role_arn=role.arn,
        )

    def _job_definition(
        self,
        name: str,
        args: DataQualityMonitorArgs,
        image: str,
        role: LeastPrivilegeRole,
    ) -> aws.sagemaker.DataQualityJobDefinition:
        """The data-quality job: KMS on outputs and volume, network isolation, inter-container
        encryption, in the private subnets.

        Every field of a job definition forces replacement (sm.FORCE_NEW) and a fixed name
        makes the provider delete it before recreating it, while the schedule points at it.
        So the job definition is named (logically and physically) after a hash of its
        content: a new version (new baseline) is a new job definition, created first; the
        schedule is updated in place to it; the old one is deleted at the end."""
        data, network = args["data"], args["network"]
        baseline = pulumi.Output.concat(
            "s3://", data["baseline_bucket_name"], "/", data["baseline_prefix"].strip("/"), "/"
        )
        job_hash = sm.short_hash(
            {
                "image": image,
                "baseline": data["baseline_prefix"],
                "output": data["output_prefix"],
                "capture": data["capture_prefix"],
                "instanceType": args["instance_type"],
                "maxRuntime": int(args["max_runtime_seconds"]),
                "schedule": args["schedule_name"],
            }
        )
        return aws.sagemaker.DataQualityJobDefinition(
            f"{name}-job-{job_hash}",
            name=sm.safe_name(args["schedule_name"], job_hash),
            role_arn=role.arn,
            data_quality_app_specification=aws.sagemaker.DataQualityJobDefinitionDataQualityAppSpecificationArgs(
                image_uri=image,
                environment={"publish_cloudwatch_metrics": "Enabled"},
            ),
            data_quality_baseline_config=aws.sagemaker.DataQualityJobDefinitionDataQualityBaselineConfigArgs(
                constraints_resource=aws.sagemaker.DataQualityJobDefinitionDataQualityBaselineConfigConstraintsResourceArgs(
                    s3_uri=pulumi.Output.concat(baseline, "constraints.json")
                ),
                statistics_resource=aws.sagemaker.DataQualityJobDefinitionDataQualityBaselineConfigStatisticsResourceArgs(
                    s3_uri=pulumi.Output.concat(baseline, "statistics.json")
                ),
            ),
            data_quality_job_input=aws.sagemaker.DataQualityJobDefinitionDataQualityJobInputArgs(
                endpoint_input=aws.sagemaker.DataQualityJobDefinitionDataQualityJobInputEndpointInputArgs(
                    endpoint_name=args["endpoint_name"],
                    local_path="/opt/ml/processing/input/endpoint",
                    s3_data_distribution_type="FullyReplicated",
                    s3_input_mode="File",
                )
            ),
            data_quality_job_output_config=aws.sagemaker.DataQualityJobDefinitionDataQualityJobOutputConfigArgs(
                kms_key_id=data["data_key_arn"],
                monitoring_outputs=aws.sagemaker.DataQualityJobDefinitionDataQualityJobOutputConfigMonitoringOutputsArgs(
                    s3_output=aws.sagemaker.DataQualityJobDefinitionDataQualityJobOutputConfigMonitoringOutputsS3OutputArgs(
                        s3_uri=pulumi.Output.concat(
                            "s3://",
                            data["capture_bucket_name"],
                            "/",
                            data["output_prefix"].strip("/"),
                        ),
                        local_path="/opt/ml/processing/output",
                        s3_upload_mode="EndOfJob",
                    )
                ),
            ),
            job_resources=aws.sagemaker.DataQualityJobDefinitionJobResourcesArgs(
                cluster_config=aws.sagemaker.DataQualityJobDefinitionJobResourcesClusterConfigArgs(
                    instance_count=1,
                    instance_type=args["instance_type"],
                    volume_size_in_gb=20,
                    volume_kms_key_id=data["data_key_arn"],
                )
            ),
            network_config=aws.sagemaker.DataQualityJobDefinitionNetworkConfigArgs(
                enable_network_isolation=True,
                enable_inter_container_traffic_encryption=True,
                vpc_config=aws.sagemaker.DataQualityJobDefinitionNetworkConfigVpcConfigArgs(
                    subnets=list(network["subnet_ids"]),
                    security_group_ids=[network["security_group_id"]],
                ),
            ),
            stopping_condition=aws.sagemaker.DataQualityJobDefinitionStoppingConditionArgs(
                max_runtime_in_seconds=int(args["max_runtime_seconds"])
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[role]),
        )

    def _drift_alarm(
        self,
        name: str,
        args: DataQualityMonitorArgs,
        schedule: aws.sagemaker.MonitoringSchedule,
    ) -> aws.cloudwatch.MetricAlarm:
        """The largest feature baseline drift of the hourly job above the threshold; missing
        data is `missing` (Model Monitor publishes only when a job ran)."""
        return drift.drift_alarm(
            self,
            name,
            args,
            name_prefix=args["schedule_name"],
            namespace=sm.DATA_QUALITY_NAMESPACE,
            schedule_name=schedule.name,
            period=3600,
            source=" (Model Monitor data quality)",
            treat_missing_data="missing",
            evaluation_periods=1,
            datapoints_to_alarm=None,  # one period: AWS's default (= evaluation_periods)
            insufficient_data_actions=[args["alarm_topic_arn"]],
        )


def _validate_drift(args: DataQualityMonitorArgs) -> str:
    c = "DataQualityMonitor"
    wrong = drift.check_drift_job(args)
    if wrong:
        raise ComponentArgsError(c, *wrong)
    if not sm.SAGEMAKER_NAME.match(args.get("schedule_name") or ""):
        raise ComponentArgsError(c, "schedule_name", args.get("schedule_name"), "SageMaker name")
    if not 60 <= args.get("max_runtime_seconds", 0) <= 3600:
        raise ComponentArgsError(
            c,
            "max_runtime_seconds",
            args.get("max_runtime_seconds"),
            "60–3600 s: a job must finish within the hourly schedule",
        )
    try:
        return sm.model_monitor_image(args["aws"]["region"])
    except ValueError as exc:
        raise ComponentArgsError(c, "aws.region", args["aws"]["region"], str(exc)) from None


__all__ = [
    "DEFAULTS",
    "DEFAULT_SCHEDULE_EXPRESSION",
    "DataQualityMonitor",
    "DataQualityMonitorArgs",
]
