"""shared.notebook: errors caused by unfinished stubs are explained, others left alone."""

from __future__ import annotations

import numpy as np
import pytest

from shared.notebook import explain_stub_errors, looks_like_a_stub

STUB_RESULT, ELLIPSIS = None, ...  # what an untouched stub returns


def error_of(code):
    try:
        code()
    except Exception as error:  # the test inspects whatever was raised
        return error
    raise AssertionError("no error")


@pytest.mark.parametrize(
    "code",
    [
        lambda: STUB_RESULT[0],
        lambda: ELLIPSIS[0],
        lambda: tuple(STUB_RESULT),
        lambda: STUB_RESULT.to("cpu"),
        lambda: np.asarray(ELLIPSIS) + 1,
    ],
)
def test_what_an_unfinished_stub_causes_is_recognised(code):
    assert looks_like_a_stub(error_of(code))


def test_ordinary_errors_are_not_blamed_on_stubs():
    assert not looks_like_a_stub(error_of(lambda: np.ones(2) @ np.ones(3)))
    assert not looks_like_a_stub(error_of(lambda: [][1]))


def test_outside_ipython_nothing_is_installed():
    assert explain_stub_errors() is False


GATED_TESTS = """from otter.test_files import test_case

OK_FORMAT = False
name = "q7"
points = 2


@test_case(points=1)
def test_claim(env):
    from shared.testing import gate

    def upstream():
        assert env.get("q6_ok"), "q6 fails"

    skipped = gate({"q6": upstream})
    if skipped is not None:
        return skipped
    assert env.get("accuracy", 0) > 0.9, "too low [hint: demo.low]"


@test_case(points=1)
def test_other(env):
    assert env.get("other", False), "Hint: set other [hint: demo.other]"
"""


def test_check_says_not_judged_and_hides_hint_tags(tmp_path):
    """grader.check in the student's notebook: a gated claim prints "not judged", never
    "All test cases passed!", and hints show without their tags."""
    from otter.test_files.exception_test import ExceptionTestFile

    from shared.notebook import install_check_display

    assert install_check_display()
    path = tmp_path / "q7.py"
    path.write_text(GATED_TESTS)
    test_file = ExceptionTestFile.from_file(str(path))
    test_file.run({"q6_ok": False, "other": True})
    assert test_file.score == 2  # not judged keeps its points: q6 has lost them already
    shown = test_file.summary()
    assert "not judged: q6 fails first; fix it and this claim is checked" in shown
    assert "All test cases passed" not in shown

    test_file.run({"q6_ok": True, "accuracy": 0.5, "other": False})
    shown = test_file.summary()
    assert test_file.score == 0 and "too low" in shown and "Hint: set other" in shown
    assert "[hint:" not in shown and "[hint:" not in test_file._repr_html_()
    assert "[hint: demo.low]" in test_file.test_case_results[0].message  # kept for grading

    test_file.run({"q6_ok": True, "accuracy": 0.95, "other": True})
    assert test_file.summary() == "q7 results: All test cases passed!"
