"""The grading agent: the only grading code that runs *inside the student's kernel*.

The referee ships this file's source into the kernel and runs it there::

    namespace = {}
    exec(compile(agent_source(), "grading-agent", "exec"), namespace)
    namespace["serve"](socket_path)

So the file is self-contained: it imports only the standard library at import time (NumPy and
torch are looked up in ``sys.modules`` when a value is encoded, never imported for it) and
nothing from this package. It holds the *encoder* half of the wire format; the decoder, which
never runs code, lives in :mod:`autograder.grading.wire` (which re-exports :func:`encode` so
both halves can be tested together).

Protocol, over one connected ``AF_UNIX`` stream socket: every frame is an 8-byte big-endian
length, then the payload.

- Request (referee to agent, trusted): ``pickle.dumps((op, args, release_ids), protocol=5)``
  where every referee ``Remote`` was pickled as the persistent id ``("handle", id)`` and every
  module as ``("module", name)``. ``release_ids`` lists the handles the referee no longer holds.
  A referee stand-in (``remote.StandIn``) travels as ``("stand_in", token, name,
  differentiable)`` and arrives as a stub function.
- Reply (agent to referee, untrusted): the wire encoding of ``("ok", value)`` or
  ``("error", {"type", "module", "message", "traceback"})``.
- While a request runs, the student's code may call a stub: the agent sends the wire encoding
  of ``("stand_in", token, args, kwargs)`` (for a backward pass through a differentiable one,
  ``(..., positions, output_grads)``: the gradients of those arguments are asked for), and the
  referee, which runs the stand-in in its own process, answers with the request
  ``("answer", ("ok", value) | ("raise", exception), ids)``; it may first send requests of its
  own (about the arguments), which are answered as usual.

Wire encoding of a value: ``len(header)`` as 8 bytes big-endian, the JSON header
``{"v": 1, "root": node, "buffers": [len, ...]}``, then the buffers back to back. A node is a
JSON ``null``/``true``/``false``/integer below 2**63/float (``NaN``, ``Infinity`` allowed)/string,
or an object tagged by ``"t"``: ``int`` (``hex``), ``complex`` (``re``, ``im``), ``bytes``
(``b``: buffer index), ``ellipsis``, ``tuple``/``list`` (``items``), ``dict`` (``items``:
``[[key, value], ...]``, ``ordered``), ``ndarray``/``npscalar`` (``b``: an ``.npy`` file written
with ``allow_pickle=False``), ``tensor`` (``b`` or ``meta`` with ``shape``; ``dtype``,
``bf16``, ``requires_grad``, ``parameter``, ``device``), ``size``, ``dtype``, ``device``,
``slice``, ``range``, and ``handle`` (``id``, ``type``, ``callable``, ``kind``,
``module_name``) for everything that stays in the kernel.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import json
import pickle
import signal
import socket
import struct
import sys
import traceback
import types
from typing import Any

MAX_FRAME = 512 * 1024 * 1024  # the referee refuses larger replies; send an error instead
MAX_DEPTH = 32  # containers nested deeper stay in the kernel as handles
MAX_ITEMS = 1_000_000  # container elements in one reply; past that, containers become handles
TEXT_CAP = 10_000  # str() and repr() replies
MESSAGE_CAP = 4_000
TRACEBACK_CAP = 8_000

_NP_KINDS = "biufcSU"
# torch dtypes that travel as arrays (bfloat16 as float32, tagged).
_TORCH_DTYPES = frozenset(
    "bool uint8 int8 int16 int32 int64 uint16 uint32 uint64 float16 bfloat16 float32 float64 "
    "complex64 complex128".split()
)
_FUNCTION_TYPES = (
    types.FunctionType,
    types.BuiltinFunctionType,
    types.MethodType,
    types.MethodWrapperType,
    types.WrapperDescriptorType,
    types.MethodDescriptorType,
    types.ClassMethodDescriptorType,
)


def agent_source() -> str:
    """The full source to exec in the kernel (this file: it needs nothing else)."""
    with open(__file__, encoding="utf-8") as file:
        return file.read()


# ---------------------------------------------------------------------------------- encoding


class HandleTable:
    """Objects the referee holds handles to, by integer id."""

    def __init__(self) -> None:
        self.objects: dict[int, Any] = {}
        self._next = 1

    def add(self, obj: Any) -> int:
        handle_id = self._next
        self._next += 1
        self.objects[handle_id] = obj
        return handle_id

    def release(self, ids: Any) -> None:
        for handle_id in ids:
            self.objects.pop(handle_id, None)


def _type_name(obj: Any) -> str:
    cls = type(obj)
    try:
        module, qualname = cls.__module__, cls.__qualname__
        if type(module) is str and type(qualname) is str:
            return qualname if module == "builtins" else f"{module}.{qualname}"
    except Exception:
        pass
    return "<unknown type>"


def _is_key(key: Any) -> bool:
    kind = type(key)
    if key is None or kind in (bool, int, float, str):
        return True
    return kind is tuple and all(_is_key(k) for k in key)


class Kept:
    """A value the referee asked to keep in the kernel: it is sent back as a handle, never as
    data (``op_keep``), so that what a student's function does to it stays visible."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value


class _Encoder:
    def __init__(self, table: HandleTable) -> None:
        self.table = table
        self.buffers: list[bytes] = []
        self.items = 0

    def buffer(self, data: bytes) -> int:
        self.buffers.append(data)
        return len(self.buffers) - 1

    def handle(self, obj: Any) -> dict:
        if isinstance(obj, types.ModuleType):
            kind, name = "module", getattr(obj, "__name__", None)
            module_name = name if type(name) is str else None
        else:
            kind = "class" if isinstance(obj, type) else "object"
            if isinstance(obj, _FUNCTION_TYPES):
                kind = "function"
            module_name = None
        name = None
        if kind in ("function", "class"):
            qualname = getattr(obj, "__qualname__", None)
            name = qualname[:200] if type(qualname) is str else None
        return {
            "t": "handle",
            "id": self.table.add(obj),
            "type": _type_name(obj)[:1000],
            "callable": bool(callable(obj)),
            "kind": kind,
            "module_name": module_name,
            "name": name,
        }

    def sequence(self, values: list, depth: int) -> list | None:
        if depth >= MAX_DEPTH or self.items + len(values) > MAX_ITEMS:
            return None
        self.items += len(values)
        return [self.node(v, depth + 1) for v in values]

    def node(self, x: Any, depth: int) -> Any:  # noqa: C901 (one branch per wire type)
        kind = type(x)
        if kind is Kept:
            return self.handle(x.value)
        if x is None or kind is bool or kind is str:
            return x
        if kind is int:
            return x if -(2**63) <= x < 2**63 else {"t": "int", "hex": hex(x)}
        if kind is float:
            return x
        if kind is complex:
            return {"t": "complex", "re": x.real, "im": x.imag}
        if kind is bytes:
            return {"t": "bytes", "b": self.buffer(x)}
        if x is Ellipsis:
            return {"t": "ellipsis"}
        if kind is tuple or kind is list:
            items = self.sequence(list(x), depth)
            if items is not None:
                return {"t": kind.__name__, "items": items}
            return self.handle(x)
        if kind is dict or _is_ordered_dict(x):
            pairs = list(dict.items(x))
            if all(_is_key(k) for k, _ in pairs):
                flat = self.sequence([v for pair in pairs for v in pair], depth)
                if flat is not None:
                    self.items -= len(pairs)  # count one item per pair
                    items = [[flat[i], flat[i + 1]] for i in range(0, len(flat), 2)]
                    return {"t": "dict", "items": items, "ordered": kind is not dict}
            return self.handle(x)
        if kind is slice:
            parts = self.sequence([x.start, x.stop, x.step], depth)
            if parts is not None:
                return {"t": "slice", "items": parts}
            return self.handle(x)
        if kind is range:
            return {
                "t": "range",
                "items": [self.node(v, depth + 1) for v in (x.start, x.stop, x.step)],
            }
        numpy = sys.modules.get("numpy")
        if numpy is not None:
            encoded = self.numpy_value(numpy, x)
            if encoded is not None:
                return encoded
        torch = sys.modules.get("torch")
        if torch is not None:
            encoded = self.torch_value(torch, x)
            if encoded is not None:
                return encoded
        return self.handle(x)

    def numpy_value(self, np: Any, x: Any) -> dict | None:
        if isinstance(x, np.ndarray):
            tag, array = "ndarray", x.view(np.ndarray)
        elif isinstance(x, np.generic):
            tag, array = "npscalar", np.asarray(x)
        else:
            return None
        dtype = array.dtype
        if dtype.kind not in _NP_KINDS or dtype.fields is not None or dtype.subdtype is not None:
            return None
        out = io.BytesIO()
        np.save(out, array, allow_pickle=False)
        return {"t": tag, "b": self.buffer(out.getvalue())}

    def torch_value(self, torch: Any, x: Any) -> dict | None:
        if isinstance(x, torch.Size):
            return {"t": "size", "items": [int(v) for v in x]}
        if isinstance(x, torch.dtype):
            return {"t": "dtype", "name": str(x).removeprefix("torch.")}
        if isinstance(x, torch.device):
            return {"t": "device", "name": str(x)}
        if not isinstance(x, torch.Tensor):
            return None
        try:
            return self.tensor(torch, x)
        except Exception:
            return None  # an exotic tensor: it stays in the kernel

    def tensor(self, torch: Any, x: Any) -> dict | None:
        dtype = str(x.dtype).removeprefix("torch.")
        if dtype not in _TORCH_DTYPES or x.layout is not torch.strided:
            return None
        if x.is_quantized or x.is_nested:
            return None
        node = {
            "t": "tensor",
            "dtype": dtype,
            "bf16": dtype == "bfloat16",
            "requires_grad": bool(x.requires_grad),
            "parameter": isinstance(x, torch.nn.Parameter),
            "device": str(x.device),
        }
        if x.device.type == "meta":
            node["meta"] = True
            node["shape"] = [int(v) for v in x.shape]
            return node
        t = x.detach()
        if dtype == "bfloat16":
            t = t.float()
        array = t.cpu().resolve_conj().resolve_neg().contiguous().numpy()
        out = io.BytesIO()
        sys.modules["numpy"].save(out, array, allow_pickle=False)
        node["b"] = self.buffer(out.getvalue())
        return node


def _is_ordered_dict(x: Any) -> bool:
    collections = sys.modules.get("collections")
    return collections is not None and type(x) is collections.OrderedDict


def encode(value: Any, table: HandleTable) -> list[bytes]:
    """The wire encoding of ``value`` as a list of byte strings to send back to back. Objects
    that are not data are added to ``table`` and encoded as handles."""
    encoder = _Encoder(table)
    root = encoder.node(value, 0)
    header = json.dumps(
        {"v": 1, "root": root, "buffers": [len(b) for b in encoder.buffers]},
        separators=(",", ":"),
        allow_nan=True,
    ).encode("ascii")
    return [struct.pack(">Q", len(header)), header, *encoder.buffers]


# ---------------------------------------------------------------------------------- the agent


def _cap(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return text[:limit] + f"... [{len(text) - limit:,} more characters cut by grading]"


def error_info(exc: BaseException) -> dict:
    """What the referee learns of an exception: plain strings only."""
    cls = type(exc)
    info = {"type": "BaseException", "module": "builtins", "message": "", "traceback": ""}
    with contextlib.suppress(BaseException):
        name, module = cls.__name__, cls.__module__
        info["type"] = name if type(name) is str else info["type"]
        info["module"] = module if type(module) is str else ""
    with contextlib.suppress(BaseException):
        info["message"] = _cap(str(str(exc)), MESSAGE_CAP)
    with contextlib.suppress(BaseException):
        tb = exc.__traceback__
        own = error_info.__code__.co_filename  # the agent's frames are noise to the reader
        while tb is not None and tb.tb_next is not None and tb.tb_frame.f_code.co_filename == own:
            tb = tb.tb_next
        text = "".join(traceback.format_exception(cls, exc, tb))
        info["traceback"] = _cap(str(text), TRACEBACK_CAP)
    return info


def _resolve_class(dotted: str) -> Any:
    """The object named ``dotted``, from modules the kernel has already imported (nothing is
    imported for it: a class whose module was never imported has no instances)."""
    parts = dotted.split(".")
    for split in range(len(parts), 0, -1):
        module = sys.modules.get(".".join(parts[:split]))
        if module is None:
            continue
        obj = module
        for attr in parts[split:]:
            obj = getattr(obj, attr, None)
            if obj is None:
                return None
        return obj
    return None


class Agent:
    """Executes the referee's requests against the notebook namespace."""

    def __init__(self, namespace: dict) -> None:
        self.namespace = namespace
        self.table = HandleTable()
        self.armed = False  # SIGINT raises KeyboardInterrupt only while student code may run
        self.closed = False
        self.sock: socket.socket | None = None

    def stub(self, token: int, name: str, differentiable: bool = False) -> Any:
        """The kernel's end of a referee stand-in (``remote.StandIn``): calling it asks the
        referee, which runs its own function and answers (while its test case lasts). A
        ``differentiable`` one called on tensors that require grad joins the kernel's autograd
        graph: its backward asks the referee for the gradients too."""
        agent = self

        def stand_in(*args: Any, **kwargs: Any) -> Any:
            torch = sys.modules.get("torch")
            if differentiable and torch is not None and torch.is_grad_enabled():
                positions = [
                    i for i, a in enumerate(args) if isinstance(a, torch.Tensor) and a.requires_grad
                ]
                if positions:
                    tensors = [args[i] for i in positions]
                    function = agent.autograd_function(torch)
                    return function.apply(token, tuple(args), kwargs, positions, *tensors)
            return agent.ask_referee(token, args, kwargs)

        stand_in.__name__ = stand_in.__qualname__ = str(name)
        return stand_in

    def autograd_function(self, torch: Any) -> Any:
        """The ``torch.autograd.Function`` through which a differentiable stand-in runs."""
        if getattr(self, "_autograd_function", None) is None:
            agent = self

            class AskTheReferee(torch.autograd.Function):
                @staticmethod
                def forward(ctx, token, args, kwargs, positions, *tensors):  # noqa: ANN001
                    plain = list(args)
                    for i, tensor in zip(positions, tensors, strict=True):
                        plain[i] = tensor.detach()
                    ctx.call = (token, tuple(plain), kwargs, positions)
                    return agent.ask_referee(token, tuple(plain), kwargs)

                @staticmethod
                def backward(ctx, *grads):  # noqa: ANN001
                    token, plain, kwargs, positions = ctx.call
                    got = agent.ask_referee(token, plain, kwargs, (positions, grads))
                    return (None, None, None, None, *got)

            self._autograd_function = AskTheReferee
        return self._autograd_function

    def ask_referee(self, token: int, args: tuple, kwargs: dict, backward: Any = None) -> Any:
        """Send a stand-in's call to the referee and wait for its answer, serving whatever the
        referee asks in between (its stand-in may look at the arguments it was given).
        ``backward``: ``(positions, output_grads)`` asks for the gradients of the arguments at
        ``positions`` instead of the result."""
        if self.sock is None:
            raise RuntimeError("a grading stand-in called outside grading")
        message = ("stand_in", token, tuple(args), dict(kwargs))
        if backward is not None:
            message += (list(backward[0]), tuple(backward[1]))
        parts = encode(message, self.table)
        _send_frame(self.sock, parts)
        armed, self.armed = self.armed, False  # the referee's time, not the student's
        try:
            while True:
                payload = _read_frame(self.sock)
                if payload is None:
                    raise ConnectionError("the grading referee hung up")
                op, answer, release = self.unpickle(payload)
                if op != "answer":
                    _send_frame(self.sock, self.handle(payload))
                    continue
                self.table.release(release)
                status, value = answer
                if status == "raise":
                    raise value
                return value
        finally:
            self.armed = armed

    def unpickle(self, payload: bytes) -> tuple:
        table, agent = self.table, self

        class Unpickler(pickle.Unpickler):
            def persistent_load(self, pid: Any) -> Any:
                if pid[0] == "stand_in":
                    return agent.stub(*pid[1:])
                kind, value = pid
                if kind == "handle":
                    try:
                        return table.objects[value]
                    except KeyError:
                        raise LookupError(f"handle {value} was released") from None
                if kind == "module":
                    return importlib.import_module(value)
                raise pickle.UnpicklingError(f"unknown persistent id {pid!r}")

        return Unpickler(io.BytesIO(payload)).load()

    def handle(self, payload: bytes) -> list[bytes]:
        """The reply to one request frame; never raises."""
        try:
            try:
                op, args, release = self.unpickle(payload)
                self.table.release(release)
                method = getattr(self, "op_" + op)
                self.armed = True
                value = method(*args)
                parts = encode(("ok", value), self.table)
            finally:
                self.armed = False
            if sum(len(p) for p in parts) > MAX_FRAME:
                raise MemoryError(f"the reply is larger than {MAX_FRAME} bytes")
            return parts
        except BaseException as exc:  # KeyboardInterrupt and SystemExit included
            try:
                self.armed = True
                info = error_info(exc)
            except BaseException:
                info = {
                    "type": "BaseException",
                    "module": "builtins",
                    "message": "",
                    "traceback": "",
                }
            finally:
                self.armed = False
            return encode(("error", info), self.table)

    # One method per op; the referee names them.
    def op_names(self) -> list[str]:
        return [name for name in list(self.namespace) if type(name) is str]

    def op_get(self, name: str) -> Any:
        return self.namespace[name]

    def op_set(self, name: str, value: Any) -> None:
        self.namespace[name] = value

    def op_pop(self, name: str) -> Any:
        return self.namespace.pop(name)

    def op_has(self, name: str) -> bool:
        return name in self.namespace

    def op_getattr(self, obj: Any, name: str) -> Any:
        return getattr(obj, name)

    def op_setattr(self, obj: Any, name: str, value: Any) -> None:
        setattr(obj, name, value)

    def op_call(
        self, obj: Any, args: tuple, kwargs: dict, forbid: list, context: dict | None = None
    ) -> Any:
        """``obj(*args, **kwargs)`` under the referee's ``shared.forbid`` blocks and torch
        context (its default device and grad mode, as the test set them around the call)."""
        with contextlib.ExitStack() as stack:
            torch = sys.modules.get("torch") if context else None
            if torch is not None:
                if context.get("device"):
                    stack.enter_context(torch.device(context["device"]))
                if context.get("grad") is False:
                    stack.enter_context(torch.no_grad())
            if forbid:
                forbid_block = importlib.import_module("shared.forbid").forbid
                for names, reason in forbid:
                    stack.enter_context(forbid_block(*names, reason=reason))
            return obj(*args, **kwargs)

    def op_keep(self, value: Any) -> Kept:
        return Kept(value)

    def op_getitem(self, obj: Any, key: Any) -> Any:
        return obj[key]

    def op_setitem(self, obj: Any, key: Any, value: Any) -> None:
        obj[key] = value

    def op_len(self, obj: Any) -> int:
        return len(obj)

    def op_iter(self, obj: Any) -> Any:
        return iter(obj)

    def op_next(self, obj: Any) -> Any:
        return next(obj)

    def op_str(self, obj: Any) -> str:
        return _cap(str(str(obj)), TEXT_CAP)

    def op_repr(self, obj: Any) -> str:
        return _cap(str(repr(obj)), TEXT_CAP)

    def op_isinstance_of(self, obj: Any, dotted: str) -> bool:
        cls = _resolve_class(dotted)
        if cls is None:
            return False
        return isinstance(obj, cls)

    def op_release(self, ids: list[int]) -> None:
        self.table.release(ids)

    def op_close(self) -> None:
        self.closed = True


def _notebook_namespace() -> dict:
    ipython = sys.modules.get("IPython")
    get_ipython = getattr(ipython, "get_ipython", None)
    shell = get_ipython() if get_ipython is not None else None
    if shell is not None:
        return shell.user_ns
    return sys.modules["__main__"].__dict__


def _recv_exact(sock: socket.socket, n: int) -> bytes | None:
    chunks, got = [], 0
    while got < n:
        chunk = sock.recv(min(n - got, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


SUN_PATH = 100  # bytes a Unix socket's path may have (108 on Linux, 104 on macOS), with room


def unix_address(path: str, use: Any) -> None:
    """``use(address)`` (a socket's ``bind`` or ``connect``) for the Unix socket at ``path``,
    however long ``path`` is: a path past the system's limit (a deep temporary folder) is
    reached through the process's own descriptor of its folder, ``/proc/self/fd/N/name``."""
    import os

    if len(os.fsencode(path)) <= SUN_PATH or not os.path.isdir("/proc/self/fd"):
        use(path)
        return
    folder = os.open(os.path.dirname(path) or ".", os.O_RDONLY | os.O_DIRECTORY)
    try:
        use(f"/proc/self/fd/{folder}/{os.path.basename(path)}")
    finally:
        os.close(folder)


def _read_frame(sock: socket.socket) -> bytes | None:
    prefix = _recv_exact(sock, 8)
    if prefix is None:
        return None
    return _recv_exact(sock, struct.unpack(">Q", prefix)[0])


def _send_frame(sock: socket.socket, parts: list[bytes]) -> None:
    sock.sendall(struct.pack(">Q", sum(len(p) for p in parts)))
    for part in parts:
        sock.sendall(part)


def _distrust_kit_frames(thread_only: bool) -> None:
    """No frame is the kit's in this kernel (``shared.forbid.distrust_kit_frames``): a
    notebook can compile its code under any file name."""
    try:
        forbid = importlib.import_module("shared.forbid")
    except ImportError:
        return
    forbid.distrust_kit_frames(thread_only=thread_only)


def serve(path: str, namespace: dict | None = None, *, thread_only: bool = False) -> None:
    """Connect to the referee listening at the Unix socket ``path`` and answer its requests
    until it says ``close`` (or hangs up). ``namespace`` defaults to the notebook's globals.
    ``thread_only``: the agent serves on a thread of the referee's own process (the fast
    path), so what it changes for the student's code holds on this thread only.

    While serving, SIGINT interrupts only a request in progress (the referee's way to stop a
    call that runs too long); one that arrives between requests is ignored."""
    agent = Agent(_notebook_namespace() if namespace is None else namespace)

    def on_sigint(signum: int, frame: Any) -> None:
        if agent.armed:
            raise KeyboardInterrupt

    try:
        previous = signal.signal(signal.SIGINT, on_sigint)
    except ValueError:  # not the main thread: no signals reach us anyway
        previous = None
    _distrust_kit_frames(thread_only)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        unix_address(path, sock.connect)
        agent.sock = sock
        while not agent.closed:
            payload = _read_frame(sock)
            if payload is None:
                break
            _send_frame(sock, agent.handle(payload))
    finally:
        agent.sock = None
        sock.close()
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
