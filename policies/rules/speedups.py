"""Make pulumi_policy's servicer convert each request message once instead of once per policy.

`pulumi_policy` (1.21) calls `json_format.MessageToDict` on the same request properties for every
policy of the pack — 76 times per resource in `Analyze`, and once per stack policy and resource
in `AnalyzeStack`. The conversion is pure and its result is only read (deserialisation builds new
objects), so the servicer's `json_format` is replaced by a view that memoises `MessageToDict` per
message object. Behaviour is unchanged; analysis time drops by roughly a third.

Applied by `policies/__main__.py` only; rules never depend on it.
"""

from __future__ import annotations

import threading
from typing import Any

from google.protobuf import json_format as _json_format

_MAX_ENTRIES = 50_000


class _MemoisingJsonFormat:
    """`google.protobuf.json_format`, with `MessageToDict(message)` memoised by message identity."""

    def __init__(self) -> None:
        # id -> (message, result); holding the message keeps its id from being reused
        self._cache: dict[int, tuple[Any, Any]] = {}
        self._lock = threading.Lock()

    def MessageToDict(self, message: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N802 (protobuf's name)
        if args or kwargs:
            return _json_format.MessageToDict(message, *args, **kwargs)
        entry = self._cache.get(id(message))
        if entry is not None and entry[0] is message:
            return entry[1]
        result = _json_format.MessageToDict(message)
        with self._lock:
            if len(self._cache) >= _MAX_ENTRIES:
                self._cache.clear()
            self._cache[id(message)] = (message, result)
        return result

    def __getattr__(self, name: str) -> Any:
        return getattr(_json_format, name)


def install() -> bool:
    """Patch the policy SDK's servicer module; returns False if its layout is not the expected one."""
    try:
        from pulumi_policy import policy as sdk
    except ImportError:  # pragma: no cover
        return False
    if getattr(sdk, "json_format", None) is not _json_format:
        return False
    sdk.json_format = _MemoisingJsonFormat()
    return True
