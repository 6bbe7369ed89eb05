from otter.test_files import test_case

OK_FORMAT = False

name = "q4"
points = 2

@test_case(points=None, hidden=False)
def test_xor_limit_public(xor_accuracy, best_linear_accuracy):
    import numpy as np
    from shared.checks import check_implemented
    from shared.data import logic_gate
    check_implemented(xor_accuracy, 'xor_accuracy')
    assert np.ndim(xor_accuracy) == 0, f'xor_accuracy should be a single number, got {xor_accuracy!r}'
    assert float(xor_accuracy) in (0.0, 0.25, 0.5, 0.75), f'xor_accuracy should be the fraction of the 4 XOR points classified correctly (0, 0.25, 0.5 or 0.75), got {xor_accuracy!r}. Hint: np.mean(perceptron_predict(X_xor, w, b) == y_xor).'
    X, y = logic_gate('xor')
    best = best_linear_accuracy(X, y, n_trials=2000, seed=0)
    check_implemented(best, 'best_linear_accuracy(X_xor, y_xor)')
    assert np.ndim(best) == 0, f'best_linear_accuracy should return a single number, got {best!r}'
    assert np.isclose(float(best), 0.75), f'best_linear_accuracy(X_xor, y_xor, n_trials=2000, seed=0) should find a line with 3 of 4 points right (0.75) and never more; got {best}. Hint: predictions (X @ W.T + B >= 0) have shape (N, n_trials); take the accuracy of each column (mean over axis 0) and return the max.'
    Xa, ya = logic_gate('and')
    best_and = best_linear_accuracy(Xa, ya, n_trials=2000, seed=0)
    assert np.isclose(float(best_and), 1.0), f"AND is linearly separable, so 2000 random lines should include a perfect one (1.0); got {best_and}. Hint: take the max (not the mean) over trials of each classifier's accuracy."

