"""shared.forbid: forbidden inside, restored outside."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from shared.forbid import ForbiddenCallError, forbid


def test_forbids_module_function_and_restores():
    original = F.softmax
    x = torch.randn(2, 3)
    with forbid("torch.nn.functional.softmax", reason="Use torch.exp and sum."):
        with pytest.raises(ForbiddenCallError) as info:
            F.softmax(x, dim=1)
        assert "your code called torch.nn.functional.softmax. Use torch.exp" in str(info.value)
        torch.exp(x)  # other functions still work
    assert F.softmax is original
    F.softmax(x, dim=1)


def test_forbids_tensor_method_and_restores_inheritance():
    x = torch.randn(3)
    assert "softmax" not in vars(torch.Tensor)
    with forbid("torch.Tensor.softmax"):
        with pytest.raises(ForbiddenCallError, match="torch.Tensor.softmax"):
            x.softmax(0)
        with pytest.raises(ForbiddenCallError):
            F.softmax(x, dim=0)  # library code that uses the method is caught too
    assert "softmax" not in vars(torch.Tensor)
    x.softmax(0)


def test_restores_after_exception_in_block():
    with pytest.raises(KeyError), forbid("numpy.linalg.inv", "torch.matmul"):
        raise KeyError("student code crashed")
    np.linalg.inv(np.eye(2))
    torch.matmul(torch.eye(2), torch.eye(2))


def test_only_named_objects_are_patched():
    x = torch.randn(3)
    with forbid("torch.nn.functional.softmax"):
        torch.softmax(x, 0)  # a different object: list it explicitly to forbid it


def test_same_object_alias_on_same_owner_is_patched():
    assert np.concat is np.concatenate
    with forbid("numpy.concatenate"):
        with pytest.raises(ForbiddenCallError, match="numpy.concat .*alias"):
            np.concat([[1.0]])
    assert np.concat is np.concatenate


def test_unresolvable_name_raises_value_error_and_patches_nothing():
    original = F.conv2d
    with pytest.raises(ValueError, match="torch.nn.functional.nope"):
        with forbid("torch.nn.functional.conv2d", "torch.nn.functional.nope"):
            pass
    assert F.conv2d is original
    with pytest.raises(ValueError):
        with forbid("softmax"):
            pass


def test_works_as_decorator_and_nested():
    @forbid("numpy.linalg.inv")
    def solve():
        return np.linalg.inv(np.eye(2))

    with pytest.raises(ForbiddenCallError):
        solve()
    with forbid("numpy.linalg.inv"), forbid("numpy.linalg.inv"):
        pass
    np.linalg.inv(np.eye(2))


def test_a_torch_function_bound_before_the_block_is_refused_at_the_call():
    """Issue 24: `_lib = torch.conv2d` at the top of a notebook, then `_lib(...)` inside the
    student's function, scored full marks when only attribute look-ups were patched."""
    from torch.nn.functional import softmax as early_softmax

    lib, method = torch.conv2d, torch.Tensor.softmax
    x, w = torch.zeros(1, 1, 4, 4), torch.zeros(1, 1, 3, 3)
    with forbid("torch.conv2d", "torch.nn.functional.softmax", "torch.Tensor.softmax"):
        with pytest.raises(ForbiddenCallError, match="your code called torch.conv2d"):
            lib(x, w)
        with pytest.raises(ForbiddenCallError, match="torch.nn.functional.softmax"):
            early_softmax(x, dim=0)
        with pytest.raises(ForbiddenCallError, match="torch.Tensor.softmax"):
            method(x, 0)
        with pytest.raises(ForbiddenCallError):
            torch.nn.Conv2d(1, 1, 3)(x)  # a layer whose forward calls it
        assert torch.exp(x).shape == x.shape  # everything else runs as is
    assert lib(x, w).shape == (1, 1, 2, 2) and early_softmax(x, dim=0).shape == x.shape


def test_the_refusing_mode_ends_with_the_block_even_when_it_raises():
    lib = torch.matmul
    with pytest.raises(KeyError), forbid("torch.matmul"):
        raise KeyError("student code crashed")
    assert torch.equal(lib(torch.eye(2), torch.eye(2)), torch.eye(2))


def test_the_kits_own_oracles_may_call_what_the_student_may_not():
    """A referee standing in for an earlier answer runs inside the block (the student's function
    calls it): the kit's test code is not refused, the student's code is."""
    from shared.testing.conv_output_sizes import torch_conv_size

    conv1d = torch.nn.functional.conv1d
    with forbid("torch.nn.functional.conv1d"):
        assert torch_conv_size(9, 3, 2) == 4  # shared/testing's oracle runs F.conv1d
        with pytest.raises(ForbiddenCallError):
            conv1d(torch.zeros(1, 1, 9), torch.zeros(1, 1, 3))


class _CellOfMine(torch.nn.LSTMCell):
    """What a student may write in a cell, before any test opens its block."""


def test_a_forbidden_layer_class_is_refused_by_any_path_and_through_subclasses():
    from torch.nn.modules.rnn import LSTMCell as by_module_path

    built_before = _CellOfMine(3, 4)
    plain_before = torch.nn.LSTMCell(3, 4)
    x = torch.zeros(2, 3)
    with forbid("torch.nn.LSTMCell", reason="Build it from matrix products."):
        for make in (lambda: by_module_path(3, 4), lambda: _CellOfMine(3, 4)):
            with pytest.raises(ForbiddenCallError, match="LSTMCell .or a subclass of it"):
                make()
        for module in (built_before, plain_before):
            with pytest.raises(ForbiddenCallError, match="matrix products"):
                module(x)
        torch.nn.GRUCell(3, 4)(x)  # a class not named is untouched
    # Restored: the same objects work again, and nothing is left on the classes.
    assert built_before(x)[0].shape == (2, 4) and by_module_path(3, 4)(x)[0].shape == (2, 4)
    assert "forward" not in vars(_CellOfMine) and "__init__" not in vars(_CellOfMine)
    assert torch.nn.LSTMCell.forward.__qualname__ == "LSTMCell.forward"


def test_the_kit_may_build_a_forbidden_class_where_the_student_may_not():
    from shared.testing import run_beside  # kit code: what it calls is the kit's call
    from shared.testing.transformer import (
        ReferenceEncoderLayer,
    )  # a kit subclass of the forbidden layer

    x = torch.zeros(3, 1, 4)
    with forbid("torch.nn.TransformerEncoderLayer"):
        layer = ReferenceEncoderLayer(4, 2, 8)
        assert run_beside(layer, layer, x).shape == (3, 1, 4)
        with pytest.raises(ForbiddenCallError):  # called from here (not the kit): refused
            layer(x)
        with pytest.raises(ForbiddenCallError):
            torch.nn.modules.transformer.TransformerEncoderLayer(4, 2, 8)


def test_a_package_not_imported_is_forbidden_when_the_block_imports_it(tmp_path, monkeypatch):
    """Forbidding a function of a package nothing imported does not import it (scikit-learn
    would cost every grading process ~100 MB): code in the block that imports the module, at
    the top or inside a function, gets the forbidden stand-in; outside the block, the original."""
    import importlib
    import sys

    package = tmp_path / "forbid_demo_pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "metrics.py").write_text("def score(x):\n    return x + 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    for name in ("forbid_demo_pkg", "forbid_demo_pkg.metrics"):
        monkeypatch.delitem(sys.modules, name, raising=False)

    def student():
        from forbid_demo_pkg.metrics import score

        return score(1)

    with forbid("forbid_demo_pkg.metrics.score", reason="Write it yourself."):
        assert "forbid_demo_pkg" not in sys.modules
        with pytest.raises(ForbiddenCallError, match="forbid_demo_pkg.metrics.score. Write it"):
            student()
        metrics = importlib.import_module("forbid_demo_pkg.metrics")
        with pytest.raises(ForbiddenCallError):
            metrics.score(1)
    assert student() == 2 and metrics.score(1) == 2
    assert not any(type(f).__name__ == "_Watch" for f in sys.meta_path)
    with forbid("forbid_demo_pkg.metrics.score"):  # imported now: patched at the start
        with pytest.raises(ForbiddenCallError):
            metrics.score(1)
    assert metrics.score(1) == 2
