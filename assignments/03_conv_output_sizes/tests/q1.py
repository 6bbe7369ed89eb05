from otter.test_files import test_case

OK_FORMAT = False

name = "q1"
points = 3

@test_case(points=None, hidden=False)
def test_conv_output_size_public(conv_output_size):
    import numpy as np
    import torch
    from shared.checks import check_implemented

    def diagnose(n, k, s, p, d, got):
        span = n + 2 * p - d * (k - 1) - 1
        hints = []
        if got == -(-span // s) + 1:
            hints.append('you round up (ceil); PyTorch rounds down (floor, //): a window that would stick out past the padded input is not computed')
        if d > 1 and got == (n + 2 * p - k) // s + 1:
            hints.append('the dilation is ignored: a kernel of size k with dilation d spans d(k-1)+1 inputs')
        if p > 0 and got == (n + p - d * (k - 1) - 1) // s + 1:
            hints.append('padding is added on both sides, so the padded length is n + 2P')
        if got == span // s:
            hints.append('you forgot the + 1 that counts the first window')
        return 'Hint: ' + ('; '.join(hints) if hints else 'out = floor((n + 2P - d(k-1) - 1) / S) + 1, with integer division //.')
    out = conv_output_size(28, 3, padding=1)
    check_implemented(out, 'conv_output_size(28, 3, padding=1)')
    assert isinstance(out, (int, np.integer)) and (not isinstance(out, bool)), f'conv_output_size(28, 3, padding=1) should return an int, got {out!r} of type {type(out).__name__}. Hint: use integer division // rather than / and math.floor.'
    rng = np.random.default_rng(0)
    cases = [(28, 3, 1, 1, 1), (32, 5, 1, 0, 1), (7, 3, 2, 0, 1), (6, 3, 2, 0, 1), (28, 2, 2, 0, 1), (10, 3, 1, 0, 2)]
    while len(cases) < 250:
        n, k, s, p, d = (int(v) for v in (rng.integers(1, 40), rng.integers(1, 8), rng.integers(1, 5), rng.integers(0, 4), rng.integers(1, 3)))
        if d * (k - 1) + 1 <= n + 2 * p:
            cases.append((n, k, s, p, d))
    for n, k, s, p, d in cases:
        expected = torch.nn.functional.conv1d(torch.zeros(1, 1, n), torch.zeros(1, 1, k), stride=s, padding=p, dilation=d).shape[-1]
        call = f'conv_output_size(n={n}, kernel={k}, stride={s}, padding={p}, dilation={d})'
        try:
            got = conv_output_size(n, k, stride=s, padding=p, dilation=d)
        except ValueError as err:
            raise AssertionError(f'{call} raised ValueError({err}), but PyTorch accepts this layer and gives {expected}. Hint: the kernel fits when d(k-1)+1 <= n + 2P.') from None
        assert got == expected, f"{call} returned {got}, but PyTorch's conv1d gives {expected}. {diagnose(n, k, s, p, d, got)}"

@test_case(points=None, hidden=False)
def test_conv_output_size_errors_public(conv_output_size):
    import torch
    from shared.checks import check_implemented
    check_implemented(conv_output_size(5, 3), 'conv_output_size(5, 3)')
    bad = [(dict(n=5, kernel=3, stride=0), ('stride',)), (dict(n=5, kernel=3, padding=-1), ('padding',)), (dict(n=5, kernel=6), ('kernel',)), (dict(n=4, kernel=4, padding=1, dilation=2), ('kernel', 'dilation'))]
    for kwargs, names in bad:
        call = 'conv_output_size(' + ', '.join((f'{key}={value}' for key, value in kwargs.items())) + ')'
        args = dict(stride=1, padding=0, dilation=1) | kwargs
        try:
            torch.nn.functional.conv1d(torch.zeros(1, 1, args['n']), torch.zeros(1, 1, args['kernel']), stride=args['stride'], padding=args['padding'], dilation=args['dilation'])
        except RuntimeError as err:
            torch_says = str(err).splitlines()[0]
        else:
            raise AssertionError(f'test error: PyTorch accepts {call}')
        try:
            got = conv_output_size(**kwargs)
        except ValueError as err:
            assert any((name in str(err) for name in names)), f'''{call} raised ValueError({str(err)!r}); the message should name the bad argument ({' or '.join((repr(x) for x in names))}). Hint: say which argument is wrong, e.g. raise ValueError(f"{names[0]} ... got {names[0]}=...").'''
        except Exception as err:
            raise AssertionError(f'{call} raised {type(err).__name__}({err}) instead of ValueError. PyTorch refuses this layer: {torch_says}. Hint: check the arguments first and raise ValueError before computing anything.') from None
        else:
            raise AssertionError(f'{call} returned {got!r}, but this layer is impossible and PyTorch refuses it: {torch_says}. Hint: raise ValueError naming {names[0]!r}.')
    got = conv_output_size(4, 8, padding=2)
    assert got == 1, f'conv_output_size(n=4, kernel=8, padding=2) should be 1 (the kernel exactly fits the padded length 8), got {got!r}. Hint: the layer is impossible only when d(k-1)+1 > n + 2P, strictly.'

@test_case(points=None, hidden=False)
def test_ceil_counterexample_public(ceil_counterexample, conv_output_size):
    import math
    import torch
    from shared.checks import check_implemented
    example = ceil_counterexample()
    check_implemented(example, 'ceil_counterexample()')
    assert isinstance(example, (tuple, list)) and len(example) == 4, f'ceil_counterexample() should return a tuple (n, kernel, stride, padding), got {example!r}'
    n, k, s, p = (int(v) for v in example)
    assert n >= 1 and k >= 1 and (s >= 1) and (p >= 0) and (k <= n + 2 * p), f'ceil_counterexample() returned n={n}, kernel={k}, stride={s}, padding={p}, which is not a valid layer. Hint: the kernel must fit into the padded input, k <= n + 2P, and the stride be at least 1.'
    torch_size = torch.nn.functional.conv1d(torch.zeros(1, 1, n), torch.zeros(1, 1, k), stride=s, padding=p).shape[-1]
    slide = math.ceil((n - k + 2 * p) / s) + 1
    assert slide != torch_size, f"For n={n}, kernel={k}, stride={s}, padding={p} the slide's ceiling formula gives {slide} and PyTorch also gives {torch_size}: not a counterexample. Hint: the two agree whenever S divides n + 2P - k; try stride 2 with an odd n + 2P - k."

