from otter.test_files import test_case

OK_FORMAT = False

name = "q2"
points = 2

@test_case(points=None, hidden=False)
def test_reconstruction_loss_public(reconstruction_loss):
    import torch
    from shared.testing.autoencoder import check_loss_value
    x = torch.zeros(2, 3, dtype=torch.float64)
    check_loss_value(reconstruction_loss, torch.ones(2, 3, dtype=torch.float64), x, 3.0)
    x_hat = torch.tensor([[1.0, 2.0], [0.0, 0.0], [3.0, 0.0], [0.0, 1.0]], dtype=torch.float64)
    check_loss_value(reconstruction_loss, x_hat, torch.zeros(4, 2, dtype=torch.float64), (5 + 0 + 9 + 1) / 4)
    check_loss_value(reconstruction_loss, torch.full((3, 2, 2, 2), 0.5), torch.zeros(3, 2, 2, 2), 2.0)

