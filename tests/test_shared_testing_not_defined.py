"""A test run before its answer cell (Otter passes None for a name the notebook lacks) says
which name is missing, in every topic's way of calling student code."""

from __future__ import annotations

import pytest

from shared.testing import backprop_by_hand as bh
from shared.testing import called_none, check_defined
from shared.testing import cnn_vs_mlp as cnn
from shared.testing import conv_output_sizes as conv
from shared.testing import perceptron_xor as xor

MISSING = "`{name}` is not defined yet"


@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda: xor.call(None, 1.0, label="sigmoid(z)"), "sigmoid"),
        (lambda: cnn.call(None, desc="make_cnn(canvas=16)"), "make_cnn"),
        (lambda: conv.call(None, 28, label="conv_output_size(28, kernel=3)"), "conv_output_size"),
    ],
)
def test_a_missing_function_is_named(call, name):
    with pytest.raises(AssertionError, match=MISSING.format(name=name)) as failure:
        call()
    assert "NoneType" not in str(failure.value) and "[hint: kit.not_defined]" in str(failure.value)


def test_student_code_names_a_missing_function_but_not_a_none_called_inside_it():
    def calls_none_inside():
        broken = None
        return broken()

    missing = None
    with pytest.raises(AssertionError, match=MISSING.format(name="forward")):
        with bh.student_code("forward(x)"):
            missing()  # the test calling what the notebook never defined
    with pytest.raises(AssertionError, match="raised TypeError: 'NoneType' object is not callable"):
        with bh.student_code("forward(x)"):
            calls_none_inside()


def test_called_none_looks_at_where_the_call_failed():
    missing = None

    def outer():
        return missing()

    try:
        missing()
    except TypeError as error:
        assert called_none(error), "the call in this very frame failed: the function is None"
    try:
        outer()
    except TypeError as error:
        assert not called_none(error), "raised inside outer: not this frame's own call"
    check_defined(print, "print(x)")  # a function passes
