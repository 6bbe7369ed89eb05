"""Tests of shared.testing.backprop_by_hand: every correct style passes over many draws, every
catalogued slip is diagnosed, and a later question's check does not charge an earlier mistake."""

from __future__ import annotations

import numpy as np
import pytest

from shared.testing import backprop_by_hand as bh
from tests.support import load_grader_only

hand_rules = load_grader_only("02_backprop_by_hand", "hand_rules")


def _fails(check, *args, **kwargs) -> str:
    with pytest.raises(AssertionError) as info:
        check(*args, **kwargs)
    return str(info.value)


# ---------------------------------------------------------------- reference and other styles


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


class Linear:
    def __init__(self, d_in, d_out, rng=None):
        rng = np.random.default_rng(rng)
        self.W = rng.normal(0.0, np.sqrt(2.0 / d_in), size=(d_in, d_out))
        self.b = np.zeros(d_out)

    def forward(self, x):
        self.x = x
        return x @ self.W + self.b

    def backward(self, dout):
        self.dW, self.db = self.x.T @ dout, dout.sum(axis=0)
        return dout @ self.W.T


class EinsumLinear(Linear):
    def backward(self, dout):
        self.dW = np.einsum("ni,nj->ij", self.x, dout)
        self.db = np.ones(len(dout)) @ dout
        return np.einsum("nj,ij->ni", dout, self.W)


class Sigmoid:
    def forward(self, x):
        self.out = _sigmoid(x)
        return self.out

    def backward(self, dout):
        return dout * self.out * (1 - self.out)


class SigmoidFromInput:
    def forward(self, x):
        self.x = x
        return np.exp(-np.logaddexp(0, -x))

    def backward(self, dout):
        return dout * np.exp(-self.x) / (1 + np.exp(-self.x)) ** 2


class Tanh:
    def forward(self, x):
        self.out = np.tanh(x)
        return self.out

    def backward(self, dout):
        return dout * (1 - self.out**2)


class TanhSech(Tanh):
    def forward(self, x):
        self.x = x
        return np.tanh(x)

    def backward(self, dout):
        return dout / np.cosh(self.x) ** 2


class ReLU:
    def forward(self, x):
        self.mask = x > 0
        return x * self.mask

    def backward(self, dout):
        return dout * self.mask


class ReLUAtZeroOne(ReLU):
    def forward(self, x):
        self.mask = x >= 0
        return x * self.mask


def numerical_gradient(f, x, eps=1e-6):
    grad = np.zeros(x.shape)
    for idx in np.ndindex(*x.shape):
        old = x[idx]
        x[idx] = old + eps
        plus = float(f(x))
        x[idx] = old - eps
        minus = float(f(x))
        x[idx] = old
        grad[idx] = (plus - minus) / (2 * eps)
    return grad


def one_sided(f, x, eps=1e-6):
    grad = np.zeros(x.shape)
    for idx in np.ndindex(*x.shape):
        old = x[idx]
        base = float(f(x))
        x[idx] = old + eps
        grad[idx] = (float(f(x)) - base) / eps
        x[idx] = old
    return grad


def restored_by_arithmetic(f, x, eps=1e-6):
    grad = np.zeros(x.shape)
    for idx in np.ndindex(*x.shape):
        x[idx] += eps
        plus = float(f(x))
        x[idx] -= 2 * eps
        minus = float(f(x))
        x[idx] += eps
        grad[idx] = (plus - minus) / (2 * eps)
    return grad


def relative_error(a, b):
    return float(np.max(np.abs(a - b) / np.maximum(1e-12, np.abs(a) + np.abs(b))))


def gradient_check(layer, x, seed=0, eps=1e-6):
    out = layer.forward(x)
    R = np.random.default_rng(seed).normal(size=out.shape)
    analytic = {"dx": np.array(layer.backward(R))}
    targets = {"dx": x}
    if hasattr(layer, "W"):
        analytic["dW"], analytic["db"] = np.array(layer.dW), np.array(layer.db)
        targets["dW"], targets["db"] = layer.W, layer.b
    return {
        k: relative_error(
            analytic[k], numerical_gradient(lambda _: np.sum(layer.forward(x) * R), a, eps)
        )
        for k, a in targets.items()
    }


# ---------------------------------------------------------------- q1


def _hand_reference(round_to=None):
    n = bh.HAND_NETWORK
    r = (lambda v: round(v, round_to)) if round_to else (lambda v: v)
    h = {}
    h["a1"] = r(n["w11"] * n["x1"] + n["w12"] * n["x2"] + n["b1"])
    h["a2"] = r(n["w21"] * n["x1"] + n["w22"] * n["x2"] + n["b2"])
    h["f1"], h["f2"] = r(_sigmoid(h["a1"])), r(_sigmoid(h["a2"]))
    h["a_out"] = r(n["v1"] * h["f1"] + n["v2"] * h["f2"] + n["c"])
    h["y"] = r(_sigmoid(h["a_out"]))
    h["loss"], h["dL_dy"] = r((h["y"] - 1) ** 2), r(2 * (h["y"] - 1))
    h["delta_out"] = r(h["dL_dy"] * h["y"] * (1 - h["y"]))
    for j in "12":
        f = h["f" + j]
        h["delta" + j] = r(f * (1 - f) * n["v" + j] * h["delta_out"])
        h[f"dL_dv{j}"] = r(h["delta_out"] * f)
        h[f"dL_dw{j}1"] = r(h["delta" + j] * n["x1"])
        h[f"dL_dw{j}2"] = r(h["delta" + j] * n["x2"])
        h[f"dL_db{j}"] = h["delta" + j]
    h["dL_dc"] = h["delta_out"]
    h["v1_new"] = r(n["v1"] - n["eta"] * h["dL_dv1"])
    h["w11_new"] = r(n["w11"] - n["eta"] * h["dL_dw11"])
    return h


ALL_HAND_RULES = [
    bh.forward_rules,
    hand_rules.loss_rules,
    hand_rules.delta_rules,
    hand_rules.output_gradient_rules,
    hand_rules.hidden_gradient_rules,
    hand_rules.update_rules,
]


@pytest.mark.parametrize("round_to", [None, 4, 5])
def test_hand_rules_accept_full_precision_and_four_decimals(round_to):
    values = bh.hand_values(_hand_reference(round_to), bh.HAND_KEYS)
    for rules in ALL_HAND_RULES:
        bh.check_rules(values, rules(values))


@pytest.mark.parametrize(
    ("key", "slip", "hint"),
    [
        ("a1", lambda h: h["a1"] - 0.2, "include the bias b1"),
        ("delta_out", lambda h: h["dL_dy"], "derivative belongs in the delta"),
        ("loss", lambda h: h["loss"] / 2, "no factor 1/2"),
        ("delta1", lambda h: 0.7 * h["delta_out"], "own slope"),
        ("w11_new", lambda h: 0.4 + 0.5 * h["dL_dw11"], "against the gradient"),
    ],
)
def test_hand_slips_are_diagnosed(key, slip, hint):
    hand = _hand_reference()
    hand[key] = slip(hand)
    values = bh.hand_values(hand, bh.HAND_KEYS)
    failures = []
    for rules in ALL_HAND_RULES:
        try:
            bh.check_rules(values, rules(values))
        except AssertionError as err:
            failures.append(str(err))
    # (later entries are not recomputed here, so they may fail as well; in a notebook they follow
    # from the slipped value and pass)
    named = [line for f in failures for line in f.splitlines() if line.startswith(f'hand["{key}"]')]
    assert len(named) == 1 and hint in named[0]


def test_hand_hint_absent_when_no_slip_fits():
    hand = _hand_reference()
    hand["a1"] += 0.37
    message = _fails(bh.check_rules, bh.hand_values(hand, bh.HAND_KEYS), bh.forward_rules(hand))
    assert "Hint" not in message.split('hand["a1"]')[1].split("\n")[0]


def test_hand_values_names_non_numbers():
    hand = _hand_reference()
    hand["f1"] = "0.6"
    assert "f1" in _fails(bh.hand_values, hand, bh.HAND_KEYS)


# ---------------------------------------------------------------- q2


@pytest.mark.parametrize("linear", [Linear, EinsumLinear])
def test_linear_styles_pass_over_many_draws(linear):
    for seed in range(40):
        n, d_in, d_out = 1 + seed % 7, 1 + seed % 5, 1 + seed % 4
        bh.check_linear(linear, n, d_in, d_out, seed, refresh=seed % 2 == 0)


@pytest.mark.parametrize(
    ("cls", "kind"),
    [
        (Sigmoid, "Sigmoid"),
        (SigmoidFromInput, "Sigmoid"),
        (Tanh, "Tanh"),
        (TanhSech, "Tanh"),
        (ReLU, "ReLU"),
    ],
)
def test_activation_styles_pass_over_many_draws(cls, kind):
    for seed in range(100):
        rng = np.random.default_rng(seed)
        shape = (1 + seed % 5, 1 + seed % 7)
        bh.check_activation(cls, kind, bh.activation_input(rng, shape, 3.0), rng.normal(size=shape))


def test_relu_derivative_at_zero_is_tested_and_named():
    rng = np.random.default_rng(0)
    x = bh.activation_input(rng, (3, 4), 2.0)
    assert (x == 0).any()
    assert "not x >= 0" in _fails(
        bh.check_activation, ReLUAtZeroOne, "ReLU", x, rng.normal(size=x.shape)
    )


def test_linear_slips_are_diagnosed():
    class MeanBias(Linear):
        def backward(self, dout):
            dx = super().backward(dout)
            self.db = dout.mean(axis=0)
            return dx

    class NoBias(Linear):
        def forward(self, x):
            self.x = x
            return x @ self.W

    assert "not averaged" in _fails(bh.check_linear, MeanBias, 4, 3, 5, 0)
    assert "include the bias" in _fails(bh.check_linear, NoBias, 4, 3, 5, 0)


def test_student_exceptions_name_the_call():
    class Broken(Linear):
        def backward(self, dout):
            raise RuntimeError("boom")

    message = _fails(bh.check_linear, Broken, 4, 3, 5, 0)
    assert "Linear(3, 5)" in message and "backward(dout) raised RuntimeError: boom" in message


# ---------------------------------------------------------------- q3


def test_losses_pass_and_slips_are_diagnosed():
    def mse(pred, target):
        return np.mean((pred - target) ** 2), 2 * (pred - target) / pred.size

    def ce(logits, labels):
        m = logits.max(axis=1, keepdims=True)
        lse = m + np.log(np.exp(logits - m).sum(axis=1, keepdims=True))
        onehot = np.eye(logits.shape[1])[labels]
        return np.mean(lse[:, 0] - (onehot * logits).sum(1)), (np.exp(logits - lse) - onehot) / len(
            labels
        )

    def unstable(logits, labels):
        p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
        onehot = np.eye(logits.shape[1])[labels]
        return -np.mean(np.log(p[np.arange(len(labels)), labels])), (p - onehot) / len(labels)

    rng = np.random.default_rng(0)
    for seed in range(30):
        rng = np.random.default_rng(seed)
        shape = (1 + seed % 4, 1 + seed % 3)
        bh.check_mse(mse, rng.normal(size=shape), rng.normal(size=shape))
        logits = rng.normal(scale=400.0 if seed % 3 == 0 else 2.0, size=(1 + seed % 6, 5))
        bh.check_cross_entropy(ce, logits, rng.integers(0, 5, len(logits)), "random logits")
    big = np.array([[1000.0, -1000.0, 999.0], [-1000.0, -999.0, -1000.5]])
    with np.errstate(all="ignore"):
        message = _fails(bh.check_cross_entropy, unstable, big, np.array([2, 0]), "large logits")
    assert "subtract the max" in message
    half = lambda p, t: (np.mean((p - t) ** 2), (p - t) / p.size)  # noqa: E731
    assert "factor 2" in _fails(
        bh.check_mse, half, rng.normal(size=(4, 3)), rng.normal(size=(4, 3))
    )


# ---------------------------------------------------------------- q4


@pytest.mark.parametrize("case", ["cubic_sine", "exp_quartic"])
@pytest.mark.parametrize("eps", [1e-4, 1e-5, None])
def test_centred_differences_pass_over_many_draws(case, eps):
    for seed in range(50):
        x = np.random.default_rng(seed).normal(scale=1.5, size=(3, 4))
        bh.check_numerical_gradient(numerical_gradient, case, x, eps)


def test_finite_difference_slips_are_diagnosed():
    x = np.random.default_rng(2).normal(size=(3, 4))
    assert "centred difference" in _fails(
        bh.check_numerical_gradient, one_sided, "cubic_sine", x, 1e-4
    )
    twice = lambda f, x, eps=1e-6: 2 * numerical_gradient(f, x, eps)  # noqa: E731
    assert "divide by 2 eps" in _fails(bh.check_numerical_gradient, twice, "cubic_sine", x, 1e-4)
    message = _fails(bh.check_numerical_gradient, restored_by_arithmetic, "cubic_sine", x, 1e-4)
    assert "by assignment" in message

    def on_copy(f, x, eps=1e-6):
        return numerical_gradient(f, x.copy(), eps)

    W, v = np.random.default_rng(3).normal(size=(2, 3)), np.ones(3)
    assert "perturb x itself in place" in _fails(bh.check_numerical_gradient_closure, on_copy, W, v)
    for seed in range(30):
        rng = np.random.default_rng(seed)
        bh.check_numerical_gradient_closure(
            numerical_gradient, rng.normal(size=(3, 2)), rng.normal(size=2)
        )


def test_relative_error_check():
    bh.check_relative_error(relative_error, np.zeros(3), np.zeros(3), 0.0)
    mean = lambda a, b: float(np.mean(np.abs(a - b) / np.maximum(1e-12, np.abs(a) + np.abs(b))))  # noqa: E731
    a, b = np.array([1.0, 2.0, 3.0]), np.array([1.0, 2.2, 3.5])
    assert "maximum over entries" in _fails(bh.check_relative_error, mean, a, b, 0.5 / 6.5)


SIGMOIDS = {
    "logaddexp": lambda x: np.exp(-np.logaddexp(0.0, -x)),
    "textbook": lambda x: 1 / (1 + np.exp(-x)),
    "tanh form": lambda x: 0.5 * (1 + np.tanh(x / 2)),
    "exp over": lambda x: np.exp(x) / (1 + np.exp(x)),
}


@pytest.mark.parametrize("formula", list(SIGMOIDS))
def test_gradient_check_threshold_is_above_round_off_for_any_sigmoid_formula(formula):
    """The old hidden test (threshold 1e-6, random inputs) failed correct sigmoids on about 1 % of
    draws. On the generated cases, a correct check stays 10x below the threshold on every draw."""

    class StudentSigmoid:
        def forward(self, x):
            self.s = SIGMOIDS[formula](x)
            return self.s

        def backward(self, dout):
            return dout * self.s * (1 - self.s)

    worst = 0.0
    for seed in range(300):
        case = bh.gradient_check_case("Sigmoid", (6, 4), seed)
        case.make_layer = StudentSigmoid
        errs = gradient_check(StudentSigmoid(), case.x.copy(), seed=case.seed)
        worst = max(worst, errs["dx"] / case.threshold)
    assert worst < 0.1


@pytest.mark.parametrize("kind", ["Linear", "Sigmoid", "Tanh", "ReLU", "ElementwiseAffine"])
@pytest.mark.parametrize("eps", [1e-5, 1e-6, 1e-7])
def test_correct_gradient_checks_pass_on_every_generated_case(kind, eps):
    def check(layer, x, seed=0):
        return gradient_check(layer, x, seed, eps)

    for seed in range(0, 400, 20):
        case = bh.gradient_check_case(kind, (6, 4), seed)
        assert case.threshold <= 1e-4
        bh.check_gradient_check(check, case)


@pytest.mark.parametrize(
    ("kind", "bug", "key"),
    [
        ("Linear", "db_mean", "db"),
        ("Sigmoid", "no_derivative", "dx"),
        ("ElementwiseAffine", "dW_sign", "dW"),
    ],
)
def test_planted_bugs_are_found_by_a_correct_check(kind, bug, key):
    for seed in range(0, 200, 20):
        bh.check_gradient_check(
            gradient_check, bh.gradient_check_case(kind, (4, 3), seed, bug=bug), bug_in=key
        )


def test_gradient_check_by_class_is_diagnosed():
    def by_class(layer, x, seed=0):
        return {"dx": gradient_check(layer, x, seed)["dx"]}

    message = _fails(
        bh.check_gradient_check, by_class, bh.gradient_check_case("Linear", (6, 4), 41)
    )
    assert "hasattr" in message


def test_referee_layers_are_blocked_by_the_q2_autograd_ban():
    with pytest.raises(AssertionError, match="autograd"):
        bh.check_linear(bh.torch_layer("Linear"), 4, 3, 5, 0)


# ---------------------------------------------------------------- q5


def trask_step(X, y, syn0, syn1):
    l1 = _sigmoid(X @ syn0)
    l2 = _sigmoid(l1 @ syn1)
    d2 = (y - l2) * l2 * (1 - l2)
    d1 = (d2 @ syn1.T) * l1 * (1 - l1)
    return syn0 + X.T @ d1, syn1 + l1.T @ d2, l2


def trask_train(X, y, hidden=4, iterations=10000, seed=0):
    rng = np.random.default_rng(seed)
    syn0 = 2 * rng.random((X.shape[1], hidden)) - 1
    syn1 = 2 * rng.random((hidden, 1)) - 1
    errors = []
    for _ in range(iterations):
        syn0, syn1, l2 = trask_step(X, y, syn0, syn1)
        errors.append(float(np.mean(np.abs(y - l2))))
    return syn0, syn1, errors


def test_trask_checks():
    bh.check_sigmoid_prime(lambda s: s * (1 - s), np.linspace(-5, 5, 11))
    rng = np.random.default_rng(4)
    bh.check_trask_step(trask_step, bh.XOR_X, bh.XOR_Y, rng.random((3, 4)), rng.random((4, 1)))

    def in_place(X, y, syn0, syn1):
        new0, new1, l2 = trask_step(X, y, syn0, syn1)
        syn1 += new1 - syn1
        return new0, syn1, l2

    message = _fails(
        bh.check_trask_step, in_place, bh.XOR_X, bh.XOR_Y, rng.random((3, 4)), rng.random((4, 1))
    )
    assert "modified its input syn1" in message


@pytest.mark.parametrize("seed", [42, 1042, 2042, 3042, 0])
def test_trask_train_converges_for_the_verify_seeds(seed):
    bh.check_trask_train(trask_train, hidden=4, iterations=2000, seed=seed, max_error=0.1)


def test_trask_train_hidden_configuration():
    bh.check_trask_train(trask_train, hidden=6, iterations=1500, seed=77, max_error=0.15)


# ---------------------------------------------------------------- q6


def test_sgd_step_check_reads_the_updated_arrays():
    def sgd_step(params_and_grads, lr):
        for param, grad in params_and_grads:
            param -= lr * grad

    def rebinds(params_and_grads, lr):
        for param, grad in params_and_grads:
            param = param - lr * grad  # noqa: F841 - the slip: only the name changes

    bh.check_sgd_step(sgd_step, seed=6, shapes=[(3,), (2, 2)], lr=0.5)
    assert "[hint: bp.sgd_rebinds]" in _fails(
        bh.check_sgd_step, rebinds, seed=6, shapes=[(3,), (2, 2)], lr=0.5
    )


def test_grader_finite_differences_are_forbidden_only_where_they_exist():
    # in a notebook (no grading referee) the helpers are those this process can import
    assert bh._fd_helpers(lambda: None) == bh._fd_helpers_here()


def test_substitute_restores_the_namespace():
    namespace = {"Linear": 1}
    with bh.substitute(namespace, Linear=2, ReLU=3):
        assert namespace == {"Linear": 2, "ReLU": 3}
    assert namespace == {"Linear": 1}


def test_trusted_namespace_keeps_agreeing_functions_and_replaces_others():
    class BadLinear(Linear):
        def backward(self, dout):
            dx = super().backward(dout)
            self.db = dout
            return dx

    def ce(logits, labels):
        m = logits.max(axis=1, keepdims=True)
        lse = m + np.log(np.exp(logits - m).sum(axis=1, keepdims=True))
        onehot = np.eye(logits.shape[1])[labels]
        return np.mean(lse[:, 0] - (onehot * logits).sum(1)), (np.exp(logits - lse) - onehot) / len(
            labels
        )

    chosen = bh.trusted_namespace(
        {"Linear": Linear, "ReLU": ReLUAtZeroOne, "softmax_cross_entropy": ce}
    )
    assert chosen["Linear"] is Linear
    assert chosen["ReLU"] is not ReLUAtZeroOne
    assert chosen["softmax_cross_entropy"].fn is ce
    assert bh.trusted_namespace({"Linear": BadLinear})["Linear"] is not BadLinear


def test_diagnoses_carry_their_hint_tag():
    """The tags mutants.yml names (hint_id) and the class report counts, written by tagged."""

    class NoBias(Linear):
        def forward(self, x):
            self.x = x
            return x @ self.W

    assert "[hint: bp.linear_bias]" in _fails(bh.check_linear, NoBias, 4, 3, 5, 0)
    rng = np.random.default_rng(0)
    x = bh.activation_input(rng, (3, 4), 2.0)
    message = _fails(bh.check_activation, ReLUAtZeroOne, "ReLU", x, rng.normal(size=x.shape))
    assert "[hint: bp.relu_mask_at_zero]" in message


@pytest.mark.parametrize("kind", ["Sigmoid", "Tanh", "ReLU"])
def test_the_case_search_shortcut_picks_the_case_the_full_search_picks(kind):
    for seed in range(0, 200, 25):
        fast = bh.gradient_check_case(kind, (6, 4), seed)
        full = bh.gradient_check_case(kind, (6, 4), seed, _prefilter=False)
        assert (fast.seed, fast.threshold, fast.smallest) == (
            full.seed,
            full.threshold,
            full.smallest,
        )
        np.testing.assert_array_equal(fast.x, full.x)


def test_digits_split_is_train_test_split_without_importing_it():
    """The referee's split of the digits (no scikit-learn in the grading process) is the
    notebook's, array for array, and the stratified split is scikit-learn's on other labels,
    sizes and seeds too (a scikit-learn that changed its algorithm fails here first)."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    expected = train_test_split(
        digits.data / 16.0, digits.target, test_size=0.25, random_state=0, stratify=digits.target
    )
    for got, want in zip(bh.digits_split(), expected, strict=True):
        assert got.dtype == want.dtype and np.array_equal(got, want)
    rng = np.random.default_rng(1)
    for n, classes, test_size, seed in [(50, 3, 0.3, 1), (101, 7, 0.2, 5), (1000, 10, 0.5, 42)]:
        y = rng.integers(0, classes, size=n)
        y[:classes] = np.arange(classes)  # every class at least twice
        y[classes : 2 * classes] = np.arange(classes)
        train, test = train_test_split(
            np.arange(n), test_size=test_size, random_state=seed, stratify=y
        )
        mine = bh.stratified_split(y, test_size=test_size, seed=seed)
        assert np.array_equal(mine[0], train) and np.array_equal(mine[1], test)
