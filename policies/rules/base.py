"""The rule model: metadata as data, checks as small pure functions over plain dicts.

A `Rule` pairs metadata (name, severity, controls, remediation, config schema; the framework
clauses are derived from the controls) with a check:

- a resource rule's check is `check(res: Res, cfg: dict) -> Iterable[Finding | str]`,
  called once per resource of one of `rule.types` (inputs, camelCase, as the
  engine sends them to `Analyze`);
- a stack rule's check is `check(stack: StackIndex, cfg: dict) -> Iterable[Finding]`,
  called once per stack with every resource's outputs (`AnalyzeStack`).

Values the engine does not know yet (preview) arrive as the `UNKNOWN` marker.
A check that needs such a value yields `cannot_verify(path)`: the pack then
reports an advisory "cannot verify until apply" instead of passing silently.
Presence checks use `has()`, which counts an unknown value as present — a
value is never read just to see whether it is set.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

#: The engine's sentinels for values not known during preview (pulumi_policy.proxy).
UNKNOWN_SENTINELS = frozenset(
    {
        "1c4a061d-8072-4f0a-a4cb-0ff528b18fe7",
        "3eeb2bf0-c639-47a8-9e75-3b44932eb421",
        "04da6b54-80e4-46f7-96ec-b56ff0331ba9",
        "6a19a0b0-7e62-4c92-b797-7f8e31da9cc2",
        "030794c1-ac77-496b-92df-f27374a8bd58",
        "e48ece36-62e2-4504-bad9-02848725956a",
        "dd056dcd-154b-4c76-9bd3-c8f88648b5ff",
    }
)


class UnknownValueUsed(TypeError):
    """A check used an unknown value as if it were known (truth test, iteration, comparison)."""


class _Unknown:
    """A value the engine will only know after apply.

    Using it as a known value raises `UnknownValueUsed`, which `Rule.evaluate` turns into a
    "cannot verify until apply" finding: a check that forgot an `is_unknown` test can neither
    crash the pack nor pass silently.
    """

    _instance: _Unknown | None = None

    def __new__(cls) -> _Unknown:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "<unknown>"

    def _used(self, *_: Any) -> Any:
        raise UnknownValueUsed("an unknown value has no truth value, length, items or order")

    __bool__ = __len__ = __iter__ = __contains__ = __getitem__ = _used
    __lt__ = __le__ = __gt__ = __ge__ = _used


UNKNOWN = _Unknown()

SEVERITIES = ("low", "medium", "high", "critical")


def is_unknown(value: Any) -> bool:
    return value is UNKNOWN


def plain(value: Any) -> Any:
    """Unwrap pulumi_policy's proxies into plain dicts/lists; map unknown sentinels to UNKNOWN."""
    kind = _KINDS.get(type(value)) or _kind(type(value))
    if kind == _PROXY:
        value = value["__target"]
        kind = _KINDS.get(type(value)) or _kind(type(value))
        if kind == _PROXY:  # a proxy around a proxy (pulumi_policy builds none): a container
            kind = _MAPPING if isinstance(value, Mapping) else _LIST
    if kind == _STR:
        return UNKNOWN if value in UNKNOWN_SENTINELS else value
    if kind == _FLOAT:
        return int(value) if value.is_integer() else value  # protobuf Struct: every number a double
    if kind == _DICT:
        return {k: plain(v) for k, v in value.items()}
    if (
        kind == _DICT_SUBCLASS
    ):  # read the raw dict: a proxy's Mapping.__getitem__ raises on unknowns
        return {k: plain(dict.__getitem__(value, k)) for k in value}
    if kind == _MAPPING:
        return {k: plain(value[k]) for k in value}
    if kind == _LIST:
        return [plain(v) for v in list(value)]
    return value  # UNKNOWN, None, bool, int, anything else


#: What `plain` does with a value depends on its type only; each type is classified once.
_PROXY, _STR, _FLOAT, _DICT, _DICT_SUBCLASS, _MAPPING, _LIST, _OTHER = range(1, 9)
_KINDS: dict[type, int] = {}
_PROXY_TYPES = ("_DictProxy", "_ListProxy", "_DictSecretsProxy", "_ListSecretsProxy")
_LIST_PROXY_TYPES = ("_ListProxy", "_ListSecretsProxy")


def _kind(t: type) -> int:
    if t.__name__ in _PROXY_TYPES:
        kind = _PROXY
    elif issubclass(t, str):
        kind = _STR
    elif issubclass(t, float):
        kind = _FLOAT
    elif t is dict:
        kind = _DICT
    elif issubclass(t, dict):
        kind = _DICT_SUBCLASS
    elif issubclass(t, Mapping):
        kind = _MAPPING
    elif issubclass(t, (list, tuple)) or t.__name__ in _LIST_PROXY_TYPES:
        kind = _LIST
    else:
        kind = _OTHER
    _KINDS[t] = kind
    return kind


def get(obj: Any, path: str, default: Any = None) -> Any:
    """Read `a.b.0.c` from nested dicts/lists; UNKNOWN if any step is unknown; `default` if absent."""
    cur = obj
    for part in path.split(".") if path else ():
        if cur is UNKNOWN:
            return UNKNOWN
        if isinstance(cur, Mapping):
            if part not in cur or cur[part] is None:
                return default
            cur = cur[part]
        elif isinstance(cur, list):
            try:
                cur = cur[int(part)]
            except (ValueError, IndexError):
                return default
        else:
            return default
    return cur


def has(obj: Any, path: str) -> bool:
    """True if the property is set — an unknown value counts as set (it will be, after apply)."""
    value = get(obj, path)
    if value is UNKNOWN:
        return True
    return value not in (None, "", [], {})


def as_list(value: Any) -> list:
    if value is None:
        return []
    if isinstance(value, list):
        return value
    return [value]


def parse_json(value: Any) -> Any:
    """A policy document arrives as a JSON string or an object; UNKNOWN stays UNKNOWN."""
    if value is UNKNOWN or value is None:
        return value
    if isinstance(value, str):
        try:
            return plain(json.loads(value))
        except ValueError:
            return None
    return value


def string_list(description: str, default: list[str]) -> dict[str, Any]:
    """A rule parameter's JSON Schema (`Rule.config_schema` entry): a list of strings."""
    return {
        "type": "array",
        "items": {"type": "string"},
        "description": description,
        "default": default,
    }


@dataclass(frozen=True)
class Finding:
    """One thing a rule found: a violation, or (unknown=True) a value it could not check yet."""

    message: str
    urn: str | None = None
    unknown: bool = False


def cannot_verify(path: str, urn: str | None = None, what: str = "") -> Finding:
    detail = f" ({what})" if what else ""
    return Finding(
        f"cannot verify until apply: {path} is unknown during preview{detail}", urn, True
    )


@dataclass(frozen=True)
class Res:
    """A resource as a rule sees it: plain data only."""

    type: str
    name: str
    urn: str
    props: dict[str, Any]
    provider_type: str | None = None
    provider: dict[str, Any] | None = None  # the provider resource's inputs
    parent: str | None = None
    dependencies: tuple[str, ...] = ()
    property_dependencies: dict[str, list[str]] = field(default_factory=dict)
    provider_urn: str | None = None

    @property
    def is_aws(self) -> bool:
        return self.type.startswith("aws:")


ResourceCheck = Callable[[Res, dict], Iterable["Finding | str"]]
StackCheck = Callable[[Any, dict], Iterable["Finding | str"]]


@dataclass(frozen=True)
class Rule:
    """One policy of the pack: metadata plus a pure check."""

    name: str
    description: str
    severity: str
    controls: tuple[str, ...]
    remediation: str
    check: Callable[..., Iterable[Finding | str]]
    kind: str = "resource"  # "resource" | "stack"
    types: tuple[
        str, ...
    ] = ()  # resource rules: the tokens it applies to; () = all; "aws:*" prefix form allowed
    config_schema: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: True when the fix is cheap and local: dev runs the rule as advisory.
    dev_advisory: bool = False

    @property
    def frameworks(self) -> tuple[str, ...]:
        """The framework clauses this rule evidences: derived from its controls (one table,
        `frameworks.CONTROL_CLAUSES`)."""
        from .frameworks import clauses_for

        return clauses_for(self.controls)

    @property
    def exemptable_in_prod(self) -> bool:
        """False for rules of controls an exemption may not waive in prod (residency, audit-trail
        integrity, the exemption register): `frameworks.NOT_EXEMPTABLE_IN_PROD`."""
        from .frameworks import exemptable_in_prod

        return exemptable_in_prod(self.controls)

    def applies_to(self, type_token: str) -> bool:
        if not self.types:
            return True
        for t in self.types:
            if t == type_token or (t.endswith("*") and type_token.startswith(t[:-1])):
                return True
        return False

    def defaults(self) -> dict[str, Any]:
        return {k: v["default"] for k, v in self.config_schema.items() if "default" in v}

    def evaluate(self, subject: Any, cfg: Mapping[str, Any] | None = None) -> list[Finding]:
        """Run the check with defaults merged under `cfg`; findings as `Finding`s."""
        if self.kind == "resource" and isinstance(subject, Res):
            subject = normalized(subject)
        return self.evaluate_plain(subject, cfg)

    def evaluate_plain(self, subject: Any, cfg: Mapping[str, Any] | None = None) -> list[Finding]:
        """`evaluate` of a subject that is plain data already (a `normalized` resource, a
        `StackIndex`): the pack converts a resource once per request for all its rules."""
        merged = self.defaults()
        merged.update({k: plain(v) for k, v in (cfg or {}).items() if k != "enforcementLevel"})
        out: list[Finding] = []
        try:
            for f in self.check(subject, merged) or ():
                out.append(f if isinstance(f, Finding) else Finding(str(f)))
        except UnknownValueUsed:
            urn = subject.urn if isinstance(subject, Res) else None
            out.append(
                Finding(
                    "cannot verify until apply: a value this rule reads is unknown during preview",
                    urn,
                    True,
                )
            )
        return out


def normalized(res: Res) -> Res:
    """`res` with its properties and provider inputs as plain data (`plain`); only read by rules."""
    return Res(
        type=res.type,
        name=res.name,
        urn=res.urn,
        props=plain(res.props),
        provider_type=res.provider_type,
        provider=plain(res.provider) if res.provider is not None else None,
        parent=res.parent,
        dependencies=res.dependencies,
        property_dependencies=res.property_dependencies,
        provider_urn=res.provider_urn,
    )


def res(
    type_: str, props: dict | None = None, name: str = "r", urn: str | None = None, **kw: Any
) -> Res:
    """Build a `Res` (used by tests and by the stack index)."""
    return Res(
        type=type_,
        name=name,
        urn=urn or f"urn:pulumi:test::proj::{type_}::{name}",
        props=props or {},
        **kw,
    )


def rule(**kw: Any) -> Callable[[Callable], Rule]:
    """Decorator: `@rule(name=..., ...)` turns a check function into a `Rule`."""

    def wrap(fn: Callable) -> Rule:
        description = kw.pop("description", None) or (fn.__doc__ or "").strip().splitlines()[0]
        controls = tuple(kw.pop("controls"))
        # Clauses are derived from the controls (frameworks.CONTROL_CLAUSES), one table; a rule
        # that names clauses itself would make a second home for them.
        if "frameworks" in kw:
            raise TypeError(f"{fn.__name__}: rules list controls only, not frameworks=")
        types = kw.pop("types", ())
        if isinstance(types, str):
            types = (types,)
        r = Rule(
            description=description,
            controls=controls,
            types=tuple(types),
            check=fn,
            **kw,
        )
        assert r.severity in SEVERITIES, r.severity
        return r

    return wrap
