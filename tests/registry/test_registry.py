"""The registry project (`registry/`): its own deployment unit, run under the offline engine.

(a) The main stack declares no model package group, and every group its Models reference
is one the registry program creates for the same stack, under the same name.
The registry program also imports from a venv built from its requirements alone.
"""

from __future__ import annotations

import os
import re
import runpy
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from regulated_inference.simulation.engine import (
    REPO_ROOT,
    Recording,
    load_stack_config,
    run_program,
)

REGISTRY = REPO_ROOT / "registry"
GROUP = "aws:sagemaker/modelPackageGroup:ModelPackageGroup"
MODEL = "aws:sagemaker/model:Model"
PACKAGE = re.compile(r":model-package/(?P<group>[^/]+)/\d+$")


def run_registry(stack: str) -> Recording:
    """The registry program for `stack`, as `cd registry && pulumi preview -s <stack>` runs it."""

    def program() -> None:
        sys.modules.pop("__pulumi_main__", None)
        runpy.run_path(str(REGISTRY / "__main__.py"), run_name="__pulumi_main__")

    return run_program(program, project="regulated-inference-registry", stack=stack, config={})


@pytest.fixture(scope="module", params=["dev", "prod"])
def both(request) -> tuple[str, Recording]:
    return request.param, run_registry(request.param)


def referenced_groups(rec: Recording) -> set[str]:
    out = set()
    for m in rec.of_type(MODEL):
        pkg = (m.inputs.get("primaryContainer") or {}).get("modelPackageName")
        if pkg:
            out.add(PACKAGE.search(pkg)["group"])
    return out


def test_registry_creates_one_protected_tagged_group_per_sagemaker_model(both):
    stack, rec = both
    groups = rec.of_type(GROUP)
    assert groups, "the registry of a stack with SageMaker models creates their groups"
    for g in groups:
        assert g.inputs["modelPackageGroupName"].endswith(f"-{stack}")
        assert {"owner", "environment", "data-classification", "cost-center"} <= set(
            g.inputs["tags"]
        )
        assert g.inputs["tags"]["environment"] == stack
    [provider] = rec.of_type("pulumi:providers:aws")
    main_region = load_stack_config(stack)["aws:region"]
    assert provider.inputs["region"] == main_region
    assert set(rec.stack_outputs["groups"]) == {g.inputs["tags"]["model"] for g in groups}


def test_main_stack_references_exactly_the_groups_the_registry_creates(prod, dev):
    for stack, main in (("prod", prod), ("dev", dev)):
        assert main.of_type(GROUP) == [], f"{stack}: the main stack never creates a group"
        created = {g.inputs["modelPackageGroupName"] for g in run_registry(stack).of_type(GROUP)}
        referenced = referenced_groups(main)
        assert referenced, f"{stack}: models deploy registry packages"
        assert referenced <= created, (stack, referenced - created)


def test_group_names_are_unique_per_stack():
    dev = {g.inputs["modelPackageGroupName"] for g in run_registry("dev").of_type(GROUP)}
    prod = {g.inputs["modelPackageGroupName"] for g in run_registry("prod").of_type(GROUP)}
    assert dev and prod and not dev & prod


def test_registry_stack_without_a_main_stack_file_fails_in_one_line():
    with pytest.raises(Exception) as info:
        run_registry("staging")
    message = str(info.value)
    assert "Pulumi.staging.yaml of the main project does not exist" in message
    assert "\n" not in message
    assert [r for r in info.value.partial_recording.resources if r.type == GROUP] == []


def test_registry_imports_from_a_venv_built_from_its_requirements_alone(tmp_path: Path):
    # `pulumi install` builds registry/venv from registry/requirements.txt (the root pins);
    # nothing installs this repository. (The program itself runs under the offline engine in
    # the tests above.) Simulate that venv: the pinned packages' site-packages
    # only, no .pth processing (-S: the editable install of the repo is invisible), isolated
    # mode (-I: no PYTHONPATH, no cwd on sys.path), cwd = registry/ as the language host does.
    assert (REGISTRY / "requirements.txt").read_text().splitlines()[-1] == "-r ../requirements.txt"
    purelib = sysconfig.get_paths()["purelib"]
    script = f"""
import importlib.util, runpy, sys
sys.path.append({purelib!r})
assert importlib.util.find_spec("regulated_inference") is None, "the repo leaked onto sys.path"
import pulumi, pulumi_aws  # the pinned packages
program = runpy.run_path("__main__.py", run_name="registry")  # imports, does not deploy
groups = program["groups_for"]("prod", program["main_stack_config"]("prod"))
assert groups and all(g.endswith("-prod") for g in groups.values()), groups
print(sys.modules["regulated_inference.lib.sagemaker"].__file__)
"""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-I", "-S", "-c", script],
        cwd=REGISTRY,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().endswith("regulated_inference/lib/sagemaker.py")
