"""``python -m autograder``: build, verify, grade and bench the assignments."""

from __future__ import annotations

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
def build(
    assignments: tuple[str, ...],
    verify: bool,
    seeds: int | None,
    jobs: int | None,
    timeout: float | None,
) -> None:
    """Build the student notebook, public tests and zips of ASSIGNMENTS.

    Writes assignments/NAME/ (commit it) and dist/NAME-student.zip and dist/NAME-autograder.zip
    (upload the latter to Gradescope). Zips are reproducible: same sources, same bytes.
    """
    from .build import build as build_one
    from .build import publish
    from .verify import verify as verify_one

    failed = []
    for assignment in resolve(assignments):
        staging = _staging(assignment)
        try:
            built = build_one(assignment, staging)
            if verify:
                report = verify_one(
                    built, seeds=seeds, check_fresh=False, jobs=jobs, timeout=timeout
                )
                click.echo(report.table())
                if not report.ok:
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
def verify(
    assignments: tuple[str, ...], seeds: int | None, jobs: int | None, timeout: float | None
) -> None:
    """Prove ASSIGNMENTS' tests right: reference 100%, stub 0, every mutant caught, no leaks.

    Also fails when assignments/NAME/ is stale. Writes nothing.
    """
    from .build import build as build_one
    from .verify import verify as verify_one

    failed = []
    for assignment in resolve(assignments):
        staging = _staging(assignment)
        try:
            report = verify_one(
                build_one(assignment, staging), seeds=seeds, jobs=jobs, timeout=timeout
            )
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        click.echo(report.table())
        if not report.ok:
            failed.append(assignment.name)
    if failed:
        raise UserError(f"verification failed for {', '.join(failed)}")


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
@click.option("--force", is_flag=True, help="Grade again submissions already in the gradebook.")
@click.option("--progress/--no-progress", default=True, help="Show a progress bar.")
@_jobs_option
@_timeout_option
def grade(
    assignment: str,
    submissions: tuple[Path, ...],
    out: Path | None,
    autograder: Path | None,
    force: bool,
    progress: bool,
    jobs: int | None,
    timeout: float,
) -> None:
    """Grade SUBMISSIONS (notebooks, zips, or folders of them) for ASSIGNMENT, in parallel.

    Writes OUT/gradebook.csv (one row per submission, written atomically), OUT/feedback/ID.txt
    and OUT/results/ID.json (Gradescope's format). A broken submission gets an error row and the
    batch goes on; re-running skips what is already graded unless --force.
    """
    from .build import build as build_one
    from .grade import grade_batch
    from .master import read_master

    (chosen,) = resolve([assignment])
    out = out or Path("gradebook") / chosen.name
    staging = None
    try:
        if autograder is None:
            autograder = chosen.autograder_zip
            if not autograder.is_file():
                click.echo(
                    f"{_relative(autograder)} not found: building it (not verified; "
                    "run `make dist` for a verified build)",
                    err=True,
                )
                staging = _staging(chosen)
                autograder = build_one(chosen, staging).autograder_zip
        questions = read_master(chosen).question_names
        timeout = timeout or chosen.settings.submission_timeout
        rows = grade_batch(
            chosen,
            autograder,
            list(submissions),
            out,
            questions=questions,
            jobs=jobs,
            timeout=timeout,
            force=force,
            progress=progress,
        )
    finally:
        if staging:
            shutil.rmtree(staging, ignore_errors=True)
    graded = [r for r in rows.values() if r.get("status") == "graded"]
    errors = len(rows) - len(graded)
    mean = sum(float(r["percent"]) for r in graded) / len(graded) if graded else 0.0
    click.echo(
        f"{len(rows)} submissions: {len(graded)} graded (mean {mean:.1f}%), {errors} not "
        f"gradable; gradebook: {_relative(out / 'gradebook.csv')}"
    )
    if errors:
        first = next(r for r in rows.values() if r.get("status") != "graded")
        raise UserError(
            f"{errors} submission(s) could not be graded (e.g. {first['submission']}: "
            f"{first['error']}); each has an error row and feedback in {_relative(out)}"
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
@_timeout_option
def bench(
    assignments: tuple[str, ...], repeat: int, guard_overhead: bool, timeout: float | None
) -> None:
    """Time ASSIGNMENTS: plain execution of the reference, its grading, and grader.check."""
    from .bench import bench as bench_one
    from .bench import table
    from .build import build as build_one

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


def _relative(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _machine() -> str:
    import os
    import platform

    return f"{platform.machine()}, {os.cpu_count()} cores, Python {sys.version.split()[0]}"
