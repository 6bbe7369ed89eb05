"""What a student does with the zip: unzip, run the notebook, check; or, on Colab, upload."""

from __future__ import annotations

import os
import shutil
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest

pytestmark = pytest.mark.slow


def execute(notebook_path: Path, *, cells: int | None = None) -> nbformat.NotebookNode:
    from nbclient import NotebookClient

    here = str(Path(sys.executable).parent)
    if os.environ["PATH"].split(os.pathsep)[0] != here:  # once: PATH is not grown per call
        os.environ["PATH"] = f"{here}{os.pathsep}{os.environ['PATH']}"
    notebook = nbformat.read(notebook_path, as_version=4)
    if cells is not None:
        notebook.cells = notebook.cells[:cells]
    client = NotebookClient(
        notebook,
        timeout=120,
        kernel_name="python3",
        allow_errors=True,
        resources={"metadata": {"path": str(notebook_path.parent)}},
    )
    client.execute()
    return notebook


def outputs(cell) -> str:
    return "".join(
        o.get("text", "")
        + str(o.get("data", {}).get("text/plain", ""))
        + "".join(o.get("traceback", []))
        for o in cell.get("outputs", [])
    )


def check_cell(notebook, question: str):
    return next(c for c in notebook.cells if c.source.strip() == f'grader.check("{question}")')


def test_unzipped_stub_checks_fail_with_a_message_that_says_what_to_do(tiny_build, tmp_path):
    with zipfile.ZipFile(tiny_build.student_zip) as zf:
        zf.extractall(tmp_path)
    folder = tmp_path / "00_tiny"
    notebook = execute(folder / "00_tiny.ipynb")
    text = outputs(check_cell(notebook, "q1"))
    assert "step returned None: replace the ... with your code" in text, text


def test_unzipped_reference_passes_its_checks(tiny_build, tmp_path):
    with zipfile.ZipFile(tiny_build.student_zip) as zf:
        zf.extractall(tmp_path)
    folder = tmp_path / "00_tiny"
    shutil.copy(tiny_build.solution_notebook, folder / "00_tiny.ipynb")
    notebook = execute(folder / "00_tiny.ipynb")
    for question in ("q1", "q2"):
        text = outputs(check_cell(notebook, question))
        assert "passed" in text.lower() and "failed" not in text.lower(), text


def test_on_colab_the_setup_cell_unpacks_the_uploaded_zip(tiny_build, tmp_path):
    # Colab: the notebook and the zip uploaded side by side, nothing unpacked.
    shutil.copy(tiny_build.student_notebook, tmp_path / "00_tiny.ipynb")
    shutil.copy(tiny_build.student_zip, tmp_path / "00_tiny-student.zip")
    notebook = execute(tmp_path / "00_tiny.ipynb")
    assert (tmp_path / "tests" / "q1.py").is_file() and (
        tmp_path / "shared" / "checks.py"
    ).is_file()
    assert "replace the ... with your code" in outputs(check_cell(notebook, "q1"))


def test_without_the_zip_the_setup_cell_says_what_is_missing(tiny_build, tmp_path):
    shutil.copy(tiny_build.student_notebook, tmp_path / "00_tiny.ipynb")
    notebook = execute(tmp_path / "00_tiny.ipynb", cells=2)
    setup = next(c for c in notebook.cells if "otter.Notebook(" in c.source)
    text = outputs(setup)
    assert "needs the folders tests/ and shared/ from 00_tiny-student.zip" in text, text
