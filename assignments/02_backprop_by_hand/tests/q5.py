from otter.test_files import test_case

OK_FORMAT = False

name = "q5"
points = 4

@test_case(points=None, hidden=False)
def test_trask_step_public(sigmoid_prime_from_output, trask_step):
    import numpy as np
    import torch
    from shared.checks import assert_close, check_implemented
    from shared.forbid import forbid
    twice = "Hint: s is already the sigmoid's output sigma(a), so sigma'(a) = s * (1 - s); applying sigma(s) * (1 - sigma(s)) takes the sigmoid twice."
    s = np.array([0.1, 0.5, 0.9])
    out = sigmoid_prime_from_output(s)
    check_implemented(out, 'sigmoid_prime_from_output(s)')
    assert_close(np.asarray(out, dtype=float), np.array([0.09, 0.25, 0.09]), name='sigmoid_prime_from_output([0.1, 0.5, 0.9])', rtol=1e-12, atol=1e-12, hint=twice)
    X = np.array([[0, 0, 1], [0, 1, 1], [1, 0, 1], [1, 1, 1]], dtype=float)
    y = np.array([[0], [1], [1], [0]], dtype=float)
    rng = np.random.default_rng(4)
    syn0, syn1 = (2 * rng.random((3, 4)) - 1, 2 * rng.random((4, 1)) - 1)
    try:
        with forbid('torch.autograd.grad', 'torch.autograd.backward', reason='Use the delta rules.'):
            result = trask_step(X, y, syn0.copy(), syn1.copy())
    except ValueError as err:
        raise AssertionError(f"trask_step(X (4, 3), y (4, 1), syn0 (3, 4), syn1 (4, 1)) raised ValueError: {err}. Hint: check every product's shapes: delta1 = (delta2 @ syn1.T) * sigma'(l1) needs the transpose, (4, 1) @ (1, 4) = (4, 4).") from None
    check_implemented(result, 'trask_step(X, y, syn0, syn1)')
    assert len(result) == 3, f'trask_step should return (syn0_new, syn1_new, l2), got {len(result)} values'
    new0, new1, l2 = result
    s0 = torch.tensor(syn0, requires_grad=True)
    s1 = torch.tensor(syn1, requires_grad=True)
    l2_t = torch.sigmoid(torch.sigmoid(torch.tensor(X) @ s0) @ s1)
    (0.5 * ((torch.tensor(y) - l2_t) ** 2).sum()).backward()
    assert_close(np.asarray(l2, dtype=float), l2_t.detach().numpy(), name='l2 returned by trask_step (the forward pass)', rtol=1e-10, atol=1e-12, hint='Hint: l1 = sigmoid(X @ syn0), l2 = sigmoid(l1 @ syn1), before any update.')
    rule = "Hint: delta2 = (y - l2) * sigma'(l2), delta1 = (delta2 @ syn1.T) * sigma'(l1), syn1 += l1.T @ delta2, syn0 += X.T @ delta1, with sigma' from the layers' outputs. The update adds because y - l2 is minus the gradient: check the sign. "
    assert_close(np.asarray(new1, dtype=float), syn1 - s1.grad.numpy(), name='syn1_new from trask_step (one gradient-descent step on 0.5 * sum((y - l2)**2))', rtol=1e-09, atol=1e-12, hint=rule + twice)
    assert_close(np.asarray(new0, dtype=float), syn0 - s0.grad.numpy(), name='syn0_new from trask_step (one gradient-descent step on 0.5 * sum((y - l2)**2))', rtol=1e-09, atol=1e-12, hint=rule + twice)

@test_case(points=None, hidden=False)
def test_trask_train_public(trask_train, rng_seed):
    import numpy as np
    from shared.checks import check_implemented
    X = np.array([[0, 0, 1], [0, 1, 1], [1, 0, 1], [1, 1, 1]], dtype=float)
    y = np.array([[0], [1], [1], [0]], dtype=float)
    result = trask_train(X, y, hidden=4, iterations=2000, seed=rng_seed)
    check_implemented(result, 'trask_train(X, y, hidden=4, iterations=2000)')
    syn0, syn1, errors = result
    assert np.shape(syn0) == (3, 4) and np.shape(syn1) == (4, 1), f'syn0 and syn1 should have shapes (3, 4) and (4, 1), got {np.shape(syn0)} and {np.shape(syn1)}'
    assert len(errors) == 2000, f'trask_train(iterations=2000) should return 2000 errors, got {len(errors)}'
    hint = "Hint: the updates add (syn1 += l1.T @ delta2) because the error is y - l2; with sigma' from the outputs, the error falls steadily."
    assert errors[-1] < 0.1 and errors[-1] < errors[0] / 3, f'After 2000 iterations (seed {rng_seed}) the mean absolute error should fall below 0.1; it went from {errors[0]:.4f} to {errors[-1]:.4f}. {hint}'

    def sig(z):
        return 1 / (1 + np.exp(-z))
    pred = (sig(sig(X @ syn0) @ syn1) > 0.5).astype(float)
    assert np.array_equal(pred, y), f'After training, the rounded predictions are {pred.ravel().tolist()} instead of {y.ravel().tolist()}. {hint}'

