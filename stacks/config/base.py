"""The base of every stack-config model: camelCase keys, unknown keys refused."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel


class ConfigModel(BaseModel):
    """Config section: keys are camelCase in YAML (`pulumi config set --path` friendly),
    snake_case in Python; a misspelt key is an error, not a silent default."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="forbid",
        frozen=True,
        str_strip_whitespace=True,
        # Field docstrings become descriptions: the configuration reference is generated from them.
        use_attribute_docstrings=True,
    )
