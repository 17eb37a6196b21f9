"""Monitoring and safe rollout (M1-M7): alarms with actions, SageMaker and Bedrock alarms, drift, rollout."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterator
from typing import Any

from .base import (
    UNKNOWN,
    Finding,
    Res,
    as_list,
    cannot_verify,
    get,
    has,
    is_unknown,
    parse_json,
    rule,
    string_list,
)
from .checks import expect, known_value
from .iam import IDENTITY_POLICY_TYPES, identity_documents
from .iam_documents import DocumentError, action_matches, statements
from .stack_index import StackIndex

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
    yield from expect(
        r.props,
        "actionsEnabled",
        lambda enabled: not _false(enabled),
        "actionsEnabled is false",
    )


def _false(flag: Any) -> bool:
    """An alarm flag that is off: False, or the string "false" (any case)."""
    return flag is False or (isinstance(flag, str) and flag.lower() == "false")


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


MONITORING_SCHEDULE = "aws:sagemaker/monitoringSchedule:MonitoringSchedule"
SCHEDULER_SCHEDULE = "aws:scheduler/schedule:Schedule"
#: Where SageMaker Model Monitor publishes drift (SageMaker developer guide, "Model Monitor
#: CloudWatch metrics"): `feature_baseline_drift_<feature>` {Endpoint, MonitoringSchedule}.
MODEL_MONITOR_NAMESPACE = "aws/sagemaker/Endpoints/data-metrics"
DRIFT_METRIC_PREFIX = "feature_baseline_drift_"
#: EventBridge Scheduler universal target of SageMaker CreateProcessingJob (Scheduler user
#: guide, "Using universal targets": arn:aws:scheduler:::aws-sdk:<service>:<apiAction>).
CREATE_PROCESSING_JOB_TARGET = "aws-sdk:sagemaker:createprocessingjob"
#: Missing-data policies that read silence as "all is well" (PutMetricAlarm TreatMissingData).
SILENCE_IS_OK = ("notbreaching", "ignore")


def notifies(a: Res) -> bool | Any:
    """The alarm notifies someone (non-empty, enabled actions); UNKNOWN if that is not known."""
    actions, enabled = get(a.props, "alarmActions"), get(a.props, "actionsEnabled")
    if is_unknown(enabled) or _false(enabled):
        return UNKNOWN if is_unknown(enabled) else False
    if is_unknown(actions):
        return UNKNOWN
    return any(is_unknown(x) or (isinstance(x, str) and x.strip()) for x in as_list(actions))


def alarm_series(a: Res) -> Iterator[tuple[Any, Any, Any]]:
    """(namespace, metricName, dimensions) of each metric an alarm reads, math queries included."""
    if has(a.props, "metricName"):
        yield (
            get(a.props, "namespace"),
            get(a.props, "metricName"),
            get(a.props, "dimensions") or {},
        )
    queries = get(a.props, "metricQueries")
    for q in [] if is_unknown(queries) else queries or []:
        if has(q, "metric"):
            yield (
                get(q, "metric.namespace"),
                get(q, "metric.metricName"),
                get(q, "metric.dimensions") or {},
            )


def watching(
    stack: StackIndex,
    namespaces: tuple[str, ...] | list[str],
    metrics: tuple[str, ...] | Any,
    dims: dict[str, Any] | Callable[[dict], bool] | None,
    *,
    silence: str = "any",
) -> bool | Any:
    """Whether a notifying alarm of the stack reads one of `metrics` in one of `namespaces` with
    exactly the dimensions `dims` (None: any; or a predicate). `metrics` may be a predicate. `silence`: "any";
    "not-ok" — the alarm must not read missing data as good news (notBreaching, ignore);
    "breaching" — a heartbeat: missing data must breach. UNKNOWN when an alarm that could be
    the one has unknown parts."""
    unknown = False
    wanted = metrics if callable(metrics) else (lambda m: m in metrics)
    for a in stack.of_type(ALARM):
        for ns, metric, d in alarm_series(a):
            if any(is_unknown(x) for x in (ns, metric, d)):
                unknown = True
                continue
            if ns not in namespaces or not isinstance(metric, str) or not wanted(metric):
                continue
            if dims is not None:
                if not isinstance(d, dict):
                    continue
                if any(is_unknown(v) for v in d.values()):
                    unknown = True
                    continue
                if not (dims(d) if callable(dims) else d == dims):
                    continue
            ok = notifies(a)
            missing = get(a.props, "treatMissingData")
            if is_unknown(ok) or is_unknown(missing):
                unknown = True
                continue
            # CloudWatch's default TreatMissingData is "missing" (PutMetricAlarm API reference).
            missing = missing.lower() if isinstance(missing, str) and missing else "missing"
            if not ok:
                continue
            if silence == "breaching" and missing != "breaching":
                continue
            if silence == "not-ok" and missing in SILENCE_IS_OK:
                continue
            return True
    return UNKNOWN if unknown else False


def _drift_sources(stack: StackIndex) -> tuple[dict[str, list[tuple[str, Any]]], bool]:
    """Endpoint name → [(kind, schedule name)] of its drift sources, and whether some source
    could not be read (preview). A Model Monitor schedule is attributed to an endpoint by its
    config or its data-quality job definition; an EventBridge Scheduler schedule that starts a
    SageMaker Processing job, by the endpoint's name in the job request it sends."""
    jobs_by_name: dict[str, set[str]] = {}
    for j in stack.of_type("aws:sagemaker/dataQualityJobDefinition:DataQualityJobDefinition"):
        n = get(j.props, "name")
        target = get(j.props, "dataQualityJobInput.endpointInput.endpointName")
        if isinstance(n, str) and isinstance(target, str):
            jobs_by_name.setdefault(n, set()).add(target)
    sources: dict[str, list[tuple[str, Any]]] = defaultdict(list)
    unknown = False
    for s in stack.of_type(MONITORING_SCHEDULE):
        c = get(s.props, "monitoringScheduleConfig")
        if is_unknown(c):
            unknown = True
            continue
        strings: set[str] = set()
        _strings(c, strings)
        job = get(c, "monitoringJobDefinitionName")
        if isinstance(job, str):
            strings |= jobs_by_name.get(job, set())
        for name in strings:
            sources[name].append(("model-monitor", get(s.props, "name")))
    for s in stack.of_type(SCHEDULER_SCHEDULE):
        arn, state, body = (get(s.props, k) for k in ("target.arn", "state", "target.input"))
        if any(is_unknown(x) for x in (arn, state)):
            unknown = True
            continue
        if not (isinstance(arn, str) and arn.lower().endswith(CREATE_PROCESSING_JOB_TARGET)):
            continue
        if isinstance(state, str) and state.upper() == "DISABLED":
            continue  # a disabled schedule starts nothing
        request = parse_json(body)
        if is_unknown(request):
            unknown = True
            continue
        strings = set()
        _strings(request, strings)
        for name in strings:
            sources[name].append(("processing-job", get(s.props, "name")))
    return sources, unknown


@rule(
    name="sagemaker-model-monitor-schedule",
    kind="stack",
    severity="medium",
    controls=("M4",),
    config_schema={
        "processingJobDriftNamespaces": string_list(
            "Namespaces a scheduled processing-job drift check publishes "
            "feature_baseline_drift_* into (Model Monitor's own is aws/sagemaker/Endpoints/data-metrics).",
            ["RegulatedInference/ModelDrift"],
        )
    },
    remediation="Give the endpoint a drift source — an EventBridge Scheduler schedule starting a "
    "SageMaker Processing drift job (any account), or a Model Monitor data-quality schedule — and an "
    "alarm with actions on its feature_baseline_drift_* metrics (dimensions Endpoint, "
    "MonitoringSchedule = the source's name), missing data breaching or notified.",
)
def monitor_schedule(stack: StackIndex, cfg: dict):
    """Every endpoint has a drift source (a Model Monitor schedule or a scheduled processing-job
    drift check) and a drift alarm fed by it."""
    endpoints = stack.of_type(ENDPOINT)
    if not endpoints:
        return
    sources, unknown = _drift_sources(stack)
    job_namespaces = tuple(cfg["processingJobDriftNamespaces"])
    for e in endpoints:
        name = get(e.props, "name")
        mine = sources.get(name, []) if isinstance(name, str) else []
        if not mine:
            if unknown or is_unknown(name):
                yield cannot_verify("drift source", e.urn)
            else:
                yield Finding(
                    f"endpoint {e.name} has no drift source (Model Monitor schedule or scheduled "
                    "processing-job drift check)",
                    e.urn,
                )
            continue
        fed: list[Any] = []
        for kind, schedule in mine:
            if is_unknown(schedule):
                fed.append(UNKNOWN)
                continue
            if not isinstance(schedule, str):
                fed.append(False)  # a nameless source: no alarm can name it
                continue
            namespaces = (MODEL_MONITOR_NAMESPACE,) if kind == "model-monitor" else job_namespaces
            fed.append(
                watching(
                    stack,
                    namespaces,
                    lambda m: m.startswith(DRIFT_METRIC_PREFIX),
                    {"Endpoint": name, "MonitoringSchedule": schedule},
                    silence="not-ok",  # a check that did not run is no evidence of no drift
                )
            )
        if any(f is True for f in fed):
            continue
        if any(is_unknown(f) for f in fed):
            yield cannot_verify("drift alarm", e.urn)
        else:
            names = ", ".join(sorted(str(s) for _, s in mine))
            yield Finding(
                f"endpoint {e.name} has no drift alarm fed by its drift source ({names}): an alarm "
                f"with actions on {DRIFT_METRIC_PREFIX}* {{Endpoint={name}, MonitoringSchedule="
                "<source>} in the source's namespace, not treating missing data as OK",
                e.urn,
            )


@rule(
    name="sagemaker-multi-instance",
    severity="medium",
    controls=("M5",),
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
    variants = yield from known_value(r.props, "productionVariants")
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
    what = rid if isinstance(rid, str) else "the variant"
    yield from expect(
        r.props,
        path,
        # a scheduled action without minCapacity does not change the floor
        lambda low: (
            (low is None and r.type == SCHEDULED_ACTION)
            or (isinstance(low, (int, float)) and not low < least)
        ),
        lambda low: (
            f"{path} is {low} for {what}, minimum {least}: autoscaling can shrink the "
            "variant below it"
        ),
    )


#: blue/green traffic shifting -> (its step property, the accepted CAPACITY_PERCENT, the finding)
_SHIFT_STEPS: dict[str, tuple[str, Callable[[float], bool], str]] = {
    "CANARY": ("canarySize", lambda pct: not pct > 50, "canary size {}% exceeds 50%"),
    "LINEAR": ("linearStepSize", lambda pct: 10 <= pct <= 50, "linear step {}% is outside 10-50%"),
}


@rule(
    name="sagemaker-safe-deployment",
    severity="high",
    controls=("M6",),
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
    unset = "deploymentConfig is not set: updates shift all traffic at once with no rollback"
    dc = yield from known_value(r.props, "deploymentConfig", unset)
    if dc is None:
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
    elif kind in _SHIFT_STEPS:
        key, ok, too_big = _SHIFT_STEPS[kind]
        step = get(trc, key)
        pct = get(step, "value")
        if step is None:
            yield f"{kind} without {key}"
        elif (
            get(step, "type") == "CAPACITY_PERCENT"
            and isinstance(pct, (int, float))
            and not ok(pct)
        ):
            yield too_big.format(pct)
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


BEDROCK_NAMESPACE = "AWS/Bedrock"
GUARDRAILS_NAMESPACE = "AWS/Bedrock/Guardrails"
#: Per-model alarms (Bedrock user guide, "Monitor bedrock-runtime inference using CloudWatch
#: metrics": AWS/Bedrock, dimension ModelId): label → metrics that evidence it.
BEDROCK_MODEL_SIGNALS: dict[str, tuple[str, ...]] = {
    "latency": ("InvocationLatency",),
    "error": ("InvocationServerErrors",),
    "throttle": ("InvocationThrottles",),
}
_BEDROCK_MODEL_ARN = re.compile(
    r"^arn:[a-z-]+:bedrock:[a-z0-9-]*:[0-9]*:(foundation-model|inference-profile|"
    r"application-inference-profile)/(?P<id>[^/]+)$"
)
_INVOKE_ACTIONS = ("bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream")


def bedrock_models_granted(stack: StackIndex) -> tuple[set[str], bool]:
    """ModelIds that identity policies of the stack allow invoking (by model or profile ARN),
    and whether some policy could not be read. Wildcard ARNs name no model (I2 judges them)."""
    ids: set[str] = set()
    unknown = False
    for r in stack.of_type(*IDENTITY_POLICY_TYPES):
        for _, doc in identity_documents(r):
            try:
                sts = statements(doc)
            except DocumentError:
                continue  # I1/I2 report unparseable documents
            if is_unknown(sts):
                unknown = True
                continue
            for st in sts:
                if not st.allows or st.actions is None:
                    continue
                if not any(
                    is_unknown(a) or (isinstance(a, str) and action_matches(a, inv))
                    for a in st.actions
                    for inv in _INVOKE_ACTIONS
                ):
                    continue
                for arn in st.resources or []:
                    if is_unknown(arn):
                        unknown = True
                        continue
                    m = _BEDROCK_MODEL_ARN.match(arn) if isinstance(arn, str) else None
                    if m and "*" not in m["id"] and "?" not in m["id"]:
                        ids.add(m["id"])
    return ids, unknown


def bedrock_in_use(stack: StackIndex) -> bool:
    """A guardrail, invocation logging or any other Bedrock resource, or a grant on a model."""
    return bool(stack.of_prefix("aws:bedrock")) or bool(bedrock_models_granted(stack)[0])


@rule(
    name="bedrock-model-alarms",
    kind="stack",
    severity="high",
    controls=("M2",),
    remediation="Alarm (with actions) on AWS/Bedrock InvocationLatency, InvocationServerErrors and "
    "InvocationThrottles with the dimension ModelId = each model (or inference profile) the stack "
    "grants bedrock:InvokeModel on.",
)
def bedrock_model_alarms(stack: StackIndex, cfg: dict):
    """Every Bedrock model the stack may invoke has latency, error and throttle alarms."""
    ids, unknown = bedrock_models_granted(stack)
    if unknown:
        yield cannot_verify("Bedrock invoke grants", what="IAM policy")
    if not ids and stack.of_prefix("aws:bedrock"):
        per_model = watching(
            stack,
            (BEDROCK_NAMESPACE,),
            lambda m: m in {x for g in BEDROCK_MODEL_SIGNALS.values() for x in g},
            None,
        )
        if per_model is False and not unknown:
            yield Finding("Bedrock is used but no AWS/Bedrock invocation metric is alarmed")
    for mid in sorted(ids):
        for label, metrics in BEDROCK_MODEL_SIGNALS.items():
            yield from alarm_required(
                watching(stack, (BEDROCK_NAMESPACE,), metrics, {"ModelId": mid}),
                f"Bedrock model {mid} has no {label} alarm ({BEDROCK_NAMESPACE} "
                f"{' / '.join(metrics)}, ModelId={mid}, with actions)",
                None,
                f"{label} alarm of {mid}",
            )


@rule(
    name="bedrock-guardrail-alarms",
    kind="stack",
    severity="high",
    controls=("M7",),
    remediation="Alarm (with actions) on AWS/Bedrock/Guardrails InvocationServerErrors (requests the "
    "guardrail could not evaluate) and InvocationsIntervened, dimension GuardrailArn = the guardrail.",
)
def guardrail_alarms(stack: StackIndex, cfg: dict):
    """Every guardrail's server errors (requests that went through unguarded) and interventions
    are alarmed."""
    for g in stack.of_type(GUARDRAIL):
        arn = get(g.props, "guardrailArn")
        if is_unknown(arn) or not isinstance(arn, str):
            yield cannot_verify("guardrailArn", g.urn)
            continue
        for label, metric in (
            ("server-error", "InvocationServerErrors"),
            ("intervention", "InvocationsIntervened"),
        ):
            yield from alarm_required(
                _guardrail_watched(stack, metric, arn),
                f"guardrail {g.name} has no {label} alarm ({GUARDRAILS_NAMESPACE} {metric}, "
                f"GuardrailArn={arn}, with actions)",
                g.urn,
                f"{label} alarm",
            )


def alarm_required(
    found: bool | Any, missing: str, urn: str | None, what: str
) -> Iterator[Finding]:
    """The finding for a required alarm: none when `found`, "cannot verify" when the alarms could
    not be read (unknown), else `missing` (what the alarm must watch)."""
    if is_unknown(found):
        yield cannot_verify("alarm metric/dimensions", urn, what)
    elif not found:
        yield Finding(missing, urn)


def _guardrail_watched(stack: StackIndex, metric: str, arn: str) -> bool | Any:
    """An alarm on the guardrail's series: {GuardrailArn} or {GuardrailArn, GuardrailVersion}."""
    return watching(
        stack,
        (GUARDRAILS_NAMESPACE,),
        (metric,),
        lambda d: d.get("GuardrailArn") == arn and set(d) <= {"GuardrailArn", "GuardrailVersion"},
    )


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
    yield from expect(
        g.props,
        "sensitiveInformationPolicyConfig",
        lambda pii: has(pii, "piiEntitiesConfigs") or has(pii, "regexesConfigs"),
        "no sensitive-information (PII) filter",
    )


@rule(
    name="bedrock-guardrail-filters",
    severity="high",
    controls=("M7",),
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
    bedrock_model_alarms,
    guardrail_alarms,
]
