"""Generated reference docs are fresh: `make docs` output equals the checked-in copies."""

from __future__ import annotations

from pathlib import Path

from tools import docs

ROOT = Path(__file__).resolve().parent.parent


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


def test_readme_counts_match_the_pack():
    # The README states the pack's size in two places; they follow the rules, not memory.
    import re

    from policies.rules import ALL_RULES
    from regulated_inference.preview.analyzer import POLICIES_DIR

    readme = (ROOT / "README.md").read_text()
    controls = set(
        re.findall(r"^\| ([A-Z]\d+) \|", (POLICIES_DIR / "CONTROLS.md").read_text(), re.MULTILINE)
    )
    resource = sum(r.kind == "resource" for r in ALL_RULES)
    stack = sum(r.kind == "stack" for r in ALL_RULES)
    assert f"{len(ALL_RULES)} rules covering all {len(controls)} controls" in readme
    assert f"{len(ALL_RULES)} rules ({resource} per resource, {stack} over the" in readme
