"""shared.checks: every failure must say what is wrong and where."""

import re

import numpy as np
import pytest
import torch

from shared.checks import (
    assert_close,
    assert_shape,
    check_implemented,
    default_tolerance,
)


@pytest.mark.parametrize("stub", [None, ...])
def test_check_implemented_names_function_and_ellipsis(stub):
    with pytest.raises(AssertionError, match=r"`forward`.*`\.\.\.`"):
        check_implemented(stub, "forward")
    check_implemented(0, "forward")


def test_default_tolerance_per_dtype():
    assert default_tolerance(torch.float64) == default_tolerance(np.float64) == (1e-7, 1e-9)
    assert default_tolerance(torch.float32) == default_tolerance(np.dtype("float32"))
    assert default_tolerance(torch.float32) == (1e-4, 1e-5)
    assert default_tolerance(torch.float16)[0] > 1e-4
    assert default_tolerance(torch.bfloat16)[0] >= default_tolerance(torch.float16)[0]
    assert default_tolerance(torch.int64) == default_tolerance(np.int8) == (0.0, 0.0)
    assert default_tolerance(torch.bool) == (0.0, 0.0)
    assert default_tolerance("bfloat16") == default_tolerance(torch.bfloat16)
    with pytest.raises(TypeError):
        default_tolerance("not a dtype")


@pytest.mark.parametrize(
    "value",
    [np.arange(6.0).reshape(2, 3), torch.arange(6.0).reshape(2, 3), [[0, 1, 2], [3, 4, 5]]],
)
def test_assert_close_passes_on_equal_inputs_of_any_type(value):
    assert_close(value, np.arange(6.0).reshape(2, 3))
    assert_close(torch.tensor(2.5, requires_grad=True) * 1, 2.5)


def test_nan_matches_nan_and_inf_matches_inf():
    assert_close(np.array([np.nan, np.inf, 1.0]), np.array([np.nan, np.inf, 1.0]))
    with pytest.raises(AssertionError):
        assert_close(np.array([-np.inf]), np.array([np.inf]))


def test_shape_mismatch_message():
    with pytest.raises(AssertionError) as info:
        assert_close(np.zeros((3, 2)), np.zeros((2, 3)), name="W")
    assert "`W` has shape (3, 2) but should have shape (2, 3)" in str(info.value)
    assert "transposed" in str(info.value)


def test_no_broadcasting():
    with pytest.raises(AssertionError, match=r"shape \(3,\) but should have shape \(1, 3\)"):
        assert_close(np.zeros(3), np.zeros((1, 3)))


def test_stub_and_wrong_type_fail_first():
    # an answer variable left as its stub is "not answered yet", not a function without return
    with pytest.raises(AssertionError, match=r"`y` is still None .*not answered yet. Set `y`"):
        assert_close(None, np.zeros(2), name="y")
    with pytest.raises(AssertionError, match=r"`f\(x\)` returned None .*`return` statement"):
        assert_close(None, np.zeros(2), name="f(x)")
    # an entry or attribute the student fills in is a value too, not a function without return
    for name in ('hand["a1"]', "model.d_model"):
        with pytest.raises(AssertionError, match=r"is still None .*not answered yet. Set"):
            assert_close(None, np.zeros(2), name=name)
    with pytest.raises(AssertionError, match="array or tensor of numbers.*str"):
        assert_close("0.5", 0.5, name="y")
    with pytest.raises(AssertionError, match="array or tensor of numbers"):
        assert_close({"a": 1}, 0.5, name="y")


def test_reports_index_of_largest_difference_and_both_values():
    expected = np.zeros((3, 4))
    actual = expected.copy()
    actual[0, 1] = 0.1
    actual[2, 3] = -0.7
    with pytest.raises(AssertionError) as info:
        assert_close(actual, expected, name="out", hint="did you forget the bias?")
    message = str(info.value)
    assert "index (2, 3)" in message
    assert "got -0.7, expected 0.0" in message
    assert "2 of 12" in message
    assert "Max absolute difference: 0.7" in message
    assert "rtol=1e-07" in message and "atol=1e-09" in message
    assert message.rstrip().endswith("Hint: did you forget the bias?")


def test_float32_is_looser_than_float64():
    expected = np.ones(4)
    assert_close(np.ones(4, dtype=np.float32) + 1e-6, expected.astype(np.float32))
    with pytest.raises(AssertionError, match="rtol=1e-07"):
        assert_close(expected + 1e-6, expected)
    # A float32 result is not held to float64 precision against a float64 reference.
    assert_close(torch.ones(4) + 1e-6, expected)
    with pytest.raises(AssertionError, match="rtol=0.0001"):
        assert_close(torch.ones(4) + 1e-2, expected)


def test_explicit_tolerance_overrides_default():
    assert_close(np.array([1.05]), np.array([1.0]), rtol=0.1)
    with pytest.raises(AssertionError, match="rtol=0.01"):
        assert_close(np.array([1.05]), np.array([1.0]), rtol=0.01, atol=0.0)


def test_integers_compare_exactly():
    with pytest.raises(AssertionError):
        assert_close(np.array([1, 2]), np.array([1, 3]))


def test_check_dtype():
    assert_close(np.ones(2, dtype=np.float32), torch.ones(2), check_dtype=True)
    with pytest.raises(AssertionError, match="dtype float64 but should have dtype float32"):
        assert_close(np.ones(2), torch.ones(2), check_dtype=True, name="x")


def test_unexpected_nan_reported_before_values():
    with pytest.raises(AssertionError, match=r"contains NaN at index \(1,\)"):
        assert_close(np.array([0.0, np.nan, 5.0]), np.zeros(3), name="loss")
    with pytest.raises(AssertionError, match="contains inf"):
        assert_close(torch.tensor([float("inf")]), torch.tensor([1.0]), name="loss")


def test_bfloat16_and_scalar_inputs():
    assert_close(torch.tensor([1.0, 2.0], dtype=torch.bfloat16), [1.0, 2.0])
    with pytest.raises(AssertionError, match=re.escape("got 2.0, expected 3.0")):
        assert_close(2, 3.0)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_tensor_is_moved_to_cpu():
    assert_close(torch.ones(3, device="cuda"), np.ones(3))


def test_assert_shape_with_wildcards():
    assert_shape(torch.zeros(5, 10), (None, 10), "logits")
    assert_shape([[1, 2, 3]], (1, 3), "row")
    with pytest.raises(AssertionError, match=r"shape \(5, 9\) but should have shape \(\*, 10\)"):
        assert_shape(torch.zeros(5, 9), (None, 10), "logits")
    with pytest.raises(AssertionError, match="squeeze/unsqueeze"):
        assert_shape(np.zeros((5, 10)), (5, 10, 1), "x")
    with pytest.raises(AssertionError, match="2 dimension"):
        assert_shape(np.zeros((5, 10)), (5, 10, 3), "x")
    with pytest.raises(AssertionError, match="reshape"):
        assert_shape(np.zeros(6), (2, 3), "x")
