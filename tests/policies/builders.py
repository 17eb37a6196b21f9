"""Resources and compliant property sets shared by the rule tests and their adversarial twins.

Each is the starting point a test changes one field of (`conftest.with_change`); a test
module keeps only what is its own.
"""

from __future__ import annotations

from policies.rules.base import Res, res

#: A customer-managed KMS key ARN.
KEY = "arn:aws:kms:eu-west-2:111122223333:key/k"

#: Endpoint-config properties that pass sagemaker-data-capture (L7).
DC_OK = {
    "dataCaptureConfig": {
        "enableCapture": True,
        "initialSamplingPercentage": 100,
        "kmsKeyId": KEY,
        "destinationS3Uri": "s3://capture/x",
        "captureOptions": [{"captureMode": "Input"}, {"captureMode": "Output"}],
    }
}

#: Endpoint properties that pass sagemaker-safe-deployment (M4): canary with alarm rollback.
DEPLOY_OK = {
    "name": "ep",
    "deploymentConfig": {
        "blueGreenUpdatePolicy": {
            "trafficRoutingConfiguration": {
                "type": "CANARY",
                "waitIntervalInSeconds": 600,
                "canarySize": {"type": "CAPACITY_PERCENT", "value": 10},
            }
        },
        "autoRollbackConfiguration": {"alarms": [{"alarmName": "ep-5xx"}]},
    },
}


def bucket(name: str, **props) -> Res:
    """An S3 bucket named `name` with its outputs (bucket, arn, id) and `props`."""
    return res(
        "aws:s3/bucket:Bucket",
        {"bucket": name, "arn": f"arn:aws:s3:::{name}", "id": name, **props},
        name,
    )


def model(uri: str = "s3://artifacts/model.tar.gz") -> Res:
    """A SageMaker model whose artifact is at `uri`."""
    return res("aws:sagemaker/model:Model", {"primaryContainer": {"modelDataUrl": uri}}, "m")
