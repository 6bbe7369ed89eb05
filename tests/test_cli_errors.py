"""Every mistake a user can make gets one line naming the file and the fix, and exit status 1."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from autograder.cli import main


def run(*args: str):
    return CliRunner().invoke(main, list(args))


def edit_master(kit: Path, old: str, new: str, count: int = 1) -> None:
    master = kit / "solutions" / "00_tiny" / "00_tiny.py"
    text = master.read_text()
    assert text.count(old) >= count, f"fixture no longer contains {old!r}"
    master.write_text(text.replace(old, new, count))


def test_unknown_assignment_lists_the_known_ones(kit):
    result = run("verify", "99_nothing")
    assert result.exit_code == 1
    assert "unknown assignment '99_nothing'" in result.output
    assert "00_tiny" in result.output


def test_assignment_can_be_named_by_number(kit):
    from autograder.catalog import resolve

    assert [a.name for a in resolve(["00"])] == ["00_tiny"]
    assert [a.name for a in resolve(["solutions/00_tiny/"])] == ["00_tiny"]


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("    # END SOLUTION\n", "", "'# BEGIN SOLUTION' is never closed"),
        ("# # END TESTS\n", "", "add '# END TESTS' before '# END QUESTION'"),
        ("# name: 00_tiny", "# name: 00_other", "set 'name: 00_tiny'"),
        ("# name: q2", "# name: q1", "question name 'q1' is used twice"),
        ("# points: 2", "# points: [2", "YAML does not parse"),
        ("# # BEGIN SOLUTION\n", "", "'# END SOLUTION' without a matching"),
    ],
)
def test_malformed_master_is_reported_with_file_and_line(kit, old, new, expected):
    edit_master(kit, old, new)
    result = run("build", "--no-verify", "00_tiny")
    assert result.exit_code == 1, result.output
    assert expected in result.output
    assert "solutions/00_tiny/00_tiny.py" in result.output or "00_tiny.py:" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "# points: 2\n",
            "# points: 3\n",
            "Question 1 is worth 2 points but q1's config says points: 3",
        ),
        ("(2 points).**", "(4 points).**", "Question 1 is worth 4 points but q1's config"),
        (
            "# points: 1\n",
            "# points: [1, 1]\n",
            "Question 2 is worth 1 point but q2's config says points: 2",
        ),
        ("| `step` | 2 |", "| `step` | 5 |", "the overview table gives q1 5 points but its config"),
        (
            "| q2 | `double` | 1 |",
            "| q3 | `double` | 1 |",
            "the overview table lists q3, which is not",
        ),
        ("# | q2 | `double` | 1 |\n", "", "the overview table has no row for q2"),
    ],
)
def test_points_in_the_prose_must_agree_with_the_config(kit, old, new, expected):
    """Points are written once, in the question's config: a heading or an overview-table row
    that says otherwise stops the build (issue 26: 5 points graded under a '4 points' heading)."""
    edit_master(kit, old, new)
    result = run("build", "--no-verify", "00_tiny")
    assert result.exit_code == 1, result.output
    assert expected in result.output, result.output
    assert "00_tiny.py" in result.output and "Traceback" not in result.output


def test_question_without_tests_is_refused(kit):
    master = kit / "solutions" / "00_tiny" / "00_tiny.py"
    text = master.read_text()
    start = text.index("# %%\ndef test_double")
    end = text.index("# %% [raw]\n# # END TESTS", start)
    text = text[:start] + text[end:]
    start = text.rindex("# %% [raw]\n# # BEGIN TESTS")
    end = text.index("# %% [raw]\n# # END QUESTION", start)
    master.write_text(text[:start] + text[end:])
    result = run("build", "--no-verify", "00_tiny")
    assert result.exit_code == 1
    assert "question 'q2' has no '# BEGIN TESTS' block" in result.output


def test_missing_master_config_is_refused(kit):
    edit_master(kit, "# # ASSIGNMENT CONFIG\n", "# # NOT A CONFIG\n")
    result = run("build", "--no-verify", "00_tiny")
    assert result.exit_code == 1
    assert "no '# ASSIGNMENT CONFIG' raw cell" in result.output


@pytest.mark.parametrize(
    ("catalogue", "expected"),
    [
        (
            "- name: x\n  mistake: m\n  find: 'not in the master'\n  replace: y\n"
            "  questions: [q1]\n  hint: h\n",
            "occurs 0 times",
        ),
        (
            "- name: x\n  mistake: m\n  find: 'return 2 * x'\n  replace: y\n"
            "  questions: [q9]\n  hint: h\n",
            "unknown question(s) q9",
        ),
        ("- name: x\n  find: 'return 2 * x'\n", "lacks mistake, questions, hint"),
        (
            "- name: x\n  mistake: m\n  find: 'return 2 * x'\n  questions: [q1]\n  hint: h\n",
            "every edit needs a non-empty find and a replace",
        ),
        ("name: x\n", "expected a YAML list"),
    ],
)
def test_bad_mutant_catalogue_is_reported(kit, catalogue, expected):
    (kit / "solutions" / "00_tiny" / "mutants.yml").write_text(catalogue)
    result = run("verify", "00_tiny")
    assert result.exit_code == 1
    assert expected in result.output
    assert "mutants.yml" in result.output


def test_bad_variant_catalogue_is_reported(kit):
    (kit / "solutions" / "00_tiny" / "variants.yml").write_text(
        "- name: v\n  style: s\n  edits:\n    - find: 'not in the master'\n      replace: y\n"
    )
    result = run("verify", "00_tiny")
    assert result.exit_code == 1
    assert "variants.yml: entry 1 (v)" in result.output and "occurs 0 times" in result.output


def test_grade_needs_existing_submissions(kit):
    result = run("grade", "00_tiny", str(kit / "missing.ipynb"))
    assert result.exit_code == 2
    assert "does not exist" in result.output


def test_grading_settings_are_read_and_checked(kit, tiny):
    from autograder.catalog import Settings
    from autograder.errors import UserError

    settings = tiny.source_dir / "grading.yml"
    assert not settings.exists() and tiny.settings == Settings()  # the defaults
    settings.write_text("verify_seeds: 5\ncell_timeout: 30\n")
    assert tiny.settings.verify_seeds == 5 and tiny.settings.cell_timeout == 30
    assert tiny.settings.test_timeout == 60  # the default
    settings.write_text("referee: true\n")  # the referee always judges: no longer a setting
    with pytest.raises(UserError, match="unknown settings \\['referee'\\]"):
        _ = tiny.settings
    settings.write_text("verify_seed: 5\n")
    with pytest.raises(UserError, match="unknown settings \\['verify_seed'\\]"):
        _ = tiny.settings
    settings.write_text("cell_timeout: -1\n")
    with pytest.raises(UserError, match="cell_timeout must be a positive number"):
        _ = tiny.settings


def test_grading_with_a_zip_older_than_its_master_is_refused(kit, tiny, tmp_path):
    assert run("build", "00_tiny", "--no-verify").exit_code == 0
    assert tiny.solutions_notebook.is_file()  # released after the deadline, built with the zips
    edit_master(kit, "is 0 a step up", "is zero a step up")  # a test message: in the zip
    submission = tmp_path / "s.ipynb"
    submission.write_text((tiny.student_dir / tiny.notebook_name).read_text())
    result = run("grade", "00_tiny", str(submission), "--out", str(tmp_path / "out"))
    assert result.exit_code == 2  # the command's mistake, not a submission's
    assert "older than solutions/00_tiny/" in result.output and "--autograder" in result.output
