"""Config sections derived from the components' own argument types: one definition per field.

A component states its nested arguments once, as a TypedDict whose fields carry docstrings (the
type crosses the component provider's boundary), with the defaults in one constant next to it
(e.g. `lib.sagemaker.Rollout` and `ROLLOUT_DEFAULTS`). The stack config must not restate them:
`derive()` builds the pydantic config section from that TypedDict — the same field names (camelCase
keys through the `ConfigModel` alias generator), the same types, the component's defaults and the
component's field docstrings as descriptions (so docs/configuration.md documents them). What only
the config knows is added where the section is declared: bounds (`fields={name: Field(ge=...)}`),
validators and prod rules, in a subclass.

`Derived.to_args()` returns the component's TypedDict: the section's values under the argument
names, no per-field mapper to keep in step. Where a config key must differ from the argument it
sets (a key users already write, e.g. `monitoring.drift.threshold` for `drift_threshold`), the
section's `derive(..., renames=...)` is the one place that says so.

Why not validate the TypedDicts with pydantic directly: on Python < 3.12 pydantic refuses
`typing.TypedDict` (it needs `typing_extensions.TypedDict`), the component provider analyses
`typing` TypedDicts, and a TypedDict cannot carry the config's rules (bounds, prod rules, the CLI's
scalar coercion of `ConfigModel`) without the component module importing pydantic.
"""

from __future__ import annotations

import ast
import dataclasses
import inspect
import textwrap
import typing
from collections.abc import Mapping
from functools import cache
from typing import Any, ClassVar

import pulumi
from pydantic import create_model
from pydantic.fields import FieldInfo

from regulated_inference.config.base import ConfigModel


@cache
def field_docstrings(cls: type) -> dict[str, str]:
    """`name → docstring` of the bare string literals that follow each annotated field."""
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(cls)))
    except (OSError, TypeError, SyntaxError):  # pragma: no cover - source always ships
        return {}
    body = tree.body[0].body if tree.body and isinstance(tree.body[0], ast.ClassDef) else []
    docs: dict[str, str] = {}
    for stmt, nxt in zip(body, body[1:], strict=False):
        if (
            isinstance(stmt, ast.AnnAssign)
            and isinstance(stmt.target, ast.Name)
            and isinstance(nxt, ast.Expr)
            and isinstance(nxt.value, ast.Constant)
            and isinstance(nxt.value.value, str)
        ):
            docs[stmt.target.id] = inspect.cleandoc(nxt.value.value)
    return docs


def _fields_of(source: type) -> dict[str, tuple[Any, Any]]:
    """`name → (type, default or ...)` of a TypedDict (defaults come separately) or dataclass."""
    # `pulumi.Input[X]` holds the forward reference "Output[T]" (pulumi/output.py `Input`), which
    # `get_type_hints` evaluates: name pulumi's Output (and its type variable) for it.
    hints = typing.get_type_hints(source, localns={"Output": pulumi.Output, "T": Any})
    if dataclasses.is_dataclass(source):
        out: dict[str, tuple[Any, Any]] = {}
        for f in dataclasses.fields(source):
            if f.default is not dataclasses.MISSING:
                default: Any = f.default
            elif f.default_factory is not dataclasses.MISSING:
                default = f.default_factory()
            else:
                default = ...
            out[f.name] = (hints[f.name], default)
        return out
    return {name: (tp, ...) for name, tp in hints.items()}


class Derived(ConfigModel):
    """A config section whose fields are a component argument type's fields."""

    __args_type__: ClassVar[type]
    __args_fields__: ClassVar[tuple[str, ...]]
    __args_names__: ClassVar[dict[str, str]] = {}
    """Config field → component argument, where they differ (`derive(renames=...)`)."""

    def to_args(self) -> Any:
        """The component's argument value: its fields' values under the argument names (unset
        optionals left out; fields a subclass adds for the config alone are not arguments)."""
        values = {
            self.__args_names__.get(name, name): _arg(getattr(self, name))
            for name in self.__args_fields__
        }
        if dataclasses.is_dataclass(self.__args_type__):
            return self.__args_type__(**values)
        return {k: v for k, v in values.items() if v is not None}


def _arg(value: Any) -> Any:
    """A nested derived section becomes its component type too (e.g. a probe of `Probes`)."""
    return value.to_args() if isinstance(value, Derived) else value


def derive(
    source: type,
    *,
    defaults: Mapping[str, Any] | None = None,
    fields: Mapping[str, FieldInfo] | None = None,
    types: Mapping[str, Any] | None = None,
    only: tuple[str, ...] | None = None,
    required: tuple[str, ...] = (),
    renames: Mapping[str, str] | None = None,
) -> type[Derived]:
    """A `Derived` config model with `source`'s fields, defaults and docstrings.

    `defaults`: the component's default constant (for a TypedDict, whose fields have none);
    `fields`: config-only constraints per field (`Field(ge=..., le=...)`, an alias, a note
    appended to the component's docstring, e.g. a prod rule), merged with the component's
    default; `types`: a field's type where the config takes another shape (a nested derived
    section for a nested TypedDict); `only`: the fields the config section takes, when it takes
    some of the arguments and assembles the rest itself; `required`: optional arguments the
    section requires (it exists to set them); `renames`: argument → config field name, for a
    config key that differs from the argument (`to_args()` maps it back). A field with neither a
    default nor NotRequired is required; a NotRequired one without a default is optional (None,
    left out of `to_args()`). Every mapping is keyed by the argument's name.
    """
    renames = dict(renames or {})
    defaults = dict(defaults or {})
    docs = field_docstrings(source)
    optional = getattr(source, "__optional_keys__", frozenset())
    definitions: dict[str, Any] = {}
    for name, (tp, default) in _fields_of(source).items():
        if only is not None and name not in only:
            continue
        tp = (types or {}).get(name, tp)
        if name in defaults:
            default = defaults[name]
        elif default is ... and name in optional and name not in required:
            default = None
            tp = tp | None
        extra = (fields or {}).get(name) or FieldInfo()
        # The component's docstring; a config-only note (e.g. a prod rule) follows it.
        description = " ".join(d for d in (docs.get(name), extra.description) if d) or None
        info = FieldInfo.merge_field_infos(extra, default=default, description=description)
        definitions[renames.get(name, name)] = (tp, info)
    # The descriptions are set above, so pydantic need not look for attribute docstrings here: with
    # `use_attribute_docstrings` on it walks the call stack for a class body to read (pydantic
    # `_internal/_docs_extraction.py`), ~0.15 s per preview for the derived models, finding none.
    # Turned back on after creation for the config models that subclass this one.
    model = create_model(  # type: ignore[call-overload]
        f"{source.__name__}Fields",
        __base__=Derived,
        __module__=__name__,
        __cls_kwargs__={"use_attribute_docstrings": False},
        **definitions,
    )
    model.model_config["use_attribute_docstrings"] = True
    model.__args_type__ = source
    model.__args_fields__ = tuple(definitions)
    model.__args_names__ = {field: arg for arg, field in renames.items()}
    return model


__all__ = ["Derived", "derive", "field_docstrings"]
