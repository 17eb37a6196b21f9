"""Errors raised when a component is given arguments it must refuse."""

from __future__ import annotations

from typing import Any


class ComponentArgsError(ValueError):
    """Invalid component arguments, raised before any child resource is registered.

    The message names the component, the argument, the offending value and the rule.
    """

    def __init__(self, component: str, arg: str, value: Any, rule: str):
        self.component, self.arg, self.value, self.rule = component, arg, value, rule
        super().__init__(f"{component}: invalid argument {arg} = {value!r}: {rule}")
