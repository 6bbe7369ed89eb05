"""Verification records: what ``verify`` proved, so an unchanged assignment is not re-proved.

After a successful ``verify``, ``assignments/NN_topic/verified.json`` (committed) holds a sha256
over every input that can change a grade or what verification proves, and the scores it saw.
``build`` skips grading when the record matches the inputs; CI never trusts a record: it
re-verifies and fails when a committed record disagrees with its inputs or with the scores.

The master's prose (its markdown cells) is not such an input: no test reads it and no grade
depends on it, so an edit of a word rebuilds the notebook and zips and keeps the proof. What the
checks that grade nothing run on every build all the same, record or not
(``verify.static_checks``: no answer or hidden test in the student zip, the stub compiles).
Nor is ``figures.yml``, which only names what ``bench --figures`` prints.
"""

from __future__ import annotations

import hashlib
import json
import re
from importlib import metadata
from pathlib import Path

from . import zips
from .build import RECORD_NAME
from .catalog import (
    GRADER_SUPPORT,
    GRADING_FILES,
    HELPER_PACKAGE,
    ROOT,
    STUDENT_ENVIRONMENT,
    Assignment,
)
from .figures import FIGURES_NAME

# Kit files whose change can change a grade (the build, the grading path, the guard) or what
# verification proves (the checks, the fast path, the catalogue formats).
KIT_FILES = (
    "autograder/build.py",
    "autograder/environments.py",
    "autograder/fastgrade.py",
    *(f"autograder/grading/{name}" for name in GRADING_FILES),
    "autograder/master.py",
    "autograder/mutants.py",
    "autograder/prose.py",
    "autograder/submission.py",
    "autograder/templates/setup_cell.py",
    "autograder/templates/submit_cell.py",
    "autograder/verify.py",
    "pyproject.toml",
)


def record_path(assignment: Assignment) -> Path:
    return assignment.student_dir / RECORD_NAME


# A cell of a jupytext percent-format master starts with a line "# %%", a prose cell with
# "# %% [markdown]" (or "[md]"), optionally followed by its metadata.
_CELL_START = re.compile(r"^# %%(?:$|[ \t])")
_PROSE_CELL = re.compile(r"^# %%[ \t]+\[(?:markdown|md)\]")


def without_prose(master: str) -> str:
    """The master with the text of its prose cells left out (their markers kept, so cells keep
    their places): what grading can depend on. Code, tests, raw cells (the assignment's config,
    every question's name and points), tags and seeds all stay."""
    kept, in_prose = [], False
    for line in master.splitlines(keepends=True):
        if _CELL_START.match(line):
            in_prose = bool(_PROSE_CELL.match(line))
            kept.append(line)
        elif not in_prose:
            kept.append(line)
    return "".join(kept)


def inputs_digest(assignment: Assignment) -> str:
    """sha256 over the assignment's sources (the master without its prose), the helper
    package, the kit's grading path and the pins (file names and bytes, in a fixed order), and
    Otter's installed version."""
    digest = hashlib.sha256()

    def add(name: str, data: bytes) -> None:
        digest.update(f"{name}\0{len(data)}\0".encode())
        digest.update(data)

    for name, data in sorted(zips.tree_entries(assignment.source_dir).items()):
        if name == FIGURES_NAME:
            continue
        if name == assignment.master.name:
            data = without_prose(data.decode("utf-8")).encode("utf-8")
        add(f"solutions/{assignment.name}/{name}", data)
    for name, data in sorted(zips.tree_entries(HELPER_PACKAGE).items()):
        add(f"shared/{name}", data)
    for name, data in sorted(zips.tree_entries(GRADER_SUPPORT).items()):
        add(f"grader_support/{name}", data)
    for name in KIT_FILES:
        add(name, (ROOT / name).read_bytes())
    add("environment.yml", STUDENT_ENVIRONMENT.read_bytes())
    add("otter-grader", metadata.version("otter-grader").encode())
    return digest.hexdigest()


def make_record(assignment: Assignment, report) -> dict:
    """The record of a successful verification (no timings: the same proof, the same bytes)."""
    return {
        "assignment": assignment.name,
        "inputs_sha256": inputs_digest(assignment),
        # "fresh" is checked by `verify` but not by `build` (which writes assignments/ itself):
        # left out, the record is the same bytes whichever command proved it
        "checks": sum(row.check != "fresh" for row in report.rows),
        "scores": {label: question_scores(result) for label, result in report.results.items()},
    }


def question_scores(result) -> dict[str, str]:
    """``{"q1": "4/4", ...}`` for a GradeResult, or ``{"status": ...}`` if it was not graded."""
    if result.status != "graded":
        return {"status": result.status}
    return {n: f"{q.score:g}/{q.possible:g}" for n, q in result.questions.items()}


def write_record(assignment: Assignment, record: dict) -> Path:
    path = record_path(assignment)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    return path


def read_record(assignment: Assignment) -> dict | None:
    path = record_path(assignment)
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) else None


def matching_record(assignment: Assignment) -> dict | None:
    """The committed record if it was made from exactly the current inputs, else None."""
    record = read_record(assignment)
    if record and record.get("inputs_sha256") == inputs_digest(assignment):
        return record
    return None
