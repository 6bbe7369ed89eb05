"""Grade a folder of submissions locally: in parallel, each isolated, none able to sink the batch.

Every submission in the input gets exactly one gradebook row: a score, or a specific error
(not a notebook, invalid JSON, another assignment's notebook, a time-out, a crash). The CSV is
rewritten atomically after every submission, so an interrupted batch keeps what it graded, and
a re-run skips submissions already graded (same file, same content) unless ``force`` is set.

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
import sys
import tempfile
import zipfile
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

import nbformat

from . import sandbox as bubblewrap
from .catalog import Assignment
from .runner import GradeResult, grade_notebook

GRADEBOOK = "gradebook.csv"
SKIPPED_NAMES = {".DS_Store", "Thumbs.db"}


@dataclass
class Submission:
    id: str
    path: Path

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.path.read_bytes()).hexdigest() if self.path.is_file() else ""


def collect(inputs: list[Path]) -> list[Submission]:
    """One Submission per file given, or per file inside each folder given (recursively)."""
    found: list[Submission] = []
    for given in inputs:
        if given.is_dir():
            for path in sorted(given.rglob("*")):
                relative = path.relative_to(given)
                if (
                    path.is_file()
                    and not any(p.startswith(".") for p in relative.parts)
                    and path.name not in SKIPPED_NAMES
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
                notebooks = [
                    n for n in zf.namelist() if n.endswith(".ipynb") and "checkpoint" not in n
                ]
        except zipfile.BadZipFile:
            return f"{path.name}: not a valid zip archive"
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


def read_gradebook(path: Path) -> dict[str, dict[str, str]]:
    if not path.is_file():
        return {}
    with open(path, newline="", encoding="utf-8") as f:
        return {row["submission"]: row for row in csv.DictReader(f)}


def write_gradebook(path: Path, rows: dict[str, dict[str, str]], questions: list[str]) -> None:
    """Write the CSV atomically: a reader sees the old file or the new one, never half of one."""
    columns = [
        "submission",
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
            writer.writerow(rows[key])
    os.replace(partial, path)


def row_for(
    submission: Submission, result: GradeResult | None, error: str | None, digest: str
) -> dict[str, str]:
    row = {"submission": submission.id, "sha256": digest}
    if result is None or result.status != "graded":
        row.update(
            status="error" if result is None or result.status == "error" else result.status,
            score="0",
            possible="",
            percent="0",
            error=error or (result.error if result else "") or "",
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


def feedback_text(submission: Submission, result: GradeResult | None, error: str | None) -> str:
    lines = [f"Submission: {submission.id}"]
    if result is None or result.status != "graded":
        lines.append(f"Not graded: {error or (result.error if result else 'unknown error')}")
        if result and result.log.strip():
            lines += ["", "Last lines of the grading log:", result.log.strip()[-3000:]]
        return "\n".join(lines) + "\n"
    lines.append(f"Score: {result.total:g} / {result.possible:g}")
    for name, q in result.questions.items():
        lines += ["", f"{name}: {q.score:g} / {q.possible:g}"]
        for case in q.cases:
            status = "passed" if case.passed else "FAILED"
            visibility = " (hidden)" if case.hidden else ""
            lines.append(f"  {case.name}{visibility}: {status}")
            if not case.passed and case.message:
                lines += ["    " + m for m in case.message.splitlines()[-12:]]
    return "\n".join(lines) + "\n"


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
) -> dict[str, dict[str, str]]:
    """Grade every submission under ``inputs``; returns the gradebook rows by submission id.

    ``sandbox``: None grades in bubblewrap when it is available, True insists on it, False
    grades without it.
    """
    from tqdm import tqdm

    usable, why_not = bubblewrap.available() if sandbox is not False else (False, "")
    if sandbox and not usable:
        raise RuntimeError(f"cannot sandbox the submissions: {why_not}")
    if sandbox is None and not usable:
        print(f"grading without a sandbox: {why_not}", file=sys.stderr)

    submissions = collect(inputs)
    gradebook_path = out / GRADEBOOK
    rows = read_gradebook(gradebook_path)
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
        error = precheck(submission.path, assignment)
        if error:
            return submission, digest, None, error
        result = grade_notebook(
            autograder_zip,
            submission.path,
            out / "work" / submission.id,
            timeout=timeout,
            sandbox=usable,
        )
        return submission, digest, result, None

    workers = max(1, min(jobs or os.cpu_count() or 1, len(todo) or 1))
    (out / "feedback").mkdir(parents=True, exist_ok=True)
    (out / "results").mkdir(parents=True, exist_ok=True)
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
            submission, digest, result, error = future.result()
            rows[submission.id] = row_for(submission, result, error, digest)
            (out / "feedback" / f"{submission.id}.txt").write_text(
                feedback_text(submission, result, error), encoding="utf-8"
            )
            if result is not None and result.results_json is not None:
                (out / "results" / f"{submission.id}.json").write_text(
                    json.dumps(result.results_json, indent=2), encoding="utf-8"
                )
            write_gradebook(gradebook_path, rows, questions)
            bar.update()
    write_gradebook(gradebook_path, rows, questions)
    return rows
