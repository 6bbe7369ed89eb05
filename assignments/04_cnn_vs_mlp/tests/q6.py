from otter.test_files import test_case

OK_FORMAT = False

name = "q6"
points = 3

@test_case(points=None, hidden=False)
def test_shift_public(shift):
    import torch
    from shared.checks import assert_close, check_implemented
    hint = 'Hint: out = torch.zeros_like(x), then copy the part of x that stays on the canvas; moving down by dy means out[..., dy:, :] = x[..., :H - dy, :]. torch.roll would wrap the pixels around instead of filling with zeros.'
    x = torch.arange(1, 2 * 3 * 5 * 6 + 1, dtype=torch.float64).reshape(2, 3, 5, 6)
    for dy, dx in [(1, 2), (-2, 1), (0, -3), (3, 0), (0, 0)]:
        out = shift(x, dy, dx)
        check_implemented(out, f'shift(x, {dy}, {dx})')
        padded = torch.nn.functional.pad(x, (max(dx, 0), max(-dx, 0), max(dy, 0), max(-dy, 0)))
        expected = padded[..., max(-dy, 0):max(-dy, 0) + 5, max(-dx, 0):max(-dx, 0) + 6]
        assert_close(out, expected, name=f'shift(x, dy={dy}, dx={dx}) for x of shape (2, 3, 5, 6)', rtol=0, atol=0, hint=hint)
    assert torch.equal(x, torch.arange(1, 181, dtype=torch.float64).reshape(2, 3, 5, 6)), 'shift should not modify its input x in place.'

@test_case(points=None, hidden=False)
def test_equivariance_gap_public(equivariance_gap):
    import torch
    from torch import nn
    from shared.checks import check_implemented

    def reference_shift(x, dy, dx):
        H, W = x.shape[-2:]
        padded = nn.functional.pad(x, (max(dx, 0), max(-dx, 0), max(dy, 0), max(-dy, 0)))
        return padded[..., max(-dy, 0):max(-dy, 0) + H, max(-dx, 0):max(-dx, 0) + W]
    torch.manual_seed(1)
    conv = nn.Conv2d(2, 4, 3, padding=1).double()
    x = torch.rand(3, 2, 12, 12, dtype=torch.float64)
    with torch.no_grad():
        inside = equivariance_gap(conv, x, 2, -1, 3)
        check_implemented(inside, 'equivariance_gap(conv, x, 2, -1, margin=3)')
        border = equivariance_gap(conv, x, 2, -1, 0)
        diff = conv(reference_shift(x, 2, -1)) - reference_shift(conv(x), 2, -1)
    assert isinstance(inside, float), f'equivariance_gap should return a Python float (use .item()), got {type(inside).__name__}'
    assert inside < 1e-12, f'A 3x3 convolution is translation-equivariant away from the borders, so equivariance_gap(conv, x, 2, -1, margin=3) should be 0 (up to rounding), got {inside:.3g}. Hint: compare f(shift(x)) with shift(f(x)) and crop `margin` pixels on every side: [..., margin:H - margin, margin:W - margin]; check shift too.'
    expected_border = diff.abs().max().item()
    assert abs(border - expected_border) <= 1e-09 * expected_border, f'equivariance_gap(conv, x, 2, -1, margin=0) should be the largest |f(shift(x)) - shift(f(x))| over the whole image, {expected_border:.6f} (the borders break equivariance), got {border:.6f}. Hint: with margin=0 keep every pixel; return the max of the absolute difference.'
    dense = nn.Linear(144, 144).double()
    fully_connected = lambda images: dense(images.flatten(1)).reshape(-1, 1, 12, 12)
    x1 = x[:, :1]
    with torch.no_grad():
        gap = equivariance_gap(fully_connected, x1, 1, 1, 3)
        expected = (fully_connected(reference_shift(x1, 1, 1)) - reference_shift(fully_connected(x1), 1, 1))[..., 3:9, 3:9].abs().max().item()
    assert abs(gap - expected) <= 1e-09 * expected, f'For a fully connected layer (144 -> 144, viewed as 12x12) equivariance_gap(f, x, 1, 1, margin=3) should be {expected:.6f}, got {gap:.6f}. Hint: f(shift(x)) - shift(f(x)), cropped by `margin` on every side, then the max absolute value.'

