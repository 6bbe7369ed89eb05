from otter.test_files import test_case

OK_FORMAT = False

name = "q4"
points = 4

@test_case(points=None, hidden=False)
def test_numerical_gradient_public(numerical_gradient):
    import numpy as np
    import shared.gradcheck
    from shared.checks import check_implemented
    from shared.forbid import forbid
    forbidden = ('shared.gradcheck.numerical_gradient', 'shared.gradcheck._scalar', 'torch.autograd.grad', 'torch.autograd.backward')
    reason = 'Write the finite differences yourself: that is this question.'
    assert numerical_gradient is not shared.gradcheck.numerical_gradient, "Your numerical_gradient is the helper package's own; this question asks you to write it yourself."
    centred = 'Hint: use the centred difference (f(x + eps) - f(x - eps)) / (2 eps); the one-sided (f(x + eps) - f(x)) / eps has an error proportional to eps instead of eps**2.'
    rng = np.random.default_rng(2)
    x = rng.normal(size=(3, 4))
    x_before = x.copy()

    def f(z):
        return np.sum(z ** 3) + np.sum(np.sin(z))
    with forbid(*forbidden, reason=reason):
        grad = numerical_gradient(f, x, eps=0.0001)
    check_implemented(grad, 'numerical_gradient(f, x, eps=1e-4)')
    assert isinstance(grad, np.ndarray), f'numerical_gradient should return a NumPy array, got {type(grad).__name__}'
    assert grad.shape == x.shape, f'numerical_gradient(f, x) for x of shape {x.shape} returned shape {grad.shape}; it should match x.'
    assert grad.dtype == np.float64, f'numerical_gradient should return float64 (finite differences need it), got {grad.dtype}'
    assert np.array_equal(x, x_before), 'numerical_gradient changed x: restore every perturbed entry (x[idx] = old) before moving on.'
    exact = 3 * x ** 2 + np.cos(x)
    rel = np.abs(grad - exact) / np.maximum(1e-12, np.abs(grad) + np.abs(exact))
    idx = tuple((int(i) for i in np.unravel_index(int(np.argmax(rel)), rel.shape)))
    assert rel[idx] < 1e-07, f'numerical_gradient of f(x) = sum(x**3 + sin(x)) with eps=1e-4, x of shape (3, 4), is off: max relative error {rel[idx]:.3g} at index {idx} (threshold 1e-07) against the exact 3 x**2 + cos(x): yours {grad[idx]:.10g}, exact {exact[idx]:.10g}. {centred}'
    W = rng.normal(size=(2, 3))
    v = rng.normal(size=3)

    def g(_):
        return np.sum(np.tanh(W @ v))
    expected = shared.gradcheck.numerical_gradient(g, W)
    with forbid(*forbidden, reason=reason):
        grad = numerical_gradient(g, W)
    check_implemented(grad, 'numerical_gradient(g, W)')
    rel = np.abs(np.asarray(grad, dtype=float) - expected) / np.maximum(1e-12, np.abs(np.asarray(grad, dtype=float)) + np.abs(expected))
    assert float(rel.max()) < 1e-06, f'numerical_gradient(g, W) for g(_) = sum(tanh(W @ v)), which reads W through a closure, gave {np.asarray(grad).tolist()}; expected {expected.tolist()} (max relative error {float(rel.max()):.3g}, threshold 1e-06). Hint: perturb x itself in place (x[idx] = old + eps), call f(x), and restore x[idx] = old; working on a copy changes nothing that f can see.'

@test_case(points=None, hidden=False)
def test_relative_error_and_gradient_check_public(relative_error, gradient_check):
    import numpy as np
    from shared.checks import check_implemented, rel_error
    from shared.forbid import forbid
    forbidden = ('shared.gradcheck.numerical_gradient', 'shared.gradcheck._scalar', 'torch.autograd.grad', 'torch.autograd.backward')
    reason = 'Use your own numerical_gradient: that is this question.'
    err = relative_error(np.array([1.0, 2.0, 3.0]), np.array([1.0, 2.2, 3.0]))
    check_implemented(err, 'relative_error(a, b)')
    assert abs(float(err) - 0.2 / 4.2) < 1e-12, f'relative_error([1, 2, 3], [1, 2.2, 3]) should be |2 - 2.2| / (2 + 2.2) = {0.2 / 4.2:.6g}, got {err}. Hint: the maximum over entries of |a - b| / max(1e-12, |a| + |b|).'
    zero = relative_error(np.zeros(3), np.zeros(3))
    assert float(zero) == 0.0, f'relative_error(zeros, zeros) should be 0.0, got {zero}. Hint: the floor 1e-12 in the denominator avoids 0/0.'
    rng = np.random.default_rng(3)
    a, b = (rng.normal(size=(4, 5)), rng.normal(size=(4, 5)))
    assert abs(float(relative_error(a, b)) - rel_error(a, b)) < 1e-12, f'relative_error(a, b) for random (4, 5) arrays gave {relative_error(a, b)}, expected {rel_error(a, b)}. Hint: the maximum over entries of |a - b| / max(1e-12, |a| + |b|).'

    class GoodLinear:

        def __init__(self, W, b):
            self.W, self.b = (W, b)

        def forward(self, inp):
            self.inp = inp
            return inp @ self.W + self.b

        def backward(self, grad_out):
            self.dW = self.inp.T @ grad_out
            self.db = np.sum(grad_out, axis=0)
            return grad_out @ self.W.T

    class BadBiasLinear(GoodLinear):

        def backward(self, grad_out):
            dinp = super().backward(grad_out)
            self.db = np.mean(grad_out, axis=0)
            return dinp
    x = rng.normal(size=(5, 3))
    W, b = (rng.normal(size=(3, 2)), rng.normal(size=2))
    with forbid(*forbidden, reason=reason):
        errs = gradient_check(GoodLinear(W.copy(), b.copy()), x.copy(), seed=0)
    check_implemented(errs, 'gradient_check(layer, x)')
    assert isinstance(errs, dict) and set(errs) == {'dx', 'dW', 'db'}, f"gradient_check of a layer with W and b should return a dict with keys 'dx', 'dW', 'db', got {errs!r}"
    bad = {k: float(e) for k, e in errs.items() if not float(e) < 1e-07}
    assert not bad, f"gradient_check reports relative errors {bad} (threshold 1e-07) for a correct Linear layer with x of shape (5, 3). Hint: take the analytic gradients from forward(x) then backward(R) and copy them before the finite differences (which call forward again); the loss is sum(layer.forward(x) * R) with R of the output's shape."
    with forbid(*forbidden, reason=reason):
        errs = gradient_check(BadBiasLinear(W.copy(), b.copy()), x.copy(), seed=0)
    assert float(errs['db']) > 0.01 and float(errs['dx']) < 1e-07 and (float(errs['dW']) < 1e-07), f'For a Linear layer whose db is wrong (a mean instead of a sum over the batch), gradient_check should report a large error for db only; it reported {errs}. Hint: compare layer.db with the finite differences of the loss with respect to layer.b.'

