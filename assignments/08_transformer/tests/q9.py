from otter.test_files import test_case

OK_FORMAT = False

name = "q9"
points = 2

@test_case(points=None, hidden=False)
def test_nomask_public(env):
    from shared.testing import gate
    from shared.testing import left_as_stub
    from shared.testing.transformer import check_fraction, check_nomask_claim, check_trained, parts_checks, trained
    left_as_stub(env, 'nomask_accuracy')
    skipped = gate(parts_checks(env))
    if skipped is not None:
        return skipped
    nomask_translator, = trained(env, 'nomask_translator')
    check_fraction(env.get('nomask_accuracy'), 'nomask_accuracy')
    check_trained(nomask_translator, env.get('src_test'), env.get('tgt_test'), name='nomask_translator', causal=False, where='the test numbers')
    check_nomask_claim(env.get('nomask_accuracy'), 'the test numbers')

