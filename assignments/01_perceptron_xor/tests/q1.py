from otter.test_files import test_case

OK_FORMAT = False

name = "q1"
points = 4

@test_case(points=None, hidden=False)
def test_activations_public(sigmoid, tanh, relu):
    import numpy as np
    from shared.testing.perceptron_xor import check_elementwise, check_relu, check_sigmoid
    z = np.array([[-3.0, -0.5, 0.0], [0.5, 2.0, 6.0]])
    check_sigmoid(sigmoid, z, label=f'sigmoid(z) for z = {z.tolist()}')
    check_elementwise(tanh, z, np.tanh(z), label=f'tanh(z) for z = {z.tolist()}', hint='Hint: np.tanh does it, or (exp(z) - exp(-z)) / (exp(z) + exp(-z)).')
    check_relu(relu, z, label=f'relu(z) for z = {z.tolist()}')

@test_case(points=None, hidden=False)
def test_softmax_public(softmax):
    import numpy as np
    from shared.testing.perceptron_xor import check_softmax
    check_softmax(softmax, np.array([1.0, 2.0, 3.0]), axis=None, label='softmax([1, 2, 3])')
    z = np.array([[1.0, 2.0, 3.0, 4.0], [0.0, 0.0, 0.0, 0.0], [-1.0, 5.0, 2.0, 0.5]])
    check_softmax(softmax, z, axis=None, label=f'softmax(z) for z = {z.tolist()} (each row should sum to 1)')
    check_softmax(softmax, np.array([1000.0, 1001.0, 1002.0]), axis=None, label='softmax([1000, 1001, 1002])')
    z = np.array([[1000.0, 1001.0, 1002.0], [-1000.0, -1001.0, -1002.0]])
    check_softmax(softmax, z, axis=None, label=f'softmax(z) for z = {z.tolist()} (each row on its own scale)')

