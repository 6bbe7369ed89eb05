from otter.test_files import test_case

OK_FORMAT = False

name = "q3"
points = 4

@test_case(points=None, hidden=False)
def test_losses_public(mse_loss, softmax_cross_entropy):
    import numpy as np
    from shared.testing.backprop_by_hand import check_cross_entropy, check_mse
    rng = np.random.default_rng(1)
    check_mse(mse_loss, rng.normal(size=(4, 3)), rng.normal(size=(4, 3)))
    cases = [('random logits of shape (4, 5)', rng.normal(scale=3.0, size=(4, 5)), [0, 3, 3, 1]), ('logits around +-1000', [[1000.0, -1000.0, 999.0], [-1000.0, -999.0, -1000.5]], [2, 0])]
    for what, logits, labels in cases:
        check_cross_entropy(softmax_cross_entropy, np.array(logits), np.array(labels), what)

