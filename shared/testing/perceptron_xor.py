"""Test logic of assignment 01 (perceptron & XOR), shared by its public and hidden tests.

Every student call goes through :func:`call`, so a crash names the call and a hint instead of
showing a bare traceback, and an input array that comes back modified fails. The ``check_*``
functions compare a result with what the prompt promises (tolerances stated in the message);
the ``*_hint`` diagnosers pick the hint from what a wrong result reveals (a sum along another
axis, NaN only in the rows far below the global maximum, a count exactly twice too large...).

Nothing here answers a graded question: the references that would (the perceptron rule, an SGD
loop) live in the assignment's ``grader_only/`` folder, shipped only with the autograder.
"""

from __future__ import annotations

import copy
import numbers
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

from shared.checks import assert_close, check_implemented
from shared.forbid import ForbiddenCallError, forbid
from shared.testing import (
    beside,
    check_defined,
    is_instance,
    run_beside,
    tagged,
    type_name,
)

# Elementwise activations and softmax are compared at float32 precision: a result computed in
# float32 or float64, by any textbook formula, passes; a wrong formula is off by far more.
ACTIVATION_RTOL, ACTIVATION_ATOL = 1e-5, 1e-7
# Losses and parameters after a few float32 SGD steps: float32 round-off, amplified a little.
TRAINING_RTOL, TRAINING_ATOL = 1e-4, 1e-6

LIBRARY_SOFTMAX = (
    "torch.softmax",
    "torch.nn.functional.softmax",
    "torch.Tensor.softmax",
    "torch.special.softmax",
    "scipy.special.softmax",
)
LIBRARY_SIGMOID = (
    "torch.sigmoid",
    "torch.nn.functional.sigmoid",
    "torch.Tensor.sigmoid",
    "torch.special.expit",
    "scipy.special.expit",
)

MODIFIED_INPUT_HINT = tagged(
    "xor.modified_input",
    "Hint: return a new array and leave the arguments as they were. np.asarray does not copy an "
    "array that is already float64, so `z[z < 0] = 0`, `z -= ...` or `out=z` write into the "
    "caller's array; use np.maximum(z, 0.0), z - m, ... instead.",
)


def perceptron_checks(env: Mapping[str, Any]) -> dict[str, Callable[[], None]]:
    """What q4's XOR run needs from q3, for :func:`shared.testing.gate`: that the notebook
    defines ``perceptron_train`` and ``perceptron_predict``. When q3's cell crashed (a syntax
    error defines nothing), q4's training cell could not run either; q3 has lost its points
    already, so q4 does not judge the run again (``best_linear_accuracy`` is judged all the same).
    """

    def defined() -> None:
        missing = [
            n for n in ("perceptron_train", "perceptron_predict") if not callable(env.get(n))
        ]
        assert not missing, f"{', '.join(missing)} not defined"

    return {"q3": defined}


def check_xor_run(xor_accuracy: Any, w_xor: Any, b_xor: Any, perceptron_predict: Any) -> None:
    """q4: ``xor_accuracy`` is the fraction of XOR that ``w_xor, b_xor`` classify correctly."""
    from shared.data import logic_gate

    X, y = logic_gate("xor")
    check_implemented(xor_accuracy, "xor_accuracy")
    assert np.ndim(xor_accuracy) == 0 and float(xor_accuracy) in (0.0, 0.25, 0.5, 0.75), tagged(
        "xor.accuracy_fraction",
        "xor_accuracy should be the fraction of the 4 XOR points classified correctly "
        f"(0, 0.25, 0.5 or 0.75), got {xor_accuracy!r}. "
        "Hint: np.mean(perceptron_predict(X_xor, w_xor, b_xor) == y_xor).",
    )
    pred = np.asarray(
        call(perceptron_predict, X, w_xor, b_xor, label="perceptron_predict(X_xor, w_xor, b_xor)"),
        dtype=float,
    )
    fraction = float(np.mean(pred.ravel() == y)) if pred.size == 4 else None
    assert fraction is None or np.isclose(float(xor_accuracy), fraction), (
        f"Your w_xor, b_xor classify {fraction:.2f} of the XOR points correctly, but xor_accuracy "
        f"is {xor_accuracy}. Hint: the fraction correctly classified, "
        "np.mean(perceptron_predict(X_xor, w_xor, b_xor) == y_xor)."
    )


def _hinted(message: str, hint: str) -> str:
    hint = hint.strip()
    if not hint:
        return message
    return f"{message}\n{hint if hint.lower().startswith('hint') else 'Hint: ' + hint}"


def call(fn: Callable[..., Any], *args: Any, label: str, hint: str = "", **kwargs: Any) -> Any:
    """``fn(*args, **kwargs)``, failing with a message that names ``label`` (the call).

    An exception raised inside ``fn`` becomes an ``AssertionError`` naming the call, the
    exception and ``hint``; a ``None``/``...`` result fails as an untouched stub; a NumPy array
    argument that comes back changed fails (no function of the assignment may modify its inputs).
    """
    check_defined(fn, label)
    before: list[tuple[str, Any, np.ndarray]] = []  # (where, the array fn gets, a copy of it)

    def place(where: str, value: Any) -> Any:
        # An array goes where fn runs (under the grading referee a copy kept in the student's
        # kernel, here the array itself), so that a change fn makes to it can be seen after.
        if not isinstance(value, np.ndarray):
            return value
        sent = beside(fn, value)
        before.append((where, sent, value.copy()))
        return sent

    args = tuple(place(f"argument {i + 1}", a) for i, a in enumerate(args))
    kwargs = {k: place(f"argument `{k}`", v) for k, v in kwargs.items()}
    try:
        out = fn(*args, **kwargs)
    except Exception as exc:  # noqa: BLE001 - any crash of student code becomes a test failure
        message = _hinted(f"{label} raised {type(exc).__name__}: {exc}", hint)
        if isinstance(exc, ForbiddenCallError):  # a library function where the prompt forbids it
            message = tagged("xor.library_call", message)
        raise AssertionError(message) from exc
    check_implemented(out, label)
    for where, sent, snapshot in before:
        array = run_beside(fn, np.copy, sent)  # what fn left in its argument
        if array.shape != snapshot.shape or not np.array_equal(array, snapshot, equal_nan=True):
            raise AssertionError(
                _hinted(f"{label} modified its {where} in place.", MODIFIED_INPUT_HINT)
            )
    return out


def _as_float_array(out: Any, label: str) -> np.ndarray:
    """``out`` as a float64 array, failing unless it is a float NumPy array (or a float)."""
    if isinstance(out, float) or (
        isinstance(out, (np.ndarray, np.generic)) and np.asarray(out).dtype.kind == "f"
    ):
        return np.asarray(out, dtype=np.float64)
    kind = type_name(out)
    if isinstance(out, (np.ndarray, np.generic)):
        kind = f"a NumPy array of dtype {np.asarray(out).dtype}"
    raise AssertionError(
        tagged(
            "xor.float_array",
            f"{label} should return a float NumPy array, got {kind}. Hint: keep the stub's first "
            "line, z = np.asarray(z, dtype=float), and compute with NumPy.",
        )
    )


# --------------------------------------------------------------------------------------------
# q1: activations and softmax


def check_elementwise(
    fn: Callable[..., Any],
    z: np.ndarray,
    expected: np.ndarray,
    *,
    label: str,
    hint: str,
    forbidden: Sequence[str] = (),
) -> None:
    """``fn(z)`` is a NumPy array equal to ``expected`` at float32 precision; ``z`` unchanged.

    ``forbidden`` names library functions the call may not use (see :func:`shared.forbid.forbid`).
    """
    with forbid(*forbidden, reason="Build it from np.exp and arithmetic."):
        out = call(fn, z, label=label, hint=hint)
    _as_float_array(out, label)
    assert_close(out, expected, name=label, rtol=ACTIVATION_RTOL, atol=ACTIVATION_ATOL, hint=hint)


def sigmoid_hint(out: Any, z: np.ndarray) -> str:
    """The hint a wrong sigmoid deserves, judged from its output on ``z``."""
    got = np.asarray(out, dtype=np.float64)
    if got.shape == z.shape and np.allclose(got, 1.0 / (1.0 + np.exp(np.clip(z, -700, 700)))):
        return tagged(
            "xor.sigmoid_sign",
            "Hint: sigmoid(z) = 1 / (1 + exp(-z)); you computed sigma(-z): mind the minus sign.",
        )
    return tagged(
        "xor.sigmoid_formula",
        "Hint: sigmoid(z) = 1 / (1 + exp(-z)); mind the minus sign in the exponent.",
    )


def relu_hint(out: Any, z: np.ndarray) -> str:
    """The hint a wrong ReLU deserves: a reduction (shape lost) or a wrong elementwise rule."""
    if np.shape(out) != z.shape:
        return tagged(
            "xor.relu_reduces",
            "Hint: ReLU is elementwise, np.maximum(z, 0.0); np.max(z, 0) reduces along an axis "
            "instead, which changes the shape.",
        )
    return tagged(
        "xor.relu_formula",
        "Hint: ReLU keeps positive entries and sets the others to 0: np.maximum(z, 0.0).",
    )


def check_sigmoid(sigmoid: Callable[..., Any], z: np.ndarray, *, label: str) -> None:
    """``sigmoid(z)`` equals the logistic function (built without a library sigmoid)."""
    zf = np.asarray(z, dtype=np.float64)
    with np.errstate(over="ignore"):
        expected = 1.0 / (1.0 + np.exp(-zf))
    with forbid(*LIBRARY_SIGMOID, reason="Build the sigmoid from np.exp."):
        out = call(sigmoid, z, label=label, hint="Build the sigmoid from np.exp and arithmetic.")
    _as_float_array(out, label)
    assert_close(
        out,
        expected,
        name=label,
        rtol=ACTIVATION_RTOL,
        atol=ACTIVATION_ATOL,
        hint=sigmoid_hint(out, zf),
    )


def check_relu(relu: Callable[..., Any], z: np.ndarray, *, label: str) -> None:
    """``relu(z)`` equals max(z, 0) elementwise, with the shape of ``z``."""
    out = call(relu, z, label=label, hint="ReLU is elementwise: np.maximum(z, 0.0).")
    _as_float_array(out, label)
    zf = np.asarray(z, dtype=np.float64)
    assert_close(
        out,
        np.maximum(zf, 0.0),
        name=label,
        rtol=ACTIVATION_RTOL,
        atol=ACTIVATION_ATOL,
        hint=relu_hint(out, zf),
    )


def _softmax_with_shift(z: np.ndarray, axis: int, shift: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
        e = np.exp(z - shift)
        return e / np.sum(e, axis=axis, keepdims=True)


def softmax_hint(out: Any, z: np.ndarray, axis: int) -> str:
    """The hint a wrong softmax deserves, judged from its output on ``z`` along ``axis``."""
    generic = tagged(
        "xor.softmax_formula",
        "Hint: subtract the max along `axis` (np.max(z, axis=axis, keepdims=True)) before "
        "np.exp, then divide by the sum along the same `axis` (keepdims=True).",
    )
    got = np.asarray(out, dtype=np.float64)
    if got.shape != z.shape:
        return tagged(
            "xor.softmax_keepdims",
            "Hint: softmax keeps the shape of z; use keepdims=True in np.max and np.sum so they "
            "broadcast back along `axis`.",
        )
    axis = axis % z.ndim
    if not np.all(np.isfinite(got)):
        global_shift = _softmax_with_shift(z, axis, np.max(z))
        if not np.all(np.isfinite(global_shift)) and np.array_equal(
            np.isfinite(global_shift), np.isfinite(got)
        ):
            return tagged(
                "xor.softmax_global_max",
                "Hint: subtract the max of each slice along `axis` (np.max(z, axis=axis, "
                "keepdims=True)), not the max of the whole array: a row around -1000 beside a row "
                "around 1000 then underflows to 0 / 0 = nan.",
            )
        return tagged(
            "xor.softmax_overflow",
            "Hint: exp(1000) overflows to inf and inf / inf is nan; subtract the max along `axis` "
            "(np.max(z, axis=axis, keepdims=True)) before np.exp.",
        )
    for other in range(z.ndim):
        if other != axis and z.shape[other] > 1 and np.allclose(got.sum(axis=other), 1.0):
            return tagged(
                "xor.softmax_axis",
                f"Hint: your result sums to 1 along axis {other}, not along axis={axis} as asked: "
                "pass the same `axis` to np.max and np.sum (keepdims=True).",
            )
    return generic


def check_softmax(
    softmax: Callable[..., Any], z: np.ndarray, *, axis: int | None, label: str
) -> None:
    """``softmax(z, axis=axis)`` (or ``softmax(z)`` when ``axis`` is None, meaning -1) is the
    softmax of ``z`` along that axis, finite, built without a library softmax; ``z`` unchanged."""
    dim = -1 if axis is None else axis
    kwargs = {} if axis is None else {"axis": axis}
    with (
        forbid(*LIBRARY_SOFTMAX, reason="Build softmax from np.exp, np.max and np.sum."),
        np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"),
    ):
        out = call(softmax, z, label=label, **kwargs)
    _as_float_array(out, label)
    expected = torch.softmax(torch.as_tensor(z, dtype=torch.float64), dim=dim).numpy()
    hint = softmax_hint(out, z, dim)
    got = np.asarray(out, dtype=np.float64)
    if got.shape == z.shape and not np.all(np.isfinite(got)):
        raise AssertionError(
            _hinted(
                f"{label} returned non-finite values: {np.array2string(got, precision=4)}.", hint
            )
        )
    assert_close(out, expected, name=label, rtol=ACTIVATION_RTOL, atol=ACTIVATION_ATOL, hint=hint)


# --------------------------------------------------------------------------------------------
# q3: the perceptron

PERCEPTRON_RULE = tagged(
    "xor.perceptron_rule",
    "Hint: visit the examples one at a time in the order rng.permutation(N); update only on "
    "mistakes (y_hat != y): w += lr * (y - y_hat) * x and the bias b += lr * (y - y_hat); stop "
    "after the first epoch with no mistakes.",
)
# What a run that equals one of these mistakes' runs gets told (grader_only builds the runs).
BATCH_HINT = tagged(
    "xor.perceptron_batch",
    "Hint: Rosenblatt's rule is online: update w and b right after each misclassified example, "
    "so the next examples of the same epoch already see the new weights (not one batch update "
    "per epoch).",
)
RESEED_HINT = tagged(
    "xor.perceptron_reseed",
    "Hint: make rng = np.random.default_rng(seed) once, before the first epoch; a new rng every "
    "epoch repeats the same order.",
)
FIXED_ORDER_HINT = tagged(
    "xor.perceptron_fixed_order",
    "Hint: visit the examples in the order rng.permutation(N), drawn anew each epoch, not "
    "0, 1, ..., N-1.",
)
SHUFFLE_HINT = tagged(
    "xor.perceptron_shuffle",
    "Hint: visit the examples in the order rng.permutation(N) each epoch; rng.shuffle of one "
    "index array kept across epochs gives other orders from the second epoch on.",
)
STRICT_HINT = tagged(
    "xor.perceptron_strict",
    "Hint: predict 1 where X @ w + b >= 0 (a point exactly on the boundary is class 1), also "
    "during training.",
)
NO_EARLY_STOP_HINT = tagged(
    "xor.perceptron_early_stop", "Hint: stop after the first epoch with no mistakes."
)

PerceptronRun = tuple[np.ndarray, float, list[int]]


def unpack_perceptron(result: Any, d: int, *, label: str) -> PerceptronRun:
    """``(w, b, errors)`` from a ``perceptron_train`` result, checking the promised types/shapes."""
    if not isinstance(result, (tuple, list)) or len(result) != 3:
        raise AssertionError(f"{label} should return a tuple (w, b, errors), got {result!r:.200}")
    w, b, errors = result
    if np.shape(w) != (d,):
        raise AssertionError(f"{label}: w should have shape ({d},), got shape {np.shape(w)}.")
    if np.ndim(b) != 0:
        raise AssertionError(f"{label}: b should be a single number, got {b!r:.200}.")
    try:
        errors = [int(e) for e in errors]
    except (TypeError, ValueError):
        raise AssertionError(
            f"{label}: errors should be a list with the number of mistakes per epoch, got "
            f"{errors!r:.200}."
        ) from None
    return np.asarray(w, dtype=np.float64), float(b), errors


def _fmt_errors(errors: Sequence[int]) -> str:
    shown = list(errors)[:12]
    return f"{shown}{' ...' if len(errors) > 12 else ''} ({len(errors)} epochs)"


def describe_run(run: PerceptronRun) -> str:
    w, b, errors = run
    return f"w={np.round(w, 6).tolist()}, b={round(float(b), 6)}, errors={_fmt_errors(errors)}"


def same_run(got: PerceptronRun, expected: PerceptronRun) -> bool:
    """Whether two runs agree: identical mistake counts, w and b equal up to float round-off."""
    return (
        list(got[2]) == list(expected[2])
        and np.shape(got[0]) == np.shape(expected[0])
        and np.allclose(got[0], expected[0], rtol=1e-9, atol=1e-12)
        and bool(np.isclose(got[1], expected[1], rtol=1e-9, atol=1e-12))
    )


def same_run_at_some_rate(got: PerceptronRun, expected: PerceptronRun) -> bool:
    """Whether ``got`` is ``expected``'s run at another positive learning rate.

    From ``w = 0, b = 0`` every update is ``lr`` times the update at rate 1 and the step rule
    ignores a positive scale, so a run at rate ``lr`` makes the same mistakes with ``w`` and ``b``
    scaled by ``lr``: identical mistake counts, ``(w, b)`` a positive multiple of the other's.
    """
    if list(got[2]) != list(expected[2]) or np.shape(got[0]) != np.shape(expected[0]):
        return False
    g = np.append(np.asarray(got[0], dtype=float).ravel(), float(got[1]))
    e = np.append(np.asarray(expected[0], dtype=float).ravel(), float(expected[1]))
    if not np.any(e):
        return not np.any(g)
    scale = float(g @ e) / float(e @ e)
    return scale > 0 and bool(np.allclose(g, scale * e, rtol=1e-9, atol=1e-12 * scale))


def check_perceptron_run(
    got: PerceptronRun,
    expected: PerceptronRun,
    *,
    label: str,
    alternatives: Mapping[str, PerceptronRun] = {},  # noqa: B006 - read only
) -> None:
    """``got`` equals ``expected``; else fail with the hint of the first alternative it equals.

    ``alternatives`` maps a hint (what went wrong) to the run that mistake produces on the same
    input, e.g. a batch update or a fixed visiting order.
    """
    if same_run(got, expected):
        return
    hint = next((h for h, run in alternatives.items() if same_run(got, run)), PERCEPTRON_RULE)
    raise AssertionError(
        _hinted(
            f"{label} returned {describe_run(got)}; the perceptron rule gives "
            f"{describe_run(expected)} (mistake counts must match exactly; w and b up to 1e-9).",
            hint,
        )
    )


def check_separable_fit(
    perceptron_train: Callable[..., Any],
    perceptron_predict: Callable[..., Any],
    X: np.ndarray,
    y: np.ndarray,
    *,
    epochs: int,
    seed: int,
    label: str,
) -> PerceptronRun:
    """On separable data training stops right after its first error-free epoch and the learned
    ``w, b`` classify every point; returns the run."""
    result = call(
        perceptron_train, X, y, epochs=epochs, seed=seed, label=label, hint=PERCEPTRON_RULE
    )
    w, b, errors = unpack_perceptron(result, X.shape[1], label=label)
    if not errors or errors[-1] != 0 or 0 in errors[:-1]:
        raise AssertionError(
            _hinted(
                f"{label}: on linearly separable data training should end right after its first "
                f"error-free epoch; errors per epoch were {_fmt_errors(errors)}.",
                PERCEPTRON_RULE,
            )
        )
    if any(e < 0 or e > len(X) for e in errors):
        raise AssertionError(
            f"{label}: errors counts mistakes per epoch, between 0 and N={len(X)}; got "
            f"{_fmt_errors(errors)}."
        )
    pred = call(perceptron_predict, X, w, b, label=f"perceptron_predict(X, w, b) after {label}")
    pred = np.asarray(pred, dtype=np.float64)
    if pred.shape != y.shape or not np.array_equal(pred, y):
        wrong = int(np.sum(pred != y)) if pred.shape == y.shape else "some"
        raise AssertionError(
            _hinted(
                f"After {label}, the learned w={np.round(w, 4).tolist()}, b={b:.4g} misclassify "
                f"{wrong} of the {len(y)} training points.",
                PERCEPTRON_RULE,
            )
        )
    return w, b, errors


def check_predict(
    perceptron_predict: Callable[..., Any],
    X: np.ndarray,
    w: np.ndarray,
    b: float,
    *,
    label: str,
) -> None:
    """``perceptron_predict(X, w, b)`` is 1 where ``X @ w + b >= 0`` and 0 elsewhere, shape (N,).

    ``X``, ``w`` and ``b`` should be small integers or halves, so the pre-activations (and their
    signs, ties included) are exact whatever the order of summation.
    """
    out = call(perceptron_predict, X, w, b, label=label)
    a = X @ w + b
    expected = (a >= 0).astype(np.float64)
    got = np.asarray(out)
    if got.shape != expected.shape:
        raise AssertionError(f"{label} should have shape {expected.shape}, got {got.shape}.")
    got = got.astype(np.float64)
    if np.array_equal(got, expected):
        return
    ties = a == 0
    if np.array_equal(got[~ties], expected[~ties]) and ties.any():
        hint = tagged(
            "xor.predict_boundary",
            "Hint: a point exactly on the boundary (X @ w + b == 0) is class 1: use >= 0, not > 0.",
        )
    elif np.array_equal(got, (X @ w >= 0).astype(np.float64)):
        hint = tagged(
            "xor.predict_bias", "Hint: include the bias: predict 1.0 where X @ w + b >= 0."
        )
    else:
        hint = tagged(
            "xor.predict_formula", "Hint: predict 1.0 where X @ w + b >= 0 and 0.0 elsewhere."
        )
    raise AssertionError(
        _hinted(
            f"{label} returned {got.tolist()} but should return {expected.tolist()} "
            f"(pre-activations X @ w + b = {a.tolist()}).",
            hint,
        )
    )


# --------------------------------------------------------------------------------------------
# q4: the limit of a line


def best_linear_hint(best: float, n_points: int, perfect: float) -> str:
    """The hint a wrong best_linear_accuracy deserves (``perfect``: the right best value)."""
    fraction = abs(best * n_points - round(best * n_points)) <= 1e-9
    if best < perfect:
        return tagged(
            "xor.best_linear_max",
            "Hint: return the best classifier's accuracy, the max (not the mean) over trials of "
            "each column's accuracy."
            + ("" if fraction else " Yours is not a multiple of 1/N: an average over trials?"),
        )
    if not fraction:
        return tagged(
            "xor.best_linear_fraction",
            f"Hint: an accuracy is a fraction of the {n_points} points, a multiple of "
            f"1/{n_points}: compare predictions with y[:, None] and average over axis 0 (points).",
        )
    return tagged(
        "xor.best_linear_formula",
        "Hint: classify with the step rule (X @ W.T + B >= 0) and compare with y[:, None].",
    )


# --------------------------------------------------------------------------------------------
# q5 and q7: networks checked by what they compute, not how they are written


def linear_layers(
    model: nn.Module, shapes: Sequence[tuple[int, int]], *, label: str
) -> list[nn.Linear]:
    """The ``nn.Linear`` layers of ``model`` with ``(in_features, out_features)`` = ``shapes``,
    in the order of ``shapes`` (found by shape, so the order of creation does not matter).
    Under the grading referee ``model`` and the layers are proxies of the kernel's objects."""
    if not is_instance(model, nn.Module):
        raise AssertionError(f"{label} should return an nn.Module, got {type_name(model)}.")
    found = [m for m in model.modules() if is_instance(m, nn.Linear)]
    have = [(m.in_features, m.out_features) for m in found]
    if sorted(have) != sorted(shapes) or len(set(shapes)) != len(shapes):
        want = ", ".join(f"nn.Linear({i}, {o})" for i, o in shapes)
        raise AssertionError(
            f"{label} should contain exactly the layers {want}; its nn.Linear layers are "
            f"{', '.join(f'nn.Linear({i}, {o})' for i, o in have) or 'none'}."
        )
    return [found[have.index(shape)] for shape in shapes]


def reset_linears(layers: Sequence[nn.Linear], seed: int) -> None:
    """Give ``layers`` PyTorch's default initial values drawn from a generator seeded ``seed``,
    so a test's training run does not depend on the order in which a student created them.

    The values are drawn here and copied into the layers where they live (the student's kernel
    when the referee grades, see :func:`shared.testing.run_beside`)."""
    g = torch.Generator().manual_seed(seed)
    values: list[torch.Tensor | None] = []
    for layer in layers:
        bound = 1.0 / layer.in_features**0.5
        for p in (layer.weight, layer.bias):
            values.append(
                None
                if p is None
                else torch.rand(p.shape, generator=g, dtype=p.dtype) * 2 * bound - bound
            )
    if layers:
        run_beside(layers[0], load_linears, list(layers), values)


def load_linears(layers: Sequence[nn.Linear], values: Sequence[torch.Tensor | None]) -> None:
    """Copy ``values`` into the weight and bias of each of ``layers`` in turn (None: no bias)."""
    slots = [p for layer in layers for p in (layer.weight, layer.bias)]
    with torch.no_grad():
        for p, value in zip(slots, values, strict=True):
            if p is not None:
                p.copy_(value)


def check_forward(
    model: nn.Module,
    expected: Callable[[torch.Tensor], torch.Tensor],
    x: torch.Tensor,
    *,
    label: str,
    hint: str | Callable[[Any], str],
) -> torch.Tensor:
    """``model(x)`` equals ``expected(x)`` (the computation the prompt describes, written with
    the model's own layers): shape, then values at float32 precision. ``hint`` may be a function
    of the output that picks the hint. Returns ``model(x)``."""
    call_label = f"{label}(x) for x of shape {tuple(x.shape)}"
    with torch.no_grad():
        out = call(model, x, label=call_label, hint=MLP_HINT)
        want = expected(x)
    if not isinstance(out, torch.Tensor):
        raise AssertionError(f"{call_label} should return a torch.Tensor, got {type_name(out)}.")
    assert_close(
        out,
        want,
        name=call_label,
        rtol=TRAINING_RTOL,
        atol=TRAINING_ATOL,
        hint=hint(out) if callable(hint) else hint,
    )
    return out


MLP_HINT = tagged(
    "xor.mlp_formula",
    "Hint: Linear(2, hidden) -> the activation -> Linear(hidden, 1) -> Sigmoid; the non-linear "
    "activation between the Linear layers is what lets the network solve XOR.",
)


def mlp_hint(
    first: nn.Linear, second: nn.Linear, x: torch.Tensor, activation: str
) -> Callable[[Any], str]:
    """A function of a wrong XOR network's output on ``x`` that names its mistake: no
    non-linearity, the other activation, or no sigmoid at the end."""
    acts = {"tanh": torch.tanh, "relu": torch.relu}
    other = next(name for name in acts if name != activation)

    def hint(out: Any) -> str:
        with torch.no_grad():
            candidates = [
                (
                    torch.sigmoid(second(first(x))),
                    tagged(
                        "xor.mlp_no_activation",
                        "Hint: there is no non-linear activation between the two Linear layers, so "
                        "they collapse into one linear map, and a line cannot solve XOR.",
                    ),
                ),
                (
                    torch.sigmoid(second(acts[other](first(x)))),
                    tagged(
                        "xor.mlp_wrong_activation",
                        f'Hint: activation="{activation}" asks for {activation}; '
                        f"you applied {other}.",
                    ),
                ),
                (
                    second(acts[activation](first(x))),
                    tagged(
                        "xor.mlp_sigmoid",
                        "Hint: end with nn.Sigmoid(), so the outputs are probabilities in (0, 1).",
                    ),
                ),
            ]
        if isinstance(out, torch.Tensor) and tuple(out.shape) == (x.shape[0], 1):
            got = out.detach().cpu().double()
            for candidate, text in candidates:
                if torch.allclose(got, candidate.double(), rtol=1e-4, atol=1e-6):
                    return text
        return MLP_HINT

    return hint


def train_full_batch(model: nn.Module, X: np.ndarray, y: np.ndarray, *, steps: int, lr: float):
    """Full-batch SGD on BCE with the test's own loop (used to test a model, not a loop): the
    model's 0/1 predictions on ``X`` afterwards, shape (N,). The loop runs where the model lives
    (the student's kernel when the referee grades); the outputs are thresholded here."""
    out = run_beside(model, sgd_outputs, model, X, y, steps=steps, lr=lr)
    return (out > 0.5).float().reshape(-1)


def sgd_outputs(model: nn.Module, X: np.ndarray, y: np.ndarray, *, steps: int, lr: float):
    """``model(X)`` after ``steps`` full-batch SGD steps on BCE (the loop of
    :func:`train_full_batch`): the raw outputs, shape (N, 1)."""
    Xt = torch.as_tensor(X, dtype=torch.float32)
    yt = torch.as_tensor(y, dtype=torch.float32).reshape(-1, 1)
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    for _ in range(steps):
        opt.zero_grad()
        nn.functional.binary_cross_entropy(model(Xt), yt).backward()
        opt.step()
    with torch.no_grad():
        return model(Xt)


def count_hint(module: nn.Module, got: Any) -> str:
    """The hint a wrong trainable-parameter count of ``module`` deserves, from its value."""
    params = list(module.parameters())
    trainable = [p for p in params if p.requires_grad]
    right = sum(p.numel() for p in trainable)
    try:
        got = int(got)
    except (TypeError, ValueError):
        return tagged(
            "xor.count_int", "Hint: return a Python int: sum(p.numel() for p in ... ) is one."
        )
    candidates = [
        (
            sum(p.numel() for p in params),
            tagged(
                "xor.count_frozen",
                "Hint: count only trainable parameters, those with p.requires_grad; frozen ones "
                "(requires_grad=False) are not trained.",
            ),
        ),
        (
            sum(p.numel() for p in trainable if p.dim() > 1),
            tagged(
                "xor.count_biases",
                "Hint: include the biases (and every other 1-D parameter, such as a norm's scale).",
            ),
        ),
        (
            len(trainable),
            tagged("xor.count_tensors", "Hint: count scalars, p.numel(), not parameter tensors."),
        ),
        (
            sum(p.numel() for m in module.modules() for p in m.parameters() if p.requires_grad),
            tagged(
                "xor.count_twice_modules",
                "Hint: some parameters were counted more than once: module.modules() already "
                "visits every sub-module and m.parameters() includes its children again; sum "
                "over module.parameters() once.",
            ),
        ),
        (
            2 * right,
            tagged(
                "xor.count_twice",
                "Hint: your count is exactly twice the right one: each parameter counted twice.",
            ),
        ),
    ]
    for value, hint in candidates:
        if value != right and got == value:
            return hint
    return tagged(
        "xor.count_formula",
        "Hint: sum p.numel() over module.parameters() that have p.requires_grad.",
    )


def check_count(count_parameters: Callable[..., Any], module: nn.Module, *, label: str) -> None:
    """``count_parameters(module)`` is the number of trainable scalars, as an int."""
    got = call(count_parameters, module, label=label)
    expected = sum(p.numel() for p in module.parameters() if p.requires_grad)
    if not isinstance(got, numbers.Integral) or isinstance(got, bool):
        raise AssertionError(
            tagged(
                "xor.count_int_type",
                f"{label} should return an int, got {got!r:.100} ({type_name(got)}). "
                "Hint: p.numel() is an int, and so is a sum of them.",
            )
        )
    if int(got) != expected:
        raise AssertionError(
            _hinted(f"{label} should be {expected}, got {int(got)}.", count_hint(module, got))
        )


# --------------------------------------------------------------------------------------------
# q6: the training loop

TRAIN_HINT = tagged(
    "xor.train_formula",
    "Hint: each step is optimizer.zero_grad(); loss = nn.BCELoss()(model(X), y); loss.backward(); "
    "optimizer.step(), recording loss.item() of that forward pass.",
)


def snapshot(model: nn.Module) -> list[torch.Tensor]:
    """float64 CPU copies of ``model``'s parameters."""
    return [p.detach().cpu().double().clone() for p in model.parameters()]


def one_sgd_step(model: nn.Module, X: np.ndarray, y: np.ndarray, lr: float):
    """One step of the prose's update rule p <- p - lr * dL/dp (BCE, float32) on a copy of
    ``model``: returns (the loss before the step, the MSE before the step, the stepped copy)."""
    twin = copy.deepcopy(model)
    Xt = torch.as_tensor(X, dtype=torch.float32)
    yt = torch.as_tensor(y, dtype=torch.float32).reshape(-1, 1)
    out = twin(Xt)
    loss = nn.functional.binary_cross_entropy(out, yt)
    mse = nn.functional.mse_loss(out, yt).item()
    grads = torch.autograd.grad(loss, list(twin.parameters()))
    with torch.no_grad():
        for p, g in zip(twin.parameters(), grads, strict=True):
            p -= lr * g
    return loss.item(), mse, twin


def unpack_losses(losses: Any, epochs: int, *, label: str) -> list[float]:
    """The list of ``epochs`` Python floats a training function promises."""
    if not isinstance(losses, list):
        raise AssertionError(
            f"{label} should return a list of {epochs} floats, got {type_name(losses)}."
        )
    if len(losses) != epochs:
        raise AssertionError(
            f"{label} should return {epochs} losses, one per epoch, got {len(losses)}."
        )
    if not all(isinstance(v, float) for v in losses):
        kinds = sorted({type_name(v) for v in losses})
        raise AssertionError(
            tagged(
                "xor.train_item",
                f"{label} should return Python floats, got {', '.join(kinds)}. Hint: append "
                "loss.item(), which also detaches the value from the graph.",
            )
        )
    return losses


def training_hint(
    losses: Sequence[float],
    expected: Sequence[float],
    *,
    first_mse: float | None = None,
    after_first_step: float | None = None,
) -> str:
    """The hint a wrong list of losses deserves: another loss, losses recorded after the update,
    or a first step that agrees and later ones that do not (gradients piling up)."""

    def close(a: float, b: float) -> bool:
        return abs(a - b) <= TRAINING_ATOL + TRAINING_RTOL * abs(b)

    if first_mse is not None and losses and close(losses[0], first_mse):
        return tagged(
            "xor.train_bce",
            "Hint: the loss should be the binary cross-entropy, nn.BCELoss(), not MSE.",
        )
    if after_first_step is not None and losses and close(losses[0], after_first_step):
        return tagged(
            "xor.train_loss_after_step",
            "Hint: record each step's loss before optimizer.step(), from that step's forward "
            "pass; yours are the losses after each update.",
        )
    if losses and expected and close(losses[0], expected[0]):
        return tagged(
            "xor.train_zero_grad",
            "Hint: the first step is right and the later ones are not: call optimizer.zero_grad() "
            "in every step, or backward() adds this step's gradient to all earlier ones.",
        )
    return TRAIN_HINT


def check_training(
    losses: Sequence[float],
    params: Sequence[torch.Tensor],
    expected_losses: Sequence[float],
    expected_params: Sequence[torch.Tensor],
    *,
    label: str,
    hint: str,
) -> None:
    """Losses and parameters after a training call equal a reference run's (float32 precision)."""
    assert_close(
        torch.tensor(list(losses), dtype=torch.float64),
        torch.tensor(list(expected_losses), dtype=torch.float64),
        name=f"the losses returned by {label}",
        rtol=TRAINING_RTOL,
        atol=TRAINING_ATOL,
        hint=hint,
    )
    for i, (p, q) in enumerate(zip(params, expected_params, strict=True)):
        assert_close(
            p,
            q,
            name=f"parameter tensor {i} of the model after {label}",
            rtol=TRAINING_RTOL,
            atol=TRAINING_ATOL,
            hint=hint,
        )
