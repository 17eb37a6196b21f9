"""Prod-grade values, stated once: the config refuses them before the policy pack would.

Each entry is a policy-pack rule's prod parameter (policies/config/prod.json)
with the control it enforces. The config layer reads its limits from here and
refuses a prod value the pack would refuse, naming the same control, so a bad
prod config fails at `pulumi config` time with the key path instead of at
policy time with a resource URN. tests/config/test_prod_rules.py checks that
every value equals the pack's prod config, so the two cannot drift apart.
"""

from __future__ import annotations

import fnmatch

#: rule name → (control id, {parameter: prod value}), as in policies/config/prod.json.
PROD_PACK_PARAMETERS: dict[str, tuple[str, dict[str, object]]] = {
    "cloudwatch-log-retention": ("L10", {"minRetentionDays": 365}),
    "audit-bucket-worm": ("L5", {"allowedModes": ["COMPLIANCE"], "minRetentionDays": 365}),
    "kms-key-policy-and-deletion-window": ("E9", {"minDeletionWindowDays": 30}),
    "sagemaker-multi-instance": ("M5", {"minInstances": 2}),
    "sagemaker-instance-type-allowed": (
        "E1",
        {
            "allowedInstanceTypes": [
                "ml.m5.*",
                "ml.m6i.*",
                "ml.m7i.*",
                "ml.c5.*",
                "ml.c6i.*",
                "ml.c7i.*",
                "ml.r5.*",
                "ml.r6i.*",
                "ml.inf2.*",
            ]
        },
    ),
}


def _param(rule: str, name: str) -> object:
    return PROD_PACK_PARAMETERS[rule][1][name]


def control(rule: str) -> str:
    return PROD_PACK_PARAMETERS[rule][0]


PROD_MIN_LOG_RETENTION_DAYS: int = _param("cloudwatch-log-retention", "minRetentionDays")  # type: ignore[assignment]
PROD_AUDIT_MIN_RETENTION_DAYS: int = _param("audit-bucket-worm", "minRetentionDays")  # type: ignore[assignment]
PROD_AUDIT_MODES: list[str] = _param("audit-bucket-worm", "allowedModes")  # type: ignore[assignment]
PROD_KEY_DELETION_WINDOW_DAYS: int = _param(
    "kms-key-policy-and-deletion-window", "minDeletionWindowDays"
)  # type: ignore[assignment]
PROD_MIN_INSTANCES: int = _param("sagemaker-multi-instance", "minInstances")  # type: ignore[assignment]
PROD_INSTANCE_TYPES: list[str] = _param("sagemaker-instance-type-allowed", "allowedInstanceTypes")  # type: ignore[assignment]
#: L7 (sagemaker-data-capture): every endpoint captures a non-zero share of requests.
PROD_MIN_CAPTURE_SAMPLING_PERCENT = 1


def prod_instance_type_allowed(instance_type: str) -> bool:
    return any(fnmatch.fnmatchcase(instance_type, p) for p in PROD_INSTANCE_TYPES)
