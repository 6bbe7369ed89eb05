"""shared.devices, shared.seeding and the package's import cost."""

import random
import subprocess
import sys

import numpy as np
import pytest
import torch

import shared
from shared import devices
from shared.seeding import deterministic, generator, seed_everything


def test_package_reexports():
    assert set(shared.__all__) == {"device", "seed_everything", "assert_close"}
    assert shared.device is devices.device


def test_import_does_not_load_matplotlib_or_sklearn():
    code = (
        "import sys, shared, shared.data, shared.checks, shared.forbid, "
        "shared.plotting; print(sorted(m for m in ('matplotlib', 'sklearn') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_default_is_cpu_without_accelerators(monkeypatch):
    monkeypatch.delenv("DL_DEVICE", raising=False)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(devices, "_mps_available", lambda: False)
    assert devices.device() == torch.device("cpu")


def test_default_prefers_cuda_then_mps(monkeypatch):
    monkeypatch.delenv("DL_DEVICE", raising=False)
    monkeypatch.setattr(devices, "_mps_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert devices.device() == torch.device("cuda")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert devices.device() == torch.device("mps")


def test_env_var_wins_over_default(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setenv("DL_DEVICE", "cpu")
    assert devices.device() == torch.device("cpu")


def test_prefer_wins_over_env_var(monkeypatch):
    monkeypatch.setenv("DL_DEVICE", "cuda")
    assert devices.device("cpu") == torch.device("cpu")


def test_unavailable_cuda_from_env_raises_with_fix(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setenv("DL_DEVICE", "cuda:1")
    with pytest.raises(RuntimeError, match=r"'cuda:1'.*not available.*unset DL_DEVICE"):
        devices.device()


def test_unavailable_mps_raises(monkeypatch):
    monkeypatch.setattr(devices, "_mps_available", lambda: False)
    with pytest.raises(RuntimeError, match="MPS.*not available"):
        devices.device("mps")


def test_cuda_index_out_of_range_raises(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    assert devices.device("cuda:0") == torch.device("cuda:0")
    with pytest.raises(RuntimeError, match="only 1 CUDA device"):
        devices.device("cuda:3")


@pytest.mark.parametrize("bad", ["gpu", "cuda:", "cuda:x", "tpu"])
def test_invalid_string_raises_value_error(monkeypatch, bad):
    monkeypatch.setenv("DL_DEVICE", bad)
    with pytest.raises(ValueError, match=repr(bad)):
        devices.device()


def test_seed_everything_repeats_all_generators():
    def draw():
        return random.random(), np.random.rand(), torch.rand(1).item()

    seed_everything(123)
    first = draw()
    seed_everything(123)
    assert draw() == first
    seed_everything(124)
    assert draw() != first


def test_generator_is_seeded_and_independent():
    a = torch.randn(3, generator=generator(7))
    torch.manual_seed(0)
    b = torch.randn(3, generator=generator(7))
    assert torch.equal(a, b)
    assert not torch.equal(a, torch.randn(3, generator=generator(8)))


def test_deterministic_sets_and_restores_flags():
    backends = torch.backends
    before = (
        backends.cuda.matmul.allow_tf32,
        backends.cudnn.allow_tf32,
        backends.cudnn.deterministic,
        backends.cudnn.benchmark,
    )
    backends.cuda.matmul.allow_tf32 = True
    backends.cudnn.benchmark = True
    try:
        with pytest.raises(KeyError), deterministic():
            assert backends.cuda.matmul.allow_tf32 is False
            assert backends.cudnn.allow_tf32 is False
            assert backends.cudnn.deterministic is True
            assert backends.cudnn.benchmark is False
            raise KeyError("body fails")
        assert backends.cuda.matmul.allow_tf32 is True
        assert backends.cudnn.benchmark is True
    finally:
        (
            backends.cuda.matmul.allow_tf32,
            backends.cudnn.allow_tf32,
            backends.cudnn.deterministic,
            backends.cudnn.benchmark,
        ) = before
