"""Drift monitoring that any account can deploy: a scheduled SageMaker Processing job.

Why not Model Monitor: "Amazon SageMaker Model Monitor is no longer open to new
customers. Existing customers can continue to use the service as normal" (SageMaker
developer guide, model-monitor-byoc-containers / "Amazon SageMaker Model Monitor
availability change"). In a new account `DataQualityMonitor`'s job definition and
schedule cannot be created; this component needs none of Model Monitor's APIs.

Mechanism — EventBridge Scheduler with the universal target
`arn:aws:scheduler:::aws-sdk:sagemaker:createProcessingJob` (Scheduler user guide,
"Using universal targets"; `aws.scheduler.Schedule`, pulumi-aws `scheduler/schedule.py`).
Chosen over a Step Functions state machine because the job is fire-and-forget: the
evidence that it ran *and* succeeded is the drift metric itself, alarmed with missing
data = breaching, so a `.sync` wait buys nothing and would add a state machine, a
second role and `events:PutRule` permissions. The job name must be unique per run: the
input uses the context attribute `<aws.scheduler.execution-id>` ("the unique ID that
EventBridge Scheduler assigns for each attempted invocation", Scheduler user guide,
"Adding context attributes"), and passes `<aws.scheduler.scheduled-time>` to the
container as the end of the window it analyses.

Security:
- Job: in the private subnets with the workload security group, KMS (the data key) on
  the ML volume and on the report output, inter-container encryption. *Not* network
  isolation: with `EnableNetworkIsolation` the container can make no outbound call at
  all (CreateProcessingJob API reference, NetworkConfig), so it could neither read the
  capture window nor call `cloudwatch:PutMetricData`. The network has no internet path
  (no IGW/NAT) and reaches S3 through the gateway endpoint and CloudWatch through the
  `monitoring` interface endpoint; IAM limits what it can do there.
- Job role (trusted by sagemaker.amazonaws.com for this account's processing jobs):
  read the capture prefix and the baseline prefix, write the report prefix, use the data
  key, pull the one ECR repository, ENIs in the given subnets / SG, PutMetricData only
  into `metrics.DRIFT_NAMESPACE`, logs only to /aws/sagemaker/ProcessingJobs.
- Scheduler role (trusted by scheduler.amazonaws.com for this account): only
  `sagemaker:CreateProcessingJob` on `processing-job/<check_name>-*`, and only when the
  request carries this key on volume and output, these subnets and this SG, inter-
  container encryption (SageMaker condition keys of CreateProcessingJob, Service
  Authorization Reference); `iam:PassRole` on the job role alone, with
  `iam:PassedToService = sagemaker.amazonaws.com`.

Metric contract: the container publishes `feature_baseline_drift_<feature>` with
dimensions Endpoint and MonitoringSchedule (= `check_name`) into `DRIFT_NAMESPACE`
(`regulated_inference.lib.metrics`; `regulated_inference.lib.emf.drift_metric_data` builds the call), with
the scheduled time as timestamp. The alarm reads exactly that; no datapoint in a period
is treated as breaching: a check that did not run, failed or could not publish is
missing evidence of no drift.
"""

import json
from typing import NotRequired, TypedDict, cast

import pulumi
import pulumi_aws as aws

from regulated_inference.components.least_privilege_role import LeastPrivilegeRole, service_trust
from regulated_inference.lib import aws as aws_facts
from regulated_inference.lib import drift, iam, metrics
from regulated_inference.lib import sagemaker as sm
from regulated_inference.lib.aws import AwsContext
from regulated_inference.lib.errors import ComponentArgsError
from regulated_inference.lib.outputs import publish_outputs, type_token

_COMPONENT = "ScheduledDriftCheck"
#: Universal target of the SageMaker CreateProcessingJob API (Scheduler "universal targets").
CREATE_PROCESSING_JOB = "aws-sdk:sagemaker:createProcessingJob"
#: Runs per day must divide the day evenly so alarm periods line up with runs.
INTERVAL_HOURS = (1, 2, 3, 4, 6, 8, 12, 24)
DEFAULT_INTERVAL_HOURS = 1
#: Defaults of the optional arguments, in one place (the stack config reads them from here).
DEFAULTS = {**drift.DRIFT_JOB_DEFAULTS, "interval_hours": DEFAULT_INTERVAL_HOURS}
#: Longest check name: `<check_name>-<execution id>` must stay a ≤ 63-char SageMaker name.
MAX_CHECK_NAME = 40
#: Container paths (SageMaker Processing container contract: /opt/ml/processing/...).
BASELINE_PATH = "/opt/ml/processing/input/baseline"
OUTPUT_PATH = "/opt/ml/processing/output"
_EXECUTION_ID = "<aws.scheduler.execution-id>"
_SCHEDULED_TIME = "<aws.scheduler.scheduled-time>"


class ScheduledDriftCheckArgs(TypedDict):
    """Arguments of `ScheduledDriftCheck`."""

    endpoint_name: pulumi.Input[str]
    """The monitored endpoint (the `Endpoint` dimension of the drift metrics)."""
    check_name: str
    """Schedule name, job-name prefix and `MonitoringSchedule` dimension; SageMaker name ≤ 40 chars."""
    features: list[str]
    """Features whose drift is alarmed, 1–9 (an alarm holds at most 10 metric queries)."""
    drift_threshold: NotRequired[float]
    """Drift distance (0–1) above which the alarm fires; default 0.2."""
    interval_hours: NotRequired[int]
    """Hours between runs: 1, 2, 3, 4, 6, 8, 12 or 24 (aligned to UTC hours), also the alarm
    period; default 1."""
    image_uri: str
    """The drift container: private ECR image pinned by digest, in the home region."""
    instance_type: NotRequired[str]
    """Processing instance (EBS-backed: its volume is KMS-encrypted); default ml.m5.xlarge."""
    max_runtime_seconds: NotRequired[int]
    """Job time limit, 60 s up to the interval; default 1800."""
    data: drift.DriftData
    """Capture, baseline and report locations (a report folder per run), and their CMK."""
    network: sm.VpcPlacement
    """Private subnets and workload security group the job runs in (the scheduler role allows only these)."""
    aws: AwsContext
    """Home region (the image's registry, ARNs) and account."""
    alarm_topic_arn: pulumi.Input[str]
    """Encrypted SNS topic the drift alarm notifies (ALARM and OK)."""
    schedule_kms_key_arn: NotRequired[pulumi.Input[str]]
    """CMK for the schedule's stored input; default the Scheduler's AWS-owned key (the input holds names and ARNs, no data)."""


class ScheduledDriftCheck(pulumi.ComponentResource):
    """A scheduled Processing job comparing captured data with the baseline, and its drift alarm."""

    schedule_name: pulumi.Output[str]
    """The EventBridge Scheduler schedule."""
    job_role_arn: pulumi.Output[str]
    """Role the processing job runs as."""
    scheduler_role_arn: pulumi.Output[str]
    """Role the schedule uses to start the job."""
    drift_alarm_name: pulumi.Output[str]
    """Alarm on the largest feature drift (missing data = breaching)."""

    def __init__(
        self, name: str, args: ScheduledDriftCheckArgs, opts: pulumi.ResourceOptions | None = None
    ):
        args = cast(ScheduledDriftCheckArgs, sm.with_defaults(args, DEFAULTS))
        image = _validate(args)
        super().__init__(type_token(_COMPONENT), name, None, opts)
        ctx = args["aws"]
        job_role = self._job_role(name, args, image)
        scheduler_role = self._scheduler_role(name, args, job_role)
        schedule = aws.scheduler.Schedule(
            f"{name}-schedule",
            name=args["check_name"],
            description=f"drift check of {args['check_name']}: captured data vs baseline",
            schedule_expression=schedule_expression(int(args["interval_hours"])),
            schedule_expression_timezone="UTC",
            flexible_time_window=aws.scheduler.ScheduleFlexibleTimeWindowArgs(mode="OFF"),
            kms_key_arn=args.get("schedule_kms_key_arn"),
            state="ENABLED",
            target=aws.scheduler.ScheduleTargetArgs(
                arn=aws_facts.scheduler_target_arn(ctx["partition"], CREATE_PROCESSING_JOB),
                role_arn=scheduler_role.arn,
                input=processing_job_request(args, job_role.arn, image),
                retry_policy=aws.scheduler.ScheduleTargetRetryPolicyArgs(
                    maximum_retry_attempts=2, maximum_event_age_in_seconds=900
                ),
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[job_role, scheduler_role]),
        )
        drift_alarm = self._drift_alarm(name, args)
        publish_outputs(
            self,
            schedule_name=schedule.name,
            job_role_arn=job_role.arn,
            scheduler_role_arn=scheduler_role.arn,
            drift_alarm_name=drift_alarm.name,
        )

    # -- steps --------------------------------------------------------------------------

    def _job_role(
        self, name: str, args: ScheduledDriftCheckArgs, image: sm.EcrImage
    ) -> LeastPrivilegeRole:
        """Read capture and baseline, write the report, pull the image, publish drift."""
        ctx = args["aws"]
        return LeastPrivilegeRole(
            f"{name}-job-role",
            {
                "trust": service_trust(
                    "sagemaker.amazonaws.com", ctx["account_id"], _jobs_arn(ctx, args["check_name"])
                ),
                "description": f"Drift check {args['check_name']}: read capture and baseline, publish drift",
                "grants": iam.monitoring_job_grants(
                    args["data"],
                    args["network"],
                    ctx,
                    metrics.DRIFT_NAMESPACE,
                    images=[iam.pull_images(image.repository_arn(ctx["partition"]))],
                ),
            },
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _scheduler_role(
        self, name: str, args: ScheduledDriftCheckArgs, job_role: LeastPrivilegeRole
    ) -> LeastPrivilegeRole:
        """CreateProcessingJob of this check only, with this key and network; PassRole."""
        ctx = args["aws"]
        key, network = args["data"]["data_key_arn"], args["network"]
        grants: list[iam.Grant] = [
            iam.custom_statement(
                "CreateThisDriftJobOnly",
                ("sagemaker:CreateProcessingJob",),
                (_jobs_arn(ctx, args["check_name"]),),
                {
                    "ArnEquals": {"sagemaker:VolumeKmsKey": key, "sagemaker:OutputKmsKey": key},
                    "ForAllValues:StringEquals": {
                        "sagemaker:VpcSubnets": list(network["subnet_ids"]),
                        "sagemaker:VpcSecurityGroupIds": [network["security_group_id"]],
                    },
                    # ForAllValues is true for an absent key: require the keys to be present.
                    "Null": {
                        "sagemaker:VpcSubnets": "false",
                        "sagemaker:VpcSecurityGroupIds": "false",
                    },
                    "Bool": {"sagemaker:InterContainerTrafficEncryption": "true"},
                },
            ),
            iam.custom_statement(
                "PassTheJobRoleToSageMaker",
                ("iam:PassRole",),
                (job_role.arn,),
                {"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}},
            ),
        ]
        if args.get("schedule_kms_key_arn"):
            grants.append(iam.use_key(args["schedule_kms_key_arn"], decrypt=True))
        return LeastPrivilegeRole(
            f"{name}-scheduler-role",
            {
                # Scheduler user guide, confused-deputy prevention: SourceAccount and the
                # schedule group's ARN.
                "trust": service_trust(
                    "scheduler.amazonaws.com",
                    ctx["account_id"],
                    aws_facts.scheduler_arn(ctx, "schedule-group/default"),
                ),
                "description": f"EventBridge Scheduler starts drift check {args['check_name']}",
                "grants": grants,
            },
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _drift_alarm(self, name: str, args: ScheduledDriftCheckArgs) -> aws.cloudwatch.MetricAlarm:
        return drift.drift_alarm(
            self,
            name,
            args,
            name_prefix=args["check_name"],
            namespace=metrics.DRIFT_NAMESPACE,
            schedule_name=args["check_name"],
            period=int(args["interval_hours"]) * 3600,
            source=(
                f"; no datapoint in {args['interval_hours']} h means the drift check did not "
                "run, failed or could not publish (breaching)"
            ),
            treat_missing_data="breaching",
        )


# -- pure parts (tested directly) ---------------------------------------------------------


def schedule_expression(interval_hours: int) -> str:
    """Scheduler cron (minutes hours day-of-month month day-of-week year), on the UTC hour."""
    hours = "*" if interval_hours == 1 else f"0/{interval_hours}"
    return f"cron(0 {hours} * * ? *)"


def processing_job_request(
    args: ScheduledDriftCheckArgs, role_arn: pulumi.Input[str], image: sm.EcrImage
) -> pulumi.Output[str]:
    """The CreateProcessingJob request the schedule sends (API reference field names)."""
    check, data, network = args["check_name"], args["data"], args["network"]

    def s3(bucket: str, prefix: str) -> str:
        return f"s3://{bucket}/{prefix.strip('/')}/"

    def build(values: list) -> str:
        role, endpoint, capture_bucket, baseline_bucket, key, subnets, sg = values
        return json.dumps(
            {
                "ProcessingJobName": f"{check}-{_EXECUTION_ID}",
                "RoleArn": role,
                "AppSpecification": {"ImageUri": args["image_uri"]},
                "Environment": {
                    "ENDPOINT_NAME": endpoint,
                    "CHECK_NAME": check,
                    "FEATURES": ",".join(args["features"]),
                    "CAPTURE_S3_URI": s3(capture_bucket, data["capture_prefix"]),
                    "WINDOW_HOURS": str(int(args["interval_hours"])),
                    "SCHEDULED_TIME": _SCHEDULED_TIME,
                    "METRIC_NAMESPACE": metrics.DRIFT_NAMESPACE,
                },
                "ProcessingInputs": [
                    {
                        "InputName": "baseline",
                        "S3Input": {
                            "S3Uri": s3(baseline_bucket, data["baseline_prefix"]),
                            "LocalPath": BASELINE_PATH,
                            "S3DataType": "S3Prefix",
                            "S3InputMode": "File",
                            "S3DataDistributionType": "FullyReplicated",
                        },
                    }
                ],
                "ProcessingOutputConfig": {
                    "KmsKeyId": key,
                    "Outputs": [
                        {
                            "OutputName": "report",
                            "S3Output": {
                                "S3Uri": s3(capture_bucket, data["output_prefix"]) + _EXECUTION_ID,
                                "LocalPath": OUTPUT_PATH,
                                "S3UploadMode": "EndOfJob",
                            },
                        }
                    ],
                },
                "ProcessingResources": {
                    "ClusterConfig": {
                        "InstanceCount": 1,
                        "InstanceType": args["instance_type"],
                        "VolumeSizeInGB": 20,
                        "VolumeKmsKeyId": key,
                    }
                },
                "NetworkConfig": {
                    "EnableNetworkIsolation": False,
                    "EnableInterContainerTrafficEncryption": True,
                    "VpcConfig": {"Subnets": subnets, "SecurityGroupIds": [sg]},
                },
                "StoppingCondition": {"MaxRuntimeInSeconds": int(args["max_runtime_seconds"])},
            },
            sort_keys=True,
        )

    return pulumi.Output.all(
        role_arn,
        args["endpoint_name"],
        data["capture_bucket_name"],
        data["baseline_bucket_name"],
        data["data_key_arn"],
        list(network["subnet_ids"]),
        network["security_group_id"],
    ).apply(build)


def _jobs_arn(ctx: AwsContext, check_name: str) -> str:
    """The processing jobs this check starts: `<check_name>-<execution id>`."""
    return aws_facts.sagemaker_arn(ctx, "processing-job", f"{check_name}-*")


def _validate(args: ScheduledDriftCheckArgs) -> sm.EcrImage:
    def bad(arg: str, value, rule: str) -> ComponentArgsError:
        return ComponentArgsError(_COMPONENT, arg, value, rule)

    check = args.get("check_name") or ""
    if not sm.SAGEMAKER_NAME.match(check) or len(check) > MAX_CHECK_NAME:
        raise bad(
            "check_name",
            check,
            f"a SageMaker name of at most {MAX_CHECK_NAME} characters (the job name appends a run id)",
        )
    wrong = drift.check_drift_job(args)
    if wrong:
        raise bad(*wrong)
    features = list(args["features"])
    if len(",".join(features)) > 256:
        raise bad(
            "features", features, "joined names ≤ 256 chars (a processing job environment value)"
        )
    interval = args.get("interval_hours")
    if interval not in INTERVAL_HOURS:
        raise bad("interval_hours", interval, f"one of {INTERVAL_HOURS} (divides the day)")
    runtime = args.get("max_runtime_seconds", 0)
    if not 60 <= runtime <= interval * 3600:
        raise bad(
            "max_runtime_seconds", runtime, f"60–{interval * 3600} s: a run ends before the next"
        )
    try:
        image = sm.parse_ecr_image(args.get("image_uri", ""))
    except ValueError as exc:
        raise bad("image_uri", args.get("image_uri"), str(exc)) from None
    if image.region != args["aws"]["region"]:
        raise bad(
            "image_uri",
            args.get("image_uri"),
            f"the image must be in the home region {args['aws']['region']}",
        )
    if not args.get("alarm_topic_arn"):
        raise bad("alarm_topic_arn", args.get("alarm_topic_arn"), "required (alarm action M1)")
    return image


__all__ = [
    "DEFAULTS",
    "DEFAULT_INTERVAL_HOURS",
    "ScheduledDriftCheck",
    "ScheduledDriftCheckArgs",
    "processing_job_request",
    "schedule_expression",
]
