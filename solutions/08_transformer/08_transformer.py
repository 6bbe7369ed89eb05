# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [raw]
# # ASSIGNMENT CONFIG
# name: 08_transformer
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
# # Assignment 08: the Transformer
#
# The lecture: *stacking multi-head self-attention layers yields the Transformer* (Vaswani et
# al., 2017): an **encoder** stack and a **decoder** stack of multi-head attention and
# feed-forward blocks, with **positional encoding** and **layer normalisation**; unlike an RNN it
# processes all positions of a sequence in parallel. Its code was one call,
# `nn.Transformer(d_model=64, nhead=8, num_encoder_layers=2)`, applied to
# `src = torch.rand(10, 32, 64)` described as `(seq, batch, features)`, and its demo translated
# French number words into English. In this assignment you build that model from its parts,
# prove every part equal to PyTorch's, and train one that translates numbers.
#
# | Part | You implement | Points |
# |---|---|---|
# | q1 | the lecture's call: `transformer_param_count`, `lecture_counts`, `lecture_out_shape` | 3 |
# | q2 | sinusoidal positional encoding: `positional_encoding` | 3 |
# | q3 | layer normalisation from scratch: `layer_norm` | 3 |
# | q4 | the encoder layer: `EncoderLayer` | 4 |
# | q5 | the decoder layer and the causal mask: `causal_mask`, `DecoderLayer` | 4 |
# | q6 | the whole encoder–decoder: `Transformer` | 3 |
# | q7 | a translator: `Translator`, `translation_loss`, `greedy_decode` | 5 |
# | q8 | the trained translator's exact match on unseen numbers: `test_accuracy` | 2 |
# | q9 | what the causal mask prevents: `nomask_accuracy` | 2 |
#
# **Multi-head attention is given.** Assignment 07 builds multi-head attention from scratch and
# proves it equal to `nn.MultiheadAttention`; here you use `nn.MultiheadAttention` itself inside
# your layers (nothing is imported from 07). What you build is everything around it.
#
# **How to work.** Replace every `...` with your code and run the `grader.check("qN")` cell under
# each question. In questions 4 to 6, `nn.Transformer`, `nn.TransformerEncoder(Layer)` and
# `nn.TransformerDecoder(Layer)` are **forbidden** inside your code, and in question 3
# `nn.LayerNorm`, `F.layer_norm` and `torch.layer_norm` are: the tests compare your results with
# those modules holding the same weights (float64, dropout 0). The autograder also runs hidden
# tests with other sizes, masks, layouts and seeds, and translates numbers this notebook never
# sees. Everything graded runs in a few seconds on a laptop CPU.
#
# **One mistake costs one question.** A question that builds on earlier ones is checked with
# correct stand-ins for the earlier parts (PyTorch's own layers, mask and encoding). The claims
# about the translators trained in the notebook (questions 8 and 9) are judged only when the
# parts they were trained with (questions 2 and 4 to 7) pass their own questions; otherwise
# those claims say "not judged" and keep their points, and are checked once you fix the earlier
# question.

# %%
import math
import time

import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F
from torch import nn

from shared.french_numbers import encode_numbers, english, french, number_split, vocabularies
from shared.plotting import attention_map

rng_seed = 0

# %% [markdown]
# ## 1. The lecture's call, understood
#
# `nn.Transformer(d_model=64, nhead=8, num_encoder_layers=2)` names three arguments; the others
# keep their defaults: **6 decoder layers** (`num_decoder_layers=6`), a feed-forward width of
# **2,048** (`dim_feedforward=2048`), dropout 0.1, ReLU, post-norm, and `batch_first=False`, so
# inputs are `(seq, batch, features)`. Called as `model(src, tgt)` it returns one vector per
# *target* position, `(tgt_seq, batch, d_model)`; with `batch_first=True` every tensor is
# `(batch, seq, features)` instead.
#
# **Where the parameters are.** With $d$ = `d_model` and $f$ = `dim_feedforward`:
#
# * one multi-head attention block (`nn.MultiheadAttention`): the packed query/key/value
#   projection $3d \times d$ plus $3d$ biases, the output projection $d \times d$ plus $d$:
#   $4d^2 + 4d$, **whatever the number of heads** (heads split $d$, they do not multiply it);
# * one feed-forward block: $d \to f \to d$, that is $2df + f + d$;
# * one layer norm: $2d$ (a scale and a shift per feature);
# * an encoder layer: one attention block, one feed-forward block, two norms; a decoder layer:
#   two attention blocks (self and cross), one feed-forward block, three norms;
# * `nn.Transformer` adds one final norm after each stack.

# %%
def count_parameters(module):
    """Number of trainable scalars in `module`."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


torch.manual_seed(rng_seed)
lecture_model = nn.Transformer(d_model=64, nhead=8, num_encoder_layers=2)

# %% [raw]
# # BEGIN QUESTION
# name: q1
# points: 3

# %% [markdown]
# **Question 1 (3 points).**
#
# * `transformer_param_count(d_model, nhead, num_encoder_layers=6, num_decoder_layers=6,
#   dim_feedforward=2048)`: the number of parameters of `nn.Transformer` with these arguments,
#   **by the formula** above (an int).
# * `lecture_counts`: a dict with the parameter counts of `lecture_model` **by counting**
#   (`count_parameters`): `"total"`, `"encoder"` (`lecture_model.encoder`) and `"decoder"`
#   (`lecture_model.decoder`).
# * `lecture_out_shape`: the shape (a tuple of ints) of `lecture_model(src, src)` for the
#   lecture's `src` of shape `(10, 32, 64)`. Work it out; do not run the big model in the cell.
#
# The tests compare your formula with `nn.Transformer` of many sizes (built on PyTorch's `meta`
# device, so no memory is spent).

# %% [raw]
# # BEGIN SOLUTION

# %%
def transformer_param_count(d_model, nhead, num_encoder_layers=6, num_decoder_layers=6, dim_feedforward=2048):
    """Parameters of nn.Transformer(d_model, nhead, ...), by the formula."""
    # BEGIN SOLUTION
    d, f = d_model, dim_feedforward
    attention = 4 * d * d + 4 * d
    feed_forward = 2 * d * f + f + d
    norm = 2 * d
    encoder = num_encoder_layers * (attention + feed_forward + 2 * norm) + norm
    decoder = num_decoder_layers * (2 * attention + feed_forward + 3 * norm) + norm
    return encoder + decoder
    # END SOLUTION


lecture_counts = {"total": count_parameters(lecture_model), "encoder": count_parameters(lecture_model.encoder), "decoder": count_parameters(lecture_model.decoder)}  # SOLUTION
lecture_out_shape = (10, 32, 64)  # SOLUTION
print(lecture_counts, lecture_out_shape)

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_param_count_public(transformer_param_count, lecture_counts, lecture_out_shape):
    from shared.testing.transformer import check_lecture_counts, check_lecture_shape, check_param_count

    check_param_count(transformer_param_count, d_model=64, nhead=8, num_encoder_layers=2)  # the lecture's call
    check_param_count(transformer_param_count, d_model=16, nhead=2, num_encoder_layers=1, num_decoder_layers=1, dim_feedforward=32)
    check_lecture_counts(lecture_counts)
    check_lecture_shape(lecture_out_shape)

# %%
""" # BEGIN TEST CONFIG
hidden: true
""" # END TEST CONFIG
def test_param_count_hidden(transformer_param_count):
    from shared.testing.transformer import check_param_count

    for d, h, n_enc, n_dec, ff in [(8, 1, 3, 1, 5), (32, 4, 0, 2, 64), (12, 3, 2, 0, 7), (128, 16, 4, 4, 512)]:
        check_param_count(transformer_param_count, d_model=d, nhead=h, num_encoder_layers=n_enc, num_decoder_layers=n_dec, dim_feedforward=ff)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [markdown]
# Where the lecture model's parameters are: the two layers the call asked for hold a small
# share; the six decoder layers it did not mention, and the 2,048-wide feed-forward blocks
# inside every layer, hold most of them.

# %%
share_ff = sum(count_parameters(m) for name, m in lecture_model.named_modules() if name.endswith(("linear1", "linear2")))
print(f"{lecture_counts['total']:,} parameters: encoder {lecture_counts['encoder']:,}, decoder {lecture_counts['decoder']:,}; "
      f"feed-forward blocks {share_ff:,} ({share_ff / lecture_counts['total']:.0%})")

# %% [markdown]
# ## 2. Positional encoding
#
# Attention treats its input as a **set**: permute the positions of the keys and values and the
# output of every query is unchanged; permute the queries and the outputs are permuted the same
# way (07's permutation property). Without help, a Transformer cannot tell *quatre-vingt-dix*
# from *dix-quatre-vingt*. The paper adds to each token's embedding a vector that depends on its
# position $p$ only, with frequencies falling geometrically across the $d$ features:
#
# $$\mathrm{PE}[p, 2i] = \sin\!\big(p / 10000^{2i/d}\big), \qquad \mathrm{PE}[p, 2i+1] = \cos\!\big(p / 10000^{2i/d}\big), \qquad i = 0, \dots, d/2 - 1.$$
#
# Its properties: every entry is in $[-1, 1]$; different positions get different vectors; and
# for every shift $k$, $\mathrm{PE}[p+k]$ is a **fixed linear function** of $\mathrm{PE}[p]$ (each
# pair $(\sin, \cos)$ is rotated by the angle $k / 10000^{2i/d}$, whatever $p$), which makes
# relative positions easy to read. The alternative is **learned** position embeddings
# (`nn.Embedding(max_len, d)`, as in BERT and GPT-2): as good in practice, but they know nothing
# about positions beyond the longest training sequence.

# %% [raw]
# # BEGIN QUESTION
# name: q2
# points: 3

# %% [markdown]
# **Question 2 (3 points).** Implement `positional_encoding(n_positions, d_model)`: the float32
# tensor of shape `(n_positions, d_model)` of the formula above, for an even `d_model`. The tests
# compare with the formula entry by entry, check the three properties (bounded, distinct, a
# shift is a linear map) and the dtype (a float64 table added to float32 embeddings would turn
# the translator of question 7 to float64).

# %% [raw]
# # BEGIN SOLUTION

# %%
def positional_encoding(n_positions, d_model):
    """Sinusoidal encoding, (n_positions, d_model): sin on even features, cos on odd ones."""
    # BEGIN SOLUTION
    position = torch.arange(n_positions, dtype=torch.float64)[:, None]
    two_i = torch.arange(0, d_model, 2, dtype=torch.float64)
    angle = position / 10000 ** (two_i / d_model)
    pe = torch.zeros(n_positions, d_model, dtype=torch.float64)
    pe[:, 0::2] = torch.sin(angle)
    pe[:, 1::2] = torch.cos(angle)
    return pe.float()
    # END SOLUTION


# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_positional_encoding_public(positional_encoding):
    from shared.testing.transformer import check_positional_encoding

    check_positional_encoding(positional_encoding, 10, 8)
    check_positional_encoding(positional_encoding, 50, 32)

# %%
""" # BEGIN TEST CONFIG
hidden: true
""" # END TEST CONFIG
def test_positional_encoding_hidden(positional_encoding):
    from shared.testing.transformer import check_positional_encoding

    for n, d in [(1, 2), (7, 6), (100, 64), (33, 18)]:
        check_positional_encoding(positional_encoding, n, d)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [markdown]
# Why the encoding is needed: PyTorch's own attention, without positions, on a sequence and on
# the same sequence in another order. The outputs come out in the new order, otherwise unchanged.

# %%
torch.manual_seed(rng_seed)
attention = nn.MultiheadAttention(8, 2, batch_first=True)
x_order = torch.randn(1, 5, 8)
shuffle = torch.tensor([3, 0, 4, 1, 2])
with torch.no_grad():
    out_order = attention(x_order, x_order, x_order)[0]
    out_shuffled = attention(x_order[:, shuffle], x_order[:, shuffle], x_order[:, shuffle])[0]
print(f"largest difference between the shuffled outputs and the outputs shuffled: {(out_shuffled - out_order[:, shuffle]).abs().max().item():.1e}")

# %% tags=["otter_ignore"]
pe_demo = positional_encoding(64, 32)
plt.figure(figsize=(8, 3))
plt.imshow(pe_demo.T, aspect="auto", cmap="RdBu")
plt.xlabel("position p")
plt.ylabel("feature index")
plt.title("sinusoidal positional encoding, d = 32")
plt.colorbar(label="PE[p, feature]")
plt.show()

# %% [markdown]
# ## 3. Layer normalisation and the residual connection
#
# A layer norm standardises **each token's vector on its own**, over its $d$ features (not over
# the batch, as batch norm does), then scales and shifts it with learned vectors $\gamma$
# (`weight`) and $\beta$ (`bias`):
#
# $$\mathrm{LN}(x) = \gamma \odot \frac{x - \mu}{\sqrt{\sigma^2 + \varepsilon}} + \beta,
# \qquad \mu = \frac1d \sum_j x_j, \quad \sigma^2 = \frac1d \sum_j (x_j - \mu)^2,$$
#
# with the **biased** variance (divide by $d$, not $d - 1$) and $\varepsilon$ inside the square
# root, as `nn.LayerNorm` computes it. In a Transformer every sublayer (attention or
# feed-forward) is wrapped in a **residual connection** and a norm: `x = norm(x + sublayer(x))`
# in the paper and by default in PyTorch (**post-norm**), or `x = x + sublayer(norm(x))`
# (**pre-norm**, `norm_first=True`, easier to train deep). Either way the residual carries the
# input around the *sublayer*, never around the norm.

# %% [raw]
# # BEGIN QUESTION
# name: q3
# points: 3

# %% [markdown]
# **Question 3 (3 points).** Implement `layer_norm(x, weight, bias, eps=1e-5)`: normalise `x`
# (any shape `(..., d)`) over its last dimension and apply `weight` and `bias` (each `(d,)`).
# `nn.LayerNorm`, `F.layer_norm` and `torch.layer_norm` are forbidden; return a new tensor and
# leave `x`, `weight` and `bias` unchanged (no in-place operations on them). The tests compare
# with `nn.LayerNorm` in float64, including rows whose variance is close to `eps`.

# %% [raw]
# # BEGIN SOLUTION

# %%
def layer_norm(x, weight, bias, eps=1e-5):
    """Normalise over the last dimension (biased variance, eps inside the root), then weight * . + bias."""
    # BEGIN SOLUTION
    mean = x.mean(dim=-1, keepdim=True)
    var = ((x - mean) ** 2).mean(dim=-1, keepdim=True)
    return (x - mean) / torch.sqrt(var + eps) * weight + bias
    # END SOLUTION


# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_layer_norm_public(layer_norm):
    from shared.testing.transformer import check_layer_norm

    check_layer_norm(layer_norm, (4, 6), seed=0)
    check_layer_norm(layer_norm, (2, 3, 8), seed=1, eps=1e-3)

# %%
""" # BEGIN TEST CONFIG
hidden: true
""" # END TEST CONFIG
def test_layer_norm_hidden(layer_norm):
    from shared.testing.transformer import check_layer_norm

    check_layer_norm(layer_norm, (5, 2, 7, 3), seed=20)
    check_layer_norm(layer_norm, (1, 32), seed=21, eps=1e-6)
    check_layer_norm(layer_norm, (9, 2), seed=22, eps=0.5)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [markdown]
# ## 4. The encoder layer
#
# One encoder layer maps `(seq, batch, d_model)` (or `(batch, seq, d_model)` with
# `batch_first=True`) to the same shape, through two sublayers with a residual and a norm each:
#
# * **self-attention**: `self.self_attn(x, x, x, attn_mask=src_mask,
#   key_padding_mask=src_key_padding_mask, need_weights=False)[0]`, then dropout;
# * **feed-forward**: `linear2(dropout(relu(linear1(x))))`, then dropout.
#
# Post-norm (default): `x = norm1(x + sa(x))`, then `x = norm2(x + ff(x))`. Pre-norm
# (`norm_first=True`): `x = x + sa(norm1(x))`, then `x = x + ff(norm2(x))`.
#
# **Masks, PyTorch's convention.** `src_key_padding_mask` is a bool `(batch, seq)` tensor, `True`
# where a position is padding: no query attends to it. An `attn_mask` is `(seq, seq)`, bool with
# `True` = *not allowed*, or float added to the scores (`-inf` = not allowed).

# %% [raw]
# # BEGIN QUESTION
# name: q4
# points: 4

# %% [markdown]
# **Question 4 (4 points).** Implement `EncoderLayer(d_model, nhead, dim_feedforward,
# dropout=0.0, norm_first=False, batch_first=False)`, an `nn.Module` with exactly PyTorch's
# submodule names, so that weights can be copied from and to `nn.TransformerEncoderLayer`:
# `self_attn` (`nn.MultiheadAttention(d_model, nhead, dropout=dropout, batch_first=batch_first)`),
# `linear1` (`d_model -> dim_feedforward`), `linear2` (back), `norm1`, `norm2` (`nn.LayerNorm(d_model)`:
# you proved yours equal to it) and dropouts of your choice (no parameters).
# `forward(src, src_mask=None, src_key_padding_mask=None)` returns the layer's output.
# The tests copy your weights into `nn.TransformerEncoderLayer` (dropout 0, ReLU) and compare
# in float64, post-norm and pre-norm, both layouts, with and without a padding mask; built with
# dropout 0.5, your layer must give that same output in eval mode (dropout off) and another one
# in training mode (dropout on).

# %% [raw]
# # BEGIN SOLUTION

# %%
class EncoderLayer(nn.Module):
    """Self-attention and feed-forward sublayers, each with a residual and a LayerNorm."""

    def __init__(self, d_model, nhead, dim_feedforward, dropout=0.0, norm_first=False, batch_first=False):
        super().__init__()
        # BEGIN SOLUTION
        self.self_attn = nn.MultiheadAttention(d_model, nhead, dropout=dropout, batch_first=batch_first)
        self.linear1 = nn.Linear(d_model, dim_feedforward)
        self.linear2 = nn.Linear(dim_feedforward, d_model)
        self.norm1 = nn.LayerNorm(d_model)
        self.norm2 = nn.LayerNorm(d_model)
        self.dropout = nn.Dropout(dropout)
        self.norm_first = norm_first
        # END SOLUTION

    def forward(self, src, src_mask=None, src_key_padding_mask=None):
        # BEGIN SOLUTION
        x = src
        if self.norm_first:
            x = x + self._sa(self.norm1(x), src_mask, src_key_padding_mask)
            x = x + self._ff(self.norm2(x))
        else:
            x = self.norm1(x + self._sa(x, src_mask, src_key_padding_mask))
            x = self.norm2(x + self._ff(x))
        return x

    def _sa(self, x, attn_mask, key_padding_mask):
        out = self.self_attn(x, x, x, attn_mask=attn_mask, key_padding_mask=key_padding_mask, need_weights=False)[0]
        return self.dropout(out)

    def _ff(self, x):
        return self.dropout(self.linear2(self.dropout(torch.relu(self.linear1(x)))))
        # END SOLUTION


# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_encoder_layer_public(EncoderLayer):
    from shared.testing.transformer import check_encoder_layer

    check_encoder_layer(EncoderLayer, d_model=8, nhead=2, dim_feedforward=16, batch=3, seq=5, seed=0)
    check_encoder_layer(EncoderLayer, d_model=8, nhead=2, dim_feedforward=16, batch=3, seq=5, batch_first=True, padding=True, seed=1)
    check_encoder_layer(EncoderLayer, d_model=6, nhead=3, dim_feedforward=10, batch=2, seq=4, norm_first=True, padding=True, seed=2)
    check_encoder_layer(EncoderLayer, d_model=8, nhead=4, dim_feedforward=12, batch=2, seq=5, padding=True, dropout_modes=True, seed=3)

# %%
""" # BEGIN TEST CONFIG
hidden: true
""" # END TEST CONFIG
def test_encoder_layer_hidden(EncoderLayer):
    from shared.testing.transformer import check_encoder_layer

    check_encoder_layer(EncoderLayer, d_model=4, nhead=1, dim_feedforward=3, batch=1, seq=7, padding=True, seed=40)
    check_encoder_layer(EncoderLayer, d_model=12, nhead=4, dim_feedforward=8, batch=5, seq=3, batch_first=True, norm_first=True, padding=True, seed=41)
    check_encoder_layer(EncoderLayer, d_model=10, nhead=5, dim_feedforward=20, batch=4, seq=6, batch_first=True, attn_mask=True, seed=42)
    check_encoder_layer(EncoderLayer, d_model=8, nhead=2, dim_feedforward=32, batch=2, seq=9, norm_first=True, seed=43)
    check_encoder_layer(EncoderLayer, d_model=6, nhead=2, dim_feedforward=7, batch=3, seq=4, batch_first=True, norm_first=True, dropout_modes=True, seed=44)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [markdown]
# ## 5. The decoder layer and the causal mask
#
# A decoder layer has **three** sublayers, each with a residual and a norm (`norm1`, `norm2`,
# `norm3` in this order):
#
# * **masked self-attention** over the target: `self.self_attn(x, x, x, attn_mask=tgt_mask,
#   key_padding_mask=tgt_key_padding_mask)`;
# * **cross-attention** to the encoder's output (`memory`): the **queries come from the
#   decoder** (`x`), the keys and values from `memory`: `self.multihead_attn(x, memory, memory,
#   attn_mask=memory_mask, key_padding_mask=memory_key_padding_mask)`;
# * the feed-forward block, as in the encoder.
#
# While training, the decoder reads the whole target at once; the **causal mask** keeps position
# $t$ from attending to positions after $t$, so that each output depends only on the tokens
# before it, exactly as when the model generates one token at a time.

# %% [raw]
# # BEGIN QUESTION
# name: q5
# points: 4

# %% [markdown]
# **Question 5 (4 points).**
#
# * `causal_mask(size)`: the bool `(size, size)` tensor that is `True` where query $t$ must not
#   see key $s$, i.e. $s > t$ (strictly above the diagonal; PyTorch's convention).
# * `DecoderLayer(d_model, nhead, dim_feedforward, dropout=0.0, norm_first=False,
#   batch_first=False)` with PyTorch's names: `self_attn`, `multihead_attn`, `linear1`,
#   `linear2`, `norm1`, `norm2`, `norm3`; `forward(tgt, memory, tgt_mask=None, memory_mask=None,
#   tgt_key_padding_mask=None, memory_key_padding_mask=None)`.
#
# The tests check that `causal_mask` returns a bool tensor, compare with
# `nn.TransformerDecoderLayer` holding your weights (source and target of different lengths, the
# masks they pass, not only causal ones, both layouts, post- and pre-norm; with dropout 0.5, in
# eval mode, the same output, and dropout on in training mode), and check causality:
# with your mask, the gradient of the output at position $t$ with respect to the target at any
# later position is exactly zero.

# %% [raw]
# # BEGIN SOLUTION

# %%
def causal_mask(size):
    """(size, size) bool, True above the diagonal: query t may not attend to keys s > t."""
    return torch.triu(torch.ones(size, size, dtype=torch.bool), diagonal=1)  # SOLUTION


class DecoderLayer(nn.Module):
    """Masked self-attention, cross-attention to the memory, feed-forward; residuals and norms."""

    def __init__(self, d_model, nhead, dim_feedforward, dropout=0.0, norm_first=False, batch_first=False):
        super().__init__()
        # BEGIN SOLUTION
        self.self_attn = nn.MultiheadAttention(d_model, nhead, dropout=dropout, batch_first=batch_first)
        self.multihead_attn = nn.MultiheadAttention(d_model, nhead, dropout=dropout, batch_first=batch_first)
        self.linear1 = nn.Linear(d_model, dim_feedforward)
        self.linear2 = nn.Linear(dim_feedforward, d_model)
        self.norm1 = nn.LayerNorm(d_model)
        self.norm2 = nn.LayerNorm(d_model)
        self.norm3 = nn.LayerNorm(d_model)
        self.dropout = nn.Dropout(dropout)
        self.norm_first = norm_first
        # END SOLUTION

    def forward(self, tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None, memory_key_padding_mask=None):
        # BEGIN SOLUTION
        x = tgt
        if self.norm_first:
            x = x + self._sa(self.norm1(x), tgt_mask, tgt_key_padding_mask)
            x = x + self._ca(self.norm2(x), memory, memory_mask, memory_key_padding_mask)
            x = x + self._ff(self.norm3(x))
        else:
            x = self.norm1(x + self._sa(x, tgt_mask, tgt_key_padding_mask))
            x = self.norm2(x + self._ca(x, memory, memory_mask, memory_key_padding_mask))
            x = self.norm3(x + self._ff(x))
        return x

    def _sa(self, x, attn_mask, key_padding_mask):
        return self.dropout(self.self_attn(x, x, x, attn_mask=attn_mask, key_padding_mask=key_padding_mask, need_weights=False)[0])

    def _ca(self, x, memory, attn_mask, key_padding_mask):
        return self.dropout(self.multihead_attn(x, memory, memory, attn_mask=attn_mask, key_padding_mask=key_padding_mask, need_weights=False)[0])

    def _ff(self, x):
        return self.dropout(self.linear2(self.dropout(torch.relu(self.linear1(x)))))
        # END SOLUTION


# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_decoder_layer_public(causal_mask, DecoderLayer):
    from shared.testing.transformer import check_causal_mask, check_decoder_causality, check_decoder_layer

    check_causal_mask(causal_mask, 4)
    check_decoder_layer(DecoderLayer, d_model=8, nhead=2, dim_feedforward=16, batch=3, tgt_len=4, src_len=6, seed=0)
    check_decoder_layer(DecoderLayer, d_model=8, nhead=4, dim_feedforward=12, batch=2, tgt_len=5, src_len=3, batch_first=True, padding=True, seed=1)
    check_decoder_layer(DecoderLayer, d_model=6, nhead=2, dim_feedforward=10, batch=3, tgt_len=4, src_len=5, padding=True, free_masks=True, dropout_modes=True, seed=3)
    check_decoder_causality(DecoderLayer, causal_mask, d_model=8, nhead=2, tgt_len=5, src_len=4, seed=2)

# %%
""" # BEGIN TEST CONFIG
hidden: true
""" # END TEST CONFIG
def test_decoder_layer_hidden(causal_mask, DecoderLayer):
    from shared.testing.transformer import check_causal_mask, check_decoder_causality, check_decoder_layer

    for size in (1, 2, 9):
        check_causal_mask(causal_mask, size)
    check_decoder_layer(DecoderLayer, d_model=6, nhead=3, dim_feedforward=5, batch=4, tgt_len=7, src_len=2, norm_first=True, padding=True, seed=50)
    check_decoder_layer(DecoderLayer, d_model=12, nhead=2, dim_feedforward=24, batch=1, tgt_len=3, src_len=8, batch_first=True, norm_first=True, seed=51)
    check_decoder_layer(DecoderLayer, d_model=4, nhead=1, dim_feedforward=8, batch=5, tgt_len=6, src_len=6, padding=True, seed=52)
    check_decoder_layer(DecoderLayer, d_model=8, nhead=4, dim_feedforward=6, batch=2, tgt_len=7, src_len=4, batch_first=True, norm_first=True, free_masks=True, dropout_modes=True, seed=54)
    check_decoder_causality(DecoderLayer, causal_mask, d_model=6, nhead=3, tgt_len=8, src_len=3, seed=53, batch_first=True)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [markdown]
# ## 6. The whole encoder–decoder
#
# `nn.Transformer` stacks `num_encoder_layers` encoder layers, then a final layer norm (the
# **memory**), and `num_decoder_layers` decoder layers that each read that memory, then a final
# layer norm. `forward(src, tgt, ...)` passes `src_mask` and `src_key_padding_mask` to every
# encoder layer, and `tgt_mask`, `memory_mask`, `tgt_key_padding_mask` and
# `memory_key_padding_mask` to every decoder layer. Three variants of this one design: the
# **encoder–decoder** (translation, this assignment), the **encoder-only** (BERT: the encoder
# stack alone, no causal mask) and the **decoder-only** (GPT: decoder layers without
# cross-attention, always causally masked).

# %% [raw]
# # BEGIN QUESTION
# name: q6
# points: 3

# %% [markdown]
# **Question 6 (3 points).** Implement `Transformer(d_model, nhead, num_encoder_layers,
# num_decoder_layers, dim_feedforward, dropout=0.0, norm_first=False, batch_first=False)` from
# your `EncoderLayer` and `DecoderLayer`, with the submodules `encoder_layers` and
# `decoder_layers` (`nn.ModuleList`s), `encoder_norm` and `decoder_norm` (`nn.LayerNorm(d_model)`),
# and the methods
#
# * `encode(src, src_mask=None, src_key_padding_mask=None)`: the memory;
# * `decode(tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
#   memory_key_padding_mask=None)`: the decoder's output;
# * `forward(src, tgt, src_mask=None, tgt_mask=None, memory_mask=None,
#   src_key_padding_mask=None, tgt_key_padding_mask=None, memory_key_padding_mask=None)`:
#   `decode(tgt, encode(src, ...), ...)`.
#
# Every position of a stack is a layer of its own, with its own weights. The tests copy your
# weights into `nn.Transformer` and compare, with every kind of mask, both layouts, post- and
# pre-norm (with PyTorch's own layers in place of yours, so that a mistake of questions 4 and 5 is
# not counted twice); they also compare your parameter count with `nn.Transformer`'s.

# %% [raw]
# # BEGIN SOLUTION

# %%
class Transformer(nn.Module):
    """Encoder stack + final norm (the memory), decoder stack + final norm."""

    def __init__(self, d_model, nhead, num_encoder_layers, num_decoder_layers, dim_feedforward, dropout=0.0, norm_first=False, batch_first=False):
        super().__init__()
        # BEGIN SOLUTION
        args = (d_model, nhead, dim_feedforward, dropout, norm_first, batch_first)
        self.encoder_layers = nn.ModuleList([EncoderLayer(*args) for _ in range(num_encoder_layers)])
        self.decoder_layers = nn.ModuleList([DecoderLayer(*args) for _ in range(num_decoder_layers)])
        self.encoder_norm = nn.LayerNorm(d_model)
        self.decoder_norm = nn.LayerNorm(d_model)
        # END SOLUTION

    def encode(self, src, src_mask=None, src_key_padding_mask=None):
        # BEGIN SOLUTION
        x = src
        for layer in self.encoder_layers:
            x = layer(x, src_mask=src_mask, src_key_padding_mask=src_key_padding_mask)
        return self.encoder_norm(x)
        # END SOLUTION

    def decode(self, tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None, memory_key_padding_mask=None):
        # BEGIN SOLUTION
        x = tgt
        for layer in self.decoder_layers:
            x = layer(x, memory, tgt_mask=tgt_mask, memory_mask=memory_mask, tgt_key_padding_mask=tgt_key_padding_mask,
                      memory_key_padding_mask=memory_key_padding_mask)
        return self.decoder_norm(x)
        # END SOLUTION

    def forward(self, src, tgt, src_mask=None, tgt_mask=None, memory_mask=None, src_key_padding_mask=None, tgt_key_padding_mask=None,
                memory_key_padding_mask=None):
        # BEGIN SOLUTION
        memory = self.encode(src, src_mask=src_mask, src_key_padding_mask=src_key_padding_mask)
        return self.decode(tgt, memory, tgt_mask=tgt_mask, memory_mask=memory_mask, tgt_key_padding_mask=tgt_key_padding_mask,
                           memory_key_padding_mask=memory_key_padding_mask)
        # END SOLUTION


# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_transformer_public(env, Transformer):
    from shared.testing.transformer import check_transformer

    check_transformer(Transformer, d_model=8, nhead=2, num_encoder_layers=2, num_decoder_layers=1, dim_feedforward=16, batch=3, src_len=5, tgt_len=4, seed=0, env=env)
    check_transformer(Transformer, d_model=8, nhead=2, num_encoder_layers=1, num_decoder_layers=2, dim_feedforward=16, batch=2, src_len=4, tgt_len=6, batch_first=True, padding=True, seed=1, env=env)
    check_transformer(Transformer, d_model=6, nhead=2, num_encoder_layers=2, num_decoder_layers=2, dim_feedforward=8, batch=3, src_len=5, tgt_len=4, padding=True, free_masks=True, seed=2, env=env)

# %%
""" # BEGIN TEST CONFIG
hidden: true
""" # END TEST CONFIG
def test_transformer_hidden(env, Transformer):
    from shared.testing.transformer import check_transformer

    check_transformer(Transformer, d_model=6, nhead=3, num_encoder_layers=3, num_decoder_layers=2, dim_feedforward=4, batch=2, src_len=7, tgt_len=3, norm_first=True, padding=True, seed=60, env=env)
    check_transformer(Transformer, d_model=4, nhead=1, num_encoder_layers=1, num_decoder_layers=1, dim_feedforward=8, batch=5, src_len=2, tgt_len=5, batch_first=True, norm_first=True, seed=61, env=env)
    check_transformer(Transformer, d_model=10, nhead=2, num_encoder_layers=2, num_decoder_layers=3, dim_feedforward=6, batch=1, src_len=6, tgt_len=6, batch_first=True, padding=True, seed=62, env=env)
    check_transformer(Transformer, d_model=4, nhead=2, num_encoder_layers=3, num_decoder_layers=1, dim_feedforward=5, batch=2, src_len=3, tgt_len=5, batch_first=True, free_masks=True, seed=63, env=env)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [markdown]
# ## 7. A translator for numbers
#
# **The data.** `shared.french_numbers` writes every number from 0 to 999 in French
# (traditional spelling: *soixante et onze*, *quatre-vingts*, *quatre-vingt-dix-sept*, *deux
# cents*, *deux cent un*) and in English (*seventy-one*, *eighty*, *ninety-seven*, *two hundred*,
# *two hundred one*). Words are split at spaces and hyphens into a tiny vocabulary per language;
# `encode_numbers(numbers)` returns padded batches `(src, tgt)`, batch first: `src` holds the
# French tokens then `<eos>`, `tgt` the English ones between `<bos>` and `<eos>`, both padded
# with `<pad>` = 0. The numbers are split once into 750 for training and 150 for testing (and
# 100 more that only the autograder uses): the test numbers are never trained on.

# %%
fr_vocab, en_vocab = vocabularies()
train_numbers, test_numbers = number_split("train"), number_split("test")
src_train, tgt_train = encode_numbers(train_numbers)
src_test, tgt_test = encode_numbers(test_numbers)
print(fr_vocab, en_vocab, sep="\n")
for n in (71, 97, 280):
    print(f"{n}: {french(n)!r} -> {english(n)!r}")
print("src", tuple(src_train.shape), "tgt", tuple(tgt_train.shape), "first row:", fr_vocab.decode(src_train[0]), en_vocab.decode(tgt_train[0]))

# %% [markdown]
# **Teacher forcing.** The decoder is trained to predict each next English token from the
# French sentence and the English tokens **before** it. Feed it the target without its last
# token, `tgt[:, :-1]` (starting with `<bos>`), and score its outputs against the target
# without its first, `tgt[:, 1:]` (ending with `<eos>`): output $t$ predicts token $t + 1$. The
# causal mask keeps output $t$ from seeing tokens after $t$ (among them the very token it must
# predict), and padding positions are left out of the loss (`ignore_index=0`). Label smoothing
# (`label_smoothing=0.1` in `F.cross_entropy`) is a common option that we do not use.
#
# **Greedy decoding.** At test time there is no target: start every row with `<bos>`, run the
# model on what has been produced so far, append the most likely next token (the argmax of the
# last position's logits), and repeat until every row has produced `<eos>` (or `max_len` tokens).

# %% [raw]
# # BEGIN QUESTION
# name: q7
# points: 5

# %% [markdown]
# **Question 7 (5 points).**
#
# * `Translator(src_vocab_size, tgt_vocab_size, d_model, nhead, num_layers, dim_feedforward,
#   max_len=32)`: an `nn.Module` with `src_embed` and `tgt_embed` (`nn.Embedding`s of width
#   `d_model`), `transformer` (your `Transformer` with `num_layers` encoder and decoder layers,
#   dropout 0, `batch_first=True`), `generator` (`nn.Linear(d_model, tgt_vocab_size)`), and a
#   buffer `pe` holding `positional_encoding(max_len, d_model)` (`self.register_buffer`).
#   `forward(src, tgt_in, causal=True)` maps ids `(batch, S)` and `(batch, T)` to logits
#   `(batch, T, tgt_vocab_size)`: each sequence's embeddings **times $\sqrt{d_{model}}$** (both
#   sides) plus `pe` of its positions; padding masks `src == 0` (for the encoder and the
#   memory) and `tgt_in == 0`; and, when `causal`, your causal mask on the target (when
#   `causal=False`, no target mask at all).
# * `translation_loss(model, src, tgt, causal=True)`: the teacher-forced cross-entropy of
#   `model(src, tgt[:, :-1], causal)` against `tgt[:, 1:]`, padding ignored: the mean over all
#   the real (non-padding) target tokens of the batch (a scalar tensor).
# * `greedy_decode(model, src, max_len=12)`: the int64 ids `(batch, L)` that start with `<bos>`
#   (1) and append, one position at a time for all rows at once, the argmax of
#   `model(src, ys)[:, -1]`; stop as soon as every row has produced `<eos>` (2), or after
#   `max_len` appended tokens. After its `<eos>` a row may hold anything (`<pad>` is tidy):
#   readers stop at the first `<eos>`. Run it in eval mode, without gradients.
#
# None of the three changes the tensors it is given (`src`, `tgt`, `tgt_in`) in place. The tests
# compare your translator with `nn.Transformer` holding its weights and check that its outputs
# never depend on later target tokens (with `causal=True`) or on padding or on the other rows of
# the batch, that every parameter gets a gradient, and that `transformer` is built by your
# `Transformer` class; they score your loss and your decoder with small scripted models whose
# answers are known (handed to `greedy_decode` in training mode).

# %% [raw]
# # BEGIN SOLUTION

# %%
class Translator(nn.Module):
    """Embeddings * sqrt(d) + positional encoding -> Transformer -> logits over the target vocabulary."""

    def __init__(self, src_vocab_size, tgt_vocab_size, d_model, nhead, num_layers, dim_feedforward, max_len=32):
        super().__init__()
        # BEGIN SOLUTION
        self.d_model = d_model
        self.src_embed = nn.Embedding(src_vocab_size, d_model)
        self.tgt_embed = nn.Embedding(tgt_vocab_size, d_model)
        self.transformer = Transformer(d_model, nhead, num_layers, num_layers, dim_feedforward, dropout=0.0, batch_first=True)
        self.generator = nn.Linear(d_model, tgt_vocab_size)
        self.register_buffer("pe", positional_encoding(max_len, d_model))
        # END SOLUTION

    def forward(self, src, tgt_in, causal=True):
        # BEGIN SOLUTION
        scale = math.sqrt(self.d_model)
        src_x = self.src_embed(src) * scale + self.pe[: src.shape[1]]
        tgt_x = self.tgt_embed(tgt_in) * scale + self.pe[: tgt_in.shape[1]]
        mask = causal_mask(tgt_in.shape[1]).to(src.device) if causal else None
        out = self.transformer(src_x, tgt_x, tgt_mask=mask, src_key_padding_mask=src == 0, tgt_key_padding_mask=tgt_in == 0,
                               memory_key_padding_mask=src == 0)
        return self.generator(out)
        # END SOLUTION


def translation_loss(model, src, tgt, causal=True):
    """Teacher forcing: logits for tgt[:, :-1] scored against tgt[:, 1:], padding (id 0) ignored."""
    # BEGIN SOLUTION
    logits = model(src, tgt[:, :-1], causal)
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), tgt[:, 1:].reshape(-1), ignore_index=0)
    # END SOLUTION


def greedy_decode(model, src, max_len=12):
    """Token by token from <bos>, all rows at once, until every row has produced <eos>: (batch, L) int64."""
    # BEGIN SOLUTION
    model.eval()
    with torch.no_grad():
        ys = torch.full((src.shape[0], 1), 1, dtype=torch.long, device=src.device)
        done = torch.zeros(src.shape[0], dtype=torch.bool, device=src.device)
        for _ in range(max_len):
            next_token = model(src, ys)[:, -1].argmax(dim=-1)
            next_token = next_token.masked_fill(done, 0)
            ys = torch.cat([ys, next_token[:, None]], dim=1)
            done = done | (next_token == 2)
            if done.all():
                break
    return ys
    # END SOLUTION


# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_translator_public(env, Translator, translation_loss, greedy_decode, Transformer, causal_mask, positional_encoding):
    from shared.testing.transformer import check_greedy_decode, check_translation_loss, check_translator_properties

    check_translator_properties(Translator, Transformer, causal_mask, positional_encoding, seed=0, env=env)
    check_translation_loss(translation_loss, batch=4, length=5, vocab=7, seed=1)
    check_greedy_decode(greedy_decode, batch=3, vocab=6, max_len=8, seed=2)

# %%
""" # BEGIN TEST CONFIG
hidden: true
""" # END TEST CONFIG
def test_translator_hidden(env, Translator, translation_loss, greedy_decode, Transformer, causal_mask, positional_encoding):
    from grader_only.oracles import translator_logits
    from shared.testing.transformer import check_greedy_decode, check_translation_loss, check_translator_properties

    check_translator_properties(Translator, Transformer, causal_mask, positional_encoding, seed=70, oracle=translator_logits, env=env)
    check_translator_properties(Translator, Transformer, causal_mask, positional_encoding, seed=71, d_model=6, nhead=3, num_layers=2, oracle=translator_logits, env=env)
    check_translation_loss(translation_loss, batch=6, length=3, vocab=4, seed=72)
    check_translation_loss(translation_loss, batch=1, length=8, vocab=11, seed=73)
    check_greedy_decode(greedy_decode, batch=5, vocab=9, max_len=6, seed=74)
    check_greedy_decode(greedy_decode, batch=1, vocab=5, max_len=3, seed=75)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [markdown]
# **Training.** A small model (d_model 32, 4 heads, one encoder and one decoder layer,
# feed-forward width 64: 24,512 parameters) trained with Adam for 300 steps on batches of 64
# training numbers: 1.5 to 3 seconds on one CPU core, longer when the machine is busy (the
# cell prints its time). It is seeded with `rng_seed`; the autograder sets `rng_seed` to values of
# its own, and the thresholds below were checked under several of them.

# %%
D_MODEL, N_HEAD, N_LAYERS, D_FF, STEPS, BATCH, LR = 32, 4, 1, 64, 300, 64, 3e-3


def train_translator(causal=True, steps=STEPS):
    """A fresh Translator trained on the training numbers; returns (model, losses, seconds)."""
    torch.manual_seed(rng_seed)
    model = Translator(len(fr_vocab), len(en_vocab), D_MODEL, N_HEAD, N_LAYERS, D_FF)
    optimizer = torch.optim.Adam(model.parameters(), lr=LR)
    batches = torch.Generator().manual_seed(rng_seed)
    losses, start = [], time.perf_counter()
    model.train()
    for _ in range(steps):
        rows = torch.randint(len(src_train), (BATCH,), generator=batches)
        loss = translation_loss(model, src_train[rows], tgt_train[rows], causal)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return model, losses, time.perf_counter() - start


translator, translator_losses, translator_seconds = train_translator()
print(f"{count_parameters(translator):,} parameters, trained in {translator_seconds:.1f} s; final loss {translator_losses[-1]:.3f}")

# %% [raw]
# # BEGIN QUESTION
# name: q8
# points: 2

# %% [markdown]
# **Question 8 (2 points).** Store in `test_accuracy` (a float) the trained translator's
# **exact-match accuracy** on the test numbers: the fraction of `test_numbers` whose greedy
# translation (`greedy_decode(translator, src_test)`, read with `en_vocab.decode`) equals the
# English tokens exactly. The tests check your number (a Python float, not a tensor), that
# `translator` is the model the training cell returned (teacher-forced, it predicts most next
# tokens), and that its accuracy is at least 0.7, here and (hidden) on the held-out numbers. As the introduction says, they judge it only when questions
# 2 and 4 to 7 pass; until then it shows "not judged".

# %% [raw]
# # BEGIN SOLUTION

# %%
def exact_match(model, src, tgt):
    """Fraction of rows whose greedy translation equals the target's tokens."""
    # BEGIN SOLUTION
    predicted = greedy_decode(model, src)
    return sum(en_vocab.decode(p) == en_vocab.decode(t) for p, t in zip(predicted, tgt, strict=True)) / len(src)
    # END SOLUTION


test_accuracy = exact_match(translator, src_test, tgt_test)  # SOLUTION
print(f"exact match on the {len(test_numbers)} test numbers: {test_accuracy:.3f}")

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_accuracy_public(env):
    from shared.testing import gate
    from shared.testing import left_as_stub
    from shared.testing.transformer import check_accuracy_claim, check_fraction, check_trained, parts_checks, trained

    left_as_stub(env, "test_accuracy")
    skipped = gate(parts_checks(env))
    if skipped is not None:
        return skipped
    (translator,) = trained(env, "translator")
    check_fraction(env.get("test_accuracy"), "test_accuracy")
    check_trained(translator, env.get("src_test"), env.get("tgt_test"), name="translator", causal=True, where="the test numbers")
    check_accuracy_claim(env.get("test_accuracy"), "the test numbers")

# %%
""" # BEGIN TEST CONFIG
hidden: true
""" # END TEST CONFIG
def test_accuracy_hidden(env, src_test, tgt_test):
    from grader_only.oracles import heldout_accuracy, reference_accuracy, translator_logits
    from grader_support.french_heldout import heldout_batch
    from shared.testing import gate
    from shared.testing import left_as_stub
    from shared.testing.transformer import check_accuracy_claim, check_accuracy_value, check_fraction, check_trained, parts_checks, trained

    left_as_stub(env, "test_accuracy")
    skipped = gate(parts_checks(env, oracle=translator_logits))
    if skipped is not None:
        return skipped
    (translator,) = trained(env, "translator")
    check_fraction(env.get("test_accuracy"), "test_accuracy")
    _, src_heldout, tgt_heldout = heldout_batch()
    check_trained(translator, src_heldout, tgt_heldout, name="translator", causal=True, where="the 100 held-out numbers")
    check_accuracy_value(env.get("test_accuracy"), reference_accuracy(translator, src_test, tgt_test), "test_accuracy")
    check_accuracy_claim(heldout_accuracy(translator), "the 100 held-out numbers")

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [markdown]
# What the trained model does: its training curve, the numbers it still gets wrong, and for one
# number its **cross-attention** (last decoder layer, averaged over heads): which French words
# each English word looks at.

# %% tags=["otter_ignore"]
plt.figure(figsize=(6, 3))
plt.semilogy(translator_losses)
plt.xlabel("training step")
plt.ylabel("training loss (cross-entropy, log scale)")
plt.title("the translator's teacher-forced training loss")
plt.show()
predicted_test = greedy_decode(translator, src_test)
for n, p in zip(test_numbers, predicted_test, strict=True):
    if en_vocab.decode(p) != english(n).replace("-", " ").split():
        print(f"{n:>3} {french(n)!r}: {' '.join(en_vocab.decode(p))!r} instead of {english(n)!r}")

# %% tags=["otter_ignore"]
n_show = 97
src_show, tgt_show = encode_numbers([n_show])
with torch.no_grad():
    translator.eval()
    tokens_out = greedy_decode(translator, src_show)[0]
    scale = math.sqrt(D_MODEL)
    memory = translator.transformer.encode(translator.src_embed(src_show) * scale + translator.pe[: src_show.shape[1]])
    x = translator.tgt_embed(tokens_out[None, :-1]) * scale + translator.pe[: len(tokens_out) - 1]
    for layer in translator.transformer.decoder_layers[:-1]:
        x = layer(x, memory, tgt_mask=causal_mask(x.shape[1]))
    last = translator.transformer.decoder_layers[-1]
    h = last.norm1(x + last.self_attn(x, x, x, attn_mask=causal_mask(x.shape[1]))[0])
    _, weights = last.multihead_attn(h, memory, memory, need_weights=True, average_attn_weights=True)
ax = attention_map(weights[0], x_tokens=fr_vocab.decode(src_show[0], strip=False), y_tokens=en_vocab.decode(tokens_out[1:], strip=False),
                   title=f"cross-attention for {n_show}: {french(n_show)}")
ax.set_xlabel("French token (key)")
ax.set_ylabel("English token produced (query)")
plt.show()

# %% [markdown]
# ## 8. What the causal mask prevents
#
# Train the same model **without** the causal mask (`causal=False`), here for 150 steps. Each
# output position can now attend to the whole target input, including the very token it is
# asked to predict (input $t + 1$ is target $t$): a shortcut that makes teacher-forced training
# look healthy, since the training loss falls about as fast as the masked model's at the same
# step, and judged by the loss alone nothing is wrong. At test time there is nothing to copy:
# greedy decoding feeds the model only what it has produced so far, and what it learned to lean
# on is missing.

# %%
NOMASK_STEPS = 150
nomask_translator, nomask_losses, nomask_seconds = train_translator(causal=False, steps=NOMASK_STEPS)
print(f"trained in {nomask_seconds:.1f} s; training loss at step {NOMASK_STEPS}: {nomask_losses[-1]:.3f} without the mask, "
      f"{translator_losses[NOMASK_STEPS - 1]:.3f} with it")

# %% [raw]
# # BEGIN QUESTION
# name: q9
# points: 2

# %% [markdown]
# **Question 9 (2 points).** Store in `nomask_accuracy` (a float) the exact-match accuracy of
# `nomask_translator` on the test numbers, decoded greedily as in question 8 (the decoder now
# only sees what it has produced, as always at test time). The tests check your number, that
# `nomask_translator` is the model the training cell returned (teacher-forced without the mask,
# as it was trained, it predicts most next tokens), and that its exact match is at most 0.4,
# here and (hidden) on the held-out numbers (judged, as in question 8, only
# when questions 2 and 4 to 7 pass). Then explain, in the cell below, why the training loss was
# low and the accuracy is not.

# %% [raw]
# # BEGIN SOLUTION

# %%
nomask_accuracy = exact_match(nomask_translator, src_test, tgt_test)  # SOLUTION
print(f"without the causal mask: exact match {nomask_accuracy:.3f} (with it: {test_accuracy:.3f})")

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
def test_nomask_public(env):
    from shared.testing import gate
    from shared.testing import left_as_stub
    from shared.testing.transformer import check_fraction, check_nomask_claim, check_trained, parts_checks, trained

    left_as_stub(env, "nomask_accuracy")
    skipped = gate(parts_checks(env))
    if skipped is not None:
        return skipped
    (nomask_translator,) = trained(env, "nomask_translator")
    check_fraction(env.get("nomask_accuracy"), "nomask_accuracy")
    check_trained(nomask_translator, env.get("src_test"), env.get("tgt_test"), name="nomask_translator", causal=False, where="the test numbers")
    check_nomask_claim(env.get("nomask_accuracy"), "the test numbers")

# %%
""" # BEGIN TEST CONFIG
hidden: true
""" # END TEST CONFIG
def test_nomask_hidden(env, src_test, tgt_test):
    from grader_only.oracles import heldout_accuracy, reference_accuracy, translator_logits
    from grader_support.french_heldout import heldout_batch
    from shared.testing import gate
    from shared.testing import left_as_stub
    from shared.testing.transformer import check_accuracy_value, check_fraction, check_nomask_claim, check_trained, parts_checks, trained

    left_as_stub(env, "nomask_accuracy")
    skipped = gate(parts_checks(env, oracle=translator_logits))
    if skipped is not None:
        return skipped
    (nomask_translator,) = trained(env, "nomask_translator")
    check_fraction(env.get("nomask_accuracy"), "nomask_accuracy")
    _, src_heldout, tgt_heldout = heldout_batch()
    check_trained(nomask_translator, src_heldout, tgt_heldout, name="nomask_translator", causal=False, where="the 100 held-out numbers")
    check_accuracy_value(env.get("nomask_accuracy"), reference_accuracy(nomask_translator, src_test, tgt_test), "nomask_accuracy")
    check_nomask_claim(heldout_accuracy(nomask_translator), "the 100 held-out numbers")

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [markdown]
# The leak in numbers: each model's **teacher-forced** next-token accuracy on the test numbers
# (the whole correct target is fed in, with the mask each model was trained with: what its
# training loss measures) against its **exact match** when it generates (questions 8 and 9).
# Under the seeds we tried, the unmasked model predicts 83 to 97% of the next tokens when it is
# shown the answer, and translates at most about a fifth of the numbers when it must generate.

# %% tags=["otter_ignore"]
def teacher_forced_accuracy(model, src, tgt, causal):
    """Fraction of the real target tokens predicted (argmax) when the whole target is fed in."""
    with torch.no_grad():
        predicted = model(src, tgt[:, :-1], causal).argmax(-1)
    real = tgt[:, 1:] != 0
    return (predicted == tgt[:, 1:])[real].float().mean().item()


for name, model, causal, exact in (("causal mask", translator, True, test_accuracy), ("no mask", nomask_translator, False, nomask_accuracy)):
    exact_text = f"{exact:.3f}" if isinstance(exact, float) else "not answered yet"
    print(f"{name:>11}: teacher-forced next-token accuracy {teacher_forced_accuracy(model, src_test, tgt_test, causal):.3f}, "
          f"greedy exact match {exact_text}")

# %% [markdown]
# **Explain the leak** (not graded automatically): what can an output position of the unmasked
# decoder see while it is trained, why does its training loss not warn you, and why does that
# not help it when it generates?
#
# *Your answer here.*

# %% tags=["otter_ignore"]
plt.figure(figsize=(6, 3))
plt.semilogy(translator_losses, label="causal mask")
plt.semilogy(nomask_losses, label="no mask")
plt.xlabel("training step")
plt.ylabel("training loss (cross-entropy, log scale)")
plt.title("teacher-forced training loss, with and without the causal mask")
plt.legend()
plt.show()

# %% [markdown]
# ## Wrapping up
#
# You built the Transformer of the lecture from its parts (positional encoding, layer norm,
# encoder and decoder layers, the stacks) and proved each equal to PyTorch's with copied
# weights; you trained a small one to translate French numbers it had never seen, and saw why
# the causal mask matters: without it the decoder learns to copy the answer it is shown, which
# no longer exists when it has to generate.
#
# Before you submit, run the whole notebook from the top (*Kernel → Restart & Run All*) and make
# sure every `grader.check` passes.
