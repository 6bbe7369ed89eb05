"""The grader-only helpers: finite differences against known derivatives, the relative error."""

import numpy as np
import pytest
import torch

from autograder.grader_support.gradcheck import assert_gradient_close, numerical_gradient
from autograder.grader_support.oracles import rel_error


def test_matches_analytic_gradients_numpy():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 4))
    original = x.copy()
    for f, grad in [
        (lambda v: np.sum(v**3), lambda v: 3 * v**2),
        (lambda v: np.sum(np.sin(v) * v), lambda v: np.cos(v) * v + np.sin(v)),
        (lambda v: np.log(np.sum(np.exp(v))), lambda v: np.exp(v) / np.exp(v).sum()),
    ]:
        numeric = numerical_gradient(f, x)
        assert isinstance(numeric, np.ndarray) and numeric.shape == x.shape
        assert_gradient_close(grad(x), numeric, name="grad")
    np.testing.assert_array_equal(x, original)


def test_matches_autograd_for_torch_and_closure_style():
    torch.manual_seed(0)
    W = torch.randn(4, 3, dtype=torch.float64, requires_grad=True)
    inputs = torch.randn(5, 4, dtype=torch.float64)
    loss = lambda: torch.tanh(inputs @ W).pow(2).mean()  # noqa: E731
    loss().backward()
    numeric = numerical_gradient(lambda _: loss(), W)  # f ignores its argument
    assert isinstance(numeric, torch.Tensor) and numeric.dtype == torch.float64
    assert_gradient_close(W.grad, numeric, name="dW")


def test_x_restored_even_if_f_raises():
    x = np.array([1.0, 2.0])

    def f(v):
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        numerical_gradient(f, x)
    np.testing.assert_array_equal(x, [1.0, 2.0])


def test_rejects_low_precision_and_non_scalar_f():
    with pytest.raises(TypeError, match="float64"):
        numerical_gradient(lambda v: v.sum(), np.ones(2, dtype=np.float32))
    with pytest.raises(TypeError, match=r"x\.double\(\)"):
        numerical_gradient(lambda v: v.sum(), torch.ones(2))
    with pytest.raises(ValueError, match="scalar"):
        numerical_gradient(lambda v: v * 2, np.ones(2))


def test_assert_gradient_close_reports_worst_element():
    numeric = np.array([[1.0, 2.0], [3.0, 4.0]])
    wrong = numeric.copy()
    wrong[1, 0] = -3.0
    with pytest.raises(AssertionError) as info:
        assert_gradient_close(wrong, numeric, name="db", hint="check the sign")
    message = str(info.value)
    assert "max relative error 1" in message and "index (1, 0)" in message
    assert "yours -3.0, numerical 3.0" in message and "Hint: check the sign" in message


def test_assert_gradient_close_shape_stub_and_noise():
    with pytest.raises(AssertionError, match="shape"):
        assert_gradient_close(np.zeros(3), np.zeros((3, 1)), name="dx")
    with pytest.raises(AssertionError, match=r"`dx` is still None .*not answered yet. Set `dx`"):
        assert_gradient_close(None, np.zeros(3), name="dx")
    with pytest.raises(AssertionError, match=r"`grad\(x\)` returned None .*not answered yet"):
        assert_gradient_close(None, np.zeros(3), name="grad(x)")
    assert_gradient_close(np.array([0.0, 1.0]), np.array([1e-11, 1.0]), name="dx")


def test_rel_error():
    assert rel_error(np.ones(3), np.ones(3)) == 0.0
    assert rel_error([1.0, 3.0], [1.0, 1.0]) == pytest.approx(0.5)
    assert rel_error(torch.zeros(2), np.zeros(2)) == 0.0
    with pytest.raises(ValueError):
        rel_error(np.ones(2), np.ones(3))
