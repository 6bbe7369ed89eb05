from otter.test_files import test_case

OK_FORMAT = False

name = "q2"
points = 2

@test_case(points=None, hidden=False)
def test_neuron_public(neuron):
    import numpy as np
    from shared.checks import assert_close
    from shared.testing import tagged
    from shared.testing.perceptron_xor import ACTIVATION_ATOL, ACTIVATION_RTOL, call
    x = np.array([[0.0, 0.0], [1.0, 2.0], [-1.0, 0.5]])
    w = np.array([0.5, -1.0])
    b = 0.25
    hint = tagged('xor.neuron_bias', 'Hint: the output is activation(x @ w + b); did you forget the bias b, or multiply in the wrong order?')
    for act_name, activation in [('identity', lambda a: a), ('np.tanh', np.tanh)]:
        label = f'neuron(x={x.tolist()}, w={w.tolist()}, b={b}, activation={act_name})'
        out = call(neuron, x, w, b, activation, label=label, hint=hint)
        assert_close(out, activation(np.array([0.25, -1.25, -0.75])), name=label, rtol=ACTIVATION_RTOL, atol=ACTIVATION_ATOL, hint=hint)

