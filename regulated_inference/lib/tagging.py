"""Required tags (control G1), applied to every taggable AWS resource of a stack."""

from __future__ import annotations

import functools
import importlib
import inspect
from collections.abc import Mapping

import pulumi

#: The tag keys every taggable AWS resource must carry.
REQUIRED_TAG_KEYS: tuple[str, ...] = ("owner", "environment", "data-classification", "cost-center")


def _module_for(token: str) -> str:
    # "aws:s3/bucketPolicy:BucketPolicy" -> "pulumi_aws.s3"
    pkg, mod, _ = token.split(":", 2)
    mod = mod.split("/", 1)[0]
    base = "pulumi_" + pkg.replace("-", "_")
    return base if mod in ("index", "") else f"{base}.{mod}"


@functools.cache
def is_taggable(token: str) -> bool:
    """Whether a pulumi-aws resource type takes a `tags` argument (read from the installed SDK)."""
    if not token.startswith("aws:"):
        return False
    try:
        module = importlib.import_module(_module_for(token))
        cls = getattr(module, token.rsplit(":", 1)[1])
        return "tags" in inspect.signature(cls._internal_init).parameters
    except (ImportError, AttributeError, ValueError):
        return False


def tags_transform(tags: Mapping[str, str]) -> pulumi.ResourceTransform:
    """A resource transform that merges `tags` under each taggable AWS resource's own tags.

    A resource's own tag values win, so a component may set e.g. `Name` or a
    model version tag; the required keys can only be added, never removed.
    """
    required = dict(tags)

    def transform(args: pulumi.ResourceTransformArgs) -> pulumi.ResourceTransformResult | None:
        if not args.custom or not is_taggable(args.type_):
            return None
        props = dict(args.props)
        props["tags"] = {**required, **(props.get("tags") or {})}
        return pulumi.ResourceTransformResult(props=props, opts=args.opts)

    return transform


def apply_required_tags(tags: Mapping[str, str]) -> None:
    """Register the tags transform for every resource declared after this call in the stack."""
    missing = [k for k in REQUIRED_TAG_KEYS if not tags.get(k)]
    if missing:
        raise ValueError(f"required tags without a value: {', '.join(missing)}")
    pulumi.runtime.register_resource_transform(tags_transform(tags))
