"""scikit-learn's 8x8 handwritten digits, plain or pasted at random places on a larger canvas.

Offline (the data ships with scikit-learn; it is read from its file, as
``sklearn.datasets.load_digits`` reads it, without importing scikit-learn), deterministic and
cached in memory. The 1,797 digits are split once, by a fixed permutation, into three disjoint
splits:

============  ======  ==========================================================================
split         size    use
============  ======  ==========================================================================
``train``     1,200   training
``test``        300   the test set a notebook reports its accuracy on
``heldout``     297   never used by a notebook; hidden tests evaluate on it (only the autograder
                      can load it)
============  ======  ==========================================================================

Example::

    X, y = load_digits_data("train", canvas=16, shifted=True)   # X (1200, 1, 16, 16), y (1200,)
    X, y = load_digits_data("test", canvas=16, shifted=False)   # centred digits

Pixels are scaled from scikit-learn's 0..16 to [0, 1]. "Shifted" digits sit at a uniformly
random position (every one of the ``(canvas - 7) ** 2`` positions equally likely), drawn per
image from ``seed`` and the split; "centred" digits sit in the middle of the canvas. The same
arguments always give the same tensors; ``seed`` changes where the digits are placed, never
which digits are in which split.
"""

from __future__ import annotations

import gzip
import importlib.util
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch

#: Side of one scikit-learn digit, in pixels.
DIGIT_SIZE = 8
#: Number of classes (the digits 0 to 9).
N_CLASSES = 10
#: Size of each split, in the order the fixed permutation fills them.
SPLIT_SIZES = {"train": 1200, "test": 300, "heldout": 297}
#: The splits a notebook may load; the held-out one is for the autograder's hidden tests.
PUBLIC_SPLITS = ("train", "test")
#: Seed of the permutation that defines the splits; changing it would change every split.
SPLIT_SEED = 2024


def digits_file() -> Path:
    """scikit-learn's copy of the digits (``sklearn/datasets/data/digits.csv.gz``), found
    without importing scikit-learn: the import alone costs about 70 MB and half a second, in the
    notebook and in the grading process alike, for one 1,797-row CSV file."""
    spec = importlib.util.find_spec("sklearn")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("scikit-learn is not installed: it ships the digits data")
    return Path(spec.submodule_search_locations[0]) / "datasets" / "data" / "digits.csv.gz"


@lru_cache(maxsize=1)
def sklearn_digits() -> tuple[np.ndarray, np.ndarray]:
    """``load_digits().data`` (float64, 0..16, shape (1797, 64)) and ``.target``, read from the
    file and parsed the way ``sklearn.datasets.load_digits`` parses it (read-only arrays)."""
    with gzip.open(digits_file(), mode="rt", encoding="utf-8") as rows:
        data = np.loadtxt(rows, delimiter=",")
    flat, target = data[:, :-1], data[:, -1].astype(int)
    flat.setflags(write=False)
    target.setflags(write=False)
    return flat, target


@lru_cache(maxsize=1)
def _all_digits() -> tuple[np.ndarray, np.ndarray]:
    data, target = sklearn_digits()
    images = (data.reshape(-1, 8, 8) / 16.0).astype(np.float32)  # (1797, 8, 8) in [0, 1]
    labels = target.astype(np.int64)
    images.setflags(write=False)
    labels.setflags(write=False)
    return images, labels


@lru_cache(maxsize=1)
def _split_indices() -> dict[str, np.ndarray]:
    n = len(_all_digits()[1])
    order = np.random.default_rng(SPLIT_SEED).permutation(n)
    bounds = np.cumsum([0, *SPLIT_SIZES.values()])
    if bounds[-1] != n:  # pragma: no cover - guards an edit of SPLIT_SIZES
        raise RuntimeError(f"SPLIT_SIZES add up to {bounds[-1]}, but there are {n} digits.")
    return {name: order[bounds[i] : bounds[i + 1]] for i, name in enumerate(SPLIT_SIZES)}


def _check_split(split: str) -> str:
    if split not in SPLIT_SIZES:
        raise ValueError(f"Unknown split {split!r}; valid splits are {list(SPLIT_SIZES)}.")
    return split


def _public(split: str) -> str:
    if split not in PUBLIC_SPLITS:
        raise ValueError(
            f"Unknown split {split!r}; notebooks load {list(PUBLIC_SPLITS)} (the held-out digits "
            "are kept for the autograder's hidden tests)."
        )
    return split


def digit_images(split: str = "train") -> tuple[torch.Tensor, torch.Tensor]:
    """The raw 8x8 digits of ``split``: images (N, 8, 8) float32 in [0, 1], labels (N,) int64."""
    return _digit_images(_public(split))


def _digit_images(split: str) -> tuple[torch.Tensor, torch.Tensor]:
    images, labels = _all_digits()
    index = _split_indices()[_check_split(split)]
    return torch.from_numpy(images[index].copy()), torch.from_numpy(labels[index].copy())


def random_positions(
    n: int, canvas: int, *, seed: int | Sequence[int] = 0, size: int = DIGIT_SIZE
) -> torch.Tensor:
    """Top-left corners (row, col) of ``n`` patches of side ``size`` placed uniformly on a canvas.

    Returns an int64 tensor of shape (n, 2) with entries in ``0 .. canvas - size``; the same
    ``seed`` (an int or a sequence of ints, as numpy's ``default_rng`` takes) gives the same
    positions.
    """
    if canvas < size:
        raise ValueError(f"canvas={canvas} is smaller than the {size}x{size} images to paste.")
    rng = np.random.default_rng(seed)
    return torch.from_numpy(rng.integers(0, canvas - size + 1, size=(int(n), 2)).astype(np.int64))


def paste(images: torch.Tensor, positions: torch.Tensor, canvas: int) -> torch.Tensor:
    """Paste each image (N, h, w) onto a zero canvas at its top-left corner ``positions`` (N, 2).

    Returns a float32 tensor of shape (N, 1, canvas, canvas). Every image must fit entirely.
    """
    images = torch.as_tensor(images, dtype=torch.float32)
    positions = torch.as_tensor(positions, dtype=torch.int64)
    if images.ndim != 3 or positions.shape != (len(images), 2):
        raise ValueError(
            f"paste needs images (N, h, w) and positions (N, 2); got {tuple(images.shape)} "
            f"and {tuple(positions.shape)}."
        )
    _, h, w = images.shape
    if len(images) and (
        positions.min() < 0
        or positions[:, 0].max() > canvas - h
        or positions[:, 1].max() > canvas - w
    ):
        raise ValueError(f"Some {h}x{w} images do not fit on a {canvas}x{canvas} canvas.")
    out = torch.zeros(len(images), 1, canvas, canvas)
    for i, (r, c) in enumerate(positions.tolist()):
        out[i, 0, r : r + h, c : c + w] = images[i]
    return out


@lru_cache(maxsize=32)
def _canvases(
    split: str, canvas: int, shifted: bool, seed: int
) -> tuple[torch.Tensor, torch.Tensor]:
    images, labels = _digit_images(split)
    if shifted:
        # One stream per (seed, split, canvas): the splits' placements are independent draws.
        stream = [int(seed), list(SPLIT_SIZES).index(split), int(canvas)]
        positions = random_positions(len(images), canvas, seed=stream)
    else:
        offset = (canvas - DIGIT_SIZE) // 2
        positions = torch.full((len(images), 2), offset, dtype=torch.int64)
    return paste(images, positions, canvas), labels


def load_digits_data(
    split: str = "train", *, canvas: int = 16, shifted: bool = True, seed: int = 0
) -> tuple[torch.Tensor, torch.Tensor]:
    """Digits of ``split`` on a ``canvas`` x ``canvas`` image, at random places or centred.

    Args:
        split: "train" (1,200 digits) or "test" (300); see the module docstring.
        canvas: side of the square image, at least 8. With ``canvas=8`` this is the plain data.
        shifted: True pastes each digit at a uniformly random position (drawn from ``seed``),
            False centres it (offset ``(canvas - 8) // 2`` from the top-left corner).
        seed: placement seed for shifted digits; ignored when ``shifted`` is False.

    Returns:
        ``X`` float32 of shape (N, 1, canvas, canvas) with values in [0, 1], and ``y`` int64 of
        shape (N,) with labels 0..9. Fresh CPU tensors: changing them does not touch the cache.
    """
    return _load(_public(split), canvas=canvas, shifted=shifted, seed=seed)


def _load(
    split: str, *, canvas: int, shifted: bool, seed: int
) -> tuple[torch.Tensor, torch.Tensor]:
    _check_split(split)
    canvas = int(canvas)
    if canvas < DIGIT_SIZE:
        raise ValueError(f"canvas must be at least {DIGIT_SIZE} (one digit), got {canvas}.")
    X, y = _canvases(split, canvas, bool(shifted), int(seed) if shifted else 0)
    return X.clone(), y.clone()


#: Side of the upsampled digits that stand in for MNIST (assignment 05 onwards).
MNIST_SIZE = 28


@lru_cache(maxsize=8)
def _upsampled(split: str, size: int) -> tuple[torch.Tensor, torch.Tensor]:
    images, labels = _digit_images(split)
    # Bilinear weights are convex combinations, so the pixels stay in [0, 1].
    X = torch.nn.functional.interpolate(
        images[:, None], size=(size, size), mode="bilinear", align_corners=False
    )
    return X.clamp_(0.0, 1.0), labels


def load_digits_upsampled(
    split: str = "train", *, size: int = MNIST_SIZE
) -> tuple[torch.Tensor, torch.Tensor]:
    """Digits of ``split`` enlarged from 8x8 to ``size`` x ``size`` by bilinear interpolation.

    With the default ``size=28`` each image has 784 pixels, MNIST's size, so models written for
    MNIST (a 784-input autoencoder, say) run unchanged on data that ships with scikit-learn.

    Args:
        split: "train" (1,200 digits) or "test" (300); see the module docstring.
        size: side of the square output image, at least 8.

    Returns:
        ``X`` float32 of shape (N, 1, size, size) with values in [0, 1], and ``y`` int64 of
        shape (N,) with labels 0..9. Fresh CPU tensors: changing them does not touch the cache.
        Flatten with ``X.flatten(1)`` for (N, size * size) vectors.
    """
    return _load_upsampled(_public(split), size=size)


def _load_upsampled(split: str, *, size: int) -> tuple[torch.Tensor, torch.Tensor]:
    _check_split(split)
    size = int(size)
    if size < DIGIT_SIZE:
        raise ValueError(f"size must be at least {DIGIT_SIZE} (one digit), got {size}.")
    X, y = _upsampled(split, size)
    return X.clone(), y.clone()
