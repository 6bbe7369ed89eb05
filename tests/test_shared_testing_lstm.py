"""shared.testing.lstm: every check accepts valid styles and names the mistake it catches."""

import math
import sys

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence

from shared.sequences import first_token_recall
from shared.testing import lstm as t
from tests.support import load_grader_only

oracles = load_grader_only("06_lstm", "oracles")

# --------------------------------------------------------------------------- reference solutions


def rnn_cell(x, h, w_ih, w_hh, b_ih, b_hh, *, one_bias=False):
    return torch.tanh(F.linear(x, w_ih, b_ih) + F.linear(h, w_hh, None if one_bias else b_hh))


def layer_forward(
    cell,
    x,
    layers,
    state=None,
    batch_first=True,
    *,
    lstm=False,
    reset=False,
    feed_x=False,
    swap=False,
):
    seq = x.transpose(0, 1) if batch_first and not swap else x
    T, B = seq.shape[:2]
    H = layers[0][1].shape[1]
    if state is None:
        zeros = torch.zeros(len(layers), B, H, dtype=x.dtype)
        state = (zeros, zeros.clone()) if lstm else zeros
    inputs, finals = seq, []
    for k, weights in enumerate(layers):
        s0 = (state[0][k], state[1][k]) if lstm else state[k]
        s, outs = s0, []
        for step in range(T):
            s = cell(seq[step] if feed_x else inputs[step], s0 if reset else s, *weights)
            outs.append(s[0] if lstm else s)
        inputs = torch.stack(outs)
        finals.append(s)
    out = inputs.transpose(0, 1) if batch_first and not swap else inputs
    if lstm:
        return out, (torch.stack([f[0] for f in finals]), torch.stack([f[1] for f in finals]))
    return out, torch.stack(finals)


def lstm_cell(
    x, state, w_ih, w_hh, b_ih, b_hh, *, order="ifgo", g_act=torch.tanh, forget=True, out_tanh=True
):
    h, c = state
    blocks = dict(zip(order, (x @ w_ih.T + b_ih + h @ w_hh.T + b_hh).chunk(4, dim=-1), strict=True))
    i, f, o = (torch.sigmoid(blocks[k]) for k in "ifo")
    c_new = (f * c if forget else 0) + i * g_act(blocks["g"])
    return (o * torch.tanh(c_new) if out_tanh else o * c_new), c_new


def gru_cell(x, h, w_ih, w_hh, b_ih, b_hh, *, reset_before=False):
    H = h.shape[-1]
    xr, xz, xn = (x @ w_ih.T + b_ih).chunk(3, -1)
    hr, hz, hn = (h @ w_hh.T + b_hh).chunk(3, -1)
    r, z = torch.sigmoid(xr + hr), torch.sigmoid(xz + hz)
    n = torch.tanh(xn + ((r * h) @ w_hh[2 * H :].T + b_hh[2 * H :] if reset_before else r * hn))
    return (1 - z) * n + z * h


def bptt(xs, h0, W, U, b, target, *, steps=None):
    hs = [h0]
    for x in xs:
        hs.append(np.tanh(W @ x + U @ hs[-1] + b))
    grads = {"W": np.zeros_like(W), "U": np.zeros_like(U), "b": np.zeros_like(b)}
    dh = hs[-1] - target
    T = len(xs)
    for step in range(T, T - (steps or T), -1):
        da = dh * (1 - hs[step] ** 2)
        grads["W"] += np.outer(da, xs[step - 1])
        grads["U"] += np.outer(da, hs[step - 1])
        grads["b"] += da
        dh = U.T @ da
    grads["h0"] = dh
    return grads


def jacobian_norms(xs, h0, W, U, b, *, tanh_derivative=True):
    h, J, norms = h0, np.eye(len(h0)), []
    for x in xs:
        h = np.tanh(W @ x + U @ h + b)
        J = ((1 - h**2)[:, None] * U if tanh_derivative else U) @ J
        norms.append(np.linalg.norm(J, 2))
    return np.array(norms)


def growth_rate(norms):
    return oracles.least_squares_slope(norms)


def clip_grad_norm(grads, max_norm, *, always=False):
    total = torch.sqrt(sum((g**2).sum() for g in grads))
    factor = max_norm / (total + 1e-6)
    if always or factor < 1:
        return [g * factor for g in grads], float(total)
    return [g.clone() for g in grads], float(total)


def hint_of(check, *args, **kwargs):
    with pytest.raises(AssertionError) as info:
        check(*args, **kwargs)
    return str(info.value)


LAYER = {"input_size": 4, "hidden_size": 4, "num_layers": 2, "batch": 3, "T": 5, "seed": 1}

# --------------------------------------------------------------------------- q1


def test_rnn_checks_accept_the_reference():
    t.check_rnn_cell(rnn_cell, batch=3, input_size=4, hidden_size=5, seed=0)
    forward = lambda x, layers, h0=None, batch_first=True: layer_forward(
        rnn_cell, x, layers, h0, batch_first
    )  # noqa: E731
    for batch_first in (True, False):
        t.check_layer(forward, "rnn", **LAYER, batch_first=batch_first, given_state=True)
    t.check_layer(forward, "rnn", input_size=10, hidden_size=20, num_layers=1, batch=5, T=3, seed=2)


@pytest.mark.parametrize(
    ("slip", "tag"),
    [
        ({"reset": True}, "rnn.carry_hidden"),
        ({"feed_x": True}, "rnn.layer_input"),
        ({"swap": True}, "rnn.batch_first"),
    ],
)
def test_rnn_layer_names_the_slip(slip, tag):
    forward = lambda x, layers, h0=None, batch_first=True: layer_forward(
        rnn_cell, x, layers, h0, batch_first, **slip
    )  # noqa: E731
    assert f"[hint: {tag}]" in hint_of(t.check_layer, forward, "rnn", **LAYER)


def test_rnn_cell_one_bias():
    cell = lambda *a: rnn_cell(*a, one_bias=True)  # noqa: E731
    assert "[hint: rnn.two_biases]" in hint_of(
        t.check_rnn_cell, cell, batch=2, input_size=3, hidden_size=4, seed=0
    )


def test_library_modules_are_forbidden():
    def cheat(x, h, *weights):
        return nn.RNNCell(x.shape[1], h.shape[1]).double()(x, h)

    assert "implement this yourself" in hint_of(
        t.check_rnn_cell, cheat, batch=2, input_size=3, hidden_size=4, seed=0
    )


# --------------------------------------------------------------------------- q2, q3


def test_bptt_against_autograd_and_finite_differences(monkeypatch):
    import autograder.grader_support as support
    import autograder.grader_support.gradcheck as gradcheck

    # grader_only imports the kit's finite differences as the autograder zip lays them out
    monkeypatch.setitem(sys.modules, "grader_support", support)
    monkeypatch.setitem(sys.modules, "grader_support.gradcheck", gradcheck)
    case = t.bptt_case(T=5, d_in=3, d_h=2, seed=0)
    t.check_bptt(bptt, case, numeric=oracles.numeric_bptt(case))
    torch_style = lambda *a: {k: torch.as_tensor(v) for k, v in bptt(*a).items()}  # noqa: E731
    t.check_bptt(torch_style, case)
    one_step = lambda *a: bptt(*a, steps=1)  # noqa: E731
    assert "[hint: rnn.bptt_one_step]" in hint_of(t.check_bptt, one_step, case)


def test_jacobians_rates_and_clipping():
    case = t.jacobian_case(T=8, d_h=4, radius=1.2, seed=0)
    t.check_jacobian_norms(jacobian_norms, case, "test")
    t.check_growth_rate(growth_rate, t.geometric(9, 1.5, 0.7), math.log(0.7), "geometric")
    t.check_theoretical_rate(jacobian_norms, growth_rate, d_h=4, T=12, radius=1.3, seed=1)
    plain = lambda *a: jacobian_norms(*a, tanh_derivative=False)  # noqa: E731
    assert "[hint: rnn.tanh_derivative]" in hint_of(t.check_jacobian_norms, plain, case, "test")
    log10 = lambda norms: growth_rate(norms) / math.log(10)  # noqa: E731
    assert "np.log" in hint_of(
        t.check_growth_rate, log10, t.geometric(9, 1.5, 0.7), math.log(0.7), "g"
    )
    t.check_clip(clip_grad_norm, [(3, 2), (2,)], 1.0, scale=5.0, seed=0)
    t.check_clip(clip_grad_norm, [(3, 2)], 10.0, scale=0.1, seed=0)
    always = lambda g, m: clip_grad_norm(g, m, always=True)  # noqa: E731
    assert "[hint: rnn.clip_only_above]" in hint_of(
        t.check_clip, always, [(3, 2)], 10.0, scale=0.1, seed=0
    )


def test_changes_in_place_are_seen_in_the_notebook():
    """The arguments a check keeps beside the student's function (for the grading referee) are
    the student's own objects in a notebook: a change made in place is still caught."""
    case = t.bptt_case(T=3, d_in=2, d_h=2, seed=0)

    def scribbles(xs, h0, W, U, b, target):
        grads = bptt(xs, h0, W, U, b, target)
        W *= 2.0
        return grads

    assert "modified its argument W in place" in hint_of(t.check_bptt, scribbles, case)

    def clips_in_place(grads, max_norm):
        clipped, total = clip_grad_norm(grads, max_norm)
        for g, c in zip(grads, clipped, strict=True):
            g.copy_(c)
        return clipped, total

    assert "changed the gradients it was given" in hint_of(
        t.check_clip, clips_in_place, [(3, 2)], 1.0, scale=5.0, seed=0
    )
    assert t.type_name(3.0) == "float" and t.shown("x") == "'x'" and t.here(case) is case


# --------------------------------------------------------------------------- q4, q5


def test_lstm_checks_accept_the_reference():
    t.check_lstm_cell(lstm_cell, batch=2, input_size=3, hidden_size=4, seed=0)
    forward = lambda x, layers, state=None, batch_first=True: layer_forward(
        lstm_cell, x, layers, state, batch_first, lstm=True
    )  # noqa: E731
    for batch_first in (True, False):
        t.check_layer(forward, "lstm", **LAYER, batch_first=batch_first, given_state=True)


@pytest.mark.parametrize(
    ("slip", "tag"),
    [
        ({"order": "ifog"}, "rnn.gate_order"),
        ({"g_act": torch.sigmoid}, "rnn.candidate_tanh"),
        ({"forget": False}, "rnn.forget_gate"),
        ({"out_tanh": False}, "rnn.output_tanh"),
    ],
)
def test_lstm_cell_names_the_slip(slip, tag):
    cell = lambda *a: lstm_cell(*a, **slip)  # noqa: E731
    assert f"[hint: {tag}]" in hint_of(
        t.check_lstm_cell, cell, batch=3, input_size=4, hidden_size=5, seed=0
    )


def test_param_counts():
    formula = lambda kind, n, h, layers=1: (
        t.GATES[kind] * (h * (n + h + 2) + (layers - 1) * h * (2 * h + 2))
    )  # noqa: E731
    for kind in ("rnn", "lstm", "gru"):
        t.check_param_count(formula, kind, 7, 5, 3)
    one_bias = lambda kind, n, h, layers=1: formula(kind, n, h, layers) - t.GATES[kind] * h * layers  # noqa: E731
    assert "[hint: rnn.two_biases]" in hint_of(t.check_param_count, one_bias, "lstm", 3, 4, 2)
    t.check_lecture_counts({"rnn": 640, "lstm": 14080, "gru": 10560})
    assert "14,080" in hint_of(t.check_lecture_counts, {"rnn": 640, "lstm": 7040, "gru": 10560})


def test_gru_cell():
    t.check_gru_cell(gru_cell, batch=3, input_size=4, hidden_size=5, seed=0)
    before = lambda *a: gru_cell(*a, reset_before=True)  # noqa: E731
    assert "[hint: rnn.gru_reset]" in hint_of(
        t.check_gru_cell, before, batch=3, input_size=4, hidden_size=5, seed=0
    )


# --------------------------------------------------------------------------- q6 to q9


def init_forget_bias(lstm, value=1.0, *, block=1, split=False):
    H = lstm.hidden_size
    with torch.no_grad():
        for k in range(lstm.num_layers):
            getattr(lstm, f"bias_ih_l{k}")[block * H : (block + 1) * H] = (
                value / 2 if split else value
            )
            getattr(lstm, f"bias_hh_l{k}")[block * H : (block + 1) * H] = (
                value / 2 if split else 0.0
            )
    return lstm


class MemoryNet(nn.Module):
    def __init__(self, kind, n_inputs, n_symbols, hidden_size, forget_bias=1.0, *, step=-1):
        super().__init__()
        self.rnn = (nn.LSTM if kind == "lstm" else nn.RNN)(n_inputs, hidden_size, batch_first=True)
        if kind == "lstm":
            init_forget_bias(self.rnn, forget_bias)
        self.head = nn.Linear(hidden_size, n_symbols)
        self.step = step

    def forward(self, x):
        return self.head(self.rnn(x)[0][:, self.step])


def test_memory_parts():
    for split in (False, True):
        t.check_init_forget_bias(
            lambda m, v, s=split: init_forget_bias(m, v, split=s),
            input_size=2,
            hidden_size=3,
            num_layers=2,
            value=1.5,
            seed=0,
        )
    wrong = lambda m, v: init_forget_bias(m, v, block=0)  # noqa: E731
    assert "[hint: rnn.forget_slice]" in hint_of(
        t.check_init_forget_bias,
        wrong,
        input_size=2,
        hidden_size=3,
        num_layers=1,
        value=1.0,
        seed=0,
    )
    t.check_forget_bias_for(
        lambda T, keep=0.5: math.log(keep ** (1 / T) / (1 - keep ** (1 / T))), 20, 0.7
    )
    assert "keep^(1/T)" in hint_of(t.check_forget_bias_for, lambda T, keep=0.5: 1.0, 20, 0.7)
    for kind in ("rnn", "lstm"):
        t.check_memory_model(
            MemoryNet, kind, n_inputs=3, n_symbols=2, hidden_size=4, forget_bias=2.0, seed=0
        )
    first = lambda *a, **k: MemoryNet(*a, **k, step=0)  # noqa: E731
    assert "[hint: rnn.memory_last_step]" in hint_of(
        t.check_memory_model,
        first,
        "rnn",
        n_inputs=3,
        n_symbols=2,
        hidden_size=4,
        forget_bias=1.0,
        seed=0,
    )
    t.check_memory_claim({"rnn": 0.26, "lstm": 0.99}, n_symbols=4, where="test")
    assert "0.9" in hint_of(
        t.check_memory_claim, {"rnn": 0.26, "lstm": 0.5}, n_symbols=4, where="test"
    )


def last_hidden_packed(rnn, padded, lengths, *, pack=True):
    if not pack:
        return rnn(padded)[0][:, -1]
    _, h_n = rnn(pack_padded_sequence(padded, lengths, batch_first=True, enforce_sorted=False))
    return (h_n[0] if isinstance(h_n, tuple) else h_n)[-1]


class Forecaster(nn.Module):
    def __init__(self, hidden_size):
        super().__init__()
        self.rnn = nn.LSTM(1, hidden_size, batch_first=True)
        self.head = nn.Linear(hidden_size, 1)

    def forward(self, x):
        return self.head(self.rnn(x)[0])


def test_forecasting_parts():
    for kind in ("rnn", "gru", "lstm"):
        t.check_last_hidden(
            last_hidden_packed,
            kind,
            lengths=[4, 1, 6],
            input_size=2,
            hidden_size=3,
            num_layers=2,
            seed=0,
        )
    unpacked = lambda *a: last_hidden_packed(*a, pack=False)  # noqa: E731
    assert "[hint: rnn.padding_in_state]" in hint_of(
        t.check_last_hidden, unpacked, "gru", lengths=[4, 1, 6], input_size=2, hidden_size=3
    )
    model = t.check_forecaster(Forecaster, hidden_size=3, seed=0)
    signals = oracles.heldout_signals(50, 12)
    model_mse, naive = oracles.forecast_errors(model, signals)
    assert model_mse > 0 and naive > 0
    t.check_forecast_claim(0.1, 0.3, "test")
    assert "last-value" in hint_of(t.check_forecast_claim, 0.2, 0.3, "test")


def test_answered_tells_the_stub_from_a_cell_an_earlier_mistake_stopped():
    skipped = "not judged: q6 fails first; fix it and this claim is checked"
    with pytest.raises(AssertionError, match="not answered yet"):
        t.answered({"memory_acc": ...}, "memory_acc", skipped)
    assert t.answered({}, "memory_acc", skipped) is None
    assert t.answered({"memory_acc": {}}, "memory_acc", skipped) is None
    with pytest.raises(AssertionError, match="not defined"):
        t.answered({}, "memory_acc", None)
    assert t.answered({"forecast_mse": 0.5}, "forecast_mse", None) == 0.5


def test_untouched_stubs_are_not_answered_yet():
    """The stub's init_forget_bias (does nothing) and Forecaster (self.rnn = ...) are told they
    are not answered yet, not given a wrong answer's diagnosis."""
    with pytest.raises(AssertionError, match="left every parameter as PyTorch initialised it"):
        t.check_init_forget_bias(
            lambda lstm, value: None,
            input_size=3,
            hidden_size=4,
            num_layers=1,
            value=1.0,
            seed=0,
        )

    class Stub(nn.Module):
        def __init__(self):
            super().__init__()
            self.rnn = ...

    with pytest.raises(AssertionError, match=r"model.rnn is Ellipsis: this is not answered yet"):
        t.check_forecaster(lambda hidden_size: Stub(), hidden_size=6, seed=0)


# ------------------------------------------------------------- issue 25: rules now exercised


def test_floats_are_floats_not_tensors():
    as_tensor = lambda T, keep=0.5: torch.logit(torch.tensor(keep ** (1 / T), dtype=torch.float64))  # noqa: E731
    assert "[hint: rnn.float_result]" in hint_of(t.check_forget_bias_for, as_tensor, 20, 0.7)
    t.check_forget_bias_for(
        lambda T, keep=0.5: np.float64(math.log(keep ** (1 / T) / (1 - keep ** (1 / T)))), 20, 0.7
    )

    def tensor_total(grads, max_norm):
        clipped, total = clip_grad_norm(grads, max_norm)
        return clipped, torch.tensor(total)

    assert "[hint: rnn.float_result]" in hint_of(
        t.check_clip, tensor_total, [(3, 2)], 1.0, scale=5.0, seed=0
    )
    assert t.check_float(np.float32(0.5), "x") == 0.5
    with pytest.raises(AssertionError, match="should be a float, got Tensor of shape"):
        t.check_float(torch.tensor(0.5), "x")


class _Cell(nn.LSTMCell):
    """A subclass of the library's cell, as a student's cell might define it."""


def test_library_reached_by_subclass_or_module_path_is_refused():
    def through(cls):
        def cell(x, state, w_ih, w_hh, b_ih, b_hh):
            module = cls(x.shape[-1], state[0].shape[-1]).double()
            with torch.no_grad():
                for name, w in zip(
                    ("weight_ih", "weight_hh", "bias_ih", "bias_hh"),
                    (w_ih, w_hh, b_ih, b_hh),
                    strict=True,
                ):
                    getattr(module, name).copy_(w)
            return module(x, state)

        return cell

    for cls in (_Cell, torch.nn.modules.rnn.LSTMCell):
        message = hint_of(
            t.check_lstm_cell, through(cls), batch=2, input_size=3, hidden_size=4, seed=0
        )
        assert "implement this yourself" in message and "[hint: rnn.library_module]" in message

    def counted(kind, n, h, layers=1):
        module = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}[kind](n, h, num_layers=layers)
        return sum(p.numel() for p in module.parameters())

    assert "[hint: rnn.library_module]" in hint_of(t.check_param_count, counted, "gru", 3, 4, 2)


def test_initial_state_slips_are_named():
    def first_layer_state(x, layers, h0=None, batch_first=True):
        if h0 is not None:
            h0 = h0[:1].expand_as(h0)
        return layer_forward(rnn_cell, x, layers, h0, batch_first)

    assert "[hint: rnn.initial_state]" in hint_of(
        t.check_layer, first_layer_state, "rnn", **LAYER, given_state=True
    )

    def zero_cell(x, layers, state=None, batch_first=True):
        if state is not None:
            state = (state[0], torch.zeros_like(state[1]))
        return layer_forward(lstm_cell, x, layers, state, batch_first, lstm=True)

    assert "[hint: rnn.initial_state]" in hint_of(
        t.check_layer, zero_cell, "lstm", **LAYER, given_state=True
    )


def test_a_change_in_place_to_the_inputs_grades_as_under_the_referee():
    """In a notebook the check hands the student copies, as the grading referee does: a layer
    that scribbles on its arguments after using them is judged on its result alone both ways."""

    def scribbles(x, layers, state=None, batch_first=True):
        result = layer_forward(lstm_cell, x, layers, state, batch_first, lstm=True)
        x.zero_()
        if state is not None:
            state[0].zero_()
            state[1].zero_()
        return result

    t.check_layer(scribbles, "lstm", **LAYER, given_state=True)


class _TwoLayers(MemoryNet):
    def __init__(self, kind, n_inputs, n_symbols, hidden_size, forget_bias=1.0):
        super().__init__(kind, n_inputs, n_symbols, hidden_size, forget_bias)
        if kind == "rnn":
            self.rnn = nn.RNN(n_inputs, hidden_size, num_layers=2, batch_first=True)


class _Detached(MemoryNet):
    def forward(self, x):
        return self.head(self.rnn(x)[0][:, -1].detach())


def test_memory_model_layout_and_gradient():
    args = {"n_inputs": 3, "n_symbols": 2, "hidden_size": 4, "forget_bias": 2.0, "seed": 0}
    assert "[hint: rnn.memory_layout]" in hint_of(t.check_memory_model, _TwoLayers, "rnn", **args)
    assert "[hint: rnn.gradient_blocked]" in hint_of(
        t.check_memory_model, _Detached, "lstm", **args
    )


class _PlainRNNForecaster(Forecaster):
    def __init__(self, hidden_size):
        super().__init__(hidden_size)
        self.rnn = nn.RNN(1, hidden_size, batch_first=True)


class _DetachedForecaster(Forecaster):
    def forward(self, x):
        return self.head(self.rnn(x)[0].detach())


def test_forecaster_layout_and_gradient():
    assert "[hint: rnn.forecast_layout]" in hint_of(
        t.check_forecaster, _PlainRNNForecaster, hidden_size=3, seed=0
    )
    assert "[hint: rnn.gradient_blocked]" in hint_of(
        t.check_forecaster, _DetachedForecaster, hidden_size=3, seed=0
    )


def test_the_trained_model_is_the_recipes(monkeypatch):
    monkeypatch.setitem(t.FORECAST_RECIPE, "steps", 5)  # the check's logic, at a tenth of the cost
    rerun = t.forecast_recipe(Forecaster, seed=3)
    torch.manual_seed(3)
    trained = Forecaster(t.FORECAST_RECIPE["hidden"])
    with torch.no_grad():
        for name, p in trained.named_parameters():
            p.copy_(rerun[name])
    t.check_trained_as_recipe(
        trained, t.forecast_recipe(Forecaster, seed=3), "forecaster", "the recipe"
    )
    torch.manual_seed(3)
    untrained = Forecaster(t.FORECAST_RECIPE["hidden"])
    assert "[hint: rnn.recipe_model]" in hint_of(
        t.check_trained_as_recipe, untrained, rerun, "forecaster", "the recipe"
    )


def test_init_forget_bias_returns_the_lstm():
    def no_return(lstm, value):
        init_forget_bias(lstm, value)

    assert "[hint: rnn.return_lstm]" in hint_of(
        t.check_init_forget_bias,
        no_return,
        input_size=2,
        hidden_size=3,
        num_layers=1,
        value=1.0,
        seed=0,
    )


def test_clip_returns_copies():
    def same_tensors(grads, max_norm):
        clipped, total = clip_grad_norm(grads, max_norm)
        return (clipped if total > max_norm else list(grads)), total

    t.check_clip(same_tensors, [(3, 2)], 1.0, scale=5.0, seed=0)  # scaled: new tensors anyway
    assert "[hint: rnn.clip_copies]" in hint_of(
        t.check_clip, same_tensors, [(3, 2), (2,)], 10.0, scale=0.1, seed=0
    )


# --------------------------------------------------------------------------- q10: the ablation


def test_ablation_claim_is_near_chance():
    t.check_ablation_claim(0.26, n_symbols=4, where="test")
    t.check_ablation_claim(t.ABLATION_MAX_ACCURACY, n_symbols=4, where="test")
    message = hint_of(t.check_ablation_claim, 0.97, n_symbols=4, where="the test sequences")
    assert "forget bias 1 reaches 0.970" in message and "at most 0.4" in message
    assert "[hint: rnn.ablation_model]" in message
    assert "larger budget" in hint_of(
        t.check_memory_claim, {"rnn": 0.5, "lstm": 0.99}, n_symbols=4, where="test"
    )


def _recall_models():
    """Two untrained memory networks and sequences on which their accuracies differ."""
    x, y = oracles.heldout_recall(6, 4, n=400)
    models = {}
    for name, seed in (("ablation", 0), ("experiment", 1)):
        torch.manual_seed(seed)
        models[name] = MemoryNet("lstm", 5, 4, 8)
    return models, lambda model: oracles.accuracy(model, x, y)


def test_accuracy_is_the_models_and_names_another_model():
    models, measure = _recall_models()
    ablation, experiment = (measure(models[k]) for k in ("ablation", "experiment"))
    assert abs(ablation - experiment) > 1e-3  # the case below needs them apart
    check = dict(
        what="the ablation", measure=measure, others={"the experiment": models["experiment"]}
    )
    t.check_accuracy_of(ablation, models["ablation"], "ablation_acc", **check)
    t.check_accuracy_of(ablation + 5e-7, models["ablation"], "ablation_acc", **check)
    off = hint_of(t.check_accuracy_of, ablation + 2e-3, models["ablation"], "ablation_acc", **check)
    assert "[hint: rnn.accuracy_over_examples]" in off and "tolerance 1e-6" in off
    other = hint_of(
        t.check_accuracy_of,
        experiment,
        models["ablation"],
        "ablation_acc",
        **check,
        other_hint=t.ABLATION_MODEL,
    )
    assert "the accuracy of the experiment" in other and "[hint: rnn.ablation_model]" in other
    assert "[hint: rnn.accuracy_over_examples]" in hint_of(
        t.check_accuracy_of, math.nan, models["ablation"], "ablation_acc", **check
    )


def _forget_bias_for(T, keep=0.5):
    p = keep ** (1 / T)
    return math.log(p / (1 - p))


def test_the_ablation_recipe_trains_with_the_forget_bias_it_is_given(monkeypatch):
    monkeypatch.setitem(t.MEMORY_RECIPE, "steps", 3)  # the check's logic at a fiftieth of the cost
    r = t.MEMORY_RECIPE
    torch.manual_seed(5)
    ablation = MemoryNet("lstm", r["n_symbols"] + 1, r["n_symbols"], r["hidden"], forget_bias=1.0)
    optimizer = torch.optim.Adam(ablation.parameters(), lr=r["lr"])
    batches = torch.Generator().manual_seed(5)
    for _ in range(r["steps"]):  # the notebook's cell after question 7, written out
        x, y = first_token_recall(r["batch"], r["T"], n_symbols=r["n_symbols"], seed=batches)
        loss = F.cross_entropy(ablation(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    rerun = t.memory_recipe(MemoryNet, _forget_bias_for, "lstm", 5, forget_bias=1.0)
    t.check_trained_as_recipe(ablation, rerun, "lstm_bias_one", "the recipe")
    experiment = t.memory_recipe(MemoryNet, _forget_bias_for, "lstm", 5)  # keep 0.8: about 4.9
    assert "[hint: rnn.recipe_model]" in hint_of(
        t.check_trained_as_recipe, ablation, experiment, "lstm_bias_one", "the recipe"
    )
