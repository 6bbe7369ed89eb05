# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [raw]
# # ASSIGNMENT CONFIG
# name: 02_backprop_by_hand
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
# # Assignment 02: backpropagation by hand
#
# In assignment 01, `loss.backward()` computed every gradient for you. This time you compute
# them yourself. Backpropagation is nothing more than the chain rule of calculus, applied layer
# by layer from the loss back to the inputs, reusing what the forward pass already computed. You
# will do it three ways and make each one check the others:
#
# 1. **by hand**, with pencil and paper, on a network of five neurons;
# 2. **in NumPy**, as layers with a `forward` and a `backward`, checked against
#    `torch.autograd` and against **finite differences** that you write yourself;
# 3. **for real**, training a two-layer network on handwritten digits with nothing but your own
#    backward pass and plain SGD.
#
# **What you will do**
#
# | Part | You implement | Points |
# |---|---|---|
# | q1 | the forward and backward pass of a 2-2-1 network, by hand (`hand`) | 6 |
# | q2 | the layers `Linear`, `Sigmoid`, `Tanh`, `ReLU`: `forward` and `backward` | 6 |
# | q3 | `mse_loss` and a stable `softmax_cross_entropy`, each with its gradient | 4 |
# | q4 | `numerical_gradient`, `relative_error` and `gradient_check` | 4 |
# | q5 | Trask's toy network: `sigmoid_prime_from_output`, `trask_step`, `trask_train` | 4 |
# | q6 | a two-layer MLP on digits: `TwoLayerMLP`, `sgd_step`, `train_mlp` | 5 |
#
# **How to work.** Replace every `...` with your code. After each question, run the
# `grader.check("qN")` cell below it: it runs the public tests and tells you what it called,
# what it expected and what came back. The autograder also runs hidden tests with other inputs
# (shapes, values, seeds), so make your code general rather than tuned to the public examples.
#
# **The rule of this assignment:** no autograd. Everything you write is NumPy; PyTorch appears
# only as the referee, in the tests and in one comparison cell. The tests run your code with
# `torch.autograd` switched off.
#
# Everything here runs in a few seconds on a laptop CPU.

# %%
import time

import matplotlib.pyplot as plt
import numpy as np

from shared.plotting import plot_curves

rng_seed = 0


def sigmoid(z):
    """Logistic sigmoid 1 / (1 + exp(-z)), elementwise (given: you wrote it in assignment 01).

    Written as exp(-log(1 + exp(-z))) so that it never overflows, even for z = -1000.
    """
    z = np.asarray(z, dtype=float)
    return np.exp(-np.logaddexp(0.0, -z))


# %% [markdown]
# ## 1. Backpropagation by hand
#
# ### The chain rule
# Take one hidden neuron $j$ with inputs $x_i$, weights $w_{ji}$ and bias $b_j$. It computes the
# **pre-activation** $a_j = \sum_i w_{ji} x_i + b_j$ and the **activation** $f_j = f(a_j)$, and
# the loss $L$ depends on $w_{ji}$ only through $f_j$. The chain rule splits the derivative into
# three factors, one per step of that path:
#
# $$\frac{\partial L}{\partial w_{ji}} = \frac{\partial L}{\partial f_j}\,
#   \frac{\partial f_j}{\partial a_j}\,\frac{\partial a_j}{\partial w_{ji}}
#   = \frac{\partial L}{\partial f_j}\; f'(a_j)\; x_i .$$
#
# The product of the first two factors, $\delta_j = \partial L / \partial a_j$, is called the
# **delta** (or *error signal*) of neuron $j$. Once you have a neuron's delta, the gradient of
# each of its weights is just the delta times the input that weight multiplies.
#
# ### The delta rules
# Backpropagation computes all deltas in one sweep from the output back to the input:
#
# 1. **Forward pass**: compute and keep every $a_j$, $f_j$ and the outputs $y_k$.
# 2. **Output layer** (activation $g$):
#    $\displaystyle \delta_k = \frac{\partial L}{\partial y_k} \odot g'(a_k)$.
# 3. **Hidden layers**, from the top down:
#    $\displaystyle \delta_j = f'(a_j) \sum_k w_{kj}\, \delta_k$: neuron $j$ collects the
#    deltas of every neuron $k$ it feeds, weighted by the connection $w_{kj}$ between them, and
#    multiplies by its own slope.
# 4. **Gradients**: $\displaystyle \frac{\partial L}{\partial w_{ji}} = \delta_j\, x_i$ and
#    $\displaystyle \frac{\partial L}{\partial b_j} = \delta_j$ (a bias is a weight whose input
#    is always 1).
# 5. **Update** (gradient descent with learning rate $\eta$):
#    $w \leftarrow w - \eta\, \partial L / \partial w$.
#
# For the sigmoid, $\sigma'(a) = \sigma(a)\,(1 - \sigma(a))$: the slope is a function of the
# neuron's **output** $f = \sigma(a)$ alone, $\sigma'(a) = f\,(1 - f)$. You will use that a lot.
#
# ### The network
# Two inputs, two sigmoid hidden neurons, one sigmoid output, the squared-error loss (the mean
# squared error of a single output is just its square):
#
# $$a_1 = w_{11} x_1 + w_{12} x_2 + b_1, \quad a_2 = w_{21} x_1 + w_{22} x_2 + b_2, \quad
#   f_1 = \sigma(a_1), \quad f_2 = \sigma(a_2),$$
#
# $$a_\text{out} = v_1 f_1 + v_2 f_2 + c, \qquad y = \sigma(a_\text{out}), \qquad
#   L = (y - t)^2 .$$
#
# | input $x_1, x_2$ | target $t$ | hidden 1: $w_{11}, w_{12}, b_1$ | hidden 2: $w_{21}, w_{22}, b_2$ | output: $v_1, v_2, c$ | learning rate $\eta$ |
# |---|---|---|---|---|---|
# | $0.5,\ -1.0$ | $1.0$ | $0.4,\ 0.3,\ 0.2$ | $-0.6,\ 0.2,\ -0.1$ | $0.7,\ -0.5,\ 0.2$ | $0.5$ |
#
# The same numbers as Python variables, if you would rather compute with them:

# %%
x1, x2 = 0.5, -1.0  # the input
t = 1.0  # the target
w11, w12, b1 = 0.4, 0.3, 0.2  # hidden neuron 1
w21, w22, b2 = -0.6, 0.2, -0.1  # hidden neuron 2
v1, v2, c = 0.7, -0.5, 0.2  # output neuron
eta = 0.5  # learning rate

# %% [raw]
# # BEGIN QUESTION
# name: q1
# points: 6

# %% [markdown]
# **Question 1 (6 points).** Work through one forward and one backward pass of this network and
# enter every number in the dictionary `hand` (as plain floats). Do it on paper first; then, if
# you like, check yourself with Python in the cell.
#
# * forward: `a1`, `a2`, `f1`, `f2`, `a_out`, `y`, and the loss `loss` $= (y - t)^2$;
# * output delta: `dL_dy` $= \partial L/\partial y$ and `delta_out` $= \partial L/\partial y \cdot \sigma'(a_\text{out})$;
# * hidden deltas: `delta1`, `delta2` (the rule for $\delta_j$ above, with $w_{kj} = v_j$);
# * gradients: `dL_dv1`, `dL_dv2`, `dL_dc` (output layer) and `dL_dw11`, `dL_dw12`, `dL_dw21`,
#   `dL_dw22`, `dL_db1`, `dL_db2` (hidden layer);
# * one step of gradient descent: the new weights `v1_new` and `w11_new`.
#
# **How it is graded.** Each number must lie within $2\cdot 10^{-4} + 0.1\,\%$ of the value the
# rule gives **from your own earlier numbers**: `f1` is checked against $\sigma$ of *your*
# `a1`, `delta1` against *your* `f1` and `delta_out`, and so on. One slip early on therefore
# costs only the entry where it happens. Keep at least four decimals (or full precision). The
# public check tests the forward pass; the backward pass is graded by hidden tests in five parts
# (loss and output delta, hidden deltas, output-layer gradients, hidden-layer gradients, update).

# %% [raw]
# # BEGIN SOLUTION

# %%
hand = {}
# forward pass
hand["a1"] = w11 * x1 + w12 * x2 + b1  # SOLUTION
hand["a2"] = w21 * x1 + w22 * x2 + b2  # SOLUTION
hand["f1"] = float(sigmoid(hand["a1"]))  # SOLUTION
hand["f2"] = float(sigmoid(hand["a2"]))  # SOLUTION
hand["a_out"] = v1 * hand["f1"] + v2 * hand["f2"] + c  # SOLUTION
hand["y"] = float(sigmoid(hand["a_out"]))  # SOLUTION
hand["loss"] = (hand["y"] - t) ** 2  # SOLUTION
# output delta
hand["dL_dy"] = 2 * (hand["y"] - t)  # SOLUTION
hand["delta_out"] = hand["dL_dy"] * hand["y"] * (1 - hand["y"])  # SOLUTION
# hidden deltas
hand["delta1"] = hand["f1"] * (1 - hand["f1"]) * v1 * hand["delta_out"]  # SOLUTION
hand["delta2"] = hand["f2"] * (1 - hand["f2"]) * v2 * hand["delta_out"]  # SOLUTION
# output-layer gradients
hand["dL_dv1"] = hand["delta_out"] * hand["f1"]  # SOLUTION
hand["dL_dv2"] = hand["delta_out"] * hand["f2"]  # SOLUTION
hand["dL_dc"] = hand["delta_out"]  # SOLUTION
# hidden-layer gradients
hand["dL_dw11"] = hand["delta1"] * x1  # SOLUTION
hand["dL_dw12"] = hand["delta1"] * x2  # SOLUTION
hand["dL_dw21"] = hand["delta2"] * x1  # SOLUTION
hand["dL_dw22"] = hand["delta2"] * x2  # SOLUTION
hand["dL_db1"] = hand["delta1"]  # SOLUTION
hand["dL_db2"] = hand["delta2"]  # SOLUTION
# one step of gradient descent
hand["v1_new"] = v1 - eta * hand["dL_dv1"]  # SOLUTION
hand["w11_new"] = w11 - eta * hand["dL_dw11"]  # SOLUTION

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS


# %%
def test_hand_forward_public(hand):
    import math

    from shared.checks import check_implemented

    check_implemented(hand, "hand")
    keys = [
        "a1",
        "a2",
        "f1",
        "f2",
        "a_out",
        "y",
        "loss",
        "dL_dy",
        "delta_out",
        "delta1",
        "delta2",
        "dL_dv1",
        "dL_dv2",
        "dL_dc",
        "dL_dw11",
        "dL_dw12",
        "dL_dw21",
        "dL_dw22",
        "dL_db1",
        "dL_db2",
        "v1_new",
        "w11_new",
    ]
    assert isinstance(hand, dict), f"`hand` should be a dict of numbers, got {type(hand).__name__}"
    missing = [k for k in keys if k not in hand]
    assert not missing, (
        f"`hand` lacks the entries {missing}; fill in every hand[...] line of the question cell."
    )
    v = {}
    for k in keys:
        check_implemented(hand[k], f'hand["{k}"]')
        try:
            v[k] = float(hand[k])
        except (TypeError, ValueError):
            raise AssertionError(f'hand["{k}"] should be a number, got {hand[k]!r}') from None
        assert math.isfinite(v[k]), f'hand["{k}"] should be a finite number, got {v[k]}'

    def sig(z):
        return 1.0 / (1.0 + math.exp(-z))

    x1, x2, w11, w12, b1, w21, w22, b2, v1, v2, c = (
        0.5,
        -1.0,
        0.4,
        0.3,
        0.2,
        -0.6,
        0.2,
        -0.1,
        0.7,
        -0.5,
        0.2,
    )
    checks = [
        (
            "a1",
            w11 * x1 + w12 * x2 + b1,
            "a1 = w11 x1 + w12 x2 + b1",
            "Hint: the pre-activation is the weighted sum of the inputs plus the bias.",
        ),
        (
            "a2",
            w21 * x1 + w22 * x2 + b2,
            "a2 = w21 x1 + w22 x2 + b2",
            "Hint: the pre-activation is the weighted sum of the inputs plus the bias.",
        ),
        (
            "f1",
            sig(v["a1"]),
            f"f1 = sigma(a1) with your a1 = {v['a1']:.6g}",
            "Hint: sigma(a) = 1 / (1 + exp(-a)).",
        ),
        (
            "f2",
            sig(v["a2"]),
            f"f2 = sigma(a2) with your a2 = {v['a2']:.6g}",
            "Hint: sigma(a) = 1 / (1 + exp(-a)).",
        ),
        (
            "a_out",
            v1 * v["f1"] + v2 * v["f2"] + c,
            f"a_out = v1 f1 + v2 f2 + c with your f1 = {v['f1']:.6g}, f2 = {v['f2']:.6g}",
            "Hint: the output neuron sees the hidden activations f1, f2, not the pre-activations.",
        ),
        (
            "y",
            sig(v["a_out"]),
            f"y = sigma(a_out) with your a_out = {v['a_out']:.6g}",
            "Hint: the output neuron is a sigmoid too.",
        ),
    ]
    problems = []
    for key, expected, rule, hint in checks:
        if abs(v[key] - expected) > 2e-4 + 1e-3 * abs(expected):
            problems.append(
                f'hand["{key}"] = {v[key]:.6g}, but {rule} gives {expected:.6g}. {hint}'
            )
    assert not problems, (
        f"{len(problems)} forward-pass value(s) are off by more than the tolerance 2e-4 + 0.1% of the value:\n"
        + "\n".join(problems)
    )


# %%
""" # BEGIN TEST CONFIG
hidden: true
"""  # END TEST CONFIG


def test_hand_loss_and_output_delta_hidden(hand):
    from shared.checks import check_implemented

    keys = ["y", "loss", "dL_dy", "delta_out"]
    check_implemented(hand, "hand")
    for k in keys:
        check_implemented(hand.get(k), f'hand["{k}"]')
    v = {k: float(hand[k]) for k in keys}
    t = 1.0
    checks = [
        (
            "loss",
            (v["y"] - t) ** 2,
            f"loss = (y - t)^2 with your y = {v['y']:.6g} and t = 1",
            "Hint: the loss is the square of the error, (y - t)**2 (no factor 1/2 here).",
        ),
        (
            "dL_dy",
            2 * (v["y"] - t),
            f"dL/dy = 2 (y - t) with your y = {v['y']:.6g}",
            "Hint: the derivative of (y - t)**2 with respect to y is 2 (y - t); mind the sign.",
        ),
        (
            "delta_out",
            v["dL_dy"] * v["y"] * (1 - v["y"]),
            f"delta_out = dL_dy * y (1 - y) with your dL_dy = {v['dL_dy']:.6g}, y = {v['y']:.6g}",
            "Hint: delta_out = dL/dy * g'(a_out), and the sigmoid's slope is y (1 - y): the output activation's derivative belongs in the delta.",
        ),
    ]
    problems = []
    for key, expected, rule, hint in checks:
        if abs(v[key] - expected) > 2e-4 + 1e-3 * abs(expected):
            problems.append(
                f'hand["{key}"] = {v[key]:.6g}, but {rule} gives {expected:.6g}. {hint}'
            )
    assert not problems, "Tolerance 2e-4 + 0.1% of the value.\n" + "\n".join(problems)


# %%
""" # BEGIN TEST CONFIG
hidden: true
"""  # END TEST CONFIG


def test_hand_hidden_deltas_hidden(hand):
    from shared.checks import check_implemented

    keys = ["f1", "f2", "delta_out", "delta1", "delta2"]
    check_implemented(hand, "hand")
    for k in keys:
        check_implemented(hand.get(k), f'hand["{k}"]')
    v = {k: float(hand[k]) for k in keys}
    weights = {"1": 0.7, "2": -0.5}
    problems = []
    for j, vj in weights.items():
        f = v["f" + j]
        expected = f * (1 - f) * vj * v["delta_out"]
        got = v["delta" + j]
        if abs(got - expected) > 2e-4 + 1e-3 * abs(expected):
            problems.append(
                f'hand["delta{j}"] = {got:.6g}, but delta{j} = f{j} (1 - f{j}) v{j} delta_out with your f{j} = {f:.6g}, '
                f"v{j} = {vj} and your delta_out = {v['delta_out']:.6g} gives {expected:.6g}. "
                f"Hint: delta_j = f'(a_j) * sum_k w_kj delta_k; here the only k is the output, w_kj = v{j}, and f'(a_j) = f{j} (1 - f{j})."
            )
    assert not problems, "Tolerance 2e-4 + 0.1% of the value.\n" + "\n".join(problems)


# %%
""" # BEGIN TEST CONFIG
hidden: true
"""  # END TEST CONFIG


def test_hand_output_gradients_hidden(hand):
    from shared.checks import check_implemented

    keys = ["f1", "f2", "delta_out", "dL_dv1", "dL_dv2", "dL_dc"]
    check_implemented(hand, "hand")
    for k in keys:
        check_implemented(hand.get(k), f'hand["{k}"]')
    v = {k: float(hand[k]) for k in keys}
    d = v["delta_out"]
    checks = [
        (
            "dL_dv1",
            d * v["f1"],
            f"dL/dv1 = delta_out * f1 with your delta_out = {d:.6g}, f1 = {v['f1']:.6g}",
        ),
        (
            "dL_dv2",
            d * v["f2"],
            f"dL/dv2 = delta_out * f2 with your delta_out = {d:.6g}, f2 = {v['f2']:.6g}",
        ),
        ("dL_dc", d, f"dL/dc = delta_out = {d:.6g}"),
    ]
    problems = [
        f'hand["{key}"] = {v[key]:.6g}, but {rule} gives {expected:.6g}.'
        for key, expected, rule in checks
        if abs(v[key] - expected) > 2e-4 + 1e-3 * abs(expected)
    ]
    assert not problems, (
        "Tolerance 2e-4 + 0.1% of the value.\n"
        + "\n".join(problems)
        + "\nHint: dL/dw = delta of the neuron the weight feeds into * the input the weight multiplies; a bias's input is 1."
    )


# %%
""" # BEGIN TEST CONFIG
hidden: true
"""  # END TEST CONFIG


def test_hand_hidden_gradients_hidden(hand):
    from shared.checks import check_implemented

    keys = ["delta1", "delta2", "dL_dw11", "dL_dw12", "dL_dw21", "dL_dw22", "dL_db1", "dL_db2"]
    check_implemented(hand, "hand")
    for k in keys:
        check_implemented(hand.get(k), f'hand["{k}"]')
    v = {k: float(hand[k]) for k in keys}
    x = {"1": 0.5, "2": -1.0}
    checks = []
    for j in "12":
        for i in "12":
            checks.append(
                (
                    f"dL_dw{j}{i}",
                    v["delta" + j] * x[i],
                    f"dL/dw{j}{i} = delta{j} * x{i} with your delta{j} = {v['delta' + j]:.6g}, x{i} = {x[i]}",
                )
            )
        checks.append((f"dL_db{j}", v["delta" + j], f"dL/db{j} = delta{j} = {v['delta' + j]:.6g}"))
    problems = [
        f'hand["{key}"] = {v[key]:.6g}, but {rule} gives {expected:.6g}.'
        for key, expected, rule in checks
        if abs(v[key] - expected) > 2e-4 + 1e-3 * abs(expected)
    ]
    assert not problems, (
        "Tolerance 2e-4 + 0.1% of the value.\n"
        + "\n".join(problems)
        + "\nHint: dL/dw_ji = delta_j x_i (w_ji connects input i to hidden neuron j) and dL/db_j = delta_j."
    )


# %%
""" # BEGIN TEST CONFIG
hidden: true
"""  # END TEST CONFIG


def test_hand_update_hidden(hand):
    from shared.checks import check_implemented

    keys = ["dL_dv1", "dL_dw11", "v1_new", "w11_new"]
    check_implemented(hand, "hand")
    for k in keys:
        check_implemented(hand.get(k), f'hand["{k}"]')
    v = {k: float(hand[k]) for k in keys}
    eta = 0.5
    checks = [
        ("v1_new", 0.7 - eta * v["dL_dv1"], f"v1 - eta dL/dv1 = 0.7 - 0.5 * {v['dL_dv1']:.6g}"),
        (
            "w11_new",
            0.4 - eta * v["dL_dw11"],
            f"w11 - eta dL/dw11 = 0.4 - 0.5 * {v['dL_dw11']:.6g}",
        ),
    ]
    problems = [
        f'hand["{key}"] = {v[key]:.6g}, but {rule} gives {expected:.6g}.'
        for key, expected, rule in checks
        if abs(v[key] - expected) > 2e-4 + 1e-3 * abs(expected)
    ]
    assert not problems, (
        "Tolerance 2e-4 + 0.1% of the value.\n"
        + "\n".join(problems)
        + "\nHint: gradient descent moves against the gradient: w <- w - eta * dL/dw, with eta = 0.5."
    )


# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [markdown]
# Compare your numbers with what `torch.autograd` finds for the same network (it is a good
# habit: the rest of this assignment is built on it).

# %% tags=["otter_ignore"]
import torch

params = torch.tensor(
    [w11, w12, w21, w22, b1, b2, v1, v2, c], dtype=torch.float64, requires_grad=True
)
W_hidden, b_hidden, v_out = params[:4].reshape(2, 2), params[4:6], params[6:8]
f_hidden = torch.sigmoid(W_hidden @ torch.tensor([x1, x2], dtype=torch.float64) + b_hidden)
loss_t = (torch.sigmoid(v_out @ f_hidden + params[8]) - t) ** 2
loss_t.backward()
names = [
    "dL_dw11",
    "dL_dw12",
    "dL_dw21",
    "dL_dw22",
    "dL_db1",
    "dL_db2",
    "dL_dv1",
    "dL_dv2",
    "dL_dc",
]
for name, g in zip(names, params.grad.tolist(), strict=True):
    print(f"{name:8s} by hand {float(hand[name]):+.6f}   torch.autograd {g:+.6f}")

# %% [markdown]
# ## 2. Layers with a forward and a backward pass
#
# Doing this by hand for every weight of a real network would take forever, but the work has a
# pattern. Process a whole **batch** of $N$ examples at once, stacked as the rows of a matrix,
# and organise the network as a chain of **layers**, each with two methods:
#
# * `forward(x)` computes the output and **caches** whatever the backward pass will need;
# * `backward(dout)` receives $\partial L/\partial \text{out}$, the gradient of the loss with
#   respect to the layer's output (same shape as the output), **stores** the gradients of the
#   layer's parameters, and **returns** $\partial L/\partial x$ for the layer below.
#
# A layer never needs to know what comes after it: the upstream gradient `dout` tells it
# everything. That is the whole trick of backpropagation (and of `torch.autograd`).
#
# **Linear.** With `x (N, D_in)`, `W (D_in, D_out)`, `b (D_out,)`: `out = x @ W + b`,
# shape `(N, D_out)`. Then, for `dout` of shape `(N, D_out)`,
#
# $$\frac{\partial L}{\partial W} = x^\top \,\text{dout} \quad (D_\text{in}, D_\text{out}),
#   \qquad \frac{\partial L}{\partial b} = \sum_{n=1}^{N} \text{dout}_{n,:} \quad (D_\text{out},),
#   \qquad \frac{\partial L}{\partial x} = \text{dout}\; W^\top \quad (N, D_\text{in}).$$
#
# These are the delta rules in matrix form: row $n$ of `dout` holds the deltas of example $n$,
# $x^\top \text{dout}$ adds up $\delta_j x_i$ over the batch, and $\text{dout}\,W^\top$ is the
# sum $\sum_k w_{kj}\delta_k$. The bias is shared by all $N$ examples, so its gradient **sums**
# over the batch. A quick sanity check that catches most mistakes: every gradient has the shape
# of the thing it is the gradient of.
#
# **Activations** act elementwise, so their backward pass is an elementwise product,
# `dx = dout * f'(x)`:
#
# | layer | forward | backward: `dx =` | cache |
# |---|---|---|---|
# | `Sigmoid` | $s = \sigma(x)$ | `dout * s * (1 - s)` | the output `s` |
# | `Tanh` | $u = \tanh(x)$ | `dout * (1 - u**2)` | the output `u` |
# | `ReLU` | $\max(0, x)$ | `dout * (x > 0)` | the mask `x > 0` |
#
# (At exactly $x = 0$ ReLU has no derivative; like PyTorch, use 0 there.)

# %% [raw]
# # BEGIN QUESTION
# name: q2
# points: 6

# %% [markdown]
# **Question 2 (6 points).** Implement `forward` and `backward` of the four layers below
# (`__init__` is given). `backward` must return `dx` and, for `Linear`, store `self.dW` and
# `self.db` (same shapes as `self.W` and `self.b`). Use NumPy only.
#
# The tests copy random weights into your layer and into PyTorch, run both forward and backward
# in float64 on random batches, and compare your output, `dx`, `dW` and `db` with
# `torch.autograd` (maximum relative error $10^{-8}$). A failure names the gradient and the
# layer, the largest relative error and where it occurs. Hidden tests use other shapes, a batch
# of one and square weight matrices.

# %% [raw]
# # BEGIN SOLUTION


# %%
class Linear:
    """Fully connected layer: out = x @ W + b.

    x: (N, D_in), W: (D_in, D_out), b: (D_out,), out: (N, D_out).
    backward(dout) with dout (N, D_out) stores dW (D_in, D_out) and db (D_out,), returns dx (N, D_in).
    """

    def __init__(self, d_in, d_out, rng=None):
        rng = np.random.default_rng(rng)
        self.W = rng.normal(0.0, np.sqrt(2.0 / d_in), size=(d_in, d_out))  # He initialisation
        self.b = np.zeros(d_out)
        self.dW = None
        self.db = None

    def forward(self, x):
        # BEGIN SOLUTION
        self.x = x
        return x @ self.W + self.b
        # END SOLUTION

    def backward(self, dout):
        # BEGIN SOLUTION
        self.dW = self.x.T @ dout
        self.db = dout.sum(axis=0)
        return dout @ self.W.T
        # END SOLUTION


class Sigmoid:
    """Elementwise sigmoid. forward: x (any shape) -> sigma(x); backward: dout -> dx, same shape."""

    def forward(self, x):
        # BEGIN SOLUTION
        self.out = sigmoid(x)
        return self.out
        # END SOLUTION

    def backward(self, dout):
        # BEGIN SOLUTION
        return dout * self.out * (1.0 - self.out)
        # END SOLUTION


class Tanh:
    """Elementwise tanh. forward: x (any shape) -> tanh(x); backward: dout -> dx, same shape."""

    def forward(self, x):
        # BEGIN SOLUTION
        self.out = np.tanh(x)
        return self.out
        # END SOLUTION

    def backward(self, dout):
        # BEGIN SOLUTION
        return dout * (1.0 - self.out**2)
        # END SOLUTION


class ReLU:
    """Elementwise max(0, x). forward: x (any shape) -> relu(x); backward: dout -> dx, same shape."""

    def forward(self, x):
        # BEGIN SOLUTION
        self.mask = x > 0
        return x * self.mask
        # END SOLUTION

    def backward(self, dout):
        # BEGIN SOLUTION
        return dout * self.mask
        # END SOLUTION


# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS


# %%
def test_layers_public(Linear, Sigmoid, Tanh, ReLU):
    import numpy as np
    import torch

    from shared.checks import assert_shape, check_implemented
    from shared.forbid import forbid

    def compare(name, yours, expected, hint, threshold=1e-8):
        check_implemented(yours, name)
        yours = np.asarray(yours, dtype=np.float64)
        assert_shape(yours, expected.shape, name, hint=hint)
        assert np.isfinite(yours).all(), f"`{name}` contains NaN or inf.\n{hint}"
        diff = np.abs(yours - expected)
        rel = np.where(
            diff <= 1e-12, 0.0, diff / np.maximum(1e-12, np.abs(yours) + np.abs(expected))
        )
        idx = np.unravel_index(int(np.argmax(rel)), rel.shape)
        assert rel[idx] <= threshold, (
            f"`{name}` does not match torch.autograd: max relative error {rel[idx]:.3g} at index "
            f"{tuple(int(i) for i in idx)} (threshold {threshold:g}): yours {yours[idx]:.8g}, torch {expected[idx]:.8g}.\n{hint}"
        )

    no_autograd = ("torch.autograd.grad", "torch.autograd.backward")
    reason = "Compute the gradients yourself with NumPy; autograd is the referee here."
    rng = np.random.default_rng(0)
    n, d_in, d_out = 4, 3, 5
    x = rng.normal(size=(n, d_in))
    W = rng.normal(size=(d_in, d_out))
    b = rng.normal(size=d_out)
    dout = rng.normal(size=(n, d_out))
    layer = Linear(d_in, d_out, rng=0)
    layer.W, layer.b = W.copy(), b.copy()
    with forbid(*no_autograd, reason=reason):
        out = layer.forward(x.copy())
        check_implemented(out, f"Linear({d_in}, {d_out}).forward(x)")
        dx = layer.backward(dout.copy())
    xt, Wt, bt = (torch.tensor(a, requires_grad=True) for a in (x, W, b))
    out_t = xt @ Wt + bt
    out_t.backward(torch.tensor(dout))
    where = f"Linear({d_in}, {d_out}) with x of shape {(n, d_in)}"
    compare(
        f"{where}: forward(x)",
        out,
        out_t.detach().numpy(),
        "Hint: out = x @ W + b, shape (N, D_out).",
    )
    compare(
        f"{where}: backward(dout) returned dx",
        dx,
        xt.grad.numpy(),
        "Hint: dx = dout @ W.T, shape (N, D_in).",
    )
    compare(
        f"{where}: layer.dW after backward",
        layer.dW,
        Wt.grad.numpy(),
        "Hint: dW = x.T @ dout, shape (D_in, D_out); a result of shape (D_out, D_in) means a missing or misplaced transpose.",
    )
    compare(
        f"{where}: layer.db after backward",
        layer.db,
        bt.grad.numpy(),
        "Hint: the bias is shared by all N examples, so db = dout summed over the batch (axis 0), shape (D_out,).",
    )

    x = rng.normal(size=(3, 4)) * 2.0
    dout = rng.normal(size=(3, 4))
    for cls, fn, hint in [
        (
            Sigmoid,
            torch.sigmoid,
            "Hint: dx = dout * s * (1 - s) with s the cached output: the activation derivative must multiply dout.",
        ),
        (
            Tanh,
            torch.tanh,
            "Hint: dx = dout * (1 - out**2) with out = tanh(x) the cached output: the activation derivative must multiply dout.",
        ),
        (
            ReLU,
            torch.relu,
            "Hint: dx = dout * (x > 0): the gradient passes where the input was positive and is 0 elsewhere.",
        ),
    ]:
        layer = cls()
        with forbid(*no_autograd, reason=reason):
            out = layer.forward(x.copy())
            check_implemented(out, f"{cls.__name__}().forward(x)")
            dx = layer.backward(dout.copy())
        xt = torch.tensor(x, requires_grad=True)
        out_t = fn(xt)
        out_t.backward(torch.tensor(dout))
        compare(
            f"{cls.__name__}: forward(x) for x of shape (3, 4)", out, out_t.detach().numpy(), hint
        )
        compare(
            f"{cls.__name__}: backward(dout) returned dx, for x of shape (3, 4)",
            dx,
            xt.grad.numpy(),
            hint,
        )


# %%
""" # BEGIN TEST CONFIG
hidden: true
"""  # END TEST CONFIG


def test_layers_hidden(Linear, Sigmoid, Tanh, ReLU):
    import numpy as np
    import torch

    from shared.checks import assert_shape, check_implemented
    from shared.forbid import forbid

    def compare(name, yours, expected, hint, threshold=1e-8):
        check_implemented(yours, name)
        yours = np.asarray(yours, dtype=np.float64)
        assert_shape(yours, expected.shape, name, hint=hint)
        assert np.isfinite(yours).all(), f"`{name}` contains NaN or inf.\n{hint}"
        diff = np.abs(yours - expected)
        rel = np.where(
            diff <= 1e-12, 0.0, diff / np.maximum(1e-12, np.abs(yours) + np.abs(expected))
        )
        idx = np.unravel_index(int(np.argmax(rel)), rel.shape)
        assert rel[idx] <= threshold, (
            f"`{name}` does not match torch.autograd: max relative error {rel[idx]:.3g} at index "
            f"{tuple(int(i) for i in idx)} (threshold {threshold:g}): yours {yours[idx]:.8g}, torch {expected[idx]:.8g}.\n{hint}"
        )

    no_autograd = ("torch.autograd.grad", "torch.autograd.backward")
    reason = "Compute the gradients yourself with NumPy; autograd is the referee here."
    hints = {
        "out": "Hint: out = x @ W + b, shape (N, D_out).",
        "dx": "Hint: dx = dout @ W.T, shape (N, D_in).",
        "dW": "Hint: dW = x.T @ dout, shape (D_in, D_out); a result of shape (D_out, D_in) means a missing or misplaced transpose.",
        "db": "Hint: the bias is shared by all N examples, so db = dout summed over the batch (axis 0), shape (D_out,).",
    }
    for seed, (n, d_in, d_out) in [(11, (7, 6, 2)), (12, (1, 4, 4)), (13, (9, 3, 3))]:
        rng = np.random.default_rng(seed)
        x_old = rng.normal(size=(n + 1, d_in))
        x = rng.normal(size=(n, d_in))
        W = rng.normal(size=(d_in, d_out))
        b = rng.normal(size=d_out)
        dout = rng.normal(size=(n, d_out))
        layer = Linear(d_in, d_out, rng=seed)
        layer.W, layer.b = W.copy(), b.copy()
        with forbid(*no_autograd, reason=reason):
            layer.forward(x_old)  # backward must use the cache of the latest forward
            out = layer.forward(x.copy())
            check_implemented(out, f"Linear({d_in}, {d_out}).forward(x)")
            dx = layer.backward(dout.copy())
        xt, Wt, bt = (torch.tensor(a, requires_grad=True) for a in (x, W, b))
        out_t = xt @ Wt + bt
        out_t.backward(torch.tensor(dout))
        where = f"Linear({d_in}, {d_out}) with x of shape {(n, d_in)} (seed {seed})"
        compare(f"{where}: forward(x)", out, out_t.detach().numpy(), hints["out"])
        compare(f"{where}: backward(dout) returned dx", dx, xt.grad.numpy(), hints["dx"])
        compare(f"{where}: layer.dW after backward", layer.dW, Wt.grad.numpy(), hints["dW"])
        compare(f"{where}: layer.db after backward", layer.db, bt.grad.numpy(), hints["db"])

    rng = np.random.default_rng(14)
    for shape in [(5, 2), (1, 7), (2, 3, 4)]:
        x = rng.normal(size=shape) * 3.0
        dout = rng.normal(size=shape)
        for cls, fn, hint in [
            (
                Sigmoid,
                torch.sigmoid,
                "Hint: dx = dout * s * (1 - s) with s the cached output: the activation derivative must multiply dout.",
            ),
            (
                Tanh,
                torch.tanh,
                "Hint: dx = dout * (1 - out**2) with out = tanh(x) the cached output: the activation derivative must multiply dout.",
            ),
            (
                ReLU,
                torch.relu,
                "Hint: dx = dout * (x > 0): the gradient passes where the input was positive and is 0 elsewhere.",
            ),
        ]:
            layer = cls()
            with forbid(*no_autograd, reason=reason):
                out = layer.forward(x.copy())
                check_implemented(out, f"{cls.__name__}().forward(x)")
                dx = layer.backward(dout.copy())
            xt = torch.tensor(x, requires_grad=True)
            out_t = fn(xt)
            out_t.backward(torch.tensor(dout))
            compare(
                f"{cls.__name__}: forward(x) for x of shape {shape}",
                out,
                out_t.detach().numpy(),
                hint,
            )
            compare(
                f"{cls.__name__}: backward(dout) returned dx, for x of shape {shape}",
                dx,
                xt.grad.numpy(),
                hint,
            )


# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [markdown]
# ## 3. Losses and their gradients
#
# A loss turns the network's output into one number and starts the backward pass with its
# gradient. Both losses here take the **mean** over the batch (what PyTorch does by default),
# so every example's gradient carries a factor $1/N$.
#
# **Mean squared error.** For predictions and targets of the same shape with $M$ entries in
# total, $L = \frac{1}{M}\sum (\hat y - y)^2$ and $\partial L/\partial \hat y = \frac{2}{M}(\hat y - y)$.
#
# **Softmax cross-entropy.** For logits $z \in \mathbb{R}^{N \times C}$ and integer labels
# $y_n \in \{0, \dots, C-1\}$, with $p_n = \mathrm{softmax}(z_n)$:
#
# $$L = -\frac{1}{N}\sum_{n=1}^{N} \log p_{n, y_n}
#     = \frac{1}{N}\sum_{n=1}^{N} \Big(\log \sum_{c} e^{z_{nc}} - z_{n, y_n}\Big),
#   \qquad \frac{\partial L}{\partial z} = \frac{1}{N}\big(p - \mathrm{onehot}(y)\big).$$
#
# That gradient is remarkably simple: the softmax's Jacobian and the log's derivative cancel
# almost completely. (It is also why the lecture's elementwise rule
# $\delta_k = \partial L/\partial y_k \odot g'(a_k)$ is not used literally with a softmax output:
# each softmax output depends on *every* logit, so $g'$ is a full matrix, not a vector. Combining
# softmax and cross-entropy, as every library does, sidesteps it.)
#
# **Stability.** `np.exp(1000.0)` is `inf`. Subtract each row's maximum first:
# $\log\sum_c e^{z_c} = m + \log\sum_c e^{z_c - m}$ with $m = \max_c z_c$, so every exponent is
# $\le 0$ and the largest term is exactly 1. Compute $\log p$ as $(z - m) - \log\sum_c e^{z_c - m}$
# rather than `np.log(softmax(z))`, which gives `-inf` when a probability underflows to 0.

# %% [raw]
# # BEGIN QUESTION
# name: q3
# points: 4

# %% [markdown]
# **Question 3 (4 points).** Implement
#
# * `mse_loss(pred, target)`: arrays of the same shape; returns `(loss, dpred)` with `loss` a
#   Python float (the mean over **all** entries) and `dpred` of the shape of `pred`;
# * `softmax_cross_entropy(logits, labels)`: `logits (N, C)`, integer `labels (N,)`; returns
#   `(loss, dlogits)` with `loss` a float (the mean over the batch) and `dlogits (N, C)`
#   $= (\mathrm{softmax} - \mathrm{onehot})/N$. It must give finite, correct values for logits
#   around $\pm 1000$.
#
# The tests compare both losses and gradients with PyTorch (`F.mse_loss`, `F.cross_entropy`,
# autograd) in float64 on random inputs, including logits of size 1000.

# %% [raw]
# # BEGIN SOLUTION


# %%
def mse_loss(pred, target):
    """Mean squared error over all entries. pred, target: same shape.

    Returns (loss: float, dpred: array of pred's shape) with dpred = 2 (pred - target) / pred.size.
    """
    pred = np.asarray(pred, dtype=float)
    target = np.asarray(target, dtype=float)
    # BEGIN SOLUTION
    diff = pred - target
    loss = float(np.mean(diff**2))
    dpred = 2.0 * diff / pred.size
    return loss, dpred
    # END SOLUTION


def softmax_cross_entropy(logits, labels):
    """Mean softmax cross-entropy. logits: (N, C), labels: (N,) integers in [0, C).

    Returns (loss: float, dlogits: (N, C)) with dlogits = (softmax(logits) - onehot(labels)) / N.
    Stable for large |logits| (subtract the row maximum).
    """
    logits = np.asarray(logits, dtype=float)
    labels = np.asarray(labels).astype(int)
    # BEGIN SOLUTION
    n = logits.shape[0]
    shifted = logits - logits.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    sum_exp = exp.sum(axis=1, keepdims=True)
    log_probs = shifted - np.log(sum_exp)
    loss = float(-log_probs[np.arange(n), labels].mean())
    probs = exp / sum_exp
    probs[np.arange(n), labels] -= 1.0  # now softmax - onehot
    dlogits = probs / n
    return loss, dlogits
    # END SOLUTION


# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS


# %%
def test_losses_public(mse_loss, softmax_cross_entropy):
    import numpy as np
    import torch
    import torch.nn.functional as F

    from shared.checks import assert_close, check_implemented
    from shared.forbid import forbid

    no_autograd = ("torch.autograd.grad", "torch.autograd.backward")
    reason = "Compute the gradient yourself with NumPy."
    rng = np.random.default_rng(1)
    pred, target = rng.normal(size=(4, 3)), rng.normal(size=(4, 3))
    with forbid(*no_autograd, reason=reason):
        result = mse_loss(pred.copy(), target.copy())
    check_implemented(result, "mse_loss(pred, target)")
    assert isinstance(result, tuple) and len(result) == 2, (
        f"mse_loss should return a tuple (loss, dpred), got {type(result).__name__}"
    )
    loss, dpred = result
    pt = torch.tensor(pred, requires_grad=True)
    lt = F.mse_loss(pt, torch.tensor(target))
    lt.backward()
    assert_close(
        float(loss),
        lt.item(),
        name="mse_loss(pred, target)[0] for (4, 3) inputs",
        rtol=1e-10,
        atol=1e-12,
        hint="Hint: the mean of (pred - target)**2 over all N*D entries.",
    )
    assert_close(
        np.asarray(dpred, dtype=float),
        pt.grad.numpy(),
        name="mse_loss(pred, target)[1], the gradient dpred, for (4, 3) inputs",
        rtol=1e-10,
        atol=1e-12,
        hint="Hint: dpred = 2 (pred - target) / M with M = pred.size entries; keep the factor 2 from the square.",
    )

    hint = "Hint: the loss is the mean over the N examples, so dlogits = (softmax(logits) - onehot(labels)) / N, divided by N exactly once."
    cases = [
        (
            "random logits of shape (4, 5)",
            rng.normal(scale=3.0, size=(4, 5)),
            np.array([0, 3, 3, 1]),
        ),
        (
            "logits around +-1000",
            np.array([[1000.0, -1000.0, 999.0], [-1000.0, -999.0, -1000.5]]),
            np.array([2, 0]),
        ),
    ]
    for what, logits, labels in cases:
        with forbid(*no_autograd, reason=reason), np.errstate(all="ignore"):
            result = softmax_cross_entropy(logits.copy(), labels.copy())
        check_implemented(result, "softmax_cross_entropy(logits, labels)")
        assert isinstance(result, tuple) and len(result) == 2, (
            f"softmax_cross_entropy should return a tuple (loss, dlogits), got {type(result).__name__}"
        )
        loss, dlogits = result
        zt = torch.tensor(logits, requires_grad=True)
        lt = F.cross_entropy(zt, torch.tensor(labels))
        lt.backward()
        stable = "Hint: subtract the max of each row (logits.max(axis=1, keepdims=True)) before np.exp, and compute log p as shifted - log(sum(exp(shifted)))."
        name = f"softmax_cross_entropy(logits, labels={labels.tolist()}) for {what}"
        assert np.isfinite(float(loss)) and np.isfinite(np.asarray(dlogits, dtype=float)).all(), (
            f"{name} returned loss {loss} and dlogits {np.asarray(dlogits).tolist()}: not finite; exp(1000) overflows to inf. {stable}"
        )
        assert_close(
            float(loss),
            lt.item(),
            name=f"{name}: the loss",
            rtol=1e-10,
            atol=1e-10,
            hint=stable + " The loss is the mean over the batch of -log p[n, labels[n]].",
        )
        n = len(labels)
        extra = ""
        expected = zt.grad.numpy()
        ratio = (
            float(
                np.median(np.asarray(dlogits, dtype=float)[expected != 0] / expected[expected != 0])
            )
            if np.shape(dlogits) == expected.shape
            else 0.0
        )
        if abs(ratio - n) < 1e-6 * n:
            extra = f" Yours is N = {n} times too large: it is not divided by N."
        elif abs(ratio - 1 / n) < 1e-6:
            extra = f" Yours is N = {n} times too small: it is divided by N twice."
        assert_close(
            np.asarray(dlogits, dtype=float),
            expected,
            name=f"{name}: the gradient dlogits",
            rtol=1e-8,
            atol=1e-12,
            hint=hint + extra,
        )


# %%
""" # BEGIN TEST CONFIG
hidden: true
"""  # END TEST CONFIG


def test_losses_hidden(mse_loss, softmax_cross_entropy):
    import numpy as np
    import torch
    import torch.nn.functional as F

    from shared.checks import assert_close, check_implemented
    from shared.forbid import forbid

    no_autograd = ("torch.autograd.grad", "torch.autograd.backward")
    reason = "Compute the gradient yourself with NumPy."
    rng = np.random.default_rng(21)
    for shape in [(7,), (2, 3, 2), (1, 1)]:
        pred, target = rng.normal(size=shape), rng.normal(size=shape)
        with forbid(*no_autograd, reason=reason):
            result = mse_loss(pred.copy(), target.copy())
        check_implemented(result, "mse_loss(pred, target)")
        loss, dpred = result
        pt = torch.tensor(pred, requires_grad=True)
        lt = F.mse_loss(pt, torch.tensor(target))
        lt.backward()
        assert_close(
            float(loss),
            lt.item(),
            name=f"mse_loss(pred, target)[0] for inputs of shape {shape}",
            rtol=1e-10,
            atol=1e-12,
            hint="Hint: the mean of (pred - target)**2 over all entries, whatever the shape.",
        )
        assert_close(
            np.asarray(dpred, dtype=float),
            pt.grad.numpy(),
            name=f"mse_loss(pred, target)[1] for inputs of shape {shape}",
            rtol=1e-10,
            atol=1e-12,
            hint="Hint: dpred = 2 (pred - target) / M with M = pred.size entries; keep the factor 2 from the square.",
        )

    hint = "Hint: the loss is the mean over the N examples, so dlogits = (softmax(logits) - onehot(labels)) / N, divided by N exactly once."
    stable = "Hint: subtract the max of each row (logits.max(axis=1, keepdims=True)) before np.exp, and compute log p as shifted - log(sum(exp(shifted)))."
    big = rng.normal(scale=400.0, size=(6, 4))
    big[0] = [1000.0, 1000.0, -1000.0, 0.0]
    cases = [
        (
            "random logits of shape (9, 7)",
            rng.normal(scale=2.0, size=(9, 7)),
            rng.integers(0, 7, size=9),
        ),
        ("one example with 3 classes", np.array([[0.5, -1.5, 2.0]]), np.array([1])),
        ("large logits of shape (6, 4)", big, np.array([2, 0, 1, 3, 3, 0])),
    ]
    for what, logits, labels in cases:
        with forbid(*no_autograd, reason=reason), np.errstate(all="ignore"):
            result = softmax_cross_entropy(logits.copy(), labels.copy())
        check_implemented(result, "softmax_cross_entropy(logits, labels)")
        loss, dlogits = result
        zt = torch.tensor(logits, requires_grad=True)
        lt = F.cross_entropy(zt, torch.tensor(labels))
        lt.backward()
        name = f"softmax_cross_entropy for {what}"
        assert np.isfinite(float(loss)) and np.isfinite(np.asarray(dlogits, dtype=float)).all(), (
            f"{name} returned a non-finite loss ({loss}) or gradient. {stable}"
        )
        assert_close(
            float(loss), lt.item(), name=f"{name}: the loss", rtol=1e-9, atol=1e-9, hint=stable
        )
        assert_close(
            np.asarray(dlogits, dtype=float),
            zt.grad.numpy(),
            name=f"{name}: the gradient dlogits",
            rtol=1e-8,
            atol=1e-12,
            hint=hint,
        )


# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [markdown]
# ## 4. Gradient checking with finite differences
#
# How do you know a backward pass is right when there is no PyTorch to ask? Go back to the
# definition of the derivative. For a scalar function $f$ and a small step $\varepsilon$, the
# **centred difference**
#
# $$\frac{\partial f}{\partial x_i} \approx \frac{f(x + \varepsilon e_i) - f(x - \varepsilon e_i)}{2\varepsilon}$$
#
# ($e_i$ is the $i$-th unit vector) has an error proportional to $\varepsilon^2$, while the
# one-sided $\big(f(x + \varepsilon e_i) - f(x)\big)/\varepsilon$ is only accurate to order
# $\varepsilon$ (expand $f$ in a Taylor series to see why: the $\varepsilon^2$ terms cancel in
# the centred version). In float64, $\varepsilon = 10^{-6}$ balances this truncation error
# against round-off; in float32 round-off ruins everything, so always check in float64.
#
# Compare the two gradients with a **relative error**, which does not care about the scale of
# the numbers:
#
# $$\text{rel}(a, b) = \max_i \frac{|a_i - b_i|}{\max\big(10^{-12},\ |a_i| + |b_i|\big)} .$$
#
# Rules of thumb in float64: below $10^{-7}$ is right, $10^{-4}$ is suspicious, above
# $10^{-2}$ is a bug.
#
# To check a layer, give it a scalar loss that depends on every output entry, such as
# $L = \sum_{n,j} \text{out}_{nj} R_{nj}$ with a fixed random $R$. Then `dout` is just $R$, so
# `backward(R)` gives the analytic gradients, and finite differences of $L$ give the numerical
# ones.

# %% [raw]
# # BEGIN QUESTION
# name: q4
# points: 4

# %% [markdown]
# **Question 4 (4 points).** Implement
#
# * `numerical_gradient(f, x, eps=1e-6)`: the centred finite-difference gradient of the scalar
#   function `f` at the float64 array `x`, as a float64 array of `x`'s shape. Perturb `x`
#   **in place**, one entry at a time (`x[idx] = old + eps`, evaluate `f(x)`, `x[idx] = old - eps`,
#   evaluate, then restore `x[idx] = old`): then `f` may also ignore its argument and read `x`
#   through a closure, which is how you will check a layer's weights. `np.ndindex(*x.shape)`
#   walks over every index. `x` must be exactly restored when you return.
# * `relative_error(a, b)`: the formula above, as a float.
# * `gradient_check(layer, x, seed=0)`: check one of your layers at input `x` with the loss
#   $L = \sum \text{out} \odot R$, `R = np.random.default_rng(seed).normal(size=out.shape)`.
#   Run `forward` and `backward(R)` for the analytic gradients (copy them), then compute the
#   numerical ones with `numerical_gradient` for `x` and, if the layer has them, for `layer.W`
#   and `layer.b`. Return a dict of relative errors: `{"dx": ...}`, plus `"dW"` and `"db"` for
#   layers with parameters.
#
# Write these yourself: the helper package has its own finite-difference routine, and the tests
# do not accept a call to it. They check your gradient against exact derivatives and against
# the course's version (a one-sided difference is too inaccurate to pass), that `x` is restored
# and that closures work, and that `gradient_check` finds a planted bug in a layer.

# %% [raw]
# # BEGIN SOLUTION


# %%
def numerical_gradient(f, x, eps=1e-6):
    """Centred finite differences: grad[i] = (f(x + eps e_i) - f(x - eps e_i)) / (2 eps).

    f: maps x to a scalar. x: float64 array of any shape, perturbed in place and restored.
    Returns a float64 array of x's shape.
    """
    # BEGIN SOLUTION
    grad = np.zeros(x.shape, dtype=np.float64)
    for idx in np.ndindex(*x.shape):
        old = x[idx]
        x[idx] = old + eps
        f_plus = float(f(x))
        x[idx] = old - eps
        f_minus = float(f(x))
        x[idx] = old
        grad[idx] = (f_plus - f_minus) / (2 * eps)
    return grad
    # END SOLUTION


def relative_error(a, b):
    """max |a - b| / max(1e-12, |a| + |b|) over all entries, as a float. a, b: same shape."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    # BEGIN SOLUTION
    return float(np.max(np.abs(a - b) / np.maximum(1e-12, np.abs(a) + np.abs(b))))
    # END SOLUTION


def gradient_check(layer, x, seed=0):
    """Relative errors between layer.backward and finite differences of L = sum(out * R).

    layer: an object with forward/backward (and W, b, dW, db if it has parameters).
    x: float64 input. Returns {"dx": err} plus {"dW": err, "db": err} for layers with parameters.
    """
    # BEGIN SOLUTION
    out = layer.forward(x)
    R = np.random.default_rng(seed).normal(size=out.shape)
    analytic = {"dx": np.array(layer.backward(R), dtype=np.float64)}
    targets = {"dx": x}
    if hasattr(layer, "W"):
        analytic["dW"] = np.array(layer.dW, dtype=np.float64)
        analytic["db"] = np.array(layer.db, dtype=np.float64)
        targets["dW"], targets["db"] = layer.W, layer.b

    def loss(_):
        return np.sum(layer.forward(x) * R)

    return {
        name: relative_error(analytic[name], numerical_gradient(loss, arr))
        for name, arr in targets.items()
    }
    # END SOLUTION


# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS


# %%
def test_numerical_gradient_public(numerical_gradient):
    import numpy as np

    import shared.gradcheck
    from shared.checks import check_implemented
    from shared.forbid import forbid

    forbidden = (
        "shared.gradcheck.numerical_gradient",
        "shared.gradcheck._scalar",
        "torch.autograd.grad",
        "torch.autograd.backward",
    )
    reason = "Write the finite differences yourself: that is this question."
    assert numerical_gradient is not shared.gradcheck.numerical_gradient, (
        "Your numerical_gradient is the helper package's own; this question asks you to write it yourself."
    )
    centred = (
        "Hint: use the centred difference (f(x + eps) - f(x - eps)) / (2 eps); the one-sided "
        "(f(x + eps) - f(x)) / eps has an error proportional to eps instead of eps**2."
    )
    rng = np.random.default_rng(2)
    x = rng.normal(size=(3, 4))
    x_before = x.copy()

    def f(z):
        return np.sum(z**3) + np.sum(np.sin(z))

    with forbid(*forbidden, reason=reason):
        grad = numerical_gradient(f, x, eps=1e-4)
    check_implemented(grad, "numerical_gradient(f, x, eps=1e-4)")
    assert isinstance(grad, np.ndarray), (
        f"numerical_gradient should return a NumPy array, got {type(grad).__name__}"
    )
    assert grad.shape == x.shape, (
        f"numerical_gradient(f, x) for x of shape {x.shape} returned shape {grad.shape}; it should match x."
    )
    assert grad.dtype == np.float64, (
        f"numerical_gradient should return float64 (finite differences need it), got {grad.dtype}"
    )
    assert np.array_equal(x, x_before), (
        "numerical_gradient changed x: restore every perturbed entry (x[idx] = old) before moving on."
    )
    exact = 3 * x**2 + np.cos(x)
    rel = np.abs(grad - exact) / np.maximum(1e-12, np.abs(grad) + np.abs(exact))
    idx = tuple(int(i) for i in np.unravel_index(int(np.argmax(rel)), rel.shape))
    assert rel[idx] < 1e-7, (
        f"numerical_gradient of f(x) = sum(x**3 + sin(x)) with eps=1e-4, x of shape (3, 4), is off: max relative error "
        f"{rel[idx]:.3g} at index {idx} (threshold 1e-07) against the exact 3 x**2 + cos(x): yours {grad[idx]:.10g}, exact {exact[idx]:.10g}. {centred}"
    )

    W = rng.normal(size=(2, 3))
    v = rng.normal(size=3)

    def g(_):
        return np.sum(np.tanh(W @ v))  # reads W through the closure, ignores its argument

    expected = shared.gradcheck.numerical_gradient(g, W)
    with forbid(*forbidden, reason=reason):
        grad = numerical_gradient(g, W)
    check_implemented(grad, "numerical_gradient(g, W)")
    rel = np.abs(np.asarray(grad, dtype=float) - expected) / np.maximum(
        1e-12, np.abs(np.asarray(grad, dtype=float)) + np.abs(expected)
    )
    assert float(rel.max()) < 1e-6, (
        f"numerical_gradient(g, W) for g(_) = sum(tanh(W @ v)), which reads W through a closure, gave {np.asarray(grad).tolist()}; "
        f"expected {expected.tolist()} (max relative error {float(rel.max()):.3g}, threshold 1e-06). "
        "Hint: perturb x itself in place (x[idx] = old + eps), call f(x), and restore x[idx] = old; working on a copy changes nothing that f can see."
    )


# %%
def test_relative_error_and_gradient_check_public(relative_error, gradient_check):
    import numpy as np

    from shared.checks import check_implemented, rel_error
    from shared.forbid import forbid

    forbidden = (
        "shared.gradcheck.numerical_gradient",
        "shared.gradcheck._scalar",
        "torch.autograd.grad",
        "torch.autograd.backward",
    )
    reason = "Use your own numerical_gradient: that is this question."
    err = relative_error(np.array([1.0, 2.0, 3.0]), np.array([1.0, 2.2, 3.0]))
    check_implemented(err, "relative_error(a, b)")
    assert abs(float(err) - 0.2 / 4.2) < 1e-12, (
        f"relative_error([1, 2, 3], [1, 2.2, 3]) should be |2 - 2.2| / (2 + 2.2) = {0.2 / 4.2:.6g}, got {err}. "
        "Hint: the maximum over entries of |a - b| / max(1e-12, |a| + |b|)."
    )
    zero = relative_error(np.zeros(3), np.zeros(3))
    assert float(zero) == 0.0, (
        f"relative_error(zeros, zeros) should be 0.0, got {zero}. Hint: the floor 1e-12 in the denominator avoids 0/0."
    )
    rng = np.random.default_rng(3)
    a, b = rng.normal(size=(4, 5)), rng.normal(size=(4, 5))
    assert abs(float(relative_error(a, b)) - rel_error(a, b)) < 1e-12, (
        f"relative_error(a, b) for random (4, 5) arrays gave {relative_error(a, b)}, expected {rel_error(a, b)}. "
        "Hint: the maximum over entries of |a - b| / max(1e-12, |a| + |b|)."
    )

    class GoodLinear:
        def __init__(self, W, b):
            self.W, self.b = W, b

        def forward(self, inp):
            self.inp = inp
            return inp @ self.W + self.b

        def backward(self, grad_out):
            self.dW = self.inp.T @ grad_out
            self.db = np.sum(grad_out, axis=0)
            return grad_out @ self.W.T

    class BadBiasLinear(GoodLinear):
        def backward(self, grad_out):
            dinp = super().backward(grad_out)
            self.db = np.mean(grad_out, axis=0)  # the planted bug
            return dinp

    x = rng.normal(size=(5, 3))
    W, b = rng.normal(size=(3, 2)), rng.normal(size=2)
    with forbid(*forbidden, reason=reason):
        errs = gradient_check(GoodLinear(W.copy(), b.copy()), x.copy(), seed=0)
    check_implemented(errs, "gradient_check(layer, x)")
    assert isinstance(errs, dict) and set(errs) == {"dx", "dW", "db"}, (
        f"gradient_check of a layer with W and b should return a dict with keys 'dx', 'dW', 'db', got {errs!r}"
    )
    bad = {k: float(e) for k, e in errs.items() if not float(e) < 1e-7}
    assert not bad, (
        f"gradient_check reports relative errors {bad} (threshold 1e-07) for a correct Linear layer with x of shape (5, 3). "
        "Hint: take the analytic gradients from forward(x) then backward(R) and copy them before the finite differences "
        "(which call forward again); the loss is sum(layer.forward(x) * R) with R of the output's shape."
    )
    with forbid(*forbidden, reason=reason):
        errs = gradient_check(BadBiasLinear(W.copy(), b.copy()), x.copy(), seed=0)
    assert float(errs["db"]) > 1e-2 and float(errs["dx"]) < 1e-7 and float(errs["dW"]) < 1e-7, (
        f"For a Linear layer whose db is wrong (a mean instead of a sum over the batch), gradient_check should report a large "
        f"error for db only; it reported {errs}. Hint: compare layer.db with the finite differences of the loss with respect to layer.b."
    )


# %%
""" # BEGIN TEST CONFIG
hidden: true
"""  # END TEST CONFIG


def test_numerical_gradient_hidden(numerical_gradient):
    import numpy as np

    import shared.gradcheck
    from shared.checks import check_implemented
    from shared.forbid import forbid

    forbidden = (
        "shared.gradcheck.numerical_gradient",
        "shared.gradcheck._scalar",
        "torch.autograd.grad",
        "torch.autograd.backward",
    )
    reason = "Write the finite differences yourself: that is this question."
    centred = (
        "Hint: use the centred difference (f(x + eps) - f(x - eps)) / (2 eps); the one-sided "
        "(f(x + eps) - f(x)) / eps has an error proportional to eps instead of eps**2."
    )
    rng = np.random.default_rng(31)
    x = rng.normal(size=(2, 3, 2))
    x_before = x.copy()

    def f(z):
        return np.sum(np.exp(z)) + np.sum(z**4)

    with forbid(*forbidden, reason=reason):
        grad = numerical_gradient(f, x, eps=1e-4)
    check_implemented(grad, "numerical_gradient(f, x, eps=1e-4)")
    assert np.shape(grad) == x.shape, (
        f"numerical_gradient for x of shape {x.shape} returned shape {np.shape(grad)}"
    )
    assert np.array_equal(x, x_before), (
        "numerical_gradient changed x: restore every perturbed entry (x[idx] = old)."
    )
    exact = np.exp(x) + 4 * x**3
    rel = np.abs(grad - exact) / np.maximum(1e-12, np.abs(grad) + np.abs(exact))
    assert float(rel.max()) < 1e-7, (
        f"numerical_gradient of sum(exp(x) + x**4) with eps=1e-4, x of shape (2, 3, 2): max relative error {float(rel.max()):.3g} "
        f"(threshold 1e-07) against the exact gradient. {centred}"
    )
    v = np.array([0.3])
    with forbid(*forbidden, reason=reason):
        g1 = numerical_gradient(lambda z: float(np.sin(z[0])), v)
    assert abs(float(np.asarray(g1)[0]) - np.cos(0.3)) < 1e-8, (
        f"numerical_gradient(sin, [0.3]) should be cos(0.3) = {np.cos(0.3):.10f}, got {g1}. {centred}"
    )
    W = rng.normal(size=(3, 2))
    u = rng.normal(size=(4, 3))
    expected = shared.gradcheck.numerical_gradient(lambda _: np.sum((u @ W) ** 2), W)
    with forbid(*forbidden, reason=reason):
        grad = numerical_gradient(lambda _: np.sum((u @ W) ** 2), W)
    rel = np.abs(np.asarray(grad, dtype=float) - expected) / np.maximum(
        1e-12, np.abs(np.asarray(grad, dtype=float)) + np.abs(expected)
    )
    assert float(rel.max()) < 1e-6, (
        f"numerical_gradient of sum((u @ W)**2) with respect to W (read through a closure) is off: max relative error {float(rel.max()):.3g} "
        "(threshold 1e-06). Hint: perturb x in place, call f(x), and restore it."
    )


# %%
""" # BEGIN TEST CONFIG
hidden: true
"""  # END TEST CONFIG


def test_gradient_check_on_your_layers_hidden(gradient_check, Linear, Sigmoid, Tanh, ReLU):
    import numpy as np

    from shared.checks import check_implemented
    from shared.forbid import forbid

    forbidden = (
        "shared.gradcheck.numerical_gradient",
        "shared.gradcheck._scalar",
        "torch.autograd.grad",
        "torch.autograd.backward",
    )
    reason = "Use your own numerical_gradient: that is this question."
    rng = np.random.default_rng(41)
    x = rng.normal(size=(6, 4))
    x[np.abs(x) < 0.05] = 0.5  # keep ReLU's inputs away from its kink
    for layer in [Linear(4, 3, rng=5), Sigmoid(), Tanh(), ReLU()]:
        if hasattr(layer, "b"):
            layer.b = rng.normal(size=layer.b.shape)
        with forbid(*forbidden, reason=reason):
            errs = gradient_check(layer, x.copy(), seed=7)
        check_implemented(errs, f"gradient_check({type(layer).__name__}, x)")
        expected_keys = {"dx", "dW", "db"} if hasattr(layer, "W") else {"dx"}
        assert isinstance(errs, dict) and set(errs) == expected_keys, (
            f"gradient_check({type(layer).__name__}(), x) should return a dict with keys {sorted(expected_keys)}, got {errs!r}"
        )
        bad = {k: float(e) for k, e in errs.items() if not float(e) < 1e-6}
        assert not bad, (
            f"Your gradient_check of your {type(layer).__name__} layer (x of shape (6, 4)) reports relative errors {bad} "
            "(threshold 1e-06): your backward pass and your finite differences disagree. Hint: if q2's checks pass, look for the "
            "bug in numerical_gradient or gradient_check (copy the analytic gradients before the finite differences); otherwise "
            "fix that layer's backward."
        )


# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [markdown]
# Now use your checker on your own layers: every error should be tiny, around $10^{-10}$.

# %% tags=["otter_ignore"]
x_check = np.random.default_rng(0).normal(size=(5, 4))
for layer in [Linear(4, 3, rng=0), Sigmoid(), Tanh(), ReLU()]:
    errors = gradient_check(layer, x_check)
    print(f"{type(layer).__name__:8s}", "  ".join(f"{k}: {v:.1e}" for k, v in errors.items()))

# %% [markdown]
# ## 5. Trask's toy network
#
# Andrew Trask's famous "neural network in 11 lines of Python" trains a two-layer sigmoid
# network with exactly the rules you now know. The data are four examples with three inputs
# (the third is always 1 and plays the role of a bias) and the XOR of the first two as target:
#
# | $x_1$ | $x_2$ | $x_3$ | $y$ |
# |---|---|---|---|
# | 0 | 0 | 1 | 0 |
# | 0 | 1 | 1 | 1 |
# | 1 | 0 | 1 | 1 |
# | 1 | 1 | 1 | 0 |
#
# With weights `syn0 (3, H)` and `syn1 (H, 1)`, one iteration on the whole batch is
#
# $$l_1 = \sigma(X\,\text{syn0}), \qquad l_2 = \sigma(l_1\,\text{syn1}),$$
#
# $$\delta_2 = (y - l_2) \circ \sigma'(l_2), \qquad \delta_1 = (\delta_2\, \text{syn1}^\top) \circ \sigma'(l_1),$$
#
# $$\text{syn1} \mathrel{+}= l_1^\top \delta_2, \qquad \text{syn0} \mathrel{+}= X^\top \delta_1 .$$
#
# Three things to notice.
#
# * **The sign.** The updates *add*. The error $y - l_2$ is minus the gradient of
#   $L = \tfrac12 \sum (y - l_2)^2$ with respect to $l_2$, so adding $l_1^\top\delta_2$ is the
#   usual gradient-descent step $\text{syn1} \leftarrow \text{syn1} - \eta\,\partial L/\partial\,\text{syn1}$
#   with $\eta = 1$. Flip either sign and the network climbs the loss instead.
# * **The transpose.** The lecture slide writes $\delta_1 = (\text{syn1} \cdot \delta_2) \circ \sigma'(l_1)$;
#   with `syn1 (H, 1)` and `delta2 (4, 1)` that product does not even exist. The shapes tell
#   you the right order: `delta2 @ syn1.T` is `(4, 1) @ (1, H) = (4, H)`, the shape of `l1`.
# * **$\sigma'$ of the output.** Trask's code calls its derivative function on `l2` and `l1`,
#   the layers' **outputs**, not on the pre-activations. That is correct because
#   $\sigma'(a) = \sigma(a)(1 - \sigma(a))$ and the output *is* $\sigma(a)$: so the derivative is
#   `s * (1 - s)` with `s = l2`. Applying the formula $\sigma(\cdot)(1 - \sigma(\cdot))$ to `l2`
#   would take the sigmoid twice.

# %%
X_trask = np.array([[0, 0, 1], [0, 1, 1], [1, 0, 1], [1, 1, 1]], dtype=float)
y_trask = np.array([[0], [1], [1], [0]], dtype=float)

# %% [raw]
# # BEGIN QUESTION
# name: q5
# points: 4

# %% [markdown]
# **Question 5 (4 points).** Implement
#
# * `sigmoid_prime_from_output(s)`: $\sigma'(a)$ given the sigmoid's **output** $s = \sigma(a)$;
# * `trask_step(X, y, syn0, syn1)`: one iteration as above on the whole batch; return
#   `(syn0_new, syn1_new, l2)` (new arrays; do not modify the inputs), where `l2` is the output
#   of this iteration's forward pass, before the update;
# * `trask_train(X, y, hidden=4, iterations=10000, seed=0)`: draw
#   `syn0 = 2 * rng.random((D, hidden)) - 1` and then `syn1 = 2 * rng.random((hidden, 1)) - 1` with
#   `rng = np.random.default_rng(seed)`, run `iterations` steps, and return
#   `(syn0, syn1, errors)` with `errors[i]` the mean absolute error `np.mean(np.abs(y - l2))` of
#   iteration `i`.
#
# The tests compare one step with gradient descent on $\tfrac12\sum(y - l_2)^2$ computed by
# `torch.autograd`, and train on the table above until the error has fallen and the rounded
# predictions equal the targets.

# %% [raw]
# # BEGIN SOLUTION


# %%
def sigmoid_prime_from_output(s):
    """sigma'(a) written with the output s = sigma(a): s * (1 - s). Shape in = shape out."""
    s = np.asarray(s, dtype=float)
    # BEGIN SOLUTION
    return s * (1.0 - s)
    # END SOLUTION


def trask_step(X, y, syn0, syn1):
    """One full-batch iteration of Trask's network. X: (N, D), y: (N, 1), syn0: (D, H), syn1: (H, 1).

    Returns (syn0_new, syn1_new, l2) with l2 (N, 1) the output before the update.
    """
    # BEGIN SOLUTION
    l1 = sigmoid(X @ syn0)
    l2 = sigmoid(l1 @ syn1)
    delta2 = (y - l2) * sigmoid_prime_from_output(l2)
    delta1 = (delta2 @ syn1.T) * sigmoid_prime_from_output(l1)
    syn1_new = syn1 + l1.T @ delta2
    syn0_new = syn0 + X.T @ delta1
    return syn0_new, syn1_new, l2
    # END SOLUTION


def trask_train(X, y, hidden=4, iterations=10000, seed=0):
    """Train Trask's network from syn0 = 2 rng.random((D, hidden)) - 1, syn1 = 2 rng.random((hidden, 1)) - 1.

    Returns (syn0, syn1, errors) with errors[i] = mean |y - l2| at iteration i.
    """
    # BEGIN SOLUTION
    rng = np.random.default_rng(seed)
    syn0 = 2 * rng.random((X.shape[1], hidden)) - 1
    syn1 = 2 * rng.random((hidden, 1)) - 1
    errors = []
    for _ in range(iterations):
        syn0, syn1, l2 = trask_step(X, y, syn0, syn1)
        errors.append(float(np.mean(np.abs(y - l2))))
    return syn0, syn1, errors
    # END SOLUTION


# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS


# %%
def test_trask_step_public(sigmoid_prime_from_output, trask_step):
    import numpy as np
    import torch

    from shared.checks import assert_close, check_implemented
    from shared.forbid import forbid

    twice = (
        "Hint: s is already the sigmoid's output sigma(a), so sigma'(a) = s * (1 - s); "
        "applying sigma(s) * (1 - sigma(s)) takes the sigmoid twice."
    )
    s = np.array([0.1, 0.5, 0.9])
    out = sigmoid_prime_from_output(s)
    check_implemented(out, "sigmoid_prime_from_output(s)")
    assert_close(
        np.asarray(out, dtype=float),
        np.array([0.09, 0.25, 0.09]),
        name="sigmoid_prime_from_output([0.1, 0.5, 0.9])",
        rtol=1e-12,
        atol=1e-12,
        hint=twice,
    )

    X = np.array([[0, 0, 1], [0, 1, 1], [1, 0, 1], [1, 1, 1]], dtype=float)
    y = np.array([[0], [1], [1], [0]], dtype=float)
    rng = np.random.default_rng(4)
    syn0, syn1 = 2 * rng.random((3, 4)) - 1, 2 * rng.random((4, 1)) - 1
    try:
        with forbid(
            "torch.autograd.grad", "torch.autograd.backward", reason="Use the delta rules."
        ):
            result = trask_step(X, y, syn0.copy(), syn1.copy())
    except ValueError as err:
        raise AssertionError(
            f"trask_step(X (4, 3), y (4, 1), syn0 (3, 4), syn1 (4, 1)) raised ValueError: {err}. Hint: check every product's "
            "shapes: delta1 = (delta2 @ syn1.T) * sigma'(l1) needs the transpose, (4, 1) @ (1, 4) = (4, 4)."
        ) from None
    check_implemented(result, "trask_step(X, y, syn0, syn1)")
    assert len(result) == 3, (
        f"trask_step should return (syn0_new, syn1_new, l2), got {len(result)} values"
    )
    new0, new1, l2 = result
    s0 = torch.tensor(syn0, requires_grad=True)
    s1 = torch.tensor(syn1, requires_grad=True)
    l2_t = torch.sigmoid(torch.sigmoid(torch.tensor(X) @ s0) @ s1)
    (0.5 * ((torch.tensor(y) - l2_t) ** 2).sum()).backward()
    assert_close(
        np.asarray(l2, dtype=float),
        l2_t.detach().numpy(),
        name="l2 returned by trask_step (the forward pass)",
        rtol=1e-10,
        atol=1e-12,
        hint="Hint: l1 = sigmoid(X @ syn0), l2 = sigmoid(l1 @ syn1), before any update.",
    )
    rule = (
        "Hint: delta2 = (y - l2) * sigma'(l2), delta1 = (delta2 @ syn1.T) * sigma'(l1), syn1 += l1.T @ delta2, "
        "syn0 += X.T @ delta1, with sigma' from the layers' outputs. The update adds because y - l2 is minus the "
        "gradient: check the sign. "
    )
    assert_close(
        np.asarray(new1, dtype=float),
        syn1 - s1.grad.numpy(),
        name="syn1_new from trask_step (one gradient-descent step on 0.5 * sum((y - l2)**2))",
        rtol=1e-9,
        atol=1e-12,
        hint=rule + twice,
    )
    assert_close(
        np.asarray(new0, dtype=float),
        syn0 - s0.grad.numpy(),
        name="syn0_new from trask_step (one gradient-descent step on 0.5 * sum((y - l2)**2))",
        rtol=1e-9,
        atol=1e-12,
        hint=rule + twice,
    )


# %%
def test_trask_train_public(trask_train, rng_seed):
    import numpy as np

    from shared.checks import check_implemented

    X = np.array([[0, 0, 1], [0, 1, 1], [1, 0, 1], [1, 1, 1]], dtype=float)
    y = np.array([[0], [1], [1], [0]], dtype=float)
    result = trask_train(X, y, hidden=4, iterations=2000, seed=rng_seed)
    check_implemented(result, "trask_train(X, y, hidden=4, iterations=2000)")
    syn0, syn1, errors = result
    assert np.shape(syn0) == (3, 4) and np.shape(syn1) == (4, 1), (
        f"syn0 and syn1 should have shapes (3, 4) and (4, 1), got {np.shape(syn0)} and {np.shape(syn1)}"
    )
    assert len(errors) == 2000, (
        f"trask_train(iterations=2000) should return 2000 errors, got {len(errors)}"
    )
    hint = "Hint: the updates add (syn1 += l1.T @ delta2) because the error is y - l2; with sigma' from the outputs, the error falls steadily."
    assert errors[-1] < 0.1 and errors[-1] < errors[0] / 3, (
        f"After 2000 iterations (seed {rng_seed}) the mean absolute error should fall below 0.1; it went from {errors[0]:.4f} to {errors[-1]:.4f}. {hint}"
    )

    def sig(z):
        return 1 / (1 + np.exp(-z))

    pred = (sig(sig(X @ syn0) @ syn1) > 0.5).astype(float)
    assert np.array_equal(pred, y), (
        f"After training, the rounded predictions are {pred.ravel().tolist()} instead of {y.ravel().tolist()}. {hint}"
    )


# %%
""" # BEGIN TEST CONFIG
hidden: true
"""  # END TEST CONFIG


def test_trask_hidden(sigmoid_prime_from_output, trask_step, trask_train):
    import numpy as np
    import torch

    from shared.checks import assert_close, check_implemented

    a = np.random.default_rng(51).normal(scale=3.0, size=(2, 5))
    s = 1 / (1 + np.exp(-a))
    at = torch.tensor(a, requires_grad=True)
    torch.sigmoid(at).sum().backward()
    out = sigmoid_prime_from_output(s)
    check_implemented(out, "sigmoid_prime_from_output(s)")
    assert_close(
        np.asarray(out, dtype=float),
        at.grad.numpy(),
        name="sigmoid_prime_from_output(sigmoid(a)) for a of shape (2, 5)",
        rtol=1e-10,
        atol=1e-12,
        hint="Hint: s is already the sigmoid's output sigma(a), so sigma'(a) = s * (1 - s); applying sigma(s) * (1 - sigma(s)) takes the sigmoid twice.",
    )

    rng = np.random.default_rng(52)
    X = rng.normal(size=(6, 5))
    y = rng.random((6, 1))
    syn0, syn1 = rng.normal(size=(5, 3)), rng.normal(size=(3, 1))
    try:
        new0, new1, l2 = trask_step(X, y, syn0.copy(), syn1.copy())
    except ValueError as err:
        raise AssertionError(
            f"trask_step(X (6, 5), y (6, 1), syn0 (5, 3), syn1 (3, 1)) raised ValueError: {err}. Hint: check every product's "
            "shapes: delta1 = (delta2 @ syn1.T) * sigma'(l1) needs the transpose."
        ) from None
    s0 = torch.tensor(syn0, requires_grad=True)
    s1 = torch.tensor(syn1, requires_grad=True)
    l2_t = torch.sigmoid(torch.sigmoid(torch.tensor(X) @ s0) @ s1)
    (0.5 * ((torch.tensor(y) - l2_t) ** 2).sum()).backward()
    rule = "Hint: delta2 = (y - l2) * sigma'(l2), delta1 = (delta2 @ syn1.T) * sigma'(l1), syn1 += l1.T @ delta2, syn0 += X.T @ delta1; check the sign."
    assert_close(
        np.asarray(new1, dtype=float),
        syn1 - s1.grad.numpy(),
        name="syn1_new from trask_step on a (6, 5) batch with 3 hidden units",
        rtol=1e-9,
        atol=1e-12,
        hint=rule,
    )
    assert_close(
        np.asarray(new0, dtype=float),
        syn0 - s0.grad.numpy(),
        name="syn0_new from trask_step on a (6, 5) batch with 3 hidden units",
        rtol=1e-9,
        atol=1e-12,
        hint=rule,
    )

    Xt = np.array([[0, 0, 1], [0, 1, 1], [1, 0, 1], [1, 1, 1]], dtype=float)
    yt = np.array([[0], [1], [1], [0]], dtype=float)
    syn0, syn1, errors = trask_train(Xt, yt, hidden=6, iterations=1500, seed=77)
    assert np.shape(syn0) == (3, 6) and len(errors) == 1500, (
        f"trask_train(hidden=6, iterations=1500) gave syn0 of shape {np.shape(syn0)} and {len(errors)} errors"
    )
    pred = (1 / (1 + np.exp(-(1 / (1 + np.exp(-Xt @ syn0))) @ syn1)) > 0.5).astype(float)
    assert errors[-1] < 0.15 and np.array_equal(pred, yt), (
        f"trask_train(hidden=6, iterations=1500, seed=77): final error {errors[-1]:.4f}, predictions {pred.ravel().tolist()}; expected error < 0.15 "
        f"and predictions {yt.ravel().tolist()}. {rule}"
    )


# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [markdown]
# Trask's original runs 60,000 iterations. Watch the error fall (note the log scale), and the
# four predictions approach their targets:

# %% tags=["otter_ignore"]
syn0_t, syn1_t, trask_errors = trask_train(
    X_trask, y_trask, hidden=4, iterations=60000, seed=rng_seed
)
print(
    "predictions:",
    sigmoid(sigmoid(X_trask @ syn0_t) @ syn1_t).ravel().round(3),
    "targets:",
    y_trask.ravel(),
)
ax = plot_curves(
    {"mean |y - l2|": trask_errors},
    xlabel="iteration",
    ylabel="error",
    logy=True,
    title="Trask's toy network",
)
plt.show()

# %% [markdown]
# **In your own words (not graded).** Why can Trask pass `l2` to the derivative function instead
# of the pre-activation `l1 @ syn1`, and what goes wrong if the derivative function is the
# textbook $\sigma(z)(1 - \sigma(z))$ and you pass it `l2`? Which activations allow this trick
# (think of tanh and ReLU)?
#
# _Your answer here._

# %% [markdown]
# ## 6. A real network, by hand: handwritten digits
#
# Everything is in place to train a real classifier with no autograd at all. scikit-learn ships
# a small data set of $8\times 8$ handwritten digits (1,797 images, no download needed). We
# scale the pixels from $[0, 16]$ to $[0, 1]$ and keep a fixed, stratified quarter as the test
# set.
#
# The model is `Linear(64, H) → ReLU → Linear(H, 10)` with softmax cross-entropy, trained with
# **mini-batch SGD**: each epoch shuffles the training set, cuts it into batches of
# `batch_size`, and for each batch runs forward, the loss, backward, and the update
# $p \leftarrow p - \eta\, \partial L/\partial p$ for every parameter.

# %%
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split


def load_digits_split(test_size=0.25, seed=0):
    """scikit-learn's 8x8 digits scaled to [0, 1]: X_train (1347, 64), X_test (450, 64), int labels."""
    digits = load_digits()
    X = digits.data / 16.0
    return train_test_split(
        X, digits.target, test_size=test_size, random_state=seed, stratify=digits.target
    )


X_train, X_test, y_train, y_test = load_digits_split()
print(X_train.shape, X_test.shape)


def accuracy(model, X, y):
    """Fraction of rows of X whose largest logit is the label y."""
    return float(np.mean(np.argmax(model.forward(X), axis=1) == y))


# %% [raw]
# # BEGIN QUESTION
# name: q6
# points: 5

# %% [markdown]
# **Question 6 (5 points).** Implement
#
# * `TwoLayerMLP.forward(x)` and `TwoLayerMLP.backward(dlogits)`: pass through `self.layers`
#   in order, and back through them in **reverse** order; `backward` returns the gradient with
#   respect to the input `x (N, D)`. (`__init__` and `params_and_grads` are given.)
# * `sgd_step(params_and_grads, lr)`: for each `(param, grad)` pair, update `param` **in place**
#   (`param -= lr * grad`, so the layer sees the change).
# * `train_mlp(X_train, y_train, X_val, y_val, *, hidden=64, epochs=30, lr=0.05, batch_size=16, seed=0)`:
#   make `rng = np.random.default_rng(seed)` and the model `TwoLayerMLP(D, hidden, 10, rng=rng)`;
#   each epoch, visit the training set in the order `rng.permutation(N)` in batches of
#   `batch_size`: forward, `softmax_cross_entropy`, backward, `sgd_step`. Return
#   `(model, history)`, where `history` has three lists with one entry per epoch: `"loss"` (the
#   mean of the epoch's batch losses), `"train_acc"` and `"val_acc"` (`accuracy` at the end of the
#   epoch).
#
# The tests compare your network's forward and backward pass and one SGD step with PyTorch
# (copied weights, float64), then train for a few epochs on the digits and require a test
# accuracy of at least 85 % (the reference reaches about 95 % after 8 epochs and 97 % after 30).

# %% [raw]
# # BEGIN SOLUTION


# %%
class TwoLayerMLP:
    """Linear(d_in, hidden) -> ReLU -> Linear(hidden, n_classes). x: (N, d_in) -> logits (N, n_classes)."""

    def __init__(self, d_in, hidden, n_classes, rng=None):
        rng = np.random.default_rng(rng)
        self.layers = [Linear(d_in, hidden, rng), ReLU(), Linear(hidden, n_classes, rng)]

    def params_and_grads(self):
        """[(W, dW), (b, db)] for every Linear layer, after a backward pass."""
        return [
            (p, g)
            for layer in self.layers
            if isinstance(layer, Linear)
            for p, g in ((layer.W, layer.dW), (layer.b, layer.db))
        ]

    def forward(self, x):
        # BEGIN SOLUTION
        for layer in self.layers:
            x = layer.forward(x)
        return x
        # END SOLUTION

    def backward(self, dlogits):
        # BEGIN SOLUTION
        grad = dlogits
        for layer in reversed(self.layers):
            grad = layer.backward(grad)
        return grad
        # END SOLUTION


def sgd_step(params_and_grads, lr):
    """In place: param <- param - lr * grad for every (param, grad) pair."""
    # BEGIN SOLUTION
    for param, grad in params_and_grads:
        param -= lr * grad
    # END SOLUTION


def train_mlp(
    X_train, y_train, X_val, y_val, *, hidden=64, epochs=30, lr=0.05, batch_size=16, seed=0
):
    """Mini-batch SGD on softmax cross-entropy. Returns (model, {"loss": [...], "train_acc": [...], "val_acc": [...]})."""
    # BEGIN SOLUTION
    rng = np.random.default_rng(seed)
    model = TwoLayerMLP(X_train.shape[1], hidden, 10, rng=rng)
    history = {"loss": [], "train_acc": [], "val_acc": []}
    n = len(X_train)
    for _ in range(epochs):
        order = rng.permutation(n)
        losses = []
        for start in range(0, n, batch_size):
            idx = order[start : start + batch_size]
            loss, dlogits = softmax_cross_entropy(model.forward(X_train[idx]), y_train[idx])
            model.backward(dlogits)
            sgd_step(model.params_and_grads(), lr)
            losses.append(loss)
        history["loss"].append(float(np.mean(losses)))
        history["train_acc"].append(accuracy(model, X_train, y_train))
        history["val_acc"].append(accuracy(model, X_val, y_val))
    return model, history
    # END SOLUTION


# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS


# %%
def test_mlp_and_sgd_public(TwoLayerMLP, sgd_step):
    import numpy as np
    import torch

    from shared.checks import assert_close, check_implemented
    from shared.forbid import forbid

    no_autograd = ("torch.autograd.grad", "torch.autograd.backward")
    rng = np.random.default_rng(6)
    model = TwoLayerMLP(6, 5, 3, rng=0)
    lin1, lin2 = model.layers[0], model.layers[2]
    lin1.b, lin2.b = rng.normal(size=5), rng.normal(size=3)
    x, dlogits = rng.normal(size=(4, 6)), rng.normal(size=(4, 3))
    params = [torch.tensor(a.copy(), requires_grad=True) for a in (lin1.W, lin1.b, lin2.W, lin2.b)]
    xt = torch.tensor(x, requires_grad=True)
    logits_t = torch.relu(xt @ params[0] + params[1]) @ params[2] + params[3]
    logits_t.backward(torch.tensor(dlogits))
    with forbid(*no_autograd, reason="Use your layers' backward."):
        logits = model.forward(x.copy())
        check_implemented(logits, "TwoLayerMLP(6, 5, 3).forward(x)")
        dx = model.backward(dlogits.copy())
    order = "Hint: forward goes through self.layers in order, backward through reversed(self.layers), each layer's output feeding the next."
    assert_close(
        np.asarray(logits, dtype=float),
        logits_t.detach().numpy(),
        name="TwoLayerMLP(6, 5, 3).forward(x) for x of shape (4, 6)",
        rtol=1e-10,
        atol=1e-12,
        hint=order,
    )
    check_implemented(dx, "TwoLayerMLP.backward(dlogits)")
    assert_close(
        np.asarray(dx, dtype=float),
        xt.grad.numpy(),
        name="TwoLayerMLP.backward(dlogits): the returned dx",
        rtol=1e-8,
        atol=1e-12,
        hint=order,
    )
    for name, (_, g), pt in zip(
        ["layer 0 (Linear 6->5): dW", "layer 0: db", "layer 2 (Linear 5->3): dW", "layer 2: db"],
        model.params_and_grads(),
        params,
        strict=True,
    ):
        assert_close(
            np.asarray(g, dtype=float),
            pt.grad.numpy(),
            name=f"TwoLayerMLP.backward: {name}",
            rtol=1e-8,
            atol=1e-12,
            hint=order,
        )
    before = [p.copy() for p, _ in model.params_and_grads()]
    grads = [g.copy() for _, g in model.params_and_grads()]
    sgd_step(model.params_and_grads(), 0.1)
    sign = "Hint: move against the gradient, param -= lr * grad, in place on the array (param = param - ... only rebinds the name)."
    for name, old, g, (p, _) in zip(
        ["W of layer 0", "b of layer 0", "W of layer 2", "b of layer 2"],
        before,
        grads,
        model.params_and_grads(),
        strict=True,
    ):
        assert_close(
            p,
            old - 0.1 * g,
            name=f"{name} after sgd_step(model.params_and_grads(), lr=0.1)",
            rtol=1e-12,
            atol=1e-12,
            hint=sign,
        )


# %%
def test_train_mlp_public(train_mlp, accuracy, rng_seed):
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    from shared.checks import check_implemented
    from shared.forbid import forbid

    digits = load_digits()
    X_tr, X_te, y_tr, y_te = train_test_split(
        digits.data / 16.0, digits.target, test_size=0.25, random_state=0, stratify=digits.target
    )
    with forbid(
        "torch.autograd.grad", "torch.autograd.backward", reason="Use your own backward pass."
    ):
        result = train_mlp(
            X_tr, y_tr, X_te, y_te, hidden=64, epochs=8, lr=0.05, batch_size=16, seed=rng_seed
        )
    check_implemented(result, "train_mlp(X_train, y_train, X_test, y_test, epochs=8)")
    model, history = result
    assert isinstance(history, dict) and all(
        len(history.get(k, [])) == 8 for k in ("loss", "train_acc", "val_acc")
    ), (
        f"history should hold 8 entries (one per epoch) under 'loss', 'train_acc' and 'val_acc'; got "
        f"{ {k: len(v) for k, v in history.items()} if isinstance(history, dict) else history!r}"
    )
    hint = (
        "Hint: each batch: forward, softmax_cross_entropy, backward, then sgd_step with param -= lr * grad (against the gradient); "
        "shuffle with rng.permutation each epoch."
    )
    assert history["loss"][-1] < history["loss"][0], (
        f"The training loss should fall over 8 epochs; it went {[round(v, 4) for v in history['loss']]}. {hint}"
    )
    acc = accuracy(model, X_te, y_te)
    assert acc >= 0.85, (
        f"After 8 epochs (hidden=64, lr=0.05, batch_size=16, seed {rng_seed}) the test accuracy is {acc:.3f}; it should be at least 0.85 "
        f"(the reference reaches about 0.95). Training loss per epoch: {[round(v, 3) for v in history['loss']]}. {hint}"
    )


# %%
""" # BEGIN TEST CONFIG
hidden: true
"""  # END TEST CONFIG


def test_mlp_hidden(TwoLayerMLP, sgd_step, train_mlp, accuracy, rng_seed):
    import numpy as np
    import torch
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    from shared.checks import assert_close, check_implemented
    from shared.forbid import forbid

    no_autograd = ("torch.autograd.grad", "torch.autograd.backward")
    rng = np.random.default_rng(61)
    model = TwoLayerMLP(3, 7, 4, rng=1)
    lin1, lin2 = model.layers[0], model.layers[2]
    lin1.b, lin2.b = rng.normal(size=7), rng.normal(size=4)
    x, dlogits = rng.normal(size=(1, 3)), rng.normal(size=(1, 4))
    params = [torch.tensor(a.copy(), requires_grad=True) for a in (lin1.W, lin1.b, lin2.W, lin2.b)]
    xt = torch.tensor(x, requires_grad=True)
    logits_t = torch.relu(xt @ params[0] + params[1]) @ params[2] + params[3]
    logits_t.backward(torch.tensor(dlogits))
    with forbid(*no_autograd, reason="Use your layers' backward."):
        logits = model.forward(x.copy())
        dx = model.backward(dlogits.copy())
    order = (
        "Hint: forward goes through self.layers in order, backward through reversed(self.layers)."
    )
    check_implemented(logits, "TwoLayerMLP(3, 7, 4).forward(x)")
    assert_close(
        np.asarray(logits, dtype=float),
        logits_t.detach().numpy(),
        name="TwoLayerMLP(3, 7, 4).forward(x) for one example",
        rtol=1e-10,
        atol=1e-12,
        hint=order,
    )
    assert_close(
        np.asarray(dx, dtype=float),
        xt.grad.numpy(),
        name="TwoLayerMLP(3, 7, 4).backward(dlogits): dx for one example",
        rtol=1e-8,
        atol=1e-12,
        hint=order,
    )
    p, g = np.ones(3), np.array([1.0, -2.0, 0.5])
    sgd_step([(p, g)], 0.5)
    assert np.allclose(p, [0.5, 2.0, 0.75]), (
        f"sgd_step([(ones(3), [1, -2, 0.5])], lr=0.5) should leave the parameter at [0.5, 2.0, 0.75], got {p}. "
        "Hint: move against the gradient, param -= lr * grad, in place."
    )

    digits = load_digits()
    X_tr, X_te, y_tr, y_te = train_test_split(
        digits.data / 16.0, digits.target, test_size=0.25, random_state=0, stratify=digits.target
    )
    with forbid(*no_autograd, reason="Use your own backward pass."):
        model, history = train_mlp(
            X_tr, y_tr, X_te, y_te, hidden=32, epochs=6, lr=0.05, batch_size=12, seed=rng_seed + 7
        )
    assert len(history["loss"]) == 6 and len(history["val_acc"]) == 6, (
        "train_mlp(epochs=6) should record 6 entries per history list"
    )
    acc = accuracy(model, X_te, y_te)
    assert acc >= 0.8, (
        f"train_mlp(hidden=32, epochs=6, lr=0.05, batch_size=12) reaches a test accuracy of {acc:.3f}; it should be at least 0.8. "
        "Hint: use the hidden size and batch size you are given; param -= lr * grad."
    )
    assert abs(history["val_acc"][-1] - acc) < 1e-12, (
        f"history['val_acc'][-1] = {history['val_acc'][-1]} should be the validation accuracy after the last epoch, {acc}."
    )


# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [markdown]
# Now the full run: 30 epochs. Each takes a fraction of a second on a laptop CPU.

# %% tags=["otter_ignore"]
start = time.perf_counter()
mlp, history = train_mlp(
    X_train, y_train, X_test, y_test, hidden=64, epochs=30, lr=0.05, batch_size=16, seed=rng_seed
)
seconds = time.perf_counter() - start
print(f"test accuracy {accuracy(mlp, X_test, y_test):.3f} after 30 epochs, in {seconds:.1f} s")
fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
plot_curves(
    {"train": history["loss"]}, ax=axes[0], ylabel="cross-entropy", title="training loss", logy=True
)
plot_curves(
    {"train": history["train_acc"], "test": history["val_acc"]},
    ax=axes[1],
    ylabel="accuracy",
    title="accuracy",
)
plt.tight_layout()
plt.show()

# %% [markdown]
# ## Wrapping up
#
# You computed a backward pass by hand, turned the delta rules into layers, checked them three
# ways (by hand, with finite differences, against `torch.autograd`), and trained a digit
# classifier to about 97 % with nothing but NumPy. `loss.backward()` in PyTorch does exactly
# what your `backward` methods do, for every operation it knows, recorded automatically during
# the forward pass. From the next assignment on you may use it with a clear conscience.
#
# Before you submit, run the whole notebook from the top (*Kernel → Restart & Run All*) and make
# sure every `grader.check` passes.
