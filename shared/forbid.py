"""Run code with named library functions disabled, so "from scratch" means from scratch.

Example::

    with forbid("torch.nn.functional.softmax", "torch.softmax", "torch.Tensor.softmax",
                reason="Compute it with exp and sum."):
        out = student_softmax(x)

Only attribute look-ups at call time are affected: ``F.softmax(x)`` and ``x.softmax(0)`` raise,
but a name bound earlier with ``from torch.nn.functional import softmax`` keeps working, and so
does a *different* function object with the same job: ``torch.softmax``,
``torch.nn.functional.softmax`` and ``torch.Tensor.softmax`` are three objects, so list each one
you mean to forbid. Attributes of the same owner that are the *very same* object as a named one
(e.g. ``numpy.concat`` is ``numpy.concatenate``) are patched too. Library code that calls a
forbidden function internally raises as well, which is usually what the question wants.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

_MISSING = object()


class ForbiddenCallError(RuntimeError):
    """Raised when code calls a function that a question forbids."""


def _resolve(qualified_name: str) -> tuple[Any, str, Any]:
    """Return ``(owner, attribute, value)`` for a dotted name such as ``torch.Tensor.softmax``."""
    parts = qualified_name.split(".")
    if len(parts) < 2 or not all(parts):
        raise ValueError(
            f"forbid: {qualified_name!r} is not a dotted name like 'numpy.linalg.inv'."
        )
    # Import the longest importable module prefix, then walk attributes from there.
    for split in range(len(parts) - 1, 0, -1):
        try:
            obj: Any = importlib.import_module(".".join(parts[:split]))
        except ImportError:
            continue
        try:
            for attr in parts[split:-1]:
                obj = getattr(obj, attr)
            return obj, parts[-1], getattr(obj, parts[-1])
        except AttributeError:
            break
    raise ValueError(f"forbid: cannot resolve {qualified_name!r}; check the spelling.")


def _forbidden(called: str, reason: str) -> Callable[..., Any]:
    message = f"This question asks you to implement this yourself: your code called {called}."
    if reason:
        message += " " + reason

    def forbidden(*args: Any, **kwargs: Any) -> Any:
        raise ForbiddenCallError(message)

    forbidden.__name__ = called.rsplit(".", 1)[-1]
    forbidden.__qualname__ = f"forbidden {called}"
    forbidden.__doc__ = message
    return forbidden


@contextmanager
def forbid(*qualified_names: str, reason: str = "") -> Iterator[None]:
    """Within the block, calling any of ``qualified_names`` raises :class:`ForbiddenCallError`.

    Each name is a dotted path to a module or class attribute, e.g.
    ``"torch.nn.functional.conv2d"``, ``"torch.Tensor.softmax"``, ``"numpy.linalg.inv"``.
    ``reason`` is appended to the error message. Every patched attribute is restored on exit,
    also when the block raises. Usable as a decorator too.

    Raises:
        ValueError: a name does not resolve, or its owner cannot be patched (built-in types
            such as ``numpy.ndarray``).
    """
    saved: list[tuple[Any, str, Any]] = []  # (owner, attribute, original value or _MISSING)

    def patch(owner: Any, attr: str, called: str) -> None:
        original = vars(owner).get(attr, _MISSING)  # _MISSING: inherited, so delete on exit
        try:
            setattr(owner, attr, _forbidden(called, reason))
        except (TypeError, AttributeError) as err:
            raise ValueError(f"forbid: cannot replace {called} ({err}).") from None
        saved.append((owner, attr, original))

    try:
        for qualified in qualified_names:
            owner, attr, value = _resolve(qualified)
            patch(owner, attr, qualified)
            # Same object under another name of the same owner: patch it too.
            prefix = qualified.rsplit(".", 1)[0]
            for alias, other in list(vars(owner).items()):
                if other is value and alias != attr:
                    patch(owner, alias, f"{prefix}.{alias} (an alias of {qualified})")
        yield
    finally:
        for owner, attr, original in reversed(saved):
            if original is _MISSING:
                delattr(owner, attr)
            else:
                setattr(owner, attr, original)
