"""examples/: each way of reusing the components, checked as far as this machine allows.

No Pulumi CLI and no npm here (and tests stay offline), so the YAML and TypeScript programs are
checked against what the CLI would use: the provider's schema (tests/provider/schema.golden.json,
which tests/provider keeps equal to what `GetSchema` returns). Every component type they use
exists, every property they set is one of its camelCase `inputProperties`, every required input
is set, no plain input gets a resource's output, and every output they read is one of the
resource's `properties`. The checks are generic: they hold for whatever the schema hosts.
The Python example runs under the simulated AWS with the checked-out package (the wheel test,
tests/packaging/test_wheel.py, runs it again from a fresh venv with the built wheel).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
import yaml

from regulated_inference.simulation.engine import run_stack_program

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
SCHEMA = json.loads((ROOT / "tests" / "provider" / "schema.golden.json").read_text())
PACKAGE = SCHEMA["name"]
RESOURCES: dict[str, dict[str, Any]] = SCHEMA["resources"]
#: Every component also has the outputs every resource has.
COMMON_OUTPUTS = {"urn", "id"}


def _ours(token: str) -> bool:
    return token.startswith(f"{PACKAGE}:")


def _problems_of_use(token: str, props: dict[str, Any], from_outputs: set[str]) -> list[str]:
    """What is wrong with setting `props` on `token` (`from_outputs`: props given an Output)."""
    if token not in RESOURCES:
        return [f"{token}: not in the schema (resources: {sorted(RESOURCES)})"]
    spec = RESOURCES[token]
    inputs = spec.get("inputProperties", {})
    out = [f"{token}: unknown input {p!r}" for p in sorted(set(props) - set(inputs))]
    out += [f"{token}: required input {p!r} not set" for p in spec.get("requiredInputs", [])]
    out = [o for o in out if not (o.endswith("not set") and o.split("'")[1] in props)]
    out += [
        f"{token}: {p!r} is a plain input and cannot take another resource's output"
        for p in sorted(from_outputs)
        if inputs.get(p, {}).get("plain")
    ]
    return out


def _problems_of_read(token: str, prop: str) -> list[str]:
    if token not in RESOURCES:  # reported where it is used
        return []
    outputs = set(RESOURCES.get(token, {}).get("properties", {})) | COMMON_OUTPUTS
    return [] if prop in outputs else [f"{token}: no output {prop!r}"]


def _provider_dir(project: dict[str, Any], where: Path) -> Path:
    source = project["packages"][PACKAGE]
    return (where / (source if isinstance(source, str) else source["source"])).resolve()


# -- the checker itself can fail ---------------------------------------------------------------

KEYS = f"{PACKAGE}:index:EncryptionKeys"
NETWORK = f"{PACKAGE}:index:IsolatedNetwork"


def test_the_checks_find_unknown_types_inputs_missing_required_plain_misuse_and_bad_outputs():
    assert _problems_of_use(f"{PACKAGE}:index:Nope", {}, set())[0].endswith(
        f"not in the schema (resources: {sorted(RESOURCES)})"
    )
    required = RESOURCES[KEYS]["requiredInputs"]
    full = {p: "x" for p in required}
    assert _problems_of_use(KEYS, full, set()) == []
    assert _problems_of_use(KEYS, {**full, "account_id": "x"}, set()) == [
        f"{KEYS}: unknown input 'account_id'"
    ]
    assert _problems_of_use(KEYS, {p: "x" for p in required[1:]}, set()) == [
        f"{KEYS}: required input {required[0]!r} not set"
    ]
    assert _problems_of_use(KEYS, full, {"trailName"}) == [
        f"{KEYS}: 'trailName' is a plain input and cannot take another resource's output"
    ]
    assert _problems_of_read(NETWORK, "vpcId") == [] and _problems_of_read(NETWORK, "urn") == []
    assert _problems_of_read(NETWORK, "vpc_id") == [f"{NETWORK}: no output 'vpc_id'"]


# -- YAML --------------------------------------------------------------------------------------

_REF = re.compile(r"\$\{([A-Za-z0-9_-]+)\.([A-Za-z0-9_]+)")


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def yaml_problems(project: dict[str, Any], where: Path) -> list[str]:
    resources = project.get("resources", {})
    types = {name: r["type"] for name, r in resources.items()}
    ours = {name: t for name, t in types.items() if _ours(t)}
    out: list[str] = []
    for name, token in ours.items():
        props = resources[name].get("properties") or {}
        from_outputs = {
            p
            for p, v in props.items()
            if any(r in types for s in _strings(v) for r, _ in _REF.findall(s))
        }
        out += _problems_of_use(token, props, from_outputs)
    for text in _strings({k: r.get("properties") for k, r in resources.items()}) + _strings(
        project.get("outputs", {})
    ):
        out += [
            p
            for r, prop in _REF.findall(text)
            if r in ours
            for p in _problems_of_read(ours[r], prop)
        ]
    if not ours:
        out.append("uses no component of the package")
    if not (_provider_dir(project, where) / "PulumiPlugin.yaml").is_file():
        out.append(f"packages.{PACKAGE} does not name the provider directory")
    return out


def test_the_yaml_example_uses_only_the_schemas_types_and_properties():
    where = EXAMPLES / "yaml"
    project = yaml.safe_load((where / "Pulumi.yaml").read_text())
    assert project["runtime"] == "yaml"
    assert _provider_dir(project, where) == ROOT / "provider"
    assert yaml_problems(project, where) == []
    assert sorted({r["type"] for r in project["resources"].values()}) == sorted(
        f"{PACKAGE}:index:{c}" for c in ("AlertTopic", "EncryptionKeys", "IsolatedNetwork")
    )


def test_the_yaml_check_fails_on_a_misspelt_property_and_an_output_into_a_plain_input():
    where = EXAMPLES / "yaml"
    project = yaml.safe_load((where / "Pulumi.yaml").read_text())
    project["resources"]["network"]["properties"]["subnet_cidrs"] = ["10.70.2.0/24"]
    project["resources"]["network"]["properties"]["logGroupName"] = "${keys.dataKeyArn}"
    project["outputs"]["bad"] = "${network.vpc_id}"
    assert yaml_problems(project, where) == [
        f"{NETWORK}: unknown input 'subnet_cidrs'",
        f"{NETWORK}: 'logGroupName' is a plain input and cannot take another resource's output",
        f"{NETWORK}: no output 'vpc_id'",
    ]


# -- TypeScript --------------------------------------------------------------------------------


def _camel(name: str) -> str:
    """pulumi/pulumi pkg/codegen/cgstrings Camel: the import name `pulumi package add` prints."""
    head, *rest = re.split(r"[-_]", name)
    return head + "".join(w[:1].upper() + w[1:] for w in rest)


def _outside_strings(text: str, start: int = 0) -> Iterator[tuple[int, str, int]]:
    """(index, character, bracket depth after it) for each character of text[start:] that is not
    in a string or template literal (those are skipped, quotes and escapes included)."""
    depth, i, quote = 0, start, None
    while i < len(text):
        c = text[i]
        if quote:
            if c == "\\":
                i += 1
            elif c == quote:
                quote = None
        elif c in "\"'`":
            quote = c
        else:
            depth += (c in "{[(") - (c in "}])")
            yield i, c, depth
        i += 1


def _balanced(text: str, start: int) -> str:
    """The {...} block opening at text[start], skipping strings and template literals."""
    for i, _, depth in _outside_strings(text, start):
        if depth == 0:
            return text[start : i + 1]
    raise ValueError(f"unbalanced object literal at {start}")


def _top_level_entries(obj: str) -> list[str]:
    """`{ a: 1, b: f(x, y), c }` -> ["a: 1", "b: f(x, y)", "c"]."""
    commas = [i for i, c, depth in _outside_strings(obj) if c == "," and depth == 1]
    bounds = [0, *commas, len(obj) - 1]
    parts = [obj[a + 1 : b].strip() for a, b in pairwise(bounds)]
    return [p for p in parts if p]


def test_the_object_literal_reader_skips_strings_and_nested_brackets():
    source = 'x = new C("n", { a: 1, b: f(x, [y, "}"]), s: `t,${u}`, c }); rest'
    block = _balanced(source, source.index("{"))
    assert block == '{ a: 1, b: f(x, [y, "}"]), s: `t,${u}`, c }'
    assert _top_level_entries(block) == ["a: 1", 'b: f(x, [y, "}"])', "s: `t,${u}`", "c"]
    with pytest.raises(ValueError, match="unbalanced"):
        _balanced("{ a: 'b }", 0)


def typescript_problems(source: str) -> list[str]:
    npm_name = f"@pulumi/{PACKAGE}"  # no namespace in the schema (getNodeJSPkgName)
    m = re.search(r'import \* as (\w+) from "' + re.escape(npm_name) + '"', source)
    if not m:
        return [f"no `import * as ... from {npm_name!r}`"]
    alias = m.group(1)
    calls = list(
        re.finditer(
            r"(?:const (\w+) = )?new " + alias + r"\.(\w+)\(\s*(\"[^\"]*\"|`[^`]*`),\s*\{", source
        )
    )
    if not calls:
        return ["uses no component of the package"]
    variables = {c.group(1): f"{PACKAGE}:index:{c.group(2)}" for c in calls if c.group(1)}
    out: list[str] = []
    for call in calls:
        token = f"{PACKAGE}:index:{call.group(2)}"
        props: dict[str, str] = {}
        for entry in _top_level_entries(_balanced(source, call.end() - 1)):
            key, _, value = entry.partition(":")
            props[key.strip()] = value.strip() or key.strip()  # shorthand `{ region }`
        from_outputs = {
            p
            for p, v in props.items()
            if any(var in variables for var in re.findall(r"\b(\w+)\.\w+", v))
        }
        out += _problems_of_use(token, props, from_outputs)
    for var, prop in re.findall(r"\b(\w+)\.(\w+)\b", source):
        if var in variables:
            out += _problems_of_read(variables[var], prop)
    return out


def test_the_typescript_example_uses_only_the_schemas_classes_and_properties():
    where = EXAMPLES / "typescript"
    project = yaml.safe_load((where / "Pulumi.yaml").read_text())
    assert project["runtime"]["name"] == "nodejs"
    assert _provider_dir(project, where) == ROOT / "provider"
    # what `pulumi package add` links: the SDK generated into sdks/<name>, imported by its npm name
    package = json.loads((where / "package.json").read_text())
    assert package["dependencies"][f"@pulumi/{PACKAGE}"] == f"file:sdks/{PACKAGE}"
    source = (where / "index.ts").read_text()
    assert f"import * as {_camel(PACKAGE)} from" in source
    assert typescript_problems(source) == []
    used = Counter(re.findall(_camel(PACKAGE) + r"\.(\w+)\(", source))
    assert used == {"EncryptionKeys": 1, "IsolatedNetwork": 1, "AlertTopic": 1}


def test_the_typescript_check_fails_on_a_misspelt_class_property_or_output():
    source = (EXAMPLES / "typescript" / "index.ts").read_text()
    broken = (
        source.replace("new regulatedInference.AlertTopic(", "new regulatedInference.AlertTopics(")
        .replace("logRetentionDays: 365,", "logRetentionDays: 365,\n        retentionDays: 365,")
        .replace('cidr: "10.80.0.0/20",', "")
        .replace("network.vpcId", "network.vpcID")
    )
    assert typescript_problems(broken) == [
        f"{NETWORK}: unknown input 'retentionDays'",
        f"{NETWORK}: required input 'cidr' not set",
        f"{PACKAGE}:index:AlertTopics: not in the schema (resources: {sorted(RESOURCES)})",
        f"{NETWORK}: no output 'vpcID'",
    ]
    assert typescript_problems(
        source.replace(
            "trailName: `team-inference-${stack}-audit`,", "trailName: keys.dataKeyArn,", 1
        )
    ) == [f"{KEYS}: 'trailName' is a plain input and cannot take another resource's output"]


# -- Python ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def python_example():
    return run_stack_program("dev", project_dir=EXAMPLES / "python")


def test_the_python_example_runs_under_the_simulated_aws(python_example):
    types = Counter(r.type for r in python_example.resources)
    assert types[f"{PACKAGE}:index:EncryptionKeys"] == 1
    assert types[f"{PACKAGE}:index:IsolatedNetwork"] == 1
    assert types[f"{PACKAGE}:index:SecureBucket"] == 2
    assert sorted(python_example.stack_outputs) == [
        "dataBucket",
        "dataKeyArn",
        "privateSubnetIds",
        "vpcId",
    ]
    flow_log = python_example.one("aws:cloudwatch/logGroup:LogGroup")
    key = next(r for r in python_example.of_type("aws:kms/key:Key") if r.name.endswith("-logs"))
    assert flow_log.inputs["kmsKeyId"] == key.outputs["arn"]
    assert flow_log.inputs["name"] == "/team-inference-platform/dev/vpc-flow-logs"


def test_each_example_is_documented():
    # each README gives the command that makes the components available to that program
    commands = {
        "yaml": "pulumi package add ../../provider",
        "typescript": "pulumi package add ../../provider",
        "python": "python -m pip wheel --no-deps -w dist .",
    }
    for example, command in commands.items():
        assert command in (EXAMPLES / example / "README.md").read_text(), example
    main = (ROOT / "README.md").read_text()
    section = main.split("## Reuse the components", 1)[1].split("\n## ", 1)[0]
    for example in ("examples/yaml", "examples/typescript", "examples/python"):
        assert example in section


def test_the_policy_config_generator_works_for_another_project_as_policies_readme_shows():
    # the call policies/README.md documents, on the example (a project that is not ours)
    from regulated_inference.preview.policy_config import for_stack, render

    config = json.loads(render(for_stack("dev", EXAMPLES / "python")))
    stack = yaml.safe_load((EXAMPLES / "python" / "Pulumi.dev.yaml").read_text())["config"]
    regions = stack["team-inference-platform:residency"]["allowedRegions"]
    assert config["all"] == "mandatory"
    assert config["resource-region-allowed"]["allowedRegions"] == regions
    assert config["aws-provider-region-allowed"]["allowedRegions"] == regions
