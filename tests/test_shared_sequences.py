"""shared.sequences: seeded sequence data, padding helpers, weights and plots."""

import matplotlib
import pytest
import torch
from torch import nn

from shared.sequences import (
    adding_problem,
    damped_oscillators,
    first_token_recall,
    module_weights,
    noisy_sines,
    pad_batch,
    plot_forecast,
    plot_log_norms,
    plot_sequences,
    random_lengths,
    unpad,
)

matplotlib.use("Agg")


def test_oscillators_are_seeded_and_shaped():
    a = damped_oscillators(5, 40, seed=3)
    assert a.shape == (5, 40, 1) and a.dtype == torch.float32
    assert torch.equal(a, damped_oscillators(5, 40, seed=3))
    assert not torch.equal(a, damped_oscillators(5, 40, seed=4))
    clean = damped_oscillators(3, 200, seed=1, noise=0.0, dtype=torch.float64)
    assert clean[:, -20:].abs().max() < clean[:, :20].abs().max()  # damped
    sines = noisy_sines(2, 300, seed=0, noise=0.0)
    assert sines[:, -50:].abs().max() > 0.4  # undamped


def test_first_token_recall_labels_and_marker():
    x, y = first_token_recall(50, 12, n_symbols=3, seed=0)
    assert x.shape == (50, 13, 4) and y.shape == (50,) and y.dtype == torch.int64
    assert torch.equal(x[:, 0, :3].argmax(dim=1), y)
    assert torch.equal(x[..., :3].sum(dim=-1), torch.ones(50, 13))
    assert torch.equal(
        x[:, :, 3], torch.nn.functional.one_hot(torch.zeros(50, dtype=torch.long), 13).float()
    )
    gen = torch.Generator().manual_seed(5)
    first, second = first_token_recall(4, 3, seed=gen), first_token_recall(4, 3, seed=gen)
    assert not torch.equal(first[0], second[0])  # a generator advances


def test_adding_problem_targets():
    x, target = adding_problem(20, 10, seed=2, dtype=torch.float64)
    assert x.shape == (20, 10, 2)
    assert torch.equal(x[..., 1].sum(dim=1), torch.full((20,), 2.0, dtype=torch.float64))
    assert torch.allclose((x[..., 0] * x[..., 1]).sum(dim=1), target)
    with pytest.raises(ValueError):
        adding_problem(2, 1)


def test_pad_and_unpad_round_trip():
    lengths = random_lengths(4, 2, 6, seed=0)
    assert all(2 <= n <= 6 for n in lengths)
    seqs = [torch.randn(n, 3) for n in lengths]
    padded, lens = pad_batch(seqs, value=-1.0, extra=2)
    assert padded.shape == (4, max(lengths) + 2, 3) and lens.tolist() == lengths
    assert (padded[0, lengths[0] :] == -1).all()
    assert all(torch.equal(a, b) for a, b in zip(unpad(padded, lens), seqs, strict=True))


def test_module_weights_layout():
    lstm = nn.LSTM(3, 5, num_layers=2)
    layers = module_weights(lstm)
    assert [tuple(t.shape) for t in layers[1]] == [(20, 5), (20, 5), (20,), (20,)]
    no_bias = module_weights(nn.GRU(2, 4, bias=False))
    assert torch.equal(no_bias[0][2], torch.zeros(12))


def test_plots_return_axes():
    ax = plot_sequences(damped_oscillators(3, 20), n=2, labels=["a", "b"], title="t")
    assert len(ax.lines) == 2
    ax = plot_forecast(torch.zeros(10), torch.ones(3), {"model": torch.ones(3)})
    assert len(ax.lines) == 3
    ax = plot_log_norms({"r": [1.0, 0.5, 0.25]})
    assert ax.get_yscale() == "log"
