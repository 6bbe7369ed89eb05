from otter.test_files import test_case

OK_FORMAT = False

name = "q7"
points = 4

@test_case(points=None, hidden=False)
def test_extract_patches_public(extract_patches):
    import torch
    from shared.testing.cnn_vs_mlp import check_patches
    torch.manual_seed(0)
    check_patches(extract_patches, torch.randn(2, 3, 6, 5, dtype=torch.float64), 3)

@test_case(points=None, hidden=False)
def test_linear_to_conv_public(linear_to_conv):
    import torch
    from torch import nn
    from shared.testing.cnn_vs_mlp import check_linear_to_conv
    torch.manual_seed(4)
    check_linear_to_conv(linear_to_conv, nn.Linear(3 * 2 * 2, 5).double(), 3, 2, torch.randn(2, 3, 5, 4, dtype=torch.float64))

