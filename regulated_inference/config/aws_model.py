"""What AWS itself accepts, read from AWS's own service model as `botocore` ships it.

No hand-kept lists: regions come from botocore's `endpoints.json` (the
partitions' `regions`), SageMaker instance types from the `sagemaker`
service model's enums (`ProductionVariantInstanceType` for endpoints,
`ProcessingInstanceType` for Model Monitor jobs), Bedrock guardrail limits from
the `bedrock` service model's shapes (`GuardrailBlockedMessaging`, …).
botocore is pinned exactly in requirements.txt, so the lists change only when
the pin does (in a reviewed commit).

The files are read directly (gzip + json, ~0.1 s for all, once per process)
rather than through `botocore.loaders`, which takes ~1.3 s for the SageMaker
model because it builds OrderedDicts.
"""

from __future__ import annotations

import gzip
import importlib.util
import json
from functools import cache
from pathlib import Path
from typing import Any


def _data_dir() -> Path:
    spec = importlib.util.find_spec("botocore")
    if spec is None or not spec.submodule_search_locations:  # pragma: no cover
        raise RuntimeError("botocore is not installed (pinned in requirements.txt)")
    return Path(next(iter(spec.submodule_search_locations))) / "data"


def _load(path: Path) -> dict[str, Any]:
    gz = path.with_name(path.name + ".gz")
    if gz.is_file():
        return json.loads(gzip.decompress(gz.read_bytes()))
    return json.loads(path.read_text())


@cache
def _service(name: str) -> dict[str, Any]:
    """The newest API version of a service model, as botocore's loader picks it."""
    versions = sorted(p for p in (_data_dir() / name).iterdir() if p.is_dir())
    return _load(versions[-1] / "service-2.json")["shapes"]


@cache
def regions() -> dict[str, str]:
    """Every region of every partition: region code → partition (botocore endpoints.json)."""
    out: dict[str, str] = {}
    for partition in _load(_data_dir() / "endpoints.json")["partitions"]:
        for region in partition["regions"]:
            out[region] = partition["partition"]
    return out


@cache
def endpoint_instance_types() -> frozenset[str]:
    """Instance types a SageMaker endpoint production variant accepts (CreateEndpointConfig)."""
    return frozenset(_service("sagemaker")["ProductionVariantInstanceType"]["enum"])


@cache
def processing_instance_types() -> frozenset[str]:
    """Instance types a Model Monitor / processing job accepts (MonitoringClusterConfig)."""
    return frozenset(_service("sagemaker")["ProcessingInstanceType"]["enum"])


def bedrock_shape(name: str) -> dict[str, Any]:
    """A shape of the Bedrock control-plane model, e.g. `GuardrailBlockedMessaging` (min/max length)."""
    return dict(_service("bedrock")[name])


def check_region(value: str) -> None:
    if value not in regions():
        known = sorted(r for r, p in regions().items() if p == "aws")
        raise ValueError(
            f"is not an AWS region (botocore's endpoint data; commercial regions: {', '.join(known)})"
        )


def check_instance_type(value: str, kind: str = "endpoint") -> None:
    allowed = endpoint_instance_types() if kind == "endpoint" else processing_instance_types()
    if value not in allowed:
        what = "a SageMaker endpoint" if kind == "endpoint" else "a Model Monitor job"
        raise ValueError(
            f"is not an instance type {what} accepts (SageMaker API model in botocore; "
            "e.g. ml.m5.large, ml.c6i.xlarge)"
        )


__all__ = [
    "bedrock_shape",
    "check_instance_type",
    "check_region",
    "endpoint_instance_types",
    "processing_instance_types",
    "regions",
]
