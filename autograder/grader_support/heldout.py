"""The held-out digits, which hidden tests evaluate on and no notebook may load.

The student's helper package serves only the ``train`` and ``test`` splits
(``shared.digits.load_digits_data``); this autograder-only module serves the third split, so a
notebook cannot train or tune on it through the course's API.
"""

from __future__ import annotations

import torch

from shared.digits import _load, _load_upsampled


def load_heldout_digits(
    *, canvas: int = 16, shifted: bool = True, seed: int = 0
) -> tuple[torch.Tensor, torch.Tensor]:
    """The 297 held-out digits, as ``shared.digits.load_digits_data`` lays out the others."""
    return _load("heldout", canvas=canvas, shifted=shifted, seed=seed)


def load_heldout_upsampled(*, size: int = 28) -> tuple[torch.Tensor, torch.Tensor]:
    """The 297 held-out digits, enlarged as ``shared.digits.load_digits_upsampled`` does."""
    return _load_upsampled("heldout", size=size)
