"""Verify: every real assignment passes it, and it fails when the tests would miss a mistake."""

from __future__ import annotations

import pytest

from autograder.build import build
from autograder.catalog import all_assignments
from autograder.verify import verify

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("assignment", all_assignments(), ids=lambda a: a.name)
def test_assignment_verifies(assignment, tmp_path):
    report = verify(build(assignment, tmp_path / "build"), seeds=3, progress=False)
    print(report.table())
    assert report.ok, report.table()


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
        "leaks",
    ]
    assert report.results["stub"].total == 0
    assert "is 0 a step up" in report.results["mutant strict_inequality"].questions["q1"].failures


def test_a_mutant_the_tests_miss_fails_verification(tiny, tmp_path):
    (tiny.mutants).write_text(
        "- name: harmless\n  mistake: a change no test can see\n"
        "  find: 'return 2 * x'\n  replace: 'return x + x'\n  questions: [q2]\n  hint: twice\n"
        "- name: wrong_hint\n  mistake: caught, but the message does not say why\n"
        "  find: 'return (np.asarray(x) >= 0).astype(float)'\n"
        "  replace: 'return (np.asarray(x) > 0).astype(float)'\n  questions: [q1]\n"
        "  hint: 'forgot the bias'\n"
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
