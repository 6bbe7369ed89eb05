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
