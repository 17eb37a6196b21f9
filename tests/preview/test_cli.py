"""Exit paths of `python -m regulated_inference.preview` (sample project, fake policy driver)."""

from __future__ import annotations

import io
import json
import time

from regulated_inference.preview import cli

from .conftest import SAMPLE, copy_project


def _errors(stderr: str) -> list[str]:
    """stderr without the progress lines a slow (loaded) machine adds."""
    return [line for line in stderr.splitlines() if not line.startswith("offline-preview:")]


def test_clean_stack_exits_0_and_prints_the_report(run_cli, fake_analyze):
    r = run_cli("--project-dir", str(SAMPLE), "--stack", "dev", analyze=fake_analyze)
    assert r.code == 0
    assert "PASS: no mandatory violation" in r.out
    assert "RESOURCES: 11 (6 cloud resources, 4 components, 1 provider)" in r.out
    assert "error" not in r.err  # (progress lines may appear on a loaded machine)


def test_stack_defaults_to_dev(run_cli, fake_analyze):
    r = run_cli("--project-dir", str(SAMPLE), "--format", "json", analyze=fake_analyze)
    assert json.loads(r.out)["stack"] == "dev"


def test_injected_violation_exits_1_and_names_it(run_cli, fake_analyze, tmp_path):
    project = copy_project(
        SAMPLE, tmp_path / "p", "prod", lambda c: c.update({"sample-inference:rotateKeys": False})
    )
    r = run_cli("--project-dir", str(project), "--stack", "prod", analyze=fake_analyze)
    assert r.code == 1
    assert "FAIL: 1 mandatory violation(s)" in r.out
    mandatory = r.out.split("  MANDATORY (1)")[1].split("  ADVISORY")[0]
    assert "kms-key-rotation [high]  controls E8" in mandatory
    assert "aws:kms/key:Key platform-keys-data" in mandatory
    assert "Remediation: Set enable_key_rotation=True on the key." in mandatory


def test_invalid_config_exits_2_with_the_config_layers_message(run_cli, fake_analyze, tmp_path):
    project = copy_project(
        SAMPLE,
        tmp_path / "p",
        "prod",
        lambda c: c.update({"sample-inference:buckets": [{"name": "no-dashes"}]}),
    )
    r = run_cli("--project-dir", str(project), "--stack", "prod", analyze=fake_analyze)
    assert r.code == 2
    assert _errors(r.err) == ["error: buckets[0].name: 'no-dashes' must be alphanumeric"]
    assert r.out == ""


def test_unknown_stack_exits_2_and_lists_the_stacks(run_cli, fake_analyze):
    r = run_cli("--project-dir", str(SAMPLE), "--stack", "staging", analyze=fake_analyze)
    assert r.code == 2
    assert "no stack 'staging': Pulumi.staging.yaml does not exist (stacks: dev, prod)" in r.err
    assert r.out == ""


def test_missing_policy_config_exits_2(run_cli, fake_analyze, tmp_path):
    r = run_cli(
        "--project-dir",
        str(SAMPLE),
        "--policy-pack-config",
        str(tmp_path / "nope.json"),
        analyze=fake_analyze,
    )
    assert r.code == 2
    assert "no policy config for stack 'dev'" in r.err


def test_broken_pack_exits_2_with_the_cause(run_cli):
    def broken(recording, config):
        raise RuntimeError("policy pack exited before printing its port")

    r = run_cli("--project-dir", str(SAMPLE), analyze=broken)
    assert r.code == 2
    assert "the policy pack in" in r.err
    assert "RuntimeError: policy pack exited before printing its port" in r.err


def test_crashing_program_exits_2_with_its_traceback(run_cli, fake_analyze, tmp_path):
    # A config value of the wrong shape makes the program itself fail (not a ConfigError).
    project = copy_project(
        SAMPLE, tmp_path / "p", "dev", lambda c: c.update({"sample-inference:buckets": 7})
    )
    r = run_cli("--project-dir", str(project), analyze=fake_analyze)
    assert r.code == 2
    assert "error: the dev stack program failed:" in r.err
    assert "Traceback" in r.err and "TypeError" in r.err


def test_output_and_export_write_files_and_summarise_on_stderr(run_cli, fake_analyze, tmp_path):
    out, export = tmp_path / "r" / "dev.md", tmp_path / "dev-export.json"
    r = run_cli(
        "--project-dir",
        str(SAMPLE),
        "--format",
        "markdown",
        "--output",
        str(out),
        "--export",
        str(export),
        analyze=fake_analyze,
    )
    assert r.code == 0
    assert r.out == ""
    assert out.read_text().startswith("<!-- offline-preview:dev -->")
    assert json.loads(export.read_text())["version"] == 3
    assert f"wrote markdown {out}, stack export {export}" in r.err


def test_every_format_from_one_run_with_the_exit_status_of_the_findings(
    run_cli, fake_analyze, tmp_path
):
    project = copy_project(
        SAMPLE, tmp_path / "p", "prod", lambda c: c.update({"sample-inference:rotateKeys": False})
    )
    calls = []

    def counting(*args, **kwargs):
        calls.append(1)
        return fake_analyze(*args, **kwargs)

    out = tmp_path / "out"
    r = run_cli(
        "--project-dir",
        str(project),
        "--stack",
        "prod",
        "--output",
        f"sarif={out / 'prod.sarif'}",
        "--output",
        f"markdown={out / 'prod.md'}",
        "--output",
        f"json={out / 'prod.json'}",
        analyze=counting,
    )
    assert r.code == 1 and len(calls) == 1  # one run of the program and the pack
    assert "FAIL: 1 mandatory violation(s)" in r.out  # --format (text) still on stdout
    sarif = json.loads((out / "prod.sarif").read_text())
    assert [res["ruleId"] for res in sarif["runs"][0]["results"] if res["level"] == "error"] == [
        "kms-key-rotation"
    ]
    assert "kms-key-rotation" in (out / "prod.md").read_text()
    data = json.loads((out / "prod.json").read_text())
    assert data["stack"] == "prod" and "kms-key-rotation" in json.dumps(data)
    assert (
        f"wrote sarif {out / 'prod.sarif'}, markdown {out / 'prod.md'}, json {out / 'prod.json'}"
        in r.err
    )


def test_output_without_a_known_format_prefix_is_a_path_in_the_format(
    run_cli, fake_analyze, tmp_path
):
    # `a=b.json` is a file name (no format called "a"); a plain FILE replaces stdout
    target = tmp_path / "a=b.json"
    r = run_cli(
        "--project-dir", str(SAMPLE), "--format", "json", "--output", str(target),
        analyze=fake_analyze,
    )  # fmt: skip
    assert r.code == 0 and r.out == ""
    assert json.loads(target.read_text())["stack"] == "dev"


def test_unknown_format_is_a_usage_error(run_cli):
    try:
        run_cli("--format", "yaml")
    except SystemExit as exc:
        assert exc.code == 2
    else:
        raise AssertionError("argparse accepted an unknown format")


def test_progress_line_for_a_phase_over_the_threshold():
    stream = io.StringIO()
    progress = cli.Progress(stream=stream, after=0.05)
    with progress.phase("fast", "a fast phase"):
        pass
    with progress.phase("slow", "a slow phase"):
        time.sleep(0.2)
    lines = stream.getvalue().splitlines()
    assert lines[0] == "offline-preview: a slow phase…"
    assert lines[1].startswith("offline-preview:   done in 0.")
    assert len(lines) == 2  # nothing for the fast phase
    assert set(progress.timings) == {"fast", "slow"}


def test_slow_phase_is_announced_while_it_runs():
    stream = io.StringIO()
    progress = cli.Progress(stream=stream, after=0.05)
    with progress.phase("slow", "running the program"):
        time.sleep(0.2)
        assert stream.getvalue() == "offline-preview: running the program…\n"
