"""Config of a self-hosted model on Kubernetes.

PLACEHOLDER owned by the self-hosted inference work (issue 5): extended there.
"""

from __future__ import annotations

from stacks.config.base import ConfigModel


class KubernetesConfig(ConfigModel):
    """Where and how a model is served on an existing EKS cluster."""
