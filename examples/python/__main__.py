"""A team's platform built from the regulated-inference components (installed from the wheel).

Keys first (one CMK per purpose), then a private network whose flow logs use the logs key, then
an access-log bucket and a data bucket that logs to it. Nothing here restates a security
setting: the components' defaults are the secure ones, and their args are TypedDicts, so an
editor and a type checker (the wheel ships py.typed) see every field.
"""

import pulumi
import pulumi_aws as aws

from regulated_inference.components.encryption_keys import EncryptionKeys
from regulated_inference.components.isolated_network import IsolatedNetwork
from regulated_inference.components.secure_bucket import SecureBucket
from regulated_inference.lib.aws import context

config = pulumi.Config()
stack = pulumi.get_stack()
prefix = f"{pulumi.get_project()}-{stack}"
region = aws.get_region().region
account = aws.get_caller_identity().account_id
partition = aws.get_partition().partition
where = context(region, account, partition)  # one AwsContext, passed to every component
log_group_prefix = f"/{pulumi.get_project()}/{stack}/"
# Buckets are auto-named from their logical names, which all start with the prefix.
bucket_sources = [f"arn:{partition}:s3:::{prefix}-*"]

keys = EncryptionKeys(
    prefix,
    {
        "aws": where,
        "log_group_prefix": log_group_prefix,
        "trail_name": f"{prefix}-audit",
        "access_log_source_arns": bucket_sources,
    },
)

network = IsolatedNetwork(
    prefix,
    {
        "cidr": config.get("cidr") or "10.60.0.0/20",
        "subnet_cidrs": ["10.60.0.0/24", "10.60.1.0/24"],
        "availability_zones": [f"{region}a", f"{region}b"],
        "aws": where,
        "logs_kms_key_arn": keys.logs_key_arn,
        "log_group_name": f"{log_group_prefix}vpc-flow-logs",
        "log_retention_days": 365,
    },
)

access_logs = SecureBucket(
    f"{prefix}-access-logs",
    {
        "kms_key_arn": keys.logs_key_arn,
        "is_access_log_bucket": True,
        "account_id": account,
        "log_source_arns": bucket_sources,
    },
)

data = SecureBucket(
    f"{prefix}-data",
    {
        "kms_key_arn": keys.data_key_arn,
        "access_log_bucket": access_logs.bucket_name,
        "access_log_prefix": "data/",
    },
)

pulumi.export("vpcId", network.vpc_id)
pulumi.export("privateSubnetIds", network.private_subnet_ids)
pulumi.export("dataBucket", data.bucket_name)
pulumi.export("dataKeyArn", keys.data_key_arn)
