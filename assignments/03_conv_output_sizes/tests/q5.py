from otter.test_files import test_case

OK_FORMAT = False

name = "q5"
points = 3

@test_case(points=None, hidden=False)
def test_receptive_field_public(receptive_field):
    import numpy as np
    import torch
    from torch import nn
    from shared.checks import check_implemented

    def measure(layers, n=1024):
        """Receptive field and jump of the middle output unit, from the gradient w.r.t. the input."""
        x = torch.ones(1, 1, n, dtype=torch.float64, requires_grad=True)
        y = x
        for layer in layers:
            if isinstance(layer, (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d)):
                first = lambda v: v[0] if isinstance(v, tuple) else v
                k, s, p, d = (first(getattr(layer, name, 1)) for name in ('kernel_size', 'stride', 'padding', 'dilation'))
                y = torch.nn.functional.conv1d(y, torch.ones(1, 1, k, dtype=torch.float64), stride=s, padding=p, dilation=d)
        middle = y.shape[-1] // 2
        fields = []
        for unit in (middle, middle + 1):
            grad, = torch.autograd.grad(y[0, 0, unit], x, retain_graph=True)
            seen = torch.nonzero(grad[0, 0]).flatten()
            fields.append((int(seen.min()), int(seen.max())))
        return (fields[0][1] - fields[0][0] + 1, fields[1][0] - fields[0][0])

    def diagnose(layers, got):
        jump, no_jump, no_dil = (1, 1, 1)
        for layer in layers:
            if isinstance(layer, (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d)):
                first = lambda v: v[0] if isinstance(v, tuple) else v
                k, s, d = (first(layer.kernel_size), first(layer.stride), first(getattr(layer, 'dilation', 1)))
                no_jump += d * (k - 1)
                no_dil += (k - 1) * jump
                jump *= s
        hints = []
        if got[0] == no_jump:
            hints.append('each layer widens the field by d(k-1) times the accumulated stride (the jump) of the layers before it, not by d(k-1)')
        if got[0] == no_dil:
            hints.append('a dilated kernel spans d(k-1)+1 units: the dilation is missing')
        return 'Hint: ' + ('; '.join(hints) if hints else 'r += d(k-1) * j, then j *= S, layer by layer (pooling too).')
    three = [nn.Conv2d(1, 1, 3), nn.ReLU(), nn.Conv2d(1, 1, 3), nn.ReLU(), nn.Conv2d(1, 1, 3)]
    got = receptive_field(three)
    check_implemented(got, 'receptive_field(three 3x3 convs)')
    assert tuple((int(v) for v in got)) == (7, 1), f'receptive_field of three 3x3 convolutions (stride 1) should be (7, 1), got {got!r}. Hint: each 3x3 layer adds 2 to the field; ReLUs add nothing.'
    rng = np.random.default_rng(21)
    stacks = [[nn.Conv2d(1, 1, 3, padding=1), nn.MaxPool2d(2), nn.Conv2d(1, 1, 3, padding=1), nn.MaxPool2d(2)], [nn.Conv2d(1, 1, 3, dilation=1), nn.Conv2d(1, 1, 3, dilation=2), nn.Conv2d(1, 1, 3, dilation=4)], [nn.Conv2d(1, 1, 7, stride=2, padding=3), nn.MaxPool2d(3, stride=2, padding=1), nn.Conv2d(1, 1, 3, padding=1), nn.Conv2d(1, 1, 3, stride=2)]]
    for _ in range(12):
        stack = []
        for _ in range(int(rng.integers(2, 6))):
            k, s, d = (int(rng.integers(1, 6)), int(rng.integers(1, 3)), int(rng.integers(1, 3)))
            if rng.random() < 0.3:
                stack.append(nn.MaxPool2d(k, stride=s, padding=int(rng.integers(0, k // 2 + 1)), dilation=d))
            else:
                stack.append(nn.Conv2d(1, 1, k, stride=s, padding=int(rng.integers(0, 3)), dilation=d))
            if rng.random() < 0.3:
                stack.append(nn.ReLU())
        stacks.append(stack)
    for stack in stacks:
        want = measure(stack)
        got = receptive_field(stack)
        assert isinstance(got, tuple) and len(got) == 2, f'receptive_field should return a tuple (r, j), got {got!r}'
        got = tuple((int(v) for v in got))
        assert got == want, f"receptive_field({stack}) returned (r, j) = {got}, but the measured field of one output unit is {want[0]} pixels wide and neighbouring units' fields start {want[1]} pixels apart. {diagnose(stack, got)}"

