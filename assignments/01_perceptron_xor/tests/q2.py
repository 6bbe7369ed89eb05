from otter.test_files import test_case

OK_FORMAT = False

name = "q2"
points = 2

@test_case(points=None, hidden=False)
def test_neuron_public(neuron):
    import numpy as np
    from shared.checks import assert_close, check_implemented
    x = np.array([[0.0, 0.0], [1.0, 2.0], [-1.0, 0.5]])
    w = np.array([0.5, -1.0])
    b = 0.25
    out = neuron(x, w, b, lambda a: a)
    check_implemented(out, 'neuron(x, w, b, identity)')
    expected = np.array([0.25, -1.25, -0.75])
    assert_close(np.asarray(out, dtype=float), expected, name=f'neuron(x={x.tolist()}, w={w.tolist()}, b={b}, activation=identity)', rtol=1e-12, atol=1e-12, hint='Hint: the output is activation(x @ w + b); did you forget the bias b, or multiply in the wrong order?')
    out_tanh = neuron(x, w, b, np.tanh)
    assert_close(np.asarray(out_tanh, dtype=float), np.tanh(expected), name='neuron(x, w, b, activation=np.tanh)', rtol=1e-12, atol=1e-12, hint='Hint: apply the activation you are given to the pre-activation x @ w + b (with the bias).')

