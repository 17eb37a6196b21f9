"""What a recorded stack would cost per month, before it is deployed.

The estimate is computed from the RECORDED resources (what the program would
create, with its inputs after transforms), not from the stack config: a
hand-written program is priced the same way. Prices come from the dated
per-region table (`cost_prices.py`, `prices/<region>.json`); usage the
recording cannot show comes from the stack's `<project>:cost` assumptions
(`regulated_inference/config/cost.py`), each listed in the report.

Billing rules followed (AWS pricing pages, see each price's `source`):
- SageMaker real-time endpoints bill instance-hours while the endpoint exists:
  instances × 730 h; an Application Auto Scaling target on the variant
  (`endpoint/<name>/variant/<variant>`) makes it a range min–max capacity.
- Model Monitor schedules run processing jobs: runs/month (from the cron
  expression) × instances × duration; duration from the assumption (lower
  end) to the job's `maxRuntimeInSeconds` (upper end, AWS default 3600 s).
- Interface VPC endpoints bill per endpoint per AZ-hour (one AZ per subnet)
  plus data processed; gateway endpoints are free (PrivateLink pricing).
- KMS: $1 per key-month; automatic rotation adds $1 per rotated backing key,
  for the first two rotations only (April 2024 change): a range 0–2.
- CloudWatch alarms bill per alarm metric: a metric-math alarm per metric it
  reads, an anomaly-detection alarm as 3 metrics (the metric and the band's two
  bounds), a period under 60 s at the high-resolution rate; composite alarms
  and dashboards have their own monthly price.
- CloudWatch Logs: ingestion per GB (flow-log groups at the vended-log rate)
  plus stored GB-months at steady state (monthly ingestion × retention months).
- CloudTrail: the first copy of management events is free (this trail is
  assumed to be the account's first); data events per 100,000.

List prices, no free tier (free tiers are per account, shared by stacks) and
no taxes. 730 hours a month, the AWS Pricing Calculator's convention.
"""

from __future__ import annotations

import json
import math
import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from regulated_inference.lib.outputs import type_token
from regulated_inference.preview.cost_prices import PriceTable, PriceTableError, load_table
from regulated_inference.simulation.engine import RecordedResource, Recording

HOURS_PER_MONTH = 730.0
DAYS_PER_MONTH = HOURS_PER_MONTH / 24
#: SageMaker's default stoppingCondition.maxRuntimeInSeconds for monitoring jobs.
DEFAULT_MONITORING_MAX_RUNTIME_S = 3600

#: What the estimate leaves out; shown in every report.
NOT_INCLUDED = (
    "data transfer, API requests (KMS, S3, CloudWatch, SageMaker invocations) and custom metrics",
    "the second endpoint fleet during a blue/green rollout (transient)",
    "Bedrock guardrail text units; EKS nodes unless cost.eks prices are set",
    "free tiers, savings plans, reserved capacity, taxes and support",
)


class CostModelError(Exception):
    """The estimate cannot be made (no price table for the region, a price or schedule it cannot read)."""


@dataclass
class CostItem:
    """One priced line: a resource's usage of one priced dimension, per month."""

    resource: RecordedResource
    component: RecordedResource | None
    description: str
    quantity_min: float
    quantity_max: float
    unit: str
    price_key: str | None
    unit_price: float | None
    assumption: str | None = None  # the `cost.*` key the quantity comes from
    note: str = ""

    @property
    def monthly_min(self) -> float:
        return self.quantity_min * (self.unit_price or 0.0)

    @property
    def monthly_max(self) -> float:
        return self.quantity_max * (self.unit_price or 0.0)

    @property
    def quantity_text(self) -> str:
        return span(self.quantity_min, self.quantity_max, qty)

    @property
    def monthly_text(self) -> str:
        return span(self.monthly_min, self.monthly_max, money)

    @property
    def component_label(self) -> str:
        if self.component is None:
            return "(stack)"
        return f"{_short(self.component.type)} '{self.component.name}'"


@dataclass
class CostEstimate:
    project: str
    region: str
    table: PriceTable
    items: list[CostItem]
    assumptions: list[dict[str, Any]]
    budget_usd: float | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def currency(self) -> str:
        return self.table.currency

    @property
    def total_min(self) -> float:
        return round(sum(i.monthly_min for i in self.items), 2)

    @property
    def total_max(self) -> float:
        return round(sum(i.monthly_max for i in self.items), 2)

    @property
    def total(self) -> float:
        """The figure compared with the budget: the upper end of the range."""
        return self.total_max

    @property
    def price_table_file(self) -> str:
        return f"regulated_inference/preview/prices/{self.table.path.name}"

    @property
    def budget_key(self) -> str:
        return f"{self.project}:budget.monthlyUsd"

    @property
    def budget_exceeded(self) -> bool:
        return self.budget_usd is not None and self.total_max > self.budget_usd

    @property
    def over_budget_by(self) -> float:
        return round(self.total_max - self.budget_usd, 2) if self.budget_exceeded else 0.0

    def top_items(self, n: int = 5) -> list[CostItem]:
        return sorted(self.items, key=lambda i: (-i.monthly_max, i.resource.name))[:n]

    def by_component(self) -> list[tuple[str, float, float]]:
        sums: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
        for i in self.items:
            sums[i.component_label][0] += i.monthly_min
            sums[i.component_label][1] += i.monthly_max
        rows = [(k, round(v[0], 2), round(v[1], 2)) for k, v in sums.items()]
        return sorted(rows, key=lambda r: (-r[2], r[0]))

    def budget_message(self) -> str:
        """One line: by how much the budget is exceeded and by what."""
        top = ", ".join(
            f"{i.description} ({i.resource.name}) {money(i.monthly_max)}" for i in self.top_items(3)
        )
        return (
            f"estimated cost up to {money(self.total_max)}/month exceeds {self.budget_key} "
            f"{money(self.budget_usd or 0)} by {money(self.over_budget_by)} (upper end of the range "
            f"{money(self.total_min)}–{money(self.total_max)} compared); largest items: {top}"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "currency": self.currency,
            "total": self.total,
            "totalBasis": "max",
            "range": {"min": self.total_min, "max": self.total_max},
            "hoursPerMonth": HOURS_PER_MONTH,
            "priceTableDate": self.table.date,
            "priceTable": {
                "region": self.table.region,
                "file": self.price_table_file,
                "method": self.table.method,
            },
            "budget": None
            if self.budget_usd is None
            else {
                "key": self.budget_key,
                "monthlyUsd": self.budget_usd,
                "compared": "max",
                "exceeded": self.budget_exceeded,
                "overBy": self.over_budget_by,
            },
            "assumptions": self.assumptions,
            "components": [
                {"component": label, "monthly": {"min": lo, "max": hi}}
                for label, lo, hi in self.by_component()
            ],
            "items": [
                {
                    "resource": i.resource.urn,
                    "resourceType": i.resource.type,
                    "resourceName": i.resource.name,
                    "component": i.component.urn if i.component else None,
                    "componentLabel": i.component_label,
                    "description": i.description,
                    "quantity": {"min": _r(i.quantity_min), "max": _r(i.quantity_max)},
                    "unit": i.unit,
                    "priceKey": i.price_key,
                    "unitPrice": i.unit_price,
                    "monthly": {"min": round(i.monthly_min, 4), "max": round(i.monthly_max, 4)},
                    "assumption": i.assumption,
                    "note": i.note,
                }
                for i in self.items
            ],
            "notes": self.notes,
            "notIncluded": list(NOT_INCLUDED),
        }


def money(usd: float) -> str:
    return f"${usd:,.2f}"


def money_range(lo: float, hi: float) -> str:
    """A monthly cost range, as every report shows it: `$1.00 – $2.00`."""
    return f"{money(lo)} – {money(hi)}"


def span(lo: float, hi: float, fmt: Callable[[float], str] = "{:g}".format) -> str:
    """A quantity that may be a range: `4` when both ends agree, else `2–4`."""
    return fmt(hi) if lo == hi else f"{fmt(lo)}–{fmt(hi)}"


def qty(x: float) -> str:
    """A quantity for people: 4,380 / 13.15 / 0.01."""
    return f"{x:,.0f}" if abs(x) >= 1000 else f"{x:,.4g}"


def _r(x: float) -> float:
    return round(x, 6)


def _short(token: str) -> str:
    return token.removeprefix(type_token(""))


# -- reading the stack's cost config ---------------------------------------------------------


def cost_sections(recording: Recording) -> tuple[Any, bool]:
    """(CostSections, whether the stack set `cost` or `budget`), validated like the stack config."""
    from pydantic import ValidationError

    from regulated_inference.config.cost import CostSections
    from regulated_inference.config.errors import from_validation_error

    raw: dict[str, Any] = {}
    for key in ("cost", "budget"):
        value = recording.config.get(f"{recording.project}:{key}")
        if value is not None:
            try:
                raw[key] = json.loads(value)
            except ValueError:
                raw[key] = value
    try:
        return CostSections.model_validate(raw), bool(raw)
    except ValidationError as exc:
        raise from_validation_error(recording.project, exc) from None


# -- the estimate -----------------------------------------------------------------------------


def estimate(
    recording: Recording,
    component_of: dict[str, RecordedResource | None],
    *,
    table: PriceTable | None = None,
) -> CostEstimate | str:
    """The estimate, or (for a stack with no `cost`/`budget` keys) a sentence saying why there is none.

    A stack that sets a budget or cost assumptions asked for an estimate: anything
    that prevents one (no price table for its region, a missing price) raises
    CostModelError instead.
    """
    sections, asked = cost_sections(recording)
    region = recording.config.get("aws:region") or "us-east-1"
    try:
        table = table or load_table(region)
        return _Estimator(recording, component_of, table, sections).run()
    except (PriceTableError, CostModelError) as exc:
        if asked:
            raise CostModelError(str(exc)) from None
        return f"not estimated: {exc}"


class _Estimator:
    def __init__(self, recording: Recording, component_of, table: PriceTable, sections) -> None:
        self.rec = recording
        self.component_of = component_of
        self.table = table
        self.cfg = sections.cost
        self.budget = sections.budget.monthly_usd if sections.budget else None
        self.items: list[CostItem] = []
        self.notes: list[str] = []
        self.used_assumptions: set[str] = set()
        self.customs = [
            r
            for r in recording.resources
            if r.custom and not r.type.startswith("pulumi:providers:")
        ]
        self.by_type: dict[str, list[RecordedResource]] = defaultdict(list)
        for r in self.customs:
            self.by_type[r.type].append(r)

    # helpers
    def add(
        self,
        res: RecordedResource,
        description: str,
        qmin: float,
        qmax: float,
        unit: str,
        key: str | None,
        *,
        assumption: str | None = None,
        note: str = "",
        unit_price: float | None = None,
    ) -> None:
        price = unit_price if unit_price is not None else (self.table.get(key).usd if key else None)
        if assumption:
            self.used_assumptions.add(assumption)
        self.items.append(
            CostItem(
                resource=res,
                component=self.component_of.get(res.urn),
                description=description,
                quantity_min=qmin,
                quantity_max=qmax,
                unit=unit,
                price_key=key,
                unit_price=price,
                assumption=assumption,
                note=note,
            )
        )

    def of(self, *types: str) -> Iterable[RecordedResource]:
        for t in types:
            yield from self.by_type.get(t, [])

    def run(self) -> CostEstimate:
        for pricer in (
            self.sagemaker_endpoints,
            self.monitoring_schedules,
            self.scheduled_processing_jobs,
            self.vpc_endpoints,
            self.kms_keys,
            self.alarms,
            self.log_groups,
            self.trails,
            self.buckets,
            self.sns,
            self.bedrock,
            self.kubernetes,
        ):
            pricer()
        return CostEstimate(
            project=self.rec.project,
            region=self.table.region,
            table=self.table,
            items=self.items,
            assumptions=self.assumptions(),
            budget_usd=self.budget,
            notes=self.notes,
        )

    def assumptions(self) -> list[dict[str, Any]]:
        from regulated_inference.config.cost import CostConfig

        out = []
        for name, fld in CostConfig.model_fields.items():
            alias = fld.alias or name
            if alias not in self.used_assumptions:
                continue
            out.append(
                {
                    "key": f"{self.rec.project}:cost.{alias}",
                    "value": getattr(self.cfg, name),
                    "default": fld.default,
                    "description": " ".join((fld.description or "").split()),
                }
            )
        return out

    def _alias(self, name: str) -> str:
        from regulated_inference.config.cost import CostConfig

        return CostConfig.model_fields[name].alias or name

    def add_assumed(
        self,
        res: RecordedResource,
        description: str,
        assumption: str,
        unit: str,
        key: str,
        *,
        per: float = 1,
        note: str = "",
    ) -> float:
        """A monthly quantity that is the cost assumption `assumption` (a CostConfig field),
        counted in units of `per`; returns the assumption's value."""
        value = getattr(self.cfg, assumption)
        self.add(
            res,
            description,
            value / per,
            value / per,
            unit,
            key,
            assumption=self._alias(assumption),
            note=note,
        )
        return value

    # -- SageMaker -----------------------------------------------------------------------
    def sagemaker_endpoints(self) -> None:
        configs = {
            _name(c): c
            for c in self.of("aws:sagemaker/endpointConfiguration:EndpointConfiguration")
        }
        targets = {
            t.inputs.get("resourceId"): t
            for t in self.of("aws:appautoscaling/target:Target")
            if t.inputs.get("serviceNamespace") == "sagemaker"
        }
        for ep in self.of("aws:sagemaker/endpoint:Endpoint"):
            config = configs.get(ep.inputs.get("endpointConfigName"))
            if config is None:
                self.notes.append(
                    f"endpoint {ep.name}: its endpoint config is not in this stack; not priced"
                )
                continue
            ep_name = _name(ep)
            for variant in config.inputs.get("productionVariants") or []:
                instance = variant.get("instanceType")
                if not instance:
                    self.notes.append(
                        f"endpoint {ep.name} variant {variant.get('variantName')}: serverless, "
                        "priced per request: not estimated"
                    )
                    continue
                count = float(variant.get("initialInstanceCount") or 1)
                lo = hi = count
                target = targets.get(f"endpoint/{ep_name}/variant/{variant.get('variantName')}")
                note = ""
                if target is not None:
                    lo = float(target.inputs.get("minCapacity", count))
                    hi = float(target.inputs.get("maxCapacity", count))
                    note = f"autoscaling {lo:g}–{hi:g} instances"
                self.add(
                    ep,
                    f"SageMaker endpoint {instance} × {span(lo, hi)} instances",
                    lo * HOURS_PER_MONTH,
                    hi * HOURS_PER_MONTH,
                    "instance-hour",
                    f"sagemaker:hosting:{instance}",
                    note=note,
                )

    def monitoring_schedules(self) -> None:
        jobs = {
            _name(j): j
            for j in self.customs
            if j.type.startswith("aws:sagemaker/") and j.type.endswith("JobDefinition")
        }
        for sched in self.of("aws:sagemaker/monitoringSchedule:MonitoringSchedule"):
            cfg = sched.inputs.get("monitoringScheduleConfig") or {}
            expr = (cfg.get("scheduleConfig") or {}).get("scheduleExpression", "")
            job = jobs.get(cfg.get("monitoringJobDefinitionName"))
            if job is None:
                self.notes.append(
                    f"monitoring schedule {sched.name}: job definition not in this stack"
                )
                continue
            cluster = (job.inputs.get("jobResources") or {}).get("clusterConfig") or {}
            self._processing_runs(
                sched,
                "Model Monitor job",
                cluster.get("instanceType"),
                cluster.get("instanceCount"),
                (job.inputs.get("stoppingCondition") or {}).get("maxRuntimeInSeconds"),
                expr,
            )

    def scheduled_processing_jobs(self) -> None:
        """EventBridge Scheduler schedules that start a SageMaker Processing job (the drift check
        any account can run, components/drift_job.py): runs/month × instances × duration, priced
        as processing instance time like a Model Monitor run. The target's `input` is the
        CreateProcessingJob request (ProcessingResources.ClusterConfig, StoppingCondition). The
        scheduler's own invocations are not priced (14 million a month are free: EventBridge
        pricing), nor is a DISABLED schedule."""
        for sched in self.of("aws:scheduler/schedule:Schedule"):
            target = sched.inputs.get("target") or {}
            if not str(target.get("arn", "")).endswith(":sagemaker:createProcessingJob"):
                continue
            if str(sched.inputs.get("state", "ENABLED")).upper() == "DISABLED":
                continue
            try:
                request = json.loads(target.get("input") or "{}")
            except (TypeError, ValueError):
                self.notes.append(f"schedule {sched.name}: unreadable job request; not priced")
                continue
            cluster = (request.get("ProcessingResources") or {}).get("ClusterConfig") or {}
            self._processing_runs(
                sched,
                "scheduled processing job",
                cluster.get("InstanceType"),
                cluster.get("InstanceCount"),
                (request.get("StoppingCondition") or {}).get("MaxRuntimeInSeconds"),
                sched.inputs.get("scheduleExpression", ""),
            )

    def _processing_runs(
        self,
        sched: RecordedResource,
        what: str,
        instance: str | None,
        count: Any,
        max_runtime_s: Any,
        expression: str,
    ) -> None:
        """Processing instance time of a job a schedule starts: runs/month × instances × run
        time, from the `monitoring_job_minutes` assumption up to the job's maximum runtime."""
        minutes = self.cfg.monitoring_job_minutes
        count = float(count or 1)
        max_s = float(max_runtime_s or DEFAULT_MONITORING_MAX_RUNTIME_S)
        runs = runs_per_month(expression)
        self.add(
            sched,
            f"{what} {instance} × {count:g}, {runs:.4g} runs/month",
            runs * count * min(minutes * 60, max_s) / 3600,
            runs * count * max_s / 3600,
            "instance-hour",
            f"sagemaker:processing:{instance}",
            assumption=self._alias("monitoring_job_minutes"),
            note=f"{expression}; {minutes:g} min typical to {max_s / 60:g} min max per run",
        )

    # -- network -------------------------------------------------------------------------
    def vpc_endpoints(self) -> None:
        for ep in self.of("aws:ec2/vpcEndpoint:VpcEndpoint"):
            if (ep.inputs.get("vpcEndpointType") or "Gateway") != "Interface":
                continue  # gateway endpoints (S3, DynamoDB) carry no charge
            azs = len(ep.inputs.get("subnetIds") or []) or 1
            service = str(ep.inputs.get("serviceName", "")).rsplit(".", 1)[-1]
            self.add(
                ep,
                f"interface endpoint {ep.inputs.get('serviceName', service)} in {azs} AZ(s)",
                azs * HOURS_PER_MONTH,
                azs * HOURS_PER_MONTH,
                "endpoint-AZ-hour",
                "vpc:interface-endpoint-az-hour",
            )
            self.add_assumed(
                ep,
                "interface endpoint data processed",
                "vpc_endpoint_gb_per_month",
                "GB",
                "vpc:interface-endpoint-gb",
            )

    # -- KMS -----------------------------------------------------------------------------
    def kms_keys(self) -> None:
        for key in self.of("aws:kms/key:Key", "aws:kms/replicaKey:ReplicaKey"):
            self.add(key, "KMS key", 1, 1, "key-month", "kms:key-month")
            if key.inputs.get("enableKeyRotation"):
                period = key.inputs.get("rotationPeriodInDays") or 365
                self.add(
                    key,
                    "KMS automatic rotation (rotated backing keys)",
                    0,
                    2,
                    "rotated backing key-month",
                    "kms:rotation-month",
                    note=f"rotates every {period:g} days: none in the first period, at most 2 charged "
                    "(later rotations are free)",
                )

    # -- CloudWatch ----------------------------------------------------------------------
    def alarms(self) -> None:
        for alarm in self.of("aws:cloudwatch/metricAlarm:MetricAlarm"):
            metrics, high_res, anomaly = alarm_metrics(alarm.inputs)
            key = (
                "cloudwatch:alarm-metric-high-resolution" if high_res else "cloudwatch:alarm-metric"
            )
            kind = "anomaly-detection alarm" if anomaly else "metric alarm"
            self.add(
                alarm,
                f"{'high-resolution ' if high_res else ''}{kind}, {metrics} metric(s)",
                metrics,
                metrics,
                "alarm metric-month",
                key,
            )
        for alarm in self.of("aws:cloudwatch/compositeAlarm:CompositeAlarm"):
            self.add(alarm, "composite alarm", 1, 1, "alarm-month", "cloudwatch:composite-alarm")
        for dash in self.of("aws:cloudwatch/dashboard:Dashboard"):
            self.add(dash, "CloudWatch dashboard", 1, 1, "dashboard-month", "cloudwatch:dashboard")

    def log_groups(self) -> None:
        flow_groups: set[str] = set()
        for fl in self.of("aws:ec2/flowLog:FlowLog"):
            dest = str(fl.inputs.get("logDestination") or "")
            if fl.inputs.get("logGroupName"):
                flow_groups.add(str(fl.inputs["logGroupName"]))
            elif ":log-group:" in dest:
                flow_groups.add(dest.split(":log-group:", 1)[1].removesuffix(":*"))
            elif dest:
                self.notes.append(
                    f"flow log {fl.name} delivers to {dest.split(':')[2] or 'S3'}: not priced"
                )
        for group in self.of("aws:cloudwatch/logGroup:LogGroup"):
            name = str(group.inputs.get("name") or group.outputs.get("name") or group.name)
            what, assumption, key = (
                ("VPC flow logs ingested", "flow_log_gb_per_month", "logs:vended-ingestion-gb")
                if name in flow_groups
                else ("logs ingested", "log_ingestion_gb_per_group", "logs:ingestion-gb")
            )
            gb = self.add_assumed(group, what, assumption, "GB", key)
            days = group.inputs.get("retentionInDays")
            months = (float(days) / DAYS_PER_MONTH) if days else 12.0
            note = (
                f"steady state: {gb:g} GB/month kept {float(days):g} days"
                if days
                else "never expires: storage after 12 months shown (it keeps growing)"
            )
            self.add(
                group,
                "logs stored",
                gb * months,
                gb * months,
                "GB-month",
                "logs:storage-gb-month",
                assumption=self._alias(assumption),
                note=note,
            )

    # -- CloudTrail ------------------------------------------------------------------------
    def trails(self) -> None:
        for trail in self.of("aws:cloudtrail/trail:Trail"):
            self.add(
                trail,
                "management events, first copy",
                0,
                0,
                "copy",
                None,
                unit_price=0.0,
                note="free as the account's first management-event trail; each further copy costs "
                f"{money(self.table.get('cloudtrail:management-copy-100k').usd)} per 100,000 events",
            )
            if has_data_events(trail.inputs):
                self.add_assumed(
                    trail,
                    "data events",
                    "cloudtrail_data_events_per_month",
                    "100,000 events",
                    "cloudtrail:data-events-100k",
                    per=100_000,
                )

    # -- S3, SNS -------------------------------------------------------------------------
    def buckets(self) -> None:
        for b in self.of("aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2"):
            self.add_assumed(
                b,
                "S3 Standard storage",
                "s3_storage_gb_per_bucket",
                "GB-month",
                "s3:standard-gb-month",
            )

    def sns(self) -> None:
        for sub in self.of("aws:sns/topicSubscription:TopicSubscription"):
            if sub.inputs.get("protocol") not in ("email", "email-json"):
                continue
            self.add_assumed(
                sub,
                "SNS e-mail notifications",
                "sns_notifications_per_month",
                "100,000 notifications",
                "sns:email-100k",
                per=100_000,
                note="the first 1,000 e-mails a month are in the AWS free tier (not deducted)",
            )

    # -- Bedrock -------------------------------------------------------------------------
    def bedrock(self) -> None:
        models: dict[str, RecordedResource] = {}
        for r in self.customs:
            if not (r.type.startswith("aws:ec2/vpcEndpoint") or r.type.startswith("aws:iam/")):
                continue
            for model in _FOUNDATION_MODEL.findall(json.dumps(r.inputs, default=str)):
                models.setdefault(model, r)
        anchor = next(iter(self.of("aws:bedrock/guardrail:Guardrail")), None)
        for model, found_on in sorted(models.items()):
            res = anchor or found_on
            for direction, assumption in (
                ("input", "bedrock_input_tokens_per_month"),
                ("output", "bedrock_output_tokens_per_month"),
            ):
                tokens = getattr(self.cfg, assumption)
                key = f"bedrock:{model}:{direction}-1k-tokens"
                if not self.table.has(key):
                    if tokens:
                        self.table.get(key)  # raises: a usage to price, and no price
                    self.notes.append(
                        f"Bedrock {model}: no {direction} price in the table (usage 0)"
                    )
                    continue
                self.add_assumed(
                    res,
                    f"Bedrock {model} {direction} tokens",
                    assumption,
                    "1,000 tokens",
                    key,
                    per=1000,
                    note="" if tokens else "usage unknown: default 0 (set the assumption)",
                )

    # -- Kubernetes ------------------------------------------------------------------------
    def kubernetes(self) -> None:
        hpas: dict[tuple[str, str], RecordedResource] = {}
        for h in self.of("kubernetes:autoscaling/v2:HorizontalPodAutoscaler"):
            ref = (h.inputs.get("spec") or {}).get("scaleTargetRef") or {}
            if ref.get("kind") == "Deployment":
                ns = (h.inputs.get("metadata") or {}).get("namespace", "default")
                hpas[(ns, ref.get("name"))] = h
        vcpu_price, gpu_price = self.cfg.eks.vcpu_hour_usd, self.cfg.eks.gpu_hour_usd
        for dep in self.of("kubernetes:apps/v1:Deployment"):
            meta = dep.inputs.get("metadata") or {}
            spec = dep.inputs.get("spec") or {}
            hpa = hpas.get((meta.get("namespace", "default"), meta.get("name")))
            if hpa is not None:
                hs = hpa.inputs.get("spec") or {}
                lo, hi = float(hs.get("minReplicas", 1)), float(hs.get("maxReplicas", 1))
            else:
                lo = hi = float(spec.get("replicas", 1))
            cpu, gpu = pod_requests(spec)
            for what, per_pod, price, key in (
                ("vCPU", cpu, vcpu_price, "cost.eks.vcpuHourUsd"),
                ("GPU", gpu, gpu_price, "cost.eks.gpuHourUsd"),
            ):
                if not per_pod:
                    continue
                self.add(
                    dep,
                    f"EKS node share: {per_pod:g} {what}/pod × {span(lo, hi)} pods",
                    lo * per_pod * HOURS_PER_MONTH,
                    hi * per_pod * HOURS_PER_MONTH,
                    f"{what}-hour",
                    None,
                    unit_price=price,
                    note=""
                    if price is not None
                    else f"not priced: set {self.rec.project}:{key} (the cluster is not in this stack)",
                )


_FOUNDATION_MODEL = re.compile(r"foundation-model/([A-Za-z0-9._:-]+?)(?=[\\\"'*,\]\s]|$)")


def _name(r: RecordedResource) -> str:
    return str(r.inputs.get("name") or r.outputs.get("name") or r.name)


def alarm_metrics(inputs: dict[str, Any]) -> tuple[int, bool, bool]:
    """(alarm metrics billed, high resolution?, anomaly detection?) for a metric alarm's inputs.

    CloudWatch pricing: a metric-math alarm is billed per metric it reads; an
    anomaly-detection alarm as 3 metrics (the metric, and the band's upper and
    lower bound); a period under 60 s is a high-resolution alarm.
    """
    queries = inputs.get("metricQueries") or []
    if not queries:
        period = float(inputs.get("period") or 60)
        return 1, period < 60, False
    expressions = " ".join(str(q.get("expression") or "") for q in queries)
    reads = [q for q in queries if q.get("metric")]
    periods = [float((q.get("metric") or {}).get("period") or 60) for q in reads]
    high_res = any(p < 60 for p in periods)
    if "ANOMALY_DETECTION_BAND" in expressions:
        return 3 * max(len(reads), 1), high_res, True
    return max(len(reads), 1), high_res, False


def has_data_events(inputs: dict[str, Any]) -> bool:
    """Whether a trail's event selectors record data events."""
    for sel in inputs.get("advancedEventSelectors") or []:
        for f in sel.get("fieldSelectors") or []:
            if f.get("field") == "eventCategory" and "Data" in (f.get("equals") or []):
                return True
    return any(s.get("dataResources") for s in inputs.get("eventSelectors") or [])


def _count_field(field_: str, lo: int, hi: int) -> float:
    """How many values of [lo, hi] a cron field matches (`*`, `?`, `a`, `a-b`, `a/n`, `*/n`, lists)."""
    total = 0.0
    for part in field_.split(","):
        base, _, step = part.partition("/")
        n = int(step) if step else 1
        if base in ("*", "?"):
            start, end = lo, hi
        elif "-" in base:
            a, b = base.split("-", 1)
            start, end = int(a), int(b)
        else:
            start = int(base)
            end = hi if step else start
        if not (lo <= start <= end <= hi) or n < 1:
            raise ValueError(part)
        total += math.floor((end - start) / n) + 1
    return total


def runs_per_month(expression: str) -> float:
    """Runs a month of a SageMaker schedule expression `cron(M H DOM MON DOW [Y])`.

    SageMaker monitoring schedules accept cron expressions (hourly, every N hours, daily);
    a month is 730 h = 30.42 days. Raises CostModelError for anything else.
    """
    m = re.fullmatch(r"\s*cron\((.*)\)\s*", expression or "")
    fields = m.group(1).split() if m else []
    if len(fields) not in (5, 6):
        raise CostModelError(f"cannot read the schedule expression {expression!r}")
    minute, hour, dom, _mon, dow = fields[:5]
    try:
        per_hour = _count_field(minute, 0, 59)
        per_day = _count_field(hour, 0, 23) * per_hour
        if dom not in ("*", "?"):
            days = _count_field(dom, 1, 31)  # those days of every month
        elif dow not in ("*", "?"):
            names = {
                d: i for i, d in enumerate(("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"), 1)
            }
            dow_n = re.sub(r"[A-Z]{3}", lambda d: str(names[d.group(0)]), dow.upper())
            days = _count_field(dow_n, 1, 7) * DAYS_PER_MONTH / 7
        else:
            days = DAYS_PER_MONTH
    except (ValueError, KeyError):
        raise CostModelError(f"cannot read the schedule expression {expression!r}") from None
    return per_day * days


def _quantity(value: Any) -> float:
    """A Kubernetes CPU/GPU quantity: "4", "500m", 2."""
    s = str(value).strip()
    if s.endswith("m"):
        return float(s[:-1]) / 1000
    return float(s)


def pod_requests(spec: dict[str, Any]) -> tuple[float, float]:
    """(vCPU, GPU) a Deployment's pod requests: the sum over its containers (init containers run first)."""
    pod = (spec.get("template") or {}).get("spec") or {}
    cpu = gpu = 0.0
    for c in pod.get("containers") or []:
        req = (c.get("resources") or {}).get("requests") or {}
        lim = (c.get("resources") or {}).get("limits") or {}
        if "cpu" in req:
            cpu += _quantity(req["cpu"])
        g = req.get("nvidia.com/gpu", lim.get("nvidia.com/gpu"))
        if g is not None:
            gpu += _quantity(g)
    return cpu, gpu


# -- comparison with a base report -------------------------------------------------------------


def load_base_cost(text: str, where: str) -> dict[str, Any]:
    """The `cost` section of a previous JSON report; ValueError saying what is wrong."""
    try:
        doc = json.loads(text)
    except ValueError as exc:
        raise ValueError(f"{where} is not JSON: {exc}") from None
    cost = doc.get("cost") if isinstance(doc, dict) else None
    if not isinstance(cost, dict) or "range" not in cost or "items" not in cost:
        raise ValueError(
            f"{where} has no cost estimate (a JSON report of `python -m regulated_inference.preview "
            "--format json` with a `cost` section)"
        )
    return cost


def _item_key(item: dict[str, Any]) -> tuple[str, str, str]:
    return (item.get("resourceType", ""), item.get("resourceName", ""), item.get("description", ""))


def compare(current: CostEstimate, base: dict[str, Any]) -> dict[str, Any]:
    """Differences against a base report's cost section: totals, per component, items added/removed."""
    cur = current.to_dict()
    delta = {k: round(cur["range"][k] - float(base["range"].get(k, 0)), 2) for k in ("min", "max")}
    base_comp = {c["component"]: c["monthly"] for c in base.get("components", [])}
    cur_comp = {c["component"]: c["monthly"] for c in cur["components"]}
    components = []
    for label in sorted(set(base_comp) | set(cur_comp)):
        b = base_comp.get(label, {"min": 0.0, "max": 0.0})
        c = cur_comp.get(label, {"min": 0.0, "max": 0.0})
        d = round(c["max"] - b["max"], 2)
        if d or (label in base_comp) != (label in cur_comp):
            components.append(
                {"component": label, "base": b["max"], "current": c["max"], "delta": d}
            )
    components.sort(key=lambda c: (-abs(c["delta"]), c["component"]))
    base_items = {_item_key(i): i for i in base.get("items", [])}
    cur_items = {_item_key(i): i for i in cur["items"]}
    return {
        "base": {"range": base["range"], "priceTableDate": base.get("priceTableDate")},
        "delta": delta,
        "components": components,
        # Most expensive first; equal prices by (type, name, description), so the report is the
        # same on every run (a set difference has no order).
        "itemsAdded": sorted(
            (cur_items[k] for k in cur_items.keys() - base_items.keys()),
            key=lambda i: (-i["monthly"]["max"], _item_key(i)),
        ),
        "itemsRemoved": sorted(
            (base_items[k] for k in base_items.keys() - cur_items.keys()),
            key=lambda i: (-i["monthly"]["max"], _item_key(i)),
        ),
    }


def signed(usd: float) -> str:
    return ("+" if usd > 0 else "−" if usd < 0 else "±") + money(abs(usd))


__all__: list[str] = [
    "CostEstimate",
    "CostItem",
    "CostModelError",
    "estimate",
    "compare",
    "load_base_cost",
    "money",
    "money_range",
    "signed",
    "span",
]
