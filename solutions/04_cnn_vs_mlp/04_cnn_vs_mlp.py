# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [raw]
# # ASSIGNMENT CONFIG
# name: 04_cnn_vs_mlp
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
# # Assignment 04: CNN vs MLP, or why structure beats size
#
# The lecture's main claim about architectures is bold: **a network that encodes what we know
# about the data needs fewer parameters and generalises better.** Its evidence was a pair of
# classifiers with almost the same number of parameters, a convolutional network (421,642
# parameters) and a fully connected one (418,666): the CNN misclassified 18.1% of the test
# images, the fully connected network 47.1%.
#
# In this assignment you rebuild that experiment on a small scale that trains in seconds on a
# laptop CPU, and then open the box to see *why* it works. What do we know about images? That
# a digit is still the same digit when it moves a few pixels (translation), and that what
# matters is made of nearby pixels (locality). A convolution builds both in: each output looks
# only at a small patch (a *local receptive field*) and the same filter is used at every
# position (*shared weights*).
#
# **What you will do**
#
# | Part | You implement | Points |
# |---|---|---|
# | q1 | the lecture's pair on 28×28 images: `make_lecture_cnn`, `make_lecture_mlp` | 3 |
# | q2 | a CNN and an MLP for any canvas, `make_cnn`, `make_mlp`, at the same parameter budget | 4 |
# | q3 | the training loop: `train_one_epoch` and `evaluate` | 5 |
# | q4 | the data loaders and the experiment driver: `make_loaders`, `run_experiment` | 4 |
# | q5 | the experiment: CNN vs MLP on shifted and on centred digits | 3 |
# | q6 | translation equivariance: `shift` and `equivariance_gap` | 3 |
# | q7 | a convolution is an MLP on patches: `extract_patches` and `linear_to_conv` | 4 |
#
# **How to work.** Replace every `...` with your code. After each question, run the
# `grader.check("qN")` cell below it: it runs the public tests and tells you what it called,
# what it expected and what came back. The autograder also runs hidden tests with other inputs
# (canvas sizes, shapes, seeds) and evaluates your trained networks on digits this notebook never
# loads, so write general code rather than code tuned to the public examples.
#
# Everything graded runs in well under a minute on a laptop CPU; the picture cells and the
# optional full-size experiment at the end take a little longer. Nothing here hard-codes a
# device: `shared.device()` picks a GPU if you have one and the CPU otherwise.

# %%
import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

import shared
from shared.digits import load_digits_data
from shared.plotting import image_grid, plot_curves
from shared.timing import stopwatch
from shared.training import make_loader, predict, progress_bar

rng_seed = 0

# %% [markdown]
# ## 0. The data: shifted digits
#
# We use scikit-learn's handwritten digits: 1,797 grey-scale images of $8\times 8$ pixels,
# labels 0 to 9. To make position matter, `load_digits_data` pastes each digit at a **random
# position** on a larger blank canvas ($16\times 16$ here, so each digit can sit at any of
# $9 \times 9 = 81$ places). With `shifted=False` every digit is **centred** instead.
#
# ```python
# X, y = load_digits_data("train", canvas=16, shifted=True)   # X (1200, 1, 16, 16) float32 in [0, 1]
#                                                              # y (1200,) int64 labels 0..9
# ```
#
# The split is fixed: 1,200 training digits and 300 test digits. (A third split of 297 digits
# exists for the autograder only: it checks your trained networks on digits this notebook never
# sees.) Placements are fixed too, so everyone trains and tests on exactly the same images.

# %% tags=["otter_ignore"]
X_show, y_show = load_digits_data("train", canvas=16, shifted=True)
X_centred_show, _ = load_digits_data("train", canvas=16, shifted=False)
image_grid(X_show[:16], labels=y_show[:16].tolist(), ncols=8).suptitle("shifted digits (16×16)")
image_grid(X_centred_show[:8], labels=y_show[:8].tolist(), ncols=8).suptitle("the same digits, centred")
plt.show()

# %% [markdown]
# ## 1. Two models, one budget
#
# ### Counting parameters
# You wrote `count_parameters` in assignment 01; here it is again, so that every count in this
# notebook uses the same definition (trainable scalars, weights and biases alike):

# %%
def count_parameters(module):
    """Number of trainable scalars (parameters with requires_grad=True) in `module`, as an int."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


# %% [markdown]
# A `nn.Linear(n_in, n_out)` has $(n_\text{in} + 1)\,n_\text{out}$ parameters. A
# `nn.Conv2d(c_in, c_out, k)` has one $c_\text{in}\times k\times k$ filter and one bias per output
# channel, $(c_\text{in} k^2 + 1)\,c_\text{out}$ parameters, **whatever the size of the image**:
# that is weight sharing. Pooling, ReLU, dropout and flattening have none.
#
# With `padding=1`, a $3\times 3$ convolution keeps the height and width (the output side is
# $\lfloor (M + 2P - K)/S \rfloor + 1 = M$ for $P = 1$, $K = 3$, $S = 1$), and a $2\times 2$
# max-pool halves them, rounding down.
#
# ### The lecture's pair, on 28×28 images
# The lecture compared these two networks on $28\times 28$ images (MNIST's size):
#
# | CNN | shape after the layer | MLP | shape after the layer |
# |---|---|---|---|
# | input | $1\times 28\times 28$ | input | $1\times 28\times 28$ |
# | `Conv2d(1, 32, 3, padding=1)`, ReLU | $32\times 28\times 28$ | `Flatten()` | $784$ |
# | `MaxPool2d(2)` | $32\times 14\times 14$ | `Linear(784, 512)`, ReLU | $512$ |
# | `Conv2d(32, 64, 3, padding=1)`, ReLU | $64\times 14\times 14$ | `Linear(512, 32)`, ReLU | $32$ |
# | `MaxPool2d(2)` | $64\times 7\times 7$ | `Linear(32, 10)` | $10$ |
# | `Flatten()` | $3136$ | | |
# | `Linear(3136, 128)`, ReLU, `Dropout(0.3)` | $128$ | | |
# | `Linear(128, 10)` | $10$ | | |
#
# Both end with 10 raw scores (**logits**), one per class, and no softmax: the loss
# `nn.CrossEntropyLoss` applies log-softmax itself.

# %% [raw]
# # BEGIN QUESTION
# name: q1
# points: 3

# %% [markdown]
# **Question 1 (3 points).** Implement `make_lecture_cnn()` and `make_lecture_mlp()`, returning the
# two networks of the table as `nn.Sequential` models (or any `nn.Module`) that map a batch of
# shape `(N, 1, 28, 28)` to logits of shape `(N, 10)`. Work out the two parameter counts by hand
# first; the tests check that they come to **421,642** and **418,666** exactly, that the outputs
# have the right shape, and (hidden) that your layers compute what the table says.

# %% [raw]
# # BEGIN SOLUTION

# %%
def make_lecture_cnn():
    """The lecture's CNN: (N, 1, 28, 28) -> logits (N, 10), 421,642 parameters."""
    # BEGIN SOLUTION
    return nn.Sequential(
        nn.Conv2d(1, 32, kernel_size=3, padding=1), nn.ReLU(), nn.MaxPool2d(2),  # 32 x 14 x 14
        nn.Conv2d(32, 64, kernel_size=3, padding=1), nn.ReLU(), nn.MaxPool2d(2),  # 64 x 7 x 7
        nn.Flatten(),
        nn.Linear(64 * 7 * 7, 128), nn.ReLU(), nn.Dropout(0.3),
        nn.Linear(128, 10),
    )
    # END SOLUTION


def make_lecture_mlp():
    """The lecture's MLP: (N, 1, 28, 28) -> logits (N, 10), 418,666 parameters."""
    # BEGIN SOLUTION
    return nn.Sequential(
        nn.Flatten(),
        nn.Linear(784, 512), nn.ReLU(),
        nn.Linear(512, 32), nn.ReLU(),
        nn.Linear(32, 10),
    )
    # END SOLUTION


# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_lecture_pair_public(make_lecture_cnn, make_lecture_mlp):
    import torch
    from torch import nn

    from shared.checks import assert_shape, check_implemented

    torch.manual_seed(0)
    x = torch.rand(3, 1, 28, 28)
    for name, make, expected, hint in [
        ("make_lecture_cnn()", make_lecture_cnn, 421_642,
         "Hint: conv 1->32 (3x3): 320, conv 32->64 (3x3): 18,496, Linear(64*7*7, 128): 401,536, Linear(128, 10): 1,290."),
        ("make_lecture_mlp()", make_lecture_mlp, 418_666,
         "Hint: Linear(784, 512): 401,920, Linear(512, 32): 16,416, Linear(32, 10): 330."),
    ]:
        model = make()
        check_implemented(model, name)
        assert isinstance(model, nn.Module), f"{name} should return an nn.Module, got {type(model).__name__}"
        n = sum(p.numel() for p in model.parameters())
        assert n == expected, f"{name} has {n:,} parameters instead of {expected:,}. {hint} Keep every bias."
        model.eval()
        try:
            out = model(x)
        except RuntimeError as err:
            raise AssertionError(
                f"{name}(x) for x of shape (3, 1, 28, 28) raised: {str(err).splitlines()[0]}. Hint: with "
                "padding=1 each 3x3 convolution keeps 28x28 (then 14x14), and each MaxPool2d(2) halves it, so "
                "the flattened features have 64 * 7 * 7 = 3136 entries."
            ) from None
        assert_shape(out, (3, 10), f"{name}(x) for x of shape (3, 1, 28, 28)", hint="Return one logit per class, (N, 10).")
    cnn = make_lecture_cnn()
    rates = [m.p for m in cnn.modules() if isinstance(m, nn.Dropout)]
    assert rates == [0.3], f"The lecture's CNN has one nn.Dropout(0.3) (after the ReLU of its 128-unit layer); yours has dropout rates {rates}."
    assert not any(isinstance(m, (nn.Softmax, nn.LogSoftmax)) for m in cnn.modules()), (
        "The network should end with logits, not probabilities. Hint: drop the softmax layer; nn.CrossEntropyLoss applies log-softmax itself."
    )

# %%
""" # BEGIN TEST CONFIG
hidden: true
""" # END TEST CONFIG
def test_lecture_pair_hidden(make_lecture_cnn, make_lecture_mlp):
    import torch
    from torch import nn

    from shared.checks import assert_close, check_implemented

    oracles = {
        "make_lecture_cnn()": nn.Sequential(
            nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(3136, 128), nn.ReLU(), nn.Dropout(0.3), nn.Linear(128, 10)),
        "make_lecture_mlp()": nn.Sequential(
            nn.Flatten(), nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 32), nn.ReLU(), nn.Linear(32, 10)),
    }
    x = torch.rand(5, 1, 28, 28, generator=torch.Generator().manual_seed(404), dtype=torch.float64)
    for (name, oracle), make in zip(oracles.items(), [make_lecture_cnn, make_lecture_mlp], strict=True):
        torch.manual_seed(17)
        model = make()
        check_implemented(model, name)
        by_shape = {tuple(p.shape): p for p in model.parameters()}
        want = [tuple(p.shape) for p in oracle.parameters()]
        assert sorted(by_shape) == sorted(want), (
            f"{name} should have parameter tensors of shapes {want}, got {[tuple(p.shape) for p in model.parameters()]}. "
            "Hint: follow the table layer by layer, biases included."
        )
        with torch.no_grad():
            for q in oracle.parameters():
                q.copy_(by_shape[tuple(q.shape)])
        model.double().eval()
        oracle.double().eval()
        with torch.no_grad():
            assert_close(model(x), oracle(x), name=f"{name}(x) in eval mode, compared with the table's layers holding your weights",
                         rtol=1e-9, atol=1e-10, hint="Hint: Conv2d, ReLU, MaxPool2d(2) twice (padding=1), then Flatten and the Linear head, in the table's order; no softmax at the end.")
        with torch.device("meta"):
            on_meta = make()
        devices = {str(p.device) for p in on_meta.parameters()}
        assert devices == {"meta"}, (
            f"Built under `with torch.device('meta')`, {name} put parameters on {sorted(devices)}. "
            "Hint: do not hard-code a device when you build a model; move it later with model.to(device)."
        )
        out = on_meta(torch.zeros(2, 1, 28, 28, device="meta"))
        assert tuple(out.shape) == (2, 10), f"{name} on the meta device should return shape (2, 10), got {tuple(out.shape)}"

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [markdown]
# Where do the parameters sit? Almost all of the CNN's are in its first fully connected layer,
# and almost all of the MLP's in its first layer: the convolutions themselves are cheap.

# %% tags=["otter_ignore"]
for title, model in [("lecture CNN", make_lecture_cnn()), ("lecture MLP", make_lecture_mlp())]:
    print(f"{title}: {count_parameters(model):,} parameters")
    for name, layer in model.named_children():
        if count_parameters(layer):
            print(f"    layer {name:>2}  {str(layer):<55} {count_parameters(layer):>9,}")

# %% [markdown]
# ### A pair for our 16×16 canvas
# Our images are smaller, so we build the same two designs for a canvas of any side `canvas`:
#
# * **CNN**: `Conv2d(1, c1, 3, padding=1)` → ReLU → `MaxPool2d(2)` → `Conv2d(c1, c2, 3, padding=1)`
#   → ReLU → `MaxPool2d(2)` → `Flatten()` → `Linear(·, n_classes)`. Each pool halves the side with
#   rounding down, so the flattened size is $c_2 \cdot \lfloor \text{canvas}/4 \rfloor^2$: for a
#   $16\times16$ canvas $32\cdot 4\cdot 4 = 512$, for $20\times 20$ it is $32 \cdot 5 \cdot 5$.
# * **MLP**: `Flatten()` → `Linear(canvas², h1)` → ReLU → … → `Linear(h_last, n_classes)`, one
#   Linear + ReLU per entry of the tuple `hidden`, then the output layer.
#
# With `channels=(16, 32)` on the $16\times 16$ canvas the CNN has
# $160 + 4{,}640 + 5{,}130 = 9{,}930$ parameters. A fair comparison gives the MLP the same budget.

# %% [raw]
# # BEGIN QUESTION
# name: q2
# points: 4

# %% [markdown]
# **Question 2 (4 points).**
#
# * `make_cnn(canvas=16, channels=(16, 32), n_classes=10)` and
#   `make_mlp(canvas=16, hidden=(40,), n_classes=10)` as described above. Both map
#   `(N, 1, canvas, canvas)` to logits `(N, n_classes)`, for **any** canvas side of at least 4
#   (compute the flatten size from `canvas`, do not type 512). Do not choose a device inside
#   them.
# * Set `mlp_hidden` (a tuple of hidden widths) so that `make_mlp(hidden=mlp_hidden)` has a
#   parameter count within 10% of `make_cnn()`'s 9,930.
#
# The tests build your models for several canvas sizes, check the output shapes and the
# parameter counts against the formulas, compare the outputs with reference layers holding your
# weights, check the budget, and build your models on PyTorch's `meta` device (a device with no
# data) to make sure nothing in them is tied to the CPU or a GPU.

# %% [raw]
# # BEGIN SOLUTION

# %%
def make_cnn(canvas=16, channels=(16, 32), n_classes=10):
    """[conv 3x3 (padding 1) -> ReLU -> max-pool 2] x 2 -> flatten -> linear.

    Input (N, 1, canvas, canvas), output logits (N, n_classes).
    """
    c1, c2 = channels
    # BEGIN SOLUTION
    side = canvas // 4  # each 2x2 max-pool halves the side, rounding down
    return nn.Sequential(
        nn.Conv2d(1, c1, kernel_size=3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(c1, c2, kernel_size=3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(c2 * side * side, n_classes),
    )
    # END SOLUTION


def make_mlp(canvas=16, hidden=(40,), n_classes=10):
    """Flatten -> [linear -> ReLU] per hidden width -> linear.

    Input (N, 1, canvas, canvas), output logits (N, n_classes).
    """
    # BEGIN SOLUTION
    layers = [nn.Flatten()]
    width = canvas * canvas
    for h in hidden:
        layers += [nn.Linear(width, h), nn.ReLU()]
        width = h
    layers.append(nn.Linear(width, n_classes))
    return nn.Sequential(*layers)
    # END SOLUTION


mlp_hidden = (40,)  # SOLUTION
cnn_params = count_parameters(make_cnn())
mlp_params = count_parameters(make_mlp(hidden=mlp_hidden))
print(f"CNN: {cnn_params:,} parameters, MLP {mlp_hidden}: {mlp_params:,} parameters ({mlp_params / cnn_params:.3f} x)")

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_make_cnn_public(make_cnn):
    import torch
    from torch import nn

    from shared.checks import assert_shape, check_implemented

    flatten_hint = ("Hint: compute the flatten size from `canvas`: two MaxPool2d(2) leave a side of canvas // 4, "
                    "so the head is nn.Linear(c2 * (canvas // 4) ** 2, n_classes).")
    torch.manual_seed(0)
    for canvas, channels, n_classes in [(16, (16, 32), 10), (20, (6, 12), 10), (12, (4, 8), 3)]:
        call = f"make_cnn(canvas={canvas}, channels={channels}, n_classes={n_classes})"
        model = make_cnn(canvas=canvas, channels=channels, n_classes=n_classes)
        check_implemented(model, call)
        assert isinstance(model, nn.Module), f"{call} should return an nn.Module, got {type(model).__name__}"
        c1, c2 = channels
        side = canvas // 4
        expected = (9 * c1 + c1) + (9 * c1 * c2 + c2) + (c2 * side * side + 1) * n_classes
        n = sum(p.numel() for p in model.parameters())
        assert n == expected, (
            f"{call} has {n:,} parameters, expected {expected:,} = conv1 {10 * c1} + conv2 {9 * c1 * c2 + c2} "
            f"+ head {(c2 * side * side + 1) * n_classes}. {flatten_hint}"
        )
        try:
            out = model(torch.rand(2, 1, canvas, canvas))
        except RuntimeError as err:
            raise AssertionError(f"{call} fails on a batch of shape (2, 1, {canvas}, {canvas}): {str(err).splitlines()[0]}. {flatten_hint}") from None
        assert_shape(out, (2, n_classes), f"{call}(x) for x of shape (2, 1, {canvas}, {canvas})")
        assert not torch.allclose(out.sum(dim=1), torch.ones(2)), (
            f"The rows of {call}(x) sum to 1: the model outputs probabilities. Hint: return logits and drop the softmax; nn.CrossEntropyLoss applies log-softmax itself."
        )
    with torch.device("meta"):
        on_meta = make_cnn()
    devices = {str(p.device) for p in on_meta.parameters()}
    assert devices == {"meta"}, (
        f"Built under `with torch.device('meta')`, make_cnn() put parameters on {sorted(devices)}. "
        "Hint: do not hard-code a device inside the builder; move the model later with model.to(device)."
    )

# %%
def test_make_mlp_and_budget_public(make_mlp, make_cnn, mlp_hidden):
    import torch
    from torch import nn

    from shared.checks import assert_shape, check_implemented

    for canvas, hidden, n_classes in [(16, (40,), 10), (10, (7, 5), 3)]:
        call = f"make_mlp(canvas={canvas}, hidden={hidden}, n_classes={n_classes})"
        model = make_mlp(canvas=canvas, hidden=hidden, n_classes=n_classes)
        check_implemented(model, call)
        assert isinstance(model, nn.Module), f"{call} should return an nn.Module, got {type(model).__name__}"
        widths = [canvas * canvas, *hidden, n_classes]
        expected = sum((a + 1) * b for a, b in zip(widths[:-1], widths[1:], strict=True))
        n = sum(p.numel() for p in model.parameters())
        assert n == expected, (
            f"{call} has {n:,} parameters, expected {expected:,} for Linear layers {' -> '.join(map(str, widths))}. "
            "Hint: one Linear + ReLU per hidden width, then Linear(hidden[-1], n_classes); the input has canvas * canvas features."
        )
        out = model(torch.rand(3, 1, canvas, canvas))
        assert_shape(out, (3, n_classes), f"{call}(x) for x of shape (3, 1, {canvas}, {canvas})")
        relus = sum(isinstance(m, nn.ReLU) for m in model.modules())
        assert relus == len(hidden), f"{call} should have one ReLU per hidden layer ({len(hidden)}), found {relus}"
    with torch.device("meta"):
        on_meta = make_mlp()
    devices = {str(p.device) for p in on_meta.parameters()}
    assert devices == {"meta"}, (
        f"Built under `with torch.device('meta')`, make_mlp() put parameters on {sorted(devices)}. "
        "Hint: do not hard-code a device inside the builder; move the model later with model.to(device)."
    )
    check_implemented(mlp_hidden, "mlp_hidden")
    assert len(tuple(mlp_hidden)) >= 1, f"mlp_hidden should list at least one hidden width, got {mlp_hidden!r}"
    n_cnn = sum(p.numel() for p in make_cnn().parameters())
    n_mlp = sum(p.numel() for p in make_mlp(hidden=tuple(mlp_hidden)).parameters())
    assert abs(n_mlp - n_cnn) <= 0.1 * n_cnn, (
        f"make_mlp(hidden={tuple(mlp_hidden)}) has {n_mlp:,} parameters, make_cnn() {n_cnn:,}: the budgets differ by "
        f"{abs(n_mlp - n_cnn) / n_cnn:.1%}, more than 10%. Hint: on the 16x16 canvas one hidden layer of width h has "
        "(256 + 1) h + (h + 1) 10 = 267 h + 10 parameters; choose h so that this is within 10% of 9,930."
    )

# %%
""" # BEGIN TEST CONFIG
hidden: true
""" # END TEST CONFIG
def test_architectures_hidden(make_cnn, make_mlp):
    import torch
    from torch import nn

    from shared.checks import assert_close, check_implemented

    flatten_hint = ("Hint: compute the flatten size from `canvas`: two MaxPool2d(2) leave a side of canvas // 4, "
                    "so the head is nn.Linear(c2 * (canvas // 4) ** 2, n_classes).")
    gen = torch.Generator().manual_seed(808)
    for canvas, channels, n_classes in [(18, (5, 7), 4), (9, (3, 6), 2), (24, (2, 9), 11)]:
        call = f"make_cnn(canvas={canvas}, channels={channels}, n_classes={n_classes})"
        torch.manual_seed(canvas)
        model = make_cnn(canvas=canvas, channels=channels, n_classes=n_classes)
        check_implemented(model, call)
        c1, c2 = channels
        oracle = nn.Sequential(
            nn.Conv2d(1, c1, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(c1, c2, 3, padding=1), nn.ReLU(),
            nn.MaxPool2d(2), nn.Flatten(), nn.Linear(c2 * (canvas // 4) ** 2, n_classes))
        by_shape = {tuple(p.shape): p for p in model.parameters()}
        want = [tuple(p.shape) for p in oracle.parameters()]
        assert sorted(by_shape) == sorted(want), (
            f"{call} should have parameter tensors of shapes {want}, got {[tuple(p.shape) for p in model.parameters()]}. {flatten_hint}"
        )
        with torch.no_grad():
            for q in oracle.parameters():
                q.copy_(by_shape[tuple(q.shape)])
        x = torch.rand(3, 1, canvas, canvas, generator=gen, dtype=torch.float64)
        with torch.no_grad():
            assert_close(model.double()(x), oracle.double()(x), name=f"{call}(x), compared with reference layers holding your weights",
                         rtol=1e-9, atol=1e-10, hint="Hint: conv -> ReLU -> MaxPool2d(2), twice, then Flatten and one Linear; no softmax.")
    for canvas, hidden, n_classes in [(7, (13,), 4), (12, (9, 6, 5), 3)]:
        call = f"make_mlp(canvas={canvas}, hidden={hidden}, n_classes={n_classes})"
        model = make_mlp(canvas=canvas, hidden=hidden, n_classes=n_classes)
        check_implemented(model, call)
        widths = [canvas * canvas, *hidden, n_classes]
        layers = [nn.Flatten()]
        for a, b in zip(widths[:-1], widths[1:], strict=True):
            layers += [nn.Linear(a, b), nn.ReLU()]
        oracle = nn.Sequential(*layers[:-1])
        by_shape = {tuple(p.shape): p for p in model.parameters()}
        want = [tuple(p.shape) for p in oracle.parameters()]
        assert sorted(by_shape) == sorted(want), f"{call} should have parameter tensors of shapes {want}, got {[tuple(p.shape) for p in model.parameters()]}"
        with torch.no_grad():
            for q in oracle.parameters():
                q.copy_(by_shape[tuple(q.shape)])
        x = torch.rand(4, 1, canvas, canvas, generator=gen, dtype=torch.float64)
        with torch.no_grad():
            assert_close(model.double()(x), oracle.double()(x), name=f"{call}(x), compared with reference layers holding your weights",
                         rtol=1e-9, atol=1e-10, hint="Hint: Flatten, then Linear -> ReLU per hidden width, and a last Linear with no activation.")
    for call, make in [("make_cnn(canvas=16)", lambda: make_cnn(canvas=16)), ("make_mlp(canvas=16)", lambda: make_mlp(canvas=16))]:
        with torch.device("meta"):
            model = make()
        devices = {str(p.device) for p in model.parameters()}
        assert devices == {"meta"}, (
            f"Built under `with torch.device('meta')`, {call} put parameters on {sorted(devices)}. "
            "Hint: do not hard-code a device inside the builder; move the model later with model.to(device)."
        )
        out = model(torch.zeros(2, 1, 16, 16, device="meta"))
        assert tuple(out.shape) == (2, 10) and out.device.type == "meta", (
            f"{call} should run on any device: on the meta device it returned shape {tuple(out.shape)} on {out.device}. Hint: no .cpu() or .cuda() inside the model."
        )

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [markdown]
# ## 2. The training loop
#
# Every PyTorch training loop has the same skeleton. One **epoch** visits every mini-batch
# of the training set once; for each batch:
#
# 1. move the batch to the model's device: `x, y = x.to(device), y.to(device)`;
# 2. `optimizer.zero_grad()`: `backward()` *adds* into `p.grad`, so the previous batch's
#    gradients must be cleared first;
# 3. forward: `logits = model(x)` and `loss = loss_fn(logits, y)`;
# 4. backward: `loss.backward()` fills `p.grad` for every parameter;
# 5. `optimizer.step()` updates the parameters;
# 6. keep a **running loss** for reporting: `loss.item()` is a Python float, the batch's *mean*
#    loss, so `loss.item() * len(y)` is its sum over the batch.
#
# Two switches matter as soon as a model has dropout (or batch normalisation), layers that behave
# differently when training and when predicting:
#
# * `model.train()` before training: dropout zeroes a random fraction of activations (and
#   rescales the rest);
# * `model.eval()` before evaluating: dropout lets everything through, so predictions are
#   deterministic and use the whole network.
#
# And evaluation runs inside `with torch.no_grad():`, so that PyTorch records no graph: faster,
# less memory, and no way for evaluation to change the model.
#
# Long loops are nicer with a progress bar. `shared.training.progress_bar(loader, enabled=progress)`
# wraps any iterable in a [tqdm](https://tqdm.github.io) bar when `enabled` is true and returns it
# untouched (printing nothing) otherwise.

# %% [raw]
# # BEGIN QUESTION
# name: q3
# points: 5

# %% [markdown]
# **Question 3 (5 points).** Implement
#
# * `train_one_epoch(model, loader, loss_fn, optimizer, device, progress=False)`: put the model in
#   training mode, run the six steps above on every batch of `loader` (which yields `(x, y)` pairs
#   on the CPU), and return the **mean loss per example** over the epoch, a float:
#   $\frac{1}{N}\sum_\text{batches} \text{loss}_b \cdot |b|$.
# * `evaluate(model, loader, device, progress=False)`: put the model in evaluation mode and,
#   without gradients, return `(mean_loss, accuracy)`: the cross-entropy per example
#   (`F.cross_entropy(logits, y, reduction="sum")` summed over batches, divided by the number of
#   examples) and the fraction of examples whose largest logit is the label, both floats.
#
# Both must work on any `device` (the model is already there; move each batch) and show a
# progress bar only when `progress=True`. The tests compare one epoch of your loop with a
# hand-made SGD step by step, check that gradients of one batch do not leak into the next, that
# a tiny fixed batch is learned, that dropout is on while training and off while evaluating, and
# that `evaluate` leaves the parameters, their gradients and the random-number state untouched.

# %% [raw]
# # BEGIN SOLUTION

# %%
def train_one_epoch(model, loader, loss_fn, optimizer, device, progress=False):
    """One pass over `loader` with zero_grad / forward / loss / backward / step per batch.

    Returns the mean training loss per example over the epoch (a float).
    """
    # BEGIN SOLUTION
    model.train()  # dropout on: evaluate() may have switched it off
    running_loss, seen = 0.0, 0
    for x, y in progress_bar(loader, enabled=progress, desc="train"):
        x, y = x.to(device), y.to(device)
        optimizer.zero_grad()  # backward() adds into p.grad: clear the previous batch's gradients
        loss = loss_fn(model(x), y)  # raw logits: the loss applies log-softmax itself
        loss.backward()
        optimizer.step()
        running_loss += loss.item() * len(y)
        seen += len(y)
    return running_loss / seen
    # END SOLUTION


def evaluate(model, loader, device, progress=False):
    """Mean cross-entropy per example and accuracy of `model` on `loader`, in eval mode, no grad.

    Returns (mean_loss, accuracy), two floats.
    """
    # BEGIN SOLUTION
    model.eval()  # dropout off: predict with the whole network
    total_loss, correct, seen = 0.0, 0, 0
    with torch.no_grad():  # no graph: evaluation cannot change the model
        for x, y in progress_bar(loader, enabled=progress, desc="evaluate"):
            x, y = x.to(device), y.to(device)
            logits = model(x)
            total_loss += F.cross_entropy(logits, y, reduction="sum").item()
            correct += (logits.argmax(dim=1) == y).sum().item()
            seen += len(y)
    return total_loss / seen, correct / seen
    # END SOLUTION


# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_train_one_epoch_public(train_one_epoch):
    import contextlib
    import copy
    import io

    import torch
    from torch import nn

    from shared.checks import assert_close, check_implemented
    from shared.training import make_loader

    steps = ("Hint: per batch: optimizer.zero_grad(); loss = loss_fn(model(x), y) on the raw logits; loss.backward(); "
             "optimizer.step(); and add loss.item() * len(y) to a running sum that you divide by the number of examples.")
    gen = torch.Generator().manual_seed(7)
    X, y = torch.randn(12, 1, 3, 3, generator=gen), torch.randint(0, 4, (12,), generator=gen)
    torch.manual_seed(3)
    start = nn.Sequential(nn.Flatten(), nn.Linear(9, 6), nn.ReLU(), nn.Linear(6, 4))
    lr = 0.5

    def hand_made_epoch(softmax_first=False, accumulate=False):
        net = copy.deepcopy(start)
        params = list(net.parameters())
        summed = [torch.zeros_like(p) for p in params]
        total = 0.0
        for k in range(0, 12, 4):
            out = net(X[k : k + 4])
            loss = nn.functional.cross_entropy(out.softmax(dim=1) if softmax_first else out, y[k : k + 4])
            with torch.no_grad():
                for p, g, s in zip(params, torch.autograd.grad(loss, params), summed, strict=True):
                    s += g
                    p -= lr * (s if accumulate else g)
            total += loss.item() * 4
        return params, total / 12

    model = copy.deepcopy(start)
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    with contextlib.redirect_stderr(io.StringIO()) as err:
        loss = train_one_epoch(model, make_loader(X, y, batch_size=4, shuffle=False), nn.CrossEntropyLoss(), optimizer, torch.device("cpu"))
    check_implemented(loss, "train_one_epoch(model, loader, nn.CrossEntropyLoss(), SGD(lr=0.5), 'cpu')")
    assert err.getvalue() == "", f"With progress=False, train_one_epoch should print nothing, but it wrote {err.getvalue()[:80]!r}. Hint: progress_bar(loader, enabled=progress)."
    got = [p.detach() for p in model.parameters()]
    expected, expected_loss = hand_made_epoch()
    if not all(torch.allclose(g, e, rtol=1e-4, atol=1e-5) for g, e in zip(got, expected, strict=True)):
        for variant, hint in [
            ({"accumulate": True}, "Hint: the gradients of earlier batches were added to this batch's: call optimizer.zero_grad() before every loss.backward()."),
            ({"softmax_first": True}, "Hint: you applied softmax to the logits before the loss: nn.CrossEntropyLoss applies log-softmax itself, so pass it the raw logits."),
        ]:
            if all(torch.allclose(g, e, rtol=1e-4, atol=1e-5) for g, e in zip(got, hand_made_epoch(**variant)[0], strict=True)):
                raise AssertionError(f"After one epoch of 3 batches (SGD, lr=0.5) the parameters differ from a correct loop's. {hint}")
        names = [n for n, _ in model.named_parameters()]
        for name, g, e in zip(names, got, expected, strict=True):
            assert_close(g, e, name=f"parameter {name} after one epoch of 3 batches of 4 (SGD, lr=0.5)", rtol=1e-4, atol=1e-5, hint=steps)
    assert isinstance(loss, float), f"train_one_epoch should return a Python float (use loss.item()), got {type(loss).__name__}"
    assert abs(loss - expected_loss) <= 1e-5 * max(1.0, abs(expected_loss)), (
        f"train_one_epoch returned {loss:.6f}, expected the mean loss per example over the epoch {expected_loss:.6f}. {steps}"
    )

# %%
def test_train_one_epoch_modes_public(train_one_epoch):
    import torch
    from torch import nn

    from shared.checks import check_implemented
    from shared.training import make_loader

    class Probe(nn.Module):
        """Identity layer that records (training mode, gradients enabled) at every forward."""

        def __init__(self):
            super().__init__()
            self.calls = []

        def forward(self, x):
            self.calls.append((self.training, torch.is_grad_enabled()))
            return x

    torch.manual_seed(11)
    probe = Probe()
    model = nn.Sequential(probe, nn.Flatten(), nn.Linear(16, 32), nn.ReLU(), nn.Dropout(0.1), nn.Linear(32, 5))
    X, y = torch.randn(8, 1, 4, 4), torch.arange(8) % 5
    loader = make_loader(X, y, batch_size=8, shuffle=False)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.02)
    model.eval()  # as evaluate() would leave it
    losses = []
    for _ in range(25):
        loss = train_one_epoch(model, loader, nn.CrossEntropyLoss(), optimizer, "cpu")
        check_implemented(loss, "train_one_epoch(model, loader, loss_fn, optimizer, 'cpu')")
        losses.append(float(loss))
    assert probe.calls and all(training for training, _ in probe.calls), (
        "The model was in eval mode when train_one_epoch started and stayed there: dropout was off during training. "
        "Hint: call model.train() at the start of train_one_epoch."
    )
    assert losses[-1] < 0.5 * losses[0], (
        f"Training 25 epochs on one fixed batch of 8 examples (Adam, lr=0.02) should at least halve the loss; it went "
        f"from {losses[0]:.4f} to {losses[-1]:.4f}. Hint: optimizer.zero_grad(), forward, loss, loss.backward(), optimizer.step() for every batch."
    )

# %%
def test_evaluate_public(evaluate):
    import contextlib
    import copy
    import io

    import torch
    from torch import nn

    from shared.checks import check_implemented
    from shared.training import make_loader

    class Probe(nn.Module):
        """Identity layer that records (training mode, gradients enabled) at every forward."""

        def __init__(self):
            super().__init__()
            self.calls = []

        def forward(self, x):
            self.calls.append((self.training, torch.is_grad_enabled()))
            return x

    torch.manual_seed(21)
    probe = Probe()
    model = nn.Sequential(probe, nn.Flatten(), nn.Linear(9, 16), nn.ReLU(), nn.Dropout(0.5), nn.Linear(16, 3))
    X, y = torch.randn(10, 1, 3, 3), torch.tensor([0, 1, 2, 0, 1, 2, 0, 1, 2, 2])
    loader = make_loader(X, y, batch_size=4, shuffle=False)
    for p in model.parameters():
        p.grad = torch.full_like(p, 0.25)
    before = copy.deepcopy(model)
    model.train()  # as train_one_epoch() would leave it
    rng_before = torch.get_rng_state()
    with contextlib.redirect_stderr(io.StringIO()) as err:
        result = evaluate(model, loader, torch.device("cpu"))
    check_implemented(result, "evaluate(model, loader, 'cpu')")
    rng_after = torch.get_rng_state()
    assert err.getvalue() == "", f"With progress=False, evaluate should print nothing, but it wrote {err.getvalue()[:80]!r}."
    assert isinstance(result, tuple) and len(result) == 2, f"evaluate should return a tuple (mean_loss, accuracy), got {result!r}"
    assert probe.calls, "evaluate(model, loader, device) never called the model"
    assert not any(training for training, _ in probe.calls), (
        "evaluate ran the model in training mode, so dropout randomly zeroed activations. Hint: call model.eval() before evaluating."
    )
    assert not any(grad for _, grad in probe.calls), (
        "evaluate ran the model with gradients enabled: PyTorch built a graph for every batch. "
        "Hint: wrap the evaluation loop in `with torch.no_grad():` (and never call backward() or optimizer.step() there)."
    )
    for (name, p), q in zip(model.named_parameters(), before.parameters(), strict=True):
        assert torch.equal(p, q), f"evaluate changed parameter {name}. Hint: evaluation must not call backward() or optimizer.step(); use torch.no_grad()."
        assert p.grad is not None and torch.equal(p.grad, torch.full_like(p, 0.25)), (
            f"evaluate changed the gradient of {name} (it was 0.25 everywhere). Hint: no loss.backward() and no optimizer.zero_grad() in evaluation; use torch.no_grad()."
        )
    assert torch.equal(rng_before, rng_after), (
        "evaluate consumed random numbers (dropout was sampling masks). Hint: call model.eval() before evaluating."
    )
    loss, acc = (float(v) for v in result)
    before.eval()
    with torch.no_grad():
        logits = before(X)
    expected_loss = nn.functional.cross_entropy(logits, y, reduction="sum").item() / 10
    expected_acc = (logits.argmax(dim=1) == y).double().mean().item()
    assert abs(acc - expected_acc) < 1e-9, (
        f"evaluate returned accuracy {acc}, expected {expected_acc} on 10 examples in batches of 4, 4, 2. "
        "Hint: count (logits.argmax(dim=1) == y) over all batches and divide by the number of examples."
    )
    assert abs(loss - expected_loss) < 1e-5, (
        f"evaluate returned mean loss {loss:.6f}, expected {expected_loss:.6f}: cross-entropy summed over all 10 examples "
        "(batches of 4, 4, 2), divided by 10. Hint: F.cross_entropy(logits, y, reduction='sum') per batch; a mean of the "
        "batch means over-weights the last, smaller batch."
    )
    with contextlib.redirect_stderr(io.StringIO()):
        again = evaluate(model, loader, "cpu", progress=True)
    assert tuple(float(v) for v in again) == (loss, acc), f"evaluate should be deterministic: a second call gave {again} instead of {(loss, acc)}."

# %%
""" # BEGIN TEST CONFIG
hidden: true
""" # END TEST CONFIG
def test_train_one_epoch_hidden(train_one_epoch):
    import contextlib
    import copy
    import io

    import torch
    from torch import nn

    import shared
    from shared.checks import assert_close, check_implemented
    from shared.seeding import deterministic
    from shared.training import make_loader

    steps = ("Hint: per batch: optimizer.zero_grad(); loss = loss_fn(model(x), y) on the raw logits; loss.backward(); "
             "optimizer.step(); and return the running sum of loss.item() * len(y) divided by the number of examples.")
    gen = torch.Generator().manual_seed(99)
    X, y = torch.randn(10, 2, 5, 5, generator=gen), torch.randint(0, 3, (10,), generator=gen)
    torch.manual_seed(5)
    start = nn.Sequential(nn.Conv2d(2, 3, 3), nn.ReLU(), nn.Flatten(), nn.Linear(27, 3))
    reference = copy.deepcopy(start)
    params = list(reference.parameters())
    adam = torch.optim.Adam(params, lr=0.05)
    total = 0.0
    for k in range(0, 10, 4):  # batches of 4, 4 and 2
        loss = nn.functional.cross_entropy(reference(X[k : k + 4]), y[k : k + 4])
        for p, g in zip(params, torch.autograd.grad(loss, params), strict=True):
            p.grad = g
        adam.step()
        total += loss.item() * len(y[k : k + 4])
    model = copy.deepcopy(start)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.05)
    loss = train_one_epoch(model, make_loader(X, y, batch_size=4, shuffle=False), nn.CrossEntropyLoss(), optimizer, torch.device("cpu"))
    check_implemented(loss, "train_one_epoch(conv_model, loader, loss_fn, Adam(lr=0.05), 'cpu')")
    for (name, p), q in zip(model.named_parameters(), params, strict=True):
        assert_close(p.detach(), q.detach(), name=f"parameter {name} after one epoch (Adam, batches of 4, 4, 2)", rtol=1e-4, atol=1e-5, hint=steps)
    assert abs(float(loss) - total / 10) < 1e-5, (
        f"train_one_epoch returned {float(loss):.6f}, expected the mean loss per example {total / 10:.6f} (batches of 4, 4, 2). {steps}"
    )
    device = shared.device()
    model = copy.deepcopy(start).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.05)
    with deterministic(), contextlib.redirect_stderr(io.StringIO()):
        loss_device = train_one_epoch(model, make_loader(X, y, batch_size=4, shuffle=False), nn.CrossEntropyLoss(), optimizer, device, progress=True)
    assert abs(float(loss_device) - total / 10) < 1e-4, f"On {device} train_one_epoch returned {float(loss_device):.6f}, expected {total / 10:.6f}. Hint: move every batch to `device`."

# %%
""" # BEGIN TEST CONFIG
hidden: true
""" # END TEST CONFIG
def test_evaluate_hidden(evaluate):
    import copy

    import torch
    from torch import nn

    import shared
    from shared.training import make_loader

    gen = torch.Generator().manual_seed(303)
    X, y = torch.randn(23, 1, 6, 6, generator=gen), torch.randint(0, 4, (23,), generator=gen)
    torch.manual_seed(8)
    model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Dropout(0.4), nn.Flatten(), nn.Linear(64, 4))
    before = copy.deepcopy(model).eval()
    with torch.no_grad():
        logits = before(X)
    expected = (nn.functional.cross_entropy(logits, y).item(), (logits.argmax(dim=1) == y).double().mean().item())
    device = shared.device()
    model.to(device).train()
    rng = torch.get_rng_state()
    loss, acc = evaluate(model, make_loader(X, y, batch_size=5, shuffle=True, seed=1), device)
    assert torch.equal(rng, torch.get_rng_state()), "evaluate consumed random numbers: dropout was active. Hint: call model.eval() first."
    assert abs(float(acc) - expected[1]) < 1e-9 and abs(float(loss) - expected[0]) < 1e-4, (
        f"evaluate on 23 examples in shuffled batches of 5 returned ({float(loss):.5f}, {float(acc):.4f}), expected "
        f"({expected[0]:.5f}, {expected[1]:.4f}). Hint: model.eval(), torch.no_grad(), sums over all examples divided by their number."
    )
    for p, q in zip(model.parameters(), before.parameters(), strict=True):
        assert torch.equal(p.detach().cpu(), q.detach()) and p.grad is None, (
            "evaluate changed the parameters or created gradients. Hint: evaluate inside torch.no_grad(), with no backward() and no optimizer step."
        )

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [markdown]
# ## 3. The experiment
#
# Time to test the lecture's claim. For each of the two data sets (shifted digits, centred
# digits) we train both networks with the same recipe: Adam, cross-entropy, the same number of
# epochs, batch size, learning rate, seed, and even the same batches in the same order. First,
# two small helpers.

# %% [raw]
# # BEGIN QUESTION
# name: q4
# points: 4

# %% [markdown]
# **Question 4 (4 points).**
#
# * `make_loaders(*, canvas=16, shifted=True, batch_size=32, seed=0)` returns
#   `(train_loader, test_loader)`: load the `"train"` and `"test"` splits with
#   `load_digits_data(split, canvas=canvas, shifted=shifted)`, and wrap them with
#   `make_loader(X, y, batch_size=..., shuffle=..., seed=...)` from `shared.training`. The
#   training loader is shuffled (with `seed`, so runs are reproducible) and uses `batch_size`;
#   the test loader is not shuffled and uses batches of 256 (order does not matter for testing).
# * `run_experiment(model, train_loader, test_loader, *, epochs, lr, device, progress=False)`
#   moves the model to `device`, makes `nn.CrossEntropyLoss()` and
#   `torch.optim.Adam(model.parameters(), lr=lr)`, and for each epoch calls your
#   `train_one_epoch` on the training loader, then your `evaluate` on the test loader. It returns
#   a dictionary of three lists with one entry per epoch: `"train_loss"`, `"test_loss"` and
#   `"test_acc"`.
#
# The tests check that each loader holds the right images with their own labels, that training
# is reproducible for a seed, that `run_experiment` trains exactly like a reference Adam loop, and
# that the test set is only ever evaluated: never trained on, never seen with gradients on.

# %% [raw]
# # BEGIN SOLUTION

# %%
def make_loaders(*, canvas=16, shifted=True, batch_size=32, seed=0):
    """(train_loader, test_loader) over the digits on a canvas: train shuffled with `seed`, test in order."""
    # BEGIN SOLUTION
    X_train, y_train = load_digits_data("train", canvas=canvas, shifted=shifted)
    X_test, y_test = load_digits_data("test", canvas=canvas, shifted=shifted)
    train_loader = make_loader(X_train, y_train, batch_size=batch_size, shuffle=True, seed=seed)
    test_loader = make_loader(X_test, y_test, batch_size=256, shuffle=False)
    return train_loader, test_loader
    # END SOLUTION


def run_experiment(model, train_loader, test_loader, *, epochs, lr, device, progress=False):
    """Train `model` with Adam for `epochs`, evaluating on `test_loader` after each epoch.

    Returns {"train_loss": [...], "test_loss": [...], "test_acc": [...]}, one float per epoch.
    """
    # BEGIN SOLUTION
    model.to(device)
    loss_fn = nn.CrossEntropyLoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    history = {"train_loss": [], "test_loss": [], "test_acc": []}
    for _ in range(epochs):
        history["train_loss"].append(train_one_epoch(model, train_loader, loss_fn, optimizer, device, progress=progress))
        test_loss, test_acc = evaluate(model, test_loader, device)
        history["test_loss"].append(test_loss)
        history["test_acc"].append(test_acc)
    return history
    # END SOLUTION


# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_make_loaders_public(make_loaders):
    import collections

    import torch

    from shared.checks import check_implemented
    from shared.digits import load_digits_data

    result = make_loaders(canvas=16, shifted=True, batch_size=32, seed=0)
    check_implemented(result, "make_loaders(canvas=16, shifted=True, batch_size=32, seed=0)")
    assert isinstance(result, tuple) and len(result) == 2, f"make_loaders should return (train_loader, test_loader), got {type(result).__name__}"
    train_loader, test_loader = result
    first_x, first_y = next(iter(train_loader))
    assert tuple(first_x.shape) == (32, 1, 16, 16) and tuple(first_y.shape) == (32,), (
        f"The training loader's batches should have shapes (32, 1, 16, 16) and (32,), got {tuple(first_x.shape)} and {tuple(first_y.shape)}"
    )
    Xs, ys = zip(*train_loader, strict=True)
    X, y = torch.cat(Xs), torch.cat(ys)
    X_train, y_train = load_digits_data("train", canvas=16, shifted=True)
    X_test, _ = load_digits_data("test", canvas=16, shifted=True)
    assert len(X) == len(X_train), (
        f"One pass over the training loader should give the {len(X_train)} training digits, got {len(X)}. "
        "Hint: build the training loader from the 'train' split; the 'test' split is only for evaluation."
    )
    test_images = {bytes(x.numpy()) for x in X_test}
    assert not any(bytes(x.numpy()) in test_images for x in X), (
        "The training loader yields images of the test split. Hint: build the training loader from the 'train' split; "
        "never train on the test set."
    )
    pairs = collections.Counter((bytes(a.numpy()), int(b)) for a, b in zip(X, y, strict=True))
    expected_pairs = collections.Counter((bytes(a.numpy()), int(b)) for a, b in zip(X_train, y_train, strict=True))
    assert pairs == expected_pairs, (
        f"The training loader holds the right images, but {sum((pairs - expected_pairs).values())} of them come with a "
        "label that is not their own. Hint: keep each image with its own label: pass X_train and y_train unchanged to make_loader."
    )
    assert not torch.equal(y[:64], y_train[:64]), "The training loader should be shuffled (shuffle=True)."
    first, again, other = (torch.cat([b for _, b in make_loaders(canvas=16, shifted=True, batch_size=32, seed=seed)[0]]) for seed in (0, 0, 1))
    assert torch.equal(first, again), "Two calls of make_loaders(seed=0) should give the same batch order. Hint: make_loader(..., seed=seed)."
    assert not torch.equal(first, other), "make_loaders with seeds 0 and 1 gave the same batch order. Hint: pass `seed` to make_loader."
    X_t, y_t = (torch.cat(parts) for parts in zip(*test_loader, strict=True))
    X_test, y_test = load_digits_data("test", canvas=16, shifted=True)
    assert torch.equal(X_t, X_test) and torch.equal(y_t, y_test), (
        "The test loader should yield the 'test' split in its original order (shuffle=False), each image with its label."
    )

# %%
def test_run_experiment_public(run_experiment):
    import copy

    import torch
    from torch import nn

    from shared.checks import assert_close, check_implemented
    from shared.training import fit, make_loader

    class Probe(nn.Module):
        """Identity layer that records (batch size, training mode, gradients enabled) at every forward."""

        def __init__(self):
            super().__init__()
            self.calls = []

        def forward(self, x):
            self.calls.append((len(x), self.training, torch.is_grad_enabled()))
            return x

    gen = torch.Generator().manual_seed(12)
    X_train, y_train = torch.rand(12, 1, 4, 4, generator=gen), torch.randint(0, 3, (12,), generator=gen)
    X_test, y_test = torch.rand(10, 1, 4, 4, generator=gen), torch.randint(0, 3, (10,), generator=gen)
    torch.manual_seed(2)
    probe = Probe()
    model = nn.Sequential(probe, nn.Flatten(), nn.Linear(16, 8), nn.ReLU(), nn.Linear(8, 3))
    reference = copy.deepcopy(model)
    history = run_experiment(model, make_loader(X_train, y_train, batch_size=4, seed=5), make_loader(X_test, y_test, batch_size=5, shuffle=False),
                             epochs=3, lr=0.01, device=torch.device("cpu"))
    check_implemented(history, "run_experiment(model, train_loader, test_loader, epochs=3, lr=0.01, device='cpu')")
    test_calls = [(training, grad) for size, training, grad in probe.calls if size == 5]
    assert test_calls, "run_experiment never evaluated the model on the test loader (batches of 5 here). Hint: call evaluate(model, test_loader, device) after every epoch."
    assert not any(training or grad for training, grad in test_calls), (
        "run_experiment ran the model on the test set in training mode or with gradients on: the test set must only be "
        "evaluated and must never be used for training. Hint: train_one_epoch(model, train_loader, ...) for training, evaluate(model, test_loader, device) for the test set."
    )
    assert isinstance(history, dict) and set(history) == {"train_loss", "test_loss", "test_acc"}, (
        f"run_experiment should return a dict with keys 'train_loss', 'test_loss', 'test_acc', got {history!r:.120}"
    )
    for key, values in history.items():
        assert len(values) == 3, f"history[{key!r}] should hold one value per epoch (3), got {len(values)}"
    fit(reference, make_loader(X_train, y_train, batch_size=4, seed=5), epochs=3, lr=0.01, seed=None)
    for (name, p), q in zip(model.named_parameters(), reference.parameters(), strict=True):
        assert_close(p.detach().cpu(), q.detach(), name=f"parameter {name} after run_experiment(epochs=3, lr=0.01)", rtol=1e-4, atol=1e-5,
                     hint="Hint: one torch.optim.Adam(model.parameters(), lr=lr) and one nn.CrossEntropyLoss() for the whole run; train only on train_loader.")
    reference.eval()
    with torch.no_grad():
        logits = reference(X_test)
    final_acc = (logits.argmax(dim=1) == y_test).double().mean().item()
    final_loss = nn.functional.cross_entropy(logits, y_test).item()
    assert abs(float(history["test_acc"][-1]) - final_acc) < 1e-9 and abs(float(history["test_loss"][-1]) - final_loss) < 1e-5, (
        f"After the last epoch history should hold the test accuracy {final_acc:.4f} and loss {final_loss:.5f}, got "
        f"{float(history['test_acc'][-1]):.4f} and {float(history['test_loss'][-1]):.5f}. Hint: evaluate on test_loader after training each epoch."
    )

# %%
""" # BEGIN TEST CONFIG
hidden: true
""" # END TEST CONFIG
def test_make_loaders_hidden(make_loaders):
    import collections

    import torch

    from shared.checks import check_implemented
    from shared.digits import load_digits_data

    for canvas, shifted, batch_size, seed in [(12, False, 50, 3), (20, True, 64, 8)]:
        call = f"make_loaders(canvas={canvas}, shifted={shifted}, batch_size={batch_size}, seed={seed})"
        result = make_loaders(canvas=canvas, shifted=shifted, batch_size=batch_size, seed=seed)
        check_implemented(result, call)
        train_loader, test_loader = result
        sizes = [len(b) for _, b in train_loader]
        assert sizes[0] == batch_size and sum(sizes) == 1200, f"{call}: the training batches should have size {batch_size} and hold 1200 digits in all, got sizes {sizes[:3]}... ({sum(sizes)} digits)"
        X, y = (torch.cat(parts) for parts in zip(*train_loader, strict=True))
        X_train, y_train = load_digits_data("train", canvas=canvas, shifted=shifted)
        pairs = collections.Counter((bytes(a.numpy()), int(b)) for a, b in zip(X, y, strict=True))
        assert pairs == collections.Counter((bytes(a.numpy()), int(b)) for a, b in zip(X_train, y_train, strict=True)), (
            f"{call}: the training loader should hold the 'train' split on a {canvas}x{canvas} canvas, each image with its own label. "
            "Hint: pass canvas and shifted to load_digits_data, and keep X_train and y_train paired; never train on the test set."
        )
        X_t, y_t = (torch.cat(parts) for parts in zip(*test_loader, strict=True))
        X_test, y_test = load_digits_data("test", canvas=canvas, shifted=shifted)
        assert torch.equal(X_t, X_test) and torch.equal(y_t, y_test), f"{call}: the test loader should yield the 'test' split in order."

# %%
""" # BEGIN TEST CONFIG
hidden: true
""" # END TEST CONFIG
def test_run_experiment_hidden(run_experiment):
    import copy

    import torch
    from torch import nn

    import shared
    from shared.checks import assert_close, check_implemented
    from shared.seeding import deterministic
    from shared.training import fit, make_loader

    gen = torch.Generator().manual_seed(77)
    X_train, y_train = torch.rand(14, 1, 5, 5, generator=gen), torch.randint(0, 4, (14,), generator=gen)
    X_test, y_test = torch.rand(6, 1, 5, 5, generator=gen), torch.randint(0, 4, (6,), generator=gen)
    torch.manual_seed(4)
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.Flatten(), nn.Linear(18, 4))
    reference = copy.deepcopy(model)
    test_before = X_test.clone()
    with deterministic():
        history = run_experiment(model, make_loader(X_train, y_train, batch_size=3, seed=9), make_loader(X_test, y_test, batch_size=4, shuffle=False),
                                 epochs=2, lr=0.03, device=shared.device())
    check_implemented(history, "run_experiment(conv_model, ..., epochs=2, lr=0.03)")
    fit(reference, make_loader(X_train, y_train, batch_size=3, seed=9), epochs=2, lr=0.03, seed=None)
    for (name, p), q in zip(model.named_parameters(), reference.parameters(), strict=True):
        assert_close(p.detach().cpu(), q.detach(), name=f"parameter {name} after run_experiment(epochs=2, lr=0.03)", rtol=1e-4, atol=1e-5,
                     hint="Hint: Adam with lr=lr and cross-entropy, trained on train_loader only; the test loader is only evaluated.")
    assert torch.equal(X_test, test_before) and all(len(v) == 2 for v in history.values()), "history should hold 2 values per key for epochs=2"

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [markdown]
# Now the experiment itself. The cell below trains four networks (CNN and MLP, on shifted and on
# centred digits) with one recipe and stores their histories in `histories` and the trained
# networks in `trained`, keyed by `(data, model)` such as `("shifted", "cnn")`. It takes a few
# seconds; set `PROGRESS = True` to watch the bars. It is seeded with `rng_seed`, so every run
# gives the same numbers (the autograder re-runs it with other seeds to make sure the conclusion
# does not hinge on a lucky one).

# %%
EPOCHS, LR, BATCH_SIZE, CANVAS = 12, 2e-3, 16, 16
PROGRESS = False
device = shared.device()
histories, trained, train_seconds = {}, {}, {}
for data in ("shifted", "centred"):
    for name, build in (("cnn", lambda: make_cnn(canvas=CANVAS)), ("mlp", lambda: make_mlp(canvas=CANVAS, hidden=mlp_hidden))):
        # fresh loaders for each network, so that both see the same batches in the same order
        train_loader, test_loader = make_loaders(canvas=CANVAS, shifted=data == "shifted", batch_size=BATCH_SIZE, seed=rng_seed)
        torch.manual_seed(rng_seed)
        model = build()
        with stopwatch() as clock:
            histories[data, name] = run_experiment(model, train_loader, test_loader, epochs=EPOCHS, lr=LR, device=device, progress=PROGRESS)
        trained[data, name] = model
        train_seconds[data, name] = clock.seconds
        print(f"{data:>8} {name}: test accuracy {histories[data, name]['test_acc'][-1]:.3f} "
              f"after {EPOCHS} epochs ({clock.seconds:.1f} s on {device})")

# %% [raw]
# # BEGIN QUESTION
# name: q5
# points: 3

# %% [markdown]
# **Question 5 (3 points).** From `histories`, store the final test accuracy of each of the four
# runs in the dictionary `final_acc` (same keys as `histories`, float values), and the CNN's lead
# over the MLP in `gap_shifted` (shifted digits) and `gap_centred` (centred digits): CNN accuracy
# minus MLP accuracy.
#
# The tests check your numbers against your trained networks, and that the lecture's claim holds:
# on shifted digits the CNN wins by a wide margin (at least 20 points), on centred digits the gap
# mostly closes. The hidden tests evaluate your four trained networks on the 297 held-out digits
# that this notebook never loads, and check that the test accuracies you report are in line with
# them (if they are much higher, the test set was used for training).

# %% [raw]
# # BEGIN SOLUTION

# %%
final_acc = {key: history["test_acc"][-1] for key, history in histories.items()}  # SOLUTION
gap_shifted = final_acc["shifted", "cnn"] - final_acc["shifted", "mlp"]  # SOLUTION
gap_centred = final_acc["centred", "cnn"] - final_acc["centred", "mlp"]  # SOLUTION
print(f"shifted digits: CNN {final_acc['shifted', 'cnn']:.3f}, MLP {final_acc['shifted', 'mlp']:.3f}, gap {gap_shifted:+.3f}")
print(f"centred digits: CNN {final_acc['centred', 'cnn']:.3f}, MLP {final_acc['centred', 'mlp']:.3f}, gap {gap_centred:+.3f}")

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_experiment_public(final_acc, gap_shifted, gap_centred, trained, histories):
    import numpy as np

    from shared.checks import check_implemented
    from shared.digits import load_digits_data
    from shared.training import accuracy

    check_implemented(final_acc, "final_acc")
    keys = [("shifted", "cnn"), ("shifted", "mlp"), ("centred", "cnn"), ("centred", "mlp")]
    assert isinstance(final_acc, dict) and sorted(final_acc) == sorted(keys), f"final_acc should have the keys {keys}, got {list(final_acc)[:6]}"
    for key in keys:
        X_test, y_test = load_digits_data("test", canvas=16, shifted=key[0] == "shifted")
        measured = accuracy(trained[key], X_test, y_test)
        assert abs(float(final_acc[key]) - measured) < 1e-6, (
            f"final_acc[{key}] is {float(final_acc[key]):.4f}, but the trained network scores {measured:.4f} on the test split. "
            "Hint: take histories[key]['test_acc'][-1], the accuracy after the last epoch; evaluate() must return the fraction of correct predictions."
        )
    check_implemented(gap_shifted, "gap_shifted")
    check_implemented(gap_centred, "gap_centred")
    for name, value, data in [("gap_shifted", gap_shifted, "shifted"), ("gap_centred", gap_centred, "centred")]:
        expected = final_acc[data, "cnn"] - final_acc[data, "mlp"]
        assert np.isclose(float(value), expected), f"{name} should be CNN minus MLP accuracy on {data} digits, {expected:+.4f}; got {float(value)!r}"
    diagnosis = ("Hint: an accuracy near 0.1 is chance: check that each image keeps its own label and that the model trains "
                 "(zero_grad, backward, step); check the training loop and the loaders first.")
    cnn = float(final_acc["shifted", "cnn"])
    assert cnn >= 0.6, f"On shifted digits the CNN should reach a test accuracy of at least 0.6 after {len(histories['shifted', 'cnn']['test_acc'])} epochs; yours has {cnn:.3f}. {diagnosis}"
    assert float(gap_shifted) >= 0.2, (
        f"On shifted digits the CNN should beat the MLP by at least 0.2; the gap is {float(gap_shifted):+.3f} "
        f"(CNN {cnn:.3f}, MLP {float(final_acc['shifted', 'mlp']):.3f}). {diagnosis}"
    )
    for name in ("cnn", "mlp"):
        assert float(final_acc["centred", name]) >= 0.8, f"On centred digits the {name.upper()} should reach at least 0.8; yours has {float(final_acc['centred', name]):.3f}. {diagnosis}"
    assert abs(float(gap_centred)) <= 0.1, f"On centred digits the gap should mostly close (at most 0.1 either way); it is {float(gap_centred):+.3f}."

# %%
""" # BEGIN TEST CONFIG
hidden: true
""" # END TEST CONFIG
def test_experiment_heldout_hidden(trained, final_acc):
    from shared.checks import check_implemented
    from shared.digits import load_digits_data
    from shared.training import accuracy

    check_implemented(final_acc, "final_acc")
    heldout = {}
    for data, name in [("shifted", "cnn"), ("shifted", "mlp"), ("centred", "cnn"), ("centred", "mlp")]:
        X, y = load_digits_data("heldout", canvas=16, shifted=data == "shifted")
        heldout[data, name] = accuracy(trained[data, name], X, y)
        reported = float(final_acc[data, name])
        assert reported - heldout[data, name] <= 0.15, (
            f"The {name.upper()} trained on {data} digits scores {reported:.3f} on the test split but only "
            f"{heldout[data, name]:.3f} on 297 held-out digits it has never seen. Hint: the test set must never be used for training: "
            "train on the 'train' split (train_loader) and only evaluate on the test loader."
        )
    assert heldout["shifted", "cnn"] >= 0.6 and heldout["shifted", "cnn"] - heldout["shifted", "mlp"] >= 0.2, (
        f"On held-out shifted digits the CNN should reach 0.6 and beat the MLP by 0.2; got CNN {heldout['shifted', 'cnn']:.3f}, "
        f"MLP {heldout['shifted', 'mlp']:.3f}. Hint: check the loaders (each image with its own label) and the training loop."
    )
    assert min(heldout["centred", "cnn"], heldout["centred", "mlp"]) >= 0.8, (
        f"On held-out centred digits both networks should reach 0.8; got CNN {heldout['centred', 'cnn']:.3f}, MLP {heldout['centred', 'mlp']:.3f}."
    )

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [markdown]
# **Explain in your own words (not auto-graded, 3–5 sentences).** Both networks see the same
# images and have the same number of parameters. Why does the MLP fall so far behind on shifted
# digits, yet almost catch up on centred ones? Think about what the MLP must learn separately for
# each of the 81 positions a digit can take, how many training examples it has per position, and
# what the CNN gets for free from sharing one filter across all positions. Then look at the
# curves below: on shifted digits, even the MLP's *training* loss falls slowly. Why is fitting
# the training set itself harder for the MLP there, with the same number of parameters?
#
# _Type your answer here, replacing this text._

# %% tags=["otter_ignore"]
fig, axes = plt.subplots(1, 3, figsize=(15, 3.8))
for ax, key, title in zip(axes, ["train_loss", "test_loss", "test_acc"], ["training loss", "test loss", "test accuracy"], strict=True):
    curves = {f"{name.upper()}, {data}": histories[data, name][key] for data in ("shifted", "centred") for name in ("cnn", "mlp")}
    plot_curves(curves, ax=ax, ylabel=key.replace("_", " "), title=title, logy=key == "train_loss")
plt.tight_layout()
plt.show()

# %% [markdown]
# Which digits get confused? Rows are the true labels, columns the predictions, so a perfect
# classifier has everything on the diagonal.

# %% tags=["otter_ignore"]
from sklearn.metrics import confusion_matrix

X_test_shifted, y_test_shifted = load_digits_data("test", canvas=CANVAS, shifted=True)
fig, axes = plt.subplots(1, 2, figsize=(10, 4.5))
for ax, name in zip(axes, ("cnn", "mlp"), strict=True):
    matrix = confusion_matrix(y_test_shifted, predict(trained["shifted", name], X_test_shifted), labels=range(10))
    ax.imshow(matrix, cmap="Blues")
    for (i, j), count in np.ndenumerate(matrix):
        ax.text(j, i, count, ha="center", va="center", fontsize=7, color="white" if count > matrix.max() / 2 else "black")
    ax.set_xticks(range(10))
    ax.set_yticks(range(10))
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(f"{name.upper()} on shifted test digits ({np.trace(matrix) / matrix.sum():.1%} correct)")
plt.tight_layout()
plt.show()

# %% [markdown]
# ## 4. Why it works
#
# ### Translation equivariance
# Write $T_{\delta}$ for the operation that moves an image by $\delta = (\delta_y, \delta_x)$
# pixels (down and right; pixels that leave the canvas are lost, new ones are 0). A convolution
# $f$ applies the same filter at every position, so moving the input moves the output the same
# way:
#
# $$f(T_\delta x) = T_\delta f(x) \qquad \text{(translation equivariance).}$$
#
# It holds exactly away from the borders; near them, padding and the pixels that fall off the
# canvas break it. ReLU acts pixel by pixel, so conv → ReLU is equivariant too, and max-pooling
# keeps it for shifts by multiples of its stride. An MLP's hidden layer, $h = \mathrm{relu}(Wx + b)$
# with a full matrix $W$, has no such relation: every hidden unit has its own weight for every
# pixel, and a shifted digit lights up a different, unrelated set of units. Whatever the MLP
# learned about a "3" at one position it must learn again at every other.
#
# We measure equivariance with the **equivariance gap** of a map $f$ from images to images of the
# same size,
#
# $$\mathrm{gap}(f, x, \delta, m) = \max_{\text{pixels at least } m \text{ from every border}} \big| f(T_\delta x) - T_\delta f(x) \big|,$$
#
# which is (up to rounding) zero for an equivariant $f$ once the margin $m$ excludes the borders.

# %% [raw]
# # BEGIN QUESTION
# name: q6
# points: 3

# %% [markdown]
# **Question 6 (3 points).**
#
# * `shift(x, dy, dx)`: move a batch of images `x` of shape `(N, C, H, W)` down by `dy` rows and
#   right by `dx` columns (negative values move up / left), for $|dy| < H$, $|dx| < W$. The output
#   has the same shape; the rows and columns that come in are **zeros** (do not wrap around like
#   `torch.roll`). Hint: allocate `torch.zeros_like(x)` and copy one slice of `x` into it.
# * `equivariance_gap(f, x, dy, dx, margin)`: the gap above, as a Python float: compute
#   `f(shift(x, dy, dx)) - shift(f(x), dy, dx)`, keep only the positions at least `margin` pixels
#   from each border (`[..., margin:H - margin, margin:W - margin]`), and return the largest
#   absolute value.
#
# The tests compare `shift` with an independent implementation, and check your gap on
# convolutions (zero inside the margin, not zero at the borders) and on a fully connected layer.

# %% [raw]
# # BEGIN SOLUTION

# %%
def shift(x, dy, dx):
    """Translate images x (N, C, H, W) by dy rows down and dx columns right, filling with zeros."""
    # BEGIN SOLUTION
    H, W = x.shape[-2:]
    out = torch.zeros_like(x)
    out[..., max(dy, 0) : H + min(dy, 0), max(dx, 0) : W + min(dx, 0)] = x[..., max(-dy, 0) : H - max(dy, 0), max(-dx, 0) : W - max(dx, 0)]
    return out
    # END SOLUTION


def equivariance_gap(f, x, dy, dx, margin):
    """max |f(shift(x)) - shift(f(x))| over the positions at least `margin` pixels from every border."""
    # BEGIN SOLUTION
    difference = f(shift(x, dy, dx)) - shift(f(x), dy, dx)
    H, W = difference.shape[-2:]
    return difference[..., margin : H - margin, margin : W - margin].abs().max().item()
    # END SOLUTION


# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_shift_public(shift):
    import torch

    from shared.checks import assert_close, check_implemented

    hint = ("Hint: out = torch.zeros_like(x), then copy the part of x that stays on the canvas; moving down by dy "
            "means out[..., dy:, :] = x[..., :H - dy, :]. torch.roll would wrap the pixels around instead of filling with zeros.")
    x = torch.arange(1, 2 * 3 * 5 * 6 + 1, dtype=torch.float64).reshape(2, 3, 5, 6)
    for dy, dx in [(1, 2), (-2, 1), (0, -3), (3, 0), (0, 0)]:
        out = shift(x, dy, dx)
        check_implemented(out, f"shift(x, {dy}, {dx})")
        padded = torch.nn.functional.pad(x, (max(dx, 0), max(-dx, 0), max(dy, 0), max(-dy, 0)))
        expected = padded[..., max(-dy, 0) : max(-dy, 0) + 5, max(-dx, 0) : max(-dx, 0) + 6]
        assert_close(out, expected, name=f"shift(x, dy={dy}, dx={dx}) for x of shape (2, 3, 5, 6)", rtol=0, atol=0, hint=hint)
    assert torch.equal(x, torch.arange(1, 181, dtype=torch.float64).reshape(2, 3, 5, 6)), "shift should not modify its input x in place."

# %%
def test_equivariance_gap_public(equivariance_gap):
    import torch
    from torch import nn

    from shared.checks import check_implemented

    def reference_shift(x, dy, dx):
        H, W = x.shape[-2:]
        padded = nn.functional.pad(x, (max(dx, 0), max(-dx, 0), max(dy, 0), max(-dy, 0)))
        return padded[..., max(-dy, 0) : max(-dy, 0) + H, max(-dx, 0) : max(-dx, 0) + W]

    torch.manual_seed(1)
    conv = nn.Conv2d(2, 4, 3, padding=1).double()
    x = torch.rand(3, 2, 12, 12, dtype=torch.float64)
    with torch.no_grad():
        inside = equivariance_gap(conv, x, 2, -1, 3)
        check_implemented(inside, "equivariance_gap(conv, x, 2, -1, margin=3)")
        border = equivariance_gap(conv, x, 2, -1, 0)
        diff = conv(reference_shift(x, 2, -1)) - reference_shift(conv(x), 2, -1)
    assert isinstance(inside, float), f"equivariance_gap should return a Python float (use .item()), got {type(inside).__name__}"
    assert inside < 1e-12, (
        f"A 3x3 convolution is translation-equivariant away from the borders, so equivariance_gap(conv, x, 2, -1, margin=3) "
        f"should be 0 (up to rounding), got {inside:.3g}. Hint: compare f(shift(x)) with shift(f(x)) and crop `margin` "
        "pixels on every side: [..., margin:H - margin, margin:W - margin]; check shift too."
    )
    expected_border = diff.abs().max().item()
    assert abs(border - expected_border) <= 1e-9 * expected_border, (
        f"equivariance_gap(conv, x, 2, -1, margin=0) should be the largest |f(shift(x)) - shift(f(x))| over the whole "
        f"image, {expected_border:.6f} (the borders break equivariance), got {border:.6f}. Hint: with margin=0 keep every pixel; return the max of the absolute difference."
    )
    dense = nn.Linear(144, 144).double()
    fully_connected = lambda images: dense(images.flatten(1)).reshape(-1, 1, 12, 12)  # noqa: E731
    x1 = x[:, :1]
    with torch.no_grad():
        gap = equivariance_gap(fully_connected, x1, 1, 1, 3)
        expected = (fully_connected(reference_shift(x1, 1, 1)) - reference_shift(fully_connected(x1), 1, 1))[..., 3:9, 3:9].abs().max().item()
    assert abs(gap - expected) <= 1e-9 * expected, (
        f"For a fully connected layer (144 -> 144, viewed as 12x12) equivariance_gap(f, x, 1, 1, margin=3) should be {expected:.6f}, got {gap:.6f}. "
        "Hint: f(shift(x)) - shift(f(x)), cropped by `margin` on every side, then the max absolute value."
    )

# %%
""" # BEGIN TEST CONFIG
hidden: true
""" # END TEST CONFIG
def test_equivariance_hidden(shift, equivariance_gap):
    import torch
    from torch import nn

    from shared.checks import assert_close, check_implemented

    gen = torch.Generator().manual_seed(66)
    x = torch.randn(1, 2, 7, 9, generator=gen, dtype=torch.float64)
    for dy, dx in [(-3, 4), (6, -8), (-1, -1)]:
        out = shift(x, dy, dx)
        check_implemented(out, f"shift(x, {dy}, {dx})")
        padded = nn.functional.pad(x, (max(dx, 0), max(-dx, 0), max(dy, 0), max(-dy, 0)))
        expected = padded[..., max(-dy, 0) : max(-dy, 0) + 7, max(-dx, 0) : max(-dx, 0) + 9]
        assert_close(out, expected, name=f"shift(x, dy={dy}, dx={dx}) for x of shape (1, 2, 7, 9)", rtol=0, atol=0,
                     hint="Hint: zeros come in where the image moved away; nothing wraps around (not torch.roll).")
    torch.manual_seed(6)
    block = nn.Sequential(nn.Conv2d(1, 3, 5, padding=2), nn.ReLU(), nn.Conv2d(3, 2, 3, padding=1)).double()
    images = torch.rand(2, 1, 15, 13, generator=gen, dtype=torch.float64)
    with torch.no_grad():
        gap = equivariance_gap(block, images, -2, 3, 6)
        border = equivariance_gap(block, images, -2, 3, 0)
    check_implemented(gap, "equivariance_gap(block, images, -2, 3, margin=6)")
    assert float(gap) < 1e-12 and float(border) > 1e-3, (
        f"conv -> ReLU -> conv is equivariant away from the borders: expected a gap of 0 with margin 6 and a positive one with "
        f"margin 0, got {float(gap):.3g} and {float(border):.3g}. Hint: crop [..., margin:H - margin, margin:W - margin] of f(shift(x)) - shift(f(x))."
    )

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [markdown]
# Now look at it with your trained networks. The first block of the CNN trained on shifted
# digits (conv → ReLU) is equivariant whatever its weights; a fully connected layer from the
# $16\times16$ image to a $16\times 16$ map is not, even at initialisation, and no amount of
# training on our data would make it so.

# %% tags=["otter_ignore"]
cnn_shifted = trained["shifted", "cnn"].cpu()
first_conv = next(m for m in cnn_shifted.modules() if isinstance(m, nn.Conv2d))
first_block = nn.Sequential(first_conv, nn.ReLU())
X_test_centred, y_test_centred = load_digits_data("test", canvas=CANVAS, shifted=False)
torch.manual_seed(rng_seed)
dense_layer = nn.Linear(CANVAS * CANVAS, CANVAS * CANVAS)
dense_map = lambda images: torch.relu(dense_layer(images.flatten(1))).reshape(-1, 1, CANVAS, CANVAS)
with torch.no_grad():
    print(f"conv -> ReLU, gap inside margin 4: {equivariance_gap(first_block, X_test_centred[:64], 3, -2, 4):.2e}")
    print(f"conv -> ReLU, gap with margin 0:   {equivariance_gap(first_block, X_test_centred[:64], 3, -2, 0):.2e}")
    print(f"dense layer,  gap inside margin 4: {equivariance_gap(dense_map, X_test_centred[:64], 3, -2, 4):.2e}")
    digit = X_test_centred[:1]
    maps = torch.cat([first_block(digit), first_block(shift(digit, 3, -2))])  # (2, 16, 16, 16)
image_grid(torch.cat([digit, shift(digit, 3, -2)]), labels=["digit", "shifted by (3, -2)"], ncols=2)
image_grid(torch.cat([maps[0, :8], maps[1, :8]]), labels=[f"map {i}" for i in range(8)] + [f"map {i}, shifted" for i in range(8)], ncols=8)
plt.show()

# %% [markdown]
# ### A convolution is an MLP scanned over patches
# Take every $k\times k$ patch of the input (all $C$ channels of it), flatten it into a vector of
# length $C k^2$, and feed it to one and the same `nn.Linear(C * k * k, C_out)`: the outputs,
# arranged by patch position, form $C_\text{out}$ feature maps. That is *exactly* what
# `nn.Conv2d(C, C_out, k)` computes: the conv's weight of shape $(C_\text{out}, C, k, k)$ is the
# Linear weight of shape $(C_\text{out}, C k^2)$, reshaped. "Local receptive field" is the patch;
# "shared weights" is using the same Linear layer for every patch.
#
# The order in which a patch is flattened fixes how the reshape must go. We flatten a patch
# `x[n, :, i:i+k, j:j+k]` (shape $(C, k, k)$) the way `reshape` does: channel by channel, and
# within a channel row by row, so entry $c k^2 + u k + v$ is $x_{n,\,c,\,i+u,\,j+v}$. (This is also
# the order of `torch.nn.functional.unfold` and of the conv weight's last three dimensions.)

# %% [raw]
# # BEGIN QUESTION
# name: q7
# points: 4

# %% [markdown]
# **Question 7 (4 points).**
#
# * `extract_patches(x, k)`: for `x` of shape `(N, C, H, W)` return all $k\times k$ patches
#   (stride 1, no padding) as a tensor of shape `(N, H - k + 1, W - k + 1, C * k * k)`, each patch
#   flattened in the $(C, k, k)$ order above. Loops over positions are fine, or use
#   `Tensor.unfold`; do not call a convolution.
# * `linear_to_conv(linear, in_channels, k)`: given `linear = nn.Linear(in_channels * k * k, C_out)`
#   that acts on such flattened patches, return an `nn.Conv2d(in_channels, C_out, k)` (stride 1, no
#   padding, a bias exactly when `linear` has one, on the same device and dtype as `linear`) that
#   computes the same thing: `conv(x)[n, :, i, j] == linear(extract_patches(x, k))[n, i, j, :]`.
#
# The tests compare your patches with PyTorch's `unfold`, and your conv's output with the Linear
# layer applied to every patch, on several shapes with more than one input channel.

# %% [raw]
# # BEGIN SOLUTION

# %%
def extract_patches(x, k):
    """All k x k patches of x (N, C, H, W), stride 1: (N, H - k + 1, W - k + 1, C * k * k) in (C, k, k) order."""
    # BEGIN SOLUTION
    patches = x.unfold(2, k, 1).unfold(3, k, 1)  # (N, C, H', W', k, k)
    return patches.permute(0, 2, 3, 1, 4, 5).flatten(start_dim=3)
    # END SOLUTION


def linear_to_conv(linear, in_channels, k):
    """nn.Conv2d(in_channels, linear.out_features, k) computing `linear` on every flattened k x k patch."""
    # BEGIN SOLUTION
    out_channels = linear.out_features
    conv = nn.Conv2d(in_channels, out_channels, k, bias=linear.bias is not None,
                     device=linear.weight.device, dtype=linear.weight.dtype)
    with torch.no_grad():
        conv.weight.copy_(linear.weight.reshape(out_channels, in_channels, k, k))
        if linear.bias is not None:
            conv.bias.copy_(linear.bias)
    return conv
    # END SOLUTION


# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_extract_patches_public(extract_patches):
    import torch

    from shared.checks import assert_close, check_implemented
    from shared.forbid import forbid

    hint = ("Hint: patch (i, j) is x[n, :, i:i+k, j:j+k] flattened in (C, k, k) order, channel first: "
            "x.unfold(2, k, 1).unfold(3, k, 1) gives (N, C, H', W', k, k); move C next to (k, k) before flattening.")
    torch.manual_seed(0)
    x = torch.randn(2, 3, 6, 5, dtype=torch.float64)
    with forbid("torch.nn.functional.conv2d", "torch.conv2d", reason="Extract the patches with slicing or Tensor.unfold."):
        out = extract_patches(x, 3)
    check_implemented(out, "extract_patches(x, 3)")
    expected = torch.nn.functional.unfold(x, 3).transpose(1, 2).reshape(2, 4, 3, 27)
    assert_close(out, expected, name="extract_patches(x, 3) for x of shape (2, 3, 6, 5)", rtol=0, atol=0, hint=hint)

# %%
def test_linear_to_conv_public(linear_to_conv):
    import torch
    from torch import nn

    from shared.checks import assert_close, check_implemented

    hint = ("Hint: a flattened patch is in (C, k, k) order, the order of the conv weight's last three dimensions, so "
            "conv.weight = linear.weight.reshape(C_out, C, k, k) and conv.bias = linear.bias.")
    torch.manual_seed(4)
    C, k, C_out = 3, 2, 5
    linear = nn.Linear(C * k * k, C_out).double()
    conv = linear_to_conv(linear, C, k)
    check_implemented(conv, "linear_to_conv(nn.Linear(12, 5), in_channels=3, k=2)")
    assert isinstance(conv, nn.Conv2d), f"linear_to_conv should return an nn.Conv2d, got {type(conv).__name__}"
    assert (conv.in_channels, conv.out_channels, conv.kernel_size, conv.stride, conv.padding) == (3, 5, (2, 2), (1, 1), (0, 0)), (
        f"linear_to_conv(Linear(12, 5), 3, 2) should be Conv2d(3, 5, kernel_size=2) with stride 1 and no padding, got {conv}"
    )
    x = torch.randn(2, 3, 5, 4, dtype=torch.float64)
    patches = nn.functional.unfold(x, k).transpose(1, 2)  # (N, L, C * k * k) in (C, k, k) order
    expected = linear(patches).transpose(1, 2).reshape(2, C_out, 4, 3)
    with torch.no_grad():
        assert_close(conv(x), expected.detach(), name="conv(x) for the conv made from Linear(12, 5), x of shape (2, 3, 5, 4)", rtol=1e-10, atol=1e-12, hint=hint)

# %%
""" # BEGIN TEST CONFIG
hidden: true
""" # END TEST CONFIG
def test_conv_as_mlp_hidden(extract_patches, linear_to_conv):
    import torch
    from torch import nn

    from shared.checks import assert_close, check_implemented
    from shared.forbid import forbid

    hint = "Hint: flatten each patch in (C, k, k) order, and reshape linear.weight to (C_out, C, k, k) in that same order."
    gen = torch.Generator().manual_seed(505)
    for C, k, C_out, shape, bias in [(2, 3, 4, (1, 2, 7, 9), True), (4, 1, 3, (3, 4, 3, 3), False), (1, 5, 2, (2, 1, 5, 6), True)]:
        x = torch.randn(*shape, generator=gen, dtype=torch.float64)
        with forbid("torch.nn.functional.conv2d", "torch.conv2d", reason="Extract the patches with slicing or Tensor.unfold."):
            patches = extract_patches(x, k)
        check_implemented(patches, f"extract_patches(x, {k})")
        N, _, H, W = shape
        expected = nn.functional.unfold(x, k).transpose(1, 2).reshape(N, H - k + 1, W - k + 1, C * k * k)
        assert_close(patches, expected, name=f"extract_patches(x, {k}) for x of shape {shape}", rtol=0, atol=0, hint=hint)
        torch.manual_seed(C * 10 + k)
        linear = nn.Linear(C * k * k, C_out, bias=bias).double()
        conv = linear_to_conv(linear, C, k)
        check_implemented(conv, f"linear_to_conv(Linear({C * k * k}, {C_out}, bias={bias}), {C}, {k})")
        assert (conv.bias is None) == (not bias), f"linear_to_conv should give the conv a bias exactly when the Linear layer has one (bias={bias})"
        assert conv.weight.dtype == torch.float64, f"linear_to_conv should keep the Linear layer's dtype float64, got {conv.weight.dtype}"
        with torch.no_grad():
            assert_close(conv(x), linear(expected).permute(0, 3, 1, 2), name=f"conv(x) for the conv made from Linear({C * k * k}, {C_out}), x of shape {shape}",
                         rtol=1e-10, atol=1e-12, hint=hint)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [markdown]
# Check it on your own: the same Linear layer, applied patch by patch, and as a convolution.

# %% tags=["otter_ignore"]
torch.manual_seed(rng_seed)
patch_linear = nn.Linear(2 * 3 * 3, 4)
x_demo = torch.randn(1, 2, 8, 8)
with torch.no_grad():
    as_mlp = patch_linear(extract_patches(x_demo, 3)).permute(0, 3, 1, 2)  # (1, 4, 6, 6)
    as_conv = linear_to_conv(patch_linear, 2, 3)(x_demo)
print("largest difference between the patch MLP and the convolution:", (as_mlp - as_conv).abs().max().item())
print(f"parameters: the Linear layer {count_parameters(patch_linear)}, the convolution {count_parameters(linear_to_conv(patch_linear, 2, 3))}")

# %% [markdown]
# ## 5. What the CNN learned
#
# The first layer's sixteen $3\times 3$ filters, and what they make of one test digit: each
# feature map lights up where its filter's pattern (an edge, a stroke direction, a blob) occurs.

# %% tags=["otter_ignore"]
filters = first_conv.weight.detach()[:, 0]  # (16, 3, 3): one 3x3 filter per output channel
image_grid(filters, labels=[f"filter {i}" for i in range(len(filters))], ncols=8).suptitle("first-layer filters (brighter = larger weight)")
X_test_shifted_cpu = X_test_shifted[:1]
with torch.no_grad():
    feature_maps = first_block(X_test_shifted_cpu)[0]  # (16, 16, 16)
image_grid(X_test_shifted_cpu, labels=[f"input, label {int(y_test_shifted[0])}"], ncols=1)
image_grid(feature_maps, labels=[f"map {i}" for i in range(len(feature_maps))], ncols=8).suptitle("first-layer feature maps")
plt.show()

# %% [markdown]
# ## 6. Optional: the lecture's pair at full size
#
# Your `make_lecture_cnn` and `make_lecture_mlp` were built for $28\times 28$ images. Here they
# are on shifted digits on a $28\times 28$ canvas (where a digit can take $21^2 = 441$ positions),
# trained with the same loop. This takes about half a minute on a laptop CPU (much less on a GPU);
# expect roughly 30% test error for the CNN and 75% for the MLP, with only 1,200 training digits
# for 441 positions. The lecture reported 18.1% vs 47.1% on its (larger) data set. Not graded.

# %% tags=["otter_ignore"]
for name, build in (("lecture CNN", make_lecture_cnn), ("lecture MLP", make_lecture_mlp)):
    full_train, full_test = make_loaders(canvas=28, shifted=True, batch_size=16, seed=rng_seed)
    torch.manual_seed(rng_seed)
    model = build()
    with stopwatch() as clock:
        history = run_experiment(model, full_train, full_test, epochs=12, lr=1e-3, device=device, progress=PROGRESS)
    print(f"{name} ({count_parameters(model):,} parameters): test error {1 - history['test_acc'][-1]:.1%} "
          f"after 12 epochs ({clock.seconds:.0f} s on {device})")

# %% [markdown]
# ## Wrapping up
#
# You built two networks with the same number of parameters and saw the one that knows about
# images win by a wide margin as soon as position varies, and draw level when it does not. The
# reason is structural: a convolution is a small MLP applied to every patch with shared weights,
# which makes it translation equivariant, so what it learns at one position it knows at all of
# them. The training loop you wrote (`train`/`eval` modes, `zero_grad`, `no_grad`, a running
# loss, any device) is the one you will use for the rest of the course.
#
# Before you submit, run the whole notebook from the top (*Kernel → Restart & Run All*) and make
# sure every `grader.check` passes.
