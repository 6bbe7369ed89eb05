"""Plotting helpers: decision boundaries, training curves, image grids, attention maps.

matplotlib is imported only when a function here is called, so ``import shared`` stays fast.
Each function draws on the ``ax`` (or ``fig``) it is given, or on a new figure, and returns it.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure


def _pyplot() -> Any:
    """Import pyplot, choosing Agg on a headless Linux box unless a backend is already chosen."""
    if "matplotlib.pyplot" not in sys.modules and not os.environ.get("MPLBACKEND"):
        import matplotlib

        headless = sys.platform.startswith("linux") and not (
            os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
        )
        chosen = getattr(matplotlib.rcParams, "_get_backend_or_none", lambda: None)()  # private API
        if headless and chosen is None:
            matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _numpy(x: Any) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu()
        if x.dtype == torch.bfloat16:
            x = x.float()
        return x.numpy()
    return np.asarray(x)


def plot_decision_boundary(
    predict: Callable[[np.ndarray], Any],
    X: Any,
    y: Any,
    *,
    ax: Axes | None = None,
    title: str | None = None,
    resolution: int = 200,
    padding: float = 0.5,
) -> Axes:
    """Shade the regions a 2-D classifier predicts, with the data points on top.

    Args:
        predict: maps an (M, 2) float64 numpy array to (M,) labels or probabilities
            (numpy or torch; an (M, 1) output is accepted).
        X: points of shape (N, 2); y: labels of shape (N,).
        resolution: grid points per axis; padding: margin around the data, in data units.

    Values in [0, 1] are drawn as probabilities with the 0.5 contour as a line; other values
    as discrete class regions.
    """
    plt = _pyplot()
    X, y = _numpy(X).astype(np.float64), _numpy(y).ravel()
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"plot_decision_boundary needs X of shape (N, 2), got {X.shape}.")
    if ax is None:
        _, ax = plt.subplots()
    lo, hi = X.min(axis=0) - padding, X.max(axis=0) + padding
    xx, yy = np.meshgrid(
        np.linspace(lo[0], hi[0], resolution), np.linspace(lo[1], hi[1], resolution)
    )
    grid = np.column_stack([xx.ravel(), yy.ravel()])
    z = _numpy(predict(grid)).astype(np.float64)
    if z.size != len(grid):
        raise ValueError(
            f"predict returned shape {z.shape} for {len(grid)} points; it should return "
            f"({len(grid)},) labels or probabilities."
        )
    z = z.reshape(xx.shape)
    if z.min() >= 0 and z.max() <= 1:
        ax.contourf(xx, yy, z, levels=np.linspace(0, 1, 11), cmap="RdBu_r", alpha=0.4)
        if z.min() < 0.5 < z.max():
            ax.contour(xx, yy, z, levels=[0.5], colors="k", linewidths=1)
    else:
        levels = np.arange(np.floor(z.min()), np.ceil(z.max()) + 2) - 0.5
        ax.contourf(xx, yy, z, levels=levels, cmap="tab10", alpha=0.3)
    ax.scatter(
        X[:, 0], X[:, 1], c=y, cmap="RdBu_r" if y.max() <= 1 else "tab10", edgecolors="k", s=25
    )
    ax.set_xlim(lo[0], hi[0])
    ax.set_ylim(lo[1], hi[1])
    if title:
        ax.set_title(title)
    return ax


def plot_curves(
    curves: Mapping[str, Sequence[float]],
    *,
    ax: Axes | None = None,
    xlabel: str = "epoch",
    ylabel: str = "loss",
    title: str | None = None,
    logy: bool = False,
) -> Axes:
    """Plot named curves, e.g. ``{"train": train_losses, "val": val_losses}``, against 0, 1, ...

    Values may be floats or 0-d tensors. ``logy`` uses a logarithmic y-axis.
    """
    plt = _pyplot()
    if ax is None:
        _, ax = plt.subplots()
    for label, values in curves.items():
        ys = [float(_numpy(v)) for v in values]
        ax.plot(range(len(ys)), ys, label=label)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if logy:
        ax.set_yscale("log")
    if title:
        ax.set_title(title)
    if curves:
        ax.legend()
    return ax


def image_grid(
    images: Any,
    *,
    labels: Sequence[Any] | None = None,
    ncols: int = 8,
    cmap: str = "gray",
    fig: Figure | None = None,
) -> Figure:
    """Show images in a grid, one subplot each, with optional labels as titles.

    Args:
        images: (N, H, W), (N, 1, H, W) or (N, 3, H, W) / (N, H, W, 3), numpy or torch.
        labels: N titles (class names or numbers), optional.
        fig: a Figure to draw into (it is cleared); a new one if None.
    """
    plt = _pyplot()
    imgs = _numpy(images)
    if imgs.ndim == 4 and imgs.shape[1] == 1:
        imgs = imgs[:, 0]  # (N, 1, H, W): one channel first, whatever H and W are (3x3 filters)
    elif imgs.ndim == 4 and imgs.shape[1] == 3 and imgs.shape[-1] not in (1, 3):
        imgs = np.moveaxis(imgs, 1, -1)  # channels-first to channels-last
    if imgs.ndim == 4 and imgs.shape[-1] == 1:
        imgs = imgs[..., 0]
    if imgs.ndim not in (3, 4) or len(imgs) == 0:
        raise ValueError(
            f"image_grid needs images of shape (N, H, W) or (N, 1, H, W) with N >= 1, "
            f"got {_numpy(images).shape}."
        )
    if labels is not None and len(labels) != len(imgs):
        raise ValueError(f"image_grid got {len(labels)} labels for {len(imgs)} images.")
    n = len(imgs)
    ncols = max(1, min(ncols, n))
    nrows = -(-n // ncols)
    if fig is None:
        fig = plt.figure(figsize=(1.2 * ncols, 1.3 * nrows))
    else:
        fig.clear()
    axes = fig.subplots(nrows, ncols, squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i < n:
            ax.imshow(imgs[i], cmap=cmap if imgs.ndim == 3 else None)
            if labels is not None:
                ax.set_title(str(_numpy(labels[i])), fontsize=8)
    return fig


def attention_map(
    weights: Any,
    *,
    x_tokens: Sequence[str] | None = None,
    y_tokens: Sequence[str] | None = None,
    ax: Axes | None = None,
    title: str | None = None,
) -> Axes:
    """Heat map of attention weights of shape (T_q, T_k): row i is how query i attends to keys.

    ``x_tokens`` (T_k of them) label the columns (keys), ``y_tokens`` (T_q) the rows (queries).
    Leading singleton dimensions, e.g. (1, 1, T_q, T_k), are squeezed away.
    """
    plt = _pyplot()
    w = _numpy(weights).astype(np.float64)
    while w.ndim > 2 and w.shape[0] == 1:
        w = w[0]
    if w.ndim != 2:
        raise ValueError(f"attention_map needs weights of shape (T_q, T_k), got {w.shape}.")
    t_q, t_k = w.shape
    if x_tokens is not None and len(x_tokens) != t_k:
        raise ValueError(f"attention_map got {len(x_tokens)} x_tokens for T_k={t_k} keys.")
    if y_tokens is not None and len(y_tokens) != t_q:
        raise ValueError(f"attention_map got {len(y_tokens)} y_tokens for T_q={t_q} queries.")
    if ax is None:
        _, ax = plt.subplots()
    image = ax.imshow(w, cmap="viridis", aspect="auto")
    ax.figure.colorbar(image, ax=ax)
    if x_tokens is not None:
        ax.set_xticks(range(t_k), [str(t) for t in x_tokens], rotation=90)
    if y_tokens is not None:
        ax.set_yticks(range(t_q), [str(t) for t in y_tokens])
    ax.set_xlabel("key")
    ax.set_ylabel("query")
    if title:
        ax.set_title(title)
    return ax
