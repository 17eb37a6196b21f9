"""Network isolation (N1-N12)."""

from __future__ import annotations

from .base import Finding, Res, as_list, cannot_verify, get, has, is_unknown, rule, string_list
from .checks import expect, known_value, required
from .netsets import (
    INTERNET_TARGETS,
    acl_allowed,
    acl_entry_inline,
    acl_entry_resource,
    exposure,
    open_verdict,
    route_targets,
)
from .stack_index import ACL, ACL_V2, PAB, PAB_FLAGS, StackIndex

MODEL = "aws:sagemaker/model:Model"
OPEN_CIDRS = ("0.0.0.0/0", "::/0")


@rule(
    name="sagemaker-model-network-isolation",
    severity="high",
    controls=("N1",),
    types=(MODEL,),
    remediation="Set enable_network_isolation=True on the SageMaker Model.",
)
def model_network_isolation(r: Res, cfg: dict):
    """SageMaker models run with network isolation (the container has no outbound network)."""
    yield from expect(
        r.props,
        "enableNetworkIsolation",
        True,
        "enableNetworkIsolation is not true: the model container can reach the network",
    )


@rule(
    name="sagemaker-model-in-private-subnets",
    kind="stack",
    severity="high",
    controls=("N2",),
    remediation="Set vpc_config with the stack VPC's private subnet ids and a dedicated security group.",
)
def model_in_private_subnets(stack: StackIndex, cfg: dict):
    """SageMaker models run in private subnets of the stack's VPC."""
    subnets: dict[str, Res] = {}
    for s in stack.of_type("aws:ec2/subnet:Subnet"):
        sid = get(s.props, "id")
        if isinstance(sid, str):
            subnets[sid] = s
    for m in stack.of_type(MODEL):
        unset = Finding(
            f"model {m.name} has no vpcConfig: it does not run in the stack's VPC", m.urn
        )
        vc = yield from known_value(m.props, "vpcConfig", unset, m.urn)
        if vc is None:
            continue
        ids = get(vc, "subnets")
        if is_unknown(ids):
            yield cannot_verify("vpcConfig.subnets", m.urn)
            continue
        if not ids:
            yield Finding(f"model {m.name}: vpcConfig.subnets is empty", m.urn)
        if not has(vc, "securityGroupIds"):
            yield Finding(f"model {m.name}: vpcConfig.securityGroupIds is empty", m.urn)
        for sid in ids or []:
            if is_unknown(sid):
                yield cannot_verify("vpcConfig.subnets", m.urn)
                continue
            s = subnets.get(sid)
            if s is None:
                yield Finding(f"model {m.name}: subnet {sid} is not a subnet of this stack", m.urn)
            elif get(s.props, "mapPublicIpOnLaunch") is True:
                yield Finding(f"model {m.name}: subnet {sid} is public (maps public IPs)", m.urn)


VPCE = "aws:ec2/vpcEndpoint:VpcEndpoint"


@rule(
    name="vpc-endpoints-private",
    severity="medium",
    controls=("N3",),
    types=(VPCE,),
    dev_advisory=True,
    remediation="Attach an endpoint policy scoped to the stack's principals/resources; turn on private DNS "
    "for interface endpoints.",
)
def vpc_endpoint_policy(r: Res, cfg: dict):
    """VPC endpoints carry an endpoint policy; interface endpoints use private DNS."""
    yield from required(r.props, "policy", "the endpoint allows full access to the service")
    if get(r.props, "vpcEndpointType") == "Interface":
        yield from expect(
            r.props,
            "privateDnsEnabled",
            True,
            "privateDnsEnabled is not true: SDK calls resolve to the public service endpoint",
        )


@rule(
    name="vpc-endpoints-for-services",
    kind="stack",
    severity="high",
    controls=("N3",),
    config_schema={
        "requiredServices": string_list(
            "Service suffixes (after com.amazonaws.<region>.) every VPC needs an endpoint for.",
            ["sts", "kms", "logs", "monitoring", "s3"],
        ),
        "sagemakerServices": string_list(
            "Extra endpoints required when the stack runs SageMaker (API, runtime, image pulls).",
            ["sagemaker.api", "sagemaker.runtime", "ecr.api", "ecr.dkr"],
        ),
        "bedrockServices": string_list(
            "Extra endpoints required when the stack uses Bedrock.",
            ["bedrock-runtime"],
        ),
    },
    remediation="Add aws.ec2.VpcEndpoint resources (Interface, private DNS; S3 as Gateway) for each service.",
)
def vpc_endpoints_for_services(stack: StackIndex, cfg: dict):
    """Every VPC has endpoints for the AWS services the stack uses (no path via the internet)."""
    have: dict[str, set[str]] = {}
    unknown_vpcs: set[str] = set()
    for e in stack.of_type(VPCE):
        vid, svc = get(e.props, "vpcId"), get(e.props, "serviceName")
        keys = [vid] if isinstance(vid, str) else []
        keys += e.property_dependencies.get("vpcId", [])
        for k in keys:
            if is_unknown(svc):
                unknown_vpcs.add(k)
            elif isinstance(svc, str):
                have.setdefault(k, set()).add(
                    svc.split(".", 3)[-1] if svc.startswith("com.amazonaws.") else svc
                )
    required = list(cfg["requiredServices"])
    if stack.of_prefix("aws:sagemaker/"):
        required += cfg["sagemakerServices"]
    if stack.of_prefix("aws:bedrock"):
        required += cfg["bedrockServices"]
    for vpc in stack.of_type("aws:ec2/vpc:Vpc"):
        services = have.get(vpc.urn, set()) | have.get(str(get(vpc.props, "id")), set())
        if vpc.urn in unknown_vpcs or get(vpc.props, "id") in unknown_vpcs:
            yield cannot_verify("serviceName", vpc.urn, "an endpoint's service")
            continue
        missing = [s for s in required if s not in services]
        if missing:
            yield Finding(f"VPC {vpc.name} has no endpoint for {', '.join(missing)}", vpc.urn)


def _open(values) -> list[str]:
    return [c for c in values or [] if c in OPEN_CIDRS]


def _exposed(cidrs: list) -> str | None:
    """How a set of CIDRs reaches the internet (netsets), or None: the literal open blocks as
    written (`0.0.0.0/0`), or the public blocks followed by what they add up to."""
    verdict, what = open_verdict(cidrs)
    if verdict is None:
        return None
    public = [c for c in cidrs if isinstance(c, str) and exposure([c]).v4 + exposure([c]).v6]
    if public and all(c in OPEN_CIDRS for c in public):
        return ", ".join(public)
    shown = ", ".join(public[:4]) + (f" and {len(public) - 4} more" if len(public) > 4 else "")
    return f"{shown} ({what})"


SG = "aws:ec2/securityGroup:SecurityGroup"
DEFAULT_SG = "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup"
INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
EGRESS_RULE = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
SG_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule"
NACL = "aws:ec2/networkAcl:NetworkAcl"
NACL_RULE = "aws:ec2/networkAclRule:NetworkAclRule"
DEFAULT_NACL = "aws:ec2/defaultNetworkAcl:DefaultNetworkAcl"
PREFIX_LIST = "aws:ec2/managedPrefixList:ManagedPrefixList"
PREFIX_LIST_ENTRY = "aws:ec2/managedPrefixListEntry:ManagedPrefixListEntry"


def _sg_block_cidrs(b) -> list:
    cidrs = []
    for key in ("cidrBlocks", "ipv6CidrBlocks"):
        v = get(b, key)
        cidrs.extend(v if isinstance(v, list) else as_list(v))
    return cidrs


def _rule_direction(p) -> str | None:
    t = get(p, "type")
    return t.strip().lower() if isinstance(t, str) else None


def _open_rules(r: Res, direction: str):
    """Messages for rules of `direction` (ingress|egress) open to the internet, judged as address
    sets (netsets): `0.0.0.0/0`, its splits and wide public ranges alike."""
    t, p = r.type, r.props
    if t in (SG, DEFAULT_SG):
        blocks = get(p, direction)
        if is_unknown(blocks):
            yield cannot_verify(direction)
            return
        for i, b in enumerate(blocks or []):
            cidrs = _sg_block_cidrs(b)
            if any(is_unknown(c) for c in cidrs):
                yield cannot_verify(f"{direction}[{i}].cidrBlocks")
                continue
            if (what := _exposed(cidrs)) is not None:
                yield f"{direction}[{i}] allows {what} (ports {get(b, 'fromPort')}-{get(b, 'toPort')})"
    elif t in (INGRESS_RULE, EGRESS_RULE):
        if (t == INGRESS_RULE) != (direction == "ingress"):
            return
        for key in ("cidrIpv4", "cidrIpv6"):
            v = get(p, key)
            if is_unknown(v):
                yield cannot_verify(key)
            elif (what := _exposed([v])) is not None:
                yield f"{key} {what} opens the security group to the internet"
    elif t == SG_RULE:
        if _rule_direction(p) != direction:
            return
        cidrs = _sg_block_cidrs(p)
        if any(is_unknown(c) for c in cidrs):
            yield cannot_verify("cidrBlocks")
        elif (what := _exposed(cidrs)) is not None:
            yield f"{direction} rule allows {what}"
    elif t in (NACL, DEFAULT_NACL) and direction == "ingress":
        entries = get(p, "ingress")
        if is_unknown(entries):
            yield cannot_verify("ingress")
            return
        parsed = [acl_entry_inline(e) for e in entries or []]
        for i, e in enumerate(parsed):
            if e.allow and _exposed(acl_allowed([x for x in parsed if x is e or not x.allow])):
                yield f"ingress[{i}] allows traffic from the internet"
        if not any(e.allow and _exposed(list(e.cidrs)) for e in parsed):
            if (what := _exposed(acl_allowed(parsed))) is not None:
                yield f"ingress entries together admit {what}"
    elif t == NACL_RULE and direction == "ingress":
        if get(p, "egress") is not True and _exposed(acl_allowed([acl_entry_resource(p)])):
            yield "allows inbound traffic from the internet"


@rule(
    name="no-ingress-from-internet",
    severity="critical",
    controls=("N4",),
    types=(SG, DEFAULT_SG, INGRESS_RULE, SG_RULE, NACL, NACL_RULE, DEFAULT_NACL),
    remediation="Allow ingress only from the VPC CIDR, a prefix list or another security group.",
)
def no_ingress_from_internet(r: Res, cfg: dict):
    """No security group or NACL admits traffic from 0.0.0.0/0 or ::/0."""
    yield from _open_rules(r, "ingress")


@rule(
    name="no-unrestricted-egress",
    severity="high",
    controls=("N5",),
    types=(SG, DEFAULT_SG, EGRESS_RULE, SG_RULE),
    remediation="Allow egress only to the VPC endpoints' security group or the VPC CIDR on 443.",
)
def no_unrestricted_egress(r: Res, cfg: dict):
    """No security group allows egress to 0.0.0.0/0 or ::/0 (data exfiltration path)."""
    yield from _open_rules(r, "egress")


@rule(
    name="default-security-group-locked",
    kind="stack",
    severity="high",
    controls=("N6",),
    dev_advisory=True,
    remediation="Adopt each VPC's default security group with aws.ec2.DefaultSecurityGroup and no rules.",
)
def default_sg_locked(stack: StackIndex, cfg: dict):
    """Every VPC's default security group is adopted and has no rules."""
    locked: set[str] = set()
    for d in stack.of_type(DEFAULT_SG):
        rules_ = [get(d.props, "ingress"), get(d.props, "egress")]
        if any(is_unknown(x) for x in rules_):
            yield cannot_verify("ingress/egress", d.urn)
        elif any(rules_):
            yield Finding("the default security group has rules", d.urn)
        vid = get(d.props, "vpcId")
        if isinstance(vid, str):
            locked.add(vid)
        locked.update(d.property_dependencies.get("vpcId", ()))
    # rules attached from outside: an SG rule resource on the default group is a rule of it too
    refs = _Refs(stack, (DEFAULT_SG,))
    for r in stack.of_type(SG_RULE, INGRESS_RULE, EGRESS_RULE):
        for key in refs.keys(r, "securityGroupId"):
            d = stack.by_urn.get(key)
            if d is not None and d.type == DEFAULT_SG:
                yield Finding(f"the default security group has rules ({r.name} adds one)", d.urn)
    for vpc in stack.of_type("aws:ec2/vpc:Vpc"):
        if vpc.urn not in locked and get(vpc.props, "id") not in locked:
            yield Finding(
                f"VPC {vpc.name}: default security group is not managed (AWS default allows all egress "
                "and intra-group traffic)",
                vpc.urn,
            )


@rule(
    name="subnet-no-public-ip",
    severity="high",
    controls=("N7",),
    types=("aws:ec2/subnet:Subnet",),
    remediation="Set map_public_ip_on_launch=False and assign_ipv6_address_on_creation=False.",
)
def subnet_no_public_ip(r: Res, cfg: dict):
    """Subnets do not auto-assign public IP addresses."""
    for key in ("mapPublicIpOnLaunch", "assignIpv6AddressOnCreation"):
        yield from expect(r.props, key, lambda v: v is not True, f"{key} is true")


ROUTE = "aws:ec2/route:Route"
ROUTE_TABLE = "aws:ec2/routeTable:RouteTable"
DEFAULT_ROUTE_TABLE = "aws:ec2/defaultRouteTable:DefaultRouteTable"
IGW_TYPES = (
    "aws:ec2/internetGateway:InternetGateway",
    "aws:ec2/internetGatewayAttachment:InternetGatewayAttachment",
    "aws:ec2/egressOnlyInternetGateway:EgressOnlyInternetGateway",
)
NAT = "aws:ec2/natGateway:NatGateway"


@rule(
    name="no-internet-path",
    severity="critical",
    controls=("N8",),
    types=(*IGW_TYPES, NAT, ROUTE, ROUTE_TABLE, DEFAULT_ROUTE_TABLE),
    remediation="Remove internet/NAT gateways and default routes; reach AWS services through VPC endpoints.",
)
def no_internet_path(r: Res, cfg: dict):
    """No internet gateway, public NAT gateway or 0.0.0.0/0 route in the inference VPC."""
    if r.type in IGW_TYPES:
        yield f"{r.type.rsplit(':', 1)[-1]} gives the VPC a path to the internet"
    elif r.type == NAT:
        if get(r.props, "connectivityType") != "private":
            yield "public NAT gateway gives private subnets a path to the internet"
    elif r.type == ROUTE:
        yield from _route_problems(
            r.props, "", ("destinationCidrBlock", "destinationIpv6CidrBlock"), standalone=True
        )
    else:
        routes = get(r.props, "routes")
        if is_unknown(routes):
            yield cannot_verify("routes")
            return
        for i, rt in enumerate(routes or []):
            if is_unknown(rt):
                yield cannot_verify(f"routes[{i}]")
                continue
            yield from _route_problems(rt, f"routes[{i}]", ("cidrBlock", "ipv6CidrBlock"))


def _route_problems(route, label: str, dest_keys: tuple[str, str], standalone: bool = False):
    """One message per route that is an internet path: by destination (the set it covers) or by
    target (internet/NAT/egress-only/carrier gateways reach the internet whatever the destination).
    See netsets for the target semantics."""
    dests = [get(route, k) for k in dest_keys]
    if any(is_unknown(d) for d in dests):
        for k, d in zip(dest_keys, dests, strict=False):
            if is_unknown(d):
                yield cannot_verify(f"{label}.{k}" if label else k)
        return
    verdict, what = open_verdict(dests)
    targets = route_targets(route)
    if verdict is not None:
        if standalone:
            opened = [d for d in dests if isinstance(d, str) and open_verdict([d])[0]]
            shown = (opened or [d for d in dests if isinstance(d, str)])[0]
            key = dest_keys[dests.index(shown)]
            suffix = "" if shown in OPEN_CIDRS else f" ({what})"
            yield f"{key} {shown}{suffix}: default route out of the VPC"
        else:
            yield f"{label} is a default route out of the VPC" + (
                "" if any(d in OPEN_CIDRS for d in dests) else f" ({what})"
            )
        return
    for fld, kind, value in targets:
        if kind in INTERNET_TARGETS:
            where = f"{label} targets" if label else "targets"
            shown = "" if is_unknown(value) else f" {value}"
            yield f"{where} {kind}{shown}: a path to the internet whatever the destination"
            return
        if fld == "gatewayId" and is_unknown(value):
            yield cannot_verify(f"{label}.gatewayId" if label else "gatewayId", what="route target")
            return


IGW = "aws:ec2/internetGateway:InternetGateway"
EIGW = "aws:ec2/egressOnlyInternetGateway:EgressOnlyInternetGateway"


class _Refs:
    """Resolves a reference property (a value or, during preview, a dependency) to a stack key."""

    def __init__(self, stack: StackIndex, types: tuple[str, ...]):
        self.stack, self.types = stack, types
        self.by_value: dict[str, str] = {}
        for t in types:
            for r in stack.of_type(t):
                for k in ("id", "arn", "name"):
                    v = get(r.props, k)
                    if isinstance(v, str) and v:
                        self.by_value.setdefault(v, r.urn)

    def keys(self, r: Res, prop: str, value=None) -> list[str]:
        value = get(r.props, prop) if value is None else value
        out = []
        for v in as_list(value):
            if isinstance(v, str) and v:
                out.append(self.by_value.get(v, v))
        if not out or all(k not in self.stack.by_urn for k in out):
            for u in r.property_dependencies.get(prop, ()):
                if u in self.stack.by_urn and self.stack.by_urn[u].type in self.types:
                    out.append(u)
        return out


def prefix_list_cidrs(stack: StackIndex) -> tuple[_Refs, dict[str, list[str]]]:
    """Managed prefix lists of the stack -> their CIDRs (inline `entries` plus `ManagedPrefixListEntry`s)."""
    refs = _Refs(stack, (PREFIX_LIST,))
    cidrs: dict[str, list[str]] = {}
    for pl in stack.of_type(PREFIX_LIST):
        entries = get(pl.props, "entries")
        cidrs[pl.urn] = [get(e, "cidr") for e in entries or []] if not is_unknown(entries) else []
    for e in stack.of_type(PREFIX_LIST_ENTRY):
        for k in refs.keys(e, "prefixListId"):
            cidrs.setdefault(k, []).append(get(e.props, "cidr"))
    return refs, cidrs


@rule(
    name="network-exposure-across-resources",
    kind="stack",
    severity="critical",
    controls=("N4", "N5", "N8"),
    remediation="Remove the prefix-list entries, split rules or routes that together open the network to "
    "the internet; route only to VPC endpoints and allow only VPC-internal CIDRs.",
)
def network_exposure_across_resources(stack: StackIndex, cfg: dict):
    """Security groups, network ACLs and route tables do not reach the internet through managed prefix
    lists, rules split over several resources, or route targets only known through references."""
    pl_refs, pl_cidrs = prefix_list_cidrs(stack)

    def resolve(r: Res, prop: str, value=None) -> list:
        out: list = []
        for k in pl_refs.keys(r, prop, value):
            out.extend(pl_cidrs.get(k, ()))
        return out

    # --- security groups: every carrier of a group's rules, by group --------------------------
    sg_refs = _Refs(stack, (SG, DEFAULT_SG))
    groups: dict[tuple[str, str], list[tuple[Res, list, list]]] = {}

    def add(key: str, direction: str, carrier: Res, literal: list, via: list) -> None:
        groups.setdefault((key, direction), []).append((carrier, literal, via))

    for g in stack.of_type(SG, DEFAULT_SG):
        for direction in ("ingress", "egress"):
            blocks = get(g.props, direction)
            for b in blocks if isinstance(blocks, list) else []:
                add(
                    g.urn, direction, g, _sg_block_cidrs(b), resolve(g, "", get(b, "prefixListIds"))
                )
    for r in stack.of_type(SG_RULE):
        for key in sg_refs.keys(r, "securityGroupId"):
            add(
                key,
                _rule_direction(r.props) or "",
                r,
                _sg_block_cidrs(r.props),
                resolve(r, "prefixListIds"),
            )
    for r in stack.of_type(INGRESS_RULE, EGRESS_RULE):
        direction = "ingress" if r.type == INGRESS_RULE else "egress"
        for key in sg_refs.keys(r, "securityGroupId"):
            add(
                key,
                direction,
                r,
                [get(r.props, "cidrIpv4"), get(r.props, "cidrIpv6")],
                resolve(r, "prefixListId"),
            )
    for (key, direction), carriers in groups.items():
        if direction not in ("ingress", "egress"):
            continue
        if any(_exposed(lit) for _, lit, _ in carriers):
            continue  # already reported on that resource by no-ingress-from-internet/no-unrestricted-egress
        every = [c for _, lit, via in carriers for c in (*lit, *via)]
        what = _exposed(every)
        if what is None:
            continue
        sg = stack.by_urn.get(key)
        via_pl = any(via for _, _, via in carriers)
        how = "through managed prefix lists" if via_pl else f"across {len(carriers)} rules"
        yield Finding(
            f"security group {sg.name if sg else key}: {direction} {how} allows {what}",
            sg.urn if sg else carriers[0][0].urn,
        )

    # --- network ACLs: inline entries and NetworkAclRule resources, in rule-number order --------
    acl_refs = _Refs(stack, (NACL, DEFAULT_NACL))
    acls: dict[str, list] = {}
    single_open: set[str] = set()
    for a in stack.of_type(NACL, DEFAULT_NACL):
        entries = get(a.props, "ingress")
        for e in entries if isinstance(entries, list) else []:
            acls.setdefault(a.urn, []).append(acl_entry_inline(e))
    for r in stack.of_type(NACL_RULE):
        if get(r.props, "egress") is True:
            continue
        for key in acl_refs.keys(r, "networkAclId"):
            entry = acl_entry_resource(r.props)
            acls.setdefault(key, []).append(entry)
            if _exposed(acl_allowed([entry])):
                single_open.add(key)
    for key, entries in acls.items():
        if key in single_open or any(e.allow and _exposed(list(e.cidrs)) for e in entries):
            continue
        what = _exposed(acl_allowed(entries))
        if what is not None:
            acl = stack.by_urn.get(key)
            yield Finding(
                f"network ACL {acl.name if acl else key}: its rules together admit {what}",
                acl.urn if acl else None,
            )

    # --- routes: targets known only by reference, prefix-list destinations, split destinations --
    gw_refs = _Refs(stack, (IGW, EIGW, NAT))
    rt_refs = _Refs(stack, (ROUTE_TABLE, DEFAULT_ROUTE_TABLE))
    leaving: dict[str, list] = {}
    for r in stack.of_type(ROUTE):
        dests = [get(r.props, "destinationCidrBlock"), get(r.props, "destinationIpv6CidrBlock")]
        via = resolve(r, "destinationPrefixListId")
        gw = [stack.by_urn[k] for k in gw_refs.keys(r, "gatewayId") if k in stack.by_urn]
        gw = [g for g in gw if g.type in (IGW, EIGW)]
        if gw and is_unknown(get(r.props, "gatewayId")):
            yield Finding(
                f"route {r.name} targets {gw[0].type.rsplit(':', 1)[-1]} {gw[0].name}: a path to the "
                "internet whatever the destination",
                r.urn,
            )
            continue
        if via and not _exposed(dests) and (what := _exposed([*dests, *via])) is not None:
            yield Finding(
                f"route {r.name}: destination prefix list covers {what}: route out of the VPC",
                r.urn,
            )
            continue
        if route_targets(r.props) and not _exposed(dests):
            for key in rt_refs.keys(r, "routeTableId"):
                leaving.setdefault(key, []).extend([*dests, *via])
    for rt in stack.of_type(ROUTE_TABLE, DEFAULT_ROUTE_TABLE):
        routes = get(rt.props, "routes")
        for route in routes if isinstance(routes, list) else []:
            dests = [get(route, "cidrBlock"), get(route, "ipv6CidrBlock")]
            via = resolve(rt, "", get(route, "destinationPrefixListId"))
            if route_targets(route) and not _exposed(dests):
                leaving.setdefault(rt.urn, []).extend([*dests, *via])
    for key, dests in leaving.items():
        what = _exposed(dests)
        if what is not None:
            t = stack.by_urn.get(key)
            yield Finding(
                f"route table {t.name if t else key}: routes out of the VPC together cover {what}",
                t.urn if t else None,
            )


@rule(
    name="s3-public-access-block-complete",
    severity="critical",
    controls=("N9",),
    types=(PAB,),
    remediation="Set all four flags of the BucketPublicAccessBlock to True.",
)
def pab_complete(r: Res, cfg: dict):
    """Public access blocks set all four flags."""
    for f in PAB_FLAGS:
        yield from expect(r.props, f, True, f"{f} is not true")


@rule(
    name="s3-bucket-public-access-blocked",
    kind="stack",
    severity="critical",
    controls=("N9",),
    remediation="Add an aws.s3.BucketPublicAccessBlock (all four flags True) for the bucket.",
)
def bucket_pab(stack: StackIndex, cfg: dict):
    """Every bucket has a public access block."""
    for b in stack.buckets:
        if not stack.settings(b, "public_access_block"):
            yield Finding(f"bucket {b.name} has no public access block", b.urn)


@rule(
    name="s3-acls-disabled",
    kind="stack",
    severity="high",
    controls=("N10",),
    dev_advisory=True,
    remediation='Add aws.s3.BucketOwnershipControls with object_ownership="BucketOwnerEnforced"; drop ACLs.',
)
def acls_disabled(stack: StackIndex, cfg: dict):
    """Bucket ACLs are disabled (BucketOwnerEnforced) and no ACL is granted."""
    for acl in stack.of_type(ACL, ACL_V2):
        yield Finding("bucket ACL resource: ACLs must stay disabled", acl.urn)
    for b in stack.buckets:
        acl = get(b.props, "acl")
        if isinstance(acl, str) and acl.strip().lower() != "private":
            yield Finding(f"bucket {b.name} sets canned ACL {acl}", b.urn)
        if has(b.props, "grants"):
            yield Finding(f"bucket {b.name} grants ACL permissions", b.urn)
        owners = stack.settings(b, "ownership")
        modes = [get(o.props, "rule.objectOwnership") for o in owners]
        if any(is_unknown(m) for m in modes):
            yield cannot_verify("rule.objectOwnership", b.urn)
        elif "BucketOwnerEnforced" not in modes:
            yield Finding(
                f"bucket {b.name}: ownership controls are not BucketOwnerEnforced (ACLs enabled)",
                b.urn,
            )


@rule(
    name="sns-subscriptions-encrypted-transport",
    severity="medium",
    controls=("N11",),
    types=("aws:sns/topicSubscription:TopicSubscription",),
    remediation="Use https (or sqs/lambda/email) endpoints for SNS subscriptions, never plain http.",
)
def sns_subscription_https(r: Res, cfg: dict):
    """SNS subscriptions do not deliver over plain HTTP."""
    proto = get(r.props, "protocol")
    if is_unknown(proto):
        yield cannot_verify("protocol")
    elif isinstance(proto, str) and proto.strip().lower() == "http":
        yield "protocol is http: alerts travel unencrypted"
    endpoint = get(r.props, "endpoint")
    if is_unknown(endpoint):
        if isinstance(proto, str) and proto.strip().lower() in ("http", "https"):
            yield cannot_verify("endpoint")
    elif isinstance(endpoint, str) and endpoint.strip().lower().startswith("http://"):
        yield f"endpoint {endpoint} is plain http"


@rule(
    name="eks-endpoint-private",
    severity="high",
    controls=("N12",),
    types=("aws:eks/cluster:Cluster",),
    remediation="Set vpc_config.endpoint_public_access=False and endpoint_private_access=True.",
)
def eks_endpoint_private(r: Res, cfg: dict):
    """The EKS API endpoint is private only."""
    vc = get(r.props, "vpcConfig")
    if is_unknown(vc):
        yield cannot_verify("vpcConfig")
        return
    yield from expect(
        r.props,
        "vpcConfig.endpointPublicAccess",
        False,
        "vpcConfig.endpointPublicAccess is not false (AWS default: public)",
    )
    yield from expect(
        r.props,
        "vpcConfig.endpointPrivateAccess",
        True,
        "vpcConfig.endpointPrivateAccess is not true",
    )


RULES = [
    model_network_isolation,
    model_in_private_subnets,
    vpc_endpoint_policy,
    vpc_endpoints_for_services,
    no_ingress_from_internet,
    no_unrestricted_egress,
    default_sg_locked,
    subnet_no_public_ip,
    no_internet_path,
    network_exposure_across_resources,
    pab_complete,
    bucket_pab,
    acls_disabled,
    sns_subscription_https,
    eks_endpoint_private,
]
