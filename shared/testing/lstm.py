"""Test logic of assignment 06 (recurrent networks and the LSTM), shared by public and hidden tests.

Every cell and layer is compared with PyTorch's own module holding the same weights, in float64
(``nn.RNNCell``, ``nn.RNN``, ``nn.LSTMCell``, ``nn.LSTM``, ``nn.GRUCell``), with those modules
forbidden while the student's code runs. Back-propagation through time and the Jacobian norms
are refereed by autograd (forbidden to the student), never by a hand-written answer. When a
value is wrong, the likely slip is named only if the output shows it: a property (the output
ignores an earlier step, depends on one bias alone, ignores the first layer) or PyTorch's module
run on rearranged weights (gates in another order, a zero initial cell state) reproduces what
the student returned.

Nothing here answers a graded question; the held-out cases of the hidden tests live in the
assignment's ``grader_only/`` folder.
"""

# ruff: noqa: E501 - failure messages and hints are prose, kept one sentence a line

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

from shared.checks import assert_close, assert_shape, check_implemented
from shared.forbid import forbid
from shared.sequences import module_weights, pad_batch
from shared.testing import (
    beside,
    check_defined,
    is_instance,
    on_referee,
    run_beside,
    tagged,
    type_name,
)
from shared.testing import call as call  # re-exported: the masters import it from here
from shared.testing import first_failure as first_failure  # re-exported, as above

# Float64 recurrences over a few dozen steps agree with PyTorch's to ~1e-15; 1e-10 leaves room
# for any order of summation and still sees every slip (they change values by > 1e-3).
RTOL, ATOL = 1e-9, 1e-10

LIBRARY_RECURRENT = (
    "torch.nn.RNN",
    "torch.nn.RNNCell",
    "torch.nn.LSTM",
    "torch.nn.LSTMCell",
    "torch.nn.GRU",
    "torch.nn.GRUCell",
    "torch.rnn_tanh",
    "torch.rnn_tanh_cell",
    "torch.lstm",
    "torch.lstm_cell",
    "torch.gru",
    "torch.gru_cell",
)
FROM_SCRATCH = "Build it from matrix products, torch.tanh and torch.sigmoid."
NO_AUTOGRAD = ("torch.autograd.grad", "torch.autograd.backward", "torch.Tensor.backward")
NO_AUTOGRAD_REASON = "Compute it by hand: autograd is the referee here."

TWO_BIASES = tagged(
    "rnn.two_biases",
    "Hint: PyTorch keeps two biases, bias_ih and bias_hh, and adds both: x W_ih^T + b_ih + h W_hh^T + b_hh.",
)
CARRY = tagged(
    "rnn.carry_hidden",
    "Hint: the hidden state must be carried from one step to the next: h = cell(x_t, h), starting from h_0 (and the same for the LSTM's cell state c).",
)
BATCH_FIRST = tagged(
    "rnn.batch_first",
    "Hint: with batch_first=True, x is (batch, time, features) and out is (batch, time, hidden); with batch_first=False both are (time, batch, ...). Loop over the time dimension.",
)
LAYER_INPUT = tagged(
    "rnn.layer_input",
    "Hint: layer k > 0 reads the outputs (all time steps) of layer k - 1, not the input x.",
)
GATE_ORDER = tagged(
    "rnn.gate_order",
    "Hint: PyTorch stacks the LSTM's gates in the order i, f, g, o: rows 0:H of weight_ih are the input gate, H:2H the forget gate, 2H:3H the candidate g, 3H:4H the output gate.",
)
CANDIDATE_TANH = tagged(
    "rnn.candidate_tanh",
    "Hint: the candidate g = tanh(...), not a sigmoid: it can be negative, the gates i, f, o are the sigmoids.",
)
FORGET = tagged(
    "rnn.forget_gate",
    "Hint: the new cell state keeps the old one through the forget gate: c' = f * c + i * g.",
)
OUTPUT_TANH = tagged(
    "rnn.output_tanh",
    "Hint: the new hidden state is h' = o * tanh(c'), with the tanh.",
)
GRU_RESET = tagged(
    "rnn.gru_reset",
    "Hint: PyTorch applies the reset gate after the matrix product: n = tanh(W_in x + b_in + r * (W_hn h + b_hn)).",
)


# --------------------------------------------------------------------------- calling students


LIBRARY_REFUSED = tagged(
    "rnn.library_module",
    "Hint: in questions 1 to 5 PyTorch's recurrent modules and their kernels (nn.RNN, nn.LSTMCell, ..., by any import path, "
    "through a subclass of your own, or built only to count its parameters) are refused while your function runs: "
    "build the cell from matrix products, torch.tanh and torch.sigmoid, and count parameters with the formula.",
)


def from_scratch(fn: Callable, *args: Any, desc: str, hint: str = "", **kwargs: Any) -> Any:
    """:func:`call` with PyTorch's recurrent modules and kernels forbidden; a refused call fails
    with :data:`LIBRARY_REFUSED` instead of ``hint`` (which is about a wrong answer)."""
    try:
        with forbid(*LIBRARY_RECURRENT, reason=FROM_SCRATCH):
            return call(fn, *args, desc=desc, hint=hint, **kwargs)
    except AssertionError as err:
        message = str(err)
        if "implement this yourself" not in message:
            raise
        if hint and message.endswith(hint):
            message = message[: -len(hint)].rstrip()
        raise AssertionError(f"{message} {LIBRARY_REFUSED}") from None


FLOAT_RESULT = tagged(
    "rnn.float_result",
    "Hint: the question asks for a float: return float(value) or value.item(), not a tensor or an array.",
)


def check_float(value: Any, desc: str) -> float:
    """``value`` as a float, failing unless it is one (a Python or NumPy float, not a 0-d tensor)."""
    ok = isinstance(value, (float, np.floating)) and not isinstance(value, bool)
    assert ok, (
        f"{desc} should be a float, got {type_name(value)}"
        + (f" of shape {tuple(value.shape)}" if hasattr(value, "shape") else "")
        + f" ({value!r:.60}). {FLOAT_RESULT}"
    )
    return float(value)


def as_tensor(value: Any, name: str) -> torch.Tensor:
    check_implemented(value, name)
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().double()
    try:
        return torch.as_tensor(np.asarray(value, dtype=np.float64))
    except (TypeError, ValueError):
        raise AssertionError(
            f"`{name}` should be a tensor (or array) of numbers, got {type_name(value)}"
        ) from None


def pair(value: Any, name: str) -> tuple[Any, Any]:
    check_implemented(value, name)
    assert isinstance(value, (tuple, list)) and len(value) == 2, (
        f"{name} should return a pair (two values), got {type_name(value)}"
        + (f" of length {len(value)}" if isinstance(value, (tuple, list)) else "")
    )
    return value[0], value[1]


def here(value: Any) -> Any:
    """``value`` as data in the test: an array or tensor that :func:`shared.testing.beside` kept
    where the student's function ran is read back (``value[...]``); anything else is itself."""
    return value[...] if on_referee(value) else value


def shown(obj: Any) -> str:
    """``repr(obj)`` as a message shows it; for a kernel object, its ``str`` (a module's repr)."""
    return str(obj) if on_referee(obj) else repr(obj)


# --------------------------------------------------------------------------- reference modules


def reference(
    kind: str,
    input_size: int,
    hidden_size: int,
    num_layers: int = 1,
    *,
    seed: int,
    batch_first: bool = True,
) -> nn.Module:
    """PyTorch's float64 module of ``kind`` ('rnn', 'lstm', 'gru', or a cell: 'rnn_cell', ...)."""
    torch.manual_seed(seed)
    make = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}
    cells = {"rnn_cell": nn.RNNCell, "lstm_cell": nn.LSTMCell, "gru_cell": nn.GRUCell}
    if kind in cells:
        module = cells[kind](input_size, hidden_size)
        with torch.no_grad():  # PyTorch's init is small: make biases matter as much as weights
            for p in module.parameters():
                p.uniform_(-0.8, 0.8)
        return module.double()
    module = make[kind](input_size, hidden_size, num_layers=num_layers, batch_first=batch_first)
    with torch.no_grad():
        for p in module.parameters():
            p.uniform_(-0.6, 0.6)
    return module.double()


def cell_weights(cell: nn.Module) -> tuple[torch.Tensor, ...]:
    return tuple(
        getattr(cell, n).detach() for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
    )


def _cell_copy(cell: nn.Module, weights: Sequence[torch.Tensor]) -> nn.Module:
    twin = type(cell)(cell.input_size, cell.hidden_size).double()
    with torch.no_grad():
        for name, w in zip(("weight_ih", "weight_hh", "bias_ih", "bias_hh"), weights, strict=True):
            getattr(twin, name).copy_(w)
    return twin


def _matches(got: torch.Tensor, expected: torch.Tensor) -> bool:
    return got.shape == expected.shape and bool(torch.allclose(got, expected, rtol=1e-6, atol=1e-8))


def _cell_case(
    kind: str, offset: int, batch: int, input_size: int, hidden_size: int, seed: int
) -> tuple[nn.Module, torch.Generator, torch.Tensor, torch.Tensor, tuple[torch.Tensor, ...]]:
    """PyTorch's float64 cell of ``kind``, the generator of the case's inputs (seeded with
    ``seed + offset``, so each kind draws its own inputs), ``x``, ``h`` in (-1, 1), and the
    cell's weights in the order the student's cell takes them."""
    cell = reference(kind, input_size, hidden_size, seed=seed)
    gen = torch.Generator().manual_seed(seed + offset)
    x = torch.randn(batch, input_size, generator=gen, dtype=torch.float64)
    h = torch.randn(batch, hidden_size, generator=gen, dtype=torch.float64).tanh()
    return cell, gen, x, h, cell_weights(cell)


# --------------------------------------------------------------------------- q1: RNN cell and layer


def check_rnn_cell(
    rnn_cell: Callable, *, batch: int, input_size: int, hidden_size: int, seed: int
) -> None:
    cell, _, x, h, w = _cell_case("rnn_cell", 1, batch, input_size, hidden_size, seed)
    desc = f"rnn_cell(x, h, weight_ih, weight_hh, bias_ih, bias_hh) with x {tuple(x.shape)}, h {tuple(h.shape)}"
    hint = "Hint: h' = tanh(x @ weight_ih.T + bias_ih + h @ weight_hh.T + bias_hh), shape (batch, hidden)."
    got = as_tensor(from_scratch(rnn_cell, x, h, *w, desc=desc, hint=hint), desc)
    with torch.no_grad():
        expected = cell(x, h)
    assert_shape(got, tuple(expected.shape), desc, hint=hint)
    if not _matches(got, expected) and _ignores_bias_split(rnn_cell, x, h, w):
        hint = TWO_BIASES
    assert_close(
        got,
        expected,
        name=f"{desc}, compared with nn.RNNCell holding the same weights",
        rtol=RTOL,
        atol=ATOL,
        hint=hint,
    )


def _ignores_bias_split(
    cell_fn: Callable, x: torch.Tensor, state: Any, w: Sequence[torch.Tensor]
) -> bool:
    """Only b_ih + b_hh matters: moving 0.5 from one bias to the other must change nothing."""
    shifted = (w[0], w[1], w[2] + 0.5, w[3] - 0.5)
    try:
        with forbid(*LIBRARY_RECURRENT, reason=FROM_SCRATCH):
            a, b = cell_fn(x, state, *w), cell_fn(x, state, *shifted)
        a = a if isinstance(a, torch.Tensor) else a[0]
        b = b if isinstance(b, torch.Tensor) else b[0]
        return not torch.allclose(as_tensor(a, "a"), as_tensor(b, "b"), rtol=1e-9, atol=1e-9)
    except Exception:  # noqa: BLE001 - a diagnosis never raises
        return False


def _layer_case(
    kind: str,
    *,
    input_size: int,
    hidden_size: int,
    num_layers: int,
    batch: int,
    T: int,
    batch_first: bool,
    given_state: bool,
    seed: int,
):
    module = reference(
        kind, input_size, hidden_size, num_layers, seed=seed, batch_first=batch_first
    )
    gen = torch.Generator().manual_seed(seed + 7)
    shape = (batch, T, input_size) if batch_first else (T, batch, input_size)
    x = torch.randn(*shape, generator=gen, dtype=torch.float64)
    state = None
    if given_state:
        h0 = (
            0.8
            * torch.randn(num_layers, batch, hidden_size, generator=gen, dtype=torch.float64).tanh()
        )
        state = (
            (h0, torch.randn(num_layers, batch, hidden_size, generator=gen, dtype=torch.float64))
            if kind == "lstm"
            else h0
        )
    return module, x, state


def _copies(value: Any) -> Any:
    """Fresh copies of a tensor or a tuple of tensors: what the student's function gets, so that
    a change it makes in place alters neither the reference's inputs here nor, under the grading
    referee (which sends copies anyway), anything at all: both ways grade alike."""
    if isinstance(value, tuple):
        return tuple(v.clone() for v in value)
    return value.clone() if isinstance(value, torch.Tensor) else value


def _run_layer(fn: Callable, kind: str, x, layers, state, batch_first: bool, desc: str, hint: str):
    x, state = _copies(x), _copies(state)
    layers = [_copies(tuple(weights)) for weights in layers]
    if state is None:
        result = from_scratch(fn, x, layers, batch_first=batch_first, desc=desc, hint=hint)
    else:
        result = from_scratch(fn, x, layers, state, batch_first=batch_first, desc=desc, hint=hint)
    out, last = pair(result, desc)
    if kind == "lstm":
        h, c = pair(last, f"the state returned by {desc}")
        return as_tensor(out, f"out of {desc}"), (
            as_tensor(h, f"h_n of {desc}"),
            as_tensor(c, f"c_n of {desc}"),
        )
    return as_tensor(out, f"out of {desc}"), as_tensor(last, f"h_n of {desc}")


def check_layer(
    fn: Callable,
    kind: str,
    *,
    input_size: int,
    hidden_size: int,
    num_layers: int,
    batch: int,
    T: int,
    batch_first: bool = True,
    given_state: bool = False,
    seed: int = 0,
) -> None:
    """``rnn_forward`` / ``lstm_forward`` against ``nn.RNN`` / ``nn.LSTM`` with the same weights."""
    name = f"{kind}_forward"
    module, x, state = _layer_case(
        kind,
        input_size=input_size,
        hidden_size=hidden_size,
        num_layers=num_layers,
        batch=batch,
        T=T,
        batch_first=batch_first,
        given_state=given_state,
        seed=seed,
    )
    layers = module_weights(module)
    what = "(h0, c0)" if kind == "lstm" else "h0"
    desc = (
        f"{name}(x of shape {tuple(x.shape)}, the weights of nn.{kind.upper()}({input_size}, {hidden_size}, num_layers={num_layers}), "
        f"{what + ' given, ' if given_state else ''}batch_first={batch_first})"
    )
    hint = BATCH_FIRST if batch_first else ""
    if num_layers > 1 and input_size != hidden_size:
        hint = f"{hint} {LAYER_INPUT}".strip()
    out, last = _run_layer(fn, kind, x, layers, state, batch_first, desc, hint)
    with torch.no_grad():
        ref_out, ref_last = module(x, state) if state is not None else module(x)
    hint = ""
    if tuple(out.shape) != tuple(ref_out.shape):
        if tuple(out.shape) == tuple(ref_out.transpose(0, 1).shape):
            hint = BATCH_FIRST
        assert_shape(out, tuple(ref_out.shape), f"out of {desc}", hint=hint or BATCH_FIRST)
    if not _matches(out, ref_out):
        hint = _diagnose_layer(fn, kind, module, x, state, batch_first, out, ref_out)
    assert_close(
        out,
        ref_out,
        name=f"out of {desc}, compared with PyTorch's module holding the same weights",
        rtol=RTOL,
        atol=ATOL,
        hint=hint,
    )
    pieces = [
        ("h_n", last[0] if kind == "lstm" else last, ref_last[0] if kind == "lstm" else ref_last)
    ]
    if kind == "lstm":
        pieces.append(("c_n", last[1], ref_last[1]))
    for label, got, expected in pieces:
        assert_close(
            got,
            expected,
            name=f"{label} of {desc} (shape (num_layers, batch, hidden))",
            rtol=RTOL,
            atol=ATOL,
            hint=f"Hint: {label}[k] is layer k's state after the last time step.",
        )


INITIAL_STATE = tagged(
    "rnn.initial_state",
    "Hint: layer k starts from the state it is given: h0[k] (and c0[k] for the LSTM, the second element of state), not "
    "zeros, not h0 for the cell, not layer 0's state for every layer; zeros only when the state is None.",
)


def _initial_state_slips(state: Any) -> list[Any]:
    """The given initial states read the ways a slip reads them (zeros, h0 as the cell state,
    layer 0's state for every layer), each as PyTorch's module takes it."""
    if isinstance(state, tuple):
        h0, c0 = state
        return [
            (torch.zeros_like(h0), torch.zeros_like(c0)),
            (h0, torch.zeros_like(c0)),
            (h0, h0),
            (h0[:1].expand_as(h0).contiguous(), c0[:1].expand_as(c0).contiguous()),
        ]
    return [torch.zeros_like(state), state[:1].expand_as(state).contiguous()]


def _diagnose_layer(fn, kind, module, x, state, batch_first, out, ref_out) -> str:
    """Name the slip the output shows, or ''."""
    time_dim = 1 if batch_first else 0
    layers = module_weights(module)
    if state is not None:
        with torch.no_grad():
            if any(_matches(out, module(x, slip)[0]) for slip in _initial_state_slips(state)):
                return INITIAL_STATE
    if state is None:
        twin = type(module)(
            module.input_size,
            module.hidden_size,
            num_layers=module.num_layers,
            batch_first=not batch_first,
        ).double()
        twin.load_state_dict(module.state_dict())
        with torch.no_grad():
            if _matches(out, twin(x)[0]):
                return BATCH_FIRST
    try:
        with forbid(*LIBRARY_RECURRENT, reason=FROM_SCRATCH):
            base = as_tensor(_first(fn(x, layers, state, batch_first=batch_first)), "out")
            early = x.clone()
            early.select(time_dim, 0).add_(1.0)
            moved = as_tensor(_first(fn(early, layers, state, batch_first=batch_first)), "out")
            if torch.allclose(moved.select(time_dim, -1), base.select(time_dim, -1), atol=1e-12):
                return CARRY
            split = [(w, u, b + 0.5, c - 0.5) for w, u, b, c in layers]
            if not torch.allclose(
                as_tensor(_first(fn(x, split, state, batch_first=batch_first)), "out"),
                base,
                atol=1e-9,
            ):
                return TWO_BIASES
            if len(layers) > 1:
                w0, u0, b0, c0 = layers[0]
                changed = [(w0, u0 * 0.5, b0, c0), *layers[1:]]
                if torch.allclose(
                    as_tensor(_first(fn(x, changed, state, batch_first=batch_first)), "out"),
                    base,
                    atol=1e-12,
                ):
                    return LAYER_INPUT
    except Exception:  # noqa: BLE001 - a diagnosis never raises
        return ""
    if kind == "lstm":
        return _diagnose_lstm_layer(module, x, state, out)
    return ""


def _first(result: Any) -> Any:
    return result[0]


def _diagnose_lstm_layer(module, x, state, out) -> str:
    """The LSTM slips, reproduced with PyTorch's module on rearranged weights."""
    for hint, twin in _lstm_slip_modules(module):
        with torch.no_grad():
            expected = (twin(x, state) if state is not None else twin(x))[0]
        if _matches(out, expected):
            return hint
    return ""


def _lstm_slip_modules(module: nn.LSTM):
    order = [0, 1, 3, 2]  # rows of i, f, o, g read as i, f, g, o
    twin = _permuted(module, order)
    yield GATE_ORDER, twin


def _permuted(module: nn.Module, blocks: Sequence[int]) -> nn.Module:
    H = module.hidden_size
    twin = type(module)(
        module.input_size, H, num_layers=module.num_layers, batch_first=module.batch_first
    ).double()
    with torch.no_grad():
        for p, q in zip(module.parameters(), twin.parameters(), strict=True):
            q.copy_(torch.cat([p[b * H : (b + 1) * H] for b in blocks]))
    return twin


# --------------------------------------------------------------------------- LSTM and GRU cells


def _lstm_cell_slips(cell: nn.LSTMCell, x: torch.Tensor, h: torch.Tensor, c: torch.Tensor):
    """(hint, (h', c') a slip gives), each computed with nn.LSTMCell on rearranged inputs."""
    H = cell.hidden_size
    w = cell_weights(cell)
    with torch.no_grad():
        permuted = _cell_copy(
            cell, [torch.cat([t[b * H : (b + 1) * H] for b in (0, 1, 3, 2)]) for t in w]
        )
        yield GATE_ORDER, permuted(x, (h, c))
        h_ref, c_ref = cell(x, (h, c))
        h_zero, c_zero = cell(x, (h, torch.zeros_like(c)))
        yield FORGET, (h_zero, c_zero)
        o = h_ref / torch.tanh(c_ref)
        yield OUTPUT_TANH, (o * c_ref, c_ref)


def _candidate_probe(lstm_cell: Callable, hidden_size: int) -> bool:
    """Gates wide open (i = o = 1, f = 0), candidate pre-activation -3: c' is tanh(-3) < 0; a sigmoid gives > 0."""
    H = hidden_size
    weight_ih = torch.zeros(4 * H, 2, dtype=torch.float64)
    weight_hh = torch.zeros(4 * H, H, dtype=torch.float64)
    bias_ih = torch.cat(
        [
            torch.full((H,), 40.0),
            torch.full((H,), -40.0),
            torch.full((H,), -3.0),
            torch.full((H,), 40.0),
        ]
    ).double()
    x, h, c = (
        torch.zeros(1, 2, dtype=torch.float64),
        torch.zeros(1, H, dtype=torch.float64),
        torch.ones(1, H, dtype=torch.float64),
    )
    try:
        with forbid(*LIBRARY_RECURRENT, reason=FROM_SCRATCH):
            _, c_new = lstm_cell(
                x, (h, c), weight_ih, weight_hh, bias_ih, torch.zeros_like(bias_ih)
            )
        return bool((as_tensor(c_new, "c") > 0).all())
    except Exception:  # noqa: BLE001
        return False


def check_lstm_cell(
    lstm_cell: Callable, *, batch: int, input_size: int, hidden_size: int, seed: int
) -> None:
    cell, gen, x, h, w = _cell_case("lstm_cell", 3, batch, input_size, hidden_size, seed)
    c = torch.randn(batch, hidden_size, generator=gen, dtype=torch.float64)
    desc = f"lstm_cell(x, (h, c), weight_ih, weight_hh, bias_ih, bias_hh) with x {tuple(x.shape)}, h and c {tuple(h.shape)}"
    hint = "Hint: gates = x @ weight_ih.T + bias_ih + h @ weight_hh.T + bias_hh, split into i, f, g, o; return (h', c')."
    h_new, c_new = pair(from_scratch(lstm_cell, x, (h, c), *w, desc=desc, hint=hint), desc)
    h_new, c_new = as_tensor(h_new, f"h' of {desc}"), as_tensor(c_new, f"c' of {desc}")
    with torch.no_grad():
        h_ref, c_ref = cell(x, (h, c))
    assert_shape(h_new, tuple(h_ref.shape), f"h' of {desc}", hint=hint)
    assert_shape(c_new, tuple(c_ref.shape), f"c' of {desc}", hint=hint)
    if not (_matches(h_new, h_ref) and _matches(c_new, c_ref)):
        hint = next(
            (
                slip
                for slip, (hs, cs) in _lstm_cell_slips(cell, x, h, c)
                if _matches(h_new, hs) and _matches(c_new, cs)
            ),
            "",
        )
        if not hint and _candidate_probe(lstm_cell, hidden_size):
            hint = CANDIDATE_TANH
        if not hint and _ignores_bias_split(lstm_cell, x, (h, c), w):
            hint = TWO_BIASES
    assert_close(
        c_new,
        c_ref,
        name=f"c' of {desc}, compared with nn.LSTMCell holding the same weights",
        rtol=RTOL,
        atol=ATOL,
        hint=hint,
    )
    assert_close(
        h_new,
        h_ref,
        name=f"h' of {desc}, compared with nn.LSTMCell holding the same weights",
        rtol=RTOL,
        atol=ATOL,
        hint=hint,
    )


def check_gru_cell(
    gru_cell: Callable, *, batch: int, input_size: int, hidden_size: int, seed: int
) -> None:
    cell, _, x, h, w = _cell_case("gru_cell", 5, batch, input_size, hidden_size, seed)
    desc = f"gru_cell(x, h, weight_ih, weight_hh, bias_ih, bias_hh) with x {tuple(x.shape)}, h {tuple(h.shape)}"
    hint = "Hint: PyTorch's order is r, z, n; h' = (1 - z) * n + z * h."
    got = as_tensor(from_scratch(gru_cell, x, h, *w, desc=desc, hint=hint), desc)
    with torch.no_grad():
        expected = cell(x, h)
    assert_shape(got, tuple(expected.shape), desc, hint=hint)
    if not _matches(got, expected):
        if _gru_reset_probe(gru_cell, cell):
            hint = GRU_RESET
        elif _ignores_bias_split(gru_cell, x, h, w):
            hint = TWO_BIASES
    assert_close(
        got,
        expected,
        name=f"{desc}, compared with nn.GRUCell holding the same weights",
        rtol=RTOL,
        atol=ATOL,
        hint=hint,
    )


def _gru_reset_probe(gru_cell: Callable, cell: nn.GRUCell) -> bool:
    """With the reset gate shut (r = 0) and z = 0, h' = tanh(W_in x + b_in): b_hn must vanish with r.

    A reset applied to h before the product keeps b_hn; nn.GRUCell with b_hn moved into b_in
    gives exactly that output.
    """
    H = cell.hidden_size
    w_ih, w_hh, b_ih, b_hh = (t.clone() for t in cell_weights(cell))
    b_ih[: 2 * H] = -40.0  # r = z = 0
    b_hh[: 2 * H] = 0.0
    x = torch.randn(
        3, cell.input_size, generator=torch.Generator().manual_seed(1), dtype=torch.float64
    )
    h = 0.5 * torch.ones(3, H, dtype=torch.float64)
    moved_ih = b_ih.clone()
    moved_ih[2 * H :] += b_hh[2 * H :]
    moved_hh = b_hh.clone()
    moved_hh[2 * H :] = 0.0
    with torch.no_grad():
        slip = _cell_copy(cell, (w_ih, torch.zeros_like(w_hh), moved_ih, moved_hh))(
            x, torch.zeros_like(h)
        )
    try:
        with forbid(*LIBRARY_RECURRENT, reason=FROM_SCRATCH):
            got = as_tensor(gru_cell(x, torch.zeros_like(h), w_ih, w_hh, b_ih, b_hh), "h")
        return _matches(got, slip)
    except Exception:  # noqa: BLE001
        return False


# --------------------------------------------------------------------------- parameter counts


GATES = {"rnn": 1, "lstm": 4, "gru": 3}


def check_param_count(
    recurrent_param_count: Callable, kind: str, input_size: int, hidden_size: int, num_layers: int
) -> None:
    module = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}[kind](
        input_size, hidden_size, num_layers=num_layers, device="meta"
    )
    expected = sum(p.numel() for p in module.parameters())
    desc = f"recurrent_param_count({kind!r}, input_size={input_size}, hidden_size={hidden_size}, num_layers={num_layers})"
    got = from_scratch(recurrent_param_count, kind, input_size, hidden_size, num_layers, desc=desc)
    assert isinstance(got, (int, np.integer)) and not isinstance(got, bool), (
        f"{desc} should return an int, got {type_name(got)}"
    )
    if int(got) == expected:
        return
    g = GATES[kind]
    why = ""
    if int(got) == expected - g * hidden_size * num_layers:
        why = " " + TWO_BIASES
    elif num_layers > 1:
        why = " " + LAYER_INPUT + " So layers after the first have hidden_size inputs."
    raise AssertionError(
        f"{desc} returned {int(got):,}, but nn.{kind.upper()} of these sizes has {expected:,} parameters. "
        f"Each layer has {g} gate block(s), each with a weight for its input, a weight for h and two biases.{why}"
    )


def check_lecture_counts(lecture_counts: Any) -> None:
    check_implemented(lecture_counts, "lecture_counts")
    assert is_instance(lecture_counts, Mapping) and set(lecture_counts) == {"rnn", "lstm", "gru"}, (
        f"lecture_counts should be a dict with keys 'rnn', 'lstm', 'gru', got {shown(lecture_counts):.100}"
    )
    modules = {
        "rnn": nn.RNN(input_size=10, hidden_size=20, num_layers=1, batch_first=True, device="meta"),
        "lstm": nn.LSTM(
            input_size=10, hidden_size=32, num_layers=2, batch_first=True, device="meta"
        ),
        "gru": nn.GRU(input_size=10, hidden_size=32, num_layers=2, batch_first=True, device="meta"),
    }
    for kind, module in modules.items():
        expected = sum(p.numel() for p in module.parameters())
        assert lecture_counts[kind] == expected, (
            f"lecture_counts[{kind!r}] is {lecture_counts[kind]!r}, but the lecture's {kind.upper()} has {expected:,} parameters "
            "(count them with count_parameters on the module)."
        )


# --------------------------------------------------------------------------- q2: BPTT


def bptt_case(T: int, d_in: int, d_h: int, seed: int) -> dict[str, np.ndarray]:
    """A float64 case for ``rnn_bptt``: xs (T, d_in), h0 (d_h,), W, U, b, target."""
    rng = np.random.default_rng(seed)
    return {
        "xs": rng.normal(size=(T, d_in)),
        "h0": 0.5 * rng.normal(size=d_h),
        "W": rng.normal(scale=0.7, size=(d_h, d_in)),
        "U": rng.normal(scale=0.6, size=(d_h, d_h)),
        "b": 0.3 * rng.normal(size=d_h),
        "target": rng.uniform(-0.8, 0.8, size=d_h),
    }


BPTT_KEYS = ("W", "U", "b", "h0")


def bptt_loss(
    case: Mapping[str, Any], *, detach_after: int | None = None
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """L = 0.5 ||h_T - target||^2 in torch float64, and the leaves to differentiate.

    ``detach_after``: cut the graph so that only the last ``detach_after`` steps are seen
    (the slip of a BPTT that stops early).
    """
    leaves = {
        k: torch.tensor(np.asarray(case[k], dtype=np.float64), requires_grad=True)
        for k in BPTT_KEYS
    }
    xs = torch.as_tensor(np.asarray(case["xs"], dtype=np.float64))
    h = leaves["h0"]
    T = len(xs)
    for t in range(T):
        if detach_after is not None and t == T - detach_after:
            h = h.detach()
        h = torch.tanh(leaves["W"] @ xs[t] + leaves["U"] @ h + leaves["b"])
    target = torch.as_tensor(np.asarray(case["target"], dtype=np.float64))
    return 0.5 * ((h - target) ** 2).sum(), leaves


def autograd_gradients(case: Mapping[str, Any], **kwargs: Any) -> dict[str, np.ndarray]:
    loss, leaves = bptt_loss(case, **kwargs)
    grads = torch.autograd.grad(loss, list(leaves.values()), allow_unused=True)
    return {
        k: (np.zeros_like(leaves[k].detach().numpy()) if g is None else g.numpy())
        for k, g in zip(leaves, grads, strict=True)
    }


def run_bptt(rnn_bptt: Callable, case: Mapping[str, Any], desc: str) -> dict[str, np.ndarray]:
    # Kept beside the student's function, so that a change it makes in place is seen below.
    args = {
        k: beside(rnn_bptt, np.array(case[k], copy=True))
        for k in ("xs", "h0", "W", "U", "b", "target")
    }
    with forbid(*NO_AUTOGRAD, *LIBRARY_RECURRENT, reason=NO_AUTOGRAD_REASON):
        grads = call(
            rnn_bptt,
            args["xs"],
            args["h0"],
            args["W"],
            args["U"],
            args["b"],
            args["target"],
            desc=desc,
            hint="Hint: run the forward pass keeping every h_t, then walk back from t = T to 1.",
        )
    assert is_instance(grads, Mapping) and set(BPTT_KEYS) <= set(grads), (
        f"{desc} should return a dict with keys {list(BPTT_KEYS)}, got {shown(grads):.100}"
    )
    for k in ("xs", "h0", "W", "U", "b", "target"):
        assert np.array_equal(here(args[k]), case[k]), (
            f"{desc} modified its argument {k} in place: work on copies."
        )
    return {k: as_tensor(grads[k], f"{desc}[{k!r}]").numpy() for k in BPTT_KEYS}


BPTT_ONE_STEP = tagged(
    "rnn.bptt_one_step",
    "Hint: your gradients are those of the last step alone: back-propagation through time carries delta back through every step, delta_{t-1} = U^T (delta_t * (1 - h_t^2)), and adds each step's contribution to dW, dU and db.",
)


def check_bptt(
    rnn_bptt: Callable, case: Mapping[str, Any], *, numeric: Mapping[str, np.ndarray] | None = None
) -> None:
    """``rnn_bptt`` against autograd in float64 (and, given, finite differences)."""
    T, d_in = np.shape(case["xs"])
    desc = f"rnn_bptt(xs, h0, W, U, b, target) with T={T}, d_in={d_in}, d_h={len(case['h0'])}"
    got = run_bptt(rnn_bptt, case, desc)
    expected = autograd_gradients(case)
    truncated = autograd_gradients(case, detach_after=1)
    for k in BPTT_KEYS:
        hint = "Hint: dL/dh_T = h_T - target; through tanh multiply by 1 - h_t^2."
        if k == "h0":
            hint += " dL/dh0 is U^T times the delta of the first step."
        if not np.allclose(got[k], expected[k], rtol=1e-6, atol=1e-9) and all(
            np.allclose(got[j], truncated[j], rtol=1e-6, atol=1e-9) for j in ("W", "b")
        ):
            hint = BPTT_ONE_STEP
        assert_close(
            got[k],
            expected[k],
            name=f"{desc}[{k!r}], compared with autograd in float64",
            rtol=1e-7,
            atol=1e-10,
            hint=hint,
        )
        if numeric is not None:
            assert_close(
                got[k],
                numeric[k],
                name=f"{desc}[{k!r}], compared with centred finite differences (eps=1e-6)",
                rtol=1e-5,
                atol=1e-8,
                hint=hint,
            )


# --------------------------------------------------------------------------- q3: Jacobians, rates, clipping


def jacobian_case(
    T: int, d_h: int, *, radius: float, seed: int, d_in: int = 3, inputs: float = 1.0
) -> dict[str, np.ndarray]:
    """U = radius * (an orthogonal matrix); W, b, xs, h0 random (``inputs`` scales xs)."""
    rng = np.random.default_rng(seed)
    Q, _ = np.linalg.qr(rng.normal(size=(d_h, d_h)))
    return {
        "xs": inputs * rng.normal(size=(T, d_in)),
        "h0": 0.3 * rng.normal(size=d_h),
        "W": rng.normal(scale=0.5, size=(d_h, d_in)),
        "U": radius * Q,
        "b": 0.1 * rng.normal(size=d_h),
    }


def autograd_jacobian_norms(case: Mapping[str, Any]) -> np.ndarray:
    """||dh_t/dh_0||_2 for t = 1..T, from autograd's Jacobian of all the h_t at once."""
    xs, W, U, b = (
        torch.as_tensor(np.asarray(case[k], dtype=np.float64)) for k in ("xs", "W", "U", "b")
    )

    def states(h0: torch.Tensor) -> torch.Tensor:
        h, hs = h0, []
        for x in xs:
            h = torch.tanh(W @ x + U @ h + b)
            hs.append(h)
        return torch.stack(hs)

    J = torch.autograd.functional.jacobian(
        states, torch.as_tensor(np.asarray(case["h0"], dtype=np.float64))
    )
    return torch.linalg.matrix_norm(J, ord=2).numpy()


NO_TANH_DERIVATIVE = tagged(
    "rnn.tanh_derivative",
    "Hint: each step's Jacobian is diag(1 - h_t^2) U: the derivative of tanh at that step times U, not U alone.",
)


def check_jacobian_norms(
    jacobian_norms: Callable, case: Mapping[str, Any], label: str
) -> np.ndarray:
    T, d_h = len(case["xs"]), len(case["h0"])
    desc = f"jacobian_norms(xs, h0, W, U, b) with T={T}, d_h={d_h} ({label})"
    args = [np.array(case[k], copy=True) for k in ("xs", "h0", "W", "U", "b")]
    with forbid(
        *NO_AUTOGRAD,
        "torch.autograd.functional.jacobian",
        *LIBRARY_RECURRENT,
        reason=NO_AUTOGRAD_REASON,
    ):
        got = call(
            jacobian_norms,
            *args,
            desc=desc,
            hint="Hint: J_t = diag(1 - h_t^2) U J_{t-1}, J_0 = I; store ||J_t||_2.",
        )
    got = as_tensor(got, desc).numpy()
    expected = autograd_jacobian_norms(case)
    hint = "Hint: the spectral norm (largest singular value), np.linalg.norm(J, 2), of J_t = dh_t/dh_0 for t = 1..T."
    U = np.asarray(case["U"])
    if got.shape == expected.shape and not np.allclose(got, expected, rtol=1e-6):
        plain = np.array([np.linalg.norm(np.linalg.matrix_power(U, t), 2) for t in range(1, T + 1)])
        if np.allclose(got, plain, rtol=1e-6):
            hint = NO_TANH_DERIVATIVE
    assert_close(
        got,
        expected,
        name=f"{desc}, compared with autograd's Jacobians",
        rtol=1e-7,
        atol=1e-12,
        hint=hint,
    )
    return got


def check_growth_rate(growth_rate: Callable, norms: np.ndarray, expected: float, what: str) -> None:
    desc = f"growth_rate(norms) for {what}"
    got = call(growth_rate, np.array(norms, copy=True), desc=desc)
    assert isinstance(got, (float, np.floating)), (
        f"{desc} should return a float, got {type_name(got)}"
    )
    hint = "Hint: fit a straight line to ln(norm_t) against t = 1..T (least squares) and return its slope."
    if (
        abs(float(got) - expected) > 1e-6 * max(1.0, abs(expected))
        and abs(float(got) - expected / math.log(10)) < 1e-6
    ):
        hint = "Hint: use the natural logarithm (np.log), not log10."
    assert abs(float(got) - expected) <= 1e-6 * max(1.0, abs(expected)), (
        f"{desc} should be {expected:.6g}, got {float(got):.6g} (tolerance 1e-6). {hint}"
    )


def geometric(T: int, c: float, r: float) -> np.ndarray:
    return c * r ** np.arange(1, T + 1)


def check_theoretical_rate(
    jacobian_norms: Callable, growth_rate: Callable, *, d_h: int, T: int, radius: float, seed: int
) -> None:
    """At the fixed point h = 0 (no input, no bias) every step's Jacobian is U = radius * Q: slope ln(radius)."""
    case = jacobian_case(T, d_h, radius=radius, seed=seed)
    case.update(xs=np.zeros_like(case["xs"]), h0=np.zeros(d_h), b=np.zeros(d_h))
    norms = check_jacobian_norms(jacobian_norms, case, f"U = {radius} x orthogonal, h stays at 0")
    rate = call(
        growth_rate, norms, desc=f"growth_rate(jacobian_norms(...)) for U = {radius} x orthogonal"
    )
    assert abs(float(rate) - math.log(radius)) <= 1e-6, (
        f"For U = {radius} x an orthogonal matrix at h = 0 (tanh'(0) = 1) the norm is {radius}^t, so the slope of ln ||J_t|| "
        f"is ln {radius} = {math.log(radius):.6f}; your growth_rate gives {float(rate):.6f}."
    )


CLIP_ALWAYS = tagged(
    "rnn.clip_only_above",
    "Hint: clip only when the total norm exceeds max_norm; smaller gradients are returned unchanged (the factor is min(1, max_norm / (total + 1e-6))).",
)


def check_clip(
    clip_grad_norm: Callable,
    shapes: Sequence[tuple[int, ...]],
    max_norm: float,
    *,
    scale: float,
    seed: int,
) -> None:
    gen = torch.Generator().manual_seed(seed)
    grads = [scale * torch.randn(*s, generator=gen, dtype=torch.float64) for s in shapes]
    originals = [g.clone() for g in grads]
    grads = beside(clip_grad_norm, grads)  # where it runs, so that a change in place is seen
    desc = f"clip_grad_norm(grads of shapes {[tuple(s) for s in shapes]}, max_norm={max_norm})"
    with forbid(*NO_LIBRARY_CLIP, reason=NO_LIBRARY_CLIP_REASON):
        result = call(clip_grad_norm, grads, max_norm, desc=desc)
    clipped, total = pair(result, desc)
    total = check_float(total, f"the total norm returned by {desc}")
    for g, o in zip(grads, originals, strict=True):
        assert torch.equal(g, o), f"{desc} changed the gradients it was given: return new tensors."
    params = [nn.Parameter(torch.zeros_like(o)) for o in originals]
    for p, o in zip(params, originals, strict=True):
        p.grad = o.clone()
    expected_total = float(nn.utils.clip_grad_norm_(params, max_norm))
    assert abs(float(total) - expected_total) <= 1e-9 * expected_total, (
        f"{desc}: the total norm should be {expected_total:.6g} (the 2-norm of all gradients together), got {float(total):.6g}"
    )
    assert isinstance(clipped, (list, tuple)) and len(clipped) == len(grads), (
        f"{desc} should return a list of {len(grads)} tensors first"
    )
    hint = "Hint: multiply every gradient by max_norm / (total + 1e-6) when total > max_norm."
    for i, (got, p) in enumerate(zip(clipped, params, strict=True)):
        got = as_tensor(got, f"clipped[{i}]")
        if expected_total <= max_norm and not _matches(got, p.grad):
            hint = CLIP_ALWAYS
        assert_close(
            got,
            p.grad,
            name=f"clipped[{i}] of {desc}, compared with torch.nn.utils.clip_grad_norm_",
            rtol=1e-9,
            atol=1e-12,
            hint=hint,
        )
    if expected_total <= max_norm:  # nothing to scale: the question asks for copies all the same
        with forbid(*NO_LIBRARY_CLIP, reason=NO_LIBRARY_CLIP_REASON):
            aliases = run_beside(clip_grad_norm, returned_aliases, clip_grad_norm, grads, max_norm)
        assert not aliases, (
            f"{desc} returned the tensors it was given (clipped[i] for i in {aliases} share memory with grads[i]) "
            f"instead of copies. {CLIP_COPIES}"
        )


NO_LIBRARY_CLIP = ("torch.nn.utils.clip_grad_norm_", "torch.nn.utils.clip_grad.clip_grad_norm_")
NO_LIBRARY_CLIP_REASON = "Compute the norm and the factor yourself."
CLIP_COPIES = tagged(
    "rnn.clip_copies",
    "Hint: when the total is at most max_norm, return unchanged copies (g.clone()), not the gradients themselves: "
    "the caller may change what you return, and that must not change its gradients.",
)


def returned_aliases(
    clip_grad_norm: Callable, grads: Sequence[torch.Tensor], max_norm: float
) -> list[int]:
    """Beside the student's code: the positions i at which ``clip_grad_norm(grads, max_norm)``
    returns a tensor sharing memory with ``grads[i]`` (or with any of ``grads``)."""
    clipped, _ = clip_grad_norm(grads, max_norm)
    given = {g.untyped_storage().data_ptr() for g in grads}
    return [
        i
        for i, c in enumerate(clipped)
        if isinstance(c, torch.Tensor) and c.untyped_storage().data_ptr() in given
    ]


# --------------------------------------------------------------------------- q6: memory


FORGET_SLICE = tagged(
    "rnn.forget_slice",
    "Hint: in PyTorch's order i, f, g, o the forget gate is the second block, rows hidden_size:2*hidden_size of bias_ih_l{k} and bias_hh_l{k}, in every layer.",
)


def check_init_forget_bias(
    init_forget_bias: Callable,
    *,
    input_size: int,
    hidden_size: int,
    num_layers: int,
    value: float,
    seed: int,
) -> None:
    torch.manual_seed(seed)
    lstm = nn.LSTM(input_size, hidden_size, num_layers=num_layers)
    before = {n: p.detach().clone() for n, p in lstm.named_parameters()}
    lstm = beside(init_forget_bias, lstm)  # the student's function changes it in place
    desc = (
        f"init_forget_bias(nn.LSTM({input_size}, {hidden_size}, num_layers={num_layers}), {value})"
    )
    returned = _call_none_ok(init_forget_bias, lstm, value, desc=desc)
    H = hidden_size
    untouched = all(torch.equal(p.detach(), before[n]) for n, p in lstm.named_parameters())
    assert not untouched, (
        f"{desc} left every parameter as PyTorch initialised it: this is not answered yet. "
        f"Replace the `...` in the stub: set the forget gate's rows {H}:{2 * H} of the biases "
        "in place (under torch.no_grad())."
    )
    assert returned is not None and run_beside(lstm, same_object, returned, lstm), (
        f"{desc} returned {shown(returned):.60}: it should return the LSTM it was given, changed in place. {RETURN_LSTM}"
    )
    for k in range(num_layers):
        total = getattr(lstm, f"bias_ih_l{k}").detach() + getattr(lstm, f"bias_hh_l{k}").detach()
        assert torch.allclose(total[H : 2 * H], torch.full((H,), float(value)), atol=1e-6), (
            f"After {desc}, bias_ih_l{k} + bias_hh_l{k} should be {value} on the forget gate's rows {H}:{2 * H} (their sum is the "
            f"gate's effective bias), got values from {total[H : 2 * H].min():.3f} to {total[H : 2 * H].max():.3f}. {FORGET_SLICE}"
        )
    for name, p in lstm.named_parameters():
        old = before[name]
        if name.startswith("bias"):
            keep = torch.cat([torch.arange(0, H), torch.arange(2 * H, 4 * H)])
            assert torch.equal(p.detach()[keep], old[keep]), (
                f"{desc} changed {name} outside the forget gate's rows {H}:{2 * H}. {FORGET_SLICE}"
            )
        else:
            assert torch.equal(p.detach(), old), (
                f"{desc} changed {name}: only the forget gate's biases should change."
            )
        assert p.requires_grad, (
            f"{desc} left {name} with requires_grad=False: change the values under torch.no_grad() instead."
        )


RETURN_LSTM = tagged(
    "rnn.return_lstm",
    "Hint: end init_forget_bias with `return lstm`, as the question asks, so that "
    "init_forget_bias(nn.LSTM(...), value) builds and initialises a layer in one expression.",
)


def same_object(a: Any, b: Any) -> bool:
    """Beside the student's code: whether ``a`` and ``b`` are one object."""
    return a is b


def _call_none_ok(fn: Callable, *args: Any, desc: str) -> Any:
    """Like :func:`call` for a function that works in place and may return None."""
    check_defined(fn, desc)
    try:
        return fn(*args)
    except Exception as err:  # noqa: BLE001
        first = (str(err).strip().splitlines() or [""])[0].rstrip(".")
        raise AssertionError(
            f"{desc} raised {type(err).__name__}: {first}. Hint: change the values under torch.no_grad()."
        ) from None


def check_forget_bias_for(forget_bias_for: Callable, T: int, keep: float) -> None:
    desc = f"forget_bias_for({T}, keep={keep})"
    got = check_float(call(forget_bias_for, T, keep=keep, desc=desc), desc)
    sigma = 1.0 / (1.0 + math.exp(-float(got)))
    assert abs(sigma**T - keep) <= 1e-9, (
        f"{desc} returned {float(got):.6g}: with f = sigmoid({float(got):.4g}) = {sigma:.6f}, f^{T} = {sigma**T:.6f} of the cell state "
        f"survives {T} steps, not {keep}. Hint: solve sigmoid(b)^T = keep: b = ln(p / (1 - p)) with p = keep^(1/T)."
    )


def parameter_count(model: nn.Module) -> int:
    """Beside the student's code: the number of scalars in ``model``'s parameters."""
    return int(sum(p.numel() for p in model.parameters()))


def unreached_parameters(model: nn.Module, x: torch.Tensor) -> list[str]:
    """Beside the student's code: the names of ``model``'s parameters that the gradient of
    ``model(x).sum()`` does not reach (no gradient, or an all-zero one); every name when the
    output carries no graph at all. The gradients are cleared again afterwards."""
    names = [name for name, _ in model.named_parameters()]
    for p in model.parameters():
        p.grad = None
    try:
        with torch.enable_grad():
            model(x).sum().backward()
        return [n for n, p in model.named_parameters() if p.grad is None or not bool(p.grad.any())]
    except RuntimeError:  # the output does not require grad: nothing is reached
        return names
    finally:
        for p in model.parameters():
            p.grad = None


GRADIENT_BLOCKED = tagged(
    "rnn.gradient_blocked",
    "Hint: forward must keep the graph from the loss back to every parameter: no .detach(), torch.no_grad(), .data or "
    ".item() between self.rnn and self.head, or the recurrent layer never learns.",
)


def _check_layout(
    model: Any, desc: str, layer: Any, expected_count: int, parts: str, hint: str
) -> None:
    """One recurrent layer, PyTorch's defaults (biases, no projection, one direction), and no
    parameter beyond the recurrent layer and the head the question lists."""
    assert layer.num_layers == 1 and not layer.bidirectional, (
        f"{desc}: model.rnn should have one layer in one direction, got num_layers={layer.num_layers}, "
        f"bidirectional={layer.bidirectional}. {hint}"
    )
    count = run_beside(model, parameter_count, model)
    assert count == expected_count, (
        f"{desc} holds {count:,} parameters, but {parts} hold {expected_count:,}. {hint}"
    )


def _check_gradient_reaches(model: Any, x: torch.Tensor, desc: str) -> None:
    blocked = run_beside(model, unreached_parameters, model, x)
    assert not blocked, (
        f"{desc}: the gradient of model(x).sum() does not reach {', '.join(blocked)}. {GRADIENT_BLOCKED}"
    )


MEMORY_LAYOUT = tagged(
    "rnn.memory_layout",
    "Hint: build exactly what the question lists: self.rnn = nn.RNN(n_inputs, hidden_size, batch_first=True) or nn.LSTM "
    "of the same sizes (one layer, PyTorch's other defaults), and self.head = nn.Linear(hidden_size, n_symbols).",
)


MEMORY_HEAD = tagged(
    "rnn.memory_last_step",
    "Hint: the class is read from the last time step: logits = head(out[:, -1]) with out from the batch_first recurrent layer.",
)


def check_memory_model(
    make_memory_model: Callable,
    kind: str,
    *,
    n_inputs: int,
    n_symbols: int,
    hidden_size: int,
    forget_bias: float,
    seed: int,
) -> nn.Module:
    desc = f"MemoryNet({kind!r}, n_inputs={n_inputs}, n_symbols={n_symbols}, hidden_size={hidden_size}, forget_bias={forget_bias})"
    run_beside(make_memory_model, torch.manual_seed, seed)
    model = call(
        make_memory_model,
        kind,
        n_inputs=n_inputs,
        n_symbols=n_symbols,
        hidden_size=hidden_size,
        forget_bias=forget_bias,
        desc=desc,
    )
    assert is_instance(model, nn.Module), (
        f"{desc} should return an nn.Module, got {type_name(model)}"
    )
    layer = getattr(model, "rnn", None)
    want = nn.LSTM if kind == "lstm" else nn.RNN
    assert is_instance(layer, want), (
        f"{desc}: model.rnn should be an nn.{want.__name__}, got {type_name(layer)}"
    )
    assert (
        layer.hidden_size == hidden_size and layer.input_size == n_inputs and layer.batch_first
    ), (
        f"{desc}: model.rnn should be nn.{want.__name__}({n_inputs}, {hidden_size}, batch_first=True)"
    )
    module = {"lstm": nn.LSTM, "rnn": nn.RNN}[kind](n_inputs, hidden_size, device="meta")
    expected_count = (
        sum(p.numel() for p in module.parameters()) + hidden_size * n_symbols + n_symbols
    )
    _check_layout(
        model,
        desc,
        layer,
        expected_count,
        f"nn.{want.__name__}({n_inputs}, {hidden_size}) and nn.Linear({hidden_size}, {n_symbols})",
        MEMORY_LAYOUT,
    )
    if kind == "rnn":
        assert layer.nonlinearity == "tanh", f"{desc}: the plain RNN should use tanh."
    else:
        total = layer.bias_ih_l0.detach() + layer.bias_hh_l0.detach()
        H = hidden_size
        assert torch.allclose(total[H : 2 * H], torch.full((H,), float(forget_bias)), atol=1e-6), (
            f"{desc}: the LSTM's forget-gate bias (bias_ih_l0 + bias_hh_l0, rows {H}:{2 * H}) should be {forget_bias}. "
            "Hint: call your init_forget_bias on it."
        )
    x = torch.randn(5, 7, n_inputs, generator=torch.Generator().manual_seed(seed))
    out = call(
        model, x, desc=f"the model of {desc} on x of shape (5, 7, {n_inputs})", hint=MEMORY_HEAD
    )
    assert_shape(
        out,
        (5, n_symbols),
        f"the model of {desc} on x of shape (5, 7, {n_inputs})",
        hint=MEMORY_HEAD,
    )
    with torch.no_grad():
        expected = model.head(model.rnn(x)[0][:, -1])
    assert_close(
        out,
        expected,
        name=f"model(x) of {desc}, compared with model.head(model.rnn(x)[0][:, -1])",
        rtol=1e-5,
        atol=1e-6,
        hint=MEMORY_HEAD,
    )
    _check_gradient_reaches(model, x, f"the model of {desc}")
    return model


def answered(env: Mapping[str, Any], name: str, skipped: str | None) -> Any:
    """The notebook's value of ``name`` for a test that is gated on an earlier question.

    The stub's ``...`` fails as not answered yet. A name its cell could not compute (missing, an
    empty dict, or the None that an earlier question's unfinished function returned) is not held
    against this question when ``skipped`` says that an earlier question fails first: that cell
    ran the earlier question's code, which has lost its points.
    """
    value = env.get(name)
    missing = value is None or (isinstance(value, dict) and not value)
    if skipped is not None and missing:
        return None
    if name not in env:
        raise AssertionError(
            tagged(
                "kit.not_defined",
                f"`{name}` is not defined: its cell stopped before setting it. Hint: run that cell "
                "(and every cell above it) and fix the first error it shows.",
            )
        )
    check_implemented(env[name], name)
    return env[name]


LSTM_MIN_ACCURACY = 0.9
RNN_MAX_ACCURACY = 0.4
ABLATION_MAX_ACCURACY = 0.4  # the LSTM with forget bias 1 (question 10): near chance, like the RNN

ACCURACY_OVER_EXAMPLES = tagged(
    "rnn.accuracy_over_examples",
    "Hint: the fraction of all 2,000 test sequences, each counted once (not a mean of per-batch accuracies, which weights "
    "a short last batch wrongly): model.eval(), then the mean of (model(X).argmax(dim=1) == y) under torch.no_grad().",
)
ABLATION_MODEL = tagged(
    "rnn.ablation_model",
    "Hint: question 10 is about `lstm_bias_one`, the LSTM that the given cell after question 7 builds with forget_bias=1.0 "
    "and trains on the same batches with the same budget: measure that model as the cell leaves it, not memory_models['lstm'] "
    "(forget bias forget_bias_for(30, keep=0.8), about 4.9), and keep forget_bias=1.0 in that cell.",
)


def _check_near_chance(
    accuracy: float, *, what: str, limit: float, n_symbols: int, where: str, advice: str
) -> None:
    assert accuracy <= limit, (
        f"On {where} {what} reaches {accuracy:.3f}, expected near chance ({1 / n_symbols:.2f}, at most {limit}): {advice}"
    )


def memory_gate(env: Mapping[str, Any], *, hidden: bool = False) -> dict[str, Callable]:
    """Question 6's checks that questions 7 and 10 are judged behind (``shared.testing.gate``):
    the public cases, or with ``hidden`` the hidden ones."""
    init, model_seed = (
        (dict(input_size=2, hidden_size=6, num_layers=2, value=0.5, seed=84), 85)
        if hidden
        else (dict(input_size=3, hidden_size=4, num_layers=1, value=1.0, seed=0), 1)
    )
    return {
        "q6": lambda: (
            check_init_forget_bias(env.get("init_forget_bias"), **init),
            check_forget_bias_for(env.get("forget_bias_for"), 30, 0.5),
            [
                check_memory_model(
                    env.get("MemoryNet"),
                    kind,
                    n_inputs=5,
                    n_symbols=4,
                    hidden_size=8,
                    forget_bias=2.5,
                    seed=model_seed,
                )
                for kind in ("rnn", "lstm")
            ],
        )
    }


def check_memory_claim(accuracy: Mapping[str, float], *, n_symbols: int, where: str) -> None:
    lstm, rnn = float(accuracy["lstm"]), float(accuracy["rnn"])
    assert lstm >= LSTM_MIN_ACCURACY, (
        f"On {where} the trained LSTM recalls the first token with accuracy {lstm:.3f}; it should reach {LSTM_MIN_ACCURACY} "
        f"(chance is {1 / n_symbols:.2f}). Your functions pass their checks, so look at the training cell (the forget bias, T, the budget)."
    )
    _check_near_chance(
        rnn,
        what="the trained RNN",
        limit=RNN_MAX_ACCURACY,
        n_symbols=n_symbols,
        where=where,
        advice="did the RNN get a larger budget than the LSTM?",
    )


def check_ablation_claim(accuracy: float, *, n_symbols: int, where: str) -> None:
    """Question 10's claim: the LSTM with the common forget bias of 1, trained like the experiment's, stays near chance."""
    _check_near_chance(
        float(accuracy),
        what="the LSTM with forget bias 1",
        limit=ABLATION_MAX_ACCURACY,
        n_symbols=n_symbols,
        where=where,
        advice=ABLATION_MODEL,
    )


def check_accuracy_of(
    value: float,
    model: Any,
    name: str,
    *,
    what: str,
    measure: Callable[[Any], float],
    others: Mapping[str, Any] | None = None,
    other_hint: str = "",
) -> None:
    """``value`` (the notebook's ``name``, a float) is ``measure(model)``, the accuracy of ``model``
    (``what``) on the test sequences, to 1e-6. When it is not but is the accuracy of one of
    ``others`` (other trained models, by description), the message names that model and shows
    ``other_hint``; else it shows :data:`ACCURACY_OVER_EXAMPLES`. ``others`` are measured only
    when ``value`` is wrong."""
    expected = float(measure(model))
    if abs(value - expected) <= 1e-6:
        return
    for other, other_model in (others or {}).items():
        assert not abs(value - float(measure(other_model))) <= 1e-6, (  # NaN matches none
            f"{name} is {value:.6f}, the accuracy of {other} on the test sequences, but {what} classifies "
            f"{expected:.6f} of them correctly. {other_hint}"
        )
    raise AssertionError(
        f"{name} is {value:.6f}, but {what} classifies {expected:.6f} of the test sequences correctly (tolerance 1e-6). "
        + ACCURACY_OVER_EXAMPLES
    )


# --------------------------------------------------------------------------- the trained models

# The notebook's training recipes, as its prose states them (solutions/06_lstm/06_lstm.py): the
# models a claim is judged on must be the ones these give, not a model built or trained otherwise.
MEMORY_RECIPE = {
    "T": 30,
    "n_symbols": 4,
    "hidden": 32,
    "steps": 150,
    "lr": 5e-3,
    "batch": 128,
    "keep": 0.8,
}
FORECAST_RECIPE = {"length": 30, "hidden": 16, "steps": 120, "lr": 2e-2, "batch": 64}


def _fit(
    model: nn.Module, make_batch: Callable, *, steps: int, lr: float, loss_fn: Callable
) -> None:
    """The notebook's ``fit``: Adam on ``steps`` batches from ``make_batch()``."""
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    model.train()
    for _ in range(steps):
        inputs, targets = make_batch()
        loss = loss_fn(model(inputs), targets)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


def model_parameters(model: nn.Module) -> dict[str, torch.Tensor]:
    """Beside the student's code: a copy of each of ``model``'s parameters, by name."""
    return {name: p.detach().clone() for name, p in model.named_parameters()}


def memory_recipe(
    make_memory_model: Callable,
    forget_bias_for: Callable,
    kind: str,
    seed: int,
    forget_bias: float | None = None,
) -> dict[str, torch.Tensor]:
    """Beside the student's code: the parameters the notebook's memory training cell gives the
    ``kind`` network with ``rng_seed = seed``, built and trained again with the student's own
    classes and functions (the recipe's batches come from a generator, so no global state).

    ``forget_bias``: the LSTM's forget bias; None for the experiment's,
    ``forget_bias_for(T, keep=0.8)``, or a value: 1.0 for the ablation of question 10, the same
    network, seed, batches and budget with the common forget bias."""
    import torch.nn.functional as F

    from shared.sequences import first_token_recall

    r = MEMORY_RECIPE
    if forget_bias is None:
        forget_bias = forget_bias_for(r["T"], keep=r["keep"])
    torch.manual_seed(seed)
    model = make_memory_model(
        kind, r["n_symbols"] + 1, r["n_symbols"], r["hidden"], forget_bias=forget_bias
    )
    batches = torch.Generator().manual_seed(seed)
    _fit(
        model,
        lambda: first_token_recall(r["batch"], r["T"], n_symbols=r["n_symbols"], seed=batches),
        steps=r["steps"],
        lr=r["lr"],
        loss_fn=F.cross_entropy,
    )
    return model_parameters(model)


def forecast_recipe(make_forecaster: Callable, seed: int) -> dict[str, torch.Tensor]:
    """Beside the student's code: the parameters the notebook's forecasting training cell gives
    the forecaster with ``rng_seed = seed``, trained again with the student's own class."""
    import torch.nn.functional as F

    from shared.sequences import damped_oscillators

    r = FORECAST_RECIPE
    torch.manual_seed(seed)
    model = make_forecaster(r["hidden"])
    batches = torch.Generator().manual_seed(seed)

    def next_value_batch():
        signals = damped_oscillators(r["batch"], r["length"] + 1, seed=batches)
        return signals[:, :-1], signals[:, 1:]

    _fit(model, next_value_batch, steps=r["steps"], lr=r["lr"], loss_fn=F.mse_loss)
    return model_parameters(model)


RECIPE_MODEL = tagged(
    "rnn.recipe_model",
    "Hint: measure the models the given training cell trained, as they are: do not rebuild, re-initialise, retrain or "
    "replace them (nor change the cell's seed, sizes or budget) before you measure.",
)


def check_trained_as_recipe(
    model: Any, rerun: Mapping[str, torch.Tensor], what: str, recipe: str
) -> None:
    """``model`` (the notebook's trained model) holds the parameters that ``rerun`` (the recipe,
    trained again beside the student's code at the notebook's seed) gives."""
    got = run_beside(model, model_parameters, model)
    assert set(got) == set(rerun), (
        f"{what} has the parameters {sorted(got)}, but the model that {recipe} trains has {sorted(rerun)}. {RECIPE_MODEL}"
    )
    worst = max(float((got[n].double() - rerun[n].double()).abs().max()) for n in rerun)
    assert worst <= 1e-4, (
        f"{what} is not the model that {recipe} trains: trained again at the notebook's rng_seed, its parameters differ "
        f"from it by up to {worst:.3g} (tolerance 1e-4). {RECIPE_MODEL}"
    )


# --------------------------------------------------------------------------- q8 and q9: forecasting


PADDING = tagged(
    "rnn.padding_in_state",
    "Hint: the padding changed your answer: pack the batch with pack_padded_sequence(padded, lengths, batch_first=True, enforce_sorted=False) and take h_n of the last layer, which stops at each sequence's own end.",
)


def padded_cases(
    kind: str,
    *,
    lengths: Sequence[int],
    input_size: int,
    hidden_size: int,
    num_layers: int,
    seed: int,
):
    module = reference(kind, input_size, hidden_size, num_layers, seed=seed, batch_first=True)
    gen = torch.Generator().manual_seed(seed + 11)
    sequences = [torch.randn(L, input_size, generator=gen, dtype=torch.float64) for L in lengths]
    return module, sequences


def check_last_hidden(
    last_hidden_packed: Callable,
    kind: str,
    *,
    lengths: Sequence[int],
    input_size: int,
    hidden_size: int,
    num_layers: int = 1,
    seed: int = 0,
) -> None:
    """The same sequences padded two ways give each sequence's own last hidden state."""
    module, sequences = padded_cases(
        kind,
        lengths=lengths,
        input_size=input_size,
        hidden_size=hidden_size,
        num_layers=num_layers,
        seed=seed,
    )
    with torch.no_grad():
        alone = []
        for s in sequences:
            _, last = module(s.unsqueeze(0))
            alone.append((last[0] if kind == "lstm" else last)[-1, 0])
    expected = torch.stack(alone)
    results = []
    for value, extra in ((0.0, 0), (5.0, 3)):
        padded, lens = pad_batch(sequences, value=value, extra=extra)
        desc = (
            f"last_hidden_packed(nn.{kind.upper()}({input_size}, {hidden_size}, num_layers={num_layers}, batch_first=True), padded of shape "
            f"{tuple(padded.shape)} padded with {value} ({extra} extra steps), lengths={list(lens.tolist())})"
        )
        got = as_tensor(
            call(last_hidden_packed, module, padded, lens, desc=desc, hint=PADDING), desc
        )
        assert_shape(
            got,
            (len(sequences), hidden_size),
            desc,
            hint="Hint: one row per sequence: h_n[-1], the last layer's state.",
        )
        results.append((desc, got))
    hint = "" if _matches(results[0][1], results[1][1]) else PADDING
    for desc, got in results:
        assert_close(
            got,
            expected,
            name=f"{desc}, compared with each sequence run alone",
            rtol=RTOL,
            atol=ATOL,
            hint=hint,
        )


FORECAST_HEAD = tagged(
    "rnn.forecast_many_to_many",
    "Hint: many-to-many: one prediction per time step, model.head(model.rnn(x)[0]), of shape (batch, time, 1).",
)


FORECAST_LAYOUT = tagged(
    "rnn.forecast_layout",
    "Hint: build exactly what the question lists: self.rnn = nn.GRU(1, hidden_size, batch_first=True) or nn.LSTM of the "
    "same sizes (one layer, PyTorch's other defaults), and self.head = nn.Linear(hidden_size, 1).",
)


def check_forecaster(make_forecaster: Callable, *, hidden_size: int, seed: int) -> nn.Module:
    desc = f"Forecaster(hidden_size={hidden_size})"
    run_beside(make_forecaster, torch.manual_seed, seed)
    model = call(make_forecaster, hidden_size=hidden_size, desc=desc)
    assert is_instance(model, nn.Module), (
        f"{desc} should return an nn.Module, got {type_name(model)}"
    )
    layer = getattr(model, "rnn", None)
    assert layer is not None and layer is not Ellipsis, (
        f"{desc}: model.rnn is {shown(layer)}: this is not answered yet. Build the recurrent layer "
        "in __init__ and keep it as self.rnn, as the question asks."
    )
    kind = next((k for k in (nn.GRU, nn.LSTM) if is_instance(layer, k)), None)
    assert (
        kind is not None
        and layer.batch_first
        and layer.hidden_size == hidden_size
        and layer.input_size == 1
    ), (
        f"{desc}: model.rnn should be a one-layer nn.GRU or nn.LSTM(1, {hidden_size}, batch_first=True), got {shown(layer)}. "
        f"{FORECAST_LAYOUT}"
    )
    expected_count = sum(p.numel() for p in kind(1, hidden_size, device="meta").parameters()) + (
        hidden_size + 1
    )
    _check_layout(
        model,
        desc,
        layer,
        expected_count,
        f"nn.{kind.__name__}(1, {hidden_size}) and nn.Linear({hidden_size}, 1)",
        FORECAST_LAYOUT,
    )
    x = torch.randn(4, 9, 1, generator=torch.Generator().manual_seed(seed))
    out = call(model, x, desc=f"the model of {desc} on x of shape (4, 9, 1)", hint=FORECAST_HEAD)
    assert_shape(out, (4, 9, 1), f"the model of {desc} on x of shape (4, 9, 1)", hint=FORECAST_HEAD)
    with torch.no_grad():
        expected = model.head(model.rnn(x)[0])
    assert_close(
        out,
        expected,
        name=f"model(x) of {desc}, compared with model.head(model.rnn(x)[0])",
        rtol=1e-5,
        atol=1e-6,
        hint=FORECAST_HEAD,
    )
    _check_gradient_reaches(model, x, f"the model of {desc}")
    return model


FORECAST_RATIO = 0.5


def check_forecast_claim(model_mse: float, baseline_mse: float, where: str) -> None:
    assert model_mse <= FORECAST_RATIO * baseline_mse, (
        f"On {where} the forecaster's squared error ({model_mse:.4g}) should be at most {FORECAST_RATIO} x that of the naive "
        f"last-value forecast ({baseline_mse:.4g}). Your Forecaster passes its checks, so look at the training cell."
    )
