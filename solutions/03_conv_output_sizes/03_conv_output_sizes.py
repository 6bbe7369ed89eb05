# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [raw]
# # ASSIGNMENT CONFIG
# name: 03_conv_output_sizes
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
# # Assignment 03: what a convolution does to a tensor
#
# Before you run a convolutional network you should be able to say, with pencil and paper,
# what every layer does to the shape of the tensor that flows through it, how many parameters
# the layer costs, and how much of the input one of its output units can see. Getting these
# numbers wrong is the most common reason a CNN refuses to run (`mat1 and mat2 shapes cannot be
# multiplied`), and getting them right is what lets you design one. In this assignment you
# derive the size formulas, check them against PyTorch, trace whole networks without running
# them, compute receptive fields, and finally write a convolution yourself and check it against
# `torch.nn.functional.conv2d`.
#
# **What you will do**
#
# | Part | You implement | Points |
# |---|---|---|
# | q1 | `conv_output_size`, with errors for impossible layers; a counterexample to the ceiling formula | 3 |
# | q2 | `pool_output_size` (with `ceil_mode`) and `conv_transpose_output_size` | 3 |
# | q3 | `conv2d_params` and `linear_params`: parameter counts | 2 |
# | q4 | `trace_shapes` and `count_stack_parameters`: a network's shapes and size, without running it | 4 |
# | q5 | `receptive_field` of a stack of convolutions and poolings | 3 |
# | q6 | `conv2d` and `max_pool2d` from scratch (im2col) | 5 |
#
# **How to work.** Replace every `...` with your code. After each question, run the
# `grader.check("qN")` cell below it: it runs the public tests and tells you what it called,
# what it expected and what came back. The autograder also runs hidden tests with other
# configurations (other seeds and ranges, dilations, `ceil_mode`, non-square inputs), so make
# your code general rather than tuned to the public examples.
#
# Everything here runs in a few seconds on a laptop CPU.

# %%
import math
import time

import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F
from torch import nn

import shared
from shared.plotting import image_grid

rng_seed = 0

# %% [markdown]
# ## 1. The output size of a convolution
#
# Take one spatial axis of length $n$ (the height, say). A convolution with kernel size $k$
# slides a window along it. Besides $k$, three hyper-parameters decide where the window goes:
#
# * **padding** $P$: $P$ zeros are added on *both* sides, so the window slides over a padded
#   axis of length $n + 2P$;
# * **dilation** $d$: the kernel's $k$ taps are $d$ apart, so the window spans
#   $d(k-1) + 1$ inputs (the *effective* kernel size; $d = 1$ is the ordinary kernel);
# * **stride** $S$: the window moves $S$ positions at a time, starting at position 0.
#
# The window starting at $0, S, 2S, \dots, tS$ fits as long as
# $tS + d(k-1) + 1 \le n + 2P$. Counting the windows that fit, the first one included, gives
#
# $$n_\text{out} = \left\lfloor \frac{n + 2P - d(k-1) - 1}{S} \right\rfloor + 1 .$$
#
# This is the formula in PyTorch's documentation of `nn.Conv2d`, applied to the height and the
# width separately. With $d = 1$ it is the lecture's $\frac{n + 2P - k}{S} + 1$, which is exact
# when $S$ divides $n + 2P - k$. When it does not, something has to be rounded, and one lecture
# slide writes a **ceiling** there:
#
# $$n_\text{out} \overset{?}{=} \left\lceil \frac{n - k + 2P}{S} \right\rceil + 1 .$$
#
# Which is right? Part of this question is to find out from PyTorch, and the argument above
# already tells you why: a window that would stick out past the padded input is not computed.
#
# Some layers are impossible: a kernel of size 0 has no taps, a stride of 0 never moves,
# negative padding is not supported, a dilation below 1 makes no sense, and a kernel wider than
# the padded input has nowhere to go. PyTorch refuses all five with a `RuntimeError`; your
# function should refuse them with a `ValueError` whose message names the offending argument.

# %% [raw]
# # BEGIN QUESTION
# name: q1
# points: 3

# %% [markdown]
# **Question 1 (3 points).**
#
# * `conv_output_size(n, kernel, stride=1, padding=0, dilation=1)`: the output length (an `int`)
#   of a convolution along one axis of length `n`, by the floor formula above. Raise
#   `ValueError` with a message that contains the argument's name (`"stride"`, `"padding"`,
#   `"dilation"`, `"kernel"`) when `stride < 1`, `padding < 0`, `dilation < 1`, `kernel < 1`,
#   or when the effective kernel $d(k-1)+1$ is larger than the padded input $n + 2P$ (name
#   `"kernel"` there). Integer division `//` is the floor, exactly; the result must be an `int`
#   (`math.floor` of a division gives one too, `np.floor` or `/` alone do not).
# * `ceil_counterexample()`: return a tuple `(n, kernel, stride, padding)` of a valid layer
#   (dilation 1) for which the slide's ceiling formula disagrees with PyTorch. Try a few layers
#   with `torch.nn.functional.conv1d` on `torch.zeros(1, 1, n)` until you find one.
#
# The tests compare `conv_output_size` with the output length of PyTorch's `conv1d` for
# hundreds of random configurations (a failure prints the configuration and both answers), and
# call it on impossible layers, one for each of the five rules, expecting the `ValueError`.

# %% [raw]
# # BEGIN SOLUTION


# %%
def conv_output_size(n, kernel, stride=1, padding=0, dilation=1):
    """Output length of a convolution along one axis of length n.

    out = floor((n + 2P - d(k-1) - 1) / S) + 1, for kernel k, stride S, padding P, dilation d.
    Raises ValueError naming the argument when the layer is impossible.
    """
    # BEGIN SOLUTION
    if stride < 1:
        raise ValueError(f"stride must be at least 1, got stride={stride}")
    if padding < 0:
        raise ValueError(f"padding must be non-negative, got padding={padding}")
    if dilation < 1:
        raise ValueError(f"dilation must be at least 1, got dilation={dilation}")
    if kernel < 1:
        raise ValueError(f"kernel must be at least 1, got kernel={kernel}")
    if dilation * (kernel - 1) + 1 > n + 2 * padding:
        raise ValueError(
            f"kernel of effective size {dilation * (kernel - 1) + 1} (kernel={kernel}, "
            f"dilation={dilation}) is larger than the padded input n + 2P = {n + 2 * padding}"
        )
    return (n + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1
    # END SOLUTION


def ceil_counterexample():
    """A layer (n, kernel, stride, padding) where ceil((n - k + 2P) / S) + 1 is not PyTorch's size."""
    # BEGIN SOLUTION
    return (6, 3, 2, 0)
    # END SOLUTION


# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS


# %%
def test_conv_output_size_public(conv_output_size):
    from shared.testing import conv_output_sizes as t

    first = [(28, 3, 1, 1), (32, 5), (7, 3, 2), (6, 3, 2), (28, 2, 2), (10, 3, 1, 0, 2)]
    ranges = dict(n=(1, 40), kernel=(1, 8), stride=(1, 5), padding=(0, 4), dilation=(1, 3))
    cases = t.conv_cases(0, 250, **ranges, fixed=first)
    t.check_conv_output_size(conv_output_size, cases)


# %%
def test_conv_output_size_errors_public(conv_output_size):
    from shared.testing import conv_output_sizes as t

    refused = [
        (dict(n=5, kernel=3, stride=0), ("stride",)),
        (dict(n=5, kernel=3, padding=-1), ("padding",)),
        (dict(n=5, kernel=3, dilation=0), ("dilation",)),
        (dict(n=5, kernel=0), ("kernel",)),
        (dict(n=5, kernel=6), ("kernel",)),
        (dict(n=4, kernel=4, padding=1, dilation=2), ("kernel", "dilation")),
    ]
    t.check_conv_errors(conv_output_size, refused, fits=[dict(n=4, kernel=8, padding=2)])


# %%
def test_ceil_counterexample_public(ceil_counterexample):
    from shared.testing import conv_output_sizes as t

    t.check_ceil_counterexample(ceil_counterexample)


# %%
""" # BEGIN TEST CONFIG
hidden: true
"""  # END TEST CONFIG


def test_conv_output_size_hidden(conv_output_size):
    from shared.testing import conv_output_sizes as t

    ranges = dict(n=(1, 70), kernel=(1, 10), stride=(1, 6), padding=(0, 5), dilation=(1, 5))
    t.check_conv_output_size(conv_output_size, t.conv_cases(1234, 150, **ranges))


# %%
""" # BEGIN TEST CONFIG
hidden: true
"""  # END TEST CONFIG


def test_conv_output_size_errors_hidden(conv_output_size):
    from shared.testing import conv_output_sizes as t

    refused = [
        (dict(n=30, kernel=3, stride=-2), ("stride",)),
        (dict(n=30, kernel=3, padding=-3), ("padding",)),
        (dict(n=30, kernel=3, dilation=0), ("dilation",)),
        (dict(n=30, kernel=-1), ("kernel",)),
        (dict(n=3, kernel=5, padding=0, dilation=1), ("kernel",)),
        (dict(n=10, kernel=4, padding=1, dilation=4), ("kernel", "dilation")),
    ]
    fits = [
        dict(n=1, kernel=1),
        dict(n=1, kernel=3, padding=1),
        dict(n=3, kernel=3, padding=1, dilation=2),
        dict(n=100, kernel=1, stride=100),
    ]
    t.check_conv_errors(conv_output_size, refused, fits=fits)


# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [markdown]
# Here is your counterexample next to PyTorch. The floor is not a convention: when $S$ does not
# divide $n + 2P - d(k-1) - 1$, the windows after the last whole one would need inputs that do
# not exist, so they are simply not computed. (The lecture's own example, a 28×28 image, a 3×3
# kernel with padding 1 and stride 1, divides exactly, which is why the slide's formula seems to
# work there.)

# %% tags=["otter_ignore"]
n, k, s, p = ceil_counterexample()
print(f"n={n}, kernel={k}, stride={s}, padding={p}")
print("slide (ceil):   ", math.ceil((n - k + 2 * p) / s) + 1)
print("floor formula:  ", conv_output_size(n, k, s, p))
print(
    "PyTorch Conv1d: ",
    F.conv1d(torch.zeros(1, 1, n), torch.zeros(1, 1, k), stride=s, padding=p).shape[-1],
)
print(
    "windows start at",
    list(range(0, n + 2 * p - k + 1, s)),
    "of the padded positions 0 ..",
    n + 2 * p - 1,
)

# %% [markdown]
# ## 2. Pooling and transposed convolution
#
# **Pooling** slides a window exactly like a convolution (max-pooling keeps the largest value in
# each window, average pooling the mean) and has the same size formula, with two differences in
# PyTorch's `nn.MaxPool2d(kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False)`:
#
# * the stride defaults to the kernel size (`stride=None`), so `nn.MaxPool2d(2)` halves the size;
# * with `ceil_mode=True` the division is rounded **up**, so a last, partial window that hangs
#   over the end is kept:
#   $n_\text{out} = \left\lceil \frac{n + 2P - d(k-1) - 1}{S} \right\rceil + 1$. But PyTorch
#   adds one rule: **the last window must start inside the input or the left padding**, that is
#   at a padded position $(n_\text{out} - 1) S < n + P$. If it would start in the right padding
#   (it would see nothing but padding), it is dropped and $n_\text{out}$ is one smaller.
#
# (PyTorch also requires $P \le k/2$ for pooling; the tests only use layers PyTorch accepts.)
#
# A **transposed convolution** (`nn.ConvTranspose2d`, sometimes called "deconvolution") goes the
# other way: it maps each input position to a $k \times k$ patch of the output, placed $S$ apart,
# and is how decoders and generators upsample. Its output length is the inverse of the
# convolution's formula,
#
# $$n_\text{out} = (n - 1)S - 2P + d(k-1) + \text{output\_padding} + 1 .$$
#
# Because the convolution's floor maps several input lengths to the same output length when
# $S > 1$, the inverse is ambiguous; `output_padding` (smaller than the stride or the dilation)
# picks which one, by adding that many positions at the end.

# %% [raw]
# # BEGIN QUESTION
# name: q2
# points: 3

# %% [markdown]
# **Question 2 (3 points).**
#
# * `pool_output_size(n, kernel, stride=None, padding=0, dilation=1, ceil_mode=False)`: the
#   output length of `nn.MaxPool2d` (or `nn.AvgPool2d`) along an axis of length `n`, with the
#   stride defaulting to the kernel size and PyTorch's last-window rule in `ceil_mode`.
# * `conv_transpose_output_size(n, kernel, stride=1, padding=0, output_padding=0, dilation=1)`:
#   the output length of `nn.ConvTranspose2d` along one axis.
#
# Both return an `int`; the tests only pass configurations PyTorch accepts, so no errors to raise
# here. They compare with PyTorch's `max_pool1d`, `avg_pool1d` and `conv_transpose1d` on random
# configurations.

# %% [raw]
# # BEGIN SOLUTION


# %%
def pool_output_size(n, kernel, stride=None, padding=0, dilation=1, ceil_mode=False):
    """Output length of max/avg pooling along one axis of length n (PyTorch's rules).

    stride=None means stride=kernel. With ceil_mode, round up, but drop a last window that
    would start in the right padding.
    """
    # BEGIN SOLUTION
    if stride is None:
        stride = kernel  # PyTorch's default: windows side by side
    span = n + 2 * padding - dilation * (kernel - 1) - 1
    if not ceil_mode:
        return span // stride + 1
    out = -(-span // stride) + 1
    if (out - 1) * stride >= n + padding:  # the last window would start in the right padding
        out -= 1
    return out
    # END SOLUTION


def conv_transpose_output_size(n, kernel, stride=1, padding=0, output_padding=0, dilation=1):
    """Output length of a transposed convolution: (n-1)S - 2P + d(k-1) + output_padding + 1."""
    # BEGIN SOLUTION
    return (n - 1) * stride - 2 * padding + dilation * (kernel - 1) + output_padding + 1
    # END SOLUTION


# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS


# %%
def test_pool_output_size_public(pool_output_size):
    from shared.testing import conv_output_sizes as t

    first = [(28, 2), (7, 2), (7, 2, None, 0, 1, True), (5, 2, 2, 1, 1, True), (6, 3, 3, 1, 1, True)]
    ranges = dict(n=(1, 30), kernel=(1, 6), stride=(1, 5), dilation=(1, 3))
    cases = t.pool_cases(3, 300, **ranges, p_default_stride=0.25, p_ceil=0.6, p_avg=0.2, fixed=first)
    t.check_pool_output_size(pool_output_size, cases)


# %%
def test_conv_transpose_output_size_public(conv_transpose_output_size):
    from shared.testing import conv_output_sizes as t

    ranges = dict(n=(1, 20), kernel=(1, 6), stride=(1, 4), padding=(0, 3), dilation=(1, 3))
    cases = t.transpose_cases(5, 200, **ranges, fixed=[(7, 2, 2)])  # undoes MaxPool2d(2) on 14
    t.check_conv_transpose_output_size(conv_transpose_output_size, cases)


# %%
""" # BEGIN TEST CONFIG
hidden: true
"""  # END TEST CONFIG


def test_pool_output_size_hidden(pool_output_size):
    from shared.testing import conv_output_sizes as t

    ranges = dict(n=(1, 50), kernel=(1, 7), stride=(1, 6), dilation=(1, 4))
    cases = t.pool_cases(4321, 160, **ranges, p_default_stride=0.3, p_ceil=0.7, p_avg=0.3)
    t.check_pool_output_size(pool_output_size, cases)


# %%
""" # BEGIN TEST CONFIG
hidden: true
"""  # END TEST CONFIG


def test_conv_transpose_output_size_hidden(conv_transpose_output_size):
    from shared.testing import conv_output_sizes as t

    ranges = dict(n=(1, 25), kernel=(1, 7), stride=(1, 5), padding=(0, 4), dilation=(1, 4))
    t.check_conv_transpose_output_size(conv_transpose_output_size, t.transpose_cases(55, 120, **ranges))


# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [markdown]
# ## 3. What a layer costs: parameters
#
# A convolution `nn.Conv2d(C_in, C_out, (k_h, k_w), groups=g)` has $C_\text{out}$ filters. Each
# filter is a $k_h \times k_w$ window **through all the input channels it reads**, $C_\text{in}/g$
# of them (with the default $g = 1$, all of them), plus one bias:
#
# $$\#\text{conv} = \left(k_h k_w \frac{C_\text{in}}{g} + 1\right) C_\text{out}, \qquad
#   \#\text{dense} = (n_\text{in} + 1)\, n_\text{out},$$
#
# where a dense layer `nn.Linear(n_in, n_out)` has one weight per input per unit and one bias
# per unit. Without a bias (`bias=False`) drop the $+1$. The size of the image does not appear in
# the convolution's count at all: the same filter is used at every position (**weight sharing**).
#
# The lecture's classic comparison, on a $32 \times 32 \times 3$ image (weights only):
#
# | layer | weights |
# |---|---|
# | dense, 100 units on the flattened image | $3072 \cdot 100 = 307{,}200$ |
# | convolution, 64 filters of $3 \times 3$ | $3 \cdot 3 \cdot 3 \cdot 64 = 1{,}728$ |
#
# about 180 times fewer. For a $100 \times 100$ grey image, *one* dense neuron already needs
# 10,000 weights; one $3 \times 3$ filter needs 9, whatever the image size.

# %% [raw]
# # BEGIN QUESTION
# name: q3
# points: 2

# %% [markdown]
# **Question 3 (2 points).**
#
# * `conv2d_params(c_in, c_out, kernel, groups=1, bias=True)`: the number of parameters of
#   `nn.Conv2d(c_in, c_out, kernel, groups=groups, bias=bias)`; `kernel` is an `int` (square)
#   or a pair `(k_h, k_w)` (the helper `as_pair` below turns either into a pair).
# * `linear_params(n_in, n_out, bias=True)`: the number of parameters of
#   `nn.Linear(n_in, n_out, bias=bias)`.
#
# The tests check the lecture's numbers and compare with the parameters of real PyTorch layers.


# %%
def as_pair(value):
    """(v, v) for an int v; (a, b) for a pair (a, b). PyTorch layers store sizes as pairs."""
    if isinstance(value, (tuple, list)):
        return int(value[0]), int(value[1])
    return int(value), int(value)


# %% [raw]
# # BEGIN SOLUTION


# %%
def conv2d_params(c_in, c_out, kernel, groups=1, bias=True):
    """Parameters of nn.Conv2d(c_in, c_out, kernel, groups=groups, bias=bias): (k_h k_w c_in/g + 1) c_out."""
    kh, kw = as_pair(kernel)
    # BEGIN SOLUTION
    per_filter = kh * kw * (c_in // groups) + (1 if bias else 0)  # one bias per filter
    return per_filter * c_out
    # END SOLUTION


def linear_params(n_in, n_out, bias=True):
    """Parameters of nn.Linear(n_in, n_out, bias=bias): (n_in + 1) n_out with a bias."""
    # BEGIN SOLUTION
    return (n_in + (1 if bias else 0)) * n_out
    # END SOLUTION


# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS


# %%
def test_params_lecture_public(env):
    from shared.testing import conv_output_sizes as t

    conv2d_params, linear_params = env.get("conv2d_params"), env.get("linear_params")

    dense = [(3072, 100, False), (3072, 100), (100 * 100, 1, False)]
    conv = [(3, 64, 3, 1, False), (3, 64, 3), (1, 1, 3, 1, False), (1, 1, (3, 5))]
    lecture = " (the lecture's example)"
    t.check_linear_params(linear_params, [t.LinearParamCase(*c) for c in dense], what=lecture)
    t.check_conv2d_params(conv2d_params, [t.ConvParamCase(*c) for c in conv], what=lecture)


# %%
def test_params_vs_torch_public(env):
    from shared.testing import conv_output_sizes as t

    conv2d_params, linear_params = env.get("conv2d_params"), env.get("linear_params")

    convs = t.conv_param_cases(7, 40, groups=[1, 1, 1, 2, 4], per_group=(1, 6), kernel=(1, 6), p_pair=0.5, p_bias=0.7)
    t.check_conv2d_params(conv2d_params, convs)
    dense = [(1, 1), (784, 512), (7, 3, False), (12, 1), (5, 5)]
    t.check_linear_params(linear_params, [t.LinearParamCase(*c) for c in dense])


# %%
""" # BEGIN TEST CONFIG
hidden: true
"""  # END TEST CONFIG


def test_params_vs_torch_hidden(env):
    from shared.testing import conv_output_sizes as t

    conv2d_params, linear_params = env.get("conv2d_params"), env.get("linear_params")

    convs = t.conv_param_cases(77, 40, groups=[1, 2, 3, 8], per_group=(1, 9), kernel=(1, 8), p_pair=1.0, p_bias=0.6)
    t.check_conv2d_params(conv2d_params, convs)
    dense = t.linear_param_cases(77, 10, n_in=(1, 5000), n_out=(1, 300), p_bias=0.5)
    t.check_linear_params(linear_params, dense)


# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% tags=["otter_ignore"]
dense, conv = linear_params(32 * 32 * 3, 100, bias=False), conv2d_params(3, 64, 3, bias=False)
print(
    f"dense 3072 -> 100: {dense:,} weights; conv 3x3, 3 -> 64: {conv:,} weights; ratio {dense / conv:.1f}"
)
print(f"with biases: {linear_params(3072, 100):,} and {conv2d_params(3, 64, 3):,}")
print(
    f"100x100 image: one dense neuron {linear_params(100 * 100, 1, bias=False):,} weights, one 3x3 filter {conv2d_params(1, 1, 3, bias=False)}"
)

# %% [markdown]
# ## 4. Tracing a network without running it
#
# Now put the pieces together. We describe a network as a **list of PyTorch layers**, exactly
# what you would pass to `nn.Sequential`, for example the small CNN of the lecture:
#
# ```python
# [nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
#  nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
#  nn.Flatten(), nn.Linear(32 * 7 * 7, 10)]
# ```
#
# A 28×28 grey image (shape `(1, 28, 28)` without the batch dimension) becomes `(16, 28, 28)`
# (padding 1 keeps the size), `(16, 14, 14)` after the first pool, `(32, 14, 14)`, `(32, 7, 7)`,
# and flattens to $32 \cdot 7 \cdot 7 = 1{,}568$ features, which is why the `Linear` layer has
# 1,568 inputs. Your tracer reads every layer's hyper-parameters, which PyTorch stores as
# attributes, and applies your formulas, **without calling the layer**:
#
# | layer | attributes to read | output shape from `(C, H, W)` |
# |---|---|---|
# | `nn.Conv2d` | `in_channels`, `out_channels`, `kernel_size`, `stride`, `padding`, `dilation` (all pairs) | `(out_channels, H', W')` by `conv_output_size` |
# | `nn.ConvTranspose2d` | the same and `output_padding` (pairs) | `(out_channels, H', W')` by `conv_transpose_output_size` |
# | `nn.MaxPool2d`, `nn.AvgPool2d` | `kernel_size`, `stride`, `padding`, `dilation` (max only), `ceil_mode` (ints or pairs) | `(C, H', W')` by `pool_output_size` |
# | `nn.Flatten()` | | `(C * H * W,)` |
# | `nn.Linear` | `in_features`, `out_features` | `(out_features,)` |
# | anything else (`nn.ReLU`, `nn.Tanh`, `nn.Dropout`, `nn.BatchNorm2d`, ...) | | unchanged |
#
# Height and width are separate: a `(3, 5)` kernel or a `(2, 1)` stride treats them differently.
# PyTorch stores `MaxPool2d(2).stride` as `2` already (it fills in the default), and an
# `nn.AvgPool2d` has no `dilation` attribute (`getattr(layer, "dilation", 1)`). The stacks in the
# tests use numeric padding (no `padding="same"`) and `nn.Flatten()` with its default arguments.
#
# When a layer does not fit what arrives (a `Conv2d` whose `in_channels` is not the incoming
# channel count, a `Linear` whose `in_features` is not the incoming feature count, a `Linear`
# before `Flatten`, a kernel larger than the padded input), PyTorch would fail with a cryptic
# message at run time. Your tracer should fail first, with a `ValueError` that says which layer
# and why.
#
# The two networks the lecture compares on MNIST are then a one-liner each to count:
#
# ```python
# cnn = [nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),      # 14x14
#        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),     # 7x7
#        nn.Flatten(), nn.Linear(64 * 7 * 7, 128), nn.ReLU(), nn.Dropout(0.3), nn.Linear(128, 10)]
# mlp = [nn.Flatten(), nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 32), nn.ReLU(), nn.Linear(32, 10)]
# ```
#
# 421,642 parameters for the CNN and 418,666 for the MLP: nearly the same budget, spent very
# differently (almost all of the CNN's is in its first dense layer).

# %% [raw]
# # BEGIN QUESTION
# name: q4
# points: 4

# %% [markdown]
# **Question 4 (4 points).**
#
# * `trace_shapes(layers, input_shape)`: `layers` is a list of PyTorch layers as above,
#   `input_shape` a tuple `(C, H, W)` (no batch dimension). Return a list with one shape per
#   layer, the shape of that layer's output as a tuple of ints without the batch dimension:
#   `(C, H, W)` or `(features,)`. Use your functions from q1 and q2; raise `ValueError` when a
#   layer does not fit its input.
# * `count_stack_parameters(layers)`: the total number of parameters of the layers, computed
#   from their hyper-parameters with `conv2d_params` (for `Conv2d` and `ConvTranspose2d`, whose
#   count is the same formula) and `linear_params`; `layer.bias is not None` tells whether a layer
#   has a bias. Other layers in the tests have no parameters.
#
# The tests build random stacks, run them in PyTorch on a zero tensor, and compare every
# layer's output shape with your trace, while calling a layer is forbidden for your code; they
# compare your count with the layers' real parameters (with `Module.parameters` forbidden).
# While these tests run, your functions of q1, q2 and q3 are replaced by PyTorch's answers (call
# them by their names, `conv_output_size(...)` and so on), so a mistake there costs points in
# its own question only, not here again.

# %% [raw]
# # BEGIN SOLUTION


# %%
def trace_shapes(layers, input_shape):
    """Shapes after each layer of `layers` for an input of shape (C, H, W), without running them.

    Returns a list of tuples, (C, H, W) or (features,), one per layer; raises ValueError when a
    layer does not fit its input.
    """
    shape = tuple(int(s) for s in input_shape)
    shapes = []
    # BEGIN SOLUTION
    for index, layer in enumerate(layers):
        where = f"layer {index} ({layer})"
        if (
            isinstance(layer, (nn.Conv2d, nn.ConvTranspose2d, nn.MaxPool2d, nn.AvgPool2d))
            and len(shape) != 3
        ):
            raise ValueError(f"{where} needs a (C, H, W) input, got shape {shape}")
        if isinstance(layer, (nn.Conv2d, nn.ConvTranspose2d)):
            if shape[0] != layer.in_channels:
                raise ValueError(
                    f"{where} expects {layer.in_channels} input channels, got shape {shape}"
                )
            (kh, kw), (sh, sw), (ph, pw), (dh, dw) = (
                as_pair(v) for v in (layer.kernel_size, layer.stride, layer.padding, layer.dilation)
            )
            try:
                if isinstance(layer, nn.Conv2d):
                    h = conv_output_size(shape[1], kh, sh, ph, dh)
                    w = conv_output_size(shape[2], kw, sw, pw, dw)
                else:
                    oph, opw = as_pair(layer.output_padding)
                    h = conv_transpose_output_size(shape[1], kh, sh, ph, oph, dh)
                    w = conv_transpose_output_size(shape[2], kw, sw, pw, opw, dw)
            except ValueError as err:
                raise ValueError(
                    f"{where} does not fit the input of shape {shape}: {err}"
                ) from None
            shape = (layer.out_channels, h, w)
        elif isinstance(layer, (nn.MaxPool2d, nn.AvgPool2d)):
            (kh, kw), (sh, sw), (ph, pw) = (
                as_pair(v) for v in (layer.kernel_size, layer.stride, layer.padding)
            )
            dh, dw = as_pair(getattr(layer, "dilation", 1))
            h = pool_output_size(shape[1], kh, sh, ph, dh, ceil_mode=layer.ceil_mode)
            w = pool_output_size(shape[2], kw, sw, pw, dw, ceil_mode=layer.ceil_mode)
            if h < 1 or w < 1:
                raise ValueError(f"{where} gives an empty output for the input of shape {shape}")
            shape = (shape[0], h, w)
        elif isinstance(layer, nn.Flatten):
            shape = (math.prod(shape),)
        elif isinstance(layer, nn.Linear):
            if len(shape) != 1 or shape[0] != layer.in_features:
                raise ValueError(
                    f"{where} expects {layer.in_features} input features, got shape {shape} (flatten first?)"
                )
            shape = (layer.out_features,)
        shapes.append(shape)
    return shapes
    # END SOLUTION


def count_stack_parameters(layers):
    """Total parameters of `layers`, from their hyper-parameters (conv2d_params, linear_params)."""
    # BEGIN SOLUTION
    total = 0
    for layer in layers:
        if isinstance(layer, (nn.Conv2d, nn.ConvTranspose2d)):
            total += conv2d_params(
                layer.in_channels,
                layer.out_channels,
                layer.kernel_size,
                layer.groups,
                layer.bias is not None,
            )
        elif isinstance(layer, nn.Linear):
            total += linear_params(layer.in_features, layer.out_features, layer.bias is not None)
    return total
    # END SOLUTION


# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS


# %%
def test_trace_lecture_public(trace_shapes, count_stack_parameters):
    from shared.testing import conv_output_sizes as t

    t.check_lecture_networks(trace_shapes, count_stack_parameters)


# %%
def test_trace_random_public(trace_shapes, count_stack_parameters):
    from shared.testing import conv_output_sizes as t

    layers = dict(channels=(1, 6), kernel=(1, 5), stride=(1, 3), padding=(0, 3), dilation=(1, 3))
    chances = dict(p_bias=0.7, p_default_stride=0.5, p_ceil=0.5, p_head=0.5)
    kinds = ["conv", "conv", "max", "avg", "relu", "convT"]
    stacks = t.random_stacks(11, 30, kinds=kinds, input_channels=(1, 4), size=(4, 30), depth=(2, 7), **layers, **chances)
    t.check_trace(trace_shapes, stacks)
    t.check_count(count_stack_parameters, [stack.layers for stack in stacks])


# %%
def test_trace_errors_public(trace_shapes):
    from torch import nn

    from shared.testing import conv_output_sizes as t

    misfits = [
        ([nn.Conv2d(3, 8, 3)], (1, 28, 28), "the Conv2d expects 3 channels but gets 1"),
        ([nn.Conv2d(1, 4, 3), nn.Flatten(), nn.Linear(100, 10)], (1, 8, 8), "the Linear expects 100 features but gets 4*6*6 = 144"),
        ([nn.Conv2d(1, 4, 5)], (1, 3, 3), "the 5x5 kernel does not fit a 3x3 input"),
    ]
    t.check_trace_refuses(trace_shapes, misfits)


# %%
""" # BEGIN TEST CONFIG
hidden: true
"""  # END TEST CONFIG


def test_trace_random_hidden(trace_shapes, count_stack_parameters):
    from torch import nn

    from shared.testing import conv_output_sizes as t

    layers = dict(channels=(1, 4), kernel=(1, 6), stride=(1, 4), padding=(0, 4), dilation=(1, 3))
    flags = dict(groups=True, transpose_dilation=True, pool_pair_dilation=True, head_relu=True)
    chances = dict(p_bias=0.5, p_default_stride=0.3, p_ceil=0.7, p_head=0.6, head_bias=0.5)
    kinds = ["conv", "conv", "max", "max", "avg", "tanh", "convT", "bn"]
    stacks = t.random_stacks(2024, 30, kinds=kinds, input_channels=(1, 5), size=(3, 45), depth=(3, 8), **layers, **flags, **chances)
    t.check_trace(trace_shapes, stacks)
    t.check_count(count_stack_parameters, [stack.layers for stack in stacks])
    misfits = [
        ([nn.Linear(12, 3)], (1, 3, 4), "a Linear needs a flat input"),
        ([nn.Flatten(), nn.Conv2d(1, 1, 1)], (1, 3, 3), "a Conv2d needs a (C, H, W) input"),
        ([nn.MaxPool2d(2), nn.Conv2d(2, 1, 1)], (1, 8, 8), "pooling keeps 1 channel; the Conv2d expects 2"),
    ]
    t.check_trace_refuses(trace_shapes, misfits)


# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [markdown]
# The lecture's MNIST pair, layer by layer:

# %% tags=["otter_ignore"]
lecture_cnn = [
    nn.Conv2d(1, 32, 3, padding=1),
    nn.ReLU(),
    nn.MaxPool2d(2),
    nn.Conv2d(32, 64, 3, padding=1),
    nn.ReLU(),
    nn.MaxPool2d(2),
    nn.Flatten(),
    nn.Linear(64 * 7 * 7, 128),
    nn.ReLU(),
    nn.Dropout(0.3),
    nn.Linear(128, 10),
]
lecture_mlp = [
    nn.Flatten(),
    nn.Linear(784, 512),
    nn.ReLU(),
    nn.Linear(512, 32),
    nn.ReLU(),
    nn.Linear(32, 10),
]
for name, stack in [("CNN", lecture_cnn), ("MLP", lecture_mlp)]:
    print(f"{name}: input (1, 28, 28)")
    for layer, out_shape in zip(stack, trace_shapes(stack, (1, 28, 28)), strict=True):
        print(
            f"  {str(layer):<60} -> {str(out_shape):<15} {count_stack_parameters([layer]):>9,} parameters"
        )
    print(f"  total: {count_stack_parameters(stack):,} parameters\n")

# %% [markdown]
# ## 5. What a unit sees: the receptive field
#
# The **receptive field** of a unit is the region of the *input* that can influence it. A unit
# of a first $3 \times 3$ convolution sees $3 \times 3$ pixels. A unit of a second $3 \times 3$
# convolution sees a $3 \times 3$ patch of the first layer's units, which together see
# $5 \times 5$ pixels; a third sees $7 \times 7$. (That is the VGG argument: three $3 \times 3$
# layers see as far as one $7 \times 7$ with $27C^2$ instead of $49C^2$ weights and two more
# non-linearities.)
#
# Strides make it grow faster. Along one axis, follow two numbers through the stack: the size
# $r$ of the receptive field, and the **jump** $j$, the distance in input pixels between two
# neighbouring units of the current layer (the accumulated stride). Before any layer $r_0 = 1$,
# $j_0 = 1$. A layer with kernel $k$, dilation $d$ and stride $S$ (a convolution or a pooling)
# gives
#
# $$r_\ell = r_{\ell-1} + d(k - 1)\, j_{\ell-1}, \qquad j_\ell = j_{\ell-1}\, S .$$
#
# The new kernel spans $d(k-1)+1$ units of the layer before, which are $j_{\ell-1}$ input pixels
# apart: the later a layer, the further apart its inputs are, and the more one extra tap adds.
# Activations, batch norm and dropout change nothing. **Dilated** convolutions grow the field
# without pooling and without more weights: $3 \times 3$ convolutions with dilations 1, 2, 4
# see $1 + 2 + 4 + 8 = 15$ pixels.
#
# Padding does not change $r$ or $j$, only where the field of the first unit starts.

# %% [raw]
# # BEGIN QUESTION
# name: q5
# points: 3

# %% [markdown]
# **Question 5 (3 points).** `receptive_field(layers)`: `layers` is a list of PyTorch layers
# (`nn.Conv2d`, `nn.MaxPool2d`, `nn.AvgPool2d`, and layers that do not change the geometry such
# as `nn.ReLU`). Return the tuple `(r, j)` of ints: the receptive field size and the jump of a
# unit of the last layer, along the height (the tests use square kernels, strides and
# dilations, so the width is the same; read the first entry of each pair, `as_pair` helps).
#
# The tests check your numbers against a **measurement**: they replace every layer with a
# single-channel convolution of ones with the same geometry, and take the gradient of one
# output unit with respect to the input: the pixels with a non-zero gradient are exactly the
# ones the unit sees, and two neighbouring units' fields start $j$ pixels apart.

# %% [raw]
# # BEGIN SOLUTION


# %%
def receptive_field(layers):
    """(r, j): receptive field size and jump (accumulated stride) after `layers`, along the height."""
    size, jump = 1, 1  # r_0 and j_0: before any layer, a unit is one input pixel
    # BEGIN SOLUTION
    for layer in layers:
        if isinstance(layer, (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d)):
            k = as_pair(layer.kernel_size)[0]
            s = as_pair(layer.stride)[0]
            d = as_pair(getattr(layer, "dilation", 1))[0]
            size = size + d * (k - 1) * jump  # d(k-1) more taps, each `jump` input pixels apart
            jump = jump * s
    return size, jump
    # END SOLUTION


# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS


# %%
def test_receptive_field_public(receptive_field):
    from torch import nn

    from shared.testing import conv_output_sizes as t

    lecture = [
        [nn.Conv2d(1, 1, 3), nn.ReLU(), nn.Conv2d(1, 1, 3), nn.ReLU(), nn.Conv2d(1, 1, 3)],
        [nn.Conv2d(1, 1, 3, padding=1), nn.MaxPool2d(2), nn.Conv2d(1, 1, 3, padding=1), nn.MaxPool2d(2)],
        [nn.Conv2d(1, 1, 3, dilation=1), nn.Conv2d(1, 1, 3, dilation=2), nn.Conv2d(1, 1, 3, dilation=4)],
        [nn.Conv2d(1, 1, 7, stride=2, padding=3), nn.MaxPool2d(3, stride=2, padding=1), nn.Conv2d(1, 1, 3, padding=1), nn.Conv2d(1, 1, 3, stride=2)],
    ]
    stacks = t.receptive_stacks(21, 12, depth=(2, 6), kernel=(1, 6), stride=(1, 3), dilation=(1, 3), p_max=0.3)
    t.check_receptive_field(receptive_field, lecture + stacks)


# %%
""" # BEGIN TEST CONFIG
hidden: true
"""  # END TEST CONFIG


def test_receptive_field_hidden(receptive_field):
    from shared.testing import conv_output_sizes as t

    stacks = t.receptive_stacks(909, 15, depth=(2, 7), kernel=(1, 6), stride=(1, 4), dilation=(1, 4), p_max=0.2, p_avg=0.15, channels=2)
    t.check_receptive_field(receptive_field, stacks, n=4096)


# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [markdown]
# The measurement itself, for the small CNN of section 4: the gradient of the middle unit after
# the second pooling with respect to a 28×28 input. The convolutions have weights of ones, and
# average poolings stand in for the max-poolings, whose gradient would reach only the largest
# pixel of each window.

# %% tags=["otter_ignore"]
geometry = [
    nn.Conv2d(1, 1, 3, padding=1, bias=False),
    nn.AvgPool2d(2),
    nn.Conv2d(1, 1, 3, padding=1, bias=False),
    nn.AvgPool2d(2),
]
for layer in geometry:
    if isinstance(layer, nn.Conv2d):
        nn.init.ones_(layer.weight)
image = torch.ones(1, 1, 28, 28, requires_grad=True)
feature = nn.Sequential(*geometry)(image)
feature[0, 0, 3, 3].backward()
r, j = receptive_field(geometry)
fig, ax = plt.subplots(figsize=(3.5, 3.5))
ax.imshow(image.grad[0, 0] > 0, cmap="gray")
ax.set_title(f"input pixels seen by unit (3, 3)\nreceptive_field: r={r}, j={j}")
plt.show()

# %% [markdown]
# ## 6. A convolution from scratch
#
# Deep-learning libraries call it convolution, but what they compute is a
# **cross-correlation**: the kernel is slid over the input *without flipping it*. For an input
# $x$ of shape $(N, C_\text{in}, H, W)$, weights $w$ of shape $(C_\text{out}, C_\text{in}, k_h,
# k_w)$ and bias $b$ of shape $(C_\text{out},)$, output unit $(n, o, i, j)$ is
#
# $$y_{n,o,i,j} = b_o + \sum_{c=0}^{C_\text{in}-1} \sum_{u=0}^{k_h-1} \sum_{v=0}^{k_w-1}
#   w_{o,c,u,v}\; \tilde x_{n,\,c,\; i S_h + u d_h,\; j S_w + v d_w},$$
#
# where $\tilde x$ is $x$ with $P_h$ zeros added above and below and $P_w$ left and right.
# (A true convolution would use $w_{o,c,k_h-1-u,k_w-1-v}$; for learned kernels the difference
# does not matter, since the network learns the flipped kernel instead, but it does matter when
# you compare with PyTorch or apply a hand-made filter.)
#
# Four nested loops over $n, o, i, j$ would be far too slow in Python. The standard trick is
# **im2col**: copy every receptive-field patch (a $C_\text{in} k_h k_w$ vector) into a column of
# a matrix, then the whole convolution is one matrix product with the weights reshaped to
# $(C_\text{out}, C_\text{in} k_h k_w)$. There are two ways to build the columns:
#
# * `torch.nn.functional.unfold(x, kernel_size, dilation, padding, stride)` does it in one call
#   and returns a tensor of shape $(N, C_\text{in} k_h k_w, L)$: $L = H_\text{out} W_\text{out}$
#   patches in row-major order, each flattened in the order $(C_\text{in}, k_h, k_w)$, the same
#   order as `w.reshape(C_out, -1)`.
# * **Strided views**: pad with `torch.nn.functional.pad(x, (left, right, top, bottom))`, then
#   `Tensor.unfold(dim, size, step)` makes a view (no copy) of the windows of `size` elements,
#   `step` apart, along one dimension; call it for the height (dim 2) and then the width (dim 3)
#   to get a tensor of shape $(N, C_\text{in}, H_\text{out}, W_\text{out}, \cdot, \cdot)$. With
#   dilation, take windows spanning $d(k-1)+1$ inputs and keep every $d$-th (`[..., ::d_h, ::d_w]`).
#   A `permute` to $(N, C_\text{in}, k_h, k_w, H_\text{out}, W_\text{out})$ and a `reshape` give
#   the same columns as `F.unfold`; on a CPU this route is often about twice as fast.
#
# Max-pooling is the same sliding window with `max` in place of the weighted sum, so the
# strided windows and `amax` over their last two dimensions do it. Padding for max-pooling must
# never win the max: PyTorch pads with $-\infty$, not with 0 (`pad(..., value=float("-inf"))`).

# %% [raw]
# # BEGIN QUESTION
# name: q6
# points: 5

# %% [markdown]
# **Question 6 (5 points).**
#
# * `conv2d(x, w, b=None, stride=1, padding=0, dilation=1)`: `x (N, C_in, H, W)`,
#   `w (C_out, C_in, k_h, k_w)`, `b (C_out,)` or `None`; `stride`, `padding`, `dilation` each an
#   `int` or a pair `(height, width)`. Returns `(N, C_out, H_out, W_out)` with the sizes of q1,
#   the same as `torch.nn.functional.conv2d(x, w, b, stride, padding, dilation)`.
# * `max_pool2d(x, kernel_size, stride=None, padding=0)`: `x (N, C, H, W)`, the others ints or
#   pairs, `stride=None` meaning `kernel_size`; returns `(N, C, H_out, W_out)` like
#   `torch.nn.functional.max_pool2d` (no dilation, no `ceil_mode` here).
#
# Vectorise: no Python loop over output positions. The intended route is `unfold` (either one)
# and one matrix product (or `amax`); a loop over the kernel's taps, the batch or the channels
# is not needed, but allowed. A test runs each function on a 4×4 and on a 24×24 image and fails
# if your Python code runs more lines for the larger one.
#
# The tests compare with PyTorch on random inputs and configurations, in float64 with a relative
# tolerance of 1e-9 (so keep the input's dtype: no detour through float32), and once in float32
# (tolerance 1e-4). They run your functions with `torch.nn.functional.conv2d`, `max_pool2d` and
# their relatives **forbidden**: calling them raises an error that says so. `unfold`, `pad`,
# `amax`, `matmul`/`@` and `einsum` are allowed. If your functions call `conv_output_size` or
# `pool_output_size`, the tests use PyTorch's sizes in their place, so a mistake in q1 or q2 is
# not counted again here.

# %% [raw]
# # BEGIN SOLUTION


# %%
def conv2d(x, w, b=None, stride=1, padding=0, dilation=1):
    """Cross-correlation of x (N, C_in, H, W) with w (C_out, C_in, k_h, k_w), plus bias b (C_out,).

    Returns (N, C_out, H_out, W_out), as torch.nn.functional.conv2d.
    """
    (sh, sw), (ph, pw), (dh, dw) = as_pair(stride), as_pair(padding), as_pair(dilation)
    # BEGIN SOLUTION
    n, c_in = x.shape[:2]
    c_out, _, kh, kw = w.shape
    padded = F.pad(x, (pw, pw, ph, ph))
    span_h, span_w = dh * (kh - 1) + 1, dw * (kw - 1) + 1  # effective kernel sizes
    windows = padded.unfold(2, span_h, sh).unfold(3, span_w, sw)  # strided views, no copy
    patches = windows[..., ::dh, ::dw]  # every d-th tap: (N, C_in, H_out, W_out, kh, kw)
    h_out, w_out = patches.shape[2:4]
    # im2col: one column per output position, rows in (C_in, kh, kw) order, as F.unfold gives them
    cols = patches.permute(0, 1, 4, 5, 2, 3).reshape(n, c_in * kh * kw, h_out * w_out)
    weights = w.reshape(c_out, -1)  # (C_out, C_in*kh*kw), the same order as cols: no flip
    out = weights @ cols  # (N, C_out, L)
    if b is not None:
        out = out + b.reshape(1, c_out, 1)
    return out.reshape(n, c_out, h_out, w_out)
    # END SOLUTION


def max_pool2d(x, kernel_size, stride=None, padding=0):
    """Max-pooling of x (N, C, H, W); stride=None means kernel_size. Returns (N, C, H_out, W_out)."""
    (kh, kw), (ph, pw) = as_pair(kernel_size), as_pair(padding)
    sh, sw = as_pair(kernel_size if stride is None else stride)
    # BEGIN SOLUTION
    padded = F.pad(x, (pw, pw, ph, ph), value=float("-inf"))  # padding must never win the max
    windows = padded.unfold(2, kh, sh).unfold(3, kw, sw)  # (N, C, H_out, W_out, kh, kw)
    return windows.amax(dim=(-2, -1))
    # END SOLUTION


# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS


# %%
def test_conv2d_public(conv2d):
    from shared.testing import conv_output_sizes as t

    first = [
        ((1, 1, 5, 5), (1, 1, 3, 3), True, 1, 0, 1),
        ((2, 3, 8, 8), (4, 3, 3, 3), True, 1, 1, 1),
        ((2, 2, 7, 9), (3, 2, 2, 3), False, 2, 1, 1),
        ((1, 3, 10, 10), (2, 3, 3, 3), True, 1, 2, 2),
        ((3, 1, 6, 11), (2, 1, 3, 1), True, (2, 1), (0, 1), (1, 2)),
    ]
    sizes = dict(batch=(1, 4), c_in=(1, 4), c_out=(1, 5), size=(5, 14), kernel=(1, 4))
    settings = dict(stride=(1, 3), padding=(0, 2), dilation=(1, 3), p_bias=0.7)
    t.check_conv2d(conv2d, t.conv2d_cases(8, 15, **sizes, **settings, fixed=first), seed=8)


# %%
def test_max_pool2d_public(max_pool2d):
    from shared.testing import conv_output_sizes as t

    first = [
        ((1, 1, 4, 4), 2),
        ((2, 3, 7, 7), 2),
        ((2, 2, 9, 8), 3, 2, 1),
        ((1, 3, 6, 10), (2, 3), (1, 2), (1, 1)),
        ((3, 1, 5, 5), 3, 1, 1),
    ]
    sizes = dict(batch=(1, 3), channels=(1, 3), size=(4, 12), kernel=(1, 4), stride=(1, 3))
    cases = t.max_pool2d_cases(9, 10, **sizes, p_default_stride=0.3, fixed=first)
    t.check_max_pool2d(max_pool2d, cases, seed=9, shift=-1.0)  # mostly negative: zero padding would win the max


# %%
def test_vectorised_public(conv2d, max_pool2d):
    from shared.testing import conv_output_sizes as t

    t.check_vectorised(conv2d, max_pool2d)


# %%
""" # BEGIN TEST CONFIG
hidden: true
"""  # END TEST CONFIG


def test_conv2d_hidden(conv2d):
    import torch

    from shared.testing import conv_output_sizes as t

    sizes = dict(batch=(1, 5), c_in=(1, 6), c_out=(1, 7), size=(6, 20), kernel=(1, 6))
    settings = dict(stride=(1, 4), padding=(0, 3), dilation=(1, 3), p_bias=0.67)
    t.check_conv2d(conv2d, t.conv2d_cases(99, 20, **sizes, **settings), seed=99)
    single = [t.Conv2dCase((4, 3, 12, 12), (5, 3, 3, 3), True, 1, 1, 1)]
    t.check_conv2d(conv2d, single, seed=99, dtype=torch.float32)


# %%
""" # BEGIN TEST CONFIG
hidden: true
"""  # END TEST CONFIG


def test_max_pool2d_hidden(max_pool2d):
    from shared.testing import conv_output_sizes as t

    sizes = dict(batch=(1, 4), channels=(1, 4), size=(5, 17), kernel=(1, 5), stride=(1, 4))
    t.check_max_pool2d(max_pool2d, t.max_pool2d_cases(98, 15, **sizes, p_default_stride=0.3), seed=98)


# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [markdown]
# ## Hand-made filters on a digit
#
# Before networks learned their filters, people designed them. **Sobel x** responds to a change
# of brightness from left to right (vertical edges), **Sobel y** to one from top to bottom
# (horizontal edges), the **blur** (box) filter averages its 3×3 neighbourhood, and the
# **Laplacian** responds to spots and thin strokes. Here they are, applied with your `conv2d`
# to a digit from scikit-learn's offline `digits` set (8×8 pixels, upsampled to 32×32 for the
# picture), then max-pooled with your `max_pool2d`. The Sobel-x map is bright where the image
# gets brighter to the right (the left side of a stroke) and dark on the other side: the sign
# follows the kernel as written, because this is a cross-correlation and nothing is flipped.

# %% tags=["otter_ignore"]
from sklearn.datasets import load_digits

digit = torch.tensor(load_digits().images[0], dtype=torch.float32)[None, None] / 16.0
digit = F.interpolate(digit, size=(32, 32), mode="bilinear", align_corners=False)
filters = {
    "Sobel x": [[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]],
    "Sobel y": [[-1.0, -2.0, -1.0], [0.0, 0.0, 0.0], [1.0, 2.0, 1.0]],
    "blur": [[1 / 9] * 3] * 3,
    "Laplacian": [[0.0, 1.0, 0.0], [1.0, -4.0, 1.0], [0.0, 1.0, 0.0]],
}
bank = torch.tensor(list(filters.values()))[:, None]  # (4, 1, 3, 3)
maps = conv2d(digit, bank, padding=1)  # (1, 4, 32, 32)
pooled = max_pool2d(maps, 2)  # (1, 4, 16, 16)
image_grid(bank[:, 0], labels=list(filters), ncols=4)
plt.suptitle("four hand-made 3x3 filters", y=1.15)
image_grid(torch.cat([digit[0], maps[0]]), labels=["digit", *filters], ncols=5)
plt.suptitle("feature maps (conv2d, padding 1)", y=1.15)
image_grid(pooled[0], labels=[f"{name}, pooled" for name in filters], ncols=4)
plt.show()

# %% [markdown]
# How fast is im2col? The same convolution as a layer of a small CIFAR network: a batch of 64
# RGB images of 32×32 and 16 filters of 3×3. PyTorch's own convolution is heavily optimised;
# one `unfold` and one matrix product get within a small factor of it.

# %% tags=["otter_ignore"]
dev = shared.device()
x_bench = torch.randn(64, 3, 32, 32, device=dev)
w_bench = torch.randn(16, 3, 3, 3, device=dev)
b_bench = torch.randn(16, device=dev)


def best_times(fns, repeats=30):
    """Fastest of `repeats` runs of each function, taking turns so that both see the same load."""
    times = {name: float("inf") for name in fns}
    for _ in range(repeats + 1):  # the first round warms up
        for name, fn in fns.items():
            if dev.type == "cuda":
                torch.cuda.synchronize()
            start = time.perf_counter()
            fn()
            if dev.type == "cuda":
                torch.cuda.synchronize()
            times[name] = min(times[name], time.perf_counter() - start)
    return times


times = best_times(
    {
        "your conv2d": lambda: conv2d(x_bench, w_bench, b_bench, padding=1),
        "F.conv2d": lambda: F.conv2d(x_bench, w_bench, b_bench, padding=1),
    }
)
print(
    f"on {dev}: your conv2d {times['your conv2d'] * 1e3:.2f} ms, F.conv2d {times['F.conv2d'] * 1e3:.2f} ms, "
    f"ratio {times['your conv2d'] / times['F.conv2d']:.1f}x"
)


# %% [markdown]
# ## Wrapping up
#
# You can now read a CNN's definition and say, without running it, what every layer does to
# the shape, how many parameters it costs and how far it sees, and you know what
# `nn.Conv2d` computes because you computed it yourself. Two habits to keep: when a formula and
# the library disagree, ask the library (that is how you found the floor); and when a network
# will not run, trace its shapes first.
#
# Before you submit, run the whole notebook from the top (*Kernel → Restart & Run All*) and make
# sure every `grader.check` passes.
