from otter.test_files import test_case

OK_FORMAT = False

name = "q10"
points = 2

@test_case(points=None, hidden=False)
def test_anomaly_public(env):
    from shared.testing import gate
    from shared.testing.autoencoder import answered, check_anomaly_claims, check_anomaly_numbers, upstream_checks
    skipped = gate(upstream_checks(env, 'q1', 'q2', 'q3', 'q9'))
    names = ('threshold', 'test_scores', 'is_anomaly', 'anomaly_auc', 'test_fpr', 'test_tpr')
    values = [answered(env, n, skipped) for n in names]
    if skipped is not None:
        return skipped
    check_anomaly_numbers(*values, env['y_test'] == env['ANOMALY'], check_auc=True)
    check_anomaly_claims(env['anomaly_auc'], env['test_fpr'], 'the test split')

