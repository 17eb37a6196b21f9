"""A hand-written program with nested components, config validation and raw resources.

The offline preview must work on any Pulumi Python program, not only on ours.
"""

import json

import pulumi
import pulumi_aws as aws


class SampleConfigError(pulumi.RunError):
    """An invalid stack config (stands in for regulated_inference.config.ConfigError)."""


class Keys(pulumi.ComponentResource):
    def __init__(self, name, rotate, opts=None):
        super().__init__("regulated-inference:index:Keys", name, None, opts)
        self.key = aws.kms.Key(
            f"{name}-data",
            enable_key_rotation=rotate,
            description="data key",
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.register_outputs({"arn": self.key.arn})


class SecureBucket(pulumi.ComponentResource):
    def __init__(self, name, key, opts=None):
        super().__init__("regulated-inference:index:SecureBucket", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.bucket = aws.s3.Bucket(f"{name}-bucket", tags={"owner": "ml"}, opts=child)
        aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}-encryption",
            bucket=self.bucket.id,
            rules=[
                {
                    "apply_server_side_encryption_by_default": {
                        "sse_algorithm": "aws:kms",
                        "kms_master_key_id": key.arn,
                    }
                }
            ],
            opts=child,
        )
        self.register_outputs({"arn": self.bucket.arn})


class Platform(pulumi.ComponentResource):
    def __init__(self, name, buckets, rotate, opts=None):
        super().__init__("regulated-inference:index:Platform", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.keys = Keys(f"{name}-keys", rotate, opts=child)
        self.buckets = [SecureBucket(f"{name}-{b}", self.keys.key, opts=child) for b in buckets]
        self.register_outputs({})


config = pulumi.Config()
buckets = json.loads(config.require("buckets"))
for i, bucket in enumerate(buckets):
    if not str(bucket.get("name", "")).isalnum():
        raise SampleConfigError(f"buckets[{i}].name: {bucket.get('name')!r} must be alphanumeric")
platform = Platform("platform", [b["name"] for b in buckets], config.require_bool("rotateKeys"))
alerts = aws.sns.Topic("alerts", kms_master_key_id=platform.keys.key.arn)
pulumi.export("alertsTopic", alerts.arn)
