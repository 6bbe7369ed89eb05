from otter.test_files import test_case

OK_FORMAT = False

name = "q2"
points = 6

@test_case(points=None, hidden=False)
def test_layers_public(Linear, Sigmoid, Tanh, ReLU):
    import numpy as np
    import torch
    from shared.checks import assert_shape, check_implemented
    from shared.forbid import forbid

    def compare(name, yours, expected, hint, threshold=1e-08):
        check_implemented(yours, name)
        yours = np.asarray(yours, dtype=np.float64)
        assert_shape(yours, expected.shape, name, hint=hint)
        assert np.isfinite(yours).all(), f'`{name}` contains NaN or inf.\n{hint}'
        diff = np.abs(yours - expected)
        rel = np.where(diff <= 1e-12, 0.0, diff / np.maximum(1e-12, np.abs(yours) + np.abs(expected)))
        idx = np.unravel_index(int(np.argmax(rel)), rel.shape)
        assert rel[idx] <= threshold, f'`{name}` does not match torch.autograd: max relative error {rel[idx]:.3g} at index {tuple((int(i) for i in idx))} (threshold {threshold:g}): yours {yours[idx]:.8g}, torch {expected[idx]:.8g}.\n{hint}'
    no_autograd = ('torch.autograd.grad', 'torch.autograd.backward')
    reason = 'Compute the gradients yourself with NumPy; autograd is the referee here.'
    rng = np.random.default_rng(0)
    n, d_in, d_out = (4, 3, 5)
    x = rng.normal(size=(n, d_in))
    W = rng.normal(size=(d_in, d_out))
    b = rng.normal(size=d_out)
    dout = rng.normal(size=(n, d_out))
    layer = Linear(d_in, d_out, rng=0)
    layer.W, layer.b = (W.copy(), b.copy())
    with forbid(*no_autograd, reason=reason):
        out = layer.forward(x.copy())
        check_implemented(out, f'Linear({d_in}, {d_out}).forward(x)')
        dx = layer.backward(dout.copy())
    xt, Wt, bt = (torch.tensor(a, requires_grad=True) for a in (x, W, b))
    out_t = xt @ Wt + bt
    out_t.backward(torch.tensor(dout))
    where = f'Linear({d_in}, {d_out}) with x of shape {(n, d_in)}'
    compare(f'{where}: forward(x)', out, out_t.detach().numpy(), 'Hint: out = x @ W + b, shape (N, D_out).')
    compare(f'{where}: backward(dout) returned dx', dx, xt.grad.numpy(), 'Hint: dx = dout @ W.T, shape (N, D_in).')
    compare(f'{where}: layer.dW after backward', layer.dW, Wt.grad.numpy(), 'Hint: dW = x.T @ dout, shape (D_in, D_out); a result of shape (D_out, D_in) means a missing or misplaced transpose.')
    compare(f'{where}: layer.db after backward', layer.db, bt.grad.numpy(), 'Hint: the bias is shared by all N examples, so db = dout summed over the batch (axis 0), shape (D_out,).')
    x = rng.normal(size=(3, 4)) * 2.0
    dout = rng.normal(size=(3, 4))
    for cls, fn, hint in [(Sigmoid, torch.sigmoid, 'Hint: dx = dout * s * (1 - s) with s the cached output: the activation derivative must multiply dout.'), (Tanh, torch.tanh, 'Hint: dx = dout * (1 - out**2) with out = tanh(x) the cached output: the activation derivative must multiply dout.'), (ReLU, torch.relu, 'Hint: dx = dout * (x > 0): the gradient passes where the input was positive and is 0 elsewhere.')]:
        layer = cls()
        with forbid(*no_autograd, reason=reason):
            out = layer.forward(x.copy())
            check_implemented(out, f'{cls.__name__}().forward(x)')
            dx = layer.backward(dout.copy())
        xt = torch.tensor(x, requires_grad=True)
        out_t = fn(xt)
        out_t.backward(torch.tensor(dout))
        compare(f'{cls.__name__}: forward(x) for x of shape (3, 4)', out, out_t.detach().numpy(), hint)
        compare(f'{cls.__name__}: backward(dout) returned dx, for x of shape (3, 4)', dx, xt.grad.numpy(), hint)

