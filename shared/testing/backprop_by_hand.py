"""Test logic of assignment 02 (backprop by hand): cases, referees, diagnosers.

Public and hidden tests call the same ``check_*`` functions with different inputs. The referees
are PyTorch's autograd (which every question forbids the student) and exact derivatives, never a
NumPy answer or a finite-difference routine: the finite differences are question 4, and the
rules that would fill in question 1 live in the assignment's ``grader_only/`` folder.

Later questions are tested with the earlier questions' functions replaced by these referees
(:func:`substitute`, :func:`referee_namespace`), so that one mistake costs one question.
Every failure names the call and its configuration; a hint appears only when the output shows
the mistake it names (:func:`diagnose`).
"""

# ruff: noqa: E501 - failure messages and hints are prose, kept one sentence a line

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from shared.checks import check_implemented
from shared.forbid import forbid
from shared.testing import (
    beside,
    called_none,
    not_defined_message,
    run_beside,
    substitute,
    tagged,
)

NO_AUTOGRAD = ("torch.autograd.grad", "torch.autograd.backward")
NO_FD_HELPER = ("grader_support.gradcheck.numerical_gradient", "grader_support.gradcheck._scalar")


def _fd_helpers_here() -> tuple[str, ...]:
    """The grader's own finite differences where this runs: present only while grading."""
    try:
        import grader_support.gradcheck  # noqa: F401
    except ImportError:
        return ()
    return NO_FD_HELPER


def _fd_helpers(fn: Any) -> tuple[str, ...]:
    """The grader's finite differences to forbid around ``fn``: those that both the code that
    runs ``fn`` and this process can reach. Graded in the notebook, that is all of them; under
    the grading referee the student's kernel never sees ``grader_support`` (it stays on the
    grading side), so there is nothing there to forbid, and a name the kernel cannot resolve
    would make every call fail."""
    here = _fd_helpers_here()
    if not here:
        return ()
    there = run_beside(fn, _fd_helpers_here)
    return tuple(name for name in here if isinstance(there, (tuple, list)) and name in there)


def _read_back(kept: Any) -> np.ndarray:
    """A copy of the array ``kept`` (an array, or what :func:`beside` made of one) as it is now."""
    return np.array(kept[...])


NO_AUTOGRAD_REASON = "Compute the gradients yourself with NumPy; autograd is the referee here."
NO_FD_REASON = "Write the finite differences yourself: that is this question."
UNIT_ROUNDOFF = 2.0**-53  # float64

# Two values are "the same" for a diagnosis when they agree this well (far tighter than any
# difference between a correct result and the slip the diagnosis names).
_SAME_RTOL, _SAME_ATOL = 1e-6, 1e-9


# --------------------------------------------------------------------------------------------
# Calling student code, substituting referees, diagnosing
# --------------------------------------------------------------------------------------------


def _with_hint(message: str, hint: str) -> str:
    hint = hint.strip()
    if not hint:
        return message
    return f"{message}\n{hint if hint.lower().startswith('hint') else 'Hint: ' + hint}"


@contextmanager
def student_code(what: str, hint: str = "") -> Iterator[None]:
    """Turn an exception raised by the student's code into a failure that names the call."""
    try:
        yield
    except AssertionError:
        raise
    except Exception as err:  # noqa: BLE001 - any error of the student's code becomes a message
        if called_none(err, wrapper_frames=1):  # the function is None: its cell has not run
            raise AssertionError(not_defined_message(what)) from None
        text = str(err) or "(no message)"
        raise AssertionError(
            _with_hint(f"{what} raised {type(err).__name__}: {text}", hint)
        ) from None


def same(a: Any, b: Any) -> bool:
    """Whether two arrays have the same shape and agree to diagnosis precision."""
    try:
        x, y = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    except (TypeError, ValueError):
        return False
    if x.shape != y.shape:
        return False
    with np.errstate(all="ignore"):
        return bool(np.allclose(x, y, rtol=_SAME_RTOL, atol=_SAME_ATOL))


def diagnose(yours: Any, expected: Any, slips: Sequence[tuple[Any, str]]) -> str:
    """The hint of the first slip whose value ``yours`` matches (and the right answer does not).

    ``slips``: ``(value the slip would give, hint naming the slip)`` pairs. Returns "" when no
    slip explains the output: then the message states the rule, and names no cause.
    """
    for wrong, hint in slips:
        if wrong is not None and same(yours, wrong) and not same(expected, wrong):
            return hint
    return ""


def as_array(value: Any, name: str) -> np.ndarray:
    """``value`` as a float64 array, or a failure that says what it was."""
    check_implemented(value, name)
    if isinstance(value, torch.Tensor):
        raise AssertionError(
            f"`{name}` is a torch.Tensor; this assignment works in NumPy: return a NumPy array."
        )
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise AssertionError(
            f"`{name}` should be a NumPy array of numbers, got {type(value).__name__}: "
            f"{value!r:.80}"
        ) from None
    return arr


def as_number(value: Any, name: str) -> float:
    """``value`` as a finite Python float, or a failure that says what it was."""
    check_implemented(value, name)
    if isinstance(value, (str, bytes)):
        raise AssertionError(f"`{name}` should be a number, got the text {value!r:.80}.")
    if np.ndim(value) != 0 and np.size(value) != 1:
        raise AssertionError(
            f"`{name}` should be a single number, got an array of shape {np.shape(value)}."
        )
    try:
        number = float(np.asarray(value, dtype=np.float64).reshape(()))
    except (TypeError, ValueError):
        raise AssertionError(f"`{name}` should be a number, got {value!r:.80}") from None
    return number


def assert_matches(
    name: str,
    yours: Any,
    expected: np.ndarray,
    *,
    rule: str = "",
    slips: Sequence[tuple[Any, str]] = (),
    shape_hint: str = "",
    rtol: float = 1e-8,
    against: str = "torch.autograd",
) -> None:
    """Compare ``yours`` with the referee's ``expected`` (float64), naming any slip it shows.

    An entry passes if ``|yours - expected| <= rtol * |expected| + rtol * 1e-2 * scale``, with
    ``scale = max(1, max |expected|)``: relative where values are large, absolute near zero,
    where different correct formulas (``1 - tanh(x)**2`` vs ``1 / cosh(x)**2``) legitimately
    differ by round-off of the array's scale.
    """
    a = as_array(yours, name)
    expected = np.asarray(expected, dtype=np.float64)
    tail = f"\n{rule}" if rule else ""
    if a.shape != expected.shape:
        hint = diagnose(a, expected, slips) or shape_hint
        if not hint and a.ndim >= 2 and a.shape == expected.shape[::-1]:
            hint = "That is the transposed shape: a transpose is missing or misplaced."
        raise AssertionError(
            _with_hint(
                f"`{name}` has shape {a.shape} but should have shape {expected.shape}.", hint
            )
            + tail
        )
    if not np.isfinite(a).all():
        first = tuple(int(i) for i in np.argwhere(~np.isfinite(a))[0])
        raise AssertionError(
            _with_hint(
                f"`{name}` contains {a[first]} at index {first}; the referee's values are finite.",
                diagnose(a, expected, slips),
            )
            + tail
        )
    scale = max(1.0, float(np.max(np.abs(expected)))) if expected.size else 1.0
    atol = rtol * 1e-2 * scale
    diff = np.abs(a - expected)
    bad = diff > rtol * np.abs(expected) + atol
    if not bad.any():
        return
    rel = diff / np.maximum(np.abs(a) + np.abs(expected), 1e-300)
    worst = np.where(bad, rel, -1.0)
    idx = tuple(int(i) for i in np.unravel_index(int(np.argmax(worst)), a.shape))
    message = (
        f"`{name}` does not match {against}: "
        f"{int(bad.sum())} of {a.size} entries differ; largest relative error "
        f"{float(rel[idx]):.3g} "
        f"at index {idx}: yours {a[idx]:.10g}, expected {expected[idx]:.10g} "
        f"(tolerance |diff| <= {rtol:g} |expected| + {atol:.2g})."
    )
    raise AssertionError(_with_hint(message, diagnose(a, expected, slips)) + tail)


def tuple_of(result: Any, n: int, call: str, names: str) -> tuple:
    """``result`` unpacked into ``n`` values, or a failure naming what should be returned."""
    check_implemented(result, call)
    if not isinstance(result, (tuple, list)) or len(result) != n:
        got = (
            f"{len(result)} values" if isinstance(result, (tuple, list)) else type(result).__name__
        )
        raise AssertionError(f"{call} should return a tuple {names}, got {got}.")
    return tuple(result)


# --------------------------------------------------------------------------------------------
# q1: the 2-2-1 network by hand
# --------------------------------------------------------------------------------------------

HAND_NETWORK = {
    "x1": 0.5, "x2": -1.0, "t": 1.0, "w11": 0.4, "w12": 0.3, "b1": 0.2,
    "w21": -0.6, "w22": 0.2, "b2": -0.1, "v1": 0.7, "v2": -0.5, "c": 0.2, "eta": 0.5,
}  # fmt: skip
HAND_KEYS = (
    "a1", "a2", "f1", "f2", "a_out", "y", "loss", "dL_dy", "delta_out", "delta1", "delta2",
    "dL_dv1", "dL_dv2", "dL_dc", "dL_dw11", "dL_dw12", "dL_dw21", "dL_dw22", "dL_db1",
    "dL_db2", "v1_new", "w11_new",
)  # fmt: skip


def hand_tolerance(expected: float) -> float:
    """What a hand computation kept to four decimals may be off by: 2e-4 + 0.1 % of the value."""
    return 2e-4 + 1e-3 * abs(expected)


@dataclass(frozen=True)
class Rule:
    """One entry of ``hand``: what the rule gives from the student's own earlier numbers."""

    key: str
    expected: float
    rule: str
    slips: tuple[tuple[float, str], ...] = ()


def hand_values(hand: Any, keys: Sequence[str]) -> dict[str, float]:
    """The entries ``keys`` of the student's dict ``hand`` as floats, or a failure naming them."""
    check_implemented(hand, "hand")
    if not isinstance(hand, dict):
        raise AssertionError(f"`hand` should be a dict of numbers, got {type(hand).__name__}.")
    missing = [k for k in keys if k not in hand]
    if missing:
        raise AssertionError(
            f"`hand` lacks the entries {missing}; fill in every hand[...] line of the question "
            "cell."
        )
    values = {}
    for k in keys:
        values[k] = as_number(hand[k], f'hand["{k}"]')
        if not math.isfinite(values[k]):
            raise AssertionError(f'hand["{k}"] should be a finite number, got {values[k]}.')
    return values


def check_rules(values: dict[str, float], rules: Sequence[Rule]) -> None:
    """Fail listing every entry that is off its rule by more than :func:`hand_tolerance`."""
    problems = []
    for r in rules:
        got = values[r.key]
        if abs(got - r.expected) <= hand_tolerance(r.expected):
            continue
        hint = next(
            (h for wrong, h in r.slips if abs(got - wrong) <= hand_tolerance(wrong)
             and abs(r.expected - wrong) > hand_tolerance(wrong)),
            "",
        )  # fmt: skip
        problems.append(
            f'hand["{r.key}"] = {got:.6g}, but {r.rule} gives {r.expected:.6g}.'
            + (f" {hint if hint.startswith('Hint') else 'Hint: ' + hint}" if hint else "")
        )
    if problems:
        raise AssertionError(
            f"{len(problems)} value(s) of `hand` are off by more than the tolerance "
            "2e-4 + 0.1% of the value (each is checked against your own earlier numbers):\n"
            + "\n".join(problems)
        )


def _sig(z: float) -> float:
    return float(_sigmoid(np.float64(z)))


def forward_rules(v: dict[str, float]) -> list[Rule]:
    """The forward pass of the network, each entry from the student's own earlier entries."""
    n = HAND_NETWORK
    rules = []
    for j in "12":
        w1, w2, b = n[f"w{j}1"], n[f"w{j}2"], n[f"b{j}"]
        a = f"a{j}"
        rules.append(
            Rule(
                a,
                w1 * n["x1"] + w2 * n["x2"] + b,
                f"{a} = w{j}1 x1 + w{j}2 x2 + b{j}",
                (
                    (w1 * n["x1"] + w2 * n["x2"], tagged("bp.hand_hidden_bias", f"Hint: include the bias b{j} = {b}.")),
                    (w1 * n["x2"] + w2 * n["x1"] + b, tagged("bp.hand_weight_index", f"Hint: w{j}i multiplies x_i: w{j}1 x1 + w{j}2 x2.")),
                ),
            )
        )  # fmt: skip
        rules.append(
            Rule(
                f"f{j}",
                _sig(v[a]),
                f"f{j} = sigma(a{j}) with your a{j} = {v[a]:.6g}",
                (
                    (v[a], tagged("bp.hand_activation", "Hint: f is the activation sigma(a), not the pre-activation a.")),
                    (_sig(-v[a]), tagged("bp.hand_sigmoid_sign", "Hint: sigma(a) = 1 / (1 + exp(-a)): mind the sign in the exponent.")),
                ),
            )
        )  # fmt: skip
    rules.append(
        Rule(
            "a_out",
            n["v1"] * v["f1"] + n["v2"] * v["f2"] + n["c"],
            f"a_out = v1 f1 + v2 f2 + c with your f1 = {v['f1']:.6g}, f2 = {v['f2']:.6g}",
            (
                (n["v1"] * v["a1"] + n["v2"] * v["a2"] + n["c"],
                 tagged("bp.hand_output_inputs", "Hint: the output neuron sees the hidden activations f1, f2, not the "
                 "pre-activations a1, a2.")),
                (n["v1"] * v["f1"] + n["v2"] * v["f2"], tagged("bp.hand_output_bias", "Hint: include the output bias c = 0.2.")),
            ),
        )
    )  # fmt: skip
    rules.append(
        Rule(
            "y",
            _sig(v["a_out"]),
            f"y = sigma(a_out) with your a_out = {v['a_out']:.6g}",
            (
                (
                    v["a_out"],
                    tagged(
                        "bp.hand_output_sigmoid",
                        "Hint: the output neuron is a sigmoid too: y = sigma(a_out).",
                    ),
                ),
            ),
        )
    )
    return rules


# --------------------------------------------------------------------------------------------
# q2: layers, refereed by torch.autograd
# --------------------------------------------------------------------------------------------

ACTIVATIONS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "Sigmoid": torch.sigmoid,
    "Tanh": torch.tanh,
    "ReLU": torch.relu,
}
ACTIVATION_RULES = {
    "Sigmoid": "Rule: dx = dout * s * (1 - s) with s = sigma(x) the cached output.",
    "Tanh": "Rule: dx = dout * (1 - u**2) with u = tanh(x) the cached output.",
    "ReLU": "Rule: dx = dout * (x > 0): the gradient passes where the input was positive, and is 0 elsewhere (0 at x = 0 exactly).",
}  # fmt: skip
LINEAR_RULES = {
    "out": "Rule: out = x @ W + b, shape (N, D_out).",
    "dx": "Rule: dx = dout @ W.T, shape (N, D_in).",
    "dW": "Rule: dW = x.T @ dout, shape (D_in, D_out).",
    "db": "Rule: db = dout summed over the batch (axis 0), shape (D_out,).",
}


def _t(a: np.ndarray) -> torch.Tensor:
    return torch.tensor(np.asarray(a, dtype=np.float64), requires_grad=True)


def torch_linear(x: np.ndarray, W: np.ndarray, b: np.ndarray, dout: np.ndarray) -> dict:
    """out, dx, dW, db of ``x @ W + b`` under the upstream gradient ``dout``, by autograd."""
    xt, Wt, bt = _t(x), _t(W), _t(b)
    out = xt @ Wt + bt
    dx, dW, db = torch.autograd.grad(out, (xt, Wt, bt), torch.tensor(dout, dtype=torch.float64))
    return {"out": out.detach().numpy(), "dx": dx.numpy(), "dW": dW.numpy(), "db": db.numpy()}


def torch_activation(kind: str, x: np.ndarray, dout: np.ndarray) -> dict:
    """out and dx of the elementwise activation ``kind`` under ``dout``, by autograd."""
    xt = _t(x)
    out = ACTIVATIONS[kind](xt)
    (dx,) = torch.autograd.grad(out, (xt,), torch.tensor(dout, dtype=torch.float64))
    return {"out": out.detach().numpy(), "dx": dx.numpy()}


def activation_input(rng: np.random.Generator, shape: tuple[int, ...], scale: float) -> np.ndarray:
    """Normal inputs of standard deviation ``scale`` with a few entries exactly 0 (ReLU's kink)."""
    x = rng.normal(scale=scale, size=shape)
    flat = x.reshape(-1)
    flat[rng.choice(flat.size, size=max(1, flat.size // 5), replace=False)] = 0.0
    return x


def check_linear(
    Linear: Any, n: int, d_in: int, d_out: int, seed: int, *, refresh: bool = False
) -> None:
    """Linear(d_in, d_out) with random W, b: forward, backward's dx, dW, db against autograd.

    ``refresh``: run a forward on another batch first, so backward must use the latest cache.
    """
    rng = np.random.default_rng(seed)
    x_old = rng.normal(size=(n + 1, d_in))
    x, W, b = rng.normal(size=(n, d_in)), rng.normal(size=(d_in, d_out)), rng.normal(size=d_out)
    dout = rng.normal(size=(n, d_out))
    where = f"Linear({d_in}, {d_out}) with x of shape {(n, d_in)} (seed {seed})"
    with student_code(f"Linear({d_in}, {d_out}, rng={seed})"):
        layer = Linear(d_in, d_out, rng=seed)
    layer.W, layer.b = W.copy(), b.copy()
    with forbid(*NO_AUTOGRAD, reason=NO_AUTOGRAD_REASON):
        if refresh:
            with student_code(f"{where}: forward on an earlier batch of shape {x_old.shape}"):
                layer.forward(x_old.copy())
        with student_code(f"{where}: forward(x)"):
            out = layer.forward(x.copy())
        check_implemented(out, f"{where}: forward(x)")
        with student_code(f"{where}: backward(dout)"):
            dx = layer.backward(dout.copy())
    ref = torch_linear(x, W, b, dout)
    assert_matches(
        f"{where}: forward(x)",
        out,
        ref["out"],
        rule=LINEAR_RULES["out"],
        slips=[(x @ W, tagged("bp.linear_bias", "Hint: include the bias: out = x @ W + b."))],
    )
    assert_matches(
        f"{where}: backward(dout) returned dx",
        dx,
        ref["dx"],
        rule=LINEAR_RULES["dx"],
        slips=[
            (
                dout @ W if d_in == d_out else None,
                tagged(
                    "bp.linear_dx_transpose",
                    "Hint: dx = dout @ W.T: the transpose of W is missing.",
                ),
            )
        ],
    )
    stale = tagged(
        "bp.linear_stale_cache", "Hint: backward must use the x cached by the latest forward call."
    )
    assert_matches(
        f"{where}: layer.dW after backward",
        getattr(layer, "dW", None),
        ref["dW"],
        rule=LINEAR_RULES["dW"],
        slips=[
            (
                dout.T @ x,
                tagged(
                    "bp.weight_grad_transposed",
                    "Hint: that is dout.T @ x, the transpose of dW: a transpose is misplaced.",
                ),
            ),
            (
                x.T @ dout / n,
                tagged(
                    "bp.weight_grad_mean",
                    "Hint: the weight gradient sums over the batch; do not divide by N.",
                ),
            ),
        ]
        + ([(x_old[:n].T @ dout, stale)] if refresh else []),
    )
    assert_matches(
        f"{where}: layer.db after backward",
        getattr(layer, "db", None),
        ref["db"],
        rule=LINEAR_RULES["db"],
        slips=[
            (dout, tagged("bp.bias_grad_not_summed", "Hint: the bias is shared by all N examples, so its gradient is dout summed over the batch (axis 0).")),
            (dout.mean(axis=0), tagged("bp.bias_grad_mean", "Hint: db is dout summed over the batch, not averaged.")),
            (dout.sum(axis=1), tagged("bp.bias_grad_axis", "Hint: db is dout summed over the batch, axis 0 (not axis 1).")),
        ],
        shape_hint=tagged("bp.bias_grad_shape", "Hint: the bias is shared by all N examples, so its gradient is dout summed over the batch (axis 0), shape (D_out,)."),
    )  # fmt: skip


def activation_slips(kind: str, x: np.ndarray, dout: np.ndarray) -> list[tuple[np.ndarray, str]]:
    """Backward-pass slips of an activation layer, as (the dx they give, hint)."""
    slips = [
        (
            dout,
            tagged(
                "bp.activation_derivative_missing",
                "Hint: the activation derivative must multiply dout: dx = dout * f'(x).",
            ),
        )
    ]
    if kind == "Sigmoid":
        s = 1.0 / (1.0 + np.exp(-x))
        s2 = 1.0 / (1.0 + np.exp(-s))
        slips += [
            (dout * s2 * (1 - s2), tagged("bp.sigmoid_twice", "Hint: s is already sigma(x); sigma(s) * (1 - sigma(s)) takes the sigmoid twice.")),
            (dout * x * (1 - x), tagged("bp.sigmoid_of_input", "Hint: the derivative is s * (1 - s) of the output s = sigma(x), not of the input x.")),
        ]  # fmt: skip
    elif kind == "Tanh":
        u = np.tanh(x)
        slips += [
            (dout * (1 - u), tagged("bp.tanh_not_squared", "Hint: the derivative of tanh is 1 - out**2, squared.")),
            (dout * (1 - x**2), tagged("bp.tanh_of_input", "Hint: the derivative is 1 - out**2 of the output out = tanh(x), not of the input x.")),
        ]  # fmt: skip
    elif kind == "ReLU":
        slips += [
            (dout * (x >= 0), tagged("bp.relu_mask_at_zero", "Hint: at exactly x = 0 use the derivative 0, like PyTorch: the mask is x > 0, not x >= 0.")),
            (x * (x > 0), tagged("bp.relu_forward_output", "Hint: dx multiplies the upstream gradient dout by the mask (x > 0); it is not the forward output.")),
        ]  # fmt: skip
    return slips


def check_activation(cls: Any, kind: str, x: np.ndarray, dout: np.ndarray) -> None:
    """An activation layer's forward and backward on ``x`` against autograd."""
    where = f"{kind}() on x of shape {x.shape}"
    if kind == "ReLU" and (x == 0).any():
        where += " (some entries exactly 0)"
    with student_code(f"{kind}()"):
        layer = cls()
    with forbid(*NO_AUTOGRAD, reason=NO_AUTOGRAD_REASON):
        with student_code(f"{where}: forward(x)"):
            out = layer.forward(x.copy())
        check_implemented(out, f"{where}: forward(x)")
        with student_code(f"{where}: backward(dout)"):
            dx = layer.backward(dout.copy())
    ref = torch_activation(kind, x, dout)
    assert_matches(f"{where}: forward(x)", out, ref["out"], rule=ACTIVATION_RULES[kind])
    assert_matches(
        f"{where}: backward(dout) returned dx",
        dx,
        ref["dx"],
        rule=ACTIVATION_RULES[kind],
        slips=activation_slips(kind, x, dout),
    )


# --------------------------------------------------------------------------------------------
# q3: losses
# --------------------------------------------------------------------------------------------


def torch_mse(pred: np.ndarray, target: np.ndarray) -> tuple[float, np.ndarray]:
    pt = _t(pred)
    loss = F.mse_loss(pt, torch.tensor(target, dtype=torch.float64))
    (grad,) = torch.autograd.grad(loss, (pt,))
    return loss.item(), grad.numpy()


def torch_cross_entropy(logits: np.ndarray, labels: np.ndarray) -> tuple[float, np.ndarray]:
    zt = _t(logits)
    loss = F.cross_entropy(zt, torch.tensor(labels, dtype=torch.long))
    (grad,) = torch.autograd.grad(loss, (zt,))
    return loss.item(), grad.numpy()


def _scalar_loss(loss: Any, call: str) -> float:
    check_implemented(loss, f"{call}[0], the loss")
    if np.ndim(loss) != 0:
        raise AssertionError(
            tagged(
                "bp.loss_not_scalar",
                f"{call}[0], the loss, should be a single number (the mean), got an array of shape "
                f"{np.shape(loss)}. Hint: take the mean over the batch.",
            )
        )
    return as_number(loss, f"{call}[0], the loss")


def check_mse(mse_loss: Any, pred: np.ndarray, target: np.ndarray) -> None:
    """mse_loss(pred, target) -> (loss, dpred) against F.mse_loss and autograd."""
    call = "mse_loss(pred, target)"
    shape = f" for inputs of shape {pred.shape}"
    with forbid(*NO_AUTOGRAD, reason=NO_AUTOGRAD_REASON), student_code(call + shape):
        result = mse_loss(pred.copy(), target.copy())
    loss, dpred = tuple_of(result, 2, call + shape, "(loss, dpred)")
    loss = _scalar_loss(loss, call + shape)
    ref_loss, ref_grad = torch_mse(pred, target)
    diff = pred - target
    m = diff.size
    loss_slips = [
        (
            0.5 * ref_loss,
            tagged(
                "bp.mse_half",
                "Hint: no factor 1/2 here: the loss is the mean of (pred - target)**2.",
            ),
        ),
        (
            float(np.sum(diff**2)),
            tagged("bp.mse_sum", "Hint: take the mean over all M entries, not the sum."),
        ),
        (
            float(np.mean(np.abs(diff))),
            tagged("bp.mse_abs", "Hint: square the differences: (pred - target)**2."),
        ),
    ]
    if diff.ndim >= 2:
        loss_slips.append(
            (float(np.mean(np.sum(diff**2, axis=-1))),
             tagged("bp.mse_mean_rows", "Hint: the mean is over all M = pred.size entries, not over the rows only."))
        )  # fmt: skip
    assert_matches(
        f"{call}[0], the loss,{shape}",
        loss,
        np.float64(ref_loss),
        rule="Rule: L = mean of (pred - target)**2 over all M entries.",
        slips=loss_slips,
        rtol=1e-10,
    )
    assert_matches(
        f"{call}[1], the gradient dpred,{shape}",
        dpred,
        ref_grad,
        rule="Rule: dpred = 2 (pred - target) / M with M = pred.size.",
        slips=[
            (diff / m, tagged("bp.mse_grad_factor_two", "Hint: keep the factor 2 from differentiating the square: 2 (pred - target) / M.")),
            (2 * diff, tagged("bp.mse_grad_not_divided", "Hint: the loss is a mean, so divide by M = pred.size entries.")),
            (-2 * diff / m, tagged("bp.mse_grad_sign", "Hint: mind the sign: the derivative of (pred - target)**2 with respect to pred is +2 (pred - target).")),
        ],
        rtol=1e-10,
    )  # fmt: skip


def check_cross_entropy(
    softmax_cross_entropy: Any, logits: np.ndarray, labels: np.ndarray, what: str
) -> None:
    """softmax_cross_entropy -> (loss, dlogits) against F.cross_entropy and autograd."""
    call = f"softmax_cross_entropy(logits, labels={labels.tolist()}) for {what}"
    large = float(np.max(np.abs(logits))) > 700
    stable = tagged(
        "bp.softmax_max_shift",
        "Hint: subtract the max of each row (logits.max(axis=1, keepdims=True)) before np.exp, and "
        "compute log p as shifted - log(sum(exp(shifted))): exp(1000) overflows to inf.",
    )
    with forbid(*NO_AUTOGRAD, reason=NO_AUTOGRAD_REASON), np.errstate(all="ignore"):
        with student_code(call, stable if large else ""):
            result = softmax_cross_entropy(logits.copy(), labels.copy())
    loss, dlogits = tuple_of(result, 2, call, "(loss, dlogits)")
    loss = _scalar_loss(loss, call)
    grad = as_array(dlogits, f"{call}[1], dlogits")
    if large and not (math.isfinite(loss) and np.isfinite(grad).all()):
        raise AssertionError(f"{call} returned a non-finite loss ({loss}) or gradient. {stable}")
    ref_loss, ref_grad = torch_cross_entropy(logits, labels)
    n = len(labels)
    onehot = np.eye(logits.shape[1])[labels]
    assert_matches(
        f"{call}: the loss",
        loss,
        np.float64(ref_loss),
        rule="Rule: the loss is the mean over the batch of -log p[n, labels[n]].",
        slips=[
            (
                ref_loss * n,
                tagged("bp.ce_sum", "Hint: the loss is the mean over the N examples, not the sum."),
            )
        ],
        rtol=1e-9,
    )
    assert_matches(
        f"{call}: the gradient dlogits",
        grad,
        ref_grad,
        rule="Rule: dlogits = (softmax(logits) - onehot(labels)) / N.",
        slips=[
            (ref_grad * n, tagged("bp.ce_grad_not_divided", f"Hint: yours is N = {n} times too large: it is not divided by N (the loss is a mean).")),
            (ref_grad / n, tagged("bp.ce_grad_divided_twice", f"Hint: yours is N = {n} times too small: it is divided by N twice.")),
            (ref_grad + onehot / n, tagged("bp.ce_grad_onehot", "Hint: subtract the one-hot of the labels from the softmax.")),
            (-ref_grad, tagged("bp.ce_grad_sign", "Hint: mind the sign: softmax - onehot, not onehot - softmax.")),
        ],
    )  # fmt: skip


# --------------------------------------------------------------------------------------------
# q4: finite differences, refereed by exact derivatives with tolerances derived from eps
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FDCase:
    """A scalar function of an array with its exact first, second and third derivatives.

    ``f(x) = sum(terms(x))`` of elementwise terms, so the gradient, f'' and f''' are elementwise.
    """

    name: str
    terms: Callable[[np.ndarray], np.ndarray]
    d1: Callable[[np.ndarray], np.ndarray]
    d2: Callable[[np.ndarray], np.ndarray]
    d3: Callable[[np.ndarray], np.ndarray]

    def f(self, x: np.ndarray) -> float:
        return float(np.sum(self.terms(x)))


FD_CASES = {
    "cubic_sine": FDCase(
        "sum(x**3 + sin(x))",
        lambda x: x**3 + np.sin(x),
        lambda x: 3 * x**2 + np.cos(x),
        lambda x: 6 * x - np.sin(x),
        lambda x: 6 - np.cos(x),
    ),
    "exp_quartic": FDCase(
        "sum(exp(x) + x**4)",
        lambda x: np.exp(x) + x**4,
        lambda x: np.exp(x) + 4 * x**3,
        lambda x: np.exp(x) + 12 * x**2,
        lambda x: np.exp(x) + 24 * x,
    ),
    "sine": FDCase("sin(x)", np.sin, np.cos, lambda x: -np.sin(x), lambda x: -np.cos(x)),
}


def fd_tolerance(case: FDCase, x: np.ndarray, eps: float) -> np.ndarray:
    """Per-entry bound on what a correct centred difference may be off by, times 10.

    Truncation: eps**2 / 6 |f'''| (evaluated on [x - eps, x + eps]). Round-off: each f(x +- eps)
    is a sum of n terms with error at most n u sum |terms|, so the quotient is off by up to
    n u S / eps; and x +- eps itself is rounded, changing the step by up to u |x| / eps relative.
    """
    n = x.size
    m3 = np.maximum(np.abs(case.d3(x - eps)), np.abs(case.d3(x + eps)))
    m3 = np.maximum(m3, np.abs(case.d3(x)))
    s = float(np.sum(np.abs(case.terms(x)))) + 1.0
    truncation = eps**2 / 6 * m3
    roundoff = n * UNIT_ROUNDOFF * s / eps + UNIT_ROUNDOFF * (np.abs(x) + 1) / eps * np.abs(
        case.d1(x)
    )
    return 10 * (truncation + roundoff)


def _restore_message(call: str, x: np.ndarray, before: np.ndarray) -> str:
    diff = np.abs(x - before)
    if float(diff.max()) <= 8 * UNIT_ROUNDOFF * (float(np.abs(before).max()) + 1):
        hint = tagged(
            "bp.fd_restore_by_assignment",
            "Hint: x differs from before only by round-off: restore each entry by assignment, "
            "x[idx] = old, rather than by adding and subtracting eps.",
        )
    else:
        hint = tagged(
            "bp.fd_not_restored",
            "Hint: restore every perturbed entry (x[idx] = old) before moving to the next.",
        )
    return f"{call} changed x: {int((diff > 0).sum())} entries differ after it returned; x must be exactly restored. {hint}"


def check_numerical_gradient(
    numerical_gradient: Any, case: str, x: np.ndarray, eps: float | None
) -> None:
    """numerical_gradient(f, x[, eps]) against the exact gradient, tolerance from :func:`fd_tolerance`."""
    fd = FD_CASES[case]
    used_eps = 1e-6 if eps is None else eps
    call = f"numerical_gradient(f, x{'' if eps is None else f', eps={eps:g}'}) for f(x) = {fd.name}, x of shape {x.shape}"
    before = x.copy()
    kwargs = {} if eps is None else {"eps": eps}
    x_there = beside(numerical_gradient, x)  # x itself, or the kernel's copy: what f perturbs
    with forbid(*NO_AUTOGRAD, *_fd_helpers(numerical_gradient), reason=NO_FD_REASON):
        with student_code(call):
            grad = numerical_gradient(fd.f, x_there, **kwargs)
    check_implemented(grad, call)
    if not isinstance(grad, np.ndarray):
        raise AssertionError(f"{call} should return a NumPy array, got {type(grad).__name__}.")
    if grad.shape != x.shape:
        raise AssertionError(
            f"{call} returned shape {grad.shape}; it should have x's shape {x.shape}."
        )
    if grad.dtype != np.float64:
        raise AssertionError(
            f"{call} returned dtype {grad.dtype}; it should be float64 (finite differences need "
            "it)."
        )
    after = _read_back(x_there)
    if not np.array_equal(after, before):
        raise AssertionError(_restore_message(call, after, before))
    exact = fd.d1(x)
    tol = fd_tolerance(fd, x, used_eps)
    err = np.abs(grad - exact)
    if (err <= tol).all():
        return
    one_sided = used_eps / 2 * fd.d2(x)
    hint = diagnose(
        grad,
        exact,
        [
            (
                2 * exact,
                tagged(
                    "bp.fd_not_halved",
                    "Hint: divide by 2 eps: the two points x + eps and x - eps are 2 eps apart.",
                ),
            ),
            (
                exact / 2,
                tagged("bp.fd_halved_twice", "Hint: divide by 2 eps, not by 4 eps (or eps twice)."),
            ),
            (
                -exact,
                tagged("bp.fd_order", "Hint: mind the order: (f(x + eps) - f(x - eps)) / (2 eps)."),
            ),
        ],
    )
    residual = grad - exact
    if not hint and np.all(
        np.abs(np.abs(residual) - np.abs(one_sided)) <= 0.2 * np.abs(one_sided) + tol
    ):
        hint = tagged(
            "bp.fd_one_sided",
            "Hint: yours is off by about eps/2 * f''(x), the error of a one-sided difference: use "
            "the "
            "centred difference (f(x + eps) - f(x - eps)) / (2 eps), whose error is of order "
            "eps**2.",
        )
    idx = tuple(int(i) for i in np.unravel_index(int(np.argmax(err / tol)), x.shape))
    raise AssertionError(
        _with_hint(
            f"{call} is off the exact gradient: at index {idx} yours {grad[idx]:.12g}, exact "
            f"{exact[idx]:.12g}, difference {err[idx]:.3g} > {tol[idx]:.2g} (the tolerance: 10 x "
            "the "
            f"truncation error eps**2/6 |f'''| plus round-off for eps = {used_eps:g}).",
            hint,
        )
    )


def check_numerical_gradient_closure(numerical_gradient: Any, W: np.ndarray, v: np.ndarray) -> None:
    """numerical_gradient(g, W) for g(_) = sum(tanh(W @ v)) that reads W through a closure."""
    call = f"numerical_gradient(g, W) for g(_) = sum(tanh(W @ v)), W of shape {W.shape}, which reads W through a closure"

    W_there = beside(numerical_gradient, W)  # W itself, or the kernel's copy: what g reads

    def g(_: Any) -> float:
        return float(np.sum(np.tanh(W_there @ v)))

    before = W.copy()
    with forbid(*NO_AUTOGRAD, *_fd_helpers(numerical_gradient), reason=NO_FD_REASON):
        with student_code(call):
            grad = numerical_gradient(g, W_there)
    grad = as_array(grad, call)
    if grad.shape != W.shape:
        raise AssertionError(
            f"{call} returned shape {grad.shape}; it should have W's shape {W.shape}."
        )
    after = _read_back(W_there)
    if not np.array_equal(after, before):
        raise AssertionError(_restore_message(call, after, before))
    exact = np.outer(1 - np.tanh(W @ v) ** 2, v)
    # second and third derivatives of tanh are bounded by 1; |v| bounds the chain factors
    vmax = float(np.max(np.abs(v)))
    tol = 10 * (1e-12 / 6 * 2 * vmax**3 + W.size * UNIT_ROUNDOFF * (W.shape[0] + 1) / 1e-6)
    err = np.abs(grad - exact)
    if (err <= tol).all():
        return
    hint = diagnose(
        grad,
        exact,
        [(np.zeros_like(exact), tagged("bp.fd_on_a_copy", "Hint: perturb x itself in place (x[idx] = old + eps), call f(x), and restore x[idx] = old; "
                                "working on a copy changes nothing that f can see."))],
    )  # fmt: skip
    raise AssertionError(
        _with_hint(
            f"{call} gave {np.round(grad, 8).tolist()}; exact {np.round(exact, 8).tolist()} "
            f"(largest difference {float(err.max()):.3g}, tolerance {tol:.2g}).",
            hint,
        )
    )


def check_relative_error(
    relative_error: Any, a: np.ndarray, b: np.ndarray, expected: float
) -> None:
    """relative_error(a, b) against ``expected``, worked out by hand from the formula."""
    call = f"relative_error(a, b) for a = {np.round(a, 4).tolist()}, b = {np.round(b, 4).tolist()}"
    with student_code(call):
        err = relative_error(a.copy(), b.copy())
    value = as_number(err, call)
    want = expected
    if abs(value - want) <= 1e-12 + 1e-9 * abs(want):
        return
    d, s = np.abs(a - b), np.abs(a) + np.abs(b)
    with np.errstate(all="ignore"):
        slips = [
            (float(np.max(d / np.maximum(1e-12, np.abs(a + b)))), tagged("bp.relerr_denominator", "Hint: the denominator is |a| + |b|, not |a + b|.")),
            (float(np.mean(d / np.maximum(1e-12, s))), tagged("bp.relerr_mean", "Hint: take the maximum over entries, not the mean.")),
            (float(np.max(d) / max(1e-12, float(np.max(s)))), tagged("bp.relerr_entrywise", "Hint: divide entry by entry, then take the maximum.")),
        ]  # fmt: skip
    hint = next(
        (h for wrong, h in slips if abs(value - wrong) <= 1e-12 and abs(want - wrong) > 1e-9), ""
    )
    if not hint and want == 0.0 and not math.isfinite(value):
        hint = tagged("bp.relerr_floor", "Hint: the floor 1e-12 in the denominator avoids 0 / 0.")
    raise AssertionError(
        _with_hint(
            f"{call} gave {value!r}; the maximum over entries of |a - b| / max(1e-12, |a| + |b|) "
            f"is {want!r}.",
            hint,
        )
    )


# Layers to run a student's gradient_check on. They are refereed by torch.autograd, which the
# q2 tests forbid (so they cannot stand in for a student's layers), and can carry planted bugs.


class ElementwiseAffine:
    """out = x * W + b with W, b of shape (D,), a layer of no question; ``bug`` plants a mistake.

    bug: None, "db_mean" (db averaged over the batch), "dW_sign" or "dx_missing_W".
    """

    def __init__(self, W: np.ndarray, b: np.ndarray, bug: str | None = None):
        self.W, self.b, self.bug = W, b, bug
        self.dW = self.db = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        self._x, self._W, self._b = _t(x), _t(self.W), _t(self.b)
        self._out = self._x * self._W + self._b
        return self._out.detach().numpy().copy()

    def backward(self, dout: np.ndarray) -> np.ndarray:
        dx, dW, db = (
            g.numpy().copy()
            for g in torch.autograd.grad(
                self._out, (self._x, self._W, self._b), torch.tensor(dout, dtype=torch.float64)
            )
        )
        if self.bug == "db_mean":
            db = db / dout.shape[0]
        elif self.bug == "dW_sign":
            dW = -dW
        elif self.bug == "dx_missing_W":
            dx = np.array(dout, dtype=np.float64)
        self.dW, self.db = dW, db
        return dx


class TorchLinear:
    """Linear(d_in, d_out) refereed by autograd, initialised like the notebook's ``Linear``."""

    bug: str | None = None  # "db_mean" plants a mistake

    def __init__(self, d_in: int, d_out: int, rng: Any = None):
        rng = np.random.default_rng(rng)
        self.W = rng.normal(0.0, np.sqrt(2.0 / d_in), size=(d_in, d_out))
        self.b = np.zeros(d_out)
        self.dW = self.db = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        self._x, self._W, self._b = _t(x), _t(self.W), _t(self.b)
        self._out = self._x @ self._W + self._b
        return self._out.detach().numpy().copy()

    def backward(self, dout: np.ndarray) -> np.ndarray:
        grads = torch.autograd.grad(
            self._out, (self._x, self._W, self._b), torch.tensor(dout, dtype=torch.float64)
        )
        dx, self.dW, db = (g.numpy().copy() for g in grads)
        self.db = db / len(dout) if self.bug == "db_mean" else db
        return dx


class TorchActivation:
    """An elementwise activation ("Sigmoid", "Tanh", "ReLU") refereed by autograd.

    bug: None or "no_derivative" (backward returns dout unchanged).
    """

    kind = "ReLU"
    bug: str | None = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        self._x = _t(x)
        self._out = ACTIVATIONS[self.kind](self._x)
        return self._out.detach().numpy().copy()

    def backward(self, dout: np.ndarray) -> np.ndarray:
        if self.bug == "no_derivative":
            return np.array(dout, dtype=np.float64)
        (dx,) = torch.autograd.grad(self._out, (self._x,), torch.tensor(dout, dtype=torch.float64))
        return dx.numpy().copy()


def torch_layer(kind: str, bug: str | None = None) -> type:
    """A referee layer class: "Linear" or an activation name, optionally with a planted bug."""
    base = TorchLinear if kind == "Linear" else TorchActivation
    return type(f"Referee{kind}", (base,), {"kind": kind, "bug": bug})


def _gradients(layer: Any, x: np.ndarray, R: np.ndarray) -> dict[str, np.ndarray]:
    fresh = type(layer).__new__(type(layer))
    fresh.__dict__.update(
        {k: v.copy() if isinstance(v, np.ndarray) else v for k, v in vars(layer).items()}
    )
    fresh.bug = None
    fresh.forward(x.copy())
    grads = {"dx": fresh.backward(R)}
    if hasattr(layer, "W"):
        grads["dW"], grads["db"] = fresh.dW, fresh.db
    return grads


@dataclass
class GradientCheckCase:
    """A layer and an input on which every gradient entry is far from 0, and the threshold."""

    make_layer: Callable[[], Any]
    description: str
    x: np.ndarray
    seed: int
    threshold: float
    smallest: float
    noise: float


# The largest derivative of each activation on the inputs drawn below (|x| in [0.2, 2]).
_MAX_SLOPE = {"Sigmoid": 0.25, "Tanh": 1.0, "ReLU": 1.0}


def gradient_check_case(
    kind: str,
    shape: tuple[int, int],
    seed: int,
    d_out: int = 3,
    bug: str | None = None,
    *,
    _prefilter: bool = True,
) -> GradientCheckCase:
    """Search from ``seed`` for an input, weights and R seed with no tiny gradient entry.

    A relative error divides by |analytic| + |numerical|, so an entry near 0 turns the
    finite differences' round-off (about u sum|out * R| / eps) into a large relative error. Here
    every entry is at least ``smallest``, and the threshold is 100 times the worst-case relative
    round-off (at least 1e-6), far below the error of any real bug (above 1e-2).
    """
    for attempt in range(seed, seed + 1000):
        rng = np.random.default_rng(attempt)
        n, d = shape
        if kind == "Linear":
            layer_cls = torch_layer("Linear", bug)
            x = rng.normal(size=shape)
            W, b = rng.normal(size=(d, d_out)), rng.normal(size=d_out)

            def make(layer_cls=layer_cls, W=W, b=b, d=d):
                layer = layer_cls(d, d_out, rng=0)
                layer.W, layer.b = W.copy(), b.copy()
                return layer

            description = (
                f"a correct Linear({d}, {d_out})"
                if bug is None
                else f"a Linear({d}, {d_out}) with the bug {bug}"
            )
        elif kind == "ElementwiseAffine":
            x = rng.normal(size=shape)
            W, b = rng.normal(size=d), rng.normal(size=d)

            def make(W=W, b=b):
                return ElementwiseAffine(W.copy(), b.copy(), bug)

            description = (
                "a correct layer out = x * W + b (W, b of shape (D,))"
                if bug is None
                else f"the layer out = x * W + b with the bug {bug}"
            )
        else:
            layer_cls = torch_layer(kind, bug)
            # magnitudes in [0.2, 2]: away from ReLU's kink and from the flat tails of sigmoid/tanh
            x = rng.uniform(0.2, 2.0, size=shape) * rng.choice([-1.0, 1.0], size=shape)

            def make(layer_cls=layer_cls):
                return layer_cls()

            if _prefilter:
                # dx = R * f'(x) with f' <= _MAX_SLOPE: an R with a small entry cannot give every
                # |dx| >= 0.05, so skip it before autograd runs (the same attempt wins, sooner)
                R = np.random.default_rng(attempt).normal(size=shape)
                live = np.abs(R[x > 0] if kind == "ReLU" else R)
                if live.size and live.min() * _MAX_SLOPE[kind] < 0.05:
                    continue

            description = f"a correct {kind}()" if bug is None else f"a {kind}() with the bug {bug}"
        layer = make()
        out = layer.forward(x.copy())
        R = np.random.default_rng(attempt).normal(size=out.shape)
        grads = _gradients(layer, x, R)
        # ReLU's zeros (x < 0, far from the kink) are exact in both gradients: no round-off there
        smallest = min(float(np.min(np.abs(g[g != 0]), initial=np.inf)) for g in grads.values())
        if smallest < 0.05:
            continue
        s = float(np.sum(np.abs(out * R))) + 1.0
        noise = out.size * UNIT_ROUNDOFF * s / 1e-6 / (2 * smallest)
        threshold = max(1e-6, 10 ** math.ceil(math.log10(100 * noise)))
        return GradientCheckCase(make, description, x, attempt, threshold, smallest, noise)
    raise RuntimeError(f"no well-conditioned gradient-check case for {kind} from seed {seed}")


def check_gradient_check(
    gradient_check: Any, case: GradientCheckCase, bug_in: str | None = None
) -> None:
    """Run the student's gradient_check on ``case``; a correct layer must pass, a planted bug show.

    ``bug_in``: the gradient ("dx", "dW" or "db") whose error the planted bug must make large.
    """
    layer = case.make_layer()
    params = hasattr(layer, "W")
    call = f"gradient_check(layer, x, seed={case.seed}) for {case.description}, x of shape {case.x.shape}"
    helpers = _fd_helpers(gradient_check)
    with forbid(*helpers, reason=NO_FD_REASON), np.errstate(all="ignore"), student_code(call):
        errs = gradient_check(layer, case.x.copy(), seed=case.seed)
    check_implemented(errs, call)
    keys = {"dx", "dW", "db"} if params else {"dx"}
    if not isinstance(errs, dict) or set(errs) != keys:
        got = sorted(errs) if isinstance(errs, dict) else type(errs).__name__
        hint = ""
        if isinstance(errs, dict) and params and set(errs) == {"dx"}:
            hint = tagged(
                "bp.gradcheck_by_class",
                " Hint: decide by whether the layer has W and b (hasattr(layer, 'W')), not by its class.",
            )
        raise AssertionError(
            f"{call} should return a dict with the keys {sorted(keys)}, got {got}.{hint}"
        )
    values = {k: as_number(v, f"{call}[{k!r}]") for k, v in errs.items()}
    base = (
        f"{call} reported {values}. On this input every gradient entry is at least "
        f"{case.smallest:.2g} in size, so a "
        f"correct check stays below {case.threshold:g} (finite-difference round-off: about "
        f"{case.noise:.1g})"
    )
    if bug_in is None:
        bad = {k: v for k, v in values.items() if not v < case.threshold}
        if bad:
            raise AssertionError(
                tagged(
                    "bp.gradcheck_procedure",
                    f"{base}; {sorted(bad)} exceed it.\nHint: take the analytic gradients from "
                    "forward(x), then "
                    "backward(R), and copy them before the finite differences (which call forward "
                    "again); the loss is "
                    "sum(layer.forward(x) * R) with R = "
                    "np.random.default_rng(seed).normal(size=out.shape); perturb "
                    "layer.W and layer.b themselves.",
                )
            )
        return
    if not values[bug_in] > 1e-2:
        raise AssertionError(
            tagged(
                "bp.gradcheck_planted_bug",
                f"{base}; but this layer's {bug_in} is wrong (a planted bug), so the error for "
                f"{bug_in} should be large "
                "(above 1e-2). Hint: compare the layer's own gradient with the finite differences of "
                "the loss with respect to "
                + {"dx": "x", "dW": "layer.W", "db": "layer.b"}[bug_in]
                + ".",
            )
        )
    others = {k: v for k, v in values.items() if k != bug_in and not v < case.threshold}
    if others:
        raise AssertionError(
            f"{base}; only {bug_in} is wrong in this layer, yet {sorted(others)} exceed "
            f"{case.threshold:g}."
        )


# --------------------------------------------------------------------------------------------
# q5: Trask's network
# --------------------------------------------------------------------------------------------

XOR_X = np.array([[0, 0, 1], [0, 1, 1], [1, 0, 1], [1, 1, 1]], dtype=float)
XOR_Y = np.array([[0], [1], [1], [0]], dtype=float)
TRASK_RULE = (
    "Rule: delta2 = (y - l2) * sigma'(l2), delta1 = (delta2 @ syn1.T) * sigma'(l1), "
    "syn1 + l1.T @ delta2, syn0 + X.T @ delta1, with sigma' taken from the layers' outputs."
)


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return np.exp(-np.logaddexp(0.0, -z))


def check_sigmoid_prime(sigmoid_prime_from_output: Any, a: np.ndarray) -> None:
    """sigmoid_prime_from_output(sigma(a)) against autograd's derivative of sigma at a."""
    s = _sigmoid(a)
    call = f"sigmoid_prime_from_output(s) for s = sigma(a), a of shape {a.shape}"
    with student_code(call):
        out = sigmoid_prime_from_output(s.copy())
    at = _t(a)
    (expected,) = torch.autograd.grad(torch.sigmoid(at).sum(), (at,))
    assert_matches(
        call,
        out,
        expected.numpy(),
        rule="Rule: sigma'(a) written with the output s = sigma(a).",
        slips=[
            (_sigmoid(s) * (1 - _sigmoid(s)), tagged("bp.trask_sigmoid_twice", "Hint: s is already the sigmoid's output sigma(a), so sigma'(a) = s * (1 - s); "
                                              "applying sigma(s) * (1 - sigma(s)) takes the "
                                              "sigmoid twice.")),
            (1 - s, tagged("bp.sigmoid_prime_product", "Hint: the derivative is s * (1 - s), a product.")),
        ],
        rtol=1e-10,
    )  # fmt: skip


def torch_trask_step(X: np.ndarray, y: np.ndarray, syn0: np.ndarray, syn1: np.ndarray) -> tuple:
    """(syn0 - grad0, syn1 - grad1, l2): one gradient-descent step on 0.5 sum((y - l2)**2)."""
    s0, s1 = _t(syn0), _t(syn1)
    l2 = torch.sigmoid(torch.sigmoid(torch.tensor(X) @ s0) @ s1)
    g0, g1 = torch.autograd.grad(0.5 * ((torch.tensor(y) - l2) ** 2).sum(), (s0, s1))
    return syn0 - g0.numpy(), syn1 - g1.numpy(), l2.detach().numpy()


def check_trask_step(
    trask_step: Any, X: np.ndarray, y: np.ndarray, syn0: np.ndarray, syn1: np.ndarray
) -> None:
    """One step against autograd, and its inputs left unchanged (the prompt says new arrays)."""
    h = syn0.shape[1]
    call = f"trask_step(X {X.shape}, y {y.shape}, syn0 {syn0.shape}, syn1 {syn1.shape})"
    # copies placed where trask_step runs, so that a change it makes in place shows below
    args = [beside(trask_step, a.copy()) for a in (X, y, syn0, syn1)]
    transpose = tagged(
        "bp.trask_transpose",
        "Hint: check every product's shapes: delta1 = (delta2 @ syn1.T) * sigma'(l1) needs the "
        "transpose, "
        f"({len(X)}, 1) @ (1, {h}) = ({len(X)}, {h}), the shape of l1.",
    )
    with forbid(*NO_AUTOGRAD, reason="Use the delta rules."), student_code(call, transpose):
        result = trask_step(*args)
    new0, new1, l2 = tuple_of(result, 3, call, "(syn0_new, syn1_new, l2)")
    ref0, ref1, ref_l2 = torch_trask_step(X, y, syn0, syn1)
    assert_matches(
        f"l2 returned by {call}",
        l2,
        ref_l2,
        rule="Rule: l1 = sigmoid(X @ syn0), l2 = sigmoid(l1 @ syn1), before any update.",
        rtol=1e-10,
    )
    sign = tagged(
        "bp.trask_sign",
        "Hint: check the sign: y - l2 is minus the gradient, so the updates add (syn += ...); subtracting climbs the loss.",
    )
    for name, new, ref, old in (("syn1_new", new1, ref1, syn1), ("syn0_new", new0, ref0, syn0)):
        assert_matches(
            f"{name} from {call} (one gradient-descent step on 0.5 * sum((y - l2)**2))",
            new,
            ref,
            rule=TRASK_RULE,
            slips=[
                (2 * old - ref, sign),
                (
                    old,
                    tagged(
                        "bp.trask_returns_old",
                        "Hint: return the updated weights, not the old ones.",
                    ),
                ),
            ],
            rtol=1e-9,
        )
    for name, arg, original in zip(
        ("X", "y", "syn0", "syn1"), args, (X, y, syn0, syn1), strict=True
    ):
        if not np.array_equal(_read_back(arg), original):
            raise AssertionError(
                tagged(
                    "bp.trask_in_place",
                    f"{call} modified its input {name} in place; the prompt asks for new arrays. "
                    f"Hint: write {name}_new = {name} + ... rather than {name} += ....",
                )
            )


def trask_initial_error(X: np.ndarray, y: np.ndarray, hidden: int, seed: int) -> float:
    """errors[0] of the stated procedure: the weights drawn as the prompt says, before any update."""
    rng = np.random.default_rng(seed)
    syn0 = 2 * rng.random((X.shape[1], hidden)) - 1
    syn1 = 2 * rng.random((hidden, 1)) - 1
    return float(np.mean(np.abs(y - _sigmoid(_sigmoid(X @ syn0) @ syn1))))


def check_trask_train(
    trask_train: Any, hidden: int, iterations: int, seed: int, max_error: float
) -> None:
    """Trask's training on XOR: shapes, errors[0] from the stated initialisation, convergence."""
    X, y = XOR_X, XOR_Y
    call = f"trask_train(X, y, hidden={hidden}, iterations={iterations}, seed={seed})"
    with forbid(*NO_AUTOGRAD, reason="Use the delta rules."), student_code(call):
        result = trask_train(X.copy(), y.copy(), hidden=hidden, iterations=iterations, seed=seed)
    syn0, syn1, errors = tuple_of(result, 3, call, "(syn0, syn1, errors)")
    syn0, syn1 = as_array(syn0, f"{call}: syn0"), as_array(syn1, f"{call}: syn1")
    if syn0.shape != (3, hidden) or syn1.shape != (hidden, 1):
        raise AssertionError(
            f"{call}: syn0 and syn1 should have shapes (3, {hidden}) and ({hidden}, 1), got "
            f"{syn0.shape} and {syn1.shape}."
        )
    errors = as_array(errors, f"{call}: errors").reshape(-1)
    if len(errors) != iterations:
        raise AssertionError(
            f"{call} should return {iterations} errors (one per iteration), got {len(errors)}."
        )
    first = trask_initial_error(X, y, hidden, seed)
    if abs(errors[0] - first) > 1e-9:
        raise AssertionError(
            tagged(
                "bp.trask_init_order",
                f"{call}: errors[0] = {errors[0]:.10g}, but the weights drawn as stated (rng = "
                "np.random.default_rng(seed), "
                f"syn0 = 2 * rng.random((3, {hidden})) - 1, then syn1 = 2 * rng.random(({hidden}, 1)) "
                "- 1) give "
                f"mean |y - l2| = {first:.10g} before the first update. Hint: draw syn0 first, then "
                "syn1, from one rng, and record "
                "the error of each iteration's forward pass (before its update).",
            )
        )
    pred = (_sigmoid(_sigmoid(X @ syn0) @ syn1) > 0.5).astype(float)
    if not (errors[-1] < max_error and np.array_equal(pred, y)):
        hint = TRASK_RULE
        if errors[-1] > errors[0]:
            hint = tagged(
                "bp.trask_error_rose",
                "Hint: the error rose: the updates must add (syn1 += l1.T @ delta2) because the error is y - l2.",
            )
        raise AssertionError(
            f"{call}: the mean absolute error went from {errors[0]:.4f} to {errors[-1]:.4f} (it "
            "should fall below "
            f"{max_error}), and the rounded predictions of the returned weights are "
            f"{pred.ravel().tolist()} (targets "
            f"{y.ravel().tolist()}).\n{hint}"
        )


# --------------------------------------------------------------------------------------------
# q6: the two-layer MLP, with the layers and the loss of q2 and q3 replaced by referees
# --------------------------------------------------------------------------------------------


class RecordingCrossEntropy:
    """softmax_cross_entropy (``fn``, or autograd's when None) recording every loss it returns."""

    def __init__(self, fn: Callable | None = None) -> None:
        self.fn = fn
        self.losses: list[float] = []

    def __call__(self, logits: np.ndarray, labels: np.ndarray) -> tuple[Any, np.ndarray]:
        if self.fn is None:
            labels = np.asarray(labels).astype(int)
            result = torch_cross_entropy(np.asarray(logits, dtype=np.float64), labels)
        else:
            result = self.fn(logits, labels)
        try:
            self.losses.append(float(result[0]))
        except (TypeError, ValueError, IndexError):
            pass
        return result


def referee_namespace() -> dict[str, Any]:
    """Referees for the names q6 builds on: Linear, ReLU (q2) and softmax_cross_entropy (q3)."""
    return {
        "Linear": torch_layer("Linear"),
        "ReLU": torch_layer("ReLU"),
        "softmax_cross_entropy": RecordingCrossEntropy(),
    }


def _agrees(check: Callable[[], None]) -> bool:
    try:
        check()
    except AssertionError:
        return False
    return True


def trusted_namespace(namespace: dict) -> dict[str, Any]:
    """For each name q6 builds on, the student's own version where it agrees with the referee
    on probes (fast, NumPy), else the referee; the loss always records what it returns."""
    rng = np.random.default_rng(2024)
    x, dout = activation_input(rng, (4, 6), 2.0), rng.normal(size=(4, 6))
    logits, labels = rng.normal(scale=3.0, size=(6, 10)), rng.integers(0, 10, 6)
    probes = {
        "Linear": lambda f: (
            check_linear(f, 5, 4, 3, 101, refresh=True),
            check_linear(f, 1, 3, 3, 102),
        ),
        "ReLU": lambda f: check_activation(f, "ReLU", x, dout),
        "softmax_cross_entropy": lambda f: check_cross_entropy(f, logits, labels, "a probe"),
    }
    referees = referee_namespace()
    chosen = {}
    for name, probe in probes.items():
        own = namespace.get(name)
        chosen[name] = (
            own
            if own is not None and _agrees(lambda own=own, probe=probe: probe(own))
            else referees[name]
        )
    loss = chosen["softmax_cross_entropy"]
    chosen["softmax_cross_entropy"] = (
        loss if isinstance(loss, RecordingCrossEntropy) else RecordingCrossEntropy(loss)
    )
    return chosen


def check_mlp(
    TwoLayerMLP: Any,
    d_in: int,
    hidden: int,
    n_classes: int,
    n: int,
    seed: int,
    *,
    env: Mapping[str, Any],
) -> None:
    """TwoLayerMLP's forward and backward (with referee layers) against autograd on the whole net.

    ``env``: the notebook's namespace (the test's ``env``), where the referee layers stand in.
    """
    rng = np.random.default_rng(seed)
    where = f"TwoLayerMLP({d_in}, {hidden}, {n_classes}) on x of shape {(n, d_in)}"
    with substitute(env, **referee_namespace()), student_code(where):
        model = TwoLayerMLP(d_in, hidden, n_classes, rng=seed)
    lin1, lin2 = model.layers[0], model.layers[2]
    lin1.b, lin2.b = rng.normal(size=hidden), rng.normal(size=n_classes)
    x, dlogits = rng.normal(size=(n, d_in)), rng.normal(size=(n, n_classes))
    params = [_t(a) for a in (lin1.W, lin1.b, lin2.W, lin2.b)]
    xt = _t(x)
    logits_t = torch.relu(xt @ params[0] + params[1]) @ params[2] + params[3]
    grads = torch.autograd.grad(logits_t, [xt, *params], torch.tensor(dlogits))
    order = tagged(
        "bp.mlp_layer_order",
        "Hint: forward goes through self.layers in order, backward through reversed(self.layers), each layer's output feeding the next.",
    )
    with student_code(f"{where}: forward(x)", order):
        logits = model.forward(x.copy())
    assert_matches(f"{where}: forward(x)", logits, logits_t.detach().numpy(), rule=order)
    with student_code(f"{where}: backward(dlogits)", order):
        dx = model.backward(dlogits.copy())
    assert_matches(f"{where}: backward(dlogits), the returned dx", dx, grads[0].numpy(), rule=order)
    for name, got, ref in zip(
        ["layer 0: dW", "layer 0: db", "layer 2: dW", "layer 2: db"],
        [lin1.dW, lin1.db, lin2.dW, lin2.db],
        grads[1:],
        strict=True,
    ):
        assert_matches(f"{where}: after backward, {name}", got, ref.numpy(), rule=order)


def check_sgd_step(sgd_step: Any, seed: int, shapes: Sequence[tuple[int, ...]], lr: float) -> None:
    """sgd_step(pairs, lr) must update every param in place: param - lr * grad."""
    rng = np.random.default_rng(seed)
    params = [rng.normal(size=s) for s in shapes]
    grads = [rng.normal(size=s) for s in shapes]
    before = [p.copy() for p in params]
    # the parameters placed where sgd_step runs, so that its in-place update shows below
    params = [beside(sgd_step, p) for p in params]
    call = f"sgd_step(params_and_grads, lr={lr}) for parameters of shapes {list(shapes)}"
    with student_code(call):
        sgd_step(list(zip(params, grads, strict=True)), lr)
    for i, (p, g, old) in enumerate(zip(params, grads, before, strict=True)):
        assert_matches(
            f"parameter {i} (shape {old.shape}) after {call}",
            _read_back(p),
            old - lr * g,
            rule="Rule: param -= lr * grad, in place on the array.",
            against="param - lr * grad",
            slips=[
                (old + lr * g, tagged("bp.sgd_sign", "Hint: move against the gradient: param -= lr * grad, not +=.")),
                (old, tagged("bp.sgd_rebinds", "Hint: update the array in place (param -= lr * grad or param[...] = ...); param = param - lr * grad only rebinds the name.")),
                (old - g, tagged("bp.sgd_lr", f"Hint: scale the step by the learning rate lr = {lr}.")),
            ],
            rtol=1e-12,
        )  # fmt: skip


def digits_split(test_size: float = 0.25, seed: int = 0) -> list[np.ndarray]:
    """scikit-learn's 8x8 digits scaled to [0, 1], split as in the notebook:
    ``train_test_split(data / 16, target, test_size=test_size, random_state=seed,
    stratify=target)``'s four arrays, computed without importing scikit-learn (~100 MB in the
    grading process; ``stratified_split`` is its algorithm, tested against it)."""
    from shared.digits import sklearn_digits

    data, target = sklearn_digits()
    train, test = stratified_split(target, test_size=test_size, seed=seed)
    X = data / 16.0
    return [X[train], X[test], target[train], target[test]]


def stratified_split(y: np.ndarray, *, test_size: float, seed: int) -> tuple[np.ndarray, ...]:
    """The (train, test) indices of scikit-learn's ``StratifiedShuffleSplit`` (one split, float
    ``test_size``, ``random_state=seed``), the split ``train_test_split(..., stratify=y)`` makes."""
    n = len(y)
    n_test = int(np.ceil(test_size * n))
    n_train = n - n_test
    _, y_indices, counts = np.unique(y, return_inverse=True, return_counts=True)
    by_class = np.split(np.argsort(y_indices, kind="stable"), np.cumsum(counts)[:-1])
    rng = np.random.RandomState(seed)
    n_i = _approximate_mode(counts, n_train, rng)
    t_i = _approximate_mode(counts - n_i, n_test, rng)
    train: list[int] = []
    test: list[int] = []
    for i, members in enumerate(by_class):
        shuffled = members.take(rng.permutation(counts[i]), mode="clip")
        train.extend(shuffled[: n_i[i]])
        test.extend(shuffled[n_i[i] : n_i[i] + t_i[i]])
    return rng.permutation(train), rng.permutation(test)


def _approximate_mode(counts: np.ndarray, draws: int, rng: np.random.RandomState) -> np.ndarray:
    """scikit-learn's ``utils.extmath._approximate_mode``: per class, the floor of its share of
    ``draws``, the rest given to the largest remainders (ties broken by ``rng``)."""
    continuous = counts / counts.sum() * draws
    floored = np.floor(continuous)
    need = int(draws - floored.sum())
    if need > 0:
        remainder = continuous - floored
        for value in np.sort(np.unique(remainder))[::-1]:
            (indices,) = np.where(remainder == value)
            now = min(len(indices), need)
            floored[rng.choice(indices, size=now, replace=False)] += 1
            need -= now
            if need == 0:
                break
    return floored.astype(int)


def check_train_mlp(
    train_mlp: Any,
    accuracy: Any,
    *,
    env: Mapping[str, Any],
    hidden: int,
    epochs: int,
    lr: float,
    batch_size: int,
    seed: int,
    min_accuracy: float,
) -> None:
    """train_mlp with referee layers and loss: history, epoch means, last val_acc, accuracy.

    ``env``: the notebook's namespace (the test's ``env``), where the trusted names stand in.
    """
    X_tr, X_te, y_tr, y_te = digits_split()
    config = f"hidden={hidden}, epochs={epochs}, lr={lr}, batch_size={batch_size}, seed={seed}"
    call = f"train_mlp(X_train, y_train, X_test, y_test, {config})"
    names = trusted_namespace(env)
    # the recording loss placed where train_mlp runs, so that what it records can be read
    loss_fn = names["softmax_cross_entropy"] = beside(train_mlp, names["softmax_cross_entropy"])
    with substitute(env, **names), student_code(call):
        result = train_mlp(
            X_tr,
            y_tr,
            X_te,
            y_te,
            hidden=hidden,
            epochs=epochs,
            lr=lr,
            batch_size=batch_size,
            seed=seed,
        )
        model, history = tuple_of(result, 2, call, "(model, history)")
        acc = float(accuracy(model, X_te, y_te))
    if not isinstance(history, dict) or any(
        len(history.get(k, [])) != epochs for k in ("loss", "train_acc", "val_acc")
    ):
        got = (
            {k: len(v) for k, v in history.items()}
            if isinstance(history, dict)
            else type(history).__name__
        )
        raise AssertionError(
            f"{call}: history should hold {epochs} entries (one per epoch) under 'loss', "
            f"'train_acc' and 'val_acc'; got {got}."
        )
    losses = [as_number(v, f"{call}: history['loss'][{i}]") for i, v in enumerate(history["loss"])]
    recorded = as_array(list(loss_fn.losses), "the recorded batch losses").reshape(-1)
    calls = len(recorded)
    if calls and calls % epochs == 0:
        per = calls // epochs
        means = [float(np.mean(recorded[e * per : (e + 1) * per])) for e in range(epochs)]
        off = [
            e for e in range(epochs) if abs(losses[e] - means[e]) > 1e-9 * max(1.0, abs(means[e]))
        ]
        if off:
            e = off[0]
            last = float(recorded[(e + 1) * per - 1])
            hint = (
                tagged(
                    "bp.history_last_batch",
                    "Hint: append the mean of all the epoch's batch losses, not the last batch's loss.",
                )
                if abs(losses[e] - last) <= 1e-12 * max(1.0, abs(last))
                else tagged(
                    "bp.history_mean",
                    "Hint: collect each batch's loss during the epoch and append their mean once per epoch.",
                )
            )
            raise AssertionError(
                f"{call}: history['loss'][{e}] = {losses[e]:.10g}, but the mean of the {per} "
                f"batch losses of epoch {e} "
                f"is {means[e]:.10g}.\n{hint}"
            )
    last_val = as_number(history["val_acc"][-1], f"{call}: history['val_acc'][-1]")
    if abs(last_val - acc) > 1e-12:
        raise AssertionError(
            f"{call}: history['val_acc'][-1] = {last_val} should be accuracy(model, X_val, y_val) "
            f"after the last epoch, {acc}."
        )
    if not acc >= min_accuracy:
        hint = "Rule: each batch: forward, softmax_cross_entropy, backward, then sgd_step; shuffle with rng.permutation(N) each epoch."
        if losses[-1] > losses[0]:
            hint = tagged(
                "bp.train_loss_rose",
                "Hint: the loss rose: the update must move against the gradient (param -= lr * grad).",
            )
        raise AssertionError(
            f"{call} (run with correct layers and loss wherever yours disagree with PyTorch) "
            f"reaches a test accuracy of {acc:.3f}; it should be at "
            f"least {min_accuracy}. Training loss per epoch: {[round(v, 3) for v in losses]}.\n{hint}"
        )
