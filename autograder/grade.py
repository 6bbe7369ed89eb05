"""Grade a folder of submissions locally: in parallel, each isolated, none able to sink the batch.

Every submission in the input gets exactly one gradebook row per student (one row when the
students are unknown): a score, or an empty score with a status other than ``graded`` and the
reason in ``error`` (not a notebook, invalid JSON, another assignment's notebook, a time-out, a
crash). The CSV is rewritten atomically after every submission, so an interrupted batch keeps
what it graded. Each row records the sha256 of the submission and of the autograder zip that
graded it: a re-run skips a submission only when both are unchanged (unless ``force``), so the
gradebook never mixes two autograders' totals; a row whose submission is no longer among the
inputs is marked ``removed``, its score emptied, and left out of the Canvas import.

Every upload, a file or a folder, is made gradable by the function Gradescope's entry point
runs (``submission.prepare_submission``): the same file gets the same outcome both ways. A
folder holding ``submission_metadata.yml`` is a Gradescope export: each of its submission
folders is graded once and gets a row per submitter with name, email and ID; files graded
without an export get their students from a roster (``gradebook_formats.read_roster``).

Per submission, ``feedback/ID.txt`` is what a student may see (hidden tests as their outcome
only, as on Gradescope: ``submission.student_summary``) and ``instructor/ID.txt`` the whole
detail. ``canvas_import.csv`` imports the scores into Canvas's gradebook. ``executed/STEM.ipynb``
is the submission with the outputs grading produced (its plots), for the instructor's review.

Each submission is graded inside bubblewrap where it is installed
(``autograder.grading.sandbox``): its own PID namespace, no network, and nothing writable but its
own work folder, so nothing it starts outlives it or touches the gradebook. Where bubblewrap is
missing, grading says so once and goes on without it.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import re
import shutil
import sys
import tempfile
import zipfile
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from types import SimpleNamespace

import nbformat

from .catalog import Assignment
from .gradebook_formats import (
    CANVAS_IMPORT,
    METADATA,
    Roster,
    Student,
    is_export,
    read_export,
    write_canvas_import,
)
from .grading import sandbox as bubblewrap
from .grading.runner import GradeResult, QuestionResult, grade_notebook
from .grading.worker import EXECUTED as WORKER_EXECUTED
from .submission import SubmissionError, prepare_submission, student_summary

GRADEBOOK = "gradebook.csv"
FEEDBACK = "feedback"  # for students
INSTRUCTOR = "instructor"  # for course staff only
EXECUTED = "executed"  # the graded notebooks with their outputs, for course staff
WORK = "work"  # each submission's grading folder: staged upload, results, grading.log
SKIPPED_NAMES = {".DS_Store", "Thumbs.db"}
STUDENT_COLUMNS = ["name", "email", "sid", "canvas_id"]
REMOVED = "removed"  # the status of a row whose submission is no longer among the inputs
EXECUTED_LIMIT = 64 * 2**20  # bytes of an executed notebook read back (outputs are capped)
LOG_LINES = 3000  # characters of the grading log quoted for an ungradable submission
MESSAGE_CHARS = 20_000  # of one test's message: what a submission raises can be any size


class BatchError(ValueError):
    """A mistake in the command rather than in a submission (the wrong autograder zip, an export
    still zipped): found before anything is graded, reported once."""


@dataclass
class Submission:
    id: str
    path: Path
    students: list[Student] = field(default_factory=list)
    uploaded: bool = False  # a folder of uploaded files (Gradescope export), not one file

    @property
    def sha256(self) -> str:
        if self.path.is_file():
            return hashlib.sha256(self.path.read_bytes()).hexdigest()
        if self.path.is_dir():
            digest = hashlib.sha256()
            for path in sorted(self.path.rglob("*")):
                if path.is_file() and not path.is_symlink():
                    digest.update(path.relative_to(self.path).as_posix().encode() + b"\0")
                    digest.update(hashlib.sha256(path.read_bytes()).digest())
            return digest.hexdigest()
        return ""


def collect(inputs: list[Path]) -> list[Submission]:
    """One Submission per file given, per file inside each folder given (recursively), and per
    submission folder of each Gradescope export given (or found directly inside a folder given).

    Raises ``gradebook_formats.ExportError`` for an export whose metadata cannot be read.
    """
    found: list[Submission] = []
    for given in inputs:
        if is_export(given):
            found += _export_submissions(given)
        elif given.is_dir():
            exports = [d for d in sorted(given.iterdir()) if is_export(d)]
            for export in exports:
                found += _export_submissions(export)
            for path in sorted(given.rglob("*")):
                relative = path.relative_to(given)
                if (
                    path.is_file()
                    and not any(p.startswith(".") for p in relative.parts)
                    and path.name not in SKIPPED_NAMES
                    and not any(export in path.parents for export in exports)
                ):
                    found.append(Submission(_identifier(relative), path))
        else:
            found.append(Submission(_identifier(Path(given.name)), given))
    seen: dict[str, int] = {}
    for submission in found:  # two inputs may share a name: keep both rows
        count = seen.get(submission.id, 0)
        seen[submission.id] = count + 1
        if count:
            submission.id = f"{submission.id}~{count + 1}"
    return found


def _export_submissions(export: Path) -> list[Submission]:
    return [
        Submission(_identifier(Path(folder)), export / folder, students, uploaded=True)
        for folder, students in sorted(read_export(export).items())
    ]


def unlisted_folders(inputs: list[Path]) -> list[Path]:
    """Folders inside the Gradescope exports among ``inputs`` that their metadata does not list
    (so not graded): a partial export, or folders put there by hand."""
    exports = [given for given in inputs if is_export(given)]
    exports += [d for given in inputs if given.is_dir() for d in sorted(given.iterdir())]
    found = []
    for export in dict.fromkeys(e for e in exports if is_export(e)):
        listed = set(read_export(export))
        found += [
            d
            for d in sorted(export.iterdir())
            if d.is_dir() and not d.name.startswith(".") and d.name not in listed
        ]
    return found


def check_inputs(submissions: list[Submission]) -> None:
    """Refuse the batch when an input is Gradescope's export still zipped: every student's rows
    would be one error otherwise. Raises ``BatchError``."""
    for submission in submissions:
        if submission.uploaded or submission.path.suffix.lower() != ".zip":
            continue
        if _holds_export_metadata(submission.path):
            raise BatchError(
                f"{submission.path} is a Gradescope export, still zipped (it holds {METADATA}): "
                "unzip it and pass its folder, which is graded per submission"
            )


def _holds_export_metadata(path: Path) -> bool:
    try:
        with zipfile.ZipFile(path) as zf:
            return any(PurePosixPath(n).name == METADATA for n in zf.namelist())
    except (zipfile.BadZipFile, OSError):
        return False


def autograder_digest(path: Path) -> str:
    """The sha256 of an autograder zip: which autograder graded a gradebook row."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def check_autograder(path: Path, assignment: Assignment) -> None:
    """Refuse an ``--autograder`` that is not ``assignment``'s Otter autograder zip (a student
    zip, an export, another assignment's zip, not a zip at all). Raises ``BatchError``."""
    try:
        with zipfile.ZipFile(path) as zf:
            names = set(zf.namelist())
            config = (
                json.loads(zf.read("otter_config.json")) if "otter_config.json" in names else None
            )
    except (zipfile.BadZipFile, OSError) as exc:
        raise BatchError(
            f"--autograder {path}: not a zip file ({exc}); pass dist/{assignment.name}-"
            "autograder.zip (python -m autograder build writes it)"
        ) from exc
    except (ValueError, UnicodeDecodeError) as exc:
        raise BatchError(f"--autograder {path}: its otter_config.json is not JSON ({exc})") from exc
    if any(PurePosixPath(n).name == METADATA for n in names):
        raise BatchError(
            f"--autograder {path}: a Gradescope export (it holds {METADATA}), not an autograder "
            f"zip; unzip it and pass its folder as SUBMISSIONS, and dist/{assignment.name}-"
            "autograder.zip as --autograder"
        )
    if not isinstance(config, dict):
        notebook = assignment.notebook_name
        student = (
            " (it looks like the student zip)"
            if any(PurePosixPath(n).name == notebook for n in names)
            else ""
        )
        raise BatchError(
            f"--autograder {path}: not an Otter autograder zip{student}: it has no "
            f"otter_config.json; pass dist/{assignment.name}-autograder.zip"
        )
    name = config.get("assignment_name")
    if name != assignment.name:
        raise BatchError(
            f"--autograder {path}: the autograder of {name or 'an unnamed assignment'}, not of "
            f"{assignment.name}; pass dist/{assignment.name}-autograder.zip"
        )


def _identifier(relative: Path) -> str:
    return re.sub(r"[^A-Za-z0-9._~-]+", "_", "__".join(relative.parts))


def precheck(path: Path, assignment: Assignment) -> str | None:
    """Why ``path`` cannot be graded as a submission for ``assignment``, or None if it can."""
    if not path.is_file():
        return f"{path.name}: file not found"
    if path.stat().st_size == 0:
        return f"{path.name}: the file is empty; submit the saved {assignment.notebook_name}"
    suffix = path.suffix.lower()
    if suffix == ".zip":  # what is inside is for prepare_submission to judge, as on Gradescope
        try:
            with zipfile.ZipFile(path) as zf:
                names = zf.namelist()
        except zipfile.BadZipFile:
            return f"{path.name}: not a valid zip archive"
        if any(PurePosixPath(n).name == METADATA for n in names):
            return (
                f"{path.name}: a Gradescope export (it holds {METADATA}); unzip it and pass "
                "its folder, which is graded per submission"
            )
        return None
    if suffix != ".ipynb":
        return (
            f"{path.name}: not a notebook ({suffix or 'no extension'}); submit "
            f"{assignment.notebook_name} (in Jupyter: File > Download)"
        )
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        return f"{path.name}: not a text file, so not a notebook"
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno}, column {exc.colno}"
        return f"{path.name}: not valid notebook JSON ({where}: {exc.msg})"
    try:
        notebook = nbformat.from_dict(raw)
        nbformat.validate(notebook)
    except Exception as exc:  # nbformat raises several validation error types
        return f"{path.name}: not a valid Jupyter notebook ({str(exc).splitlines()[0][:120]})"
    name = (notebook.metadata.get("otter") or {}).get("assignment_name")
    if name and name != assignment.name:
        return f"{path.name}: this is a notebook for assignment {name}, not {assignment.name}"
    return None


def stage_upload(
    upload: Path, assignment: Assignment, questions: list[str], work: Path
) -> tuple[Path, list[str]]:
    """Copy ``upload`` (a file, or a folder of uploaded files) into ``work`` and leave one gradable
    notebook there with the function Gradescope's entry point runs
    (``submission.prepare_submission``); returns the notebook and the notes for the student.
    Raises ``SubmissionError``."""
    if not upload.exists():
        raise SubmissionError(f"{upload.name} was not found (the export lists it).")
    staged = work / "upload"
    shutil.rmtree(staged, ignore_errors=True)
    if upload.is_dir():
        shutil.copytree(
            upload,
            staged,
            ignore=lambda folder, names: [n for n in names if (Path(folder) / n).is_symlink()],
        )
    else:
        staged.mkdir(parents=True)
        shutil.copy2(upload, staged / upload.name)
    notes = prepare_submission(staged, assignment.name, questions)
    return sorted(staged.glob("*.ipynb"))[0], notes


def read_gradebook(path: Path) -> tuple[dict[str, dict[str, str]], dict[str, list[Student]]]:
    """The rows of a gradebook by submission id, and the students of each submission."""
    rows: dict[str, dict[str, str]] = {}
    students: dict[str, list[Student]] = {}
    if not path.is_file():
        return rows, students
    with open(path, newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            key = row["submission"]
            rows.setdefault(key, {k: v for k, v in row.items() if k not in STUDENT_COLUMNS})
            student = Student(*(row.get(c) or "" for c in STUDENT_COLUMNS))
            if student:
                students.setdefault(key, []).append(student)
    return rows, students


def write_gradebook(
    path: Path,
    rows: dict[str, dict[str, str]],
    questions: list[str],
    students: dict[str, list[Student]] | None = None,
) -> None:
    """Write the CSV atomically (a reader sees the old file or the new one, never half of one):
    one row per student of each submission, the same scores for every member of a group."""
    columns = [
        "submission",
        *STUDENT_COLUMNS,
        "status",
        "score",
        "possible",
        "percent",
        *questions,
        "seconds",
        "error",
        "executed",
        "sha256",
        "autograder",
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, partial = tempfile.mkstemp(dir=path.parent, prefix=".gradebook-", suffix=".csv")
    with os.fdopen(handle, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        for key in sorted(rows):
            for student in (students or {}).get(key) or [Student()]:
                writer.writerow({**rows[key], **{c: getattr(student, c) for c in STUDENT_COLUMNS}})
    os.replace(partial, path)


def row_for(
    submission: Submission,
    result: GradeResult | None,
    error: str | None,
    digest: str,
    autograder: str = "",
    executed: str = "",
) -> dict[str, str]:
    """The gradebook row: an ungradable submission has no score (not 0), its status says why.
    ``autograder``: the sha256 of the autograder zip that graded it; ``executed``: the path of
    its executed notebook, relative to the gradebook's folder."""
    row = {
        "submission": submission.id,
        "sha256": digest,
        "autograder": autograder,
        "executed": executed,
    }
    if result is None or result.status != "graded":
        row.update(
            status="error" if result is None or result.status == "error" else result.status,
            score="",
            possible="",
            percent="",
            error=error or (result.error if result else "") or "unknown error",
            seconds=f"{result.seconds:.1f}" if result else "0",
        )
        return row
    row.update(
        status="graded",
        score=f"{result.total:g}",
        possible=f"{result.possible:g}",
        percent=f"{100 * result.total / result.possible:.1f}" if result.possible else "0",
        seconds=f"{result.seconds:.1f}",
        error="",
    )
    row.update({name: f"{q.score:g}" for name, q in result.questions.items()})
    return row


def _header(submission: Submission) -> list[str]:
    lines = [f"Submission: {submission.id}"]
    names = [s.name or s.email or s.sid for s in submission.students]
    if names:
        lines.append(f"Submitted by: {', '.join(names)}")
    return lines


def _notes(notes: list[str], result: GradeResult | None) -> list[str]:
    lines = []
    if notes:
        lines += ["", "Submission notes:", *(f"- {note}" for note in notes)]
    output = (result.results_json or {}).get("output") if result else None
    if output:  # the grading plugin's notes, which Gradescope shows students too
        lines += ["", output.strip()]
    return lines


def _reason(result: GradeResult | None, error: str | None) -> str:
    return error or (result.error if result else None) or "unknown error"


def _capped(message: str) -> str:
    if len(message) <= MESSAGE_CHARS:
        return message
    return message[:MESSAGE_CHARS] + f"\n[... {len(message) - MESSAGE_CHARS:,} characters cut]"


def _otter_view(question: QuestionResult) -> SimpleNamespace:
    """A question's results in the shape of Otter's, which ``student_summary`` reads."""
    cases = [
        SimpleNamespace(
            passed=case.passed,
            message=_capped(case.message),
            test_case=SimpleNamespace(name=case.name, hidden=case.hidden),
        )
        for case in question.cases
    ]
    return SimpleNamespace(name=question.name, cases=cases)


def student_feedback(
    submission: Submission, result: GradeResult | None, error: str | None, notes: list[str]
) -> str:
    """What a student may read: scores, public tests with their messages, hidden tests' outcomes
    only (their messages can show hidden inputs), and no grading log."""
    lines = _header(submission)
    if result is None or result.status != "graded":
        lines += [
            f"Not graded: {_reason(result, error)}",
            "No score was given: ask your instructor.",
        ]
        return "\n".join(lines + _notes(notes, result)) + "\n"
    lines.append(f"Score: {result.total:g} / {result.possible:g}")
    lines += _notes(notes, result)
    for name, question in result.questions.items():
        lines += ["", f"{name}: {question.score:g} / {question.possible:g}"]
        lines.append(student_summary(_otter_view(question)))
    return "\n".join(lines) + "\n"


def instructor_detail(
    submission: Submission, result: GradeResult | None, error: str | None, notes: list[str]
) -> str:
    """Everything: every test's message, hidden ones included, and for a submission that could
    not be graded, the last lines of its grading log. Not for students."""
    lines = [*_header(submission), f"From: {submission.path}"]
    if result is None or result.status != "graded":
        status = result.status if result else "error"
        lines += [f"Not graded ({status}): {_reason(result, error)}", *_notes(notes, result)]
        if result and result.log.strip():
            lines += ["", "Last lines of the grading log:", result.log.strip()[-LOG_LINES:]]
        return "\n".join(lines) + "\n"
    lines.append(f"Score: {result.total:g} / {result.possible:g}")
    lines += _notes(notes, result)
    for name, question in result.questions.items():
        lines += ["", f"{name}: {question.score:g} / {question.possible:g}"]
        for case in question.cases:
            status = "passed" if case.passed else "FAILED"
            visibility = " (hidden)" if case.hidden else ""
            lines.append(f"  {case.name}{visibility}: {status}")
            if not case.passed and case.message:
                lines += ["    " + m for m in _capped(case.message).splitlines()]
    return "\n".join(lines) + "\n"


def canvas_rows(
    rows: dict[str, dict[str, str]], students: dict[str, list[Student]]
) -> list[tuple[Student, str, str]]:
    """(student, submission, score) per student; no score where nothing was graded, and no row
    for a submission no longer among the inputs."""
    return [
        (student, key, rows[key]["score"] if rows[key].get("status") == "graded" else "")
        for key in sorted(rows)
        if rows[key].get("status") != REMOVED
        for student in students.get(key) or [Student()]
    ]


def executed_name(submission_id: str) -> str:
    """``executed/STEM.ipynb``: the submission's id without a trailing ``.ipynb``."""
    stem = submission_id[: -len(".ipynb")] if submission_id.endswith(".ipynb") else submission_id
    return f"{EXECUTED}/{stem}.ipynb"


def keep_executed(executed: Path, graded: Path, target: Path) -> bool:
    """Write ``target``: the notebook ``graded`` with the outputs of ``executed`` (the worker's
    copy, which carries Otter's and the guard's cells and per-cell labels), matched by each code
    cell's ``# graded-cell N`` label; False if there is nothing to keep."""
    target.unlink(missing_ok=True)
    if not executed.is_file() or executed.stat().st_size > EXECUTED_LIMIT:
        return False
    from .grading.otter_plugin import cell_label

    try:
        ran = nbformat.read(executed, as_version=4)
        notebook = nbformat.read(graded, as_version=4)
    except Exception:  # written by the process that ran student code: anything may be there
        return False
    outputs = {}
    for cell in ran.cells:
        label = cell_label(cell) if cell.cell_type == "code" else None
        if label is not None:
            outputs[label] = (cell.get("outputs", []), cell.get("execution_count"))
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type == "code" and index in outputs:
            cell.outputs, cell.execution_count = outputs[index]
    notebook.metadata["grading"] = {
        "note": "outputs of the code cells as grading ran them; cells grading skipped "
        "(otter_ignore) keep the student's own outputs"
    }
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        nbformat.write(notebook, target)
    except Exception:  # a review copy that cannot be written is not worth a grade
        target.unlink(missing_ok=True)
        return False
    return True


@dataclass
class Batch:
    """What ``grade_batch`` did: the gradebook rows by submission id, and why each submission
    was graded or skipped."""

    rows: dict[str, dict[str, str]]
    students: dict[str, list[Student]]
    new: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)  # the submission's content changed
    regraded: list[str] = field(default_factory=list)  # graded by another autograder before
    retried: list[str] = field(default_factory=list)  # not gradable last time
    forced: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # unchanged, same autograder
    removed: list[str] = field(default_factory=list)  # no longer among the inputs
    unlisted: list[Path] = field(default_factory=list)  # export folders not in its metadata
    unmatched: list[str] = field(default_factory=list)  # files the roster names no student for
    absent: list[Student] = field(default_factory=list)  # roster students with no submission

    def summary(self) -> list[str]:
        """One line per kind of decision, for the command's output."""
        lines = []
        for count, text in (
            (self.new, "graded for the first time"),
            (self.changed, "re-graded: the submission changed"),
            (self.regraded, "re-graded: graded by another (older) autograder"),
            (self.retried, "graded again: not gradable last time"),
            (self.forced, "re-graded: --force"),
            (self.skipped, "skipped: unchanged since last run, same autograder"),
            (
                self.removed,
                "removed: no longer among the submissions given (status removed, score "
                "emptied, left out of canvas_import.csv)",
            ),
        ):
            if count:
                lines.append(f"{len(count)} {text}")
        return lines


def _decide(
    submission: Submission,
    digest: str,
    previous: dict[str, str] | None,
    autograder: str,
    force: bool,
    batch: Batch,
) -> bool:
    """Whether to grade ``submission``; records why in ``batch``."""
    if previous is None:
        batch.new.append(submission.id)
    elif force:
        batch.forced.append(submission.id)
    elif previous.get("status") != "graded":
        batch.retried.append(submission.id)
    elif previous.get("sha256") != digest:
        batch.changed.append(submission.id)
    elif previous.get("autograder") != autograder:
        batch.regraded.append(submission.id)
    else:
        batch.skipped.append(submission.id)
        return False
    return True


def _mark_removed(row: dict[str, str], questions: list[str]) -> dict[str, str]:
    was = f"; it had scored {row['score']}/{row['possible']}" if row.get("score") else ""
    return {
        **row,
        **dict.fromkeys(["score", "possible", "percent", *questions], ""),
        "status": REMOVED,
        "error": f"not among the submissions of the last run{was}",
    }


def grade_batch(
    assignment: Assignment,
    autograder_zip: Path,
    inputs: list[Path],
    out: Path,
    *,
    questions: list[str],
    jobs: int | None = None,
    timeout: float = 600,
    force: bool = False,
    progress: bool = True,
    sandbox: bool | None = None,
    canvas_assignment: str | None = None,
    roster: Roster | None = None,
) -> Batch:
    """Grade every submission under ``inputs``; returns the gradebook rows by submission id
    (students' names, emails and IDs are in ``gradebook.csv``, one row per student) and what
    was graded, skipped or removed, and why.

    ``sandbox``: None grades in bubblewrap when it is available, True insists on it, False
    grades without it. ``canvas_assignment``: the assignment column of ``canvas_import.csv``
    [default: the assignment's name]. ``roster``: who submitted each file graded without a
    Gradescope export. Raises ``BatchError`` (and ``gradebook_formats.ExportError``) before
    grading anything when the command itself is wrong.
    """
    from tqdm import tqdm

    check_autograder(autograder_zip, assignment)
    submissions = collect(inputs)  # a malformed export stops here, before any grading
    if roster is not None and roster.path is not None:  # the roster kept beside the notebooks
        submissions = [s for s in submissions if s.path.resolve() != roster.path.resolve()]
    check_inputs(submissions)
    usable, why_not = bubblewrap.available() if sandbox is not False else (False, "")
    if sandbox and not usable:
        raise RuntimeError(f"cannot sandbox the submissions: {why_not}")
    if sandbox is None and not usable:
        print(f"grading without a sandbox: {why_not}", file=sys.stderr)

    autograder = autograder_digest(autograder_zip)
    gradebook_path = out / GRADEBOOK
    rows, students = read_gradebook(gradebook_path)
    batch = Batch(rows, students, unlisted=unlisted_folders(inputs))
    if roster is not None:
        found = set()
        for submission in submissions:
            student = None if submission.uploaded else roster.find(submission.path.name)
            if student is not None:
                submission.students = [student]
                found.add(student)
            elif not submission.uploaded:
                batch.unmatched.append(submission.id)
        batch.absent = sorted(roster.students - found, key=lambda s: (s.name, s.sid, s.email))
    students.update({s.id: s.students for s in submissions if s.students})
    given = {s.id for s in submissions}
    for key in sorted(set(rows) - given):
        if rows[key].get("status") != REMOVED:
            rows[key] = _mark_removed(rows[key], questions)
            (out / FEEDBACK / f"{key}.txt").unlink(missing_ok=True)  # not to be handed out
        batch.removed.append(key)
    todo = []
    for submission in submissions:
        digest = submission.sha256
        if _decide(submission, digest, rows.get(submission.id), autograder, force, batch):
            todo.append((submission, digest))

    def grade_one(submission: Submission, digest: str):
        work = out / WORK / submission.id
        notes: list[str] = []
        path = None
        error = None if submission.uploaded else precheck(submission.path, assignment)
        if error is None:
            try:
                path, notes = stage_upload(submission.path, assignment, questions, work)
            except SubmissionError as exc:
                error = str(exc)
            else:
                error = precheck(path, assignment)
        if error:
            return submission, digest, None, error, notes, ""
        (work / WORKER_EXECUTED).unlink(missing_ok=True)
        result = grade_notebook(autograder_zip, path, work, timeout=timeout, sandbox=usable)
        executed = executed_name(submission.id)
        if not keep_executed(work / WORKER_EXECUTED, path, out / executed):
            executed = ""
        return submission, digest, result, None, notes, executed

    workers = max(1, min(jobs or os.cpu_count() or 1, len(todo) or 1))
    for folder in (FEEDBACK, INSTRUCTOR, "results"):
        (out / folder).mkdir(parents=True, exist_ok=True)
    with (
        ThreadPoolExecutor(max_workers=workers) as pool,
        tqdm(
            total=len(todo),
            desc=f"grading {assignment.name}",
            unit="submission",
            disable=not progress,
        ) as bar,
    ):
        futures = [pool.submit(grade_one, s, d) for s, d in todo]
        for future in as_completed(futures):
            submission, digest, result, error, notes, executed = future.result()
            rows[submission.id] = row_for(submission, result, error, digest, autograder, executed)
            if not executed:
                (out / executed_name(submission.id)).unlink(missing_ok=True)
            (out / FEEDBACK / f"{submission.id}.txt").write_text(
                student_feedback(submission, result, error, notes), encoding="utf-8"
            )
            (out / INSTRUCTOR / f"{submission.id}.txt").write_text(
                instructor_detail(submission, result, error, notes), encoding="utf-8"
            )
            stale = out / "results" / f"{submission.id}.json"
            if result is not None and result.results_json is not None:
                stale.write_text(json.dumps(result.results_json, indent=2), encoding="utf-8")
            else:
                stale.unlink(missing_ok=True)
            write_gradebook(gradebook_path, rows, questions, students)
            bar.update()
    write_gradebook(gradebook_path, rows, questions, students)
    # Every graded row was graded by this autograder (the others were re-graded above), so the
    # points possible are one total; an older row would be a bug, so it is refused, not mixed.
    graded = [r for r in rows.values() if r.get("status") == "graded"]
    mixed = sorted(r["submission"] for r in graded if r.get("autograder") != autograder)
    if mixed:
        raise RuntimeError(f"rows graded by another autograder remain: {', '.join(mixed[:5])}")
    totals = sorted({r["possible"] for r in graded})
    write_canvas_import(
        out / CANVAS_IMPORT,
        canvas_assignment or assignment.name,
        totals[0] if len(totals) == 1 else "",
        canvas_rows(rows, students),
    )
    return batch
