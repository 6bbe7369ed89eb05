from otter.test_files import test_case

OK_FORMAT = False

name = "q4"
points = 4

@test_case(points=None, hidden=False)
def test_make_loaders_public(make_loaders):
    import collections
    import torch
    from shared.checks import check_implemented
    from shared.digits import load_digits_data
    result = make_loaders(canvas=16, shifted=True, batch_size=32, seed=0)
    check_implemented(result, 'make_loaders(canvas=16, shifted=True, batch_size=32, seed=0)')
    assert isinstance(result, tuple) and len(result) == 2, f'make_loaders should return (train_loader, test_loader), got {type(result).__name__}'
    train_loader, test_loader = result
    first_x, first_y = next(iter(train_loader))
    assert tuple(first_x.shape) == (32, 1, 16, 16) and tuple(first_y.shape) == (32,), f"The training loader's batches should have shapes (32, 1, 16, 16) and (32,), got {tuple(first_x.shape)} and {tuple(first_y.shape)}"
    Xs, ys = zip(*train_loader, strict=True)
    X, y = (torch.cat(Xs), torch.cat(ys))
    X_train, y_train = load_digits_data('train', canvas=16, shifted=True)
    X_test, _ = load_digits_data('test', canvas=16, shifted=True)
    assert len(X) == len(X_train), f"One pass over the training loader should give the {len(X_train)} training digits, got {len(X)}. Hint: build the training loader from the 'train' split; the 'test' split is only for evaluation."
    test_images = {bytes(x.numpy()) for x in X_test}
    assert not any((bytes(x.numpy()) in test_images for x in X)), "The training loader yields images of the test split. Hint: build the training loader from the 'train' split; never train on the test set."
    pairs = collections.Counter(((bytes(a.numpy()), int(b)) for a, b in zip(X, y, strict=True)))
    expected_pairs = collections.Counter(((bytes(a.numpy()), int(b)) for a, b in zip(X_train, y_train, strict=True)))
    assert pairs == expected_pairs, f'The training loader holds the right images, but {sum((pairs - expected_pairs).values())} of them come with a label that is not their own. Hint: keep each image with its own label: pass X_train and y_train unchanged to make_loader.'
    assert not torch.equal(y[:64], y_train[:64]), 'The training loader should be shuffled (shuffle=True).'
    first, again, other = (torch.cat([b for _, b in make_loaders(canvas=16, shifted=True, batch_size=32, seed=seed)[0]]) for seed in (0, 0, 1))
    assert torch.equal(first, again), 'Two calls of make_loaders(seed=0) should give the same batch order. Hint: make_loader(..., seed=seed).'
    assert not torch.equal(first, other), 'make_loaders with seeds 0 and 1 gave the same batch order. Hint: pass `seed` to make_loader.'
    X_t, y_t = (torch.cat(parts) for parts in zip(*test_loader, strict=True))
    X_test, y_test = load_digits_data('test', canvas=16, shifted=True)
    assert torch.equal(X_t, X_test) and torch.equal(y_t, y_test), "The test loader should yield the 'test' split in its original order (shuffle=False), each image with its label."

@test_case(points=None, hidden=False)
def test_run_experiment_public(run_experiment):
    import copy
    import torch
    from torch import nn
    from shared.checks import assert_close, check_implemented
    from shared.training import fit, make_loader

    class Probe(nn.Module):
        """Identity layer that records (batch size, training mode, gradients enabled) at every forward."""

        def __init__(self):
            super().__init__()
            self.calls = []

        def forward(self, x):
            self.calls.append((len(x), self.training, torch.is_grad_enabled()))
            return x
    gen = torch.Generator().manual_seed(12)
    X_train, y_train = (torch.rand(12, 1, 4, 4, generator=gen), torch.randint(0, 3, (12,), generator=gen))
    X_test, y_test = (torch.rand(10, 1, 4, 4, generator=gen), torch.randint(0, 3, (10,), generator=gen))
    torch.manual_seed(2)
    probe = Probe()
    model = nn.Sequential(probe, nn.Flatten(), nn.Linear(16, 8), nn.ReLU(), nn.Linear(8, 3))
    reference = copy.deepcopy(model)
    history = run_experiment(model, make_loader(X_train, y_train, batch_size=4, seed=5), make_loader(X_test, y_test, batch_size=5, shuffle=False), epochs=3, lr=0.01, device=torch.device('cpu'))
    check_implemented(history, "run_experiment(model, train_loader, test_loader, epochs=3, lr=0.01, device='cpu')")
    test_calls = [(training, grad) for size, training, grad in probe.calls if size == 5]
    assert test_calls, 'run_experiment never evaluated the model on the test loader (batches of 5 here). Hint: call evaluate(model, test_loader, device) after every epoch.'
    assert not any((training or grad for training, grad in test_calls)), 'run_experiment ran the model on the test set in training mode or with gradients on: the test set must only be evaluated and must never be used for training. Hint: train_one_epoch(model, train_loader, ...) for training, evaluate(model, test_loader, device) for the test set.'
    assert isinstance(history, dict) and set(history) == {'train_loss', 'test_loss', 'test_acc'}, f"run_experiment should return a dict with keys 'train_loss', 'test_loss', 'test_acc', got {history!r:.120}"
    for key, values in history.items():
        assert len(values) == 3, f'history[{key!r}] should hold one value per epoch (3), got {len(values)}'
    fit(reference, make_loader(X_train, y_train, batch_size=4, seed=5), epochs=3, lr=0.01, seed=None)
    for (name, p), q in zip(model.named_parameters(), reference.parameters(), strict=True):
        assert_close(p.detach().cpu(), q.detach(), name=f'parameter {name} after run_experiment(epochs=3, lr=0.01)', rtol=0.0001, atol=1e-05, hint='Hint: one torch.optim.Adam(model.parameters(), lr=lr) and one nn.CrossEntropyLoss() for the whole run; train only on train_loader.')
    reference.eval()
    with torch.no_grad():
        logits = reference(X_test)
    final_acc = (logits.argmax(dim=1) == y_test).double().mean().item()
    final_loss = nn.functional.cross_entropy(logits, y_test).item()
    assert abs(float(history['test_acc'][-1]) - final_acc) < 1e-09 and abs(float(history['test_loss'][-1]) - final_loss) < 1e-05, f"After the last epoch history should hold the test accuracy {final_acc:.4f} and loss {final_loss:.5f}, got {float(history['test_acc'][-1]):.4f} and {float(history['test_loss'][-1]):.5f}. Hint: evaluate on test_loader after training each epoch."

