"""Toy sequence-to-sequence tasks generated in code, whose correct alignment is known.

Each task maps a source sequence of tokens to a target sequence, and says for every target step
which source position holds the token it must produce (``aligned``): what an attention model
should look at. Everything is seeded (an int or a ``torch.Generator``) and never touches the
global RNG; token ids come from a :class:`shared.tokens.Vocab`, so ``<pad>`` = 0, ``<bos>`` = 1,
``<eos>`` = 2 hold for every task.

- :func:`digit_vocab`: the vocabulary of the digit tasks (the specials, then ``"0"`` ... ``"9"``).
- :func:`reversal_pairs`: reverse a sequence of digits.
- :func:`teacher_forcing`: decoder inputs (``<bos>`` first) and targets from target ids.
- :func:`plot_alignment`: a learned alignment beside the one the task dictates.

Nothing here trains, decodes or scores a model: that is the assignments' work.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import torch

from shared.tokens import Vocab, pad_ids

if TYPE_CHECKING:
    from matplotlib.figure import Figure

DIGITS = tuple(str(d) for d in range(10))


def digit_vocab() -> Vocab:
    """``Vocab`` of the digit tasks: ids 0-2 the specials, ids 3-12 the digits ``"0"``-``"9"``."""
    return Vocab(DIGITS)


def _generator(seed: int | torch.Generator) -> torch.Generator:
    if isinstance(seed, torch.Generator):
        return seed
    return torch.Generator().manual_seed(int(seed))


@dataclass(frozen=True)
class Pairs:
    """A batch of a toy task.

    Attributes:
        src: int64 ``(n, S)`` source ids (right-padded with ``<pad>`` when lengths differ).
        tgt: int64 ``(n, T)`` target ids, no ``<bos>`` / ``<eos>`` (the digits to produce).
        aligned: int64 ``(n, T)``: for target step ``t``, the source position holding the token
            to produce (``-1`` at padded target steps).
        src_lengths, tgt_lengths: int64 ``(n,)`` true lengths.
    """

    src: torch.Tensor
    tgt: torch.Tensor
    aligned: torch.Tensor
    src_lengths: torch.Tensor
    tgt_lengths: torch.Tensor

    def __len__(self) -> int:
        return len(self.src)


def reversal_pairs(
    n: int,
    length: int | tuple[int, int],
    *,
    seed: int | torch.Generator = 0,
    vocab: Vocab | None = None,
) -> Pairs:
    """``n`` random digit sequences and their reversals: ``3 1 4`` -> ``4 1 3``.

    ``length`` is one length for all, or ``(low, high)`` (inclusive) to draw each length; the
    source and target of a pair have the same length, and target step ``t`` copies source
    position ``length - 1 - t`` (``aligned``).
    """
    if n < 1:
        raise ValueError(f"reversal_pairs needs n >= 1, got {n}.")
    low, high = (length, length) if isinstance(length, int) else (int(length[0]), int(length[1]))
    if not 1 <= low <= high:
        raise ValueError(f"reversal_pairs needs 1 <= low <= high, got length={length!r}.")
    vocab = vocab or digit_vocab()
    gen = _generator(seed)
    lengths = torch.randint(low, high + 1, (n,), generator=gen).tolist()
    digits = torch.randint(0, 10, (n, high), generator=gen)
    sources = [
        [vocab.stoi[DIGITS[d]] for d in digits[i, :k].tolist()] for i, k in enumerate(lengths)
    ]
    src, src_lengths = pad_ids(sources, pad_id=vocab.pad_id)
    tgt, tgt_lengths = pad_ids([s[::-1] for s in sources], pad_id=vocab.pad_id)
    steps = torch.arange(tgt.shape[1])
    aligned = torch.where(
        steps < tgt_lengths[:, None], tgt_lengths[:, None] - 1 - steps, torch.full_like(tgt, -1)
    )
    return Pairs(src, tgt, aligned, src_lengths, tgt_lengths)


def teacher_forcing(tgt: torch.Tensor, *, bos_id: int = Vocab.bos_id) -> torch.Tensor:
    """Decoder inputs for targets ``tgt`` ``(n, T)``: ``<bos>``, then ``tgt[:, :-1]``."""
    start = torch.full((tgt.shape[0], 1), int(bos_id), dtype=tgt.dtype, device=tgt.device)
    return torch.cat([start, tgt[:, :-1]], dim=1)


def plot_alignment(
    weights: Any,
    aligned: Any,
    *,
    src_tokens: list[str] | None = None,
    tgt_tokens: list[str] | None = None,
    title: str = "learned alignment",
) -> Figure:
    """Two heat maps side by side: ``weights`` ``(T, S)`` (one example) and the alignment the
    task dictates (a one-hot row per target step from ``aligned`` ``(T,)``; -1 rows stay empty)."""
    from shared.plotting import _pyplot, attention_map

    plt = _pyplot()
    w = torch.as_tensor(weights).detach().cpu().double()
    a = torch.as_tensor(aligned).detach().cpu().long()
    if w.dim() != 2 or a.shape != (w.shape[0],):
        raise ValueError(
            "plot_alignment needs weights (T, S) and aligned (T,), got "
            f"{tuple(w.shape)} and {tuple(a.shape)}."
        )
    dictated = torch.zeros_like(w)
    rows = torch.nonzero(a >= 0).flatten()
    dictated[rows, a[rows]] = 1.0
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for ax, values, name in (
        (axes[0], w, title),
        (axes[1], dictated, "the alignment the task dictates"),
    ):
        attention_map(values, x_tokens=src_tokens, y_tokens=tgt_tokens, ax=ax, title=name)
        ax.set_xlabel("source position")
        ax.set_ylabel("target step")
    fig.tight_layout()
    return fig
