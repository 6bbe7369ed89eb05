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
# examples. No function may modify the arrays passed to it (the tests check; `train_xor` of
# course updates the model it is given). A mistake costs points only in the question of the
# function that has it: q4's tests use your q3 perceptron only to check that `xor_accuracy` agrees
# with it (if `perceptron_train` raises an error, though, q4's `w_xor` cannot exist either).
# Cells that only draw pictures are not graded; run them anyway, they are the fun part.
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
# `z` of any shape (a scalar, a list or an array, of floats or integers) and returns a float NumPy
# array of the same shape, without modifying `z`. `softmax(z, axis=-1)` normalises along `axis`
# (the last one by default) and must return finite, correct values even for inputs around ±1000,
# in every slice along `axis` on its own: a row around 1000 and a row around -1000 of the same
# array must both come out right. You may use `np.exp`, `np.tanh`, `np.maximum`, `np.max` and
# `np.sum` (and any other NumPy arithmetic), but not a library's ready-made softmax or sigmoid.
# The tests compare with the exact values at float32 precision (relative tolerance 1e-5), so any
# textbook formula, in float64 or float32, passes.

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
def test_activations_public(sigmoid, tanh, relu):
    import numpy as np

    from shared.testing.perceptron_xor import check_elementwise, check_relu, check_sigmoid

    z = np.array([[-3.0, -0.5, 0.0], [0.5, 2.0, 6.0]])
    check_sigmoid(sigmoid, z, label=f"sigmoid(z) for z = {z.tolist()}")
    check_elementwise(tanh, z, np.tanh(z), label=f"tanh(z) for z = {z.tolist()}",
                      hint="Hint: np.tanh does it, or (exp(z) - exp(-z)) / (exp(z) + exp(-z)).")
    check_relu(relu, z, label=f"relu(z) for z = {z.tolist()}")

# %%
def test_softmax_public(softmax):
    import numpy as np

    from shared.testing.perceptron_xor import check_softmax

    check_softmax(softmax, np.array([1.0, 2.0, 3.0]), axis=None, label="softmax([1, 2, 3])")
    z = np.array([[1.0, 2.0, 3.0, 4.0], [0.0, 0.0, 0.0, 0.0], [-1.0, 5.0, 2.0, 0.5]])
    check_softmax(softmax, z, axis=None, label=f"softmax(z) for z = {z.tolist()} (each row should sum to 1)")
    check_softmax(softmax, np.array([1000.0, 1001.0, 1002.0]), axis=None, label="softmax([1000, 1001, 1002])")
    z = np.array([[1000.0, 1001.0, 1002.0], [-1000.0, -1001.0, -1002.0]])
    check_softmax(softmax, z, axis=None, label=f"softmax(z) for z = {z.tolist()} (each row on its own scale)")

# %%
""" # BEGIN TEST CONFIG
hidden: true
""" # END TEST CONFIG
def test_activations_hidden(sigmoid, tanh, relu):
    import numpy as np

    from shared.testing.perceptron_xor import check_elementwise, check_relu, check_sigmoid

    z = np.random.default_rng(101).normal(scale=4.0, size=(3, 4, 5))
    check_sigmoid(sigmoid, z, label="sigmoid(z) for random z of shape (3, 4, 5)")
    check_elementwise(tanh, z, np.tanh(z), label="tanh(z) for random z of shape (3, 4, 5)",
                      hint="Hint: np.tanh works elementwise on any shape.")
    check_relu(relu, z, label="relu(z) for random z of shape (3, 4, 5)")
    check_relu(relu, np.array([-2, 0, 3]), label="relu(np.array([-2, 0, 3])) (integers in, floats out)")
    check_relu(relu, -2.5, label="relu(-2.5) (a scalar in, a 0-d array or scalar out)")
    check_sigmoid(sigmoid, [0.0, -1.0], label="sigmoid([0.0, -1.0]) (a list in)")

# %%
""" # BEGIN TEST CONFIG
hidden: true
""" # END TEST CONFIG
def test_softmax_hidden(softmax):
    import numpy as np

    from shared.testing.perceptron_xor import check_softmax

    z = np.random.default_rng(202).normal(scale=3.0, size=(2, 3, 4))
    for axis in (-1, 0, 1):
        check_softmax(softmax, z, axis=axis, label=f"softmax(z, axis={axis}) for random z of shape (2, 3, 4)")
    z = np.array([[1000.0, 999.0, -1000.0], [-5.0, 800.0, 800.0]])
    check_softmax(softmax, z, axis=1, label=f"softmax(z, axis=1) for z = {z.tolist()}")
    z = np.array([[900.0, -900.0, 3.0], [899.0, -901.0, 1.0]])
    check_softmax(softmax, z, axis=0, label=f"softmax(z, axis=0) for z = {z.tolist()} (each column on its own scale)")

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

    from shared.checks import assert_close
    from shared.testing import tagged
    from shared.testing.perceptron_xor import ACTIVATION_ATOL, ACTIVATION_RTOL, call

    x = np.array([[0.0, 0.0], [1.0, 2.0], [-1.0, 0.5]])
    w = np.array([0.5, -1.0])
    b = 0.25
    hint = tagged("xor.neuron_bias", "Hint: the output is activation(x @ w + b); did you forget the bias b, or multiply in the wrong order?")
    for act_name, activation in [("identity", lambda a: a), ("np.tanh", np.tanh)]:
        label = f"neuron(x={x.tolist()}, w={w.tolist()}, b={b}, activation={act_name})"
        out = call(neuron, x, w, b, activation, label=label, hint=hint)
        assert_close(out, activation(np.array([0.25, -1.25, -0.75])), name=label,
                     rtol=ACTIVATION_RTOL, atol=ACTIVATION_ATOL, hint=hint)

# %%
""" # BEGIN TEST CONFIG
hidden: true
""" # END TEST CONFIG
def test_neuron_hidden(neuron):
    import numpy as np

    from shared.checks import assert_close
    from shared.testing import tagged
    from shared.testing.perceptron_xor import ACTIVATION_ATOL, ACTIVATION_RTOL, call

    hint = tagged("xor.neuron_bias", "Hint: the output is activation(x @ w + b), one value per row of x; include the bias b.")
    rng = np.random.default_rng(303)
    for n, d, b in [(7, 1, -1.5), (5, 4, 2.0), (1, 3, 0.75)]:
        x = rng.normal(size=(n, d))
        w = rng.normal(size=d)
        label = f"neuron(x, w, b={b}, activation=relu) for x of shape ({n}, {d})"
        out = call(neuron, x, w, b, lambda a: np.maximum(a, 0.0), label=label, hint=hint)
        assert_close(out, np.maximum(x @ w + b, 0.0), name=label, rtol=ACTIVATION_RTOL, atol=ACTIVATION_ATOL, hint=hint)

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
# Starting from $w = 0, b = 0$, as we will, in exact arithmetic the learning rate only rescales
# $w$ and $b$ and does not change a single prediction. In floating point that holds exactly only
# when $\eta$ is a power of two (0.5, 0.25, ...): with $\eta = 0.1$, sums such as
# $0.1 + 0.2 - 0.3$ are not exactly 0, so a point that lies exactly on the boundary with $\eta = 1$
# can land on either side, and the rest of the run can change (try it on a few points with small
# integer coordinates).

# %% [raw]
# # BEGIN QUESTION
# name: q3
# points: 4

# %% [markdown]
# **Question 3 (4 points).** Implement
#
# * `perceptron_predict(X, w, b)`: `X (N, D)`, `w (D,)`, scalar `b`; returns an array of
#   shape `(N,)` with `1.0` where $w^\top x + b \ge 0$ (points exactly on the boundary are
#   class 1) and `0.0` elsewhere (floats; integer or boolean 1/0 are accepted too).
# * `perceptron_train(X, y, *, lr=1.0, epochs=100, seed=0)`: start from `w = np.zeros(D)` and
#   `b = 0.0`. In each epoch visit the examples in the order `rng.permutation(N)` (with
#   `rng = np.random.default_rng(seed)` made once, before the first epoch), predict each one,
#   and apply the update rule **only when the prediction is wrong**, counting the mistakes. Append
#   the epoch's number of mistakes to a list `errors`, and **stop early** after the first epoch
#   with no mistakes. Return `(w, b, errors)`. This is Rosenblatt's *online* rule: each update
#   happens right away, so the next example of the same epoch is judged with the new `w, b`.
#
# The tests train on AND, OR and other linearly separable data and check that training ends with
# an error-free epoch, that the learned weights classify every point, that an epoch without
# mistakes changes nothing, that the learning rate 0.5 gives the run of 1.0 with `w` and `b`
# halved, and that on XOR every epoch has a mistake. On small data with integer coordinates (where
# every sum is exact) they also compare `w`, `b` and `errors` with the rule run exactly as stated
# above: same order, same online updates, same early stop.

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
def test_perceptron_predict_public(env):
    perceptron_predict = env.get("perceptron_predict")
    import numpy as np

    from shared.testing.perceptron_xor import check_predict

    X = np.array([[0.0, 0.0], [1.0, 1.0], [-1.0, -1.0], [2.0, -1.0]])
    w = np.array([1.0, 1.0])
    for b in (0.0, -1.5):
        check_predict(perceptron_predict, X, w, b, label=f"perceptron_predict(X={X.tolist()}, w=[1, 1], b={b})")

# %%
def test_perceptron_train_public(env):
    perceptron_train, perceptron_predict = env.get("perceptron_train"), env.get("perceptron_predict")
    import numpy as np

    from shared.data import logic_gate
    from shared.testing.perceptron_xor import (BATCH_HINT, STRICT_HINT, call, check_perceptron_run,
                                               check_separable_fit, unpack_perceptron)

    for gate in ("and", "or"):
        X, y = logic_gate(gate)
        check_separable_fit(perceptron_train, perceptron_predict, X, y, epochs=100, seed=0,
                            label=f"perceptron_train(X_{gate}, y_{gate}, epochs=100, seed=0)")
    # All labels 1: w = 0, b = 0 already predicts 1 everywhere (0 >= 0), so nothing may change.
    X = np.array([[1.0, 2.0], [3.0, -1.0], [-2.0, 0.5]])
    label = f"perceptron_train(X={X.tolist()}, y=[1, 1, 1], epochs=10, seed=0)"
    run = unpack_perceptron(call(perceptron_train, X, np.ones(3), epochs=10, seed=0, label=label), 2, label=label)
    check_perceptron_run(run, (np.zeros(2), 0.0, [0]), label=label)
    # Three copies of one point of class 0: the online rule corrects the first copy, and the other
    # two are then right; whatever the order, one mistake, then an error-free epoch.
    X = np.array([[1.0, 2.0]] * 3)
    label = f"perceptron_train(X={X.tolist()}, y=[0, 0, 0], lr=0.5, epochs=10, seed=0)"
    run = unpack_perceptron(call(perceptron_train, X, np.zeros(3), lr=0.5, epochs=10, seed=0, label=label), 2, label=label)
    check_perceptron_run(run, (np.array([-0.5, -1.0]), -0.5, [1, 0]), label=label,
                         alternatives={BATCH_HINT: (np.array([-1.5, -3.0]), -1.5, [3, 0]),
                                       STRICT_HINT: (np.zeros(2), 0.0, [0])})

# %%
""" # BEGIN TEST CONFIG
hidden: true
""" # END TEST CONFIG
def test_perceptron_hidden(env):
    perceptron_train, perceptron_predict = env.get("perceptron_train"), env.get("perceptron_predict")
    import numpy as np

    from grader_only.oracles import perceptron_cases, perceptron_mistakes, perceptron_run
    from shared.data import blobs, logic_gate
    from shared.testing.perceptron_xor import (PERCEPTRON_RULE, call, check_perceptron_run, check_predict,
                                               check_separable_fit, unpack_perceptron)

    X = np.array([[2.0, -1.0, 0.5], [0.0, 0.0, 0.0], [1.0, 1.0, 1.0], [-3.0, 2.0, 1.0], [0.5, 0.5, -2.0]])
    check_predict(perceptron_predict, X, np.array([1.0, 2.0, -2.0]), 0.0, label="perceptron_predict(X, w, b=0) for X of shape (5, 3)")
    check_predict(perceptron_predict, X[:1], np.array([1.0, 0.5, -1.0]), -1.0, label="perceptron_predict(X, w, b=-1) for one row")
    # The rule exactly as stated (order, online updates, early stop) on small-integer data.
    for X, y, lr, seed in perceptron_cases():
        label = f"perceptron_train(X, y, lr={lr}, epochs=50, seed={seed}) for X of shape {X.shape}"
        run = unpack_perceptron(call(perceptron_train, X, y, lr=lr, epochs=50, seed=seed, label=label), X.shape[1], label=label)
        check_perceptron_run(run, perceptron_run(X, y, lr=lr, epochs=50, seed=seed), label=label,
                             alternatives=perceptron_mistakes(X, y, lr=lr, epochs=50, seed=seed))
    X, y = blobs(40, seed=11, separation=4.0, dim=3)
    w, b, errors = check_separable_fit(perceptron_train, perceptron_predict, X, y, epochs=200, seed=5,
                                       label="perceptron_train(X, y, epochs=200, seed=5) on separable 3-D blobs")
    # lr = 0.5 halves every update exactly in floating point, so the run is the same, rescaled.
    label = "perceptron_train(X, y, lr=0.5, epochs=200, seed=5) on the same blobs"
    run = unpack_perceptron(call(perceptron_train, X, y, lr=0.5, epochs=200, seed=5, label=label), 3, label=label)
    check_perceptron_run(run, (w / 2, b / 2, errors), label=label + " (should be the lr=1.0 run with w and b halved)")
    for gate in ("nand", "nor"):
        Xg, yg = logic_gate(gate)
        check_separable_fit(perceptron_train, perceptron_predict, Xg, yg, epochs=50, seed=3,
                            label=f"perceptron_train(X_{gate}, y_{gate}, epochs=50, seed=3)")
    Xp = np.random.default_rng(12).normal(size=(6, 4))
    label = "perceptron_train(X, np.ones(6), epochs=5, seed=1), where w = 0, b = 0 already makes no mistake"
    run = unpack_perceptron(call(perceptron_train, Xp, np.ones(6), epochs=5, seed=1, label=label), 4, label=label)
    check_perceptron_run(run, (np.zeros(4), 0.0, [0]), label=label)
    X, y = logic_gate("xor")
    for seed in (1, 7, 23):
        label = f"perceptron_train(X_xor, y_xor, epochs=30, seed={seed})"
        errors = unpack_perceptron(call(perceptron_train, X, y, epochs=30, seed=seed, label=label), 2, label=label)[2]
        assert len(errors) == 30 and min(errors) >= 1, (
            f"{label}: no line is error-free on XOR, so each of the 30 epochs must count at least one "
            f"mistake; errors were {errors}. {PERCEPTRON_RULE}"
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
#    which draws `n_trials` random linear classifiers with standard normal weights and biases
#    from `rng = np.random.default_rng(seed)` (for instance `W = rng.normal(size=(n_trials, D))`,
#    then `B = rng.normal(size=n_trials)`), classifies `X` with each one using the step rule
#    ($\ge 0 \mapsto 1$), and returns the best accuracy found, as a float; the same seed must
#    give the same result. Try to do it without a Python loop: `X @ W.T + B` has shape
#    `(N, n_trials)`.
#
# The tests check that `xor_accuracy` is the fraction your `w_xor, b_xor` classify correctly
# (at most 0.75) and that they are what `perceptron_train` returns for 25 epochs and
# `seed=rng_seed` (at any learning rate), and that random search finds a perfect line for AND and for well-separated
# blobs but never more than 3 of 4 points for XOR. They do not depend on the exact random draws.

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
def test_xor_limit_public(env, best_linear_accuracy):
    import numpy as np

    from shared.data import logic_gate
    from shared.testing import gate
    from shared.testing.perceptron_xor import best_linear_hint, call, check_xor_run, perceptron_checks

    xor_accuracy, w_xor, b_xor = env.get("xor_accuracy"), env.get("w_xor"), env.get("b_xor")
    perceptron_predict = env.get("perceptron_predict")
    skipped = gate(perceptron_checks(env))  # q3's cell crashed: the XOR run could not happen
    if skipped is None:
        check_xor_run(xor_accuracy, w_xor, b_xor, perceptron_predict)
    for gate_name, want in (("xor", 0.75), ("and", 1.0)):
        Xg, yg = logic_gate(gate_name)
        label = f"best_linear_accuracy(X_{gate_name}, y_{gate_name}, n_trials=2000, seed=0)"
        best = call(best_linear_accuracy, Xg, yg, n_trials=2000, seed=0, label=label)
        assert np.ndim(best) == 0, f"{label} should return a single number, got {best!r}"
        assert np.isclose(float(best), want), (
            f"{label} should be {want} ({'3 of 4 points: no line does better on XOR' if gate_name == 'xor' else 'AND is linearly separable'}), "
            f"got {best}. {best_linear_hint(float(best), 4, want)}"
        )
    return skipped


# %%
""" # BEGIN TEST CONFIG
hidden: true
""" # END TEST CONFIG
def test_xor_limit_hidden(env, best_linear_accuracy, rng_seed):
    import numpy as np

    from shared.data import blobs, logic_gate
    from shared.testing import gate
    from shared.testing.perceptron_xor import best_linear_hint, call, describe_run, perceptron_checks, same_run, same_run_at_some_rate, unpack_perceptron

    X, y = logic_gate("xor")
    w_xor, b_xor, errors_xor, perceptron_train = (env.get(n) for n in ("w_xor", "b_xor", "errors_xor", "perceptron_train"))
    skipped = gate(perceptron_checks(env))  # q3's cell crashed: the XOR run could not happen
    # Where your perceptron_train is deterministic, w_xor, b_xor, errors_xor must be its run with
    # epochs=25, seed=rng_seed (whether that run is right is q3's business, not this question's),
    # at whatever learning rate: the question fixes only epochs and seed, and from zero a rate lr
    # gives the same mistakes with w, b scaled by lr.
    label = f"perceptron_train(X_xor, y_xor, epochs=25, seed=rng_seed={rng_seed})"
    mine = None if skipped else unpack_perceptron((w_xor, b_xor, errors_xor), 2, label="(w_xor, b_xor, errors_xor)")
    try:
        runs = [unpack_perceptron(perceptron_train(X, y, epochs=25, seed=rng_seed), 2, label=label) for _ in range(2)]
    except Exception:  # a perceptron_train that fails is graded in q3
        runs = None
    if mine is not None and runs is not None and same_run(*runs):
        assert same_run_at_some_rate(mine, runs[0]), (
            f"w_xor, b_xor, errors_xor are {describe_run(mine)}, but {label} gives {describe_run(runs[0])} "
            "(or, at another learning rate, the same mistakes with w and b scaled by it). "
            "Hint: train for 25 epochs with seed=rng_seed and keep what perceptron_train returns."
        )
    for seed in (3, 4, 5):
        label = f"best_linear_accuracy(X_xor, y_xor, n_trials=500, seed={seed})"
        best = call(best_linear_accuracy, X, y, n_trials=500, seed=seed, label=label)
        assert np.isclose(float(best), 0.75), f"{label} should be 0.75 (about 1 random line in 8 gets 3 of 4), got {best}. {best_linear_hint(float(best), 4, 0.75)}"
    Xb, yb = blobs(30, seed=8, separation=3.0, dim=2)
    label = "best_linear_accuracy(X, y, n_trials=4000, seed=2) on separable 2-D blobs of 30 points"
    best = call(best_linear_accuracy, Xb, yb, n_trials=4000, seed=2, label=label)
    assert np.isclose(float(best), 1.0), f"{label} should be 1.0 (about 3% of random lines separate them), got {best}. {best_linear_hint(float(best), 30, 1.0)}"
    Xc, yc = blobs(12, seed=3, separation=3.0, dim=3)
    label = "best_linear_accuracy(X, y, n_trials=50, seed=9) on 12 points in 3-D"
    first = call(best_linear_accuracy, Xc, yc, n_trials=50, seed=9, label=label)
    assert np.ndim(first) == 0 and 0.0 <= float(first) <= 1.0, f"{label} should be a single accuracy between 0 and 1, got {first!r}."
    assert abs(float(first) * 12 - round(float(first) * 12)) < 1e-9, f"{label} = {first} is not a fraction of the 12 points. {best_linear_hint(float(first), 12, 1.0)}"
    assert float(call(best_linear_accuracy, Xc, yc, n_trials=50, seed=9, label=label)) == float(first), (
        f"{label} gave two different results: it should be deterministic for a fixed seed. Hint: draw from np.random.default_rng(seed)."
    )
    return skipped

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
# `(N, 2)` the model returns probabilities of shape `(N, 1)`. Your own `nn.Module` that computes
# the same thing with these two `nn.Linear` layers (say with `torch.tanh` in its `forward`) is
# fine too. The tests check what the network computes (with its own layers' weights), the number
# of parameters ($4H + 1$) and that a standard training loop, started from initial weights the
# test sets, solves XOR with your network.

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

    from shared.data import logic_gate
    from shared.testing import run_beside
    from shared.testing.perceptron_xor import MLP_HINT, call, check_forward, linear_layers, mlp_hint, reset_linears, train_full_batch

    torch.manual_seed(0)
    run_beside(make_xor_mlp, torch.manual_seed, 0)  # the torch that builds it: the kernel's, under the referee
    label = "make_xor_mlp(hidden=8)"
    model = call(make_xor_mlp, hidden=8, label=label)
    first, second = linear_layers(model, [(2, 8), (8, 1)], label=label)
    n_params = sum(p.numel() for p in model.parameters())
    assert n_params == 33, (
        f"{label} should have 2*8 + 8 (first layer) + 8 + 1 (output layer) = 33 parameters, got {n_params}. "
        "Hint: nn.Linear(2, hidden) then nn.Linear(hidden, 1), both with biases, and no other parameters."
    )
    x = torch.randn(5, 2)
    check_forward(model, lambda x: torch.sigmoid(second(torch.tanh(first(x)))), x, label=label,
                  hint=mlp_hint(first, second, x, "tanh"))
    # Train it with a standard loop from initial values set by the test (whatever the order in
    # which your layers were created): a tanh network of 8 units solves XOR.
    X, y = logic_gate("xor")
    reset_linears([first, second], seed=0)
    pred = train_full_batch(model, X, y, steps=500, lr=1.0)
    assert torch.equal(pred, torch.tensor(y, dtype=torch.float32)), (
        f"After 500 full-batch SGD steps (lr=1.0) from the test's initial values, {label} predicts "
        f"{pred.tolist()} on XOR instead of {y.tolist()}. {MLP_HINT}"
    )

# %%
""" # BEGIN TEST CONFIG
hidden: true
""" # END TEST CONFIG
def test_make_xor_mlp_hidden(make_xor_mlp):
    import torch

    from shared.data import logic_gate
    from shared.testing import run_beside
    from shared.testing.perceptron_xor import MLP_HINT, call, check_forward, linear_layers, mlp_hint, reset_linears, train_full_batch

    torch.manual_seed(123)
    run_beside(make_xor_mlp, torch.manual_seed, 123)  # the torch that builds them: the kernel's, under the referee
    acts = {"tanh": torch.tanh, "relu": torch.relu}
    for kwargs, hidden, activation in [({"hidden": 7, "activation": "relu"}, 7, "relu"), ({}, 8, "tanh"), ({"hidden": 1, "activation": "tanh"}, 1, "tanh")]:
        label = f"make_xor_mlp({', '.join(f'{k}={v!r}' for k, v in kwargs.items())})"
        model = call(make_xor_mlp, label=label, **kwargs)
        first, second = linear_layers(model, [(2, hidden), (hidden, 1)], label=label)
        n_params = sum(p.numel() for p in model.parameters())
        assert n_params == 4 * hidden + 1, f"{label} should have 4*{hidden} + 1 = {4 * hidden + 1} parameters, got {n_params}"
        x = torch.randn(9, 2) * 2
        act = acts[activation]
        check_forward(model, lambda x, act=act, first=first, second=second: torch.sigmoid(second(act(first(x)))), x,
                      label=label, hint=mlp_hint(first, second, x, activation))
    X, y = logic_gate("xor")
    for seed in (11, 12):
        label = "make_xor_mlp(hidden=6, activation='tanh')"
        model = call(make_xor_mlp, hidden=6, activation="tanh", label=label)
        first, second = linear_layers(model, [(2, 6), (6, 1)], label=label)
        reset_linears([first, second], seed=seed)
        pred = train_full_batch(model, X, y, steps=500, lr=1.0)
        assert torch.equal(pred, torch.tensor(y, dtype=torch.float32)), (
            f"{label} trained for 500 SGD steps from the test's initial values (seed {seed}) predicts {pred.tolist()} on XOR. "
            f"{MLP_HINT}"
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
# * `X` (shape `(N, 2)`) and `y` (shape `(N,)`) are NumPy arrays, as `logic_gate` returns them;
#   convert them to `float32` tensors on `device`, with `y` reshaped to `(N, 1)` to match the
#   model's output (or squeeze the output to `(N,)`: the loss is the same); if `device` is `None`,
#   use the device the model's parameters are on (`next(model.parameters()).device`); move the
#   model to `device`;
# * make `nn.BCELoss()` and `torch.optim.SGD(model.parameters(), lr=lr)`;
# * run `epochs` steps of the four-line loop above, appending each step's `loss.item()` (the loss
#   computed in that step's forward pass, before the update) to a list;
# * return the list of `epochs` floats.
#
# The tests compare the losses you report and the parameters after 1, 3 and 4 steps with the
# update $\theta \leftarrow \theta - \eta\,\partial L / \partial \theta$ applied step by step
# (at float32 precision, relative tolerance 1e-4), with `device` left out or given as `"cpu"`,
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
def test_train_xor_steps_public(train_xor):
    import copy

    import torch
    from torch import nn

    from shared.data import logic_gate
    from shared.testing import beside
    from shared.testing.perceptron_xor import TRAIN_HINT, call, check_training, one_sgd_step, snapshot, training_hint, unpack_losses

    torch.manual_seed(5)
    model = nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 1), nn.Sigmoid())
    X, y = logic_gate("xor")
    lr = 0.5
    # The expected run: the update p <- p - lr * dL/dp, applied step after step to copies.
    runs = [(None, None, model)]
    for _ in range(3):
        runs.append(one_sgd_step(runs[-1][2], X, y, lr))  # (loss before the step, MSE before it, stepped copy)
    expected, first_mse = [loss for loss, _, _ in runs[1:]], runs[1][1]
    for epochs in (1, 3):
        label = f"train_xor(model, X_xor, y_xor, epochs={epochs}, lr={lr})"
        trained = beside(train_xor, copy.deepcopy(model))  # trained in place where train_xor runs
        losses = unpack_losses(call(train_xor, trained, X, y, epochs=epochs, lr=lr, label=label, hint=TRAIN_HINT), epochs, label=label)
        hint = training_hint(losses, expected[:epochs], first_mse=first_mse, after_first_step=expected[1])
        check_training(losses, snapshot(trained), expected[:epochs], snapshot(runs[epochs][2]), label=label, hint=hint)

# %%
def test_train_xor_solves_xor_public(train_xor):
    import torch
    from torch import nn

    from shared.data import logic_gate
    from shared.testing import beside
    from shared.testing.perceptron_xor import TRAIN_HINT, call, unpack_losses

    torch.manual_seed(0)
    model = beside(train_xor, nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 1), nn.Sigmoid()))
    X, y = logic_gate("xor")
    label = "train_xor(model, X_xor, y_xor, epochs=500, lr=1.0)"
    losses = unpack_losses(call(train_xor, model, X, y, epochs=500, lr=1.0, label=label, hint=TRAIN_HINT), 500, label=label)
    assert losses[-1] < 0.1 and losses[-1] < losses[0], (
        f"After {label} (seed 0) the loss should fall below 0.1; it went from {losses[0]:.4f} to {losses[-1]:.4f}. {TRAIN_HINT}"
    )
    with torch.no_grad():
        pred = (model(torch.tensor(X, dtype=torch.float32)) > 0.5).float().cpu().ravel()
    assert torch.equal(pred, torch.tensor(y, dtype=torch.float32)), f"After {label} the model predicts {pred.tolist()} on XOR instead of {y.tolist()}."

# %%
""" # BEGIN TEST CONFIG
hidden: true
""" # END TEST CONFIG
def test_train_xor_hidden(train_xor):
    import copy

    import torch
    from torch import nn

    from grader_only.oracles import sgd_run
    from shared.data import logic_gate
    from shared.testing import beside
    from shared.testing.perceptron_xor import TRAIN_HINT, call, check_training, one_sgd_step, snapshot, training_hint, unpack_losses

    X, y = logic_gate("or")
    lr = 0.3
    torch.manual_seed(31)
    model = nn.Sequential(nn.Linear(2, 5), nn.ReLU(), nn.Linear(5, 1), nn.Sigmoid())
    expected, want = sgd_run(model, X, y, lr=lr, epochs=4)
    _, first_mse, _ = one_sgd_step(model, X, y, lr)
    for device in (None, "cpu", torch.device("cpu")):
        label = f"train_xor(model, X_or, y_or, epochs=4, lr={lr}, device={device!r})"
        trained = beside(train_xor, copy.deepcopy(model))  # trained in place where train_xor runs
        kwargs = {} if device is None else {"device": device}
        losses = unpack_losses(call(train_xor, trained, X, y, epochs=4, lr=lr, label=label, hint=TRAIN_HINT, **kwargs), 4, label=label)
        hint = training_hint(losses, expected, first_mse=first_mse, after_first_step=expected[1])
        check_training(losses, snapshot(trained), expected, want, label=label, hint=hint)
    if torch.cuda.is_available():  # graded on a GPU: the model and the data must move there
        label = f"train_xor(model, X_or, y_or, epochs=4, lr={lr}, device='cuda') for a model on the CPU"
        trained = beside(train_xor, copy.deepcopy(model))
        losses = unpack_losses(call(train_xor, trained, X, y, epochs=4, lr=lr, device="cuda", label=label, hint=TRAIN_HINT), 4, label=label)
        assert all(p.device.type == "cuda" for p in trained.parameters()), f"After {label} the model should be on cuda. Hint: model.to(device)."
        check_training(losses, snapshot(trained), expected, want, label=label, hint=TRAIN_HINT)
    Xx, yx = logic_gate("xor")
    for seed in (7, 8):
        torch.manual_seed(seed)
        model = nn.Sequential(nn.Linear(2, 6), nn.Tanh(), nn.Linear(6, 1), nn.Sigmoid())
        label = f"train_xor(model, X_xor, y_xor, epochs=400, lr=1.0) (seed {seed})"
        losses = unpack_losses(call(train_xor, model, Xx, yx, epochs=400, lr=1.0, label=label, hint=TRAIN_HINT), 400, label=label)
        assert losses[-1] < 0.15, f"{label} should bring the XOR loss below 0.15, got {losses[-1]:.4f}. {TRAIN_HINT}"

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
#   nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 1))` (or your own `nn.Module` computing the same
#   with these three `nn.Linear` layers); check that it has 2,817 parameters.

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

    from shared.testing.perceptron_xor import check_count

    check_count(count_parameters, nn.Linear(3, 5), label="count_parameters(nn.Linear(3, 5)) (3*5 weights + 5 biases)")
    net = nn.Sequential(nn.Linear(4, 6), nn.ReLU(), nn.Linear(6, 2))
    check_count(count_parameters, net, label="count_parameters(nn.Sequential(nn.Linear(4, 6), nn.ReLU(), nn.Linear(6, 2)))")
    net[0].weight.requires_grad_(False)
    check_count(count_parameters, net, label="count_parameters(net) with the first layer's weight frozen (requires_grad=False)")

# %%
def test_make_2817_net_public(make_2817_net):
    import torch

    from shared.testing import tagged
    from shared.testing.perceptron_xor import call, check_forward, linear_layers

    torch.manual_seed(0)
    net = call(make_2817_net, label="make_2817_net()")
    l1, l2, l3 = linear_layers(net, [(10, 64), (64, 32), (32, 1)], label="make_2817_net()")
    total = sum(p.numel() for p in net.parameters())
    assert total == 2817, f"make_2817_net() has {total} parameters instead of 704 + 2,080 + 33 = 2,817. Hint: keep the biases, and add no other layers with parameters."
    check_forward(net, lambda x: l3(torch.relu(l2(torch.relu(l1(x))))), torch.randn(3, 10), label="make_2817_net()",
                  hint=tagged("xor.net_2817_layers", "Hint: Linear(10, 64) -> ReLU -> Linear(64, 32) -> ReLU -> Linear(32, 1): a ReLU after each of the first two Linear layers, nothing after the last."))

# %%
""" # BEGIN TEST CONFIG
hidden: true
""" # END TEST CONFIG
def test_count_parameters_hidden(count_parameters):
    import torch
    from torch import nn

    from shared.testing.perceptron_xor import check_count

    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(3, 8, kernel_size=3), nn.ReLU(), nn.Flatten(), nn.Linear(8, 7, bias=False), nn.LayerNorm(7))
    name = "nn.Sequential(nn.Conv2d(3, 8, 3), nn.ReLU(), nn.Flatten(), nn.Linear(8, 7, bias=False), nn.LayerNorm(7))"
    check_count(count_parameters, net, label=f"count_parameters({name})")
    net[0].bias.requires_grad_(False)
    net[4].weight.requires_grad_(False)
    check_count(count_parameters, net, label=f"count_parameters({name}) with the conv bias and the norm's weight frozen")
    check_count(count_parameters, nn.Linear(100, 100).requires_grad_(False), label="count_parameters(nn.Linear(100, 100)) fully frozen")
    nested = nn.Sequential(nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 4)), nn.Linear(4, 1))
    check_count(count_parameters, nested, label="count_parameters of a Sequential nested in a Sequential")

# %%
""" # BEGIN TEST CONFIG
hidden: true
""" # END TEST CONFIG
def test_make_2817_net_hidden(make_2817_net):
    import torch

    from shared.testing import tagged
    from shared.testing.perceptron_xor import call, check_forward, linear_layers

    torch.manual_seed(1)
    net = call(make_2817_net, label="make_2817_net()")
    l1, l2, l3 = linear_layers(net, [(10, 64), (64, 32), (32, 1)], label="make_2817_net()")
    per_layer = [sum(p.numel() for p in m.parameters()) for m in (l1, l2, l3)]
    assert per_layer == [704, 2080, 33], f"The three Linear layers should have 704, 2,080 and 33 parameters, got {per_layer}. Hint: keep the biases."
    check_forward(net, lambda x: l3(torch.relu(l2(torch.relu(l1(x))))), torch.randn(6, 10) * 3, label="make_2817_net()",
                  hint=tagged("xor.net_2817_layers", "Hint: Linear(10, 64) -> ReLU -> Linear(64, 32) -> ReLU -> Linear(32, 1): a ReLU after each of the first two Linear layers, nothing after the last."))

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
