from otter.test_files import test_case

OK_FORMAT = False

name = "q13"
points = 2

@test_case(points=None, hidden=False)
def test_conv_claim_public(env):
    from shared.testing import gate
    from shared.testing.autoencoder import answered, check_conv_claim, check_counts, check_given, upstream_checks
    checks = upstream_checks(env, 'q1', 'q2', 'q3', 'q12')
    checks['q4'] = lambda: check_given(test_error=env.get('test_error'))
    skipped = gate(checks)
    conv_params, dense_params, conv_test_error = (answered(env, n, skipped) for n in ('conv_params', 'dense_params', 'conv_test_error'))
    if skipped is not None:
        return skipped
    check_counts(conv_params, dense_params, env['conv_ae'], env['lecture_ae'])
    check_conv_claim(conv_params, dense_params, conv_test_error, env['test_error'], 'the test split')

