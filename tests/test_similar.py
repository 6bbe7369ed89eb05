"""`similar`: a disguised copy tops the report; the stub's code, given cells and tests never match.

Four students' independent answers to 01_perceptron_xor and a disguised copy of one of them
(tests/fixtures/similar/, see its README) are filled into the committed student stub, as the
students would have filled it, and compared: no grading, so the whole file takes seconds.
"""

from __future__ import annotations

import copy
import csv
import os
import re
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import nbformat
import pytest
from click.testing import CliRunner

from autograder import catalog
from autograder.cli import main
from autograder.environments import gradescope_environment, load_student_environment, pip_pins
from autograder.similar import STUB_ANSWER_TAG, Answers, Stub, answer_code, compare

ASSIGNMENT = "01_perceptron_xor"
STUB = catalog.ASSIGNMENTS / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
FIXTURES = Path(__file__).parent / "fixtures" / "similar"
INDEPENDENT = ["student_a", "student_b", "student_c", "student_d"]
COPY = "copy_of_a"  # student_a, renamed, re-commented, re-spaced, independent lines swapped


def filled(name: str) -> nbformat.NotebookNode:
    """The stub with each `...` of its answer cells replaced by the student's answer, in order."""
    answers = (FIXTURES / f"{name}.txt").read_text(encoding="utf-8").split("# %% answer\n")[1:]
    pending = iter(answer.strip("\n") for answer in answers)
    notebook = nbformat.read(STUB, as_version=4)
    for cell in notebook.cells:
        if STUB_ANSWER_TAG not in cell.metadata.get("tags", []):
            continue
        lines = []
        for line in cell.source.split("\n"):
            if line.strip() != "...":
                lines.append(line)
                continue
            indent = line[: len(line) - len(line.lstrip())]
            answer = next(pending, None)
            assert answer is not None, f"{name}.txt has fewer answers than the stub has `...`"
            lines += [indent + text if text else text for text in answer.split("\n")]
        cell.source = "\n".join(lines)
    assert next(pending, None) is None, f"{name}.txt has more answers than the stub has `...`"
    return notebook


def write(notebook: nbformat.NotebookNode, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, path)
    return path


def read_pairs(out: Path) -> list[dict[str, str]]:
    with open(out / "pairs.csv", newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def share(row: dict[str, str]) -> float:
    return max(float(row["share_first"]), float(row["share_second"]))


def names(row: dict[str, str]) -> set[str]:
    return {row["first"], row["second"]}


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    """The four independent students, the copy and two untouched stubs, compared by the CLI."""
    root = tmp_path_factory.mktemp("similar")
    folder = root / "submissions"
    for name in [*INDEPENDENT, COPY]:
        write(filled(name), folder / f"{name}.ipynb")
    for name in ("untouched_1", "untouched_2"):
        write(nbformat.read(STUB, as_version=4), folder / f"{name}.ipynb")
    out = root / "out"
    result = CliRunner().invoke(main, ["similar", "01", str(folder), "--out", str(out)])
    assert result.exit_code == 0, result.output
    return result, out, folder


def test_the_planted_copy_tops_the_report_far_above_independent_pairs(batch):
    result, out, _ = batch
    rows = read_pairs(out)
    assert len(rows) == 7 * 6 // 2
    assert names(rows[0]) == {f"{COPY}.ipynb", "student_a.ipynb"}, rows[:3]
    planted = min(float(rows[0]["share_first"]), float(rows[0]["share_second"]))
    assert planted > 0.8, f"the copy shares only {planted:.0%} of its code with its source"
    # Every other pair was written independently (the copy and b, c, d included).
    others = max(share(row) for row in rows[1:])
    assert others < 0.4 and others < planted / 2, rows[:4]
    first = next(line for line in result.output.splitlines() if line.strip().startswith("1."))
    assert f"{COPY}.ipynb" in first and "student_a.ipynb" in first, result.output


def test_the_report_puts_the_matching_lines_side_by_side(batch):
    _, out, _ = batch
    page = (out / "similar.html").read_text(encoding="utf-8")
    first = page[page.index('id="pair1"') : page.index('id="pair2"')]
    rows = first.split("<tr>")
    # The perceptron's update, renamed, sits beside its source in one row.
    assert any(
        "wts += lr * diff * X[j]" in row and "weights += lr * delta * X[idx]" in row for row in rows
    ), first[:3000]
    assert "cell 15" in first  # where the lines are: the notebook's cell
    assert (out / "answers" / f"{COPY}.ipynb.py").is_file()


def test_the_stubs_own_code_is_never_a_match(batch):
    _, out, folder = batch
    rows = read_pairs(out)
    untouched = next(r for r in rows if names(r) == {"untouched_1.ipynb", "untouched_2.ipynb"})
    assert share(untouched) == 0 and untouched["shared"] == "0"
    # Two students whose notebooks are identical only where the stub is score low.
    for row in rows:
        if names(row) <= {f"{n}.ipynb" for n in ("student_b", "student_c", "student_d")}:
            assert share(row) < 0.2, row
    # ...and that is the boilerplate exclusion's doing: without it the stub's code matches.
    stub = Stub.read(STUB)
    untouched = [
        Answers(p.name, answer_code(nbformat.read(p, as_version=4), stub))
        for p in sorted(folder.glob("untouched_*.ipynb"))
    ]
    assert compare(untouched, stub.code)[0].similarity == 0
    assert compare(untouched, "")[0].similarity > 0.9


def test_given_cells_and_test_cells_do_not_count(tmp_path):
    stub = Stub.read(STUB)
    plain = [filled("student_b"), filled("student_c")]
    edited = [copy.deepcopy(notebook) for notebook in plain]
    shared_code = (
        (FIXTURES / "student_a.txt").read_text(encoding="utf-8").replace("# %% answer\n", "")
    )
    for notebook in edited:
        ignored = next(c for c in notebook.cells if "otter_ignore" in c.metadata.get("tags", []))
        ignored.source += "\n" + shared_code  # the same long code in an ungraded cell
        imports = next(c for c in notebook.cells if c.source.startswith("import matplotlib"))
        imports.source += "\nimport math\nprint(math.pi, np.__version__, torch.__version__)"
        notebook.cells.append(nbformat.v4.new_code_cell('grader.check("q1")\ngrader.check("q2")'))
    before = compare(
        [Answers(str(i), answer_code(n, stub)) for i, n in enumerate(plain)], stub.code
    )
    after = compare(
        [Answers(str(i), answer_code(n, stub)) for i, n in enumerate(edited)], stub.code
    )
    assert answer_code(edited[0], stub) == answer_code(plain[0], stub)
    assert after[0].similarity == before[0].similarity < 0.2


def test_answer_cells_are_found_when_an_editor_stripped_the_tags():
    stub = Stub.read(STUB)
    for name in [*INDEPENDENT, COPY]:
        notebook = filled(name)
        bare = copy.deepcopy(notebook)
        for cell in bare.cells:
            cell.metadata = {}
        assert answer_code(bare, stub) == answer_code(notebook, stub), name
    # A cell the student added, like no given cell, is the student's own work.
    notebook = filled("student_b")
    notebook.cells.insert(7, nbformat.v4.new_code_cell("scratch = softmax(np.eye(3))\nscratch"))
    assert "scratch = softmax(np.eye(3))" in answer_code(notebook, stub)
    assert 'grader.check("q1")' not in answer_code(notebook, stub)


EXPORT_METADATA = """\
submission_1001:
  :submitters:
  - :name: Ada Byron
    :sid: '0042'
    :email: ada@example.edu
submission_1002:
  :submitters:
  - :name: Brook Taylor
    :sid: '0043'
    :email: brook@example.edu
submission_1003:
  :submitters:
  - :name: Carl Gauss
    :sid: '0044'
    :email: carl@example.edu
"""


def test_a_gradescope_export_names_the_students_and_lists_what_was_not_compared(tmp_path):
    export = tmp_path / "export"
    (export / "submission_1001").mkdir(parents=True)
    (export / "submission_1003").mkdir()
    (export / "submission_metadata.yml").write_text(EXPORT_METADATA)
    with zipfile.ZipFile(export / "submission_1001" / "upload.zip", "w") as zipped:
        zipped.writestr(f"hw/{ASSIGNMENT}.ipynb", nbformat.writes(filled(COPY)))
    write(filled("student_a"), export / "submission_1002" / f"{ASSIGNMENT}.ipynb")
    (export / "submission_1003" / "notes.txt").write_text("I could not do it")
    loose = tmp_path / "loose"
    write(filled("student_b"), loose / "b.ipynb")
    (loose / "broken.ipynb").write_text("{not json")
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["similar", "01", str(export), str(loose), "-o", str(out)])
    assert result.exit_code == 0, result.output
    rows = read_pairs(out)
    assert names(rows[0]) == {"submission_1001 (Ada Byron)", "submission_1002 (Brook Taylor)"}
    assert len(rows) == 3
    assert "2 submission(s) not compared" in result.output
    page = (out / "similar.html").read_text(encoding="utf-8")
    assert (
        "submission_1003" in page and "broken.ipynb" in page and "not valid notebook JSON" in page
    )


def test_the_report_does_not_depend_on_the_hash_seed(batch, tmp_path):
    """copydetect hashes with Python's hash(); every k-gram is kept, so no choice depends on it."""
    _, out, folder = batch
    command = [sys.executable, "-m", "autograder", "similar", "01", str(folder), "-o"]
    environment = {**os.environ, "PYTHONHASHSEED": "12345"}
    run = subprocess.run(
        [*command, str(tmp_path / "again")],
        cwd=catalog.ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    assert read_pairs(tmp_path / "again") == read_pairs(out)
    page = re.sub(r"\s+", " ", (tmp_path / "again" / "similar.html").read_text(encoding="utf-8"))
    assert page == re.sub(r"\s+", " ", (out / "similar.html").read_text(encoding="utf-8"))


def test_copydetect_is_pinned_for_instructors_and_stays_out_of_student_environments():
    project = tomllib.loads((catalog.ROOT / "pyproject.toml").read_text())["project"]
    assert any(re.fullmatch(r"copydetect==[\d.]+", d) for d in project["dependencies"])
    assert "copydetect" not in pip_pins(load_student_environment())
    assert "copydetect" not in gradescope_environment()
