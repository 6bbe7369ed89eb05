"""Test logic of assignment 08 (the Transformer), shared by public and hidden tests.

Every layer and the whole model are compared with PyTorch's own module holding the student's
weights (``nn.LayerNorm``, ``nn.TransformerEncoderLayer``, ``nn.TransformerDecoderLayer``,
``nn.Transformer``), in float64 with dropout 0, while those modules are forbidden to the
student's code. PyTorch's "fast path" for Transformer layers in eval mode computes with other
kernels; the tests switch it off (``torch.backends.mha.set_fastpath_enabled(False)``) and run
the reference in training mode with dropout 0, so both sides compute the same float64
operations and agree to ~1e-14: the tolerance 1e-8 leaves room for any order of summation and
still sees every slip (they change values by more than 1e-3).

The translator's loss and greedy decoder are scored with small scripted models whose correct
answers are known (:class:`ProbeModel`, :class:`ScriptedModel`), never with a reference
implementation: the reference decoder and the translator's oracle live in the assignment's
``grader_only/`` folder, as do the held-out numbers (``grader_support.french_heldout``).
"""

# ruff: noqa: E501 - failure messages and hints are prose, kept one sentence a line

from __future__ import annotations

import contextlib
import math
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import torch
from torch import nn

from shared.checks import assert_close, check_implemented
from shared.forbid import forbid
from shared.testing import beside, call, is_instance, on_referee, run_beside, substitute, tagged
from shared.testing import trained as _trained

RTOL, ATOL = 1e-8, 1e-8
# The encoding is float32: an angle p * w computed in float32 is off by up to ~p * 6e-8, so
# positions up to ~1,000 agree with the float64 formula to 1e-4; a slip changes entries by ~1.
PE_ATOL = 1e-4

LIBRARY_TRANSFORMER = (
    "torch.nn.Transformer",
    "torch.nn.TransformerEncoder",
    "torch.nn.TransformerEncoderLayer",
    "torch.nn.TransformerDecoder",
    "torch.nn.TransformerDecoderLayer",
)
# Question 6 runs the student's Transformer with PyTorch's own layers standing in for theirs
# (subclasses of nn.TransformerEncoderLayer and nn.TransformerDecoderLayer, which a forbid block
# refuses however they are reached): there the stacks are forbidden, and the layers are checked
# to be the ones the names EncoderLayer and DecoderLayer build (:func:`_check_own_layers`).
LIBRARY_STACKS = (
    "torch.nn.Transformer",
    "torch.nn.TransformerEncoder",
    "torch.nn.TransformerDecoder",
)
LIBRARY_LAYER_NORM = (
    "torch.nn.LayerNorm",
    "torch.nn.functional.layer_norm",
    "torch.layer_norm",
    "torch.native_layer_norm",
)
FROM_PARTS = "Build it from nn.MultiheadAttention, nn.Linear and nn.LayerNorm."
FROM_SCRATCH_LN = "Compute the mean and variance yourself (torch.mean, torch.sqrt, ...)."

PARAM_COUNT = tagged(
    "tf.param_count",
    "Hint: attention 4d^2 + 4d (heads split d, they do not multiply it), feed-forward 2df + f + d, each LayerNorm 2d; an encoder layer has 1 attention, 1 feed-forward, 2 norms, a decoder layer 2 attentions, 1 feed-forward, 3 norms, and each stack ends with one more norm.",
)
LECTURE_COUNTS = tagged(
    "tf.lecture_counts",
    "Hint: count the parameters of lecture_model, lecture_model.encoder and lecture_model.decoder with count_parameters.",
)
LECTURE_SHAPE = tagged(
    "tf.lecture_shape",
    "Hint: nn.Transformer returns one d_model vector per target position, in the input's layout (batch_first=False: (seq, batch, features)).",
)
PE_FORMULA = "PE[p, 2i] = sin(p / 10000^(2i/d)) and PE[p, 2i+1] = cos(p / 10000^(2i/d))"
PE_SIN_COS = tagged(
    "tf.pe_sin_cos",
    f"Hint: sin goes to the even features (0, 2, 4, ...), cos to the odd ones: {PE_FORMULA}.",
)
PE_EXPONENT = tagged(
    "tf.pe_exponent",
    f"Hint: the exponent is 2i/d, where 2i is the even feature index itself (0, 2, 4, ...), not the pair number i: {PE_FORMULA}.",
)
PE_VALUES = tagged("tf.pe_values", f"Hint: {PE_FORMULA}, for positions p = 0, 1, ...")
LN_BIASED = tagged(
    "tf.ln_biased",
    "Hint: layer norm uses the biased variance, the mean of (x - mean)^2 (divide by d, not d - 1).",
)
LN_AXIS = tagged(
    "tf.ln_axis",
    "Hint: normalise each vector over its last dimension (the d features: dim=-1, keepdim=True), not over the batch or the positions.",
)
LN_EPS = tagged(
    "tf.ln_eps",
    "Hint: eps goes inside the square root: (x - mean) / sqrt(var + eps).",
)
LN_AFFINE = tagged("tf.ln_affine", "Hint: scale by weight, then add bias, after normalising.")
NAMES = tagged(
    "tf.names",
    "Hint: use exactly PyTorch's submodule names (self_attn, multihead_attn, linear1, linear2, norm1, norm2, norm3) and no other parameters, so weights copy to and from PyTorch's layers.",
)
BATCH_FIRST = tagged(
    "tf.batch_first",
    "Hint: with batch_first=True inputs are (batch, seq, d_model), otherwise (seq, batch, d_model): pass batch_first to nn.MultiheadAttention and keep the layout.",
)
NORM_PLACEMENT = tagged(
    "tf.norm_placement",
    "Hint: post-norm is x = norm(x + sublayer(x)), pre-norm (norm_first=True) is x = x + sublayer(norm(x)): the residual goes around the sublayer, never around the norm.",
)
CROSS_ATTENTION = tagged(
    "tf.cross_attention",
    "Hint: in cross-attention the queries come from the decoder and the keys and values from the memory: multihead_attn(x, memory, memory, ...), after the masked self-attention and before the feed-forward block.",
)
CAUSAL = tagged(
    "tf.causal_mask",
    "Hint: the causal mask is True strictly above the diagonal (key s > query t); the diagonal stays False, a position may attend to itself (torch.triu(..., diagonal=1)).",
)
MODULE_LIST = tagged(
    "tf.module_list",
    "Hint: use nn.ModuleList so PyTorch registers the layers' parameters: layers kept in a plain Python list are invisible to model.parameters(), state_dict() and .to()/.double(), so they are never trained or copied (self.encoder_layers = nn.ModuleList([EncoderLayer(...) for _ in range(num_encoder_layers)])).",
)
STACKS = tagged(
    "tf.stacks",
    "Hint: the encoder layers run one after the other, then encoder_norm gives the memory; every decoder layer reads that same memory, then decoder_norm; pass every mask to every layer.",
)
TRANSLATOR = tagged(
    "tf.translator",
    "Hint: embeddings times sqrt(d_model) on both sides plus pe[:length], padding masks src == 0 (encoder and memory) and tgt_in == 0, the causal mask when causal, then the generator; the Transformer is built with batch_first=True.",
)
LEAK = tagged(
    "tf.future_leak",
    "Hint: with causal=True the output at position t must not depend on target tokens after t: pass the causal mask as tgt_mask.",
)
PADDING_MASK = tagged(
    "tf.padding_mask",
    "Hint: pass src == 0 as src_key_padding_mask and memory_key_padding_mask, and tgt_in == 0 as tgt_key_padding_mask, so padding changes nothing.",
)
SHIFT = tagged(
    "tf.shift",
    "Hint: teacher forcing feeds tgt[:, :-1] (starting with <bos>) and scores the outputs against tgt[:, 1:]: output t predicts token t + 1, never the token it was given.",
)
IGNORE_PAD = tagged(
    "tf.ignore_pad",
    "Hint: padding must not count in the loss: F.cross_entropy(..., ignore_index=0) averages over the real tokens only.",
)
CAUSAL_ARG = tagged(
    "tf.causal_arg", "Hint: pass `causal` on to the model: model(src, tgt[:, :-1], causal)."
)
GREEDY_STOP = tagged(
    "tf.greedy_stop",
    "Hint: stop as soon as every row has produced <eos> (keep a `done` flag per row), or after max_len appended tokens.",
)
GREEDY_FEED = tagged(
    "tf.greedy_feed",
    "Hint: start every row with <bos> (1), then repeatedly append the argmax of model(src, ys)[:, -1] to ys and feed the longer ys back.",
)
PE_DTYPE = tagged(
    "tf.pe_dtype",
    "Hint: return a float32 tensor (.float()): the encoding is added to float32 embeddings, and a float64 table would turn the translator's activations to float64, which its float32 layers refuse.",
)
MASK_DTYPE = tagged(
    "tf.mask_dtype",
    "Hint: return a bool tensor (dtype=torch.bool), True where attention is not allowed, as the question asks; a float mask means something else to PyTorch (values added to the scores).",
)
DECODER_MASKS = tagged(
    "tf.decoder_masks",
    "Hint: pass each mask you are given on: tgt_mask and tgt_key_padding_mask to the self-attention, memory_mask and memory_key_padding_mask to the cross-attention; never build a mask of your own inside the layer.",
)
SHARED_LAYERS = tagged(
    "tf.shared_layers",
    "Hint: build a new layer for every position of the stack (nn.ModuleList([EncoderLayer(...) for _ in range(n)])): [layer] * n, or appending the same object n times, repeats ONE layer, whose single set of weights all positions share.",
)
OWN_TRANSFORMER = tagged(
    "tf.own_transformer",
    "Hint: build `transformer` with your own Transformer class (Transformer(d_model, nhead, num_layers, num_layers, dim_feedforward, dropout=0.0, batch_first=True)), not nn.Transformer.",
)
CAUSAL_FLAG = tagged(
    "tf.causal_flag",
    "Hint: use the causal mask only when causal is True; with causal=False pass no tgt_mask (None), so every position sees the whole target input.",
)
GRADIENTS = tagged(
    "tf.gradients",
    "Hint: the loss must reach every parameter: no .detach(), .data, .item() or torch.no_grad() inside forward.",
)
IN_PLACE = tagged(
    "tf.in_place",
    "Hint: do not change the caller's tensors in place (x[...] = ..., masked_fill_, +=): work on a copy (tgt.clone()) or build new tensors (torch.where, masked_fill without the underscore).",
)
TOKEN_MEAN = tagged(
    "tf.token_mean",
    "Hint: average over all the real target tokens of the batch together (F.cross_entropy on the flattened logits with ignore_index=0), not over each sentence first and then over the sentences: sentences of different lengths weigh by their tokens.",
)
DROPOUT = tagged(
    "tf.dropout",
    "Hint: pass dropout to nn.MultiheadAttention and apply it after each sublayer and inside the feed-forward block with nn.Dropout(dropout) (or F.dropout(..., training=self.training)): on in training mode, off in eval mode.",
)
GREEDY_EVAL = tagged(
    "tf.greedy_eval",
    "Hint: decode in eval mode and without gradients: call model.eval() and run the loop under torch.no_grad().",
)
FRACTION = tagged(
    "tf.fraction",
    "Hint: a fraction of the numbers as a Python float in [0, 1] (hits / n, or .item() of a tensor), not a tensor.",
)
TRAINED_MODEL = tagged(
    "tf.trained_model",
    "Hint: measure the models the given training cells return, as they left training (translator = train_translator(), nomask_translator = train_translator(causal=False, steps=NOMASK_STEPS)): do not rebuild, retrain or replace them before measuring.",
)


def fraction_hint() -> str:
    return FRACTION


# --------------------------------------------------------------------------- helpers


@contextlib.contextmanager
def no_fastpath() -> Iterator[None]:
    """PyTorch's eval-mode fast path for attention and Transformer layers off, restored after."""
    before = torch.backends.mha.get_fastpath_enabled()
    torch.backends.mha.set_fastpath_enabled(False)
    try:
        yield
    finally:
        torch.backends.mha.set_fastpath_enabled(before)


def _call(fn: Callable, *args: Any, desc: str, hint: str, **kwargs: Any) -> Any:
    """:func:`call`, also for PyTorch's own shape checks, which raise AssertionError (call passes
    those through untouched, as they usually are a test's own verdict)."""
    try:
        return call(fn, *args, desc=desc, hint=hint, **kwargs)
    except AssertionError as err:
        text = str(err)
        if "[hint: " in text:
            raise
        first = (text.strip().splitlines() or [""])[0].rstrip(".")
        raise AssertionError(f"{desc} raised AssertionError: {first}. {hint}".rstrip()) from None


def plain(fn: Callable, *args: Any, desc: str, hint: str = "", **kwargs: Any) -> Any:
    """:func:`call` with the fast path off (the translator may use PyTorch's modules)."""
    with no_fastpath():
        return _call(fn, *args, desc=desc, hint=hint, **kwargs)


def from_parts(
    fn: Callable,
    *args: Any,
    desc: str,
    hint: str = "",
    forbidden: tuple[str, ...] = LIBRARY_TRANSFORMER,
    **kwargs: Any,
) -> Any:
    """:func:`call` with PyTorch's Transformer modules (``forbidden``) forbidden and the fast path off."""
    with no_fastpath(), forbid(*forbidden, reason=FROM_PARTS):
        return _call(fn, *args, desc=desc, hint=hint, **kwargs)


def as_float64(value: Any, name: str, hint: str = "") -> torch.Tensor:
    check_implemented(value, name)
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().double()
    try:
        return torch.as_tensor(np.asarray(value, dtype=np.float64))
    except (TypeError, ValueError):
        raise AssertionError(
            f"`{name}` should be a tensor of numbers, got {type(value).__name__}. {hint}".rstrip()
        ) from None


def _close(a: torch.Tensor, b: torch.Tensor, atol: float = ATOL) -> bool:
    return a.shape == b.shape and bool(torch.allclose(a, b, rtol=RTOL, atol=atol))


def _randomise(module: nn.Module, seed: int) -> None:
    """Every parameter drawn afresh (LayerNorm scales and shifts too), in float64."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.randn(p.shape, generator=gen, dtype=torch.float64) * 0.4)


def _state(module: nn.Module) -> dict:
    """``module.state_dict()`` as a plain dict of detached copies (run beside the module)."""
    return {key: value.detach().clone() for key, value in module.state_dict().items()}


def _type_name(obj: Any) -> str:
    return type(obj).__name__


def _kind(obj: Any) -> str:
    """The name of ``obj``'s type, asked where ``obj`` lives (for messages only)."""
    return run_beside(obj, _type_name, obj)


def _padding(batch: int, length: int, gen: torch.Generator) -> torch.Tensor:
    """A bool (batch, length) key padding mask, True at the end of each row; row 0 has none."""
    lengths = torch.randint(1, length + 1, (batch,), generator=gen)
    lengths[0] = length
    return torch.arange(length)[None, :] >= lengths[:, None]


def _future_mask(size: int) -> torch.Tensor:
    return nn.Transformer.generate_square_subsequent_mask(size, dtype=torch.float64).isinf()


def _free_mask(queries: int, keys: int, gen: torch.Generator) -> torch.Tensor:
    """A random bool (queries, keys) attention mask, True = not allowed, that is not causal (so a
    layer that builds its own causal mask, or drops the one it is given, shows): every query
    keeps key 0 (never a row without keys, also with padding, which leaves key 0 real)."""
    mask = torch.rand(queries, keys, generator=gen) < 0.4
    mask[:, 0] = False
    return mask


def _build(
    make: Callable,
    args: tuple,
    kwargs: dict,
    desc: str,
    seed: int,
    forbidden: tuple[str, ...] = LIBRARY_TRANSFORMER,
) -> nn.Module:
    run_beside(make, torch.manual_seed, seed)
    module = from_parts(make, *args, desc=desc, hint=NAMES, forbidden=forbidden, **kwargs)
    assert is_instance(module, nn.Module), f"{desc} should build an nn.Module, got {_kind(module)}."
    module = module.double()
    run_beside(module, _randomise, module, seed + 1)
    return module


def _load(reference: nn.Module, state: dict, desc: str) -> None:
    assert state, (
        f"{desc} holds no parameters at all: this is not answered yet, or its layers are kept "
        "where PyTorch does not register them (a plain list or dict). Build its sublayers in "
        "__init__ as attributes named as in PyTorch's layer (self_attn, linear1, norm1, ...)."
    )
    missing, unexpected = [], []
    try:
        result = reference.load_state_dict(state, strict=False)
        missing, unexpected = list(result.missing_keys), list(result.unexpected_keys)
    except RuntimeError as err:  # shapes differ
        raise AssertionError(
            f"The weights of {desc} do not fit PyTorch's layer: {str(err).splitlines()[-1].strip()}. {NAMES}"
        ) from None
    assert not missing and not unexpected, (
        f"The weights of {desc} do not match PyTorch's names: missing {missing[:4]}, unexpected {unexpected[:4]}. {NAMES}"
    )


# --------------------------------------------------------------------------- q1


def _torch_transformer(*args: Any, **kwargs: Any) -> nn.Module:
    """nn.Transformer, without its warning that nested tensors need batch_first (not used here)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="enable_nested_tensor is True")
        return nn.Transformer(*args, **kwargs)


def _meta_transformer(**kwargs: Any) -> nn.Module:
    with torch.device("meta"):
        return _torch_transformer(**kwargs)


def check_param_count(transformer_param_count: Callable, **kwargs: Any) -> None:
    args = ", ".join(f"{k}={v}" for k, v in kwargs.items())
    desc = f"transformer_param_count({args})"
    got = call(transformer_param_count, desc=desc, hint=PARAM_COUNT, **kwargs)
    expected = sum(p.numel() for p in _meta_transformer(**kwargs).parameters())
    assert isinstance(got, (int, np.integer)) and not isinstance(got, bool), (
        f"{desc} should return an int, got {got!r:.60}. {PARAM_COUNT}"
    )
    assert int(got) == expected, (
        f"{desc} returned {int(got):,}; nn.Transformer with these arguments has {expected:,} parameters. {PARAM_COUNT}"
    )


def check_lecture_counts(lecture_counts: Any) -> None:
    check_implemented(lecture_counts, "lecture_counts")
    assert isinstance(lecture_counts, dict) and set(lecture_counts) == {
        "total",
        "encoder",
        "decoder",
    }, (
        f"lecture_counts should be a dict with the keys 'total', 'encoder', 'decoder', got {lecture_counts!r:.80}. {LECTURE_COUNTS}"
    )
    model = _meta_transformer(d_model=64, nhead=8, num_encoder_layers=2)
    expected = {
        "total": sum(p.numel() for p in model.parameters()),
        "encoder": sum(p.numel() for p in model.encoder.parameters()),
        "decoder": sum(p.numel() for p in model.decoder.parameters()),
    }
    for key, want in expected.items():
        assert lecture_counts[key] == want, (
            f"lecture_counts[{key!r}] is {lecture_counts[key]!r}, but the lecture's model has {want:,}. {LECTURE_COUNTS}"
        )


def check_lecture_shape(lecture_out_shape: Any) -> None:
    check_implemented(lecture_out_shape, "lecture_out_shape")
    try:
        got = tuple(int(s) for s in lecture_out_shape)
    except (TypeError, ValueError):
        raise AssertionError(
            f"lecture_out_shape should be a tuple of ints, got {lecture_out_shape!r:.60}. {LECTURE_SHAPE}"
        ) from None
    assert got == (10, 32, 64), (
        f"lecture_out_shape is {got}, which is not the shape of lecture_model(src, src) for src of shape (10, 32, 64). {LECTURE_SHAPE}"
    )


# --------------------------------------------------------------------------- q2


def _pe_entries(
    n: int, d: int, *, swapped: bool = False, pair_exponent: bool = False
) -> torch.Tensor:
    """The formula entry by entry (slow, plain math), or one of two known slips of it."""
    table = np.zeros((n, d))
    for p in range(n):
        for j in range(d):
            even = j - j % 2
            exponent = (even // 2 if pair_exponent else even) / d
            angle = p / 10000.0**exponent
            use_sin = (j % 2 == 0) != swapped
            table[p, j] = math.sin(angle) if use_sin else math.cos(angle)
    return torch.from_numpy(table)


def check_positional_encoding(
    positional_encoding: Callable, n_positions: int, d_model: int
) -> None:
    desc = f"positional_encoding({n_positions}, {d_model})"
    raw = call(positional_encoding, n_positions, d_model, desc=desc, hint=PE_VALUES)
    got = as_float64(raw, desc)
    assert tuple(got.shape) == (n_positions, d_model), (
        f"{desc} should have shape {(n_positions, d_model)}, got {tuple(got.shape)}. {PE_VALUES}"
    )
    expected = _pe_entries(n_positions, d_model)
    if not _close(got, expected, atol=PE_ATOL):
        if _close(got, _pe_entries(n_positions, d_model, swapped=True), atol=PE_ATOL):
            hint = PE_SIN_COS
        elif _close(got, _pe_entries(n_positions, d_model, pair_exponent=True), atol=PE_ATOL):
            hint = PE_EXPONENT
        else:
            hint = PE_VALUES
        assert_close(got, expected, name=desc, rtol=0, atol=PE_ATOL, hint=hint)
    assert isinstance(raw, torch.Tensor) and raw.dtype == torch.float32, (
        f"{desc} returned the right values as {getattr(raw, 'dtype', type(raw).__name__)}; the question asks for a float32 tensor. {PE_DTYPE}"
    )
    assert float(got.abs().max()) <= 1 + 1e-6, f"{desc} has entries outside [-1, 1]. {PE_VALUES}"
    if n_positions > 1:
        distances = torch.cdist(got, got) + torch.eye(n_positions) * 10
        assert float(distances.min()) > 1e-4, (
            f"{desc} gives two positions the same vector. {PE_VALUES}"
        )
    if n_positions > d_model + 1:  # enough rows for the linear map to be determined
        before, after = got[:-1], got[1:]
        solution = torch.linalg.lstsq(before, after).solution
        residual = float((before @ solution - after).abs().max())
        assert residual < 1e-5, (
            f"In {desc}, PE[p + 1] is not a fixed linear function of PE[p] (least-squares residual {residual:.2g}). {PE_VALUES}"
        )


# --------------------------------------------------------------------------- q3


def check_layer_norm(layer_norm: Callable, shape: tuple, *, seed: int, eps: float = 1e-5) -> None:
    gen = torch.Generator().manual_seed(seed)
    d = shape[-1]
    scales = torch.exp(torch.randn(*shape[:-1], 1, generator=gen, dtype=torch.float64) * 2)
    x = (torch.randn(*shape, generator=gen, dtype=torch.float64) + 0.5) * scales
    x.view(-1, d)[0] *= math.sqrt(eps) / max(
        float(x.view(-1, d)[0].std()), 1e-12
    )  # a row whose variance is near eps
    weight = torch.randn(d, generator=gen, dtype=torch.float64)
    bias = torch.randn(d, generator=gen, dtype=torch.float64)
    reference = nn.LayerNorm(d, eps=eps).double()
    with torch.no_grad():
        reference.weight.copy_(weight)
        reference.bias.copy_(bias)
        expected = reference(x)
    desc = f"layer_norm(x of shape {tuple(shape)}, weight, bias, eps={eps:g})"
    with forbid(*LIBRARY_LAYER_NORM, reason=FROM_SCRATCH_LN):
        got = _call_watching(
            layer_norm, (x, weight, bias), ("x", "weight", "bias"), desc=desc, hint=LN_AXIS, eps=eps
        )
    got = as_float64(got, desc)
    if _close(got, expected):
        return
    centred = x - x.mean(-1, keepdim=True)
    slips = {
        LN_BIASED: centred / torch.sqrt(x.var(-1, unbiased=True, keepdim=True) + eps) * weight
        + bias,
        LN_EPS: centred / (x.std(-1, unbiased=False, keepdim=True) + eps) * weight + bias,
    }
    if len(shape) > 1:
        other = x - x.mean(0, keepdim=True)
        slips[LN_AXIS] = (
            other / torch.sqrt(other.pow(2).mean(0, keepdim=True) + eps) * weight + bias
        )
    hint = next((h for h, slip in slips.items() if _close(got, slip)), None)
    if hint is None:
        hint = (
            LN_AXIS
            if tuple(got.shape) != tuple(expected.shape)
            else f"{LN_BIASED} {LN_EPS} {LN_AFFINE}"
        )
    assert_close(got, expected, name=desc, rtol=RTOL, atol=ATOL, hint=hint)


# --------------------------------------------------------------------------- q4 and q5


def dropout_outputs(
    layer: nn.Module, args: tuple, kwargs: dict
) -> tuple[torch.Tensor, torch.Tensor]:
    """Run beside the student's layer: its output in eval mode, then in training mode (seeded),
    left in eval mode (raw outputs: the caller judges them)."""
    with torch.no_grad(), no_fastpath():
        layer.eval()
        quiet = layer(*args, **kwargs)
        layer.train()
        torch.manual_seed(0)
        noisy = layer(*args, **kwargs)
        layer.eval()
    return quiet.detach(), noisy.detach()


def _check_dropout(
    make: Callable,
    args: tuple,
    kwargs: dict,
    desc: str,
    seed: int,
    inputs: tuple,
    masks: dict,
    expected: torch.Tensor,
) -> None:
    """Built with dropout=0.5 (and the same random weights), the layer computes the dropout-free
    output in eval mode and another one in training mode: its dropout follows the mode."""
    desc = desc.replace(", norm_first=", ", dropout=0.5, norm_first=", 1)
    layer = _build(make, args, {**kwargs, "dropout": 0.5}, desc, seed)
    with no_fastpath(), forbid(*LIBRARY_TRANSFORMER, reason=FROM_PARTS):
        quiet, noisy = run_beside(
            layer, dropout_outputs, layer, tuple(a.clone() for a in inputs), masks
        )
    quiet, noisy = as_float64(quiet, desc), as_float64(noisy, desc)
    assert_close(
        quiet,
        expected,
        name=f"{desc} in eval mode (dropout must be off)",
        rtol=RTOL,
        atol=ATOL,
        hint=DROPOUT,
    )
    assert not _close(noisy, quiet), (
        f"{desc} in training mode gave the same output as in eval mode: its dropout is never applied. {DROPOUT}"
    )


def _layout(t: torch.Tensor, batch_first: bool) -> torch.Tensor:
    """(batch, seq, d) to the layer's layout."""
    return t if batch_first else t.transpose(0, 1).contiguous()


def check_encoder_layer(
    EncoderLayer: Callable,
    *,
    d_model: int,
    nhead: int,
    dim_feedforward: int,
    batch: int,
    seq: int,
    seed: int,
    norm_first: bool = False,
    batch_first: bool = False,
    padding: bool = False,
    attn_mask: bool = False,
    dropout_modes: bool = False,
) -> None:
    """``dropout_modes``: also built with dropout=0.5, its dropout is off in eval mode and on in training mode."""
    kwargs = {"dropout": 0.0, "norm_first": norm_first, "batch_first": batch_first}
    desc = f"EncoderLayer({d_model}, {nhead}, {dim_feedforward}, norm_first={norm_first}, batch_first={batch_first})"
    layer = _build(EncoderLayer, (d_model, nhead, dim_feedforward), kwargs, desc, seed)
    reference = nn.TransformerEncoderLayer(
        d_model,
        nhead,
        dim_feedforward,
        dropout=0.0,
        **{k: kwargs[k] for k in ("norm_first", "batch_first")},
    ).double()
    state = run_beside(layer, _state, layer)
    _load(reference, state, desc)
    gen = torch.Generator().manual_seed(seed + 2)
    x = _layout(torch.randn(batch, seq, d_model, generator=gen, dtype=torch.float64), batch_first)
    masks = {}
    if padding:
        masks["src_key_padding_mask"] = _padding(batch, seq, gen)
    if attn_mask:
        masks["src_mask"] = _future_mask(seq)
    layer.eval()
    with torch.no_grad():
        got = from_parts(
            layer,
            x.clone(),
            desc=f"{desc} on x of shape {tuple(x.shape)}",
            hint=BATCH_FIRST,
            **masks,
        )
        reference.train()
        with no_fastpath():
            expected = reference(x, **masks)
    got = as_float64(got, desc)
    if _close(got, expected):
        if dropout_modes:
            _check_dropout(
                EncoderLayer,
                (d_model, nhead, dim_feedforward),
                kwargs,
                desc,
                seed,
                (x,),
                masks,
                expected,
            )
        return
    hint = NORM_PLACEMENT
    if not masks:
        flipped = nn.TransformerEncoderLayer(
            d_model,
            nhead,
            dim_feedforward,
            dropout=0.0,
            norm_first=norm_first,
            batch_first=not batch_first,
        ).double()
        flipped.load_state_dict(state)
        with torch.no_grad(), no_fastpath():
            if _close(got, flipped.train()(x)):
                hint = BATCH_FIRST
    masked = f" with masks {sorted(masks)}" if masks else ""
    assert_close(got, expected, name=f"{desc}(x){masked}", rtol=RTOL, atol=ATOL, hint=hint)


def check_causal_mask(causal_mask: Callable, size: int) -> None:
    desc = f"causal_mask({size})"
    got = call(causal_mask, size, desc=desc, hint=CAUSAL)
    assert isinstance(got, torch.Tensor), (
        f"{desc} should return a tensor, got {type(got).__name__}. {CAUSAL}"
    )
    assert tuple(got.shape) == (size, size), (
        f"{desc} should have shape {(size, size)}, got {tuple(got.shape)}. {CAUSAL}"
    )
    expected = _future_mask(size)
    blocked = got if got.dtype == torch.bool else torch.isinf(got) & (got < 0)
    assert got.dtype == torch.bool or bool(((got == 0) | blocked).all()), (
        f"{desc} should be a bool mask (True = not allowed), got {got.dtype} values {sorted(set(got.flatten().tolist()))[:4]}. {MASK_DTYPE}"
    )
    assert torch.equal(blocked.cpu(), expected), (
        f"{desc} is\n{blocked.int()}\nbut should be True exactly where the key comes after the query:\n{expected.int()}\n{CAUSAL}"
    )
    # A float mask with -inf above the diagonal blocks the same keys, but it is not what the
    # question asks for (a bool tensor), and PyTorch treats float and bool masks differently.
    assert got.dtype == torch.bool, (
        f"{desc} blocks the right positions but is a {got.dtype} tensor; the question asks for a bool (size, size) tensor. {MASK_DTYPE}"
    )


def _decoder_case(
    DecoderLayer,
    d_model,
    nhead,
    dim_feedforward,
    batch,
    tgt_len,
    src_len,
    seed,
    norm_first,
    batch_first,
):
    kwargs = {"dropout": 0.0, "norm_first": norm_first, "batch_first": batch_first}
    desc = f"DecoderLayer({d_model}, {nhead}, {dim_feedforward}, norm_first={norm_first}, batch_first={batch_first})"
    layer = _build(DecoderLayer, (d_model, nhead, dim_feedforward), kwargs, desc, seed)
    gen = torch.Generator().manual_seed(seed + 2)
    tgt = _layout(
        torch.randn(batch, tgt_len, d_model, generator=gen, dtype=torch.float64), batch_first
    )
    memory = _layout(
        torch.randn(batch, src_len, d_model, generator=gen, dtype=torch.float64), batch_first
    )
    return layer, desc, tgt, memory, gen


def check_decoder_layer(
    DecoderLayer: Callable,
    *,
    d_model: int,
    nhead: int,
    dim_feedforward: int,
    batch: int,
    tgt_len: int,
    src_len: int,
    seed: int,
    norm_first: bool = False,
    batch_first: bool = False,
    padding: bool = False,
    free_masks: bool = False,
    dropout_modes: bool = False,
) -> None:
    """``free_masks``: a random (non-causal) tgt_mask and a memory_mask instead of the causal mask.
    ``dropout_modes``: also built with dropout=0.5, its dropout is off in eval mode and on in training mode."""
    layer, desc, tgt, memory, gen = _decoder_case(
        DecoderLayer,
        d_model,
        nhead,
        dim_feedforward,
        batch,
        tgt_len,
        src_len,
        seed,
        norm_first,
        batch_first,
    )
    reference = nn.TransformerDecoderLayer(
        d_model, nhead, dim_feedforward, dropout=0.0, norm_first=norm_first, batch_first=batch_first
    ).double()
    _load(reference, run_beside(layer, _state, layer), desc)
    masks = {"tgt_mask": _future_mask(tgt_len)}
    if padding:
        masks["tgt_key_padding_mask"] = _padding(batch, tgt_len, gen)
        masks["memory_key_padding_mask"] = _padding(batch, src_len, gen)
    if free_masks:
        masks["tgt_mask"] = _free_mask(tgt_len, tgt_len, gen)
        masks["memory_mask"] = _free_mask(tgt_len, src_len, gen)
    layer.eval()
    call_desc = f"{desc} on tgt {tuple(tgt.shape)} and memory {tuple(memory.shape)}"
    with torch.no_grad():
        got = from_parts(
            layer,
            tgt.clone(),
            memory.clone(),
            desc=call_desc,
            hint=f"{CROSS_ATTENTION} {BATCH_FIRST}",
            **masks,
        )
        with no_fastpath():
            expected = reference.train()(tgt, memory, **masks)
    got = as_float64(got, desc)
    if tuple(got.shape) != tuple(expected.shape):
        assert_close(got, expected, name=call_desc, hint=f"{CROSS_ATTENTION} {BATCH_FIRST}")
    hint = f"{CROSS_ATTENTION} {NORM_PLACEMENT}"
    if free_masks and not _close(got, expected):
        # Which mask the layer lost: the reference without it (or with its own causal mask).
        slips = {
            "ignores memory_mask": {**masks, "memory_mask": None},
            "ignores tgt_mask": {**masks, "tgt_mask": None},
            "uses a causal mask of its own instead of tgt_mask": {
                **masks,
                "tgt_mask": _future_mask(tgt_len),
            },
        }
        with torch.no_grad(), no_fastpath():
            for what, other in slips.items():
                if _close(got, reference(tgt, memory, **other)):
                    hint = f"Your layer {what}. {DECODER_MASKS}"
                    break
            else:
                hint = f"{hint} {DECODER_MASKS}"
    assert_close(
        got,
        expected,
        name=f"{call_desc} with masks {sorted(masks)}",
        rtol=RTOL,
        atol=ATOL,
        hint=hint,
    )
    if dropout_modes:
        kwargs = {"norm_first": norm_first, "batch_first": batch_first}
        _check_dropout(
            DecoderLayer,
            (d_model, nhead, dim_feedforward),
            kwargs,
            desc,
            seed,
            (tgt, memory),
            masks,
            expected,
        )


def causal_gradients(
    layer: Callable,
    tgt: torch.Tensor,
    memory: torch.Tensor,
    mask: Any,
    *,
    batch_first: bool,
    desc: str,
) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """Run beside the student's layer: its output for ``tgt`` with ``tgt_mask=mask`` and, for
    every position t but the last, the gradient of ``out[:, t].sum()`` with respect to ``tgt``
    (raw values: the caller judges them)."""
    tgt = tgt.clone().requires_grad_(True)
    out = from_parts(layer, tgt, memory, tgt_mask=mask, desc=desc, hint=CAUSAL)
    by_position = out if batch_first else out.transpose(0, 1)  # (batch, T, d)
    grads = []
    for t in range(tgt.shape[1 if batch_first else 0] - 1):
        (grad,) = torch.autograd.grad(by_position[:, t].sum(), tgt, retain_graph=True)
        grads.append(grad.detach())
    return out.detach(), grads


def check_decoder_causality(
    DecoderLayer: Callable,
    causal_mask: Callable,
    *,
    d_model: int,
    nhead: int,
    tgt_len: int,
    src_len: int,
    seed: int,
    batch_first: bool = False,
) -> None:
    """With the student's mask, d out[t] / d tgt[s] is exactly zero for every s > t."""
    layer, desc, tgt, memory, _ = _decoder_case(
        DecoderLayer, d_model, nhead, 2 * d_model, 2, tgt_len, src_len, seed, False, batch_first
    )
    mask = call(causal_mask, tgt_len, desc=f"causal_mask({tgt_len})", hint=CAUSAL)
    # The backward pass runs beside the student's layer (on the referee, in their kernel); what
    # comes back is the raw output and gradients, judged here.
    out, grads = run_beside(
        layer,
        causal_gradients,
        layer,
        tgt,
        memory,
        mask,
        batch_first=batch_first,
        desc=f"{desc} with tgt_mask=causal_mask({tgt_len})",
    )
    out = out if batch_first else out.transpose(0, 1)  # (batch, T, d)
    assert bool(torch.isfinite(out).all()), (
        f"{desc} with your causal mask returned NaN or inf: a row of the mask hides every key. {CAUSAL}"
    )
    for t, grad in enumerate(grads):
        grad = grad if batch_first else grad.transpose(0, 1)
        leak = float(grad[:, t + 1 :].abs().max())
        assert leak == 0.0, (
            f"With causal_mask({tgt_len}) the output at position {t} depends on later target positions (gradient {leak:.2g}). {CAUSAL}"
        )


# --------------------------------------------------------------------------- q6


# What else a student's richer layer or Transformer may be called with (device=, dtype=, ...)
# is passed on where PyTorch's class takes it and ignored otherwise, never a crash in a stand-in.
_TRANSFORMER_EXTRAS = ("activation", "layer_norm_eps", "bias", "device", "dtype")


class ReferenceEncoderLayer(nn.TransformerEncoderLayer):
    """PyTorch's encoder layer with the assignment's constructor signature (dropout 0 by default)."""

    def __init__(
        self,
        d_model,
        nhead,
        dim_feedforward,
        dropout=0.0,
        norm_first=False,
        batch_first=False,
        **extra,
    ):
        taken = {k: v for k, v in extra.items() if k in _TRANSFORMER_EXTRAS}
        super().__init__(
            d_model,
            nhead,
            dim_feedforward,
            dropout,
            batch_first=batch_first,
            norm_first=norm_first,
            **taken,
        )


class ReferenceDecoderLayer(nn.TransformerDecoderLayer):
    """PyTorch's decoder layer with the assignment's constructor signature (dropout 0 by default)."""

    def __init__(
        self,
        d_model,
        nhead,
        dim_feedforward,
        dropout=0.0,
        norm_first=False,
        batch_first=False,
        **extra,
    ):
        taken = {k: v for k, v in extra.items() if k in _TRANSFORMER_EXTRAS}
        super().__init__(
            d_model,
            nhead,
            dim_feedforward,
            dropout,
            batch_first=batch_first,
            norm_first=norm_first,
            **taken,
        )


class ReferenceTransformer(nn.Transformer):
    """nn.Transformer with the assignment's signature and its encode/decode methods."""

    def __init__(
        self,
        d_model,
        nhead,
        num_encoder_layers,
        num_decoder_layers,
        dim_feedforward,
        dropout=0.0,
        norm_first=False,
        batch_first=False,
        **extra,
    ):
        taken = {k: v for k, v in extra.items() if k in _TRANSFORMER_EXTRAS}
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="enable_nested_tensor is True")
            super().__init__(d_model, nhead, num_encoder_layers, num_decoder_layers, dim_feedforward, dropout,
                             batch_first=batch_first, norm_first=norm_first, **taken)  # fmt: skip
        # Padded positions stay computed (no nested tensors), as in the student's model.
        self.encoder.enable_nested_tensor = self.encoder.use_nested_tensor = False

    def encode(self, src, src_mask=None, src_key_padding_mask=None):
        return self.encoder(src, mask=src_mask, src_key_padding_mask=src_key_padding_mask)

    def decode(
        self,
        tgt,
        memory,
        tgt_mask=None,
        memory_mask=None,
        tgt_key_padding_mask=None,
        memory_key_padding_mask=None,
    ):
        return self.decoder(tgt, memory, tgt_mask=tgt_mask, memory_mask=memory_mask, tgt_key_padding_mask=tgt_key_padding_mask,
                            memory_key_padding_mask=memory_key_padding_mask)  # fmt: skip


def torch_names(state: dict) -> dict:
    """The assignment's Transformer keys to nn.Transformer's (encoder_layers.0. -> encoder.layers.0.)."""
    renames = (
        ("encoder_layers.", "encoder.layers."),
        ("decoder_layers.", "decoder.layers."),
        ("encoder_norm.", "encoder.norm."),
        ("decoder_norm.", "decoder.norm."),
    )
    out = {}
    for key, value in state.items():
        for old, new in renames:
            if key.startswith(old):
                key = new + key[len(old) :]
                break
        out[key] = value
    return out


def _globals_of(cls: Any) -> dict:
    init = getattr(cls, "__init__", None)
    return getattr(init, "__globals__", {}) if init is not None else {}


def _namespace(cls: Any, env: Any) -> Any:
    """Where the notebook's names live, for :func:`substitute`: the globals of ``cls``'s module
    in a notebook; on the grading referee (``cls`` a proxy, which has no ``__globals__``) the
    notebook's namespace ``env`` the test received."""
    if on_referee(cls):
        if env is None:
            raise TypeError("graded by the referee, this check needs the test's `env`")
        return env
    return _globals_of(cls)


def layer_stacks(model: nn.Module) -> dict[str, tuple[str, bool, int, int, int] | None]:
    """Run beside the model: for each stack attribute, its type name, whether it is an
    nn.Module, how many parameters its layers hold that model.parameters() does not reach, how
    many layers it holds and how many distinct layer objects (None where the attribute is
    missing)."""
    registered = {id(p) for p in model.parameters()}
    stacks: dict[str, tuple[str, bool, int, int, int] | None] = {}
    for name in ("encoder_layers", "decoder_layers"):
        stack = getattr(model, name, None)
        if stack is None:
            stacks[name] = None
            continue
        layers = list(stack) if isinstance(stack, (list, tuple, nn.ModuleList)) else []
        unseen = sum(
            p.numel()
            for layer in layers
            if isinstance(layer, nn.Module)
            for p in layer.parameters()
            if id(p) not in registered
        )
        distinct = len({id(layer) for layer in layers})
        stacks[name] = (
            type(stack).__name__,
            isinstance(stack, nn.Module),
            int(unseen),
            len(layers),
            distinct,
        )
    return stacks


def _count(module: nn.Module) -> int:
    """Scalars of ``module``'s parameters (run beside it); a tensor shared by several layers counts
    once. (Not 01's count_parameters, which filters on requires_grad: the kit ships in 01's zip.)"""
    return int(sum(p.numel() for p in module.parameters()))


def _check_registered_layers(model: nn.Module, desc: str) -> None:
    """The signature of layers kept in a plain list (the stack attribute is a list or tuple, or
    holds modules that model.parameters() does not reach), and of one layer repeated (a stack
    of n entries holding fewer than n distinct layers: [layer] * n)."""
    for name, found in run_beside(model, layer_stacks, model).items():
        if found is None:
            continue
        kind, registered, unseen, n_layers, distinct = found
        if not registered:
            raise AssertionError(
                f"{desc}: `{name}` is a {kind}, not an nn.ModuleList, so model.parameters() misses its layers"
                + (f" ({unseen:,} parameters the optimiser would never see)" if unseen else "")
                + f". {MODULE_LIST}"
            )
        assert distinct == n_layers, (
            f"{desc}: `{name}` holds {n_layers} layers but only {distinct} distinct layer object(s), so its layers share one set of weights. {SHARED_LAYERS}"
        )


def _check_own_layers(model: Any, desc: str) -> None:
    """Every layer of the stacks was built by the names EncoderLayer and DecoderLayer (which the
    test binds to PyTorch's layers): a layer of another class (nn.TransformerEncoderLayer called
    directly, say) is not the student's own layer."""
    for name, kind in (
        ("encoder_layers", ReferenceEncoderLayer),
        ("decoder_layers", ReferenceDecoderLayer),
    ):
        for i, layer in enumerate(getattr(model, name, None) or []):
            assert is_instance(layer, kind), (
                f"{desc}: `{name}[{i}]` is a {_kind(layer)}, not built by your {kind.__name__.replace('Reference', '')} class. "
                f"Build the stacks from your EncoderLayer and DecoderLayer; nn.Transformer and its encoder and decoder classes are forbidden here. {STACKS}"
            )


def check_transformer(
    Transformer: Callable,
    *,
    d_model: int,
    nhead: int,
    num_encoder_layers: int,
    num_decoder_layers: int,
    dim_feedforward: int,
    batch: int,
    src_len: int,
    tgt_len: int,
    seed: int,
    norm_first: bool = False,
    batch_first: bool = False,
    padding: bool = False,
    free_masks: bool = False,
    env: Any = None,
) -> None:
    """The student's Transformer (with PyTorch's layers in place of theirs) against nn.Transformer.

    ``free_masks``: random (non-causal) src_mask, tgt_mask and memory_mask, so each must reach
    its layers. ``env``: the notebook's namespace (the test's ``env``), needed when graded by
    the referee."""
    kwargs = {"dropout": 0.0, "norm_first": norm_first, "batch_first": batch_first}
    args = (d_model, nhead, num_encoder_layers, num_decoder_layers, dim_feedforward)
    desc = f"Transformer{args[:2] + args[2:]} (norm_first={norm_first}, batch_first={batch_first})"
    with substitute(
        _namespace(Transformer, env),
        EncoderLayer=ReferenceEncoderLayer,
        DecoderLayer=ReferenceDecoderLayer,
    ):
        model = _build(Transformer, args, kwargs, desc, seed, forbidden=LIBRARY_STACKS)
    _check_registered_layers(model, desc)
    _check_own_layers(model, desc)
    reference = _torch_transformer(
        *args, dropout=0.0, norm_first=norm_first, batch_first=batch_first
    ).double()
    _load(
        reference,
        torch_names(run_beside(model, _state, model)),
        f"{desc} (named encoder_layers, decoder_layers, encoder_norm, decoder_norm)",
    )
    own, expected_count = int(run_beside(model, _count, model)), _count(reference)
    assert own == expected_count, (
        f"{desc} has {own:,} trainable parameters; nn.Transformer with these arguments has {expected_count:,}. {SHARED_LAYERS} {MODULE_LIST}"
    )
    gen = torch.Generator().manual_seed(seed + 2)
    src = _layout(
        torch.randn(batch, src_len, d_model, generator=gen, dtype=torch.float64), batch_first
    )
    tgt = _layout(
        torch.randn(batch, tgt_len, d_model, generator=gen, dtype=torch.float64), batch_first
    )
    masks = {"tgt_mask": _future_mask(tgt_len)}
    if padding:
        masks["src_key_padding_mask"] = _padding(batch, src_len, gen)
        masks["tgt_key_padding_mask"] = _padding(batch, tgt_len, gen)
        masks["memory_key_padding_mask"] = masks["src_key_padding_mask"]
    if free_masks:
        masks["src_mask"] = _free_mask(src_len, src_len, gen)
        masks["tgt_mask"] = _free_mask(tgt_len, tgt_len, gen)
        masks["memory_mask"] = _free_mask(tgt_len, src_len, gen)
    model.eval()
    call_desc = f"{desc} on src {tuple(src.shape)} and tgt {tuple(tgt.shape)}"
    enc_masks = {k: v for k, v in masks.items() if k in ("src_mask", "src_key_padding_mask")}
    with torch.no_grad(), no_fastpath():
        got = from_parts(
            model,
            src.clone(),
            tgt.clone(),
            desc=call_desc,
            hint=STACKS,
            forbidden=LIBRARY_STACKS,
            **masks,
        )
        memory = from_parts(
            model.encode,
            src.clone(),
            desc=f"{desc}.encode",
            hint=STACKS,
            forbidden=LIBRARY_STACKS,
            **enc_masks,
        )
        reference.train()
        expected = reference(src, tgt, **masks)
        expected_memory = reference.encoder(
            src,
            mask=enc_masks.get("src_mask"),
            src_key_padding_mask=enc_masks.get("src_key_padding_mask"),
        )
    assert_close(
        as_float64(memory, "encode"),
        expected_memory,
        name=f"{desc}.encode(src)",
        rtol=RTOL,
        atol=ATOL,
        hint=STACKS,
    )
    assert_close(
        as_float64(got, desc),
        expected,
        name=f"{call_desc} with masks {sorted(masks)}",
        rtol=RTOL,
        atol=ATOL,
        hint=STACKS,
    )


# --------------------------------------------------------------------------- q7


def reference_mask(size: int, device: Any = None, *_: Any, **__: Any) -> torch.Tensor:
    """PyTorch's own causal mask, as bool: what the translator checks use instead of the student's.

    It takes whatever else a student's ``causal_mask`` may take beside ``size`` (``device=``,
    ``dtype=``...), so that a translator calling its own richer signature is not failed here:
    a ``device`` is honoured, anything else is ignored (the mask is bool, as the prompt says)."""
    mask = _future_mask(int(size))
    return mask if device is None else mask.to(device)


def _table(n: int, d: int, gen: torch.Generator) -> Callable:
    table = torch.randn(64, 64, generator=gen)

    def positions(
        n_positions: int, d_model: int, *_: Any, device: Any = None, **__: Any
    ) -> torch.Tensor:
        out = table[:n_positions, :d_model].clone()
        return out if device is None else out.to(device)

    return positions


def translator_case(
    vocab_src: int, vocab_tgt: int, batch: int, src_len: int, tgt_len: int, seed: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Random id batches, padded at the end of some rows; tgt starts with <bos>."""
    gen = torch.Generator().manual_seed(seed)
    src = torch.randint(3, vocab_src, (batch, src_len), generator=gen)
    tgt = torch.randint(3, vocab_tgt, (batch, tgt_len), generator=gen)
    tgt[:, 0] = 1
    src[_padding(batch, src_len, gen)] = 0
    tgt[_padding(batch, tgt_len, gen) & (torch.arange(tgt_len) > 0)] = 0
    return src, tgt


def build_translator(
    Translator,
    Transformer,
    causal_mask,
    positional_encoding,
    *,
    seed,
    d_model=8,
    nhead=2,
    num_layers=1,
    vocab_src=9,
    vocab_tgt=7,
    env=None,
):
    """The student's Translator with PyTorch's Transformer, PyTorch's causal mask and a random position table in place of theirs."""
    gen = torch.Generator().manual_seed(seed)
    positions = _table(32, d_model, gen)
    names = {
        "Transformer": ReferenceTransformer,
        "causal_mask": reference_mask,
        "positional_encoding": positions,
    }
    desc = f"Translator({vocab_src}, {vocab_tgt}, d_model={d_model}, nhead={nhead}, num_layers={num_layers}, dim_feedforward={2 * d_model})"
    run_beside(Translator, torch.manual_seed, seed)
    with substitute(_namespace(Translator, env), **names):
        model = _call(
            Translator,
            vocab_src,
            vocab_tgt,
            d_model,
            nhead,
            num_layers,
            2 * d_model,
            desc=desc,
            hint=TRANSLATOR,
        )
    assert is_instance(model, nn.Module), f"{desc} should be an nn.Module, got {_kind(model)}."
    assert any(True for _ in model.parameters()), (
        f"{desc} holds no parameters at all: this is not answered yet, or its parts are kept "
        "where PyTorch does not register them (a plain list or dict). Build them in __init__ as "
        "the attributes the question names (src_embed, tgt_embed, transformer, generator)."
    )
    for name in ("src_embed", "tgt_embed", "transformer", "generator", "pe"):
        assert hasattr(model, name), f"{desc} has no attribute `{name}`. {TRANSLATOR}"
    # The tests put PyTorch's Transformer in the place of the student's class: a `transformer`
    # of another type was not built by calling `Transformer` (nn.Transformer, say), so the
    # translator would not train the model of questions 4 to 6.
    assert is_instance(model.transformer, ReferenceTransformer), (
        f"{desc}: `transformer` is a {_kind(model.transformer)}, not built by your Transformer class. {OWN_TRANSFORMER}"
    )
    pe = model.pe
    assert isinstance(pe, torch.Tensor) and "pe" in dict(model.named_buffers()), (
        f"{desc}: `pe` should be a buffer (self.register_buffer('pe', positional_encoding(max_len, d_model))). {TRANSLATOR}"
    )
    assert torch.equal(pe.float(), positions(32, d_model)), (
        f"{desc}: `pe` should hold positional_encoding(max_len, d_model) with max_len=32. {TRANSLATOR}"
    )
    model = model.double()
    run_beside(model, _randomise, model, seed + 1)
    model.eval()
    return model, desc


def check_translator_properties(
    Translator: Callable,
    Transformer: Callable,
    causal_mask: Callable,
    positional_encoding: Callable,
    *,
    seed: int,
    d_model: int = 8,
    nhead: int = 2,
    num_layers: int = 1,
    oracle: Callable | None = None,
    env: Any = None,
) -> None:
    """Shape, no dependence on later target tokens (causal) or on padding, and (with an oracle) the values.

    ``env``: the notebook's namespace (the test's ``env``), needed when graded by the referee."""
    model, desc = build_translator(
        Translator,
        Transformer,
        causal_mask,
        positional_encoding,
        seed=seed,
        d_model=d_model,
        nhead=nhead,
        num_layers=num_layers,
        env=env,
    )
    src, tgt = translator_case(9, 7, batch=3, src_len=5, tgt_len=6, seed=seed + 2)
    run = f"{desc}(src {tuple(src.shape)}, tgt_in {tuple(tgt.shape)})"
    with (
        torch.no_grad(),
        no_fastpath(),
        substitute(_namespace(Translator, env), causal_mask=reference_mask),
    ):
        # The first call watches its arguments (kept beside the model): forward must not change them.
        logits = as_float64(
            _call_watching(
                model, (src, tgt), ("src", "tgt_in"), desc=run, hint=TRANSLATOR, caller=plain
            ),
            run,
        )
        assert tuple(logits.shape) == (3, 6, 7), (
            f"{run} should return logits of shape (3, 6, 7), got {tuple(logits.shape)}. {TRANSLATOR}"
        )
        changed = tgt.clone()
        changed[:, 3:] = torch.where(changed[:, 3:] > 0, 3 + (changed[:, 3:] - 2) % 4, 0)
        later = as_float64(plain(model, src, changed, desc=run, hint=TRANSLATOR), run)
        assert _close(later[:, :3], logits[:, :3]), (
            f"{run}: changing the target tokens at positions 3 and later changed the logits at positions 0-2. {LEAK}"
        )
        padded_src = torch.cat([src, torch.zeros(3, 2, dtype=src.dtype)], dim=1)
        padded_tgt = torch.cat([tgt, torch.zeros(3, 2, dtype=tgt.dtype)], dim=1)
        more = as_float64(
            plain(
                model,
                padded_src,
                padded_tgt,
                desc=run + " with two more padding columns",
                hint=TRANSLATOR,
            ),
            run,
        )
        real = (tgt != 0)[..., None].expand_as(logits)
        assert _close(more[:, :6][real], logits[real]), (
            f"{run}: adding padding (id 0) at the end of src and tgt_in changed the logits of the real tokens. {PADDING_MASK}"
        )
        for row in range(src.shape[0]):
            alone = as_float64(
                plain(
                    model,
                    src[row : row + 1],
                    tgt[row : row + 1],
                    desc=f"{desc}(one row of src and tgt_in)",
                    hint=TRANSLATOR,
                ),
                run,
            )
            assert _close(alone, logits[row : row + 1]), (
                f"{run}: row {row} computed alone gives other logits than in the batch, so the rows of a batch influence each other. {TRANSLATOR}"
            )
        # causal=False: the whole target is visible, so the early outputs do depend on later tokens.
        free = as_float64(
            plain(model, src, tgt, False, desc=f"{run} with causal=False", hint=CAUSAL_FLAG), run
        )
        free_later = as_float64(
            plain(model, src, changed, False, desc=f"{run} with causal=False", hint=CAUSAL_FLAG),
            run,
        )
        assert float((free_later[:, :3] - free[:, :3]).abs().max()) > 1e-6, (
            f"{run} with causal=False: changing the target tokens at positions 3 and later left the logits at positions 0-2 unchanged, "
            f"so the translator still masks the future when causal is False. {CAUSAL_FLAG}"
        )
    with substitute(_namespace(Translator, env), causal_mask=reference_mask):
        report = run_beside(model, translator_gradients, model, src, tgt)
    frozen = [name for name, reached in report.items() if not reached]
    assert not frozen, (
        f"{run}: the gradient of the logits reaches no parameter of {', '.join(frozen[:4])}, so training would never change them. {GRADIENTS}"
    )
    with (
        torch.no_grad(),
        no_fastpath(),
        substitute(_namespace(Translator, env), causal_mask=reference_mask),
    ):
        if oracle is not None:
            for causal in (True, False):
                got = as_float64(
                    plain(
                        model, src, tgt, causal, desc=f"{run} with causal={causal}", hint=TRANSLATOR
                    ),
                    run,
                )
                assert_close(
                    got,
                    oracle(model, src, tgt, causal),
                    name=f"{run} with causal={causal}",
                    rtol=RTOL,
                    atol=ATOL,
                    hint=TRANSLATOR,
                )


def translator_gradients(model: nn.Module, src: torch.Tensor, tgt: torch.Tensor) -> dict[str, bool]:
    """Run beside the translator: whether the gradient of its logits reaches each parameter
    (a nonzero gradient), after one backward pass (gradients cleared again after)."""
    with torch.enable_grad(), no_fastpath():
        model.zero_grad(set_to_none=True)
        logits = model(src, tgt)
        weights = torch.linspace(-1.0, 1.0, logits.numel(), dtype=logits.dtype).reshape(
            logits.shape
        )
        (logits * weights).sum().backward()
        report = {
            name: p.grad is not None and bool(p.grad.abs().sum() > 0)
            for name, p in model.named_parameters()
        }
        model.zero_grad(set_to_none=True)
    return report


def _same(kept: torch.Tensor, original: torch.Tensor) -> bool:
    """Run beside a kept tensor: whether it still equals ``original``."""
    return bool(torch.equal(kept, original))


def _call_watching(
    fn: Callable,
    args: tuple,
    names: tuple,
    *,
    desc: str,
    hint: str,
    caller: Callable | None = None,
    **kwargs: Any,
) -> Any:
    """``fn(*args, **kwargs)`` with each tensor argument a copy kept beside ``fn`` (in the
    student's kernel on the referee), then a check that no copy was changed in place."""
    kept = [beside(fn, a.clone()) if isinstance(a, torch.Tensor) else a for a in args]
    result = (caller or _call)(fn, *kept, desc=desc, hint=hint, **kwargs)
    for name, original, copy in zip(names, args, kept, strict=False):
        if isinstance(original, torch.Tensor) and not run_beside(fn, _same, copy, original):
            raise AssertionError(f"{desc} changed its argument `{name}` in place. {IN_PLACE}")
    return result


class ProbeModel(nn.Module):
    """Logits that depend on each input token and position only; records how it was called."""

    def __init__(self, vocab: int, seed: int) -> None:
        super().__init__()
        gen = torch.Generator().manual_seed(seed)
        self.table = nn.Parameter(torch.randn(vocab, vocab, generator=gen, dtype=torch.float64))
        self.position = torch.randn(16, vocab, generator=gen, dtype=torch.float64)
        self.calls: list[tuple[tuple, bool]] = []

    def forward(self, src, tgt_in, causal=True):
        self.calls.append((tuple(tgt_in.shape), causal))
        return self.table[tgt_in] + self.position[: tgt_in.shape[1]]


def _teacher_forced(
    model: ProbeModel,
    tgt: torch.Tensor,
    *,
    shift: bool = True,
    ignore: bool = True,
    by_row: bool = False,
) -> float:
    """The loss by hand, token by token (slow, plain loops). ``by_row``: the slip that averages
    each row's tokens first, then the rows."""
    with torch.no_grad():
        inputs, targets = (tgt[:, :-1], tgt[:, 1:]) if shift else (tgt, tgt)
        log_probs = torch.log_softmax(
            model.table[inputs] + model.position[: inputs.shape[1]], dim=-1
        )
        total, count, row_means = 0.0, 0, []
        for row in range(targets.shape[0]):
            row_total, row_count = 0.0, 0
            for t in range(targets.shape[1]):
                token = int(targets[row, t])
                if ignore and token == 0:
                    continue
                row_total -= float(log_probs[row, t, token])
                row_count += 1
            total, count = total + row_total, count + row_count
            if row_count:
                row_means.append(row_total / row_count)
    return sum(row_means) / len(row_means) if by_row else total / count


def check_translation_loss(
    translation_loss: Callable, *, batch: int, length: int, vocab: int, seed: int
) -> None:
    src, tgt = translator_case(vocab, vocab, batch, length, length + 2, seed)
    tgt[0, -1] = 2
    tgt[:, 1] = torch.where(tgt[:, 1] == 0, 2, tgt[:, 1])  # every sentence has a token to predict
    model = beside(translation_loss, ProbeModel(vocab, seed))  # it records the student's calls
    for causal in (True, False):
        desc = f"translation_loss(model, src {tuple(src.shape)}, tgt {tuple(tgt.shape)}, causal={causal})"
        model.calls = []  # an assignment, not .clear(): on the referee `model` is a proxy
        loss = _call_watching(
            translation_loss,
            (model, src, tgt, causal),
            ("model", "src", "tgt", "causal"),
            desc=desc,
            hint=SHIFT,
        )
        assert isinstance(loss, torch.Tensor) and loss.dim() == 0, (
            f"{desc} should return a scalar tensor, got {loss!r:.60}. {SHIFT}"
        )
        assert loss.requires_grad, (
            f"{desc} should be differentiable (do not detach it or call .item()): training calls loss.backward(). {SHIFT}"
        )
        assert model.calls, f"{desc} never called the model. {SHIFT}"
        assert all(c == causal for _, c in model.calls), (
            f"{desc} called the model with causal={model.calls[0][1]}. {CAUSAL_ARG}"
        )
        expected = _teacher_forced(model, tgt)
        got = loss.detach().item()
        if abs(got - expected) <= 1e-9 * max(1.0, abs(expected)):
            continue
        if any(shape[1] == tgt.shape[1] for shape, _ in model.calls):
            hint = SHIFT
        elif abs(got - _teacher_forced(model, tgt, by_row=True)) <= 1e-9 * max(1.0, abs(expected)):
            hint = TOKEN_MEAN
        elif abs(got - _teacher_forced(model, tgt, ignore=False)) <= 1e-9 * max(1.0, abs(expected)):
            hint = IGNORE_PAD
        else:
            hint = f"{SHIFT} {IGNORE_PAD}"
        raise AssertionError(
            f"{desc} is {got:.6f}; the mean cross-entropy of the outputs for tgt[:, :-1] against tgt[:, 1:] over the non-padding tokens is {expected:.6f}. {hint}"
        )


class ScriptedModel(nn.Module):
    """A 'translator' whose greedy output is known: row r says script[r] one token at a time.

    Its logits at the last position name the next token of the row's script only when ``ys`` so
    far is the script's beginning; otherwise they name a token outside every script.
    """

    def __init__(self, scripts: list[list[int]], vocab: int) -> None:
        super().__init__()
        self.scripts, self.vocab = scripts, vocab
        self.weight = nn.Parameter(torch.zeros(1))
        self.calls = 0
        self.calls_training = 0  # calls made in training mode
        self.calls_with_grad = 0  # calls made with gradients enabled

    def forward(self, src, ys, causal=True):
        self.calls += 1
        self.calls_training += int(self.training)
        self.calls_with_grad += int(torch.is_grad_enabled())
        batch, length = ys.shape
        logits = torch.zeros(batch, length, self.vocab)
        for row in range(batch):
            script = self.scripts[int(src[row, 0]) - 3]
            said = ys[row, 1:].tolist()
            ok = int(ys[row, 0]) == 1 and said == script[: len(said)]
            token = script[len(said)] if ok and len(said) < len(script) else self.vocab - 1
            logits[row, -1, token] = 5.0
            logits[row, :-1, self.vocab - 1] = 1.0
        return logits + 0 * self.weight


def check_greedy_decode(
    greedy_decode: Callable, *, batch: int, vocab: int, max_len: int, seed: int
) -> None:
    """Two scripted cases: every row ends before max_len (decoding must stop early), and one row is cut at max_len."""
    gen = np.random.default_rng(seed)
    for cut in (False, True):
        lengths = gen.integers(
            0, max_len - 1, size=batch
        )  # tokens before <eos>; all end within max_len
        if cut:
            lengths[-1] = max_len + 2  # this row never says <eos> within max_len
        scripts = [[int(t) for t in gen.integers(3, vocab - 1, size=n)] + [2] for n in lengths]
        src = torch.arange(3, 3 + batch)[:, None].repeat(1, 2)
        # It counts the student's calls; handed over in training mode, as a model leaves training.
        model = beside(greedy_decode, ScriptedModel(scripts, vocab).train())
        desc = f"greedy_decode(model, src of shape {tuple(src.shape)}, max_len={max_len})"
        ys = _call_watching(
            greedy_decode,
            (model, src),
            ("model", "src"),
            desc=desc,
            hint=GREEDY_FEED,
            max_len=max_len,
        )
        assert isinstance(ys, torch.Tensor) and ys.dim() == 2 and ys.shape[0] == batch, (
            f"{desc} should return ids of shape (batch, L), got {getattr(ys, 'shape', type(ys).__name__)}. {GREEDY_FEED}"
        )
        assert not ys.is_floating_point(), (
            f"{desc} should return integer ids (int64), got {ys.dtype}. {GREEDY_FEED}"
        )
        steps = min(
            max_len, max(len(s) for s in scripts)
        )  # tokens appended until all rows are done
        for row, script in enumerate(scripts):
            want = [1] + script[:max_len]
            got = ys[row, : len(want)].tolist()
            assert got == want, (
                f"{desc}: row {row} should read {want} (its scripted greedy output), got {ys[row].tolist()}. {GREEDY_FEED}"
            )
        # Stopping is judged by how often the model ran, as the prompt defines it; what a row holds
        # after its <eos> (and so the width past the last <eos>) is the student's choice.
        calls = int(model.calls)
        assert calls == steps, (
            f"{desc} ran the model {calls} times; every row had produced <eos> (or max_len tokens) after {steps} "
            f"appended tokens, so decoding should stop there. {GREEDY_STOP}"
        )
        training, with_grad = int(model.calls_training), int(model.calls_with_grad)
        assert training == 0, (
            f"{desc} was given a model in training mode and ran it {training} of {calls} times still in training mode (dropout on). {GREEDY_EVAL}"
        )
        assert with_grad == 0, (
            f"{desc} ran the model {with_grad} of {calls} times with gradients enabled. {GREEDY_EVAL}"
        )


# --------------------------------------------------------------------------- q8 and q9


def trained(env: dict, *names: str) -> tuple:
    """The translator a given training cell defines (see shared.testing.trained)."""
    return _trained(env, *names, what="the trained translator")


def check_fraction(value: Any, name: str) -> None:
    check_implemented(value, name)
    assert isinstance(value, (float, np.floating)) and 0.0 <= float(value) <= 1.0, (
        f"{name} should be a float in [0, 1], got {value!r:.60}. {fraction_hint()}"
    )


def parts_checks(env: dict, oracle: Callable | None = None) -> dict[str, Callable[[], None]]:
    """The checks of the functions the trained translators were built from (questions 2 and 4
    to 7), read from the notebook's globals ``env``: a name the notebook lacks fails its question.
    ``oracle``: the translator's values are compared too (hidden tests), so a slip in forward that
    only question 7's hidden tests see leaves the claims "not judged" rather than blamed on training."""
    EncoderLayer, DecoderLayer = env.get("EncoderLayer"), env.get("DecoderLayer")
    causal_mask, Transformer = env.get("causal_mask"), env.get("Transformer")
    Translator, translation_loss = env.get("Translator"), env.get("translation_loss")
    greedy_decode, positional_encoding = env.get("greedy_decode"), env.get("positional_encoding")
    checks = {
        "q2": lambda: check_positional_encoding(positional_encoding, 10, 8),
        "q4": lambda: check_encoder_layer(
            EncoderLayer,
            d_model=8,
            nhead=2,
            dim_feedforward=16,
            batch=3,
            seq=5,
            batch_first=True,
            padding=True,
            seed=90,
        ),
        "q5": lambda: (
            check_causal_mask(causal_mask, 4),
            check_decoder_layer(
                DecoderLayer,
                d_model=8,
                nhead=4,
                dim_feedforward=12,
                batch=2,
                tgt_len=5,
                src_len=3,
                batch_first=True,
                padding=True,
                seed=91,
            ),
        ),  # fmt: skip
        "q6": lambda: check_transformer(
            Transformer,
            d_model=8,
            nhead=2,
            num_encoder_layers=1,
            num_decoder_layers=1,
            dim_feedforward=16,
            batch=2,
            src_len=4,
            tgt_len=6,
            batch_first=True,
            padding=True,
            seed=92,
            env=env,
        ),
        "q7": lambda: (
            check_translator_properties(
                Translator,
                Transformer,
                causal_mask,
                positional_encoding,
                seed=93,
                oracle=oracle,
                env=env,
            ),
            check_translation_loss(translation_loss, batch=4, length=5, vocab=7, seed=94),
            check_greedy_decode(greedy_decode, batch=3, vocab=6, max_len=8, seed=95),
        ),  # fmt: skip
    }
    return checks


ACCURACY_MIN, NOMASK_MAX = 0.7, 0.4


# A fraction of at most a few hundred numbers, k / n, is judged to float32's precision (a student
# may take the mean of a float32 tensor): far finer than the 1 / n between two different counts.
FRACTION_ATOL = 1e-6


ACCURACY_VALUE = tagged(
    "tf.accuracy_value",
    "Hint: decode greedy_decode(model, src_test) (the test numbers, not the training ones) row by row with en_vocab.decode and compare with en_vocab.decode of tgt_test; compute the number, do not type it in.",
)


def check_accuracy_value(value: float, expected: float, name: str) -> None:
    assert abs(float(value) - expected) <= FRACTION_ATOL, (
        f"{name} is {float(value):.4f}, but greedy decoding translates {expected:.4f} of the test numbers exactly. {ACCURACY_VALUE}"
    )


# Where to look when a claim fails although the functions passed the checks run here: what those
# checks cannot see (the values of forward are compared with nn.Transformer only by the hidden
# tests of question 7), and whether the training cell ran with the final definitions.
UNSEEN = (
    "Your functions pass the checks run here, so look at what they cannot see: run the notebook from the top (Kernel -> Restart & Run All) so that "
    "training uses your final definitions, keep the given training cell and its constants as they are, and in Translator.forward compare each step "
    "with the question (embeddings times sqrt(d_model) on both sides plus pe, nothing added: no extra activation or layer)."
)


def check_accuracy_claim(accuracy: float, where: str) -> None:
    assert float(accuracy) >= ACCURACY_MIN, (
        f"The trained translator translates {float(accuracy):.3f} of {where} exactly; a correct model and training reach at least {ACCURACY_MIN} "
        f"under every seed we tried (about 0.9). Hint: {UNSEEN}"
    )


def check_nomask_claim(accuracy: float, where: str) -> None:
    assert float(accuracy) <= NOMASK_MAX, (
        f"Trained without the causal mask, the translator still translates {float(accuracy):.3f} of {where} exactly; it should fail (at most {NOMASK_MAX}). "
        "Hint: the training cell calls train_translator(causal=False), which passes causal=False to translation_loss and on to the model: "
        f"with causal=False your Translator must use no causal mask, so the decoder sees the whole target while training. {UNSEEN}"
    )


# Next-token accuracy under teacher forcing, with the target visible as in training: a translator
# trained by the given cell predicts about 0.9 of the tokens (0.83 to 0.97 without the mask, 0.97
# to 0.99 with it, over six seeds); an untrained one about 0.02.
TEACHER_FORCED_MIN = 0.5


def teacher_forced_accuracy(
    model: Any, src: torch.Tensor, tgt: torch.Tensor, causal: bool
) -> float:
    """The fraction of real target tokens that ``model(src, tgt[:, :-1], causal)`` predicts (argmax)."""
    desc = f"the trained translator(src {tuple(src.shape)}, tgt[:, :-1], causal={causal})"
    with torch.no_grad():
        logits = as_float64(plain(model, src, tgt[:, :-1], causal, desc=desc), desc)
    gold = tgt[:, 1:]
    real = gold != 0
    return float((logits.argmax(-1) == gold)[real].double().mean())


def check_trained(
    model: Any, src: torch.Tensor, tgt: torch.Tensor, *, name: str, causal: bool, where: str
) -> None:
    """``model`` is a trained translator (as the training cell made it), not a fresh one: teacher
    forced as it was trained, it predicts most next tokens of ``where``."""
    accuracy = teacher_forced_accuracy(model, src, tgt, causal)
    assert accuracy >= TEACHER_FORCED_MIN, (
        f"`{name}`, teacher-forced with causal={causal} as it was trained, predicts only {accuracy:.3f} of the next tokens of {where}; "
        f"a translator the training cell trained predicts at least {TEACHER_FORCED_MIN} (about 0.9), an untrained one about 0.02. "
        f"So `{name}` is not the model the training cell returned. {TRAINED_MODEL}"
    )
