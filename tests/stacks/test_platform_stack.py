"""The prod and dev stacks: every platform component, secure properties, tags, no internet path."""

from __future__ import annotations

import fnmatch
import json

import pytest

from regulated_inference.lib.tagging import REQUIRED_TAG_KEYS, is_taggable

COMPONENTS = (
    "EncryptionKeys",
    "IsolatedNetwork",
    "SecureBucket",
    "AuditTrail",
    "LeastPrivilegeRole",
)


@pytest.mark.parametrize("stack", ["prod", "dev"])
def test_every_platform_component_is_registered(stack, request):
    rec = request.getfixturevalue(stack)
    present = {
        r.type.rsplit(":", 1)[1]
        for r in rec.resources
        if r.type.startswith("regulated-inference:index:")
    }
    assert set(COMPONENTS) <= present
    assert len(rec.of_type("regulated-inference:index:SecureBucket")) >= 4


@pytest.mark.parametrize("stack", ["prod", "dev"])
def test_no_internet_gateway_nat_or_default_route(stack, request):
    rec = request.getfixturevalue(stack)
    for typ in (
        "aws:ec2/internetGateway:InternetGateway",
        "aws:ec2/natGateway:NatGateway",
        "aws:ec2/egressOnlyInternetGateway:EgressOnlyInternetGateway",
        "aws:ec2/eip:Eip",
    ):
        assert rec.of_type(typ) == [], typ
    for r in rec.of_type("aws:ec2/route:Route"):
        assert r.inputs.get("destinationCidrBlock") != "0.0.0.0/0"
    for rt in rec.of_type("aws:ec2/routeTable:RouteTable"):
        assert not any(
            route.get("cidrBlock") == "0.0.0.0/0" for route in rt.inputs.get("routes") or []
        )
    for sn in rec.of_type("aws:ec2/subnet:Subnet"):
        assert sn.inputs["mapPublicIpOnLaunch"] is False


def test_prod_uses_three_azs_in_eu_west_2(prod):
    azs = sorted(
        s.inputs["availabilityZone"]
        for s in prod.of_type("aws:ec2/subnet:Subnet")
        if s.parent and "IsolatedNetwork" in s.parent
    )
    assert azs == ["eu-west-2a", "eu-west-2b", "eu-west-2c"]
    for r in prod.resources:
        arn = r.outputs.get("arn")
        if isinstance(arn, str) and arn.split(":")[3]:
            assert arn.split(":")[3] == "eu-west-2", arn


def test_dev_is_cheaper(dev, prod):
    assert len([s for s in dev.of_type("aws:ec2/subnet:Subnet")]) < len(
        prod.of_type("aws:ec2/subnet:Subnet")
    )
    dev_keys = {k.inputs["deletionWindowInDays"] for k in dev.of_type("aws:kms/key:Key")}
    prod_keys = {k.inputs["deletionWindowInDays"] for k in prod.of_type("aws:kms/key:Key")}
    assert dev_keys == {7} and prod_keys == {30}


def test_prod_audit_bucket_is_worm_for_seven_years_in_compliance_mode(prod):
    (lock,) = prod.of_type("aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration")
    assert lock.inputs["rule"]["defaultRetention"] == {"mode": "COMPLIANCE", "days": 2557}
    trail = prod.one("aws:cloudtrail/trail:Trail")
    audit_bucket = next(
        b for b in prod.of_type("aws:s3/bucket:Bucket") if b.inputs.get("objectLockEnabled")
    )
    assert trail.inputs["s3BucketName"] == audit_bucket.outputs["bucket"]
    # the trail waits for the bucket policy that lets it write
    policy = next(
        p
        for p in prod.of_type("aws:s3/bucketPolicy:BucketPolicy")
        if p.inputs["bucket"] == audit_bucket.outputs["bucket"]
    )
    assert policy.urn in trail.dependencies
    doc = json.loads(policy.inputs["policy"])
    writer = next(s for s in doc["Statement"] if s["Sid"] == "ServiceWrite0")
    assert writer["Condition"]["ArnLike"]["aws:SourceArn"] == trail.outputs["arn"]


def test_prod_log_groups_are_encrypted_retained_and_usable_by_cloudwatch_logs(prod):
    """Each log group's KMS key must let CloudWatch Logs use it for that group, or creation fails."""
    keys = {
        k.outputs["arn"]: json.loads(k.inputs["policy"]) for k in prod.of_type("aws:kms/key:Key")
    }
    groups = prod.of_type("aws:cloudwatch/logGroup:LogGroup")
    assert len(groups) >= 3
    for g in groups:
        assert g.inputs["retentionInDays"] >= 365
        doc = keys[g.inputs["kmsKeyId"]]
        st = next(s for s in doc["Statement"] if s["Sid"] == "CloudWatchLogsForOurLogGroups")
        patterns = st["Condition"]["ArnLike"]["kms:EncryptionContext:aws:logs:arn"]
        patterns = patterns if isinstance(patterns, list) else [patterns]
        arn = g.outputs["arn"]
        assert any(fnmatch.fnmatchcase(arn, p) for p in patterns), (arn, patterns)


def test_trail_records_data_events_of_model_and_capture_buckets(prod):
    selectors = prod.one("aws:cloudtrail/trail:Trail").inputs["advancedEventSelectors"]
    arns = next(f for s in selectors for f in s["fieldSelectors"] if f["field"] == "resources.ARN")[
        "startsWiths"
    ]
    buckets = {b.outputs["bucket"] for b in prod.of_type("aws:s3/bucket:Bucket")}
    models = next(b for b in buckets if "-models-" in b)
    capture = next(b for b in buckets if "-capture-" in b)
    assert f"arn:aws:s3:::{models}/" in arns and f"arn:aws:s3:::{capture}/" in arns


@pytest.mark.parametrize("stack", ["prod", "dev"])
def test_required_tags_on_every_taggable_aws_resource(stack, request):
    rec = request.getfixturevalue(stack)
    tagged = [r for r in rec.resources if r.custom and is_taggable(r.type)]
    assert len(tagged) > 20
    for r in tagged:
        tags = r.inputs.get("tags") or {}
        missing = [k for k in REQUIRED_TAG_KEYS if not tags.get(k)]
        assert not missing, f"{r.urn} lacks {missing}"
        assert tags["environment"] == stack


def test_every_bucket_has_its_protections(prod):
    buckets = {b.outputs["bucket"] for b in prod.of_type("aws:s3/bucket:Bucket")}
    for typ in (
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
        "aws:s3/bucketVersioning:BucketVersioning",
        "aws:s3/bucketPolicy:BucketPolicy",
        "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
        "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
    ):
        assert {r.inputs["bucket"] for r in prod.of_type(typ)} >= buckets, typ
    logged = {r.inputs["bucket"] for r in prod.of_type("aws:s3/bucketLogging:BucketLogging")}
    unlogged = buckets - logged
    assert len(unlogged) == 1 and "-access-logs-" in unlogged.pop()


def test_stack_outputs_name_the_platform(prod):
    out = prod.stack_outputs["platform"]
    assert out["region"] == "eu-west-2" and out["vpcId"].startswith("vpc-")
    assert set(out["keys"]) == {"data", "logs", "audit"}


@pytest.mark.parametrize("stack", ["prod", "dev"])
def test_access_logs_reach_the_sse_kms_log_bucket(stack, request):
    """The access-log bucket is SSE-KMS under the logs key: S3 log delivery needs both the bucket
    policy and the key policy, for this stack's source buckets and account only."""
    rec = request.getfixturevalue(stack)
    account = rec.stack_outputs["platform"]["keys"]["logs"].split(":")[4]
    log_bucket = rec.stack_outputs["platform"]["buckets"]["accessLogs"]
    bucket_urn = next(
        r.urn for r in rec.of_type("aws:s3/bucket:Bucket") if r.outputs.get("bucket") == log_bucket
    )
    sse = next(
        r
        for r in rec.of_type(
            "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
        )
        if r.parent == next(x.parent for x in rec.resources if x.urn == bucket_urn)
    )
    logs_key_arn = rec.stack_outputs["platform"]["keys"]["logs"]
    assert sse.inputs["rules"][0]["applyServerSideEncryptionByDefault"]["kmsMasterKeyId"] == (
        logs_key_arn
    )
    logs_key = next(r for r in rec.of_type("aws:kms/key:Key") if r.outputs["arn"] == logs_key_arn)
    grant = next(
        st
        for st in json.loads(logs_key.inputs["policy"])["Statement"]
        if st.get("Principal") == {"Service": "logging.s3.amazonaws.com"}
    )
    assert "kms:GenerateDataKey" in grant["Action"]
    assert grant["Condition"]["StringEquals"]["aws:SourceAccount"] == account
    pattern = grant["Condition"]["ArnLike"]["aws:SourceArn"]
    logged = {r.inputs["bucket"] for r in rec.of_type("aws:s3/bucketLogging:BucketLogging")}
    assert logged, "no bucket logs its access"
    for name in logged:
        assert fnmatch.fnmatchcase(f"arn:aws:s3:::{name}", pattern), (name, pattern)
    assert not fnmatch.fnmatchcase("arn:aws:s3:::regulated-inference-other-x", pattern)
