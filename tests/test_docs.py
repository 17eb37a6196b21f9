"""Generated reference docs are fresh: `make docs` output equals the checked-in copies."""

from __future__ import annotations

from tools import docs


def test_generated_docs_are_not_stale():
    for name, make in docs.GENERATED.items():
        assert (docs.DOCS / name).read_text() == make(), f"docs/{name} is stale: run `make docs`"


def test_configuration_reference_covers_every_top_level_key():
    from regulated_inference.config import TOP_LEVEL_KEYS

    text = docs.configuration_md()
    for key in TOP_LEVEL_KEYS:
        assert f"`regulated-inference:{key}`" in text
    assert "`aws:region`" in text


def test_component_reference_lists_every_component():
    text = docs.components_md()
    for name in (
        "EncryptionKeys",
        "IsolatedNetwork",
        "SecureBucket",
        "LeastPrivilegeRole",
        "AuditTrail",
    ):
        assert f"## {name}" in text
