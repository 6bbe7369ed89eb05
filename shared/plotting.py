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


def reconstruction_grid(
    originals: Any,
    reconstructions: Any,
    *,
    inputs: Any | None = None,
    side: int | None = None,
    n: int = 8,
    fig: Figure | None = None,
) -> Figure:
    """Originals above their reconstructions (and, if given, the model's inputs in between).

    Args:
        originals, reconstructions: (N, D) vectors of square images (D = side**2), or
            (N, H, W) / (N, 1, H, W) images, numpy or torch; the first ``n`` are shown.
        inputs: what the model saw, e.g. noisy images for a denoiser; a middle row if given.
        side: the images' side when they are flat vectors (default: sqrt(D)).

    Returns the figure; rows are titled "original", "input", "reconstruction".
    """
    rows = [("original", originals)]
    if inputs is not None:
        rows.append(("input", inputs))
    rows.append(("reconstruction", reconstructions))
    images = []
    for _, batch in rows:
        arr = _numpy(batch)[:n].astype(np.float64)
        if arr.ndim == 2:
            s = side or int(round(arr.shape[1] ** 0.5))
            if s * s != arr.shape[1]:
                raise ValueError(
                    f"reconstruction_grid: {arr.shape[1]} values are not a square image."
                )
            arr = arr.reshape(len(arr), s, s)
        elif arr.ndim == 4 and arr.shape[1] == 1:
            arr = arr[:, 0]
        if arr.ndim != 3:
            raise ValueError(
                f"reconstruction_grid needs (N, D) or (N, H, W) images, got {arr.shape}."
            )
        images.append(arr)
    if len({a.shape for a in images}) != 1:
        raise ValueError(f"reconstruction_grid: rows differ in shape {[a.shape for a in images]}.")
    count = len(images[0])
    labels = [name if i == 0 else "" for name, _ in rows for i in range(count)]
    return image_grid(np.concatenate(images), labels=labels, ncols=count, fig=fig)


def latent_scatter(
    codes: Any,
    labels: Any | None = None,
    *,
    ax: Axes | None = None,
    title: str | None = None,
    s: float = 8.0,
) -> Axes:
    """Scatter 2-D latent codes (N, 2), coloured by ``labels`` (N,) with a colour bar if given."""
    plt = _pyplot()
    z = _numpy(codes).astype(np.float64)
    if z.ndim != 2 or z.shape[1] != 2:
        raise ValueError(f"latent_scatter needs codes of shape (N, 2), got {z.shape}.")
    if ax is None:
        _, ax = plt.subplots()
    if labels is None:
        ax.scatter(z[:, 0], z[:, 1], s=s)
    else:
        c = _numpy(labels).ravel()
        if len(c) != len(z):
            raise ValueError(f"latent_scatter got {len(c)} labels for {len(z)} codes.")
        points = ax.scatter(z[:, 0], z[:, 1], c=c, cmap="tab10", s=s)
        ax.figure.colorbar(points, ax=ax)
    ax.set_xlabel("$z_1$")
    ax.set_ylabel("$z_2$")
    if title:
        ax.set_title(title)
    return ax


def score_histogram(
    groups: Mapping[str, Any],
    *,
    threshold: float | None = None,
    bins: int = 30,
    ax: Axes | None = None,
    title: str | None = None,
    xlabel: str = "score",
) -> Axes:
    """Overlaid histograms of scores, one per named group, e.g. ``{"normal": s0, "anomaly": s1}``.

    All groups share the same bins; ``threshold`` draws a dashed vertical line.
    """
    plt = _pyplot()
    if ax is None:
        _, ax = plt.subplots()
    values = {name: _numpy(v).astype(np.float64).ravel() for name, v in groups.items()}
    everything = np.concatenate([*values.values(), np.zeros(0)])
    edges = np.histogram_bin_edges(everything, bins=bins) if everything.size else bins
    for name, v in values.items():
        ax.hist(v, bins=edges, alpha=0.5, label=name)
    if threshold is not None:
        ax.axvline(float(threshold), color="black", linestyle="--", label="threshold")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("count")
    if title:
        ax.set_title(title)
    if values:
        ax.legend()
    return ax
