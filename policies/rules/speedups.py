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

With the SDK version it was written against (`SERVICER_VERSION`), `install` also replaces the
servicer's `Analyze` and `AnalyzeStack` by the same loops with their per-request invariants
hoisted out of the per-policy loop (`_analyze`, `_analyze_stack`; the originals are in
pulumi_policy/policy.py, `_PolicyAnalyzerServicer`):

- `Analyze` builds the resource's options and provider once per request, not once per policy,
  and, given the pack's `applies_to` table (policy name -> resource-type predicate, the same
  `Rule.applies_to` the policy's validate calls first and returns on), skips a policy that does
  not judge the resource's type before building its arguments: such a policy returns without
  reporting, raising or reading anything, so the response is the same;
- `AnalyzeStack` builds the stack's `PolicyResource` graph (parents, dependencies, property
  dependencies) once per request instead of once per stack policy; every policy gets its own
  list of the same (read-only) resources.

Everything else (order of policies, enforcement levels, diagnostics and their messages,
not-applicable entries, awaitable validations) is the SDK's code path, step for step.
"""

from __future__ import annotations

import asyncio
import functools
import gc
import math
import threading
import weakref
from collections.abc import Callable, Mapping
from inspect import isawaitable
from typing import Any

from google.protobuf import json_format as _json_format
from google.protobuf import struct_pb2

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


_STRUCT = struct_pb2.Struct.DESCRIPTOR.full_name


def _value_to_json(value: Any) -> Any:
    """`json_format`'s `_ValueMessageToJsonObject` for a `google.protobuf.Value`, step for step
    (protobuf 5.29, google/protobuf/json_format.py): null or unset -> None, a list, a struct,
    a finite double as is (infinity and NaN raise its ValueError), a string, a bool."""
    which = value.WhichOneof("kind")
    if which is None or which == "null_value":
        return None
    if which == "struct_value":
        return _struct_to_json(value.struct_value)
    if which == "list_value":
        return [_value_to_json(v) for v in value.list_value.values]
    if which == "number_value":
        number = value.number_value
        if math.isinf(number):
            raise ValueError(
                "Fail to serialize Infinity for Value.number_value, which would parse as string_value"
            )
        if math.isnan(number):
            raise ValueError(
                "Fail to serialize NaN for Value.number_value, which would parse as string_value"
            )
        return number
    if which == "string_value":
        return str(value.string_value)
    return bool(value.bool_value)


def _struct_to_json(struct: Any) -> dict[str, Any]:
    """`json_format.MessageToDict` of a `google.protobuf.Struct` (its `_StructMessageToJsonObject`)."""
    fields = struct.fields
    return {key: _value_to_json(fields[key]) for key in fields}


class _MemoisingJsonFormat:
    """`google.protobuf.json_format`, with `MessageToDict(message)` memoised within an RPC, and
    for the `Struct`s the engine sends (resource properties, policy config) converted directly
    rather than through json_format's descriptor-driven printer (same result, a fraction of the
    time)."""

    def MessageToDict(self, message: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N802 (protobuf's name)
        if args or kwargs:
            return _json_format.MessageToDict(message, *args, **kwargs)
        if message.DESCRIPTOR.full_name == _STRUCT:
            return _memo("dict", message, lambda: _struct_to_json(message))
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


#: The pulumi_policy release whose `_PolicyAnalyzerServicer.Analyze`/`AnalyzeStack` `_analyze` and
#: `_analyze_stack` follow step for step (policies/requirements.txt pins it). Another release keeps
#: the SDK's own loops (with the memoised conversions above): correct, only slower.
SERVICER_VERSION = "1.21.0"


def install(applies_to: Mapping[str, Callable[[str], bool]] | None = None) -> bool:
    """Patch the policy SDK's servicer module; returns False (and patches nothing) if its layout differs.

    `applies_to` maps a resource policy's name to the predicate its validate function checks first
    (returning at once for a resource type it does not judge); `Analyze` then skips that policy
    for other types without building its arguments.
    """
    try:
        from pulumi_policy import policy as sdk
        from pulumi_policy.version import VERSION
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
    analyze, analyze_stack = servicer.Analyze, servicer.AnalyzeStack
    if VERSION == SERVICER_VERSION:
        analyze = _analyze(sdk, dict(applies_to or {}))
        analyze_stack = _analyze_stack(sdk)
    servicer.Analyze = _per_request(analyze)
    servicer.AnalyzeStack = _per_request(analyze_stack)
    return True


def _run_validation(
    sdk: Any, servicer: Any, response: Any, policy: Any, args: Any, report: Any
) -> None:
    """The SDK's `try: policy.validate(...)` block of Analyze/AnalyzeStack (identical in both)."""
    proto = sdk.proto
    try:
        result = policy.validate(args, report)
        if isawaitable(result):
            loop = asyncio.new_event_loop()
            task = asyncio.Task(result, loop=loop)
            loop.run_until_complete(task)
            loop.close()
    except sdk.UnknownValueError as e:
        name = servicer._PolicyAnalyzerServicer__policy_pack_name
        version = servicer._PolicyAnalyzerServicer__policy_pack_version
        response.diagnostics.append(
            proto.AnalyzeDiagnostic(
                policyName=policy.name,
                policyPackName=name,
                policyPackVersion=version,
                message=(
                    f"can't run policy '{policy.name}' from policy pack "
                    f"'{name}@v{version}' during preview: {e.message}"
                ),
                urn="",
                description=policy.description,
                enforcementLevel=servicer._map_enforcement_level(sdk.EnforcementLevel.ADVISORY),
            )
        )
    except sdk._NotApplicableError as e:
        response.not_applicable.append(
            proto.PolicyNotApplicable(policy_name=policy.name, reason=e.reason or "")
        )


def _analyze(sdk: Any, applies_to: dict[str, Callable[[str], bool]]) -> Callable:
    """`_PolicyAnalyzerServicer.Analyze` with the request's conversions made once (see module doc)."""
    levels, proto = sdk.EnforcementLevel, sdk.proto
    plans_by_servicer: weakref.WeakKeyDictionary[Any, dict[str, list[tuple[Any, bool]]]] = (
        weakref.WeakKeyDictionary()
    )

    def plan(servicer: Any, type_token: str) -> list[tuple[Any, bool]]:
        """The servicer's resource policies in order, each with False if the dispatch skips it for
        this type (a policy with validation whose rule does not judge the type), else True.

        Pure in its inputs (the servicer's fixed policy list, `has_validation`, the predicates), so
        kept per servicer and type; stack policies are left out (the SDK's loop only `continue`s
        past them)."""
        plans = plans_by_servicer.get(servicer)
        if plans is None:
            plans = plans_by_servicer.setdefault(servicer, {})
        found = plans.get(type_token)
        if found is None:
            found = []
            for policy in servicer._PolicyAnalyzerServicer__policies:
                if not isinstance(policy, sdk.ResourceValidationPolicy):
                    continue
                judges = applies_to.get(policy.name)
                skipped = policy.has_validation() and judges is not None and not judges(type_token)
                found.append((policy, not skipped))
            plans[type_token] = found
        return found

    def Analyze(self: Any, request: Any, _context: Any) -> Any:  # noqa: N802 (the SDK's name)
        self._configure_runtime_settings()
        response = proto.AnalyzeResponse()
        shared: tuple[Any, Any, Any] | None = None  # props, options, provider: built on first use
        for policy, judged in plan(self, request.type):
            if not judged and shared is not None:
                continue  # below it would only `continue` (after building `shared`, done already)
            enforcement_level = self._get_enforcement_level(policy)
            if enforcement_level == levels.DISABLED:
                continue
            if not policy.has_validation():
                response.not_applicable.append(
                    proto.PolicyNotApplicable(
                        policy_name=policy.name, reason="Policy does not implement validate"
                    )
                )
                continue
            if enforcement_level == levels.REMEDIATE:
                enforcement_level = levels.MANDATORY
            if shared is None:  # the SDK converts here, for the first policy that gets this far
                props = sdk.unknown_checking_proxy(
                    sdk.deserialize_properties(sdk.json_format.MessageToDict(request.properties))
                )
                shared = (
                    props,
                    self._get_resource_options(request),
                    self._get_provider_resource(request),
                )
            if not judged:
                continue  # its validate would return at once: nothing reported, nothing raised
            report = self._create_report_violation(
                response, policy.name, policy.description, enforcement_level, policy.severity
            )
            props, opts, provider = shared
            args = sdk.ResourceValidationArgs(
                request.type,
                props,
                request.urn,
                request.name,
                opts,
                provider,
                self._get_policy_config(policy.name),
                self._PolicyAnalyzerServicer__stack_tags,
            )
            _run_validation(sdk, self, response, policy, args, report)
        return response

    return Analyze


def _stack_resources(sdk: Any, servicer: Any, request: Any) -> list[Any]:
    """The SDK's per-policy `intermediates` loop of AnalyzeStack: the stack's resources, linked."""
    intermediates = []
    for r in request.resources:
        props = sdk.unknown_checking_proxy(
            sdk.deserialize_properties(sdk.json_format.MessageToDict(r.properties))
        )
        resource = sdk.PolicyResource(
            r.type,
            props,
            r.urn,
            r.name,
            servicer._get_resource_options(r),
            servicer._get_provider_resource(r),
            None,
            [],
            {},
        )
        pdeps = {k: list(v.urns) for k, v in r.propertyDependencies.items()}
        intermediates.append((resource, r.parent, list(r.dependencies), pdeps))
    by_urn = {resource.urn: resource for resource, *_ in intermediates}
    for resource, parent, dependencies, pdeps in intermediates:
        if parent is not None and parent in by_urn:
            resource.parent = by_urn[parent]
        resource.dependencies.extend(by_urn[d] for d in dependencies if d in by_urn)
        for k, urns in pdeps.items():
            resource.property_dependencies[k] = [by_urn[d] for d in urns if d in by_urn]
    return [resource for resource, *_ in intermediates]


def _analyze_stack(sdk: Any) -> Callable:
    """`_PolicyAnalyzerServicer.AnalyzeStack` with the resource graph built once (see module doc)."""
    levels, proto = sdk.EnforcementLevel, sdk.proto

    def AnalyzeStack(self: Any, request: Any, _context: Any) -> Any:  # noqa: N802 (the SDK's name)
        self._configure_runtime_settings()
        response = proto.AnalyzeResponse()
        resources: list[Any] | None = None
        for policy in self._PolicyAnalyzerServicer__policies:
            enforcement_level = self._get_enforcement_level(policy)
            if enforcement_level == levels.DISABLED or not isinstance(
                policy, sdk.StackValidationPolicy
            ):
                continue
            if enforcement_level == levels.REMEDIATE:
                enforcement_level = levels.MANDATORY
            report = self._create_report_violation(
                response, policy.name, policy.description, enforcement_level, policy.severity
            )
            if resources is None:
                resources = _stack_resources(sdk, self, request)
            args = sdk.StackValidationArgs(
                list(resources),
                self._get_policy_config(policy.name),
                self._PolicyAnalyzerServicer__stack_tags,
            )
            _run_validation(sdk, self, response, policy, args, report)
        return response

    return AnalyzeStack


def tune_gc() -> None:
    """Fewer full collections while a request allocates its many short-lived dicts.

    The pack is a short-lived server whose requests allocate hundreds of thousands of small
    objects; the default thresholds make collections scan the whole heap again and again.
    """
    gc.freeze()  # everything imported so far is permanent
    gc.set_threshold(50_000, 20, 100)
