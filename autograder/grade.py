"""Grade a folder of submissions locally: in parallel, each isolated, none able to sink the batch.

Every submission in the input gets exactly one gradebook row per student (one row when the
students are unknown): a score, or an empty score with a status other than ``graded`` and the
reason in ``error`` (not a notebook, invalid JSON, another assignment's notebook, a time-out, a
crash). The CSV is rewritten atomically after every submission, so an interrupted batch keeps
what it graded, and a re-run skips submissions already graded (same content) unless ``force``
is set.

A folder holding ``submission_metadata.yml`` is a Gradescope export: each of its submission
folders is graded once, made gradable as Gradescope's entry point does
(``submission.prepare_submission``), and gets a row per submitter with name, email and ID.

Per submission, ``feedback/ID.txt`` is what a student may see (hidden tests as their outcome
only, as on Gradescope: ``submission.student_summary``) and ``instructor/ID.txt`` the whole
detail. ``canvas_import.csv`` imports the scores into Canvas's gradebook.

Each submission is graded inside bubblewrap where it is installed (``autograder.sandbox``): its
own PID namespace, no network, and nothing writable but its own work folder, so nothing it starts
outlives it or touches the gradebook. Where bubblewrap is missing, grading says so once and goes
on without it.
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

from . import sandbox as bubblewrap
from .catalog import Assignment
from .gradebook_formats import (
    CANVAS_IMPORT,
    METADATA,
    Student,
    is_export,
    read_export,
    write_canvas_import,
)
from .runner import GradeResult, QuestionResult, grade_notebook
from .submission import SubmissionError, prepare_submission, student_summary

GRADEBOOK = "gradebook.csv"
FEEDBACK = "feedback"  # for students
INSTRUCTOR = "instructor"  # for course staff only
SKIPPED_NAMES = {".DS_Store", "Thumbs.db"}
STUDENT_COLUMNS = ["name", "email", "sid"]
LOG_LINES = 3000  # characters of the grading log quoted for an ungradable submission
MESSAGE_CHARS = 20_000  # of one test's message: what a submission raises can be any size


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


def _identifier(relative: Path) -> str:
    return re.sub(r"[^A-Za-z0-9._~-]+", "_", "__".join(relative.parts))


def precheck(path: Path, assignment: Assignment) -> str | None:
    """Why ``path`` cannot be graded as a submission for ``assignment``, or None if it can."""
    if not path.is_file():
        return f"{path.name}: file not found"
    if path.stat().st_size == 0:
        return f"{path.name}: the file is empty; submit the saved {assignment.notebook_name}"
    suffix = path.suffix.lower()
    if suffix == ".zip":
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
        notebooks = _zipped_notebooks(names)
        if len(notebooks) != 1:
            return (
                f"{path.name}: a submission zip must hold exactly one notebook; it holds "
                f"{len(notebooks)}"
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


def _zipped_notebooks(names: list[str]) -> list[PurePosixPath]:
    """The notebooks among a zip's members, not counting checkpoints and macOS's ``__MACOSX/``."""
    paths = [PurePosixPath(n) for n in names if n.endswith(".ipynb") and "checkpoint" not in n]
    return [
        p for p in paths if not any(part.startswith(".") or part == "__MACOSX" for part in p.parts)
    ]


def _notebook_in_subfolder(path: Path) -> bool:
    """A zip of a student's folder: Otter looks for the notebook at the top only."""
    if path.suffix.lower() != ".zip":
        return False
    with zipfile.ZipFile(path) as zf:
        return any(len(p.parts) > 1 for p in _zipped_notebooks(zf.namelist()))


def stage_upload(
    upload: Path, assignment: Assignment, questions: list[str], work: Path
) -> tuple[Path, list[str]]:
    """Copy ``upload`` (a file, or a folder of uploaded files) into ``work`` and leave one gradable
    notebook there, as Gradescope's entry point does (``submission.prepare_submission``); returns
    the notebook and the notes for the student. Raises ``SubmissionError``."""
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
        "sha256",
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, partial = tempfile.mkstemp(dir=path.parent, prefix=".gradebook-", suffix=".csv")
    with os.fdopen(handle, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        for key in sorted(rows):
            for student in (students or {}).get(key) or [Student()]:
                writer.writerow(
                    {**rows[key], "name": student.name, "email": student.email, "sid": student.sid}
                )
    os.replace(partial, path)


def row_for(
    submission: Submission, result: GradeResult | None, error: str | None, digest: str
) -> dict[str, str]:
    """The gradebook row: an ungradable submission has no score (not 0), its status says why."""
    row = {"submission": submission.id, "sha256": digest}
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
    """(student, submission, score) per student; no score where nothing was graded."""
    return [
        (student, key, rows[key]["score"] if rows[key].get("status") == "graded" else "")
        for key in sorted(rows)
        for student in students.get(key) or [Student()]
    ]


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
) -> dict[str, dict[str, str]]:
    """Grade every submission under ``inputs``; returns the gradebook rows by submission id
    (students' names, emails and IDs are in ``gradebook.csv``, one row per student).

    ``sandbox``: None grades in bubblewrap when it is available, True insists on it, False
    grades without it. ``canvas_assignment``: the assignment column of ``canvas_import.csv``
    [default: the assignment's name].
    """
    from tqdm import tqdm

    submissions = collect(inputs)  # a malformed export stops here, before any grading
    usable, why_not = bubblewrap.available() if sandbox is not False else (False, "")
    if sandbox and not usable:
        raise RuntimeError(f"cannot sandbox the submissions: {why_not}")
    if sandbox is None and not usable:
        print(f"grading without a sandbox: {why_not}", file=sys.stderr)

    gradebook_path = out / GRADEBOOK
    rows, students = read_gradebook(gradebook_path)
    students.update({s.id: s.students for s in submissions if s.students})
    todo = []
    for submission in submissions:
        digest = submission.sha256
        previous = rows.get(submission.id)
        if (
            not force
            and previous
            and previous.get("status") == "graded"
            and previous.get("sha256") == digest
        ):
            continue
        todo.append((submission, digest))

    def grade_one(submission: Submission, digest: str):
        work = out / "work" / submission.id
        path, notes = submission.path, []
        error = None if submission.uploaded else precheck(path, assignment)
        if error is None and (submission.uploaded or _notebook_in_subfolder(path)):
            try:
                path, notes = stage_upload(submission.path, assignment, questions, work)
            except SubmissionError as exc:
                error = str(exc)
            else:
                error = precheck(path, assignment)
        if error:
            return submission, digest, None, error, notes
        result = grade_notebook(autograder_zip, path, work, timeout=timeout, sandbox=usable)
        return submission, digest, result, None, notes

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
            submission, digest, result, error, notes = future.result()
            rows[submission.id] = row_for(submission, result, error, digest)
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
    graded = [float(r["possible"]) for r in rows.values() if r.get("status") == "graded"]
    write_canvas_import(
        out / CANVAS_IMPORT,
        canvas_assignment or assignment.name,
        f"{max(graded):g}" if graded else "",
        canvas_rows(rows, students),
    )
    return rows
