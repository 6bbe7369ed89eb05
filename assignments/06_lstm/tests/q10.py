from otter.test_files import test_case

OK_FORMAT = False

name = "q10"
points = 1

@test_case(points=None, hidden=False)
def test_ablation_public(env):
    from shared.testing import gate
    from shared.testing.lstm import answered, check_ablation_claim, check_float, check_forget_bias_for, check_init_forget_bias, check_memory_model
    checks = {'q6': lambda: (check_init_forget_bias(env.get('init_forget_bias'), input_size=3, hidden_size=4, num_layers=1, value=1.0, seed=0), check_forget_bias_for(env.get('forget_bias_for'), 30, 0.5), [check_memory_model(env.get('MemoryNet'), k, n_inputs=5, n_symbols=4, hidden_size=8, forget_bias=2.5, seed=1) for k in ('rnn', 'lstm')])}
    skipped = gate(checks)
    ablation_acc = answered(env, 'ablation_acc', skipped)
    if skipped is not None:
        return skipped
    ablation_acc = check_float(ablation_acc, 'ablation_acc')
    assert 0.0 <= ablation_acc <= 1.0, f'an accuracy is a fraction in [0, 1], got {ablation_acc!r}'
    check_ablation_claim(ablation_acc, n_symbols=4, where='the test sequences')

