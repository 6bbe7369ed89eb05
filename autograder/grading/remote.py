"""Referee side of the kernel connection: a session, proxies of kernel objects, remote errors.

A :class:`Session` sends requests to the agent in the student's kernel (pickled: that direction
is trusted) and decodes the replies with :func:`autograder.grading.wire.decode` (no code runs).
Objects that stay in the kernel come back as :class:`Remote` proxies: attribute access, calls,
indexing and iteration go over the wire. What the kernel says is the student's word: a
remote type name, ``isinstance`` answer or ``str`` can be forged by the notebook.
"""

from __future__ import annotations

import builtins
import collections
import io
import re
import socket
import sys
import threading
import time
import types
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import cloudpickle

from autograder.grading.wire import WireError, decode, is_trusted_name, read_frame, write_frame

__all__ = [
    "CallTimeout",
    "Remote",
    "RemoteError",
    "RemoteNamespace",
    "Session",
    "SessionBroken",
    "StandIn",
    "is_remote",
    "keep_beside",
    "run_beside",
    "remote_exception",
    "remote_isinstance",
    "remote_type",
]

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_DOTTED = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*\Z")


# ---------------------------------------------------------------------------------- errors


class RemoteError(Exception):
    """An exception raised in the kernel. ``str()`` is its message."""

    type_name = "RemoteError"
    module = ""
    remote_traceback = ""

    def __init__(self, message: str = "") -> None:
        BaseException.__init__(self, message)  # not super(): some builtin bases want more args

    def __str__(self) -> str:
        return self.args[0] if self.args else ""


class CallTimeout(RemoteError, AssertionError):
    """The referee stopped a kernel request that ran too long."""


class SessionBroken(BaseException):
    """The kernel is lost: it stopped answering, hung up, or sent something unreadable.

    A ``BaseException``: a test's ``except Exception`` (which describes a student's crash) must
    not take a lost kernel for the student's error and go on asking it."""


_ERROR_CLASSES: dict[tuple[str, str], type[RemoteError]] = {}


def _exception_base(module: str, name: str) -> type[BaseException] | None:
    """The referee's own exception class for a remote one, where both sides share it: builtins,
    trusted libraries and the kit's ``shared`` package (already imported here)."""
    if module == "builtins":
        base = getattr(builtins, name, None)
    elif is_trusted_name(module) or module == "shared" or module.startswith("shared."):
        base = getattr(sys.modules.get(module), name, None)
    else:
        return None
    if isinstance(base, type) and issubclass(base, Exception):
        return base
    return None


def _error_class(module: str, name: str) -> type[RemoteError]:
    key = (module, name)
    cls = _ERROR_CLASSES.get(key)
    if cls is not None:
        return cls
    base = _exception_base(module, name)
    cls = None
    if base is not None:
        try:
            cls = type(name, (RemoteError, base), {"__module__": module, "__qualname__": name})
            str(cls("probe"))  # some bases cannot take a single message
        except Exception:
            cls = None
    if cls is None:
        safe = name if _IDENTIFIER.match(name) else "RemoteError"
        where = module if _DOTTED.match(module) else "remote"
        cls = type(safe, (RemoteError,), {"__module__": where, "__qualname__": safe})
    _ERROR_CLASSES[key] = cls
    return cls


def remote_exception(info: dict) -> RemoteError:
    """The referee-side exception for an error reply's ``info``: for a builtin (and a shared,
    trusted-library) exception type a class deriving from both :class:`RemoteError` and that
    type, with its name, so ``except ValueError`` catches it; KeyboardInterrupt (the referee's
    interrupt) becomes :class:`CallTimeout`."""
    name, module = str(info.get("type", "")), str(info.get("module", ""))
    message = str(info.get("message", ""))
    cls = CallTimeout if name == "KeyboardInterrupt" else _error_class(module, name)
    err = cls(message)
    err.type_name, err.module = name, module
    err.remote_traceback = str(info.get("traceback", ""))
    return err


# --------------------------------------------------------------------------------- session


GRADER_SIDE = ("grader_only", "grader_support")  # never sent to the kernel, not even by name


class _Pickler(cloudpickle.Pickler):
    """What the referee sends: its objects by pickle (that direction is trusted), functions of
    importable modules by name, the small functions a test defines (a lambda passed as an
    argument) by value, handles as their ids. Grader-only code is refused: it must not reach
    the kernel."""

    def __init__(self, file: io.BytesIO, session: Session) -> None:
        super().__init__(file, protocol=5)
        self.session = session

    def reducer_override(self, obj: Any) -> Any:
        if isinstance(obj, (types.FunctionType, type)):
            module = getattr(obj, "__module__", "") or ""
            if module.split(".")[0] in GRADER_SIDE:
                raise WireError(
                    f"{module}.{getattr(obj, '__qualname__', '?')} is grader-only code: it runs "
                    "in the referee and cannot be sent to the student's kernel"
                )
        return super().reducer_override(obj)

    def persistent_id(self, obj: Any) -> Any:
        if type(obj) is Remote:
            if object.__getattribute__(obj, "_remote_session") is not self.session:
                raise WireError("a Remote of another session cannot be sent to this kernel")
            return ("handle", object.__getattribute__(obj, "_remote_id"))
        if type(obj) is StandIn:
            token = self.session._register_stand_in(obj)
            return ("stand_in", token, obj.name, obj.differentiable)
        if isinstance(obj, types.ModuleType):
            return ("module", obj.__name__)
        return None


class StandIn:
    """A function of the referee's that the student's code may call while a test case runs:
    sent to the kernel as a stub that asks the referee, which runs ``fn`` here and sends the
    result back (pickled: that direction is trusted). The code never leaves the referee, and
    the stub answers only until the test case ends (:meth:`Session.end_case`): a stub a
    notebook keeps for later is dead. A ``differentiable`` stand-in called on tensors that
    require grad joins the kernel's autograd graph; its backward pass asks the referee, which
    differentiates ``fn`` with ``torch.autograd`` here (positional tensor arguments only)."""

    __slots__ = ("fn", "name", "differentiable")

    def __init__(
        self, fn: Callable[..., Any], name: str | None = None, *, differentiable: bool = False
    ) -> None:
        self.fn = fn
        self.name = name or getattr(fn, "__name__", "stand_in")
        self.differentiable = differentiable

    def __repr__(self) -> str:
        return f"<stand-in {self.name}>"


class Session:
    """The referee's connection to one kernel's agent. One request at a time.

    ``call_timeout`` (seconds, adjustable) bounds every request; when it runs out the session
    calls ``interrupt()`` (e.g. SIGINT to the kernel) and waits ``grace`` more seconds for the
    agent's error reply, which becomes :class:`CallTimeout`. If none comes, the kernel is lost:
    :class:`SessionBroken`, now and for every later request.
    """

    def __init__(
        self,
        sock: socket.socket,
        *,
        call_timeout: float = 60.0,
        interrupt: Callable[[], None] | None = None,
        grace: float = 5.0,
    ) -> None:
        self.sock = sock
        self.call_timeout = call_timeout
        self.interrupt = interrupt
        self.grace = grace
        self.broken: str | None = None
        self._lock = threading.RLock()  # re-entered by a stand-in that asks the kernel
        self._released: collections.deque[int] = collections.deque()
        self._stand_ins: dict[int, StandIn] = {}
        self._next_token = 1

    def _register_stand_in(self, stand_in: StandIn) -> int:
        for token, known in self._stand_ins.items():
            if known is stand_in:
                return token
        token = self._next_token
        self._next_token += 1
        self._stand_ins[token] = stand_in
        return token

    def end_case(self) -> None:
        """Forget every stand-in sent so far: their stubs in the kernel answer no more."""
        self._stand_ins.clear()

    def _answer_stand_in(
        self, token: Any, args: Any, kwargs: Any, positions: Any = None, grads: Any = None
    ) -> None:
        """Run the stand-in the kernel asked for, here, and send back its result or error (or,
        with ``positions``, the gradients of those arguments given the outputs' ``grads``)."""
        stand_in = self._stand_ins.get(token) if type(token) is int else None
        if stand_in is None:
            ended = RuntimeError("a grading stand-in called after its test ended")
            answer: tuple = ("raise", ended)
        elif type(args) is not tuple or type(kwargs) is not dict:
            answer = ("raise", RuntimeError("a malformed call of a grading stand-in"))
        else:
            try:
                if positions is None:
                    answer = ("ok", _detached(_without_grad(stand_in.fn, args, kwargs)))
                else:
                    answer = ("ok", _vjp(stand_in.fn, args, kwargs, positions, grads))
            except SessionBroken:
                raise
            except Exception as error:  # noqa: BLE001 -- the student's code sees the error
                answer = ("raise", error)
        try:
            payload = self._payload("answer", answer)
        except Exception:  # an unpicklable result or error: say what it was
            error = answer[1] if answer[0] == "raise" else None
            base = type(error) if type(error) in vars(builtins).values() else RuntimeError
            message = str(error) if error is not None else "a result the kernel cannot take"
            payload = self._payload("answer", ("raise", base(f"{stand_in!r}: {message}")))
        write_frame(self.sock, payload)

    def _release(self, handle_id: int) -> None:
        self._released.append(handle_id)  # sent with the next request; safe from __del__

    def _payload(self, op: str, args: tuple) -> bytes:
        release = []
        while self._released:
            release.append(self._released.popleft())
        out = io.BytesIO()
        _Pickler(out, self).dump((op, args, release))
        return out.getvalue()

    def request(self, op: str, *args: Any) -> Any:
        """Run ``op`` in the kernel and return its decoded result, or raise the remote error."""
        with self._lock:
            if self.broken is not None:
                raise SessionBroken(self.broken)
            payload = self._payload(op, args)
            started = time.monotonic()
            interrupted = False

            def next_timeout(expired: bool) -> float:
                nonlocal interrupted
                if expired and not interrupted:
                    interrupted = True
                    if self.interrupt is not None:
                        self.interrupt()
                    return self.grace
                if expired:
                    self._break(f"the kernel did not answer {_describe(op, args)} in time")
                return max(0.0, self.call_timeout - (time.monotonic() - started))

            sent = False
            while True:
                try:
                    if not sent:
                        write_frame(self.sock, payload)
                        sent = True
                    frame = read_frame(self.sock, next_timeout=next_timeout)
                except SessionBroken:
                    raise
                except WireError as err:
                    self._break(str(err))
                except (OSError, EOFError) as err:
                    self._break(f"the kernel connection failed ({err})")
                reply = decode(frame, make_handle=self._make_remote)
                if type(reply) is not tuple or len(reply) not in (4, 6) or reply[0] != "stand_in":
                    break
                try:  # the student's code called a stand-in: run it here, answer, read on
                    self._answer_stand_in(*reply[1:])
                except OSError as err:
                    self._break(f"the kernel connection failed ({err})")
        if type(reply) is not tuple or len(reply) != 2 or reply[0] not in ("ok", "error"):
            raise WireError("the kernel's reply is not ('ok', value) or ('error', info)")
        status, value = reply
        if status == "ok":
            return value
        if type(value) is not dict or not all(type(v) is str for v in value.values()):
            raise WireError("the kernel's error reply is malformed")
        err = remote_exception(value)
        if isinstance(err, CallTimeout) and interrupted:
            elapsed = time.monotonic() - started
            err.args = (
                f"{_describe(op, args)} ran past the {self.call_timeout:g} s limit for one test "
                f"and was stopped (after {elapsed:.1f} s).",
            )
        raise err

    def _break(self, why: str) -> None:
        self.broken = why
        try:
            self.sock.close()
        finally:
            raise SessionBroken(why)

    def _make_remote(self, info: dict) -> Remote:
        return Remote(self, info)

    def close(self) -> None:
        """Ask the agent to stop, then close the socket. Never raises."""
        try:
            if self.broken is None:
                self.call_timeout, self.interrupt, self.grace = min(self.call_timeout, 5.0), None, 0
                self.request("close")
        except Exception:
            pass
        finally:
            self.broken = self.broken or "the session is closed"
            try:
                self.sock.close()
            except Exception:
                pass


def _without_grad(fn: Callable[..., Any], args: tuple, kwargs: dict) -> Any:
    torch = sys.modules.get("torch")
    if torch is None:
        return fn(*args, **kwargs)
    with torch.no_grad():
        return fn(*args, **kwargs)


def _detached(value: Any) -> Any:
    """``value`` with its tensors detached (a tensor in a graph cannot be pickled)."""
    torch = sys.modules.get("torch")
    if torch is None:
        return value
    if isinstance(value, torch.Tensor):
        return value.detach()
    if type(value) in (tuple, list):
        return type(value)(_detached(v) for v in value)
    return value


def _vjp(fn: Callable[..., Any], args: tuple, kwargs: dict, positions: Any, grads: Any) -> tuple:
    """The gradients of ``fn``'s outputs, weighted by ``grads``, with respect to the tensor
    arguments at ``positions`` (None where an argument does not reach the outputs)."""
    import torch

    if type(positions) is not list or type(grads) is not tuple:
        raise ValueError("a malformed backward request")
    inputs = list(args)
    leaves = []
    for i in positions:
        leaf = torch.as_tensor(inputs[i]).detach().clone().requires_grad_(True)
        inputs[i] = leaf
        leaves.append(leaf)
    with torch.enable_grad():
        out = fn(*inputs, **kwargs)
    outs = out if isinstance(out, (tuple, list)) else (out,)
    pairs = [
        (o, g)
        for o, g in zip(outs, grads, strict=False)
        if isinstance(g, torch.Tensor) and isinstance(o, torch.Tensor) and o.requires_grad
    ]
    if not pairs:
        return tuple(None for _ in leaves)
    got = torch.autograd.grad(
        [o for o, _ in pairs], leaves, [g for _, g in pairs], allow_unused=True
    )
    return tuple(None if g is None else g.detach() for g in got)


def _describe(op: str, args: tuple) -> str:
    target = args[0] if args and type(args[0]) is Remote else None
    what = remote_type(target) if target is not None else ""
    if op == "call":
        name = object.__getattribute__(target, "_remote_info").get("name") if target else None
        return f"`{name}`" if name else f"the call of {what}"
    if op in ("get", "set", "pop", "has"):
        return f"{op} {args[0]!r}"
    return f"{op} on {what}" if what else op


# ---------------------------------------------------------------------------------- remote

_FORWARDED_DUNDERS = frozenset({"__name__", "__qualname__", "__wrapped__"})
# What Python would find on the proxy itself rather than on the kernel's object: refused, so
# that ``fn.__globals__`` or ``cls.__init__`` fails loudly instead of giving the proxy's own.
_NOT_GIVEN = frozenset(
    {
        "__init__",
        "__dict__",
        "__globals__",
        "__code__",
        "__closure__",
        "__defaults__",
        "__kwdefaults__",
        "__func__",
        "__self__",
        "__module__",
        "__annotations__",
        "__signature__",
    }
)


def _active_forbids() -> list[tuple[tuple[str, ...], str]]:
    forbid = sys.modules.get("shared.forbid")
    active = getattr(forbid, "active", None)
    if active is None:
        return []
    return [(tuple(str(n) for n in names), str(reason)) for names, reason in active()]


def _torch_context() -> dict:
    """The torch state a test set around a call, to be set around it in the kernel too: the
    default device (``with torch.device("meta"):``) and grad mode (``with torch.no_grad():``)."""
    torch = sys.modules.get("torch")
    if torch is None:
        return {}
    context = {}
    device = torch.get_default_device()
    if device.type != "cpu":
        context["device"] = str(device)
    if not torch.is_grad_enabled():
        context["grad"] = False
    return context


class Remote:
    """A proxy of an object that stays in the student's kernel.

    Attribute access, calls (under the ``shared.forbid`` blocks active here), indexing,
    ``len`` and iteration are requests to the kernel; what comes back is data, a trusted module
    or another ``Remote``. ``repr`` is local; ``str`` asks the kernel. Dunder attributes are not
    forwarded (so NumPy and pytest probing ``__array__`` & co. see an opaque object). Use the
    module functions :func:`remote_type`, :func:`is_remote`, :func:`remote_isinstance`.
    """

    __slots__ = ("_remote_session", "_remote_id", "_remote_info", "__weakref__")

    def __init__(self, session: Session, info: dict) -> None:
        object.__setattr__(self, "_remote_session", session)
        object.__setattr__(self, "_remote_id", info["handle"])
        object.__setattr__(self, "_remote_info", info)

    def __getattribute__(self, name: str) -> Any:
        if name in _NOT_GIVEN:
            raise AttributeError(
                f"{name} of an object in the student's kernel is not given to tests: use the "
                "notebook's names (env) or call it"
            )
        return object.__getattribute__(self, name)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_remote_") or (
            name.startswith("__") and name not in _FORWARDED_DUNDERS
        ):
            raise AttributeError(name)
        return _send(self, "getattr", name)

    def __setattr__(self, name: str, value: Any) -> None:
        _send(self, "setattr", name, value)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return _send(self, "call", args, kwargs, _active_forbids(), _torch_context())

    def __getitem__(self, key: Any) -> Any:
        return _send(self, "getitem", key)

    def __setitem__(self, key: Any, value: Any) -> None:
        _send(self, "setitem", key, value)

    def __len__(self) -> int:
        n = _send(self, "len")
        if type(n) is not int or n < 0:
            raise WireError(f"the kernel's len() is {n!r}")
        return n

    def __iter__(self) -> Iterator[Any]:
        iterator = _send(self, "iter")
        session = object.__getattribute__(self, "_remote_session")
        while True:
            try:
                value = session.request("next", iterator)
            except StopIteration:
                return
            yield value

    def __next__(self) -> Any:
        session = object.__getattribute__(self, "_remote_session")
        return session.request("next", self)  # StopIteration comes back as StopIteration

    def __repr__(self) -> str:
        return f"<remote {remote_type(self)}>"

    def __str__(self) -> str:
        text = _send(self, "str")
        if type(text) is not str:
            raise WireError("the kernel's str() is not a string")
        return text

    def __bool__(self) -> bool:
        return True

    def __reduce_ex__(self, protocol: Any) -> Any:
        raise TypeError(f"{self!r} stays in the kernel: it cannot be copied or pickled here")

    def __del__(self) -> None:
        try:
            session = object.__getattribute__(self, "_remote_session")
            session._release(object.__getattribute__(self, "_remote_id"))
        except Exception:
            pass


def _send(r: Remote, op: str, *args: Any) -> Any:
    return object.__getattribute__(r, "_remote_session").request(op, r, *args)


def remote_type(r: Remote) -> str:
    """The qualified type name the kernel reported for ``r`` (the student's word)."""
    return object.__getattribute__(r, "_remote_info")["type"]


def is_remote(x: Any) -> bool:
    return type(x) is Remote


def keep_beside(r: Remote, value: Any) -> Remote:
    """``value`` sent to the kernel ``r`` lives in and kept there: a proxy of the kernel's copy."""
    return object.__getattribute__(r, "_remote_session").request("keep", value)


def run_beside(r: Remote, fn: Callable, args: tuple, kwargs: dict) -> Any:
    """``fn(*args, **kwargs)`` run in the kernel ``r`` lives in (``fn`` sent by name, or by
    value for a function a test defines), under the active forbid blocks and torch context.
    What it returns was computed beside the student's code: data to judge, never a verdict."""
    session = object.__getattribute__(r, "_remote_session")
    return session.request("call", fn, args, kwargs, _active_forbids(), _torch_context())


def remote_isinstance(r: Remote, class_name: str) -> bool:
    """``isinstance(obj, cls)`` evaluated in the kernel, ``cls`` named by its dotted path (False
    when the kernel never imported its module). The kernel can forge the answer."""
    answer = _send(r, "isinstance_of", class_name)
    if type(answer) is not bool:
        raise WireError("the kernel's isinstance answer is not a bool")
    return answer


# ------------------------------------------------------------------------------- namespace


class RemoteNamespace(Mapping):
    """The kernel's globals as tests see them (``env``). Values are data, the referee's own
    trusted modules, or :class:`Remote` proxies. The list of names is fetched once and kept
    until :meth:`set` or :meth:`pop`."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._names: tuple[str, ...] | None = None

    def _all(self) -> tuple[str, ...]:
        if self._names is None:
            names = self.session.request("names")
            if type(names) is not list or not all(type(n) is str for n in names):
                raise WireError("the kernel's names() is not a list of strings")
            self._names = tuple(names)
        return self._names

    def __getitem__(self, name: str) -> Any:
        if type(name) is not str:
            raise KeyError(name)
        try:
            return self.session.request("get", name)
        except KeyError:
            raise KeyError(name) from None

    def __contains__(self, name: object) -> bool:
        return name in self._all()

    def __iter__(self) -> Iterator[str]:
        return iter(self._all())

    def __len__(self) -> int:
        return len(self._all())

    def __setitem__(self, name: str, value: Any) -> None:
        self.set(name, value)

    def update(self, values: Mapping[str, Any] = (), **more: Any) -> None:
        for name, value in dict(values, **more).items():
            self.set(name, value)

    def keep(self, value: Any) -> Remote:
        """Send ``value`` to the kernel and keep it there: a handle to the kernel's copy, so
        that a student's function can change it in place and the test can look afterwards."""
        return self.session.request("keep", value)

    def set(self, name: str, value: Any) -> None:
        """Bind ``name`` in the kernel to ``value`` (sent by pickle)."""
        self._names = None
        self.session.request("set", name, value)

    def pop(self, name: str, default: Any = None) -> Any:
        """Remove ``name`` from the kernel's globals; its value, or ``default`` if unbound."""
        self._names = None
        try:
            return self.session.request("pop", name)
        except KeyError:
            return default
