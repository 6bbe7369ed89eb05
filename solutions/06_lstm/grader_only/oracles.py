"""Held-out data and oracles for the hidden tests of 06 (they would reveal hidden inputs)."""

from __future__ import annotations

import numpy as np

from shared.sequences import damped_oscillators, first_token_recall

HELDOUT_SEED = 970_531


def heldout_recall(T: int, n_symbols: int, n: int = 2000):
    """Fresh first-token-recall sequences that no notebook draws."""
    return first_token_recall(n, T, n_symbols=n_symbols, seed=HELDOUT_SEED)


def heldout_signals(n: int, length: int):
    """Fresh damped oscillations that no notebook draws."""
    return damped_oscillators(n, length, seed=HELDOUT_SEED + 1)


def numeric_bptt(case: dict) -> dict:
    """Centred finite differences (float64, eps 1e-6) of 0.5 ||h_T - target||^2 for W, U, b, h0."""
    from grader_support.gradcheck import numerical_gradient

    params = {k: np.array(case[k], dtype=np.float64, copy=True) for k in ("W", "U", "b", "h0")}

    def loss(_):
        h = params["h0"]
        for x in case["xs"]:
            h = np.tanh(params["W"] @ x + params["U"] @ h + params["b"])
        return 0.5 * np.sum((h - case["target"]) ** 2)

    return {k: numerical_gradient(loss, params[k]) for k in params}


def least_squares_slope(values: np.ndarray) -> float:
    """Slope of the least-squares line through (t, ln values_t), t = 1..T, in closed form."""
    y = np.log(np.asarray(values, dtype=np.float64))
    t = np.arange(1, len(y) + 1, dtype=np.float64)
    return float(((t - t.mean()) * (y - y.mean())).sum() / ((t - t.mean()) ** 2).sum())


def accuracy(model, x, y) -> float:
    """Fraction of sequences whose largest logit is the label (eval mode, no gradients)."""
    import torch

    model.eval()
    with torch.no_grad():
        return float((model(x).argmax(dim=1) == y).double().mean())


def forecast_errors(model, signals) -> tuple[float, float]:
    """MSE of the model's forecast of each signal's last value, and of the last-value baseline."""
    import torch

    model.eval()
    history, future = signals[:, :-1], signals[:, -1, 0]
    with torch.no_grad():
        predicted = model(history)[:, -1, 0]
    # Means accumulated in float64: the student's float32 or float64 mean lies within 1e-6 of it.
    predicted, future, last = predicted.double(), future.double(), history[:, -1, 0].double()
    return float(((predicted - future) ** 2).mean()), float(((last - future) ** 2).mean())
