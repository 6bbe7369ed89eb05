from otter.test_files import test_case

OK_FORMAT = False

name = "q4"
points = 2

@test_case(points=None, hidden=False)
def test_xor_limit_public(env, best_linear_accuracy):
    import numpy as np
    from shared.data import logic_gate
    from shared.testing import gate
    from shared.testing.perceptron_xor import best_linear_hint, call, check_xor_run, perceptron_checks
    xor_accuracy, w_xor, b_xor = (env.get('xor_accuracy'), env.get('w_xor'), env.get('b_xor'))
    perceptron_predict = env.get('perceptron_predict')
    skipped = gate(perceptron_checks(env))
    if skipped is None:
        check_xor_run(xor_accuracy, w_xor, b_xor, perceptron_predict)
    for gate_name, want in (('xor', 0.75), ('and', 1.0)):
        Xg, yg = logic_gate(gate_name)
        label = f'best_linear_accuracy(X_{gate_name}, y_{gate_name}, n_trials=2000, seed=0)'
        best = call(best_linear_accuracy, Xg, yg, n_trials=2000, seed=0, label=label)
        assert np.ndim(best) == 0, f'{label} should return a single number, got {best!r}'
        assert np.isclose(float(best), want), f"{label} should be {want} ({('3 of 4 points: no line does better on XOR' if gate_name == 'xor' else 'AND is linearly separable')}), got {best}. {best_linear_hint(float(best), 4, want)}"
    return skipped

