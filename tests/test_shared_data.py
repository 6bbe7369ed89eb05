"""shared.data: offline data sets."""

import numpy as np
import pytest
import torch

from shared.data import BLOB_CENTRE, blobs, logic_gate, to_tensors


@pytest.mark.parametrize(
    ("name", "truth"),
    [
        ("and", [0, 0, 0, 1]),
        ("OR", [0, 1, 1, 1]),
        ("Xor", [0, 1, 1, 0]),
        ("nand", [1, 1, 1, 0]),
        ("nor", [1, 0, 0, 0]),
    ],
)
def test_logic_gates(name, truth):
    X, y = logic_gate(name)
    assert X.shape == (4, 2) and y.shape == (4,)
    assert X.dtype == y.dtype == np.float64
    np.testing.assert_array_equal(X, [[0, 0], [0, 1], [1, 0], [1, 1]])
    np.testing.assert_array_equal(y, truth)


def test_unknown_gate_lists_valid_names():
    with pytest.raises(ValueError, match="xnor.*'and'.*'xor'"):
        logic_gate("xnor")


def test_blobs_shape_balance_and_determinism():
    X, y = blobs(101, seed=3, dim=3)
    assert X.shape == (101, 3) and y.shape == (101,) and X.dtype == np.float64
    assert sorted(set(y)) == [0.0, 1.0]
    assert (y == 0).sum() == 50 and (y == 1).sum() == 51
    X2, y2 = blobs(101, seed=3, dim=3)
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(y, y2)
    assert not np.array_equal(X, blobs(101, seed=4, dim=3)[0])
    assert 0 < y[:50].sum() < 50, "labels should be shuffled"


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("dim", [2, 5])
def test_blobs_separable_with_margin_by_known_hyperplane(seed, dim):
    X, y = blobs(200, seed=seed, separation=3.0, dim=dim)
    u = np.ones(dim) / np.sqrt(dim)
    signed = (X - BLOB_CENTRE) @ u * np.where(y == 1, 1, -1)
    assert signed.min() >= 0.5


def test_blobs_perceptron_converges():
    X, y = blobs(200, seed=1)
    w, b, targets = np.zeros(2), 0.0, 2 * y - 1
    for _ in range(1000):
        mistakes = 0
        for xi, ti in zip(X, targets, strict=True):
            if ti * (xi @ w + b) <= 0:
                w, b, mistakes = w + ti * xi, b + ti, mistakes + 1
        if mistakes == 0:
            break
    assert mistakes == 0
    assert abs(b) > 0, "the boundary misses the origin, so the bias must be used"


def test_blobs_overlap_when_close():
    X, y = blobs(400, seed=0, separation=0.5)
    signed = (X - BLOB_CENTRE) @ (np.ones(2) / np.sqrt(2)) * np.where(y == 1, 1, -1)
    assert signed.min() < 0


def test_blobs_rejects_bad_arguments():
    with pytest.raises(ValueError, match="n >= 2"):
        blobs(1)


def test_to_tensors():
    X, y = logic_gate("xor")
    tX, ty = to_tensors(X, y)
    assert tX.dtype == ty.dtype == torch.float32 and tX.shape == (4, 2)
    assert tX.device.type == "cpu"
    (t64,) = to_tensors(X, dtype=torch.float64)
    assert t64.dtype == torch.float64
    np.testing.assert_array_equal(t64.numpy(), X)
