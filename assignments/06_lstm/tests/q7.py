from otter.test_files import test_case

OK_FORMAT = False

name = "q7"
points = 2

@test_case(points=None, hidden=False)
def test_memory_public(env):
    from shared.testing import gate
    from shared.testing.lstm import answered, check_float, check_memory_claim, memory_gate
    skipped = gate(memory_gate(env))
    memory_acc = answered(env, 'memory_acc', skipped)
    if skipped is not None:
        return skipped
    assert isinstance(memory_acc, dict) and set(memory_acc) == {'rnn', 'lstm'}, f"memory_acc should have the keys 'rnn' and 'lstm', got {memory_acc!r:.80}"
    accuracies = {kind: check_float(memory_acc[kind], f'memory_acc[{kind!r}]') for kind in ('rnn', 'lstm')}
    assert all((0.0 <= v <= 1.0 for v in accuracies.values())), f'accuracies are fractions in [0, 1], got {memory_acc}'
    check_memory_claim(accuracies, n_symbols=4, where='the test sequences')

