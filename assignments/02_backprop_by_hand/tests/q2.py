from otter.test_files import test_case

OK_FORMAT = False

name = "q2"
points = 6

@test_case(points=None, hidden=False)
def test_layers_public(Linear, Sigmoid, Tanh, ReLU):
    import numpy as np
    from shared.testing.backprop_by_hand import activation_input, check_activation, check_linear
    check_linear(Linear, n=4, d_in=3, d_out=5, seed=0)
    rng = np.random.default_rng(1)
    x, dout = (activation_input(rng, (3, 4), scale=2.0), rng.normal(size=(3, 4)))
    for layer, kind in [(Sigmoid, 'Sigmoid'), (Tanh, 'Tanh'), (ReLU, 'ReLU')]:
        check_activation(layer, kind, x, dout)

