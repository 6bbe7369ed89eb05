"""shared.training and shared.timing (seeded loaders, progress bars, predictions) and the
autograder-only reference fit and accuracy (grader_support.training)."""

import contextlib
import copy
import io
import time

import pytest
import torch
from torch import nn

from autograder.grader_support.training import accuracy, fit
from shared.timing import stopwatch
from shared.training import make_loader, predict, progress_bar


def _data(n=24, seed=0):
    gen = torch.Generator().manual_seed(seed)
    X = torch.randn(n, 1, 3, 3, generator=gen)
    y = (X.flatten(1).sum(dim=1) > 0).long()  # learnable: the sign of the pixel sum
    return X, y


def _labels(loader):
    return torch.cat([y for _, y in loader])


def test_make_loader_is_seeded_and_leaves_the_global_rng_alone():
    X, y = _data()
    before = torch.get_rng_state()
    a = _labels(make_loader(X, torch.arange(24), batch_size=5, seed=1))
    assert torch.equal(torch.get_rng_state(), before)
    b = _labels(make_loader(X, torch.arange(24), batch_size=5, seed=1))
    c = _labels(make_loader(X, torch.arange(24), batch_size=5, seed=2))
    assert torch.equal(a, b) and not torch.equal(a, c)
    assert sorted(a.tolist()) == list(range(24))
    loader = make_loader(X, torch.arange(24), batch_size=5, seed=1)
    assert not torch.equal(_labels(loader), _labels(loader)), "each epoch draws a new order"


def test_make_loader_in_order_and_batch_sizes():
    X, y = _data(10)
    loader = make_loader(X, y, batch_size=4, shuffle=False)
    assert [len(b) for _, b in loader] == [4, 4, 2]
    assert torch.equal(torch.cat([x for x, _ in loader]), X)
    assert [len(b) for _, b in make_loader(X, y, batch_size=4, drop_last=True)] == [4, 4]
    with pytest.raises(ValueError, match="10 rows but y has 9"):
        make_loader(X, y[:9])


def test_progress_bar_switch():
    items = [1, 2, 3]
    with contextlib.redirect_stderr(io.StringIO()) as err:
        assert progress_bar(items, enabled=False) is items
        assert list(progress_bar(items, enabled=True, desc="demo")) == items
    assert "demo" in err.getvalue()


def test_fit_learns_and_is_reproducible():
    X, y = _data(32)
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(9, 8), nn.ReLU(), nn.Linear(8, 2))
    twin = copy.deepcopy(model)
    losses = fit(model, make_loader(X, y, batch_size=8, seed=3), epochs=20, lr=0.05, seed=0)
    assert len(losses) == 20 and all(isinstance(v, float) for v in losses)
    assert losses[-1] < 0.5 * losses[0] and accuracy(model, X, y) >= 0.9
    assert fit(twin, make_loader(X, y, batch_size=8, seed=3), epochs=20, lr=0.05, seed=0) == losses
    for p, q in zip(model.parameters(), twin.parameters(), strict=True):
        assert torch.equal(p, q)


def test_fit_equals_the_textbook_adam_loop():
    X, y = _data(20, seed=4)
    torch.manual_seed(1)
    model = nn.Sequential(nn.Flatten(), nn.Linear(9, 5), nn.Tanh(), nn.Linear(5, 2))
    plain = copy.deepcopy(model)
    fit(model, make_loader(X, y, batch_size=6, seed=7), epochs=2, lr=0.01, seed=None)
    optimizer = torch.optim.Adam(plain.parameters(), lr=0.01)
    loader = make_loader(X, y, batch_size=6, seed=7)
    for _ in range(2):
        for xb, yb in loader:
            optimizer.zero_grad()
            nn.functional.cross_entropy(plain(xb), yb).backward()
            optimizer.step()
    for p, q in zip(model.parameters(), plain.parameters(), strict=True):
        torch.testing.assert_close(p, q)


def test_fit_seed_fixes_dropout_and_leaves_training_mode():
    X, y = _data(16)
    torch.manual_seed(2)
    model = nn.Sequential(
        nn.Flatten(), nn.Linear(9, 16), nn.ReLU(), nn.Dropout(0.5), nn.Linear(16, 2)
    )
    twin = copy.deepcopy(model).eval()
    a = fit(model, make_loader(X, y, batch_size=4), epochs=2, seed=5)
    b = fit(twin, make_loader(X, y, batch_size=4), epochs=2, seed=5)
    assert a == b and model.training and twin.training


def test_predict_and_accuracy_restore_the_mode_and_use_no_graph():
    X, y = _data(9)
    model = nn.Sequential(nn.Flatten(), nn.Linear(9, 3), nn.Dropout(0.9))
    model.train()
    before = torch.get_rng_state()
    labels = predict(model, X, batch_size=4)
    assert torch.equal(torch.get_rng_state(), before), "dropout must be off while predicting"
    assert labels.shape == (9,) and labels.dtype == torch.int64 and model.training
    with torch.no_grad():
        model.eval()
        expected = model(X).argmax(dim=1)
    assert torch.equal(labels, expected)
    assert accuracy(model, X, expected) == 1.0
    assert accuracy(model, X, (expected + 1) % 3) == 0.0
    assert all(p.grad is None for p in model.parameters())
    with pytest.raises(ValueError, match="no examples"):
        accuracy(model, X[:0], y[:0])


def test_stopwatch():
    with stopwatch() as clock:
        time.sleep(0.01)
        running = clock.seconds
    done = clock.seconds
    assert 0.0 < running <= done and done >= 0.01
    assert clock.seconds == done, "the reading is frozen after the block"


def test_make_unlabeled_loader_yields_every_image_with_no_label():
    from shared.training import NO_LABEL, make_unlabeled_loader

    X, _ = _data(10)
    loader = make_unlabeled_loader(X, batch_size=4, shuffle=False)
    batches = list(loader)
    assert [len(x) for x, _ in batches] == [4, 4, 2]
    assert torch.equal(torch.cat([x for x, _ in batches]), X)
    assert all((y == NO_LABEL).all() and y.dtype == torch.int64 for _, y in batches)
    first = [x for x, _ in make_unlabeled_loader(X, batch_size=4, seed=3)]
    again = [x for x, _ in make_unlabeled_loader(X, batch_size=4, seed=3)]
    assert all(torch.equal(a, b) for a, b in zip(first, again, strict=True))
