"""The wire codec, referee side: decode what the kernel sends without running any code.

The format is described in :mod:`autograder.grading.agent`, which holds the encoder (it runs in
the kernel and must be self-contained; :func:`encode` is re-exported here). Decoding parses
JSON, reads ``.npy`` buffers with ``allow_pickle=False`` after checking their headers, and
builds tensors from arrays: no ``pickle``, ``eval``, ``exec`` or ``torch.load``. Every field is
checked; anything unexpected raises :class:`WireError`.
"""

from __future__ import annotations

import importlib
import io
import json
import math
import re
import socket
import struct
import sys
import types
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import numpy as np

from autograder.grading.agent import (
    _NP_KINDS,
    _TORCH_DTYPES,
    MAX_DEPTH,
    MAX_FRAME,
    MAX_ITEMS,
    HandleTable,
    encode,
)

__all__ = [
    "MAX_FRAME",
    "TRUSTED_MODULES",
    "HandleTable",
    "WireError",
    "decode",
    "encode",
    "read_frame",
    "trusted_module",
    "write_frame",
]

# Module-valued names in the notebook resolve to the referee's own import of these.
TRUSTED_MODULES = (
    "numpy",
    "numpy.*",
    "torch",
    "torch.*",
    "math",
    "random",
    "collections",
    "itertools",
    "functools",
    "scipy",
    "sklearn",
    "matplotlib",
    "matplotlib.*",
)
_DOTTED = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*\Z")
_DEVICE = re.compile(r"[a-z_]+(:[0-9]{1,4})?\Z")
_HANDLE_KINDS = frozenset({"function", "class", "module", "object"})
_MAX_NDIM = 64


class WireError(Exception):
    """What came from the kernel is not a well-formed reply."""


def is_trusted_name(name: str) -> bool:
    if not _DOTTED.match(name) or "__main__" in name.split("."):
        return False
    return any(
        name == pattern or (pattern.endswith(".*") and name.startswith(pattern[:-1]))
        for pattern in TRUSTED_MODULES
    )


def trusted_module(name: str) -> types.ModuleType | None:
    """The referee's own import of module ``name`` if it is on the trusted list, else None."""
    if not is_trusted_name(name):
        return None
    module = sys.modules.get(name)
    if module is not None:
        return module
    if any(part.startswith("__") for part in name.split(".")):
        return None
    try:
        return importlib.import_module(name)
    except Exception:
        return None


# ----------------------------------------------------------------------------------- frames


def write_frame(sock: socket.socket, payload: bytes, timeout: float | None = 600.0) -> None:
    """Send one frame (blocking, whatever timeout a read left on the socket)."""
    sock.settimeout(timeout)
    sock.sendall(struct.pack(">Q", len(payload)) + payload)


def read_frame(
    sock: socket.socket,
    *,
    limit: int = MAX_FRAME,
    next_timeout: Callable[[bool], float | None] | None = None,
) -> bytes:
    """One frame's payload. ``next_timeout(expired)`` is asked for the socket timeout before
    each read (``expired`` says the previous wait ran out); it may raise to give up. Raises
    :class:`WireError` for a frame over ``limit`` bytes and :class:`EOFError` when the peer
    hangs up."""
    (length,) = struct.unpack(">Q", _recv_exact(sock, 8, next_timeout))
    if length > limit:
        raise WireError(f"the kernel sent a frame of {length} bytes (the limit is {limit})")
    return bytes(_recv_exact(sock, length, next_timeout))


def _recv_exact(
    sock: socket.socket, n: int, next_timeout: Callable[[bool], float | None] | None
) -> bytearray:
    buf = bytearray(n)
    view, got, expired = memoryview(buf), 0, False
    while got < n:
        if next_timeout is not None:
            wait = next_timeout(expired)
            sock.settimeout(None if wait is None else max(wait, 0.001))  # 0 would not block
        try:
            k = sock.recv_into(view[got:], min(n - got, 1 << 22))
        except (TimeoutError, BlockingIOError):
            expired = True
            continue
        expired = False
        if k == 0:
            raise EOFError("the kernel closed the connection")
        got += k
    return buf


# --------------------------------------------------------------------------------- decoding


def decode(
    payload: bytes,
    *,
    make_handle: Callable[[dict], Any] | None = None,
    move_tensors: bool = True,
) -> Any:
    """The value encoded in ``payload``.

    ``make_handle(info)`` turns a validated handle description (``handle``, ``type``,
    ``callable``, ``kind``, ``module_name``) into the referee's stand-in; by default the
    description itself is returned. A module handle naming a trusted module decodes to the
    referee's own module. Tensors are rebuilt on CPU, then moved to their original device when
    ``move_tensors`` and that device exists here.
    """
    view = memoryview(payload)
    if len(view) < 8:
        raise WireError("the reply is shorter than its header length")
    (header_len,) = struct.unpack(">Q", view[:8])
    if header_len > len(view) - 8:
        raise WireError("the reply's header length exceeds the reply")
    try:
        header = json.loads(bytes(view[8 : 8 + header_len]).decode("ascii"))
    except (ValueError, RecursionError) as err:
        raise WireError(f"the reply's header is not valid JSON ({err})") from None
    if type(header) is not dict or set(header) != {"v", "root", "buffers"} or header["v"] != 1:
        raise WireError("the reply's header has the wrong fields")
    sizes = header["buffers"]
    if type(sizes) is not list or not all(type(s) is int and s >= 0 for s in sizes):
        raise WireError("the reply's buffer sizes are not a list of sizes")
    if sum(sizes) != len(view) - 8 - header_len:
        raise WireError("the reply's buffers do not add up to its length")
    buffers, offset = [], 8 + header_len
    for size in sizes:
        buffers.append(view[offset : offset + size])
        offset += size
    decoder = _Decoder(buffers, make_handle, move_tensors)
    try:
        return decoder.node(header["root"], 0)
    except RecursionError:
        raise WireError("the reply is nested too deeply") from None


def _fields(node: dict, required: set[str], optional: set[str] = frozenset()) -> None:
    keys = set(node)
    if not required <= keys or not keys <= required | optional:
        raise WireError(f"a {node.get('t')!r} node has fields {sorted(keys)}")


def _is_key(key: Any) -> bool:
    kind = type(key)
    if key is None or kind in (bool, int, float, str):
        return True
    return kind is tuple and all(_is_key(k) for k in key)


class _Decoder:
    def __init__(self, buffers: list, make_handle: Callable | None, move_tensors: bool) -> None:
        self.buffers = buffers
        self.used: set[int] = set()
        self.make_handle = make_handle
        self.move_tensors = move_tensors
        self.items = 0

    def buffer(self, index: Any) -> memoryview:
        if type(index) is not int or not 0 <= index < len(self.buffers) or index in self.used:
            raise WireError(f"bad buffer reference {index!r}")
        self.used.add(index)
        return self.buffers[index]

    def sequence(self, items: Any, depth: int) -> list:
        if type(items) is not list:
            raise WireError("a container's items are not a list")
        if depth >= MAX_DEPTH:
            raise WireError(f"the reply nests containers deeper than {MAX_DEPTH}")
        self.items += len(items)
        if self.items > MAX_ITEMS:
            raise WireError(f"the reply holds more than {MAX_ITEMS} items")
        return [self.node(v, depth + 1) for v in items]

    def node(self, node: Any, depth: int) -> Any:  # noqa: C901 (one branch per wire type)
        kind = type(node)
        if node is None or kind in (bool, int, float, str):
            return node
        if kind is not dict:
            raise WireError(f"unexpected JSON value of type {kind.__name__}")
        tag = node.get("t")
        if tag in ("tuple", "list"):
            _fields(node, {"t", "items"})
            items = self.sequence(node["items"], depth)
            return tuple(items) if tag == "tuple" else items
        if tag == "dict":
            return self.dict(node, depth)
        if tag == "int":
            _fields(node, {"t", "hex"})
            text = node["hex"]
            if type(text) is not str or not re.fullmatch(r"-?0x[0-9a-f]+", text):
                raise WireError("bad big integer")
            return int(text, 16)
        if tag == "complex":
            _fields(node, {"t", "re", "im"})
            if type(node["re"]) not in (int, float) or type(node["im"]) not in (int, float):
                raise WireError("bad complex number")
            return complex(node["re"], node["im"])
        if tag == "bytes":
            _fields(node, {"t", "b"})
            return bytes(self.buffer(node["b"]))
        if tag == "ellipsis":
            _fields(node, {"t"})
            return ...
        if tag == "ndarray":
            _fields(node, {"t", "b"})
            return _load_npy(self.buffer(node["b"]))
        if tag == "npscalar":
            _fields(node, {"t", "b"})
            array = _load_npy(self.buffer(node["b"]))
            if array.ndim != 0:
                raise WireError("a NumPy scalar is not 0-dimensional")
            return array[()]
        if tag == "slice":
            _fields(node, {"t", "items"})
            parts = self.sequence(node["items"], depth)
            if len(parts) != 3:
                raise WireError("a slice needs start, stop and step")
            return slice(*parts)
        if tag == "range":
            _fields(node, {"t", "items"})
            parts = self.sequence(node["items"], depth)
            if len(parts) != 3 or not all(type(v) is int for v in parts) or parts[2] == 0:
                raise WireError("bad range")
            return range(*parts)
        if tag in ("tensor", "size", "dtype", "device"):
            return getattr(self, tag)(node)
        if tag == "handle":
            return self.handle(node)
        raise WireError(f"unknown node tag {tag!r}")

    def dict(self, node: dict, depth: int) -> dict:
        _fields(node, {"t", "items", "ordered"})
        pairs = node["items"]
        if type(pairs) is not list or not all(type(p) is list and len(p) == 2 for p in pairs):
            raise WireError("a dict's items are not [key, value] pairs")
        if type(node["ordered"]) is not bool:
            raise WireError("a dict's 'ordered' is not a bool")
        flat = self.sequence([v for pair in pairs for v in pair], depth)
        self.items -= len(pairs)
        out: dict = OrderedDict() if node["ordered"] else {}
        for i in range(0, len(flat), 2):
            if not _is_key(flat[i]):
                raise WireError(f"a dict key of type {type(flat[i]).__name__}")
            out[flat[i]] = flat[i + 1]
        return out

    def handle(self, node: dict) -> Any:
        _fields(node, {"t", "id", "type", "callable", "kind", "module_name"}, {"name"})
        info = {k: v for k, v in node.items() if k != "t"}
        info["handle"] = info.pop("id")
        if type(info["handle"]) is not int or info["handle"] < 0:
            raise WireError("bad handle id")
        if type(info["type"]) is not str or len(info["type"]) > 1000:
            raise WireError("bad handle type name")
        if type(info["callable"]) is not bool or info["kind"] not in _HANDLE_KINDS:
            raise WireError("bad handle description")
        info.setdefault("name", None)
        for field in ("module_name", "name"):
            value = info[field]
            if value is not None and (type(value) is not str or len(value) > 1000):
                raise WireError(f"bad handle {field}")
        name = info["module_name"]
        if info["kind"] == "module" and name is not None:
            module = trusted_module(name)
            if module is not None:
                return module
        return info if self.make_handle is None else self.make_handle(info)

    def size(self, node: dict) -> Any:
        import torch

        _fields(node, {"t", "items"})
        return torch.Size(_shape(node["items"]))

    def dtype(self, node: dict) -> Any:
        _fields(node, {"t", "name"})
        return _torch_dtype(node["name"], any_dtype=True)

    def device(self, node: dict) -> Any:
        _fields(node, {"t", "name"})
        return _torch_device(node["name"])

    def tensor(self, node: dict) -> Any:
        import torch

        common = {"t", "dtype", "bf16", "requires_grad", "parameter", "device"}
        meta = "meta" in node
        _fields(node, common | ({"meta", "shape"} if meta else {"b"}))
        for flag in ("bf16", "requires_grad", "parameter"):
            if type(node[flag]) is not bool:
                raise WireError(f"a tensor's {flag!r} is not a bool")
        dtype = _torch_dtype(node["dtype"])
        if node["bf16"] != (dtype is torch.bfloat16):
            raise WireError("a tensor's bfloat16 tag does not match its dtype")
        device = _torch_device(node["device"])
        if meta:
            if node["meta"] is not True:
                raise WireError("bad meta tensor")
            tensor = torch.empty(_shape(node["shape"]), dtype=dtype, device="meta")
        else:
            array = _load_npy(self.buffer(node["b"]))
            sent = torch.float32 if node["bf16"] else dtype
            expected = torch.empty(0, dtype=sent).numpy().dtype
            if array.dtype != expected:
                raise WireError(f"a {dtype} tensor arrived as a {array.dtype} array")
            tensor = torch.from_numpy(array).to(dtype)
            if self.move_tensors and _available(torch, device):
                tensor = tensor.to(device)
        requires_grad = node["requires_grad"] and (dtype.is_floating_point or dtype.is_complex)
        if node["parameter"]:
            return torch.nn.Parameter(tensor, requires_grad=requires_grad)
        return tensor.requires_grad_(requires_grad)


def _shape(value: Any) -> tuple[int, ...]:
    if type(value) is not list or len(value) > _MAX_NDIM:
        raise WireError("bad shape")
    if not all(type(v) is int and 0 <= v < 2**62 for v in value):
        raise WireError(f"bad shape {value!r}")
    return tuple(value)


def _torch_dtype(name: Any, *, any_dtype: bool = False) -> Any:
    import torch

    if type(name) is not str or not name.isidentifier():
        raise WireError(f"bad torch dtype {name!r}")
    if not any_dtype and name not in _TORCH_DTYPES:
        raise WireError(f"tensors of dtype {name} do not travel as data")
    dtype = getattr(torch, name, None)
    if not isinstance(dtype, torch.dtype):
        raise WireError(f"unknown torch dtype {name!r}")
    return dtype


def _torch_device(name: Any) -> Any:
    import torch

    if type(name) is not str or not _DEVICE.match(name):
        raise WireError(f"bad device {name!r}")
    try:
        return torch.device(name)
    except RuntimeError as err:
        raise WireError(f"bad device {name!r} ({err})") from None


def _available(torch: Any, device: Any) -> bool:
    if device.type == "cpu":
        return False  # already there
    try:
        if device.type == "cuda":
            index = device.index or 0
            return torch.cuda.is_available() and index < torch.cuda.device_count()
        if device.type == "mps":
            return bool(torch.backends.mps.is_available())
    except Exception:
        return False
    return False


def _load_npy(buf: memoryview) -> np.ndarray:
    """An array from ``.npy`` bytes, checked before NumPy reads it: a plain numeric, bool or
    string dtype, and exactly as many data bytes as its shape needs."""
    file = io.BytesIO(buf)
    try:
        version = np.lib.format.read_magic(file)
        if version == (1, 0):
            shape, fortran_order, dtype = np.lib.format.read_array_header_1_0(file)
        elif version == (2, 0):
            shape, fortran_order, dtype = np.lib.format.read_array_header_2_0(file)
        else:
            raise WireError(f"unsupported .npy version {version}")
    except WireError:
        raise
    except Exception as err:
        raise WireError(f"bad .npy header ({err})") from None
    if (
        not isinstance(dtype, np.dtype)
        or dtype.kind not in _NP_KINDS
        or dtype.fields is not None
        or dtype.subdtype is not None
        or dtype.hasobject
    ):
        raise WireError(f"an array of dtype {dtype!r} does not travel as data")
    if type(shape) is not tuple or len(shape) > _MAX_NDIM:
        raise WireError(f"bad array shape {shape!r}")
    if not all(type(v) is int and v >= 0 for v in shape):
        raise WireError(f"bad array shape {shape!r}")
    data_len = len(buf) - file.tell()
    if math.prod(shape) * dtype.itemsize != data_len:
        raise WireError(
            f"an array of shape {shape} and dtype {dtype} needs "
            f"{math.prod(shape) * dtype.itemsize} bytes, not {data_len}"
        )
    file.seek(0)
    try:
        array = np.load(file, allow_pickle=False)
    except Exception as err:
        raise WireError(f"bad .npy data ({err})") from None
    if type(array) is not np.ndarray or array.dtype != dtype or array.shape != shape:
        raise WireError("the .npy data does not match its header")
    return array
