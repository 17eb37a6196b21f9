"""Shared fixtures: programs run under the simulated AWS, recorded as the engine sees them."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import pytest

from regulated_inference.simulation.engine import (
    Recording,
    load_stack_config,
    run_program,
    run_stack_program,
)

PROJECT = "regulated-inference"


def run_component(
    fn: Callable[[], Any], *, stack: str = "test", region: str = "eu-west-2"
) -> Recording:
    """Run a small program (usually one component) and return what it registered."""
    return run_program(fn, project=PROJECT, stack=stack, config={"aws:region": region})


def stack_config(stack: str) -> dict[str, Any]:
    """A stack's config as decoded values, keyed like the CLI (e.g. 'regulated-inference:network');
    a fresh copy on every call, read from its stack file."""
    out: dict[str, Any] = {}
    for key, value in load_stack_config(stack).items():
        try:
            out[key] = json.loads(value)
        except ValueError:
            out[key] = value
    return out


def without_namespace(config: dict[str, Any]) -> dict[str, Any]:
    """Config keyed as the program's `raw_config` keys it: this project's keys without their
    namespace ('network'), any other ('aws:region') as it is. What `config.parse` takes."""
    return {k.removeprefix(f"{PROJECT}:"): v for k, v in config.items()}


def encode(config: dict[str, Any]) -> dict[str, str]:
    """Decoded config back into what the CLI passes (structured values as JSON strings)."""
    return {k: v if isinstance(v, str) else json.dumps(v) for k, v in config.items()}


def run_stack_with(stack: str, mutate: Callable[[dict[str, Any]], None]) -> Recording:
    """Run the real stack program with a modified copy of its config."""
    cfg = copy.deepcopy(stack_config(stack))
    mutate(cfg)
    return run_stack_program(stack, config=encode(cfg))


@pytest.fixture(scope="session")
def prod() -> Recording:
    return run_stack_program("prod")


@pytest.fixture(scope="session")
def dev() -> Recording:
    return run_stack_program("dev")


def policy(resource_inputs: dict, key: str = "policy") -> dict:
    """Parse a JSON policy document input."""
    value = resource_inputs[key]
    return json.loads(value) if isinstance(value, str) else value
