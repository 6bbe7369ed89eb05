"""French number words and their English equivalents for 0-999, generated from the rules.

Offline and deterministic: the words are built from the rules of both languages, never read
from a table of whole numbers.

**French: traditional spelling** (before the 1990 reform): hyphens join tens and units below
one hundred (*dix-sept*, *quatre-vingt-dix-sept*), except where *et* joins them (*vingt et un*,
*soixante et onze*; never after *quatre-vingt*: *quatre-vingt-un*); *cent* and the hundreds are
separated by spaces (*deux cent un*). 70-79 and 90-99 count on from *soixante* and
*quatre-vingt* (*soixante-dix*, *quatre-vingt-dix-neuf*). *Vingt* and *cent* take a plural *s*
when multiplied and final (*quatre-vingts*, *deux cents*) and lose it when followed by another
number (*quatre-vingt-un*, *deux cent trois*); *cent* alone is never preceded by *un*.

**English: American style**, without "and": *seven hundred ninety-seven*.

**Tokens.** Words are split at spaces and hyphens and the hyphens dropped, so both languages
have a tiny word-level vocabulary (``french_tokens(97) == ["quatre", "vingt", "dix", "sept"]``,
``english_tokens(97) == ["ninety", "seven"]``). :func:`vocabularies` builds one
:class:`shared.tokens.Vocab` per language from every number's tokens (ids 0, 1, 2 are
``<pad>``, ``<bos>``, ``<eos>``).

**Splits.** The 1,000 numbers are split once, by a fixed permutation, into three disjoint sets:

============  =====  ============================================================================
split         size   use
============  =====  ============================================================================
``train``       750  training
``test``        150  the numbers a notebook reports its exact-match accuracy on (never trained on)
``heldout``     100  never used by a notebook; hidden tests translate them (only the autograder
                     loads them)
============  =====  ============================================================================

:func:`number_split` serves the first two; the autograder's ``grader_support.french_heldout``
serves the third.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import torch

from shared.tokens import Vocab, pad_ids

UNITS_FR = ("zéro", "un", "deux", "trois", "quatre", "cinq", "six", "sept", "huit", "neuf", "dix",
            "onze", "douze", "treize", "quatorze", "quinze", "seize")  # fmt: skip
TENS_FR = {2: "vingt", 3: "trente", 4: "quarante", 5: "cinquante", 6: "soixante"}
UNITS_EN = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
            "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen",
            "eighteen", "nineteen")  # fmt: skip
TENS_EN = {2: "twenty", 3: "thirty", 4: "forty", 5: "fifty", 6: "sixty", 7: "seventy", 8: "eighty",
           9: "ninety"}  # fmt: skip

#: Size of each split, in the order the fixed permutation fills them.
SPLIT_SIZES = {"train": 750, "test": 150, "heldout": 100}
#: The splits a notebook may load; the held-out one is for the autograder's hidden tests.
PUBLIC_SPLITS = ("train", "test")
#: Seed of the permutation that defines the splits; changing it would change every split.
SPLIT_SEED = 1708


def _check_number(n: int) -> int:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or not 0 <= int(n) <= 999:
        raise ValueError(f"Numbers from 0 to 999 only, got {n!r}.")
    return int(n)


def _below_100_fr(n: int) -> str:
    if n <= 16:
        return UNITS_FR[n]
    if n < 20:
        return "dix-" + UNITS_FR[n - 10]
    tens, units = divmod(n, 10)
    if tens in (7, 9):  # soixante-dix..., quatre-vingt-dix...: count on from 60 and 80
        base, rest = ("soixante" if tens == 7 else "quatre-vingt"), n - (60 if tens == 7 else 80)
        if rest == 11 and tens == 7:
            return "soixante et onze"
        return f"{base}-{_below_100_fr(rest)}"
    if tens == 8:
        return "quatre-vingts" if units == 0 else f"quatre-vingt-{UNITS_FR[units]}"
    if units == 0:
        return TENS_FR[tens]
    if units == 1:
        return f"{TENS_FR[tens]} et un"
    return f"{TENS_FR[tens]}-{UNITS_FR[units]}"


def french(n: int) -> str:
    """French words for ``n`` (0-999), traditional spelling: ``french(71) == "soixante et onze"``"""
    n = _check_number(n)
    hundreds, rest = divmod(n, 100)
    if hundreds == 0:
        return _below_100_fr(rest)
    head = "cent" if hundreds == 1 else f"{UNITS_FR[hundreds]} cent"
    if rest == 0:
        return head if hundreds == 1 else head + "s"
    return f"{head} {_below_100_fr(rest)}"


def english(n: int) -> str:
    """The English words for ``n`` (0-999), American style: ``english(97) == "ninety-seven"``."""
    n = _check_number(n)
    hundreds, rest = divmod(n, 100)
    if rest < 20:
        tail = UNITS_EN[rest]
    else:
        tens, units = divmod(rest, 10)
        tail = TENS_EN[tens] + (f"-{UNITS_EN[units]}" if units else "")
    if hundreds == 0:
        return tail
    head = f"{UNITS_EN[hundreds]} hundred"
    return head if rest == 0 else f"{head} {tail}"


def tokens(words: str) -> list[str]:
    """Split at spaces and hyphens: ``tokens("quatre-vingt-dix") == ["quatre", "vingt", "dix"]``."""
    return words.replace("-", " ").split()


def french_tokens(n: int) -> list[str]:
    return tokens(french(n))


def english_tokens(n: int) -> list[str]:
    return tokens(english(n))


@lru_cache(maxsize=1)
def vocabularies() -> tuple[Vocab, Vocab]:
    """``(french_vocab, english_vocab)``, built from the tokens of 0..999 in order."""
    fr = Vocab(t for n in range(1000) for t in french_tokens(n))
    en = Vocab(t for n in range(1000) for t in english_tokens(n))
    return fr, en


@lru_cache(maxsize=1)
def _split_numbers() -> dict[str, tuple[int, ...]]:
    order = np.random.default_rng(SPLIT_SEED).permutation(1000)
    bounds = np.cumsum([0, *SPLIT_SIZES.values()])
    return {
        name: tuple(sorted(int(n) for n in order[bounds[i] : bounds[i + 1]]))
        for i, name in enumerate(SPLIT_SIZES)
    }


def number_split(split: str = "train") -> list[int]:
    """The numbers (sorted ints) of the ``train`` or ``test`` split."""
    if split not in PUBLIC_SPLITS:
        raise ValueError(
            f"Unknown split {split!r}; notebooks load {list(PUBLIC_SPLITS)} (the held-out numbers "
            "are kept for the autograder's hidden tests)."
        )
    return list(_split_numbers()[split])


def encode_numbers(numbers: list[int]) -> tuple[torch.Tensor, torch.Tensor]:
    """Padded id batches ``(src, tgt)`` for ``numbers``: ``src`` (n, S) holds the French tokens
    followed by ``<eos>``, ``tgt`` (n, T) the English ones between ``<bos>`` and ``<eos>``; both
    are padded on the right with ``<pad>`` (id 0), batch first."""
    fr, en = vocabularies()
    src, _ = pad_ids([fr.encode(french_tokens(n), eos=True) for n in numbers])
    tgt, _ = pad_ids([en.encode(english_tokens(n), bos=True, eos=True) for n in numbers])
    return src, tgt
