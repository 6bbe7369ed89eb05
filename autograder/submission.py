"""Make whatever a student uploaded gradable, before Otter looks at it.

Otter grades a folder holding exactly one notebook whose metadata names the assignment. Students
upload other things: the zip that ``grader.export`` makes, a zip of their whole assignment
folder, a notebook whose metadata an editor stripped. ``prepare_submission`` turns each of these
into the folder Otter expects and returns notes for the student; what cannot be graded gets a
specific message instead of Otter's "assignment 'None'".

Shipped in the autograder zip (``autograder/submission.py``), run by its ``run_otter.py`` on
Gradescope before Otter starts; standard library and nbformat only.
"""

from __future__ import annotations

import json
import re
import shutil
import zipfile
from pathlib import Path, PurePosixPath

MAX_UNPACKED = 200 * 2**20  # bytes taken out of uploaded zips, in all
CHECK_CALL = re.compile(r"""grader\.check\(\s*["']([^"']+)["']\s*\)""")
# What shared.testing.tagged writes after a hint (kept in step with it by a test).
HINT_TAG = re.compile(r"\s*\[hint: ([a-z][a-z0-9]*\.[a-z][a-z0-9_]*)\]")
NOT_JUDGED = "✅ not judged:"  # a gated claim's passing message (the guard writes it)
HIDDEN_DETAILS = "Hidden test details (instructors only)"
PUBLIC_TESTS = "Public Tests"  # Otter's summary entry of the public tests


class SubmissionError(Exception):
    """The upload holds nothing gradable for this assignment; the message says what to do."""


def prepare_submission(folder: Path, assignment: str, questions: list[str]) -> list[str]:
    """Leave exactly one notebook of ``assignment`` in ``folder``; return notes for the student.

    ``questions`` are the assignment's question names: a notebook without Otter's metadata that
    calls ``grader.check`` on them (and no other) is recognised as this assignment's.
    """
    notes: list[str] = []
    notebooks = _top_notebooks(folder)
    if not notebooks:
        for archive in sorted(folder.glob("*.zip")):
            notebooks += _unpack_notebooks(archive, folder, notes)
    if not notebooks:
        notebooks = _nested_notebooks(folder, notes)
    if not notebooks:
        raise SubmissionError(
            f"No notebook found in the submission. Upload {assignment}.ipynb (File > Download "
            "> Download .ipynb on Colab), or the zip that the notebook's last cell makes."
        )
    chosen = _choose(notebooks, assignment)
    for other in notebooks:
        if other != chosen:
            other.unlink()
            notes.append(f"{other.name} was not graded: only {chosen.name} was.")
    _check_metadata(chosen, assignment, questions, notes)
    return notes


def _top_notebooks(folder: Path) -> list[Path]:
    return sorted(p for p in folder.glob("*.ipynb") if p.is_file() and not p.name.startswith("."))


def _skipped(parts: tuple[str, ...]) -> bool:
    """Checkpoints, macOS metadata, hidden files and anything climbing out of the folder."""
    return any(part.startswith(".") or part in ("__MACOSX", "..") for part in parts)


def _nested_notebooks(folder: Path, notes: list[str]) -> list[Path]:
    """Notebooks in sub-folders (an uploaded folder, unpacked by Gradescope), moved up."""
    found = []
    for path in sorted(folder.rglob("*.ipynb")):
        relative = path.relative_to(folder)
        if len(relative.parts) > 1 and not _skipped(relative.parts) and path.is_file():
            target = folder / path.name
            if not target.exists():
                shutil.copy2(path, target)
                found.append(target)
                notes.append(f"Graded {relative} (found in a sub-folder).")
    return found


def _unpack_notebooks(archive: Path, folder: Path, notes: list[str]) -> list[Path]:
    """Copy the notebooks of ``archive`` (a folder zip or Otter's export zip) into ``folder``."""
    found = []
    try:
        with zipfile.ZipFile(archive) as zipped:
            budget = MAX_UNPACKED
            for member in zipped.infolist():
                path = PurePosixPath(member.filename)
                if (
                    member.is_dir()
                    or path.suffix != ".ipynb"
                    or any(
                        part.startswith(".") or part in ("__MACOSX", "..") for part in path.parts
                    )
                ):
                    continue
                budget -= member.file_size
                if budget < 0:
                    raise SubmissionError(f"{archive.name} unpacks to more than 200 MB.")
                target = folder / path.name
                if target.exists():
                    continue
                target.write_bytes(zipped.read(member))
                found.append(target)
    except zipfile.BadZipFile as exc:
        raise SubmissionError(f"{archive.name} is not a readable zip file ({exc}).") from exc
    if found:
        notes.append(f"Graded the notebook found in {archive.name}.")
    return sorted(found)


def _choose(notebooks: list[Path], assignment: str) -> Path:
    if len(notebooks) == 1:
        return notebooks[0]
    named = [p for p in notebooks if p.stem == assignment]
    if len(named) == 1:
        return named[0]
    ours = [p for p in notebooks if _metadata_name(_read(p)) == assignment]
    if len(ours) == 1:
        return ours[0]
    raise SubmissionError(
        f"The submission holds {len(notebooks)} notebooks "
        f"({', '.join(p.name for p in notebooks[:5])}) and none is clearly {assignment}.ipynb: "
        "upload just that one."
    )


def _read(path: Path) -> dict:
    try:
        notebook = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise SubmissionError(
            f"{path.name} is not a readable notebook ({type(exc).__name__}); download it again "
            "from Jupyter or Colab (File > Download .ipynb) and re-upload."
        ) from exc
    if not isinstance(notebook, dict) or not isinstance(notebook.get("cells"), list):
        raise SubmissionError(f"{path.name} is not a Jupyter notebook (it has no cells).")
    return notebook


def _metadata_name(notebook: dict) -> str | None:
    otter = (notebook.get("metadata") or {}).get("otter") or {}
    return otter.get("assignment_name") if isinstance(otter, dict) else None


def _check_metadata(path: Path, assignment: str, questions: list[str], notes: list[str]) -> None:
    notebook = _read(path)
    name = _metadata_name(notebook)
    if name == assignment:
        return
    if name is not None:
        raise SubmissionError(
            f"{path.name} is the notebook of assignment {name!r}, not {assignment!r}: upload "
            "this assignment's notebook."
        )
    checked = {
        match
        for cell in notebook["cells"]
        if cell.get("cell_type") == "code"
        for match in CHECK_CALL.findall(_source(cell))
    }
    if not checked or not checked <= set(questions):
        raise SubmissionError(
            f"{path.name} does not look like {assignment}'s notebook (its Otter metadata is "
            "missing and it does not check this assignment's questions): upload the notebook "
            "you started from this assignment's zip."
        )
    notebook.setdefault("metadata", {})["otter"] = {"assignment_name": assignment}
    path.write_text(json.dumps(notebook), encoding="utf-8")
    notes.append(
        f"{path.name} had lost its Otter metadata (some editors strip it); it was recognised "
        f"as {assignment} by its grader.check cells and graded as usual."
    )


def _source(cell: dict) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def gradescope_failure(message: str) -> dict:
    """A Gradescope results.json for a submission that could not be graded at all."""
    return {
        "score": 0,
        "output": f"This submission could not be graded: {message}",
        "stdout_visibility": "hidden",
        "tests": [],
    }


def run_gradescope(root: str = "/autograder") -> None:
    """Gradescope's entry point (the zip's ``run_otter.py`` calls this)."""
    folder = Path(root) / "submission"
    config = json.loads((Path(root) / "source" / "otter_config.json").read_text())
    assignment = config.get("assignment_name", "")
    questions = sorted(p.stem for p in (Path(root) / "source" / "tests").glob("*.py"))
    try:
        notes = prepare_submission(folder, assignment, questions)
    except SubmissionError as error:
        results = Path(root) / "results"
        results.mkdir(parents=True, exist_ok=True)
        (results / "results.json").write_text(json.dumps(gradescope_failure(str(error))))
        print(f"Not graded: {error}")
        return
    from otter.run.run_autograder import main as run_autograder

    run_autograder(root)
    finish_results(Path(root) / "results", notes)


def finish_results(folder: Path, notes: list[str]) -> None:
    """What students see: notes first; hidden tests' messages (which can show hidden inputs)
    replaced by their outcome, the full text kept in an entry only instructors see."""
    path = folder / "results.json"
    try:
        results = json.loads(path.read_text())
    except (OSError, ValueError):
        return
    if notes:
        text = "Submission notes:\n" + "\n".join(f"- {note}" for note in notes)
        results["output"] = text + ("\n\n" + results["output"] if results.get("output") else "")
    graded = _graded_results(folder / "results.pkl")
    if graded is not None:
        details = []
        for test in results.get("tests", []):
            if test.get("name") == PUBLIC_TESTS:
                test["output"] = "\n\n".join(
                    student_summary(t, public_only=True) for t in graded.values()
                )
                continue
            test_file = graded.get(test.get("name"))
            if test_file is None:
                continue
            full = test.get("output", "")
            ids = hint_ids_of(full)
            if ids:  # for the class report: the tags students no longer see
                test["extra_data"] = {"hint_ids": ids}
            if any(r.test_case.hidden for r in test_file.cases) or ids:
                details.append(full)
            test["output"] = student_summary(test_file)
        if details:
            results["tests"].append(
                {
                    "name": HIDDEN_DETAILS,
                    "visibility": "hidden",
                    "output": "\n\n".join(details),
                    "status": "passed",
                }
            )
    path.write_text(json.dumps(results))


class _TestFile:
    def __init__(self, name: str, cases: list) -> None:
        self.name, self.cases = name, cases


def _graded_results(pickle_path: Path) -> dict | None:
    """Otter's pickled GradingResults, as {question: _TestFile}; None if unreadable."""
    try:
        import dill

        with open(pickle_path, "rb") as file:
            graded = dill.load(file)
        return {
            name: _TestFile(name, list(result.test_case_results))
            for name, result in graded.results.items()
        }
    except Exception:  # an unreadable pickle leaves Otter's output as it was
        return None


def without_tags(text: str) -> str:
    """``text`` without its ``[hint: topic.name]`` tags (as ``shared.testing.without_tags``):
    the tags are for the class report and ``verify``, not for students."""
    return HINT_TAG.sub("", text)


def not_judged(result) -> str | None:
    """The "not judged: ..." text of a passed case whose claim was not judged, else None."""
    message = (getattr(result, "message", "") or "").strip()
    if result.passed and message.startswith(NOT_JUDGED):
        return message.removeprefix("✅").strip()
    return None


def hint_ids_of(text: str) -> list[str]:
    """The hint identifiers tagged in ``text``, each once, in order."""
    return list(dict.fromkeys(m.group(1) for m in HINT_TAG.finditer(text)))


def student_summary(test_file, *, public_only: bool = False) -> str:
    """Each public case with its message; each hidden case with its outcome only.

    Hint tags are taken out, and a claim that was not judged says so instead of "passed".
    ``public_only``: leave hidden cases out (Gradescope's "Public Tests" entry).
    """
    lines = [f"{test_file.name} results:"]
    for number, result in enumerate(test_file.cases, start=1):
        status = "passed" if result.passed else "failed"
        if result.test_case.hidden and public_only:
            continue
        if not_judged(result) is not None:
            lines.append(f"    {result.test_case.name}: {not_judged(result)}")
            continue
        if result.test_case.hidden:
            lines.append(
                f"    hidden test {number}: {status}"
                + (
                    ""
                    if result.passed
                    else " (its inputs stay hidden: test your function on "
                    "other shapes, values and edge cases than the public ones)"
                )
            )
        else:
            message = without_tags(result.message or "").strip()
            lines.append(f"    {result.test_case.name}: {status}")
            if not result.passed and message:
                lines += [f"        {line}" for line in message.splitlines()]
    return "\n".join(lines)
