"""``python -m autograder``: build, verify, grade and bench the assignments."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

import click

from .catalog import Assignment, resolve
from .errors import UserError


def _staging(assignment: Assignment) -> Path:
    return Path(tempfile.mkdtemp(prefix=f"build-{assignment.name}-"))


def _jobs_option(function):
    return click.option(
        "--jobs",
        "-j",
        type=click.IntRange(min=1),
        default=None,
        help="Notebooks graded at once (default: one per CPU core).",
    )(function)


def _timeout_option(function):
    return click.option(
        "--timeout",
        type=click.FloatRange(min=1),
        default=None,
        help="Seconds one submission may take to grade, in all [default: submission_timeout in "
        "the assignment's grading.yml, else 600].",
    )(function)


def _proof_options(function):
    function = click.option(
        "--force",
        is_flag=True,
        help="Re-prove even when assignments/NAME/verified.json matches the inputs.",
    )(function)
    return click.option(
        "--full",
        is_flag=True,
        help="Grade mutants and variants in full too (slow), not through the forked fast path.",
    )(function)


def _prove(assignment, built, *, force, full, seeds, jobs, timeout, check_fresh) -> bool:
    """Verify ``built`` unless its committed record matches; write the record on success."""
    from .build import stale_files
    from .records import make_record, matching_record, write_record
    from .verify import static_checks
    from .verify import verify as verify_one

    record = None if force else matching_record(assignment)
    if record is not None:
        stale = stale_files(built) if check_fresh else []
        if stale:
            click.echo(f"{assignment.name}: assignments/ is stale ({', '.join(stale[:3])})")
            return False
        static = static_checks(built)  # what the prose, which the record leaves out, can break
        if not static.ok:
            click.echo(static.table())
            return False
        click.echo(
            f"{assignment.name}: verified record matches its inputs "
            f"(sha256 {record['inputs_sha256'][:12]}, {record['checks']} checks); "
            "not re-graded (--force re-proves)"
        )
        return True
    report = verify_one(
        built, seeds=seeds, check_fresh=check_fresh, jobs=jobs, timeout=timeout, fast=not full
    )
    click.echo(report.table())
    if report.ok:
        write_record(assignment, make_record(assignment, report))
    return report.ok


def _prove_some(built, only, *, full, seeds, jobs, timeout) -> bool:
    """Verify the named catalogue entries only (and the reference they are edits of)."""
    from .verify import verify as verify_one

    report = verify_one(
        built,
        seeds=seeds,
        check_fresh=False,
        jobs=jobs,
        timeout=timeout,
        fast=not full,
        only=set(only),
    )
    click.echo(report.table())
    click.echo("(--only: a partial proof; no record written)")
    return report.ok


@click.group()
@click.version_option(package_name="dl-assignments")
def main() -> None:
    """Build, verify, grade and benchmark the course's auto-graded assignments.

    ASSIGNMENT names a folder under solutions/ (``01_perceptron_xor``, or just ``01``); commands
    that take several act on all of them when none is named.
    """


@main.command()
@click.argument("assignments", nargs=-1)
@click.option(
    "--verify/--no-verify",
    default=True,
    show_default=True,
    help="Verify before writing anything; a failing assignment is not written.",
)
@click.option(
    "--seeds",
    type=click.IntRange(min=1),
    default=None,
    help="Seeds under which the reference must score 100% [default: verify_seeds in the "
    "assignment's grading.yml, else 3].",
)
@_jobs_option
@_timeout_option
@_proof_options
def build(
    assignments: tuple[str, ...],
    verify: bool,
    seeds: int | None,
    jobs: int | None,
    timeout: float | None,
    force: bool,
    full: bool,
) -> None:
    """Build the student notebook, public tests and zips of ASSIGNMENTS.

    Writes assignments/NAME/ (commit it) and dist/NAME-student.zip and dist/NAME-autograder.zip
    (upload the latter to Gradescope). Zips are reproducible: same sources, same bytes.
    """
    from .build import build as build_one
    from .build import publish

    failed = []
    for assignment in resolve(assignments):
        staging = _staging(assignment)
        try:
            built = build_one(assignment, staging)
            if verify:
                ok = _prove(
                    assignment,
                    built,
                    force=force,
                    full=full,
                    seeds=seeds,
                    jobs=jobs,
                    timeout=timeout,
                    check_fresh=False,
                )
                if not ok:
                    failed.append(assignment.name)
                    continue
            publish(built)
            click.echo(
                f"built {assignment.name}: {_relative(assignment.student_zip)}, "
                f"{_relative(assignment.autograder_zip)}, {_relative(assignment.student_dir)}/"
            )
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    if failed:
        raise UserError(f"verification failed for {', '.join(failed)}: nothing written for it")


@main.command()
@click.argument("assignments", nargs=-1)
@click.option(
    "--seeds",
    type=click.IntRange(min=1),
    default=None,
    help="Seeds under which the reference must score 100% [default: verify_seeds in the "
    "assignment's grading.yml, else 3].",
)
@_jobs_option
@_timeout_option
@_proof_options
@click.option(
    "--only",
    "only",
    multiple=True,
    metavar="NAME",
    help="Prove only these mutants and variants (by name; repeatable), beside the reference: "
    "to iterate on a catalogue entry. Writes no record.",
)
def verify(
    assignments: tuple[str, ...],
    seeds: int | None,
    jobs: int | None,
    timeout: float | None,
    force: bool,
    full: bool,
    only: tuple[str, ...],
) -> None:
    """Prove ASSIGNMENTS' tests right: reference 100%, stub 0, every mutant caught, every
    variant 100%, no leaks.

    Also fails when assignments/NAME/ is stale. An assignment whose committed record
    (assignments/NAME/verified.json) matches its inputs is not re-graded unless --force; a
    successful proof writes that record (commit it).
    """
    from .build import build as build_one

    failed = []
    for assignment in resolve(assignments):
        staging = _staging(assignment)
        try:
            built = build_one(assignment, staging)
            if only:
                ok = _prove_some(built, only, full=full, seeds=seeds, jobs=jobs, timeout=timeout)
            else:
                ok = _prove(
                    assignment,
                    built,
                    force=force,
                    full=full,
                    seeds=seeds,
                    jobs=jobs,
                    timeout=timeout,
                    check_fresh=True,
                )
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        if not ok:
            failed.append(assignment.name)
    if failed:
        raise UserError(f"verification failed for {', '.join(failed)}")


class _Refused(UserError):
    """A mistake in the grade command itself (the wrong autograder zip, an export still zipped,
    an unreadable roster): nothing is graded, and the exit status is 2, not 1."""

    exit_code = 2


@main.command()
@click.argument("assignment")
@click.argument(
    "submissions", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path)
)
@click.option(
    "--out",
    "-o",
    type=click.Path(path_type=Path),
    default=None,
    help="Folder for gradebook.csv, feedback/ and results/ [default: gradebook/ASSIGNMENT].",
)
@click.option(
    "--autograder",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Autograder zip to use [default: dist/ASSIGNMENT-autograder.zip].",
)
@click.option(
    "--roster",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="CSV of who submitted each file (columns file, name, sid, email, canvas_id), or "
    "Canvas's gradebook export, for files graded without a Gradescope export; Canvas's "
    "'Download Submissions' file names are matched by their Canvas user id.",
)
@click.option(
    "--force", is_flag=True, help="Grade again submissions graded before by the same autograder."
)
@click.option("--progress/--no-progress", default=True, help="Show a progress bar.")
@click.option(
    "--canvas-assignment",
    default=None,
    help="Assignment column of OUT/canvas_import.csv: a Canvas assignment's title, or "
    "'Title (id)' as Canvas's gradebook export names it [default: ASSIGNMENT].",
)
@_jobs_option
@_timeout_option
def grade(
    assignment: str,
    submissions: tuple[Path, ...],
    out: Path | None,
    autograder: Path | None,
    roster: Path | None,
    force: bool,
    progress: bool,
    canvas_assignment: str | None,
    jobs: int | None,
    timeout: float,
) -> None:
    """Grade SUBMISSIONS (notebooks, zips, folders of them, or a Gradescope export folder) for
    ASSIGNMENT, in parallel.

    Writes OUT/gradebook.csv (one row per student, or per submission where the students are
    unknown; written atomically), OUT/feedback/ID.txt (for the student: hidden tests as their
    outcome only), OUT/instructor/ID.txt (every message, and the grading log of what could not be
    graded), OUT/results/ID.json (Otter's results), OUT/executed/STEM.ipynb (the notebook with
    the outputs grading produced) and OUT/canvas_import.csv (Canvas's gradebook import);
    OUT/work/ is scratch. A broken submission gets a row with an empty score and the reason, and
    the batch goes on. A re-run skips a submission only when it and the autograder zip are both
    unchanged (--force grades it anyway); rows of submissions no longer given are marked removed.

    Exit status: 0 when every submission was graded, 1 when some could not be (their rows say
    why), 2 when nothing was graded because the command is wrong (the message says what to fix).
    """
    from .build import build as build_one
    from .grade import GRADEBOOK, REMOVED, BatchError, grade_batch, read_gradebook
    from .gradebook_formats import CANVAS_IMPORT, ExportError, RosterError, read_roster
    from .master import read_master

    (chosen,) = resolve([assignment])
    out = out or Path("gradebook") / chosen.name
    staging = None
    try:
        people = read_roster(roster) if roster else None
        if autograder is None:
            autograder = chosen.autograder_zip
            staging = _staging(chosen)
            fresh = build_one(chosen, staging).autograder_zip
            if not autograder.is_file():
                click.echo(
                    f"{_relative(autograder)} not found: building it (not verified; "
                    "run `make dist` for a verified build)",
                    err=True,
                )
                autograder = fresh
            elif autograder.read_bytes() != fresh.read_bytes():  # builds are reproducible
                raise _Refused(
                    f"{_relative(autograder)} is older than solutions/{chosen.name}/ (a build "
                    f"of the sources today differs from it): run `python -m autograder build "
                    f"{chosen.name}`, or pass --autograder to grade with that zip anyway"
                )
        questions = read_master(chosen).question_names
        timeout = timeout or chosen.settings.submission_timeout
        batch = grade_batch(
            chosen,
            autograder,
            list(submissions),
            out,
            questions=questions,
            jobs=jobs,
            timeout=timeout,
            force=force,
            progress=progress,
            canvas_assignment=canvas_assignment,
            roster=people,
        )
    except (BatchError, ExportError, RosterError) as exc:
        raise _Refused(str(exc)) from exc
    finally:
        if staging:
            shutil.rmtree(staging, ignore_errors=True)
    rows = {k: r for k, r in batch.rows.items() if r.get("status") != REMOVED}
    graded = [r for r in rows.values() if r.get("status") == "graded"]
    errors = len(rows) - len(graded)
    mean = sum(float(r["percent"]) for r in graded) / len(graded) if graded else 0.0
    possible = graded[0]["possible"] if graded else "?"
    click.echo(
        f"{len(rows)} submissions: {len(graded)} graded out of {possible} (mean {mean:.1f}%), "
        f"{errors} not gradable; gradebook: {_relative(out / GRADEBOOK)}"
    )
    for line in batch.summary():
        click.echo(f"  {line}")
    for folder in batch.unlisted:
        click.echo(
            f"  not graded: {_relative(folder)}/ is not listed in its export's "
            "submission_metadata.yml (export again, or grade it as a folder of its own)",
            err=True,
        )
    if batch.unmatched:
        click.echo(
            f"  {len(batch.unmatched)} submission(s) not in the roster (e.g. "
            f"{batch.unmatched[0]}): no student for them",
            err=True,
        )
    if batch.absent:
        names = ", ".join(s.name or s.sid or s.email or s.canvas_id for s in batch.absent[:5])
        click.echo(f"  {len(batch.absent)} student(s) of the roster have no submission: {names}")
    _, students = read_gradebook(out / GRADEBOOK)
    if students:
        click.echo(f"{sum(map(len, students.values()))} students in {len(students)} submissions")
    click.echo(
        f"For students: {_relative(out / 'feedback')}/ID.txt (hidden tests' details left out). "
        f"Not for students: {_relative(out / 'instructor')}/, {_relative(out / 'results')}/ and "
        f"{_relative(out / 'executed')}/ (graded notebooks with their outputs)."
    )
    click.echo(f"Canvas gradebook import: {_relative(out / CANVAS_IMPORT)}")
    unknown = sorted(set(rows) - set(students))
    if unknown:
        click.echo(
            f"  {len(unknown)} submission(s) have no student name, email or ID (graded from "
            f"files, not from a Gradescope export folder; e.g. {unknown[0]}): their Canvas rows "
            "carry the submission's name as Student and no ID, SIS User ID or SIS Login ID, so "
            "Canvas finds a student only where that is the student's name in Canvas. Grade "
            "Gradescope's export folder (with its submission_metadata.yml), or pass --roster, "
            "to fill them in.",
            err=True,
        )
    if errors:
        first = next(r for r in rows.values() if r.get("status") != "graded")
        raise UserError(
            f"{errors} submission(s) could not be graded (e.g. {first['submission']}: "
            f"{first['error']}); each has a row with an empty score and its status, and its "
            f"reason in {_relative(out / 'feedback')}/ and {_relative(out / 'instructor')}/"
        )


@main.command()
@click.argument("assignments", nargs=-1)
@click.option(
    "--repeat",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Runs per figure; the median is printed.",
)
@click.option(
    "--guard-overhead",
    is_flag=True,
    help="Also grade without the grading guard and print what the guard costs.",
)
@click.option(
    "--kit",
    is_flag=True,
    help="Instead, time the kit: one full grading of a tiny notebook (warm and cold), build "
    "with a matching record (make dist), a forced verify.",
)
@click.option("--tests", "test_files", is_flag=True, help="With --kit: also time each test file.")
@click.option(
    "--gradescope",
    is_flag=True,
    help="Instead, grade each reference as Gradescope does, under half a CPU and 768 MB, and "
    "print its score, time, CPU time and peak memory.",
)
@click.option(
    "--memory",
    "memory_mb",
    type=click.IntRange(min=64),
    default=None,
    help="With --gradescope: the memory limit in MB [default: Gradescope's 768], to find what "
    "an assignment needs.",
)
@click.option(
    "--figures",
    is_flag=True,
    help="Instead, run each reference under every verify seed and print its experiment's "
    "figures (solutions/NAME/figures.yml) and how long its graded cells take.",
)
@click.option(
    "--seeds",
    type=click.IntRange(min=1),
    default=None,
    help="With --figures: how many seeds [default: verify_seeds in grading.yml].",
)
@_jobs_option
@_timeout_option
def bench(
    assignments: tuple[str, ...],
    repeat: int,
    guard_overhead: bool,
    kit: bool,
    test_files: bool,
    gradescope: bool,
    memory_mb: int | None,
    figures: bool,
    seeds: int | None,
    jobs: int | None,
    timeout: float | None,
) -> None:
    """Time ASSIGNMENTS: plain execution of the reference, its grading, and grader.check.

    With --kit: the fixed cost of one full grading (the tiny fixture, worker warm and cold), the
    wall time of `make dist` per assignment when its record matches, of a forced `verify`, and
    (with --tests) of each test file. With --figures: the experiments'
    numbers under every verify seed, and the time of the graded training.
    """
    from .bench import bench as bench_one
    from .bench import table
    from .build import build as build_one

    if gradescope:
        _bench_gradescope(resolve(assignments), memory_mb=memory_mb)
        return
    if figures:
        _bench_figures(resolve(assignments), seeds=seeds, jobs=jobs, timeout=timeout)
        return
    if kit:
        from .kitbench import bench_kit, fixed_cost, kit_table, test_file_seconds

        click.echo(f"on {_machine()}")
        cost = fixed_cost()
        click.echo(
            "one full grading of the tiny fixture (median of 5): "
            f"{cost['warm']:.2f} s with the worker forked warm, {cost['cold']:.2f} s cold"
        )
        kit_figures = [bench_kit(a) for a in resolve(assignments)]
        click.echo(kit_table(kit_figures))
        if test_files:
            for name, seconds in test_file_seconds().items():
                click.echo(f"{name:<40}{seconds:8.1f}s")
        return

    figures = []
    for assignment in resolve(assignments):
        staging = _staging(assignment)
        try:
            built = build_one(assignment, staging)
            figures.append(
                bench_one(built, timeout=timeout, repeat=repeat, guard_overhead=guard_overhead)
            )
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    click.echo(f"on {_machine()}")
    click.echo(table(figures))


def _bench_figures(
    assignments: list[Assignment], *, seeds: int | None, jobs: int | None, timeout: float | None
) -> None:
    from .build import build as build_one
    from .figures import run_seeds
    from .figures import table as figures_table
    from .verify import verify_seeds

    click.echo(f"on {_machine()}")
    for assignment in assignments:
        staging = _staging(assignment)
        try:
            built = build_one(assignment, staging)
            runs = run_seeds(
                built,
                verify_seeds(built, seeds or assignment.settings.verify_seeds),
                jobs=jobs or os.cpu_count() or 1,
                timeout=timeout or assignment.settings.submission_timeout,
            )
            click.echo(figures_table(assignment.name, runs))
        finally:
            shutil.rmtree(staging, ignore_errors=True)


@main.command()
@click.argument("assignment")
@click.argument(
    "gradebook", required=False, type=click.Path(exists=True, file_okay=False, path_type=Path)
)
@click.option(
    "--out",
    "-o",
    type=click.Path(path_type=Path),
    default=None,
    help="Folder for report.html and the report-*.csv tables [default: GRADEBOOK/report].",
)
@click.option("--names", is_flag=True, help="Show submission identifiers (hidden by default).")
def report(assignment: str, gradebook: Path | None, out: Path | None, names: bool) -> None:
    """Write a class report of ASSIGNMENT's grading: what the class got wrong, at a glance.

    GRADEBOOK is a folder `grade` wrote [default: gradebook/ASSIGNMENT] or a folder of
    Gradescope results.json files. Writes OUT/report.html (self-contained: opens offline) and
    the same tables as OUT/report-*.csv. Identifiers of submissions appear only with --names.
    """
    from .master import read_master
    from .mutants import load_mutants
    from .report import build_report

    (chosen,) = resolve([assignment])
    folder = gradebook or Path("gradebook") / chosen.name  # grade's default --out
    if not folder.is_dir():
        raise UserError(
            f"{_relative(folder)} not found: grade first (python -m autograder grade "
            f"{chosen.name} SUBMISSIONS), or name the folder of results"
        )
    master = read_master(chosen)
    built = build_report(
        chosen.name,
        folder,
        out or folder / "report",
        load_mutants(master),
        master.question_names,
        names=names,
    )
    if not built.submissions:
        raise UserError(f"{_relative(folder)} holds no gradebook.csv and no results .json files")
    page = (out or folder / "report") / "report.html"
    click.echo(
        f"{len(built.submissions)} submissions ({len(built.graded)} graded) in "
        f"{built.seconds:.2f} s: {_relative(page)} and report-*.csv beside it"
    )


@main.command()
@click.argument("assignment")
@click.argument(
    "submissions", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path)
)
@click.option(
    "--out",
    "-o",
    type=click.Path(path_type=Path),
    default=None,
    help="Folder for similar.html, pairs.csv and answers/ [default: gradebook/ASSIGNMENT/similar].",
)
@click.option(
    "--top", type=click.IntRange(min=0), default=10, show_default=True, help="Pairs printed here."
)
@click.option(
    "--shown",
    type=click.IntRange(min=1),
    default=25,
    show_default=True,
    help="Pairs shown side by side in similar.html.",
)
@click.option(
    "--noise",
    type=click.IntRange(min=5),
    default=25,
    show_default=True,
    help="Shortest match that counts, in characters of code with names, strings and comments "
    "normalised (copydetect's noise threshold).",
)
def similar(
    assignment: str,
    submissions: tuple[Path, ...],
    out: Path | None,
    top: int,
    shown: int,
    noise: int,
) -> None:
    """Rank the pairs of SUBMISSIONS of ASSIGNMENT by the answer code they share, the shared
    lines side by side.

    SUBMISSIONS are what `grade` takes (notebooks, zips, folders of them, a Gradescope export
    folder). Only answer cells count, and the student stub's own code never matches. Writes
    OUT/similar.html (the most similar pairs, side by side), OUT/pairs.csv (every pair) and
    OUT/answers/ID.py (each submission's answer code, as compared). Similar is not copied:
    read the code.
    """
    import time

    from .gradebook_formats import ExportError
    from .master import read_master
    from .similar import PAIRS_CSV, find_similar, summary, write_report

    try:
        import copydetect  # noqa: F401
    except ImportError as exc:
        raise UserError(
            "copydetect is not installed: run `make venv` (or pip install -e .)"
        ) from exc
    (chosen,) = resolve([assignment])
    stub = chosen.student_dir / chosen.notebook_name
    if not stub.is_file():
        raise UserError(f"{_relative(stub)} not found: build {chosen.name} first")
    out = out or Path("gradebook") / chosen.name / "similar"
    started = time.perf_counter()
    try:
        batch = find_similar(
            chosen,
            list(submissions),
            read_master(chosen).question_names,
            noise=noise,
            shown=shown,
        )
    except ExportError as exc:
        raise UserError(str(exc)) from exc
    page = write_report(batch, out, shown=shown)
    click.echo(
        f"{len(batch.answers)} submissions compared ({len(batch.pairs)} pairs) in "
        f"{time.perf_counter() - started:.1f} s; most similar first:"
    )
    for line in summary(batch, top):
        click.echo(line)
    click.echo(f"Side by side: {_relative(page)}; every pair: {_relative(out / PAIRS_CSV)}")
    if batch.skipped:
        name, why = batch.skipped[0]
        click.echo(
            f"{len(batch.skipped)} submission(s) not compared (e.g. {name}: {why}); listed in "
            f"{_relative(page)}",
            err=True,
        )


# Below this share of the memory limit left at the reference's peak, a student's notebook
# that holds a little more (a kept history, a larger batch) risks being killed mid-grading.
HEADROOM_WARNING = 0.15


def _bench_gradescope(chosen: list[Assignment], *, memory_mb: int | None = None) -> None:
    from .build import build as build_one
    from .gradescope_sim import GRADESCOPE_CPUS, GRADESCOPE_MEMORY_MB, simulate

    limit = memory_mb or GRADESCOPE_MEMORY_MB
    click.echo(f"on {_machine()}; limits: {GRADESCOPE_CPUS} CPU, {limit} MB")
    click.echo(
        f"{'assignment':<24}{'score':>12}{'wall':>9}{'cpu':>9}{'peak':>10}{'headroom':>16}  limited"
    )
    thin = []
    for assignment in chosen:
        staging = _staging(assignment)
        try:
            built = build_one(assignment, staging)
            run = simulate(built.autograder_zip, built.solution_notebook, memory_mb=limit)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        score = f"{run.score:g}/{run.possible:g}" if run.score is not None else "no result"
        cpu = f"{run.cpu_seconds:8.1f}s" if run.cpu_seconds is not None else f"{'-':>9}"
        peak = f"{run.peak_mb:7.0f} MB" if run.peak_mb is not None else f"{'-':>10}"
        headroom = f"{'-':>16}"
        if run.peak_mb is not None:
            left = limit - run.peak_mb
            headroom = f"{left:7.0f} MB ({left / limit:3.0%})"
            if left < HEADROOM_WARNING * limit:
                thin.append(assignment.name)
        click.echo(
            f"{assignment.name:<24}{score:>12}{run.seconds:8.1f}s{cpu}{peak}{headroom:>16}"
            f"  {run.limited}"
        )
    if thin:
        click.echo(
            f"warning: {', '.join(thin)} left less than {HEADROOM_WARNING:.0%} of the {limit} MB "
            "at the reference's peak; a notebook that holds a little more may be killed. Give "
            "the assignment more memory in Gradescope's autograder settings, or find what it "
            "needs with --memory."
        )


def _relative(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _machine() -> str:
    import os
    import platform

    return f"{platform.machine()}, {os.cpu_count()} cores, Python {sys.version.split()[0]}"
