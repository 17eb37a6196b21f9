"""The recorded resources as a Pulumi stack export (deployment JSON, version 3).

This is the file `pulumi stack export` writes and `pulumi stack import`
reads, so a user with the CLI can load what the offline preview recorded into
a scratch stack of the same name (URNs carry the stack and project names) and
run the same pack over it with the real engine, without touching AWS:

    python -m regulated_inference.preview --stack prod --export prod-export.json
    pulumi login file://$PWD/.offline-state        # a throw-away local backend
    pulumi stack init prod --secrets-provider passphrase
    pulumi stack import --file prod-export.json
    pulumi policy analyze --policy-pack policies --policy-pack-config policies/config/prod.json

Resources are written in registration order (the stack first, every parent,
provider and dependency before the resources that use them), as the engine's
snapshot integrity check requires. URNs are written the way the engine forms
them: the parent's full type chain, the root stack's type left out.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from importlib import metadata
from typing import Any

from regulated_inference.preview.report import STACK_TYPE, jsonable
from regulated_inference.simulation.engine import Recording

DEPLOYMENT_VERSION = 3


def _cli_version() -> str:
    try:
        return "v" + metadata.version("pulumi")
    except metadata.PackageNotFoundError:  # pragma: no cover - pulumi is a hard dependency
        return "v3.0.0"


def magic(version: str) -> str:
    """The manifest's integrity cookie, as the engine computes it (sha256 of the version)."""
    return hashlib.sha256(version.encode()).hexdigest() if version else ""


def canonical_urns(recording: Recording) -> dict[str, str]:
    """Recorded URN -> the URN the engine would give the same resource.

    The engine's URN type part is the parent's qualified type chain plus the
    resource's type, leaving out `pulumi:pulumi:Stack`; the mock runtime's
    URNs keep only the parent's last type. Applying this to URNs already in the
    engine's form changes nothing.
    """
    qualified: dict[str, str] = {}
    out: dict[str, str] = {}
    by_urn = recording.by_urn()
    for res in recording.resources:  # parents are registered before children
        parent = by_urn.get(res.parent or "")
        if parent is None or parent.type == STACK_TYPE:
            qtype = res.type
        else:
            qtype = f"{qualified.get(parent.urn, parent.type)}${res.type}"
        qualified[res.urn] = qtype
        out[res.urn] = f"urn:pulumi:{recording.stack}::{recording.project}::{qtype}::{res.name}"
    return out


def _map_ref(ref: str | None, urns: dict[str, str]) -> str | None:
    if not ref:
        return None
    urn, sep, rid = ref.rpartition("::")
    if sep and urn in urns:
        return f"{urns[urn]}::{rid}"
    return ref


def to_deployment(recording: Recording, *, now: datetime | None = None) -> dict[str, Any]:
    """The untyped deployment (`{"version": 3, "deployment": {...}}`) for a recording."""
    version = _cli_version()
    urns = canonical_urns(recording)
    resources: list[dict[str, Any]] = []
    for res in recording.resources:
        entry: dict[str, Any] = {
            "urn": urns[res.urn],
            "custom": res.custom,
        }
        if res.custom and res.id:
            entry["id"] = res.id
        entry["type"] = res.type
        if res.type == STACK_TYPE:
            entry["outputs"] = jsonable(recording.stack_outputs)
        else:
            entry["inputs"] = jsonable(res.inputs)
            entry["outputs"] = jsonable(res.outputs)
        if res.parent:
            entry["parent"] = urns.get(res.parent, res.parent)
        deps = [urns.get(d, d) for d in res.dependencies]
        if deps:
            entry["dependencies"] = deps
        provider = _map_ref(res.provider, urns)
        if provider:
            entry["provider"] = provider
        pdeps = {k: [urns.get(d, d) for d in v] for k, v in res.property_dependencies.items() if v}
        if pdeps:
            entry["propertyDependencies"] = pdeps
        resources.append(entry)
    stamp = (now or datetime.now(UTC)).isoformat().replace("+00:00", "Z")
    return {
        "version": DEPLOYMENT_VERSION,
        "deployment": {
            "manifest": {"time": stamp, "magic": magic(version), "version": version},
            "resources": resources,
        },
    }


def render_export(recording: Recording) -> str:
    return json.dumps(to_deployment(recording), indent=2) + "\n"
