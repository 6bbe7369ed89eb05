"""Bench the kit itself: how long `make dist`, `verify` and the test groups take here.

Figures are printed, never asserted (speed targets are read, not tested):

- ``dist``: building an assignment whose committed record matches (what ``make dist`` does on
  a fresh clone): Otter Assign, the digest, publishing;
- ``verify``: a forced proof (the reference under the first seed and the stub in full; mutants,
  variants and the reference under the other seeds through the fast path), with the number
  of notebooks graded each way;
- ``fixed_cost``: what one full grading costs before any real work, the tiny fixture's
  reference graded with the worker forked warm and started cold (``grading.warm``);
- with ``tests``: the wall time of each test file of the suite, one pytest run each.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from . import catalog
from .build import build, publish
from .catalog import ROOT, Assignment
from .grading import warm
from .grading.runner import grade_notebook
from .records import make_record, matching_record, write_record
from .verify import verify


@dataclass
class KitFigures:
    assignment: str
    dist_seconds: float
    record_matched: bool
    verify_seconds: float | None = None
    graded_in_full: int = 0
    graded_fast: int = 0
    ok: bool | None = None


def bench_kit(assignment: Assignment, *, prove: bool = True) -> KitFigures:
    staging = Path(tempfile.mkdtemp(prefix=f"kitbench-{assignment.name}-"))
    try:
        started = time.perf_counter()
        built = build(assignment, staging)
        matched = matching_record(assignment) is not None
        if matched:
            publish(built)
        figures = KitFigures(assignment.name, time.perf_counter() - started, matched)
        if prove:
            started = time.perf_counter()
            report = verify(built, progress=False)
            figures.verify_seconds = time.perf_counter() - started
            figures.ok = report.ok
            fast = sum(1 for r in report.results.values() if r.fast)
            figures.graded_fast = fast
            figures.graded_in_full = len(report.results) - fast
            if report.ok and not matched:
                write_record(assignment, make_record(assignment, report))
        return figures
    finally:
        shutil.rmtree(staging, ignore_errors=True)


TINY = ROOT / "tests" / "fixtures" / "00_tiny"


def fixed_cost(repeat: int = 5) -> dict[str, float]:
    """Median wall seconds of a full grading of the tiny fixture's reference (two questions, numpy
    only), ``{"warm": ..., "cold": ...}``; the warm runs start after the server's first grading."""
    scratch = Path(tempfile.mkdtemp(prefix="kitbench-fixed-"))
    saved = (catalog.SOLUTIONS, catalog.ASSIGNMENTS, catalog.DIST)
    switch = os.environ.get(warm.SWITCH)
    try:
        shutil.copytree(TINY, scratch / "solutions" / TINY.name)
        catalog.SOLUTIONS, catalog.ASSIGNMENTS, catalog.DIST = (
            scratch / "solutions",
            scratch / "assignments",
            scratch / "dist",
        )
        built = build(Assignment(TINY.name), scratch / "staging")
        seconds: dict[str, list[float]] = {}
        for how in ("warm", "cold"):
            os.environ[warm.SWITCH] = "1" if how == "warm" else "0"
            for run in range(repeat + (how == "warm")):
                result = grade_notebook(
                    built.autograder_zip, built.solution_notebook, scratch / f"{how}-{run}"
                )
                if result.status != "graded" or result.total != result.possible:
                    raise RuntimeError(f"the tiny fixture graded {result.status}: {result.error}")
                seconds.setdefault(how, []).append(result.seconds)
        seconds["warm"] = seconds["warm"][1:]  # the first one waits for the server's imports
        return {how: statistics.median(values) for how, values in seconds.items()}
    finally:
        catalog.SOLUTIONS, catalog.ASSIGNMENTS, catalog.DIST = saved
        if switch is None:
            os.environ.pop(warm.SWITCH, None)
        else:
            os.environ[warm.SWITCH] = switch
        shutil.rmtree(scratch, ignore_errors=True)


def test_file_seconds() -> dict[str, float]:
    """Wall time of each test file, run alone (slow: the whole suite, file by file)."""
    seconds = {}
    for path in sorted((ROOT / "tests").glob("test_*.py")):
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(path)],
            cwd=ROOT,
            capture_output=True,
        )
        seconds[path.name] = time.perf_counter() - started
    return seconds


def kit_table(figures: list[KitFigures]) -> str:
    lines = [
        f"{'assignment':<24}{'dist':>9}  {'record':<8}{'verify':>9}  {'full':>5}{'fast':>6}  ok",
    ]
    for f in figures:
        proof = f"{f.verify_seconds:8.1f}s" if f.verify_seconds is not None else f"{'-':>9}"
        record = "matched" if f.record_matched else "stale"
        lines.append(
            f"{f.assignment:<24}{f.dist_seconds:8.1f}s  {record:<8}"
            f"{proof}  {f.graded_in_full:>5}{f.graded_fast:>6}  {'' if f.ok is None else f.ok}"
        )
    total = sum(f.dist_seconds for f in figures)
    lines.append(f"{'make dist (records matching)':<24}{total:8.1f}s")
    return "\n".join(lines)
