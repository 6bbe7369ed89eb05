# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [raw]
# # ASSIGNMENT CONFIG
# name: 01_perceptron_xor
# init_cell: false
# export_cell:
#   pdf: false
# generate:
#   seed: 42
#   seed_variable: rng_seed
# tests:
#   files: true
#   ok_format: false

# %% [markdown]
# # Assignment 01: the perceptron, and why XOR needed a hidden layer
#
# Every network you will meet in this course, from a three-layer classifier to a transformer,
# is built from one small piece: the artificial **neuron**. It takes a weighted sum of its inputs,
# adds a bias and passes the result through a non-linear function. In this assignment you build
# that piece from scratch, train the oldest learning machine made of it (Rosenblatt's perceptron,
# 1958), watch it fail on a problem a child can solve (XOR), and then fix the failure the way the
# field eventually did: with a hidden layer, trained by gradient descent in PyTorch.
#
# **What you will do**
#
# | Part | You implement | Points |
# |---|---|---|
# | q1 | `sigmoid`, `tanh`, `relu`, a numerically stable `softmax` (NumPy) | 4 |
# | q2 | `neuron(x, w, b, activation)` for a batch of inputs | 2 |
# | q3 | `perceptron_predict` and `perceptron_train` (the perceptron learning rule) | 4 |
# | q4 | the perceptron's limit on XOR: `xor_accuracy` and `best_linear_accuracy` | 2 |
# | q5 | `make_xor_mlp`: a two-layer network in PyTorch | 2 |
# | q6 | `train_xor`: the training loop (BCE loss, SGD) | 4 |
# | q7 | `count_parameters` and the 2,817-parameter network `make_2817_net` | 3 |
#
# **How to work.** Replace every `...` with your code. After each question, run the
# `grader.check("qN")` cell below it: it runs the public tests and tells you what it called,
# what it expected and what came back. The autograder also runs hidden tests that use other
# inputs (shapes, values, seeds), so make your code general rather than tuned to the public
# examples. Cells that only draw pictures are not graded; run them anyway, they are the fun part.
#
# Everything here runs in a few seconds on a laptop CPU.

# %%
import matplotlib.pyplot as plt
import numpy as np
import torch
from torch import nn

import shared
from shared.data import logic_gate
from shared.plotting import plot_curves, plot_decision_boundary

rng_seed = 0

# %% [markdown]
# ## 1. The artificial neuron
#
# In 1943 Warren McCulloch and Walter Pitts proposed that a nerve cell can be modelled as a
# threshold unit: it adds up its (weighted) inputs and "fires" if the total exceeds a threshold.
# The modern version is almost the same. Given inputs $x \in \mathbb{R}^D$, weights
# $w \in \mathbb{R}^D$ and a bias $b \in \mathbb{R}$, the neuron computes the **pre-activation**
#
# $$a = \sum_{i=1}^{D} w_i x_i + b = w^\top x + b$$
#
# and then applies an **activation function** $f$:
#
# $$y = f(a) = f\left(\sum_{i=1}^{D} w_i x_i + b\right).$$
#
# The bias shifts the threshold: without it, the set of points where $w^\top x = 0$ always passes
# through the origin. The activation is where the interesting behaviour comes from. Four you will
# use all course long:
#
# | name | formula | range | remark |
# |---|---|---|---|
# | sigmoid | $\sigma(z) = \dfrac{1}{1 + e^{-z}}$ | $(0, 1)$ | a smooth step; reads as a probability |
# | tanh | $\tanh(z) = \dfrac{e^{z} - e^{-z}}{e^{z} + e^{-z}} = 2\sigma(2z) - 1$ | $(-1, 1)$ | zero-centred sigmoid |
# | ReLU | $\mathrm{relu}(z) = \max(0, z)$ | $[0, \infty)$ | cheap; the default in deep nets |
# | softmax | $\mathrm{softmax}(z)_k = \dfrac{e^{z_k}}{\sum_j e^{z_j}}$ | $(0,1)$, sums to 1 | turns $K$ scores into a distribution |
#
# The first three act **elementwise**: the output has the shape of the input. Softmax acts on a
# whole vector at once: along one `axis` of an array, its entries are positive and sum to one.
#
# ### Softmax without overflow
# A float64 overflows above about $e^{709}$, so `np.exp(1000.0)` is `inf`, and
# $\infty/\infty$ is `nan`. The way out is a one-line identity: for any constant $c$,
#
# $$\frac{e^{z_k - c}}{\sum_j e^{z_j - c}} = \frac{e^{-c}\, e^{z_k}}{e^{-c}\sum_j e^{z_j}} = \mathrm{softmax}(z)_k .$$
#
# Choose $c = \max_j z_j$: then every exponent is $\le 0$, the largest term is exactly $e^0 = 1$,
# and nothing can overflow. Every deep-learning library does exactly this.

# %% [raw]
# # BEGIN QUESTION
# name: q1
# points: 4

# %% [markdown]
# **Question 1 (4 points).** Implement the four activations in NumPy. Each takes an array-like
# `z` of any shape and returns a float NumPy array. `softmax(z, axis=-1)` normalises along
# `axis` (the last one by default) and must return finite values even for inputs around 1000.
# You may use `np.exp`, `np.tanh`, `np.maximum`, `np.max` and `np.sum`, but not a library's
# ready-made softmax or sigmoid.

# %% [raw]
# # BEGIN SOLUTION

# %%
def sigmoid(z):
    """Logistic sigmoid 1 / (1 + exp(-z)), elementwise. Shape in = shape out."""
    z = np.asarray(z, dtype=float)
    # BEGIN SOLUTION
    return 1.0 / (1.0 + np.exp(-z))
    # END SOLUTION


def tanh(z):
    """Hyperbolic tangent, elementwise. Shape in = shape out."""
    z = np.asarray(z, dtype=float)
    # BEGIN SOLUTION
    return np.tanh(z)
    # END SOLUTION


def relu(z):
    """Rectified linear unit max(0, z), elementwise. Shape in = shape out."""
    z = np.asarray(z, dtype=float)
    # BEGIN SOLUTION
    return np.maximum(z, 0.0)
    # END SOLUTION


def softmax(z, axis=-1):
    """Softmax along `axis`: exp(z - max) / sum(exp(z - max)). Shape in = shape out.

    Entries along `axis` are positive and sum to 1; finite even when z is around 1000.
    """
    z = np.asarray(z, dtype=float)
    # BEGIN SOLUTION
    shifted = z - np.max(z, axis=axis, keepdims=True)
    e = np.exp(shifted)
    return e / np.sum(e, axis=axis, keepdims=True)
    # END SOLUTION


# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_sigmoid_tanh_relu_public(sigmoid, tanh, relu):
    import numpy as np
    import torch

    from shared.checks import assert_close, check_implemented

    z = np.array([[-3.0, -0.5, 0.0], [0.5, 2.0, 6.0]])
    zt = torch.tensor(z, dtype=torch.float64)
    for name, fn, oracle, hint in [
        ("sigmoid", sigmoid, torch.sigmoid(zt).numpy(),
         "Hint: sigmoid(z) = 1 / (1 + exp(-z)); mind the minus sign in the exponent."),
        ("tanh", tanh, torch.tanh(zt).numpy(),
         "Hint: np.tanh does it, or (exp(z) - exp(-z)) / (exp(z) + exp(-z))."),
        ("relu", relu, torch.relu(zt).numpy(),
         "Hint: ReLU is elementwise, np.maximum(z, 0); np.max(z, 0) reduces along an axis instead."),
    ]:
        out = fn(z)
        check_implemented(out, f"{name}(z)")
        assert isinstance(out, np.ndarray), (
            f"{name}(z) should return a NumPy array, got {type(out).__name__}. {hint}"
        )
        assert_close(out, oracle, name=f"{name}(z) for z = {z.tolist()}", rtol=1e-10, atol=1e-12, hint=hint)
    s0 = sigmoid(np.array([0.0]))
    assert np.allclose(s0, 0.5), f"sigmoid(0) should be 0.5, got {s0}. Hint: sigmoid(z) = 1 / (1 + exp(-z))."

# %%
def test_softmax_public(softmax):
    import numpy as np
    import torch

    from shared.checks import assert_close, check_implemented

    from shared.forbid import forbid

    library_softmax = ("torch.softmax", "torch.nn.functional.softmax", "torch.Tensor.softmax",
                       "scipy.special.softmax", "torch.special.softmax")
    hint = ("Hint: subtract the max along `axis` (np.max(z, axis=axis, keepdims=True)) before "
            "np.exp, then divide by the sum along the same `axis` (keepdims=True).")
    z = np.array([1.0, 2.0, 3.0])
    with forbid(*library_softmax, reason="Build softmax from np.exp, np.max and np.sum."):
        out = softmax(z)
    check_implemented(out, "softmax(z)")
    expected = torch.softmax(torch.tensor(z, dtype=torch.float64), dim=-1).numpy()
    assert_close(out, expected, name="softmax([1, 2, 3])", rtol=1e-10, atol=1e-12, hint=hint)
    z2 = np.array([[1.0, 2.0, 3.0, 4.0], [0.0, 0.0, 0.0, 0.0], [-1.0, 5.0, 2.0, 0.5]])
    expected2 = torch.softmax(torch.tensor(z2, dtype=torch.float64), dim=-1).numpy()
    out2 = softmax(z2)
    assert_close(out2, expected2, name="softmax(z2) of shape (3, 4) along axis=-1: each row should sum to 1", rtol=1e-10, atol=1e-12, hint=hint)
    big = np.array([1000.0, 1001.0, 1002.0])
    with np.errstate(over="ignore", invalid="ignore"):
        out_big = softmax(big)
    assert np.all(np.isfinite(out_big)), (
        f"softmax([1000, 1001, 1002]) returned {out_big}: exp(1000) overflows to inf and inf/inf is nan. {hint}"
    )
    assert_close(out_big, expected, name="softmax([1000, 1001, 1002]) (should equal softmax([1, 2, 3]))", rtol=1e-10, atol=1e-12, hint=hint)

# %%
""" # BEGIN TEST CONFIG
hidden: true
""" # END TEST CONFIG
def test_activations_hidden(sigmoid, tanh, relu):
    import numpy as np
    import torch

    from shared.checks import assert_close, check_implemented

    z = np.random.default_rng(101).normal(scale=4.0, size=(3, 4, 5))
    zt = torch.tensor(z, dtype=torch.float64)
    for name, fn, oracle, hint in [
        ("sigmoid", sigmoid, torch.sigmoid(zt).numpy(),
         "Hint: sigmoid(z) = 1 / (1 + exp(-z)); mind the minus sign in the exponent."),
        ("tanh", tanh, torch.tanh(zt).numpy(), "Hint: np.tanh works elementwise on any shape."),
        ("relu", relu, torch.relu(zt).numpy(),
         "Hint: ReLU is elementwise, np.maximum(z, 0); np.max(z, 0) reduces along an axis instead."),
    ]:
        out = fn(z)
        check_implemented(out, f"{name}(z)")
        assert_close(np.asarray(out), oracle, name=f"{name}(z) for random z of shape (3, 4, 5)", rtol=1e-10, atol=1e-12, hint=hint)
    scalar = relu(-2.5)
    assert np.ndim(scalar) == 0 and float(scalar) == 0.0, f"relu(-2.5) should be the scalar 0.0, got {scalar!r}. Hint: np.maximum(z, 0)."

# %%
""" # BEGIN TEST CONFIG
hidden: true
""" # END TEST CONFIG
def test_softmax_hidden(softmax):
    import numpy as np
    import torch

    from shared.checks import assert_close, check_implemented

    hint = ("Hint: subtract the max along `axis` (np.max(z, axis=axis, keepdims=True)) before "
            "np.exp, then divide by the sum along the same `axis` (keepdims=True).")
    from shared.forbid import forbid

    library_softmax = ("torch.softmax", "torch.nn.functional.softmax", "torch.Tensor.softmax",
                       "scipy.special.softmax", "torch.special.softmax")
    z = np.random.default_rng(202).normal(scale=3.0, size=(2, 3, 4))
    zt = torch.tensor(z, dtype=torch.float64)
    for axis in (-1, 0, 1):
        with forbid(*library_softmax, reason="Build softmax from np.exp, np.max and np.sum."):
            out = softmax(z, axis=axis)
        check_implemented(out, f"softmax(z, axis={axis})")
        assert_close(np.asarray(out), torch.softmax(zt, dim=axis).numpy(), name=f"softmax(z, axis={axis}) for z of shape (2, 3, 4)", rtol=1e-10, atol=1e-12, hint=hint)
    big = np.array([[1000.0, 999.0, -1000.0], [-5.0, 800.0, 800.0]])
    with np.errstate(over="ignore", invalid="ignore"):
        out_big = softmax(big, axis=1)
    assert np.all(np.isfinite(out_big)), f"softmax({big.tolist()}, axis=1) returned non-finite values {out_big}. {hint}"
    assert_close(np.asarray(out_big), torch.softmax(torch.tensor(big, dtype=torch.float64), dim=1).numpy(), name=f"softmax({big.tolist()}, axis=1)", rtol=1e-10, atol=1e-12, hint=hint)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [markdown]
# Here is what the first three look like. Notice that sigmoid and tanh *saturate*: far from zero
# they are flat, so their slope, and with it the gradient a network learns from, nearly vanishes.
# ReLU does not saturate for positive inputs, one reason it became the default.

# %% tags=["otter_ignore"]
z = np.linspace(-4, 4, 401)
fig, ax = plt.subplots(figsize=(6, 3.5))
for name, fn in [("sigmoid", sigmoid), ("tanh", tanh), ("relu", relu)]:
    ax.plot(z, fn(z), label=name)
ax.axhline(0, color="gray", lw=0.5)
ax.axvline(0, color="gray", lw=0.5)
ax.set_xlabel("z")
ax.set_ylim(-1.2, 2.2)
ax.legend()
ax.set_title("Activation functions")
plt.show()

# %% [markdown]
# ## 2. A neuron for a whole batch
#
# We rarely feed a network one example at a time. Stack $N$ inputs as the rows of a matrix
# $X \in \mathbb{R}^{N \times D}$; then all $N$ pre-activations are one matrix-vector product,
#
# $$a = X w + b \in \mathbb{R}^{N}, \qquad a_n = \sum_{i=1}^{D} X_{ni} w_i + b,$$
#
# where the scalar $b$ is *broadcast*, added to every entry. The outputs are $f(a)$, elementwise.

# %% [raw]
# # BEGIN QUESTION
# name: q2
# points: 2

# %% [markdown]
# **Question 2 (2 points).** Implement `neuron(x, w, b, activation)`: `x` has shape `(N, D)`,
# `w` shape `(D,)`, `b` is a scalar and `activation` is any elementwise function (for example
# your `sigmoid`, or `lambda a: a`). Return `activation(x @ w + b)`, of shape `(N,)`.
# No loops needed.

# %% [raw]
# # BEGIN SOLUTION

# %%
def neuron(x, w, b, activation):
    """One neuron on a batch: activation(x @ w + b).

    x: (N, D) inputs, w: (D,) weights, b: scalar bias, activation: elementwise function.
    Returns an array of shape (N,).
    """
    x = np.asarray(x, dtype=float)
    w = np.asarray(w, dtype=float)
    # BEGIN SOLUTION
    return activation(x @ w + b)
    # END SOLUTION


# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_neuron_public(neuron):
    import numpy as np

    from shared.checks import assert_close, check_implemented

    x = np.array([[0.0, 0.0], [1.0, 2.0], [-1.0, 0.5]])
    w = np.array([0.5, -1.0])
    b = 0.25
    out = neuron(x, w, b, lambda a: a)
    check_implemented(out, "neuron(x, w, b, identity)")
    expected = np.array([0.25, -1.25, -0.75])
    assert_close(np.asarray(out, dtype=float), expected, name=f"neuron(x={x.tolist()}, w={w.tolist()}, b={b}, activation=identity)", rtol=1e-12, atol=1e-12,
                 hint="Hint: the output is activation(x @ w + b); did you forget the bias b, or multiply in the wrong order?")
    out_tanh = neuron(x, w, b, np.tanh)
    assert_close(np.asarray(out_tanh, dtype=float), np.tanh(expected), name="neuron(x, w, b, activation=np.tanh)", rtol=1e-12, atol=1e-12,
                 hint="Hint: apply the activation you are given to the pre-activation x @ w + b (with the bias).")

# %%
""" # BEGIN TEST CONFIG
hidden: true
""" # END TEST CONFIG
def test_neuron_hidden(neuron):
    import numpy as np

    from shared.checks import assert_close, check_implemented

    rng = np.random.default_rng(303)
    for n, d, b in [(7, 1, -1.5), (5, 4, 2.0), (1, 3, 0.75)]:
        x = rng.normal(size=(n, d))
        w = rng.normal(size=d)
        out = neuron(x, w, b, lambda a: np.maximum(a, 0.0))
        check_implemented(out, f"neuron(x of shape {(n, d)}, w of shape {(d,)}, b={b}, relu)")
        assert_close(np.asarray(out, dtype=float), np.maximum(x @ w + b, 0.0), name=f"neuron(x of shape {(n, d)}, w of shape {(d,)}, b={b}, activation=relu)", rtol=1e-12, atol=1e-12,
                     hint="Hint: the output is activation(x @ w + b), one value per row of x; did you forget the bias b?")

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [markdown]
# ## 3. Rosenblatt's perceptron (1958)
#
# Frank Rosenblatt, a psychologist at the Cornell Aeronautical Laboratory, built the perceptron
# first as a program on an IBM 704 and then as a machine, the Mark I Perceptron, whose weights
# were motor-driven potentiometers. It is a single neuron with a **step** activation:
#
# $$\hat y = H(w^\top x + b), \qquad H(a) = \begin{cases} 1 & a \ge 0 \\ 0 & a < 0 \end{cases}$$
#
# so it splits the input space with the hyperplane $w^\top x + b = 0$ into a "1" side and a
# "0" side: a *linear classifier*.
#
# The step has no useful derivative, so the perceptron does not learn by gradient descent. It
# learns by **correcting its mistakes**. Visit the training examples one at a time (in a
# shuffled order each epoch); for example $(x, y)$ with prediction $\hat y$:
#
# $$w \leftarrow w + \eta\,(y - \hat y)\,x, \qquad b \leftarrow b + \eta\,(y - \hat y).$$
#
# If the prediction is right, $y - \hat y = 0$ and nothing changes. If the perceptron said 0
# for a 1, it adds $\eta x$ to $w$, which raises $w^\top x$ for this input next time; if it
# said 1 for a 0, it subtracts. Rosenblatt's **convergence theorem** (proved in full by Novikoff
# in 1962) says that if some hyperplane separates the two classes with a margin, this rule finds
# a separating hyperplane after finitely many mistakes, whatever the learning rate $\eta > 0$.
# Starting from $w = 0, b = 0$, as we will, the learning rate only rescales $w$ and $b$ and does
# not change a single prediction.

# %% [raw]
# # BEGIN QUESTION
# name: q3
# points: 4

# %% [markdown]
# **Question 3 (4 points).** Implement
#
# * `perceptron_predict(X, w, b)`: `X (N, D)`, `w (D,)`, scalar `b`; returns a float array of
#   shape `(N,)` with `1.0` where $w^\top x + b \ge 0$ (points exactly on the boundary are
#   class 1) and `0.0` elsewhere.
# * `perceptron_train(X, y, *, lr=1.0, epochs=100, seed=0)`: start from `w = np.zeros(D)` and
#   `b = 0.0`. In each epoch visit the examples in the order `rng.permutation(N)` (with
#   `rng = np.random.default_rng(seed)` made once, before the first epoch), predict each one,
#   and apply the update rule **only when the prediction is wrong**, counting the mistakes. Append
#   the epoch's number of mistakes to a list `errors`, and **stop early** after the first epoch
#   with no mistakes. Return `(w, b, errors)`.
#
# The tests train on AND, OR and other linearly separable data and check that training ends with
# an error-free epoch, that the learned weights classify every point, that an epoch without
# mistakes changes nothing, and that the learning rate only rescales `w` and `b`.

# %% [raw]
# # BEGIN SOLUTION

# %%
def perceptron_predict(X, w, b):
    """Step-function predictions 1.0 where X @ w + b >= 0, else 0.0.

    X: (N, D), w: (D,), b: scalar. Returns a float array of shape (N,).
    """
    X = np.asarray(X, dtype=float)
    # BEGIN SOLUTION
    return (X @ w + b >= 0).astype(float)
    # END SOLUTION


def perceptron_train(X, y, *, lr=1.0, epochs=100, seed=0):
    """Rosenblatt's perceptron learning rule, starting from w = 0, b = 0.

    X: (N, D) inputs, y: (N,) labels in {0, 1}. Each epoch visits the examples in the order
    rng.permutation(N) and, on a mistake only, sets w += lr * (y - y_hat) * x and
    b += lr * (y - y_hat). Stops after the first epoch without mistakes.
    Returns (w of shape (D,), b a float, errors: list with the number of mistakes per epoch).
    """
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    # BEGIN SOLUTION
    rng = np.random.default_rng(seed)
    w = np.zeros(X.shape[1])
    b = 0.0
    errors = []
    for _ in range(epochs):
        mistakes = 0
        for i in rng.permutation(len(X)):
            y_hat = perceptron_predict(X[i : i + 1], w, b)[0]
            err = y[i] - y_hat
            if err != 0:
                w = w + lr * err * X[i]
                b = b + lr * err
                mistakes += 1
        errors.append(mistakes)
        if mistakes == 0:
            break
    return w, float(b), errors
    # END SOLUTION


# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_perceptron_predict_public(perceptron_predict):
    import numpy as np

    from shared.checks import assert_close, check_implemented

    X = np.array([[0.0, 0.0], [1.0, 1.0], [-1.0, -1.0], [2.0, -1.0]])
    w = np.array([1.0, 1.0])
    out = perceptron_predict(X, w, 0.0)
    check_implemented(out, "perceptron_predict(X, w, b)")
    assert_close(np.asarray(out, dtype=float), np.array([1.0, 1.0, 0.0, 1.0]), name=f"perceptron_predict(X={X.tolist()}, w=[1, 1], b=0)",
                 hint="Hint: predict 1.0 where X @ w + b >= 0 (a point exactly on the boundary, like [0, 0] here, is class 1), else 0.0.")
    out_b = perceptron_predict(X, w, -1.5)
    assert_close(np.asarray(out_b, dtype=float), np.array([0.0, 1.0, 0.0, 0.0]), name="perceptron_predict(X, w=[1, 1], b=-1.5)",
                 hint="Hint: include the bias: predict 1.0 where X @ w + b >= 0.")

# %%
def test_perceptron_train_public(perceptron_train, perceptron_predict):
    import numpy as np

    from shared.checks import check_implemented
    from shared.data import logic_gate

    rule = ("Hint: update only on mistakes (y_hat != y): w += lr * (y - y_hat) * x and the bias "
            "b += lr * (y - y_hat); stop after the first epoch with no mistakes.")
    for gate in ("and", "or"):
        X, y = logic_gate(gate)
        result = perceptron_train(X, y, epochs=100, seed=0)
        check_implemented(result, f"perceptron_train(X_{gate}, y_{gate})")
        assert len(result) == 3, f"perceptron_train should return (w, b, errors), got {len(result)} values"
        w, b, errors = result
        assert np.shape(w) == (2,), f"w should have shape (2,) for 2-D inputs, got {np.shape(w)}"
        assert np.ndim(b) == 0, f"b should be a scalar, got {b!r}"
        assert len(errors) >= 1 and errors[-1] == 0, (
            f"On {gate.upper()} (linearly separable) training should end with an error-free epoch; "
            f"errors per epoch were {list(errors)[:12]}{' ...' if len(errors) > 12 else ''} ({len(errors)} epochs). {rule}"
        )
        assert len(errors) < 100, f"On {gate.upper()} training should stop early, but it ran all {len(errors)} epochs. {rule}"
        pred = perceptron_predict(X, w, b)
        assert np.array_equal(np.asarray(pred, dtype=float), y), (
            f"After training on {gate.upper()}, w={w}, b={b} predict {pred} instead of {y}. {rule}"
        )
    X = np.array([[1.0, 2.0], [3.0, -1.0], [-2.0, 0.5]])
    w, b, errors = perceptron_train(X, np.ones(3), epochs=10, seed=0)
    assert np.allclose(w, 0.0) and b == 0.0 and list(errors) == [0], (
        "With all labels 1, the initial w = 0, b = 0 already predicts every point correctly (0 >= 0), "
        f"so training should make no update and return w=[0, 0], b=0, errors=[0]; got w={w}, b={b}, "
        f"errors={list(errors)}. Hint: update only on mistakes, and start from w = np.zeros(D), b = 0."
    )

# %%
""" # BEGIN TEST CONFIG
hidden: true
""" # END TEST CONFIG
def test_perceptron_hidden(perceptron_train, perceptron_predict):
    import numpy as np

    from shared.checks import check_implemented
    from shared.data import blobs, logic_gate

    rule = ("Hint: update only on mistakes (y_hat != y): w += lr * (y - y_hat) * x and the bias "
            "b += lr * (y - y_hat); stop after the first epoch with no mistakes.")
    X, y = blobs(40, seed=11, separation=4.0, dim=3)
    result = perceptron_train(X, y, epochs=200, seed=5)
    check_implemented(result, "perceptron_train(X, y)")
    w, b, errors = result
    assert np.shape(w) == (3,), f"w should have shape (3,) for 3-D inputs, got {np.shape(w)}"
    assert errors[-1] == 0 and 0 not in list(errors)[:-1], (
        f"On separable 3-D blobs, training should stop right after the first error-free epoch; errors were {list(errors)[:12]}{' ...' if len(errors) > 12 else ''} ({len(errors)} epochs). {rule}"
    )
    assert all(0 <= e <= len(X) for e in errors), f"errors counts mistakes per epoch, between 0 and N={len(X)}; got {list(errors)[:12]}{' ...' if len(errors) > 12 else ''} ({len(errors)} epochs)"
    pred = np.asarray(perceptron_predict(X, w, b), dtype=float)
    assert np.array_equal(pred, y), f"The trained perceptron misclassifies {int((pred != y).sum())} of {len(y)} separable points. {rule}"
    w_half, b_half, errors_half = perceptron_train(X, y, lr=0.5, epochs=200, seed=5)
    assert list(errors_half) == list(errors) and np.allclose(2 * np.asarray(w_half), w) and np.isclose(2 * b_half, b), (
        "From w = 0, b = 0 the learning rate only rescales w and b: lr=0.5 should give exactly half the "
        f"weights of lr=1.0 and the same errors. Got w={w_half}, b={b_half} (lr=0.5) vs w={w}, b={b} (lr=1.0). {rule}"
    )
    for gate in ("nand", "nor"):
        Xg, yg = logic_gate(gate)
        wg, bg, eg = perceptron_train(Xg, yg, epochs=50, seed=3)
        assert eg[-1] == 0 and np.array_equal(np.asarray(perceptron_predict(Xg, wg, bg), dtype=float), yg), (
            f"perceptron_train should learn {gate.upper()}; errors per epoch were {list(eg)[:12]}{' ...' if len(eg) > 12 else ''} ({len(eg)} epochs). {rule}"
        )
    Xp = np.random.default_rng(12).normal(size=(6, 4))
    wp, bp, ep = perceptron_train(Xp, np.ones(6), epochs=5, seed=1)
    assert np.allclose(wp, 0.0) and bp == 0.0 and list(ep) == [0], (
        f"With all labels 1 the initial w = 0, b = 0 makes no mistake, so nothing should change; got w={wp}, b={bp}, "
        f"errors={list(ep)}. Hint: update only on mistakes."
    )

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [markdown]
# Let us look at what the perceptron learned. The shaded regions are its two half-planes; the
# boundary between them is the line $w^\top x + b = 0$.

# %% tags=["otter_ignore"]
fig, axes = plt.subplots(1, 2, figsize=(8, 3.8))
for ax, gate in zip(axes, ["and", "or"], strict=True):
    X_gate, y_gate = logic_gate(gate)
    w_gate, b_gate, errors_gate = perceptron_train(X_gate, y_gate, seed=rng_seed)
    plot_decision_boundary(lambda P, w=w_gate, b=b_gate: perceptron_predict(P, w, b), X_gate, y_gate, ax=ax,
                           title=f"{gate.upper()}: w={np.round(w_gate, 2)}, b={b_gate:.1f}, {len(errors_gate)} epochs")
plt.tight_layout()
plt.show()

# %% [markdown]
# ## 4. The limit: XOR
#
# XOR ("exclusive or") is 1 when exactly one input is 1:
#
# | $x_1$ | $x_2$ | AND | OR | XOR |
# |---|---|---|---|---|
# | 0 | 0 | 0 | 0 | 0 |
# | 0 | 1 | 0 | 1 | 1 |
# | 1 | 0 | 0 | 1 | 1 |
# | 1 | 1 | 1 | 1 | 0 |
#
# Draw the four points: the 1s sit on one diagonal of the square, the 0s on the other. No single
# line puts both 1s on one side and both 0s on the other. Here is the algebra. Suppose
# $H(w_1 x_1 + w_2 x_2 + b)$ computed XOR. Then
#
# $$\underbrace{b < 0}_{(0,0)\mapsto 0}, \quad \underbrace{w_2 + b \ge 0}_{(0,1)\mapsto 1}, \quad \underbrace{w_1 + b \ge 0}_{(1,0)\mapsto 1}, \quad \underbrace{w_1 + w_2 + b < 0}_{(1,1)\mapsto 0}.$$
#
# Adding the two middle inequalities gives $w_1 + w_2 + 2b \ge 0$, so $w_1 + w_2 + b \ge -b > 0$,
# contradicting the last one. At best a line gets 3 of the 4 points right. Because no separating
# hyperplane exists, the convergence theorem promises nothing, and the perceptron rule keeps
# cycling forever.
#
# In 1969 Marvin Minsky and Seymour Papert made this kind of limit precise in their book
# *Perceptrons*. The book is often blamed (somewhat unfairly) for the first "AI winter": funding
# for neural-network research dried up for over a decade, until backpropagation made multi-layer
# networks trainable in the 1980s.

# %% [raw]
# # BEGIN QUESTION
# name: q4
# points: 2

# %% [markdown]
# **Question 4 (2 points).**
#
# 1. Train your perceptron on XOR for 25 epochs (`seed=rng_seed`) and store the fraction of the
#    four points that the final `w, b` classify correctly in `xor_accuracy` (a float). Keep the
#    trained perceptron as `w_xor, b_xor, errors_xor`: the plot after this question uses them.
# 2. See the limit from another angle: implement `best_linear_accuracy(X, y, *, n_trials=2000, seed=0)`,
#    which draws `n_trials` random linear classifiers (with `rng = np.random.default_rng(seed)`,
#    weights `W = rng.normal(size=(n_trials, D))` and biases `B = rng.normal(size=n_trials)`),
#    classifies `X` with each one using the step rule ($\ge 0 \mapsto 1$), and returns the best
#    accuracy found, as a float. Try to do it without a Python loop: `X @ W.T + B` has shape
#    `(N, n_trials)`.
#
# The tests check that `xor_accuracy` is at most 0.75, that the perceptron never has an
# error-free epoch on XOR, and that random search finds a perfect line for AND but never more
# than 3 of 4 for XOR.

# %% [raw]
# # BEGIN SOLUTION

# %%
X_xor, y_xor = logic_gate("xor")
# BEGIN SOLUTION
w_xor, b_xor, errors_xor = perceptron_train(X_xor, y_xor, epochs=25, seed=rng_seed)
xor_accuracy = float(np.mean(perceptron_predict(X_xor, w_xor, b_xor) == y_xor))
print("XOR accuracy of the trained perceptron:", xor_accuracy)
# END SOLUTION


# %%
def best_linear_accuracy(X, y, *, n_trials=2000, seed=0):
    """Best accuracy of n_trials random linear classifiers step(X @ w + b) on (X, y).

    X: (N, D), y: (N,) labels in {0, 1}. Weights W ~ normal (n_trials, D), biases B ~ normal
    (n_trials,), drawn in that order from np.random.default_rng(seed). Returns a float in [0, 1].
    """
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    # BEGIN SOLUTION
    rng = np.random.default_rng(seed)
    W = rng.normal(size=(n_trials, X.shape[1]))
    B = rng.normal(size=n_trials)
    predictions = (X @ W.T + B >= 0).astype(float)  # (N, n_trials)
    accuracies = np.mean(predictions == y[:, None], axis=0)
    return float(np.max(accuracies))
    # END SOLUTION


# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_xor_limit_public(xor_accuracy, best_linear_accuracy):
    import numpy as np

    from shared.checks import check_implemented
    from shared.data import logic_gate

    check_implemented(xor_accuracy, "xor_accuracy")
    assert np.ndim(xor_accuracy) == 0, f"xor_accuracy should be a single number, got {xor_accuracy!r}"
    assert float(xor_accuracy) in (0.0, 0.25, 0.5, 0.75), (
        f"xor_accuracy should be the fraction of the 4 XOR points classified correctly (0, 0.25, 0.5 or 0.75), "
        f"got {xor_accuracy!r}. Hint: np.mean(perceptron_predict(X_xor, w, b) == y_xor)."
    )
    X, y = logic_gate("xor")
    best = best_linear_accuracy(X, y, n_trials=2000, seed=0)
    check_implemented(best, "best_linear_accuracy(X_xor, y_xor)")
    assert np.ndim(best) == 0, f"best_linear_accuracy should return a single number, got {best!r}"
    assert np.isclose(float(best), 0.75), (
        f"best_linear_accuracy(X_xor, y_xor, n_trials=2000, seed=0) should find a line with 3 of 4 points right "
        f"(0.75) and never more; got {best}. Hint: predictions (X @ W.T + B >= 0) have shape (N, n_trials); take "
        "the accuracy of each column (mean over axis 0) and return the max."
    )
    Xa, ya = logic_gate("and")
    best_and = best_linear_accuracy(Xa, ya, n_trials=2000, seed=0)
    assert np.isclose(float(best_and), 1.0), (
        f"AND is linearly separable, so 2000 random lines should include a perfect one (1.0); got {best_and}. "
        "Hint: take the max (not the mean) over trials of each classifier's accuracy."
    )

# %%
""" # BEGIN TEST CONFIG
hidden: true
""" # END TEST CONFIG
def test_xor_limit_hidden(perceptron_train, best_linear_accuracy):
    import numpy as np

    from shared.checks import check_implemented
    from shared.data import blobs, logic_gate

    X, y = logic_gate("xor")
    for seed in (1, 7, 23):
        result = perceptron_train(X, y, epochs=30, seed=seed)
        check_implemented(result, "perceptron_train(X_xor, y_xor)")
        errors = list(result[2])
        assert len(errors) == 30 and min(errors) >= 1, (
            f"On XOR no line is error-free, so every one of the 30 epochs must contain a mistake (seed={seed}); "
            f"errors were {errors}. Hint: count a mistake whenever y_hat != y."
        )
    for seed in (3, 4, 5):
        best = best_linear_accuracy(X, y, n_trials=500, seed=seed)
        check_implemented(best, "best_linear_accuracy")
        assert float(best) <= 0.75 + 1e-12, f"best_linear_accuracy on XOR cannot exceed 0.75, got {best} (seed={seed}). Hint: use the step rule X @ w + b >= 0."
    Xb, yb = blobs(30, seed=8, separation=3.0, dim=2)
    best_b = best_linear_accuracy(Xb, yb, n_trials=4000, seed=2)
    assert np.isclose(float(best_b), 1.0), f"On well-separated blobs the best random line should be perfect; got {best_b}. Hint: return the max accuracy over trials."
    assert best_linear_accuracy(Xb, yb, n_trials=50, seed=9) == best_linear_accuracy(Xb, yb, n_trials=50, seed=9), (
        "best_linear_accuracy should be deterministic for a fixed seed. Hint: draw from np.random.default_rng(seed)."
    )

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [markdown]
# Watch the perceptron fail: on AND and OR the boundary settles, on XOR it keeps moving and the
# number of mistakes per epoch never reaches zero.

# %% tags=["otter_ignore"]
fig, axes = plt.subplots(1, 2, figsize=(9, 3.8))
plot_decision_boundary(lambda P: perceptron_predict(P, w_xor, b_xor), X_xor, y_xor, ax=axes[0],
                       title=f"perceptron on XOR: accuracy {xor_accuracy:.2f}")
curves = {gate.upper(): perceptron_train(*logic_gate(gate), epochs=25, seed=rng_seed)[2] for gate in ["and", "or", "xor"]}
plot_curves(curves, ax=axes[1], ylabel="mistakes per epoch", title="perceptron training")
plt.tight_layout()
plt.show()

# %% [markdown]
# **Explain in your own words (not auto-graded, 2–4 sentences).** Why can no choice of
# $w_1, w_2, b$ make a single perceptron compute XOR, and why does the perceptron learning rule
# then never stop making mistakes? What would you need to add to the model?
#
# _Type your answer here, replacing this text._

# %% [markdown]
# ## 5. The fix: a hidden layer
#
# XOR is easy once you are allowed *two* lines. For example, $\mathrm{XOR}(x_1, x_2) =
# \mathrm{AND}\big(\mathrm{OR}(x_1, x_2),\ \mathrm{NAND}(x_1, x_2)\big)$: two neurons in a hidden
# layer compute OR and NAND, and an output neuron combines them. Each hidden neuron draws a line;
# the output neuron works in the new coordinates $(h_1, h_2)$, where the four points *are*
# linearly separable.
#
# A **multi-layer perceptron** (MLP) with one hidden layer of $H$ units computes
#
# $$h = g(W_1 x + b_1) \in \mathbb{R}^{H}, \qquad \hat y = \sigma(w_2^\top h + b_2) \in (0, 1),$$
#
# with $W_1 \in \mathbb{R}^{H\times 2}$, $b_1 \in \mathbb{R}^{H}$, $w_2 \in \mathbb{R}^{H}$,
# $b_2 \in \mathbb{R}$. The non-linearity $g$ (tanh or ReLU) is essential: without it,
# $w_2^\top (W_1 x + b_1) + b_2 = (W_1^\top w_2)^\top x + (w_2^\top b_1 + b_2)$ is again a single
# linear function, and we are back to one line. Rather than the step, the output uses a sigmoid,
# so $\hat y$ is a probability and the model is differentiable: we can train it by gradient
# descent instead of hand-wiring OR and NAND.
#
# In PyTorch, `nn.Linear(in_features, out_features)` is a layer of neurons, $x \mapsto Wx + b$
# applied to every row of a batch, and `nn.Sequential` chains modules.

# %% [raw]
# # BEGIN QUESTION
# name: q5
# points: 2

# %% [markdown]
# **Question 5 (2 points).** Implement `make_xor_mlp(hidden=8, activation="tanh")`, returning
# `nn.Sequential(nn.Linear(2, hidden), <activation>, nn.Linear(hidden, 1), nn.Sigmoid())` where
# `<activation>` is `nn.Tanh()` for `"tanh"` and `nn.ReLU()` for `"relu"`. For a batch of shape
# `(N, 2)` the model returns probabilities of shape `(N, 1)`. The tests check the structure, the
# number of parameters ($4H + 1$) and that a standard training loop solves XOR with your network.

# %% [raw]
# # BEGIN SOLUTION

# %%
def make_xor_mlp(hidden=8, activation="tanh"):
    """Linear(2, hidden) -> Tanh or ReLU -> Linear(hidden, 1) -> Sigmoid, as an nn.Sequential.

    Input (N, 2), output (N, 1) probabilities. activation: "tanh" or "relu".
    """
    # BEGIN SOLUTION
    act = {"tanh": nn.Tanh, "relu": nn.ReLU}[activation]()
    return nn.Sequential(nn.Linear(2, hidden), act, nn.Linear(hidden, 1), nn.Sigmoid())
    # END SOLUTION


# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_make_xor_mlp_public(make_xor_mlp):
    import torch
    from torch import nn

    from shared.checks import check_implemented
    from shared.data import logic_gate

    torch.manual_seed(0)
    model = make_xor_mlp(hidden=8)
    check_implemented(model, "make_xor_mlp(hidden=8)")
    assert isinstance(model, nn.Module), f"make_xor_mlp should return an nn.Module (an nn.Sequential), got {type(model).__name__}"
    n_params = sum(p.numel() for p in model.parameters())
    assert n_params == 33, (
        f"make_xor_mlp(hidden=8) should have 2*8 + 8 (first layer) + 8 + 1 (output layer) = 33 parameters, got {n_params}. "
        "Hint: nn.Linear(2, hidden) then nn.Linear(hidden, 1), both with biases."
    )
    assert any(isinstance(m, (nn.Tanh, nn.ReLU)) for m in model.modules()), (
        f"make_xor_mlp has no non-linear activation between its layers: {model}. Hint: without a non-linearity "
        "(nn.Tanh() or nn.ReLU()) two Linear layers collapse into one linear map, and a line cannot solve XOR."
    )
    X, y = logic_gate("xor")
    Xt = torch.tensor(X, dtype=torch.float32)
    yt = torch.tensor(y, dtype=torch.float32).reshape(-1, 1)
    out = model(Xt)
    assert tuple(out.shape) == (4, 1), f"model(X) for X of shape (4, 2) should have shape (4, 1), got {tuple(out.shape)}"
    assert bool(((out > 0) & (out < 1)).all()), f"The outputs should be probabilities in (0, 1), got {out.detach().cpu().ravel().tolist()}. Hint: end with nn.Sigmoid()."
    opt = torch.optim.SGD(model.parameters(), lr=1.0)
    for _ in range(500):
        opt.zero_grad()
        nn.functional.binary_cross_entropy(model(Xt), yt).backward()
        opt.step()
    pred = (model(Xt) > 0.5).float()
    assert bool((pred == yt).all()), (
        f"After 500 SGD steps (lr=1.0, seed 0) your network predicts {pred.ravel().tolist()} on XOR instead of {y.tolist()}. "
        "Hint: the hidden layer needs a non-linear activation (nn.Tanh()) between the two Linear layers."
    )

# %%
""" # BEGIN TEST CONFIG
hidden: true
""" # END TEST CONFIG
def test_make_xor_mlp_hidden(make_xor_mlp):
    import torch
    from torch import nn

    from shared.checks import check_implemented
    from shared.data import logic_gate

    torch.manual_seed(123)
    model = make_xor_mlp(hidden=7, activation="relu")
    check_implemented(model, "make_xor_mlp(hidden=7, activation='relu')")
    n_params = sum(p.numel() for p in model.parameters())
    assert n_params == 29, f"make_xor_mlp(hidden=7) should have 4*7 + 1 = 29 parameters, got {n_params}"
    assert any(isinstance(m, nn.ReLU) for m in model.modules()), (
        "make_xor_mlp(activation='relu') should contain nn.ReLU(). Hint: without a non-linear activation "
        "the network is linear and cannot solve XOR."
    )
    out = model(torch.randn(9, 2))
    assert tuple(out.shape) == (9, 1), f"model(x) for x of shape (9, 2) should have shape (9, 1), got {tuple(out.shape)}"
    X, y = logic_gate("xor")
    Xt = torch.tensor(X, dtype=torch.float32)
    yt = torch.tensor(y, dtype=torch.float32).reshape(-1, 1)
    for seed in (11, 12):
        torch.manual_seed(seed)
        model = make_xor_mlp(hidden=6, activation="tanh")
        assert any(isinstance(m, nn.Tanh) for m in model.modules()), "make_xor_mlp(activation='tanh') should contain nn.Tanh()"
        opt = torch.optim.SGD(model.parameters(), lr=1.0)
        for _ in range(500):
            opt.zero_grad()
            nn.functional.binary_cross_entropy(model(Xt), yt).backward()
            opt.step()
        pred = (model(Xt) > 0.5).float()
        assert bool((pred == yt).all()), (
            f"make_xor_mlp(hidden=6) trained for 500 SGD steps (seed {seed}) predicts {pred.ravel().tolist()} on XOR. "
            "Hint: the hidden layer needs a non-linear activation between the two Linear layers."
        )

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [markdown]
# ## 6. Training by gradient descent
#
# We measure how wrong the probabilities $\hat y_n$ are with the **binary cross-entropy**
#
# $$L = -\frac{1}{N}\sum_{n=1}^{N} \Big[ y_n \log \hat y_n + (1 - y_n) \log (1 - \hat y_n) \Big],$$
#
# (`nn.BCELoss()`), and lower it with gradient descent, $\theta \leftarrow \theta - \eta\,
# \partial L / \partial \theta$ for every parameter $\theta$ (`torch.optim.SGD`). PyTorch computes
# all the partial derivatives for us by backpropagation when we call `loss.backward()`. One
# training step is always the same four lines:
#
# ```python
# optimizer.zero_grad()         # forget the previous step's gradients
# loss = loss_fn(model(X), y)   # forward pass
# loss.backward()               # backward pass: fills p.grad for every parameter p
# optimizer.step()              # p <- p - lr * p.grad
# ```
#
# Why `zero_grad()`? `backward()` *adds* into `p.grad` rather than overwriting it (handy when a
# gradient is accumulated over several mini-batches). Forget to reset it and every step uses the
# sum of all gradients so far: a bug that often still "sort of trains", which is what makes it
# dangerous.
#
# Here all four XOR points form one batch, so each epoch is one step of full-batch gradient descent.

# %% [raw]
# # BEGIN QUESTION
# name: q6
# points: 4

# %% [markdown]
# **Question 6 (4 points).** Implement `train_xor(model, X, y, *, epochs=500, lr=1.0, device=None)`:
#
# * convert `X` (shape `(N, 2)`) and `y` (shape `(N,)`) to `float32` tensors on `device`, with `y`
#   reshaped to `(N, 1)` to match the model's output; if `device` is `None`, use the device the
#   model's parameters are on (`next(model.parameters()).device`), and move the model there;
# * make `nn.BCELoss()` and `torch.optim.SGD(model.parameters(), lr=lr)`;
# * run `epochs` steps of the four-line loop above, appending each step's `loss.item()` (the loss
#   computed in that step's forward pass, before the update) to a list;
# * return the list of `epochs` floats.
#
# The tests compare your first steps with a hand-made SGD update, check the losses you report,
# and check that a small network reaches 100% accuracy on XOR.

# %% [raw]
# # BEGIN SOLUTION

# %%
def train_xor(model, X, y, *, epochs=500, lr=1.0, device=None):
    """Full-batch SGD on binary cross-entropy. X: (N, 2), y: (N,) in {0, 1}.

    Trains `model` in place on `device` (default: where its parameters are) and returns the list
    of `epochs` losses, each measured in that step's forward pass, before the update.
    """
    # BEGIN SOLUTION
    if device is None:
        device = next(model.parameters()).device
    model.to(device)
    X = torch.as_tensor(X, dtype=torch.float32, device=device)
    y = torch.as_tensor(y, dtype=torch.float32, device=device).reshape(-1, 1)
    loss_fn = nn.BCELoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    losses = []
    for _ in range(epochs):
        optimizer.zero_grad()  # backward() adds into p.grad: reset it every step
        loss = loss_fn(model(X), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses
    # END SOLUTION


# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_train_xor_matches_manual_sgd_public(train_xor):
    import copy

    import torch
    from torch import nn

    from shared.checks import assert_close, check_implemented
    from shared.data import logic_gate

    torch.manual_seed(5)
    model = nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 1), nn.Sigmoid())
    reference = copy.deepcopy(model)
    X, y = logic_gate("xor")
    lr = 0.5
    Xt = torch.tensor(X, dtype=torch.float32)
    yt = torch.tensor(y, dtype=torch.float32).reshape(-1, 1)
    expected_losses = []
    for _ in range(3):
        loss = nn.functional.binary_cross_entropy(reference(Xt), yt)
        grads = torch.autograd.grad(loss, list(reference.parameters()))
        with torch.no_grad():
            for p, g in zip(reference.parameters(), grads, strict=True):
                p -= lr * g
        expected_losses.append(loss.item())
    losses = train_xor(model, X, y, epochs=3, lr=lr)
    check_implemented(losses, "train_xor(model, X_xor, y_xor, epochs=3, lr=0.5)")
    hint = ("Hint: each step is optimizer.zero_grad(); loss = BCELoss()(model(X), y); loss.backward(); "
            "optimizer.step(). Without zero_grad the gradients of earlier steps add up in p.grad.")
    assert len(losses) == 3, f"train_xor(..., epochs=3) should return 3 losses, got {len(losses)}: {losses}"
    assert_close(torch.tensor([float(v) for v in losses], dtype=torch.float64), torch.tensor(expected_losses, dtype=torch.float64),
                 name="the 3 losses returned by train_xor(model, X_xor, y_xor, epochs=3, lr=0.5)", rtol=1e-5, atol=1e-6,
                 hint=hint + " Record loss.item() from each step's forward pass, before optimizer.step().")
    for (name, p), q in zip(model.named_parameters(), reference.parameters(), strict=True):
        assert_close(p.detach().cpu().double(), q.detach().double(), name=f"parameter {name} after 3 SGD steps (lr=0.5)", rtol=1e-5, atol=1e-6, hint=hint)

# %%
def test_train_xor_solves_xor_public(train_xor):
    import torch
    from torch import nn

    from shared.checks import check_implemented
    from shared.data import logic_gate

    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 1), nn.Sigmoid())
    X, y = logic_gate("xor")
    losses = train_xor(model, X, y, epochs=500, lr=1.0)
    check_implemented(losses, "train_xor(model, X_xor, y_xor, epochs=500, lr=1.0)")
    assert len(losses) == 500 and all(isinstance(v, float) for v in losses), (
        "train_xor should return a list of 500 Python floats (loss.item() per step)"
    )
    assert losses[-1] < 0.1 and losses[-1] < losses[0], (
        f"After 500 steps of SGD (lr=1.0, seed 0) on XOR the loss should fall below 0.1; it went from {losses[0]:.4f} to {losses[-1]:.4f}. "
        "Hint: optimizer.zero_grad(), forward, BCELoss, loss.backward(), optimizer.step(), in every epoch."
    )
    with torch.no_grad():
        pred = (model(torch.tensor(X, dtype=torch.float32)) > 0.5).float().cpu().ravel()
    assert torch.equal(pred, torch.tensor(y, dtype=torch.float32)), f"After training the model predicts {pred.tolist()} on XOR instead of {y.tolist()}."

# %%
""" # BEGIN TEST CONFIG
hidden: true
""" # END TEST CONFIG
def test_train_xor_hidden(train_xor):
    import copy

    import torch
    from torch import nn

    from shared.checks import assert_close, check_implemented
    from shared.data import logic_gate

    hint = ("Hint: each step is optimizer.zero_grad(); loss = BCELoss()(model(X), y); loss.backward(); "
            "optimizer.step(). Without zero_grad the gradients of earlier steps add up in p.grad.")
    torch.manual_seed(31)
    model = nn.Sequential(nn.Linear(2, 5), nn.ReLU(), nn.Linear(5, 1), nn.Sigmoid())
    reference = copy.deepcopy(model)
    X, y = logic_gate("or")
    lr = 0.3
    Xt = torch.tensor(X, dtype=torch.float32)
    yt = torch.tensor(y, dtype=torch.float32).reshape(-1, 1)
    expected_losses = []
    for _ in range(4):
        loss = nn.functional.binary_cross_entropy(reference(Xt), yt)
        grads = torch.autograd.grad(loss, list(reference.parameters()))
        with torch.no_grad():
            for p, g in zip(reference.parameters(), grads, strict=True):
                p -= lr * g
        expected_losses.append(loss.item())
    losses = train_xor(model, torch.tensor(X), torch.tensor(y), epochs=4, lr=lr)
    check_implemented(losses, "train_xor(model, X_or, y_or, epochs=4, lr=0.3)")
    assert_close(torch.tensor([float(v) for v in losses], dtype=torch.float64), torch.tensor(expected_losses, dtype=torch.float64),
                 name="the 4 losses returned by train_xor on OR (lr=0.3), inputs given as float64 tensors", rtol=1e-5, atol=1e-6, hint=hint)
    for (name, p), q in zip(model.named_parameters(), reference.parameters(), strict=True):
        assert_close(p.detach().cpu().double(), q.detach().double(), name=f"parameter {name} after 4 SGD steps (lr=0.3)", rtol=1e-5, atol=1e-6, hint=hint)
    Xx, yx = logic_gate("xor")
    for seed in (7, 8):
        torch.manual_seed(seed)
        model = nn.Sequential(nn.Linear(2, 6), nn.Tanh(), nn.Linear(6, 1), nn.Sigmoid())
        losses = train_xor(model, Xx, yx, epochs=400, lr=1.0)
        assert len(losses) == 400 and losses[-1] < 0.15, f"train_xor(epochs=400, lr=1.0, seed {seed}) should bring the XOR loss below 0.15, got {losses[-1]:.4f}. {hint}"

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [markdown]
# Now train one network with tanh and one with ReLU, and look at what they learned: two lines
# (tanh) or a bent, piecewise-linear boundary (ReLU) that finally separates XOR. Training runs on
# `shared.device()`: a GPU if you have one, otherwise the CPU. (For four points the CPU is
# actually faster; the point is that the same code runs on both.)

# %% tags=["otter_ignore"]
dev = shared.device()
curves, models = {}, {}
for act in ["tanh", "relu"]:
    torch.manual_seed(rng_seed)
    models[act] = make_xor_mlp(hidden=8, activation=act).to(dev)
    curves[act] = train_xor(models[act], X_xor, y_xor, epochs=500, lr=1.0, device=dev)


def mlp_predict(model):
    def predict(P):
        with torch.no_grad():
            return model(torch.as_tensor(P, dtype=torch.float32, device=dev)).cpu().numpy().ravel()
    return predict


fig, axes = plt.subplots(1, 3, figsize=(13, 3.8))
for ax, act in zip(axes[:2], ["tanh", "relu"], strict=True):
    plot_decision_boundary(mlp_predict(models[act]), X_xor, y_xor, ax=ax, title=f"MLP ({act}, 8 hidden) on XOR")
plot_curves(curves, ax=axes[2], ylabel="BCE loss", title="training loss", logy=True)
plt.tight_layout()
plt.show()

# %% [markdown]
# ## 7. Counting parameters
#
# A layer `nn.Linear(n_in, n_out)` holds a weight matrix of shape `(n_out, n_in)` and a bias of
# shape `(n_out,)`: $n_\text{in} n_\text{out} + n_\text{out} = (n_\text{in} + 1)\, n_\text{out}$
# parameters. Activations like ReLU have none. The network from the lecture,
# $10 \to 64 \to 32 \to 1$ with ReLUs in between, therefore has
#
# $$(10 + 1)\cdot 64 + (64 + 1)\cdot 32 + (32 + 1)\cdot 1 = 704 + 2{,}080 + 33 = 2{,}817$$
#
# parameters. Counting is a habit worth forming: it tells you how much memory a model needs, and
# how much data it might need not to overfit.
#
# Not every parameter is *trainable*. Setting `p.requires_grad_(False)` **freezes** a parameter
# (common when fine-tuning a pre-trained network): the optimizer leaves it alone. Every
# `torch.Tensor` knows its size, `p.numel()`, and `module.parameters()` yields each parameter of
# a module and all its sub-modules once.

# %% [raw]
# # BEGIN QUESTION
# name: q7
# points: 3

# %% [markdown]
# **Question 7 (3 points).**
#
# * `count_parameters(module)`: the number of **trainable** parameters (those with
#   `requires_grad=True`) of any `nn.Module`, weights and biases alike, as an `int`.
# * `make_2817_net()`: the lecture's network, `nn.Sequential(nn.Linear(10, 64), nn.ReLU(),
#   nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 1))`; check that it has 2,817 parameters.

# %% [raw]
# # BEGIN SOLUTION

# %%
def count_parameters(module):
    """Number of trainable scalars (parameters with requires_grad=True) in `module`, as an int."""
    # BEGIN SOLUTION
    return sum(p.numel() for p in module.parameters() if p.requires_grad)
    # END SOLUTION


def make_2817_net():
    """Linear(10, 64) -> ReLU -> Linear(64, 32) -> ReLU -> Linear(32, 1): input (N, 10), output (N, 1)."""
    # BEGIN SOLUTION
    return nn.Sequential(nn.Linear(10, 64), nn.ReLU(), nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 1))
    # END SOLUTION


# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_count_parameters_public(count_parameters):
    from torch import nn

    from shared.checks import check_implemented

    layer = nn.Linear(3, 5)
    n = count_parameters(layer)
    check_implemented(n, "count_parameters(nn.Linear(3, 5))")
    assert int(n) == 20, (
        f"count_parameters(nn.Linear(3, 5)) should be 3*5 weights + 5 biases = 20, got {n}. "
        "Hint: count every parameter tensor, biases included: sum(p.numel() for p in module.parameters() ...)."
    )
    net = nn.Sequential(nn.Linear(4, 6), nn.ReLU(), nn.Linear(6, 2))
    expected = 4 * 6 + 6 + 6 * 2 + 2
    assert int(count_parameters(net)) == expected, f"count_parameters(Linear(4, 6), ReLU, Linear(6, 2)) should be {expected}, got {count_parameters(net)}. Hint: include the biases."
    net[0].weight.requires_grad_(False)
    expected_trainable = 6 + 6 * 2 + 2
    got = count_parameters(net)
    assert int(got) == expected_trainable, (
        f"With the first layer's weight frozen (requires_grad=False), only {expected_trainable} parameters are trainable, got {got}. "
        "Hint: count only parameters with p.requires_grad."
    )

# %%
def test_make_2817_net_public(make_2817_net):
    import torch
    from torch import nn

    from shared.checks import check_implemented

    net = make_2817_net()
    check_implemented(net, "make_2817_net()")
    total = sum(p.numel() for p in net.parameters())
    linears = [m for m in net.modules() if isinstance(m, nn.Linear)]
    shapes = [(m.in_features, m.out_features) for m in linears]
    assert shapes == [(10, 64), (64, 32), (32, 1)], f"make_2817_net should have Linear layers 10->64, 64->32, 32->1, got {shapes}"
    assert sum(isinstance(m, nn.ReLU) for m in net.modules()) == 2, "make_2817_net should have a ReLU after each of the first two Linear layers"
    assert total == 2817, f"make_2817_net() has {total} parameters instead of 704 + 2,080 + 33 = 2,817. Hint: keep the biases."
    out = net(torch.zeros(3, 10))
    assert tuple(out.shape) == (3, 1), f"make_2817_net()(x) for x of shape (3, 10) should have shape (3, 1), got {tuple(out.shape)}"

# %%
""" # BEGIN TEST CONFIG
hidden: true
""" # END TEST CONFIG
def test_count_parameters_hidden(count_parameters):
    import torch
    from torch import nn

    from shared.checks import check_implemented

    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(3, 8, kernel_size=3), nn.ReLU(), nn.Flatten(), nn.Linear(8, 7, bias=False), nn.LayerNorm(7))
    n = count_parameters(net)
    check_implemented(n, "count_parameters(net)")
    expected = sum(p.numel() for p in net.parameters())
    assert int(n) == expected, (
        f"count_parameters(Conv2d(3, 8, 3), ReLU, Flatten, Linear(8, 7, bias=False), LayerNorm(7)) should be {expected}, got {n}. "
        "Hint: count every parameter tensor of every sub-module, biases and norm scales included: p.numel() for p in module.parameters()."
    )
    net[0].bias.requires_grad_(False)
    net[4].weight.requires_grad_(False)
    expected = sum(p.numel() for p in net.parameters() if p.requires_grad)
    assert int(count_parameters(net)) == expected, (
        f"With two parameter tensors frozen, {expected} parameters are trainable, got {count_parameters(net)}. "
        "Hint: count only parameters with p.requires_grad."
    )
    frozen = nn.Linear(100, 100).requires_grad_(False)
    assert int(count_parameters(frozen)) == 0, f"A fully frozen layer has 0 trainable parameters, got {count_parameters(frozen)}. Hint: check p.requires_grad."

# %%
""" # BEGIN TEST CONFIG
hidden: true
""" # END TEST CONFIG
def test_make_2817_net_hidden(make_2817_net):
    import torch

    from shared.checks import check_implemented

    net = make_2817_net()
    check_implemented(net, "make_2817_net()")
    out = net(torch.randn(6, 10))
    assert tuple(out.shape) == (6, 1), f"make_2817_net()(x) for x of shape (6, 10) should have shape (6, 1), got {tuple(out.shape)}"
    per_layer = [sum(p.numel() for p in m.parameters()) for m in net.modules() if isinstance(m, torch.nn.Linear)]
    assert per_layer == [704, 2080, 33], f"The three Linear layers should have 704, 2,080 and 33 parameters, got {per_layer}. Hint: keep the biases."

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [markdown]
# Compare your count with the layer-by-layer arithmetic:

# %% tags=["otter_ignore"]
net_2817 = make_2817_net()
print(net_2817)
for name, module in net_2817.named_children():
    if count_parameters(module):
        print(f"layer {name}: {module}  ->  {count_parameters(module):,} parameters")
print(f"total: {count_parameters(net_2817):,} trainable parameters")

# %% [markdown]
# ## Wrapping up
#
# You built a neuron, trained the 1958 perceptron with its mistake-driven rule, proved (twice)
# that no single line computes XOR, and solved XOR with a hidden layer trained by backpropagation
# and SGD. The recipe of the last two questions (a stack of linear layers and non-linearities,
# a loss, `zero_grad` / `backward` / `step`, and a parameter count to keep the model honest) is
# the recipe of the rest of the course; only the layers get more interesting.
#
# Before you submit, run the whole notebook from the top (*Kernel → Restart & Run All*) and make
# sure every `grader.check` passes.
