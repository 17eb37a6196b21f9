"""One version, one source: `version` in pyproject.toml (CHANGELOG.md states the rule).

Everything else that names the release must agree with it: the policy pack's PulumiPolicy.yaml
(`pulumi policy publish` takes the pack's version from there: pulumi/pulumi
pkg/resource/plugin/analyzer_plugin.go GetAnalyzerInfo prefers it over the SDK's), the changelog,
and the pin in the Python example. The wheel's metadata and `regulated_inference.__version__`
are derived from it at build and import time (tests/packaging/test_wheel.py checks both).
"""

from __future__ import annotations

import json
import re
import tomllib
from importlib.metadata import version
from pathlib import Path

import yaml

import regulated_inference

ROOT = Path(__file__).resolve().parents[2]
VERSION = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
SEMVER = re.compile(r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$")


def test_the_version_is_semver():
    assert SEMVER.match(VERSION), VERSION


def test_the_policy_pack_has_the_projects_version():
    pack = yaml.safe_load((ROOT / "policies" / "PulumiPolicy.yaml").read_text())
    assert pack["version"] == VERSION


def test_the_installed_package_reports_the_projects_version():
    # the editable install's metadata; `make setup` re-installs when pyproject.toml changes
    assert version("regulated-inference") == regulated_inference.__version__ == VERSION


def test_the_changelog_has_a_section_for_the_version_and_states_what_breaks():
    text = (ROOT / "CHANGELOG.md").read_text()
    headings = re.findall(r"^## \[([^\]]+)\]", text, flags=re.M)
    assert headings[0] == "Unreleased" and VERSION in headings
    # newest first, every release once
    releases = [tuple(map(int, h.split("."))) for h in headings[1:]]
    assert releases == sorted(set(releases), reverse=True)
    assert "## What counts as a breaking change" in text


def test_the_python_example_pins_this_version():
    pins = re.findall(
        r"^regulated-inference==(\S+)$",
        (ROOT / "examples" / "python" / "requirements.txt").read_text(),
        flags=re.M,
    )
    assert pins == [VERSION]


def test_the_provider_schema_golden_file_names_the_version():
    # the provider serves version("regulated-inference") (provider/__main__.py); tests/provider
    # compares GetSchema with this file, so a release bump updates it in the same commit
    schema = json.loads((ROOT / "tests" / "provider" / "schema.golden.json").read_text())
    assert schema["version"] == VERSION
