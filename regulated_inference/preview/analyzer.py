"""Drive a CrossGuard policy pack over the analyzer gRPC protocol, the way the Pulumi CLI does.

`PolicyPackServer` starts the pack like the CLI's Python language host
(`python -u -m pulumi.policy <engine> <pack dir>`, cwd = the pack), reads the
port it prints, then speaks `pulumirpc.Analyzer`:

1. `GetAnalyzerInfo` (policies, their metadata and config schemas), `GetPluginInfo`;
2. `Configure` with the `--policy-pack-config` file resolved as the CLI does
   (`"all"` key, per-policy enforcement level or object, schema defaults,
   schema validation, unknown policy names refused);
3. `ConfigureStack` (project, stack, dry run);
4. `Analyze` once per custom resource with its inputs and its provider;
5. `AnalyzeStack` once with every resource's outputs, parent, dependencies,
   property dependencies and provider.

It returns an `regulated_inference.preview.analysis.AnalysisResult`, each violation
carrying the severity, controls, frameworks and remediation of its policy
(read from the pack's own metadata: `control:`/`framework:` tags,
`remediation_steps`). One server can analyse several stacks:

    with PolicyPackServer() as pack:
        dev = pack.analyze(run_stack_program("dev"), POLICIES_DIR / "config" / "dev.json")
        prod = pack.analyze(run_stack_program("prod"), POLICIES_DIR / "config" / "prod.json")

or, for one stack, `analyze(recording, policy_config)`.
"""

from __future__ import annotations

import functools
import json
import os
import queue
import re
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import grpc
from google.protobuf import empty_pb2, json_format, struct_pb2
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc

from regulated_inference.preview.analysis import (
    ADVISORY,
    DISABLED,
    MANDATORY,
    REMEDIATE,
    AnalysisResult,
    PolicyInfo,
    PolicyViolation,
)
from regulated_inference.simulation.engine import REPO_ROOT, RecordedResource, Recording

POLICIES_DIR = REPO_ROOT / "policies"

_LEVEL_TO_PROTO = {
    ADVISORY: analyzer_pb2.ADVISORY,
    MANDATORY: analyzer_pb2.MANDATORY,
    REMEDIATE: analyzer_pb2.REMEDIATE,
    DISABLED: analyzer_pb2.DISABLED,
}
_PROTO_TO_LEVEL = {v: k for k, v in _LEVEL_TO_PROTO.items()}
_SEVERITY = {
    analyzer_pb2.POLICY_SEVERITY_LOW: "low",
    analyzer_pb2.POLICY_SEVERITY_MEDIUM: "medium",
    analyzer_pb2.POLICY_SEVERITY_HIGH: "high",
    analyzer_pb2.POLICY_SEVERITY_CRITICAL: "critical",
}
_UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
_SIG = "4dabf18193072939515e22adb298388d"

_URN_IN_MESSAGE = re.compile(r"\[(urn:pulumi:[^\]\s]+)\]")

CONTROL_TAG = "control:"
FRAMEWORK_TAG = "framework:"


class PolicyConfigError(ValueError):
    """A --policy-pack-config the CLI would refuse."""


class PolicyPackError(RuntimeError):
    """The pack did not start or failed while analysing."""


# -- config, as the CLI resolves it ----------------------------------------------------


def load_policy_config(policy_config: Path | str | Mapping[str, Any] | None) -> dict[str, Any]:
    if policy_config is None:
        return {}
    if isinstance(policy_config, Mapping):
        return dict(policy_config)
    path = Path(policy_config)
    try:
        data = json.loads(path.read_text())
    except ValueError as e:
        raise PolicyConfigError(f"{path}: not valid JSON: {e}") from e
    if not isinstance(data, dict):
        raise PolicyConfigError(f"{path}: expected a JSON object of policy name -> config")
    return data


def resolve_config(
    info: analyzer_pb2.AnalyzerInfo, raw: Mapping[str, Any]
) -> dict[str, tuple[str, dict]]:
    """policy name -> (enforcement level, properties), as `pulumi preview --policy-pack-config` resolves it."""
    policies = {p.name: p for p in info.policies}
    unknown = sorted(k for k in raw if k != "all" and k not in policies)
    if unknown:
        raise PolicyConfigError(
            f"config names policies the pack does not have: {', '.join(unknown)}"
        )
    all_level = raw.get("all")
    if isinstance(all_level, dict):
        all_level = all_level.get("enforcementLevel")
    if all_level is not None and all_level not in _LEVEL_TO_PROTO:
        raise PolicyConfigError(f'"all": unknown enforcement level {all_level!r}')
    initial = {k: json_format.MessageToDict(v) for k, v in info.initialConfig.items()}
    out: dict[str, tuple[str, dict]] = {}
    for name, p in policies.items():
        level = _PROTO_TO_LEVEL.get(p.enforcementLevel, ADVISORY)
        schema = json_format.MessageToDict(p.configSchema) if p.HasField("configSchema") else {}
        props_schema = schema.get("properties", {})
        props = {
            k: v["default"]
            for k, v in props_schema.items()
            if isinstance(v, dict) and "default" in v
        }
        props.update(initial.get(name, {}).get("properties", {}))
        if all_level is not None:
            level = all_level
        entry = raw.get(name)
        if isinstance(entry, str):
            level = entry
        elif isinstance(entry, dict):
            level = entry.get("enforcementLevel", level)
            props.update({k: v for k, v in entry.items() if k != "enforcementLevel"})
        elif entry is not None:
            raise PolicyConfigError(f"{name}: expected an enforcement level or an object")
        if level not in _LEVEL_TO_PROTO:
            raise PolicyConfigError(f"{name}: unknown enforcement level {level!r}")
        _validate(name, props, schema)
        out[name] = (level, props)
    return out


@functools.lru_cache(maxsize=512)
def _validator(schema_json: str) -> Any:
    """A checked validator per distinct schema: `jsonschema.validate` re-checks the schema against
    its metaschema on every call, which cost ~0.6 s per analysis of the prod pack (every rule
    takes at least its `exemptions` parameter). The pack's schemas do not change while the
    process runs, so each is checked once."""
    import jsonschema

    schema = json.loads(schema_json)
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def _validate(name: str, props: dict, schema: dict) -> None:
    if not schema:
        if props:
            raise PolicyConfigError(f"{name}: takes no configuration, got {sorted(props)}")
        return
    try:
        import jsonschema
    except ImportError:  # pragma: no cover - the CLI validates; jsonschema is a dev dependency here
        return
    full = {
        "type": "object",
        "properties": schema.get("properties", {}),
        "additionalProperties": False,
    }
    if schema.get("required"):
        full["required"] = list(schema["required"])
    try:
        _validator(json.dumps(full, sort_keys=True)).validate(props)
    except jsonschema.ValidationError as e:
        where = "/".join(str(x) for x in e.absolute_path)
        raise PolicyConfigError(f"{name}: {where or 'config'}: {e.message}") from e


# -- wire format ------------------------------------------------------------------------


def _wire(value: Any) -> Any:
    """A recorded property value as the engine would put it on the wire (JSON-able)."""
    import pulumi

    if value is None or isinstance(value, (bool, str, int, float)):
        return value
    if isinstance(value, Mapping):
        return {str(k): _wire(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_wire(v) for v in value]
    if isinstance(value, pulumi.FileAsset):
        return {_SIG: "c44067f5952c0a294b673a41bacd8c17", "path": str(value.path)}
    if isinstance(value, pulumi.StringAsset):
        return {_SIG: "c44067f5952c0a294b673a41bacd8c17", "text": value.text}
    if isinstance(value, pulumi.RemoteAsset):
        return {_SIG: "c44067f5952c0a294b673a41bacd8c17", "uri": value.uri}
    if isinstance(value, pulumi.Archive):
        return {_SIG: "0def7320c3a5731c473e5ecbe6d01bc7", "path": str(getattr(value, "path", ""))}
    if type(value).__name__ == "Unknown":
        return _UNKNOWN
    return str(value)


def _struct(props: Mapping[str, Any]) -> struct_pb2.Struct:
    s = struct_pb2.Struct()
    s.update(_wire(dict(props)))
    return s


def _options(r: RecordedResource) -> analyzer_pb2.AnalyzerResourceOptions:
    return analyzer_pb2.AnalyzerResourceOptions(parent=r.parent or "")


def _provider(
    r: RecordedResource, by_urn: dict[str, RecordedResource]
) -> analyzer_pb2.AnalyzerProviderResource | None:
    purn = r.provider_urn
    if not purn or purn not in by_urn:
        return None
    p = by_urn[purn]
    return analyzer_pb2.AnalyzerProviderResource(
        type=p.type, properties=_struct(p.inputs), urn=p.urn, name=p.name
    )


def _outputs(r: RecordedResource) -> dict[str, Any]:
    out = dict(r.outputs)
    if r.custom and r.id and "id" not in out:
        out["id"] = r.id  # the bridged providers return `id` among the outputs
    return out


def analyze_request(
    r: RecordedResource, by_urn: dict[str, RecordedResource]
) -> analyzer_pb2.AnalyzeRequest:
    """The engine's `Analyze` request for a custom resource: its inputs and its provider."""
    req = analyzer_pb2.AnalyzeRequest(
        type=r.type, properties=_struct(r.inputs), urn=r.urn, name=r.name, options=_options(r)
    )
    prov = _provider(r, by_urn)
    if prov is not None:
        req.provider.CopyFrom(prov)
    return req


def stack_request(
    resources: list[RecordedResource], by_urn: dict[str, RecordedResource]
) -> analyzer_pb2.AnalyzeStackRequest:
    """The engine's `AnalyzeStack` request: every resource's outputs, parent and dependencies."""
    stack_req = analyzer_pb2.AnalyzeStackRequest()
    for r in resources:
        ar = analyzer_pb2.AnalyzerResource(
            type=r.type,
            properties=_struct(_outputs(r)),
            urn=r.urn,
            name=r.name,
            options=_options(r),
            parent=r.parent or "",
            dependencies=list(r.dependencies),
        )
        prov = _provider(r, by_urn)
        if prov is not None:
            ar.provider.CopyFrom(prov)
        for key, urns in r.property_dependencies.items():
            ar.propertyDependencies[key].urns.extend(urns)
        stack_req.resources.append(ar)
    return stack_req


# -- the server -------------------------------------------------------------------------


class PolicyPackServer:
    """A started policy pack: start once, configure and analyse any number of stacks."""

    def __init__(
        self,
        pack_dir: Path = POLICIES_DIR,
        *,
        python: str | None = None,
        startup_timeout: float = 60.0,
        project: str = "regulated-inference",
        engine_address: str = "127.0.0.1:0",
        env: Mapping[str, str] | None = None,
    ):
        """`python`, `engine_address` and `env` (default: this process's environment) let a test
        start the pack exactly as the CLI does (tests/policies/test_cli_shim.py)."""
        self.pack_dir = Path(pack_dir)
        self.python = python or sys.executable
        self.engine_address = engine_address
        self.env = env
        self.startup_timeout = startup_timeout
        self.project = project
        self._proc: subprocess.Popen | None = None
        self._channel: grpc.Channel | None = None
        self.stub: analyzer_pb2_grpc.AnalyzerStub | None = None
        self._info: analyzer_pb2.AnalyzerInfo | None = None
        self.port: int | None = None
        self._stderr: list[str] = []
        self._drainer: threading.Thread | None = None
        self._lock = threading.Lock()

    # lifecycle
    def start(self) -> PolicyPackServer:
        if self._proc is not None:
            return self
        env = dict(os.environ if self.env is None else self.env)
        env.setdefault("PULUMI_PROJECT", self.project)
        env.setdefault("PULUMI_STACK", "offline")
        env.setdefault("PULUMI_DRY_RUN", "true")
        cmd = [self.python, "-u", "-m", "pulumi.policy", self.engine_address, str(self.pack_dir)]
        self._proc = subprocess.Popen(
            cmd,
            cwd=self.pack_dir,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            text=True,
        )
        self._drainer = threading.Thread(target=self._drain_stderr, daemon=True)
        self._drainer.start()
        line = self._read_port_line()
        try:
            self.port = int(line.strip())
        except ValueError as e:
            self.close()
            raise PolicyPackError(
                f"policy pack printed {line!r} instead of a port: {''.join(self._stderr)}"
            ) from e
        self._channel = grpc.insecure_channel(
            f"127.0.0.1:{self.port}",
            options=[
                ("grpc.max_receive_message_length", 400 * 1024 * 1024),
                ("grpc.max_send_message_length", 400 * 1024 * 1024),
            ],
        )
        grpc.channel_ready_future(self._channel).result(timeout=self.startup_timeout)
        self.stub = analyzer_pb2_grpc.AnalyzerStub(self._channel)
        return self

    def _drain_stderr(self) -> None:
        assert self._proc is not None and self._proc.stderr is not None
        for line in self._proc.stderr:
            self._stderr.append(line)

    def _read_port_line(self) -> str:
        assert self._proc is not None and self._proc.stdout is not None
        result: list[str] = []
        reader = threading.Thread(
            target=lambda: result.append(self._proc.stdout.readline()), daemon=True
        )
        reader.start()
        reader.join(self.startup_timeout)
        if not result or not result[0]:
            self.close()
            raise PolicyPackError(
                f"policy pack did not print a port: {''.join(self._stderr)[-4000:]}"
            )
        return result[0]

    def close(self) -> None:
        if self._channel is not None:
            self._channel.close()
            self._channel = None
        if self._proc is not None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
            for stream in (self._proc.stdout, self._proc.stderr):
                if stream is not None:
                    stream.close()
            self._proc = None

    def __enter__(self) -> PolicyPackServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # protocol
    def info(self) -> analyzer_pb2.AnalyzerInfo:
        if self._info is None:
            self._info = self._stub().GetAnalyzerInfo(empty_pb2.Empty())
        return self._info

    def pack_version(self) -> str:
        """The version the CLI reports: PulumiPolicy.yaml's `version` (the Python SDK always says 0.0.1)."""
        try:
            import yaml

            data = yaml.safe_load((self.pack_dir / "PulumiPolicy.yaml").read_text()) or {}
        except (OSError, ValueError, ImportError):
            data = {}
        version = data.get("version") if isinstance(data, dict) else None
        return str(version) if version else self.info().version

    def plugin_version(self) -> str:
        return self._stub().GetPluginInfo(empty_pb2.Empty()).version

    def configure(
        self, policy_config: Path | str | Mapping[str, Any] | None
    ) -> dict[str, tuple[str, dict]]:
        resolved = resolve_config(self.info(), load_policy_config(policy_config))
        req = analyzer_pb2.ConfigureAnalyzerRequest()
        for name, (level, props) in resolved.items():
            pc = analyzer_pb2.PolicyConfig(enforcementLevel=_LEVEL_TO_PROTO[level])
            pc.properties.update(_wire(props))
            req.policyConfig[name].CopyFrom(pc)
        self._stub().Configure(req)
        return resolved

    def _stub(self) -> analyzer_pb2_grpc.AnalyzerStub:
        if self.stub is None:
            self.start()
        assert self.stub is not None
        return self.stub

    def analyze(
        self, recording: Recording, policy_config: Path | str | Mapping[str, Any] | None = None
    ) -> AnalysisResult:
        """Configure, then Analyze every custom resource and AnalyzeStack once."""
        session = self.session(policy_config, project=recording.project, stack=recording.stack)
        try:
            return session.finish(recording)  # Analyze (pipelined) + AnalyzeStack
        finally:
            session.close()

    def session(
        self,
        policy_config: Path | str | Mapping[str, Any] | None = None,
        *,
        project: str,
        stack: str,
        background: bool = False,
    ) -> AnalysisSession:
        """Start analysing one stack: Configure and ConfigureStack now, Analyze as resources arrive.

        With `background=True`, `add` only queues the resource and a worker thread calls Analyze,
        so the pack (another process) works while the program is still registering resources:

            with server.session(config, project=p, stack=s, background=True) as session:
                recording = run_stack_program(s, on_resource=session.add)
                result = session.finish(recording)
        """
        return AnalysisSession(
            self, policy_config, project=project, stack=stack, background=background
        )


#: Analyze requests in flight at once (the pack's gRPC server runs 4 worker threads).
PIPELINE_DEPTH = 4


class AnalysisSession:
    """One stack's analysis over a started pack (holds the server until finished or closed)."""

    def __init__(
        self,
        server: PolicyPackServer,
        policy_config: Path | str | Mapping[str, Any] | None,
        *,
        project: str,
        stack: str,
        background: bool,
    ):
        self.server = server
        self._queue: queue.Queue[RecordedResource | None] | None = None
        self._worker: threading.Thread | None = None
        self._errors: list[BaseException] = []
        server._lock.acquire()  # Configure + Analyze must not interleave with another stack's
        self._locked = True
        try:
            self.start = time.perf_counter()
            self.info = server.info()
            self.resolved = server.configure(policy_config)
            self.stub = server._stub()
            try:
                self.stub.ConfigureStack(
                    analyzer_pb2.AnalyzerStackConfigureRequest(
                        stack=stack, project=project, organization="organization", dry_run=True
                    )
                )
            except grpc.RpcError:  # older SDKs do not implement it; the CLI tolerates that too
                pass
        except BaseException:
            self.close()
            raise
        self.meta = {p.name: _policy_meta(p) for p in self.info.policies}
        self.by_urn: dict[str, RecordedResource] = {}
        self.analyzed: set[str] = set()
        self.violations: list[PolicyViolation] = []
        if background:
            self._queue = queue.Queue()
            self._worker = threading.Thread(target=self._work, name="policy-analyze", daemon=True)
            self._worker.start()

    # resources as they are registered
    def add(self, r: RecordedResource) -> None:
        """Analyze one resource (now, or on the worker thread with `background=True`)."""
        if self._queue is not None:
            self._queue.put(r)
        else:
            self._analyze_one(r)

    def _work(self) -> None:
        assert self._queue is not None
        while True:
            r = self._queue.get()
            if r is None:
                return
            if self._errors:
                continue  # drain after a failure; finish() re-raises it
            try:
                self._analyze_one(r)
            except BaseException as exc:  # noqa: BLE001 - re-raised by finish()
                self._errors.append(exc)

    def _analyze_one(self, r: RecordedResource) -> None:
        self.by_urn[r.urn] = r
        if not r.custom or r.urn in self.analyzed:
            return
        self._collect(r, self._call(self.stub.Analyze, self._request(r)))

    def _request(self, r: RecordedResource) -> Any:
        return analyze_request(r, self.by_urn)

    def _collect(self, r: RecordedResource, resp: Any) -> None:
        self.analyzed.add(r.urn)
        self.violations.extend(
            _violation(d, r.urn, self.by_urn, self.meta) for d in resp.diagnostics
        )

    def _analyze_pipelined(
        self, resources: list[RecordedResource], meanwhile: Callable[[], Any] = lambda: None
    ) -> Any:
        """Analyze many resources with requests in flight while the pack works on earlier ones.

        Building a request (here) and evaluating it (in the pack's process) overlap, as
        they do when the engine analyses a deployment's steps concurrently; so does
        `meanwhile()` (its result is returned), called once every request is sent. Results
        are collected in order, so the outcome is the same as one call at a time.
        """
        todo = [r for r in resources if r.custom and r.urn not in self.analyzed]
        with ThreadPoolExecutor(max_workers=PIPELINE_DEPTH) as pool:
            calls = [pool.submit(self._call, self.stub.Analyze, self._request(r)) for r in todo]
            extra = meanwhile()
            for r, call in zip(todo, calls, strict=True):
                self._collect(r, call.result())
        return extra

    def _call(self, method: Any, request: Any) -> Any:
        try:
            return method(request)
        except grpc.RpcError as e:
            raise PolicyPackError(
                f"policy pack failed: {e.details()}\n{''.join(self.server._stderr)[-4000:]}"
            ) from e

    def finish(self, recording: Recording) -> AnalysisResult:
        """Analyze what was not streamed, then AnalyzeStack with every resource's outputs."""
        self._stop_worker()
        if self._errors:
            raise self._errors[0]
        for r in recording.resources:
            self.by_urn[r.urn] = r
        # the stack request is built while the pack answers the last Analyze calls
        stack = self._analyze_pipelined(
            recording.resources, lambda: stack_request(recording.resources, self.by_urn)
        )
        resp = self._call(self.stub.AnalyzeStack, stack)
        self.violations.extend(
            _violation(d, None, self.by_urn, self.meta) for d in resp.diagnostics
        )
        policies = [
            PolicyInfo(
                name=p.name,
                description=p.description,
                enforcement=self.resolved[p.name][0],
                severity=self.meta[p.name]["severity"],
                controls=self.meta[p.name]["controls"],
                frameworks=self.meta[p.name]["frameworks"],
                remediation=self.meta[p.name]["remediation"],
            )
            for p in self.info.policies
        ]
        result = AnalysisResult(
            pack_name=self.info.name,
            pack_version=self.server.pack_version(),
            policies=policies,
            violations=self.violations,
            resources_analyzed=len(self.analyzed),
            seconds=time.perf_counter() - self.start,
        )
        self.close()
        return result

    def _stop_worker(self) -> None:
        if self._worker is not None and self._queue is not None:
            self._queue.put(None)
            self._worker.join()
            self._worker = None

    def close(self) -> None:
        """Release the server (idempotent); a session that was not finished analyses nothing more."""
        self._stop_worker()
        if self._locked:
            self._locked = False
            self.server._lock.release()

    def __enter__(self) -> AnalysisSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _policy_meta(p: analyzer_pb2.PolicyInfo) -> dict[str, Any]:
    return {
        "description": p.description,
        "severity": _SEVERITY.get(p.severity, ""),
        "controls": tuple(t[len(CONTROL_TAG) :] for t in p.tags if t.startswith(CONTROL_TAG)),
        "frameworks": tuple(t[len(FRAMEWORK_TAG) :] for t in p.tags if t.startswith(FRAMEWORK_TAG)),
        "remediation": p.remediation_steps,
    }


def _violation(
    d: analyzer_pb2.AnalyzeDiagnostic,
    default_urn: str | None,
    by_urn: dict[str, RecordedResource],
    meta: dict[str, dict[str, Any]],
) -> PolicyViolation:
    urn = d.urn or default_urn
    message = d.message
    if urn is None:
        # a stack policy's "cannot verify" advisory carries no URN field; ours name it as "[urn]"
        named = set(_URN_IN_MESSAGE.findall(message))
        if len(named) == 1 and next(iter(named)) in by_urn:
            urn = next(iter(named))
    if d.description and message.startswith(d.description + "\n"):
        message = message[len(d.description) + 1 :]
    r = by_urn.get(urn) if urn else None
    m = meta.get(d.policyName, {})
    return PolicyViolation(
        policy=d.policyName,
        enforcement=_PROTO_TO_LEVEL.get(d.enforcementLevel, ADVISORY),
        message=message,
        urn=urn,
        resource_type=r.type if r else None,
        resource_name=r.name if r else None,
        severity=m.get("severity", ""),
        controls=m.get("controls", ()),
        frameworks=m.get("frameworks", ()),
        remediation=m.get("remediation", ""),
    )


def analyze(
    recording: Recording,
    policy_config: Path | str | Mapping[str, Any] | None = None,
    *,
    pack_dir: Path = POLICIES_DIR,
) -> AnalysisResult:
    """Start the pack, analyse one recorded stack, stop the pack."""
    with PolicyPackServer(pack_dir) as server:
        return server.analyze(recording, policy_config)


def _main(argv: list[str] | None = None) -> int:
    """`python -m regulated_inference.preview.analyzer --stack prod --runs 7`: time the pack on a stack."""
    import argparse
    import statistics

    from regulated_inference.simulation.engine import run_stack_program

    parser = argparse.ArgumentParser(description="Time the policy pack's full analysis of a stack.")
    parser.add_argument("--stack", default="prod")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument(
        "--config", type=Path, default=None, help="default: policies/config/<stack>.json"
    )
    args = parser.parse_args(argv)
    config = args.config or POLICIES_DIR / "config" / f"{args.stack}.json"
    start = time.perf_counter()
    recording = run_stack_program(args.stack)
    program_seconds = time.perf_counter() - start
    times: list[float] = []
    with PolicyPackServer() as server:
        for _ in range(args.runs):
            result = server.analyze(recording, config)
            times.append(result.seconds)
    print(
        f"stack {args.stack}: {len(recording.resources)} resources ({result.resources_analyzed} analysed), "
        f"{len(result.policies)} policies; program {program_seconds:.2f}s; analysis over {args.runs} runs: "
        f"median {statistics.median(times):.3f}s, min {min(times):.3f}s, max {max(times):.3f}s; "
        f"{len(result.mandatory)} mandatory, {len(result.advisory)} advisory violations"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(_main())
