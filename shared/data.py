"""Small offline data sets generated in code (no downloads). Arrays are numpy float64."""

from __future__ import annotations

import numpy as np
import torch

_GATES = {
    "and": (0, 0, 0, 1),
    "or": (0, 1, 1, 1),
    "xor": (0, 1, 1, 0),
    "nand": (1, 1, 1, 0),
    "nor": (1, 0, 0, 0),
}

#: Centre of the blobs: the true boundary misses the origin, so a model needs its bias.
BLOB_CENTRE = 1.0


def logic_gate(name: str) -> tuple[np.ndarray, np.ndarray]:
    """Truth table of a two-input logic gate.

    Args:
        name: one of "and", "or", "xor", "nand", "nor" (case-insensitive).

    Returns:
        ``X`` of shape (4, 2) with rows [0, 0], [0, 1], [1, 0], [1, 1] in that order, and
        ``y`` of shape (4,) holding 0.0 / 1.0.
    """
    key = str(name).strip().lower()
    if key not in _GATES:
        raise ValueError(f"Unknown logic gate {name!r}; valid names are {sorted(_GATES)}.")
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float64)
    y = np.array(_GATES[key], dtype=np.float64)
    return X, y


def blobs(
    n: int = 100, *, seed: int = 0, separation: float = 3.0, dim: int = 2
) -> tuple[np.ndarray, np.ndarray]:
    """Two Gaussian blobs with unit variance, shuffled; deterministic for a seed.

    Class 0 is centred at ``c - (separation / 2) u`` and class 1 at ``c + (separation / 2) u``,
    where ``u = (1, ..., 1) / sqrt(dim)`` and ``c = (1, ..., 1)`` (:data:`BLOB_CENTRE`). So the
    true separating hyperplane is ``u . (x - c) = 0``, which does not pass through the origin.

    For ``separation >= 3`` the data are linearly separable with a margin by construction:
    points closer than ``separation / 6`` to the true hyperplane (or on its wrong side) are
    rejected and redrawn, so a perceptron provably converges. Below 3 the blobs may overlap.

    Returns:
        ``X`` of shape (n, dim) and ``y`` of shape (n,) with 0.0 / 1.0 labels; class 0 has
        ``n // 2`` points and class 1 the rest.
    """
    if int(n) < 2:
        raise ValueError(f"blobs needs n >= 2 points (one per class), got n={n}.")
    if int(dim) < 1:
        raise ValueError(f"blobs needs dim >= 1, got dim={dim}.")
    if separation < 0:
        raise ValueError(f"separation must be >= 0, got {separation}.")
    n, dim = int(n), int(dim)
    rng = np.random.default_rng(seed)
    u = np.ones(dim) / np.sqrt(dim)
    margin = separation / 6 if separation >= 3 else None

    def draw(count: int, sign: float) -> np.ndarray:
        points = np.empty((0, dim))
        while len(points) < count:
            batch = rng.standard_normal((2 * count, dim)) + sign * (separation / 2) * u
            if margin is not None:
                batch = batch[sign * (batch @ u) >= margin]
            points = np.concatenate([points, batch])
        return points[:count]

    n0 = n // 2
    X = np.concatenate([draw(n0, -1.0), draw(n - n0, 1.0)]) + BLOB_CENTRE
    y = np.concatenate([np.zeros(n0), np.ones(n - n0)])
    order = rng.permutation(n)
    return X[order], y[order]


def to_tensors(
    *arrays: np.ndarray | torch.Tensor,
    dtype: torch.dtype = torch.float32,
    device: torch.device | str | None = None,
) -> tuple[torch.Tensor, ...]:
    """Convert each array to a torch tensor of ``dtype`` on ``device`` (default CPU).

    Shapes are kept. Always returns a tuple, even for one array: ``(X,) = to_tensors(X)``.
    """
    return tuple(torch.as_tensor(a, dtype=dtype, device=device) for a in arrays)
