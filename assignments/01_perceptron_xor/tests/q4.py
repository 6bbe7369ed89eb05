from otter.test_files import test_case

OK_FORMAT = False

name = "q4"
points = 2

@test_case(points=None, hidden=False)
def test_xor_limit_public(xor_accuracy, w_xor, b_xor, perceptron_predict, best_linear_accuracy):
    import numpy as np
    from shared.data import logic_gate
    from shared.testing import tagged
    from shared.testing.perceptron_xor import best_linear_hint, call
    X, y = logic_gate('xor')
    assert np.ndim(xor_accuracy) == 0 and float(xor_accuracy) in (0.0, 0.25, 0.5, 0.75), tagged('xor.accuracy_fraction', f'xor_accuracy should be the fraction of the 4 XOR points classified correctly (0, 0.25, 0.5 or 0.75), got {xor_accuracy!r}. Hint: np.mean(perceptron_predict(X_xor, w_xor, b_xor) == y_xor).')
    pred = np.asarray(call(perceptron_predict, X, w_xor, b_xor, label='perceptron_predict(X_xor, w_xor, b_xor)'), dtype=float)
    fraction = float(np.mean(pred.ravel() == y)) if pred.size == 4 else None
    assert fraction is None or np.isclose(float(xor_accuracy), fraction), f'Your w_xor, b_xor classify {fraction:.2f} of the XOR points correctly, but xor_accuracy is {xor_accuracy}. Hint: the fraction correctly classified, np.mean(perceptron_predict(X_xor, w_xor, b_xor) == y_xor).'
    for gate, want in (('xor', 0.75), ('and', 1.0)):
        Xg, yg = logic_gate(gate)
        label = f'best_linear_accuracy(X_{gate}, y_{gate}, n_trials=2000, seed=0)'
        best = call(best_linear_accuracy, Xg, yg, n_trials=2000, seed=0, label=label)
        assert np.ndim(best) == 0, f'{label} should return a single number, got {best!r}'
        assert np.isclose(float(best), want), f"{label} should be {want} ({('3 of 4 points: no line does better on XOR' if gate == 'xor' else 'AND is linearly separable')}), got {best}. {best_linear_hint(float(best), 4, want)}"

