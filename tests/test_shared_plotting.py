"""shared.plotting on the Agg backend."""

import numpy as np
import pytest
import torch

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402

from shared.data import blobs  # noqa: E402
from shared.plotting import (  # noqa: E402
    attention_map,
    image_grid,
    plot_curves,
    plot_decision_boundary,
)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def test_decision_boundary_with_probabilities_and_labels():
    X, y = blobs(40, seed=0)
    prob = lambda P: 1 / (1 + np.exp(-(P.sum(axis=1) - 2)))  # noqa: E731
    ax = plot_decision_boundary(prob, X, y, title="logistic", resolution=30)
    assert ax.get_title() == "logistic"
    # filled regions, the 0.5 contour line and the scattered points
    assert len(ax.collections) >= 3
    assert any(len(c.get_offsets()) == 40 for c in ax.collections if hasattr(c, "get_offsets"))

    _, ax2 = plt.subplots()
    out = plot_decision_boundary(
        lambda P: torch.as_tensor(P.sum(axis=1) > 2).long(), torch.as_tensor(X), y, ax=ax2
    )
    assert out is ax2 and len(ax2.collections) >= 2


def test_decision_boundary_checks_predict_shape():
    X, y = blobs(10, seed=0)
    with pytest.raises(ValueError, match="predict returned shape"):
        plot_decision_boundary(lambda P: P, X, y, resolution=10)


def test_plot_curves():
    ax = plot_curves(
        {"train": [1.0, 0.5, 0.25], "val": [torch.tensor(1.2), 0.7, 0.6]},
        logy=True,
        title="loss",
    )
    assert [line.get_label() for line in ax.get_lines()] == ["train", "val"]
    np.testing.assert_allclose(ax.get_lines()[1].get_ydata(), [1.2, 0.7, 0.6], rtol=1e-6)
    assert ax.get_yscale() == "log" and ax.get_xlabel() == "epoch"
    assert ax.get_legend() is not None


@pytest.mark.parametrize("shape", [(10, 8, 8), (10, 1, 8, 8)])
def test_image_grid(shape):
    fig = image_grid(torch.rand(shape), labels=list(range(10)), ncols=4)
    axes = fig.get_axes()
    assert len(axes) == 12  # 3 rows of 4
    assert sum(len(ax.images) for ax in axes) == 10
    assert axes[9].get_title() == "9"
    with pytest.raises(ValueError, match="labels"):
        image_grid(np.zeros(shape), labels=[1, 2])


def test_attention_map():
    w = torch.softmax(torch.randn(1, 3, 4), dim=-1)
    ax = attention_map(w, x_tokens=list("abcd"), y_tokens=["x", "y", "z"], title="attn")
    assert len(ax.images) == 1 and ax.images[0].get_array().shape == (3, 4)
    assert [t.get_text() for t in ax.get_xticklabels()] == list("abcd")
    assert [t.get_text() for t in ax.get_yticklabels()] == ["x", "y", "z"]
    with pytest.raises(ValueError, match="x_tokens"):
        attention_map(w, x_tokens=["a"])


def test_image_grid_shows_one_channel_filters_as_grey_images():
    import matplotlib

    matplotlib.use("Agg")
    import numpy as np

    from shared.plotting import image_grid

    filters = np.random.default_rng(0).normal(size=(4, 1, 3, 3))
    fig = image_grid(filters, ncols=4)
    shapes = [ax.images[0].get_array().shape for ax in fig.axes if ax.images]
    assert shapes == [(3, 3)] * 4, shapes


def test_reconstruction_grid_rows_and_shapes():
    from shared.plotting import reconstruction_grid

    originals, outputs = torch.rand(5, 16), torch.rand(5, 16)
    fig = reconstruction_grid(originals, outputs, n=4)
    assert len(fig.axes) == 8
    assert [ax.get_title() for ax in fig.axes[::4]] == ["original", "reconstruction"]
    fig = reconstruction_grid(originals, outputs, inputs=torch.rand(5, 1, 4, 4), n=3)
    assert [ax.get_title() for ax in fig.axes[::3]] == ["original", "input", "reconstruction"]
    with pytest.raises(ValueError, match="not a square image"):
        reconstruction_grid(torch.rand(2, 15), torch.rand(2, 15))


def test_latent_scatter_and_score_histogram():
    from shared.plotting import latent_scatter, score_histogram

    ax = latent_scatter(torch.randn(20, 2), torch.arange(20) % 10, title="codes")
    assert ax.get_title() == "codes" and len(ax.collections[0].get_offsets()) == 20
    with pytest.raises(ValueError, match=r"\(N, 2\)"):
        latent_scatter(np.zeros((4, 3)))
    ax = score_histogram(
        {"normal": np.arange(10.0), "anomaly": torch.arange(5.0) + 8}, threshold=7.5
    )
    labels = [h.get_label() for h in ax.get_legend().legend_handles]
    assert labels == ["threshold", "normal", "anomaly"] or set(labels) == {
        "threshold",
        "normal",
        "anomaly",
    }
    assert ax.get_lines()[0].get_xdata()[0] == 7.5
