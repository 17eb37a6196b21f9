"""How a component presents itself to the engine: its type token, and its outputs ("attribute +
camelCase registration"), each in one place.

The type token is `<package>:index:<class name>`: the component provider names every component
of the schema so (pulumi/provider/experimental/schema.py generate_schema; `provider/__main__.py`
serves the package `PACKAGE`), so a component registers under the same token in a Python
program and through Construct only if it passes `type_token(<its class name>)`.

Each output is set as the component's attribute (what a Python program reads, and what the
component provider serialises: the class's annotated attributes are its outputs) and registered
with the engine under the camelCase name the provider's schema gives it (`camel_case` of
pulumi/provider/experimental/util.py, the function the schema analyzer uses).
"""

from typing import Any

import pulumi
from pulumi.provider.experimental.util import camel_case

#: The package name: the first part of every type token.
PACKAGE = "regulated-inference"


def type_token(component: str) -> str:
    """`regulated-inference:index:<component>`, what `ComponentResource.__init__` takes as `t`."""
    return f"{PACKAGE}:index:{component}"


def publish_outputs(component: pulumi.ComponentResource, **outputs: Any) -> None:
    """`component.<name> = value` for each output, then `register_outputs({camelName: value})`."""
    for key, value in outputs.items():
        setattr(component, key, value)
    component.register_outputs({camel_case(key): value for key, value in outputs.items()})


__all__ = ["PACKAGE", "publish_outputs", "type_token"]
