"""Grading a Gradescope export: one row per student, feedback students may read, Canvas import."""

from __future__ import annotations

import csv
import shutil
import zipfile
from pathlib import Path

import nbformat
import pytest
from click.testing import CliRunner

from autograder.cli import main
from autograder.gradebook_formats import ExportError, Student, read_export

HIDDEN_MESSAGE = "step must work elementwise on any shape"

METADATA = """\
submission_1001:
  :submitters:
  - :name: Ada Byron
    :sid: '0042'
    :email: ada@example.edu
  :created_at: 2024-02-01 10:00:00.000000000 Z
  :score: !ruby/object:BigDecimal 18:0.0
  :status: processed
  :results: {}
  :history: []
submission_1002:
  :submitters:
  - :name: Brook Taylor
    :sid: '0043'
    :email: brook@example.edu
  :created_at: 2024-02-01 11:00:00.000000000 Z
  :history: []
submission_1003:
  :submitters:
  - :name: Carl Gauss
    :sid: '0044'
    :email: carl@example.edu
  - :name: Dora Noether
    :sid: 45
    :email: dora@example.edu
  :history: []
submission_1004:
  :submitters:
  - :name: Emil Post
    :sid: '0046'
    :email: emil@example.edu
"""


def wrong_only_on_hidden_inputs(reference: Path, destination: Path) -> Path:
    """The reference with a ``step`` right on the public 1-D input, transposed on 2-D ones."""
    notebook = nbformat.read(reference, as_version=4)
    cell = next(c for c in notebook.cells if "def step" in c.source)
    right = "return (np.asarray(x) >= 0).astype(float)"
    assert right in cell.source
    cell.source = cell.source.replace(
        right,
        "out = (np.asarray(x) >= 0).astype(float)\n    return out if out.ndim == 1 else out.T",
    )
    nbformat.write(notebook, destination)
    return destination


def unrelated(destination: Path) -> Path:
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell("print('my other homework')")]
    nbformat.write(notebook, destination)
    return destination


@pytest.fixture
def export(tiny_build, tmp_path) -> Path:
    """A Gradescope export: two single submitters, a group of two, one unrelated notebook."""
    root = tmp_path / "assignment_77_export"
    for number in range(1001, 1005):
        (root / f"submission_{number}").mkdir(parents=True)
    (root / "submission_metadata.yml").write_text(METADATA)
    # A zip of the student's folder (the notebook one level down), as uploaded.
    with zipfile.ZipFile(root / "submission_1001" / "hw.zip", "w") as zf:
        zf.write(tiny_build.solution_notebook, "hw1/00_tiny.ipynb")
        zf.writestr("__MACOSX/hw1/._00_tiny.ipynb", "")
    wrong_only_on_hidden_inputs(
        tiny_build.solution_notebook, root / "submission_1002" / "00_tiny.ipynb"
    )
    (root / "submission_1003" / "work").mkdir()  # an uploaded folder
    shutil.copy(tiny_build.solution_notebook, root / "submission_1003" / "work" / "mine.ipynb")
    unrelated(root / "submission_1004" / "notes.ipynb")
    return root


def read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


@pytest.mark.slow
def test_export_is_graded_once_per_submission_with_a_row_per_student(
    kit, tiny_build, export, tmp_path
):
    out = tmp_path / "out"
    args = [
        "grade",
        "00_tiny",
        str(export),
        "--out",
        str(out),
        "--autograder",
        str(tiny_build.autograder_zip),
        "--no-progress",
        "--jobs",
        "1",
        "--canvas-assignment",
        "Tiny (123)",
    ]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 1, result.output  # the unrelated notebook is not gradable
    assert "4 submissions: 3 graded" in result.output
    assert "5 students in 4 submissions" in result.output
    assert "no student name, email or ID" not in result.output

    rows = read_csv(out / "gradebook.csv")
    by_name = {row["name"]: row for row in rows}
    assert len(rows) == 5 and set(by_name) == {
        "Ada Byron",
        "Brook Taylor",
        "Carl Gauss",
        "Dora Noether",
        "Emil Post",
    }
    ada, brook, carl, dora, emil = (by_name[n] for n in sorted(by_name))
    assert (ada["submission"], ada["email"], ada["sid"]) == (
        "submission_1001",
        "ada@example.edu",
        "0042",
    )
    assert (ada["status"], ada["score"], ada["possible"]) == ("graded", "3", "3")
    assert (brook["status"], brook["q1"], brook["q2"]) == ("graded", "1", "1")
    # One group submission, graded once: both members carry its scores.
    assert carl["submission"] == dora["submission"] == "submission_1003"
    assert dora["sid"] == "45"
    assert {k: v for k, v in carl.items() if k not in ("name", "email", "sid")} == {
        k: v for k, v in dora.items() if k not in ("name", "email", "sid")
    }
    assert carl["score"] == "3"
    # Not gradable is not zero: no score, a status other than graded, and the reason.
    assert emil["status"] != "graded" and emil["score"] == "" and emil["percent"] == ""
    assert "does not look like 00_tiny's notebook" in emil["error"]

    # What students may read leaves hidden tests' messages out; the instructor's copy keeps them.
    student = (out / "feedback" / "submission_1002.txt").read_text()
    instructor = (out / "instructor" / "submission_1002.txt").read_text()
    assert "Score: 2 / 3" in student and "q1: 1 / 2" in student
    assert "q1 - 1: passed" in student
    assert "hidden test 2: failed" in student
    assert HIDDEN_MESSAGE not in student and "default_rng(7)" not in student
    assert HIDDEN_MESSAGE in instructor
    assert (
        "Graded the notebook found in hw.zip."
        in (out / "feedback" / "submission_1001.txt").read_text()
    )
    emil_feedback = (out / "feedback" / "submission_1004.txt").read_text()
    assert "Not graded:" in emil_feedback and "does not look like" in emil_feedback

    with open(out / "canvas_import.csv", newline="", encoding="utf-8") as f:
        canvas = list(csv.reader(f))
    assert canvas[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "Tiny (123)"]
    assert canvas[1] == ["Points Possible", "", "", "", "", "3"]
    assert sorted(canvas[2:]) == [
        ["Ada Byron", "", "0042", "ada@example.edu", "", "3"],
        ["Brook Taylor", "", "0043", "brook@example.edu", "", "2"],
        ["Carl Gauss", "", "0044", "carl@example.edu", "", "3"],
        ["Dora Noether", "", "45", "dora@example.edu", "", "3"],
        ["Emil Post", "", "0046", "emil@example.edu", "", ""],  # empty: Canvas changes nothing
    ]

    # A re-run grades nothing already graded and keeps one row per student.
    graded_at = (out / "results" / "submission_1003.json").stat().st_mtime_ns
    again = CliRunner().invoke(main, args)
    assert again.exit_code == 1, again.output
    assert (out / "results" / "submission_1003.json").stat().st_mtime_ns == graded_at
    assert read_csv(out / "gradebook.csv") == rows


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("submission_1: [unclosed", "not valid YAML at line"),
        ("- submission_1\n- submission_2\n", "found a list"),
        ("", "found nothing"),
        ("submission_1:\n  :score: 3\n", "submission_1 has no :submitters list"),
        (
            "submission_1:\n  :submitters:\n  - :name: A\n  - :status: x\n",
            "submitter 2 of submission_1 has no :name, :email or :sid",
        ),
        ("../escape:\n  :submitters: []\n", "is not the name of a submission folder"),
    ],
)
def test_malformed_export_metadata_names_the_problem(tmp_path, text, problem):
    (tmp_path / "submission_metadata.yml").write_text(text)
    with pytest.raises(ExportError, match="submission_metadata.yml") as raised:
        read_export(tmp_path)
    assert problem in str(raised.value)


def test_malformed_export_stops_grade_before_grading(kit, tiny_build, tmp_path):
    (tmp_path / "export").mkdir()
    (tmp_path / "export" / "submission_metadata.yml").write_text("submission_1: {}\n")
    args = ["grade", "00_tiny", str(tmp_path / "export"), "--out", str(tmp_path / "out")]
    args += ["--autograder", str(tiny_build.autograder_zip), "--no-progress"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2
    assert "submission_1 has no :submitters list" in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "out" / "gradebook.csv").exists()


def test_export_metadata_reads_symbol_and_plain_keys(tmp_path):
    (tmp_path / "submission_metadata.yml").write_text(
        "submission_9:\n  submitters:\n  - name: Plain Key\n    sid: 7\n  :created_at: 2024-01-01\n"
    )
    assert read_export(tmp_path) == {"submission_9": [Student("Plain Key", "", "7")]}


def test_collect_finds_an_export_inside_a_folder_given(tmp_path):
    from autograder.grade import collect

    export = tmp_path / "downloads" / "assignment_77_export"
    (export / "submission_5").mkdir(parents=True)
    (export / "submission_5" / "a.ipynb").write_text("{}")
    (export / "submission_metadata.yml").write_text(
        "submission_5:\n  :submitters:\n  - :name: Ada Byron\n    :email: ada@example.edu\n"
    )
    (tmp_path / "downloads" / "loose.ipynb").write_text("{}")
    found = collect([tmp_path / "downloads"])
    assert [(s.id, s.uploaded) for s in found] == [("submission_5", True), ("loose.ipynb", False)]
    assert found[0].students == [Student("Ada Byron", "ada@example.edu", "")]
    assert found[0].path == export / "submission_5"


def test_an_export_zip_is_not_taken_for_a_submission(tiny, tmp_path):
    from autograder.grade import precheck

    with zipfile.ZipFile(tmp_path / "export.zip", "w") as zf:
        zf.writestr("assignment_77_export/submission_metadata.yml", "{}")
        zf.writestr("assignment_77_export/submission_5/a.ipynb", "{}")
    assert "a Gradescope export" in precheck(tmp_path / "export.zip", tiny)
