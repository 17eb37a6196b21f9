"""Validation of `SelfHostedInference`'s args and the plan decided from them, before any resource.

Integers are coerced with int(): the component provider's Construct passes every number as a
double (pulumi/pulumi#21944).
"""

from dataclasses import dataclass, field
from typing import Any

from regulated_inference.components.self_hosted.args import (
    DEFAULT_GPU,
    DEFAULT_LOADER_STORAGE,
    DEFAULT_PROBE_FAILURE_THRESHOLD,
    DEFAULT_PROBE_PERIOD_SECONDS,
    DEFAULT_PROBE_TIMEOUT_SECONDS,
    DEFAULT_RUN_AS_USER,
    DEFAULT_STARTUP_SECONDS,
    DEFAULT_ZONE_SPREAD,
    ModelTrack,
    Probe,
    SelfHostedInferenceArgs,
    ZoneSpread,
)
from regulated_inference.lib import aws as aws_facts
from regulated_inference.lib import kubernetes as k8s
from regulated_inference.lib.errors import ComponentArgsError

COMPONENT = "SelfHostedInference"


@dataclass(frozen=True)
class HttpProbe:
    """A probe with its defaults applied."""

    path: str
    period_seconds: int
    timeout_seconds: int
    failure_threshold: int


def http_probe(probe: Probe) -> HttpProbe:
    return HttpProbe(
        path=probe["path"],
        period_seconds=int(probe.get("period_seconds", DEFAULT_PROBE_PERIOD_SECONDS)),
        timeout_seconds=int(probe.get("timeout_seconds", DEFAULT_PROBE_TIMEOUT_SECONDS)),
        failure_threshold=int(probe.get("failure_threshold", DEFAULT_PROBE_FAILURE_THRESHOLD)),
    )


@dataclass(frozen=True)
class Plan:
    """Everything decided from the args before any resource exists."""

    sa_name: str
    uid: int
    port: int
    gpu: int
    region: str
    stable_min: int
    stable_max: int
    canary_min: int
    canary_max: int
    canary_weight: int
    effective_weight: float
    liveness: HttpProbe
    readiness: HttpProbe
    startup_seconds: int
    zone_spread: ZoneSpread
    loader_storage: str | None
    tracks: list[tuple[str, ModelTrack]] = field(default_factory=list)

    def bounds(self, track: str) -> tuple[int, int]:
        """HPA (min, max) of a track."""
        if track == k8s.TRACK_STABLE:
            return self.stable_min, self.stable_max
        return self.canary_min, self.canary_max


def fail(arg: str, value: Any, rule: str) -> ComponentArgsError:
    return ComponentArgsError(COMPONENT, arg, value, rule)


def _check_names(args: SelfHostedInferenceArgs) -> str:
    """The model, namespace, gateway and service-account names; returns the latter."""
    name = args.get("model_name", "")
    if not k8s.DNS_LABEL.match(name or "") or len(name) > 50:
        raise fail("model_name", name, "must be a DNS label of ≤ 50 characters")
    ns = args.get("namespace", "")
    if not k8s.DNS_LABEL.match(ns or ""):
        raise fail("namespace", ns, "must be a DNS label")
    if ns in k8s.RESERVED_NAMESPACES:
        raise fail("namespace", ns, "models never run in default or kube-* namespaces (K9)")
    gateway = args.get("gateway_namespace", "")
    if not k8s.DNS_LABEL.match(gateway or ""):
        raise fail("gateway_namespace", gateway, "must be a DNS label")
    sa_name = args.get("service_account_name") or name
    if not k8s.DNS_LABEL.match(sa_name):
        raise fail("service_account_name", sa_name, "must be a DNS label")
    return sa_name


def _check_tracks(args: SelfHostedInferenceArgs, region: str) -> list[tuple[str, ModelTrack]]:
    """Stable and canary: label-valid versions, home-region images by digest, exact prefixes."""
    canary = args.get("canary")
    tracks = [(k8s.TRACK_STABLE, args["stable"])]
    if canary is not None:
        tracks.append((k8s.TRACK_CANARY, canary["track"]))
    for track, spec in tracks:
        arg = "stable" if track == k8s.TRACK_STABLE else "canary.track"
        version, image, prefix = spec.get("version"), spec.get("image"), spec.get("artifact_prefix")
        if not version or not k8s.LABEL_VALUE.match(version):
            raise fail(f"{arg}.version", version, "must be a valid Kubernetes label value")
        try:
            aws_facts.check_image_region(image or "", region)
        except ValueError as exc:
            raise fail(f"{arg}.image", image, str(exc)) from None
        if not (prefix or "").strip("/") or "*" in prefix:
            raise fail(f"{arg}.artifact_prefix", prefix, "an exact, non-empty key prefix")
    if canary is not None and canary["track"]["version"] == args["stable"]["version"]:
        raise fail("canary.track.version", canary["track"]["version"], "must differ from stable")
    return tracks


def _check_network(args: SelfHostedInferenceArgs) -> None:
    for cidr_arg, cidrs in (
        ("vpc_endpoints_cidr", [args.get("vpc_endpoints_cidr", "")]),
        ("s3_gateway_cidrs", args.get("s3_gateway_cidrs") or []),
    ):
        for cidr in cidrs:
            try:
                if cidr_arg == "vpc_endpoints_cidr":
                    k8s.check_private_cidr(cidr)
                else:
                    k8s.check_s3_gateway_cidr(cidr)
            except ValueError as exc:
                raise fail(cidr_arg, cidr, str(exc)) from None


def validate(args: SelfHostedInferenceArgs) -> Plan:
    """One clear ComponentArgsError for the first bad arg, or the plan."""
    sa_name = _check_names(args)
    problem = aws_facts.check_context(args.get("aws"))
    if problem:
        raise fail("aws", args.get("aws"), problem)
    region = args["aws"]["region"]
    tracks = _check_tracks(args, region)
    loader = args.get("loader")
    if loader is not None:
        try:
            aws_facts.check_image_region(loader.get("image", ""), region)
            k8s.parse_quantity(loader.get("storage", DEFAULT_LOADER_STORAGE))
        except ValueError as exc:
            raise fail("loader", loader, str(exc)) from None
    uid = int(args.get("run_as_user", DEFAULT_RUN_AS_USER))
    if not k8s.MIN_UID <= uid <= k8s.MAX_UID:
        raise fail("run_as_user", uid, f"must be ≥ {k8s.MIN_UID} (K1)")
    port = int(args.get("port", 0))
    if not k8s.MIN_PORT <= port <= k8s.MAX_PORT:
        raise fail(
            "port", port, f"must be {k8s.MIN_PORT}–{k8s.MAX_PORT} (no NET_BIND_SERVICE capability)"
        )
    lo, hi = int(args.get("replicas_min", 0)), int(args.get("replicas_max", 0))
    if lo < 1 or hi < lo:
        raise fail("replicas_min/max", (lo, hi), "need 1 ≤ min ≤ max")
    res = args["resources"]
    try:
        k8s.check_request_within_limit("cpu", res["cpu_request"], res["cpu_limit"])
        k8s.check_request_within_limit("memory", res["memory_request"], res["memory_limit"])
    except ValueError as exc:
        raise fail("resources", res, str(exc)) from None
    gpu = int(res.get("gpu", DEFAULT_GPU))
    if gpu < 0:
        raise fail("resources.gpu", gpu, "must be ≥ 0")
    _check_network(args)
    spread = args.get("zone_spread", DEFAULT_ZONE_SPREAD)
    if spread not in tuple(ZoneSpread):
        raise fail("zone_spread", spread, "DoNotSchedule or ScheduleAnyway")
    canary = args.get("canary")
    weight = int(canary["weight"]) if canary is not None else 0
    if canary is not None:
        try:
            k8s.check_canary_split(lo, weight)
        except ValueError as exc:
            raise fail("canary.weight", weight, str(exc)) from None
    stable_min, canary_min = k8s.split_replicas(lo, weight)
    stable_max, canary_max = k8s.split_replicas(hi, weight)
    probes = args["probes"]
    return Plan(
        sa_name=sa_name,
        uid=uid,
        port=port,
        gpu=gpu,
        region=region,
        stable_min=stable_min,
        stable_max=stable_max,
        canary_min=canary_min,
        canary_max=canary_max,
        canary_weight=weight,
        effective_weight=k8s.effective_weight(lo, weight),
        liveness=http_probe(probes["liveness"]),
        readiness=http_probe(probes["readiness"]),
        startup_seconds=int(probes.get("startup_seconds", DEFAULT_STARTUP_SECONDS)),
        zone_spread=ZoneSpread(spread),
        loader_storage=loader.get("storage", DEFAULT_LOADER_STORAGE) if loader else None,
        tracks=tracks,
    )
