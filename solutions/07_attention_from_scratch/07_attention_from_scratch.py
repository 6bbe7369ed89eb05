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
# | q5 | a GRU encoder–decoder with additive attention and greedy decoding: `Seq2Seq`, `greedy_decode` | 4 |
# | q6 | what it learns, with and without attention: `exact_match`, `alignment_share`, three numbers | 3 |
# | q7 | why the scores are divided by $\sqrt{d_k}$, measured: `dot_product_variance`, `weight_entropy` | 2 |
#
# **What is forbidden, where.** Inside every function you write, these are **forbidden**:
# `torch.softmax`, `torch.nn.functional.softmax` and `Tensor.softmax` (you write the softmax in
# q1 and use your own `masked_softmax` afterwards), `torch.nn.functional.scaled_dot_product_attention`,
# `torch.nn.MultiheadAttention` and `torch.nn.functional.multi_head_attention_forward`. The tests
# run your functions with those names disabled and compare your results, in float64, with
# `F.scaled_dot_product_attention` and with `nn.MultiheadAttention` holding the same weights.
# Hidden tests use other shapes, masks and seeds. Every mask in this assignment is a **bool**
# tensor, and no function you write may change its arguments in place (no `masked_fill_`, `+=`
# or `x[...] = ...` on an argument): the tests check that the tensors they pass are unchanged.
#
# **One mistake costs one question.** A function of a later question is checked with correct
# stand-ins for the earlier functions it calls. The claims about the models trained in the
# notebook (question 6) are judged only when the functions they were trained with (questions 1,
# 2 and 5) pass their own questions; otherwise those claims say "not judged" and keep their
# points, and are checked once you fix the earlier question.

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
    check_decoder_step(decoder_step, B=2, L=4, d=3, d_y=2, masked=True, seed=4)

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
# mask). With $L_q \ne L_k$ the rule stays the same, query $i$ sees keys $0, \dots, i$: the
# triangle starts at the top-left corner, as it does for `is_causal=True`. Both masks apply
# **before** the softmax, through your `masked_softmax`; a query that sees no key gets zero
# weights and a zero output.

# %% [raw]
# # BEGIN QUESTION
# name: q3
# points: 4

# %% [markdown]
# **Question 3 (4 points).** `scaled_dot_product_attention(q, k, v, mask=None, causal=False)`
# returns `(out, weights)`, `out` `(..., L_q, d_v)` and `weights` `(..., L_q, L_k)`. The tests
# compare with `F.scaled_dot_product_attention` in float64 over random shapes (2-D to 4-D, with
# $L_q \ne L_k$ also under the causal mask) and masks (key padding masks and masks with one
# value per query and key, some leaving a query no key at all), and check the properties:
# weights non-negative with rows summing to one (zero for a query that sees no key), permuting
# the keys and values together changes nothing, and under the causal mask the gradient of
# output $t$ with respect to every input after $t$ is exactly zero.

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
    check_sdpa(scaled_dot_product_attention, batch=(2,), L_q=3, L_k=6, d_k=4, d_v=3, causal=True, masked="pairs", seed=5)
    check_sdpa(scaled_dot_product_attention, batch=(2,), L_q=4, L_k=3, d_k=2, d_v=2, masked="pairs_empty", seed=6)
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
    check_sdpa(scaled_dot_product_attention, batch=(3,), L_q=6, L_k=4, d_k=5, d_v=2, causal=True, seed=36)
    check_sdpa(scaled_dot_product_attention, batch=(2, 1), L_q=4, L_k=5, d_k=3, d_v=3, masked="pairs_empty", seed=37)
    check_permutation(scaled_dot_product_attention, L=8, d=6, seed=34)
    check_causal_gradients(scaled_dot_product_attention, L=7, d=5, seed=35)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

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
# is not allowed**; it may be any such mask, not only the causal one. Inputs are `(L, B, E)`
# unless `batch_first=True` (`(B, L, E)`); the weights are always batch first: averaged over
# the heads `(B, L_q, L_k)` when `average_attn_weights=True`, per head `(B, H, L_q, L_k)`
# otherwise.

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
# without masks (causal and arbitrary `attn_mask`s), averaged and per-head weights.

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
    check_mha(multi_head_attention, E=8, heads=2, B=2, L_q=4, L_k=5, batch_first=True, attn=True, average=False, seed=3)

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
    check_mha(multi_head_attention, E=6, heads=3, B=3, L_q=5, L_k=6, batch_first=False, attn=True, padding=True, seed=44)

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
# ## 5. Attention that learns an alignment
#
# The lecture's picture of attention is the alignment matrix of Bahdanau et al.'s Figure 2(a):
# for each output word, where the decoder looked in the input. A task whose correct alignment
# is known makes that picture testable: **reversing a sequence of digits** (`3 1 4 1 5` →
# `5 1 4 1 3`), where target step $t$ must copy source position $S - 1 - t$.
# `shared.seq2seq.reversal_pairs(n, length, seed=...)` draws such pairs (`src`, `tgt`, and
# `aligned`, the source position each target step should attend to) with the token ids of
# `digit_vocab()` (`<pad>` = 0, `<bos>` = 1, `<eos>` = 2, the digits 3–12), and
# `teacher_forcing(tgt)` gives the decoder's inputs (`<bos>`, then the target shifted right).
#
# The model is the lecture's encoder–decoder with additive attention, small:
#
# * an embedding `nn.Embedding(vocab_size, H)` shared by source and target tokens;
# * the **encoder**, a bidirectional GRU over the embedded source: states $h_i$ of size $2H$
#   (the forward and backward states of position $i$ concatenated; a bidirectional encoder lets
#   $h_i$ describe position $i$ itself, which is what the alignment needs);
# * the **decoder**, an `nn.GRUCell(3H, H)` started from $s_0 = 0$; at step $t$: scores
#   $e_{t,i} = v^\top \tanh(W s_{t-1} + U h_i)$ (`W` $H \times H$, `U` $H \times 2H$, `v` of size
#   $H$, no biases), weights $a_t$ = your `masked_softmax` of the scores over the source positions,
#   context $c_t = \sum_i a_{t,i} h_i$ (your `attention_context`), new state
#   $s_t = \text{GRUCell}([\text{embed}(y_{t-1}), c_t], s_{t-1})$ and logits
#   $\text{Linear}(3H, \text{vocab\_size})([s_t, c_t])$;
# * **without attention** (`attention=False`) the context is the same at every step: the
#   encoder's single summary, the forward GRU's last state concatenated with the backward GRU's
#   last state (the one it reaches at position 0), as in the encoder–decoder before attention.
#
# **Greedy decoding** starts from `<bos>` and feeds back, at every step, the token with the
# largest logit at the previous step; here the number of steps is given (reversal keeps the
# length), so it does not need `<eos>`.

# %% [raw]
# # BEGIN QUESTION
# name: q5
# points: 4

# %% [markdown]
# **Question 5 (4 points).**
#
# * `Seq2Seq(vocab_size, hidden_size, attention=True)`, an `nn.Module` as described above, whose
#   `forward(src, tgt_in)` takes source ids `(B, S)` and decoder input ids `(B, T)` (int64, no
#   padding) and returns `(logits, weights)`: logits `(B, T, vocab_size)`, and the attention
#   weights `(B, T, S)` (row `t` the weights of step `t`), or `None` when `attention=False`.
#   Step `t` reads `tgt_in[:, t]` (teacher forcing), nothing after it.
# * `greedy_decode(model, src, steps, bos_id=1)`: returns `(tokens, weights)`, the `(B, steps)`
#   int64 tokens greedy decoding produces and the `(B, steps, S)` weights of the steps that
#   produced them (`None` for a model without attention), computed without gradients. It must
#   work for any model with `forward`'s contract.
#
# Use your `masked_softmax` for the weights: `torch.softmax`, `F.softmax`, `Tensor.softmax` and
# the library's attention are forbidden in these too (`nn.GRU`, `nn.GRUCell`, `nn.Linear` and
# `nn.Embedding` are allowed). The tests check the contract on small untrained models (shapes,
# weights that sum to one, step `t` reading `tgt_in[:, t]` and nothing later, each sequence of a
# batch computed on its own), that the model is the one described above (one embedding for the
# source and the target tokens; its `nn.GRUCell` starts from $s_0 = 0$ and reads
# $[\text{embed}(y_{t-1}), c_t]$ with $c_t$ the attention context, or the encoder's single
# summary without attention), and greedy decoding on a test model whose greedy output is known.

# %% [raw]
# # BEGIN SOLUTION

# %%
class Seq2Seq(nn.Module):
    """GRU encoder-decoder; additive attention over the encoder states, or one context vector."""

    def __init__(self, vocab_size, hidden_size, attention=True):
        super().__init__()
        self.attention = attention
        # BEGIN SOLUTION
        self.embed = nn.Embedding(vocab_size, hidden_size)
        self.encoder = nn.GRU(hidden_size, hidden_size, batch_first=True, bidirectional=True)
        self.W = nn.Linear(hidden_size, hidden_size, bias=False)
        self.U = nn.Linear(2 * hidden_size, hidden_size, bias=False)
        self.v = nn.Linear(hidden_size, 1, bias=False)
        self.cell = nn.GRUCell(3 * hidden_size, hidden_size)
        self.out = nn.Linear(3 * hidden_size, vocab_size)
        # END SOLUTION

    def forward(self, src, tgt_in):
        # BEGIN SOLUTION
        h, h_n = self.encoder(self.embed(src))  # (B, S, 2H), (2, B, H)
        summary = torch.cat([h_n[0], h_n[1]], dim=-1)  # the single context vector, (B, 2H)
        keys = self.U(h)  # U h_i for every position, computed once
        s = h.new_zeros(src.shape[0], self.cell.hidden_size)
        logits, weights = [], []
        for t in range(tgt_in.shape[1]):
            if self.attention:
                scores = self.v(torch.tanh(self.W(s).unsqueeze(1) + keys)).squeeze(-1)  # (B, S)
                a = masked_softmax(scores, dim=-1)
                c = attention_context(a, h)
                weights.append(a)
            else:
                c = summary
            s = self.cell(torch.cat([self.embed(tgt_in[:, t]), c], dim=-1), s)
            logits.append(self.out(torch.cat([s, c], dim=-1)))
        return torch.stack(logits, dim=1), (torch.stack(weights, dim=1) if self.attention else None)
        # END SOLUTION


def greedy_decode(model, src, steps, bos_id=1):
    """Greedy decoding of `steps` tokens; returns (tokens (B, steps), weights (B, steps, S) or None)."""
    # BEGIN SOLUTION
    tgt_in = torch.full((src.shape[0], 1), bos_id, dtype=torch.long, device=src.device)
    with torch.no_grad():
        for _ in range(steps):
            logits, weights = model(src, tgt_in)
            tgt_in = torch.cat([tgt_in, logits[:, -1].argmax(dim=-1, keepdim=True)], dim=1)
    return tgt_in[:, 1:], weights
    # END SOLUTION


# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_seq2seq_public(Seq2Seq, greedy_decode):
    from shared.testing.attention_from_scratch import check_greedy, check_seq2seq

    check_seq2seq(Seq2Seq, vocab_size=13, hidden_size=4, B=3, S=5, T=4, seed=0)
    check_greedy(greedy_decode, B=3, S=5, steps=4, vocab_size=13, seed=1)

# %%
""" # BEGIN TEST CONFIG
hidden: true
""" # END TEST CONFIG
def test_seq2seq_hidden(Seq2Seq, greedy_decode):
    from shared.testing.attention_from_scratch import check_greedy, check_seq2seq

    check_seq2seq(Seq2Seq, vocab_size=9, hidden_size=6, B=2, S=7, T=6, seed=50)
    check_seq2seq(Seq2Seq, vocab_size=13, hidden_size=3, B=4, S=3, T=5, seed=51)
    check_greedy(greedy_decode, B=2, S=6, steps=7, vocab_size=11, seed=52)
    check_greedy(greedy_decode, B=5, S=3, steps=2, vocab_size=13, seed=53, attention=False)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [markdown]
# **Training** (given, not graded): Adam, 120 steps on batches of 64 fresh reversals of 7 digits,
# cross-entropy of every target step under teacher forcing, hidden size 16, one thread; then the
# same model without attention, trained the same way: the same sequences, the same 120 steps,
# the same seed, so the same batches in the same order. Together about three seconds on one core.
#
# The two runs differ only in attention, so the comparison below is a controlled one: whatever
# separates the two models' scores on the same test pairs is what attention buys at this size
# and budget. (Measured under five seeds: with attention 65-93% of the test sequences come back
# exactly reversed, without it 1-2%, although the model without attention predicts about 62% of
# the target tokens under teacher forcing, against 10% by chance: one context vector of
# $2H = 32$ numbers holds part of a sequence, rarely all of it.)

# %%
from shared.seq2seq import digit_vocab, plot_alignment, reversal_pairs, teacher_forcing

VOCAB = digit_vocab()
HIDDEN_S2S, BATCH_S2S, LR_S2S = 16, 64, 1e-2
SHORT, STEPS = 7, 120  # digits per sequence, training steps: the same for both models


def train_reversal(attention, length, steps):
    torch.manual_seed(rng_seed)
    model = Seq2Seq(len(VOCAB), HIDDEN_S2S, attention=attention)
    optimizer = torch.optim.Adam(model.parameters(), lr=LR_S2S)
    batches = torch.Generator().manual_seed(rng_seed)
    for _ in range(steps):
        pairs = reversal_pairs(BATCH_S2S, length, seed=batches)
        logits, _ = model(pairs.src, teacher_forcing(pairs.tgt))
        loss = nn.functional.cross_entropy(logits.reshape(-1, len(VOCAB)), pairs.tgt.reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return model.eval()


attention_model = train_reversal(True, SHORT, STEPS)
plain_model = train_reversal(False, SHORT, STEPS)
test_short = reversal_pairs(500, SHORT, seed=rng_seed + 1)

# %% [raw]
# # BEGIN QUESTION
# name: q6
# points: 3

# %% [markdown]
# **Question 6 (3 points).**
#
# * `exact_match(pred, tgt)`: the fraction (a Python float, not a tensor) of rows of `pred`
#   `(n, T)` equal to the row of `tgt` at every step.
# * `alignment_share(weights, aligned)`: the fraction (a Python float) of decoder steps whose
#   largest weight falls on the source position the task dictates: `weights` `(n, T, S)`,
#   `aligned` `(n, T)` (as `reversal_pairs` gives it; steps where it is `-1` do not count).
# * With your `greedy_decode`: `attention_exact` and `attention_share`, the attention model's
#   exact match and alignment share on `test_short`, and `plain_exact`, the exact match of the
#   model without attention on the same `test_short`.
#
# The tests check both functions on cases whose answers are known, then the claims: that the
# attention model reverses at least 40% of the sequences exactly with at least 40% of its steps
# aligned, and that the model without attention, on the same sequences, reverses at most 10%
# of them: here and (hidden) on pairs this notebook never draws. They also check that
# `plain_model` is the model the training cell trains (under teacher forcing it predicts far
# more target tokens than chance), and (hidden) that your three numbers are the ones these
# models give. As the introduction says, the claims are judged only when questions 1, 2 and 5
# pass; until then they show "not judged".

# %% [raw]
# # BEGIN SOLUTION

# %%
def exact_match(pred, tgt):
    """Fraction of rows of pred equal to tgt at every step."""
    # BEGIN SOLUTION
    return (pred == tgt).all(dim=1).float().mean().item()
    # END SOLUTION


def alignment_share(weights, aligned):
    """Fraction of decoder steps (aligned >= 0) whose largest weight is on the dictated source position."""
    # BEGIN SOLUTION
    counted = aligned >= 0
    return (weights.argmax(dim=-1) == aligned)[counted].float().mean().item()
    # END SOLUTION


attention_exact = exact_match(greedy_decode(attention_model, test_short.src, SHORT)[0], test_short.tgt)  # SOLUTION
attention_share = alignment_share(greedy_decode(attention_model, test_short.src, SHORT)[1], test_short.aligned)  # SOLUTION
plain_exact = exact_match(greedy_decode(plain_model, test_short.src, SHORT)[0], test_short.tgt)  # SOLUTION

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_alignment_functions_public(exact_match, alignment_share):
    from shared.testing.attention_from_scratch import check_alignment_share, check_exact_match

    check_exact_match(exact_match, n=6, T=4, seed=0)
    check_alignment_share(alignment_share, n=3, T=4, S=5, seed=1)

# %%
def test_alignment_claim_public(env):
    from shared.testing import gate
    from shared.testing import left_as_stub
    from shared.testing.attention_from_scratch import check_alignment_claim, check_trained, trained, upstream_checks

    left_as_stub(env, "attention_exact", "attention_share", "plain_exact")
    skipped = gate(upstream_checks(env, seed=0))
    if skipped is not None:
        return skipped
    _, plain_model, test_short = trained(env, "attention_model", "plain_model", "test_short")
    check_trained(plain_model, test_short, name="plain_model", where="test_short")
    check_alignment_claim(env.get("attention_exact"), env.get("attention_share"), env.get("plain_exact"), where="the test pairs")

# %%
""" # BEGIN TEST CONFIG
hidden: true
""" # END TEST CONFIG
def test_alignment_functions_hidden(exact_match, alignment_share):
    from shared.testing.attention_from_scratch import check_alignment_share, check_exact_match

    check_exact_match(exact_match, n=9, T=7, seed=60)
    check_alignment_share(alignment_share, n=5, T=6, S=4, seed=61, padded=True)

# %%
""" # BEGIN TEST CONFIG
hidden: true
""" # END TEST CONFIG
def test_alignment_claim_hidden(env):
    from grader_only.oracles import heldout_reversals, reversal_scores
    from shared.testing import gate
    from shared.testing import left_as_stub
    from shared.testing.attention_from_scratch import check_alignment_claim, check_numbers, check_trained, trained, upstream_checks

    left_as_stub(env, "attention_exact", "attention_share", "plain_exact")
    skipped = gate(upstream_checks(env, seed=62))
    if skipped is not None:
        return skipped
    attention_model, plain_model, test_short = trained(env, "attention_model", "plain_model", "test_short")
    exact, share = reversal_scores(attention_model, test_short)
    check_numbers({"attention_exact": (env.get("attention_exact"), exact), "attention_share": (env.get("attention_share"), share),
                   "plain_exact": (env.get("plain_exact"), reversal_scores(plain_model, test_short)[0])})
    heldout = heldout_reversals(test_short.src.shape[1])
    check_trained(plain_model, heldout, name="plain_model", where="500 held-out pairs")
    check_alignment_claim(*reversal_scores(attention_model, heldout), reversal_scores(plain_model, heldout)[0], where="500 held-out pairs")

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [markdown]
# The learned alignment of one test pair that the model reverses correctly, beside the one the
# task dictates (the anti-diagonal), as in the lecture's figure.

# %% tags=["otter_ignore"]
print(f"with attention ({SHORT} digits): exact match {attention_exact:.3f}, alignment share {attention_share:.3f}")
print(f"without attention ({SHORT} digits): exact match {plain_exact:.3f}")
all_tokens, all_weights = greedy_decode(attention_model, test_short.src, SHORT)
correct = (all_tokens == test_short.tgt).all(dim=1)
i = int(correct.nonzero()[0]) if correct.any() else 0  # the first pair decoded correctly
plot_alignment(all_weights[i], test_short.aligned[i],
               src_tokens=VOCAB.decode(test_short.src[i].tolist()),
               tgt_tokens=VOCAB.decode(all_tokens[i].tolist()),
               title=f"learned alignment of test pair {i} ({'reversed correctly' if correct[i] else 'decoded wrongly'})")
plt.show()

# %% [markdown]
# ## 6. Why $\sqrt{d_k}$, measured
#
# For random queries and keys with independent unit-variance entries, $q \cdot k$ is a sum of
# $d_k$ products of variance 1: its variance is $d_k$. Unscaled, the scores spread further apart
# as $d_k$ grows and the softmax saturates: one weight near 1, the rest near 0, so the
# **entropy** of the weights, $H(a) = -\sum_j a_j \ln a_j$, falls from $\ln L$ (uniform weights
# over $L$ keys) towards 0, and the softmax's Jacobian $\operatorname{diag}(a) - a a^\top$
# vanishes, so no gradient flows back through the scores. Dividing by $\sqrt{d_k}$ keeps the
# variance at 1. You measure both halves of that argument: the variance of the scores, and the
# entropy of the weights they give.

# %% [raw]
# # BEGIN QUESTION
# name: q7
# points: 2

# %% [markdown]
# **Question 7 (2 points).**
#
# * `dot_product_variance(d_k, n=20000, scale=False, generator=None)`: draw `n` queries and `n`
#   keys of size `d_k`, every entry independent and standard normal, with `torch.randn(...,
#   generator=generator)` (`generator=None`: torch's global generator); take the `n` dot
#   products $q_i \cdot k_i$ of the pairs, each divided by $\sqrt{d_k}$ when `scale=True`, and
#   return their sample variance as a Python float (dividing by $n$ or $n - 1$ both pass).
# * `weight_entropy(scores, mask=None)`: for `scores` `(..., L)` and a `mask` as in question 1,
#   the weights $a$ = your `masked_softmax(scores, mask, dim=-1)`; each row's entropy
#   $H = -\sum_j a_j \ln a_j$ in nats, with $0 \ln 0 = 0$ (a masked key adds nothing, a fully
#   masked row has entropy 0); return the mean of $H$ over every row (all leading dimensions)
#   as a Python float.
#
# The tests check the variance against its known value, $d_k$ (1 when scaled), for $d_k$ from 1
# to 512 and several seeds, within six standard errors of a sample variance of `n` products
# (the failure message states the range); that two generators seeded alike give the same
# number whatever torch's global generator holds, a generator seeded otherwise another, and
# without a generator the number torch's global seed decides; and the entropy of rows whose
# allowed keys share one score (uniform weights: $\ln k$ for $k$ allowed keys) and, hidden, of
# random scores and masks, to $10^{-6}$. The entropy is computed with a correct
# `masked_softmax` in place of yours.

# %% [raw]
# # BEGIN SOLUTION

# %%
def dot_product_variance(d_k, n=20000, scale=False, generator=None):
    """Sample variance of q_i . k_i (/ sqrt(d_k) when scale) over n pairs of standard-normal vectors of size d_k."""
    # BEGIN SOLUTION
    q = torch.randn(n, d_k, generator=generator, dtype=torch.float64)
    k = torch.randn(n, d_k, generator=generator, dtype=torch.float64)
    products = (q * k).sum(dim=-1)
    if scale:
        products = products / math.sqrt(d_k)
    return products.var().item()
    # END SOLUTION


def weight_entropy(scores, mask=None):
    """Mean over the rows of scores (..., L) of H = -sum_j a_j ln a_j, a = masked_softmax(scores, mask) (0 ln 0 = 0)."""
    # BEGIN SOLUTION
    probs = masked_softmax(scores, mask, dim=-1)
    logs = torch.where(probs > 0, probs.log(), torch.zeros_like(probs))
    return -(probs * logs).sum(dim=-1).mean().item()
    # END SOLUTION


# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_sqrt_dk_public(dot_product_variance, weight_entropy):
    from shared.testing.attention_from_scratch import check_dot_product_variance, check_same_generator, check_weight_entropy_by_hand

    check_dot_product_variance(dot_product_variance, d_k=1, scale=False, seed=0)
    check_dot_product_variance(dot_product_variance, d_k=64, n=4000, scale=False, seed=1)
    check_dot_product_variance(dot_product_variance, d_k=4, scale=True, seed=2)
    check_same_generator(dot_product_variance, d_k=8, n=500, seed=3)
    check_weight_entropy_by_hand(weight_entropy, shape=(2, 3, 5), seed=4)
    check_weight_entropy_by_hand(weight_entropy, shape=(4, 6), masked=False, seed=5)

# %%
""" # BEGIN TEST CONFIG
hidden: true
""" # END TEST CONFIG
def test_sqrt_dk_hidden(dot_product_variance, weight_entropy):
    from grader_only.oracles import weight_entropy_oracle
    from shared.testing.attention_from_scratch import check_dot_product_variance, check_same_generator, check_weight_entropy, check_weight_entropy_by_hand

    check_dot_product_variance(dot_product_variance, d_k=512, n=1000, scale=False, seed=70)
    check_dot_product_variance(dot_product_variance, d_k=16, n=5000, scale=False, seed=71)
    check_dot_product_variance(dot_product_variance, d_k=512, n=1000, scale=True, seed=72)
    check_dot_product_variance(dot_product_variance, d_k=2, scale=True, seed=73)
    check_same_generator(dot_product_variance, d_k=3, n=200, seed=74)
    check_weight_entropy_by_hand(weight_entropy, shape=(3, 2, 7), seed=75)
    check_weight_entropy(weight_entropy, shape=(5, 8), seed=76, oracle=weight_entropy_oracle)
    check_weight_entropy(weight_entropy, shape=(2, 3, 6), seed=77, masked=False, oracle=weight_entropy_oracle)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [markdown]
# Your two measurements beside a third, through your attention: the gradient that reaches the
# queries (for $q$ scaled up by $\sqrt{d_k}$ where the scores are left unscaled, so that one
# function gives both curves). Relate the three panels to the argument above.

# %% tags=["otter_ignore"]
def saturation(d_k, scale, L=32, n=256, seed=0):
    """Mean entropy of the weights and mean norm of the gradient reaching the queries, for random q, k."""
    gen = torch.Generator().manual_seed(seed)
    q = torch.randn(n, 1, d_k, generator=gen, dtype=torch.float64)
    k = torch.randn(n, L, d_k, generator=gen, dtype=torch.float64)
    v = torch.randn(n, L, 1, generator=gen, dtype=torch.float64)
    q = (q * math.sqrt(d_k) if not scale else q).requires_grad_()  # cancel the 1/sqrt(d_k) when unscaled
    out, _ = scaled_dot_product_attention(q, k, v)
    out.sum().backward()
    scores = q.detach() @ k.transpose(-2, -1) / math.sqrt(d_k)  # the scores the softmax saw
    return weight_entropy(scores), q.grad.norm(dim=-1).mean().item()


dims = [2, 8, 32, 128, 512]
draws = torch.Generator().manual_seed(rng_seed)
variances = {scale: [dot_product_variance(d, n=4000, scale=scale, generator=draws) for d in dims] for scale in (False, True)}
fig, axes = plt.subplots(1, 3, figsize=(15, 3.8))
for scale in (True, False):
    stats = [saturation(d, scale, seed=rng_seed) for d in dims]
    label = "q k^T / sqrt(d_k)" if scale else "q k^T (no scaling)"
    axes[0].loglog(dims, variances[scale], "o-", label=label)
    axes[1].semilogx(dims, [s[0] for s in stats], "o-", label=label)
    axes[2].loglog(dims, [s[1] for s in stats], "o-", label=label)
axes[1].axhline(math.log(32), color="k", ls="--", lw=0.8, label="uniform (ln 32)")
axes[0].set(xlabel="d_k (query and key size)", ylabel="variance of the scores",
            title="dot_product_variance (4000 pairs)")
axes[1].set(xlabel="d_k (query and key size)", ylabel="weight_entropy (nats)",
            title="softmax saturation over 32 keys")
axes[2].set(xlabel="d_k (query and key size)", ylabel="mean norm of d(output)/d(query)",
            title="gradient reaching the queries")
for ax in axes:
    ax.legend()
fig.suptitle("Random unit-variance queries and keys, with and without the 1/sqrt(d_k) scaling")
fig.tight_layout()
plt.show()
for d, unscaled, scaled in zip(dims, variances[False], variances[True], strict=True):
    print(f"d_k = {d:4d}: variance of q.k = {unscaled:8.1f}, of q.k / sqrt(d_k) = {scaled:.3f}")

# %% [markdown]
# Measured at `rng_seed = 0`: the variance of $q \cdot k$ follows $d_k$ (about 504 at
# $d_k = 512$) and stays near 1 once scaled. With the scaling, the entropy stays near 3.0
# (uniform over 32 keys is $\ln 32 \approx 3.47$) and the gradient norm near 0.2 for every $d_k$
# from 2 to 512; without it, the entropy falls to about 0.14 and the gradient norm to about 0.04
# at $d_k = 512$: the saturation and the vanishing gradient the lecture describes.

# %% [markdown]
# ## Wrapping up
#
# You wrote the softmax, the four steps of an attention decoder, scaled dot-product attention
# with its masks and multi-head attention, and proved each equal to PyTorch's; trained an
# encoder–decoder whose attention learned the alignment a reversal dictates, where one context
# vector could not; and measured why the scores are divided by $\sqrt{d_k}$: the variance of
# $q \cdot k$ grows as $d_k$, and without the scaling the weights saturate (their entropy falls
# towards 0) while the gradient reaching the queries fades. Before you submit, run the whole
# notebook from the top (*Kernel → Restart & Run All*) and make sure every `grader.check` passes.
