"""Unit tests of assignment 01's test library (shared.testing.perceptron_xor) and its oracles."""

from __future__ import annotations

import copy
import itertools

import numpy as np
import pytest
import torch
from torch import nn

from shared.data import logic_gate
from shared.testing import perceptron_xor as px
from tests.support import load_grader_only


@pytest.fixture(scope="module")
def oracles():
    return load_grader_only("01_perceptron_xor", "oracles")


def stable_softmax(z, axis=-1):
    z = np.asarray(z, dtype=float)
    e = np.exp(z - np.max(z, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


# --- call ------------------------------------------------------------------------------------


def test_call_names_the_call_and_hint_when_student_code_raises():
    def broken(x):
        raise ValueError("shapes (3,) and (2,) not aligned")

    with pytest.raises(AssertionError) as err:
        px.call(broken, np.ones(3), label="neuron(x, w, b)", hint="include the bias")
    text = str(err.value)
    assert "neuron(x, w, b) raised ValueError: shapes (3,) and (2,) not aligned" in text
    assert "Hint: include the bias" in text


def test_call_fails_a_function_that_modifies_its_input():
    def relu_in_place(z):
        z[z < 0] = 0.0
        return z

    with pytest.raises(AssertionError, match="modified its argument 1 in place"):
        px.call(relu_in_place, np.array([-1.0, 2.0]), label="relu(z)")


def test_call_fails_a_stub_and_returns_the_result_otherwise():
    with pytest.raises(AssertionError, match="returned None"):
        px.call(lambda: None, label="f()")
    assert px.call(lambda a, *, k: a + k, 1, k=2, label="f") == 3


# --- q1 --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "sigmoid",
    [
        lambda z: 1 / (1 + np.exp(-np.asarray(z, dtype=float))),
        lambda z: np.exp(np.asarray(z, np.float32)) / (1 + np.exp(np.asarray(z, np.float32))),
        lambda z: 0.5 * (1 + np.tanh(np.asarray(z, dtype=float) / 2)),
    ],
)
def test_check_sigmoid_accepts_textbook_formulas_in_float32_and_float64(sigmoid):
    z = np.random.default_rng(0).normal(scale=4.0, size=(3, 4))
    px.check_sigmoid(sigmoid, z, label="sigmoid(z)")


def test_check_sigmoid_names_the_minus_sign_and_forbids_torch():
    z = np.array([-2.0, 0.5, 3.0])
    with pytest.raises(AssertionError, match="minus sign"):
        px.check_sigmoid(lambda z: 1 / (1 + np.exp(z)), z, label="sigmoid(z)")
    with pytest.raises(AssertionError, match="implement this yourself"):
        px.check_sigmoid(lambda z: torch.sigmoid(torch.as_tensor(z)).numpy(), z, label="s(z)")


def test_check_relu_diagnoses_a_reduction_and_rejects_integer_output():
    z = np.array([[-1.0, 2.0], [3.0, -4.0]])
    with pytest.raises(AssertionError, match="np.max"):
        px.check_relu(lambda z: np.max(z, 0), z, label="relu(z)")
    with pytest.raises(AssertionError, match="float NumPy array"):
        px.check_relu(lambda z: np.maximum(np.asarray(z), 0), np.array([-2, 3]), label="relu")
    px.check_relu(lambda z: np.maximum(np.asarray(z, dtype=float), 0.0), -2.5, label="relu(-2.5)")


@pytest.mark.parametrize("axis", [None, 0, 1])
def test_check_softmax_accepts_a_stable_softmax(axis):
    z = np.array([[1000.0, 1001.0, 1002.0], [-1000.0, -1001.0, -1002.0]])
    softmax = lambda z, axis=-1: stable_softmax(z, axis)
    px.check_softmax(softmax, z, axis=axis, label="softmax(z)")


def test_check_softmax_diagnoses_global_max_no_shift_and_wrong_axis():
    rows = np.array([[1000.0, 1001.0, 1002.0], [-1000.0, -1001.0, -1002.0]])

    def global_max(z, axis=-1):
        with np.errstate(all="ignore"):
            e = np.exp(z - np.max(z))
            return e / np.sum(e, axis=axis, keepdims=True)

    with pytest.raises(AssertionError, match="each slice"):
        px.check_softmax(global_max, rows, axis=None, label="softmax(z)")

    def no_shift(z, axis=-1):
        with np.errstate(all="ignore"):
            e = np.exp(z)
            return e / np.sum(e, axis=axis, keepdims=True)

    with pytest.raises(AssertionError, match="overflows"):
        px.check_softmax(no_shift, np.array([1000.0, 1001.0]), axis=None, label="softmax(z)")

    def wrong_axis(z, axis=-1):
        e = np.exp(z - np.max(z, axis=axis, keepdims=True))
        return e / np.sum(e, axis=0, keepdims=True)

    z = np.arange(12.0).reshape(3, 4) / 3
    with pytest.raises(AssertionError, match="sums to 1 along axis 0"):
        px.check_softmax(wrong_axis, z, axis=None, label="softmax(z)")


def test_check_softmax_forbids_library_softmax():
    with pytest.raises(AssertionError, match="implement this yourself"):
        px.check_softmax(
            lambda z, axis=-1: torch.softmax(torch.as_tensor(z), dim=axis).numpy(),
            np.array([1.0, 2.0]),
            axis=None,
            label="softmax(z)",
        )


# --- q3 --------------------------------------------------------------------------------------


def test_check_predict_names_the_tie_and_the_bias():
    X = np.array([[0.0, 0.0], [1.0, 1.0], [-1.0, -1.0]])
    w = np.array([1.0, 1.0])
    px.check_predict(lambda X, w, b: np.where(X @ w + b >= 0, 1, 0), X, w, 0.0, label="p")
    with pytest.raises(AssertionError, match=">= 0, not > 0"):
        px.check_predict(lambda X, w, b: (X @ w + b > 0).astype(float), X, w, 0.0, label="p")
    with pytest.raises(AssertionError, match="include the bias"):
        px.check_predict(lambda X, w, b: (X @ w >= 0).astype(float), X, w, -1.5, label="p")


def test_unpack_perceptron_checks_the_promised_shapes():
    assert px.unpack_perceptron((np.zeros(2), np.float64(1.0), [1, 0]), 2, label="t")[2] == [1, 0]
    with pytest.raises(AssertionError, match="tuple"):
        px.unpack_perceptron((np.zeros(2), 1.0), 2, label="t")
    with pytest.raises(AssertionError, match=r"shape \(3,\)"):
        px.unpack_perceptron((np.zeros(2), 1.0, [0]), 3, label="t")


def test_check_perceptron_run_picks_the_hint_of_the_matching_mistake():
    right = (np.array([-0.5, -1.0]), -0.5, [1, 0])
    batch = (np.array([-1.5, -3.0]), -1.5, [3, 0])
    px.check_perceptron_run(right, right, label="t")
    with pytest.raises(AssertionError, match="online"):
        px.check_perceptron_run(batch, right, label="t", alternatives={px.BATCH_HINT: batch})
    with pytest.raises(AssertionError, match="only on mistakes"):
        px.check_perceptron_run(batch, right, label="t")


def test_oracle_follows_the_stated_rule_and_its_cases_tell_every_mistake_apart(oracles):
    X, y = logic_gate("and")
    w, b, errors = oracles.perceptron_run(X, y, epochs=100, seed=0)
    assert errors[-1] == 0 and 0 not in errors[:-1]
    assert np.array_equal((X @ w + b >= 0).astype(float), y)
    for X, y, lr, seed in oracles.perceptron_cases():
        assert np.array_equal(X, np.round(X))  # exact arithmetic whatever the summation order
        runs = [oracles.perceptron_run(X, y, lr=lr, epochs=50, seed=seed)]
        runs += list(oracles.perceptron_mistakes(X, y, lr=lr, epochs=50, seed=seed).values())
        for a, b in itertools.combinations(runs, 2):
            assert not px.same_run(a, b)


def test_learning_rate_rescales_exactly_only_for_powers_of_two(oracles):
    rng = np.random.default_rng(0)
    changed = 0
    for _ in range(50):
        X = rng.integers(-3, 4, size=(6, 2)).astype(float)
        y = rng.integers(0, 2, size=6).astype(float)
        w1, b1, e1 = oracles.perceptron_run(X, y, lr=1.0, epochs=20, seed=0)
        wh, bh, eh = oracles.perceptron_run(X, y, lr=0.5, epochs=20, seed=0)
        assert eh == e1 and np.array_equal(2 * wh, w1) and 2 * bh == b1
        changed += oracles.perceptron_run(X, y, lr=0.1, epochs=20, seed=0)[2] != e1
    assert changed > 0  # the prose: with lr = 0.1, rounding changes some runs


# --- q4 --------------------------------------------------------------------------------------


def test_best_linear_hint():
    assert "max (not the mean)" in px.best_linear_hint(0.506, 4, 0.75)
    assert "multiple of 1/4" in px.best_linear_hint(0.8, 4, 0.75)
    assert "step rule" in px.best_linear_hint(1.0, 4, 0.75)


# --- q5 and q7 -------------------------------------------------------------------------------


class OutOfOrder(nn.Module):
    def __init__(self):
        super().__init__()
        self.out = nn.Linear(3, 1)
        self.hidden = nn.Linear(2, 3)

    def forward(self, x):
        return torch.sigmoid(self.out(torch.tanh(self.hidden(x))))


def test_linear_layers_found_by_shape_and_forward_checked():
    model = OutOfOrder()
    first, second = px.linear_layers(model, [(2, 3), (3, 1)], label="net")
    assert first is model.hidden and second is model.out
    x = torch.randn(4, 2)
    px.check_forward(
        model, lambda x: torch.sigmoid(second(torch.tanh(first(x)))), x, label="net", hint=""
    )
    with pytest.raises(AssertionError, match=r"nn.Linear\(2, 4\)"):
        px.linear_layers(model, [(2, 4), (4, 1)], label="net")


def test_reset_linears_is_deterministic_and_independent_of_creation_order():
    a, b = OutOfOrder(), nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 1), nn.Sigmoid())
    px.reset_linears([a.hidden, a.out], seed=3)
    px.reset_linears([b[0], b[2]], seed=3)
    x = torch.randn(5, 2)
    assert torch.equal(a(x), b(x))


def test_mlp_hint_names_the_mistake():
    first, second = nn.Linear(2, 4), nn.Linear(4, 1)
    x = torch.randn(6, 2)
    hint = px.mlp_hint(first, second, x, "tanh")
    with torch.no_grad():
        assert "no non-linear" in hint(torch.sigmoid(second(first(x))))
        assert "you applied relu" in hint(torch.sigmoid(second(torch.relu(first(x)))))
        assert "nn.Sigmoid()" in hint(second(torch.tanh(first(x))))
    assert hint("garbage") == px.MLP_HINT


def test_count_hint_diagnoses_each_wrong_count():
    net = nn.Sequential(nn.Sequential(nn.Linear(2, 3)), nn.Linear(3, 1))
    net[1].weight.requires_grad_(False)
    right = 2 * 3 + 3 + 1
    assert right == sum(p.numel() for p in net.parameters() if p.requires_grad)
    assert "requires_grad" in px.count_hint(net, right + 3)
    assert "biases" in px.count_hint(net, 6)
    assert "numel" in px.count_hint(net, 3)
    assert "more than once" in px.count_hint(net, 10 + 9 + 9 + 1)  # root, inner, two Linears
    assert "twice" in px.count_hint(nn.Linear(2, 2), 12)


def test_check_count_requires_an_int():
    layer = nn.Linear(3, 5)
    px.check_count(lambda m: np.int64(20), layer, label="count")
    with pytest.raises(AssertionError, match="should return an int"):
        px.check_count(lambda m: 20.0, layer, label="count")
    with pytest.raises(AssertionError, match="include the biases"):
        px.check_count(lambda m: 15, layer, label="count")


# --- q6 --------------------------------------------------------------------------------------


def _torch_sgd(model, X, y, lr, epochs):
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    Xt = torch.as_tensor(X, dtype=torch.float32)
    yt = torch.as_tensor(y, dtype=torch.float32).reshape(-1, 1)
    losses = []
    for _ in range(epochs):
        opt.zero_grad()
        loss = nn.BCELoss()(model(Xt), yt)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses


def test_one_sgd_step_and_the_sgd_oracle_match_torch_sgd(oracles):
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 1), nn.Sigmoid())
    X, y = logic_gate("xor")
    trained = copy.deepcopy(model)
    losses = _torch_sgd(trained, X, y, 0.5, 3)
    oracle_losses, oracle_params = oracles.sgd_run(model, X, y, lr=0.5, epochs=3)
    px.check_training(
        losses, px.snapshot(trained), oracle_losses, oracle_params, label="t", hint=""
    )
    stepped = model
    for loss in losses:
        step_loss, _, stepped = px.one_sgd_step(stepped, X, y, 0.5)
        assert abs(step_loss - loss) < 1e-6
    px.check_training(losses, px.snapshot(stepped), losses, oracle_params, label="t", hint="")


def test_training_hint_and_unpack_losses():
    expected = [0.70, 0.69, 0.68]
    assert "not MSE" in px.training_hint([0.25, 0.2, 0.1], expected, first_mse=0.25)
    assert "before optimizer.step()" in px.training_hint(
        [0.69, 0.68, 0.67], expected, after_first_step=0.69
    )
    assert "zero_grad" in px.training_hint([0.70, 0.60, 0.50], expected)
    with pytest.raises(AssertionError, match="Python floats"):
        px.unpack_losses([torch.tensor(0.5)], 1, label="train_xor(...)")
    with pytest.raises(AssertionError, match="should return 2 losses"):
        px.unpack_losses([0.5], 2, label="train_xor(...)")


def test_diagnoses_carry_their_hint_tag():
    """The tags mutants.yml names (hint_id) and the class report counts, written by tagged."""
    z = np.array([-2.0, 0.5, 3.0])
    with pytest.raises(AssertionError, match=r"minus sign\. \[hint: xor\.sigmoid_sign\]"):
        px.check_sigmoid(lambda z: 1 / (1 + np.exp(z)), z, label="sigmoid(z)")
    with pytest.raises(AssertionError, match=r"\[hint: xor\.library_call\]"):
        px.check_sigmoid(lambda z: torch.sigmoid(torch.as_tensor(z)).numpy(), z, label="s(z)")
    assert px.PERCEPTRON_RULE.endswith("[hint: xor.perceptron_rule]")


def test_a_perceptron_run_at_another_learning_rate_is_the_same_run_scaled():
    X, y = logic_gate("xor")
    oracles = load_grader_only("01_perceptron_xor", "oracles")
    at_one = oracles.perceptron_run(X, y, lr=1.0, epochs=25, seed=3)
    at_half = oracles.perceptron_run(X, y, lr=0.5, epochs=25, seed=3)
    assert px.same_run_at_some_rate(at_half, at_one) and px.same_run_at_some_rate(at_one, at_half)
    other_seed = oracles.perceptron_run(X, y, lr=1.0, epochs=25, seed=4)
    assert not px.same_run_at_some_rate(other_seed, at_one) or px.same_run(other_seed, at_one)
    w, b, errors = at_one
    assert not px.same_run_at_some_rate((-w, -b, errors), at_one)  # a negative "rate" is no run
    assert not px.same_run_at_some_rate((w, b + 1.0, errors), at_one)
    assert not px.same_run_at_some_rate((w, b, errors[:-1]), at_one)
