"""Batch grading: one row per submission, broken ones included, written atomically, resumable."""

from __future__ import annotations

import csv
import hashlib
import json
import re
import shutil
import zipfile
from pathlib import Path

import nbformat
import pytest
from click.testing import CliRunner

from autograder.cli import main
from autograder.grade import collect, precheck

pytestmark = pytest.mark.slow


def rows_of(out: Path) -> dict[str, dict[str, str]]:
    with open(out / "gradebook.csv", newline="") as f:
        return {row["submission"]: row for row in csv.DictReader(f)}


def looping(reference: Path, destination: Path) -> Path:
    notebook = nbformat.read(reference, as_version=4)
    cell = next(c for c in notebook.cells if "def double" in c.source)
    cell.source += "\nwhile True:\n    pass\n"
    nbformat.write(notebook, destination)
    return destination


def _grade_folder(tiny, tiny_build, folder: Path, out: Path, *, sandbox: bool):
    """Grade ``folder`` for the tiny assignment, one submission at a time."""
    from autograder.grade import grade_batch

    return grade_batch(
        tiny,
        tiny_build.autograder_zip,
        [folder],
        out,
        questions=["q1", "q2"],
        jobs=1,
        timeout=300,
        progress=False,
        sandbox=sandbox,
    )


@pytest.fixture
def submissions(tiny_build, tmp_path) -> Path:
    folder = tmp_path / "submissions"
    folder.mkdir()
    shutil.copy(tiny_build.solution_notebook, folder / "alice.ipynb")
    shutil.copy(tiny_build.student_notebook, folder / "bob.ipynb")
    (folder / "carol.ipynb").write_text('{"cells": [')
    (folder / "dave.ipynb").write_text("")
    (folder / "erin.py").write_text("def step(x):\n    return x\n")
    other = nbformat.read(tiny_build.solution_notebook, as_version=4)
    other.metadata["otter"]["assignment_name"] = "05_autoencoder"
    nbformat.write(other, folder / "frank.ipynb")
    looping(tiny_build.solution_notebook, folder / "grace.ipynb")
    with zipfile.ZipFile(folder / "heidi.zip", "w") as zf:
        zf.write(tiny_build.solution_notebook, "00_tiny.ipynb")
    with zipfile.ZipFile(folder / "judy.zip", "w") as zf:  # a folder zipped on macOS
        zf.write(tiny_build.solution_notebook, "hw/00_tiny.ipynb")
        zf.writestr("__MACOSX/hw/._00_tiny.ipynb", "")
    with zipfile.ZipFile(folder / "ivan.zip", "w") as zf:  # the stub, with checks that pass
        zf.write(tiny_build.student_notebook, "00_tiny.ipynb")
        zf.writestr("shared/__init__.py", "")
        zf.writestr("shared/checks.py", "def assert_close(*args, **kwargs):\n    pass\n")
    return folder


def test_every_submission_gets_exactly_one_row_with_a_specific_outcome(
    kit, tiny_build, submissions, tmp_path
):
    out = tmp_path / "out"
    args = [
        "grade",
        "00_tiny",
        str(submissions),
        "--out",
        str(out),
        "--timeout",
        "25",
        "--autograder",
        str(tiny_build.autograder_zip),
        "--no-progress",
    ]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 1, result.output
    assert "4 not gradable" in result.output
    rows = rows_of(out)
    assert sorted(rows) == [
        "alice.ipynb",
        "bob.ipynb",
        "carol.ipynb",
        "dave.ipynb",
        "erin.py",
        "frank.ipynb",
        "grace.ipynb",
        "heidi.zip",
        "ivan.zip",
        "judy.zip",
    ]
    assert (rows["alice.ipynb"]["status"], rows["alice.ipynb"]["score"]) == ("graded", "3")
    assert rows["alice.ipynb"]["q1"] == "2" and rows["alice.ipynb"]["q2"] == "1"
    assert (rows["bob.ipynb"]["status"], rows["bob.ipynb"]["score"]) == ("graded", "0")
    assert rows["heidi.zip"]["score"] == "3"
    assert rows["judy.zip"]["score"] == "3", "a notebook in a zipped folder is graded"
    assert rows["ivan.zip"]["score"] == "0", "a submitted shared/ must not replace the grader's"
    assert "not valid notebook JSON" in rows["carol.ipynb"]["error"]
    assert "empty" in rows["dave.ipynb"]["error"]
    assert "not a notebook (.py)" in rows["erin.py"]["error"]
    assert "notebook for assignment 05_autoencoder" in rows["frank.ipynb"]["error"]
    for ungradable in ("carol.ipynb", "dave.ipynb", "erin.py", "frank.ipynb"):
        row = rows[ungradable]  # no score at all, unlike a real 0
        assert (row["status"], row["score"], row["percent"]) == ("error", "", ""), row
    # An endless loop in q2's cell under a 25 s limit: the plugin fits its backstop inside that
    # limit and grades from what was decided, so the row says what ran out of time instead of
    # "timeout", and q1 (judged where the notebook checked it, before the loop) keeps its points.
    assert (rows["grace.ipynb"]["status"], rows["grace.ipynb"]["score"]) == ("graded", "2")
    assert (rows["grace.ipynb"]["q1"], rows["grace.ipynb"]["q2"]) == ("2", "0")
    grace = (out / "feedback" / "grace.ipynb.txt").read_text()
    assert "no time or attempts left" in grace
    feedback = (out / "feedback" / "bob.ipynb.txt").read_text()
    assert "step returned None: replace the ... with your code" in feedback
    # The stub fails the hidden test too: its message is the instructor's only.
    hidden_message = "step must work elementwise on any shape"
    assert "hidden test 2: failed" in feedback and hidden_message not in feedback
    assert hidden_message in (out / "instructor" / "bob.ipynb.txt").read_text()
    assert (
        "Not graded: carol.ipynb: not valid notebook JSON"
        in (out / "feedback" / "carol.ipynb.txt").read_text()
    )
    gradescope = json.loads((out / "results" / "alice.ipynb.json").read_text())
    assert {"tests"} <= set(gradescope) and all("name" in t for t in gradescope["tests"])
    assert "10 submissions: 6 graded" in result.output
    # No student is known from files alone: the Canvas import says what it can, the CLI why.
    assert "10 submission(s) have no student name, email or ID" in result.output
    with open(out / "canvas_import.csv", newline="") as f:
        canvas = list(csv.reader(f))
    assert canvas[:2] == [
        ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "00_tiny"],
        ["Points Possible", "", "", "", "", "3"],
    ]
    assert ["alice.ipynb", "", "", "", "", "3"] in canvas
    assert ["carol.ipynb", "", "", "", "", ""] in canvas

    # The graded notebook with its outputs, for review, as the student wrote it.
    assert rows["alice.ipynb"]["executed"] == "executed/alice.ipynb"
    executed = nbformat.read(out / "executed" / "alice.ipynb", as_version=4)
    submitted = nbformat.read(submissions / "alice.ipynb", as_version=4)
    assert [c.source for c in executed.cells] == [c.source for c in submitted.cells]
    assert any(c.get("outputs") for c in executed.cells if c.cell_type == "code")
    assert rows["carol.ipynb"]["executed"] == ""

    # A re-run grades nothing already graded (errors are tried again) and says so; the row of a
    # submission no longer given is marked removed, and left out of the Canvas import.
    graded_at = (out / "results" / "alice.ipynb.json").stat().st_mtime_ns
    (submissions / "grace.ipynb").unlink()
    again = CliRunner().invoke(main, args)
    assert again.exit_code == 1, again.output
    assert (out / "results" / "alice.ipynb.json").stat().st_mtime_ns == graded_at, "graded twice"
    assert "5 skipped: unchanged since last run" in again.output
    assert "4 graded again: not gradable last time" in again.output
    assert "1 removed: no longer among the submissions given" in again.output
    assert "9 submissions: 5 graded" in again.output
    rows = rows_of(out)
    assert rows["alice.ipynb"]["score"] == "3"
    assert len(rows) == 10
    assert (rows["grace.ipynb"]["status"], rows["grace.ipynb"]["score"]) == ("removed", "")
    assert "it had scored 2/3" in rows["grace.ipynb"]["error"]
    assert not (out / "feedback" / "grace.ipynb.txt").exists()
    canvas = (out / "canvas_import.csv").read_text()
    assert "grace.ipynb" not in canvas and "alice.ipynb" in canvas
    assert not list(out.glob(".gradebook-*")), "a partial gradebook was left behind"


def test_precheck_names_the_problem(tiny, tmp_path):
    bad_zip = tmp_path / "two.zip"
    with zipfile.ZipFile(bad_zip, "w") as zf:
        zf.writestr("a.ipynb", "{}")
        zf.writestr("b.ipynb", "{}")
    # What a zip holds is judged as on Gradescope, by submission.prepare_submission.
    assert precheck(bad_zip, tiny) is None
    (tmp_path / "junk.zip").write_bytes(b"PK not really")
    assert "not a valid zip" in precheck(tmp_path / "junk.zip", tiny)
    (tmp_path / "n.ipynb").write_text('{"cells": 3}')
    assert "not a valid Jupyter notebook" in precheck(tmp_path / "n.ipynb", tiny)
    (tmp_path / "bin.ipynb").write_bytes(b"\xff\xfe\x00")
    assert "not a text file" in precheck(tmp_path / "bin.ipynb", tiny)


def test_collect_keeps_duplicate_names_apart(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / "s.ipynb").write_text("{}")
    (tmp_path / "b" / "s.ipynb").write_text("{}")
    (tmp_path / "a" / ".hidden.ipynb").write_text("{}")
    found = collect([tmp_path / "a" / "s.ipynb", tmp_path / "b" / "s.ipynb", tmp_path / "a"])
    assert [s.id for s in found] == ["s.ipynb", "s.ipynb~2", "s.ipynb~3"]


def _with_cell(reference: Path, destination: Path, code: str) -> Path:
    notebook = nbformat.read(reference, as_version=4)
    notebook.cells.append(nbformat.v4.new_code_cell(code))
    nbformat.write(notebook, destination)
    return destination


@pytest.mark.parametrize("sandboxed", [False, True], ids=["plugin", "sandbox"])
def test_nothing_a_submission_starts_outlives_it(tiny, tiny_build, tmp_path, sandboxed):
    """An orphan that waits, then rewrites the gradebook, is ended with its submission: by the
    grading plugin (which adopts and ends orphans), and by the sandbox's PID namespace."""
    import time

    from autograder.grading import sandbox

    if sandboxed and not sandbox.available()[0]:
        pytest.skip(f"no sandbox here: {sandbox.available()[1]}")

    folder, out = tmp_path / "in", tmp_path / "out"
    folder.mkdir()
    marker = tmp_path / "orphan-was-here"
    code = (
        "import subprocess\n"
        f"subprocess.Popen(['sh', '-c', 'sleep 6; echo forged > {out / 'gradebook.csv'}; "
        f"touch {marker}'], start_new_session=True, close_fds=False)\n"
    )
    _with_cell(tiny_build.solution_notebook, folder / "mallory.ipynb", code)
    rows = _grade_folder(tiny, tiny_build, folder, out, sandbox=sandboxed).rows
    assert rows["mallory.ipynb"]["score"] == "3", rows
    time.sleep(8)
    assert rows_of(out)["mallory.ipynb"]["score"] == "3"
    assert not marker.exists(), "a process the submission started outlived its grading"


def test_sandbox_keeps_a_submission_inside_its_folder(tiny, tiny_build, tmp_path):
    from autograder.grading import sandbox

    usable, why_not = sandbox.available()
    if not usable:
        pytest.skip(f"no sandbox here: {why_not}")
    folder, out = tmp_path / "in", tmp_path / "out"
    folder.mkdir()
    outside = tmp_path / "escaped.txt"
    code = (
        "import socket\n"
        f"try:\n    open({str(outside)!r}, 'w').write('x')\nexcept OSError:\n    pass\n"
        "try:\n    socket.create_connection(('1.1.1.1', 53), timeout=2)\n"
        f"    open({str(outside)!r} + '.net', 'w').write('x')\nexcept OSError:\n    pass\n"
    )
    _with_cell(tiny_build.solution_notebook, folder / "eve.ipynb", code)
    rows = _grade_folder(tiny, tiny_build, folder, out, sandbox=True).rows
    assert rows["eve.ipynb"]["score"] == "3", rows
    assert not outside.exists(), "the sandbox let a submission write outside its folder"


def test_a_rebuilt_autograder_regrades_every_row_and_says_why(kit, tiny, tiny_build, tmp_path):
    """Issue 26: grade, change a question's points, rebuild, grade again: every row has the new
    total (none kept from the old autograder), and the output says what was re-graded and why."""
    from autograder.build import build

    folder, out = tmp_path / "my subs", tmp_path / "out"  # a space in the path
    folder.mkdir()
    shutil.copy(tiny_build.solution_notebook, folder / "alice.ipynb")
    shutil.copy(tiny_build.student_notebook, folder / "bob.ipynb")

    def grade(autograder: Path):
        args = ["grade", "00_tiny", str(folder), "--out", str(out), "--no-progress"]
        result = CliRunner().invoke(main, [*args, "--autograder", str(autograder)])
        assert result.exit_code == 0, result.output
        return result.output

    first = grade(tiny_build.autograder_zip)
    assert "2 graded for the first time" in first
    assert {r["possible"] for r in rows_of(out).values()} == {"3"}

    master = kit / "solutions" / "00_tiny" / "00_tiny.py"
    text = master.read_text().replace("# points: 2", "# points: 3", 1)  # q1's config
    text = text.replace("Question 1 (2 points)", "Question 1 (3 points)")  # and where prose
    master.write_text(re.sub(r"(?m)^(# \| q1 \|.*\| )2( \|)$", r"\g<1>3\2", text))  # says it
    rebuilt = build(tiny, tmp_path / "rebuilt").autograder_zip
    second = grade(rebuilt)
    assert "2 re-graded: graded by another (older) autograder" in second, second
    assert "2 submissions: 2 graded out of 4" in second
    rows = rows_of(out)
    assert {(r["submission"], r["score"], r["possible"]) for r in rows.values()} == {
        ("alice.ipynb", "4", "4"),
        ("bob.ipynb", "0", "4"),
    }
    assert {r["autograder"] for r in rows.values()} == {
        hashlib.sha256(rebuilt.read_bytes()).hexdigest()
    }
    with open(out / "canvas_import.csv", newline="") as f:
        canvas = list(csv.reader(f))
    assert canvas[1][-1] == "4" and ["alice.ipynb", "", "", "", "", "4"] in canvas

    shutil.copy(tiny_build.solution_notebook, folder / "bob.ipynb")  # bob fixed his notebook
    third = grade(rebuilt)
    assert "1 re-graded: the submission changed" in third
    assert "1 skipped: unchanged since last run, same autograder" in third
    assert "another (older) autograder" not in third
    assert rows_of(out)["bob.ipynb"]["score"] == "4"


def test_a_killed_grading_leaves_no_temporary_folder(tiny_build, tmp_path, monkeypatch):
    """A worker killed at the submission's limit never cleans up after itself, so the runner
    gives each grading a temporary folder of its own (the plugin's and the kernel's folders go
    in it) and removes it whatever happened. The worker is frozen (SIGSTOP) once the plugin has
    made its folder, so the runner's limit is what ends it."""
    import signal
    import tempfile
    import threading
    import time

    import psutil

    from autograder.grading import warm
    from autograder.grading.runner import grade_notebook

    # where the kernel's user (nobody, when tests run as root) can pass, as in /tmp itself
    scratch = Path(tempfile.mkdtemp(prefix="kit-test-"))
    scratch.chmod(0o711)
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    frozen = []

    def freeze_the_worker() -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not frozen:
            if list(scratch.glob("grading-*/grading-guard-*")):
                for child in psutil.Process().children(recursive=True):
                    # started cold (its command) or forked by the warm server (its child)
                    cold = "autograder.grading.worker" in " ".join(child.cmdline())
                    if cold or child.ppid() == warm.SERVER.pid:
                        child.send_signal(signal.SIGSTOP)
                        frozen.append(child.pid)
            time.sleep(0.05)

    try:
        freezer = threading.Thread(target=freeze_the_worker)
        freezer.start()
        endless = looping(tiny_build.solution_notebook, tmp_path / "endless.ipynb")
        result = grade_notebook(tiny_build.autograder_zip, endless, tmp_path / "out", timeout=20)
        freezer.join()
        assert frozen and result.status == "timeout", result.log
        assert list(scratch.iterdir()) == []
        done = grade_notebook(
            tiny_build.autograder_zip, tiny_build.solution_notebook, tmp_path / "out2", timeout=120
        )
        assert done.status == "graded" and done.total == done.possible, done.log
        assert list(scratch.iterdir()) == []
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
