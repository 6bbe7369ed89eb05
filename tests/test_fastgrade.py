"""The fast path: one process, forked where each edit begins, scores like a full grading."""

from __future__ import annotations

import nbformat
import pytest

from autograder.fastgrade import fast_grade, grading_cells
from autograder.mutants import Edit, Mutant, Variant, apply_edits

pytestmark = pytest.mark.slow

STEP = "return (np.asarray(x) >= 0).astype(float)"


def edit(find: str, replace: str, name: str = "edit") -> Variant:
    return Variant(name, "test edit", (Edit(find, replace),))


@pytest.fixture(scope="module")
def reference(tiny_build):
    return nbformat.read(tiny_build.solution_notebook, as_version=4)


def scores(result) -> dict[str, float]:
    return {name: q.score for name, q in result.questions.items()}


def test_edits_are_graded_from_where_they_begin(tiny_build, reference, tmp_path):
    mutant = Mutant("strict", "x", (Edit(STEP, STEP.replace(">=", ">")),), ("q1",), "step up")
    notebooks = {
        "reference": reference,
        "mutant": apply_edits(reference, mutant),
        "variant": apply_edits(reference, edit("return 2 * x", "return x + x")),
    }
    results = fast_grade(tiny_build.autograder_zip, notebooks, "reference", tmp_path, jobs=2)
    assert {k: r.status for k, r in results.items()} == dict.fromkeys(notebooks, "graded")
    assert scores(results["reference"]) == {"q1": 2.0, "q2": 1.0}
    assert scores(results["variant"]) == {"q1": 2.0, "q2": 1.0}
    assert scores(results["mutant"])["q1"] < 2.0 and scores(results["mutant"])["q2"] == 1.0
    assert "is 0 a step up" in results["mutant"].questions["q1"].failures
    assert all(r.fast for r in results.values())


def test_cells_are_those_otter_executes(tiny_build, reference):
    cells = grading_cells(nbformat.from_dict(reference), {"seed": 7, "seed_variable": "rng_seed"})
    assert "init_grading_mode" in cells[0]
    assert all(c.startswith("rng_seed = 7\n") for c in cells[1:])


def test_a_hanging_or_dying_edit_is_reported_not_graded(tiny_build, reference, tmp_path):
    notebooks = {
        "reference": reference,
        "hangs": apply_edits(reference, edit("return 2 * x", "while True:\n        pass")),
        "dies": apply_edits(
            reference, edit(STEP, "import os; os._exit(3)\n    " + STEP, name="dies")
        ),
    }
    results = fast_grade(
        tiny_build.autograder_zip, notebooks, "reference", tmp_path, jobs=2, timeout=10
    )
    assert results["reference"].status == "graded"
    assert results["hangs"].status == "timeout"
    assert results["dies"].status == "error"
