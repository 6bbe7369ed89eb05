from otter.test_files import test_case

OK_FORMAT = False

name = "q6"
points = 3

@test_case(points=None, hidden=False)
def test_shift_public(shift):
    import torch
    from shared.testing.cnn_vs_mlp import check_shift
    image = torch.arange(1, 13, dtype=torch.float64).reshape(3, 4)
    x = torch.stack([torch.stack([image + 12 * (2 * n + c) for c in range(2)]) for n in range(2)])
    for (dy, dx), rows in {(1, 2): [[0, 0, 0, 0], [0, 0, 1, 2], [0, 0, 5, 6]], (-2, 1): [[0, 9, 10, 11], [0, 0, 0, 0], [0, 0, 0, 0]], (0, -3): [[4, 0, 0, 0], [8, 0, 0, 0], [12, 0, 0, 0]], (0, 0): image.tolist()}.items():
        moved = torch.tensor(rows, dtype=torch.float64)
        expected = torch.stack([torch.stack([torch.where(moved > 0, moved + 12 * (2 * n + c), 0.0) for c in range(2)]) for n in range(2)])
        check_shift(shift, x, dy, dx, expected)

@test_case(points=None, hidden=False)
def test_equivariance_gap_public(equivariance_gap):
    import torch
    from torch import nn
    from shared.testing.cnn_vs_mlp import check_gap, offset_map
    torch.manual_seed(1)
    conv = nn.Conv2d(2, 4, 3, padding=1).double()
    x = torch.rand(3, 2, 12, 12, dtype=torch.float64)
    check_gap(equivariance_gap, conv, x, 2, -1, 3, 0.0, 'Conv2d(2, 4, 3, padding=1)')
    check_gap(equivariance_gap, offset_map(0.5), x, 2, -1, 0, 0.5, 'lambda x: x - 0.5')
    check_gap(equivariance_gap, offset_map(0.5), x, 2, -1, 2, 0.0, 'lambda x: x - 0.5')

