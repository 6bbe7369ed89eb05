"""shared.testing.attention_from_scratch: each check accepts valid styles, names the mistake."""

import math

import pytest
import torch

from shared.testing import attention_from_scratch as t
from tests.support import load_grader_only

oracles = load_grader_only("07_attention_from_scratch", "oracles")

# ------------------------------------------------------------------- solutions, right and wrong


def softmax(
    scores, mask=None, dim=-1, *, add_mask=False, shift=True, guard=True, fixed_dim=False, fill=None
):
    d = -1 if fixed_dim else dim
    if mask is not None and fill is not None:
        scores = scores.masked_fill(~mask, fill)
    elif mask is not None:
        scores = scores + mask if add_mask else scores.masked_fill(~mask, float("-inf"))
    top = (
        scores.amax(dim=d, keepdim=True)
        if shift
        else torch.zeros_like(scores.amax(dim=d, keepdim=True))
    )
    if guard:
        top = torch.nan_to_num(top, neginf=0.0)
    e = torch.exp(scores - top)
    total = e.sum(dim=d, keepdim=True)
    return e / (total.clamp_min(1e-300) if guard else total)


def context(weights, h, *, axis=1):
    return (weights.unsqueeze(-1) * h).sum(dim=axis)


def decoder_step(s_prev, y_prev, h, U_sc, U_sy, U_ss, score_fn, mask=None, *, own_state=False):
    weights = masked_softmax(score_fn(s_prev, h), mask)
    c = attention_context(weights, h)
    return (
        torch.tanh((s_prev if own_state else c) @ U_sc.T + y_prev @ U_sy.T + s_prev @ U_ss.T),
        weights,
        c,
    )


def masked_softmax(
    scores, mask=None, dim=-1
):  # the name decoder_step looks up (a referee replaces it)
    raise AssertionError("the checks must replace this")


def attention_context(weights, h):
    raise AssertionError("the checks must replace this")


def sdpa(
    q,
    k,
    v,
    mask=None,
    causal=False,
    *,
    scale="sqrt",
    dim=-1,
    after=False,
    diag=0,
    dot_T=False,
    inverted=False,
):
    d_k = q.shape[-1]
    kt = k.T if dot_T else k.transpose(-2, -1)
    scores = q @ kt / {"sqrt": math.sqrt(d_k), "none": 1.0, "dk": d_k}[scale]
    allowed = torch.ones(scores.shape, dtype=torch.bool)
    if mask is not None:
        allowed = allowed & mask
    if causal:
        future = torch.ones(scores.shape[-2:], dtype=torch.bool).triu(1)
        allowed = allowed & (
            future if inverted else torch.ones(scores.shape[-2:], dtype=torch.bool).tril(diag)
        )
    if after:
        w = softmax(scores, None, dim=dim) * allowed
    else:
        w = softmax(scores, allowed, dim=dim)
    return w @ v, w


def mha(
    query,
    key,
    value,
    w_in,
    b_in,
    w_out,
    b_out,
    num_heads,
    key_padding_mask=None,
    attn_mask=None,
    batch_first=False,
    average_attn_weights=True,
    *,
    bad_view=False,
    no_out=False,
    always_mean=False,
):
    if not batch_first:
        query, key, value = (x.transpose(0, 1) for x in (query, key, value))
    B, L_q, E = query.shape
    d = E // num_heads

    def heads(x, w, b):
        y = x @ w.T + b
        return (
            y.view(B, num_heads, x.shape[1], d)
            if bad_view
            else y.view(B, x.shape[1], num_heads, d).transpose(1, 2)
        )

    q, k, v = (
        heads(x, w, b)
        for x, w, b in zip((query, key, value), w_in.chunk(3), b_in.chunk(3), strict=True)
    )
    allowed = torch.ones(B, 1, L_q, k.shape[2], dtype=torch.bool)
    if key_padding_mask is not None:
        allowed = allowed & ~key_padding_mask[:, None, None, :]
    if attn_mask is not None:
        allowed = allowed & ~attn_mask
    out, w = sdpa(q, k, v, allowed)
    out = out.transpose(1, 2).reshape(B, L_q, E)
    if not no_out:
        out = out @ w_out.T + b_out
    if not batch_first:
        out = out.transpose(0, 1)
    return out, (w.mean(1) if average_attn_weights or always_mean else w)


def fails_with(tag, check):
    with pytest.raises(AssertionError) as info:
        check()
    assert f"[hint: {tag}]" in str(info.value), str(info.value)[-600:]


# --------------------------------------------------------------------------- q1


def test_softmax_accepts_and_catches():
    cases = [
        dict(shape=(3, 5), dim=-1),
        dict(shape=(2, 4, 6), dim=-1, masked=True),
        dict(shape=(4, 3), dim=0, masked=True),
        dict(shape=(3, 9), dim=-1, masked=True, broadcast=True),
    ]
    for c in cases:
        t.check_masked_softmax(softmax, seed=0, **c)
    fails_with(
        "attn.mask_minus_inf",
        lambda: t.check_masked_softmax(
            lambda s, m=None, dim=-1: softmax(s, m, dim, add_mask=True),
            shape=(2, 4, 6),
            dim=-1,
            masked=True,
            seed=1,
        ),
    )
    for fill_case in (dict(shape=(2, 4, 6), dim=-1), dict(shape=(4, 3), dim=0)):
        fails_with(
            "attn.fully_masked_uniform",
            lambda fill_case=fill_case: t.check_masked_softmax(
                lambda s, m=None, dim=-1: softmax(s, m, dim, fill=-1e9),
                masked=True,
                seed=1,
                **fill_case,
            ),
        )
    fails_with(
        "attn.stable_softmax",
        lambda: t.check_masked_softmax(
            lambda s, m=None, dim=-1: softmax(s, m, dim, shift=False), shape=(3, 5), dim=-1, seed=1
        ),
    )
    fails_with(
        "attn.fully_masked",
        lambda: t.check_masked_softmax(
            lambda s, m=None, dim=-1: softmax(s, m, dim, guard=False),
            shape=(3, 5),
            dim=-1,
            masked=True,
            seed=1,
        ),
    )
    fails_with(
        "attn.softmax_dim",
        lambda: t.check_masked_softmax(
            lambda s, m=None, dim=-1: softmax(s, m, dim, fixed_dim=True),
            shape=(4, 3),
            dim=0,
            seed=1,
        ),
    )


def test_softmax_inputs_left_unchanged():
    def in_place(s, m=None, dim=-1):
        if m is not None:
            s.masked_fill_(~m, float("-inf"))
        return softmax(s, m, dim)

    t.check_masked_softmax(in_place, shape=(3, 5), dim=-1, seed=0)  # no mask: nothing changes
    fails_with(
        "attn.input_in_place",
        lambda: t.check_masked_softmax(in_place, shape=(2, 4, 6), dim=-1, masked=True, seed=1),
    )


def test_referees_take_extra_arguments_and_want_bool_masks():
    t._ACTIVE["referees"] += 1
    try:
        w = t._referee_softmax(torch.zeros(2, 3), None, -1, 0.0, eps=1e-9)
        assert torch.allclose(w, torch.full((2, 3), 1 / 3))
        out, _ = t._referee_attention(
            torch.zeros(1, 2, 4), torch.zeros(1, 3, 4), torch.ones(1, 3, 2), device="cpu"
        )
        assert torch.allclose(out, torch.ones(1, 2, 2))
        with pytest.raises(TypeError, match=r"attn\.mask_dtype"):
            t._referee_softmax(torch.zeros(2, 3), torch.ones(2, 3))
    finally:
        t._ACTIVE["referees"] -= 1


def test_softmax_refuses_the_library():
    with pytest.raises(AssertionError, match="ForbiddenCallError"):
        t.check_masked_softmax(
            lambda s, m=None, dim=-1: torch.softmax(s, dim=dim), shape=(3, 5), dim=-1, seed=0
        )


# --------------------------------------------------------------------------- q2


def test_decoder_parts_accept_and_catch():
    dot = lambda s, h: torch.einsum("bd,bld->bl", s, h)  # noqa: E731
    additive = lambda s, h, W, U, v: (
        torch.tanh(s @ W.T + h.transpose(0, 1) @ U.T).transpose(0, 1) @ v
    )  # noqa: E731
    t.check_by_hand(dot, additive, context)
    t.check_dot(dot, B=3, L=4, d=5, seed=0)
    t.check_additive(
        additive, B=4, L=6, d_s=3, d_h=2, d_a=5, seed=22, oracle=oracles.additive_scores_oracle
    )
    t.check_context(context, B=3, L=4, d_h=2, seed=2)
    t.check_decoder_step(decoder_step, B=4, L=6, d=5, d_y=2, masked=True, seed=25)
    fails_with(
        "attn.context_axis",
        lambda: t.check_context(lambda w, h: context(w, h, axis=-1), B=3, L=4, d_h=2, seed=2),
    )
    unmasked = lambda s, y, h, a, b, c, fn, mask=None: decoder_step(s, y, h, a, b, c, fn)  # noqa: E731
    fails_with(
        "attn.decoder_mask",
        lambda: t.check_decoder_step(unmasked, B=2, L=4, d=3, d_y=2, masked=True, seed=4),
    )
    own = lambda *a, **k: decoder_step(*a, **k, own_state=True)  # noqa: E731
    fails_with("attn.context_fed", lambda: t.check_decoder_step(own, B=3, L=5, d=4, d_y=3, seed=3))
    with pytest.raises(AssertionError):
        t.check_additive(
            lambda s, h, W, U, v: torch.tanh(s @ W.T)[:, None] @ v.expand(h.shape[1], -1).T,
            B=2,
            L=3,
            d_s=4,
            d_h=5,
            d_a=6,
            seed=1,
            oracle=oracles.additive_scores_oracle,
        )


def test_referees_work_only_inside_checks():
    with pytest.raises(RuntimeError):
        t._referee_softmax(torch.zeros(2))


# --------------------------------------------------------------------------- q3


def test_sdpa_accepts_and_catches():
    t.check_sdpa(sdpa, batch=(2, 2), L_q=5, L_k=7, d_k=16, d_v=3, masked=True, seed=31)
    t.check_sdpa(sdpa, batch=(4,), L_q=6, L_k=6, d_k=3, d_v=2, causal=True, masked=True, seed=32)
    for L_q, L_k in ((3, 6), (6, 4)):
        t.check_sdpa(
            sdpa, batch=(2,), L_q=L_q, L_k=L_k, d_k=4, d_v=3, causal=True, masked="pairs", seed=5
        )
    t.check_sdpa(sdpa, batch=(2, 1), L_q=4, L_k=5, d_k=3, d_v=3, masked="pairs_empty", seed=37)

    def renormalised(*a, **k):
        out, w = sdpa(*a, **k)
        w = w / w.sum(-1, keepdim=True)
        return w @ a[2], w

    fails_with(
        "attn.no_key_zero",
        lambda: t.check_sdpa(
            renormalised, batch=(2,), L_q=4, L_k=3, d_k=2, d_v=2, masked="pairs_empty", seed=6
        ),
    )
    t.check_permutation(sdpa, L=5, d=4, seed=3)
    t.check_causal_gradients(sdpa, L=5, d=3, seed=4)
    for L_q, L_k in ((3, 6), (6, 4)):
        fails_with(
            "attn.causal_top_left",
            lambda L_q=L_q, L_k=L_k: t.check_sdpa(
                lambda *a, **k: sdpa(*a, **k, diag=L_k - L_q),
                batch=(3,),
                L_q=L_q,
                L_k=L_k,
                d_k=4,
                d_v=2,
                causal=True,
                seed=6,
            ),
        )

    def float_mask(q, k, v, mask=None, causal=False):  # asks the referee with a float mask
        scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
        allowed = torch.ones(scores.shape[-2:]).tril() if causal else None
        w = masked_softmax(scores, allowed)
        return w @ v, w

    fails_with(
        "attn.mask_dtype",
        lambda: t.check_sdpa(
            float_mask, batch=(2,), L_q=4, L_k=4, d_k=3, d_v=2, causal=True, seed=1
        ),
    )

    def in_place(q, k, v, mask=None, causal=False):
        q.mul_(1.5)  # the caller's q changes
        return sdpa(q / 1.5, k, v, mask, causal)

    fails_with(
        "attn.input_in_place",
        lambda: t.check_sdpa(in_place, batch=(2,), L_q=3, L_k=4, d_k=5, d_v=2, seed=0),
    )
    base = dict(batch=(2,), L_q=3, L_k=4, d_k=5, d_v=2, seed=0)
    causal = dict(batch=(2, 3), L_q=4, L_k=4, d_k=8, d_v=3, causal=True, seed=1)
    for tag, kwargs, case in [
        ("attn.no_sqrt_dk", dict(scale="none"), base),
        ("attn.scale_by_dk", dict(scale="dk"), base),
        ("attn.softmax_axis", dict(dim=-2), base),
        ("attn.mask_after_softmax", dict(after=True), causal),
        ("attn.causal_diagonal", dict(diag=-1), causal),
        ("attn.causal_diagonal", dict(diag=1), causal),
        ("attn.causal_inverted", dict(inverted=True), causal),
        ("attn.transpose_keys", dict(dot_T=True), base),
    ]:
        fails_with(
            tag,
            lambda kwargs=kwargs, case=case: t.check_sdpa(
                lambda *a, **k: sdpa(*a, **k, **kwargs), **case
            ),
        )
    fails_with(
        "attn.causal_diagonal",
        lambda: t.check_causal_gradients(lambda *a, **k: sdpa(*a, **k, diag=1), L=5, d=3, seed=4),
    )


# --------------------------------------------------------------------------- q4


def test_mha_accepts_and_catches():
    t.check_mha(
        mha, E=6, heads=3, B=2, L_q=3, L_k=5, batch_first=False, padding=True, average=False, seed=1
    )
    t.check_mha(mha, E=10, heads=5, B=3, L_q=4, L_k=4, batch_first=True, causal=True, seed=43)
    arbitrary = dict(E=6, heads=3, B=3, L_q=5, L_k=6, batch_first=False, attn=True, padding=True)
    t.check_mha(mha, **arbitrary, seed=44)

    def as_causal(*a, attn_mask=None, **k):
        if attn_mask is not None:
            attn_mask = torch.ones(attn_mask.shape, dtype=torch.bool).triu(1)
        return mha(*a, attn_mask=attn_mask, **k)

    def first_head(query, key, value, w_in, b_in, *rest, **k):  # head 0's rows for every head
        heads, E = rest[2], w_in.shape[1]
        d = E // heads
        w_in = w_in.view(3, heads, d, E)[:, :1].expand(3, heads, d, E).reshape(3 * E, E)
        b_in = b_in.view(3, heads, d)[:, :1].expand(3, heads, d).reshape(3 * E)
        return mha(query, key, value, w_in, b_in, *rest, **k)

    for average in (True, False):
        fails_with(
            "attn.heads_reused",
            lambda average=average: t.check_mha(first_head, **arbitrary, average=average, seed=3),
        )
    for average in (True, False):
        fails_with(
            "attn.mha_attn_mask",
            lambda average=average: t.check_mha(as_causal, **arbitrary, average=average, seed=3),
        )
    case = dict(E=8, heads=2, B=3, L_q=4, L_k=4, batch_first=True, average=False, seed=0)
    fails_with(
        "attn.head_split", lambda: t.check_mha(lambda *a, **k: mha(*a, **k, bad_view=True), **case)
    )
    fails_with(
        "attn.out_proj", lambda: t.check_mha(lambda *a, **k: mha(*a, **k, no_out=True), **case)
    )
    fails_with(
        "attn.per_head_weights",
        lambda: t.check_mha(lambda *a, **k: mha(*a, **k, always_mean=True), **case),
    )


# ------------------------------------------------------------------- q5-q6: the encoder-decoder


class Seq2Seq(torch.nn.Module):
    """A valid model (referees stand in for masked_softmax / attention_context), or a wrong one."""

    def __init__(self, vocab_size, hidden_size, attention=True, *, first_input=False, flaw=None):
        super().__init__()
        self.attention, self.first_input, self.flaw = attention, first_input, flaw
        nn = torch.nn
        self.embed = nn.Embedding(vocab_size, hidden_size)
        self.tgt_embed = nn.Embedding(vocab_size, hidden_size) if flaw == "two_embeddings" else None
        time_major = flaw == "time_major"  # a valid style, as "context_first" and "no_state"
        self.encoder = nn.GRU(
            hidden_size, hidden_size, batch_first=not time_major, bidirectional=True
        )
        self.W = nn.Linear(hidden_size, hidden_size, bias=False)
        self.U = nn.Linear(2 * hidden_size, hidden_size, bias=False)
        self.v = nn.Linear(hidden_size, 1, bias=False)
        self.cell = nn.GRUCell(3 * hidden_size, hidden_size)
        self.out = nn.Linear(3 * hidden_size, vocab_size)

    def forward(self, src, tgt_in):
        if self.flaw == "time_major":
            h, h_n = self.encoder(self.embed(src).transpose(0, 1))
            h = h.transpose(0, 1)
        else:
            h, h_n = self.encoder(self.embed(src))
        s = h_n[1] if self.flaw == "s0" else h.new_zeros(src.shape[0], self.cell.hidden_size)
        summary = {"last": h[:, -1], "view": h_n.reshape(src.shape[0], -1)}.get(
            self.flaw, torch.cat([h_n[0], h_n[1]], dim=-1)
        )
        logits, weights = [], []
        for step in range(tgt_in.shape[1]):
            if self.attention:
                a = masked_softmax(self.v(torch.tanh(self.W(s)[:, None] + self.U(h))).squeeze(-1))
                c = summary if self.flaw == "no_context" else attention_context(a, h)
                weights.append(a)
            else:
                c = summary
            y = tgt_in[:, 0 if self.first_input else step]
            embed = self.tgt_embed or self.embed
            if self.flaw == "context_first":
                s = self.cell(torch.cat([c, embed(y)], dim=-1), hx=s)
            elif self.flaw == "no_state" and step == 0:
                s = self.cell(torch.cat([embed(y), c], dim=-1))
            else:
                s = self.cell(torch.cat([embed(y), c], dim=-1), s)
            logits.append(self.out(torch.cat([s, c], dim=-1)))
        return torch.stack(logits, 1), (torch.stack(weights, 1) if self.attention else None)


def greedy(model, src, steps, bos_id=1, *, feed_back=True):
    prefix = torch.full((src.shape[0], 1), bos_id)
    with torch.no_grad():
        for _ in range(steps):
            logits, weights = model(src, prefix)
            nxt = logits[:, -1].argmax(-1, keepdim=True) if feed_back else prefix[:, :1]
            prefix = torch.cat([prefix, nxt], dim=1)
    return prefix[:, 1:], weights


def test_seq2seq_and_greedy_accept_and_catch():
    t.check_seq2seq(Seq2Seq, vocab_size=13, hidden_size=4, B=3, S=5, T=4, seed=0)
    first = lambda V, H, attention=True: Seq2Seq(V, H, attention, first_input=True)  # noqa: E731
    with pytest.raises(AssertionError, match=r"attn\.decoder_input"):
        t.check_seq2seq(first, vocab_size=13, hidden_size=4, B=3, S=5, T=4, seed=0)
    for style in ("time_major", "context_first", "no_state"):
        t.check_seq2seq(
            lambda V, H, attention=True, style=style: Seq2Seq(V, H, attention, flaw=style),
            vocab_size=9,
            hidden_size=3,
            B=2,
            S=4,
            T=3,
            seed=1,
        )
    for flaw, tag in [
        ("two_embeddings", "attn.shared_embedding"),
        ("s0", "attn.initial_state"),
        ("last", "attn.summary"),
        ("view", "attn.batch_rows"),
        ("no_context", "attn.context_used"),
    ]:
        fails_with(
            tag,
            lambda flaw=flaw: t.check_seq2seq(
                lambda V, H, attention=True: Seq2Seq(V, H, attention, flaw=flaw),
                vocab_size=13,
                hidden_size=4,
                B=3,
                S=5,
                T=4,
                seed=0,
            ),
        )
    t.check_greedy(greedy, B=3, S=5, steps=4, vocab_size=13, seed=1)
    t.check_greedy(greedy, B=2, S=3, steps=2, vocab_size=11, seed=2, attention=False)
    with pytest.raises(AssertionError, match=r"attn\.greedy_feedback"):
        t.check_greedy(
            lambda m, s, n: greedy(m, s, n, feed_back=False),
            B=3,
            S=5,
            steps=4,
            vocab_size=13,
            seed=1,
        )


def test_metrics_accept_and_catch():
    exact = lambda p, g: (p == g).all(dim=1).double().mean().item()  # noqa: E731
    share = lambda w, a: (w.argmax(-1) == a)[a >= 0].double().mean().item()  # noqa: E731
    t.check_exact_match(exact, n=6, T=4, seed=0)
    t.check_alignment_share(share, n=5, T=6, S=4, seed=1, padded=True)
    with pytest.raises(AssertionError, match=r"attn\.exact_match"):
        t.check_exact_match(lambda p, g: (p == g).double().mean().item(), n=6, T=4, seed=0)
    with pytest.raises(AssertionError, match=r"attn\.alignment_axis"):
        t.check_alignment_share(
            lambda w, a: (w.argmax(1) == a).double().mean().item(), n=3, T=4, S=5, seed=1
        )
    with pytest.raises(AssertionError, match=r"attn\.alignment_axis"):  # padded steps counted
        t.check_alignment_share(
            lambda w, a: (w.argmax(-1) == a).double().mean().item(),
            n=5,
            T=6,
            S=4,
            seed=1,
            padded=True,
        )


def test_metrics_want_python_floats():
    fails_with(
        "attn.float_return",
        lambda: t.check_exact_match(
            lambda p, g: (p == g).all(dim=1).double().mean(), n=6, T=4, seed=0
        ),
    )
    fails_with(
        "attn.float_return",
        lambda: t.check_alignment_share(
            lambda w, a: (w.argmax(-1) == a)[a >= 0].double().mean(), n=3, T=4, S=5, seed=1
        ),
    )


def test_trained_model_is_checked_by_its_token_accuracy():
    from shared.seq2seq import reversal_pairs

    pairs = reversal_pairs(50, 4, seed=0)

    class Knows(torch.nn.Module):  # right on every step under teacher forcing
        def forward(self, src, tgt_in):
            return torch.nn.functional.one_hot(src.flip(1), 13).float(), None

    t.check_trained(Knows(), pairs, name="plain_model", where="test")
    torch.manual_seed(0)
    fails_with(
        "attn.untrained_model",
        lambda: t.check_trained(
            Seq2Seq(13, 4, attention=False), pairs, name="plain_model", where="test"
        ),
    )


def test_alignment_claim_and_oracle():
    t.check_alignment_claim(0.9, 0.8, 0.0, where="test")
    with pytest.raises(AssertionError, match=r"attn\.alignment_claim"):
        t.check_alignment_claim(0.05, 0.15, 0.0, where="test")
    with pytest.raises(AssertionError, match=r"attn\.alignment_claim"):
        t.check_alignment_claim(0.9, 0.8, 0.5, where="test")
    from shared.seq2seq import reversal_pairs

    pairs = reversal_pairs(4, 3, seed=0)

    class Oracle(torch.nn.Module):  # copies the right digit, attending exactly where it should
        def forward(self, src, tgt_in):
            T, S = tgt_in.shape[1], src.shape[1]
            steps = torch.arange(T).clamp_max(S - 1)
            logits = torch.nn.functional.one_hot(src.flip(1)[:, steps], 13).float()
            return logits, torch.nn.functional.one_hot(S - 1 - steps, S).float().expand(
                len(src), T, S
            )

    assert oracles.reversal_scores(Oracle(), pairs) == (1.0, 1.0)


def test_claims_gate_on_questions_and_need_the_training_cell():
    from shared.testing import NotJudged, gate

    broken = {"masked_softmax": lambda s, m=None, dim=-1: softmax(s, m, dim, fill=-1e9)}
    skipped = gate(t.upstream_checks(broken, seed=0))
    assert isinstance(skipped, NotJudged) and "q1 fails first" in skipped
    assert "q1 fails first" in gate(t.upstream_checks({}, seed=0))  # nothing defined at all
    with pytest.raises(AssertionError, match="training cell after question 5 did not run"):
        t.trained({"attention_model": object()}, "attention_model", "plain_model")
    model = object()
    assert t.trained({"attention_model": model}, "attention_model") == (model,)


def test_stub_values_fail_and_missing_ones_wait():
    from shared.testing import left_as_stub

    left_as_stub({}, "attention_exact")  # missing: its cell may have stopped earlier
    with pytest.raises(AssertionError, match="not answered yet"):
        left_as_stub({"attention_exact": ...}, "attention_exact")


# --------------------------------------------------------------------------- q7


def variance(d_k, n=20000, scale=False, generator=None, *, mistake=None):
    q = torch.randn(n, d_k, generator=generator, dtype=torch.float64)
    k = (
        q
        if mistake == "pairs"
        else torch.randn(n, d_k, dtype=torch.float64)
        if mistake == "global"
        else torch.randn(n, d_k, generator=generator, dtype=torch.float64)
    )
    products = q * k if mistake == "no_sum" else (q * k).sum(-1)
    if scale and mistake != "unscaled":
        products = products / (d_k if mistake == "dk" else math.sqrt(d_k))
    spread = products.std() if mistake == "std" else products.var()
    return spread if mistake == "tensor" else spread.item()


def variance_in_one_draw(d_k, n=20000, scale=False, generator=None):
    pairs = torch.randn(n, 2, d_k, generator=generator)  # float32, uncentred, divided by n
    dots = torch.einsum("nd,nd->n", pairs[:, 0], pairs[:, 1]) / (d_k**0.5 if scale else 1)
    return float((dots.double() ** 2).mean())


def test_dot_product_variance_accepts_and_catches():
    for fn in (variance, variance_in_one_draw):
        for d_k, n, scale, seed in ((1, None, False, 0), (4, None, True, 2), (512, 1000, True, 72)):
            t.check_dot_product_variance(fn, d_k=d_k, n=n, scale=scale, seed=seed)
        t.check_same_generator(fn, d_k=8, n=500, seed=3)
    wrong = {
        "unscaled": ("attn.variance_scale", dict(d_k=4, scale=True)),
        "dk": ("attn.variance_scale_dk", dict(d_k=4, scale=True)),
        "std": ("attn.variance_std", dict(d_k=64, n=4000, scale=False)),
        "pairs": ("attn.variance_pairs", dict(d_k=1, scale=False)),
        "no_sum": ("attn.variance_sum", dict(d_k=64, n=4000, scale=False)),
        "tensor": ("attn.float_return", dict(d_k=1, scale=False)),
    }
    for mistake, (tag, case) in wrong.items():
        fails_with(
            tag,
            lambda mistake=mistake, case=case: t.check_dot_product_variance(
                lambda *a, **k: variance(*a, **k, mistake=mistake), seed=1, **case
            ),
        )
    fails_with(
        "attn.variance_generator",
        lambda: t.check_same_generator(
            lambda *a, **k: variance(*a, **k, mistake="global"), d_k=8, n=500, seed=3
        ),
    )
    own = lambda d_k, n=20000, scale=False, generator=None: variance(  # noqa: E731
        d_k, n, scale, torch.Generator().manual_seed(0)
    )
    fails_with("attn.variance_generator", lambda: t.check_same_generator(own, d_k=8, n=500, seed=3))
    fresh = lambda d_k, n=20000, scale=False, generator=None: variance(  # noqa: E731
        d_k, n, scale, generator if generator is not None else torch.Generator()
    )
    fails_with(
        "attn.variance_generator", lambda: t.check_same_generator(fresh, d_k=8, n=500, seed=3)
    )


def test_variance_tolerance_comes_from_the_fourth_moment():
    expected, se = t.variance_tolerance(4, 1000, scale=False)
    assert expected == 4.0 and math.isclose(se, math.sqrt((2 * 16 + 24) / 1000))
    expected, se = t.variance_tolerance(4, 1000, scale=True)
    assert expected == 1.0 and math.isclose(se, math.sqrt((2 + 6 / 4) / 1000))
    # The spread of the sample variance over many seeds is what the formula says.
    gen = torch.Generator().manual_seed(0)
    draws = torch.stack(
        [variance(4, 1000, generator=gen, mistake=None) * torch.ones(()) for _ in range(400)]
    )
    assert abs(draws.std().item() / t.variance_tolerance(4, 1000, False)[1] - 1) < 0.15


def entropy(scores, mask=None, *, mistake=None):
    a = masked_softmax(scores, None if mistake == "mask" else mask)
    if mistake == "nan":
        h = -a * a.log()
    elif mistake == "log2":
        h = -torch.where(a > 0, a * a.log2(), 0.0)
    else:
        h = torch.special.entr(a)
    if mistake == "keys":
        return h.mean().item()
    return h.sum(-1).mean().item()


def entropy_xlogy(scores, mask=None):
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    top = scores.amax(-1, keepdim=True).nan_to_num(neginf=0.0)
    e = (scores - top).exp()
    a = e / e.sum(-1, keepdim=True).clamp_min(1e-300)
    h = -torch.xlogy(a, a).reshape(-1, a.shape[-1]).sum(1)
    return h.sum().item() / h.numel()


def test_weight_entropy_accepts_and_catches():
    for fn in (entropy, entropy_xlogy):
        t.check_weight_entropy_by_hand(fn, shape=(2, 3, 5), seed=4)
        t.check_weight_entropy_by_hand(fn, shape=(4, 6), masked=False, seed=5)
        t.check_weight_entropy(fn, shape=(5, 8), seed=76, oracle=oracles.weight_entropy_oracle)
        t.check_weight_entropy(
            fn, shape=(2, 3, 6), seed=77, masked=False, oracle=oracles.weight_entropy_oracle
        )
    for mistake, tag in (
        ("nan", "attn.entropy_zero_log"),
        ("log2", "attn.entropy_nats"),
        ("keys", "attn.entropy_sum_keys"),
        ("mask", "attn.entropy_mask"),
    ):
        wrong = lambda s, m=None, mistake=mistake: entropy(s, m, mistake=mistake)  # noqa: E731
        fails_with(
            tag, lambda wrong=wrong: t.check_weight_entropy_by_hand(wrong, shape=(2, 3, 5), seed=4)
        )
        if mistake != "nan":  # a random mask: the fully masked row gives NaN too
            fails_with(
                tag,
                lambda wrong=wrong: t.check_weight_entropy(
                    wrong, shape=(5, 8), seed=76, oracle=oracles.weight_entropy_oracle
                ),
            )
    fails_with(
        "attn.float_return",
        lambda: t.check_weight_entropy_by_hand(
            lambda s, m=None: torch.tensor(entropy(s, m)), shape=(4, 6), seed=5
        ),
    )
    with pytest.raises(AssertionError, match="ForbiddenCallError"):
        t.check_weight_entropy_by_hand(
            lambda s, m=None: torch.special.entr(torch.softmax(s, -1)).sum(-1).mean().item(),
            shape=(4, 6),
            masked=False,
            seed=5,
        )


def test_weight_entropy_oracle_by_hand():
    scores = torch.zeros(2, 4, dtype=torch.float64)
    mask = torch.tensor([[True, True, False, False], [False] * 4])
    assert math.isclose(oracles.weight_entropy_oracle(scores, mask), math.log(2) / 2)
    assert math.isclose(oracles.weight_entropy_oracle(scores), math.log(4))
