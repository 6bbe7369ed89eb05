"""Oracles for the hidden tests of 08: they would answer question 7 or use the held-out numbers."""

from __future__ import annotations

import math
import warnings

import torch

from shared.french_numbers import vocabularies


def translator_logits(model, src, tgt_in, causal=True):
    """What Translator.forward must return, computed with nn.Transformer holding the model's weights.

    The model's own `pe` buffer is used, so a mistake in positional_encoding (question 2) does
    not count again here; its Transformer (PyTorch's, substituted by the test, or the student's)
    is copied into nn.Transformer by the assignment's key names.
    """
    from torch import nn

    from shared.testing.transformer import reference_mask, torch_names

    d = model.src_embed.weight.shape[1]
    inner = model.transformer
    state = torch_names(inner.state_dict())
    n_enc = sum(1 for k in state if k.startswith("encoder.layers.") and k.endswith("linear1.weight"))
    n_dec = sum(1 for k in state if k.startswith("decoder.layers.") and k.endswith("linear1.weight"))
    ff = state["encoder.layers.0.linear1.weight"].shape[0]
    nhead = (inner.encoder.layers[0] if hasattr(inner, "encoder") else inner.encoder_layers[0]).self_attn.num_heads
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="enable_nested_tensor is True")
        reference = nn.Transformer(d, nhead, n_enc, n_dec, ff, dropout=0.0, batch_first=True).double()
    reference.encoder.enable_nested_tensor = reference.encoder.use_nested_tensor = False
    reference.load_state_dict(state)
    reference.train()
    scale = math.sqrt(d)
    pe = model.pe.double()
    with torch.no_grad():
        src_x = model.src_embed.weight.double()[src] * scale + pe[: src.shape[1]]
        tgt_x = model.tgt_embed.weight.double()[tgt_in] * scale + pe[: tgt_in.shape[1]]
        out = reference(src_x, tgt_x, tgt_mask=reference_mask(tgt_in.shape[1]) if causal else None,
                        src_key_padding_mask=src == 0, tgt_key_padding_mask=tgt_in == 0, memory_key_padding_mask=src == 0)  # fmt: skip
        return out @ model.generator.weight.double().T + model.generator.bias.double()


def reference_greedy(model, src, max_len=12):
    """Greedy decoding, all rows at once, stopping when every row has produced <eos>."""
    was_training = model.training
    model.eval()
    rows = src.shape[0]
    with torch.no_grad():
        ys = torch.ones(rows, 1, dtype=torch.long)
        finished = torch.zeros(rows, dtype=torch.bool)
        for _ in range(max_len):
            step = model(src, ys)[:, -1].argmax(-1)
            step[finished] = 0
            ys = torch.cat((ys, step.unsqueeze(1)), 1)
            finished |= step == 2
            if bool(finished.all()):
                break
    model.train(was_training)
    return ys


def reference_accuracy(model, src, tgt):
    """Exact-match accuracy of greedy translations against the English tokens of tgt."""
    _, en = vocabularies()
    predicted = reference_greedy(model, src)
    hits = [en.decode(p) == en.decode(t) for p, t in zip(predicted, tgt, strict=True)]
    return sum(hits) / len(hits)


def heldout_accuracy(model):
    """Exact-match accuracy on the 100 held-out numbers (never in a notebook)."""
    from grader_support.french_heldout import heldout_batch

    _, src, tgt = heldout_batch()
    return reference_accuracy(model, src, tgt)
