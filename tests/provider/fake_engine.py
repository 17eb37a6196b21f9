"""The engine side of a component provider's Construct, as gRPC servers in the test process.

During `Construct` a component provider is a program: it registers the component and its
children with the engine's resource monitor at `ConstructRequest.monitorEndpoint`
(pulumi/provider/server.py `_construct` resets the SDK's settings to that address), and may log
to the engine at the address it was started with. So the harness serves both:

- `ResourceMonitor` (pulumi/proto/resource.proto), answered by `regulated_inference.simulation.engine`'s
  `RecordingMonitor` — the same recording monitor and simulated AWS (`SimulatedAws.new_resource`
  / `.call`) the offline preview runs programs against: engine URNs with the parent type chain,
  a default provider per package from config, ids and outputs in each service's own format.
- `Engine` (pulumi/proto/engine.proto): `Log` is recorded; the root-resource calls are answered.

Only the URN is made from this fake's project and stack instead of the SDK's global settings:
here the program runs in another process, and the test process's settings belong to other tests.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import grpc
from google.protobuf import empty_pb2
from pulumi.runtime.proto import (
    engine_pb2,
    engine_pb2_grpc,
    resource_pb2,
    resource_pb2_grpc,
)

from regulated_inference.simulation.engine import Recording, RecordingMonitor
from regulated_inference.simulation.simulated_aws import SimulatedAws


class _Monitor(RecordingMonitor):
    """`RecordingMonitor` with the URN's project and stack of this deployment."""

    def __init__(self, project: str, stack: str, region: str, config: dict[str, str]):
        super().__init__(SimulatedAws(project=project, stack=stack, region=region), config)
        self.project, self.stack = project, stack

    def make_urn(self, parent: str, type_: str, name: str) -> str:
        # The engine's URN (type chain) as RecordingMonitor makes it, with this deployment's
        # stack and project in place of the SDK settings' (`urn:pulumi:<stack>::<project>::...`).
        _, _, type_and_name = super().make_urn(parent, type_, name).split("::", 2)
        return f"urn:pulumi:{self.stack}::{self.project}::{type_and_name}"

    def recording(self) -> Recording:
        return Recording(
            project=self.project,
            stack=self.stack,
            config=dict(self.config),
            resources=list(self.records.values()),
            stack_outputs={},
        )


def _forward(method: str):
    """A servicer method answered by the same method of the current monitor."""

    def rpc(self, request, context):
        return self._call(method, request)

    rpc.__name__ = method
    return rpc


class _ResourceMonitor(resource_pb2_grpc.ResourceMonitorServicer):
    """gRPC front of the current `_Monitor`; one call at a time, as the recording is not shared-safe."""

    def __init__(self, engine: FakeEngine):
        self._engine = engine

    def _call(self, method: str, request):
        with self._engine.lock:
            return getattr(self._engine.monitor, method)(request)

    def SupportsFeature(self, request, context):
        # MockMonitor answers with a plain object; the wire needs the message.
        has = self._call("SupportsFeature", request).hasSupport
        return resource_pb2.SupportsFeatureResponse(hasSupport=has)

    GetDeploymentInfo = _forward("GetDeploymentInfo")
    RegisterResource = _forward("RegisterResource")
    RegisterResourceOutputs = _forward("RegisterResourceOutputs")
    Invoke = _forward("Invoke")
    ReadResource = _forward("ReadResource")
    RegisterStackTransform = _forward("RegisterStackTransform")
    RegisterPackage = _forward("RegisterPackage")

    def SignalAndWaitForShutdown(self, request, context):
        return empty_pb2.Empty()


class _Engine(engine_pb2_grpc.EngineServicer):
    def __init__(self, engine: FakeEngine):
        self._engine = engine

    def Log(self, request, context):
        self._engine.logs.append((request.severity, request.message))
        return empty_pb2.Empty()

    def GetRootResource(self, request, context):
        return engine_pb2.GetRootResourceResponse(urn=self._engine.stack_urn)

    def SetRootResource(self, request, context):
        return engine_pb2.SetRootResourceResponse()


@dataclass
class FakeEngine:
    """Engine and resource monitor on one local port; `deployment()` starts a fresh recording."""

    project: str
    stack: str
    region: str
    address: str = ""
    logs: list[tuple[int, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    monitor: _Monitor | None = None
    _server: grpc.Server | None = None

    @property
    def stack_urn(self) -> str:
        return f"urn:pulumi:{self.stack}::{self.project}::pulumi:pulumi:Stack::{self.project}-{self.stack}"

    @property
    def config(self) -> dict[str, str]:
        return {"aws:region": self.region}

    def start(self) -> FakeEngine:
        self._server = grpc.server(ThreadPoolExecutor(max_workers=4))
        resource_pb2_grpc.add_ResourceMonitorServicer_to_server(
            _ResourceMonitor(self), self._server
        )
        engine_pb2_grpc.add_EngineServicer_to_server(_Engine(self), self._server)
        port = self._server.add_insecure_port("127.0.0.1:0")
        self._server.start()
        self.address = f"127.0.0.1:{port}"
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop(grace=None)

    def deployment(self) -> _Monitor:
        """A fresh monitor (and recording) for the next Construct, with the stack registered."""
        with self.lock:
            self.monitor = _Monitor(self.project, self.stack, self.region, self.config)
            self.logs.clear()
            self.monitor.RegisterResource(
                resource_pb2.RegisterResourceRequest(
                    type="pulumi:pulumi:Stack", name=f"{self.project}-{self.stack}"
                )
            )
        return self.monitor
