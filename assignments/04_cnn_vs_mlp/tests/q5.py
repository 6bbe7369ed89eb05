from otter.test_files import test_case

OK_FORMAT = False

name = "q5"
points = 3

@test_case(points=None, hidden=False)
def test_experiment_public(final_acc, gap_shifted, gap_centred, trained, histories):
    import numpy as np
    from shared.checks import check_implemented
    from shared.digits import load_digits_data
    from shared.training import accuracy
    check_implemented(final_acc, 'final_acc')
    keys = [('shifted', 'cnn'), ('shifted', 'mlp'), ('centred', 'cnn'), ('centred', 'mlp')]
    assert isinstance(final_acc, dict) and sorted(final_acc) == sorted(keys), f'final_acc should have the keys {keys}, got {list(final_acc)[:6]}'
    for key in keys:
        X_test, y_test = load_digits_data('test', canvas=16, shifted=key[0] == 'shifted')
        measured = accuracy(trained[key], X_test, y_test)
        assert abs(float(final_acc[key]) - measured) < 1e-06, f"final_acc[{key}] is {float(final_acc[key]):.4f}, but the trained network scores {measured:.4f} on the test split. Hint: take histories[key]['test_acc'][-1], the accuracy after the last epoch; evaluate() must return the fraction of correct predictions."
    check_implemented(gap_shifted, 'gap_shifted')
    check_implemented(gap_centred, 'gap_centred')
    for name, value, data in [('gap_shifted', gap_shifted, 'shifted'), ('gap_centred', gap_centred, 'centred')]:
        expected = final_acc[data, 'cnn'] - final_acc[data, 'mlp']
        assert np.isclose(float(value), expected), f'{name} should be CNN minus MLP accuracy on {data} digits, {expected:+.4f}; got {float(value)!r}'
    diagnosis = 'Hint: an accuracy near 0.1 is chance: check that each image keeps its own label and that the model trains (zero_grad, backward, step); check the training loop and the loaders first.'
    cnn = float(final_acc['shifted', 'cnn'])
    assert cnn >= 0.6, f"On shifted digits the CNN should reach a test accuracy of at least 0.6 after {len(histories['shifted', 'cnn']['test_acc'])} epochs; yours has {cnn:.3f}. {diagnosis}"
    assert float(gap_shifted) >= 0.2, f"On shifted digits the CNN should beat the MLP by at least 0.2; the gap is {float(gap_shifted):+.3f} (CNN {cnn:.3f}, MLP {float(final_acc['shifted', 'mlp']):.3f}). {diagnosis}"
    for name in ('cnn', 'mlp'):
        assert float(final_acc['centred', name]) >= 0.8, f"On centred digits the {name.upper()} should reach at least 0.8; yours has {float(final_acc['centred', name]):.3f}. {diagnosis}"
    assert abs(float(gap_centred)) <= 0.1, f'On centred digits the gap should mostly close (at most 0.1 either way); it is {float(gap_centred):+.3f}.'

