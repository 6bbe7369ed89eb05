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
- submissions that could not be graded and why; time-outs and crashes per question;
- grading times (distribution, slowest submissions).

A failure is matched to the catalogue by the hint tags its message carries (``[hint: ID]``,
written by ``shared.testing.tagged``; ``autograder.mutants.hint_ids`` reads them), never by
searching the hint's wording. Where a message names two possible mistakes, a submission counts
under the fewest diagnoses that explain all its failures of the question (``fewest_diagnoses``);
two that no failure tells apart count together.

Submission identifiers appear only with ``names=True``: without it no table names a submission,
and the reasons and messages shown have every identifier replaced by ``<submission>``.
"""

from __future__ import annotations

import base64
import csv
import html
import io
import json
import re
import statistics
import textwrap
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .mutants import Mutant, hint_ids, hint_tag
from .submission import HIDDEN_DETAILS

GRADEBOOK = "gradebook.csv"  # what autograder.grade writes, beside results/ and feedback/
PUBLIC_TESTS = "Public Tests"  # Otter's summary entry of results.json, repeated per question
QUESTION_HEADER = re.compile(r"^(\S+) results:", re.MULTILINE)
CASE_HEADER = re.compile(r"^ {4}(\S.*?) result:\s*$", re.MULTILINE)
FAILED_MARK = "Test case failed"
NOT_IMPLEMENTED = "this is not answered yet"  # shared.checks.check_implemented
TIMEOUT_MARKS = ("TimeLimitExceeded", "s limit for one test", "s limit for one cell")
CRASH_MARKS = (
    "This test never ran",
    "crashed or hung the Python kernel",
    "crashed the Python kernel",
    "The Python kernel stopped responding",
    "The Python kernel ended",
)
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


@dataclass
class Question:
    name: str
    score: float
    possible: float
    cases: list[Case] = field(default_factory=list)


@dataclass
class Submission:
    """One submission as grading left it: graded with scores, or the reason it was not."""

    id: str
    status: str  # "graded", or why not ("error", "timeout", or a finer reason class)
    error: str = ""
    seconds: float | None = None
    questions: dict[str, Question] = field(default_factory=dict)

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
        submission = Submission(
            ident, status, (row.get("error") or "").strip(), _number(row.get("seconds"))
        )
        path = folder / "results" / f"{ident}.json"
        if status == "graded":
            data = _read_json(path)
            if isinstance(data, dict):
                submission.questions, seconds = parse_results(data)
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
            submissions.append(Submission(ident, "graded", "", seconds, questions))
        else:
            why = str(data.get("output") or "no test results").strip().splitlines()
            submissions.append(Submission(ident, "error", why[0] if why else "", seconds))
    return submissions


def parse_results(data: dict) -> tuple[dict[str, Question], float | None]:
    """Per question, the score and test cases of an Otter ``results.json``; and its time."""
    questions: dict[str, Question] = {}
    tests = [t for t in data.get("tests") or [] if isinstance(t, dict)]
    full = _full_outputs(tests)
    for test in tests:
        if test.get("max_score") is None:
            continue
        name = str(test.get("name") or "")
        if not name or name == PUBLIC_TESTS:
            continue
        score, possible = _number(test.get("score")) or 0.0, _number(test.get("max_score")) or 0.0
        output = full.get(name, str(test.get("output") or ""))
        question = Question(name, score, possible, parse_cases(output))
        if not question.cases and score < possible:  # no per-case output: the whole as one case
            question.cases = [Case(name, False, str(test.get("output") or "").strip())]
        # The kit's Gradescope output keeps hint tags out of what students read, in extra_data.
        extra = test.get("extra_data") if isinstance(test.get("extra_data"), dict) else {}
        shown = {i for c in question.cases for i in hint_ids(c.message)}
        missing = [str(i) for i in extra.get("hint_ids") or [] if str(i) not in shown]
        failing = [c for c in question.cases if not c.passed]
        if missing and failing:
            tags = " ".join(hint_tag(i) for i in missing)
            failing[0].message = f"{failing[0].message} {tags}".strip()
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


def parse_cases(output: str) -> list[Case]:
    """The test cases in one question's Otter output (``q1 - 1 result:`` blocks)."""
    headers = list(CASE_HEADER.finditer(output))
    cases = []
    for header, following in zip(headers, [*headers[1:], None], strict=False):
        block = output[header.end() : following.start() if following else len(output)]
        lines = textwrap.dedent(block.strip("\n")).strip().splitlines()
        verdict = lines[0] if lines else ""
        cases.append(
            Case(header.group(1), FAILED_MARK not in verdict, "\n".join(lines[1:]).strip())
        )
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
    stats, failures, unseen = [], {}, {}
    graded = [s for s in submissions if s.graded]
    for name in names:
        outcomes = [(s, s.questions[name]) for s in graded if name in s.questions]
        possible = max((q.possible for _, q in outcomes), default=0.0)
        stat = QuestionStats(name, possible, [q.score for _, q in outcomes])
        groups: dict[tuple, FailureGroup] = {}
        for submission, question in outcomes:
            tagged: list[set[tuple]] = []  # per failing case, the keys of the hints it shows
            for case in question.cases:
                if case.passed:
                    continue
                keys = set()
                for key, group in _diagnoses(name, case, by_id):
                    groups.setdefault(key, group)
                    if group.hint_id:
                        keys.add(key)
                    else:
                        groups[key].submissions.add(submission.id)
                if keys:
                    tagged.append(keys)
            for key in fewest_diagnoses(tagged):
                groups[key].submissions.add(submission.id)
        groups = {key: group for key, group in groups.items() if group.submissions}
        for group in groups.values():
            if group.kind == "time-out":
                stat.time_outs = group.count
            elif group.kind == "crash":
                stat.crashes = group.count
        order = list(KINDS)
        failures[name] = sorted(
            groups.values(), key=lambda g: (-g.count, order.index(g.kind), g.hint_id, g.test)
        )
        seen = {g.hint_id for g in failures[name]}
        unseen[name] = [m for m in mutants if name in m.questions and m.hint_id not in seen]
        stats.append(stat)
    return ClassReport(assignment, source, submissions, stats, failures, unseen)


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


def _diagnoses(question: str, case: Case, by_id: dict[str, list[Mutant]]):
    """(key, group) for each diagnosis the failing ``case`` prints (its submissions empty)."""
    message = case.message
    if any(mark in message for mark in TIMEOUT_MARKS):
        yield ("time-out",), FailureGroup(question, "time-out", message=_first_line(message))
        return
    if any(mark in message for mark in CRASH_MARKS):
        yield ("crash",), FailureGroup(question, "crash", message=_first_line(message))
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
    private = _Redactor([] if names else [s.id for s in report.submissions])
    for name, (header, rows) in _tables(report, names, private).items():
        with open(out / f"report-{name}.csv", "w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f)
            writer.writerow(header)
            writer.writerows(rows)
    page = out / "report.html"
    page.write_text(_page(report, names, private), encoding="utf-8")
    return page


class _Redactor:
    """Replaces every submission identifier (and its file name and stem) by ``<submission>``."""

    def __init__(self, identifiers: Iterable[str]) -> None:
        tokens = set()
        for ident in identifiers:
            base = ident.split("~")[0]
            last = base.split("__")[-1]
            tokens |= {ident, base, last, Path(last).stem}
        tokens = sorted((t for t in tokens if len(t) >= 3), key=len, reverse=True)
        self.pattern = (
            re.compile(r"(?<![\w.-])(?:" + "|".join(map(re.escape, tokens)) + r")(?![\w-])")
            if tokens
            else None
        )

    def __call__(self, text: str) -> str:
        return self.pattern.sub("<submission>", text) if self.pattern and text else text


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
        ]
        for q in report.questions
    ]
    failures = []
    for question, groups in report.failures.items():
        for g in groups:
            row = [
                question,
                g.kind,
                g.hint_id,
                "; ".join(m.name for m in g.mutants),
                " | ".join(m.mistake for m in g.mutants),
                g.test,
                private(g.message),
                g.count,
                _fmt(g.count / graded if graded else float("nan"), 3),
            ]
            failures.append(row + ([" ".join(sorted(g.submissions))] if names else []))
    ungradable = [
        ([s.id] if names else []) + [s.status, private(s.error)]
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
            ],
            questions,
        ),
        "failures": (
            [
                "question",
                "kind",
                "hint_id",
                "mutants",
                "mistake",
                "test",
                "message",
                "submissions",
                "share_of_graded",
            ]
            + (["submission_ids"] if names else []),
            failures,
        ),
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


def _page(report: ClassReport, names: bool, private: _Redactor) -> str:
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
        f"<code>{e(private(report.source))}</code>, {time.strftime('%Y-%m-%d %H:%M')}. "
        + (
            "Submission identifiers are shown (<code>--names</code>)."
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
        _img(plots, "questions", "histogram of each question's points"),
        "<h2>What went wrong, per question</h2>",
        '<p class="muted">Each row is one diagnosis: a <span class="kind k-catalogued">known '
        "mistake</span> from the catalogue (<code>mutants.yml</code>), matched by the hint tag "
        'its failing test prints; a <span class="kind k-diagnosed">tagged hint</span> no '
        'catalogued mistake names; a failure <span class="kind k-uncatalogued">no hint '
        "explains</span>, grouped by test and first line (numbers masked; a candidate for the "
        "catalogue). A submission counts once per row; shares are of the graded submissions."
        "</p>",
    ]
    for q in report.questions:
        parts.append(_failure_section(report, q, names, private))
    parts += [
        "<h2>Not gradable</h2>",
        _ungradable_table(report, names, private),
        "<h2>Grading times</h2>",
        _times_section(report, plots, names),
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
        "<th class=n>time-outs</th><th class=n>crashes</th></tr>"
    ]
    for q in report.questions:
        rows.append(
            f"<tr><td><b>{html.escape(q.name)}</b></td><td class=n>{q.possible:g}</td>"
            f"<td class=n>{len(q.scores)}</td><td class=n>{_fmt(q.mean)}</td>"
            f"<td class=n>{_fmt(q.median)}</td><td class=n>{_percent(q.full_marks)}"
            f"{_bar(q.full_marks)}</td><td class=n>{q.time_outs}</td>"
            f"<td class=n>{q.crashes}</td></tr>"
        )
    return "\n".join(rows) + "</table>"


def _percent(share: float) -> str:
    return "–" if share != share else f"{100 * share:.0f}%"


def _failure_section(report: ClassReport, q: QuestionStats, names: bool, private) -> str:
    e = html.escape
    groups = report.failures.get(q.name, [])
    graded = len(q.scores)
    head = (
        f"<h3>{e(q.name)} <span class=muted>· mean {_fmt(q.mean)} of {q.possible:g} · "
        f"full marks {_percent(q.full_marks)}</span></h3>"
    )
    if not groups:
        body = '<p class="muted">No failing test in this question.</p>'
    else:
        rows = [
            "<table><tr><th>diagnosis</th><th>what it means</th><th class=n>submissions</th>"
            + ("<th>who</th>" if names else "")
            + "</tr>"
        ]
        for g in groups:
            share = g.count / graded if graded else float("nan")
            kind = f'<span class="kind k-{g.kind.replace(" ", "-")}">{e(KINDS[g.kind])}</span>'
            if g.kind == "catalogued":
                what = "<br>".join(
                    f"<code>{e(m.name)}</code>: {e(m.mistake)}" for m in g.mutants
                ) + (f'<br><span class="muted">hint: {e(g.message)}</span>' if g.message else "")
                label = f"{kind}<br><code>{e(g.hint_id)}</code>"
            elif g.kind == "diagnosed":
                what = e(private(g.message))
                label = f"{kind}<br><code>{e(g.hint_id)}</code>"
            elif g.kind == "uncatalogued":
                what = e(private(g.message))
                label = f"{kind}<br><code>{e(g.test)}</code>"
            else:
                what = e(private(g.message))
                label = kind
            who = ""
            if names:
                listed = sorted(g.submissions)
                more = len(listed) - LISTED_IDS
                who = '<td class="ids">' + e(", ".join(listed[:LISTED_IDS]))
                who += f" and {more} more" if more > 0 else ""
                who += "</td>"
            rows.append(
                f"<tr><td>{label}</td><td>{what}</td><td class=n>{g.count} "
                f"({_percent(share)}){_bar(share)}</td>{who}</tr>"
            )
        body = "\n".join(rows) + "</table>"
    unseen = report.unseen.get(q.name, [])
    if unseen:
        body += (
            '<p class="muted">Catalogued mistakes of this question that nobody made: '
            + ", ".join(f"<code>{e(m.name)}</code>" for m in unseen)
            + ".</p>"
        )
    return head + body


def _ungradable_table(report: ClassReport, names: bool, private) -> str:
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
        who = f"<code>{e(s.id)}</code>" if names else str(number)
        out.append(
            f"<tr><td>{who}</td><td>{e(s.status)}</td><td>{e(private(s.error) or '–')}</td></tr>"
        )
    return "\n".join(out) + "</table>"


def _times_section(report: ClassReport, plots: dict[str, str], names: bool) -> str:
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
        who = f"<code>{html.escape(s.id)}</code>" if names else str(rank)
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
