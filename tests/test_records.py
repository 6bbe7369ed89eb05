"""Verification records: `make dist` re-proves only what changed, and says so."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from autograder.cli import main
from autograder.records import inputs_digest, matching_record, record_path


def run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_build_records_its_proof_then_skips_an_unchanged_assignment(tiny):
    first = run("build", "00_tiny", "--seeds", "1")
    assert first.exit_code == 0, first.output
    assert "checks passed" in first.output
    record = json.loads(record_path(tiny).read_text())
    assert record["inputs_sha256"] == inputs_digest(tiny)
    assert record["scores"]["reference (seed 42)"] == {"q1": "2/2", "q2": "1/1"}
    assert record["scores"]["mutant strict_inequality"]["q1"] != "2/2"

    again = run("build", "00_tiny", "--seeds", "1")
    assert again.exit_code == 0, again.output
    assert "verified record matches its inputs" in again.output
    assert "checks passed" not in again.output  # nothing was graded
    assert matching_record(tiny) is not None  # publishing kept the record

    forced = run("verify", "00_tiny", "--seeds", "1", "--force")
    assert forced.exit_code == 0, forced.output
    assert "checks passed" in forced.output


def test_a_changed_input_makes_the_record_stale(tiny):
    assert run("build", "00_tiny", "--seeds", "1").exit_code == 0
    before = inputs_digest(tiny)
    catalogue = tiny.mutants.read_text()
    tiny.mutants.write_text(catalogue.replace("is 0 a step up", "step up"))
    assert inputs_digest(tiny) != before
    assert matching_record(tiny) is None
    rebuilt = run("build", "00_tiny", "--seeds", "1")
    assert "checks passed" in rebuilt.output  # re-proved, because its inputs changed
    assert matching_record(tiny) is not None


def test_verify_with_a_matching_record_still_fails_a_stale_assignments_folder(tiny):
    assert run("build", "00_tiny", "--seeds", "1").exit_code == 0
    notebook = tiny.student_dir / tiny.notebook_name
    notebook.write_text(notebook.read_text().replace("Heaviside", "Heavyside"))
    result = CliRunner().invoke(main, ["verify", "00_tiny"])
    assert result.exit_code == 1
    assert "stale" in result.output


def test_an_edit_of_the_prose_alone_keeps_the_proof(tiny):
    assert run("build", "00_tiny", "--seeds", "1").exit_code == 0
    before = inputs_digest(tiny)
    master = tiny.master.read_text()
    reworded = master.replace(
        "**Question 1 (2 points).** Implement `step`.",
        "**Question 1 (2 points).** Write `step`, the unit step.",
    )
    assert reworded != master
    tiny.master.write_text(reworded)
    assert inputs_digest(tiny) == before
    rebuilt = run("build", "00_tiny", "--seeds", "1")
    assert rebuilt.exit_code == 0, rebuilt.output
    assert "verified record matches its inputs" in rebuilt.output  # not re-graded
    assert "Write `step`, the unit step." in (tiny.student_dir / tiny.notebook_name).read_text()


@pytest.mark.parametrize(
    "old, new",
    [
        (
            "    return (np.asarray(x) >= 0).astype(float)",
            "    return (np.asarray(x) > 0).astype(float)",
        ),  # a code cell
        ("step([-1, 0, 2]) should be [0, 1, 1]", "step([-1, 0, 2]) must be [0, 1, 1]"),  # a test
        ("# name: q1\n# points: 2", "# name: q1\n# points: 3"),  # a point value
        ("#   seed: 42", "#   seed: 43"),  # the seed
        (
            "# %%\nimport numpy as np",
            '# %% tags=["otter_ignore"]\nimport numpy as np',
        ),  # a cell's tags
    ],
)
def test_what_grading_depends_on_still_invalidates_the_proof(tiny, old, new):
    master = tiny.master.read_text()
    assert master.count(old) == 1, old
    before = inputs_digest(tiny)
    tiny.master.write_text(master.replace(old, new))
    assert inputs_digest(tiny) != before


def test_a_build_that_keeps_the_proof_still_runs_the_checks_that_grade_nothing(tiny, monkeypatch):
    """The leak and helper-package checks cost a second and need no grading: a build whose
    record matches runs them all the same (what they read is built anew each time)."""
    import autograder.verify as verify_module

    assert run("build", "00_tiny", "--seeds", "1").exit_code == 0

    def leaky(report, built):
        report.add("leaks", False, "1 leaked, e.g. notebook.ipynb: return 42")

    monkeypatch.setattr(verify_module, "_check_leaks", leaky)
    result = run("build", "00_tiny", "--seeds", "1")
    assert result.exit_code != 0, result.output
    assert "1 leaked" in result.output
