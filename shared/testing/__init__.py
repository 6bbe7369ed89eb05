"""Test logic of the assignments, one module per topic (``shared.testing.<topic>``).

Case generators, comparison helpers and diagnosers (which hint a failure deserves) that the
public and hidden tests of a master call with different inputs, so the two cannot drift. These
modules ship in the student zip: they hold no answer to a graded question and no hidden input
(those live in each assignment's ``grader_only/`` folder, shipped in the autograder zip alone).

A hint that names a likely mistake carries a stable identifier, written by :func:`tagged` as
``[hint: topic.name]`` right after the hint's text. The catalogue of known mistakes beside each
master names it (``hint_id``): ``verify`` checks that a mutant's failing question shows it, and
the class report counts the submissions whose failures show it, however the wording changes.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any

# topic.name: lower case, digits and underscores, one dot (the topic: xor, bp, conv, cnn, ...).
HINT_ID = re.compile(r"[a-z][a-z0-9]*\.[a-z][a-z0-9_]*")


def tagged(hint_id: str, text: str) -> str:
    """``text`` (a hint) followed by its stable identifier: ``"... [hint: conv.size_ceil]"``.

    The one place where the tag is written, so its form never drifts; the autograder reads it
    back with ``autograder.mutants.hint_ids``. Identifiers are ``topic.name`` (``HINT_ID``).
    """
    if not HINT_ID.fullmatch(hint_id):
        raise ValueError(f"a hint identifier is topic.name in lower case, got {hint_id!r}")
    return f"{text.rstrip()} [hint: {hint_id}]"


HINT_TAG = re.compile(r"\s*\[hint: [a-z][a-z0-9]*\.[a-z][a-z0-9_]*\]")


def without_tags(text: str) -> str:
    """``text`` with every ``[hint: topic.name]`` tag taken out: what a student reads.

    The tags are for the class report and ``verify``; students see the hint's words alone
    (``grader.check``, Gradescope and feedback files all show messages through this).
    """
    return HINT_TAG.sub("", text)


class NotJudged(str):
    """What a gated test *returns* (never raises) when it did not judge its claim.

    A claim about trained models is judged only when the functions it was trained with pass
    their own questions; otherwise that question has lost its points already (one mistake, one
    question), so the claim keeps its points but says plainly that it was not checked. Only a
    test's own ``return`` produces one: nothing a student's function raises can.
    """


def not_judged(failing: str) -> NotJudged:
    """The outcome of a claim not judged because question ``failing`` fails first."""
    return NotJudged(f"not judged: {failing} fails first; fix it and this claim is checked")


def on_referee(obj: Any) -> bool:
    """Whether ``obj`` is the grading referee's proxy of an object in the student's kernel.

    When Gradescope grades, tests run in a process of their own and reach the notebook's
    functions and models through proxies (``autograder/grading``); in a notebook, ``grader.check``
    runs them beside the student's code and nothing here changes anything.
    """
    kind = type(obj)
    return kind.__name__ == "Remote" and kind.__module__ == "autograder.grading.remote"


def beside(fn: Any, value: Any) -> Any:
    """``value`` where ``fn`` runs: for a proxy, a proxy of a copy kept in the student's kernel
    (so that ``fn`` can change it in place and the test sees the change), else ``value``."""
    if on_referee(fn):
        from autograder.grading.remote import keep_beside

        return keep_beside(fn, value)
    return value


def run_beside(anchor: Any, fn: Callable, *args: Any, **kwargs: Any) -> Any:
    """``fn(*args, **kwargs)`` where ``anchor`` lives: in the student's kernel for a proxy (for
    what needs code next to the student's objects: a backward pass, a seed, a mode), else here.
    Keep ``fn`` small and its result raw (outputs, gradients): the test judges that result."""
    if on_referee(anchor):
        from autograder.grading.remote import run_beside as remote_run

        return remote_run(anchor, fn, args, kwargs)
    return fn(*args, **kwargs)


def stand_in(
    anchor: Any, fn: Callable, name: str | None = None, *, differentiable: bool = False
) -> Any:
    """``fn`` as the student's code beside ``anchor`` should call it (an oracle standing in for
    an earlier answer): for a proxy, a stub that asks the grading referee, which runs ``fn`` in
    its own process, so the oracle's code never reaches the student's kernel and the stub
    answers only while the test case runs; else ``fn`` itself. ``differentiable``: gradients
    flow through the stub to its positional tensor arguments (the referee differentiates
    ``fn``)."""
    if on_referee(anchor):
        from autograder.grading.remote import StandIn

        return StandIn(fn, name, differentiable=differentiable)
    return fn


def type_name(obj: Any) -> str:
    """``type(obj).__name__``, also for a proxy of a kernel object (its type's name there), so
    that a message names what the student's code returned, never the proxy."""
    if on_referee(obj):
        from autograder.grading.remote import remote_type

        return remote_type(obj).rsplit(".", 1)[-1]
    return type(obj).__name__


def is_instance(obj: Any, cls: type) -> bool:
    """``isinstance(obj, cls)``, also for a proxy of a kernel object (asked in the kernel)."""
    if on_referee(obj):
        from autograder.grading.remote import remote_isinstance

        return remote_isinstance(obj, f"{cls.__module__}.{cls.__qualname__}")
    return isinstance(obj, cls)


def not_defined_message(label: str) -> str:
    """What a test says when the function it calls is None: on a student's machine Otter passes
    None for a name the notebook has not defined yet (``grader.check`` run before the cell)."""
    name = label.split("(")[0].strip() or "the function"
    return tagged(
        "kit.not_defined",
        f"`{name}` is not defined yet, so {label} cannot run. Hint: run the cell that defines "
        f"`{name}` (and every cell above it), then run grader.check again.",
    )


def check_defined(fn: Any, label: str) -> None:
    """Fail with :func:`not_defined_message` when ``fn`` is None instead of a function."""
    if fn is None:
        raise AssertionError(not_defined_message(label))


def called_none(error: BaseException, *, wrapper_frames: int = 0) -> bool:
    """Whether ``error`` is calling None right where the test called the student's function
    (not somewhere inside the student's code): a TypeError whose traceback ends in the calling
    frame. ``wrapper_frames``: frames of the catching code at the traceback's head (1 for a
    generator context manager, whose own frame comes first)."""
    if not isinstance(error, TypeError) or "'NoneType' object is not callable" not in str(error):
        return False
    depth, tb = 0, error.__traceback__
    while tb is not None:
        depth, tb = depth + 1, tb.tb_next
    return depth == wrapper_frames + 1


@contextlib.contextmanager
def substitute(namespace: dict, **objects: Any) -> Iterator[None]:
    """Bind ``objects`` in ``namespace`` (a notebook's globals) for the duration of the block.

    Tests of a later question run with the earlier questions' functions replaced by referees,
    so that a mistake in an earlier question does not cost the later one as well. Names that
    were missing are removed again on exit, the others restored, also when the block raises.
    """
    missing = object()
    saved = {name: namespace.get(name, missing) for name in objects}
    namespace.update(objects)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is missing:
                namespace.pop(name, None)
            else:
                namespace[name] = value


def call(fn: Callable, *args: Any, desc: str, hint: str = "", **kwargs: Any) -> Any:
    """``fn(*args, **kwargs)``; any exception becomes an AssertionError naming ``desc``.

    A name the notebook has not defined yet is reported by :func:`check_defined`, the stub's
    ``None`` / ``...`` result by ``shared.checks.check_implemented``.
    """
    from shared.checks import check_implemented

    check_defined(fn, desc)
    try:
        result = fn(*args, **kwargs)
    except AssertionError:
        raise
    except Exception as err:  # the student's crash, shown with the call that caused it
        first = (str(err).strip().splitlines() or [""])[0].rstrip(".")
        message = f"{desc} raised {type(err).__name__}: {first}"
        raise AssertionError(f"{message}. {hint}".rstrip()) from None
    check_implemented(result, desc)
    return result


def first_failure(checks: Mapping[str, Callable[[], None]]) -> str | None:
    """The name of the first check that fails (AssertionError), or None when all pass.

    What a claim about trained models runs first: when a function it was trained with fails its
    own question's checks, that question has lost its points already (one mistake, one question).
    """
    for name, check in checks.items():
        try:
            check()
        except AssertionError:
            return name
    return None


def gate(checks: Mapping[str, Callable[[], None]]) -> NotJudged | None:
    """:func:`not_judged` for the first of ``checks`` (named by question) that fails, or None.

    A gated test starts ``if (skipped := gate(checks)) is not None: return skipped``.
    """
    failing = first_failure(checks)
    return None if failing is None else not_judged(failing)


def left_as_stub(env: Mapping[str, Any], *names: str) -> None:
    """Fail with "not answered yet" for any of ``names`` still the stub's ``...``. A name that is
    missing altogether is not judged here: its cell may have stopped on an earlier mistake."""
    from shared.checks import check_implemented

    for name in names:
        if env.get(name) is Ellipsis:
            check_implemented(env[name], name)


def trained(
    env: Mapping[str, Any], *names: str, what: str = "the trained models", cell: str = ""
) -> tuple:
    """What a given training cell defines, from the notebook's globals ``env``.

    Asked for only once the questions the training uses pass (a gated test), so a missing name
    means that cell did not run; ``what`` names what cannot be judged, ``cell`` where it is made.
    """
    missing = [name for name in names if env.get(name) is None]
    where = f"the given training cell{cell}"
    assert not missing, (
        f"{', '.join(f'`{name}`' for name in missing)} is not defined: {where} did not run, so "
        f"{what} cannot be judged. Hint: run the notebook from the top (Kernel -> Restart & Run "
        "All) and fix the first cell that stops with an error."
    )
    return tuple(env[name] for name in names)


def check_device_free(
    make: Callable[[], Any], desc: str, x_shape: tuple, out_shape: tuple, *, topic: str
) -> None:
    """Built under ``torch.device('meta')``, the model's parameters and output stay on meta.

    ``topic`` prefixes the hint tags (``TOPIC.device_free``, ``TOPIC.no_device_calls``).
    """
    import torch

    hint = tagged(
        f"{topic}.device_free",
        "Hint: do not choose a device when you build a model (no .cpu(), .cuda() or device=...); "
        "move it later with model.to(device).",
    )
    with torch.device("meta"):
        model = call(make, desc=f"{desc} under `with torch.device('meta')`", hint=hint)
    devices = sorted({str(p.device) for p in model.parameters()})
    assert devices == ["meta"], (
        f"Built under `with torch.device('meta')`, {desc} put parameters on {devices}. {hint}"
    )
    in_forward = tagged(f"{topic}.no_device_calls", "Hint: no .cpu() or .cuda() inside the model.")
    out = call(
        model,
        torch.zeros(*x_shape, device="meta"),
        desc=f"{desc} on the meta device",
        hint=in_forward,
    )
    assert tuple(out.shape) == tuple(out_shape) and out.device.type == "meta", (
        f"{desc} on the meta device returned shape {tuple(out.shape)} on {out.device}, expected "
        f"{out_shape} on meta. {in_forward}"
    )
