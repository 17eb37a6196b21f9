"""Config sections of the cost estimate: the budget, and the usage assumptions behind it.

The offline preview prices what the stack program records (instances, endpoints,
keys, alarms...) from a dated price table (`regulated_inference/preview/prices/`). What a
recording cannot show — how many GB a log group ingests, how many objects a
trail sees — comes from the assumptions below; each default is stated in the
report next to the figure it produces (see docs/cost.md).
"""

from __future__ import annotations

from pydantic import Field

from regulated_inference.config.base import ConfigModel


class BudgetConfig(ConfigModel):
    """The monthly budget of this stack; the preview exits 1 when the estimate exceeds it."""

    monthly_usd: float = Field(gt=0)
    """Monthly budget in USD. Compared with the UPPER end of the estimate (every autoscaling
    group at its maximum, every job at its maximum runtime), so a pass means the stack cannot
    exceed it under the stated assumptions."""


class EksPricing(ConfigModel):
    """What a self-hosted pod's share of its EKS nodes costs (nodes are not in this stack)."""

    vcpu_hour_usd: float | None = Field(default=None, ge=0)
    """USD per requested vCPU-hour (e.g. node price / node vCPUs). Unset: pods are listed, not priced."""
    gpu_hour_usd: float | None = Field(default=None, ge=0)
    """USD per requested GPU-hour (e.g. a g6.xlarge's price for its one L4). Unset: GPUs not priced."""


class CostConfig(ConfigModel):
    """Usage assumptions for the cost estimate: what the recorded resources cannot show."""

    log_ingestion_gb_per_group: float = Field(default=1.0, ge=0)
    """GB ingested per month by each CloudWatch log group (other than flow-log groups)."""
    flow_log_gb_per_month: float = Field(default=5.0, ge=0)
    """GB of VPC flow logs ingested per month by each flow log's log group."""
    s3_storage_gb_per_bucket: float = Field(default=10.0, ge=0)
    """GB stored (S3 Standard, all versions) in each bucket, on average over the month."""
    cloudtrail_data_events_per_month: int = Field(default=1_000_000, ge=0)
    """Data events (S3 object-level calls) each trail with data event selectors records per month."""
    vpc_endpoint_gb_per_month: float = Field(default=1.0, ge=0)
    """GB processed per month by each interface VPC endpoint."""
    monitoring_job_minutes: float = Field(default=10.0, gt=0)
    """Typical runtime of one Model Monitor job: the LOWER end of its range (the upper end is
    the job's maxRuntimeInSeconds)."""
    sns_notifications_per_month: int = Field(default=1_000, ge=0)
    """Notifications each SNS e-mail subscription receives per month."""
    bedrock_input_tokens_per_month: int = Field(default=0, ge=0)
    """Input tokens per month sent to each allow-listed Bedrock model (default 0: usage unknown)."""
    bedrock_output_tokens_per_month: int = Field(default=0, ge=0)
    """Output tokens per month from each allow-listed Bedrock model (default 0)."""
    eks: EksPricing = EksPricing()
    """Price of the EKS capacity self-hosted pods request (the cluster is not part of this stack)."""


class CostSections(ConfigModel):
    """The two cost-related top-level keys, for reading them from any project's config."""

    model_config = {**ConfigModel.model_config, "extra": "ignore"}

    cost: CostConfig = CostConfig()
    budget: BudgetConfig | None = None
