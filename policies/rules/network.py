"""Network isolation (N1-N12)."""

from __future__ import annotations

from . import frameworks as fw
from .base import Finding, Res, cannot_verify, get, has, is_unknown, rule
from .stack_index import ACL, ACL_V2, StackIndex

NET = (
    fw.SOC2_BOUNDARY,
    fw.ISO_NETWORK,
    fw.ISO_SEGREGATION,
    fw.HIPAA_TRANSMISSION,
    fw.GDPR_SECURITY,
)
MODEL = "aws:sagemaker/model:Model"
OPEN_CIDRS = ("0.0.0.0/0", "::/0")


@rule(
    name="sagemaker-model-network-isolation",
    severity="high",
    controls=("N1",),
    frameworks=(*NET, fw.AIACT_ROBUSTNESS),
    types=(MODEL,),
    remediation="Set enable_network_isolation=True on the SageMaker Model.",
)
def model_network_isolation(r: Res, cfg: dict):
    """SageMaker models run with network isolation (the container has no outbound network)."""
    flag = get(r.props, "enableNetworkIsolation")
    if is_unknown(flag):
        yield cannot_verify("enableNetworkIsolation")
    elif flag is not True:
        yield "enableNetworkIsolation is not true: the model container can reach the network"


@rule(
    name="sagemaker-model-in-private-subnets",
    kind="stack",
    severity="high",
    controls=("N2",),
    frameworks=NET,
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
        vc = get(m.props, "vpcConfig")
        if is_unknown(vc):
            yield cannot_verify("vpcConfig", m.urn)
            continue
        if not vc:
            yield Finding(
                f"model {m.name} has no vpcConfig: it does not run in the stack's VPC", m.urn
            )
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
    frameworks=NET,
    types=(VPCE,),
    dev_advisory=True,
    remediation="Attach an endpoint policy scoped to the stack's principals/resources; turn on private DNS "
    "for interface endpoints.",
)
def vpc_endpoint_policy(r: Res, cfg: dict):
    """VPC endpoints carry an endpoint policy; interface endpoints use private DNS."""
    if not has(r.props, "policy"):
        yield "policy is not set: the endpoint allows full access to the service"
    kind = get(r.props, "vpcEndpointType")
    if kind == "Interface":
        dns = get(r.props, "privateDnsEnabled")
        if is_unknown(dns):
            yield cannot_verify("privateDnsEnabled")
        elif dns is not True:
            yield "privateDnsEnabled is not true: SDK calls resolve to the public service endpoint"


@rule(
    name="vpc-endpoints-for-services",
    kind="stack",
    severity="high",
    controls=("N3",),
    frameworks=NET,
    config_schema={
        "requiredServices": {
            "type": "array",
            "items": {"type": "string"},
            "description": "Service suffixes (after com.amazonaws.<region>.) every VPC needs an endpoint for.",
            "default": ["sts", "kms", "logs", "monitoring", "s3"],
        },
        "sagemakerServices": {
            "type": "array",
            "items": {"type": "string"},
            "description": "Extra endpoints required when the stack runs SageMaker (API, runtime, image pulls).",
            "default": ["sagemaker.api", "sagemaker.runtime", "ecr.api", "ecr.dkr"],
        },
        "bedrockServices": {
            "type": "array",
            "items": {"type": "string"},
            "description": "Extra endpoints required when the stack uses Bedrock.",
            "default": ["bedrock-runtime"],
        },
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


SG = "aws:ec2/securityGroup:SecurityGroup"
DEFAULT_SG = "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup"
INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
EGRESS_RULE = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
SG_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule"
NACL = "aws:ec2/networkAcl:NetworkAcl"
NACL_RULE = "aws:ec2/networkAclRule:NetworkAclRule"
DEFAULT_NACL = "aws:ec2/defaultNetworkAcl:DefaultNetworkAcl"


def _open_rules(r: Res, direction: str):
    """Messages for rules of `direction` (ingress|egress) open to the world."""
    t, p = r.type, r.props
    if t in (SG, DEFAULT_SG):
        blocks = get(p, direction)
        if is_unknown(blocks):
            yield cannot_verify(direction)
            return
        for i, b in enumerate(blocks or []):
            cidrs = _open((get(b, "cidrBlocks") or []) + (get(b, "ipv6CidrBlocks") or []))
            if cidrs:
                yield f"{direction}[{i}] allows {', '.join(cidrs)} (ports {get(b, 'fromPort')}-{get(b, 'toPort')})"
    elif t in (INGRESS_RULE, EGRESS_RULE):
        if (t == INGRESS_RULE) != (direction == "ingress"):
            return
        for key in ("cidrIpv4", "cidrIpv6"):
            v = get(p, key)
            if is_unknown(v):
                yield cannot_verify(key)
            elif v in OPEN_CIDRS:
                yield f"{key} {v} opens the security group to the internet"
    elif t == SG_RULE:
        if get(p, "type") != direction:
            return
        cidrs = _open((get(p, "cidrBlocks") or []) + (get(p, "ipv6CidrBlocks") or []))
        if cidrs:
            yield f"{direction} rule allows {', '.join(cidrs)}"
    elif t in (NACL, DEFAULT_NACL) and direction == "ingress":
        for i, b in enumerate(get(p, "ingress") or []):
            if get(b, "action") == "allow" and (
                get(b, "cidrBlock") in OPEN_CIDRS or get(b, "ipv6CidrBlock") in OPEN_CIDRS
            ):
                yield f"ingress[{i}] allows traffic from the internet"
    elif t == NACL_RULE and direction == "ingress":
        if (
            get(p, "egress") is not True
            and get(p, "ruleAction") == "allow"
            and (get(p, "cidrBlock") in OPEN_CIDRS or get(p, "ipv6CidrBlock") in OPEN_CIDRS)
        ):
            yield "allows inbound traffic from the internet"


@rule(
    name="no-ingress-from-internet",
    severity="critical",
    controls=("N4",),
    frameworks=NET,
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
    frameworks=(*NET, fw.ISO_DLP),
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
    frameworks=NET,
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
    frameworks=NET,
    types=("aws:ec2/subnet:Subnet",),
    remediation="Set map_public_ip_on_launch=False and assign_ipv6_address_on_creation=False.",
)
def subnet_no_public_ip(r: Res, cfg: dict):
    """Subnets do not auto-assign public IP addresses."""
    for key in ("mapPublicIpOnLaunch", "assignIpv6AddressOnCreation"):
        v = get(r.props, key)
        if is_unknown(v):
            yield cannot_verify(key)
        elif v is True:
            yield f"{key} is true"


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
    frameworks=(*NET, fw.ISO_DLP),
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
        for key in ("destinationCidrBlock", "destinationIpv6CidrBlock"):
            v = get(r.props, key)
            if is_unknown(v):
                yield cannot_verify(key)
            elif v in OPEN_CIDRS:
                yield f"{key} {v}: default route out of the VPC"
    else:
        routes = get(r.props, "routes")
        if is_unknown(routes):
            yield cannot_verify("routes")
            return
        for i, rt in enumerate(routes or []):
            if get(rt, "cidrBlock") in OPEN_CIDRS or get(rt, "ipv6CidrBlock") in OPEN_CIDRS:
                yield f"routes[{i}] is a default route out of the VPC"


PAB = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
PAB_FLAGS = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")


@rule(
    name="s3-public-access-block-complete",
    severity="critical",
    controls=("N9",),
    frameworks=(*NET, fw.ISO_DLP),
    types=(PAB,),
    remediation="Set all four flags of the BucketPublicAccessBlock to True.",
)
def pab_complete(r: Res, cfg: dict):
    """Public access blocks set all four flags."""
    for f in PAB_FLAGS:
        v = get(r.props, f)
        if is_unknown(v):
            yield cannot_verify(f)
        elif v is not True:
            yield f"{f} is not true"


@rule(
    name="s3-bucket-public-access-blocked",
    kind="stack",
    severity="critical",
    controls=("N9",),
    frameworks=(*NET, fw.ISO_DLP),
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
    frameworks=(*NET, fw.ISO_ACCESS_RESTRICTION),
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
    frameworks=(*NET, fw.SOC2_TRANSMISSION),
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
    frameworks=NET,
    types=("aws:eks/cluster:Cluster",),
    remediation="Set vpc_config.endpoint_public_access=False and endpoint_private_access=True.",
)
def eks_endpoint_private(r: Res, cfg: dict):
    """The EKS API endpoint is private only."""
    vc = get(r.props, "vpcConfig")
    if is_unknown(vc):
        yield cannot_verify("vpcConfig")
        return
    public = get(vc, "endpointPublicAccess")
    private = get(vc, "endpointPrivateAccess")
    if is_unknown(public):
        yield cannot_verify("vpcConfig.endpointPublicAccess")
    elif public is not False:
        yield "vpcConfig.endpointPublicAccess is not false (AWS default: public)"
    if is_unknown(private):
        yield cannot_verify("vpcConfig.endpointPrivateAccess")
    elif private is not True:
        yield "vpcConfig.endpointPrivateAccess is not true"


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
    pab_complete,
    bucket_pab,
    acls_disabled,
    sns_subscription_https,
    eks_endpoint_private,
]
