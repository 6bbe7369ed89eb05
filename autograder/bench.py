"""Bench: how long an assignment takes to run, to grade, and to check, on this machine.

Per assignment: the wall time to execute the reference notebook plainly in a fresh kernel (as a
student's "Run all" would), the wall time to grade it with Otter (process start included), their
ratio, and the latency of ``grader.check`` for each question. Figures are printed, not asserted:
speed targets are checked by reading them, never by timed tests.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from . import zips
from .build import Built
from .catalog import HELPER_PACKAGE
from .grading.otter_plugin import PLUGIN_NAME
from .grading.runner import grade_notebook

MARKER = "BENCH-LATENCY "


@dataclass
class Figures:
    assignment: str
    plain_seconds: float
    grading_seconds: float
    score: str
    check_latency: dict[str, float] = field(default_factory=dict)
    unguarded_seconds: float | None = None
    runs: int = 1

    @property
    def ratio(self) -> float:
        return self.grading_seconds / self.plain_seconds if self.plain_seconds else float("nan")

    @property
    def guard_overhead(self) -> float | None:
        """Extra grading time the grading guard costs, as a fraction of grading without it."""
        if not self.unguarded_seconds:
            return None
        return self.grading_seconds / self.unguarded_seconds - 1


def bench(
    built: Built, *, timeout: float | None = None, repeat: int = 1, guard_overhead: bool = False
) -> Figures:
    """Median figures over ``repeat`` runs (each a fresh kernel and a fresh grading process)."""
    timeout = timeout or built.assignment.settings.submission_timeout
    work = Path(tempfile.mkdtemp(prefix=f"bench-{built.assignment.name}-"))
    try:
        unguarded_zip = _without_guard(built.autograder_zip, work) if guard_overhead else None
        plain, graded, unguarded, latencies, score = [], [], [], [], ""
        for run in range(repeat):
            seconds, latency = _execute_plainly(built, work / f"plain-{run}", timeout)
            plain.append(seconds)
            latencies.append(latency)
            result = grade_notebook(
                built.autograder_zip,
                built.solution_notebook,
                work / f"graded-{run}",
                timeout=timeout,
            )
            graded.append(result.seconds)
            score = (
                f"{result.total:g}/{result.possible:g}"
                if result.status == "graded"
                else result.status
            )
            if unguarded_zip is not None:
                bare = grade_notebook(
                    unguarded_zip, built.solution_notebook, work / f"bare-{run}", timeout=timeout
                )
                unguarded.append(bare.seconds)
        latency = {q: statistics.median(run[q] for run in latencies) for q in latencies[0]}
        return Figures(
            built.assignment.name,
            statistics.median(plain),
            statistics.median(graded),
            score,
            latency,
            statistics.median(unguarded) if unguarded else None,
            repeat,
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _without_guard(autograder_zip: Path, work: Path) -> Path:
    """A copy of the autograder with the grading plugin taken out, to measure what it costs."""
    entries = zips.zip_entries(autograder_zip)
    config = json.loads(entries["otter_config.json"])
    config["plugins"] = [p for p in config.get("plugins", []) if PLUGIN_NAME not in p]
    entries["otter_config.json"] = json.dumps(config, indent=2).encode()
    return zips.write_zip(work / "unguarded" / autograder_zip.name, entries)


def _execute_plainly(built: Built, folder: Path, timeout: float) -> tuple[float, dict[str, float]]:
    """Run the reference like a student would (all cells, in order), then time each check."""
    from nbclient import NotebookClient

    folder.mkdir(parents=True)
    shutil.copytree(built.student_dir / "tests", folder / "tests")
    shutil.copytree(HELPER_PACKAGE, folder / "shared", ignore=shutil.ignore_patterns("__pycache__"))
    notebook = nbformat.read(built.solution_notebook, as_version=4)
    # The export cell zips the notebook for submission (and re-runs every check): it is not
    # part of running the assignment, so it is left out of the plain time.
    notebook.cells = [c for c in notebook.cells if "grader.export(" not in c.source]
    nbformat.write(notebook, folder / built.assignment.notebook_name)
    questions = built.master.question_names
    timing = (
        "import json as _json, time as _time\n_latency = {}\n"
        f"for _q in {questions!r}:\n"
        "    _start = _time.perf_counter(); grader.check(_q)\n"
        "    _latency[_q] = _time.perf_counter() - _start\n"
        f"print({MARKER!r} + _json.dumps(_latency))"
    )
    os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    client = NotebookClient(
        notebook,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(folder)}},
    )
    started = time.perf_counter()
    with client.setup_kernel(cwd=str(folder)):
        for index, cell in enumerate(notebook.cells):
            client.execute_cell(cell, index)
        plain = time.perf_counter() - started
        notebook.cells.append(nbformat.v4.new_code_cell(timing))
        cell = client.execute_cell(notebook.cells[-1], len(notebook.cells) - 1)
    text = "".join(
        o.get("text", "")
        for o in cell.outputs
        if o.get("output_type") == "stream" and o.get("name") == "stdout"
    )
    payload = next(
        (line[len(MARKER) :] for line in text.splitlines() if line.startswith(MARKER)), "{}"
    )
    return plain, json.loads(payload)


def table(figures: list[Figures]) -> str:
    header = (
        f"{'assignment':<24}{'plain (s)':>10}{'grading (s)':>13}{'ratio':>7}{'guard':>8}"
        f"{'score':>8}  grader.check latency (s): max, then per question"
    )
    lines = [header]
    for f in figures:
        latency = ", ".join(f"{q} {s:.3f}" for q, s in f.check_latency.items())
        worst = max(f.check_latency.values(), default=float("nan"))
        guard = f"{100 * f.guard_overhead:+.0f}%" if f.guard_overhead is not None else "-"
        lines.append(
            f"{f.assignment:<24}{f.plain_seconds:>10.2f}{f.grading_seconds:>13.2f}"
            f"{f.ratio:>7.2f}{guard:>8}{f.score:>8}  {worst:.3f}: {latency}"
        )
    runs = figures[0].runs if figures else 1
    lines.append(
        f"(medians of {runs} run{'s' if runs != 1 else ''}; ratio = grading / plain; guard = "
        "grading time added by the grading guard, when measured)"
    )
    return "\n".join(lines)
