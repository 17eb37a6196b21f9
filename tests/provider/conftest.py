"""The component provider started and driven as the engine would, without the CLI.

How the CLI runs a source-based Python provider (pulumi/pulumi):
- pkg/resource/plugin/provider_plugin.go starts a resource plugin with `[host.ServerAddr()]` as its
  arguments (the engine's gRPC address) and PULUMI_PROJECT / PULUMI_CONFIG in its environment;
  pkg/resource/plugin/plugin.go `ExecPlugin` finds `PulumiPlugin.yaml` in the plugin directory and
  asks the language host to `RunPlugin` it, then reads the plugin's first stdout line: its port.
- sdk/python/cmd/pulumi-language-python/main.go `RunPlugin` (a plugin with a `__main__.py`) runs
  `<venv>/bin/python <plugin dir> <args...>` in the engine's working directory (`cmd.Dir =
  req.Pwd`, the consumer's project), with the venv of `runtime.options.virtualenv` resolved
  against the plugin directory (sdk/python/toolchain/pip.go) and activated.

The harness does the same: one provider process per test session, started from the interpreter
PulumiPlugin.yaml names, in an unrelated working directory, with no PYTHONPATH, and a fake engine
(tests/provider/fake_engine.py) whose address it gets as its argument.
"""

from __future__ import annotations

import json
import os
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import pytest
import yaml
from google.protobuf import struct_pb2
from pulumi.runtime import rpc
from pulumi.runtime.proto import provider_pb2, provider_pb2_grpc

from regulated_inference.simulation.engine import REPO_ROOT, Recording

from .fake_engine import FakeEngine

PROVIDER_DIR = REPO_ROOT / "provider"
PACKAGE = "regulated-inference"
PROJECT, STACK, REGION = "consumer", "test", "eu-west-2"
_START_TIMEOUT_S = 60


def plugin_python() -> Path:
    """The interpreter RunPlugin uses: `<virtualenv>/bin/python`, virtualenv relative to the plugin."""
    runtime = yaml.safe_load((PROVIDER_DIR / "PulumiPlugin.yaml").read_text())["runtime"]
    assert runtime["name"] == "python"
    venv = (PROVIDER_DIR / runtime["options"]["virtualenv"]).resolve()
    python = venv / "bin" / "python"
    if not python.is_file():
        pytest.fail(f"{venv} (PulumiPlugin.yaml virtualenv) does not exist: run `make setup`")
    return python


@dataclass
class Provider:
    """A running provider process and a ResourceProvider client connected to it."""

    process: subprocess.Popen
    stub: provider_pb2_grpc.ResourceProviderStub
    engine: FakeEngine
    stderr: Path

    def schema(self) -> dict[str, Any]:
        return json.loads(self.stub.GetSchema(provider_pb2.GetSchemaRequest()).schema)

    def construct(
        self, component: str, name: str, inputs: dict[str, Any]
    ) -> tuple[dict[str, Any], str, Recording]:
        """Construct `regulated-inference:index:<component>` as a preview of stack PROJECT/STACK would.

        Returns the component's output state (camelCase, as the engine receives it), its URN and
        what it registered with the monitor."""
        monitor = self.engine.deployment()
        struct = struct_pb2.Struct()
        struct.update(inputs)
        response = self.stub.Construct(
            provider_pb2.ConstructRequest(
                project=PROJECT,
                stack=STACK,
                organization="organization",
                config=self.engine.config,
                dryRun=True,
                parallel=4,
                monitorEndpoint=self.engine.address,
                type=f"{PACKAGE}:index:{component}",
                name=name,
                parent=self.engine.stack_urn,
                inputs=struct,
            ),
            timeout=60,
        )
        state = rpc.deserialize_properties(response.state)
        return state, response.urn, monitor.recording()


def _read_port(process: subprocess.Popen, stderr: Path) -> int:
    """The first stdout line, as the engine reads it (plugin.go: byte by byte up to '\\n')."""
    line: list[str] = []
    reader = threading.Thread(target=lambda: line.append(process.stdout.readline()), daemon=True)
    reader.start()
    reader.join(_START_TIMEOUT_S)
    if not line or not line[0].strip().isdigit():
        process.kill()
        pytest.fail(
            f"the provider printed no port ({line!r}); stderr:\n{stderr.read_text()[-4000:]}"
        )
    # The engine keeps reading stdout (it becomes the plugin's log); so do we, so a chatty
    # provider can never block on a full pipe.
    threading.Thread(target=process.stdout.read, daemon=True).start()
    return int(line[0])


@pytest.fixture(scope="session")
def provider(tmp_path_factory) -> Iterator[Provider]:
    engine = FakeEngine(project=PROJECT, stack=STACK, region=REGION).start()
    python = plugin_python()
    cwd = tmp_path_factory.mktemp("consumer-project")  # req.Pwd: the consumer, not this repo
    stderr = cwd / "provider.stderr"
    env = {
        "PATH": f"{python.parent}:/usr/bin:/bin",
        "VIRTUAL_ENV": str(python.parent.parent),
        "PULUMI_PROJECT": PROJECT,
        "PULUMI_CONFIG": json.dumps(engine.config),
        "HOME": str(cwd),
    }
    with stderr.open("w") as err:
        process = subprocess.Popen(
            [str(python), str(PROVIDER_DIR), engine.address],
            cwd=cwd,
            env=env,
            stdout=subprocess.PIPE,
            stderr=err,
            text=True,
        )
    port = _read_port(process, stderr)
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    try:
        yield Provider(process, provider_pb2_grpc.ResourceProviderStub(channel), engine, stderr)
    finally:
        channel.close()
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        engine.stop()
        if os.environ.get("PROVIDER_STDERR"):
            print(stderr.read_text())
