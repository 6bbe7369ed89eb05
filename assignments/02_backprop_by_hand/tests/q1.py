from otter.test_files import test_case

OK_FORMAT = False

name = "q1"
points = 6

@test_case(points=None, hidden=False)
def test_hand_forward_public(hand):
    import math
    from shared.checks import check_implemented
    check_implemented(hand, 'hand')
    keys = ['a1', 'a2', 'f1', 'f2', 'a_out', 'y', 'loss', 'dL_dy', 'delta_out', 'delta1', 'delta2', 'dL_dv1', 'dL_dv2', 'dL_dc', 'dL_dw11', 'dL_dw12', 'dL_dw21', 'dL_dw22', 'dL_db1', 'dL_db2', 'v1_new', 'w11_new']
    assert isinstance(hand, dict), f'`hand` should be a dict of numbers, got {type(hand).__name__}'
    missing = [k for k in keys if k not in hand]
    assert not missing, f'`hand` lacks the entries {missing}; fill in every hand[...] line of the question cell.'
    v = {}
    for k in keys:
        check_implemented(hand[k], f'hand["{k}"]')
        try:
            v[k] = float(hand[k])
        except (TypeError, ValueError):
            raise AssertionError(f'hand["{k}"] should be a number, got {hand[k]!r}') from None
        assert math.isfinite(v[k]), f'hand["{k}"] should be a finite number, got {v[k]}'

    def sig(z):
        return 1.0 / (1.0 + math.exp(-z))
    x1, x2, w11, w12, b1, w21, w22, b2, v1, v2, c = (0.5, -1.0, 0.4, 0.3, 0.2, -0.6, 0.2, -0.1, 0.7, -0.5, 0.2)
    checks = [('a1', w11 * x1 + w12 * x2 + b1, 'a1 = w11 x1 + w12 x2 + b1', 'Hint: the pre-activation is the weighted sum of the inputs plus the bias.'), ('a2', w21 * x1 + w22 * x2 + b2, 'a2 = w21 x1 + w22 x2 + b2', 'Hint: the pre-activation is the weighted sum of the inputs plus the bias.'), ('f1', sig(v['a1']), f"f1 = sigma(a1) with your a1 = {v['a1']:.6g}", 'Hint: sigma(a) = 1 / (1 + exp(-a)).'), ('f2', sig(v['a2']), f"f2 = sigma(a2) with your a2 = {v['a2']:.6g}", 'Hint: sigma(a) = 1 / (1 + exp(-a)).'), ('a_out', v1 * v['f1'] + v2 * v['f2'] + c, f"a_out = v1 f1 + v2 f2 + c with your f1 = {v['f1']:.6g}, f2 = {v['f2']:.6g}", 'Hint: the output neuron sees the hidden activations f1, f2, not the pre-activations.'), ('y', sig(v['a_out']), f"y = sigma(a_out) with your a_out = {v['a_out']:.6g}", 'Hint: the output neuron is a sigmoid too.')]
    problems = []
    for key, expected, rule, hint in checks:
        if abs(v[key] - expected) > 0.0002 + 0.001 * abs(expected):
            problems.append(f'hand["{key}"] = {v[key]:.6g}, but {rule} gives {expected:.6g}. {hint}')
    assert not problems, f'{len(problems)} forward-pass value(s) are off by more than the tolerance 2e-4 + 0.1% of the value:\n' + '\n'.join(problems)

