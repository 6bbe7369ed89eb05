from otter.test_files import test_case

OK_FORMAT = False

name = "q1"
points = 3

@test_case(points=None, hidden=False)
def test_param_count_public(transformer_param_count, lecture_counts, lecture_out_shape):
    from shared.testing.transformer import check_lecture_counts, check_lecture_shape, check_param_count
    check_param_count(transformer_param_count, d_model=64, nhead=8, num_encoder_layers=2)
    check_param_count(transformer_param_count, d_model=16, nhead=2, num_encoder_layers=1, num_decoder_layers=1, dim_feedforward=32)
    check_lecture_counts(lecture_counts)
    check_lecture_shape(lecture_out_shape)

