from otter.test_files import test_case

OK_FORMAT = False

name = "q5"
points = 4

@test_case(points=None, hidden=False)
def test_trask_step_public(sigmoid_prime_from_output, trask_step):
    import numpy as np
    from shared.testing.backprop_by_hand import XOR_X, XOR_Y, check_sigmoid_prime, check_trask_step
    check_sigmoid_prime(sigmoid_prime_from_output, np.array([-2.0, 0.0, 2.0]))
    rng = np.random.default_rng(4)
    syn0, syn1 = (2 * rng.random((3, 4)) - 1, 2 * rng.random((4, 1)) - 1)
    check_trask_step(trask_step, XOR_X, XOR_Y, syn0, syn1)

@test_case(points=None, hidden=False)
def test_trask_train_public(trask_train, rng_seed):
    from shared.testing.backprop_by_hand import check_trask_train
    check_trask_train(trask_train, hidden=4, iterations=2000, seed=rng_seed, max_error=0.1)

