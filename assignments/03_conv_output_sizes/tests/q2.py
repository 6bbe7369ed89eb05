from otter.test_files import test_case

OK_FORMAT = False

name = "q2"
points = 3

@test_case(points=None, hidden=False)
def test_pool_output_size_public(pool_output_size):
    import numpy as np
    import torch
    from shared.checks import check_implemented

    def diagnose(n, k, s, p, d, ceil, got):
        step = k if s is None else s
        span = n + 2 * p - d * (k - 1) - 1
        hints = []
        if s is None and got == span + 1:
            hints.append('stride=None means the stride defaults to kernel_size, not 1')
        if ceil and got == -(-span // step) + 1:
            hints.append("PyTorch's last-window rule: in ceil_mode the last window must start inside the input or the left padding; if (out - 1) * stride >= n + padding, drop it")
        if ceil and got == span // step + 1:
            hints.append('ceil_mode=True rounds the division up')
        if not ceil and got == -(-span // step) + 1:
            hints.append('without ceil_mode pooling rounds down, like a convolution')
        return 'Hint: ' + ('; '.join(hints) if hints else 'out = floor (or, with ceil_mode, ceil) of (n + 2P - d(k-1) - 1) / S, plus 1.')
    out = pool_output_size(28, 2)
    check_implemented(out, 'pool_output_size(28, 2)')
    assert isinstance(out, (int, np.integer)) and (not isinstance(out, bool)), f'pool_output_size(28, 2) should return an int, got {out!r}. Hint: use //.'
    rng = np.random.default_rng(3)
    cases = [(28, 2, None, 0, 1, False), (7, 2, None, 0, 1, False), (7, 2, None, 0, 1, True), (5, 2, 2, 1, 1, True), (6, 3, 3, 1, 1, True), (10, 3, 2, 1, 1, True)]
    while len(cases) < 300:
        k = int(rng.integers(1, 6))
        case = (int(rng.integers(1, 30)), k, None if rng.random() < 0.25 else int(rng.integers(1, 5)), int(rng.integers(0, k // 2 + 1)), int(rng.integers(1, 3)), bool(rng.random() < 0.6))
        cases.append(case)
    checked = 0
    for n, k, s, p, d, ceil in cases:
        try:
            expected = torch.nn.functional.max_pool1d(torch.zeros(1, 1, n), k, stride=s, padding=p, dilation=d, ceil_mode=ceil).shape[-1]
        except RuntimeError:
            continue
        checked += 1
        call = f'pool_output_size(n={n}, kernel={k}, stride={s}, padding={p}, dilation={d}, ceil_mode={ceil})'
        got = pool_output_size(n, k, stride=s, padding=p, dilation=d, ceil_mode=ceil)
        assert got == expected, f"{call} returned {got}, but PyTorch's max_pool1d gives {expected}. {diagnose(n, k, s, p, d, ceil, got)}"
    assert checked > 200, f'test error: only {checked} valid configurations'

@test_case(points=None, hidden=False)
def test_conv_transpose_output_size_public(conv_transpose_output_size):
    import numpy as np
    import torch
    from shared.checks import check_implemented
    out = conv_transpose_output_size(7, 2, stride=2)
    check_implemented(out, 'conv_transpose_output_size(7, 2, stride=2)')
    assert out == 14, f'conv_transpose_output_size(7, kernel=2, stride=2) should be 14 (it undoes MaxPool2d(2) on 14), got {out!r}. Hint: (n - 1)S - 2P + d(k-1) + output_padding + 1.'
    rng = np.random.default_rng(5)
    checked = 0
    while checked < 200:
        n, k, s, p, d = (int(v) for v in (rng.integers(1, 20), rng.integers(1, 6), rng.integers(1, 4), rng.integers(0, 3), rng.integers(1, 3)))
        op = int(rng.integers(0, max(s, d)))
        try:
            expected = torch.nn.functional.conv_transpose1d(torch.zeros(1, 1, n), torch.zeros(1, 1, k), stride=s, padding=p, output_padding=op, dilation=d).shape[-1]
        except RuntimeError:
            continue
        checked += 1
        call = f'conv_transpose_output_size(n={n}, kernel={k}, stride={s}, padding={p}, output_padding={op}, dilation={d})'
        got = conv_transpose_output_size(n, k, stride=s, padding=p, output_padding=op, dilation=d)
        hint = 'Hint: out = (n - 1)S - 2P + d(k-1) + output_padding + 1'
        if op and got == expected - op:
            hint += '; you left out output_padding'
        if d > 1 and got == expected - (d - 1) * (k - 1):
            hint += '; you left out the dilation'
        assert got == expected, f"{call} returned {got}, but PyTorch's conv_transpose1d gives {expected}. {hint}."

