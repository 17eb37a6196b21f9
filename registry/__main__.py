"""The model registry of one stack: a SageMaker model package group per SageMaker model.

Why a separate deployment unit: a model package *version* exists only after the
training pipeline's CreateModelPackage, never when its group is created. A stack
that created a group and, in the same deployment, a Model from version N of it
fails at CreateModel on an empty account. So the groups are deployed first, here;
the pipeline registers and approves versions into them; only then does the main
stack's config name a version (`modelPackageVersion`), and the main stack never
declares a group (docs/lifecycle.md "Day one").

One place per fact: this program has no stack config of its own. For registry stack
`<stack>` it reads the main project's `Pulumi.<stack>.yaml` (one directory up): the
home region, `aws:allowedAccountIds` if set, the required tags, and the SageMaker
model entries. Group names come from `regulated_inference.lib.sagemaker.package_group_name`,
the function the main stack uses to reference them, so they are equal by
construction and unique per stack (dev and prod may share an account).

No resource policy is attached: without one a group is reachable only by principals
of this account (cross-account access to the registry needs a resource policy).
Groups are protected: deleting one would orphan every registered version.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pulumi
import pulumi_aws as aws
import yaml

#: The repository root: the registry shares `regulated_inference/components/` with the main program. Added
#: explicitly, so the program imports from a venv built from requirements.txt alone.
ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from regulated_inference.lib import sagemaker as sm  # noqa: E402
from regulated_inference.lib.tagging import REQUIRED_TAG_KEYS, apply_required_tags  # noqa: E402

MAIN_PROJECT = "regulated-inference"


class RegistryConfigError(Exception):
    """One line naming the main stack file, the key and the rule."""


def main_stack_config(stack: str, root: Path = ROOT) -> dict[str, Any]:
    """The `config:` mapping of the main project's `Pulumi.<stack>.yaml`."""
    path = root / f"Pulumi.{stack}.yaml"
    if not path.is_file():
        raise RegistryConfigError(
            f"registry stack {stack!r}: {path.name} of the main project does not exist; "
            "name the registry stack after a main stack (dev, prod)"
        )
    return (yaml.safe_load(path.read_text()) or {}).get("config") or {}


def registry_models(config: dict[str, Any]) -> list[str]:
    """Names of the models that own a registry group: SageMaker entries (no `kubernetes`)
    that do not borrow another entry's group (`registryGroup`)."""
    models = config.get(f"{MAIN_PROJECT}:models") or []
    names: list[str] = []
    for i, m in enumerate(models):
        if not isinstance(m, dict) or not isinstance(m.get("name"), str):
            raise RegistryConfigError(f"{MAIN_PROJECT}:models[{i}].name: every model needs a name")
        if m.get("kubernetes") is None and m.get("registryGroup") is None:
            names.append(m["name"])
    return names


def groups_for(stack: str, config: dict[str, Any]) -> dict[str, str]:
    """Model name → physical group name, for one stack."""
    return {m: sm.package_group_name(m, stack) for m in registry_models(config)}


def build(stack: str, config: dict[str, Any]) -> dict[str, Any]:
    """Declare the groups of one stack (config checked first: nothing is declared if bad)."""
    names = groups_for(stack, config)
    region = config.get("aws:region")
    if not region:
        raise RegistryConfigError(f"Pulumi.{stack}.yaml: aws:region is not set")
    tags = dict(config.get(f"{MAIN_PROJECT}:tags") or {})
    missing = [k for k in REQUIRED_TAG_KEYS if not tags.get(k)]
    if missing:
        raise RegistryConfigError(
            f"Pulumi.{stack}.yaml: {MAIN_PROJECT}:tags lacks {', '.join(missing)}"
        )
    apply_required_tags(tags)
    provider = aws.Provider(
        "home",
        region=region,
        allowed_account_ids=config.get("aws:allowedAccountIds"),
    )
    exports: dict[str, Any] = {}
    for model, group_name in names.items():
        group = aws.sagemaker.ModelPackageGroup(
            f"{model}-registry",
            model_package_group_name=group_name,
            model_package_group_description=f"Registered versions of {model} ({stack})",
            tags={"model": model, "model-package-group": group_name},
            opts=pulumi.ResourceOptions(provider=provider, protect=True),
        )
        exports[model] = {"name": group.model_package_group_name, "arn": group.arn}
    return exports


def run() -> None:
    stack = pulumi.get_stack()
    try:
        config = main_stack_config(stack)
        pulumi.export("groups", build(stack, config))
    except RegistryConfigError as exc:
        raise pulumi.RunError(f"invalid registry config: {exc}") from None


if __name__ in ("__main__", "__pulumi_main__"):
    run()
