"""The Pulumi project as the CLI sees it: Pulumi.yaml schema, and the program run from stacks/."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import yaml

from tests.venvs import bare_venv, environ_without_pythonpath, site_packages, third_party_only

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
# (not the repository root) on sys.path; `regulated_inference` must come from the
# installed project.
_RUNNER = """
import sys, runpy
sys.path = [p for p in sys.path if p not in ('', '{root}')]
import regulated_inference
assert not regulated_inference.__file__.startswith('{stacks_dir}')
from regulated_inference.simulation.engine import load_stack_config, run_program
cfg = load_stack_config('prod')
rec = run_program(lambda: runpy.run_path('__main__.py', run_name='__main__'),
                  project='regulated-inference', stack='prod', config=cfg)
print(len([r for r in rec.resources if r.custom]))
"""


def _assert_program_registers_resources(argv: list[str], env: dict, timeout: int) -> None:
    """Run a runner script from stacks/; it succeeds and its last line counts > 50 resources."""
    out = subprocess.run(
        argv, cwd=ROOT / "stacks", env=env, capture_output=True, text=True, timeout=timeout
    )
    assert out.returncode == 0, out.stderr[-3000:]
    assert int(out.stdout.strip().splitlines()[-1]) > 50


def test_program_runs_from_the_stacks_directory_in_a_fresh_interpreter():
    env = environ_without_pythonpath()
    code = _RUNNER.format(root=str(ROOT), stacks_dir=str(ROOT / "stacks"))
    _assert_program_registers_resources([sys.executable, "-c", code], env, timeout=120)


def test_no_module_in_the_program_directory_shadows_the_standard_library():
    # The language host runs `main:` with runpy.run_path, which puts stacks/ first on
    # sys.path (pulumi-language-python-exec): stacks/platform.py once hid `platform`.
    program = ROOT / "stacks"
    names = {p.stem for p in program.glob("*.py")} | {
        p.name for p in program.iterdir() if p.is_dir()
    }
    assert sorted(names & set(sys.stdlib_module_names)) == []


# --- the venv `pulumi install` builds -------------------------------------------------------
# `pulumi install` (pkg/cmd/pulumi/install/install.go) hands the language host the program
# directory from getPwdMain (pkg/engine/project.go: `main: stacks/` -> stacks/), and the pip
# toolchain (sdk/python/toolchain/pip.go InstallDependencies) runs `python -m pip install -r
# requirements.txt` there, into the project's .venv. The language host then runs the program
# (sdk/python/cmd/pulumi-language-python-exec): `import pulumi, pulumi.runtime`, chdir to stacks/,
# `runpy.run_path(".")` — stacks/ first on sys.path, the repository root nowhere on it.
#
# Offline and fast (~10 s): the third-party pins are already installed in this checkout's .venv
# by `make setup`; the test venv sees them through a directory of links that leaves out this
# project's own (editable) install, so the project is importable only if stacks/requirements.txt
# installs it. pip itself resolves the file, from stacks/ as the CLI runs it.
_PROGRAM_RUNNER = """
import runpy, sys
import pulumi, pulumi.runtime
assert {root!r} not in sys.path and '' not in sys.path, sys.path
from regulated_inference.simulation.engine import load_stack_config, run_program
import regulated_inference
assert regulated_inference.__file__ == {components!r}, regulated_inference.__file__
rec = run_program(lambda: runpy.run_path('.', run_name='__main__'),
                  project='regulated-inference', stack='prod', config=load_stack_config('prod'))
print(len([r for r in rec.resources if r.custom]))
"""


def test_program_runs_from_a_venv_built_from_the_requirements_file_alone(tmp_path):
    env = environ_without_pythonpath()
    deps = third_party_only(site_packages(Path(sys.executable)), tmp_path / "deps")
    python = bare_venv(tmp_path / "venv", deps)
    importable = "import importlib.util as u; print(u.find_spec('regulated_inference') is not None)"
    before = subprocess.run(
        [str(python), "-I", "-c", importable], cwd=ROOT / "stacks", env=env, capture_output=True
    )
    assert before.stdout.strip() == b"False"  # nothing of the project leaks into the test venv

    report = tmp_path / "pip-report.json"
    pip = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-index"]
        + ["--no-build-isolation", "--disable-pip-version-check", "--report", str(report)]
        + ["-r", "requirements.txt"],
        cwd=ROOT / "stacks",  # where `pulumi install` runs pip
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert pip.returncode == 0, pip.stdout[-2000:] + pip.stderr[-3000:]
    installed = json.loads(report.read_text())["install"]
    # every pin of ../requirements.txt was already satisfied; the project itself, editable, from
    # the repository root (pip took `-e ..` relative to its working directory, stacks/)
    assert [(i["metadata"]["name"], i["download_info"]) for i in installed] == [
        ("regulated-inference", {"url": ROOT.as_uri(), "dir_info": {"editable": True}})
    ]

    code = _PROGRAM_RUNNER.format(
        root=str(ROOT), components=str(ROOT / "regulated_inference" / "__init__.py")
    )
    _assert_program_registers_resources([str(python), "-I", "-c", code], env, timeout=180)
