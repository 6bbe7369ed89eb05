"""Build: master -> student notebook, public tests, student zip and Gradescope zip.

The master is converted to a notebook, given what every assignment shares (``master.for_otter``)
and handed to ``otter assign`` in a scratch folder. Its output is normalised (stable cell ids,
no outputs, no editor metadata) and packed reproducibly, so the same sources always give the
same bytes and ``assignments/`` can be checked for staleness by comparison.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import nbformat

from . import environments, zips
from .catalog import (
    GRADER_ONLY,
    GRADER_SUPPORT,
    GRADING_FILES,
    HELPER_PACKAGE,
    STUDENT_ENVIRONMENT,
    Assignment,
)
from .errors import UserError
from .master import Master, for_otter, read_master

GRADESCOPE_ENVIRONMENT = "environment-gradescope.yml"
RECORD_NAME = "verified.json"  # written by verify beside the build's outputs (records.py)
# What the autograder zip carries of this package, at these paths under autograder/: the grading
# plugin (grading/otter_plugin.py, which PLUGIN_NAME names) with everything it imports, and the
# zip's entry point (submission.py).
PLUGIN_FILES = (
    "__init__.py",
    "submission.py",
    *(f"grading/{name}" for name in GRADING_FILES),
)
# The zip's entry point: make the upload gradable (autograder/submission.py), then run Otter.
RUN_OTTER = '''"""Gradescope runs this (through run_autograder): check the upload, then grade it."""

import sys

from autograder.submission import run_gradescope

if __name__ == "__main__":
    run_gradescope(sys.argv[1] if len(sys.argv) > 1 else "/autograder")
'''
EDITOR_METADATA = ("lines_to_next_cell", "jupytext", "collapsed", "scrolled", "execution")


@dataclass
class Built:
    """Everything one build produced, in a staging folder."""

    assignment: Assignment
    master: Master
    staging: Path

    @property
    def student_dir(self) -> Path:
        """Notebook and public tests, exactly as committed under ``assignments/``."""
        return self.staging / "student"

    @property
    def student_notebook(self) -> Path:
        return self.student_dir / self.assignment.notebook_name

    @property
    def solution_notebook(self) -> Path:
        """The reference: the student notebook with the solutions in place."""
        return self.staging / "reference" / self.assignment.notebook_name

    @property
    def autograder_zip(self) -> Path:
        return self.staging / self.assignment.autograder_zip.name

    @property
    def student_zip(self) -> Path:
        return self.staging / self.assignment.student_zip.name


def build(assignment: Assignment, staging: Path) -> Built:
    """Build ``assignment`` into ``staging`` (created empty); nothing outside it is touched."""
    master = read_master(assignment)
    if staging.exists():
        shutil.rmtree(staging)
    work = staging / "otter"
    work.mkdir(parents=True)
    built = Built(assignment, master, staging)

    (work / GRADESCOPE_ENVIRONMENT).write_text(environments.gradescope_environment())
    shutil.copytree(
        HELPER_PACKAGE, work / "shared", ignore=shutil.ignore_patterns(*zips.SKIPPED_PARTS, "*.pyc")
    )
    shutil.copytree(
        GRADER_SUPPORT,
        work / GRADER_SUPPORT.name,
        ignore=shutil.ignore_patterns(*zips.SKIPPED_PARTS, "*.pyc"),
    )
    if assignment.grader_only.is_dir():
        shutil.copytree(
            assignment.grader_only,
            work / GRADER_ONLY,
            ignore=shutil.ignore_patterns(*zips.SKIPPED_PARTS, "*.pyc"),
        )
    notebook = for_otter(master, environment=GRADESCOPE_ENVIRONMENT)
    nbformat.write(notebook, work / assignment.notebook_name)
    _run_otter_assign(assignment, work)

    out = work / "out"
    built.student_dir.mkdir(parents=True)
    _write_normalised(out / "student" / assignment.notebook_name, built.student_notebook)
    shutil.copytree(out / "student" / "tests", built.student_dir / "tests")
    built.solution_notebook.parent.mkdir(parents=True)
    _write_normalised(out / "autograder" / assignment.notebook_name, built.solution_notebook)

    otter_zips = sorted((out / "autograder").glob("*-autograder_*.zip"))
    if len(otter_zips) != 1:
        raise UserError(
            f"otter assign made {len(otter_zips)} autograder zips for {assignment.name}; expected 1"
        )
    zips.write_zip(built.autograder_zip, autograder_zip_entries(otter_zips[0]))
    zips.write_zip(built.student_zip, student_zip_entries(built))
    return built


def _run_otter_assign(assignment: Assignment, work: Path) -> None:
    command = [
        sys.executable,
        "-m",
        "otter",
        "assign",
        "--no-pdfs",
        "--no-run-tests",
        assignment.notebook_name,
        "out",
    ]
    result = subprocess.run(command, cwd=work, capture_output=True, text=True)
    if result.returncode != 0:
        lines = [
            line for line in (result.stderr + result.stdout).strip().splitlines() if line.strip()
        ]
        reason = lines[-1] if lines else f"exit status {result.returncode}"
        raise UserError(f"{assignment.master}: otter assign failed: {reason}")


def normalise(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Stable ids, no outputs, no editor metadata: the same master always gives the same file."""
    notebook.metadata.pop("jupytext", None)
    for index, cell in enumerate(notebook.cells):
        cell["id"] = f"cell-{index:03d}"
        for key in EDITOR_METADATA:
            cell.metadata.pop(key, None)
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    notebook.nbformat, notebook.nbformat_minor = 4, 5
    return notebook


def _write_normalised(source: Path, destination: Path) -> None:
    notebook = normalise(nbformat.read(source, as_version=4))
    nbformat.validate(notebook)
    destination.write_text(nbformat.writes(notebook) + "\n", encoding="utf-8")


def autograder_zip_entries(otter_zip: Path) -> dict[str, bytes]:
    """Otter's autograder zip plus the grading plugin, importable from /autograder/source, with
    the kit's lean image (setup.sh, run_autograder, requirements.txt) in place of Otter's."""
    entries = zips.zip_entries(otter_zip)
    package = Path(__file__).resolve().parent
    for name in PLUGIN_FILES:
        entries[f"autograder/{name}"] = (package / name).read_bytes()
    entries["run_otter.py"] = RUN_OTTER.encode()
    del entries["environment.yml"]  # Otter's conda environment: the image uses requirements.txt
    entries.update(environments.gradescope_image_files())
    return entries


def student_zip_entries(built: Built) -> dict[str, bytes]:
    """The student zip: one top folder with notebook, public tests, helpers and environment."""
    prefix = f"{built.assignment.name}/"
    entries = zips.tree_entries(built.student_dir, prefix)
    entries.update(zips.tree_entries(HELPER_PACKAGE, f"{prefix}shared/"))
    entries[f"{prefix}environment.yml"] = STUDENT_ENVIRONMENT.read_bytes()
    return entries


def publish(built: Built) -> None:
    """Copy a verified build into ``assignments/`` and ``dist/``."""
    target = built.assignment.student_dir
    record = target / RECORD_NAME
    kept = record.read_bytes() if record.is_file() else None  # still valid if inputs match
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(built.student_dir, target)
    if kept is not None:
        record.write_bytes(kept)
    for made, final in (
        (built.student_zip, built.assignment.student_zip),
        (built.autograder_zip, built.assignment.autograder_zip),
        (built.solution_notebook, built.assignment.solutions_notebook),
    ):
        final.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(made, final)


def stale_files(built: Built) -> list[str]:
    """Files under ``assignments/NAME`` that differ from this build (empty when fresh)."""
    fresh = zips.tree_entries(built.student_dir)
    target = built.assignment.student_dir
    committed = zips.tree_entries(target) if target.is_dir() else {}
    committed.pop(RECORD_NAME, None)  # verify's record, not a build output
    names = sorted(set(fresh) | set(committed))
    return [n for n in names if fresh.get(n) != committed.get(n)]
