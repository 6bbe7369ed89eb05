from otter.test_files import test_case

OK_FORMAT = False

name = "q7"
points = 2

@test_case(points=None, hidden=False)
def test_memory_public(env):
    from shared.testing import gate
    from shared.testing.lstm import answered, check_float, check_forget_bias_for, check_init_forget_bias, check_memory_claim, check_memory_model
    checks = {'q6': lambda: (check_init_forget_bias(env.get('init_forget_bias'), input_size=3, hidden_size=4, num_layers=1, value=1.0, seed=0), check_forget_bias_for(env.get('forget_bias_for'), 30, 0.5), [check_memory_model(env.get('MemoryNet'), k, n_inputs=5, n_symbols=4, hidden_size=8, forget_bias=2.5, seed=1) for k in ('rnn', 'lstm')])}
    skipped = gate(checks)
    memory_acc = answered(env, 'memory_acc', skipped)
    if skipped is not None:
        return skipped
    assert isinstance(memory_acc, dict) and set(memory_acc) == {'rnn', 'lstm'}, f"memory_acc should have the keys 'rnn' and 'lstm', got {memory_acc!r:.80}"
    accuracies = {kind: check_float(memory_acc[kind], f'memory_acc[{kind!r}]') for kind in ('rnn', 'lstm')}
    assert all((0.0 <= v <= 1.0 for v in accuracies.values())), f'accuracies are fractions in [0, 1], got {memory_acc}'
    check_memory_claim(accuracies, n_symbols=4, where='the test sequences')

