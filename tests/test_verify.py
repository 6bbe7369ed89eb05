"""Verify: every real assignment passes it, and it fails when the tests would miss a mistake."""

from __future__ import annotations

import pytest

from autograder.build import build
from autograder.catalog import all_assignments, resolve
from autograder.records import inputs_digest, question_scores, read_record
from autograder.verify import verify

pytestmark = pytest.mark.slow
EQUIVALENCE = "03_conv_output_sizes"  # the cheapest whole catalogue, also graded in full


@pytest.mark.parametrize("assignment", all_assignments(), ids=lambda a: a.name)
def test_assignment_verifies_and_its_committed_record_holds(assignment, tmp_path):
    """Once per CI run, from scratch (never trusting the record), with grading.yml's seeds."""
    report = verify(build(assignment, tmp_path / "build"), progress=False)
    print(report.table())
    assert report.ok, report.table()
    record = read_record(assignment)
    fix = f"run `python -m autograder verify {assignment.name} --force` and commit the record"
    assert record is not None, f"assignments/{assignment.name}/verified.json is missing: {fix}"
    assert record["inputs_sha256"] == inputs_digest(assignment), f"the record is stale: {fix}"
    seen = {label: question_scores(result) for label, result in report.results.items()}
    assert record["scores"] == seen, f"the record's scores differ from this proof: {fix}"


def test_the_fast_path_gives_the_scores_of_full_gradings(tmp_path):
    """Every mutant and variant of one whole catalogue, graded in full, scores per question
    exactly what the fast path recorded (the record is checked against a fresh proof above)."""
    (assignment,) = resolve([EQUIVALENCE])
    record = read_record(assignment)
    assert record is not None and record["inputs_sha256"] == inputs_digest(assignment)
    report = verify(build(assignment, tmp_path / "build"), seeds=1, fast=False, progress=False)
    edits = [label for label in report.results if label.startswith(("mutant", "variant"))]
    assert len(edits) >= 20
    for label in edits:
        assert question_scores(report.results[label]) == record["scores"][label], label


def test_tiny_assignment_verifies_and_reports_each_check(tiny, tmp_path):
    built = build(tiny, tmp_path / "build")
    report = verify(built, seeds=2, check_fresh=False, progress=False)
    assert report.ok, report.table()
    checks = [row.check for row in report.rows]
    assert checks == [
        "reference (seed 42)",
        "variant where_not_astype (seed 42)",
        "variant two_edits_sum (seed 42)",
        "reference (seed 1042)",
        "variant where_not_astype (seed 1042)",
        "variant two_edits_sum (seed 1042)",
        "stub",
        "mutant strict_inequality",
        "stub cells compile",
        "given cells",
        "variant where_not_astype runs every cell",
        "leaks",
        "helper package",
    ]
    assert report.results["stub"].total == 0
    assert "is 0 a step up" in report.results["mutant strict_inequality"].questions["q1"].failures


def test_variants_under_the_first_variant_seeds_and_references_as_fast_roots(tiny, tmp_path):
    """``variant_seeds: 1`` grades the variants under the first seed only; the reference under
    every later seed is the root of that seed's fast tree, and still a row of the table."""
    (tiny.source_dir / "grading.yml").write_text("verify_seeds: 3\nvariant_seeds: 1\n")
    report = verify(build(tiny, tmp_path / "build"), check_fresh=False, progress=False)
    assert report.ok, report.table()
    graded = [label for label in report.results if label != "stub"]
    assert graded == [
        "reference (seed 42)",
        "variant where_not_astype (seed 42)",
        "variant two_edits_sum (seed 42)",
        "reference (seed 1042)",
        "reference (seed 2042)",
        "mutant strict_inequality",
    ]
    assert not report.results["reference (seed 42)"].fast
    assert report.results["reference (seed 1042)"].fast
    assert report.results["reference (seed 2042)"].fast


def test_a_reference_the_fast_path_fails_is_graded_in_full(tiny, tmp_path, monkeypatch):
    """A later seed's reference that falls short on the fast path is not reported from it: it
    and its seed's edits are graded in full, through the guard."""
    _fast_path_loses(monkeypatch, "reference", under="seed-1042")
    report = verify(build(tiny, tmp_path / "build"), seeds=2, check_fresh=False, progress=False)
    assert report.ok, report.table()
    assert not report.results["reference (seed 1042)"].fast
    assert not report.results["variant where_not_astype (seed 1042)"].fast
    assert report.results["variant where_not_astype (seed 42)"].fast


def test_a_mutant_the_tests_miss_fails_verification(tiny, tmp_path):
    (tiny.mutants).write_text(
        "- name: harmless\n  mistake: a change no test can see\n"
        "  find: 'return 2 * x'\n  replace: 'return x + x'\n  questions: [q2]\n  hint: twice\n"
        "  hint_id: tiny.twice\n"
        "- name: wrong_hint\n  mistake: caught, but the message does not say why\n"
        "  find: 'return (np.asarray(x) >= 0).astype(float)'\n"
        "  replace: 'return (np.asarray(x) > 0).astype(float)'\n  questions: [q1]\n"
        "  hint: 'forgot the bias'\n  hint_id: tiny.bias\n"
    )
    report = verify(build(tiny, tmp_path / "build"), seeds=1, check_fresh=False, progress=False)
    rows = {row.check: row for row in report.rows}
    assert not report.ok
    assert not rows["mutant harmless"].ok and "kept all 1 points" in rows["mutant harmless"].detail
    assert not rows["mutant wrong_hint"].ok
    assert "without the hint 'forgot the bias'" in rows["mutant wrong_hint"].detail


def test_a_leaked_solution_or_hidden_test_fails_verification(tiny, tmp_path):
    from autograder import zips
    from autograder.verify import Report, _check_leaks

    built = build(tiny, tmp_path / "build")
    clean = Report("00_tiny")
    _check_leaks(clean, built)
    assert clean.ok, clean.table()

    original = zips.zip_entries(built.student_zip)
    entries = dict(original)
    entries["00_tiny/notes.py"] = b"    return (np.asarray(x) >= 0).astype(float)\n"
    zips.write_zip(built.student_zip, entries)
    leaked = Report("00_tiny")
    _check_leaks(leaked, built)
    assert (
        not leaked.ok and "00_tiny/notes.py: return (np.asarray(x) >= 0)" in leaked.rows[0].detail
    )

    zips.write_zip(built.student_zip, original)
    hidden = built.student_dir / "tests" / "q1.py"
    hidden.write_text(
        hidden.read_text() + "\n@test_case(points=None, hidden=True)\n"
        "def test_secret(step):\n    assert step(0) == 1\n"
    )
    with_hidden = Report("00_tiny")
    _check_leaks(with_hidden, built)
    assert not with_hidden.ok and "hidden test" in with_hidden.rows[0].detail


def test_what_the_fast_path_cannot_finish_is_graded_in_full(tiny, tmp_path, monkeypatch):
    _fast_path_loses(monkeypatch, "mutant strict_inequality")
    report = verify(build(tiny, tmp_path / "build"), seeds=1, check_fresh=False, progress=False)
    assert report.ok, report.table()
    assert not report.results["mutant strict_inequality"].fast
    assert report.results["variant where_not_astype (seed 42)"].fast


def _fast_path_loses(monkeypatch, label: str, *, under: str = "") -> None:
    """The fast path does not finish ``label`` in the trees whose autograder zip's path holds
    ``under`` (every tree by default), as a child that timed out."""
    from autograder import verify as verify_module
    from autograder.grading.runner import GradeResult

    real_fast_grade = verify_module.fast_grade

    def losing(*args, **kwargs):
        results = real_fast_grade(*args, **kwargs)
        if under in str(args[0]):
            results[label] = GradeResult(None, "timeout", 1.0, error="lost")
        return results

    monkeypatch.setattr(verify_module, "fast_grade", losing)
