"""The policy pack's config for a stack, derived from the stack's own config: ONE generator.

    python -m regulated_inference.preview.policy_config            # (re)write policies/config/<stack>.json
    python -m regulated_inference.preview.policy_config --check    # exit 1 if a checked-in file is stale

`pulumi preview/up --policy-pack policies --policy-pack-config policies/config/<stack>.json`
reads the generated files; the offline preview generates the config itself for a stack that has
none. Nothing here lists the rules: the rule list, their parameters and their (secure) defaults
come from the pack's metadata (`policies.rules.ALL_RULES`, each rule's `config_schema`). The
generator only sets

- parameters whose value is a fact of the stack config (`STACK_PARAMETERS`: allowed regions,
  home region, allowed Bedrock models, the key deletion window, the stack owning the account's
  Bedrock invocation logging) — for EVERY rule that declares
  a parameter of that name, so a new rule with e.g. `allowedRegions` gets the stack's regions;
- parameters that are an environment's policy choice (`ENVIRONMENT_PARAMETERS`: retention
  floors, accepted Object Lock modes, instance families, minimum instance count);
- the enforcement level: prod makes every rule mandatory; dev makes the rules marked
  `dev_advisory` (cheap, local fixes) plus `DEV_ADVISORY` advisory.

Every other parameter keeps the rule's default.

Exemptions (`regulated-inference:exemptions`, validated by regulated_inference.config.exemptions)
travel here too: each exempted rule's entry gets its own `exemptions` list (the rule then does
not enforce the findings they waive), and the pack's exemption policies (policies/rules/
exemptions.py) get them all with the exempted rules' parameters: `exempted-findings` and
`exempted-stack-findings` report the waived findings, always advisory; `exemption-register`
reports expired, stale and malformed exemptions (mandatory in prod).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from regulated_inference.config.prod_rules import (
    PROD_AUDIT_MODES,
    PROD_INSTANCE_TYPES,
    PROD_MIN_INSTANCES,
    PROD_MIN_LOG_RETENTION_DAYS,
)
from regulated_inference.simulation.engine import (
    REPO_ROOT,
    load_project,
    load_stack_config,
    stack_names,
)

#: Rules dev runs as advisory besides those marked `dev_advisory`: they need prod-only
#: features (a Model Monitor schedule, blue/green rollout) that dev may skip.
DEV_ADVISORY = ("sagemaker-model-monitor-schedule", "sagemaker-safe-deployment")

#: Per environment: parameter name → value, for every rule that declares the parameter.
ENVIRONMENT_PARAMETERS: dict[str, dict[str, Any]] = {
    # prod: the values the config layer also enforces, stated once (config/prod_rules.py)
    "prod": {
        # Log groups and the WORM audit bucket keep ≥ 1 year (L10; regulated_inference.config floor).
        "minRetentionDays": PROD_MIN_LOG_RETENTION_DAYS,
        "allowedModes": list(PROD_AUDIT_MODES),
        "allowedInstanceTypes": list(PROD_INSTANCE_TYPES),
        "minInstances": PROD_MIN_INSTANCES,
    },
    "dev": {
        "minRetentionDays": 30,
        "allowedModes": ["COMPLIANCE", "GOVERNANCE"],
        # dev may also run the burstable families
        "allowedInstanceTypes": ["ml.t2.*", "ml.t3.*", *PROD_INSTANCE_TYPES],
        "minInstances": 1,
    },
}


def _regions(cfg: Mapping[str, Any]) -> list[str] | None:
    regions = (cfg.get("residency") or {}).get("allowedRegions")
    return sorted(set(regions)) if isinstance(regions, list) and regions else None


def _home(cfg: Mapping[str, Any]) -> str | None:
    return cfg.get("aws:region") or None


def _bedrock_models(cfg: Mapping[str, Any]) -> list[str]:
    # No Bedrock section: no foundation model is allowed (the rule's default would allow any).
    return list((cfg.get("bedrock") or {}).get("models") or [])


def _deletion_window(cfg: Mapping[str, Any]) -> int | None:
    window = (cfg.get("keys") or {}).get("deletionWindowDays")
    return window if isinstance(window, int) and not isinstance(window, bool) else None


def _bedrock_logging_owner(cfg: Mapping[str, Any]) -> str | None:
    # The stack owning the account's invocation logging (unset: this stack, the rule's default).
    owner = (cfg.get("account") or {}).get("bedrockLoggingOwner")
    return owner if isinstance(owner, str) and owner else None


#: Parameter name → how the stack config determines it (None: leave the rule's default).
STACK_PARAMETERS: dict[str, Callable[[Mapping[str, Any]], Any]] = {
    "allowedRegions": _regions,
    "homeRegion": _home,
    "allowedFoundationModels": _bedrock_models,
    "minDeletionWindowDays": _deletion_window,
    "bedrockLoggingOwner": _bedrock_logging_owner,
}


def decode(config: Mapping[str, str], project: str) -> dict[str, Any]:
    """CLI-shaped config (namespaced keys, JSON strings) → the project's keys decoded, plus aws:*."""
    out: dict[str, Any] = {}
    for key, value in config.items():
        ns, _, name = key.partition(":")
        try:
            decoded = json.loads(value)
        except (TypeError, ValueError):
            decoded = value
        if ns == project:
            out[name] = decoded
        elif ns == "aws":
            out[key] = value if name == "region" else decoded
    return out


def _exemptions(cfg: Mapping[str, Any]) -> list[dict[str, str]]:
    """The stack's exemptions as the pack carries them (entries validated by the stack config)."""
    from regulated_inference.config.exemptions import ExemptionConfig

    raw = cfg.get("exemptions") or []
    if not isinstance(raw, list):
        raise ValueError("regulated-inference:exemptions must be a list")
    return [ExemptionConfig.model_validate(e).to_pack() for e in raw]


def _rules() -> list[Any]:
    from policies.rules import ALL_RULES

    return list(ALL_RULES)


def generate(
    config: Mapping[str, str],
    project: str = "regulated-inference",
    rules: Iterable[Any] | None = None,
) -> dict[str, Any]:
    """The pack config for a stack, from its CLI-shaped config. Raises ValueError for an
    environment the generator has no choices for."""
    cfg = decode(config, project)
    env = cfg.get("environment")
    if env not in ENVIRONMENT_PARAMETERS:
        raise ValueError(
            f"{project}:environment = {env!r}: the policy config knows only "
            f"{sorted(ENVIRONMENT_PARAMETERS)}"
        )
    values = dict(ENVIRONMENT_PARAMETERS[env])
    for name, derive in STACK_PARAMETERS.items():
        value = derive(cfg)
        if value is not None:
            values[name] = value
    from policies.rules.exemptions import (
        EXEMPTED_FINDINGS,
        EXEMPTED_STACK_FINDINGS,
        EXEMPTION_REGISTER,
    )

    exemptions = _exemptions(cfg)
    by_rule: dict[str, list[dict[str, str]]] = {}
    for e in exemptions:
        by_rule.setdefault(e["rule"], []).append(e)
    rule_list = list(_rules() if rules is None else rules)
    kinds = {r.name: r.kind for r in rule_list}
    out: dict[str, Any] = {"all": "mandatory"}
    parameters: dict[str, dict[str, Any]] = {}
    for rule in rule_list:
        advisory = env == "dev" and (rule.dev_advisory or rule.name in DEV_ADVISORY)
        if rule.name in (EXEMPTED_FINDINGS, EXEMPTED_STACK_FINDINGS):
            advisory = True  # an exempted finding is reported, never enforced
        level = "advisory" if advisory else "mandatory"
        params = {k: values[k] for k in rule.config_schema if k in values}
        if rule.name in by_rule:
            parameters[rule.name] = params
            params = {**params, "exemptions": by_rule[rule.name]}
        if params:
            out[rule.name] = {"enforcementLevel": level, **params}
        elif level != out["all"]:
            out[rule.name] = level
    if exemptions:
        meta = {
            EXEMPTED_FINDINGS: [e for e in exemptions if kinds.get(e["rule"]) == "resource"],
            EXEMPTED_STACK_FINDINGS: [e for e in exemptions if kinds.get(e["rule"]) == "stack"],
            EXEMPTION_REGISTER: exemptions,
        }
        for name, entries in meta.items():
            if name not in kinds:
                continue
            level = out.get(name, out["all"])
            out[name] = {
                "enforcementLevel": level,
                "exemptions": entries,
                "ruleParameters": {e["rule"]: parameters.get(e["rule"], {}) for e in entries},
            }
    return out


def render(config: Mapping[str, Any]) -> str:
    return json.dumps(config, indent=2) + "\n"


def for_stack(stack: str, project_dir: Path = REPO_ROOT) -> dict[str, Any]:
    project = load_project(project_dir)["name"]
    return generate(load_stack_config(stack, project_dir), project)


def config_path(stack: str, pack_dir: Path | None = None) -> Path:
    return (pack_dir or REPO_ROOT / "policies") / "config" / f"{stack}.json"


def stale(project_dir: Path = REPO_ROOT, pack_dir: Path | None = None) -> list[str]:
    """Stacks whose checked-in pack config differs from what their stack file generates."""
    out = []
    for stack in stack_names(project_dir):
        path = config_path(stack, pack_dir)
        if not path.is_file() or path.read_text() != render(for_stack(stack, project_dir)):
            out.append(stack)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m regulated_inference.preview.policy_config",
        description="Generate policies/config/<stack>.json from Pulumi.<stack>.yaml.",
    )
    parser.add_argument("--check", action="store_true", help="exit 1 if a file is stale")
    args = parser.parse_args(argv)
    if args.check:
        outdated = stale()
        for stack in outdated:
            print(
                f"{config_path(stack).relative_to(REPO_ROOT)} is stale: run "
                "`python -m regulated_inference.preview.policy_config` (or `make docs`)",
                file=sys.stderr,
            )
        return 1 if outdated else 0
    for stack in stack_names():
        path = config_path(stack)
        path.write_text(render(for_stack(stack)))
        print(f"wrote {path.relative_to(REPO_ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
