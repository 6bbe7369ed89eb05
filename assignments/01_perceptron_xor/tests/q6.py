from otter.test_files import test_case

OK_FORMAT = False

name = "q6"
points = 4

@test_case(points=None, hidden=False)
def test_train_xor_matches_manual_sgd_public(train_xor):
    import copy
    import torch
    from torch import nn
    from shared.checks import assert_close, check_implemented
    from shared.data import logic_gate
    torch.manual_seed(5)
    model = nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 1), nn.Sigmoid())
    reference = copy.deepcopy(model)
    X, y = logic_gate('xor')
    lr = 0.5
    Xt = torch.tensor(X, dtype=torch.float32)
    yt = torch.tensor(y, dtype=torch.float32).reshape(-1, 1)
    expected_losses = []
    for _ in range(3):
        loss = nn.functional.binary_cross_entropy(reference(Xt), yt)
        grads = torch.autograd.grad(loss, list(reference.parameters()))
        with torch.no_grad():
            for p, g in zip(reference.parameters(), grads, strict=True):
                p -= lr * g
        expected_losses.append(loss.item())
    losses = train_xor(model, X, y, epochs=3, lr=lr)
    check_implemented(losses, 'train_xor(model, X_xor, y_xor, epochs=3, lr=0.5)')
    hint = 'Hint: each step is optimizer.zero_grad(); loss = BCELoss()(model(X), y); loss.backward(); optimizer.step(). Without zero_grad the gradients of earlier steps add up in p.grad.'
    assert len(losses) == 3, f'train_xor(..., epochs=3) should return 3 losses, got {len(losses)}: {losses}'
    assert_close(torch.tensor([float(v) for v in losses], dtype=torch.float64), torch.tensor(expected_losses, dtype=torch.float64), name='the 3 losses returned by train_xor(model, X_xor, y_xor, epochs=3, lr=0.5)', rtol=1e-05, atol=1e-06, hint=hint + " Record loss.item() from each step's forward pass, before optimizer.step().")
    for (name, p), q in zip(model.named_parameters(), reference.parameters(), strict=True):
        assert_close(p.detach().cpu().double(), q.detach().double(), name=f'parameter {name} after 3 SGD steps (lr=0.5)', rtol=1e-05, atol=1e-06, hint=hint)

@test_case(points=None, hidden=False)
def test_train_xor_solves_xor_public(train_xor):
    import torch
    from torch import nn
    from shared.checks import check_implemented
    from shared.data import logic_gate
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 1), nn.Sigmoid())
    X, y = logic_gate('xor')
    losses = train_xor(model, X, y, epochs=500, lr=1.0)
    check_implemented(losses, 'train_xor(model, X_xor, y_xor, epochs=500, lr=1.0)')
    assert len(losses) == 500 and all((isinstance(v, float) for v in losses)), 'train_xor should return a list of 500 Python floats (loss.item() per step)'
    assert losses[-1] < 0.1 and losses[-1] < losses[0], f'After 500 steps of SGD (lr=1.0, seed 0) on XOR the loss should fall below 0.1; it went from {losses[0]:.4f} to {losses[-1]:.4f}. Hint: optimizer.zero_grad(), forward, BCELoss, loss.backward(), optimizer.step(), in every epoch.'
    with torch.no_grad():
        pred = (model(torch.tensor(X, dtype=torch.float32)) > 0.5).float().cpu().ravel()
    assert torch.equal(pred, torch.tensor(y, dtype=torch.float32)), f'After training the model predicts {pred.tolist()} on XOR instead of {y.tolist()}.'

