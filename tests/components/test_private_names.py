"""Step methods and step state of our components never shadow Pulumi's own private attributes.

`pulumi.Resource.__init__` keeps its state in private attributes (`_name`, `_type`, `_version`,
`_protect`, `_providers`, ...; pulumi/resource.py). A component method or attribute with one of
those names is silently replaced by Pulumi's value (or replaces it), e.g. a step method
`_version` becomes the resource's version string and calling it fails.
"""

import pulumi

from tests.components.helpers import package_components
from tests.conftest import run_component


def _components() -> list[type[pulumi.ComponentResource]]:
    return list(package_components().values())


def _pulumi_private_names() -> set[str]:
    seen: list[set[str]] = []

    def program():
        bare = pulumi.ComponentResource("regulated-inference:index:Probe", "probe")
        seen.append({k for k in vars(bare) if k.startswith("_")})

    run_component(program)
    # ... and the private methods of the classes themselves (e.g. Resource._get_providers).
    methods = {
        n for n in dir(pulumi.ComponentResource) if n.startswith("_") and not n.startswith("__")
    }
    return seen[0] | methods


def test_the_probe_sees_pulumis_private_state():
    assert {"_name", "_type", "_providers", "_protect", "_get_providers"} <= (
        _pulumi_private_names()
    )


def test_no_component_reuses_a_pulumi_private_name():
    private = _pulumi_private_names()
    clashes = {
        f"{cls.__name__}.{attr}" for cls in _components() for attr in vars(cls) if attr in private
    }
    assert clashes == set()
    assert len(_components()) == 14


def test_the_managed_inference_steps_would_have_clashed_before():
    # The name this guards against in practice: `_version` is Pulumi's (set to None or the
    # package version), so a step method of that name was replaced at construction.
    assert "_version" in _pulumi_private_names()
