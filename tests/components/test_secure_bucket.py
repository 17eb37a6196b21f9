"""SecureBucket: SSE-KMS + bucket key, public access blocked, ACLs off, versioning, TLS-only, logging, lock."""

from __future__ import annotations

import json

import pytest

from regulated_inference.components.secure_bucket import (
    ObjectLock,
    ObjectLockMode,
    SecureBucket,
    ServiceWriter,
)
from regulated_inference.lib.errors import ComponentArgsError
from tests.components.helpers import declared_outputs
from tests.conftest import run_component

KEY = "arn:aws:kms:eu-west-2:111122223333:key/0b0c7f2e-1111-2222-3333-444455556666"


def _run(**args):
    base = {"kms_key_arn": KEY, "access_log_bucket": "logs-bucket"}
    return run_component(lambda: SecureBucket("b", {**base, **args}))


@pytest.fixture(scope="module")
def default():
    return _run()


def test_encryption_is_sse_kms_with_the_cmk_and_bucket_key(default):
    enc = default.one(
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
    )
    rule = enc.inputs["rules"][0]
    assert rule["applyServerSideEncryptionByDefault"] == {
        "sseAlgorithm": "aws:kms",
        "kmsMasterKeyId": KEY,
    }
    assert rule["bucketKeyEnabled"] is True


def test_public_access_fully_blocked_and_acls_disabled(default):
    pab = default.one("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock").inputs
    assert all(
        pab[k] is True
        for k in (
            "blockPublicAcls",
            "blockPublicPolicy",
            "ignorePublicAcls",
            "restrictPublicBuckets",
        )
    )
    own = default.one("aws:s3/bucketOwnershipControls:BucketOwnershipControls").inputs
    assert own["rule"]["objectOwnership"] == "BucketOwnerEnforced"


def test_versioning_lifecycle_and_logging(default):
    assert (
        default.one("aws:s3/bucketVersioning:BucketVersioning").inputs["versioningConfiguration"][
            "status"
        ]
        == "Enabled"
    )
    rule = default.one("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration").inputs[
        "rules"
    ][0]
    assert rule["status"] == "Enabled"
    assert rule["noncurrentVersionExpiration"]["noncurrentDays"] == 90
    assert rule["abortIncompleteMultipartUpload"]["daysAfterInitiation"] == 7
    logging = default.one("aws:s3/bucketLogging:BucketLogging").inputs
    assert logging["targetBucket"] == "logs-bucket" and logging["targetPrefix"] == "b/"


def test_policy_denies_non_tls_old_tls_and_other_keys(default):
    pol = default.one("aws:s3/bucketPolicy:BucketPolicy")
    doc = json.loads(pol.inputs["policy"])
    by_sid = {s["Sid"]: s for s in doc["Statement"]}
    assert by_sid["DenyInsecureTransport"]["Effect"] == "Deny"
    assert by_sid["DenyInsecureTransport"]["Condition"] == {
        "Bool": {"aws:SecureTransport": "false"}
    }
    assert by_sid["DenyOutdatedTls"]["Condition"] == {"NumericLessThan": {"s3:TlsVersion": "1.2"}}
    assert by_sid["DenyOtherKmsKeys"]["Condition"]["StringNotEqualsIfExists"] == {
        "s3:x-amz-server-side-encryption-aws-kms-key-id": KEY
    }
    assert not [s for s in doc["Statement"] if s["Effect"] == "Allow"]  # no grants by default
    # the policy waits for the public access block
    pab = default.one("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock")
    assert pab.urn in pol.dependencies


def test_every_declared_output_is_registered(default):
    out = default.one("regulated-inference:index:SecureBucket").outputs
    assert set(out) == declared_outputs(SecureBucket)
    bucket = default.one("aws:s3/bucket:Bucket").outputs
    assert out == {"bucketName": bucket["bucket"], "arn": bucket["arn"], "kmsKeyArn": KEY}


def test_bucket_name_is_a_realistic_autoname(default):
    bucket = default.one("aws:s3/bucket:Bucket")
    assert (
        bucket.outputs["bucket"].startswith("b-bucket-")
        and bucket.outputs["arn"] == f"arn:aws:s3:::{bucket.outputs['bucket']}"
    )
    assert bucket.inputs["objectLockEnabled"] is False and bucket.inputs["forceDestroy"] is False


def test_object_lock_and_service_writer():
    rec = _run(
        object_lock=ObjectLock(mode=ObjectLockMode.COMPLIANCE, days=2557),
        service_writers=[
            ServiceWriter(
                service="cloudtrail.amazonaws.com",
                prefix="cloudtrail/AWSLogs/111122223333/",
                source_account="111122223333",
                source_arn="arn:aws:cloudtrail:eu-west-2:111122223333:trail/t",
                read_acl=True,
            )
        ],
    )
    assert rec.one("aws:s3/bucket:Bucket").inputs["objectLockEnabled"] is True
    lock = rec.one("aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration").inputs
    assert lock["rule"]["defaultRetention"] == {"mode": "COMPLIANCE", "days": 2557}
    doc = json.loads(rec.one("aws:s3/bucketPolicy:BucketPolicy").inputs["policy"])
    write = next(s for s in doc["Statement"] if s["Sid"] == "ServiceWrite0")
    assert write["Principal"] == {"Service": "cloudtrail.amazonaws.com"}
    assert write["Resource"].endswith("/cloudtrail/AWSLogs/111122223333/*")
    assert write["Condition"] == {
        "StringEquals": {"aws:SourceAccount": "111122223333"},
        "ArnLike": {"aws:SourceArn": "arn:aws:cloudtrail:eu-west-2:111122223333:trail/t"},
    }
    assert any(
        s["Sid"] == "ServiceAclCheck0" and s["Action"] == "s3:GetBucketAcl"
        for s in doc["Statement"]
    )


def test_access_log_bucket_does_not_log_itself_and_admits_log_delivery_for_this_account():
    rec = run_component(
        lambda: SecureBucket(
            "logs", {"kms_key_arn": KEY, "is_access_log_bucket": True, "account_id": "111122223333"}
        )
    )
    assert rec.of_type("aws:s3/bucketLogging:BucketLogging") == []
    doc = json.loads(rec.one("aws:s3/bucketPolicy:BucketPolicy").inputs["policy"])
    st = next(s for s in doc["Statement"] if s["Sid"] == "S3ServerAccessLogs")
    assert st["Principal"] == {"Service": "logging.s3.amazonaws.com"}
    assert st["Condition"] == {"StringEquals": {"aws:SourceAccount": "111122223333"}}


@pytest.mark.parametrize(
    "args,arg",
    [
        ({"kms_key_arn": ""}, "kms_key_arn"),
        ({"access_log_bucket": None}, "access_log_bucket"),
        ({"object_lock": ObjectLock(mode="WORM", days=10)}, "object_lock"),
        (
            {"object_lock": ObjectLock(mode="COMPLIANCE", days=10), "force_destroy": True},
            "force_destroy",
        ),
        (
            {
                "service_writers": [
                    ServiceWriter(service="cloudtrail", prefix="x/", source_account="111122223333")
                ]
            },
            "service_writers",
        ),
        ({"is_access_log_bucket": True}, "account_id"),
    ],
)
def test_invalid_args_fail_before_any_resource(args, arg):
    with pytest.raises(ComponentArgsError) as info:
        _run(**args)
    assert info.value.arg == arg
    assert [r for r in info.value.partial_recording.resources if r.custom] == []
