"""Word-level vocabularies and batches of token ids, for the sequence-to-sequence assignments.

A :class:`Vocab` maps tokens (strings) to integer ids and back. Its first three ids are always
the special tokens ``<pad>`` (0), ``<bos>`` (1, begin of sequence) and ``<eos>`` (2, end of
sequence), so models, losses (``ignore_index=vocab.pad_id``) and decoders can rely on them.

- :class:`Vocab`: ``encode`` / ``decode`` one sequence, ``len(vocab)`` ids in all.
- :func:`pad_ids`: stack sequences of ids of different lengths into one padded batch.

Nothing here trains or decodes with a model: that is the assignments' work.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import torch

PAD, BOS, EOS = "<pad>", "<bos>", "<eos>"
SPECIALS = (PAD, BOS, EOS)


class Vocab:
    """Tokens to ids and back; ids 0, 1, 2 are ``<pad>``, ``<bos>``, ``<eos>``.

    ``tokens`` are added in the order given (repeats and the special tokens are skipped), so
    the same tokens give the same ids on every machine.

    >>> v = Vocab(["un", "deux", "trois"])
    >>> v.encode(["deux", "un"], bos=True, eos=True)
    [1, 4, 3, 2]
    >>> v.decode([1, 4, 3, 2, 0, 0])
    ['deux', 'un']
    """

    def __init__(self, tokens: Iterable[str]) -> None:
        self.itos: list[str] = list(SPECIALS)
        self.stoi: dict[str, int] = {t: i for i, t in enumerate(SPECIALS)}
        for token in tokens:
            if not isinstance(token, str):
                raise TypeError(f"Vocab tokens must be strings, got {token!r}.")
            if token not in self.stoi:
                self.stoi[token] = len(self.itos)
                self.itos.append(token)

    pad_id = 0
    bos_id = 1
    eos_id = 2

    def __len__(self) -> int:
        return len(self.itos)

    def __contains__(self, token: object) -> bool:
        return token in self.stoi

    def __repr__(self) -> str:
        shown = ", ".join(self.itos[3:13]) + (", ..." if len(self.itos) > 13 else "")
        return f"Vocab({len(self)} ids: <pad>, <bos>, <eos>, {shown})"

    def encode(self, tokens: Sequence[str], *, bos: bool = False, eos: bool = False) -> list[int]:
        """The ids of ``tokens``, with ``<bos>`` first and ``<eos>`` last when asked."""
        if isinstance(tokens, str):
            raise TypeError(
                f"Vocab.encode takes a sequence of tokens, not the string {tokens!r}: "
                "split it first (for example text.split())."
            )
        unknown = [t for t in tokens if t not in self.stoi]
        if unknown:
            raise KeyError(f"Tokens not in the vocabulary: {sorted(set(map(str, unknown)))}.")
        ids = [self.stoi[t] for t in tokens]
        return ([self.bos_id] if bos else []) + ids + ([self.eos_id] if eos else [])

    def decode(self, ids: Iterable[int] | torch.Tensor, *, strip: bool = True) -> list[str]:
        """The tokens of ``ids``; with ``strip`` (default), stop at the first ``<eos>`` and drop
        ``<bos>`` and ``<pad>``, so a greedy decoder's output reads as the words it produced."""
        if isinstance(ids, torch.Tensor):
            if ids.dim() != 1:
                raise ValueError(
                    f"Vocab.decode takes one sequence of ids, got shape {tuple(ids.shape)}."
                )
            ids = ids.tolist()
        out = []
        for i in ids:
            i = int(i)
            if not 0 <= i < len(self.itos):
                raise IndexError(f"Id {i} is outside this vocabulary of {len(self)} ids.")
            if strip:
                if i == self.eos_id:
                    break
                if i in (self.bos_id, self.pad_id):
                    continue
            out.append(self.itos[i])
        return out


def pad_ids(
    sequences: Sequence[Sequence[int]], *, pad_id: int = Vocab.pad_id, length: int | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Stack id sequences into an int64 batch ``(n, L)``, padded on the right with ``pad_id``.

    ``L`` is the longest sequence's length unless ``length`` asks for more. Returns
    ``(ids, lengths)``, ``lengths`` the int64 ``(n,)`` true lengths.
    """
    if len(sequences) == 0:
        raise ValueError("pad_ids needs at least one sequence.")
    lengths = torch.tensor([len(s) for s in sequences], dtype=torch.int64)
    longest = int(lengths.max())
    if length is not None:
        if length < longest:
            raise ValueError(
                f"pad_ids: length={length} is shorter than the longest sequence ({longest})."
            )
        longest = int(length)
    ids = torch.full((len(sequences), longest), int(pad_id), dtype=torch.int64)
    for row, seq in enumerate(sequences):
        ids[row, : len(seq)] = torch.as_tensor(list(seq), dtype=torch.int64)
    return ids, lengths
