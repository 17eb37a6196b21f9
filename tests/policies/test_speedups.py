"""The pack's Analyze/AnalyzeStack with per-request work hoisted (policies/rules/speedups.py) answer
exactly what pulumi_policy's own servicer answers, on the prod stack and on a broken copy of it
that draws definite violations and cannot-verify advisories from resource and stack policies."""

from __future__ import annotations

import copy

import pytest
from google.protobuf import json_format, struct_pb2
from pulumi.runtime.proto import analyzer_pb2
from pulumi_policy import EnforcementLevel
from pulumi_policy import policy as sdk
from pulumi_policy.version import VERSION

from policies.rules import ALL_RULES, pack, speedups
from policies.rules.pack import build_policies
from regulated_inference.preview import analyzer as drv

from .conftest import PROD_CONFIG

UNKNOWN_NUMBER = "3eeb2bf0-c639-47a8-9e75-3b44932eb421"  # the engine's unknown number sentinel
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"


@pytest.fixture(scope="module")
def servicer():
    s = sdk._PolicyAnalyzerServicer(
        "regulated-inference", "0.0.1", build_policies(ALL_RULES), EnforcementLevel.MANDATORY
    )
    resolved = drv.resolve_config(
        s.GetAnalyzerInfo(None, None), drv.load_policy_config(PROD_CONFIG)
    )
    request = analyzer_pb2.ConfigureAnalyzerRequest()
    for name, (level, props) in resolved.items():
        pc = analyzer_pb2.PolicyConfig(enforcementLevel=drv._LEVEL_TO_PROTO[level])
        pc.properties.update(drv._wire(props))
        request.policyConfig[name].CopyFrom(pc)
    s.Configure(request, None)
    return s


def _broken(recording):
    """Prod without its metric alarms (stack findings), every taggable resource untagged and
    every log group's retention unknown until apply (cannot-verify advisories)."""
    broken = copy.deepcopy(recording)
    broken.resources = [r for r in broken.resources if r.type != ALARM]
    for r in broken.resources:
        for props in (r.inputs, r.outputs):
            props.pop("tags", None)
            if "retentionInDays" in props:
                props["retentionInDays"] = UNKNOWN_NUMBER
    return broken


def _requests(recording):
    by_urn = recording.by_urn()
    resources = [drv.analyze_request(r, by_urn) for r in recording.resources if r.custom]
    return resources, drv.stack_request(recording.resources, by_urn)


def _wire(response) -> bytes:
    return response.SerializeToString(deterministic=True)


@pytest.fixture(scope="module")
def broken_requests(prod):  # the session's prod recording (tests/conftest.py)
    return _requests(_broken(prod))


@pytest.mark.skipif(VERSION != speedups.SERVICER_VERSION, reason="override not installed")
def test_hoisted_servicer_answers_what_the_sdk_answers(servicer, broken_requests):
    applies = {r.name: r.applies_to for r in ALL_RULES if r.kind == "resource"}
    # as install() wires them: per-request caches on (the resource converted once for its rules)
    analyze = speedups._per_request(speedups._analyze(sdk, applies))
    resources, stack = broken_requests
    seen = {"mandatory": 0, "advisory": 0}
    for _ in range(2):  # the second pass reuses the per-type plans of the first
        for request in resources:
            expected = type(servicer).Analyze(servicer, request, None)
            assert _wire(analyze(servicer, request, None)) == _wire(expected), request.urn
            for d in expected.diagnostics:
                level = d.enforcementLevel
                seen["mandatory" if level == analyzer_pb2.MANDATORY else "advisory"] += 1
    expected = type(servicer).AnalyzeStack(servicer, stack, None)
    analyze_stack = speedups._per_request(speedups._analyze_stack(sdk))
    assert _wire(analyze_stack(servicer, stack, None)) == _wire(expected)
    # the comparison covered definite violations, cannot-verify advisories and stack findings
    assert seen["mandatory"] > 10 and seen["advisory"] > 0 and expected.diagnostics, seen


def test_dispatch_skips_only_policies_whose_rule_ignores_the_type(servicer, broken_requests):
    """A table that claims no policy applies to anything silences Analyze: proof the dispatch is
    what skips them (so the equality above is not vacuous), and that it is the only change."""
    never = {r.name: (lambda _type: False) for r in ALL_RULES if r.kind == "resource"}
    resources, _ = broken_requests
    assert not any(speedups._analyze(sdk, never)(servicer, q, None).diagnostics for q in resources)
    assert any(type(servicer).Analyze(servicer, q, None).diagnostics for q in resources)


def test_a_resource_is_converted_once_per_request_for_all_its_rules(
    servicer, broken_requests, monkeypatch
):
    """Within a patched Analyze call every rule of the resource reads one conversion (keyed by its
    URN and checked against the very proxies it was made from); outside one, each converts."""
    applies = {r.name: r.applies_to for r in ALL_RULES if r.kind == "resource"}
    calls = []
    real = pack.normalized
    monkeypatch.setattr(pack, "normalized", lambda r: calls.append(r.urn) or real(r))
    resources, _ = broken_requests

    def judging(q):
        return [r for r in ALL_RULES if r.kind == "resource" and r.applies_to(q.type)]

    request = max(resources, key=lambda q: len(judging(q)))  # a resource many rules judge
    assert len(judging(request)) > 5
    speedups._per_request(speedups._analyze(sdk, applies))(servicer, request, None)
    assert calls == [request.urn]
    calls.clear()
    speedups._analyze(sdk, applies)(servicer, request, None)  # no request caches: one per rule
    assert len(calls) == len(judging(request))


def test_struct_conversion_is_json_formats(broken_requests):
    """The pack's direct Struct -> dict gives what json_format.MessageToDict gives (nested structs,
    lists, numbers, bools, nulls, the unknown sentinels), and refuses what it refuses."""
    resources, stack = broken_requests
    structs = [q.properties for q in resources] + [r.properties for r in stack.resources]
    structs += [q.provider.properties for q in resources if q.HasField("provider")]
    for st in structs:
        assert speedups._struct_to_json(st) == json_format.MessageToDict(st)
    odd = struct_pb2.Struct()
    odd.update({"n": None, "b": False, "i": 3, "f": 2.5, "l": [1, "x", {"y": [True]}], "e": {}})
    assert speedups._struct_to_json(odd) == json_format.MessageToDict(odd)
    for bad in (float("inf"), float("nan")):
        st = struct_pb2.Struct()
        st.update({"x": bad})
        with pytest.raises(ValueError) as theirs:
            json_format.MessageToDict(st)
        with pytest.raises(ValueError) as ours:
            speedups._struct_to_json(st)
        assert str(ours.value) == str(theirs.value)
