"""Float64 finite-difference gradients, to check a hand-written backward pass."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import nullcontext
from typing import Any, TypeVar

import numpy as np
import torch

from shared.checks import (
    _fmt_index,
    _fmt_value,
    _to_numpy,
    _with_hint,
    assert_shape,
    check_implemented,
)

ArrayT = TypeVar("ArrayT", np.ndarray, torch.Tensor)


def _scalar(value: Any) -> float:
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu()
    arr = np.asarray(value)
    if arr.size != 1:
        raise ValueError(
            f"numerical_gradient: f must return a scalar (e.g. a loss), but it returned shape "
            f"{arr.shape}. Reduce it with .sum() or .mean() first."
        )
    return float(arr.reshape(()))


def numerical_gradient(f: Callable[[ArrayT], Any], x: ArrayT, eps: float = 1e-6) -> ArrayT:
    """Centred finite-difference gradient of a scalar-valued ``f`` at ``x``.

    ``grad[i] = (f(x + eps e_i) - f(x - eps e_i)) / (2 eps)`` for every index ``i`` of ``x``.
    ``x`` is perturbed *in place* and restored exactly after each evaluation (also if ``f``
    raises), so ``f`` may either use its argument or ignore it and read ``x`` through a closure,
    e.g. ``numerical_gradient(lambda _: loss(W), W)``. For tensors, ``f`` runs under
    ``torch.no_grad()``.

    Args:
        f: maps ``x`` to a scalar (float, 0-d or 1-element array/tensor).
        x: float64 numpy array or float64 torch tensor of any shape (and device).
        eps: step size; 1e-6 balances truncation and round-off error in float64.

    Returns:
        The gradient with the shape of ``x``, as a float64 numpy array or a float64 tensor on
        ``x``'s device, matching the type of ``x``.
    """
    is_tensor = isinstance(x, torch.Tensor)
    if not is_tensor and not isinstance(x, np.ndarray):
        raise TypeError(
            f"numerical_gradient: x must be a numpy array or torch tensor, got {type(x)}."
        )
    if x.dtype not in (np.float64, torch.float64):
        fix = "x.double()" if is_tensor else "x.astype(np.float64)"
        raise TypeError(
            f"numerical_gradient needs float64 input (got {x.dtype}): finite differences in lower "
            f"precision are dominated by round-off. Convert with {fix}."
        )
    grad = np.zeros(tuple(x.shape), dtype=np.float64)
    with torch.no_grad() if is_tensor else nullcontext():
        for idx in np.ndindex(*grad.shape):
            old = x[idx].item() if is_tensor else x[idx]
            try:
                x[idx] = old + eps
                plus = _scalar(f(x))
                x[idx] = old - eps
                minus = _scalar(f(x))
            finally:
                x[idx] = old
            grad[idx] = (plus - minus) / (2 * eps)
    if is_tensor:
        return torch.from_numpy(grad).to(x.device)
    return grad


def assert_gradient_close(
    analytic: Any,
    numeric: Any,
    *,
    name: str = "gradient",
    threshold: float = 1e-6,
    atol: float = 1e-8,
    hint: str = "",
) -> None:
    """Assert that an analytic gradient matches a numerical one in relative error.

    The elementwise relative error is ``|a - n| / max(1e-12, |a| + |n|)`` (as in
    :func:`shared.checks.rel_error`); the check fails if its maximum exceeds ``threshold``.
    Elements whose absolute difference is at most ``atol`` count as equal: near-zero gradients
    otherwise turn finite-difference noise (~1e-10) into large relative errors.
    """
    check_implemented(analytic, name)
    a, _ = _to_numpy(analytic, name, "actual")
    n, _ = _to_numpy(numeric, "numeric gradient", "expected")
    assert_shape(a, n.shape, name, hint=hint)
    a, n = a.astype(np.float64), n.astype(np.float64)
    if not np.isfinite(a).all():
        first = tuple(np.argwhere(~np.isfinite(a))[0])
        raise AssertionError(
            _with_hint(f"`{name}` contains NaN or inf at index {_fmt_index(first)}.", hint)
        )
    diff = np.abs(a - n)
    rel = np.where(diff <= atol, 0.0, diff / np.maximum(1e-12, np.abs(a) + np.abs(n)))
    worst = float(rel.max()) if rel.size else 0.0
    if worst <= threshold:
        return
    idx = tuple(int(i) for i in np.unravel_index(int(np.argmax(rel)), rel.shape))
    where = f" at index {_fmt_index(idx)}" if idx else ""
    raise AssertionError(
        _with_hint(
            f"`{name}` does not match the numerical gradient: max relative error {worst:.3g} "
            f"(threshold {threshold:g}); {int((rel > threshold).sum())} of {rel.size} element(s) "
            f"too far off.\nWorst{where}: yours {_fmt_value(a[idx])}, numerical "
            f"{_fmt_value(n[idx])}.",
            hint,
        )
    )
