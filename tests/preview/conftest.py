"""Fixtures for the offline-preview tests.

Two kinds of runs:
- the sample project (tests/preview/sample_project, a hand-written program)
  with a tiny fake policy driver: fast, and independent of the real stack and
  pack, for every exit path and format;
- the real prod stack with the real policy pack, run once per session.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from regulated_inference.preview import cli
from regulated_inference.preview.report import PreviewReport

from . import fake_analyzer

HERE = Path(__file__).parent
SAMPLE = HERE / "sample_project"
SARIF_SCHEMA = HERE / "sarif-schema-2.1.0.json"


@pytest.fixture
def fake_analyze():
    return fake_analyzer.analyze


def copy_project(
    src: Path, dest: Path, stack: str, change: Callable[[dict], None] | None = None
) -> Path:
    """A copy of a project whose Pulumi.<stack>.yaml is edited by `change(config_dict)`.

    The program itself is not copied: `main:` points back at the original, so
    only the stack config differs (this is how a test injects a violation).
    """
    dest.mkdir(parents=True, exist_ok=True)
    project = yaml.safe_load((src / "Pulumi.yaml").read_text())
    project["main"] = str((src / project.get("main", ".")).resolve())
    (dest / "Pulumi.yaml").write_text(yaml.safe_dump(project))
    stack_doc = yaml.safe_load((src / f"Pulumi.{stack}.yaml").read_text())
    if change:
        change(stack_doc["config"])
    (dest / f"Pulumi.{stack}.yaml").write_text(yaml.safe_dump(stack_doc))
    if (src / "policies").is_dir() and src != dest:
        shutil.copytree(src / "policies", dest / "policies", dirs_exist_ok=True)
    return dest


class CliRun:
    def __init__(self, code: int, out: str, err: str):
        self.code, self.out, self.err = code, out, err


@pytest.fixture
def run_cli(capsys) -> Callable[..., CliRun]:
    """Run `python -m regulated_inference.preview ARGS` in-process; returns exit code, stdout, stderr."""

    def run(*args: str, analyze=None) -> CliRun:
        code = cli.main(list(args), analyze=analyze)
        captured = capsys.readouterr()
        return CliRun(code, captured.out, captured.err)

    return run


@pytest.fixture(scope="session")
def sample_report() -> PreviewReport:
    """The sample project's prod stack under the fake driver: advisory findings only,
    one of them stack-level (no trail)."""
    return cli.run_preview("prod", project_dir=SAMPLE, analyze=fake_analyzer.analyze)


def _real_analyzer():
    """The policy-pack driver (regulated_inference.preview.analyzer): the pack started as the CLI does."""
    return cli.default_analyzer()


@pytest.fixture(scope="session")
def prod_report() -> PreviewReport:
    """The real prod stack under the real policy pack, once per session."""
    return cli.run_preview("prod", analyze=_real_analyzer())


@pytest.fixture(scope="session")
def real_analyze():
    return _real_analyzer()
