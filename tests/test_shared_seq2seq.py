"""shared.seq2seq: seeded toy tasks whose alignment is known."""

import matplotlib
import pytest
import torch

from shared.seq2seq import digit_vocab, plot_alignment, reversal_pairs, teacher_forcing

matplotlib.use("Agg")


def test_reversal_is_seeded_and_reversed():
    a, b = reversal_pairs(5, 6, seed=3), reversal_pairs(5, 6, seed=3)
    assert torch.equal(a.src, b.src) and a.src.shape == (5, 6)
    assert torch.equal(a.tgt, a.src.flip(1))
    assert torch.equal(
        a.src.gather(1, a.aligned), a.tgt
    )  # the dictated position holds the target token
    assert not torch.equal(a.src, reversal_pairs(5, 6, seed=4).src)
    assert int(a.src.min()) >= 3  # digits only, no special ids


def test_reversal_variable_lengths_pad_and_align():
    p = reversal_pairs(20, (2, 5), seed=0)
    vocab = digit_vocab()
    for i in range(len(p)):
        n = int(p.src_lengths[i])
        assert vocab.decode(p.tgt[i]) == vocab.decode(p.src[i])[::-1]
        assert (p.src[i, n:] == vocab.pad_id).all() and (p.aligned[i, n:] == -1).all()
        assert p.aligned[i, :n].tolist() == list(range(n - 1, -1, -1))


def test_teacher_forcing_and_errors():
    tgt = torch.tensor([[5, 6, 7]])
    assert teacher_forcing(tgt).tolist() == [[1, 5, 6]]
    with pytest.raises(ValueError):
        reversal_pairs(0, 3)
    with pytest.raises(ValueError):
        reversal_pairs(3, (4, 2))


def test_plot_alignment():
    fig = plot_alignment(torch.eye(3).flip(1), torch.tensor([2, 1, 0]), src_tokens=list("abc"))
    assert len(fig.axes) >= 2
    with pytest.raises(ValueError):
        plot_alignment(torch.eye(3), torch.tensor([0, 1]))
