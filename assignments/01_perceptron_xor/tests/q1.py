from otter.test_files import test_case

OK_FORMAT = False

name = "q1"
points = 4

@test_case(points=None, hidden=False)
def test_sigmoid_tanh_relu_public(sigmoid, tanh, relu):
    import numpy as np
    import torch
    from shared.checks import assert_close, check_implemented
    z = np.array([[-3.0, -0.5, 0.0], [0.5, 2.0, 6.0]])
    zt = torch.tensor(z, dtype=torch.float64)
    for name, fn, oracle, hint in [('sigmoid', sigmoid, torch.sigmoid(zt).numpy(), 'Hint: sigmoid(z) = 1 / (1 + exp(-z)); mind the minus sign in the exponent.'), ('tanh', tanh, torch.tanh(zt).numpy(), 'Hint: np.tanh does it, or (exp(z) - exp(-z)) / (exp(z) + exp(-z)).'), ('relu', relu, torch.relu(zt).numpy(), 'Hint: ReLU is elementwise, np.maximum(z, 0); np.max(z, 0) reduces along an axis instead.')]:
        out = fn(z)
        check_implemented(out, f'{name}(z)')
        assert isinstance(out, np.ndarray), f'{name}(z) should return a NumPy array, got {type(out).__name__}. {hint}'
        assert_close(out, oracle, name=f'{name}(z) for z = {z.tolist()}', rtol=1e-10, atol=1e-12, hint=hint)
    s0 = sigmoid(np.array([0.0]))
    assert np.allclose(s0, 0.5), f'sigmoid(0) should be 0.5, got {s0}. Hint: sigmoid(z) = 1 / (1 + exp(-z)).'

@test_case(points=None, hidden=False)
def test_softmax_public(softmax):
    import numpy as np
    import torch
    from shared.checks import assert_close, check_implemented
    from shared.forbid import forbid
    library_softmax = ('torch.softmax', 'torch.nn.functional.softmax', 'torch.Tensor.softmax', 'scipy.special.softmax', 'torch.special.softmax')
    hint = 'Hint: subtract the max along `axis` (np.max(z, axis=axis, keepdims=True)) before np.exp, then divide by the sum along the same `axis` (keepdims=True).'
    z = np.array([1.0, 2.0, 3.0])
    with forbid(*library_softmax, reason='Build softmax from np.exp, np.max and np.sum.'):
        out = softmax(z)
    check_implemented(out, 'softmax(z)')
    expected = torch.softmax(torch.tensor(z, dtype=torch.float64), dim=-1).numpy()
    assert_close(out, expected, name='softmax([1, 2, 3])', rtol=1e-10, atol=1e-12, hint=hint)
    z2 = np.array([[1.0, 2.0, 3.0, 4.0], [0.0, 0.0, 0.0, 0.0], [-1.0, 5.0, 2.0, 0.5]])
    expected2 = torch.softmax(torch.tensor(z2, dtype=torch.float64), dim=-1).numpy()
    out2 = softmax(z2)
    assert_close(out2, expected2, name='softmax(z2) of shape (3, 4) along axis=-1: each row should sum to 1', rtol=1e-10, atol=1e-12, hint=hint)
    big = np.array([1000.0, 1001.0, 1002.0])
    with np.errstate(over='ignore', invalid='ignore'):
        out_big = softmax(big)
    assert np.all(np.isfinite(out_big)), f'softmax([1000, 1001, 1002]) returned {out_big}: exp(1000) overflows to inf and inf/inf is nan. {hint}'
    assert_close(out_big, expected, name='softmax([1000, 1001, 1002]) (should equal softmax([1, 2, 3]))', rtol=1e-10, atol=1e-12, hint=hint)

