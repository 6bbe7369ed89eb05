"""A class report after grading: what the class got wrong, at a glance.

``report`` reads what ``grade`` wrote (``gradebook.csv`` and ``results/ID.json``, Otter's
Gradescope-format results) or a folder of ``results.json`` files downloaded from Gradescope, and
writes one self-contained HTML page (plots embedded as PNG, nothing fetched when it is viewed)
and CSVs of the same tables:

- the score distribution of the assignment and of each question (mean, median, full marks);
- per question, the most frequent failures grouped by the diagnosis they print: each catalogued
  mistake (``mutants.yml``) with the number of submissions that made it, other tagged hints, and
  the failures no hint explains, grouped by failing test and first line of the message (numbers
  masked), so that new mistakes surface as candidates for the catalogue;
- per question, the submissions that passed every public test but failed a hidden one (they
  saw green before submitting), with the diagnoses of their hidden failures;
- submissions that could not be graded and why; time-outs and crashes per question;
- grading times (distribution, slowest submissions).

A failure is matched to the catalogue by the hint tags its message carries (``[hint: ID]``,
written by ``shared.testing.tagged``; ``autograder.mutants.hint_ids`` reads them), never by
searching the hint's wording. Where a message names two possible mistakes, a submission counts
under the fewest diagnoses that explain all its failures of the question (``fewest_diagnoses``);
two that no failure tells apart count together.

Submission identifiers appear only with ``names=True``, each linked to the submission's executed
notebook where ``grade`` kept one (``executed/STEM.ipynb``, or the row's ``executed`` field).
Without it no table names a submission, and a reason or message taken from a submission has that
submission's own identifier (its file name, with any extension) replaced by ``<submission>``;
words that merely equal some submission's name, or the assignment's own name, are left alone.
"""

from __future__ import annotations

import base64
import csv
import html
import io
import json
import os
import re
import statistics
import textwrap
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from .grade import REMOVED
from .mutants import Mutant, hint_ids, hint_tag
from .submission import HIDDEN_DETAILS

GRADEBOOK = "gradebook.csv"  # what autograder.grade writes, beside results/ and feedback/
PUBLIC_TESTS = "Public Tests"  # Otter's summary entry of results.json, repeated per question
QUESTION_HEADER = re.compile(r"^(\S+) results:", re.MULTILINE)
CASE_HEADER = re.compile(r"^ {4}(\S.*?) result:\s*$", re.MULTILINE)
FAILED_MARK = "Test case failed"
# Otter starts a case's message with its verdict; the grading plugin puts its notes (a cell
# stopped by its time limit, a crash) before it, so the verdict is the first line marked so.
VERDICT_MARKS = ("✅", "❌")
KIT_CASE = re.compile(r"^ {4}(\S.*?): (passed|failed|not judged)", re.MULTILINE)  # student_summary
EXECUTED = "executed"  # grade's folder of executed notebooks, and the gradebook column naming one
NOT_IMPLEMENTED = "this is not answered yet"  # shared.checks.check_implemented
# A kernel that "stops responding" was ended by a time limit of the grading process (the
# backstop past the guard's own limits, or the whole submission's deadline).
TIMEOUT_MARKS = (
    "TimeLimitExceeded",
    "s limit for one test",
    "s limit for one cell",
    "stop responding",
    "stopped responding",
    "kept running after its time limit",
)
NOT_RUN = "This test never ran"
CRASH_MARKS = (
    NOT_RUN,
    "crashed or hung the Python kernel",
    "crashed the Python kernel",
    "The Python kernel ended",
)
# The grading plugin's note when the submission's deadline (or a hang) ended grading for good:
# the tests that never ran after it were lost to a time limit, not to a crash.
STOPPED_BY_TIME = "stopped responding while grading"
NUMBER = re.compile(r"(?<![A-Za-z_])[-+]?\d+(?:\.\d+)?(?:e[-+]?\d+)?")
SLOWEST = 10
LISTED_IDS = 30  # submission identifiers listed per failure group with --names

KINDS = {  # the kinds of failure group, in the order a question's table shows equal counts
    "catalogued": "known mistake",
    "diagnosed": "tagged hint, not catalogued",
    "uncatalogued": "no hint explains it",
    "not implemented": "not attempted",
    "time-out": "time-out",
    "crash": "crash",
}


# ---------------------------------------------------------------------------------------------
# What grading left behind


@dataclass
class Case:
    """One test case of one question: its Otter name (``q1 - 2``), verdict and message."""

    name: str
    passed: bool
    message: str = ""
    hidden: bool | None = None  # None: the results do not say (no "Public Tests" summary)


@dataclass
class Question:
    name: str
    score: float
    possible: float
    cases: list[Case] = field(default_factory=list)
    public_passed: bool | None = None  # every public case passed; None: not known

    @property
    def hidden_failures(self) -> list[Case]:
        """Failing hidden cases, when every public case passed (what a student could not see)."""
        if not self.public_passed:
            return []
        return [c for c in self.cases if not c.passed and c.hidden]


@dataclass
class Submission:
    """One submission as grading left it: graded with scores, or the reason it was not."""

    id: str
    status: str  # "graded", or why not ("error", "timeout", or a finer reason class)
    error: str = ""
    seconds: float | None = None
    questions: dict[str, Question] = field(default_factory=dict)
    executed: Path | None = None  # the executed notebook grade kept, where it exists
    stopped_by_time: bool = False  # grading notes: a time limit ended grading for good

    @property
    def graded(self) -> bool:
        return self.status == "graded"

    @property
    def score(self) -> float:
        return sum(q.score for q in self.questions.values())

    @property
    def possible(self) -> float:
        return sum(q.possible for q in self.questions.values())


def load_class(folder: Path) -> list[Submission]:
    """Every submission in ``folder``: a ``grade`` output folder (it has ``gradebook.csv``) or
    a folder of Gradescope ``results.json`` files (``ID.json`` or ``ID/results.json``)."""
    if (folder / GRADEBOOK).is_file():
        return _load_gradebook(folder)
    return _load_results_folder(folder)


def _load_gradebook(folder: Path) -> list[Submission]:
    with open(folder / GRADEBOOK, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    submissions, seen = [], set()
    for row in rows:
        ident = row.get("submission") or ""
        if ident in seen:  # one row per student of a group submission: the submission once
            continue
        seen.add(ident)
        status = (row.get("status") or "").strip() or "error"
        if status == REMOVED:  # left the folder grade was given: not part of the class
            continue
        submission = Submission(
            ident, status, (row.get("error") or "").strip(), _number(row.get("seconds"))
        )
        submission.executed = executed_notebook(folder, ident, row.get(EXECUTED))
        path = folder / "results" / f"{ident}.json"
        if status == "graded":
            data = _read_json(path)
            if isinstance(data, dict):
                submission.questions, seconds = parse_results(data)
                submission.stopped_by_time = stopped_by_time(data)
                if submission.seconds is None:
                    submission.seconds = seconds
            if not submission.questions:  # no results file: the gradebook's scores, no messages
                submission.questions = {
                    name: Question(name, _number(value) or 0.0, float("nan"))
                    for name, value in row.items()
                    if re.fullmatch(r"q\d+\w*", name or "") and (value or "").strip()
                }
        submissions.append(submission)
    _fill_possible(submissions)
    return submissions


def _load_results_folder(folder: Path) -> list[Submission]:
    submissions = []
    for path in sorted(folder.rglob("*.json")):
        if any(part.startswith(".") for part in path.relative_to(folder).parts):
            continue
        ident = (
            path.parent.name if path.name == "results.json" and path.parent != folder else path.stem
        )
        data = _read_json(path)
        if not isinstance(data, dict):
            submissions.append(Submission(ident, "error", "results.json is not valid JSON"))
            continue
        questions, seconds = parse_results(data)
        if questions:
            submission = Submission(ident, "graded", "", seconds, questions)
            submission.stopped_by_time = stopped_by_time(data)
            submissions.append(submission)
        else:
            why = str(data.get("output") or "no test results").strip().splitlines()
            submissions.append(Submission(ident, "error", why[0] if why else "", seconds))
    return submissions


def executed_notebook(folder: Path, ident: str, recorded: str | None) -> Path | None:
    """The executed notebook ``grade`` kept for ``ident``: the row's ``executed`` field
    (relative to the gradebook folder), else ``executed/STEM.ipynb`` (STEM: the id without a
    trailing ``.ipynb``, as ``grade.executed_name`` names it); None where it is absent."""
    path = Path(recorded.strip()) if (recorded or "").strip() else None
    if path is None:
        path = Path(EXECUTED) / f"{ident.removesuffix('.ipynb')}.ipynb"
    path = path if path.is_absolute() else folder / path
    return path if path.is_file() else None


def stopped_by_time(data: dict) -> bool:
    """Whether the grading notes of a ``results.json`` say a time limit ended grading."""
    return STOPPED_BY_TIME in str(data.get("output") or "")


def parse_results(data: dict) -> tuple[dict[str, Question], float | None]:
    """Per question, the score and test cases of an Otter ``results.json``; and its time.

    Which cases are hidden comes from the "Public Tests" entry (Otter's summary of the public
    cases, or the kit's ``student_summary`` of them): a case it does not list is hidden."""
    questions: dict[str, Question] = {}
    tests = [t for t in data.get("tests") or [] if isinstance(t, dict)]
    full = _full_outputs(tests)
    public = public_outcomes(
        next((str(t.get("output") or "") for t in tests if t.get("name") == PUBLIC_TESTS), "")
    )
    for test in tests:
        if test.get("max_score") is None:
            continue
        name = str(test.get("name") or "")
        if not name or name == PUBLIC_TESTS:
            continue
        score, possible = _number(test.get("score")) or 0.0, _number(test.get("max_score")) or 0.0
        output = full.get(name, str(test.get("output") or ""))
        question = Question(name, score, possible, parse_cases(output))
        whole = not question.cases and score < possible
        if whole:  # no per-case output: the whole as one case, public or hidden not known
            question.cases = [Case(name, False, str(test.get("output") or "").strip())]
        # The kit's Gradescope output keeps hint tags out of what students read, in extra_data.
        extra = test.get("extra_data") if isinstance(test.get("extra_data"), dict) else {}
        shown = {i for c in question.cases for i in hint_ids(c.message)}
        missing = [str(i) for i in extra.get("hint_ids") or [] if str(i) not in shown]
        failing = [c for c in question.cases if not c.passed]
        if missing and failing:
            tags = " ".join(hint_tag(i) for i in missing)
            failing[0].message = f"{failing[0].message} {tags}".strip()
        if name in public and not whole:
            passed, listed = public[name]
            question.public_passed = passed
            for case in question.cases:
                if listed:
                    case.hidden = case.name not in listed
                elif passed and not case.passed:  # every public case passed: this one is hidden
                    case.hidden = True
        questions[name] = question
    return questions, _number(data.get("execution_time"))


def _full_outputs(tests: list[dict]) -> dict[str, str]:
    """Per question, Otter's own output (every case with its message and hint tags) from the
    instructors-only entry of the kit's Gradescope results, where students see less."""
    details = next((t for t in tests if t.get("name") == HIDDEN_DETAILS), None)
    if details is None:
        return {}
    text = str(details.get("output") or "")
    starts = list(QUESTION_HEADER.finditer(text))
    return {
        m.group(1): text[m.start() : (nxt.start() if nxt else len(text))]
        for m, nxt in zip(starts, [*starts[1:], None], strict=False)
    }


def public_outcomes(output: str) -> dict[str, tuple[bool, set[str]]]:
    """Per question of a "Public Tests" summary: whether every public case passed, and the
    public cases' names (empty where Otter only says "All test cases passed!")."""
    starts = list(QUESTION_HEADER.finditer(output))
    outcomes = {}
    for m, nxt in zip(starts, [*starts[1:], None], strict=False):
        block = output[m.start() : nxt.start() if nxt else len(output)]
        if "All test cases passed!" in block.splitlines()[0]:
            outcomes[m.group(1)] = (True, set())
            continue
        cases = parse_cases(block)
        if cases:
            outcomes[m.group(1)] = (all(c.passed for c in cases), {c.name for c in cases})
        else:
            listed = KIT_CASE.findall(block)
            verdicts = [v != "failed" for _, v in listed]
            outcomes[m.group(1)] = (all(verdicts), {n for n, _ in listed})
    return outcomes


def parse_cases(output: str) -> list[Case]:
    """The test cases in one question's Otter output (``q1 - 1 result:`` blocks).

    A case's verdict is its first line marked ✅ or ❌: the grading plugin's notes (a cell
    stopped by its time limit, a crash) come before it and are kept, after the message."""
    headers = list(CASE_HEADER.finditer(output))
    cases = []
    for header, following in zip(headers, [*headers[1:], None], strict=False):
        block = output[header.end() : following.start() if following else len(output)]
        lines = textwrap.dedent(block.strip("\n")).strip().splitlines()
        at = next((i for i, line in enumerate(lines) if line.startswith(VERDICT_MARKS)), 0)
        verdict = lines[at] if lines else ""
        message = "\n".join(lines[at + 1 :]).strip()
        notes = "\n".join(lines[:at]).strip()
        message = f"{message}\n\n{notes}".strip() if notes else message
        cases.append(Case(header.group(1), FAILED_MARK not in verdict, message))
    return cases


def _fill_possible(submissions: list[Submission]) -> None:
    """Points of questions known only from the gradebook: the most any results file gives."""
    most: dict[str, float] = {}
    for s in submissions:
        for q in s.questions.values():
            if q.possible == q.possible:  # not NaN
                most[q.name] = max(most.get(q.name, 0.0), q.possible)
    for s in submissions:
        for q in s.questions.values():
            if q.possible != q.possible:
                q.possible = most.get(q.name, q.score)


def _read_json(path: Path):
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _number(value) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if number == number else None


# ---------------------------------------------------------------------------------------------
# What the class got wrong


@dataclass
class FailureGroup:
    """The submissions whose failures in ``question`` print one diagnosis."""

    question: str
    kind: str  # a key of KINDS
    hint_id: str = ""
    mutants: list[Mutant] = field(default_factory=list)
    test: str = ""
    message: str = ""  # the hint's text, or the first line of the failure message
    submissions: set[str] = field(default_factory=set)
    example: str = ""  # the submission the message was taken from

    @property
    def count(self) -> int:
        return len(self.submissions)


@dataclass
class QuestionStats:
    name: str
    possible: float
    scores: list[float]
    time_outs: int = 0
    crashes: int = 0
    # the submissions that passed every public case and failed a hidden one; None: not known
    # (the results say which cases are public only in their "Public Tests" summary)
    hidden_only: set[str] | None = None

    @property
    def mean(self) -> float:
        return statistics.fmean(self.scores) if self.scores else float("nan")

    @property
    def median(self) -> float:
        return statistics.median(self.scores) if self.scores else float("nan")

    @property
    def full_marks(self) -> float:
        """Share of the graded submissions with every point of this question."""
        full = sum(s >= self.possible - 1e-9 for s in self.scores)
        return full / len(self.scores) if self.scores else float("nan")


@dataclass
class ClassReport:
    assignment: str
    source: str
    submissions: list[Submission]
    questions: list[QuestionStats]
    failures: dict[str, list[FailureGroup]]  # per question, most frequent first
    unseen: dict[str, list[Mutant]]  # per question, catalogued mistakes nobody made
    # per question, the diagnoses of the hidden failures of submissions that passed every
    # public case (each group's submissions are among stats' hidden_only)
    hidden: dict[str, list[FailureGroup]] = field(default_factory=dict)
    seconds: float = 0.0  # time taken to build the report

    @property
    def graded(self) -> list[Submission]:
        return [s for s in self.submissions if s.graded]

    @property
    def ungradable(self) -> list[Submission]:
        return [s for s in self.submissions if not s.graded]

    @property
    def percents(self) -> list[float]:
        return [100 * s.score / s.possible for s in self.graded if s.possible > 0]

    @property
    def stopped(self) -> list[Submission]:
        """Submissions the whole-submission time limit stopped before any result."""
        return [s for s in self.ungradable if s.status == "timeout"]


def analyse(
    assignment: str,
    submissions: list[Submission],
    mutants: Sequence[Mutant],
    questions: Sequence[str] = (),
    source: str = "",
) -> ClassReport:
    """The tables of the report: scores per question, failures grouped by diagnosis."""
    names = list(questions)
    for s in submissions:
        names += [q for q in s.questions if q not in names]
    by_id: dict[str, list[Mutant]] = {}
    for mutant in mutants:
        by_id.setdefault(mutant.hint_id, []).append(mutant)
    stats, failures, unseen, hidden = [], {}, {}, {}
    graded = [s for s in submissions if s.graded]
    for name in names:
        outcomes = [(s, s.questions[name]) for s in graded if name in s.questions]
        possible = max((q.possible for _, q in outcomes), default=0.0)
        stat = QuestionStats(name, possible, [q.score for _, q in outcomes])
        failures[name] = group_failures(name, [(s, q.cases) for s, q in outcomes], by_id)
        for group in failures[name]:
            if group.kind == "time-out":
                stat.time_outs = group.count
            elif group.kind == "crash":
                stat.crashes = group.count
        if any(q.public_passed is not None for _, q in outcomes):
            hidden_only = [(s, q.hidden_failures) for s, q in outcomes if q.hidden_failures]
            stat.hidden_only = {s.id for s, _ in hidden_only}
            hidden[name] = group_failures(name, hidden_only, by_id)
        seen = {g.hint_id for g in failures[name]}
        unseen[name] = [m for m in mutants if name in m.questions and m.hint_id not in seen]
        stats.append(stat)
    return ClassReport(assignment, source, submissions, stats, failures, unseen, hidden)


def group_failures(
    question: str,
    failing: Iterable[tuple[Submission, Sequence[Case]]],
    by_id: dict[str, list[Mutant]],
) -> list[FailureGroup]:
    """The failing cases of ``question`` grouped by diagnosis, most frequent first; a
    submission counts once per group, under the fewest hints that explain its failures."""
    groups: dict[tuple, FailureGroup] = {}
    for submission, cases in failing:
        tagged: list[set[tuple]] = []  # per failing case, the keys of the hints it shows
        for case in cases:
            if case.passed:
                continue
            keys = set()
            for key, group in _diagnoses(question, case, by_id, submission.stopped_by_time):
                if key not in groups:
                    group.example = submission.id
                    groups[key] = group
                if group.hint_id:
                    keys.add(key)
                else:
                    groups[key].submissions.add(submission.id)
            if keys:
                tagged.append(keys)
        for key in fewest_diagnoses(tagged):
            groups[key].submissions.add(submission.id)
    order = list(KINDS)
    return sorted(
        (g for g in groups.values() if g.submissions),
        key=lambda g: (-g.count, order.index(g.kind), g.hint_id, g.test),
    )


def fewest_diagnoses(cases: Sequence[set]) -> set:
    """The fewest diagnoses that explain every failing case (each a set of the diagnoses its
    message shows), chosen greedily: the one shown by most unexplained cases first, together
    with any shown by exactly the same cases (the tests cannot tell those apart).

    A diagnoser that names two candidates on one input ("the jump is missing; the dilation is
    missing") then counts only the one that also explains the submission's other failures.
    """
    unexplained, chosen = set(range(len(cases))), set()
    while unexplained:
        shown_by: dict = {}
        for index in sorted(unexplained):
            for diagnosis in cases[index]:
                shown_by.setdefault(diagnosis, set()).add(index)
        best = max(shown_by.items(), key=lambda item: (len(item[1]), -min(item[1])))[1]
        chosen |= {d for d, where in shown_by.items() if where == best}
        unexplained -= best
    return chosen


def _diagnoses(
    question: str, case: Case, by_id: dict[str, list[Mutant]], stopped_by_time: bool = False
):
    """(key, group) for each diagnosis the failing ``case`` prints (its submissions empty).

    ``stopped_by_time``: a time limit ended the submission's grading, so a test that never ran
    was lost to it."""
    message = case.message
    timed_out = stopped_by_time and NOT_RUN in message
    if timed_out or any(mark in message for mark in TIMEOUT_MARKS):
        line = _marked_line(message, (*TIMEOUT_MARKS, NOT_RUN))
        yield ("time-out",), FailureGroup(question, "time-out", message=line)
        return
    if any(mark in message for mark in CRASH_MARKS):
        line = _marked_line(message, CRASH_MARKS)
        yield ("crash",), FailureGroup(question, "crash", message=line)
        return
    tagged = hint_ids(message)
    for hint_id in tagged:
        kind = "catalogued" if hint_id in by_id else "diagnosed"
        text = hint_text(message, hint_id)
        yield (
            (kind, hint_id),
            FailureGroup(question, kind, hint_id, by_id.get(hint_id, []), message=text),
        )
    if tagged:
        return
    if NOT_IMPLEMENTED in message:
        yield (
            ("not implemented",),
            FailureGroup(
                question, "not implemented", message="a function returned None or ... (the stub)"
            ),
        )
        return
    first = _first_line(message)
    yield (
        ("uncatalogued", case.name, NUMBER.sub("#", first)),
        FailureGroup(question, "uncatalogued", test=case.name, message=first),
    )


def hint_text(message: str, hint_id: str) -> str:
    """The words of the hint tagged ``hint_id`` in ``message``: back to its "Hint:", or to the
    end of the tag before it where hints are joined ("Hint: a [hint: x]; b [hint: y]")."""
    end = message.find(hint_tag(hint_id))
    if end < 0:
        return ""
    marks = ("Hint:", "]; ", "] ", "\n")  # the hint's start, or the end of the tag before it
    start = max(message.rfind(mark, 0, end) for mark in marks)
    text = message[max(start, 0) : end]
    for mark in marks:
        if text.startswith(mark):
            text = text[len(mark) :]
    return text.strip()


def _marked_line(message: str, marks: Sequence[str]) -> str:
    """The first line of ``message`` that shows one of ``marks`` (the grading plugin's note of
    a time limit or a crash comes after the failure's own text), else its first line."""
    for line in message.splitlines():
        if any(mark in line for mark in marks):
            return line.strip()[:240]
    return _first_line(message)


def _first_line(message: str) -> str:
    """The failure's own first line: past Otter's "Error at line N in test qK:" and the code."""
    lines = message.strip().splitlines()
    if lines and lines[0].startswith("Error at line"):
        lines = lines[1:]
        while lines and lines[0][:1].isspace():
            lines = lines[1:]
    for line in lines:
        if line.strip():
            return line.strip()[:240]
    return "(no message)"


# ---------------------------------------------------------------------------------------------
# The page and the CSVs


def build_report(
    assignment: str,
    folder: Path,
    out: Path,
    mutants: Sequence[Mutant],
    questions: Sequence[str] = (),
    *,
    names: bool = False,
) -> ClassReport:
    """Read ``folder``, analyse it and write ``out/report.html`` and the CSVs."""
    started = time.perf_counter()
    report = analyse(assignment, load_class(folder), mutants, questions, source=folder.name)
    write_report(report, out, names=names)
    report.seconds = time.perf_counter() - started
    return report


def write_report(report: ClassReport, out: Path, *, names: bool = False) -> Path:
    """Write ``report.html`` and ``report-*.csv`` into ``out``; returns the page's path."""
    out.mkdir(parents=True, exist_ok=True)
    private = _Redactor(report.assignment, hide=not names)
    links = (
        {s.id: _href(s.executed, out) for s in report.submissions if s.executed} if names else {}
    )
    for name, (header, rows) in _tables(report, names, private).items():
        with open(out / f"report-{name}.csv", "w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f)
            writer.writerow(header)
            writer.writerows(rows)
    page = out / "report.html"
    page.write_text(_page(report, names, private, links), encoding="utf-8")
    return page


def _href(path: Path, out: Path) -> str:
    """A link from the page in ``out`` to ``path``: relative, so the folder can move."""
    try:
        return quote(Path(os.path.relpath(path.resolve(), out.resolve())).as_posix())
    except ValueError:  # another drive (Windows)
        return path.resolve().as_uri()


class _Redactor:
    """Replaces, in a text taken from one submission (its error, a failure message of its), that
    submission's own identifier by ``<submission>``: the identifier, its file name, and that
    name with another extension (``alice.zip`` holding ``alice.ipynb``), each a whole name.

    Only the owner's identifier is replaced, so a word that equals another submission's name
    ("model" beside a ``model.ipynb``) stays; and a name that is the assignment's own
    (``03_conv_output_sizes.ipynb``, which most students keep) names nobody and stays too, so
    "submit the saved 03_conv_output_sizes.ipynb" reads as written.
    """

    def __init__(self, assignment: str, *, hide: bool = True) -> None:
        self.assignment, self.hide = assignment, hide
        self.patterns: dict[str, re.Pattern | None] = {}

    def _pattern(self, ident: str) -> re.Pattern | None:
        if ident not in self.patterns:
            base = ident.split("~")[0]
            last = base.split("__")[-1]
            names = {
                n
                for n in (ident, base, last)
                if len(n) >= 3 and Path(n).stem != self.assignment and n != self.assignment
            }
            choices = sorted(map(re.escape, names), key=len, reverse=True)
            stem = Path(last).stem
            if len(stem) >= 3 and stem != self.assignment:
                choices.append(re.escape(stem) + r"\.[A-Za-z]\w*")
            self.patterns[ident] = (
                re.compile(r"(?<![\w.-])(?:" + "|".join(choices) + r")(?![\w-])")
                if choices
                else None
            )
        return self.patterns[ident]

    def __call__(self, text: str, owner: str) -> str:
        if not self.hide or not text:
            return text
        pattern = self._pattern(owner)
        return pattern.sub("<submission>", text) if pattern else text


def _tables(report: ClassReport, names: bool, private: _Redactor) -> dict[str, tuple[list, list]]:
    """The CSV tables: header and rows each."""
    graded = len(report.graded)
    questions = [
        [
            q.name,
            f"{q.possible:g}",
            len(q.scores),
            _fmt(q.mean),
            _fmt(q.median),
            _fmt(q.full_marks, 3),
            q.time_outs,
            q.crashes,
            "" if q.hidden_only is None else len(q.hidden_only),
        ]
        for q in report.questions
    ]

    def group_rows(by_question: dict[str, list[FailureGroup]]) -> list[list]:
        rows = []
        for question, groups in by_question.items():
            for g in groups:
                row = [
                    question,
                    g.kind,
                    g.hint_id,
                    "; ".join(m.name for m in g.mutants),
                    " | ".join(m.mistake for m in g.mutants),
                    g.test,
                    private(g.message, g.example),
                    g.count,
                    _fmt(g.count / graded if graded else float("nan"), 3),
                ]
                rows.append(row + ([" ".join(sorted(g.submissions))] if names else []))
        return rows

    group_header = [
        "question",
        "kind",
        "hint_id",
        "mutants",
        "mistake",
        "test",
        "message",
        "submissions",
        "share_of_graded",
    ] + (["submission_ids"] if names else [])
    hidden_only = [  # per question: who passed every public case and failed a hidden one
        [q.name, len(q.hidden_only), _fmt(_share(len(q.hidden_only), len(q.scores)), 3)]
        + ([" ".join(sorted(q.hidden_only))] if names else [])
        for q in report.questions
        if q.hidden_only is not None
    ]
    ungradable = [
        ([s.id] if names else []) + [s.status, private(s.error, s.id)]
        for s in sorted(report.ungradable, key=lambda s: (s.status, s.error, s.id))
    ]
    timed = _timed(report)
    times = [([s.id] if names else []) + [s.status, f"{s.seconds:.1f}"] for s in timed]
    distribution = []
    for scope, values, top in _distributions(report):
        for low, high, count in _bins(values, top):
            distribution.append([scope, f"{low:g}", f"{high:g}", count])
    who = ["submission"] if names else []
    return {
        "questions": (
            [
                "question",
                "possible",
                "graded",
                "mean",
                "median",
                "full_marks_share",
                "time_outs",
                "crashes",
                "public_passed_hidden_failed",
            ],
            questions,
        ),
        "failures": (group_header, group_rows(report.failures)),
        # passed every public case of the question, failed a hidden one: how many, and the
        # diagnoses of their hidden failures
        "hidden-only": (
            ["question", "submissions", "share_of_graded"] + (["submission_ids"] if names else []),
            hidden_only,
        ),
        "hidden-failures": (group_header, group_rows(report.hidden)),
        "ungradable": (who + ["status", "reason"], ungradable),
        "times": (who + ["status", "seconds"], times),
        "distribution": (["scope", "from", "to", "count"], distribution),
    }


def _timed(report: ClassReport) -> list[Submission]:
    """Submissions that ran (a file refused before grading has no time), slowest first."""
    ran = [s for s in report.submissions if s.seconds is not None and s.seconds > 0]
    return sorted(ran, key=lambda s: (-(s.seconds or 0.0), s.id))


def _distributions(report: ClassReport):
    """(scope, values, top): the overall percentages, then each question's points."""
    yield "overall (%)", report.percents, 100.0
    for q in report.questions:
        yield q.name, q.scores, q.possible


def _bins(values: Sequence[float], top: float, count: int = 10) -> list[tuple[float, float, int]]:
    """``count`` equal bins from 0 to ``top`` (the last one closed), with how many fall in each."""
    top = top if top > 0 else 1.0
    width = top / count
    counts = [0] * count
    for v in values:
        counts[min(count - 1, max(0, int(v / width + 1e-9)))] += 1
    return [(round(i * width, 6), round((i + 1) * width, 6), counts[i]) for i in range(count)]


def _share(count: int, total: int) -> float:
    return count / total if total else float("nan")


def _fmt(value: float, digits: int = 2) -> str:
    return "" if value != value else f"{value:.{digits}f}".rstrip("0").rstrip(".")


# -- plots -------------------------------------------------------------------------------------


def _png(figure) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _histogram(ax, values: Sequence[float], top: float, color: str, label: str) -> None:
    bins = _bins(values, top)
    ax.bar(
        [low for low, _, _ in bins],
        [c for _, _, c in bins],
        width=[high - low for low, high, _ in bins],
        align="edge",
        color=color,
        edgecolor="white",
    )
    ax.set_xlim(0, top if top > 0 else 1)
    ax.set_xlabel(label)
    ax.set_ylabel("submissions")
    ax.yaxis.get_major_locator().set_params(integer=True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


def _plots(report: ClassReport) -> dict[str, str]:
    """Base64 PNGs: the overall histogram, one small histogram per question, grading times."""
    from matplotlib.figure import Figure  # no pyplot: no global state, no GUI backend

    plots = {}
    figure = Figure(figsize=(6.4, 2.6), layout="constrained")
    _histogram(figure.subplots(), report.percents, 100.0, "#3b6ea8", "score (% of the points)")
    plots["overall"] = _png(figure)
    if report.questions:
        columns = min(4, len(report.questions))
        rows = -(-len(report.questions) // columns)
        figure = Figure(figsize=(2.6 * columns, 2.0 * rows), layout="constrained")
        axes = figure.subplots(rows, columns, squeeze=False).ravel()
        for ax, q in zip(axes, report.questions, strict=False):
            _histogram(ax, q.scores, q.possible, "#5a8f5a", f"points of {q.possible:g}")
            ax.set_title(q.name, fontsize=10)
        for ax in axes[len(report.questions) :]:
            ax.set_visible(False)
        plots["questions"] = _png(figure)
    seconds = [s.seconds for s in _timed(report)]
    if seconds:
        figure = Figure(figsize=(6.4, 2.4), layout="constrained")
        top = max(seconds) * 1.05 or 1.0
        _histogram(figure.subplots(), seconds, top, "#a8743b", "seconds to grade")
        plots["times"] = _png(figure)
    return plots


# -- HTML ----------------------------------------------------------------------------------------

STYLE = """
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1d2330;
       max-width: 1180px; margin: 24px auto; padding: 0 20px; }
h1 { font-size: 26px; margin-bottom: 4px; } h2 { margin-top: 34px; border-bottom: 2px solid #dde3ec;
     padding-bottom: 4px; } h3 { margin: 24px 0 6px; }
.sub { color: #5b6577; margin-top: 0; }
.cards { display: flex; gap: 12px; flex-wrap: wrap; margin: 16px 0; }
.card { background: #f3f6fa; border-radius: 8px; padding: 10px 16px; min-width: 120px; }
.card b { display: block; font-size: 22px; } .card span { color: #5b6577; font-size: 13px; }
table { border-collapse: collapse; width: 100%; margin: 8px 0 4px; font-size: 14px; }
th, td { text-align: left; padding: 5px 8px; border-bottom: 1px solid #e4e8ef;
         vertical-align: top; }
th { background: #eef2f7; font-weight: 600; }
td.n, th.n { text-align: right; white-space: nowrap; }
code { background: #eef2f7; border-radius: 4px; padding: 0 4px; font-size: 13px; }
.bar { background: #dfe7f2; border-radius: 3px; height: 8px; width: 110px; margin: 5px 0 0 auto; }
.bar i { display: block; background: #3b6ea8; height: 8px; border-radius: 3px; }
.kind { font-size: 12px; color: #fff; border-radius: 10px; padding: 1px 8px; white-space: nowrap; }
.k-catalogued { background: #2f7d4f; } .k-diagnosed { background: #3b6ea8; }
.k-uncatalogued { background: #b0452f; } .k-not-implemented { background: #7a8191; }
.k-time-out, .k-crash { background: #8a3fa0; }
.muted { color: #6b7385; } .ids { font-size: 12px; color: #5b6577; }
img { max-width: 100%; }
"""


def _page(report: ClassReport, names: bool, private: _Redactor, links: dict[str, str]) -> str:
    e = html.escape
    plots = _plots(report)
    graded, percents = report.graded, report.percents
    full = sum(p >= 100 - 1e-9 for p in percents)
    parts = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>Class report: {e(report.assignment)}</title>",
        f"<style>{STYLE}</style></head><body>",
        f"<h1>Class report: {e(report.assignment)}</h1>",
        f'<p class="sub">{len(report.submissions)} submissions read from '
        f"<code>{e(report.source)}</code>, {time.strftime('%Y-%m-%d %H:%M')}. "
        + (
            "Submission identifiers are shown (<code>--names</code>), each linked to its "
            "executed notebook where grading kept one."
            if names
            else "Submission identifiers are hidden; <code>--names</code> shows them."
        )
        + "</p>",
        '<div class="cards">',
        _card(len(report.submissions), "submissions"),
        _card(len(graded), "graded"),
        _card(len(report.ungradable), "not gradable"),
        _card(_fmt(statistics.fmean(percents), 1) + "%" if percents else "–", "mean score"),
        _card(_fmt(statistics.median(percents), 1) + "%" if percents else "–", "median score"),
        _card(f"{full}", "full marks"),
        "</div>",
        "<h2>Scores</h2>",
        _img(plots, "overall", "histogram of the total scores"),
        _question_table(report),
        _stopped_note(report),
        _img(plots, "questions", "histogram of each question's points"),
        "<h2>What went wrong, per question</h2>",
        '<p class="muted">Each row is one diagnosis: a <span class="kind k-catalogued">known '
        "mistake</span> from the catalogue (<code>mutants.yml</code>), matched by the hint tag "
        'its failing test prints; a <span class="kind k-diagnosed">tagged hint</span> no '
        'catalogued mistake names; a failure <span class="kind k-uncatalogued">no hint '
        "explains</span>, grouped by test and first line (numbers masked; a candidate for the "
        "catalogue). A submission counts once per row; shares are of the graded submissions. "
        "Under each question, the submissions that passed every public test and failed a hidden "
        "one: they saw only green before submitting, and need a word most.</p>",
    ]
    for q in report.questions:
        parts.append(_failure_section(report, q, names, private, links))
    parts += [
        "<h2>Not gradable</h2>",
        _ungradable_table(report, names, private, links),
        "<h2>Grading times</h2>",
        _times_section(report, plots, names, links),
        "</body></html>",
    ]
    return "\n".join(parts) + "\n"


def _card(value, label: str) -> str:
    return f'<div class="card"><b>{html.escape(str(value))}</b><span>{label}</span></div>'


def _img(plots: dict[str, str], key: str, alt: str) -> str:
    if key not in plots:
        return ""
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{plots[key]}">'


def _bar(share: float) -> str:
    width = 0 if share != share else round(100 * min(1.0, share))
    return f'<div class="bar"><i style="width:{width}%"></i></div>'


def _question_table(report: ClassReport) -> str:
    rows = [
        "<table><tr><th>question</th><th class=n>points</th><th class=n>graded</th>"
        "<th class=n>mean</th><th class=n>median</th><th class=n>full marks</th>"
        "<th class=n>time-outs</th><th class=n>crashes</th>"
        '<th class=n title="passed every public test, failed a hidden one">public ✓ hidden ✗</th>'
        "</tr>"
    ]
    for q in report.questions:
        hidden_only = "–" if q.hidden_only is None else len(q.hidden_only)
        rows.append(
            f"<tr><td><b>{html.escape(q.name)}</b></td><td class=n>{q.possible:g}</td>"
            f"<td class=n>{len(q.scores)}</td><td class=n>{_fmt(q.mean)}</td>"
            f"<td class=n>{_fmt(q.median)}</td><td class=n>{_percent(q.full_marks)}"
            f"{_bar(q.full_marks)}</td><td class=n>{q.time_outs}</td>"
            f"<td class=n>{q.crashes}</td><td class=n>{hidden_only}</td></tr>"
        )
    return "\n".join(rows) + "</table>"


def _stopped_note(report: ClassReport) -> str:
    """The whole-submission time limit leaves no result to count under a question: say so."""
    stopped = len(report.stopped)
    if not stopped:
        return ""
    return (
        f'<p class="muted">Besides the time-outs above, {stopped} submission'
        + (" was" if stopped == 1 else "s were")
        + " stopped by the whole-submission time limit before any result (under Not gradable)."
        "</p>"
    )


def _id_html(ident: str, links: dict[str, str]) -> str:
    """A submission's identifier, linked to its executed notebook where there is one."""
    e = html.escape
    href = links.get(ident)
    return f'<a href="{e(href)}">{e(ident)}</a>' if href else e(ident)


def _ids_html(idents: Iterable[str], links: dict[str, str]) -> str:
    listed = sorted(idents)
    more = len(listed) - LISTED_IDS
    text = ", ".join(_id_html(i, links) for i in listed[:LISTED_IDS])
    return text + (f" and {more} more" if more > 0 else "")


def _percent(share: float) -> str:
    return "–" if share != share else f"{100 * share:.0f}%"


def _failure_section(
    report: ClassReport, q: QuestionStats, names: bool, private, links: dict[str, str]
) -> str:
    e = html.escape
    groups = report.failures.get(q.name, [])
    head = (
        f"<h3>{e(q.name)} <span class=muted>· mean {_fmt(q.mean)} of {q.possible:g} · "
        f"full marks {_percent(q.full_marks)}</span></h3>"
    )
    if not groups:
        body = '<p class="muted">No failing test in this question.</p>'
    else:
        body = _groups_table(groups, len(q.scores), names, private, links)
    unseen = report.unseen.get(q.name, [])
    if unseen:
        body += (
            '<p class="muted">Catalogued mistakes of this question that nobody made: '
            + ", ".join(f"<code>{e(m.name)}</code>" for m in unseen)
            + ".</p>"
        )
    return head + body + _hidden_only_section(report, q, names, private, links)


def _hidden_only_section(
    report: ClassReport, q: QuestionStats, names: bool, private, links: dict[str, str]
) -> str:
    """Who passed every public test of ``q`` and failed a hidden one, and why they failed."""
    if q.hidden_only is None:
        return ""
    count, graded = len(q.hidden_only), len(q.scores)
    share = _share(count, graded)
    text = (
        f"<p><b>Passed every public test, failed a hidden one: {count}</b> "
        f"({_percent(share)} of the graded)."
    )
    if not count:
        return text + "</p>"
    if names:
        text += f' <span class="ids">{_ids_html(q.hidden_only, links)}</span>.'
    text += " Their hidden failures, by diagnosis:</p>"
    return text + _groups_table(report.hidden.get(q.name, []), graded, names, private, links)


def _groups_table(
    groups: list[FailureGroup], graded: int, names: bool, private, links: dict[str, str]
) -> str:
    e = html.escape
    rows = [
        "<table><tr><th>diagnosis</th><th>what it means</th><th class=n>submissions</th>"
        + ("<th>who</th>" if names else "")
        + "</tr>"
    ]
    for g in groups:
        share = g.count / graded if graded else float("nan")
        kind = f'<span class="kind k-{g.kind.replace(" ", "-")}">{e(KINDS[g.kind])}</span>'
        if g.kind == "catalogued":
            what = "<br>".join(f"<code>{e(m.name)}</code>: {e(m.mistake)}" for m in g.mutants) + (
                f'<br><span class="muted">hint: {e(g.message)}</span>' if g.message else ""
            )
            label = f"{kind}<br><code>{e(g.hint_id)}</code>"
        elif g.kind == "diagnosed":
            what = e(private(g.message, g.example))
            label = f"{kind}<br><code>{e(g.hint_id)}</code>"
        elif g.kind == "uncatalogued":
            what = e(private(g.message, g.example))
            label = f"{kind}<br><code>{e(g.test)}</code>"
        else:
            what = e(private(g.message, g.example))
            label = kind
        who = f'<td class="ids">{_ids_html(g.submissions, links)}</td>' if names else ""
        rows.append(
            f"<tr><td>{label}</td><td>{what}</td><td class=n>{g.count} "
            f"({_percent(share)}){_bar(share)}</td>{who}</tr>"
        )
    return "\n".join(rows) + "</table>"


def _ungradable_table(report: ClassReport, names: bool, private, links: dict[str, str]) -> str:
    e = html.escape
    rows = sorted(report.ungradable, key=lambda s: (s.status, s.error, s.id))
    if not rows:
        return '<p class="muted">Every submission was graded.</p>'
    out = [
        "<table><tr>"
        + ("<th>submission</th>" if names else "<th>#</th>")
        + "<th>status</th><th>why</th></tr>"
    ]
    for number, s in enumerate(rows, start=1):
        who = f"<code>{_id_html(s.id, links)}</code>" if names else str(number)
        why = e(private(s.error, s.id) or "–")
        out.append(f"<tr><td>{who}</td><td>{e(s.status)}</td><td>{why}</td></tr>")
    return "\n".join(out) + "</table>"


def _times_section(
    report: ClassReport, plots: dict[str, str], names: bool, links: dict[str, str]
) -> str:
    timed = _timed(report)
    if not timed:
        return '<p class="muted">No grading times recorded.</p>'
    seconds = [s.seconds or 0.0 for s in timed]
    summary = (
        f"<p>{len(seconds)} timed: median {statistics.median(seconds):.1f} s, "
        f"mean {statistics.fmean(seconds):.1f} s, slowest {seconds[0]:.1f} s, "
        f"in all {sum(seconds) / 60:.1f} min of grading.</p>"
    )
    rows = [
        "<table><tr>"
        + ("<th>submission</th>" if names else "<th>rank</th>")
        + "<th>status</th><th class=n>seconds</th></tr>"
    ]
    for rank, s in enumerate(timed[:SLOWEST], start=1):
        who = f"<code>{_id_html(s.id, links)}</code>" if names else str(rank)
        rows.append(
            f"<tr><td>{who}</td><td>{html.escape(s.status)}</td>"
            f"<td class=n>{s.seconds:.1f}</td></tr>"
        )
    return (
        summary
        + _img(plots, "times", "histogram of the grading times")
        + "<h3>Slowest</h3>"
        + "\n".join(rows)
        + "</table>"
    )
