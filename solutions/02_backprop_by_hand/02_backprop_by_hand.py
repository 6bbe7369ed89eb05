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
    from shared.testing.backprop_by_hand import HAND_KEYS, check_rules, forward_rules, hand_values

    values = hand_values(hand, HAND_KEYS)
    check_rules(values, forward_rules(values))


# %%
""" # BEGIN TEST CONFIG
hidden: true
"""  # END TEST CONFIG


def test_hand_loss_and_output_delta_hidden(hand):
    from grader_only.hand_rules import LOSS_KEYS, loss_rules
    from shared.testing.backprop_by_hand import check_rules, hand_values

    values = hand_values(hand, LOSS_KEYS)
    check_rules(values, loss_rules(values))


# %%
""" # BEGIN TEST CONFIG
hidden: true
"""  # END TEST CONFIG


def test_hand_hidden_deltas_hidden(hand):
    from grader_only.hand_rules import DELTA_KEYS, delta_rules
    from shared.testing.backprop_by_hand import check_rules, hand_values

    values = hand_values(hand, DELTA_KEYS)
    check_rules(values, delta_rules(values))


# %%
""" # BEGIN TEST CONFIG
hidden: true
"""  # END TEST CONFIG


def test_hand_output_gradients_hidden(hand):
    from grader_only.hand_rules import OUTPUT_GRAD_KEYS, output_gradient_rules
    from shared.testing.backprop_by_hand import check_rules, hand_values

    values = hand_values(hand, OUTPUT_GRAD_KEYS)
    check_rules(values, output_gradient_rules(values))


# %%
""" # BEGIN TEST CONFIG
hidden: true
"""  # END TEST CONFIG


def test_hand_hidden_gradients_hidden(hand):
    from grader_only.hand_rules import HIDDEN_GRAD_KEYS, hidden_gradient_rules
    from shared.testing.backprop_by_hand import check_rules, hand_values

    values = hand_values(hand, HIDDEN_GRAD_KEYS)
    check_rules(values, hidden_gradient_rules(values))


# %%
""" # BEGIN TEST CONFIG
hidden: true
"""  # END TEST CONFIG


def test_hand_update_hidden(hand):
    from grader_only.hand_rules import UPDATE_KEYS, update_rules
    from shared.testing.backprop_by_hand import check_rules, hand_values

    values = hand_values(hand, UPDATE_KEYS)
    check_rules(values, update_rules(values))

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
# `self.db` (same shapes as `self.W` and `self.b`). Use NumPy only, in float64 (NumPy's
# default): the comparison is at float64 precision.
#
# The tests copy random weights into your layer and into PyTorch, run both forward and backward
# in float64 on random batches, and compare your output, `dx`, `dW` and `db` with
# `torch.autograd`: an entry passes if it is within $10^{-8}$ of torch's value relative to it,
# plus $10^{-10}$ times the largest entry (so that correct formulas that round differently, such
# as `1 - out**2` and `1 / np.cosh(x)**2` for tanh, both pass). The activations' inputs include
# entries exactly 0, where ReLU's derivative must be 0. A failure names the gradient and the
# layer, the largest relative error and where it occurs, and a hint when the numbers show a known
# slip. Hidden tests use other shapes, a batch of one and square weight matrices, and call
# `forward` twice before `backward` (backward must use the latest forward's cache).

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

    from shared.testing.backprop_by_hand import activation_input, check_activation, check_linear

    check_linear(Linear, n=4, d_in=3, d_out=5, seed=0)
    rng = np.random.default_rng(1)
    x, dout = activation_input(rng, (3, 4), scale=2.0), rng.normal(size=(3, 4))
    for layer, kind in [(Sigmoid, "Sigmoid"), (Tanh, "Tanh"), (ReLU, "ReLU")]:
        check_activation(layer, kind, x, dout)


# %%
""" # BEGIN TEST CONFIG
hidden: true
"""  # END TEST CONFIG


def test_layers_hidden(Linear, Sigmoid, Tanh, ReLU):
    import numpy as np

    from shared.testing.backprop_by_hand import activation_input, check_activation, check_linear

    for seed, (n, d_in, d_out) in [(11, (7, 6, 2)), (12, (1, 4, 4)), (13, (9, 3, 3))]:
        check_linear(Linear, n, d_in, d_out, seed, refresh=True)
    rng = np.random.default_rng(14)
    for shape in [(5, 2), (1, 7), (2, 3, 4)]:
        x, dout = activation_input(rng, shape, scale=3.0), rng.normal(size=shape)
        for layer, kind in [(Sigmoid, "Sigmoid"), (Tanh, "Tanh"), (ReLU, "ReLU")]:
            check_activation(layer, kind, x, dout)

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
#   single number, a Python or NumPy float (the mean over **all** entries), and `dpred` of the
#   shape of `pred`;
# * `softmax_cross_entropy(logits, labels)`: `logits (N, C)`, integer `labels (N,)`; returns
#   `(loss, dlogits)` with `loss` a single number (the mean over the batch) and `dlogits (N, C)`
#   $= (\mathrm{softmax} - \mathrm{onehot})/N$. It must give finite, correct values for logits
#   around $\pm 1000$.
#
# The tests compare both losses and gradients with PyTorch (`F.mse_loss`, `F.cross_entropy`,
# autograd) in float64 on random inputs, including logits of size 1000 (tolerance $10^{-10}$
# relative for the MSE, $10^{-9}$ for the cross-entropy loss and $10^{-8}$ for its gradient).

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

    from shared.testing.backprop_by_hand import check_cross_entropy, check_mse

    rng = np.random.default_rng(1)
    check_mse(mse_loss, rng.normal(size=(4, 3)), rng.normal(size=(4, 3)))
    cases = [
        ("random logits of shape (4, 5)", rng.normal(scale=3.0, size=(4, 5)), [0, 3, 3, 1]),
        ("logits around +-1000", [[1000.0, -1000.0, 999.0], [-1000.0, -999.0, -1000.5]], [2, 0]),
    ]
    for what, logits, labels in cases:
        check_cross_entropy(softmax_cross_entropy, np.array(logits), np.array(labels), what)


# %%
""" # BEGIN TEST CONFIG
hidden: true
"""  # END TEST CONFIG


def test_losses_hidden(mse_loss, softmax_cross_entropy):
    import numpy as np

    from shared.testing.backprop_by_hand import check_cross_entropy, check_mse

    rng = np.random.default_rng(21)
    for shape in [(7,), (2, 3, 2), (1, 1)]:
        check_mse(mse_loss, rng.normal(size=shape), rng.normal(size=shape))
    big = rng.normal(scale=400.0, size=(6, 4))
    big[0] = [1000.0, 1000.0, -1000.0, 0.0]
    cases = [
        ("random logits of shape (9, 7)", rng.normal(scale=2.0, size=(9, 7)), rng.integers(0, 7, 9)),
        ("one example with 3 classes", np.array([[0.5, -1.5, 2.0]]), np.array([1])),
        ("large logits of shape (6, 4)", big, np.array([2, 0, 1, 3, 3, 0])),
    ]
    for what, logits, labels in cases:
        check_cross_entropy(softmax_cross_entropy, logits, labels, what)

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
# do not accept a call to it. They check your gradient against exact derivatives, with a
# tolerance of ten times the centred difference's own truncation and round-off error for the
# `eps` used (a one-sided difference is far outside it); that `x` is exactly restored and that
# closures work. `gradient_check` is run on layers the tests bring (correct ones, refereed by
# PyTorch, and ones with a planted bug), not on your q2 layers, so a mistake in q2 costs only q2:
# every correct layer must give errors below a threshold derived from the input (at least
# $10^{-6}$, stated in the message; the inputs are chosen so that no gradient entry is near 0),
# and the planted bug an error above $10^{-2}$.

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

    from shared.testing.backprop_by_hand import (
        check_numerical_gradient,
        check_numerical_gradient_closure,
    )

    rng = np.random.default_rng(2)
    check_numerical_gradient(numerical_gradient, "cubic_sine", rng.normal(size=(3, 4)), eps=1e-4)
    check_numerical_gradient_closure(numerical_gradient, rng.normal(size=(2, 3)), rng.normal(size=3))


# %%
def test_relative_error_and_gradient_check_public(relative_error, gradient_check):
    import numpy as np

    from shared.testing.backprop_by_hand import (
        check_gradient_check,
        check_relative_error,
        gradient_check_case,
    )

    check_relative_error(relative_error, np.array([1.0, 2.0, 3.0]), np.array([1.0, 2.2, 3.0]), 0.2 / 4.2)
    check_relative_error(relative_error, np.zeros(3), np.zeros(3), 0.0)
    # 2-D, signs, and the maximum over entries: |1 - 1.5| / 2.5 = 0.2 beats 1 / 7 and 0 / 4.
    check_relative_error(relative_error, np.array([[1.0, -2.0], [0.5, 4.0]]), np.array([[1.5, -2.0], [0.5, 3.0]]), 0.2)
    # Opposite signs: |a + b| = 0 but |a| + |b| = 2, so the error is 2 / 2 = 1.
    check_relative_error(relative_error, np.array([-1.0, 2.0]), np.array([1.0, 2.0]), 1.0)
    check_gradient_check(gradient_check, gradient_check_case("ElementwiseAffine", (5, 3), seed=0))
    buggy = gradient_check_case("ElementwiseAffine", (5, 3), seed=0, bug="db_mean")
    check_gradient_check(gradient_check, buggy, bug_in="db")


# %%
""" # BEGIN TEST CONFIG
hidden: true
"""  # END TEST CONFIG


def test_numerical_gradient_hidden(numerical_gradient):
    import numpy as np

    from shared.testing.backprop_by_hand import (
        check_numerical_gradient,
        check_numerical_gradient_closure,
    )

    rng = np.random.default_rng(31)
    check_numerical_gradient(numerical_gradient, "exp_quartic", rng.normal(size=(2, 3, 2)), eps=1e-4)
    check_numerical_gradient(numerical_gradient, "sine", np.array([0.3]), eps=None)
    check_numerical_gradient_closure(numerical_gradient, rng.normal(size=(3, 2)), rng.normal(size=2))


# %%
""" # BEGIN TEST CONFIG
hidden: true
"""  # END TEST CONFIG


def test_gradient_check_hidden(gradient_check):
    from shared.testing.backprop_by_hand import check_gradient_check, gradient_check_case

    for kind in ["Linear", "Sigmoid", "Tanh", "ReLU"]:
        check_gradient_check(gradient_check, gradient_check_case(kind, (6, 4), seed=41))
    buggy = gradient_check_case("Sigmoid", (3, 5), seed=42, bug="no_derivative")
    check_gradient_check(gradient_check, buggy, bug_in="dx")
    buggy = gradient_check_case("Linear", (4, 3), seed=43, bug="db_mean")
    check_gradient_check(gradient_check, buggy, bug_in="db")

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [markdown]
# Now use your checker on your own layers: every error should be tiny, between about $10^{-10}$
# and $10^{-7}$. (Gradient entries close to 0 make the relative error larger: the round-off of
# the finite differences does not shrink with the entry it estimates.)

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
# `torch.autograd` and check that the inputs are left unchanged; for `trask_train` they check
# `errors[0]` against the weights drawn as stated, and train on the table above until the error
# has fallen below 0.1 and the rounded predictions equal the targets.

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

    from shared.testing.backprop_by_hand import XOR_X, XOR_Y, check_sigmoid_prime, check_trask_step

    check_sigmoid_prime(sigmoid_prime_from_output, np.array([-2.0, 0.0, 2.0]))
    rng = np.random.default_rng(4)
    syn0, syn1 = 2 * rng.random((3, 4)) - 1, 2 * rng.random((4, 1)) - 1
    check_trask_step(trask_step, XOR_X, XOR_Y, syn0, syn1)


# %%
def test_trask_train_public(trask_train, rng_seed):
    from shared.testing.backprop_by_hand import check_trask_train

    check_trask_train(trask_train, hidden=4, iterations=2000, seed=rng_seed, max_error=0.1)


# %%
""" # BEGIN TEST CONFIG
hidden: true
"""  # END TEST CONFIG


def test_trask_hidden(sigmoid_prime_from_output, trask_step, trask_train):
    import numpy as np

    from shared.testing.backprop_by_hand import check_sigmoid_prime, check_trask_step, check_trask_train

    check_sigmoid_prime(sigmoid_prime_from_output, np.random.default_rng(51).normal(scale=3.0, size=(2, 5)))
    rng = np.random.default_rng(52)
    X, y = rng.normal(size=(6, 5)), rng.random((6, 1))
    check_trask_step(trask_step, X, y, rng.normal(size=(5, 3)), rng.normal(size=(3, 1)))
    check_trask_train(trask_train, hidden=6, iterations=1500, seed=77, max_error=0.15)

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
# (copied weights, float64), then train for 8 epochs on the digits and require a test accuracy of
# at least 85 % (the reference reaches about 95 % after 8 epochs and 97 % after 30), a `"loss"`
# history of epoch means and a last `"val_acc"` equal to the final accuracy. Question 6 is graded
# on its own: the forward/backward check puts PyTorch-refereed `Linear` and `ReLU` layers in
# place of yours, and the training run uses your `Linear`, `ReLU` and `softmax_cross_entropy`
# only where they agree with PyTorch (correct ones otherwise), so a mistake in q2 or q3 costs
# only that question.

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
def test_mlp_and_sgd_public(env, TwoLayerMLP, sgd_step):
    from shared.testing.backprop_by_hand import check_mlp, check_sgd_step

    check_mlp(TwoLayerMLP, 6, 5, 3, n=4, seed=6, env=env)
    check_sgd_step(sgd_step, seed=6, shapes=[(6, 5), (5,), (5, 3), (3,)], lr=0.1)


# %%
def test_train_mlp_public(env, train_mlp, accuracy, rng_seed):
    from shared.testing.backprop_by_hand import check_train_mlp

    check_train_mlp(
        train_mlp, accuracy, env=env, hidden=64, epochs=8, lr=0.05, batch_size=16, seed=rng_seed, min_accuracy=0.85
    )


# %%
""" # BEGIN TEST CONFIG
hidden: true
"""  # END TEST CONFIG


def test_mlp_hidden(env, TwoLayerMLP, sgd_step, train_mlp, accuracy, rng_seed):
    from shared.testing.backprop_by_hand import check_mlp, check_sgd_step, check_train_mlp

    check_mlp(TwoLayerMLP, 3, 7, 4, n=1, seed=61, env=env)
    check_sgd_step(sgd_step, seed=62, shapes=[(3,), (2, 2)], lr=0.5)
    check_train_mlp(
        train_mlp, accuracy, env=env, hidden=32, epochs=6, lr=0.05, batch_size=12, seed=rng_seed + 7, min_accuracy=0.8
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
