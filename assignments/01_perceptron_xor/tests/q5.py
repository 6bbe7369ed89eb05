from otter.test_files import test_case

OK_FORMAT = False

name = "q5"
points = 2

@test_case(points=None, hidden=False)
def test_make_xor_mlp_public(make_xor_mlp):
    import torch
    from shared.data import logic_gate
    from shared.testing import run_beside
    from shared.testing.perceptron_xor import MLP_HINT, call, check_forward, linear_layers, mlp_hint, reset_linears, train_full_batch
    torch.manual_seed(0)
    run_beside(make_xor_mlp, torch.manual_seed, 0)
    label = 'make_xor_mlp(hidden=8)'
    model = call(make_xor_mlp, hidden=8, label=label)
    first, second = linear_layers(model, [(2, 8), (8, 1)], label=label)
    n_params = sum((p.numel() for p in model.parameters()))
    assert n_params == 33, f'{label} should have 2*8 + 8 (first layer) + 8 + 1 (output layer) = 33 parameters, got {n_params}. Hint: nn.Linear(2, hidden) then nn.Linear(hidden, 1), both with biases, and no other parameters.'
    x = torch.randn(5, 2)
    check_forward(model, lambda x: torch.sigmoid(second(torch.tanh(first(x)))), x, label=label, hint=mlp_hint(first, second, x, 'tanh'))
    X, y = logic_gate('xor')
    reset_linears([first, second], seed=0)
    pred = train_full_batch(model, X, y, steps=500, lr=1.0)
    assert torch.equal(pred, torch.tensor(y, dtype=torch.float32)), f"After 500 full-batch SGD steps (lr=1.0) from the test's initial values, {label} predicts {pred.tolist()} on XOR instead of {y.tolist()}. {MLP_HINT}"

