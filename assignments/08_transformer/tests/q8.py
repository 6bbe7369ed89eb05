from otter.test_files import test_case

OK_FORMAT = False

name = "q8"
points = 2

@test_case(points=None, hidden=False)
def test_accuracy_public(env):
    from shared.testing import gate
    from shared.testing import left_as_stub
    from shared.testing.transformer import check_accuracy_claim, check_fraction, check_trained, parts_checks, trained
    left_as_stub(env, 'test_accuracy')
    skipped = gate(parts_checks(env))
    if skipped is not None:
        return skipped
    translator, = trained(env, 'translator')
    check_fraction(env.get('test_accuracy'), 'test_accuracy')
    check_trained(translator, env.get('src_test'), env.get('tgt_test'), name='translator', causal=True, where='the test numbers')
    check_accuracy_claim(env.get('test_accuracy'), 'the test numbers')

