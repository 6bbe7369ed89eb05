"""shared.digits: the offline digits, plain, shifted on a canvas, or centred."""

import pytest
import torch

from autograder.grader_support.heldout import load_heldout_digits
from shared.digits import (
    DIGIT_SIZE,
    PUBLIC_SPLITS,
    SPLIT_SIZES,
    _digit_images,
    digit_images,
    load_digits_data,
    paste,
    random_positions,
)


def _keys(images: torch.Tensor) -> set[bytes]:
    return {bytes(x.numpy()) for x in images}


def test_splits_are_fixed_disjoint_and_cover_every_digit():
    parts = {name: _digit_images(name) for name in SPLIT_SIZES}
    assert {name: len(y) for name, (_, y) in parts.items()} == SPLIT_SIZES
    assert sum(SPLIT_SIZES.values()) == 1797
    for images, labels in parts.values():
        assert images.shape[1:] == (DIGIT_SIZE, DIGIT_SIZE) and images.dtype == torch.float32
        assert labels.dtype == torch.int64 and set(labels.tolist()) == set(range(10))
        assert 0.0 <= images.min() and images.max() <= 1.0
    train, test, heldout = (_keys(parts[name][0]) for name in ("train", "test", "heldout"))
    # scikit-learn's digits hold a few exact duplicates, so compare distinct images loosely
    assert len(train & test) <= 3 and len(train & heldout) <= 3 and len(test & heldout) <= 3


def _loader(split):
    """The public loader for a public split, the autograder's for the held-out one."""
    if split in PUBLIC_SPLITS:
        return lambda **kw: load_digits_data(split, **kw)
    return load_heldout_digits


@pytest.mark.parametrize("split", list(SPLIT_SIZES))
@pytest.mark.parametrize("shifted", [True, False])
def test_load_digits_data_shapes_range_and_determinism(split, shifted):
    X, y = _loader(split)(canvas=16, shifted=shifted)
    n = SPLIT_SIZES[split]
    assert X.shape == (n, 1, 16, 16) and X.dtype == torch.float32
    assert y.shape == (n,) and y.dtype == torch.int64
    assert 0.0 <= X.min() and X.max() <= 1.0
    X2, y2 = _loader(split)(canvas=16, shifted=shifted)
    assert torch.equal(X, X2) and torch.equal(y, y2)
    # every canvas holds exactly one whole digit: its pixels sum to the plain digit's
    plain, labels = _digit_images(split)
    assert torch.equal(y, labels)
    torch.testing.assert_close(X.sum(dim=(1, 2, 3)), plain.sum(dim=(1, 2)))


def test_centred_digits_sit_in_the_middle():
    X, _ = load_digits_data("test", canvas=14, shifted=False)
    plain, _ = digit_images("test")
    assert torch.equal(X[:, 0, 3:11, 3:11], plain)
    assert X.sum() == plain.sum()


def test_canvas_8_is_the_plain_data_and_seed_is_ignored_when_centred():
    X, _ = load_heldout_digits(canvas=8, shifted=False)
    assert torch.equal(X[:, 0], _digit_images("heldout")[0])
    a, _ = load_digits_data("train", canvas=12, shifted=False, seed=1)
    b, _ = load_digits_data("train", canvas=12, shifted=False, seed=2)
    assert torch.equal(a, b)


def test_shifted_positions_vary_with_seed_and_cover_the_canvas():
    X0, y0 = load_digits_data("train", canvas=16, shifted=True, seed=0)
    X1, y1 = load_digits_data("train", canvas=16, shifted=True, seed=1)
    assert torch.equal(y0, y1) and not torch.equal(X0, X1)
    rows = X0[:, 0].sum(dim=2) > 0  # (N, 16): which rows hold ink
    assert rows[:, 0].any() and rows[:, -1].any(), "some digits touch the top and bottom rows"
    assert not rows.all(dim=1).any(), "an 8-pixel digit cannot cover all 16 rows"


def test_results_are_copies_not_views_of_the_cache():
    X, y = load_digits_data("test", canvas=10)
    X.zero_()
    y.fill_(-1)
    X2, y2 = load_digits_data("test", canvas=10)
    assert X2.sum() > 0 and y2.min() >= 0


def test_random_positions_and_paste():
    pos = random_positions(50, 12, seed=3)
    assert pos.shape == (50, 2) and pos.dtype == torch.int64
    assert pos.min() >= 0 and pos.max() <= 12 - DIGIT_SIZE
    assert torch.equal(pos, random_positions(50, 12, seed=3))
    images = torch.arange(2 * 2 * 3, dtype=torch.float32).reshape(2, 2, 3) + 1
    out = paste(images, torch.tensor([[0, 0], [3, 2]]), canvas=5)
    assert out.shape == (2, 1, 5, 5)
    assert torch.equal(out[0, 0, :2, :3], images[0]) and torch.equal(out[1, 0, 3:, 2:], images[1])
    assert out.sum() == images.sum()


def test_errors_name_the_problem():
    with pytest.raises(ValueError, match="Unknown split 'validation'.*'train'"):
        load_digits_data("validation")
    with pytest.raises(ValueError, match="canvas must be at least 8"):
        load_digits_data("train", canvas=6)
    with pytest.raises(ValueError, match="do not fit"):
        paste(torch.ones(1, 8, 8), torch.tensor([[5, 0]]), canvas=10)
    with pytest.raises(ValueError, match="smaller than"):
        random_positions(3, 4)


@pytest.mark.parametrize("load", [load_digits_data, digit_images])
def test_notebooks_cannot_load_the_held_out_digits(load):
    with pytest.raises(ValueError, match="kept for the autograder's hidden tests"):
        load("heldout")


def test_upsampled_digits_are_28x28_in_the_unit_interval_and_match_the_splits():
    from autograder.grader_support.heldout import load_heldout_upsampled
    from shared.digits import MNIST_SIZE, load_digits_upsampled

    for split, load in (
        ("train", lambda: load_digits_upsampled("train")),
        ("test", lambda: load_digits_upsampled("test")),
        ("heldout", load_heldout_upsampled),
    ):
        X, y = load()
        raw, labels = _digit_images(split)
        assert (
            X.shape == (SPLIT_SIZES[split], 1, MNIST_SIZE, MNIST_SIZE) and X.dtype == torch.float32
        )
        assert torch.equal(y, labels) and 0.0 <= X.min() and X.max() <= 1.0
        # averaging each 28x28 image back down gives (about) the 8x8 digit it came from
        down = torch.nn.functional.interpolate(X, size=(8, 8), mode="area")[:, 0]
        assert (down - raw).abs().mean() < 0.12  # measured 0.08: blurred, not moved
    X, _ = load_digits_upsampled("train")
    X[:] = 0  # a copy, not a view of the cache
    assert load_digits_upsampled("train")[0].sum() > 0
    assert load_digits_upsampled("test", size=12)[0].shape == (300, 1, 12, 12)


def test_upsampled_digits_keep_the_held_out_split_for_the_autograder():
    from shared.digits import load_digits_upsampled

    with pytest.raises(ValueError, match="kept for the autograder's hidden tests"):
        load_digits_upsampled("heldout")
    with pytest.raises(ValueError, match="size must be at least 8"):
        load_digits_upsampled("train", size=5)


def test_the_digits_are_scikit_learns_read_without_importing_it():
    """The file is parsed as ``load_digits`` parses it (same pixels, same labels), and loading
    the data, 02's split of it and 05's AUC check leave scikit-learn unimported: its import
    costs ~70-106 MB in the kernel and in the grading process, where Gradescope gives both
    768 MB."""
    import subprocess
    import sys
    from pathlib import Path

    import numpy as np
    from sklearn.datasets import load_digits

    from shared import digits

    images, labels = digits._all_digits()
    reference = load_digits()
    assert np.array_equal(images, (reference.images / 16.0).astype(np.float32))
    assert np.array_equal(labels, reference.target.astype(np.int64))
    # The grading process's other uses of the digits and of scikit-learn's functions: 02's
    # split of them, 05's AUC oracle and its check (which forbids roc_auc_score).
    probe = (
        "import sys\n"
        "from shared.digits import load_digits_data, load_digits_upsampled\n"
        "load_digits_data('train'); load_digits_upsampled('test')\n"
        "from shared.testing.backprop_by_hand import digits_split\n"
        "digits_split()\n"
        "from shared.testing.autoencoder import check_roc_auc, pairwise_auc\n"
        "def roc_auc(scores, labels):\n"
        "    return pairwise_auc(labels, scores)\n"
        "check_roc_auc(roc_auc, n=40, levels=5, seed=0)\n"
        "print('sklearn' in sys.modules)"
    )
    root = Path(__file__).resolve().parent.parent
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, cwd=root, check=True
    )
    assert done.stdout.strip() == "False", done.stdout + done.stderr
