"""Components constructed through the provider's gRPC `Construct`, as for a YAML/TypeScript program.

Inputs arrive camelCase, as any language's generated SDK sends them; the provider maps them to the
component's snake_case args (experimental/component.py map_inputs), runs the component, which
registers its children with the (fake) engine's resource monitor, and answers with the component's
URN and camelCase output state. The simulated AWS gives the children their ids and ARNs, so the
outputs can be checked against what was registered.
"""

from __future__ import annotations

import json
import re

import grpc
import pytest

from regulated_inference.lib.outputs import type_token

from .conftest import PACKAGE, PROJECT, REGION, STACK

ACCOUNT = "111122223333"
AWS = {"partition": "aws", "region": REGION, "accountId": ACCOUNT}
KEY = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
TOPIC = f"arn:aws:sns:{REGION}:{ACCOUNT}:alerts"
HAIKU = f"arn:aws:bedrock:{REGION}::foundation-model/anthropic.claude-3-haiku-20240307-v1:0"
_SUBNETS = ["subnet-0a1b2c3d4e5f60001", "subnet-0a1b2c3d4e5f60002"]
_SECURITY_GROUP = "sg-0123456789abcdef0"
# The private subnets and security group a VPC-attached component (endpoint, processing job) takes:
# a `VpcPlacement`, their nested `network` input.
PRIVATE_NETWORK = {
    "subnetIds": _SUBNETS,
    "subnetArns": [f"arn:aws:ec2:{REGION}:{ACCOUNT}:subnet/{s}" for s in _SUBNETS],
    "securityGroupId": _SECURITY_GROUP,
    "securityGroupArn": f"arn:aws:ec2:{REGION}:{ACCOUNT}:security-group/{_SECURITY_GROUP}",
}


def _component(recording, cls: str):
    [component] = recording.of_type(f"{PACKAGE}:index:{cls}")
    return component


def _registered(provider) -> list[str]:
    return [r.type for r in provider.engine.monitor.records.values()]


def _refused(provider, component: str, name: str, inputs: dict) -> grpc.RpcError:
    """Construct that must fail: the error the caller gets, after checking nothing was registered."""
    with pytest.raises(grpc.RpcError) as err:
        provider.construct(component, name, inputs)
    assert _registered(provider) == ["pulumi:pulumi:Stack"]
    return err.value


def _assert_input_error(error: grpc.RpcError, prop: str) -> None:
    """An input error on `prop`: the property path is in the status details
    (errors_pb2.InputPropertiesError)."""
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    details = dict(error.trailing_metadata() or ())
    assert prop.encode() in details.get("grpc-status-details-bin", b"")


def _alarm_inputs(recording) -> dict[str, dict]:
    """The metric alarms' inputs by alarm name."""
    return {
        a.inputs["name"]: a.inputs
        for a in recording.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")
    }


def _trust(role) -> dict:
    """A role's one trust-policy statement."""
    (statement,) = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
    return statement


def test_encryption_keys_from_camel_case_inputs(provider):
    state, urn, rec = provider.construct(
        "EncryptionKeys",
        "platform-keys",
        {
            "aws": AWS,
            "logGroupPrefix": "/regulated-inference/test/",
            "trailName": "audit-trail",
            "deletionWindowDays": 7,
            "extraLogGroupPatterns": ["/aws/sagemaker/Endpoints/*-test"],
        },
    )
    component = _component(rec, "EncryptionKeys")
    assert (
        urn
        == component.urn
        == (f"urn:pulumi:{STACK}::{PROJECT}::{PACKAGE}:index:EncryptionKeys::platform-keys")
    )
    assert component.parent == provider.engine.stack_urn and not component.custom

    keys = rec.of_type("aws:kms/key:Key")
    aliases = rec.of_type("aws:kms/alias:Alias")
    assert sorted(k.name for k in keys) == [
        "platform-keys-audit",
        "platform-keys-data",
        "platform-keys-logs",
    ]
    assert len(aliases) == 3
    assert {r.parent for r in keys + aliases} == {urn}
    # URNs carry the component's type as the engine builds them for children.
    assert all(f"{PACKAGE}:index:EncryptionKeys$aws:kms/key:Key" in k.urn for k in keys)
    for key in keys:
        # The integer arrived as a JSON number (every number on the wire is a double).
        assert key.inputs["deletionWindowInDays"] == 7
        assert key.inputs["enableKeyRotation"] is True
        assert key.inputs["multiRegion"] is False
        policy = json.loads(key.inputs["policy"])
        assert f"arn:aws:iam::{ACCOUNT}:root" in json.dumps(policy)
    logs_policy = json.loads(next(k for k in keys if k.name.endswith("-logs")).inputs["policy"])
    [cwl] = [s for s in logs_policy["Statement"] if s["Sid"] == "CloudWatchLogsForOurLogGroups"]
    # The list input reached the component: its pattern is in the logs key's policy.
    assert cwl["Condition"]["ArnLike"]["kms:EncryptionContext:aws:logs:arn"] == [
        f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/regulated-inference/test/*",
        f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/sagemaker/Endpoints/*-test",
    ]

    # Outputs, camelCase, are the ARNs the (simulated) keys got.
    arns = {k.name.rsplit("-", 1)[1]: k.outputs["arn"] for k in keys}
    assert state == {
        "dataKeyArn": arns["data"],
        "logsKeyArn": arns["logs"],
        "auditKeyArn": arns["audit"],
    }
    assert all(a.startswith(f"arn:aws:kms:{REGION}:") for a in arns.values())
    # register_outputs reached the engine too.
    assert component.outputs == state


def test_isolated_network_children_and_list_outputs(provider):
    state, urn, rec = provider.construct(
        "IsolatedNetwork",
        "net",
        {
            "cidr": "10.40.0.0/16",
            "subnetCidrs": ["10.40.0.0/20", "10.40.16.0/20"],
            "availabilityZones": [f"{REGION}a", f"{REGION}b"],
            "aws": AWS,
            "logsKmsKeyArn": KEY,
            "logGroupName": "/regulated-inference/test/flow-logs",
            "logRetentionDays": 365,
            "interfaceServices": ["sagemaker.runtime", "logs"],
        },
    )
    [vpc] = rec.of_type("aws:ec2/vpc:Vpc")
    # Registration order is the provider's async scheduling; the outputs follow the AZ order.
    subnets = sorted(
        rec.of_type("aws:ec2/subnet:Subnet"), key=lambda s: s.inputs["availabilityZone"]
    )
    endpoints = [
        r
        for r in rec.of_type("aws:ec2/vpcEndpoint:VpcEndpoint")
        if r.inputs.get("vpcEndpointType") == "Interface"
    ]
    assert vpc.parent == urn and vpc.inputs["cidrBlock"] == "10.40.0.0/16"
    assert [s.inputs["availabilityZone"] for s in subnets] == [f"{REGION}a", f"{REGION}b"]
    assert all(s.inputs["mapPublicIpOnLaunch"] is False for s in subnets)
    assert not rec.of_type("aws:ec2/internetGateway:InternetGateway")
    assert not rec.of_type("aws:ec2/natGateway:NatGateway")
    assert sorted(e.inputs["serviceName"] for e in endpoints) == [
        f"com.amazonaws.{REGION}.logs",
        f"com.amazonaws.{REGION}.sagemaker.runtime",
    ]
    [log_group] = rec.of_type("aws:cloudwatch/logGroup:LogGroup")
    assert log_group.inputs["retentionInDays"] == 365

    assert state["vpcId"] == vpc.id and state["vpcCidr"] == "10.40.0.0/16"
    assert state["privateSubnetIds"] == [s.id for s in subnets]
    assert state["privateSubnetArns"] == [s.outputs["arn"] for s in subnets]
    assert state["interfaceEndpointIds"] == {
        "sagemaker.runtime": next(
            e.id for e in endpoints if "sagemaker" in e.inputs["serviceName"]
        ),
        "logs": next(e.id for e in endpoints if e.inputs["serviceName"].endswith(".logs")),
    }
    assert state["flowLogGroupArn"] == log_group.outputs["arn"]


def test_alert_topic(provider):
    state, urn, rec = provider.construct(
        "AlertTopic",
        "alerts",
        {
            "kmsKeyArn": KEY,
            "emails": ["oncall@example.com", "risk@example.com"],
            "aws": AWS,
            "deploymentEventEndpoints": ["fraud-scorer-test"],
        },
    )
    [topic] = rec.of_type("aws:sns/topic:Topic")
    [rule] = rec.of_type("aws:cloudwatch/eventRule:EventRule")
    assert json.loads(rule.inputs["eventPattern"])["resources"] == [
        f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:endpoint/fraud-scorer-test"
    ]
    policy = json.loads(rec.of_type("aws:sns/topicPolicy:TopicPolicy")[0].inputs["policy"])
    [alarms] = [s for s in policy["Statement"] if s["Sid"] == "CloudWatchAlarmsOfThisAccount"]
    assert alarms["Condition"]["ArnLike"] == {
        "aws:SourceArn": f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:*"
    }
    subscriptions = rec.of_type("aws:sns/topicSubscription:TopicSubscription")
    assert topic.parent == urn and topic.inputs["kmsMasterKeyId"] == KEY
    assert sorted(s.inputs["endpoint"] for s in subscriptions) == [
        "oncall@example.com",
        "risk@example.com",
    ]
    assert state == {"arn": topic.outputs["arn"], "deploymentEventRuleArn": rule.outputs["arn"]}


def test_missing_required_input_is_an_input_error_and_registers_nothing(provider):
    error = _refused(provider, "EncryptionKeys", "keys", {"aws": AWS, "logGroupPrefix": "/ri/"})
    _assert_input_error(error, "trailName")


def test_component_refusal_reaches_the_caller_and_registers_nothing(provider):
    error = _refused(
        provider,
        "EncryptionKeys",
        "keys",
        {"aws": AWS, "logGroupPrefix": "/ri/", "trailName": "t", "deletionWindowDays": 3},
    )
    # The component's one-line refusal is what the caller's engine reports. The value reads 3.0:
    # component.py map_input_properties converts integer inputs with int() but then stores the
    # raw double over it (pulumi 3.272.0; the intent is pulumi/pulumi#21944), so components see
    # floats for `int` args until that is fixed.
    assert re.search(
        r"EncryptionKeys: invalid argument deletion_window_days = 3(\.0)?: AWS allows 7–30 days",
        error.details(),
    )


def test_unknown_component_is_refused(provider):
    assert "ManagedBucket" in _refused(provider, "ManagedBucket", "b", {}).details()


def test_secure_bucket_with_object_lock_and_a_service_writer(provider):
    trail = f"arn:aws:cloudtrail:{REGION}:{ACCOUNT}:trail/audit"
    state, urn, rec = provider.construct(
        "SecureBucket",
        "audit",
        {
            "kmsKeyArn": KEY,
            "accessLogBucket": "access-logs-bucket",
            # The enum arrives as its string value; Construct turns it back into ObjectLockMode.
            "objectLock": {"mode": "COMPLIANCE", "days": 2557},
            "serviceWriters": [
                {
                    "service": "cloudtrail.amazonaws.com",
                    "prefix": f"cloudtrail/AWSLogs/{ACCOUNT}/",
                    "sourceAccount": ACCOUNT,
                    "sourceArn": trail,
                    "readAcl": True,
                }
            ],
        },
    )
    [bucket] = rec.of_type("aws:s3/bucket:Bucket")
    [lock] = rec.of_type("aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration")
    [policy] = rec.of_type("aws:s3/bucketPolicy:BucketPolicy")
    assert bucket.parent == urn and bucket.inputs["objectLockEnabled"] is True
    assert lock.inputs["rule"]["defaultRetention"] == {"mode": "COMPLIANCE", "days": 2557}
    doc = json.loads(policy.inputs["policy"])
    write = next(s for s in doc["Statement"] if s["Sid"] == "ServiceWrite0")
    assert write["Principal"] == {"Service": "cloudtrail.amazonaws.com"}
    assert write["Condition"]["ArnLike"] == {"aws:SourceArn": trail}
    assert any(s["Sid"] == "ServiceAclCheck0" for s in doc["Statement"])
    assert state == {
        "bucketName": bucket.outputs["bucket"],
        "arn": bucket.outputs["arn"],
        "kmsKeyArn": KEY,
    }


def test_least_privilege_role_from_tagged_grants(provider):
    bucket = "arn:aws:s3:::models-bucket"
    state, urn, rec = provider.construct(
        "LeastPrivilegeRole",
        "reader",
        {
            "trust": {
                "service": {
                    "service": "sagemaker.amazonaws.com",
                    "sourceAccount": ACCOUNT,
                    "sourceArn": f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:*",
                }
            },
            "grants": [
                {"readObjects": {"bucketArn": bucket, "prefix": "fraud/v3"}},
                {"useKey": {"keyArn": KEY}},
                {"putMetrics": {"namespace": "RegulatedInference/Quality"}},
            ],
            "description": "reads one model's artifacts",
            "maxSessionDuration": 3600,
        },
    )
    [role] = rec.of_type("aws:iam/role:Role")
    [inline] = rec.of_type("aws:iam/rolePolicy:RolePolicy")
    trust = _trust(role)
    assert trust["Principal"] == {"Service": "sagemaker.amazonaws.com"}
    assert trust["Condition"]["StringEquals"] == {"aws:SourceAccount": ACCOUNT}
    assert role.inputs["maxSessionDuration"] == 3600
    by_sid = {s["Sid"]: s for s in json.loads(inline.inputs["policy"])["Statement"]}
    # The list order is the caller's: Sids are numbered in it.
    assert by_sid["ReadObjects0"]["Resource"] == f"{bucket}/fraud/v3/*"
    assert by_sid["UseKey1"]["Resource"] == KEY
    assert by_sid["PutMetrics2"]["Condition"] == {
        "StringEquals": {"cloudwatch:namespace": "RegulatedInference/Quality"}
    }
    assert (
        state["arn"] == role.outputs["arn"] and state["policyDocument"] == inline.inputs["policy"]
    )


def test_least_privilege_role_refuses_two_trusts(provider):
    service = {"service": "sagemaker.amazonaws.com", "sourceAccount": ACCOUNT}
    web = {
        "oidcProviderArn": f"arn:aws:iam::{ACCOUNT}:oidc-provider/oidc.eks.{REGION}.amazonaws.com/id/A",
        "issuer": f"oidc.eks.{REGION}.amazonaws.com/id/A",
        "namespace": "models",
        "serviceAccount": "fraud",
    }
    error = _refused(
        provider,
        "LeastPrivilegeRole",
        "r",
        {
            "trust": {"service": service, "webIdentity": web},
            "grants": [{"useKey": {"keyArn": KEY}}],
            "description": "x",
        },
    )
    assert "set exactly one of service and web_identity" in error.details()


def test_audit_trail_records_data_events(provider):
    state, urn, rec = provider.construct(
        "AuditTrail",
        "audit",
        {
            "trailName": "audit-trail",
            "aws": AWS,
            "auditBucketName": "audit-bucket",
            "auditKmsKeyArn": KEY,
            "logsKmsKeyArn": KEY,
            "logGroupName": "/regulated-inference/test/cloudtrail",
            "logRetentionDays": 400,
            "dataEventBucketArns": ["arn:aws:s3:::models-1", "arn:aws:s3:::capture-1"],
        },
    )
    [trail] = rec.of_type("aws:cloudtrail/trail:Trail")
    [log_group] = rec.of_type("aws:cloudwatch/logGroup:LogGroup")
    assert trail.inputs["name"] == "audit-trail" and trail.inputs["isMultiRegionTrail"] is True
    assert trail.inputs["enableLogFileValidation"] is True
    [data] = [s for s in trail.inputs["advancedEventSelectors"] if "Data" in str(s)]
    prefixes = next(f for f in data["fieldSelectors"] if f["field"] == "resources.ARN")
    assert prefixes["startsWiths"] == ["arn:aws:s3:::models-1/", "arn:aws:s3:::capture-1/"]
    assert log_group.inputs["retentionInDays"] == 400
    [role] = rec.of_type("aws:iam/role:Role")
    trust = _trust(role)
    assert trust["Condition"]["ArnLike"] == {
        "aws:SourceArn": f"arn:aws:cloudtrail:{REGION}:{ACCOUNT}:trail/audit-trail"
    }
    assert urn.endswith(f"::{type_token('AuditTrail')}::audit")
    assert state == {
        "trailArn": trail.outputs["arn"],
        "logGroupArn": log_group.outputs["arn"],
        "logGroupName": "/regulated-inference/test/cloudtrail",
    }


def test_managed_inference_canary_with_previous_version_and_record(provider):
    digest, old_digest = "a" * 64, "b" * 64
    registry = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/models/fraud-scorer"
    state, urn, rec = provider.construct(
        "ManagedInference",
        "fraud-scorer",
        {
            "modelName": "fraud-scorer",
            "version": "2.3.0",
            "stage": "production",
            "imageUri": f"{registry}@sha256:{digest}",
            "artifactBucketName": "models-bucket",
            "artifactBucketArn": "arn:aws:s3:::models-bucket",
            "artifactKey": "fraud-scorer/2.3.0/model.tar.gz",
            "endpointName": "fraud-scorer-test",
            "instanceType": "ml.m5.large",
            "instanceCount": 2,
            "maxInstances": 4,
            "rollout": {"strategy": "linear", "linearStepPercent": 50, "bakeSeconds": 300},
            "rollbackAlarmNames": ["fraud-scorer-test-errors", "fraud-scorer-test-latency"],
            "dataKeyArn": KEY,
            "captureBucketName": "capture-bucket",
            "captureBucketArn": "arn:aws:s3:::capture-bucket",
            "network": PRIVATE_NETWORK,
            "aws": AWS,
            "logsKeyArn": KEY,
            "logRetentionDays": 365,
            "previous": {
                "version": "2.2.1",
                "imageUri": f"{registry}@sha256:{old_digest}",
                "artifactKey": "fraud-scorer/2.2.1/model.tar.gz",
            },
            "deploymentRecord": {
                "bucketName": "audit-bucket",
                "kmsKeyArn": KEY,
                "configSha256": "c" * 64,
                "evaluation": {"accuracy": 0.96},
                "stack": STACK,
            },
        },
    )
    [endpoint] = rec.of_type("aws:sagemaker/endpoint:Endpoint")
    configs = rec.of_type("aws:sagemaker/endpointConfiguration:EndpointConfiguration")
    models = rec.of_type("aws:sagemaker/model:Model")
    assert endpoint.parent == urn and endpoint.inputs["name"] == "fraud-scorer-test"
    # The new and the previous version are both deployed (the rollback target is live).
    assert len(configs) == 2 and len(models) == 2
    assert all(m.inputs["enableNetworkIsolation"] is True for m in models)
    # The nested placement arrived as a dict of snake_case args (map_inputs).
    assert all(m.inputs["vpcConfig"]["subnets"] == PRIVATE_NETWORK["subnetIds"] for m in models)
    assert all(
        m.inputs["vpcConfig"]["securityGroupIds"] == ["sg-0123456789abcdef0"] for m in models
    )
    routing = endpoint.inputs["deploymentConfig"]["blueGreenUpdatePolicy"][
        "trafficRoutingConfiguration"
    ]
    assert routing["type"] == "LINEAR" and routing["linearStepSize"]["value"] == 50
    assert routing["waitIntervalInSeconds"] == 300
    alarms = endpoint.inputs["deploymentConfig"]["autoRollbackConfiguration"]["alarms"]
    assert [a["alarmName"] for a in alarms] == [
        "fraud-scorer-test-errors",
        "fraud-scorer-test-latency",
    ]
    [target] = rec.of_type("aws:appautoscaling/target:Target")
    assert (target.inputs["minCapacity"], target.inputs["maxCapacity"]) == (2, 4)
    [record] = rec.of_type("aws:s3/bucketObjectv2:BucketObjectv2")
    content = json.loads(record.inputs["content"])
    assert content["requestedVersion"] == "2.3.0" and content["previousVersion"] == "2.2.1"
    assert content["stage"] == "production" and content["rollout"] == "linear"
    assert content["evaluation"] == {"accuracy": 0.96} and content["instanceCount"] == 2
    assert record.inputs["kmsKeyId"] == KEY
    assert state["endpointName"] == endpoint.outputs["name"]
    assert state["endpointArn"] == endpoint.outputs["arn"]
    assert state["variantName"] == "primary"
    assert state["capturePrefix"] == "capture/fraud-scorer-test/"
    assert state["deploymentRecordKey"] == record.inputs["key"]


# ModelMonitoring inputs it accepts: only two thresholds, the others take the component's
# DEFAULT_* constants.
MODEL_MONITORING = {
    "endpointName": "fraud-scorer-test",
    "variantName": "primary",
    "instanceType": "ml.g5.xlarge",
    "alarmTopicArn": TOPIC,
    "aws": AWS,
    "thresholds": {"latencyP99Ms": 250, "hallucinationRateMax": 0.02},
    "periodSeconds": 120,
}


def test_model_monitoring_with_partial_thresholds(provider):
    state, urn, rec = provider.construct("ModelMonitoring", "fraud-monitoring", MODEL_MONITORING)
    alarms = {
        a.inputs["name"].removeprefix("fraud-scorer-test-primary-"): a
        for a in rec.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")
    }
    assert {a.parent for a in alarms.values()} == {urn}
    latency = alarms["latency-p99"].inputs
    assert latency["threshold"] == 250_000 and latency["period"] == 120
    assert latency["alarmActions"] == [TOPIC] and latency["okActions"] == [TOPIC]
    assert latency["dimensions"] == {"EndpointName": "fraud-scorer-test", "VariantName": "primary"}
    assert alarms["5xx-rate"].inputs["threshold"] == 0.01  # DEFAULT_MAX_5XX_RATE
    assert alarms["gpu-utilization"].inputs["threshold"] == 90  # GPU instance: GPU alarm
    assert alarms["quality-HallucinationRate"].inputs["threshold"] == 0.02
    assert alarms["quality-UserSatisfaction"].inputs["threshold"] == 0.7
    [composite] = rec.of_type("aws:cloudwatch/compositeAlarm:CompositeAlarm")
    [dashboard] = rec.of_type("aws:cloudwatch/dashboard:Dashboard")
    assert json.loads(dashboard.inputs["dashboardBody"])["widgets"][0]["properties"]["region"] == (
        REGION
    )
    assert state["rollbackAlarmNames"] == [
        alarms[r].outputs["name"]
        for r in ("latency-p99", "overhead-latency-p99", "4xx-rate", "5xx-rate")
    ]
    assert (
        state["alarmNames"]["quality-BiasDisparity"]
        == alarms["quality-BiasDisparity"].outputs["name"]
    )
    assert state["compositeAlarmName"] == composite.outputs["alarmName"]
    assert state["dashboardName"] == dashboard.outputs["dashboardName"]


def test_model_monitoring_refuses_an_unknown_threshold(provider):
    error = _refused(
        provider, "ModelMonitoring", "m", {**MODEL_MONITORING, "aws": {**AWS, "accountId": "12345"}}
    )
    assert "ModelMonitoring: invalid argument aws" in error.details()
    assert "12-digit" in error.details()


# BedrockAccess inputs it accepts: enums arrive as their string values; pii_entities is left
# to its default.
BEDROCK_ACCESS = {
    "modelArns": [HAIKU],
    "allowedRegions": [REGION],
    "aws": AWS,
    "dataKeyArn": KEY,
    "logsKeyArn": KEY,
    "logGroupName": "/regulated-inference/test/bedrock/invocations",
    "logRetentionDays": 400,
    "accessLogBucket": "access-logs-bucket",
    "invokerService": "lambda.amazonaws.com",
    "guardrail": {"contentFilterStrength": "MEDIUM", "piiAction": "BLOCK"},
    "logging": {"image": True},
}


def test_bedrock_access_enums_and_the_default_pii_set(provider):
    state, urn, rec = provider.construct("BedrockAccess", "bedrock", BEDROCK_ACCESS)
    from regulated_inference.components.bedrock_access import DEFAULT_PII_ENTITIES

    [guardrail] = rec.of_type("aws:bedrock/guardrail:Guardrail")
    assert guardrail.parent == urn
    pii = guardrail.inputs["sensitiveInformationPolicyConfig"]["piiEntitiesConfigs"]
    assert [p["type"] for p in pii] == list(DEFAULT_PII_ENTITIES) and len(pii) == 9
    assert {p["action"] for p in pii} == {"BLOCK"}
    filters = {f["type"]: f for f in guardrail.inputs["contentPolicyConfig"]["filtersConfigs"]}
    assert filters["PROMPT_ATTACK"]["inputStrength"] == "HIGH"  # the default
    assert filters["HATE"]["inputStrength"] == filters["HATE"]["outputStrength"] == "MEDIUM"
    [logging] = rec.of_type(
        "aws:bedrockmodel/invocationLoggingConfiguration:InvocationLoggingConfiguration"
    )
    config = logging.inputs["loggingConfig"]
    assert config["imageDataDeliveryEnabled"] is True and config["textDataDeliveryEnabled"] is True
    assert config["videoDataDeliveryEnabled"] is False
    [log_group] = rec.of_type("aws:cloudwatch/logGroup:LogGroup")
    assert log_group.inputs["retentionInDays"] == 400
    [role] = [r for r in rec.of_type("aws:iam/role:Role") if "invoke" in r.name]
    [version] = rec.of_type("aws:bedrock/guardrailVersion:GuardrailVersion")
    assert state["invokeRoleArn"] == role.outputs["arn"]
    assert state["guardrailArn"] == guardrail.outputs["guardrailArn"]
    assert state["guardrailVersion"] == version.outputs["version"]
    assert state["logGroupName"] == log_group.outputs["name"]


def test_bedrock_access_refuses_prompt_attack_none(provider):
    error = _refused(
        provider,
        "BedrockAccess",
        "b",
        {**BEDROCK_ACCESS, "guardrail": {"promptAttackStrength": "NONE"}},
    )
    # The enum has no NONE: Construct refuses the value as an input error on that property
    # (experimental/component.py map_input_properties builds the enum), before the component runs.
    _assert_input_error(error, "promptAttackStrength")


def _drift_job_inputs() -> dict:
    """Data (a `DriftData`), network, account and topic shared by both drift job kinds."""
    return {
        "data": {
            "captureBucketName": "capture-bucket",
            "captureBucketArn": "arn:aws:s3:::capture-bucket",
            "capturePrefix": "capture/fraud-scorer-test/",
            "outputPrefix": "monitoring/fraud-scorer-test/",
            "baselineBucketName": "models-bucket",
            "baselineBucketArn": "arn:aws:s3:::models-bucket",
            "baselinePrefix": "fraud-scorer/2.3.0/baseline/",
            "dataKeyArn": KEY,
        },
        "network": PRIVATE_NETWORK,
        "aws": AWS,
        "alarmTopicArn": TOPIC,
    }


def test_data_quality_monitor(provider):
    state, urn, rec = provider.construct(
        "DataQualityMonitor",
        "dq",
        {
            "endpointName": "fraud-scorer-test",
            "scheduleName": "fraud-scorer-test-dq",
            "features": ["amount", "merchant_risk"],
            "driftThreshold": 0.2,
            "scheduleExpression": "cron(0 * ? * * *)",
            "instanceType": "ml.m5.xlarge",
            "maxRuntimeSeconds": 1800,
            **_drift_job_inputs(),
        },
    )
    [job] = rec.of_type("aws:sagemaker/dataQualityJobDefinition:DataQualityJobDefinition")
    [schedule] = rec.of_type("aws:sagemaker/monitoringSchedule:MonitoringSchedule")
    [alarm] = rec.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")
    # The integer arrived as a double and reached AWS as an integer.
    assert job.inputs["stoppingCondition"]["maxRuntimeInSeconds"] == 1800
    assert job.inputs["networkConfig"]["enableNetworkIsolation"] is True
    # The nested data and network arrived (map_inputs hands nested snake_case dicts).
    assert job.inputs["networkConfig"]["vpcConfig"]["subnets"] == PRIVATE_NETWORK["subnetIds"]
    assert job.inputs["dataQualityBaselineConfig"]["constraintsResource"]["s3Uri"] == (
        "s3://models-bucket/fraud-scorer/2.3.0/baseline/constraints.json"
    )
    [role] = rec.of_type("aws:iam/role:Role")
    trust = _trust(role)
    assert trust["Condition"]["ArnLike"] == {
        "aws:SourceArn": f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:processing-job/*"
    }
    assert alarm.inputs["threshold"] == 0.2 and alarm.inputs["alarmActions"] == [TOPIC]
    assert state == {
        "scheduleName": schedule.outputs["name"],
        "jobDefinitionName": job.outputs["name"],
        "driftAlarmName": alarm.outputs["name"],
        "roleArn": role.outputs["arn"],
    }


def test_self_hosted_inference_with_canary_and_loader(provider):
    registry = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com"
    issuer = f"oidc.eks.{REGION}.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE"
    state, urn, rec = provider.construct(
        "SelfHostedInference",
        "credit-risk",
        {
            "modelName": "credit-risk",
            "namespace": "credit-risk",
            "stable": {
                "version": "1.4.0",
                "image": f"{registry}/credit-risk@sha256:{'a' * 64}",
                "artifactPrefix": "credit-risk/1.4.0",
            },
            "canary": {
                "track": {
                    "version": "1.5.0",
                    "image": f"{registry}/credit-risk@sha256:{'b' * 64}",
                    "artifactPrefix": "credit-risk/1.5.0",
                },
                "weight": 10,
            },
            "aws": AWS,
            "irsa": {
                "oidcProviderArn": f"arn:aws:iam::{ACCOUNT}:oidc-provider/{issuer}",
                "issuer": issuer,
            },
            "artifactBucketArn": "arn:aws:s3:::models-bucket",
            "dataKeyArn": KEY,
            "replicasMin": 10,
            "replicasMax": 20,
            "resources": {
                "cpuRequest": "2",
                "cpuLimit": "4",
                "memoryRequest": "16Gi",
                "memoryLimit": "16Gi",
                "gpu": 1,
            },
            "port": 8080,
            # Probe periods and the start-up budget left to their defaults.
            "probes": {
                "liveness": {"path": "/ping"},
                "readiness": {"path": "/ready", "timeoutSeconds": 5},
            },
            "gatewayNamespace": "inference-gateway",
            "vpcEndpointsCidr": "10.40.0.0/20",
            "loader": {"image": f"{registry}/model-loader@sha256:{'c' * 64}"},
            "zoneSpread": "ScheduleAnyway",
        },
    )
    deployments = {
        d.inputs["metadata"]["name"]: d for d in rec.of_type("kubernetes:apps/v1:Deployment")
    }
    assert sorted(deployments) == ["credit-risk", "credit-risk-canary"]
    assert {d.parent for d in deployments.values()} == {urn}
    pod = deployments["credit-risk"].inputs["spec"]["template"]["spec"]
    [server] = pod["containers"]
    # Integers arrived as doubles; the component coerced them (pulumi/pulumi#21944).
    assert server["ports"][0]["containerPort"] == 8080
    assert server["resources"]["limits"]["nvidia.com/gpu"] == "1"
    assert server["readinessProbe"]["timeoutSeconds"] == 5
    assert server["livenessProbe"]["periodSeconds"] == 10  # DEFAULT_PROBE_PERIOD_SECONDS
    assert server["startupProbe"]["failureThreshold"] == 60  # 600 s default / 10 s
    assert pod["securityContext"]["runAsUser"] == 10001  # DEFAULT_RUN_AS_USER
    assert pod["topologySpreadConstraints"][0]["whenUnsatisfiable"] == "ScheduleAnyway"
    [loader] = pod["initContainers"]
    assert {v["name"]: v for v in pod["volumes"]}["model"]["emptyDir"]["sizeLimit"] == "20Gi"
    assert "AWS_ROLE_ARN" in {e["name"] for e in loader["env"]}
    assert "AWS_ROLE_ARN" not in {e["name"] for e in server["env"]}
    hpas = {
        h.inputs["metadata"]["name"]: h.inputs["spec"]
        for h in rec.of_type("kubernetes:autoscaling/v2:HorizontalPodAutoscaler")
    }
    assert (hpas["credit-risk"]["minReplicas"], hpas["credit-risk"]["maxReplicas"]) == (9, 18)
    assert (
        hpas["credit-risk-canary"]["minReplicas"],
        hpas["credit-risk-canary"]["maxReplicas"],
    ) == (1, 2)
    [role] = rec.of_type("aws:iam/role:Role")
    trust = _trust(role)
    assert trust["Condition"]["StringEquals"][f"{issuer}:sub"] == (
        "system:serviceaccount:credit-risk:credit-risk"
    )
    assert len(rec.of_type("kubernetes:networking.k8s.io/v1:NetworkPolicy")) == 4
    assert state["replicas"] == {"stable": {"min": 9, "max": 18}, "canary": {"min": 1, "max": 2}}
    assert state["canaryWeight"] == 10 and state["canaryEffectiveWeight"] == 10  # 1 pod of 10
    assert state["stableVersion"] == "1.4.0" and state["canaryVersion"] == "1.5.0"
    assert state["roleArn"] == role.outputs["arn"]
    assert state["serviceUrl"] == "http://credit-risk.credit-risk.svc.cluster.local:8080"


def test_scheduled_drift_check_integers_stay_integers(provider):
    state, urn, rec = provider.construct(
        "ScheduledDriftCheck",
        "drift",
        {
            "endpointName": "fraud-scorer-test",
            "checkName": "fraud-scorer-test-drift",
            "features": ["amount"],
            "driftThreshold": 0.3,
            "intervalHours": 2,
            "imageUri": f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/drift-check@sha256:{'d' * 64}",
            "instanceType": "ml.m5.xlarge",
            "maxRuntimeSeconds": 3600,
            **_drift_job_inputs(),
        },
    )
    [schedule] = rec.of_type("aws:scheduler/schedule:Schedule")
    assert schedule.inputs["scheduleExpression"] == "cron(0 0/2 * * ? *)"
    assert schedule.inputs["target"]["arn"] == (
        "arn:aws:scheduler:::aws-sdk:sagemaker:createProcessingJob"
    )
    request = json.loads(schedule.inputs["target"]["input"])
    # The numbers arrived as doubles; the job request carries what the API takes.
    assert request["Environment"]["WINDOW_HOURS"] == "2"
    assert request["StoppingCondition"] == {"MaxRuntimeInSeconds": 3600}
    assert request["NetworkConfig"]["VpcConfig"]["Subnets"] == PRIVATE_NETWORK["subnetIds"]
    assert (
        request["Environment"]["CAPTURE_S3_URI"] == "s3://capture-bucket/capture/fraud-scorer-test/"
    )
    [alarm] = rec.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")
    assert {q["metric"]["period"] for q in alarm.inputs["metricQueries"] if "metric" in q} == {7200}
    assert alarm.inputs["treatMissingData"] == "breaching"
    assert state["scheduleName"] == schedule.outputs["name"]
    assert state["driftAlarmName"] == alarm.outputs["name"]


def test_bedrock_monitoring_policy_types_and_partial_thresholds(provider):
    guardrail = f"arn:aws:bedrock:{REGION}:{ACCOUNT}:guardrail/abc123"
    state, urn, rec = provider.construct(
        "BedrockMonitoring",
        "bedrock-monitoring",
        {
            "namePrefix": "team-bedrock",
            "modelIds": ["anthropic.claude-3-haiku-20240307-v1:0"],
            "guardrailArn": guardrail,
            "guardrailVersion": "1",
            "alarmTopicArn": TOPIC,
            "thresholds": {"latencyP99Ms": 30000},
            "policyTypes": ["TopicPolicy"],
            "periodSeconds": 60,
        },
    )
    alarms = _alarm_inputs(rec)
    model = "anthropic.claude-3-haiku-20240307-v1:0"
    slug = "team-bedrock-anthropic.claude-3-haiku-20240307-v1-0"  # alarm names: no ':' or '/'
    assert alarms[f"{slug}-latency-p99"]["threshold"] == 30000
    assert alarms[f"{slug}-latency-p95"]["threshold"] == 10000  # the default
    assert alarms[f"{slug}-latency-p99"]["period"] == 60
    assert "team-bedrock-guardrail-intervention-rate-TopicPolicy" in alarms
    assert not any(n.endswith("-ContentPolicy") for n in alarms)
    assert sorted(state["alarmNames"]) == sorted(
        [
            f"{model}/{r}"
            for r in (
                "latency-p95",
                "latency-p99",
                "server-error-rate",
                "client-error-rate",
                "throttle-rate",
            )
        ]
        + [
            "guardrail/intervention-rate",
            "guardrail/intervention-rate-TopicPolicy",
            "guardrail/server-errors",
        ]
    )


def test_audit_evidence_alarms_heartbeats(provider):
    state, urn, rec = provider.construct(
        "AuditEvidenceAlarms",
        "audit-evidence",
        {
            "namePrefix": "team-test",
            "alarmTopicArn": TOPIC,
            "trailLogGroupName": "/team/test/cloudtrail",
            "auditBucketName": "audit-bucket",
            "invocationLogging": False,
            "captureBucketName": "capture-bucket",
            "capturePrefixes": ["capture/fraud-scorer-test/"],
            "captureSilenceHours": 6,
            "trailSilenceHours": 2,
        },
    )
    alarms = _alarm_inputs(rec)
    assert alarms["team-test-trail-heartbeat"]["evaluationPeriods"] == 2
    assert alarms["team-test-trail-heartbeat"]["treatMissingData"] == "breaching"
    assert alarms["team-test-capture-heartbeat-0"]["evaluationPeriods"] == 6
    assert not any("bedrock" in n for n in alarms)  # invocation logging owned elsewhere
    filters = {
        f.inputs["name"] for f in rec.of_type("aws:cloudwatch/logMetricFilter:LogMetricFilter")
    }
    assert "team-test-InvocationLoggingChanges" not in filters
    assert "team-test-TrailConfigurationChanges" in filters
    assert set(state["alarmNames"]) == {
        "trail-heartbeat",
        "trail-s3-heartbeat",
        "trail-configuration-changes",
        "data-capture-disabled",
        "capture-heartbeat-0",
    }
