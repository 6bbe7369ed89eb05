from otter.test_files import test_case

OK_FORMAT = False

name = "q4"
points = 4

@test_case(points=None, hidden=False)
def test_numerical_gradient_public(numerical_gradient):
    import numpy as np
    from shared.testing.backprop_by_hand import check_numerical_gradient, check_numerical_gradient_closure
    rng = np.random.default_rng(2)
    check_numerical_gradient(numerical_gradient, 'cubic_sine', rng.normal(size=(3, 4)), eps=0.0001)
    check_numerical_gradient_closure(numerical_gradient, rng.normal(size=(2, 3)), rng.normal(size=3))

@test_case(points=None, hidden=False)
def test_relative_error_and_gradient_check_public(relative_error, gradient_check):
    import numpy as np
    from shared.testing.backprop_by_hand import check_gradient_check, check_relative_error, gradient_check_case
    check_relative_error(relative_error, np.array([1.0, 2.0, 3.0]), np.array([1.0, 2.2, 3.0]), 0.2 / 4.2)
    check_relative_error(relative_error, np.zeros(3), np.zeros(3), 0.0)
    check_relative_error(relative_error, np.array([[1.0, -2.0], [0.5, 4.0]]), np.array([[1.5, -2.0], [0.5, 3.0]]), 0.2)
    check_relative_error(relative_error, np.array([-1.0, 2.0]), np.array([1.0, 2.0]), 1.0)
    check_gradient_check(gradient_check, gradient_check_case('ElementwiseAffine', (5, 3), seed=0))
    buggy = gradient_check_case('ElementwiseAffine', (5, 3), seed=0, bug='db_mean')
    check_gradient_check(gradient_check, buggy, bug_in='db')

