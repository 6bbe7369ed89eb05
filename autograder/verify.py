"""Verify: prove an assignment's tests are right before anyone sees them.

For each assignment: the reference scores 100% (under several seeds), the untouched stub scores
0 and the grader survives it, every catalogued mutant loses points on the questions it names
with its hint and its hint's tag (``hint_id``) in the message, no solution line or hidden test
reaches a student file, and ``assignments/`` matches the master. Each check is one row of a
table; any failure makes the command exit non-zero.
"""

from __future__ import annotations

import ast
import json
import os
import shutil
import tempfile
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from . import zips
from .build import Built, stale_files
from .catalog import GRADER_SUPPORT, HELPER_PACKAGE
from .errors import UserError
from .fastgrade import fast_grade
from .grading.runner import GradeResult, grade_notebook
from .leaks import structural_leaks
from .master import public_lines, solution_lines
from .mutants import Mutant, apply_edits, hint_ids, hint_tag, load_mutants, load_variants
from .prose import CellError, run_every_cell, unasked_reads, uncompilable_cells

TRIVIAL = {"", "...", "pass", "return", ")", "]", "}", "else:", "try:", "continue", "break"}


@dataclass
class Row:
    check: str
    ok: bool
    detail: str


@dataclass
class Report:
    assignment: str
    rows: list[Row] = field(default_factory=list)
    results: dict[str, GradeResult] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return all(row.ok for row in self.rows)

    def add(self, check: str, ok: bool, detail: str) -> None:
        self.rows.append(Row(check, ok, detail))

    def table(self) -> str:
        width = max(len(r.check) for r in self.rows) if self.rows else 10
        lines = [f"{self.assignment}", f"  {'check'.ljust(width)}  result  detail"]
        for row in self.rows:
            mark = "ok" if row.ok else "FAIL"
            lines.append(f"  {row.check.ljust(width)}  {mark.ljust(6)}  {row.detail}")
        passed = sum(r.ok for r in self.rows)
        lines.append(f"  {passed}/{len(self.rows)} checks passed")
        return "\n".join(lines)


def _reference_label(seed: int) -> str:
    """The table's row of the reference graded under ``seed``."""
    return f"reference (seed {seed})"


def verify(
    built: Built,
    *,
    seeds: int | None = None,
    check_fresh: bool = True,
    jobs: int | None = None,
    timeout: float | None = None,
    progress: bool = True,
    fast: bool = True,
    only: set[str] | None = None,
) -> Report:
    """Run every check on a build; the report says what passed and what did not.

    ``seeds`` and ``timeout`` default to the assignment's ``grading.yml`` settings. The
    reference under the first seed and the stub are always graded in full, through the guard;
    with ``fast``, mutants and variants go through ``fastgrade`` (one process per seed, forked
    where each edit begins), the reference under every other seed is the root of its seed's
    tree, and whatever that path cannot finish or the reference does not score in full is
    graded in full. Mutants are graded under the first seed, variants under the first
    ``variant_seeds`` (``grading.yml``; all of them by default).
    """
    settings = built.assignment.settings
    seeds = seeds or settings.verify_seeds
    timeout = timeout or settings.submission_timeout
    report = Report(built.assignment.name)
    mutants = load_mutants(built.master)
    variants = load_variants(built.master)
    if only is not None:
        unknown = only - {m.name for m in mutants} - {v.name for v in variants}
        if unknown:
            raise UserError(f"no mutant or variant named {', '.join(sorted(unknown))}")
        mutants = [m for m in mutants if m.name in only]
        variants = [v for v in variants if v.name in only]
    work = Path(tempfile.mkdtemp(prefix=f"verify-{built.assignment.name}-"))

    reference = nbformat.read(built.solution_notebook, as_version=4)
    full: dict[str, tuple[Path, Path]] = {}  # label -> (autograder zip, notebook), graded in full
    edited: dict[int, tuple[Path, dict]] = {}  # seed -> (zip, {label: edited notebook})
    labels: list[str] = []  # the table's order
    with_variants = min(seeds, settings.variant_seeds or seeds)
    for i, seed in enumerate(verify_seeds(built, seeds)):
        zip_path = built.autograder_zip if i == 0 else _with_seed(built.autograder_zip, seed, work)
        if i == 0 or not fast:  # the other seeds' references: the roots of their fast trees
            full[_reference_label(seed)] = (zip_path, built.solution_notebook)
        notebooks = {
            f"{v.label} (seed {seed})": apply_edits(reference, v)
            for v in (variants if i < with_variants else [])
        }
        labels += [_reference_label(seed), *notebooks]
        if i == 0:
            notebooks.update({m.label: apply_edits(reference, m) for m in mutants})
        edited[seed] = (zip_path, notebooks)
    if only is None:
        full["stub"] = (built.autograder_zip, built.student_notebook)
        labels.append("stub")
    labels += [m.label for m in mutants]
    run_through: dict[str, Future] = {}  # prose-only variant -> the cells that raised

    def grade_in_full(jobs_to_run: dict[str, tuple[Path, Path]], name: str):
        return _grade_all(
            jobs_to_run, work / name, jobs=jobs, timeout=timeout, progress=progress, label=name
        )

    try:
        # What proves the grading path (references, stub) and the prose-only runs through
        # every cell go beside the fast path: they keep a core busy while its trees wait.
        with ThreadPoolExecutor(max_workers=2) as background:
            proofs = background.submit(grade_in_full, full, report.assignment)
            for variant in (v for v in variants if v.prose_only):
                run_through[variant.name] = background.submit(
                    _run_through, built, reference, variant, timeout
                )
            rest: dict[str, tuple[Path, Path]] = {}

            def fast_tree(seed: int) -> dict[str, GradeResult]:
                """The edits under ``seed``, and the reference as their root: a reference that
                falls short here is graded in full (below), and so is every edit of its tree."""
                zip_path, notebooks = edited[seed]
                found = fast_grade(
                    zip_path,
                    {"reference": reference, **notebooks},
                    "reference",
                    work / f"fast-{seed}",
                    jobs=jobs or os.cpu_count() or 1,
                    timeout=settings.submission_timeout,
                )
                root = found.pop("reference")
                if not _full_marks(root, built.master.question_names):
                    return {}
                label = _reference_label(seed)
                found = {k: r for k, r in found.items() if r.status == "graded"}
                return found if label in full else {label: root, **found}

            if fast:  # seed after seed: side by side they only fought over the cores (+10-20%)
                for seed in (seed for seed, (_, notebooks) in edited.items() if notebooks):
                    report.results.update(fast_tree(seed))
                alone = [seed for seed, (_, notebooks) in edited.items() if not notebooks]
                with ThreadPoolExecutor(max_workers=jobs or os.cpu_count() or 1) as pool:
                    for found in pool.map(fast_tree, alone):  # one process each: side by side
                        report.results.update(found)
            for seed, (zip_path, notebooks) in edited.items():
                label = _reference_label(seed)
                if label not in full and label not in report.results:
                    rest[label] = (zip_path, built.solution_notebook)
                for label, notebook in notebooks.items():
                    if label not in report.results:  # not fast, or the fast path failed it
                        folder = work / "edited" / _slug(label)
                        rest[label] = (
                            zip_path,
                            _write(notebook, folder / built.assignment.notebook_name),
                        )
            report.results.update(proofs.result())
        report.results.update(grade_in_full(rest, "in full") if rest else {})
    finally:
        shutil.rmtree(work, ignore_errors=True)
    report.results = {label: report.results[label] for label in labels}
    questions = built.master.question_names
    for label, result in report.results.items():
        if label.startswith(("reference", "variant")):
            _check_full_marks(report, label, result, questions)
        elif label == "stub":
            _check_stub(report, result)
    for mutant in mutants:
        _check_mutant(report, mutant, report.results[mutant.label], questions)
    if only is not None:
        for variant in variants:
            if variant.prose_only:
                _check_runs_through(report, variant, run_through[variant.name].result())
        return report
    if not mutants:
        report.add(
            "mutants", False, f"no catalogue at {built.assignment.mutants.name}; add known mistakes"
        )
    if not variants:
        report.add(
            "variants",
            False,
            f"no catalogue at {built.assignment.variants.name}; add valid alternative solutions",
        )
    _check_prose(report, built, reference, variants, run_through)
    _check_leaks(report, built)
    _check_helper_package(report, built)
    if check_fresh:
        stale = stale_files(built)
        target = f"assignments/{built.assignment.name}"
        report.add(
            "fresh",
            not stale,
            f"{target} matches the master"
            if not stale
            else f"{target} is stale ({', '.join(stale[:3])}); run `python -m autograder build "
            f"{built.assignment.name}` and commit",
        )
    return report


def verify_seeds(built: Built, count: int) -> list[int]:
    """The seeds verify grades under: the master's seed, then +1000, +2000, ..."""
    base = int((built.master.config.get("generate") or {}).get("seed") or 0)
    return [base + 1000 * i for i in range(max(1, count))]


def _full_marks(result: GradeResult, questions: list[str]) -> bool:
    return result.status == "graded" and all(
        name in result.questions and result.questions[name].score >= result.questions[name].possible
        for name in questions
    )


def _slug(label: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in label)


def _write(notebook: nbformat.NotebookNode, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, path)
    return path


def _with_seed(autograder_zip: Path, seed: int, work: Path) -> Path:
    entries = zips.zip_entries(autograder_zip)
    config = json.loads(entries["otter_config.json"])
    config["seed"] = seed
    entries["otter_config.json"] = json.dumps(config, indent=2).encode()
    return zips.write_zip(work / f"seed-{seed}" / autograder_zip.name, entries)


def _grade_all(
    jobs_to_run: dict[str, tuple[Path, Path]],
    work: Path,
    *,
    jobs: int | None,
    timeout: float,
    progress: bool,
    label: str,
) -> dict[str, GradeResult]:
    results: dict[str, GradeResult] = {}
    workers = max(1, min(jobs or os.cpu_count() or 1, len(jobs_to_run)))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = {
            pool.submit(
                grade_notebook, zip_path, notebook, work / "graded" / f"{i:03d}", timeout=timeout
            ): name
            for i, (name, (zip_path, notebook)) in enumerate(jobs_to_run.items())
        }
        from tqdm import tqdm

        with tqdm(
            total=len(futures),
            desc=f"verify {label}",
            unit="notebook",
            disable=not progress,
            leave=False,
        ) as bar:
            for future in as_completed(futures):
                results[futures[future]] = future.result()
                bar.update()
    return {name: results[name] for name in jobs_to_run}


def _check_full_marks(
    report: Report, label: str, result: GradeResult, questions: list[str]
) -> None:
    if result.status != "graded":
        report.add(label, False, f"{result.status}: {result.error}")
        return
    missing = [q for q in questions if q not in result.questions]
    lost = {n: q for n, q in result.questions.items() if q.score < q.possible}
    ok = not missing and not lost and result.possible > 0
    how = "fast path" if result.fast else "in full"
    detail = f"{result.total:g}/{result.possible:g} in {result.seconds:.1f} s ({how})"
    if missing:
        detail += f"; questions not graded: {', '.join(missing)}"
    for name, q in lost.items():
        detail += f"; {name} {q.score:g}/{q.possible:g}: {_first_line(q.failures)}"
    report.add(label, ok, detail)


def _check_stub(report: Report, result: GradeResult) -> None:
    if result.status != "graded":
        report.add(
            "stub", False, f"the grader did not survive the stub: {result.status}: {result.error}"
        )
        return
    earned = {n: q.score for n, q in result.questions.items() if q.score > 0}
    detail = f"{result.total:g}/{result.possible:g}; grader survived"
    if earned:
        detail += "; points for unimplemented work in " + ", ".join(
            f"{n} ({s:g})" for n, s in earned.items()
        )
    report.add("stub", not earned, detail)


def _check_mutant(
    report: Report, mutant: Mutant, result: GradeResult, questions: list[str]
) -> None:
    label = mutant.label
    if result.status != "graded":
        report.add(label, False, f"{result.status}: {result.error} (a mutant must still run)")
        return
    problems, caught = [], []
    for name in mutant.questions:
        q = result.questions.get(name)
        if q is None:
            problems.append(f"{name} not graded")
        elif q.score >= q.possible:
            problems.append(f"{name} kept all {q.possible:g} points")
        elif mutant.hint.lower() not in q.failures.lower():
            problems.append(
                f"{name} failed without the hint {mutant.hint!r}: {_first_line(q.failures)}"
            )
        elif mutant.hint_id not in hint_ids(q.failures):
            shown = ", ".join(hint_ids(q.failures)) or "none"
            problems.append(
                f"{name} failed without the tag {hint_tag(mutant.hint_id or '?')} (hint_id); "
                f"tags shown: {shown}"
            )
        else:
            caught.append(f"{name} {q.score:g}/{q.possible:g}")
    for name in questions:
        q = result.questions.get(name)
        if name not in mutant.questions and q is not None and q.score < q.possible:
            problems.append(
                f"{name} also lost points ({q.score:g}/{q.possible:g}): one mistake must cost one "
                f"question, or list {name} under questions: {_first_line(q.failures)}"
            )
    detail = (
        "; ".join(problems)
        if problems
        else f"caught: {', '.join(caught)}; hint {mutant.hint!r} shown, {hint_tag(mutant.hint_id)}"
    )
    report.add(label, not problems, detail)


def _check_prose(
    report: Report,
    built: Built,
    reference: nbformat.NotebookNode,
    variants: list,
    run_through: dict[str, Future],
) -> None:
    """What a student who writes only what the prose asks meets (``autograder.prose``)."""
    student = _check_stub_compiles(report, built)
    tests = [
        data.decode("utf-8")
        for name, data in zips.zip_entries(built.autograder_zip).items()
        if name.startswith("tests/") and name.endswith(".py")
    ]
    unasked = unasked_reads(reference, student, tests)
    report.add(
        "given cells",
        not unasked,
        "no given cell reads a name only the reference's answers define"
        if not unasked
        else f"{len(unasked)} read(s) of names no question asks for: {'; '.join(unasked[:3])}",
    )
    prose_only = [v for v in variants if v.prose_only]
    if not prose_only:
        report.add(
            "prose only",
            False,
            "no variant is marked `prose_only: true` (a solution that defines only what the "
            "prose asks for, run through every cell)",
        )
    for variant in prose_only:
        _check_runs_through(report, variant, run_through[variant.name].result())


def _check_stub_compiles(report: Report, built: Built) -> nbformat.NotebookNode:
    student = nbformat.read(built.student_notebook, as_version=4)
    broken = uncompilable_cells(student)
    report.add(
        "stub cells compile",
        not broken,
        f"all {sum(c.cell_type == 'code' for c in student.cells)} code cells of the student "
        "notebook compile"
        if not broken
        else f"{len(broken)} do not: {'; '.join(broken[:3])}",
    )
    return student


def static_checks(built: Built) -> Report:
    """The checks that grade nothing, run on every build even when the committed proof still
    holds (``records``: an edit of the prose alone keeps it): what they read, the student zip
    and notebook, is built anew each time. A second or two, no notebook graded."""
    report = Report(built.assignment.name)
    _check_stub_compiles(report, built)
    _check_leaks(report, built)
    _check_helper_package(report, built)
    return report


def _run_through(
    built: Built, reference: nbformat.NotebookNode, variant, timeout: float
) -> list[CellError]:
    """Run the prose-only ``variant`` through every cell (otter_ignore ones too)."""
    notebook = apply_edits(reference, variant)
    return run_every_cell(
        notebook, built.assignment.notebook_name, built.student_dir / "tests", timeout=timeout
    )


def _check_runs_through(report: Report, variant, errors: list[CellError]) -> None:
    report.add(
        f"{variant.label} runs every cell",
        not errors,
        "Restart & Run All: no cell raised"
        if not errors
        else f"{len(errors)} cell(s) raised: {'; '.join(str(e) for e in errors[:3])}",
    )


def _check_leaks(report: Report, built: Built) -> None:
    public = public_lines(built.master) | _lines_of_tree(HELPER_PACKAGE)
    public |= _lines_of_tree(built.student_dir / "tests")
    hidden_tests = _hidden_test_lines(built.autograder_zip)
    for folder in (built.assignment.grader_only, GRADER_SUPPORT):
        if folder.is_dir():
            hidden_tests |= _lines_of_tree(folder)
    secret = {
        line
        for line in solution_lines(built.master) | hidden_tests
        if line not in TRIVIAL and not line.startswith("#") and len(line) >= 8
    } - public
    leaks = []
    for name, data in sorted(zips.zip_entries(built.student_zip).items()):
        for line in _text_lines(name, data):
            if line in secret:
                leaks.append(f"{name}: {line[:60]}")
    student_hidden = _hidden_test_lines_of(built.student_dir / "tests")
    if student_hidden:
        leaks.append(f"hidden test cases in the student tests: {sorted(student_hidden)[0][:60]}")
    report.add(
        "leaks",
        not leaks,
        f"{len(secret)} solution/hidden-test lines, none in student files"
        if not leaks
        else f"{len(leaks)} leaked, e.g. {leaks[0]}",
    )


def _check_helper_package(report: Report, built: Built) -> None:
    """No helper-package function holds a solution block, however renamed (``leaks``)."""
    found = structural_leaks(built.master, HELPER_PACKAGE)
    report.add(
        "helper package",
        not found,
        "no function of shared/ has the structure of a solution block"
        if not found
        else f"{len(found)} answer(s) in the helper package, e.g. {found[0]}",
    )


def _text_lines(name: str, data: bytes) -> set[str]:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return set()
    if name.endswith(".ipynb"):
        try:
            cells = json.loads(text)["cells"]
            text = "\n".join("".join(c["source"]) for c in cells)
        except (ValueError, KeyError, TypeError):
            pass
    return {line.strip() for line in text.splitlines()}


def _lines_of_tree(folder: Path) -> set[str]:
    lines: set[str] = set()
    for name, data in zips.tree_entries(folder).items():
        lines |= _text_lines(name, data)
    return lines


def _hidden_test_lines(autograder_zip: Path) -> set[str]:
    lines: set[str] = set()
    for name, data in zips.zip_entries(autograder_zip).items():
        if name.startswith("tests/") and name.endswith(".py"):
            lines |= _hidden_cases(data.decode("utf-8"))
    return lines


def _hidden_test_lines_of(folder: Path) -> set[str]:
    lines: set[str] = set()
    for path in sorted(folder.glob("*.py")):
        lines |= _hidden_cases(path.read_text(encoding="utf-8"))
    return lines


def _hidden_cases(source: str) -> set[str]:
    """Stripped source lines of the test functions decorated ``@test_case(..., hidden=True)``."""
    lines: set[str] = set()
    source_lines = source.splitlines()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef) and any(_is_hidden(d) for d in node.decorator_list):
            lines |= {line.strip() for line in source_lines[node.lineno - 1 : node.end_lineno]}
    return lines


def _is_hidden(decorator: ast.expr) -> bool:
    return isinstance(decorator, ast.Call) and any(
        k.arg == "hidden" and isinstance(k.value, ast.Constant) and k.value.value is True
        for k in decorator.keywords
    )


def _first_line(text: str) -> str:
    for line in text.splitlines():
        if "Error" in line or "assert" in line.lower():
            return line.strip()[:160]
    return text.strip().splitlines()[0][:160] if text.strip() else "(no message)"
