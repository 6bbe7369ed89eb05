"""Choosing the torch device, so no notebook or test ever hard-codes ``"cuda"``."""

from __future__ import annotations

import os
import re

import torch

ENV_VAR = "DL_DEVICE"
_VALID = re.compile(r"^(cpu|mps|cuda(:\d+)?)$")


def _mps_available() -> bool:
    mps = getattr(torch.backends, "mps", None)
    return bool(mps is not None and mps.is_available())


def device(prefer: str | None = None) -> torch.device:
    """Return the torch device to compute on.

    Precedence: the ``prefer`` argument, else the environment variable ``DL_DEVICE``
    (``"cpu"``, ``"cuda"``, ``"cuda:1"``, ``"mps"``), else CUDA if available, else MPS if
    available, else CPU. An empty ``DL_DEVICE`` counts as unset.

    Raises:
        ValueError: the requested string is not one of the forms above.
        RuntimeError: CUDA or MPS was requested but is not available on this machine.
    """
    source = "device(prefer=...)"
    requested = prefer
    if requested is None:
        env = os.environ.get(ENV_VAR, "").strip()
        if env:
            requested, source = env, f"the environment variable {ENV_VAR}"
    if requested is None:
        if torch.cuda.is_available():
            return torch.device("cuda")
        if _mps_available():
            return torch.device("mps")
        return torch.device("cpu")

    text = str(requested).strip().lower()
    if not _VALID.match(text):
        raise ValueError(
            f"Unknown device {requested!r} (from {source}): use 'cpu', 'cuda', 'cuda:N' or 'mps'."
        )
    fix = (
        f"unset {ENV_VAR} or set it to 'cpu'"
        if source.startswith("the environment")
        else "call device() without an argument, or ask for 'cpu'"
    )
    if text.startswith("cuda"):
        if not torch.cuda.is_available():
            raise RuntimeError(
                f"{source} asks for {requested!r}, but CUDA is not available on this machine "
                f"(torch {torch.__version__}). To fix it, {fix}."
            )
        index = int(text.split(":")[1]) if ":" in text else None
        count = torch.cuda.device_count()
        if index is not None and index >= count:
            raise RuntimeError(
                f"{source} asks for {requested!r}, but only {count} CUDA device(s) are "
                f"available (cuda:0 to cuda:{count - 1}). To fix it, {fix}."
            )
    elif text == "mps" and not _mps_available():
        raise RuntimeError(
            f"{source} asks for 'mps', but MPS (Apple GPU) is not available on this machine. "
            f"To fix it, {fix}."
        )
    return torch.device(text)
