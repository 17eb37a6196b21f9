"""The Pulumi project as the CLI sees it: Pulumi.yaml schema, and the program run from stacks/."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import jsonschema
import yaml

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = ROOT / "tests" / "vendor" / "pulumi-project.schema.json"


def test_pulumi_yaml_is_valid_against_pulumis_schema():
    project = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())
    schema = json.loads(SCHEMA.read_text())
    jsonschema.validate(project, schema)
    assert project["name"] == "regulated-inference"
    assert project["runtime"]["name"] == "python"
    assert project["runtime"]["options"]["virtualenv"] == ".venv"
    assert project["main"] == "stacks/"


def test_stack_files_use_the_project_namespace_with_structured_values():
    for stack in ("dev", "prod"):
        config = yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text())["config"]
        for key in config:
            assert key.split(":", 1)[0] in ("aws", "regulated-inference"), key
        assert isinstance(config["regulated-inference:network"], dict)


# The language host runs `main:` from its own directory, with that directory
# (not the repository root) on sys.path; `components` must come from the
# installed project.
_RUNNER = """
import sys, runpy
sys.path = [p for p in sys.path if p not in ('', '{root}')]
import components, stacks
assert not components.__file__.startswith('{stacks_dir}')
from offline_preview.engine import load_stack_config, run_program
cfg = load_stack_config('prod')
rec = run_program(lambda: runpy.run_path('__main__.py', run_name='__main__'),
                  project='regulated-inference', stack='prod', config=cfg)
print(len([r for r in rec.resources if r.custom]))
"""


def test_program_runs_from_the_stacks_directory_in_a_fresh_interpreter():
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    code = _RUNNER.format(root=str(ROOT), stacks_dir=str(ROOT / "stacks"))
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT / "stacks",
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    assert int(out.stdout.strip().splitlines()[-1]) > 50


def test_no_module_in_the_program_directory_shadows_the_standard_library():
    # The language host runs `main:` with runpy.run_path, which puts stacks/ first on
    # sys.path (pulumi-language-python-exec): stacks/platform.py once hid `platform`.
    program = ROOT / "stacks"
    names = {p.stem for p in program.glob("*.py")} | {
        p.name for p in program.iterdir() if p.is_dir()
    }
    assert sorted(names & set(sys.stdlib_module_names)) == []
