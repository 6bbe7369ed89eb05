from otter.test_files import test_case

OK_FORMAT = False

name = "q5"
points = 3

@test_case(points=None, hidden=False)
def test_experiment_public(env):
    from shared.checks import check_implemented
    from shared.digits import load_digits_data
    from shared.testing import gate, left_as_stub
    from shared.testing.cnn_vs_mlp import check_claim, check_final_numbers, upstream_checks_in
    final_acc, histories = (env.get('final_acc'), env.get('histories'))
    left_as_stub(env, 'final_acc')
    skipped = gate(upstream_checks_in(env, load_digits_data))
    if skipped is not None and (histories is None or final_acc is None):
        return skipped
    check_implemented(final_acc, 'final_acc')
    check_final_numbers(final_acc, env.get('gap_shifted'), env.get('gap_centred'), histories)
    if skipped is not None:
        return skipped
    check_claim(final_acc, 'the test split', runs='the experiment cell (EPOCHS, LR, which network trains on which digits)')

