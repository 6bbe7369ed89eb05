from otter.test_files import test_case

OK_FORMAT = False

name = "q3"
points = 4

@test_case(points=None, hidden=False)
def test_perceptron_predict_public(perceptron_predict):
    import numpy as np
    from shared.checks import assert_close, check_implemented
    X = np.array([[0.0, 0.0], [1.0, 1.0], [-1.0, -1.0], [2.0, -1.0]])
    w = np.array([1.0, 1.0])
    out = perceptron_predict(X, w, 0.0)
    check_implemented(out, 'perceptron_predict(X, w, b)')
    assert_close(np.asarray(out, dtype=float), np.array([1.0, 1.0, 0.0, 1.0]), name=f'perceptron_predict(X={X.tolist()}, w=[1, 1], b=0)', hint='Hint: predict 1.0 where X @ w + b >= 0 (a point exactly on the boundary, like [0, 0] here, is class 1), else 0.0.')
    out_b = perceptron_predict(X, w, -1.5)
    assert_close(np.asarray(out_b, dtype=float), np.array([0.0, 1.0, 0.0, 0.0]), name='perceptron_predict(X, w=[1, 1], b=-1.5)', hint='Hint: include the bias: predict 1.0 where X @ w + b >= 0.')

@test_case(points=None, hidden=False)
def test_perceptron_train_public(perceptron_train, perceptron_predict):
    import numpy as np
    from shared.checks import check_implemented
    from shared.data import logic_gate
    rule = 'Hint: update only on mistakes (y_hat != y): w += lr * (y - y_hat) * x and the bias b += lr * (y - y_hat); stop after the first epoch with no mistakes.'
    for gate in ('and', 'or'):
        X, y = logic_gate(gate)
        result = perceptron_train(X, y, epochs=100, seed=0)
        check_implemented(result, f'perceptron_train(X_{gate}, y_{gate})')
        assert len(result) == 3, f'perceptron_train should return (w, b, errors), got {len(result)} values'
        w, b, errors = result
        assert np.shape(w) == (2,), f'w should have shape (2,) for 2-D inputs, got {np.shape(w)}'
        assert np.ndim(b) == 0, f'b should be a scalar, got {b!r}'
        assert len(errors) >= 1 and errors[-1] == 0, f"On {gate.upper()} (linearly separable) training should end with an error-free epoch; errors per epoch were {list(errors)[:12]}{(' ...' if len(errors) > 12 else '')} ({len(errors)} epochs). {rule}"
        assert len(errors) < 100, f'On {gate.upper()} training should stop early, but it ran all {len(errors)} epochs. {rule}'
        pred = perceptron_predict(X, w, b)
        assert np.array_equal(np.asarray(pred, dtype=float), y), f'After training on {gate.upper()}, w={w}, b={b} predict {pred} instead of {y}. {rule}'
    X = np.array([[1.0, 2.0], [3.0, -1.0], [-2.0, 0.5]])
    w, b, errors = perceptron_train(X, np.ones(3), epochs=10, seed=0)
    assert np.allclose(w, 0.0) and b == 0.0 and (list(errors) == [0]), f'With all labels 1, the initial w = 0, b = 0 already predicts every point correctly (0 >= 0), so training should make no update and return w=[0, 0], b=0, errors=[0]; got w={w}, b={b}, errors={list(errors)}. Hint: update only on mistakes, and start from w = np.zeros(D), b = 0.'

