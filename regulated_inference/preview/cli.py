"""`python -m regulated_inference.preview`: what a stack would deploy, and whether it passes policy.

    python -m regulated_inference.preview --stack prod --format sarif --output prod.sarif
    python -m regulated_inference.preview --stack prod --output sarif=prod.sarif --output markdown=prod.md

The second form writes several formats from one run (the text report still goes to stdout).

Runs the project's stack program under the simulated AWS (config loaded as
the CLI loads it), drives the policy pack over the analyzer protocol with
`policies/config/<stack>.json`, and prints or writes a report.

Exit status:
  0  no mandatory violation
  1  mandatory violations (each is named in the report), or the cost estimate
     exceeds the stack's `budget.monthlyUsd` (by how much, and the top items)
  2  bad input: invalid stack config (the config layer's message, no
     traceback), unknown stack, missing or invalid policy config, a policy pack
     that cannot start or answer, an input AWS would reject, a stack program
     that raises (with its traceback), a stack with a budget or cost
     assumptions in a region without a price table
  3  an internal error of the preview itself (a bug: please report it)
"""

from __future__ import annotations

import argparse
import gc
import inspect
import json
import queue
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any, TextIO

from regulated_inference.lib.aws import is_account_id
from regulated_inference.preview.analysis import AnalysisResult
from regulated_inference.preview.report import (
    EXIT_BAD_INPUT,
    EXIT_INTERNAL,
    PreviewReport,
    load_rule_scopes,
)
from regulated_inference.simulation.engine import (
    REPO_ROOT,
    Recording,
    StackFileError,
    load_project,
    load_stack_config,
    run_stack_program,
)

FORMATS = ("text", "json", "sarif", "markdown", "evidence", "evidence-markdown")
#: A phase that runs longer than this gets a progress line on stderr.
PROGRESS_AFTER_SECONDS = 1.0

Analyze = Callable[..., AnalysisResult]


class PreviewInputError(Exception):
    """Bad input the user can fix; the message says what and where."""


class BrokenPackError(PreviewInputError):
    """The policy pack could not be started, configured or queried."""


class Progress:
    """Announces a phase on stderr once it has run for a second, and how long it took."""

    def __init__(
        self,
        stream: TextIO | None = None,
        after: float = PROGRESS_AFTER_SECONDS,
        *,
        quiet: bool = False,
    ):
        self.stream = stream if stream is not None else sys.stderr
        self.quiet = quiet
        self.after = after
        self.timings: dict[str, float] = {}

    @contextmanager
    def phase(self, key: str, description: str) -> Iterator[None]:
        announced = threading.Event()

        def announce() -> None:
            if self.quiet:
                return
            announced.set()
            print(f"offline-preview: {description}…", file=self.stream, flush=True)

        timer = threading.Timer(self.after, announce)
        timer.daemon = True
        start = time.perf_counter()
        timer.start()
        try:
            yield
        finally:
            timer.cancel()
            elapsed = time.perf_counter() - start
            self.timings[key] = elapsed
            if not self.quiet and (announced.is_set() or elapsed > self.after):
                if not announced.is_set():
                    print(f"offline-preview: {description}…", file=self.stream, flush=True)
                print(f"offline-preview:   done in {elapsed:.1f} s", file=self.stream, flush=True)


def _check_bedrock_logging_owner(stack: str, project: Path) -> None:
    """Bedrock keeps ONE invocation-logging setting per account and region: this project's stack
    files that share an account must agree which stack owns it (issue: two owners overwrite, and
    on destroy delete, each other's logging). Checked before the program runs."""
    from regulated_inference.simulation.engine import bedrock_logging_conflicts

    problems = [p for p in bedrock_logging_conflicts(project) if f"'{stack}'" in p]
    if problems:
        raise PreviewInputError(problems[0])


def _config_error_types() -> tuple[type[BaseException], ...]:
    """The exceptions that mean "the input is wrong", imported lazily (the stack may not exist yet)."""
    types: list[type[BaseException]] = [StackFileError, PreviewInputError]
    try:
        from regulated_inference.config import (
            ConfigError,  # the lead's config layer (a pulumi.RunError)
        )

        types.append(ConfigError)
    except ImportError:
        pass
    try:
        from regulated_inference.lib.errors import ComponentArgsError

        types.append(ComponentArgsError)
    except ImportError:
        pass
    from pulumi import RunError

    from regulated_inference.preview.cost import CostModelError
    from regulated_inference.simulation.simulated_aws import SimulatedAwsError

    types += [RunError, SimulatedAwsError, CostModelError]
    return tuple(types)


def _driver() -> ModuleType:
    """The policy-pack driver module (`regulated_inference.preview.analyzer`)."""
    try:
        from regulated_inference.preview import analyzer
    except ImportError as exc:
        raise PreviewInputError(f"the policy-pack driver is not available: {exc}") from exc
    return analyzer


def default_analyzer() -> Analyze:
    """The policy-pack driver's one-stack entry (`regulated_inference.preview.analyzer.analyze`)."""
    return _driver().analyze


def _pack_config(
    stack: str,
    cfg: dict[str, str],
    project: Path,
    config_path: Path,
    explicit: Path | None,
) -> tuple[str | dict, str]:
    """The pack config to use and how the report names it.

    `policies/config/<stack>.json` when it exists (what `--policy-pack-config` gives the CLI);
    for a stack without one, the config generated from the stack's own config
    (`regulated_inference.preview.policy_config`), so a new stack previews without a hand-written file.
    """
    if config_path.is_file():
        return str(config_path), _display_path(config_path)
    if explicit is not None:
        raise PreviewInputError(
            f"no policy config for stack '{stack}': {config_path} does not exist"
        )
    from regulated_inference.preview.policy_config import generate

    try:
        generated = generate(cfg, load_project(project)["name"])
    except ValueError as exc:
        raise PreviewInputError(f"cannot generate the policy config for '{stack}': {exc}") from None
    return generated, f"generated from Pulumi.{stack}.yaml"


def _call_analyze(
    analyze: Analyze, recording: Recording, config_path: str | dict, pack_dir: Path
) -> AnalysisResult:
    """Pass the pack directory when the driver takes one (by whatever name it uses)."""
    try:
        params = inspect.signature(analyze).parameters
    except (TypeError, ValueError):
        params = {}
    for name in ("pack_dir", "policy_pack", "pack_path", "pack"):
        if name in params:
            return analyze(recording, config_path, **{name: pack_dir})
    return analyze(recording, config_path)


def resolve_paths(
    stack: str, project_dir: Path | None, policy_pack: Path | None, policy_config: Path | None
) -> tuple[Path, Path, Path]:
    project = Path(project_dir) if project_dir else _default_project_dir()
    if not (project / "Pulumi.yaml").is_file():
        raise PreviewInputError(f"no Pulumi.yaml in {project}")
    pack = (
        Path(policy_pack)
        if policy_pack
        else (
            project / "policies"
            if (project / "policies" / "PulumiPolicy.yaml").is_file()
            else REPO_ROOT / "policies"
        )
    )
    config = Path(policy_config) if policy_config else pack / "config" / f"{stack}.json"
    return project, pack, config


def _default_project_dir() -> Path:
    cwd = Path.cwd()
    return cwd if (cwd / "Pulumi.yaml").is_file() else REPO_ROOT


def run_preview(
    stack: str,
    *,
    project_dir: Path | None = None,
    policy_pack: Path | None = None,
    policy_config: Path | None = None,
    config: dict[str, str] | None = None,
    analyze: Analyze | None = None,
    progress: Progress | None = None,
    account: str = "",
) -> PreviewReport:
    """Run the stack program and the pack; everything the reports need.

    `config` replaces the stack file's config (CLI-shaped: namespaced keys,
    string values), e.g. for generated stacks in the benchmark. `account` is the
    simulated caller's account (default: the first of `aws:allowedAccountIds`). Raises the
    config layer's own exception for an invalid config.
    """
    progress = progress or Progress(quiet=True)
    project, pack, config_path = resolve_paths(stack, project_dir, policy_pack, policy_config)
    with progress.phase("config", f"loading Pulumi.yaml and Pulumi.{stack}.yaml"):
        cfg = config if config is not None else load_stack_config(stack, project)
        if config is None:
            _check_bedrock_logging_owner(stack, project)
        pack_config, shown = _pack_config(stack, cfg, project, config_path, policy_config)
    if analyze is not None:
        with progress.phase("program", f"running the {stack} stack program under simulated AWS"):
            recording = run_stack_program(stack, config=cfg, project_dir=project, account=account)
        with progress.phase(
            "analysis",
            f"analyzing {len(recording.resources)} resources with the policy pack ({pack.name})",
        ):
            analysis = _guarded(pack, lambda: _call_analyze(analyze, recording, pack_config, pack))
    else:
        recording, analysis = _run_with_pack(
            stack, cfg, project, pack, pack_config, progress, account
        )
    report = PreviewReport(
        recording=recording,
        analysis=analysis,
        policy_config=shown,
        pack_config=_loaded(pack_config),
        timings=dict(progress.timings),
        project_dir=project,
        rule_scopes=load_rule_scopes(pack),
    )
    attach_cost(report, progress)
    return report


def _loaded(pack_config: str | dict) -> dict[str, Any] | None:
    if isinstance(pack_config, dict):
        return pack_config
    try:
        data = json.loads(Path(pack_config).read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def attach_cost(report: PreviewReport, progress: Progress | None = None) -> None:
    """The monthly cost estimate of the recorded resources (regulated_inference/preview/cost.py)."""
    from regulated_inference.preview.cost import estimate

    progress = progress or Progress(quiet=True)
    with progress.phase("cost", "estimating the monthly cost"):
        result = estimate(report.recording, report.component_of())
    report.timings["cost"] = progress.timings["cost"]
    if isinstance(result, str):
        report.cost_unavailable = result
    else:
        report.cost = result


def load_cost_base(path: Path) -> dict:
    """The `cost` section of a previous JSON report (`--compare-cost`)."""
    from regulated_inference.preview.cost import load_base_cost

    try:
        return load_base_cost(Path(path).read_text(encoding="utf-8"), str(path))
    except OSError as exc:
        raise PreviewInputError(f"cannot read the base report {path}: {exc}") from exc
    except ValueError as exc:
        raise PreviewInputError(str(exc)) from exc


def _guarded(pack: Path, fn: Callable[[], AnalysisResult]) -> AnalysisResult:
    try:
        return fn()
    except PreviewInputError:
        raise
    except Exception as exc:  # a pack that fails to start, configure or answer
        raise BrokenPackError(
            f"the policy pack in {pack} failed: {type(exc).__name__}: {exc}"
        ) from exc


def _run_with_pack(
    stack: str,
    cfg: dict[str, str],
    project: Path,
    pack: Path,
    config_path: str | dict,
    progress: Progress,
    account: str = "",
) -> tuple[Recording, AnalysisResult]:
    """Program and pack in parallel: the pack's process starts while the program runs.

    Starting the pack (a Python process importing pulumi_policy and the rules)
    takes about as long as a small stack program; overlapping the two is most
    of the wall time a preview can save.
    """
    analyzer = _driver()
    server = analyzer.PolicyPackServer(pack, project=load_project(project)["name"])
    failure: list[BaseException] = []

    # Resources are analysed as the program registers them (as the engine does): a worker
    # thread waits for the pack, then feeds it while the program is still running.
    pending: queue.Queue = queue.Queue()
    sessions: list = []

    def stream() -> None:
        try:
            server.start()
            session = server.session(config_path, project=server.project, stack=stack)
            sessions.append(session)
            while (r := pending.get()) is not None:
                session.add(r)
        except BaseException as exc:  # noqa: BLE001 - re-raised in the main thread
            failure.append(exc)
            while pending.get() is not None:  # drain so the program never blocks
                pass

    streamer = threading.Thread(target=stream, name="policy-pack-stream", daemon=True)
    streamer.start()
    try:
        with progress.phase("program", f"running the {stack} stack program under simulated AWS"):
            try:
                recording = run_stack_program(
                    stack, config=cfg, project_dir=project, on_resource=pending.put, account=account
                )
            finally:
                pending.put(None)
        with progress.phase(
            "analysis",
            f"analyzing {len(recording.resources)} resources with the policy pack ({pack.name})",
        ):
            streamer.join()
            if failure:
                exc = failure[0]
                if not sessions:
                    raise BrokenPackError(
                        f"the policy pack in {pack} failed to start: {type(exc).__name__}: {exc}"
                    ) from exc
                if isinstance(exc, analyzer.PolicyPackError):
                    raise BrokenPackError(f"the policy pack in {pack} failed: {exc}") from exc
                raise exc
            analysis = _guarded(pack, lambda: sessions[0].finish(recording))
    finally:
        pending.put(None)
        streamer.join()
        for session in sessions:
            session.close()
        server.close()
    return recording, analysis


def _display_path(path: Path) -> str:
    try:
        return path.resolve().relative_to(REPO_ROOT).as_posix()
    except ValueError:
        return str(path)


def render(report: PreviewReport, fmt: str) -> str:
    if fmt == "text":
        return report.to_text()
    if fmt == "json":
        return report.to_json()
    if fmt == "sarif":
        from regulated_inference.preview.sarif import render_sarif

        return render_sarif(report)
    if fmt == "markdown":
        from regulated_inference.preview.markdown import render_markdown

        return render_markdown(report)
    if fmt == "evidence":
        from regulated_inference.preview.evidence import render_evidence_json

        return render_evidence_json(report)
    if fmt == "evidence-markdown":
        from regulated_inference.preview.evidence import build_evidence, render_evidence_markdown

        return render_evidence_markdown(build_evidence(report))
    raise ValueError(f"unknown format {fmt!r}")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m regulated_inference.preview",
        description=(
            "Offline preview: run the stack program under a simulated AWS, judge every resource with "
            "the CrossGuard policy pack over the analyzer protocol, and report. No cloud account needed."
        ),
        epilog="Exit status: 0 no mandatory violation, 1 mandatory violations, 2 bad input, 3 internal error.",
    )
    parser.add_argument(
        "--stack", "-s", default="dev", help="stack name: Pulumi.<stack>.yaml (default: dev)"
    )
    parser.add_argument(
        "--format", "-f", choices=FORMATS, default="text", help="report format (default: text)"
    )
    parser.add_argument(
        "--output",
        "-o",
        action="append",
        type=_output_spec,
        default=[],
        metavar="[FORMAT=]FILE",
        help="write the --format report to FILE instead of stdout; FORMAT=FILE (FORMAT one of "
        f"{', '.join(FORMATS)}) writes that format as well, from the same run (repeatable)",
    )
    parser.add_argument(
        "--evidence",
        type=Path,
        metavar="FILE",
        help="also write the deployment evidence document (JSON, docs/schemas/evidence.schema.json) "
        "to FILE and its readable rendering to FILE with a .md suffix",
    )
    parser.add_argument(
        "--export",
        type=Path,
        metavar="FILE",
        help="also write the recorded resources as a Pulumi stack export (deployment JSON v3) "
        "for `pulumi stack import` + `pulumi policy analyze`",
    )
    parser.add_argument(
        "--compare-cost",
        type=Path,
        metavar="BASE.json",
        help="a JSON report of the base branch: show the cost difference against it",
    )
    parser.add_argument(
        "--account",
        type=_account_id,
        metavar="ID",
        help="the 12-digit AWS account the simulated caller is in (default: the first of the "
        "stack's aws:allowedAccountIds, else a stable made-up account)",
    )
    parser.add_argument(
        "--project-dir",
        type=Path,
        help="directory holding Pulumi.yaml and Pulumi.<stack>.yaml (default: the current directory "
        "if it has a Pulumi.yaml, else this repository)",
    )
    parser.add_argument(
        "--policy-pack",
        type=Path,
        help="policy pack directory (default: <project-dir>/policies, else this repository's)",
    )
    parser.add_argument(
        "--policy-pack-config",
        type=Path,
        help="policy config JSON, as for `pulumi preview --policy-pack-config` "
        "(default: <policy-pack>/config/<stack>.json)",
    )
    return parser


def _output_spec(value: str) -> tuple[str | None, Path]:
    """`--output` value: `FORMAT=FILE` when the part before `=` names a format, else `FILE`."""
    fmt, sep, path = value.partition("=")
    if sep and fmt in FORMATS and path:
        return fmt, Path(path)
    return None, Path(value)


def _account_id(value: str) -> str:
    if not is_account_id(value):  # 12 ASCII digits (str.isdigit() also admits other scripts')
        raise argparse.ArgumentTypeError(f"{value!r} is not an AWS account id (12 digits)")
    return value


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def tune_gc() -> None:
    """Collect garbage less often: the preview is a short-lived, allocation-heavy process.

    The Pulumi runtime allocates hundreds of thousands of small objects (outputs,
    futures, tasks) and pulumi_aws imports thousands of classes; with the default
    thresholds the cyclic collector rescans them all again and again, which made
    the program phase of a 50-model stack 40% slower (see docs/performance.md).
    Reference counting still frees almost everything immediately.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(100_000, 50, 100)


def main(argv: list[str] | None = None, *, analyze: Analyze | None = None) -> int:
    args = build_parser().parse_args(argv)
    err = sys.stderr
    progress = Progress(stream=err)
    try:
        cost_base = load_cost_base(args.compare_cost) if args.compare_cost else None
        report = run_preview(
            args.stack,
            project_dir=args.project_dir,
            policy_pack=args.policy_pack,
            policy_config=args.policy_pack_config,
            analyze=analyze,
            progress=progress,
            account=args.account or "",
        )
    except Exception as exc:  # noqa: BLE001 - the program crashed: its traceback is the message
        # The input-error types are looked up only now: importing them first (the config layer
        # imports the components and pulumi_aws, ~1 s) would delay the policy pack's start,
        # which run_preview overlaps with exactly those imports.
        if isinstance(exc, _config_error_types()):
            print(f"error: {exc}", file=err)
            return EXIT_BAD_INPUT
        print(f"error: the {args.stack} stack program failed:", file=err)
        traceback.print_exc(file=err)
        return EXIT_BAD_INPUT

    report.cost_base = cost_base
    outputs = [(fmt or args.format, path) for fmt, path in args.output]
    if args.evidence:
        outputs += [
            ("evidence", args.evidence),
            ("evidence-markdown", args.evidence.with_suffix(".md")),
        ]
    to_stdout = all(fmt is not None for fmt, _ in args.output)  # a plain FILE replaces stdout
    formats = sorted({fmt for fmt, _ in outputs} | ({args.format} if to_stdout else set()))
    try:
        with progress.phase("report", f"writing the {', '.join(formats)} report(s)"):
            rendered = {fmt: render(report, fmt) for fmt in formats}  # each format once
            for fmt, path in outputs:
                _write(path, rendered[fmt])
            if to_stdout:
                sys.stdout.write(rendered[args.format])
                sys.stdout.flush()
            if args.export:
                from regulated_inference.preview.stack_export import render_export

                _write(args.export, render_export(report.recording))
    except OSError as exc:
        print(f"error: cannot write: {exc}", file=err)
        return EXIT_BAD_INPUT
    except Exception:  # noqa: BLE001
        print("error: internal error in the offline preview (please report):", file=err)
        traceback.print_exc(file=err)
        return EXIT_INTERNAL

    if report.budget_exceeded:
        print(f"error: {report.cost.budget_message()}", file=err)
    if outputs or args.export:
        written = ", ".join(
            f"{label} {path}" for label, path in [*outputs, ("stack export", args.export)] if path
        )
        print(
            f"offline-preview: {args.stack}: {len(report.mandatory)} mandatory, {len(report.advisory)} advisory "
            f"finding(s); wrote {written}",
            file=err,
        )
    return report.exit_code
