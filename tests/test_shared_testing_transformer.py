"""shared.testing.transformer: every check accepts valid styles and names the mistake it catches."""

# ruff: noqa: F821 - EncoderLayer, DecoderLayer, Transformer, ... are names the checks bind in
# the reference classes' globals (shared.testing.substitute), as they do in a notebook.

import contextlib
import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from shared.testing import transformer as t
from tests.support import load_grader_only

oracles = load_grader_only("08_transformer", "oracles")

# --------------------------------------------------------------------------- reference solutions


def param_count(
    d_model,
    nhead,
    num_encoder_layers=6,
    num_decoder_layers=6,
    dim_feedforward=2048,
    *,
    heads_multiply=False,
    final_norms=True,
):
    d, f = d_model, dim_feedforward
    attention = (4 * d * d + 4 * d) * (nhead if heads_multiply else 1)
    ff = 2 * d * f + f + d
    total = num_encoder_layers * (attention + ff + 4 * d) + num_decoder_layers * (
        2 * attention + ff + 6 * d
    )
    return total + (4 * d if final_norms else 0)


def positional_encoding(n, d, *, swap=False, pair_exponent=False):
    pos = torch.arange(n, dtype=torch.float64)[:, None]
    i = torch.arange(d // 2, dtype=torch.float64)
    angle = pos / 10000 ** ((i if pair_exponent else 2 * i) / d)
    first, second = (angle.cos(), angle.sin()) if swap else (angle.sin(), angle.cos())
    return torch.stack([first, second], dim=-1).reshape(n, d).float()


def layer_norm(x, weight, bias, eps=1e-5, *, unbiased=False, dim=-1, eps_outside=False):
    mean = x.mean(dim, keepdim=True)
    var = x.var(dim, unbiased=unbiased, keepdim=True)
    denominator = var.sqrt() + eps if eps_outside else (var + eps).sqrt()
    return (x - mean) / denominator * weight + bias


class Encoder(nn.Module):
    def __init__(
        self,
        d_model,
        nhead,
        dim_feedforward,
        dropout=0.0,
        norm_first=False,
        batch_first=False,
        *,
        slip=None,
    ):
        super().__init__()
        self.self_attn = nn.MultiheadAttention(
            d_model, nhead, dropout=dropout, batch_first=batch_first and slip != "layout"
        )
        self.linear1, self.linear2 = (
            nn.Linear(d_model, dim_feedforward),
            nn.Linear(dim_feedforward, d_model),
        )
        self.norm1, self.norm2 = nn.LayerNorm(d_model), nn.LayerNorm(d_model)
        self.norm_first, self.slip = norm_first, slip

    def forward(self, src, src_mask=None, src_key_padding_mask=None):
        def sa(h):
            return self.self_attn(
                h, h, h, attn_mask=src_mask, key_padding_mask=src_key_padding_mask
            )[0]

        def ff(h):
            return self.linear2(F.relu(self.linear1(h)))

        x = src
        for norm, block in ((self.norm1, sa), (self.norm2, ff)):
            if self.slip == "residual_around_norm":
                x = x + norm(block(x))
            elif self.norm_first:
                x = x + block(norm(x))
            else:
                x = norm(x + block(x))
        return x


class Decoder(nn.Module):
    def __init__(
        self,
        d_model,
        nhead,
        dim_feedforward,
        dropout=0.0,
        norm_first=False,
        batch_first=False,
        *,
        slip=None,
    ):
        super().__init__()
        self.self_attn = nn.MultiheadAttention(d_model, nhead, batch_first=batch_first)
        self.multihead_attn = nn.MultiheadAttention(d_model, nhead, batch_first=batch_first)
        self.linear1, self.linear2 = (
            nn.Linear(d_model, dim_feedforward),
            nn.Linear(dim_feedforward, d_model),
        )
        self.norm1, self.norm2, self.norm3 = (
            nn.LayerNorm(d_model),
            nn.LayerNorm(d_model),
            nn.LayerNorm(d_model),
        )
        self.norm_first, self.slip = norm_first, slip

    def forward(
        self,
        tgt,
        memory,
        tgt_mask=None,
        memory_mask=None,
        tgt_key_padding_mask=None,
        memory_key_padding_mask=None,
    ):
        def sa(h):
            mask = None if self.slip == "no_mask" else tgt_mask
            return self.self_attn(h, h, h, attn_mask=mask, key_padding_mask=tgt_key_padding_mask)[0]

        def ca(h):
            if self.slip == "memory_query":
                return self.multihead_attn(memory, h, h)[0]
            return self.multihead_attn(
                h, memory, memory, attn_mask=memory_mask, key_padding_mask=memory_key_padding_mask
            )[0]

        def ff(h):
            return self.linear2(F.relu(self.linear1(h)))

        x = tgt
        for norm, block in ((self.norm1, sa), (self.norm2, ca), (self.norm3, ff)):
            x = x + block(norm(x)) if self.norm_first else norm(x + block(x))
        return x


def causal_mask(size, *, diagonal=1):
    return torch.ones(size, size, dtype=torch.bool).triu(diagonal)


def make_transformer(final_norm=True, plain_list=False, slip=None):
    class Transformer(nn.Module):
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
        ):
            super().__init__()
            args = (d_model, nhead, dim_feedforward, dropout, norm_first, batch_first)
            stack = list if plain_list else nn.ModuleList  # a list hides them from parameters()
            if slip == "shared":  # [layer] * n: one layer, one set of weights, n positions
                self.encoder_layers = stack([EncoderLayer(*args)] * num_encoder_layers)
            elif slip == "torch_layers":  # PyTorch's layer called directly, not EncoderLayer
                self.encoder_layers = stack(
                    nn.TransformerEncoderLayer(d_model, nhead, dim_feedforward, dropout)
                    for _ in range(num_encoder_layers)
                )
            else:
                self.encoder_layers = stack(EncoderLayer(*args) for _ in range(num_encoder_layers))
            self.decoder_layers = stack(DecoderLayer(*args) for _ in range(num_decoder_layers))
            self.encoder_norm, self.decoder_norm = nn.LayerNorm(d_model), nn.LayerNorm(d_model)

        def encode(self, src, src_mask=None, src_key_padding_mask=None):
            for layer in self.encoder_layers:
                src = layer(src, src_mask, src_key_padding_mask)
            return self.encoder_norm(src)

        def decode(
            self,
            tgt,
            memory,
            tgt_mask=None,
            memory_mask=None,
            tgt_key_padding_mask=None,
            memory_key_padding_mask=None,
        ):
            for layer in self.decoder_layers:
                tgt = layer(
                    tgt,
                    memory,
                    tgt_mask,
                    memory_mask,
                    tgt_key_padding_mask,
                    memory_key_padding_mask,
                )
            return self.decoder_norm(tgt) if final_norm else tgt

        def forward(
            self,
            src,
            tgt,
            src_mask=None,
            tgt_mask=None,
            memory_mask=None,
            src_key_padding_mask=None,
            tgt_key_padding_mask=None,
            memory_key_padding_mask=None,
        ):
            memory = self.encode(
                src, None if slip == "no_src_mask" else src_mask, src_key_padding_mask
            )
            return self.decode(
                tgt, memory, tgt_mask, memory_mask, tgt_key_padding_mask, memory_key_padding_mask
            )

    return Transformer


def make_translator(*, slip=None):
    class Translator(nn.Module):
        def __init__(
            self,
            src_vocab_size,
            tgt_vocab_size,
            d_model,
            nhead,
            num_layers,
            dim_feedforward,
            max_len=32,
        ):
            super().__init__()
            self.d_model = d_model
            self.src_embed, self.tgt_embed = (
                nn.Embedding(src_vocab_size, d_model),
                nn.Embedding(tgt_vocab_size, d_model),
            )
            self.transformer = Transformer(
                d_model, nhead, num_layers, num_layers, dim_feedforward, batch_first=True
            )
            self.generator = nn.Linear(d_model, tgt_vocab_size)
            self.register_buffer("pe", positional_encoding(max_len, d_model))

        def forward(self, src, tgt_in, causal=True):
            scale = math.sqrt(self.d_model)
            tgt_scale = 1.0 if slip == "unscaled" else scale
            s = self.src_embed(src) * scale + self.pe[: src.shape[1]]
            x = self.tgt_embed(tgt_in) * tgt_scale + self.pe[: tgt_in.shape[1]]
            mask = causal_mask(tgt_in.shape[1]) if causal and slip != "no_mask" else None
            pad = None if slip == "no_padding" else src == 0
            out = self.transformer(
                s,
                x,
                tgt_mask=mask,
                src_key_padding_mask=pad,
                tgt_key_padding_mask=tgt_in == 0,
                memory_key_padding_mask=pad,
            )
            return self.generator(out)

    Translator.__init__.__globals__.update(
        Transformer=make_transformer(),
        positional_encoding=positional_encoding,
        causal_mask=causal_mask,
    )
    return Translator


def translation_loss(model, src, tgt, causal=True, *, shift=True, ignore=True):
    inputs, targets = (tgt[:, :-1], tgt[:, 1:]) if shift else (tgt, tgt)
    logits = model(src, inputs, causal)
    return F.cross_entropy(logits.transpose(1, 2), targets, ignore_index=0 if ignore else -100)


def greedy_decode(model, src, max_len=12, *, stop=True, eval_mode=True, no_grad=True):
    if eval_mode:
        model.eval()
    with torch.no_grad() if no_grad else contextlib.nullcontext():
        ys = torch.ones(len(src), 1, dtype=torch.long)
        done = torch.zeros(len(src), dtype=torch.bool)
        for _ in range(max_len):
            token = model(src, ys)[:, -1].argmax(-1).masked_fill(done, 0)
            ys = torch.cat([ys, token[:, None]], 1)
            done |= token == 2
            if stop and done.all():
                break
    return ys


def fails_with(tag, fn, *args, **kwargs):
    with pytest.raises(AssertionError) as err:
        fn(*args, **kwargs)
    assert f"[hint: {tag}]" in str(err.value), str(err.value)


# --------------------------------------------------------------------------- q1


def test_param_count_accepts_the_formula_and_names_slips():
    t.check_param_count(param_count, d_model=64, nhead=8, num_encoder_layers=2)
    t.check_param_count(
        param_count,
        d_model=12,
        nhead=3,
        num_encoder_layers=0,
        num_decoder_layers=2,
        dim_feedforward=7,
    )
    fails_with(
        "tf.param_count",
        t.check_param_count,
        lambda *a, **k: param_count(*a, **k, heads_multiply=True),
        d_model=16,
        nhead=2,
        num_encoder_layers=1,
    )
    fails_with(
        "tf.param_count",
        t.check_param_count,
        lambda *a, **k: param_count(*a, **k, final_norms=False),
        d_model=16,
        nhead=2,
        num_encoder_layers=1,
    )
    fails_with(
        "tf.param_count",
        t.check_param_count,
        lambda *a, **k: float(param_count(*a, **k)),
        d_model=16,
        nhead=2,
    )


def test_lecture_counts_and_shape():
    model = nn.Transformer(d_model=64, nhead=8, num_encoder_layers=2)
    counts = {
        "total": sum(p.numel() for p in model.parameters()),
        "encoder": sum(p.numel() for p in model.encoder.parameters()),
        "decoder": sum(p.numel() for p in model.decoder.parameters()),
    }
    t.check_lecture_counts(counts)
    fails_with(
        "tf.lecture_counts", t.check_lecture_counts, {**counts, "decoder": counts["encoder"]}
    )
    t.check_lecture_shape((10, 32, 64))
    t.check_lecture_shape(torch.Size([10, 32, 64]))
    fails_with("tf.lecture_shape", t.check_lecture_shape, (32, 10, 64))


# --------------------------------------------------------------------------- q2 and q3


@pytest.mark.parametrize("n, d", [(10, 8), (50, 32), (1, 2)])
def test_positional_encoding_accepts_float32_and_names_float64(n, d):
    t.check_positional_encoding(lambda n, d: positional_encoding(n, d), n, d)
    fails_with(
        "tf.pe_dtype",
        t.check_positional_encoding,
        lambda n, d: positional_encoding(n, d).double(),
        n,
        d,
    )
    fails_with(
        "tf.pe_dtype",
        t.check_positional_encoding,
        lambda n, d: positional_encoding(n, d).numpy(),
        n,
        d,
    )


def test_positional_encoding_names_slips():
    fails_with(
        "tf.pe_sin_cos",
        t.check_positional_encoding,
        lambda n, d: positional_encoding(n, d, swap=True),
        10,
        8,
    )
    fails_with(
        "tf.pe_exponent",
        t.check_positional_encoding,
        lambda n, d: positional_encoding(n, d, pair_exponent=True),
        10,
        8,
    )
    fails_with(
        "tf.pe_values",
        t.check_positional_encoding,
        lambda n, d: positional_encoding(n + 1, d)[1:],
        10,
        8,
    )


def test_layer_norm_accepts_and_names_slips():
    t.check_layer_norm(layer_norm, (4, 6), seed=0)
    t.check_layer_norm(
        lambda x, w, b, eps=1e-5: (
            (x - x.mean(-1, keepdim=True))
            * torch.rsqrt(x.var(-1, unbiased=False, keepdim=True) + eps)
            * w
            + b
        ),
        (2, 3, 8),
        seed=1,
        eps=1e-3,
    )
    fails_with(
        "tf.ln_biased",
        t.check_layer_norm,
        lambda *a, **k: layer_norm(*a, **k, unbiased=True),
        (4, 6),
        seed=0,
    )
    fails_with(
        "tf.ln_axis", t.check_layer_norm, lambda *a, **k: layer_norm(*a, **k, dim=0), (4, 6), seed=0
    )
    fails_with(
        "tf.ln_eps",
        t.check_layer_norm,
        lambda *a, **k: layer_norm(*a, **k, eps_outside=True),
        (4, 6),
        seed=0,
    )


def test_layer_norm_is_forbidden():
    with pytest.raises(AssertionError, match="implement this yourself"):
        t.check_layer_norm(
            lambda x, w, b, eps=1e-5: F.layer_norm(x, x.shape[-1:], w, b, eps), (4, 6), seed=0
        )
    with pytest.raises(AssertionError, match="implement this yourself"):
        t.check_layer_norm(
            lambda x, w, b, eps=1e-5: torch.layer_norm(x, x.shape[-1:], w, b, eps), (4, 6), seed=0
        )


# --------------------------------------------------------------------------- q4 and q5


@pytest.mark.parametrize(
    "norm_first, batch_first, padding",
    [(False, False, False), (False, True, True), (True, False, True), (True, True, False)],
)
def test_encoder_layer_accepts_a_valid_layer(norm_first, batch_first, padding):
    t.check_encoder_layer(
        Encoder,
        d_model=8,
        nhead=2,
        dim_feedforward=16,
        batch=3,
        seq=5,
        norm_first=norm_first,
        batch_first=batch_first,
        padding=padding,
        seed=0,
    )
    t.check_encoder_layer(
        Encoder,
        d_model=6,
        nhead=3,
        dim_feedforward=4,
        batch=2,
        seq=4,
        norm_first=norm_first,
        batch_first=batch_first,
        attn_mask=True,
        seed=1,
    )


def test_encoder_layer_names_slips():
    fails_with(
        "tf.norm_placement",
        t.check_encoder_layer,
        lambda *a, **k: Encoder(*a, **k, slip="residual_around_norm"),
        d_model=8,
        nhead=2,
        dim_feedforward=16,
        batch=3,
        seq=5,
        seed=0,
    )
    fails_with(
        "tf.batch_first",
        t.check_encoder_layer,
        lambda *a, **k: Encoder(*a, **k, slip="layout"),
        d_model=8,
        nhead=2,
        dim_feedforward=16,
        batch=3,
        seq=5,
        batch_first=True,
        seed=0,
    )
    fails_with(
        "tf.batch_first",
        t.check_encoder_layer,
        lambda *a, **k: Encoder(*a, **k, slip="layout"),
        d_model=8,
        nhead=2,
        dim_feedforward=16,
        batch=3,
        seq=5,
        batch_first=True,
        padding=True,
        seed=0,
    )


def test_encoder_layer_forbids_pytorch_layer_and_names_wrong_names():
    def wrapped(d_model, nhead, dim_feedforward, dropout=0.0, norm_first=False, batch_first=False):
        return nn.TransformerEncoderLayer(
            d_model, nhead, dim_feedforward, dropout, batch_first=batch_first, norm_first=norm_first
        )

    with pytest.raises(AssertionError, match="implement this yourself"):
        t.check_encoder_layer(
            wrapped, d_model=8, nhead=2, dim_feedforward=16, batch=3, seq=5, seed=0
        )

    class Renamed(Encoder):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.attention = self.self_attn

    fails_with(
        "tf.names",
        t.check_encoder_layer,
        Renamed,
        d_model=8,
        nhead=2,
        dim_feedforward=16,
        batch=3,
        seq=5,
        seed=0,
    )


def test_causal_mask_accepts_bool_and_names_float_and_off_by_one():
    t.check_causal_mask(causal_mask, 4)
    float_mask = nn.Transformer.generate_square_subsequent_mask
    fails_with("tf.mask_dtype", t.check_causal_mask, lambda n: float_mask(n), 5)
    fails_with("tf.mask_dtype", t.check_causal_mask, lambda n: torch.ones(n, n).triu(1), 5)
    fails_with("tf.causal_mask", t.check_causal_mask, lambda n: causal_mask(n, diagonal=0), 4)
    fails_with("tf.causal_mask", t.check_causal_mask, lambda n: causal_mask(n, diagonal=2), 4)
    fails_with("tf.causal_mask", t.check_causal_mask, lambda n: ~causal_mask(n), 4)


@pytest.mark.parametrize(
    "norm_first, batch_first, padding", [(False, False, False), (True, True, True)]
)
def test_decoder_layer_accepts_a_valid_layer(norm_first, batch_first, padding):
    t.check_decoder_layer(
        Decoder,
        d_model=8,
        nhead=2,
        dim_feedforward=16,
        batch=3,
        tgt_len=4,
        src_len=6,
        norm_first=norm_first,
        batch_first=batch_first,
        padding=padding,
        seed=0,
    )
    t.check_decoder_causality(
        Decoder,
        causal_mask,
        d_model=8,
        nhead=2,
        tgt_len=5,
        src_len=4,
        batch_first=batch_first,
        seed=1,
    )


def test_decoder_layer_names_slips():
    fails_with(
        "tf.cross_attention",
        t.check_decoder_layer,
        lambda *a, **k: Decoder(*a, **k, slip="memory_query"),
        d_model=8,
        nhead=2,
        dim_feedforward=16,
        batch=3,
        tgt_len=4,
        src_len=6,
        seed=0,
    )
    fails_with(
        "tf.cross_attention",
        t.check_decoder_layer,
        lambda *a, **k: Decoder(*a, **k, slip="memory_query"),
        d_model=8,
        nhead=2,
        dim_feedforward=16,
        batch=3,
        tgt_len=5,
        src_len=5,
        seed=0,
    )
    fails_with(
        "tf.causal_mask",
        t.check_decoder_causality,
        lambda *a, **k: Decoder(*a, **k, slip="no_mask"),
        causal_mask,
        d_model=8,
        nhead=2,
        tgt_len=5,
        src_len=4,
        seed=1,
    )
    fails_with(
        "tf.causal_mask",
        t.check_decoder_causality,
        Decoder,
        lambda n: causal_mask(n, diagonal=2),
        d_model=8,
        nhead=2,
        tgt_len=5,
        src_len=4,
        seed=1,
    )
    fails_with(
        "tf.causal_mask",
        t.check_decoder_causality,
        Decoder,
        lambda n: causal_mask(n, diagonal=0),
        d_model=8,
        nhead=2,
        tgt_len=5,
        src_len=4,
        seed=1,
    )


def test_causal_gradients_are_raw_per_position():
    # The helper the referee runs beside the student's layer: output and one gradient per
    # position but the last, judged by check_decoder_causality, not by the helper.
    torch.manual_seed(0)
    layer = nn.TransformerDecoderLayer(8, 2, 16, dropout=0.0, batch_first=True).double()
    tgt = torch.randn(2, 5, 8, dtype=torch.float64)
    memory = torch.randn(2, 3, 8, dtype=torch.float64)
    for mask, leaks in ((t.reference_mask(5), False), (torch.zeros(5, 5, dtype=torch.bool), True)):
        out, grads = t.causal_gradients(
            layer, tgt, memory, mask, batch_first=True, desc="DecoderLayer"
        )
        assert out.shape == (2, 5, 8) and not out.requires_grad and not tgt.requires_grad
        assert len(grads) == 4 and all(g.shape == tgt.shape for g in grads)
        assert any(float(g[:, i + 1 :].abs().max()) > 0 for i, g in enumerate(grads)) == leaks


def test_layer_stacks_reports_plain_lists():
    class Model(nn.Module):
        def __init__(self, plain):
            super().__init__()
            layers = [nn.Linear(2, 2), nn.Linear(2, 2)]
            self.encoder_layers = layers if plain else nn.ModuleList(layers)

    assert t.layer_stacks(Model(plain=False)) == {
        "encoder_layers": ("ModuleList", True, 0, 2, 2),
        "decoder_layers": None,
    }
    assert t.layer_stacks(Model(plain=True))["encoder_layers"] == ("list", False, 12, 2, 2)


# --------------------------------------------------------------------------- q6


def test_transformer_accepts_and_uses_reference_layers():
    Transformer = make_transformer()
    t.check_transformer(
        Transformer,
        d_model=8,
        nhead=2,
        num_encoder_layers=2,
        num_decoder_layers=1,
        dim_feedforward=16,
        batch=3,
        src_len=5,
        tgt_len=4,
        seed=0,
    )
    t.check_transformer(
        Transformer,
        d_model=6,
        nhead=3,
        num_encoder_layers=1,
        num_decoder_layers=2,
        dim_feedforward=4,
        batch=2,
        src_len=4,
        tgt_len=6,
        batch_first=True,
        norm_first=True,
        padding=True,
        seed=1,
        env={},  # the referee's namespace; in a notebook the class's own globals are used
    )
    assert (
        "EncoderLayer" not in Transformer.__init__.__globals__
        or Transformer.__init__.__globals__["EncoderLayer"] is not t.ReferenceEncoderLayer
    )


def test_transformer_names_a_missing_final_norm():
    fails_with(
        "tf.stacks",
        t.check_transformer,
        make_transformer(final_norm=False),
        d_model=8,
        nhead=2,
        num_encoder_layers=1,
        num_decoder_layers=1,
        dim_feedforward=16,
        batch=3,
        src_len=5,
        tgt_len=4,
        seed=0,
    )


def test_transformer_names_layers_in_a_plain_list():
    fails_with(
        "tf.module_list",
        t.check_transformer,
        make_transformer(plain_list=True),
        d_model=8,
        nhead=2,
        num_encoder_layers=1,
        num_decoder_layers=1,
        dim_feedforward=16,
        batch=3,
        src_len=5,
        tgt_len=4,
        seed=0,
    )


# --------------------------------------------------------------------------- q7


def _translator_check(Translator, **kwargs):
    t.check_translator_properties(
        Translator, make_transformer(), causal_mask, positional_encoding, **kwargs
    )


def test_translator_properties_and_oracle_accept_a_valid_translator():
    _translator_check(make_translator(), seed=0)
    _translator_check(
        make_translator(),
        seed=1,
        d_model=6,
        nhead=3,
        num_layers=2,
        oracle=oracles.translator_logits,
    )


def test_translator_names_slips():
    fails_with("tf.future_leak", _translator_check, make_translator(slip="no_mask"), seed=0)
    fails_with("tf.padding_mask", _translator_check, make_translator(slip="no_padding"), seed=0)
    fails_with(
        "tf.translator",
        _translator_check,
        make_translator(slip="unscaled"),
        seed=0,
        oracle=oracles.translator_logits,
    )
    _translator_check(
        make_translator(slip="unscaled"), seed=0
    )  # without the oracle, scaling is not visible


def test_translation_loss_accepts_and_names_slips():
    t.check_translation_loss(translation_loss, batch=4, length=5, vocab=7, seed=1)
    fails_with(
        "tf.shift",
        t.check_translation_loss,
        lambda *a: translation_loss(*a, shift=False),
        batch=4,
        length=5,
        vocab=7,
        seed=1,
    )
    fails_with(
        "tf.ignore_pad",
        t.check_translation_loss,
        lambda *a: translation_loss(*a, ignore=False),
        batch=4,
        length=5,
        vocab=7,
        seed=1,
    )
    fails_with(
        "tf.causal_arg",
        t.check_translation_loss,
        lambda m, s, g, causal=True: translation_loss(m, s, g),
        batch=4,
        length=5,
        vocab=7,
        seed=1,
    )


def test_greedy_decode_accepts_and_names_slips():
    t.check_greedy_decode(greedy_decode, batch=3, vocab=6, max_len=8, seed=2)
    t.check_greedy_decode(
        lambda m, s, max_len=12: oracles.reference_greedy(m, s, max_len),
        batch=5,
        vocab=9,
        max_len=6,
        seed=3,
    )
    fails_with(
        "tf.greedy_stop",
        t.check_greedy_decode,
        lambda *a, **k: greedy_decode(*a, **k, stop=False),
        batch=3,
        vocab=6,
        max_len=8,
        seed=2,
    )
    fails_with(
        "tf.greedy_feed",
        t.check_greedy_decode,
        lambda m, s, max_len=12: greedy_decode(m, s, max_len)[:, 1:],
        batch=3,
        vocab=6,
        max_len=8,
        seed=2,
    )


def padded_after_stopping(model, src, max_len=12):
    """Stops as soon as every row is done, then returns its whole (batch, max_len + 1) buffer."""
    ys = torch.zeros(len(src), max_len + 1, dtype=torch.long)
    ys[:, 0] = 1
    done = torch.zeros(len(src), dtype=torch.bool)
    model.eval()
    with torch.no_grad():
        for t_ in range(1, max_len + 1):
            token = model(src, ys[:, :t_])[:, -1].argmax(-1)
            ys[:, t_] = token.masked_fill(done, 0)
            done |= token == 2
            if done.all():
                break
    return ys


def test_greedy_decode_stopping_is_judged_by_the_models_calls_not_the_width():
    # The prompt leaves what follows <eos> free: a full-width buffer is fine once decoding stopped.
    t.check_greedy_decode(padded_after_stopping, batch=3, vocab=6, max_len=8, seed=2)
    t.check_greedy_decode(padded_after_stopping, batch=5, vocab=9, max_len=6, seed=74)

    def trimmed_but_never_stopped(model, src, max_len=12):
        out = greedy_decode(model, src, max_len, stop=False)
        ends = (out == 2).int().argmax(1)
        return out[:, : int(ends.max()) + 1]

    fails_with(
        "tf.greedy_stop",
        t.check_greedy_decode,
        trimmed_but_never_stopped,
        batch=3,
        vocab=6,
        max_len=8,
        seed=2,
    )


def test_stand_ins_take_what_a_richer_student_signature_passes():
    assert torch.equal(t.reference_mask(4, device="cpu"), t.reference_mask(4))
    assert torch.equal(t.reference_mask(3, "cpu"), t._future_mask(3))
    model = t.ReferenceTransformer(
        8, 2, 1, 1, 16, dropout=0.0, batch_first=True, device="cpu", extra_flag=True
    )
    assert model.batch_first


def test_fractions_are_judged_to_float32_precision():
    hits = torch.tensor([True] * 139 + [False] * 11)
    as_float32 = hits.float().mean().item()
    assert as_float32 != 139 / 150  # the case the corpus met: a float32 mean is off by ~3e-8
    t.check_accuracy_value(as_float32, 139 / 150, "test_accuracy")
    with pytest.raises(AssertionError, match="greedy decoding translates"):
        t.check_accuracy_value(138 / 150, 139 / 150, "test_accuracy")


# --------------------------------------------------------------------------- q8 and q9


def test_claims_and_fractions():
    t.check_fraction(0.9, "test_accuracy")
    with pytest.raises(AssertionError):
        t.check_fraction(90, "test_accuracy")
    t.check_accuracy_claim(0.85, "the test numbers")
    with pytest.raises(AssertionError):
        t.check_accuracy_claim(0.5, "the test numbers")
    t.check_nomask_claim(0.2, "the test numbers")
    with pytest.raises(AssertionError):
        t.check_nomask_claim(0.8, "the test numbers")


def test_parts_checks_gate_the_claims():
    from shared.testing import NotJudged, gate

    parts = {
        "EncoderLayer": Encoder,
        "DecoderLayer": Decoder,
        "causal_mask": causal_mask,
        "Transformer": make_transformer(),
        "Translator": make_translator(),
        "translation_loss": translation_loss,
        "greedy_decode": greedy_decode,
        "positional_encoding": positional_encoding,
    }
    assert gate(t.parts_checks(parts)) is None
    wrong_loss = {**parts, "translation_loss": lambda *a: translation_loss(*a, ignore=False)}
    assert (
        gate(t.parts_checks(wrong_loss))
        == "not judged: q7 fails first; fix it and this claim is checked"
    )
    skipped = gate(t.parts_checks({k: v for k, v in parts.items() if k != "EncoderLayer"}))
    assert isinstance(skipped, NotJudged) and "q4 fails first" in skipped
    listed = {**parts, "Transformer": make_transformer(plain_list=True)}
    assert "q6 fails first" in gate(t.parts_checks(listed))


def test_stub_values_fail_and_a_missing_training_cell_is_named():
    from shared.testing import left_as_stub

    left_as_stub({}, "test_accuracy")  # missing: its cell may have stopped on an earlier mistake
    left_as_stub({"test_accuracy": 0.9}, "test_accuracy")
    with pytest.raises(AssertionError, match="not answered yet"):
        left_as_stub({"test_accuracy": ...}, "test_accuracy")
    with pytest.raises(AssertionError, match="the trained translator cannot be judged"):
        t.trained({}, "translator")
    with pytest.raises(AssertionError):
        t.check_fraction(..., "test_accuracy")


def test_an_empty_layer_is_not_answered_yet():
    """The stub's EncoderLayer builds nothing: 'not answered yet', not a list of missing names."""

    class Stub(nn.Module):
        def __init__(self, *args, **kwargs):
            super().__init__()

    with pytest.raises(AssertionError, match="holds no parameters at all: this is not answered"):
        t.check_encoder_layer(Stub, d_model=8, nhead=2, dim_feedforward=16, batch=3, seq=5, seed=0)


# ------------------------------------------------------------- issue 25: rules now exercised


class MaskSlipDecoder(Decoder):
    """A decoder layer that loses one of its masks."""

    def __init__(self, *args, lose, **kwargs):
        super().__init__(*args, **kwargs)
        self.lose = lose

    def forward(
        self,
        tgt,
        memory,
        tgt_mask=None,
        memory_mask=None,
        tgt_key_padding_mask=None,
        memory_key_padding_mask=None,
    ):
        if self.lose == "memory_mask":
            memory_mask = None
        elif self.lose == "own_causal":
            tgt_mask = causal_mask(tgt.shape[1 if self.self_attn.batch_first else 0])
        return super().forward(
            tgt, memory, tgt_mask, memory_mask, tgt_key_padding_mask, memory_key_padding_mask
        )


@pytest.mark.parametrize(
    "lose, words",
    [("memory_mask", "ignores memory_mask"), ("own_causal", "causal mask of its own")],
)
def test_decoder_layer_names_a_lost_mask(lose, words):
    kwargs = dict(
        d_model=6,
        nhead=2,
        dim_feedforward=10,
        batch=3,
        tgt_len=4,
        src_len=5,
        padding=True,
        free_masks=True,
        seed=3,
    )
    t.check_decoder_layer(Decoder, **kwargs)
    with pytest.raises(AssertionError, match=words) as err:
        t.check_decoder_layer(lambda *a, **k: MaskSlipDecoder(*a, lose=lose, **k), **kwargs)
    assert "[hint: tf.decoder_masks]" in str(err.value)


TRANSFORMER_CASE = dict(
    d_model=6,
    nhead=2,
    num_encoder_layers=2,
    num_decoder_layers=2,
    dim_feedforward=8,
    batch=3,
    src_len=5,
    tgt_len=4,
    padding=True,
    free_masks=True,
    seed=2,
)


def test_transformer_with_free_masks_names_shared_foreign_layers_and_a_dropped_mask():
    t.check_transformer(make_transformer(), **TRANSFORMER_CASE)
    fails_with(
        "tf.shared_layers", t.check_transformer, make_transformer(slip="shared"), **TRANSFORMER_CASE
    )
    fails_with(
        "tf.stacks", t.check_transformer, make_transformer(slip="torch_layers"), **TRANSFORMER_CASE
    )
    fails_with(
        "tf.stacks", t.check_transformer, make_transformer(slip="no_src_mask"), **TRANSFORMER_CASE
    )


def test_transformer_stacks_are_forbidden_under_the_reference_layers():
    class Stacked(nn.Module):
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
        ):
            super().__init__()
            self.inner = nn.Transformer(
                d_model, nhead, num_encoder_layers, num_decoder_layers, dim_feedforward, dropout
            )

    with pytest.raises(AssertionError, match="ForbiddenCallError"):
        t.check_transformer(Stacked, **TRANSFORMER_CASE)


def make_slipped_translator(slip):
    base = make_translator()

    class Slipped(base):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            if slip == "nn_transformer":
                self.transformer = nn.Transformer(
                    self.d_model, 2, 1, 1, 2 * self.d_model, dropout=0.0, batch_first=True
                )

        def forward(self, src, tgt_in, causal=True):
            if slip == "always_causal":
                causal = True
            if slip == "in_place":
                src[src == 0] = 0  # writes into the caller's tensor (the same values)
                src.mul_(1)
                tgt_in.add_(0)
                src[:, 0] = src[:, 0] + 0
                src.copy_(torch.where(src > 100, src, src))
                tgt_in[tgt_in == 1] = 1
                src += 0
                src[src == 3] = 4  # and one that changes it
            if slip == "detached":
                original = self.src_embed.forward
                self.src_embed.forward = lambda ids: original(ids).detach()
                try:
                    return super().forward(src, tgt_in, causal)
                finally:
                    self.src_embed.forward = original
            return super().forward(src, tgt_in, causal)

    Slipped.__init__.__globals__.update(base.__init__.__globals__)
    return Slipped


@pytest.mark.parametrize(
    "slip, tag",
    [
        ("always_causal", "tf.causal_flag"),
        ("nn_transformer", "tf.own_transformer"),
        ("in_place", "tf.in_place"),
        ("detached", "tf.gradients"),
    ],
)
def test_translator_names_issue_25_slips(slip, tag):
    fails_with(tag, _translator_check, make_slipped_translator(slip), seed=0)


def test_translation_loss_names_in_place_and_sentence_means():
    def in_place(model, src, tgt, causal=True):
        logits = model(src, tgt[:, :-1], causal)
        target = tgt[:, 1:]
        target[target == 0] = -100
        return F.cross_entropy(logits.transpose(1, 2), target)

    def sentence_means(model, src, tgt, causal=True):
        logits = model(src, tgt[:, :-1], causal)
        per_token = F.cross_entropy(
            logits.transpose(1, 2), tgt[:, 1:], ignore_index=0, reduction="none"
        )
        real = (tgt[:, 1:] != 0).double()
        return ((per_token * real).sum(1) / real.sum(1)).mean()

    def token_mean_by_hand(model, src, tgt, causal=True):
        logits = model(src, tgt[:, :-1], causal)
        per_token = F.cross_entropy(logits.transpose(1, 2), tgt[:, 1:], reduction="none")
        real = (tgt[:, 1:] != 0).double()
        return (per_token * real).sum() / real.sum()

    kwargs = dict(batch=4, length=5, vocab=7, seed=1)
    t.check_translation_loss(token_mean_by_hand, **kwargs)
    fails_with("tf.in_place", t.check_translation_loss, in_place, **kwargs)
    fails_with("tf.token_mean", t.check_translation_loss, sentence_means, **kwargs)


def test_greedy_decode_must_run_in_eval_mode_without_gradients():
    kwargs = dict(batch=3, vocab=6, max_len=8, seed=2)

    @torch.inference_mode()
    def inference(model, src, max_len=12):
        model.train(False)
        return greedy_decode(model, src, max_len, eval_mode=False, no_grad=False)

    t.check_greedy_decode(inference, **kwargs)
    fails_with(
        "tf.greedy_eval",
        t.check_greedy_decode,
        lambda m, s, max_len=12: greedy_decode(m, s, max_len, eval_mode=False),
        **kwargs,
    )
    fails_with(
        "tf.greedy_eval",
        t.check_greedy_decode,
        lambda m, s, max_len=12: greedy_decode(m, s, max_len, no_grad=False),
        **kwargs,
    )


def test_trained_models_are_told_from_fresh_ones():
    from shared.testing import substitute

    torch.manual_seed(0)
    with substitute(globals(), EncoderLayer=Encoder, DecoderLayer=Decoder):
        model = make_translator()(9, 7, 8, 2, 1, 16)
    src, tgt = t.translator_case(9, 7, batch=6, src_len=5, tgt_len=6, seed=0)
    tgt[:, 1] = torch.where(tgt[:, 1] == 0, 2, tgt[:, 1])
    with pytest.raises(AssertionError, match=r"\[hint: tf.trained_model\]"):
        t.check_trained(
            model, src, tgt, name="nomask_translator", causal=False, where="the test numbers"
        )
    optimiser = torch.optim.Adam(model.parameters(), lr=0.03)
    with substitute(globals(), EncoderLayer=Encoder, DecoderLayer=Decoder):
        for _ in range(40):  # fitted to these rows, teacher-forced without the mask, it copies
            loss = translation_loss(model, src, tgt, causal=False)
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
    assert t.teacher_forced_accuracy(model, src, tgt, False) >= t.TEACHER_FORCED_MIN
    t.check_trained(
        model, src, tgt, name="nomask_translator", causal=False, where="the test numbers"
    )


def test_a_tensor_fraction_is_named():
    fails_with("tf.fraction", t.check_fraction, torch.tensor(0.9), "test_accuracy")
    t.check_fraction(torch.tensor(0.9).item(), "test_accuracy")


class AlwaysDropping(Encoder):
    """Dropout on whatever the mode (F.dropout's default training=True)."""

    def __init__(self, *args, dropout=0.0, **kwargs):
        super().__init__(*args, dropout=dropout, **kwargs)
        self.p = dropout

    def forward(self, src, src_mask=None, src_key_padding_mask=None):
        return F.dropout(super().forward(src, src_mask, src_key_padding_mask), self.p)


class NeverDropping(Decoder):
    """The dropout argument taken and ignored."""


def test_layers_follow_the_mode_with_dropout():
    class Dropping(Encoder):
        def __init__(self, *args, dropout=0.0, **kwargs):
            super().__init__(*args, dropout=dropout, **kwargs)
            self.drop = nn.Dropout(dropout)

        def forward(self, src, src_mask=None, src_key_padding_mask=None):
            return self.drop(super().forward(src, src_mask, src_key_padding_mask))

    kwargs = dict(
        d_model=8, nhead=2, dim_feedforward=16, batch=3, seq=5, seed=0, dropout_modes=True
    )
    t.check_encoder_layer(Dropping, **kwargs)
    fails_with("tf.dropout", t.check_encoder_layer, AlwaysDropping, **kwargs)
    decoder = dict(
        d_model=8,
        nhead=2,
        dim_feedforward=16,
        batch=3,
        tgt_len=4,
        src_len=6,
        seed=0,
        dropout_modes=True,
    )

    class DroppingDecoder(Decoder):
        def __init__(self, *args, dropout=0.0, **kwargs):
            super().__init__(*args, dropout=dropout, **kwargs)
            self.drop = nn.Dropout(dropout)

        def forward(self, tgt, memory, *args, **kwargs):
            return self.drop(super().forward(tgt, memory, *args, **kwargs))

    t.check_decoder_layer(DroppingDecoder, **decoder)
    fails_with("tf.dropout", t.check_decoder_layer, NeverDropping, **decoder)


def test_layer_norm_must_leave_its_inputs_alone():
    def centred_in_place(x, weight, bias, eps=1e-5):
        x -= x.mean(-1, keepdim=True)
        return x / (x.pow(2).mean(-1, keepdim=True) + eps).sqrt() * weight + bias

    fails_with("tf.in_place", t.check_layer_norm, centred_in_place, (4, 6), seed=0)


def test_accuracy_value_names_where_to_look():
    fails_with("tf.accuracy_value", t.check_accuracy_value, 0.98, 0.913, "test_accuracy")


def test_reference_layers_take_richer_signatures():
    layer = t.ReferenceEncoderLayer(8, 2, 16, 0.0, False, True, device="cpu", unknown=1)
    assert layer.self_attn.batch_first
    assert isinstance(
        t.ReferenceDecoderLayer(8, 2, 16, dtype=torch.float64).linear1.weight, torch.Tensor
    )
