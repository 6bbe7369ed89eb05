"""Small training helpers for notebooks and tests: seeded loaders, progress bars, a reference fit.

The training loop a student writes stays in the notebook; what lives here is the plumbing
around it and a compact reference trainer (:func:`fit`) that tests use to train a student's
*model* independently of the student's *loop*. Everything is device-agnostic: pass
``device=shared.device()`` (or nothing: the device of the model's parameters is used).

Example::

    loader = make_loader(X_train, y_train, batch_size=32, shuffle=True, seed=0)
    losses = fit(model, loader, epochs=5, lr=3e-3, seed=0)
    print(accuracy(model, X_test, y_test))
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, TypeVar

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

T = TypeVar("T")


def make_loader(
    X: Any,
    y: Any,
    *,
    batch_size: int = 64,
    shuffle: bool = True,
    seed: int = 0,
    drop_last: bool = False,
) -> DataLoader:
    """A ``DataLoader`` over the pairs ``(X[i], y[i])`` whose shuffling depends only on ``seed``.

    ``X`` and ``y`` are tensors (or arrays) with the same first dimension. With ``shuffle=True``
    every epoch visits the examples in a new order drawn from a private ``torch.Generator``
    seeded with ``seed``, so the order never depends on (or disturbs) the global RNG: two loaders
    made with the same seed yield the same batches. Batches stay on the CPU; move them to the
    device in the loop.
    """
    X, y = torch.as_tensor(X), torch.as_tensor(y)
    if len(X) != len(y):
        raise ValueError(f"make_loader: X has {len(X)} rows but y has {len(y)}.")
    generator = torch.Generator().manual_seed(int(seed))
    return DataLoader(
        TensorDataset(X, y),
        batch_size=int(batch_size),
        shuffle=bool(shuffle),
        generator=generator,
        drop_last=drop_last,
    )


def progress_bar(
    iterable: Iterable[T], *, enabled: bool = True, desc: str | None = None, **kwargs: Any
) -> Iterator[T] | Iterable[T]:
    """Wrap ``iterable`` in a text tqdm bar when ``enabled``; otherwise return it untouched.

    The bar goes to stderr and disappears when done (``leave=False``, overridable by keyword).
    With ``enabled=False`` nothing is printed and tqdm is not even imported.
    """
    if not enabled:
        return iterable
    from tqdm import tqdm

    kwargs.setdefault("leave", False)
    return tqdm(iterable, desc=desc, **kwargs)


def _model_device(model: nn.Module) -> torch.device:
    first = next(iter(model.parameters()), None)
    return first.device if first is not None else torch.device("cpu")


def fit(
    model: nn.Module,
    loader: Iterable[tuple[torch.Tensor, torch.Tensor]],
    *,
    epochs: int,
    lr: float = 1e-3,
    seed: int | None = 0,
    device: torch.device | str | None = None,
    progress: bool = False,
) -> list[float]:
    """Train a classifier in place with Adam on cross-entropy; return the mean loss per epoch.

    ``model`` maps a batch of inputs to logits (N, n_classes); ``loader`` yields ``(x, y)`` with
    int64 labels. ``seed`` (unless None) seeds torch's global RNG first, which fixes dropout
    masks; the batch order is the loader's own. The model is moved to ``device`` (default: where
    its parameters are) and left in training mode. Each epoch's loss is the mean over examples.
    """
    if seed is not None:
        torch.manual_seed(int(seed))
    device = torch.device(device) if device is not None else _model_device(model)
    model.to(device).train()
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.Adam(params, lr=lr)
    history = []
    for epoch in range(int(epochs)):
        total, count = 0.0, 0
        for inputs, targets in progress_bar(loader, enabled=progress, desc=f"epoch {epoch + 1}"):
            inputs, targets = inputs.to(device), targets.to(device)
            batch_loss = nn.functional.cross_entropy(model(inputs), targets)
            # Gradients are assigned rather than accumulated, so no stale .grad can leak in.
            for p, g in zip(params, torch.autograd.grad(batch_loss, params), strict=True):
                p.grad = g
            optimizer.step()
            total += batch_loss.item() * len(targets)
            count += len(targets)
        history.append(total / max(count, 1))
    return history


def predict(
    model: nn.Module,
    X: Any,
    *,
    device: torch.device | str | None = None,
    batch_size: int = 512,
) -> torch.Tensor:
    """Predicted classes ``argmax(model(X), dim=1)`` as an int64 CPU tensor of shape (N,).

    Runs in evaluation mode without building a graph, in batches of ``batch_size``, on
    ``device`` (default: where the model's parameters are), and restores the model's previous
    train/eval mode afterwards.
    """
    X = torch.as_tensor(X)
    device = torch.device(device) if device is not None else _model_device(model)
    was_training = model.training
    model.train(False)
    try:
        with torch.inference_mode():
            chunks = [
                model(X[i : i + batch_size].to(device)).argmax(dim=1).cpu()
                for i in range(0, len(X), batch_size)
            ]
    finally:
        model.train(was_training)
    return torch.cat(chunks) if chunks else torch.empty(0, dtype=torch.int64)


def accuracy(
    model: nn.Module,
    X: Any,
    y: Any,
    *,
    device: torch.device | str | None = None,
    batch_size: int = 512,
) -> float:
    """Fraction of examples whose predicted class equals the label, a float in [0, 1]."""
    y = torch.as_tensor(y).cpu()
    if len(y) == 0:
        raise ValueError("accuracy: no examples.")
    hits = predict(model, X, device=device, batch_size=batch_size) == y
    return float(hits.double().mean())
