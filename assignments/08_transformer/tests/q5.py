from otter.test_files import test_case

OK_FORMAT = False

name = "q5"
points = 4

@test_case(points=None, hidden=False)
def test_decoder_layer_public(causal_mask, DecoderLayer):
    from shared.testing.transformer import check_causal_mask, check_decoder_causality, check_decoder_layer
    check_causal_mask(causal_mask, 4)
    check_decoder_layer(DecoderLayer, d_model=8, nhead=2, dim_feedforward=16, batch=3, tgt_len=4, src_len=6, seed=0)
    check_decoder_layer(DecoderLayer, d_model=8, nhead=4, dim_feedforward=12, batch=2, tgt_len=5, src_len=3, batch_first=True, padding=True, seed=1)
    check_decoder_layer(DecoderLayer, d_model=6, nhead=2, dim_feedforward=10, batch=3, tgt_len=4, src_len=5, padding=True, free_masks=True, dropout_modes=True, seed=3)
    check_decoder_causality(DecoderLayer, causal_mask, d_model=8, nhead=2, tgt_len=5, src_len=4, seed=2)

