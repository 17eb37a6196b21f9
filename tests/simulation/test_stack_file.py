"""Stack files read strictly (regulated_inference/simulation/stack_file.py): merge keys, keys
that are not text and nesting too deep for the parser each get one line naming file and place."""

from __future__ import annotations

import pytest

from regulated_inference.simulation.stack_file import StackFileError, read_stack_config


def _read(tmp_path, text: str):
    path = tmp_path / "Pulumi.dev.yaml"
    path.write_text(text)
    return read_stack_config(path)


@pytest.mark.parametrize(
    ("text", "where"),
    [
        # yaml.v3 and YAML 1.1 merge `<<` into the mapping; the CLI's stack files never have one.
        ("config:\n  base: &b {x: 1}\n  <<: {y: 2}\n", "Pulumi.dev.yaml:3:3"),
        ("config:\n  !!merge <<: {y: 2}\n", "Pulumi.dev.yaml:2:3"),
    ],
)
def test_merge_keys_are_refused(tmp_path, text, where):
    with pytest.raises(StackFileError) as info:
        _read(tmp_path, text)
    assert str(info.value) == f"{where}: YAML merge keys (<<) are not supported"


def test_a_quoted_merge_key_is_text(tmp_path):
    assert _read(tmp_path, 'config:\n  "<<": 1\n') == {"<<": 1}


def test_keys_must_be_plain_text(tmp_path):
    with pytest.raises(StackFileError, match=r"^Pulumi.dev.yaml:2:3: mapping keys must be plain"):
        _read(tmp_path, "config:\n  [a]: 1\n")


def test_nesting_too_deep_is_one_line(tmp_path):
    text = "config:\n  x: " + "[" * 5000 + "]" * 5000 + "\n"
    with pytest.raises(StackFileError) as info:
        _read(tmp_path, text)
    assert str(info.value) == "Pulumi.dev.yaml: invalid YAML: nested too deeply"
