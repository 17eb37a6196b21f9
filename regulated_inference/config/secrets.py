"""Secrets in plain config are refused: they belong in `pulumi config set --secret`.

Plain config is stored readable in `Pulumi.<stack>.yaml` (in git) and in the
state; environment values also show in the SageMaker console. A value set
with `--secret` is encrypted in the file; the CLI decrypts it before the
program runs and lists its top-level key in the program's secret keys
(`pulumi.runtime.is_config_secret`), and the offline preview sees the
ciphertext as a `secure:` value (the placeholder `[secret]`). Both are accepted.

What counts as a secret (one-line error naming the key path, never the value):
- credentials recognisable by form anywhere: AWS access key ids (`AKIA…`,
  `ASIA…`), PEM private keys (`-----BEGIN … PRIVATE KEY-----`), bearer/basic
  authorization values, JWTs, GitHub/Slack/OpenAI-style tokens, URLs with a
  password, kubeconfigs with credentials (`client-key-data`, `token:`,
  `password:`);
- any non-empty value under a key named like a secret (password, secret,
  token, api key, private key, credentials, …) — e.g. environment variables.

A kubeconfig without credentials (e.g. one that runs `aws eks get-token` via
`exec`) is not a secret and is accepted in plain config.

A top-level key with any `--secret` value inside is marked secret as a whole
(pulumi/pulumi sdk/go/common/resource/config/object.go `Secure()` is true if any
nested value is ciphertext; map.go `SecureKeys`), and the program cannot tell
which nested value was the secret one: such a key is not scanned.

Like the CLI's own `looksLikeSecret` (pulumi/pulumi pkg/cmd/pulumi/config/config.go),
this is a heuristic; unlike it, it also looks inside structured values, where
`--path` puts them.
"""

from __future__ import annotations

import re
from typing import Any

from regulated_inference.config.errors import ConfigError

#: What the offline preview passes for a value it cannot decrypt.
SECRET_PLACEHOLDER = "[secret]"

_FORMS: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        re.compile(r"(?<![A-Z0-9])(AKIA|ASIA|AIDA|AROA)[A-Z0-9]{16}(?![A-Z0-9])"),
        "an AWS access key id",
    ),
    (re.compile(r"-----BEGIN ([A-Z0-9 ]+ )?PRIVATE KEY-----"), "a private key"),
    (
        re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{12,}"),
        "an authorization header value",
    ),
    (
        re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*"),
        "a JSON web token",
    ),
    (re.compile(r"\b(ghp|gho|ghu|ghs|ghr|github_pat)_[A-Za-z0-9_]{20,}"), "a GitHub token"),
    (re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}"), "a Slack token"),
    (re.compile(r"\bsk-[A-Za-z0-9_-]{20,}"), "an API secret key"),
    (re.compile(r"[a-z][a-z0-9+.-]*://[^/\s:@]+:[^/\s@]+@"), "a URL with a password"),
    (
        re.compile(r"(?m)^\s*(client-key-data|token|password|client-secret)\s*:\s*\S"),
        "a kubeconfig with credentials",
    ),
    (re.compile(r"(?i)aws_secret_access_key\s*[=:]\s*\S"), "an AWS secret access key"),
)

_SECRET_KEY = re.compile(
    r"(?i)(passw(or)?d|passwd|secret|token|api[_-]?key|apikey|private[_-]?key|credential|"
    r"access[_-]?key|auth[_-]?key|client[_-]?secret|signing[_-]?key|session[_-]?key)"
)


def _is_placeholder(value: Any) -> bool:
    return value == SECRET_PLACEHOLDER or (isinstance(value, dict) and set(value) == {"secure"})


def _path(parent: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{parent}[{key}]"
    return f"{parent}.{key}" if parent else key


def _walk(path: str, key: str | None, value: Any):
    if _is_placeholder(value):
        return
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _walk(_path(path, str(k)), str(k), v)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _walk(_path(path, i), key, v)
    elif isinstance(value, str):
        yield path, key, value


def find_plain_secret(
    raw: dict[str, Any], secret_keys: frozenset[str] = frozenset()
) -> tuple[str, str] | None:
    """(key path, what it looks like) of the first plain value that looks like a secret."""
    for top, value in raw.items():
        if top in secret_keys:
            continue  # set with --secret: the CLI decrypted it for the program
        for path, key, text in _walk(top, top, value):
            for pattern, what in _FORMS:
                if pattern.search(text):
                    return path, what
            if key is not None and _SECRET_KEY.search(key) and text.strip():
                return path, f"a secret (its key {key!r} names one)"
    return None


def check_no_plain_secrets(
    raw: dict[str, Any], project: str, secret_keys: frozenset[str] = frozenset()
) -> None:
    """ConfigError for the first plain-text secret in `raw` (the decoded config, keys without
    the project namespace, `aws:*` with theirs). The value is never echoed."""
    found = find_plain_secret(raw, secret_keys)
    if found is None:
        return
    path, what = found
    head = path.split(".", 1)[0].split("[", 1)[0]
    full = path if ":" in head else f"{project}:{path}"
    raise ConfigError(
        full,
        "[redacted]",
        f"looks like {what} in plain config: remove it from the stack file and store it "
        f"encrypted with `pulumi config set --secret --path '{path}' <value>`",
    )


__all__ = ["SECRET_PLACEHOLDER", "check_no_plain_secrets", "find_plain_secret"]
