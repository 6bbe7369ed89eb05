"""Sequence data generated in code, variable-length batching, and sequence plots.

Everything is seeded through a ``torch.Generator`` (or an int seed), so the same seed gives the
same sequences on every machine, and nothing touches the global RNG. Tensors are float32 unless
``dtype`` says otherwise; layouts are ``batch_first``: ``(batch, time, features)``.

- :func:`noisy_sines` and :func:`damped_oscillators`: physical signals to forecast.
- :func:`first_token_recall` and :func:`adding_problem`: long-range memory tasks whose
  difficulty is set by the number ``T`` of distractor steps.
- :func:`random_lengths`, :func:`pad_batch`, :func:`unpad`: variable-length sequences.
- :func:`module_weights`: the per-layer weight tensors of ``nn.RNN`` / ``nn.LSTM`` / ``nn.GRU``.
- :func:`plot_sequences`, :func:`plot_forecast`, :func:`plot_log_norms`: plots (matplotlib is
  imported only when one is called).
"""

from __future__ import annotations

import math
import os
import sys
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

if TYPE_CHECKING:
    from matplotlib.axes import Axes


def _generator(seed: int | torch.Generator) -> torch.Generator:
    if isinstance(seed, torch.Generator):
        return seed
    return torch.Generator().manual_seed(int(seed))


# --------------------------------------------------------------------------- physical signals


def damped_oscillators(
    n: int,
    length: int,
    *,
    seed: int | torch.Generator = 0,
    dt: float = 0.1,
    noise: float = 0.05,
    period: tuple[float, float] = (2.0, 4.0),
    damping: tuple[float, float] = (0.02, 0.2),
    dtype: torch.dtype = torch.float32,
) -> torch.Tensor:
    """``n`` noisy damped oscillations ``A exp(-gamma t) cos(omega t + phi) + noise``.

    Each sequence draws its period (uniform in ``period``, in time units), its damping rate
    ``gamma`` (uniform in ``damping``), an amplitude in [0.5, 1.5] and a phase; samples are
    taken every ``dt``. ``noise`` is the standard deviation of Gaussian measurement noise.

    Returns a tensor of shape ``(n, length, 1)``.
    """
    gen = _generator(seed)
    u = torch.rand(n, 4, generator=gen, dtype=torch.float64)
    omega = 2 * math.pi / (period[0] + (period[1] - period[0]) * u[:, :1])
    gamma = damping[0] + (damping[1] - damping[0]) * u[:, 1:2]
    amplitude = 0.5 + u[:, 2:3]
    phase = 2 * math.pi * u[:, 3:4]
    t = dt * torch.arange(length, dtype=torch.float64)
    clean = amplitude * torch.exp(-gamma * t) * torch.cos(omega * t + phase)
    noisy = clean + noise * torch.randn(n, length, generator=gen, dtype=torch.float64)
    return noisy.unsqueeze(-1).to(dtype)


def noisy_sines(
    n: int,
    length: int,
    *,
    seed: int | torch.Generator = 0,
    dt: float = 0.1,
    noise: float = 0.05,
    period: tuple[float, float] = (2.0, 4.0),
    dtype: torch.dtype = torch.float32,
) -> torch.Tensor:
    """``n`` noisy sines (undamped oscillators): shape ``(n, length, 1)``."""
    return damped_oscillators(
        n, length, seed=seed, dt=dt, noise=noise, period=period, damping=(0.0, 0.0), dtype=dtype
    )


# --------------------------------------------------------------------------- memory tasks


def first_token_recall(
    n: int,
    T: int,
    *,
    n_symbols: int = 4,
    seed: int | torch.Generator = 0,
    dtype: torch.dtype = torch.float32,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Recall the first token after ``T`` distractors.

    Each sequence has ``T + 1`` steps over ``n_symbols + 1`` channels. Every step holds one
    random symbol, one-hot in channels ``0 .. n_symbols - 1``; the last channel is a marker, 1 at
    step 0 only. The label is the symbol of step 0: the ``T`` symbols after it are distractors
    of the same kind, so a model must store the marked symbol and then ignore what follows. A
    model that forgets it is right with probability ``1 / n_symbols`` (chance).

    Returns ``x`` of shape ``(n, T + 1, n_symbols + 1)`` and int64 labels ``(n,)``.
    """
    gen = _generator(seed)
    tokens = torch.randint(0, n_symbols, (n, T + 1), generator=gen)
    x = torch.zeros(n, T + 1, n_symbols + 1, dtype=dtype)
    x[..., :n_symbols] = torch.nn.functional.one_hot(tokens, n_symbols).to(dtype)
    x[:, 0, n_symbols] = 1
    return x, tokens[:, 0].clone()


def adding_problem(
    n: int,
    T: int,
    *,
    seed: int | torch.Generator = 0,
    dtype: torch.dtype = torch.float32,
) -> tuple[torch.Tensor, torch.Tensor]:
    """The adding problem: add the two numbers that are marked, over ``T`` steps.

    Each step holds a value uniform in [0, 1] and a marker; exactly two markers are 1, one in
    the first half of the sequence and one in the second. The target is the sum of the two
    marked values (predicting 1 always gives a mean squared error of about 1/6).

    Returns ``x`` of shape ``(n, T, 2)`` and targets ``(n,)``.
    """
    if T < 2:
        raise ValueError(f"adding_problem needs T >= 2, got {T}.")
    gen = _generator(seed)
    values = torch.rand(n, T, generator=gen, dtype=torch.float64)
    half = T // 2
    first = torch.randint(0, half, (n,), generator=gen)
    second = half + torch.randint(0, T - half, (n,), generator=gen)
    markers = torch.zeros(n, T, dtype=torch.float64)
    rows = torch.arange(n)
    markers[rows, first] = 1.0
    markers[rows, second] = 1.0
    target = values[rows, first] + values[rows, second]
    return torch.stack([values, markers], dim=-1).to(dtype), target.to(dtype)


# --------------------------------------------------------------------------- variable lengths


def random_lengths(n: int, low: int, high: int, *, seed: int | torch.Generator = 0) -> list[int]:
    """``n`` sequence lengths drawn uniformly from ``low .. high`` (both included)."""
    gen = _generator(seed)
    return torch.randint(low, high + 1, (n,), generator=gen).tolist()


def pad_batch(
    sequences: Sequence[torch.Tensor], *, value: float = 0.0, extra: int = 0
) -> tuple[torch.Tensor, torch.Tensor]:
    """Stack sequences of shapes ``(L_i, features)`` into one padded batch.

    Returns ``(padded, lengths)``: ``padded`` of shape ``(n, max L_i + extra, features)``, the
    steps past each sequence's end filled with ``value``, and the int64 ``lengths`` ``(n,)``
    (on the CPU, as ``pack_padded_sequence`` wants them).
    """
    lengths = torch.tensor([len(s) for s in sequences], dtype=torch.int64)
    longest = int(lengths.max()) + int(extra)
    first = sequences[0]
    padded = torch.full(
        (len(sequences), longest, *first.shape[1:]),
        float(value),
        dtype=first.dtype,
        device=first.device,
    )
    for i, s in enumerate(sequences):
        padded[i, : len(s)] = s
    return padded, lengths


def unpad(padded: torch.Tensor, lengths: Sequence[int] | torch.Tensor) -> list[torch.Tensor]:
    """The inverse of :func:`pad_batch`: the list of ``padded[i, :lengths[i]]``."""
    return [padded[i, : int(length)] for i, length in enumerate(lengths)]


# --------------------------------------------------------------------------- weights


def module_weights(module: torch.nn.Module) -> list[tuple[torch.Tensor, ...]]:
    """Per layer, ``(weight_ih, weight_hh, bias_ih, bias_hh)`` of an ``nn.RNN``/``LSTM``/``GRU``.

    The tensors are the module's own parameters (detached), in PyTorch's layout: for layer
    ``k``, ``weight_ih_l{k}`` has shape ``(gates * hidden, input)`` with the gates stacked in
    PyTorch's order. A module made with ``bias=False`` gives zero biases.
    """
    layers = []
    for k in range(module.num_layers):
        w_ih = getattr(module, f"weight_ih_l{k}").detach()
        w_hh = getattr(module, f"weight_hh_l{k}").detach()
        b_ih = getattr(module, f"bias_ih_l{k}", None)
        b_hh = getattr(module, f"bias_hh_l{k}", None)
        b_ih = torch.zeros(len(w_ih), dtype=w_ih.dtype) if b_ih is None else b_ih.detach()
        b_hh = torch.zeros(len(w_hh), dtype=w_hh.dtype) if b_hh is None else b_hh.detach()
        layers.append((w_ih, w_hh, b_ih, b_hh))
    return layers


# --------------------------------------------------------------------------- plots


def _pyplot() -> Any:
    """Import pyplot, choosing Agg on a headless Linux box unless a backend is already chosen."""
    if "matplotlib.pyplot" not in sys.modules and not os.environ.get("MPLBACKEND"):
        import matplotlib

        headless = sys.platform.startswith("linux") and not (
            os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
        )
        chosen = getattr(matplotlib.rcParams, "_get_backend_or_none", lambda: None)()
        if headless and chosen is None:
            matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _numpy(x: Any) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        return x.detach().cpu().float().numpy()
    return np.asarray(x, dtype=np.float64)


def _axes(ax: Axes | None, figsize: tuple[float, float] = (8, 3)) -> Axes:
    if ax is None:
        _, ax = _pyplot().subplots(figsize=figsize)
    return ax


def plot_sequences(
    x: Any,
    *,
    n: int = 4,
    dt: float = 1.0,
    ax: Axes | None = None,
    title: str | None = None,
    labels: Sequence[str] | None = None,
) -> Axes:
    """Plot the first ``n`` sequences of ``x`` (``(batch, time)`` or ``(batch, time, 1)``)."""
    values = _numpy(x)
    if values.ndim == 3:
        values = values[..., 0]
    ax = _axes(ax)
    t = dt * np.arange(values.shape[1])
    for i in range(min(n, len(values))):
        ax.plot(t, values[i], lw=1.2, label=labels[i] if labels else None)
    ax.set_xlabel("time" if dt != 1.0 else "step")
    if title:
        ax.set_title(title)
    if labels:
        ax.legend(fontsize=8)
    return ax


def plot_forecast(
    history: Any,
    target: Any,
    predictions: Mapping[str, Any],
    *,
    ax: Axes | None = None,
    title: str | None = None,
) -> Axes:
    """One sequence's past (``history``, length L), its true future and several forecasts.

    ``target`` and each of ``predictions`` hold the values at the steps after the history.
    """
    past = _numpy(history).reshape(-1)
    future = _numpy(target).reshape(-1)
    ax = _axes(ax)
    ax.plot(np.arange(len(past)), past, color="0.4", lw=1.2, label="history")
    steps = len(past) + np.arange(len(future))
    ax.plot(steps, future, "k.", label="truth")
    for name, values in predictions.items():
        ax.plot(steps, _numpy(values).reshape(-1), "o-", ms=3, lw=1, label=name)
    ax.set_xlabel("step")
    ax.legend(fontsize=8)
    if title:
        ax.set_title(title)
    return ax


def plot_log_norms(
    curves: Mapping[str, Any],
    *,
    ax: Axes | None = None,
    title: str | None = None,
    ylabel: str = "norm",
) -> Axes:
    """Curves ``{label: values at t = 1, 2, ...}`` on a logarithmic y axis."""
    ax = _axes(ax, figsize=(6, 4))
    for name, values in curves.items():
        v = _numpy(values).reshape(-1)
        ax.semilogy(np.arange(1, len(v) + 1), v, label=name)
    ax.set_xlabel("T")
    ax.set_ylabel(ylabel)
    ax.legend(fontsize=8)
    if title:
        ax.set_title(title)
    return ax
