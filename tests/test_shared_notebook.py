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
