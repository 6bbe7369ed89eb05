"""References for assignment 01's hidden tests, and the runs of its known mistakes.

They answer graded questions (the perceptron rule, the training loop), so they ship only in the
autograder zip. The mistaken runs let a test name the mistake a wrong result reveals.
"""

from __future__ import annotations

import copy

import numpy as np
import torch
from torch import nn

from shared.testing.perceptron_xor import (
    BATCH_HINT,
    FIXED_ORDER_HINT,
    NO_EARLY_STOP_HINT,
    RESEED_HINT,
    SHUFFLE_HINT,
    STRICT_HINT,
)


def perceptron_run(
    X,
    y,
    *,
    lr: float = 1.0,
    epochs: int = 100,
    seed: int = 0,
    online: bool = True,
    order: str = "permutation",
    strict: bool = False,
    early_stop: bool = True,
):
    """Rosenblatt's rule as the prompt states it (the defaults), or one of its known mistakes.

    order: "permutation" (rng.permutation(N) each epoch, rng made once), "fixed" (0..N-1),
    "reseed" (a new default_rng(seed) every epoch) or "shuffle" (rng.shuffle of one index array
    kept across epochs). online=False: one batch update per epoch from all its mistakes.
    strict: predict 1 only where X @ w + b > 0. Returns (w, b, errors).
    """
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    n, d = X.shape
    rng = np.random.default_rng(seed)
    index = np.arange(n)
    w, b, errors = np.zeros(d), 0.0, []

    def predict(x):
        a = x @ w + b
        return float(a > 0) if strict else float(a >= 0)

    for _ in range(epochs):
        if order == "permutation":
            visit = rng.permutation(n)
        elif order == "fixed":
            visit = np.arange(n)
        elif order == "reseed":
            visit = np.random.default_rng(seed).permutation(n)
        elif order == "shuffle":
            rng.shuffle(index)
            visit = index.copy()
        else:
            raise ValueError(order)
        mistakes = 0
        if online:
            for i in visit:
                err = y[i] - predict(X[i])
                if err != 0:
                    w = w + lr * err * X[i]
                    b = b + lr * err
                    mistakes += 1
        else:
            dw, db = np.zeros(d), 0.0
            for i in visit:
                err = y[i] - predict(X[i])
                if err != 0:
                    dw, db = dw + lr * err * X[i], db + lr * err
                    mistakes += 1
            w, b = w + dw, b + db
        errors.append(mistakes)
        if early_stop and mistakes == 0:
            break
    return w, float(b), errors


def perceptron_mistakes(X, y, *, lr: float, epochs: int, seed: int):
    """{hint: run} for the known mistakes of perceptron_train on this input."""
    kw = {"lr": lr, "epochs": epochs, "seed": seed}
    return {
        BATCH_HINT: perceptron_run(X, y, online=False, **kw),
        RESEED_HINT: perceptron_run(X, y, order="reseed", **kw),
        FIXED_ORDER_HINT: perceptron_run(X, y, order="fixed", **kw),
        SHUFFLE_HINT: perceptron_run(X, y, order="shuffle", **kw),
        STRICT_HINT: perceptron_run(X, y, strict=True, **kw),
        NO_EARLY_STOP_HINT: perceptron_run(X, y, early_stop=False, **kw),
    }


def sgd_run(model: nn.Module, X, y, *, lr: float, epochs: int, zero_grad: bool = True):
    """Full-batch SGD on BCE from a copy of ``model`` (float32): (losses, float64 parameters).

    zero_grad=False models the forgotten optimizer.zero_grad() (gradients add up).
    """
    twin = copy.deepcopy(model).cpu()
    Xt = torch.as_tensor(np.asarray(X), dtype=torch.float32)
    yt = torch.as_tensor(np.asarray(y), dtype=torch.float32).reshape(-1, 1)
    params = list(twin.parameters())
    total = [torch.zeros_like(p) for p in params]
    losses = []
    for _ in range(epochs):
        loss = nn.functional.binary_cross_entropy(twin(Xt), yt)
        grads = torch.autograd.grad(loss, params)
        with torch.no_grad():
            for p, g, acc in zip(params, grads, total, strict=True):
                if zero_grad:
                    acc.copy_(g)
                else:
                    acc.add_(g)
                p -= lr * acc
        losses.append(loss.item())
    return losses, [p.detach().double().clone() for p in params]


def perceptron_cases():
    """Hidden (X, y, lr, seed) cases with small-integer inputs, so every pre-activation (ties at
    exactly 0 included) is exact whatever the order of summation, and on which each known
    mistake of perceptron_mistakes gives a run different from the rule's and from each other."""
    cases = []
    for data_seed, n, d, lr, seed in [(421, 8, 2, 1.0, 1), (407, 10, 3, 0.5, 4)]:
        rng = np.random.default_rng(data_seed)
        X = rng.integers(-3, 4, size=(n, d)).astype(float)
        y = (X @ rng.integers(-2, 3, size=d) + 1 >= 0).astype(float)
        cases.append((X, y, lr, seed))
    return cases
