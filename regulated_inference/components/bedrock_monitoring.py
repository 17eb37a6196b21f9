"""Operational and guardrail alarms for Amazon Bedrock traffic.

Metric names, units and dimensions are those AWS documents:

- `AWS/Bedrock`, dimension `ModelId` ("Monitor bedrock-runtime inference using CloudWatch
  metrics", Bedrock user guide, monitoring-runtime-metrics): `Invocations` (requests
  accepted for processing, *including* those that later fail with a client or server
  error, *excluding* throttled ones), `InvocationLatency` (milliseconds, request sent to
  last token), `InvocationClientErrors`, `InvocationServerErrors`, `InvocationThrottles`.
- `AWS/Bedrock/Guardrails` ("Monitor Amazon Bedrock Guardrails using CloudWatch metrics",
  monitoring-guardrails-cw-metrics): `Invocations`, `InvocationsIntervened`,
  `InvocationServerErrors`; dimension sets `GuardrailArn + GuardrailVersion` (one
  guardrail version) and `GuardrailPolicyType` (ContentPolicy, TopicPolicy, WordPolicy,
  SensitiveInformationPolicy — per policy, *not* split by guardrail: AWS lists it as its
  own dimension set).

Alarms (each notifies the topic on ALARM and OK; no traffic is no evidence of a
problem, so missing data is `notBreaching` everywhere here — the audit side, where
silence *is* the problem, is `regulated_inference.components.audit_monitoring`):

per model id
  latency-p95, latency-p99   InvocationLatency extended statistic above a threshold (ms)
  server-error-rate          InvocationServerErrors / Invocations
  client-error-rate          InvocationClientErrors / Invocations
  throttle-rate              InvocationThrottles / (Invocations + InvocationThrottles)
                             (throttled requests are not counted in Invocations)
per guardrail version
  guardrail-intervention-rate               InvocationsIntervened / Invocations
  guardrail-intervention-rate-<PolicyType>  InvocationsIntervened{GuardrailPolicyType} /
                                            Invocations{GuardrailArn, GuardrailVersion}
                                            (the per-policy series is account- and
                                            region-wide; `BedrockAccess` creates one
                                            guardrail per account and region)
  guardrail-server-errors    InvocationServerErrors above a count (default 0): a request
                             the guardrail could not evaluate
"""

import re
from enum import StrEnum
from typing import NotRequired, TypedDict

import pulumi
import pulumi_aws as aws

from regulated_inference.lib import alarms
from regulated_inference.lib.errors import ComponentArgsError
from regulated_inference.lib.outputs import publish_outputs, type_token

_COMPONENT = "BedrockMonitoring"
#: Namespaces and dimensions (AWS pages cited in the module docstring).
RUNTIME_NAMESPACE = "AWS/Bedrock"
GUARDRAILS_NAMESPACE = "AWS/Bedrock/Guardrails"
MODEL_DIMENSION = "ModelId"
GUARDRAIL_DIMENSIONS = ("GuardrailArn", "GuardrailVersion")
POLICY_TYPE_DIMENSION = "GuardrailPolicyType"
_MODEL_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,199}$")


class GuardrailPolicyType(StrEnum):
    """A `GuardrailPolicyType` dimension value AWS documents."""

    CONTENT_POLICY = "ContentPolicy"
    """Content filters (and the prompt-attack filter)."""
    TOPIC_POLICY = "TopicPolicy"
    """Denied topics."""
    WORD_POLICY = "WordPolicy"
    """Word filters."""
    SENSITIVE_INFORMATION_POLICY = "SensitiveInformationPolicy"
    """PII and regex filters."""


#: GuardrailPolicyType values AWS documents.
POLICY_TYPES = tuple(p.value for p in GuardrailPolicyType)
#: The policies `BedrockAccess` configures (content + prompt-attack filters, PII).
DEFAULT_POLICY_TYPES = (
    GuardrailPolicyType.CONTENT_POLICY.value,
    GuardrailPolicyType.SENSITIVE_INFORMATION_POLICY.value,
)
#: Defaults of the optional args, in one place: a starting point for interactive text models.
DEFAULT_LATENCY_P95_MS = 10_000
DEFAULT_LATENCY_P99_MS = 20_000
DEFAULT_MAX_SERVER_ERROR_RATE = 0.01
DEFAULT_MAX_CLIENT_ERROR_RATE = 0.05
DEFAULT_MAX_THROTTLE_RATE = 0.05
DEFAULT_MAX_INTERVENTION_RATE = 0.2
DEFAULT_MAX_GUARDRAIL_SERVER_ERRORS = 0
DEFAULT_PERIOD_SECONDS = 300
DEFAULT_EVALUATION_PERIODS = 3
#: Alarm periods CloudWatch offers for these metrics here (seconds).
PERIODS = (60, 300, 900, 3600)


class BedrockThresholds(TypedDict):
    """Alarm thresholds; each omitted one takes its `DEFAULT_*`."""

    latency_p95_ms: NotRequired[float]
    """InvocationLatency p95 above this (ms) alarms; default 10000."""
    latency_p99_ms: NotRequired[float]
    """InvocationLatency p99 above this (ms) alarms; default 20000."""
    max_server_error_rate: NotRequired[float]
    """Share of invocations failing server-side; default 0.01."""
    max_client_error_rate: NotRequired[float]
    """Share of invocations refused as client errors (bad requests, access denied, guardrail config); default 0.05."""
    max_throttle_rate: NotRequired[float]
    """Share of requests throttled; default 0.05."""
    max_intervention_rate: NotRequired[float]
    """Share of guardrail evaluations in which the guardrail (or one policy) intervened; default 0.2."""
    max_guardrail_server_errors: NotRequired[float]
    """Guardrail server errors per period tolerated; default 0 (none)."""


#: Every threshold's default, by key.
BEDROCK_THRESHOLD_DEFAULTS: dict[str, float] = {
    "latency_p95_ms": DEFAULT_LATENCY_P95_MS,
    "latency_p99_ms": DEFAULT_LATENCY_P99_MS,
    "max_server_error_rate": DEFAULT_MAX_SERVER_ERROR_RATE,
    "max_client_error_rate": DEFAULT_MAX_CLIENT_ERROR_RATE,
    "max_throttle_rate": DEFAULT_MAX_THROTTLE_RATE,
    "max_intervention_rate": DEFAULT_MAX_INTERVENTION_RATE,
    "max_guardrail_server_errors": DEFAULT_MAX_GUARDRAIL_SERVER_ERRORS,
}


def model_id(model_arn: str) -> str:
    """The `ModelId` dimension value of a foundation-model or inference-profile ARN."""
    return model_arn.rsplit("/", 1)[-1]


class BedrockMonitoringArgs(TypedDict):
    """Arguments of `BedrockMonitoring`."""

    name_prefix: str
    """Prefix of every alarm name, e.g. `regulated-inference-prod-bedrock`."""
    model_ids: list[str]
    """ModelId dimension values of the allowed models (`model_id(arn)` of each allowed ARN)."""
    guardrail_arn: pulumi.Input[str]
    """The guardrail callers apply (`BedrockAccess.guardrail_arn`)."""
    guardrail_version: pulumi.Input[str]
    """Its published version (`BedrockAccess.guardrail_version`)."""
    alarm_topic_arn: pulumi.Input[str]
    """Encrypted SNS topic every alarm notifies (ALARM and OK)."""
    thresholds: NotRequired[BedrockThresholds]
    """Alarm thresholds; each omitted one takes its default (`DEFAULT_*`)."""
    # list[str], not list[GuardrailPolicyType]: Construct maps the items of an array whose items
    # are a schema type as objects, enums included, so an enum list arrives as [{}]
    # (pulumi 3.272.0 provider/experimental/component.py map_input_properties, "arrays of
    # complex types"). The values are checked against `GuardrailPolicyType` instead.
    policy_types: NotRequired[list[str]]
    """GuardrailPolicyType values with an intervention-rate alarm: ContentPolicy, TopicPolicy,
    WordPolicy or SensitiveInformationPolicy; default ContentPolicy, SensitiveInformationPolicy."""
    period_seconds: NotRequired[int]
    """Alarm period in seconds: 60, 300, 900 or 3600; default 300."""
    evaluation_periods: NotRequired[int]
    """Periods that must breach, 1–24; default 3."""


class BedrockMonitoring(pulumi.ComponentResource):
    """Latency, error, throttle and guardrail alarms for the allowed Bedrock models."""

    alarm_names: dict[str, pulumi.Output[str]]
    """Every alarm by role, e.g. "<model id>/latency-p99", "guardrail/server-errors"."""

    def __init__(
        self, name: str, args: BedrockMonitoringArgs, opts: pulumi.ResourceOptions | None = None
    ):
        t, policies = _validate(args)
        super().__init__(type_token(_COMPONENT), name, None, opts)
        # Not `_name`/`_args`: Pulumi's Resource keeps private attributes of its own.
        self._resource_name, self._spec, self._t = name, args, t
        # int(): Construct passes integers as doubles (pulumi/pulumi#21944).
        self._period = int(args.get("period_seconds", DEFAULT_PERIOD_SECONDS))
        self._periods = int(args.get("evaluation_periods", DEFAULT_EVALUATION_PERIODS))
        names: dict[str, pulumi.Output[str]] = {}
        for mid in args["model_ids"]:
            names |= self._model_alarms(mid)
        names |= self._guardrail_alarms(policies)
        publish_outputs(self, alarm_names=names)

    # -- steps --------------------------------------------------------------------------

    def _alarm(self, role: str, description: str, **kwargs) -> aws.cloudwatch.MetricAlarm:
        kwargs.setdefault("evaluation_periods", self._periods)
        return alarms.role_alarm(
            self,
            self._resource_name,
            self._spec["name_prefix"],
            self._spec["alarm_topic_arn"],
            _slug(role),
            description,
            treat_missing_data="notBreaching",  # no traffic: nothing failed
            **kwargs,
        )

    def _model_alarms(self, mid: str) -> dict[str, pulumi.Output[str]]:
        t, period, dims = self._t, self._period, {MODEL_DIMENSION: mid}
        out: dict[str, pulumi.Output[str]] = {}
        for pct, limit in (("p95", t["latency_p95_ms"]), ("p99", t["latency_p99_ms"])):
            out[f"{mid}/latency-{pct}"] = self._alarm(
                f"{mid}/latency-{pct}",
                f"Bedrock {mid}: InvocationLatency {pct} above {limit} ms",
                namespace=RUNTIME_NAMESPACE,
                metric_name="InvocationLatency",
                dimensions=dims,
                extended_statistic=pct,
                period=period,
                comparison_operator="GreaterThanThreshold",
                threshold=limit,
            ).name

        def q(qid: str, metric: str):
            return alarms.metric_query(qid, RUNTIME_NAMESPACE, metric, dims, "Sum", period)

        rates = (
            (
                "server-error-rate",
                "InvocationServerErrors",
                t["max_server_error_rate"],
                "FILL(e, 0) / inv",
            ),
            (
                "client-error-rate",
                "InvocationClientErrors",
                t["max_client_error_rate"],
                "FILL(e, 0) / inv",
            ),
            (
                "throttle-rate",
                "InvocationThrottles",
                t["max_throttle_rate"],
                # Throttled requests are not in Invocations: the denominator adds them back.
                "IF(FILL(inv, 0) + FILL(e, 0) > 0, FILL(e, 0) / (FILL(inv, 0) + FILL(e, 0)), 0)",
            ),
        )
        for role, metric, limit, expr in rates:
            out[f"{mid}/{role}"] = self._alarm(
                f"{mid}/{role}",
                f"Bedrock {mid}: {metric} above {limit:.2%} of requests",
                comparison_operator="GreaterThanThreshold",
                threshold=limit,
                metric_queries=[
                    q("e", metric),
                    q("inv", "Invocations"),
                    alarms.expression("rate", expr, f"{metric} rate"),
                ],
            ).name
        return out

    def _guardrail_alarms(self, policies: tuple[str, ...]) -> dict[str, pulumi.Output[str]]:
        t, period, a = self._t, self._period, self._spec
        gdims = dict(
            zip(GUARDRAIL_DIMENSIONS, (a["guardrail_arn"], a["guardrail_version"]), strict=True)
        )
        total = alarms.metric_query(
            "inv", GUARDRAILS_NAMESPACE, "Invocations", gdims, "Sum", period
        )
        out: dict[str, pulumi.Output[str]] = {}
        intervened = {
            "guardrail/intervention-rate": (
                gdims,
                "guardrail version intervened in more than",
            ),
            **{
                f"guardrail/intervention-rate-{p}": (
                    {POLICY_TYPE_DIMENSION: p},
                    f"{p} intervened in more than",
                )
                for p in policies
            },
        }
        for role, (dims, what) in intervened.items():
            out[role] = self._alarm(
                role,
                f"Bedrock guardrail: {what} {t['max_intervention_rate']:.0%} of evaluations "
                "(attack, abuse or a misconfigured filter)",
                comparison_operator="GreaterThanThreshold",
                threshold=t["max_intervention_rate"],
                metric_queries=[
                    alarms.metric_query(
                        "hit", GUARDRAILS_NAMESPACE, "InvocationsIntervened", dims, "Sum", period
                    ),
                    total,
                    alarms.expression("rate", "FILL(hit, 0) / inv", "intervention rate"),
                ],
            ).name
        out["guardrail/server-errors"] = self._alarm(
            "guardrail/server-errors",
            "Bedrock guardrail: server errors — requests the guardrail could not evaluate "
            f"(more than {t['max_guardrail_server_errors']} per {period} s)",
            namespace=GUARDRAILS_NAMESPACE,
            metric_name="InvocationServerErrors",
            dimensions=gdims,
            statistic="Sum",
            period=period,
            evaluation_periods=1,
            comparison_operator="GreaterThanThreshold",
            threshold=t["max_guardrail_server_errors"],
        ).name
        return out


def _slug(role: str) -> str:
    return re.sub(r"[^A-Za-z0-9.-]+", "-", role)


def _validate(args: BedrockMonitoringArgs) -> tuple[dict[str, float], tuple[str, ...]]:
    def bad(arg: str, value, rule: str) -> ComponentArgsError:
        return ComponentArgsError(_COMPONENT, arg, value, rule)

    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9-]{0,100}", args.get("name_prefix") or ""):
        raise bad("name_prefix", args.get("name_prefix"), "letters, digits and '-', ≤ 101 chars")
    ids = list(args.get("model_ids") or [])
    if not ids:
        raise bad("model_ids", ids, "at least one allowed model")
    for mid in ids:
        if mid.startswith("arn:") or not _MODEL_ID.match(mid):
            raise bad(
                "model_ids",
                mid,
                "a ModelId like 'anthropic.claude-3-haiku-20240307-v1:0' (use model_id(arn))",
            )
    if len(set(ids)) != len(ids):
        raise bad("model_ids", ids, "each model once")
    for key in ("guardrail_arn", "guardrail_version", "alarm_topic_arn"):
        if not args.get(key):
            raise bad(key, args.get(key), "required (guardrail alarms, alarm action M1)")
    given = args.get("thresholds")
    if given is not None and not isinstance(given, dict):
        raise bad("thresholds", given, "must be BedrockThresholds")
    for key, v in (given or {}).items():
        if key not in BEDROCK_THRESHOLD_DEFAULTS or isinstance(v, bool):
            continue  # with_defaults names it
        if key.startswith("max_") and key.endswith("_rate") and not 0 < v < 1:
            raise bad(f"thresholds.{key}", v, "a rate strictly between 0 and 1")
        if v < 0:
            raise bad(f"thresholds.{key}", v, "must not be negative")
    try:
        t = alarms.with_defaults(given, BEDROCK_THRESHOLD_DEFAULTS)  # type: ignore[arg-type]
    except ValueError as exc:
        raise bad("thresholds", given, str(exc)) from None
    if t["latency_p99_ms"] < t["latency_p95_ms"]:
        raise bad("thresholds.latency_p99_ms", t["latency_p99_ms"], "must be ≥ latency_p95_ms")
    policies = tuple(args.get("policy_types") or DEFAULT_POLICY_TYPES)
    unknown = [p for p in policies if p not in POLICY_TYPES]
    if unknown:
        raise bad("policy_types", unknown, f"GuardrailPolicyType values are {list(POLICY_TYPES)}")
    period = args.get("period_seconds", DEFAULT_PERIOD_SECONDS)
    if period not in PERIODS:
        raise bad("period_seconds", period, "60, 300, 900 or 3600")
    if not 1 <= args.get("evaluation_periods", DEFAULT_EVALUATION_PERIODS) <= 24:
        raise bad("evaluation_periods", args.get("evaluation_periods"), "1–24")
    return t, tuple(GuardrailPolicyType(p).value for p in policies)


__all__ = [
    "BedrockMonitoring",
    "BedrockMonitoringArgs",
    "BEDROCK_THRESHOLD_DEFAULTS",
    "BedrockThresholds",
    "DEFAULT_POLICY_TYPES",
    "GuardrailPolicyType",
    "GUARDRAILS_NAMESPACE",
    "POLICY_TYPES",
    "RUNTIME_NAMESPACE",
    "model_id",
]
