"""What a student uploads is made gradable before Otter sees it, or refused with a reason."""

from __future__ import annotations

import json
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
import pytest

from autograder.gradescope_sim import simulate
from autograder.submission import SubmissionError, prepare_submission

NAME = "00_tiny"
QUESTIONS = ["q1", "q2"]


def notebook(name: str | None = NAME, checks=("q1", "q2")) -> str:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(f'grader.check("{q}")') for q in checks]
    if name is not None:
        nb.metadata["otter"] = {"assignment_name": name}
    return nbformat.writes(nb)


def test_a_plain_notebook_passes_untouched(tmp_path):
    (tmp_path / f"{NAME}.ipynb").write_text(notebook())
    assert prepare_submission(tmp_path, NAME, QUESTIONS) == []


def test_the_export_zip_and_a_zip_of_the_whole_folder_are_unpacked(tmp_path):
    with zipfile.ZipFile(tmp_path / "00_tiny_2026_11_23T10_00_00.zip", "w") as archive:
        archive.writestr(f"{NAME}/{NAME}.ipynb", notebook())
        archive.writestr(f"{NAME}/.ipynb_checkpoints/{NAME}-checkpoint.ipynb", notebook())
        archive.writestr(f"{NAME}/shared/checks.py", "def assert_close(*a): pass\n")
    notes = prepare_submission(tmp_path, NAME, QUESTIONS)
    assert [p.name for p in tmp_path.glob("*.ipynb")] == [f"{NAME}.ipynb"]
    assert not (tmp_path / "shared").exists()  # only the notebook is taken from a submission
    assert "found in 00_tiny_2026" in notes[0]


def test_a_folder_unpacked_by_gradescope_is_found(tmp_path):
    (tmp_path / NAME).mkdir()
    (tmp_path / NAME / f"{NAME}.ipynb").write_text(notebook())
    notes = prepare_submission(tmp_path, NAME, QUESTIONS)
    assert (tmp_path / f"{NAME}.ipynb").is_file() and "sub-folder" in notes[0]


def test_stripped_metadata_is_restored_when_the_notebook_is_recognisably_ours(tmp_path):
    path = tmp_path / "my copy.ipynb"
    path.write_text(notebook(name=None))
    notes = prepare_submission(tmp_path, NAME, QUESTIONS)
    assert json.loads(path.read_text())["metadata"]["otter"] == {"assignment_name": NAME}
    assert "lost its Otter metadata" in notes[0]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (notebook(name=None, checks=("q7",)), "does not look like 00_tiny"),
        (notebook(name=None, checks=()), "does not look like 00_tiny"),
        (notebook(name="03_conv_output_sizes"), "assignment '03_conv_output_sizes'"),
        ("{not json", "not a readable notebook"),
    ],
)
def test_what_is_not_this_assignments_notebook_gets_a_reason(tmp_path, content, expected):
    (tmp_path / "upload.ipynb").write_text(content)
    with pytest.raises(SubmissionError, match=expected):
        prepare_submission(tmp_path, NAME, QUESTIONS)


def test_nothing_to_grade_and_ambiguous_uploads_are_refused(tmp_path):
    with pytest.raises(SubmissionError, match="No notebook found"):
        prepare_submission(tmp_path, NAME, QUESTIONS)
    (tmp_path / "a.ipynb").write_text(notebook(name=None))
    (tmp_path / "b.ipynb").write_text(notebook(name=None))
    with pytest.raises(SubmissionError, match="2 notebooks"):
        prepare_submission(tmp_path, NAME, QUESTIONS)


def odd_uploads(reference: str, folder: Path) -> dict[str, Path]:
    """Uploads that are not a plain notebook, as students hand them in (by submission id)."""
    folder.mkdir()
    stripped = json.loads(reference)
    del stripped["metadata"]["otter"]  # as Colab or another editor can leave it
    (folder / "stripped copy.ipynb").write_text(json.dumps(stripped))
    # A folder zipped on macOS: the notebook one level down, stripped too, beside a scratch
    # notebook, macOS's metadata and a helper package of the student's own.
    with zipfile.ZipFile(folder / "folder.zip", "w") as archive:
        archive.writestr(f"hw1/{NAME}.ipynb", json.dumps(stripped))
        archive.writestr("hw1/scratch.ipynb", notebook(name=None, checks=()))
        archive.writestr(f"__MACOSX/hw1/._{NAME}.ipynb", "")
        archive.writestr("hw1/shared/checks.py", "def assert_close(*args, **kwargs):\n    pass\n")
    (folder / "other.ipynb").write_text(notebook(name=None, checks=("q9",)))
    return {p.name.replace(" ", "_"): p for p in sorted(folder.iterdir())}


@pytest.mark.slow
def test_odd_uploads_score_the_same_locally_and_on_gradescope(kit, tiny, tiny_build, tmp_path):
    """One normalisation (``prepare_submission``) for both: the same file, the same outcome."""
    from autograder.grade import grade_batch

    uploads = odd_uploads(tiny_build.solution_notebook.read_text(), tmp_path / "uploads")
    batch = grade_batch(
        tiny,
        tiny_build.autograder_zip,
        [tmp_path / "uploads"],
        tmp_path / "out",
        questions=QUESTIONS,
        jobs=2,
        progress=False,
    )
    with ThreadPoolExecutor(max_workers=2) as pool:
        runs = {n: pool.submit(simulate, tiny_build.autograder_zip, p) for n, p in uploads.items()}
        runs = {name: run.result() for name, run in runs.items()}
    outcomes = {}
    for name, run in runs.items():
        row = batch.rows[name]
        assert run.results is not None, run.log
        on_gradescope = "could not be graded" not in run.results.get("output", "")
        locally = row["status"] == "graded"
        outcomes[name] = (locally, on_gradescope)
        if locally:
            assert (float(row["score"]), float(row["possible"])) == (run.score, run.possible), name
    assert outcomes == {
        "folder.zip": (True, True),
        "other.ipynb": (False, False),
        "stripped_copy.ipynb": (True, True),
    }
    assert {batch.rows[n]["score"] for n, (graded, _) in outcomes.items() if graded} == {"3"}
    feedback = (tmp_path / "out" / "feedback" / "stripped_copy.ipynb.txt").read_text()
    assert (
        "lost its Otter metadata" in feedback
        and "lost its Otter metadata" in runs["stripped_copy.ipynb"].results["output"]
    )
    assert "does not look like 00_tiny" in batch.rows["other.ipynb"]["error"]
    assert "does not look like 00_tiny" in runs["other.ipynb"].results["output"]
