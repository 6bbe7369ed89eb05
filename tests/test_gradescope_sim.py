"""Gradescope, imitated: the built zip alone, in an /autograder-like root, under Gradescope's
default half CPU and 768 MB (where this machine has cgroups), scores what local grading does."""

from __future__ import annotations

import json
import os
from concurrent.futures import ThreadPoolExecutor

import pytest

from autograder.build import build
from autograder.catalog import all_assignments
from autograder.gradescope import validate_results
from autograder.gradescope_sim import simulate
from autograder.records import read_record

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def simulated(tmp_path_factory):
    """{assignment: its reference's simulated run}: all at once, each in its own half-CPU
    cgroup: two halves per core at a time, so none waits for another and each runs at the
    speed Gradescope gives it."""
    builds = {a.name: build(a, tmp_path_factory.mktemp(f"sim-{a.name}")) for a in all_assignments()}
    at_once = max(1, min(len(builds), 2 * (os.cpu_count() or 1)))
    with ThreadPoolExecutor(max_workers=at_once) as pool:
        runs = {
            name: pool.submit(simulate, built.autograder_zip, built.solution_notebook)
            for name, built in builds.items()
        }
        return {name: run.result() for name, run in runs.items()}


@pytest.mark.parametrize("assignment", all_assignments(), ids=lambda a: a.name)
def test_the_reference_scores_on_gradescope_what_it_scores_locally(assignment, simulated):
    run = simulated[assignment.name]
    assert run.results is not None, f"no results.json:\n{run.log}"
    record = read_record(assignment)
    assert record, f"no committed record: run `python -m autograder build {assignment.name}`"
    local = next(v for k, v in record["scores"].items() if k.startswith("ref"))
    local_total = sum(float(s.split("/")[0]) for s in local.values())
    local_possible = sum(float(s.split("/")[1]) for s in local.values())
    assert (run.score, run.possible) == (local_total, local_possible), run.log
    if run.limited:  # it ran within 768 MB; keep 64 MB to spare
        # The grading process (the referee) holds torch as the kernel does. Measured with
        # `python -m autograder bench --gradescope` (which warns below 15% headroom) once no
        # grading process imported scikit-learn: 05 619 MB (717 before), 02 602 MB (680), the
        # rest 474-573 MB. The bound is looser than the warning: the cgroup also counts page
        # cache, charged to whichever of the runs side by side here first read a file.
        assert run.peak_mb < 704, f"peak {run.peak_mb:.0f} MB leaves too little of 768 MB"


def test_a_stub_gets_its_zero_on_gradescope_too(tiny_build):
    run = simulate(tiny_build.autograder_zip, tiny_build.student_notebook)
    assert run.results is not None, run.log
    assert run.score == 0 and run.possible == 3


def test_students_see_hidden_outcomes_after_publication_but_never_hidden_messages(
    tiny_build, tmp_path
):
    mutated = tmp_path / "00_tiny.ipynb"
    mutated.write_text(
        tiny_build.solution_notebook.read_text().replace(
            "return (np.asarray(x) >= 0).astype(float)", "return (np.asarray(x) > 0.5) * 1.0"
        )
    )
    run = simulate(tiny_build.autograder_zip, mutated)
    tests = {t["name"]: t for t in run.results["tests"]}
    assert tests["Public Tests"]["visibility"] == "visible"
    q1 = tests["q1"]
    assert q1["visibility"] == "after_published" and q1["score"] < q1["max_score"]
    assert "hidden test 2: failed" in q1["output"]
    assert "elementwise on any shape" not in json.dumps(
        [t for t in run.results["tests"] if t["visibility"] != "hidden"]
    )
    details = tests["Hidden test details (instructors only)"]
    assert details["visibility"] == "hidden" and "elementwise on any shape" in details["output"]
    # Hint tags are for the report: students read the hint alone, the tag stays machine-readable.
    visible = json.dumps([t["output"] for t in run.results["tests"] if t["visibility"] != "hidden"])
    assert "is 0 a step up" in visible and "[hint:" not in visible
    assert q1["extra_data"] == {"hint_ids": ["tiny.zero_step"]}
    assert "[hint: tiny.zero_step]" in details["output"]
    assert validate_results(run.results) == []  # the kit accepts everything it writes


def test_the_referees_attacks_fail_through_the_gradescope_entry_point(tiny_build, tmp_path):
    """The zip's own entry point, as Gradescope runs it (as root): a stub that reads every test
    file it can find into a public failure message, forges verdicts through the guard's record,
    writes a perfect summary beside the results and kills the grading processes scores 0, shows
    no hidden test and leaves a valid results.json."""
    import nbformat

    from tests.redteam import (
        FORGE_THROUGH_GC,
        KILL_THE_GRADER,
        READ_HIDDEN_TESTS,
        _with_first_answer_cell,
        stub_then_at_end,
    )

    stub = nbformat.read(tiny_build.student_notebook, as_version=4)
    hostile = _with_first_answer_cell(READ_HIDDEN_TESTS)(None, stub)
    for code in (FORGE_THROUGH_GC, KILL_THE_GRADER):
        hostile = stub_then_at_end(code)(None, hostile)
    path = tmp_path / tiny_build.student_notebook.name
    nbformat.write(hostile, path)
    run = simulate(tiny_build.autograder_zip, path)
    assert run.results is not None, run.log
    assert (run.score, run.possible) == (0, 3), run.log
    shown = json.dumps(run.results)
    assert "LEAKED" not in shown and "default_rng(7)" not in shown, shown[:3000]
    assert validate_results(run.results) == []
