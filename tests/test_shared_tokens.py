"""shared.tokens: vocabularies with fixed special ids, and padded batches of ids."""

import pytest
import torch

from shared.tokens import BOS, EOS, PAD, Vocab, pad_ids


def test_specials_come_first_and_tokens_keep_their_order():
    v = Vocab(["trois", "un", "trois", PAD, "deux"])
    assert v.itos == [PAD, BOS, EOS, "trois", "un", "deux"]
    assert (v.pad_id, v.bos_id, v.eos_id) == (0, 1, 2)
    assert len(v) == 6 and "un" in v and "quatre" not in v
    assert "trois" in repr(v)


def test_encode_and_decode_round_trip():
    v = Vocab("zero one two".split())
    ids = v.encode(["two", "one"], bos=True, eos=True)
    assert ids == [1, 5, 4, 2]
    assert v.decode(ids + [0, 0]) == ["two", "one"]
    assert v.decode(torch.tensor([5, 2, 4])) == ["two"]  # stops at <eos>
    assert v.decode([1, 5, 2, 0], strip=False) == [BOS, "two", EOS, PAD]


def test_bad_inputs_get_specific_errors():
    v = Vocab(["a", "b"])
    with pytest.raises(KeyError, match="'c'"):
        v.encode(["a", "c"])
    with pytest.raises(TypeError, match="split it first"):
        v.encode("a b")
    with pytest.raises(IndexError, match="outside"):
        v.decode([9])
    with pytest.raises(ValueError, match="one sequence"):
        v.decode(torch.zeros(2, 2, dtype=torch.int64))
    with pytest.raises(TypeError, match="strings"):
        Vocab([1, 2])


def test_pad_ids_pads_on_the_right_and_keeps_lengths():
    ids, lengths = pad_ids([[3, 4, 5], [6]])
    assert ids.dtype == torch.int64 and lengths.tolist() == [3, 1]
    assert ids.tolist() == [[3, 4, 5], [6, 0, 0]]
    wider, _ = pad_ids([[3], [4, 5]], pad_id=9, length=4)
    assert wider.tolist() == [[3, 9, 9, 9], [4, 5, 9, 9]]
    with pytest.raises(ValueError, match="shorter"):
        pad_ids([[1, 2, 3]], length=2)
    with pytest.raises(ValueError, match="at least one"):
        pad_ids([])
