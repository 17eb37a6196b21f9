"""The policy pack started exactly as `pulumi preview --policy-pack policies` starts it.

What the CLI does for a local Python pack (pulumi/pulumi):
- pkg/resource/plugin/analyzer_plugin.go `NewPolicyAnalyzer` loads policies/PulumiPolicy.yaml and,
  with the Python language plugin present (it ships with the CLI), calls the language host's
  `RunPlugin` for the pack directory with `[host.ServerAddr()]` as arguments (the engine's live
  gRPC address); without it, the legacy shim `pulumi-analyzer-policy-python <engine> .
  -virtualenv=venv` runs in the pack directory and does the same.
- sdk/python/cmd/pulumi-language-python/main.go `RunPlugin` (kind analyzer, the pack has a
  `__main__.py`) runs `<pack>/venv/bin/python -u -m pulumi.policy <engine-address> <pack dir>`
  with the pack directory as working directory (`cmd.Dir = req.Info.ProgramDirectory`), the venv
  activated (sdk/python/toolchain/pip.go `Command`: `ActivateVirtualEnv`) and PULUMI_PROJECT,
  PULUMI_STACK, PULUMI_DRY_RUN, PULUMI_ORGANIZATION and PULUMI_CONFIG set. `parseOptions` takes the
  venv from PulumiPolicy.yaml `runtime.options.virtualenv`; nothing in that path creates it (only
  `pulumi install`, `pulumi policy new` and downloaded packs do): `make setup` must.

So the pack must start from its own venv, built from policies/requirements.txt alone, with its own
directory as cwd and no PYTHONPATH — never from the repository's `.venv`. `regulated_inference.preview.analyzer`
(which drives the pack for every other test) is reused here with that interpreter and environment.
"""

from __future__ import annotations

import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import grpc
import pytest
import yaml

from regulated_inference.preview.analyzer import POLICIES_DIR, PolicyPackServer
from regulated_inference.simulation.engine import REPO_ROOT, run_stack_program

PACK_VENV = POLICIES_DIR / "venv"
PACK_PYTHON = PACK_VENV / "bin" / "python"
SAMPLE = REPO_ROOT / "tests" / "preview" / "sample_project"


def _cli_env(project: str, stack: str) -> dict[str, str]:
    """The environment RunPlugin gives the pack, minus the CLI's own: no PYTHONPATH, no repo."""
    return {
        "PATH": f"{PACK_VENV / 'bin'}:/usr/bin:/bin",
        "VIRTUAL_ENV": str(PACK_VENV),
        "PULUMI_ORGANIZATION": "organization",
        "PULUMI_PROJECT": project,
        "PULUMI_STACK": stack,
        "PULUMI_DRY_RUN": "true",
        "PULUMI_CONFIG": "{}",
    }


@pytest.fixture(scope="module")
def pack_python() -> Path:
    virtualenv = yaml.safe_load((POLICIES_DIR / "PulumiPolicy.yaml").read_text())["runtime"]
    assert virtualenv["options"]["virtualenv"] == "venv"  # what RunPlugin resolves against the pack
    if not PACK_PYTHON.is_file():
        pytest.fail(
            f"{PACK_VENV} does not exist: `make setup` builds it from policies/requirements.txt "
            "(the Pulumi CLI does not, and `pulumi preview --policy-pack policies` fails without it)"
        )
    return PACK_PYTHON


@pytest.fixture(scope="module")
def engine_address():
    """A live gRPC server standing in for the engine (`host.ServerAddr()`): the pack gets a real
    address, as from the CLI (pulumi.policy parses it; the pack's analyzer never has to dial it)."""
    server = grpc.server(ThreadPoolExecutor(max_workers=1))
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    yield f"127.0.0.1:{port}"
    server.stop(grace=None)


def test_the_pack_venv_holds_the_pack_requirements_only(pack_python):
    # Built from policies/requirements.txt: pulumi_policy is there, the program's SDKs and the
    # repository's packages are not (so the pack cannot lean on them by accident).
    probe = (
        "import importlib.util as u, sys; "
        "print(sys.prefix); "
        "print(*[m for m in ('pulumi_policy', 'pulumi', 'grpc', 'pulumi_aws', 'pydantic', "
        "'regulated_inference', 'components', 'stacks', 'offline_preview') if u.find_spec(m)])"
    )
    out = subprocess.run(
        [str(pack_python), "-c", probe],
        cwd=POLICIES_DIR,
        env=_cli_env("regulated-inference", "prod"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    prefix, found = out.stdout.splitlines()
    assert Path(prefix).resolve() == PACK_VENV.resolve()
    assert found.split() == ["pulumi_policy", "pulumi", "grpc"]


def _sample(rotate_keys: bool):
    from regulated_inference.simulation.engine import load_stack_config

    cfg = load_stack_config("prod", SAMPLE)
    cfg["sample-inference:rotateKeys"] = "true" if rotate_keys else "false"
    return run_stack_program("prod", config=cfg, project_dir=SAMPLE)


def test_pack_started_as_the_cli_does_returns_real_verdicts(pack_python, engine_address):
    compliant, violating = _sample(rotate_keys=True), _sample(rotate_keys=False)
    server = PolicyPackServer(
        POLICIES_DIR,  # cwd = the pack; program-dir argument = the pack (RunPlugin's ProgramDirectory)
        python=str(pack_python),
        engine_address=engine_address,
        env=_cli_env("sample-inference", "prod"),
        project="sample-inference",
    )
    with server:
        assert server.info().name == "regulated-inference"
        assert len(server.info().policies) > 50
        good = server.analyze(compliant, POLICIES_DIR / "config" / "prod.json")
        bad = server.analyze(violating, POLICIES_DIR / "config" / "prod.json")

    def rotation(result):
        return [v for v in result.violations if v.policy == "kms-key-rotation"]

    custom = len([r for r in compliant.resources if r.custom])
    assert good.resources_analyzed == bad.resources_analyzed == custom > 5
    assert rotation(good) == []
    [finding] = rotation(bad)
    assert finding.enforcement == "mandatory"
    assert finding.resource_name == "platform-keys-data"
    assert finding.message.startswith("enableKeyRotation is not true")
    assert finding.controls == ("E8",)
    # the stack policies ran too (AnalyzeStack): the sample has no CloudTrail trail
    [trail] = [v for v in bad.violations if v.policy == "cloudtrail-enabled"]
    assert trail.urn is None and trail.message.startswith("no CloudTrail trail in the stack")
