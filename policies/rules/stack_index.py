"""One pass over a stack's resources, so stack rules stay linear in resource count.

`StackIndex` groups resources by type, by URN and by parent, and correlates
pulumi-aws v7's separate S3 settings resources (encryption, versioning,
public access block, logging, policy, ownership, lifecycle, object lock,
replication) with their bucket — by the bucket name/id they name in their
`bucket` property, and by the URNs they depend on.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from .base import Res, get, is_unknown

BUCKET_TYPES = ("aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2")

SSE = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
SSE_V2 = (
    "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2"
)
VERSIONING = "aws:s3/bucketVersioning:BucketVersioning"
VERSIONING_V2 = "aws:s3/bucketVersioningV2:BucketVersioningV2"
PAB = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
#: the four flags of a public access block; all four True blocks all public access
PAB_FLAGS = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
LOGGING = "aws:s3/bucketLogging:BucketLogging"
LOGGING_V2 = "aws:s3/bucketLoggingV2:BucketLoggingV2"
POLICY = "aws:s3/bucketPolicy:BucketPolicy"
OWNERSHIP = "aws:s3/bucketOwnershipControls:BucketOwnershipControls"
LIFECYCLE = "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"
LIFECYCLE_V2 = "aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2"
OBJECT_LOCK = "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration"
OBJECT_LOCK_V2 = "aws:s3/bucketObjectLockConfigurationV2:BucketObjectLockConfigurationV2"
REPLICATION = "aws:s3/bucketReplicationConfig:BucketReplicationConfig"
ACL = "aws:s3/bucketAcl:BucketAcl"
ACL_V2 = "aws:s3/bucketAclV2:BucketAclV2"

#: setting kind -> the type tokens that carry it (v7 names and their deprecated aliases)
BUCKET_SETTINGS: dict[str, tuple[str, ...]] = {
    "encryption": (SSE, SSE_V2),
    "versioning": (VERSIONING, VERSIONING_V2),
    "public_access_block": (PAB,),
    "logging": (LOGGING, LOGGING_V2),
    "policy": (POLICY,),
    "ownership": (OWNERSHIP,),
    "lifecycle": (LIFECYCLE, LIFECYCLE_V2),
    "object_lock": (OBJECT_LOCK, OBJECT_LOCK_V2),
    "replication": (REPLICATION,),
    "acl": (ACL, ACL_V2),
}
_SETTING_OF_TYPE = {t: kind for kind, types in BUCKET_SETTINGS.items() for t in types}


def s3_uri_bucket(uri: Any) -> str | None:
    """The bucket an `s3://bucket/key` URI names; None for anything else."""
    if isinstance(uri, str) and uri.startswith("s3://"):
        return uri[5:].split("/", 1)[0]
    return None


class StackIndex:
    """Lookups over one stack, built in one linear pass."""

    def __init__(self, resources: Iterable[Res]):
        self.resources: list[Res] = list(resources)
        self.by_urn: dict[str, Res] = {}
        self._by_type: dict[str, list[Res]] = defaultdict(list)
        self.children: dict[str, list[Res]] = defaultdict(list)
        for r in self.resources:
            self.by_urn[r.urn] = r
            self._by_type[r.type].append(r)
            if r.parent:
                self.children[r.parent].append(r)
        self._value_cache: dict[tuple[str, ...], dict[str, str]] = {}
        self._bucket_keys: dict[str, str] = {}
        for b in self.buckets:
            for key in ("bucket", "id", "arn"):
                value = get(b.props, key)
                if isinstance(value, str) and value:
                    self._bucket_keys[value] = b.urn
        self._settings: dict[str, dict[str, list[Res]]] = defaultdict(lambda: defaultdict(list))
        #: settings resources whose bucket cannot be resolved (e.g. an unknown or external bucket)
        self.unresolved_settings: list[Res] = []
        for r in self.resources:
            kind = _SETTING_OF_TYPE.get(r.type)
            if kind is None:
                continue
            bucket_urn = self.bucket_of(r)
            if bucket_urn is None:
                self.unresolved_settings.append(r)
            else:
                self._settings[bucket_urn][kind].append(r)

    def of_type(self, *types: str) -> list[Res]:
        out: list[Res] = []
        for t in types:
            out.extend(self._by_type.get(t, ()))
        return out

    def of_prefix(self, prefix: str) -> list[Res]:
        out: list[Res] = []
        for t, rs in self._by_type.items():  # linear in the number of distinct types
            if t.startswith(prefix):
                out.extend(rs)
        return out

    @property
    def buckets(self) -> list[Res]:
        return self.of_type(*BUCKET_TYPES)

    def _lookup(self, ref: str) -> str | None:
        """Bucket URN for a name, id or ARN (an object ARN `arn:aws:s3:::name/prefix` names its bucket)."""
        found = self._bucket_keys.get(ref)
        if found is None and ":::" in ref:
            found = self._bucket_keys.get(ref.split(":::", 1)[1].split("/", 1)[0])
        return found

    def bucket_of(self, r: Res) -> str | None:
        """The URN of the bucket a settings resource configures, if it is in this stack."""
        ref = get(r.props, "bucket")
        if isinstance(ref, str) and not is_unknown(ref):
            found = self._lookup(ref)
            if found:
                return found
        for urn in r.property_dependencies.get("bucket", ()):
            if urn in self.by_urn and self.by_urn[urn].type in BUCKET_TYPES:
                return urn
        for urn in r.dependencies:
            if urn in self.by_urn and self.by_urn[urn].type in BUCKET_TYPES:
                return urn
        return None

    def bucket_by_name(self, name: str) -> Res | None:
        urn = self._lookup(name)
        return self.by_urn.get(urn) if urn else None

    def ref(self, r: Res, prop: str, types: tuple[str, ...]) -> Res | None:
        """The resource of `types` that `r.prop` refers to: by value (name, id or ARN), or — when
        the value is unknown during preview — by the property's dependency URNs (if exactly one)."""
        value = get(r.props, prop)
        if isinstance(value, str):
            urn = self._values(types).get(value)
            if urn is None and ":::" in value:  # S3 object ARN or URI-like reference to a bucket
                urn = self._values(types).get(value.split(":::", 1)[1].split("/", 1)[0])
            if urn is not None:
                return self.by_urn[urn]
        deps = [
            u
            for u in r.property_dependencies.get(prop.split(".", 1)[0], ())
            if u in self.by_urn and self.by_urn[u].type in types
        ]
        return self.by_urn[deps[0]] if len(set(deps)) == 1 else None

    def _values(self, types: tuple[str, ...]) -> dict[str, str]:
        """name/id/ARN -> URN for resources of `types` (built once per set of types)."""
        cached = self._value_cache.get(types)
        if cached is None:
            cached = {}
            for t in types:
                for r in self._by_type.get(t, ()):
                    for key in ("arn", "id", "name", "bucket"):
                        v = get(r.props, key)
                        if isinstance(v, str) and v:
                            cached.setdefault(v, r.urn)
            self._value_cache[types] = cached
        return cached

    def settings(self, bucket: Res, kind: str) -> list[Res]:
        return self._settings.get(bucket.urn, {}).get(kind, [])
