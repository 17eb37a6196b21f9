"""The base of every stack-config model: camelCase keys, unknown keys refused."""

from __future__ import annotations

import types
import typing
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, ConfigDict, model_validator
from pydantic.alias_generators import to_camel

from regulated_inference.config.errors import RuleViolation
from regulated_inference.lib import aws as aws_facts


def _strip_optional(annotation: Any) -> Any:
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return annotation


def _kind(annotation: Any) -> tuple[str, str] | None:
    """(container, scalar) for fields whose scalars the CLI may write as another JSON type:
    container is "", "dict" (values) or "list" (items); scalar is "text" or "number"."""
    annotation = _strip_optional(annotation)
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if annotation is str:
        return "", "text"
    if annotation in (int, float):
        return "", "number"
    if origin is dict and len(args) == 2 and args[0] is str:
        value = _strip_optional(args[1])
        if value is str:
            return "dict", "text"
        if value in (int, float):
            return "dict", "number"
    if origin is list and args and _strip_optional(args[0]) is str:
        return "list", "text"
    return None


def _scalar(path: str, value: Any, scalar: str) -> Any:
    if scalar == "number" and isinstance(value, bool):
        raise RuleViolation(path, value, "must be a number, not true/false")
    # `pulumi config set --path` stores "true"/"false" as booleans and whole numbers without a
    # leading zero as JSON integers (pulumi/pulumi sdk/go/common/resource/config/value.go
    # `coerce`): a text field gets back the text that was typed.
    if scalar == "text" and isinstance(value, bool):
        return "true" if value else "false"
    if scalar == "text" and isinstance(value, int):
        return str(value)
    return value


def checked(check: Callable[[Any], object]) -> Callable[[Any], Any]:
    """A field validator from a `lib` check that raises ValueError: the value (None passes, for
    an optional field), or the check's message as a RuleViolation on that value."""

    def validate(value: Any) -> Any:
        if value is None:
            return value
        try:
            check(value)
        except ValueError as exc:
            raise RuleViolation("", value, str(exc)) from None
        return value

    return validate


#: Images: a private ECR image pinned by digest (`lib.aws.parse_ecr_image`; its message names
#: K7 and R7), or unset.
ecr_image = checked(aws_facts.parse_ecr_image)


class ConfigModel(BaseModel):
    """Config section: keys are camelCase in YAML (`pulumi config set --path` friendly),
    snake_case in Python; a misspelt key is an error, not a silent default.

    Numbers must be finite (NaN and ±infinity are refused everywhere: NaN compares
    false with every threshold) and never booleans; a text field accepts the
    number or boolean the CLI writes for digits or true/false (`--path ... 4` stores 4).
    """

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="forbid",
        frozen=True,
        str_strip_whitespace=True,
        allow_inf_nan=False,
        # Field docstrings become descriptions: the configuration reference is generated from them.
        use_attribute_docstrings=True,
    )

    @model_validator(mode="before")
    @classmethod
    def _cli_scalars(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        out = dict(data)
        for name, field in cls.model_fields.items():
            key = field.alias or name
            if key not in out:
                continue
            kind = _kind(field.annotation)
            if kind is None:
                continue
            container, scalar = kind
            value = out[key]
            if container == "" and not isinstance(value, (dict, list)):
                out[key] = _scalar(key, value, scalar)
            elif container == "dict" and isinstance(value, dict):
                out[key] = {k: _scalar(f"{key}.{k}", v, scalar) for k, v in value.items()}
            elif container == "list" and isinstance(value, list):
                out[key] = [_scalar(f"{key}[{i}]", v, scalar) for i, v in enumerate(value)]
        return out
