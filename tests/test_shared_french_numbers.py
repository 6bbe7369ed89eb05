"""shared.french_numbers: the words of known numbers, the vocabularies and the fixed splits."""

import pytest
import torch

from shared import french_numbers as fn
from shared.tokens import Vocab

KNOWN = {
    0: ("zéro", "zero"),
    1: ("un", "one"),
    17: ("dix-sept", "seventeen"),
    21: ("vingt et un", "twenty-one"),
    70: ("soixante-dix", "seventy"),
    71: ("soixante et onze", "seventy-one"),
    72: ("soixante-douze", "seventy-two"),
    77: ("soixante-dix-sept", "seventy-seven"),
    80: ("quatre-vingts", "eighty"),
    81: ("quatre-vingt-un", "eighty-one"),
    91: ("quatre-vingt-onze", "ninety-one"),
    97: ("quatre-vingt-dix-sept", "ninety-seven"),
    100: ("cent", "one hundred"),
    101: ("cent un", "one hundred one"),
    200: ("deux cents", "two hundred"),
    201: ("deux cent un", "two hundred one"),
    280: ("deux cent quatre-vingts", "two hundred eighty"),
    999: ("neuf cent quatre-vingt-dix-neuf", "nine hundred ninety-nine"),
}


@pytest.mark.parametrize("n", sorted(KNOWN))
def test_known_numbers(n):
    assert fn.french(n) == KNOWN[n][0]
    assert fn.english(n) == KNOWN[n][1]


def test_tokens_split_spaces_and_hyphens():
    assert fn.french_tokens(97) == ["quatre", "vingt", "dix", "sept"]
    assert fn.french_tokens(21) == ["vingt", "et", "un"]
    assert fn.english_tokens(797) == ["seven", "hundred", "ninety", "seven"]


def test_every_number_has_distinct_words():
    assert len({fn.french(n) for n in range(1000)}) == 1000
    assert len({fn.english(n) for n in range(1000)}) == 1000


@pytest.mark.parametrize("bad", [-1, 1000, 2.5, True, "3"])
def test_out_of_range_rejected(bad):
    with pytest.raises(ValueError):
        fn.french(bad)


def test_vocabularies_are_small_and_fixed():
    fr, en = fn.vocabularies()
    assert isinstance(fr, Vocab) and isinstance(en, Vocab)
    assert fr.itos[:3] == ["<pad>", "<bos>", "<eos>"] and en.itos[:3] == ["<pad>", "<bos>", "<eos>"]
    assert len(fr) == 29 and len(en) == 32
    assert fr.itos[3:6] == ["zéro", "un", "deux"]


def test_splits_disjoint_fixed_and_complete():
    from autograder.grader_support.french_heldout import heldout_numbers

    train, test = fn.number_split("train"), fn.number_split("test")
    heldout = heldout_numbers()
    assert (len(train), len(test), len(heldout)) == (750, 150, 100)
    assert (
        not set(train) & set(test)
        and not set(train) & set(heldout)
        and not set(test) & set(heldout)
    )
    assert sorted(train + test + heldout) == list(range(1000))
    assert train == sorted(train) and fn.number_split("train") == train  # fixed
    assert train[:5] == [0, 1, 2, 3, 4] and test[:3] == [5, 16, 17] and heldout[:3] == [10, 13, 33]


def test_heldout_not_public():
    with pytest.raises(ValueError, match="held-out"):
        fn.number_split("heldout")


def test_encode_numbers():
    fr, en = fn.vocabularies()
    src, tgt = fn.encode_numbers([97, 1])
    assert src.dtype == torch.int64 and src.shape == (2, 5) and tgt.shape == (2, 4)
    assert fr.decode(src[0]) == ["quatre", "vingt", "dix", "sept"] and src[0, -1] == fr.eos_id
    assert src[1].tolist() == [fr.stoi["un"], fr.eos_id, 0, 0, 0]
    assert tgt[0].tolist() == [en.bos_id, en.stoi["ninety"], en.stoi["seven"], en.eos_id]
    assert tgt[1].tolist() == [en.bos_id, en.stoi["one"], en.eos_id, 0]
