from otter.test_files import test_case

OK_FORMAT = False

name = "q3"
points = 2

@test_case(points=None, hidden=False)
def test_params_lecture_public(conv2d_params, linear_params):
    from shared.checks import check_implemented
    got = linear_params(32 * 32 * 3, 100, bias=False)
    check_implemented(got, 'linear_params(3072, 100, bias=False)')
    assert got == 307200, f"linear_params(32*32*3, 100, bias=False) should be 307,200 (the lecture's dense layer), got {got!r}. Hint: one weight per input per unit, n_in * n_out."
    got = conv2d_params(3, 64, 3, bias=False)
    check_implemented(got, 'conv2d_params(3, 64, 3, bias=False)')
    assert got == 1728, f"conv2d_params(3, 64, 3, bias=False) should be 3*3*3*64 = 1,728 (the lecture's conv layer), got {got!r}. " + ('Hint: each filter spans all C_in input channels: k_h * k_w * C_in weights per filter.' if got == 576 else 'Hint: k_h * k_w * C_in weights per filter, C_out filters.')
    for call, got, want, hint in [('linear_params(3072, 100)', linear_params(3072, 100), 307300, 'Hint: with bias=True add one bias per unit: (n_in + 1) * n_out.'), ('conv2d_params(3, 64, 3)', conv2d_params(3, 64, 3), 1792, 'Hint: with bias=True add one bias per filter (per output channel): (k_h k_w C_in + 1) C_out.'), ('linear_params(100 * 100, 1, bias=False)', linear_params(100 * 100, 1, bias=False), 10000, 'Hint: one dense neuron has one weight per pixel.'), ('conv2d_params(1, 1, 3, bias=False)', conv2d_params(1, 1, 3, bias=False), 9, 'Hint: a 3x3 filter on one channel has 9 weights.'), ('conv2d_params(1, 1, (3, 5))', conv2d_params(1, 1, (3, 5)), 16, 'Hint: a (3, 5) kernel has 15 weights, plus one bias.')]:
        assert got == want, f'{call} should be {want:,}, got {got!r}. {hint}'

@test_case(points=None, hidden=False)
def test_params_vs_torch_public(conv2d_params, linear_params):
    import numpy as np
    from torch import nn
    from shared.checks import check_implemented
    check_implemented(conv2d_params(2, 2, 1), 'conv2d_params(2, 2, 1)')
    rng = np.random.default_rng(7)
    for _ in range(40):
        groups = int(rng.choice([1, 1, 1, 2, 4]))
        c_in, c_out = (groups * int(rng.integers(1, 6)), groups * int(rng.integers(1, 6)))
        kernel = int(rng.integers(1, 6)) if rng.random() < 0.5 else (int(rng.integers(1, 6)), int(rng.integers(1, 6)))
        bias = bool(rng.random() < 0.7)
        layer = nn.Conv2d(c_in, c_out, kernel, groups=groups, bias=bias, device='meta')
        want = sum((p.numel() for p in layer.parameters()))
        got = conv2d_params(c_in, c_out, kernel, groups=groups, bias=bias)
        kh, kw = layer.kernel_size
        hints = []
        if bias and got == want - c_out:
            hints.append('count the bias: one per output channel')
        if got == (kh * kw + int(bias)) * c_out:
            hints.append('each filter spans C_in / groups input channels: leaving C_in out counts a single channel')
        if groups > 1 and got == (kh * kw * c_in + int(bias)) * c_out:
            hints.append('with groups=g each filter reads only C_in / g channels')
        hint = 'Hint: ' + ('; '.join(hints) if hints else '(k_h k_w C_in / groups + 1) C_out, the +1 only with bias.')
        assert got == want, f'conv2d_params(c_in={c_in}, c_out={c_out}, kernel={kernel}, groups={groups}, bias={bias}) returned {got!r}, but {layer} has {want} parameters. {hint}'
    for n_in, n_out, bias in [(1, 1, True), (784, 512, True), (7, 3, False), (12, 1, True)]:
        want = sum((p.numel() for p in nn.Linear(n_in, n_out, bias=bias, device='meta').parameters()))
        got = linear_params(n_in, n_out, bias=bias)
        assert got == want, f'linear_params({n_in}, {n_out}, bias={bias}) returned {got!r}, but nn.Linear has {want}. Hint: (n_in + 1) n_out with a bias, n_in n_out without.'

