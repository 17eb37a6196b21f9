"""Monitoring and safe rollout (M1-M7)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from typing import Any

from . import frameworks as fw
from .base import UNKNOWN, Finding, Res, as_list, cannot_verify, get, has, is_unknown, rule
from .iam_documents import action_matches
from .stack_index import StackIndex

MON = (fw.SOC2_MONITORING, fw.ISO_MONITORING, fw.AIACT_MONITORING)
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
ENDPOINT = "aws:sagemaker/endpoint:Endpoint"
ENDPOINT_CONFIG = "aws:sagemaker/endpointConfiguration:EndpointConfiguration"
GUARDRAIL = "aws:bedrock/guardrail:Guardrail"
SCALABLE_TARGET = "aws:appautoscaling/target:Target"
SCHEDULED_ACTION = "aws:appautoscaling/scheduledAction:ScheduledAction"
_VARIANT_DIMENSION = "sagemaker:variant:DesiredInstanceCount"


@rule(
    name="cloudwatch-alarm-actions",
    severity="medium",
    controls=("M1",),
    frameworks=MON,
    types=(ALARM, "aws:cloudwatch/compositeAlarm:CompositeAlarm"),
    dev_advisory=True,
    remediation="Set alarm_actions to the stack's encrypted SNS alert topic and keep actions_enabled=True.",
)
def alarm_actions(r: Res, cfg: dict):
    """Alarms notify someone: they have actions, and actions are enabled."""
    actions = get(r.props, "alarmActions")
    if is_unknown(actions):
        pass  # set, value pending
    elif not [a for a in as_list(actions) if is_unknown(a) or (isinstance(a, str) and a.strip())]:
        yield "alarmActions is empty: nobody is notified"
    enabled = get(r.props, "actionsEnabled")
    if is_unknown(enabled):
        yield cannot_verify("actionsEnabled")
    elif enabled is False or (isinstance(enabled, str) and enabled.lower() == "false"):
        yield "actionsEnabled is false"


def _strings(obj: Any, out: set[str]) -> None:
    if isinstance(obj, str):
        out.add(obj)
    elif isinstance(obj, dict):
        for v in obj.values():
            _strings(v, out)
    elif isinstance(obj, list):
        for v in obj:
            _strings(v, out)


def _alarm_metrics(a: Res) -> Iterator[tuple[Any, dict]]:
    """(metricName, dimensions) of an alarm, including metric-math queries."""
    yield get(a.props, "metricName"), get(a.props, "dimensions") or {}
    for q in get(a.props, "metricQueries") or []:
        yield get(q, "metric.metricName"), get(q, "metric.dimensions") or {}


class EndpointAlarms:
    """Alarms per endpoint (by an EndpointName-like dimension, or by depending on the endpoint), built once."""

    def __init__(self, stack: StackIndex):
        self.endpoints = stack.of_type(ENDPOINT)
        by_name: dict[str, Res] = {}
        for e in self.endpoints:
            n = get(e.props, "name")
            if isinstance(n, str):
                by_name[n] = e
        self.metrics: dict[str, list[str]] = defaultdict(list)
        self.unknown: set[str] = set()
        #: an alarm whose dimensions are unknown (preview) and that names no endpoint by dependency:
        #: it may belong to any endpoint, so a missing alarm cannot be asserted
        self.unattributed_unknown = False
        for a in stack.of_type(ALARM):
            targets: set[str] = {
                d for d in a.dependencies if d in stack.by_urn and stack.by_urn[d].type == ENDPOINT
            }
            names: list[Any] = []
            dims_unknown = False
            for metric, dims in _alarm_metrics(a):
                names.append(metric)
                if is_unknown(dims):
                    dims_unknown = True
                    continue
                for v in dims.values() if isinstance(dims, dict) else []:
                    if is_unknown(v):
                        dims_unknown = True
                    elif isinstance(v, str) and v in by_name:
                        targets.add(by_name[v].urn)
            if dims_unknown and not targets:
                self.unattributed_unknown = True
            for t in targets:
                for n in names:
                    if is_unknown(n):
                        self.unknown.add(t)
                    elif isinstance(n, str):
                        self.metrics[t].append(n)

    def undecidable(self, endpoint: Res) -> bool:
        return (
            endpoint.urn in self.unknown
            or self.unattributed_unknown
            or is_unknown(get(endpoint.props, "name"))
        )


LATENCY = ("ModelLatency", "OverheadLatency")
ERRORS = ("Invocation5XXErrors", "Invocation4XXErrors", "InvocationModelErrors")


@rule(
    name="sagemaker-endpoint-operational-alarms",
    kind="stack",
    severity="high",
    controls=("M2",),
    frameworks=(*MON, fw.SOC2_AVAILABILITY),
    remediation="Create ModelLatency and Invocation5XXErrors/4XXErrors alarms with the EndpointName dimension.",
)
def endpoint_operational_alarms(stack: StackIndex, cfg: dict):
    """Every endpoint has latency and error alarms."""
    ea = EndpointAlarms(stack)
    for e in ea.endpoints:
        have = set(ea.metrics.get(e.urn, ()))
        for label, group in (("latency", LATENCY), ("error", ERRORS)):
            if not have & set(group):
                if ea.undecidable(e):
                    yield cannot_verify("alarm metric/dimensions", e.urn, f"{label} alarm")
                else:
                    yield Finding(
                        f"endpoint {e.name} has no {label} alarm ({' / '.join(group)})", e.urn
                    )


@rule(
    name="model-quality-alarms",
    kind="stack",
    severity="high",
    controls=("M3",),
    frameworks=(*MON, fw.AIACT_ROBUSTNESS),
    config_schema={
        "requiredSignals": {
            "type": "object",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
            "description": "Quality signal -> metric-name patterns (case-insensitive) that evidence it.",
            "default": {
                "hallucination": ["*hallucination*", "*grounding*", "*faithfulness*"],
                "bias": ["*bias*", "*fairness*"],
                "drift": ["*drift*", "feature_baseline_drift_*"],
            },
        }
    },
    remediation="Publish quality metrics (hallucination rate, bias, drift) and alarm on them per endpoint.",
)
def quality_alarms(stack: StackIndex, cfg: dict):
    """Every endpoint has quality alarms (hallucination, bias, drift) beyond uptime."""
    ea = EndpointAlarms(stack)
    for e in ea.endpoints:
        have = ea.metrics.get(e.urn, [])
        for signal, patterns in cfg["requiredSignals"].items():
            if not any(action_matches(p, m) for p in patterns for m in have):
                if ea.undecidable(e):
                    yield cannot_verify("alarm metric/dimensions", e.urn, f"{signal} alarm")
                else:
                    yield Finding(f"endpoint {e.name} has no {signal} alarm", e.urn)


@rule(
    name="sagemaker-model-monitor-schedule",
    kind="stack",
    severity="medium",
    controls=("M4",),
    frameworks=(*MON, fw.AIACT_ROBUSTNESS),
    remediation="Add a data-quality job definition for the endpoint and an aws.sagemaker.MonitoringSchedule.",
)
def monitor_schedule(stack: StackIndex, cfg: dict):
    """Every endpoint has a Model Monitor schedule."""
    endpoints = stack.of_type(ENDPOINT)
    if not endpoints:
        return
    jobs_by_name: dict[str, set[str]] = {}
    for j in stack.of_type("aws:sagemaker/dataQualityJobDefinition:DataQualityJobDefinition"):
        n = get(j.props, "name")
        target = get(j.props, "dataQualityJobInput.endpointInput.endpointName")
        if isinstance(n, str) and isinstance(target, str):
            jobs_by_name.setdefault(n, set()).add(target)
    monitored: set[str] = set()
    unknown = False
    for s in stack.of_type("aws:sagemaker/monitoringSchedule:MonitoringSchedule"):
        c = get(s.props, "monitoringScheduleConfig")
        if is_unknown(c):
            unknown = True
            continue
        strings: set[str] = set()
        _strings(c, strings)
        monitored |= strings
        job = get(c, "monitoringJobDefinitionName")
        if isinstance(job, str):
            monitored |= jobs_by_name.get(job, set())
    for e in endpoints:
        name = get(e.props, "name")
        if isinstance(name, str) and name in monitored:
            continue
        if unknown or is_unknown(name):
            yield cannot_verify("monitoringScheduleConfig", e.urn)
        else:
            yield Finding(f"endpoint {e.name} has no Model Monitor schedule", e.urn)


@rule(
    name="sagemaker-multi-instance",
    severity="medium",
    controls=("M5",),
    frameworks=(fw.SOC2_AVAILABILITY, fw.ISO_REDUNDANCY),
    types=(ENDPOINT_CONFIG, SCALABLE_TARGET, SCHEDULED_ACTION),
    config_schema={
        "minInstances": {
            "type": "integer",
            "minimum": 1,
            "description": "Minimum initial instance count per production variant.",
            "default": 2,
        }
    },
    remediation="Set initial_instance_count to at least the minimum so the variant spans Availability Zones.",
)
def multi_instance(r: Res, cfg: dict):
    """Production variants run enough instances to survive an instance or AZ failure, and nothing
    (autoscaling targets, scheduled actions, managed instance scaling) scales them below that."""
    least = cfg["minInstances"]
    if r.type in (SCALABLE_TARGET, SCHEDULED_ACTION):
        yield from _scaling_floor(r, least)
        return
    variants = get(r.props, "productionVariants")
    if is_unknown(variants):
        yield cannot_verify("productionVariants")
        return
    for i, v in enumerate(variants or []):
        if has(v, "serverlessConfig"):
            continue
        n = get(v, "initialInstanceCount")
        if is_unknown(n):
            yield cannot_verify(f"productionVariants[{i}].initialInstanceCount")
        elif n is None or not isinstance(n, (int, float)) or n < least:
            yield f"productionVariants[{i}].initialInstanceCount is {n}, minimum {least}"
        mis = get(v, "managedInstanceScaling")
        status = get(mis, "status")
        low = get(mis, "minInstanceCount")
        if is_unknown(status) or is_unknown(low):
            yield cannot_verify(f"productionVariants[{i}].managedInstanceScaling")
        elif (
            isinstance(status, str)
            and status.upper() == "ENABLED"
            and (not isinstance(low, (int, float)) or low < least)
        ):
            # SageMaker ProductionVariantManagedInstanceScaling: MinInstanceCount may be 0
            yield (
                f"productionVariants[{i}].managedInstanceScaling.minInstanceCount is {low}, "
                f"minimum {least}: managed scaling can shrink the variant below it"
            )


def _scaling_floor(r: Res, least: int):
    """Application Auto Scaling of a SageMaker variant (`serviceNamespace` sagemaker, dimension
    `sagemaker:variant:DesiredInstanceCount`, `resourceId` endpoint/<name>/variant/<variant>):
    the target's `minCapacity` and a scheduled action's `scalableTargetAction.minCapacity` are floors."""
    ns, dim, rid = (
        get(r.props, k) for k in ("serviceNamespace", "scalableDimension", "resourceId")
    )
    if any(is_unknown(x) for x in (ns, dim)):
        yield cannot_verify("scalableDimension")
        return
    if not (
        (isinstance(ns, str) and ns.lower() == "sagemaker")
        or (isinstance(dim, str) and dim.lower() == _VARIANT_DIMENSION.lower())
    ):
        return
    if isinstance(dim, str) and dim.lower() != _VARIANT_DIMENSION.lower():
        return  # inference components or other dimensions
    path = "minCapacity" if r.type == SCALABLE_TARGET else "scalableTargetAction.minCapacity"
    low = get(r.props, path)
    what = rid if isinstance(rid, str) else "the variant"
    if is_unknown(low):
        yield cannot_verify(path)
    elif low is None and r.type == SCHEDULED_ACTION:
        return  # the action does not change the floor
    elif not isinstance(low, (int, float)) or low < least:
        yield f"{path} is {low} for {what}, minimum {least}: autoscaling can shrink the variant below it"


@rule(
    name="sagemaker-safe-deployment",
    severity="high",
    controls=("M6",),
    frameworks=(fw.SOC2_CHANGE, fw.ISO_CHANGE, fw.AIACT_ROBUSTNESS),
    types=(ENDPOINT,),
    config_schema={
        "allowedTrafficRouting": {
            "type": "array",
            "items": {"type": "string", "enum": ["ALL_AT_ONCE", "CANARY", "LINEAR"]},
            "description": "Blue/green traffic-routing types accepted.",
            "default": ["CANARY", "LINEAR"],
        }
    },
    remediation="Set deployment_config.blue_green_update_policy (CANARY ≤ 50% or LINEAR 10-50% steps) and "
    "auto_rollback_configuration.alarms with the endpoint's error/latency alarms.",
)
def safe_deployment(r: Res, cfg: dict):
    """Endpoints update by blue/green canary or linear shifting with automatic rollback on alarms."""
    dc = get(r.props, "deploymentConfig")
    if is_unknown(dc):
        yield cannot_verify("deploymentConfig")
        return
    if not dc:
        yield "deploymentConfig is not set: updates shift all traffic at once with no rollback"
        return
    trc = get(dc, "blueGreenUpdatePolicy.trafficRoutingConfiguration")
    kind = (
        get(trc, "type")
        if trc is not None and not is_unknown(trc)
        else (UNKNOWN if is_unknown(trc) else None)
    )
    if is_unknown(kind):
        yield cannot_verify(
            "deploymentConfig.blueGreenUpdatePolicy.trafficRoutingConfiguration.type"
        )
    elif kind not in cfg["allowedTrafficRouting"]:
        yield f"traffic routing is {kind or 'not blue/green'}, allowed: {cfg['allowedTrafficRouting']}"
    elif kind == "CANARY":
        size = get(trc, "canarySize")
        if size is None:
            yield "CANARY without canarySize"
        elif (
            get(size, "type") == "CAPACITY_PERCENT"
            and isinstance(get(size, "value"), (int, float))
            and get(size, "value") > 50
        ):
            yield f"canary size {get(size, 'value')}% exceeds 50%"
    elif kind == "LINEAR":
        step = get(trc, "linearStepSize")
        if step is None:
            yield "LINEAR without linearStepSize"
        elif (
            get(step, "type") == "CAPACITY_PERCENT"
            and isinstance(get(step, "value"), (int, float))
            and not 10 <= get(step, "value") <= 50
        ):
            yield f"linear step {get(step, 'value')}% is outside 10-50%"
    alarms = get(dc, "autoRollbackConfiguration.alarms")
    if is_unknown(alarms):
        yield cannot_verify("deploymentConfig.autoRollbackConfiguration.alarms")
    elif not [
        a
        for a in as_list(alarms)
        if is_unknown(a)
        or is_unknown(get(a, "alarmName"))
        or (isinstance(get(a, "alarmName"), str) and get(a, "alarmName").strip())
    ]:
        # an entry without an alarm name watches nothing
        yield "deploymentConfig.autoRollbackConfiguration.alarms is empty: a bad model is not rolled back"


def _guardrail_problems(g: Res) -> Iterator[str | Finding]:
    filters = get(g.props, "contentPolicyConfig.filtersConfigs")
    if is_unknown(filters):
        yield cannot_verify("contentPolicyConfig.filtersConfigs")
    else:
        prompt = [f for f in filters or [] if get(f, "type") == "PROMPT_ATTACK"]
        if not prompt:
            yield "no PROMPT_ATTACK content filter"
        elif all(get(f, "inputStrength") in (None, "NONE") for f in prompt):
            yield "PROMPT_ATTACK filter has inputStrength NONE"
    pii = get(g.props, "sensitiveInformationPolicyConfig")
    if is_unknown(pii):
        yield cannot_verify("sensitiveInformationPolicyConfig")
    elif not has(pii, "piiEntitiesConfigs") and not has(pii, "regexesConfigs"):
        yield "no sensitive-information (PII) filter"


@rule(
    name="bedrock-guardrail-filters",
    severity="high",
    controls=("M7",),
    frameworks=(fw.AIACT_ROBUSTNESS, fw.GDPR_BY_DESIGN, fw.ISO_DLP),
    types=(GUARDRAIL,),
    remediation="Add a PROMPT_ATTACK content filter (input strength HIGH) and PII entity filters "
    "(BLOCK or ANONYMIZE) to the guardrail.",
)
def guardrail_filters(r: Res, cfg: dict):
    """Bedrock guardrails filter prompt attacks and PII."""
    yield from _guardrail_problems(r)


@rule(
    name="bedrock-guardrail-present",
    kind="stack",
    severity="high",
    controls=("M7",),
    frameworks=(fw.AIACT_ROBUSTNESS, fw.GDPR_BY_DESIGN),
    remediation="Create an aws.bedrock.Guardrail and make callers pass its id/version.",
)
def guardrail_present(stack: StackIndex, cfg: dict):
    """A stack that uses Bedrock has a guardrail."""
    used = [
        r
        for r in stack.of_prefix("aws:bedrock")
        if r.type != GUARDRAIL and "guardrail" not in r.type.lower()
    ]
    if used and not stack.of_type(GUARDRAIL):
        yield Finding("Bedrock is used but the stack has no guardrail")


RULES = [
    alarm_actions,
    endpoint_operational_alarms,
    quality_alarms,
    monitor_schedule,
    multi_instance,
    safe_deployment,
    guardrail_filters,
    guardrail_present,
]
