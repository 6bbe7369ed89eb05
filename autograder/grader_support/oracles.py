"""Small numerical oracles that answer graded questions (so they never ship to students)."""

from __future__ import annotations

from typing import Any

import numpy as np

from shared.checks import _to_numpy


def rel_error(a: Any, b: Any) -> float:
    """Max elementwise relative error ``|a - b| / max(1e-12, |a| + |b|)`` in float64 (CS231n).

    ``a`` and ``b`` must have the same shape (arrays, tensors, numbers or lists). Returns a
    float in [0, 1]; around 1e-7 or less means "equal" for float64 gradient checks.
    """
    x, _ = _to_numpy(a, "a", "expected")
    y, _ = _to_numpy(b, "b", "expected")
    if x.shape != y.shape:
        raise ValueError(f"rel_error: shapes differ, {x.shape} vs {y.shape}.")
    if x.size == 0:
        return 0.0
    x, y = x.astype(np.float64), y.astype(np.float64)
    return float(np.max(np.abs(x - y) / np.maximum(1e-12, np.abs(x) + np.abs(y))))
