"""Training plumbing for notebooks: seeded loaders, progress bars, batched predictions.

The training loop and the evaluation a student writes stay in the notebook; what lives here is
the plumbing around them. The reference trainer and accuracy that tests use to judge a student's
*model* independently of the student's *loop* are not here: they would answer assignment 04's
questions, so only the autograder zip carries them (``grader_support.training``).
Everything is device-agnostic: pass ``device=shared.device()`` (or nothing: the device of the
model's parameters is used).

Example::

    loader = make_loader(X_train, y_train, batch_size=32, shuffle=True, seed=0)
    labels = predict(model, X_test)  # int64 class indices, for a confusion matrix
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


#: The label every batch of :func:`make_unlabeled_loader` carries: "no label here".
NO_LABEL = -1


def make_unlabeled_loader(
    X: Any, *, batch_size: int = 64, shuffle: bool = True, seed: int = 0
) -> DataLoader:
    """A loader for unsupervised models: ``(x, y)`` batches of ``X``, every ``y`` ``NO_LABEL``.

    Loops written for ``(x, y)`` batches run on it unchanged, and a loop that uses the labels
    by mistake gets -1 everywhere instead of a plausible class. Shuffling is seeded as in
    :func:`make_loader`; batches stay on the CPU.
    """
    X = torch.as_tensor(X)
    return make_loader(
        X,
        torch.full((len(X),), NO_LABEL, dtype=torch.int64),
        batch_size=batch_size,
        shuffle=shuffle,
        seed=seed,
    )
