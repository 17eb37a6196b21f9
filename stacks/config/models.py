"""Config of the models a stack deploys (managed: SageMaker; Bedrock access).

PLACEHOLDER owned by the managed-inference work (issue 4): extended there.
"""

from __future__ import annotations

from pydantic import Field

from stacks.config.base import ConfigModel
from stacks.config.kubernetes import KubernetesConfig


class ModelConfig(ConfigModel):
    """One model version to deploy."""

    name: str = Field(pattern=r"^[a-z][a-z0-9-]{1,30}[a-z0-9]$")
    """Model name, lowercase with hyphens (used in resource names)."""
    version: str
    """The model version deployed."""
    kubernetes: KubernetesConfig | None = None
    """Self-host on Kubernetes instead of SageMaker (see the self-hosting guide)."""

    @property
    def runs_on_sagemaker(self) -> bool:
        return self.kubernetes is None


class BedrockConfig(ConfigModel):
    """Amazon Bedrock access (managed foundation models)."""
