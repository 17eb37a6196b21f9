"""`make bench`: how fast the offline preview is, and how it grows with the stack.

    python -m tools.bench [--runs N] [--sizes 1,10,50] [--json FILE]

Three measurements, each the median of `--runs` runs:

1. **Preview** of dev and prod as a user runs it: `python -m regulated_inference.preview`
   in a fresh process per run (interpreter start, imports, program, pack
   start, analysis, report). Wall time, and peak resident memory from the
   kernel's accounting of that process and its children (`os.wait4`), the
   largest of the preview process and the policy-pack process.
2. **Policy analysis alone**: the prod recording analysed over the analyzer
   protocol by an already started pack (Configure, `Analyze` per resource,
   `AnalyzeStack`), per analysed resource.
3. **Scaling**: prod with its models list cloned to 1, 10 and 50 models (new
   names), run in-process (imports warm) and analysed by the started pack.
   Time per resource must stay flat: a stack policy quadratic in the
   resource count would show up as a growing per-resource time.

Targets (2 cores): prod preview < 3 s, analysis < 1 ms per resource,
50-model stack < 20 s.

Bytecode: Python caches each module's compiled code in `__pycache__` on a user's first run (pip
does it at install for a non-editable install). With `PYTHONDONTWRITEBYTECODE` set, as in some
CI and sandbox environments, nothing is cached and every preview recompiles the project's own
sources (about 95 modules: 0.34 s of CPU at load 6); the benchmark then compiles them once
beforehand (as a first run would), says so in its output, and measures the runs a user repeats.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from regulated_inference.simulation.engine import REPO_ROOT, load_stack_config, run_stack_program

TARGET_PREVIEW_S = 3.0
TARGET_ANALYSIS_MS = 1.0
TARGET_50_MODELS_S = 20.0
MODELS_KEY = "regulated-inference:models"


@dataclass
class PreviewRun:
    stack: str
    wall_s: list[float] = field(default_factory=list)
    peak_rss_mb: list[float] = field(default_factory=list)
    phases: dict[str, list[float]] = field(default_factory=dict)
    exit_codes: list[int] = field(default_factory=list)
    resources: int = 0


@dataclass
class ScalePoint:
    models: int
    resources: int
    program_s: float
    analysis_s: float

    @property
    def total_s(self) -> float:
        return self.program_s + self.analysis_s

    @property
    def ms_per_resource(self) -> float:
        return 1000 * self.total_s / self.resources


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


# -- bytecode ----------------------------------------------------------------------

#: The project's sources a preview imports (the pack's `policies/venv` is not ours to compile).
SOURCE_DIRS = (("regulated_inference", None), ("stacks", 0), ("policies", 0), ("policies/rules", 0))


def precompile(root: Path = REPO_ROOT) -> bool:
    """Compile the project's sources into `__pycache__` when this Python would not (see above).

    `compileall` writes the caches whatever `PYTHONDONTWRITEBYTECODE` says; Python still reads
    them, and ignores (recompiles) any a later edit made stale. Returns whether it compiled."""
    if not sys.flags.dont_write_bytecode:
        return False
    import compileall

    for rel, levels in SOURCE_DIRS:
        kwargs = {} if levels is None else {"maxlevels": levels}
        compileall.compile_dir(root / rel, quiet=1, **kwargs)
    return True


# -- 1. the preview, as a user runs it -------------------------------------------


def measure_preview(stack: str, runs: int) -> PreviewRun:
    result = PreviewRun(stack)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / f"{stack}.json"
        for _ in range(runs):
            cmd = [
                sys.executable,
                "-m",
                "regulated_inference.preview",
                "--stack",
                stack,
                "--format",
                "json",
                "--output",
                str(out),
            ]
            errfile = Path(tmp) / "stderr.txt"
            with errfile.open("wb") as err_out:
                start = time.perf_counter()
                proc = subprocess.Popen(
                    cmd, cwd=REPO_ROOT, stdout=subprocess.DEVNULL, stderr=err_out
                )
                # wait4: this child's own rusage; ru_maxrss covers it and the children it waited
                # for (the policy pack), i.e. the larger of the two processes (Linux: KiB).
                _, status, usage = os.wait4(proc.pid, 0)
                wall = time.perf_counter() - start
            proc.returncode = os.waitstatus_to_exitcode(status)
            if proc.returncode not in (0, 1):
                raise RuntimeError(
                    f"preview of {stack} failed ({proc.returncode}):\n{errfile.read_text()}"
                )
            result.wall_s.append(wall)
            result.peak_rss_mb.append(usage.ru_maxrss / 1024)
            result.exit_codes.append(proc.returncode)
            data = json.loads(out.read_text())
            result.resources = data["summary"]["total"]
            for phase, seconds in data["timings"].items():
                result.phases.setdefault(phase, []).append(seconds)
    return result


# -- 2 and 3: analysis alone, scaling ----------------------------------------------


def _renamed(value: Any, old: str, new: str) -> Any:
    """`value` with every occurrence of `old` in its strings replaced (namespaces, keys, repositories)."""
    if isinstance(value, str):
        return value.replace(old, new)
    if isinstance(value, dict):
        return {k: _renamed(v, old, new) for k, v in value.items()}
    if isinstance(value, list):
        return [_renamed(v, old, new) for v in value]
    return value


def generated_config(models: int, stack: str = "prod") -> dict[str, str]:
    """The stack's config with its models list cloned to `models` entries, each renamed.

    Everything derived from a model's name (Kubernetes namespace, artifact key,
    repository) is renamed with it, so the clones are as distinct as real models.
    """
    cfg = load_stack_config(stack)
    base = json.loads(cfg[MODELS_KEY])
    clones = []
    for i in range(models):
        model = base[i % len(base)]
        clones.append(_renamed(copy.deepcopy(model), model["name"], f"model-{i + 1:03d}"))
    out = dict(cfg)
    out[MODELS_KEY] = json.dumps(clones)
    return out


def measure_analysis(server: Any, runs: int) -> dict[str, float]:
    recording = run_stack_program("prod")
    config = REPO_ROOT / "policies" / "config" / "prod.json"
    server.analyze(recording, config)  # warm-up: first Configure, pack imports
    seconds, analyzed = [], 0
    for _ in range(runs):
        start = time.perf_counter()
        result = server.analyze(recording, config)
        seconds.append(time.perf_counter() - start)
        analyzed = result.resources_analyzed
    median = _median(seconds)
    return {
        "resources_analyzed": analyzed,
        "median_s": median,
        "ms_per_resource": 1000 * median / max(analyzed, 1),
    }


def measure_scaling(server: Any, sizes: list[int], runs: int) -> list[ScalePoint]:
    config = REPO_ROOT / "policies" / "config" / "prod.json"
    run_stack_program("prod")  # warm the imports once, so every size is measured alike
    points = []
    for n in sizes:
        cfg = generated_config(n)
        program, analysis, resources = [], [], 0
        for _ in range(runs):
            start = time.perf_counter()
            recording = run_stack_program("prod", config=cfg)
            mid = time.perf_counter()
            server.analyze(recording, config)
            program.append(mid - start)
            analysis.append(time.perf_counter() - mid)
            resources = len(recording.resources)
        points.append(ScalePoint(n, resources, _median(program), _median(analysis)))
    return points


def linear_fit(points: list[ScalePoint]) -> dict[str, float]:
    """Least-squares time = a + b·resources, and how well a line explains the points."""
    xs = [p.resources for p in points]
    ys = [p.total_s for p in points]
    if len(points) < 2:
        return {"intercept_s": float("nan"), "ms_per_resource": float("nan"), "r2": float("nan")}
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    sxx = sum((x - mx) ** 2 for x in xs)
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sxx
    intercept = my - slope * mx
    ss_tot = sum((y - my) ** 2 for y in ys)
    ss_res = sum((y - (intercept + slope * x)) ** 2 for x, y in zip(xs, ys, strict=True))
    return {
        "intercept_s": intercept,
        "ms_per_resource": 1000 * slope,
        "r2": 1 - ss_res / ss_tot if ss_tot else 1.0,
    }


# -- report ---------------------------------------------------------------------


def _ok(value: float, target: float) -> str:
    return "ok" if value < target else "OVER TARGET"


def render(
    previews: list[PreviewRun], analysis: dict[str, float], points: list[ScalePoint], runs: int
) -> str:
    lines = [
        f"Offline preview benchmark — medians of {runs} runs, {os.cpu_count()} cores, Python {sys.version.split()[0]}",
        "",
        "1. Preview (fresh process per run: python -m regulated_inference.preview --format json)",
        f"   {'stack':<6} {'resources':>9} {'wall s':>8} {'peak RSS MB':>12} {'program s':>10} {'analysis s':>11}  target",
    ]
    for p in previews:
        wall = _median(p.wall_s)
        target = (
            f"< {TARGET_PREVIEW_S:.0f} s: {_ok(wall, TARGET_PREVIEW_S)}"
            if p.stack == "prod"
            else ""
        )
        lines.append(
            f"   {p.stack:<6} {p.resources:>9} {wall:>8.2f} {_median(p.peak_rss_mb):>12.0f} "
            f"{_median(p.phases.get('program', [])):>10.2f} {_median(p.phases.get('analysis', [])):>11.2f}  {target}"
        )
    lines += [
        "",
        "2. Policy analysis alone (started pack; Configure + Analyze per resource + AnalyzeStack), prod",
        f"   {analysis['resources_analyzed']} resources in {analysis['median_s'] * 1000:.0f} ms = "
        f"{analysis['ms_per_resource']:.2f} ms per resource  "
        f"(target < {TARGET_ANALYSIS_MS:.0f} ms: {_ok(analysis['ms_per_resource'], TARGET_ANALYSIS_MS)})",
        "",
        "3. Scaling (prod with N cloned models; program in-process, imports warm; analysis by the started pack)",
        f"   {'models':>6} {'resources':>9} {'program s':>10} {'analysis s':>11} {'total s':>8} {'ms/resource':>12}",
    ]
    for pt in points:
        lines.append(
            f"   {pt.models:>6} {pt.resources:>9} {pt.program_s:>10.2f} {pt.analysis_s:>11.2f} "
            f"{pt.total_s:>8.2f} {pt.ms_per_resource:>12.2f}"
        )
    fit = linear_fit(points)
    lines.append(
        f"   linear fit: {fit['intercept_s']:.2f} s + {fit['ms_per_resource']:.2f} ms × resources, "
        f"r² = {fit['r2']:.4f}"
    )
    biggest = max(points, key=lambda p: p.models) if points else None
    if biggest and biggest.models == 50:
        lines.append(
            f"   50-model stack: {biggest.total_s:.1f} s (target < {TARGET_50_MODELS_S:.0f} s: "
            f"{_ok(biggest.total_s, TARGET_50_MODELS_S)})"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.bench", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "--runs", type=int, default=5, help="runs per measurement (median; default 5)"
    )
    parser.add_argument(
        "--sizes", default="1,10,50", help="model counts for the scaling run (default 1,10,50)"
    )
    parser.add_argument("--json", type=Path, help="also write the raw figures as JSON")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]

    from regulated_inference.preview.analyzer import PolicyPackServer
    from regulated_inference.preview.cli import tune_gc

    tune_gc()  # in-process runs measured with the same collector settings as the CLI

    started = time.perf_counter()
    if precompile():
        print(
            "bytecode: PYTHONDONTWRITEBYTECODE is set; compiled the project's sources into "
            "__pycache__ first, as a user's first run would",
            flush=True,
        )
    print("measuring the dev and prod previews…", file=sys.stderr, flush=True)
    previews = [measure_preview(stack, args.runs) for stack in ("dev", "prod")]
    with PolicyPackServer() as server:
        print("measuring the policy analysis…", file=sys.stderr, flush=True)
        analysis = measure_analysis(server, args.runs)
        print(f"measuring scaling over {sizes} models…", file=sys.stderr, flush=True)
        points = measure_scaling(server, sizes, max(3, args.runs // 2 + 1) if args.runs > 1 else 1)
    print(render(previews, analysis, points, args.runs), end="")
    print(f"(benchmark took {time.perf_counter() - started:.0f} s)")
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "previews": [asdict(p) for p in previews],
                    "analysis": analysis,
                    "scaling": [asdict(p) | {"total_s": p.total_s} for p in points],
                    "fit": linear_fit(points),
                },
                indent=2,
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
