from otter.test_files import test_case

OK_FORMAT = False

name = "q6"
points = 3

@test_case(points=None, hidden=False)
def test_transformer_public(env, Transformer):
    from shared.testing.transformer import check_transformer
    check_transformer(Transformer, d_model=8, nhead=2, num_encoder_layers=2, num_decoder_layers=1, dim_feedforward=16, batch=3, src_len=5, tgt_len=4, seed=0, env=env)
    check_transformer(Transformer, d_model=8, nhead=2, num_encoder_layers=1, num_decoder_layers=2, dim_feedforward=16, batch=2, src_len=4, tgt_len=6, batch_first=True, padding=True, seed=1, env=env)
    check_transformer(Transformer, d_model=6, nhead=2, num_encoder_layers=2, num_decoder_layers=2, dim_feedforward=8, batch=3, src_len=5, tgt_len=4, padding=True, free_masks=True, seed=2, env=env)

