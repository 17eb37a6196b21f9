"""Network isolation (N1-N9, N12) against rewrites: split CIDRs, prefix lists, other carriers, targets.

Written from the anchors' rationales (CKV_AWS_24/25/260/277/382, CKV2_AWS_12, no-unrestricted-route-
to-igw): what matters is which addresses a rule opens and where a route leads, not how it is spelt.
"""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from policies.rules import netsets
from policies.rules import network as net
from policies.rules.base import UNKNOWN, res

from ..conftest import stack_violations, unknowns, violations

SG = net.SG
SG_RULE = net.SG_RULE
INGRESS = net.INGRESS_RULE
EGRESS = net.EGRESS_RULE
NACL = net.NACL
ROUTE = net.ROUTE
RT = net.ROUTE_TABLE
FAST = settings(
    max_examples=60, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)


def _split(net_: str, depth_choices: list[int]) -> list[str]:
    """Split a block into sub-blocks: each choice says how many more bits to cut the next piece by."""
    todo = [ipaddress.ip_network(net_)]
    out: list[str] = []
    i = 0
    while todo:
        n = todo.pop()
        extra = depth_choices[i % len(depth_choices)] if depth_choices else 0
        i += 1
        if extra and n.prefixlen + 1 <= n.max_prefixlen and len(out) + len(todo) < 200:
            todo.extend(n.subnets(prefixlen_diff=1))
        else:
            out.append(str(n))
    return out


class TestAddressSets:
    @FAST
    @given(st.lists(st.integers(0, 1), min_size=1, max_size=12), st.randoms(use_true_random=False))
    def test_any_split_of_the_ipv4_internet_is_the_internet(self, choices, rnd):
        parts = _split("0.0.0.0/0", choices)
        rnd.shuffle(parts)
        assert netsets.open_verdict(parts)[0] == netsets.INTERNET

    @FAST
    @given(st.lists(st.integers(0, 1), min_size=1, max_size=12))
    def test_any_split_of_ipv6_global_unicast_is_the_internet(self, choices):
        assert netsets.open_verdict(_split("2000::/3", choices))[0] == netsets.INTERNET

    @FAST
    @given(st.lists(st.integers(0, 1), min_size=1, max_size=12))
    def test_a_split_missing_a_public_piece_is_not_the_whole_internet(self, choices):
        parts = _split("0.0.0.0/0", choices)
        # drop a piece that holds public space; keep the rest
        public = [p for p in parts if netsets.exposure([p]).v4]
        parts.remove(public[-1])
        assert netsets.exposure(parts).v4 < netsets.PUBLIC_V4_SIZE

    def test_the_internet_minus_private_ranges_is_still_the_internet(self):
        public_only = [str(n) for n in netsets.PUBLIC_V4]
        assert netsets.open_verdict(public_only)[0] == netsets.INTERNET

    @pytest.mark.parametrize(
        "cidrs",
        [
            ["0.0.0.0/0"],
            ["0.0.0.0/1", "128.0.0.0/1"],
            [str(n) for n in ipaddress.ip_network("0.0.0.0/0").subnets(new_prefix=6)],  # 64 /6
            ["::/0"],
            ["0::0/0"],
            ["0:0:0:0:0:0:0:0/0"],
            ["1.2.3.4/0"],  # host bits set: still everything
            ["2000::/3"],
        ],
    )
    def test_internet_spellings(self, cidrs):
        assert netsets.open_verdict(cidrs)[0] == netsets.INTERNET

    @pytest.mark.parametrize(
        "cidrs",
        [["10.0.0.0/8"], ["172.16.0.0/12", "192.168.0.0/16"], ["100.64.0.0/10"], ["fd00::/8"]],
    )
    def test_private_space_is_not_exposure(self, cidrs):
        assert netsets.open_verdict(cidrs)[0] is None

    def test_wide_public_range(self):
        assert netsets.open_verdict(["0.0.0.0/1"])[0] == netsets.WIDE
        assert netsets.open_verdict(["52.0.0.0/8"])[0] == netsets.WIDE
        assert netsets.open_verdict(["52.94.0.0/22"])[0] is None


class TestIngressRewrites:
    @pytest.mark.parametrize(
        "props,message",
        [
            (
                {
                    "ingress": [
                        {
                            "protocol": "-1",
                            "fromPort": 0,
                            "toPort": 0,
                            "cidrBlocks": ["0.0.0.0/1", "128.0.0.0/1"],
                        }
                    ]
                },
                "ingress[0] allows 0.0.0.0/1, 128.0.0.0/1 (the whole IPv4 internet) (ports 0-0)",
            ),
            (
                {
                    "ingress": [
                        {
                            "protocol": "tcp",
                            "fromPort": 443,
                            "toPort": 443,
                            "ipv6CidrBlocks": ["2000::/4", "3000::/4"],
                        }
                    ]
                },
                "ingress[0] allows 2000::/4, 3000::/4 (the whole IPv6 internet) (ports 443-443)",
            ),
            (  # a single string where AWS takes a list
                {
                    "ingress": [
                        {"protocol": "tcp", "fromPort": 22, "toPort": 22, "cidrBlocks": "0.0.0.0/0"}
                    ]
                },
                "ingress[0] allows 0.0.0.0/0 (ports 22-22)",
            ),
        ],
    )
    def test_security_group_inline(self, props, message):
        assert violations(net.no_ingress_from_internet, SG, props) == [message]

    def test_default_security_group_is_a_carrier_too(self):
        props = {
            "ingress": [
                {"protocol": "all", "fromPort": 0, "toPort": 65535, "cidrBlocks": ["0.0.0.0/0"]}
            ]
        }
        assert violations(net.no_ingress_from_internet, net.DEFAULT_SG, props) == [
            "ingress[0] allows 0.0.0.0/0 (ports 0-65535)"
        ]

    def test_security_group_rule_type_case_and_split(self):
        props = {"type": "Ingress", "cidrBlocks": ["0.0.0.0/2", "64.0.0.0/2", "128.0.0.0/1"]}
        assert violations(net.no_ingress_from_internet, SG_RULE, props) == [
            "ingress rule allows 0.0.0.0/2, 64.0.0.0/2, 128.0.0.0/1 (the whole IPv4 internet)"
        ]

    def test_vpc_rule_wide_block(self):
        assert violations(net.no_ingress_from_internet, INGRESS, {"cidrIpv4": "0.0.0.0/1"}) == [
            "cidrIpv4 0.0.0.0/1 (a wide public range (56.5% of public IPv4)) opens the security group "
            "to the internet"
        ]

    def test_nacl_deny_first_closes_the_allow(self):
        props = {
            "ingress": [
                {
                    "ruleNo": 200,
                    "action": "allow",
                    "protocol": "-1",
                    "fromPort": 0,
                    "toPort": 0,
                    "cidrBlock": "0.0.0.0/0",
                },
                {
                    "ruleNo": 100,
                    "action": "deny",
                    "protocol": "-1",
                    "fromPort": 0,
                    "toPort": 0,
                    "cidrBlock": "0.0.0.0/0",
                },
            ]
        }
        assert violations(net.no_ingress_from_internet, NACL, props) == []

    def test_nacl_deny_on_other_port_does_not_close_it(self):
        props = {
            "ingress": [
                {
                    "ruleNo": 100,
                    "action": "deny",
                    "protocol": "tcp",
                    "fromPort": 22,
                    "toPort": 22,
                    "cidrBlock": "0.0.0.0/0",
                },
                {
                    "ruleNo": 200,
                    "action": "ALLOW",
                    "protocol": "6",
                    "fromPort": 0,
                    "toPort": 65535,
                    "cidrBlock": "0.0.0.0/0",
                },
            ]
        }
        assert violations(net.no_ingress_from_internet, NACL, props) == [
            "ingress[1] allows traffic from the internet"
        ]

    def test_nacl_entries_split_across_rules(self):
        props = {
            "ingress": [
                {
                    "ruleNo": 100 + i,
                    "action": "allow",
                    "protocol": "-1",
                    "fromPort": 0,
                    "toPort": 0,
                    "cidrBlock": str(n),
                }
                for i, n in enumerate(ipaddress.ip_network("0.0.0.0/0").subnets(new_prefix=9))
            ]
        }
        # only the public blocks are named (0/8 and 10/8 are not the internet)
        assert violations(net.no_ingress_from_internet, NACL, props) == [
            "ingress entries together admit 1.0.0.0/9, 1.128.0.0/9, 2.0.0.0/9, 2.128.0.0/9 and 438 more "
            "(the whole IPv4 internet)"
        ]

    @pytest.mark.parametrize(
        "type_,props",
        [
            (
                SG,
                {
                    "ingress": [
                        {
                            "protocol": "tcp",
                            "fromPort": 443,
                            "toPort": 443,
                            "cidrBlocks": ["10.0.0.0/9", "10.128.0.0/9"],
                        }
                    ]
                },
            ),
            (SG, {"ingress": [{"protocol": "tcp", "fromPort": 443, "toPort": 443, "self": True}]}),
            (INGRESS, {"referencedSecurityGroupId": "sg-1"}),
            (INGRESS, {"cidrIpv6": "fd00::/8"}),
            (SG_RULE, {"type": "egress", "cidrBlocks": ["0.0.0.0/0"]}),  # egress is N5's business
        ],
    )
    def test_compliant_rewrites(self, type_, props):
        assert violations(net.no_ingress_from_internet, type_, props) == []

    def test_unknown_cidr_is_reported(self):
        assert unknowns(net.no_ingress_from_internet, INGRESS, {"cidrIpv4": UNKNOWN}) == [
            "cannot verify until apply: cidrIpv4 is unknown during preview"
        ]


class TestEgressRewrites:
    def test_split_egress(self):
        props = {
            "egress": [
                {
                    "protocol": "-1",
                    "fromPort": 0,
                    "toPort": 0,
                    "cidrBlocks": ["0.0.0.0/1", "128.0.0.0/1"],
                }
            ]
        }
        assert violations(net.no_unrestricted_egress, SG, props) == [
            "egress[0] allows 0.0.0.0/1, 128.0.0.0/1 (the whole IPv4 internet) (ports 0-0)"
        ]

    def test_ipv6_egress_rule(self):
        assert violations(net.no_unrestricted_egress, EGRESS, {"cidrIpv6": "::/0"}) == [
            "cidrIpv6 ::/0 opens the security group to the internet"
        ]

    def test_vpc_internal_egress_passes(self):
        assert violations(net.no_unrestricted_egress, EGRESS, {"cidrIpv4": "10.40.0.0/16"}) == []


def _pl(cidrs, name="pl", id_="pl-123"):
    return res(net.PREFIX_LIST, {"id": id_, "entries": [{"cidr": c} for c in cidrs]}, name)


class TestAcrossResources:
    rule = net.network_exposure_across_resources

    def test_prefix_list_with_the_internet(self):
        sg = res(SG, {"id": "sg-1"}, "sg")
        rule_ = res(INGRESS, {"securityGroupId": "sg-1", "prefixListId": "pl-123"}, "r")
        assert stack_violations(self.rule, [sg, rule_, _pl(["0.0.0.0/1", "128.0.0.0/1"])]) == [
            (
                "sg",
                "security group sg: ingress through managed prefix lists allows 0.0.0.0/1, "
                "128.0.0.0/1 (the whole IPv4 internet)",
            )
        ]

    def test_prefix_list_entries_as_separate_resources_and_by_dependency(self):
        sg = res(SG, {"id": "sg-1"}, "sg")
        pl = res(net.PREFIX_LIST, {"entries": []}, "pl")
        entries = [
            res(
                net.PREFIX_LIST_ENTRY,
                {"cidr": c},
                f"e{i}",
                property_dependencies={"prefixListId": [pl.urn]},
            )
            for i, c in enumerate(["2000::/4", "3000::/4"])
        ]
        rule_ = res(
            EGRESS,
            {"securityGroupId": UNKNOWN, "prefixListId": UNKNOWN},
            "r",
            property_dependencies={"securityGroupId": [sg.urn], "prefixListId": [pl.urn]},
        )
        assert stack_violations(self.rule, [sg, pl, *entries, rule_]) == [
            (
                "sg",
                "security group sg: egress through managed prefix lists allows 2000::/4, 3000::/4 "
                "(the whole IPv6 internet)",
            )
        ]

    def test_split_across_many_rule_resources(self):
        sg = res(SG, {"id": "sg-1"}, "sg")
        rules = [
            res(INGRESS, {"securityGroupId": "sg-1", "cidrIpv4": str(n)}, f"r{i}")
            for i, n in enumerate(ipaddress.ip_network("0.0.0.0/0").subnets(new_prefix=9))
        ]
        got = stack_violations(self.rule, [sg, *rules])
        assert got == [("sg", got[0][1])] and "across 512 rules allows" in got[0][1]
        assert got[0][1].endswith("(the whole IPv4 internet)")

    def test_prefix_list_of_vpc_ranges_passes(self):
        sg = res(SG, {"id": "sg-1"}, "sg")
        rule_ = res(INGRESS, {"securityGroupId": "sg-1", "prefixListId": "pl-123"}, "r")
        assert stack_violations(self.rule, [sg, rule_, _pl(["10.0.0.0/8"])]) == []

    def test_nacl_rules_as_resources_with_denies(self):
        acl = res(NACL, {"id": "acl-1"}, "acl")
        rules = [
            res(
                net.NACL_RULE,
                {
                    "networkAclId": "acl-1",
                    "ruleNumber": 100 + i,
                    "ruleAction": "allow",
                    "protocol": "-1",
                    "cidrBlock": str(n),
                },
                f"r{i}",
            )
            for i, n in enumerate(ipaddress.ip_network("0.0.0.0/0").subnets(new_prefix=9))
        ]
        got = stack_violations(self.rule, [acl, *rules])
        assert len(got) == 1 and got[0][0] == "acl" and "(the whole IPv4 internet)" in got[0][1]
        deny = res(
            net.NACL_RULE,
            {
                "networkAclId": "acl-1",
                "ruleNumber": 1,
                "ruleAction": "deny",
                "protocol": "-1",
                "cidrBlock": "0.0.0.0/0",
            },
            "deny",
        )
        assert stack_violations(self.rule, [acl, deny, *rules]) == []

    def test_route_to_igw_known_only_by_reference(self):
        igw = res(net.IGW_TYPES[0], {}, "igw")
        route = res(
            ROUTE,
            {"destinationCidrBlock": "10.9.0.0/16", "gatewayId": UNKNOWN},
            "rt1",
            property_dependencies={"gatewayId": [igw.urn]},
        )
        assert stack_violations(self.rule, [igw, route]) == [
            (
                "rt1",
                "route rt1 targets InternetGateway igw: a path to the internet whatever the destination",
            )
        ]

    def test_route_destination_prefix_list(self):
        route = res(ROUTE, {"destinationPrefixListId": "pl-123", "transitGatewayId": "tgw-1"}, "r")
        assert stack_violations(self.rule, [route, _pl(["0.0.0.0/0"])]) == [
            ("r", "route r: destination prefix list covers 0.0.0.0/0: route out of the VPC")
        ]

    def test_default_routes_split_over_route_resources(self):
        table = res(RT, {"id": "rtb-1"}, "table")
        routes = [
            res(
                ROUTE,
                {
                    "routeTableId": "rtb-1",
                    "destinationCidrBlock": str(n),
                    "transitGatewayId": "tgw-1",
                },
                f"r{i}",
            )
            for i, n in enumerate(ipaddress.ip_network("0.0.0.0/0").subnets(new_prefix=9))
        ]
        got = stack_violations(self.rule, [table, *routes])
        assert len(got) == 1 and got[0][0] == "table" and "(the whole IPv4 internet)" in got[0][1]


class TestRoutes:
    @pytest.mark.parametrize(
        "props,message",
        [
            (
                {"destinationCidrBlock": "10.0.0.0/8", "gatewayId": "igw-0abc"},
                "targets internet gateway igw-0abc: a path to the internet whatever the destination",
            ),
            (
                {"destinationCidrBlock": "10.0.0.0/8", "gatewayId": "IGW-0ABC"},
                "targets internet gateway IGW-0ABC: a path to the internet whatever the destination",
            ),
            (
                {"destinationCidrBlock": "192.168.0.0/16", "natGatewayId": UNKNOWN},
                "targets NAT gateway: a path to the internet whatever the destination",
            ),
            (
                {"destinationIpv6CidrBlock": "2001:db8::/32", "egressOnlyGatewayId": "eigw-1"},
                "targets egress-only internet gateway eigw-1: a path to the internet whatever the destination",
            ),
            (
                {"destinationCidrBlock": "0.0.0.0/1", "transitGatewayId": "tgw-1"},
                "destinationCidrBlock 0.0.0.0/1 (a wide public range (56.5% of public IPv4)): default route "
                "out of the VPC",
            ),
            (
                {"destinationIpv6CidrBlock": "::/0", "networkInterfaceId": "eni-1"},
                "destinationIpv6CidrBlock ::/0: default route out of the VPC",
            ),
        ],
    )
    def test_route_resource(self, props, message):
        assert violations(net.no_internet_path, ROUTE, props) == [message]

    def test_inline_route_split_default(self):
        props = {"routes": [{"cidrBlock": "0.0.0.0/1", "vpcPeeringConnectionId": "pcx-1"}]}
        assert violations(net.no_internet_path, RT, props) == [
            "routes[0] is a default route out of the VPC (a wide public range (56.5% of public IPv4))"
        ]

    def test_default_route_table_inline_igw(self):
        props = {"routes": [{"cidrBlock": "10.1.0.0/16", "gatewayId": "igw-1"}]}
        assert violations(net.no_internet_path, net.DEFAULT_ROUTE_TABLE, props) == [
            "routes[0] targets internet gateway igw-1: a path to the internet whatever the destination"
        ]

    @pytest.mark.parametrize(
        "props",
        [
            {"destinationCidrBlock": "10.50.0.0/16", "vpcPeeringConnectionId": "pcx-1"},
            {"destinationCidrBlock": "10.0.0.0/8", "transitGatewayId": "tgw-1"},
            {"destinationCidrBlock": "10.40.0.0/16", "gatewayId": "local"},
            {"destinationCidrBlock": "172.16.0.0/12", "gatewayId": "vgw-1"},
        ],
    )
    def test_private_routing_passes(self, props):
        assert violations(net.no_internet_path, ROUTE, props) == []

    def test_unknown_gateway_is_reported(self):
        assert unknowns(
            net.no_internet_path,
            ROUTE,
            {"destinationCidrBlock": "10.1.0.0/16", "gatewayId": UNKNOWN},
        ) == ["cannot verify until apply: gatewayId is unknown during preview (route target)"]


class TestDefaultSgRulesFromOutside:
    def test_rule_resource_on_the_default_group(self):
        vpc = res("aws:ec2/vpc:Vpc", {"id": "vpc-1"}, "vpc")
        d = res(
            net.DEFAULT_SG, {"id": "sg-def", "vpcId": "vpc-1", "ingress": [], "egress": []}, "dsg"
        )
        r = res(
            INGRESS,
            {"securityGroupId": UNKNOWN, "cidrIpv4": "10.0.0.0/8"},
            "sneaky",
            property_dependencies={"securityGroupId": [d.urn]},
        )
        assert stack_violations(net.default_sg_locked, [vpc, d, r]) == [
            ("dsg", "the default security group has rules (sneaky adds one)")
        ]


class TestOtherNetworkRules:
    def test_isolation_string_true_is_not_true(self):
        assert violations(
            net.model_network_isolation, net.MODEL, {"enableNetworkIsolation": "true"}
        ) == ["enableNetworkIsolation is not true: the model container can reach the network"]

    def test_subnet_ipv6_auto_assign(self):
        assert violations(
            net.subnet_no_public_ip, "aws:ec2/subnet:Subnet", {"assignIpv6AddressOnCreation": True}
        ) == ["assignIpv6AddressOnCreation is true"]

    def test_eks_public_by_default(self):
        assert violations(
            net.eks_endpoint_private,
            "aws:eks/cluster:Cluster",
            {"vpcConfig": {"endpointPrivateAccess": True}},
        ) == ["vpcConfig.endpointPublicAccess is not false (AWS default: public)"]

    def test_pab_string_flags_are_not_true(self):
        props = dict.fromkeys(net.PAB_FLAGS, True) | {"restrictPublicBuckets": "true"}
        assert violations(net.pab_complete, net.PAB, props) == ["restrictPublicBuckets is not true"]

    def test_interface_endpoint_without_private_dns(self):
        props = {"policy": "{}", "vpcEndpointType": "Interface"}
        assert violations(net.vpc_endpoint_policy, net.VPCE, props) == [
            "privateDnsEnabled is not true: SDK calls resolve to the public service endpoint"
        ]
