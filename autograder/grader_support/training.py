"""A reference trainer and accuracy, for tests that judge a student's *model* with their own loop.

Autograder-only: a training loop and an accuracy are what assignment 04's questions 3 and 4 ask
students to write, so these live here and never in the student's helper package.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import torch
from torch import nn

from shared.training import _model_device, predict, progress_bar


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
