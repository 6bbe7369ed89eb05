from otter.test_files import test_case

OK_FORMAT = False

name = "q4"
points = 4

@test_case(points=None, hidden=False)
def test_encoder_layer_public(EncoderLayer):
    from shared.testing.transformer import check_encoder_layer
    check_encoder_layer(EncoderLayer, d_model=8, nhead=2, dim_feedforward=16, batch=3, seq=5, seed=0)
    check_encoder_layer(EncoderLayer, d_model=8, nhead=2, dim_feedforward=16, batch=3, seq=5, batch_first=True, padding=True, seed=1)
    check_encoder_layer(EncoderLayer, d_model=6, nhead=3, dim_feedforward=10, batch=2, seq=4, norm_first=True, padding=True, seed=2)
    check_encoder_layer(EncoderLayer, d_model=8, nhead=4, dim_feedforward=12, batch=2, seq=5, padding=True, dropout_modes=True, seed=3)

