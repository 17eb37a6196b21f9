"""How a component publishes its outputs: one place for "attribute + camelCase registration".

Each output is set as the component's attribute (what a Python program reads, and what the
component provider serialises: the class's annotated attributes are its outputs) and registered
with the engine under the camelCase name the provider's schema gives it (`camel_case` of
pulumi/provider/experimental/util.py, the function the schema analyzer uses).
"""

from typing import Any

import pulumi
from pulumi.provider.experimental.util import camel_case


def publish_outputs(component: pulumi.ComponentResource, **outputs: Any) -> None:
    """`component.<name> = value` for each output, then `register_outputs({camelName: value})`."""
    for key, value in outputs.items():
        setattr(component, key, value)
    component.register_outputs({camel_case(key): value for key, value in outputs.items()})


__all__ = ["publish_outputs"]
