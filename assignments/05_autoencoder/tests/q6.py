from otter.test_files import test_case

OK_FORMAT = False

name = "q6"
points = 3

@test_case(points=None, hidden=False)
def test_autoencoder_vs_pca_public(env):
    from shared.testing import gate
    from shared.testing.autoencoder import answered, check_linear_autoencoder, check_pca_claims, upstream_checks
    check_linear_autoencoder(env.get('make_linear_autoencoder'), 784, 4, seed=0)
    check_linear_autoencoder(env.get('make_linear_autoencoder'), 10, 3, seed=1)
    skipped = gate(upstream_checks(env, 'q1', 'q2', 'q3', 'q5'))
    errors = [answered(env, n, skipped) for n in ('pca_train_error', 'linear_train_error', 'pca_test_error', 'nonlinear_test_error')]
    if skipped is not None:
        return skipped
    check_pca_claims(*errors, 'the test split')

