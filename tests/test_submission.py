"""What a student uploads is made gradable before Otter sees it, or refused with a reason."""

from __future__ import annotations

import json
import zipfile

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


@pytest.mark.slow
def test_on_gradescope_an_export_zip_and_a_stripped_notebook_are_graded(tiny_build, tmp_path):
    reference = tiny_build.solution_notebook.read_text()
    export = tmp_path / "export.zip"
    with zipfile.ZipFile(export, "w") as archive:
        archive.writestr(f"{NAME}.ipynb", reference)
    stripped = tmp_path / "stripped.ipynb"
    nb = json.loads(reference)
    del nb["metadata"]["otter"]
    stripped.write_text(json.dumps(nb))
    for upload in (export, stripped):
        run = simulate(tiny_build.autograder_zip, upload)
        assert (run.score, run.possible) == (3, 3), run.log
    unrelated = tmp_path / "other.ipynb"
    unrelated.write_text(notebook(name=None, checks=("q9",)))
    run = simulate(tiny_build.autograder_zip, unrelated)
    assert run.results["score"] == 0
    assert "does not look like 00_tiny" in run.results["output"]
