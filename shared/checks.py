"""Checking helpers with failure messages a student can act on.

Checks run CMU-style: is it implemented, is it array-like, the shape, optionally the dtype,
unexpected NaN/inf, then the values. Every failure raises ``AssertionError``.
"""

from __future__ import annotations

import numbers
import re
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

# (rtol, atol) per floating dtype; element passes if |actual - expected| <= atol + rtol * |expected|
_TOLERANCES: dict[str, tuple[float, float]] = {
    "float64": (1e-7, 1e-9),
    "complex128": (1e-7, 1e-9),
    "float32": (1e-4, 1e-5),
    "complex64": (1e-4, 1e-5),
    "float16": (1e-2, 1e-3),
    "bfloat16": (2e-2, 1e-2),
}


# A value the student sets (``x``, ``hand["a1"]``, ``model.d_model``), not a call's result.
ANSWER_NAME = re.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*|\[[^\[\]()]*\])*")


def check_implemented(value: Any, name: str) -> None:
    """Fail if ``value`` is ``None`` or ``...``, the tell-tale of an untouched stub."""
    if value is None or value is Ellipsis or value is NotImplemented:
        if not ANSWER_NAME.fullmatch(name):  # a call or a description: a function's result
            raise AssertionError(
                f"`{name}` returned None (or `...`): this is not answered yet. Replace the `...` "
                "in the stub with your implementation, and make sure the function ends with a "
                "`return` statement."
            )
        raise AssertionError(
            f"`{name}` is still None (or `...`): this is not answered yet. Set `{name}` in its "
            "cell as the question asks, and run that cell."
        )


def _dtype_name(dtype: Any) -> str:
    """Normalise a torch dtype, numpy dtype or Python type to a name such as 'float32'."""
    if isinstance(dtype, torch.dtype):
        return str(dtype).removeprefix("torch.")
    if dtype is float:
        return "float64"
    if dtype is int:
        return "int64"
    if dtype is complex:
        return "complex128"
    if isinstance(dtype, str) and dtype.removeprefix("torch.") == "bfloat16":
        return "bfloat16"  # unknown to numpy
    return np.dtype(dtype).name


def default_tolerance(dtype: Any) -> tuple[float, float]:
    """Return the default ``(rtol, atol)`` for comparing values of ``dtype``.

    ``dtype`` may be a torch dtype, a numpy dtype (or its name) or ``float``/``int``. Floats:
    float64 (1e-7, 1e-9), float32 (1e-4, 1e-5), float16 (1e-2, 1e-3), bfloat16 (2e-2, 1e-2);
    integers and booleans compare exactly: (0.0, 0.0).
    """
    try:
        key = _dtype_name(dtype)
    except TypeError as err:
        raise TypeError(f"default_tolerance: {dtype!r} is not a dtype.") from err
    if key in _TOLERANCES:
        return _TOLERANCES[key]
    if key == "bool" or key.startswith(("int", "uint")):
        return (0.0, 0.0)
    raise TypeError(f"default_tolerance: no tolerance defined for dtype {key}.")


def _describe(x: Any) -> str:
    if isinstance(x, torch.Tensor):
        return f"a torch.Tensor of dtype {_dtype_name(x.dtype)} on {x.device}"
    if isinstance(x, np.ndarray):
        return f"a numpy array of dtype {x.dtype.name}"
    kind = type(x)
    module = "" if kind.__module__ == "builtins" else kind.__module__ + "."
    return f"a {module}{kind.__qualname__}"


def _to_numpy(x: Any, name: str, role: str) -> tuple[np.ndarray, str]:
    """Return ``x`` as a CPU numpy array and the name of its original dtype.

    Raises AssertionError (for the student's value) or TypeError (for the test's expected
    value) when ``x`` is not an array of numbers.
    """
    error: type[Exception] = AssertionError if role == "actual" else TypeError
    if isinstance(x, torch.Tensor):
        key = _dtype_name(x.dtype)
        t = x.detach().cpu().resolve_conj().resolve_neg()
        if t.dtype == torch.bfloat16:  # numpy has no bfloat16
            t = t.to(torch.float32)
        return t.numpy(), key
    if isinstance(x, (np.ndarray, np.generic, numbers.Number, list, tuple)) and not isinstance(
        x, (str, bytes)
    ):
        try:
            arr = np.asarray(x)
        except (ValueError, TypeError, RuntimeError) as err:
            raise error(
                f"`{name}` should be an array or tensor of numbers, but it is {_describe(x)} "
                f"that cannot be turned into one ({err})."
            ) from None
        if arr.dtype.kind in "biufc":
            return arr, arr.dtype.name
    raise error(
        f"`{name}` should be an array or tensor of numbers (numpy array, torch tensor, number "
        f"or list of numbers), but it is {_describe(x)}."
    )


def _fmt_shape(shape: Sequence[int | None]) -> str:
    parts = ["*" if s is None else str(s) for s in shape]
    return "(" + ", ".join(parts) + ("," if len(parts) == 1 else "") + ")"


def _with_hint(message: str, hint: str) -> str:
    hint = hint.strip()
    if not hint:
        return message
    return f"{message}\n{hint if hint.lower().startswith('hint') else 'Hint: ' + hint}"


def _shape_message(
    name: str, actual: tuple[int, ...], expected: Sequence[int | None], hint: str
) -> str:
    message = (
        f"`{name}` has shape {_fmt_shape(actual)} but should have shape {_fmt_shape(expected)}"
    )
    message += " (* means any size)." if None in expected else "."
    if None not in expected:
        if len(actual) >= 2 and tuple(actual) == tuple(expected)[::-1]:
            message += " That is the transposed shape: did you swap two dimensions?"
        elif [s for s in actual if s != 1] == [s for s in expected if s != 1]:
            message += (
                " Only size-1 dimensions differ: look for a missing or extra squeeze/unsqueeze."
            )
        elif int(np.prod(actual)) == int(np.prod(expected)):
            message += (
                " It has the right number of elements, so check your reshape/view and the "
                "order of the dimensions."
            )
        elif len(actual) != len(expected):
            message += (
                f" It has {len(actual)} dimension(s) instead of {len(expected)}: look for a "
                "missing or extra sum, squeeze/unsqueeze or keepdim."
            )
    return _with_hint(message, hint)


def _fmt_value(v: Any) -> str:
    if isinstance(v, (complex, np.complexfloating)):
        return str(complex(v))
    if isinstance(v, (bool, np.bool_)):
        return str(bool(v))
    if isinstance(v, (numbers.Integral, np.integer)):
        return str(int(v))
    text = f"{float(v):.8g}"
    return text if any(c in text for c in ".ein") else text + ".0"  # 2.0, not 2


def _fmt_index(idx: tuple[int, ...]) -> str:
    return "(" + ", ".join(str(int(i)) for i in idx) + ("," if len(idx) == 1 else "") + ")"


def assert_close(
    actual: Any,
    expected: Any,
    *,
    name: str = "result",
    rtol: float | None = None,
    atol: float | None = None,
    hint: str = "",
    check_dtype: bool = False,
) -> None:
    """Assert that ``actual`` equals ``expected`` up to a tolerance, explaining any difference.

    Accepts numpy arrays, torch tensors (on any device; detached and moved to the CPU), Python
    numbers and (nested) lists. Checks, in order: not a stub (None / ``...``), array-like,
    identical shape (no broadcasting), the dtype if ``check_dtype``, no NaN/inf where
    ``expected`` is finite, then values: an element passes if
    ``|actual - expected| <= atol + rtol * |expected|``, computed in float64. NaN matches NaN
    and inf matches an inf of the same sign.

    ``rtol``/``atol`` default to the looser of :func:`default_tolerance` of the two dtypes, so a
    float32 result is never held to float64 precision. ``hint`` is appended to any failure
    message (e.g. "did you forget the bias?").
    """
    check_implemented(actual, name)
    a, a_dtype = _to_numpy(actual, name, "actual")
    e, e_dtype = _to_numpy(expected, "expected", "expected")
    if a.shape != e.shape:
        raise AssertionError(_shape_message(name, a.shape, e.shape, hint))
    if check_dtype and a_dtype != e_dtype:
        raise AssertionError(
            _with_hint(f"`{name}` has dtype {a_dtype} but should have dtype {e_dtype}.", hint)
        )

    (rtol_a, atol_a), (rtol_e, atol_e) = default_tolerance(a_dtype), default_tolerance(e_dtype)
    rtol = max(rtol_a, rtol_e) if rtol is None else float(rtol)
    atol = max(atol_a, atol_e) if atol is None else float(atol)

    work = np.complex128 if "c" in (a.dtype.kind, e.dtype.kind) else np.float64
    a, e = a.astype(work), e.astype(work)
    finite_a, finite_e = np.isfinite(a), np.isfinite(e)

    unexpected = ~finite_a & finite_e
    if unexpected.any():
        first = tuple(np.argwhere(unexpected)[0])
        kind = "NaN" if np.isnan(a[first]) else "inf"
        where = f" at index {_fmt_index(first)}" if first else ""
        raise AssertionError(
            _with_hint(
                f"`{name}` contains {kind}{where} ({int(unexpected.sum())} non-finite value(s) "
                "in total) where the expected values are finite. Look for a division by zero, "
                "log of 0 or a negative number, or an overflowing exp (subtract the max first).",
                hint,
            )
        )

    both_finite = finite_a & finite_e
    with np.errstate(invalid="ignore", over="ignore"):
        abs_diff = np.where(both_finite, np.abs(a - e), 0.0).real
        special_ok = (np.isnan(a) & np.isnan(e)) | (np.isinf(a) & np.isinf(e) & (a == e))
        ok = np.where(both_finite, abs_diff <= atol + rtol * np.abs(e), special_ok)
    if ok.all():
        return

    abs_diff = np.where(both_finite | special_ok, abs_diff, np.inf)
    flat = int(np.argmax(abs_diff))
    idx = tuple(int(i) for i in np.unravel_index(flat, a.shape))
    scale = np.abs(e)
    with np.errstate(divide="ignore", invalid="ignore"):
        rel_diff = np.where(scale > 0, abs_diff / np.where(scale > 0, scale, 1.0), np.inf)
    rel_diff = np.where(abs_diff == 0, 0.0, rel_diff)
    bad = int((~ok).sum())
    where = f" at index {_fmt_index(idx)}" if idx else ""
    message = (
        f"`{name}` does not match the expected values: {bad} of {a.size} element(s) differ by "
        f"more than the tolerance (rtol={rtol:g}, atol={atol:g}).\n"
        f"Largest difference{where}: got {_fmt_value(a[idx])}, expected {_fmt_value(e[idx])}.\n"
        f"Max absolute difference: {float(np.max(abs_diff)):.3g}; "
        f"max relative difference: {float(np.max(rel_diff)):.3g}.\n"
        f"(Your `{name}` is {_describe(actual)}.)"
    )
    raise AssertionError(_with_hint(message, hint))


def assert_shape(x: Any, shape: Sequence[int | None], name: str, *, hint: str = "") -> None:
    """Assert that ``x`` (array, tensor or nested list) has ``shape``; ``None`` matches any size.

    Example: ``assert_shape(logits, (None, 10), "logits")`` accepts any batch size.
    """
    check_implemented(x, name)
    if isinstance(x, torch.Tensor | np.ndarray):
        actual = tuple(int(s) for s in x.shape)
    else:
        actual = _to_numpy(x, name, "actual")[0].shape
    expected = tuple(shape)
    if len(actual) != len(expected) or any(
        want is not None and want != got for got, want in zip(actual, expected, strict=False)
    ):
        raise AssertionError(_shape_message(name, actual, expected, hint))
