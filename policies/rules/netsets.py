"""Networks as sets: which addresses a rule, ACL or route really opens, whatever the syntax.

One place for the network semantics every network rule relies on:

- **Address sets.** CIDRs (IPv4 and IPv6, literal or through a managed prefix list) are
  collapsed with `ipaddress.collapse_addresses`; a set is judged by the *public* addresses
  it covers, so `0.0.0.0/0`, `0.0.0.0/1 + 128.0.0.0/1`, 64 `/6` blocks or "everything except
  10.0.0.0/8" are the same thing: the internet. Public means outside the IANA special-purpose
  registries (RFC 6890: private, CGNAT, loopback, link-local, documentation, multicast,
  reserved) for IPv4, and the global-unicast block `2000::/3` for IPv6.
- **Verdicts.** `INTERNET`: the set covers every public address of a family. `WIDE`: it covers
  at least a /8 worth of public IPv4 (2^24 addresses) or a /32 worth of public IPv6 (an
  ISP-sized allocation) — no least-privilege rule names that much of the internet, and a
  split into a few wide blocks is how the `INTERNET` check is evaded in one resource.
- **Protocols and ports.** `"-1"`, `"all"` (any case) and protocol number strings are
  normalised (AWS EC2 API: IpProtocol "-1" means all protocols and ports; tcp=6, udp=17,
  icmp=1, icmpv6=58). `covers_traffic` tells whether one rule's traffic includes another's —
  used for network ACL deny precedence.
- **Network ACLs** are evaluated in rule-number order (lowest first, first match wins; AWS VPC
  User Guide, "Network ACL rules"): an allow only opens what earlier denies covering its
  traffic have not already closed.
- **Route targets.** A route to an internet gateway (`igw-`), NAT gateway, egress-only
  internet gateway or carrier gateway is an internet path whatever its destination; a route
  to a transit gateway, peering connection, virtual private gateway, network interface or
  instance (a NAT appliance), Cloud WAN core network, local gateway or Gateway Load Balancer
  endpoint leaves the VPC and is an internet path when its destination covers the internet
  (or a wide public range) — a `10.50.0.0/16` route to a peering connection is ordinary
  private routing. Field names: pulumi-aws `ec2.RouteTableRoute` / `ec2.Route`.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from .base import get, is_unknown

Net = ipaddress.IPv4Network | ipaddress.IPv6Network

_V4_SPECIAL = (
    "0.0.0.0/8",
    "10.0.0.0/8",
    "100.64.0.0/10",
    "127.0.0.0/8",
    "169.254.0.0/16",
    "172.16.0.0/12",
    "192.0.0.0/24",
    "192.0.2.0/24",
    "192.88.99.0/24",
    "192.168.0.0/16",
    "198.18.0.0/15",
    "198.51.100.0/24",
    "203.0.113.0/24",
    "224.0.0.0/4",
    "240.0.0.0/4",
)
_V6_PUBLIC = ("2000::/3",)
_V6_SPECIAL = ("2001:db8::/32",)  # documentation
WIDE_V4_ADDRESSES = 2**24  # a /8
WIDE_V6_ADDRESSES = 2**96  # a /32

INTERNET = "internet"
WIDE = "wide"


def _subtract(nets: Iterable[Net], minus: Iterable[Net]) -> list[Net]:
    """`nets` minus `minus`, as a collapsed list (both of one IP version)."""
    out = list(ipaddress.collapse_addresses(nets))
    for m in ipaddress.collapse_addresses(minus):
        nxt: list[Net] = []
        for n in out:
            if not n.overlaps(m):
                nxt.append(n)
            elif m.supernet_of(n):
                continue
            else:  # n strictly contains m
                nxt.extend(n.address_exclude(m))
        out = list(ipaddress.collapse_addresses(nxt))
    return out


PUBLIC_V4: tuple[Net, ...] = tuple(
    _subtract([ipaddress.ip_network("0.0.0.0/0")], [ipaddress.ip_network(c) for c in _V4_SPECIAL])
)
PUBLIC_V6: tuple[Net, ...] = tuple(
    _subtract(
        [ipaddress.ip_network(c) for c in _V6_PUBLIC],
        [ipaddress.ip_network(c) for c in _V6_SPECIAL],
    )
)
PUBLIC_V4_SIZE = sum(n.num_addresses for n in PUBLIC_V4)
PUBLIC_V6_SIZE = sum(n.num_addresses for n in PUBLIC_V6)


def parse_cidr(value: Any) -> Net | None:
    """A CIDR (host bits tolerated, as `ip_network(strict=False)`); None if not an address block."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        return ipaddress.ip_network(value.strip(), strict=False)
    except ValueError:
        return None


def _public_covered(nets: list[Net], public: tuple[Net, ...]) -> int:
    """Public addresses covered by a collapsed list (blocks are nested or disjoint)."""
    total = 0
    for n in nets:
        for p in public:
            if n.overlaps(p):
                total += min(n.num_addresses, p.num_addresses)
    return total


@dataclass(frozen=True)
class Exposure:
    """Which public addresses an address set covers."""

    v4: int = 0
    v6: int = 0

    @property
    def verdict(self) -> str | None:
        if self.v4 >= PUBLIC_V4_SIZE or self.v6 >= PUBLIC_V6_SIZE:
            return INTERNET
        if self.v4 >= WIDE_V4_ADDRESSES or self.v6 >= WIDE_V6_ADDRESSES:
            return WIDE
        return None

    def describe(self) -> str:
        if self.verdict == INTERNET:
            fam = []
            if self.v4 >= PUBLIC_V4_SIZE:
                fam.append("IPv4")
            if self.v6 >= PUBLIC_V6_SIZE:
                fam.append("IPv6")
            return f"the whole {' and '.join(fam)} internet"
        if self.verdict == WIDE:
            parts = []
            if self.v4:
                parts.append(f"{self.v4 / PUBLIC_V4_SIZE:.1%} of public IPv4")
            if self.v6 >= WIDE_V6_ADDRESSES:
                parts.append(f"{self.v6 / PUBLIC_V6_SIZE:.1%} of public IPv6")
            return "a wide public range (" + ", ".join(parts) + ")"
        return "no wide public range"


@lru_cache(maxsize=4096)
def _exposure(cidrs: tuple[str, ...]) -> Exposure:
    v4: list[Net] = []
    v6: list[Net] = []
    for c in cidrs:
        n = parse_cidr(c)
        if n is None:
            continue
        (v4 if n.version == 4 else v6).append(n)
    return Exposure(
        _public_covered(list(ipaddress.collapse_addresses(v4)), PUBLIC_V4),
        _public_covered(list(ipaddress.collapse_addresses(v6)), PUBLIC_V6),
    )


def exposure(cidrs: Iterable[Any]) -> Exposure:
    """The public exposure of a set of CIDR strings (non-strings and invalid blocks ignored)."""
    return _exposure(tuple(sorted({c for c in cidrs if isinstance(c, str)})))


def open_verdict(cidrs: Iterable[Any]) -> tuple[str | None, str]:
    """(INTERNET | WIDE | None, description) for a set of CIDRs."""
    e = exposure(cidrs)
    return e.verdict, e.describe()


# --- protocols and ports ------------------------------------------------------------------

_PROTOCOL_NUMBERS = {"tcp": "6", "udp": "17", "icmp": "1", "icmpv6": "58", "58": "58"}
ALL = "all"


def protocol(value: Any) -> str | None:
    """Normalised protocol: "all", a protocol number as a string, or None (unknown/absent)."""
    if value is None or is_unknown(value):
        return None
    s = str(value).strip().lower()
    if s in ("-1", "all"):
        return ALL
    return _PROTOCOL_NUMBERS.get(s, s)


def _port_range(rule: Any, lo_key: str = "fromPort", hi_key: str = "toPort") -> tuple[int, int]:
    lo, hi = get(rule, lo_key), get(rule, hi_key)
    if not isinstance(lo, (int, float)) or not isinstance(hi, (int, float)):
        return (0, 65535)
    lo, hi = int(lo), int(hi)
    if lo <= 0 and hi in (0, -1, 65535):  # 0-0 / -1 with "all", 0-65535: every port
        return (0, 65535)
    return (max(lo, 0), hi if hi >= 0 else 65535)


def traffic(rule: Any, proto_key: str = "protocol") -> tuple[str | None, tuple[int, int]]:
    """(protocol, port range) of an SG/NACL rule; ports only matter for tcp and udp."""
    p = protocol(get(rule, proto_key))
    if p in ("6", "17"):
        return p, _port_range(rule)
    return p, (0, 65535)


def covers_traffic(
    outer: tuple[str | None, tuple[int, int]], inner: tuple[str | None, tuple[int, int]]
) -> bool:
    """True if every packet `inner` matches is matched by `outer` (unknowns: False)."""
    (op, (olo, ohi)), (ip, (ilo, ihi)) = outer, inner
    if op is None or ip is None:
        return False
    if op == ALL:
        return True
    return op == ip and olo <= ilo and ihi <= ohi


# --- network ACLs ---------------------------------------------------------------------------


@dataclass(frozen=True)
class AclEntry:
    number: float
    allow: bool
    cidrs: tuple[str, ...]
    traffic: tuple[str | None, tuple[int, int]]


def _acl_entry(e: Any, number_key: str, action_key: str) -> AclEntry:
    num = get(e, number_key)
    return AclEntry(
        float(num) if isinstance(num, (int, float)) else 0.0,
        str(get(e, action_key) or "").lower() == "allow",
        tuple(c for c in (get(e, "cidrBlock"), get(e, "ipv6CidrBlock")) if isinstance(c, str)),
        traffic(e),
    )


def acl_entry_inline(e: Any) -> AclEntry:
    """An inline `NetworkAcl.ingress/egress` entry (fields: ruleNo, action, cidrBlock, ipv6CidrBlock, protocol)."""
    return _acl_entry(e, "ruleNo", "action")


def acl_entry_resource(p: Any) -> AclEntry:
    """A `NetworkAclRule` resource (fields: ruleNumber, ruleAction, cidrBlock, ipv6CidrBlock, protocol)."""
    return _acl_entry(p, "ruleNumber", "ruleAction")


def acl_allowed(entries: Iterable[AclEntry]) -> list[str]:
    """CIDRs a network ACL really admits: each allow minus the earlier denies that cover its traffic."""
    ordered = sorted(entries, key=lambda e: e.number)
    out: list[str] = []
    for i, e in enumerate(ordered):
        if not e.allow:
            continue
        denied = [
            n
            for d in ordered[:i]
            if not d.allow and covers_traffic(d.traffic, e.traffic)
            for c in d.cidrs
            if (n := parse_cidr(c)) is not None
        ]
        for c in e.cidrs:
            n = parse_cidr(c)
            if n is None:
                continue
            same = [d for d in denied if d.version == n.version]
            out.extend(str(x) for x in (_subtract([n], same) if same else [n]))
    return out


# --- routes ---------------------------------------------------------------------------------

#: route field -> target kind
ROUTE_TARGET_FIELDS = {
    "gatewayId": "gateway",
    "natGatewayId": "NAT gateway",
    "egressOnlyGatewayId": "egress-only internet gateway",
    "carrierGatewayId": "carrier gateway",
    "transitGatewayId": "transit gateway",
    "vpcPeeringConnectionId": "VPC peering connection",
    "networkInterfaceId": "network interface",
    "instanceId": "instance",
    "coreNetworkArn": "Cloud WAN core network",
    "localGatewayId": "local gateway",
    "vpcEndpointId": "Gateway Load Balancer endpoint",
}
#: kinds that reach the internet whatever the destination
INTERNET_TARGETS = frozenset(
    {"internet gateway", "NAT gateway", "egress-only internet gateway", "carrier gateway"}
)


def gateway_kind(value: Any) -> str | None:
    """Kind of a `gatewayId` value by its AWS id prefix: igw- internet, vgw- virtual private gateway."""
    if not isinstance(value, str):
        return None
    v = value.strip().lower()
    if v == "local" or not v:
        return None
    if v.startswith("igw-"):
        return "internet gateway"
    if v.startswith("vgw-"):
        return "virtual private gateway"
    return "gateway"  # some other gateway id: not local, so it leaves the VPC


def route_targets(route: Any) -> list[tuple[str, str, Any]]:
    """(field, kind, value) of each target a route names; unknown values keep kind of the field."""
    out = []
    for fld, kind in ROUTE_TARGET_FIELDS.items():
        v = get(route, fld)
        if v is None or v == "":
            continue
        if fld == "gatewayId" and not is_unknown(v):
            k = gateway_kind(v)
            if k is None:
                continue
            kind = k
        out.append((fld, kind, v))
    return out
