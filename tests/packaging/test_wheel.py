"""The wheel as a consumer gets it: built, installed into a fresh venv that holds only its declared
dependencies, and used by a program outside this repository, under the simulated AWS.

Offline: the wheel is built from a copy of the sources (setuptools builds in the source tree's
build/, which must not be this checkout) with the setuptools `make setup` installed; the venv
sees exactly the installed distributions the wheel's Requires-Dist need, transitively (links,
tests/venvs.py), so an import of anything undeclared fails here. The consumer is
examples/python, copied to a temporary directory and installed from its own requirements.txt.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tomllib
import zipfile
from collections import Counter
from email.parser import Parser
from pathlib import Path
from types import SimpleNamespace

import pytest
from packaging.requirements import Requirement

from tests.venvs import (
    bare_venv,
    environ_without_pythonpath,
    link_distributions,
    requirement_closure,
    site_packages,
)

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
VERSION = PYPROJECT["version"]
EXAMPLE = ROOT / "examples" / "python"


def _run(args: list[str], **kw) -> subprocess.CompletedProcess:
    out = subprocess.run(
        args, env=environ_without_pythonpath(), capture_output=True, text=True, timeout=180, **kw
    )
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    return out


def _build_wheel(work: Path) -> Path:
    src = work / "src"
    src.mkdir()
    shutil.copy(ROOT / "pyproject.toml", src)
    shutil.copytree(
        ROOT / "regulated_inference",
        src / "regulated_inference",
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
    )
    dist = work / "dist"
    _run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index"]
        + ["--disable-pip-version-check", "--quiet", "-w", str(dist), str(src)]
    )
    (wheel,) = dist.glob("*.whl")
    return wheel


def _metadata(wheel: Path) -> dict[str, list[str]]:
    with zipfile.ZipFile(wheel) as z:
        text = z.read(f"regulated_inference-{VERSION}.dist-info/METADATA").decode()
    msg = Parser().parsestr(text)
    return {key: msg.get_all(key) or [] for key in ("Name", "Version", "Requires-Dist")}


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> SimpleNamespace:
    work = tmp_path_factory.mktemp("wheel")
    wheel = _build_wheel(work)
    requires = _metadata(wheel)["Requires-Dist"]
    deps = link_distributions(
        requirement_closure(requires).values(), site_packages(Path(sys.executable)), work / "deps"
    )
    python = bare_venv(work / "venv", deps)
    consumer = shutil.copytree(EXAMPLE, work / "consumer", ignore=shutil.ignore_patterns("venv"))
    report = work / "pip-report.json"
    # The consumer's own requirements file, as `pulumi install` would run it, offline: the wheel
    # from the build directory, its dependencies already satisfied by the linked ones.
    _run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-index"]
        + ["--disable-pip-version-check", "--find-links", str(wheel.parent)]
        + ["--report", str(report), "-r", "requirements.txt"],
        cwd=consumer,
    )
    return SimpleNamespace(
        wheel=wheel,
        requires=requires,
        python=python,
        consumer=consumer,
        installed=json.loads(report.read_text())["install"],
    )


def test_the_wheel_holds_the_library_only_with_its_type_marker_and_price_tables(installed):
    with zipfile.ZipFile(installed.wheel) as z:
        names = z.namelist()
    assert {n.split("/")[0] for n in names} == {
        "regulated_inference",
        f"regulated_inference-{VERSION}.dist-info",
    }
    assert "regulated_inference/py.typed" in names
    prices = sorted(p.name for p in (ROOT / "regulated_inference/preview/prices").glob("*.json"))
    assert (
        prices
        and sorted(
            n.rsplit("/", 1)[1]
            for n in names
            if n.startswith("regulated_inference/preview/prices/")
        )
        == prices
    )
    # every module of the package, nothing else of the repository
    sources = sorted(
        p.relative_to(ROOT).as_posix()
        for p in (ROOT / "regulated_inference").rglob("*.py")
        if "__pycache__" not in p.parts
    )
    assert sorted(n for n in names if n.endswith(".py")) == sources
    assert installed.wheel.stat().st_size < 1_000_000


def test_the_wheel_metadata_is_the_projects(installed):
    meta = _metadata(installed.wheel)
    assert meta["Name"] == ["regulated-inference"] and meta["Version"] == [VERSION]
    assert sorted(str(Requirement(r)) for r in meta["Requires-Dist"]) == sorted(
        str(Requirement(r)) for r in PYPROJECT["dependencies"]
    )


def test_pip_installs_the_wheel_alone_and_every_declared_dependency_is_satisfied(installed):
    assert [(i["metadata"]["name"], i["metadata"]["version"]) for i in installed.installed] == [
        ("regulated-inference", VERSION)
    ]
    assert installed.installed[0]["download_info"]["url"] == installed.wheel.as_uri()
    check = _run([sys.executable, "-m", "pip", "--python", str(installed.python), "check"])
    assert "No broken requirements found" in check.stdout
    # each Requires-Dist, from inside the venv: installed in a version its specifier allows
    code = (
        "import json, sys\n"
        "from importlib.metadata import version\n"
        "from packaging.requirements import Requirement\n"
        "bad = [r for r in json.loads(sys.argv[1])\n"
        "       if not Requirement(r).specifier.contains(version(Requirement(r).name), prereleases=True)]\n"
        "print(json.dumps(bad))\n"
    )
    out = _run([str(installed.python), "-I", "-c", code, json.dumps(installed.requires)])
    assert json.loads(out.stdout) == []


def test_the_venv_imports_the_installed_package_and_no_generic_top_level_names(installed):
    code = (
        "import importlib.util as u, json, pathlib, regulated_inference as ri\n"
        "print(json.dumps({'file': ri.__file__, 'version': ri.__version__,\n"
        "  'typed': (pathlib.Path(ri.__file__).parent / 'py.typed').is_file(),\n"
        "  'generic': [n for n in ('components', 'stacks', 'offline_preview', 'tools',\n"
        "              'policies', 'provider', 'registry', 'tests') if u.find_spec(n)]}))\n"
    )
    out = json.loads(_run([str(installed.python), "-I", "-c", code], cwd=installed.consumer).stdout)
    assert out["file"].startswith(str(site_packages(installed.python)))
    assert not out["file"].startswith(str(ROOT))
    assert out["version"] == VERSION and out["typed"] is True
    assert out["generic"] == []


# Runs the consumer's program (its __main__.py, from its directory) as `pulumi preview` would,
# under the package's simulated AWS; prints what it registered.
_CONSUMER = """
import json
from pathlib import Path
from regulated_inference.simulation.engine import run_stack_program
rec = run_stack_program("dev", project_dir=Path.cwd())
print(json.dumps({
    "resources": [
        {"type": r.type, "name": r.name, "urn": r.urn, "parent": r.parent, "inputs": r.inputs,
         "outputs": r.outputs if r.custom else {}}
        for r in rec.resources
    ],
    "outputs": sorted(rec.stack_outputs),
}, default=str))
"""


def _children(resources: list[dict], parent: dict, typ: str) -> list[dict]:
    return [r for r in resources if r["parent"] == parent["urn"] and r["type"] == typ]


def test_a_consumer_program_outside_the_repository_runs_under_mocks(installed):
    assert not installed.consumer.is_relative_to(ROOT)
    out = _run([str(installed.python), "-I", "-c", _CONSUMER], cwd=installed.consumer)
    got = json.loads(out.stdout.strip().splitlines()[-1])
    res = got["resources"]
    types = Counter(r["type"] for r in res)
    assert types["regulated-inference:index:EncryptionKeys"] == 1
    assert types["regulated-inference:index:IsolatedNetwork"] == 1
    assert types["regulated-inference:index:SecureBucket"] == 2
    assert types["aws:kms/key:Key"] == 3
    assert types["aws:ec2/vpc:Vpc"] == 1 and types["aws:ec2/subnet:Subnet"] == 2
    assert types["aws:s3/bucket:Bucket"] == 2
    assert "aws:ec2/internetGateway:InternetGateway" not in types
    assert got["outputs"] == ["dataBucket", "dataKeyArn", "privateSubnetIds", "vpcId"]

    (vpc,) = [r for r in res if r["type"] == "aws:ec2/vpc:Vpc"]
    assert vpc["inputs"]["cidrBlock"] == "10.60.0.0/20"  # the consumer's Pulumi.dev.yaml
    keys = {r["name"]: r for r in res if r["type"] == "aws:kms/key:Key"}
    key_arn = {name.rsplit("-", 1)[-1]: k["outputs"]["arn"] for name, k in keys.items()}
    buckets = {r["name"]: r for r in res if r["type"] == "regulated-inference:index:SecureBucket"}
    data = buckets["team-inference-platform-dev-data"]
    logs = buckets["team-inference-platform-dev-access-logs"]
    (data_bucket,) = _children(res, data, "aws:s3/bucket:Bucket")
    (logs_bucket,) = _children(res, logs, "aws:s3/bucket:Bucket")
    sse = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
    (enc,) = _children(res, data, sse)
    assert enc["inputs"]["rules"][0]["applyServerSideEncryptionByDefault"] == {
        "sseAlgorithm": "aws:kms",
        "kmsMasterKeyId": key_arn["data"],
    }
    (logging,) = _children(res, data, "aws:s3/bucketLogging:BucketLogging")
    assert logging["inputs"]["targetBucket"] == logs_bucket["outputs"]["bucket"]
    assert data_bucket["outputs"]["bucket"].startswith("team-inference-platform-dev-data")


def test_the_offline_preview_cli_runs_from_the_wheel(installed):
    out = _run(
        [str(installed.python), "-I", "-m", "regulated_inference.preview", "--help"],
        cwd=installed.consumer,
    )
    assert out.stdout.startswith("usage: ") and "--stack" in out.stdout
