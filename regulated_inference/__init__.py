"""regulated-inference: Pulumi components, stack config and offline preview for AI inference on
AWS in regulated businesses.

Subpackages: `components` (ComponentResources), `lib` (pure helpers: AWS facts, IAM grants,
metrics), `config` (the stack config models), `stack` (the stack program's composition),
`simulation` (simulated AWS and the recording engine), `preview` (the offline preview CLI and
report writers).
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("regulated-inference")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0"
