"""Test logic of assignment 05 (autoencoders), shared by its public and hidden tests.

Models are checked by behaviour: parameter counts from formulas, output shapes, a decoder whose
parameters are all zero (it must output exactly sigmoid(0) = 0.5), codes that can be negative (a
linear bottleneck), outputs compared with reference layers holding the student's weights (the
references live in the assignment's ``grader_only/``). The training loop is checked step by
step with :class:`~shared.testing.cnn_vs_mlp.StepRecorder`: every ``step()`` must apply the
gradient of the given ``loss_fn`` for its own batch, with garbage labels in the loader. PCA is
checked on data built with known components and singular values, the AUC against scikit-learn,
the KL term against ``torch.distributions``, reparameterised gradients exactly for one draw and
in expectation over many. Claims about trained networks are judged only when the functions they
were trained with pass their own public checks (:func:`passes_upstream`), so one mistake costs
one question.

Nothing here answers a graded question: public tests pass their own small expectations in.
"""

from __future__ import annotations

import contextlib
import copy
import math
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from torch import nn

from shared.checks import assert_close, assert_shape, check_implemented
from shared.testing import (
    beside,
    check_defined,
    is_instance,
    on_referee,
    run_beside,
    stand_in,
    substitute,
    tagged,
)
from shared.testing import check_device_free as device_free
from shared.testing.cnn_vs_mlp import (
    Probe,
    RecordingLoader,
    StepRecorder,
    call,
    recording_bars,
)
from shared.testing.lstm import answered as answered  # re-exported: the master imports it here

LECTURE_PARAMS = (784 + 1) * 128 + (128 + 1) * 32 + (32 + 1) * 128 + (128 + 1) * 784
# float64 comparisons of exact formulas
EXACT_RTOL, EXACT_ATOL = 1e-10, 1e-12
# float32 training steps: gradients and losses recomputed from the recorded parameters
TRAIN_RTOL, TRAIN_ATOL = 1e-4, 1e-6
# errors a test recomputes from a student's trained model (float32 sums over 784 pixels)
REPORTED_RTOL = 1e-3

SIGMOID_HINT = tagged(
    "ae.sigmoid",
    "Hint: the decoder ends with exactly one Sigmoid (Linear -> ReLU -> Linear -> Sigmoid), so "
    "every output is in (0, 1).",
)
LOOP_HINT = tagged(
    "ae.loop",
    "Hint: per batch (x, _): x = x.to(device); inputs = corrupt(x) if corrupt else x; "
    "optimizer.zero_grad(); loss = loss_fn(model(inputs), x); loss.backward(); optimizer.step().",
)


def _float(value: Any, name: str) -> float:
    check_implemented(value, name)
    if isinstance(value, torch.Tensor) and value.numel() == 1:
        value = value.item()
    assert isinstance(value, (int, float, np.floating, np.integer)) and not isinstance(
        value, bool
    ), f"`{name}` should be a number (a Python float), got {type(value).__name__}."
    assert math.isfinite(float(value)), f"`{name}` is {value}, not a finite number."
    return float(value)


def _python_float(value: Any, name: str) -> float:
    """A number the prompt asks for *as a float*: a tensor (0-d or not) fails with a hint."""
    check_implemented(value, name)
    assert not isinstance(value, torch.Tensor), tagged(
        "ae.float_type",
        f"{name} is a {value.dtype} tensor of shape {tuple(value.shape)}, but the prompt asks for "
        "a Python float. Hint: .item() (or float(...)) turns a 0-d tensor into a float.",
    )
    return _float(value, name)


# --------------------------------------------------------------------------- q1: the modules


def _n_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def _dense_count(*widths: int) -> int:
    return sum((a + 1) * b for a, b in zip(widths[:-1], widths[1:], strict=True))


def _seed(anchor: Any, seed: int) -> None:
    """``torch.manual_seed(seed)`` here and where ``anchor`` runs (the student's kernel when
    graded by the referee), so that models the student's code builds start from the same draw."""
    torch.manual_seed(seed)
    run_beside(anchor, torch.manual_seed, seed)


def _module(value: Any, desc: str) -> nn.Module:
    check_implemented(value, desc)
    assert is_instance(value, nn.Module), (
        f"{desc} should be an nn.Module, got {type(value).__name__}."
    )
    return value


def _zero_parameters(module: nn.Module) -> None:
    with torch.no_grad():
        for p in module.parameters():
            p.zero_()


def _zeroed_copy(module: nn.Module) -> nn.Module:
    """A copy of ``module`` with every parameter zero (run where the module lives)."""
    module = copy.deepcopy(module)
    _zero_parameters(module)
    return module


def _biased_copy(module: nn.Module) -> nn.Module:
    """A copy of ``module`` with every weight zero and every bias (1-d parameter) -1."""
    module = copy.deepcopy(module)
    with torch.no_grad():
        for p in module.parameters():
            p.fill_(-1.0 if p.ndim == 1 else 0.0)
    return module


def _instance_of_class(part: Any, cls: Any) -> bool:
    """Whether ``part`` is an instance of ``cls`` when ``cls`` is a class (where they live)."""
    return not isinstance(cls, type) or isinstance(part, cls)


def check_sigmoid_output(decoder: nn.Module, z: torch.Tensor, desc: str) -> None:
    """With every parameter zero, each Linear gives 0, so the output must be sigmoid(0) = 0.5."""
    decoder = run_beside(decoder, _zeroed_copy, decoder)
    with torch.no_grad():
        out = call(decoder, z, desc=f"{desc} with all parameters set to zero", hint=SIGMOID_HINT)
    out = out.detach().double()
    if torch.allclose(out, torch.full_like(out, 0.5), atol=1e-7):
        return
    value = float(out.flatten()[0])
    why = ""
    if abs(value) < 1e-7:
        why = tagged("ae.sigmoid_missing", " It outputs 0: the final Sigmoid is missing.")
    elif abs(value - 1 / (1 + math.exp(-0.5))) < 1e-6:
        why = tagged(
            "ae.sigmoid_twice",
            " It outputs sigmoid(sigmoid(0)) = 0.622: the Sigmoid is applied twice.",
        )
    raise AssertionError(
        f"{desc} with all parameters set to zero should output sigmoid(0) = 0.5 everywhere, got "
        f"{value:.4f}.{why} {SIGMOID_HINT}"
    )


def check_last_layer(decoder: nn.Module, z: torch.Tensor, desc: str) -> None:
    """With every weight zero and every bias -1, each ReLU gives 0 and each layer its bias, so
    the output must be sigmoid(-1) = 0.269: the Sigmoid comes right after the last layer."""
    decoder = run_beside(decoder, _biased_copy, decoder)
    expected = 1 / (1 + math.exp(1.0))
    label = f"{desc} with every weight set to zero and every bias to -1"
    with torch.no_grad():
        out = call(decoder, z, desc=label, hint=SIGMOID_HINT)
    out = out.detach().double()
    if torch.allclose(out, torch.full_like(out, expected), atol=1e-6):
        return
    value = float(out.flatten()[0])
    why = ""
    if abs(value - 0.5) < 1e-7:
        why = tagged(
            "ae.relu_before_sigmoid",
            " It outputs sigmoid(0) = 0.5: something between the last layer and the Sigmoid "
            "(a ReLU?) turned the bias -1 into 0. Nothing comes between them, so outputs can "
            "go below 0.5 (most pixels of a digit are 0).",
        )
    raise AssertionError(
        f"{label} should output sigmoid(-1) = {expected:.4f} everywhere (each ReLU gives 0, the "
        f"last layer its bias -1), got {value:.4f}.{why} {SIGMOID_HINT}"
    )


def check_linear_bottleneck(encoder: nn.Module, x: torch.Tensor, desc: str) -> None:
    with torch.no_grad():
        codes = call(encoder, x, desc=f"{desc} on x of shape {tuple(x.shape)}")
    assert (codes < 0).any(), tagged(
        "ae.bottleneck_relu",
        f"{desc} gives no negative code for {len(x)} random inputs: the bottleneck has an "
        "activation. Hint: the encoder ends with Linear(hidden, latent) and nothing after it "
        "(a linear bottleneck), so codes can take any real value.",
    )


def check_encoder_not_affine(encoder: nn.Module, in_dim: int, desc: str, seed: int) -> None:
    """A ReLU sits between the encoder's two layers, so it is not an affine map:
    f(a) + f(b) - f(0) - f(a + b) is not zero for random a, b of mixed signs."""
    gen = torch.Generator().manual_seed(seed)
    a, b = torch.randn(16, in_dim, generator=gen), torch.randn(16, in_dim, generator=gen)
    hint = tagged(
        "ae.encoder_relu",
        "Hint: the encoder is Linear(in_dim, hidden) -> ReLU -> Linear(hidden, latent); without "
        "the ReLU between them it is one affine map, a linear encoder (PCA's, at best).",
    )
    with torch.no_grad():
        fa, fb, f0, fab = (
            call(encoder, v, desc=f"{desc} on x of shape (16, {in_dim})", hint=hint).double()
            for v in (a, b, torch.zeros_like(a), a + b)
        )
    gap = (fa + fb - f0 - fab).abs().max().item()
    assert gap > 1e-4, (
        f"{desc} is an affine map: f(a) + f(b) - f(0) equals f(a + b) (up to {gap:.2g}) for "
        f"random a, b. {hint}"
    )


def _count_hint(got: int, widths: tuple[int, ...]) -> str:
    """What a wrong parameter count shows: nothing built yet, biases missing, or the rule."""
    if got == 0:
        return tagged(
            "ae.not_answered",
            " It holds no parameters at all: this is not answered yet. Build its layers in "
            "__init__ and keep them as attributes (self.layers = nn.Sequential(...)).",
        )
    pairs = list(zip(widths, widths[1:], strict=False))
    weights = sum(a * b for a, b in pairs)
    biases = [b for _, b in pairs]
    if any(
        got == weights + sum(b for b, keep in zip(biases, mask, strict=True) if keep)
        for mask in np.ndindex(*(2,) * len(biases))
    ):
        return tagged(
            "ae.count",
            " That is the count with some biases left out. Hint: nn.Linear(a, b) has (a + 1) * b "
            "parameters; keep every bias.",
        )
    return tagged(
        "ae.count_rule",
        " Hint: build exactly the Linear layers listed (nn.Linear(a, b) has (a + 1) * b "
        "parameters, biases included), no more and no fewer.",
    )


def check_autoencoder_classes(
    Encoder: Any,
    Decoder: Any,
    Autoencoder: Any,
    *,
    in_dim: int,
    hidden: int,
    latent: int,
    seed: int,
) -> nn.Module:
    """Counts, shapes, a linear bottleneck and a sigmoid output for one set of sizes."""
    _seed(Encoder, seed)
    sizes = f"in_dim={in_dim}, hidden={hidden}, latent={latent}"
    desc_e = f"Encoder({sizes})"
    desc_d = f"Decoder(latent={latent}, hidden={hidden}, out_dim={in_dim})"
    desc_a = f"Autoencoder({sizes})"
    encoder = _module(
        call(Encoder, in_dim=in_dim, hidden=hidden, latent=latent, desc=desc_e), desc_e
    )
    decoder = _module(
        call(Decoder, latent=latent, hidden=hidden, out_dim=in_dim, desc=desc_d), desc_d
    )
    model = _module(
        call(Autoencoder, in_dim=in_dim, hidden=hidden, latent=latent, desc=desc_a), desc_a
    )
    for desc, module, widths in (
        (desc_e, encoder, (in_dim, hidden, latent)),
        (desc_d, decoder, (latent, hidden, in_dim)),
        (desc_a, model, (in_dim, hidden, latent, hidden, in_dim)),
    ):
        expected = _dense_count(*widths[:3]) + (
            _dense_count(*widths[2:]) if len(widths) == 5 else 0
        )
        got = _n_params(module)
        assert got == expected, (
            f"{desc} has {got:,} parameters instead of {expected:,} (Linear layers "
            f"{' -> '.join(map(str, widths))}).{_count_hint(got, widths)}"
        )
    for name, cls in (("encoder", Encoder), ("decoder", Decoder)):
        part = getattr(model, name, None)
        assert is_instance(part, nn.Module) and run_beside(part, _instance_of_class, part, cls), (
            f"{desc_a} should have an attribute `{name}` holding a {cls.__name__}, got "
            f"{type(part).__name__}."
        )
    x = torch.rand(64, in_dim)
    check_linear_bottleneck(encoder, x, desc_e)
    check_encoder_not_affine(encoder, in_dim, desc_e, seed)
    check_sigmoid_output(decoder, torch.randn(5, latent), desc_d)
    check_last_layer(decoder, torch.randn(5, latent), desc_d)
    shape_hint = tagged("ae.shapes", f"Hint: (N, {in_dim}) -> (N, {latent}) -> (N, {in_dim}).")
    with torch.no_grad():
        codes = call(encoder, x, desc=f"{desc_e} on x of shape (64, {in_dim})", hint=shape_hint)
        assert_shape(
            codes, (64, latent), f"{desc_e}(x) for x of shape (64, {in_dim})", hint=shape_hint
        )
        out = call(
            decoder, codes, desc=f"{desc_d} on codes of shape (64, {latent})", hint=shape_hint
        )
        assert_shape(
            out, (64, in_dim), f"{desc_d}(z) for z of shape (64, {latent})", hint=shape_hint
        )
        rebuilt = call(model, x, desc=f"{desc_a} on x of shape (64, {in_dim})", hint=shape_hint)
        assert_shape(
            rebuilt, (64, in_dim), f"{desc_a}(x) for x of shape (64, {in_dim})", hint=shape_hint
        )
        assert_close(
            rebuilt,
            model.decoder(model.encoder(x)),
            name=f"{desc_a}(x) compared with model.decoder(model.encoder(x))",
            hint="Hint: forward returns self.decoder(self.encoder(x)).",
        )
        assert ((rebuilt > 0) & (rebuilt < 1)).all(), (
            f"{desc_a}(x) has values outside (0, 1) (min {float(rebuilt.min()):.3f}, max "
            f"{float(rebuilt.max()):.3f}). {SIGMOID_HINT}"
        )
    check_rows_independent(model, x[:8], desc_a, ROWS_HINT)
    check_gradients_reach(model, x[:8], desc_a)
    return model


ROWS_HINT = tagged(
    "ae.rows_mixed",
    "Hint: every image is reconstructed from itself alone: no operation across the batch "
    "dimension (no mean, sum or normalisation over dim 0).",
)
CONV_ROWS_HINT = tagged(
    "ae.rows_mixed",
    "Hint: every image is reconstructed from itself alone. Reshape (N, 784) to images with "
    "x.reshape(-1, 1, 28, 28) (or x.view(len(x), 1, 28, 28)): row i becomes image i, its "
    "pixels row by row; back with .reshape(len(x), -1). No operation across the batch dimension.",
)
# float32 outputs of one row computed alone or inside a batch (other matmul blockings)
ROW_ATOL, ROW_RTOL = 1e-5, 1e-4


def check_rows_independent(model: Any, x: torch.Tensor, desc: str, hint: str) -> None:
    """Row i of ``model``'s output depends on row i of the input alone: the batch reversed gives
    the outputs reversed, and the first row alone gives the first output."""
    with torch.no_grad():
        out = call(model, x, desc=f"{desc} on x of shape {tuple(x.shape)}", hint=hint)
        flipped = call(model, x.flip(0), desc=f"{desc} on the same rows reversed", hint=hint)
        single = call(model, x[:1], desc=f"{desc} on the first row alone", hint=hint)
    for name, got, want in (
        (f"{desc} on the rows of x reversed", flipped, out.flip(0)),
        (f"{desc} on x[:1], the first row alone", single, out[:1]),
    ):
        got, want = got.detach().double(), want.detach().double()
        assert tuple(got.shape) == tuple(want.shape), tagged(
            "ae.shapes",
            f"{name} returned shape {tuple(got.shape)}, expected {tuple(want.shape)}. Hint: "
            "keep the batch dimension for every batch size, one row included (reshape with "
            "len(x) or -1 for the batch, not squeeze()).",
        )
        if torch.allclose(got, want, rtol=ROW_RTOL, atol=ROW_ATOL):
            continue
        gap = (got - want).abs().max().item()
        raise AssertionError(
            f"{name} should give the same rows as {desc}(x) (in the same order), but they "
            f"differ by up to {gap:.3g} (atol {ROW_ATOL}): the rows of a batch influence each "
            f"other's output. {hint}"
        )


def _gradients_reached(model: nn.Module, x: torch.Tensor) -> list[tuple[str, bool]] | None:
    """For each named parameter of ``model``, whether ``model(x).sum().backward()`` leaves a
    nonzero gradient on it; None when the output is not connected to any parameter. Runs
    where ``model`` lives (a copy: the student's model keeps no gradient)."""
    model = copy.deepcopy(model)
    model.zero_grad(set_to_none=True)
    out = model(x)
    if not (isinstance(out, torch.Tensor) and out.requires_grad):
        return None
    out.sum().backward()
    return [
        (name, p.grad is not None and bool(p.grad.abs().sum() > 0))
        for name, p in model.named_parameters()
    ]


DETACHED_HINT = tagged(
    "ae.detached",
    "Hint: forward must keep the graph from the input to the output: no .detach(), .data, "
    ".item() or torch.no_grad() inside a module, or the layers before it never train.",
)


def check_gradients_reach(model: Any, x: torch.Tensor, desc: str) -> None:
    """After ``model(x).sum().backward()`` every parameter has a nonzero gradient."""
    reached = call(
        run_beside,
        model,
        _gradients_reached,
        model,
        x,
        desc=f"{desc}(x).sum().backward()",
        hint=DETACHED_HINT,
    )
    assert reached is not None, (
        f"{desc}(x) is not connected to the model's parameters (it does not require grad), so "
        f"backward() cannot train it. {DETACHED_HINT}"
    )
    missing = [name for name, ok in reached if not ok]
    assert not missing, (
        f"After {desc}(x).sum().backward() for x of shape {tuple(x.shape)}, no gradient reached "
        f"{', '.join(missing[:6])}{' ...' if len(missing) > 6 else ''}: those parameters would "
        f"never train. {DETACHED_HINT}"
    )


def check_lecture_numbers(lecture_params: Any, compression_ratio: Any) -> None:
    check_implemented(lecture_params, "lecture_params")
    assert isinstance(lecture_params, (int, np.integer)) and lecture_params == LECTURE_PARAMS, (
        tagged(
            "ae.lecture_count",
            "lecture_params should be the lecture autoencoder's parameter count "
            f"{LECTURE_PARAMS:,}, "
            "got "
            f"{lecture_params!r}. Hint: Linear(784, 128): 100,480, Linear(128, 32): 4,128, "
            "Linear(32, 128): 4,224, Linear(128, 784): 101,136 (weights and biases).",
        )
    )
    ratio = _float(compression_ratio, "compression_ratio")
    assert abs(ratio - 784 / 32) < 1e-9, tagged(
        "ae.ratio",
        f"compression_ratio should be {784 / 32} (784 values in, 32 in the code), got {ratio!r}."
        + (
            " Hint: image size over code size, not the other way round."
            if abs(ratio - 32 / 784) < 1e-9
            else ""
        ),
    )


def _load_part(part: nn.Module, reference: list[nn.Parameter], desc: str) -> None:
    want = [tuple(p.shape) for p in reference]
    got = {tuple(p.shape): p for p in part.parameters()}
    assert sorted(got) == sorted(want) and len(got) == len(want), (
        f"{desc} should hold parameters of shapes {want} (in any order), got "
        f"{[tuple(p.shape) for p in part.parameters()]}."
    )
    with torch.no_grad():
        for q in reference:
            q.copy_(got[tuple(q.shape)])


def check_autoencoder_matches(
    Autoencoder: Any, reference: nn.Sequential, in_dim: int, hidden: int, latent: int, *, seed: int
) -> None:
    """The student's model computes the reference layers' function with the student's weights.

    ``reference`` is Linear, ReLU, Linear | Linear, ReLU, Linear, Sigmoid; encoder and decoder are
    loaded separately by shape (within each, every shape differs when in_dim, hidden and latent do).
    """
    _seed(Autoencoder, seed)
    desc = f"Autoencoder({in_dim}, {hidden}, {latent})"
    model = _module(call(Autoencoder, in_dim=in_dim, hidden=hidden, latent=latent, desc=desc), desc)
    params = list(reference.parameters())
    _load_part(model.encoder, params[:4], f"{desc}.encoder")
    _load_part(model.decoder, params[4:], f"{desc}.decoder")
    x = torch.rand(6, in_dim, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    model, reference = model.double().eval(), reference.double().eval()
    hint = tagged(
        "ae.layers",
        "Hint: encoder Linear -> ReLU -> Linear (nothing after it), decoder Linear -> ReLU -> "
        "Linear -> Sigmoid.",
    )
    with torch.no_grad():
        assert_close(
            call(model.encoder, x, desc=f"{desc}.encoder(x)", hint=hint),
            reference[:3](x),
            name=f"{desc}.encoder(x) compared with reference layers holding your weights",
            rtol=EXACT_RTOL,
            atol=EXACT_ATOL,
            hint=hint,
        )
        assert_close(
            call(model, x, desc=f"{desc}(x)", hint=hint),
            reference(x),
            name=f"{desc}(x) compared with reference layers holding your weights",
            rtol=EXACT_RTOL,
            atol=EXACT_ATOL,
            hint=hint,
        )


def check_device_free(
    make: Callable[[], nn.Module], desc: str, x_shape: tuple, out_shape: tuple
) -> None:
    """:func:`shared.testing.check_device_free` with this topic's hint tags."""
    device_free(make, desc, x_shape, out_shape, topic="ae")


# --------------------------------------------------------------------------- q2: the loss


def check_loss_value(
    reconstruction_loss: Callable, x_hat: torch.Tensor, x: torch.Tensor, expected: float
) -> None:
    """``reconstruction_loss(x_hat, x)`` is a 0-d tensor equal to ``expected`` with gradients."""
    x_hat = x_hat.clone().requires_grad_(True)
    desc = f"reconstruction_loss(x_hat, x) for shape {tuple(x.shape)}"
    hint = tagged(
        "ae.loss_formula",
        "Hint: square the differences, sum over every dimension but the first (the pixels), then "
        "average over the batch: ((x_hat - x) ** 2).flatten(1).sum(1).mean().",
    )
    check_defined(reconstruction_loss, desc)
    loss, grad, _ = call(
        run_beside,
        reconstruction_loss,
        _with_backward,
        reconstruction_loss,
        x_hat,
        x,
        desc=desc,
        hint=hint,
    )
    check_implemented(loss, desc)
    assert isinstance(loss, torch.Tensor) and loss.ndim == 0, (
        f"{desc} should return a 0-d tensor (so that loss.backward() works), got "
        f"{type(loss).__name__} of shape {tuple(getattr(loss, 'shape', ()))}. {hint}"
    )
    value = float(loss.detach())
    if abs(value - expected) > 1e-6 * max(1.0, abs(expected)):
        why = _loss_diagnosis(value, x_hat.detach(), x)
        raise AssertionError(f"{desc} should be {expected:.6g}, got {value:.6g}.{why} {hint}")
    if grad is None and not loss.requires_grad:
        loss.backward()  # the error a loss without a graph gives, as in the notebook
    assert grad is not None and torch.isfinite(grad).all(), (
        f"{desc}: no gradient reached x_hat. Hint: compute it with torch operations on the tensors "
        "(no .item(), no numpy)."
    )


def _with_backward(fn: Callable, *inputs: torch.Tensor) -> tuple[Any, ...]:
    """``fn(*inputs)`` and, for a 0-d tensor result with a graph, the gradients its
    ``backward()`` leaves on ``inputs`` (None where none arrives). Runs where ``fn`` lives (the
    student's kernel under the referee), so the graph is the student's; the test judges the
    values and gradients it returns."""
    out = fn(*inputs)
    if isinstance(out, torch.Tensor) and out.ndim == 0 and out.requires_grad:
        out.backward()
        return (out, *(t.grad for t in inputs))
    return (out, *(None for _ in inputs))


def _loss_diagnosis(value: float, x_hat: torch.Tensor, x: torch.Tensor) -> str:
    """The one catalogued reduction that ``value`` matches on these inputs, or "".

    A specific hint is given only when exactly one mistake's signature matches: on inputs where
    two mistakes give the same number, the general rule alone is stated.
    """
    squares = (x_hat.double() - x.double()) ** 2
    n, pixels = x.shape[0], x[0].numel()
    signatures = {
        tagged(
            "ae.loss_mean_pixels",
            f" That is {pixels} times too small: you averaged over the pixels (F.mse_loss "
            "does), but the lecture's ||x - x_hat||^2 sums them.",
        ): [squares.mean()],
        tagged(
            "ae.loss_sum_batch",
            f" That is {n} times too large: sum over the pixels, but average over the batch.",
        ): [squares.sum()],
        tagged(
            "ae.loss_one_axis",
            " You summed over one dimension only: sum over every dimension but the first "
            "(flatten(1).sum(1), or sum(dim=tuple(range(1, x.ndim)))), then average over the "
            "batch.",
        ): [squares.sum(dim=d).mean() for d in range(1, x.ndim) if x.ndim > 2],
    }
    matching = [
        why
        for why, candidates in signatures.items()
        if any(abs(value - float(c)) <= 1e-6 * max(1.0, abs(float(c))) for c in candidates)
    ]
    return matching[0] if len(matching) == 1 else ""


# --------------------------------------------------------------------------- q3: the loop


def _weighted_loss(dim: int) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    """A loss that is not the reconstruction loss, so a loop must use the one it is given."""
    weights = torch.linspace(0.5, 2.0, dim)

    def loss_fn(out: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        diff = out - target
        return (weights * diff**2).sum(dim=1).mean() + 0.1 * diff.abs().mean()

    return loss_fn


def _corruption(kind: str | None, dim: int) -> Callable | None:
    if kind is None:
        return None
    if kind == "scale":
        return lambda x: 0.5 * x + 0.25
    keep = (torch.arange(dim) % 3 != 0).float()
    return lambda x: x * keep


class _Counting:
    def __init__(self, fn: Callable) -> None:
        self.fn, self.calls = fn, 0

    def __call__(self, *args: Any) -> Any:
        self.calls += 1
        return self.fn(*args)


def _grads(net: nn.Module, params: list[torch.Tensor], inputs, target, loss_fn):
    with torch.no_grad():
        for p, v in zip(net.parameters(), params, strict=True):
            p.copy_(v)
    loss = loss_fn(net(inputs), target)
    return loss.item(), torch.autograd.grad(loss, list(net.parameters()))


def _close(a, b) -> bool:
    return all(
        g is not None and torch.allclose(g, e, rtol=TRAIN_RTOL, atol=TRAIN_ATOL)
        for g, e in zip(a, b, strict=True)
    )


@contextlib.contextmanager
def _bars_shown() -> Any:
    """The class names of the progress bars shown within the block (any enabled tqdm)."""
    shown: list[str] = []
    with recording_bars(shown):
        yield shown


def _recorded_training(
    train_autoencoder: Callable,
    model: nn.Sequential,
    X: torch.Tensor,
    y: torch.Tensor,
    batch_size: int,
    loss_fn: Callable,
    corrupt_fn: Callable | None,
    epochs: int,
) -> dict[str, Any]:
    """Run ``train_autoencoder`` on ``model`` (a Probe first) with recording stand-ins, where it
    lives (the student's kernel under the referee), and return what was recorded, raw: the
    batches, each step's parameters and gradients, the calls, the moves to the CPU and the bars.
    The test judges these; nothing here decides a verdict.

    A batch counts as moved when its data went through ``.to(device)``: the batch itself or a
    view of it (``x.view(len(x), -1).to(device)`` moves the same data), so moves are recorded
    by storage, not by Python object. The loader keeps every batch it yielded, so no two
    batches share a storage address."""
    loss = _Counting(loss_fn)
    corrupt = _Counting(corrupt_fn) if corrupt_fn is not None else None
    optimizer = StepRecorder(torch.optim.SGD(model.parameters(), lr=0.5), list(model.parameters()))
    loader = RecordingLoader(X, y, batch_size)
    with _StorageMoves(torch.device("cpu")) as moves, _bars_shown() as bars:
        history = train_autoencoder(
            model,
            loader,
            optimizer,
            loss,
            epochs=epochs,
            device="cpu",
            corrupt=corrupt,
            progress=False,
        )
    return {
        "history": history,
        "bars": list(bars),
        "yielded": list(loader.yielded),
        "yielded_storages": [x.untyped_storage().data_ptr() for x, _ in loader.yielded],
        "moved": sorted(moves.storages),
        "steps": list(optimizer.steps),
        "loss_calls": loss.calls,
        "corrupt_calls": None if corrupt is None else corrupt.calls,
        "probe_calls": list(model[0].calls),
    }


def check_train_autoencoder(
    train_autoencoder: Callable,
    *,
    seed: int,
    n: int,
    dim: int,
    batch_size: int,
    epochs: int,
    corrupt: str | None,
) -> None:
    """Each step applies the gradient of loss_fn(model(corrupt(x)), x) for its batch; NaN labels."""
    gen = torch.Generator().manual_seed(seed)
    X = torch.rand(n, dim, generator=gen)
    garbage = torch.full((n,), float("nan"))  # any use of the labels shows
    torch.manual_seed(seed)
    model = nn.Sequential(Probe(), nn.Linear(dim, 3), nn.Tanh(), nn.Linear(3, dim), nn.Sigmoid())
    model.eval()  # as reconstruction_error leaves a model: the loop must switch it back
    shadow = copy.deepcopy(model)
    loss_fn = _weighted_loss(dim)
    corrupt_fn = _corruption(corrupt, dim)
    with_corrupt = (
        f", corrupt={'a fixed mask' if corrupt == 'mask' else 'lambda x: 0.5 * x + 0.25'}"
        if corrupt
        else ""
    )
    desc = (
        f"train_autoencoder(model, loader of {n} examples with NaN labels (batch {batch_size}), "
        f"SGD(lr=0.5), a weighted squared-error loss_fn, epochs={epochs}, "
        f"device='cpu'{with_corrupt}) for a model handed over in evaluation mode"
    )
    check_defined(train_autoencoder, desc)
    run = call(
        run_beside,
        train_autoencoder,
        _recorded_training,
        train_autoencoder,
        model,
        X,
        garbage,
        batch_size,
        loss_fn,
        corrupt_fn,
        epochs,
        desc=desc,
        hint=LOOP_HINT,
    )
    history = run["history"]
    check_implemented(history, desc)
    if run["bars"]:
        raise AssertionError(
            tagged(
                "cnn.progress_bar",
                f"With progress=False, {desc} showed a progress bar ({run['bars'][0]}). "
                "Hint: progress_bar(loader, enabled=progress), or tqdm(loader, disable=not "
                "progress).",
            )
        )
    yielded, steps, moved = run["yielded"], run["steps"], set(run["moved"])
    batches = -(-n // batch_size) * epochs
    assert yielded, f"{desc} never iterated over the loader. {LOOP_HINT}"
    assert len(steps) == batches, (
        f"{desc} called optimizer.step() {len(steps)} times; expected one step per "
        "batch, "
        f"{batches} in {epochs} epoch(s). {LOOP_HINT}"
    )
    assert run["loss_calls"] >= batches, (
        f"{desc} called the given loss_fn {run['loss_calls']} times for {batches} batches: use "
        f"the loss_fn it is given. {LOOP_HINT}"
    )
    if corrupt_fn is not None:
        assert run["corrupt_calls"] >= batches, (
            f"{desc} called `corrupt` {run['corrupt_calls']} times for {batches} batches. "
            "Hint: the model's input is corrupt(x) whenever corrupt is given."
        )
    probe_calls = run["probe_calls"]
    assert probe_calls and all(mode for _, mode, _ in probe_calls), tagged(
        "ae.train_mode",
        f"{desc} ran the model in evaluation mode. Hint: call model.train() first: a model may "
        "come in evaluation mode (reconstruction_error leaves it there), and dropout or batch "
        "norm layers would then not train as they should.",
    )
    for k, storage in enumerate(run["yielded_storages"]):
        assert storage in moved, tagged(
            "ae.batch_device",
            f"{desc} did not move batch {k}'s x to `device` (cpu). Hint: the loader yields CPU "
            "tensors; start each step with x = x.to(device), so the loop works on a GPU too.",
        )
    losses = []
    previous = None
    for k, ((x, _), (params, grads)) in enumerate(zip(yielded, steps, strict=True)):
        inputs = corrupt_fn(x) if corrupt_fn is not None else x
        loss, expected = _grads(shadow, params, inputs, x, loss_fn)
        losses.append((loss, len(x)))
        if _close(grads, expected):
            previous = grads
            continue
        why = ""
        if any(g is None or not torch.isfinite(g).all() for g in grads):
            why = tagged(
                "ae.labels_used",
                " The gradients are missing or not finite, and this loader's labels are NaN: an "
                "autoencoder never uses the labels; its target is x itself.",
            )
        elif corrupt_fn is not None and _close(
            grads, _grads(shadow, params, inputs, inputs, loss_fn)[1]
        ):
            why = tagged(
                "ae.denoise_target",
                " Your step used the gradient of loss_fn(model(corrupt(x)), corrupt(x)): the "
                "target must be the clean x, not the corrupted input.",
            )
        elif previous is not None and _close(
            grads, [e + p for e, p in zip(expected, previous, strict=True)]
        ):
            why = tagged(
                "ae.zero_grad",
                " The gradient is this batch's plus the previous step's: call "
                "optimizer.zero_grad() "
                "before backward(), which adds into p.grad.",
            )
        raise AssertionError(
            f"{desc}: optimizer step {k} did not apply the gradient of loss_fn(model(inputs), "
            "x) for "
            f"batch {k} (recomputed at the parameters of that step, rtol {TRAIN_RTOL}).{why} "
            f"{LOOP_HINT}"
        )
    assert isinstance(history, (list, tuple)) and len(history) == epochs, (
        f"{desc} should return a list of {epochs} floats (one per epoch), got {history!r:.200}."
    )
    per_epoch = len(losses) // epochs
    for e in range(epochs):
        chunk = losses[e * per_epoch : (e + 1) * per_epoch]
        mean = sum(loss * size for loss, size in chunk) / sum(size for _, size in chunk)
        check_implemented(history[e], f"the loss of epoch {e}")
        if isinstance(history[e], torch.Tensor) and history[e].isfinite().all():
            _python_float(history[e], f"the loss of epoch {e} returned by {desc}")
        assert math.isfinite(float(history[e])), tagged(
            "ae.labels_used",
            f"{desc} returned a loss of {history[e]} for epoch {e}, and this loader's labels are "
            "NaN: an autoencoder never uses the labels; its target is x itself.",
        )
        got = _float(history[e], f"the loss of epoch {e}")
        assert abs(got - mean) <= 1e-5 * max(1.0, abs(mean)), tagged(
            "ae.epoch_loss",
            f"{desc} returned {got:.6g} for epoch {e}, but the mean loss per example over that "
            "epoch "
            f"was {mean:.6g}. Hint: add loss.item() * len(x) per batch and divide by the number of "
            "examples (the last batch may be smaller).",
        )


def _training_on_device(
    train_autoencoder: Callable, device: Any, seed: int, loss_fn: Callable
) -> Any:
    """``train_autoencoder``'s history for a small model on ``device``, run where it lives (the
    student's kernel under the referee): deterministic algorithms, progress bars to nowhere."""
    import io

    from shared.seeding import deterministic
    from shared.training import make_unlabeled_loader

    gen = torch.Generator().manual_seed(seed)
    X = torch.rand(10, 7, generator=gen)
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Linear(7, 2), nn.Linear(2, 7), nn.Sigmoid()).to(device)
    with deterministic(), contextlib.redirect_stderr(io.StringIO()):
        return train_autoencoder(
            model,
            make_unlabeled_loader(X, batch_size=4, seed=seed),
            torch.optim.Adam(model.parameters(), lr=0.01),
            loss_fn,
            epochs=2,
            device=device,
            progress=True,
        )


def check_train_on_device(train_autoencoder: Callable, *, seed: int) -> None:
    """Runs on shared.device() with progress=True and returns finite losses."""
    import shared

    device = run_beside(train_autoencoder, shared.device)  # the device of the student's kernel
    desc = (
        "train_autoencoder(model, make_unlabeled_loader(X), Adam, loss_fn, epochs=2, "
        f"device={str(device)!r}, "
        "progress=True)"
    )
    check_defined(train_autoencoder, desc)
    history = call(
        run_beside,
        train_autoencoder,
        _training_on_device,
        train_autoencoder,
        device,
        seed,
        _weighted_loss(7),
        desc=desc,
        hint=LOOP_HINT,
    )
    check_implemented(history, desc)
    assert (
        isinstance(history, (list, tuple))
        and len(history) == 2
        and all(math.isfinite(float(h)) for h in history)
    ), f"{desc} should return 2 finite floats, got {history!r:.200}."


class _Shift(nn.Module):
    """x -> dropout(x) * scale + shift: in evaluation mode its squared error on row x_i is
    sum_j ((scale - 1) x_ij + shift)^2, which differs from row to row unless scale is 1."""

    def __init__(self, shift: float, scale: float = 1.0) -> None:
        super().__init__()
        self.probe = Probe()
        self.dropout = nn.Dropout(0.5)
        self.c = nn.Parameter(torch.tensor(shift))
        self.scale = scale
        self.storages: list[int] = []  # where each input's data lives, to match with moves

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.storages.append(x.untyped_storage().data_ptr())
        return self.dropout(self.probe(x)) * self.scale + self.c

    def row_errors(self, X: torch.Tensor) -> torch.Tensor:
        """What each row's error is in evaluation mode, in float64."""
        return (((self.scale - 1) * X.double() + float(self.c.detach())) ** 2).sum(dim=1)


def _storages(value: Any, depth: int = 0) -> set[int]:
    """The storage addresses of the tensors in ``value`` (a tensor, or lists, tuples and dicts
    of them)."""
    if isinstance(value, torch.Tensor):
        with contextlib.suppress(RuntimeError, NotImplementedError):
            return {value.untyped_storage().data_ptr()}
        return set()
    if depth < 3 and isinstance(value, (list, tuple)):
        return set().union(*(_storages(v, depth + 1) for v in value))
    if depth < 3 and isinstance(value, dict):
        return set().union(*(_storages(v, depth + 1) for v in value.values()))
    return set()


class _StorageMoves(torch.overrides.TorchFunctionMode):
    """The storages (data pointers) of the tensors sent to ``device`` with ``x.to(device)`` or
    ``torch.as_tensor(x, device=device)`` (either moves the data, as the prompts ask), and of
    the tensors computed from them: a batch that a DataLoader stacks from X moved whole holds
    moved data too."""

    def __init__(self, device: torch.device) -> None:
        super().__init__()
        self.device = device
        self.storages: set[int] = set()

    def _to_here(self, targets: tuple) -> bool:
        for target in targets:
            if isinstance(target, (str, torch.device)):
                with contextlib.suppress(RuntimeError):
                    if torch.device(target) == self.device:
                        return True
        return False

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        result = func(*args, **kwargs)
        if (
            func is torch.Tensor.to
            and args
            and isinstance(args[0], torch.Tensor)
            and self._to_here((*args[1:], kwargs.get("device")))
        ):
            self.storages |= _storages(args[0]) | _storages(result)
        elif func is torch.as_tensor and self._to_here((*args[2:3], kwargs.get("device"))):
            self.storages |= _storages(result)  # as_tensor(data, dtype, device)
        elif self.storages and _storages((args, kwargs)) & self.storages:
            self.storages |= _storages(result)  # computed from moved data: there as well
        return result


def _evaluated(fn: Callable, model: nn.Module, X: torch.Tensor, **kwargs: Any) -> dict[str, Any]:
    """``fn(model, X, device='cpu', **kwargs)`` run where ``fn`` lives (the student's kernel
    under the referee), with what it did recorded, raw: its result, the probe's calls (batch
    size, training mode, gradients enabled) and whether every input the model saw had been
    sent to the device with ``.to``. The test judges these."""
    with _StorageMoves(torch.device("cpu")) as moves:
        result = fn(model, X, device="cpu", **kwargs)
    return {
        "result": result,
        "calls": list(model.probe.calls),
        # every input the model saw holds data that went through .to(device): X itself, a
        # slice of it, or a batch a loader made (on the CPU, .to('cpu') returns its input)
        "moved": bool(model.storages) and all(p in moves.storages for p in model.storages),
    }


def _call_evaluated(
    fn: Callable, model: nn.Module, X: torch.Tensor, *, desc: str, hint: str, **kwargs: Any
) -> dict[str, Any]:
    check_defined(fn, desc)
    run = call(run_beside, fn, _evaluated, fn, model, X, desc=desc, hint=hint, **kwargs)
    check_implemented(run["result"], desc)
    return run


def _check_evaluation_run(run: dict[str, Any], desc: str, what: str) -> None:
    """Evaluation mode, no graph, and the data moved to ``device``, from a recorded run."""
    calls = run["calls"]
    assert calls and not any(mode for _, mode, _ in calls), tagged(
        "ae.eval_mode", f"{desc} ran the model in training mode. Hint: call model.eval() first."
    )
    assert not any(grad for _, _, grad in calls), tagged(
        "ae.no_grad", f"{desc} built a graph. Hint: evaluate under `with torch.no_grad():`."
    )
    assert run["moved"], tagged(
        "ae.eval_device",
        f"{desc} never sent {what} to `device` ('cpu' here) with .to(device). Hint: the model is "
        "on `device` already; move the data there (x = x.to(device)) before calling it, or on a "
        "GPU the model and the data sit on different devices.",
    )


def check_reconstruction_error(
    reconstruction_error: Callable, *, n: int, dim: int, batch_size: int, seed: int
) -> None:
    X = torch.rand(n, dim, generator=torch.Generator().manual_seed(seed))
    hint = tagged(
        "ae.error_formula",
        "Hint: model.eval(); under torch.no_grad(), add ((model(x) - x) ** 2).sum() over the "
        "batches and divide by len(X).",
    )
    for shift, scale in ((0.5, 1.0), (-0.25, 1.5)):
        model = _Shift(shift, scale).train()
        what = f"x -> x + {shift}" if scale == 1 else f"x -> {scale} * x + {shift}"
        desc = (
            f"reconstruction_error(model, X of shape ({n}, {dim}), device='cpu', "
            f"batch_size={batch_size}) for a model {what} (in training mode)"
        )
        run = _call_evaluated(
            reconstruction_error, model, X, desc=desc, hint=hint, batch_size=batch_size
        )
        got = _python_float(run["result"], desc)
        _check_evaluation_run(run, desc, "the batches of X")
        rows = model.row_errors(X)
        expected = float(rows.mean())
        if abs(got - expected) <= 1e-5 * expected:
            continue
        why = ""
        batch_means = [rows[i : i + batch_size].mean() for i in range(0, n, batch_size)]
        if n % batch_size and abs(got - float(torch.stack(batch_means).mean())) <= 1e-5 * got:
            why = tagged(
                "ae.error_batch_mean",
                f" That is the mean of the {len(batch_means)} batch means, but the last batch "
                f"holds only {n % batch_size} of the {n} rows: add each batch's summed error "
                "and divide by len(X) once (the mean over rows).",
            )
        raise AssertionError(
            f"{desc} should be {expected:.6g} (the mean over the {n} rows of each row's "
            f"squared error summed over its {dim} pixels; the rows' errors differ), got "
            f"{got:.6g}.{why} {hint}"
        )


# --------------------------------------------------------------------------- upstream


def _q1(E, D, A, params, ratio):
    check_autoencoder_classes(E, D, A, in_dim=20, hidden=7, latent=3, seed=1)
    check_lecture_numbers(params, ratio)


def _q2(loss):
    check_loss_value(
        loss, torch.ones(2, 3, dtype=torch.float64), torch.zeros(2, 3, dtype=torch.float64), 3.0
    )


def _q3(train, error):
    check_train_autoencoder(train, seed=0, n=10, dim=6, batch_size=4, epochs=2, corrupt=None)
    check_train_autoencoder(train, seed=1, n=9, dim=5, batch_size=3, epochs=1, corrupt="scale")
    check_reconstruction_error(error, n=7, dim=4, batch_size=3, seed=0)


def _q5(fit, reconstruct):
    data = low_rank_data(n=40, d=12, singular_values=(6.0, 4.0, 2.5, 1.0), seed=0)
    check_pca(fit, reconstruct, data, 2)


def _q7(add_noise):
    check_noise(add_noise, "gaussian", 0.1, shape=(200, 100), seed=0)
    check_noise(add_noise, "mask", 0.3, shape=(200, 100), seed=1)


def _q9(scores, auc, threshold):
    check_roc_auc(auc, n=40, levels=5, seed=0)
    check_threshold(threshold, [3.0, 1.0, 2.0, 5.0, 4.0], 0.2, 4.0)
    check_anomaly_scores(scores, n=6, dim=5, seed=0)


def _q12(conv):
    check_conv_autoencoder(conv, 16, 2, seed=0)


UPSTREAM = {"q1": _q1, "q2": _q2, "q3": _q3, "q5": _q5, "q7": _q7, "q9": _q9, "q12": _q12}


def upstream_checks(env: Any, *questions: str) -> dict[str, Callable[[], None]]:
    """The public checks of ``questions`` ("q1", ...) on the notebook ``env``, for ``gate``.

    Names are read with ``env.get``, so a name the notebook lacks fails its own question here
    rather than the grading guard failing the claim's test.
    """
    names = {
        "q1": ("Encoder", "Decoder", "Autoencoder", "lecture_params", "compression_ratio"),
        "q2": ("reconstruction_loss",),
        "q3": ("train_autoencoder", "reconstruction_error"),
        "q5": ("pca_fit", "pca_reconstruct"),
        "q7": ("add_noise",),
        "q9": ("anomaly_scores", "roc_auc", "threshold_for_fpr"),
        "q12": ("ConvAutoencoder",),
    }
    return {q: (lambda q=q: UPSTREAM[q](*(env.get(name) for name in names[q]))) for q in questions}


def passes_upstream(**questions: Any) -> bool:
    """Whether the named questions' functions pass their public checks (``q1=(Encoder, ...)``).

    A claim about a trained network is judged only then: a mistake in a function it was trained
    with has cost points in that function's question already.
    """
    for name, args in questions.items():
        try:
            UPSTREAM[name](*(args if isinstance(args, tuple) else (args,)))
        except AssertionError:
            return False
    return True


# --------------------------------------------------------------------------- q4: trained errors


def check_given(**values: Any) -> None:
    """Each named value is a finite number (not the stub's ``...``)."""
    for name, value in values.items():
        _float(value, name)


REPORTED_HINT = (
    "Hint: compute it from the trained model named in the question, on the split it names, with "
    "the per-image error (summed over pixels, averaged over images); do not type a number in."
)


def check_reported_error(value: Any, expected: float, name: str, hint: str = "") -> None:
    """A number the notebook reports is what the model and split it describes give."""
    got = _float(value, name)
    assert abs(got - expected) <= REPORTED_RTOL * max(1.0, abs(expected)), tagged(
        "ae.reported",
        f"`{name}` is {got:.4f}, but the model and data it describes give {expected:.4f} "
        f"(relative tolerance {REPORTED_RTOL}). {hint or REPORTED_HINT}",
    )


def check_reported_scores(value: Any, expected: torch.Tensor, name: str) -> None:
    """Per-image scores the notebook reports are what the model it describes gives."""
    check_implemented(value, name)
    got = torch.as_tensor(value).detach().cpu().double()
    assert_shape(got, tuple(expected.shape), name)
    gap = (got - expected).abs().max().item()
    assert gap <= REPORTED_RTOL * max(1.0, expected.abs().max().item()), tagged(
        "ae.reported",
        f"`{name}` differs from the scores the trained model it describes gives by up to "
        f"{gap:.4g} (relative tolerance {REPORTED_RTOL}). Hint: score every test digit with "
        "the trained detector `anomaly_ae` itself.",
    )


def check_threshold_source(
    threshold: Any, expected: float, elsewhere: dict[str, float], target_fpr: float
) -> None:
    """``threshold`` is the one picked on the split the prompt names; ``elsewhere`` maps other
    choices (test digits, the anomalies) to what they give, to name the mistake."""
    got = _float(threshold, "threshold")
    if abs(got - expected) <= REPORTED_RTOL * max(1.0, abs(expected)):
        return
    where = [
        name
        for name, value in elsewhere.items()
        if abs(got - value) <= REPORTED_RTOL * max(1.0, abs(value))
    ]
    why = f" It is the threshold picked on {where[0]}." if len(where) == 1 else ""
    raise AssertionError(
        tagged(
            "ae.threshold_split",
            f"`threshold` is {got:.4f}, but picked for an FPR of {target_fpr} on the scores of "
            f"the normal validation digits it is {expected:.4f}.{why} Hint: the threshold is "
            "chosen on validation data only (X_val without the anomaly digit): test digits are "
            "for reporting, and the anomalies are what the detector must find, not what it is "
            "tuned on.",
        )
    )


def strengthened(
    checks: dict[str, Callable[[], None]], question: str, extra: Callable[[], None]
) -> dict[str, Callable[[], None]]:
    """``checks`` (for :func:`~shared.testing.gate`) with ``extra`` run after ``question``'s
    own: a hidden test's gate also checks what only the hidden tests of ``question`` check (a
    layer too many that keeps every shape), so a claim's failure never blames the training cell
    for a fault in the student's model."""
    first = checks[question]

    def both() -> None:
        first()
        extra()

    return {**checks, question: both}


def check_mean_image_error(value: Any, X_train: torch.Tensor, X_test: torch.Tensor) -> None:
    got = _float(value, "mean_image_error")
    assert got > 0, f"mean_image_error should be positive, got {got}."


def check_lecture_errors(
    train_error: Any, test_error: Any, mean_image_error: Any, where: str
) -> None:
    train, test, base = (
        _float(v, n)
        for v, n in (
            (train_error, "train_error"),
            (test_error, "test_error"),
            (mean_image_error, "mean_image_error"),
        )
    )
    assert train > 0 and test > 0, (
        f"Reconstruction errors are positive; got train {train}, test {test}."
    )
    assert test <= 0.55 * base, tagged(
        "ae.lecture_claim",
        f"On {where} the trained autoencoder's error is {test:.2f}, more than 0.55 times the "
        f"error {base:.2f} of always answering the mean training image. "
        + _where_to_look("the training cell (10 epochs, lr 2e-3, batches of 64)", "Autoencoder"),
    )


def _where_to_look(cell: str, model: str, *, first: bool = True) -> str:
    """Where a claim's failure sends the student once the functions it used pass their public
    checks: the training cell, then the model's own forward, which public checks see only in
    part (a layer too many or a .detach() keeps every shape)."""
    lead = (
        f"Your functions pass their public checks, so first compare {cell} with the one given; "
        "if it is as given, "
        if first
        else "If that is as given, "
    )
    return (
        f"{lead}read your {model}'s forward against the prompt's table, layer by layer: an "
        "activation too many or too few, or a .detach(), keeps every shape but trains a worse "
        "model (the hidden tests check the layers one by one)."
    )


# --------------------------------------------------------------------------- q5: PCA


def low_rank_data(
    *, n: int, d: int, singular_values: tuple[float, ...], seed: int
) -> dict[str, torch.Tensor]:
    """X = mean + U diag(S) V^T, U with orthonormal zero-mean columns, V (d, r) orthonormal.

    Its PCA is known: the mean is ``mean``, the components are the columns of V (up to sign), in
    order, and the rank-k error is the sum of the dropped S^2 over n.
    """
    rng = np.random.default_rng(seed)
    r = len(singular_values)
    A = rng.standard_normal((n, r))
    A -= A.mean(axis=0)  # zero-mean columns, so the mean of X is exactly `mean`
    U, _ = np.linalg.qr(A)
    V, _ = np.linalg.qr(rng.standard_normal((d, r)))
    mean = rng.standard_normal(d) * 2 + 1
    S = np.asarray(singular_values, dtype=float)
    X = mean + (U * S) @ V.T
    return {
        "X": torch.from_numpy(X),
        "mean": torch.from_numpy(mean),
        "V": torch.from_numpy(V.T.copy()),
        "S": torch.from_numpy(S),
    }


def _pca_call(
    pca_fit: Callable, X: torch.Tensor, k: int, hint: str
) -> tuple[torch.Tensor, torch.Tensor]:
    desc = f"pca_fit(X of shape {tuple(X.shape)}, k={k})"
    out = call(pca_fit, X, k, desc=desc, hint=hint)
    assert isinstance(out, (tuple, list)) and len(out) == 2, (
        f"{desc} should return (mean, components), got {type(out).__name__}."
    )
    mean, components = out
    shape_hint = tagged(
        "ae.pca_u_v",
        f"{hint} Hint: the components are the first k rows of Vh (right singular vectors, length "
        "D), not columns of U (length N).",
    )
    assert_shape(mean, (X.shape[1],), f"the mean from {desc}", hint=hint)
    assert_shape(components, (k, X.shape[1]), f"the components from {desc}", hint=shape_hint)
    return mean, components


PCA_HINT = tagged(
    "ae.pca",
    "Hint: mean = X.mean(0); U, S, Vh = torch.linalg.svd(X - mean, full_matrices=False); "
    "components = Vh[:k]; reconstruct with mean + (X - mean) @ C.T @ C.",
)


def _components_diagnosis(
    components: torch.Tensor, X: torch.Tensor, V: torch.Tensor, k: int
) -> str:
    """The catalogued mistake whose signature wrong components match, else the general rule."""
    eye = torch.eye(k, dtype=torch.float64)
    if k > 1 and torch.allclose((components.flip(0) @ V[:k].T).abs(), eye, atol=1e-6):
        return " " + tagged(
            "ae.pca_order",
            "These are the right components in reverse order. Hint: torch.linalg.eigh returns "
            "eigenvalues (and their eigenvectors) in ascending order; the components go in order "
            "of decreasing variance, so flip them (torch.linalg.svd's come in decreasing order).",
        )
    _, _, uncentred = torch.linalg.svd(X.double(), full_matrices=False)
    if torch.allclose((components @ uncentred[:k].T).abs(), eye, atol=1e-6):
        return " " + tagged(
            "ae.pca_centring",
            "These are the directions of the uncentred data. Hint: subtract the mean image "
            "before the SVD (PCA describes the data around its mean); without centring the first "
            "component mostly points at the mean.",
        )
    return " " + PCA_HINT


def check_pca(
    pca_fit: Callable, pca_reconstruct: Callable, data: dict[str, torch.Tensor], k: int
) -> None:
    X, true_mean, V, S = data["X"], data["mean"], data["V"], data["S"]
    n, d = X.shape
    mean, components = _pca_call(pca_fit, X.clone(), k, PCA_HINT)
    desc = f"pca_fit(X of shape {(n, d)}, k={k})"
    mean, components = mean.double(), components.double()
    mean_hint = tagged(
        "ae.pca_mean", "Hint: the mean is the mean row (image) of X, X.mean(dim=0), of shape (D,)."
    )
    assert_close(
        mean, true_mean, name=f"the mean from {desc}", rtol=1e-9, atol=1e-9, hint=mean_hint
    )
    assert_close(
        components @ components.T,
        torch.eye(k, dtype=torch.float64),
        name=f"C @ C.T for the components C from {desc} (orthonormal rows)",
        atol=1e-8,
        rtol=0,
        hint=PCA_HINT,
    )
    overlap = (components @ V[:k].T).abs()  # |cos| between found and true components, in order
    assert torch.allclose(overlap, torch.eye(k, dtype=torch.float64), atol=1e-6), (
        f"The components from {desc} are not the top-{k} principal directions in order (|C V^T| "
        f"should be the identity; its diagonal is "
        f"{[round(float(v), 4) for v in overlap.diagonal()]})."
        f"{_components_diagnosis(components, X, V, k)}"
    )
    rdesc = f"pca_reconstruct(X, mean, components) for k={k}"
    rebuilt = call(pca_reconstruct, X.clone(), mean, components, desc=rdesc, hint=PCA_HINT)
    assert_shape(rebuilt, (n, d), rdesc, hint=PCA_HINT)
    error = float(((rebuilt.double() - X) ** 2).sum(dim=1).mean())
    expected = float((S[k:] ** 2).sum() / n)
    assert abs(error - expected) <= 1e-8 * max(1.0, expected), (
        f"{rdesc} leaves an error of {error:.6g} per row; PCA's is the dropped squared singular "
        f"values over n, {expected:.6g}. {PCA_HINT}"
    )
    check_pca_keeps_x(pca_fit, X, k)


def check_pca_keeps_x(pca_fit: Callable, X: torch.Tensor, k: int) -> None:
    """``pca_fit`` leaves X unchanged and returns tensors of X's dtype (float32 here)."""
    # kept where pca_fit runs, so that a change it makes in place shows when X is read back
    kept = beside(pca_fit, X.clone())
    desc = f"pca_fit(X of shape {tuple(X.shape)}, k={k})"
    call(pca_fit, kept, k, desc=desc, hint=PCA_HINT)
    assert torch.equal(kept.clone(), X), tagged(
        "ae.pca_in_place",
        f"{desc} changed X in place. Hint: centre a new tensor (X - mean), not X itself "
        "(X -= mean would centre the caller's data, X_train, too).",
    )
    mean, components = _pca_call(pca_fit, X.float(), k, PCA_HINT)
    assert mean.dtype == torch.float32 and components.dtype == torch.float32, tagged(
        "ae.pca_dtype",
        f"pca_fit(X of dtype float32, k={k}) returned a mean of dtype {mean.dtype} and "
        f"components of dtype {components.dtype}; the prompt asks for X's dtype. Hint: "
        "compute in any precision you like, then convert back with .to(X.dtype).",
    )


def check_pca_against(
    pca_fit: Callable, pca_reconstruct: Callable, X: torch.Tensor, k: int, oracle
) -> None:
    mean, components = _pca_call(pca_fit, X.clone(), k, PCA_HINT)
    true_mean, true_components = oracle
    assert_close(
        mean.double(),
        true_mean,
        name=f"the mean of X {tuple(X.shape)}",
        rtol=1e-9,
        atol=1e-9,
        hint=PCA_HINT,
    )
    projector = components.double().T @ components.double()
    assert_close(
        projector,
        true_components.T @ true_components,
        name=f"C^T C for k={k} (the projector onto the components)",
        rtol=0,
        atol=1e-7,
        hint=PCA_HINT,
    )
    rebuilt = call(
        pca_reconstruct,
        X.clone(),
        mean,
        components,
        desc="pca_reconstruct(X, mean, components)",
        hint=PCA_HINT,
    )
    assert_close(
        rebuilt.double(),
        true_mean + (X - true_mean) @ true_components.T @ true_components,
        name="pca_reconstruct(X, mean, components)",
        rtol=1e-8,
        atol=1e-8,
        hint=PCA_HINT,
    )


# --------------------------------------------------------------------------- q6: linear AE vs PCA


def check_linear_autoencoder(
    make_linear_autoencoder: Callable, in_dim: int, k: int, *, seed: int
) -> None:
    _seed(make_linear_autoencoder, seed)
    desc = f"make_linear_autoencoder({in_dim}, {k})"
    model = _module(call(make_linear_autoencoder, in_dim, k, desc=desc), desc)
    expected = (in_dim + 1) * k + (k + 1) * in_dim
    assert _n_params(model) == expected, (
        f"{desc} has {_n_params(model):,} parameters instead of {expected:,}: Linear({in_dim}, "
        f"{k}) "
        f"and Linear({k}, {in_dim}), with biases."
    )
    model = model.double()
    gen = torch.Generator().manual_seed(seed)
    a, b = (
        torch.randn(4, in_dim, generator=gen, dtype=torch.float64),
        torch.randn(4, in_dim, generator=gen, dtype=torch.float64),
    )
    with torch.no_grad():
        fa = call(model, a, desc=f"{desc} on x of shape (4, {in_dim})")
        assert_shape(fa, (4, in_dim), f"{desc}(x)")
        gap = (model(a) + model(b) - model(torch.zeros_like(a)) - model(a + b)).abs().max().item()
    assert gap < 1e-9, tagged(
        "ae.linear_activation",
        f"{desc} is not an affine map: f(a) + f(b) - f(0) differs from f(a + b) by {gap:.3g}. "
        "Hint: no activation at all (no ReLU, no Sigmoid) in the linear autoencoder.",
    )


def check_pca_claims(
    pca_train: Any, linear_train: Any, pca_test: Any, nonlinear_test: Any, where: str
) -> None:
    p_tr, l_tr, p_te, n_te = (
        _float(v, n)
        for v, n in (
            (pca_train, "pca_train_error"),
            (linear_train, "linear_train_error"),
            (pca_test, "pca_test_error"),
            (nonlinear_test, "nonlinear_test_error"),
        )
    )
    assert l_tr >= p_tr * (1 - 1e-3), (
        f"The linear autoencoder's training error {l_tr:.4f} is below PCA's {p_tr:.4f} on the same "
        "data, which Eckart-Young rules out: check that both are computed on X_train with the same "
        "per-image formula, and that the linear autoencoder has no activation."
    )
    assert l_tr <= 1.3 * p_tr, tagged(
        "ae.linear_claim",
        f"The linear autoencoder's training error {l_tr:.2f} is more than 1.3 times "
        f"PCA's {p_tr:.2f}. "
        + _where_to_look(
            "the training cell (60 epochs, batches of 32, lr 5e-3)", "linear autoencoder"
        ),
    )
    assert n_te < p_te, tagged(
        "ae.nonlinear_claim",
        f"On {where} the non-linear autoencoder's error {n_te:.2f} does not beat PCA's {p_te:.2f} "
        "at the "
        "same k. " + _where_to_look("the training cell (20 epochs, lr 3e-3)", "Autoencoder"),
    )


# --------------------------------------------------------------------------- q7: noise


def _clipped_normal_std(sigma: float, centre: float) -> float:
    """Standard deviation of clip(centre + sigma Z, 0, 1) for centre = 0.5 (symmetric clipping)."""
    c = centre / sigma
    phi = math.exp(-c * c / 2) / math.sqrt(2 * math.pi)
    Phi = 0.5 * (1 + math.erf(c / math.sqrt(2)))
    second = (2 * Phi - 1) - 2 * c * phi + 2 * c * c * (1 - Phi)
    return sigma * math.sqrt(second)


def check_noise(
    add_noise: Callable, kind: str, level: float, *, shape: tuple, seed: int, dtype: str = "float32"
) -> None:
    torch_dtype = getattr(torch, dtype)
    gen = torch.Generator().manual_seed(seed)
    base = (
        torch.full(shape, 0.5, dtype=torch_dtype)
        if kind == "gaussian"
        else torch.rand(shape, generator=gen, dtype=torch_dtype) * 0.9 + 0.1
    )
    # kept where add_noise runs, so that a change it makes in place shows when x is read back
    x = beside(add_noise, base.clone())
    desc = (
        f"add_noise(x of shape {tuple(shape)}, {kind!r}, {level}, "
        f"generator=torch.Generator().manual_seed({seed}))"
    )
    hint = tagged(
        "ae.noise",
        "Hint: gaussian: (x + level * torch.randn(x.shape, generator=generator, device=x.device, "
        "dtype=x.dtype)).clamp(0, 1); mask: x * (torch.rand(x.shape, generator=generator, "
        "device=x.device) >= level).",
    )
    state = run_beside(add_noise, torch.get_rng_state)  # the generator add_noise would use
    out = call(
        add_noise,
        x,
        kind,
        level,
        generator=torch.Generator().manual_seed(seed),
        desc=desc,
        hint=hint,
    )
    assert torch.equal(run_beside(add_noise, torch.get_rng_state), state), tagged(
        "ae.noise_generator",
        f"{desc} drew from torch's global generator although a generator was given. Hint: pass "
        "generator=generator to torch.randn / torch.rand (torch.randn_like takes none).",
    )
    assert torch.equal(x.clone(), base), tagged(
        "ae.noise_in_place",
        f"{desc} changed x in place. Hint: return a new tensor (x + level * noise, x * keep) and "
        "leave x as it was: in-place methods (add_, clamp_, mul_, masked_fill_) change the "
        "caller's images too.",
    )
    assert (
        isinstance(out, torch.Tensor)
        and tuple(out.shape) == tuple(shape)
        and out.dtype == torch_dtype
    ), (
        f"{desc} should return a tensor of shape {tuple(shape)} and dtype {torch_dtype}, got "
        f"{getattr(out, 'dtype', type(out).__name__)} of shape {tuple(getattr(out, 'shape', ()))}. "
        f"{hint}"
    )
    again = call(
        add_noise,
        x,
        kind,
        level,
        generator=torch.Generator().manual_seed(seed),
        desc=desc,
        hint=hint,
    )
    other = call(
        add_noise,
        x,
        kind,
        level,
        generator=torch.Generator().manual_seed(seed + 1),
        desc=desc,
        hint=hint,
    )
    assert torch.equal(out, again), tagged(
        "ae.noise_generator",
        f"{desc} gave different noise for two generators with the same seed. Hint: draw every "
        "random "
        "number from `generator`.",
    )
    assert not torch.equal(out, other), (
        f"{desc} gave the same noise for seeds {seed} and {seed + 1}. {hint}"
    )
    _seed(add_noise, seed)
    first = call(
        add_noise,
        x,
        kind,
        level,
        desc=desc.replace(f"torch.Generator().manual_seed({seed})", "None"),
        hint=hint,
    )
    _seed(add_noise, seed)
    second = add_noise(x, kind, level)
    assert torch.equal(first, second), (
        "With generator=None, add_noise should draw from torch's global generator (seeded alike, "
        f"same noise). {hint}"
    )
    out = out.double()
    m = out.numel()
    if kind == "gaussian":
        assert out.min() >= 0 and out.max() <= 1, tagged(
            "ae.noise_clip",
            f"{desc} has values outside [0, 1]. Hint: clamp(0, 1) after adding the noise.",
        )
        std = _clipped_normal_std(level, 0.5)
        se_mean, se_std = std / math.sqrt(m), std / math.sqrt(2 * m)
        assert abs(float(out.mean()) - 0.5) <= 5 * se_mean + 1e-6, (
            f"{desc} on x = 0.5 everywhere should have mean 0.5 (within {5 * se_mean:.2g}), got "
            f"{float(out.mean()):.4f}. {hint}"
        )
        assert abs(float(out.std()) - std) <= 5 * se_std + 1e-6, (
            f"{desc} on x = 0.5 everywhere should have standard deviation {std:.4f} "
            f"(level {level}, "
            "after "
            f"clipping; within {5 * se_std:.2g}), got {float(out.std()):.4f}. {hint}"
        )
        high = call(
            add_noise,
            torch.full(shape, 0.95, dtype=torch_dtype),
            kind,
            max(level, 0.1),
            generator=torch.Generator().manual_seed(seed),
            desc=desc,
            hint=hint,
        )
        assert high.max() <= 1 and (high == 1).any(), tagged(
            "ae.noise_clip",
            "add_noise on x = 0.95 should clip some pixels at exactly 1. Hint: clamp(0, 1).",
        )
    else:
        zeroed = out == 0
        fraction = float(zeroed.double().mean())
        se = math.sqrt(level * (1 - level) / m)
        assert abs(fraction - level) <= 5 * se, (
            f"{desc} zeroed a fraction {fraction:.4f} of the entries; expected {level} (within "
            f"{5 * se:.2g}). {hint}"
        )
        assert torch.equal(out[~zeroed], base.double()[~zeroed]), (
            f"{desc} changed entries it did not zero: masking keeps every other entry as it was. "
            f"{hint}"
        )
    with contextlib.suppress(AssertionError):
        call(add_noise, x, "salt", level, desc="add_noise(x, 'salt', ...)")
        raise AssertionError(
            tagged(
                "ae.noise_kind",
                "add_noise(x, 'salt', ...) should raise a ValueError for an unknown kind of noise.",
            )
        )
    _raises_value_error(add_noise, x, level)


def _raises_value_error(add_noise: Callable, x: torch.Tensor, level: float) -> None:
    try:
        add_noise(x, "salt", level)
    except ValueError:
        return
    except Exception as err:  # noqa: BLE001 - any other error is the wrong kind
        raise AssertionError(
            tagged(
                "ae.noise_kind",
                (
                    f"add_noise(x, 'salt', ...) raised {type(err).__name__}; it should "
                    "raise a ValueError."
                ),
            )
        ) from None
    raise AssertionError(
        tagged(
            "ae.noise_kind",
            "add_noise(x, 'salt', ...) should raise a ValueError for an unknown kind of noise.",
        )
    )


def check_noisy_error(noisy_error: Any, X_noisy: torch.Tensor, X: torch.Tensor) -> None:
    got = _float(noisy_error, "noisy_error")
    assert got > 0, f"noisy_error should be positive, got {got}."


def check_denoising(noisy_error: Any, denoised_error: Any, where: str) -> None:
    noisy, denoised = _float(noisy_error, "noisy_error"), _float(denoised_error, "denoised_error")
    assert denoised <= 0.6 * noisy, tagged(
        "ae.denoise_claim",
        f"On {where} the denoiser's outputs are {denoised:.2f} from the clean digits, more than "
        "0.6 times "
        f"the noisy inputs' {noisy:.2f}. Your functions pass their checks, so look at the training "
        "cell "
        "and at how the two errors are computed (both against the clean digits). "
        + _where_to_look("the training cell", "Autoencoder", first=False),
    )


# --------------------------------------------------------------------------- q9: anomaly tools


AUC_HINT = tagged(
    "ae.auc",
    "Hint: over every (anomaly, normal) pair, count 1 when the anomaly scores higher and 1/2 for a "
    "tie, then divide by the number of pairs.",
)


def pairwise_auc(labels, scores) -> float:
    """The AUC from its definition, in float64: over every (anomaly, normal) pair, 1 when the
    anomaly scores higher and 1/2 for a tie, averaged (``sklearn.metrics.roc_auc_score``'s value,
    without importing scikit-learn, whose ~100 MB every grading process would carry)."""
    labels = np.asarray(labels).astype(bool).ravel()
    scores = np.asarray(scores, dtype=np.float64).ravel()
    difference = scores[labels][:, None] - scores[~labels][None, :]
    return float((difference > 0).mean() + 0.5 * (difference == 0).mean())


def check_roc_auc(
    roc_auc: Callable, *, n: int, levels: int, seed: int, as_numpy: bool = False
) -> None:
    from shared.forbid import forbid

    rng = np.random.default_rng(seed)
    scores = rng.integers(0, levels, size=n).astype(float)  # few levels: many ties
    labels = rng.permutation(np.arange(n) < max(1, n // 3)).astype(int)
    expected = pairwise_auc(labels, scores)
    args = (
        (scores, labels)
        if as_numpy
        else (torch.from_numpy(scores), torch.from_numpy(labels).bool())
    )
    kind = "numpy arrays" if as_numpy else "tensors (labels bool)"
    desc = f"roc_auc(scores, labels) on {n} {kind} with scores in 0..{levels - 1}"
    with forbid(
        "sklearn.metrics.roc_auc_score",
        "sklearn.metrics.roc_curve",
        reason="Write the AUC from its formula.",
    ):
        got = _python_float(call(roc_auc, *args, desc=desc, hint=AUC_HINT), desc)
    if abs(got - expected) <= 1e-9:
        return
    positive, negative = scores[labels == 1], scores[labels == 0]
    strict = float((positive[:, None] > negative[None, :]).mean())
    why = ""
    if abs(got - (1 - expected)) <= 1e-9:
        why = tagged(
            "ae.auc_inverted",
            (
                " That is 1 - AUC: anomalies must score *higher*; count pairs where the anomaly's "
                "score is larger."
            ),
        )
    elif (
        abs(got - strict) <= 1e-9
        or abs(got - (strict + float((positive[:, None] == negative[None, :]).mean()))) <= 1e-9
    ):
        why = tagged("ae.auc_ties", " Ties count one half each.")
    raise AssertionError(
        f"{desc} should be {expected:.6f} (what sklearn.metrics.roc_auc_score gives), got "
        f"{got:.6f}.{why} "
        f"{AUC_HINT}"
    )


def check_threshold(
    threshold_for_fpr: Callable, normal: list[float], fpr: float, expected: float
) -> None:
    desc = (
        f"threshold_for_fpr({normal}, {fpr})"
        if len(normal) <= 8
        else f"threshold_for_fpr({len(normal)} scores, {fpr})"
    )
    hint = tagged(
        "ae.threshold",
        "Hint: go through the normal scores from the smallest up and return the first t with "
        "(normal_scores > t).mean() <= fpr.",
    )
    got = _python_float(
        call(
            threshold_for_fpr, torch.tensor(normal, dtype=torch.float64), fpr, desc=desc, hint=hint
        ),
        desc,
    )
    assert abs(got - expected) <= 1e-12, f"{desc} should be {expected}, got {got}. {hint}"


def check_anomaly_scores(anomaly_scores: Callable, *, n: int, dim: int, seed: int) -> None:
    X = torch.rand(n, dim, generator=torch.Generator().manual_seed(seed))
    model = _Shift(0.5, 1.5).train()  # each row's error differs: ((x / 2) + 0.5)^2 summed
    desc = (
        f"anomaly_scores(model, X of shape ({n}, {dim}), device='cpu') for a model "
        "x -> 1.5 * x + 0.5 (in training mode)"
    )
    hint = tagged(
        "ae.scores",
        "Hint: model.eval(); under torch.no_grad(): X = X.to(device); "
        "((model(X) - X) ** 2).sum(dim=1).cpu(): one score per row.",
    )
    run = _call_evaluated(anomaly_scores, model, X, desc=desc, hint=hint)
    out = run["result"]
    assert isinstance(out, torch.Tensor), (
        f"{desc} should return a tensor, got {type(out).__name__}."
    )
    assert_shape(out, (n,), desc, hint=hint)
    assert out.device.type == "cpu", f"{desc} should return a CPU tensor. {hint}"
    _check_evaluation_run(run, desc, "X")
    assert_close(out.double(), model.row_errors(X), name=desc, rtol=1e-5, atol=1e-6, hint=hint)


# --------------------------------------------------------------------------- q10: anomaly numbers


def check_anomaly_numbers(
    threshold, test_scores, is_anomaly, anomaly_auc, test_fpr, test_tpr, truth, *, check_auc=True
) -> None:
    t = _float(threshold, "threshold")
    check_implemented(test_scores, "test_scores")
    scores = torch.as_tensor(test_scores).detach().cpu().double()
    assert_shape(scores, (len(truth),), "test_scores")
    flags = torch.as_tensor(is_anomaly).cpu()
    assert flags.dtype == torch.bool and torch.equal(flags, torch.as_tensor(truth).cpu()), (
        "is_anomaly should be the boolean tensor y_test == ANOMALY."
    )
    auc = _float(anomaly_auc, "anomaly_auc")
    expected = pairwise_auc(flags.numpy(), scores.numpy())
    if not check_auc:  # roc_auc fails its own checks: that costs question 9, not this one
        expected = auc
    assert abs(auc - expected) <= 1e-6, (
        f"anomaly_auc is {auc:.6f}, but the AUC of test_scores for is_anomaly is {expected:.6f}."
    )
    for name, value, group in (("test_fpr", test_fpr, ~flags), ("test_tpr", test_tpr, flags)):
        rate = float((scores[group] > t).double().mean())
        got = _python_float(value, name)
        assert abs(got - rate) <= 1e-6, (
            f"{name} is {got:.4f}, but a fraction {rate:.4f} of those test scores is above "
            "threshold."
        )


def check_anomaly_claims(auc: Any, fpr: Any, where: str) -> None:
    auc, fpr = _float(auc, "anomaly_auc"), _float(fpr, "test_fpr")
    assert auc >= 0.9, tagged(
        "ae.anomaly_claim",
        f"On {where} the detector's AUC is {auc:.3f}, below 0.9. Your functions pass their checks, "
        "so "
        "look at the training cell: train on the normal digits only. "
        + _where_to_look("the training cell", "Autoencoder", first=False),
    )
    assert fpr <= 0.12, tagged(
        "ae.anomaly_fpr",
        f"On {where} the threshold flags a fraction {fpr:.3f} of the normal digits, more than "
        "0.12 for a "
        "target of 0.05. Hint: pick the threshold on the normal validation digits.",
    )


# --------------------------------------------------------------------------- q11: VAE


NO_GRAD = tagged(
    "ae.no_reparam",
    "Gradients do not reach mu and log_var: sampling z directly (torch.normal, "
    "Normal(...).sample()) cuts the graph. Write z = mu + std * eps so that the randomness sits "
    "in eps.",
)
REPARAM_HINT = tagged(
    "ae.reparam",
    "Hint: std = torch.exp(0.5 * log_var); eps = torch.randn(mu.shape, generator=generator, "
    "device=mu.device, dtype=mu.dtype); return mu + std * eps.",
)


def _draw_with_grads(
    reparameterize: Callable, mu: torch.Tensor, log_var: torch.Tensor, seed: int
) -> tuple[Any, Any, Any]:
    """z = reparameterize(mu, log_var, a generator seeded ``seed``) and the gradients of sum(z)
    on mu and log_var (None where none arrives), taken where ``reparameterize`` lives."""
    z = reparameterize(mu, log_var, torch.Generator().manual_seed(seed))
    if isinstance(z, torch.Tensor) and z.requires_grad:
        z.sum().backward()
    return z, mu.grad, log_var.grad


def _expectation_with_grads(
    reparameterize: Callable, mu: torch.Tensor, log_var: torch.Tensor, m: int, seed: int
) -> tuple[Any, Any, Any]:
    """z for ``m`` copies of one (mu, log_var) and the gradients of mean(z ** 2) summed over the
    dimensions, on mu and log_var (None where none arrives), taken where ``reparameterize``
    lives."""
    z = reparameterize(
        mu.expand(m, len(mu)), log_var.expand(m, len(log_var)), torch.Generator().manual_seed(seed)
    )
    if isinstance(z, torch.Tensor) and z.requires_grad:
        (z**2).mean(0).sum().backward()
    return z, mu.grad, log_var.grad


def check_reparameterize(reparameterize: Callable, *, shape: tuple, seed: int) -> None:
    gen = torch.Generator().manual_seed(seed + 100)
    draws, grads = [], []  # grads: of sum(z), taken where reparameterize ran
    for scale in (1.0, 2.0):
        mu = (torch.randn(shape, generator=gen, dtype=torch.float64) * scale).requires_grad_(True)
        log_var = (torch.randn(shape, generator=gen, dtype=torch.float64) * scale).requires_grad_(
            True
        )
        desc = (
            f"reparameterize(mu, log_var, torch.Generator().manual_seed({seed})) for shape "
            f"{tuple(shape)}"
        )
        check_defined(reparameterize, desc)
        z, mu_grad, log_var_grad = call(
            run_beside,
            reparameterize,
            _draw_with_grads,
            reparameterize,
            mu,
            log_var,
            seed,
            desc=desc,
            hint=REPARAM_HINT,
        )
        check_implemented(z, desc)
        assert isinstance(z, torch.Tensor), f"{desc} should return a tensor. {REPARAM_HINT}"
        assert_shape(z, tuple(shape), desc, hint=REPARAM_HINT)
        assert z.requires_grad, (
            f"{desc} returned a z that is not connected to mu and log_var. {NO_GRAD}"
        )
        draws.append((mu, log_var, z))
        grads.append((mu_grad, log_var_grad))
    eps = [((z - mu) / torch.exp(0.5 * lv)).detach() for mu, lv, z in draws]
    if not torch.allclose(eps[0], eps[1], rtol=1e-9, atol=1e-9):
        why = ""
        ratio = [((z - mu) / lv).detach() for mu, lv, z in draws]
        variance = [((z - mu) / torch.exp(lv)).detach() for mu, lv, z in draws]
        if torch.allclose(ratio[0], ratio[1], rtol=1e-9, atol=1e-9):
            why = tagged(
                "ae.std_log_var",
                (
                    " Your z is mu + log_var * eps: the standard deviation is exp(0.5 * log_var), "
                    "not log_var."
                ),
            )
        elif torch.allclose(variance[0], variance[1], rtol=1e-9, atol=1e-9):
            why = tagged(
                "ae.std_variance",
                (
                    " Your z is mu + exp(log_var) * eps: that is the variance; the standard "
                    "deviation "
                    "is exp(0.5 * log_var)."
                ),
            )
        raise AssertionError(
            "With the same generator seed, (z - mu) / exp(0.5 * log_var) should be the same "
            "eps for any mu and "
            f"log_var, but it is not.{why} {REPARAM_HINT}"
        )
    mu, log_var, z = draws[0]
    mu_grad, log_var_grad = grads[0]
    no_grad = NO_GRAD
    assert mu_grad is not None and log_var_grad is not None, (
        f"After reparameterize(...).sum().backward(): {no_grad}"
    )
    assert_close(
        mu_grad,
        torch.ones_like(mu),
        name="d sum(z) / d mu",
        rtol=1e-9,
        atol=1e-12,
        hint=REPARAM_HINT,
    )
    assert_close(
        log_var_grad,
        0.5 * torch.exp(0.5 * log_var.detach()) * eps[0],
        name="d sum(z) / d log_var (= 0.5 * std * eps)",
        rtol=1e-9,
        atol=1e-12,
        hint=REPARAM_HINT,
    )
    # in expectation: many draws of one (mu, log_var) pair
    m = 20000
    mu0 = torch.tensor([0.7, -0.4], dtype=torch.float64, requires_grad=True)
    lv0 = torch.tensor([0.2, -0.6], dtype=torch.float64, requires_grad=True)
    expectation = f"reparameterize on {m} copies of one (mu, log_var)"
    check_defined(reparameterize, expectation)
    z, mu0_grad, lv0_grad = call(
        run_beside,
        reparameterize,
        _expectation_with_grads,
        reparameterize,
        mu0,
        lv0,
        m,
        seed + 1,
        desc=expectation,
        hint=REPARAM_HINT,
    )
    check_implemented(z, expectation)
    sigma = torch.exp(0.5 * lv0.detach())
    assert (z.detach().mean(0) - mu0.detach()).abs().max() <= 5 * sigma.max() / math.sqrt(m), (
        f"The mean of {m} samples is {z.detach().mean(0).tolist()}, not mu = {mu0.tolist()} "
        "(within "
        f"5 standard errors). {REPARAM_HINT}"
    )
    var = z.detach().var(0)
    assert ((var - sigma**2).abs() <= 5 * sigma**2 * math.sqrt(2 / m)).all(), (
        f"The variance of {m} samples is {var.tolist()}, not exp(log_var) = {(sigma**2).tolist()} "
        f"(within 5 standard errors). {REPARAM_HINT}"
    )
    assert mu0_grad is not None and lv0_grad is not None, no_grad
    tol = 5 * (2 * sigma * (mu0.detach().abs() + sigma) + 0.05) / math.sqrt(m)
    assert ((mu0_grad - 2 * mu0.detach()).abs() <= tol).all() and (
        (lv0_grad - sigma**2).abs() <= tol
    ).all(), (
        f"Averaged over {m} draws, d E[z^2]/d mu should be 2 mu = {(2 * mu0.detach()).tolist()} "
        "and d E[z^2]/d log_var should be "
        f"exp(log_var) = {(sigma**2).tolist()}; got {mu0_grad.tolist()} and {lv0_grad.tolist()} "
        f"(tolerance {tol.max():.2g}). {REPARAM_HINT}"
    )


KL_HINT = tagged(
    "ae.kl",
    (
        "Hint: per row, -0.5 * (1 + log_var - mu**2 - log_var.exp()).sum(dim=1); then the mean "
        "over "
        "rows."
    ),
)


def _kl_expected(mu: torch.Tensor, log_var: torch.Tensor) -> float:
    from torch.distributions import Normal, kl_divergence

    q = Normal(mu, torch.exp(0.5 * log_var))
    p = Normal(torch.zeros_like(mu), torch.ones_like(mu))
    return float(kl_divergence(q, p).sum(dim=1).mean())


def check_kl(kl_divergence: Callable, *, n: int, d: int, seed: int) -> None:
    gen = torch.Generator().manual_seed(seed)
    mu = torch.randn(n, d, generator=gen, dtype=torch.float64)
    log_var = torch.randn(n, d, generator=gen, dtype=torch.float64)
    desc = f"kl_divergence(mu, log_var) for shape ({n}, {d})"
    out = call(kl_divergence, mu, log_var, desc=desc, hint=KL_HINT)
    assert isinstance(out, torch.Tensor) and out.ndim == 0, (
        f"{desc} should be a 0-d tensor, got {type(out).__name__} "
        f"{tuple(getattr(out, 'shape', ()))}. "
        f"{KL_HINT}"
    )
    got, expected = float(out), _kl_expected(mu, log_var)
    if abs(got - expected) > 1e-9 * max(1.0, abs(expected)):
        why = ""
        if abs(got + expected) <= 1e-9 * max(1.0, expected):
            why = tagged(
                "ae.kl_sign",
                (
                    " That is minus the KL (which is never negative): check the sign in front of "
                    "the sum."
                ),
            )
        elif n > 1 and abs(got - n * expected) <= 1e-9 * n * max(1.0, expected):
            why = tagged(
                "ae.kl_batch_sum",
                f" That is {n} times too large: average over the rows (the batch), do not sum.",
            )
        elif abs(got - expected / d) <= 1e-9 * max(1.0, expected):
            why = tagged(
                "ae.kl_latent_mean",
                (
                    f" That is {d} times too small: sum over the latent dimensions, average over "
                    "the rows."
                ),
            )
        raise AssertionError(
            f"{desc} should be {expected:.8g} (torch.distributions.kl_divergence, summed over "
            f"dimensions, averaged over rows), got {got:.8g}.{why} {KL_HINT}"
        )
    zero = call(
        kl_divergence,
        torch.zeros(n, d, dtype=torch.float64),
        torch.zeros(n, d, dtype=torch.float64),
        desc="kl_divergence(0, 0)",
        hint=KL_HINT,
    )
    assert abs(float(zero)) <= 1e-12, (
        f"kl_divergence(0, 0) should be 0 (N(0, I) against itself), got {float(zero)}. {KL_HINT}"
    )


def _referee_reconstruction_loss(x_hat: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    # The library's loss, not the formula q2 asks students to write (this module ships to them).
    return torch.nn.functional.mse_loss(x_hat, x, reduction="sum") / x.shape[0]


def _refereed(fn: Any, env: Any, **names: Any) -> contextlib.AbstractContextManager:
    """Bind ``names`` to referees in ``fn``'s notebook, whether the notebook defines them or not.

    A mistake in question 2 (or a cell of its that crashed) then costs question 11 nothing:
    ``vae_loss`` is judged with a correct stand-in for the loss it reuses. Under the grading
    referee ``fn`` is a proxy and its notebook is ``env`` (the test's, which must be given).
    """
    if on_referee(fn):
        namespace = env  # the referees run here: the student's kernel gets stubs of them
        names = {k: stand_in(fn, v, k, differentiable=True) for k, v in names.items()}
    else:
        target = getattr(fn, "__init__", fn) if isinstance(fn, type) else fn
        namespace = getattr(target, "__globals__", None)
    return contextlib.nullcontext() if namespace is None else substitute(namespace, **names)


def check_vae_loss(
    vae_loss: Callable, *, n: int, dim: int, d: int, seed: int, env: Any = None
) -> None:
    with _refereed(vae_loss, env, reconstruction_loss=_referee_reconstruction_loss):
        _check_vae_loss(vae_loss, n=n, dim=dim, d=d, seed=seed)


def _check_vae_loss(vae_loss: Callable, *, n: int, dim: int, d: int, seed: int) -> None:
    gen = torch.Generator().manual_seed(seed)
    hint = tagged(
        "ae.vae_loss",
        (
            "Hint: vae_loss = reconstruction_loss(x_hat, x) + kl_divergence(mu, log_var), both "
            "averaged "
            "over the batch."
        ),
    )
    zeros = torch.zeros(n, d, dtype=torch.float64)
    x = torch.zeros(n, dim, dtype=torch.float64)
    base = call(
        vae_loss,
        torch.full((n, dim), 0.5, dtype=torch.float64),
        x,
        zeros,
        zeros,
        desc=f"vae_loss(x_hat = 0.5, x = 0, mu = 0, log_var = 0) for {n} images of {dim} pixels",
        hint=hint,
    )
    expected_base = 0.25 * dim
    assert abs(float(base) - expected_base) <= 1e-9 * dim, (
        "vae_loss(x_hat = 0.5, x = 0, mu = 0, log_var = 0) should be the reconstruction term "
        f"alone, 0.25 * {dim} = {0.25 * dim} "
        f"(summed over pixels, averaged over images; the KL is 0), got {float(base):.6g}. {hint}"
    )
    x_hat, x = (
        torch.rand(n, dim, generator=gen, dtype=torch.float64),
        torch.rand(n, dim, generator=gen, dtype=torch.float64),
    )
    mu = torch.randn(n, d, generator=gen, dtype=torch.float64).requires_grad_(True)
    log_var = torch.randn(n, d, generator=gen, dtype=torch.float64).requires_grad_(True)
    check_defined(vae_loss, "vae_loss(x_hat, x, mu, log_var)")
    full, _, _, mu_grad, log_var_grad = call(
        run_beside,
        vae_loss,
        _with_backward,
        vae_loss,
        x_hat,
        x,
        mu,
        log_var,
        desc="vae_loss(x_hat, x, mu, log_var)",
        hint=hint,
    )
    check_implemented(full, "vae_loss(x_hat, x, mu, log_var)")
    recon = call(vae_loss, x_hat, x, zeros, zeros, desc="vae_loss(x_hat, x, 0, 0)", hint=hint)
    kl = float(full.detach()) - float(recon)
    expected = _kl_expected(mu.detach(), log_var.detach())
    assert abs(kl - expected) <= 1e-9 * max(1.0, expected), (
        "vae_loss(x_hat, x, mu, log_var) - vae_loss(x_hat, x, 0, 0) should be the "
        f"KL term {expected:.8g}, "
        f"got {kl:.8g}. {hint}"
    )
    if mu_grad is None and not full.requires_grad:
        full.backward()  # the error a loss without a graph gives, as in the notebook
    assert mu_grad is not None and log_var_grad is not None, (
        f"No gradient reached mu and log_var through vae_loss. {hint}"
    )


def check_vae_module(VAE: Any, *, in_dim: int, hidden: int, latent: int, seed: int) -> None:
    _seed(VAE, seed)
    desc = f"VAE(in_dim={in_dim}, hidden={hidden}, latent={latent})"
    model = _module(call(VAE, in_dim=in_dim, hidden=hidden, latent=latent, desc=desc), desc)
    expected = (
        (in_dim + 1) * hidden
        + 2 * (hidden + 1) * latent
        + (latent + 1) * hidden
        + (hidden + 1) * in_dim
    )
    assert _n_params(model) == expected, (
        f"{desc} has {_n_params(model):,} parameters instead of {expected:,}: Linear({in_dim}, "
        f"{hidden}), two heads "
        f"Linear({hidden}, {latent}), and the decoder Linear({latent}, {hidden}), Linear({hidden}, "
        f"{in_dim})."
    )
    decoder = getattr(model, "decoder", None)
    assert is_instance(decoder, nn.Module), (
        f"{desc} should have an attribute `decoder` (a Decoder)."
    )
    x = torch.rand(5, in_dim, generator=torch.Generator().manual_seed(seed))
    hint = tagged(
        "ae.vae_forward",
        "Hint: h = body(x); mu, log_var = two heads of h; z = reparameterize(mu, "
        "log_var, generator); "
        "return self.decoder(z), mu, log_var.",
    )
    with torch.no_grad():
        out = call(
            model, x, torch.Generator().manual_seed(seed), desc=f"{desc}(x, generator)", hint=hint
        )
        assert isinstance(out, (tuple, list)) and len(out) == 3, (
            f"{desc}(x, generator) should return (x_hat, mu, log_var). {hint}"
        )
        x_hat, mu, log_var = out
        assert_shape(x_hat, (5, in_dim), f"x_hat from {desc}", hint=hint)
        assert_shape(mu, (5, latent), f"mu from {desc}", hint=hint)
        assert_shape(log_var, (5, latent), f"log_var from {desc}", hint=hint)
        eps = torch.randn(mu.shape, generator=torch.Generator().manual_seed(seed), dtype=mu.dtype)
        assert_close(
            x_hat,
            decoder(mu + torch.exp(0.5 * log_var) * eps),
            name=(
                f"x_hat from {desc}, compared with model.decoder(mu + exp(0.5 log_var) * eps) "
                "for the generator's eps"
            ),
            rtol=1e-5,
            atol=1e-6,
            hint=hint,
        )
        again = model(x, torch.Generator().manual_seed(seed))[0]
        assert torch.equal(again, x_hat), (
            f"{desc}(x, generator) differs for two generators with the same seed. {hint}"
        )


def _vae_body(model: nn.Module, in_dim: int, hidden: int) -> list[tuple[Any, Any]]:
    """Weight and bias of every ``nn.Linear(in_dim, hidden)`` of ``model`` outside its decoder
    (run where ``model`` lives; raw tensors)."""
    decoder = getattr(model, "decoder", None)
    inside = {id(m) for m in decoder.modules()} if isinstance(decoder, nn.Module) else set()
    return [
        (m.weight.detach().clone(), None if m.bias is None else m.bias.detach().clone())
        for m in model.modules()
        if isinstance(m, nn.Linear)
        and id(m) not in inside
        and (m.in_features, m.out_features) == (in_dim, hidden)
    ]


VAE_LAYERS_HINT = tagged(
    "ae.vae_layers",
    "Hint: h = ReLU(Linear(in_dim, hidden)(x)); mu = Linear(hidden, latent)(h) and log_var = "
    "Linear(hidden, latent)(h), with nothing after either head (log_var may be negative, and mu "
    "any real number).",
)


def check_vae_layers(VAE: Any, *, in_dim: int, hidden: int, latent: int, seed: int) -> None:
    """mu and log_var are affine functions of h = ReLU(body(x)), the body being the model's
    Linear(in_dim, hidden) with its weights: fitted by least squares over more rows than h has
    columns, the residual is zero (float32 rounding aside). Any head layout passes (two heads,
    or one of 2 * latent outputs split); an activation on a head or none on the body fails."""
    _seed(VAE, seed)
    desc = f"VAE(in_dim={in_dim}, hidden={hidden}, latent={latent})"
    model = _module(call(VAE, in_dim=in_dim, hidden=hidden, latent=latent, desc=desc), desc)
    bodies = run_beside(model, _vae_body, model, in_dim, hidden)
    assert len(bodies) == 1, (
        f"{desc} should hold one Linear({in_dim}, {hidden}) outside its decoder (the encoder "
        f"body), found {len(bodies)}. {VAE_LAYERS_HINT}"
    )
    weight, bias = bodies[0]
    n = 3 * (hidden + 1)
    x = torch.rand(n, in_dim, generator=torch.Generator().manual_seed(seed)) * 2 - 0.5
    with torch.no_grad():
        out = call(
            model,
            x,
            torch.Generator().manual_seed(seed),
            desc=f"{desc}(x, generator) for x of shape {(n, in_dim)}",
            hint=VAE_LAYERS_HINT,
        )
    h = x.double() @ weight.double().T + (0 if bias is None else bias.double())
    design = torch.cat([torch.relu(h), torch.ones(n, 1, dtype=torch.float64)], dim=1)
    for name, value in (("mu", out[1]), ("log_var", out[2])):
        value = value.detach().double()
        coef = torch.linalg.lstsq(design, value, driver="gelsd").solution
        gap = (design @ coef - value).abs().max().item()
        scale = 1.0 + value.abs().max().item()
        assert gap <= 1e-4 * scale, (
            f"{name} from {desc}(x) is not an affine function of h = ReLU(body(x)), the body "
            f"being your Linear({in_dim}, {hidden}) (least-squares residual {gap:.3g} over {n} "
            f"rows, tolerance {1e-4 * scale:.2g}): an activation on the {name} head, or none "
            f"after the body. {VAE_LAYERS_HINT}"
        )


# --------------------------------------------------------------------------- q12-13: conv AE


def check_conv_autoencoder(ConvAutoencoder: Any, c1: int, c2: int, *, seed: int) -> None:
    _seed(ConvAutoencoder, seed)
    desc = f"ConvAutoencoder(c1={c1}, c2={c2})"
    model = _module(call(ConvAutoencoder, c1=c1, c2=c2, desc=desc), desc)
    expected = 10 * c1 + (9 * c1 + 1) * c2 + (9 * c2 + 1) * c1 + 9 * c1 + 1
    got = _n_params(model)
    assert got == expected, (
        f"{desc} has {got:,} parameters instead of {expected:,}: Conv2d(1, {c1}, "
        f"3), Conv2d({c1}, {c2}, 3), "
        f"ConvTranspose2d({c2}, {c1}, 3), ConvTranspose2d({c1}, 1, 3), with biases."
        + (_count_hint(0, ()) if got == 0 else "")
    )
    hint = tagged(
        "ae.output_padding",
        "Hint: a ConvTranspose2d(kernel 3, stride 2, padding 1) maps a side M to (M - 1) * 2 "
        "- 2 + 3 "
        "= 2M - 1 (7 -> 13, 14 -> 27); output_padding=1 gives 2M (7 -> 14 -> 28).",
    )
    x = torch.rand(3, 784, generator=torch.Generator().manual_seed(seed))
    with torch.no_grad():
        out = call(model, x, desc=f"{desc} on x of shape (3, 784)", hint=hint)
    assert_shape(out, (3, 784), f"{desc}(x) for x of shape (3, 784)", hint=hint)
    assert ((out > 0) & (out < 1)).all(), f"{desc}(x) has values outside (0, 1). {SIGMOID_HINT}"
    check_sigmoid_output(model, x, desc)
    check_last_layer(model, x, desc)
    check_rows_independent(model, x, desc, CONV_ROWS_HINT)
    assert _n_params(model) < LECTURE_PARAMS, (
        f"{desc} should have fewer parameters than the dense autoencoder's {LECTURE_PARAMS:,}."
    )


def _conv_layers(model: nn.Module) -> list[dict[str, Any]]:
    """The Conv2d and ConvTranspose2d layers of ``model`` in the order ``modules()`` lists them:
    kind, channels, stride, padding, output padding, weight and bias (raw; run where ``model``
    lives)."""
    layers = []
    for module in model.modules():
        if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)):
            layers.append(
                {
                    "kind": "ConvTranspose2d"
                    if isinstance(module, nn.ConvTranspose2d)
                    else "Conv2d",
                    "in": module.in_channels,
                    "out": module.out_channels,
                    "weight": module.weight.detach().clone(),
                    "bias": None if module.bias is None else module.bias.detach().clone(),
                }
            )
    return layers


CONV_LAYERS_HINT = tagged(
    "ae.conv_layers",
    "Hint: encoder Conv2d(1, c1) -> ReLU -> Conv2d(c1, c2) with nothing after it (a linear "
    "bottleneck); decoder ConvTranspose2d(c2, c1) -> ReLU -> ConvTranspose2d(c1, 1) -> Sigmoid; "
    "all with kernel 3, stride 2, padding 1 (output_padding=1 for the transposed ones).",
)


def check_conv_matches(
    ConvAutoencoder: Any, reference: Callable, c1: int, c2: int, *, seed: int
) -> None:
    """The model computes the table's layers with its own weights: ``reference(layers, x,
    bottleneck_relu=False)`` (grader-only) applies them; ``c1``, ``c2`` distinct and not 1, so
    each layer is found by its kind and channels."""
    _seed(ConvAutoencoder, seed)
    desc = f"ConvAutoencoder(c1={c1}, c2={c2})"
    model = _module(call(ConvAutoencoder, c1=c1, c2=c2, desc=desc), desc)
    found = run_beside(model, _conv_layers, model)
    wanted = [
        ("Conv2d", 1, c1),
        ("Conv2d", c1, c2),
        ("ConvTranspose2d", c2, c1),
        ("ConvTranspose2d", c1, 1),
    ]
    by_key = {(layer["kind"], layer["in"], layer["out"]): layer for layer in found}
    missing = [key for key in wanted if key not in by_key]
    names = ", ".join("{kind}({in}, {out})".format(**layer) for layer in found) or "none"
    assert not missing and len(found) == 4, (
        f"{desc} should hold exactly four layers, Conv2d(1, {c1}), Conv2d({c1}, {c2}), "
        f"ConvTranspose2d({c2}, {c1}) and ConvTranspose2d({c1}, 1); found {names}. "
        f"{CONV_LAYERS_HINT}"
    )
    layers = [by_key[key] for key in wanted]
    x = torch.rand(4, 784, generator=torch.Generator().manual_seed(seed))
    with torch.no_grad():
        out = call(model, x, desc=f"{desc}(x) for x of shape (4, 784)", hint=CONV_LAYERS_HINT)
    out = out.detach().double()
    expected = reference(layers, x)
    if torch.allclose(out, expected, rtol=1e-4, atol=1e-5):
        return
    why = ""
    if torch.allclose(out, reference(layers, x, bottleneck_relu=True), rtol=1e-4, atol=1e-5):
        why = tagged(
            "ae.conv_bottleneck_relu",
            " It matches the layers with a ReLU after the second convolution: the bottleneck "
            "is linear (no activation after Conv2d(c1, c2)), like the dense autoencoder's.",
        )
    raise AssertionError(
        f"{desc}(x) differs from the table's layers holding your weights by up to "
        f"{(out - expected).abs().max().item():.3g} (atol 1e-5).{why} {CONV_LAYERS_HINT}"
    )


def check_counts(
    conv_params: Any, dense_params: Any, conv_ae: nn.Module, lecture_ae: nn.Module
) -> None:
    for name, value, model in (
        ("conv_params", conv_params, conv_ae),
        ("dense_params", dense_params, lecture_ae),
    ):
        check_implemented(value, name)
        assert value == _n_params(model), (
            f"`{name}` is {value!r}, but the model has {_n_params(model):,} parameters."
        )


def check_conv_claim(
    conv_params: Any, dense_params: Any, conv_error: Any, dense_error: Any, where: str
) -> None:
    conv, dense = _float(conv_error, "conv_test_error"), _float(dense_error, "test_error")
    assert conv_params < dense_params, (
        f"The convolutional autoencoder should have fewer parameters ({conv_params:,} "
        f"vs {dense_params:,})."
    )
    assert conv <= dense, tagged(
        "ae.conv_claim",
        f"On {where} the convolutional autoencoder's error {conv:.2f} is worse than the dense "
        f"one's {dense:.2f}. "
        + _where_to_look("the training cell (15 epochs, lr 3e-3)", "ConvAutoencoder"),
    )
