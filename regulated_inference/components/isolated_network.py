"""A VPC with no path to the internet, reaching AWS only through endpoints.

Controls N3–N8, L11. Private subnets only (no internet gateway, no NAT, no
0.0.0.0/0 route), interface endpoints with private DNS and policies, an S3
gateway endpoint, the default security group stripped of rules, and flow logs
(ALL traffic) to a KMS-encrypted log group.
"""

import ipaddress
from typing import NotRequired, TypedDict

import pulumi
import pulumi_aws as aws

from regulated_inference.components.least_privilege_role import LeastPrivilegeRole, service_trust
from regulated_inference.lib import aws as aws_facts
from regulated_inference.lib import endpoints, iam
from regulated_inference.lib.aws import AwsContext
from regulated_inference.lib.errors import ComponentArgsError
from regulated_inference.lib.logs import encrypted_log_group
from regulated_inference.lib.outputs import publish_outputs, type_token

_COMPONENT = "IsolatedNetwork"


class IsolatedNetworkArgs(TypedDict):
    """Arguments of `IsolatedNetwork`."""

    cidr: str
    """VPC IPv4 CIDR, e.g. 10.40.0.0/16."""
    subnet_cidrs: list[str]
    """One private subnet CIDR per availability zone, inside `cidr`."""
    availability_zones: list[str]
    """AZ names, as many as `subnet_cidrs` (e.g. eu-west-2a, eu-west-2b)."""
    aws: AwsContext
    """Home region (endpoint service names and ARNs) and account (endpoint policies admit only
    its principals)."""
    logs_kms_key_arn: pulumi.Input[str]
    """CMK for the flow-log group."""
    log_group_name: str
    """Name of the flow-log group (under the logs key's permitted prefix)."""
    log_retention_days: int
    """Flow-log retention in days."""
    interface_services: NotRequired[list[str]]
    """Short names of interface endpoints; default all of `regulated_inference.lib.endpoints.INTERFACE_ENDPOINTS`."""
    endpoint_policies: NotRequired[dict[str, pulumi.Input[str]]]
    """Per-service policy overrides (e.g. bedrock-runtime limited to the allowed models)."""


class IsolatedNetwork(pulumi.ComponentResource):
    """The private network inference runs in. See the module docstring for what it guarantees."""

    vpc_id: pulumi.Output[str]
    """The VPC id."""
    vpc_cidr: str
    """The VPC CIDR."""
    private_subnet_ids: list[pulumi.Output[str]]
    """Private subnet ids, one per AZ."""
    private_subnet_arns: list[pulumi.Output[str]]
    """Private subnet ARNs, one per AZ."""
    endpoint_security_group_id: pulumi.Output[str]
    """Security group of the interface endpoints (443 from the VPC only)."""
    workload_security_group_id: pulumi.Output[str]
    """Security group for inference workloads: no ingress, egress 443 to the VPC and S3 only."""
    workload_security_group_arn: pulumi.Output[str]
    """ARN of the workload security group."""
    interface_endpoint_ids: dict[str, pulumi.Output[str]]
    """Interface endpoint ids by short service name."""
    flow_log_group_arn: pulumi.Output[str]
    """ARN of the flow-log group."""

    def __init__(
        self, name: str, args: IsolatedNetworkArgs, opts: pulumi.ResourceOptions | None = None
    ):
        services = list(args.get("interface_services") or endpoints.INTERFACE_ENDPOINTS)
        _validate(args, services)
        super().__init__(type_token(_COMPONENT), name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        ctx = args["aws"]
        region, account = ctx["region"], ctx["account_id"]

        vpc = aws.ec2.Vpc(
            f"{name}-vpc",
            cidr_block=args["cidr"],
            enable_dns_support=True,
            enable_dns_hostnames=True,
            tags={"Name": f"{name}-vpc"},
            opts=child,
        )
        # Strip every rule from the default security group (N6): nothing may use it by accident.
        aws.ec2.DefaultSecurityGroup(
            f"{name}-default-sg", vpc_id=vpc.id, ingress=[], egress=[], opts=child
        )

        route_table = aws.ec2.RouteTable(
            f"{name}-private-rt", vpc_id=vpc.id, tags={"Name": f"{name}-private"}, opts=child
        )
        subnets: list[aws.ec2.Subnet] = []
        for cidr, az in zip(args["subnet_cidrs"], args["availability_zones"], strict=True):
            subnet = aws.ec2.Subnet(
                f"{name}-private-{az[-1]}",
                vpc_id=vpc.id,
                cidr_block=cidr,
                availability_zone=az,
                map_public_ip_on_launch=False,
                tags={"Name": f"{name}-private-{az}", "tier": "private"},
                opts=child,
            )
            aws.ec2.RouteTableAssociation(
                f"{name}-private-{az[-1]}-rta",
                subnet_id=subnet.id,
                route_table_id=route_table.id,
                opts=child,
            )
            subnets.append(subnet)

        endpoint_sg = _https_group(
            f"{name}-endpoints",
            vpc,
            "Interface VPC endpoints: HTTPS from inside the VPC only",
            child,
            ingress={"https-in": ("HTTPS from the VPC", {"cidr_ipv4": args["cidr"]})},
        )

        s3_endpoint = aws.ec2.VpcEndpoint(
            f"{name}-s3",
            vpc_id=vpc.id,
            service_name=endpoints.service_name(region, "s3"),
            vpc_endpoint_type="Gateway",
            route_table_ids=[route_table.id],
            policy=endpoints.s3_gateway_policy(account, region),
            opts=child,
        )

        workload_sg = _https_group(
            f"{name}-workload",
            vpc,
            "Inference workloads: no ingress; HTTPS egress to VPC endpoints and S3 only",
            child,
            egress={
                "https-vpc": ("HTTPS to interface endpoints", {"cidr_ipv4": args["cidr"]}),
                "https-s3": (
                    "HTTPS to S3 (gateway endpoint)",
                    {"prefix_list_id": s3_endpoint.prefix_list_id},
                ),
            },
        )

        overrides = args.get("endpoint_policies") or {}
        interface_endpoint_ids: dict[str, pulumi.Output[str]] = {}
        for short in services:
            ep = aws.ec2.VpcEndpoint(
                f"{name}-{short.replace('.', '-')}",
                vpc_id=vpc.id,
                service_name=endpoints.service_name(region, short),
                vpc_endpoint_type="Interface",
                private_dns_enabled=True,
                subnet_ids=[s.id for s in subnets],
                security_group_ids=[endpoint_sg.id],
                policy=overrides.get(short, endpoints.interface_endpoint_policy(short, account)),
                opts=child,
            )
            interface_endpoint_ids[short] = ep.id

        log_group = encrypted_log_group(
            f"{name}-flow-logs",
            args["log_group_name"],
            args["logs_kms_key_arn"],
            args["log_retention_days"],
            child,
        )
        flow_role = LeastPrivilegeRole(
            f"{name}-flow-logs",
            {
                "trust": service_trust(
                    service="vpc-flow-logs.amazonaws.com",
                    source_account=account,
                    source_arn=aws_facts.ec2_arn(ctx, "vpc-flow-log", "*"),
                ),
                "grants": [iam.write_logs(log_group.arn)],
                "description": f"VPC flow logs of {name} deliver to {args['log_group_name']}",
            },
            opts=child,
        )
        aws.ec2.FlowLog(
            f"{name}-flow-log",
            vpc_id=vpc.id,
            traffic_type="ALL",
            log_destination_type="cloud-watch-logs",
            log_destination=log_group.arn,
            iam_role_arn=flow_role.arn,
            max_aggregation_interval=60,
            opts=child,
        )

        publish_outputs(
            self,
            vpc_id=vpc.id,
            vpc_cidr=args["cidr"],
            private_subnet_ids=[s.id for s in subnets],
            private_subnet_arns=[s.arn for s in subnets],
            endpoint_security_group_id=endpoint_sg.id,
            workload_security_group_id=workload_sg.id,
            workload_security_group_arn=workload_sg.arn,
            interface_endpoint_ids=interface_endpoint_ids,
            flow_log_group_arn=log_group.arn,
        )


#: A rule of `_https_group`: its description and its peer (`cidr_ipv4` or `prefix_list_id`).
_HttpsRule = tuple[str, dict[str, pulumi.Input[str]]]


def _https_group(
    resource_name: str,
    vpc: aws.ec2.Vpc,
    description: str,
    opts: pulumi.ResourceOptions,
    *,
    ingress: dict[str, _HttpsRule] | None = None,
    egress: dict[str, _HttpsRule] | None = None,
) -> aws.ec2.SecurityGroup:
    """A security group `<resource_name>-sg` whose only rules are TCP 443 (the only port this
    network opens), one `<resource_name>-<key>` rule per entry of `ingress` and `egress`."""
    group = aws.ec2.SecurityGroup(
        f"{resource_name}-sg", vpc_id=vpc.id, description=description, opts=opts
    )
    for rule, rules in (
        (aws.vpc.SecurityGroupIngressRule, ingress or {}),
        (aws.vpc.SecurityGroupEgressRule, egress or {}),
    ):
        for key, (rule_description, peer) in rules.items():
            rule(
                f"{resource_name}-{key}",
                security_group_id=group.id,
                ip_protocol="tcp",
                from_port=443,
                to_port=443,
                description=rule_description,
                opts=opts,
                **peer,
            )
    return group


def _validate(args: IsolatedNetworkArgs, services: list[str]) -> None:
    try:
        vpc = ipaddress.IPv4Network(args["cidr"])
    except (KeyError, ValueError):
        raise ComponentArgsError(
            _COMPONENT, "cidr", args.get("cidr"), "must be a valid IPv4 CIDR"
        ) from None
    cidrs, azs = args.get("subnet_cidrs") or [], args.get("availability_zones") or []
    if not cidrs or len(cidrs) != len(azs):
        raise ComponentArgsError(
            _COMPONENT, "subnet_cidrs", cidrs, "one subnet CIDR per availability zone"
        )
    if len(set(azs)) != len(azs):
        raise ComponentArgsError(
            _COMPONENT, "availability_zones", azs, "availability zones must be distinct"
        )
    seen: list[ipaddress.IPv4Network] = []
    for cidr in cidrs:
        try:
            net = ipaddress.IPv4Network(cidr)
        except ValueError:
            raise ComponentArgsError(
                _COMPONENT, "subnet_cidrs", cidr, "must be a valid IPv4 CIDR"
            ) from None
        if not net.subnet_of(vpc) or any(net.overlaps(s) for s in seen):
            raise ComponentArgsError(
                _COMPONENT, "subnet_cidrs", cidr, f"must lie inside {vpc} without overlap"
            )
        seen.append(net)
    unknown = [s for s in services if s not in endpoints.INTERFACE_ENDPOINTS]
    if unknown:
        raise ComponentArgsError(
            _COMPONENT,
            "interface_services",
            unknown,
            f"known services: {sorted(endpoints.INTERFACE_ENDPOINTS)}",
        )
    problem = aws_facts.check_context(args.get("aws"))
    if problem:
        raise ComponentArgsError(_COMPONENT, "aws", args.get("aws"), problem)
    if args.get("log_retention_days", 0) < 1:
        raise ComponentArgsError(
            _COMPONENT, "log_retention_days", args.get("log_retention_days"), "must be ≥ 1"
        )
