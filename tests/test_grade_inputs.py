"""What `grade` is given: the instructor's mistakes stop it before grading (exit status 2), a
roster names who submitted each file, and export folders it does not grade are named."""

from __future__ import annotations

import csv
import json
import subprocess
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from autograder.cli import main
from autograder.gradebook_formats import RosterError, Student, read_roster


def grade(tiny_build, *inputs: Path, out: Path, autograder: Path | None = None, extra=()):
    args = ["grade", "00_tiny", *map(str, inputs), "--out", str(out), "--no-progress"]
    args += ["--autograder", str(autograder or tiny_build.autograder_zip), *extra]
    return CliRunner().invoke(main, args)


def read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def another_assignments_zip(tiny_build, path: Path) -> Path:
    with zipfile.ZipFile(tiny_build.autograder_zip) as source, zipfile.ZipFile(path, "w") as copy:
        for item in source.infolist():
            data = source.read(item)
            if item.filename == "otter_config.json":
                config = json.loads(data)
                data = json.dumps({**config, "assignment_name": "05_autoencoder"}).encode()
            copy.writestr(item, data)
    return path


def export_zip(path: Path) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("assignment_77_export/submission_metadata.yml", "{}")
        archive.writestr("assignment_77_export/submission_5/a.ipynb", "{}")
    return path


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda b, p: p.write_bytes(b"not a zip") and p, "not a zip file"),
        (lambda b, p: b.student_zip, "not an Otter autograder zip (it looks like the student"),
        (another_assignments_zip, "the autograder of 05_autoencoder, not of 00_tiny"),
        (lambda b, p: export_zip(p), "a Gradescope export (it holds submission_metadata.yml)"),
    ],
    ids=["not-a-zip", "student-zip", "another-assignment", "export-zip"],
)
def test_a_wrong_autograder_stops_the_batch_with_one_message(
    kit, tiny_build, tmp_path, make, expected
):
    submissions = tmp_path / "in"
    submissions.mkdir()
    for name in ("a.ipynb", "b.ipynb"):
        (submissions / name).write_text(tiny_build.student_notebook.read_text())
    wrong = make(tiny_build, tmp_path / "wrong.zip") or tmp_path / "wrong.zip"
    result = grade(tiny_build, submissions, out=tmp_path / "out", autograder=wrong)
    assert result.exit_code == 2, result.output
    assert expected in result.output and "--autograder" in result.output
    assert result.output.count("Error:") == 1 and "Traceback" not in result.output
    assert not (tmp_path / "out").exists(), "nothing is written for a wrong command"


def test_an_export_still_zipped_stops_the_batch(kit, tiny_build, tmp_path):
    result = grade(tiny_build, export_zip(tmp_path / "export.zip"), out=tmp_path / "out")
    assert result.exit_code == 2, result.output
    assert "a Gradescope export, still zipped" in result.output and "unzip it" in result.output
    assert not (tmp_path / "out").exists()


def test_an_unreadable_roster_stops_the_batch(kit, tiny_build, tmp_path):
    (tmp_path / "roster.csv").write_text("who,what\nada,1\n")
    result = grade(
        tiny_build,
        tiny_build.student_notebook,
        out=tmp_path / "out",
        extra=["--roster", str(tmp_path / "roster.csv")],
    )
    assert result.exit_code == 2, result.output
    assert "a roster needs a 'file' column" in result.output


def test_a_roster_names_the_students_of_plain_and_canvas_downloaded_files(
    kit, tiny_build, tmp_path
):
    """Canvas's "Download Submissions" names files login_[LATE_]USERID_SUBMISSIONID_name;
    Canvas's gradebook export, used as the roster, maps USERID to the student. No grading
    needed here: the files are not notebooks, so each gets its error row at once."""
    folder = tmp_path / "my subs"  # a space in the path
    folder.mkdir()
    (folder / "lovelaceada_12345_67890_00_tiny.ipynb").write_text("{")
    (folder / "taylorbrook_LATE_12346_67891_00_tiny-1.ipynb").write_text("{")
    (folder / "gauss.ipynb").write_text("{")
    (folder / "stranger.ipynb").write_text("{")
    roster = folder / "canvas_export.csv"  # kept among the submissions: not graded as one
    roster.write_text(
        "Student,ID,SIS User ID,SIS Login ID,Section,Tiny (1)\n"
        "    Points Possible,,,,,3\n"
        "Ada Lovelace,12345,0042,ada@example.edu,A,\n"
        "Brook Taylor,12346,0043,brook@example.edu,A,\n"
        "Emmy Noether,12348,0045,emmy@example.edu,A,\n"
    )
    assert read_roster(roster).find("lovelaceada_LATE_12345_1_x.ipynb") == Student(
        "Ada Lovelace", "ada@example.edu", "0042", "12345"
    )
    out = tmp_path / "out"
    result = grade(tiny_build, folder, out=out, extra=["--roster", str(roster)])
    assert result.exit_code == 1, result.output  # the files are not gradable
    assert "2 submission(s) not in the roster (e.g. gauss.ipynb)" in result.output
    by_submission = {row["submission"]: row for row in read_csv(out / "gradebook.csv")}
    assert "canvas_export.csv" not in by_submission
    ada = by_submission["lovelaceada_12345_67890_00_tiny.ipynb"]
    assert (ada["name"], ada["sid"], ada["email"], ada["canvas_id"]) == (
        "Ada Lovelace",
        "0042",
        "ada@example.edu",
        "12345",
    )
    assert by_submission["taylorbrook_LATE_12346_67891_00_tiny-1.ipynb"]["name"] == "Brook Taylor"
    assert "student(s) of the roster have no submission: Emmy Noether" in result.output
    canvas = read_csv(out / "canvas_import.csv")
    ada_in_canvas = next(r for r in canvas if r["Student"] == "Ada Lovelace")
    assert (ada_in_canvas["ID"], ada_in_canvas["SIS User ID"]) == ("12345", "0042")


def test_a_roster_by_file_name(tmp_path):
    roster = tmp_path / "roster.csv"
    roster.write_text("file,name,sid,email\ngauss.ipynb,Carl Gauss,0044,carl@example.edu\n")
    assert read_roster(roster).find("gauss.ipynb") == Student(
        "Carl Gauss", "carl@example.edu", "0044"
    )
    assert read_roster(roster).find("12_34_56_gauss.ipynb") is None
    roster.write_text("file,name\na.ipynb,Ada\na.ipynb,Brook\n")
    with pytest.raises(RosterError, match="line 3: file 'a.ipynb' is listed twice"):
        read_roster(roster)


def test_export_folders_its_metadata_does_not_list_are_named(kit, tiny_build, tmp_path):
    export = tmp_path / "assignment_77_export"
    for folder in ("submission_1", "submission_2"):
        (export / folder).mkdir(parents=True)
        (export / folder / "notes.txt").write_text("no notebook here")
    (export / "submission_metadata.yml").write_text(
        "submission_1:\n  :submitters:\n  - :name: Ada Byron\n"
    )
    result = grade(tiny_build, export, out=tmp_path / "out")
    assert result.exit_code == 1, result.output
    assert "submission_2/ is not listed in its export's submission_metadata.yml" in result.output
    assert [r["submission"] for r in read_csv(tmp_path / "out" / "gradebook.csv")] == [
        "submission_1"
    ]


def test_make_grade_quotes_the_submissions_path():
    dry_run = subprocess.run(
        ["make", "-n", "grade", "A=00_tiny", "S=my subs", "R=the roster.csv"],
        capture_output=True,
        text=True,
        cwd=Path(__file__).parent.parent,
    )
    assert 'grade 00_tiny "my subs" --roster "the roster.csv"' in dry_run.stdout, dry_run
