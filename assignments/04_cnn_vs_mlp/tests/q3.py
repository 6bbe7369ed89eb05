from otter.test_files import test_case

OK_FORMAT = False

name = "q3"
points = 5

@test_case(points=None, hidden=False)
def test_train_one_epoch_public(train_one_epoch):
    import torch
    from torch import nn
    from shared.testing.cnn_vs_mlp import check_train_epoch, check_train_mode
    gen = torch.Generator().manual_seed(7)
    X, y = (torch.randn(12, 1, 3, 3, generator=gen), torch.randint(0, 4, (12,), generator=gen))
    torch.manual_seed(3)
    model = nn.Sequential(nn.Flatten(), nn.Linear(9, 6), nn.ReLU(), nn.Linear(6, 4))
    check_train_epoch(train_one_epoch, model, X, y, batch_size=5, loss_fn=nn.CrossEntropyLoss(label_smoothing=0.1), make_optimizer=lambda params: torch.optim.SGD(params, lr=0.5), desc="train_one_epoch(model, loader, nn.CrossEntropyLoss(label_smoothing=0.1), SGD(lr=0.5), 'cpu')")
    check_train_mode(train_one_epoch, seed=11, desc="train_one_epoch(model, loader, nn.CrossEntropyLoss(), Adam(lr=0.02), 'cpu')")

@test_case(points=None, hidden=False)
def test_evaluate_public(evaluate):
    import torch
    from torch import nn
    from shared.testing.cnn_vs_mlp import Probe, check_evaluate
    torch.manual_seed(21)
    model = nn.Sequential(Probe(), nn.Flatten(), nn.Linear(9, 16), nn.ReLU(), nn.Dropout(0.5), nn.Linear(16, 3))
    X, y = (torch.randn(10, 1, 3, 3), torch.tensor([0, 1, 2, 0, 1, 2, 0, 1, 2, 2]))
    check_evaluate(evaluate, model, X, y, batch_size=4, desc="evaluate(model, loader, 'cpu') on 10 examples")

