"""Run code with named library functions disabled, so "from scratch" means from scratch.

Example::

    with forbid("torch.nn.functional.softmax", "torch.softmax", "torch.Tensor.softmax",
                reason="Compute it with exp and sum."):
        out = student_softmax(x)

Two mechanisms work together. Attribute look-ups at call time are patched: ``F.softmax(x)`` and
``x.softmax(0)`` raise. And every forbidden *torch* function is refused at the call itself, by a
``torch.overrides.TorchFunctionMode`` active during the block, whatever reference the caller
holds: a name bound before the block (``_lib = torch.conv2d``, ``from torch.nn.functional import
softmax``) raises too. A *different* function object with the same job is not refused:
``torch.softmax``, ``torch.nn.functional.softmax`` and ``torch.Tensor.softmax`` are three
objects, so list each one you mean to forbid. (A NumPy function bound before the block, which
the mode cannot see, keeps working.) Attributes of the same owner that are the *very same*
object as a named one (e.g. ``numpy.concat`` is ``numpy.concatenate``) are patched too. Library
code that calls a forbidden function internally raises as well, which is usually what the
question wants.

A name in a package this process has not imported (``sklearn.metrics.roc_auc_score`` where no
code imported scikit-learn) is not imported for the block, which would cost its memory in every
process that checks the question: it is forbidden when code inside the block imports its module.
"""

from __future__ import annotations

import importlib
import os
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

_MISSING = object()

# The forbid blocks now open, innermost last, as (qualified names, reason): a call of a kernel
# object made inside a block (autograder.grading.remote) carries them to the kernel.
_ACTIVE: list[tuple[tuple[str, ...], str]] = []


def active() -> list[tuple[tuple[str, ...], str]]:
    """The ``(qualified_names, reason)`` of every forbid block now open, outermost first."""
    return list(_ACTIVE)


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


class _PatchingLoader:
    """A module's own loader, which patches the module once it has run (see :class:`_Watch`)."""

    def __init__(self, loader: Any, after: Callable[[Any], None]) -> None:
        self._loader, self._after = loader, after

    def create_module(self, spec: Any) -> Any:
        return self._loader.create_module(spec)

    def exec_module(self, module: Any) -> None:
        self._loader.exec_module(module)
        self._after(module)

    def __getattr__(self, name: str) -> Any:  # get_source, is_package, ...: the module's own
        return getattr(self._loader, name)


class _Watch:
    """An import hook for a block's names in modules not yet imported: when code in the block
    imports one of them, its functions are replaced as they would have been at the start."""

    def __init__(self, names: dict[str, list[str]], on_import: Callable[[Any, str], None]):
        self.names = names  # module -> the qualified names forbidden in it
        self.on_import = on_import
        self.lock = threading.Lock()

    def find_spec(self, fullname: str, path: Any, target: Any = None) -> Any:
        if fullname not in self.names:
            return None
        for finder in sys.meta_path:
            if finder is self or isinstance(finder, _Watch):
                continue
            find = getattr(finder, "find_spec", None)
            spec = find(fullname, path, target) if find is not None else None
            if spec is not None:
                break
        else:
            return None
        if spec.loader is not None and hasattr(spec.loader, "exec_module"):
            spec.loader = _PatchingLoader(spec.loader, self._patch)
        return spec

    def _patch(self, module: Any) -> None:
        with self.lock:
            for qualified in self.names.get(module.__name__, []):
                self.on_import(module, qualified)


def _deferred(qualified_name: str) -> bool:
    """Whether ``qualified_name`` lies in a top-level package not imported in this process."""
    return qualified_name.split(".", 1)[0] not in sys.modules


def _forbidden(called: str, reason: str, original: Any = None) -> Callable[..., Any]:
    message = f"This question asks you to implement this yourself: your code called {called}."
    if reason:
        message += " " + reason

    def forbidden(*args: Any, **kwargs: Any) -> Any:
        raise ForbiddenCallError(message)

    forbidden.__name__ = called.rsplit(".", 1)[-1]
    forbidden.__qualname__ = f"forbidden {called}"
    forbidden.__doc__ = message
    # What it stands in for: a block opened inside another (the grading referee's, on another
    # thread) refuses the library's function itself, not the outer block's stand-in.
    forbidden.__forbidden_original__ = original
    return forbidden


def _refusing_method(called: str, reason: str, original: Any) -> Callable[..., Any]:
    """A forbidden class's own ``__init__`` or ``forward``, refused unless the kit calls it."""
    refused = _forbidden(called, reason)

    def refusing(*args: Any, **kwargs: Any) -> Any:
        if _exempt():
            return original(*args, **kwargs)
        return refused()

    refusing.__name__ = getattr(original, "__name__", "method")
    refusing.__qualname__ = f"forbidden {called}"
    refusing.__forbidden_original__ = original
    return refusing


def _module_class(value: Any) -> bool:
    """Whether ``value`` is a torch ``nn.Module`` class (without importing torch)."""
    nn = sys.modules.get("torch.nn")
    return isinstance(value, type) and nn is not None and issubclass(value, nn.Module)


# What makes a forbidden layer class work, patched on the class itself: however the student's
# code reached the class (another import path such as torch.nn.modules.rnn.LSTMCell, a name bound
# before the block, a subclass defined in a cell), building one or running one is refused.
_CLASS_METHODS = ("__init__", "forward")


@contextmanager
def forbid(*qualified_names: str, reason: str = "") -> Iterator[None]:
    """Within the block, calling any of ``qualified_names`` raises :class:`ForbiddenCallError`.

    Each name is a dotted path to a module or class attribute, e.g.
    ``"torch.nn.functional.conv2d"``, ``"torch.Tensor.softmax"``, ``"numpy.linalg.inv"``. For a
    torch layer class (``"torch.nn.LSTMCell"``) the class's own ``__init__`` and ``forward`` are
    refused too, so that no other path to it and no subclass of it works either.
    ``reason`` is appended to the error message. Every patched attribute is restored on exit,
    also when the block raises. Usable as a decorator too.

    Raises:
        ValueError: a name does not resolve, or its owner cannot be patched (built-in types
            such as ``numpy.ndarray``).
    """
    saved: list[tuple[Any, str, Any]] = []  # (owner, attribute, original value or _MISSING)

    def patch(owner: Any, attr: str, called: str, value: Any, stand_in: Any = None) -> None:
        original = vars(owner).get(attr, _MISSING)  # _MISSING: inherited, so delete on exit
        try:
            setattr(owner, attr, stand_in or _forbidden(called, reason, value))
        except (TypeError, AttributeError) as err:
            raise ValueError(f"forbid: cannot replace {called} ({err}).") from None
        saved.append((owner, attr, original))

    refused: dict[int, tuple[Any, str]] = {}  # id(torch function) -> (function, its name)
    spec = (tuple(qualified_names), reason)
    mode = None
    watch = None

    def on_import(module: Any, qualified: str) -> None:
        value = getattr(module, qualified.rsplit(".", 1)[1], _MISSING)
        if value is not _MISSING and callable(value):
            value = getattr(value, "__forbidden_original__", None) or value
            patch(module, qualified.rsplit(".", 1)[1], qualified, value)

    try:
        later: dict[str, list[str]] = {}
        for qualified in qualified_names:
            if _deferred(qualified) and qualified.count(".") >= 1 and all(qualified.split(".")):
                later.setdefault(qualified.rsplit(".", 1)[0], []).append(qualified)
                continue
            owner, attr, value = _resolve(qualified)
            value = getattr(value, "__forbidden_original__", None) or value
            patch(owner, attr, qualified, value)
            if qualified.startswith("torch.") and callable(value) and not isinstance(value, type):
                refused.setdefault(id(value), (value, qualified))
            if _module_class(value):
                for method in _CLASS_METHODS:
                    own = getattr(value, method)
                    own = getattr(own, "__forbidden_original__", None) or own
                    called = f"{qualified} (or a subclass of it, by any name)"
                    patch(value, method, called, own, _refusing_method(called, reason, own))
            # Same object under another name of the same owner: patch it too.
            prefix = qualified.rsplit(".", 1)[0]
            for alias, other in list(vars(owner).items()):
                if other is value and alias != attr:
                    patch(owner, alias, f"{prefix}.{alias} (an alias of {qualified})", value)
        if refused:
            mode = _refusing_mode(refused, reason)
            mode.__enter__()
        if later:
            watch = _Watch(later, on_import)
            sys.meta_path.insert(0, watch)
        _ACTIVE.append(spec)
        yield
    finally:
        if watch is not None and watch in sys.meta_path:
            sys.meta_path.remove(watch)
        for i in range(len(_ACTIVE) - 1, -1, -1):
            if _ACTIVE[i] is spec:
                del _ACTIVE[i]
                break
        if mode is not None:
            mode.__exit__(None, None, None)
        for owner, attr, original in reversed(saved):
            if original is _MISSING:
                delattr(owner, attr)
            else:
                setattr(owner, attr, original)


# The kit's own test code (oracles, and the referees that stand in for a student's earlier
# answers while a later answer runs) may call what a question forbids the student: in a
# notebook and in the grading referee, where every frame from these folders is the kit's. Not in
# a graded kernel: there a frame's file name is whatever the notebook compiled its code under,
# so the grading agent turns the exemption off (:func:`distrust_kit_frames`), and the kit's
# stand-ins run in the referee instead (``shared.testing.stand_in``).
KIT_PACKAGES = ("grader_only", "grader_support")
_DISTRUSTED = {"process": False}
_distrusted_here = threading.local()


def distrust_kit_frames(*, thread_only: bool = False) -> None:
    """From now on (in this process, or on this thread only) no caller is exempt: code under
    the kit's folders is refused like any other."""
    if thread_only:
        _distrusted_here.on = True
    else:
        _DISTRUSTED["process"] = True


def _kit_frames_trusted() -> bool:
    return not _DISTRUSTED["process"] and not getattr(_distrusted_here, "on", False)


def _kit_folders() -> tuple[str, ...]:
    folders = [os.path.join(os.path.dirname(os.path.abspath(__file__)), "testing")]
    for name in KIT_PACKAGES:
        module = sys.modules.get(name)
        folders += [os.path.abspath(p) for p in getattr(module, "__path__", [])]
    return tuple(folder + os.sep for folder in folders)


def _called_by_the_kit() -> bool:
    """Whether the code that made this torch call (the first frame outside torch and this
    module) is the kit's test code rather than the student's."""
    import torch

    skipped = (os.path.dirname(os.path.abspath(torch.__file__)) + os.sep, os.path.abspath(__file__))
    frame = sys._getframe(2)
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(skipped):
        frame = frame.f_back
    if frame is None:
        return False
    return os.path.abspath(frame.f_code.co_filename).startswith(_kit_folders())


def _exempt() -> bool:
    return _kit_frames_trusted() and _called_by_the_kit()


def _refusing_mode(refused: dict[int, tuple[Any, str]], reason: str) -> Any:
    """A TorchFunctionMode that raises :class:`ForbiddenCallError` when the student's code calls
    a function of ``refused``, however it reached it, and runs every other call as is."""
    from torch.overrides import TorchFunctionMode

    class Refuse(TorchFunctionMode):
        def __torch_function__(self, func, types, args=(), kwargs=None):  # noqa: ANN001
            entry = refused.get(id(func))
            if entry is not None and entry[0] is func and not _exempt():
                _forbidden(entry[1], reason)()
            return func(*args, **(kwargs or {}))

    return Refuse()
