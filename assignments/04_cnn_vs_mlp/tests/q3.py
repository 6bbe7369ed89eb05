from otter.test_files import test_case

OK_FORMAT = False

name = "q3"
points = 5

@test_case(points=None, hidden=False)
def test_train_one_epoch_public(train_one_epoch):
    import contextlib
    import copy
    import io
    import torch
    from torch import nn
    from shared.checks import assert_close, check_implemented
    from shared.training import make_loader
    steps = 'Hint: per batch: optimizer.zero_grad(); loss = loss_fn(model(x), y) on the raw logits; loss.backward(); optimizer.step(); and add loss.item() * len(y) to a running sum that you divide by the number of examples.'
    gen = torch.Generator().manual_seed(7)
    X, y = (torch.randn(12, 1, 3, 3, generator=gen), torch.randint(0, 4, (12,), generator=gen))
    torch.manual_seed(3)
    start = nn.Sequential(nn.Flatten(), nn.Linear(9, 6), nn.ReLU(), nn.Linear(6, 4))
    lr = 0.5

    def hand_made_epoch(softmax_first=False, accumulate=False):
        net = copy.deepcopy(start)
        params = list(net.parameters())
        summed = [torch.zeros_like(p) for p in params]
        total = 0.0
        for k in range(0, 12, 4):
            out = net(X[k:k + 4])
            loss = nn.functional.cross_entropy(out.softmax(dim=1) if softmax_first else out, y[k:k + 4])
            with torch.no_grad():
                for p, g, s in zip(params, torch.autograd.grad(loss, params), summed, strict=True):
                    s += g
                    p -= lr * (s if accumulate else g)
            total += loss.item() * 4
        return (params, total / 12)
    model = copy.deepcopy(start)
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    with contextlib.redirect_stderr(io.StringIO()) as err:
        loss = train_one_epoch(model, make_loader(X, y, batch_size=4, shuffle=False), nn.CrossEntropyLoss(), optimizer, torch.device('cpu'))
    check_implemented(loss, "train_one_epoch(model, loader, nn.CrossEntropyLoss(), SGD(lr=0.5), 'cpu')")
    assert err.getvalue() == '', f'With progress=False, train_one_epoch should print nothing, but it wrote {err.getvalue()[:80]!r}. Hint: progress_bar(loader, enabled=progress).'
    got = [p.detach() for p in model.parameters()]
    expected, expected_loss = hand_made_epoch()
    if not all((torch.allclose(g, e, rtol=0.0001, atol=1e-05) for g, e in zip(got, expected, strict=True))):
        for variant, hint in [({'accumulate': True}, "Hint: the gradients of earlier batches were added to this batch's: call optimizer.zero_grad() before every loss.backward()."), ({'softmax_first': True}, 'Hint: you applied softmax to the logits before the loss: nn.CrossEntropyLoss applies log-softmax itself, so pass it the raw logits.')]:
            if all((torch.allclose(g, e, rtol=0.0001, atol=1e-05) for g, e in zip(got, hand_made_epoch(**variant)[0], strict=True))):
                raise AssertionError(f"After one epoch of 3 batches (SGD, lr=0.5) the parameters differ from a correct loop's. {hint}")
        names = [n for n, _ in model.named_parameters()]
        for name, g, e in zip(names, got, expected, strict=True):
            assert_close(g, e, name=f'parameter {name} after one epoch of 3 batches of 4 (SGD, lr=0.5)', rtol=0.0001, atol=1e-05, hint=steps)
    assert isinstance(loss, float), f'train_one_epoch should return a Python float (use loss.item()), got {type(loss).__name__}'
    assert abs(loss - expected_loss) <= 1e-05 * max(1.0, abs(expected_loss)), f'train_one_epoch returned {loss:.6f}, expected the mean loss per example over the epoch {expected_loss:.6f}. {steps}'

@test_case(points=None, hidden=False)
def test_train_one_epoch_modes_public(train_one_epoch):
    import torch
    from torch import nn
    from shared.checks import check_implemented
    from shared.training import make_loader

    class Probe(nn.Module):
        """Identity layer that records (training mode, gradients enabled) at every forward."""

        def __init__(self):
            super().__init__()
            self.calls = []

        def forward(self, x):
            self.calls.append((self.training, torch.is_grad_enabled()))
            return x
    torch.manual_seed(11)
    probe = Probe()
    model = nn.Sequential(probe, nn.Flatten(), nn.Linear(16, 32), nn.ReLU(), nn.Dropout(0.1), nn.Linear(32, 5))
    X, y = (torch.randn(8, 1, 4, 4), torch.arange(8) % 5)
    loader = make_loader(X, y, batch_size=8, shuffle=False)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.02)
    model.eval()
    losses = []
    for _ in range(25):
        loss = train_one_epoch(model, loader, nn.CrossEntropyLoss(), optimizer, 'cpu')
        check_implemented(loss, "train_one_epoch(model, loader, loss_fn, optimizer, 'cpu')")
        losses.append(float(loss))
    assert probe.calls and all((training for training, _ in probe.calls)), 'The model was in eval mode when train_one_epoch started and stayed there: dropout was off during training. Hint: call model.train() at the start of train_one_epoch.'
    assert losses[-1] < 0.5 * losses[0], f'Training 25 epochs on one fixed batch of 8 examples (Adam, lr=0.02) should at least halve the loss; it went from {losses[0]:.4f} to {losses[-1]:.4f}. Hint: optimizer.zero_grad(), forward, loss, loss.backward(), optimizer.step() for every batch.'

@test_case(points=None, hidden=False)
def test_evaluate_public(evaluate):
    import contextlib
    import copy
    import io
    import torch
    from torch import nn
    from shared.checks import check_implemented
    from shared.training import make_loader

    class Probe(nn.Module):
        """Identity layer that records (training mode, gradients enabled) at every forward."""

        def __init__(self):
            super().__init__()
            self.calls = []

        def forward(self, x):
            self.calls.append((self.training, torch.is_grad_enabled()))
            return x
    torch.manual_seed(21)
    probe = Probe()
    model = nn.Sequential(probe, nn.Flatten(), nn.Linear(9, 16), nn.ReLU(), nn.Dropout(0.5), nn.Linear(16, 3))
    X, y = (torch.randn(10, 1, 3, 3), torch.tensor([0, 1, 2, 0, 1, 2, 0, 1, 2, 2]))
    loader = make_loader(X, y, batch_size=4, shuffle=False)
    for p in model.parameters():
        p.grad = torch.full_like(p, 0.25)
    before = copy.deepcopy(model)
    model.train()
    rng_before = torch.get_rng_state()
    with contextlib.redirect_stderr(io.StringIO()) as err:
        result = evaluate(model, loader, torch.device('cpu'))
    check_implemented(result, "evaluate(model, loader, 'cpu')")
    rng_after = torch.get_rng_state()
    assert err.getvalue() == '', f'With progress=False, evaluate should print nothing, but it wrote {err.getvalue()[:80]!r}.'
    assert isinstance(result, tuple) and len(result) == 2, f'evaluate should return a tuple (mean_loss, accuracy), got {result!r}'
    assert probe.calls, 'evaluate(model, loader, device) never called the model'
    assert not any((training for training, _ in probe.calls)), 'evaluate ran the model in training mode, so dropout randomly zeroed activations. Hint: call model.eval() before evaluating.'
    assert not any((grad for _, grad in probe.calls)), 'evaluate ran the model with gradients enabled: PyTorch built a graph for every batch. Hint: wrap the evaluation loop in `with torch.no_grad():` (and never call backward() or optimizer.step() there).'
    for (name, p), q in zip(model.named_parameters(), before.parameters(), strict=True):
        assert torch.equal(p, q), f'evaluate changed parameter {name}. Hint: evaluation must not call backward() or optimizer.step(); use torch.no_grad().'
        assert p.grad is not None and torch.equal(p.grad, torch.full_like(p, 0.25)), f'evaluate changed the gradient of {name} (it was 0.25 everywhere). Hint: no loss.backward() and no optimizer.zero_grad() in evaluation; use torch.no_grad().'
    assert torch.equal(rng_before, rng_after), 'evaluate consumed random numbers (dropout was sampling masks). Hint: call model.eval() before evaluating.'
    loss, acc = (float(v) for v in result)
    before.eval()
    with torch.no_grad():
        logits = before(X)
    expected_loss = nn.functional.cross_entropy(logits, y, reduction='sum').item() / 10
    expected_acc = (logits.argmax(dim=1) == y).double().mean().item()
    assert abs(acc - expected_acc) < 1e-09, f'evaluate returned accuracy {acc}, expected {expected_acc} on 10 examples in batches of 4, 4, 2. Hint: count (logits.argmax(dim=1) == y) over all batches and divide by the number of examples.'
    assert abs(loss - expected_loss) < 1e-05, f"evaluate returned mean loss {loss:.6f}, expected {expected_loss:.6f}: cross-entropy summed over all 10 examples (batches of 4, 4, 2), divided by 10. Hint: F.cross_entropy(logits, y, reduction='sum') per batch; a mean of the batch means over-weights the last, smaller batch."
    with contextlib.redirect_stderr(io.StringIO()):
        again = evaluate(model, loader, 'cpu', progress=True)
    assert tuple((float(v) for v in again)) == (loss, acc), f'evaluate should be deterministic: a second call gave {again} instead of {(loss, acc)}.'

