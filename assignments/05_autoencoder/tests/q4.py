from otter.test_files import test_case

OK_FORMAT = False

name = "q4"
points = 2

@test_case(points=None, hidden=False)
def test_lecture_errors_public(env):
    from shared.testing import gate
    from shared.testing.autoencoder import answered, check_lecture_errors, check_mean_image_error, upstream_checks
    skipped = gate(upstream_checks(env, 'q1', 'q2', 'q3'))
    train_error, test_error, mean_image_error = (answered(env, n, skipped) for n in ('train_error', 'test_error', 'mean_image_error'))
    if skipped is not None:
        return skipped
    check_mean_image_error(mean_image_error, env['X_train'], env['X_test'])
    check_lecture_errors(train_error, test_error, mean_image_error, 'the test split')

