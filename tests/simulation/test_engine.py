"""The recording engine: what the analyzer receives, in the engine's shapes."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from regulated_inference.simulation.engine import run_program


class _Parent(pulumi.ComponentResource):
    def __init__(self, name: str, opts=None):
        super().__init__("regulated-inference:index:Parent", name, None, opts)
        inner = _Inner(f"{name}-inner", pulumi.ResourceOptions(parent=self))
        aws.sns.Topic(f"{name}-topic", opts=pulumi.ResourceOptions(parent=inner))
        self.register_outputs({})


class _Inner(pulumi.ComponentResource):
    def __init__(self, name: str, opts=None):
        super().__init__("regulated-inference:index:Inner", name, None, opts)


def _program():
    _Parent("p")
    aws.sns.Topic("top")


def test_urns_carry_the_full_parent_type_chain_like_the_engine():
    rec = run_program(_program, project="proj", stack="s", config={"aws:region": "eu-west-2"})
    urns = {r.name: r.urn for r in rec.resources}
    assert urns["top"] == "urn:pulumi:s::proj::aws:sns/topic:Topic::top"
    assert urns["p-topic"] == (
        "urn:pulumi:s::proj::regulated-inference:index:Parent$regulated-inference:index:Inner$aws:sns/topic:Topic::p-topic"
    )
    topic = rec.one("aws:sns/topic:Topic", "p-topic")
    assert topic.parent == urns["p-inner"]
    assert topic.provider.startswith("urn:pulumi:s::proj::pulumi:providers:aws::default_")


def test_on_resource_sees_each_custom_resource_once_as_registered():
    seen = []
    rec = run_program(
        _program,
        project="proj",
        stack="s",
        config={"aws:region": "eu-west-2"},
        on_resource=seen.append,
    )
    assert [r.urn for r in seen] == [r.urn for r in rec.resources if r.custom]
    assert all(
        r.outputs.get("arn", "").startswith("arn:aws:sns:eu-west-2:")
        for r in seen
        if r.type == "aws:sns/topic:Topic"
    )
