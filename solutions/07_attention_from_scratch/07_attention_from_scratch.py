# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [raw]
# # ASSIGNMENT CONFIG
# name: 07_attention_from_scratch
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
# # Assignment 07: attention from scratch
#
# The lecture introduced attention in two steps. First as a fix for the encoder–decoder's single
# context vector (Bahdanau et al., 2015): at decoder step $t$,
#
# $$e_{t,i} = f_{\text{att}}(s_{t-1}, h_i), \qquad a_{t,i} = \frac{\exp e_{t,i}}{\sum_j \exp e_{t,j}},
# \qquad c_t = \sum_i a_{t,i} h_i, \qquad s_t = g(U_{sc} c_t + U_{sy} y_{t-1} + U_{ss} s_{t-1}).$$
#
# Then as **self-attention**, $\operatorname{softmax}(Q K^\top / \sqrt{d_k})\, V$, where the
# queries ask "what am I looking for?", the keys "what do I contain?", the values "what
# information should I provide?", and the scaling "prevents extremely small gradients for large
# dimensions". You build every piece yourself and prove it equal to PyTorch's.
#
# | Part | You implement | Points |
# |---|---|---|
# | q1 | a numerically stable softmax with a mask: `masked_softmax` | 3 |
# | q2 | one attention step of a decoder: `dot_scores`, `additive_scores`, `attention_context`, `decoder_step` | 4 |
# | q3 | scaled dot-product attention with padding and causal masks: `scaled_dot_product_attention` | 4 |
# | q4 | multi-head attention: `multi_head_attention` | 4 |
#
# **What is forbidden, where.** Inside every function you write, these are **forbidden**:
# `torch.softmax`, `torch.nn.functional.softmax` and `Tensor.softmax` (you write the softmax in
# q1 and use your own `masked_softmax` afterwards), `torch.nn.functional.scaled_dot_product_attention`,
# `torch.nn.MultiheadAttention` and `torch.nn.functional.multi_head_attention_forward`. The tests
# run your functions with those names disabled and compare your results, in float64, with
# `F.scaled_dot_product_attention` and with `nn.MultiheadAttention` holding the same weights.
# Hidden tests use other shapes, masks and seeds. A question that builds on an earlier one is
# graded with a correct version of the earlier function, so one mistake costs one question.

# %%
import math

import matplotlib.pyplot as plt
import torch
from torch import nn

from shared.plotting import attention_map

rng_seed = 0

# %% [markdown]
# ## 1. Softmax with a mask
#
# $\operatorname{softmax}(x)_i = e^{x_i} / \sum_j e^{x_j}$ overflows for large $x$ (`exp(1000)` is
# `inf`). Subtracting the maximum first changes nothing mathematically and keeps every exponent
# $\le 0$. A **mask** says which positions may take part: masked positions must get exactly zero
# weight, which is what setting their score to $-\infty$ before the softmax does. If **every**
# position of a row is masked, the formula gives $0/0$ = NaN; here such a row gets **all-zero
# weights** (no NaN), by convention.

# %% [raw]
# # BEGIN QUESTION
# name: q1
# points: 3

# %% [markdown]
# **Question 1 (3 points).** `masked_softmax(scores, mask=None, dim=-1)`: the softmax of the
# float tensor `scores` along `dim`. `mask` is `None` or a boolean tensor broadcastable to
# `scores.shape`, **True where a position takes part** (PyTorch's convention for
# `F.scaled_dot_product_attention`), False where it is masked. Return a tensor of `scores`'
# shape: masked positions exactly 0, each row along `dim` summing to 1, a fully masked row all
# zeros, never NaN, also for scores of $\pm 10^4$. The tests compare with `F.softmax` in float64.

# %% [raw]
# # BEGIN SOLUTION

# %%
def masked_softmax(scores, mask=None, dim=-1):
    """Softmax of `scores` along `dim`; positions where `mask` is False get 0; a fully masked row is all 0."""
    # BEGIN SOLUTION
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    top = scores.amax(dim=dim, keepdim=True)
    top = torch.where(torch.isfinite(top), top, torch.zeros_like(top))  # a fully masked row is all -inf
    e = torch.exp(scores - top)
    total = e.sum(dim=dim, keepdim=True)
    return e / torch.where(total > 0, total, torch.ones_like(total))
    # END SOLUTION


# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_softmax_public(masked_softmax):
    from shared.testing.attention_from_scratch import check_masked_softmax

    check_masked_softmax(masked_softmax, shape=(3, 5), dim=-1, seed=0)
    check_masked_softmax(masked_softmax, shape=(2, 4, 6), dim=-1, masked=True, seed=1)
    check_masked_softmax(masked_softmax, shape=(4, 3), dim=0, masked=True, seed=2)

# %%
""" # BEGIN TEST CONFIG
hidden: true
""" # END TEST CONFIG
def test_softmax_hidden(masked_softmax):
    from shared.testing.attention_from_scratch import check_masked_softmax

    check_masked_softmax(masked_softmax, shape=(7,), dim=0, seed=10)
    check_masked_softmax(masked_softmax, shape=(2, 3, 5, 4), dim=-1, masked=True, seed=11)
    check_masked_softmax(masked_softmax, shape=(5, 2, 6), dim=1, masked=True, seed=12)
    check_masked_softmax(masked_softmax, shape=(3, 9), dim=-1, masked=True, broadcast=True, seed=13)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [markdown]
# ## 2. One decoder step with attention
#
# Batched, with `B` sequences, `L` source positions, encoder states `h` of shape `(B, L, d_h)`
# and the previous decoder state `s` of shape `(B, d_s)`:
#
# 1. **scores** `(B, L)`: the dot product $e_i = s^\top h_i$ (needs $d_s = d_h$), or the
#    **additive** score $e_i = v^\top \tanh(W s + U h_i)$ with `W` `(d_a, d_s)`, `U` `(d_a, d_h)`,
#    `v` `(d_a,)`;
# 2. **weights** `(B, L)`: $a = \operatorname{softmax}(e)$ over the source positions (masked
#    positions 0);
# 3. **context** `(B, d_h)`: $c = \sum_i a_i h_i$;
# 4. **new state** `(B, d_s)`: $s_t = \tanh(U_{sc} c + U_{sy} y_{t-1} + U_{ss} s_{t-1})$, with
#    `U_sc` `(d_s, d_h)`, `U_sy` `(d_s, d_y)`, `U_ss` `(d_s, d_s)`, `y_prev` `(B, d_y)` (for row
#    vectors: `c @ U_sc.T + ...`).
#
# **By hand.** $s = (1, 0)$ and $h_1 = (1, 0)$, $h_2 = (0, 1)$, $h_3 = (1, 1)$: the dot scores
# are $e = (1, 0, 1)$, the weights $a = (e, 1, e)/(2e + 1) \approx (0.4223, 0.1554, 0.4223)$
# (here $e \approx 2.718$), and the context $c = a_1 h_1 + a_2 h_2 + a_3 h_3 \approx
# (0.8446, 0.5777)$. With $W = U = I$ and $v = (1, 1)$ the additive scores are
# $\tanh 2 + \tanh 0 \approx 0.9640$, $2 \tanh 1 \approx 1.5232$ and $\tanh 2 + \tanh 1
# \approx 1.7256$. The tests check both cases.

# %% [raw]
# # BEGIN QUESTION
# name: q2
# points: 4

# %% [markdown]
# **Question 2 (4 points).**
#
# * `dot_scores(s, h)`: `(B, d)`, `(B, L, d)` → `(B, L)`.
# * `additive_scores(s, h, W, U, v)`: → `(B, L)`.
# * `attention_context(weights, h)`: `(B, L)`, `(B, L, d_h)` → `(B, d_h)`.
# * `decoder_step(s_prev, y_prev, h, U_sc, U_sy, U_ss, score_fn, mask=None)`: the four steps,
#   with `score_fn(s_prev, h)` giving the scores (one of the two above, or any function of that
#   signature) and `mask` `(B, L)` (True = take part) passed to your `masked_softmax`; returns
#   `(s_t, weights, context)`.
#
# The tests check the hand-worked case, compare with `F.scaled_dot_product_attention` (the
# context) and with an `nn.RNNCell` without bias holding `[U_sc | U_sy]` and `U_ss` (the state),
# in float64.

# %% [raw]
# # BEGIN SOLUTION

# %%
def dot_scores(s, h):
    """e[b, i] = s[b] . h[b, i]: (B, d), (B, L, d) -> (B, L)."""
    # BEGIN SOLUTION
    return (h @ s.unsqueeze(-1)).squeeze(-1)
    # END SOLUTION


def additive_scores(s, h, W, U, v):
    """e[b, i] = v . tanh(W s[b] + U h[b, i]): (B, d_s), (B, L, d_h) -> (B, L)."""
    # BEGIN SOLUTION
    return torch.tanh((s @ W.T).unsqueeze(1) + h @ U.T) @ v
    # END SOLUTION


def attention_context(weights, h):
    """c[b] = sum_i weights[b, i] h[b, i]: (B, L), (B, L, d_h) -> (B, d_h)."""
    # BEGIN SOLUTION
    return (weights.unsqueeze(-1) * h).sum(dim=1)
    # END SOLUTION


def decoder_step(s_prev, y_prev, h, U_sc, U_sy, U_ss, score_fn, mask=None):
    """One attention step: scores, weights, context, new state; returns (s_t, weights, context)."""
    # BEGIN SOLUTION
    scores = score_fn(s_prev, h)
    weights = masked_softmax(scores, mask, dim=-1)
    context = attention_context(weights, h)
    s_t = torch.tanh(context @ U_sc.T + y_prev @ U_sy.T + s_prev @ U_ss.T)
    return s_t, weights, context
    # END SOLUTION


# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_decoder_public(dot_scores, additive_scores, attention_context, decoder_step):
    from shared.testing.attention_from_scratch import check_additive, check_by_hand, check_context, check_decoder_step, check_dot

    check_by_hand(dot_scores, additive_scores, attention_context)
    check_dot(dot_scores, B=3, L=4, d=5, seed=0)
    check_additive(additive_scores, B=2, L=3, d_s=4, d_h=5, d_a=6, seed=1)
    check_context(attention_context, B=3, L=4, d_h=2, seed=2)
    check_decoder_step(decoder_step, B=3, L=5, d=4, d_y=3, seed=3)

# %%
""" # BEGIN TEST CONFIG
hidden: true
""" # END TEST CONFIG
def test_decoder_hidden(dot_scores, additive_scores, attention_context, decoder_step):
    from grader_only.oracles import additive_scores_oracle
    from shared.testing.attention_from_scratch import check_additive, check_context, check_decoder_step, check_dot

    check_dot(dot_scores, B=1, L=7, d=3, seed=20)
    check_dot(dot_scores, B=5, L=2, d=8, seed=21)
    check_additive(additive_scores, B=4, L=6, d_s=3, d_h=2, d_a=5, seed=22, oracle=additive_scores_oracle)
    check_additive(additive_scores, B=1, L=2, d_s=7, d_h=7, d_a=1, seed=23, oracle=additive_scores_oracle)
    check_context(attention_context, B=5, L=3, d_h=6, seed=24)
    check_decoder_step(decoder_step, B=4, L=6, d=5, d_y=2, masked=True, seed=25)
    check_decoder_step(decoder_step, B=2, L=3, d=2, d_y=6, seed=26)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [markdown]
# ## 3. Scaled dot-product attention
#
# For queries `q` `(..., L_q, d_k)`, keys `k` `(..., L_k, d_k)` and values `v` `(..., L_k, d_v)`
# (any number of leading batch dimensions, e.g. `(B, heads, L, d)`):
#
# $$\text{weights} = \operatorname{softmax}\Big(\frac{q k^\top}{\sqrt{d_k}}\Big) \in \mathbb{R}^{L_q \times L_k},
# \qquad \text{out} = \text{weights}\; v.$$
#
# The softmax runs over the **keys** (the last axis): each query distributes one unit of
# attention over the keys. Two masks decide which keys a query may see: a **padding** mask (bool,
# broadcastable to `(..., L_q, L_k)`, True = take part) and a **causal** mask, under which query
# $i$ sees keys $j \le i$ only (itself included: PyTorch's `is_causal=True`, a lower-triangular
# mask). Both apply **before** the softmax, through your `masked_softmax`; a query that sees no
# key gets zero weights and a zero output.

# %% [raw]
# # BEGIN QUESTION
# name: q3
# points: 4

# %% [markdown]
# **Question 3 (4 points).** `scaled_dot_product_attention(q, k, v, mask=None, causal=False)`
# returns `(out, weights)`, `out` `(..., L_q, d_v)` and `weights` `(..., L_q, L_k)`. The tests
# compare with `F.scaled_dot_product_attention` in float64 over random shapes (2-D to 4-D) and
# masks, and check the properties: weights non-negative with rows summing to one, permuting the
# keys and values together changes nothing, and under the causal mask the gradient of output
# $t$ with respect to every input after $t$ is exactly zero.

# %% [raw]
# # BEGIN SOLUTION

# %%
def scaled_dot_product_attention(q, k, v, mask=None, causal=False):
    """softmax(q k^T / sqrt(d_k)) v over the keys, with a padding mask (True = take part) and a causal mask."""
    # BEGIN SOLUTION
    d_k = q.shape[-1]
    scores = q @ k.transpose(-2, -1) / math.sqrt(d_k)
    allowed = torch.ones(scores.shape, dtype=torch.bool, device=scores.device)
    if mask is not None:
        allowed = allowed & mask
    if causal:
        L_q, L_k = scores.shape[-2], scores.shape[-1]
        allowed = allowed & torch.ones(L_q, L_k, dtype=torch.bool, device=scores.device).tril()
    weights = masked_softmax(scores, allowed, dim=-1)
    return weights @ v, weights
    # END SOLUTION


# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_sdpa_public(scaled_dot_product_attention):
    from shared.testing.attention_from_scratch import check_causal_gradients, check_permutation, check_sdpa

    check_sdpa(scaled_dot_product_attention, batch=(2,), L_q=3, L_k=4, d_k=5, d_v=2, seed=0)
    check_sdpa(scaled_dot_product_attention, batch=(2, 3), L_q=4, L_k=4, d_k=8, d_v=3, causal=True, seed=1)
    check_sdpa(scaled_dot_product_attention, batch=(3,), L_q=2, L_k=5, d_k=4, d_v=4, masked=True, seed=2)
    check_permutation(scaled_dot_product_attention, L=5, d=4, seed=3)
    check_causal_gradients(scaled_dot_product_attention, L=5, d=3, seed=4)

# %%
""" # BEGIN TEST CONFIG
hidden: true
""" # END TEST CONFIG
def test_sdpa_hidden(scaled_dot_product_attention):
    from shared.testing.attention_from_scratch import check_causal_gradients, check_permutation, check_sdpa

    check_sdpa(scaled_dot_product_attention, batch=(), L_q=6, L_k=3, d_k=2, d_v=5, seed=30)
    check_sdpa(scaled_dot_product_attention, batch=(2, 2), L_q=5, L_k=7, d_k=16, d_v=3, masked=True, seed=31)
    check_sdpa(scaled_dot_product_attention, batch=(4,), L_q=6, L_k=6, d_k=3, d_v=2, causal=True, masked=True, seed=32)
    check_sdpa(scaled_dot_product_attention, batch=(1, 3), L_q=1, L_k=9, d_k=64, d_v=4, masked=True, seed=33)
    check_permutation(scaled_dot_product_attention, L=8, d=6, seed=34)
    check_causal_gradients(scaled_dot_product_attention, L=7, d=5, seed=35)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [markdown]
# ### Why $\sqrt{d_k}$, measured
#
# For random queries and keys with independent unit-variance entries, $q \cdot k$ is a sum of
# $d_k$ products of variance 1: its variance is $d_k$. Unscaled, the scores spread further apart
# as $d_k$ grows, the softmax saturates (one weight near 1, the rest near 0: the entropy of the
# weights falls towards 0) and its Jacobian $\operatorname{diag}(a) - a a^\top$ vanishes, so no
# gradient flows back through the scores. Dividing by $\sqrt{d_k}$ keeps the variance at 1. The
# demonstration below (not graded) uses your attention; relate the curves to that argument.

# %% tags=["otter_ignore"]
def saturation(d_k, scale, L=32, n=256, seed=0):
    """Mean entropy of the weights and mean norm of the score gradient, for random q, k."""
    gen = torch.Generator().manual_seed(seed)
    q = torch.randn(n, 1, d_k, generator=gen, dtype=torch.float64)
    k = torch.randn(n, L, d_k, generator=gen, dtype=torch.float64)
    v = torch.randn(n, L, 1, generator=gen, dtype=torch.float64)
    q = (q * math.sqrt(d_k) if not scale else q).requires_grad_()  # cancel the 1/sqrt(d_k) when unscaled
    out, w = scaled_dot_product_attention(q, k, v)
    out.sum().backward()
    entropy = -(w * torch.log(w.clamp_min(1e-300))).sum(-1).mean().item()
    return (q.var().item(), entropy, q.grad.norm(dim=-1).mean().item())


dims = [2, 8, 32, 128, 512]
fig, axes = plt.subplots(1, 2, figsize=(11, 3.5))
for scale in (True, False):
    stats = [saturation(d, scale, seed=rng_seed) for d in dims]
    label = "q k^T / sqrt(d_k)" if scale else "q k^T (no scaling)"
    axes[0].semilogx(dims, [s[1] for s in stats], "o-", label=label)
    axes[1].loglog(dims, [s[2] for s in stats], "o-", label=label)
axes[0].axhline(math.log(32), color="k", ls="--", lw=0.8, label="uniform (ln 32)")
axes[0].set(xlabel="d_k", ylabel="entropy of the weights")
axes[1].set(xlabel="d_k", ylabel="mean gradient norm")
axes[0].legend()
plt.show()
gen = torch.Generator().manual_seed(rng_seed)
for d in dims:
    products = (torch.randn(10000, d, generator=gen) * torch.randn(10000, d, generator=gen)).sum(-1)
    print(f"d_k = {d:4d}: variance of q.k = {products.var().item():8.1f}")

# %% [markdown]
# ## 4. Multi-head attention
#
# `nn.MultiheadAttention(E, H)` projects queries, keys and values with one stacked matrix
# `in_proj_weight` `(3E, E)` (rows `0:E` for the queries, `E:2E` the keys, `2E:3E` the values)
# and `in_proj_bias` `(3E,)`, splits each projection into `H` heads of `d = E / H` features (head
# `j` takes features `j d : (j+1) d` of every position), runs scaled dot-product attention per
# head, concatenates the heads' outputs back to `E` features and applies the output projection
# `out_proj_weight` `(E, E)`, `out_proj_bias` `(E,)`.
#
# Its conventions differ from question 3's: a **key padding mask** `(B, L_k)` is **True where a
# key is padding** (to ignore), and a boolean `attn_mask` `(L_q, L_k)` is **True where attention
# is not allowed**. Inputs are `(L, B, E)` unless `batch_first=True` (`(B, L, E)`); the weights are
# always batch first: averaged over the heads `(B, L_q, L_k)` when `average_attn_weights=True`,
# per head `(B, H, L_q, L_k)` otherwise.

# %% [raw]
# # BEGIN QUESTION
# name: q4
# points: 4

# %% [markdown]
# **Question 4 (4 points).** `multi_head_attention(query, key, value, in_proj_weight,
# in_proj_bias, out_proj_weight, out_proj_bias, num_heads, key_padding_mask=None,
# attn_mask=None, batch_first=False, average_attn_weights=True)` returns `(out, weights)` as
# `nn.MultiheadAttention(E, num_heads, batch_first=batch_first)` holding these weights returns
# them from `mha(query, key, value, key_padding_mask=..., attn_mask=..., need_weights=True,
# average_attn_weights=...)`. Use your `scaled_dot_product_attention`. The tests copy the weights
# of random `nn.MultiheadAttention` modules and compare, in float64, both layouts, with and
# without masks, averaged and per-head weights.

# %% [raw]
# # BEGIN SOLUTION

# %%
def multi_head_attention(query, key, value, in_proj_weight, in_proj_bias, out_proj_weight, out_proj_bias, num_heads,
                         key_padding_mask=None, attn_mask=None, batch_first=False, average_attn_weights=True):
    """nn.MultiheadAttention's forward from scratch; returns (out, weights)."""
    # BEGIN SOLUTION
    if not batch_first:
        query, key, value = query.transpose(0, 1), key.transpose(0, 1), value.transpose(0, 1)
    B, L_q, E = query.shape
    d = E // num_heads
    w_q, w_k, w_v = in_proj_weight.chunk(3)
    b_q, b_k, b_v = in_proj_bias.chunk(3)

    def heads(x, w, b):  # (B, L, E) -> (B, num_heads, L, d)
        return (x @ w.T + b).view(B, x.shape[1], num_heads, d).transpose(1, 2)

    q, k, v = heads(query, w_q, b_q), heads(key, w_k, b_k), heads(value, w_v, b_v)
    allowed = torch.ones(B, 1, L_q, k.shape[2], dtype=torch.bool, device=query.device)
    if key_padding_mask is not None:
        allowed = allowed & ~key_padding_mask[:, None, None, :]
    if attn_mask is not None:
        allowed = allowed & ~attn_mask
    out, weights = scaled_dot_product_attention(q, k, v, mask=allowed)
    out = out.transpose(1, 2).reshape(B, L_q, E)
    out = out @ out_proj_weight.T + out_proj_bias
    if not batch_first:
        out = out.transpose(0, 1)
    return out, (weights.mean(dim=1) if average_attn_weights else weights)
    # END SOLUTION


# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_mha_public(multi_head_attention):
    from shared.testing.attention_from_scratch import check_mha

    check_mha(multi_head_attention, E=8, heads=2, B=3, L_q=4, L_k=4, batch_first=True, seed=0)
    check_mha(multi_head_attention, E=6, heads=3, B=2, L_q=3, L_k=5, batch_first=False, padding=True, average=False, seed=1)
    check_mha(multi_head_attention, E=4, heads=2, B=2, L_q=5, L_k=5, batch_first=True, causal=True, average=False, seed=2)

# %%
""" # BEGIN TEST CONFIG
hidden: true
""" # END TEST CONFIG
def test_mha_hidden(multi_head_attention):
    from shared.testing.attention_from_scratch import check_mha

    check_mha(multi_head_attention, E=12, heads=4, B=2, L_q=6, L_k=3, batch_first=False, padding=True, seed=40)
    check_mha(multi_head_attention, E=6, heads=1, B=4, L_q=2, L_k=7, batch_first=True, padding=True, average=False, seed=41)
    check_mha(multi_head_attention, E=16, heads=8, B=1, L_q=6, L_k=6, batch_first=False, causal=True, padding=True, average=False, seed=42)
    check_mha(multi_head_attention, E=10, heads=5, B=3, L_q=4, L_k=4, batch_first=True, causal=True, seed=43)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [markdown]
# Attention weights are read for interpretability: one random self-attention layer's per-head
# weights on a short sequence under the causal mask (nothing above the diagonal).

# %% tags=["otter_ignore"]
torch.manual_seed(rng_seed)
demo = nn.MultiheadAttention(8, 2, batch_first=True)
x_demo = torch.randn(1, 6, 8)
_, w_demo = multi_head_attention(x_demo, x_demo, x_demo, demo.in_proj_weight.detach(), demo.in_proj_bias.detach(),
                                 demo.out_proj.weight.detach(), demo.out_proj.bias.detach(), 2, batch_first=True,
                                 attn_mask=torch.ones(6, 6, dtype=torch.bool).triu(1), average_attn_weights=False)
fig, axes = plt.subplots(1, 2, figsize=(10, 4))
for head in range(2):
    attention_map(w_demo[0, head], ax=axes[head], title=f"head {head}")
plt.show()

# %% [markdown]
# ## Wrapping up
#
# You wrote the softmax, the four steps of an attention decoder, scaled dot-product attention
# with its masks and multi-head attention, and proved each equal to PyTorch's. Before you
# submit, run the whole notebook from the top (*Kernel → Restart & Run All*) and make sure every
# `grader.check` passes.
