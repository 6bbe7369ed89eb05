from otter.test_files import test_case

OK_FORMAT = False

name = "q7"
points = 4

@test_case(points=None, hidden=False)
def test_extract_patches_public(extract_patches):
    import torch
    from shared.checks import assert_close, check_implemented
    from shared.forbid import forbid
    hint = "Hint: patch (i, j) is x[n, :, i:i+k, j:j+k] flattened in (C, k, k) order, channel first: x.unfold(2, k, 1).unfold(3, k, 1) gives (N, C, H', W', k, k); move C next to (k, k) before flattening."
    torch.manual_seed(0)
    x = torch.randn(2, 3, 6, 5, dtype=torch.float64)
    with forbid('torch.nn.functional.conv2d', 'torch.conv2d', reason='Extract the patches with slicing or Tensor.unfold.'):
        out = extract_patches(x, 3)
    check_implemented(out, 'extract_patches(x, 3)')
    expected = torch.nn.functional.unfold(x, 3).transpose(1, 2).reshape(2, 4, 3, 27)
    assert_close(out, expected, name='extract_patches(x, 3) for x of shape (2, 3, 6, 5)', rtol=0, atol=0, hint=hint)

@test_case(points=None, hidden=False)
def test_linear_to_conv_public(linear_to_conv):
    import torch
    from torch import nn
    from shared.checks import assert_close, check_implemented
    hint = "Hint: a flattened patch is in (C, k, k) order, the order of the conv weight's last three dimensions, so conv.weight = linear.weight.reshape(C_out, C, k, k) and conv.bias = linear.bias."
    torch.manual_seed(4)
    C, k, C_out = (3, 2, 5)
    linear = nn.Linear(C * k * k, C_out).double()
    conv = linear_to_conv(linear, C, k)
    check_implemented(conv, 'linear_to_conv(nn.Linear(12, 5), in_channels=3, k=2)')
    assert isinstance(conv, nn.Conv2d), f'linear_to_conv should return an nn.Conv2d, got {type(conv).__name__}'
    assert (conv.in_channels, conv.out_channels, conv.kernel_size, conv.stride, conv.padding) == (3, 5, (2, 2), (1, 1), (0, 0)), f'linear_to_conv(Linear(12, 5), 3, 2) should be Conv2d(3, 5, kernel_size=2) with stride 1 and no padding, got {conv}'
    x = torch.randn(2, 3, 5, 4, dtype=torch.float64)
    patches = nn.functional.unfold(x, k).transpose(1, 2)
    expected = linear(patches).transpose(1, 2).reshape(2, C_out, 4, 3)
    with torch.no_grad():
        assert_close(conv(x), expected.detach(), name='conv(x) for the conv made from Linear(12, 5), x of shape (2, 3, 5, 4)', rtol=1e-10, atol=1e-12, hint=hint)

