from otter.test_files import test_case

OK_FORMAT = False

name = "q10"
points = 1

@test_case(points=None, hidden=False)
def test_ablation_public(env):
    from shared.testing import gate
    from shared.testing.lstm import answered, check_ablation_claim, check_float, memory_gate
    skipped = gate(memory_gate(env))
    ablation_acc = answered(env, 'ablation_acc', skipped)
    if skipped is not None:
        return skipped
    ablation_acc = check_float(ablation_acc, 'ablation_acc')
    assert 0.0 <= ablation_acc <= 1.0, f'an accuracy is a fraction in [0, 1], got {ablation_acc!r}'
    check_ablation_claim(ablation_acc, n_symbols=4, where='the test sequences')

