"""Test logic of assignment 07 (attention from scratch), shared by public and hidden tests.

Every function is compared in float64 with PyTorch's own attention (``F.softmax``,
``F.scaled_dot_product_attention``, ``nn.MultiheadAttention`` holding the same weights, an
``nn.RNNCell`` holding the decoder's matrices), with those forbidden while the student's code
runs, and with properties (rows sum to one, permutation equivariance, causal gradients, the
arguments left as they were, each row of a batch computed on its own). The encoder-decoder's
wiring (s_0 = 0, the context its GRU cell reads) is read through forward hooks on its own
``nn.GRU`` and ``nn.GRUCell``, where it has them. A
question that builds on an earlier one runs with a referee in place of the earlier function
(:func:`referees`), so one mistake costs one question. The referees work only inside these
checks: called from a notebook they raise.

Nothing here answers a graded question; the hidden tests' oracles live in the assignment's
``grader_only/`` folder.
"""

# ruff: noqa: E501 - failure messages and hints are prose, kept one sentence a line

from __future__ import annotations

import contextlib
import functools
import math
from collections.abc import Callable, Iterator
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from shared.checks import assert_close, assert_shape, check_implemented
from shared.forbid import forbid
from shared.testing import (
    beside,
    call,
    check_defined,
    is_instance,
    run_beside,
    stand_in,
    substitute,
    tagged,
    type_name,
)
from shared.testing import trained as _trained

RTOL, ATOL = (
    1e-9,
    1e-10,
)  # float64: any order of summation agrees to ~1e-15; every slip moves values by > 1e-3

FORBIDDEN = (
    "torch.softmax",
    "torch.nn.functional.softmax",
    "torch.Tensor.softmax",
    "torch.nn.functional.scaled_dot_product_attention",
    "torch.nn.MultiheadAttention",
    "torch.nn.functional.multi_head_attention_forward",
)
REASON = "Build it from matrix products, exp and sums, and your own masked_softmax."

# The library's functions, bound before any forbid, for the oracles and referees.
_SOFTMAX = torch.softmax
_SDPA = F.scaled_dot_product_attention
_MHA = nn.MultiheadAttention

MINUS_INF = tagged(
    "attn.mask_minus_inf",
    "Hint: a masked position must get exactly zero weight: set its score to -inf (masked_fill(~mask, float('-inf'))) before the exponential, do not add the mask as 0/1.",
)
STABLE = tagged(
    "attn.stable_softmax",
    "Hint: exp overflows for large scores: subtract the maximum along dim before the exponential (it cancels in the ratio).",
)
FULLY_MASKED = tagged(
    "attn.fully_masked",
    "Hint: a row whose positions are all masked must come out all zeros, not NaN: its maximum is -inf, so guard it (e.g. replace a non-finite maximum by 0 and divide by 1 where the sum is 0).",
)
FULLY_MASKED_UNIFORM = tagged(
    "attn.fully_masked_uniform",
    "Hint: a row whose positions are all masked must come out all zeros, but yours is uniform (1/n everywhere): a large negative fill such as -1e9 still leaves every score of that row equal, so the softmax spreads the weight evenly. Fill masked scores with float('-inf') and guard the fully masked row (a non-finite maximum becomes 0, a zero sum divides by 1).",
)
SOFTMAX_DIM = tagged(
    "attn.softmax_dim",
    "Hint: normalise along the `dim` you are given (max and sum with dim=dim, keepdim=True).",
)
CONTEXT_AXIS = tagged(
    "attn.context_axis",
    "Hint: the context sums the encoder states weighted by the attention over the source positions (axis 1 of h): c[b] = sum_i a[b, i] h[b, i], shape (B, d_h).",
)
CONTEXT_FED = tagged(
    "attn.context_fed",
    "Hint: the new state must read the context: s_t = tanh(U_sc c_t + U_sy y_prev + U_ss s_prev), with c_t the weighted sum of the encoder states, not the previous state.",
)
DECODER_MASK = tagged(
    "attn.decoder_mask",
    "Hint: decoder_step must pass its mask on: weights = masked_softmax(score_fn(s_prev, h), mask, dim=-1); yours are the weights of the unmasked scores, so masked source positions still get weight.",
)
NO_SCALE = tagged(
    "attn.no_sqrt_dk",
    "Hint: divide the scores by sqrt(d_k) (d_k = q.shape[-1]) before the softmax.",
)
SCALE_DK = tagged(
    "attn.scale_by_dk",
    "Hint: the scaling is 1/sqrt(d_k), not 1/d_k: the variance of q.k is d_k, so its standard deviation is sqrt(d_k).",
)
SOFTMAX_AXIS = tagged(
    "attn.softmax_axis",
    "Hint: the softmax runs over the keys (the last axis, dim=-1): each query's weights sum to one, not each key's.",
)
NO_KEY = tagged(
    "attn.no_key_zero",
    "Hint: a query whose keys are all masked gets all-zero weights and a zero output, which masked_softmax already returns: do not renormalise the weights afterwards (dividing by their sum gives 0/0 = NaN there).",
)
MASK_AFTER = tagged(
    "attn.mask_after_softmax",
    "Hint: apply the mask before the softmax (pass it to masked_softmax), not by zeroing weights afterwards: the remaining weights must still sum to one.",
)
CAUSAL_INVERTED = tagged(
    "attn.causal_inverted",
    "Hint: your causal mask is inverted: your weights are nonzero only on keys after the query (the future) and zero on the keys it may see. The mask passed to masked_softmax is True where a key may be attended to: keep keys j <= i (torch.ones(L_q, L_k, dtype=torch.bool).tril()), not the positions to hide.",
)
CAUSAL_DIAGONAL = tagged(
    "attn.causal_diagonal",
    "Hint: under the causal mask query i sees keys j <= i: itself included, nothing after (torch.ones(L_q, L_k, dtype=torch.bool).tril()).",
)
TRANSPOSE = tagged(
    "attn.transpose_keys",
    "Hint: for batched inputs transpose only the last two dimensions of k: k.transpose(-2, -1); k.T reverses every dimension of a 3-D or 4-D tensor.",
)
HEAD_SPLIT = tagged(
    "attn.head_split",
    "Hint: split the projections as (B, L, E) -> view(B, L, heads, d) -> transpose(1, 2): head j takes features j*d:(j+1)*d of each position; view(B, heads, L, d) mixes positions across heads.",
)
OUT_PROJ = tagged(
    "attn.out_proj",
    "Hint: after concatenating the heads, apply the output projection: out @ out_proj_weight.T + out_proj_bias.",
)
PER_HEAD = tagged(
    "attn.per_head_weights",
    "Hint: with average_attn_weights=False return every head's weights, (B, heads, L_q, L_k); average over the heads only when it is True.",
)
MHA_MASKS = tagged(
    "attn.mha_masks",
    "Hint: nn.MultiheadAttention's masks are True where attention is NOT allowed (key_padding_mask (B, L_k) marks padding keys, attn_mask (L_q, L_k) forbidden pairs): invert them before your masked_softmax.",
)
MHA_ANY_MASK = tagged(
    "attn.mha_attn_mask",
    "Hint: attn_mask is any boolean (L_q, L_k) mask, True where a query may NOT attend to a key, not only the causal one: invert the mask you are given and pass it on; do not replace it by a causal mask of your own (causal=True).",
)
CAUSAL_TOP_LEFT = tagged(
    "attn.causal_top_left",
    "Hint: with L_q != L_k the causal mask still lets query i see keys j <= i (aligned to the top-left corner, as PyTorch's is_causal=True): torch.ones(L_q, L_k, dtype=torch.bool).tril(), not a mask aligned to the bottom-right corner (tril(L_k - L_q)).",
)
MASK_DTYPE = tagged(
    "attn.mask_dtype",
    "Hint: a mask is a bool tensor, True where a position takes part: build it with dtype=torch.bool (torch.ones(..., dtype=torch.bool).tril(), comparisons, ~, &), not with floats or 0/1 integers.",
)
IN_PLACE = tagged(
    "attn.input_in_place",
    "Hint: leave your inputs as they are: no in-place operation on an argument (masked_fill_, +=, /=, x[...] = ...); masked_fill, torch.where and ordinary arithmetic return new tensors.",
)
FLOAT_RETURN = tagged(
    "attn.float_return",
    "Hint: the prompt asks for a Python float: end with .item() (or float(...)) instead of returning a 0-dim tensor.",
)


# --------------------------------------------------------------------------- calling students


def from_scratch(fn: Callable, *args: Any, desc: str, hint: str = "", **kwargs: Any) -> Any:
    """:func:`call` with the library's softmax and attention forbidden."""
    with forbid(*FORBIDDEN, reason=REASON):
        return call(fn, *args, desc=desc, hint=hint, **kwargs)


def as_tensor(value: Any, name: str) -> torch.Tensor:
    check_implemented(value, name)
    assert isinstance(value, torch.Tensor), (
        f"{name} should be a torch tensor, got {type(value).__name__}"
    )
    return value.detach().cpu().double()


def pair_or_triple(value: Any, n: int, name: str) -> tuple:
    check_implemented(value, name)
    assert isinstance(value, (tuple, list)) and len(value) == n, (
        f"{name} should return a tuple of {n} values, got {type(value).__name__}"
    )
    return tuple(value)


def _call_keeping(fn: Callable, args: tuple, kwargs: dict) -> tuple:
    """Beside the student's code: ``fn(*args, **kwargs)``, and its tensor arguments as they are
    after the call (raw tensors, None for the others), in one request."""

    def kept(x: Any) -> Any:
        return x if isinstance(x, torch.Tensor) else None

    return fn(*args, **kwargs), [kept(x) for x in args], {k: kept(v) for k, v in kwargs.items()}


def from_scratch_unchanged(
    fn: Callable, *args: Any, names: tuple[str, ...], desc: str, hint: str = "", **kwargs: Any
) -> Any:
    """:func:`from_scratch` on copies of the arguments, then a check that ``fn`` left its tensor
    arguments as they were (the prompt: no change in place). ``names``: the positional ones'."""
    check_defined(fn, desc)

    def copy(x: Any) -> Any:
        return x.clone() if isinstance(x, torch.Tensor) else x

    answer = from_scratch(
        functools.partial(run_beside, fn, _call_keeping, fn),
        tuple(copy(x) for x in args),
        {k: copy(v) for k, v in kwargs.items()},
        desc=desc,
        hint=hint,
    )
    result, after, after_kw = answer
    check_implemented(result, desc)
    pairs = [*zip(names, after, args, strict=False)]
    pairs += [(k, after_kw[k], v) for k, v in kwargs.items()]
    for name, now, before in pairs:
        if isinstance(before, torch.Tensor):
            assert isinstance(now, torch.Tensor) and torch.equal(now, before), (
                f"{desc} changed its argument {name} in place: the caller's tensor is no longer what it passed. {IN_PLACE}"
            )
    return result


def check_float(got: Any, desc: str) -> None:
    """The prompt's "a float": a Python float, not a 0-dim tensor."""
    check_implemented(got, desc)
    shape = f" of shape {tuple(got.shape)}" if isinstance(got, torch.Tensor) else ""
    assert isinstance(got, float), (
        f"{desc} should return a Python float, got {type_name(got)}{shape}. {FLOAT_RETURN}"
    )


# --------------------------------------------------------------------------- referees

_ACTIVE = {"referees": 0}


# The referees take what the prompts define and ignore anything more: a student may give their
# own function extra optional arguments (an epsilon, a device) and pass them along.


def _check_mask(mask: Any, fn: str) -> None:
    """The mask handed to ``fn`` is what its question defines: None or a bool tensor."""
    if mask is not None and (not isinstance(mask, torch.Tensor) or mask.dtype != torch.bool):
        raise TypeError(
            f"{fn} was given a mask of {getattr(mask, 'dtype', type(mask).__name__)}, but its "
            f"question defines the mask as a bool tensor (True = take part). {MASK_DTYPE}"
        )


def _referee_softmax(scores, mask=None, dim=-1, *_extra, **_options):
    if not _ACTIVE["referees"]:
        raise RuntimeError("This referee works only inside the tests' checks.")
    _check_mask(mask, "masked_softmax")
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    return torch.nan_to_num(_SOFTMAX(scores, dim=dim), nan=0.0)


def _referee_context(weights, h, *_extra, **_options):
    if not _ACTIVE["referees"]:
        raise RuntimeError("This referee works only inside the tests' checks.")
    # The library's attention with one zero query and zero keys: softmax(log a) = a, so its
    # output is sum_i a_i h_i (positions with a_i = 0 get -inf, hence exactly no weight).
    b, length, d = h.shape
    zeros = h.new_zeros(b, 1, 1)
    log_a = weights.log().unsqueeze(1)
    out = _SDPA(zeros, h.new_zeros(b, length, 1), h, attn_mask=log_a)
    return torch.nan_to_num(out, nan=0.0).squeeze(1)


def _referee_attention(q, k, v, mask=None, causal=False, *_extra, **_options):
    if not _ACTIVE["referees"]:
        raise RuntimeError("This referee works only inside the tests' checks.")
    _check_mask(mask, "scaled_dot_product_attention")
    weights = oracle_weights(q, k, mask, causal)
    return weights @ v, weights


# The referee blocks entered by _bind_referees, innermost last.
_BOUND: list[contextlib.ExitStack] = []


def _bind_referees(fn: Callable, names: dict[str, Callable]) -> None:
    """Where ``fn`` runs: bind ``names`` in its notebook's globals (only where the notebook
    defines them) and let the referees work, until :func:`_unbind_referees`."""
    namespace = getattr(fn, "__globals__", {})
    present = {k: v for k, v in names.items() if k in namespace}
    stack = contextlib.ExitStack()
    _ACTIVE["referees"] += 1
    stack.callback(_ACTIVE.update, referees=_ACTIVE["referees"] - 1)
    try:
        stack.enter_context(substitute(namespace, **present))
    except BaseException:
        stack.close()
        raise
    _BOUND.append(stack)


def _unbind_referees() -> None:
    """Undo the innermost :func:`_bind_referees`."""
    _BOUND.pop().close()


@contextlib.contextmanager
def referees(fn: Callable, **names: Callable) -> Iterator[None]:
    """Run ``fn``'s notebook with ``names`` bound to referees (only where the notebook defines them).

    Bound where ``fn`` runs (:func:`run_beside`): under the grading referee the notebook's
    globals live in the student's kernel, and what is bound there are stubs of the referees
    (:func:`shared.testing.stand_in`), which run here, in the grading referee's process."""
    stubs = {
        name: stand_in(fn, _opened(referee), name, differentiable=True)
        for name, referee in names.items()
    }
    run_beside(fn, _bind_referees, fn, stubs)
    try:
        yield
    finally:
        run_beside(fn, _unbind_referees)


def _opened(referee: Callable) -> Callable:
    """``referee`` working whenever it is called: under the grading referee it runs in the
    grading process, at the student code's request, for the length of a test case."""

    @functools.wraps(referee)
    def opened(*args: Any, **kwargs: Any) -> Any:
        _ACTIVE["referees"] += 1
        try:
            return referee(*args, **kwargs)
        finally:
            _ACTIVE["referees"] -= 1

    return opened


# --------------------------------------------------------------------------- oracles


def allowed_mask(
    L_q: int, L_k: int, mask: torch.Tensor | None, causal: bool, shape: tuple
) -> torch.Tensor:
    allowed = torch.ones(*shape, L_q, L_k, dtype=torch.bool)
    if mask is not None:
        allowed = allowed & mask
    if causal:
        allowed = allowed & torch.ones(L_q, L_k, dtype=torch.bool).tril()
    return allowed


def oracle_weights(q, k, mask=None, causal=False) -> torch.Tensor:
    """The attention weights, by the library's own attention: values that are the identity make
    its output the weight matrix itself (``W @ I = W``). A fully masked row is 0."""
    batch = torch.broadcast_shapes(q.shape[:-2], k.shape[:-2])
    allowed = allowed_mask(q.shape[-2], k.shape[-2], mask, causal, tuple(batch))
    eye = torch.eye(k.shape[-2], dtype=q.dtype).expand(*batch, -1, -1)
    q, k = q.expand(*batch, *q.shape[-2:]), k.expand(*batch, *k.shape[-2:])
    return torch.nan_to_num(_SDPA(q, k, eye, attn_mask=allowed), nan=0.0) * allowed.any(
        -1, keepdim=True
    )


# --------------------------------------------------------------------------- q1: masked softmax


def _softmax_case(shape, dim, masked, broadcast, seed):
    gen = torch.Generator().manual_seed(seed)
    scores = 3 * torch.randn(*shape, generator=gen, dtype=torch.float64)
    mask = None
    if masked:
        mshape = list(shape)
        if broadcast:
            mshape[0] = 1
        mask = torch.rand(*mshape, generator=gen) < 0.7
        mask.select(dim, 0).fill_(True)  # every row keeps a position ...
        mask.movedim(dim, -1)[(0,) * (len(mshape) - 1)] = False  # ... but one, fully masked
    return scores, mask


def _uniform_where_fully_masked(got: torch.Tensor, mask: torch.Tensor | None, dim: int) -> bool:
    """The signature of a large negative fill (-1e9) instead of -inf: every fully masked row
    comes out uniform, while each masked position of the other rows is exactly 0."""
    if mask is None:
        return False
    hidden = ~mask.expand_as(got)
    fully = hidden.all(dim=dim, keepdim=True).expand_as(got)
    if not fully.any() or (got[hidden & ~fully] != 0).any():
        return False
    uniform = torch.full_like(got, 1.0 / got.shape[dim])
    return bool(torch.allclose(got[fully], uniform[fully], atol=1e-9))


def check_masked_softmax(
    masked_softmax: Callable,
    *,
    shape: tuple,
    dim: int,
    seed: int,
    masked: bool = False,
    broadcast: bool = False,
) -> None:
    scores, mask = _softmax_case(shape, dim, masked, broadcast, seed)
    desc = f"masked_softmax(scores of shape {tuple(scores.shape)}, {'a mask of shape ' + str(tuple(mask.shape)) if mask is not None else 'mask=None'}, dim={dim})"
    got = as_tensor(
        from_scratch_unchanged(
            masked_softmax, scores, mask, dim=dim, names=("scores", "mask"), desc=desc
        ),
        desc,
    )
    assert_shape(got, tuple(scores.shape), desc)
    expected = scores if mask is None else scores.masked_fill(~mask, float("-inf"))
    expected = torch.nan_to_num(_SOFTMAX(expected, dim=dim), nan=0.0)
    hint = ""
    if torch.isnan(got).any():
        hint = FULLY_MASKED
    elif _uniform_where_fully_masked(got, mask, dim):
        hint = FULLY_MASKED_UNIFORM
    elif mask is not None and (got.masked_select(~mask.expand_as(got)).abs() > 0).any():
        hint = MINUS_INF
    elif not torch.allclose(got.sum(dim=dim), expected.sum(dim=dim)):
        hint = SOFTMAX_DIM
    assert_close(
        got,
        expected,
        name=f"{desc}, compared with F.softmax (masked scores set to -inf, a fully masked row all 0)",
        rtol=RTOL,
        atol=ATOL,
        hint=hint,
    )
    big = scores * 3000  # scores of about +-1e4: exp overflows unless the maximum is subtracted
    got = as_tensor(
        from_scratch_unchanged(
            masked_softmax,
            big,
            mask,
            dim=dim,
            names=("scores", "mask"),
            desc=f"{desc} with scores of about 1e4",
        ),
        desc,
    )
    expected = big if mask is None else big.masked_fill(~mask, float("-inf"))
    expected = torch.nan_to_num(_SOFTMAX(expected, dim=dim), nan=0.0)
    assert_close(
        got,
        expected,
        name=f"{desc} with the scores multiplied by 3000",
        rtol=RTOL,
        atol=ATOL,
        hint=STABLE if torch.isnan(got).any() else hint,
    )


# --------------------------------------------------------------------------- q2: one decoder step


def check_by_hand(
    dot_scores: Callable, additive_scores: Callable, attention_context: Callable
) -> None:
    s = torch.tensor([[1.0, 0.0]], dtype=torch.float64)
    h = torch.tensor([[[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]], dtype=torch.float64)
    e = math.e
    desc = "dot_scores(s=[[1, 0]], h=[[[1, 0], [0, 1], [1, 1]]])"
    got = as_tensor(from_scratch(dot_scores, s, h, desc=desc), desc)
    assert_close(
        got,
        torch.tensor([[1.0, 0.0, 1.0]], dtype=torch.float64),
        name=f"{desc} (worked by hand above)",
        rtol=RTOL,
        atol=ATOL,
        hint="Hint: e[b, i] = s[b] . h[b, i].",
    )
    eye = torch.eye(2, dtype=torch.float64)
    v = torch.ones(2, dtype=torch.float64)
    desc = "additive_scores(s=[[1, 0]], h as above, W=I, U=I, v=[1, 1])"
    got = as_tensor(from_scratch(additive_scores, s, h, eye, eye, v, desc=desc), desc)
    expected = torch.tensor(
        [[math.tanh(2) + math.tanh(0), 2 * math.tanh(1), math.tanh(2) + math.tanh(1)]],
        dtype=torch.float64,
    )
    assert_close(
        got,
        expected,
        name=f"{desc} (worked by hand above)",
        rtol=RTOL,
        atol=ATOL,
        hint="Hint: e[b, i] = v . tanh(W s[b] + U h[b, i]).",
    )
    a = torch.tensor([[e, 1.0, e]], dtype=torch.float64) / (2 * e + 1)
    desc = "attention_context(weights=[[e, 1, e]] / (2e + 1), h as above)"
    got = as_tensor(from_scratch(attention_context, a, h, desc=desc, hint=CONTEXT_AXIS), desc)
    assert_shape(got, (1, 2), desc, hint=CONTEXT_AXIS)
    expected = torch.tensor([[2 * e / (2 * e + 1), (e + 1) / (2 * e + 1)]], dtype=torch.float64)
    assert_close(
        got,
        expected,
        name=f"{desc} (worked by hand above)",
        rtol=RTOL,
        atol=ATOL,
        hint=CONTEXT_AXIS,
    )


def check_dot(dot_scores: Callable, *, B: int, L: int, d: int, seed: int) -> None:
    gen = torch.Generator().manual_seed(seed)
    s = torch.randn(B, d, generator=gen, dtype=torch.float64)
    h = torch.randn(B, L, d, generator=gen, dtype=torch.float64)
    desc = f"dot_scores(s {tuple(s.shape)}, h {tuple(h.shape)})"
    got = as_tensor(from_scratch(dot_scores, s, h, desc=desc), desc)
    assert_shape(got, (B, L), desc)
    expected = torch.einsum("bd,bld->bl", s, h)
    assert_close(got, expected, name=f"{desc}: s[b] . h[b, i]", rtol=RTOL, atol=ATOL)


def check_additive(
    additive_scores: Callable,
    *,
    B: int,
    L: int,
    d_s: int,
    d_h: int,
    d_a: int,
    seed: int,
    oracle: Callable | None = None,
) -> None:
    gen = torch.Generator().manual_seed(seed)
    s = torch.randn(B, d_s, generator=gen, dtype=torch.float64)
    h = torch.randn(B, L, d_h, generator=gen, dtype=torch.float64)
    W = torch.randn(d_a, d_s, generator=gen, dtype=torch.float64) / math.sqrt(d_s)
    U = torch.randn(d_a, d_h, generator=gen, dtype=torch.float64) / math.sqrt(d_h)
    v = torch.randn(d_a, generator=gen, dtype=torch.float64)
    desc = f"additive_scores(s {tuple(s.shape)}, h {tuple(h.shape)}, W {tuple(W.shape)}, U {tuple(U.shape)}, v {tuple(v.shape)})"
    hint = "Hint: e[b, i] = v . tanh(W s[b] + U h[b, i]): (s @ W.T) of shape (B, d_a) broadcast over the L positions of h @ U.T (B, L, d_a)."
    got = as_tensor(from_scratch(additive_scores, s, h, W, U, v, desc=desc, hint=hint), desc)
    assert_shape(got, (B, L), desc, hint=hint)
    # Properties any correct answer has: with v scaled the scores scale; they lie in [-|v|_1, |v|_1].
    assert (got.abs() <= v.abs().sum() + 1e-12).all(), (
        f"{desc} returned scores beyond |v|_1 = {v.abs().sum():.3f}, impossible for v . tanh(...). {hint}"
    )
    doubled = as_tensor(
        from_scratch(additive_scores, s, h, W, U, 2 * v, desc=desc, hint=hint), desc
    )
    assert_close(
        doubled,
        2 * got,
        name=f"{desc} with v doubled (the scores must double)",
        rtol=RTOL,
        atol=ATOL,
        hint=hint,
    )
    if oracle is not None:
        assert_close(
            got,
            oracle(s, h, W, U, v),
            name=f"{desc}, compared with v . tanh(W s + U h_i) position by position",
            rtol=RTOL,
            atol=ATOL,
            hint=hint,
        )


def check_context(attention_context: Callable, *, B: int, L: int, d_h: int, seed: int) -> None:
    gen = torch.Generator().manual_seed(seed)
    a = _SOFTMAX(torch.randn(B, L, generator=gen, dtype=torch.float64), dim=-1)
    h = torch.randn(B, L, d_h, generator=gen, dtype=torch.float64)
    desc = f"attention_context(weights {tuple(a.shape)}, h {tuple(h.shape)})"
    got = as_tensor(from_scratch(attention_context, a, h, desc=desc, hint=CONTEXT_AXIS), desc)
    assert_shape(got, (B, d_h), desc, hint=CONTEXT_AXIS)
    # F.scaled_dot_product_attention with the weights' logits as an additive mask: softmax(log a) h = a h.
    expected = _SDPA(
        torch.zeros(B, 1, 1, dtype=torch.float64),
        torch.zeros(B, L, 1, dtype=torch.float64),
        h,
        attn_mask=a.log()[:, None, :],
    )[:, 0]
    assert_close(
        got,
        expected,
        name=f"{desc}, compared with F.scaled_dot_product_attention",
        rtol=RTOL,
        atol=ATOL,
        hint=CONTEXT_AXIS,
    )


def check_decoder_step(
    decoder_step: Callable, *, B: int, L: int, d: int, d_y: int, seed: int, masked: bool = False
) -> None:
    gen = torch.Generator().manual_seed(seed)
    s = torch.randn(B, d, generator=gen, dtype=torch.float64).tanh()
    y = torch.randn(B, d_y, generator=gen, dtype=torch.float64)
    h = torch.randn(B, L, d, generator=gen, dtype=torch.float64)
    U_sc, U_sy, U_ss = (
        torch.randn(d, n, generator=gen, dtype=torch.float64) / math.sqrt(n) for n in (d, d_y, d)
    )
    M = torch.randn(d, d, generator=gen, dtype=torch.float64)
    mask = None
    if masked:
        mask = torch.rand(B, L, generator=gen) < 0.6
        mask[:, 0] = True

    def score_fn(s_prev, h_enc):  # a bilinear score s^T M h_i: any function of (s, h) will do
        return torch.einsum("bd,de,ble->bl", s_prev, M, h_enc)

    desc = f"decoder_step(s_prev {tuple(s.shape)}, y_prev {tuple(y.shape)}, h {tuple(h.shape)}, U_sc, U_sy, U_ss, a bilinear score_fn{', a mask' if masked else ''})"
    with referees(
        decoder_step, masked_softmax=_referee_softmax, attention_context=_referee_context
    ):
        result = from_scratch_unchanged(
            decoder_step,
            s,
            y,
            h,
            U_sc,
            U_sy,
            U_ss,
            score_fn,
            mask,
            names=("s_prev", "y_prev", "h", "U_sc", "U_sy", "U_ss", "score_fn", "mask"),
            desc=desc,
            hint=CONTEXT_FED,
        )
    s_t, weights, context = (
        as_tensor(x, f"part of what {desc} returned") for x in pair_or_triple(result, 3, desc)
    )
    scores = score_fn(s, h)
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    expected_c = _SDPA(
        torch.zeros(B, 1, 1, dtype=torch.float64),
        torch.zeros(B, L, 1, dtype=torch.float64),
        h,
        attn_mask=scores[:, None, :],
    )[:, 0]
    expected_a = _SOFTMAX(scores, dim=-1)
    hint = "Hint: weights = masked_softmax(score_fn(s_prev, h), mask, dim=-1)."
    if mask is not None and torch.allclose(weights, _SOFTMAX(score_fn(s, h), dim=-1), atol=1e-8):
        hint = DECODER_MASK
    assert_close(
        weights,
        expected_a,
        name=f"the weights of {desc} (softmax of score_fn(s_prev, h) over the source positions)",
        rtol=RTOL,
        atol=ATOL,
        hint=hint,
    )
    assert_close(
        context,
        expected_c,
        name=f"the context of {desc}, compared with F.scaled_dot_product_attention",
        rtol=RTOL,
        atol=ATOL,
        hint=CONTEXT_AXIS,
    )
    cell = nn.RNNCell(d + d_y, d, bias=False).double()
    with torch.no_grad():
        cell.weight_ih.copy_(torch.cat([U_sc, U_sy], dim=1))
        cell.weight_hh.copy_(U_ss)
        expected_s = cell(torch.cat([expected_c, y], dim=1), s)
    assert_shape(s_t, (B, d), f"s_t of {desc}")
    assert_close(
        s_t,
        expected_s,
        name=f"s_t of {desc}, compared with nn.RNNCell(bias=False) holding [U_sc | U_sy] and U_ss",
        rtol=RTOL,
        atol=ATOL,
        hint=CONTEXT_FED,
    )


# --------------------------------------------------------------------------- q3: scaled dot-product attention


def _sdpa_case(batch, L_q, L_k, d_k, d_v, masked, seed):
    """q, k, v and a mask: ``masked`` False (None), True or "keys" (key padding (..., 1, L_k),
    broadcast over the queries) or "pairs" (one bool per query and key (..., L_q, L_k), rows
    with several masked keys; key 0 always kept, so that no row is fully masked, also under
    the causal mask), or "pairs_empty" (the same, but query 0 sees no key at all)."""
    gen = torch.Generator().manual_seed(seed)
    q = torch.randn(*batch, L_q, d_k, generator=gen, dtype=torch.float64)
    k = torch.randn(*batch, L_k, d_k, generator=gen, dtype=torch.float64)
    v = torch.randn(*batch, L_k, d_v, generator=gen, dtype=torch.float64)
    mask = None
    if masked:
        rows = L_q if masked in ("pairs", "pairs_empty") else 1
        mask = torch.rand(*batch, rows, L_k, generator=gen) < (0.5 if rows > 1 else 0.6)
        mask[..., 0] = True
        if rows > 1 and L_k > 2:
            mask[..., -1, 1:] = False  # the last query sees key 0 alone
        if masked == "pairs_empty":
            mask[..., 0, :] = False  # the first query sees no key at all
    return q, k, v, mask


def _run_sdpa(fn, q, k, v, mask, causal, desc):
    with referees(fn, masked_softmax=_referee_softmax):
        result = from_scratch_unchanged(
            fn, q, k, v, mask=mask, causal=causal, names=("q", "k", "v"), desc=desc, hint=TRANSPOSE
        )
    out, weights = pair_or_triple(result, 2, desc)
    return as_tensor(out, f"out of {desc}"), as_tensor(weights, f"weights of {desc}")


def _masked_weights(q, k, allowed) -> torch.Tensor:
    """softmax(q k^T / sqrt(d_k)) with the positions where ``allowed`` is False at exactly 0."""
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    return torch.nan_to_num(_SOFTMAX(scores.masked_fill(~allowed, float("-inf")), dim=-1), nan=0.0)


def _diagnose_weights(got, q, k, mask, causal) -> str:
    d_k = q.shape[-1]
    for scale, hint in ((math.sqrt(d_k), NO_SCALE), (1.0 / math.sqrt(d_k), SCALE_DK)):
        if torch.allclose(got, oracle_weights(q * scale, k, mask, causal), atol=1e-8):
            return hint
    if torch.allclose(got.sum(-2), torch.ones_like(got.sum(-2)), atol=1e-8) and not torch.allclose(
        got.sum(-1), torch.ones_like(got.sum(-1)), atol=1e-8
    ):
        return SOFTMAX_AXIS
    if causal:
        L_q, L_k = got.shape[-2:]
        seen = torch.ones(L_q, L_k, dtype=torch.bool).tril()
        if (got.masked_select(seen.expand_as(got)) == 0).all() and (got != 0).any():
            return CAUSAL_INVERTED
        if L_q != L_k:
            corner = torch.ones(L_q, L_k, dtype=torch.bool).tril(L_k - L_q)
            both = corner if mask is None else corner & mask
            if torch.allclose(got, _masked_weights(q, k, both), atol=1e-8):
                return CAUSAL_TOP_LEFT
        for offset in (-1, 1):
            allowed = torch.ones(L_q, L_k, dtype=torch.bool).tril(offset)
            full = None if mask is None else mask
            scores = q @ k.transpose(-2, -1) / math.sqrt(d_k)
            both = allowed if full is None else allowed & full
            if torch.allclose(
                got,
                torch.nan_to_num(
                    _SOFTMAX(scores.masked_fill(~both, float("-inf")), dim=-1), nan=0.0
                ),
                atol=1e-8,
            ):
                return CAUSAL_DIAGONAL
    if mask is not None or causal:
        plain = oracle_weights(q, k) * allowed_mask(
            q.shape[-2], k.shape[-2], mask, causal, tuple(got.shape[:-2])
        )
        if torch.allclose(got, plain, atol=1e-8):
            return MASK_AFTER
    return ""


def check_sdpa(
    fn: Callable,
    *,
    batch: tuple,
    L_q: int,
    L_k: int,
    d_k: int,
    d_v: int,
    seed: int,
    masked: bool | str = False,
    causal: bool = False,
) -> None:
    q, k, v, mask = _sdpa_case(batch, L_q, L_k, d_k, d_v, masked, seed)
    kind = (
        "a mask per query and key, one query seeing no key, "
        if masked == "pairs_empty"
        else "a mask per query and key "
        if masked == "pairs"
        else "a key padding mask "
    )
    desc = f"scaled_dot_product_attention(q {tuple(q.shape)}, k {tuple(k.shape)}, v {tuple(v.shape)}, mask={kind + str(tuple(mask.shape)) if mask is not None else None}, causal={causal})"
    out, weights = _run_sdpa(fn, q, k, v, mask, causal, desc)
    assert_shape(weights, (*batch, L_q, L_k), f"weights of {desc}", hint=TRANSPOSE)
    assert_shape(out, (*batch, L_q, d_v), f"out of {desc}", hint=TRANSPOSE)
    expected_w = oracle_weights(q, k, mask, causal)
    hint = (
        ""
        if torch.allclose(weights, expected_w, atol=1e-8)
        else _diagnose_weights(weights, q, k, mask, causal)
    )
    allowed = allowed_mask(L_q, L_k, mask, causal, batch)
    sees = allowed.any(-1)  # False for a query whose keys are all masked
    if not sees.all() and not torch.isfinite(weights[~sees.expand(weights.shape[:-1])]).all():
        hint = NO_KEY
    assert not torch.isnan(weights).any(), (
        f"weights of {desc} contain NaN{' in the rows of the queries that see no key' if hint == NO_KEY else ''}. {hint}"
    )
    assert (weights >= 0).all(), (
        f"weights of {desc} has negative entries, impossible after a softmax. {hint}"
    )
    assert_close(
        weights.sum(-1),
        sees.double(),
        name=f"the row sums of the weights of {desc} (each query's weights sum to one; 0 for a query that sees no key)",
        rtol=RTOL,
        atol=1e-9,
        hint=hint,
    )
    assert_close(weights, expected_w, name=f"weights of {desc}", rtol=RTOL, atol=ATOL, hint=hint)
    expected = torch.nan_to_num(_SDPA(q, k, v, attn_mask=allowed), nan=0.0)
    assert_close(
        out,
        expected,
        name=f"out of {desc}, compared with F.scaled_dot_product_attention (attn_mask True = take part)",
        rtol=RTOL,
        atol=ATOL,
        hint=hint,
    )


def check_permutation(fn: Callable, *, L: int, d: int, seed: int) -> None:
    """Permuting the keys and values together changes nothing; permuting the queries permutes the output."""
    q, k, v, _ = _sdpa_case((2,), L, L, d, d, False, seed)
    perm = torch.randperm(L, generator=torch.Generator().manual_seed(seed + 1))
    desc = f"scaled_dot_product_attention(q, k, v) with q, k, v {tuple(q.shape)}"
    out, _ = _run_sdpa(fn, q, k, v, None, False, desc)
    out_p, _ = _run_sdpa(
        fn,
        q[:, perm],
        k[:, perm],
        v[:, perm],
        None,
        False,
        f"{desc}, all three permuted along positions",
    )
    assert_close(
        out_p,
        out[:, perm],
        name=f"{desc}: self-attention without positions is permutation-equivariant, so permuting the inputs must permute the output the same way",
        rtol=RTOL,
        atol=ATOL,
        hint=SOFTMAX_AXIS,
    )


def _kept_result(box: dict, fn: Callable, *args: Any, **kwargs: Any) -> Any:
    """Beside the student's code: ``fn(*args, **kwargs)``, also kept in ``box`` with its graph."""
    box["result"] = fn(*args, **kwargs)
    return box["result"]


def _row_gradients(box: dict, inputs: tuple, t: int) -> tuple:
    """Beside the student's code: the raw gradients of row ``t`` of the kept output
    (``out[0, t].sum()``) with respect to ``inputs``, None for an input it does not use."""
    out = box["result"][0]
    return torch.autograd.grad(out[0, t].sum(), tuple(inputs), allow_unused=True)


def check_causal_gradients(fn: Callable, *, L: int, d: int, seed: int) -> None:
    """Under the causal mask, output t has zero gradient with respect to every input after t."""
    q, k, v, _ = _sdpa_case((1,), L, L, d, d, False, seed)
    desc = f"scaled_dot_product_attention(q, k, v, causal=True) with q, k, v {tuple(q.shape)}"
    check_defined(fn, desc)
    for t in range(L):
        # The inputs, the student's result and the backward pass stay beside the student's code
        # (under the grading referee: in the kernel); only the raw gradients come back.
        qs, ks, vs = (beside(fn, x.clone().requires_grad_()) for x in (q, k, v))
        box = beside(fn, {})
        with referees(fn, masked_softmax=_referee_softmax):
            result = from_scratch(
                functools.partial(run_beside, fn, _kept_result, box, fn),
                qs,
                ks,
                vs,
                mask=None,
                causal=True,
                desc=desc,
                hint=TRANSPOSE,
            )
        pair_or_triple(result, 2, desc)
        grads = run_beside(fn, _row_gradients, box, (qs, ks, vs), t)
        for name, g in zip("qkv", grads, strict=True):
            g = torch.zeros_like(q) if g is None else g
            late = g[0, t + 1 :].abs().max().item() if t + 1 < L else 0.0
            assert late == 0.0, (
                f"{desc}: the gradient of output {t} with respect to {name} at positions after {t} is {late:.3g}, it must be exactly 0 (a position cannot see the future). {CAUSAL_DIAGONAL}"
            )
        own = grads[2][0, t].abs().max().item()
        assert own > 0, (
            f"{desc}: output {t} does not depend on v at position {t}: a position must see itself. {CAUSAL_DIAGONAL}"
        )


# --------------------------------------------------------------------------- q4: multi-head attention

HEADS_REUSED = tagged(
    "attn.heads_reused",
    "Hint: every head attends with its own slice of the projections (head j: features j*d:(j+1)*d of the projected queries, keys and values); yours gives every head the weights of a single head, as if one head were computed and reused.",
)


def _one_head_reused(mha, query, key, value, kpm, attn_mask, weights, average: bool) -> bool:
    """Whether the weights are those of one head of ``mha`` given to every head."""
    with torch.no_grad():
        per_head = mha(
            query,
            key,
            value,
            key_padding_mask=kpm,
            attn_mask=attn_mask,
            need_weights=True,
            average_attn_weights=False,
        )[1]
    for j in range(per_head.shape[1]):
        one = per_head[:, j] if average else per_head[:, j : j + 1].expand_as(per_head)
        if torch.allclose(weights, one, atol=1e-8) and not torch.allclose(
            per_head, per_head[:, j : j + 1].expand_as(per_head), atol=1e-8
        ):
            return True
    return False


def check_mha(
    fn: Callable,
    *,
    E: int,
    heads: int,
    B: int,
    L_q: int,
    L_k: int,
    batch_first: bool,
    seed: int,
    padding: bool = False,
    causal: bool = False,
    average: bool = True,
    attn: bool = False,
) -> None:
    """``causal``: attn_mask is the causal mask; ``attn``: an arbitrary one (rows with several
    forbidden keys, key 0 always allowed)."""
    torch.manual_seed(seed)
    mha = _MHA(E, heads, batch_first=batch_first).double()
    with torch.no_grad():
        for p in mha.parameters():
            p.uniform_(-0.6, 0.6)
    gen = torch.Generator().manual_seed(seed + 1)
    shape_q = (B, L_q, E) if batch_first else (L_q, B, E)
    shape_k = (B, L_k, E) if batch_first else (L_k, B, E)
    query = torch.randn(*shape_q, generator=gen, dtype=torch.float64)
    key = torch.randn(*shape_k, generator=gen, dtype=torch.float64)
    value = torch.randn(*shape_k, generator=gen, dtype=torch.float64)
    kpm = None
    if padding:
        kpm = torch.rand(B, L_k, generator=gen) < 0.3
        kpm[:, 0] = False  # every query keeps at least one key
    attn_mask = torch.ones(L_q, L_k, dtype=torch.bool).triu(1) if causal else None
    if attn:
        attn_mask = torch.rand(L_q, L_k, generator=gen) < 0.4
        attn_mask[:, 0] = False
        attn_mask[-1, 1:] = True  # the last query may attend to key 0 alone
    weights_in = (
        mha.in_proj_weight.detach(),
        mha.in_proj_bias.detach(),
        mha.out_proj.weight.detach(),
        mha.out_proj.bias.detach(),
    )
    desc = (
        f"multi_head_attention(query {tuple(query.shape)}, key/value {tuple(key.shape)}, the weights of nn.MultiheadAttention({E}, {heads}, batch_first={batch_first}), "
        f"key_padding_mask={'(B, L_k)' if padding else None}, attn_mask={'causal (L_q, L_k)' if causal else '(L_q, L_k), not causal' if attn else None}, average_attn_weights={average})"
    )
    with referees(
        fn, scaled_dot_product_attention=_referee_attention, masked_softmax=_referee_softmax
    ):
        result = from_scratch_unchanged(
            fn,
            query,
            key,
            value,
            *weights_in,
            heads,
            key_padding_mask=kpm,
            attn_mask=attn_mask,
            batch_first=batch_first,
            average_attn_weights=average,
            names=(
                "query",
                "key",
                "value",
                "in_proj_weight",
                "in_proj_bias",
                "out_proj_weight",
                "out_proj_bias",
            ),
            desc=desc,
            hint=HEAD_SPLIT,
        )
    out, weights = (
        as_tensor(x, f"part of what {desc} returned") for x in pair_or_triple(result, 2, desc)
    )
    with torch.no_grad():
        ref_out, ref_w = mha(
            query,
            key,
            value,
            key_padding_mask=kpm,
            attn_mask=attn_mask,
            need_weights=True,
            average_attn_weights=average,
        )
    per_head_shape = (B, heads, L_q, L_k)
    assert_shape(
        weights,
        tuple(ref_w.shape),
        f"weights of {desc}",
        hint=PER_HEAD
        if not average
        else "Hint: the weights averaged over the heads are (B, L_q, L_k).",
    )
    hint = HEAD_SPLIT
    if (padding or causal or attn) and not average:
        plain = mha(query, key, value, need_weights=True, average_attn_weights=False)[1].detach()
        if torch.allclose(weights, plain, atol=1e-8):
            hint = MHA_MASKS
    if attn and tuple(weights.shape) == tuple(ref_w.shape):
        # the attn_mask replaced by the causal one, or left out
        for other in (torch.ones(L_q, L_k, dtype=torch.bool).triu(1), None):
            with torch.no_grad():
                wrong = mha(
                    query,
                    key,
                    value,
                    key_padding_mask=kpm,
                    attn_mask=other,
                    need_weights=True,
                    average_attn_weights=average,
                )[1]
            if torch.allclose(weights, wrong, atol=1e-8):
                hint = MHA_ANY_MASK
    if (
        heads > 1
        and tuple(weights.shape) == tuple(ref_w.shape)
        and _one_head_reused(mha, query, key, value, kpm, attn_mask, weights, average)
    ):
        hint = HEADS_REUSED
    assert_close(
        weights,
        ref_w,
        name=f"weights of {desc} ({'per head ' + str(per_head_shape) if not average else 'averaged over the heads'})",
        rtol=RTOL,
        atol=ATOL,
        hint=hint,
    )
    assert_shape(
        out,
        tuple(ref_out.shape),
        f"out of {desc}",
        hint="Hint: out has the layout of query: (L_q, B, E), or (B, L_q, E) with batch_first=True.",
    )
    assert_close(
        out,
        ref_out,
        name=f"out of {desc}, compared with nn.MultiheadAttention holding the same weights",
        rtol=RTOL,
        atol=ATOL,
        hint=OUT_PROJ,
    )


# --------------------------------------------------------------------------- q5-q6: a trained encoder-decoder

READS_STEP = tagged(
    "attn.decoder_input",
    "Hint: decoder step t reads tgt_in[:, t] (teacher forcing: <bos>, then the target shifted right) and nothing after it: embed(tgt_in[:, t]) with the context, then the GRU cell.",
)
SHARED_EMBEDDING = tagged(
    "attn.shared_embedding",
    "Hint: one nn.Embedding(vocab_size, H) embeds both the source tokens (for the encoder) and the decoder's input tokens: call the same module for both, not a second embedding for the target.",
)
INITIAL_STATE = tagged(
    "attn.initial_state",
    "Hint: the decoder starts from s_0 = 0, zeros of shape (B, H) (h.new_zeros(B, H), or no state at all for nn.GRUCell), not from an encoder state.",
)
SUMMARY = tagged(
    "attn.summary",
    "Hint: without attention the context is the encoder's single summary: the forward GRU's last state (h_n[0], = h[:, -1, :H]) concatenated with the backward GRU's last state, the one it reaches at position 0 (h_n[1], = h[:, 0, H:]); h[:, -1] holds the backward GRU's first state instead, which has read only the last token.",
)
CONTEXT_USED = tagged(
    "attn.context_used",
    "Hint: with attention, step t's context is attention_context(a_t, h), the weighted sum of all encoder states with the weights it returns, and that context goes into the GRU cell ([embed(y_{t-1}), c_t]) and the output layer: not the encoder's single summary.",
)
BATCH_ROWS = tagged(
    "attn.batch_rows",
    "Hint: the sequences of a batch must not influence each other: a row's logits may depend on its own src and tgt_in only. h_n of a bidirectional nn.GRU is (2, B, H): the summary is torch.cat([h_n[0], h_n[1]], dim=-1); h_n.view(B, 2 * H) or h_n.reshape(B, -1) mixes the states of different sequences.",
)
SEQ2SEQ_CONTRACT = tagged(
    "attn.seq2seq_contract",
    "Hint: forward(src, tgt_in) returns (logits (B, T, vocab_size), weights (B, T, S)), the weights of step t in row t, each row your masked_softmax of the additive scores over the source positions; weights is None when attention=False.",
)
GREEDY = tagged(
    "attn.greedy_feedback",
    "Hint: greedy decoding starts from <bos> (B, 1) and, at every step, appends the argmax of the last step's logits to the decoder's input, then calls the model again: it feeds back its own predictions, steps times; return those tokens (without <bos>) and the weights of the final call.",
)
EXACT = tagged(
    "attn.exact_match",
    "Hint: a row counts only when every step matches: (pred == tgt).all(dim=1), then the mean of that as a float.",
)
ALIGN_AXIS = tagged(
    "attn.alignment_axis",
    "Hint: the strongest weight of decoder step t is the argmax over the source positions, the last axis of weights (n, T, S): weights.argmax(dim=-1) is (n, T), compared with aligned; count only the steps where aligned >= 0.",
)
ALIGN_CLAIM = tagged(
    "attn.alignment_claim",
    "Hint: with attention the decoder can look at the source position it must copy; if it does not learn to, check that step t's context is attention_context(a_t, h) over all encoder states (not the encoder's single summary), that the scores read the previous decoder state s_{t-1}, and that attention=False uses the single summary as its context.",
)
NUMBERS = tagged(
    "attn.reversal_numbers",
    "Hint: use greedy_decode on the test pairs (steps = their length) and your exact_match / alignment_share on its tokens and weights, for the model and the pairs the question names.",
)

UNTRAINED = tagged(
    "attn.untrained_model",
    "Hint: measure the models the given training cell returns (plain_model = train_reversal(False, SHORT, STEPS), attention_model likewise), trained as given: a fresh, untrained Seq2Seq fails by construction, which proves nothing about attention.",
)

ATTENTION_EXACT_MIN, ATTENTION_SHARE_MIN, PLAIN_EXACT_MAX = 0.4, 0.4, 0.1
# Teacher-forced token accuracy of the model without attention on 7-digit pairs: trained as
# given 0.61-0.63 over the verify seeds, untrained 0.10-0.11 (chance is 1/10).
PLAIN_TOKENS_MIN = 0.25


def _model_referees(Seq2Seq: Any):
    """Referees in place of masked_softmax and attention_context while the student's model runs."""
    fn = getattr(Seq2Seq, "forward", None) or Seq2Seq
    return referees(fn, masked_softmax=_referee_softmax, attention_context=_referee_context)


def _seq2seq_case(vocab_size: int, B: int, S: int, T: int, seed: int):
    gen = torch.Generator().manual_seed(seed)
    src = torch.randint(3, vocab_size, (B, S), generator=gen)
    tgt_in = torch.randint(3, vocab_size, (B, T), generator=gen)
    tgt_in[:, 0] = 1
    return src, tgt_in


def _run_model(model, src, tgt_in, attention: bool, desc: str):
    logits, weights = pair_or_triple(
        from_scratch(model, src, tgt_in, desc=desc, hint=SEQ2SEQ_CONTRACT), 2, desc
    )
    logits = as_tensor(logits, f"the logits of {desc}")
    B, T, S = tgt_in.shape[0], tgt_in.shape[1], src.shape[1]
    assert_shape(
        logits, (B, T, model_vocab(logits)), f"the logits of {desc}", hint=SEQ2SEQ_CONTRACT
    )
    if not attention:
        assert weights is None, (
            f"{desc} should return weights None (a model without attention), got {type(weights).__name__}. {SEQ2SEQ_CONTRACT}"
        )
        return logits, None
    weights = as_tensor(weights, f"the weights of {desc}")
    assert_shape(weights, (B, T, S), f"the weights of {desc}", hint=SEQ2SEQ_CONTRACT)
    assert (weights >= -1e-7).all() and torch.allclose(
        weights.sum(-1), torch.ones(B, T, dtype=weights.dtype), atol=1e-5
    ), (
        f"the weights of {desc} should be non-negative with each step's row summing to 1 (to 1e-5 in float32), got row sums {weights.sum(-1)[0].tolist()}. {SEQ2SEQ_CONTRACT}"
    )
    return logits, weights


def model_vocab(logits: torch.Tensor) -> int:
    return logits.shape[-1] if logits.dim() == 3 else -1


def check_seq2seq(
    Seq2Seq: Any, *, vocab_size: int, hidden_size: int, B: int, S: int, T: int, seed: int
) -> None:
    """The contract of an untrained model, with and without attention: shapes, weights, causality."""
    src, tgt_in = _seq2seq_case(vocab_size, B, S, T, seed)
    k = max(1, T // 2)
    later = tgt_in.clone()
    later[:, k:] = (tgt_in[:, k:] - 3 + 1) % (
        vocab_size - 3
    ) + 3  # every token from step k on changes
    other_src = (src - 3 + 1 + torch.arange(S)) % (vocab_size - 3) + 3
    for attention in (True, False):
        made = f"Seq2Seq({vocab_size}, {hidden_size}, attention={attention})"
        run_beside(Seq2Seq, torch.manual_seed, seed)  # the student's torch draws the weights
        model = call(Seq2Seq, vocab_size, hidden_size, attention=attention, desc=made)
        assert is_instance(model, nn.Module), (
            f"{made} should be an nn.Module, got {type(model).__name__}"
        )
        desc = f"{made}(src {tuple(src.shape)}, tgt_in {tuple(tgt_in.shape)})"
        with _model_referees(Seq2Seq):
            logits, weights = _run_model(model, src, tgt_in, attention, desc)
            assert logits.shape[-1] == vocab_size, (
                f"the logits of {desc} should have vocab_size = {vocab_size} scores per step, got {logits.shape[-1]}. {SEQ2SEQ_CONTRACT}"
            )
            logits_later, weights_later = _run_model(
                model, src, later, attention, f"{desc} with tgt_in changed from step {k} on"
            )
            logits_src, _ = _run_model(
                model, other_src, tgt_in, attention, f"{desc} with another src"
            )
            flip = torch.arange(B - 1, -1, -1)
            logits_flip, _ = _run_model(
                model,
                src[flip],
                tgt_in[flip],
                attention,
                f"{desc} with the rows of the batch in reverse order",
            )
            assert_close(
                logits_flip,
                logits[flip],
                name=f"the logits of {desc} with the rows of src and tgt_in in reverse order (each row's logits must stay its own, in the new order)",
                rtol=1e-4,
                atol=1e-5,
                hint=BATCH_ROWS,
            )
            with forbid(*FORBIDDEN, reason=REASON):
                _check_decoder_inputs(model, src, tgt_in, weights, attention, desc)
        assert_close(
            logits_later[:, :k],
            logits[:, :k],
            name=f"the logits of steps 0..{k - 1} of {desc} when tgt_in changes from step {k} on (a step must not read later decoder inputs)",
            rtol=1e-5,
            atol=1e-6,
            hint=READS_STEP,
        )
        assert (logits_later[:, k] - logits[:, k]).abs().max() > 1e-6, (
            f"the logits of step {k} of {desc} did not change when tgt_in[:, {k}] changed: step t must read tgt_in[:, t]. {READS_STEP}"
        )
        if attention:
            assert_close(
                weights_later[:, :k],
                weights[:, :k],
                name=f"the weights of steps 0..{k - 1} of {desc} when tgt_in changes from step {k} on",
                rtol=1e-5,
                atol=1e-6,
                hint=READS_STEP,
            )
        assert (logits_src - logits).abs().max() > 1e-6, (
            f"the logits of {desc} did not change when src changed: the decoder must read the encoder. {SEQ2SEQ_CONTRACT}"
        )


def _probe_decoder(model: Any, src: torch.Tensor, tgt_in: torch.Tensor) -> tuple:
    """Beside the student's model: run it once without gradients, recording what its
    bidirectional ``nn.GRU`` returns (the encoder states h) and what its decoder's
    ``nn.GRUCell(3H, H)`` is given at every step (input, state), and how many of its
    ``nn.Embedding`` modules it calls. Raw tensors come back: lists that stay empty where the
    model has no such module (an encoder written with cells)."""
    grus = [m for m in model.modules() if isinstance(m, nn.GRU) and m.bidirectional]
    cells = [
        m
        for m in model.modules()
        if isinstance(m, nn.GRUCell) and m.input_size == 3 * m.hidden_size
    ]
    states: list = []
    steps: list = []
    embeddings: set = set()

    def on_embedding(module, args, kwargs, out):
        embeddings.add(id(module))

    def on_gru(module, args, kwargs, out):
        h = out[0]
        if isinstance(h, torch.Tensor):  # not a packed sequence
            states.append((h if module.batch_first else h.transpose(0, 1)).detach().clone())

    def on_cell(module, args, kwargs, out):
        x = args[0] if args else kwargs.get("input")
        hx = args[1] if len(args) > 1 else kwargs.get("hx")
        steps.append((x.detach().clone(), None if hx is None else hx.detach().clone()))

    handles = [m.register_forward_hook(on_gru, with_kwargs=True) for m in grus[:1]]
    handles += [m.register_forward_hook(on_cell, with_kwargs=True) for m in cells[:1]]
    handles += [
        m.register_forward_hook(on_embedding, with_kwargs=True)
        for m in model.modules()
        if isinstance(m, nn.Embedding)
    ]
    try:
        with torch.no_grad():
            model(src, tgt_in)
    finally:
        for handle in handles:
            handle.remove()
    return states, steps, len(embeddings)


def _check_decoder_inputs(model, src, tgt_in, weights, attention: bool, desc: str) -> None:
    """The decoder as the prose defines it: it starts from s_0 = 0, and its GRU cell reads
    [embed(y_{t-1}), c_t] at step t (the context's 2H features first or last), c_t the single
    summary [forward GRU's last state, backward GRU's last state (position 0)] without
    attention, sum_i a_{t,i} h_i with it. Judged where the model has those modules."""
    states, steps, embeddings = call(
        functools.partial(run_beside, model, _probe_decoder),
        model,
        src,
        tgt_in,
        desc=f"{desc} (run again, recording what its nn.GRU returns and its nn.GRUCell reads)",
    )
    assert embeddings <= 1, (
        f"{desc} calls {embeddings} nn.Embedding modules; the model has one, shared by the source and the target tokens. {SHARED_EMBEDDING}"
    )
    if not steps:
        return
    x0, s0 = steps[0]
    assert s0 is None or (s0 == 0).all(), (
        f"{desc}: the decoder's nn.GRUCell starts from a state with values up to {s0.abs().max().item():.3g}, not from s_0 = 0. {INITIAL_STATE}"
    )
    if not states or len(steps) != tgt_in.shape[1]:
        return
    h = states[0].double()
    H = h.shape[-1] // 2
    if tuple(h.shape[:2]) != tuple(src.shape):
        return
    if attention:
        expected = [torch.einsum("bs,bsd->bd", weights[:, t], h) for t in range(len(steps))]
        what, hint = (
            "the attention context sum_i a_{t,i} h_i (a_t the weights it returned)",
            CONTEXT_USED,
        )
    else:
        summary = torch.cat([h[:, -1, :H], h[:, 0, H:]], dim=-1)
        expected = [summary] * len(steps)
        what, hint = (
            "the encoder's single summary [h[:, -1, :H], h[:, 0, H:]] (the forward GRU's last state, the backward GRU's last state)",
            SUMMARY,
        )
    for t, ((x, _), c) in enumerate(zip(steps, expected, strict=True)):
        x = x.double()
        if x.shape[-1] != 3 * H:
            return
        fits = [torch.allclose(part, c, rtol=1e-4, atol=1e-5) for part in (x[:, H:], x[:, : 2 * H])]
        assert any(fits), (
            f"{desc}: at step {t} the decoder's nn.GRUCell reads [embed(tgt_in[:, {t}]), c] with c (its last 2H = {2 * H} features) differing from {what} by up to {(x[:, H:] - c).abs().max().item():.3g}. {hint}"
        )


class _ChainModel(nn.Module):
    """A model with forward's contract whose greedy output is known: the largest logit of step t
    is (3 * tgt_in[:, t] + src[:, t % S] + 1) mod V, and its weights favour position tgt_in[:, t] mod S."""

    def __init__(self, vocab_size: int, attention: bool):
        super().__init__()
        self.vocab_size, self.attention = vocab_size, attention
        self.scale = nn.Parameter(torch.tensor(4.0))

    def forward(self, src, tgt_in):
        S, T = src.shape[1], tgt_in.shape[1]
        nxt = (3 * tgt_in + src[:, torch.arange(T) % S] + 1) % self.vocab_size
        logits = F.one_hot(nxt, self.vocab_size).float() * self.scale
        if not self.attention:
            return logits, None
        favoured = F.one_hot(tgt_in % S, S).float()
        return logits, (favoured * self.scale + 1) / (self.scale + S)


def check_greedy(
    greedy_decode: Callable,
    *,
    B: int,
    S: int,
    steps: int,
    vocab_size: int,
    seed: int,
    attention: bool = True,
) -> None:
    """Greedy decoding of a test model whose greedy output is known, without gradients."""
    gen = torch.Generator().manual_seed(seed)
    src = torch.randint(3, vocab_size, (B, S), generator=gen)
    model = _ChainModel(vocab_size, attention)
    prefix = torch.ones(B, 1, dtype=torch.long)
    for _ in range(steps):  # the model's greedy output, step by step
        prefix = torch.cat([prefix, model(src, prefix)[0][:, -1].argmax(-1, keepdim=True)], dim=1)
    expected = prefix[:, 1:]
    desc = f"greedy_decode(model, src {tuple(src.shape)}, steps={steps}) for a test model{' without attention' if not attention else ''}"
    tokens, weights = pair_or_triple(
        from_scratch(greedy_decode, model, src, steps, desc=desc, hint=GREEDY), 2, desc
    )
    check_implemented(tokens, desc)
    assert isinstance(tokens, torch.Tensor) and not tokens.is_floating_point(), (
        f"the tokens of {desc} should be an integer tensor (int64), got {getattr(tokens, 'dtype', type(tokens).__name__)}. {GREEDY}"
    )
    assert_shape(tokens, (B, steps), f"the tokens of {desc}", hint=GREEDY)
    assert torch.equal(tokens.long(), expected), (
        f"the tokens of {desc} are {tokens[0].tolist()} (first row), but greedy decoding of this model gives {expected[0].tolist()}. {GREEDY}"
    )
    if not attention:
        assert weights is None, (
            f"{desc} should return weights None for a model without attention, got {type(weights).__name__}. {GREEDY}"
        )
        return
    check_implemented(weights, desc)
    assert isinstance(weights, torch.Tensor), (
        f"the weights of {desc} should be a tensor, got {type(weights).__name__}"
    )
    assert not weights.requires_grad, (
        f"the weights of {desc} carry gradients: decode under torch.no_grad(). {GREEDY}"
    )
    assert_shape(weights, (B, steps, S), f"the weights of {desc}", hint=GREEDY)
    with torch.no_grad():
        expected_w = model(src, prefix[:, :-1])[1]
    assert_close(
        weights.detach().double(),
        expected_w.double(),
        name=f"the weights of {desc} (those of the steps that produced the tokens)",
        rtol=1e-6,
        atol=1e-7,
        hint=GREEDY,
    )


def check_exact_match(exact_match: Callable, *, n: int, T: int, seed: int) -> None:
    gen = torch.Generator().manual_seed(seed)
    tgt = torch.randint(3, 13, (n, T), generator=gen)
    wrong = torch.rand(n, generator=gen) < 0.5
    wrong[0], wrong[-1] = True, False
    pred = tgt.clone()
    rows = torch.nonzero(wrong).flatten()
    steps = torch.randint(0, T, (len(rows),), generator=gen)
    pred[rows, steps] = (pred[rows, steps] - 3 + 1) % 10 + 3  # one wrong token in each such row
    desc = f"exact_match(pred {tuple(pred.shape)}, tgt) with {len(rows)} of {n} rows wrong in one step each"
    got = from_scratch(exact_match, pred, tgt, desc=desc, hint=EXACT)
    check_implemented(got, desc)
    assert isinstance(got, (float, torch.Tensor)) and (
        not isinstance(got, torch.Tensor) or got.numel() == 1
    ), f"{desc} should return a float, got {type(got).__name__}"
    expected = 1.0 - len(rows) / n
    assert abs(float(got) - expected) <= 1e-6, (
        f"{desc} should be {expected:.4f}, got {float(got):.4f}. {EXACT}"
    )
    check_float(got, desc)


def check_alignment_share(
    alignment_share: Callable, *, n: int, T: int, S: int, seed: int, padded: bool = False
) -> None:
    gen = torch.Generator().manual_seed(seed)
    aligned = torch.randint(0, S, (n, T), generator=gen)
    if padded:
        aligned[0, T // 2 :] = -1
        aligned[-1, -1] = -1
    hit = torch.rand(n, T, generator=gen) < 0.5
    hit[0, 0], hit[-1, 0] = True, False
    wrong = (aligned + torch.randint(1, S, (n, T), generator=gen)) % S  # never the aligned position
    strongest = torch.where(hit & (aligned >= 0), aligned, wrong.clamp_min(0))
    weights = torch.rand(n, T, S, generator=gen, dtype=torch.float64)
    weights.scatter_(2, strongest.unsqueeze(-1), 2.0)
    weights = weights / weights.sum(-1, keepdim=True)
    counted = aligned >= 0
    expected = (hit & counted).sum().item() / counted.sum().item()
    desc = f"alignment_share(weights {tuple(weights.shape)}, aligned {tuple(aligned.shape)}{', some steps -1' if padded else ''})"
    got = from_scratch(alignment_share, weights, aligned, desc=desc, hint=ALIGN_AXIS)
    check_implemented(got, desc)
    assert isinstance(got, (float, torch.Tensor)) and (
        not isinstance(got, torch.Tensor) or got.numel() == 1
    ), f"{desc} should return a float, got {type(got).__name__}. {ALIGN_AXIS}"
    assert abs(float(got) - expected) <= 1e-6, (
        f"{desc} should be {expected:.4f} ({(hit & counted).sum().item()} of the {counted.sum().item()} counted steps have their largest weight on the aligned position), got {float(got):.4f}. {ALIGN_AXIS}"
    )
    check_float(got, desc)


def upstream_checks(env: dict, *, seed: int) -> dict[str, Callable[[], None]]:
    """The checks of the functions the trained models were built with (questions 1, 2 and 5),
    read from the notebook's globals ``env``: a name the notebook lacks fails its question."""
    masked_softmax, attention_context = env.get("masked_softmax"), env.get("attention_context")
    Seq2Seq, greedy_decode = env.get("Seq2Seq"), env.get("greedy_decode")
    return {
        "q1": lambda: check_masked_softmax(
            masked_softmax, shape=(3, 4), dim=-1, masked=True, seed=seed
        ),
        "q2": lambda: check_context(attention_context, B=2, L=4, d_h=3, seed=seed + 1),
        "q5": lambda: (
            check_seq2seq(Seq2Seq, vocab_size=13, hidden_size=4, B=2, S=4, T=3, seed=seed + 2),
            check_greedy(greedy_decode, B=2, S=4, steps=3, vocab_size=13, seed=seed + 3),
        ),
    }


def trained(env: dict, *names: str) -> tuple:
    """The models the training cell after question 5 defines (see shared.testing.trained)."""
    return _trained(env, *names, cell=" after question 5")


def check_alignment_claim(
    attention_exact: Any, attention_share: Any, plain_exact: Any, *, where: str
) -> None:
    """The attention model reverses and aligns; the model without attention, trained and tested
    on the same sequences, fails."""
    for name, value in (
        ("attention_exact", attention_exact),
        ("attention_share", attention_share),
        ("plain_exact", plain_exact),
    ):
        check_implemented(value, name)
        assert isinstance(value, (float, int, torch.Tensor)) and 0.0 <= float(value) <= 1.0, (
            f"{name} should be a fraction in [0, 1], got {value!r:.80}"
        )
    assert float(attention_exact) >= ATTENTION_EXACT_MIN, (
        f"the attention model reverses only {float(attention_exact):.3f} of {where} exactly; trained as given it reaches at least {ATTENTION_EXACT_MIN} (0.65-0.93 over the verify seeds). {ALIGN_CLAIM}"
    )
    assert float(attention_share) >= ATTENTION_SHARE_MIN, (
        f"only {float(attention_share):.3f} of the attention model's steps on {where} put their largest weight on the source position they copy; trained as given it reaches at least {ATTENTION_SHARE_MIN} (0.68-0.86 over the verify seeds). {ALIGN_CLAIM}"
    )
    assert float(plain_exact) <= PLAIN_EXACT_MAX, (
        f"the model without attention reverses {float(plain_exact):.3f} of {where} exactly, more than {PLAIN_EXACT_MAX}: trained as given it reverses at most 0.02 (0.012-0.018 over the verify seeds), since one context vector of 2H numbers rarely holds all 7 digits after this little training. {ALIGN_CLAIM}"
    )


def check_trained(model: Any, pairs: Any, *, name: str, where: str) -> None:
    """``model`` is a trained model: under teacher forcing it predicts far more of the target
    tokens than chance, which the claim "without attention it fails" needs to mean anything."""
    from shared.seq2seq import teacher_forcing

    desc = f"{name}(src, teacher_forcing(tgt)) on {where}"
    with torch.no_grad():
        result = call(model, pairs.src, teacher_forcing(pairs.tgt), desc=desc)
    logits = as_tensor(pair_or_triple(result, 2, desc)[0], f"the logits of {desc}")
    accuracy = (logits.argmax(-1) == pairs.tgt).double().mean().item()
    assert accuracy >= PLAIN_TOKENS_MIN, (
        f"{desc} predicts only {accuracy:.3f} of the target tokens (the largest logit of each step); trained as given it predicts at least {PLAIN_TOKENS_MIN} (0.61-0.63 over the verify seeds), an untrained model about 0.1 (chance). {UNTRAINED}"
    )


def check_numbers(numbers: dict[str, tuple[Any, float]]) -> None:
    """Each reported number equals its recomputation (name -> (reported, recomputed))."""
    for name, (got, expected) in numbers.items():
        check_implemented(got, name)
        assert isinstance(got, (float, int, torch.Tensor)), (
            f"{name} should be a float, got {type(got).__name__}"
        )
        assert abs(float(got) - expected) <= 1e-6, (
            f"{name} should be {expected:.4f}, got {float(got):.4f}. {NUMBERS}"
        )


# --------------------------------------------------------------------------- q7: why sqrt(d_k), measured

VARIANCE = tagged(
    "attn.variance",
    "Hint: the n numbers are the dot products q_i . k_i of n independent pairs (a query and a key of d_k standard-normal entries each), each a sum over the d_k features; their sample variance is about d_k, or about 1 when every product is divided by sqrt(d_k).",
)
VARIANCE_SCALE = tagged(
    "attn.variance_scale",
    "Hint: with scale=True divide every dot product by sqrt(d_k) before taking the variance, which brings it from d_k down to 1; yours still has the variance of the unscaled products.",
)
VARIANCE_SCALE_DK = tagged(
    "attn.variance_scale_dk",
    "Hint: scale the dot products by 1/sqrt(d_k), not 1/d_k: dividing by d_k leaves a variance of d_k / d_k^2 = 1/d_k instead of 1.",
)
VARIANCE_STD = tagged(
    "attn.variance_std",
    "Hint: return the variance (the mean squared deviation from the mean, .var()), not the standard deviation (.std(), its square root): yours is about sqrt(d_k).",
)
VARIANCE_PAIRS = tagged(
    "attn.variance_pairs",
    "Hint: each product pairs a query with a key drawn independently of it, q_i . k_i; q_i . q_i = |q_i|^2 has variance 2 d_k, twice the right one.",
)
VARIANCE_SUM = tagged(
    "attn.variance_sum",
    "Hint: a dot product sums the d_k products q_i[j] k_i[j] over the features, which gives n numbers; the variance of the n * d_k separate products is 1, not d_k.",
)
VARIANCE_GENERATOR = tagged(
    "attn.variance_generator",
    "Hint: draw the queries and the keys with the generator you are given (torch.randn(..., generator=generator)), no other: then the same seeded generator gives the same number whatever torch's global generator holds, and another seed another number; with generator=None, torch.randn's default, the draws come from torch's global generator.",
)
ENTROPY = tagged(
    "attn.entropy",
    "Hint: a = masked_softmax(scores, mask, dim=-1); each row's entropy is H = -sum_j a_j ln a_j over the last axis (0 ln 0 = 0), and the answer is the mean of H over every row, as a Python float.",
)
ENTROPY_ZERO_LOG = tagged(
    "attn.entropy_zero_log",
    "Hint: a masked key has weight 0, and in torch 0 * log(0) = 0 * (-inf) = NaN: the convention 0 ln 0 = 0 has to be written (torch.special.entr(a) and torch.xlogy(a, a) follow it, or take the log only where a > 0).",
)
ENTROPY_NATS = tagged(
    "attn.entropy_nats",
    "Hint: the entropy is in nats, with the natural logarithm (torch.log), not log2 (bits) or log10.",
)
ENTROPY_SUM_KEYS = tagged(
    "attn.entropy_sum_keys",
    "Hint: a row's entropy is the sum of -a_j ln a_j over its L keys, and the mean comes after, over the rows (.sum(-1), then .mean()): one .mean() over every weight divides by L once more.",
)
ENTROPY_MASK = tagged(
    "attn.entropy_mask",
    "Hint: pass the mask on, a = masked_softmax(scores, mask, dim=-1): masked keys get weight 0 and add nothing to the entropy; yours is the entropy of the unmasked scores.",
)

DEFAULT_N = 20_000  # the prompt's default n
SIGMAS = 6.0  # a correct answer lies outside 6 standard errors with probability ~1e-8
ENTROPY_TOL = 1e-6  # float64 weights from the referee: any way of summing agrees to ~1e-12


def variance_tolerance(d_k: int, n: int, scale: bool) -> tuple[float, float]:
    """The variance of q . k (/ sqrt(d_k) when ``scale``) for standard-normal q, k of size d_k,
    and the standard error of the sample variance of n such products.

    q . k is a sum of d_k independent products of variance 1 and fourth moment 9, so
    E[(q . k)^2] = d_k and E[(q . k)^4] = 3 d_k^2 + 6 d_k; the sample variance of n of them has
    variance (E[x^4] - E[x^2]^2) / n = (2 d_k^2 + 6 d_k) / n (dividing by n or n - 1, centred or
    not, changes it by O(1/n) only). Scaling by 1/sqrt(d_k) divides both by d_k."""
    expected = 1.0 if scale else float(d_k)
    se = math.sqrt((2 * d_k**2 + 6 * d_k) / n) / (d_k if scale else 1)
    return expected, se


def _diagnose_variance(got: float, d_k: int, scale: bool, expected: float, se: float) -> str:
    """The hint of the known mistake whose value ``got`` is, where it differs from the right one."""
    d = float(d_k)
    if scale:
        candidates = ((d, VARIANCE_SCALE), (1 / d, VARIANCE_SCALE_DK), (2.0, VARIANCE_PAIRS))
    else:
        candidates = ((math.sqrt(d), VARIANCE_STD), (1.0, VARIANCE_SUM), (2 * d, VARIANCE_PAIRS))
    relative = se / expected
    for value, hint in candidates:
        distinct = abs(value - expected) > 2 * SIGMAS * se
        if distinct and abs(got - value) <= 2 * SIGMAS * relative * value:
            return hint
    return VARIANCE


def _seeded(fn: Callable, seed: int) -> Any:
    """A generator seeded ``seed``, where ``fn`` runs (a copy in the student's kernel)."""
    return beside(fn, torch.Generator().manual_seed(seed))


def check_dot_product_variance(
    dot_product_variance: Callable, *, d_k: int, scale: bool, seed: int, n: int | None = None
) -> None:
    """The sample variance of n products lies within SIGMAS standard errors of d_k (1 scaled);
    ``n`` None: the prompt's default."""
    size = {} if n is None else {"n": n}
    n_used = DEFAULT_N if n is None else n
    desc = f"dot_product_variance({d_k}{f', n={n}' if n is not None else ''}, scale={scale}, generator=torch.Generator().manual_seed({seed}))"
    got = from_scratch(
        dot_product_variance,
        d_k,
        **size,
        scale=scale,
        generator=_seeded(dot_product_variance, seed),
        desc=desc,
        hint=VARIANCE,
    )
    check_float(got, desc)
    expected, se = variance_tolerance(d_k, n_used, scale)
    ok = math.isfinite(got) and abs(got - expected) <= SIGMAS * se
    hint = "" if ok or not math.isfinite(got) else _diagnose_variance(got, d_k, scale, expected, se)
    assert ok, (
        f"{desc} returned {got:.6g}, but the variance of q . k{' / sqrt(d_k)' if scale else ''} is {expected:g}: "
        f"the sample variance of {n_used} such products lies within {SIGMAS:g} standard errors of it, {expected:g} +- {SIGMAS * se:.3g} "
        f"(one standard error, sqrt((2 d_k^2 + 6 d_k) / n){' / d_k' if scale else ''}, is {se:.3g}). {hint or VARIANCE}"
    )


def check_same_generator(dot_product_variance: Callable, *, d_k: int, n: int, seed: int) -> None:
    """The draws come from ``generator``: two generators seeded alike give the same number
    whatever torch's global generator holds, a generator seeded otherwise another number; with
    ``generator=None`` they come from torch's global generator (its seed decides the number)."""
    results = []
    cases = ((seed, 1), (seed, 2), (seed + 1, 1), (None, seed), (None, seed), (None, seed + 1))
    for gen_seed, global_seed in cases:
        given = "" if gen_seed is None else f", generator=torch.Generator().manual_seed({gen_seed})"
        desc = f"dot_product_variance({d_k}, n={n}{given}) after torch.manual_seed({global_seed})"
        run_beside(dot_product_variance, torch.manual_seed, global_seed)
        generator = (
            {} if gen_seed is None else {"generator": _seeded(dot_product_variance, gen_seed)}
        )
        got = from_scratch(
            dot_product_variance, d_k, n=n, **generator, desc=desc, hint=VARIANCE_GENERATOR
        )
        check_float(got, desc)
        results.append(got)
    same, again, other, by_global, by_global_again, other_global = results
    call = f"dot_product_variance({d_k}, n={n}"
    assert same == again, (
        f"{call}) returned {same!r} and then {again!r} for two generators both seeded {seed} (torch's global generator seeded 1, then 2): "
        f"the same seeded generator must give the same number. {VARIANCE_GENERATOR}"
    )
    assert same != other, (
        f"{call}) returned {same!r} for a generator seeded {seed} and for one seeded {seed + 1}: "
        f"the draws must come from the generator it is given. {VARIANCE_GENERATOR}"
    )
    assert by_global == by_global_again and by_global != other_global, (
        f"{call}) without a generator returned {by_global!r} and {by_global_again!r} after torch.manual_seed({seed}) twice, and {other_global!r} after torch.manual_seed({seed + 1}): "
        f"with generator=None the draws come from torch's global generator, so its seed alone decides the number. {VARIANCE_GENERATOR}"
    )


def _run_entropy(weight_entropy: Callable, scores: torch.Tensor, mask: Any, desc: str) -> float:
    with referees(weight_entropy, masked_softmax=_referee_softmax):
        got = from_scratch_unchanged(
            weight_entropy, scores, mask, names=("scores", "mask"), desc=desc, hint=ENTROPY
        )
    check_float(got, desc)
    return got


def _diagnose_entropy(got: float, expected: float, L: int, ignored_mask: float | None) -> str:
    if math.isnan(got):
        return ENTROPY_ZERO_LOG
    close = lambda value: abs(got - value) <= ENTROPY_TOL * (1 + abs(value))  # noqa: E731
    if ignored_mask is not None and close(ignored_mask) and not close(expected):
        return ENTROPY_MASK
    if close(expected / math.log(2)) or close(expected / math.log(10)):
        return ENTROPY_NATS
    if close(expected / L):
        return ENTROPY_SUM_KEYS
    return ENTROPY


def _assert_entropy(got: float, expected: float, desc: str, why: str, hint: str) -> None:
    assert abs(got - expected) <= ENTROPY_TOL * (1 + abs(expected)), (
        f"{desc} returned {got:.8g}; {why} {expected:.8g} (to {ENTROPY_TOL:g}). {hint}"
    )


def check_weight_entropy_by_hand(
    weight_entropy: Callable, *, shape: tuple, seed: int, masked: bool = True
) -> None:
    """Rows whose allowed keys share one score: uniform weights over the k allowed keys, entropy
    ln k (0 for a fully masked row); the masked keys share it too, so ignoring the mask gives ln L."""
    gen = torch.Generator().manual_seed(seed)
    *lead, L = shape
    rows = math.prod(lead)
    scores = (3 * torch.randn(*lead, 1, generator=gen, dtype=torch.float64)).expand(shape).clone()
    if masked:
        kept = torch.randint(0, L + 1, (rows,), generator=gen)
        kept[0], kept[-1] = 0, 1  # a fully masked row and a row with one key
        if rows > 2:
            kept[1] = L
        order = torch.rand(rows, L, generator=gen).argsort(dim=-1)
        mask = (order < kept[:, None]).reshape(shape)
    else:
        kept, mask = torch.full((rows,), L), None
    expected = sum(math.log(k) for k in kept.tolist() if k > 0) / rows
    desc = f"weight_entropy(scores {tuple(shape)} equal within each row, {'a mask leaving ' + str(kept.tolist()) + ' keys in the rows' if masked else 'mask=None'})"
    got = _run_entropy(weight_entropy, scores, mask, desc)
    hint = _diagnose_entropy(got, expected, L, math.log(L) if masked else None)
    _assert_entropy(
        got,
        expected,
        desc,
        f"a row whose k allowed keys share one score has weights 1/k on them and entropy ln k (0 for a fully masked row), so the mean over its {rows} rows is",
        hint,
    )


def check_weight_entropy(
    weight_entropy: Callable, *, shape: tuple, seed: int, oracle: Callable, masked: bool = True
) -> None:
    """Random scores (and a mask with a fully masked row), against ``oracle(scores, mask)``."""
    gen = torch.Generator().manual_seed(seed)
    scores = 2 * torch.randn(*shape, generator=gen, dtype=torch.float64)
    mask = None
    if masked:
        mask = torch.rand(*shape, generator=gen) < 0.6
        mask.reshape(-1, shape[-1])[0] = False  # one fully masked row
    desc = f"weight_entropy(scores {tuple(shape)}, {'a mask ' + str(tuple(shape)) + ' with a fully masked row' if masked else 'mask=None'})"
    got = _run_entropy(weight_entropy, scores, mask, desc)
    expected = oracle(scores, mask)
    hint = _diagnose_entropy(got, expected, shape[-1], oracle(scores, None) if masked else None)
    _assert_entropy(
        got,
        expected,
        desc,
        "the mean over the rows of -sum_j a_j ln a_j, computed row by row in float64, is",
        hint,
    )
