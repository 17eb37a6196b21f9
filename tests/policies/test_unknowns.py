"""Preview unknowns: no rule may crash on one, and a rule that needs one says "cannot verify"."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from policies.rules import ALL_RULES
from policies.rules.base import UNKNOWN, Res
from policies.rules.stack_index import StackIndex
from regulated_inference.simulation.engine import run_stack_program

RESOURCE_RULES = [r for r in ALL_RULES if r.kind == "resource"]
STACK_RULES = [r for r in ALL_RULES if r.kind == "stack"]


def _leaves(obj: Any, prefix: tuple = ()):
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from _leaves(v, (*prefix, k))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from _leaves(v, (*prefix, i))
    if prefix:
        yield prefix


def _replaced(obj: Any, path: tuple) -> Any:
    out = copy.deepcopy(obj)
    cur = out
    for p in path[:-1]:
        cur = cur[p]
    cur[path[-1]] = UNKNOWN
    return out


def _res(r, props) -> Res:
    return Res(
        r.type,
        r.name,
        r.urn,
        props,
        parent=r.parent,
        dependencies=tuple(r.dependencies),
        property_dependencies=r.property_dependencies,
    )


@pytest.fixture(scope="module")
def prod():
    return run_stack_program("prod")


def test_every_input_unknown_in_turn_never_crashes_a_resource_rule(prod):
    checked = 0
    seen_types: set[str] = set()
    for r in prod.resources:
        if not r.custom or r.type in seen_types:
            continue
        seen_types.add(r.type)
        rules = [rule for rule in RESOURCE_RULES if rule.applies_to(r.type)]
        for path in _leaves(r.inputs):
            props = _replaced(r.inputs, path)
            for rule in rules:
                rule.evaluate(_res(r, props), None)  # must not raise
                checked += 1
    assert checked > 1000


def test_every_output_unknown_in_turn_never_crashes_a_stack_rule(prod):
    base = [_res(r, {**r.outputs, **({"id": r.id} if r.id else {})}) for r in prod.resources]
    seen_types: set[str] = set()
    for i, r in enumerate(base):
        if r.type in seen_types:
            continue
        seen_types.add(r.type)
        for key in r.props:
            resources = list(base)
            resources[i] = _res(prod.resources[i], _replaced(r.props, (key,)))
            index = StackIndex(resources)
            for rule in STACK_RULES:
                rule.evaluate(index, None)  # must not raise


@pytest.mark.parametrize(
    "type_,props,rule_name",
    [
        (
            "aws:cloudwatch/logGroup:LogGroup",
            {"retentionInDays": UNKNOWN},
            "cloudwatch-log-retention",
        ),
        (
            "aws:sagemaker/model:Model",
            {"enableNetworkIsolation": UNKNOWN},
            "sagemaker-model-network-isolation",
        ),
        ("aws:kms/key:Key", {"enableKeyRotation": UNKNOWN}, "kms-key-rotation"),
        ("aws:iam/rolePolicy:RolePolicy", {"policy": UNKNOWN}, "iam-no-admin-star"),
        (
            "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
            {
                "blockPublicAcls": UNKNOWN,
                "blockPublicPolicy": True,
                "ignorePublicAcls": True,
                "restrictPublicBuckets": True,
            },
            "s3-public-access-block-complete",
        ),
        ("pulumi:providers:aws", {"region": UNKNOWN}, "aws-provider-region-allowed"),
    ],
)
def test_security_critical_unknown_is_reported(type_, props, rule_name):
    rule = next(r for r in ALL_RULES if r.name == rule_name)
    findings = rule.evaluate(Res(type_, "r", "urn:x", props), None)
    assert findings and all(f.unknown for f in findings)
    assert findings[0].message.startswith("cannot verify until apply:")
