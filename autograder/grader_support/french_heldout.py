"""The held-out numbers of ``shared.french_numbers``: hidden tests translate them, notebooks never.

The student's helper package serves only the ``train`` and ``test`` splits
(``shared.french_numbers.number_split``); this autograder-only module serves the third, so a
notebook cannot train or tune on it through the course's API (as ``heldout`` does for the digits).
"""

from __future__ import annotations

import torch

from shared.french_numbers import _split_numbers, encode_numbers


def heldout_numbers() -> list[int]:
    """The 100 held-out numbers (sorted ints), disjoint from the train and test splits."""
    return list(_split_numbers()["heldout"])


def heldout_batch() -> tuple[list[int], torch.Tensor, torch.Tensor]:
    """``(numbers, src, tgt)`` of the held-out split, encoded as ``encode_numbers`` does."""
    numbers = heldout_numbers()
    src, tgt = encode_numbers(numbers)
    return numbers, src, tgt
