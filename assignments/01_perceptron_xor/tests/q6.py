from otter.test_files import test_case

OK_FORMAT = False

name = "q6"
points = 4

@test_case(points=None, hidden=False)
def test_train_xor_steps_public(train_xor):
    import copy
    import torch
    from torch import nn
    from shared.data import logic_gate
    from shared.testing import beside
    from shared.testing.perceptron_xor import TRAIN_HINT, call, check_training, one_sgd_step, snapshot, training_hint, unpack_losses
    torch.manual_seed(5)
    model = nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 1), nn.Sigmoid())
    X, y = logic_gate('xor')
    lr = 0.5
    runs = [(None, None, model)]
    for _ in range(3):
        runs.append(one_sgd_step(runs[-1][2], X, y, lr))
    expected, first_mse = ([loss for loss, _, _ in runs[1:]], runs[1][1])
    for epochs in (1, 3):
        label = f'train_xor(model, X_xor, y_xor, epochs={epochs}, lr={lr})'
        trained = beside(train_xor, copy.deepcopy(model))
        losses = unpack_losses(call(train_xor, trained, X, y, epochs=epochs, lr=lr, label=label, hint=TRAIN_HINT), epochs, label=label)
        hint = training_hint(losses, expected[:epochs], first_mse=first_mse, after_first_step=expected[1])
        check_training(losses, snapshot(trained), expected[:epochs], snapshot(runs[epochs][2]), label=label, hint=hint)

@test_case(points=None, hidden=False)
def test_train_xor_solves_xor_public(train_xor):
    import torch
    from torch import nn
    from shared.data import logic_gate
    from shared.testing import beside
    from shared.testing.perceptron_xor import TRAIN_HINT, call, unpack_losses
    torch.manual_seed(0)
    model = beside(train_xor, nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 1), nn.Sigmoid()))
    X, y = logic_gate('xor')
    label = 'train_xor(model, X_xor, y_xor, epochs=500, lr=1.0)'
    losses = unpack_losses(call(train_xor, model, X, y, epochs=500, lr=1.0, label=label, hint=TRAIN_HINT), 500, label=label)
    assert losses[-1] < 0.1 and losses[-1] < losses[0], f'After {label} (seed 0) the loss should fall below 0.1; it went from {losses[0]:.4f} to {losses[-1]:.4f}. {TRAIN_HINT}'
    with torch.no_grad():
        pred = (model(torch.tensor(X, dtype=torch.float32)) > 0.5).float().cpu().ravel()
    assert torch.equal(pred, torch.tensor(y, dtype=torch.float32)), f'After {label} the model predicts {pred.tolist()} on XOR instead of {y.tolist()}.'

