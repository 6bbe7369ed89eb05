from otter.test_files import test_case

OK_FORMAT = False

name = "q5"
points = 2

@test_case(points=None, hidden=False)
def test_make_xor_mlp_public(make_xor_mlp):
    import torch
    from torch import nn
    from shared.checks import check_implemented
    from shared.data import logic_gate
    torch.manual_seed(0)
    model = make_xor_mlp(hidden=8)
    check_implemented(model, 'make_xor_mlp(hidden=8)')
    assert isinstance(model, nn.Module), f'make_xor_mlp should return an nn.Module (an nn.Sequential), got {type(model).__name__}'
    n_params = sum((p.numel() for p in model.parameters()))
    assert n_params == 33, f'make_xor_mlp(hidden=8) should have 2*8 + 8 (first layer) + 8 + 1 (output layer) = 33 parameters, got {n_params}. Hint: nn.Linear(2, hidden) then nn.Linear(hidden, 1), both with biases.'
    assert any((isinstance(m, (nn.Tanh, nn.ReLU)) for m in model.modules())), f'make_xor_mlp has no non-linear activation between its layers: {model}. Hint: without a non-linearity (nn.Tanh() or nn.ReLU()) two Linear layers collapse into one linear map, and a line cannot solve XOR.'
    X, y = logic_gate('xor')
    Xt = torch.tensor(X, dtype=torch.float32)
    yt = torch.tensor(y, dtype=torch.float32).reshape(-1, 1)
    out = model(Xt)
    assert tuple(out.shape) == (4, 1), f'model(X) for X of shape (4, 2) should have shape (4, 1), got {tuple(out.shape)}'
    assert bool(((out > 0) & (out < 1)).all()), f'The outputs should be probabilities in (0, 1), got {out.detach().cpu().ravel().tolist()}. Hint: end with nn.Sigmoid().'
    opt = torch.optim.SGD(model.parameters(), lr=1.0)
    for _ in range(500):
        opt.zero_grad()
        nn.functional.binary_cross_entropy(model(Xt), yt).backward()
        opt.step()
    pred = (model(Xt) > 0.5).float()
    assert bool((pred == yt).all()), f'After 500 SGD steps (lr=1.0, seed 0) your network predicts {pred.ravel().tolist()} on XOR instead of {y.tolist()}. Hint: the hidden layer needs a non-linear activation (nn.Tanh()) between the two Linear layers.'

