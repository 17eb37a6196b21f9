"""CloudWatch Logs conventions shared by the components: one place for "an encrypted log group".

Every log group this project declares is KMS-encrypted with the logs key and has an explicit
retention (controls E5, L4); the key policy admits only log groups under the stack's prefix
(`EncryptionKeys`), so the name is the caller's, never generated.
"""

import pulumi
import pulumi_aws as aws


def encrypted_log_group(
    resource_name: str,
    name: pulumi.Input[str],
    kms_key_arn: pulumi.Input[str],
    retention_days: int,
    opts: pulumi.ResourceOptions,
) -> aws.cloudwatch.LogGroup:
    """A log group encrypted with `kms_key_arn`, kept `retention_days` (int(): Construct passes
    integers as doubles, pulumi/pulumi#21944)."""
    return aws.cloudwatch.LogGroup(
        resource_name,
        name=name,
        kms_key_id=kms_key_arn,
        retention_in_days=int(retention_days),
        opts=opts,
    )


__all__ = ["encrypted_log_group"]
