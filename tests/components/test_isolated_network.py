"""IsolatedNetwork: private subnets only, no internet path, endpoints with policies, flow logs."""

from __future__ import annotations

import json

import pytest

from regulated_inference.components.isolated_network import IsolatedNetwork
from regulated_inference.lib import endpoints
from regulated_inference.lib.errors import ComponentArgsError
from tests.components.helpers import declared_outputs
from tests.conftest import run_component

KEY = "arn:aws:kms:eu-west-2:111122223333:key/0b0c7f2e-1111-2222-3333-444455556666"
ARGS = {
    "cidr": "10.40.0.0/16",
    "subnet_cidrs": ["10.40.0.0/20", "10.40.16.0/20"],
    "availability_zones": ["eu-west-2a", "eu-west-2b"],
    "aws": {"partition": "aws", "region": "eu-west-2", "account_id": "111122223333"},
    "logs_kms_key_arn": KEY,
    "log_group_name": "/regulated-inference/test/vpc-flow-logs",
    "log_retention_days": 400,
}


@pytest.fixture(scope="module")
def rec():
    return run_component(lambda: IsolatedNetwork("n", dict(ARGS)))


def test_private_subnets_only_and_no_internet_path(rec):
    subnets = rec.of_type("aws:ec2/subnet:Subnet")
    assert sorted(s.inputs["availabilityZone"] for s in subnets) == ["eu-west-2a", "eu-west-2b"]
    assert all(s.inputs["mapPublicIpOnLaunch"] is False for s in subnets)
    for typ in (
        "aws:ec2/internetGateway:InternetGateway",
        "aws:ec2/natGateway:NatGateway",
        "aws:ec2/route:Route",
        "aws:ec2/egressOnlyInternetGateway:EgressOnlyInternetGateway",
    ):
        assert rec.of_type(typ) == []
    (rt,) = rec.of_type("aws:ec2/routeTable:RouteTable")
    assert not rt.inputs.get("routes")  # only the implicit local route


def test_default_security_group_has_no_rules(rec):
    dsg = rec.one("aws:ec2/defaultSecurityGroup:DefaultSecurityGroup").inputs
    assert dsg["ingress"] == [] and dsg["egress"] == []


def test_interface_endpoints_private_dns_policies_and_s3_gateway(rec):
    eps = {r.inputs["serviceName"]: r for r in rec.of_type("aws:ec2/vpcEndpoint:VpcEndpoint")}
    for short in endpoints.INTERFACE_ENDPOINTS:
        ep = eps[f"com.amazonaws.eu-west-2.{short}"].inputs
        assert ep["vpcEndpointType"] == "Interface" and ep["privateDnsEnabled"] is True
        assert len(ep["subnetIds"]) == 2
        doc = json.loads(ep["policy"])
        (st,) = doc["Statement"]
        assert st["Condition"] == {"StringEquals": {"aws:PrincipalAccount": "111122223333"}}
        assert not any(a.endswith(":*") for a in st["Action"])
    s3 = eps["com.amazonaws.eu-west-2.s3"].inputs
    assert s3["vpcEndpointType"] == "Gateway" and s3["routeTableIds"]
    s3_doc = json.loads(s3["policy"])
    assert (
        s3_doc["Statement"][0]["Condition"]["StringEquals"]["aws:ResourceAccount"] == "111122223333"
    )
    assert (
        s3_doc["Statement"][1]["Resource"] == "arn:aws:s3:::prod-eu-west-2-starport-layer-bucket/*"
    )


def test_endpoint_sg_admits_https_from_the_vpc_only(rec):
    (rule,) = rec.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
    assert (rule.inputs["fromPort"], rule.inputs["toPort"], rule.inputs["ipProtocol"]) == (
        443,
        443,
        "tcp",
    )
    assert rule.inputs["cidrIpv4"] == "10.40.0.0/16"
    for sg in rec.of_type("aws:ec2/securityGroup:SecurityGroup"):
        assert sg.inputs["description"]  # G3
        assert not sg.inputs.get("ingress") and not sg.inputs.get("egress")


def test_workload_egress_is_https_to_vpc_and_s3_prefix_list_only(rec):
    rules = rec.of_type("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule")
    assert len(rules) == 2
    assert all(r.inputs["fromPort"] == 443 and r.inputs["toPort"] == 443 for r in rules)
    targets = sorted((r.inputs.get("cidrIpv4") or r.inputs.get("prefixListId")) for r in rules)
    assert targets[0] == "10.40.0.0/16" and targets[1].startswith("pl-")
    assert not any(r.inputs.get("cidrIpv4") in ("0.0.0.0/0",) for r in rules)


def test_flow_logs_all_traffic_to_encrypted_group_with_retention(rec):
    fl = rec.one("aws:ec2/flowLog:FlowLog").inputs
    lg = rec.one("aws:cloudwatch/logGroup:LogGroup")
    assert fl["trafficType"] == "ALL" and fl["logDestinationType"] == "cloud-watch-logs"
    assert fl["logDestination"] == lg.outputs["arn"]
    assert lg.inputs["kmsKeyId"] == KEY and lg.inputs["retentionInDays"] == 400
    trust = json.loads(rec.one("aws:iam/role:Role").inputs["assumeRolePolicy"])["Statement"][0]
    assert trust["Principal"] == {"Service": "vpc-flow-logs.amazonaws.com"}
    assert trust["Condition"]["StringEquals"] == {"aws:SourceAccount": "111122223333"}


def test_every_declared_output_is_registered(rec):
    out = rec.one("regulated-inference:index:IsolatedNetwork").outputs
    assert set(out) == declared_outputs(IsolatedNetwork)
    subnets = rec.of_type("aws:ec2/subnet:Subnet")
    assert out["vpcCidr"] == ARGS["cidr"]
    assert sorted(out["privateSubnetArns"]) == sorted(s.outputs["arn"] for s in subnets)
    assert out["flowLogGroupArn"] == rec.one("aws:cloudwatch/logGroup:LogGroup").outputs["arn"]
    [workload] = [
        g for g in rec.of_type("aws:ec2/securityGroup:SecurityGroup") if "workload" in g.name
    ]
    assert out["workloadSecurityGroupArn"] == workload.outputs["arn"]
    assert out["workloadSecurityGroupId"] == workload.id


def test_endpoint_policy_override(rec):
    custom = json.dumps({"Version": "2012-10-17", "Statement": []})
    r = run_component(
        lambda: IsolatedNetwork(
            "n",
            {
                **ARGS,
                "interface_services": ["bedrock-runtime"],
                "endpoint_policies": {"bedrock-runtime": custom},
            },
        )
    )
    ep = next(
        e
        for e in r.of_type("aws:ec2/vpcEndpoint:VpcEndpoint")
        if e.inputs["vpcEndpointType"] == "Interface"
    )
    assert ep.inputs["policy"] == custom


@pytest.mark.parametrize(
    "change,arg",
    [
        ({"cidr": "10.40.0.0/33"}, "cidr"),
        ({"subnet_cidrs": ["10.40.0.0/20"]}, "subnet_cidrs"),
        ({"subnet_cidrs": ["10.40.0.0/20", "10.50.0.0/20"]}, "subnet_cidrs"),
        ({"subnet_cidrs": ["10.40.0.0/20", "10.40.8.0/21"]}, "subnet_cidrs"),
        ({"availability_zones": ["eu-west-2a", "eu-west-2a"]}, "availability_zones"),
        ({"interface_services": ["sagemaker.api", "ec2messages"]}, "interface_services"),
    ],
)
def test_invalid_args_fail_before_any_resource(change, arg):
    with pytest.raises(ComponentArgsError) as info:
        run_component(lambda: IsolatedNetwork("n", {**ARGS, **change}))
    assert info.value.arg == arg
    assert [r for r in info.value.partial_recording.resources if r.custom] == []
