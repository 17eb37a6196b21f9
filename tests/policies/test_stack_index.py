"""Correlation of pulumi-aws v7's separate S3 settings resources with their bucket."""

from __future__ import annotations

from policies.rules.base import UNKNOWN, res
from policies.rules.stack_index import PAB, SSE, VERSIONING, StackIndex

from .builders import bucket


def test_by_name_id_and_arn():
    b = bucket("data")
    idx = StackIndex(
        [
            b,
            res(SSE, {"bucket": "data"}, "sse"),
            res(PAB, {"bucket": "arn:aws:s3:::data"}, "pab"),
            res(VERSIONING, {"bucket": "arn:aws:s3:::data/ignored-prefix"}, "ver"),
        ]
    )
    assert [r.name for r in idx.settings(b, "encryption")] == ["sse"]
    assert [r.name for r in idx.settings(b, "public_access_block")] == ["pab"]
    assert [r.name for r in idx.settings(b, "versioning")] == ["ver"]
    assert idx.unresolved_settings == []


def test_by_property_dependency_when_name_unknown():
    b = bucket("data")
    sse = res(SSE, {"bucket": UNKNOWN}, "sse", property_dependencies={"bucket": [b.urn]})
    idx = StackIndex([b, sse])
    assert idx.settings(b, "encryption") == [sse]


def test_by_dependency_urn():
    b = bucket("data")
    sse = res(SSE, {}, "sse", dependencies=(b.urn,))
    assert StackIndex([b, sse]).settings(b, "encryption") == [sse]


def test_external_bucket_is_unresolved():
    sse = res(SSE, {"bucket": "someone-elses"}, "sse")
    idx = StackIndex([bucket("data"), sse])
    assert idx.unresolved_settings == [sse]
    assert idx.bucket_by_name("someone-elses") is None
