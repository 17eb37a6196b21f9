"""Run a Pulumi program the way the engine would, with no cloud and no CLI.

The program runs under Pulumi's mock runtime with `SimulatedAws`. A recording
monitor plays the part of the engine's resource monitor: it runs registered
stack transforms (as the engine does, and as Pulumi's plain mock monitor does
not), creates default providers from config, and records every resource as
the engine sees it — type, name, URN with the parent chain, inputs (camelCase,
after transforms), outputs, parent, dependencies, provider reference.

Config is loaded from `Pulumi.yaml` and `Pulumi.<stack>.yaml` the way the CLI
does: keys without a namespace get the project's, structured values reach the
program as JSON strings.
"""

from __future__ import annotations

import asyncio
import json
import runpy
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
from pulumi.resource import ResourceOptions, ResourceTransformArgs
from pulumi.runtime import mocks as _mocks
from pulumi.runtime import rpc
from pulumi.runtime.proto import resource_pb2
from pulumi.runtime.settings import configure
from pulumi.runtime.stack import run_in_stack
from pulumi.runtime.sync_await import _sync_await

from regulated_inference.simulation import sdk_imports
from regulated_inference.simulation.simulated_aws import SimulatedAws, simulated_account
from regulated_inference.simulation.stack_file import StackFileError, read_stack_config, read_yaml

# The source tree when installed editable (make setup); a wheel install has no repository, and
# callers pass their own project directory (the preview defaults to the working directory).
REPO_ROOT = Path(__file__).resolve().parents[2]


@dataclass
class RecordedResource:
    """One resource as the engine sees it."""

    urn: str
    type: str
    name: str
    custom: bool
    id: str | None
    inputs: dict[str, Any]
    outputs: dict[str, Any]
    parent: str | None
    dependencies: list[str] = field(default_factory=list)
    property_dependencies: dict[str, list[str]] = field(default_factory=dict)
    provider: str | None = None  # provider reference: "<provider urn>::<provider id>"

    @property
    def provider_urn(self) -> str | None:
        return self.provider.rsplit("::", 1)[0] if self.provider else None


@dataclass
class Recording:
    """Everything one program run registered."""

    project: str
    stack: str
    config: dict[str, str]
    resources: list[RecordedResource]
    stack_outputs: dict[str, Any]

    def of_type(self, typ: str) -> list[RecordedResource]:
        return [r for r in self.resources if r.type == typ]

    def one(self, typ: str, name: str | None = None) -> RecordedResource:
        found = [r for r in self.of_type(typ) if name is None or r.name == name]
        if len(found) != 1:
            names = [r.name for r in self.of_type(typ)]
            raise AssertionError(
                f"expected one {typ} named {name!r}, found {len(found)} among {names}"
            )
        return found[0]

    def by_urn(self) -> dict[str, RecordedResource]:
        return {r.urn: r for r in self.resources}

    def children_of(self, urn: str) -> list[RecordedResource]:
        return [r for r in self.resources if r.parent == urn]


class RecordingMonitor(_mocks.MockMonitor):
    """A mock resource monitor that records what the engine would receive."""

    def __init__(
        self,
        mocks: SimulatedAws,
        config: dict[str, str],
        on_resource: Callable[[RecordedResource], None] | None = None,
    ):
        super().__init__(mocks)
        self.sim = mocks
        self.config = config
        self.on_resource = on_resource
        self.records: dict[str, RecordedResource] = {}  # in registration order
        self.stack_urn: str | None = None
        self.stack_outputs: dict[str, Any] = {}
        self._default_providers: dict[str, str] = {}

    def make_urn(self, parent: str, type_: str, name: str) -> str:
        """The engine's URN: the parent's full type chain, without the root stack's type."""
        if parent:
            qualified = parent.split("::")[2]
            if qualified != "pulumi:pulumi:Stack":
                type_ = f"{qualified}${type_}"
        return f"urn:pulumi:{pulumi.get_stack()}::{pulumi.get_project()}::{type_}::{name}"

    # The engine creates one default provider per package, configured from
    # the stack config's `<package>:*` keys.
    def _default_provider(self, package: str, version: str) -> str:
        if package in self._default_providers:
            return self._default_providers[package]
        name = f"default_{version.replace('.', '_')}" if version else "default"
        urn = self.make_urn("", f"pulumi:providers:{package}", name)
        inputs: dict[str, Any] = {}
        for key, value in self.config.items():
            ns, _, k = key.partition(":")
            if ns == package:
                try:
                    inputs[k] = json.loads(value)
                except (TypeError, ValueError):
                    inputs[k] = value
        if version:
            inputs["version"] = version
        pid, outputs = self.sim.new_resource(
            _mocks.MockResourceArgs(
                typ=f"pulumi:providers:{package}", name=name, inputs=inputs, custom=True
            )
        )
        if package == "aws":
            self.sim.provider_regions[urn] = str(inputs.get("region", self.sim.region))
        self._record(
            urn, f"pulumi:providers:{package}", name, True, pid, inputs, outputs, None, [], {}, None
        )
        ref = f"{urn}::{pid}"
        self._default_providers[package] = ref
        return ref

    def _record(self, urn, typ, name, custom, rid, inputs, outputs, parent, deps, pdeps, provider):
        self.records[urn] = RecordedResource(
            urn=urn,
            type=typ,
            name=name,
            custom=custom,
            id=rid,
            inputs=inputs,
            outputs=outputs,
            parent=parent or None,
            dependencies=list(deps),
            property_dependencies=pdeps,
            provider=provider,
        )
        if self.on_resource is not None and custom:
            # As the engine does, a custom resource can be analysed as soon as it is registered.
            self.on_resource(self.records[urn])

    def _run_transforms(self, request, inputs: dict) -> dict:
        transforms = list(self._stack_transforms) + _mocks._resolve_callbacks(request.transforms)
        for transform in transforms:
            result = transform(
                ResourceTransformArgs(
                    custom=request.custom,
                    type_=request.type,
                    name=request.name,
                    props=inputs,
                    opts=ResourceOptions(),
                )
            )
            if result is not None and result.props is not None:
                inputs = dict(result.props)
        return inputs

    def RegisterResource(self, request):
        urn = self.make_urn(request.parent, request.type, request.name)
        if request.type == "pulumi:pulumi:Stack":
            self.stack_urn = urn
            self._record(urn, request.type, request.name, False, None, {}, {}, None, [], {}, None)
            return resource_pb2.RegisterResourceResponse(urn=urn)

        _mocks._ensure_event_loop()
        inputs = rpc.deserialize_properties(request.object)
        inputs = self._run_transforms(request, inputs)

        provider = request.provider or None
        if request.custom and not provider and not request.type.startswith("pulumi:providers:"):
            package = request.type.split(":", 1)[0]
            provider = self._default_provider(package, request.version)

        if not request.custom:
            rid, state = None, {}
        else:
            rid, state = self.mocks.new_resource(
                _mocks.MockResourceArgs(
                    typ=request.type,
                    name=request.name,
                    inputs=inputs,
                    provider=provider,
                    resource_id=request.importId,
                    custom=True,
                )
            )
            if request.type == "pulumi:providers:aws":
                self.sim.provider_regions[urn] = str(inputs.get("region", self.sim.region))
        pdeps = {k: list(v.urns) for k, v in request.propertyDependencies.items()}
        self._record(
            urn,
            request.type,
            request.name,
            request.custom,
            rid,
            inputs,
            state,
            request.parent,
            request.dependencies,
            pdeps,
            provider,
        )
        self.resources[urn] = _mocks.MockMonitor.ResourceRegistration(urn, rid or "", state)
        obj_proto = _sync_await(rpc.serialize_properties(state, {}))
        return resource_pb2.RegisterResourceResponse(urn=urn, id=rid or "", object=obj_proto)

    def RegisterResourceOutputs(self, request):
        outputs = rpc.deserialize_properties(request.outputs)
        if request.urn == self.stack_urn:
            self.stack_outputs = outputs
        if request.urn in self.records:
            self.records[request.urn].outputs = outputs
        return super().RegisterResourceOutputs(request)


# -- config, as the CLI loads it ------------------------------------------------


def _cli_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    if value is None:
        return ""
    return str(value)


def load_project(project_dir: Path = REPO_ROOT) -> dict[str, Any]:
    return read_yaml(project_dir / "Pulumi.yaml")


def stack_names(project_dir: Path = REPO_ROOT) -> list[str]:
    """The project's stacks: one per `Pulumi.<stack>.yaml`, sorted."""
    return sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in project_dir.glob("Pulumi.*.yaml"))


def load_stack_config(stack: str, project_dir: Path = REPO_ROOT) -> dict[str, str]:
    """`Pulumi.<stack>.yaml` as the CLI hands it to the program: namespaced keys, string values."""
    project = load_project(project_dir)["name"]
    path = project_dir / f"Pulumi.{stack}.yaml"
    if not path.is_file():
        known = stack_names(project_dir)
        raise StackFileError(
            f"no stack '{stack}': {path.name} does not exist (stacks: {', '.join(known)})"
        )
    return config_to_cli(project, read_stack_config(path))


def config_to_cli(project: str, config: dict[str, Any]) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in config.items():
        full = key if ":" in key else f"{project}:{key}"
        if isinstance(value, dict) and set(value) == {"secure"}:
            out[full] = "[secret]"  # ciphertext cannot be decrypted offline
            continue
        out[full] = _cli_value(value)
    return out


# -- running a program -----------------------------------------------------------


def _ignore_unretrieved(loop: asyncio.AbstractEventLoop, context: dict) -> None:
    if "exception was never retrieved" not in str(context.get("message", "")):
        loop.default_exception_handler(context)


def run_program(
    program: Callable[[], Any],
    *,
    project: str,
    stack: str,
    config: dict[str, str],
    preview: bool = True,
    on_resource: Callable[[RecordedResource], None] | None = None,
    account: str = "",
) -> Recording:
    """Run `program` under the simulated AWS and return what it registered.

    `on_resource` is called with each custom resource as it is registered
    (inputs and outputs known), so a caller can analyse while the program runs.
    `account` is the caller's account (default: the first of `aws:allowedAccountIds`, else a
    stable hash of project and stack; see `simulated_account`).
    Exceptions from the program (for instance an invalid stack config) are
    re-raised after the runtime has shut down.
    """
    # The program imports only the SDK modules it uses (sdk_imports: about a third of the
    # preview's import time was modules of pulumi_aws subpackages no resource needed).
    sdk_imports.install()
    region = config.get("aws:region", "us-east-1")
    sim = SimulatedAws(
        project=project,
        stack=stack,
        region=region,
        account=simulated_account(project, stack, config, account),
    )
    monitor = RecordingMonitor(sim, config, on_resource)
    pulumi.runtime.set_all_config(dict(config), [])
    settings = _mocks.MockSettings(
        monitor=monitor,
        monitor_features=set(monitor.GetDeploymentInfo(None).supportedFeatures),
        engine=_mocks.MockEngine(None),
        project=project,
        stack=stack,
        dry_run=preview,
        organization="organization",
        callbacks=None,
    )
    configure(settings)
    pulumi.runtime.settings.ROOT.set(None)
    # A failing program leaves the outputs of its pending resources unresolved; asyncio would
    # log each of them when collected. The failure itself is re-raised below, once.
    _mocks._ensure_event_loop().set_exception_handler(_ignore_unretrieved)
    try:
        _sync_await(run_in_stack(program))
    except BaseException as exc:
        # What was registered before the failure: tests assert it is nothing.
        exc.partial_recording = Recording(  # type: ignore[attr-defined]
            project,
            stack,
            dict(config),
            list(monitor.records.values()),
            monitor.stack_outputs,
        )
        raise
    resources = list(monitor.records.values())
    return Recording(project, stack, dict(config), resources, monitor.stack_outputs)


def run_stack_program(
    stack: str,
    *,
    config: dict[str, str] | None = None,
    project_dir: Path = REPO_ROOT,
    on_resource: Callable[[RecordedResource], None] | None = None,
    account: str = "",
) -> Recording:
    """Run the project's program (`main:` in Pulumi.yaml) for a stack, as `pulumi preview` would."""
    project = load_project(project_dir)
    cfg = load_stack_config(stack, project_dir) if config is None else config
    main_dir = project_dir / project.get("main", ".")
    main_file = main_dir / "__main__.py" if main_dir.is_dir() else main_dir

    def program() -> None:
        sys.modules.pop("__pulumi_main__", None)
        runpy.run_path(str(main_file), run_name="__pulumi_main__")

    return run_program(
        program,
        project=project["name"],
        stack=stack,
        config=cfg,
        on_resource=on_resource,
        account=account,
    )


def bedrock_logging_conflicts(project_dir: Path = REPO_ROOT) -> list[str]:
    """Stacks of this project that share an account (`aws:allowedAccountIds`) but do not agree on
    which ONE of them owns the account's Bedrock model-invocation logging
    (`regulated-inference:account.bedrockLoggingOwner`, unset = the stack itself).

    Bedrock keeps one logging configuration per account and region: two owners overwrite each
    other, and destroying either deletes it for both (DeleteModelInvocationLoggingConfiguration).
    A config-level check: it sees the stack files of this project only."""
    project = load_project(project_dir)["name"]
    claims: dict[tuple[str, str], dict[str, str]] = {}
    for stack in stack_names(project_dir):
        try:
            cfg = config_to_cli(project, read_stack_config(project_dir / f"Pulumi.{stack}.yaml"))
        except StackFileError:
            continue  # a malformed stack file is reported when that stack is previewed
        if f"{project}:bedrock" not in cfg:
            continue
        try:
            accounts = json.loads(cfg.get("aws:allowedAccountIds", "[]"))
            owner = json.loads(cfg.get(f"{project}:account", "{}")).get("bedrockLoggingOwner")
        except (TypeError, ValueError, AttributeError):
            continue
        region = cfg.get("aws:region", "")
        for account in accounts if isinstance(accounts, list) else [accounts]:
            claims.setdefault((str(account), region), {})[stack] = owner or stack
    problems = []
    for (account, region), owners in sorted(claims.items()):
        named = sorted(set(owners.values()))
        if len(named) > 1:
            problems.append(
                f"account {account} in {region}: stacks {sorted(owners)} name different Bedrock "
                f"logging owners {named}; set {project}:account.bedrockLoggingOwner to ONE of them "
                "in every stack of the account"
            )
    return problems
