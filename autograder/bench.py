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
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from .build import Built
from .catalog import HELPER_PACKAGE
from .runner import grade_notebook

MARKER = "BENCH-LATENCY "


@dataclass
class Figures:
    assignment: str
    plain_seconds: float
    grading_seconds: float
    score: str
    check_latency: dict[str, float] = field(default_factory=dict)

    @property
    def ratio(self) -> float:
        return self.grading_seconds / self.plain_seconds if self.plain_seconds else float("nan")


def bench(built: Built, *, timeout: float | None = None) -> Figures:
    timeout = timeout or built.assignment.settings.submission_timeout
    work = Path(tempfile.mkdtemp(prefix=f"bench-{built.assignment.name}-"))
    try:
        plain, latency = _execute_plainly(built, work / "plain", timeout)
        result = grade_notebook(
            built.autograder_zip, built.solution_notebook, work / "graded", timeout=timeout
        )
        score = (
            f"{result.total:g}/{result.possible:g}" if result.status == "graded" else result.status
        )
        return Figures(built.assignment.name, plain, result.seconds, score, latency)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _execute_plainly(built: Built, folder: Path, timeout: float) -> tuple[float, dict[str, float]]:
    """Run the reference like a student would (all cells, in order), then time each check."""
    from nbclient import NotebookClient

    folder.mkdir(parents=True)
    shutil.copytree(built.student_dir / "tests", folder / "tests")
    shutil.copytree(HELPER_PACKAGE, folder / "shared", ignore=shutil.ignore_patterns("__pycache__"))
    notebook = nbformat.read(built.solution_notebook, as_version=4)
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
    text = "".join(o.get("text", "") for o in cell.outputs if o.get("output_type") == "stream")
    payload = next(
        (line[len(MARKER) :] for line in text.splitlines() if line.startswith(MARKER)), "{}"
    )
    return plain, json.loads(payload)


def table(figures: list[Figures]) -> str:
    lines = [
        f"{'assignment':<28}{'plain (s)':>10}{'grading (s)':>13}{'ratio':>7}{'score':>9}"
        f"  grader.check latency per question (s)"
    ]
    for f in figures:
        latency = ", ".join(f"{q} {s:.3f}" for q, s in f.check_latency.items())
        worst = max(f.check_latency.values(), default=float("nan"))
        lines.append(
            f"{f.assignment:<28}{f.plain_seconds:>10.2f}{f.grading_seconds:>13.2f}"
            f"{f.ratio:>7.2f}{f.score:>9}  max {worst:.3f}: {latency}"
        )
    return "\n".join(lines)
