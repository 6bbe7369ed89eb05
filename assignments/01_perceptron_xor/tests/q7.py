from otter.test_files import test_case

OK_FORMAT = False

name = "q7"
points = 3

@test_case(points=None, hidden=False)
def test_count_parameters_public(count_parameters):
    from torch import nn
    from shared.testing.perceptron_xor import check_count
    check_count(count_parameters, nn.Linear(3, 5), label='count_parameters(nn.Linear(3, 5)) (3*5 weights + 5 biases)')
    net = nn.Sequential(nn.Linear(4, 6), nn.ReLU(), nn.Linear(6, 2))
    check_count(count_parameters, net, label='count_parameters(nn.Sequential(nn.Linear(4, 6), nn.ReLU(), nn.Linear(6, 2)))')
    net[0].weight.requires_grad_(False)
    check_count(count_parameters, net, label="count_parameters(net) with the first layer's weight frozen (requires_grad=False)")

@test_case(points=None, hidden=False)
def test_make_2817_net_public(make_2817_net):
    import torch
    from shared.testing import tagged
    from shared.testing.perceptron_xor import call, check_forward, linear_layers
    torch.manual_seed(0)
    net = call(make_2817_net, label='make_2817_net()')
    l1, l2, l3 = linear_layers(net, [(10, 64), (64, 32), (32, 1)], label='make_2817_net()')
    total = sum((p.numel() for p in net.parameters()))
    assert total == 2817, f'make_2817_net() has {total} parameters instead of 704 + 2,080 + 33 = 2,817. Hint: keep the biases, and add no other layers with parameters.'
    check_forward(net, lambda x: l3(torch.relu(l2(torch.relu(l1(x))))), torch.randn(3, 10), label='make_2817_net()', hint=tagged('xor.net_2817_layers', 'Hint: Linear(10, 64) -> ReLU -> Linear(64, 32) -> ReLU -> Linear(32, 1): a ReLU after each of the first two Linear layers, nothing after the last.'))

