"""The inference layer of the real prod and dev stacks (Pulumi.<stack>.yaml + stacks/__main__.py).

Every property the issue lists, asserted on the registered inputs of the whole
program: network isolation and VPC config, KMS, data capture, deployment config
with rollback alarms that exist in the stack, autoscaling, alarms with
dimensions and actions, drift schedules, guardrail, logging; plus the
lifecycle (new version = new config; rollback = the previous config back) and
the quality gate refusing a prod deployment with nothing registered.
"""

from __future__ import annotations

import json

import pytest

from regulated_inference.config import ConfigError, parse
from regulated_inference.lib import sagemaker as sm
from tests.conftest import run_stack_with, stack_config, without_namespace

NS = "regulated-inference"
MODEL = "aws:sagemaker/model:Model"
CONFIG = "aws:sagemaker/endpointConfiguration:EndpointConfiguration"
ENDPOINT = "aws:sagemaker/endpoint:Endpoint"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"


def sagemaker_models(stack: str) -> list[dict]:
    return [m for m in stack_config(stack)[f"{NS}:models"] if "kubernetes" not in m]


def platform(rec) -> dict:
    return rec.stack_outputs["platform"]


def prod_account(rec) -> str:
    return platform(rec)["keys"]["data"].split(":")[4]


def test_prod_serves_one_production_and_one_pilot_endpoint(prod):
    endpoints = {e.inputs["name"]: e.inputs["tags"]["stage"] for e in prod.of_type(ENDPOINT)}
    assert endpoints == {"fraud-scorer-prod": "production", "claims-assistant-prod": "pilot"}
    exports = prod.stack_outputs["models"]
    for m in sagemaker_models("prod"):
        entry = exports[m["name"]]
        assert entry["version"] == m["version"] and entry["stage"] == m["stage"]
        assert entry["endpoint"] == f"{m['name']}-prod"
        assert entry["endpointConfig"] in {c.outputs["name"] for c in prod.of_type(CONFIG)}


def test_models_are_isolated_in_the_stacks_private_subnets(prod):
    subnets = platform(prod)["privateSubnetIds"]
    [workload_sg] = [
        s.id for s in prod.of_type("aws:ec2/securityGroup:SecurityGroup") if "workload" in s.name
    ]
    azs = {s.inputs["availabilityZone"] for s in prod.of_type("aws:ec2/subnet:Subnet")}
    assert len(azs) >= 2
    models = prod.of_type(MODEL)
    # Two endpoints, plus fraud-scorer's previous version kept deployed as the rollback target.
    assert len(models) == 3
    for m in models:
        assert m.inputs["enableNetworkIsolation"] is True
        assert m.inputs["vpcConfig"]["subnets"] == subnets
        assert m.inputs["vpcConfig"]["securityGroupIds"] == [workload_sg]
        # Created from an approved registry package (G2), not from a loose image.
        package = m.inputs["primaryContainer"]["modelPackageName"]
        assert package.startswith(
            f"arn:aws:sagemaker:eu-west-2:{prod_account(prod)}:model-package/"
        )
        assert "image" not in m.inputs["primaryContainer"]


def test_endpoint_configs_use_the_data_key_and_capture_to_the_capture_bucket(prod):
    keys, buckets = platform(prod)["keys"], platform(prod)["buckets"]
    for c in prod.of_type(CONFIG):
        assert c.inputs["kmsKeyArn"] == keys["data"]
        capture = c.inputs["dataCaptureConfig"]
        assert capture["enableCapture"] is True and capture["kmsKeyId"] == keys["data"]
        assert capture["destinationS3Uri"].startswith(f"s3://{buckets['capture']}/capture/")
        assert {o["captureMode"] for o in capture["captureOptions"]} == {"Input", "Output"}
        for variant in c.inputs["productionVariants"]:
            assert not sm.has_local_nvme(variant["instanceType"])
    production = [
        c for c in prod.of_type(CONFIG) if c.outputs["name"].startswith("fraud-scorer-prod-")
    ][0]
    assert production.inputs["productionVariants"][0]["initialInstanceCount"] >= 2


def test_rollback_alarms_exist_in_the_stack_and_notify_the_encrypted_topic(prod):
    alarm_names = {a.inputs["name"] for a in prod.of_type(ALARM)}
    for e in prod.of_type(ENDPOINT):
        dc = e.inputs["deploymentConfig"]
        rollback = [a["alarmName"] for a in dc["autoRollbackConfiguration"]["alarms"]]
        assert rollback and set(rollback) <= alarm_names
        routing = dc["blueGreenUpdatePolicy"]["trafficRoutingConfiguration"]
        assert routing["type"] in ("CANARY", "LINEAR") and routing["waitIntervalInSeconds"] > 0
    [topic] = prod.of_type("aws:sns/topic:Topic")
    assert topic.inputs["kmsMasterKeyId"] == platform(prod)["keys"]["logs"]
    for a in prod.of_type(ALARM):
        assert a.inputs["alarmActions"] == [topic.outputs["arn"]], a.name


def test_every_endpoint_has_latency_error_utilisation_and_quality_alarms(prod):
    by_endpoint: dict[str, set[str]] = {}
    for a in prod.of_type(ALARM):
        dims = a.inputs.get("dimensions") or {}
        if "EndpointName" in dims:
            assert dims["VariantName"] == "primary"
            by_endpoint.setdefault(dims["EndpointName"], set()).add(a.inputs["metricName"])
    expected = {
        "ModelLatency",
        "OverheadLatency",
        "Invocation4XXErrors",
        "Invocation5XXErrors",
        "CPUUtilization",
        "MemoryUtilization",
        "HallucinationRate",
        "BiasDisparity",
        "UserSatisfaction",
        "OutputQualityScore",
    }
    assert set(by_endpoint) == {"fraud-scorer-prod", "claims-assistant-prod"}
    for metrics in by_endpoint.values():
        assert expected <= metrics
    composites = prod.of_type("aws:cloudwatch/compositeAlarm:CompositeAlarm")
    assert len(composites) == 2


def test_autoscaling_per_endpoint(prod):
    targets = {
        t.inputs["resourceId"]: t.inputs for t in prod.of_type("aws:appautoscaling/target:Target")
    }
    assert targets["endpoint/fraud-scorer-prod/variant/primary"]["minCapacity"] == 2
    assert targets["endpoint/fraud-scorer-prod/variant/primary"]["maxCapacity"] == 6
    policies = prod.of_type("aws:appautoscaling/policy:Policy")
    assert {p.inputs["resourceId"] for p in policies} == set(targets)


DRIFT_IMAGE = (
    "262849081348.dkr.ecr.eu-west-2.amazonaws.com/drift-check@sha256:"
    "5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c"
)


def test_prod_drift_is_a_scheduled_processing_job_with_no_model_monitor(prod):
    # The default for a new account: nothing of Model Monitor, which is closed to new customers.
    for kind in ("monitoringSchedule:MonitoringSchedule", "dataQualityJobDefinition"):
        assert not [r for r in prod.resources if kind in r.type]
    keys, buckets = platform(prod)["keys"], platform(prod)["buckets"]
    subnets = platform(prod)["privateSubnetIds"]
    schedules = {
        s.inputs["name"]: s.inputs for s in prod.of_type("aws:scheduler/schedule:Schedule")
    }
    assert set(schedules) == {"fraud-scorer-prod-drift", "claims-assistant-prod-drift"}
    intervals = {
        "fraud-scorer-prod-drift": "cron(0 * * * ? *)",
        "claims-assistant-prod-drift": "cron(0 0/4 * * ? *)",
    }
    for name, s in schedules.items():
        assert s["scheduleExpression"] == intervals[name] and s["state"] == "ENABLED"
        assert s["target"]["arn"] == "arn:aws:scheduler:::aws-sdk:sagemaker:createProcessingJob"
        job = json.loads(s["target"]["input"])
        endpoint = name.removesuffix("-drift")
        assert job["Environment"]["ENDPOINT_NAME"] == endpoint
        assert job["AppSpecification"]["ImageUri"] == DRIFT_IMAGE
        # KMS on the volume and the report, no internet: the stack's private subnets.
        assert job["ProcessingResources"]["ClusterConfig"]["VolumeKmsKeyId"] == keys["data"]
        assert job["ProcessingOutputConfig"]["KmsKeyId"] == keys["data"]
        assert job["NetworkConfig"]["VpcConfig"]["Subnets"] == subnets
        assert job["NetworkConfig"]["EnableInterContainerTrafficEncryption"] is True
        assert (
            job["Environment"]["CAPTURE_S3_URI"] == f"s3://{buckets['capture']}/capture/{endpoint}/"
        )
        report = job["ProcessingOutputConfig"]["Outputs"][0]["S3Output"]["S3Uri"]
        assert report.startswith(f"s3://{buckets['capture']}/monitoring/{endpoint}/")
    [topic] = prod.of_type("aws:sns/topic:Topic")
    drift = {
        a.inputs["name"]: a.inputs
        for a in prod.of_type(ALARM)
        if a.inputs["name"].endswith("-feature-drift")
    }
    assert set(drift) == {f"{n}-feature-drift" for n in schedules}
    for name, a in drift.items():
        check = name.removesuffix("-feature-drift")
        assert a["treatMissingData"] == "breaching"  # a check that did not run is no evidence
        assert a["alarmActions"] == [topic.outputs["arn"]] == a["okActions"]
        for q in a["metricQueries"]:
            if "metric" in q:
                assert q["metric"]["namespace"] == "RegulatedInference/ModelDrift"
                assert q["metric"]["metricName"].startswith("feature_baseline_drift_")
                assert q["metric"]["dimensions"] == {
                    "Endpoint": check.removesuffix("-drift"),
                    "MonitoringSchedule": check,
                }
    assert drift["fraud-scorer-prod-drift-feature-drift"]["threshold"] == 0.2
    exports = prod.stack_outputs["models"]["fraud-scorer"]
    assert exports["driftMode"] == "processing-job"
    assert exports["driftCheckSchedule"] == "fraud-scorer-prod-drift"


def test_model_monitor_drift_is_selectable_per_model():
    def mutate(cfg: dict) -> None:
        fraud = [m for m in cfg[f"{NS}:models"] if m["name"] == "fraud-scorer"][0]
        fraud["monitoring"]["drift"] = {"mode": "model-monitor", "features": ["amount"]}

    rec = run_stack_with("prod", mutate)
    [schedule] = rec.of_type("aws:sagemaker/monitoringSchedule:MonitoringSchedule")
    assert schedule.inputs["name"] == "fraud-scorer-prod-data-quality"
    [job] = rec.of_type("aws:sagemaker/dataQualityJobDefinition:DataQualityJobDefinition")
    i = job.inputs
    assert i["networkConfig"]["enableNetworkIsolation"] is True
    assert i["networkConfig"]["enableInterContainerTrafficEncryption"] is True
    assert i["jobResources"]["clusterConfig"]["volumeKmsKeyId"] == platform(rec)["keys"]["data"]
    assert i["dataQualityJobOutputConfig"]["kmsKeyId"] == platform(rec)["keys"]["data"]
    # The other model keeps its processing-job check.
    names = {s.inputs["name"] for s in rec.of_type("aws:scheduler/schedule:Schedule")}
    assert names == {"claims-assistant-prod-drift"}
    [alarm] = [
        a
        for a in rec.of_type(ALARM)
        if a.inputs["name"] == "fraud-scorer-prod-data-quality-feature-drift"
    ]
    for q in alarm.inputs["metricQueries"]:
        if "metric" in q:
            assert q["metric"]["namespace"] == "aws/sagemaker/Endpoints/data-metrics"
            assert q["metric"]["dimensions"] == {
                "Endpoint": "fraud-scorer-prod",
                "MonitoringSchedule": "fraud-scorer-prod-data-quality",
            }


def test_processing_job_drift_needs_an_in_region_image():
    def mutate(cfg: dict) -> None:
        fraud = [m for m in cfg[f"{NS}:models"] if m["name"] == "fraud-scorer"][0]
        fraud["monitoring"]["drift"]["image"] = DRIFT_IMAGE.replace("eu-west-2", "us-east-1")

    with pytest.raises(ConfigError) as info:
        run_stack_with("prod", mutate)
    assert info.value.key == f"{NS}:models[{_fraud_index()}].monitoring.drift.image"
    assert "home region" in info.value.rule


def test_deployment_records_in_the_worm_audit_bucket(prod):
    audit_bucket, audit_key = platform(prod)["buckets"]["audit"], platform(prod)["keys"]["audit"]
    cfg = parse(without_namespace(stack_config("prod")))
    records = {
        json.loads(o.inputs["content"])["model"]: o.inputs
        for o in prod.of_type("aws:s3/bucketObjectv2:BucketObjectv2")
    }
    for model in (m for m in cfg.models if m.runs_on_sagemaker):
        obj = records[model.name]
        assert obj["bucket"] == audit_bucket and obj["kmsKeyId"] == audit_key
        content = json.loads(obj["content"])
        # What was requested, not what is assumed to run (an automatic rollback may follow).
        assert content["kind"] == "deployment-request"
        assert content["requestedVersion"] == model.version and content["stage"] == model.stage
        assert content["previousVersion"] == model.previous_version
        assert content["configSha256"] == model.config_sha256()
        assert content["requestSha256"] == model.request_sha256()
        assert "version" not in content and "endpointConfig" not in content
        assert content["evaluation"] == model.evaluation
        assert content["imageDigest"] == model.image.split("@")[1]
        assert content["modelPackage"].endswith(f"/{model.name}-prod/{model.model_package_version}")


def test_bedrock_guardrail_logging_and_runtime_endpoint(prod):
    g = prod.one("aws:bedrock/guardrail:Guardrail").inputs
    types = {f["type"] for f in g["contentPolicyConfig"]["filtersConfigs"]}
    assert "PROMPT_ATTACK" in types and g["sensitiveInformationPolicyConfig"]["piiEntitiesConfigs"]
    assert g["kmsKeyArn"] == platform(prod)["keys"]["data"]
    prod.one("aws:bedrock/guardrailVersion:GuardrailVersion")
    logging = prod.one(
        "aws:bedrockmodel/invocationLoggingConfiguration:InvocationLoggingConfiguration"
    )
    assert logging.inputs["loggingConfig"]["cloudwatchConfig"]["logGroupName"].startswith(
        "/regulated-inference/prod/"
    )
    allowed = prod.stack_outputs["bedrock"]["models"]
    [vpce] = [
        v
        for v in prod.of_type("aws:ec2/vpcEndpoint:VpcEndpoint")
        if "bedrock-runtime" in v.inputs["serviceName"]
    ]
    assert json.loads(vpce.inputs["policy"])["Statement"][0]["Resource"] == allowed


def test_dev_runs_one_cheap_model_with_bedrock(dev):
    [endpoint] = dev.of_type(ENDPOINT)
    [config] = dev.of_type(CONFIG)
    assert config.inputs["productionVariants"][0]["instanceType"] == "ml.m5.large"
    assert config.inputs["productionVariants"][0]["initialInstanceCount"] == 1
    assert endpoint.inputs["deploymentConfig"]["autoRollbackConfiguration"]["alarms"]
    dev.one("aws:bedrock/guardrail:Guardrail")


# -- lifecycle through config changes ------------------------------------------------------


def _deploy(version: str, register: dict | None = None):
    """The config change of a deployment: optionally register a version, then select it,
    naming the version that ran until now as `previousVersion` (docs/lifecycle.md)."""

    def mutate(cfg: dict) -> None:
        for m in cfg[f"{NS}:models"]:
            if m["name"] == "fraud-scorer":
                if register is not None:
                    m["versions"][version] = register
                if m["version"] != version:
                    m["previousVersion"] = m["version"]
                m["version"] = version

    return mutate


NEW_VERSION = {
    "image": "111122223333.dkr.ecr.eu-west-2.amazonaws.com/models/fraud-scorer@sha256:" + "7" * 64,
    "evaluation": {"accuracy": 0.97, "auc": 0.985, "biasDisparity": 0.02},
    "modelPackageVersion": 6,
}


def _fraud_index() -> int:
    names = [m["name"] for m in stack_config("prod")[f"{NS}:models"]]
    return names.index("fraud-scorer")


def _fraud(rec, typ: str):
    return [r for r in rec.of_type(typ) if r.name.startswith("fraud-scorer-")]


def _fraud_endpoint(rec):
    [endpoint] = [e for e in rec.of_type(ENDPOINT) if e.inputs["name"] == "fraud-scorer-prod"]
    return endpoint


def _running(rec):
    """(endpoint config, model) the fraud-scorer endpoint is asked to run."""
    name = _fraud_endpoint(rec).inputs["endpointConfigName"]
    [config] = [c for c in _fraud(rec, CONFIG) if c.outputs["name"] == name]
    model_name = config.inputs["productionVariants"][0]["modelName"]
    [model] = [m for m in _fraud(rec, MODEL) if m.outputs["name"] == model_name]
    return config, model


def test_new_version_is_a_new_config_on_the_same_endpoint(prod):
    old_config, old_model = _running(prod)
    new = run_stack_with("prod", _deploy("2.4.0", NEW_VERSION))
    new_config, model = _running(new)
    assert new_config.name != old_config.name
    assert new_config.outputs["name"].startswith("fraud-scorer-prod-2-4-0-")
    endpoint = _fraud_endpoint(new)
    assert endpoint.inputs["deploymentConfig"]["blueGreenUpdatePolicy"]  # the guarded path
    assert model.inputs["primaryContainer"]["modelPackageName"].endswith(
        ":model-package/fraud-scorer-prod/6"
    )
    # The version that ran until now stays deployed, unchanged: an automatic rollback lands on it.
    kept = {c.urn: c.inputs for c in _fraud(new, CONFIG)}
    assert kept[old_config.urn] == old_config.inputs
    assert {m.urn: m.inputs for m in _fraud(new, MODEL)}[old_model.urn] == old_model.inputs
    assert set(kept) == {old_config.urn, new_config.urn}
    [record] = [
        json.loads(o.inputs["content"])
        for o in new.of_type("aws:s3/bucketObjectv2:BucketObjectv2")
        if json.loads(o.inputs["content"])["model"] == "fraud-scorer"
    ]
    assert record["imageDigest"] == NEW_VERSION["image"].split("@")[1]
    assert record["artifactUri"].endswith("/fraud-scorer/2.4.0/model.tar.gz")


def test_one_line_rollback_deploys_the_registered_previous_version(prod):
    before = {c.urn: c.inputs for c in _fraud(prod, CONFIG)}
    back = run_stack_with("prod", _deploy("2.2.1"))  # `version:` and `previousVersion:` swap
    config, model = _running(back)
    assert config.outputs["name"].startswith("fraud-scorer-prod-2-2-1-")
    versions = [m for m in sagemaker_models("prod") if m["name"] == "fraud-scorer"][0]["versions"]
    assert model.inputs["primaryContainer"]["modelPackageName"].endswith(
        f":model-package/fraud-scorer-prod/{versions['2.2.1']['modelPackageVersion']}"
    )
    # Swapping creates and deletes nothing: both configs were deployed, only the endpoint moves.
    assert {c.urn: c.inputs for c in _fraud(back, CONFIG)} == before
    record = [
        json.loads(o.inputs["content"])
        for o in back.of_type("aws:s3/bucketObjectv2:BucketObjectv2")
        if json.loads(o.inputs["content"])["model"] == "fraud-scorer"
    ][0]
    assert record["requestedVersion"] == "2.2.1" and record["previousVersion"] == "2.3.0"
    assert record["evaluation"] == versions["2.2.1"]["evaluation"]


def test_rolling_forward_then_back_restores_the_same_config(prod):
    original, _ = _running(prod)
    forward = run_stack_with("prod", _deploy("2.4.0", NEW_VERSION))

    def back(cfg: dict) -> None:
        _deploy("2.4.0", NEW_VERSION)(cfg)
        _deploy("2.3.0")(cfg)

    again = run_stack_with("prod", back)
    same, _ = _running(again)
    assert (same.name, same.outputs["name"]) == (original.name, original.outputs["name"])
    assert _running(forward)[0].urn in {c.urn for c in _fraud(again, CONFIG)}  # 2.4.0 kept


def test_quality_gate_stops_a_prod_deployment_before_anything_is_registered():
    with pytest.raises(ConfigError) as info:
        run_stack_with(
            "prod", _deploy("2.5.0", {**NEW_VERSION, "evaluation": {"accuracy": 0.91, "auc": 0.99}})
        )
    e = info.value
    assert e.key == f"{NS}:models[{_fraud_index()}].evaluation.accuracy" and e.value == 0.91
    assert "accuracy 0.91 is below the minimum 0.95" in e.rule
    assert "version 2.5.0 of fraud-scorer cannot be deployed to prod" in e.rule


def test_nvme_instance_type_stops_the_prod_stack():
    def mutate(cfg: dict) -> None:
        cfg[f"{NS}:models"][_fraud_index()]["instanceType"] = "ml.g5.2xlarge"

    with pytest.raises(ConfigError) as info:
        run_stack_with("prod", mutate)
    assert info.value.key == f"{NS}:models[{_fraud_index()}].instanceType"
    assert "hardware module" in info.value.rule


def test_thresholds_from_config_reach_the_alarms(prod):
    by_name = {a.inputs["name"]: a.inputs for a in prod.of_type(ALARM)}
    fraud = [m for m in sagemaker_models("prod") if m["name"] == "fraud-scorer"][0]["monitoring"]
    latency = by_name["fraud-scorer-prod-primary-latency-p99"]
    assert latency["threshold"] == fraud["latencyP99Ms"] * 1000
    assert by_name["fraud-scorer-prod-primary-5xx-rate"]["threshold"] == fraud["max5xxRate"]
    hall = by_name["fraud-scorer-prod-primary-quality-HallucinationRate"]
    assert hall["threshold"] == fraud["hallucinationRateMax"]
    dashboards = {
        d.inputs["dashboardName"] for d in prod.of_type("aws:cloudwatch/dashboard:Dashboard")
    }
    assert dashboards == {"fraud-scorer-prod-primary", "claims-assistant-prod-primary"}


def test_pilot_of_a_new_version_runs_beside_production_for_pilot_users_only():
    def mutate(cfg: dict) -> None:
        fraud = [m for m in cfg[f"{NS}:models"] if m["name"] == "fraud-scorer"][0]
        cfg[f"{NS}:models"].append(
            {
                "name": "fraud-scorer-pilot",
                "registryGroup": "fraud-scorer",
                "version": "2.4.0",
                "stage": "pilot",
                "callers": ["fraud-analysts"],
                "image": NEW_VERSION["image"],
                "artifactKey": "fraud-scorer/2.4.0/model.tar.gz",
                "modelPackageVersion": 6,
                "evaluation": NEW_VERSION["evaluation"],
                "qualityGate": fraud["qualityGate"],
                "instanceType": "ml.m5.xlarge",
                "instanceCount": 2,
                "monitoring": {"drift": {"features": ["amount"], "image": DRIFT_IMAGE}},
                # prod: the pilot is in the model inventory too
                "owner": fraud["owner"],
                "riskTier": fraud["riskTier"],
                "validation": fraud["validation"],
            }
        )

    rec = run_stack_with("prod", mutate)
    # The registry project owns the groups; the pilot shares fraud-scorer's group.
    assert rec.of_type("aws:sagemaker/modelPackageGroup:ModelPackageGroup") == []
    [pilot_model] = [m for m in rec.of_type(MODEL) if m.name.startswith("fraud-scorer-pilot-")]
    assert pilot_model.inputs["primaryContainer"]["modelPackageName"].endswith(
        ":model-package/fraud-scorer-prod/6"
    )
    [policy] = [
        p
        for p in rec.of_type("aws:iam/policy:Policy")
        if p.inputs["name"] == "fraud-scorer-pilot-prod-invoke"
    ]
    attached = [
        a.inputs["role"]
        for a in rec.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
        if a.inputs["policyArn"] == policy.outputs["arn"]
    ]
    assert attached == ["fraud-analysts"]
    [production] = [e for e in rec.of_type(ENDPOINT) if e.inputs["name"] == "fraud-scorer-prod"]
    assert production.inputs["tags"]["model-version"] == "2.3.0"  # production untouched
