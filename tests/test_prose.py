"""The prose suffices: stubs compile, given cells read only what a question asks for, and a
notebook holding only what the prose asks runs through every cell (``autograder.prose``)."""

from __future__ import annotations

import ast

import nbformat
import pytest

from autograder.build import build
from autograder.prose import (
    bound_names,
    loaded_names,
    names_tests_read,
    run_every_cell,
    unasked_reads,
    uncompilable_cells,
)
from autograder.verify import verify

# q2's answer also computes a value no question asks for, and a given cell after it reads it.
UNASKED_ANSWER = (
    "    return 2 * x\n    # END SOLUTION\n\n\n# BEGIN SOLUTION\ndoubled = double(21)\n"
    "# END SOLUTION\n"
)
UNASKED_READER = "# %% [raw]\n# # END QUESTION\n\n# %%\nprint('twice 21 is', doubled)\n"
# A multi-line value with a SOLUTION marker on each line: its stub keeps the indented lines.
MULTILINE_ANSWER = (
    '    return 2 * x\n    # END SOLUTION\n\n\ntable = {  # SOLUTION\n    "a": 1,  # SOLUTION\n'
    "}  # SOLUTION\n"
)


def _plant(tiny, answer: str, reader: str = "") -> None:
    text = tiny.master.read_text()
    text = text.replace("    return 2 * x\n    # END SOLUTION\n", answer, 1)
    if reader:
        parts = text.rsplit("# %% [raw]\n# # END QUESTION\n", 1)
        text = reader.join(parts)
    tiny.master.write_text(text)


def _cell(source: str, tags=()) -> nbformat.NotebookNode:
    cell = nbformat.v4.new_code_cell(source)
    if tags:
        cell.metadata["tags"] = list(tags)
    return cell


def test_bound_and_loaded_names_follow_python_scoping():
    tree = ast.parse(
        "import numpy as np\nfrom os import path\nx, (y, z) = 1, (2, 3)\n"
        "for i in range(3):\n    total = i\nwith open('f') as fh:\n    pass\n"
        "def f(a):\n    inner = a\n    return inner\nclass C:\n    field = 1\n"
        "if (w := 4):\n    pass\n"
    )
    assert bound_names(tree) == {"np", "path", "x", "y", "z", "i", "total", "fh", "f", "C", "w"}
    reads = loaded_names(ast.parse("def g(a):\n    return a + b\nprint(model.d, c)\nc = 1\n"))
    assert reads == {"b", "print", "model"}


def test_tests_read_their_parameters_and_env_lookups():
    source = (
        "def test_a(step, env):\n    m = env.get('trained_model')\n    n = env['losses']\n"
        "def helper(not_a_name):\n    pass\n"
    )
    assert names_tests_read([source]) == {"step", "env", "trained_model", "losses"}


def test_an_unparseable_cell_is_named():
    notebook = nbformat.v4.new_notebook(
        cells=[_cell("%matplotlib inline\nx = 1"), _cell("counts = ...\n    ...\n...\n")]
    )
    problems = uncompilable_cells(notebook)
    assert len(problems) == 1 and problems[0].startswith("cell 1 (counts = ...)")
    assert "IndentationError" in problems[0]


def test_a_given_cell_may_read_what_the_stub_binds_or_a_test_reads_but_nothing_else():
    answer = ["otter_assign_solution_cell"]
    reference = nbformat.v4.new_notebook(
        cells=[
            _cell("import numpy as np"),
            _cell("def f(x):\n    return x\nasked = f(1)\nextra = f(2)\ntested = 3", answer),
            _cell("print(asked, tested, np, f)"),
            _cell("print(extra)"),
            _cell("grader.check('q1')"),
        ]
    )
    student = nbformat.v4.new_notebook(
        cells=[
            reference.cells[0],
            _cell("def f(x):\n    ...\nasked = ...", answer),
            *reference.cells[2:],
        ]
    )
    problems = unasked_reads(reference, student, ["def test_q1(tested):\n    pass\n"])
    assert len(problems) == 1
    assert problems[0].startswith("cell 3 (print(extra)) reads `extra`")


def test_every_cell_runs_and_each_error_is_reported(tiny_build):
    notebook = nbformat.read(tiny_build.solution_notebook, as_version=4)
    assert run_every_cell(notebook, "00_tiny.ipynb", tiny_build.student_dir / "tests") == []
    notebook.cells.append(nbformat.v4.new_code_cell("import math\nmath.sqrt(-1)"))
    notebook.cells.append(nbformat.v4.new_code_cell("print(undefined_name)"))
    notebook.cells.append(nbformat.v4.new_code_cell("print('after the errors, still run')"))
    errors = run_every_cell(notebook, "00_tiny.ipynb", tiny_build.student_dir / "tests")
    assert [e.error.split(":")[0] for e in errors] == ["ValueError", "NameError"]
    assert "undefined_name" in str(errors[1])


@pytest.mark.slow
def test_verify_fails_on_a_stub_that_does_not_parse(tiny, tmp_path):
    _plant(tiny, MULTILINE_ANSWER)
    report = verify(build(tiny, tmp_path / "build"), seeds=1, check_fresh=False, progress=False)
    rows = {row.check: row for row in report.rows}
    assert not report.ok and not rows["stub cells compile"].ok
    assert "IndentationError" in rows["stub cells compile"].detail
    assert rows["given cells"].ok, rows["given cells"].detail


@pytest.mark.slow
def test_verify_fails_on_a_given_cell_that_reads_a_name_no_question_asks_for(tiny, tmp_path):
    _plant(tiny, UNASKED_ANSWER, UNASKED_READER)
    report = verify(build(tiny, tmp_path / "build"), seeds=1, check_fresh=False, progress=False)
    rows = {row.check: row for row in report.rows}
    assert not report.ok and not rows["given cells"].ok
    assert "reads `doubled`" in rows["given cells"].detail
    assert rows["stub cells compile"].ok
    # The reference defines the name, so it runs; the prose-only variant still runs too here
    # because it keeps q2's answer: the static check is what catches this one.
    assert report.results["reference (seed 42)"].total == 3


@pytest.mark.slow
def test_verify_fails_when_the_prose_only_variant_stops_in_a_given_cell(tiny, tmp_path):
    """An attribute the reference sets and a given (otter_ignore) cell reads: no name shows it,
    only running a solution that does not set it (the prose-only variant) does."""
    _plant(
        tiny,
        "    return 2 * x\n    # END SOLUTION\n\n\n# BEGIN SOLUTION\ndouble.factor = 2\n"
        "# END SOLUTION\n",
        '# %% [raw]\n# # END QUESTION\n\n# %% tags=["otter_ignore"]\nprint(double.factor)\n',
    )
    tiny.variants.write_text(
        "- name: where_not_astype\n  style: np.where, and only what the prose asks for\n"
        "  prose_only: true\n  edits:\n"
        '    - find: "return (np.asarray(x) >= 0).astype(float)"\n'
        '      replace: "return np.where(np.asarray(x) >= 0, 1.0, 0.0)"\n'
        '    - find: "double.factor = 2"\n      replace: "pass"\n'
    )
    report = verify(build(tiny, tmp_path / "build"), seeds=1, check_fresh=False, progress=False)
    rows = {row.check: row for row in report.rows}
    assert rows["given cells"].ok, rows["given cells"].detail  # an attribute, not a name
    row = rows["variant where_not_astype runs every cell"]
    assert not row.ok and "AttributeError" in row.detail, row.detail
    assert report.results["variant where_not_astype (seed 42)"].total == 3  # it grades fine
