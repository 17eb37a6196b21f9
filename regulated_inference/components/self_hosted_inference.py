"""`SelfHostedInference` and its args (kept importable here; the code lives in
`regulated_inference.components.self_hosted`, split by concern)."""

from regulated_inference.components.self_hosted import *  # noqa: F403
from regulated_inference.components.self_hosted import __all__  # noqa: F401
