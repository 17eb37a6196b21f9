"""Pure helpers for hardened Kubernetes workloads (no resources).

Used by `regulated_inference.components.self_hosted_inference` and by `regulated_inference.config.kubernetes`
so that the stack config and the component refuse the same things with the
same words: resource requests above their limits, canary weights and splits
the replica count cannot express, EKS OIDC providers (images: `lib.aws`).
"""

from __future__ import annotations

import ipaddress
import math
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from regulated_inference.lib import aws as aws_facts

# -- names and labels ------------------------------------------------------------

#: RFC 1123 label: namespaces, services, service accounts, container names.
DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
#: A label *value* (e.g. the model version recorded as `app.kubernetes.io/version`).
LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?$")
#: Namespaces a model must never be deployed into (control K9).
RESERVED_NAMESPACES: frozenset[str] = frozenset(
    {"default", "kube-system", "kube-public", "kube-node-lease"}
)

#: Label keys this project sets on every object it creates.
LABEL_NAME = "app.kubernetes.io/name"
LABEL_VERSION = "app.kubernetes.io/version"
LABEL_COMPONENT = "app.kubernetes.io/component"
LABEL_PART_OF = "app.kubernetes.io/part-of"
LABEL_MANAGED_BY = "app.kubernetes.io/managed-by"
#: Selector labels: the model (shared by both tracks: Service, PDB, NetworkPolicy) and the track.
LABEL_MODEL = "regulated-inference/model"
LABEL_TRACK = "regulated-inference/track"
TRACK_STABLE = "stable"
TRACK_CANARY = "canary"

#: Pod Security Admission labels for the restricted standard (enforce + audit + warn).
PSS_LEVEL = "restricted"
PSS_VERSION = "latest"
PSS_LABELS: dict[str, str] = {
    f"pod-security.kubernetes.io/{mode}{suffix}": value
    for mode in ("enforce", "audit", "warn")
    for suffix, value in (("", PSS_LEVEL), ("-version", PSS_VERSION))
}

#: The well-known zone label the scheduler spreads on.
ZONE_TOPOLOGY_KEY = "topology.kubernetes.io/zone"
HOSTNAME_TOPOLOGY_KEY = "kubernetes.io/hostname"
#: Extended resource name of NVIDIA GPUs (NVIDIA device plugin).
GPU_RESOURCE = "nvidia.com/gpu"

# -- IRSA ------------------------------------------------------------------------

#: Annotation the EKS pod identity webhook reads on the service account.
IRSA_ROLE_ANNOTATION = "eks.amazonaws.com/role-arn"
#: Pod annotation listing containers the webhook must NOT give AWS credentials to.
IRSA_SKIP_CONTAINERS_ANNOTATION = "eks.amazonaws.com/skip-containers"
#: Same volume name, path and audience as the webhook uses, so a webhook that also
#: runs leaves our declared volume alone instead of adding a second one.
IRSA_TOKEN_VOLUME = "aws-iam-token"
IRSA_TOKEN_DIR = "/var/run/secrets/eks.amazonaws.com/serviceaccount"
IRSA_TOKEN_FILE = f"{IRSA_TOKEN_DIR}/token"
IRSA_AUDIENCE = "sts.amazonaws.com"
#: One hour: the SDKs re-read the file; kubelet refreshes it at 80% of its life.
IRSA_TOKEN_EXPIRATION_SECONDS = 3600

#: `arn:<p>:iam::<account>:oidc-provider/oidc.eks.<region>.amazonaws.com[.cn]/id/<ID>`: an IAM
#: OIDC provider ARN (`aws_facts.iam_oidc_provider_arn`) whose issuer is an EKS cluster's.
_OIDC_ARN = re.compile(
    rf"^arn:(?:{aws_facts.PARTITION_PATTERN}):iam::({aws_facts.ACCOUNT_ID_PATTERN}):oidc-provider/"
    rf"(oidc\.eks\.({aws_facts.REGION_PATTERN})\.amazonaws\.com(?:\.cn)?/id/[A-Za-z0-9]+)$"
)


def parse_oidc_provider_arn(arn: str) -> tuple[str, str, str]:
    """(account, issuer host/path, region) of an EKS OIDC provider ARN; ValueError if not one."""
    m = _OIDC_ARN.match(arn)
    if not m:
        raise ValueError(
            "must be an EKS OIDC provider ARN like "
            "'arn:aws:iam::123456789012:oidc-provider/oidc.eks.eu-west-2.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE'"
        )
    return m.group(1), m.group(2), m.group(3)


def normalise_issuer(issuer: str) -> str:
    """The issuer as IAM condition keys spell it: host and path, no scheme, no trailing slash."""
    return issuer.strip().removeprefix("https://").rstrip("/")


# -- quantities ------------------------------------------------------------------

#: Quantity suffixes (k8s.io/apimachinery pkg/api/resource, Quantity): milli, the decimal SI
#: multiples k M G T P E (powers of 1000) and the binary Ki Mi Gi Ti Pi Ei (powers of 1024).
_SUFFIX: dict[str, Decimal] = {
    "": Decimal(1),
    "m": Decimal("0.001"),
    **{s: Decimal(1000) ** n for n, s in enumerate("kMGTPE", start=1)},
    **{f"{s}i": Decimal(1024) ** n for n, s in enumerate("KMGTPE", start=1)},
}
_QUANTITY = re.compile(rf"^([0-9]+(?:\.[0-9]+)?)({'|'.join(s for s in _SUFFIX if s)})?$")


def parse_quantity(value: str | int | float) -> Decimal:
    """A Kubernetes resource quantity ("500m", "2", "8Gi") as a number; ValueError if malformed."""
    text = str(value).strip()
    m = _QUANTITY.match(text)
    if not m:
        raise ValueError(f"{value!r} is not a Kubernetes quantity like '500m', '2' or '8Gi'")
    try:
        return Decimal(m.group(1)) * _SUFFIX[m.group(2) or ""]
    except InvalidOperation:  # pragma: no cover - the regex admits only decimals
        raise ValueError(f"{value!r} is not a Kubernetes quantity") from None


def check_request_within_limit(resource: str, request: str, limit: str) -> None:
    """ValueError when a request exceeds its limit (the API server would refuse the pod)."""
    if parse_quantity(request) > parse_quantity(limit):
        raise ValueError(f"{resource} request {request} exceeds its limit {limit}")


# -- canary by replica ratio -------------------------------------------------------

#: A canary share is refused when the replica count would round it above this many
#: times what was asked (e.g. asking 10% of 2 replicas would really be 50%).
CANARY_MAX_OVERSHOOT = 2
#: A canary beyond half the traffic is no longer a canary: promote it instead.
CANARY_MAX_WEIGHT = 50


def split_replicas(total: int, weight: int) -> tuple[int, int]:
    """(stable, canary) replicas for `weight`% of `total` pods behind one Service.

    With one Service selecting both Deployments, each ready pod gets about the same
    share of connections, so the traffic split is canary/total: it moves in steps of
    100/total percent. The canary gets the nearest whole number of pods (half up),
    at least one, and the stable track keeps at least one.
    """
    if weight <= 0:
        return total, 0
    if total < 2:
        raise ValueError(f"a canary needs ≥ 2 replicas (one per track); got {total}")
    canary = max(1, math.floor(total * weight / 100 + 0.5))
    canary = min(canary, total - 1)
    return total - canary, canary


def effective_weight(total: int, weight: int) -> float:
    """The share of pods (≈ traffic) the canary really gets at `total` replicas, in percent."""
    if weight <= 0:
        return 0.0
    _, canary = split_replicas(total, weight)
    return round(100 * canary / total, 2)


def check_canary_weight(weight: int) -> int:
    """ValueError unless `weight` is a canary share in percent, 1–CANARY_MAX_WEIGHT."""
    if not 1 <= weight <= CANARY_MAX_WEIGHT:
        raise ValueError(
            f"canary weight must be 1–{CANARY_MAX_WEIGHT} (percent); to go further promote the "
            "canary (set the model version/image to it and remove `canary`)"
        )
    return weight


def check_canary_split(min_replicas: int, weight: int) -> None:
    """ValueError when `min_replicas` cannot express `weight`% closely enough.

    The split is judged at the minimum replica count, where the granularity is
    coarsest and where a quiet service spends most of its time.
    """
    check_canary_weight(weight)
    if min_replicas < 2:
        raise ValueError(f"a canary needs replicas.min ≥ 2 (one pod per track); got {min_replicas}")
    actual = effective_weight(min_replicas, weight)
    if actual > CANARY_MAX_OVERSHOOT * weight:
        needed = math.ceil(100 / (CANARY_MAX_OVERSHOOT * weight))
        raise ValueError(
            f"with replicas.min = {min_replicas} the smallest canary is {actual:g}% of pods, more than "
            f"{CANARY_MAX_OVERSHOOT}× the {weight}% asked; raise replicas.min to ≥ {needed} "
            f"or ask for ≥ {math.ceil(actual / CANARY_MAX_OVERSHOOT)}%"
        )


# -- networks --------------------------------------------------------------------


def check_private_cidr(cidr: str) -> str:
    """A private IPv4 CIDR (RFC 1918 / RFC 6598), not 0.0.0.0/0; ValueError otherwise (N5)."""
    try:
        net = ipaddress.IPv4Network(cidr, strict=True)
    except ValueError as exc:
        raise ValueError(f"must be an IPv4 CIDR with no host bits set ({exc})") from None
    if net.prefixlen < 8 or not (
        net.is_private or net.subnet_of(ipaddress.IPv4Network("100.64.0.0/10"))
    ):
        raise ValueError(
            "must be a private CIDR inside the VPC (never 0.0.0.0/0 or a public range)"
        )
    return cidr


def check_s3_gateway_cidr(cidr: str) -> str:
    """An S3 gateway prefix-list CIDR the model's egress may reach: an IPv4 network with no host
    bits, /8 or narrower (never 0.0.0.0/0 split or whole); ValueError otherwise (N5)."""
    try:
        net = ipaddress.IPv4Network(cidr, strict=True)
    except ValueError as exc:
        raise ValueError(f"must be an IPv4 CIDR ({exc})") from None
    if net.prefixlen < 8:
        raise ValueError("too wide for an S3 prefix-list entry (never 0.0.0.0/0)")
    return cidr


#: The container port: unprivileged (the pod has no NET_BIND_SERVICE capability).
MIN_PORT, MAX_PORT = 1024, 65535


# -- security contexts (K1–K5) -----------------------------------------------------

#: Lowest UID accepted: above the ranges distributions give system and login users,
#: so a container escape does not land on a host account (CKV_K8S_40).
MIN_UID = 10000
#: The largest UID a securityContext accepts (a 32-bit signed integer).
MAX_UID = 2**31 - 1
SECCOMP_RUNTIME_DEFAULT = {"type": "RuntimeDefault"}


def _security_context(uid: int, **settings: Any) -> dict[str, Any]:
    """What pod and container securityContexts both state: non-root with a high UID/GID (K1) and
    seccomp RuntimeDefault (K5), around the `settings` of that level."""
    return {
        "run_as_non_root": True,
        "run_as_user": uid,
        "run_as_group": uid,
        **settings,
        "seccomp_profile": dict(SECCOMP_RUNTIME_DEFAULT),
    }


def pod_security_context(uid: int) -> dict[str, Any]:
    """Pod-level securityContext: non-root with a high UID/GID, seccomp RuntimeDefault."""
    return _security_context(uid, fs_group=uid, fs_group_change_policy="OnRootMismatch")


def container_security_context(uid: int) -> dict[str, Any]:
    """Container securityContext: restated per container so no pod-level default is relied on."""
    return _security_context(
        uid,
        privileged=False,
        allow_privilege_escalation=False,
        read_only_root_filesystem=True,
        capabilities={"drop": ["ALL"]},
    )


# -- manifests (for validation and policy rules) --------------------------------------


def api_version_kind(type_token: str) -> tuple[str, str]:
    """apiVersion and kind of a pulumi-kubernetes type token.

    "kubernetes:apps/v1:Deployment" → ("apps/v1", "Deployment");
    "kubernetes:core/v1:Service" → ("v1", "Service"); tokens carry the full API group
    ("kubernetes:networking.k8s.io/v1:NetworkPolicy"), only the core group is implicit.
    """
    pkg, module, kind = type_token.split(":", 2)
    if pkg != "kubernetes":
        raise ValueError(f"{type_token} is not a Kubernetes type")
    group, _, version = module.rpartition("/")
    return (version if group == "core" else module), kind


def to_manifest(type_token: str, inputs: dict[str, Any]) -> dict[str, Any]:
    """A Kubernetes object (apiVersion, kind, metadata, ...) from a resource's recorded inputs."""
    api_version, kind = api_version_kind(type_token)
    manifest = {k: v for k, v in inputs.items() if k not in ("apiVersion", "kind")}
    return {"apiVersion": api_version, "kind": kind, **manifest}
