"""The cost estimate: each priced item against hand-computed figures, budget, region, reports, refresh tool.

Prices are read from the eu-west-2 table (regulated_inference/preview/prices/eu-west-2.json) so
the arithmetic below names the table's figure it uses; the assertions are the
hand computation (e.g. 2 × 0.269 × 730), not the model's own output.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from regulated_inference.preview import cost_prices
from regulated_inference.preview.cost import (
    CostModelError,
    alarm_metrics,
    compare,
    estimate,
    load_base_cost,
    runs_per_month,
)
from regulated_inference.preview.cost_prices import load_table, on_demand_usd, refresh_table
from regulated_inference.preview.markdown import render_markdown
from regulated_inference.simulation.engine import RecordedResource, Recording

from .conftest import SAMPLE, copy_project

HERE = Path(__file__).parent
BULK = HERE / "price_list_sample"
T = load_table("eu-west-2")


def p(key: str) -> float:
    return T.get(key).usd


def res(typ: str, name: str, inputs: dict, parent: str | None = None) -> RecordedResource:
    return RecordedResource(
        urn=f"urn:pulumi:s::proj::{typ}::{name}",
        type=typ,
        name=name,
        custom=True,
        id=name,
        inputs=inputs,
        outputs={},
        parent=parent,
    )


def run(resources, config=None):
    cfg = {"aws:region": "eu-west-2", **(config or {})}
    rec = Recording("proj", "s", cfg, list(resources), {})
    return estimate(rec, {r.urn: None for r in resources})


def items(est, name):
    return [i for i in est.items if i.resource.name == name]


# -- each priced item ----------------------------------------------------------------------


def test_sagemaker_endpoint_instances_times_730_hours():
    config = res(
        "aws:sagemaker/endpointConfiguration:EndpointConfiguration",
        "cfg",
        {
            "name": "ep-config-1",
            "productionVariants": [
                {
                    "variantName": "primary",
                    "instanceType": "ml.m5.xlarge",
                    "initialInstanceCount": 2,
                }
            ],
        },
    )
    ep = res(
        "aws:sagemaker/endpoint:Endpoint", "ep", {"name": "ep", "endpointConfigName": "ep-config-1"}
    )
    est = run([config, ep])
    [item] = items(est, "ep")
    assert p("sagemaker:hosting:ml.m5.xlarge") == 0.269
    assert item.monthly_min == item.monthly_max == pytest.approx(2 * 0.269 * 730)  # 392.74
    assert est.total_max == pytest.approx(392.74)


def test_sagemaker_autoscaling_gives_a_min_max_range():
    config = res(
        "aws:sagemaker/endpointConfiguration:EndpointConfiguration",
        "cfg",
        {
            "name": "c",
            "productionVariants": [
                {
                    "variantName": "primary",
                    "instanceType": "ml.c5.xlarge",
                    "initialInstanceCount": 2,
                }
            ],
        },
    )
    ep = res("aws:sagemaker/endpoint:Endpoint", "ep", {"name": "ep", "endpointConfigName": "c"})
    target = res(
        "aws:appautoscaling/target:Target",
        "t",
        {
            "serviceNamespace": "sagemaker",
            "resourceId": "endpoint/ep/variant/primary",
            "minCapacity": 2,
            "maxCapacity": 6,
        },
    )
    [item] = items(run([config, ep, target]), "ep")
    assert item.monthly_min == pytest.approx(2 * 0.238 * 730)  # 347.48
    assert item.monthly_max == pytest.approx(6 * 0.238 * 730)  # 1042.44


def test_interface_endpoint_per_az_hour_and_data_processed_gateway_free():
    iface = res(
        "aws:ec2/vpcEndpoint:VpcEndpoint",
        "kms",
        {
            "vpcEndpointType": "Interface",
            "serviceName": "com.amazonaws.eu-west-2.kms",
            "subnetIds": ["a", "b", "c"],
        },
    )
    gw = res("aws:ec2/vpcEndpoint:VpcEndpoint", "s3", {"vpcEndpointType": "Gateway"})
    est = run([iface, gw], {"proj:cost": json.dumps({"vpcEndpointGbPerMonth": 50})})
    hours, data = items(est, "kms")
    assert hours.monthly_max == pytest.approx(3 * 0.011 * 730)  # 24.09
    assert data.monthly_max == pytest.approx(50 * 0.01)  # 0.50
    assert data.assumption == "vpcEndpointGbPerMonth"
    assert items(est, "s3") == []


def test_kms_key_month_and_rotation_range():
    key = res("aws:kms/key:Key", "k", {"enableKeyRotation": True, "rotationPeriodInDays": 365})
    plain = res("aws:kms/key:Key", "p", {"enableKeyRotation": False})
    est = run([key, plain])
    fee, rotation = items(est, "k")
    assert fee.monthly_max == 1.0
    assert (rotation.monthly_min, rotation.monthly_max) == (0.0, 2 * 1.0)
    assert [i.description for i in items(est, "p")] == ["KMS key"]
    assert est.total_min == 2.0 and est.total_max == 4.0


def test_alarms_standard_high_resolution_anomaly_metric_math_composite_dashboard():
    std = res("aws:cloudwatch/metricAlarm:MetricAlarm", "std", {"period": 300})
    high = res("aws:cloudwatch/metricAlarm:MetricAlarm", "high", {"period": 10})
    anomaly = res(
        "aws:cloudwatch/metricAlarm:MetricAlarm",
        "anomaly",
        {
            "metricQueries": [
                {"id": "m", "metric": {"metricName": "Invocations", "period": 300}},
                {"id": "band", "expression": "ANOMALY_DETECTION_BAND(m, 3)"},
            ]
        },
    )
    math_ = res(
        "aws:cloudwatch/metricAlarm:MetricAlarm",
        "drift",
        {
            "metricQueries": [
                {"id": "f0", "metric": {"period": 3600}},
                {"id": "f1", "metric": {"period": 3600}},
                {"id": "f2", "metric": {"period": 3600}},
                {"id": "max", "expression": "MAX([f0, f1, f2])"},
            ]
        },
    )
    composite = res("aws:cloudwatch/compositeAlarm:CompositeAlarm", "comp", {})
    dash = res("aws:cloudwatch/dashboard:Dashboard", "dash", {})
    est = run([std, high, anomaly, math_, composite, dash])
    got = {i.resource.name: i.monthly_max for i in est.items}
    assert got["std"] == pytest.approx(0.10)
    assert got["high"] == pytest.approx(0.30)
    assert got["anomaly"] == pytest.approx(3 * 0.10)  # metric + the band's 2 bounds
    assert got["drift"] == pytest.approx(3 * 0.10)  # one per metric read
    assert got["comp"] == pytest.approx(0.50)
    assert got["dash"] == pytest.approx(3.00)
    assert alarm_metrics({"period": 30}) == (1, True, False)


def test_log_groups_ingestion_and_steady_state_storage_flow_logs_at_vended_rate():
    flow = res(
        "aws:ec2/flowLog:FlowLog",
        "fl",
        {"logDestination": "arn:aws:logs:eu-west-2:1:log-group:/vpc/flow", "trafficType": "ALL"},
    )
    flow_group = res(
        "aws:cloudwatch/logGroup:LogGroup", "flow", {"name": "/vpc/flow", "retentionInDays": 365}
    )
    app = res("aws:cloudwatch/logGroup:LogGroup", "app", {"name": "/app", "retentionInDays": 30})
    est = run(
        [flow, flow_group, app],
        {"proj:cost": json.dumps({"flowLogGbPerMonth": 20, "logIngestionGbPerGroup": 2})},
    )
    f_in, f_store = items(est, "flow")
    assert f_in.price_key == "logs:vended-ingestion-gb"
    assert f_in.monthly_max == pytest.approx(20 * 0.5985)  # 11.97
    assert f_store.monthly_max == pytest.approx(
        20 * (365 / (730 / 24)) * 0.0315
    )  # 20 GB × 12 months
    a_in, a_store = items(est, "app")
    assert a_in.monthly_max == pytest.approx(2 * 0.5985)
    assert a_store.monthly_max == pytest.approx(2 * (30 / (730 / 24)) * 0.0315)


def test_cloudtrail_data_events_per_100k_management_first_copy_free():
    trail = res(
        "aws:cloudtrail/trail:Trail",
        "trail",
        {
            "advancedEventSelectors": [
                {"fieldSelectors": [{"field": "eventCategory", "equals": ["Management"]}]},
                {"fieldSelectors": [{"field": "eventCategory", "equals": ["Data"]}]},
            ]
        },
    )
    mgmt_only = res(
        "aws:cloudtrail/trail:Trail",
        "mgmt",
        {
            "advancedEventSelectors": [
                {"fieldSelectors": [{"field": "eventCategory", "equals": ["Management"]}]}
            ]
        },
    )
    est = run(
        [trail, mgmt_only], {"proj:cost": json.dumps({"cloudtrailDataEventsPerMonth": 3_000_000})}
    )
    by = {(i.resource.name, i.description): i.monthly_max for i in est.items}
    assert by[("trail", "data events")] == pytest.approx(3_000_000 / 100_000 * 0.10)  # $3.00
    assert by[("trail", "management events, first copy")] == 0.0
    assert ("mgmt", "data events") not in by


def test_s3_storage_sns_email_and_bedrock_tokens():
    bucket = res("aws:s3/bucket:Bucket", "b", {})
    sub = res("aws:sns/topicSubscription:TopicSubscription", "mail", {"protocol": "email"})
    sqs = res("aws:sns/topicSubscription:TopicSubscription", "q", {"protocol": "sqs"})
    policy = res(
        "aws:iam/rolePolicy:RolePolicy",
        "invoke",
        {
            "policy": json.dumps(
                {
                    "Statement": [
                        {
                            "Resource": "arn:aws:bedrock:eu-west-2::foundation-model/anthropic.claude-3-haiku-20240307-v1:0"
                        }
                    ]
                }
            )
        },
    )
    est = run(
        [bucket, sub, sqs, policy],
        {
            "proj:cost": json.dumps(
                {
                    "s3StorageGbPerBucket": 100,
                    "snsNotificationsPerMonth": 5000,
                    "bedrockInputTokensPerMonth": 2_000_000,
                    "bedrockOutputTokensPerMonth": 400_000,
                }
            )
        },
    )
    assert items(est, "b")[0].monthly_max == pytest.approx(100 * 0.024)
    assert items(est, "mail")[0].monthly_max == pytest.approx(5000 / 100_000 * 2.00)  # $0.10
    assert items(est, "q") == []
    tin, tout = items(est, "invoke")
    assert tin.monthly_max == pytest.approx(2_000_000 / 1000 * 0.00025)  # $0.50
    assert tout.monthly_max == pytest.approx(400_000 / 1000 * 0.00125)  # $0.50


def test_bedrock_default_usage_is_zero_with_a_note():
    policy = res(
        "aws:iam/rolePolicy:RolePolicy",
        "invoke",
        {
            "policy": '{"Resource": "arn:aws:bedrock:eu-west-2::foundation-model/amazon.titan-embed-text-v2:0"}'
        },
    )
    est = run([policy])
    assert [i.monthly_max for i in est.items] == [0.0, 0.0]
    assert "default 0" in est.items[0].note


def test_model_monitor_runs_instances_duration_range():
    job = res(
        "aws:sagemaker/dataQualityJobDefinition:DataQualityJobDefinition",
        "job",
        {
            "name": "dq-job",
            "jobResources": {"clusterConfig": {"instanceType": "ml.m5.xlarge", "instanceCount": 1}},
            "stoppingCondition": {"maxRuntimeInSeconds": 1800},
        },
    )
    sched = res(
        "aws:sagemaker/monitoringSchedule:MonitoringSchedule",
        "sched",
        {
            "monitoringScheduleConfig": {
                "monitoringJobDefinitionName": "dq-job",
                "scheduleConfig": {"scheduleExpression": "cron(0 0 ? * * *)"},
            }
        },
    )
    est = run([job, sched], {"proj:cost": json.dumps({"monitoringJobMinutes": 15})})
    [item] = items(est, "sched")
    runs = 730 / 24  # daily: 30.42 runs a month
    assert item.monthly_min == pytest.approx(runs * 1 * (15 / 60) * 0.269)
    assert item.monthly_max == pytest.approx(runs * 1 * (1800 / 3600) * 0.269)


def _drift_schedule(name: str, expr: str, state: str = "ENABLED") -> RecordedResource:
    request = {
        "ProcessingResources": {
            "ClusterConfig": {
                "InstanceType": "ml.m5.xlarge",
                "InstanceCount": 2,
                "VolumeSizeInGB": 30,
            }
        },
        "StoppingCondition": {"MaxRuntimeInSeconds": 1200},
    }
    return res(
        "aws:scheduler/schedule:Schedule",
        name,
        {
            "scheduleExpression": expr,
            "state": state,
            "target": {
                "arn": "arn:aws:scheduler:::aws-sdk:sagemaker:createProcessingJob",
                "input": json.dumps(request),
            },
        },
    )


def test_scheduled_processing_job_runs_instances_duration_range():
    # the drift check without Model Monitor: every 4 hours, 2 × ml.m5.xlarge, 10–20 min a run
    sched = _drift_schedule("drift", "cron(0 0/4 * * ? *)")
    other = res(
        "aws:scheduler/schedule:Schedule",
        "other",
        {"scheduleExpression": "cron(0 * * * ? *)", "target": {"arn": "arn:aws:lambda:x"}},
    )
    off = _drift_schedule("off", "cron(0 * * * ? *)", state="DISABLED")
    est = run([sched, other, off], {"proj:cost": json.dumps({"monitoringJobMinutes": 10})})
    [item] = items(est, "drift")
    runs = 6 * 730 / 24  # every 4 hours: 182.5 runs a month
    assert item.monthly_min == pytest.approx(runs * 2 * (10 / 60) * 0.269)
    assert item.monthly_max == pytest.approx(runs * 2 * (1200 / 3600) * 0.269)
    assert items(est, "other") == [] and items(est, "off") == []


@pytest.mark.parametrize(
    ("expr", "runs"),
    [
        ("cron(0 * ? * * *)", 730),
        ("cron(0 */6 ? * * *)", 4 * 730 / 24),
        ("cron(0 0 ? * * *)", 730 / 24),
        ("cron(0 8,20 ? * * *)", 2 * 730 / 24),
        ("cron(0 0 ? * MON *)", 730 / 24 / 7),
    ],
)
def test_schedule_expressions(expr, runs):
    assert runs_per_month(expr) == pytest.approx(runs, rel=1e-4)


def test_unreadable_schedule_is_an_error():
    with pytest.raises(CostModelError, match="cannot read the schedule expression 'rate"):
        runs_per_month("rate(1 hour)")


def test_eks_pods_node_share_only_when_priced():
    dep = res(
        "kubernetes:apps/v1:Deployment",
        "llm",
        {
            "metadata": {"name": "llm", "namespace": "ml"},
            "spec": {
                "template": {
                    "spec": {
                        "containers": [
                            {"resources": {"requests": {"cpu": "4", "nvidia.com/gpu": "1"}}},
                            {"resources": {"requests": {"cpu": "500m"}}},
                        ]
                    }
                }
            },
        },
    )
    hpa = res(
        "kubernetes:autoscaling/v2:HorizontalPodAutoscaler",
        "hpa",
        {
            "metadata": {"namespace": "ml"},
            "spec": {
                "scaleTargetRef": {"kind": "Deployment", "name": "llm"},
                "minReplicas": 2,
                "maxReplicas": 5,
            },
        },
    )
    unpriced = run([dep, hpa])
    assert [i.monthly_max for i in items(unpriced, "llm")] == [0.0, 0.0]
    assert "not priced: set proj:cost.eks.vcpuHourUsd" in items(unpriced, "llm")[0].note
    priced = run(
        [dep, hpa], {"proj:cost": json.dumps({"eks": {"vcpuHourUsd": 0.04, "gpuHourUsd": 0.8}})}
    )
    cpu, gpu = items(priced, "llm")
    assert (cpu.monthly_min, cpu.monthly_max) == (
        pytest.approx(2 * 4.5 * 0.04 * 730),
        pytest.approx(5 * 4.5 * 0.04 * 730),
    )
    assert gpu.monthly_max == pytest.approx(5 * 1 * 0.8 * 730)


def test_unpriced_resources_cost_nothing():
    est = run([res("aws:iam/role:Role", "r", {}), res("aws:ec2/vpc:Vpc", "v", {})])
    assert est.items == [] and est.total_max == 0


# -- errors ---------------------------------------------------------------------------------


def test_unknown_region_with_a_budget_is_one_clear_error():
    rec = Recording(
        "proj", "s", {"aws:region": "eu-central-1", "proj:budget": '{"monthlyUsd": 10}'}, [], {}
    )
    with pytest.raises(CostModelError) as err:
        estimate(rec, {})
    assert str(err.value).startswith(
        "no price table for region 'eu-central-1' (tables: eu-west-1, eu-west-2)"
    )


def test_unknown_region_without_cost_keys_says_why_there_is_no_estimate():
    rec = Recording("proj", "s", {"aws:region": "eu-central-1"}, [], {})
    assert estimate(rec, {}).startswith("not estimated: no price table for region 'eu-central-1'")


def test_missing_instance_price_is_an_error_when_a_budget_is_set():
    config = res(
        "aws:sagemaker/endpointConfiguration:EndpointConfiguration",
        "cfg",
        {
            "name": "c",
            "productionVariants": [{"variantName": "v", "instanceType": "ml.p5.48xlarge"}],
        },
    )
    ep = res("aws:sagemaker/endpoint:Endpoint", "ep", {"endpointConfigName": "c"})
    with pytest.raises(CostModelError, match="no price for 'sagemaker:hosting:ml.p5.48xlarge'"):
        run([config, ep], {"proj:budget": '{"monthlyUsd": 10}'})


def test_invalid_budget_is_a_config_error_naming_the_key():
    from regulated_inference.config import ConfigError

    rec = Recording(
        "proj", "s", {"aws:region": "eu-west-2", "proj:budget": '{"monthlyUsd": -1}'}, [], {}
    )
    with pytest.raises(ConfigError, match=r"proj:budget.monthlyUsd = -1"):
        estimate(rec, {})


# -- through the CLI (sample project: eu-west-1 dev, eu-central-1 prod) ------------------------


def _run_with_budget(run_cli, analyze, tmp_path, stack: str, usd: float):
    """The CLI on the sample project's `stack`, with its `budget.monthlyUsd` set to `usd`."""
    project = copy_project(
        SAMPLE,
        tmp_path / "p",
        stack,
        lambda c: c.update({"sample-inference:budget": {"monthlyUsd": usd}}),
    )
    return run_cli("--project-dir", str(project), "--stack", stack, analyze=analyze)


def test_budget_exceeded_exits_1_and_says_by_how_much_and_why(run_cli, fake_analyze, tmp_path):
    r = _run_with_budget(run_cli, fake_analyze, tmp_path, "dev", 1)
    # eu-west-1: 1 KMS key with rotation ($1, up to +$2) + 2 buckets × 10 GB × $0.023 = $3.46 at most
    assert r.code == 1
    assert "FAIL: over budget" in r.out
    msg = (
        "estimated cost up to $3.46/month exceeds sample-inference:budget.monthlyUsd $1.00 by $2.46 "
        "(upper end of the range $1.46–$3.46 compared); largest items: KMS automatic rotation"
    )
    assert msg in " ".join(r.out.split())
    assert f"error: {msg}" in r.err


def test_budget_met_exits_0(run_cli, fake_analyze, tmp_path):
    r = _run_with_budget(run_cli, fake_analyze, tmp_path, "dev", 3.46)
    assert r.code == 0
    assert "budget sample-inference:budget.monthlyUsd $3.46: within" in r.out


def test_unknown_region_with_budget_exits_2(run_cli, fake_analyze, tmp_path):
    r = _run_with_budget(run_cli, fake_analyze, tmp_path, "prod", 100)
    assert r.code == 2
    errors = [line for line in r.err.splitlines() if not line.startswith("offline-preview:")]
    assert errors == [
        "error: no price table for region 'eu-central-1' (tables: eu-west-1, eu-west-2); add "
        "prices/eu-central-1.json with `python -m regulated_inference.preview.cost_prices refresh --region eu-central-1`"
    ]
    assert r.out == ""


def test_bad_compare_cost_file_exits_2(run_cli, fake_analyze, tmp_path):
    base = tmp_path / "base.json"
    base.write_text('{"stack": "dev"}')
    r = run_cli("--project-dir", str(SAMPLE), "--compare-cost", str(base), analyze=fake_analyze)
    assert r.code == 2
    assert f"error: {base} has no cost estimate" in r.err


# -- report formats --------------------------------------------------------------------------


def test_json_cost_section_schema(run_cli, fake_analyze):
    r = run_cli("--project-dir", str(SAMPLE), "--format", "json", analyze=fake_analyze)
    cost = json.loads(r.out)["cost"]
    assert set(cost) >= {
        "currency",
        "total",
        "range",
        "priceTableDate",
        "assumptions",
        "items",
        "budget",
        "components",
    }
    assert cost["currency"] == "USD"
    assert cost["priceTableDate"] == load_table("eu-west-1").date
    assert cost["total"] == cost["range"]["max"] == pytest.approx(1 + 2 + 2 * 10 * 0.023)
    assert cost["range"]["min"] == pytest.approx(1 + 2 * 10 * 0.023)
    for item in cost["items"]:
        assert set(item) >= {"resource", "component", "quantity", "unit", "unitPrice", "monthly"}
        assert item["resource"].startswith("urn:pulumi:dev::sample-inference::")
        assert item["monthly"]["max"] == pytest.approx(
            item["quantity"]["max"] * item["unitPrice"], abs=1e-4
        )
    assert {a["key"] for a in cost["assumptions"]} == {"sample-inference:cost.s3StorageGbPerBucket"}


def test_markdown_shows_the_difference_against_a_base_report(fake_analyze, tmp_path):
    from regulated_inference.preview import cli

    report = cli.run_preview("dev", project_dir=SAMPLE, analyze=fake_analyze)  # eu-west-1
    base = report.cost.to_dict()
    # The base branch had one bucket less.
    dropped = next(i for i in base["items"] if i["description"] == "S3 Standard storage")
    base["items"].remove(dropped)
    base["range"] = {k: v - dropped["monthly"][k] for k, v in base["range"].items()}
    for comp in base["components"]:
        if comp["component"] == dropped["componentLabel"]:
            comp["monthly"] = {"min": 0.0, "max": 0.0}
    path = tmp_path / "base.json"
    path.write_text(json.dumps({"cost": base}))
    report.cost_base = load_base_cost(path.read_text(), str(path))
    md = render_markdown(report)
    # 10 GB × $0.023 (eu-west-1 S3 Standard) = $0.23
    assert "(**+$0.23**/month at the upper end, +$0.23 at the lower)" in md
    assert f"| {dropped['componentLabel']} | $0.00 | $0.23 | +$0.23 |" in md
    assert f"Added: S3 Standard storage (`{dropped['resourceName']}`) $0.23" in md
    assert "| Monthly cost | $1.46 – $3.46 |" in md
    assert len(md) < 60_000


def test_compare_totals_and_components():
    key = res("aws:kms/key:Key", "k", {})
    cur = run([key])
    base = {"range": {"min": 0.0, "max": 0.0}, "components": [], "items": []}
    diff = compare(cur, base)
    assert diff["delta"] == {"min": 1.0, "max": 1.0}
    assert diff["components"] == [
        {"component": "(stack)", "base": 0.0, "current": 1.0, "delta": 1.0}
    ]
    assert [i["resourceName"] for i in diff["itemsAdded"]] == ["k"]


def test_compare_lists_equal_prices_in_one_order_whatever_the_input_order():
    keys = [res("aws:kms/key:Key", name, {}) for name in ("c", "a", "b")]
    base = {"range": {"min": 0.0, "max": 0.0}, "components": [], "items": []}
    orders = {
        tuple(i["resourceName"] for i in compare(run(list(ks)), base)["itemsAdded"])
        for ks in (keys, keys[::-1], keys[1:] + keys[:1])
    }
    assert orders == {("a", "b", "c")}


def test_prod_preview_shows_the_monthly_estimate_within_budget(prod_report):
    from regulated_inference.preview.report import render_text

    text = render_text(prod_report)
    assert "COST ESTIMATE (USD/month; eu-west-2 prices dated " in text
    assert "budget regulated-inference:budget.monthlyUsd $2,500.00: within" in text
    est = prod_report.cost
    # 9 interface endpoints × 3 AZs × $0.011 × 730 h
    endpoints = [i for i in est.items if i.price_key == "vpc:interface-endpoint-az-hour"]
    assert sum(i.monthly_max for i in endpoints) == pytest.approx(9 * 3 * 0.011 * 730)
    assert prod_report.exit_code == 0


# -- the price tables and their refresh tool ---------------------------------------------------


@pytest.mark.parametrize("region", ["eu-west-1", "eu-west-2"])
def test_tables_cover_the_allowed_regions_with_a_date_and_a_source_per_price(region):
    table = load_table(region)
    assert table.date and "unreachable here" in table.method
    for price in table.prices.values():
        assert price.source.startswith("https://aws.amazon.com/")
        assert ("CONFIRMED:" in price.source) or ("NOT CONFIRMED" in price.source)


def test_bulk_file_first_tier_on_demand_price():
    bulk = json.loads((BULK / "AWSCloudTrail.json").read_text())
    assert on_demand_usd(bulk, {"usagetype": "EUW2-DataEventsRecorded"}) == 0.000001
    assert on_demand_usd(bulk, {"usagetype": "nope"}) is None


def test_refresh_tool_on_the_vendored_sample_bulk_files(tmp_path, capsys):
    prices = tmp_path / "prices"
    prices.mkdir()
    shutil.copy(cost_prices.PRICES_DIR / "eu-west-2.json", prices / "eu-west-2.json")
    code = cost_prices.main(
        ["refresh", "--region", "eu-west-2", "--bulk-dir", str(BULK), "--prices-dir", str(prices)]
    )
    assert code == 0
    out = capsys.readouterr().out
    assert "2 price(s) refreshed" in out
    table = load_table("eu-west-2", prices)
    assert table.get("sagemaker:hosting:ml.m5.xlarge").usd == 0.2777
    assert table.get("cloudtrail:data-events-100k").usd == pytest.approx(0.000001 * 100_000)
    assert "AWS Price List bulk file https://pricing.us-east-1.amazonaws.com/offers/v1.0/aws/" in (
        table.get("sagemaker:hosting:ml.m5.xlarge").source
    )
    # not in the sample: unchanged
    assert table.get("kms:key-month").usd == 1.0
    assert table.get("kms:key-month").source == T.get("kms:key-month").source
    doc, updated, missing = refresh_table(prices / "eu-west-2.json", {}, today="2030-01-01")
    assert updated == [] and doc["date"] == table.date
