"""The red-team corpus (tests/redteam.py) against every assignment: each case's outcome holds.

Every assignment is built once, its autograder given short time limits so that the endless
loops end quickly, and every case is graded in parallel; the tests then read the outcomes.
"""

from __future__ import annotations

import json
import os
import shutil
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
import pytest

from autograder import catalog, zips
from autograder.build import build
from autograder.gradescope import validate_results
from autograder.grading.otter_plugin import PLUGIN_NAME
from autograder.grading.runner import grade_notebook
from tests.redteam import (
    CASES,
    EVERY,
    FULL,
    GENERIC,
    GENERIC_WITNESS,
    LOSES_QUESTION,
    TINY,
    WITNESS,
    ZERO,
    solution_cell,
    tag_answers,
)

pytestmark = pytest.mark.slow

REDTEAM_LIMIT = 20.0  # seconds for a cell or a test: short, so loops end fast
TINY_LIMIT = 8.0  # the tiny fixture's cells take milliseconds
FIXTURE = Path(__file__).parent / "fixtures" / "00_tiny"
ASSIGNMENTS = ["00_tiny", *(a.name for a in catalog.all_assignments())]


def with_limits(
    autograder_zip: Path, settings: catalog.Settings, destination: Path, limit: float
) -> Path:
    entries = zips.zip_entries(autograder_zip)
    config = json.loads(entries["otter_config.json"])
    for plugin in config["plugins"]:
        if PLUGIN_NAME in plugin:
            plugin[PLUGIN_NAME]["cell_timeout"] = min(settings.cell_timeout, limit)
            plugin[PLUGIN_NAME]["test_timeout"] = min(settings.test_timeout, limit)
    entries["otter_config.json"] = json.dumps(config).encode()
    return zips.write_zip(destination, entries)


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory):
    """{assignment: (built, {case: GradeResult})}, graded lazily, one assignment at a time."""
    cache = {}

    def grade(name: str):
        if name in cache:
            return cache[name]
        root = tmp_path_factory.mktemp(f"redteam-{name}")
        with pytest.MonkeyPatch.context() as patch:
            if name == "00_tiny":
                shutil.copytree(FIXTURE, root / "solutions" / name)
                patch.setattr(catalog, "SOLUTIONS", root / "solutions")
            assignment = catalog.Assignment(name)
            built = build(assignment, root / "build")
            settings = assignment.settings
        limit = TINY_LIMIT if name == "00_tiny" else REDTEAM_LIMIT
        autograder = with_limits(built.autograder_zip, settings, root / "limited.zip", limit)
        stub = nbformat.read(built.student_notebook, as_version=4)
        reference = tag_answers(nbformat.read(built.solution_notebook, as_version=4), stub)
        jobs = {}
        for case in cases_for(name):
            path = root / "cases" / case.name / assignment.notebook_name
            path.parent.mkdir(parents=True)
            nbformat.write(case.make(reference, stub), path)
            if case.extra_files:  # a zip submission: the notebook and files beside it
                archive = path.with_suffix(".zip")
                with zipfile.ZipFile(archive, "w") as zf:
                    zf.write(path, path.name)
                    for name_in_zip, content in case.extra_files:
                        zf.writestr(name_in_zip, content)
                path = archive
            jobs[case.name] = path
        workers = max(1, min(2, os.cpu_count() or 1))
        with ThreadPoolExecutor(workers) as pool:
            futures = {
                name: pool.submit(
                    grade_notebook, autograder, path, root / "out" / name, timeout=300
                )
                for name, path in jobs.items()
            }
            results = {name: future.result() for name, future in futures.items()}
        cache[name] = (built, reference, results, root / "out")
        return cache[name]

    return grade


def cases_for(assignment: str) -> list:
    """Every case on the tiny fixture; on real assignments the mixes stand in for the individual
    attacks, and the generic cases run on one witness (see ``tests/redteam.py``)."""
    if assignment == "00_tiny":
        return [c for c in CASES if c.scope != WITNESS]
    scopes = {EVERY, GENERIC, WITNESS} if assignment == GENERIC_WITNESS else {EVERY}
    return [c for c in CASES if c.scope in scopes]


def test_every_case_has_a_known_scope_and_the_witness_exists():
    assert {c.scope for c in CASES} <= {EVERY, GENERIC, TINY, WITNESS}
    assert GENERIC_WITNESS in ASSIGNMENTS


@pytest.mark.parametrize(
    ("assignment", "case"),
    [(a, c) for a in ASSIGNMENTS for c in cases_for(a)],
    ids=lambda value: value if isinstance(value, str) else value.name,
)
def test_redteam_case(outcomes, assignment, case):
    built, reference, results, out = outcomes(assignment)
    result = results[case.name]
    full = results["reference"]
    context = f"{case.name} on {assignment}: {case.description}\n{result.error or ''}\n"
    context += result.log[-2000:]
    assert result.status == "graded", context
    assert full.total == full.possible > 0, "the reference must score 100% under red-team limits"
    assert result.possible == full.possible, context
    text = json.dumps(result.results_json) + "".join(q.failures for q in result.questions.values())
    if case.score == FULL:
        assert result.total == full.total, context + text[:3000]
    elif case.score == ZERO:
        assert result.total == 0, context + text[:3000]
    elif case.score == LOSES_QUESTION:
        question = case.question or solution_cell(reference, needs_def=case.needs_def)[0]
        lost = result.questions[question]
        assert lost.score < lost.possible, context
        assert result.total > 0, f"{context}: the other questions must still be graded"
    if case.message:
        assert case.message in text, f"{context}: expected {case.message!r} in\n{text[:3000]}"
    if case.absent:
        assert case.absent not in text, f"{context}: false alarm {case.absent!r}:\n{text[:3000]}"
    # Bounded output whatever the submission printed: the log, the results, the feedback.
    assert len(json.dumps(result.results_json)) < 2_000_000, context
    assert (out / case.name / "grading.log").stat().st_size < 1_000_000, context
    problems = validate_results(result.results_json)
    assert not problems, problems


def test_endless_small_cells_leave_time_for_the_tests(tiny_build, tmp_path):
    """30,000 trivial cells after the first answer would outlast the submission's limit: once
    the time left is short, grading skips the remaining cells and still runs the tests, so the
    answers given before them keep their points (before, the whole run was a time-out with no
    score at all)."""
    from tests.redteam import solution_cell

    stub = nbformat.read(tiny_build.student_notebook, as_version=4)
    notebook = tag_answers(nbformat.read(tiny_build.solution_notebook, as_version=4), stub)
    at = notebook.cells.index(solution_cell(notebook)[1]) + 1
    notebook.cells[at:at] = [nbformat.v4.new_code_cell("pass") for _ in range(30_000)]
    path = tmp_path / tiny_build.solution_notebook.name
    nbformat.write(notebook, path)
    result = grade_notebook(tiny_build.autograder_zip, path, tmp_path / "out", timeout=60)
    assert result.status == "graded", f"{result.error}\n{result.log[-2000:]}"
    q1 = result.questions["q1"]  # answered before the endless cells; q2's answer comes after
    assert q1.score == q1.possible == 2, q1.failures
    assert result.possible == 3
    # The skipped cells are left out of the notebook kept for review (Otter pickles it before
    # it writes the results): one note says how many.
    kept = json.loads((tmp_path / "out" / "executed.ipynb").read_text())
    assert len(kept["cells"]) < 30_000
    assert "cells were not run" in "".join(kept["cells"][-1]["source"])
