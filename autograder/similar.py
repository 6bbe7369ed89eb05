"""Similar submissions: which pairs of a batch share answer code, ranked, the shared lines side
by side.

Only what students wrote counts. From each notebook the answer cells are taken: those carrying
Otter Assign's ``otter_answer_cell`` tag (the student stub's answer cells keep it), and, where an
editor stripped the tags or a student added cells, every code cell that resembles no given cell
of the stub. Given and ``otter_ignore`` cells and ``grader.check`` cells never count, and the
stub's own code (signatures, docstrings, given lines, which every answer cell starts from) is
boilerplate: no k-gram that touches it is evidence.

Fingerprinting is copydetect's: each answer is tokenised with names, strings and comments
normalised away (renaming a variable, rewording a comment or re-spacing a line hides nothing),
hashed as k-grams of ``noise`` normalised characters, and compared pair by pair. Every k-gram is
kept (copydetect's guarantee threshold equal to its noise threshold, window 1), so the result
does not depend on Python's per-process hash seed: the same batch gives the same report.

A pair's similarity is the share of each one's answer code (its normalised characters outside
the stub) found in the other; pairs are ranked by the larger share, then by characters shared.
A high share of a long answer is evidence worth a look, not a verdict: short answers that any
two students write alike (``nn.Sequential(nn.Linear(10, 64), nn.ReLU(), ...)``) also match.
"""

from __future__ import annotations

import csv
import difflib
import html
import io
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from .catalog import Assignment
from .grade import collect, precheck, stage_upload
from .gradebook_formats import Student
from .prose import python_source
from .submission import SubmissionError

STUB_ANSWER_TAG = "otter_answer_cell"  # Otter Assign's tag on the student stub's answer cells
IGNORED_TAG = "otter_ignore"  # given cells that grading skips (demonstrations, plots)
NOISE = 25  # copydetect's default noise threshold: normalised characters a match must span
GIVEN_LIKENESS = 0.5  # an untagged cell this like a given stub cell (lines, difflib) is given
SHOWN = 25  # pairs shown side by side in the report
REPORT = "similar.html"
PAIRS_CSV = "pairs.csv"
ANSWERS = "answers"  # each submission's answer code, as compared


@dataclass
class Answers:
    """One submission's answer code: its answer cells joined, each under a ``# [cell N]`` line."""

    id: str
    code: str
    students: list[Student] = field(default_factory=list)

    @property
    def label(self) -> str:
        """The submission, and its students' names where a Gradescope export gives them."""
        names = ", ".join(s.name or s.email or s.sid for s in self.students if s)
        return f"{self.id} ({names})" if names else self.id

    def cell_of_line(self) -> list[str]:
        """For each line of ``code`` (0-based), the ``cell N`` it belongs to."""
        cells, current = [], ""
        for line in self.code.splitlines():
            if line.startswith("# [cell ") and line.endswith("]"):
                current = line[3:-1]
            cells.append(current)
        return cells


@dataclass
class Block:
    """Lines of two answers that share code (1-based, inclusive)."""

    first: tuple[int, int]
    second: tuple[int, int]


@dataclass
class Pair:
    first: str
    second: str
    share_first: float  # of the first's answer code, the share found in the second
    share_second: float
    tokens: int  # normalised characters shared
    blocks: list[Block] = field(default_factory=list)

    @property
    def similarity(self) -> float:
        return max(self.share_first, self.share_second)


@dataclass
class Batch:
    assignment: str
    answers: list[Answers]
    skipped: list[tuple[str, str]]  # (submission, why it could not be read)
    pairs: list[Pair]  # every pair, most similar first
    noise: int = NOISE


# --- answer cells ------------------------------------------------------------------------------


def _lines(source: str) -> list[str]:
    return [line.strip() for line in python_source(source).splitlines() if line.strip()]


def _only_checks(source: str) -> bool:
    """Nothing but comments and ``grader.check``/``export`` calls: a test cell."""
    return all(line.startswith(("#", "grader.")) for line in _lines(source))


@dataclass(frozen=True)
class Stub:
    """The student notebook as handed out: its code, and which of its cells are answer cells."""

    code: str
    cells: tuple[tuple[tuple[str, ...], bool], ...]  # (stripped lines, is an answer cell)

    @classmethod
    def read(cls, path: Path) -> Stub:
        notebook = nbformat.read(path, as_version=4)
        code_cells = [c for c in notebook.cells if c.cell_type == "code"]
        stub = cls(
            "",
            tuple(
                (tuple(_lines(c.source)), STUB_ANSWER_TAG in c.metadata.get("tags", []))
                for c in code_cells
            ),
        )
        # The stub's code as it is, and its answer cells joined as a submission's are: a k-gram
        # that spans two untouched answer cells is the stub's too.
        whole = "\n\n".join(python_source(c.source) for c in code_cells)
        return cls(f"{whole}\n\n{answer_code(notebook, stub)}", stub.cells)

    def is_answer(self, cell: nbformat.NotebookNode) -> bool:
        """Whether a submission's code ``cell`` holds the student's own work."""
        if not cell.source.strip() or _only_checks(cell.source):
            return False
        tags = cell.metadata.get("tags", [])
        if STUB_ANSWER_TAG in tags:
            return True
        if IGNORED_TAG in tags:  # a given demonstration, never graded
            return False
        lines = _lines(cell.source)
        best, answer = 0.0, True  # a cell like nothing in the stub is the student's own
        for stub_lines, stub_answer in self.cells:
            matcher = difflib.SequenceMatcher(None, lines, stub_lines, autojunk=False)
            if matcher.real_quick_ratio() <= best or matcher.quick_ratio() <= best:
                continue
            ratio = matcher.ratio()
            if ratio > best:
                best, answer = ratio, stub_answer
        return answer or best < GIVEN_LIKENESS


def answer_code(notebook: nbformat.NotebookNode, stub: Stub) -> str:
    """The answer cells of ``notebook``, IPython magics blanked, each under ``# [cell N]``."""
    parts = [
        f"# [cell {index}]\n{python_source(cell.source).rstrip()}\n"
        for index, cell in enumerate(notebook.cells)
        if cell.cell_type == "code" and stub.is_answer(cell)
    ]
    return "\n".join(parts)


def read_answers(
    assignment: Assignment, inputs: list[Path], questions: list[str], stub: Stub
) -> tuple[list[Answers], list[tuple[str, str]]]:
    """Each submission's answer code, and (submission, reason) for those that cannot be read.

    ``inputs`` are what ``grade`` takes: notebooks, zips, folders of them, Gradescope exports.
    """
    answers, skipped = [], []
    with tempfile.TemporaryDirectory(prefix="similar-") as work:
        for submission in collect(inputs):
            path = submission.path
            error = None if submission.uploaded else precheck(path, assignment)
            if error is None and (submission.uploaded or path.suffix.lower() == ".zip"):
                try:
                    path, _ = stage_upload(path, assignment, questions, Path(work) / submission.id)
                except SubmissionError as exc:
                    error = str(exc)
            if error is None:
                try:
                    notebook = nbformat.read(path, as_version=4)
                except Exception as exc:  # nbformat raises several kinds for a broken file
                    error = f"{path.name}: not a readable notebook ({type(exc).__name__})"
            if error:
                skipped.append((submission.id, error))
                continue
            code = answer_code(notebook, stub)
            answers.append(Answers(submission.id, code, submission.students))
    return answers, skipped


# --- fingerprints and pairs --------------------------------------------------------------------


def compare(
    answers: list[Answers], boilerplate: str, *, noise: int = NOISE, shown: int = SHOWN
) -> list[Pair]:
    """Every pair of ``answers``, most similar first, the ``shown`` first with their shared
    blocks of lines; code in ``boilerplate`` never matches."""
    from copydetect import compare_files

    stub = _fingerprint("stub.py", boilerplate, noise)
    stub_lines = {line.strip() for line in boilerplate.splitlines()} - {""}
    prints = {
        a.id: _without(_fingerprint(f"{a.id}.py", a.code, noise), stub, stub_lines) for a in answers
    }
    pairs = []
    for i, first in enumerate(answers):
        for second in answers[i + 1 :]:
            tokens, (share_1, share_2), _ = compare_files(prints[first.id], prints[second.id])
            pairs.append(Pair(first.id, second.id, float(share_1), float(share_2), int(tokens)))
    pairs.sort(key=lambda p: (-p.similarity, -p.tokens, p.first, p.second))
    for pair in pairs[:shown]:
        if pair.tokens:
            pair.blocks = _blocks(prints[pair.first], prints[pair.second], noise)
    return pairs


def _fingerprint(name: str, code: str, noise: int):
    """copydetect's fingerprint of ``code``: every k-gram (window 1), so no choice depends on
    the hash seed."""
    from copydetect import CodeFingerprint

    return CodeFingerprint(name, noise, 1, language="python", fp=io.StringIO(code))


def _without(fingerprint, stub, stub_lines: set[str]):
    """``fingerprint`` less every k-gram that touches the stub's code: a line of the stub (as
    it stands, spaces aside) or a run of the stub's k-grams (the stub re-spaced or re-wrapped).

    copydetect's own boilerplate option drops only the k-grams that are the stub's; one that
    straddles a stub line and the answer after it (a docstring, then ``return np.``) survives,
    and so does one around a stub line too short to hold a k-gram of its own; two students whose
    answers merely begin alike would match on them. Here a k-gram counts only if all its
    characters are the student's, so a match is ``noise`` characters of students' code alone.
    On tests/test_similar.py's class the best pair of independent solutions falls from 36% (the
    option) to 23% (this), while the disguised copy stays at 93%.
    """
    import numpy as np
    from copydetect.utils import get_token_coverage, hashed_kgrams

    k, code = fingerprint.k, fingerprint.filtered_code
    size = len(code)
    stub_hashes = np.fromiter(stub.hashes, dtype=np.int64, count=len(stub.hashes))
    starts = np.nonzero(np.isin(hashed_kgrams(code, k), stub_hashes))[0]
    depth = np.zeros(size + 1, dtype=np.int64)  # how many stub k-grams cover each character
    np.add.at(depth, starts, 1)
    np.add.at(depth, starts + k, -1)
    stub = np.cumsum(depth)[:size] > 0
    raw = fingerprint.raw_code.splitlines(keepends=True)
    line_starts = np.cumsum([0] + [len(line) for line in raw])
    given = np.array([line.strip() in stub_lines for line in raw] + [False])
    lines = np.searchsorted(line_starts, _raw_offsets(fingerprint, np.arange(size)), "right") - 1
    stub |= given[np.clip(lines, 0, len(raw))]
    covered = np.concatenate([[0], np.cumsum(stub)])  # stub characters before each position
    kept = {}
    for hash_value, positions in fingerprint.hash_idx.items():
        clear = [p for p in positions if covered[p + k] == covered[p]]
        if clear:
            kept[hash_value] = clear
    fingerprint.hash_idx = kept
    fingerprint.hashes = set(kept)
    fingerprint.token_coverage = get_token_coverage(kept, k, size)
    return fingerprint


def _raw_offsets(fingerprint, positions):
    """Offsets in the raw code of ``positions`` in the normalised code (as copydetect maps them)."""
    import numpy as np

    positions = np.asarray(positions)
    table = fingerprint.offsets
    if len(table) == 0:
        return positions
    where = np.clip(np.searchsorted(table[:, 0], positions), 0, table.shape[0] - 1)
    return positions + table[:, 1][where]


def _blocks(first, second, k: int) -> list[Block]:
    """Runs of shared k-grams, as line ranges of both answers, in the first's order.

    A run is a chain of shared k-grams that start one after the other in both answers (a gap of
    a character or two allowed), so code moved elsewhere, or split by the stub's own code, makes
    a block of its own.
    """
    matches = sorted(
        (p, q)
        for h in first.hashes & second.hashes
        for p in first.hash_idx[h]
        for q in second.hash_idx[h]
    )
    runs: dict[tuple[int, int], list[int]] = {}  # (next p, its q) -> [first p, first q, last p, q]
    for p, q in matches:
        run = next((runs.pop(key) for key in _near(p, q) if key in runs), None)
        run = [p, q, p, q] if run is None else [run[0], run[1], p, q]
        runs[(p, q)] = run
    blocks = []
    for p_start, q_start, p_end, q_end in runs.values():
        ours = _raw_offsets(first, [p_start, p_end + k - 1])
        theirs = _raw_offsets(second, [q_start, q_end + k - 1])
        blocks.append(
            Block(
                (_line_of(first.raw_code, ours[0]), _line_of(first.raw_code, ours[1])),
                (_line_of(second.raw_code, theirs[0]), _line_of(second.raw_code, theirs[1])),
            )
        )
    return _merged(blocks)


def _near(p: int, q: int, gap: int = 3):
    """Where the run that ``(p, q)`` continues last was: the same step back in both answers."""
    return ((p - step, q - step) for step in range(1, gap + 1))


def _line_of(code: str, offset) -> int:
    return code.count("\n", 0, int(offset)) + 1


def _merged(blocks: list[Block]) -> list[Block]:
    """Blocks overlapping on both sides made one; in the first answer's order."""
    merged: list[Block] = []
    for block in sorted(blocks, key=lambda b: (b.first, b.second)):
        for other in merged:
            if _overlap(block.first, other.first) and _overlap(block.second, other.second):
                other.first = (
                    min(other.first[0], block.first[0]),
                    max(other.first[1], block.first[1]),
                )
                other.second = (
                    min(other.second[0], block.second[0]),
                    max(other.second[1], block.second[1]),
                )
                break
        else:
            merged.append(Block(block.first, block.second))
    return merged


def _overlap(a: tuple[int, int], b: tuple[int, int]) -> bool:
    """Overlapping or adjacent line ranges."""
    return a[0] <= b[1] + 1 and b[0] <= a[1] + 1


def find_similar(
    assignment: Assignment,
    inputs: list[Path],
    questions: list[str],
    *,
    stub_notebook: Path | None = None,
    noise: int = NOISE,
    shown: int = SHOWN,
) -> Batch:
    """Read the submissions under ``inputs`` and compare each pair's answer code."""
    stub = Stub.read(stub_notebook or assignment.student_dir / assignment.notebook_name)
    answers, skipped = read_answers(assignment, inputs, questions, stub)
    pairs = compare(answers, stub.code, noise=noise, shown=shown)
    return Batch(assignment.name, answers, skipped, pairs, noise)


# --- the report --------------------------------------------------------------------------------


def write_report(batch: Batch, out: Path, *, shown: int = SHOWN) -> Path:
    """Write ``out/similar.html`` (the ``shown`` most similar pairs, side by side),
    ``out/pairs.csv`` (every pair) and ``out/answers/ID.py`` (what was compared); returns the
    page."""
    (out / ANSWERS).mkdir(parents=True, exist_ok=True)
    for answers in batch.answers:
        (out / ANSWERS / f"{answers.id}.py").write_text(answers.code, encoding="utf-8")
    labels = {a.id: a.label for a in batch.answers}
    with (out / PAIRS_CSV).open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["rank", "first", "second", "share_first", "share_second", "shared"])
        for rank, pair in enumerate(batch.pairs, start=1):
            writer.writerow(
                [
                    rank,
                    labels[pair.first],
                    labels[pair.second],
                    f"{pair.share_first:.3f}",
                    f"{pair.share_second:.3f}",
                    pair.tokens,
                ]
            )
    page = out / REPORT
    page.write_text(_html(batch, shown), encoding="utf-8")
    return page


STYLE = """
body { font: 14px/1.4 system-ui, sans-serif; margin: 2em; max-width: 1400px; }
table { border-collapse: collapse; } td, th { padding: 2px 8px; vertical-align: top; }
th { text-align: left; border-bottom: 1px solid #999; } .n { text-align: right; }
table.side { width: 100%; table-layout: fixed; margin-bottom: 1.5em; }
table.side td { width: 50%; border: 1px solid #ccc; padding: 0; background: #fffbe6; }
pre { margin: 0; padding: 4px; overflow-x: auto; font-size: 12px; }
pre .l { color: #999; user-select: none; }
.where { color: #555; font-size: 12px; padding: 2px 4px; }
"""


def _html(batch: Batch, shown: int) -> str:
    e = html.escape
    codes = {a.id: a.code.splitlines() for a in batch.answers}
    cells = {a.id: a.cell_of_line() for a in batch.answers}
    labels = {a.id: a.label for a in batch.answers}
    top = [pair for pair in batch.pairs[:shown] if pair.tokens]
    parts = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>Similar submissions: {e(batch.assignment)}</title>",
        f"<style>{STYLE}</style></head><body>",
        f"<h1>Similar submissions: {e(batch.assignment)}</h1>",
        f"<p>{len(batch.answers)} submissions compared ({len(batch.pairs)} pairs), answer cells "
        "only, the student stub's own code excluded. A match is a run of at least "
        f"{batch.noise} characters of code with names, strings, comments and spacing "
        "normalised away (copydetect), so renaming and re-commenting do not hide it. A share is "
        "how much of one submission's answer code (beyond the stub) is found in the other. "
        "<b>Similar is not copied</b>: short answers that the prompt all but dictates match "
        "too; read the code.</p>",
    ]
    if batch.skipped:
        parts.append(f"<h2>Not compared ({len(batch.skipped)})</h2><ul>")
        parts += [f"<li><code>{e(s)}</code>: {e(why)}</li>" for s, why in batch.skipped]
        parts.append("</ul>")
    parts.append(
        f"<h2>Most similar pairs</h2><p>{len(top)} pairs sharing code, at most {shown}; every "
        f"pair is in {PAIRS_CSV}, each submission's answer code in {ANSWERS}/ID.py (the line "
        "numbers below are its lines).</p>"
    )
    parts.append(
        "<table><tr><th>#</th><th>first</th><th>second</th><th class=n>share of first</th>"
        "<th class=n>share of second</th><th class=n>shared (normalised characters)</th></tr>"
    )
    for rank, pair in enumerate(top, start=1):
        parts.append(
            f'<tr><td><a href="#pair{rank}">{rank}</a></td>'
            f"<td><code>{e(labels[pair.first])}</code></td>"
            f"<td><code>{e(labels[pair.second])}</code></td>"
            f"<td class=n>{pair.share_first:.0%}</td><td class=n>{pair.share_second:.0%}</td>"
            f"<td class=n>{pair.tokens}</td></tr>"
        )
    parts.append("</table>")
    for rank, pair in enumerate(top, start=1):
        parts.append(
            f'<h3 id="pair{rank}">#{rank} <code>{e(labels[pair.first])}</code> and '
            f"<code>{e(labels[pair.second])}</code>: {pair.share_first:.0%} and "
            f"{pair.share_second:.0%}</h3>"
        )
        parts.append('<table class="side">')
        parts.append(
            f"<tr><th><code>{e(pair.first)}</code></th><th><code>{e(pair.second)}</code></th></tr>"
        )
        for block in pair.blocks:
            parts.append(
                "<tr>"
                + _side(codes[pair.first], cells[pair.first], block.first)
                + _side(codes[pair.second], cells[pair.second], block.second)
                + "</tr>"
            )
        parts.append("</table>")
    parts.append("</body></html>")
    return "\n".join(parts)


def _side(lines: list[str], cells: list[str], span: tuple[int, int]) -> str:
    start, end = span[0], min(span[1], len(lines))
    where = cells[start - 1] if 0 < start <= len(cells) else ""
    body = "\n".join(
        f'<span class="l">{number:4d} </span>{html.escape(lines[number - 1])}'
        for number in range(start, end + 1)
    )
    return (
        f'<td><div class="where">{html.escape(where)}, lines {start}-{end}</div>'
        f"<pre>{body}</pre></td>"
    )


def summary(batch: Batch, top: int) -> list[str]:
    """The ``top`` most similar pairs, one line each, for the terminal."""
    labels = {a.id: a.label for a in batch.answers}
    chosen = batch.pairs[:top]
    width = max((len(labels[p.first]) for p in chosen), default=0)
    return [
        f"{rank:3d}. {pair.similarity:4.0%}  {labels[pair.first]:<{width}}  "
        f"{labels[pair.second]}  ({pair.share_first:.0%} / {pair.share_second:.0%} of each "
        f"one's answer code, {pair.tokens} normalised characters shared)"
        for rank, pair in enumerate(chosen, start=1)
    ]
