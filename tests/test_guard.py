"""Unit tests of the grading guard's pieces that need no kernel: labels, notes, the plugin's
settings, and the Gradescope results validator."""

from __future__ import annotations

import nbformat
import pytest

from autograder.gradescope import validate_results
from autograder.otter_plugin import GradingGuard, describe_events, label_cells


def notebook(*sources: str) -> nbformat.NotebookNode:
    return nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources])


def test_cells_are_labelled_and_belong_to_the_next_checked_question():
    nb = notebook(
        '# Setup\n# `grader.check("q1")` runs the public tests\ngrader = otter.Notebook()',
        "def f(x):\n    return x",
        'grader.check("q1")',
        "def g(x):\n    return 2 * x",
        "y = g(1)",
        'grader.check("q2")',
        "print('done')",
    )
    questions = label_cells(nb)
    assert all(c.source.rstrip().endswith(f"# graded-cell {i}") for i, c in enumerate(nb.cells))
    assert questions == {0: "q1", 1: "q1", 2: "q1", 3: "q2", 4: "q2", 5: "q2"}
    assert label_cells(nb) == questions, "labelling twice must not add a second label"
    assert nb.cells[1].source.count("# graded-cell") == 1


def test_notes_name_the_question_and_the_limit():
    events = [
        {"event": "cell_timeout", "cell": 3, "question": "q2", "limit": 30.0},
        {"event": "cell_timeout", "cell": 3, "question": "q2", "limit": 30.0},
        {"event": "exit_blocked", "what": "os._exit()", "cell": 1},
        {"event": "tampering", "replaced": ["numpy.allclose"], "when": "before cell 4"},
        {"event": "unknown"},
    ]
    crashes = [{"cell": 7, "question": "q3", "hung": False}, {"test": "q4", "question": "q4"}]
    notes = describe_events(events, crashes)
    texts = [text for _, text in notes]
    assert [q for q, _ in notes] == ["q3", "q4", "q2", "", ""]
    assert "A cell (question q3) crashed the Python kernel" in texts[0]
    assert "The tests of q4 crashed" in texts[1]
    assert "(question q2) ran past the 30 s limit" in texts[2]
    assert "os._exit()" in texts[3] and "numpy.allclose" in texts[4]


def test_plugin_refuses_unknown_settings():
    with pytest.raises(ValueError, match="unknown GradingGuard settings"):
        GradingGuard(None, {}, {"cell_timout": 3})
    guard = GradingGuard(None, {}, {"cell_timeout": 3})
    assert guard.config["cell_timeout"] == 3 and guard.config["test_timeout"] == 60


def test_plugin_inserts_the_guard_first_and_skips_crashed_cells():
    guard = GradingGuard(None, {}, {})
    nb = notebook("import numpy as np", "def f():\n    return 1", 'grader.check("q1")')
    guard.skip_cells = {1}
    out = guard.before_execution(nb)
    assert "_guard_namespace['install']" in out.cells[0].source
    assert "crashed the Python kernel when graded and was skipped" in out.cells[2].source
    assert "def f()" not in out.cells[2].source
    assert "import numpy as np" in out.cells[1].source


def test_gradescope_validator_accepts_the_documented_format():
    good = {
        "score": 3.0,
        "output": "notes",
        "stdout_visibility": "hidden",
        "tests": [
            {"name": "q1", "score": 2, "max_score": 2, "visibility": "hidden", "output": "ok"},
            {"name": "Public Tests", "status": "passed", "visibility": "visible", "output": ""},
        ],
    }
    assert validate_results(good) == []


@pytest.mark.parametrize(
    ("results", "problem"),
    [
        ([], "must be a JSON object"),
        ({"tests": [{"name": "q1", "score": "2"}]}, "tests[0].score: expected Real, got str"),
        ({"tests": [{"name": "q1", "score": 3, "max_score": 2}]}, "exceeds max_score"),
        ({"tests": [{"name": "q1", "status": "ok"}]}, "status 'ok' not in"),
        ({"score": 1, "visibility": "sometimes"}, "visibility: 'sometimes' not in"),
        ({"score": 1, "grade": 1}, "unknown field 'grade'"),
        ({"tests": [{"name": "q1"}]}, "needs a score or a status"),
        ({"score": True}, "results.score: expected Real, got bool"),
    ],
)
def test_gradescope_validator_names_each_departure(results, problem):
    assert any(problem in p for p in validate_results(results)), validate_results(results)
