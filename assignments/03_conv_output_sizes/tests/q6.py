from otter.test_files import test_case

OK_FORMAT = False

name = "q6"
points = 5

@test_case(points=None, hidden=False)
def test_conv2d_public(conv2d):
    import numpy as np
    import torch
    from shared.checks import assert_close, assert_shape, check_implemented
    from shared.forbid import forbid
    forbidden = ['torch.nn.functional.conv2d', 'torch.conv2d', 'torch.nn.functional.conv1d', 'torch.conv1d', 'torch.nn.functional.conv3d', 'torch.convolution', 'torch._convolution', 'torch.nn.functional.conv_transpose2d', 'torch.nn.Conv2d.forward', 'torch.nn.Conv2d._conv_forward']
    reason = 'Build the patches with unfold and multiply by the reshaped weights.'
    rng = np.random.default_rng(8)
    cases = [((1, 1, 5, 5), (1, 1, 3, 3), True, 1, 0, 1), ((2, 3, 8, 8), (4, 3, 3, 3), True, 1, 1, 1), ((2, 2, 7, 9), (3, 2, 2, 3), False, 2, 1, 1), ((1, 3, 10, 10), (2, 3, 3, 3), True, 1, 2, 2), ((3, 1, 6, 11), (2, 1, 3, 1), True, (2, 1), (0, 1), (1, 2))]
    for _ in range(10):
        c_in, k = (int(rng.integers(1, 4)), (int(rng.integers(1, 4)), int(rng.integers(1, 4))))
        cases.append(((int(rng.integers(1, 4)), c_in, int(rng.integers(5, 14)), int(rng.integers(5, 14))), (int(rng.integers(1, 5)), c_in, *k), bool(rng.random() < 0.7), (int(rng.integers(1, 3)), int(rng.integers(1, 3))), int(rng.integers(0, 2)), (int(rng.integers(1, 3)), int(rng.integers(1, 3)))))
    gen = torch.Generator().manual_seed(8)
    for index, (x_shape, w_shape, with_bias, stride, padding, dilation) in enumerate(cases):
        x = torch.randn(x_shape, generator=gen, dtype=torch.float64)
        w = torch.randn(w_shape, generator=gen, dtype=torch.float64)
        b = torch.randn(w_shape[0], generator=gen, dtype=torch.float64) if with_bias else None
        expected = torch.nn.functional.conv2d(x, w, b, stride=stride, padding=padding, dilation=dilation)
        call = f"conv2d(x of shape {x_shape}, w of shape {w_shape}, b={('(C_out,)' if with_bias else None)}, stride={stride}, padding={padding}, dilation={dilation})"
        with forbid(*forbidden, reason=reason):
            out = conv2d(x, w, b, stride=stride, padding=padding, dilation=dilation)
        if index == 0:
            check_implemented(out, 'conv2d(x, w, b)')
        assert isinstance(out, torch.Tensor), f'{call} should return a torch.Tensor, got {type(out).__name__}'
        assert_shape(out, tuple(expected.shape), call, hint='Hint: H_out and W_out come from conv_output_size; reshape the (N, C_out, L) product to (N, C_out, H_out, W_out).')
        hint = "Hint: out[n, o] = sum over (c, u, v) of w[o, c, u, v] * patch[c, u, v] + b[o]; unfold's patches are flattened in (C_in, k_h, k_w) order, like w.reshape(C_out, -1)."
        flipped = torch.nn.functional.conv2d(x, w.flip((-2, -1)), b, stride=stride, padding=padding, dilation=dilation)
        if w_shape[-1] * w_shape[-2] > 1 and torch.allclose(out.detach().cpu().double(), flipped):
            hint = "Hint: you flipped the kernel (a true convolution); PyTorch's conv2d is a cross-correlation and uses w as it is, with no flip."
        assert_close(out.detach().cpu().double(), expected, name=call, rtol=1e-09, atol=1e-10, hint=hint)

@test_case(points=None, hidden=False)
def test_max_pool2d_public(max_pool2d):
    import torch
    from shared.checks import assert_close, assert_shape, check_implemented
    from shared.forbid import forbid
    forbidden = ['torch.nn.functional.max_pool2d', 'torch.max_pool2d', 'torch.nn.functional.max_pool2d_with_indices', 'torch.nn.functional.max_pool1d', 'torch.max_pool1d', 'torch.nn.functional.adaptive_max_pool2d', 'torch.nn.functional.fractional_max_pool2d', 'torch.nn.MaxPool2d.forward']
    reason = 'Take the max over windows made with unfold.'
    gen = torch.Generator().manual_seed(9)
    cases = [((1, 1, 4, 4), 2, None, 0), ((2, 3, 7, 7), 2, None, 0), ((2, 2, 9, 8), 3, 2, 1), ((1, 3, 6, 10), (2, 3), (1, 2), (1, 1)), ((3, 1, 5, 5), 3, 1, 1)]
    for index, (shape, k, s, p) in enumerate(cases):
        x = torch.randn(shape, generator=gen, dtype=torch.float64) - 1.0
        expected = torch.nn.functional.max_pool2d(x, k, stride=s, padding=p)
        call = f'max_pool2d(x of shape {shape}, kernel_size={k}, stride={s}, padding={p})'
        with forbid(*forbidden, reason=reason):
            out = max_pool2d(x, k, stride=s, padding=p)
        if index == 0:
            check_implemented(out, 'max_pool2d(x, 2)')
        assert_shape(out, tuple(expected.shape), call, hint='Hint: stride=None means stride=kernel_size; the size is pool_output_size of H and W.')
        hint = "Hint: pad with -inf (F.pad(x, (pw, pw, ph, ph), value=float('-inf'))), never with zeros, so the padding never wins the max; then unfold the height and the width and take amax over the window."
        assert_close(out.detach().cpu().double(), expected, name=call, rtol=1e-12, atol=1e-12, hint=hint)

