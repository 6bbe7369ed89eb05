from otter.test_files import test_case

OK_FORMAT = False

name = "q8"
points = 2

@test_case(points=None, hidden=False)
def test_denoising_public(env):
    from shared.testing import gate
    from shared.testing.autoencoder import answered, check_denoising, check_noisy_error, upstream_checks
    skipped = gate(upstream_checks(env, 'q1', 'q2', 'q3', 'q7'))
    noisy_error, denoised_error = (answered(env, n, skipped) for n in ('noisy_error', 'denoised_error'))
    if skipped is not None:
        return skipped
    check_noisy_error(noisy_error, env['X_test_noisy'], env['X_test'])
    check_denoising(noisy_error, denoised_error, 'the test split')

