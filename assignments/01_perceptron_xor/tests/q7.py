from otter.test_files import test_case

OK_FORMAT = False

name = "q7"
points = 3

@test_case(points=None, hidden=False)
def test_count_parameters_public(count_parameters):
    from torch import nn
    from shared.checks import check_implemented
    layer = nn.Linear(3, 5)
    n = count_parameters(layer)
    check_implemented(n, 'count_parameters(nn.Linear(3, 5))')
    assert int(n) == 20, f'count_parameters(nn.Linear(3, 5)) should be 3*5 weights + 5 biases = 20, got {n}. Hint: count every parameter tensor, biases included: sum(p.numel() for p in module.parameters() ...).'
    net = nn.Sequential(nn.Linear(4, 6), nn.ReLU(), nn.Linear(6, 2))
    expected = 4 * 6 + 6 + 6 * 2 + 2
    assert int(count_parameters(net)) == expected, f'count_parameters(Linear(4, 6), ReLU, Linear(6, 2)) should be {expected}, got {count_parameters(net)}. Hint: include the biases.'
    net[0].weight.requires_grad_(False)
    expected_trainable = 6 + 6 * 2 + 2
    got = count_parameters(net)
    assert int(got) == expected_trainable, f"With the first layer's weight frozen (requires_grad=False), only {expected_trainable} parameters are trainable, got {got}. Hint: count only parameters with p.requires_grad."

@test_case(points=None, hidden=False)
def test_make_2817_net_public(make_2817_net):
    import torch
    from torch import nn
    from shared.checks import check_implemented
    net = make_2817_net()
    check_implemented(net, 'make_2817_net()')
    total = sum((p.numel() for p in net.parameters()))
    linears = [m for m in net.modules() if isinstance(m, nn.Linear)]
    shapes = [(m.in_features, m.out_features) for m in linears]
    assert shapes == [(10, 64), (64, 32), (32, 1)], f'make_2817_net should have Linear layers 10->64, 64->32, 32->1, got {shapes}'
    assert sum((isinstance(m, nn.ReLU) for m in net.modules())) == 2, 'make_2817_net should have a ReLU after each of the first two Linear layers'
    assert total == 2817, f'make_2817_net() has {total} parameters instead of 704 + 2,080 + 33 = 2,817. Hint: keep the biases.'
    out = net(torch.zeros(3, 10))
    assert tuple(out.shape) == (3, 1), f'make_2817_net()(x) for x of shape (3, 10) should have shape (3, 1), got {tuple(out.shape)}'

