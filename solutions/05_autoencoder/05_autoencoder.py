# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [raw]
# # ASSIGNMENT CONFIG
# name: 05_autoencoder
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
# # Assignment 05: autoencoders, from compression to generation
#
# The lecture presents the autoencoder as **compress through a bottleneck, then reconstruct**:
# an encoder squeezes a $28\times 28$ image (784 numbers) through $784 \to 128 \to 32$, a decoder
# expands it back through $32 \to 128 \to 784$, and training minimises the reconstruction error
# $\mathcal{L} = \lVert x - \hat{x} \rVert^2$, "a compression ratio of nearly 25:1". Its uses, the
# lecture says, are denoising, dimensionality reduction (a non-linear alternative to PCA),
# anomaly detection (normal data reconstructs well, anomalies do not) and, through the
# *variational* autoencoder, generating new data. In this assignment you rebuild each of those
# claims and check it with numbers.
#
# **What you will do**
#
# | Part | You implement | Points |
# |---|---|---|
# | q1 | the lecture's autoencoder: `Encoder`, `Decoder`, `Autoencoder`, its parameter count and compression ratio | 3 |
# | q2 | the reconstruction loss `reconstruction_loss` | 2 |
# | q3 | training without labels: `train_autoencoder`, `reconstruction_error` | 5 |
# | q4 | the lecture's autoencoder, trained: training and test error | 2 |
# | q5 | PCA from scratch: `pca_fit`, `pca_reconstruct` | 4 |
# | q6 | autoencoders vs PCA: `make_linear_autoencoder` and the comparison | 3 |
# | q7 | a seeded noise function `add_noise` | 3 |
# | q8 | the denoising autoencoder, trained | 2 |
# | q9 | anomaly scores, ROC AUC from scratch, a threshold for a false-positive rate | 4 |
# | q10 | anomaly detection, trained | 2 |
# | q11 | the variational autoencoder: `reparameterize`, `kl_divergence`, `vae_loss`, `VAE` | 6 |
# | q12 | a convolutional autoencoder `ConvAutoencoder` | 2 |
# | q13 | the convolutional autoencoder, trained | 2 |
#
# **How to work.** Replace every `...` with your code. After each question, run the
# `grader.check("qN")` cell below it: it runs the public tests and tells you what it called,
# what it expected and what came back. The autograder also runs hidden tests with other inputs
# (shapes, sizes, seeds) and evaluates your trained networks on digits this notebook never loads,
# so write general code rather than code tuned to the public examples.
#
# Everything graded trains in a few seconds on a laptop CPU; the sweep over latent sizes and the
# variational autoencoder's pictures (not graded) take a little longer. Nothing here hard-codes
# a device: `shared.device()` picks a GPU if you have one and the CPU otherwise.

# %%
import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

import shared
from shared.digits import load_digits_upsampled
from shared.plotting import image_grid, latent_scatter, plot_curves, reconstruction_grid, score_histogram
from shared.training import make_unlabeled_loader, progress_bar

rng_seed = 0
device = shared.device()
PROGRESS = False  # set to True to watch progress bars while training

# %% [markdown]
# ## 0. The data: digits at MNIST's size
#
# The lecture's autoencoder is written for MNIST ($28\times 28$ images, 784 pixels). MNIST has
# to be downloaded, and nothing in this course may download anything, so we use scikit-learn's
# handwritten digits (which ship with scikit-learn) instead: 1,797 images of $8\times 8$ pixels,
# **enlarged to $28\times 28$** by bilinear interpolation, so that the lecture's exact
# architecture and its 25:1 ratio run at their real size. Pixels are in $[0, 1]$.
#
# ```python
# X, y = load_digits_upsampled("train")   # X (1200, 1, 28, 28) float32 in [0, 1], y (1200,) labels
# ```
#
# We flatten every image into a vector of 784 numbers. The 1,200 training digits are split once:
# the first 600 train our networks (`X_train`), the other 600 are **validation** data
# (`X_val`) that no network trains on. The 300 test digits (`X_test`) are for reporting. (A
# fourth split of 297 digits exists for the autograder only.) Autoencoders learn **without
# labels**: the labels `y_*` are used only to pick the "normal" digits in part 5 and to colour
# plots.

# %%
X_all, y_all = load_digits_upsampled("train")
X_train, y_train = X_all[:600].flatten(1), y_all[:600]  # (600, 784): what the networks train on
X_val, y_val = X_all[600:].flatten(1), y_all[600:]  # (600, 784): never trained on
X_test, y_test = load_digits_upsampled("test")
X_test = X_test.flatten(1)  # (300, 784)
print(f"train {tuple(X_train.shape)}, validation {tuple(X_val.shape)}, test {tuple(X_test.shape)}")

# %% tags=["otter_ignore"]
image_grid(X_train[:16].reshape(-1, 28, 28), labels=y_train[:16].tolist(), ncols=8).suptitle("training digits, 28×28")
plt.show()

# %% [markdown]
# ## 1. The lecture's autoencoder
#
# ```
# encoder:  Linear(784, 128) → ReLU → Linear(128, 32)                  x (N, 784) → z (N, 32)
# decoder:  Linear(32, 128) → ReLU → Linear(128, 784) → Sigmoid        z (N, 32)  → x̂ (N, 784)
# ```
#
# The **bottleneck** $z$ is *linear*: no activation after `Linear(128, 32)`, so a code can take
# any real value. The decoder ends with a Sigmoid, so every reconstructed pixel lies in $(0, 1)$,
# like the images. You wrote `count_parameters` in assignment 01; here it is again:

# %%
def count_parameters(module):
    """Number of trainable scalars (parameters with requires_grad=True) in `module`, as an int."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


# %% [raw]
# # BEGIN QUESTION
# name: q1
# points: 3

# %% [markdown]
# **Question 1 (3 points).** Implement three `nn.Module`s, for any sizes (the defaults are the
# lecture's):
#
# * `Encoder(in_dim=784, hidden=128, latent=32)`: `Linear(in_dim, hidden)` → ReLU →
#   `Linear(hidden, latent)`, mapping `(N, in_dim)` to codes `(N, latent)` (no activation at the end);
# * `Decoder(latent=32, hidden=128, out_dim=784)`: `Linear(latent, hidden)` → ReLU →
#   `Linear(hidden, out_dim)` → Sigmoid, mapping `(N, latent)` to `(N, out_dim)`;
# * `Autoencoder(in_dim=784, hidden=128, latent=32)` with attributes `self.encoder` (an `Encoder`)
#   and `self.decoder` (a `Decoder`); `forward(x)` returns `self.decoder(self.encoder(x))`.
#
# Then work out, **by hand** (an arithmetic expression is fine), `lecture_params`, the number of
# parameters of `Autoencoder()` (weights and biases), and `compression_ratio`, the number of
# values in an image divided by the number in its code.
#
# The tests check the parameter counts (for other sizes too), the output shapes, that
# reconstructions lie in $(0, 1)$ (a decoder whose parameters are all zero must output exactly
# 0.5, and one whose weights are all zero and biases all $-1$ must output $\sigma(-1)$: nothing
# comes between the last `Linear` and the Sigmoid), that codes can be negative (a linear
# bottleneck) while the encoder as a whole is not an affine map (the ReLU between its layers),
# that gradients reach every parameter, that each row's reconstruction depends on
# that row alone (a batch's rows never influence each other), and (hidden) that your layers
# compute what the table says, with reference layers holding your weights. Do not choose a
# device inside the modules. `nn.Sequential` or your own `forward`, `nn.ReLU` or `F.relu`: your
# choice.

# %% [raw]
# # BEGIN SOLUTION

# %%
class Encoder(nn.Module):
    """x (N, in_dim) -> Linear -> ReLU -> Linear -> z (N, latent), a linear bottleneck."""

    def __init__(self, in_dim=784, hidden=128, latent=32):
        super().__init__()
        # BEGIN SOLUTION
        self.layers = nn.Sequential(nn.Linear(in_dim, hidden), nn.ReLU(), nn.Linear(hidden, latent))
        # END SOLUTION

    def forward(self, x):
        # BEGIN SOLUTION
        return self.layers(x)  # no activation: codes may be negative
        # END SOLUTION


class Decoder(nn.Module):
    """z (N, latent) -> Linear -> ReLU -> Linear -> Sigmoid -> x_hat (N, out_dim) in (0, 1)."""

    def __init__(self, latent=32, hidden=128, out_dim=784):
        super().__init__()
        # BEGIN SOLUTION
        self.layers = nn.Sequential(nn.Linear(latent, hidden), nn.ReLU(), nn.Linear(hidden, out_dim), nn.Sigmoid())
        # END SOLUTION

    def forward(self, z):
        # BEGIN SOLUTION
        return self.layers(z)
        # END SOLUTION


class Autoencoder(nn.Module):
    """Encoder then decoder: x (N, in_dim) -> x_hat (N, in_dim)."""

    def __init__(self, in_dim=784, hidden=128, latent=32):
        super().__init__()
        # BEGIN SOLUTION
        self.encoder = Encoder(in_dim, hidden, latent)
        self.decoder = Decoder(latent, hidden, in_dim)
        # END SOLUTION

    def forward(self, x):
        # BEGIN SOLUTION
        return self.decoder(self.encoder(x))
        # END SOLUTION


lecture_params = (784 + 1) * 128 + (128 + 1) * 32 + (32 + 1) * 128 + (128 + 1) * 784  # SOLUTION
compression_ratio = 784 / 32  # SOLUTION
print(f"{lecture_params:,} parameters by hand, {count_parameters(Autoencoder()):,} counted; compression {compression_ratio}:1")

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_lecture_autoencoder_public(Encoder, Decoder, Autoencoder, lecture_params, compression_ratio):
    from shared.testing.autoencoder import check_autoencoder_classes, check_lecture_numbers

    check_autoencoder_classes(Encoder, Decoder, Autoencoder, in_dim=784, hidden=128, latent=32, seed=0)
    check_autoencoder_classes(Encoder, Decoder, Autoencoder, in_dim=20, hidden=7, latent=3, seed=1)
    check_lecture_numbers(lecture_params, compression_ratio)

# %%
""" # BEGIN TEST CONFIG
hidden: true
""" # END TEST CONFIG
def test_lecture_autoencoder_hidden(Encoder, Decoder, Autoencoder):
    from grader_only import oracles
    from shared.testing.autoencoder import check_autoencoder_classes, check_autoencoder_matches, check_device_free

    check_autoencoder_classes(Encoder, Decoder, Autoencoder, in_dim=50, hidden=11, latent=5, seed=7)
    for in_dim, hidden, latent in [(784, 128, 32), (30, 9, 4)]:
        check_autoencoder_matches(Autoencoder, oracles.autoencoder(in_dim, hidden, latent), in_dim, hidden, latent, seed=in_dim)
    check_device_free(lambda: Autoencoder(40, 8, 3), "Autoencoder(40, 8, 3)", (2, 40), (2, 40))

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [markdown]
# ## 2. Training without labels
#
# The lecture's loss, $\mathcal{L} = \lVert x - \hat{x}\rVert^2$, is the squared error **summed
# over the pixels** of one image. Over a batch of $N$ images we average it:
#
# $$\mathcal{L}_\text{batch} = \frac{1}{N} \sum_{i=1}^{N} \sum_{j=1}^{784} (x_{ij} - \hat{x}_{ij})^2 .$$
#
# Careful: `F.mse_loss(x_hat, x)` averages over the pixels too, so it is $784\times$ smaller.

# %% [raw]
# # BEGIN QUESTION
# name: q2
# points: 2

# %% [markdown]
# **Question 2 (2 points).** Implement `reconstruction_loss(x_hat, x)` for tensors of the same
# shape `(N, ...)` (any number of dimensions after the batch): the squared error summed over
# everything but the batch dimension, averaged over the batch, as a 0-d tensor that
# gradients flow through. The tests compare it with worked examples (and, hidden, on other
# shapes) and check that `backward()` works through it.

# %% [raw]
# # BEGIN SOLUTION

# %%
def reconstruction_loss(x_hat, x):
    """(1/N) sum_i ||x_i - x_hat_i||^2 for x_hat, x of shape (N, ...): a 0-d tensor."""
    # BEGIN SOLUTION
    return ((x_hat - x) ** 2).flatten(start_dim=1).sum(dim=1).mean()
    # END SOLUTION


# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_reconstruction_loss_public(reconstruction_loss):
    import torch

    from shared.testing.autoencoder import check_loss_value

    x = torch.zeros(2, 3, dtype=torch.float64)
    check_loss_value(reconstruction_loss, torch.ones(2, 3, dtype=torch.float64), x, 3.0)
    x_hat = torch.tensor([[1.0, 2.0], [0.0, 0.0], [3.0, 0.0], [0.0, 1.0]], dtype=torch.float64)
    check_loss_value(reconstruction_loss, x_hat, torch.zeros(4, 2, dtype=torch.float64), (5 + 0 + 9 + 1) / 4)
    check_loss_value(reconstruction_loss, torch.full((3, 2, 2, 2), 0.5), torch.zeros(3, 2, 2, 2), 2.0)

# %%
""" # BEGIN TEST CONFIG
hidden: true
""" # END TEST CONFIG
def test_reconstruction_loss_hidden(reconstruction_loss):
    import torch

    from grader_only import oracles
    from shared.testing.autoencoder import check_loss_value

    gen = torch.Generator().manual_seed(202)
    for shape in [(5, 7), (1, 3, 4), (6, 1, 5, 5)]:
        x_hat, x = torch.rand(*shape, generator=gen, dtype=torch.float64), torch.rand(*shape, generator=gen, dtype=torch.float64)
        check_loss_value(reconstruction_loss, x_hat, x, oracles.reconstruction_loss(x_hat, x).item())

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [markdown]
# The training loop is the one from assignment 04, with one difference: **there are no labels to
# learn**. The loader still yields `(x, y)` pairs (so the same loaders work for both), but the
# target of the loss is the input itself. `shared.training.make_unlabeled_loader(X, ...)` makes
# such a loader whose `y` is $-1$ everywhere; the tests feed your loop labels that are garbage
# and expect exactly the same training.
#
# The loop also takes an optional `corrupt` function, for the denoising autoencoder of part 4:
# the network sees `corrupt(x)` and must reconstruct the **clean** `x`.

# %% [raw]
# # BEGIN QUESTION
# name: q3
# points: 5

# %% [markdown]
# **Question 3 (5 points).** Implement
#
# * `train_autoencoder(model, loader, optimizer, loss_fn, *, epochs=1, device="cpu", corrupt=None, progress=False)`:
#   put the model in training mode; for each epoch and each batch `(x, _)` of `loader` (CPU
#   tensors; ignore the labels): move `x` to `device`; the input is `corrupt(x)` if `corrupt` is
#   given and `x` otherwise; `optimizer.zero_grad()`; `loss = loss_fn(model(input), x)`;
#   `loss.backward()`; `optimizer.step()`. Return a list with one float per epoch: the mean loss
#   per example over that epoch, $\frac{1}{N}\sum_\text{batches} \text{loss}_b\cdot|b|$. Show a
#   progress bar only when `progress=True` (`progress_bar(loader, enabled=progress)`).
# * `reconstruction_error(model, X, *, device="cpu", batch_size=256)`: the mean over the rows of
#   `X` (N, D) of $\lVert x_i - \text{model}(x_i)\rVert^2$, as a float, computed in evaluation
#   mode without gradients, in batches, with the model on `device` (it is already there; move
#   the batches).
#
# The tests record every optimizer step and check that it applied the gradient of
# `loss_fn(model(input), x)` for its own batch (with and without `corrupt`), that the labels play
# no part, that each batch was moved to `device`, the returned losses (Python floats), that the
# loop puts the model in training mode (it is handed one in evaluation mode, as
# `reconstruction_error` leaves it), that no progress bar shows with `progress=False`, and
# `reconstruction_error` on models whose error is known and differs from row to row, with a
# smaller last batch (so a mean of batch means shows), in evaluation mode, with the data moved to
# `device`, returning a Python float.

# %% [raw]
# # BEGIN SOLUTION

# %%
def train_autoencoder(model, loader, optimizer, loss_fn, *, epochs=1, device="cpu", corrupt=None, progress=False):
    """Train `model` to reconstruct its inputs; returns the mean loss per example of each epoch."""
    # BEGIN SOLUTION
    model.train()
    history = []
    for _ in range(epochs):
        running, seen = 0.0, 0
        for x, _ in progress_bar(loader, enabled=progress, desc="train"):  # the labels are never used
            x = x.to(device)
            inputs = corrupt(x) if corrupt is not None else x
            optimizer.zero_grad()
            loss = loss_fn(model(inputs), x)  # the target is the clean input
            loss.backward()
            optimizer.step()
            running += loss.item() * len(x)
            seen += len(x)
        history.append(running / seen)
    return history
    # END SOLUTION


def reconstruction_error(model, X, *, device="cpu", batch_size=256):
    """Mean over the rows of X of ||x - model(x)||^2, in eval mode without gradients (a float)."""
    # BEGIN SOLUTION
    model.eval()
    total = 0.0
    with torch.no_grad():
        for start in range(0, len(X), batch_size):
            x = X[start : start + batch_size].to(device)
            total += ((model(x) - x) ** 2).sum().item()
    return total / len(X)
    # END SOLUTION


# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_train_autoencoder_public(train_autoencoder):
    from shared.testing.autoencoder import check_train_autoencoder

    check_train_autoencoder(train_autoencoder, seed=0, n=10, dim=6, batch_size=4, epochs=2, corrupt=None)
    check_train_autoencoder(train_autoencoder, seed=1, n=9, dim=5, batch_size=3, epochs=1, corrupt="scale")

# %%
def test_reconstruction_error_public(reconstruction_error):
    from shared.testing.autoencoder import check_reconstruction_error

    check_reconstruction_error(reconstruction_error, n=7, dim=4, batch_size=3, seed=0)

# %%
""" # BEGIN TEST CONFIG
hidden: true
""" # END TEST CONFIG
def test_train_autoencoder_hidden(train_autoencoder):
    from shared.testing.autoencoder import check_train_autoencoder, check_train_on_device

    check_train_autoencoder(train_autoencoder, seed=5, n=11, dim=8, batch_size=5, epochs=3, corrupt="mask")
    check_train_autoencoder(train_autoencoder, seed=6, n=6, dim=3, batch_size=6, epochs=2, corrupt=None)
    check_train_on_device(train_autoencoder, seed=8)

# %%
""" # BEGIN TEST CONFIG
hidden: true
""" # END TEST CONFIG
def test_reconstruction_error_hidden(reconstruction_error):
    from shared.testing.autoencoder import check_reconstruction_error

    check_reconstruction_error(reconstruction_error, n=13, dim=9, batch_size=4, seed=3)
    check_reconstruction_error(reconstruction_error, n=5, dim=2, batch_size=256, seed=4)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [markdown]
# Now train the lecture's autoencoder on the 600 training digits: Adam, 10 epochs, batches of 64.
# It takes a second or two. It is seeded with `rng_seed`; when grading, the autograder sets
# `rng_seed` to values of its own, and the thresholds below were checked to hold for many seeds.

# %%
torch.manual_seed(rng_seed)
lecture_ae = Autoencoder().to(device)
lecture_history = train_autoencoder(
    lecture_ae, make_unlabeled_loader(X_train, batch_size=64, seed=rng_seed), torch.optim.Adam(lecture_ae.parameters(), lr=2e-3),
    reconstruction_loss, epochs=10, device=device, progress=PROGRESS,
)
print("training loss per epoch:", [round(loss, 2) for loss in lecture_history])

# %% [raw]
# # BEGIN QUESTION
# name: q4
# points: 2

# %% [markdown]
# **Question 4 (2 points).** With your `reconstruction_error`, store the trained `lecture_ae`'s
# error on the training digits in `train_error` and on the test digits in `test_error`. As a
# yardstick, store in `mean_image_error` the error of the laziest "autoencoder", one that outputs
# the mean training image (`X_train.mean(dim=0)`) whatever its input, on the test digits.
#
# The tests check that the autoencoder beats the yardstick by far (a test error at most 0.55
# times `mean_image_error`; the measured ratio is 0.32–0.38 over ten seeds) and, hidden, that
# the same holds on 297 held-out digits (measured 0.34–0.40) and that your numbers are what your
# model gives. The claim is judged only when your functions of questions 1 to 3 pass their
# public checks.

# %% [raw]
# # BEGIN SOLUTION

# %%
train_error = reconstruction_error(lecture_ae, X_train, device=device)  # SOLUTION
test_error = reconstruction_error(lecture_ae, X_test, device=device)  # SOLUTION
mean_image_error = ((X_test - X_train.mean(dim=0)) ** 2).sum(dim=1).mean().item()  # SOLUTION
print(f"train error {train_error:.2f}, test error {test_error:.2f}, mean-image yardstick {mean_image_error:.2f} (per image, summed over 784 pixels)")

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_lecture_errors_public(env):
    from shared.testing import gate
    from shared.testing.autoencoder import answered, check_lecture_errors, check_mean_image_error, upstream_checks

    skipped = gate(upstream_checks(env, "q1", "q2", "q3"))
    train_error, test_error, mean_image_error = (answered(env, n, skipped) for n in ("train_error", "test_error", "mean_image_error"))
    if skipped is not None:
        return skipped
    check_mean_image_error(mean_image_error, env["X_train"], env["X_test"])
    check_lecture_errors(train_error, test_error, mean_image_error, "the test split")

# %%
""" # BEGIN TEST CONFIG
hidden: true
""" # END TEST CONFIG
def test_lecture_errors_hidden(env):
    from grader_only import oracles
    from shared.testing import gate
    from shared.testing.autoencoder import answered, check_autoencoder_matches, check_lecture_errors, check_reported_error, strengthened, upstream_checks

    skipped = gate(strengthened(upstream_checks(env, "q1", "q2", "q3"), "q1", lambda: check_autoencoder_matches(env.get("Autoencoder"), oracles.autoencoder(30, 9, 4), 30, 9, 4, seed=30)))
    train_error, test_error, mean_image_error = (answered(env, n, skipped) for n in ("train_error", "test_error", "mean_image_error"))
    if skipped is not None:
        return skipped  # a mistake in questions 1 to 3 costs points there, not again here
    lecture_ae, X_train, X_test = env["lecture_ae"], env["X_train"], env["X_test"]
    check_reported_error(train_error, oracles.error(lecture_ae, X_train), "train_error")
    check_reported_error(test_error, oracles.error(lecture_ae, X_test), "test_error")
    from_train = "Hint: the yardstick answers the mean *training* image, X_train.mean(dim=0), for every test digit; a mean taken over the test digits uses data it must not."
    check_reported_error(mean_image_error, oracles.mean_image_error(X_train, X_test), "mean_image_error", from_train)
    X_heldout = oracles.heldout()
    check_lecture_errors(train_error, oracles.error(lecture_ae, X_heldout), oracles.mean_image_error(X_train, X_heldout), "297 held-out digits")

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [markdown]
# Originals (top) and their reconstructions (bottom), on test digits the network never saw:

# %% tags=["otter_ignore"]
lecture_ae.eval()
with torch.no_grad():
    shown = lecture_ae(X_test[:10].to(device)).cpu()
reconstruction_grid(X_test[:10], shown, n=10).suptitle(f"the lecture's autoencoder, 32 numbers per image (test error {test_error:.1f})")
plot_curves({"training loss": lecture_history}, ylabel="loss per image", title="the lecture's autoencoder: training loss per epoch")
plt.show()

# %% [markdown]
# **What these numbers say.** At the seeds we tried, the training loss falls from about 80 to
# about 13 per image in the 10 epochs and still drops by more than 1 per epoch at the end: the
# graded budget (seconds on a laptop) stops well short of convergence. The test error (about
# 12.5) is a third of the mean-image yardstick's (37.7), so the 32-number code keeps the broad
# shape of a digit; it does **not** keep "most of an image" in the sense PCA does here: PCA with
# the same 32 numbers per image reconstructs the test digits with an error of about 0.7, some 18
# times smaller. These digits were enlarged from $8\times 8$ images, so they live in a linear
# space of at most 64 dimensions, where 32 principal components miss almost nothing. The next
# section compares the two fairly, with few numbers per image.

# %% [markdown]
# ## 3. Autoencoder vs PCA
#
# PCA is the classic linear answer to "describe each image with $k$ numbers". Centre the data
# ($\mu$ = the mean image), take the singular value decomposition of the centred data matrix,
# $X - \mu = U S V^\top$ (rows of $X$ are images; `torch.linalg.svd(A, full_matrices=False)`
# returns `U`, `S` and `Vh` $= V^\top$), and keep the first $k$ **right** singular vectors, the
# rows of `Vh[:k]`, as the $k$ **components** (each a unit vector in pixel space, in order of
# decreasing singular value). An image is encoded by its $k$ coordinates
# $c = (x - \mu) C^\top$ along the components $C$ $(k \times D)$ and decoded as
# $\hat{x} = \mu + c\, C$.
#
# The **Eckart–Young theorem** says that no other rank-$k$ reconstruction of the training data
# has a smaller summed squared error. A *linear* autoencoder (`Linear(D, k)` then `Linear(k, D)`,
# no activations) computes $\hat{x} = W_2(W_1 x + b_1) + b_2$, a rank-$k$ affine map: so on the
# data PCA was fitted to, its error can at best equal PCA's, never be smaller. A *non-linear*
# autoencoder is not bound by this: it can bend its $k$-dimensional code space around the data.

# %% [raw]
# # BEGIN QUESTION
# name: q5
# points: 4

# %% [markdown]
# **Question 5 (4 points).** Implement, with an SVD and without scikit-learn:
#
# * `pca_fit(X, k)`: for data `X` of shape `(N, D)` (a float tensor), return `(mean, components)`:
#   the mean row `mean` of shape `(D,)` and the top-$k$ principal components `components` of
#   shape `(k, D)`, orthonormal rows, in order of decreasing singular value, both of `X`'s dtype,
#   leaving `X` unchanged.
# * `pca_reconstruct(X, mean, components)`: the reconstruction $\mu + (X - \mu) C^\top C$ of every
#   row of `X` (`(N, D)` in, `(N, D)` out).
#
# The tests build random data of known rank with known components (the sign of each
# component does not matter) and check the mean, that the components span the right directions
# in the right order, that they are orthonormal, the reconstruction, and the error left, which is
# the sum of the squared singular values that were dropped, divided by $N$, that `X` is left
# unchanged and that float32 data gives float32 results; hidden tests use other ranks and shapes.

# %% [raw]
# # BEGIN SOLUTION

# %%
def pca_fit(X, k):
    """(mean (D,), components (k, D)): the top-k right singular vectors of the centred X (N, D)."""
    # BEGIN SOLUTION
    mean = X.mean(dim=0)
    _, _, Vh = torch.linalg.svd(X - mean, full_matrices=False)  # rows of Vh: right singular vectors
    return mean, Vh[:k]
    # END SOLUTION


def pca_reconstruct(X, mean, components):
    """mean + (X - mean) C^T C for every row of X (N, D)."""
    # BEGIN SOLUTION
    codes = (X - mean) @ components.T  # (N, k)
    return mean + codes @ components
    # END SOLUTION


# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_pca_public(pca_fit, pca_reconstruct):
    from shared.testing.autoencoder import check_pca, low_rank_data

    data = low_rank_data(n=40, d=12, singular_values=(6.0, 4.0, 2.5, 1.0), seed=0)
    for k in (2, 4):
        check_pca(pca_fit, pca_reconstruct, data, k)

# %%
""" # BEGIN TEST CONFIG
hidden: true
""" # END TEST CONFIG
def test_pca_hidden(pca_fit, pca_reconstruct):
    import torch

    from grader_only import oracles
    from shared.testing.autoencoder import check_pca, check_pca_against, low_rank_data

    data = low_rank_data(n=25, d=30, singular_values=(9.0, 5.0, 3.0, 2.0, 1.5, 0.5), seed=11)
    for k in (1, 3, 6):
        check_pca(pca_fit, pca_reconstruct, data, k)
    X = torch.rand(50, 9, generator=torch.Generator().manual_seed(3), dtype=torch.float64) + 2.0
    check_pca_against(pca_fit, pca_reconstruct, X, 4, oracles.pca(X, 4))

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [markdown]
# ### The comparison
# We compare at $k = 4$ numbers per image: PCA fitted to the 600 training digits, a linear
# autoencoder and a non-linear one (your `Autoencoder` with `latent=4`), both trained on the same
# digits. The linear one needs many small steps to find PCA's directions (60 epochs, batches of
# 32); both train in about a second.

# %% [raw]
# # BEGIN QUESTION
# name: q6
# points: 3

# %% [markdown]
# **Question 6 (3 points).** Implement `make_linear_autoencoder(in_dim, k)`: `Linear(in_dim, k)`
# then `Linear(k, in_dim)`, with biases and **no** activation at all, as any `nn.Module`. The
# next cell trains it; then store the four errors, all with the same per-image formula:
#
# * `pca_train_error`, `linear_train_error`: PCA's and the linear autoencoder's error on
#   `X_train` (the data both were fitted to);
# * `pca_test_error`, `nonlinear_test_error`: PCA's and the non-linear autoencoder's error on
#   `X_test`.
#
# The tests check your linear autoencoder (its parameter count, that it is an affine map, its
# shapes), then the claims: the linear autoencoder never beats PCA on the training data (up to
# float32 rounding, 0.1%) and gets close to it (at most 1.3 times PCA's error; measured
# 1.08–1.15 over ten seeds), and the non-linear autoencoder beats PCA on the test digits
# (measured 0.73–0.82 times PCA's error) and, hidden, on held-out digits (0.76–0.84). Hidden
# tests also recompute each of the four errors from the model it names (PCA: `mean_image` and
# `components`, fitted on `X_train` in the cell below, never a PCA refitted on test data).

# %% [raw]
# # BEGIN SOLUTION

# %%
def make_linear_autoencoder(in_dim, k):
    """Linear(in_dim, k) -> Linear(k, in_dim), no activation: a rank-k affine map."""
    # BEGIN SOLUTION
    return nn.Sequential(nn.Linear(in_dim, k), nn.Linear(k, in_dim))
    # END SOLUTION


K = 4
mean_image, components = pca_fit(X_train, K)
torch.manual_seed(rng_seed)
linear_ae = make_linear_autoencoder(784, K).to(device)
train_autoencoder(linear_ae, make_unlabeled_loader(X_train, batch_size=32, seed=rng_seed), torch.optim.Adam(linear_ae.parameters(), lr=5e-3),
                  reconstruction_loss, epochs=60, device=device)
torch.manual_seed(rng_seed)
nonlinear_ae = Autoencoder(latent=K).to(device)
train_autoencoder(nonlinear_ae, make_unlabeled_loader(X_train, batch_size=64, seed=rng_seed), torch.optim.Adam(nonlinear_ae.parameters(), lr=3e-3),
                  reconstruction_loss, epochs=20, device=device)

pca_train_error = reconstruction_loss(pca_reconstruct(X_train, mean_image, components), X_train).item()  # SOLUTION
linear_train_error = reconstruction_error(linear_ae, X_train, device=device)  # SOLUTION
pca_test_error = reconstruction_loss(pca_reconstruct(X_test, mean_image, components), X_test).item()  # SOLUTION
nonlinear_test_error = reconstruction_error(nonlinear_ae, X_test, device=device)  # SOLUTION
print(f"k = {K}: training data: PCA {pca_train_error:.2f}, linear AE {linear_train_error:.2f}; "
      f"test data: PCA {pca_test_error:.2f}, non-linear AE {nonlinear_test_error:.2f}")

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_autoencoder_vs_pca_public(env):
    from shared.testing import gate
    from shared.testing.autoencoder import answered, check_linear_autoencoder, check_pca_claims, upstream_checks

    check_linear_autoencoder(env.get("make_linear_autoencoder"), 784, 4, seed=0)
    check_linear_autoencoder(env.get("make_linear_autoencoder"), 10, 3, seed=1)
    skipped = gate(upstream_checks(env, "q1", "q2", "q3", "q5"))
    errors = [answered(env, n, skipped) for n in ("pca_train_error", "linear_train_error", "pca_test_error", "nonlinear_test_error")]
    if skipped is not None:
        return skipped
    check_pca_claims(*errors, "the test split")

# %%
""" # BEGIN TEST CONFIG
hidden: true
""" # END TEST CONFIG
def test_autoencoder_vs_pca_hidden(env):
    from grader_only import oracles
    from shared.testing import gate
    from shared.testing.autoencoder import (answered, check_autoencoder_matches, check_linear_autoencoder, check_pca_claims, check_reported_error,
                                            strengthened, upstream_checks)

    check_linear_autoencoder(env.get("make_linear_autoencoder"), 37, 5, seed=2)
    skipped = gate(strengthened(upstream_checks(env, "q1", "q2", "q3", "q5"), "q1", lambda: check_autoencoder_matches(env.get("Autoencoder"), oracles.autoencoder(30, 9, 4), 30, 9, 4, seed=30)))
    names = ("pca_train_error", "linear_train_error", "pca_test_error", "nonlinear_test_error")
    pca_train_error, linear_train_error, pca_test_error, nonlinear_test_error = (answered(env, n, skipped) for n in names)
    if skipped is not None:
        return skipped
    X_train, X_test, linear_ae, nonlinear_ae = env["X_train"], env["X_test"], env["linear_ae"], env["nonlinear_ae"]
    mean, components = oracles.pca(X_train, env["K"])
    fitted_on_train = "Hint: PCA is fitted once, on X_train (mean_image, components); the test error reconstructs X_test with those, never with a PCA refitted on test data."
    check_reported_error(pca_train_error, oracles.pca_error(X_train, mean, components), "pca_train_error")
    check_reported_error(linear_train_error, oracles.error(linear_ae, X_train), "linear_train_error")
    check_reported_error(pca_test_error, oracles.pca_error(X_test, mean, components), "pca_test_error", fitted_on_train)
    check_reported_error(nonlinear_test_error, oracles.error(nonlinear_ae, X_test), "nonlinear_test_error")
    X_heldout = oracles.heldout()
    check_pca_claims(pca_train_error, linear_train_error, oracles.pca_error(X_heldout, mean, components), oracles.error(nonlinear_ae, X_heldout),
                     "297 held-out digits")

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [markdown]
# **The lecture's trade-off as a curve.** "Too small, and reconstruction suffers": below, for
# $k = 2, 4, 8, 16, 32$ (not graded; about fifteen seconds), the linear autoencoder against PCA on
# the training digits (never below it), and the non-linear one against PCA on the test digits. Our
# enlarged digits come from $8\times 8$ images, so they live in a linear space of at most 64
# dimensions: PCA overtakes once $k$ is large (at $k = 64$ it would be exact), while with few
# numbers per image the non-linear code wins. The printed ratios say by how much.

# %% tags=["otter_ignore"]
sweep_ks = [2, 4, 8, 16, 32]
train_curves = {"PCA": [], "linear AE": []}  # on the training digits: Eckart-Young's bound
test_curves = {"PCA": [], "non-linear AE": []}  # on the test digits
for k in sweep_ks:
    pca_k = pca_fit(X_train, k)
    train_curves["PCA"].append(reconstruction_loss(pca_reconstruct(X_train, *pca_k), X_train).item())
    test_curves["PCA"].append(reconstruction_loss(pca_reconstruct(X_test, *pca_k), X_test).item())
    torch.manual_seed(rng_seed)
    linear_k = make_linear_autoencoder(784, k).to(device)
    train_autoencoder(linear_k, make_unlabeled_loader(X_train, batch_size=32, seed=rng_seed), torch.optim.Adam(linear_k.parameters(), lr=5e-3),
                      reconstruction_loss, epochs=60, device=device)
    train_curves["linear AE"].append(reconstruction_error(linear_k, X_train, device=device))
    torch.manual_seed(rng_seed)
    model = Autoencoder(latent=k).to(device)
    train_autoencoder(model, make_unlabeled_loader(X_train, batch_size=64, seed=rng_seed), torch.optim.Adam(model.parameters(), lr=3e-3),
                      reconstruction_loss, epochs=20, device=device)
    test_curves["non-linear AE"].append(reconstruction_error(model, X_test, device=device))
fig, axes = plt.subplots(1, 2, figsize=(11, 4))
for ax, curves, where in ((axes[0], train_curves, "training"), (axes[1], test_curves, "test")):
    for name, errors in curves.items():
        ax.plot(sweep_ks, errors, marker="o", label=name)
    ax.set_xscale("log", base=2)
    ax.set_title(f"reconstruction error on the {where} digits")
    ax.set_xlabel("numbers per image, k")
    ax.set_ylabel(f"{where} reconstruction error per image")
    ax.legend()
plt.tight_layout()
plt.show()
for name, curves, other in (("linear AE / PCA (training)", train_curves, "linear AE"), ("non-linear AE / PCA (test)", test_curves, "non-linear AE")):
    print(f"{name} for k = {sweep_ks}:", np.round(np.array(curves[other]) / np.array(curves["PCA"]), 2))

# %% [markdown]
# ## 4. Denoising
#
# A denoising autoencoder sees a **corrupted** image and is trained to output the **clean**
# one. Two common corruptions:
#
# * **Gaussian noise** of level $\sigma$: add $\sigma\,\varepsilon$ with $\varepsilon \sim
#   \mathcal{N}(0, 1)$ independently to every pixel, then clip to $[0, 1]$ (pixels stay pixels);
# * **masking noise** of level $p$: set every pixel to 0 independently with probability $p$,
#   leave the others unchanged.
#
# Random corruption must be reproducible, so your noise function draws its random numbers from
# a `torch.Generator` when it is given one (`torch.randn(shape, generator=g, device=...,
# dtype=...)`, `torch.rand(...)` likewise); `torch.randn_like` cannot take a generator.

# %% [raw]
# # BEGIN QUESTION
# name: q7
# points: 3

# %% [markdown]
# **Question 7 (3 points).** Implement `add_noise(x, kind, level, generator=None)` for a tensor
# `x` of any shape: `kind="gaussian"` adds Gaussian noise of standard deviation `level` and clips
# to $[0, 1]$; `kind="mask"` zeroes each entry with probability `level`; any other `kind` raises a
# `ValueError`. Return a new tensor of `x`'s shape, dtype and device, leaving `x` unchanged; draw
# every random number from `generator` (or from torch's global generator when it is None).
#
# The tests check reproducibility (the same seed gives the same noise, another seed other
# noise, and the global generator is left alone when one is given), the statistics of the
# noise (its mean and standard deviation, the fraction of zeroed entries, within five standard
# errors), the clipping, that masking keeps the other entries as they were, and the error.

# %% [raw]
# # BEGIN SOLUTION

# %%
def add_noise(x, kind, level, generator=None):
    """Corrupt x: "gaussian" (x + level * N(0, 1), clipped to [0, 1]) or "mask" (zero with probability level)."""
    # BEGIN SOLUTION
    if kind == "gaussian":
        noise = torch.randn(x.shape, generator=generator, device=x.device, dtype=x.dtype)
        return (x + level * noise).clamp(0.0, 1.0)
    if kind == "mask":
        keep = torch.rand(x.shape, generator=generator, device=x.device) >= level
        return x * keep
    raise ValueError(f"unknown kind of noise {kind!r}; use 'gaussian' or 'mask'")
    # END SOLUTION


# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_add_noise_public(add_noise):
    from shared.testing.autoencoder import check_noise

    check_noise(add_noise, "gaussian", 0.1, shape=(200, 100), seed=0)
    check_noise(add_noise, "mask", 0.3, shape=(200, 100), seed=1)

# %%
""" # BEGIN TEST CONFIG
hidden: true
""" # END TEST CONFIG
def test_add_noise_hidden(add_noise):
    from shared.testing.autoencoder import check_noise

    check_noise(add_noise, "gaussian", 0.05, shape=(40, 3, 20, 20), seed=7)
    check_noise(add_noise, "mask", 0.7, shape=(30, 700), seed=8)
    check_noise(add_noise, "gaussian", 0.2, shape=(100, 300), seed=9, dtype="float64")

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [markdown]
# The denoiser is the lecture's architecture again, trained on digits corrupted by masking
# noise ($p = 0.25$) *and then* Gaussian noise ($\sigma = 0.2$), fresh noise for every batch,
# against the clean digits. We then corrupt the test digits the same way (with a seeded
# generator) and compare.

# %%
NOISE = (("mask", 0.25), ("gaussian", 0.2))


def corrupt_both(x, generator=None):
    for kind, level in NOISE:
        x = add_noise(x, kind, level, generator=generator)
    return x


noise_generator = torch.Generator(device=device).manual_seed(rng_seed)
torch.manual_seed(rng_seed)
denoiser = Autoencoder().to(device)
train_autoencoder(denoiser, make_unlabeled_loader(X_train, batch_size=64, seed=rng_seed), torch.optim.Adam(denoiser.parameters(), lr=2e-3),
                  reconstruction_loss, epochs=10, device=device, corrupt=lambda x: corrupt_both(x, noise_generator))
X_test_noisy = corrupt_both(X_test, torch.Generator().manual_seed(rng_seed + 1))
denoiser.eval()
with torch.no_grad():
    denoised_test = denoiser(X_test_noisy.to(device)).cpu()  # the denoiser's outputs for the noisy test digits

# %% [raw]
# # BEGIN QUESTION
# name: q8
# points: 2

# %% [markdown]
# **Question 8 (2 points).** Store in `noisy_error` how far the noisy test digits `X_test_noisy`
# are from the clean ones `X_test`, and in `denoised_error` how far the denoiser's outputs for
# `X_test_noisy` (computed for you in `denoised_test`) are from the clean digits, both per image,
# summed over pixels and averaged over images.
#
# The tests check that the denoiser removes a good part of the noise: `denoised_error` at most
# 0.6 times `noisy_error` (measured 0.32–0.38 over ten seeds), on the test split and, hidden, on
# held-out digits corrupted with a generator of their own.

# %% [raw]
# # BEGIN SOLUTION

# %%
noisy_error = reconstruction_loss(X_test_noisy, X_test).item()  # SOLUTION
denoised_error = reconstruction_loss(denoised_test, X_test).item()  # SOLUTION
print(f"noisy inputs: {noisy_error:.2f} from the clean digits; denoised: {denoised_error:.2f} ({denoised_error / noisy_error:.2f} x)")

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_denoising_public(env):
    from shared.testing import gate
    from shared.testing.autoencoder import answered, check_denoising, check_noisy_error, upstream_checks

    skipped = gate(upstream_checks(env, "q1", "q2", "q3", "q7"))
    noisy_error, denoised_error = (answered(env, n, skipped) for n in ("noisy_error", "denoised_error"))
    if skipped is not None:
        return skipped
    check_noisy_error(noisy_error, env["X_test_noisy"], env["X_test"])
    check_denoising(noisy_error, denoised_error, "the test split")

# %%
""" # BEGIN TEST CONFIG
hidden: true
""" # END TEST CONFIG
def test_denoising_hidden(env):
    from grader_only import oracles
    from shared.testing import gate
    from shared.testing.autoencoder import answered, check_autoencoder_matches, check_denoising, check_reported_error, strengthened, upstream_checks

    skipped = gate(strengthened(upstream_checks(env, "q1", "q2", "q3", "q7"), "q1", lambda: check_autoencoder_matches(env.get("Autoencoder"), oracles.autoencoder(30, 9, 4), 30, 9, 4, seed=30)))
    noisy_error, denoised_error = (answered(env, n, skipped) for n in ("noisy_error", "denoised_error"))
    if skipped is not None:
        return skipped
    denoiser, X_test, X_test_noisy = env["denoiser"], env["X_test"], env["X_test_noisy"]
    check_reported_error(noisy_error, oracles.pair_error(X_test_noisy, X_test), "noisy_error")
    check_reported_error(denoised_error, oracles.error(denoiser, X_test, inputs=X_test_noisy), "denoised_error")
    X_heldout = oracles.heldout()
    noisy = oracles.corrupt(X_heldout, env["NOISE"], seed=env["rng_seed"] + 77)
    check_denoising(oracles.pair_error(noisy, X_heldout), oracles.error(denoiser, X_heldout, inputs=noisy), "297 held-out digits")

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% tags=["otter_ignore"]
reconstruction_grid(X_test[:10], denoised_test[:10], inputs=X_test_noisy[:10], n=10).suptitle("clean, noisy input, denoised")
plt.show()

# %% [markdown]
# ## 5. Anomaly detection
#
# An autoencoder trained on **normal** data only reconstructs normal data well and anything else
# badly, so its reconstruction error is an **anomaly score**. Our set-up: the "normal" data are
# the digits 0–6, 8 and 9; the anomalies are the **7**s, a digit the network never sees while
# training. A detector flags an image when its score is above a threshold $t$.
#
# * The **false-positive rate** (FPR) is the fraction of normal images flagged, the
#   **true-positive rate** (TPR) the fraction of anomalies flagged. We pick $t$ on **validation**
#   data (normal digits no network trained on) for a stated FPR, here 5%: the smallest $t$
#   among the validation scores that flags at most 5% of them.
# * The **ROC AUC** summarises every threshold at once: it is the probability that a randomly
#   chosen anomaly scores **higher** than a randomly chosen normal image, ties counting one half,
#
#   $$\text{AUC} = \frac{1}{n_+ n_-}\sum_{i \in \text{anomalies}}\ \sum_{j \in \text{normal}}
#   \Big(\mathbb{1}[s_i > s_j] + \tfrac{1}{2}\,\mathbb{1}[s_i = s_j]\Big).$$
#
#   1 is a perfect detector, 0.5 a coin toss.

# %% [raw]
# # BEGIN QUESTION
# name: q9
# points: 4

# %% [markdown]
# **Question 9 (4 points).** Implement, from scratch (no scikit-learn):
#
# * `anomaly_scores(model, X, *, device="cpu")`: a float tensor of shape `(N,)` on the CPU, entry
#   $i$ the reconstruction error $\lVert x_i - \text{model}(x_i)\rVert^2$ of row $i$ of `X`
#   (evaluation mode, no gradients; the model is on `device` already, so move `X` there);
# * `roc_auc(scores, labels)`: the AUC above as a float, for `scores` of shape `(N,)` and `labels`
#   of shape `(N,)` that are 1 (or `True`) for anomalies and 0 for normal data; numpy arrays or
#   tensors, both groups non-empty. Loops over pairs are fine for the sizes here, or vectorise;
#   handle ties as the formula says.
# * `threshold_for_fpr(normal_scores, fpr)`: the smallest value $t$ **among** `normal_scores`
#   (shape `(M,)`) such that the fraction of `normal_scores` **strictly above** $t$ is at most
#   `fpr`, as a float.
#
# The tests compare `roc_auc` with `sklearn.metrics.roc_auc_score` on random scores with many
# ties (other sizes in hidden tests), check worked examples of the threshold (both return Python
# floats), and check the scores on a model whose errors are known and differ from row to row, in
# evaluation mode, with `X` moved to `device`.

# %% [raw]
# # BEGIN SOLUTION

# %%
def anomaly_scores(model, X, *, device="cpu"):
    """Per-row reconstruction error ||x_i - model(x_i)||^2: a CPU float tensor of shape (N,)."""
    # BEGIN SOLUTION
    model.eval()
    with torch.no_grad():
        return ((model(X.to(device)) - X.to(device)) ** 2).sum(dim=1).cpu()
    # END SOLUTION


def roc_auc(scores, labels):
    """P(anomaly scores higher than normal) + 0.5 P(tie), over all (anomaly, normal) pairs."""
    # BEGIN SOLUTION
    scores = torch.as_tensor(scores, dtype=torch.float64)
    labels = torch.as_tensor(labels).bool()
    positive, negative = scores[labels], scores[~labels]
    higher = (positive[:, None] > negative[None, :]).double()
    ties = (positive[:, None] == negative[None, :]).double()
    return (higher + 0.5 * ties).mean().item()
    # END SOLUTION


def threshold_for_fpr(normal_scores, fpr):
    """Smallest t among normal_scores with mean(normal_scores > t) <= fpr, as a float."""
    # BEGIN SOLUTION
    normal_scores = torch.as_tensor(normal_scores, dtype=torch.float64)
    for t in torch.sort(normal_scores).values:
        if (normal_scores > t).double().mean() <= fpr:
            return t.item()
    # END SOLUTION


# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_anomaly_tools_public(anomaly_scores, roc_auc, threshold_for_fpr):
    from shared.testing.autoencoder import check_anomaly_scores, check_roc_auc, check_threshold

    check_roc_auc(roc_auc, n=40, levels=5, seed=0)
    check_roc_auc(roc_auc, n=25, levels=3, seed=1, as_numpy=True)
    check_threshold(threshold_for_fpr, [3.0, 1.0, 2.0, 5.0, 4.0], 0.2, 4.0)
    check_threshold(threshold_for_fpr, [1.0, 1.0, 1.0, 2.0], 0.0, 2.0)
    check_threshold(threshold_for_fpr, [0.5, 2.0, 2.0, 2.0, 7.0, 1.0], 0.5, 2.0)
    check_anomaly_scores(anomaly_scores, n=6, dim=5, seed=0)

# %%
""" # BEGIN TEST CONFIG
hidden: true
""" # END TEST CONFIG
def test_anomaly_tools_hidden(anomaly_scores, roc_auc, threshold_for_fpr):
    import numpy as np

    from grader_only import oracles
    from shared.testing.autoencoder import check_anomaly_scores, check_roc_auc, check_threshold

    check_roc_auc(roc_auc, n=97, levels=7, seed=12)
    check_roc_auc(roc_auc, n=8, levels=2, seed=13, as_numpy=True)
    rng = np.random.default_rng(5)
    for m, fpr in [(50, 0.05), (37, 0.1), (20, 0.0), (64, 0.33)]:
        normal = rng.integers(0, 15, size=m).astype(float)
        check_threshold(threshold_for_fpr, normal.tolist(), fpr, oracles.threshold_for_fpr(normal, fpr))
    check_anomaly_scores(anomaly_scores, n=9, dim=3, seed=4)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [markdown]
# The detector: the lecture's architecture, trained on the normal training digits only.

# %%
ANOMALY = 7
torch.manual_seed(rng_seed)
anomaly_ae = Autoencoder().to(device)
train_autoencoder(anomaly_ae, make_unlabeled_loader(X_train[y_train != ANOMALY], batch_size=64, seed=rng_seed),
                  torch.optim.Adam(anomaly_ae.parameters(), lr=2e-3), reconstruction_loss, epochs=10, device=device)
TARGET_FPR = 0.05

# %% [raw]
# # BEGIN QUESTION
# name: q10
# points: 2

# %% [markdown]
# **Question 10 (2 points).** With your functions of question 9:
#
# * `threshold`: the threshold for `TARGET_FPR` picked on the scores of the **normal** validation
#   digits (`X_val` without the 7s);
# * `test_scores`: the scores of all test digits, and `is_anomaly`, a boolean tensor that is
#   True for the test 7s;
# * `anomaly_auc`: the ROC AUC of `test_scores` for `is_anomaly`;
# * `test_fpr` and `test_tpr`: the fraction of normal test digits and of test 7s whose score is
#   above `threshold` (floats).
#
# The tests check your numbers against each other and the claims: an AUC of at least 0.9
# (measured 0.97–0.99 over ten seeds; 0.95–0.98 on held-out digits), and a test FPR of at most
# 0.12 for the 5% picked on validation data (measured 0.02–0.03; 0.03–0.05 on held-out digits);
# hidden tests check both on held-out digits, and recompute `threshold` from the normal
# validation digits and `test_scores` from `anomaly_ae` (a threshold picked on test digits or on
# the anomalies, or scores from another model, loses the points).

# %% [raw]
# # BEGIN SOLUTION

# %%
normal_val = X_val[y_val != ANOMALY]  # SOLUTION
threshold = threshold_for_fpr(anomaly_scores(anomaly_ae, normal_val, device=device), TARGET_FPR)  # SOLUTION
test_scores = anomaly_scores(anomaly_ae, X_test, device=device)  # SOLUTION
is_anomaly = y_test == ANOMALY  # SOLUTION
anomaly_auc = roc_auc(test_scores, is_anomaly)  # SOLUTION
test_fpr = (test_scores[~is_anomaly] > threshold).float().mean().item()  # SOLUTION
test_tpr = (test_scores[is_anomaly] > threshold).float().mean().item()  # SOLUTION
print(f"AUC {anomaly_auc:.3f}; threshold {threshold:.2f}: test FPR {test_fpr:.3f}, TPR {test_tpr:.3f}")

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_anomaly_public(env):
    from shared.testing import gate
    from shared.testing.autoencoder import answered, check_anomaly_claims, check_anomaly_numbers, upstream_checks

    skipped = gate(upstream_checks(env, "q1", "q2", "q3", "q9"))
    names = ("threshold", "test_scores", "is_anomaly", "anomaly_auc", "test_fpr", "test_tpr")
    values = [answered(env, n, skipped) for n in names]
    if skipped is not None:
        return skipped
    check_anomaly_numbers(*values, env["y_test"] == env["ANOMALY"], check_auc=True)
    check_anomaly_claims(env["anomaly_auc"], env["test_fpr"], "the test split")

# %%
""" # BEGIN TEST CONFIG
hidden: true
""" # END TEST CONFIG
def test_anomaly_hidden(env):
    from grader_only import oracles
    from shared.testing import gate
    from shared.testing.autoencoder import (answered, check_anomaly_claims, check_autoencoder_matches, check_reported_scores, check_threshold_source,
                                            strengthened, upstream_checks)

    skipped = gate(strengthened(upstream_checks(env, "q1", "q2", "q3", "q9"), "q1", lambda: check_autoencoder_matches(env.get("Autoencoder"), oracles.autoencoder(30, 9, 4), 30, 9, 4, seed=30)))
    threshold, test_scores = (answered(env, n, skipped) for n in ("threshold", "test_scores"))
    if skipped is not None:
        return skipped
    anomaly_ae, ANOMALY, fpr = env["anomaly_ae"], env["ANOMALY"], env["TARGET_FPR"]
    X_test, y_test, X_val, y_val = env["X_test"], env["y_test"], env["X_val"], env["y_val"]
    picked_on = {  # the split the prompt names first, then the mistakes it rules out
        "the normal validation digits": X_val[y_val != ANOMALY],
        "the normal test digits": X_test[y_test != ANOMALY],
        "all test digits": X_test,
        "the validation anomalies": X_val[y_val == ANOMALY],
        "all validation digits": X_val,
    }
    thresholds = {where: oracles.threshold_for_fpr(oracles.scores(anomaly_ae, X).numpy(), fpr) for where, X in picked_on.items()}
    check_threshold_source(threshold, thresholds.pop("the normal validation digits"), thresholds, fpr)
    check_reported_scores(test_scores, oracles.scores(anomaly_ae, X_test), "test_scores")
    X_heldout, y_heldout = oracles.heldout(labels=True)
    scores = oracles.scores(anomaly_ae, X_heldout)
    normal = y_heldout != ANOMALY
    check_anomaly_claims(oracles.auc(scores, ~normal), float((scores[normal] > float(threshold)).float().mean()), "297 held-out digits")

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% tags=["otter_ignore"]
score_histogram({"normal digits": test_scores[~is_anomaly], f"{ANOMALY}s (anomalies)": test_scores[is_anomaly]}, threshold=threshold,
                xlabel="reconstruction error", title=f"anomaly scores on test digits (AUC {anomaly_auc:.3f})")
plt.show()

# %% [markdown]
# ## 6. The variational autoencoder
#
# A plain autoencoder's codes can sit anywhere, so a random point of its latent space usually
# decodes to garbage: it cannot *generate*. The variational autoencoder (VAE) fixes this. Its
# encoder outputs, for each image, a **distribution** over codes: a mean $\mu$ and a log-variance
# $\log\sigma^2$ per latent dimension (the log keeps $\sigma^2 > 0$ without constraints). A
# **sampling layer** draws $z \sim \mathcal{N}(\mu, \sigma^2)$, and the decoder reconstructs from $z$.
#
# * **The reparameterisation trick.** Sampling is not differentiable, but
#   $z = \mu + \sigma \odot \varepsilon$ with $\varepsilon \sim \mathcal{N}(0, I)$ and
#   $\sigma = \exp(\tfrac12 \log\sigma^2)$ is: the randomness sits in $\varepsilon$, and gradients
#   flow to $\mu$ and $\log\sigma^2$.
# * **The loss** is the reconstruction error plus the Kullback–Leibler divergence of each code's
#   distribution from the prior $\mathcal{N}(0, I)$, which pulls all codes towards one region that
#   the prior covers. For a diagonal Gaussian it has a closed form, summed over the $d$ latent
#   dimensions of one image:
#
#   $$\mathrm{KL}\big(\mathcal{N}(\mu, \sigma^2)\,\|\,\mathcal{N}(0, I)\big) = -\frac12\sum_{j=1}^{d}\big(1 + \log\sigma_j^2 - \mu_j^2 - \sigma_j^2\big) \;\ge 0 .$$
#
#   Like the reconstruction error, it is summed over dimensions and **averaged over the batch**.
# * **Generation**: decode $z \sim \mathcal{N}(0, I)$.

# %% [raw]
# # BEGIN QUESTION
# name: q11
# points: 6

# %% [markdown]
# **Question 11 (6 points).** Implement
#
# * `reparameterize(mu, log_var, generator=None)`: $z = \mu + \exp(\tfrac12\log\sigma^2)\,\varepsilon$
#   for `mu`, `log_var` of the same shape, with $\varepsilon$ drawn by
#   `torch.randn(mu.shape, generator=generator, device=mu.device, dtype=mu.dtype)`;
# * `kl_divergence(mu, log_var)`: for `(N, d)` inputs, the KL above per row, averaged over the `N`
#   rows (a 0-d tensor);
# * `vae_loss(x_hat, x, mu, log_var)`: `reconstruction_loss(x_hat, x) + kl_divergence(mu, log_var)`;
# * `VAE(in_dim=784, hidden=128, latent=2)`, an `nn.Module` with an encoder body
#   `Linear(in_dim, hidden)` → ReLU, two heads `Linear(hidden, latent)` for $\mu$ and for
#   $\log\sigma^2$, and a `Decoder(latent, hidden, in_dim)` as attribute `self.decoder`;
#   `forward(x, generator=None)` returns the tuple `(x_hat, mu, log_var)`, sampling $z$ with your
#   `reparameterize`.
#
# The tests check that the same generator seed gives the same $\varepsilon$ whatever `mu` and
# `log_var` are, that gradients reach `mu` and `log_var` and are right (exactly for one draw, and
# on average over many draws, where $\partial\,\mathbb{E}[z^2]/\partial\mu = 2\mu$ and
# $\partial\,\mathbb{E}[z^2]/\partial\log\sigma^2 = \sigma^2$), the sample's mean and variance, the
# KL against `torch.distributions.kl_divergence`, the loss's two parts, and the VAE's shapes,
# parameter count and (hidden) layers.

# %% [raw]
# # BEGIN SOLUTION

# %%
def reparameterize(mu, log_var, generator=None):
    """z = mu + exp(log_var / 2) * eps, eps ~ N(0, I) drawn from `generator`."""
    # BEGIN SOLUTION
    std = torch.exp(0.5 * log_var)
    eps = torch.randn(mu.shape, generator=generator, device=mu.device, dtype=mu.dtype)
    return mu + std * eps
    # END SOLUTION


def kl_divergence(mu, log_var):
    """KL(N(mu, exp(log_var)) || N(0, I)) summed over latent dimensions, averaged over rows."""
    # BEGIN SOLUTION
    per_row = -0.5 * (1 + log_var - mu**2 - log_var.exp()).sum(dim=1)
    return per_row.mean()
    # END SOLUTION


def vae_loss(x_hat, x, mu, log_var):
    """Reconstruction (summed over pixels) + KL (summed over latents), both averaged over the batch."""
    # BEGIN SOLUTION
    return reconstruction_loss(x_hat, x) + kl_divergence(mu, log_var)
    # END SOLUTION


class VAE(nn.Module):
    """x (N, in_dim) -> (x_hat (N, in_dim), mu (N, latent), log_var (N, latent))."""

    def __init__(self, in_dim=784, hidden=128, latent=2):
        super().__init__()
        # BEGIN SOLUTION
        self.hidden = nn.Linear(in_dim, hidden)
        self.mu = nn.Linear(hidden, latent)
        self.log_var = nn.Linear(hidden, latent)
        self.decoder = Decoder(latent, hidden, in_dim)
        # END SOLUTION

    def forward(self, x, generator=None):
        # BEGIN SOLUTION
        h = F.relu(self.hidden(x))
        mu, log_var = self.mu(h), self.log_var(h)
        return self.decoder(reparameterize(mu, log_var, generator)), mu, log_var
        # END SOLUTION


# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_vae_public(env, reparameterize, kl_divergence, vae_loss, VAE):
    from shared.testing.autoencoder import check_kl, check_reparameterize, check_vae_loss, check_vae_module

    check_reparameterize(reparameterize, shape=(3, 2), seed=0)
    check_kl(kl_divergence, n=5, d=3, seed=0)
    check_vae_loss(vae_loss, n=4, dim=6, d=2, seed=0, env=env)
    check_vae_module(VAE, in_dim=12, hidden=5, latent=2, seed=0)

# %%
""" # BEGIN TEST CONFIG
hidden: true
""" # END TEST CONFIG
def test_vae_hidden(env, reparameterize, kl_divergence, vae_loss, VAE):
    from shared.testing.autoencoder import check_kl, check_reparameterize, check_vae_layers, check_vae_loss, check_vae_module

    check_reparameterize(reparameterize, shape=(4, 5), seed=9)
    check_kl(kl_divergence, n=9, d=6, seed=9)
    check_kl(kl_divergence, n=1, d=1, seed=10)
    check_vae_loss(vae_loss, n=7, dim=3, d=4, seed=9, env=env)
    check_vae_module(VAE, in_dim=784, hidden=128, latent=2, seed=9)
    check_vae_module(VAE, in_dim=20, hidden=6, latent=3, seed=10)
    check_vae_layers(VAE, in_dim=784, hidden=128, latent=2, seed=11)
    check_vae_layers(VAE, in_dim=15, hidden=7, latent=3, seed=12)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [markdown]
# Training the VAE with a 2-D latent space on all 1,200 training digits takes about ten
# seconds (not graded). Then: the codes $\mu$ of the test digits, coloured by their label (the
# VAE never saw a label, yet digits of a kind gather); new digits decoded from the prior; and a
# walk through latent space between two test digits.

# %% tags=["otter_ignore"]
torch.manual_seed(rng_seed)
vae = VAE(latent=2).to(device)
vae_optimizer = torch.optim.Adam(vae.parameters(), lr=2e-3)
vae_generator = torch.Generator(device=device).manual_seed(rng_seed)
X_vae = X_all.flatten(1)
vae.train()
for epoch in range(40):
    for x, _ in progress_bar(make_unlabeled_loader(X_vae, batch_size=64, seed=rng_seed + epoch), enabled=PROGRESS):
        x = x.to(device)
        vae_optimizer.zero_grad()
        x_hat, mu, log_var = vae(x, vae_generator)
        loss = vae_loss(x_hat, x, mu, log_var)
        loss.backward()
        vae_optimizer.step()
print(f"VAE loss after 40 epochs: {loss.item():.2f}")
vae.eval()
with torch.no_grad():
    _, mu_test, _ = vae(X_test.to(device))
    samples = vae.decoder(torch.randn(16, 2, generator=torch.Generator().manual_seed(rng_seed)).to(device)).cpu()
    a, b = mu_test[0], mu_test[1]
    path = torch.stack([(1 - t) * a + t * b for t in torch.linspace(0, 1, 10)])
    walk = vae.decoder(path).cpu()
latent_scatter(mu_test.cpu(), y_test, title="VAE codes of the test digits, coloured by label")
image_grid(samples.reshape(-1, 28, 28), ncols=8).suptitle("decoded from the prior N(0, I)")
image_grid(walk.reshape(-1, 28, 28), ncols=10).suptitle(f"from a {int(y_test[0])} to a {int(y_test[1])} through latent space")
plt.show()

# %% [markdown]
# ## 7. A convolutional autoencoder
#
# Images have structure that a fully connected encoder ignores. A convolutional encoder shrinks
# the image with strided convolutions, and a decoder built from **transposed convolutions**
# (`nn.ConvTranspose2d`) grows it back. From assignment 03: a `Conv2d` with kernel $K$, stride $S$
# and padding $P$ maps a side $M$ to $\lfloor (M + 2P - K)/S\rfloor + 1$, so kernel 3, stride 2,
# padding 1 takes $28 \to 14 \to 7$. A `ConvTranspose2d` goes the other way:
# $(M - 1)S - 2P + K + \text{output\_padding}$, so with the same $K, S, P$ it takes $7 \to 13$ and
# $14 \to 27$, one short: `output_padding=1` gives $7 \to 14 \to 28$.
#
# ```
# input (N, 784) → reshape (N, 1, 28, 28)
# encoder: Conv2d(1, c1, 3, stride=2, padding=1) → ReLU → Conv2d(c1, c2, 3, stride=2, padding=1)       (N, c2, 7, 7)
# decoder: ConvTranspose2d(c2, c1, 3, stride=2, padding=1, output_padding=1) → ReLU →
#          ConvTranspose2d(c1, 1, 3, stride=2, padding=1, output_padding=1) → Sigmoid                  (N, 1, 28, 28)
# output → reshape (N, 784)
# ```
#
# The bottleneck is linear again (no ReLU after the second convolution). With $c_2 = 2$ a code
# has $2 \cdot 7 \cdot 7 = 98$ numbers: three times the dense autoencoder's 32, so it
# compresses 8:1 rather than 24.5:1. Keep that in mind when the two errors are compared below.

# %% [raw]
# # BEGIN QUESTION
# name: q12
# points: 2

# %% [markdown]
# **Question 12 (2 points).** Implement `ConvAutoencoder(c1=16, c2=2)` as above, an `nn.Module`
# mapping `(N, 784)` to `(N, 784)`. The tests check the output shape for several channel
# counts, the parameter count, that outputs lie in $(0, 1)$ (all parameters zero gives exactly
# 0.5), that each image's reconstruction depends on that image alone (row $i$ of the input is
# image $i$, its pixels row by row), that it has far fewer parameters than the lecture's dense
# autoencoder, and (hidden) that it computes the table's layers with your weights, with no ReLU
# after the second convolution.

# %% [raw]
# # BEGIN SOLUTION

# %%
class ConvAutoencoder(nn.Module):
    """(N, 784) -> conv encoder (N, c2, 7, 7) -> transposed-conv decoder -> (N, 784) in (0, 1)."""

    def __init__(self, c1=16, c2=2):
        super().__init__()
        # BEGIN SOLUTION
        self.encoder = nn.Sequential(
            nn.Conv2d(1, c1, 3, stride=2, padding=1), nn.ReLU(),  # 28 -> 14
            nn.Conv2d(c1, c2, 3, stride=2, padding=1),  # 14 -> 7, linear bottleneck
        )
        self.decoder = nn.Sequential(
            nn.ConvTranspose2d(c2, c1, 3, stride=2, padding=1, output_padding=1), nn.ReLU(),  # 7 -> 14
            nn.ConvTranspose2d(c1, 1, 3, stride=2, padding=1, output_padding=1), nn.Sigmoid(),  # 14 -> 28
        )
        # END SOLUTION

    def forward(self, x):
        # BEGIN SOLUTION
        images = x.reshape(-1, 1, 28, 28)
        return self.decoder(self.encoder(images)).reshape(len(x), -1)
        # END SOLUTION


# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_conv_autoencoder_public(ConvAutoencoder):
    from shared.testing.autoencoder import check_conv_autoencoder

    check_conv_autoencoder(ConvAutoencoder, 16, 2, seed=0)
    check_conv_autoencoder(ConvAutoencoder, 4, 3, seed=1)

# %%
""" # BEGIN TEST CONFIG
hidden: true
""" # END TEST CONFIG
def test_conv_autoencoder_hidden(ConvAutoencoder):
    from grader_only import oracles
    from shared.testing.autoencoder import check_conv_autoencoder, check_conv_matches

    check_conv_autoencoder(ConvAutoencoder, 7, 5, seed=2)
    check_conv_autoencoder(ConvAutoencoder, 1, 1, seed=3)
    for c1, c2 in [(16, 2), (6, 3)]:
        check_conv_matches(ConvAutoencoder, oracles.conv_autoencoder, c1, c2, seed=c1)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [markdown]
# Trained like the lecture's autoencoder (15 epochs at a slightly higher learning rate):

# %%
torch.manual_seed(rng_seed)
conv_ae = ConvAutoencoder().to(device)
train_autoencoder(conv_ae, make_unlabeled_loader(X_train, batch_size=64, seed=rng_seed), torch.optim.Adam(conv_ae.parameters(), lr=3e-3),
                  reconstruction_loss, epochs=15, device=device)

# %% [raw]
# # BEGIN QUESTION
# name: q13
# points: 2

# %% [markdown]
# **Question 13 (2 points).** Store the parameter counts of `conv_ae` and `lecture_ae` in
# `conv_params` and `dense_params`, and `conv_ae`'s error on the test digits in
# `conv_test_error`. The tests check that the convolutional autoencoder has fewer parameters
# and a test error no worse than the dense one's `test_error` (measured 0.25–0.52 times it over
# ten seeds), and, hidden, recompute `conv_test_error` from `conv_ae` and check the claim on
# held-out digits.

# %% [raw]
# # BEGIN SOLUTION

# %%
conv_params = count_parameters(conv_ae)  # SOLUTION
dense_params = count_parameters(lecture_ae)  # SOLUTION
conv_test_error = reconstruction_error(conv_ae, X_test, device=device)  # SOLUTION
print(f"convolutional: {conv_params:,} parameters, test error {conv_test_error:.2f}; dense: {dense_params:,} parameters, test error {test_error:.2f}")

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_conv_claim_public(env):
    from shared.testing import gate
    from shared.testing.autoencoder import answered, check_conv_claim, check_counts, check_given, upstream_checks

    checks = upstream_checks(env, "q1", "q2", "q3", "q12")
    checks["q4"] = lambda: check_given(test_error=env.get("test_error"))  # the dense error this claim compares with
    skipped = gate(checks)
    conv_params, dense_params, conv_test_error = (answered(env, n, skipped) for n in ("conv_params", "dense_params", "conv_test_error"))
    if skipped is not None:
        return skipped
    check_counts(conv_params, dense_params, env["conv_ae"], env["lecture_ae"])
    check_conv_claim(conv_params, dense_params, conv_test_error, env["test_error"], "the test split")

# %%
""" # BEGIN TEST CONFIG
hidden: true
""" # END TEST CONFIG
def test_conv_claim_hidden(env):
    from grader_only import oracles
    from shared.testing import gate
    from shared.testing.autoencoder import (answered, check_autoencoder_matches, check_conv_claim, check_conv_matches, check_given, check_reported_error,
                                            strengthened, upstream_checks)

    checks = strengthened(upstream_checks(env, "q1", "q2", "q3", "q12"), "q1", lambda: check_autoencoder_matches(env.get("Autoencoder"), oracles.autoencoder(30, 9, 4), 30, 9, 4, seed=30))
    checks = strengthened(checks, "q12", lambda: check_conv_matches(env.get("ConvAutoencoder"), oracles.conv_autoencoder, 6, 3, seed=6))
    skipped = gate(checks)
    conv_params, dense_params, conv_test_error = (answered(env, n, skipped) for n in ("conv_params", "dense_params", "conv_test_error"))
    if skipped is not None:
        return skipped
    check_given(conv_params=conv_params, dense_params=dense_params)
    check_reported_error(conv_test_error, oracles.error(env["conv_ae"], env["X_test"]), "conv_test_error")
    X_heldout = oracles.heldout()
    check_conv_claim(conv_params, dense_params, oracles.error(env["conv_ae"], X_heldout), oracles.error(env["lecture_ae"], X_heldout), "297 held-out digits")

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% tags=["otter_ignore"]
conv_ae.eval()
with torch.no_grad():
    conv_shown = conv_ae(X_test[:10].to(device)).cpu()
reconstruction_grid(X_test[:10], conv_shown, n=10).suptitle(f"convolutional autoencoder ({conv_params:,} parameters)")
plt.show()

# %% [markdown]
# ## Wrapping up
#
# You rebuilt the lecture's autoencoder at its real size and checked each of its uses with
# numbers. A bottleneck of 32 numbers keeps the broad shape of a 784-pixel image (a third of the
# mean-image yardstick's error after 10 epochs, and still improving when training stops), while
# on these enlarged $8\times 8$ digits PCA with the same 32 numbers does about 18 times better.
# A linear autoencoder is PCA at best (Eckart–Young); a non-linear one beats it with few numbers
# per image ($k = 4$), and PCA overtakes as $k$ grows. Trained against clean targets it removes
# noise; trained on normal data its reconstruction error finds anomalies; with a sampling layer
# and a KL term it generates. With convolutions it reconstructs better than the dense network
# with about $1/234$ of the parameters (899 against 209,968), but through a code of 98 numbers
# instead of 32, a third of the compression: the comparison is not like for like.
#
# **Explain in your own words (not auto-graded, 3–5 sentences).** Why can a linear autoencoder
# never beat PCA on its training data, while the non-linear one can? And why does the VAE need
# the KL term to generate, when a plain autoencoder reconstructs better without it?
#
# _Type your answer here, replacing this text._
#
# Before you submit, run the whole notebook from the top (*Kernel → Restart & Run All*) and make
# sure every `grader.check` passes.
