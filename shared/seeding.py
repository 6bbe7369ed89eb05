"""Seeding and determinism: the same seed gives the same numbers on every run."""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import torch


def seed_everything(seed: int) -> None:
    """Seed Python's ``random``, numpy's legacy global RNG and torch (CPU and every CUDA device).

    Otter seeds only numpy and ``random``; tests call this (or :func:`generator`) for torch.
    """
    seed = int(seed)
    random.seed(seed)
    np.random.seed(seed % 2**32)  # numpy's legacy RNG accepts only 32-bit seeds
    torch.manual_seed(seed)  # also seeds all CUDA devices (lazily if CUDA is not yet initialised)
    if torch.cuda.is_available():
        torch.cuda.manual_seed_all(seed)


@contextmanager
def deterministic() -> Iterator[None]:
    """Within the block, make float32 maths exact-ish and reproducible; restore settings on exit.

    Disables TF32 for matmuls and cuDNN (TF32 keeps ~10 mantissa bits, which breaks float32
    tolerances), sets ``cudnn.deterministic=True`` and ``cudnn.benchmark=False``. Seeds nothing.
    Harmless on CPU-only machines.
    """
    saved = (
        torch.backends.cuda.matmul.allow_tf32,
        torch.backends.cudnn.allow_tf32,
        torch.backends.cudnn.deterministic,
        torch.backends.cudnn.benchmark,
    )
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cudnn.deterministic = True
    torch.backends.cudnn.benchmark = False
    try:
        yield
    finally:
        (
            torch.backends.cuda.matmul.allow_tf32,
            torch.backends.cudnn.allow_tf32,
            torch.backends.cudnn.deterministic,
            torch.backends.cudnn.benchmark,
        ) = saved


def generator(seed: int, device: torch.device | str | None = None) -> torch.Generator:
    """Return a fresh ``torch.Generator`` on ``device`` (default CPU) seeded with ``seed``.

    Pass it as ``generator=`` to ``torch.randn`` and friends to draw numbers without touching
    the global RNG.
    """
    gen = torch.Generator(device=device if device is not None else "cpu")
    gen.manual_seed(int(seed))
    return gen
