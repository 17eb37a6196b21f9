"""The AWS services inference reaches through VPC endpoints, and what each endpoint allows.

Pure data and helpers, no resources. An interface endpoint's policy is a
second gate after IAM: it admits only principals of this account and only the
actions inference uses, so a stolen credential from another account — or a
call the workload never makes — is refused at the network edge.
"""

from __future__ import annotations

import json

#: Interface endpoints (short service name → actions the endpoint policy admits).
INTERFACE_ENDPOINTS: dict[str, tuple[str, ...]] = {
    "sagemaker.api": (
        "sagemaker:DescribeEndpoint",
        "sagemaker:DescribeEndpointConfig",
        "sagemaker:DescribeModel",
        "sagemaker:ListEndpoints",
        "sagemaker:DescribeModelPackage",
        "sagemaker:ListModelPackages",
    ),
    "sagemaker.runtime": (
        "sagemaker:InvokeEndpoint",
        "sagemaker:InvokeEndpointAsync",
        "sagemaker:InvokeEndpointWithResponseStream",
    ),
    "bedrock-runtime": (
        "bedrock:InvokeModel",
        "bedrock:InvokeModelWithResponseStream",
        "bedrock:ApplyGuardrail",
    ),
    "sts": (
        "sts:AssumeRole",
        "sts:AssumeRoleWithWebIdentity",
        "sts:GetCallerIdentity",
        "sts:TagSession",
    ),
    "kms": (
        "kms:Decrypt",
        "kms:Encrypt",
        "kms:GenerateDataKey",
        "kms:DescribeKey",
        "kms:CreateGrant",
    ),
    "logs": ("logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"),
    "monitoring": ("cloudwatch:PutMetricData",),
    "ecr.api": (
        "ecr:GetAuthorizationToken",
        "ecr:BatchGetImage",
        "ecr:GetDownloadUrlForLayer",
        "ecr:BatchCheckLayerAvailability",
    ),
    "ecr.dkr": (
        "ecr:BatchGetImage",
        "ecr:GetDownloadUrlForLayer",
        "ecr:BatchCheckLayerAvailability",
    ),
}

#: S3 actions admitted through the gateway endpoint.
S3_ACTIONS: tuple[str, ...] = (
    "s3:GetObject",
    "s3:GetObjectVersion",
    "s3:PutObject",
    "s3:ListBucket",
    "s3:GetBucketLocation",
)


def service_name(region: str, short: str) -> str:
    """The endpoint service name, e.g. com.amazonaws.eu-west-2.sagemaker.runtime."""
    return f"com.amazonaws.{region}.{short}"


def interface_endpoint_policy(short: str, account_id: str) -> str:
    """Default policy of an interface endpoint: this account's principals, this service's needed actions."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "ThisAccountOnly",
                    "Effect": "Allow",
                    "Principal": "*",
                    "Action": list(INTERFACE_ENDPOINTS[short]),
                    "Resource": "*",
                    "Condition": {"StringEquals": {"aws:PrincipalAccount": account_id}},
                }
            ],
        }
    )


def s3_gateway_policy(account_id: str, region: str, partition: str = "aws") -> str:
    """Only this account's buckets, plus the AWS-owned bucket ECR serves image layers from."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "ThisAccountBuckets",
                    "Effect": "Allow",
                    "Principal": "*",
                    "Action": list(S3_ACTIONS),
                    "Resource": "*",
                    "Condition": {
                        "StringEquals": {
                            "aws:PrincipalAccount": account_id,
                            "aws:ResourceAccount": account_id,
                        }
                    },
                },
                {
                    "Sid": "EcrImageLayers",
                    "Effect": "Allow",
                    "Principal": "*",
                    "Action": "s3:GetObject",
                    "Resource": f"arn:{partition}:s3:::prod-{region}-starport-layer-bucket/*",
                    "Condition": {"StringEquals": {"aws:PrincipalAccount": account_id}},
                },
            ],
        }
    )
