"""The regulated-inference component provider: our components for every Pulumi language.

The CLI starts this as a source-based plugin (see PulumiPlugin.yaml): `python provider/
<engine address>`. `component_provider_host` (pulumi/pulumi:
sdk/python/lib/pulumi/provider/experimental/host.py) infers the package schema from each
component's type annotations (analyzer.py: the `args: <TypedDict>` of `__init__` gives the
inputs, the class's annotated attributes the outputs, docstrings the descriptions), then serves
GetSchema and Construct over gRPC (pulumi/provider/server.py), printing its port on stdout.

Type tokens are `<name>:index:<class name>` (experimental/schema.py generate_schema), so `name`
below must be the prefix each component passes to `ComponentResource.__init__`, and the class
names must be unique across the package. Construct hands a component a plain dict of
snake_case args (experimental/component.py map_inputs): nested args must be TypedDicts,
not dataclasses, and annotations must be real types, not PEP 563 strings (the analyzer reads
`inspect.get_annotations` without evaluating them).

Every component of the package is listed: the analyzer accepts it, Construct can build it and
every input and output is documented (tests/provider checks all three).
"""

from importlib.metadata import version

from pulumi.provider.experimental import component_provider_host

from regulated_inference.components.alert_topic import AlertTopic
from regulated_inference.components.audit_monitoring import AuditEvidenceAlarms
from regulated_inference.components.audit_trail import AuditTrail
from regulated_inference.components.bedrock_access import BedrockAccess
from regulated_inference.components.bedrock_monitoring import BedrockMonitoring
from regulated_inference.components.data_quality import DataQualityMonitor
from regulated_inference.components.drift_job import ScheduledDriftCheck
from regulated_inference.components.encryption_keys import EncryptionKeys
from regulated_inference.components.isolated_network import IsolatedNetwork
from regulated_inference.components.least_privilege_role import LeastPrivilegeRole
from regulated_inference.components.managed_inference import ManagedInference
from regulated_inference.components.model_monitoring import ModelMonitoring
from regulated_inference.components.secure_bucket import SecureBucket
from regulated_inference.components.self_hosted_inference import SelfHostedInference
from regulated_inference.lib.outputs import PACKAGE

#: The components served, in schema order.
COMPONENTS = [
    EncryptionKeys,
    IsolatedNetwork,
    SecureBucket,
    LeastPrivilegeRole,
    AuditTrail,
    ManagedInference,
    AlertTopic,
    ModelMonitoring,
    DataQualityMonitor,
    BedrockAccess,
    SelfHostedInference,
    ScheduledDriftCheck,
    BedrockMonitoring,
    AuditEvidenceAlarms,
]


def main() -> None:
    # The schema's version is the project's (pyproject.toml), so a generated SDK names the release.
    component_provider_host(
        components=COMPONENTS, name=PACKAGE, version=version("regulated-inference")
    )


if __name__ == "__main__":
    main()
