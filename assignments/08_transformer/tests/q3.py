from otter.test_files import test_case

OK_FORMAT = False

name = "q3"
points = 3

@test_case(points=None, hidden=False)
def test_layer_norm_public(layer_norm):
    from shared.testing.transformer import check_layer_norm
    check_layer_norm(layer_norm, (4, 6), seed=0)
    check_layer_norm(layer_norm, (2, 3, 8), seed=1, eps=0.001)

