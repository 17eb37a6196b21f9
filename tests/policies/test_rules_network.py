"""Network isolation rules (N1-N12)."""

from __future__ import annotations

import pytest

from policies.rules import network as net
from policies.rules.base import UNKNOWN, res

from .conftest import stack_violations, unknowns, violations

MODEL = "aws:sagemaker/model:Model"


class TestModelIsolation:
    def test_compliant(self):
        assert (
            violations(net.model_network_isolation, MODEL, {"enableNetworkIsolation": True}) == []
        )

    def test_off_and_missing(self):
        expected = ["enableNetworkIsolation is not true: the model container can reach the network"]
        assert (
            violations(net.model_network_isolation, MODEL, {"enableNetworkIsolation": False})
            == expected
        )
        assert violations(net.model_network_isolation, MODEL, {}) == expected

    def test_unknown(self):
        assert unknowns(
            net.model_network_isolation, MODEL, {"enableNetworkIsolation": UNKNOWN}
        ) == ["cannot verify until apply: enableNetworkIsolation is unknown during preview"]


def subnet(sid, public=False):
    return res("aws:ec2/subnet:Subnet", {"id": sid, "mapPublicIpOnLaunch": public}, sid)


class TestModelInPrivateSubnets:
    def _m(self, vc):
        return res(MODEL, {"vpcConfig": vc} if vc is not None else {}, "m")

    def test_compliant(self):
        stack = [
            subnet("subnet-a"),
            self._m({"subnets": ["subnet-a"], "securityGroupIds": ["sg-1"]}),
        ]
        assert stack_violations(net.model_in_private_subnets, stack) == []

    def test_missing_vpc_config(self):
        assert stack_violations(net.model_in_private_subnets, [self._m(None)]) == [
            ("m", "model m has no vpcConfig: it does not run in the stack's VPC")
        ]

    def test_foreign_and_public_subnets(self):
        stack = [
            subnet("subnet-p", public=True),
            self._m({"subnets": ["subnet-p", "subnet-x"], "securityGroupIds": ["sg-1"]}),
        ]
        assert stack_violations(net.model_in_private_subnets, stack) == [
            ("m", "model m: subnet subnet-p is public (maps public IPs)"),
            ("m", "model m: subnet subnet-x is not a subnet of this stack"),
        ]

    def test_no_security_groups(self):
        stack = [subnet("subnet-a"), self._m({"subnets": ["subnet-a"]})]
        assert stack_violations(net.model_in_private_subnets, stack) == [
            ("m", "model m: vpcConfig.securityGroupIds is empty")
        ]


VPCE = "aws:ec2/vpcEndpoint:VpcEndpoint"


class TestEndpointPolicy:
    def test_compliant(self):
        props = {"vpcEndpointType": "Interface", "privateDnsEnabled": True, "policy": "{}"}
        assert violations(net.vpc_endpoint_policy, VPCE, props) == []

    def test_missing_policy_and_dns(self):
        assert violations(net.vpc_endpoint_policy, VPCE, {"vpcEndpointType": "Interface"}) == [
            "policy is not set: the endpoint allows full access to the service",
            "privateDnsEnabled is not true: SDK calls resolve to the public service endpoint",
        ]


class TestEndpointsForServices:
    CFG = {
        "requiredServices": ["sts", "s3"],
        "bedrockServices": ["bedrock-runtime"],
        "sagemakerServices": ["sagemaker.runtime"],
    }

    def _stack(self, services, extra=()):
        vpc = res("aws:ec2/vpc:Vpc", {"id": "vpc-1"}, "vpc")
        eps = [
            res(VPCE, {"vpcId": "vpc-1", "serviceName": f"com.amazonaws.eu-west-2.{s}"}, s)
            for s in services
        ]
        return [vpc, *eps, *extra]

    def test_compliant(self):
        assert (
            stack_violations(net.vpc_endpoints_for_services, self._stack(["sts", "s3"]), self.CFG)
            == []
        )

    def test_missing(self):
        assert stack_violations(net.vpc_endpoints_for_services, self._stack(["sts"]), self.CFG) == [
            ("vpc", "VPC vpc has no endpoint for s3")
        ]

    def test_sagemaker_adds_its_endpoints(self):
        m = res("aws:sagemaker/model:Model", {}, "m")
        assert stack_violations(
            net.vpc_endpoints_for_services, self._stack(["sts", "s3"], [m]), self.CFG
        ) == [("vpc", "VPC vpc has no endpoint for sagemaker.runtime")]

    def test_bedrock_adds_runtime(self):
        g = res("aws:bedrock/guardrail:Guardrail", {}, "g")
        assert stack_violations(
            net.vpc_endpoints_for_services, self._stack(["sts", "s3"], [g]), self.CFG
        ) == [("vpc", "VPC vpc has no endpoint for bedrock-runtime")]


SG = "aws:ec2/securityGroup:SecurityGroup"


class TestIngress:
    @pytest.mark.parametrize(
        "type_,props",
        [
            (
                SG,
                {
                    "ingress": [
                        {
                            "fromPort": 443,
                            "toPort": 443,
                            "protocol": "tcp",
                            "cidrBlocks": ["10.0.0.0/16"],
                        }
                    ]
                },
            ),
            (
                "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
                {"cidrIpv4": "10.0.0.0/16"},
            ),
            (
                "aws:ec2/securityGroupRule:SecurityGroupRule",
                {"type": "ingress", "cidrBlocks": ["10.0.0.0/8"]},
            ),
        ],
    )
    def test_compliant(self, type_, props):
        assert violations(net.no_ingress_from_internet, type_, props) == []

    def test_sg_inline(self):
        props = {
            "ingress": [
                {"fromPort": 22, "toPort": 22, "protocol": "tcp", "cidrBlocks": ["0.0.0.0/0"]}
            ]
        }
        assert violations(net.no_ingress_from_internet, SG, props) == [
            "ingress[0] allows 0.0.0.0/0 (ports 22-22)"
        ]

    def test_ingress_rule_ipv6(self):
        assert violations(
            net.no_ingress_from_internet,
            "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
            {"cidrIpv6": "::/0"},
        ) == ["cidrIpv6 ::/0 opens the security group to the internet"]

    def test_nacl_rule(self):
        props = {
            "egress": False,
            "ruleAction": "allow",
            "cidrBlock": "0.0.0.0/0",
            "ruleNumber": 100,
        }
        assert violations(
            net.no_ingress_from_internet, "aws:ec2/networkAclRule:NetworkAclRule", props
        ) == ["allows inbound traffic from the internet"]

    def test_missing(self):
        assert violations(net.no_ingress_from_internet, SG, {}) == []


class TestEgress:
    def test_compliant(self):
        props = {"cidrIpv4": "10.0.0.0/16", "ipProtocol": "tcp"}
        assert (
            violations(
                net.no_unrestricted_egress,
                "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
                props,
            )
            == []
        )

    def test_open(self):
        props = {
            "egress": [{"fromPort": 0, "toPort": 0, "protocol": "-1", "cidrBlocks": ["0.0.0.0/0"]}]
        }
        assert violations(net.no_unrestricted_egress, SG, props) == [
            "egress[0] allows 0.0.0.0/0 (ports 0-0)"
        ]

    def test_ingress_rule_type_ignored_by_egress_rule(self):
        props = {"type": "ingress", "cidrBlocks": ["0.0.0.0/0"]}
        assert (
            violations(
                net.no_unrestricted_egress, "aws:ec2/securityGroupRule:SecurityGroupRule", props
            )
            == []
        )


class TestDefaultSg:
    def test_locked(self):
        vpc = res("aws:ec2/vpc:Vpc", {"id": "vpc-1"}, "vpc")
        d = res(
            "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup",
            {"vpcId": "vpc-1", "ingress": [], "egress": []},
            "dsg",
        )
        assert stack_violations(net.default_sg_locked, [vpc, d]) == []

    def test_rules_and_unmanaged(self):
        vpc = res("aws:ec2/vpc:Vpc", {"id": "vpc-1"}, "vpc")
        d = res(
            "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup",
            {
                "vpcId": "vpc-2",
                "ingress": [{"self": True, "protocol": "-1", "fromPort": 0, "toPort": 0}],
            },
            "dsg",
        )
        assert stack_violations(net.default_sg_locked, [vpc, d]) == [
            ("dsg", "the default security group has rules"),
            (
                "vpc",
                "VPC vpc: default security group is not managed (AWS default allows all egress and "
                "intra-group traffic)",
            ),
        ]


class TestSubnet:
    def test_compliant_and_missing(self):
        assert (
            violations(
                net.subnet_no_public_ip, "aws:ec2/subnet:Subnet", {"mapPublicIpOnLaunch": False}
            )
            == []
        )
        assert violations(net.subnet_no_public_ip, "aws:ec2/subnet:Subnet", {}) == []

    def test_public(self):
        props = {"mapPublicIpOnLaunch": True, "assignIpv6AddressOnCreation": True}
        assert violations(net.subnet_no_public_ip, "aws:ec2/subnet:Subnet", props) == [
            "mapPublicIpOnLaunch is true",
            "assignIpv6AddressOnCreation is true",
        ]


class TestInternetPath:
    def test_igw(self):
        assert violations(
            net.no_internet_path, "aws:ec2/internetGateway:InternetGateway", {"vpcId": "v"}
        ) == ["InternetGateway gives the VPC a path to the internet"]

    def test_nat(self):
        assert violations(
            net.no_internet_path, "aws:ec2/natGateway:NatGateway", {"subnetId": "s"}
        ) == ["public NAT gateway gives private subnets a path to the internet"]
        assert (
            violations(
                net.no_internet_path,
                "aws:ec2/natGateway:NatGateway",
                {"connectivityType": "private"},
            )
            == []
        )

    def test_default_route(self):
        assert violations(
            net.no_internet_path, "aws:ec2/route:Route", {"destinationCidrBlock": "0.0.0.0/0"}
        ) == ["destinationCidrBlock 0.0.0.0/0: default route out of the VPC"]

    def test_route_table_inline(self):
        props = {
            "routes": [
                {"cidrBlock": "10.1.0.0/16"},
                {"cidrBlock": "0.0.0.0/0", "gatewayId": "igw-1"},
            ]
        }
        assert violations(net.no_internet_path, "aws:ec2/routeTable:RouteTable", props) == [
            "routes[1] is a default route out of the VPC"
        ]
        assert violations(net.no_internet_path, "aws:ec2/routeTable:RouteTable", {}) == []


PAB = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
PAB_OK = {
    "bucket": "b",
    "blockPublicAcls": True,
    "blockPublicPolicy": True,
    "ignorePublicAcls": True,
    "restrictPublicBuckets": True,
}


class TestPab:
    def test_compliant(self):
        assert violations(net.pab_complete, PAB, PAB_OK) == []

    @pytest.mark.parametrize("flag", net.PAB_FLAGS)
    def test_each_flag(self, flag):
        assert violations(net.pab_complete, PAB, {**PAB_OK, flag: False}) == [f"{flag} is not true"]

    def test_missing_flags(self):
        assert len(violations(net.pab_complete, PAB, {"bucket": "b"})) == 4

    def test_every_bucket_has_one(self):
        b1 = res("aws:s3/bucket:Bucket", {"bucket": "b", "id": "b"}, "b")
        b2 = res("aws:s3/bucket:Bucket", {"bucket": "c", "id": "c"}, "c")
        assert stack_violations(net.bucket_pab, [b1, b2, res(PAB, PAB_OK, "pab")]) == [
            ("c", "bucket c has no public access block")
        ]


class TestAcls:
    def _stack(self, ownership="BucketOwnerEnforced", **bucket_props):
        b = res("aws:s3/bucket:Bucket", {"bucket": "b", "id": "b", **bucket_props}, "b")
        rs = [b]
        if ownership:
            rs.append(
                res(
                    "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
                    {"bucket": "b", "rule": {"objectOwnership": ownership}},
                    "own",
                )
            )
        return rs

    def test_compliant(self):
        assert stack_violations(net.acls_disabled, self._stack()) == []

    def test_object_writer(self):
        assert stack_violations(net.acls_disabled, self._stack("ObjectWriter")) == [
            ("b", "bucket b: ownership controls are not BucketOwnerEnforced (ACLs enabled)")
        ]

    def test_missing_controls_and_public_acl(self):
        assert stack_violations(net.acls_disabled, self._stack(None, acl="public-read")) == [
            ("b", "bucket b sets canned ACL public-read"),
            ("b", "bucket b: ownership controls are not BucketOwnerEnforced (ACLs enabled)"),
        ]

    def test_acl_resource(self):
        acl = res("aws:s3/bucketAcl:BucketAcl", {"bucket": "b", "acl": "private"}, "acl")
        assert stack_violations(net.acls_disabled, [*self._stack(), acl]) == [
            ("acl", "bucket ACL resource: ACLs must stay disabled")
        ]


class TestSnsSubscription:
    T = "aws:sns/topicSubscription:TopicSubscription"

    def test_compliant(self):
        assert (
            violations(
                net.sns_subscription_https, self.T, {"protocol": "https", "endpoint": "https://x"}
            )
            == []
        )

    def test_http(self):
        assert violations(
            net.sns_subscription_https, self.T, {"protocol": "http", "endpoint": "http://x"}
        ) == [
            "protocol is http: alerts travel unencrypted",
            "endpoint http://x is plain http",
        ]


class TestEks:
    T = "aws:eks/cluster:Cluster"

    def test_private(self):
        props = {
            "vpcConfig": {
                "endpointPublicAccess": False,
                "endpointPrivateAccess": True,
                "subnetIds": ["s"],
            }
        }
        assert violations(net.eks_endpoint_private, self.T, props) == []

    def test_default_is_public(self):
        assert violations(
            net.eks_endpoint_private, self.T, {"vpcConfig": {"subnetIds": ["s"]}}
        ) == [
            "vpcConfig.endpointPublicAccess is not false (AWS default: public)",
            "vpcConfig.endpointPrivateAccess is not true",
        ]
