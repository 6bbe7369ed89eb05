"""shared.notebook: errors caused by unfinished stubs are explained, others left alone."""

from __future__ import annotations

import numpy as np
import pytest

from shared.notebook import explain_stub_errors, looks_like_a_stub


def error_of(code):
    try:
        code()
    except Exception as error:  # the test inspects whatever was raised
        return error
    raise AssertionError("no error")


@pytest.mark.parametrize(
    "code",
    [
        lambda: None[0],
        lambda: Ellipsis[0],
        lambda: tuple(None),
        lambda: None.to("cpu"),
        lambda: np.asarray(...) + 1,
    ],
)
def test_what_an_unfinished_stub_causes_is_recognised(code):
    assert looks_like_a_stub(error_of(code))


def test_ordinary_errors_are_not_blamed_on_stubs():
    assert not looks_like_a_stub(error_of(lambda: np.ones(2) @ np.ones(3)))
    assert not looks_like_a_stub(error_of(lambda: [][1]))


def test_outside_ipython_nothing_is_installed():
    assert explain_stub_errors() is False
