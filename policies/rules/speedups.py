"""Make pulumi_policy's servicer convert each resource once per request instead of once per policy.

`pulumi_policy` (1.21) converts the same request properties for every policy of the pack:
`json_format.MessageToDict`, then `deserialize_properties`, then `unknown_checking_proxy` —
76 times per resource in `Analyze`, and once per stack policy and resource in `AnalyzeStack`.
The three steps are pure and their results are only read (rules never write to resource
properties), so within one RPC each step is memoised by the identity of its input.

Caches are per thread and live for one `Analyze`/`AnalyzeStack` call (the gRPC server runs
each call on one worker thread), so memory stays bounded by one request and concurrent calls
never share entries. Outside those calls (e.g. `Configure`, `Remediate`) nothing is memoised.

Applied by `policies/__main__.py` only; rules never depend on it. Behaviour is unchanged
(the engine-protocol tests run through it); analysis time drops several-fold on large stacks.
"""

from __future__ import annotations

import functools
import gc
import threading
from collections.abc import Callable
from typing import Any

from google.protobuf import json_format as _json_format

_local = threading.local()


def _memo(kind: str, key_obj: Any, compute: Callable[[], Any]) -> Any:
    caches: dict[str, dict[int, tuple[Any, Any]]] | None = getattr(_local, "caches", None)
    if caches is None:
        return compute()
    cache = caches.setdefault(kind, {})
    entry = cache.get(id(key_obj))
    if entry is not None and entry[0] is key_obj:
        return entry[1]
    result = compute()
    cache[id(key_obj)] = (key_obj, result)  # holding key_obj keeps its id from being reused
    return result


def request_memo(kind: str, key: Any, compute: Callable[[], Any]) -> Any:
    """`compute()` once per hashable `key` within the current `Analyze`/`AnalyzeStack` call; outside
    a patched call (or when the patch is not installed) simply `compute()`."""
    caches: dict[str, dict[Any, Any]] | None = getattr(_local, "caches", None)
    if caches is None:
        return compute()
    cache = caches.setdefault(kind, {})
    if key not in cache:
        cache[key] = compute()
    return cache[key]


class _MemoisingJsonFormat:
    """`google.protobuf.json_format`, with `MessageToDict(message)` memoised within an RPC."""

    def MessageToDict(self, message: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N802 (protobuf's name)
        if args or kwargs:
            return _json_format.MessageToDict(message, *args, **kwargs)
        return _memo("dict", message, lambda: _json_format.MessageToDict(message))

    def __getattr__(self, name: str) -> Any:
        return getattr(_json_format, name)


def _per_request(method: Callable) -> Callable:
    @functools.wraps(method)
    def wrapped(self: Any, request: Any, context: Any) -> Any:
        _local.caches = {}
        try:
            return method(self, request, context)
        finally:
            _local.caches = None

    return wrapped


def install() -> bool:
    """Patch the policy SDK's servicer module; returns False (and patches nothing) if its layout differs."""
    try:
        from pulumi_policy import policy as sdk
    except ImportError:  # pragma: no cover
        return False
    servicer = getattr(sdk, "_PolicyAnalyzerServicer", None)
    deserialize = getattr(sdk, "deserialize_properties", None)
    proxy = getattr(sdk, "unknown_checking_proxy", None)
    if (
        getattr(sdk, "json_format", None) is not _json_format
        or servicer is None
        or deserialize is None
        or proxy is None
    ):
        return False

    def deserialize_properties(props: Any, proxy_secrets: bool = False) -> Any:
        if proxy_secrets:  # Remediate's secret-preserving variant: leave it alone
            return deserialize(props, proxy_secrets)
        return _memo("deserialized", props, lambda: deserialize(props))

    def unknown_checking_proxy(props: Any) -> Any:
        return _memo("proxy", props, lambda: proxy(props))

    sdk.json_format = _MemoisingJsonFormat()
    sdk.deserialize_properties = deserialize_properties
    sdk.unknown_checking_proxy = unknown_checking_proxy
    servicer.Analyze = _per_request(servicer.Analyze)
    servicer.AnalyzeStack = _per_request(servicer.AnalyzeStack)
    return True


def tune_gc() -> None:
    """Fewer full collections while a request allocates its many short-lived dicts.

    The pack is a short-lived server whose requests allocate hundreds of thousands of small
    objects; the default thresholds make collections scan the whole heap again and again.
    """
    gc.freeze()  # everything imported so far is permanent
    gc.set_threshold(50_000, 20, 100)
